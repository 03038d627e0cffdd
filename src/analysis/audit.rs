//! `audit`: every tool call of a session judged against a policy (or none, when only sensitive
//! files are flagged): allowed, no policy, or a violation naming the rule that decided.

use std::collections::HashMap;

use serde::Serialize;

use crate::model::file_use::FileUse;
use crate::model::head::EventHead;
use crate::model::policy::check::{self, Access, Found, Held, Place, Status};
use crate::model::policy::generate::Generator;
use crate::model::policy::{self, Policy};
use crate::model::read_pairs::ReadPairs;
use crate::model::view::{self, FileTouch, ToolCall, View};
use crate::model::{Agent, Event, RefusedBy, ToolKind};

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
    /// The call was refused when it was made, and by whom: the user, or Claude Code's auto
    /// mode (its classifier, asking no one), with the reason it gave. `None`: no refusal was
    /// recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<Refused>,
    /// The call's arguments were recorded cut to the store's size limit, and the hook denied
    /// it by a rule the policy still holds: it is filed as the hook judged it then, the start
    /// that was kept being no whole call to judge.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub recorded_cut: bool,
}

/// Who refused a call when it was made, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Refused {
    pub by: RefusedBy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
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
    /// The calls (event numbers) that name a path from `~/` in a session whose home folder is
    /// not known: judged as written, not as the path it leads to (see [`home_of`]).
    pub home_unknown: Vec<usize>,
    /// The calls (event numbers) that name a relative path and whose folder cannot be known:
    /// none recorded, or one recorded cut to the store's size limit or with a secret (or a
    /// personal datum) scrubbed out of it, which names no real folder. Their relative paths are
    /// judged as written, never from a wrong folder.
    pub folder_unknown: Vec<usize>,
    /// The audits of the session's subagents (and theirs), each judged by the same policy: their
    /// calls are the session's work, as their cost is part of its cost.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subagents: Vec<AuditReport>,
}

impl AuditReport {
    /// Whether a call of the session, or of one of its subagents, violated the policy.
    pub fn violated(&self) -> bool {
        !self.violations.is_empty() || self.subagents.iter().any(AuditReport::violated)
    }
}

/// A folder as the session recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Recorded {
    /// The folder, whole.
    Whole(String),
    /// A folder was recorded, but cut or scrubbed ([`whole`]): where it was cannot be known.
    Lost,
}

impl Recorded {
    fn of(folder: &str) -> Recorded {
        if whole(folder) {
            Recorded::Whole(folder.to_owned())
        } else {
            Recorded::Lost
        }
    }

    fn folder(&self) -> Option<&str> {
        match self {
            Recorded::Whole(folder) => Some(folder),
            Recorded::Lost => None,
        }
    }
}

/// Whether a recorded folder is the one the writer saw: not cut to the store's size limit
/// ([`view::CUT_MARK`]) nor with a secret or personal datum scrubbed out of it (`[REDACTED]`,
/// `[EMAIL]` …). Such a folder names no real folder, and judging from it would judge from a
/// wrong one.
fn whole(folder: &str) -> bool {
    !folder.contains(view::CUT_MARK) && !crate::mask::holds_placeholder(folder)
}

/// Judges a session's calls one event at a time.
pub struct Auditor<'p> {
    policy: &'p Policy,
    agent: Agent,
    /// The folders the policy's globs are relative to (the policy's own).
    roots: Vec<String>,
    /// The folder the session started in, once its start is seen.
    start: Option<Recorded>,
    /// The folder taken for the start when no event names one ([`Auditor::with_start`]).
    start_otherwise: Option<Recorded>,
    home: Option<String>,
    /// Looks at what is at a path ([`Place::probe`]), as the hook looked when the call was made.
    probe: Option<fn(&str) -> Found>,
    /// Reads what a file holds ([`Place::read`]), as the hook read it when the call was made.
    read: Option<fn(&str) -> Held>,
    events: usize,
    findings: Vec<Finding>,
    /// The findings by their call's event id and by its tool-use id, for the refusal that
    /// closes a call to find it.
    by_event_id: HashMap<String, usize>,
    by_tool_use_id: HashMap<String, usize>,
    /// Reads told of twice (Cursor's `preToolUse` and `beforeReadFile`), judged once
    /// ([`ReadPairs`]).
    reads: ReadPairs,
    home_unknown: Vec<usize>,
    folder_unknown: Vec<usize>,
}

impl<'p> Auditor<'p> {
    /// `roots` are the folders the policy's globs are relative to (the policy's own folder);
    /// the folder each call ran in is added to them, as the hook adds the payload's.
    pub fn new(policy: &'p Policy, agent: Agent, roots: Vec<String>) -> Auditor<'p> {
        Auditor {
            policy,
            agent,
            roots,
            start: None,
            start_otherwise: None,
            home: None,
            probe: None,
            read: None,
            events: 0,
            findings: Vec::new(),
            by_event_id: HashMap::new(),
            by_tool_use_id: HashMap::new(),
            reads: ReadPairs::default(),
            home_unknown: Vec::new(),
            folder_unknown: Vec::new(),
        }
    }

    /// Judges from the home folder `home` too, as the hook judged with its `HOME`: a path
    /// starting with `~/` is also the path it leads to ([`Place::home`]).
    #[must_use]
    pub fn with_home(mut self, home: Option<String>) -> Auditor<'p> {
        self.home = home;
        self
    }

    /// Looks at the files of this machine with `probe` ([`Place::probe`]), as the hook did
    /// when the call was made: git takes a word for a path when it names a file there.
    #[must_use]
    pub fn with_probe(mut self, probe: fn(&str) -> Found) -> Auditor<'p> {
        self.probe = Some(probe);
        self
    }

    /// Reads the files of this machine with `read` ([`Place::read`]), as the hook did when the
    /// call was made: a patch git applies names the files it writes.
    #[must_use]
    pub fn with_reader(mut self, read: fn(&str) -> Held) -> Auditor<'p> {
        self.read = Some(read);
        self
    }

    /// Takes `folder` for where the session started when none of its events says (a Cursor
    /// `sessionStart` names no folder; hooks installed mid-session saw no start): the
    /// session's `working_dir` (meta.json's attribution), where its first hook ran. A start
    /// that names its folder wins.
    #[must_use]
    pub fn with_start(mut self, folder: Option<String>) -> Auditor<'p> {
        self.start_otherwise = folder
            .filter(|f| f.starts_with('/'))
            .map(|f| Recorded::of(&f));
        self
    }

    pub fn observe(&mut self, event: &Event) {
        self.judge(event, None);
    }

    /// [`Auditor::observe`], `learner` taking in each call (and each file a call wrote) as it
    /// is judged: a policy made so is made of what the audit judges, so the sessions it came
    /// from pass it (a Codex `exec` cell's writes are file events, not its arguments).
    pub fn observe_learning(&mut self, event: &Event, learner: &mut Generator) {
        self.judge(event, Some(learner));
    }

    fn judge(&mut self, event: &Event, mut learner: Option<&mut Generator>) {
        self.events += 1;
        match View::of(event, self.agent) {
            View::SessionStart(start) => {
                if let Some(cwd) = start.cwd
                    && self.start.is_none()
                {
                    self.start = Some(Recorded::of(cwd));
                }
            }
            View::ToolResult(result) => {
                if let Some(refusal) = &result.refusal {
                    let call = event
                        .parent_id
                        .as_ref()
                        .and_then(|id| self.by_event_id.get(id))
                        .or_else(|| {
                            result
                                .tool_use_id
                                .and_then(|id| self.by_tool_use_id.get(id))
                        });
                    if let Some(&index) = call {
                        self.findings[index].refused = Some(Refused {
                            by: refusal.by,
                            reason: refusal.reason.map(str::to_owned),
                        });
                    }
                }
            }
            View::FileTouch(FileTouch {
                path: Some(path),
                write: true,
                file_use,
                ..
            }) => {
                self.written(event, path, learner.as_deref_mut());
                // A file moved is written where it went too (a patch's `*** Move to: q`).
                if let FileUse::Move(to) = &file_use {
                    self.written(event, to, learner.as_deref_mut());
                }
            }
            _ => {}
        }
        let Some(call) = ToolCall::from_event(event, self.agent) else {
            return;
        };
        // The second telling of a read is the finding of the first: its ids find that one,
        // and a denial the hook made of either is the call's.
        let told = self.reads.observe(&EventHead::of(event)).then(|| {
            let what = call.gist();
            self.findings
                .iter()
                .rposition(|f| f.tool == call.tool && f.what == what)
        });
        let index = match told {
            Some(Some(first)) => first,
            _ => self.findings.len(),
        };
        self.by_event_id.insert(event.event_id.clone(), index);
        if let Some(id) = call.tool_use_id {
            self.by_tool_use_id.insert(id.to_owned(), index);
        }
        if index < self.findings.len() {
            self.findings[index].blocked |= policy::was_denied(event);
            return;
        }
        let place = self.place_of(&call);
        if let Some(learner) = learner {
            learner.observe_call(&call, &place);
        }
        let mut verdict = check::check(self.policy, &call, &place);
        let recorded_cut = verdict.status != Status::Violation
            && view::holds_cut(call.arguments)
            && policy::recorded_denial(event)
                .and_then(|(rule, pattern)| {
                    Some((self.policy.still_holds(rule, pattern)?, pattern))
                })
                .map(|(rule, pattern)| {
                    verdict.status = Status::Violation;
                    verdict.rule = Some(rule);
                    verdict.pattern = Some(pattern.to_owned());
                    verdict.access = None;
                })
                .is_some();
        if self.home.is_none() && verdict.parts.iter().any(|p| from_home(&p.access)) {
            self.home_unknown.push(self.events);
        }
        if place.cwd.is_none() && verdict.parts.iter().any(|p| relative(&p.access)) {
            self.folder_unknown.push(self.events);
        }
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
            refused: None,
            recorded_cut,
        });
    }

    /// A file recorded as written by a call judged already (its `parent_id`), judged as a write
    /// of that call: its arguments may not name it (a patch a Codex `exec` cell applied with
    /// `tools.apply_patch`). The call's finding takes the file's verdict when it is worse.
    fn written(&mut self, event: &Event, path: &str, learner: Option<&mut Generator>) {
        let parent = event.parent_id.as_ref();
        let Some(&index) = parent.and_then(|id| self.by_event_id.get(id)) else {
            return;
        };
        let tool = self.findings[index].tool.clone();
        let arguments = serde_json::json!({ "path": path });
        let write = ToolCall {
            agent: self.agent,
            tool: &tool,
            kind: ToolKind::WriteFile,
            spec: None,
            arguments: &arguments,
            tool_use_id: None,
            cwd: None,
        };
        let place = self.place_of(&write);
        if let Some(learner) = learner {
            learner.observe_call(&write, &place);
        }
        let verdict = check::check(self.policy, &write, &place);
        let finding = &mut self.findings[index];
        if verdict.status > finding.status {
            finding.status = verdict.status;
            finding.rule = verdict.rule;
            finding.pattern = verdict.pattern;
            finding.access = verdict.access;
        }
    }

    /// Where `call` was judged, as the hook judged it live: from the folder it ran in (the
    /// one it recorded, else the one the session started in), with that folder among the
    /// roots; the session's start taken for where the agent was started ([`Place::launch`]:
    /// Claude Code tells its hooks that folder, `CLAUDE_PROJECT_DIR`, and a `cd` moves it not).
    /// Also for [`generate`](crate::model::policy::generate), which makes globs of its paths.
    ///
    /// A folder recorded cut or scrubbed ([`whole`]) is no folder: the call's relative paths
    /// are then judged as written (and the report names it), not from the session's start,
    /// which it did not run in; a start recorded so is passed over for a whole `working_dir`.
    pub fn place_of(&self, call: &ToolCall<'_>) -> Place {
        let start = match (&self.start, &self.start_otherwise) {
            (Some(Recorded::Whole(start)), _) | (_, Some(Recorded::Whole(start))) => {
                Some(start.as_str())
            }
            _ => None,
        };
        let cwd = match call.cwd {
            Some(cwd) => Recorded::of(cwd).folder().map(str::to_owned),
            None => start.map(str::to_owned),
        };
        let mut roots = self.roots.clone();
        roots.extend(cwd.clone());
        Place {
            cwd,
            roots,
            launch: start.map(str::to_owned),
            home: self.home.clone(),
            probe: self.probe,
            read: self.read,
        }
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
            home_unknown: self.home_unknown,
            folder_unknown: self.folder_unknown,
            subagents: Vec::new(),
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

/// Whether an access names a relative path (`../secrets/key.txt`, `src`), which only the folder
/// the call ran in says where it leads.
fn relative(access: &Access) -> bool {
    matches!(access, Access::Read(p) | Access::Write(p) if !p.trim_start().starts_with(['/', '~', '$']))
}

/// Whether an access names a path from the home folder (`~/proj/secrets`).
fn from_home(access: &Access) -> bool {
    matches!(access, Access::Read(p) | Access::Write(p) if p.trim_start().starts_with("~/"))
}

/// The home folder of the user a session ran as, when its metadata makes it certain enough: its
/// folder is in that user's home as systems lay them out (`/home/<user>`, macOS's
/// `/Users/<user>`, `/root` for root). A recorded session keeps no `HOME`; any other folder
/// says nothing of where the home is, and `None` leaves `~/` paths judged as written.
pub fn home_of(os_user: Option<&str>, folder: Option<&str>) -> Option<String> {
    let user = os_user.filter(|u| !u.is_empty() && !u.contains('/') && *u != "." && *u != "..")?;
    let folder = folder?;
    let homes = if user == "root" {
        vec!["/root".to_owned()]
    } else {
        vec![format!("/home/{user}"), format!("/Users/{user}")]
    };
    homes
        .into_iter()
        .find(|home| check::below(folder, home).is_some())
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

    #[test]
    fn a_start_that_names_its_folder_wins_over_the_working_dir() {
        let policy = crate::model::policy::parse_for_test(
            r#"{"files": {"read": {"deny": ["secrets/**"]}}}"#,
        );
        let read = event(
            EventType::ToolCall,
            json!({"tool_name": "Read", "arguments": {"file_path": "../p/secrets/k"}}),
        );
        let violations = |start: serde_json::Value, otherwise: &str| {
            let mut a = Auditor::new(&policy, Agent::ClaudeCode, vec!["/p".into()])
                .with_start(Some(otherwise.into()));
            a.observe(&event(EventType::SessionStart, start));
            a.observe(&read);
            a.finish("s", None).violations.len()
        };
        assert_eq!(violations(json!({}), "/p"), 1);
        assert_eq!(violations(json!({"cwd": "/q/x"}), "/p"), 0);
        assert_eq!(violations(json!({"cwd": "/p"}), "/q/x"), 1);
        // Only a folder from the root is taken.
        assert_eq!(violations(json!({}), "p"), 0);
    }

    #[test]
    fn a_folder_recorded_cut_or_scrubbed_is_no_folder_to_judge_from() {
        let policy = crate::model::policy::parse_for_test(
            r#"{"files": {"read": {"deny": ["secrets/**"]}}}"#,
        );
        let read = |cwd: Option<&str>| {
            let mut data = json!({"tool_name": "Read", "arguments": {"file_path": "../secrets/k"}});
            if let Some(cwd) = cwd {
                data["cwd"] = cwd.into();
            }
            event(EventType::ToolCall, data)
        };
        let cut = format!("/p/s… {}5000 bytes in all]", view::CUT_MARK);
        let audit = |start: &str, otherwise: Option<&str>, call: Option<&str>| {
            let mut a = Auditor::new(&policy, Agent::ClaudeCode, vec!["/p".into()])
                .with_start(otherwise.map(str::to_owned));
            a.observe(&event(EventType::SessionStart, json!({"cwd": start})));
            a.observe(&read(call));
            let r = a.finish("s", None);
            (r.violations.len(), r.folder_unknown)
        };
        assert_eq!(audit("/p", None, Some("/p/src")), (1, vec![]));
        // Judged as written (`../secrets/k` is below no root), and said.
        assert_eq!(audit("/p", None, Some(&cut)), (0, vec![2]));
        assert_eq!(audit("/p", None, Some("/p/[REDACTED]")), (0, vec![2]));
        assert_eq!(audit("/p/[EMAIL]/x", None, None), (0, vec![2]));
        // A start recorded scrubbed gives way to a whole working folder.
        assert_eq!(audit("/p/[REDACTED]", Some("/p/src"), None), (1, vec![]));
    }

    #[test]
    fn the_home_folder_is_taken_only_from_a_folder_inside_it() {
        let home = |user, folder| home_of(Some(user), Some(folder));
        assert_eq!(home("al", "/home/al/proj").as_deref(), Some("/home/al"));
        assert_eq!(home("al", "/Users/al").as_deref(), Some("/Users/al"));
        assert_eq!(home("root", "/root/p").as_deref(), Some("/root"));
        assert_eq!(home("al", "/home/alice/proj"), None);
        assert_eq!(home("al", "/srv/proj"), None);
        assert_eq!(home("root", "/home/root/p"), None);
        assert_eq!(home("..", "/home/../p"), None);
        assert_eq!(home_of(None, Some("/home/al/p")), None);
    }
}
