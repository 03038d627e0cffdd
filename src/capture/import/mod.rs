//! Importing agent transcripts and session logs already on disk into the store.
//!
//! # Architecture
//! - [`detect`]: which agent wrote a log, told by its content, and the one entry that imports
//!   any of them.
//! - [`codex_rollout`], [`gemini_chat`], [`copilot_events`]: Codex CLI rollouts, Gemini CLI
//!   chats and Copilot CLI events files, each into one session through [`agent_log`], which
//!   they share, and written by [`log_writer`] as it is read.
//! - [`json_document`]: a log written as one JSON document (Gemini CLI's older chats, Codex
//!   CLI's TypeScript rollouts), read an entry at a time; [`gemini_document`]: the chats'.
//! - [`copilot_usage`]: a Copilot CLI session's usage, counted once between its usage records
//!   and its shutdowns' totals.
//! - [`gemini_project`]: the project folder a Gemini CLI chat ran in, from where Gemini CLI
//!   keeps it.
//! - [`claude_transcript`]: one Claude Code transcript file into one session (and its
//!   sidechains), read through [`crate::capture::transcript`].
//! - [`batch`]: many files in parallel, one writer per session, results in order.
//! - [`existing`]: a transcript whose session the store holds already (imported before, or
//!   recorded by hooks).
//! - [`resume`]: what an import read of its transcript, so that a file that grew is brought up
//!   to date and one that was rewritten is imported again.

pub mod agent_log;
pub mod batch;
pub mod claude_transcript;
pub mod codex_rollout;
pub mod copilot_events;
pub mod copilot_usage;
pub mod detect;
pub mod existing;
pub mod gemini_chat;
pub mod gemini_document;
pub mod gemini_project;
pub mod json_document;
pub mod log_writer;
pub mod resume;

pub use crate::capture::transcript::{LoggedUsage, ResponseUsage, transcript_usage};
pub use crate::model::outcome::Ended;
use crate::model::outcome::failure_in_words;
pub use claude_transcript::{ImportError, ImportReport, import_file};

use serde_json::{Map, Value};

use crate::model::{Agent, EventType, ToolOutcome};

/// The usage of every model response in the log a hook-recorded session names (hooks never see
/// tokens): a Codex rollout's for a Codex session, else a Claude Code transcript's. `None` when
/// the log cannot be read.
pub fn logged_usage(agent: Agent, path: &std::path::Path) -> Option<LoggedUsage> {
    match agent {
        Agent::Codex => codex_rollout::usage(path),
        _ => transcript_usage(path).ok(),
    }
}

/// When a log in which no line gives a time happened, as near as can be told: when the file was
/// last written (the session cannot have happened later), with the warning that says so. `None`
/// when the file's time cannot be read either.
pub(crate) fn untimed_log_start(path: &std::path::Path) -> Option<(f64, String)> {
    let modified = crate::store::open_regular(path)
        .and_then(|file| file.metadata())
        .and_then(|meta| meta.modified())
        .ok()?;
    let at = modified
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs_f64();
    let when =
        chrono::DateTime::from_timestamp(at.trunc() as i64, 0)?.format("%Y-%m-%d %H:%M:%S UTC");
    Some((
        at,
        format!(
            "no line gives a time: the session is placed at the file's last change ({when}), \
             and how long it and its calls took is not known"
        ),
    ))
}

/// A tool's result as every importer writes it: its event type and data (the text is moved in,
/// not copied: a result can be megabytes). A call that did not succeed is counted in `errors`,
/// or in `rejections` when the user refused it, as every reader of the store reads the error
/// event made here: by its words, or by `is_interrupt` where the log said so in other ways.
///
/// `ended` is how the log says the call ended. [`ToolOutcome::Failed`] is what a log says that
/// tells a refusal by its words alone (Claude Code's, Codex's, Gemini CLI's): they decide.
/// A log that tells it apart (Copilot's error code) says [`ToolOutcome::Rejected`], or
/// [`Ended::FailedWhateverItSays`] for a failure whose words read as a refusal (a command that
/// printed `User rejected tool use`), which is said to be a failure first.
pub(crate) fn result_event(
    tool: &str,
    text: String,
    ended: Ended,
    tool_use_id: Option<&str>,
    (errors, rejections): (&mut u64, &mut u64),
) -> (EventType, Map<String, Value>) {
    let (outcome, text) = match ended {
        Ended::Done => (ToolOutcome::Ok, text),
        Ended::Failed => (ToolOutcome::of_error(&text, false), text),
        Ended::Refused => (ToolOutcome::Rejected, text),
        Ended::FailedWhateverItSays => (ToolOutcome::Failed, failure_in_words(text)),
    };
    match outcome {
        ToolOutcome::Ok => {}
        ToolOutcome::Failed => *errors += 1,
        ToolOutcome::Rejected => *rejections += 1,
    }
    let failed = outcome != ToolOutcome::Ok;
    let mut data = Map::new();
    data.insert("tool_name".into(), tool.into());
    data.insert(
        (if failed { "error" } else { "result" }).into(),
        text.into(),
    );
    if let Some(id) = tool_use_id {
        data.insert("tool_use_id".into(), id.into());
    }
    if ended == Ended::Refused {
        // The log's words for a refusal may be none a reader knows; the store's flag for a
        // call the user refused or stopped says it whatever they are.
        data.insert("is_interrupt".into(), true.into());
    }
    let kind = if failed {
        EventType::Error
    } else {
        EventType::ToolResult
    };
    (kind, data)
}
