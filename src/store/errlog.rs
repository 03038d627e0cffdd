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
        if std::fs::create_dir_all(&self.root).is_err() {
            return false;
        }
        let path = self.root.join(HOOK_ERRORS);
        if std::fs::metadata(&path).is_ok_and(|m| m.len() > LOG_LIMIT) {
            let _ = std::fs::rename(&path, self.root.join(format!("{HOOK_ERRORS}.1")));
        }
        let mut text = line.replace(['\n', '\r'], " ");
        text.push('\n');
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .is_ok()
    }
}
