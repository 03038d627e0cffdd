//! The test environment: a temporary store and a way to run the binary against it.

#![allow(dead_code, unreachable_pub)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use agent_strace::model::Event;
use serde_json::{Value, json};

pub mod anonymize;
pub mod browser;
pub mod deep;
/// The bench's session generator, for the tests that need a big store (no copy of it here).
#[path = "../../benches/figures/generator.rs"]
pub mod generator;
pub mod net;
pub mod session;
pub mod wait;

pub use session::SessionBuilder;

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_agent-strace"))
}

/// A value nested `levels` arrays deep around one string, as a model's arguments can nest.
pub fn nested(levels: usize) -> Value {
    (0..levels).fold(json!("bottom"), |inner, _| json!([inner]))
}

/// The shared folder beside the repository (corpus, reference).
pub fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("shared")
}

/// The store of the workspace `name` of `env`'s store, where the Python tool records with
/// `AGENT_STRACE_WORKSPACE=<name>` set.
pub fn workspace_store(env: &TestEnv, name: &str) -> PathBuf {
    env.store().join("workspaces").join(name)
}

/// A temporary working directory with its own `.agent-traces` store, and a user-level home
/// of its own (`AGENT_STRACE_HOME`), so that no test writes the real home's catalogue.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub home: tempfile::TempDir,
}

/// What a run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// What a finished command did.
    pub fn of(output: Output) -> Run {
        Run::from(output)
    }

    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }

    /// The `session_id` of each report in the JSON list printed (`import`, `lint` with
    /// `--format json`), in order.
    #[track_caller]
    pub fn session_ids(&self) -> Vec<String> {
        let reports = self.json();
        let Some(reports) = reports.as_array() else {
            panic!("not a JSON list: {}", self.stdout)
        };
        reports
            .iter()
            .map(|r| r["session_id"].as_str().unwrap().to_owned())
            .collect()
    }

    #[track_caller]
    pub fn success(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts the run exited with `code` and said `text` on stderr.
    #[track_caller]
    pub fn fails_with(&self, code: i32, text: &str) -> &Self {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(self.stderr.contains(text), "{}", self.stderr);
        self
    }
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv {
            dir: tempfile::tempdir().expect("temp dir"),
            home: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The folder `AGENT_STRACE_HOME` names for the binary.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn store(&self) -> PathBuf {
        self.path().join(".agent-traces")
    }

    /// Dates every session folder an hour back, so that the index takes the sessions for
    /// settled: a folder changed in the last seconds is looked at again on every read, and its
    /// session folded again when its fold does not decode.
    pub fn settle_sessions(&self) {
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for entry in std::fs::read_dir(self.store()).expect("the store") {
            let path = entry.expect("a folder entry").path();
            if path.is_dir() {
                std::fs::File::open(&path)
                    .and_then(|dir| dir.set_modified(hour_ago))
                    .expect("a session folder dated back");
            }
        }
    }

    /// Leaves the store with an index that cannot be used (a folder at its path), so that the
    /// commands that follow read every session's files, with a warning.
    pub fn unusable_index(&self) {
        let index = self.store().join(".index.sqlite");
        for side in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{side}", index.display()));
        }
        std::fs::create_dir(&index).expect("a folder in the index's place");
    }

    /// The `status` each of `n` imports of the file at `path`, run at once, reports
    /// (`import --format json`), sorted; each import must succeed.
    pub fn statuses_of_imports_at_once(&self, path: &str, n: usize) -> Vec<String> {
        let imports: Vec<std::process::Child> = (0..n)
            .map(|_| {
                self.command(&["import", "--format", "json", path])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut statuses: Vec<String> = imports
            .into_iter()
            .map(|child| {
                let out = child.wait_with_output().unwrap();
                assert!(
                    out.status.success(),
                    "{path}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let reports: Value = serde_json::from_slice(&out.stdout).unwrap();
                reports[0]["status"].as_str().unwrap().to_owned()
            })
            .collect();
        statuses.sort();
        statuses
    }

    /// A command for the binary, run in the environment's directory with a clean environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .current_dir(self.path())
            .env_remove("AGENT_TRACE_DIR")
            .env_remove("AGENT_STRACE_WORKSPACE")
            .env_remove("CLAUDE_PROJECT_DIR")
            .env_remove("AGENT_STRACE_REDACT")
            .env_remove("CLAUDE_CONFIG_DIR")
            .env("AGENT_STRACE_HOME", self.home.path())
            .env_remove("NO_COLOR")
            .stdin(Stdio::null());
        cmd
    }

    /// [`TestEnv::command`], its data limited to `bytes` (prlimit), as a machine short of
    /// memory runs it.
    pub fn command_with_data_limit(&self, args: &[&str], bytes: u64) -> Command {
        let inner = self.command(args);
        let mut cmd = Command::new("prlimit");
        cmd.arg(format!("--data={bytes}"))
            .arg("--")
            .arg(inner.get_program())
            .args(inner.get_args())
            .current_dir(self.path())
            .stdin(Stdio::null());
        for (key, value) in inner.get_envs() {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("run binary"))
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Run {
        run_with_stdin(self.command(args), stdin)
    }

    /// Plays one hook payload through `agent-strace hook <event>`, with the payload's `cwd`
    /// pointed at this environment.
    pub fn hook(&self, event: &str, payload: &Value) -> Run {
        let mut payload = payload.clone();
        if let Some(map) = payload.as_object_mut() {
            map.insert(
                "cwd".into(),
                self.path().to_string_lossy().into_owned().into(),
            );
        }
        self.run_with_stdin(&["hook", event], payload.to_string().as_bytes())
    }

    /// A session the Claude Code hooks record (a start, a prompt, an end: no usage of its own),
    /// naming `transcript` as its transcript, which its cost is then read from.
    pub fn hook_session_with_transcript(&self, session: &str, transcript: &Path) {
        for (hook, name, extra) in [
            (
                "session-start",
                "SessionStart",
                json!({"source": "startup"}),
            ),
            (
                "user-prompt",
                "UserPromptSubmit",
                json!({"prompt": "fix it"}),
            ),
            ("session-end", "SessionEnd", json!({"reason": "exit"})),
        ] {
            let mut payload = json!({"session_id": session, "hook_event_name": name,
                                     "transcript_path": transcript.to_string_lossy()});
            payload
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            self.hook(hook, &payload).success();
        }
    }

    /// Every event line of a session, parsed.
    pub fn events(&self, session: &str) -> Vec<Value> {
        let text = std::fs::read_to_string(self.store().join(session).join("events.ndjson"))
            .unwrap_or_default();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line ({e}): {l}")))
            .collect()
    }

    /// Every event of a session, decoded into the library's [`Event`].
    pub fn typed_events(&self, session: &str) -> Vec<Event> {
        self.events(session)
            .into_iter()
            .map(|e| serde_json::from_value(e).expect("an event"))
            .collect()
    }

    pub fn meta(&self, session: &str) -> Value {
        let text = std::fs::read_to_string(self.store().join(session).join("meta.json"))
            .expect("meta.json");
        serde_json::from_str(&text).expect("meta.json is JSON")
    }

    /// Session folders in the store.
    pub fn sessions(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.store()) else {
            return Vec::new();
        };
        let mut ids: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        ids.sort();
        ids
    }
}

/// The clock ticks after boot at which process `pid` started (field 22 of its
/// `/proc/<pid>/stat`): what a recorded agent process is known by besides its pid.
pub fn process_started(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap()
}

/// Starts `hook <event>` with a payload and returns at once, so that many run at the same time.
pub fn spawn_hook(env: &TestEnv, event: &str, payload: &Value) -> std::process::Child {
    let mut cmd = env.command(&["hook", event]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn hook");
    let mut stdin = child.stdin.take().expect("stdin");
    let body = payload.to_string();
    std::thread::spawn(move || {
        let _ = stdin.write_all(body.as_bytes());
    });
    child
}

pub fn run_with_stdin(mut cmd: Command, stdin: &[u8]) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn binary");
    // Written from another thread while the output is read, so that a command that answers as
    // it reads (the proxy) never fills a pipe both ends wait on.
    let mut input = child.stdin.take().expect("stdin");
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // The command may stop reading early on bad input; a broken pipe here is fine.
        let _ = input.write_all(&stdin);
    });
    let output = child.wait_with_output().expect("wait");
    let _ = writer.join();
    Run::from(output)
}

/// Every real hook payload in the corpus, in file order, each with the file it came from.
pub fn corpus_hook_payloads() -> Vec<(String, Value)> {
    let root = shared().join("corpus").join("claude-code-hooks");
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in std::fs::read_dir(&root)
        .expect("corpus/claude-code-hooks")
        .flatten()
    {
        for file in std::fs::read_dir(dir.path())
            .expect("corpus folder")
            .flatten()
        {
            if file.path().extension().is_some_and(|e| e == "json") {
                files.push(file.path());
            }
        }
    }
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("corpus file");
        let items: Vec<Value> = serde_json::from_str(&text).expect("corpus file is a JSON array");
        let name = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .display()
            .to_string();
        out.extend(items.into_iter().map(|p| (name.clone(), p)));
    }
    out
}

/// `command` run by a shell that limits the files it writes to 32 KiB, as a disk that fills up
/// midway would (writes past the limit fail with EFBIG; the signal that would kill is ignored).
pub fn with_a_full_disk_at_32_kib(command: &Command) -> Command {
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 64; exec \"$0\" \"$@\"")
        .arg(command.get_program())
        .args(command.get_args());
    if let Some(dir) = command.get_current_dir() {
        shell.current_dir(dir);
    }
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => shell.env(name, value),
            None => shell.env_remove(name),
        };
    }
    shell
}

/// Asserts that `list` of `store` counts its session of no error: neither its turns' nor its
/// tools'.
#[track_caller]
pub fn assert_listed_with_no_errors(env: &TestEnv, store: &Path) {
    let store = store.to_str().unwrap();
    let list = env
        .run(&["--trace-dir", store, "list", "--format", "json"])
        .success()
        .json();
    assert_eq!(
        (&list[0]["errors"], &list[0]["tool_errors"]),
        (&json!(0), &json!(0)),
        "{list:#}"
    );
}

/// Asserts that the one session in `store`, whose MCP proxy could not write its events midway
/// (a full disk, a file size limit), holds whole lines only, the last of them the error that
/// says recording stopped and the session's end, and that stats, list and explain take that
/// error for a gap in the recording, no error.
#[track_caller]
pub fn assert_stopped_recording_is_a_gap(env: &TestEnv, store: &Path) {
    let session = std::fs::read_dir(store)
        .unwrap()
        .flatten()
        .map(|entry| entry.path().join("events.ndjson"))
        .find(|events| events.is_file())
        .expect("a session");
    let text = std::fs::read_to_string(session).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("a half-written line ({e}): {line:.200}"))
        })
        .collect();
    let [.., gap, end] = events.as_slice() else {
        panic!("no end: {events:?}");
    };
    assert_eq!(
        (&gap["event_type"], &gap["data"]["recording_stopped"]),
        (&json!("error"), &json!(true)),
        "{gap}"
    );
    assert!(
        gap["data"]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("recording stopped (")),
        "{gap}"
    );
    assert_eq!(
        (&end["event_type"], &end["data"]["reason"]),
        (&json!("session_end"), &json!("recording stopped")),
        "{end}"
    );
    let trace_dir = ["--trace-dir", store.to_str().unwrap()];
    let stats = env.run(&[&trace_dir[..], &["stats", "--format", "json"]].concat());
    assert!(!stats.stderr.contains("malformed"), "{}", stats.stderr);
    let stats = stats.success().json();
    assert_eq!(
        (&stats["errors"], &stats["recording_stopped"]),
        (&json!(0), &json!(1)),
        "{stats:#}"
    );
    assert_listed_with_no_errors(env, store);
    let explained = env
        .run(&[&trace_dir[..], &["explain"]].concat())
        .success()
        .stdout
        .clone();
    assert!(
        gaps_explained(&explained).contains("recording stopped ("),
        "{explained}"
    );
}

/// What `explain`'s output says after its "Gaps in the recording" heading (nothing when it has
/// none).
pub fn gaps_explained(explained: &str) -> &str {
    explained
        .split_once("Gaps in the recording")
        .map(|(_, after)| after)
        .unwrap_or_default()
}

/// Asserts that each of `methods` was recorded (as the `method` of some event).
#[track_caller]
pub fn assert_methods_recorded(events: &[Value], methods: &[&str]) {
    let recorded: Vec<&str> = events
        .iter()
        .filter_map(|e| e["data"]["method"].as_str())
        .collect();
    for method in methods {
        assert!(
            recorded.contains(method),
            "{method} not recorded: {recorded:?}"
        );
    }
}

/// `args` run as the user nobody (uid 65534), who may read the store but not write it.
pub fn as_nobody(env: &TestEnv, args: &[&str]) -> Run {
    let command = env.command(args);
    let mut nobody = std::process::Command::new("setpriv");
    nobody
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(command.get_program())
        .args(command.get_args())
        .current_dir(env.path())
        .env("AGENT_STRACE_HOME", env.path().join("nobody-home"));
    Run::of(nobody.output().unwrap())
}

/// The Codex session of `aide-gpt-5` (a custom provider's model with no known price) and a
/// priced Claude Code session, from the corpus, imported into `env`: the ids, unpriced first.
pub fn import_unpriced_and_priced(env: &TestEnv) -> (String, String) {
    let codex = shared().join("corpus/codex/Mai0313__VibeCodingTracker/codex-v0.39.0.jsonl");
    let claude = shared().join("corpus/claude-code/marot__spotter/short.jsonl");
    for file in [&codex, &claude] {
        env.run(&["import", file.to_str().unwrap()]).success();
    }
    (UNPRICED_SESSION.to_owned(), PRICED_SESSION.to_owned())
}

/// What a period that ends now says of the one session it left out for starting after now.
pub const LEFT_OUT_AS_AHEAD: &str = "1 session starts later than this machine's clock";

/// The seconds since the epoch, now.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// A Claude Code session started a minute ago and one whose `meta.json` and events say it
/// starts in a year (a clock that was ahead, a log imported from a machine ahead), each a
/// prompt, a Bash call and its result and a priced response: every period that ends now
/// (`--since 7d`) holds the first alone. The ids, now first.
pub fn a_session_now_and_one_next_year(env: &TestEnv) -> (String, String) {
    let now = unix_now();
    let ids = [
        ("started-now", now - 60.0),
        ("next-year", now + 365.0 * 86_400.0),
    ]
    .map(|(id, at)| {
        SessionBuilder::new(id)
            .started(at)
            .meta(|m| {
                m.agent_name = "claude-code".into();
                m.command = "claude".into();
            })
            .prompt("run the tests")
            .at(1.0)
            .tool_call("Bash", json!({"command": "cargo test"}))
            .at(2.0)
            .result(json!("ok"))
            .llm_response(
                "claude-sonnet-4-5",
                agent_strace::model::Tokens {
                    input: 1000,
                    output: 100,
                    ..agent_strace::model::Tokens::default()
                },
            )
            .at(3.0)
            .session_end(json!({}))
            .write(env)
    });
    let [now, next_year] = ids;
    (now, next_year)
}

/// Writes session `id` ($0.0053 at claude-opus-4-6), one of whose two responses holds a usage
/// no response can have (`input_tokens: -5`): its cost leaves that response out, and `list`
/// marks it `$0.0053?`.
pub fn write_unbelieved_usage_session(env: &TestEnv, id: &str) {
    let folder = env.store().join(id);
    std::fs::create_dir_all(&folder).unwrap();
    let meta = json!({"session_id": id, "started_at": 1_780_000_000.0, "ended_at": 1_780_000_003.0,
                      "agent_name": "claude-code", "command": "x"});
    std::fs::write(folder.join("meta.json"), meta.to_string()).unwrap();
    let event = |n: u32, event_type: &str, data: Value| {
        json!({"event_type": event_type, "timestamp": 1_780_000_000.0 + f64::from(n),
               "event_id": format!("e{n}"), "session_id": id, "data": data})
        .to_string()
    };
    let usage = |input: i64, output: i64| json!({"model": "claude-opus-4-6", "usage": {"input_tokens": input, "output_tokens": output}});
    let lines = [
        event(1, "user_prompt", json!({"prompt": "p"})),
        event(2, "llm_response", usage(-5, 10)),
        event(3, "llm_response", usage(1_000, 10)),
    ];
    std::fs::write(folder.join("events.ndjson"), lines.join("\n") + "\n").unwrap();
}

/// The ids [`import_unpriced_and_priced`] imports.
pub const UNPRICED_SESSION: &str = "01996135-afde-7911-97f0-d863511eca56";
pub const PRICED_SESSION: &str = "55604662-cf2a-4331-851a-ec234028f8ca";

/// The note under costs that count `aide-gpt-5` at $0.
pub const UNPRICED_NOTE: &str = "? a model with no known price (aide-gpt-5) is counted at $0";

/// `command` run under umask 022, the usual one, whatever the test runner's is.
pub fn under_umask_022(command: &Command) -> Command {
    let mut shell = Command::new("sh");
    shell
        .args(["-c", "umask 022 && exec \"$0\" \"$@\""])
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => shell.env(key, value),
            None => shell.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        shell.current_dir(dir);
    }
    shell
}

/// `command` run by `env` with its signal options `signals` (`--default-signal=HUP`,
/// `--ignore-signal=HUP`), so that a test that sends a signal knows what the process does with
/// it whatever the test runner's are: a runner started by `nohup` ignores SIGHUP, and an ignored
/// signal stays ignored in every process started below it, where a shell's `trap` cannot even
/// catch it.
pub fn with_signals(command: &Command, signals: &[&str]) -> Command {
    // By its full path: the command's own PATH (a test may give it one without `env`) is the
    // one its program is looked up in.
    let mut env = Command::new("/usr/bin/env");
    env.args(signals);
    run_by(env, command)
}

/// `command` run by strace, each `syscall` it makes held back `micros` microseconds before it
/// is made: a slow disk or a stalled process, at the step of its work the test chooses.
pub fn with_syscall_held_back(command: &Command, syscall: &str, micros: u64) -> Command {
    held_by_strace(command, syscall, &format!("delay_enter={micros}"))
}

/// `command` run by strace, the first `times` of each thread's `syscall` held back `micros`
/// microseconds before they are made: a disk that stalls for a while, then recovers.
pub fn with_syscall_held_back_at_first(
    command: &Command,
    syscall: &str,
    micros: u64,
    times: u32,
) -> Command {
    held_by_strace(
        command,
        syscall,
        &format!("delay_enter={micros}:when=1..{times}"),
    )
}

/// `command` run by strace, held up `micros` microseconds each time a `syscall` it made has
/// returned: the test sees what the call did (a folder made) while the command waits.
pub fn with_syscall_held_after(command: &Command, syscall: &str, micros: u64) -> Command {
    held_by_strace(command, syscall, &format!("delay_exit={micros}"))
}

/// `command` run by strace, each `syscall` it makes held back `before` microseconds, then held
/// up `after` microseconds once it has returned: the test acts on both sides of the call, and
/// may kill the command ([`kill_traced`]) while it is held after it.
pub fn with_syscall_held_around(
    command: &Command,
    syscall: &str,
    before: u64,
    after: u64,
) -> Command {
    held_by_strace(
        command,
        syscall,
        &format!("delay_enter={before}:delay_exit={after}"),
    )
}

/// `command` run by strace, each open of a file named `name` (as the command spells it: a
/// name relative to a folder it holds open) held back `micros` microseconds before it is made;
/// its other opens run as they would.
pub fn with_open_held_back(command: &Command, name: &str, micros: u64) -> Command {
    let mut strace = Command::new("strace");
    strace
        .args(["-f", "-qq", "-o", "/dev/null", "-P", name, "--trace=openat"])
        .arg(format!("--inject=openat:delay_enter={micros}"))
        .arg("--");
    run_by(strace, command)
}

/// The corpus's Copilot log, half of it imported into `env`'s store and then all of it written
/// in its place: a log grown since it was imported. Its path and its session's id.
pub fn grown_copilot_log(env: &TestEnv) -> (String, String) {
    let source = shared().join("corpus/copilot/Mai0313__VibeCodingTracker/copilot-session.jsonl");
    let raw = std::fs::read_to_string(&source).unwrap();
    let all: Vec<&str> = raw.lines().collect();
    let log = env.path().join("copilot-session.jsonl");
    std::fs::write(&log, format!("{}\n", all[..all.len() / 2].join("\n"))).unwrap();
    let path = log.to_string_lossy().into_owned();
    let imported = env
        .run(&["import", "--format", "json", &path])
        .success()
        .json();
    std::fs::write(&log, &raw).unwrap();
    let id = imported[0]["session_id"].as_str().unwrap().to_owned();
    (path, id)
}

/// Waits until a thread of the command that `strace` (started by one of the helpers above)
/// runs is held: stopped by strace, and still stopped a while later, which no call strace only
/// looks at stays.
pub fn wait_until_held(strace: &std::process::Child) {
    let pid = strace.id();
    let stopped = || {
        let Ok(children) = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        else {
            return false;
        };
        let Some(traced) = children.split_whitespace().next() else {
            return false;
        };
        let Ok(threads) = std::fs::read_dir(format!("/proc/{traced}/task")) else {
            return false;
        };
        threads.flatten().any(|thread| {
            std::fs::read_to_string(thread.path().join("stat")).is_ok_and(|stat| {
                stat.rsplit(')')
                    .next()
                    .is_some_and(|rest| rest.trim_start().starts_with('t'))
            })
        })
    };
    wait::wait_until("strace holds the command", || {
        stopped() && {
            std::thread::sleep(std::time::Duration::from_millis(300));
            stopped()
        }
    });
}

/// Kills with SIGKILL the command that `strace`, started by one of the helpers above, runs (a
/// process killed where strace holds it), then strace, which would hold its dead command on to
/// the end of its delay; returns once the command is gone.
pub fn kill_traced(strace: &mut std::process::Child) {
    let pid = strace.id();
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap();
    let traced = children
        .split_whitespace()
        .next()
        .expect("strace runs the command");
    let status = Command::new("kill")
        .args(["-KILL", traced])
        .status()
        .unwrap();
    assert!(status.success());
    // A SIGKILL pending is never blocked: let go by strace, the command dies before it runs on.
    strace.kill().unwrap();
    strace.wait().unwrap();
    wait::wait_until("the traced command is dead", || {
        std::fs::read_to_string(format!("/proc/{traced}/stat")).map_or(true, |stat| {
            stat.rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z'))
        })
    });
}

/// `command` run by strace, which holds up each `syscall` as `delays` (its `--inject` options)
/// say.
fn held_by_strace(command: &Command, syscall: &str, delays: &str) -> Command {
    let mut strace = Command::new("strace");
    strace
        .args(["-f", "-qq", "-o", "/dev/null"])
        .arg(format!("--trace={syscall}"))
        .arg(format!("--inject={syscall}:{delays}"))
        .arg("--");
    run_by(strace, command)
}

/// Whether the kernel lists an exclusive lock on `path`, a file or a folder (read from
/// /proc/locks, which takes none itself).
pub fn locked_exclusive(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(inode) = std::fs::metadata(path).map(|m| m.ino()) else {
        return false;
    };
    let suffix = format!(":{inode}");
    let locks = std::fs::read_to_string("/proc/locks").unwrap();
    locks.lines().any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.contains(&"WRITE") && fields.iter().any(|field| field.ends_with(&suffix))
    })
}

/// `command` run by `wrapper` (a program and its first arguments), with `command`'s
/// environment and folder.
pub fn run_by(mut wrapper: Command, command: &Command) -> Command {
    wrapper.arg(command.get_program()).args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => wrapper.env(key, value),
            None => wrapper.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        wrapper.current_dir(dir);
    }
    wrapper
}

/// `command` run to its end, and the most memory it held at once (its peak resident set, KiB),
/// as the kernel counted it for the child of a Python process that waited for it.
pub fn run_for_peak_memory_kib(command: &Command) -> (Run, u64) {
    const WAIT_AND_SAY_PEAK: &str = "import resource, subprocess, sys
code = subprocess.run(sys.argv[2:]).returncode
open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code if code >= 0 else 128 - code)";
    let said = tempfile::NamedTempFile::new().unwrap();
    let mut python = Command::new("python3");
    python.args(["-c", WAIT_AND_SAY_PEAK]).arg(said.path());
    let run = Run::of(run_by(python, command).output().unwrap());
    let peak = std::fs::read_to_string(said.path()).unwrap();
    (run, peak.trim().parse().unwrap())
}

/// What a process read and the processor time it took, as the kernel counted them.
pub struct Reads {
    /// Bytes it read (`rchar` of `/proc/<pid>/io`), from files and pipes alike.
    pub bytes: u64,
    /// Seconds of processor time, user and system.
    pub cpu_secs: f64,
}

/// `command` run to its end, with what it read and the processor time it took, read by a
/// Python process that looks at the child once it has ended and before reaping it.
pub fn run_for_reads(command: &Command) -> (Run, Reads) {
    const WAIT_AND_SAY_READS: &str = "import os, resource, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
io = open(f'/proc/{child.pid}/io').read()
code = child.wait()
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
rchar = next(l.split()[1] for l in io.splitlines() if l.startswith('rchar:'))
open(sys.argv[1], 'w').write(f'{rchar} {usage.ru_utime + usage.ru_stime}')
sys.exit(code if code >= 0 else 128 - code)";
    let said = tempfile::NamedTempFile::new().unwrap();
    let mut python = Command::new("python3");
    python.args(["-c", WAIT_AND_SAY_READS]).arg(said.path());
    let run = Run::of(run_by(python, command).output().unwrap());
    let said = std::fs::read_to_string(said.path()).unwrap();
    let (bytes, cpu) = said.split_once(' ').unwrap();
    let reads = Reads {
        bytes: bytes.parse().unwrap(),
        cpu_secs: cpu.parse().unwrap(),
    };
    (run, reads)
}

/// `n` with its thousands separated by commas, as every view writes a count: `12,345`.
pub fn separated(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What `import` says of `file` imported into a store of its own (a second import into one
/// store says only that it was imported already).
pub fn imported_text(file: &Path) -> String {
    TestEnv::new()
        .run(&["import", file.to_str().unwrap()])
        .success()
        .stdout
        .clone()
}
