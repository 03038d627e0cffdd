//! The policy in force while capturing: the pre-tool hook and the MCP proxies ask it whether a
//! call may run, and it answers with the denial to send and to record.

use serde_json::{Map, Value};

use crate::model::Agent;
use crate::model::policy::check::{Found, Place, Status, check};
use crate::model::policy::{Policy, reason};
use crate::model::tools;
use crate::model::view::ToolCall;

/// A policy and where it lives.
#[derive(Debug, Clone)]
pub struct Guard {
    pub policy: Policy,
    /// The file, as the reason names it.
    pub file: String,
    /// The folders its globs are relative to (the file's own).
    pub roots: Vec<String>,
    /// The folder the agent was started in, when known ([`Place::launch`]).
    pub launch: Option<String>,
    /// The home folder, when known ([`Place::home`]).
    pub home: Option<String>,
}

/// Why a call was denied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub rule: &'static str,
    pub pattern: Option<String>,
    /// What the agent is told: rule, file, what to do instead.
    pub reason: String,
}

impl Denial {
    /// What a denied call's event carries under [`crate::model::policy::DENIED_KEY`].
    pub fn record(&self) -> Value {
        let mut data = Map::new();
        data.insert("rule".into(), self.rule.into());
        if let Some(p) = &self.pattern {
            data.insert("pattern".into(), p.clone().into());
        }
        data.insert("reason".into(), self.reason.clone().into());
        Value::Object(data)
    }
}

impl Guard {
    /// Whether a call may run: `None` when it may, the denial when it violates the policy.
    pub fn judge(
        &self,
        agent: Agent,
        tool: &str,
        input: &Value,
        cwd: Option<&str>,
    ) -> Option<Denial> {
        let call = ToolCall {
            agent,
            tool,
            kind: tools::classify(agent, tool),
            spec: tools::spec_of(agent, tool),
            arguments: input,
            tool_use_id: None,
            cwd,
        };
        let mut roots = self.roots.clone();
        roots.extend(cwd.map(str::to_owned));
        let place = Place {
            cwd: cwd.map(str::to_owned),
            roots,
            launch: self.launch.clone(),
            home: self.home.clone(),
            probe: Some(on_disk),
        };
        let verdict = check(&self.policy, &call, &place);
        (verdict.status == Status::Violation).then(|| Denial {
            rule: verdict.rule.unwrap_or("policy"),
            pattern: verdict.pattern.clone(),
            reason: reason::reason(&self.policy, &verdict, &self.file),
        })
    }
}

/// What is at `path` on this machine ([`Place::probe`]): a link is what it leads to, or a file
/// when it leads nowhere, as git takes a link.
pub fn on_disk(path: &str) -> Found {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Found::Folder,
        Ok(_) => Found::File,
        Err(_) if std::fs::symlink_metadata(path).is_ok() => Found::File,
        Err(_) => Found::Nothing,
    }
}
