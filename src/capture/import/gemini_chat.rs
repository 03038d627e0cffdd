//! A Gemini CLI chat (`~/.gemini/tmp/<project>/chats/session-*.jsonl`, or the older one-document
//! `session-*.json`) into one session.
//!
//! The JSONL form (docs/agents.md section 9.2) is a header line (`sessionId`, `projectHash`,
//! `startTime` …), then message records; a record whose `id` was seen before replaces that
//! message (Gemini CLI writes a response first without its tool calls, then again with them),
//! `{"$rewindTo": id}` drops that message and all after it, and `{"$set": …}` patches the header.
//! So the file is read twice: first to learn which line holds each message's last version and
//! which messages a rewind dropped, then to turn those lines into events, in the chat's order.
//!
//! Each `gemini` message carries its response's exact tokens. Gemini counts cached input inside
//! `input` and thoughts apart from `output` (`total = input + output + thoughts + tool`); the
//! store keeps fresh input (with tool-use prompt tokens) and cache reads apart, and counts
//! thoughts as output, as they are billed.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::{Map, Value};

use super::agent_log::{self, Log, LoggedTokens, Position, count, string};
use super::claude_transcript::{ImportError, ImportReport, ParentLink};
use super::gemini_document;
use crate::capture::shell_exit;
use crate::capture::sink::Sink;
use crate::model::prompt::SENT_PROMPT;
use crate::model::tools::Agent;
use crate::model::{EventType, Tokens, deep_json};
use crate::store::{EntryKind, Store, entry_kind, folder_entries};

/// Whether a first line (or the whole document) is a Gemini CLI chat's.
pub fn is_chat(first: &Value) -> bool {
    first.get("sessionId").is_some_and(Value::is_string)
        && first.get("projectHash").is_some()
        && first.get("type").is_none()
}

/// The session id a chat names.
pub fn origin(first: &Value) -> Option<String> {
    string(first, "sessionId").map(str::to_owned)
}

/// Imports a chat, then its subagents' chats (`chats/<session id>/<agent id>.jsonl`, written by
/// Gemini CLI from 0.61.0), each a session under the call that spawned it; `document` says
/// the chat is the older one-document form.
pub fn import_with_subagents(
    store: &Store,
    path: &Path,
    sink: &Sink,
    document: bool,
) -> Result<Vec<ImportReport>, ImportError> {
    let mut main = import(store, path, sink, document, None)?;
    let session = main.session_id.clone();
    // What is no regular file there is never opened, but said: passed over without a word, a
    // FIFO or a link hid a subagent from the user.
    main.warnings.extend(subagents_left_out(path, &session));
    let children = subagent_chats(path, &session);
    if children.is_empty() {
        return Ok(vec![main]);
    }
    // The calls that ran subagents: as this import wrote them, else as the store holds them.
    let calls = match main.status {
        "imported" | "reimported" | "grown" => main.agent_calls.clone(),
        _ => stored_agent_calls(store, &session),
    };
    let mut reports = vec![main];
    for child in children {
        let agent = child
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if agent == session {
            reports[0].warnings.push(format!(
                "{}: a subagent's chat named by its parent's own session id; not imported",
                child.display()
            ));
            continue;
        }
        let link = ParentLink {
            session_id: session.clone(),
            event_id: calls.get(&agent).cloned(),
            depth: 0,
        };
        // One chat that cannot be read costs that subagent, not its parent and siblings.
        match import(store, &child, sink, false, Some(link)) {
            Ok(report) => reports.push(report),
            Err(e) => reports[0]
                .warnings
                .push(format!("a subagent's chat was not imported: {e}")),
        }
    }
    Ok(reports)
}

/// The calls of a stored session that ran subagents, by the subagent's session id.
fn stored_agent_calls(store: &Store, session: &str) -> HashMap<String, String> {
    let Ok(events) = store.events(session) else {
        return HashMap::new();
    };
    events
        .filter(|e| e.event_type == EventType::ToolCall)
        .filter_map(|e| {
            let child = e.data.get(CHILD_SESSION)?.as_str()?.to_owned();
            Some((child, e.event_id))
        })
        .collect()
}

/// In a call that ran a subagent: the subagent's session id (its `agentId`), as subagent
/// events name the child's session.
const CHILD_SESSION: &str = "child_session_id";

/// The entries named like a chat (`*.jsonl`) in the folder of a session's subagents' chats, as
/// they stand there (links not followed); none when the folder is no folder.
fn subagent_folder_entries(chat: &Path, session: &str) -> Vec<(std::path::PathBuf, EntryKind)> {
    let Some(folder) = chat.parent().map(|chats| chats.join(session)) else {
        return Vec::new();
    };
    if entry_kind(&folder) != Some(EntryKind::Folder) {
        return Vec::new();
    }
    folder_entries(&folder)
        .into_iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "jsonl"))
        .collect()
}

/// What is said of the links and the FIFOs, sockets and devices named as chats among the
/// subagents' chats of session `session` ([`super::batch::left_out_notes`]).
pub(super) fn subagents_left_out(chat: &Path, session: &str) -> Vec<String> {
    let (mut links, mut specials) = (Vec::new(), Vec::new());
    for (entry, kind) in subagent_folder_entries(chat, session) {
        match kind {
            EntryKind::Link => links.push(entry),
            EntryKind::Other => specials.push(entry),
            EntryKind::File | EntryKind::Folder => {}
        }
    }
    super::batch::left_out_notes(&links, &specials, "chats")
}

/// The chats of a session's subagents: the `.jsonl` files of the folder named by its id beside
/// its chat, in name order.
pub fn subagent_chats(chat: &Path, session: &str) -> Vec<std::path::PathBuf> {
    let Some(folder) = chat.parent().map(|chats| chats.join(session)) else {
        return Vec::new();
    };
    // Never followed: a link in the agent's folder is not ours to read through.
    if !std::fs::symlink_metadata(&folder).is_ok_and(|m| m.is_dir()) {
        return Vec::new();
    }
    let mut chats: Vec<std::path::PathBuf> = std::fs::read_dir(&folder)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
                .collect()
        })
        .unwrap_or_default();
    chats.sort();
    chats
}

/// Imports a chat; `document` says it is the older one-document form; `parent` links a
/// subagent's chat to the session and call that spawned it.
pub fn import(
    store: &Store,
    path: &Path,
    sink: &Sink,
    document: bool,
    parent: Option<ParentLink>,
) -> Result<ImportReport, ImportError> {
    let mut log = Log::new(Agent::GeminiCli);
    log.parent = parent;
    if document {
        return import_document(store, path, sink, log);
    }
    let mut header: Option<Value> = None;
    // The messages as the chat leaves them, each by the line of its last version: a whole
    // message is read again when its events are written, never held until the file is read
    // (a 80 MB chat held 1 GB as values).
    let mut messages: Vec<Kept> = Vec::new();
    // Where each message id is in `messages`: a record updating a message (each streamed
    // update does) was looked for from the first, and a chat of 80,000 records took minutes.
    let mut positions: HashMap<String, usize> = HashMap::new();
    let read: Position = agent_log::read_lines(path, |n, line| {
        let value = match line {
            Ok(value) => value,
            Err(message) => return log.bad_line(n, message),
        };
        if header.is_none() && is_chat(&value) {
            log.saw("header");
            header = Some(value);
            return;
        }
        if let Some(set) = value.get("$set") {
            log.saw("$set");
            // 0.61.0 sets the session context's messages this way; they are not the chat.
            if let (Some(h), Some(obj)) = (header.as_mut(), set.as_object()) {
                for (k, v) in obj.iter().filter(|(k, _)| k.as_str() != "messages") {
                    h[k.as_str()] = v.clone();
                }
            }
            return;
        }
        if let Some(id) = value.get("$rewindTo") {
            log.saw("$rewindTo");
            if let Some(&at) = id.as_str().and_then(|id| positions.get(id)) {
                for gone in messages.drain(at..) {
                    positions.remove(&gone.id);
                }
            }
            return;
        }
        let Some(id) = value.get("id").and_then(Value::as_str).map(str::to_owned) else {
            log.saw("unknown");
            return;
        };
        log.saw(string(&value, "type").unwrap_or("untyped"));
        let kept = Kept::of(id.clone(), n, &value);
        if let Some(&at) = positions.get(&id) {
            messages[at] = kept;
        } else {
            positions.insert(id, messages.len());
            messages.push(kept);
        }
    })?;
    log.lines = read.lines;
    let Some(header) = header else {
        return Err(ImportError::NotTranscript {
            path: path.to_path_buf(),
            line: 1,
            reason: "no Gemini CLI chat header (sessionId, projectHash)".to_owned(),
        });
    };
    start(&mut log, path, &header);
    // The session's start names its first response's model, and starts at the header's time
    // or else its first message's, which the writer needs before any message is read again.
    if let Some(model) = messages.iter().find_map(|m| m.model.clone()) {
        log.start.insert("model".into(), model.into());
    }
    if log.started.is_none() {
        log.started = messages.iter().find_map(|m| m.time);
    }
    let mut writer = super::log_writer::LogWriter::open(store, path, sink, &log)?;
    // The messages' events, in the chat's order, though a message replaced later in the file
    // comes after those that follow it: a line read before its turn waits for it.
    let turn: HashMap<u64, usize> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| (m.line, i))
        .collect();
    let mut waiting: BTreeMap<usize, Value> = BTreeMap::new();
    let mut next = 0;
    agent_log::read_lines_while(path, read.offset, |n, line| {
        if let (Some(&at), Ok(value)) = (turn.get(&n), line) {
            waiting.insert(at, value);
        }
        while let Some(message) = waiting.remove(&next) {
            message_events(&mut log, &message);
            writer.take(&mut log)?;
            next += 1;
        }
        Ok(next < messages.len())
    })?;
    // A line that reads otherwise now (the chat rewritten meanwhile) leaves those after it.
    for message in waiting.into_values() {
        message_events(&mut log, &message);
        writer.take(&mut log)?;
    }
    writer.finish(log, read)
}

/// A message of a JSONL chat as the first reading keeps it: the line of its last version, and
/// what the session's start takes from it.
struct Kept {
    id: String,
    line: u64,
    /// A response's model.
    model: Option<String>,
    time: Option<f64>,
}

impl Kept {
    fn of(id: String, line: u64, message: &Value) -> Kept {
        let model = string(message, "model").filter(|_| string(message, "type") == Some("gemini"));
        Kept {
            id,
            line,
            model: model.map(str::to_owned),
            time: agent_log::time(message, "timestamp"),
        }
    }
}

/// Imports an older chat, one JSON document: its messages are read from the text one at a
/// time, and each one's events written before the next is read, so that a long chat is held
/// once, as its text, never also as a tree of values (a 120 MB chat held 1.2 GB).
fn import_document(
    store: &Store,
    path: &Path,
    sink: &Sink,
    mut log: Log,
) -> Result<ImportReport, ImportError> {
    let (bytes, read) = agent_log::whole_file(path)?;
    let chat =
        gemini_document::read(&bytes).map_err(|e| agent_log::document_error(path, &bytes, &e))?;
    log.saw("document");
    log.lines = read.lines;
    start(&mut log, path, &chat.header);
    // The session's start names its first response's model, which only a message says.
    if let Some(model) = gemini_document::first_model(&chat) {
        log.start.insert("model".into(), model.into());
    }
    let mut writer = super::log_writer::LogWriter::open(store, path, sink, &log)?;
    for raw in &chat.entries {
        let message: Value = deep_json::from_str(raw.get())
            .map_err(|e| agent_log::document_error(path, &bytes, &e))?;
        message_events(&mut log, &message);
        writer.take(&mut log)?;
    }
    writer.finish(log, read)
}

/// What a chat's header says of its session: its id, start, project and kind.
fn start(log: &mut Log, path: &Path, header: &Value) {
    log.session_id = origin(header);
    log.at(agent_log::time(header, "startTime"));
    if let Some(hash) = string(header, "projectHash") {
        log.start.insert("project_hash".into(), hash.into());
    }
    if let Some(dir) = super::gemini_project::folder(path, header) {
        log.start.insert("cwd".into(), dir.into());
    }
    if let Some(kind) = string(header, "kind") {
        log.start.insert("kind".into(), kind.into());
        // A subagent's chat imported by itself: its folder, in `chats/`, is named by its
        // parent session.
        let folder = path.parent();
        let in_chats = folder
            .and_then(Path::parent)
            .and_then(Path::file_name)
            .is_some_and(|name| name == "chats");
        if kind == "subagent" && log.parent.is_none() && in_chats {
            log.parent = folder
                .and_then(Path::file_name)
                .and_then(|name| name.to_str())
                .filter(|name| crate::store::is_valid_session_id(name))
                .map(|name| ParentLink {
                    session_id: name.to_owned(),
                    event_id: None,
                    depth: 0,
                });
        }
    }
}

fn message_events(log: &mut Log, message: &Value) {
    let at = log.at(agent_log::time(message, "timestamp"));
    match string(message, "type") {
        Some("user") => user_message(log, at, message),
        Some("gemini") => {
            let model = string(message, "model");
            log.request(at, model);
            for thought in message
                .get("thoughts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let text = match (string(thought, "subject"), string(thought, "description")) {
                    (Some(s), Some(d)) => format!("{s}: {d}"),
                    (s, d) => s.or(d).unwrap_or_default().to_owned(),
                };
                log.thinking(at, &text);
            }
            log.answer(at, &text_of(message.get("content")));
            let reported = message.get("tokens").cloned().unwrap_or(Value::Null);
            log.response(at, model, tokens(&reported), Some(reported), Map::new());
            for call in message
                .get("toolCalls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                tool_call(log, at, call);
            }
        }
        _ => {}
    }
}

/// A `user` message: what the person typed, or what Gemini CLI sent in their place.
///
/// `content` is what went to the model; `displayContent`, when Gemini CLI recorded one, is what
/// the person saw themselves type (`/init`, where `content` is the prompt the command expands
/// to), which Gemini CLI itself shows when it resumes the chat. The prompt is that, and the
/// text sent, when it differs, is kept beside it. A message Gemini CLI sends by itself after its
/// check that the model has more to say (`Please continue.`) carries the display of the
/// message before it, never its own: it is recorded as Gemini CLI's decision to go on, not as
/// a prompt, which would count a prompt no one typed and open a phase named after it. A
/// person who types `Please continue.` has no display of their own (it would equal the
/// content), so is still a person.
fn user_message(log: &mut Log, at: f64, message: &Value) {
    let (prompt, sent) = match read_user_message(message) {
        UserMessage::Prompt { prompt, sent } => (prompt, sent),
        UserMessage::Continuation(content) => {
            let mut data = Map::new();
            data.insert("kind".into(), KIND_CONTINUATION.into());
            data.insert("choice".into(), "continue".into());
            data.insert(
                "reason".into(),
                "Gemini CLI found the model had more to say, and asked it to go on".into(),
            );
            data.insert("prompt".into(), content.into());
            // What the model says next answers this, not the request before.
            log.end_request();
            log.push(EventType::Decision, at, data);
            return;
        }
    };
    log.prompt(at, &prompt);
    if let Some(sent) = sent
        && let Some(draft) = log.drafts.last_mut()
        && draft.kind == EventType::UserPrompt
    {
        draft.data.insert(SENT_PROMPT.into(), sent.into());
    }
}

/// What a `user` message is ([`user_message`]).
enum UserMessage {
    /// The prompt, and the text sent in its place when that differs.
    Prompt {
        prompt: String,
        sent: Option<String>,
    },
    /// Gemini CLI's own [`CONTINUATIONS`], with the text it sent.
    Continuation(String),
}

fn read_user_message(message: &Value) -> UserMessage {
    // 0.61.0 records a tool's result as a user message too (with no text); the call holds it
    // already.
    let content = text_of(message.get("content"));
    let display = message.get("displayContent").map(|d| text_of(Some(d)));
    let Some(display) = display.filter(|d| *d != content) else {
        return UserMessage::Prompt {
            prompt: content,
            sent: None,
        };
    };
    if CONTINUATIONS.contains(&content.trim()) {
        return UserMessage::Continuation(content);
    }
    if display.trim().is_empty() {
        return UserMessage::Prompt {
            prompt: content,
            sent: None,
        };
    }
    UserMessage::Prompt {
        prompt: display,
        sent: Some(content),
    }
}

/// The prompt a chat's line holds, as its import records it: a `user` message's, which is
/// neither Gemini CLI's own continuation nor a tool's result.
pub fn prompt_in(line: &Value) -> Option<String> {
    if string(line, "type") != Some("user") {
        return None;
    }
    match read_user_message(line) {
        UserMessage::Prompt { prompt, .. } => Some(prompt),
        UserMessage::Continuation(_) => None,
    }
}

/// The first prompt of a chat of JSON lines, read as far as it ([`agent_log::first_prompt`]).
pub fn first_prompt(path: &Path) -> agent_log::FirstPrompt {
    agent_log::first_prompt(path, agent_log::json_line(prompt_in))
}

/// What Gemini CLI sends by itself when its check finds the model has more to say (0.61.0
/// sends the first; a later release the second).
const CONTINUATIONS: [&str; 2] = ["Please continue.", "System: Please continue."];

/// The `kind` of the decision that records Gemini CLI sending [`CONTINUATIONS`].
const KIND_CONTINUATION: &str = "continuation";

fn tool_call(log: &mut Log, at: f64, call: &Value) {
    let at_call = agent_log::time(call, "timestamp").unwrap_or(at);
    let name = string(call, "name").unwrap_or("unknown");
    let id = string(call, "id");
    let arguments = call.get("args").cloned().unwrap_or(Value::Null);
    let index = log.call(at_call, name, arguments, id);
    // A call that ran a subagent names it: its chat is `chats/<session id>/<agentId>.jsonl`.
    if let Some(agent) = string(call, "agentId") {
        log.agent_calls.push((agent.to_owned(), index));
        log.draft_mut(index)
            .data
            .insert(CHILD_SESSION.into(), agent.into());
    }
    let status = string(call, "status");
    let failed = matches!(status, Some("error" | "cancelled"));
    let mut text = String::new();
    for part in call
        .get("result")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let response = part.get("functionResponse").and_then(|f| f.get("response"));
        let field = |key: &str| {
            response
                .and_then(|r| r.get(key))
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        };
        // A call the user cancelled while it ran has its output so far and Gemini CLI's
        // words (`[Operation Cancelled] User cancelled tool execution.`): the words first, as
        // they say how the call ended, which readers take from an error's first line.
        let piece = match (field("output"), field("error")) {
            (Some(output), Some(error)) if failed => format!("{error}\n{output}"),
            (output, error) => output.or(error).unwrap_or_default(),
        };
        text.push_str(&piece);
    }
    if text.is_empty() {
        string(call, "resultDisplay")
            .unwrap_or_default()
            .clone_into(&mut text);
    }
    if status.is_none() && text.is_empty() {
        // A call the chat holds no outcome of is left open.
        return;
    }
    // A command that exited non-zero is a `success` to Gemini CLI, its code in the words only:
    // the call failed, and changed no file as its command meant.
    let failed = failed || shell_exit::failed(Agent::GeminiCli, name, &text);
    // A call's one time is when Gemini CLI recorded it done, with the calls run beside it: how
    // long it ran is not in the chat.
    log.untimed_result(at_call, id, &text, failed);
}

/// Text of a message's content: a string, or parts with `text`.
fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| string(p, "text"))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// Gemini's tokens in the store's convention: cached input is inside `input`; thoughts are
/// billed as output; tool-use prompt tokens are input. A count that is no count a response can
/// have, or cached input past the input, makes them unknown.
fn tokens(t: &Value) -> LoggedTokens {
    let cached = count(t, "cached", "cache_read_input_tokens")?;
    let thoughts = count(t, "thoughts", "output_tokens")?;
    let input = count(t, "input", "input_tokens")?;
    let tool = count(t, "tool", "input_tokens")?;
    Ok(Tokens {
        // Saturating: believed counts that add up past the input must not wrap.
        input: agent_log::fresh_input(input, cached)?.saturating_add(tool),
        output: count(t, "output", "output_tokens")?.saturating_add(thoughts),
        cache_creation: 0,
        cache_creation_1h: 0,
        cache_read: cached,
        reasoning: thoughts,
    })
}

/// How far back from a chat's end [`tokens_of_response`] looks: a hook must stay fast on a long
/// chat, and the message it looks for is the chat's last `gemini` message.
const CHAT_TAIL: u64 = 1024 * 1024;

/// The counts a model response's hooks passed on: what finds its message in the chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportedCounts {
    pub prompt: u64,
    pub candidates: u64,
    pub total: u64,
}

/// The last model response of a chat: the counts hooks pass on for it, and all of its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResponseCounts {
    pub reported: ReportedCounts,
    pub tokens: Tokens,
}

/// The last model response of the chat at `chat`: Gemini CLI writes a response's message,
/// with all its counts, once the response has streamed and before it goes on, so the hook
/// after a response's last chunk finds that response here. `None` when the chat cannot be
/// read, or its last [`CHAT_TAIL`] bytes hold no `gemini` message with tokens.
pub fn last_response(chat: &Path) -> Option<ResponseCounts> {
    #[derive(serde::Deserialize)]
    struct Message {
        #[serde(rename = "type")]
        kind: Option<String>,
        tokens: Option<Value>,
    }
    let tokens_key = memchr::memmem::Finder::new(b"\"tokens\"");
    crate::capture::tail::search_from_end(chat, CHAT_TAIL, |line| {
        use std::ops::ControlFlow::{Break, Continue};
        if tokens_key.find(line).is_none() {
            return Continue(());
        }
        match deep_json::from_slice::<Message>(line) {
            Ok(Message {
                kind: Some(kind),
                tokens: Some(t),
            }) if kind == "gemini" => Break(response_counts(&t)),
            _ => Continue(()),
        }
    })
}

/// A `gemini` message's counts; `None` when one is no count a response can have, so that the
/// hooks' own counts stay.
fn response_counts(t: &Value) -> Option<ResponseCounts> {
    Some(ResponseCounts {
        reported: ReportedCounts {
            prompt: count(t, "input", "input_tokens").ok()?,
            candidates: count(t, "output", "output_tokens").ok()?,
            total: count(t, "total", "total_tokens").ok()?,
        },
        tokens: tokens(t).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chats_last_response_has_every_count() {
        let dir = tempfile::tempdir().unwrap();
        let chat = dir.path().join("session.jsonl");
        let whole = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("docs/agents/recorded/gemini-cli-0.61.0-session.jsonl"),
        )
        .unwrap();
        std::fs::write(&chat, &whole).unwrap();
        let last = last_response(&chat).unwrap();
        let reported = |prompt, candidates, total| ReportedCounts {
            prompt,
            candidates,
            total,
        };
        assert_eq!(last.reported, reported(70, 3, 73));
        assert_eq!(last.tokens.input, 70);
        // The chat as it was when the first response had streamed.
        let first_message = whole.find("\"total\":63").unwrap();
        let end = first_message + whole[first_message..].find('\n').unwrap() + 1;
        std::fs::write(&chat, &whole[..end]).unwrap();
        let first = last_response(&chat).unwrap();
        assert_eq!(first.reported, reported(50, 9, 63));
        assert_eq!((first.tokens.input, first.tokens.cache_read), (30, 20));
        assert_eq!((first.tokens.output, first.tokens.reasoning), (13, 4));
        // Before any response.
        let header = whole.find('\n').unwrap() + 1;
        std::fs::write(&chat, &whole[..header]).unwrap();
        assert_eq!(last_response(&chat), None);
        assert_eq!(last_response(&dir.path().join("none")), None);
    }

    #[test]
    fn tokens_add_up_to_gemini_total() {
        let t = serde_json::json!({"input": 29082, "output": 89, "cached": 8156, "thoughts": 642, "tool": 0, "total": 29813});
        let tokens = tokens(&t).unwrap();
        assert_eq!(tokens.total(), 29813);
        assert_eq!(tokens.cache_read, 8156);
        assert_eq!(tokens.reasoning, 642);
    }
}
