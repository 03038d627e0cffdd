//! `why`: the causal chain that led to one event, from its root (a prompt a person typed, or the
//! session's start) to the event, as data.
//!
//! Each step back from an event finds one cause, the nearest that holds:
//! - a result, error or file event answers the call its `parent_id` names (a response, its
//!   request);
//! - a tool call that tries again what failed: the same tool on the same command (by its goal,
//!   so `python -m pytest -x` retries `pytest`), file or arguments, after that attempt's error;
//! - a write of a file the agent read before: the read informed the write;
//! - a call that uses a path an earlier result named whole (a search that found the file);
//! - else the prompt that opened the turn; a step never looks back past it.
//!
//! A cause always comes before what it caused, so a chain ends. A `parent_id` that names a
//! later event, or the event itself (a forged or merged store), is no cause: the step takes what
//! it would without it, and the answer lists the link it did not follow.
//!
//! Event numbers are the events' places in the session's file, from 1, as `replay` numbers
//! them.

use std::collections::HashMap;

use serde::Serialize;

use crate::model::command as outcome;
use crate::model::text::one_line;
use crate::model::view::{ToolCall, View};
use crate::model::{Agent, Event, ToolKind, ToolOutcome};

/// How one event of a chain led to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The next event answers this one (a result its call, a response its request).
    Parent,
    /// This error made the agent try the same thing again.
    Retry,
    /// This event read the file the next one writes.
    ReadWrite,
    /// This result mentioned a path the next call uses.
    PathReference,
    /// This prompt asked for the work.
    Prompt,
    /// Nothing nearer: the session's start.
    SessionStart,
}

/// One event of a chain.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Link {
    /// The event's number, as replay prints it.
    pub event: usize,
    pub event_type: String,
    pub tool: Option<String>,
    /// What the event says, on one line: the command or path, the prompt, the error.
    pub what: Option<String>,
    /// How this event led to the next one of the chain; `None` for the target.
    pub leads_by: Option<Relation>,
    /// The path of a read→write or path-reference link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// The causal chain of one event, root first.
#[derive(Debug, Clone, Serialize)]
pub struct Why {
    /// The event asked about.
    pub target: usize,
    pub chain: Vec<Link>,
    /// The `parent_id` links of the chain's events that were not followed, because they name
    /// the event itself or one after it; empty in a sound session.
    pub parents_not_followed: Vec<NotFollowed>,
}

/// An event of the chain whose `parent_id` names itself or a later event.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NotFollowed {
    /// The event's number.
    pub event: usize,
    /// The number of the event its `parent_id` names (the first of that id).
    pub parent: usize,
}

/// How many characters of a prompt, command or error a link shows.
const WHAT_CHARS: usize = 120;
/// Paths shorter than this are too common to say that a result named them (`.`, `a`).
const MIN_PATH: usize = 3;

/// The causal chain of event `number` (from 1) of a session of `agent`; `None` when the
/// session has no such event.
pub fn why(events: &[Event], agent: Agent, number: usize) -> Option<Why> {
    let target = number.checked_sub(1).filter(|t| *t < events.len())?;
    let walker = Walker::new(events, agent);
    let mut chain = Vec::new();
    let mut parents_not_followed = Vec::new();
    let mut at = Some((target, None, None::<String>));
    while let Some((index, leads_by, path)) = at.take() {
        chain.push(walker.link(index, leads_by, path));
        if let Some(parent) = walker.parent(index).filter(|&p| p >= index) {
            parents_not_followed.push(NotFollowed {
                event: index + 1,
                parent: parent + 1,
            });
        }
        // Each step goes to an earlier event, so the walk ends.
        at = walker
            .cause(index)
            .filter(|(cause, ..)| *cause < index)
            .map(|(cause, relation, path)| (cause, Some(relation), path));
    }
    chain.reverse();
    parents_not_followed.reverse();
    Some(Why {
        target: number,
        chain,
        parents_not_followed,
    })
}

struct Walker<'e> {
    events: &'e [Event],
    agent: Agent,
    by_id: HashMap<&'e str, usize>,
    cwd: Option<String>,
}

impl<'e> Walker<'e> {
    fn new(events: &'e [Event], agent: Agent) -> Walker<'e> {
        let mut by_id = HashMap::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            by_id.entry(e.event_id.as_str()).or_insert(i);
        }
        let cwd = super::phases::session_folder(events, agent);
        Walker {
            events,
            agent,
            by_id,
            cwd,
        }
    }

    fn view(&self, index: usize) -> View<'e> {
        View::of(&self.events[index], self.agent)
    }

    /// The event that event `index`'s `parent_id` names: the first that has that id.
    fn parent(&self, index: usize) -> Option<usize> {
        let id = self.events[index].parent_id.as_deref()?;
        self.by_id.get(id).copied()
    }

    /// The nearest cause of event `index`, how it caused it, and the path that ties them.
    fn cause(&self, index: usize) -> Option<(usize, Relation, Option<String>)> {
        let view = self.view(index);
        match &view {
            View::SessionStart(_) => return None,
            View::Prompt(p) if p.prompt().by_person() => return None,
            _ => {}
        }
        // A parent after the event (or the event itself) caused nothing of it.
        if let Some(parent) = self.parent(index).filter(|&p| p < index) {
            return Some((parent, Relation::Parent, None));
        }
        let call = match &view {
            View::ToolCall(call) => Some(call),
            _ => None,
        };
        let written = match &view {
            View::ToolCall(c) if c.kind == ToolKind::WriteFile => {
                c.path().map(|p| self.relative(p))
            }
            View::FileTouch(t) if t.write => t.path.map(|p| self.relative(p)),
            _ => None,
        };
        let used = call.map(|c| Self::paths_used(c)).unwrap_or_default();
        let attempt = call.map(|c| self.attempt(c));
        for j in (0..index).rev() {
            match self.view(j) {
                View::Prompt(p) if p.prompt().by_person() => {
                    return Some((j, Relation::Prompt, None));
                }
                View::ToolResult(result) => {
                    // A call cancelled because a call beside it failed never ran: running
                    // it later tries it for the first time.
                    if let (Some(attempt), ToolOutcome::Failed) = (&attempt, result.outcome)
                        && !result.cancelled_by_sibling()
                        && self.failed_attempt(j).as_ref() == Some(attempt)
                    {
                        return Some((j, Relation::Retry, None));
                    }
                    if !used.is_empty()
                        && let Some(text) = result.full_text()
                        && let Some(path) = used.iter().find(|p| self.mentions(&text, p))
                    {
                        return Some((j, Relation::PathReference, Some(path.clone())));
                    }
                }
                View::ToolCall(earlier) if earlier.kind == ToolKind::ReadFile => {
                    if let (Some(w), Some(r)) = (&written, earlier.path())
                        && *w == self.relative(r)
                    {
                        return Some((j, Relation::ReadWrite, Some(w.clone())));
                    }
                }
                View::FileTouch(t) if !t.write => {
                    if let (Some(w), Some(r)) = (&written, t.path)
                        && *w == self.relative(r)
                    {
                        return Some((j, Relation::ReadWrite, Some(w.clone())));
                    }
                }
                _ => {}
            }
        }
        let start = self
            .events
            .iter()
            .position(|e| matches!(View::of(e, self.agent), View::SessionStart(_)))
            .unwrap_or(0);
        (start < index).then_some((start, Relation::SessionStart, None))
    }

    /// What attempts at the same thing share: the tool, and the command's goal, the file, or
    /// the arguments.
    fn attempt(&self, call: &ToolCall<'_>) -> (String, String) {
        let subject = if let Some(command) = call.command_line() {
            outcome::goal(&command)
        } else if let Some(path) = call.path() {
            self.relative(path)
        } else {
            call.signature()
        };
        (call.tool.to_owned(), subject)
    }

    /// The attempt whose call the failed result at `index` answers.
    fn failed_attempt(&self, index: usize) -> Option<(String, String)> {
        let call = self.parent(index).filter(|&p| p < index)?;
        match self.view(call) {
            View::ToolCall(c) => Some(self.attempt(&c)),
            _ => None,
        }
    }

    /// The paths a call uses: its file, a search's folder, and words of a command that look
    /// like paths.
    fn paths_used(call: &ToolCall<'_>) -> Vec<String> {
        let mut paths: Vec<String> = Vec::new();
        let mut add = |p: &str| {
            let p = p.trim_matches(|c| matches!(c, '"' | '\'' | ',' | ';' | ')' | '('));
            if p.len() >= MIN_PATH && !p.contains("://") && !paths.iter().any(|q| q == p) {
                paths.push(p.to_owned());
            }
        };
        if let Some(p) = call.path() {
            add(p);
        }
        for key in ["path", "file_path", "notebook_path"] {
            if let Some(p) = call.arg(key) {
                add(p);
            }
        }
        if let Some(command) = call.command_line() {
            for word in command.split_whitespace() {
                if word.contains('/') && !word.starts_with('-') {
                    add(word);
                }
            }
        }
        paths
    }

    /// Whether `text` names `path`, as written or relative to the session's folder, as a whole
    /// path (see [`names_path`]).
    fn mentions(&self, text: &str, path: &str) -> bool {
        if names_path(text, path) {
            return true;
        }
        let relative = self.relative(path);
        relative.len() >= MIN_PATH && relative != path && names_path(text, &relative)
    }

    /// `path` relative to the session's folder when below it.
    fn relative(&self, path: &str) -> String {
        crate::model::attempts::relative_to(self.cwd.as_deref(), path)
    }

    fn link(&self, index: usize, leads_by: Option<Relation>, path: Option<String>) -> Link {
        let event = &self.events[index];
        let (tool, what) = match self.view(index) {
            View::ToolCall(call) => (Some(call.tool.to_owned()), call.gist()),
            View::ToolResult(result) => (
                result.tool.map(str::to_owned),
                match &result.error {
                    Some(error) => Some(error.to_string()),
                    None => result.gist(),
                },
            ),
            View::Prompt(text) | View::Answer(text) => (None, Some(text.text.to_owned())),
            View::FileTouch(touch) => {
                (touch.tool.map(str::to_owned), touch.path.map(str::to_owned))
            }
            View::SessionStart(start) => (None, start.cwd.map(str::to_owned)),
            View::Decision(d) => (None, Some(d.name.into_owned())),
            View::Interrupt(i) => (None, Some(format!("interrupted by {}", i.by_words()))),
            _ => (None, None),
        };
        Link {
            event: index + 1,
            event_type: event.event_type.as_str().to_owned(),
            tool,
            what: what
                .map(|w| one_line(&w, WHAT_CHARS))
                .filter(|w| !w.is_empty()),
            leads_by,
            path,
        }
    }
}

/// Whether `path` stands in `text` as a whole path, not as a piece of a longer one: `a.py` is
/// named by "edit a.py now", "'a.py'" and "a.py:12", not by "metadata.py", "a.py.bak" or
/// "lib/a.py" (another file of that name). A `./` before it is the same path, and so are the
/// `a/` and `b/` of `git diff` ("--- a/src/lib.rs") and the `file://` of a URL; a `.` after it
/// that ends a sentence is no part of it.
fn names_path(text: &str, path: &str) -> bool {
    if path.is_empty() {
        return false;
    }
    text.match_indices(path).any(|(at, _)| {
        let before = &text[..at];
        let before = ["./", "a/", "b/", "file://"]
            .into_iter()
            .filter(|prefix| *prefix != "file://" || path.starts_with('/'))
            .find_map(|prefix| {
                before
                    .strip_suffix(prefix)
                    .filter(|rest| !rest.chars().next_back().is_some_and(in_path))
            })
            .unwrap_or(before);
        let starts = !before.chars().next_back().is_some_and(in_path);
        let after = &text[at + path.len()..];
        // Dots then nothing of a path: the end of a sentence ("see a.py.").
        let ends = !after
            .trim_start_matches('.')
            .chars()
            .next()
            .is_some_and(in_path);
        starts && ends
    })
}

/// Whether `c` can be part of a file's path as results print them.
fn in_path(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EventType;
    use serde_json::{Value, json};

    fn event(n: usize, kind: EventType, parent: Option<usize>, data: Value) -> Event {
        let mut e = Event::new(kind, n as f64, format!("e{n}"), "s".to_owned());
        e.data = data;
        e.parent_id = parent.map(|p| format!("e{p}"));
        e
    }

    /// A prompt (1), a Bash call of `failed` (2) that fails (3), then a Bash call of `next` (4).
    fn failed_then(prompt: &str, failed: &str, next: &str) -> Vec<Event> {
        vec![
            event(1, EventType::UserPrompt, None, json!({"prompt": prompt})),
            event(
                2,
                EventType::ToolCall,
                None,
                json!({"tool_name": "Bash", "arguments": {"command": failed}}),
            ),
            event(
                3,
                EventType::Error,
                Some(2),
                json!({"tool_name": "Bash", "error": "exit 1"}),
            ),
            event(
                4,
                EventType::ToolCall,
                None,
                json!({"tool_name": "Bash", "arguments": {"command": next}}),
            ),
        ]
    }

    fn chain(events: &[Event], n: usize) -> Vec<(usize, Option<Relation>)> {
        why(events, Agent::ClaudeCode, n)
            .unwrap()
            .chain
            .iter()
            .map(|l| (l.event, l.leads_by))
            .collect()
    }

    #[test]
    fn a_retry_goes_back_through_the_error_to_the_prompt() {
        let events = failed_then("run the tests", "pytest tests/", "python -m pytest -x");
        assert_eq!(
            chain(&events, 4),
            vec![
                (1, Some(Relation::Prompt)),
                (2, Some(Relation::Parent)),
                (3, Some(Relation::Retry)),
                (4, None)
            ]
        );
    }

    #[test]
    fn an_unrelated_command_after_an_error_is_no_retry() {
        let events = failed_then("go", "pytest", "git status");
        assert_eq!(
            chain(&events, 4),
            vec![(1, Some(Relation::Prompt)), (4, None)]
        );
    }

    #[test]
    fn a_write_goes_back_to_the_read_of_its_file_and_a_search_that_named_it() {
        let events = vec![
            event(1, EventType::SessionStart, None, json!({"cwd": "/p"})),
            event(2, EventType::UserPrompt, None, json!({"prompt": "fix it"})),
            event(
                3,
                EventType::ToolCall,
                None,
                json!({"tool_name": "Grep", "arguments": {"pattern": "auth"}}),
            ),
            event(
                4,
                EventType::ToolResult,
                Some(3),
                json!({"tool_name": "Grep", "result": "src/auth.py\nsrc/x.py"}),
            ),
            event(
                5,
                EventType::ToolCall,
                None,
                json!({"tool_name": "Read", "arguments": {"file_path": "/p/src/auth.py"}}),
            ),
            event(
                6,
                EventType::ToolResult,
                Some(5),
                json!({"tool_name": "Read", "result": "def login(): ..."}),
            ),
            event(
                7,
                EventType::ToolCall,
                None,
                json!({"tool_name": "Edit", "arguments": {"file_path": "/p/src/auth.py", "old_string": "a", "new_string": "b"}}),
            ),
        ];
        let why = why(&events, Agent::ClaudeCode, 7).unwrap();
        let got: Vec<_> = why.chain.iter().map(|l| (l.event, l.leads_by)).collect();
        assert_eq!(
            got,
            vec![
                (2, Some(Relation::Prompt)),
                (3, Some(Relation::Parent)),
                (4, Some(Relation::PathReference)),
                (5, Some(Relation::ReadWrite)),
                (7, None)
            ]
        );
        assert_eq!(why.chain[3].path.as_deref(), Some("src/auth.py"));
    }

    #[test]
    fn a_path_is_named_only_where_it_stands_whole() {
        for text in [
            "a.py",
            "edit a.py now",
            "'a.py'",
            "\"a.py\",",
            "a.py:12: def f()",
            "see ./a.py.",
            "(a.py)",
        ] {
            assert!(names_path(text, "a.py"), "{text}");
        }
        for text in [
            "metadata.py",
            "a.py.bak",
            "lib/a.py",
            "../a.py",
            "a.pyc",
            "a.py/b",
            "a.py-old",
        ] {
            assert!(!names_path(text, "a.py"), "{text}");
        }
        assert!(names_path("x\nsrc/lib.rs:12\n", "src/lib.rs"));
        assert!(names_path(
            "diff --git a/src/lib.rs b/src/lib.rs",
            "src/lib.rs"
        ));
        assert!(names_path("+++ b/src/lib.rs\n", "src/lib.rs"));
        assert!(names_path("see file:///w/a.py", "/w/a.py"));
        assert!(!names_path("lib/src/lib.rs", "src/lib.rs"));
        assert!(!names_path("data/src/lib.rs", "src/lib.rs"));
        assert!(!names_path("/w/a.pyx", "/w/a.py"));
        assert!(!names_path("anything", ""));
    }

    #[test]
    fn a_parent_loop_is_cut_where_the_parent_comes_later_and_named() {
        let events = vec![
            event(1, EventType::SessionStart, None, json!({})),
            event(2, EventType::UserPrompt, None, json!({"prompt": "go"})),
            event(
                3,
                EventType::ToolCall,
                Some(4),
                json!({"tool_name": "Bash", "arguments": {"command": "make"}}),
            ),
            event(
                4,
                EventType::ToolResult,
                Some(3),
                json!({"tool_name": "Bash", "result": "ok"}),
            ),
        ];
        let found = why(&events, Agent::ClaudeCode, 4).unwrap();
        let got: Vec<_> = found.chain.iter().map(|l| (l.event, l.leads_by)).collect();
        assert_eq!(
            got,
            vec![
                (2, Some(Relation::Prompt)),
                (3, Some(Relation::Parent)),
                (4, None)
            ]
        );
        assert_eq!(
            found.parents_not_followed,
            vec![NotFollowed {
                event: 3,
                parent: 4
            }]
        );
    }

    #[test]
    fn no_prompt_leads_back_to_the_start_and_out_of_range_is_none() {
        let events = vec![
            event(1, EventType::SessionStart, None, json!({})),
            event(2, EventType::AssistantResponse, None, json!({"text": "hi"})),
        ];
        assert_eq!(
            chain(&events, 2),
            vec![(1, Some(Relation::SessionStart)), (2, None)]
        );
        assert_eq!(chain(&events, 1), vec![(1, None)]);
        assert!(why(&events, Agent::ClaudeCode, 0).is_none());
        assert!(why(&events, Agent::ClaudeCode, 3).is_none());
    }
}
