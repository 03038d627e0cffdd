//! Hook calls a collector may hold: a call sent to the collector whose answer did not come in
//! the hook's time waits here, one file under `.spool/`, until a later hook of the store sends
//! it again (the collector skips a call it already recorded) or records it here.
//!
//! Concurrency: a call is written under a temporary name and renamed into place, so a reader
//! sees it whole or not at all; a call the collector took is taken by deleting its file
//! ([`Store::unspool`]), which succeeds for exactly one process; a call recorded here is first
//! renamed under a hidden name ([`Store::take_kept`]), which also succeeds for exactly one, so
//! two hooks never record one call twice here, and deleted only once recorded (put back when
//! it cannot be; put back by the next clearing of leftovers when its recorder was killed). Names
//! are `<micros>.<call id>.call` for a call the collector may hold in part, and
//! `<micros>.<call id>.unseen.call` for one it surely never saw (never sent, or not reached):
//! the time orders the calls as they were made, the mark says whether the call may ever be
//! recorded here (a file of an older version, without it, may not). An unseen call loses its
//! mark by a rename ([`Store::spool_seen`]) before it is sent, so that no other process records
//! it here while the collector may be taking it; the mark is put back
//! ([`Store::spool_unseen`]) only when the collector was surely not reached. A sender that dies
//! in between leaves the call waiting for the collector (or `send-kept --here`), never lost.
//! No file or folder is followed through a link ([`super::files`]).
//!
//! A proxy's batch of events the collector may hold in part waits here too, as
//! `<micros>.<id>.batch` ([`Store::spool_batch`]): it is sent and taken as a call is, and never
//! carries the unseen mark (it was sent). An older version reads no such name and leaves it.
//! A batch or a call this store cannot take (a damaged or forged file, which the collector
//! refuses too) is set aside as `<its name>.unreadable`, which no sender lists or removes: it
//! is counted apart ([`SpoolCount::set_aside`]), for `list` and `send-kept` to say it waits for
//! a person, and against the spool's bound, so that what is set aside never fills the disk.

use std::io::Read;
use std::time::Duration;

use super::layout::SPOOL;
use super::{Result, Store, StoreError};

/// A call's file beyond this is not read (a collector refuses a body over 16 MiB anyway).
const CALL_LIMIT: u64 = 64 * 1024 * 1024;

/// The mark in the name of a call the collector surely never saw.
const UNSEEN: &str = ".unseen.call";

/// The end of the hidden name a call is written under, before it is renamed into place.
const WRITING: &str = ".call.tmp";

/// The end of the hidden name a kept call is taken under while it is recorded here.
const TAKING: &str = ".taking";

/// The end of the name of a proxy's batch of events (see the module's text).
const BATCH: &str = ".batch";

/// Added to the name of a kept batch or call set aside ([`Store::spool_set_aside`]).
const UNREADABLE: &str = ".unreadable";

/// How long a call waits for its turn to be kept: forty hooks at once each hold the turn for a
/// listing, a write and a rename. Past it, the call is kept by the counts alone (see
/// [`write_kept`]), which keep the bound but for a rename another process makes while the
/// folder is listed.
const KEEPING_WAIT: Duration = Duration::from_millis(200);

/// How much the spool may hold before a call is no longer kept: a collector gone for good must
/// not fill the disk.
#[derive(Debug, Clone, Copy)]
pub struct SpoolBound {
    pub calls: usize,
    pub bytes: u64,
    /// A call being written (its temporary name) untouched this long was left by a process
    /// killed before it renamed it: it is removed, so that it holds no room in the bound for
    /// ever. Generous: a hook writes a call in milliseconds.
    pub leftovers: std::time::Duration,
}

/// What [`Store::spool`] did.
#[derive(Debug)]
#[must_use]
pub struct Keeping {
    /// Whether the call was kept, or why not.
    pub kept: Result<()>,
    /// Calls hooks were killed writing, removed on the way.
    pub cleared: usize,
}

/// One call waiting for the collector; its body is read when it is sent
/// ([`Store::spooled_body`]), so that a hook reads no more than the calls it has time for.
#[derive(Debug, Clone)]
pub struct Spooled {
    /// Its file's name, for [`Store::unspool`].
    pub name: String,
    /// When it was spooled, in microseconds since the epoch.
    pub micros: u64,
    /// The collector surely never saw it: it may be recorded here.
    pub unseen: bool,
    /// A proxy's batch of events ([`Store::spool_batch`]), not a hook's call.
    pub batch: bool,
}

/// What the spool holds.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpoolCount {
    /// Calls waiting (a proxy's batch is one).
    pub calls: usize,
    /// Of `calls`, the proxies' batches of events ([`Store::spool_batch`]).
    pub batches: usize,
    /// Entries named as calls that are none (a link, a FIFO, a folder, a runaway file): left
    /// alone, never followed or removed.
    pub strays: usize,
    /// Calls and proxies' batches set aside as unreadable ([`Store::spool_set_aside`]): not
    /// waiting, no sender takes them, but they hold room in the spool's bound until a person
    /// removes them.
    pub set_aside: usize,
    /// Of `set_aside`, the proxies' batches.
    pub set_aside_batches: usize,
    /// `.spool` is not a folder we made (a symbolic link, a file): what it is. It is left
    /// alone, and no call is read through it.
    pub not_a_folder: Option<&'static str>,
}

impl Store {
    /// Keeps a call's `body` (call id `id`, letters and digits) made at `micros`; `unseen` when
    /// the collector surely never saw it. Refused when the spool already holds `bound` or more,
    /// or would hold more with it. Calls hooks were killed writing are cleared on the way
    /// ([`SpoolBound::leftovers`]), kept or not.
    pub fn spool(
        &self,
        micros: u64,
        id: &str,
        body: &[u8],
        unseen: bool,
        bound: SpoolBound,
    ) -> Keeping {
        let name = if unseen {
            format!("{micros:020}.{id}{UNSEEN}")
        } else {
            format!("{micros:020}.{id}.call")
        };
        self.keep(id, &name, body, bound)
    }

    /// Keeps a proxy's batch of events (`body`: the session's meta on its first line, then the
    /// events as `POST /events` takes them) that the collector may hold in part, made at
    /// `micros` (its first event), until a sender sends it again or `send-kept --here` records
    /// it here. Refused as [`Store::spool`] refuses a call.
    pub fn spool_batch(&self, micros: u64, id: &str, body: &[u8], bound: SpoolBound) -> Keeping {
        self.keep(id, &format!("{micros:020}.{id}{BATCH}"), body, bound)
    }

    /// Writes `body` into the spool under `name`, made with `id`, within `bound`, clearing
    /// the calls hooks were killed writing on the way.
    fn keep(&self, id: &str, name: &str, body: &[u8], bound: SpoolBound) -> Keeping {
        let refused = |e| Keeping {
            kept: Err(e),
            cleared: 0,
        };
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return refused(StoreError::io(
                &self.root.join(SPOOL),
                std::io::Error::other(format!("{id:?} cannot name a kept call")),
            ));
        }
        // It could not be read back whole: it is recorded where it is made instead.
        if body.len() as u64 > CALL_LIMIT {
            return refused(StoreError::io(
                &self.root.join(SPOOL).join(name),
                std::io::Error::other("the call is larger than a kept call may be"),
            ));
        }
        let folder = match self.made_root().and_then(|root| root.child_made(SPOOL)) {
            Ok(folder) => folder,
            Err(e) => return refused(e),
        };
        // Only a hook keeping a call clears leftovers, from the listing it counts the spool
        // by: the path of a call the collector took does no more work, and this one lists the
        // folder once for both.
        // Calls kept at once take turns: a listing made while another process renames a call
        // into place may hold it under neither name, and the counts alone let the spool pass
        // its bound by a call or two (forty hooks at once kept 1,001 of 1,000).
        // The lock is the spool folder's own, so that it leaves no file among the calls.
        let _turn = super::lock::lock_folder(&folder, KEEPING_WAIT);
        let names = match folder.names() {
            Ok(names) => names,
            Err(e) => return refused(e),
        };
        let cleared = clear_leftovers(&folder, &names, bound.leftovers);
        Keeping {
            kept: write_kept(&folder, name, &names, body, bound),
            cleared,
        }
    }

    /// The calls waiting, oldest first, at most `limit`; none when there is no spool. Only a
    /// regular file of at most [`CALL_LIMIT`] bytes is a call: a link, a FIFO or a folder
    /// someone planted under a call's name, or a runaway file, is passed over, so that it
    /// holds back none of the calls behind it.
    ///
    /// With `unseen_before`, the unseen calls spooled before that time (microseconds) beyond
    /// the first `limit` follow, at most `limit` more: calls the collector may hold, which wait
    /// for it however long, never hold back those that may be recorded here.
    pub fn spooled(&self, limit: usize, unseen_before: Option<u64>) -> Result<Vec<Spooled>> {
        let Some(folder) = self.spool_folder()? else {
            return Ok(Vec::new());
        };
        let mut names = called(&folder)?;
        names.sort();
        let mut calls = names
            .into_iter()
            .filter(|(_, name)| is_call(&folder, name))
            .map(|(micros, name)| Spooled {
                unseen: name.ends_with(UNSEEN),
                batch: name.ends_with(BATCH),
                name,
                micros,
            });
        let mut first: Vec<Spooled> = calls.by_ref().take(limit).collect();
        if let Some(before) = unseen_before {
            first.extend(
                calls
                    .take_while(|call| call.micros < before)
                    .filter(|call| call.unseen)
                    .take(limit),
            );
        }
        Ok(first)
    }

    /// Takes the unseen mark off a kept call that was sent with no clear answer: the collector
    /// may hold it now. False when it is no longer there (another process took it).
    pub fn spool_seen(&self, call: &Spooled) -> Result<bool> {
        let Some(stem) = call.name.strip_suffix(UNSEEN) else {
            return Ok(true);
        };
        self.rename_kept(&call.name, &format!("{stem}.call"), &call.name)
    }

    /// Puts back the unseen mark [`Store::spool_seen`] took off `call` (as it was listed, with
    /// the mark) for its sending: the collector was not reached, or refused the sender. False
    /// when it is no longer there (another process took it).
    pub fn spool_unseen(&self, call: &Spooled) -> Result<bool> {
        let Some(stem) = call.name.strip_suffix(UNSEEN) else {
            return Ok(true);
        };
        self.rename_kept(&format!("{stem}.call"), &call.name, &call.name)
    }

    /// Renames the kept call `from` to `to` in the spool (an error names `shown`); false when
    /// it is no longer there (another process took it).
    fn rename_kept(&self, from: &str, to: &str, shown: &str) -> Result<bool> {
        let folder = self.root_folder()?.child(SPOOL)?;
        match folder.rename(from, to) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StoreError::io(&folder.path().join(shown), e)),
        }
    }

    /// Sets aside a kept batch or call this store cannot take (a damaged or forged file) as
    /// `<name>.unreadable`, a name no sender lists: it holds back no call behind it and is not
    /// read again, and stays for a person to look at. A call is found under its name with or
    /// without the unseen mark (see [`Store::unspool_sent`]). The name it has now, for
    /// messages; `None` when another process took it since it was listed.
    pub fn spool_set_aside(&self, call: &Spooled) -> Result<Option<std::path::PathBuf>> {
        let names = match call.name.strip_suffix(UNSEEN) {
            Some(stem) => vec![call.name.clone(), format!("{stem}.call")],
            None => match call.name.strip_suffix(".call").filter(|_| !call.batch) {
                Some(stem) => vec![call.name.clone(), format!("{stem}{UNSEEN}")],
                None => vec![call.name.clone()],
            },
        };
        for name in names {
            let aside = format!("{name}{UNREADABLE}");
            if self.rename_kept(&name, &aside, &call.name)? {
                return Ok(Some(self.spool_path().join(aside)));
            }
        }
        Ok(None)
    }

    /// Takes a call the collector took out of the spool, under its name with or without the
    /// unseen mark (another sender, which did not reach the collector, may have put the mark
    /// back since). True when this call took it.
    pub fn unspool_sent(&self, call: &Spooled) -> Result<bool> {
        if call.batch {
            return self.unspool(&call.name);
        }
        let stem = call
            .name
            .strip_suffix(UNSEEN)
            .or_else(|| call.name.strip_suffix(".call"))
            .unwrap_or(&call.name);
        Ok(self.unspool(&format!("{stem}.call"))? || self.unspool(&format!("{stem}{UNSEEN}"))?)
    }

    /// The body of the kept call `call`, as it was sent; `None` when another process took it
    /// since it was listed.
    pub fn spooled_body(&self, call: &Spooled) -> Result<Option<Vec<u8>>> {
        let Some(folder) = self.spool_folder()? else {
            return Ok(None);
        };
        let Some(file) = folder.read(&call.name)? else {
            return Ok(None);
        };
        let path = || folder.path().join(&call.name);
        let mut body = Vec::new();
        // One byte past the limit tells a runaway file (put in place since it was listed)
        // from a call: it is not sent cut short.
        file.take(CALL_LIMIT + 1)
            .read_to_end(&mut body)
            .map_err(|e| StoreError::io(&path(), e))?;
        if body.len() as u64 > CALL_LIMIT {
            return Err(StoreError::io(
                &path(),
                std::io::Error::other("larger than any call a hook keeps"),
            ));
        }
        Ok(Some(body))
    }

    /// The spool's folder; `None` when there is none.
    fn spool_folder(&self) -> Result<Option<super::files::Folder>> {
        match self.root_folder().and_then(|root| root.child(SPOOL)) {
            Ok(folder) => Ok(Some(folder)),
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The folder the calls wait in, for messages.
    pub fn spool_path(&self) -> std::path::PathBuf {
        self.root.join(SPOOL)
    }

    /// How many calls wait (regular files named as calls, as [`Store::spooled`] takes them),
    /// and how many entries named as calls are none; nothing when there is no spool.
    pub fn spooled_count(&self) -> Result<SpoolCount> {
        let folder = match self.spool_folder() {
            Ok(Some(folder)) => folder,
            Ok(None) => return Ok(SpoolCount::default()),
            Err(StoreError::NotRegular { what, .. }) => {
                return Ok(SpoolCount {
                    not_a_folder: Some(what),
                    ..SpoolCount::default()
                });
            }
            Err(e) => return Err(e),
        };
        let mut count = SpoolCount::default();
        let names = folder.names()?;
        for name in names.iter().filter(|name| is_set_aside(name)) {
            if is_call(&folder, name) {
                count.set_aside += 1;
                count.set_aside_batches += usize::from(name.ends_with(SET_ASIDE_BATCH));
            }
        }
        for (_, name) in called_of(names) {
            if is_call(&folder, &name) {
                count.calls += 1;
                count.batches += usize::from(name.ends_with(BATCH));
            } else if matches!(folder.size_of(&name), Ok(Some(_))) {
                // There and no call (one taken since the listing is gone).
                count.strays += 1;
            }
        }
        Ok(count)
    }

    /// Removes the calls being written that were left, untouched for `age`, by processes
    /// killed before they renamed them into place; how many. Nothing when there is no spool.
    pub fn spool_clear_leftovers(&self, age: std::time::Duration) -> Result<usize> {
        let Some(folder) = self.spool_folder()? else {
            return Ok(0);
        };
        Ok(clear_leftovers(&folder, &folder.names()?, age))
    }

    /// Takes the kept call `name` out of the spool to record it here: it is renamed under a
    /// hidden name (`.<name>.taking`), which succeeds for exactly one process, and is gone
    /// only once recorded ([`Store::taken_recorded`]), or back under its name when it could
    /// not be ([`Store::taken_back`]). False when another process took it.
    pub fn take_kept(&self, name: &str) -> Result<bool> {
        self.rename_kept(name, &taking(name), name)
    }

    /// Takes a call the collector refused for good out of the spool to record it here, as
    /// [`Store::take_kept`] does, under its name with or without the unseen mark (see
    /// [`Store::unspool_sent`]); the name it took, `None` when another process took it.
    pub fn take_sent(&self, call: &Spooled) -> Result<Option<String>> {
        if call.batch {
            return Ok(self.take_kept(&call.name)?.then(|| call.name.clone()));
        }
        let stem = call
            .name
            .strip_suffix(UNSEEN)
            .or_else(|| call.name.strip_suffix(".call"))
            .unwrap_or(&call.name);
        for name in [format!("{stem}.call"), format!("{stem}{UNSEEN}")] {
            if self.take_kept(&name)? {
                return Ok(Some(name));
            }
        }
        Ok(None)
    }

    /// Removes the call `name` taken by [`Store::take_kept`] once it is recorded here.
    pub fn taken_recorded(&self, name: &str) -> Result<()> {
        let folder = self.root_folder()?.child(SPOOL)?;
        folder.remove(&taking(name))
    }

    /// Puts the call `name` taken by [`Store::take_kept`] back under its name: it could not be
    /// recorded here, and waits as it did.
    pub fn taken_back(&self, name: &str) -> Result<()> {
        self.rename_kept(&taking(name), name, name).map(|_| ())
    }

    /// Takes a call out of the spool; true when this call took it (of many, exactly one does).
    pub fn unspool(&self, name: &str) -> Result<bool> {
        let folder = self.root_folder()?.child(SPOOL)?;
        folder
            .claim(name)
            .map_err(|e| StoreError::io(&folder.path().join(name), e))
    }
}

/// Writes `body` into `folder` (whose entries are `names`) as the call `name`, within `bound`.
fn write_kept(
    folder: &super::files::Folder,
    name: &str,
    names: &[String],
    body: &[u8],
    bound: SpoolBound,
) -> Result<()> {
    let full = |calls: usize, bytes: u64| {
        StoreError::io(
            folder.path(),
            std::io::Error::other(format!(
                "the spool is full ({calls} calls, {} MiB of at most {} calls, {} MiB)",
                bytes / (1024 * 1024),
                bound.calls,
                bound.bytes / (1024 * 1024)
            )),
        )
    };
    let (calls, bytes) = held(folder, names);
    let bytes = bytes.saturating_add(body.len() as u64);
    if calls >= bound.calls || bytes > bound.bytes {
        return Err(full(calls, bytes));
    }
    let temporary = format!(".{name}{WRITING}");
    let kept = folder.write_new(&temporary, body).and_then(|()| {
        // Hooks keeping calls at the same moment each found room at the count above: once
        // written, a call is counted again with the calls being written (a call is seen whole,
        // written or being written, at every moment), and the hook that finds the spool past
        // its bound gives its call up, so that the spool stays within the bound however many
        // keep at once. Only a call kept pays for this second count, which lists the folder
        // again: it must see the calls written since the first.
        let (calls, bytes) = held(folder, &folder.names()?);
        if calls > bound.calls || bytes > bound.bytes {
            return Err(full(calls, bytes));
        }
        folder
            .rename(&temporary, name)
            .map_err(|e| StoreError::io(&folder.path().join(name), e))
    });
    // A part written (the disk filled) is no call and must not hold the space the disk lacks;
    // a call given up is recorded where it was made.
    if kept.is_err() {
        let _ = folder.remove(&temporary);
    }
    kept
}

/// The names in `folder` made as a call's or a batch's ([`micros_of`]), with their time.
fn called(folder: &super::files::Folder) -> Result<Vec<(u64, String)>> {
    Ok(called_of(folder.names()?))
}

/// Of a folder's `names`, those made as a call's or a batch's, with their time.
fn called_of(names: Vec<String>) -> Vec<(u64, String)> {
    names
        .into_iter()
        .filter_map(|name| Some((micros_of(&name)?, name)))
        .collect()
}

/// The end of the name of a batch set aside ([`Store::spool_set_aside`]).
const SET_ASIDE_BATCH: &str = ".batch.unreadable";

/// Whether `name` is a batch's or a call's set aside as unreadable
/// (`<micros>.<id>.batch.unreadable`, `<micros>.<id>.call.unreadable`).
fn is_set_aside(name: &str) -> bool {
    name.strip_suffix(UNREADABLE).and_then(micros_of).is_some()
}

/// The time in a call's name (`<micros>.<id>.call`) or a batch's (`<micros>.<id>.batch`);
/// `None` for a name made as neither.
fn micros_of(name: &str) -> Option<u64> {
    name.strip_suffix(".call")
        .or_else(|| name.strip_suffix(BATCH))?
        .split('.')
        .next()?
        .parse()
        .ok()
}

/// The hidden name a kept call is taken under while it is recorded here ([`Store::take_kept`]).
fn taking(name: &str) -> String {
    format!(".{name}{TAKING}")
}

/// Whether `name` is the temporary name a call is written under (`.<call's name>.call.tmp`).
fn is_writing(name: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|name| name.strip_suffix(WRITING))
        .and_then(micros_of)
        .is_some()
}

/// Removes from `folder` (whose entries are `names`) the regular files named as calls being
/// written that were not modified for `age` (a link or anything else under such a name is left
/// alone, and no link is followed); how many. A file that cannot be looked at or removed stays.
/// A call taken to be recorded here ([`Store::take_kept`]) `age` ago is put back.
fn clear_leftovers(
    folder: &super::files::Folder,
    names: &[String],
    age: std::time::Duration,
) -> usize {
    let Some(before) = std::time::SystemTime::now().checked_sub(age) else {
        return 0;
    };
    // A call a process was killed recording here (taken under its hidden name) is put back
    // under its own, to wait as it did: it was not recorded, or it would be gone.
    for name in names {
        if let Some(kept) = name
            .strip_prefix('.')
            .and_then(|name| name.strip_suffix(TAKING))
            .filter(|kept| micros_of(kept).is_some())
            && matches!(folder.regular_changed(name), Ok(Some(at)) if at < before)
        {
            let _ = folder.rename(name, kept);
        }
    }
    let mut cleared = 0;
    for name in names.iter().filter(|name| is_writing(name)) {
        if matches!(folder.regular_modified(name), Ok(Some(at)) if at < before)
            && folder.claim(name).unwrap_or(false)
        {
            cleared += 1;
        }
    }
    cleared
}

/// How many calls `folder` holds of its entries `names` (regular files named as calls, as
/// calls being written, or as batches or calls set aside: each holds room until it is gone;
/// one removed since the listing is not counted), and their bytes. A file larger than any call
/// ([`CALL_LIMIT`]) is none, as [`is_call`] says: put there by someone else, it is passed over,
/// and it filled the bound for good, so that no hook could keep a call.
fn held(folder: &super::files::Folder, names: &[String]) -> (usize, u64) {
    let (mut calls, mut bytes) = (0, 0u64);
    let counted = names
        .iter()
        .filter(|name| micros_of(name).is_some() || is_writing(name) || is_set_aside(name));
    for name in counted {
        let size = match folder.regular_size(name) {
            Ok(Some(size)) => Some(size),
            // A call being written when the folder was listed may be in place now, under a
            // name the listing did not hold: it is counted there, or it would be missed under
            // both names and hooks keeping calls at once could pass the bound.
            Ok(None) => name
                .strip_prefix('.')
                .and_then(|name| name.strip_suffix(WRITING))
                .filter(|placed| !names.iter().any(|name| name == placed))
                .and_then(|placed| folder.regular_size(placed).ok().flatten()),
            Err(_) => None,
        };
        if let Some(size) = size.filter(|&size| size <= CALL_LIMIT) {
            calls += 1;
            bytes = bytes.saturating_add(size);
        }
    }
    (calls, bytes)
}

/// Whether `name` in `folder` is a call: a regular file (a link is not followed) within
/// [`CALL_LIMIT`].
fn is_call(folder: &super::files::Folder, name: &str) -> bool {
    matches!(folder.regular_size(name), Ok(Some(size)) if size <= CALL_LIMIT)
}
