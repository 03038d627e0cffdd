//! Agent hooks: one process per hook event, whichever agent runs it, recorded into the store.
//!
//! # Architecture
//! - [`payload`]: the normal form every agent's payload is read into.
//! - [`claude_code`], [`codex`], [`vscode`]: each agent's wire format, read into the normal
//!   form.
//! - [`record`]: the one recorder: what each event becomes in the store.
//! - [`spawn`]: pairing subagents with the calls that spawned them, by what they share.
//! - [`outcome`]: what the hook decided; [`reply`]: how each agent is told it (printed by
//!   `cli/hook.rs`).
//!
//! Which agent sent a payload: the one `hook --agent <name>` names, when the command line says
//! (setup writes it into each agent's own config, which only that agent reads); else what
//! [`Signals`] and the payload tell, because VS Code, Cursor and Copilot CLI also run the plain
//! `agent-strace hook …` commands of Claude Code's settings files (docs/agents.md §8).

pub mod claude_code;
pub mod codex;
pub mod outcome;
pub mod payload;
mod record;
pub mod reply;
mod spawn;
pub mod vscode;

pub use outcome::Outcome;
pub use payload::{Answer, HOOK_ARGS, HookEvent, HookPayload, PayloadError, ToolUse};
pub use record::{judge, outcome, record};
pub use reply::{Reply, reply};

use crate::model::Agent;

/// What tells the agent apart besides the payload: the `--agent` the command line names and
/// the variables each agent sets in its hooks' environment (collected by `cli`, which alone
/// reads the environment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signals {
    /// `hook --agent <name>`: written by setup into the agent's own config; trusted.
    pub declared: Option<Agent>,
    /// `CURSOR_VERSION` is set.
    pub cursor: bool,
    /// `GEMINI_SESSION_ID` is set.
    pub gemini: bool,
    /// `COPILOT_CLI=1`.
    pub copilot: bool,
}

use serde_json::Value;

/// Reads a payload from stdin's bytes into the normal form, telling the agent by its fields.
/// `arg` is the `hook <event>` argument, used when the payload does not name its event.
pub fn read_payload(
    arg: &str,
    stdin: &[u8],
    signals: &Signals,
) -> Result<HookPayload, PayloadError> {
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
    // Each agent's reader is added here as it is captured natively; until then its payloads
    // are read by the reader of the shape they share.
    if signals.declared == Some(Agent::Codex)
        || (signals.declared.is_none() && codex::is_codex(&fields))
    {
        codex::read(arg, fields)
    } else if vscode::is_vscode(&fields) {
        vscode::read(arg, fields)
    } else {
        claude_code::read(arg, fields)
    }
}
