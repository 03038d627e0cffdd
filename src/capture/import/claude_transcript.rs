//! One Claude Code transcript into sessions: the main conversation, and each sidechain
//! (subagent) as a child session linked to the call that spawned it.
//!
//! The file is read once, line by line, so memory stays flat in its size. Lines, content and
//! usage are read by [`crate::capture::transcript`], whose rules count each API response, and
//! each entry or block a resumed history repeats, once.
//!
//! A file imported before is read on from where that import stopped when it grew, and again
//! whole when it was rewritten (see [`super::resume`]).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::existing::NotImported;
use super::resume::{self, Freshness, Rewritten};
use crate::capture::sink::Sink;
use crate::capture::transcript::content::{answer_text, blocks, prompt_text, result_text};
use crate::capture::transcript::repeats::Repeats;
use crate::capture::transcript::responses::{Counted, Current, Line, Response, Step as Next};
use crate::capture::transcript::transcript::{ResumedHistory, session_named_by};
use crate::capture::transcript::wire::{Block, Entry, Message, TaskResult, mend, parse_value};
use crate::capture::transcript::{parse_time, turn_error_text};
use crate::model::event::stored_arguments;
use crate::model::file_use::FileUse;
use crate::model::meta::{START_ONLY, TIMES, TITLE};
use crate::model::prompt::PromptKind;
use crate::model::shell_files::{self, Folder, ShellFile};
use crate::model::tools::{self, Agent, ToolKind};
use crate::model::view::{CALL_FOLDER, KIND_COMPACTION, KIND_THINKING, STOP_BLOCKED, ToolCall};
use crate::model::{Event, EventType, SessionMeta, Tokens, deep_json};
use crate::store::{
    LINE_LIMIT, SessionWriter, Store, StoreError, read_line_within, skip_line, skip_newlines,
};

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
    /// The agent whose log it is, as sessions name it (`claude-code`, `codex` …).
    pub agent: &'static str,
    /// `imported`; `grown` when the file grew since it was imported, and what is new was added;
    /// `reimported` when it was rewritten (or imported by a version that kept no record of what
    /// it read) and was imported again whole; `relinked` when only the call a subagent is
    /// linked to changed; `already_imported` when the store holds all of it already;
    /// `recorded_by_hooks` when hooks put the session in the store (the transcript is not merged
    /// into it: see `not_imported`); `added_to` when hooks sharing its session id wrote to the
    /// imported session since, so what the file gained (`lines_not_added`) was not added (see
    /// `warnings`); `skipped` when a subagent's id cannot name a session (see
    /// `warnings`).
    pub status: &'static str,
    /// Lines read: for a file that grew, the new lines.
    pub lines: u64,
    /// Lines by their `type`, with `malformed` for lines that are not JSON.
    pub entries: BTreeMap<String, u64>,
    pub malformed: Vec<SkippedLine>,
    /// User and assistant lines.
    pub messages: u64,
    /// Of those, lines that only repeat what the file held before (a resumed or forked
    /// history copies it), counted once.
    pub repeated: u64,
    /// Of those, lines of the history of the session this one resumed, which a resumed
    /// session's file begins with: left out, as the file of that session beside this one
    /// holds them.
    pub resumed_history: u64,
    pub responses: u64,
    pub tool_calls: u64,
    /// Calls that failed (not counting refused ones), as `stats` counts errors.
    pub tool_errors: u64,
    /// Calls the user refused or stopped.
    pub tool_rejections: u64,
    /// API errors that ended a turn (Claude Code's own error lines), counted apart from the
    /// calls' errors as `stats` counts them.
    pub turn_errors: u64,
    /// The tokens of every response whose usage one response can hold.
    pub tokens: Tokens,
    /// Responses whose usage holds a count no response can have: their tokens are unknown,
    /// left out of `tokens` as every view leaves them out.
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    pub unbelieved_usage: u64,
    pub events: u64,
    /// Sessions made from sidechains found inside this file.
    pub sidechains: Vec<String>,
    /// What was left out, and why (a subagent whose id cannot name a session …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// For a session recorded by hooks: what only the transcript holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_imported: Option<NotImported>,
    /// For `added_to`: the lines the file gained since it was imported, which were not added.
    /// `import --all` gives such a file this report too, though it does not read the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines_not_added: Option<u64>,
    /// For `already_imported`: the file the session was imported from, when it is another
    /// (a copy of this one, or the same log under another name), still there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported_from: Option<PathBuf>,
    /// With `imported_from`: the agent whose log that is, when it is another agent than this
    /// file's (two agents' logs that name one session id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported_agent: Option<String>,
    /// With `reimported`: `true` when the file was imported again whole because an older
    /// version imported it (its record of what it read is of another format, or there is
    /// none), not because the file changed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reimported_as_outdated: bool,
    /// Subagents the file's Task/Agent calls ran, with the call's event id.
    #[serde(skip)]
    pub agent_calls: HashMap<String, String>,
    /// A subagent's transcript whose session the store could not take (a full disk): said in
    /// `warnings`, and a failure to write, which the import's exit code says.
    #[serde(skip)]
    pub subagent_unwritten: bool,
}

impl ImportReport {
    /// The report of an import of `file` into session `session_id` of `agent`, before any of
    /// its lines is read.
    pub fn new(file: &Path, session_id: String, agent: &'static str) -> ImportReport {
        ImportReport {
            file: file.to_path_buf(),
            session_id,
            agent,
            status: "imported",
            lines: 0,
            entries: BTreeMap::new(),
            malformed: Vec::new(),
            messages: 0,
            repeated: 0,
            resumed_history: 0,
            responses: 0,
            tool_calls: 0,
            tool_errors: 0,
            tool_rejections: 0,
            turn_errors: 0,
            tokens: Tokens::default(),
            unbelieved_usage: 0,
            events: 0,
            sidechains: Vec::new(),
            warnings: Vec::new(),
            not_imported: None,
            lines_not_added: None,
            imported_from: None,
            imported_agent: None,
            reimported_as_outdated: false,
            agent_calls: HashMap::new(),
            subagent_unwritten: false,
        }
    }

    /// Marks the report as the import of a file whose session something else (hooks sharing
    /// its session id) added to since it was imported: the session is left as it is, and the
    /// `new_lines` the file gained since are not added, which the report says (an import never
    /// writes into a session hooks write to; see [`super::existing`]).
    pub fn left_added_to(&mut self, new_lines: u64) {
        if new_lines == 0 {
            self.status = "already_imported";
            self.warnings.push(
                "left its session as it is: something else (hooks sharing its session id) added to it since it was imported"
                    .to_owned(),
            );
            return;
        }
        self.status = "added_to";
        self.lines_not_added = Some(new_lines);
        self.warnings.push(format!(
            "did not add the {new_lines} new line{} the file gained since it was imported: hooks sharing its session id wrote to the session since, and an import never adds to a session hooks write to; to have them, delete the session's folder from the store and import the file again (the hooks' events go with the folder)",
            if new_lines == 1 { "" } else { "s" }
        ));
    }
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
    /// A file of blank lines only: not empty, as a file of hundreds of MB of newlines was said
    /// to be.
    #[error("{path}: the file holds no entries, only {lines} blank lines")]
    Blank { path: PathBuf, lines: u64 },
    /// Any agent's log: anything unrecognised is read as a Claude Code transcript, and a log
    /// told by its start as another agent's can still lack what that agent writes.
    #[error(
        "{path}:{line}: not a session log of Claude Code, Codex, Gemini CLI or Copilot CLI ({reason})"
    )]
    NotTranscript {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    /// A log read as one JSON document (Gemini CLI's older chats) with a byte that is not
    /// UTF-8: the parser's message named neither the byte nor the cause.
    #[error("{path}:{line}: byte {offset} is not UTF-8, which a session log is")]
    NotUtf8 {
        path: PathBuf,
        line: u64,
        offset: u64,
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
    /// Whether writing to the store failed (a full disk, an I/O error), not the file.
    pub fn is_store_io(&self) -> bool {
        matches!(
            self,
            ImportError::Store(StoreError::Io { .. })
                | ImportError::StoreAt {
                    source: StoreError::Io { .. },
                    ..
                }
        )
    }

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
    if report.status != "recorded_by_hooks" {
        return Ok(report);
    }
    let at = |source| ImportError::StoreAt {
        path: path.to_path_buf(),
        source,
    };
    let stored = super::existing::stored(store, &report.session_id).map_err(at)?;
    report.not_imported =
        Some(super::existing::not_imported(store, &report.session_id, &stored, path).map_err(at)?);
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
    // Only a regular file, and a FIFO cannot hold the open.
    let file = crate::store::open_regular(path).map_err(io)?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut importer = Importer::new(store, path, parent, sink);
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut first_bad: Option<(u64, String)> = None;
    // A line mended of lone surrogates, which the entry read from it borrows.
    let mut spare = Vec::new();
    loop {
        let mut line = read_line_within(&mut reader, &mut buf, LINE_LIMIT).map_err(io)?;
        if line.too_long {
            // A file whose first line is past the limit is no transcript (one begins with a
            // small line: a prompt, a summary): refused there, not read on to the line's end,
            // which in a sparse file of gigabytes is its end.
            if importer.report.entries.is_empty() && importer.main.is_none() {
                importer.report.lines += 1;
                importer.bad_line(&mut first_bad, importer.read.lines + 1, too_long());
                break;
            }
            let (rest, ended) = skip_line(&mut reader).map_err(io)?;
            line.consumed += rest;
            line.ended = ended;
        }
        let n = line.consumed;
        if n == 0 {
            break;
        }
        let before = importer.read;
        importer.read = Position {
            offset: before.offset + n as u64,
            last_line_at: before.offset,
            lines: before.lines + 1,
        };
        importer.report.lines += 1;
        if line.too_long {
            // Unfinished, it may be one Claude Code is still writing: left for the next
            // import, as a last line that does not parse is (read again then, never held).
            if !line.ended && importer.main.is_some() {
                importer.leave_unfinished(before);
                break;
            }
            importer.bad_line(&mut first_bad, before.lines + 1, too_long());
            continue;
        }
        let text = crate::store::json_text(&buf);
        if text.is_empty() {
            // The empty lines that follow, passed at once.
            if line.ended {
                let empty = skip_newlines(&mut reader).map_err(io)?;
                if empty > 0 {
                    let at = importer.read.offset;
                    importer.read = Position {
                        offset: at + empty,
                        last_line_at: at + empty - 1,
                        lines: importer.read.lines + empty,
                    };
                    importer.report.lines += empty;
                }
            }
            continue;
        }
        // One UTF-8 check of the whole line (fast on ASCII) instead of one per string and raw
        // value; a line that fails it is decoded as bytes, which gives the same result as before.
        let decoded = match std::str::from_utf8(text) {
            Ok(text) => deep_json::from_str::<Entry<'_>>(text),
            Err(_) => deep_json::from_slice::<Entry<'_>>(text),
        };
        // Node writes lone surrogate escapes when it cuts a string inside an emoji; only a line
        // that fails to parse is read again with them taken as U+FFFD, so other lines cost
        // nothing more. Raw parts (content) are checked when read: the entry asks for a mend.
        let decoded = match decoded {
            Ok(entry) => match importer.entry(&entry, false)? {
                Flow::Mend => match mend(text) {
                    Some(fixed) => {
                        spare = fixed;
                        match deep_json::from_slice::<Entry<'_>>(&spare) {
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
            Ok(Flow::Stop) => break,
            Ok(Flow::Seek(offset)) => {
                reader.seek(SeekFrom::Start(offset)).map_err(io)?;
            }
            Ok(_) => {}
            Err(e) => {
                // A last line without its newline that does not parse, in a transcript, is most
                // likely one Claude Code is still writing: it is left unread, so that the next
                // import reads it whole.
                if buf.last() != Some(&b'\n') && importer.main.is_some() {
                    importer.leave_unfinished(before);
                    break;
                }
                let message = if text.contains(&0) || std::str::from_utf8(text).is_err() {
                    "binary data, not JSON text".to_owned()
                } else {
                    e.to_string()
                };
                importer.bad_line(&mut first_bad, before.lines + 1, message);
            }
        }
    }
    importer.finish(first_bad)
}

/// Why a transcript's last line, without its newline, was left unread.
const UNFINISHED: &str =
    "it is not complete yet: Claude Code may still be writing it, and the next import reads it";

/// Why a line past [`LINE_LIMIT`] was skipped: it was read to its end, never held whole.
pub(super) fn too_long() -> String {
    format!(
        "it is longer than {} MiB, which no entry is",
        LINE_LIMIT / (1024 * 1024)
    )
}

#[derive(PartialEq, Eq)]
enum Flow {
    Go,
    Stop,
    /// Read on from this offset: the file was imported up to there before.
    Seek(u64),
    /// The line's content does not parse: read it again with lone surrogates mended.
    Mend,
}

/// A tool call waiting for its result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpenCall {
    event_id: String,
    timestamp: f64,
    tool: String,
    /// A file tool's file, as states an earlier version saved name it; the files are all in
    /// `shell_files` now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    /// The files the call reads, writes, deletes or moves ([`shell_files::of_tool_call`]); a
    /// state an earlier version saved says `true` for a write, `false` for a read.
    #[serde(default)]
    shell_files: Vec<(String, FileUse)>,
    /// Whether the call spawns a subagent, as its tool's name said before the record scrubbed
    /// it; `None` in states an earlier version saved, whose `tool` is the name as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    spawns: Option<bool>,
}

impl OpenCall {
    /// The call as the import's record keeps it: its texts scrubbed as the events made of them
    /// are (the result's `tool_name`, a file event's `path`).
    fn kept(&self, sink: &Sink) -> OpenCall {
        let text = |text: &str| resume::kept_text(sink.privacy(), text);
        OpenCall {
            event_id: self.event_id.clone(),
            timestamp: self.timestamp,
            tool: text(&self.tool),
            path: self.path.as_deref().map(text),
            shell_files: (self.shell_files.iter())
                .map(|(path, file_use)| {
                    let file_use = match file_use {
                        FileUse::Move(to) => FileUse::Move(text(to)),
                        other => other.clone(),
                    };
                    (text(path), file_use)
                })
                .collect(),
            spawns: Some(self.spawns()),
        }
    }

    fn spawns(&self) -> bool {
        self.spawns
            .unwrap_or_else(|| tools::is_spawn(Agent::ClaudeCode, &self.tool))
    }
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
    /// Entries and blocks met before in this file.
    repeats: Repeats,
    /// How far the file has been read.
    read: Position,
    /// Reading on from where an earlier import stopped, which had read this many lines.
    resumed_from: Option<u64>,
    /// Writing anew sessions the store holds already (the transcript was rewritten): each
    /// takes the stored one's place.
    replacing: bool,
    /// The folder Claude Code was started in: the first message's `cwd`, which the session's
    /// start records. Every line names the folder it was written in, and a call made in
    /// another (after a Bash `cd`) records that one, as a hook records it.
    launch: Option<String>,
    /// No line of the file gives a time: the session is placed at the file's last change, and
    /// no call or response is given a duration.
    untimed: bool,
    /// The lines read that give a time: of one or none, the file gives no time but the start
    /// ([`Importer::mark_times`]).
    times_given: u64,
    /// Lines of another session in a main session's file: that session's history, which a
    /// resumed session's file begins with, left to that session's own file when it has one.
    history: ResumedHistory,
}

/// How far a file has been read.
#[derive(Debug, Clone, Copy, Default)]
struct Position {
    /// Bytes read: the offset just past the last line read.
    offset: u64,
    /// Where the last line read starts.
    last_line_at: u64,
    lines: u64,
}

/// What to do with a session the store holds already.
enum Existing {
    /// Nothing: the store holds all of it, or it is not the import's to change.
    Stop(&'static str),
    /// Read on from this offset, where the earlier import stopped.
    Resume(u64),
    /// Import it again whole, in place of the stored one while its events are as long as the
    /// check found them (when it found them as the earlier import left them): an event a hook
    /// appended since keeps the session as it is.
    Replace(Option<u64>),
}

/// A `compact_boundary` line waiting for the summary that follows it; kept in the import's
/// record when the file ends between the two, so that the next import finds the summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Boundary {
    at: f64,
    trigger: Option<String>,
    pre_tokens: Option<u64>,
}

impl Boundary {
    /// The boundary as the import's record keeps it, its trigger scrubbed as the compaction's
    /// event says it.
    fn kept(self, sink: &Sink) -> Boundary {
        Boundary {
            trigger: (self.trigger).map(|t| resume::kept_text(sink.privacy(), &t)),
            ..self
        }
    }
}

impl<'a> Importer<'a> {
    /// Leaves the line read after `before` (the file's last, without its newline) for the
    /// next import, and says so in the report.
    fn leave_unfinished(&mut self, before: Position) {
        self.read = before;
        self.report.lines -= 1;
        self.report.malformed.push(SkippedLine {
            line: before.lines + 1,
            message: UNFINISHED.to_owned(),
        });
    }

    /// Counts line `line` as malformed for `message`, the first such kept in `first_bad` and
    /// the first 20 in the report.
    fn bad_line(&mut self, first_bad: &mut Option<(u64, String)>, line: u64, message: String) {
        first_bad.get_or_insert_with(|| (line, message.clone()));
        *self.report.entries.entry("malformed".into()).or_default() += 1;
        if self.report.malformed.len() < 20 {
            self.report.malformed.push(SkippedLine { line, message });
        }
    }

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
            report: ImportReport::new(path, String::new(), "claude-code"),
            counted: Counted::default(),
            main: None,
            sidechains: HashMap::new(),
            stopped: false,
            last_timestamp: 0.0,
            title: None,
            compaction: None,
            repeats: Repeats::default(),
            read: Position::default(),
            resumed_from: None,
            replacing: false,
            launch: None,
            untimed: false,
            times_given: 0,
            history: ResumedHistory::of(path, parent.is_none()),
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
            self.times_given += 1;
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
        // History of another session, counted in its own file: before the session is opened,
        // so that this one starts with its own first line.
        if self.history.counted_elsewhere(entry.session_id.as_deref()) {
            self.report.resumed_history += 1;
            return Ok(Flow::Go);
        }
        if self.main.is_none() {
            if let Some(offset) = self.open_main(entry)? {
                return Ok(Flow::Seek(offset));
            }
            if self.stopped {
                return Ok(Flow::Stop);
            }
        }
        // A line a resumed or forked history repeats is counted once.
        if !self.repeats.entry(entry.uuid.as_deref()) {
            self.report.repeated += 1;
            return Ok(Flow::Go);
        }
        let ts = self.last_timestamp;
        // Older Claude Code wrote subagents' lines into the main file, marked as sidechains.
        let sidechain = entry.is_sidechain == Some(true) && self.parent.is_none();
        let context_key = if sidechain {
            let agent = entry.agent_id.as_deref().unwrap_or("sidechain");
            // Keyed as the import's record keeps it, so that an import carrying on finds it.
            let key = resume::kept_id(self.sink.privacy(), agent).into_owned();
            if !self.sidechains.contains_key(&key) {
                let ctx = self.open_sidechain(agent, ts)?;
                self.sidechains.insert(key.clone(), ctx);
            }
            if self.sidechains[&key].is_none() {
                return Ok(Flow::Go);
            }
            Some(key)
        } else {
            None
        };
        let content = match content {
            Ok(mut content) => {
                let had_blocks = !content.is_empty();
                let at = entry.timestamp.as_deref();
                content.retain(|block| self.repeats.block(at, block));
                if had_blocks && content.is_empty() {
                    self.report.repeated += 1;
                    return Ok(Flow::Go);
                }
                content
            }
            Err(e) => {
                let line = self.read.lines;
                self.report.malformed.push(SkippedLine {
                    line,
                    message: format!("content: {e}"),
                });
                return Ok(Flow::Go);
            }
        };
        // Where the line was written, when not where Claude Code was started (the hook's rule).
        let ran_in = entry
            .cwd
            .as_deref()
            .filter(|cwd| self.launch.as_deref().is_some_and(|launch| launch != *cwd));
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
                timed: !self.untimed,
                compaction: &mut self.compaction,
                ran_in,
                folder: entry.cwd.as_deref(),
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

    /// Opens the file's own session. `Some(offset)` when an earlier import of the file read up
    /// to `offset` and the file grew since: reading goes on from there.
    fn open_main(&mut self, entry: &Entry<'_>) -> Result<Option<u64>, ImportError> {
        // The same first message opens the session when the file is read on from where an
        // earlier import stopped.
        self.launch = entry.cwd.as_deref().map(str::to_owned);
        let stem = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let session = self
            .sink
            .privacy()
            .session_id(&main_session_id(self.path, entry.session_id.as_deref()))
            .into_owned();
        let (id, parent) = match self.parent {
            Some(link) => {
                let agent = entry.agent_id.as_deref().map_or_else(
                    || stem.trim_start_matches("agent-").to_owned(),
                    str::to_owned,
                );
                let Some(id) = self
                    .sink
                    .privacy()
                    .subagent_session_id(&agent, &link.session_id)
                else {
                    // One subagent that cannot be named is left out, never its parent's import.
                    self.stopped = true;
                    self.report.status = "skipped";
                    self.report.warnings.push(format!(
                        "left out subagent `{}`: its id cannot name a session",
                        crate::model::text::one_line(&agent, 60)
                    ));
                    return Ok(None);
                };
                (id, Some(link.clone()))
            }
            None => (session, None),
        };
        self.report.session_id.clone_from(&id);
        if self.last_timestamp <= 0.0 {
            // A first message of no time (or one that cannot be read): the session starts at
            // the first time a line gives, and the lines before it are stamped with it, never
            // at 1970.
            let at = crate::capture::transcript::transcript::first_time(
                self.path,
                self.read.last_line_at,
            );
            self.last_timestamp = at.unwrap_or(self.last_timestamp);
        }
        if self.last_timestamp <= 0.0
            && let Some((at, warning)) = super::untimed_log_start(self.path)
        {
            self.last_timestamp = at;
            self.untimed = true;
            self.report.warnings.push(warning);
        }
        let mut meta = SessionMeta::new(&id, self.last_timestamp);
        "claude-code".clone_into(&mut meta.agent_name);
        meta.command = match &parent {
            Some(_) => "subagent (imported)".to_owned(),
            None => "claude-code (imported)".to_owned(),
        };
        if let Some(link) = &parent {
            meta.parent_session_id = Some(
                self.sink
                    .privacy()
                    .session_id(&link.session_id)
                    .into_owned(),
            );
            meta.parent_event_id.clone_from(&link.event_id);
            meta.depth = link.depth + 1;
        }
        let mut writer = match self.store.write_session(meta.clone()) {
            Ok(writer) => writer,
            Err(StoreError::SessionExists(_)) => match self.existing(&id, parent.as_ref())? {
                Existing::Stop(status) => {
                    self.stopped = true;
                    self.report.status = status;
                    return Ok(None);
                }
                Existing::Resume(offset) => return Ok(Some(offset)),
                Existing::Replace(checked) => {
                    self.replacing = true;
                    self.report.status = "reimported";
                    self.store.replace_session(meta, checked)?
                }
            },
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
        Ok(None)
    }

    /// What to do with the session `id`, which the store holds already.
    fn existing(&mut self, id: &str, link: Option<&ParentLink>) -> Result<Existing, ImportError> {
        let read = match resume::check(self.store, id, self.path)? {
            // Removed meanwhile, or rewritten: written anew, in its place if it is back.
            fresh @ (Freshness::New | Freshness::Rewritten(_)) => {
                self.report.reimported_as_outdated =
                    matches!(fresh, Freshness::Rewritten(Rewritten::NoRecord));
                return Ok(Existing::Replace(fresh.checked_events()));
            }
            Freshness::RecordedByHooks => return Ok(Existing::Stop("recorded_by_hooks")),
            Freshness::OtherFile(other) => {
                self.report.imported_from = Some(other);
                self.report.imported_agent =
                    super::existing::other_agent(self.store, id, "claude-code");
                return Ok(Existing::Stop("already_imported"));
            }
            Freshness::AddedTo { new_lines } => {
                self.report.left_added_to(new_lines);
                return Ok(Existing::Stop(self.report.status));
            }
            Freshness::UpToDate(read) => {
                // A subagent whose spawning call's result came after it was imported is linked
                // to that call now, as an import of the whole file links it.
                let relink = link.and_then(|l| l.event_id.as_ref()).is_some_and(|call| {
                    self.store
                        .read_meta_to_read(id)
                        .is_ok_and(|m| m.parent_event_id.as_ref() != Some(call))
                });
                if !relink {
                    return Ok(Existing::Stop("already_imported"));
                }
                read
            }
            Freshness::Grown { read, .. } => read,
        };
        let Some(state) = resume::state(self.store, id)? else {
            return Ok(Existing::Replace(Some(read.events)));
        };
        match self.resume(&read, state, link) {
            Ok(()) => Ok(Existing::Resume(read.offset)),
            // The stored sessions are not as the import left them (their events end early, a
            // sidechain is gone): imported again whole instead.
            Err(ImportError::Store(_)) => Ok(Existing::Replace(Some(read.events))),
            Err(e) => Err(e),
        }
    }

    /// Takes up the state an earlier import of the file left, and continues its sessions.
    fn resume(
        &mut self,
        read: &resume::Read,
        state: resume::State,
        link: Option<&ParentLink>,
    ) -> Result<(), ImportError> {
        let continued = |saved: resume::Context, link: Option<&ParentLink>| {
            let mut meta = self.store.read_meta(&saved.session_id)?;
            if let Some(call) = link.and_then(|l| l.event_id.clone()) {
                meta.parent_event_id = Some(call);
            }
            let writer = self.store.resume_session(meta, &saved.mark)?;
            Ok::<_, ImportError>(Context {
                writer,
                open_calls: saved.open_calls,
                response: Current::resumed(saved.response),
                last: saved.last,
            })
        };
        // Every writer first, so that a failure leaves the importer as it was.
        let mut main = continued(state.main, link)?;
        // Checked against the record just before: an event a hook wrote since keeps the
        // session as it is, as one written before the check does.
        main.writer.expect_stored_events(read.events);
        let mut sidechains = HashMap::new();
        for side in state.sidechains {
            let context = side
                .context
                .map(|saved| continued(saved, None))
                .transpose()?;
            sidechains.insert(side.agent, context);
        }
        self.main = Some(main);
        self.sidechains = sidechains;
        self.counted = state.counted;
        self.repeats = state.repeats;
        self.compaction = state.compaction;
        self.report.agent_calls = state.agent_calls;
        self.last_timestamp = state.last_timestamp;
        self.read = Position {
            offset: read.offset,
            last_line_at: read.last_line_at,
            lines: read.lines,
        };
        self.resumed_from = Some(read.lines);
        // The report counts what is new.
        self.report.lines = 0;
        self.report.entries.clear();
        self.report.messages = 0;
        self.report.malformed.clear();
        self.report.status = "grown";
        Ok(())
    }

    /// Opens the session of a sidechain; `None` when it is left out: its id cannot name a
    /// session, or the store holds it already (an earlier import stopped before the main one).
    fn open_sidechain(&mut self, agent: &str, ts: f64) -> Result<Option<Context>, ImportError> {
        let parent = self.report.session_id.clone();
        let Some(id) = self.sink.privacy().subagent_session_id(agent, &parent) else {
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
        let key = resume::kept_id(self.sink.privacy(), agent);
        meta.parent_event_id = self.report.agent_calls.get(key.as_ref()).cloned();
        meta.depth = self.parent.map_or(0, |p| p.depth) + 1;
        let written = if self.replacing {
            self.store.replace_session(meta, None)
        } else {
            self.store.write_session(meta)
        };
        let mut writer = match written {
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
        // A subagent runs where Claude Code was started, as its calls are compared with.
        if let Some(launch) = &self.launch {
            data.insert("cwd".into(), launch.clone().into());
        }
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
        // A file read on from where an earlier import stopped was a transcript then.
        if self.resumed_from.is_none() {
            if self.report.lines == 0 {
                return Err(ImportError::Empty(self.path.to_path_buf()));
            }
            if self.report.entries.is_empty() && first_bad.is_none() {
                return Err(ImportError::Blank {
                    path: self.path.to_path_buf(),
                    lines: self.report.lines,
                });
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
        }
        if self.stopped {
            return Ok(self.report);
        }
        let Some(mut main) = self.main.take() else {
            // A transcript with no messages (only summaries, say) still becomes a session, so
            // that importing it again is recognised.
            return Err(ImportError::NotTranscript {
                path: self.path.to_path_buf(),
                line: 1,
                reason: "no user or assistant messages".to_owned(),
            });
        };
        if self
            .resumed_from
            .is_some_and(|lines| lines == self.read.lines)
        {
            self.report.status = "relinked";
        }
        let mut sidechains: Vec<(String, Option<Context>)> = self.sidechains.drain().collect();
        sidechains.sort_by(|a, b| a.0.cmp(&b.0));
        let mut kept = Vec::new();
        for (agent, ctx) in sidechains {
            let context = match ctx {
                Some(mut ctx) => {
                    self.mark_times(ctx.writer.meta_mut());
                    let saved = self.close(&mut ctx, None)?;
                    self.put(ctx)?;
                    Some(saved)
                }
                None => None,
            };
            kept.push(resume::Sidechain { agent, context });
        }
        if let Some(title) = &self.title {
            let title = self.sink.text(title);
            main.writer.meta_mut().set_attribution(TITLE, &title);
        }
        self.mark_times(main.writer.meta_mut());
        // The main session last, with the record of what was read: the record is in place
        // only once every session it covers is.
        let pending = self.compaction.take();
        let saved = self.close(&mut main, pending.as_ref())?;
        if let Some(record) = self.record(&main, saved, kept, pending) {
            main.writer.set_import_record(record);
        }
        self.put(main)?;
        Ok(self.report)
    }

    /// Marks a session of a file that gives no time but the start ([`START_ONLY`]), every
    /// event of it placed there: its end, and how long it took, are not known. A file read on
    /// from where an earlier import stopped is marked as that import left it, unless its new
    /// lines give a time, which is past the start.
    fn mark_times(&self, meta: &mut SessionMeta) {
        let resumed = self.resumed_from.is_some();
        if self.times_given > 1 || (resumed && self.times_given > 0) {
            meta.remove_attribution(TIMES);
        } else if !resumed {
            meta.set_attribution(TIMES, START_ONLY);
        }
    }

    /// Writes the events that close a session (a compaction whose summary has not come, the
    /// response in progress, its end); returns the session as it was before them, for a later
    /// import to carry on from.
    fn close(
        &mut self,
        ctx: &mut Context,
        compaction: Option<&Boundary>,
    ) -> Result<resume::Context, ImportError> {
        let privacy = self.sink.privacy();
        let saved = resume::Context {
            session_id: ctx.writer.session_id().to_owned(),
            mark: ctx.writer.mark(),
            open_calls: (ctx.open_calls.iter())
                .map(|(id, call)| {
                    let id = resume::kept_id(privacy, id).into_owned();
                    (id, call.kept(self.sink))
                })
                .collect(),
            response: ctx
                .response
                .open()
                .map(|r| r.kept(|value| privacy.apply(value))),
            last: ctx.last,
        };
        let mut events = Vec::new();
        // A compaction whose summary never came is still a compaction.
        if let Some(boundary) = compaction {
            events.push(compaction_event(
                self.sink,
                ctx.writer.session_id(),
                boundary,
                None,
            ));
        }
        let mut step = Step {
            ctx,
            events: &mut events,
            sink: self.sink,
            report: &mut self.report,
            counted: &mut self.counted,
            ts: 0.0,
            timed: !self.untimed,
            compaction: &mut None,
            ran_in: None,
            folder: None,
        };
        step.flush();
        let end_ts = ctx.last;
        let mut data = Map::new();
        data.insert("reason".into(), "import".into());
        events.push(
            self.sink
                .event(EventType::SessionEnd, end_ts, ctx.writer.session_id(), data),
        );
        for event in events {
            self.sink.emit(&mut ctx.writer, event)?;
            self.report.events += 1;
        }
        Ok(saved)
    }

    /// Moves a finished session into place.
    fn put(&mut self, ctx: Context) -> Result<(), ImportError> {
        match ctx.writer.finish() {
            // Another writer put the session there while the file was read.
            Err(StoreError::SessionExists(id)) if id == self.report.session_id => {
                self.report.status = self.taken_meanwhile(&id);
            }
            Err(StoreError::SessionExists(_)) => self.report.status = "already_imported",
            other => {
                other?;
            }
        }
        Ok(())
    }

    /// The status of this file when the store took its session `id` from another writer while
    /// the file was read, said as an import begun after that writer would say it: a hook's
    /// session (whose first event came meanwhile) is recorded by hooks, and the transcript is
    /// not merged into it; another file's import names that file.
    fn taken_meanwhile(&mut self, id: &str) -> &'static str {
        match resume::check(self.store, id, self.path) {
            Ok(Freshness::RecordedByHooks) => "recorded_by_hooks",
            Ok(Freshness::OtherFile(other)) => {
                self.report.imported_from = Some(other);
                self.report.imported_agent =
                    super::existing::other_agent(self.store, id, "claude-code");
                "already_imported"
            }
            // Hooks sharing its id wrote to the imported session while the file was read.
            Ok(Freshness::AddedTo { new_lines }) => {
                self.report.left_added_to(new_lines);
                self.report.status
            }
            _ => "already_imported",
        }
    }

    /// The record of what was read and the importer's state, kept with the main session;
    /// `None` when the last line read cannot be read back (the file changed meanwhile): the
    /// next import then reads the file again whole.
    fn record(
        &mut self,
        main: &Context,
        saved: resume::Context,
        sidechains: Vec<resume::Sidechain>,
        compaction: Option<Boundary>,
    ) -> Option<Vec<u8>> {
        let mut file = crate::store::open_regular(self.path).ok()?;
        let hash = resume::line_hash(&mut file, self.read.last_line_at, self.read.offset)
            .ok()
            .flatten()?;
        let read = resume::Read {
            format: resume::FORMAT,
            transcript: resume::kept_path(self.sink.privacy(), self.path),
            offset: self.read.offset,
            lines: self.read.lines,
            last_line_at: self.read.last_line_at,
            last_line_hash: hash,
            events: main.writer.mark().bytes,
        };
        let state = resume::State {
            last_timestamp: self.last_timestamp,
            counted: std::mem::take(&mut self.counted),
            repeats: std::mem::take(&mut self.repeats),
            agent_calls: self.report.agent_calls.clone(),
            main: saved,
            sidechains,
            compaction: compaction.map(|b| b.kept(self.sink)),
        };
        Some(resume::record(&read, &state))
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
    /// Whether `ts` is a time the file gave (see [`Importer::untimed`]).
    timed: bool,
    compaction: &'c mut Option<Boundary>,
    /// The folder the line's calls ran in, when not the one Claude Code was started in.
    ran_in: Option<&'c str>,
    /// The folder the line was written in, where its calls start.
    folder: Option<&'c str>,
}

impl Step<'_> {
    fn event(&self, kind: EventType, data: Map<String, Value>) -> Event {
        self.sink
            .event(kind, self.ts, self.ctx.writer.session_id(), data)
    }

    fn assistant(&mut self, entry: &Entry<'_>, message: &Message<'_>, content: &[Block<'_>]) {
        if entry.is_api_error() {
            self.api_error(entry, content);
            return;
        }
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

    /// The line Claude Code writes for an API error that ended the turn: recorded as the
    /// StopFailure hook records it, an `error` of no call (the turn's, not a tool's), so that a
    /// session imported and one recorded by hooks count it alike. Its text is the error, no
    /// answer, and no model made it (`<synthetic>`, no usage): no response, nothing priced.
    fn api_error(&mut self, entry: &Entry<'_>, content: &[Block<'_>]) {
        // The response in progress was the turn's last.
        self.flush();
        self.report.turn_errors += 1;
        let shown = answer_text(content);
        let kind = entry.api_error_kind();
        let said = turn_error_text(kind.as_deref(), shown.as_deref());
        let mut data = Map::new();
        data.insert("error".into(), said.into());
        if let Some(kind) = kind {
            data.insert("error_type".into(), kind.into());
        }
        if let Some(shown) = shown {
            data.insert("last_assistant_message".into(), shown.into());
        }
        let event = self.event(EventType::Error, data);
        self.events.push(event);
    }

    fn tool_use(&mut self, block: &Block<'_>) {
        self.report.tool_calls += 1;
        let tool = block.name.as_deref().unwrap_or("unknown").to_owned();
        let input: Value = block
            .input
            .and_then(|i| parse_value(i.get()).ok())
            .unwrap_or(Value::Null);
        let folder = self.folder.map_or(Folder::Unknown, Folder::Start);
        let call = ToolCall::new(Agent::ClaudeCode, &tool, &input);
        let shell_files = shell_files::of_tool_call(&call, folder)
            .into_iter()
            .map(|f| (f.path, f.file_use))
            .collect();
        let mut data = Map::new();
        data.insert("tool_name".into(), tool.clone().into());
        data.insert("arguments".into(), stored_arguments(Some(input)));
        if let Some(id) = &block.id {
            data.insert("tool_use_id".into(), id.as_ref().into());
        }
        if let Some(folder) = self.ran_in {
            data.insert(CALL_FOLDER.into(), folder.into());
        }
        let event = self.event(EventType::ToolCall, data);
        if let Some(id) = &block.id {
            self.ctx.open_calls.insert(
                id.to_string(),
                OpenCall {
                    event_id: event.event_id.clone(),
                    timestamp: self.ts,
                    spawns: Some(tools::is_spawn(Agent::ClaudeCode, &tool)),
                    tool,
                    path: None,
                    shell_files,
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
        } else if let Some(reason) = crate::model::prompt::stop_hook_feedback(&text) {
            // No prompt, but why the agent went on working after it stopped.
            let mut data = Map::new();
            data.insert("choice".into(), STOP_BLOCKED.into());
            data.insert("reason".into(), reason.into());
            let event = self.event(EventType::Decision, data);
            self.events.push(event);
        }
    }

    fn tool_result(&mut self, entry: &Entry<'_>, block: &Block<'_>) {
        let failed = block.is_error == Some(true);
        // A call read before an import carried on is keyed as the record keeps it.
        let call = block.tool_use_id.as_deref().and_then(|id| {
            self.ctx.open_calls.remove(id).or_else(|| {
                let kept = resume::kept_id(self.sink.privacy(), id);
                self.ctx.open_calls.remove(kept.as_ref())
            })
        });
        let text = block.content.map(result_text).unwrap_or_default();
        let (kind, data) = super::result_event(
            call.as_ref().map_or("unknown", |c| c.tool.as_str()),
            text,
            super::Ended::failed_if(failed),
            block.tool_use_id.as_deref(),
            (
                &mut self.report.tool_errors,
                &mut self.report.tool_rejections,
            ),
        );
        let mut event = self.event(kind, data);
        if let Some(call) = &call {
            event.parent_id = Some(call.event_id.clone());
            event.duration_ms = self
                .timed
                .then(|| ((self.ts - call.timestamp) * 1000.0).max(0.0));
        }
        self.events.push(event);
        let Some(call) = call else { return };
        if !failed {
            let kind = tools::classify(Agent::ClaudeCode, &call.tool);
            let saved = (call.path.clone())
                .filter(|_| kind.is_file())
                .map(|path| (path, FileUse::of_write(kind == ToolKind::WriteFile)));
            let files = saved.into_iter().chain(call.shell_files.iter().cloned());
            for (path, file_use) in files {
                let (kind, data) = ShellFile { path, file_use }.event(&call.tool);
                let mut file_event = self.event(kind, data);
                file_event.parent_id = Some(call.event_id.clone());
                self.events.push(file_event);
            }
        }
        if call.spawns()
            && let Some(agent) = entry
                .tool_use_result
                .and_then(|r| deep_json::from_str::<TaskResult<'_>>(r.get()).ok())
                .and_then(|r| r.agent_id.map(std::borrow::Cow::into_owned))
        {
            let agent = resume::kept_id(self.sink.privacy(), &agent).into_owned();
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
        match Tokens::read_usage(&usage) {
            Some(tokens) => self.report.tokens.add(&tokens),
            None => self.report.unbelieved_usage += 1,
        }
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
        event.duration_ms = self
            .timed
            .then(|| ((response.last - response.first) * 1000.0).max(0.0));
        self.events.push(event);
    }
}

/// The id the import gives the session of the main transcript at `path`, whose first line
/// names session `first`. Claude Code names the file by its session's id, which its hooks give
/// too. A file of a resumed session begins with the history it resumed, each line with the id of
/// the session it was first written in: the file's name says whose file it is. A file named
/// otherwise (a copy kept under a name of its own) is named by its first line; a session id
/// that cannot name a folder (a damaged line) gives way to the file's name.
pub fn main_session_id(path: &Path, first: Option<&str>) -> String {
    session_named_by(path)
        .or_else(|| first.filter(|id| crate::store::is_valid_session_id(id)))
        .map(str::to_owned)
        .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

/// The first thing the user typed in a transcript, for recognising it in `import --discover`'s
/// listing: looked for in its first lines only ([`super::agent_log::first_prompt`]), each line
/// decoded as a transcript's line is: the first text of a user line that is not Claude Code's
/// own (`isMeta`).
pub fn first_prompt(path: &Path) -> super::agent_log::FirstPrompt {
    let mut spare = Vec::new();
    super::agent_log::first_prompt(path, |text| {
        let entry = Entry::decode(text, &mut spare).ok()?;
        if entry.kind.as_deref() != Some("user") || entry.is_meta == Some(true) {
            return None;
        }
        blocks(entry.message?.content?)
            .ok()?
            .into_iter()
            .find(|b| b.kind.as_deref() == Some("text"))?
            .text
            .map(std::borrow::Cow::into_owned)
    })
}
