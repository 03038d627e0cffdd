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
        let mut text = line.replace(['\n', '\r'], " ");
        text.push('\n');
        root.append(HOOK_ERRORS)
            .is_ok_and(|file| (&file).write_all(text.as_bytes()).is_ok())
    }
}
