//! The shell lines a person ran from the prompt (`! whoami`, Claude Code's bash mode), for
//! [`super::anonymize`]: Claude Code records the line as a prompt (`<bash-input>whoami
//! </bash-input>`) and what it printed as the next (`<bash-stdout>alice</bash-stdout>`), so
//! the names `whoami`, `hostname` or `uname -a` printed there, and the accounts of `stat -c
//! '%U %n'` or `id -Gn`, are read as a shell call's result is ([`CallOutput`]).

use std::ops::Range;

use super::call_output::CallOutput;
use crate::model::prompt;
use crate::model::view::View;

/// The shell line of the prompts read so far whose output is still to come.
#[derive(Debug, Default)]
pub(super) struct PromptShell {
    pending: Option<CallOutput>,
}

impl PromptShell {
    /// Reads the session's next event, in order: what the line whose output its prompt holds
    /// prints ([`CallOutput::of`]), or `None` (no output, or a line of other commands).
    pub(super) fn output_of(&mut self, view: &View<'_>) -> Option<CallOutput> {
        let View::Prompt(text) = view else {
            return None;
        };
        let line = prompt::shell_line(text.text);
        if let Some(line) = line {
            self.pending = CallOutput::of(line);
        }
        if prompt::shell_output(text.text).is_some() {
            return self.pending.take();
        }
        if line.is_none() {
            // Another prompt came between: whatever follows is no output of the line.
            self.pending = None;
        }
        None
    }
}

/// What of a prompt's string a shell line printed: its `<bash-stdout>`'s content; nothing of
/// a string without one.
pub(super) fn printed(text: &str) -> Range<usize> {
    prompt::shell_output(text).unwrap_or(0..0)
}
