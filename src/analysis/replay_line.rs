//! What replay shows of a session, as data: one line per event ([`replay_line`]), the story
//! that orders and folds them ([`Story`]), and the header ([`header`]). Replay, the coming
//! `watch`, the HTML replay and the MCP server compute it here and only differ in how they
//! show it (`render::replay` prints it on a terminal).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::cost::CostReport;
use crate::model::links::Links;
use crate::model::meta::{Believed, believed_duration_ms, believed_time, placed_time};
use crate::model::prompt::PromptKind;
use crate::model::view::{LlmResponse, ToolCall, View};
use crate::model::{
    Agent, Event, EventHead, EventType, RefusedBy, SessionMeta, ToolKind, ToolOutcome,
};

/// What kind of line it is: picks the icon and colour a renderer shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    SessionStart,
    SessionEnd,
    /// What a person wrote: typed words, or a command (`/compact`, `! ls`).
    Prompt,
    /// The person (or, for an interrupt that names another, whoever `name` says) stopped the
    /// agent.
    Interrupted,
    /// Text the agent or its tools put in the user's turn (a command's output, a
    /// notification).
    Note,
    Answer,
    /// The model's reasoning.
    Thinking,
    /// The conversation was compacted into a summary.
    Compaction,
    ToolCall,
    ToolResult,
    Error,
    /// A call the user refused or stopped: no failure.
    Rejected,
    FileRead,
    FileWrite,
    LlmRequest,
    LlmResponse,
    Decision,
    Subagent,
    Other,
}

/// How the detail reads, so a renderer can shorten it sensibly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DetailKind {
    /// Words a person or the model wrote: shown quoted, markdown stripped.
    Quote,
    /// A path, whose end says more than its start.
    Path,
    /// Anything else on one line.
    Text,
    /// Secondary information, shown muted.
    Muted,
    /// An error message.
    Error,
}

/// One event, as a replay line shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayLine {
    /// The event's number in its session (its place in the file), from 1.
    pub number: usize,
    pub event_id: String,
    /// Seconds from the session's start; `None` (unknown) for an event stamped at a time no
    /// session can have ([`believed_time`]), which was shown 5124095576030431 hours in.
    pub offset_s: Option<f64>,
    pub kind: LineKind,
    /// The event type as written in the store.
    pub event_type: String,
    pub tool: Option<String>,
    /// For a decision, what happened (the hook event, the MCP method …); for a call a skill's
    /// inline shell command made, the skill (empty when the agent named none); for an
    /// interrupt, who sent it, in words (`the user`, `another session`, `the system`), which
    /// every view shows as `interrupted by <name>`.
    pub name: Option<String>,
    /// For a refused call, who refused it when the user did not (`auto_mode`: Claude Code's
    /// classifier, which asks no one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_by: Option<RefusedBy>,
    /// The line answers an earlier request (an MCP response).
    pub answered: bool,
    pub duration_ms: Option<f64>,
    /// The meaningful argument, the result's gist, the text, or the usage, in full.
    pub detail: Option<String>,
    pub detail_kind: DetailKind,
    /// The numbers of other events this line stands for too: a call's result and file
    /// event, a response's request.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub folded: Vec<usize>,
}

/// Who interrupted a turn when the agent wrote only that it was interrupted.
pub const BY_THE_USER: &str = "the user";

/// The line for `event`, the `number`th of a session of `agent` that began at `origin`.
pub fn replay_line(event: &Event, agent: Agent, number: usize, origin: f64) -> ReplayLine {
    let mut line = ReplayLine {
        number,
        event_id: event.event_id.clone(),
        offset_s: believed_time(event.timestamp).map(|t| t - origin),
        kind: LineKind::Other,
        event_type: event.event_type.as_str().to_owned(),
        tool: None,
        name: None,
        refused_by: None,
        answered: false,
        duration_ms: None,
        detail: None,
        detail_kind: DetailKind::Text,
        folded: Vec::new(),
    };
    let owned = |s: Option<&str>| s.map(str::to_owned);
    match View::of(event, agent) {
        View::SessionStart(start) => {
            line.kind = LineKind::SessionStart;
            line.detail = owned(start.source);
            line.detail_kind = DetailKind::Muted;
        }
        View::SessionEnd { reason } => {
            line.kind = LineKind::SessionEnd;
            line.detail = owned(reason);
            line.detail_kind = DetailKind::Muted;
        }
        View::Prompt(text) => {
            let prompt = text.prompt();
            (line.kind, line.detail_kind) = match prompt.kind {
                PromptKind::Typed => (LineKind::Prompt, DetailKind::Quote),
                PromptKind::Command => (LineKind::Prompt, DetailKind::Text),
                PromptKind::Interrupted => (LineKind::Interrupted, DetailKind::Muted),
                PromptKind::CompactionSummary | PromptKind::Machine => {
                    (LineKind::Note, DetailKind::Muted)
                }
            };
            if line.kind == LineKind::Interrupted {
                // The line the agent writes in the user's place when the user stops it.
                line.name = Some(BY_THE_USER.to_owned());
            } else {
                line.detail = Some(prompt.text.into_owned());
            }
        }
        View::Answer(text) => {
            line.kind = LineKind::Answer;
            line.detail = Some(text.text.to_owned());
            line.detail_kind = DetailKind::Quote;
        }
        View::Thinking(text) => {
            line.kind = LineKind::Thinking;
            line.detail = Some(text.text.to_owned());
            line.detail_kind = DetailKind::Muted;
        }
        View::Compaction(compaction) => {
            line.kind = LineKind::Compaction;
            let mut parts: Vec<String> =
                compaction.trigger.map(str::to_owned).into_iter().collect();
            if let Some(tokens) = compaction.pre_tokens {
                parts.push(format!(
                    "{} tokens of context summarised",
                    crate::model::text::thousands(tokens)
                ));
            }
            line.detail = (!parts.is_empty()).then(|| parts.join(" · "));
            line.detail_kind = DetailKind::Muted;
        }
        View::ToolCall(call) => {
            line.kind = LineKind::ToolCall;
            line.tool = Some(call.tool.to_owned());
            line.name = owned(crate::model::view::skill_of(event));
            line.detail = call.gist();
            if call.gist_is_path() {
                line.detail_kind = DetailKind::Path;
            }
        }
        View::ToolResult(result) => {
            line.tool = owned(result.tool);
            line.duration_ms = result.duration_ms;
            if let (true, Some(why)) = (result.rejected(), &result.error) {
                line.kind = LineKind::Rejected;
                line.refused_by = result
                    .refusal
                    .as_ref()
                    .map(|r| r.by)
                    .filter(|by| *by != RefusedBy::User);
                line.detail = Some(why.to_string());
                line.detail_kind = DetailKind::Muted;
            } else if let Some(error) = &result.error {
                line.kind = LineKind::Error;
                line.detail = Some(error.to_string());
                line.detail_kind = DetailKind::Error;
            } else {
                line.kind = LineKind::ToolResult;
                line.detail = result.gist();
                line.detail_kind = DetailKind::Muted;
            }
        }
        View::FileTouch(touch) => {
            line.kind = if touch.write {
                LineKind::FileWrite
            } else {
                LineKind::FileRead
            };
            line.detail = owned(touch.path);
            line.detail_kind = DetailKind::Path;
        }
        View::LlmRequest { model } => {
            line.kind = LineKind::LlmRequest;
            line.detail = owned(model);
        }
        View::LlmResponse(response) => {
            line.kind = LineKind::LlmResponse;
            if response.session_total {
                // A session's usage told once at its end (Copilot CLI 1.0.34's shutdown): no
                // one call's, so it took no one call's time.
                line.detail = usage_text(&response).map(|usage| format!("session total: {usage}"));
            } else {
                line.duration_ms = response.duration_ms.filter(|ms| *ms > 0.0);
                line.detail = usage_text(&response);
            }
        }
        View::Decision(decision) => {
            line.kind = LineKind::Decision;
            line.name = Some(decision.name.into_owned());
            line.answered = decision.answer;
            if decision.answer {
                line.duration_ms = decision.duration_ms;
            }
            line.detail = owned(decision.detail);
        }
        View::Interrupt(interrupt) => {
            line.kind = LineKind::Interrupted;
            line.name = Some(interrupt.by_words().to_owned());
            line.detail = interrupt.detail();
            line.detail_kind = DetailKind::Muted;
        }
        View::Subagent(sub) => {
            line.kind = LineKind::Subagent;
            line.detail = owned(sub.child_session.or(sub.agent_type));
        }
        View::Other => {}
    }
    line.detail = line.detail.filter(|d| !d.is_empty());
    line
}

/// `model · in 3 · out 27 · cache write 17,696 · cache read 88,231`.
fn usage_text(response: &LlmResponse<'_>) -> Option<String> {
    use crate::model::text::thousands;
    let mut parts: Vec<String> = response.model.map(str::to_owned).into_iter().collect();
    match response.usage {
        Some(t) => {
            parts.push(format!("in {}", thousands(t.input)));
            parts.push(format!("out {}", thousands(t.output)));
            for (label, n) in [
                ("cache write", t.cache_creation),
                ("cache read", t.cache_read),
                ("reasoning", t.reasoning),
            ] {
                if n > 0 {
                    parts.push(format!("{label} {}", thousands(n)));
                }
            }
        }
        None if response.total > 0 => {
            parts.push(format!("tokens {}", thousands(response.total)));
        }
        None => {}
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// What a replay shows besides the story's plain lines.
#[derive(Debug, Clone, Default)]
pub struct StoryOptions {
    /// Show the model's reasoning (`--thinking`).
    pub thinking: bool,
    /// Show every LLM request and response on its own line (`--llm`).
    pub llm: bool,
    /// Show only lines that stand for events of these types (`--filter`).
    pub filter: Option<HashSet<EventType>>,
}

/// Calls waiting for their result whose tools a story keeps at most.
const CALL_TOOLS_KEPT: usize = 4096;

/// An event with its number in its session (its place in the file, from 1).
#[derive(Debug, Clone)]
pub struct Numbered {
    pub number: usize,
    pub event: Event,
}

/// Where a session's offsets count from: its start, else (none, or one no session can have)
/// its earliest event.
pub fn origin_of(meta: &SessionMeta, events: &[Numbered]) -> f64 {
    if let Some(start) = meta.believed_start() {
        return start;
    }
    events
        .iter()
        .filter_map(|n| believed_time(n.event.timestamp))
        .min_by(f64::total_cmp)
        .unwrap_or_default()
}

/// A session told as a story: events in time order (ties in file order), so offsets never go
/// backwards; a streamed response one line with its tokens, at the time it began; a file
/// read or write one line with its call's duration. Events come in batches (the whole
/// session, or what a live session appended since): a call folded in one batch takes its
/// file events from later ones too.
#[derive(Debug)]
pub struct Story {
    agent: Agent,
    origin: Option<f64>,
    /// The time the last event of the batches so far, in file order, was placed at: where an
    /// event at an unknown time that opens the next batch goes ([`placed_in_file_order`]).
    placed: Option<f64>,
    options: StoryOptions,
    /// File calls shown as one line: their file events are part of that line.
    folded_calls: HashSet<String>,
    /// Which call each result answers, and the tools of calls not answered yet: a result that
    /// names no tool (the Python tool's proxy and import) is shown with its call's.
    links: Links,
    call_tools: HashMap<String, String>,
}

impl Story {
    /// A story of a session of `agent` that began at `started_at` (when known).
    pub fn new(agent: Agent, started_at: Option<f64>, options: StoryOptions) -> Story {
        Story {
            agent,
            origin: started_at.filter(|s| *s > 0.0),
            placed: None,
            options,
            folded_calls: HashSet::new(),
            links: Links::default(),
            call_tools: HashMap::new(),
        }
    }

    /// The lines of a batch of events.
    pub fn lines(&mut self, batch: Vec<Numbered>) -> Vec<ReplayLine> {
        if batch.is_empty() {
            return Vec::new();
        }
        let batch = placed_in_file_order(batch, &mut self.placed);
        // Offsets count from the first event stamped at a time a session can have.
        let origin = match self.origin {
            Some(origin) => origin,
            None => match batch.iter().find_map(|n| believed_time(n.event.timestamp)) {
                Some(first) => *self.origin.insert(first),
                None => 0.0,
            },
        };
        let children = Children::of(&batch);
        let mut absorbed = vec![false; batch.len()];
        let mut lines = Vec::new();
        for (i, item) in batch.iter().enumerate() {
            if absorbed[i] {
                continue;
            }
            let event = &item.event;
            let mut line = replay_line(event, self.agent, item.number, origin);
            self.name_the_tool(event, &mut line);
            let mut types = vec![&event.event_type];
            // A folded line is its own event's (the response's, the call's): under a filter
            // that does not name that type, no event is folded into another, and each event
            // the filter names is shown on its own line, as what it is (`--filter
            // tool_result` showed a folded Edit as `tool_call Edit`).
            match &event.event_type {
                EventType::LlmRequest
                    if !self.options.llm && self.admits(&EventType::LlmResponse) =>
                {
                    if let Some(&j) = children.response.get(event.event_id.as_str()) {
                        let response = &batch[j];
                        let mut folded =
                            replay_line(&response.event, self.agent, response.number, origin);
                        folded.offset_s = line.offset_s;
                        folded.folded.push(item.number);
                        line = folded;
                        types.push(&response.event.event_type);
                        absorbed[j] = true;
                    }
                }
                EventType::ToolCall if self.admits(&EventType::ToolCall) => {
                    if let Some(call) = ToolCall::from_event(event, self.agent)
                        && call.kind.is_file()
                    {
                        self.fold_file_call(
                            call.kind,
                            &batch,
                            &children,
                            &mut line,
                            &mut types,
                            &mut absorbed,
                        );
                    }
                }
                EventType::FileRead | EventType::FileWrite
                    if event
                        .parent_id
                        .as_ref()
                        .is_some_and(|p| self.folded_calls.contains(p)) =>
                {
                    continue;
                }
                _ => {}
            }
            if line.kind == LineKind::Thinking && !self.options.thinking {
                continue;
            }
            if let Some(filter) = &self.options.filter
                && !types.iter().any(|t| filter.contains(t))
            {
                continue;
            }
            lines.push(line);
        }
        lines
    }

    /// Whether `--filter` (when given) names `kind`.
    fn admits(&self, kind: &EventType) -> bool {
        self.options
            .filter
            .as_ref()
            .is_none_or(|filter| filter.contains(kind))
    }

    /// Keeps the tool of a call, and names it on a result that names none.
    fn name_the_tool(&mut self, event: &Event, line: &mut ReplayLine) {
        let parent = self.links.parent(event);
        match event.event_type {
            EventType::ToolCall => {
                if let Some(tool) = &line.tool {
                    if self.call_tools.len() >= CALL_TOOLS_KEPT {
                        self.call_tools.clear();
                    }
                    self.call_tools.insert(event.event_id.clone(), tool.clone());
                }
            }
            EventType::ToolResult | EventType::Error => {
                let tool = parent.and_then(|p| self.call_tools.remove(p.as_ref()));
                if line.tool.as_deref().is_none_or(str::is_empty) {
                    line.tool = tool;
                }
            }
            _ => {}
        }
    }

    /// A file call whose result came back well becomes one line with the result's duration,
    /// standing for the result and the file event too.
    fn fold_file_call<'b>(
        &mut self,
        kind: ToolKind,
        batch: &'b [Numbered],
        children: &Children<'_>,
        line: &mut ReplayLine,
        types: &mut Vec<&'b EventType>,
        absorbed: &mut [bool],
    ) {
        let id = line.event_id.as_str();
        if let Some(&r) = children.result.get(id) {
            if batch[r].event.event_type == EventType::Error {
                return;
            }
            line.duration_ms = believed_duration_ms(batch[r].event.duration_ms);
            line.folded.push(batch[r].number);
            types.push(&batch[r].event.event_type);
            absorbed[r] = true;
        }
        for &t in children.touches.get(id).into_iter().flatten() {
            line.folded.push(batch[t].number);
            types.push(&batch[t].event.event_type);
            absorbed[t] = true;
        }
        line.kind = if kind == ToolKind::WriteFile {
            LineKind::FileWrite
        } else {
            LineKind::FileRead
        };
        self.folded_calls.insert(line.event_id.clone());
    }
}

/// A batch of events in time order (ties in file order), an event at a time no session can
/// have ([`believed_time`]: `1e308`, before 1970) placed where it stands in the file: at the
/// time of the event before it (`placed`, the last one placed, for the first of a batch), or
/// first when none before it has a time. Sorted by its own stamp, `1e308` went last and
/// `-3.15e16` first, where the page drew it by the line before it.
fn placed_in_file_order(mut batch: Vec<Numbered>, placed: &mut Option<f64>) -> Vec<Numbered> {
    batch.sort_by_key(|n| n.number);
    let mut keyed: Vec<(f64, Numbered)> = batch
        .into_iter()
        .map(|n| {
            let at = placed_time(n.event.timestamp, placed);
            (at.unwrap_or(f64::NEG_INFINITY), n)
        })
        .collect();
    keyed.sort_by(|(a, x), (b, y)| a.total_cmp(b).then(x.number.cmp(&y.number)));
    keyed.into_iter().map(|(_, n)| n).collect()
}

/// The events of a batch that answer another one, by the id of the event they answer.
struct Children<'b> {
    result: HashMap<&'b str, usize>,
    touches: HashMap<&'b str, Vec<usize>>,
    response: HashMap<&'b str, usize>,
}

impl<'b> Children<'b> {
    fn of(batch: &'b [Numbered]) -> Children<'b> {
        let mut children = Children {
            result: HashMap::new(),
            touches: HashMap::new(),
            response: HashMap::new(),
        };
        for (i, item) in batch.iter().enumerate() {
            let Some(parent) = item.event.parent_id.as_deref() else {
                continue;
            };
            match item.event.event_type {
                EventType::ToolResult | EventType::Error => {
                    children.result.entry(parent).or_insert(i);
                }
                EventType::FileRead | EventType::FileWrite => {
                    children.touches.entry(parent).or_default().push(i);
                }
                EventType::LlmResponse => {
                    children.response.entry(parent).or_insert(i);
                }
                _ => {}
            }
        }
        children
    }
}

/// What a replay says about a session before its story.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayHeader {
    pub session_id: String,
    /// The title the agent gave the session (Claude Code's `summary`).
    pub title: Option<String>,
    /// The start, end, duration and counts of the header are unknown (`null`) when the
    /// metadata holds one no session can have (see [`SessionMeta::unbelievable`]).
    pub started_at: Believed<f64>,
    /// `None` while it runs.
    pub duration_s: Believed<Option<f64>>,
    /// The session has not ended: its duration is `None` for that reason, not for want of
    /// a start and end to believe.
    pub running: bool,
    pub cwd: Option<String>,
    pub git_branch: Option<String>,
    pub agent: String,
    pub agent_version: Option<String>,
    pub command: String,
    pub parent_session_id: Option<String>,
    /// Models that answered, most tokens first.
    pub models: Vec<String>,
    /// With its subagents' (as `list` and `cost` count it).
    pub cost_usd: Option<f64>,
    /// Some of the cost is estimated from payload sizes: the session's or a subagent's, for
    /// want of recorded usage.
    pub cost_estimated: bool,
    /// Of that, the session or a subagent recorded usage: the cost is only partly estimated.
    pub cost_partly_estimated: bool,
    /// Models whose usage has no known price, in name order: `cost_usd` counts them at $0.
    pub cost_unpriced_models: Vec<String>,
    /// Responses whose usage holds a count no response can have: unknown, not in `cost_usd`
    /// ([`CostReport::unbelieved_usage`]).
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    pub cost_unbelieved_usage: u64,
    /// How many subagent sessions `cost_usd` counts in.
    pub subagents: usize,
    pub tool_calls: Believed<u64>,
    /// Calls that failed (refused ones are `rejections`), as `stats` and `list` count them.
    pub errors: Believed<u64>,
    /// Of `errors`, the calls' own: the errors of no call (an API error that ended a turn) are
    /// the turn's.
    pub tool_errors: Believed<u64>,
    /// Calls the user refused or stopped.
    pub rejections: u64,
}

/// Of the errors `meta.json` counts, those that are not a call's failure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorsApart {
    /// Calls the user refused or stopped.
    pub rejections: u64,
    /// Errors of no call (an API error that ended a turn): the turn's.
    pub turn_errors: u64,
}

impl ErrorsApart {
    /// Counted from a session's events, whoever wrote its `meta.json`.
    pub fn of<'a>(events: impl IntoIterator<Item = &'a Event>) -> ErrorsApart {
        let mut apart = ErrorsApart::default();
        for event in events {
            apart.observe(event);
        }
        apart
    }

    /// Counts `event` in, the next of a session's events.
    pub fn observe(&mut self, event: &Event) {
        let head = EventHead::of(event);
        if head.outcome() == Some(ToolOutcome::Rejected) {
            self.rejections += 1;
        }
        if head.turn_error() {
            self.turn_errors += 1;
        }
    }
}

/// The fields of `meta.json` a [`ReplayHeader`] shows: those a view of it warns of when they
/// hold what no session can.
pub const HEADER_FIELDS: [&str; 4] = ["started_at", "ended_at", "tool_calls", "errors"];

/// The header of a session with `meta`, whose first events are `events`, that cost `cost`;
/// `apart` says which of the errors `meta` counts are no call's failure.
pub fn header(
    meta: &SessionMeta,
    apart: ErrorsApart,
    agent: Agent,
    events: &[Numbered],
    cost: Option<&CostReport>,
) -> ReplayHeader {
    let start = events.iter().find_map(|n| match View::of(&n.event, agent) {
        View::SessionStart(start) => Some(start),
        _ => None,
    });
    let pick = |from_start: Option<&str>, key: &str| {
        from_start
            .or_else(|| meta.attribution(key))
            .map(str::to_owned)
    };
    let mut models: Vec<(u64, String)> = cost
        .filter(|c| !c.estimated)
        .map(|c| {
            c.models
                .iter()
                // A model that used nothing (Claude Code's `<synthetic>` stand-in for the
                // messages it writes itself) answered nothing.
                .filter(|m| m.tokens.total() > 0)
                .map(|m| (m.tokens.total(), m.model.clone()))
                .collect()
        })
        .unwrap_or_default();
    models.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let doubts = meta.unbelievable();
    ReplayHeader {
        session_id: meta.session_id.clone(),
        title: meta.title().map(str::to_owned),
        started_at: doubts.figure("started_at", meta.started_at),
        // Running is running, whenever it started.
        duration_s: if meta.ended_at.is_none() {
            Believed::default()
        } else {
            meta.duration_figure(&doubts, meta.duration_secs())
        },
        running: meta.ended_at.is_none(),
        cwd: pick(start.as_ref().and_then(|s| s.cwd), "working_dir"),
        git_branch: pick(start.as_ref().and_then(|s| s.git_branch), "git_branch"),
        agent: meta.agent_name.clone(),
        agent_version: pick(start.as_ref().and_then(|s| s.version), "agent_version"),
        command: meta.command.clone(),
        parent_session_id: meta.parent_session_id.clone(),
        models: models.into_iter().map(|(_, m)| m).collect(),
        cost_usd: cost.map(|c| c.cost_usd),
        cost_estimated: cost.is_some_and(|c| c.estimated),
        cost_partly_estimated: cost.is_some_and(|c| c.estimated && !c.all_estimated()),
        cost_unpriced_models: cost.map_or_else(Vec::new, |c| {
            let mut names = c.unpriced.clone();
            names.sort_unstable();
            names
        }),
        cost_unbelieved_usage: cost.map_or(0, |c| c.unbelieved_usage),
        subagents: cost.map_or(0, |c| c.subagents.len()),
        tool_calls: doubts.figure("tool_calls", meta.tool_calls),
        errors: doubts.figure("errors", meta.errors.saturating_sub(apart.rejections)),
        tool_errors: doubts.figure(
            "errors",
            meta.errors
                .saturating_sub(apart.rejections)
                .saturating_sub(apart.turn_errors),
        ),
        rejections: apart.rejections,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn line(kind: EventType, data: Value) -> ReplayLine {
        let mut e = Event::new(kind, 12.5, "e".into(), "s".into());
        e.data = data;
        e.duration_ms = Some(40.0);
        replay_line(&e, Agent::ClaudeCode, 3, 10.0)
    }

    /// Event `n` of a test session: id `e{n}`, its parent `e{parent}`.
    pub(crate) fn numbered(
        n: usize,
        kind: EventType,
        ts: f64,
        parent: Option<usize>,
        data: Value,
    ) -> Numbered {
        let mut event = Event::new(kind, ts, format!("e{n}"), "s".into()).with_data(data);
        event.parent_id = parent.map(|p| format!("e{p}"));
        Numbered { number: n, event }
    }

    #[test]
    fn calls_show_their_telling_argument() {
        let l = line(
            EventType::ToolCall,
            json!({"tool_name": "Read", "arguments": {"file_path": "/src/a.rs"}}),
        );
        assert_eq!((l.number, l.offset_s), (3, Some(2.5)));
        assert_eq!(l.kind, LineKind::ToolCall);
        assert_eq!(l.tool.as_deref(), Some("Read"));
        assert_eq!(l.detail.as_deref(), Some("/src/a.rs"));
        assert_eq!(l.detail_kind, DetailKind::Path);
    }

    #[test]
    fn failures_are_errors_with_their_message() {
        let l = line(
            EventType::Error,
            json!({"tool_name": "Bash", "error": "exit 1"}),
        );
        assert_eq!(l.kind, LineKind::Error);
        assert_eq!(l.detail.as_deref(), Some("exit 1"));
        assert_eq!(l.duration_ms, Some(40.0));
    }

    #[test]
    fn refused_calls_are_rejections_not_errors() {
        let l = line(
            EventType::Error,
            json!({"tool_name": "Bash", "error": "The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, the new_string was NOT written to the file). STOP what you are doing and wait for the user to tell you how to proceed."}),
        );
        assert_eq!(l.kind, LineKind::Rejected);
        assert_eq!(l.detail_kind, DetailKind::Muted);
        let l = line(
            EventType::Error,
            json!({"tool_name": "Bash", "error": "tool call failed", "is_interrupt": true}),
        );
        assert_eq!(l.kind, LineKind::Rejected);
    }

    #[test]
    fn responses_show_their_usage() {
        let l = line(
            EventType::LlmResponse,
            json!({"model": "m", "usage": {"input_tokens": 3, "output_tokens": 27, "cache_read_input_tokens": 5}}),
        );
        assert_eq!(
            l.detail.as_deref(),
            Some("m · in 3 · out 27 · cache read 5")
        );
    }

    #[test]
    fn empty_text_shows_nothing() {
        let l = line(EventType::UserPrompt, json!({"prompt": ""}));
        assert_eq!(l.detail, None);
    }

    #[test]
    fn prompts_show_what_a_person_wrote() {
        let l = line(
            EventType::UserPrompt,
            json!({"prompt": "<command-name>/mcp</command-name>\n<command-args></command-args>"}),
        );
        assert_eq!(
            (l.kind, l.detail.as_deref()),
            (LineKind::Prompt, Some("/mcp"))
        );
        let l = line(
            EventType::UserPrompt,
            json!({"prompt": "[Request interrupted by user]"}),
        );
        assert_eq!(
            (l.kind, l.name.as_deref()),
            (LineKind::Interrupted, Some("the user"))
        );
    }

    #[test]
    fn a_story_is_in_time_order_and_folds_responses_and_reads() {
        let batch = vec![
            numbered(1, EventType::LlmRequest, 1.0, None, json!({"model": "m"})),
            numbered(
                2,
                EventType::ToolCall,
                1.0,
                None,
                json!({"tool_name": "Read", "arguments": {"file_path": "/a"}}),
            ),
            numbered(
                3,
                EventType::ToolResult,
                1.5,
                Some(2),
                json!({"tool_name": "Read"}),
            ),
            numbered(4, EventType::FileRead, 1.5, Some(2), json!({"path": "/a"})),
            numbered(
                5,
                EventType::LlmResponse,
                1.2,
                Some(1),
                json!({"model": "m", "usage": {"input_tokens": 1, "output_tokens": 2}}),
            ),
            numbered(
                6,
                EventType::Decision,
                1.3,
                None,
                json!({"kind": "thinking", "reasoning": "hm"}),
            ),
        ];
        let mut story = Story::new(Agent::ClaudeCode, Some(0.5), StoryOptions::default());
        let lines = story.lines(batch.clone());
        let shown: Vec<(usize, LineKind, Option<f64>)> = lines
            .iter()
            .map(|l| (l.number, l.kind, l.offset_s))
            .collect();
        assert_eq!(
            shown,
            vec![
                (5, LineKind::LlmResponse, Some(0.5)),
                (2, LineKind::FileRead, Some(0.5))
            ]
        );
        assert_eq!(lines[0].folded, vec![1]);
        assert_eq!(lines[1].folded, vec![3, 4]);

        let options = StoryOptions {
            thinking: true,
            llm: true,
            filter: None,
        };
        let lines = Story::new(Agent::ClaudeCode, Some(0.5), options).lines(batch);
        let numbers: Vec<usize> = lines.iter().map(|l| l.number).collect();
        assert_eq!(numbers, vec![1, 2, 5, 6]);
        assert!(lines.windows(2).all(|w| w[0].offset_s <= w[1].offset_s));
    }

    #[test]
    fn a_failed_read_keeps_its_error_line() {
        let batch = vec![
            numbered(
                1,
                EventType::ToolCall,
                1.0,
                None,
                json!({"tool_name": "Read", "arguments": {"file_path": "/a"}}),
            ),
            numbered(
                2,
                EventType::Error,
                1.5,
                Some(1),
                json!({"error": "no such file"}),
            ),
        ];
        let lines = Story::new(Agent::ClaudeCode, None, StoryOptions::default()).lines(batch);
        let kinds: Vec<LineKind> = lines.iter().map(|l| l.kind).collect();
        assert_eq!(kinds, vec![LineKind::ToolCall, LineKind::Error]);
    }
}
