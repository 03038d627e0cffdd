//! Sessions that cannot be read (a FIFO, a link or a folder where a file should be, a
//! `meta.json` that cannot be used), in the commands that pick or read across sessions: each
//! is said once, and the latest pick passes over one it cannot read, saying so.

use serde_json::json;

use crate::common::session::T0;
use crate::common::{SessionBuilder, TestEnv};

/// A session started `offset` seconds after [`T0`] whose one response cost $0.0045 (1,000
/// input and 100 output tokens of claude-sonnet-4-5), under `parent` when given.
fn costed(env: &TestEnv, id: &str, offset: f64, parent: Option<&str>) {
    SessionBuilder::new(id)
        .started(T0 + offset)
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
        .write(env);
}

/// Puts a FIFO in place of the file `name` of session `id`.
fn fifo(env: &TestEnv, id: &str, name: &str) -> String {
    let path = env.store().join(id).join(name);
    std::fs::remove_file(&path).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
    path.display().to_string()
}

/// How many lines of `stderr` name `path`.
fn lines_naming(stderr: &str, path: &str) -> usize {
    stderr.lines().filter(|l| l.contains(path)).count()
}

/// `budget-report` warned twice of a session whose `meta.json` cannot be used (the listing,
/// then costing it), and `export --metrics` three times (the listing, the listing again for
/// the eval scores, the scoring); a session whose events cannot be read was said twice by
/// `export --metrics`. Each command that reads across sessions says each once.
#[test]
fn each_command_across_sessions_says_once_that_a_session_cannot_be_read() {
    for file in ["meta.json", "events.ndjson"] {
        let env = TestEnv::new();
        costed(&env, "good", 0.0, None);
        costed(&env, "bad", 100.0, None);
        let path = fifo(&env, "bad", file);
        for args in [
            // First: a cost not yet in the index's cache was computed, and warned again.
            &["budget-report", "--since", "2020-01-01", "--format", "json"][..],
            &["budget-report", "--since", "2020-01-01", "--format", "json"],
            &["list"],
            &["dashboard", "--since", "2020-01-01", "--format", "json"],
            &["export", "--metrics", "--since", "2020-01-01"],
        ] {
            let run = env.run(args);
            assert_eq!(run.code, 0, "{file} {args:?}: {}", run.stderr);
            assert_eq!(
                lines_naming(&run.stderr, &path),
                1,
                "{file} {args:?}: {}",
                run.stderr
            );
        }
    }
}

/// Commands given no session picked the latest by its `meta.json` alone: one whose events
/// cannot be read was picked, and `replay`, `cost`, `stats`, `explain` failed on it. They take
/// the newest one that can be read and say once which newer one they passed over, and why.
#[test]
fn the_latest_pick_passes_over_a_session_it_cannot_read_and_says_so() {
    let env = TestEnv::new();
    costed(&env, "older", 0.0, None);
    costed(&env, "newer", 100.0, None);
    let path = fifo(&env, "newer", "events.ndjson");
    for args in [
        &["replay", "--color", "never"][..],
        &["cost", "--format", "json"],
        &["stats", "--format", "json"],
        &["explain", "--format", "json"],
        &["show", "--format", "json"],
        &["cost", "--all-projects", "--format", "json"],
    ] {
        let run = env.run(args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(run.stdout.contains("older"), "{args:?}: {}", run.stdout);
        assert_eq!(
            run.stderr.matches("passed over session newer").count(),
            1,
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(
            lines_naming(&run.stderr, &path),
            1,
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("is a FIFO"), "{args:?}: {}", run.stderr);
    }
    // Named, it is refused as before; with none that can be read, the newest one's error.
    env.run(&["replay", "newer"])
        .fails_with(3, "is a FIFO where the store keeps a plain file");
    fifo(&env, "older", "events.ndjson");
    let run = env.run(&["replay"]);
    run.fails_with(3, &path);
    assert!(!run.stderr.contains("passed over"), "{}", run.stderr);
}

/// A session whose `meta.json` cannot be used is read as its events tell it, and `list` shows
/// it first when they say it is the newest: the latest pick took an older one without a word.
/// It takes the one `list` shows first.
#[test]
fn the_latest_pick_is_the_session_list_shows_first_when_its_meta_cannot_be_used() {
    let env = TestEnv::new();
    costed(&env, "older", 0.0, None);
    costed(&env, "newer", 100.0, None);
    let meta = fifo(&env, "newer", "meta.json");
    let listed = env.run(&["list", "--format", "json"]);
    assert_eq!(listed.session_ids()[0], "newer", "{}", listed.stdout);
    let stats = env.run(&["stats", "--format", "json"]);
    assert_eq!(stats.code, 0, "{}", stats.stderr);
    assert_eq!(
        stats.json()["sessions"],
        json!(["newer"]),
        "{}",
        stats.stdout
    );
    assert_eq!(lines_naming(&stats.stderr, &meta), 1, "{}", stats.stderr);
}
