//! A shell command's exit code where an agent gives it only in its shell tool's words, which
//! call a command that exited non-zero a success: Gemini CLI's and Copilot CLI's.

use crate::model::tools::{Agent, ToolKind, classify};

/// The exit code a shell tool's output gives, for an agent that says a command's exit code only
/// in its output's words: Gemini CLI's `run_shell_command` (an `Exit Code: N` line after the
/// command's `Output:`, written only for a non-zero code in 0.61.0, `(none)` for a signal in
/// older ones) and Copilot CLI's `bash` (a last line `<shellId: 0 completed with exit code N>`,
/// read as 1.0.102's own pattern reads it). Another tool's output (a file read that holds such a
/// line) says nothing of an exit.
fn exit_code(agent: Agent, tool: &str, output: &str) -> Option<i64> {
    if classify(agent, tool) != ToolKind::Shell {
        return None;
    }
    // Read from the end: the command's own output comes before the tool's lines.
    let mut lines = output.lines().rev().map(str::trim_end);
    match agent {
        Agent::GeminiCli => lines
            .find_map(|line| line.strip_prefix("Exit Code: "))
            .and_then(|code| code.trim().parse().ok()),
        Agent::Copilot => lines
            .find(|line| !line.is_empty())
            .and_then(|line| line.strip_suffix('>'))
            .and_then(|line| line.rsplit_once(" completed with exit code "))
            .filter(|(shell, _)| {
                let shell = shell.strip_prefix('<').unwrap_or_default();
                let shell = shell
                    .strip_prefix("detached command with ")
                    .unwrap_or(shell);
                shell.starts_with("shellId: ")
            })
            .and_then(|(_, code)| code.parse().ok()),
        _ => None,
    }
}

/// Whether a shell tool's output says its command exited non-zero: the call failed, and the
/// files its command names were not changed as it meant.
pub(crate) fn failed(agent: Agent, tool: &str, output: &str) -> bool {
    exit_code(agent, tool, output).is_some_and(|code| code != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemini_cli_says_a_non_zero_exit_after_the_output() {
        let exited_1 = "<untrusted_context>\nOutput: mv: cannot stat 'a'\nExit Code: 1\n\
                      Process Group PGID: 5745\n</untrusted_context>";
        assert_eq!(
            exit_code(Agent::GeminiCli, "run_shell_command", exited_1),
            Some(1)
        );
        // The command's own output cannot pass for the tool's line: the last one is read.
        let printed = "Output: Exit Code: 3\nExit Code: 0\nSignal: (none)";
        assert_eq!(
            exit_code(Agent::GeminiCli, "run_shell_command", printed),
            Some(0)
        );
        let killed = "Output: x\nExit Code: (none)\nSignal: 9";
        assert_eq!(
            exit_code(Agent::GeminiCli, "run_shell_command", killed),
            None
        );
        assert!(!failed(Agent::GeminiCli, "run_shell_command", "Output: ok"));
        assert!(!failed(Agent::GeminiCli, "read_file", "Exit Code: 1"));
    }

    #[test]
    fn copilot_cli_says_the_exit_in_its_last_line() {
        let exited_1 = "rm: cannot remove 'f'\n<shellId: 0 completed with exit code 1>\n";
        assert_eq!(exit_code(Agent::Copilot, "bash", exited_1), Some(1));
        let detached = "<detached command with shellId: 7 completed with exit code -2>";
        assert_eq!(exit_code(Agent::Copilot, "bash", detached), Some(-2));
        let done = "ok\n<shellId: 3 completed with exit code 0>";
        assert!(!failed(Agent::Copilot, "bash", done));
        // Only the last line is the tool's.
        let earlier = "<shellId: 0 completed with exit code 1>\nok";
        assert_eq!(exit_code(Agent::Copilot, "bash", earlier), None);
        assert!(!failed(Agent::Copilot, "view", exited_1));
    }
}
