//! Hook calls a collector may hold: a call sent to the collector whose answer did not come in
//! the hook's time waits here, one file under `.spool/`, until a later hook of the store sends
//! it again (the collector skips a call it already recorded) or records it here.
//!
//! Concurrency: a call is written under a temporary name and renamed into place, so a reader
//! sees it whole or not at all; a call is taken by deleting its file ([`Store::unspool`]),
//! which succeeds for exactly one process, so two hooks never record one call twice here. Names
//! are `<micros>.<call id>.call`: the time orders the calls as they were made. No file or
//! folder is followed through a link ([`super::files`]).

use std::io::Read;

use super::layout::SPOOL;
use super::{Result, Store, StoreError};

/// A call's file beyond this is not read (a collector refuses a body over 16 MiB anyway).
const CALL_LIMIT: u64 = 64 * 1024 * 1024;

/// One call waiting for the collector; its body is read when it is sent
/// ([`Store::spooled_body`]), so that a hook reads no more than the calls it has time for.
#[derive(Debug, Clone)]
pub struct Spooled {
    /// Its file's name, for [`Store::unspool`].
    pub name: String,
    /// When it was spooled, in microseconds since the epoch.
    pub micros: u64,
}

impl Store {
    /// Keeps a call's `body` (call id `id`, letters and digits) made at `micros`.
    pub fn spool(&self, micros: u64, id: &str, body: &[u8]) -> Result<()> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(StoreError::io(
                &self.root.join(SPOOL),
                std::io::Error::other(format!("{id:?} cannot name a spooled call")),
            ));
        }
        let name = format!("{micros:020}.{id}.call");
        // It could not be read back whole: it is recorded where it is made instead.
        if body.len() as u64 > CALL_LIMIT {
            return Err(StoreError::io(
                &self.root.join(SPOOL).join(&name),
                std::io::Error::other("the call is larger than a kept call may be"),
            ));
        }
        let folder = self.made_root()?.child_made(SPOOL)?;
        let temporary = format!(".{name}.tmp");
        folder.write_new(&temporary, body)?;
        folder
            .rename(&temporary, &name)
            .map_err(|e| StoreError::io(&folder.path().join(&name), e))
    }

    /// The calls waiting, oldest first, at most `limit`; none when there is no spool. Only a
    /// regular file of at most [`CALL_LIMIT`] bytes is a call: a link, a FIFO or a folder
    /// someone planted under a call's name, or a runaway file, is passed over, so that it
    /// holds back none of the calls behind it.
    pub fn spooled(&self, limit: usize) -> Result<Vec<Spooled>> {
        let Some(folder) = self.spool_folder()? else {
            return Ok(Vec::new());
        };
        let mut names = called(&folder)?;
        names.sort();
        Ok(names
            .into_iter()
            .filter(|(_, name)| is_call(&folder, name))
            .take(limit)
            .map(|(micros, name)| Spooled { name, micros })
            .collect())
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

    /// How many calls wait (regular files named as calls, as [`Store::spooled`] takes them);
    /// 0 when there is no spool.
    pub fn spooled_count(&self) -> Result<usize> {
        let Some(folder) = self.spool_folder()? else {
            return Ok(0);
        };
        Ok(called(&folder)?
            .iter()
            .filter(|(_, name)| is_call(&folder, name))
            .count())
    }

    /// Takes a call out of the spool; true when this call took it (of many, exactly one does).
    pub fn unspool(&self, name: &str) -> Result<bool> {
        let folder = self.root_folder()?.child(SPOOL)?;
        folder
            .claim(name)
            .map_err(|e| StoreError::io(&folder.path().join(name), e))
    }
}

/// The names in `folder` made as a call's (`<micros>.<id>.call`), with their time.
fn called(folder: &super::files::Folder) -> Result<Vec<(u64, String)>> {
    Ok(folder
        .names()?
        .into_iter()
        .filter_map(|name| {
            let micros = name
                .strip_suffix(".call")?
                .split('.')
                .next()?
                .parse()
                .ok()?;
            Some((micros, name))
        })
        .collect())
}

/// Whether `name` in `folder` is a call: a regular file (a link is not followed) within
/// [`CALL_LIMIT`].
fn is_call(folder: &super::files::Folder, name: &str) -> bool {
    matches!(folder.regular_size(name), Ok(Some(size)) if size <= CALL_LIMIT)
}
