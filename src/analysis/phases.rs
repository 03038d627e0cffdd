//! Splitting a session into phases — at each user prompt, and where a run of tests or builds
//! changes outcome — with what each phase read, ran and wrote, what it cost in tokens, and
//! which attempts were retries. Shared by `explain`, `cost` and `standup`.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::model::view::{LlmResponse, ToolCall, View};
use crate::model::{Agent, Event, Tokens, ToolKind};

/// One command a phase ran.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Ran {
    pub command: String,
    /// The same command failed earlier in the session.
    pub retry: bool,
    pub failed: bool,
    /// The event number (#N) of the call.
    pub event: usize,
}

/// A stretch of the session with one purpose.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    pub index: usize,
    pub label: String,
    /// Seconds from the session's start.
    pub start_s: f64,
    pub end_s: f64,
    pub events: u64,
    pub read: Vec<String>,
    pub ran: Vec<Ran>,
    pub wrote: Vec<String>,
    /// Its last command failed.
    pub failed: bool,
    /// Recorded usage by model.
    pub usage: BTreeMap<String, Tokens>,
    /// Of `usage`, what responses with over 200,000 tokens of context used (priced at
    /// long-context rates by some models).
    pub usage_long_context: BTreeMap<String, Tokens>,
    /// Tool calls made in the phase, by tool.
    pub tools: BTreeMap<String, u64>,
    /// Usage estimated from payload sizes (four characters a token), for sessions that
    /// recorded none.
    pub estimate: Tokens,
    #[serde(skip)]
    last_command_failed: Option<bool>,
}

impl Phase {
    fn new(index: usize, label: String, start_s: f64) -> Phase {
        Phase {
            index,
            label,
            start_s,
            end_s: start_s,
            events: 0,
            read: Vec::new(),
            ran: Vec::new(),
            wrote: Vec::new(),
            failed: false,
            usage: BTreeMap::new(),
            usage_long_context: BTreeMap::new(),
            tools: BTreeMap::new(),
            estimate: Tokens::default(),
            last_command_failed: None,
        }
    }

    pub fn duration_s(&self) -> f64 {
        (self.end_s - self.start_s).max(0.0)
    }

    pub fn recorded(&self) -> Tokens {
        let mut total = Tokens::default();
        for t in self.usage.values() {
            total.add(t);
        }
        total
    }
}

/// A file the session touched.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileTouch {
    pub path: String,
    pub reads: u64,
    pub writes: u64,
}

/// The phases of a session and what spans them.
#[derive(Debug, Clone, Serialize)]
pub struct Phases {
    pub started_at: f64,
    pub duration_s: f64,
    pub events: u64,
    pub phases: Vec<Phase>,
    pub files: Vec<FileTouch>,
    pub retries: u64,
    /// Time in failed phases.
    pub wasted_s: f64,
    pub tool_calls: u64,
    pub errors: u64,
    /// Whether any model usage was recorded (else costs are estimates).
    pub has_usage: bool,
    /// Every response's usage with its time, in the order seen: spend over time
    /// (`budget-report`'s days and billing blocks).
    #[serde(skip)]
    pub responses: Vec<TimedUsage>,
}

/// One response's usage and when it came.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedUsage {
    /// Seconds since the epoch.
    pub at: f64,
    pub model: String,
    pub tokens: Tokens,
}

struct Call {
    command: Option<String>,
    signature: String,
    phase: usize,
    ran_index: Option<usize>,
    timestamp: f64,
}

/// Builds [`Phases`] from a session's events, in order, in one pass.
pub struct PhaseBuilder {
    /// Whose tools the session's calls name.
    agent: Agent,
    origin: Option<f64>,
    last: f64,
    events: u64,
    phases: Vec<Phase>,
    calls: HashMap<String, Call>,
    failed_signatures: HashSet<String>,
    retries: u64,
    files: BTreeMap<String, FileTouch>,
    file_order: Vec<String>,
    last_test_outcome: Option<bool>,
    tool_calls: u64,
    errors: u64,
    has_usage: bool,
    number: usize,
    /// The session's working directory, to show paths below it relative to it.
    cwd: Option<String>,
    /// Test or build commands running now.
    open_tests: usize,
    /// Usage recorded while a test or build ran: a phase split off at that command's start
    /// takes what came after it.
    recent_usage: Vec<(f64, String, Tokens)>,
    responses: Vec<TimedUsage>,
}

pub use crate::model::summary::LONG_CONTEXT;

/// How many characters of a prompt name its phase.
const LABEL_CHARS: usize = 60;

impl PhaseBuilder {
    pub fn new(agent: Agent, started_at: Option<f64>) -> PhaseBuilder {
        PhaseBuilder {
            agent,
            origin: started_at.filter(|s| *s > 0.0),
            last: 0.0,
            events: 0,
            phases: Vec::new(),
            calls: HashMap::new(),
            failed_signatures: HashSet::new(),
            retries: 0,
            files: BTreeMap::new(),
            file_order: Vec::new(),
            last_test_outcome: None,
            tool_calls: 0,
            errors: 0,
            has_usage: false,
            number: 0,
            cwd: None,
            open_tests: 0,
            recent_usage: Vec::new(),
            responses: Vec::new(),
        }
    }

    fn current(&mut self, at: f64) -> &mut Phase {
        if self.phases.is_empty() {
            self.phases
                .push(Phase::new(1, "start".to_owned(), 0.0_f64.min(at)));
        }
        self.phases.last_mut().expect("pushed above")
    }

    fn start_phase(&mut self, label: String, at: f64) -> usize {
        let index = self.phases.len() + 1;
        self.phases.push(Phase::new(index, label, at));
        self.last_test_outcome = None;
        index - 1
    }

    pub fn observe(&mut self, event: &Event) {
        self.number += 1;
        self.events += 1;
        let origin = *self.origin.get_or_insert(event.timestamp);
        let at = event.timestamp - origin;
        self.last = self.last.max(at);
        match View::of(event, self.agent) {
            View::SessionStart(start) if self.cwd.is_none() => {
                self.cwd = start.cwd.map(|c| c.trim_end_matches('/').to_owned());
            }
            // Lines Claude Code writes as the user (slash-command output, task notifications,
            // interruptions) continue the phase rather than start one.
            View::Prompt(prompt) if is_injected(prompt.text) => {}
            View::Prompt(prompt) => {
                let label = crate::model::text::one_line(prompt.text, LABEL_CHARS);
                // A session's first prompt names the phase that opened it rather than making
                // an empty one.
                if self.phases.len() == 1
                    && self.phases[0].ran.is_empty()
                    && self.phases[0].read.is_empty()
                    && self.phases[0].wrote.is_empty()
                    && self.phases[0].label == "start"
                {
                    self.phases[0].label = label;
                } else {
                    self.start_phase(label, at);
                }
            }
            View::ToolCall(call) => self.call(event, &call, at),
            View::ToolResult(result) => self.result(event, result.failed()),
            View::LlmResponse(LlmResponse {
                model,
                usage: Some(tokens),
                ..
            }) => {
                self.has_usage = true;
                let model = model.unwrap_or("unknown").to_owned();
                let index = self.phases.len().max(1) - 1;
                self.current(at);
                add_usage(&mut self.phases[index], &model, &tokens, 1);
                self.responses.push(TimedUsage {
                    at: event.timestamp,
                    model: model.clone(),
                    tokens,
                });
                if self.open_tests > 0 {
                    self.recent_usage.push((at, model, tokens));
                }
            }
            View::FileTouch(touch) => {
                if let Some(path) = touch.path {
                    let path = self.relative(path);
                    self.touch(&path, touch.write);
                }
            }
            _ => {}
        }
        self.estimate(event, at);
        let phase = self.current(at);
        phase.events += 1;
        phase.end_s = phase.end_s.max(at);
    }

    /// Adds a response's usage read from elsewhere (the transcript of a session recorded by
    /// hooks) to the phase it falls in; it counts as no event of the session.
    pub fn usage_at(&mut self, timestamp: f64, model: &str, tokens: &Tokens) {
        let origin = *self.origin.get_or_insert(timestamp);
        let at = timestamp - origin;
        self.has_usage = true;
        let index = self.phases.len().max(1) - 1;
        self.current(at);
        add_usage(&mut self.phases[index], model, tokens, 1);
        self.responses.push(TimedUsage {
            at: timestamp,
            model: model.to_owned(),
            tokens: *tokens,
        });
    }

    /// Four characters a token: what the agent read is input, what it wrote is output.
    fn estimate(&mut self, event: &Event, at: f64) {
        let (input, output) = View::of(event, self.agent).payload_sizes();
        let phase = self.current(at);
        phase.estimate.input += (input as u64).div_ceil(4);
        phase.estimate.output += (output as u64).div_ceil(4);
    }

    /// A path below the session's working directory, relative to it.
    pub fn relative(&self, path: &str) -> String {
        self.cwd
            .as_deref()
            .and_then(|cwd| path.strip_prefix(cwd))
            .and_then(|rest| rest.strip_prefix('/'))
            .filter(|rest| !rest.is_empty())
            .unwrap_or(path)
            .to_owned()
    }

    fn touch(&mut self, path: &str, write: bool) {
        let entry = self.files.entry(path.to_owned()).or_insert_with(|| {
            self.file_order.push(path.to_owned());
            FileTouch {
                path: path.to_owned(),
                ..FileTouch::default()
            }
        });
        if write {
            entry.writes += 1;
        } else {
            entry.reads += 1;
        }
    }

    fn call(&mut self, event: &Event, call: &ToolCall<'_>, at: f64) {
        self.tool_calls += 1;
        let tool = if call.tool.is_empty() {
            "unknown".to_owned()
        } else {
            call.tool.to_owned()
        };
        let command = call.command().map(str::to_owned);
        let path = call.path().map(|p| self.relative(p));
        let signature = call.signature();
        let retry = self.failed_signatures.contains(&signature);
        if retry {
            self.retries += 1;
        }
        let number = self.number;
        let phase_index = self.phases.len().max(1) - 1;
        let phase = self.current(at);
        *phase.tools.entry(tool.clone()).or_default() += 1;
        match call.kind {
            ToolKind::ReadFile => push_unique(&mut phase.read, path.as_deref()),
            ToolKind::WriteFile => push_unique(&mut phase.wrote, path.as_deref()),
            _ => {}
        }
        if command.as_deref().is_some_and(is_test_or_build) {
            self.open_tests += 1;
        }
        let phase = self.phases.last_mut().expect("made by current() above");
        let ran_index = command.as_ref().map(|c| {
            phase.ran.push(Ran {
                command: c.clone(),
                retry,
                failed: false,
                event: number,
            });
            phase.ran.len() - 1
        });
        let id = event.event_id.clone();
        self.calls.insert(
            id,
            Call {
                command,
                signature,
                phase: phase_index,
                ran_index,
                timestamp: at,
            },
        );
    }

    fn result(&mut self, event: &Event, failed: bool) {
        if failed {
            self.errors += 1;
        }
        let Some(call) = event.parent_id.as_ref().and_then(|p| self.calls.remove(p)) else {
            return;
        };
        if failed {
            self.failed_signatures.insert(call.signature.clone());
        }
        let Some(command) = &call.command else { return };
        if let Some(i) = call.ran_index
            && let Some(ran) = self
                .phases
                .get_mut(call.phase)
                .and_then(|p| p.ran.get_mut(i))
        {
            ran.failed = failed;
        }
        if !is_test_or_build(command) {
            if let Some(phase) = self.phases.get_mut(call.phase) {
                phase.last_command_failed = Some(failed);
            }
            return;
        }
        self.open_tests = self.open_tests.saturating_sub(1);
        let outcome = !failed;
        let changed = self.last_test_outcome != Some(outcome);
        let in_current = call.phase + 1 == self.phases.len();
        if changed && in_current {
            let label = if is_build(command) {
                "build"
            } else {
                "run tests"
            }
            .to_owned();
            // The phase begins at the command whose outcome changed: move it there.
            let moved = call.ran_index.and_then(|i| {
                let phase = &mut self.phases[call.phase];
                (i < phase.ran.len()).then(|| phase.ran.remove(i))
            });
            let previous_empty = {
                let p = &self.phases[call.phase];
                p.ran.is_empty() && p.read.is_empty() && p.wrote.is_empty() && p.label == "start"
            };
            let index = if previous_empty {
                self.phases[call.phase].label = label;
                call.phase
            } else {
                self.phases[call.phase].events = self.phases[call.phase].events.saturating_sub(1);
                self.phases[call.phase].end_s = self.phases[call.phase]
                    .end_s
                    .min(call.timestamp)
                    .max(self.phases[call.phase].start_s);
                let i = self.start_phase(label, call.timestamp);
                self.phases[i].events += 1;
                // Responses since the command started belong to the new phase.
                for (at, model, tokens) in &self.recent_usage {
                    if *at >= call.timestamp {
                        let (before, after) = self.phases.split_at_mut(i);
                        add_usage(&mut before[call.phase], model, tokens, -1);
                        add_usage(&mut after[0], model, tokens, 1);
                    }
                }
                i
            };
            if let Some(ran) = moved {
                self.phases[index].ran.push(ran);
            }
            self.phases[index].last_command_failed = Some(failed);
        } else if let Some(phase) = self.phases.get_mut(call.phase) {
            phase.last_command_failed = Some(failed);
        }
        self.last_test_outcome = Some(outcome);
        if self.open_tests == 0 {
            self.recent_usage.clear();
        }
    }

    pub fn finish(mut self) -> Phases {
        for phase in &mut self.phases {
            phase.failed = phase.last_command_failed == Some(true);
        }
        // A phase lasts until the next one starts.
        let starts: Vec<f64> = self.phases.iter().map(|p| p.start_s).collect();
        for (i, phase) in self.phases.iter_mut().enumerate() {
            phase.end_s = starts
                .get(i + 1)
                .copied()
                .unwrap_or(self.last)
                .max(phase.start_s);
        }
        let wasted_s = self
            .phases
            .iter()
            .filter(|p| p.failed)
            .map(Phase::duration_s)
            .sum();
        let files = self
            .file_order
            .iter()
            .filter_map(|p| self.files.get(p).cloned())
            .collect();
        Phases {
            started_at: self.origin.unwrap_or_default(),
            duration_s: self.last,
            events: self.events,
            phases: self.phases,
            files,
            retries: self.retries,
            wasted_s,
            tool_calls: self.tool_calls,
            errors: self.errors,
            has_usage: self.has_usage,
            responses: self.responses,
        }
    }
}

/// Adds (`sign` 1) or takes away (`sign` -1) one response's usage in a phase.
fn add_usage(phase: &mut Phase, model: &str, tokens: &Tokens, sign: i8) {
    let mut maps = vec![&mut phase.usage];
    if tokens.context() > LONG_CONTEXT {
        maps.push(&mut phase.usage_long_context);
    }
    for map in maps {
        let entry = map.entry(model.to_owned()).or_default();
        if sign > 0 {
            entry.add(tokens);
        } else {
            entry.subtract(tokens);
        }
    }
}

/// Whether a "prompt" was written by the agent's harness rather than typed by a person.
fn is_injected(prompt: &str) -> bool {
    let p = prompt.trim_start();
    p.starts_with('<') || p.starts_with("[Request interrupted") || p.is_empty()
}

fn push_unique(list: &mut Vec<String>, item: Option<&str>) {
    if let Some(item) = item
        && !list.iter().any(|i| i == item)
    {
        list.push(item.to_owned());
    }
}

const TEST_WORDS: [&str; 22] = [
    "pytest",
    "cargo test",
    "cargo nextest",
    "npm test",
    "npm run test",
    "yarn test",
    "pnpm test",
    "go test",
    "jest",
    "vitest",
    "mix test",
    "rspec",
    "mvn test",
    "gradle test",
    "dotnet test",
    "ctest",
    "phpunit",
    "tox",
    "unittest",
    "bun test",
    "deno test",
    "make test",
];
const BUILD_WORDS: [&str; 12] = [
    "cargo build",
    "cargo check",
    "npm run build",
    "yarn build",
    "pnpm build",
    "go build",
    "tsc",
    "mvn package",
    "gradle build",
    "dotnet build",
    "mix compile",
    "make",
];

/// Whether a shell command runs tests or a build, the runs whose outcome marks progress.
pub fn is_test_or_build(command: &str) -> bool {
    let c = command.to_lowercase();
    TEST_WORDS.iter().any(|w| contains_word(&c, w)) || is_build(&c)
}

fn is_build(command: &str) -> bool {
    let c = command.to_lowercase();
    BUILD_WORDS.iter().any(|w| contains_word(&c, w))
}

fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric() && c != '_' && c != '-');
        edge(before) && edge(after)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EventType;
    use serde_json::{Value, json};

    struct S {
        b: PhaseBuilder,
        n: u32,
    }

    impl S {
        fn new() -> S {
            S {
                b: PhaseBuilder::new(Agent::ClaudeCode, Some(1000.0)),
                n: 0,
            }
        }
        fn ev(&mut self, kind: EventType, at: f64, parent: Option<&str>, data: Value) -> String {
            self.n += 1;
            let id = format!("e{}", self.n);
            let mut e = Event::new(kind, 1000.0 + at, id.clone(), "s".into());
            e.parent_id = parent.map(Into::into);
            e.data = data;
            self.b.observe(&e);
            id
        }
        fn bash(&mut self, at: f64, took: f64, cmd: &str, ok: bool) {
            let id = self.ev(
                EventType::ToolCall,
                at,
                None,
                json!({"tool_name": "Bash", "arguments": {"command": cmd}}),
            );
            let kind = if ok {
                EventType::ToolResult
            } else {
                EventType::Error
            };
            self.ev(kind, at + took, Some(&id), json!({"tool_name": "Bash"}));
        }
        fn read(&mut self, at: f64, path: &str) {
            let id = self.ev(
                EventType::ToolCall,
                at,
                None,
                json!({"tool_name": "Read", "arguments": {"file_path": path}}),
            );
            self.ev(
                EventType::ToolResult,
                at + 0.1,
                Some(&id),
                json!({"tool_name": "Read"}),
            );
            self.ev(
                EventType::FileRead,
                at + 0.1,
                Some(&id),
                json!({"path": path}),
            );
        }
    }

    #[test]
    fn the_reference_story_splits_into_three_phases() {
        let mut s = S::new();
        s.ev(
            EventType::UserPrompt,
            0.0,
            None,
            json!({"prompt": "fix the auth module"}),
        );
        s.read(1.0, "AGENTS.md");
        s.read(2.0, "src/auth.py");
        s.bash(5.0, 20.0, "python -m pytest", false);
        s.bash(30.0, 20.0, "python -m pytest", false);
        s.bash(80.0, 40.0, "uv run pytest", true);
        s.ev(
            EventType::AssistantResponse,
            125.0,
            None,
            json!({"text": "done"}),
        );
        let p = s.b.finish();
        let labels: Vec<(&str, bool)> = p
            .phases
            .iter()
            .map(|x| (x.label.as_str(), x.failed))
            .collect();
        assert_eq!(
            labels,
            [
                ("fix the auth module", false),
                ("run tests", true),
                ("run tests", false)
            ]
        );
        assert_eq!(p.phases[0].read, ["AGENTS.md", "src/auth.py"]);
        assert_eq!((p.phases[1].start_s, p.phases[1].end_s), (5.0, 80.0));
        assert_eq!(
            p.phases[1].ran.iter().map(|r| r.retry).collect::<Vec<_>>(),
            [false, true]
        );
        assert_eq!(p.phases[2].ran[0].command, "uv run pytest");
        assert_eq!(p.retries, 1);
        assert!((p.wasted_s - 75.0).abs() < 1e-9);
        assert_eq!(p.files.len(), 2);
        assert!((p.duration_s - 125.0).abs() < 1e-9);
    }

    #[test]
    fn test_commands_are_recognised_as_words() {
        assert!(is_test_or_build("cd app && python -m pytest -q"));
        assert!(is_test_or_build("cargo test --all"));
        assert!(is_test_or_build("make"));
        assert!(!is_test_or_build("ls pytest_helpers"));
        assert!(!is_test_or_build("cat makefile.bak"));
        assert!(!is_test_or_build("git status"));
    }
}
