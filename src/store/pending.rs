//! Open tool calls: one empty file per call under `.pending/`, claimed by exactly one result.
//!
//! A result finds its call without reading the session: it lists `.pending/` (only calls still
//! open), takes the oldest entry with its key and claims it by deleting it. Deleting succeeds
//! for exactly one process, so two results never link to the same call, and no lock is needed.
//! Entry names are `<key>.<micros>.<event_id>`: the key says which calls may match, the time
//! orders them and gives the result its duration. At a turn's end the calls still open (their
//! result never came: the user interrupted them) are closed by renaming them
//! `closed.<key>.<micros>.<event_id>`, which only a late result of the same key claims, and
//! removed at the next turn's end or the session's ([`Store::close_calls`]).

use std::io::ErrorKind;

use serde_json::Value;

use super::files::Folder;
use super::layout::PENDING;
use super::{Result, Store, StoreError};
pub(super) use crate::model::hash::{fnv1a, fnv1a_from};

/// Which calls a result may match: its tool-use id when the agent sends one, else its tool
/// name and input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallKey(String);

impl CallKey {
    pub fn by_tool_use_id(tool_use_id: &str) -> Self {
        CallKey(format!("u{:016x}", fnv1a(tool_use_id.as_bytes())))
    }

    pub fn by_content(tool_name: &str, input: &Value) -> Self {
        let mut hash = fnv1a(tool_name.as_bytes());
        hash = hash_value(hash ^ 0xff, input);
        CallKey(format!("c{hash:016x}"))
    }

    /// A key of its own kind, for spawned subagents waiting for their session.
    pub fn spawn() -> Self {
        CallKey(SPAWN.to_owned())
    }

    /// A hint that a spawning call, opened under [`CallKey::spawn`], is also known by: one
    /// thing (`kind`: its tool-use id, prompt …) a subagent's payloads may share with it.
    pub fn spawn_hint(kind: &str, value: &str) -> Self {
        let hash = fnv1a_from(fnv1a(kind.as_bytes()) ^ 0xff, value.as_bytes());
        CallKey(format!("{SPAWN_HINT}{hash:016x}"))
    }
}

const SPAWN: &str = "spawn";
/// Hints of spawning calls: `spawn-<hash>.<micros>.<event_id>`, beside the call's own
/// `spawn.<micros>.<event_id>`, which is the one a claim deletes.
const SPAWN_HINT: &str = "spawn-";

/// A call claimed by a result.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedCall {
    pub event_id: String,
    pub timestamp: f64,
}

impl Store {
    /// Records `event_id` as an open call under `key`.
    pub fn open_call(
        &self,
        session_id: &str,
        key: &CallKey,
        event_id: &str,
        timestamp: f64,
    ) -> Result<()> {
        let dir = self.session_folder(session_id)?.child_made(PENDING)?;
        let micros = (timestamp * 1e6).max(0.0).round() as u64;
        let name = format!("{}.{micros:020}.{event_id}", key.0);
        let path = || dir.path().join(&name);
        // An entry is a hard link to one anchor file: a new name costs a directory entry, not
        // a new inode, which is an order of magnitude cheaper.
        match dir.link(ANCHOR, &name) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                dir.create_new(ANCHOR)?;
                dir.link(ANCHOR, &name)
                    .map_err(|e| StoreError::io(&path(), e))
            }
            Err(e) => Err(StoreError::io(&path(), e)),
        }
    }

    /// The session's `.pending` folder; `None` when it has none (no call was ever opened).
    fn pending(&self, session_id: &str) -> Result<Option<Folder>> {
        match self.session_folder(session_id)?.child(PENDING) {
            Ok(dir) => Ok(Some(dir)),
            Err(StoreError::Io { source, .. }) if source.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Claims one particular open call; false when it was claimed already (or never opened).
    pub fn claim_exact(&self, session_id: &str, key: &CallKey, call: &ClaimedCall) -> Result<bool> {
        let Some(dir) = self.pending(session_id)? else {
            return Ok(false);
        };
        let micros = (call.timestamp * 1e6).max(0.0).round() as u64;
        let name = format!("{}.{micros:020}.{}", key.0, call.event_id);
        dir.claim(&name)
            .map_err(|e| StoreError::io(&dir.path().join(&name), e))
    }

    /// Opens again, under its own key and time, a call claimed by [`Store::claim_call`] whose
    /// result could not be written: the result's next try finds it as if never claimed.
    pub fn reopen_call(&self, session_id: &str, key: &CallKey, call: &ClaimedCall) -> Result<()> {
        self.open_call(session_id, key, &call.event_id, call.timestamp)
    }

    /// Claims the oldest open call under `key`, if any; else the oldest one under `key` that
    /// the turn's end closed ([`Store::close_calls`]), whose result came late.
    pub fn claim_call(&self, session_id: &str, key: &CallKey) -> Result<Option<ClaimedCall>> {
        let Some(dir) = self.pending(session_id)? else {
            return Ok(None);
        };
        let open = format!("{}.", key.0);
        let closed = format!("{CLOSED}{open}");
        // A second look when a call was closed between the listing and its claim.
        for _ in 0..2 {
            let names = dir.names()?;
            let mut raced = false;
            for prefix in [&open, &closed] {
                let mut candidates: Vec<&String> = names
                    .iter()
                    .filter(|name| name.starts_with(prefix))
                    .collect();
                candidates.sort();
                for name in candidates {
                    // Another result claimed it first (or the turn's end closed it): try the
                    // next one.
                    if !dir
                        .claim(name)
                        .map_err(|e| StoreError::io(&dir.path().join(name), e))?
                    {
                        raced = true;
                        continue;
                    }
                    let mut parts = name[prefix.len()..].splitn(2, '.');
                    let micros = parts
                        .next()
                        .and_then(|m| m.parse::<u64>().ok())
                        .unwrap_or(0);
                    let event_id = parts.next().unwrap_or_default().to_owned();
                    return Ok(Some(ClaimedCall {
                        event_id,
                        timestamp: micros as f64 / 1e6,
                    }));
                }
            }
            if !raced {
                break;
            }
        }
        Ok(None)
    }

    /// Closes the calls of `session` still open once its turn is over (`ended`: the session
    /// itself): a call whose result never came (the user interrupted it) must not stay open,
    /// where a later call with the same tool and input (an agent that sends no tool-use id)
    /// would have its result taken for the old call's. The recorded calls stay as they are.
    ///
    /// At a turn's end an open call is only closed: its result, should it still come, claims
    /// it when no open call of its key is left ([`Store::claim_call`]); the calls closed at an
    /// earlier turn's end, and every spawning call with its hints, are removed: no subagent of
    /// its call is still to start, and a spawning call left open (given back when its subagent
    /// could not be made, and never claimed since) would be the oldest open one, which a later
    /// subagent that shares no hint with its own call takes. At the session's end every call
    /// is removed.
    pub fn close_calls(&self, session_id: &str, ended: bool) -> Result<()> {
        let Some(dir) = self.pending(session_id)? else {
            return Ok(());
        };
        // An entry that cannot be closed (a folder someone made there, a name too long to
        // take the prefix) is reported once all the others are closed: stopping at it left
        // the calls listed after it open.
        let mut first_error = None;
        for name in dir.names()? {
            if name.starts_with('.') {
                continue;
            }
            let done = if ended || name.starts_with(SPAWN) || name.starts_with(CLOSED) {
                dir.claim(&name).map(|_| ())
            } else {
                match dir.rename(&name, &format!("{CLOSED}{name}")) {
                    // Claimed by its result meanwhile.
                    Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
                    other => other,
                }
            };
            if let Err(e) = done {
                first_error.get_or_insert(StoreError::io(&dir.path().join(&name), e));
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Before the name of a call closed at a turn's end: `closed.<key>.<micros>.<event_id>`.
const CLOSED: &str = "closed.";

impl Store {
    /// Claims the spawning call a new subagent belongs to: the oldest open one known by the
    /// first of `hints` (strongest first) that any open call is known by, else the oldest open
    /// one. Its hints stay until [`Store::forget_spawn_hints`], so that a call given back by
    /// [`Store::reopen_call`] (its subagent could not be written) is still known by them.
    pub fn claim_spawn(&self, session_id: &str, hints: &[CallKey]) -> Result<Option<ClaimedCall>> {
        let Some(dir) = self.pending(session_id)? else {
            return Ok(None);
        };
        let names: Vec<String> = dir
            .names()?
            .into_iter()
            .filter(|name| name.starts_with(SPAWN))
            .collect();
        // Each open call, by the part of its names after the key (`<micros>.<event_id>`),
        // which sorts oldest first.
        let mut open: Vec<&str> = names
            .iter()
            .filter_map(|n| n.strip_prefix("spawn."))
            .collect();
        open.sort_unstable();
        let known_by = |hint: &CallKey| -> Vec<&str> {
            let prefix = format!("{}.", hint.0);
            names
                .iter()
                .filter_map(|n| n.strip_prefix(&prefix))
                .filter(|call| open.binary_search(call).is_ok())
                .collect()
        };
        let mut order: Vec<&str> = Vec::new();
        for hint in hints {
            let mut calls = known_by(hint);
            calls.sort_unstable();
            order.extend(calls);
        }
        order.extend(open.iter().copied());
        for call in order {
            let name = format!("{SPAWN}.{call}");
            // Claimed by another hook meanwhile: try the next one.
            if !dir
                .claim(&name)
                .map_err(|e| StoreError::io(&dir.path().join(&name), e))?
            {
                continue;
            }
            let (micros, event_id) = call.split_once('.').unwrap_or((call, ""));
            return Ok(Some(ClaimedCall {
                event_id: event_id.to_owned(),
                timestamp: micros.parse::<u64>().unwrap_or(0) as f64 / 1e6,
            }));
        }
        Ok(None)
    }

    /// Removes the hints of a claimed spawning call, so that open calls' entries stay few.
    pub fn forget_spawn_hints(&self, session_id: &str, call: &ClaimedCall) {
        let Ok(Some(dir)) = self.pending(session_id) else {
            return;
        };
        let Ok(names) = dir.names() else {
            return;
        };
        let micros = (call.timestamp * 1e6).max(0.0).round() as u64;
        forget_spawn_hints_in(&dir, &names, &format!("{micros:020}.{}", call.event_id));
    }
}

/// Removes the hints among `names` of the call whose names end in `call`.
fn forget_spawn_hints_in(dir: &Folder, names: &[String], call: &str) {
    for name in names {
        if name.starts_with(SPAWN_HINT) && name.split_once('.').is_some_and(|(_, c)| c == call) {
            let _ = dir.claim(name);
        }
    }
}

/// The file every pending entry links to.
const ANCHOR: &str = ".anchor";

/// Hashes a JSON value with object keys in sorted order, so key order does not matter.
pub(super) fn hash_value(hash: u64, value: &Value) -> u64 {
    match value {
        Value::Null => fnv1a_from(hash, b"n"),
        Value::Bool(b) => fnv1a_from(hash, if *b { b"t" } else { b"f" }),
        Value::Number(n) => fnv1a_from(fnv1a_from(hash, b"#"), n.to_string().as_bytes()),
        Value::String(s) => fnv1a_from(fnv1a_from(hash, b"\""), s.as_bytes()) ^ 0x22,
        Value::Array(items) => {
            let mut h = fnv1a_from(hash, b"[");
            for item in items {
                h = hash_value(fnv1a_from(h, b","), item);
            }
            fnv1a_from(h, b"]")
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut h = fnv1a_from(hash, b"{");
            for key in keys {
                h = fnv1a_from(fnv1a_from(h, key.as_bytes()), b":");
                h = hash_value(h, &map[key]);
            }
            fnv1a_from(h, b"}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_change_the_content_key() {
        let a = CallKey::by_content("Bash", &json!({"command": "ls", "timeout": 5}));
        let b = CallKey::by_content("Bash", &json!({"timeout": 5, "command": "ls"}));
        let c = CallKey::by_content("Bash", &json!({"command": "ls -la", "timeout": 5}));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn the_oldest_open_call_is_claimed_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        std::fs::create_dir_all(dir.path().join("s")).unwrap();
        let key = CallKey::by_content("Read", &json!({"file_path": "/a"}));
        store.open_call("s", &key, "second", 2.0).unwrap();
        store.open_call("s", &key, "first", 1.0).unwrap();
        assert_eq!(
            store.claim_call("s", &key).unwrap().unwrap().event_id,
            "first"
        );
        assert_eq!(
            store.claim_call("s", &key).unwrap().unwrap().event_id,
            "second"
        );
        assert_eq!(store.claim_call("s", &key).unwrap(), None);
    }
}
