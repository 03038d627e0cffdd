//! What the importers of other agents' session logs (Codex rollouts, Gemini CLI chats, Copilot
//! CLI events) share: reading a log's lines, and the session they build up from them.
//!
//! Each agent's format is read in its own module into a [`Log`]: the events in the store's
//! vocabulary, in file order, calls linked to their results by position, and the figures of the
//! import's report. [`super::log_writer`] puts the log into the store as one session: line by
//! line as it is read ([`Log::take_drafts`] hands it the events of each line), or whole.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde_json::{Map, Value};

use super::Ended;
use super::claude_transcript::{ImportError, ParentLink, SkippedLine};
use crate::model::event::stored_arguments;
use crate::model::shell_files::{self, Folder, ShellFile};
use crate::model::tools::{self, Agent};
use crate::model::usage::token_count;
use crate::model::view::{KIND_COMPACTION, KIND_THINKING, ToolCall};
use crate::model::{EventType, Tokens, deep_json};

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

/// The call made last, which a patch applied for no call of the log belongs to
/// ([`Log::patched`]), and the files recorded as changed by it so far, each told once.
#[derive(Debug)]
struct Made {
    index: usize,
    written: HashSet<String>,
}

/// One session read from an agent's log. Its events ([`Log::drafts`]) are those not yet taken
/// by the writer; an event's index counts from the log's first, taken or not.
#[derive(Debug)]
pub struct Log {
    pub agent: Agent,
    pub session_id: Option<String>,
    /// What the `session_start` event carries besides the import's own fields.
    pub start: Map<String, Value>,
    pub started: Option<f64>,
    pub title: Option<String>,
    pub drafts: Vec<Draft>,
    /// How many events the writer took before [`Log::drafts`].
    taken: usize,
    open: HashMap<String, Open>,
    /// The call made last.
    made: Option<Made>,
    /// The request of the model call in progress, which its response answers, and its time.
    request: Option<(usize, f64)>,
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
    /// The log gives no time but the session's start: its end is not known
    /// ([`crate::model::meta::START_ONLY`]).
    pub start_only: bool,
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
            taken: 0,
            open: HashMap::new(),
            made: None,
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
            start_only: false,
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
        self.taken + self.drafts.len() - 1
    }

    /// The tool of the call `id`, whose result has not been read yet.
    pub fn open_tool(&self, id: &str) -> Option<&str> {
        self.open.get(id).map(|call| call.tool.as_str())
    }

    /// The event at `index`, made while reading the line in hand (the writer takes a line's
    /// events once the line is read).
    pub fn draft_mut(&mut self, index: usize) -> &mut Draft {
        &mut self.drafts[index - self.taken]
    }

    /// The events made since the writer last took them, and the index of the first.
    pub fn take_drafts(&mut self) -> (usize, Vec<Draft>) {
        let first = self.taken;
        let drafts = std::mem::take(&mut self.drafts);
        self.taken += drafts.len();
        (first, drafts)
    }

    /// The events a later event may name as its parent, or the report names: the request in
    /// progress, the calls waiting for their results, the calls that spawned subagents. The
    /// writer keeps the ids of these alone.
    pub fn named_later(&self) -> impl Iterator<Item = usize> + '_ {
        (self.request.iter().map(|&(index, _)| index))
            .chain(self.open.values().map(|call| call.index))
            .chain(self.made.iter().map(|made| made.index))
            .chain(self.agent_calls.iter().map(|&(_, index)| index))
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
        if let Some((open, _)) = self.request {
            return open;
        }
        let mut data = Map::new();
        if let Some(model) = model {
            data.insert("model".into(), model.into());
        }
        let index = self.push(EventType::LlmRequest, at, data);
        self.request = Some((index, at));
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
        let started = self.request.map_or(at, |(_, started)| started);
        let index = self.usage(at, model, tokens, reported, extra);
        let draft = self.draft_mut(index);
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
        self.made = Some(Made {
            index,
            written: HashSet::new(),
        });
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
        let draft = self.draft_mut(index);
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
            self.draft_mut(file).parent = Some(call.index);
        }
        if let Some(made) = self.made.as_mut().filter(|made| made.index == call.index) {
            let written = call.files.iter().filter(|file| file.file_use.changes());
            made.written.extend(written.map(|file| file.path.clone()));
        }
    }

    /// The files (absolute paths) a patch the agent applied changed (Codex's successful
    /// `patch_apply_end`): written, deleted or moved, recorded now as changed by the call it
    /// was applied for: the open call `id` names, else the call made last. A patch a
    /// code-mode `exec` cell applies (`await tools.apply_patch(…)`) has an id of its own,
    /// which no call of the log has, and its files are named by no call's arguments. One the
    /// model's own `apply_patch` applied names the files its patch names, which are told
    /// once: by its result when it is open, right after it as every reader expects them
    /// ([`crate::model::touches`]).
    pub fn patched(&mut self, at: f64, id: Option<&str>, files: Vec<ShellFile>) {
        let named = id.and_then(|id| self.open.get(id)).map(|call| call.index);
        let call = named.or(self.made.as_ref().map(|made| made.index));
        let open = self.open.values().filter(|o| Some(o.index) == call);
        let own: HashSet<&String> = open
            .flat_map(|o| {
                o.files
                    .iter()
                    .filter(|f| f.file_use.changes())
                    .map(|f| &f.path)
            })
            .collect();
        let mut told = self.made.as_mut().filter(|made| Some(made.index) == call);
        let new: Vec<ShellFile> = files
            .into_iter()
            .filter(|file| !own.contains(&file.path))
            .filter(|file| {
                told.as_mut()
                    .is_none_or(|m| m.written.insert(file.path.clone()))
            })
            .collect();
        for file in new {
            let (kind, data) = file.event("apply_patch");
            let file = self.push(kind, at, data);
            self.draft_mut(file).parent = call;
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

/// The input a response read fresh: the agent's `input`, which includes its `cached` input
/// (OpenAI's, Gemini's and Copilot's convention), less that. Cached counts past the input are
/// none a response can have (the log's own total says so: Gemini's `input` 100 with `cached`
/// 5,000 totals 110): the fresh input they leave, below zero, is [`NoCount`], written as that
/// negative count of `input_tokens`, which makes the response's usage unknown rather than
/// 5,000 tokens it never read.
pub fn fresh_input(input: u64, cached: u64) -> Result<u64, NoCount> {
    input.checked_sub(cached).ok_or_else(|| NoCount {
        counts: "input_tokens",
        written: Value::from(-i64::try_from(cached - input).unwrap_or(i64::MAX)),
    })
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

/// Reads a log's lines, calling `each` with the line number and the line's JSON (or why it is
/// not JSON); returns how far it read.
pub fn read_lines(
    path: &Path,
    mut each: impl FnMut(u64, Result<Value, String>),
) -> Result<Position, ImportError> {
    read_lines_while(path, u64::MAX, |n, line| {
        each(n, line);
        Ok(true)
    })
}

/// The length of the log at `path` when an import first looks at it, which each of the
/// import's passes over the log reads up to and no further ([`read_lines_while`]). An agent may
/// be appending to its log meanwhile: a line one pass read and another did not would be counted
/// twice or lost (a rollout's first `token_usage_record`, seen by its lines and not by a head
/// that looked for records, once counted its response twice: by the record and by the running
/// total). What the log gains after is the next import's, which finds the file grown.
pub fn length(path: &Path) -> Result<u64, ImportError> {
    let io = |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = crate::store::open_regular(path).map_err(io)?;
    Ok(file.metadata().map_err(io)?.len())
}

/// [`read_lines`], one line in memory at a time, up to byte `end` of the file (its
/// [`length`] when the import began) and for as long as `each` says to go on (`true`): an
/// error it returns ends the read with that error. Returns how far it read.
pub fn read_lines_while(
    path: &Path,
    end: u64,
    mut each: impl FnMut(u64, Result<Value, String>) -> Result<bool, ImportError>,
) -> Result<Position, ImportError> {
    let io = |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = crate::store::open_regular(path).map_err(io)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, std::io::Read::take(file, end));
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
            if !each(read.lines, Err(super::claude_transcript::too_long()))? {
                break;
            }
            continue;
        }
        let text = crate::store::json_text(&buf);
        if text.is_empty() {
            continue;
        }
        let value = deep_json::from_slice::<Value>(text).map_err(|e| {
            if std::str::from_utf8(text).is_err() {
                "binary data, not JSON text".to_owned()
            } else {
                e.to_string()
            }
        });
        if !each(read.lines, value)? {
            break;
        }
    }
    Ok(read)
}

/// The first prompt of a log, as `import --discover` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstPrompt {
    /// What the person typed first, as the import records it and `list` shows it.
    Typed(String),
    /// The log holds none: it was read to its end.
    None,
    /// Not among the lines looked at, or the log is not one to look into line by line.
    Unknown,
}

/// The most lines [`first_prompt`] reads: a listing of a long history stays fast, and an
/// agent's first prompt comes within its log's first few lines.
pub const FIRST_PROMPT_LINES: usize = 500;

/// The first prompt of the log at `path`, read as far as it and no further (and never past
/// [`FIRST_PROMPT_LINES`] lines, nor into a line past [`crate::store::LINE_LIMIT`], which the
/// import skips): `prompt_in` is the import's own reading of a line's prompt from the line's
/// JSON text (`None` for a line that holds none, or that it cannot decode), one agent's
/// decoder for each format ([`json_line`] for those read as JSON values), and the prompt is
/// read as every listing reads one (a slash command's markup, an IDE's file or a reminder is
/// no one's prompt).
pub fn first_prompt(
    path: &Path,
    mut prompt_in: impl FnMut(&[u8]) -> Option<String>,
) -> FirstPrompt {
    // A FIFO or a device named like a log must not hold the listing.
    let Ok(file) = crate::store::open_regular(path) else {
        return FirstPrompt::Unknown;
    };
    let mut reader = std::io::BufReader::new(file);
    let mut line = Vec::new();
    for _ in 0..FIRST_PROMPT_LINES {
        match crate::store::read_line_within(&mut reader, &mut line, crate::store::LINE_LIMIT) {
            Ok(read) if read.consumed == 0 => return FirstPrompt::None,
            Ok(read) if !read.too_long => {}
            // A line past the limit is not read on to its end: the look stops there.
            _ => return FirstPrompt::Unknown,
        }
        let Some(text) = prompt_in(crate::store::json_text(&line)) else {
            continue;
        };
        let prompt = crate::model::prompt::read(&text);
        if prompt.by_person() {
            return FirstPrompt::Typed(prompt.text.into_owned());
        }
    }
    FirstPrompt::Unknown
}

/// [`first_prompt`]'s decoder for a log read as JSON values: `prompt_in` is the import's
/// reading of the prompt of a line's value; a line that is not JSON holds none.
pub fn json_line(
    prompt_in: impl Fn(&Value) -> Option<String>,
) -> impl FnMut(&[u8]) -> Option<String> {
    move |text| prompt_in(&deep_json::from_slice::<Value>(text).ok()?)
}

/// A log that is one JSON document (Gemini CLI's older chats), read whole, and how far it is.
pub fn whole_file(path: &Path) -> Result<(Vec<u8>, Position), ImportError> {
    let io = |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = crate::store::open_regular(path).map_err(io)?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes).map_err(io)?;
    let trimmed = bytes.trim_ascii_end().len();
    let end = bytes[..trimmed]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    #[expect(
        clippy::naive_bytecount,
        reason = "one file, read once; a crate for it is not worth it"
    )]
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    let read = Position {
        offset: bytes.len() as u64,
        last_line_at: end as u64,
        lines: lines.max(1),
    };
    Ok((bytes, read))
}

/// What is said of the document `bytes` of the file at `path` that JSON could not read (`e`):
/// which byte is not UTF-8, else where it is no JSON.
pub fn document_error(path: &Path, bytes: &[u8], e: &serde_json::Error) -> ImportError {
    let text = crate::store::without_bom(bytes);
    match std::str::from_utf8(text) {
        Err(bad) => {
            let offset = bytes.len() - text.len() + bad.valid_up_to();
            #[expect(
                clippy::naive_bytecount,
                reason = "one file, read once, when it cannot be imported"
            )]
            let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            ImportError::NotUtf8 {
                path: path.to_path_buf(),
                line,
                offset: offset as u64,
            }
        }
        Ok(_) => ImportError::NotTranscript {
            path: path.to_path_buf(),
            line: e.line() as u64,
            reason: e.to_string(),
        },
    }
}

/// Paths a Codex `apply_patch` patch adds, updates, deletes or moves to (one reading of a
/// patch, shared with the hook and the policy).
pub use crate::model::tools::patch_paths;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_prompt_is_looked_for_only_as_far_as_the_lines_it_may_be_in() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.jsonl");
        let prompt_in = || json_line(|line: &Value| string(line, "prompt").map(str::to_owned));
        let other = "{\"type\":\"other\"}\n";
        std::fs::write(
            &log,
            format!("{other}not json\n{{\"prompt\":\"fix it\"}}\n"),
        )
        .unwrap();
        assert_eq!(
            first_prompt(&log, prompt_in()),
            FirstPrompt::Typed("fix it".into())
        );
        std::fs::write(&log, other.repeat(3)).unwrap();
        assert_eq!(first_prompt(&log, prompt_in()), FirstPrompt::None);
        let late = format!(
            "{}{{\"prompt\":\"fix it\"}}\n",
            other.repeat(FIRST_PROMPT_LINES)
        );
        std::fs::write(&log, late).unwrap();
        assert_eq!(first_prompt(&log, prompt_in()), FirstPrompt::Unknown);
    }

    #[test]
    fn lines_are_read_up_to_the_length_given_though_the_file_grew() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.jsonl");
        let first = "{\"n\":1}\n{\"n\":2}\n";
        std::fs::write(&log, first).unwrap();
        let end = length(&log).unwrap();
        assert_eq!(end, first.len() as u64);
        // What an agent appends after the import took the log's length.
        std::fs::write(&log, format!("{first}{{\"n\":3}}\n")).unwrap();
        let mut seen = Vec::new();
        let read = read_lines_while(&log, end, |_, line| {
            seen.push(line.unwrap()["n"].as_u64().unwrap());
            Ok(true)
        })
        .unwrap();
        assert_eq!(seen, [1, 2]);
        assert_eq!((read.offset, read.lines), (end, 2));
    }

    #[test]
    fn fresh_input_is_the_input_less_its_cached_part_and_none_past_it() {
        assert_eq!(fresh_input(100, 40), Ok(60));
        assert_eq!(fresh_input(100, 100), Ok(0));
        let past = fresh_input(100, 5000).unwrap_err();
        assert_eq!(past.counts, "input_tokens");
        assert_eq!(crate::model::usage::token_count(&past.written), None);
        assert_eq!(Tokens::read_usage(&past.usage()), None);
    }

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
