//! Store compatibility with the Python agent-strace 0.103.0 this tool replaces, in both
//! directions, against the real Python tool: sessions its hooks and its API write are read by our
//! commands, and sessions our hooks write are read by its commands and its API.
//!
//! The Python tool is found through `AGENT_STRACE_PYTHON` (its `agent-strace` executable in a
//! venv), else `target/pyvenv/bin/agent-strace`. Without it these tests fail; they never skip.
//! The Python scripts they run are in `tests/fixtures/python-store/`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::common::{Run, TestEnv, run_with_stdin};

/// The Python release whose store format we promise to read and write.
const PYTHON_RELEASE: &str = "0.103.0";
/// A Claude Code session id; the Python hooks keep only its first 16 characters.
const SID: &str = "5b0c7a52-3d1e-4c4f-9a57-0e2d9b1f6a10";
/// The subagent id of the session our hooks record, and the child session it gets.
const AGENT_ID: &str = "a1b2c3";

// ---------------------------------------------------------------------------------------------
// The Python tool
// ---------------------------------------------------------------------------------------------

/// The Python agent-strace: its CLI and the interpreter of its venv.
pub(crate) struct Python {
    cli: PathBuf,
    interpreter: PathBuf,
}

pub(crate) fn python() -> &'static Python {
    static PYTHON: OnceLock<Python> = OnceLock::new();
    PYTHON.get_or_init(Python::locate)
}

impl Python {
    fn locate() -> Python {
        let fallback = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join("pyvenv")
            .join("bin")
            .join("agent-strace");
        // Made absolute (not resolved: symlinks stay) since commands run in other folders.
        let from_env = std::env::var_os("AGENT_STRACE_PYTHON")
            .filter(|v| !v.is_empty())
            .map(|v| std::path::absolute(PathBuf::from(v)).expect("an absolute path"));
        let Some(cli) = from_env
            .iter()
            .chain([&fallback])
            .find(|p| p.is_file())
            .cloned()
        else {
            panic!(
                "the Python agent-strace {PYTHON_RELEASE} is needed for these tests and was not \
                 found: AGENT_STRACE_PYTHON is {:?} and {} does not exist. Create it with\n  \
                 python3 -m venv target/pyvenv && target/pyvenv/bin/pip install \
                 agent-strace=={PYTHON_RELEASE}\nor export AGENT_STRACE_PYTHON=<venv>/bin/agent-strace",
                std::env::var_os("AGENT_STRACE_PYTHON"),
                fallback.display()
            );
        };
        // The interpreter beside the executable runs with the venv's packages; its path is used
        // as it is (not resolved), since that is how Python finds its venv.
        let bin = cli.parent().expect("the CLI is in a folder");
        let interpreter = ["python", "python3"]
            .iter()
            .map(|name| bin.join(name))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("no python or python3 beside {}", cli.display()));
        let python = Python { cli, interpreter };
        let version = Python::output(Python::bare(&python.cli).arg("--version"));
        assert!(
            version.code == 0
                && version
                    .stdout
                    .contains(&format!("agent-strace {PYTHON_RELEASE}")),
            "{} is not the Python agent-strace {PYTHON_RELEASE}: {version:?}",
            python.cli.display()
        );
        python
    }

    /// A command with a clean environment: no telemetry, UTF-8 I/O, nothing inherited that the
    /// Python tool reads (tenant, workspace, endpoint, redaction settings).
    fn bare(program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DO_NOT_TRACK", "1")
            .env("PYTHONUTF8", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null());
        cmd
    }

    /// A command run in the environment's directory, writing and reading its store.
    fn command(env: &TestEnv, program: &Path) -> Command {
        let mut cmd = Python::bare(program);
        cmd.env("HOME", env.path())
            .env("AGENT_TRACE_DIR", env.store())
            .current_dir(env.path());
        cmd
    }

    fn output(cmd: &mut Command) -> Run {
        let out = cmd.output().expect("run the Python agent-strace");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Plays one payload through the Python tool's own `hook <event>`, with the payload's `cwd`
    /// pointed at the environment. Its hooks exit 0 on any failure and only say so on stderr.
    fn hook(&self, env: &TestEnv, event: &str, payload: &Value, vars: &[(&str, &str)]) {
        let mut payload = payload.clone();
        payload["cwd"] = env.path().to_string_lossy().into_owned().into();
        self.hook_bytes(env, event, payload.to_string().as_bytes(), vars);
    }

    fn hook_bytes(&self, env: &TestEnv, event: &str, stdin: &[u8], vars: &[(&str, &str)]) {
        let mut cmd = Python::command(env, &self.cli);
        cmd.args(["hook", event]).envs(vars.iter().copied());
        let run = run_with_stdin(cmd, stdin);
        assert_eq!(run.code, 0, "Python hook {event}: {run:?}");
        assert!(
            !run.stderr.contains("error") && !run.stderr.contains("Traceback"),
            "Python hook {event} failed: {}",
            run.stderr
        );
    }

    /// Runs a read command of the Python CLI on the environment's store; it must succeed
    /// without a traceback. Colour codes are removed from its output.
    pub(crate) fn read(&self, env: &TestEnv, args: &[&str]) -> Run {
        let store = env.store();
        let mut cmd = Python::command(env, &self.cli);
        cmd.arg("--trace-dir").arg(&store).args(args);
        let mut run = Python::output(&mut cmd);
        assert!(
            run.code == 0 && !run.stderr.contains("Traceback"),
            "Python `agent-strace {}` failed: {run:?}",
            args.join(" ")
        );
        run.stdout = strip_ansi(&run.stdout);
        run
    }

    /// Runs one of the scripts in `tests/fixtures/python-store/` with the venv's interpreter.
    fn script(&self, env: &TestEnv, name: &str, args: &[&Path]) -> Run {
        let mut cmd = Python::command(env, &self.interpreter);
        cmd.arg(fixtures().join(name)).args(args);
        let run = Python::output(&mut cmd);
        assert_eq!(run.code, 0, "python {name}: {run:?}");
        run
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join("python-store")
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters, ended by a letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs of spaces made one, so columns can be matched as text.
fn squeeze(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn payload(session: &str, event: &str, extra: Value) -> Value {
    let mut p = json!({"session_id": session, "transcript_path": "/nonexistent.jsonl", "hook_event_name": event});
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

/// The files of a session folder and their bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect()
}

/// Asserts two JSON values are the same: the same keys (in the same order when `ordered`), equal
/// strings, booleans and integers, and floats equal to within a few units in the last place
/// (exact float round-trips are `inspect_keeps_every_python_value_exactly`'s business).
#[track_caller]
fn assert_same_json(path: &str, ours: &Value, theirs: &Value, ordered: bool) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys_a: Vec<&String> = a.keys().collect();
            let mut keys_b: Vec<&String> = b.keys().collect();
            if !ordered {
                keys_a.sort();
                keys_b.sort();
            }
            assert_eq!(keys_a, keys_b, "{path}: fields differ");
            for (key, value) in a {
                assert_same_json(&format!("{path}.{key}"), value, &b[key], ordered);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}: lengths differ");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_same_json(&format!("{path}[{i}]"), x, y, ordered);
            }
        }
        (Value::Number(a), Value::Number(b)) if a.is_f64() || b.is_f64() => {
            let (x, y) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs()),
                "{path}: {x} != {y}"
            );
        }
        _ => assert_eq!(ours, theirs, "{path}"),
    }
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect()
}

/// The event a filter picks, of the events given; exactly one must match.
#[track_caller]
fn only<'a>(events: &'a [Value], what: &str, pick: impl Fn(&Value) -> bool) -> &'a Value {
    let found: Vec<&Value> = events.iter().filter(|e| pick(e)).collect();
    assert_eq!(found.len(), 1, "expected one {what}: {found:?}");
    found[0]
}

fn is_call_of(tool: &str) -> impl Fn(&Value) -> bool + '_ {
    move |e| e["event_type"] == "tool_call" && e["data"]["tool_name"] == tool
}

// ---------------------------------------------------------------------------------------------
// 1. The Python tool writes, we read
// ---------------------------------------------------------------------------------------------

#[test]
fn a_session_recorded_by_python_hooks_reads_in_list_replay_stats_and_inspect() {
    let py = python();
    let env = TestEnv::new();
    // A tenant makes the Python store tag meta and every event with a field we do not model.
    let tenant = [("AGENT_STRACE_TENANT_ID", "acme")];
    let bash = |cmd: &str, id: &str| json!({"tool_name": "Bash", "tool_input": {"command": cmd}, "tool_use_id": id});
    let with = |mut base: Value, extra: Value| {
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    };
    let secret = format!("gh auth login --with-token ghp_{}", "a".repeat(36));
    let read = json!({"tool_name": "Read", "tool_input": {"file_path": "/p/missing.py"}, "tool_use_id": "toolu_3"});
    let steps = [
        (
            "session-start",
            "SessionStart",
            json!({"source": "startup"}),
        ),
        (
            "user-prompt",
            "UserPromptSubmit",
            json!({"prompt": "run the tests"}),
        ),
        ("pre-tool", "PreToolUse", bash("pytest -q", "toolu_1")),
        (
            "post-tool",
            "PostToolUse",
            with(
                bash("pytest -q", "toolu_1"),
                json!({"tool_response": {"stdout": "3 passed", "stderr": ""}}),
            ),
        ),
        // The Python store scrubs this token and marks the event `redacted`.
        ("pre-tool", "PreToolUse", bash(&secret, "toolu_2")),
        (
            "post-tool",
            "PostToolUse",
            with(
                bash(&secret, "toolu_2"),
                json!({"tool_response": {"stdout": "Logged in"}}),
            ),
        ),
        ("pre-tool", "PreToolUse", read.clone()),
        (
            "post-tool-failure",
            "PostToolUseFailure",
            with(
                read,
                json!({"error": "File does not exist.", "is_interrupt": false}),
            ),
        ),
        (
            "stop",
            "Stop",
            json!({"stop_hook_active": false, "last_assistant_message": "All tests pass."}),
        ),
        ("session-end", "SessionEnd", json!({"reason": "exit"})),
    ];
    for (arg, name, extra) in steps {
        py.hook(&env, arg, &payload(SID, name, extra), &tenant);
    }

    // The Python hooks name the session by the first 16 characters of Claude Code's id.
    let id = &SID[..16];
    assert_eq!(env.sessions(), [id]);
    let dir = env.store().join(id);
    let before = snapshot(&dir);
    let stored = env.events(id);
    let stored_meta = env.meta(id);
    assert_eq!(
        kinds(&stored),
        [
            "session_start",
            "user_prompt",
            "tool_call",
            "tool_result",
            "tool_call",
            "tool_result",
            "tool_call",
            "error",
            "assistant_response",
            "session_end"
        ],
        "what the Python hooks wrote"
    );
    assert_eq!(
        stored.iter().filter(|e| e["prev_hash"].is_string()).count(),
        stored.len() - 1,
        "the Python store hash-chains every event after the first"
    );

    // list
    let listed = env.run(&["list", "--format", "json"]).success().json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let session = &listed[0];
    assert_eq!(session["session_id"], id);
    assert_eq!(session["agent_name"], "claude-code");
    assert_eq!(session["command"], "claude-code (startup)");
    assert_eq!(session["tool_calls"], 3);
    assert_eq!(session["errors"], 1);
    assert_eq!(session["first_prompt"], "run the tests");
    assert_same_json(
        "started_at",
        &session["started_at"],
        &stored_meta["started_at"],
        true,
    );
    assert!(session["duration_s"].as_f64().unwrap() > 0.0);

    // stats
    let stats = env.run(&["stats", id, "--format", "json"]);
    assert_eq!(stats.success().stderr, "");
    let stats = stats.json();
    assert_eq!(stats["sessions"], json!([id]));
    assert_eq!(stats["events"], 10);
    assert_eq!(stats["tool_calls"], 3);
    assert_eq!(stats["tool_results"], 2);
    assert_eq!(stats["errors"], 1);
    assert_eq!(stats["user_prompts"], 1);
    let tools: HashMap<&str, &Value> = stats["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["tool"].as_str().unwrap(), t))
        .collect();
    assert_eq!(tools.len(), 2, "{tools:?}");
    assert_eq!(
        (
            &tools["Bash"]["calls"],
            &tools["Bash"]["errors"],
            &tools["Bash"]["timed"]
        ),
        (&json!(2), &json!(0), &json!(2))
    );
    assert_eq!(
        (
            &tools["Read"]["calls"],
            &tools["Read"]["errors"],
            &tools["Read"]["timed"]
        ),
        (&json!(1), &json!(1), &json!(1))
    );

    // replay
    let replay = env.run(&["replay", id]);
    assert_eq!(replay.success().stderr, "", "no line may be skipped");
    let out = &replay.stdout;
    for expected in [
        format!("Session: {id}"),
        "Command: claude-code (startup)".into(),
        "Tool calls: 3".into(),
        "Errors: 1".into(),
        "👤 user_prompt\n             \"run the tests\"".into(),
        "→ tool_call Bash\n             $ pytest -q".into(),
        "← tool_result Bash (".into(),
        "$ gh auth login --with-token [REDACTED:github-token]".into(),
        "→ tool_call Read\n             /p/missing.py".into(),
        "✗ error Read\n             tool call failed".into(),
        "🤖 assistant_response\n             \"All tests pass.\"".into(),
        "■ session_end".into(),
    ] {
        assert!(out.contains(&expected), "replay lacks {expected:?}:\n{out}");
    }
    assert!(out.contains("#10 "), "all ten events are shown:\n{out}");

    // inspect: every event and every field the Python tool wrote, unchanged.
    let inspect = env.run(&["inspect", id]);
    assert_eq!(inspect.success().stderr, "");
    let inspect = inspect.json();
    let meta = &inspect["meta"];
    assert_eq!(meta["session_id"], id);
    assert_eq!(meta["tool_calls"], 3);
    assert_eq!(meta["errors"], 1);
    assert_eq!(meta["tenant_id"], "acme");
    assert_eq!(meta["attribution"], stored_meta["attribution"]);
    assert!(meta["attribution"]["pid"].is_u64(), "{meta}");
    // Meta keys may come back in another order (JSON objects have none); events keep theirs.
    assert_same_json("meta", meta, &stored_meta, false);
    let events = inspect["events"].as_array().unwrap();
    assert_eq!(events.len(), stored.len());
    for (i, (ours, theirs)) in events.iter().zip(&stored).enumerate() {
        assert_same_json(&format!("events[{i}]"), ours, theirs, true);
        assert_eq!(
            ours["prev_hash"], theirs["prev_hash"],
            "events[{i}].prev_hash"
        );
        assert_eq!(ours["tenant_id"], "acme", "events[{i}].tenant_id");
    }
    let redacted = only(events, "redacted event", |e| e["redacted"] == true);
    assert_eq!(redacted["event_type"], "tool_call");
    assert_eq!(redacted["data"]["tool_use_id"], "toolu_2");

    // Results are linked to their calls.
    let calls: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "tool_call")
        .collect();
    let results: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "tool_result")
        .collect();
    assert_eq!(results[0]["parent_id"], calls[0]["event_id"]);
    assert_eq!(results[1]["parent_id"], calls[1]["event_id"]);
    let error = only(events, "error", |e| e["event_type"] == "error");
    assert_eq!(error["parent_id"], calls[2]["event_id"]);
    assert_eq!(calls[2]["data"]["tool_name"], "Read");
    for linked in results.iter().chain([&error]) {
        assert!(linked["duration_ms"].as_f64().unwrap() > 0.0, "{linked}");
    }

    // Reading changed nothing in the Python session and left none of our files in it.
    assert_eq!(snapshot(&dir), before);
}

/// The Python tool writes no `file_read` or `file_write` events (its hooks and its import record
/// the calls alone); the files a session's file tools read and wrote are its calls' then, as
/// the Python tool's own `explain` counts them. Our `explain` said "Files touched: 0 read, 0
/// written" under a phase that "Wrote" a file, and `standup` "No files read or changed".
#[test]
fn files_a_python_session_read_and_wrote_are_counted_from_its_calls() {
    let py = python();
    let env = TestEnv::new();
    let call = |tool: &str, path: &str, id: &str| json!({"tool_name": tool, "tool_input": {"file_path": path}, "tool_use_id": id});
    let done = |mut call: Value| {
        call["tool_response"] = json!({"type": "text"});
        call
    };
    let read = call("Read", "/p/src/a.py", "toolu_1");
    let edit = call("Edit", "/p/src/a.py", "toolu_2");
    let missing = call("Read", "/p/missing.py", "toolu_3");
    let steps = [
        (
            "session-start",
            "SessionStart",
            json!({"source": "startup"}),
        ),
        (
            "user-prompt",
            "UserPromptSubmit",
            json!({"prompt": "fix a.py"}),
        ),
        ("pre-tool", "PreToolUse", read.clone()),
        ("post-tool", "PostToolUse", done(read)),
        ("pre-tool", "PreToolUse", edit.clone()),
        ("post-tool", "PostToolUse", done(edit)),
        ("pre-tool", "PreToolUse", missing.clone()),
        ("post-tool-failure", "PostToolUseFailure", {
            let mut failed = missing;
            failed["error"] = json!("File does not exist.");
            failed
        }),
        ("session-end", "SessionEnd", json!({"reason": "exit"})),
    ];
    for (arg, name, extra) in steps {
        py.hook(&env, arg, &payload(SID, name, extra), &[]);
    }
    let id = &SID[..16];
    assert!(
        env.events(id)
            .iter()
            .all(|e| !e["event_type"].as_str().unwrap().starts_with("file_")),
        "the Python hooks write file events now: update this test"
    );
    // It counts the call that failed to read too; a file that was not there was not read.
    let theirs = py.read(&env, &["explain", id]);
    assert!(
        theirs.stdout.contains("Files touched: 2 read, 1 written"),
        "{}",
        theirs.stdout
    );
    let explain = env.run(&["explain", id]);
    explain.success();
    assert!(
        explain.stdout.contains("Files touched: 1 read, 1 written"),
        "{}",
        explain.stdout
    );
    let standup = env.run(&["standup", id, "--format", "json"]);
    standup.success();
    let standup = standup.json();
    assert_eq!(standup["files_read"], json!(["/p/src/a.py"]), "{standup}");
    assert_eq!(
        standup["files_modified"],
        json!(["/p/src/a.py"]),
        "{standup}"
    );
    // `stats` said "Reads: 0   Writes: 0   Files: 0 (0 read, 0 written)".
    let stats = env.run(&["stats", id]);
    stats.success();
    assert!(
        stats
            .stdout
            .contains("Reads: 1   Writes: 1   Files: 1 (1 read, 1 written)"),
        "{}",
        stats.stdout
    );
}

/// `stats` of a session the Python tool's import wrote counted the files of file events only,
/// which it writes none of: "Files: 0" where `explain` said "Files touched: 2 read". It counts
/// them as it counts our own import of the same transcript.
#[test]
fn stats_counts_the_files_of_a_python_import_as_of_ours() {
    let (env, id) = python_import("tool_heavy.jsonl");
    let ours = TestEnv::new();
    let transcript =
        crate::common::shared().join("corpus/claude-code/marot__spotter/tool_heavy.jsonl");
    ours.run(&["import", transcript.to_str().unwrap()])
        .success();
    let files = |env: &TestEnv, id: &str| {
        let stats = env.run(&["stats", id, "--format", "json"]);
        stats.success();
        let stats = stats.json();
        ["reads", "writes", "files", "files_read", "files_written"].map(|k| stats[k].clone())
    };
    let theirs = files(&env, &id);
    assert_eq!(theirs, [2, 0, 2, 2, 0].map(|n| json!(n)));
    assert_eq!(theirs, files(&ours, &id));
}

/// The Python tool's `import` puts each transcript line's API usage on the `assistant_response`
/// it writes, one per line: Claude Code writes a streamed response as several lines, each
/// repeating the usage. Our `cost` ignored that usage and gave an estimate, `list` too, and
/// `stats` counted no token. A response counts once, its last line's usage, as our own
/// import counts it (ccusage's totals of these files).
#[test]
fn usage_the_python_import_recorded_on_answers_is_counted_once_per_response() {
    let py = python();
    for (file, tokens, responses) in [
        ("tool_heavy.jsonl", [54, 212, 17_696, 88_231], 4),
        ("short.jsonl", [3, 13, 13_835, 11_515], 1),
    ] {
        let transcript = crate::common::shared()
            .join("corpus/claude-code/marot__spotter")
            .join(file);
        let env = TestEnv::new();
        let mut cmd = Python::command(&env, &py.cli);
        cmd.arg("import").arg(&transcript);
        let run = Python::output(&mut cmd);
        assert_eq!(run.code, 0, "Python import {file}: {run:?}");
        let id = env.sessions()[0].clone();

        let cost = env.run(&["cost", &id, "--format", "json"]);
        cost.success();
        let cost = cost.json();
        assert_eq!(cost["estimated"], false, "{file}: {cost}");
        let t = &cost["tokens"];
        assert_eq!(
            [
                &t["input"],
                &t["output"],
                &t["cache_creation"],
                &t["cache_read"]
            ],
            tokens.map(|n| json!(n)).each_ref(),
            "{file}: {cost}"
        );
        // As our own import of the same file is priced.
        let ours = TestEnv::new();
        ours.run(&["import", transcript.to_str().unwrap()])
            .success();
        let our_cost = ours.run(&["cost", "--format", "json"]).json();
        assert_eq!(cost["cost_usd"], our_cost["cost_usd"], "{file}");

        let list = env.run(&["list", "--format", "json"]);
        list.success();
        let listed = &list.json()[0];
        assert_eq!(listed["cost_estimated"], false, "{file}: {listed}");
        assert_eq!(listed["cost_usd"], our_cost["cost_usd"], "{file}: {listed}");

        let stats = env.run(&["stats", &id, "--format", "json"]);
        stats.success();
        let stats = stats.json();
        assert_eq!(
            stats["tokens"],
            tokens.iter().sum::<u64>(),
            "{file}: {stats}"
        );
        assert_eq!(stats["llm_requests"], responses, "{file}: {stats}");
    }
}

/// A transcript of the corpus imported by the Python tool into a new store, and the session.
fn python_import(file: &str) -> (TestEnv, String) {
    python_import_of(
        &crate::common::shared()
            .join("corpus/claude-code/marot__spotter")
            .join(file),
    )
}

/// A transcript imported by the Python tool into a new store, and the session.
fn python_import_of(transcript: &Path) -> (TestEnv, String) {
    let file = transcript.display();
    let env = TestEnv::new();
    let mut cmd = Python::command(&env, &python().cli);
    cmd.arg("import").arg(transcript);
    let run = Python::output(&mut cmd);
    assert_eq!(run.code, 0, "Python import {file}: {run:?}");
    let id = env.sessions()[0].clone();
    (env, id)
}

/// `stats` counted every `user_prompt` as a prompt. Our import records what Claude Code puts in
/// the user's turn that no one typed there too (an interruption, a background task's notice, a
/// command's output) and the Python tool's also a local command's caveat: `stats` of short.jsonl
/// said 2 prompts where the person wrote 1 and `list` showed 1, and of claude_code-v1.0.95.jsonl
/// 10 (ours) and 12 (the Python tool's import) where the person wrote 6. It counts the prompts a
/// person wrote (typed, or a command), as `list` and `explain` read them, whoever imported it.
#[test]
fn stats_counts_the_prompts_a_person_wrote_whoever_imported_the_transcript() {
    for (file, typed) in [
        ("marot__spotter/short.jsonl", 1),
        ("Mai0313__VibeCodingTracker/claude_code-v1.0.95.jsonl", 6),
    ] {
        let transcript = crate::common::shared()
            .join("corpus/claude-code")
            .join(file);
        let prompts = |env: &TestEnv, id: &str| {
            let stats = env.run(&["stats", id, "--format", "json"]);
            stats.success();
            stats.json()["user_prompts"].clone()
        };
        let (theirs, id) = python_import_of(&transcript);
        assert_eq!(
            prompts(&theirs, &id),
            typed,
            "{file}, the Python tool's import"
        );
        let ours = TestEnv::new();
        ours.run(&["import", transcript.to_str().unwrap()])
            .success();
        let top = ours.run(&["list", "--format", "json"]).json()[0]["session_id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(prompts(&ours, &top), typed, "{file}, our import");
    }
}

/// The Python tool's import keeps as prompts what Claude Code marks `isMeta` (a Stop hook's
/// feedback, a skill's instructions as it loads), which ours leaves out, and cuts a prompt at
/// 2,000 characters, a long background task's notice with it: `stats` counted each as a
/// prompt a person wrote (4 here, and 4 for ae4a77f8 where ours gives 3), and `list` could
/// title a session by one. Each reads as the agent's.
#[test]
fn what_claude_code_writes_in_the_users_turn_is_no_prompt_in_a_python_import() {
    let dir = tempfile::tempdir().unwrap();
    let transcript = dir
        .path()
        .join("5b0c7a52-3d1e-4c4f-9a57-0e2d9b1f6a10.jsonl");
    let line = |n: usize, meta: bool, content: Value| {
        let mut line = json!({
            "type": "user", "sessionId": SID, "uuid": format!("u{n}"),
            "timestamp": format!("2026-01-01T00:00:0{n}Z"),
            "message": {"role": "user", "content": content},
        });
        if meta {
            line["isMeta"] = json!(true);
        }
        line.to_string()
    };
    let notice = format!(
        "<task-notification>\n<task-id>b1</task-id>\n<status>completed</status>\n<result>{}</result>\n</task-notification>",
        "x".repeat(3_000)
    );
    let answer = json!({
        "type": "assistant", "sessionId": SID, "uuid": "a1", "timestamp": "2026-01-01T00:00:02Z",
        "message": {"id": "msg_1", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "Done."}],
            "usage": {"input_tokens": 10, "output_tokens": 5}},
    });
    let lines = [
        line(1, false, json!("fix the build")),
        answer.to_string(),
        line(
            3,
            true,
            json!("Stop hook feedback:\n[~/.claude/stop.sh]: tests fail"),
        ),
        line(4, false, json!(notice)),
        line(
            5,
            true,
            json!("Base directory for this skill: /home/u/.claude/skills/x\n\n# X"),
        ),
    ];
    std::fs::write(&transcript, lines.join("\n") + "\n").unwrap();
    let prompts = |env: &TestEnv, id: &str| {
        let stats = env.run(&["stats", id, "--format", "json"]);
        stats.success();
        stats.json()["user_prompts"].clone()
    };
    let (theirs, id) = python_import_of(&transcript);
    assert_eq!(
        theirs
            .events(&id)
            .iter()
            .filter(|e| e["event_type"] == "user_prompt")
            .count(),
        4
    );
    assert_eq!(prompts(&theirs, &id), 1);
    let ours = TestEnv::new();
    ours.run(&["import", transcript.to_str().unwrap()])
        .success();
    assert_eq!(prompts(&ours, SID), 1);
    // A transcript of the corpus, a skill loaded in it.
    let file = "marot__spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl";
    let (theirs, id) = python_import_of(
        &crate::common::shared()
            .join("corpus/claude-code")
            .join(file),
    );
    assert_eq!(prompts(&theirs, &id), 3, "{file}");
}

/// The Python tool's import writes into `meta.json` the LLM requests and tokens of every
/// transcript line (9 and 239,446 for tool_heavy.jsonl, a streamed response counted once a
/// line), where `stats` counts each response once (4 and 106,193, as `cost` prices them and our
/// own import counts them). `list`, `sql`'s `sessions` and `list_sessions` of `mcp` gave
/// `meta.json`'s; every view gives the events'.
#[test]
fn a_python_import_lists_the_requests_and_tokens_stats_counts() {
    let (env, id) = python_import("tool_heavy.jsonl");
    let meta = env.meta(&id);
    assert_eq!(
        (&meta["llm_requests"], &meta["total_tokens"]),
        (&json!(9), &json!(239_446)),
        "the Python tool counts otherwise now: {meta}"
    );
    let stats = env.run(&["stats", &id, "--format", "json"]);
    stats.success();
    let stats = stats.json();
    let figures = (stats["llm_requests"].clone(), stats["tokens"].clone());
    assert_eq!(figures, (json!(4), json!(106_193)), "{stats}");
    let check = |env: &TestEnv| {
        let list = env.run(&["list", "--format", "json"]);
        list.success();
        let listed = &list.json()[0];
        assert_eq!(
            (
                listed["llm_requests"].clone(),
                listed["total_tokens"].clone()
            ),
            figures,
            "{listed}"
        );
    };
    check(&env);
    let sql = env.run(&[
        "sql",
        "select llm_requests, total_tokens from sessions",
        "--format",
        "json",
    ]);
    sql.success();
    assert_eq!(
        sql.json(),
        json!([{"llm_requests": 4, "total_tokens": 106_193}]),
        "{}",
        sql.stdout
    );
    // Without the index, the same.
    env.unusable_index();
    check(&env);
}

/// `sql` of a session the Python tool's import wrote: `llm_responses` held no row (the usage is
/// on its `assistant_response`s, a streamed response's on each line), and `tool_calls` no
/// outcome and no result (its results name their call only by `tool_use_id`). The responses
/// are those of our own import of the same transcript, each once, priced as `cost` prices the
/// session; each call has its result.
#[test]
fn sql_holds_the_responses_and_results_of_a_python_import() {
    let (env, id) = python_import("tool_heavy.jsonl");
    let ours = TestEnv::new();
    let transcript =
        crate::common::shared().join("corpus/claude-code/marot__spotter/tool_heavy.jsonl");
    ours.run(&["import", transcript.to_str().unwrap()])
        .success();
    let query = |env: &TestEnv, sql: &str| {
        let run = env.run(&["sql", sql, "--format", "json"]);
        run.success();
        run.json()
    };
    let responses = "select model, input_tokens, output_tokens, cache_write_tokens, \
                     cache_read_tokens, total_tokens from llm_responses order by seq";
    let theirs = query(&env, responses);
    assert_eq!(theirs.as_array().unwrap().len(), 4, "{theirs}");
    assert_eq!(theirs, query(&ours, responses));
    let priced = query(&env, "select sum(cost_usd) as cost from llm_responses");
    let cost = env.run(&["cost", &id, "--format", "json"]).json();
    let (priced, cost) = (
        priced[0]["cost"].as_f64().unwrap(),
        cost["cost_usd"].as_f64().unwrap(),
    );
    assert!((priced - cost).abs() < 1e-9, "{priced} != {cost}");

    let calls = query(
        &env,
        "select tool, outcome, failed, result is not null as answered from tool_calls \
         order by seq",
    );
    let calls = calls.as_array().unwrap();
    assert_eq!(calls.len(), 6, "{calls:?}");
    for call in calls {
        assert_eq!(
            (&call["outcome"], &call["failed"], &call["answered"]),
            (&json!("tool_result"), &json!(0), &json!(1)),
            "{call}"
        );
    }
}

/// `token-budget` of a session the Python tool's import wrote said "No model usage was
/// recorded in this session" in a window "assumed: no model known" (it read `llm_response`s
/// only; the import's usage is on its `assistant_response`s). Each response is a point, once,
/// as in our own import of the same transcript.
#[test]
fn token_budget_reads_the_responses_of_a_python_import() {
    let (env, id) = python_import("tool_heavy.jsonl");
    let ours = TestEnv::new();
    let transcript =
        crate::common::shared().join("corpus/claude-code/marot__spotter/tool_heavy.jsonl");
    ours.run(&["import", transcript.to_str().unwrap()])
        .success();
    let budget = |env: &TestEnv| {
        let run = env.run(&["token-budget", &id, "--format", "json"]);
        run.success();
        let report = run.json();
        let points: Vec<Value> = report["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["tokens"].clone())
            .collect();
        (
            report["model"].clone(),
            report["window_source"].clone(),
            points,
        )
    };
    let theirs = budget(&env);
    assert_eq!(theirs.0, "claude-opus-4-6");
    assert_eq!(theirs.1, "model");
    assert_eq!(theirs.2.len(), 4, "{theirs:?}");
    assert_eq!(theirs, budget(&ours));
}

/// `lint`'s context-saturation of a session the Python tool's import wrote (its usage is on each
/// `assistant_response`) named the first event at the response's time, the tool call the
/// response made (`at event #2`, a `tool_call`), as it does for usage known only from a
/// transcript; it names the answer that carries the usage, and finds what our own import of
/// the same transcript finds.
#[test]
fn lint_names_the_saturated_response_of_a_python_import() {
    let (env, id) = python_import("tool_heavy.jsonl");
    let ours = TestEnv::new();
    let transcript =
        crate::common::shared().join("corpus/claude-code/marot__spotter/tool_heavy.jsonl");
    ours.run(&["import", transcript.to_str().unwrap()])
        .success();
    let saturated = |env: &TestEnv| {
        std::fs::write(
            env.path().join(".agent-strace-lint.json"),
            r#"{"context-saturation": {"threshold": 0.1}}"#,
        )
        .unwrap();
        let run = env.run(&["lint", &id, "--format", "json"]);
        let report = run.json();
        let found: Vec<(String, String)> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "context-saturation")
            .map(|f| {
                let message = f["message"].as_str().unwrap();
                let event = f["events"][0].as_u64().unwrap().to_string();
                let shown = env.run(&["inspect", &id, "--event", &event]);
                shown.success();
                // The event numbers of the two sessions differ; what they are does not.
                (
                    message.split(", at event").next().unwrap().to_owned(),
                    shown.json()["event_type"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        found
    };
    let theirs = saturated(&env);
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!(theirs[0].1, "assistant_response", "{theirs:?}");
    assert_eq!(theirs[0].0, saturated(&ours)[0].0);
}

/// `export` of a session the Python tool's import wrote: its CSV had no model and no token on
/// any row, its OTLP GenAI trace no `chat` span and no usage on the session's span, and
/// Langfuse no generation (the usage is on each `assistant_response`, a streamed response's on
/// each of its lines). Each response is on the answer that starts it, once: the figures of our
/// own import of the same transcript.
#[test]
fn export_carries_the_responses_of_a_python_import() {
    use crate::export::{attr, parse_csv, spans};
    let (env, id) = python_import("tool_heavy.jsonl");
    let ours = TestEnv::new();
    let transcript =
        crate::common::shared().join("corpus/claude-code/marot__spotter/tool_heavy.jsonl");
    ours.run(&["import", transcript.to_str().unwrap()])
        .success();
    let csv_tokens = |env: &TestEnv| {
        let run = env.run(&["export", &id, "--format", "csv"]);
        run.success();
        let rows = parse_csv(&run.stdout);
        let at = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
        let columns = [
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_creation_tokens",
        ]
        .map(&at);
        let model = at("model");
        let mut sums = [0u64; 4];
        let mut models = std::collections::BTreeSet::new();
        for row in &rows[1..] {
            for (sum, &c) in sums.iter_mut().zip(&columns) {
                *sum += row[c].parse::<u64>().unwrap_or(0);
            }
            if !row[columns[0]].is_empty() {
                models.insert(row[model].clone());
            }
        }
        (sums, models)
    };
    let theirs = csv_tokens(&env);
    assert_eq!(theirs.0, [54, 212, 88_231, 17_696]);
    assert_eq!(theirs, csv_tokens(&ours));

    let chats = |env: &TestEnv| {
        let run = env.run(&["export", &id, "--format", "otlp-genai"]);
        run.success();
        let spans = spans(&run.json());
        let root =
            ["gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"].map(|k| attr(&spans[0], k));
        let chats: Vec<(Option<Value>, Option<Value>)> = spans
            .iter()
            .filter(|s| attr(s, "gen_ai.operation.name") == Some(json!("chat")))
            .map(|s| {
                (
                    attr(s, "gen_ai.usage.input_tokens"),
                    attr(s, "gen_ai.usage.output_tokens"),
                )
            })
            .collect();
        (root, chats)
    };
    let theirs = chats(&env);
    assert_eq!(theirs.1.len(), 4, "{theirs:?}");
    assert_eq!(theirs, chats(&ours));
}

/// `explain` of a session the Python tool's import wrote counted the file a shell line read
/// (`tail -5 …/bae407b.output`) among its "Files touched: 2 read" and listed it under no phase
/// (its import writes no file event, and only a file event put a shell line's file on its
/// phase's list); it is listed under the phase that ran the line, as our own import's is.
#[test]
fn explain_lists_a_file_a_python_import_read_by_a_shell_line_under_its_phase() {
    let (env, id) = python_import("tool_heavy.jsonl");
    let explain = env.run(&["explain", &id]);
    explain.success();
    let phase: Vec<&str> = explain
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Phase 1:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert!(
        phase.contains(
            &"  Read: /tmp/claude-1000/-home-marco-projects-spotter/tasks/bae407b.output"
        ),
        "{}",
        explain.stdout
    );
    assert!(
        explain.stdout.contains("Files touched: 2 read, 0 written"),
        "{}",
        explain.stdout
    );
}

/// The Python tool's proxy writes its counters into `meta.json` only when it ends: while it
/// records, or when it was killed, `meta.json` holds none. Our `list` showed such a session's
/// calls as 0 (and `replay`'s summary too); a session whose `meta.json` holds no counter is counted from its
/// events.
#[test]
fn a_python_proxy_session_whose_meta_holds_no_counter_lists_its_calls() {
    let py = python();
    let env = TestEnv::new();
    let server = concat!(
        r#"read a; echo '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"Echo: hi"}]}}'; "#,
        r#"read b; echo '{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"Echo: yo"}]}}'; "#,
        "read c"
    );
    let mut cmd = Python::command(&env, &py.cli);
    cmd.args(["record", "--name", "echo", "--", "sh", "-c", server])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut proxy = cmd.spawn().expect("start the Python proxy");
    let mut input = proxy.stdin.take().expect("its stdin");
    std::io::Write::write_all(
        &mut input,
        concat!(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"yo"}}}"#,
            "\n"
        )
        .as_bytes(),
    )
    .expect("write the calls");
    // Waits for both results to be recorded, however loaded the machine is.
    let started = std::time::Instant::now();
    let session = loop {
        let done = env.sessions().into_iter().find(|s| {
            env.events(s)
                .iter()
                .filter(|e| e["event_type"] == "tool_result")
                .count()
                == 2
        });
        if let Some(session) = done {
            break session;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "the Python proxy recorded no two results in two minutes"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    proxy.kill().expect("kill the Python proxy");
    proxy.wait().expect("reap it");
    drop(input);
    let meta = env.meta(&session);
    assert!(
        meta.get("tool_calls").is_none(),
        "it wrote counters now: {meta}"
    );

    let list = env.run(&["list", "--format", "json"]);
    list.success();
    assert_eq!(list.json()[0]["tool_calls"], 2, "{}", list.stdout);
    let replay = env.run(&["replay", &session]);
    replay.success();
    assert!(
        replay.stdout.contains("Tool calls: 2\n"),
        "{}",
        replay.stdout
    );
}

/// The Python tool's `import` links no result to its call by `parent_id` (the call keeps the
/// agent's id as `request_id`, the result names it as `tool_use_id`), and neither its import
/// nor its hooks write file events. `explain` of an imported transcript that read a file said
/// "Files touched: 0 read, 0 written"; `sql`'s `files` held no file of either; and `lint` took a
/// hooks session's failed edit for a file written. A result answers the call its
/// `tool_use_id` names, and a file tool's call that succeeded counts its file, one rule for all.
#[test]
fn files_python_sessions_touched_count_in_explain_sql_and_lint() {
    let py = python();
    let transcript =
        crate::common::shared().join("corpus/claude-code/marot__spotter/tool_heavy.jsonl");
    let env = TestEnv::new();
    let mut cmd = Python::command(&env, &py.cli);
    cmd.arg("import").arg(&transcript);
    let run = Python::output(&mut cmd);
    assert_eq!(run.code, 0, "Python import: {run:?}");
    let id = env.sessions()[0].clone();
    // Its results name no tool: each is shown with its call's.
    let replay = env.run(&["replay", &id]);
    replay.success();
    let results: Vec<&str> = replay
        .stdout
        .lines()
        .filter(|l| l.contains("← tool_result"))
        .map(|l| l.rsplit("tool_result").next().unwrap().trim())
        .collect();
    assert_eq!(
        results,
        ["Bash", "Bash", "Glob", "WebSearch", "Read", "WebFetch"],
        "{}",
        replay.stdout
    );
    // A Read, and a `tail` of a file (a shell line's certain read, as our import counts it).
    let explain = env.run(&["explain", &id]);
    explain.success();
    assert!(
        explain.stdout.contains("Files touched: 2 read, 0 written"),
        "{}",
        explain.stdout
    );
    let files = env.run(&[
        "sql",
        "select path, reads, writes from files order by path",
        "--format",
        "json",
    ]);
    files.success();
    assert_eq!(
        files.json(),
        json!([
            {"path": "/home/marco/projects/spotter/assets/js/app.js", "reads": 1, "writes": 0},
            {"path": "/tmp/claude-1000/-home-marco-projects-spotter/tasks/bae407b.output", "reads": 1, "writes": 0}
        ]),
        "{}",
        files.stdout
    );

    // A session of the Python hooks that read a file and failed to edit another.
    let env = TestEnv::new();
    let call = |tool: &str, path: &str, id: &str| json!({"tool_name": tool, "tool_input": {"file_path": path}, "tool_use_id": id});
    let read = call("Read", "/p/src/a.py", "toolu_1");
    let edit = call("Edit", "/p/src/b.py", "toolu_2");
    let steps = [
        (
            "session-start",
            "SessionStart",
            json!({"source": "startup"}),
        ),
        (
            "user-prompt",
            "UserPromptSubmit",
            json!({"prompt": "fix b.py"}),
        ),
        ("pre-tool", "PreToolUse", read.clone()),
        ("post-tool", "PostToolUse", {
            let mut done = read;
            done["tool_response"] = json!({"type": "text"});
            done
        }),
        ("pre-tool", "PreToolUse", edit.clone()),
        ("post-tool-failure", "PostToolUseFailure", {
            let mut failed = edit;
            failed["error"] = json!("String to replace not found in file.");
            failed
        }),
        ("session-end", "SessionEnd", json!({"reason": "exit"})),
    ];
    for (arg, name, extra) in steps {
        py.hook(&env, arg, &payload(SID, name, extra), &[]);
    }
    let id = &SID[..16];
    let files = env.run(&[
        "sql",
        "select path, reads, writes from files",
        "--format",
        "json",
    ]);
    files.success();
    assert_eq!(
        files.json(),
        json!([{"path": "/p/src/a.py", "reads": 1, "writes": 0}]),
        "{}",
        files.stdout
    );
    let lint = env.run(&["lint", id, "--format", "json"]);
    let report = lint.json();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"no-output"), "{}", lint.stdout);
}

/// The Python tool's stdio proxy keeps a result as its first 200 characters, `content_preview`,
/// and a resource read as a `file_read` naming its `uri`. Our `replay` showed the result and
/// the read with nothing under them, and `stats` and `sql` counted no file read.
#[test]
fn a_session_the_python_proxy_recorded_shows_its_results_and_resources() {
    let py = python();
    let input = concat!(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
        "\n",
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}"#,
        "\n",
        r#"{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"demo://doc/a.md"}}"#,
        "\n"
    );
    let server = concat!(
        r#"read a; echo '{"jsonrpc":"2.0","id":1,"result":{}}'; "#,
        r#"read b; echo '{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"Echo: hi"}]}}'; "#,
        r#"read c; echo '{"jsonrpc":"2.0","id":3,"result":{"contents":[{"uri":"demo://doc/a.md","text":"A"}]}}'"#
    );
    // Its proxy loses an event now and then as it ends (its threads write the file at once):
    // the client's input is closed only once the last answer came back (closed at once, a
    // loaded machine lost one in each of ten runs), and a run that still lost one is run
    // again, in a new store, until it kept both.
    let recorded = |env: &TestEnv| {
        env.sessions().first().is_some_and(|s| {
            let kinds: Vec<Value> = env
                .events(s)
                .iter()
                .map(|e| e["event_type"].clone())
                .collect();
            kinds.contains(&json!("tool_result")) && kinds.contains(&json!("file_read"))
        })
    };
    let env = (0..10)
        .map(|_| {
            let env = TestEnv::new();
            let mut cmd = Python::command(&env, &py.cli);
            cmd.args(["record", "--name", "echo", "--", "sh", "-c", server]);
            relay_until_answered(cmd, input.as_bytes(), "\"id\": 3");
            env
        })
        .find(|env| recorded(env))
        .expect("the Python proxy kept a result and a resource read in one of ten runs");
    let session = &env.sessions()[0];
    let stored = env.events(session);
    let result = only(&stored, "result", |e| e["event_type"] == "tool_result");
    assert_eq!(result["data"]["content_preview"], "Echo: hi", "{result}");
    let read = only(&stored, "resource read", |e| e["event_type"] == "file_read");
    assert_eq!(read["data"]["uri"], "demo://doc/a.md", "{read}");

    let replay = env.run(&["replay", session]);
    replay.success();
    let lines: Vec<&str> = replay.stdout.lines().collect();
    let under = |what: &str| {
        let at = lines
            .iter()
            .position(|l| l.contains(what))
            .unwrap_or_else(|| panic!("no {what}: {}", replay.stdout));
        lines.get(at + 1).map_or("", |l| l.trim())
    };
    assert_eq!(under("← tool_result"), "Echo: hi", "{}", replay.stdout);
    // The result names no tool: it is shown with its call's.
    assert!(
        lines.iter().any(|l| l.contains("← tool_result echo")),
        "{}",
        replay.stdout
    );
    assert_eq!(
        under("📖 file_read"),
        "demo://doc/a.md",
        "{}",
        replay.stdout
    );
    let stats = env.run(&["stats", session, "--format", "json"]);
    stats.success();
    assert_eq!(stats.json()["files_read"], 1, "{}", stats.stdout);
    let files = env.run(&["sql", "select path, reads from files"]);
    files.success();
    assert!(files.stdout.contains("demo://doc/a.md"), "{}", files.stdout);
}

// ---------------------------------------------------------------------------------------------
// 2. Lone surrogates: what Python writes for bytes that are not UTF-8
// ---------------------------------------------------------------------------------------------

/// The 64 hex digits of `"prev_hash"` in a raw line (which serde_json cannot parse).
fn raw_prev_hash(line: &str) -> &str {
    let at = line.find(r#""prev_hash":""#).expect("a prev_hash") + 13;
    &line[at..at + 64]
}

#[test]
fn lone_surrogates_python_writes_are_read_as_replacement_characters() {
    let py = python();
    let env = TestEnv::new();
    // Through its hook: a prompt holding a byte that is not UTF-8. Python reads stdin with
    // surrogateescape, so the byte becomes '\udcff' and json.dumps writes the escape `\udcff`.
    let hook_sid = "0f6c2b7e-91aa-4d5e-8c1b-3a9d7e6f5a42";
    let mut stdin = payload(
        hook_sid,
        "UserPromptSubmit",
        json!({"prompt": "bad BYTE byte", "cwd": env.path()}),
    )
    .to_string()
    .into_bytes();
    let at = stdin.windows(4).position(|w| w == b"BYTE").unwrap();
    stdin.splice(at..at + 4, [0xFF]);
    py.hook_bytes(
        &env,
        "user-prompt",
        &stdin,
        &[("PYTHONIOENCODING", "utf-8:surrogateescape")],
    );
    // Through its API: a tool result holding '\udcff', '\ud800' and a real astral character.
    let api_sid = "py-fixed-session";
    py.script(
        &env,
        "write_session.py",
        &[&env.store(), Path::new(api_sid)],
    );

    let hook_id = &hook_sid[..16];
    let raw =
        |id: &str| std::fs::read_to_string(env.store().join(id).join("events.ndjson")).unwrap();
    let hook_raw = raw(hook_id);
    assert!(
        hook_raw.contains(r#""prompt":"bad \udcff byte""#),
        "{hook_raw}"
    );
    let api_raw = raw(api_sid);
    let api_lines: Vec<&str> = api_raw.lines().collect();
    assert_eq!(api_lines.len(), 7);
    assert!(
        api_lines[3].contains(r#""result":"log \udcff\ud800 end \ud83d\ude00""#),
        "{}",
        api_lines[3]
    );

    // replay keeps the events and warns about nothing.
    let replay = env.run(&["replay", hook_id]);
    assert_eq!(replay.success().stderr, "");
    assert!(
        replay
            .stdout
            .contains("👤 user_prompt\n             \"bad \u{fffd} byte\""),
        "{}",
        replay.stdout
    );
    let replay = env.run(&["replay", api_sid]);
    assert_eq!(replay.success().stderr, "");
    assert!(
        replay.stdout.contains(
            "← tool_result Bash (267ms)\n             log \u{fffd}\u{fffd} end \u{1F600}"
        ),
        "{}",
        replay.stdout
    );
    assert!(replay.stdout.contains("#7 "), "{}", replay.stdout);

    // inspect prints them with U+FFFD for each lone surrogate, a real pair kept, and the event's
    // other fields as stored.
    let inspect = env.run(&["inspect", hook_id]);
    assert_eq!(inspect.success().stderr, "");
    let events = inspect.json()["events"].as_array().unwrap().clone();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["data"]["prompt"], "bad \u{fffd} byte");
    assert_eq!(events[0]["session_id"], hook_id);

    let inspect = env.run(&["inspect", api_sid]);
    assert_eq!(inspect.success().stderr, "");
    let events = inspect.json()["events"].as_array().unwrap().clone();
    assert_eq!(events.len(), 7);
    let result = &events[3];
    assert_eq!(result["event_id"], "a00000000004");
    assert_eq!(result["parent_id"], "a00000000003");
    assert_eq!(
        result["data"]["result"],
        "log \u{fffd}\u{fffd} end \u{1F600}"
    );
    assert_eq!(result["prev_hash"], raw_prev_hash(api_lines[3]));
    assert_eq!(events[4]["prev_hash"], raw_prev_hash(api_lines[4]));

    // The prompt is the session's first prompt, and nothing is lost from the counts.
    let listed = env.run(&["list", "--format", "json"]).success().json();
    let listed_hook = only(listed.as_array().unwrap(), "hook session", |s| {
        s["session_id"] == hook_id
    });
    assert_eq!(listed_hook["first_prompt"], "bad \u{fffd} byte");
    let stats = env.run(&["stats", api_sid, "--format", "json"]);
    assert_eq!(stats.success().stderr, "");
    let stats = stats.json();
    assert_eq!(
        (&stats["events"], &stats["tool_calls"], &stats["errors"]),
        (&json!(7), &json!(2), &json!(1))
    );
}

/// Every value `inspect` prints for a session the Python tool wrote is the value stored, as
/// Python's own JSON reader sees both (so floats are compared exactly).
#[test]
fn inspect_keeps_every_python_value_exactly() {
    let py = python();
    let env = TestEnv::new();
    let id = "py-fixed-session";
    py.script(&env, "write_session.py", &[&env.store(), Path::new(id)]);
    let inspect = env.run(&["inspect", id]);
    assert_eq!(inspect.success().stderr, "");
    let output = env.path().join("inspect.json");
    std::fs::write(&output, &inspect.stdout).unwrap();
    let diff = py.script(
        &env,
        "compare_inspect.py",
        &[&output, &env.store().join(id)],
    );
    assert_eq!(
        diff.stdout, "",
        "inspect changed values the Python tool wrote"
    );
}

/// The Python tool changes a session's meta.json alone (its hooks count a call after
/// appending the call's event) by renaming a new file over it. Our index watches such a
/// session's folder, not its meta.json: the new figure is read even when the folder had been
/// left alone long before the index last looked.
#[test]
fn a_meta_json_the_python_tool_replaces_alone_is_read_again_by_our_listing() {
    let py = python();
    let env = TestEnv::new();
    let id = "py-fixed-session";
    py.script(&env, "write_session.py", &[&env.store(), Path::new(id)]);
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    // A session left alone for an hour: its folder and files last changed then.
    let folder = env.store().join(id);
    for path in [
        folder.join("meta.json"),
        folder.join("events.ndjson"),
        folder.clone(),
    ] {
        std::fs::File::open(path)
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
    }
    let tool_calls = || {
        let list = env.run(&["list", "--format", "json"]);
        list.success();
        list.json()[0]["tool_calls"].as_u64()
    };
    assert_eq!(tool_calls(), Some(2));
    assert_eq!(tool_calls(), Some(2));

    let events = std::fs::read(folder.join("events.ndjson")).unwrap();
    py.script(
        &env,
        "update_meta.py",
        &[&env.store(), Path::new(id), Path::new("5")],
    );
    assert_eq!(
        std::fs::read(folder.join("events.ndjson")).unwrap(),
        events,
        "the events stay as they were"
    );
    assert_eq!(tool_calls(), Some(5));
}

// ---------------------------------------------------------------------------------------------
// 3. We write, the Python tool reads
// ---------------------------------------------------------------------------------------------

fn child_id() -> String {
    format!("agent-{AGENT_ID}-{SID}")
}

const PROMPT: &str = "fix the failing test ☕ (café)";

/// Records a session with our hooks: prompt, calls with results, a failure, a Read, a
/// notification, and a subagent with a call of its own.
fn record_our_session(env: &TestEnv) {
    let p = |event: &str, extra: Value| payload(SID, event, extra);
    let bash = |cmd: &str, id: &str| json!({"tool_name": "Bash", "tool_input": {"command": cmd}, "tool_use_id": id});
    let agent = json!({"tool_name": "Agent", "tool_input": {"description": "explore", "prompt": "find the bug", "subagent_type": "Explore"}, "tool_use_id": "toolu_4"});
    let grep = json!({"agent_id": AGENT_ID, "agent_type": "Explore", "tool_name": "Grep", "tool_input": {"pattern": "bug"}, "tool_use_id": "toolu_5"});
    let read = json!({"tool_name": "Read", "tool_input": {"file_path": "/p/a.py"}, "tool_use_id": "toolu_2"});
    let plus = |base: &Value, extra: Value| {
        let mut v = base.clone();
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    let steps = [
        (
            "session-start",
            p("SessionStart", json!({"source": "startup"})),
        ),
        (
            "user-prompt",
            p("UserPromptSubmit", json!({"prompt": PROMPT})),
        ),
        ("pre-tool", p("PreToolUse", bash("pytest -q", "toolu_1"))),
        (
            "post-tool",
            p(
                "PostToolUse",
                plus(
                    &bash("pytest -q", "toolu_1"),
                    json!({"tool_response": {"stdout": "1 failed", "stderr": "", "interrupted": false}}),
                ),
            ),
        ),
        ("pre-tool", p("PreToolUse", read.clone())),
        (
            "post-tool",
            p(
                "PostToolUse",
                plus(
                    &read,
                    json!({"tool_response": {"type": "text", "file": {"filePath": "/p/a.py", "content": "x = 1"}}}),
                ),
            ),
        ),
        ("pre-tool", p("PreToolUse", bash("make", "toolu_3"))),
        (
            "post-tool-failure",
            p(
                "PostToolUseFailure",
                plus(
                    &bash("make", "toolu_3"),
                    json!({"error": "Exit code 2", "is_interrupt": false}),
                ),
            ),
        ),
        (
            "notification",
            p(
                "Notification",
                json!({"message": "Claude needs your permission to use Bash", "notification_type": "permission_prompt"}),
            ),
        ),
        ("pre-tool", p("PreToolUse", agent.clone())),
        (
            "subagent-start",
            p(
                "SubagentStart",
                json!({"agent_id": AGENT_ID, "agent_type": "Explore"}),
            ),
        ),
        ("pre-tool", p("PreToolUse", grep.clone())),
        (
            "post-tool",
            p(
                "PostToolUse",
                plus(
                    &grep,
                    json!({"tool_response": {"numFiles": 1, "filenames": ["/p/a.py"]}}),
                ),
            ),
        ),
        (
            "subagent-stop",
            p(
                "SubagentStop",
                json!({"agent_id": AGENT_ID, "agent_type": "Explore", "last_assistant_message": "The bug is in a.py", "stop_hook_active": false}),
            ),
        ),
        (
            "post-tool",
            p(
                "PostToolUse",
                plus(
                    &agent,
                    json!({"tool_response": {"content": [{"type": "text", "text": "The bug is in a.py"}]}}),
                ),
            ),
        ),
        (
            "stop",
            p(
                "Stop",
                json!({"stop_hook_active": false, "last_assistant_message": "Fixed."}),
            ),
        ),
        ("session-end", p("SessionEnd", json!({"reason": "exit"}))),
    ];
    for (arg, payload) in &steps {
        env.hook(arg, payload).success();
    }
    assert!(!env.store().join("hook-errors.log").exists());
    assert_eq!(env.sessions(), {
        let mut ids = vec![SID.to_owned(), child_id()];
        ids.sort();
        ids
    });
}

#[test]
fn a_session_recorded_by_our_hooks_reads_in_the_python_cli_and_api() {
    let py = python();
    let env = TestEnv::new();
    record_our_session(&env);
    let child = child_id();
    let ours = env.events(SID);
    assert_eq!(
        kinds(&ours),
        [
            "session_start",
            "user_prompt",
            "tool_call",
            "tool_result",
            "tool_call",
            "tool_result",
            "file_read",
            "tool_call",
            "error",
            "decision",
            "tool_call",
            "subagent_start",
            "subagent_stop",
            "tool_result",
            "assistant_response",
            "session_end"
        ],
        "what our hooks wrote"
    );
    let ours_child = env.events(&child);

    // list: both sessions, with our counters.
    let list = py.read(&env, &["list"]);
    let row = |id: &str| -> Vec<String> {
        let line = list
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("Python list has no row for {id}:\n{}", list.stdout));
        // ... TOOLS LLM ERR at the end of the row.
        let cols: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        cols[cols.len() - 3..].to_vec()
    };
    assert_eq!(row(SID), ["4", "0", "1"], "tools, LLM, errors");
    assert_eq!(row(&child), ["1", "0", "0"]);
    assert!(list.stdout.contains("2 session(s)"), "{}", list.stdout);

    // replay: the summary from our meta and every event.
    let replay = py.read(&env, &["replay", SID]);
    let out = &replay.stdout;
    let lines: Vec<String> = out.lines().map(squeeze).collect();
    for expected in [
        format!("Session: {SID}"),
        "Command: claude-code (startup)".into(),
        "Agent: claude-code".into(),
        "Tool calls: 4".into(),
        "Errors: 1".into(),
        format!("\"{PROMPT}\""),
        "$ pytest -q".into(),
        "\"Fixed.\"".into(),
        "Exit code 2".into(),
        // A hook event of no kind of its own is named by its `choice` there.
        "◆ decision Notification".into(),
        format!("⤷ subagent_start Explore child={child} agent={AGENT_ID}"),
        format!("⤶ subagent_stop Explore child={child} agent={AGENT_ID}"),
    ] {
        assert!(
            lines.iter().any(|l| l.contains(&expected)),
            "Python replay lacks {expected:?}:\n{out}"
        );
    }
    for tool in ["Bash", "Read", "Agent"] {
        assert!(
            lines
                .iter()
                .any(|l| l.ends_with(&format!("tool_call {tool}"))),
            "no tool_call {tool}:\n{out}"
        );
    }
    assert!(lines.iter().any(|l| l.contains("✗ error Bash")), "{out}");
    let shown = lines.iter().filter(|l| l.starts_with("+ ")).count();
    assert_eq!(shown, ours.len(), "Python replay shows every event:\n{out}");

    // stats: calls per tool and the error count.
    let tool_counts = |run: &Run| -> BTreeMap<String, String> {
        run.stdout
            .lines()
            .skip_while(|l| !l.contains("Tool Call Frequency:"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .map(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                (cols[0].to_owned(), cols[1].to_owned())
            })
            .collect()
    };
    let stats = py.read(&env, &["stats", SID]);
    assert_eq!(
        tool_counts(&stats),
        BTreeMap::from([
            ("Agent".into(), "1x".into()),
            ("Bash".into(), "2x".into()),
            ("Read".into(), "1x".into())
        ]),
        "{}",
        stats.stdout
    );
    let stats_lines: Vec<String> = stats.stdout.lines().map(squeeze).collect();
    assert!(
        stats_lines.contains(&"Tool calls: 4".to_owned()),
        "{}",
        stats.stdout
    );
    assert!(
        stats_lines.contains(&"Errors (1):".to_owned()),
        "{}",
        stats.stdout
    );
    let stats = py.read(&env, &["stats", &child]);
    assert_eq!(
        tool_counts(&stats),
        BTreeMap::from([("Grep".into(), "1x".into())]),
        "{}",
        stats.stdout
    );
    // With subagents: the Python tool follows our parent link to the child session.
    let stats = py.read(&env, &["stats", SID, "--include-subagents"]);
    let stats_lines: Vec<String> = stats.stdout.lines().map(squeeze).collect();
    for expected in ["Sessions: 2", "Tool calls: 5", "Errors: 1"] {
        assert!(
            stats_lines.iter().any(|l| l == expected),
            "lacks {expected:?}:\n{}",
            stats.stdout
        );
    }

    // inspect: our meta and our events, in order.
    let inspect = py.read(&env, &["inspect", SID]).json();
    assert_eq!(inspect["session"]["session_id"], SID);
    assert_eq!(inspect["session"]["tool_calls"], 4);
    assert_eq!(inspect["session"]["errors"], 1);
    let theirs = inspect["events"].as_array().unwrap();
    let ids = |events: &[Value]| -> Vec<(String, String)> {
        events
            .iter()
            .map(|e| {
                (
                    e["event_type"].as_str().unwrap().to_owned(),
                    e["event_id"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(ids(theirs), ids(&ours));
    assert_eq!(theirs[1]["data"]["prompt"], PROMPT);

    // The Python API: both sessions load strictly (no key of ours breaks its dataclasses),
    // with the counts, types and links it sees.
    let loaded = py.script(&env, "load_sessions.py", &[&env.store()]);
    assert_eq!(loaded.stderr, "");
    let loaded: Value = serde_json::from_str(&loaded.stdout).unwrap();
    let sessions = loaded["sessions"].as_object().unwrap();
    let mut names: Vec<&String> = sessions.keys().collect();
    names.sort();
    assert_eq!(names, [&SID.to_owned(), &child]);

    let parent = &sessions[SID];
    let meta = &parent["meta"];
    assert_eq!(
        (&meta["tool_calls"], &meta["errors"], &meta["depth"]),
        (&json!(4), &json!(1), &json!(0))
    );
    assert_eq!(meta["agent_name"], "claude-code");
    assert!(meta["ended_at"].as_f64().unwrap() >= meta["started_at"].as_f64().unwrap());
    let events = parent["events"].as_array().unwrap();
    assert_eq!(kinds(events), kinds(&ours));
    assert_eq!(events[1]["data"]["prompt"], PROMPT);
    for result in events
        .iter()
        .filter(|e| ["tool_result", "error"].contains(&e["event_type"].as_str().unwrap()))
    {
        // The call Claude Code answered (same tool_use_id) is the one the result links to.
        let call = only(events, "call", |e| {
            e["event_type"] == "tool_call"
                && e["data"]["tool_use_id"] == result["data"]["tool_use_id"]
        });
        assert_eq!(call["data"]["tool_name"], result["data"]["tool_name"]);
        assert_eq!(result["parent_id"], call["event_id"], "{result}");
        assert!(result["duration_ms"].as_f64().unwrap() >= 0.0);
    }
    let read_call = only(events, "Read call", is_call_of("Read"));
    let file_read = only(events, "file_read", |e| e["event_type"] == "file_read");
    assert_eq!(file_read["data"]["path"], "/p/a.py");
    assert_eq!(file_read["parent_id"], read_call["event_id"]);
    let decision = only(events, "decision", |e| e["event_type"] == "decision");
    assert_eq!(decision["data"]["hook_event_name"], "Notification");
    assert_eq!(
        decision["data"]["message"],
        "Claude needs your permission to use Bash"
    );
    let spawn = only(events, "Agent call", is_call_of("Agent"));
    for kind in ["subagent_start", "subagent_stop"] {
        let marker = only(events, kind, |e| e["event_type"] == kind);
        assert_eq!(marker["parent_id"], spawn["event_id"], "{marker}");
        assert_eq!(marker["data"]["child_session_id"], child.as_str());
    }

    let sub = &sessions[child.as_str()];
    let meta = &sub["meta"];
    assert_eq!(meta["parent_session_id"], SID);
    assert_eq!(meta["parent_event_id"], spawn["event_id"]);
    assert_eq!(meta["depth"], 1);
    assert_eq!(meta["tool_calls"], 1);
    assert_eq!(meta["command"], "subagent (Explore)");
    let events = sub["events"].as_array().unwrap();
    assert_eq!(kinds(events), kinds(&ours_child));
    assert_eq!(
        kinds(events),
        [
            "session_start",
            "tool_call",
            "tool_result",
            "assistant_response",
            "session_end"
        ]
    );
    let grep = only(events, "Grep call", is_call_of("Grep"));
    let grep_result = only(events, "Grep result", |e| e["event_type"] == "tool_result");
    assert_eq!(grep_result["parent_id"], grep["event_id"]);
}

/// Our hooks and imports name the file of a `file_read` or `file_write` by `path`, and the Python
/// tool's `replay` shows a file event by its `uri` alone (its proxy's MCP resources): each of
/// ours read there `📖 file_read` and no file. Both keys are written, the same file in each.
#[test]
fn python_replay_names_the_files_our_hooks_and_our_import_recorded() {
    let py = python();
    let file_lines = |replay: &Run| -> Vec<String> {
        (replay.stdout.lines().map(squeeze))
            .filter(|l| l.contains(" file_read") || l.contains(" file_write"))
            .collect()
    };
    let hooked = TestEnv::new();
    record_our_session(&hooked);
    let replay = py.read(&hooked, &["replay", SID]);
    let lines = file_lines(&replay);
    assert_eq!(lines.len(), 1, "{}", replay.stdout);
    assert!(
        lines[0].ends_with("📖 file_read /p/a.py"),
        "{}",
        replay.stdout
    );
    let read = only(&hooked.events(SID), "file_read", |e| {
        e["event_type"] == "file_read"
    })
    .clone();
    assert_eq!(
        (&read["data"]["path"], &read["data"]["uri"]),
        (&json!("/p/a.py"), &json!("/p/a.py"))
    );

    let imported = TestEnv::new();
    let transcript =
        crate::common::shared().join("corpus/claude-code/marot__spotter/tool_heavy.jsonl");
    imported
        .run(&["import", transcript.to_str().unwrap()])
        .success();
    let id = imported.sessions()[0].clone();
    let replay = py.read(&imported, &["replay", &id]);
    assert_eq!(
        file_lines(&replay)
            .iter()
            .map(|l| l.split(" file_read ").nth(1).unwrap_or_default())
            .collect::<Vec<_>>(),
        [
            "/tmp/claude-1000/-home-marco-projects-spotter/tasks/bae407b.output",
            "/home/marco/projects/spotter/assets/js/app.js"
        ],
        "{}",
        replay.stdout
    );
}

/// The messages the Python tool's `stats` lists under "Errors (N):", one a line.
fn python_error_lines(stats: &Run) -> Vec<String> {
    (stats.stdout.lines())
        .skip_while(|l| !l.trim_start().starts_with("Errors ("))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_owned())
        .collect()
}

/// A transcript of the corpus imported by our binary into a new store, and the session.
fn our_import(file: &str) -> (TestEnv, String) {
    let env = TestEnv::new();
    let path = crate::common::shared().join("corpus").join(file);
    env.run(&["import", path.to_str().unwrap()]).success();
    let id = env.sessions()[0].clone();
    (env, id)
}

/// The Python tool's `stats` lists a session's errors by their `message`, a key our error
/// events did not carry (they say it under `error`): each error our hooks, our import and our
/// stdio proxy recorded was listed there as "unknown". The text is written under both keys.
#[test]
fn python_stats_names_the_errors_our_hooks_import_and_proxy_recorded() {
    let py = python();
    let hooked = TestEnv::new();
    record_our_session(&hooked);
    let stats = py.read(&hooked, &["stats", SID]);
    assert_eq!(
        python_error_lines(&stats),
        ["Exit code 2"],
        "{}",
        stats.stdout
    );
    let error = only(&hooked.events(SID), "error", |e| e["event_type"] == "error").clone();
    assert_eq!(
        (&error["data"]["error"], &error["data"]["message"]),
        (&json!("Exit code 2"), &json!("Exit code 2"))
    );

    // Two calls the user refused, in a transcript: the Python tool shows 80 characters of each.
    let (imported, id) = our_import("claude-code/marot__spotter/short.jsonl");
    let errors: Vec<String> = (imported.events(&id).iter())
        .filter(|e| e["event_type"] == "error")
        .map(|e| {
            e["data"]["error"]
                .as_str()
                .unwrap()
                .chars()
                .take(80)
                .collect()
        })
        .collect();
    assert_eq!(errors.len(), 2);
    assert!(errors[0].starts_with("The user doesn't want to proceed"));
    let stats = py.read(&imported, &["stats", &id]);
    assert_eq!(python_error_lines(&stats), errors, "{}", stats.stdout);

    // A JSON-RPC error and a tool result marked isError, through our stdio proxy.
    let proxied = TestEnv::new();
    let input = concat!(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope","arguments":{}}}"#,
        "\n",
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"fail","arguments":{}}}"#,
        "\n"
    );
    let server = r#"read a; echo '{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Unknown tool: nope"}}'; read b; echo '{"jsonrpc":"2.0","id":2,"result":{"isError":true,"content":[{"type":"text","text":"it failed"}]}}'"#;
    let run = proxied.run_with_stdin(
        &["record", "--name", "errs", "--", "sh", "-c", server],
        input.as_bytes(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let session = proxied.sessions()[0].clone();
    let stats = py.read(&proxied, &["stats", &session]);
    assert_eq!(
        python_error_lines(&stats),
        ["Unknown tool: nope", "it failed"],
        "{}",
        stats.stdout
    );
    let replay = py.read(&proxied, &["replay", &session]);
    let lines: Vec<String> = replay.stdout.lines().map(squeeze).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("✗ error nope (code: -32602)")),
        "{}",
        replay.stdout
    );
}

/// The tokens of each `llm_response` as the Python tool's `replay` shows them, in order.
fn python_replayed_tokens(replay: &Run) -> Vec<u64> {
    (replay.stdout.lines().map(squeeze))
        .filter(|l| l.contains(" llm_response"))
        .map(|l| {
            l.split(" llm_response ")
                .nth(1)
                .and_then(|rest| rest.strip_prefix('('))
                .and_then(|rest| rest.split(" tokens)").next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no tokens on {l:?}"))
        })
        .collect()
}

/// The Python tool reads an `llm_response`'s tokens from `total_tokens` (its `replay`,
/// `timeline`), and its OTLP export from `output_tokens`; ours put them in `usage` alone, so
/// every response our imports wrote showed there no token. Each is written beside the usage:
/// the responses of a Claude Code transcript sum to ccusage's total (106,193 for
/// tool_heavy.jsonl), those of Codex, Gemini CLI and Copilot CLI logs to our own `stats`'.
#[test]
fn python_replay_shows_the_tokens_of_the_responses_our_imports_recorded() {
    let py = python();
    for (file, total) in [
        ("claude-code/marot__spotter/tool_heavy.jsonl", Some(106_193)),
        (
            "codex/madshn__localpush/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl",
            None,
        ),
        (
            "gemini/Mai0313__VibeCodingTracker/gemini-session.jsonl",
            None,
        ),
        (
            "copilot/Mai0313__VibeCodingTracker/copilot-session.jsonl",
            None,
        ),
    ] {
        let (env, id) = our_import(file);
        let ours = env.run(&["stats", &id, "--format", "json"]).json();
        let responses = (env.events(&id).iter())
            .filter(|e| e["event_type"] == "llm_response")
            .count();
        assert!(responses > 0, "{file}");
        let replay = py.read(&env, &["replay", &id]);
        let tokens = python_replayed_tokens(&replay);
        assert_eq!(tokens.len(), responses, "{file}:\n{}", replay.stdout);
        assert!(tokens.iter().all(|t| *t > 0), "{file}: {tokens:?}");
        let sum: u64 = tokens.iter().sum();
        assert_eq!(json!(sum), ours["tokens"], "{file}");
        if let Some(total) = total {
            assert_eq!(sum, total, "{file}");
        }
    }

    // Its OTLP export puts a response's output tokens on its span event: 212 for tool_heavy.
    let (env, id) = our_import("claude-code/marot__spotter/tool_heavy.jsonl");
    let file = env.path().join("otlp.json");
    py.read(
        &env,
        &[
            "export",
            &id,
            "--format",
            "otlp",
            "--output",
            file.to_str().unwrap(),
        ],
    );
    let otlp: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let mut output = 0;
    let mut attributes = vec![&otlp];
    while let Some(value) = attributes.pop() {
        match value {
            Value::Object(map) => {
                if map.get("key") == Some(&json!("gen_ai.usage.output_tokens")) {
                    let v = &map["value"];
                    output += v["intValue"]
                        .as_str()
                        .map_or_else(|| v["intValue"].as_u64(), |s| s.parse().ok())
                        .unwrap();
                }
                attributes.extend(map.values());
            }
            Value::Array(items) => attributes.extend(items),
            _ => {}
        }
    }
    assert_eq!(output, 212);
}

/// The Python tool's subagent view slices every tool result as text; ours must be text for it.
#[test]
fn python_replay_expand_subagents_reads_our_session() {
    let py = python();
    let env = TestEnv::new();
    record_our_session(&env);
    let run = py.read(&env, &["replay", SID, "--expand-subagents"]);
    let lines: Vec<String> = run.stdout.lines().map(squeeze).collect();
    // The subagent's own events appear nested under the call that spawned it.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("└─") && l.contains("→ tool_call Grep")),
        "{}",
        run.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("← tool_result") && l.contains("1 failed")),
        "{}",
        run.stdout
    );
}

#[test]
fn a_session_recorded_by_our_stdio_proxy_reads_in_the_python_cli() {
    let py = python();
    let env = TestEnv::new();
    let input = concat!(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
        "\n",
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}"#,
        "\n"
    );
    // A server that answers the call, written in shell: read two lines, answer the second.
    let server = r#"read a; echo '{"jsonrpc":"2.0","id":1,"result":{}}'; read b; echo '{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"Echo: hi"}]}}'"#;
    let run = env.run_with_stdin(
        &["record", "--name", "echo", "--", "sh", "-c", server],
        input.as_bytes(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let session = &env.sessions()[0];
    let replay = py.read(&env, &["replay", session]);
    let lines: Vec<String> = replay.stdout.lines().map(squeeze).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("▶ session_start sh -c read a;")),
        "the command reads as its arguments: {}",
        replay.stdout
    );
    assert!(
        lines.iter().any(|l| l.contains("→ tool_call echo")),
        "{}",
        replay.stdout
    );
    // An MCP method of no kind of its own is named by its `choice` there, request and answer.
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.ends_with("◆ decision initialize"))
            .count(),
        2,
        "{}",
        replay.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("← tool_result echo") && l.contains("ms)")),
        "{}",
        replay.stdout
    );
    let list = py.read(&env, &["list"]);
    assert!(list.stdout.contains(session.as_str()), "{}", list.stdout);
}

#[test]
fn a_store_holding_the_session_index_lists_and_replays_in_the_python_tool() {
    let py = python();
    let env = TestEnv::new();
    record_our_session(&env);
    let list_before = py.read(&env, &["list"]).stdout;
    let replay_before = py.read(&env, &["replay", SID]).stdout;
    // Our listing builds the index; a reader holding it open keeps its -wal and -shm beside it.
    env.run(&["list"]).success();
    let index = env.store().join(".index.sqlite");
    assert!(index.is_file(), "list made no index");
    for side in [".index.sqlite-wal", ".index.sqlite-shm"] {
        std::fs::write(env.store().join(side), b"").unwrap();
    }
    let list_after = py.read(&env, &["list"]);
    assert_eq!(list_after.stdout, list_before, "{}", list_after.stderr);
    assert!(
        !list_after.stdout.contains(".index"),
        "{}",
        list_after.stdout
    );
    assert_eq!(py.read(&env, &["replay", SID]).stdout, replay_before);
    // And ours still reads the store (the empty side files are SQLite's to mend).
    let ours = env.run(&["list", "--all", "--format", "json"]);
    ours.success();
    assert!(ours.stderr.is_empty(), "{}", ours.stderr);
    assert_eq!(ours.json().as_array().unwrap().len(), 2);
}

/// A call made in a folder other than the one the agent was started in (`CLAUDE_PROJECT_DIR`;
/// a Bash `cd` moved it) records that folder under `cwd`, which `audit` judges it from. It is
/// scrubbed and cut as any field is, and the Python tool's CLI and API read the session as any
/// other: the key is one more in a call's data, which it keeps as it comes.
#[test]
fn a_call_that_records_its_folder_reads_in_the_python_cli_and_api() {
    let py = python();
    let env = TestEnv::new();
    let project = env.path().to_string_lossy().into_owned();
    let token = format!("ghp_{}", "a".repeat(36));
    let folders = [
        project.clone(),
        format!("{project}/src"),
        format!("{project}/{token}"),
        format!("{project}/{}", "d".repeat(300 * 1024)),
    ];
    let session = "moved-folder";
    let p = |event: &str, extra: Value| payload(session, event, extra);
    let mut steps = vec![(
        "session-start",
        p("SessionStart", json!({"source": "startup", "cwd": project})),
    )];
    for (i, cwd) in folders.iter().enumerate() {
        let call = json!({"tool_name": "Bash", "tool_input": {"command": "ls"},
                          "tool_use_id": format!("toolu_{i}"), "cwd": cwd});
        let mut result = call.clone();
        result["tool_response"] = json!({"stdout": "a.py", "stderr": ""});
        steps.push(("pre-tool", p("PreToolUse", call)));
        steps.push(("post-tool", p("PostToolUse", result)));
    }
    for (event, payload) in &steps {
        let mut cmd = env.command(&["hook", event]);
        cmd.env("CLAUDE_PROJECT_DIR", &project);
        let run = run_with_stdin(cmd, payload.to_string().as_bytes());
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{event}");
    }
    let ours = env.events(session);
    let calls: Vec<&Value> = ours
        .iter()
        .filter(|e| e["event_type"] == "tool_call")
        .collect();
    assert_eq!(calls.len(), 4);
    assert_eq!(calls[0]["data"].get("cwd"), None, "where it started");
    assert_eq!(calls[1]["data"]["cwd"], folders[1]);
    assert_eq!(calls[2]["data"]["cwd"], format!("{project}/[REDACTED]"));
    let cut = calls[3]["data"]["cwd"].as_str().unwrap();
    assert!(
        cut.len() < 300 * 1024 && cut.contains("[cut by agent-strace"),
        "{}",
        &cut[..80]
    );
    assert!(calls[3]["data"]["cwd_original_bytes"].as_u64().unwrap() > 300 * 1024);

    let list = py.read(&env, &["list"]);
    assert!(list.stdout.contains(session), "{}", list.stdout);
    let replay = py.read(&env, &["replay", session]);
    let shown = replay
        .stdout
        .lines()
        .filter(|l| l.starts_with("+ "))
        .count();
    assert_eq!(shown, ours.len(), "{}", replay.stdout);
    let inspect = py.read(&env, &["inspect", session]).json();
    assert_eq!(inspect["session"]["tool_calls"], 4);
    assert_eq!(inspect["events"][3]["data"]["cwd"], folders[1]);
    let loaded = py.script(&env, "load_sessions.py", &[&env.store()]);
    assert_eq!(loaded.stderr, "");
    let loaded: Value = serde_json::from_str(&loaded.stdout).unwrap();
    let events = loaded["sessions"][session]["events"].as_array().unwrap();
    assert_eq!(kinds(events), kinds(&ours));
    assert_eq!(events[3]["data"]["cwd"], folders[1]);
}

/// A call's arguments that are no object (a hook's `tool_input` given as text that is not JSON,
/// a `tools/call` sent without `arguments`, a Codex call whose arguments are not JSON) are
/// written as an object, since the Python tool reads them as one: its `timeline`, `standup`
/// and `replay` failed with a traceback on our sessions. Ours still shows what was given.
#[test]
fn calls_whose_arguments_are_no_object_read_in_the_python_cli() {
    let py = python();
    let env = TestEnv::new();
    // A hook's arguments as text, and as a list.
    let session = "odd-arguments";
    for (i, input) in [json!("just a line"), json!([1, 2])]
        .into_iter()
        .enumerate()
    {
        let call =
            json!({"tool_name": "Bash", "tool_input": input, "tool_use_id": format!("toolu_{i}")});
        let mut result = call.clone();
        result["tool_response"] = json!({"stdout": "ok", "stderr": ""});
        for (event, payload) in [
            ("pre-tool", payload(session, "PreToolUse", call)),
            ("post-tool", payload(session, "PostToolUse", result)),
        ] {
            let run = run_with_stdin(
                env.command(&["hook", event]),
                payload.to_string().as_bytes(),
            );
            assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{event}");
        }
    }
    // A proxied call sent without arguments (MCP makes them optional).
    let input = concat!(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
        "\n",
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get-tiny-image"}}"#,
        "\n"
    );
    let server = r#"read a; echo '{"jsonrpc":"2.0","id":1,"result":{}}'; read b; echo '{"jsonrpc":"2.0","id":2,"result":{"content":[]}}'"#;
    let run = env.run_with_stdin(
        &["record", "--name", "tiny", "--", "sh", "-c", server],
        input.as_bytes(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // A Codex call whose arguments are text that is not JSON.
    let codex = "019c8a4d-8f45-7010-8b5d-7fad920aa7f2";
    let line = |second: u32, kind: &str, payload: Value| {
        json!({"timestamp": format!("2026-02-23T12:41:0{second}.000Z"), "type": kind, "payload": payload})
            .to_string()
    };
    let rollout = env
        .path()
        .join(format!("rollout-2026-02-23T12-41-00-{codex}.jsonl"));
    let lines = [
        line(
            0,
            "session_meta",
            json!({"id": codex, "cwd": "/p", "cli_version": "0.104.0"}),
        ),
        line(
            1,
            "response_item",
            json!({"type": "message", "role": "user",
                                         "content": [{"type": "input_text", "text": "look"}]}),
        ),
        line(
            2,
            "response_item",
            json!({"type": "function_call", "name": "exec_command",
                                         "arguments": "[REDACTED_ARGUMENTS len=9]", "call_id": "c1"}),
        ),
        line(
            3,
            "response_item",
            json!({"type": "function_call_output", "call_id": "c1", "output": "ok"}),
        ),
    ];
    std::fs::write(&rollout, lines.join("\n") + "\n").unwrap();
    env.run(&["import", rollout.to_str().unwrap()]).success();

    let sessions = env.sessions();
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    for id in &sessions {
        for event in env.events(id) {
            if event["event_type"] == "tool_call" {
                assert!(event["data"]["arguments"].is_object(), "{event}");
            }
        }
        for args in [
            vec!["replay", id.as_str()],
            vec!["timeline", id.as_str()],
            vec!["standup", id.as_str()],
        ] {
            py.read(&env, &args);
        }
    }
    let ours = env.run(&["replay", session]);
    ours.success();
    assert!(ours.stdout.contains("just a line"), "{}", ours.stdout);
    assert_eq!(
        env.events(codex)
            .iter()
            .find(|e| e["event_type"] == "tool_call")
            .unwrap()["data"]["arguments"],
        json!({"input": "[REDACTED_ARGUMENTS len=9]"})
    );
}

/// Runs a proxy `cmd` as a client would: writes `input`, and closes its stdin only once its
/// stdout has a line holding `last` (the last answer), so the proxy is not told to end while
/// an answer is still on its way; then waits for it to exit (60 s at most).
fn relay_until_answered(mut cmd: Command, input: &[u8], last: &str) {
    use std::io::{BufRead as _, Write as _};
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the proxy");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).unwrap();
    stdin.flush().unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    // Read on a thread of its own, so that a proxy that never answers cannot hold the test.
    let (tx, rx) = std::sync::mpsc::channel();
    let last = last.to_owned();
    std::thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            if line.replace("\":", "\": ").contains(&last) {
                let _ = tx.send(());
            }
        }
    });
    let _ = rx.recv_timeout(std::time::Duration::from_secs(60));
    drop(stdin);
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let _ = child.wait();
}

/// The Python tool's import of general-tool-calls.jsonl (moredip__session-share) writes 110
/// `tool_call` events for 65 calls: the transcript repeats a stretch of its history, and each
/// copied line keeps the call's id and time (its results and prompts are copied too). `list`,
/// `sql` and the index counted 110 calls, `stats` 110 calls, 11 reads and 23 writes where our
/// import of the same file counts 65, 7 and 14. A copy of an event met before (same kind, id
/// and time) counts once: these figures are our import's.
#[test]
fn copies_of_events_a_python_import_holds_count_once() {
    let transcript = crate::common::shared()
        .join("corpus/claude-code/moredip__session-share/general-tool-calls.jsonl");
    let (env, id) = python_import_of(&transcript);
    let tool_calls = env
        .events(&id)
        .iter()
        .filter(|e| e["event_type"] == "tool_call")
        .count();
    assert_eq!(tool_calls, 110, "the Python tool imports otherwise now");
    let ours = TestEnv::new();
    ours.run(&["import", transcript.to_str().unwrap()])
        .success();
    let stats = |env: &TestEnv| {
        let stats = env.run(&["stats", &id, "--format", "json"]);
        stats.success();
        stats.json()
    };
    let (theirs, mine) = (stats(&env), stats(&ours));
    assert_eq!(theirs["tool_calls"], 65, "{theirs}");
    assert_eq!(theirs["copies"], 95, "{theirs}");
    for key in [
        "tool_calls",
        "tokens",
        "reads",
        "writes",
        "files",
        "files_read",
        "files_written",
    ] {
        assert_eq!(theirs[key], mine[key], "{key}: {theirs}");
    }
    let tools = |stats: &Value| {
        stats["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["tool"].clone(), t["calls"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(tools(&theirs), tools(&mine));

    let cost = |env: &TestEnv| env.run(&["cost", &id, "--format", "json"]).json();
    let (theirs, mine) = (cost(&env), cost(&ours));
    assert_eq!(theirs["cost_usd"], mine["cost_usd"]);
    assert_eq!(theirs["tokens"], mine["tokens"]);

    let listed = |env: &TestEnv| {
        let list = env.run(&["list", "--format", "json"]);
        list.success();
        let listed = list.json()[0].clone();
        (listed["tool_calls"].clone(), listed["cost_usd"].clone())
    };
    let mine = listed(&ours);
    assert_eq!(listed(&env), mine);
    assert_eq!(mine.0, 65);
    let sql = env.run(&[
        "sql",
        "select (select tool_calls from sessions) as listed, \
         (select count(*) from tool_calls) as calls",
        "--format",
        "json",
    ]);
    sql.success();
    assert_eq!(
        sql.json(),
        json!([{"listed": 65, "calls": 65}]),
        "{}",
        sql.stdout
    );
    // Without the index, the same.
    env.unusable_index();
    assert_eq!(listed(&env), mine);
}

/// A copy is told by its kind, id and time together: the Python tool's proxy keeps a call's
/// JSON-RPC id, which a client may use again for a later call. Two calls of the same id at
/// different times are two calls; a line repeating one of them at its time is its copy.
#[test]
fn two_calls_of_one_id_at_different_times_count_as_two() {
    let env = TestEnv::new();
    let sid = "0c1d2e3f4a5b6c7d";
    let dir = env.store().join(sid);
    std::fs::create_dir_all(&dir).unwrap();
    let meta = json!({
        "session_id": sid, "started_at": 100.0, "ended_at": 300.0, "agent_name": "echo",
        "command": "sh -c server", "tool_calls": 3, "llm_requests": 0, "total_tokens": 0,
        "total_duration_ms": 200_000.0,
    });
    std::fs::write(dir.join("meta.json"), meta.to_string()).unwrap();
    let event = |n: u32, kind: &str, ts: f64, data: Value| {
        json!({"event_type": kind, "timestamp": ts, "event_id": format!("e{n}"),
            "session_id": sid, "data": data})
        .to_string()
    };
    let call = json!({"tool_name": "echo", "arguments": {"message": "hi"}, "request_id": 1});
    let result = json!({"request_id": 1, "content_preview": "Echo: hi"});
    let lines = [
        event(1, "tool_call", 100.5, call.clone()),
        event(2, "tool_result", 100.75, result.clone()),
        event(3, "tool_call", 200.5, call.clone()),
        event(4, "tool_result", 200.75, result.clone()),
        // A copy of the second call and its result.
        event(5, "tool_call", 200.5, call),
        event(6, "tool_result", 200.75, result),
        event(7, "session_end", 300.0, json!({})),
    ];
    std::fs::write(dir.join("events.ndjson"), lines.join("\n") + "\n").unwrap();
    let stats = env.run(&["stats", sid, "--format", "json"]);
    stats.success();
    let stats = stats.json();
    assert_eq!(
        (
            &stats["tool_calls"],
            &stats["tool_results"],
            &stats["copies"]
        ),
        (&json!(2), &json!(2), &json!(2)),
        "{stats}"
    );
    let list = env.run(&["list", "--format", "json"]);
    list.success();
    assert_eq!(list.json()[0]["tool_calls"], 2, "{}", list.stdout);
    let sql = env.run(&[
        "sql",
        "select count(*) as calls from tool_calls",
        "--format",
        "json",
    ]);
    sql.success();
    assert_eq!(sql.json(), json!([{"calls": 2}]), "{}", sql.stdout);
}

/// The Python tool writes a call's arguments as deep as they come (150 levels here) and reads
/// them back; every reader of ours skipped such a line as malformed, so `stats` counted one
/// call where `list` and `sql` (from meta.json) said two, and `audit` missed the
/// `cat ~/.ssh/id_rsa` on it.
#[test]
fn a_call_the_python_tool_wrote_150_levels_deep_is_read() {
    let env = TestEnv::new();
    let py = python();
    let mut deep = json!([]);
    for _ in 1..150 {
        deep = json!([deep]);
    }
    let calls = [
        json!({"tool_name": "Bash", "tool_input": {"command": "ls"}}),
        json!({"tool_name": "Bash", "tool_input": {"command": "cat ~/.ssh/id_rsa", "x": deep}}),
    ];
    for call in calls {
        py.hook(&env, "pre-tool", &payload(SID, "PreToolUse", call), &[]);
    }
    let id = &SID[..16];
    let text = std::fs::read_to_string(env.store().join(id).join("events.ndjson")).unwrap();
    assert!(
        text.contains(&"[".repeat(150)),
        "the Python tool flattens deep values now: update this test"
    );
    let stats = env.run(&["stats", id, "--format", "json"]);
    stats.success();
    assert_eq!(stats.stderr, "", "no line skipped");
    assert_eq!(stats.json()["tool_calls"], 2, "{}", stats.stdout);
    let audit = env.run(&["--color", "never", "audit", id]);
    assert_eq!(audit.stderr, "", "no line skipped");
    assert!(
        audit.stdout.contains("cat ~/.ssh/id_rsa") && audit.stdout.contains("sensitive"),
        "{}",
        audit.stdout
    );
}
