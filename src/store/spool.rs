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

/// One call waiting for the collector.
#[derive(Debug, Clone)]
pub struct Spooled {
    /// Its file's name, for [`Store::unspool`].
    pub name: String,
    /// When it was spooled, in microseconds since the epoch.
    pub micros: u64,
    /// The request's body, as it was sent.
    pub body: Vec<u8>,
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
        let folder = self.made_root()?.child_made(SPOOL)?;
        let name = format!("{micros:020}.{id}.call");
        let temporary = format!(".{name}.tmp");
        folder.write_new(&temporary, body)?;
        folder
            .rename(&temporary, &name)
            .map_err(|e| StoreError::io(&folder.path().join(&name), e))
    }

    /// The calls waiting, oldest first, at most `limit`; none when there is no spool.
    pub fn spooled(&self, limit: usize) -> Result<Vec<Spooled>> {
        let folder = match self.root_folder().and_then(|root| root.child(SPOOL)) {
            Ok(folder) => folder,
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Vec::new());
            }
            Err(e) => return Err(e),
        };
        let mut names: Vec<(u64, String)> = folder
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
            .collect();
        names.sort();
        let mut calls = Vec::new();
        for (micros, name) in names.into_iter().take(limit) {
            // Taken by another hook since the listing.
            let Some(file) = folder.read(&name)? else {
                continue;
            };
            let mut body = Vec::new();
            file.take(CALL_LIMIT)
                .read_to_end(&mut body)
                .map_err(|e| StoreError::io(&folder.path().join(&name), e))?;
            calls.push(Spooled { name, micros, body });
        }
        Ok(calls)
    }

    /// The folder the calls wait in, for messages.
    pub fn spool_path(&self) -> std::path::PathBuf {
        self.root.join(SPOOL)
    }

    /// How many calls wait, by their names alone; 0 when there is no spool.
    pub fn spooled_count(&self) -> Result<usize> {
        let folder = match self.root_folder().and_then(|root| root.child(SPOOL)) {
            Ok(folder) => folder,
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Ok(0);
            }
            Err(e) => return Err(e),
        };
        Ok(folder
            .names()?
            .iter()
            .filter(|name| !name.starts_with('.') && name.strip_suffix(".call").is_some())
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
