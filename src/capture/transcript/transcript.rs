//! Reading a Claude Code transcript file without importing it: its last answer (for the Stop
//! hook), its first prompt (for pairing a subagent with its call), the usage of every API
//! response (for costing a session recorded by hooks), and a survey of what it holds (for an
//! import that finds its session in the store already).

use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use super::content::{answer_text, blocks, prompt_text};
use super::repeats::Repeats;
use super::responses::{Counted, Current, Line, LoggedUsage, Response, ResponseUsage, Step};
use super::wire::{Entry, Message, TaskResult, mend};
use crate::model::{Tokens, deep_json};
use crate::store::{
    EntryKind, LINE_LIMIT, entry_kind, folder_entries, json_text, open_regular, read_line,
    read_line_within,
};

/// How far back from the end the Stop hook looks; a hook must stay fast on huge transcripts.
const TAIL_LIMIT: u64 = 4 * 1024 * 1024;

/// How the last assistant line with text ended a turn, read from the end of a transcript.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnEnd {
    /// The model's answer: the line's text blocks, joined.
    Answer(String),
    /// The line Claude Code wrote for an API error that ended the turn (`isApiErrorMessage`):
    /// its text is the error it showed, `kind` the error's kind when the line names one.
    ApiError {
        text: Option<String>,
        kind: Option<String>,
        /// When the line was written (seconds since the epoch), when it says.
        at: Option<f64>,
    },
    /// A line Claude Code wrote itself with no model behind it (`<synthetic>`, `No response
    /// requested.`): the turn has no answer of the model's.
    Synthetic,
}

/// How the turn ended, from the last assistant line with text (or an API error's line) in the
/// file's last [`TAIL_LIMIT`] bytes; `None` when the file cannot be read or holds none.
pub fn turn_end(path: &Path) -> Option<TurnEnd> {
    crate::capture::tail::search_from_end(path, TAIL_LIMIT, |line| match end_of(line) {
        Some(end) => ControlFlow::Break(Some(end)),
        None => ControlFlow::Continue(()),
    })
}

/// The text blocks of the last assistant message with text, joined; `None` when the file cannot
/// be read, holds none in its last [`TAIL_LIMIT`] bytes, or the turn ended in a line Claude
/// Code wrote itself (an API error's, a `<synthetic>` one): no answer of the model's.
pub fn last_assistant_text(path: &Path) -> Option<String> {
    match turn_end(path)? {
        TurnEnd::Answer(text) => Some(text),
        TurnEnd::ApiError { .. } | TurnEnd::Synthetic => None,
    }
}

fn end_of(line: &[u8]) -> Option<TurnEnd> {
    let line = line.trim_ascii();
    // Most lines are not the assistant's: skip them before decoding.
    if line.is_empty() || !line.windows(11).any(|w| w == b"\"assistant\"") {
        return None;
    }
    match end_of_entry(line) {
        Ok(end) => end,
        // Lone surrogate escapes (Node cut a string inside an emoji) are read as U+FFFD.
        Err(()) => end_of_entry(&mend(line)?).ok().flatten(),
    }
}

/// How an assistant line ends its turn; `Err` when the line does not parse.
fn end_of_entry(line: &[u8]) -> Result<Option<TurnEnd>, ()> {
    let entry: Entry<'_> = deep_json::from_slice(line).map_err(|_| ())?;
    if entry.kind.as_deref() != Some("assistant") {
        return Ok(None);
    }
    let api_error = entry.is_api_error();
    let kind = api_error.then(|| entry.api_error_kind()).flatten();
    let at = entry.timestamp.as_deref().and_then(super::parse_time);
    let Some(message) = entry.message else {
        return Ok(None);
    };
    let synthetic = message.model.as_deref() == Some("<synthetic>");
    let text = match message.content {
        Some(content) => answer_text(&blocks(content).map_err(|_| ())?),
        None => None,
    };
    Ok(if api_error {
        Some(TurnEnd::ApiError { text, kind, at })
    } else if text.is_none() {
        None
    } else if synthetic {
        Some(TurnEnd::Synthetic)
    } else {
        text.map(TurnEnd::Answer)
    })
}

/// The text the model last wrote in a turn an API error ended (Claude Code's StopFailure),
/// stamped later than `since` (when the turn's prompt was recorded, seconds since the epoch);
/// `None` when the turn holds none in the file's last [`TAIL_LIMIT`] bytes.
///
/// The lines Claude Code writes itself are passed over: the API error's own message
/// (`isApiErrorMessage`, the `<synthetic>` model), which StopFailure's `last_assistant_message`
/// also holds. The search stops at the first line stamped before `since`: the turn's prompt
/// line may not be written yet when the error comes fast, and the answer before it is the
/// previous turn's, which its Stop recorded.
pub fn turn_text_before_error(path: &Path, since: f64) -> Option<String> {
    let mut spare = Vec::new();
    crate::capture::tail::search_from_end(path, TAIL_LIMIT, |line| {
        let Ok(entry) = Entry::decode(line.trim_ascii(), &mut spare) else {
            return ControlFlow::Continue(());
        };
        let at = entry.timestamp.as_deref().and_then(super::parse_time);
        match at {
            Some(at) if at < since => return ControlFlow::Break(None),
            Some(_) => {}
            // A line of no time tells nothing of its turn.
            None => return ControlFlow::Continue(()),
        }
        let written_by_claude_code = entry.is_api_error()
            || entry.message.as_ref().and_then(|m| m.model.as_deref()) == Some("<synthetic>");
        if entry.kind.as_deref() != Some("assistant")
            || entry.is_sidechain == Some(true)
            || written_by_claude_code
        {
            return ControlFlow::Continue(());
        }
        let text = entry
            .message
            .and_then(|m| m.content)
            .and_then(|c| blocks(c).ok())
            .and_then(|b| answer_text(&b));
        match text {
            Some(text) => ControlFlow::Break(Some(text)),
            None => ControlFlow::Continue(()),
        }
    })
}

/// How much of a subagent's transcript is read for its first prompt.
const HEAD_LIMIT: u64 = 1024 * 1024;

/// What the first user line of a transcript says (a subagent's transcript starts with the
/// prompt its spawning call gave it); `None` when the file cannot be read or its first
/// [`HEAD_LIMIT`] bytes hold no such line.
pub fn first_prompt(path: &Path) -> Option<String> {
    let mut reader = BufReader::new(open_regular(path).ok()?.take(HEAD_LIMIT));
    let (mut buf, mut spare) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        if read_line(&mut reader, &mut buf, LINE_LIMIT).ok()?.consumed == 0 {
            return None;
        }
        let Ok(entry) = Entry::decode(json_text(&buf), &mut spare) else {
            continue;
        };
        if entry.kind.as_deref() != Some("user") || entry.is_meta == Some(true) {
            continue;
        }
        let content = entry.message?.content?;
        return Some(prompt_text(&blocks(content).ok()?));
    }
    None
}

/// How much of a transcript is read for the first time one of its lines gives.
const TIME_LIMIT: u64 = 16 * 1024 * 1024;

/// The first time a line of the transcript at `path` gives, from the line at byte `from` on
/// (within [`TIME_LIMIT`] bytes): the start of a session whose first message has no time (or
/// one that cannot be read). `None` when no line there gives one.
pub fn first_time(path: &Path, from: u64) -> Option<f64> {
    let mut file = open_regular(path).ok()?;
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(from)).ok()?;
    let mut reader = BufReader::new(file.take(TIME_LIMIT));
    let (mut buf, mut spare) = (Vec::new(), Vec::new());
    loop {
        if read_line(&mut reader, &mut buf, LINE_LIMIT).ok()?.consumed == 0 {
            return None;
        }
        let Ok(entry) = Entry::decode(json_text(&buf), &mut spare) else {
            continue;
        };
        if let Some(at) = entry.timestamp.as_deref().and_then(super::parse_time) {
            return Some(at);
        }
    }
}

/// The session a transcript names in its first lines (`sessionId`).
pub fn session_of(path: &Path) -> Option<String> {
    let mut reader = BufReader::new(open_regular(path).ok()?);
    let (mut buf, mut spare) = (Vec::new(), Vec::new());
    for _ in 0..50 {
        // A line past the limit is not read on to its end: a look at the first lines stops.
        let read = read_line_within(&mut reader, &mut buf, LINE_LIMIT).ok()?;
        if read.consumed == 0 || read.too_long {
            return None;
        }
        let Ok(entry) = Entry::decode(json_text(&buf), &mut spare) else {
            continue;
        };
        if let Some(id) = entry.session_id {
            return Some(id.into_owned());
        }
    }
    None
}

/// Where a transcript's session ran: its `sessionId` and the `cwd` Claude Code was started in,
/// from its first lines (a line of a kind that carries neither, a title say, is passed over).
pub fn origin_of(path: &Path) -> (Option<String>, Option<String>) {
    let (mut session, mut cwd) = (None, None);
    let Ok(file) = open_regular(path) else {
        return (None, None);
    };
    let mut reader = BufReader::new(file);
    let (mut buf, mut spare) = (Vec::new(), Vec::new());
    for _ in 0..50 {
        // A line past the limit is not read on to its end: a look at the first lines stops.
        match read_line_within(&mut reader, &mut buf, LINE_LIMIT) {
            Ok(read) if read.consumed > 0 && !read.too_long => {}
            _ => break,
        }
        let Ok(entry) = Entry::decode(json_text(&buf), &mut spare) else {
            continue;
        };
        session = session.or_else(|| entry.session_id.map(std::borrow::Cow::into_owned));
        cwd = cwd.or_else(|| {
            entry
                .cwd
                .filter(|c| !c.is_empty())
                .map(std::borrow::Cow::into_owned)
        });
        if session.is_some() && cwd.is_some() {
            break;
        }
    }
    (session, cwd)
}

/// The history of other sessions that a main transcript begins with when its session was
/// resumed: each copied line keeps the id of the session it was first written in. A line of a
/// session whose own file lies beside this one is counted in that file, once, and left out
/// here; with no such file the copy is all that is left of it, and it is read here.
#[derive(Debug)]
pub struct ResumedHistory {
    /// The session the file's name gives, as Claude Code names a main transcript.
    own: Option<String>,
    folder: Option<std::path::PathBuf>,
    /// Whether each other session's own file lies beside this one, looked up once each.
    beside: HashMap<String, bool>,
}

impl ResumedHistory {
    /// For the main transcript at `path`; a subagent's file (`main` false) holds no history.
    pub fn of(path: &Path, main: bool) -> Self {
        Self {
            own: session_named_by(path).filter(|_| main).map(str::to_owned),
            folder: path.parent().map(Path::to_path_buf),
            beside: HashMap::new(),
        }
    }

    /// Whether a line written in session `other` is another session's history, counted in
    /// that session's own file.
    pub fn counted_elsewhere(&mut self, other: Option<&str>) -> bool {
        let (Some(own), Some(other)) = (&self.own, other) else {
            return false;
        };
        if own == other || !crate::store::is_valid_session_id(other) {
            return false;
        }
        if let Some(&beside) = self.beside.get(other) {
            return beside;
        }
        // Only a regular file of its own, never one a link names.
        let beside = self.folder.as_ref().is_some_and(|folder| {
            std::fs::symlink_metadata(folder.join(format!("{other}.jsonl")))
                .is_ok_and(|m| m.file_type().is_file())
        });
        self.beside.insert(other.to_owned(), beside);
        beside
    }
}

/// The session id a transcript's name gives it when Claude Code made the name (`<uuid>.jsonl`).
pub fn session_named_by(path: &Path) -> Option<&str> {
    let stem = path.file_stem()?.to_str()?;
    (uuid::Uuid::try_parse(stem).is_ok() && crate::store::is_valid_session_id(stem)).then_some(stem)
}

/// The usage of every API response in a transcript, counted the way an import counts it, in
/// time order. For costing a session recorded by hooks, whose transcript holds the usage the
/// hooks never see. Responses with no usage at all are left out; those whose usage no response
/// can have are counted apart ([`LoggedUsage::unbelieved`]). The history a resumed session's
/// file begins with is the resumed session's spend, left to its own file as an import leaves
/// it ([`ResumedHistory`]): counted here too, a resumed session cost what both did.
///
/// The subagents' transcripts beside it (`<stem>/subagents/agent-*.jsonl`, [`subagent_files`])
/// are the session's spend too, as an import counts them in its subagents' sessions: hooks
/// record no usage for a subagent, so a session priced from its transcript counts them here.
/// One that cannot be read is left out; the main transcript's error is the one returned.
pub fn transcript_usage(path: &Path) -> std::io::Result<LoggedUsage> {
    let mut logged = file_usage(path, true)?;
    for child in subagent_files(path).files {
        if let Ok(child) = file_usage(&child, false) {
            logged.responses.extend(child.responses);
            logged.unbelieved += child.unbelieved;
        }
    }
    logged
        .responses
        .sort_by(|a, b| a.timestamp.total_cmp(&b.timestamp));
    Ok(logged)
}

/// How long a transcript and its subagents' transcripts are: what [`transcript_usage`] reads.
/// A reader that reads the usage again only when it grew (`watch`) compares these: a subagent
/// at work writes its own transcript alone, the main one quiet until the subagent is done.
#[derive(Debug, PartialEq, Eq)]
pub struct TranscriptSizes {
    pub main: u64,
    /// Each subagent's transcript and its length, in name order; one that cannot be looked at
    /// is left out, as [`transcript_usage`] leaves it out.
    pub subagents: Vec<(PathBuf, u64)>,
}

/// The lengths of the transcript at `path` and of its subagents' ([`subagent_files`]); the
/// main transcript's error when it cannot be looked at.
pub fn transcript_sizes(path: &Path) -> std::io::Result<TranscriptSizes> {
    let main = std::fs::metadata(path)?.len();
    let subagents = subagent_files(path)
        .files
        .into_iter()
        .filter_map(|file| {
            let len = std::fs::symlink_metadata(&file).ok()?.len();
            Some((file, len))
        })
        .collect();
    Ok(TranscriptSizes { main, subagents })
}

/// The usage of every API response in one transcript file, the main one's (`main`) or a
/// subagent's, in no particular order.
fn file_usage(path: &Path, main: bool) -> std::io::Result<LoggedUsage> {
    // Past its holes: a transcript named by a session may be a sparse file of gigabytes, which
    // held `watch` (that reads it each time it grows) for as long as its zeros took to read.
    let mut reader = crate::store::SkipHoles::buffered(open_regular(path)?, 1 << 20);
    let mut counted = Counted::default();
    let mut current: Current<()> = Current::default();
    let mut responses: Vec<ResponseUsage> = Vec::new();
    let mut unbelieved = 0u64;
    let mut keep = |response: super::Response<()>| {
        if !(response.first_time && response.has_usage()) {
            return;
        }
        // A usage that holds a count no response can have is unknown: left out, and counted.
        match Tokens::read_usage(&response.usage()) {
            Some(usage) => responses.push(ResponseUsage {
                timestamp: response.last,
                model: response.model.clone().unwrap_or_else(|| "unknown".into()),
                usage,
                subagent: !main,
            }),
            None => unbelieved += 1,
        }
    };
    let mut history = ResumedHistory::of(path, main);
    let mut buf = Vec::new();
    let mut spare = Vec::new();
    loop {
        // A line too long to be a transcript entry is skipped like one that does not parse.
        if read_line(&mut reader, &mut buf, LINE_LIMIT)?.consumed == 0 {
            break;
        }
        let Ok(entry) = Entry::decode(json_text(&buf), &mut spare) else {
            continue;
        };
        // An API error's line is Claude Code's, not a response: the import records it as the
        // turn's error.
        if entry.kind.as_deref() != Some("assistant")
            || entry.is_api_error()
            || history.counted_elsewhere(entry.session_id.as_deref())
        {
            continue;
        }
        let Some(message) = &entry.message else {
            continue;
        };
        if let Step::Started { ended: Some(done) } =
            current.line(&mut counted, &response_line(&entry, message))
        {
            keep(done);
        }
    }
    if let Some(done) = current.end() {
        keep(done);
    }
    Ok(LoggedUsage {
        responses,
        unbelieved,
    })
}

/// What a transcript's `<stem>/subagents/` folder holds named like a transcript.
#[derive(Default)]
pub struct Subagents {
    /// The transcripts, in name order.
    pub files: Vec<PathBuf>,
    /// Links, which are not followed: the folder is the agent's, and a link in it may point
    /// anywhere (a FIFO, a device, a file not the user's to import).
    pub links: Vec<PathBuf>,
    /// FIFOs, sockets and devices: no transcript, and never opened (reading a FIFO would never
    /// end).
    pub specials: Vec<PathBuf>,
}

/// The entries named like a transcript (`*.jsonl`) in `file`'s `<stem>/subagents/` folder.
pub fn subagent_files(file: &Path) -> Subagents {
    let subagents = file.with_extension("").join("subagents");
    let mut found = Subagents::default();
    if entry_kind(&subagents) != Some(EntryKind::Folder) {
        return found;
    }
    for (path, kind) in folder_entries(&subagents) {
        if path.extension().is_none_or(|e| e != "jsonl") {
            continue;
        }
        match kind {
            EntryKind::File => found.files.push(path),
            EntryKind::Link => found.links.push(path),
            EntryKind::Other => found.specials.push(path),
            EntryKind::Folder => {}
        }
    }
    found
}

/// What an assistant entry says of the response it belongs to.
fn response_line<'a>(entry: &'a Entry<'a>, message: &'a Message<'a>) -> Line<'a> {
    Line {
        message_id: message.id.as_deref(),
        request_id: entry.request_id.as_deref(),
        model: message.model.as_deref(),
        usage: message.usage,
        at: entry
            .timestamp
            .as_deref()
            .and_then(super::parse_time)
            .unwrap_or_default(),
    }
}

/// A transcript's main conversation, read without importing it.
#[derive(Debug, Default)]
pub struct Survey {
    pub responses: u64,
    pub tokens: Tokens,
    pub answers: u64,
    pub thinking: u64,
    /// Its tool calls' ids, in order.
    pub tool_use_ids: Vec<String>,
    /// The subagent each spawning call ran, by agent id: the call's tool-use id.
    pub agents: HashMap<String, String>,
    /// The lines Claude Code wrote for API errors that ended turns.
    pub api_errors: u64,
}

fn count(survey: &mut Survey, response: &Response<()>) {
    if response.first_time {
        survey.responses += 1;
        survey.tokens.add(&response.tokens());
    }
}

/// Reads the main conversation of a transcript: its responses, answers, thinking and tool calls
/// (each counted once, as an import counts them), and which call ran which subagent.
pub fn survey(path: &Path) -> std::io::Result<Survey> {
    let mut reader = crate::store::SkipHoles::buffered(open_regular(path)?, 1 << 20);
    let mut survey = Survey::default();
    let mut counted = Counted::default();
    let mut current: Current<()> = Current::default();
    let mut repeats = Repeats::default();
    let (mut buf, mut spare) = (Vec::new(), Vec::new());
    loop {
        // A line too long to be a transcript entry is skipped like one that does not parse.
        if read_line(&mut reader, &mut buf, LINE_LIMIT)?.consumed == 0 {
            break;
        }
        let Ok(entry) = Entry::decode(json_text(&buf), &mut spare) else {
            continue;
        };
        let Some(message) = &entry.message else {
            continue;
        };
        // An API error's line is no response and no answer: the turn's error, which the
        // hooks' StopFailure records.
        if entry.is_sidechain == Some(true) || !repeats.entry(entry.uuid.as_deref()) {
            continue;
        }
        if entry.is_api_error() {
            survey.api_errors += 1;
            continue;
        }
        let mut content = message
            .content
            .and_then(|c| blocks(c).ok())
            .unwrap_or_default();
        let at = entry.timestamp.as_deref();
        content.retain(|block| repeats.block(at, block));
        match entry.kind.as_deref() {
            Some("assistant") => {
                if let Step::Started { ended: Some(done) } =
                    current.line(&mut counted, &response_line(&entry, message))
                {
                    count(&mut survey, &done);
                }
                for block in &content {
                    match block.kind.as_deref() {
                        Some("text")
                            if block.text.as_deref().is_some_and(|t| !t.trim().is_empty()) =>
                        {
                            survey.answers += 1;
                        }
                        Some("thinking" | "redacted_thinking") => survey.thinking += 1,
                        Some("tool_use") => {
                            if let Some(id) = &block.id {
                                survey.tool_use_ids.push(id.to_string());
                            }
                        }
                        _ => {}
                    }
                }
            }
            Some("user") => {
                let agent = entry
                    .tool_use_result
                    .and_then(|r| deep_json::from_str::<TaskResult<'_>>(r.get()).ok())
                    .and_then(|r| r.agent_id.map(std::borrow::Cow::into_owned));
                let call = content
                    .iter()
                    .find(|b| b.kind.as_deref() == Some("tool_result"))
                    .and_then(|b| b.tool_use_id.as_deref());
                if let (Some(agent), Some(call)) = (agent, call) {
                    survey.agents.insert(agent, call.to_owned());
                }
            }
            _ => {}
        }
    }
    if let Some(done) = current.end() {
        count(&mut survey, &done);
    }
    Ok(survey)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_before_an_api_error_is_the_turns_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let line = |kind: &str, at: &str, extra: &str, text: &str| {
            format!(
                r#"{{"type":"{kind}","timestamp":"{at}"{extra},"message":{{"content":[{{"type":"text","text":"{text}"}}]}}}}"#
            )
        };
        let lines = [
            line(
                "assistant",
                "2026-01-01T00:00:00.000Z",
                "",
                "the previous turn's",
            ),
            line("user", "2026-01-01T00:01:00.000Z", "", "go on"),
            line("assistant", "2026-01-01T00:01:01.000Z", "", "mine"),
            line(
                "assistant",
                "2026-01-01T00:01:02.000Z",
                r#","isSidechain":true"#,
                "a subagent's",
            ),
            // A line of no time is passed over, as is the error Claude Code writes itself.
            r#"{"type":"assistant","message":{"content":[{"type":"text","text":"no time"}]}}"#
                .to_owned(),
            line(
                "assistant",
                "2026-01-01T00:01:03.000Z",
                r#","isApiErrorMessage":true"#,
                "API Error: 529",
            ),
        ];
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let turn_began = super::super::parse_time("2026-01-01T00:00:30Z").unwrap();
        assert_eq!(
            turn_text_before_error(&path, turn_began).as_deref(),
            Some("mine")
        );
        // A turn that began after every text the model wrote has none.
        let later = super::super::parse_time("2026-01-01T00:01:01.500Z").unwrap();
        assert_eq!(turn_text_before_error(&path, later), None);
        assert_eq!(
            turn_text_before_error(&dir.path().join("missing"), 0.0),
            None
        );
    }

    #[test]
    fn finds_the_last_text_and_skips_tool_use_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(
            &path,
            concat!(
                r#"{"type":"assistant","message":{"content":[{"type":"text","text":"first"}]}}"#,
                "\n",
                r#"{"type":"assistant","message":{"content":[{"type":"text","text":"second"}]}}"#,
                "\n",
                r#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Bash"}]}}"#,
                "\n",
                r#"{"type":"user","message":{"content":"thanks"}}"#,
                "\n",
            ),
        )
        .unwrap();
        assert_eq!(last_assistant_text(&path).as_deref(), Some("second"));
        assert_eq!(last_assistant_text(&dir.path().join("missing")), None);
    }

    #[test]
    fn a_turn_ends_in_an_answer_an_api_error_or_a_line_of_claude_codes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let answer = r#"{"type":"assistant","message":{"model":"claude-x","content":[{"type":"text","text":"done"}]}}"#;
        let error = r#"{"type":"assistant","timestamp":"2026-01-01T00:00:01Z","isApiErrorMessage":true,"error":"rate_limit","message":{"model":"<synthetic>","content":[{"type":"text","text":"API Error: 429"}]}}"#;
        let synthetic = r#"{"type":"assistant","message":{"model":"<synthetic>","content":[{"type":"text","text":"No response requested."}]}}"#;
        let tool_use =
            r#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Bash"}]}}"#;
        let end = |lines: &[&str]| {
            std::fs::write(&path, lines.join("\n") + "\n").unwrap();
            (turn_end(&path), last_assistant_text(&path))
        };
        assert_eq!(
            end(&[error, answer, tool_use]),
            (Some(TurnEnd::Answer("done".into())), Some("done".into()))
        );
        assert_eq!(
            end(&[answer, error]),
            (
                Some(TurnEnd::ApiError {
                    text: Some("API Error: 429".into()),
                    kind: Some("rate_limit".into()),
                    at: super::super::parse_time("2026-01-01T00:00:01Z"),
                }),
                None
            )
        );
        assert_eq!(end(&[answer, synthetic]), (Some(TurnEnd::Synthetic), None));
    }

    #[test]
    fn usage_is_counted_once_per_response_with_its_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(
            &path,
            concat!(
                r#"{"type":"assistant","timestamp":"2026-01-01T00:00:01Z","requestId":"r1","message":{"id":"m1","model":"claude-x","usage":{"output_tokens":1}}}"#,
                "\n",
                r#"{"type":"assistant","timestamp":"2026-01-01T00:00:02Z","requestId":"r1","message":{"id":"m1","model":"claude-x","usage":{"output_tokens":7}}}"#,
                "\n",
                r#"{"type":"assistant","timestamp":"2026-01-01T00:00:03Z","requestId":"r2","message":{"id":"m2","model":"claude-x","usage":{"output_tokens":2}}}"#,
                "\n",
            ),
        )
        .unwrap();
        let usage = transcript_usage(&path).unwrap();
        let outputs: Vec<u64> = usage.responses.iter().map(|r| r.usage.output).collect();
        assert_eq!(outputs, [7, 2]);
    }
}
