//! Attempts at one goal and which of them were retries: the one rule `explain`, `standup`,
//! `compare` and the per-session summary (`dashboard`, `drift`, `sample`) count retries by.
//!
//! A tool call's goal is what it tries to achieve: a shell command's (the same tests, build or
//! commit however worded, [`super::command::goal`]), else the file a file tool names, else the
//! call's arguments. Its result passes or fails by the command's words and output for a shell
//! command ([`super::command::judge`]: `grep` finding nothing is an answer, `mix test | tail`
//! exiting 0 over failing tests a failure), else by how the call ended. An attempt at a goal
//! whose last attempt failed is a retry. A call the user refused, or one cancelled because a
//! call beside it in a parallel batch failed, never ran: it is no attempt, and the goal's
//! attempts go on without it.

use std::borrow::Cow;

use serde_json::Value;

use super::ToolOutcome;
use super::command::{Command, Judgement, Purpose, Verdict};
use super::view::{ToolCall, ToolResult};

/// `path` below the folder `cwd`, as a path relative to it; any other path as it is.
pub fn relative_to(cwd: Option<&str>, path: &str) -> String {
    cwd.and_then(|cwd| path.strip_prefix(cwd.trim_end_matches('/')))
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|rest| !rest.is_empty())
        .unwrap_or(path)
        .to_owned()
}

/// The goal of `call` (named `tool`), its shell command `parsed` and its file `path` (relative
/// to the session's folder) given.
pub fn goal(
    tool: &str,
    call: &ToolCall<'_>,
    parsed: Option<&Command>,
    path: Option<&str>,
) -> String {
    match (parsed, path) {
        (Some(command), _) => command.goal.clone(),
        (None, Some(path)) => format!("{tool} {path}"),
        (None, None) => call.signature(),
    }
}

/// Whether `result` passed or failed the attempt of its call, whose shell command is `parsed`.
pub fn judgement(parsed: Option<&Command>, result: &ToolResult<'_>) -> Judgement {
    match parsed {
        Some(command) => command.judge(result.outcome, &output_text(result)),
        None => Judgement {
            purpose: Purpose::Other,
            verdict: match result.outcome {
                ToolOutcome::Ok => Verdict::Passed,
                ToolOutcome::Failed => Verdict::Failed,
                ToolOutcome::Rejected => Verdict::Rejected,
            },
            note: None,
            blocked_by_hook: false,
        },
    }
}

/// How an attempt at a goal ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tried {
    Failed,
    Passed,
}

/// What a result judged `verdict` makes of its call: no attempt (refused, or cancelled beside
/// a failed call), or an attempt that failed or passed.
pub fn tried(result: &ToolResult<'_>, verdict: Verdict) -> Option<Tried> {
    match verdict {
        Verdict::Rejected => None,
        _ if result.cancelled_by_sibling() => None,
        Verdict::Failed => Some(Tried::Failed),
        Verdict::Passed | Verdict::Answered => Some(Tried::Passed),
    }
}

/// What a command's result says, as text: the error of a failed call, else its output
/// (stdout and stderr of a shell tool's structured response).
pub fn output_text<'a>(result: &'a ToolResult<'_>) -> Cow<'a, str> {
    if let Some(error) = &result.error {
        return Cow::Borrowed(error.as_ref());
    }
    let text = || {
        result
            .text
            .and_then(Value::as_str)
            .map_or(Cow::Borrowed(""), Cow::Borrowed)
    };
    match result.output {
        Some(Value::String(text)) => Cow::Borrowed(text),
        Some(Value::Object(map)) => {
            let streams: Vec<&str> = ["stdout", "stderr", "output"]
                .iter()
                .filter_map(|k| map.get(*k).and_then(Value::as_str))
                .collect();
            if streams.is_empty() {
                text()
            } else {
                Cow::Owned(streams.join("\n"))
            }
        }
        _ => text(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_below_the_working_directory_are_relative_to_it() {
        assert_eq!(relative_to(Some("/p"), "/p/src/a.rs"), "src/a.rs");
        assert_eq!(relative_to(Some("/p/"), "/p/src/a.rs"), "src/a.rs");
        assert_eq!(relative_to(Some("/p"), "/pq/a.rs"), "/pq/a.rs");
        assert_eq!(relative_to(Some("/p"), "/p"), "/p");
        assert_eq!(relative_to(None, "/p/a.rs"), "/p/a.rs");
    }
}
