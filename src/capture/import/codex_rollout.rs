//! A Codex CLI rollout (`~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`) into one session.
//!
//! Lines are `{timestamp, type, payload}` (docs/agents.md section 9.1): `session_meta` names the
//! session, `turn_context` the model of each turn, `response_item`s are the conversation
//! (messages, reasoning, function and custom tool calls and their outputs, web searches) and
//! `event_msg`s what happened (token counts, compactions …).
//!
//! Usage is exact per model response. Codex 0.171+ writes a `token_usage_record` per response;
//! older rollouts have only `token_count` events, which repeat unchanged when rate limits
//! refresh: a response is counted when the running total changed, by how much it changed, less
//! what records counted meanwhile (one rollout may hold both: an older Codex's, resumed by a
//! newer one). OpenAI counts cached input inside `input_tokens` and reasoning inside
//! `output_tokens`; the store keeps fresh input and cache reads apart (see docs/agents.md
//! section 9.1 and adr/0001-store-format.md).
//!
//! Rollouts of Codex CLI before about September 2025 have no envelope: their first line is the
//! session's meta itself (`{id, timestamp, instructions}`, later beside `git`), the others the
//! response items bare, with `{"record_type":"state"}` lines between. Each line is read as the
//! envelope that would hold it ([`parts`]), by the same reader. That shape gives no line but the
//! first a time, and holds no token usage.
//!
//! Codex CLI's TypeScript version, before the Rust rewrite (2025), saved a session as one JSON
//! document (`rollout-<date>-<id>.json`): `{"session": {timestamp, id, instructions}, "items":
//! [...]}`, its items the Responses API's (`codex-cli/src/utils/storage/save-rollout.ts`). Its
//! `session` is the older shape's meta and its items are bare: the document is read as the lines
//! of that shape would be ([`import_document`]).

use std::path::Path;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::agent_log::{self, Log, LoggedTokens, count, string};
use super::claude_transcript::{ImportError, ImportReport};
use super::json_document::{self, Document};
use super::log_writer::LogWriter;
use crate::capture::sink::Sink;
use crate::capture::transcript::{LoggedUsage, ResponseUsage};
use crate::model::file_use::FileUse;
use crate::model::policy::check;
use crate::model::policy::cwd::is_windows_folder;
use crate::model::shell_files::ShellFile;
use crate::model::tools::Agent;
use crate::model::usage::add_unless_unknown;
use crate::model::view::CALL_FOLDER;
use crate::model::view::CONTEXT_WINDOW;
use crate::model::{EventType, Tokens, deep_json};
use crate::store::Store;

/// Whether a first line is a rollout's, of either shape.
pub fn is_rollout(first: &Value) -> bool {
    let enveloped = first.get("payload").is_some_and(Value::is_object)
        && matches!(
            string(first, "type"),
            Some("session_meta" | "response_item" | "event_msg" | "turn_context")
        );
    enveloped || is_bare_meta(first)
}

/// The list of a rollout document's items.
pub const ITEMS: &str = "items";

/// Whether a document's header (every field but its [`ITEMS`]) is a rollout document's: its
/// `session` the older shape's meta.
pub fn is_document(header: &Value) -> bool {
    header.get("session").is_some_and(is_bare_meta)
}

/// The session id and working folder a rollout document's header names ([`origin`] of its
/// `session`; the TypeScript version named no folder).
pub fn document_origin(header: &Value) -> (Option<String>, Option<String>) {
    header.get("session").map_or((None, None), origin)
}

/// Whether a line is the session's meta that a rollout of the older shape begins with
/// (codex-rs's `SessionMeta`, flattened beside `git` in later versions): a UUID `id` and a
/// `timestamp`, and no `type`, which every other line of a rollout, and of the other agents'
/// logs, has.
fn is_bare_meta(line: &Value) -> bool {
    line.get("type").is_none()
        && line.get("payload").is_none()
        && string(line, "timestamp").is_some()
        && string(line, "id").is_some_and(|id| uuid::Uuid::try_parse(id).is_ok())
}

/// A line's kind and payload, as the envelope gives them (`{timestamp, type, payload}`). A
/// line of the older shape, which has none, is read as the envelope that would hold it: its
/// bare meta a `session_meta`, a `{"record_type": …}` line of that kind (`state`, which holds
/// nothing read here), any other line a `response_item`, the item itself.
fn parts(line: &Value) -> (&str, &Value) {
    if let Some(payload) = line.get("payload") {
        return (string(line, "type").unwrap_or("untyped"), payload);
    }
    if let Some(record) = string(line, "record_type") {
        return (record, line);
    }
    if is_bare_meta(line) {
        return ("session_meta", line);
    }
    match string(line, "type") {
        Some(_) => ("response_item", line),
        None => ("untyped", &Value::Null),
    }
}

/// The session id and working folder a rollout names, from its `session_meta`.
pub fn origin(first: &Value) -> (Option<String>, Option<String>) {
    let (kind, payload) = parts(first);
    if kind != "session_meta" {
        return (None, None);
    }
    (
        string(payload, "id").map(str::to_owned),
        string(payload, "cwd").map(str::to_owned),
    )
}

/// Imports a rollout one line at a time: its head is read first ([`head`]), then each line's
/// events are written as the line is read, so a long rollout is never held whole. Both read it
/// as long as it was when the import began ([`agent_log::length`]).
pub fn import(store: &Store, path: &Path, sink: &Sink) -> Result<ImportReport, ImportError> {
    import_to(store, path, sink, agent_log::length(path)?)
}

/// [`import`] of the rollout's first `end` bytes.
fn import_to(
    store: &Store,
    path: &Path,
    sink: &Sink,
    end: u64,
) -> Result<ImportReport, ImportError> {
    let head = head(path, end)?;
    let mut writer = LogWriter::open(store, path, sink, &head)?;
    let mut reader = Reader::new();
    let read = agent_log::read_lines_while(path, end, |n, line| {
        match line {
            Ok(line) => reader.line(&line),
            Err(message) => reader.log.bad_line(n, message),
        }
        writer.take(&mut reader.log)?;
        Ok(true)
    })?;
    reader.log.lines = read.lines;
    writer.finish(reader.log, read)
}

/// What a rollout says of its session as a whole, which the session's first event carries
/// though later lines may say it (its `session_meta`, the model of its first `turn_context`,
/// its first time). Read before the rollout's events, up to the line after which nothing can
/// change them, else to its end (`end`). A rollout with no JSON line is empty.
fn head(path: &Path, end: u64) -> Result<Log, ImportError> {
    let mut head = Reader::new();
    let mut any = false;
    agent_log::read_lines_while(path, end, |_, line| {
        let Ok(line) = line else { return Ok(true) };
        any = true;
        head.head(&line);
        Ok(!head.settled())
    })?;
    if !any {
        return Err(ImportError::Empty(path.to_path_buf()));
    }
    Ok(head.log)
}

/// Imports a rollout document ([`is_document`]): its `session` read as the older shape's meta
/// line and each of its items as a line of that shape, by the same reader, each item's events
/// written before the next item is read. Its head is read first, as a rollout's ([`head`]).
pub fn import_document(
    store: &Store,
    path: &Path,
    sink: &Sink,
) -> Result<ImportReport, ImportError> {
    let (bytes, read) = agent_log::whole_file(path)?;
    let failed = |e: serde_json::Error| agent_log::document_error(path, &bytes, &e);
    let document = Document::read(&bytes, &[ITEMS]).map_err(failed)?;
    let session = document.header.get("session").unwrap_or(&Value::Null);
    let item = |raw: &RawValue| deep_json::from_str::<Value>(raw.get()).map_err(failed);
    let mut head = Reader::new();
    head.head(session);
    for raw in &document.entries {
        if head.settled() {
            break;
        }
        head.head(&item(raw)?);
    }
    let mut writer = LogWriter::open(store, path, sink, &head.log)?;
    let mut reader = Reader::new();
    reader.line(session);
    writer.take(&mut reader.log)?;
    for raw in &document.entries {
        reader.line(&item(raw)?);
        writer.take(&mut reader.log)?;
    }
    reader.log.lines = read.lines;
    writer.finish(reader.log, read)
}

/// The first prompt of a rollout document ([`json_document::first_prompt`]).
pub fn document_first_prompt(path: &Path) -> agent_log::FirstPrompt {
    json_document::first_prompt(path, ITEMS, prompt_in)
}

/// What a rollout of the older shape leaves out, said on its import.
const OLDER_SHAPE: &str = "a Codex rollout of the older shape (before about September 2025) \
    gives no time but the session's start, and no token usage: every event is placed at the \
    start, how long the session and its calls took is not known, and so is what it cost (its \
    tokens are estimated from payload sizes, and it names no model to price them)";

struct Reader {
    log: Log,
    /// The model of the turn in progress.
    model: Option<String>,
    /// The folder of the turn in progress (its `turn_context`'s `cwd`), else the session's.
    folder: Option<String>,
    /// The context window Codex last said the model has (`model_context_window`), written on
    /// each response as [`CONTEXT_WINDOW`] so that readers measure against the agent's window,
    /// not the price table's guess of it.
    window: Option<u64>,
    counter: Counter,
    /// Whether the rollout is of the older shape (its meta line bare).
    older_shape: bool,
}

/// Counts each model response of a rollout once, from what the rollout holds for it: a
/// `token_usage_record` (Codex 0.171+) is its response's usage; a `token_count` whose running
/// total changed holds the responses since the last change, by the change, less what the
/// records meanwhile counted. Codex 0.171 writes a response's record before the `token_count`
/// that adds it to the total (observed: docs/agents/recorded, tests/fixtures/resumed), so a
/// change its records counted whole is none, and a rollout an older Codex wrote and a newer one
/// resumed counts the older part by its totals and the newer by its records, the total running
/// on from the older part's.
struct Counter {
    /// The running total of the last `token_count` that changed it.
    total: Option<Value>,
    /// What the `token_usage_record`s since that change counted; `None` when none did.
    recorded: Option<LoggedTokens>,
}

/// One response's usage: in the store's convention, as the agent reported it, and the fields
/// that name it.
type Counted = (LoggedTokens, Option<Value>, Map<String, Value>);

impl Counter {
    fn new() -> Counter {
        Counter {
            total: None,
            recorded: None,
        }
    }

    /// The response a line reports, if it reports one not counted yet.
    fn line(&mut self, kind: &str, sub: Option<&str>, payload: &Value) -> Option<Counted> {
        match (kind, sub) {
            ("event_msg", Some("token_count")) => self.token_count(payload),
            ("token_usage_record", _) => {
                let usage = payload.get("usage").unwrap_or(&Value::Null);
                let mut extra = Map::new();
                if let Some(id) = string(payload, "response_id") {
                    extra.insert("response_id".into(), id.into());
                }
                let counted = tokens(usage);
                self.recorded = Some(add_unless_unknown(self.recorded.take(), &counted));
                Some((counted, Some(usage.clone()), extra))
            }
            _ => None,
        }
    }

    /// A response when the running total changed, by the change.
    fn token_count(&mut self, payload: &Value) -> Option<Counted> {
        let info = payload.get("info").filter(|i| i.is_object())?;
        let total = info.get("total_token_usage").filter(|t| t.is_object())?;
        if self.total.as_ref() == Some(total) {
            return None;
        }
        let now = tokens(total);
        let before = self.total.as_ref().map_or(Ok(Tokens::default()), tokens);
        let reported = info.get("last_token_usage").cloned();
        let last = || {
            reported
                .as_ref()
                .filter(|last| last.is_object())
                .map(tokens)
        };
        let delta = match (now, before) {
            // A total that holds no count leaves this response's usage unknown.
            (Err(no_count), _) => Err(no_count),
            // The change since a total that held none cannot be told: the response is the
            // one it reports, else unknown.
            (Ok(_), Err(no_count)) => last().unwrap_or(Err(no_count)),
            // A total that went down began again (a resumed Codex counts from zero): the
            // response is the one it reports, else all the new total holds. The change,
            // clamped at zero, lost it.
            (Ok(now), Ok(before)) if now.total() < before.total() => last().unwrap_or(Ok(now)),
            (Ok(mut delta), Ok(before)) => {
                delta.subtract(&before);
                Ok(delta)
            }
        };
        self.total = Some(total.clone());
        match self.recorded.take() {
            None => Some((delta, reported, Map::new())),
            // The change is the records', whose sum cannot be taken out of it.
            Some(Err(_)) => None,
            Some(Ok(recorded)) => {
                // A change that holds no count is the records' alone.
                let mut unrecorded = delta.ok()?;
                unrecorded.subtract(&recorded);
                // What Codex reported beside it is the last record's response, not this one.
                (!unrecorded.is_zero()).then_some((Ok(unrecorded), None, Map::new()))
            }
        }
    }
}

/// The usage of every model response in a rollout, in file order, counted the way its import
/// counts it; `None` when the file is not a rollout. For costing a session recorded by Codex's
/// hooks, which never carry tokens, from the rollout its SessionStart names (as a Claude Code
/// hook session takes its usage from its transcript).
pub fn usage(path: &Path) -> Option<LoggedUsage> {
    // Read as long as the rollout was when the read began, as its import reads it.
    let end = agent_log::length(path).ok()?;
    let mut counter = Counter::new();
    let mut model: Option<String> = None;
    let mut last = 0.0;
    let mut logged = LoggedUsage::default();
    // Whether the first JSON line is a rollout's; `None` while none was read.
    let mut rollout = None;
    agent_log::read_lines_while(path, end, |_, line| {
        let Ok(line) = line else { return Ok(true) };
        if !*rollout.get_or_insert_with(|| is_rollout(&line)) {
            return Ok(false);
        }
        let line = &line;
        let (kind, payload) = parts(line);
        if kind == "turn_context"
            && let Some(m) = string(payload, "model")
        {
            model = Some(m.to_owned());
        }
        last = agent_log::time(line, "timestamp").unwrap_or(last);
        // A usage that holds a count no response can have is unknown: left out and counted,
        // as a transcript's is (`transcript_usage`) and as every reader of events counts it.
        if let Some((usage, _, _)) = counter.line(kind, string(payload, "type"), payload) {
            match usage {
                Ok(usage) if usage.believable() => logged.responses.push(ResponseUsage {
                    timestamp: last,
                    model: model.clone().unwrap_or_else(|| "unknown".into()),
                    usage,
                    subagent: false,
                }),
                _ => logged.unbelieved += 1,
            }
        }
        Ok(true)
    })
    .ok()?;
    (rollout == Some(true)).then_some(logged)
}

impl Reader {
    fn new() -> Reader {
        Reader {
            log: Log::new(Agent::Codex),
            model: None,
            folder: None,
            window: None,
            counter: Counter::new(),
            older_shape: false,
        }
    }

    /// What `line` says of the session as a whole ([`head`]), as [`Reader::line`] reads it.
    fn head(&mut self, line: &Value) {
        self.log.at(agent_log::time(line, "timestamp"));
        match self.parts(line) {
            ("session_meta", payload) => self.meta(payload),
            ("turn_context", payload) => self.turn_context(payload),
            ("response_item", payload) => {
                if let Some(text) = user_message(payload).filter(|t| is_context(t)) {
                    self.context_folder(&text);
                }
            }
            _ => {}
        }
    }

    /// Whether nothing a later line says changes the head ([`head`]): a session id freezes the
    /// `session_meta` read, a model the start's, a time the start; the older shape names no
    /// model, and its folder only in the environment context.
    fn settled(&self) -> bool {
        let log = &self.log;
        let named =
            log.start.contains_key("model") || (self.older_shape && log.start.contains_key("cwd"));
        log.session_id.is_some() && named && log.started.is_some()
    }

    /// [`parts`] of a line; a meta line of the older shape says what that shape leaves out.
    fn parts<'a>(&mut self, line: &'a Value) -> (&'a str, &'a Value) {
        let parts = parts(line);
        if parts.0 == "session_meta" && !self.older_shape && is_bare_meta(line) {
            self.older_shape = true;
            self.log.start_only = true;
            self.log.warnings.push(OLDER_SHAPE.to_owned());
        }
        parts
    }

    fn line(&mut self, line: &Value) {
        let (kind, payload) = self.parts(line);
        let sub = string(payload, "type");
        match sub {
            Some(sub) if kind == "response_item" || kind == "event_msg" => {
                self.log.saw(&format!("{kind}/{sub}"));
            }
            _ => self.log.saw(kind),
        }
        let time = agent_log::time(line, "timestamp");
        let at = self.log.at(time);
        self.note_window(payload);
        match (kind, sub) {
            ("session_meta", _) => self.meta(payload),
            ("turn_context", _) => self.turn_context(payload),
            ("response_item", Some(item)) => self.item(at, time.is_some(), item, payload),
            ("event_msg", Some("context_compacted")) => self.log.compaction(at, None),
            ("event_msg", Some("turn_aborted")) => self.turn_aborted(at, payload),
            ("event_msg", Some("error")) => self.turn_error(at, payload),
            ("event_msg", Some("patch_apply_end")) => self.patch_applied(at, payload),
            ("compacted", _) => self.log.compaction(at, string(payload, "message")),
            _ => {
                if let Some((usage, reported, mut extra)) = self.counter.line(kind, sub, payload) {
                    if let Some(window) = self.window {
                        extra.insert(CONTEXT_WINDOW.into(), window.into());
                    }
                    let model = self.model.clone();
                    self.log
                        .response(at, model.as_deref(), usage, reported, extra);
                }
            }
        }
    }

    /// A turn Codex ended before its answer (`turn_aborted`): recorded as a Claude Code
    /// session's interrupt is (a `decision` its views read as [`View::Interrupt`]), so that
    /// readers count a Codex session's interrupts as they count any other's. Codex's reasons:
    /// `interrupted` (Esc, Ctrl+C: the user's stop), `replaced` (a new prompt took the turn's
    /// place), and `review_ended`, no interrupt, which is left out.
    ///
    /// [`View::Interrupt`]: crate::model::View::Interrupt
    fn turn_aborted(&mut self, at: f64, payload: &Value) {
        let reason = match string(payload, "reason") {
            Some("interrupted") | None => "stop",
            // A review's end is no one's stop: the review turn was over.
            Some("review_ended") => return,
            Some(other) => other,
        };
        let mut data = Map::new();
        data.insert("hook_event_name".into(), "Interrupt".into());
        data.insert("source".into(), "user".into());
        data.insert("reason".into(), reason.into());
        self.log.push(EventType::Decision, at, data);
    }

    /// An error that ended a turn (`event_msg` `error`: the stream broke, the API refused, a
    /// limit was reached): recorded as a Claude Code session's API error is, an `error` of no
    /// call, the turn's, not a tool's.
    fn turn_error(&mut self, at: f64, payload: &Value) {
        let message = string(payload, "message").unwrap_or("the turn failed");
        let mut data = Map::new();
        data.insert("error".into(), message.into());
        self.log.push(EventType::Error, at, data);
    }

    /// The window a line says the model has: `task_started` and `turn_context` give it at the
    /// turn's start, a `token_count` in its `info` beside the usage.
    fn note_window(&mut self, payload: &Value) {
        let said = payload
            .get("model_context_window")
            .or_else(|| payload.get("info")?.get("model_context_window"))
            .and_then(Value::as_u64)
            .filter(|w| *w > 0);
        if let Some(window) = said {
            self.window = Some(window);
        }
    }

    /// A patch Codex applied (`patch_apply_end`): when it succeeded, the files its `changes`
    /// name were changed by the call it was applied for ([`agent_log::Log::patched`]), from
    /// the turn's folder: a `delete` deleted, an update with a `move_path` moved there, any
    /// other written. A failed one changed nothing.
    fn patch_applied(&mut self, at: f64, payload: &Value) {
        if payload.get("success").and_then(Value::as_bool) != Some(true) {
            return;
        }
        let session_folder = self.log.start.get("cwd").and_then(Value::as_str);
        let folder = self.folder.as_deref().or(session_folder);
        let absolute = |path: &str| match folder {
            Some(folder) if is_windows_folder(folder) => windows_join(folder, path),
            _ => check::absolute(path, folder),
        };
        let mut files = Vec::new();
        let changes = payload.get("changes").and_then(Value::as_object);
        for (path, change) in changes.into_iter().flatten() {
            let file_use = match (string(change, "type"), string(change, "move_path")) {
                (Some("delete"), _) => FileUse::Delete,
                (_, Some(to)) => FileUse::Move(absolute(to)),
                _ => FileUse::Write,
            };
            let path = absolute(path);
            files.push(ShellFile { path, file_use });
        }
        self.log.patched(at, string(payload, "call_id"), files);
    }

    /// The folder Codex's environment context names, taken for the session's when its meta
    /// names none (the older shape's does not).
    fn context_folder(&mut self, text: &str) {
        if self.log.start.contains_key("cwd") {
            return;
        }
        if let Some(cwd) = context_cwd(text) {
            self.log.start.insert("cwd".into(), cwd.into());
        }
    }

    /// A turn's folder and model; the first model is the session's.
    fn turn_context(&mut self, payload: &Value) {
        if let Some(cwd) = string(payload, "cwd") {
            self.folder = Some(cwd.to_owned());
        }
        if let Some(model) = string(payload, "model") {
            self.model = Some(model.to_owned());
            self.log
                .start
                .entry("model")
                .or_insert_with(|| model.into());
        }
    }

    fn meta(&mut self, payload: &Value) {
        if self.log.session_id.is_some() {
            return;
        }
        self.log.session_id = string(payload, "id").map(str::to_owned);
        let start = &mut self.log.start;
        for (key, from) in [
            ("cwd", "cwd"),
            ("version", "cli_version"),
            ("originator", "originator"),
            ("model_provider", "model_provider"),
        ] {
            if let Some(value) = string(payload, from) {
                start.insert(key.into(), value.into());
            }
        }
        if let Some(git) = payload.get("git") {
            if let Some(branch) = string(git, "branch") {
                start.insert("git_branch".into(), branch.into());
            }
            if let Some(commit) = string(git, "commit_hash") {
                start.insert("git_commit".into(), commit.into());
            }
        }
    }

    /// The folder a call ran in, when it is not the one the session started in: Codex runs
    /// each command on its own, in the `workdir` the call names (`working_directory` in a
    /// `local_shell_call`'s action), taken from the turn's folder when relative, as Codex takes
    /// it. Written on the call ([`CALL_FOLDER`]) as a hook writes a Claude Code call's, so
    /// `audit` judges its paths from there and knows no Codex key.
    fn ran_in(&self, arguments: &Value) -> Option<String> {
        let start = self.log.start.get("cwd").and_then(Value::as_str);
        let turn = self.folder.as_deref().or(start);
        let workdir = string(arguments, "workdir")
            .or_else(|| string(arguments, "working_directory"))
            .filter(|w| !w.is_empty());
        let folder = match (workdir, turn) {
            // A rollout written on Windows names its folders so (`C:\work\app`), and `/` is no
            // root there.
            (Some(workdir), Some(turn)) if is_windows_folder(turn) => windows_join(turn, workdir),
            (Some(workdir), _) => check::absolute(workdir, turn),
            (None, _) => turn?.to_owned(),
        };
        let absolute = folder.starts_with('/') || is_windows_folder(&folder);
        (absolute && Some(folder.as_str()) != start).then_some(folder)
    }

    /// A response item, of a line that gave a time (`timed`) or not (the older shape's).
    fn item(&mut self, at: f64, timed: bool, item: &str, payload: &Value) {
        let model = self.model.clone();
        match item {
            "message" => {
                let text = message_text(payload);
                match string(payload, "role") {
                    Some("user") if is_context(&text) => self.context_folder(&text),
                    Some("user") => self.log.prompt(at, &text),
                    Some("assistant") => {
                        self.log.request(at, model.as_deref());
                        self.log.answer(at, &text);
                    }
                    _ => {}
                }
            }
            "reasoning" => {
                self.log.request(at, model.as_deref());
                let summary: Vec<&str> = payload
                    .get("summary")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|s| string(s, "text"))
                    .collect();
                self.log.thinking(at, &summary.join("\n\n"));
            }
            "function_call" | "custom_tool_call" | "local_shell_call" => {
                self.log.request(at, model.as_deref());
                let name = string(payload, "name").unwrap_or(if item == "local_shell_call" {
                    "shell"
                } else {
                    "unknown"
                });
                let arguments = match (payload.get("arguments"), payload.get("input")) {
                    // Function arguments are a JSON string; one that is not JSON is kept whole.
                    (Some(Value::String(args)), _) => {
                        deep_json::from_str(args).unwrap_or_else(|_| Value::String(args.clone()))
                    }
                    (Some(args), _) => args.clone(),
                    (None, Some(input)) => {
                        let mut args = Map::new();
                        args.insert("input".into(), input.clone());
                        Value::Object(args)
                    }
                    (None, None) => payload.get("action").cloned().unwrap_or(Value::Null),
                };
                let id = string(payload, "call_id").or_else(|| string(payload, "id"));
                let ran_in = self.ran_in(&arguments);
                self.log.folder.clone_from(&ran_in);
                let call = self.log.call(at, name, arguments, id);
                if let Some(folder) = ran_in {
                    self.log
                        .draft_mut(call)
                        .data
                        .insert(CALL_FOLDER.into(), folder.into());
                }
            }
            "function_call_output" | "custom_tool_call_output" | "local_shell_call_output" => {
                let output = payload.get("output").unwrap_or(&Value::Null);
                let (text, failed) = output_text(output);
                let id = string(payload, "call_id");
                // A call and its result at the one time a log gives both took a time unknown.
                if timed {
                    self.log.result(at, id, &text, failed);
                } else {
                    self.log.untimed_result(at, id, &text, failed);
                }
            }
            "web_search_call" => {
                self.log.request(at, model.as_deref());
                let action = payload.get("action").cloned().unwrap_or(Value::Null);
                self.log.call(at, "web_search", action, None);
            }
            _ => {}
        }
    }
}

/// OpenAI's usage in the store's convention: `input_tokens` includes the cached input (and any
/// cache write), which the store counts apart; reasoning is inside `output_tokens`. A count
/// that is no count a response can have, or cached input past the input, makes them unknown.
fn tokens(usage: &Value) -> LoggedTokens {
    let cached = count(usage, "cached_input_tokens", "cache_read_input_tokens")?;
    let written = count(
        usage,
        "cache_write_input_tokens",
        "cache_creation_input_tokens",
    )?;
    let input = count(usage, "input_tokens", "input_tokens")?;
    Ok(Tokens {
        input: agent_log::fresh_input(input, cached.saturating_add(written))?,
        output: count(usage, "output_tokens", "output_tokens")?,
        cache_creation: written,
        cache_creation_1h: 0,
        cache_read: cached,
        reasoning: count(usage, "reasoning_output_tokens", "output_tokens")?,
    })
}

/// The prompt a rollout's line holds, as its import records it: a user message that is not
/// the context Codex adds.
pub fn prompt_in(line: &Value) -> Option<String> {
    match parts(line) {
        ("response_item", payload) => typed(user_message(payload)?),
        _ => None,
    }
}

/// The text of an item that is a user message.
fn user_message(payload: &Value) -> Option<String> {
    let user =
        string(payload, "type") == Some("message") && string(payload, "role") == Some("user");
    user.then(|| message_text(payload))
}

/// The folder Codex's environment context names: `<cwd>…</cwd>`, or `Current working
/// directory: …` in its first form (codex-rs's `EnvironmentContext`, summer 2025); `None`
/// for any other text, or a folder that is not absolute.
fn context_cwd(text: &str) -> Option<&str> {
    let body = text.trim_start().strip_prefix("<environment_context>")?;
    let cwd = match body.split_once("<cwd>") {
        Some((_, rest)) => rest.split_once("</cwd>")?.0,
        None => body
            .lines()
            .find_map(|l| l.trim().strip_prefix("Current working directory:"))?,
    };
    let cwd = cwd.trim();
    (cwd.starts_with('/') || is_windows_folder(cwd)).then_some(cwd)
}

/// The folder the environment context of a rollout whose meta names none gives (the older
/// shape's), read as far as it and never past [`agent_log::FIRST_PROMPT_LINES`] lines: where
/// `import --discover` and `--all` place its session, as its import records it.
pub fn folder_in_context(path: &Path) -> Option<String> {
    let mut found = None;
    let lines = agent_log::FIRST_PROMPT_LINES as u64;
    agent_log::read_lines_while(path, u64::MAX, |n, line| {
        if let Ok(line) = line
            && let ("response_item", payload) = parts(&line)
            && let Some(text) = user_message(payload)
        {
            found = context_cwd(&text).map(str::to_owned);
        }
        Ok(found.is_none() && n < lines)
    })
    .ok()?;
    found
}

/// The first prompt of a rollout, read as far as it ([`agent_log::first_prompt`]).
pub fn first_prompt(path: &Path) -> agent_log::FirstPrompt {
    agent_log::first_prompt(path, agent_log::json_line(prompt_in))
}

/// A user message's text as a prompt: `None` when it is the context Codex adds.
fn typed(text: String) -> Option<String> {
    (!is_context(&text)).then_some(text)
}

/// The text of a message's content parts.
fn message_text(payload: &Value) -> String {
    let parts: Vec<&str> = payload
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| string(p, "text"))
        .collect();
    parts.join("\n")
}

/// The tags Codex wraps its context in, read in its source (`contextual_user_message.rs` and
/// the instructions' and shell command's modules, 0.40 to 0.171): a user message that begins
/// with one is no prompt, as Codex itself tells them apart (case-insensitive).
const CONTEXT_TAGS: &[&str] = &[
    "<environment_context>",
    "<user_instructions>",
    "<turn_aborted>",
    "<tool_context>",
    "<reasoning_context>",
    "<pinned_notes>",
    "<subagent_notification>",
    "<context_update>",
    "<skill>",
    "<user_shell_command>",
];

/// What Codex puts into the conversation as a user message besides what the person typed:
/// the project's AGENTS.md (`# AGENTS.md instructions for …`), a message beginning with one of
/// Codex's [`CONTEXT_TAGS`], and one wrapped whole in a tag named as Codex names them
/// (`<snake_case>…</snake_case>`: the tags newer versions add). A prompt that only begins with
/// a tag (`<Button> renders twice`) or is wrapped in markup (`<div>fix this</div>`) is the
/// person's.
fn is_context(text: &str) -> bool {
    let text = text.trim();
    if text.starts_with("# AGENTS.md instructions") {
        return true;
    }
    let begins_with = |tag: &str| {
        text.get(..tag.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(tag))
    };
    if CONTEXT_TAGS.iter().any(|tag| begins_with(tag)) {
        return true;
    }
    let Some(name) = text
        .strip_prefix('<')
        .and_then(|rest| rest.split_once('>'))
        .map(|(name, _)| name)
    else {
        return false;
    };
    let named_as_codex_names =
        name.contains('_') && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    named_as_codex_names
        && text
            .strip_suffix('>')
            .and_then(|rest| rest.strip_suffix(name))
            .is_some_and(|rest| rest.ends_with("</"))
}

/// What Codex answers the model in place of a tool's output when the call never ran, or was
/// stopped (read off its 0.171 binary): the user said no to a command or a patch, stopped it
/// (`aborted by user after 1.5s`), or Codex would not apply the patch (`patch rejected:
/// empty patch`, or `…; rejected by user approval settings`). Each is a failed call, which
/// the store's readers tell from a refusal by the words (`model::outcome`).
const CODEX_REFUSALS: [&str; 4] = [
    "exec command rejected by user",
    "patch rejected by user",
    "patch rejected: ",
    "aborted by user",
];

/// A tool output's text, and whether it failed: older Codex wrote a JSON string with the
/// output and an exit code, newer a text with `Process exited with code N` (or `Exit code: N`);
/// a call Codex never ran, or one the user stopped, has [`CODEX_REFUSALS`]' words instead.
fn output_text(output: &Value) -> (String, bool) {
    let text = match output {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    if CODEX_REFUSALS.iter().any(|r| text.starts_with(r)) {
        return (text, true);
    }
    // A command the user stopped: `Wall time: 2.0 seconds\naborted by user`. Its words come
    // first in the store, so that it reads as the user's stop (an output's first line says
    // how the call ended).
    if let Some((wall, "aborted by user")) = text.trim_end().split_once('\n')
        && wall.starts_with("Wall time: ")
    {
        return (format!("aborted by user\n{wall}"), true);
    }
    if let Ok(inner) = deep_json::from_str::<Value>(&text)
        && let Some(out) = string(&inner, "output")
    {
        let code = inner
            .get("metadata")
            .and_then(|m| m.get("exit_code"))
            .and_then(Value::as_i64);
        return match code {
            // Written as newer Codex writes it: a command's output is the command's to word,
            // and one whose first line reads "User rejected tool use" is still a failure.
            Some(code @ (..=-1 | 1..)) => (format!("Exit code: {code}\nOutput:\n{out}"), true),
            _ => (out.to_owned(), false),
        };
    }
    let code = text.lines().take(6).find_map(|l| {
        l.strip_prefix("Process exited with code ")
            .or_else(|| l.strip_prefix("Exit code: "))
            .and_then(|c| c.trim().parse::<i64>().ok())
    });
    let failed = code.is_some_and(|c| c != 0);
    (text, failed)
}

/// `path` taken from the Windows folder `base`, as Codex takes a relative `workdir` there:
/// either separator, `.` and `..` resolved (never above the drive or share), `\` between.
fn windows_join(base: &str, path: &str) -> String {
    if is_windows_folder(path) {
        return path.to_owned();
    }
    let (prefix, rest) = match base.strip_prefix("\\\\") {
        Some(share) => ("\\\\", share),
        None => ("", base),
    };
    let mut parts: Vec<&str> = rest.split(['\\', '/']).filter(|p| !p.is_empty()).collect();
    // The drive (`C:`) or the share's host and name stay, whatever `..` says.
    let root = if prefix.is_empty() {
        1
    } else {
        2.min(parts.len())
    };
    for part in path.split(['\\', '/']) {
        match part {
            "" | "." => {}
            ".." => {
                if parts.len() > root {
                    parts.pop();
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("\\");
    if prefix.is_empty() && parts.len() == 1 {
        // A drive alone is its root, `C:\`.
        return format!("{joined}\\");
    }
    format!("{prefix}{joined}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rollout that gains lines after its import took its length (Codex writing on) is
    /// imported as it was then, each of its responses once: the head and the lines read the
    /// same bytes, and what lies past them (a `token_count`, a `token_usage_record`) is the
    /// next import's.
    #[test]
    fn lines_appended_during_an_import_are_left_to_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let rollout = dir.path().join("rollout.jsonl");
        let line = |kind: &str, payload: Value| {
            serde_json::json!({"timestamp": "2026-02-23T12:41:04.000Z", "type": kind, "payload": payload})
                .to_string()
                + "\n"
        };
        let count = |input: u64| {
            line(
                "event_msg",
                serde_json::json!({"type": "token_count", "info": {"total_token_usage": {"input_tokens": input, "output_tokens": 10}}}),
            )
        };
        let first = [
            line(
                "session_meta",
                serde_json::json!({"id": "019c8a4d-8f45-7010-8b5d-7fad920aa6f9", "cwd": "/p"}),
            ),
            line("turn_context", serde_json::json!({"model": "gpt-5"})),
            count(100),
        ]
        .concat();
        let appended = [
            count(200),
            line(
                "token_usage_record",
                serde_json::json!({"usage": {"input_tokens": 100, "output_tokens": 10}}),
            ),
        ]
        .concat();
        std::fs::write(&rollout, format!("{first}{appended}")).unwrap();
        let store = Store::new(dir.path().join("store"));
        let sink = Sink::new(crate::capture::sink::Privacy::default());
        let report = import_to(&store, &rollout, &sink, first.len() as u64).unwrap();
        assert_eq!((report.lines, report.responses), (3, 1));
        assert_eq!((report.tokens.input, report.tokens.output), (100, 10));
    }

    /// The input and output of each response `lines` report, in order.
    fn counted(lines: &[(&str, Value)]) -> Vec<(u64, u64)> {
        let mut counter = Counter::new();
        lines
            .iter()
            .filter_map(|(kind, payload)| counter.line(kind, string(payload, "type"), payload))
            .map(|(usage, _, _)| usage.map(|t| (t.input, t.output)).unwrap())
            .collect()
    }

    fn token_count(input: u64, output: u64) -> (&'static str, Value) {
        let total = serde_json::json!({"input_tokens": input, "output_tokens": output});
        let info = serde_json::json!({"total_token_usage": total});
        (
            "event_msg",
            serde_json::json!({"type": "token_count", "info": info}),
        )
    }

    fn record(input: u64, output: u64) -> (&'static str, Value) {
        let usage = serde_json::json!({"input_tokens": input, "output_tokens": output});
        ("token_usage_record", serde_json::json!({"usage": usage}))
    }

    /// A rollout an older Codex wrote (running totals alone) that Codex 0.171 resumed (a record
    /// per response, each before the total that adds it): the older responses are the changes of
    /// the total, the newer ones their records, and a change the records counted is none.
    #[test]
    fn a_resumed_rollout_counts_totals_then_records_each_response_once() {
        let lines = [
            token_count(100, 10),
            token_count(100, 10),
            token_count(250, 30),
            record(60, 7),
            token_count(310, 37),
            record(40, 3),
            record(20, 2),
            token_count(370, 42),
        ];
        assert_eq!(
            counted(&lines),
            [(100, 10), (150, 20), (60, 7), (40, 3), (20, 2)]
        );
    }

    /// A change of the total past what the records since counted is a response no record
    /// holds: the rest is counted, once.
    #[test]
    fn a_change_past_the_records_counts_the_rest() {
        let lines = [token_count(100, 10), record(60, 7), token_count(200, 20)];
        assert_eq!(counted(&lines), [(100, 10), (60, 7), (40, 3)]);
    }

    /// The older shape's lines are read as the envelope that would hold them, and its meta
    /// line is told from a line of another log by its UUID and its want of a `type`.
    #[test]
    fn lines_of_the_older_shape_are_read_as_enveloped() {
        let meta = serde_json::json!({"id": "5973b6c0-94b8-487b-a530-2aeb6098ae0e", "timestamp": "2025-05-07T17:24:21.123Z", "instructions": null});
        assert!(is_rollout(&meta));
        assert_eq!(parts(&meta), ("session_meta", &meta));
        let state = serde_json::json!({"record_type": "state"});
        assert_eq!(parts(&state).0, "state");
        let item = serde_json::json!({"type": "message", "role": "user", "content": []});
        assert_eq!(parts(&item), ("response_item", &item));
        let enveloped =
            serde_json::json!({"timestamp": "t", "type": "event_msg", "payload": {"type": "x"}});
        assert_eq!(parts(&enveloped), ("event_msg", &enveloped["payload"]));
        for other in [
            serde_json::json!({"id": "1", "timestamp": "2025-05-07T17:24:21.123Z"}),
            serde_json::json!({"id": "5973b6c0-94b8-487b-a530-2aeb6098ae0e", "timestamp": "t", "type": "user"}),
            serde_json::json!({"id": "5973b6c0-94b8-487b-a530-2aeb6098ae0e"}),
        ] {
            assert!(!is_rollout(&other), "{other}");
        }
    }

    #[test]
    fn the_environment_context_names_the_folder_in_either_form() {
        let first = "<environment_context>\nCurrent working directory: /home/me/app\nApproval policy: on-request\n</environment_context>";
        assert_eq!(context_cwd(first), Some("/home/me/app"));
        let xml = "<environment_context>\n  <cwd>C:\\work\\app</cwd>\n  <shell>bash</shell>\n</environment_context>";
        assert_eq!(context_cwd(xml), Some("C:\\work\\app"));
        assert_eq!(
            context_cwd("<environment_context><cwd>app</cwd></environment_context>"),
            None
        );
        assert_eq!(context_cwd("Current working directory: /home/me/app"), None);
    }

    #[test]
    fn cached_input_is_taken_out_of_input() {
        let usage = serde_json::json!({"input_tokens": 108, "cached_input_tokens": 40, "output_tokens": 7, "reasoning_output_tokens": 3});
        let t = tokens(&usage).unwrap();
        assert_eq!(
            (t.input, t.cache_read, t.output, t.reasoning),
            (68, 40, 7, 3)
        );
    }

    #[test]
    fn a_windows_workdir_is_taken_from_the_turns_folder() {
        let base = r"C:\Users\me\app";
        assert_eq!(windows_join(base, "src"), r"C:\Users\me\app\src");
        assert_eq!(windows_join(base, r"..\lib/x"), r"C:\Users\me\lib\x");
        assert_eq!(windows_join(base, r".\."), base);
        assert_eq!(windows_join(base, r"..\..\..\..\.."), r"C:\");
        assert_eq!(windows_join(base, r"D:\other"), r"D:\other");
        assert_eq!(
            windows_join(r"\\host\share\a", r"..\..\b"),
            r"\\host\share\b"
        );
        assert!(is_windows_folder("c:/x") && is_windows_folder(r"\\host\s"));
        assert!(
            !is_windows_folder("src") && !is_windows_folder("/home") && !is_windows_folder("C:")
        );
    }

    #[test]
    fn exit_codes_say_whether_a_command_failed() {
        assert!(output_text(&"Process exited with code 1\nOutput:\nno".into()).1);
        assert!(!output_text(&"Chunk ID: 1\nProcess exited with code 0\n".into()).1);
        // Older Codex's failure is written as newer Codex writes one; its success as it is.
        let old = r#"{"output":"x","metadata":{"exit_code":2,"duration_seconds":0.1}}"#;
        assert_eq!(
            output_text(&old.into()),
            ("Exit code: 2\nOutput:\nx".to_owned(), true)
        );
        let ok = r#"{"output":"x","metadata":{"exit_code":0,"duration_seconds":0.1}}"#;
        assert_eq!(output_text(&ok.into()), ("x".to_owned(), false));
    }

    #[test]
    fn calls_codex_never_ran_or_the_user_stopped_are_failed_calls() {
        for text in [
            "exec command rejected by user",
            "patch rejected by user",
            "patch rejected: empty patch",
            "aborted by user after 1.5s",
        ] {
            assert_eq!(output_text(&text.into()), (text.to_owned(), true));
        }
        assert_eq!(
            output_text(&"Wall time: 2.0 seconds\naborted by user".into()),
            ("aborted by user\nWall time: 2.0 seconds".to_owned(), true)
        );
        // An MCP tool's answer that mentions a rejection later on is its output.
        let mcp = "Found 2 issues:\nexec command rejected by user";
        assert_eq!(output_text(&mcp.into()), (mcp.to_owned(), false));
    }
}
