//! What a shell command was and what came back: a test run, a build, a check or a commit, and
//! whether it failed — by the command's words and its output, not by the exit code alone.
//!
//! A non-zero exit is not always a failure: `grep` finding nothing, `test -f` answering no,
//! `git commit` with nothing to commit, `diff` finding differences are answers. And a zero exit
//! is not always a pass: `mix test 2>&1 | tail -5` exits as `tail` does, so the runner's own
//! summary ("3 tests, 1 failure") decides. [`judge`] reads both; [`goal`] names what a command
//! tries to achieve, so that `explain` can tell a retry of the same goal (the same tests after a
//! fix, one commit blocked by its hook after another) from new work.
//!
//! The rules are general: they know the common runners, build tools and linters by name and
//! their summaries by shape, never one project's commands.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Regex, RegexSet};
use serde::{Deserialize, Serialize};

use super::ToolOutcome;

/// What a command is for, from weakest to strongest: a compound command takes its strongest
/// part's purpose (`cd app && npm test` runs tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    Other,
    Commit,
    /// A linter, formatter check or type checker.
    Check,
    Build,
    Test,
}

impl Purpose {
    /// Whether its outcome says whether the work passes (tests, builds and checks do).
    pub fn gates(self) -> bool {
        matches!(self, Purpose::Test | Purpose::Build | Purpose::Check)
    }

    /// Whether a result with `outcome` of a command for this purpose is judged without the
    /// command's words: all but a failed command for no test, build, check or commit, whose
    /// words tell an answer from a failure (`grep` finding nothing).
    pub fn judges_alone(self, outcome: ToolOutcome) -> bool {
        self != Purpose::Other || outcome != ToolOutcome::Failed
    }
}

/// How a command ended, read from what it was and what came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    Failed,
    /// A non-zero exit that answers a question (no match, nothing to commit, a condition that
    /// does not hold): no failure.
    Answered,
    /// The user refused or stopped it.
    Rejected,
}

/// What [`judge`] decided about one command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Judgement {
    pub purpose: Purpose,
    pub verdict: Verdict,
    /// Why, in a few words: `no match`, `nothing to commit`, `3 failed`, `exit 2` …
    pub note: Option<String>,
    /// A commit refused by the checks its hook runs.
    pub blocked_by_hook: bool,
}

impl Judgement {
    /// What this run says about whether the work passes its tests, build and checks:
    /// `Some(true)`, `Some(false)`, or `None` when it says nothing about that.
    pub fn gate(&self) -> Option<bool> {
        match self.verdict {
            Verdict::Passed if self.purpose.gates() => Some(true),
            Verdict::Failed if self.purpose.gates() || self.blocked_by_hook => Some(false),
            _ => None,
        }
    }

    fn new(purpose: Purpose, verdict: Verdict, note: Option<String>) -> Judgement {
        Judgement {
            purpose,
            verdict,
            note,
            blocked_by_hook: false,
        }
    }
}

/// Judges a shell command from its text, how the tool call ended, and its output (the error
/// text of a failed call, stdout and stderr of a finished one).
pub fn judge(command: &str, outcome: ToolOutcome, output: &str) -> Judgement {
    Command::parse(command).judge(outcome, output)
}

/// What a run of a command for `purpose` says of whether the work passes ([`Judgement::gate`]),
/// from how its call ended and its output: that takes the command's purpose and nothing else of
/// it, so a caller waiting for the result keeps the purpose, not the command (which may be a
/// megabyte of heredoc).
pub fn gate(purpose: Purpose, outcome: ToolOutcome, output: &str) -> Option<bool> {
    judge_by_purpose(purpose, outcome, output).gate()
}

/// Judges a result from its command's purpose alone, where that is all [`judge`] reads of the
/// command ([`Purpose::judges_alone`]): a caller waiting for a result keeps the purpose, and
/// parses the command again only for the results whose judging reads its words.
pub fn judge_by_purpose(purpose: Purpose, outcome: ToolOutcome, output: &str) -> Judgement {
    let of_purpose = Command {
        segments: Vec::new(),
        purpose,
        goal: String::new(),
    };
    judge_parsed(&of_purpose, outcome, output)
}

/// What a command is for.
pub fn purpose(command: &str) -> Purpose {
    Command::parse(command).purpose
}

/// What a command tries to achieve: equal for attempts at the same thing. Tests, builds and
/// checks are named by their runner (`pytest` whether run as `python -m pytest -x` or
/// `uv run pytest tests/`), a commit is a commit whatever its message or flags, and anything
/// else by its words without output filters (`| tail -5`), redirections or `cd`.
pub fn goal(command: &str) -> String {
    Command::parse(command).goal
}

/// A shell command parsed once, for its purpose, its goal and judging its result.
#[derive(Debug, Clone)]
pub struct Command {
    segments: Vec<Segment>,
    /// What it is for.
    pub purpose: Purpose,
    /// What it tries to achieve (see [`goal`]).
    pub goal: String,
}

impl Command {
    pub fn parse(command: &str) -> Command {
        Command::parse_without_heredoc_bodies(&without_heredoc_bodies(command))
    }

    /// [`Command::parse`] of a command whose here-document bodies are already taken out
    /// ([`without_heredoc_bodies`]), which a caller keeping that text need not do twice.
    pub fn parse_without_heredoc_bodies(command: &str) -> Command {
        let segments: Vec<Segment> = split(command)
            .into_iter()
            .map(|(words, piped)| {
                let words = unwrap(words);
                let class = classify(&words);
                Segment {
                    words,
                    piped,
                    class,
                }
            })
            .filter(|s| !s.words.is_empty())
            .collect();
        let purpose = segments
            .iter()
            .filter_map(|s| s.class.as_ref().map(|c| c.0))
            .max()
            .unwrap_or(Purpose::Other);
        let goal = goal_of(&segments, command);
        Command {
            segments,
            purpose,
            goal,
        }
    }

    /// Judges the command's result: how the tool call ended, and its output.
    pub fn judge(&self, outcome: ToolOutcome, output: &str) -> Judgement {
        judge_parsed(self, outcome, output)
    }
}

fn judge_parsed(parsed: &Command, outcome: ToolOutcome, output: &str) -> Judgement {
    let purpose = parsed.purpose;
    if outcome == ToolOutcome::Rejected {
        return Judgement::new(purpose, Verdict::Rejected, None);
    }
    let failed = outcome == ToolOutcome::Failed;
    let code = exit_code(output);
    let body = body_of(output);
    let exit_note = code.map(|c| format!("exit {c}"));
    match purpose {
        Purpose::Test | Purpose::Build | Purpose::Check => match summary(output) {
            Some(Summary::Failed(note)) => Judgement::new(purpose, Verdict::Failed, Some(note)),
            Some(Summary::NothingRan) => {
                Judgement::new(purpose, Verdict::Answered, Some("no tests ran".to_owned()))
            }
            _ if failed => Judgement::new(purpose, Verdict::Failed, exit_note),
            Some(Summary::Passed(note)) => Judgement::new(purpose, Verdict::Passed, Some(note)),
            _ => Judgement::new(purpose, Verdict::Passed, None),
        },
        Purpose::Commit if failed => {
            let lower = body.to_lowercase();
            if NOTHING_TO_COMMIT.iter().any(|p| lower.contains(p)) {
                Judgement::new(
                    purpose,
                    Verdict::Answered,
                    Some("nothing to commit".to_owned()),
                )
            } else if HOOK_BLOCK.iter().any(|p| lower.contains(p)) {
                Judgement {
                    blocked_by_hook: true,
                    ..Judgement::new(
                        purpose,
                        Verdict::Failed,
                        Some("blocked by its hook's checks".to_owned()),
                    )
                }
            } else {
                Judgement::new(purpose, Verdict::Failed, exit_note)
            }
        }
        _ if failed => match parsed.answer(code, body) {
            Some(note) => Judgement::new(purpose, Verdict::Answered, Some(note.to_owned())),
            None => Judgement::new(purpose, Verdict::Failed, exit_note),
        },
        _ => Judgement::new(purpose, Verdict::Passed, None),
    }
}

fn goal_of(segments: &[Segment], command: &str) -> String {
    if let Some((purpose, runner)) = segments
        .iter()
        .filter_map(|s| s.class.as_ref())
        .max_by_key(|(purpose, _)| *purpose)
        && *purpose > Purpose::Other
    {
        return format!("{purpose:?}: {runner}").to_lowercase();
    }
    let words: Vec<String> = segments
        .iter()
        .filter(|s| !(s.piped && is_filter(&s.words)) && s.words.first().is_some_and(|w| w != "cd"))
        .map(|s| s.words.join(" "))
        .filter(|s| !s.is_empty())
        .collect();
    if words.is_empty() {
        command.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        words.join(" && ")
    }
}

/// The exit code Claude Code puts on the first line of a failed command's result
/// (`Exit code 2`), if it is there.
pub fn exit_code(output: &str) -> Option<i64> {
    let first = output.trim_start().lines().next()?;
    let first = first.strip_prefix("Error: ").unwrap_or(first);
    first.strip_prefix("Exit code ")?.trim().parse().ok()
}

/// The output without the exit-code line.
fn body_of(output: &str) -> &str {
    let trimmed = output.trim_start();
    if exit_code(trimmed).is_some() {
        trimmed.split_once('\n').map_or("", |(_, rest)| rest).trim()
    } else {
        trimmed.trim_end()
    }
}

const NOTHING_TO_COMMIT: [&str; 4] = [
    "nothing to commit",
    "nothing added to commit",
    "no changes added to commit",
    "nothing to amend",
];

/// What a commit's refusal says when its hook (or a hook of the agent's) ran checks that
/// failed.
const HOOK_BLOCK: [&str; 5] = [
    "pre-commit",
    "commit-msg",
    "hook",
    "validation failed",
    "lint-staged",
];

/// One simple command: its words (quotes removed, redirections, environment assignments and
/// wrappers such as `sudo`, `timeout 60`, `uv run` or `python -m` dropped).
#[derive(Debug, Clone)]
struct Segment {
    words: Vec<String>,
    /// It reads the output of the one before it (`a | b`).
    piped: bool,
    /// What it is for and the words that name its runner, when it is more than `Other`.
    class: Option<(Purpose, String)>,
}

impl Command {
    /// When a failed command's exit is an answer rather than a failure, what it answered.
    fn answer(&self, code: Option<i64>, body: &str) -> Option<&'static str> {
        // Exit codes above 1 are errors for every command below (grep's 2, diff's 2 …).
        if code.is_some_and(|c| c != 1) {
            return None;
        }
        let last = self.segments.last()?;
        let program = last.words.first().map(String::as_str)?;
        let silent = body.is_empty();
        // `grep -c` prints its count, 0, and exits 1.
        let zero_count = !body.is_empty() && body.lines().all(|l| l.trim().ends_with('0'));
        match program {
            _ if is_search(&last.words) && (silent || zero_count) => return Some("no match"),
            "diff" | "cmp" | "colordiff" => return Some("differences found"),
            "git" if last.words.iter().any(|w| w == "diff") => {
                return Some("differences found");
            }
            "which" | "type" | "whereis" => return Some("not found"),
            "command" if last.words.get(1).is_some_and(|w| w == "-v") => {
                return Some("not found");
            }
            "pgrep" if silent => return Some("no such process"),
            _ => {}
        }
        // A question earlier in a `&&` chain that answered no: nothing ran after it and
        // nothing was printed (`test -f x && cat x`, `grep -q x f && echo found`).
        if silent {
            for segment in &self.segments {
                if is_condition(&segment.words) {
                    return Some("condition not met");
                }
                if is_search(&segment.words) {
                    return Some("no match");
                }
            }
        }
        None
    }
}

fn is_condition(words: &[String]) -> bool {
    words
        .first()
        .is_some_and(|w| matches!(w.as_str(), "test" | "[" | "[[" | "false"))
}

fn is_search(words: &[String]) -> bool {
    match words.first().map(String::as_str) {
        Some("grep" | "egrep" | "fgrep" | "rg" | "ag" | "ack" | "zgrep") => true,
        Some("git") => words.get(1).is_some_and(|w| w == "grep"),
        _ => false,
    }
}

/// Commands that only filter or show what a pipe hands them.
fn is_filter(words: &[String]) -> bool {
    words.first().is_some_and(|w| {
        matches!(
            w.as_str(),
            "head"
                | "tail"
                | "grep"
                | "egrep"
                | "rg"
                | "less"
                | "more"
                | "cat"
                | "tee"
                | "wc"
                | "sort"
                | "uniq"
                | "cut"
                | "tr"
                | "sed"
                | "awk"
                | "jq"
                | "column"
                | "xargs"
        )
    })
}

/// Removes the bodies of here-documents (a commit message written with `<<'EOF'`), which are
/// text, not commands.
pub fn without_heredoc_bodies(command: &str) -> Cow<'_, str> {
    static HEREDOC: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"<<-?\s*['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?"#).expect("a valid pattern")
    });
    if !command.contains("<<") {
        return Cow::Borrowed(command);
    }
    let mut out = String::with_capacity(command.len());
    let mut lines = command.split('\n');
    while let Some(line) = lines.next() {
        out.push_str(line);
        out.push('\n');
        let delimiters: Vec<String> = HEREDOC
            .captures_iter(line)
            .map(|c| c[1].to_owned())
            .collect();
        for delimiter in delimiters {
            for body in lines.by_ref() {
                if body.trim() == delimiter {
                    break;
                }
            }
        }
    }
    Cow::Owned(out)
}

/// Splits a command into simple commands at `&&`, `||`, `;`, `|`, `&`, newlines and
/// parentheses, outside quotes; drops redirections and comments. Returns each command's words
/// and whether it reads a pipe.
fn split(command: &str) -> Vec<(Vec<String>, bool)> {
    let mut segments = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut piped = false;
    let mut chars = command.chars().peekable();
    let end_word = |words: &mut Vec<String>, word: &mut String, in_word: &mut bool| {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                word.push(n);
                            }
                        }
                        _ => word.push(q),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(n) => {
                    in_word = true;
                    word.push(n);
                }
            },
            '#' if !in_word => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                end_word(&mut words, &mut word, &mut in_word);
                segments.push((std::mem::take(&mut words), piped));
                piped = false;
            }
            '>' | '<' => {
                // A file descriptor number right before it (`2>`) belongs to the redirection.
                if in_word && word.chars().all(|d| d.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                }
                end_word(&mut words, &mut word, &mut in_word);
                while chars.next_if(|n| matches!(n, '>' | '<' | '&')).is_some() {}
                while chars.next_if(|n| *n == ' ' || *n == '\t').is_some() {}
                // The target: a file, `&1`, or a quoted name.
                let mut quote = None;
                while let Some(&n) = chars.peek() {
                    if let Some(q) = quote {
                        if n == q {
                            quote = None;
                        }
                    } else if n == '\'' || n == '"' {
                        quote = Some(n);
                    } else if n.is_whitespace() || matches!(n, ';' | '|' | '&' | ')') {
                        break;
                    }
                    chars.next();
                }
            }
            '&' if chars.peek() == Some(&'>') => {
                // `&>file`: both streams to a file.
                chars.next();
                while chars.next_if(|n| *n == '>').is_some() {}
                while chars.next_if(|n| *n == ' ').is_some() {}
                while chars.next_if(|n| !n.is_whitespace()).is_some() {}
            }
            ';' | '&' | '|' | '\n' | '(' | ')' => {
                end_word(&mut words, &mut word, &mut in_word);
                let pipe = c == '|' && chars.peek() != Some(&'|');
                if matches!(c, '&' | '|') {
                    chars.next_if(|n| *n == c);
                }
                if !words.is_empty() {
                    segments.push((std::mem::take(&mut words), piped));
                }
                piped = pipe;
            }
            c if c.is_whitespace() => end_word(&mut words, &mut word, &mut in_word),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut words, &mut word, &mut in_word);
    if !words.is_empty() {
        segments.push((words, piped));
    }
    segments.retain(|(w, _)| !w.is_empty());
    segments
}

/// Drops what runs a command rather than being it: environment assignments, `sudo`, `time`,
/// `timeout 60`, `npx`, `uv run`, `bundle exec`, `python -m` and the like; a program named by
/// its path is named by its file name.
fn unwrap(mut words: Vec<String>) -> Vec<String> {
    loop {
        let before = words.len();
        while words.first().is_some_and(|w| is_assignment(w)) {
            words.remove(0);
        }
        let Some(first) = words.first().cloned() else {
            return words;
        };
        let name = first.rsplit('/').next().unwrap_or(&first).to_owned();
        if name != first && !name.is_empty() {
            words[0].clone_from(&name);
        }
        let skip = match name.as_str() {
            "sudo" | "time" | "nice" | "nohup" | "exec" | "env" | "xvfb-run" | "stdbuf"
            | "unbuffer" | "caffeinate" | "npx" | "pnpx" | "bunx" => 1 + flags_after(&words, 1),
            "command" if words.get(1).is_some_and(|w| !w.starts_with('-')) => 1,
            "timeout" | "gtimeout" => {
                let flags = flags_after(&words, 1);
                (2 + flags).min(words.len())
            }
            "uv" | "poetry" | "pipenv" | "pdm" | "hatch" | "rye" | "conda"
                if words.get(1).is_some_and(|w| w == "run") =>
            {
                2 + flags_after(&words, 2)
            }
            "bundle" | "pnpm" | "yarn" | "npm" if words.get(1).is_some_and(|w| w == "exec") => {
                2 + flags_after(&words, 2)
            }
            n if is_python(n) => match words.get(1).map(String::as_str) {
                Some("-m") => 2,
                _ => 0,
            },
            _ => 0,
        };
        words.drain(..skip.min(words.len()));
        if words.len() == before {
            return words;
        }
    }
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
    })
}

fn is_python(name: &str) -> bool {
    name == "python"
        || name
            .strip_prefix("python")
            .is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// How many flags follow position `from`.
fn flags_after(words: &[String], from: usize) -> usize {
    words
        .iter()
        .skip(from)
        .take_while(|w| w.starts_with('-'))
        .count()
}

/// The first word after the program that is not a flag (nor a flag's value for the few
/// flags that take one: `git -C dir`, `make -C dir`, `mvn -f pom.xml`).
fn subcommand(words: &[String]) -> Option<&str> {
    let mut i = 1;
    while let Some(w) = words.get(i) {
        if matches!(
            w.as_str(),
            "-C" | "-c" | "-f" | "-p" | "-F" | "--prefix" | "--cwd" | "--filter" | "-w"
        ) {
            i += 2;
        } else if w.starts_with('-') {
            i += 1;
        } else {
            return Some(w);
        }
    }
    None
}

/// What a simple command is for, and the words naming its runner.
fn classify(words: &[String]) -> Option<(Purpose, String)> {
    let program = words.first()?.to_lowercase();
    let sub = subcommand(words).map(str::to_lowercase);
    let sub = sub.as_deref().unwrap_or("");
    let has = |flag: &str| {
        words
            .iter()
            .any(|w| w == flag || w.starts_with(&format!("{flag}=")))
    };
    let named = |p: Purpose| Some((p, program.clone()));
    let with_sub = |p: Purpose| Some((p, format!("{program} {sub}")));
    let script = |name: &str| -> Option<Purpose> {
        let name = name.split(':').next().unwrap_or(name);
        if name.starts_with("test") || name.starts_with("e2e") || name == "spec" {
            Some(Purpose::Test)
        } else if name.starts_with("build") || name == "compile" {
            Some(Purpose::Build)
        } else if name.starts_with("lint")
            || name.starts_with("typecheck")
            || name.starts_with("type-check")
            || name.starts_with("check")
            || name == "format:check"
            || name == "fmt:check"
        {
            Some(Purpose::Check)
        } else {
            None
        }
    };
    match program.as_str() {
        // The shell's `test` (and a script of that name, which cannot be told from it).
        "test" | "[" | "[[" => None,
        "pytest" | "py.test" | "jest" | "vitest" | "mocha" | "rspec" | "phpunit" | "ctest"
        | "tox" | "nox" | "karma" | "ava" | "nose2" | "nosetests" | "unittest" | "behave"
        | "cucumber" | "cucumber-js" | "jasmine" | "pest" | "bats" => named(Purpose::Test),
        "playwright" | "rails" | "ng" if sub == "test" => with_sub(Purpose::Test),
        "cypress" if sub == "run" => with_sub(Purpose::Test),
        "cargo" => match sub {
            "test" | "t" | "nextest" | "bench" => with_sub(Purpose::Test),
            "build" | "b" | "check" | "c" | "doc" => with_sub(Purpose::Build),
            "clippy" => with_sub(Purpose::Check),
            "fmt" if has("--check") => with_sub(Purpose::Check),
            _ => None,
        },
        "go" => match sub {
            "test" => with_sub(Purpose::Test),
            "build" | "install" => with_sub(Purpose::Build),
            "vet" => with_sub(Purpose::Check),
            _ => None,
        },
        "mix" => match sub {
            "test" => with_sub(Purpose::Test),
            "compile" => with_sub(Purpose::Build),
            "credo" | "dialyzer" | "sobelow" => with_sub(Purpose::Check),
            "format" if has("--check-formatted") => with_sub(Purpose::Check),
            _ => None,
        },
        "npm" | "yarn" | "pnpm" | "bun" => {
            let name = if matches!(sub, "run" | "run-script") {
                words
                    .iter()
                    .skip_while(|w| !matches!(w.as_str(), "run" | "run-script"))
                    .nth(1)
                    .map(|s| s.to_lowercase())
                    .unwrap_or_default()
            } else {
                sub.to_owned()
            };
            let purpose = match name.as_str() {
                "t" | "tst" => Some(Purpose::Test),
                "test" if program == "bun" => Some(Purpose::Test),
                _ => script(&name),
            }?;
            Some((purpose, format!("{program} {name}")))
        }
        "deno" | "swift" | "dotnet" | "flutter" | "dart" | "zig" | "stack" | "cabal" | "sbt"
        | "lein" | "elm" | "bazel" | "buck" | "pants" => match sub {
            "test" => with_sub(Purpose::Test),
            "build" | "compile" | "make" => {
                if words.iter().any(|w| w == "test") {
                    Some((Purpose::Test, format!("{program} {sub} test")))
                } else {
                    with_sub(Purpose::Build)
                }
            }
            "check" | "lint" | "analyze" | "fmt" if program != "zig" => {
                if sub == "fmt" && !has("--check") {
                    None
                } else {
                    with_sub(Purpose::Check)
                }
            }
            _ => None,
        },
        "mvn" | "mvnw" | "gradle" | "gradlew" => {
            let program = program.trim_end_matches('w').to_owned();
            match sub {
                "test" | "verify" | "check" | "integrationtest" => {
                    Some((Purpose::Test, format!("{program} {sub}")))
                }
                "compile" | "package" | "install" | "build" | "assemble" | "compilejava"
                | "jar" => Some((Purpose::Build, format!("{program} {sub}"))),
                _ => None,
            }
        }
        "make" | "gmake" | "just" | "task" | "rake" => match sub {
            "test" | "tests" | "check" | "spec" | "unit" | "integration" | "e2e" => {
                with_sub(Purpose::Test)
            }
            "lint" | "fmt-check" | "format-check" | "typecheck" | "vet" => with_sub(Purpose::Check),
            "" if program == "make" || program == "gmake" => named(Purpose::Build),
            "build" | "all" | "compile" | "release" | "debug" => with_sub(Purpose::Build),
            _ => None,
        },
        "tsc" | "vue-tsc" | "ninja" | "javac" | "rustc" | "webpack" | "rollup" | "esbuild"
        | "gcc" | "g++" | "clang" | "clang++" => named(Purpose::Build),
        "cmake" if has("--build") => named(Purpose::Build),
        "next" | "vite" | "nuxt" | "astro" | "ng" | "docker" | "podman" if sub == "build" => {
            with_sub(Purpose::Build)
        }
        "eslint" | "flake8" | "pylint" | "mypy" | "pyright" | "golangci-lint" | "staticcheck"
        | "rubocop" | "shellcheck" | "hadolint" | "stylelint" | "tflint" | "ktlint"
        | "swiftlint" | "clang-tidy" | "cpplint" | "markdownlint" | "yamllint" | "credo" => {
            named(Purpose::Check)
        }
        "ruff" if sub != "format" || has("--check") => named(Purpose::Check),
        "black" | "isort" | "prettier" | "gofmt" | "rustfmt" | "biome"
            if has("--check")
                || has("-c")
                || has("-l")
                || matches!(sub, "check" | "lint" | "ci") =>
        {
            named(Purpose::Check)
        }
        "pre-commit" if sub == "run" => with_sub(Purpose::Check),
        "git" if sub == "commit" => Some((Purpose::Commit, "git commit".to_owned())),
        // A project's own test script: `./run_tests.sh`, `bash scripts/test.sh`, `./test`.
        "bash" | "sh" | "zsh" => {
            let script = words.get(1)?;
            let name = script.rsplit('/').next().unwrap_or(script).to_lowercase();
            is_test_script(&name).then_some((Purpose::Test, name))
        }
        name if is_test_script(name) => named(Purpose::Test),
        _ => None,
    }
}

/// A script whose name says it runs tests.
fn is_test_script(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name);
    (std::path::Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("sh"))
        || !name.contains('.'))
        && (stem == "test"
            || stem == "tests"
            || stem.starts_with("run_test")
            || stem.starts_with("run-test")
            || stem.starts_with("test_all")
            || stem.starts_with("test-all")
            || stem.ends_with("_tests")
            || stem.ends_with("-tests"))
}

/// What a test runner's, compiler's or linter's summary says.
#[derive(Debug, PartialEq)]
enum Summary {
    Passed(String),
    Failed(String),
    /// A runner that found nothing to run (pytest's exit 5).
    NothingRan,
}

/// A pattern that says a run failed: a regex, the capture holding a count that must not be
/// zero (0 when there is none), and how the note reads (`{}` is the count).
struct Signal {
    pattern: &'static str,
    count: usize,
    note: &'static str,
}

const fn signal(pattern: &'static str, count: usize, note: &'static str) -> Signal {
    Signal {
        pattern,
        count,
        note,
    }
}

/// Failure summaries of common runners and compilers, matched line by line.
const FAILURES: [Signal; 27] = [
    // pytest: `==== 2 failed, 10 passed in 1.23s ====`, `1 error in 0.5s`.
    signal(r"\b(\d+) failed\b.*\bin [\d.]+s\b", 1, "{} failed"),
    signal(r"\b(\d+) errors? in [\d.]+s\b", 1, "{} errors"),
    signal(r"^(?:=+ )?ERRORS? (?:collecting|=)", 0, "collection errors"),
    // cargo test.
    signal(r"^test result: FAILED\b", 0, "tests failed"),
    signal(
        r"^error(?:\[E\d+\])?: (?:could not compile|test failed)",
        0,
        "did not compile",
    ),
    signal(r"^error\[E\d+\]", 0, "did not compile"),
    // jest, vitest, bun, deno: `Tests:  1 failed, 2 passed`, ` Tests  1 failed | 2 passed`.
    signal(r"^\s*Tests?:?\s+(\d+) failed\b", 1, "{} failed"),
    signal(
        r"^\s*Test (?:Suites|Files):?\s+(\d+) failed\b",
        1,
        "{} test files failed",
    ),
    signal(r"^\s*(\d+) fail\b", 1, "{} failed"),
    signal(r"^FAILED \| \d+ passed \| (\d+) failed", 1, "{} failed"),
    // mocha: `3 failing`.
    signal(r"^\s*(\d+) failing\b", 1, "{} failing"),
    // go test, jest per file.
    signal(r"^(?:--- FAIL|FAIL)\b", 0, "tests failed"),
    // mix, rspec, minitest: `3 tests, 1 failure`, `5 examples, 2 failures`.
    signal(
        r"\b\d+ (?:tests?|examples?|properties|doctests?), (\d+) failures?\b",
        1,
        "{} failed",
    ),
    signal(
        r"\b\d+ runs?, \d+ assertions?, (\d+) failures?, (\d+) errors?",
        1,
        "{} failed",
    ),
    // unittest: `FAILED (failures=2, errors=1)`.
    signal(r"^FAILED \((?:failures|errors)=(\d+)", 1, "{} failed"),
    // phpunit, ctest, dotnet, swift.
    signal(r"^(?:FAILURES|ERRORS)!$", 0, "tests failed"),
    signal(r"\btests? failed out of \d+", 0, "tests failed"),
    signal(r"^\s*Failed!\s+-\s+Failed:\s+(\d+)", 1, "{} failed"),
    signal(r"Executed \d+ tests?, with (\d+) failures?", 1, "{} failed"),
    // Maven, Gradle, npm, make.
    signal(
        r"^\[ERROR\] BUILD FAILURE|^BUILD FAILED\b|^FAILURE: Build failed",
        0,
        "build failed",
    ),
    signal(
        r"^npm ERR! (?:Test failed|code ELIFECYCLE)|^npm error code",
        0,
        "script failed",
    ),
    signal(r"^(?:g?make(?:\[\d+\])?): \*\*\* ", 0, "make failed"),
    // Compilers and type checkers: tsc, mix compile, Python, Go.
    signal(r"\berror TS\d+:", 0, "type errors"),
    signal(
        r"^\*\* \((?:CompileError|SyntaxError|TokenMissingError|MismatchedDelimiterError)",
        0,
        "did not compile",
    ),
    signal(r"^== Compilation error", 0, "did not compile"),
    // Linters and type checkers: `Found 3 errors.`, mypy, eslint's `✖ 3 problems`.
    signal(r"^Found (\d+) errors?\b", 1, "{} errors"),
    signal(r"^✖ (\d+) problems? \((\d+) errors?", 2, "{} errors"),
];

/// Pass summaries, so that a run whose exit status was lost in a pipe is known to have passed.
const PASSES: [&str; 12] = [
    r"\b\d+ passed\b.*\bin [\d.]+s\b",
    r"^test result: ok\b",
    r"^\s*Tests?:?\s+\d+ passed\b",
    r"\b\d+ (?:tests?|examples?|properties|doctests?), 0 failures\b",
    r"^ok\s+\S+",
    r"^PASS$",
    r"^OK(?: \(\d+ tests?)?",
    r"^\s*\d+ passing\b",
    r"\b100% tests passed\b",
    r"^\[INFO\] BUILD SUCCESS|^BUILD SUCCESSFUL\b",
    r"^Passed!\s+-\s+Failed:\s+0\b",
    r"^Success: no issues found",
];

const NOTHING_RAN: [&str; 2] = [r"\bno tests ran\b", r"^collected 0 items"];

/// A pattern as compiled: line anchors, and ASCII word boundaries. Unicode ones keep the regex
/// engine off its fast path on output with any non-ASCII text (test output often has some), and
/// every word the patterns look for is ASCII.
fn prepare(pattern: &str) -> String {
    format!("(?m){}", pattern.replace(r"\b", r"(?-u:\b)"))
}

/// What the output's summaries say; failures win over passes, as a run with one failing
/// suite failed.
fn summary(output: &str) -> Option<Summary> {
    static COMPILED: LazyLock<(RegexSet, Vec<Regex>, Regex, Regex)> = LazyLock::new(|| {
        let patterns: Vec<String> = FAILURES.iter().map(|s| prepare(s.pattern)).collect();
        let set = RegexSet::new(&patterns).expect("valid patterns");
        let failures = patterns
            .iter()
            .map(|p| Regex::new(p).expect("a valid pattern"))
            .collect();
        let passes = Regex::new(&prepare(&PASSES.join("|"))).expect("a valid pattern");
        let nothing = Regex::new(&prepare(&NOTHING_RAN.join("|"))).expect("a valid pattern");
        (set, failures, passes, nothing)
    });
    let (set, failures, passes, nothing) = &*COMPILED;
    // One pass finds which failure patterns occur at all; only those are read for counts.
    for i in &set.matches(output) {
        let (signal, regex) = (&FAILURES[i], &failures[i]);
        for captures in regex.captures_iter(output) {
            if signal.count == 0 {
                return Some(Summary::Failed(signal.note.to_owned()));
            }
            let count = captures
                .get(signal.count)
                .and_then(|m| m.as_str().parse::<u64>().ok())
                .unwrap_or(0);
            // minitest counts failures and errors apart.
            let errors = captures
                .get(signal.count + 1)
                .and_then(|m| m.as_str().parse::<u64>().ok())
                .unwrap_or(0);
            if count + errors > 0 {
                return Some(Summary::Failed(
                    signal.note.replace("{}", &(count + errors).to_string()),
                ));
            }
        }
    }
    if nothing.is_match(output) {
        return Some(Summary::NothingRan);
    }
    passes
        .find_iter(output)
        .last()
        .map(|m| Summary::Passed(crate::model::text::one_line(m.as_str(), 60)))
}

#[cfg(test)]
mod tests;
