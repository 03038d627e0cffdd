//! Reading commands on stores built to hurt them: chains of subagents thousands deep, parents
//! that loop or are gone, figures no session can have. Each command still answers, with true
//! figures or ones marked unknown.

use agent_strace::model::EventType;
use serde_json::json;

use crate::common::{Run, SessionBuilder, TestEnv};

/// Runs the binary as [`TestEnv::run`] does, with a stack of 1 MiB instead of the usual 8
/// (`ulimit -s`): a walk that recurses once per subagent overflows it a thousand deep, so a
/// chain of a few thousand shows such a walk without a store of ten thousand sessions.
fn run_on_a_small_stack(env: &TestEnv, args: &[&str]) -> Run {
    let model = env.command(args);
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(r#"ulimit -s 1024 && exec "$0" "$@""#)
        .arg(model.get_program())
        .args(model.get_args())
        .current_dir(env.path())
        .stdin(std::process::Stdio::null());
    for (key, value) in model.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    Run::of(cmd.output().expect("run binary"))
}

/// A chain of `n` sessions, each the subagent of the one before (`c00000` at the top).
fn chain(env: &TestEnv, n: usize) {
    for i in 0..n {
        let mut session = SessionBuilder::new(&format!("c{i:05}"))
            .started(crate::common::session::T0 + i as f64)
            .ended(1.0);
        if i > 0 {
            session = session.meta(|m| {
                m.parent_session_id = Some(format!("c{:05}", i - 1));
                m.parent_event_id = Some("e01".into());
                m.depth = i as u64;
            });
        }
        session
            .tool_call("Task", json!({"prompt": "go deeper"}))
            .write(env);
    }
}

#[test]
fn replay_tree_of_a_chain_three_thousand_subagents_deep() {
    let env = TestEnv::new();
    chain(&env, 3_000);
    // It overflowed the stack and aborted (SIGABRT) part way down.
    let run = run_on_a_small_stack(&env, &["replay", "--tree", "c00000", "--color", "never"]);
    run.success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3_000, "{}", run.stderr);
    assert!(lines[0].starts_with("▶ c00000 "), "{}", lines[0]);
    assert!(lines[1].starts_with("  ▶ c00001 "), "{}", lines[1]);
    assert!(lines[2_999].contains("c02999 agent=") && lines[2_999].contains("depth=2999"));
    // The indent stops growing: the deepest line is as wide as one a few levels down.
    assert!(lines.iter().all(|l| l.len() < 200), "{}", lines[2_999]);
}

/// A session whose model responses cost $0.0045 (1,000 input and 100 output tokens of
/// claude-sonnet-4-5), with `parent` as its parent when given.
fn costed(id: &str, parent: Option<&str>) -> SessionBuilder {
    SessionBuilder::new(id)
        .meta(|m| m.parent_session_id = parent.map(str::to_owned))
        .prompt(&format!("work of {id}"))
        .at(1.0)
        .tool_call("Bash", json!({"command": "ls"}))
        .at(2.0)
        .llm_response(
            "claude-sonnet-4-5",
            agent_strace::model::Tokens {
                input: 1_000,
                output: 100,
                ..Default::default()
            },
        )
        .ended(3.0)
}

#[test]
fn every_session_counts_once_in_list_budget_report_and_dashboard() {
    let env = TestEnv::new();
    costed("root", None).write(&env);
    costed("child", Some("root")).write(&env);
    // A subagent whose parent is not in the store, and two sessions each the other's parent.
    costed("orphan", Some("gone")).write(&env);
    costed("loop-a", Some("loop-b")).write(&env);
    costed("loop-b", Some("loop-a")).write(&env);
    let truth = 5.0 * 0.0045;
    let listed = env.run(&["list", "--format", "json"]).success().json();
    let by_id = |id: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["session_id"] == id)
            .unwrap_or_else(|| panic!("{id} is not listed: {listed}"))["cost_usd"]
            .as_f64()
            .unwrap()
    };
    // Each of the loop counted the other as its subagent: $0.0090 each.
    assert!((by_id("loop-a") - 0.0045).abs() < 1e-9, "{listed}");
    assert!((by_id("loop-b") - 0.0045).abs() < 1e-9, "{listed}");
    assert!((by_id("root") - 0.0090).abs() < 1e-9, "{listed}");
    let list_total: f64 = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["cost_usd"].as_f64().unwrap())
        .sum();
    assert!((list_total - truth).abs() < 1e-9, "{listed}");
    // The report counted only sessions of no parent: the orphan and the loop were left out.
    let report = env
        .run(&["budget-report", "--since", "2020-01-01", "--format", "json"])
        .success()
        .json();
    assert_eq!(report["sessions"], 4, "{report}");
    assert!(
        (report["total_usd"].as_f64().unwrap() - truth).abs() < 1e-9,
        "{report}"
    );
    let dashboard = env
        .run(&["dashboard", "--since", "2020-01-01", "--format", "json"])
        .success()
        .json();
    assert_eq!(dashboard["totals"]["sessions"], 4, "{dashboard}");
    assert!(
        (dashboard["totals"]["cost_usd"].as_f64().unwrap() - truth).abs() < 1e-9,
        "{dashboard}"
    );
}

#[test]
fn dashboard_counts_the_tools_of_subagents_deeper_than_64() {
    let env = TestEnv::new();
    chain(&env, 100);
    let dashboard = env
        .run(&["dashboard", "--since", "2020-01-01", "--format", "json"])
        .success()
        .json();
    // Those below 64 levels were left out: Task had 65 calls.
    assert_eq!(dashboard["top_tools"][0]["tool"], "Task", "{dashboard}");
    assert_eq!(dashboard["top_tools"][0]["calls"], 100, "{dashboard}");
}

#[test]
fn a_call_duration_no_call_can_take_is_no_duration() {
    let env = TestEnv::new();
    SessionBuilder::new("durations")
        .tool_call("Bash", json!({"command": "ls"}))
        .at(1.0)
        .result(json!("a"))
        .duration_ms(1e308)
        .at(2.0)
        .tool_call("Bash", json!({"command": "ls"}))
        .at(3.0)
        .result(json!("b"))
        .duration_ms(-5000.0)
        .at(4.0)
        .tool_call("Bash", json!({"command": "ls"}))
        .at(5.0)
        .result(json!("c"))
        .duration_ms(1000.0)
        .write(&env);
    let stats = env
        .run(&["stats", "durations", "--format", "json"])
        .success()
        .json();
    let bash = &stats["tools"][0];
    // The total was infinite, given as null and shown as `0ms`, with three calls timed.
    assert_eq!(bash["timed"], 1, "{stats}");
    assert_eq!(bash["total_ms"], 1000.0, "{stats}");
    assert_eq!(bash["p95_ms"], 1000.0, "{stats}");
    let text = env
        .run(&["stats", "durations", "--color", "never"])
        .success()
        .stdout
        .clone();
    let row = text.lines().find(|l| l.starts_with("Bash")).unwrap();
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        ["Bash", "3", "0", "1.00s", "1.00s", "1.00s"]
    );
    // The first call was shown as one of 5124095576030431 hours, the second as `(0ms)`.
    let replay = env
        .run(&["replay", "durations", "--color", "never"])
        .success()
        .stdout
        .clone();
    assert!(
        !replay.contains("h 00m") && !replay.contains("(0ms)"),
        "{replay}"
    );
    assert!(replay.contains("(1.00s)"), "{replay}");
}

/// `replay` of a small session run on a terminal (util-linux `script` gives it one) with `TERM`
/// set to `term`; `None` where `script` cannot run.
fn replay_on_a_terminal(env: &TestEnv, term: &str) -> Option<String> {
    let line = format!("{} replay --color auto", crate::common::bin().display());
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .current_dir(env.path());
    for (key, value) in env.command(&[]).get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    cmd.env("TERM", term);
    let out = cmd.output().ok().filter(|o| o.status.success())?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn no_colour_on_a_dumb_terminal() {
    let env = TestEnv::new();
    costed("s", None).write(&env);
    if let Some(xterm) = replay_on_a_terminal(&env, "xterm") {
        assert!(xterm.contains("\x1b[1m"), "{xterm}");
        // Emacs' shell showed every colour as `^[[1m` text.
        let dumb = replay_on_a_terminal(&env, "dumb").unwrap();
        assert!(
            dumb.contains("work of s") && !dumb.contains('\x1b'),
            "{dumb}"
        );
    }
}

/// The commands that read a session with its subagents, each as the arguments after the
/// session's id is put in: pages, exports, a replay with the subagents' events.
const TREE_COMMANDS: [&[&str]; 9] = [
    &["replay", "--format", "html"],
    &["share"],
    &["export", "--format", "json"],
    &["export", "--format", "ndjson"],
    &["export", "--format", "csv"],
    &["export", "--format", "otlp"],
    &["export", "--format", "otlp-genai"],
    &["export", "--format", "ndjson", "--anonymize"],
    &["replay", "--expand-subagents", "--color", "never"],
];

#[test]
fn pages_exports_and_replays_of_a_chain_of_subagents_hundreds_deep() {
    let env = TestEnv::new();
    // Deep enough on the small stack; 3,000 deep overflowed the usual one (8 MiB).
    let deep = 300;
    chain(&env, deep);
    let last = format!("c{:05}", deep - 1);
    for command in TREE_COMMANDS {
        let mut args = command.to_vec();
        args.push("c00000");
        // Each overflowed the stack and aborted (SIGABRT) part way down.
        let run = run_on_a_small_stack(&env, &args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(run.stdout.contains(&last), "{args:?} left out {last}");
    }
    let replay = run_on_a_small_stack(
        &env,
        &["replay", "--expand-subagents", "c00000", "--color", "never"],
    );
    assert!(
        replay.stdout.contains(&format!("subagent {last} agent=")),
        "{}",
        replay.stdout
    );
    // The dashboard's page beside it is the replay page of its one session.
    let pages = tempfile::tempdir().unwrap();
    let html = pages.path().join("dashboard.html");
    let dashboard = run_on_a_small_stack(
        &env,
        &[
            "dashboard",
            "--since",
            "2020-01-01",
            "--html",
            html.to_str().unwrap(),
        ],
    );
    assert_eq!(dashboard.code, 0, "{}", dashboard.stderr);
    let page = std::fs::read_to_string(pages.path().join("replay-c00000.html")).unwrap();
    assert!(page.contains(&last), "the dashboard's page left out {last}");
    // The indent stops growing, as `--tree`'s does: the deepest lines began with 600 columns.
    assert!(
        replay.stdout.lines().all(|l| l.chars().count() < 200),
        "{}",
        replay.stdout.lines().last().unwrap_or_default()
    );
}

/// `export --format json` nested each subagent of a chain a level below its parent, three
/// levels of JSON each: 1.2 GB, mostly indentation, for a chain of 3,000, and for a chain of a
/// thousand a document nested deeper than JSON readers go (serde_json: 128 levels, Python:
/// 1,000). Past 32 levels the rest of the chain is listed under the deepest nested subagent,
/// each session naming its parent.
#[test]
fn export_json_of_a_chain_a_thousand_deep_reads_as_json_and_stays_small() {
    let env = TestEnv::new();
    let deep = 1_000;
    chain(&env, deep);
    let run = env.run(&["export", "c00000", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.len() < 8_000_000,
        "{} bytes for {deep} small sessions",
        run.stdout.len()
    );
    let document = run.json();
    let mut todo = vec![(&document, None::<&str>, 0)];
    let mut seen = Vec::new();
    let mut deepest_nested = 0;
    while let Some((at, parent, level)) = todo.pop() {
        let meta = &at["session"];
        let id = meta["session_id"].as_str().unwrap();
        deepest_nested = deepest_nested.max(level);
        // Nested under its parent, or listed under an ancestor and naming its parent.
        if let Some(parent) = parent {
            let named = meta["parent_session_id"].as_str().unwrap();
            let number: usize = id[1..].parse().unwrap();
            assert_eq!(named, format!("c{:05}", number - 1), "{id}");
            assert!(named == parent || level > 32, "{id} under {parent}");
        }
        assert_eq!(at["events"].as_array().unwrap().len(), 1, "{id}");
        seen.push(id.to_owned());
        for sub in at["subagents"].as_array().unwrap() {
            todo.push((sub, Some(id), level + 1));
        }
    }
    seen.sort();
    let expected: Vec<String> = (0..deep).map(|i| format!("c{i:05}")).collect();
    assert_eq!(seen, expected, "every session once");
    assert_eq!(deepest_nested, 33);
}

#[test]
fn the_pages_stop_indenting_subagents_where_the_terminal_does() {
    let Some(browser) = crate::common::browser::Browser::from_env(
        "the_pages_stop_indenting_subagents_where_the_terminal_does",
    ) else {
        return;
    };
    let env = TestEnv::new();
    chain(&env, 40);
    let pages = tempfile::tempdir().unwrap();
    for command in [&["replay", "--format", "html"][..], &["share"]] {
        let path = pages.path().join(format!("{}.html", command[0]));
        let mut args = command.to_vec();
        args.extend(["c00000", "-o", path.to_str().unwrap()]);
        env.run(&args).success();
        // Each row was indented by its depth with no end: 39 levels, 702 px.
        let widest = browser.run("indent.mjs", &json!({"path": path}));
        assert_eq!(widest["widest"], 32 * 18, "{args:?}: {widest}");
        assert_eq!(
            widest["rows"].as_u64().map(|n| n > 0),
            Some(true),
            "{widest}"
        );
    }
}

#[test]
fn no_session_of_a_loop_of_parents_is_the_subagent_of_another() {
    let env = TestEnv::new();
    // Each is the next one's parent, spawned by its call (`e02`), round a loop of three.
    for (id, parent) in [
        ("loop-a", "loop-c"),
        ("loop-b", "loop-a"),
        ("loop-c", "loop-b"),
    ] {
        costed(id, Some(parent))
            .meta(|m| m.parent_event_id = Some("e02".into()))
            .write(&env);
    }
    let cost = env
        .run(&["cost", "loop-a", "--format", "json"])
        .success()
        .json();
    // `cost loop-a` named loop-b and loop-c its subagents and counted them in: $0.0135.
    assert!(
        cost["subagents"].as_array().is_none_or(Vec::is_empty),
        "{cost}"
    );
    assert!(
        (cost["cost_usd"].as_f64().unwrap() - 0.0045).abs() < 1e-9,
        "{cost}"
    );
    let tree = env.run(&["replay", "--tree", "loop-a", "--color", "never"]);
    tree.success();
    assert_eq!(tree.stdout.lines().count(), 1, "{}", tree.stdout);
    // Each command of a session's tree read the others of the loop with it (the replay with
    // its subagents' events went round the loop until the stack overflowed); loop-a names
    // loop-c as its parent, but nothing names loop-b.
    let mut commands = TREE_COMMANDS.to_vec();
    commands.push(&["stats", "--include-subagents", "--format", "json"]);
    for command in commands {
        let mut args = command.to_vec();
        args.push("loop-a");
        let run = run_on_a_small_stack(&env, &args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(!run.stdout.contains("loop-b"), "{args:?} read loop-b");
    }
    // The dashboard's replay page of each named the next its subagent.
    let pages = tempfile::tempdir().unwrap();
    let html = pages.path().join("dashboard.html");
    env.run(&[
        "dashboard",
        "--since",
        "2020-01-01",
        "--html",
        html.to_str().unwrap(),
    ])
    .success();
    let page = std::fs::read_to_string(pages.path().join("replay-loop-a.html")).unwrap();
    assert!(!page.contains("loop-b"), "the page of loop-a shows loop-b");
}

#[test]
fn the_latest_session_and_compare_tag_head_trees_as_list_does() {
    let env = TestEnv::new();
    let at = |id: &str, parent: Option<&str>, offset: f64, command: &str| {
        costed(id, parent)
            .started(crate::common::session::T0 + offset)
            .meta(|m| m.command = command.to_owned())
            .write(&env);
    };
    at("old", None, 0.0, "claude task-x");
    // A subagent whose parent is gone, and a loop of two: `list` heads each.
    at("orphan", Some("gone"), 100.0, "claude task-x");
    at("loop-a", Some("loop-b"), 200.0, "claude task-x");
    at("loop-b", Some("loop-a"), 150.0, "claude other");
    let listed = env.run(&["list", "--format", "json"]).success().json();
    assert_eq!(listed[0]["session_id"], "loop-a", "{listed}");
    // The latest was the oldest session of no parent; --tag found one session.
    let stats = env.run(&["stats", "--format", "json"]).success().json();
    assert_eq!(stats["sessions"], serde_json::json!(["loop-a"]), "{stats}");
    let compared = env
        .run(&["compare", "--tag", "task-x", "--format", "json"])
        .success()
        .json();
    assert_eq!(compared["a"]["session_id"], "orphan", "{compared}");
    assert_eq!(compared["b"]["session_id"], "loop-a", "{compared}");
}

#[test]
fn a_subagent_that_cannot_be_read_is_left_out_of_the_pages_with_a_warning() {
    let env = TestEnv::new();
    chain(&env, 2);
    env.run(&["list"]).success();
    // The subagent's events are a link: never followed.
    let events = env.store().join("c00001").join("events.ndjson");
    std::fs::remove_file(&events).unwrap();
    std::os::unix::fs::symlink(env.store().join("c00000").join("meta.json"), &events).unwrap();
    for command in [
        &["share"][..],
        &["replay", "--format", "html"],
        &["replay", "--expand-subagents"],
    ] {
        let mut args = command.to_vec();
        args.push("c00000");
        // The pages failed as a whole ("error: … is a symbolic link"), where `export` and
        // `replay --tree` leave the subagent out with a warning; the expanded replay warned
        // twice.
        let run = env.run(&args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(run.stdout.contains("c00000"), "{args:?}");
        // A page names it once, in the note under its cost that says it is left out.
        let named = usize::from(command[0] == "share" || command.contains(&"html"));
        assert_eq!(run.stdout.matches("c00001").count(), named, "{args:?}");
        if named > 0 {
            assert!(
                run.stdout
                    .contains("Subagent session c00001 could not be read: it is left out"),
                "{args:?}"
            );
        }
        assert_eq!(
            run.stderr
                .matches("left out subagent session c00001")
                .count(),
            1,
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_subagent_below_one_that_cannot_be_read_stays_in_its_roots_tree() {
    let env = TestEnv::new();
    costed("root", None).write(&env);
    costed("mid", Some("root")).write(&env);
    costed("leaf", Some("mid")).write(&env);
    // The middle one's events are a FIFO: never opened.
    let events = env.store().join("mid").join("events.ndjson");
    std::fs::remove_file(&events).unwrap();
    mkfifo(&events);
    let said_once = |run: &Run, args: &[&str]| {
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_eq!(
            run.stderr.matches("left out subagent session mid").count(),
            1,
            "{args:?}: {}",
            run.stderr
        );
    };
    // `cost root` gave $0.0045, leaving out the leaf below the FIFO without a word.
    let args = ["cost", "root", "--format", "json"];
    let cost = env.run(&args);
    said_once(&cost, &args);
    let usd = cost.json()["cost_usd"].as_f64().unwrap();
    assert!((usd - 0.0090).abs() < 1e-9, "{}", cost.stdout);
    for args in [
        &["replay", "--tree", "root", "--color", "never"][..],
        &["stats", "root", "--include-subagents", "--format", "json"],
        &["export", "root", "--format", "json"],
        &["share", "root"],
    ] {
        let run = env.run(args);
        said_once(&run, args);
        assert!(run.stdout.contains("leaf"), "{args:?} left out leaf");
    }
    let tree = env.run(&["replay", "--tree", "root", "--color", "never"]);
    assert!(
        tree.stdout.contains("    ▶ leaf agent= depth=2 "),
        "{}",
        tree.stdout
    );
}

/// A session whose meta.json is a FIFO is listed as its events tell it, with one warning that
/// named the file twice (`…/meta.json: …/meta.json is a FIFO …`): the index kept the error's
/// text with its path, and the listing put the path before it again.
#[test]
fn a_meta_json_that_is_a_fifo_is_named_once_in_lists_warning() {
    let env = TestEnv::new();
    costed("fifo", None).write(&env);
    let meta = env.store().join("fifo").join("meta.json");
    std::fs::remove_file(&meta).unwrap();
    mkfifo(&meta);
    for args in [&["list"][..], &["list", "--format", "json"]] {
        let run = env.run(args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        let path = meta.display().to_string();
        assert_eq!(
            run.stderr.matches(&path).count(),
            1,
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("is a FIFO where the store keeps a plain file"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

/// A tree of three costed sessions, `root` > `mid` > `leaf` ($0.0045 each), whose middle one
/// cannot be read (its events a FIFO); with `indexed`, the index knew all three first.
fn tree_with_an_unreadable_middle(indexed: bool) -> TestEnv {
    let env = TestEnv::new();
    costed("root", None).write(&env);
    costed("mid", Some("root")).write(&env);
    costed("leaf", Some("mid")).write(&env);
    if indexed {
        let listed = env.run(&["list", "--format", "json"]).success().json();
        assert!((listed[0]["cost_usd"].as_f64().unwrap() - 0.0135).abs() < 1e-9);
    }
    let events = env.store().join("mid").join("events.ndjson");
    std::fs::remove_file(&events).unwrap();
    mkfifo(&events);
    env
}

/// Every view of the index counts the tree `root` > `mid` > `leaf` whose middle one cannot be
/// read as `cost root` does ($0.0090: root and leaf), one session with one subagent, and says
/// once that `mid` was left out.
fn views_of_the_index_agree_with_cost(env: &TestEnv) {
    let close = |value: &serde_json::Value, what: &str| {
        let usd = value.as_f64().unwrap_or_else(|| panic!("{what}: {value}"));
        assert!((usd - 0.0090).abs() < 1e-9, "{what} gave {usd}");
    };
    let said_once = |run: &Run, what: &str| {
        assert_eq!(run.code, 0, "{what}: {}", run.stderr);
        let lines = run.stderr.lines().filter(|l| l.contains("/mid/")).count();
        assert_eq!(lines, 1, "{what}: {}", run.stderr);
    };
    let cost = env.run(&["cost", "root", "--format", "json"]);
    close(&cost.json()["cost_usd"], "cost");
    let list = env.run(&["list", "--format", "json"]);
    said_once(&list, "list");
    assert_eq!(list.session_ids(), ["root"], "{}", list.stdout);
    close(&list.json()[0]["cost_usd"], "list");
    let all = env.run(&["list", "--all", "--format", "json"]);
    assert_eq!(all.session_ids(), ["root", "leaf"], "{}", all.stdout);
    let sql = env.run(&[
        "sql",
        "SELECT sum(cost_usd) AS usd FROM sessions",
        "--format",
        "json",
    ]);
    close(&sql.json()[0]["usd"], "sql");
    let report = env.run(&["budget-report", "--since", "2020-01-01", "--format", "json"]);
    said_once(&report, "budget-report");
    assert_eq!(report.json()["sessions"], 1, "{}", report.stdout);
    close(&report.json()["total_usd"], "budget-report");
    let dashboard = env.run(&["dashboard", "--since", "2020-01-01", "--format", "json"]);
    said_once(&dashboard, "dashboard");
    let totals = &dashboard.json()["totals"];
    assert_eq!(
        (&totals["sessions"], &totals["subagent_sessions"]),
        (&json!(1), &json!(1)),
        "{totals}"
    );
    close(&totals["cost_usd"], "dashboard");
    let stats = env.run(&["stats", "root", "--include-subagents", "--format", "json"]);
    assert_eq!(stats.code, 0, "{}", stats.stderr);
    assert!(stats.stdout.contains("leaf"), "{}", stats.stdout);
}

/// `list` showed the leaf below a subagent that cannot be read as a session of its own and
/// its root at $0.0045, where `cost root` says $0.0090; budget-report and dashboard did too.
#[test]
fn the_index_views_count_a_subagent_below_one_that_cannot_be_read_in_its_root() {
    views_of_the_index_agree_with_cost(&tree_with_an_unreadable_middle(false));
}

/// An index that knew the middle subagent while it could be read kept its figures: `list`
/// said it skipped it and counted it all the same ($0.0135), and `sql` listed it.
#[test]
fn the_index_forgets_the_figures_of_a_subagent_that_can_no_longer_be_read() {
    views_of_the_index_agree_with_cost(&tree_with_an_unreadable_middle(true));
}

/// `replay --expand-subagents` left out the leaf below a subagent that cannot be read (the
/// call that spawned it is that one's), and a subagent that names no call of its parent: each
/// is replayed after its parent's last line.
#[test]
fn replay_expands_a_subagent_below_one_that_cannot_be_read_under_its_root() {
    let env = tree_with_an_unreadable_middle(false);
    costed("loose", Some("root")).write(&env);
    let run = env.run(&["replay", "root", "--expand-subagents", "--color", "never"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    let leaf = out
        .find("▶ subagent leaf")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(out[leaf..].contains("work of leaf"), "{out}");
    assert!(out.find("work of root").unwrap() < leaf, "{out}");
    assert!(!out.contains("work of mid"), "{out}");
    let loose = out
        .find("▶ subagent loose")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(out[loose..].contains("work of loose"), "{out}");
    assert!(out.find("work of root").unwrap() < loose, "{out}");
    assert!(
        run.stderr.contains("left out subagent session mid"),
        "{}",
        run.stderr
    );
}

/// Makes a FIFO at `path`.
fn mkfifo(path: &std::path::Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

/// The figures of session `absurd`: one response of 1,000 input and 100 output tokens of
/// claude-sonnet-4-5 ($0.0045), and responses whose usage holds counts no response can have.
fn absurd_usage(env: &TestEnv) {
    let mut session = costed("absurd", None);
    for usage in [
        json!({"input_tokens": u64::MAX, "output_tokens": 100}),
        json!({"input_tokens": 1e308}),
        json!({"input_tokens": -1000, "output_tokens": 100}),
        json!({"input_tokens": 2.5}),
        json!({"input_tokens": "1000"}),
        json!({"input_tokens": 1000, "cache_creation": {"ephemeral_1h_input_tokens": -1}}),
    ] {
        session = session.event(
            EventType::LlmResponse,
            json!({"model": "claude-sonnet-4-5", "usage": usage}),
        );
    }
    // Counts outside a usage object: their sum overflowed (a panic in a debug build).
    session
        .event(
            EventType::LlmResponse,
            json!({"model": "claude-sonnet-4-5", "total_tokens": u64::MAX}),
        )
        .event(
            EventType::LlmResponse,
            json!({"model": "claude-sonnet-4-5", "input_tokens": u64::MAX, "output_tokens": 1}),
        )
        .write(env);
}

#[test]
fn a_token_count_no_response_can_have_is_unknown_in_every_command() {
    let env = TestEnv::new();
    absurd_usage(&env);
    let close = |value: &serde_json::Value, what: &str| {
        let usd = value.as_f64().unwrap_or_else(|| panic!("{what}: {value}"));
        assert!((usd - 0.0045).abs() < 1e-9, "{what}: {usd}");
    };
    // cost said $110,680,464,442,257.31 and list $9,223,372.04.
    let cost = env
        .run(&["cost", "absurd", "--format", "json"])
        .success()
        .json();
    close(&cost["cost_usd"], "cost");
    assert_eq!(cost["tokens"]["input"], 1000, "{cost}");
    let listed = env.run(&["list", "--format", "json"]).success().json();
    close(&listed[0]["cost_usd"], "list");
    assert_eq!(listed[0]["total_tokens"], 1100, "{listed}");
    let report = env
        .run(&["budget-report", "--since", "2020-01-01", "--format", "json"])
        .success()
        .json();
    close(&report["total_usd"], "budget-report");
    let dashboard = env
        .run(&["dashboard", "--since", "2020-01-01", "--format", "json"])
        .success()
        .json();
    close(&dashboard["totals"]["cost_usd"], "dashboard");
    let stats = env
        .run(&["stats", "absurd", "--color", "never"])
        .success()
        .stdout
        .clone();
    assert!(stats.contains("Tokens: 1,100"), "{stats}");
    // token-budget gave a peak of 9223372036854776% of the window.
    let budget = env
        .run(&["token-budget", "absurd", "--format", "json"])
        .success()
        .json();
    assert_eq!(budget["peak"]["tokens"], 1000, "{budget}");
    let rows = env
        .run(&[
            "sql",
            "SELECT count(*) AS n, sum(input_tokens) AS input FROM llm_responses",
            "--format",
            "json",
        ])
        .success()
        .json();
    assert_eq!(rows[0]["n"], 1, "{rows}");
    assert_eq!(rows[0]["input"], 1000, "{rows}");
}

#[test]
fn a_session_with_recorded_usage_and_an_estimated_subagent_is_partly_estimated() {
    let env = TestEnv::new();
    costed("parent", None).write(&env);
    // The subagent recorded no usage: its cost is estimated from its payloads.
    SessionBuilder::new("child")
        .meta(|m| m.parent_session_id = Some("parent".into()))
        .prompt("look around")
        .at(1.0)
        .tool_call("Bash", json!({"command": "ls -la"}))
        .ended(2.0)
        .write(&env);
    // It said "Estimated cost" and "No usage was recorded", of a session that recorded it.
    let cost = env
        .run(&["cost", "parent", "--color", "never"])
        .success()
        .stdout
        .clone();
    assert!(
        cost.starts_with("Session: parent — Cost, partly estimated: "),
        "{cost}"
    );
    assert!(!cost.contains("No usage was recorded"), "{cost}");
    assert!(
        cost.contains("Subagent child recorded no usage: its tokens are estimated"),
        "{cost}"
    );
    let replay = env
        .run(&["replay", "parent", "--color", "never"])
        .success()
        .stdout
        .clone();
    let line = replay.lines().find(|l| l.starts_with("Cost: ")).unwrap();
    assert!(
        line.contains("(partly estimated from payload sizes"),
        "{line}"
    );
    let report = env
        .run(&["budget-report", "--since", "2020-01-01", "--color", "never"])
        .success()
        .stdout
        .clone();
    assert!(!report.contains("(no recorded usage)"), "{report}");
    assert!(report.contains("1 of them estimated from payload sizes, in whole or in part"));
    // A session that recorded nothing, with a subagent that did not either, is an estimate.
    let alone = env
        .run(&["cost", "child", "--color", "never"])
        .success()
        .stdout
        .clone();
    assert!(
        alone.starts_with("Session: child — Estimated cost: "),
        "{alone}"
    );
    assert!(alone.contains("No usage was recorded"), "{alone}");
}

/// Rewrites `key` of session `id`'s `meta.json` to `value`, as a damaged or forged file holds it.
fn set_meta(env: &TestEnv, id: &str, key: &str, value: serde_json::Value) {
    let path = env.store().join(id).join("meta.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    meta[key] = value;
    std::fs::write(&path, meta.to_string()).unwrap();
}

#[test]
fn a_negative_count_and_an_end_before_the_start_are_unknown() {
    let env = TestEnv::new();
    costed("negative", None).write(&env);
    set_meta(&env, "negative", "tool_calls", json!(-5));
    costed("backwards", None).write(&env);
    set_meta(
        &env,
        "backwards",
        "ended_at",
        json!(crate::common::session::T0 - 60.0),
    );
    let listed = env.run(&["list", "--format", "json"]);
    listed.success();
    let by_id = |id: &str| {
        listed
            .json()
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["session_id"] == id)
            .unwrap()
            .clone()
    };
    // The count read as 0 (TOOLS 0), and the duration as 0.00s.
    assert_eq!(by_id("negative")["tool_calls"], serde_json::Value::Null);
    assert_eq!(by_id("backwards")["duration_s"], serde_json::Value::Null);
    assert_eq!(by_id("backwards")["ended_at"], serde_json::Value::Null);
    assert!(listed.stderr.contains("tool_calls -5"), "{}", listed.stderr);
    let text = env
        .run(&["list", "--color", "never"])
        .success()
        .stdout
        .clone();
    let row = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(id))
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    // SESSION, STARTED (two words), DURATION, then TOOLS: the sessions name no agent.
    assert_eq!(row("negative")[4..6], ["?", "0"], "{text}");
    assert_eq!(row("backwards")[3], "?", "{text}");
    let stats = env
        .run(&["stats", "backwards", "--color", "never"])
        .success()
        .stdout
        .clone();
    assert!(stats.contains("Duration: ?"), "{stats}");
    let replay = env
        .run(&["replay", "negative", "--color", "never"])
        .success()
        .stdout
        .clone();
    assert!(replay.contains("Tool calls: ?"), "{replay}");
}

#[test]
fn a_duration_that_is_not_a_number_keeps_its_event() {
    let env = TestEnv::new();
    SessionBuilder::new("nan")
        .tool_call("Bash", json!({"command": "ls"}))
        .at(1.0)
        .result(json!("listed"))
        .extra("duration_ms", "NaN")
        .write(&env);
    // The whole result line was skipped, with a warning, by every reader.
    let replay = env.run(&["replay", "nan", "--color", "never"]);
    replay.success();
    assert!(replay.stderr.is_empty(), "{}", replay.stderr);
    assert!(replay.stdout.contains("listed"), "{}", replay.stdout);
    let stats = env
        .run(&["stats", "nan", "--format", "json"])
        .success()
        .json();
    assert_eq!(stats["tools"][0]["calls"], 1, "{stats}");
    assert_eq!(stats["tools"][0]["timed"], 0, "{stats}");
    let events = env
        .run(&[
            "sql",
            "SELECT count(*) AS n FROM events WHERE session_id = 'nan'",
            "--format",
            "json",
        ])
        .success()
        .json();
    assert_eq!(events[0]["n"], 2, "{events}");
}

#[test]
fn responses_of_unknown_usage_are_said_to_be_left_out() {
    let env = TestEnv::new();
    // One response of believed usage, eight of usage no response can have.
    absurd_usage(&env);
    // Its only usage is none a response can have: it was said to have recorded none.
    SessionBuilder::new("forged")
        .prompt("go")
        .at(1.0)
        .event(
            EventType::LlmResponse,
            json!({"model": "claude-sonnet-4-5", "usage": {"input_tokens": -1}}),
        )
        .ended(2.0)
        .write(&env);
    let text = |args: &[&str]| env.run(args).success().stdout.clone();
    let forged = text(&["cost", "forged", "--color", "never"]);
    assert!(!forged.contains("No usage was recorded"), "{forged}");
    assert!(
        forged.contains("No believable usage was recorded: tokens are estimated"),
        "{forged}"
    );
    assert!(
        forged.contains("1 LLM response recorded usage no response can have"),
        "{forged}"
    );
    // Partly: the figures counted the one believed response without a word of the others.
    let absurd = text(&["cost", "absurd", "--color", "never"]);
    assert!(
        absurd.contains("8 LLM responses recorded usage no response can have"),
        "{absurd}"
    );
    let stats = text(&["stats", "absurd", "--color", "never"]);
    assert!(
        stats.contains("8 LLM responses recorded usage no response can have"),
        "{stats}"
    );
    let replay = text(&["replay", "absurd", "--color", "never"]);
    assert!(
        replay.contains("8 responses of unknown usage left out"),
        "{replay}"
    );
    let budget = text(&["token-budget", "forged", "--color", "never"]);
    assert!(
        budget.contains("No believable model usage was recorded"),
        "{budget}"
    );
    let trace = text(&["export", "absurd", "--format", "otlp-genai"]);
    assert!(
        trace.contains("agent_strace.usage.unbelieved_responses"),
        "{trace}"
    );
    let json = |args: &[&str]| env.run(args).success().json();
    let cost = json(&["cost", "absurd", "--format", "json"]);
    assert_eq!(cost["unbelieved_usage"], 8, "{cost}");
    let stats = json(&["stats", "absurd", "--format", "json"]);
    assert_eq!(stats["unbelieved_usage"], 8, "{stats}");
    let listed = json(&["list", "--format", "json"]);
    let row = |id: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["session_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(row("absurd")["cost_unbelieved_usage"], 8, "{listed}");
    assert_eq!(row("forged")["cost_unbelieved_usage"], 1, "{listed}");
    let listing = text(&["list", "--color", "never"]);
    assert!(
        listing.contains("? 9 LLM responses of unknown usage"),
        "{listing}"
    );
    let report = json(&["budget-report", "--since", "2020-01-01", "--format", "json"]);
    assert_eq!(report["unbelieved_sessions"], 2, "{report}");
    let dashboard = json(&["dashboard", "--since", "2020-01-01", "--format", "json"]);
    assert_eq!(
        dashboard["totals"]["cost_unbelieved_usage"], 9,
        "{dashboard}"
    );
    let rows = json(&[
        "sql",
        "SELECT session_id, unbelieved_usage FROM sessions ORDER BY session_id",
        "--format",
        "json",
    ]);
    assert_eq!(rows[0]["unbelieved_usage"], 8, "{rows}");
    assert_eq!(rows[1]["unbelieved_usage"], 1, "{rows}");
}

/// A session with a call stamped `1e308` and its result stamped a billion years before 1970,
/// between events of true times.
fn stamped_at_no_time(env: &TestEnv) {
    let session = SessionBuilder::new("stamps")
        .prompt("look")
        .at(1.0)
        .tool_call("Bash", json!({"command": "ls"}))
        .at(2.0)
        .result(json!("listed"))
        .at(3.0)
        .tool_call("Read", json!({"file_path": "/a"}))
        .at(4.0)
        .result(json!("read"))
        .ended(5.0);
    let path = env.store().join("stamps");
    session.write(env);
    let text = std::fs::read_to_string(path.join("events.ndjson")).unwrap();
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let mut event: serde_json::Value = serde_json::from_str(line).unwrap();
            match event["event_id"].as_str() {
                Some("e02") => event["timestamp"] = json!(1e308),
                Some("e03") => event["timestamp"] = json!(-3.15e16),
                _ => {}
            }
            event.to_string()
        })
        .collect();
    std::fs::write(path.join("events.ndjson"), lines.join("\n") + "\n").unwrap();
}

#[test]
fn an_event_stamped_at_no_time_a_session_can_have_is_at_an_unknown_time() {
    let env = TestEnv::new();
    stamped_at_no_time(&env);
    // explain gave the session and its phase 5124095576030431 hours.
    let explain = env
        .run(&["explain", "stamps", "--color", "never"])
        .success()
        .stdout
        .clone();
    assert!(!explain.contains("5124095576030431"), "{explain}");
    assert!(explain.starts_with("Session: stamps (4.00s, "), "{explain}");
    // replay showed the call 5124095576030431 hours in.
    let replay = env
        .run(&["replay", "stamps", "--color", "never"])
        .success()
        .stdout
        .clone();
    assert!(!replay.contains("5124095576030431"), "{replay}");
    let unknown: Vec<&str> = replay
        .lines()
        .filter(|l| l.starts_with('#') && l.contains("      ? "))
        .collect();
    assert_eq!(unknown.len(), 2, "{replay}");
    // replay --live waited a billion years from the result's time to the next line's (a
    // million at --speed 1000).
    let mut live = env.command(&[
        "replay", "stamps", "--live", "--speed", "1000", "--color", "never",
    ]);
    let mut child = live
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > std::time::Duration::from_secs(120) {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(
        status.is_some_and(|s| s.success()),
        "replay --live did not end"
    );
}

#[test]
fn a_session_dearer_than_the_index_integers_costs_the_same_in_every_view() {
    let env = TestEnv::new();
    // Thirteen responses of ten billion output tokens of Opus 4.1, each believed: $9,750,000.
    let mut session = SessionBuilder::new("dear").prompt("spend");
    for i in 0..13 {
        session = session.at(1.0 + f64::from(i)).llm_response(
            "claude-opus-4-1",
            agent_strace::model::Tokens {
                output: 10_000_000_000,
                ..Default::default()
            },
        );
    }
    session.ended(20.0).write(&env);
    let json = |args: &[&str]| env.run(args).success().json();
    let close = |value: &serde_json::Value, what: &str| {
        let usd = value.as_f64().unwrap_or_else(|| panic!("{what}: {value}"));
        assert!((usd - 9_750_000.0).abs() < 1e-3, "{what}: {usd}");
    };
    close(
        &json(&["cost", "dear", "--format", "json"])["cost_usd"],
        "cost",
    );
    // list and sql capped it at $9,223,372.04, the index's integers.
    close(&json(&["list", "--format", "json"])[0]["cost_usd"], "list");
    let rows = json(&["sql", "SELECT cost_usd FROM sessions", "--format", "json"]);
    close(&rows[0]["cost_usd"], "sql");
    let models = json(&["sql", "SELECT cost_usd FROM models", "--format", "json"]);
    close(&models[0]["cost_usd"], "sql models");
    let report = json(&["budget-report", "--since", "2020-01-01", "--format", "json"]);
    close(&report["total_usd"], "budget-report");
    let dashboard = json(&["dashboard", "--since", "2020-01-01", "--format", "json"]);
    close(&dashboard["totals"]["cost_usd"], "dashboard");
    let listing = env
        .run(&["list", "--color", "never"])
        .success()
        .stdout
        .clone();
    assert!(listing.contains("$9,750,000.00"), "{listing}");
}

#[test]
fn an_event_at_an_unknown_time_stands_where_it_stands_in_the_file() {
    let env = TestEnv::new();
    stamped_at_no_time(&env);
    // replay put the result stamped before 1970 first and the call stamped 1e308 last, where
    // the page drew each by the line before it.
    let replay = env
        .run(&["replay", "stamps", "--color", "never"])
        .success()
        .stdout
        .clone();
    let numbers: Vec<usize> = replay
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2, 3, 4], "{replay}");
    // The page's milliseconds for the event itself saturated at i64::MAX, and the exported
    // trace ended at u64::MAX nanoseconds (the year 2554).
    let page = env
        .run(&["replay", "stamps", "--format", "html"])
        .success()
        .stdout
        .clone();
    assert!(!page.contains(&i64::MAX.to_string()), "the page");
    for format in ["otlp", "otlp-genai"] {
        let trace = env
            .run(&["export", "stamps", "--format", format])
            .success()
            .stdout
            .clone();
        assert!(!trace.contains(&u64::MAX.to_string()), "{format}: {trace}");
    }
}

#[test]
fn a_running_session_with_an_event_at_no_time_has_no_duration_it_cannot_have() {
    let env = TestEnv::new();
    SessionBuilder::new("runaway")
        .prompt("look")
        .at(1.0)
        .tool_call("Bash", json!({"command": "ls"}))
        .at(2.0)
        .tool_call("Bash", json!({"command": "pwd"}))
        .write(&env);
    let path = env.store().join("runaway").join("events.ndjson");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let mut event: serde_json::Value = serde_json::from_str(line).unwrap();
            if event["event_id"] == "e02" {
                event["timestamp"] = json!(1e308);
            }
            event.to_string()
        })
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    // The dashboard gave it a duration of 1e308 s, believed.
    let dashboard = env
        .run(&["dashboard", "--since", "2020-01-01", "--format", "json"])
        .success()
        .json();
    let recent = &dashboard["recent"][0];
    assert_eq!(recent["session_id"], "runaway", "{dashboard}");
    assert!(recent["duration_s"].is_null(), "{dashboard}");
}

#[test]
fn sql_gives_a_duration_no_call_can_take_as_null() {
    let env = TestEnv::new();
    SessionBuilder::new("durations")
        .tool_call("Bash", json!({"command": "ls"}))
        .at(1.0)
        .result(json!("a"))
        .duration_ms(1e308)
        .at(2.0)
        .tool_call("Bash", json!({"command": "ls"}))
        .at(3.0)
        .result(json!("b"))
        .duration_ms(-5000.0)
        .at(4.0)
        .tool_call("Bash", json!({"command": "ls"}))
        .at(5.0)
        .result(json!("c"))
        .duration_ms(1000.0)
        .write(&env);
    // They were given as written, 1e308 and -5000, where stats leaves them out.
    for query in [
        "SELECT duration_ms FROM tool_calls ORDER BY seq",
        "SELECT duration_ms FROM events WHERE type = 'tool_result' ORDER BY seq",
    ] {
        let rows = env
            .run(&["sql", query, "--format", "json"])
            .success()
            .json();
        assert_eq!(
            rows,
            json!([{"duration_ms": null}, {"duration_ms": null}, {"duration_ms": 1000.0}]),
            "{query}"
        );
    }
}

/// The index is a cache anyone who can write the store can write: three of its session rows
/// forged to say `i64::MAX` responses of unknown usage each (the most SQLite holds) summed past
/// `u64::MAX` in `list`'s note and panicked a debug build. The sum stops at the largest count.
#[test]
fn list_saturates_the_sum_of_forged_index_rows() {
    let env = TestEnv::new();
    for id in ["forged-1", "forged-2", "forged-3"] {
        costed(id, None).write(&env);
    }
    // Settled sessions are read from the index as it stands, not folded again.
    env.settle_sessions();
    env.run(&["list"]).success();
    let conn = rusqlite::Connection::open(env.store().join(".index.sqlite")).unwrap();
    let forged = conn
        .execute(
            "UPDATE idx_sessions SET unbelieved_usage = 9223372036854775807",
            [],
        )
        .unwrap();
    assert_eq!(forged, 3);
    let listed = env.run(&["list"]);
    assert_eq!(listed.code, 0, "{listed:?}");
    assert!(
        listed
            .stdout
            .contains("18,446,744,073,709,551,615 LLM responses of unknown usage"),
        "{}",
        listed.stdout
    );
}

/// A session whose meta.json names itself as its parent (written by hand, by the Python tool,
/// or by a collector before it refused one) is counted once: its own cost and tokens once, its
/// subagent's once, in `list`, `replay --tree`, `stats --include-subagents` and `cost`, and
/// none of them walks round it for ever.
#[test]
fn a_session_that_is_its_own_parent_counts_once() {
    let env = TestEnv::new();
    costed("selfish", Some("selfish")).write(&env);
    costed("kid", Some("selfish")).write(&env);
    let one = 0.0045;
    let listed = env
        .run(&["list", "--all", "--format", "json"])
        .success()
        .json();
    let rows: Vec<&serde_json::Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["session_id"] == "selfish")
        .collect();
    assert_eq!(rows.len(), 1, "{listed}");
    let listed_cost = rows[0]["cost_usd"].as_f64().unwrap();
    assert!((listed_cost - 2.0 * one).abs() < 1e-9, "{listed}");
    let cost = env
        .run(&["cost", "selfish", "--format", "json"])
        .success()
        .json();
    assert!(
        (cost["cost_usd"].as_f64().unwrap() - 2.0 * one).abs() < 1e-9,
        "{cost}"
    );
    let tree = env.run(&["replay", "selfish", "--tree", "--color", "never"]);
    tree.success();
    assert_eq!(tree.stdout.matches("selfish").count(), 1, "{}", tree.stdout);
    assert_eq!(tree.stdout.matches("kid").count(), 1, "{}", tree.stdout);
    let tokens = |args: &[&str]| env.run(args).success().json()["tokens"].as_u64().unwrap();
    let own = tokens(&["stats", "selfish", "--format", "json"]);
    let kid = tokens(&["stats", "kid", "--format", "json"]);
    let all = tokens(&[
        "stats",
        "selfish",
        "--include-subagents",
        "--format",
        "json",
    ]);
    assert_eq!(all, own + kid);
}

/// A line nested as deep as the store reads (2,000 levels, twice what the Python tool writes)
/// is read by every command without overflowing its stack; one nested a million levels deep is
/// refused before it is parsed, fast, and named as a line skipped.
#[test]
fn lines_nested_to_the_cap_are_read_and_past_it_refused_quickly() {
    let env = TestEnv::new();
    let id = SessionBuilder::new("deep0000")
        .tool_call("Bash", json!({"command": "ls"}))
        .write(&env);
    let line = |levels: usize, command: &str| {
        format!(
            r#"{{"event_type":"tool_call","timestamp":1765000000.5,"event_id":"{:012x}","session_id":"{id}","data":{{"tool_name":"Bash","arguments":{{"command":"{command}","x":{}{}}}}}}}"#,
            levels,
            "[".repeat(levels),
            "]".repeat(levels),
        )
    };
    // The event's own object and data, its arguments and x's arrays: 2,000 levels in all.
    let lines = [
        line(1_997, "cat ~/.ssh/id_rsa"),
        line(1_000_000, "rm -rf /"),
    ];
    let events = env.store().join(&id).join("events.ndjson");
    let mut text = std::fs::read_to_string(&events).unwrap();
    text.push_str(&lines.join("\n"));
    text.push('\n');
    std::fs::write(&events, text).unwrap();
    let started = std::time::Instant::now();
    let stats = env.run(&["stats", &id, "--format", "json"]);
    stats.success();
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(stats.json()["tool_calls"], 2, "{}", stats.stdout);
    assert!(
        stats
            .stderr
            .contains("events.ndjson:3: skipped a malformed line (nested deeper than 2000 levels)"),
        "{}",
        stats.stderr
    );
    let audit = env.run(&["--color", "never", "audit", &id]);
    assert!(
        audit.stdout.contains("cat ~/.ssh/id_rsa"),
        "{}",
        audit.stdout
    );
    for args in [
        &["replay", id.as_str()][..],
        &["inspect", &id],
        &["list"],
        &["explain", &id],
        &["export", &id],
        &["sql", "select tool_calls from sessions"],
    ] {
        let run = env.run(args);
        assert!(
            matches!(run.code, 0 | 1),
            "{args:?} ended with {}: {}",
            run.code,
            run.stderr
        );
    }
}
