//! The hook error log: what hooks could not record, one line each, bounded in size.

use std::fmt::Write as _;
use std::io::{Read, Write};

use super::Store;
use super::layout::{HOOK_ERRORS, HOOK_ERRORS_SAID, HOOK_ERRORS_SAID_LOCK};
use super::lock::{HOOK_LOCK_WAIT, lock_exclusive};

/// How many keys of lines said once are remembered: a policy file a folder, so a few are
/// enough for the workspace roots of one agent, and the marker stays one small read.
const SAID_KEPT: usize = 32;

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

    /// Whether a line known by `key` (a hash of what it says and of what it is about) is new
    /// to the log, noting it when it is: true the first time, false while the key is among
    /// the last [`SAID_KEPT`] noted. So a hook call that would say again what an earlier one
    /// said (a policy's refused rule, the same file read on every call) says nothing, while a
    /// changed file is said anew. The look and the note are made under a lock of their own, so
    /// of hooks racing to say the same line (an agent's calls run at once) exactly one says it.
    /// A store that cannot be written, or a lock still busy after [`HOOK_LOCK_WAIT`], says yes:
    /// better a line twice than a line lost.
    pub fn first_time_said(&self, key: u64) -> bool {
        let Ok(root) = self.made_root() else {
            return true;
        };
        let Ok(_noting) = lock_exclusive(&root, HOOK_ERRORS_SAID_LOCK, HOOK_LOCK_WAIT) else {
            return true;
        };
        // The marker is opened without following a link and read only when regular, and at
        // most a few KiB of it: anyone who can write into the store can put anything there.
        let mut text = String::new();
        if let Ok(Some(file)) = root.read(HOOK_ERRORS_SAID) {
            let _ = file.take(4096).read_to_string(&mut text);
        }
        let mut keys: Vec<u64> = (text.lines())
            .filter_map(|line| u64::from_str_radix(line.trim(), 16).ok())
            .collect();
        if keys.contains(&key) {
            return false;
        }
        keys.push(key);
        let first = keys.len().saturating_sub(SAID_KEPT);
        let marker = keys[first..].iter().fold(String::new(), |mut marker, k| {
            let _ = writeln!(marker, "{k:016x}");
            marker
        });
        // Written whole under a name of this process's, then renamed over the marker (a
        // link in its place is replaced, never followed), so no reader sees half of it.
        let draft = format!("{HOOK_ERRORS_SAID}.{}", std::process::id());
        let noted = root.write_new(&draft, marker.as_bytes()).is_ok()
            && root.rename(&draft, HOOK_ERRORS_SAID).is_ok();
        if !noted {
            let _ = root.remove(&draft);
        }
        true
    }
}
