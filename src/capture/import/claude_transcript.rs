//! One Claude Code transcript into sessions: the main conversation, and each sidechain
//! (subagent) as a child session linked to the call that spawned it.
//!
//! The file is read once, line by line, so memory stays flat in its size. Lines, content and
//! usage are read by [`crate::capture::transcript`], whose rule counts each API response once.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

use super::existing::NotImported;
use crate::capture::sink::Sink;
use crate::capture::transcript::content::{blocks, prompt_text, result_text};
use crate::capture::transcript::parse_time;
use crate::capture::transcript::responses::{Counted, Current, Line, Response, Step as Next};
use crate::capture::transcript::wire::{Block, Entry, Message, TaskResult, mend, parse_value};
use crate::model::meta::TITLE;
use crate::model::prompt::PromptKind;
use crate::model::tools::{self, Agent, ToolKind};
use crate::model::view::{KIND_COMPACTION, KIND_THINKING};
use crate::model::{Event, EventType, SessionMeta, Tokens};
use crate::store::{SessionWriter, Store, StoreError};

/// The session a subagent's transcript belongs under.
#[derive(Debug, Clone)]
pub struct ParentLink {
    pub session_id: String,
    pub event_id: Option<String>,
    pub depth: u64,
}

/// A line that could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedLine {
    pub line: u64,
    pub message: String,
}

/// What an import did with one file.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub file: PathBuf,
    pub session_id: String,
    /// `imported`; `already_imported` when an import put the session in the store already;
    /// `recorded_by_hooks` when hooks did (the transcript is not merged into it: see
    /// `not_imported`); `skipped` when a subagent's id cannot name a session (see `warnings`).
    pub status: &'static str,
    pub lines: u64,
    /// Lines by their `type`, with `malformed` for lines that are not JSON.
    pub entries: BTreeMap<String, u64>,
    pub malformed: Vec<SkippedLine>,
    /// User and assistant lines.
    pub messages: u64,
    pub responses: u64,
    pub tool_calls: u64,
    pub tool_errors: u64,
    pub tokens: Tokens,
    pub events: u64,
    /// Sessions made from sidechains found inside this file.
    pub sidechains: Vec<String>,
    /// What was left out, and why (a subagent whose id cannot name a session …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// For a session recorded by hooks: what only the transcript holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_imported: Option<NotImported>,
    /// Subagents the file's Task/Agent calls ran, with the call's event id.
    #[serde(skip)]
    pub agent_calls: HashMap<String, String>,
}

/// Why a file could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: the file is empty")]
    Empty(PathBuf),
    #[error("{path}:{line}: not a Claude Code transcript ({reason})")]
    NotTranscript {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    StoreAt {
        path: PathBuf,
        #[source]
        source: StoreError,
    },
}

impl ImportError {
    /// Names the transcript in errors the store raised while importing it.
    fn at(self, path: &Path) -> ImportError {
        match self {
            ImportError::Store(source) => ImportError::StoreAt {
                path: path.to_path_buf(),
                source,
            },
            other => other,
        }
    }
}

/// Transcript line types Claude Code writes; anything else is counted as it is.
const KNOWN_KINDS: [&str; 9] = [
    "user",
    "assistant",
    "summary",
    "system",
    "progress",
    "file-history-snapshot",
    "file-history-delta",
    "queue-operation",
    "result",
];

/// Imports one transcript. `parent` makes it a subagent's session under that parent.
pub fn import_file(
    store: &Store,
    path: &Path,
    parent: Option<&ParentLink>,
    sink: &Sink,
) -> Result<ImportReport, ImportError> {
    let mut report = read_transcript(store, path, parent, sink).map_err(|e| e.at(path))?;
    if report.status != "already_imported" {
        return Ok(report);
    }
    let at = |source| ImportError::StoreAt {
        path: path.to_path_buf(),
        source,
    };
    let stored = super::existing::stored(store, &report.session_id).map_err(at)?;
    if stored.by_hooks {
        report.status = "recorded_by_hooks";
        report.not_imported = Some(
            super::existing::not_imported(store, &report.session_id, &stored, path).map_err(at)?,
        );
    }
    Ok(report)
}

fn read_transcript(
    store: &Store,
    path: &Path,
    parent: Option<&ParentLink>,
    sink: &Sink,
) -> Result<ImportReport, ImportError> {
    let io = |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut importer = Importer::new(store, path, parent, sink);
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut first_bad: Option<(u64, String)> = None;
    // A line mended of lone surrogates, which the entry read from it borrows.
    let mut spare = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).map_err(io)? == 0 {
            break;
        }
        importer.report.lines += 1;
        let text = buf.trim_ascii();
        if text.is_empty() {
            continue;
        }
        // One UTF-8 check of the whole line (fast on ASCII) instead of one per string and raw
        // value; a line that fails it is decoded as bytes, which gives the same result as before.
        let decoded = match std::str::from_utf8(text) {
            Ok(text) => serde_json::from_str::<Entry<'_>>(text),
            Err(_) => serde_json::from_slice::<Entry<'_>>(text),
        };
        // Node writes lone surrogate escapes when it cuts a string inside an emoji; only a line
        // that fails to parse is read again with them taken as U+FFFD, so other lines cost
        // nothing more. Raw parts (content) are checked when read: the entry asks for a mend.
        let decoded = match decoded {
            Ok(entry) => match importer.entry(&entry, false)? {
                Flow::Mend => match mend(text) {
                    Some(fixed) => {
                        spare = fixed;
                        match serde_json::from_slice::<Entry<'_>>(&spare) {
                            Ok(mended) => Ok(importer.entry(&mended, true)?),
                            Err(_) => Ok(importer.entry(&entry, true)?),
                        }
                    }
                    None => Ok(importer.entry(&entry, true)?),
                },
                flow => Ok(flow),
            },
            Err(e) => match Entry::decode(text, &mut spare) {
                Ok(mended) => Ok(importer.entry(&mended, true)?),
                Err(_) => Err(e),
            },
        };
        match decoded {
            Ok(flow) => {
                if flow == Flow::Stop {
                    break;
                }
            }
            Err(e) => {
                let message = if text.contains(&0) || std::str::from_utf8(text).is_err() {
                    "binary data, not JSON text".to_owned()
                } else {
                    e.to_string()
                };
                first_bad.get_or_insert_with(|| (importer.report.lines, message.clone()));
                *importer
                    .report
                    .entries
                    .entry("malformed".into())
                    .or_default() += 1;
                if importer.report.malformed.len() < 20 {
                    importer.report.malformed.push(SkippedLine {
                        line: importer.report.lines,
                        message,
                    });
                }
            }
        }
    }
    importer.finish(first_bad)
}

#[derive(PartialEq, Eq)]
enum Flow {
    Go,
    Stop,
    /// The line's content does not parse: read it again with lone surrogates mended.
    Mend,
}

struct OpenCall {
    event_id: String,
    timestamp: f64,
    tool: String,
    path: Option<String>,
}

/// One session being written: the main conversation or a sidechain.
struct Context {
    writer: SessionWriter,
    open_calls: HashMap<String, OpenCall>,
    /// The API response being read; its tag is the id of the `llm_request` event written for it.
    response: Current<String>,
    last: f64,
}

struct Importer<'a> {
    store: &'a Store,
    path: &'a Path,
    parent: Option<&'a ParentLink>,
    sink: &'a Sink,
    report: ImportReport,
    /// Responses already counted in this file.
    counted: Counted,
    main: Option<Context>,
    /// Sidechains by agent id; `None` for one that is left out (see the report's warnings).
    sidechains: HashMap<String, Option<Context>>,
    /// Nothing of the file is written: its session is in the store already, or cannot be
    /// named.
    stopped: bool,
    last_timestamp: f64,
    /// The conversation's title: the last `summary` line's (Claude Code writes a new one as
    /// the conversation goes on).
    title: Option<String>,
    /// A compaction whose boundary was read and whose summary has not come yet.
    compaction: Option<Boundary>,
}

/// A `compact_boundary` line waiting for the summary that follows it.
#[derive(Debug, Clone)]
struct Boundary {
    at: f64,
    trigger: Option<String>,
    pre_tokens: Option<u64>,
}

impl<'a> Importer<'a> {
    fn new(
        store: &'a Store,
        path: &'a Path,
        parent: Option<&'a ParentLink>,
        sink: &'a Sink,
    ) -> Self {
        Importer {
            store,
            path,
            parent,
            sink,
            report: ImportReport {
                file: path.to_path_buf(),
                session_id: String::new(),
                status: "imported",
                lines: 0,
                entries: BTreeMap::new(),
                malformed: Vec::new(),
                messages: 0,
                responses: 0,
                tool_calls: 0,
                tool_errors: 0,
                tokens: Tokens::default(),
                events: 0,
                sidechains: Vec::new(),
                warnings: Vec::new(),
                not_imported: None,
                agent_calls: HashMap::new(),
            },
            counted: Counted::default(),
            main: None,
            sidechains: HashMap::new(),
            stopped: false,
            last_timestamp: 0.0,
            title: None,
            compaction: None,
        }
    }

    /// Reads one entry. `mended` says the line was already read again with lone surrogates
    /// mended (or had none), so content that does not parse is then reported, not retried.
    fn entry(&mut self, entry: &Entry<'_>, mended: bool) -> Result<Flow, ImportError> {
        let kind = entry.kind.as_deref().unwrap_or("untyped");
        let message = match &entry.message {
            Some(message) if kind == "user" || kind == "assistant" => Some(message),
            _ => None,
        };
        // Content is parsed before anything is counted, so that a line read again counts once.
        let content = match message.and_then(|m| m.content).map(blocks).transpose() {
            Ok(content) => Ok(content.unwrap_or_default()),
            Err(_) if !mended => return Ok(Flow::Mend),
            Err(e) => Err(e),
        };
        *self.report.entries.entry(kind.to_owned()).or_default() += 1;
        if let Some(ts) = entry.timestamp.as_deref().and_then(parse_time) {
            self.last_timestamp = ts;
        }
        let Some(message) = message else {
            match kind {
                "summary" => {
                    if let Some(title) = entry.summary.as_deref().filter(|t| !t.trim().is_empty()) {
                        self.title = Some(title.trim().to_owned());
                    }
                }
                "system" if entry.subtype.as_deref() == Some("compact_boundary") => {
                    let meta = entry.compact_metadata.as_ref();
                    self.compaction = Some(Boundary {
                        at: self.last_timestamp,
                        trigger: meta.and_then(|m| m.trigger.as_deref()).map(str::to_owned),
                        pre_tokens: meta.and_then(|m| m.pre_tokens),
                    });
                }
                _ => {}
            }
            return Ok(Flow::Go);
        };
        self.report.messages += 1;
        if self.main.is_none() {
            self.open_main(entry)?;
            if self.stopped {
                return Ok(Flow::Stop);
            }
        }
        let ts = self.last_timestamp;
        // Older Claude Code wrote subagents' lines into the main file, marked as sidechains.
        let sidechain = entry.is_sidechain == Some(true) && self.parent.is_none();
        let context_key = if sidechain {
            let agent = entry.agent_id.as_deref().unwrap_or("sidechain").to_owned();
            if !self.sidechains.contains_key(&agent) {
                let ctx = self.open_sidechain(&agent, ts)?;
                self.sidechains.insert(agent.clone(), ctx);
            }
            if self.sidechains[&agent].is_none() {
                return Ok(Flow::Go);
            }
            Some(agent)
        } else {
            None
        };
        let content = match content {
            Ok(content) => content,
            Err(e) => {
                let line = self.report.lines;
                self.report.malformed.push(SkippedLine {
                    line,
                    message: format!("content: {e}"),
                });
                return Ok(Flow::Go);
            }
        };
        let mut events = Vec::new();
        {
            let ctx = match &context_key {
                Some(key) => self
                    .sidechains
                    .get_mut(key)
                    .and_then(Option::as_mut)
                    .expect("opened above"),
                None => self.main.as_mut().expect("opened above"),
            };
            ctx.last = ctx.last.max(ts);
            let mut step = Step {
                ctx,
                events: &mut events,
                sink: self.sink,
                report: &mut self.report,
                counted: &mut self.counted,
                ts,
                compaction: &mut self.compaction,
            };
            if kind == "assistant" {
                step.assistant(entry, message, &content);
            } else {
                step.user(entry, &content);
            }
        }
        let ctx = match &context_key {
            Some(key) => self
                .sidechains
                .get_mut(key)
                .and_then(Option::as_mut)
                .expect("opened above"),
            None => self.main.as_mut().expect("opened above"),
        };
        for event in events {
            self.sink.emit(&mut ctx.writer, event)?;
            self.report.events += 1;
        }
        Ok(Flow::Go)
    }

    fn open_main(&mut self, entry: &Entry<'_>) -> Result<(), ImportError> {
        let stem = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        // A session id that cannot name a folder (a damaged line) gives way to the file's name,
        // which Claude Code makes the session id too.
        let session = entry
            .session_id
            .as_deref()
            .filter(|id| crate::store::is_valid_session_id(id))
            .map_or_else(|| stem.clone(), str::to_owned);
        let (id, parent) = match self.parent {
            Some(link) => {
                let agent = entry.agent_id.as_deref().map_or_else(
                    || stem.trim_start_matches("agent-").to_owned(),
                    str::to_owned,
                );
                let Some(id) = crate::store::subagent_session_id(&agent, &link.session_id) else {
                    // One subagent that cannot be named is left out, never its parent's import.
                    self.stopped = true;
                    self.report.status = "skipped";
                    self.report.warnings.push(format!(
                        "left out subagent `{}`: its id cannot name a session",
                        crate::model::text::one_line(&agent, 60)
                    ));
                    return Ok(());
                };
                (id, Some(link.clone()))
            }
            None => (session, None),
        };
        self.report.session_id.clone_from(&id);
        let mut meta = SessionMeta::new(&id, self.last_timestamp);
        "claude-code".clone_into(&mut meta.agent_name);
        meta.command = match &parent {
            Some(_) => "subagent (imported)".to_owned(),
            None => "claude-code (imported)".to_owned(),
        };
        if let Some(link) = &parent {
            meta.parent_session_id = Some(link.session_id.clone());
            meta.parent_event_id.clone_from(&link.event_id);
            meta.depth = link.depth + 1;
        }
        let mut writer = match self.store.write_session(meta) {
            Ok(writer) => writer,
            Err(StoreError::SessionExists(_)) => {
                self.stopped = true;
                self.report.status = "already_imported";
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let mut data = Map::new();
        data.insert("source".into(), "import".into());
        data.insert(
            "transcript_path".into(),
            self.path.to_string_lossy().into_owned().into(),
        );
        for (key, value) in [
            ("cwd", &entry.cwd),
            ("version", &entry.version),
            ("git_branch", &entry.git_branch),
        ] {
            if let Some(v) = value {
                data.insert(key.into(), v.as_ref().into());
            }
        }
        let start = self
            .sink
            .event(EventType::SessionStart, self.last_timestamp, &id, data);
        self.sink.emit(&mut writer, start)?;
        self.report.events += 1;
        self.main = Some(Context {
            writer,
            open_calls: HashMap::new(),
            response: Current::default(),
            last: self.last_timestamp,
        });
        Ok(())
    }

    /// Opens the session of a sidechain; `None` when it is left out: its id cannot name a
    /// session, or the store holds it already (an earlier import stopped before the main one).
    fn open_sidechain(&mut self, agent: &str, ts: f64) -> Result<Option<Context>, ImportError> {
        let parent = self.report.session_id.clone();
        let Some(id) = crate::store::subagent_session_id(agent, &parent) else {
            self.report.warnings.push(format!(
                "left out the lines of subagent `{}`: its id cannot name a session",
                crate::model::text::one_line(agent, 60)
            ));
            return Ok(None);
        };
        let mut meta = SessionMeta::new(&id, ts);
        "claude-code".clone_into(&mut meta.agent_name);
        "subagent (imported)".clone_into(&mut meta.command);
        meta.parent_session_id = Some(parent);
        meta.parent_event_id = self.report.agent_calls.get(agent).cloned();
        meta.depth = self.parent.map_or(0, |p| p.depth) + 1;
        let mut writer = match self.store.write_session(meta) {
            Ok(writer) => writer,
            Err(StoreError::SessionExists(_)) => {
                self.report.warnings.push(format!(
                    "left out the lines of subagent `{agent}`: the store holds session {id} already"
                ));
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        let mut data = Map::new();
        data.insert("source".into(), "import".into());
        data.insert("sidechain".into(), true.into());
        let start = self.sink.event(EventType::SessionStart, ts, &id, data);
        self.sink.emit(&mut writer, start)?;
        self.report.sidechains.push(id);
        Ok(Some(Context {
            writer,
            open_calls: HashMap::new(),
            response: Current::default(),
            last: ts,
        }))
    }

    fn finish(mut self, first_bad: Option<(u64, String)>) -> Result<ImportReport, ImportError> {
        if self.report.lines == 0 || (self.report.entries.is_empty() && first_bad.is_none()) {
            return Err(ImportError::Empty(self.path.to_path_buf()));
        }
        let known = self
            .report
            .entries
            .iter()
            .any(|(kind, _)| KNOWN_KINDS.contains(&kind.as_str()));
        if !known {
            let (line, reason) =
                first_bad.unwrap_or((1, "no Claude Code transcript entries".to_owned()));
            if let Some(main) = self.main.take() {
                main.writer.abandon();
            }
            return Err(ImportError::NotTranscript {
                path: self.path.to_path_buf(),
                line,
                reason,
            });
        }
        if self.stopped {
            return Ok(self.report);
        }
        let mut contexts: Vec<Context> = self.sidechains.into_values().flatten().collect();
        if let Some(mut main) = self.main.take() {
            if let Some(title) = &self.title {
                main.writer.meta_mut().set_attribution(TITLE, title);
            }
            // A compaction whose summary never came is still a compaction.
            if let Some(boundary) = self.compaction.take() {
                let event = compaction_event(self.sink, main.writer.session_id(), &boundary, None);
                self.sink.emit(&mut main.writer, event)?;
                self.report.events += 1;
            }
            contexts.push(main);
        } else {
            // A transcript with no messages (only summaries, say) still becomes a session, so
            // that importing it again is recognised.
            return Err(ImportError::NotTranscript {
                path: self.path.to_path_buf(),
                line: 1,
                reason: "no user or assistant messages".to_owned(),
            });
        }
        for mut ctx in contexts {
            let mut events = Vec::new();
            let mut step = Step {
                ctx: &mut ctx,
                events: &mut events,
                sink: self.sink,
                report: &mut self.report,
                counted: &mut self.counted,
                ts: 0.0,
                compaction: &mut None,
            };
            step.flush();
            let end_ts = ctx.last;
            let mut data = Map::new();
            data.insert("reason".into(), "import".into());
            events.push(self.sink.event(
                EventType::SessionEnd,
                end_ts,
                ctx.writer.session_id(),
                data,
            ));
            for event in events {
                self.sink.emit(&mut ctx.writer, event)?;
                self.report.events += 1;
            }
            match ctx.writer.finish() {
                // Another file holding the same session was imported meanwhile.
                Err(StoreError::SessionExists(_)) => self.report.status = "already_imported",
                other => {
                    other?;
                }
            }
        }
        Ok(self.report)
    }
}

/// The `decision` that records a compaction: what triggered it, how much context there was,
/// and the summary that replaced it.
fn compaction_event(
    sink: &Sink,
    session: &str,
    boundary: &Boundary,
    summary: Option<&str>,
) -> Event {
    let mut data = Map::new();
    data.insert("kind".into(), KIND_COMPACTION.into());
    data.insert("choice".into(), KIND_COMPACTION.into());
    if let Some(trigger) = &boundary.trigger {
        data.insert("trigger".into(), trigger.clone().into());
    }
    if let Some(tokens) = boundary.pre_tokens {
        data.insert("pre_tokens".into(), tokens.into());
    }
    if let Some(summary) = summary {
        data.insert("summary".into(), summary.into());
    }
    sink.event(EventType::Decision, boundary.at, session, data)
}

/// Turning one line's blocks into events of one context.
struct Step<'c> {
    ctx: &'c mut Context,
    events: &'c mut Vec<Event>,
    sink: &'c Sink,
    report: &'c mut ImportReport,
    counted: &'c mut Counted,
    ts: f64,
    compaction: &'c mut Option<Boundary>,
}

impl Step<'_> {
    fn event(&self, kind: EventType, data: Map<String, Value>) -> Event {
        self.sink
            .event(kind, self.ts, self.ctx.writer.session_id(), data)
    }

    fn assistant(&mut self, entry: &Entry<'_>, message: &Message<'_>, content: &[Block<'_>]) {
        let line = Line {
            message_id: message.id.as_deref(),
            request_id: entry.request_id.as_deref(),
            model: message.model.as_deref(),
            usage: message.usage,
            at: self.ts,
        };
        if let Next::Started { ended } = self.ctx.response.line(self.counted, &line) {
            if let Some(ended) = ended {
                self.finish_response(ended);
            }
            let mut data = Map::new();
            if let Some(model) = &message.model {
                data.insert("model".into(), model.as_ref().into());
            }
            if let Some(id) = &message.id {
                data.insert("message_id".into(), id.as_ref().into());
            }
            let request = self.event(EventType::LlmRequest, data);
            if let Some(open) = self.ctx.response.open_mut() {
                open.tag.clone_from(&request.event_id);
                if open.first_time {
                    self.events.push(request);
                }
            }
        }
        for block in content {
            match block.kind.as_deref() {
                Some("text") => {
                    let text = block.text.as_deref().unwrap_or_default();
                    if !text.trim().is_empty() {
                        let mut data = Map::new();
                        data.insert("text".into(), text.into());
                        let event = self.event(EventType::AssistantResponse, data);
                        self.events.push(event);
                    }
                }
                Some("tool_use") => self.tool_use(block),
                // Kept as a decision (the kind of event the Python tool reads for reasoning),
                // shown only when asked for.
                Some("thinking") => {
                    let text = block.thinking.as_deref().unwrap_or_default();
                    if !text.trim().is_empty() {
                        let mut data = Map::new();
                        data.insert("kind".into(), KIND_THINKING.into());
                        data.insert("choice".into(), KIND_THINKING.into());
                        data.insert("reasoning".into(), text.into());
                        let event = self.event(EventType::Decision, data);
                        self.events.push(event);
                    }
                }
                _ => {}
            }
        }
    }

    fn tool_use(&mut self, block: &Block<'_>) {
        self.report.tool_calls += 1;
        let tool = block.name.as_deref().unwrap_or("unknown").to_owned();
        let input: Value = block
            .input
            .and_then(|i| parse_value(i.get()).ok())
            .unwrap_or(Value::Null);
        let path = tools::spec_of(Agent::ClaudeCode, &tool)
            .and_then(|spec| spec.subject)
            .and_then(|key| input.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut data = Map::new();
        data.insert("tool_name".into(), tool.clone().into());
        data.insert("arguments".into(), input);
        if let Some(id) = &block.id {
            data.insert("tool_use_id".into(), id.as_ref().into());
        }
        let event = self.event(EventType::ToolCall, data);
        if let Some(id) = &block.id {
            self.ctx.open_calls.insert(
                id.to_string(),
                OpenCall {
                    event_id: event.event_id.clone(),
                    timestamp: self.ts,
                    tool,
                    path,
                },
            );
        }
        self.events.push(event);
    }

    fn user(&mut self, entry: &Entry<'_>, content: &[Block<'_>]) {
        for block in content {
            if block.kind.as_deref() == Some("tool_result") {
                self.tool_result(entry, block);
            }
        }
        let text = prompt_text(content);
        if !text.trim().is_empty() {
            // A person typing means the previous response is complete.
            self.flush();
        }
        // The summary a compaction leaves where a prompt would be is no prompt: the
        // compaction is one event, with its summary.
        let summary = entry.is_compact_summary == Some(true)
            || crate::model::prompt::read(&text).kind == PromptKind::CompactionSummary;
        if summary || (self.compaction.is_some() && !text.trim().is_empty()) {
            let boundary = self.compaction.take().unwrap_or(Boundary {
                at: self.ts,
                trigger: None,
                pre_tokens: None,
            });
            let session = self.ctx.writer.session_id().to_owned();
            let event = compaction_event(
                self.sink,
                &session,
                &boundary,
                summary.then_some(text.as_str()),
            );
            self.events.push(event);
            if summary {
                return;
            }
        }
        if entry.is_meta != Some(true) && !text.trim().is_empty() {
            let mut data = Map::new();
            data.insert("prompt".into(), text.into());
            let event = self.event(EventType::UserPrompt, data);
            self.events.push(event);
        }
    }

    fn tool_result(&mut self, entry: &Entry<'_>, block: &Block<'_>) {
        let failed = block.is_error == Some(true);
        if failed {
            self.report.tool_errors += 1;
        }
        let call = block
            .tool_use_id
            .as_deref()
            .and_then(|id| self.ctx.open_calls.remove(id));
        let text = block.content.map(result_text).unwrap_or_default();
        let mut data = Map::new();
        data.insert(
            "tool_name".into(),
            call.as_ref().map_or("unknown", |c| c.tool.as_str()).into(),
        );
        data.insert(
            (if failed { "error" } else { "result" }).into(),
            text.into(),
        );
        if let Some(id) = &block.tool_use_id {
            data.insert("tool_use_id".into(), id.as_ref().into());
        }
        let mut event = self.event(
            if failed {
                EventType::Error
            } else {
                EventType::ToolResult
            },
            data,
        );
        if let Some(call) = &call {
            event.parent_id = Some(call.event_id.clone());
            event.duration_ms = Some(((self.ts - call.timestamp) * 1000.0).max(0.0));
        }
        self.events.push(event);
        let Some(call) = call else { return };
        if !failed {
            let kind = match tools::classify(Agent::ClaudeCode, &call.tool) {
                ToolKind::ReadFile => Some(EventType::FileRead),
                ToolKind::WriteFile => Some(EventType::FileWrite),
                _ => None,
            };
            if let (Some(kind), Some(path)) = (kind, &call.path) {
                let mut data = Map::new();
                data.insert("path".into(), path.clone().into());
                data.insert("tool_name".into(), call.tool.clone().into());
                let mut file_event = self.event(kind, data);
                file_event.parent_id = Some(call.event_id.clone());
                self.events.push(file_event);
            }
        }
        if tools::is_spawn(Agent::ClaudeCode, &call.tool)
            && let Some(agent) = entry
                .tool_use_result
                .and_then(|r| serde_json::from_str::<TaskResult<'_>>(r.get()).ok())
                .and_then(|r| r.agent_id.map(std::borrow::Cow::into_owned))
        {
            self.report.agent_calls.insert(agent, call.event_id);
        }
    }

    /// Ends the response in progress.
    fn flush(&mut self) {
        if let Some(response) = self.ctx.response.end() {
            self.finish_response(response);
        }
    }

    /// One `llm_response` with the usage of the response's last line, unless it was counted
    /// before.
    fn finish_response(&mut self, response: Response<String>) {
        if !response.first_time {
            return;
        }
        self.report.responses += 1;
        let usage = response.usage();
        self.report.tokens.add(&Tokens::from_usage(&usage));
        let mut data = Map::new();
        if let Some(model) = response.model {
            data.insert("model".into(), model.into());
        }
        if let Some(id) = response.message_id {
            data.insert("message_id".into(), id.into());
        }
        if let Some(id) = response.request_id {
            data.insert("request_id".into(), id.into());
        }
        data.insert("usage".into(), usage);
        let mut event = self.sink.event(
            EventType::LlmResponse,
            response.last,
            self.ctx.writer.session_id(),
            data,
        );
        event.parent_id = Some(response.tag);
        event.duration_ms = Some(((response.last - response.first) * 1000.0).max(0.0));
        self.events.push(event);
    }
}
