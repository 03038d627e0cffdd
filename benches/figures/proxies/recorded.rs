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
    /// Messages relayed unrecorded because the recorder fell behind, as the session's `error`
    /// events count them (`unrecorded_messages`).
    pub(crate) unrecorded: u64,
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
        // The few `error` events are read: they count the messages relayed unrecorded.
        if kind == "error" {
            rec.unrecorded += serde_json::from_slice::<serde_json::Value>(&line)
                .ok()
                .and_then(|e| e["data"]["unrecorded_messages"].as_u64())
                .unwrap_or(0);
        }
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
        let unrecorded = if self.unrecorded > 0 {
            format!("; {} messages relayed unrecorded", self.unrecorded)
        } else {
            String::new()
        };
        format!(
            "{} events ({:.1} MB): {}; {} with a parent{unrecorded}",
            self.lines,
            self.bytes as f64 / 1e6,
            types.join(", "),
            self.linked
        )
    }

    /// A note on what `what` recorded against what it should have: a session start and end,
    /// the `decision` that says the server started, around `expected` counts of event types,
    /// and `linked` events with a parent. A proxy whose recorder fell behind relays messages
    /// unrecorded by design and counts them in `error` events: then every message must be
    /// recorded or counted (an answer whose request went unrecorded is an unlinked
    /// `decision`).
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
        for kind in ["session_start", "session_end", "decision"] {
            want.insert(kind.to_owned(), 1);
        }
        let count = |kind: &str| self.by_type.get(kind).copied().unwrap_or(0);
        // Answers recorded before their request, past the server's start.
        let early = count("decision").saturating_sub(1);
        let whole = want == self.by_type && linked.is_none_or(|l| l == self.linked);
        let sent: u64 = expected.iter().map(|(_, n)| n).sum();
        let recorded = count("tool_call") + count("tool_result") + early;
        let counted = self.unrecorded > 0
            && recorded + self.unrecorded == sent
            && count("session_start") == 1
            && count("session_end") == 1;
        let verdict = if whole {
            ": as sent".to_owned()
        } else if counted {
            format!(
                ": every message recorded or counted: {} of {sent} relayed unrecorded (the \
                 recorder fell behind; by design, see docs/security.md)",
                self.unrecorded
            )
        } else {
            let why = if early > 0 && self.unrecorded == 0 && linked.is_some() {
                format!(
                    " ({early} answers recorded as an unlinked `decision`: each was recorded \
                     before its request, which then stays open)"
                )
            } else {
                String::new()
            };
            format!(": NOT what was sent{why}")
        };
        format!(
            "{}{what}: {messages} requests; recorded {}{verdict}",
            if whole || counted { "" } else { "WARNING: " },
            self.found(),
        )
    }
}
