//! What the importers of other agents' session logs (Codex rollouts, Gemini CLI chats, Copilot
//! CLI events) share: reading a log's lines, the session they build up in memory, and writing
//! it to the store through the sink, once.
//!
//! Each agent's format is read in its own module into a [`Log`]: the events in the store's
//! vocabulary, in file order, calls linked to their results by position. [`write`] then puts the
//! log into the store as one session, with the record of what was read that
//! [`super::resume::check`] compares the file with: a log imported before and unchanged is left
//! alone, one that grew or was rewritten is imported again whole, in place of the stored session
//! (these logs are small next to Claude Code's transcripts, so reading them whole again is
//! cheaper than keeping each importer's state to carry on from).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::{Map, Value};

use super::Ended;
use super::claude_transcript::{ImportError, ImportReport, ParentLink, SkippedLine};
use super::resume::{self, Freshness};
use crate::capture::sink::Sink;
use crate::model::event::stored_arguments;
use crate::model::shell_files::{self, Folder, ShellFile};
use crate::model::tools::{self, Agent};
use crate::model::usage::token_count;
use crate::model::view::{KIND_COMPACTION, KIND_THINKING, ToolCall};
use crate::model::{EventType, SessionMeta, Tokens};
use crate::store::{Store, StoreError};

/// One event of a log, before it has an id.
#[derive(Debug, Clone)]
pub struct Draft {
    pub kind: EventType,
    pub at: f64,
    pub data: Map<String, Value>,
    /// The draft this one answers (a result its call, a response its request).
    pub parent: Option<usize>,
    pub duration_ms: Option<f64>,
}

/// A call waiting for its result.
#[derive(Debug, Clone)]
struct Open {
    index: usize,
    at: f64,
    tool: String,
    /// The files it reads or writes, named by its arguments or its shell line.
    files: Vec<ShellFile>,
}

/// One session read from an agent's log.
#[derive(Debug)]
pub struct Log {
    pub agent: Agent,
    pub session_id: Option<String>,
    /// What the `session_start` event carries besides the import's own fields.
    pub start: Map<String, Value>,
    pub started: Option<f64>,
    pub title: Option<String>,
    pub drafts: Vec<Draft>,
    open: HashMap<String, Open>,
    /// The request of the model call in progress, which its response answers.
    request: Option<usize>,
    pub lines: u64,
    pub entries: BTreeMap<String, u64>,
    pub malformed: Vec<SkippedLine>,
    pub messages: u64,
    pub responses: u64,
    pub tool_calls: u64,
    pub tool_errors: u64,
    /// Calls the user refused or stopped, apart from the failed ones.
    pub tool_rejections: u64,
    /// The tokens of every response whose usage one response can hold.
    pub tokens: Tokens,
    /// Responses whose usage holds a count no response can have, left out of `tokens`.
    pub unbelieved_usage: u64,
    pub warnings: Vec<String>,
    /// The session that spawned this one, for a subagent's log.
    pub parent: Option<ParentLink>,
    /// The calls that spawned subagents: each subagent's session id, and the call's draft.
    pub agent_calls: Vec<(String, usize)>,
    /// The folder the next call runs in when it is not the one the session started in (the
    /// `cwd` of [`Log::start`]), for the relative paths its shell line names.
    pub folder: Option<String>,
    last: f64,
}

impl Log {
    pub fn new(agent: Agent) -> Log {
        Log {
            agent,
            session_id: None,
            start: Map::new(),
            started: None,
            title: None,
            drafts: Vec::new(),
            open: HashMap::new(),
            request: None,
            lines: 0,
            entries: BTreeMap::new(),
            malformed: Vec::new(),
            messages: 0,
            responses: 0,
            tool_calls: 0,
            tool_errors: 0,
            tool_rejections: 0,
            tokens: Tokens::default(),
            unbelieved_usage: 0,
            warnings: Vec::new(),
            parent: None,
            agent_calls: Vec::new(),
            folder: None,
            last: 0.0,
        }
    }

    /// Counts a line of the log by its kind.
    pub fn saw(&mut self, kind: &str) {
        *self.entries.entry(kind.to_owned()).or_default() += 1;
    }

    /// A line that could not be read: reported, and the import goes on.
    pub fn bad_line(&mut self, line: u64, message: String) {
        *self.entries.entry("malformed".into()).or_default() += 1;
        if self.malformed.len() < 20 {
            self.malformed.push(SkippedLine { line, message });
        }
    }

    /// Where the log stands in time; a line without a time keeps the last one.
    pub fn at(&mut self, at: Option<f64>) -> f64 {
        if let Some(at) = at {
            self.last = at;
            self.started.get_or_insert(at);
        }
        self.last
    }

    pub fn push(&mut self, kind: EventType, at: f64, data: Map<String, Value>) -> usize {
        self.drafts.push(Draft {
            kind,
            at,
            data,
            parent: None,
            duration_ms: None,
        });
        self.drafts.len() - 1
    }

    pub fn prompt(&mut self, at: f64, text: &str) {
        if text.trim().is_empty() {
            return;
        }
        self.messages += 1;
        // A person typing ends the model call in progress.
        self.request = None;
        self.push(EventType::UserPrompt, at, one("prompt", text.into()));
    }

    pub fn answer(&mut self, at: f64, text: &str) {
        if text.trim().is_empty() {
            return;
        }
        self.messages += 1;
        self.push(EventType::AssistantResponse, at, one("text", text.into()));
    }

    pub fn thinking(&mut self, at: f64, text: &str) {
        if text.trim().is_empty() {
            return;
        }
        let mut data = Map::new();
        data.insert("kind".into(), KIND_THINKING.into());
        data.insert("choice".into(), KIND_THINKING.into());
        data.insert("reasoning".into(), text.into());
        self.push(EventType::Decision, at, data);
    }

    pub fn compaction(&mut self, at: f64, summary: Option<&str>) {
        let mut data = Map::new();
        data.insert("kind".into(), KIND_COMPACTION.into());
        data.insert("choice".into(), KIND_COMPACTION.into());
        if let Some(summary) = summary.filter(|s| !s.trim().is_empty()) {
            data.insert("summary".into(), summary.into());
        }
        self.push(EventType::Decision, at, data);
    }

    /// Ends the model call in progress: what comes next is another call's.
    pub fn end_request(&mut self) {
        self.request = None;
    }

    /// The request of a model call: the one in progress, or a new one.
    pub fn request(&mut self, at: f64, model: Option<&str>) -> usize {
        if let Some(open) = self.request {
            return open;
        }
        let mut data = Map::new();
        if let Some(model) = model {
            data.insert("model".into(), model.into());
        }
        let index = self.push(EventType::LlmRequest, at, data);
        self.request = Some(index);
        index
    }

    /// A model call's response with its exact usage, in the store's convention (fresh input,
    /// cache reads and writes apart; reasoning inside output); `reported` is the agent's own
    /// usage object, kept as the agent wrote it.
    pub fn response(
        &mut self,
        at: f64,
        model: Option<&str>,
        tokens: LoggedTokens,
        reported: Option<Value>,
        extra: Map<String, Value>,
    ) {
        let request = self.request(at, model);
        let index = self.usage(at, model, tokens, reported, extra);
        let started = self.drafts[request].at;
        let draft = &mut self.drafts[index];
        draft.parent = Some(request);
        // A request and its response at one time are a log that gives a model call one time
        // (Gemini CLI's message), not a call that took none.
        draft.duration_ms = (at > started).then_some((at - started) * 1000.0);
    }

    /// A session's usage of `model` told once, at its end, not per call: a response of no one
    /// request, that took no one request's time (the last request's, which the agent gave no
    /// usage of, stays unanswered).
    pub fn session_total(
        &mut self,
        at: f64,
        model: Option<&str>,
        tokens: LoggedTokens,
        reported: Option<Value>,
        extra: Map<String, Value>,
    ) {
        self.usage(at, model, tokens, reported, extra);
    }

    /// The `llm_response` of usage `tokens`, counted; it ends the request in progress.
    fn usage(
        &mut self,
        at: f64,
        model: Option<&str>,
        tokens: LoggedTokens,
        reported: Option<Value>,
        extra: Map<String, Value>,
    ) -> usize {
        self.request = None;
        self.responses += 1;
        // Recorded as the agent wrote it; its tokens are unknown to every reader when no
        // response can hold them, and so to the report.
        let usage = match tokens {
            Ok(tokens) if tokens.believable() => {
                self.tokens.add(&tokens);
                usage_value(&tokens)
            }
            Ok(tokens) => {
                self.unbelieved_usage += 1;
                usage_value(&tokens)
            }
            Err(no_count) => {
                self.unbelieved_usage += 1;
                no_count.usage()
            }
        };
        let mut data = extra;
        if let Some(model) = model {
            data.insert("model".into(), model.into());
        }
        data.insert("usage".into(), usage);
        if let Some(reported) = reported {
            data.insert("reported_usage".into(), reported);
        }
        self.push(EventType::LlmResponse, at, data)
    }

    /// A tool call. The files it reads or writes are those [`shell_files::of_tool_call`] finds
    /// (a file tool's argument, a patch's files, a shell line's), from the folder it ran in
    /// ([`Log::folder`]).
    pub fn call(&mut self, at: f64, tool: &str, arguments: Value, id: Option<&str>) -> usize {
        let arguments = stored_arguments(Some(arguments));
        self.tool_calls += 1;
        let session_folder = self.start.get("cwd").and_then(Value::as_str);
        // Gemini CLI starts a line in the folder its call names, from the session's.
        let named = crate::model::tools::shell_start_folder(self.agent, &arguments)
            .filter(|_| self.folder.is_none())
            .map(|dir| crate::model::policy::check::start_folder(dir, session_folder));
        let folder = (named.as_deref())
            .or(self.folder.as_deref())
            .or(session_folder)
            .map_or(Folder::Unknown, Folder::Start);
        let files = shell_files::of_tool_call(&ToolCall::new(self.agent, tool, &arguments), folder);
        let mut data = Map::new();
        data.insert("tool_name".into(), tool.into());
        data.insert("arguments".into(), arguments);
        if let Some(id) = id {
            data.insert("tool_use_id".into(), id.into());
        }
        let index = self.push(EventType::ToolCall, at, data);
        if let Some(id) = id {
            self.open.insert(
                id.to_owned(),
                Open {
                    index,
                    at,
                    tool: tool.to_owned(),
                    files,
                },
            );
        }
        index
    }

    /// The result of the call `id`; a successful file tool's files are read or written then.
    pub fn result(&mut self, at: f64, id: Option<&str>, text: &str, failed: bool) {
        self.settle(at, id, text, Ended::failed_if(failed), true);
    }

    /// [`Log::result`], from a log that says how a call ended apart from its words.
    pub fn ended_result(&mut self, at: f64, id: Option<&str>, text: &str, ended: Ended) {
        self.settle(at, id, text, ended, true);
    }

    /// The result of the call `id`, from a log that gives a call one time only (its start or
    /// its end, not both): no duration, where one from that time to itself would say the call
    /// took no time at all.
    pub fn untimed_result(&mut self, at: f64, id: Option<&str>, text: &str, failed: bool) {
        self.settle(at, id, text, Ended::failed_if(failed), false);
    }

    fn settle(&mut self, at: f64, id: Option<&str>, text: &str, ended: Ended, timed: bool) {
        let call = id.and_then(|id| self.open.remove(id));
        let failed = ended != Ended::Done;
        let (kind, data) = super::result_event(
            call.as_ref().map_or("unknown", |c| c.tool.as_str()),
            text.to_owned(),
            ended,
            id,
            (&mut self.tool_errors, &mut self.tool_rejections),
        );
        let index = self.push(kind, at, data);
        let Some(call) = call else { return };
        let draft = &mut self.drafts[index];
        draft.parent = Some(call.index);
        draft.duration_ms = timed.then(|| ((at - call.at) * 1000.0).max(0.0));
        if failed {
            return;
        }
        if tools::lists_a_folder(self.agent, &call.tool, text) {
            return;
        }
        for file in &call.files {
            let (kind, data) = file.event(&call.tool);
            let file = self.push(kind, at, data);
            self.drafts[file].parent = Some(call.index);
        }
    }

    /// The time of the last line read.
    pub fn last(&self) -> f64 {
        self.last
    }
}

fn one(key: &str, value: Value) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert(key.into(), value);
    data
}

/// Tokens as the store's `usage` object spells them (Anthropic's names: `input_tokens` is the
/// input read fresh, cache reads and writes are apart), which every reader of the store reads.
pub fn usage_value(tokens: &Tokens) -> Value {
    let mut usage = Map::new();
    usage.insert("input_tokens".into(), tokens.input.into());
    usage.insert("output_tokens".into(), tokens.output.into());
    usage.insert(
        "cache_creation_input_tokens".into(),
        tokens.cache_creation.into(),
    );
    usage.insert("cache_read_input_tokens".into(), tokens.cache_read.into());
    if tokens.reasoning > 0 {
        let mut details = Map::new();
        details.insert("reasoning_tokens".into(), tokens.reasoning.into());
        usage.insert("output_tokens_details".into(), details.into());
    }
    Value::Object(usage)
}

/// The token count under `key` of an agent's usage object, judged as every reader of usage
/// judges one ([`token_count`]): a key the log leaves out (or `null`) is 0, as logs omit
/// counts of none; a value that is no count a response can have (negative, fractional, a
/// string, over ten billion) is [`NoCount`], named `counts` (the store's name for what it
/// counts in).
pub fn count(usage: &Value, key: &str, counts: &'static str) -> Result<u64, NoCount> {
    match usage.get(key) {
        None => Ok(0),
        Some(written) => token_count(written).ok_or_else(|| NoCount {
            counts,
            written: written.clone(),
        }),
    }
}

/// A count in an agent's usage object that no response can have: its tokens are unknown, as
/// a usage object's are that holds one ([`crate::model::usage::ApiUsage`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NoCount {
    /// The key of the store's usage object this count goes into (`input_tokens` …).
    pub counts: &'static str,
    /// The count as the agent wrote it.
    pub written: Value,
}

impl NoCount {
    /// The store's usage object of a response of unknown usage: this count alone, as the
    /// agent wrote it, which every reader of usage reads as unknown, as it reads a
    /// transcript's; no other count is claimed. The agent's whole usage object is kept beside
    /// it as `reported_usage`.
    pub fn usage(self) -> Value {
        Value::Object(one(self.counts, self.written))
    }
}

/// A response's tokens read from an agent's log, in the store's convention, or the count that
/// makes them unknown.
pub type LoggedTokens = Result<Tokens, NoCount>;

/// A string in a JSON object.
pub fn string<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// A time in a JSON object: an RFC 3339 string, or milliseconds since the epoch.
pub fn time(value: &Value, key: &str) -> Option<f64> {
    match value.get(key)? {
        Value::String(s) => crate::capture::transcript::parse_time(s),
        Value::Number(n) => n
            .as_f64()
            .and_then(|ms| crate::capture::transcript::believable(ms / 1000.0)),
        _ => None,
    }
}

/// How far a log was read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Position {
    pub offset: u64,
    pub last_line_at: u64,
    pub lines: u64,
}

/// Reads a log of JSON lines whole: its values, and a [`Log`] for `agent` that has reported
/// each line that is not JSON and counted every line, and how far it read. A log with no JSON
/// line is empty.
pub fn read_values(path: &Path, agent: Agent) -> Result<(Vec<Value>, Log, Position), ImportError> {
    let mut values = Vec::new();
    let mut log = Log::new(agent);
    let read = read_lines(path, |n, line| match line {
        Ok(value) => values.push(value),
        Err(message) => log.bad_line(n, message),
    })?;
    log.lines = read.lines;
    if values.is_empty() {
        return Err(ImportError::Empty(path.to_path_buf()));
    }
    Ok((values, log, read))
}

/// Reads a log's lines, calling `each` with the line number and the line's JSON (or why it is
/// not JSON); returns how far it read.
pub fn read_lines(
    path: &Path,
    mut each: impl FnMut(u64, Result<Value, String>),
) -> Result<Position, ImportError> {
    let io = |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = crate::store::open_regular(path).map_err(io)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut buf = Vec::new();
    let mut read = Position::default();
    loop {
        let line =
            crate::store::read_line(&mut reader, &mut buf, crate::store::LINE_LIMIT).map_err(io)?;
        let n = line.consumed;
        if n == 0 {
            break;
        }
        read = Position {
            offset: read.offset + n as u64,
            last_line_at: read.offset,
            lines: read.lines + 1,
        };
        if line.too_long {
            each(read.lines, Err(super::claude_transcript::too_long()));
            continue;
        }
        let text = crate::store::json_text(&buf);
        if text.is_empty() {
            continue;
        }
        let value = serde_json::from_slice::<Value>(text).map_err(|e| {
            if std::str::from_utf8(text).is_err() {
                "binary data, not JSON text".to_owned()
            } else {
                e.to_string()
            }
        });
        each(read.lines, value);
    }
    Ok(read)
}

/// How far a whole file is, for a log that is one JSON document (Gemini CLI's older chats).
pub fn whole_file(path: &Path) -> Result<(Value, Position), ImportError> {
    let io = |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = crate::store::open_regular(path).map_err(io)?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes).map_err(io)?;
    let value =
        serde_json::from_slice::<Value>(crate::store::without_bom(&bytes)).map_err(|e| {
            ImportError::NotTranscript {
                path: path.to_path_buf(),
                line: e.line() as u64,
                reason: e.to_string(),
            }
        })?;
    let trimmed = bytes.trim_ascii_end().len();
    let end = bytes[..trimmed]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    #[expect(
        clippy::naive_bytecount,
        reason = "one small file, read once; a crate for it is not worth it"
    )]
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    Ok((
        value,
        Position {
            offset: bytes.len() as u64,
            last_line_at: end as u64,
            lines: lines.max(1),
        },
    ))
}

/// Writes `log`, read from `path` up to `read`, into `store` as one session, unless the store
/// holds all of it already.
pub fn write(
    store: &Store,
    path: &Path,
    sink: &Sink,
    log: Log,
    read: Position,
) -> Result<ImportReport, ImportError> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let id = log
        .session_id
        .clone()
        .filter(|id| crate::store::is_valid_session_id(id))
        .or_else(|| crate::store::is_valid_session_id(&stem).then(|| stem.clone()))
        .map(|id| sink.privacy().session_id(&id).into_owned())
        .ok_or_else(|| ImportError::NotTranscript {
            path: path.to_path_buf(),
            line: 1,
            reason: "no session id that can name a session".to_owned(),
        })?;
    let mut report = ImportReport {
        file: path.to_path_buf(),
        session_id: id.clone(),
        agent: log.agent.name(),
        status: "imported",
        lines: log.lines.max(read.lines),
        entries: log.entries,
        malformed: log.malformed,
        messages: log.messages,
        repeated: 0,
        resumed_history: 0,
        responses: log.responses,
        tool_calls: log.tool_calls,
        tool_errors: log.tool_errors,
        tool_rejections: log.tool_rejections,
        turn_errors: 0,
        tokens: log.tokens,
        unbelieved_usage: log.unbelieved_usage,
        events: 0,
        sidechains: Vec::new(),
        warnings: log.warnings,
        not_imported: None,
        imported_from: None,
        imported_agent: None,
        agent_calls: HashMap::new(),
    };
    let at = |source: StoreError| ImportError::StoreAt {
        path: path.to_path_buf(),
        source,
    };
    let started = match log.started {
        Some(at) => at,
        None => match super::untimed_log_start(path) {
            Some((at, warning)) => {
                report.warnings.push(warning);
                at
            }
            None => 0.0,
        },
    };
    let mut meta = SessionMeta::new(&id, started);
    log.agent.name().clone_into(&mut meta.agent_name);
    meta.command = format!("{} (imported)", log.agent.name());
    // Never its own parent (a subagent's chat naming its parent's session id).
    let link = log.parent.as_ref().filter(|link| link.session_id != id);
    // The link a stored copy has (read once, for a subagent only), kept when this import does
    // not know the call.
    let stored_link = link
        .and_then(|_| store.read_meta(&id).ok())
        .and_then(|m| m.parent_event_id);
    // A subagent whose parent was imported again (its events have new ids) or whose call was
    // not known before: linked now, by writing it again (these logs are small).
    let relink = link
        .and_then(|l| l.event_id.as_ref())
        .is_some_and(|call| stored_link.as_ref() != Some(call));
    if let Some(link) = link {
        meta.parent_session_id = Some(sink.privacy().session_id(&link.session_id).into_owned());
        meta.parent_event_id = link.event_id.clone().or(stored_link);
        meta.depth = link.depth + 1;
    }
    if let Some(title) = &log.title {
        meta.set_attribution(crate::model::meta::TITLE, &sink.text(title));
    }
    let freshness = resume::check(store, &id, path).map_err(at)?;
    let mut writer = match freshness {
        Freshness::New => match store.write_session(meta) {
            Ok(writer) => writer,
            Err(StoreError::SessionExists(_)) => {
                taken_meanwhile(store, &id, path, log.agent.name(), &mut report);
                return Ok(report);
            }
            Err(e) => return Err(at(e)),
        },
        Freshness::RecordedByHooks => {
            left_to_hooks(&mut report);
            return Ok(report);
        }
        Freshness::UpToDate(_) if relink => {
            report.status = "relinked";
            store.replace_session(meta).map_err(at)?
        }
        Freshness::UpToDate(_) => {
            report.status = "already_imported";
            return Ok(report);
        }
        Freshness::OtherFile(other) => {
            report.status = "already_imported";
            report.imported_from = Some(other);
            report.imported_agent = super::existing::other_agent(store, &id, log.agent.name());
            return Ok(report);
        }
        Freshness::AddedTo => {
            report.status = "already_imported";
            report.warnings.push(
                "left its session as it is: something else (hooks sharing its session id) added to it since it was imported"
                    .to_owned(),
            );
            return Ok(report);
        }
        Freshness::Grown { .. } | Freshness::Rewritten(_) => {
            // Read whole again: these logs are small, and some rewrite what they hold
            // (Gemini CLI replaces a message by its id, and rewinds).
            report.status = if let Freshness::Grown { new_lines, .. } = freshness {
                // What the file gained; the figures below are the whole log's.
                report.lines = new_lines;
                "grown"
            } else {
                "reimported"
            };
            store.replace_session(meta).map_err(at)?
        }
    };
    let mut data = log.start;
    data.insert("source".into(), "import".into());
    data.insert("agent".into(), log.agent.name().into());
    data.insert(
        "transcript_path".into(),
        path.to_string_lossy().into_owned().into(),
    );
    let start = sink.event(EventType::SessionStart, started, &id, data);
    sink.emit(&mut writer, start).map_err(at)?;
    report.events += 1;
    let mut ids: Vec<String> = Vec::with_capacity(log.drafts.len());
    let mut end = started;
    // Lines before the first that gives a time have none (0): they are stamped with the
    // session's start, never 1970, and what took from or to one of them took a time unknown.
    let untimed: Vec<bool> = log.drafts.iter().map(|d| d.at <= 0.0).collect();
    for draft in log.drafts {
        let timed = draft.at > 0.0 && !draft.parent.is_some_and(|p| untimed[p]);
        let when = if draft.at > 0.0 { draft.at } else { started };
        end = end.max(when);
        let mut event = sink.event(draft.kind, when, &id, draft.data);
        event.parent_id = draft.parent.and_then(|p| ids.get(p).cloned());
        event.duration_ms = draft.duration_ms.filter(|_| timed);
        ids.push(event.event_id.clone());
        sink.emit(&mut writer, event).map_err(at)?;
        report.events += 1;
    }
    report.agent_calls = log
        .agent_calls
        .into_iter()
        .filter_map(|(agent, call)| Some((agent, ids.get(call)?.clone())))
        .collect();
    let mut data = Map::new();
    data.insert("reason".into(), "import".into());
    let end = sink.event(EventType::SessionEnd, end.max(log.last), &id, data);
    sink.emit(&mut writer, end).map_err(at)?;
    report.events += 1;
    if let Some(record) = record(path, read, writer.mark().bytes) {
        writer.set_import_record(record);
    }
    match writer.finish() {
        // Another writer put the session there while the log was read.
        Err(StoreError::SessionExists(_)) => {
            taken_meanwhile(store, &id, path, log.agent.name(), &mut report);
        }
        other => {
            other.map_err(at)?;
        }
    }
    Ok(report)
}

/// Marks `report` as the import of a session its hooks recorded, left as they wrote it.
fn left_to_hooks(report: &mut ImportReport) {
    report.status = "recorded_by_hooks";
    report.warnings.push(
        "left the session as its hooks recorded it: the log is not merged into it".to_owned(),
    );
}

/// Says of a log whose session `id` another writer put in the store while the log was read
/// what an import begun after that writer would say: a hook's session (its first event came
/// meanwhile) is recorded by hooks, and the log is not merged into it; another file's import
/// is named. Said "already imported" alone, the hook's session read as if another log had been.
fn taken_meanwhile(
    store: &Store,
    id: &str,
    path: &Path,
    agent: &'static str,
    report: &mut ImportReport,
) {
    report.status = "already_imported";
    match resume::check(store, id, path) {
        Ok(Freshness::RecordedByHooks) => left_to_hooks(report),
        Ok(Freshness::OtherFile(other)) => {
            report.imported_from = Some(other);
            report.imported_agent = super::existing::other_agent(store, id, agent);
        }
        _ => {}
    }
}

/// The record of what was read, which the next import compares the file with; `None` when the
/// last line read cannot be read back (the file changed meanwhile: the next import reads it
/// again whole).
fn record(path: &Path, read: Position, events: u64) -> Option<Vec<u8>> {
    let mut file = crate::store::open_regular(path).ok()?;
    let hash = resume::line_hash(&mut file, read.last_line_at, read.offset)
        .ok()
        .flatten()?;
    let read = resume::Read {
        format: resume::FORMAT,
        transcript: resume::canonical(path),
        offset: read.offset,
        lines: read.lines,
        last_line_at: read.last_line_at,
        last_line_hash: hash,
        events,
    };
    let mut out = serde_json::to_vec(&read).ok()?;
    out.push(b'\n');
    Some(out)
}

/// Paths a Codex `apply_patch` patch adds, updates, deletes or moves to (one reading of a
/// patch, shared with the hook and the policy).
pub use crate::model::tools::patch_paths;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_names_its_files_once() {
        let patch = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** Update File: b.rs\n*** Move to: c.rs\n@@\n-x\n+y\n*** Update File: a.txt\n*** End Patch\n";
        assert_eq!(patch_paths(patch), ["a.txt", "b.rs", "c.rs"]);
    }

    #[test]
    fn a_result_links_to_its_call_and_touches_its_file() {
        let mut log = Log::new(Agent::GeminiCli);
        log.call(
            1.0,
            "read_file",
            serde_json::json!({"file_path": "README.md"}),
            Some("c1"),
        );
        log.result(2.0, Some("c1"), "hello", false);
        assert_eq!(log.drafts.len(), 3);
        assert_eq!(log.drafts[1].parent, Some(0));
        assert_eq!(log.drafts[2].kind, EventType::FileRead);
        assert_eq!(log.drafts[1].duration_ms, Some(1000.0));
    }
}
