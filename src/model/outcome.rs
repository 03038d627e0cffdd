//! How a tool call ended — done, failed, or refused by the person at the keyboard — read from
//! what its result or error event says, so every reader (stats, explain, replay, the index)
//! tells a rejection from a failure the same way.
//!
//! The store keeps a refused call as the agent recorded it: an `error` event (Claude Code marks
//! the `tool_result` with `is_error`, and the Python tool and older stores hold such events
//! too). What sets a rejection apart is the text the agent put in place of the result, which
//! these rules recognise, or the hook's `is_interrupt` flag. Who refused it, the user or Claude
//! Code's auto mode, is read from the same text ([`refused_by`]).

use serde::Serialize;

/// How a tool call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolOutcome {
    /// The tool ran and returned.
    Ok,
    /// The tool ran (or tried to) and failed.
    Failed,
    /// The user, or a permission rule on their behalf, refused the call or stopped it: the
    /// tool did not do its work, and nothing the agent did went wrong.
    Rejected,
}

impl ToolOutcome {
    /// The outcome of an `error` event whose message is `message`; `interrupted` is the hook's
    /// `is_interrupt` flag.
    pub fn of_error(message: &str, interrupted: bool) -> ToolOutcome {
        if interrupted || is_rejection(message) {
            ToolOutcome::Rejected
        } else {
            ToolOutcome::Failed
        }
    }

    /// The word used for it in JSON, the index and text.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolOutcome::Ok => "ok",
            ToolOutcome::Failed => "failed",
            ToolOutcome::Rejected => "rejected",
        }
    }
}

/// How an agent's log or hook says a tool call ended, where it says more than the words that
/// stand for its result: a flag, Copilot's result type or error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Done,
    /// It failed, or was refused if its words say so (Claude Code, Codex, Gemini CLI: their
    /// words decide).
    Failed,
    /// It failed, whatever its words say (Copilot's `failure`, `error`, `timeout`).
    FailedWhateverItSays,
    /// The user, or a rule or hook of theirs, refused it (or stopped it), whatever its words.
    Refused,
}

impl Ended {
    /// A log's "it failed" flag, for a log that tells a refusal by its words.
    pub fn failed_if(failed: bool) -> Ended {
        if failed { Ended::Failed } else { Ended::Done }
    }
}

/// The words to keep for a call that failed whatever its words say: words that read as a
/// refusal (a command that printed `User rejected tool use`) would be read back as the user's
/// by every reader of the store, so such a failure is said to be one first (`Failed: …`).
pub fn failure_in_words(words: String) -> String {
    if is_rejection(&words) {
        format!("Failed: {words}")
    } else {
        words
    }
}

/// Claude Code's words for a call of a parallel batch it cancelled because another call of the
/// batch failed: the call never ran. It is an error result, counted among the errors as
/// every view counts them, but no failure of its own: its input was never tried.
const SIBLING_ERRORED: &str = "Sibling tool call errored";

/// Whether an error's text says the call was cancelled because a call made beside it failed
/// (see [`SIBLING_ERRORED`]).
pub fn cancelled_by_sibling(message: &str) -> bool {
    let line = first_line(message).trim_end();
    let line = line.strip_suffix("</tool_use_error>").unwrap_or(line);
    line.trim().eq_ignore_ascii_case(SIBLING_ERRORED)
}

/// Who refused a call whose outcome is [`ToolOutcome::Rejected`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusedBy {
    /// The person at the keyboard, or a permission rule of theirs: a "no" at a prompt, a deny
    /// rule, a call stopped.
    User,
    /// Claude Code's auto mode: its classifier judged the call and refused it, asking no one.
    AutoMode,
}

impl RefusedBy {
    /// Who, in the words readers show: `the user`, `auto mode`.
    pub fn as_words(self) -> &'static str {
        match self {
            RefusedBy::User => "the user",
            RefusedBy::AutoMode => "auto mode",
        }
    }
}

/// How Claude Code words a refusal by its auto mode classifier: the model is told
/// "Permission for this action has been denied. Reason: …", or, in 2.1.335, "Permission for
/// this action was denied by the Claude Code auto mode classifier. Reason: …".
const AUTO_MODE_START: &str = "permission for this action ";

/// What Claude Code appends after the classifier's reason (2.1.335), the full stop with it:
/// not part of it (its binary writes `Reason: ${reason}. If you have other tasks …` and reads
/// the reason back as what comes before the last of these).
const AUTO_MODE_TAIL: &str = ". If you have other tasks";

/// How the agents word a refused call, at the start of the text that stands for its result.
/// Sources: the texts Claude Code 1.0.95–2.1.39 wrote in the transcripts of the corpus
/// (`../shared/corpus/claude-code`, 6 rejections, 2 plan rejections), and the constants of its
/// `utils/messages.ts` and permission code as public copies quote them (read 2026-11-30); Codex's
/// read off its 0.171 binary; Gemini CLI's in its 0.61.0 bundle.
const REJECTION_STARTS: [&str; 17] = [
    // The user answered "No" to a permission prompt (with or without saying why).
    "the user doesn't want to proceed with this tool use",
    // The user pressed Esc while the prompt was up.
    "the user doesn't want to take this action right now",
    // `toolUseResult` of a rejection in Claude Code 2.1.
    "user rejected tool use",
    // A subagent's call the user refused.
    "permission for this tool use was denied",
    // The auto-mode classifier refused it.
    "permission for this action has been denied",
    "permission for this action was denied",
    // A plan the user sent back (ExitPlanMode).
    "user chose to stay in plan mode",
    "the agent proposed a plan that was rejected by the user",
    // The user stopped a call that was running.
    "[request interrupted by user",
    // What the Agent SDK and some hosts send for a denial.
    "user denied tool use",
    "action denied by user",
    // Codex: the user answered no to running a command or applying a patch, or stopped a
    // command that was running (`aborted by user after 3.2s`).
    "exec command rejected by user",
    "patch rejected by user",
    "aborted by user",
    // Gemini CLI: a call the user denied, one queued behind it, or one stopped with Esc
    // (`[Operation Cancelled] Reason: User denied execution.`, `… Reason: Operation cancelled
    // by user`, `[Operation Cancelled] User cancelled tool execution.`): it is cancelled only
    // by the user.
    "[operation cancelled]",
    // Gemini CLI's shell, stopped with Esc, as its AfterTool hook gives it.
    "command was cancelled by user",
    // Gemini CLI's policy engine denied the call (a rule of the user's settings or their
    // admin's, as Claude Code's deny rules are): `Tool execution denied by policy.` and the
    // rule's message (0.61.0, `getPolicyDenialError`).
    "tool execution denied by policy",
];

/// How Codex words a patch it would not apply (`patch rejected: <reason>`): its own refusal of
/// a bad patch (`empty patch`) is a failure; one the user's approval settings refused
/// (`writing outside of the project; rejected by user approval settings`) is the user's.
const CODEX_PATCH_REJECTED: &str = "patch rejected: ";
const CODEX_BY_SETTINGS: &str = "rejected by user approval settings";

/// Whether `message` (an error event's text) says the user refused or stopped the call.
///
/// Only the start of the first line is read, after the wrappers agents put around it
/// (`Error: `, `<tool_use_error>`): the output of a command that merely mentions a refusal
/// later on (a test named after one, a log line) stays a failure. A shell's own "permission
/// denied" is a failure too: only a denial of permission *to use a tool* is a rejection.
pub fn is_rejection(message: &str) -> bool {
    let first = first_line(message);
    if REJECTION_STARTS
        .iter()
        .any(|start| starts_with_ignoring_case(first, start))
    {
        return true;
    }
    if starts_with_ignoring_case(first, CODEX_PATCH_REJECTED) {
        return first.trim_end().ends_with(CODEX_BY_SETTINGS);
    }
    // "Permission to use Bash has been denied." and "Permission to use Bash with command rm -rf
    // has been denied.": a deny rule in the user's settings.
    starts_with_ignoring_case(first, "permission to use ")
        && first.to_ascii_lowercase().contains(" has been denied")
}

/// Who refused a call whose error is `message` (one [`is_rejection`] takes for a refusal):
/// auto mode when the text is the one Claude Code gives for its classifier's refusals, else
/// the user.
pub fn refused_by(message: &str) -> RefusedBy {
    if starts_with_ignoring_case(first_line(message), AUTO_MODE_START) {
        RefusedBy::AutoMode
    } else {
        RefusedBy::User
    }
}

/// The classifier's reason in the text of an auto mode refusal (`… Reason: <reason>`), without
/// what Claude Code appends after it; `None` when the text gives none.
pub fn auto_mode_reason(message: &str) -> Option<&str> {
    let first = first_line(message);
    if !starts_with_ignoring_case(first, AUTO_MODE_START) {
        return None;
    }
    let (_, reason) = first.split_once("Reason: ")?;
    let reason = reason
        .rfind(AUTO_MODE_TAIL)
        .map_or(reason, |at| &reason[..at]);
    Some(reason.trim()).filter(|r| !r.is_empty())
}

/// The first line of an error's text, past the wrappers agents put around it (`Error: `,
/// `<tool_use_error>`).
fn first_line(message: &str) -> &str {
    let mut text = message.trim_start();
    loop {
        let before = text.len();
        for wrapper in ["<tool_use_error>", "error:"] {
            if starts_with_ignoring_case(text, wrapper) {
                text = text[wrapper.len()..].trim_start();
            }
        }
        if text.len() == before {
            break;
        }
    }
    text.lines().next().unwrap_or_default()
}

fn starts_with_ignoring_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts copied from the corpus transcripts and from Claude Code's constants.
    const REJECTIONS: [&str; 20] = [
        "The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, the new_string was NOT written to the file). STOP what you are doing and wait for the user to tell you how to proceed.",
        "Error: The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, the new_string was NOT written to the file). STOP what you are doing and wait for the user to tell you how to proceed.",
        "The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, the new_string was NOT written to the file). To tell you how to proceed, the user said:\nuse the other branch",
        "The user doesn't want to take this action right now. STOP what you are doing and wait for the user to tell you how to proceed.",
        "User rejected tool use",
        "User chose to stay in plan mode and continue planning",
        "Error: User chose to stay in plan mode and continue planning",
        "Permission to use Bash with command rm -rf build has been denied.",
        "Permission to use WebFetch has been denied because Claude Code is running in don't ask mode.",
        "Permission for this action has been denied. Reason: the command deletes files outside the project.",
        "<tool_use_error>Permission for this tool use was denied. The tool use was rejected (eg. if it was a file edit, the new_string was NOT written to the file). Try a different approach or report the limitation to complete your task.</tool_use_error>",
        "[Request interrupted by user for tool use]",
        "exec command rejected by user",
        "patch rejected by user",
        "aborted by user after 3.2s",
        "patch rejected: writing outside of the project; rejected by user approval settings",
        "[Operation Cancelled] Reason: User denied execution.",
        "[Operation Cancelled] User cancelled tool execution.",
        "Command was cancelled by user before it could complete. There was no output before it was cancelled.",
        "Tool execution denied by policy. No force pushes.",
    ];

    /// Failures from the corpus, some of which mention permissions or users.
    const FAILURES: [&str; 11] = [
        "Exit code 1\n(eval):1: permission denied:",
        "Exit code 1\nOn branch master\nnothing to commit, working tree clean",
        "<tool_use_error>File does not exist.</tool_use_error>",
        "<tool_use_error>Sibling tool call errored</tool_use_error>",
        "Pre-commit validation failed:\\n\\n[FORMAT] Code is not formatted.",
        "Exit code 1\ntest_user_rejected_tool_use FAILED\nThe user doesn't want to proceed with this tool use",
        "Error: EACCES: permission denied, open '/etc/shadow'",
        "Permission to use the API key was revoked",
        "",
        "patch rejected: empty patch",
        "Exit code: 1\nOutput:\nexec command rejected by user",
    ];

    #[test]
    fn rejections_are_recognised() {
        for text in REJECTIONS {
            assert!(is_rejection(text), "{text}");
            assert_eq!(ToolOutcome::of_error(text, false), ToolOutcome::Rejected);
        }
    }

    #[test]
    fn failures_stay_failures() {
        for text in FAILURES {
            assert!(!is_rejection(text), "{text}");
            assert_eq!(ToolOutcome::of_error(text, false), ToolOutcome::Failed);
        }
    }

    #[test]
    fn a_call_cancelled_for_its_siblings_failure_is_told_apart() {
        assert!(cancelled_by_sibling(
            "<tool_use_error>Sibling tool call errored</tool_use_error>"
        ));
        assert!(cancelled_by_sibling("Sibling tool call errored"));
        for text in FAILURES.iter().filter(|t| !t.contains("Sibling")) {
            assert!(!cancelled_by_sibling(text), "{text}");
        }
        assert!(!cancelled_by_sibling(
            "Exit code 1\nSibling tool call errored"
        ));
    }

    #[test]
    fn an_interrupt_flag_is_a_rejection_whatever_the_text() {
        assert_eq!(
            ToolOutcome::of_error("tool call failed", true),
            ToolOutcome::Rejected
        );
    }

    #[test]
    fn auto_mode_refusals_are_told_from_the_users() {
        let auto = [
            (
                "Permission for this action has been denied. Reason: deletes files outside the project.",
                Some("deletes files outside the project."),
            ),
            (
                "Error: Permission for this action was denied by the Claude Code auto mode classifier. Reason: Force-pushing rewrites main. If you have other tasks that don't depend on this action, continue working on those.",
                Some("Force-pushing rewrites main"),
            ),
            ("Permission for this action was denied", None),
        ];
        for (text, reason) in auto {
            assert_eq!(refused_by(text), RefusedBy::AutoMode, "{text}");
            assert_eq!(auto_mode_reason(text), reason, "{text}");
        }
        for text in REJECTIONS.iter().filter(|t| !t.contains("for this action")) {
            assert_eq!(refused_by(text), RefusedBy::User, "{text}");
            assert_eq!(auto_mode_reason(text), None, "{text}");
        }
    }

    #[test]
    fn odd_text_never_panics() {
        for text in [
            "é",
            "Ér",
            "<tool_use_error>",
            "error",
            "Permission to use é",
        ] {
            let _ = is_rejection(text);
            let _ = auto_mode_reason(text);
        }
    }
}
