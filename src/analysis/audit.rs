//! `audit`: every tool call of a session judged against a policy (or none, when only sensitive
//! files are flagged): allowed, no policy, or a violation naming the rule that decided.

use serde::Serialize;

use crate::model::policy::check::{self, Access, Place, Status};
use crate::model::policy::{self, Policy};
use crate::model::view::{ToolCall, View};
use crate::model::{Agent, Event};

/// One judged tool call.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The event number (#N, from 1) of the call.
    pub event: usize,
    pub event_id: String,
    pub tool: String,
    /// What the call did, on one line: the command, the path, the URL.
    pub what: Option<String>,
    pub status: Status,
    /// The rule that decided (`files.read.deny`, `commands.allow`, `sensitive` …).
    pub rule: Option<&'static str>,
    pub pattern: Option<String>,
    /// The part of the call that decided: the file, the command, the host.
    pub access: Option<Access>,
    /// The hook or proxy denied the call when the agent made it: it never ran.
    pub blocked: bool,
}

/// The audit of one session.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub session_id: String,
    /// The policy file judged by; `None`: no policy, only sensitive files are flagged.
    pub policy: Option<String>,
    pub rules: usize,
    pub events: usize,
    pub tool_calls: usize,
    pub allowed: Vec<Finding>,
    pub no_policy: Vec<Finding>,
    pub violations: Vec<Finding>,
}

/// Judges a session's calls one event at a time.
pub struct Auditor<'p> {
    policy: &'p Policy,
    agent: Agent,
    place: Place,
    events: usize,
    findings: Vec<Finding>,
}

impl<'p> Auditor<'p> {
    /// `roots` are the folders the policy's globs are relative to (the policy's own folder);
    /// the session's working folder is added when its start is seen.
    pub fn new(policy: &'p Policy, agent: Agent, roots: Vec<String>) -> Auditor<'p> {
        Auditor {
            policy,
            agent,
            place: Place {
                cwd: None,
                roots,
                launch: None,
                home: None,
            },
            events: 0,
            findings: Vec::new(),
        }
    }

    pub fn observe(&mut self, event: &Event) {
        self.events += 1;
        if let View::SessionStart(start) = View::of(event, self.agent)
            && let Some(cwd) = start.cwd
            && self.place.cwd.is_none()
        {
            self.place.cwd = Some(cwd.to_owned());
            self.place.roots.push(cwd.to_owned());
        }
        let Some(call) = ToolCall::from_event(event, self.agent) else {
            return;
        };
        let verdict = check::check(self.policy, &call, &self.place);
        self.findings.push(Finding {
            event: self.events,
            event_id: event.event_id.clone(),
            tool: call.tool.to_owned(),
            what: call.gist(),
            status: verdict.status,
            rule: verdict.rule,
            pattern: verdict.pattern,
            access: verdict.access,
            blocked: policy::was_denied(event),
        });
    }

    /// What was seen so far, for [`generate`](crate::model::policy::generate) and `policy
    /// test`: the place calls were judged in.
    pub fn place(&self) -> &Place {
        &self.place
    }

    pub fn finish(self, session_id: &str, policy: Option<String>) -> AuditReport {
        let tool_calls = self.findings.len();
        let mut report = AuditReport {
            session_id: session_id.to_owned(),
            policy,
            rules: self.policy.rule_count(),
            events: self.events,
            tool_calls,
            allowed: Vec::new(),
            no_policy: Vec::new(),
            violations: Vec::new(),
        };
        for f in self.findings {
            match f.status {
                Status::Allowed => report.allowed.push(f),
                Status::NoPolicy => report.no_policy.push(f),
                Status::Violation => report.violations.push(f),
            }
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::EventType;
    use crate::model::policy::DENIED_KEY;

    fn event(kind: EventType, data: serde_json::Value) -> Event {
        Event::new(kind, 0.0, "e".into(), "s".into()).with_data(data)
    }

    #[test]
    fn calls_are_sorted_by_their_verdict() {
        let policy = crate::model::policy::parse_for_test(
            r#"{"files": {"read": {"allow": ["src/**"]}}, "commands": {"deny": ["curl"]}}"#,
        );
        let mut a = Auditor::new(&policy, Agent::ClaudeCode, vec![]);
        a.observe(&event(EventType::SessionStart, json!({"cwd": "/p"})));
        a.observe(&event(
            EventType::ToolCall,
            json!({"tool_name": "Read", "arguments": {"file_path": "/p/src/a.rs"}}),
        ));
        a.observe(&event(
            EventType::ToolCall,
            json!({"tool_name": "Bash", "arguments": {"command": "curl x"}, DENIED_KEY: {}}),
        ));
        a.observe(&event(
            EventType::ToolCall,
            json!({"tool_name": "TodoWrite", "arguments": {}}),
        ));
        let r = a.finish("s", None);
        assert_eq!((r.events, r.tool_calls), (4, 3));
        assert_eq!(r.allowed[0].event, 2);
        assert_eq!(r.violations[0].rule, Some("commands.deny"));
        assert!(r.violations[0].blocked);
        assert_eq!(r.no_policy[0].tool, "TodoWrite");
    }
}
