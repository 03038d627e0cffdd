//! A standup report from a session, without an LLM: what was read and changed, which
//! approaches were tried (and abandoned), dependencies added, TODOs written, changes to review.

use serde::Serialize;

use super::ordered_set::OrderedSet;
use super::phases::{Moved, PhaseBuilder, Phases};
use crate::model::command::Verdict;
use crate::model::meta::Believed;
use crate::model::view::ToolCall;
use crate::model::{Agent, Event, SessionMeta, ToolKind};

#[derive(Debug, Clone, Serialize)]
pub struct Approach {
    pub label: String,
    pub outcome: &'static str,
    pub commands: Vec<String>,
    /// The command whose outcome is the approach's: its last test run, build or check that
    /// passed or failed (a phase named `build` may go on to `git log`, which says nothing of
    /// the build); `None` when it ran none.
    pub decided_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, Hash)]
pub struct Dependency {
    pub manager: String,
    pub package: String,
    pub command: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub path: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Review {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Standup {
    pub session_id: String,
    /// Unknown (`null`) when the session's recorded start is one no session can have.
    pub started_at: Believed<f64>,
    pub duration_s: Believed<f64>,
    pub files_read: Vec<String>,
    /// Files whose content was written.
    pub files_modified: Vec<String>,
    /// Files and folders deleted, and moved: none of them written.
    pub files_deleted: Vec<String>,
    pub files_moved: Vec<Moved>,
    pub approaches: Vec<Approach>,
    pub dependencies: Vec<Dependency>,
    pub manifests_changed: Vec<String>,
    pub todos: Vec<Note>,
    pub review: Vec<Review>,
    pub tool_calls: u64,
    pub retries: u64,
    /// Calls that failed, and the errors of no call (`turn_errors`), as `stats` counts them.
    pub errors: u64,
    /// Of `errors`, the calls' own.
    pub tool_errors: u64,
    /// Of `errors`, those of no call (an API error that ended a turn): the service's, not the
    /// work's.
    pub turn_errors: u64,
    /// Calls the user refused or stopped (not among `errors`).
    pub rejections: u64,
}

/// The outcome of an approach that failed, tried its goal again and passed in a later one.
pub const PASSED_LATER: &str = "failed, passed later";

/// Builds a [`Standup`] in one pass over a session's events.
pub struct StandupBuilder {
    agent: Agent,
    phases: PhaseBuilder,
    dependencies: OrderedSet<Dependency>,
    manifests: OrderedSet<String>,
    todos: Vec<Note>,
    review: Vec<Review>,
}

/// Lines past which one write is a large change worth a second look.
const LARGE_CHANGE_LINES: usize = 200;
/// TODO-style markers.
const MARKERS: [&str; 4] = ["TODO", "FIXME", "XXX", "HACK"];
/// Path words that make a change risky, with why.
const RISKY: [(&str, &str); 14] = [
    ("auth", "authentication"),
    ("login", "authentication"),
    ("password", "credentials"),
    ("secret", "credentials"),
    ("credential", "credentials"),
    ("token", "credentials"),
    ("crypto", "cryptography"),
    ("security", "security"),
    ("permission", "permissions"),
    ("migration", "database migration"),
    ("migrate", "database migration"),
    ("schema", "database schema"),
    (".env", "environment secrets"),
    (".github/workflows", "CI pipeline"),
];
const MANIFESTS: [&str; 12] = [
    "package.json",
    "Cargo.toml",
    "requirements.txt",
    "pyproject.toml",
    "go.mod",
    "Gemfile",
    "composer.json",
    "pom.xml",
    "build.gradle",
    "Pipfile",
    "setup.py",
    "mix.exs",
];
/// Package-manager commands that add dependencies: the words that start them, and the manager.
const INSTALLS: [(&[&str], &str); 14] = [
    (&["npm", "install"], "npm"),
    (&["npm", "i"], "npm"),
    (&["npm", "add"], "npm"),
    (&["yarn", "add"], "yarn"),
    (&["pnpm", "add"], "pnpm"),
    (&["pip", "install"], "pip"),
    (&["pip3", "install"], "pip"),
    (&["uv", "add"], "uv"),
    (&["uv", "pip", "install"], "uv"),
    (&["poetry", "add"], "poetry"),
    (&["cargo", "add"], "cargo"),
    (&["go", "get"], "go"),
    (&["gem", "install"], "gem"),
    (&["bundle", "add"], "bundler"),
];

impl StandupBuilder {
    /// A builder for the session `meta` describes (see [`PhaseBuilder::of`]).
    pub fn of(meta: &SessionMeta) -> StandupBuilder {
        let agent = Agent::from_name(&meta.agent_name);
        StandupBuilder {
            agent,
            phases: PhaseBuilder::of(meta),
            dependencies: OrderedSet::default(),
            manifests: OrderedSet::default(),
            todos: Vec::new(),
            review: Vec::new(),
        }
    }

    pub fn observe(&mut self, event: &Event) {
        self.phases.observe(event);
        let Some(call) = ToolCall::from_event(event, self.agent) else {
            return;
        };
        if let Some(command) = call.command_line() {
            for dep in dependencies_in(&command) {
                self.dependencies.insert(dep);
            }
        }
        if call.kind == ToolKind::WriteFile {
            let path = self.phases.relative(call.path().unwrap_or_default());
            let written: Vec<String> = call
                .written_texts()
                .into_iter()
                .map(str::to_owned)
                .collect();
            self.written(&path, &written);
        }
    }

    fn written(&mut self, path: &str, texts: &[String]) {
        let name = path.rsplit('/').next().unwrap_or(path);
        if MANIFESTS.iter().any(|m| {
            name == *m
                || (name.starts_with("requirements") && name.to_lowercase().ends_with(".txt"))
        }) {
            self.manifests.insert(path.to_owned());
        }
        let lower = path.to_lowercase();
        if let Some((_, why)) = RISKY.iter().find(|(word, _)| lower.contains(word))
            && !self
                .review
                .iter()
                .any(|r| r.path == path && r.reason == *why)
        {
            self.review.push(Review {
                path: path.to_owned(),
                reason: (*why).to_owned(),
            });
        }
        for text in texts {
            let lines = text.lines().count();
            if lines > LARGE_CHANGE_LINES {
                self.review.push(Review {
                    path: path.to_owned(),
                    reason: format!(
                        "large change ({} lines)",
                        crate::model::text::thousands(lines as u64)
                    ),
                });
            }
            for line in text.lines() {
                if MARKERS.iter().any(|m| contains_marker(line, m)) {
                    let text = crate::model::text::one_line(line.trim(), 120);
                    if !self.todos.iter().any(|t| t.path == path && t.text == text) {
                        self.todos.push(Note {
                            path: path.to_owned(),
                            text,
                        });
                    }
                }
            }
        }
    }

    pub fn finish(self, session_id: &str) -> Standup {
        let phases: Phases = self.phases.finish();
        let files_read = phases
            .files
            .iter()
            .filter(|f| f.reads > 0)
            .map(|f| f.path.clone())
            .collect();
        let files_modified = phases
            .files
            .iter()
            .filter(|f| f.writes > 0)
            .map(|f| f.path.clone())
            .collect();
        let files_deleted = phases
            .files
            .iter()
            .filter(|f| f.deletes > 0)
            .map(|f| f.path.clone())
            .collect();
        let files_moved = phases.moves().into_iter().cloned().collect();
        let approaches = phases
            .phases
            .iter()
            .map(|p| {
                let retried = p.ran.iter().any(|r| r.retry);
                let decider = p
                    .ran
                    .iter()
                    .rev()
                    .find(|r| {
                        r.purpose.gates()
                            && matches!(r.verdict, Some(Verdict::Passed | Verdict::Failed))
                    })
                    .or_else(|| p.ran.iter().rev().find(|r| p.failed && r.failed));
                // The phases split a retry loop at its first pass, so a failed phase's goal
                // may pass in the next one: that is no approach given up on.
                let passed_later = p.failed
                    && decider.is_some_and(|r| {
                        phases
                            .retry_loops
                            .iter()
                            .any(|l| l.resolved && l.attempts.contains(&r.event))
                    });
                let outcome = match (p.failed, retried) {
                    (true, _) if passed_later => PASSED_LATER,
                    (true, true) => "abandoned after retries",
                    (true, false) => "failed",
                    (false, true) => "succeeded after retries",
                    (false, false) => "done",
                };
                let decided_by = decider.map(|r| r.command.clone());
                Approach {
                    label: p.label.clone(),
                    outcome,
                    commands: p.ran.iter().map(|r| r.command.clone()).collect(),
                    decided_by,
                }
            })
            .collect();
        Standup {
            session_id: session_id.to_owned(),
            started_at: phases.started_at,
            duration_s: phases.duration_s,
            files_read,
            files_modified,
            files_deleted,
            files_moved,
            approaches,
            dependencies: self.dependencies.iter().cloned().collect(),
            manifests_changed: self.manifests.iter().cloned().collect(),
            todos: self.todos,
            review: self.review,
            tool_calls: phases.tool_calls,
            retries: phases.retries,
            errors: phases.errors,
            tool_errors: phases.tool_errors,
            turn_errors: phases.turn_errors.len() as u64,
            rejections: phases.rejections,
        }
    }
}

/// A marker as a word of its own (`TODO:`, `// FIXME`), not inside another word (`TODOS`).
fn contains_marker(line: &str, marker: &str) -> bool {
    line.match_indices(marker).any(|(i, _)| {
        let after = line[i + marker.len()..].chars().next();
        let before = line[..i].chars().next_back();
        after.is_none_or(|c| !c.is_alphanumeric()) && before.is_none_or(|c| !c.is_alphanumeric())
    })
}

/// The packages a shell command adds, one command of a `&&` / `;` chain at a time.
pub fn dependencies_in(command: &str) -> Vec<Dependency> {
    let mut found = Vec::new();
    for part in command.split(['&', ';', '|', '\n']) {
        let words: Vec<&str> = part.split_whitespace().collect();
        for (prefix, manager) in INSTALLS {
            // The manager may follow `sudo`, `python -m` and the like.
            let Some(start) = (0..words.len()).find(|&i| words[i..].starts_with(prefix)) else {
                continue;
            };
            for word in &words[start + prefix.len()..] {
                if word.starts_with('-')
                    || word.contains('=') && !word.contains("==")
                    || word.starts_with('$')
                {
                    continue;
                }
                let package = word.trim_matches(|c| c == '"' || c == '\'');
                if !package.is_empty() && !found.iter().any(|d: &Dependency| d.package == package) {
                    found.push(Dependency {
                        manager: manager.to_owned(),
                        package: package.to_owned(),
                        command: part.trim().to_owned(),
                    });
                }
            }
            break;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_commands_name_their_packages() {
        let deps = dependencies_in(
            "cd app && npm install --save-dev left-pad jest && pip install requests==2.31 -q",
        );
        let names: Vec<(&str, &str)> = deps
            .iter()
            .map(|d| (d.manager.as_str(), d.package.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("npm", "left-pad"),
                ("npm", "jest"),
                ("pip", "requests==2.31")
            ]
        );
        assert!(dependencies_in("npm install").is_empty());
        assert!(dependencies_in("npm test && cargo build").is_empty());
        assert_eq!(
            dependencies_in("sudo python3 -m pip install rich")[0].package,
            "rich"
        );
    }

    #[test]
    fn markers_are_whole_words() {
        assert!(contains_marker("    # TODO: handle timeouts", "TODO"));
        assert!(contains_marker("// FIXME", "FIXME"));
        assert!(!contains_marker("let TODOS = 3;", "TODO"));
    }
}
