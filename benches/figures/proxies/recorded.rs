//! What a recording proxy wrote, counted without parsing every event, and checked against
//! what was sent.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::Res;

/// What a session's `events.ndjson` holds, counted without parsing it.
#[derive(Default)]
pub(crate) struct Recorded {
    pub(crate) lines: u64,
    pub(crate) bytes: u64,
    pub(crate) by_type: std::collections::BTreeMap<String, u64>,
    /// Events with a `parent_id`.
    pub(crate) linked: u64,
}

/// The events file of the one session in `store`.
pub(crate) fn only_session_events(store: &Path) -> Res<PathBuf> {
    let mut dirs = std::fs::read_dir(store)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir());
    let dir = dirs.next().ok_or("record made no session")?;
    if dirs.next().is_some() {
        return Err("record made more than one session".into());
    }
    Ok(dir.join("events.ndjson"))
}

pub(crate) fn count_recorded(store: &Path) -> Res<Recorded> {
    let mut reader = BufReader::with_capacity(1 << 20, File::open(only_session_events(store)?)?);
    let mut rec = Recorded::default();
    let mut line = Vec::with_capacity(1024);
    let prefix = br#"{"event_type":""#;
    let parent = br#""parent_id":""#;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        rec.lines += 1;
        rec.bytes += line.len() as u64;
        let kind = line
            .strip_prefix(prefix)
            .and_then(|rest| rest.split(|&b| b == b'"').next())
            .map_or_else(
                || "?".to_owned(),
                |k| String::from_utf8_lossy(k).into_owned(),
            );
        *rec.by_type.entry(kind).or_default() += 1;
        // The parent comes right after the session id, within the first 200 bytes.
        let head = &line[..line.len().min(200)];
        if head.windows(parent.len()).any(|w| w == parent) {
            rec.linked += 1;
        }
    }
    Ok(rec)
}

impl Recorded {
    pub(crate) fn found(&self) -> String {
        let types: Vec<String> = self
            .by_type
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        format!(
            "{} events ({:.1} MB): {}; {} with a parent",
            self.lines,
            self.bytes as f64 / 1e6,
            types.join(", "),
            self.linked
        )
    }

    /// A note on what `what` recorded against what it should have: a session start and end
    /// around `expected` counts of event types, and `linked` events with a parent.
    pub(crate) fn check(
        &self,
        what: &str,
        messages: u64,
        expected: &[(&str, u64)],
        linked: Option<u64>,
    ) -> String {
        let mut want: std::collections::BTreeMap<String, u64> = expected
            .iter()
            .map(|(k, n)| ((*k).to_owned(), *n))
            .collect();
        want.insert("session_start".to_owned(), 1);
        want.insert("session_end".to_owned(), 1);
        let ok = want == self.by_type && linked.is_none_or(|l| l == self.linked);
        let early = self.by_type.get("decision").copied().unwrap_or(0);
        let why = if early > 0 && linked.is_some() {
            format!(
                " ({early} answers recorded as an unlinked `decision`: each was recorded before \
                 its request, which then stays open)"
            )
        } else {
            String::new()
        };
        let verdict = if ok {
            ": as sent"
        } else {
            ": NOT what was sent"
        };
        format!(
            "{}{what}: {messages} requests; recorded {}{verdict}{why}",
            if ok { "" } else { "WARNING: " },
            self.found(),
        )
    }
}
