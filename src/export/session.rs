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

    /// The session's events, each as its line in the store holds it: what [`write_json`]
    /// writes one at a time.
    #[cfg(test)]
    fn events_json(&self) -> Value {
        Value::Array(
            self.events
                .iter()
                .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
                .collect(),
        )
    }

    /// Takes secrets (`redact`'s rules) out of every session of the tree: what each event
    /// holds, the metadata's command, agent and attribution. A store recorded with
    /// `--no-redact`, or by the Python tool (which redacts only when asked), holds them as the
    /// agent saw them, and an anonymized export is one made to be shared, as `share` redacts.
    pub fn redact_secrets(&mut self) {
        // An id that holds a secret is replaced as the recorders replace it, the same stand-in
        // wherever it is named, so that links hold.
        let id = |id: &mut String| {
            if crate::redact::redact_str(id) != id.as_str() {
                *id = crate::model::hash::stand_in_id(id);
            }
        };
        let mut todo = vec![self];
        while let Some(session) = todo.pop() {
            for event in &mut session.events {
                crate::redact::redact_value(&mut event.data);
                crate::redact::redact_fields(&mut event.extra);
                id(&mut event.event_id);
                if let Some(parent) = event.parent_id.as_mut() {
                    id(parent);
                }
            }
            let meta = &mut session.meta;
            if let Some(parent) = meta.parent_event_id.as_mut() {
                id(parent);
            }
            meta.command = crate::redact::redact_str(&meta.command).into_owned();
            meta.agent_name = crate::redact::redact_str(&meta.agent_name).into_owned();
            crate::redact::redact_fields(&mut meta.extra);
            todo.extend(session.subagents.iter_mut());
        }
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

/// How many levels of subagents the JSON nests: the sessions below a subagent this deep are
/// listed in its `subagents`, each after its parent, as `replay --tree` stops indenting at 32.
pub const NESTED_LEVELS: usize = 32;

/// Writes `session` as one pretty JSON document and a newline: `{"session": meta, "events":
/// [...], "subagents": [...]}`, the metadata as `meta.json` holds it and each event as its
/// line in the store does (nothing dropped, nothing renamed), subagents nested the same way.
///
/// For a tree up to [`NESTED_LEVELS`] deep the bytes are those of `serde_json::to_writer_pretty`
/// on the whole document. A subagent that deep lists every session below it in its
/// `subagents`, parents before children, each with its own `subagents` empty: its
/// `session.parent_session_id` names its parent. A chain of subagents thousands deep (a hostile
/// or damaged store) nested each a level further, three of JSON: 1.2 GB of indentation for a
/// chain of 3,000, nested deeper than JSON readers go (Python's 1,000 levels, serde_json's 128).
///
/// The nesting is walked with a stack of its own, so no depth overflows the thread's stack.
pub fn write_json(out: &mut dyn Write, session: &Exported) -> io::Result<()> {
    /// What is left to write, the next last.
    enum Step<'a> {
        /// A session, its indent, and how many levels of subagents it is below the top (`None`:
        /// listed flat under an ancestor, with no subagents of its own).
        Session(&'a Exported, usize, Option<usize>),
        Text(String),
    }
    let indent = |level: usize| "  ".repeat(level);
    let mut todo = vec![
        Step::Text("\n".to_owned()),
        Step::Session(session, 0, Some(0)),
    ];
    while let Some(step) = todo.pop() {
        let (session, level, depth) = match step {
            Step::Text(text) => {
                out.write_all(text.as_bytes())?;
                continue;
            }
            Step::Session(session, level, depth) => (session, level, depth),
        };
        let inner = indent(level + 1);
        write!(out, "{{\n{inner}\"session\": ")?;
        pretty(out, &session.meta_json(), level + 1)?;
        write!(out, ",\n{inner}\"events\": ")?;
        write_events(out, session, level + 1)?;
        write!(out, ",\n{inner}\"subagents\": ")?;
        let below: Vec<(&Exported, Option<usize>)> = match depth {
            None => Vec::new(),
            Some(depth) if depth < NESTED_LEVELS => session
                .subagents
                .iter()
                .map(|sub| (sub, Some(depth + 1)))
                .collect(),
            Some(_) => session.all()[1..].iter().map(|sub| (*sub, None)).collect(),
        };
        if below.is_empty() {
            write!(out, "[]\n{}}}", indent(level))?;
            continue;
        }
        out.write_all(b"[\n")?;
        todo.push(Step::Text(format!("\n{inner}]\n{}}}", indent(level))));
        let last = below.len() - 1;
        for (i, (sub, depth)) in below.into_iter().enumerate().rev() {
            if i < last {
                todo.push(Step::Text(",\n".to_owned()));
            }
            todo.push(Step::Session(sub, level + 2, depth));
            todo.push(Step::Text(indent(level + 2)));
        }
    }
    Ok(())
}

/// Writes the events of `session` as pretty JSON, an array nested `level` deep, one event at
/// a time: the bytes of the whole array rendered at once, which, built whole and rendered into
/// one string before it was written, took a 200 MB session's export to 1.5 GB.
fn write_events(out: &mut dyn Write, session: &Exported, level: usize) -> io::Result<()> {
    if session.events.is_empty() {
        return out.write_all(b"[]");
    }
    let indent = "  ".repeat(level + 1);
    out.write_all(b"[")?;
    for (i, event) in session.events.iter().enumerate() {
        let separator: &[u8] = if i == 0 { b"\n" } else { b",\n" };
        out.write_all(separator)?;
        out.write_all(indent.as_bytes())?;
        let value = serde_json::to_value(event).unwrap_or(Value::Null);
        pretty(out, &value, level + 1)?;
    }
    write!(out, "\n{}]", "  ".repeat(level))
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

    #[test]
    fn a_chain_deeper_than_the_nested_levels_lists_the_rest_under_its_deepest_nested_subagent() {
        let deepest = NESTED_LEVELS + 3;
        let mut tree = session(&format!("s{deepest}"), 1, Vec::new());
        for depth in (0..deepest).rev() {
            tree = session(&format!("s{depth}"), 1, vec![tree]);
        }
        let mut out = Vec::new();
        write_json(&mut out, &tree).unwrap();
        let document: Value = serde_json::from_slice(&out).unwrap();
        let mut at = &document;
        for depth in 0..NESTED_LEVELS {
            assert_eq!(at["session"]["session_id"], format!("s{depth}"));
            let subagents = at["subagents"].as_array().unwrap();
            assert_eq!(subagents.len(), 1, "s{depth}");
            at = &subagents[0];
        }
        assert_eq!(at["session"]["session_id"], format!("s{NESTED_LEVELS}"));
        let listed: Vec<&Value> = at["subagents"].as_array().unwrap().iter().collect();
        let ids: Vec<&str> = listed
            .iter()
            .map(|s| s["session"]["session_id"].as_str().unwrap())
            .collect();
        let expected: Vec<String> = (NESTED_LEVELS + 1..=deepest)
            .map(|d| format!("s{d}"))
            .collect();
        assert_eq!(ids, expected);
        for sub in listed {
            assert_eq!(sub["subagents"], serde_json::json!([]));
            assert_eq!(sub["events"].as_array().unwrap().len(), 1);
        }
    }
}
