//! The hook error log: what hooks could not record, one line each, bounded in size.

use std::io::Write;

use super::Store;
use super::layout::HOOK_ERRORS;

/// When the log grows past this, it is moved to `hook-errors.log.1` (replacing the previous
/// one) and a new log is started, so it never holds more than twice this.
const LOG_LIMIT: u64 = 1024 * 1024;

impl Store {
    /// Appends one line to the hook error log. Never fails: a tracer that cannot even log must
    /// still let the agent go on, so the caller gets back whether the line was written.
    pub fn log_hook_error(&self, line: &str) -> bool {
        let Ok(root) = self.made_root() else {
            return false;
        };
        if root
            .size_of(HOOK_ERRORS)
            .is_ok_and(|size| size.is_some_and(|size| size > LOG_LIMIT))
        {
            // A link or anything else in the way is moved aside, never followed.
            let _ = root.rename(HOOK_ERRORS, &format!("{HOOK_ERRORS}.1"));
        }
        // One line, whatever it quotes (a collector's answer, a path): a line break is a
        // space, and what would act on the terminal that shows the log (ESC, C1, a
        // bidirectional override) shows escaped (`\u001b`). Never cut: a line may carry a
        // call that could not be recorded, whole, and JSON read back decodes the escapes.
        let mut text = String::with_capacity(line.len() + 1);
        for c in line.chars() {
            match c {
                '\n' | '\r' => text.push(' '),
                c if crate::model::text::is_hidden_in_a_line(c) => {
                    crate::model::text::push_escaped(&mut text, c);
                }
                c => text.push(c),
            }
        }
        text.push('\n');
        root.append(HOOK_ERRORS)
            .is_ok_and(|file| (&file).write_all(text.as_bytes()).is_ok())
    }
}
