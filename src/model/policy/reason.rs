//! What a denied call is told: the rule, the file it is in, and what to do instead. The model
//! reads this (Claude Code shows a PreToolUse denial's reason to it), so it says plainly what
//! not to retry and where to go next.

use super::Policy;
use super::check::{Access, Verdict};
use super::git::UNREAD_DIFF;
use super::shell::{MAX_COMMANDS, MAX_DEPTH, UNREAD_FOLDER};

/// Claude Code's cap on a hook's reason; longer text is cut by it anyway.
pub const MAX_REASON: usize = 10_000;

/// How much of the call a reason quotes.
const MAX_SHOWN: usize = 400;

/// How many allowed patterns a reason lists.
const LISTED: usize = 12;

/// The reason for denying a call, at most [`MAX_REASON`] bytes.
pub fn reason(policy: &Policy, verdict: &Verdict, file: &str) -> String {
    let unread = verdict.access.as_ref().is_some_and(|a| match a {
        Access::Read(p) | Access::Write(p) => p
            .strip_prefix(UNREAD_FOLDER)
            .is_some_and(|r| r.is_empty() || r.starts_with('/')),
        _ => false,
    });
    let unread_diff = verdict.access.as_ref().and_then(|a| match a {
        Access::Write(p) => p.strip_prefix(UNREAD_DIFF),
        _ => None,
    });
    let what = if unread {
        format!(
            "a command too long or nested too deep to check to its end (past {MAX_COMMANDS} commands, or {MAX_DEPTH} levels of `$(…)` or `bash -c`), taken as reading and writing anywhere,"
        )
    } else {
        verdict
            .access
            .as_ref()
            .map_or_else(|| "this call".to_owned(), Access::describe)
    };
    // A long command is shown by its start, so the rule and the advice always fit; a diff's
    // name is cut on its own, so that what follows it is said.
    let what = if let Some(diff) = unread_diff {
        format!(
            "the diff `{}` could not be read (not there when checked, a link, not a regular file, over a MiB or naming too many files), so the files applying it writes cannot be known, and writing a file of unknown name",
            shown(diff)
        )
    } else if what.len() > MAX_SHOWN {
        let mut cut = MAX_SHOWN;
        while !what.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}…`", &what[..cut])
    } else {
        what
    };
    let rule = verdict.rule.unwrap_or("policy");
    let decided = match &verdict.pattern {
        Some(p) => format!("{what} is denied by {rule} `{p}`"),
        None if rule == "network.deny_all" => {
            format!("{what} is denied by network.deny_all: the host is not in network.allow")
        }
        None => format!("{what} is not allowed: it matches nothing in {rule}"),
    };
    let advice = match rule {
        _ if unread_diff.is_some() => format!(
            "Apply a diff that is a regular file already there when the call is made (written in an earlier call), or ask the user to change {file}."
        ),
        _ if unread => format!(
            "Split it into smaller calls, each of which can be checked, or ask the user to change {file}."
        ),
        "files.read.deny" | "files.write.deny" => format!(
            "This path is off limits. Do the task without it, or ask the user to change {file}."
        ),
        "files.read.allow" => format!(
            "Only paths matching files.read.allow may be read ({}). Stay within them, or ask the user to widen {file}.",
            list(
                policy
                    .files_read
                    .allow
                    .iter()
                    .map(crate::model::glob::Glob::as_str)
            )
        ),
        "files.write.allow" => format!(
            "Only paths matching files.write.allow may be written ({}). Stay within them, or ask the user to widen {file}.",
            list(
                policy
                    .files_write
                    .allow
                    .iter()
                    .map(crate::model::glob::Glob::as_str)
            )
        ),
        "sensitive" => format!(
            "Files like this hold secrets, keys or CI definitions. Do not read or change them by another route; ask the user to do this step, or to allow the file by name in {file}."
        ),
        "commands.deny" => format!(
            "Do not run it, nor the same thing by another route. Find another way, or ask the user to change {file}."
        ),
        "commands.allow" => format!(
            "Only these commands may run: {}. Use one of them, or ask the user to add the command to {file}.",
            // A rule the policy could not read is kept as one that meets nothing (a NUL): the
            // agent is told of the rules it can meet.
            list(
                policy
                    .commands_allow
                    .iter()
                    .map(|c| c.text.as_str())
                    .filter(|text| !text.contains('\0'))
            )
        ),
        "network.deny" | "network.deny_all" => format!(
            "Network access is limited to: {}. Work without this host, or ask the user to allow it in {file}.",
            list(policy.network.allow.iter().map(String::as_str))
        ),
        "tools.deny" | "tools.allow" => format!(
            "This tool may not be used here. Use another tool, or ask the user to change {file}."
        ),
        _ => format!("Ask the user to change {file} if this call is needed."),
    };
    let mut text = format!("Blocked by the agent-strace policy {file}: {decided}. {advice}");
    if text.len() > MAX_REASON {
        let mut cut = MAX_REASON - 3;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// How much of a name a reason quotes.
const MAX_NAME: usize = 200;

/// A name as a reason quotes it: its control characters written as escapes (a line end in it
/// would break the reason's sentence), cut to [`MAX_NAME`] bytes with `…` where it is cut.
fn shown(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if out.len() >= MAX_NAME {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    if items.is_empty() {
        return "none".to_owned();
    }
    let mut shown: Vec<String> = items
        .iter()
        .take(LISTED)
        .map(|s| format!("`{s}`"))
        .collect();
    if items.len() > LISTED {
        shown.push(format!("and {} more", items.len() - LISTED));
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::policy::check::{Place, check};
    use crate::model::tools::{self, Agent};
    use crate::model::view::ToolCall;

    #[test]
    fn a_reason_names_rule_file_and_what_to_do() {
        let policy = crate::model::policy::parse_for_test(
            r#"{"commands": {"allow": ["cargo test"], "deny": ["curl"]}}"#,
        );
        let long = format!("curl {}", "x".repeat(20_000));
        let args = json!({"command": long});
        let call = ToolCall {
            agent: Agent::ClaudeCode,
            tool: "Bash",
            kind: tools::classify(Agent::ClaudeCode, "Bash"),
            spec: tools::spec_of(Agent::ClaudeCode, "Bash"),
            arguments: &args,
            tool_use_id: None,
            cwd: None,
        };
        let verdict = check(&policy, &call, &Place::default());
        let text = reason(&policy, &verdict, ".agent-scope.json");
        assert!(text.len() <= MAX_REASON);
        assert!(text.contains("commands.deny `curl`"), "{text}");
        assert!(text.contains(".agent-scope.json"));
        let args = json!({"command": "ls"});
        let call = ToolCall {
            arguments: &args,
            ..call
        };
        let text = reason(&policy, &check(&policy, &call, &Place::default()), "p.json");
        assert!(
            text.contains("Only these commands may run: `cargo test`"),
            "{text}"
        );
    }
}
