//! How each agent is told the hook's outcome: what goes to stdout and stderr, and the exit code.
//!
//! The recorder decides an [`Outcome`]; this is the one place that knows each agent's way of
//! saying it, and `cli/hook.rs` only prints what it is given. Allowing is the same for every
//! agent: print nothing, exit 0. Each agent's printer lives in its wire module beside its reader.

use super::{HookEvent, Outcome};
use super::{claude_code, codex, copilot, cursor, gemini};
use crate::model::Agent;

/// What the hook process hands back to the agent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    /// Printed on stdout (one JSON document and a newline where the agent reads JSON).
    pub stdout: Option<String>,
    /// Printed on stderr (agents that read a denial's reason from it).
    pub stderr: Option<String>,
    pub exit: u8,
}

impl Reply {
    /// One JSON document and a newline on stdout, exit 0: how most agents read a decision.
    pub fn json(document: &serde_json::Value) -> Reply {
        Reply {
            stdout: Some(format!("{document}\n")),
            stderr: None,
            exit: crate::exit::OK,
        }
    }
}

/// A denial in `agent`'s own words. Each agent that is captured natively adds its printer
/// here; until then a denial goes out in Claude Code's JSON, which VS Code reads the same way.
fn deny(agent: Agent, reason: &str, event: &HookEvent) -> Reply {
    let permission_request = *event == HookEvent::PermissionRequest;
    match agent {
        Agent::Codex => codex::deny(reason, permission_request),
        Agent::GeminiCli => gemini::deny(reason),
        Agent::Cursor => cursor::deny(reason),
        Agent::Copilot => copilot::deny(reason, permission_request),
        _ => claude_code::deny(reason, event),
    }
}

/// The reply that carries `outcome` to `agent`.
pub fn reply(agent: Agent, outcome: &Outcome) -> Reply {
    match outcome {
        Outcome::Allow => Reply::default(),
        Outcome::Deny { reason, event } => deny(agent, reason, event),
    }
}
