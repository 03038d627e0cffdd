//! Claude Code transcripts (`~/.claude/projects/<project>/<session>.jsonl`): the one reader of
//! their content and usage, for import and for hook sessions that take their answer or usage
//! from the transcript.
//!
//! # Architecture
//! - [`wire`]: transcript lines as Claude Code writes them, borrowed from the line.
//! - [`content`]: message content blocks, parsed one way, and the texts made of them.
//! - [`responses`]: API responses and their usage: one count per response, its last line wins.
//! - [`repeats`]: entries and blocks a resumed or forked history holds twice, counted once.
//! - [`transcript`]: reading a transcript file: its last answer, the usage of every response.

pub mod content;
pub mod repeats;
pub mod responses;
#[expect(
    clippy::module_inception,
    reason = "the file that reads transcript files; the layer test allows file reads there by name"
)]
pub mod transcript;
pub mod wire;

pub use responses::{LoggedUsage, Response, ResponseUsage};
pub use transcript::{
    Subagents, Survey, TranscriptSizes, TurnEnd, first_prompt, last_assistant_text, session_of,
    subagent_files, survey, transcript_sizes, transcript_usage, turn_end, turn_text_before_error,
};

/// Seconds since the epoch of an RFC 3339 timestamp, as transcripts write them; `None` for a
/// time no session can have ([`believable`]).
pub fn parse_time(text: &str) -> Option<f64> {
    let t = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    believable(t.timestamp_micros() as f64 / 1e6)
}

/// `at` (seconds since the epoch) when a line of an agent's log can have been written then:
/// after 1970 began and before 2100 ([`crate::model::meta::BELIEVABLE_TIMES`]). A time outside
/// is no time, so that a session never starts in 1970 nor lasts 56 years.
pub fn believable(at: f64) -> Option<f64> {
    Some(at).filter(|at| *at > 0.0 && crate::model::meta::BELIEVABLE_TIMES.contains(at))
}

/// The text of an API error that ended a turn, as readers show it, from its kind
/// (`rate_limit` …) and the API's words (or the message Claude Code showed): one wording for
/// StopFailure's hook and a transcript's API error line, which record the same error.
pub fn turn_error_text(kind: Option<&str>, details: Option<&str>) -> String {
    match (kind, details) {
        (Some(kind), Some(details)) => format!("API error ({kind}): {details}"),
        (Some(kind), None) => format!("API error ({kind})"),
        (None, Some(details)) => format!("API error: {details}"),
        (None, None) => "API error".to_owned(),
    }
}
