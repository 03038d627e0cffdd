//! Agent hooks: one process per hook event, whichever agent runs it, recorded into the store.
//!
//! # Architecture
//! - [`payload`]: the normal form every agent's payload is read into.
//! - [`claude_code`], [`vscode`]: each agent's wire format, read into the normal form.
//! - [`record`]: the one recorder: what each event becomes in the store.
//! - [`spawn`]: pairing subagents with the calls that spawned them, by what they share.
//! - [`outcome`]: what the hook answers the agent (printed by `cli/hook.rs`).
//!
//! The agent is told by the payload itself, never by the command line: VS Code runs the same
//! `agent-strace hook …` commands from `~/.claude/settings.json` as Claude Code does.

pub mod claude_code;
pub mod outcome;
pub mod payload;
mod record;
mod spawn;
pub mod vscode;

pub use outcome::Outcome;
pub use payload::{Answer, HOOK_ARGS, HookEvent, HookPayload, PayloadError, ToolUse};
pub use record::{judge, outcome, record};

use serde_json::Value;

/// Reads a payload from stdin's bytes into the normal form, telling the agent by its fields.
/// `arg` is the `hook <event>` argument, used when the payload does not name its event.
pub fn read_payload(arg: &str, stdin: &[u8]) -> Result<HookPayload, PayloadError> {
    // Some editors prefix a byte-order mark; it is not part of the JSON.
    let bytes = stdin.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(stdin);
    if bytes.trim_ascii().is_empty() {
        return Err(PayloadError::Empty);
    }
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(value) => value,
        // Node cuts strings inside emoji and writes the halves as lone surrogate escapes; such
        // a payload is read with each one taken as U+FFFD, as the store's reader does.
        Err(e) => crate::store::replace_lone_surrogates(bytes)
            .and_then(|fixed| serde_json::from_slice(&fixed).ok())
            .ok_or_else(|| PayloadError::NotJson(e.to_string()))?,
    };
    let Value::Object(fields) = value else {
        return Err(PayloadError::NotAnObject);
    };
    if vscode::is_vscode(&fields) {
        vscode::read(arg, fields)
    } else {
        claude_code::read(arg, fields)
    }
}
