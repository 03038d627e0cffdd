//! The files a session read and wrote: those its file events name, and those its calls touched
//! for certain when no file event stands for them.
//!
//! Our recorders write a call, its result, then right after the result a `file_read` or
//! `file_write` (linked to the call by `parent_id`) for each file the call touched for certain
//! ([`shell_files::of_tool_call`]: a file tool's file, a patch's, a shell line's). The Python
//! tool's hooks and import write no file event for a call: there, the call that succeeded is all
//! that says a file was touched. So a call that succeeded owes the files
//! [`shell_files::of_tool_call`] names, and they count unless the next event is a file event of
//! that call (a recorder's, which names them itself). A call that failed or was refused touched
//! nothing.
//!
//! A call that no result answers touched its files too ([`Touches::pending`]): nothing says it
//! failed, and some never get one. Cursor's `beforeReadFile` hands the agent a file it has read
//! and sends no result; a call cut off by an interrupt or a killed agent gets no PostToolUse,
//! and the file may be written all the same. Counting only the calls that succeeded said
//! `0 read` for every file such a session read, while its phases and `replay` showed the call,
//! and a file perhaps written was hidden; the Python tool counts every call's file.
//!
//! One read is counted once, however many hooks tell of it. Cursor tells of a read by its
//! `Read` tool twice: `preToolUse` (the call, with its `tool_use_id`) and `beforeReadFile`
//! (the same file, as the tool reads it, with no id and no result ever), before the call's
//! result or after it. The later of the two repeats the earlier ([`super::read_pairs`]): while
//! the earlier is open, the two are one read, answered by the call's result (nothing is read
//! when it failed); once it is answered, the repeat touches nothing more. Both events stay in
//! the store. Two calls that both name an id are two reads, even of one file at once.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::event::{Event, EventType};
use super::file_use::FileUse;
use super::head::EventHead;
use super::links::Links;
use super::outcome::ToolOutcome;
use super::read_pairs::ReadPairs;
use super::shell_files::{self, Folder};
use super::tools::{self, Agent};
use super::view::{ToolCall, View};

/// One file touched: its path as the event or call names it, and what was done to it.
pub type Touch = (String, FileUse);

/// What is known of a session's calls so far, to count the files they touched. Folds keep it
/// with their state, so it serialises.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Touches {
    links: Links,
    /// The folder the session started in, which a shell line's files are named from.
    cwd: Option<String>,
    /// Calls that touch files, not answered yet, by event id: their files and their tool.
    calls: HashMap<String, (Vec<Touch>, String)>,
    /// The call just answered well, by event id, and the files it touched.
    owed: Option<(String, Vec<Touch>)>,
    /// Open calls that repeat another open call's read, by event id: the event id of the call
    /// they repeat (see the module's note). Their files are not pending apart, and a result of
    /// either closes both.
    #[serde(default)]
    repeats: HashMap<String, String>,
    /// Of the open calls, those that name a call id (Cursor's `preToolUse`'s), to tell them
    /// from its `beforeReadFile`'s, which name none.
    #[serde(default)]
    named: HashSet<String>,
    /// The reads told of once so far, to tell the call that repeats one ([`ReadPairs`]).
    #[serde(default)]
    reads: ReadPairs,
    /// The call observed last repeats a read told of before whose call is answered already,
    /// by event id: it touches nothing. Not kept: asked right after the call is observed.
    #[serde(skip)]
    repeated_answered: Option<String>,
}

/// Calls waiting for their result at most (see [`Links`]).
const OPEN_KEPT: usize = 1024;

impl Touches {
    /// The files that count as touched once `event`, of a session of `agent`, is seen, in
    /// order: the files the call answered just before owed, unless `event` is a file event of
    /// that call; then the file `event` names.
    pub fn observe(&mut self, event: &Event, agent: Agent) -> Vec<Touch> {
        self.observe_linked(event, agent).0
    }

    /// Of the files [`Touches::observe`] gives, those calls touched and no file event names:
    /// what a reader that counts file events itself adds to them.
    pub fn observe_owed(&mut self, event: &Event, agent: Agent) -> Vec<Touch> {
        self.step(event, agent).0
    }

    /// [`Touches::observe`], with the event `event` answers or belongs to, as [`Links`] tells
    /// it (for a result of the Python tool's import, which names its call only by the agent's
    /// id of it, the call's event id).
    pub fn observe_linked<'e>(
        &mut self,
        event: &'e Event,
        agent: Agent,
    ) -> (Vec<Touch>, Option<Cow<'e, str>>) {
        let (mut touched, own, parent) = self.step(event, agent);
        touched.extend(own);
        (touched, parent)
    }

    /// One event seen: the files calls owe that count now, the file `event` names, and the
    /// event it answers or belongs to.
    fn step<'e>(
        &mut self,
        event: &'e Event,
        agent: Agent,
    ) -> (Vec<Touch>, Option<Touch>, Option<Cow<'e, str>>) {
        let parent = self.links.parent(event);
        self.repeated_answered = None;
        let mut own = None;
        let mut touched = Vec::new();
        if let Some((call, owed)) = self.owed.take() {
            let recorded = matches!(event.event_type, EventType::FileRead | EventType::FileWrite)
                && parent.as_deref() == Some(call.as_str());
            if !recorded {
                touched = owed;
            }
        }
        match View::of(event, agent) {
            View::SessionStart(start) if self.cwd.is_none() => {
                self.cwd = start.cwd.map(str::to_owned);
            }
            View::FileTouch(touch) => {
                own = touch.path.map(|path| (path.to_owned(), touch.file_use));
            }
            View::ToolCall(call) => {
                let folder = call
                    .cwd
                    .or(self.cwd.as_deref())
                    .map_or(Folder::Unknown, Folder::Start);
                let files: Vec<Touch> = shell_files::of_tool_call(&call, folder)
                    .into_iter()
                    .map(|f| (f.path, f.file_use))
                    .collect();
                let repeat = self.reads.observe(&EventHead::of(event));
                if !files.is_empty() {
                    if self.calls.len() >= OPEN_KEPT {
                        self.calls.clear();
                        self.repeats.clear();
                        self.named.clear();
                    }
                    if repeat {
                        let Some(first) = self.read_repeated(&call, &files) else {
                            // The read it repeats is answered (or forgotten): its files were
                            // counted by it.
                            self.repeated_answered = Some(event.event_id.clone());
                            return (touched, own, parent);
                        };
                        self.repeats.insert(event.event_id.clone(), first);
                    }
                    if call.tool_use_id.is_some_and(|id| !id.is_empty()) {
                        self.named.insert(event.event_id.clone());
                    }
                    self.calls
                        .insert(event.event_id.clone(), (files, call.tool.to_owned()));
                }
            }
            View::ToolResult(result) => {
                if let Some(parent) = &parent
                    && let Some((files, tool)) = self.close(parent.as_ref())
                    && result.outcome == ToolOutcome::Ok
                    // A folder a file tool was given (Copilot's `view` lists one) is no file.
                    && !result
                        .text
                        .and_then(Value::as_str)
                        .is_some_and(|shown| tools::lists_a_folder(agent, &tool, shown))
                {
                    self.owed = Some((parent.to_string(), files));
                }
            }
            _ => {}
        }
        (touched, own, parent)
    }

    /// The open call whose read `call` (touching `files`) repeats, of those a repeat may
    /// repeat: a `Read` of the same files, of the other kind (one names an id, the other
    /// none), not a repeat itself nor repeated yet (see the module's note).
    fn read_repeated(&self, call: &ToolCall<'_>, files: &[Touch]) -> Option<String> {
        let named = call.tool_use_id.is_some();
        self.calls
            .iter()
            .filter(|(id, (open, tool))| {
                tool == "Read"
                    && open == files
                    && !self.repeats.contains_key(id.as_str())
                    && !self.repeats.values().any(|first| first == *id)
            })
            .filter(|(id, _)| self.named.contains(id.as_str()) != named)
            .map(|(id, _)| id.clone())
            .min()
    }

    /// Closes the call `id` answers, and the calls of the same read (its own, or the one it
    /// repeats, and that one's others): the answered call's files and tool, if it is open.
    fn close(&mut self, id: &str) -> Option<(Vec<Touch>, String)> {
        let first = self.repeats.remove(id).unwrap_or_else(|| id.to_owned());
        let others: Vec<String> = self
            .repeats
            .iter()
            .filter(|(_, of)| **of == first)
            .map(|(repeat, _)| repeat.clone())
            .collect();
        for other in others.iter().chain([&first]).filter(|other| *other != id) {
            self.repeats.remove(other);
            self.named.remove(other);
            self.calls.remove(other);
        }
        self.named.remove(id);
        self.calls.remove(id)
    }

    /// Whether the open call `event_id` repeats the read of another open call (a Cursor
    /// `beforeReadFile` beside its `preToolUse`): one read with it, counted once. Asked right
    /// after the call is observed.
    pub fn repeats(&self, event_id: &str) -> bool {
        self.repeats.contains_key(event_id) || self.repeated_answered.as_deref() == Some(event_id)
    }

    /// The open call that the call `event_id` repeats the read of, if it is open
    /// ([`Touches::repeats`]).
    pub fn repeated(&self, event_id: &str) -> Option<&str> {
        self.repeats.get(event_id).map(String::as_str)
    }

    /// The files the call answered last owes, when no event follows it: the end of the
    /// session, or of what is recorded of it so far.
    pub fn owed(&self) -> &[Touch] {
        self.owed
            .as_ref()
            .map_or(&[], |(_, files)| files.as_slice())
    }

    /// The files of the calls no result has answered so far, each with its call's event id, in
    /// no order: they count as touched (see the module's note) until a result says the call
    /// failed or was refused. Of the calls a session leaves open, the last [`OPEN_KEPT`] at most
    /// are kept.
    pub fn pending(&self) -> impl Iterator<Item = (&str, &Touch)> {
        self.calls
            .iter()
            .filter(|(id, _)| !self.repeats.contains_key(id.as_str()))
            .flat_map(|(id, (files, _))| files.iter().map(move |touch| (id.as_str(), touch)))
    }

    /// [`Touches::owed`] and [`Touches::pending`]: every file that counts once no more events
    /// come, besides those counted already; the pending ones in path order.
    pub fn at_end(&self) -> Vec<Touch> {
        let mut pending: Vec<Touch> = self.pending().map(|(_, touch)| touch.clone()).collect();
        pending.sort();
        let mut all = self.owed().to_vec();
        all.extend(pending);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: EventType, id: &str, parent: Option<&str>, data: Value) -> Event {
        let mut e = Event::new(kind, 1.0, id.into(), "s".into()).with_data(data);
        e.parent_id = parent.map(Into::into);
        e
    }

    fn touched(events: &[Event]) -> Vec<Touch> {
        let mut touches = Touches::default();
        let mut all: Vec<Touch> = events
            .iter()
            .flat_map(|e| touches.observe(e, Agent::ClaudeCode))
            .collect();
        all.extend(touches.at_end());
        all
    }

    #[test]
    fn a_call_counts_its_files_once_with_or_without_file_events() {
        let call = |id: &str, tool: &str, args: Value| {
            event(
                EventType::ToolCall,
                id,
                None,
                json!({"tool_name": tool, "arguments": args}),
            )
        };
        let ok = |id: &str, parent: &str| {
            event(
                EventType::ToolResult,
                id,
                Some(parent),
                json!({"result": "ok"}),
            )
        };
        let ours = [
            call("c1", "Read", json!({"file_path": "/p/a.rs"})),
            ok("r1", "c1"),
            event(
                EventType::FileRead,
                "f1",
                Some("c1"),
                json!({"path": "/p/a.rs"}),
            ),
            event(EventType::SessionEnd, "end", None, json!({})),
        ];
        assert_eq!(touched(&ours), [("/p/a.rs".to_owned(), FileUse::Read)]);
        // The Python tool's import: no file event, the result linked by the agent's id; a
        // shell line that writes; a failed edit.
        let python = [
            event(
                EventType::ToolCall,
                "c1",
                None,
                json!({"tool_name": "Edit", "arguments": {"file_path": "/p/b.rs"}, "request_id": "toolu_1"}),
            ),
            event(
                EventType::ToolResult,
                "r1",
                None,
                json!({"tool_use_id": "toolu_1", "content_preview": "done"}),
            ),
            call("c2", "Bash", json!({"command": "sed -i s/a/b/ /p/c.rs"})),
            ok("r2", "c2"),
            call("c3", "Edit", json!({"file_path": "/p/d.rs"})),
            event(
                EventType::Error,
                "r3",
                Some("c3"),
                json!({"error": "String to replace not found"}),
            ),
        ];
        assert_eq!(
            touched(&python),
            [
                ("/p/b.rs".to_owned(), FileUse::Write),
                ("/p/c.rs".to_owned(), FileUse::Write)
            ]
        );
    }

    /// A call no result answers (Cursor's read, a call an interrupt cut off) touched its file;
    /// once a result says it failed, it touched nothing.
    #[test]
    fn a_call_no_result_answers_touched_its_file_until_one_says_it_failed() {
        let call = |id: &str, tool: &str, path: &str| {
            event(
                EventType::ToolCall,
                id,
                None,
                json!({"tool_name": tool, "arguments": {"file_path": path}}),
            )
        };
        let mut events = vec![
            call("c1", "Read", "/p/a.rs"),
            call("c2", "Write", "/p/b.rs"),
        ];
        assert_eq!(
            touched(&events),
            [
                ("/p/a.rs".to_owned(), FileUse::Read),
                ("/p/b.rs".to_owned(), FileUse::Write)
            ]
        );
        events.push(event(
            EventType::Error,
            "r2",
            Some("c2"),
            json!({"error": "EACCES"}),
        ));
        assert_eq!(touched(&events), [("/p/a.rs".to_owned(), FileUse::Read)]);
    }
}
