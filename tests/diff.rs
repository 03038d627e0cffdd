//! `diff`, `diff --semantic`, `diff --compare` and `compare` (with `--tag`): two sessions
//! compared, through the binary, on built sessions and on real transcripts.

use agent_strace::model::Tokens;
use serde_json::{Value, json};

use crate::common::{Run, SessionBuilder, TestEnv, separated, shared};
use crate::explain::reference_story;

/// The reference story (`explain`'s): reads, `python -m pytest` failing twice, then
/// `uv run pytest` passing.
const A: &str = "abc12300-0000-4000-8000-000000000000";
/// The same task done straight: the same reads, `uv run pytest` passing at once, and an edit.
const B: &str = "def45600-0000-4000-8000-000000000000";

fn straight_run() -> SessionBuilder {
    let mut s = SessionBuilder::new(B)
        .session_start(json!({"cwd": "/p"}))
        .prompt("fix the auth module");
    for (at, path) in [(1.0, "/p/AGENTS.md"), (2.0, "/p/src/auth.py")] {
        s = s
            .at(at)
            .tool_call("Read", json!({"file_path": path}))
            .at(at + 0.1)
            .result(json!("..."))
            .file_read(path);
    }
    s.at(3.0)
        .tool_call(
            "Edit",
            json!({"file_path": "/p/src/auth.py", "old_string": "a", "new_string": "b"}),
        )
        .at(3.5)
        .result(json!("ok"))
        .file_write("/p/src/auth.py")
        .at(5.0)
        .tool_call("Bash", json!({"command": "uv run pytest"}))
        .at(45.0)
        .result(json!("3 passed"))
        .at(50.0)
        .answer("Fixed.")
        .session_end(json!({}))
}

fn both() -> TestEnv {
    let env = TestEnv::new();
    reference_story().write(&env);
    straight_run().write(&env);
    env
}

fn json(env: &TestEnv, args: &[&str]) -> Value {
    env.run(args).success().json()
}

/// One error line on stderr, nothing on stdout, and the usage exit code.
#[track_caller]
fn usage_error(run: &Run) {
    assert_eq!(
        run.code, 2,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
}

#[test]
fn diff_names_the_phase_where_the_runs_diverged() {
    let env = both();
    let d = json(&env, &["diff", "abc", "def", "--format", "json"]);
    assert_eq!(d["session_a"], A);
    assert_eq!(d["session_b"], B);
    let steps = d["steps"].as_array().unwrap();
    // A: the task, tests failing, tests passing; B: the task, tests passing. The test phases
    // align in order, A's last is its own.
    let pairs: Vec<(Value, Value)> = steps
        .iter()
        .map(|s| (s["phase_a"].clone(), s["phase_b"].clone()))
        .collect();
    assert_eq!(
        pairs,
        vec![
            (json!(1), json!(1)),
            (json!(2), json!(2)),
            (json!(3), Value::Null)
        ]
    );
    // The first phase differs by B's edit only: both read the file, B wrote it too.
    assert_eq!(steps[0]["files_only_b"], json!([]));
    assert_eq!(steps[0]["written_only_b"], json!(["src/auth.py"]));
    assert_eq!(steps[0]["written_only_a"], json!([]));
    assert_eq!(steps[0]["commands_only_a"], json!([]));
    assert_eq!(d["diverged_at"], 1);
    // The test phase: other commands, and A's failed where B's passed.
    let tests = &steps[1];
    assert_eq!(tests["label"], "run tests");
    assert_eq!(tests["commands_only_a"], json!(["python -m pytest"]));
    assert_eq!(tests["commands_only_b"], json!(["uv run pytest"]));
    assert_eq!(
        (tests["failed_a"].clone(), tests["failed_b"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(tests["first_event_a"], 9, "A's first pytest is event #9");
    assert_eq!(steps[2]["differs"], true);
    // The footer's totals are explain's.
    for (side, id) in [("a", A), ("b", B)] {
        let e = json(&env, &["explain", id, "--format", "json"]);
        let t = &d[side];
        assert_eq!(t["session_id"], id);
        assert_eq!(t["tool_calls"], e["tool_calls"]);
        assert_eq!(t["errors"], e["errors"]);
        assert_eq!(t["retries"], e["retries"]);
        assert_eq!(t["events"], e["events"]);
        assert_eq!(t["phases"], e["phases"].as_array().unwrap().len());
    }
    assert_eq!(
        (d["a"]["errors"].clone(), d["b"]["errors"].clone()),
        (json!(2), json!(0))
    );
    assert_eq!(d["b"]["files_written"], 1);

    let text = env.run(&["diff", "abc", "def"]);
    text.success();
    assert!(
        text.stdout.contains("Diverged at step 1"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("only: $ python -m pytest"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_session_compared_with_itself_is_the_same_every_way() {
    let env = both();
    let d = json(&env, &["diff", A, A, "--format", "json"]);
    assert_eq!(d["diverged_at"], Value::Null);
    assert!(
        d["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["differs"] == false)
    );
    let s = json(&env, &["diff", A, A, "--semantic", "--format", "json"]);
    assert_eq!(s["verdict"], "same");
    assert_eq!(s["tool_calls"]["delta"], 0);
    let c = json(&env, &["compare", A, A, "--format", "json"]);
    assert_eq!(c["decision_divergence"], 0);
    assert_eq!(c["diverged_at"], Value::Null);
    assert_eq!(c["verdict"]["better"], Value::Null);
}

#[test]
fn semantic_diff_counts_the_changes_and_judges_the_outcome() {
    let env = TestEnv::new();
    let tokens = |input| Tokens {
        input,
        output: 100,
        ..Tokens::default()
    };
    reference_story()
        .at(1.5)
        .llm_response("claude-sonnet-4-5", tokens(1_000))
        .write(&env);
    straight_run()
        .at(1.5)
        .llm_response("claude-sonnet-4-5", tokens(2_200))
        .write(&env);
    let s = json(&env, &["diff", A, B, "--semantic", "--format", "json"]);
    assert_eq!(s["tools_added"], json!(["Edit"]));
    assert_eq!(s["tools_removed"], json!([]));
    assert_eq!(s["tool_calls"], json!({"a": 5, "b": 4, "delta": -1}));
    assert_eq!(s["errors"], json!({"a": 2, "b": 0, "delta": -2}));
    assert_eq!(s["tokens"], json!({"a": 1_100, "b": 2_300, "delta": 1_200}));
    assert_eq!(s["tokens_estimated"], false);
    assert_eq!(s["files_written_added"], json!(["src/auth.py"]));
    assert_eq!(
        (s["outcome_a"].clone(), s["outcome_b"].clone()),
        (json!("passing"), json!("passing"))
    );
    // Both end passing; B failed fewer calls.
    assert_eq!(s["verdict"], "improved");
    assert!(
        s["reasons"][0].as_str().unwrap().contains("fewer failures"),
        "{s}"
    );
    // The other way round it is a regression.
    let r = json(&env, &["diff", B, A, "--semantic", "--format", "json"]);
    assert_eq!(r["verdict"], "regressed");
    assert_eq!(r["tools_removed"], json!(["Edit"]));
    assert_eq!(r["errors"]["delta"], 2);
    let text = env.run(&["diff", A, B, "--semantic"]);
    text.success();
    assert!(text.stdout.contains("Outcome: improved"), "{}", text.stdout);
    assert!(
        text.stdout.contains("Tools added:   Edit"),
        "{}",
        text.stdout
    );
}

#[test]
fn semantic_verdict_puts_work_that_ends_passing_first() {
    let env = TestEnv::new();
    let session = |id: &str, ok: bool, calls: usize| {
        let mut s = SessionBuilder::new(id).prompt("make the tests pass");
        // More calls and an error on the passing side: the outcome still decides.
        for i in 0..calls {
            s = s
                .at(i as f64)
                .tool_call("Bash", json!({"command": format!("ls dir{i}")}))
                .error("exit 2");
        }
        s = s
            .at(50.0)
            .tool_call("Bash", json!({"command": "cargo test"}))
            .at(60.0);
        if ok {
            s.result(json!("test result: ok. 3 passed; 0 failed"))
        } else {
            s.error("test result: FAILED. 1 passed; 2 failed")
        }
        .write(&env)
    };
    let failing = session("aaaa0000-0000-4000-8000-000000000000", false, 0);
    let passing = session("bbbb0000-0000-4000-8000-000000000000", true, 2);
    let s = json(
        &env,
        &["diff", &failing, &passing, "--semantic", "--format", "json"],
    );
    assert_eq!(
        (s["outcome_a"].clone(), s["outcome_b"].clone()),
        (json!("failing"), json!("passing"))
    );
    assert_eq!(s["verdict"], "improved");
    let c = json(&env, &["compare", &failing, &passing, "--format", "json"]);
    assert_eq!(c["verdict"]["better"], "b");
}

/// A session for the side-by-side table: `reads` reads of one file (one more after a write is
/// no redundant read), LLM requests at `requests` seconds, `errors` failed commands.
fn measured(
    id: &str,
    agent: &str,
    started: f64,
    reads: usize,
    requests: &[f64],
    errors: usize,
) -> SessionBuilder {
    let mut s = SessionBuilder::new(id)
        .started(started)
        .meta(|m| agent.clone_into(&mut m.agent_name))
        .session_start(json!({"cwd": "/p"}))
        .prompt("refactor the auth module");
    for &at in requests {
        s = s.at(at).event(
            agent_strace::model::EventType::LlmRequest,
            json!({"model": "claude-sonnet-4-5"}),
        );
    }
    for i in 0..reads {
        s = s
            .at(10.0 + i as f64)
            .tool_call("Read", json!({"file_path": "/p/src/auth.py"}))
            .result(json!("..."));
    }
    s = s
        .at(30.0)
        .tool_call(
            "Write",
            json!({"file_path": "/p/src/auth.py", "content": "x"}),
        )
        .result(json!("ok"))
        .at(31.0)
        .tool_call("Read", json!({"file_path": "/p/src/auth.py"}))
        .result(json!("x"));
    for i in 0..errors {
        s = s
            .at(40.0 + i as f64)
            .tool_call("Bash", json!({"command": format!("ls missing{i}")}))
            .error("exit 2");
    }
    s.at(requests.last().copied().unwrap_or(0.0).max(60.0))
        .session_end(json!({}))
}

#[test]
fn compare_shows_the_figures_side_by_side_with_a_verdict() {
    let env = TestEnv::new();
    let a = measured(
        "a1110000-0000-4000-8000-000000000000",
        "refactor-auth",
        1_780_000_000.0,
        3,
        &[0.0, 200.0, 250.0, 500.0],
        2,
    )
    .write(&env);
    let b = measured(
        "b2220000-0000-4000-8000-000000000000",
        "refactor-auth",
        1_780_010_000.0,
        1,
        &[0.0, 50.0],
        0,
    )
    .write(&env);
    let c = json(&env, &["compare", &a, &b, "--format", "json"]);
    let side = |s: &str, k: &str| c[s][k].clone();
    assert_eq!(
        (side("a", "session_id"), side("b", "session_id")),
        (json!(a), json!(b))
    );
    assert_eq!(
        (side("a", "tool_calls"), side("b", "tool_calls")),
        (json!(7), json!(3))
    );
    // Three reads then one after the write: two redundant; B's read before and after: none.
    assert_eq!(
        (side("a", "redundant_reads"), side("b", "redundant_reads")),
        (json!(2), json!(0))
    );
    // Gaps of 200 s and 250 s are over 120 s; 50 s is not.
    assert_eq!(
        (side("a", "context_resets"), side("b", "context_resets")),
        (json!(2), json!(0))
    );
    assert_eq!(
        (side("a", "files_modified"), side("b", "files_modified")),
        (json!(1), json!(1))
    );
    assert_eq!(
        (side("a", "errors"), side("b", "errors")),
        (json!(2), json!(0))
    );
    assert_eq!(
        (side("a", "failures"), side("b", "failures")),
        (json!(2), json!(0))
    );
    assert_eq!(
        (side("a", "duration_s"), side("b", "duration_s")),
        (json!(500.0), json!(60.0))
    );
    // B is faster (88%) and has 2 fewer failures; both costs are estimates from payload sizes.
    assert_eq!(c["verdict"]["better"], "b");
    let reasons = c["verdict"]["reasons"].as_array().unwrap();
    assert!(reasons.contains(&json!("88% faster than A")), "{reasons:?}");
    assert!(reasons.contains(&json!("2 fewer failures")), "{reasons:?}");
    // Decisions: A reads three times where B reads once, then both write and read, and A runs
    // two commands more: four edits.
    assert_eq!(c["decision_divergence"], 4);
    assert_eq!(c["diverged_at"]["after"], 1);
    assert_eq!(c["diverged_at"]["a"]["decision"], "Read src/auth.py");
    assert_eq!(c["diverged_at"]["b"]["decision"], "Write src/auth.py");
    // `diff --compare` is the same report.
    let d = json(&env, &["diff", &a, &b, "--compare", "--format", "json"]);
    assert_eq!(d, c);
    let text = env.run(&["compare", &a, &b]);
    text.success();
    assert!(text.stdout.contains("Redundant reads"), "{}", text.stdout);
    assert!(
        text.stdout.contains("Verdict: b2220000-000 was better"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("Decision divergence: 4 edits"),
        "{}",
        text.stdout
    );
}

/// Context resets are the gaps between model calls, counted as `stats` and `list` count them
/// (`model::call_pairs`): here one call recorded by its request alone (cut off), one by its
/// response alone (an OpenTelemetry log, whose response carries the `request_id` its span would
/// bring), and a request with its response. Taking the requests alone, since there were some,
/// missed the call between them: 1 reset, where the gaps of 200 s each are 2.
#[test]
fn compare_counts_context_resets_between_model_calls_recorded_by_either_side() {
    use agent_strace::model::EventType;
    let env = TestEnv::new();
    let model = || json!({"model": "claude-sonnet-4-5"});
    let usage =
        || json!({"model": "claude-sonnet-4-5", "usage": {"input_tokens": 10, "output_tokens": 5}});
    let mut logged = usage();
    logged["request_id"] = json!("req_logged_alone");
    let a = SessionBuilder::new("a3330000-0000-4000-8000-000000000000")
        .started(1_780_000_000.0)
        .meta(|m| "refactor-auth".clone_into(&mut m.agent_name))
        .session_start(json!({"cwd": "/p"}))
        .prompt("refactor the auth module")
        .at(0.0)
        .event(EventType::LlmRequest, model())
        .at(200.0)
        .event(EventType::LlmResponse, logged);
    let request = a.next_id();
    let a = a
        .at(400.0)
        .event(EventType::LlmRequest, model())
        .at(401.0)
        .event(EventType::LlmResponse, usage())
        .parent(&request)
        .at(402.0)
        .session_end(json!({}))
        .write(&env);
    let b = measured(
        "b4440000-0000-4000-8000-000000000000",
        "refactor-auth",
        1_780_010_000.0,
        1,
        &[0.0, 50.0],
        0,
    )
    .write(&env);
    let stats = json(&env, &["stats", &a, "--format", "json"]);
    assert_eq!(stats["llm_requests"], json!(3), "{stats:#}");
    let c = json(&env, &["compare", &a, &b, "--format", "json"]);
    assert_eq!(
        (&c["a"]["context_resets"], &c["b"]["context_resets"]),
        (&json!(2), &json!(0)),
        "{c:#}"
    );
}

#[test]
fn compare_tag_takes_the_last_two_sessions_of_the_task() {
    let env = TestEnv::new();
    let t0 = 1_780_000_000.0;
    let older = measured(
        "a0000000-0000-4000-8000-000000000001",
        "refactor-auth",
        t0,
        1,
        &[],
        0,
    )
    .write(&env);
    let _oldest = measured(
        "a0000000-0000-4000-8000-000000000000",
        "refactor-auth",
        t0 - 5_000.0,
        1,
        &[],
        0,
    )
    .write(&env);
    let newer = measured(
        "a0000000-0000-4000-8000-000000000002",
        "claude-code",
        t0 + 1_000.0,
        2,
        &[],
        1,
    )
    .meta(|m| m.command = "claude --task Refactor-Auth".to_owned())
    .write(&env);
    // Newer still, but another task, and a subagent of the task.
    measured(
        "a0000000-0000-4000-8000-000000000003",
        "fix-login",
        t0 + 2_000.0,
        1,
        &[],
        0,
    )
    .write(&env);
    measured(
        "a0000000-0000-4000-8000-000000000004",
        "refactor-auth",
        t0 + 3_000.0,
        1,
        &[],
        0,
    )
    .meta(|m| m.parent_session_id = Some(newer.clone()))
    .write(&env);
    let c = json(
        &env,
        &["compare", "--tag", "refactor-auth", "--format", "json"],
    );
    assert_eq!(c["a"]["session_id"], older.as_str());
    assert_eq!(c["b"]["session_id"], newer.as_str());
    assert_eq!(c["b"]["errors"], 1);
    // One session of a task is not enough.
    usage_error(&env.run(&["compare", "--tag", "fix-login"]));
    usage_error(&env.run(&["compare", "--tag", "no-such-task"]));
}

/// `compare --tag` took no `--since` or `--until`, which every other command over many
/// sessions takes: the last two sessions of a task in a period could not be compared. They
/// mean what they mean for `list`: a session started at `--since` is in, one started at
/// `--until` is out.
#[test]
fn compare_tag_picks_the_last_two_sessions_of_the_task_in_a_period() {
    let env = TestEnv::new();
    let t0 = 1_780_000_000.0; // 2026-05-28T20:26:40Z
    let ids: Vec<String> = (0..3)
        .map(|n| {
            measured(
                &format!("b0000000-0000-4000-8000-00000000000{n}"),
                "refactor-auth",
                t0 + 1_000.0 * f64::from(n),
                1,
                &[],
                0,
            )
            .write(&env)
        })
        .collect();
    let pair = |extra: &[&str]| {
        let mut args = vec!["compare", "--tag", "refactor-auth", "--format", "json"];
        args.extend(extra);
        let c = json(&env, &args);
        [c["a"]["session_id"].clone(), c["b"]["session_id"].clone()]
    };
    assert_eq!(pair(&[]), [ids[1].as_str(), ids[2].as_str()]);
    // The session that started at --until is out; the one at --since is in.
    assert_eq!(
        pair(&["--until", "2026-05-28T21:00:00Z"]),
        [ids[0].as_str(), ids[1].as_str()]
    );
    assert_eq!(
        pair(&[
            "--since",
            "2026-05-28T20:26:40Z",
            "--until",
            "2026-05-28T20:59:59Z"
        ]),
        [ids[0].as_str(), ids[1].as_str()]
    );
    assert_eq!(
        pair(&[
            "--since",
            "2026-05-28T22:26:41+02:00",
            "--until",
            "2026-05-28T21:00:00.001Z"
        ]),
        [ids[1].as_str(), ids[2].as_str()]
    );
    // One session in the period is not enough, and says why.
    let one = env.run(&[
        "compare",
        "--tag",
        "refactor-auth",
        "--since",
        "2026-05-28T20:43:21Z",
    ]);
    usage_error(&one);
    assert!(
        one.stderr.contains("started in the period"),
        "{}",
        one.stderr
    );
    // Two sessions named are compared whenever they ran: a period is refused, not ignored.
    let named = env.run(&["compare", &ids[0], &ids[1], "--since", "7d"]);
    usage_error(&named);
    assert!(named.stderr.contains("--tag"), "{}", named.stderr);
    usage_error(&env.run(&[
        "compare",
        "--tag",
        "refactor-auth",
        "--since",
        "yesterday-ish",
    ]));
}

#[test]
fn unknown_sessions_are_one_error_line_and_exit_2() {
    let env = both();
    usage_error(&env.run(&["diff", "abc", "ffff"]));
    usage_error(&env.run(&["diff", "ffff", "abc", "--semantic"]));
    usage_error(&env.run(&["compare", "abc", "ffff"]));
    let missing = env.run(&["compare", "abc"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    let empty = TestEnv::new();
    usage_error(&empty.run(&["diff", "abc", "def"]));
}

/// Imports two real Claude Code transcripts into a store of the test's own.
fn imported(env: &TestEnv, names: &[&str]) -> Vec<String> {
    let corpus = shared().join("corpus/claude-code");
    let mut args = vec![
        "--trace-dir".to_owned(),
        "s".to_owned(),
        "import".to_owned(),
        "--format".to_owned(),
        "json".to_owned(),
    ];
    args.extend(
        names
            .iter()
            .map(|n| corpus.join(n).to_string_lossy().into_owned()),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.run(&args).success().json();
    out.as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["session_id"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn real_transcripts_diff_by_explains_phases() {
    let env = TestEnv::new();
    let ids = imported(
        &env,
        &[
            "DRMacIver__claude-reliability/coverage-test-fix.jsonl",
            "marot__spotter/tool_heavy.jsonl",
        ],
    );
    assert_eq!(ids.len(), 2, "{ids:?}");
    let (a, b) = (&ids[0], &ids[1]);
    let run = |args: &[&str]| {
        let mut all = vec!["--trace-dir", "s"];
        all.extend(args);
        json(&env, &all)
    };
    let d = run(&["diff", a, b, "--format", "json"]);
    let ea = run(&["explain", a, "--format", "json"]);
    let eb = run(&["explain", b, "--format", "json"]);
    // Every phase of each session appears once, in order, with explain's label.
    for (side, e) in [("phase_a", &ea), ("phase_b", &eb)] {
        let phases: Vec<Value> = d["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| !s[side].is_null())
            .map(|s| s[side].clone())
            .collect();
        let expected: Vec<Value> = e["phases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["index"].clone())
            .collect();
        assert_eq!(phases, expected, "{side}");
    }
    // Two different tasks: no phase in common, diverged from the first step.
    assert_eq!(d["diverged_at"], 1);
    assert_eq!(d["a"]["tool_calls"], ea["tool_calls"]);
    assert_eq!(d["b"]["errors"], eb["errors"]);
    let c = run(&["compare", a, b, "--format", "json"]);
    assert_eq!(c["a"]["tool_calls"], ea["tool_calls"]);
    assert!(c["decision_divergence"].as_u64().unwrap() >= 1);
    let same = run(&["compare", a, a, "--format", "json"]);
    assert_eq!(same["decision_divergence"], 0);
    // Its cost is the one `cost` gives.
    let cost = run(&["cost", a, "--format", "json"]);
    assert_eq!(c["a"]["cost_usd"], cost["cost_usd"]);
}

/// 100 s against 60.4 s is 39.6% faster: the verdict said "39% faster" (floored) under a table
/// that showed -40% (rounded). Both round now.
#[test]
fn the_verdict_and_the_table_round_a_change_alike() {
    let env = TestEnv::new();
    let session = |id: &str, seconds: f64| {
        SessionBuilder::new(id)
            .prompt("go")
            .at(seconds)
            .session_end(json!({}))
            .write(&env)
    };
    let a = session("r1110000-0000-4000-8000-000000000000", 100.0);
    let b = session("r2220000-0000-4000-8000-000000000000", 60.4);
    let run = env.run(&["compare", &a, &b]);
    run.success();
    let duration = run.stdout.lines().find(|l| l.contains("Duration")).unwrap();
    assert!(duration.trim_end().ends_with("-40%"), "{}", run.stdout);
    assert!(
        run.stdout.contains("was better: 40% faster than A"),
        "{}",
        run.stdout
    );
}

/// `diff --semantic` printed a duration's change in bare seconds (`-440s`, `-14886s` for a
/// five-hour session) beside durations in minutes and hours, and a change in millions of
/// tokens pushed its row out of line.
#[test]
fn the_semantic_diff_shows_a_change_of_duration_as_a_duration_in_one_column() {
    let env = TestEnv::new();
    let session = |id: &str, seconds: f64, input: u64| {
        SessionBuilder::new(id)
            .prompt("go")
            .at(seconds)
            .llm_response(
                "claude-sonnet-4-5",
                Tokens {
                    input,
                    ..Tokens::default()
                },
            )
            .session_end(json!({}))
            .write(&env)
    };
    let a = session("s1110000-0000-4000-8000-000000000000", 500.0, 4_713_422);
    let b = session("s2220000-0000-4000-8000-000000000000", 60.0, 0);
    let run = env.run(&["diff", &a, &b, "--semantic"]);
    run.success();
    let rows: Vec<&str> = run.stdout.lines().filter(|l| l.contains('Δ')).collect();
    let duration = rows.iter().find(|l| l.contains("Δ duration:")).unwrap();
    assert!(
        duration.contains("-7m 20s  (8m 20s → 1m 00s)"),
        "{}",
        run.stdout
    );
    let open = |row: &str| row.chars().position(|c| c == '(').unwrap();
    assert!(
        rows.iter().all(|r| open(r) == open(rows[0])),
        "{}",
        run.stdout
    );
}

/// `compare` and `diff` showed the cost of a session of `aide-gpt-5` (no known price) as a
/// plain `$0.0000`, and `compare` called it the cheaper one: a cost that leaves out usage is
/// marked, named in a note, and not weighed.
#[test]
fn a_cost_that_counts_an_unpriced_model_is_marked_and_not_weighed() {
    use crate::common::{UNPRICED_NOTE, import_unpriced_and_priced};

    let env = TestEnv::new();
    let (unpriced, priced) = import_unpriced_and_priced(&env);
    let c = env
        .run(&["compare", &unpriced, &priced, "--format", "json"])
        .success()
        .json();
    assert_eq!(c["a"]["cost_unpriced_models"], json!(["aide-gpt-5"]));
    assert_eq!(c["b"]["cost_unpriced_models"], json!([]));
    let reasons = c["verdict"]["reasons"].to_string();
    assert!(
        !reasons.contains("cheaper") && !reasons.contains("cost"),
        "{c}"
    );
    let text = env
        .run(&["compare", &unpriced, &priced])
        .success()
        .stdout
        .clone();
    let cost = text
        .lines()
        .find(|l| l.trim_start().starts_with("Cost"))
        .unwrap();
    assert!(cost.contains(" $0.0000? "), "{text}");
    assert!(cost.contains(" $0.1444 "), "{text}");
    assert_eq!(text.lines().last(), Some(UNPRICED_NOTE), "{text}");

    let text = env
        .run(&["diff", &unpriced, &priced])
        .success()
        .stdout
        .clone();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[lines.len() - 3].ends_with(", $0.0000?"), "{text}");
    assert!(lines[lines.len() - 2].ends_with(", $0.1444"), "{text}");
    assert_eq!(lines[lines.len() - 1], UNPRICED_NOTE, "{text}");

    let d = env
        .run(&["diff", "--semantic", &unpriced, &priced, "--format", "json"])
        .success()
        .json();
    assert_eq!(d["cost_unpriced_models_a"], json!(["aide-gpt-5"]));
    assert_eq!(d["cost_unpriced_models_b"], json!([]));
    let text = env
        .run(&["diff", "--semantic", &unpriced, &priced])
        .success()
        .stdout
        .clone();
    // No change is given from a cost that leaves usage out: `compare` weighs none.
    assert!(text.contains(" ?  ($0.0000? → $0.1444)"), "{text}");
    assert_eq!(text.lines().last(), Some(UNPRICED_NOTE), "{text}");
}

/// A session of `prompts` prompts, each its own phase, labelled `label N`.
fn many_phases(id: &str, prompts: usize, label: &str) -> SessionBuilder {
    let mut s = SessionBuilder::new(id);
    for i in 0..prompts {
        s = s.at(i as f64).prompt(&format!("{label} {i}"));
    }
    s
}

/// Aligning two sessions' phases took a table as large as the product of their lengths: two
/// (forged) sessions of 20,000 prompts each asked for 1.6 GB, and `diff` died of it, or ate the
/// machine's memory. Past 64 MiB of table only their common start and end are aligned.
#[test]
fn diff_of_two_sessions_with_thousands_of_phases_stays_in_bounded_memory() {
    let env = TestEnv::new();
    many_phases(A, 20_000, "left").write(&env);
    many_phases(B, 20_000, "right").write(&env);
    // At most 1 GiB of address space, as `ulimit -v` sets it.
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v 1048576 && exec \"$0\" \"$@\"")
        .arg(crate::common::bin())
        .args(["diff", A, B, "--format", "json"])
        .current_dir(env.path())
        .env("AGENT_STRACE_HOME", env.home());
    let run = Run::of(cmd.output().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let steps = run.json()["steps"].as_array().unwrap().len();
    assert_eq!(steps, 40_000);
}

/// Both sessions, A with one subagent whose cost is its own; and A's cost without it.
fn both_with_a_subagent_of_a() -> (TestEnv, Value) {
    let env = both();
    SessionBuilder::new("abc12300-0000-4000-8000-0000000000aa")
        .meta(|m| m.parent_session_id = Some(A.to_owned()))
        .session_start(json!({"cwd": "/p"}))
        .prompt("look around")
        .at(2.0)
        .tool_call("Bash", json!({"command": "ls"}))
        .at(2.5)
        .result(json!("src"))
        .llm_response(
            "claude-sonnet-4-5",
            Tokens {
                output: 100_000,
                ..Tokens::default()
            },
        )
        .session_end(json!({}))
        .write(&env);
    let alone = json(&env, &["cost", A, "--no-subagents", "--format", "json"]);
    let with = json(&env, &["cost", A, "--format", "json"]);
    assert_ne!(alone["cost_usd"], with["cost_usd"], "{with}");
    (env, alone)
}

/// `diff --semantic`'s tokens, calls and errors were the session's own while its cost counted
/// its subagents in: every figure of a diff now counts each session alone, and the diff says so
/// (and how many subagent sessions each has).
#[test]
fn a_diff_counts_each_session_alone_and_says_its_subagents_are_left_out() {
    let (env, alone) = both_with_a_subagent_of_a();
    let expected = json!({"counted": false, "a": 1, "b": 0});

    let d = json(&env, &["diff", "--semantic", A, B, "--format", "json"]);
    assert_eq!(d["subagents"], expected, "{d}");
    assert_eq!(d["cost_usd"]["a"], alone["cost_usd"], "{d}");
    let s = json(&env, &["diff", A, B, "--format", "json"]);
    assert_eq!(s["subagents"], expected, "{s}");
    assert_eq!(s["a"]["cost_usd"], alone["cost_usd"], "{s}");

    let note = "Each session is counted alone, its subagents left out of every figure, cost included (abc12300-000 has 1 subagent session, def45600-000 has none).";
    for args in [&["diff", "--semantic", A, B][..], &["diff", A, B]] {
        let text = env.run(args).success().stdout.clone();
        assert_eq!(text.lines().last(), Some(note), "{text}");
    }
    // Without subagents, nothing is said.
    let text = env.run(&["diff", B, B]).success().stdout.clone();
    assert!(!text.contains("counted alone"), "{text}");
}

/// `compare` (and `diff --compare`) counted a session's subagents into its cost only, while
/// its time, calls, errors and reads were its own: every figure now counts each session alone,
/// as `diff` does, and the comparison says so.
#[test]
fn compare_counts_each_session_alone_and_says_its_subagents_are_left_out() {
    let (env, alone) = both_with_a_subagent_of_a();
    let expected = json!({"counted": false, "a": 1, "b": 0});
    for args in [&["compare", A, B][..], &["diff", "--compare", A, B]] {
        let c = json(&env, &[args, &["--format", "json"]].concat());
        assert_eq!(c["subagents"], expected, "{c}");
        assert_eq!(c["a"]["cost_usd"], alone["cost_usd"], "{c}");
        let text = env.run(args).success().stdout.clone();
        assert!(
            text.contains("Each session is counted alone, its subagents left out of every figure, cost included (abc12300-000 has 1 subagent session, def45600-000 has none)."),
            "{text}"
        );
    }
    let text = env.run(&["compare", B, B]).success().stdout.clone();
    assert!(!text.contains("counted alone"), "{text}");
}

/// Two sessions of 50,000 calls each: the edit distance between their calls filled the whole
/// table (2.5 billion cells, over 30 s in a debug build). Now two that differ in a few calls get
/// the exact figure at once, and two that differ everywhere get bounds, said to be approximate.
#[test]
fn compare_bounds_its_work_on_two_long_sessions() {
    const CALLS: usize = 50_000;
    let env = TestEnv::new();
    let long = |id: &str, file: &dyn Fn(usize) -> String| {
        let mut s = SessionBuilder::new(id).session_start(json!({"cwd": "/p"}));
        for n in 0..CALLS {
            s = s.tool_call("Read", json!({"file_path": file(n)}));
        }
        s.write(&env)
    };
    let a = long(A, &|n| format!("/p/src/f{}.rs", n % 97));
    // B reads what A reads but in three places.
    let b = long(B, &|n| match n {
        10 | 25_000 | 49_990 => "/p/other.rs".to_owned(),
        n => format!("/p/src/f{}.rs", n % 97),
    });
    let c = long("c0ffee00-0000-4000-8000-000000000000", &|n| {
        format!("/p/src/f{}.rs", n % 89)
    });
    let near = json(&env, &["compare", &a, &b, "--format", "json"]);
    assert_eq!(near["decision_divergence"], 3);
    assert_eq!(near["decision_divergence_exact"], true);
    assert_eq!(near["decision_divergence_at_least"], 3);
    // The whole table is not filled: the figure is a bound, said to be one (not a clock, which
    // a busy machine makes lie; filling it took over 30 s in a debug build).
    let text = env.run(&["compare", &a, &c]);
    assert_eq!(text.code, 0, "{text:?}");
    let far = json(&env, &["compare", &a, &c, "--format", "json"]);
    assert_eq!(far["decision_divergence_exact"], false, "{far}");
    let (low, high) = (
        far["decision_divergence_at_least"].as_u64().unwrap(),
        far["decision_divergence"].as_u64().unwrap(),
    );
    assert!(0 < low && low < high && high <= CALLS as u64, "{far}");
    assert!(
        text.stdout.contains(&format!(
            "Decision divergence: between {} and {} edits between their tool calls (approximate",
            separated(low),
            separated(high)
        )),
        "{}",
        text.stdout
    );
}

/// A session that tested its work: a failed listing, then tests that pass.
pub(crate) fn tested_session(env: &TestEnv, id: &str) -> String {
    SessionBuilder::new(id)
        .prompt("make the tests pass")
        .at(1.0)
        .tool_call("Bash", json!({"command": "ls nowhere"}))
        .at(2.0)
        .error("exit 2")
        .at(3.0)
        .tool_call("Bash", json!({"command": "cargo test"}))
        .at(60.0)
        .result(json!("test result: ok. 3 passed; 0 failed"))
        .write(env)
}

/// A session that ran no test, build or check, and failed nothing.
pub(crate) fn untested_session(env: &TestEnv, id: &str) -> String {
    SessionBuilder::new(id)
        .prompt("make the tests pass")
        .at(1.0)
        .tool_call("Read", json!({"file_path": "/p/src/lib.rs"}))
        .at(2.0)
        .result(json!("..."))
        .write(env)
}

/// `diff --semantic` called B "improved" when B ran no tests and A's passed, because B failed
/// fewer calls, and `compare` called B better for being cheaper and faster: a run that did not
/// test its work is not better than one whose tests passed. Both now give no verdict and say
/// why.
#[test]
fn a_session_that_ran_no_tests_is_not_judged_against_one_whose_tests_passed() {
    let env = TestEnv::new();
    // A: a failed listing, then tests that pass. B: nothing tested, nothing failed.
    let tested = tested_session(&env, "aaaa1111-0000-4000-8000-000000000000");
    let untested = untested_session(&env, "bbbb1111-0000-4000-8000-000000000000");
    let s = json(
        &env,
        &["diff", &tested, &untested, "--semantic", "--format", "json"],
    );
    assert_eq!(s["errors"]["delta"], -1, "{s}");
    assert_eq!(s["verdict"], "untested", "{s}");
    assert_eq!(
        s["reasons"][0],
        "B ran no tests, build or check; A's last passed: which did better is unknown"
    );
    let text = env.run(&["diff", &tested, &untested, "--semantic"]);
    text.success();
    assert!(
        text.stdout.contains(
            "Outcome: untested (B ran no tests, build or check; A's last passed: \
             which did better is unknown)"
        ),
        "{}",
        text.stdout
    );
    let c = json(&env, &["compare", &tested, &untested, "--format", "json"]);
    assert_eq!(c["verdict"]["better"], Value::Null, "{c}");
    let text = env.run(&["compare", &tested, &untested]);
    assert!(
        text.stdout.contains("Verdict: none (B ran no tests"),
        "{}",
        text.stdout
    );
}

/// `compare` with no session (or one) failed with clap's bare "required arguments <A> <B>",
/// naming neither what they are nor `--tag`.
#[test]
fn compare_without_two_sessions_says_what_to_give() {
    let env = both();
    let run = env.run(&["compare"]);
    usage_error(&run);
    for what in [
        "two session ids",
        "prefixes",
        "--tag TAG",
        "agent-strace list",
    ] {
        assert!(run.stderr.contains(what), "{what}: {}", run.stderr);
    }
    let run = env.run(&["compare", "a1b2"]);
    usage_error(&run);
    assert!(
        run.stderr
            .contains("a second session to compare with `a1b2`"),
        "{}",
        run.stderr
    );
    // The help's usage names both ways.
    let help = env.run(&["compare", "--help"]).success().stdout.clone();
    assert!(
        help.contains("agent-strace compare [OPTIONS] <A> <B>\n")
            && help.contains("agent-strace compare [OPTIONS] --tag <TAG>\n"),
        "{help}"
    );
}

/// `diff --semantic` called B "improved (fewer errors (1 → 0))" when A's one error was a `git
/// commit` with nothing to commit, which `explain` lists as no failure ("1 an answer, not a
/// failure"): the verdict now weighs the failures `explain` lists, and the text says what
/// sets them apart from the errors.
#[test]
fn an_error_that_was_an_answer_does_not_make_the_other_session_better() {
    let env = TestEnv::new();
    let answered = SessionBuilder::new("aaaa3333-0000-4000-8000-000000000000")
        .prompt("commit it")
        .at(1.0)
        .tool_call("Bash", json!({"command": "git commit -m 'add multiply'"}))
        .at(2.0)
        .error("Exit code 1\nOn branch master\nnothing to commit, working tree clean")
        .write(&env);
    let clean = SessionBuilder::new("bbbb3333-0000-4000-8000-000000000000")
        .prompt("commit it")
        .at(1.0)
        .tool_call("Bash", json!({"command": "git status"}))
        .at(2.0)
        .result(json!("nothing to commit, working tree clean"))
        .write(&env);
    let s = json(
        &env,
        &["diff", &answered, &clean, "--semantic", "--format", "json"],
    );
    assert_eq!(
        (&s["errors"]["a"], &s["errors"]["b"]),
        (&json!(1), &json!(0))
    );
    assert_eq!(
        (&s["failures"]["a"], &s["failures"]["b"]),
        (&json!(0), &json!(0))
    );
    assert_eq!(s["errors_answered_a"], json!({"nothing to commit": 1}));
    assert_eq!(s["verdict"], "same", "{s}");
    assert_eq!(s["reasons"], json!(["neither ran tests, build or check"]));
    let text = env.run(&["diff", &answered, &clean, "--semantic"]);
    text.success();
    for line in [
        "  Δ failures:              0  (0 → 0)",
        "    A's errors and failures: 1 an answer, not a failure: nothing to commit",
        "Outcome: same (neither ran tests, build or check)",
    ] {
        assert!(text.stdout.contains(line), "{line}\n{}", text.stdout);
    }
    // `compare` weighs failures too: the answer makes neither session better.
    let c = json(&env, &["compare", &answered, &clean, "--format", "json"]);
    assert_eq!(
        (&c["a"]["errors"], &c["a"]["failures"]),
        (&json!(1), &json!(0))
    );
    assert!(
        !c["verdict"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("fewer")),
        "{c}"
    );
    let text = env.run(&["compare", &answered, &clean]);
    assert!(
        text.success().stdout.contains("  Failures "),
        "{}",
        text.stdout
    );
    // And explain says the same of A.
    let explained = env.run(&["explain", &answered]);
    assert!(
        explained
            .stdout
            .contains("Errors: 1 (1 an answer, not a failure: nothing to commit)"),
        "{}",
        explained.stdout
    );
}

/// `diff --semantic` counted the API error that ended a turn (Claude Code's StopFailure) among
/// the errors without a word, and left out the turns an interrupt ended: one session's turns
/// could end on the service's errors or the user's Esc and the diff said nothing. It shows the
/// turns' errors and the interrupted turns, as `explain` counts them; they weigh nothing in the
/// verdict.
#[test]
fn a_semantic_diff_shows_the_turns_errors_and_interrupts() {
    use agent_strace::model::EventType;
    let env = TestEnv::new();
    reference_story().write(&env);
    straight_run()
        .at(46.0)
        .event(
            EventType::Error,
            json!({"error": "API error (overloaded): 529 Overloaded", "error_type": "overloaded",
                   "hook_event_name": "StopFailure"}),
        )
        .at(47.0)
        .event(
            EventType::Decision,
            json!({"hook_event_name": "Interrupt", "source": "user", "reason": "stop",
                   "via": "terminal"}),
        )
        .write(&env);
    let s = json(&env, &["diff", A, B, "--semantic", "--format", "json"]);
    assert_eq!(s["turn_errors"], json!({"a": 0, "b": 1, "delta": 1}), "{s}");
    assert_eq!(s["interrupted_turns"], json!({"a": 0, "b": 1, "delta": 1}));
    assert_eq!(s["errors"], json!({"a": 2, "b": 1, "delta": -1}));
    // The verdict is still the work's: B failed fewer calls.
    assert_eq!(s["verdict"], "improved");
    let text = env.run(&["diff", A, B, "--semantic"]);
    let text = &text.success().stdout;
    let row = |label: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    assert_eq!(
        row("Δ turn errors:").as_deref(),
        Some("Δ turn errors: +1 (0 → 1)"),
        "{text}"
    );
    assert_eq!(
        row("Δ interrupted:").as_deref(),
        Some("Δ interrupted: +1 (0 → 1)"),
        "{text}"
    );
    // Two sessions with neither say nothing of them.
    let same = env.run(&["diff", A, A, "--semantic"]);
    let same = &same.success().stdout;
    assert!(
        !same.contains("turn errors") && !same.contains("interrupted"),
        "{same}"
    );
}

/// `compare` counted the API error that ended a turn (StopFailure) among a session's errors
/// without a word. It shows the turns' errors in a row of their own, gives `tool_errors` and
/// `turn_errors` in JSON, and weighs them nothing in the verdict: the service failed, not the
/// work.
#[test]
fn compare_shows_the_turns_errors_apart_and_weighs_them_nothing() {
    let env = TestEnv::new();
    straight_run().write(&env);
    let served = "5e2fed00-0000-4000-8000-000000000000";
    straight_run()
        .meta(|m| m.session_id = served.to_owned())
        .at(46.0)
        .turn_error("API Error: 529 Overloaded")
        .write(&env);
    let c = json(&env, &["compare", B, served, "--format", "json"]);
    let side = |s: &str, k: &str| (c["a"][k].clone(), c[s][k].clone());
    assert_eq!(side("b", "errors"), (json!(0), json!(1)), "{c}");
    assert_eq!(side("b", "tool_errors"), (json!(0), json!(0)), "{c}");
    assert_eq!(side("b", "turn_errors"), (json!(0), json!(1)), "{c}");
    assert_eq!(side("b", "failures"), (json!(0), json!(0)), "{c}");
    let reasons = c["verdict"]["reasons"].to_string();
    assert!(
        !reasons.contains("fail") && !reasons.contains("error"),
        "{c}"
    );
    let text = env.run(&["compare", B, served, "--color", "never"]);
    let rows: Vec<&str> = text
        .success()
        .stdout
        .lines()
        .filter(|l| l.contains(" errors ") || l.contains("Errors"))
        .map(str::trim)
        .collect();
    assert_eq!(rows.len(), 2, "{}", text.stdout);
    assert!(rows[0].starts_with("Errors "), "{}", text.stdout);
    assert!(rows[1].starts_with("Turn errors "), "{}", text.stdout);
}

#[test]
fn two_sessions_whose_ids_share_their_first_12_characters_are_told_apart() {
    // Claude Code's compaction subagents: every id begins `agent-acompact-`.
    let env = TestEnv::new();
    let (a, b) = ("agent-acompact-e1f845-s1", "agent-acompact-fffbd0-s1");
    for (id, minutes) in [(a, 5.0), (b, 20.0)] {
        SessionBuilder::new(id)
            .session_start(json!({"cwd": "/p"}))
            .prompt("summarise")
            .at(minutes * 60.0)
            .answer("done")
            .write(&env);
    }
    let shown = [
        vec!["compare", a, b],
        vec!["diff", a, b],
        vec!["diff", a, b, "--semantic"],
    ]
    .map(|args| env.run(&args).success().stdout.clone());
    for out in &shown {
        assert!(!out.contains("agent-acompa "), "{out}");
        assert!(
            out.contains("agent-acompact-e") && out.contains("agent-acompact-f"),
            "{out}"
        );
    }
    // The table's columns still line up, the longer names with a gap between them.
    let table: Vec<&str> = shown[0].lines().collect();
    let header = table
        .iter()
        .find(|l| l.contains("agent-acompact-e"))
        .unwrap();
    let duration = table.iter().find(|l| l.contains("Duration")).unwrap();
    assert!(
        header.contains("agent-acompact-e   agent-acompact-f"),
        "{header}"
    );
    assert_eq!(
        header.find("agent-acompact-e").unwrap() + "agent-acompact-e".len(),
        duration.find("5m 00s").unwrap() + "5m 00s".len(),
        "{}",
        shown[0]
    );
}

#[test]
fn a_read_after_a_shell_line_wrote_the_file_is_no_redundant_read() {
    let env = TestEnv::new();
    let read = |s: SessionBuilder, at: f64, path: &str| {
        s.at(at)
            .tool_call("Read", json!({"file_path": path}))
            .result(json!("..."))
            .file_read(path)
    };
    // A: read, `sed -i` writes the file (the recorders name it), read again: nothing redundant.
    let mut a = SessionBuilder::new(A)
        .session_start(json!({"cwd": "/p"}))
        .prompt("fix the auth module");
    a = read(a, 1.0, "/p/src/auth.py")
        .at(2.0)
        .tool_call("Bash", json!({"command": "sed -i 's/a/b/' src/auth.py"}))
        .result(json!(""))
        .file_write("/p/src/auth.py");
    read(a, 3.0, "/p/src/auth.py").write(&env);
    // B: one file read twice, spelt whole and below the session's folder: one redundant read.
    let b = SessionBuilder::new(B)
        .session_start(json!({"cwd": "/p"}))
        .prompt("fix the auth module");
    read(read(b, 1.0, "/p/src/auth.py"), 2.0, "src/auth.py").write(&env);
    let c = json(&env, &["compare", A, B, "--format", "json"]);
    assert_eq!(
        (&c["a"]["redundant_reads"], &c["b"]["redundant_reads"]),
        (&json!(0), &json!(1)),
        "{c}"
    );
}

/// `compare` counted only a file tool's reads again: `cat src/auth.py` twice was no redundant
/// read (`lint` called it one). The three commands share one meaning now: a shell line read
/// again is one, a different line on the file (`grep` after `cat`) or other lines of it
/// (`Read` with another `offset`) is new.
#[test]
fn a_shell_line_reading_a_file_again_is_a_redundant_read() {
    let env = TestEnv::new();
    let shell = |s: SessionBuilder, at: f64, line: &str| {
        s.at(at)
            .tool_call("Bash", json!({ "command": line }))
            .result(json!("..."))
            .file_read("/p/src/auth.py")
    };
    // A: `cat` twice, then `grep` once: one redundant read.
    let mut a = SessionBuilder::new(A)
        .session_start(json!({"cwd": "/p"}))
        .prompt("fix the auth module");
    a = shell(a, 1.0, "cat src/auth.py");
    a = shell(a, 2.0, "cat src/auth.py");
    shell(a, 3.0, "grep -n token src/auth.py").write(&env);
    // B: two ranges of one file, each read once: none.
    let mut b = SessionBuilder::new(B)
        .session_start(json!({"cwd": "/p"}))
        .prompt("fix the auth module");
    for offset in [1, 200] {
        b = b
            .tool_call(
                "Read",
                json!({"file_path": "/p/src/auth.py", "offset": offset, "limit": 199}),
            )
            .result(json!("..."))
            .file_read("/p/src/auth.py");
    }
    b.write(&env);
    let c = json(&env, &["compare", A, B, "--format", "json"]);
    assert_eq!(
        (&c["a"]["redundant_reads"], &c["b"]["redundant_reads"]),
        (&json!(1), &json!(0)),
        "{c}"
    );
}

/// A session the Python tool recorded names no file a shell line or a patch wrote: `Read`,
/// `sed -i` on the file, `Read` again was a redundant read for `compare` (and `lint`,
/// `optimize`), as was Codex's `cat`, `apply_patch`, `cat`. The line or the patch that writes
/// the file for certain changes it, recorded or not.
#[test]
fn a_write_no_recorder_named_still_changes_the_file() {
    let env = TestEnv::new();
    let read = |s: SessionBuilder| {
        s.tool_call("Read", json!({"file_path": "/p/src/auth.py"}))
            .result(json!("..."))
    };
    let mut a = SessionBuilder::new(A)
        .session_start(json!({"cwd": "/p"}))
        .prompt("fix the auth module");
    a = read(a)
        .tool_call("Bash", json!({"command": "sed -i 's/a/b/' src/auth.py"}))
        .result(json!(""));
    read(a).write(&env);
    let patch = "*** Begin Patch\n*** Update File: src/auth.py\n@@\n-a\n+b\n*** End Patch\n";
    let cat = |s: SessionBuilder| {
        s.tool_call("exec_command", json!({"cmd": "cat src/auth.py"}))
            .result(json!("..."))
            .file_read("/p/src/auth.py")
    };
    let mut b = SessionBuilder::new(B)
        .meta(|m| m.agent_name = "codex".into())
        .session_start(json!({"cwd": "/p"}))
        .prompt("fix the auth module");
    b = cat(b)
        .tool_call("apply_patch", json!({ "input": patch }))
        .result(json!("Success"));
    cat(b).write(&env);
    let c = json(&env, &["compare", A, B, "--format", "json"]);
    assert_eq!(
        (&c["a"]["redundant_reads"], &c["b"]["redundant_reads"]),
        (&json!(0), &json!(0)),
        "{c}"
    );
}

/// A file tool that failed or was refused read or wrote nothing. `compare` counted a failed
/// edit among the files modified, and `explain` showed it under its phase as `Wrote:` (a failed
/// read as `Read:`), beside "Files touched: 0 read, 0 written".
#[test]
fn a_file_call_that_failed_touched_no_file() {
    let env = TestEnv::new();
    let a = SessionBuilder::new("a3330000-0000-4000-8000-000000000000")
        .prompt("fix b.py")
        .at(1.0)
        .tool_call(
            "Edit",
            json!({"file_path": "/p/src/b.py", "old_string": "x", "new_string": "y"}),
        )
        .error("String to replace not found in file.")
        .at(2.0)
        .tool_call("Read", json!({"file_path": "/p/src/missing.py"}))
        .error("File does not exist.")
        .at(3.0)
        .tool_call(
            "Edit",
            json!({"file_path": "/p/src/c.py", "old_string": "x", "new_string": "y"}),
        )
        .result(json!("ok"))
        .file_write("/p/src/c.py")
        .at(4.0)
        .session_end(json!({}))
        .write(&env);
    let c = json(&env, &["compare", &a, &a, "--format", "json"]);
    assert_eq!(c["a"]["files_modified"], 1, "{c}");
    let explain = env.run(&["explain", &a]);
    explain.success();
    assert!(
        explain.stdout.contains("Wrote: /p/src/c.py\n"),
        "{}",
        explain.stdout
    );
    assert!(!explain.stdout.contains("Read:"), "{}", explain.stdout);
    assert!(
        explain.stdout.contains("Files touched: 0 read, 1 written"),
        "{}",
        explain.stdout
    );
}

/// One Bash call, with no usage recorded (its cost estimated from payload sizes) or with a
/// response that recorded usage: the pair `diff` and `compare` set an estimate beside.
fn estimated_and_recorded(env: &TestEnv) -> (String, String) {
    let session = |id: &str, recorded: bool| {
        let mut s = SessionBuilder::new(id)
            .prompt("go")
            .at(1.0)
            .tool_call("Bash", json!({"command": "ls"}))
            .at(2.0)
            .result(json!("a b"));
        if recorded {
            s = s.at(3.0).llm_response(
                "claude-sonnet-4-5",
                Tokens {
                    input: 1_000,
                    output: 100,
                    ..Tokens::default()
                },
            );
        }
        s.at(6.0).session_end(json!({})).write(env)
    };
    (
        session("e1110000-0000-4000-8000-000000000000", false),
        session("e2220000-0000-4000-8000-000000000000", true),
    )
}

/// `diff` showed a cost estimated from payload sizes as if recorded ("Δ cost: +$0.0044
/// ($0.0001 → $0.0045)" under "(estimated)" tokens; `$0.0001` in the totals where `compare`
/// showed `~$0.0001`), and its JSON did not say so. It is marked `~` as `compare` marks it, and
/// `cost_estimated` says so.
#[test]
fn a_diff_marks_an_estimated_cost_as_compare_does() {
    let env = TestEnv::new();
    let (est, rec) = estimated_and_recorded(&env);
    let c = json(&env, &["compare", &est, &rec, "--format", "json"]);
    assert_eq!(c["a"]["cost_estimated"], true, "{c}");
    assert_eq!(c["b"]["cost_estimated"], false, "{c}");

    let s = json(
        &env,
        &["diff", &est, &rec, "--semantic", "--format", "json"],
    );
    assert_eq!(s["cost_estimated_a"], c["a"]["cost_estimated"], "{s}");
    assert_eq!(s["cost_estimated_b"], c["b"]["cost_estimated"], "{s}");
    let d = json(&env, &["diff", &est, &rec, "--format", "json"]);
    assert_eq!(d["a"]["cost_estimated"], c["a"]["cost_estimated"], "{d}");
    assert_eq!(d["b"]["cost_estimated"], c["b"]["cost_estimated"], "{d}");

    // Each cost as `compare` shows it: the estimate marked, the recorded one not.
    let compared = env.run(&["compare", &est, &rec]);
    compared.success();
    let cost_row: Vec<&str> = compared
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Cost"))
        .unwrap()
        .split_whitespace()
        .collect();
    let (shown_est, shown_rec) = (cost_row[1], cost_row[2]);
    assert!(shown_est.starts_with('~'), "{}", compared.stdout);
    assert!(shown_rec.starts_with('$'), "{}", compared.stdout);

    let text = env.run(&["diff", &est, &rec, "--semantic"]);
    text.success();
    let row = text.stdout.lines().find(|l| l.contains("Δ cost:")).unwrap();
    assert!(
        row.ends_with(&format!("({shown_est} → {shown_rec})")),
        "{}",
        text.stdout
    );
    // No change from an estimate to a recorded cost: `compare` weighs none.
    let change = row.trim_start_matches("  Δ cost:").trim_start();
    assert!(change.starts_with("? "), "{}", text.stdout);

    let text = env.run(&["diff", &est, &rec]);
    text.success();
    let totals: Vec<&str> = text
        .stdout
        .lines()
        .filter(|l| l.contains(" tool call, "))
        .collect();
    assert_eq!(totals.len(), 2, "{}", text.stdout);
    assert!(
        totals[0].ends_with(&format!(", {shown_est}")),
        "{}",
        text.stdout
    );
    assert!(
        totals[1].ends_with(&format!(", {shown_rec}")),
        "{}",
        text.stdout
    );
}

/// Two sessions sharing their first call only: "Diverged after 1 shared tool calls:".
#[test]
fn compare_counts_one_shared_call_in_the_singular() {
    let env = TestEnv::new();
    let session = |id: &str, second: &str| {
        SessionBuilder::new(id)
            .prompt("go")
            .at(1.0)
            .tool_call("Bash", json!({"command": "ls"}))
            .result(json!("a"))
            .at(2.0)
            .tool_call("Bash", json!({"command": second}))
            .result(json!("b"))
            .at(3.0)
            .session_end(json!({}))
            .write(&env)
    };
    let a = session("q1110000-0000-4000-8000-000000000000", "pwd");
    let b = session("q2220000-0000-4000-8000-000000000000", "whoami");
    let run = env.run(&["compare", &a, &b]);
    run.success();
    assert!(
        run.stdout
            .contains("\nDiverged after 1 shared tool call:\n"),
        "{}",
        run.stdout
    );
}

/// The last cell of `compare`'s row `label`: its change.
#[track_caller]
fn change_cell(stdout: &str, label: &str) -> String {
    let row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no {label} row: {stdout}"));
    row.split_whitespace().last().unwrap().to_owned()
}

/// Two sessions, one Bash call each, that end `seconds` after their start.
fn lasting(env: &TestEnv, id: &str, seconds: f64) -> String {
    SessionBuilder::new(id)
        .prompt("go")
        .at(1.0)
        .tool_call("Bash", json!({"command": "ls"}))
        .result(json!("a"))
        .at(seconds)
        .session_end(json!({}))
        .write(env)
}

/// 6.00 s against 6.05 s (0.83% slower) showed "+1%" in the change column beside "Verdict:
/// neither was better", the verdict weighing nothing under 1%. The table says "<1%" for what
/// the verdict does not weigh, and a whole percent for what it does.
#[test]
fn the_change_column_and_the_verdict_agree_on_a_change_under_1_percent() {
    let env = TestEnv::new();
    let a = lasting(&env, "p1110000-0000-4000-8000-000000000000", 6.0);
    let slightly = lasting(&env, "p2220000-0000-4000-8000-000000000000", 6.05);
    let run = env.run(&["compare", &a, &slightly]);
    run.success();
    assert!(
        run.stdout.contains("Verdict: neither was better"),
        "{}",
        run.stdout
    );
    assert_eq!(
        change_cell(&run.stdout, "Duration"),
        "<1%",
        "{}",
        run.stdout
    );

    // 6.00 s against 6.07 s is 1.17% of A's: weighed, and a whole percent in the table.
    let slower = lasting(&env, "p3330000-0000-4000-8000-000000000000", 6.07);
    let run = env.run(&["compare", &a, &slower]);
    run.success();
    assert!(
        run.stdout.contains("was better: B took 1% longer than A"),
        "{}",
        run.stdout
    );
    assert_eq!(
        change_cell(&run.stdout, "Duration"),
        "+1%",
        "{}",
        run.stdout
    );
}

/// `compare`'s change column measured B against A, and its verdict against the larger figure:
/// 10 s against 20 s read "+100%" beside "was better: 50% faster". Both measure B against A
/// now, and the verdict says so ("than A"): its percentage is the one in the column.
#[test]
fn the_change_column_and_the_verdict_measure_against_one_base() {
    let env = TestEnv::new();
    let short = lasting(&env, "q1110000-0000-4000-8000-000000000000", 10.0);
    let long = lasting(&env, "q2220000-0000-4000-8000-000000000000", 20.0);
    for (a, b) in [(&short, &long), (&long, &short)] {
        let run = env.run(&["compare", a, b]);
        run.success();
        let cell = change_cell(&run.stdout, "Duration");
        let shown: f64 = cell.trim_end_matches('%').parse().unwrap();
        let verdict = run
            .stdout
            .lines()
            .find(|l| l.starts_with("Verdict:"))
            .unwrap_or_else(|| panic!("{}", run.stdout));
        assert!(
            verdict.contains(&format!("{}%", shown.abs())) && verdict.contains("than A"),
            "{}",
            run.stdout
        );
    }
}

/// `compare`'s change column gave a cost it does not weigh a percentage: "+6718%" for an
/// estimate (~$0.0001) against a recorded $0.0045, "-100%" for $0.0000? (a model with no known
/// price) against $0.1444, under a verdict that rightly set both aside. It shows none.
#[test]
fn compare_gives_no_change_in_percent_for_a_cost_it_cannot_weigh() {
    use crate::common::import_unpriced_and_priced;

    let env = TestEnv::new();
    let (est, rec) = estimated_and_recorded(&env);
    let (unpriced, priced) = import_unpriced_and_priced(&env);
    for (a, b) in [
        (&est, &rec),
        (&rec, &est),
        (&unpriced, &priced),
        (&priced, &unpriced),
    ] {
        let c = json(&env, &["compare", a, b, "--format", "json"]);
        assert!(
            !c["verdict"]["reasons"].to_string().contains("cheaper")
                && !c["verdict"]["reasons"].to_string().contains("cost"),
            "{c}"
        );
        let run = env.run(&["compare", a, b]);
        run.success();
        let cell = change_cell(&run.stdout, "Cost");
        assert!(!cell.contains('%'), "{}", run.stdout);
        assert_eq!(cell, "?", "{}", run.stdout);
    }
}

/// `diff --semantic` showed a Δ cost ("~+$0.0044") between an estimated cost and a recorded
/// one, and "+$0.1444?" between a cost counting a model with no known price at $0 and a priced
/// one, where `compare` shows `?` for the same pairs. It follows `compare`'s rule: `?` where
/// `compare` gives no change, a change where it gives one.
#[test]
fn the_semantic_diff_gives_a_change_in_cost_where_compare_does() {
    use crate::common::import_unpriced_and_priced;

    let env = TestEnv::new();
    let (est, rec) = estimated_and_recorded(&env);
    let (unpriced, priced) = import_unpriced_and_priced(&env);
    let other_est = SessionBuilder::new("e3330000-0000-4000-8000-000000000000")
        .prompt("go")
        .at(1.0)
        .tool_call("Bash", json!({"command": "ls -la"}))
        .at(2.0)
        .result(json!("a b c d e f g h"))
        .at(6.0)
        .session_end(json!({}))
        .write(&env);
    let mut unknown = 0;
    for (a, b) in [
        (&est, &rec),
        (&rec, &est),
        (&unpriced, &priced),
        (&priced, &unpriced),
        (&est, &other_est),
        (&rec, &priced),
    ] {
        let compared = env.run(&["compare", a, b]);
        compared.success();
        let cell = change_cell(&compared.stdout, "Cost");
        let diff = env.run(&["diff", a, b, "--semantic"]);
        diff.success();
        let row = diff
            .stdout
            .lines()
            .find(|l| l.contains("Δ cost:"))
            .unwrap_or_else(|| panic!("{}", diff.stdout));
        let change = row
            .trim_start_matches("  Δ cost:")
            .split_whitespace()
            .next()
            .unwrap();
        if cell == "?" {
            unknown += 1;
            assert_eq!(change, "?", "{a} {b}: {}{}", compared.stdout, diff.stdout);
        } else {
            assert!(
                change.contains('$'),
                "{a} {b}: {}{}",
                compared.stdout,
                diff.stdout
            );
            assert!(!change.ends_with('?'), "{a} {b}: {}", diff.stdout);
        }
    }
    assert_eq!(unknown, 4, "the pairs compare cannot weigh");
}

/// A redundant read is a file read before and not written since. `compare` counted two reads
/// of a file that does not exist, both failing, as one redundant read (explain: "Files
/// touched: 0 read"), and took an edit that failed ("String to replace not found") for a
/// write, so a read after it was no repeat. A file tool that failed read or wrote nothing.
#[test]
fn a_read_or_an_edit_that_failed_is_neither_read_nor_write_for_redundant_reads() {
    let env = TestEnv::new();
    let read = |s: SessionBuilder, at: f64, path: &str| {
        s.at(at)
            .tool_call("Read", json!({"file_path": path}))
            .result(json!("..."))
            .file_read(path)
    };
    let missing = SessionBuilder::new("m1110000-0000-4000-8000-000000000000")
        .prompt("read b.py")
        .at(1.0)
        .tool_call("Read", json!({"file_path": "/w/b.py"}))
        .error("File does not exist.")
        .at(2.0)
        .tool_call("Read", json!({"file_path": "/w/b.py"}))
        .error("File does not exist.")
        .at(3.0)
        .session_end(json!({}))
        .write(&env);
    let c = json(&env, &["compare", &missing, &missing, "--format", "json"]);
    assert_eq!(c["a"]["redundant_reads"], 0, "{c}");

    // The same file read twice, then read again after an edit that changed nothing: two
    // reads repeat the first, as they do with no edit between.
    let session = |id: &str, failed_edit: bool| {
        let mut s = read(SessionBuilder::new(id).prompt("fix a.py"), 1.0, "/w/a.py");
        s = read(s, 2.0, "/w/a.py");
        if failed_edit {
            s = s
                .at(3.0)
                .tool_call(
                    "Edit",
                    json!({"file_path": "/w/a.py", "old_string": "x", "new_string": "y"}),
                )
                .error("String to replace not found in file.");
        }
        read(s, 4.0, "/w/a.py")
            .at(5.0)
            .session_end(json!({}))
            .write(&env)
    };
    let edited = session("m2220000-0000-4000-8000-000000000000", true);
    let plain = session("m3330000-0000-4000-8000-000000000000", false);
    let c = json(&env, &["compare", &plain, &edited, "--format", "json"]);
    assert_eq!(c["a"]["redundant_reads"], 2, "{c}");
    assert_eq!(c["b"]["redundant_reads"], c["a"]["redundant_reads"], "{c}");
}

/// A session one of whose responses holds a usage no response can have (`input_tokens: -5`)
/// is priced without it, which `list`, `cost` and `budget-report` mark `?`; `compare` gave the
/// same figure bare, and its JSON did not say. It marks it, and gives `unbelieved_usage`.
#[test]
fn compare_marks_a_cost_that_leaves_out_unbelievable_usage() {
    let env = TestEnv::new();
    for (id, input) in [("bad1", "-5"), ("good1", "7")] {
        let folder = env.store().join(id);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(
            folder.join("meta.json"),
            format!(r#"{{"session_id":"{id}","started_at":1780000000.0,"ended_at":1780000003.0,"agent_name":"claude-code","command":"x"}}"#),
        )
        .unwrap();
        let events = [
            format!(
                r#"{{"event_type":"user_prompt","timestamp":1780000001.0,"event_id":"e1","session_id":"{id}","data":{{"prompt":"p"}}}}"#
            ),
            format!(
                r#"{{"event_type":"llm_response","timestamp":1780000002.0,"event_id":"e2","session_id":"{id}","data":{{"model":"claude-opus-4-6","usage":{{"input_tokens":{input},"output_tokens":10}}}}}}"#
            ),
            format!(
                r#"{{"event_type":"llm_response","timestamp":1780000003.0,"event_id":"e3","session_id":"{id}","data":{{"model":"claude-opus-4-6","usage":{{"input_tokens":1000,"output_tokens":10}}}}}}"#
            ),
        ];
        std::fs::write(folder.join("events.ndjson"), events.join("\n") + "\n").unwrap();
    }
    let listed = env.run(&["list"]).success().stdout.clone();
    let marked = |id: &str| {
        listed
            .lines()
            .find(|l| l.starts_with(id))
            .is_some_and(|l| l.contains('?'))
    };
    assert!(marked("bad1") && !marked("good1"), "{listed}");
    let cost = env
        .run(&["cost", "bad1", "--format", "json"])
        .success()
        .json();
    let dollars = format!("${:.4}", cost["cost_usd"].as_f64().unwrap());
    let text = env.run(&["compare", "bad1", "good1"]).stdout;
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("Cost"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains(&format!("{dollars}?")), "{text}");
    let json = env
        .run(&["compare", "bad1", "good1", "--format", "json"])
        .json();
    assert_eq!(json["a"]["unbelieved_usage"], 1, "{json}");
    assert!(json["b"].get("unbelieved_usage").is_none(), "{json}");
}

/// A session of the task dated next year (a clock that was ahead, a log imported from a
/// machine ahead) was the newer of `compare --tag --since 7d`'s last two, "the last 7 days". A
/// period with no --until ends now: it is left out, with the one warning `list` gives; an
/// --until past it leaves nothing out.
#[test]
fn compare_tag_since_leaves_out_a_session_dated_after_now() {
    use crate::common::{LEFT_OUT_AS_AHEAD, a_session_now_and_one_next_year, unix_now};

    let env = TestEnv::new();
    let (now, _) = a_session_now_and_one_next_year(&env);
    let yesterday = SessionBuilder::new("yesterday")
        .started(unix_now() - 86_400.0)
        .meta(|m| m.agent_name = "claude-code".into())
        .prompt("run the tests")
        .tool_call("Bash", json!({"command": "cargo test"}))
        .result(json!("ok"))
        .write(&env);
    let args = [
        "compare", "--tag", "claude", "--since", "7d", "--format", "json",
    ];
    let run = env.run(&args);
    let c = run.success().json();
    assert_eq!(c["a"]["session_id"], yesterday.as_str(), "{c}");
    assert_eq!(c["b"]["session_id"], now.as_str(), "{c}");
    assert!(run.stderr.contains(LEFT_OUT_AS_AHEAD), "{}", run.stderr);
    let until = env.run(&[&args[..], &["--until", "2100-01-01"]].concat());
    assert!(
        !until.success().stderr.contains(LEFT_OUT_AS_AHEAD),
        "{until:?}"
    );
}
