//! The model of the HTML replay and share pages: a session and its subagents as replay lines
//! (built by [`super::replay_line::Story`], never from raw event keys), each event's data once,
//! the spend over time, annotations and, for `share`, a summary. `render::html` embeds it as
//! JSON; the page computes everything else (filters, search, the timeline) from it.
//!
//! The JSON is compact because a 100,000-event session must stay within twice the size of its
//! `events.ndjson`: a line is an array (see [`PageLine`]), tool names are numbers into
//! [`Page::tools`], offsets are whole milliseconds, and a line's one-line detail is cut to
//! [`DETAIL_CHARS`] (the whole event is in the line's events, shown on expand).

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use super::cost::CostReport;
use super::phases::Phases;
use super::replay_line::{
    DetailKind, LineKind, Numbered, ReplayHeader, ReplayLine, Story, StoryOptions, origin_of,
};
use crate::model::annotation::{Annotation, EventNumbers};
use crate::model::meta::believed_time;
use crate::model::text::one_line;
use crate::model::{Agent, EventType, Money, SessionMeta};

/// How many characters of a line's detail the row shows; the rest is in its events.
pub const DETAIL_CHARS: usize = 240;

/// Which page it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PageKind {
    /// `replay --format html`: the session as recorded.
    Replay,
    /// `share`: the same page with a summary first, secrets redacted.
    Share,
}

/// One session of the page: the root first, then its subagents in the order they are shown.
#[derive(Debug, Clone, Serialize)]
pub struct PageSession {
    pub id: String,
    pub agent: String,
    /// 0 for the session replayed, 1 for its subagents, …
    pub depth: usize,
    /// The session this one is nested under (its index here).
    pub parent: Option<usize>,
    pub command: String,
}

/// One event's data, once: `[number, event_type, offset_ms, data]`.
#[derive(Debug, Clone, Serialize)]
pub struct PageEvent(pub usize, pub String, pub i64, pub Value);

/// One line, as an array: `[session, number, offset_ms, kind, tool, name, detail, detail_kind,
/// duration_ms, events]`. `tool` indexes [`Page::tools`]; `events` are the events the line
/// stands for, its own first.
#[derive(Debug, Clone, Serialize)]
pub struct PageLine(
    pub usize,
    pub usize,
    pub i64,
    pub LineKind,
    pub Option<usize>,
    pub Option<String>,
    pub Option<String>,
    pub DetailKind,
    pub Option<f64>,
    pub Vec<PageEvent>,
);

/// An annotation placed on the page.
#[derive(Debug, Clone, Serialize)]
pub struct PageAnnotation {
    pub session: usize,
    /// The annotated event's number, when it is among the session's events.
    pub number: Option<usize>,
    pub offset_ms: i64,
    pub label: String,
    pub note: String,
    pub author: String,
    pub bookmark: bool,
}

/// What `share` says first: what happened, what it cost, what it changed, how it ended.
#[derive(Debug, Clone, Serialize)]
pub struct ShareSummary {
    pub phases: Vec<SummaryPhase>,
    pub files_changed: Vec<String>,
    pub outcome: Outcome,
    pub tool_calls: u64,
    /// Calls that failed, and the errors of no call (`turn_errors`), as `explain` counts them.
    pub errors: u64,
    /// Of `errors`, those of no call (an API error that ended a turn): the service's.
    pub turn_errors: u64,
    pub rejections: u64,
    pub retries: u64,
    pub wasted_s: f64,
    pub cost: Option<SummaryCost>,
}

/// One phase, as explain names it.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryPhase {
    pub label: String,
    pub start_s: f64,
    pub end_s: f64,
    pub failed: bool,
    pub ran: Vec<String>,
    pub wrote: usize,
}

/// What the session cost, by model.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryCost {
    pub total_usd: f64,
    pub estimated: bool,
    pub wasted_usd: f64,
    pub models: Vec<(String, f64)>,
    /// Models whose usage has no known price, in name order: the figures count them at $0.
    pub unpriced_models: Vec<String>,
}

/// How the session ended: its last test run, build or check.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// `passed`, `failed`, or `unknown` when nothing checked the work.
    pub verdict: &'static str,
    /// The command that decided it, and why.
    pub by: Option<String>,
    pub note: Option<String>,
    /// The session had not ended when the page was made.
    pub running: bool,
}

/// The whole page model.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub kind: PageKind,
    pub header: ReplayHeader,
    pub summary: Option<ShareSummary>,
    /// Secrets were redacted before the page was built.
    pub redacted: bool,
    /// Names (user, host, folders, repository) were replaced before the page was built
    /// (`share --anonymize`).
    pub anonymized: bool,
    pub sessions: Vec<PageSession>,
    pub tools: Vec<String>,
    pub lines: Vec<PageLine>,
    /// `[offset_ms, usd]`: what was spent when, over every session of the page.
    pub spend: Vec<(i64, f64)>,
    pub annotations: Vec<PageAnnotation>,
    /// Where offsets count from (Unix seconds).
    pub origin: f64,
    /// What the cost leaves out, a sentence each, in the words the terminal says it in: the
    /// responses whose usage no response can have, the subagents that could not be read.
    pub cost_notes: Vec<String>,
}

/// One session handed to [`build`]: its metadata, events, annotations and spend over time.
#[derive(Debug, Clone)]
pub struct SessionInput {
    pub meta: SessionMeta,
    pub events: Vec<Numbered>,
    pub annotations: Vec<Annotation>,
    /// `(Unix seconds, money)`, from [`super::cost::spend_over_time`].
    pub spend: Vec<(f64, Money)>,
    /// The session's subagents, in start order.
    pub children: Vec<SessionInput>,
}

/// Builds the page of `root` (and its subagents, nested under the calls that spawned them).
pub fn build(
    kind: PageKind,
    header: ReplayHeader,
    summary: Option<ShareSummary>,
    redacted: bool,
    root: SessionInput,
) -> Page {
    let origin = origin_of(&root.meta, &root.events);
    let mut builder = Builder {
        origin,
        page: Page {
            kind,
            header,
            summary,
            redacted,
            anonymized: false,
            sessions: Vec::new(),
            tools: Vec::new(),
            lines: Vec::new(),
            spend: Vec::new(),
            annotations: Vec::new(),
            origin,
            cost_notes: Vec::new(),
        },
        tools: HashMap::new(),
    };
    builder.sessions(root);
    builder.page.spend.sort_by_key(|s| s.0);
    builder.page
}

struct Builder {
    origin: f64,
    page: Page,
    tools: HashMap<String, usize>,
}

impl Builder {
    fn ms(&self, timestamp: f64) -> i64 {
        // Whole milliseconds are plenty for a timeline and keep the JSON short.
        #[expect(clippy::cast_possible_truncation, reason = "offsets are far below i64")]
        let ms = ((timestamp - self.origin) * 1000.0).round() as i64;
        ms
    }

    fn tool(&mut self, name: String) -> usize {
        let next = self.tools.len();
        *self.tools.entry(name.clone()).or_insert_with(|| {
            self.page.tools.push(name);
            next
        })
    }

    /// Adds `root` and its subagents, each subagent's lines right after the line of the call
    /// that spawned it. The sessions being added are kept on a stack of their own, so that a
    /// chain of subagents thousands deep never overflows the thread's stack.
    fn sessions(&mut self, root: SessionInput) {
        let mut open = vec![self.open(root, None, 0)];
        while let Some(top) = open.last_mut() {
            if let Some(child) = top.spawned.pop() {
                let (parent, depth) = (top.index, top.depth + 1);
                let child = self.open(child, Some(parent), depth);
                open.push(child);
                continue;
            }
            let Some(line) = top.lines.next() else {
                if top.children.is_empty() {
                    open.pop();
                } else {
                    // Subagents whose spawning call was not recorded come after the
                    // session's lines.
                    top.spawned = std::mem::take(&mut top.children);
                    top.spawned.reverse();
                }
                continue;
            };
            let is_call = line.event_type == EventType::ToolCall.as_str();
            let event_id = line.event_id.clone();
            self.line(top, line);
            if is_call {
                // Subagents spawned by this call, right under it.
                let (mut mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut top.children)
                    .into_iter()
                    .partition(|c| c.meta.parent_event_id.as_deref() == Some(event_id.as_str()));
                top.children = rest;
                mine.reverse();
                top.spawned = mine;
            }
        }
    }

    /// Adds session `input` to the page, with its spend and annotations, and returns it open
    /// for its lines.
    fn open(&mut self, input: SessionInput, parent: Option<usize>, depth: usize) -> Open {
        let index = self.page.sessions.len();
        let SessionInput {
            meta,
            events,
            annotations,
            spend,
            children,
        } = input;
        let agent = Agent::from_name(&meta.agent_name);
        let session_origin = origin_of(&meta, &events);
        self.page.sessions.push(PageSession {
            id: meta.session_id.clone(),
            agent: meta.agent_name.clone(),
            depth,
            parent,
            command: meta.command.clone(),
        });
        for (at, money) in spend {
            let ms = self.ms(at);
            self.page.spend.push((ms, money.usd()));
        }
        let numbers =
            EventNumbers::new(events.iter().map(|n| (n.number, n.event.event_id.as_str())));
        for a in annotations {
            let number = numbers.of(&a);
            let offset_ms = self.ms(session_origin + a.offset_seconds);
            self.page.annotations.push(PageAnnotation {
                session: index,
                number,
                offset_ms,
                label: a.label,
                note: a.note,
                author: a.author,
                bookmark: a.bookmark,
            });
        }
        let options = StoryOptions {
            thinking: true,
            llm: false,
            filter: None,
        };
        let mut story = Story::new(agent, meta.believed_start(), options);
        let lines = story.lines(events.clone());
        // Events by number, taken as their lines claim them (each event is shown once).
        let mut by_number: Vec<Option<crate::model::Event>> = Vec::new();
        for n in events {
            if by_number.len() < n.number + 1 {
                by_number.resize(n.number + 1, None);
            }
            by_number[n.number] = Some(n.event);
        }
        Open {
            index,
            depth,
            session_origin,
            lines: lines.into_iter(),
            by_number,
            spawned: Vec::new(),
            children,
            last_offset: 0.0,
        }
    }

    /// Adds one line of session `open`, with the events it stands for.
    fn line(&mut self, open: &mut Open, line: ReplayLine) {
        // An event at an unknown time is drawn where the line before it is.
        let at = open.session_origin + line.offset_s.unwrap_or(open.last_offset);
        open.last_offset = line.offset_s.unwrap_or(open.last_offset);
        let tool = line.tool.map(|t| self.tool(t));
        let mut shown = Vec::with_capacity(1 + line.folded.len());
        for number in std::iter::once(line.number).chain(line.folded.iter().copied()) {
            if let Some(event) = open.by_number.get_mut(number).and_then(Option::take) {
                // An event at an unknown time is at its line's: its own stamp (`1e308`) gave
                // i64::MAX milliseconds.
                let ms = self.ms(believed_time(event.timestamp).unwrap_or(at));
                shown.push(PageEvent(
                    number,
                    event.event_type.as_str().to_owned(),
                    ms,
                    event.data,
                ));
            }
        }
        self.page.lines.push(PageLine(
            open.index,
            line.number,
            self.ms(at),
            line.kind,
            tool,
            line.name,
            line.detail.map(cut),
            line.detail_kind,
            line.duration_ms,
            shown,
        ));
    }
}

/// A session of the page whose lines are being added.
struct Open {
    index: usize,
    depth: usize,
    session_origin: f64,
    lines: std::vec::IntoIter<ReplayLine>,
    /// Its events by number, each taken by the line that shows it.
    by_number: Vec<Option<crate::model::Event>>,
    /// Subagents to add before its next line, the next one last.
    spawned: Vec<SessionInput>,
    /// Its subagents not yet added, in start order.
    children: Vec<SessionInput>,
    /// The offset of its last line at a known time, where a line at an unknown time is drawn.
    last_offset: f64,
}

/// A detail cut to [`DETAIL_CHARS`] characters, with an ellipsis when cut.
fn cut(text: String) -> String {
    match text.char_indices().nth(DETAIL_CHARS) {
        Some((at, _)) => {
            let mut short = text[..at].to_owned();
            short.push('…');
            short
        }
        None => text,
    }
}

/// How much of a command the summary shows, as `explain` shows it: a heredoc that wrote a
/// file went into the page whole, once more for the summary, and took a line of its own.
const COMMAND_CHARS: usize = 100;

/// The summary `share` shows from a session's phases and cost.
pub fn summary(phases: &Phases, cost: Option<&CostReport>, running: bool) -> ShareSummary {
    let last_gate = phases
        .phases
        .iter()
        .flat_map(|p| &p.ran)
        .rfind(|r| r.purpose.gates() && r.verdict.is_some());
    let outcome = match last_gate {
        Some(ran) => Outcome {
            verdict: if ran.failed { "failed" } else { "passed" },
            by: Some(one_line(&ran.command, COMMAND_CHARS)),
            note: ran.note.clone(),
            running,
        },
        None => Outcome {
            verdict: "unknown",
            by: None,
            note: None,
            running,
        },
    };
    ShareSummary {
        phases: phases
            .phases
            .iter()
            .map(|p| SummaryPhase {
                label: p.label.clone(),
                start_s: p.start_s,
                end_s: p.end_s,
                failed: p.failed,
                ran: p
                    .ran
                    .iter()
                    .map(|r| one_line(&r.command, COMMAND_CHARS))
                    .collect(),
                wrote: p.wrote.len(),
            })
            .collect(),
        files_changed: phases
            .written_files()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        outcome,
        tool_calls: phases.tool_calls,
        errors: phases.errors,
        turn_errors: phases.turn_errors.len() as u64,
        rejections: phases.rejections,
        retries: phases.retries,
        wasted_s: phases.wasted_s,
        cost: cost.map(|c| SummaryCost {
            total_usd: c.cost_usd,
            estimated: c.estimated,
            wasted_usd: c.wasted_usd,
            models: c
                .models
                .iter()
                .map(|m| (m.model.clone(), m.cost_usd))
                .collect(),
            unpriced_models: {
                let mut names = c.unpriced.clone();
                names.sort_unstable();
                names
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::replay_line::ErrorsApart;
    use crate::analysis::replay_line::tests::numbered;
    use serde_json::json;

    fn input(id: &str, start: f64, events: Vec<Numbered>) -> SessionInput {
        SessionInput {
            meta: SessionMeta::new(id, start),
            events,
            annotations: Vec::new(),
            spend: Vec::new(),
            children: Vec::new(),
        }
    }

    fn header(meta: &SessionMeta) -> ReplayHeader {
        super::super::replay_line::header(
            meta,
            ErrorsApart::default(),
            Agent::ClaudeCode,
            &[],
            None,
        )
    }

    #[test]
    fn every_event_is_embedded_once_and_subagents_sit_under_their_call() {
        let mut root = input(
            "root",
            100.0,
            vec![
                numbered(
                    1,
                    EventType::UserPrompt,
                    100.0,
                    None,
                    json!({"prompt": "go"}),
                ),
                numbered(
                    2,
                    EventType::ToolCall,
                    101.0,
                    None,
                    json!({"tool_name": "Task", "arguments": {"prompt": "look"}}),
                ),
                numbered(
                    3,
                    EventType::ToolResult,
                    109.0,
                    Some(2),
                    json!({"tool_name": "Task", "result": "done"}),
                ),
                numbered(
                    4,
                    EventType::ToolCall,
                    110.0,
                    None,
                    json!({"tool_name": "Read", "arguments": {"file_path": "/a"}}),
                ),
                numbered(
                    5,
                    EventType::ToolResult,
                    110.5,
                    Some(4),
                    json!({"tool_name": "Read", "result": "x"}),
                ),
            ],
        );
        let mut child = input(
            "child",
            102.0,
            vec![numbered(
                1,
                EventType::ToolCall,
                103.0,
                None,
                json!({"tool_name": "Bash", "arguments": {"command": "ls"}}),
            )],
        );
        child.meta.parent_session_id = Some("root".into());
        child.meta.parent_event_id = Some("e2".into());
        root.children.push(child);
        let head = header(&root.meta);
        let page = build(PageKind::Replay, head, None, false, root);
        let shown: Vec<(usize, usize, i64)> = page.lines.iter().map(|l| (l.0, l.1, l.2)).collect();
        // The child's call (3 s after the root's start) right after the spawning call.
        assert_eq!(
            shown,
            vec![
                (0, 1, 0),
                (0, 2, 1000),
                (1, 1, 3000),
                (0, 3, 9000),
                (0, 4, 10000)
            ]
        );
        let embedded: usize = page.lines.iter().map(|l| l.9.len()).sum();
        assert_eq!(embedded, 6);
        assert_eq!(page.sessions[1].parent, Some(0));
        assert_eq!(page.tools, vec!["Task", "Bash", "Read"]);
        // The read folded its result: one line, two events.
        assert_eq!(page.lines[4].9.len(), 2);
    }

    #[test]
    fn long_details_are_cut_on_a_character_boundary() {
        let long = "é".repeat(DETAIL_CHARS + 5);
        let short = cut(long);
        assert_eq!(short.chars().count(), DETAIL_CHARS + 1);
        assert!(short.ends_with('…'));
        assert_eq!(cut("ab".into()), "ab");
    }
}
