//! The policy at the MCP proxies: a `tools/call` that violates it is answered with a JSON-RPC
//! error naming the rule, and never reaches the server.

use serde_json::{Value, json};

use crate::capture::guard::{Denial, Guard};
use crate::model::Agent;

/// The JSON-RPC error code of a denied call (in the range JSON-RPC leaves to servers).
pub const DENIED_CODE: i64 = -32001;

/// The policy a proxy enforces, and the folder paths in arguments are taken from.
#[derive(Debug, Clone)]
pub struct Enforcer {
    pub guard: Guard,
    pub cwd: Option<String>,
    /// Says on stderr that a message was not forwarded and nobody could be answered.
    pub report: fn(&str),
}

/// A message the policy keeps from the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// What the client is sent instead; `None` for a notification, which has no one to answer.
    pub answer: Option<Value>,
}

impl Enforcer {
    /// Whether the policy keeps `message` from the server: a `tools/call` it denies (a request,
    /// or a notification, which a server may run all the same), or a batch that holds one. A
    /// denied batch is answered whole and none of it forwarded: a batch is never a way around
    /// the policy.
    pub fn refusal(&self, value: &Value) -> Option<Refusal> {
        let Value::Array(batch) = value else {
            return self.denied(value).map(|(id, denial)| Refusal {
                answer: id.map(|id| refusal(&id, &denial)),
            });
        };
        let denials: Vec<_> = batch.iter().map(|m| self.denied(m)).collect();
        if denials.iter().all(Option::is_none) {
            return None;
        }
        let answers: Vec<Value> = batch
            .iter()
            .zip(denials)
            .filter_map(|(message, denial)| match denial {
                Some((id, denial)) => id.map(|id| refusal(&id, &denial)),
                // The other requests of the batch are answered too, so that none waits.
                None => message.get("id").map(|id| {
                    json!({
                        "jsonrpc": "2.0",
                        "id": id,
                        "error": {
                            "code": DENIED_CODE,
                            "message": "Not sent: its batch held a call the policy denies; send it on its own.",
                            "data": {"denied_by": "agent-strace"},
                        },
                    })
                }),
            })
            .collect();
        Some(Refusal {
            answer: (!answers.is_empty()).then_some(Value::Array(answers)),
        })
    }

    /// The id (none for a notification) and the denial of a `tools/call` the policy denies.
    fn denied(&self, message: &Value) -> Option<(Option<Value>, Denial)> {
        if message.get("method").and_then(Value::as_str) != Some("tools/call") {
            return None;
        }
        let id = message.get("id").cloned();
        let params = message.get("params")?;
        let tool = params.get("name").and_then(Value::as_str)?;
        let empty = Value::Object(serde_json::Map::new());
        let arguments = params.get("arguments").unwrap_or(&empty);
        let denial = self
            .guard
            .judge(Agent::Mcp, tool, arguments, self.cwd.as_deref())?;
        Some((id, denial))
    }
}

/// The JSON-RPC error that answers a message that may hold a request but does not read as JSON:
/// it cannot be judged, so it is not sent (the server would have answered it with a parse
/// error too).
pub fn unreadable() -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {
            "code": -32700,
            "message": "Not sent: agent-strace could not read this message as JSON, so it could not judge it against the policy.",
            "data": {"denied_by": "agent-strace"},
        },
    })
}

/// The JSON-RPC error that answers a denied call.
fn refusal(id: &Value, denial: &Denial) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {
            "code": DENIED_CODE,
            "message": denial.reason,
            "data": {"rule": denial.rule, "pattern": denial.pattern, "denied_by": "agent-strace"},
        },
    })
}
