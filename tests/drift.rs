//! `drift` (issue 13): the recent sessions against those before them or a baseline file;
//! below and above the threshold, a baseline saved and read back under 2 KB, every project at
//! once, and bad input as one clear line.

use agent_strace::model::EventType;
use serde_json::{Value, json};

use crate::common::{SessionBuilder, TestEnv};

/// 2026-01-05 00:00 UTC.
const DAY0: f64 = 1_767_571_200.0;
const HOUR: f64 = 3600.0;
/// The window starts ten days later: sessions before it are the reference.
const SINCE: &str = "2026-01-15T00:00:00Z";
const WINDOW: f64 = DAY0 + 10.0 * 24.0 * HOUR;

fn id(group: u32, i: u32) -> String {
    format!("{group:08x}-0000-4000-8000-{i:012x}")
}

/// A calm session: read, edit (one file written), test passing, one decision, two minutes.
fn steady(id: &str, start: f64, i: u32) -> SessionBuilder {
    SessionBuilder::new(id)
        .started(start)
        .meta(|m| m.agent_name = "claude-code".into())
        .prompt("fix the parser")
        .at(5.0)
        .tool_call("Read", json!({"file_path": format!("/p/src/m{i}.rs")}))
        .result(json!("fn main() {}"))
        .at(30.0)
        .event(EventType::Decision, json!({"choice": "edit"}))
        .tool_call("Edit", json!({"file_path": format!("/p/src/m{i}.rs")}))
        .file_write(&format!("/p/src/m{i}.rs"))
        .result(json!("ok"))
        .at(90.0 + f64::from(i % 5) * 10.0)
        .tool_call("Bash", json!({"command": "cargo test"}))
        .result(json!("test result: ok"))
}

/// A session gone astray: tests failing and tried again, six files written, web fetches, no
/// decisions, an hour long.
fn astray(id: &str, start: f64, i: u32) -> SessionBuilder {
    let mut s = SessionBuilder::new(id)
        .started(start)
        .meta(|m| m.agent_name = "claude-code".into())
        .prompt("fix the parser")
        .at(5.0)
        .tool_call("WebFetch", json!({"url": "https://docs.rs"}))
        .result(json!("docs"));
    for n in 0..6 {
        let path = format!("/p/src/f{n}.rs");
        s = s
            .at(100.0 * f64::from(n + 1))
            .tool_call("Write", json!({"file_path": path, "content": "x"}))
            .file_write(&path)
            .result(json!("ok"))
            .tool_call("Bash", json!({"command": "cargo test"}))
            .error("1 test failed");
    }
    s.at(3600.0 + f64::from(i))
        .tool_call("Bash", json!({"command": "cargo test"}))
        .result(json!("test result: ok"))
}

/// Twenty calm sessions before the window, and `recent` in it.
fn store(env: &TestEnv, recent: impl Fn(&str, f64, u32) -> SessionBuilder) {
    for i in 0..20 {
        steady(&id(1, i), DAY0 + f64::from(i) * HOUR, i).write(env);
        recent(&id(2, i), WINDOW + f64::from(i) * HOUR, i).write(env);
    }
}

/// The dimensions drift reads as histograms of buckets (all but `tool_mix`).
const HISTOGRAMS: [&str; 5] = [
    "error_rate",
    "retry_rate",
    "blast_radius",
    "session_duration",
    "decision_depth",
];

fn dimension(report: &Value, name: &str) -> f64 {
    report["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("no {name}"))["divergence"]
        .as_f64()
        .unwrap()
}

#[test]
fn the_same_behaviour_stays_below_the_threshold() {
    let env = TestEnv::new();
    store(&env, steady);
    let run = env.run(&["drift", "--since", SINCE, "--format", "json"]);
    run.success();
    let r = run.json();
    assert_eq!(r["reference"]["sessions"], 20);
    assert_eq!(r["current"]["sessions"], 20);
    assert_eq!(r["reference_source"], "before_window");
    assert_eq!(r["exceeded"], false);
    assert!(r["overall"].as_f64().unwrap() < 0.05, "{r}");
    for name in std::iter::once("tool_mix").chain(HISTOGRAMS) {
        assert!(dimension(&r, name) < 0.05, "{name}: {r}");
    }
}

#[test]
fn changed_behaviour_goes_above_the_threshold_and_exits_1() {
    let env = TestEnv::new();
    store(&env, astray);
    let run = env.run(&["drift", "--since", SINCE, "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let r = run.json();
    assert_eq!(r["exceeded"], true);
    assert_eq!(r["label"], "high");
    // Every session moved to other buckets: nothing in common.
    for name in HISTOGRAMS {
        assert!((dimension(&r, name) - 1.0).abs() < 1e-9, "{name}: {r}");
    }
    assert!(dimension(&r, "tool_mix") > 0.3, "{r}");
    // The text view says so too, and a higher threshold lets it pass.
    let text = env.run(&["drift", "--since", SINCE]);
    assert_eq!(text.code, 1);
    assert!(
        text.stdout.contains("is above the threshold 0.20"),
        "{}",
        text.stdout
    );
    let lenient = env.run(&["drift", "--since", SINCE, "--threshold", "1"]);
    assert_eq!(lenient.code, 0, "{lenient:?}");
    // A threshold finer than two places is said as given: `0.004` read "0.00".
    let fine = env.run(&["drift", "--since", SINCE, "--threshold", "0.004"]);
    assert!(
        fine.stdout.contains("is above the threshold 0.004."),
        "{}",
        fine.stdout
    );
}

#[test]
fn a_baseline_is_saved_under_2_kb_and_read_back() {
    let env = TestEnv::new();
    store(&env, steady);
    // Many tools with long names: the file still stays small.
    for i in 0..30 {
        SessionBuilder::new(&id(3, i))
            .started(WINDOW + 30.0 * HOUR + f64::from(i))
            .tool_call(
                &format!("mcp__a_rather_long_server_name__with_a_long_tool_name_{i:02}"),
                json!({}),
            )
            .result(json!("ok"))
            .write(&env);
    }
    let file = env.path().join("baselines/behaviour.json");
    let save = env.run(&[
        "drift",
        "--since",
        SINCE,
        "--save-baseline",
        file.to_str().unwrap(),
    ]);
    save.success();
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size < 2048, "{size} bytes");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["sessions"], 50);
    let shares: f64 = saved["tool_mix"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((shares - 1.0).abs() < 0.01, "{shares}");
    // The same window against its own baseline: no drift.
    let same = env.run(&[
        "drift",
        "--since",
        SINCE,
        "--baseline",
        file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    same.success();
    let r = same.json();
    assert_eq!(r["reference_source"], "baseline_file");
    assert_eq!(r["overall"], 0.0);
    assert_eq!(r["reference"]["sessions"], 50);
    // The calm sessions before the window against it: the MCP tools are gone.
    let earlier = env.run(&[
        "drift",
        "--since",
        "2026-01-01",
        "--baseline",
        file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let r = earlier.json();
    assert_eq!(r["current"]["sessions"], 70);
    assert!(dimension(&r, "tool_mix") > 0.0);
}

#[test]
fn every_project_is_read_with_all_projects() {
    let env = TestEnv::new();
    let a = env.path().join("a");
    let b = env.path().join("b");
    for i in 0..10 {
        steady(&id(1, i), DAY0 + f64::from(i) * HOUR, i).write_in(&a.join(".agent-traces"));
        astray(&id(2, i), WINDOW + f64::from(i) * HOUR, i).write_in(&b.join(".agent-traces"));
    }
    for dir in [&a, &b] {
        let listed = env.command(&["list"]).current_dir(dir).output().unwrap();
        assert!(listed.status.success());
    }
    let one = env
        .command(&["drift", "--since", SINCE])
        .current_dir(&a)
        .output()
        .unwrap();
    // Project a alone has nothing in the window.
    assert_eq!(one.status.code(), Some(2));
    let all = env
        .command(&[
            "drift",
            "--since",
            SINCE,
            "--all-projects",
            "--format",
            "json",
        ])
        .current_dir(&a)
        .output()
        .unwrap();
    assert_eq!(all.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&all.stdout).unwrap();
    assert_eq!(r["reference"]["sessions"], 10);
    assert_eq!(r["current"]["sessions"], 10);
}

#[test]
fn bad_input_is_one_clear_line() {
    let env = TestEnv::new();
    let empty = env.run(&["drift"]);
    assert_eq!(empty.code, 2, "{empty:?}");
    store(&env, steady);
    std::fs::write(env.path().join("garbage.json"), "{\"sessions\": 3}").unwrap();
    std::fs::write(env.path().join("list.json"), "[1, 2, 3]").unwrap();
    let cases: [(&[&str], i32, &str); 7] = [
        (
            &["drift", "--threshold", "2"],
            2,
            "--threshold 2 is no drift score",
        ),
        (&["drift", "--threshold", "nan"], 2, "is no drift score"),
        (&["drift", "--since", "soon"], 2, "--since `soon`"),
        (
            &["drift", "--baseline", "missing.json"],
            2,
            "missing.json: no such baseline file",
        ),
        (
            &["drift", "--baseline", "garbage.json"],
            3,
            "garbage.json: not a drift baseline",
        ),
        (
            &["drift", "--baseline", "list.json"],
            3,
            "list.json: not a drift baseline",
        ),
        // Every session is before 2026: nothing in the default window of 30 days.
        (&["drift"], 2, "no session started since"),
    ];
    for (args, code, message) in cases {
        let run = env.run(args);
        assert_eq!(run.code, code, "{args:?}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("error: ") && run.stderr.contains(message),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
    // Everything in the window: nothing before it to compare with.
    // The message says which --since finds the sessions: it did not, as budget-report did.
    let run = env.run(&["drift"]);
    let newest = run
        .stderr
        .split("the newest started ")
        .nth(1)
        .and_then(|rest| rest.get(..10))
        .unwrap_or_default()
        .to_owned();
    assert!(
        run.stderr
            .contains(&format!("(hint: try --since {newest})")),
        "{}",
        run.stderr
    );
    let suggested = env.run(&["drift", "--since", &newest]);
    assert!(
        !suggested.stderr.contains("no session started since"),
        "{suggested:?}"
    );
    let nothing_before = env.run(&["drift", "--since", "2025-01-01"]);
    assert_eq!(nothing_before.code, 2);
    assert!(nothing_before.stderr.contains("no session started before"));
}

/// The same calm sessions, whose turns in the window each ended on an API error (StopFailure):
/// drift's error rate counted those as failed calls, and every session moved to another bucket
/// for the service's failures. They are no call's.
#[test]
fn an_api_error_that_ended_a_turn_moves_no_error_rate() {
    let env = TestEnv::new();
    store(&env, |id, start, i| {
        steady(id, start, i).turn_error("API Error: 529 Overloaded")
    });
    let r = env
        .run(&["drift", "--since", SINCE, "--format", "json"])
        .json();
    assert!(dimension(&r, "error_rate") < 0.05, "{r}");
    env.unusable_index();
    let r = env
        .run(&["drift", "--since", SINCE, "--format", "json"])
        .json();
    assert!(dimension(&r, "error_rate") < 0.05, "{r}");
}

/// Replaces the index's fold of `session` with one that does not decode.
fn damage_fold(env: &TestEnv, session: &str) {
    let conn = rusqlite::Connection::open(env.store().join(".index.sqlite")).unwrap();
    let changed = conn
        .execute(
            "UPDATE idx_folds SET fold = '{\"counters\": 7' \
             WHERE sid = (SELECT sid FROM idx_sessions WHERE session_id = ?1)",
            [session],
        )
        .unwrap();
    assert_eq!(changed, 1, "no fold of {session}");
}

#[test]
fn a_session_whose_fold_is_damaged_or_gone_counts_once_from_its_events() {
    let env = TestEnv::new();
    store(&env, astray);
    env.settle_sessions();
    let args = ["drift", "--since", SINCE, "--format", "json"];
    let whole = env.run(&args).json();
    // One session in the window and one before it: each is folded again from its events, and
    // counted once, with the same figures.
    damage_fold(&env, &id(2, 3));
    damage_fold(&env, &id(1, 7));
    // And one whose fold is gone from the index: folded from its events too.
    let conn = rusqlite::Connection::open(env.store().join(".index.sqlite")).unwrap();
    let gone = conn
        .execute(
            "DELETE FROM idx_folds \
             WHERE sid = (SELECT sid FROM idx_sessions WHERE session_id = ?1)",
            [id(2, 5)],
        )
        .unwrap();
    assert_eq!(gone, 1);
    let run = env.run(&args);
    assert_eq!(run.code, 1, "{run:?}");
    let r = run.json();
    assert_eq!(r["reference"]["sessions"], 20, "{r}");
    assert_eq!(r["current"]["sessions"], 20, "{r}");
    assert_eq!(r, whole);
    // The index was not folded again: the three sessions' figures came from their events.
    let damaged: i64 = conn
        .query_row(
            "SELECT count(*) FROM idx_folds WHERE fold = '{\"counters\": 7'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(damaged, 2);
    let folds: i64 = conn
        .query_row("SELECT count(*) FROM idx_folds", [], |row| row.get(0))
        .unwrap();
    assert_eq!(folds, 39);
}

/// Sessions that call no tool after sessions that did are wholly apart in their tool mix: the
/// mix read 0 ("stable"), as if nothing had changed. A baseline whose shares are no
/// distribution (all 0, which took every behaviour for its own) is refused.
#[test]
fn no_tool_calls_against_tool_calls_is_a_whole_drift_and_a_baseline_must_add_up() {
    let env = TestEnv::new();
    store(&env, |id, start, _| {
        SessionBuilder::new(id)
            .started(start)
            .meta(|m| m.agent_name = "claude-code".into())
            .prompt("what does the parser do?")
            .at(100.0)
            .answer("It parses.")
    });
    let run = env.run(&["drift", "--since", SINCE, "--format", "json"]);
    let r = run.json();
    assert!((dimension(&r, "tool_mix") - 1.0).abs() < 1e-9, "{r}");

    let saved = env.path().join("baseline.json");
    env.run(&[
        "drift",
        "--since",
        SINCE,
        "--save-baseline",
        saved.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&saved).unwrap();
    let mut baseline: Value = serde_json::from_str(&text).unwrap();
    for name in HISTOGRAMS {
        for share in baseline[name]["shares"].as_array_mut().unwrap() {
            *share = json!(0.0);
        }
    }
    let zeroed = env.path().join("zeroed.json");
    std::fs::write(&zeroed, baseline.to_string()).unwrap();
    let run = env.run(&["drift", "--baseline", zeroed.to_str().unwrap()]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("shares are no distribution"),
        "{}",
        run.stderr
    );
}

/// The baseline `drift --save-baseline` saves of the sessions since [`SINCE`]: where, and what.
fn saved_baseline(env: &TestEnv) -> (std::path::PathBuf, Value) {
    let saved = env.path().join("baseline.json");
    env.run(&[
        "drift",
        "--since",
        SINCE,
        "--save-baseline",
        saved.to_str().unwrap(),
    ])
    .success();
    let baseline = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    (saved, baseline)
}

/// A baseline's figures were read as they were: a file edited by hand or corrupted printed a
/// median of 5124095576030431h, 18,446,744,073,709,551,615 sessions and a negative median as
/// 0.00s, and exited 0. Each figure no baseline can hold is refused, naming it.
#[test]
fn a_baseline_whose_figures_no_sessions_can_have_is_refused_naming_the_field() {
    let env = TestEnv::new();
    store(&env, steady);
    let (saved, baseline) = saved_baseline(&env);
    let p95 = baseline["session_duration"]["p95"].as_f64().unwrap();
    let cases: [(&str, &str, Value); 9] = [
        ("session_duration", "p50", json!(1e308)),
        ("session_duration", "p95", json!(-1e308)),
        ("session_duration", "p50", json!(p95 + 1.0)),
        ("error_rate", "p95", json!(-5)),
        ("retry_rate", "mean", json!(1.5)),
        ("decision_depth", "p95", json!(1e300)),
        ("sessions", "", json!(u64::MAX)),
        ("first_started", "", json!(1e308)),
        ("last_started", "", json!(-1)),
    ];
    for (key, part, figure) in cases {
        let mut changed = baseline.clone();
        let field = if part.is_empty() {
            changed[key] = figure.clone();
            key.to_owned()
        } else {
            changed[key][part] = figure.clone();
            format!("{key}.{part}")
        };
        let file = env.path().join("changed.json");
        std::fs::write(&file, changed.to_string()).unwrap();
        let run = env.run(&[
            "drift",
            "--since",
            SINCE,
            "--baseline",
            file.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 3, "{field} = {figure}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("`{field}`")),
            "{field} = {figure}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
    // The figures as saved are read.
    let same = env.run(&[
        "drift",
        "--since",
        SINCE,
        "--baseline",
        saved.to_str().unwrap(),
    ]);
    same.success();
}

/// One event stamped in milliseconds made its session 56,000 years long: the window's median
/// duration was read as it was, and a baseline saved from it was refused when read back (a
/// duration no session can have). A duration comes from times a session can have.
#[test]
fn an_event_at_a_time_no_session_can_have_stretches_no_duration() {
    let env = TestEnv::new();
    store(&env, |id, start, i| {
        let steady = steady(id, start, i);
        if i % 2 == 0 {
            steady.at(start * 999.0).answer("stamped in milliseconds")
        } else {
            steady
        }
    });
    let (saved, baseline) = saved_baseline(&env);
    // Each steady session runs from 90 s to 130 s.
    for part in ["mean", "p50", "p95"] {
        let secs = baseline["session_duration"][part].as_f64().unwrap();
        assert!((90.0..=130.0).contains(&secs), "{part}: {baseline}");
    }
    let run = env.run(&["drift", "--since", SINCE, "--format", "json"]);
    run.success();
    assert!(dimension(&run.json(), "session_duration") < 0.05, "{run:?}");
    env.run(&[
        "drift",
        "--since",
        SINCE,
        "--baseline",
        saved.to_str().unwrap(),
    ])
    .success();
}

/// A baseline is read as a settings file is: a byte order mark an editor wrote first is no
/// text (it was refused: "not a drift baseline (expected value …)"), and a key no baseline has
/// is refused naming it (`"extra": 5` was read without a word).
#[test]
fn a_baseline_takes_a_byte_order_mark_and_refuses_a_key_it_does_not_know() {
    let env = TestEnv::new();
    store(&env, steady);
    let (saved, mut baseline) = saved_baseline(&env);
    let text = std::fs::read_to_string(&saved).unwrap();
    let marked = env.path().join("marked.json");
    std::fs::write(&marked, format!("\u{feff}{text}")).unwrap();
    let run = env.run(&[
        "drift",
        "--since",
        SINCE,
        "--baseline",
        marked.to_str().unwrap(),
    ]);
    assert!(run.code == 0 || run.code == 1, "{run:?}");
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    baseline["extra"] = json!(5);
    let extra = env.path().join("extra.json");
    std::fs::write(&extra, baseline.to_string()).unwrap();
    let run = env.run(&[
        "drift",
        "--since",
        SINCE,
        "--baseline",
        extra.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("`extra`"), "{}", run.stderr);
}

/// A baseline the Python tool saved (its README has users commit one) is refused saying so, and
/// how to save this build's own in its place: it was "not a drift baseline (unknown field
/// `fingerprint_id` …)", as though it were some other file. Its figures do not map onto this
/// build's (each dimension's mean, median and 95th percentile, no spread over buckets, a retry
/// counted otherwise), so it is not read. The fixture is one the Python tool 0.103 saved.
#[test]
fn a_baseline_the_python_tool_saved_is_refused_saying_so_and_how_to_save_ours() {
    let env = TestEnv::new();
    store(&env, steady);
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/drift/python-baseline.json");
    let run = env.run(&[
        "drift",
        "--since",
        SINCE,
        "--baseline",
        python.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("a baseline the Python tool saved"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("not a drift baseline"),
        "{}",
        run.stderr
    );
    // The file's own first day, and its own path.
    assert!(
        run.stderr.contains(&format!(
            "agent-strace drift --since 2026-02-12 --save-baseline {}",
            python.display()
        )),
        "{}",
        run.stderr
    );
}

/// A session dated next year (a clock that was ahead, a log imported from a machine ahead) was
/// in `drift --since 7d`'s recent window, which ends now. It is in neither window, with the one
/// warning `list` gives, and the earlier window keeps its own.
#[test]
fn the_recent_window_ends_now_and_leaves_out_a_session_dated_after_it() {
    use crate::common::{LEFT_OUT_AS_AHEAD, a_session_now_and_one_next_year, unix_now};

    let env = TestEnv::new();
    a_session_now_and_one_next_year(&env);
    SessionBuilder::new("earlier")
        .started(unix_now() - 20.0 * 86_400.0)
        .prompt("run the tests")
        .tool_call("Bash", json!({"command": "cargo test"}))
        .result(json!("ok"))
        .session_end(json!({}))
        .write(&env);
    let run = env.run(&["drift", "--since", "7d", "--format", "json"]);
    assert!(run.code == 0 || run.code == 1, "{run:?}");
    let r = run.json();
    assert_eq!(r["current"]["sessions"], 1, "{r}");
    assert_eq!(r["reference"]["sessions"], 1, "{r}");
    assert!(run.stderr.contains(LEFT_OUT_AS_AHEAD), "{}", run.stderr);
}
