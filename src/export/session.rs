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

/// Dropped with a stack of its own: the drop the compiler writes recurses once per level, and a
/// chain of subagents thousands deep would overflow the thread's stack.
impl Drop for Exported {
    fn drop(&mut self) {
        let mut todo = std::mem::take(&mut self.subagents);
        while let Some(mut session) = todo.pop() {
            todo.append(&mut session.subagents);
        }
    }
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

    /// The session's events, each as its line in the store holds it.
    fn events_json(&self) -> Value {
        Value::Array(
            self.events
                .iter()
                .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
                .collect(),
        )
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

/// Writes `session` as one pretty JSON document and a newline: `{"session": meta, "events":
/// [...], "subagents": [...]}`, the metadata as `meta.json` holds it and each event as its
/// line in the store does (nothing dropped, nothing renamed), subagents nested the same way.
///
/// The bytes are those of `serde_json::to_writer_pretty` on the whole document, but the
/// nesting is walked with a stack of its own: a chain of subagents thousands deep, three
/// levels of JSON each, would overflow the thread's stack in a serializer that recurses.
pub fn write_json(out: &mut dyn Write, session: &Exported) -> io::Result<()> {
    /// What is left to write, the next last.
    enum Step<'a> {
        Session(&'a Exported, usize),
        Text(String),
    }
    let indent = |level: usize| "  ".repeat(level);
    let mut todo = vec![Step::Text("\n".to_owned()), Step::Session(session, 0)];
    while let Some(step) = todo.pop() {
        let (session, level) = match step {
            Step::Text(text) => {
                out.write_all(text.as_bytes())?;
                continue;
            }
            Step::Session(session, level) => (session, level),
        };
        let inner = indent(level + 1);
        write!(out, "{{\n{inner}\"session\": ")?;
        pretty(out, &session.meta_json(), level + 1)?;
        write!(out, ",\n{inner}\"events\": ")?;
        pretty(out, &session.events_json(), level + 1)?;
        write!(out, ",\n{inner}\"subagents\": ")?;
        if session.subagents.is_empty() {
            write!(out, "[]\n{}}}", indent(level))?;
            continue;
        }
        out.write_all(b"[\n")?;
        todo.push(Step::Text(format!("\n{inner}]\n{}}}", indent(level))));
        let last = session.subagents.len() - 1;
        for (i, sub) in session.subagents.iter().enumerate().rev() {
            if i < last {
                todo.push(Step::Text(",\n".to_owned()));
            }
            todo.push(Step::Session(sub, level + 2));
            todo.push(Step::Text(indent(level + 2)));
        }
    }
    Ok(())
}

/// Writes `value` as pretty JSON nested `level` deep: each line after the first indented by
/// as much (a JSON string holds no line break, so every break is the printer's).
fn pretty(out: &mut dyn Write, value: &Value, level: usize) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(io::Error::from)?;
    if level == 0 {
        return out.write_all(text.as_bytes());
    }
    let indent = "  ".repeat(level);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.write_all(b"\n")?;
            out.write_all(indent.as_bytes())?;
        }
        out.write_all(line.as_bytes())?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The document [`write_json`] writes, built as a `serde_json::Value` the usual way.
    fn document(session: &Exported) -> Value {
        let mut map = Map::new();
        map.insert("session".into(), session.meta_json());
        map.insert("events".into(), session.events_json());
        map.insert(
            "subagents".into(),
            Value::Array(session.subagents.iter().map(document).collect()),
        );
        Value::Object(map)
    }

    fn session(id: &str, events: usize, subagents: Vec<Exported>) -> Exported {
        let mut meta = SessionMeta::new(id, 1.0);
        meta.command = "say \"hi\"\nthen go".into();
        let events = (0..events)
            .map(|n| {
                let mut event = Event::new(
                    crate::model::EventType::ToolCall,
                    2.0 + n as f64,
                    format!("e{n}"),
                    id.to_owned(),
                );
                event.data = serde_json::json!({"tool_name": "Bash", "arguments": {"command": "ls\n-l"}, "empty": {}, "list": []});
                event
            })
            .collect();
        Exported {
            meta,
            events,
            subagents,
        }
    }

    #[test]
    fn json_is_what_serde_json_writes_of_the_whole_document() {
        let tree = session(
            "root",
            2,
            vec![
                session("a", 1, vec![session("a1", 0, Vec::new())]),
                session("b", 0, Vec::new()),
            ],
        );
        let mut ours = Vec::new();
        write_json(&mut ours, &tree).unwrap();
        let mut theirs = serde_json::to_vec_pretty(&document(&tree)).unwrap();
        theirs.push(b'\n');
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(theirs).unwrap()
        );
    }
}
