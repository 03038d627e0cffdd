//! Reading sessions: `list`, `replay`, `inspect` and `stats` on a store with known contents,
//! and one clear error line for every kind of bad input.

use agent_strace::model::{Event, EventType, SessionMeta};
use serde_json::json;

use crate::common::session::T0;
use crate::common::{SessionBuilder, TestEnv};

const A: &str = "1a2b3c4d-0000-4000-8000-000000000001";
const B: &str = "1a2bffff-0000-4000-8000-000000000002";

/// A store with two sessions: A, a small but complete story, and B, started earlier.
fn fixture() -> TestEnv {
    let env = TestEnv::new();
    story_a().write(&env);
    SessionBuilder::new(B)
        .started(T0 - 3600.0)
        .meta(|m| m.agent_name = "claude-code".into())
        .prompt("earlier work")
        .write(&env);
    env
}

/// Session A: a prompt, four tool calls (one failing), an answer.
fn story_a() -> SessionBuilder {
    SessionBuilder::new(A)
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.command = "claude-code (startup)".into();
            m.tool_calls = 4;
            m.errors = 1;
        })
        .session_start(json!({"source": "startup"}))
        .at(0.07)
        .prompt("how many tests does this project have? run them")
        .at(3.55)
        .tool_call("Glob", json!({"pattern": "**/*.test.*"}))
        .at(3.60)
        .result(json!({"filenames": []}))
        .duration_ms(51.0)
        .at(6.06)
        .tool_call(
            "Bash",
            json!({"command": "python -m pytest tests/ -v 2>&1"}),
        )
        .at(27.65)
        .error("Command failed with exit code 1")
        .duration_ms(21590.0)
        .at(48.18)
        .tool_call("Read", json!({"file_path": "/p/pyproject.toml"}))
        .at(48.23)
        .result(json!({"type": "text"}))
        .duration_ms(43.0)
        .file_read("/p/pyproject.toml")
        .at(51.43)
        .tool_call(
            "Bash",
            json!({"command": "uv run --with pytest pytest tests/ -v"}),
        )
        .at(103.67)
        .result(json!({"stdout": "75 tests, all passing in 3.60s\n", "stderr": ""}))
        .duration_ms(5880.0)
        .at(112.54)
        .answer("**75 tests**, all passing in 3.60s. Breakdown by file: ...")
        .session_end(json!({"reason": "exit"}))
}

#[test]
fn replay_tells_the_story_with_numbers_offsets_and_durations() {
    let env = fixture();
    // The start is shown in local time: UTC here, so that the text is the same everywhere.
    let run = crate::common::Run::of(
        env.command(&["replay", "1a2b3c"])
            .env("TZ", "UTC")
            .output()
            .unwrap(),
    );
    run.success();
    let expected = r#"Session Summary
──────────────────────────────────────────────────
Session: 1a2b3c4d-0000-4000-8000-000000000001
Started: 2026-05-28 20:26
Duration: 1m 53s
Agent: claude-code
Command: claude-code (startup)
Cost: $0.0010 (estimated from payload sizes)
Tool calls: 4
Errors: 1
──────────────────────────────────────────────────
#1    + 0.00s ▶ session_start
             startup
#2    + 0.07s 👤 user_prompt
             "how many tests does this project have? run them"
#3    + 3.55s → tool_call Glob
             **/*.test.*
#4    + 3.60s ← tool_result Glob (51ms)
#5    + 6.06s → tool_call Bash
             $ python -m pytest tests/ -v 2>&1
#6    +27.65s ✗ error Bash
             Command failed with exit code 1
#7    +48.18s 📖 tool_call Read (43ms)
             /p/pyproject.toml
#10   +51.43s → tool_call Bash
             $ uv run --with pytest pytest tests/ -v
#11   +1m43.67s ← tool_result Bash (5.88s)
             75 tests, all passing in 3.60s
#12   +1m52.54s 🤖 assistant_response
             "75 tests, all passing in 3.60s. Breakdown by file: ..."
#13   +1m52.54s ■ session_end
             exit
"#;
    assert_eq!(run.stdout, expected);
    assert_eq!(run.stderr, "");
}

#[test]
fn replay_filters_limits_and_keeps_event_numbers() {
    let env = fixture();
    let run = env.run(&["replay", A, "--filter", "tool_call,error", "--limit", "3"]);
    run.success();
    let numbered: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(numbered.len(), 3);
    assert!(
        numbered[0].starts_with("#3 ") && numbered[2].starts_with("#6 "),
        "{numbered:?}"
    );
    let bad = env.run(&["replay", A, "--filter", "tool_calls"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .starts_with("error: unknown event type `tool_calls`"),
        "{}",
        bad.stderr
    );
}

#[test]
fn colour_only_when_asked_and_never_with_no_color() {
    let env = fixture();
    assert!(!env.run(&["replay", A]).stdout.contains('\x1b'));
    assert!(
        env.run(&["replay", A, "--color", "always"])
            .stdout
            .contains("\x1b[31m")
    );
    let mut cmd = env.command(&["replay", A]);
    cmd.env("NO_COLOR", "1");
    assert!(
        !String::from_utf8(cmd.output().unwrap().stdout)
            .unwrap()
            .contains('\x1b')
    );
}

#[test]
fn replay_into_a_closed_pipe_ends_quietly() {
    let env = fixture();
    // Make the output long enough to fill the pipe after the reader has gone.
    let dir = env.store().join(A);
    let events = std::fs::read_to_string(dir.join("events.ndjson")).unwrap();
    std::fs::write(dir.join("events.ndjson"), events.repeat(2000)).unwrap();
    let mut child = env
        .command(&["replay", A])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// `--live` pauses between events for their gap divided by `--speed`. Told by what no load
/// changes: a pause lasts at least what it was asked (a bound below), and a gap of 2,000 s
/// played unscaled, or at any speed below 33x, outlasts the minute a hang is given.
#[test]
fn live_replay_waits_the_scaled_gaps() {
    let env = TestEnv::new();
    let id = SessionBuilder::new("11fe0000-0000-4000-8000-000000000003")
        .prompt("before the gap")
        .at(2000.0)
        .answer("after the gap")
        .write(&env);
    let started = std::time::Instant::now();
    let mut child = env
        .command(&["replay", &id, "--live", "--speed", "1000"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = crate::common::wait::ends_by_itself(&mut child, "replay --live --speed 1000");
    let took = started.elapsed();
    assert!(status.success(), "{status}");
    assert!(
        took >= std::time::Duration::from_secs(2),
        "did not wait the 2 s of a 2,000 s gap at 1000x: {took:?}"
    );
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    let before = out.find("before the gap").expect(&out);
    let after = out.find("after the gap").expect(&out);
    assert!(before < after, "{out}");
}

#[test]
fn list_shows_newest_first_with_counts_and_first_prompt() {
    let env = fixture();
    let listed = env.run(&["list", "--format", "json"]).success().json();
    // `list`'s rows are private to cli; they hold meta.json's keys and a few more, so they
    // decode into `SessionMeta` with the others in `extra`.
    let rows: Vec<SessionMeta> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|row| SessionMeta::from_json(&row.to_string()).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].session_id, A);
    assert_eq!(rows[0].tool_calls, 4);
    assert_eq!(rows[0].errors, 1);
    assert_eq!(rows[0].extra["duration_s"], 112.54);
    assert_eq!(
        rows[0].extra["first_prompt"],
        "how many tests does this project have? run them"
    );
    assert_eq!(rows[1].session_id, B);
    let text = env.run(&["list"]).success().stdout.clone();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("SESSION"));
    assert!(
        lines[1].starts_with(A)
            && lines[1].contains("1m 53s")
            && lines[1].contains("\"how many tests"),
        "{text}"
    );
    // `--last N` keeps the N newest; `--limit` counts events (replay) and is no list flag.
    let last = env
        .run(&["list", "--last", "1", "--format", "json"])
        .success()
        .json();
    assert_eq!(last.as_array().unwrap().len(), 1);
    assert_eq!(last[0]["session_id"], A);
    assert_eq!(env.run(&["list", "--limit", "1"]).code, 2);
}

#[test]
fn inspect_streams_every_event_with_every_field() {
    let env = TestEnv::new();
    // An event of a kind we do not know, with fields only the Python tool writes.
    story_a()
        .at(200.5)
        .event(EventType::Other("checkpoint".into()), json!({"k": 1}))
        .extra("prev_hash", "abc123")
        .extra("tenant_id", "t1")
        .write(&env);
    let out = env.run(&["inspect", "1a2b3c4d"]).success().json();
    let meta = SessionMeta::from_json(&out["meta"].to_string()).unwrap();
    assert_eq!(meta.session_id, A);
    let list: Vec<Event> = serde_json::from_value(out["events"].clone()).unwrap();
    assert_eq!(list.len(), 14);
    assert_eq!(list[3].parent_id.as_deref(), Some("e03"));
    assert_eq!(list[3].duration_ms, Some(51.0));
    assert_eq!(list[13].event_type, EventType::Other("checkpoint".into()));
    assert!((list[13].timestamp - (T0 + 200.5)).abs() < 1e-6);
    assert_eq!(list[13].data, json!({"k": 1}));
    assert_eq!(list[13].extra["prev_hash"], "abc123");
    assert_eq!(list[13].extra["tenant_id"], "t1");
}

#[test]
fn stats_counts_durations_and_errors_per_tool() {
    let env = fixture();
    let stats = env.run(&["stats", A, "--format", "json"]).success().json();
    assert_eq!(stats["tool_calls"], 4);
    assert_eq!(stats["errors"], 1);
    assert_eq!(stats["events"], 13);
    let tools = stats["tools"].as_array().unwrap();
    assert_eq!(tools[0]["tool"], "Bash");
    assert_eq!(tools[0]["calls"], 2);
    assert_eq!(tools[0]["errors"], 1);
    assert_eq!(tools[0]["total_ms"], 27470.0);
    assert_eq!(tools[0]["mean_ms"], 13735.0);
    assert_eq!(tools[0]["p95_ms"], 21590.0);
    let text = env.run(&["stats", A]).success().stdout.clone();
    assert!(
        text.contains("Bash       2       1     27.47s     13.73s     21.59s"),
        "{text}"
    );
}

#[test]
fn bad_input_gets_one_error_line_and_a_non_zero_exit() {
    let env = TestEnv::new();
    let missing = env.run(&["list"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.starts_with("error: no trace store at"),
        "{}",
        missing.stderr
    );
    assert_eq!(missing.stderr.lines().count(), 1);

    let env = fixture();
    for (args, code, start) in [
        (
            vec!["replay", "ffff"],
            2,
            "error: no session matches `ffff`",
        ),
        (
            vec!["stats", "1a2b"],
            2,
            "error: `1a2b` is ambiguous: it matches 1a2b3c4d-0000-4000-8000-000000000001, 1a2bffff-0000-4000-8000-000000000002 (hint: give more characters of the session id)",
        ),
        (
            vec!["inspect", "zz"],
            2,
            "error: no session matches `zz` (hint: `agent-strace list --all` shows the sessions in the store)",
        ),
        (
            vec!["replay", "--speed", "0", "--live"],
            2,
            "error: --speed must be a positive number",
        ),
    ] {
        let run = env.run(&args);
        assert_eq!(run.code, code, "{args:?}: {run:?}");
        assert!(run.stderr.starts_with(start), "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"));
    }

    // A corrupt meta.json beside events: the session is shown as its events tell it, with one
    // warning (issue 9).
    std::fs::write(env.store().join(A).join("meta.json"), "{ not json").unwrap();
    let corrupt = env.run(&["replay", A]);
    assert_eq!(corrupt.code, 0, "{corrupt:?}");
    assert!(
        corrupt.stderr.starts_with("warning: ") && corrupt.stderr.contains("meta.json"),
        "{}",
        corrupt.stderr
    );
    assert_eq!(corrupt.stderr.lines().count(), 1);
    let listed = env.run(&["list", "--format", "json"]);
    listed.success();
    assert_eq!(listed.json().as_array().unwrap().len(), 2);
    assert!(listed.stderr.contains("meta.json"));
    // Without events there is nothing to show: one error line, exit 3.
    std::fs::remove_file(env.store().join(A).join("events.ndjson")).unwrap();
    let corrupt = env.run(&["replay", A]);
    assert_eq!(corrupt.code, 3, "{corrupt:?}");
    assert!(
        corrupt.stderr.starts_with("error: ") && corrupt.stderr.contains("meta.json"),
        "{}",
        corrupt.stderr
    );
    assert_eq!(corrupt.stderr.lines().count(), 1);
    // A listing goes on without the broken session, and says so.
    let listed = env.run(&["list", "--format", "json"]);
    listed.success();
    assert_eq!(listed.json().as_array().unwrap().len(), 1);
    assert!(listed.stderr.contains("skipped a session"));

    std::fs::write(
        env.store().join(B).join("events.ndjson"),
        [0xffu8, 0xfe, 0x00, b'\n', b'{', b'\n'],
    )
    .unwrap();
    let binary = env.run(&["replay", B]);
    binary.success();
    assert!(
        binary
            .stderr
            .contains("events.ndjson:1: skipped a malformed line"),
        "{}",
        binary.stderr
    );
}

/// The first twenty malformed lines are named one by one; the rest are counted in one line, as
/// every count in a sentence is written: singular for one, thousands separated.
#[test]
fn malformed_lines_past_those_named_are_counted_in_words() {
    let env = fixture();
    let events = env.store().join(A).join("events.ndjson");
    let good = std::fs::read_to_string(&events).unwrap();
    for (malformed, more) in [
        (21, "warning: 1 more malformed line skipped"),
        (1_020, "warning: 1,000 more malformed lines skipped"),
    ] {
        std::fs::write(&events, format!("{good}{}", "{\n".repeat(malformed))).unwrap();
        let stats = env.run(&["stats", A]);
        stats.success();
        let named = stats.stderr.matches("skipped a malformed line").count();
        assert_eq!(named, 20, "{}", stats.stderr);
        assert_eq!(stats.stderr.lines().last(), Some(more), "{}", stats.stderr);
    }
}

/// A long session's figures in `stats`, `replay`'s header and `explain` separate their
/// thousands, as every other view writes a count.
#[test]
fn a_long_sessions_counts_separate_their_thousands() {
    let env = TestEnv::new();
    let mut session = SessionBuilder::new(A)
        .meta(|m| {
            m.tool_calls = 1_200;
            m.errors = 1_001;
        })
        .prompt("run it until it passes")
        .llm_response(
            "claude-sonnet-4-5",
            agent_strace::model::Tokens {
                input: 1_234_000,
                output: 567,
                ..Default::default()
            },
        );
    for i in 0..1_200u32 {
        session = session
            .at(1.0 + f64::from(i))
            .tool_call("Bash", json!({"command": "make test"}));
        session = if i < 1_001 {
            session.error("exit 1")
        } else {
            session.result(json!({"stdout": "ok"}))
        };
    }
    session.write(&env);

    let stats = env.run(&["stats", A]).success().stdout.clone();
    assert!(
        stats.contains("Events: 2,402   Prompts: 1   Tool calls: 1,200   Errors: 1,001"),
        "{stats}"
    );
    assert!(
        stats.contains("LLM requests: 1   Tokens: 1,234,567"),
        "{stats}"
    );
    let bash = stats.lines().find(|l| l.starts_with("Bash")).unwrap();
    let cells: Vec<&str> = bash.split_whitespace().collect();
    assert_eq!(cells[1..3], ["1,200", "1,001"], "{bash}");

    let replay = env.run(&["replay", A]).success().stdout.clone();
    assert!(replay.contains("Tool calls: 1,200\n"), "{replay}");
    assert!(replay.contains("Errors: 1,001\n"), "{replay}");

    let explain = env.run(&["explain", A]).success().stdout.clone();
    assert!(
        explain.contains("Tool calls: 1,200   Errors: 1,001"),
        "{explain}"
    );
}

#[test]
fn every_command_has_help_with_an_example_and_a_version() {
    let env = TestEnv::new();
    assert!(
        env.run(&["--version"])
            .success()
            .stdout
            .starts_with("agent-strace ")
    );
    for command in ["hook", "setup", "list", "replay", "inspect", "stats"] {
        let help = env.run(&[command, "--help"]).success().stdout.clone();
        assert!(
            help.contains("Example") && help.contains("agent-strace "),
            "{command}:\n{help}"
        );
    }
}

/// A session with neither a title nor a prompt left its cell empty, and its line ending in a
/// space.
#[test]
fn list_shows_a_dim_placeholder_for_a_session_without_a_prompt() {
    let env = TestEnv::new();
    SessionBuilder::new("0b1e0000-0000-4000-8000-000000000000")
        .tool_call("Bash", json!({"command": "ls"}))
        .write(&env);
    let run = env.run(&["list"]);
    run.success();
    let row = run.stdout.lines().nth(1).unwrap_or_default();
    assert!(row.ends_with("  (no prompt)"), "{:?}", run.stdout);
    for line in run.stdout.lines() {
        assert_eq!(line, line.trim_end(), "{:?}", run.stdout);
    }
    let coloured = env.run(&["list", "--color", "always"]);
    coloured.success();
    assert!(
        coloured.stdout.contains("\u{1b}[2m(no prompt)\u{1b}[0m"),
        "{:?}",
        coloured.stdout
    );
}

/// `replay --filter tool_result` showed a Read whose result was folded into its call as
/// `#7 tool_call Read (43ms)`: a tool_call line under a filter of results. A filter shows the
/// events it names as what they are; a call's line, folded, where it names calls.
#[test]
fn replay_filter_shows_the_events_it_names_and_never_a_folded_call_for_them() {
    let env = fixture();
    let lines = |filter: &str| -> Vec<String> {
        let run = env.run(&["replay", A, "--filter", filter]);
        run.success();
        run.stdout
            .lines()
            .filter(|l| l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    };
    let everything = lines(
        "session_start,session_end,user_prompt,assistant_response,tool_call,tool_result,\
         file_read,file_write,error",
    );
    let read_call = everything
        .iter()
        .find(|l| l.contains(" tool_call Read"))
        .expect("the Read call's line");
    let number = |l: &str| l.split_whitespace().next().unwrap().to_owned();

    let results = lines("tool_result");
    assert!(!results.is_empty());
    for line in &results {
        assert!(line.contains(" tool_result "), "{results:?}");
    }
    assert!(
        results.iter().any(|l| l.contains(" tool_result Read")),
        "{results:?}"
    );
    assert!(!results.iter().any(|l| number(l) == number(read_call)));

    let reads = lines("file_read");
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert!(reads[0].contains(" file_read"), "{reads:?}");

    // Where the filter names calls, the call's line stands for its result and file event.
    let calls = lines("tool_call");
    assert!(calls.contains(read_call), "{calls:?}");
}

/// One error line on stderr, nothing on stdout, and the usage exit code.
#[track_caller]
fn refused(env: &TestEnv, args: &[&str]) -> String {
    let run = env.run(args);
    assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
    assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    run.stderr
}

/// `--filter ''` showed nothing and exited 0, where `--limit 0` is refused as one that would
/// choose nothing.
#[test]
fn replay_refuses_a_filter_that_names_no_event_type() {
    let env = fixture();
    for filter in ["", ",", " , "] {
        let said = refused(&env, &["replay", A, "--filter", filter]);
        assert!(said.contains("would choose nothing"), "{said}");
    }
}

/// `--live --speed 1e-300` played with no pause at all: each pause, too long for a clock, was
/// skipped. A speed at which one second of the session is such a pause is refused.
#[test]
fn replay_refuses_a_speed_too_slow_to_pause() {
    let env = fixture();
    let said = refused(&env, &["replay", A, "--live", "--speed", "1e-300"]);
    assert!(said.contains("--speed 1e-300 is too slow"), "{said}");
}
