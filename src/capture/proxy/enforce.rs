//! The policy at the MCP proxies: a `tools/call` that violates it is answered with a JSON-RPC
//! error naming the rule, and never reaches the server.

use serde_json::{Value, json};

use crate::capture::guard::Guard;
use crate::model::Agent;

/// The JSON-RPC error code of a denied call (in the range JSON-RPC leaves to servers).
pub const DENIED_CODE: i64 = -32001;

/// The policy a proxy enforces, and the folder paths in arguments are taken from.
#[derive(Debug, Clone)]
pub struct Enforcer {
    pub guard: Guard,
    pub cwd: Option<String>,
}

impl Enforcer {
    /// The error to answer a client's message with instead of forwarding it: `Some` only for a
    /// `tools/call` request the policy denies. Anything else (a batch, a notification, text
    /// that is not JSON) goes on unjudged.
    pub fn answer(&self, message: &[u8]) -> Option<Value> {
        let value: Value = serde_json::from_slice(message).ok()?;
        if value.get("method").and_then(Value::as_str) != Some("tools/call") {
            return None;
        }
        let id = value.get("id")?.clone();
        let params = value.get("params")?;
        let tool = params.get("name").and_then(Value::as_str)?;
        let empty = Value::Object(serde_json::Map::new());
        let arguments = params.get("arguments").unwrap_or(&empty);
        let denial = self
            .guard
            .judge(Agent::Mcp, tool, arguments, self.cwd.as_deref())?;
        Some(json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {
                "code": DENIED_CODE,
                "message": denial.reason,
                "data": {"rule": denial.rule, "pattern": denial.pattern, "denied_by": "agent-strace"},
            },
        }))
    }
}
