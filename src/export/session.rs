//! One session as the exporters take it (its metadata, its events, its subagents), and its
//! lossless JSON and NDJSON forms.

use std::io::{self, Write};

use serde_json::{Map, Value};

use crate::model::{Agent, Event, SessionMeta};

/// A session read for export: its metadata, its events in the order the store holds them, and
/// the subagent sessions it spawned (each with its own), parents before children.
#[derive(Debug, Clone)]
pub struct Exported {
    pub meta: SessionMeta,
    pub events: Vec<Event>,
    pub subagents: Vec<Exported>,
}

impl Exported {
    /// The agent that recorded the session, for reading its events through the views.
    pub fn agent(&self) -> Agent {
        Agent::from_name(&self.meta.agent_name)
    }

    /// The session's metadata as `meta.json` holds it.
    fn meta_json(&self) -> Value {
        serde_json::from_str(&self.meta.to_json()).unwrap_or(Value::Object(Map::new()))
    }

    /// The session as one JSON document: `{"session": meta, "events": [...], "subagents":
    /// [...]}`, the metadata as `meta.json` holds it and each event as its line in the store
    /// does (nothing dropped, nothing renamed), subagents nested the same way.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("session".into(), self.meta_json());
        map.insert(
            "events".into(),
            Value::Array(
                self.events
                    .iter()
                    .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
                    .collect(),
            ),
        );
        map.insert(
            "subagents".into(),
            Value::Array(self.subagents.iter().map(Exported::to_json).collect()),
        );
        Value::Object(map)
    }

    /// Every session of the tree, this one first, parents before children.
    pub fn all(&self) -> Vec<&Exported> {
        let mut out = vec![self];
        let mut i = 0;
        while i < out.len() {
            let next = out[i];
            out.extend(next.subagents.iter());
            i += 1;
        }
        out
    }
}

/// Writes `session` as pretty JSON (see [`Exported::to_json`]) and a newline.
pub fn write_json(out: &mut dyn Write, session: &Exported) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &session.to_json()).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// Writes every event of `session` and its subagents, one JSON object a line, exactly as the
/// store's `events.ndjson` holds them (each carries its `session_id`): the session's events,
/// then each subagent's, parents before children.
pub fn write_ndjson(out: &mut dyn Write, session: &Exported) -> io::Result<()> {
    for s in session.all() {
        for event in &s.events {
            serde_json::to_writer(&mut *out, event).map_err(io::Error::from)?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}
