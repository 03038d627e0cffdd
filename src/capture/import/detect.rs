//! Which agent wrote a session log, told by its content (never by its name), and the one entry
//! that imports any of them.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::agent_log::FirstPrompt;
use super::batch::{FileResult, import_with_subagents};
use super::{
    codex_rollout, copilot_events, gemini_chat, gemini_document, gemini_project, json_document,
};
use crate::capture::sink::Sink;
use crate::model::deep_json;
use crate::store::Store;

/// The session log formats `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// A Claude Code transcript (also what anything unrecognised is tried as, so that its error
    /// says what a transcript lacks).
    ClaudeTranscript,
    CodexRollout,
    /// Codex CLI's TypeScript version's rollouts: one JSON document.
    CodexRolloutDocument,
    GeminiChat,
    /// Gemini CLI's older chats: one JSON document.
    GeminiChatDocument,
    CopilotEvents,
}

/// What a log's start says about it: its format, session id and working folder where it names
/// them (a Gemini CLI chat's folder also where Gemini CLI keeps it: [`gemini_project`]).
#[derive(Debug, Clone)]
pub struct Origin {
    pub format: LogFormat,
    pub session_id: Option<String>,
    pub cwd: Option<String>,
}

/// How many blank lines at a log's start are passed over to find its first line: no agent
/// writes even one, and a file of nothing but newlines held detection for seconds a hundred MB.
const BLANK_LIMIT: u32 = 1024;

/// The format of the log at `path`, from its first line (or, for a document, its start).
pub fn origin(path: &Path) -> Origin {
    let claude = Origin {
        format: LogFormat::ClaudeTranscript,
        session_id: None,
        cwd: None,
    };
    let Ok(file) = crate::store::open_regular(path) else {
        return claude;
    };
    let mut reader = std::io::BufReader::new(file);
    let mut line = Vec::new();
    // The first line that is not blank, among the first BLANK_LIMIT lines. A line past the
    // limit tells nothing, and is not read on to its end (a sparse file of gigabytes is one
    // line): the import that follows says what it is.
    let mut blank = 0;
    loop {
        match crate::store::read_line_within(&mut reader, &mut line, crate::store::LINE_LIMIT) {
            Ok(read) if read.consumed > 0 && !read.too_long => {}
            _ => return claude,
        }
        if !crate::store::json_text(&line).is_empty() {
            break;
        }
        blank += 1;
        if blank == BLANK_LIMIT {
            return claude;
        }
    }
    let text = crate::store::json_text(&line);
    let Ok(first) = deep_json::from_slice::<Value>(text) else {
        // A document written over many lines starts with a lone brace.
        if text == b"{" {
            return document(path).unwrap_or(claude);
        }
        return claude;
    };
    // A rollout document written on one line.
    if codex_rollout::is_document(&first) {
        let (session_id, cwd) = codex_rollout::document_origin(&first);
        return Origin {
            format: LogFormat::CodexRolloutDocument,
            session_id,
            cwd,
        };
    }
    if codex_rollout::is_rollout(&first) {
        let (session_id, cwd) = codex_rollout::origin(&first);
        return Origin {
            format: LogFormat::CodexRollout,
            session_id,
            cwd: cwd.or_else(|| codex_rollout::folder_in_context(path)),
        };
    }
    if gemini_chat::is_chat(&first) {
        let document = first.get("messages").is_some_and(Value::is_array);
        return Origin {
            format: if document {
                LogFormat::GeminiChatDocument
            } else {
                LogFormat::GeminiChat
            },
            session_id: gemini_chat::origin(&first),
            cwd: gemini_project::folder(path, &first),
        };
    }
    if copilot_events::is_events(&first) {
        let (session_id, cwd) = copilot_events::origin(&first);
        return Origin {
            format: LogFormat::CopilotEvents,
            session_id,
            cwd,
        };
    }
    claude
}

/// A Gemini CLI chat document or a Codex CLI rollout document, read whole.
fn document(path: &Path) -> Option<Origin> {
    let file = crate::store::open_regular(path).ok()?;
    if file.metadata().ok()?.len() > 256 << 20 {
        return None;
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::BufReader::new(file), &mut bytes).ok()?;
    // A byte that is not UTF-8 is read past here, so that the document is told as one and its
    // import says which byte it is (else it was read as a transcript whose first line, a lone
    // brace, was no entry).
    let text = String::from_utf8_lossy(&bytes);
    // Its header only: its entries are never made a tree of values.
    let lists = [gemini_document::MESSAGES, codex_rollout::ITEMS];
    let header = json_document::Document::read(text.as_bytes(), &lists)
        .ok()?
        .header;
    if gemini_chat::is_chat(&header) {
        return Some(Origin {
            format: LogFormat::GeminiChatDocument,
            session_id: gemini_chat::origin(&header),
            cwd: gemini_project::folder(path, &header),
        });
    }
    codex_rollout::is_document(&header).then(|| {
        let (session_id, cwd) = codex_rollout::document_origin(&header);
        Origin {
            format: LogFormat::CodexRolloutDocument,
            session_id,
            cwd,
        }
    })
}

/// The first prompt of the log at `path` of `format`, read as its import reads it, only as far
/// as that prompt (`import --discover`); a Claude Code transcript's is the listing's own.
pub fn first_prompt(path: &Path, format: LogFormat) -> FirstPrompt {
    match format {
        LogFormat::CodexRollout => codex_rollout::first_prompt(path),
        LogFormat::CodexRolloutDocument => codex_rollout::document_first_prompt(path),
        LogFormat::GeminiChat => gemini_chat::first_prompt(path),
        LogFormat::GeminiChatDocument => gemini_document::first_prompt(path),
        LogFormat::CopilotEvents => copilot_events::first_prompt(path),
        LogFormat::ClaudeTranscript => FirstPrompt::Unknown,
    }
}

/// Imports the log at `path`, whichever agent wrote it.
pub fn import_any(store: &Store, path: &Path, sink: &Sink) -> FileResult {
    let one = |r: Result<_, _>| r.map(|report| vec![report]);
    match origin(path).format {
        LogFormat::ClaudeTranscript => import_with_subagents(store, path, sink),
        LogFormat::CodexRollout => one(codex_rollout::import(store, path, sink)),
        LogFormat::CodexRolloutDocument => one(codex_rollout::import_document(store, path, sink)),
        LogFormat::GeminiChat => gemini_chat::import_with_subagents(store, path, sink, false),
        LogFormat::GeminiChatDocument => {
            gemini_chat::import_with_subagents(store, path, sink, true)
        }
        LogFormat::CopilotEvents => one(copilot_events::import(store, path, sink)),
    }
}
