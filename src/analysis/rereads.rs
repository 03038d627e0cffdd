//! Reads of a file the agent had already read and not changed since: the one meaning of a
//! "redundant read" that `lint`, `compare` and `optimize` share.
//!
//! A read is a file tool's call, or a file the recorders found a shell line reading (`cat f`):
//! the `file_read` event stands for its call, a call stands alone when no such event followed
//! it. A read is numbered by its call, as `replay` shows it (a file tool's `file_read` is
//! folded into its call's line there), else by its file event when no call is known. Two reads are the same when they take the same lines (a file tool's range arguments) or
//! run the same shell line: reading the next hundred lines, or `grep` after `cat`, is new. A
//! write of the file (a file tool's call or a file the recorders name written) starts afresh.
//! A file tool's call that failed or was refused (a file that does not exist, an edit whose
//! text was not found) read or wrote nothing: it is no read, and starts nothing afresh.
//! A path is one however spelt, whole or below the session's folder. A running command's
//! output, read again as it grows, is polling, not a reread. Two calls of one read (Cursor's
//! `preToolUse` and `beforeReadFile`, `model::touches`) are one read.

use std::collections::{HashMap, HashSet};

use crate::model::links::Links;
use crate::model::shell_files::{self, Folder};
use crate::model::touches::Touches;
use crate::model::view::{ToolCall, View};
use crate::model::{Agent, Event, EventType, ToolKind, ToolOutcome, tools};

/// The arguments that choose which lines of a file a file tool reads.
const RANGE_ARGUMENTS: [&str; 5] = ["offset", "limit", "start_line", "end_line", "view_range"];

/// One way a file was read again and again with no change between.
#[derive(Debug, Clone, PartialEq)]
pub struct Rereads {
    /// The path as the session first spelt it.
    pub path: String,
    /// The longest run of the same read with no write of the file between: event numbers as
    /// replay numbers them (event N is `events[N - 1]`), two or more.
    pub events: Vec<usize>,
    /// Every read that repeated one before it since the file's last write.
    pub repeats: usize,
}

/// Each file read more than once with no change between, in the order first read; a file read
/// several ways (other lines, other commands) appears once, with its longest run.
pub fn of(events: &[Event], agent: Agent) -> Vec<Rereads> {
    let cwd = super::phases::session_folder(events, agent);
    let key = |path: &str| relative_to(cwd.as_deref(), path);
    // Read calls a file event stands for, with the lines they took.
    let echoed: HashSet<&str> = events
        .iter()
        .filter(|e| e.event_type == EventType::FileRead)
        .filter_map(|e| e.parent_id.as_deref())
        .collect();
    let touched_nothing = file_calls_that_failed(events, agent);
    let mut call_reads: HashMap<&str, String> = HashMap::new();
    let mut call_numbers: HashMap<&str, usize> = HashMap::new();
    let mut files: Vec<File> = Vec::new();
    let mut slot_of: HashMap<String, usize> = HashMap::new();
    // The file of the last read counted, when a call stood for it: a file event without a
    // parent that follows it for the same file echoes it.
    let mut last_call_read: Option<String> = None;
    // A call that repeats another's read (Cursor's `beforeReadFile` beside its `preToolUse`),
    // and the file events of such a call, are that read: counted once, as every view counts
    // files ([`Touches::repeats`]).
    let mut touches = Touches::default();
    let mut repeats: HashSet<&str> = HashSet::new();
    for (i, event) in events.iter().enumerate() {
        let number = i + 1;
        // The number the read is named by: its call's.
        let mut read_at = number;
        touches.observe_owed(event, agent);
        if touches.repeats(&event.event_id) {
            repeats.insert(event.event_id.as_str());
            continue;
        }
        if event.event_type == EventType::FileRead
            && event
                .parent_id
                .as_deref()
                .is_some_and(|p| repeats.contains(p))
        {
            continue;
        }
        let (path, way, write) = match View::of(event, agent) {
            View::ToolCall(_) if touched_nothing.contains(event.event_id.as_str()) => {
                last_call_read = None;
                continue;
            }
            View::FileTouch(_)
                if event
                    .parent_id
                    .as_deref()
                    .is_some_and(|p| touched_nothing.contains(p)) =>
            {
                continue;
            }
            View::ToolCall(call) if call.kind == ToolKind::WriteFile => {
                for path in call.files() {
                    if let Some(&slot) = slot_of.get(&key(path)) {
                        files[slot].written();
                    }
                }
                for path in written_by(&call, cwd.as_deref()) {
                    if let Some(&slot) = slot_of.get(&key(&path)) {
                        files[slot].written();
                    }
                }
                continue;
            }
            View::ToolCall(call) => {
                // A line that writes a file for certain (`sed -i`, `rm`) changes it, also where
                // no recorder named the file (a session the Python tool recorded).
                for path in written_by(&call, cwd.as_deref()) {
                    if let Some(&slot) = slot_of.get(&key(&path)) {
                        files[slot].written();
                    }
                }
                let way = way_of(&call);
                call_reads.insert(event.event_id.as_str(), way.clone());
                call_numbers.insert(event.event_id.as_str(), number);
                last_call_read = None;
                match call.path() {
                    Some(path)
                        if call.kind == ToolKind::ReadFile
                            && !echoed.contains(event.event_id.as_str()) =>
                    {
                        (path, way, false)
                    }
                    _ => continue,
                }
            }
            View::FileTouch(touch) => {
                let Some(path) = touch.path else { continue };
                let parent = event.parent_id.as_deref();
                let way = parent
                    .and_then(|p| call_reads.get(p).cloned())
                    .unwrap_or_default();
                if !touch.write
                    && parent.is_none()
                    && last_call_read
                        .as_ref()
                        .is_some_and(|called| *called == key(path))
                {
                    // The same read as the call just before it, counted with its call.
                    last_call_read = None;
                    continue;
                }
                read_at = parent
                    .and_then(|p| call_numbers.get(p).copied())
                    .unwrap_or(number);
                (path, way, touch.write)
            }
            _ => continue,
        };
        last_call_read = None;
        if tools::is_background_output(path) {
            continue;
        }
        let file = key(path);
        if write {
            if let Some(&slot) = slot_of.get(&file) {
                files[slot].written();
            }
            continue;
        }
        let slot = *slot_of.entry(file.clone()).or_insert_with(|| {
            files.push(File::new(path));
            files.len() - 1
        });
        files[slot].read(&way, read_at);
        if event.event_type == EventType::ToolCall {
            last_call_read = Some(file);
        }
    }
    files
        .into_iter()
        .filter(|f| f.longest.len() >= 2)
        .map(|f| Rereads {
            path: f.path,
            events: f.longest,
            repeats: f.repeats,
        })
        .collect()
}

/// The file tools' calls (reads and writes) that failed or were refused: they read or wrote
/// nothing. A call is judged by the result that answers it ([`Links`]).
fn file_calls_that_failed(events: &[Event], agent: Agent) -> HashSet<&str> {
    let mut links = Links::default();
    let mut file_calls: HashSet<&str> = HashSet::new();
    let mut failed = HashSet::new();
    for event in events {
        let parent = links.parent(event);
        match View::of(event, agent) {
            View::ToolCall(call)
                if matches!(call.kind, ToolKind::ReadFile | ToolKind::WriteFile) =>
            {
                file_calls.insert(event.event_id.as_str());
            }
            View::ToolResult(result) if result.outcome != ToolOutcome::Ok => {
                if let Some(call) = parent.and_then(|p| file_calls.take(p.as_ref())) {
                    failed.insert(call);
                }
            }
            _ => {}
        }
    }
    failed
}

/// One file's reads so far.
struct File {
    path: String,
    /// Per way of reading it, the reads since the file's last write.
    runs: Vec<(String, Vec<usize>)>,
    longest: Vec<usize>,
    repeats: usize,
}

impl File {
    fn new(path: &str) -> File {
        File {
            path: path.to_owned(),
            runs: Vec::new(),
            longest: Vec::new(),
            repeats: 0,
        }
    }

    fn read(&mut self, way: &str, number: usize) {
        let slot = self
            .runs
            .iter()
            .position(|(w, _)| w == way)
            .unwrap_or_else(|| {
                self.runs.push((way.to_owned(), Vec::new()));
                self.runs.len() - 1
            });
        let run = &mut self.runs[slot].1;
        if !run.is_empty() {
            self.repeats += 1;
        }
        run.push(number);
        if run.len() > self.longest.len() {
            self.longest.clone_from(run);
        }
    }

    fn written(&mut self) {
        self.runs.clear();
    }
}

/// The files a call changes for certain (writes, deletes or moves: a patch's, a shell line's),
/// named as a recorder would name them from the session's folder.
fn written_by(call: &ToolCall<'_>, cwd: Option<&str>) -> Vec<String> {
    let folder = cwd.map_or(Folder::Unknown, Folder::Start);
    shell_files::of_tool_call(call, folder)
        .into_iter()
        .filter(|f| f.file_use.changes())
        .map(|f| f.path)
        .collect()
}

/// Which part of a file a read takes: a file tool's range arguments, or a shell line whole.
fn way_of(call: &ToolCall<'_>) -> String {
    if let Some(line) = call.command_line() {
        return line.into_owned();
    }
    RANGE_ARGUMENTS
        .iter()
        .filter_map(|k| call.arguments.get(*k).map(|v| format!("{k}={v}")))
        .collect::<Vec<_>>()
        .join(",")
}

/// A path below the session's folder as it is named from there (`./` dropped), so that a file
/// spelt whole and relative is one.
fn relative_to(cwd: Option<&str>, path: &str) -> String {
    crate::model::attempts::relative_to(cwd, path.strip_prefix("./").unwrap_or(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn event(n: usize, kind: EventType, parent: Option<usize>, data: Value) -> Event {
        let mut e = Event::new(kind, n as f64, format!("e{n}"), "s".into());
        e.parent_id = parent.map(|p| format!("e{p}"));
        e.data = data;
        e
    }

    fn read(n: usize, path: &str) -> Event {
        let arguments = json!({ "file_path": path });
        event(
            n,
            EventType::ToolCall,
            None,
            json!({"tool_name": "Read", "arguments": arguments}),
        )
    }

    fn touch(n: usize, kind: EventType, parent: Option<usize>, path: &str) -> Event {
        event(n, kind, parent, json!({ "path": path }))
    }

    #[test]
    fn a_file_event_stands_for_its_call_linked_or_right_after_it_named_by_the_call() {
        let events = [
            read(1, "/p/a.rs"),
            touch(2, EventType::FileRead, Some(1), "/p/a.rs"),
            // A recorder that links no file event to its call.
            read(3, "/p/a.rs"),
            touch(4, EventType::FileRead, None, "/p/a.rs"),
            // A call with no file event.
            read(5, "/p/a.rs"),
        ];
        let found = of(&events, Agent::ClaudeCode);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, "/p/a.rs");
        assert_eq!(found[0].events, [1, 3, 5]);
        assert_eq!(found[0].repeats, 2);
    }

    #[test]
    fn a_file_call_that_failed_reads_and_writes_nothing() {
        let failed = |n: usize, call: usize, message: &str| {
            event(
                n,
                EventType::Error,
                Some(call),
                json!({"tool_name": "Read", "error": message}),
            )
        };
        let edit = event(
            5,
            EventType::ToolCall,
            None,
            json!({"tool_name": "Edit",
                   "arguments": {"file_path": "/p/a.rs", "old_string": "x", "new_string": "y"}}),
        );
        let events = [
            read(1, "/p/missing.rs"),
            failed(2, 1, "File does not exist."),
            read(3, "/p/a.rs"),
            read(4, "/p/a.rs"),
            edit,
            failed(6, 5, "String to replace not found in file."),
            read(7, "/p/a.rs"),
            read(8, "/p/missing.rs"),
            failed(9, 8, "File does not exist."),
        ];
        let found = of(&events, Agent::ClaudeCode);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (
                found[0].path.as_str(),
                found[0].events.as_slice(),
                found[0].repeats
            ),
            ("/p/a.rs", &[3, 4, 7][..], 2)
        );
    }

    #[test]
    fn a_write_starts_afresh_and_polling_is_no_reread() {
        let output = "/tmp/claude-1000/-p/tasks/b1.output";
        let events = [
            read(1, "/p/a.rs"),
            read(2, "/p/a.rs"),
            touch(3, EventType::FileWrite, None, "/p/a.rs"),
            read(4, "/p/a.rs"),
            read(5, output),
            read(6, output),
        ];
        let found = of(&events, Agent::ClaudeCode);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].events.as_slice(), found[0].repeats),
            (&[1, 2][..], 1)
        );
    }
}
