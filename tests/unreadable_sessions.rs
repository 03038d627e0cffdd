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

/// Puts `kind` (a FIFO, a folder, or a link to a file) at `path`, where nothing is.
fn plant(path: &std::path::Path, kind: &str) {
    match kind {
        "fifo" => {
            let made = std::process::Command::new("mkfifo")
                .arg(path)
                .status()
                .unwrap();
            assert!(made.success(), "mkfifo {}", path.display());
        }
        "folder" => std::fs::create_dir(path).unwrap(),
        "link" => {
            let target = path.with_extension("target");
            std::fs::write(&target, "{}").unwrap();
            std::os::unix::fs::symlink(&target, path).unwrap();
        }
        _ => unreachable!("{kind}"),
    }
}

/// A `.counters` (the session's counters cache) that is a FIFO, a folder or a link in the
/// newest session made every command given no session (`replay`, `cost`, `stats`, `explain`,
/// `show`) and `lint --all` fail with exit 3, and `budget-report` and `export --metrics` skip
/// the session: a cache never fails a read, the counters are folded from the events again.
#[test]
fn a_counters_cache_that_cannot_be_read_is_folded_again_from_the_events() {
    for kind in ["fifo", "folder", "link"] {
        let env = TestEnv::new();
        costed(&env, "older", 0.0, None);
        // Its meta.json says 7 calls, where its one event says 1: ours, it is counted from the
        // events.
        SessionBuilder::new("newer")
            .started(T0 + 100.0)
            .meta(|m| m.tool_calls = 7)
            .prompt("work of newer")
            .at(1.0)
            .tool_call("Bash", json!({"command": "ls"}))
            .ended(3.0)
            .write(&env);
        plant(&env.store().join("newer").join(".counters"), kind);
        for args in [
            &["replay", "--color", "never"][..],
            &["cost", "--format", "json"],
            &["explain", "--format", "json"],
            &["show", "--format", "json"],
            &["lint", "--all", "--format", "json"],
            &["budget-report", "--since", "2020-01-01", "--format", "json"],
            &["export", "--metrics", "--since", "2020-01-01"],
        ] {
            let run = env.run(args);
            assert_eq!(run.code, 0, "{kind} {args:?}: {}", run.stderr);
            assert!(
                !run.stderr.contains(".counters"),
                "{kind} {args:?}: {}",
                run.stderr
            );
        }
        let stats = env.run(&["stats", "--format", "json"]);
        assert_eq!(stats.code, 0, "{kind}: {}", stats.stderr);
        assert_eq!(stats.json()["sessions"], json!(["newer"]), "{kind}");
        let replay = env.run(&["replay", "--color", "never"]);
        assert!(
            replay.stdout.contains("Tool calls: 1\n"),
            "{kind}: {}",
            replay.stdout
        );
        let report = env
            .run(&["budget-report", "--since", "2020-01-01", "--format", "json"])
            .json();
        assert_eq!(report["sessions"], 2, "{kind}: {report}");
        // Left as it was found.
        let kept = std::fs::symlink_metadata(env.store().join("newer").join(".counters"));
        assert!(!kept.unwrap().is_file(), "{kind}");
    }
}

/// A `.counters` this user may not read (another user's store) failed `replay`, `stats` and
/// `show` of the session with "Permission denied": it is folded again from the events too.
#[test]
fn a_counters_cache_this_user_may_not_read_is_folded_again_from_the_events() {
    use std::os::unix::fs::PermissionsExt;
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: needs root to read the store as another user");
        return;
    }
    let env = TestEnv::new();
    costed(&env, "older", 0.0, None);
    costed(&env, "newer", 100.0, None);
    let cache = env.store().join("newer").join(".counters");
    std::fs::write(&cache, "{}").unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o000)).unwrap();
    for path in [env.path(), &env.store(), env.home()] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    for args in [
        &["replay", "--color", "never"][..],
        &["stats", "--format", "json"],
        &["show", "--format", "json"],
    ] {
        let run = crate::common::as_nobody(&env, args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(run.stdout.contains("newer"), "{args:?}: {}", run.stdout);
        assert!(
            !run.stderr.contains(".counters"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

/// A session of which neither `meta.json` nor the events can be read cannot be dated: the
/// latest pick left it out without a word, though it may be the newest. One whose folder
/// changed after the pick started is said to be passed over, once; one whose folder has not
/// changed since before then started before it, and is not named. With no other session, the
/// command fails on it (it said the store holds no sessions).
#[test]
fn the_latest_pick_says_it_passed_over_a_session_it_cannot_date() {
    let env = TestEnv::new();
    costed(&env, "older", 0.0, None);
    costed(&env, "undated", 100.0, None);
    let meta = fifo(&env, "undated", "meta.json");
    let events = fifo(&env, "undated", "events.ndjson");
    for args in [
        &["replay", "--color", "never"][..],
        &["stats", "--format", "json"],
        &["cost", "--format", "json"],
    ] {
        let run = env.run(args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(run.stdout.contains("older"), "{args:?}: {}", run.stdout);
        assert_eq!(
            run.stderr
                .matches("passed over session undated, which cannot be dated")
                .count(),
            1,
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(lines_naming(&run.stderr, &events), 1, "{}", run.stderr);
        assert_eq!(lines_naming(&run.stderr, &meta), 0, "{}", run.stderr);
    }
    // Its folder last changed before the pick started: it started before it too.
    let folder = env.store().join("undated");
    let before = format!("@{}", T0 as i64 - 1_000);
    let touched = std::process::Command::new("touch")
        .args(["-m", "-d", &before])
        .arg(&folder)
        .status()
        .unwrap();
    assert!(touched.success());
    let run = env.run(&["replay", "--color", "never"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{}", run.stderr);
    // Alone, it is what the command fails on.
    std::fs::remove_dir_all(env.store().join("older")).unwrap();
    env.run(&["replay"]).fails_with(3, &events);
}

/// A subagent whose `meta.json` cannot be used was shown by `list` and `replay --tree` as a
/// session of its own, and taken for the latest, when its events name no parent: a Task call's
/// subagent (when the agent sends no subagent hooks) and an imported one name theirs only in
/// their ids (`task-<call>-<parent>`, `agent-<agent>-<parent>`). Their parent is read from the
/// id; one whose parent nothing names is still shown on its own, and the warning says why.
#[test]
fn a_subagent_whose_meta_cannot_be_used_stays_under_the_parent_its_id_names() {
    let env = TestEnv::new();
    costed(&env, "par1", 0.0, None);
    for (id, offset) in [("task-e01-par1", 10.0), ("agent-a1b2-c3-par1", 20.0)] {
        SessionBuilder::new(id)
            .started(T0 + offset)
            .meta(|m| m.parent_session_id = Some("par1".into()))
            .prompt("look around")
            .at(1.0)
            .tool_call("Bash", json!({"command": "ls"}))
            .ended(2.0)
            .write(&env);
    }
    std::fs::write(env.store().join("task-e01-par1/meta.json"), "{").unwrap();
    std::fs::write(env.store().join("agent-a1b2-c3-par1/meta.json"), "").unwrap();
    let listed = env.run(&["list", "--format", "json"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_eq!(listed.session_ids(), ["par1"], "{}", listed.stdout);
    assert_eq!(
        listed
            .stderr
            .matches("shown as its events tell it, as a subagent of par1")
            .count(),
        2,
        "{}",
        listed.stderr
    );
    let tree = env.run(&["replay", "--tree", "--color", "never"]);
    assert_eq!(tree.code, 0, "{}", tree.stderr);
    let lines: Vec<&str> = tree.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", tree.stdout);
    assert!(lines[0].starts_with("▶ par1 "), "{}", tree.stdout);
    assert!(
        lines[1..].iter().all(|l| l.starts_with("  ▶ ")),
        "{}",
        tree.stdout
    );
    // A subagent whose parent is not in the store heads its own tree, saying why.
    SessionBuilder::new("agent-a1b2-gone")
        .started(T0 + 30.0)
        .prompt("orphan")
        .ended(1.0)
        .write(&env);
    std::fs::write(env.store().join("agent-a1b2-gone/meta.json"), "").unwrap();
    let listed = env.run(&["list", "--format", "json"]);
    assert_eq!(listed.session_ids(), ["agent-a1b2-gone", "par1"]);
    assert!(
        listed.stderr.contains(
            "agent-a1b2-gone/meta.json: not valid JSON: EOF while parsing a value at line 1 \
             column 0; the session is shown as its events tell it, as a session of its own: \
             neither its events nor its id name a parent session"
        ),
        "{}",
        listed.stderr
    );
}

/// `lint --all` warned twice of each session whose `meta.json` cannot be used (the listing,
/// then linting it), and `replay --tree` never, showing such a session as its events tell it
/// without a word: each says it once.
#[test]
fn lint_all_and_replay_tree_say_once_that_a_meta_cannot_be_used() {
    let env = TestEnv::new();
    costed(&env, "par1", 0.0, None);
    costed(&env, "agent-a1-par1", 10.0, Some("par1"));
    let metas: Vec<String> = ["par1", "agent-a1-par1"]
        .iter()
        .map(|id| {
            let path = env.store().join(id).join("meta.json");
            std::fs::write(&path, "{").unwrap();
            path.display().to_string()
        })
        .collect();
    for args in [
        &["lint", "--all"][..],
        &["lint", "--all", "--format", "json"],
        &["replay", "--tree", "--color", "never"],
    ] {
        let run = env.run(args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        for meta in &metas {
            assert_eq!(
                lines_naming(&run.stderr, meta),
                1,
                "{args:?}: {}",
                run.stderr
            );
        }
    }
}

/// A session folder its reader may not look inside (mode 000, another user's) looked empty:
/// `list` and the latest pick left it out without a word. It is said to be skipped, and passed
/// over.
#[test]
fn a_session_folder_its_reader_may_not_open_is_said_to_be_skipped() {
    use std::os::unix::fs::PermissionsExt;
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: needs root to read the store as another user");
        return;
    }
    let env = TestEnv::new();
    costed(&env, "older", 0.0, None);
    costed(&env, "newer", 100.0, None);
    let closed = env.store().join("newer");
    for path in [env.path(), &env.store(), env.home()] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o000)).unwrap();
    let named = format!("{}: Permission denied", closed.display());
    // Without an index, then with one its owner keeps (which this reader cannot refresh).
    for owner_indexed in [false, true] {
        if owner_indexed {
            env.run(&["list"]).success();
        }
        let listed = crate::common::as_nobody(&env, &["list", "--format", "json"]);
        assert_eq!(listed.code, 0, "{}", listed.stderr);
        assert_eq!(listed.session_ids(), ["older"]);
        assert_eq!(
            lines_naming(&listed.stderr, &named),
            1,
            "{owner_indexed}: {}",
            listed.stderr
        );
        let replay = crate::common::as_nobody(&env, &["replay", "--color", "never"]);
        assert_eq!(replay.code, 0, "{}", replay.stderr);
        assert!(replay.stdout.contains("older"), "{}", replay.stdout);
        assert_eq!(
            replay
                .stderr
                .matches("passed over session newer, which cannot be dated")
                .count(),
            1,
            "{owner_indexed}: {}",
            replay.stderr
        );
    }
    // Its owner (root here) reads it.
    let listed = env.run(&["list", "--format", "json"]);
    assert_eq!(listed.session_ids(), ["newer", "older"]);
}

/// A session folder whose name is not UTF-8 text (a name no session id can have) was passed
/// over by `list` and every listing without a word, where a name of control characters is said
/// not to be read: it is said so too, once.
#[test]
fn a_session_folder_named_in_no_text_is_said_not_to_be_read() {
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new();
    costed(&env, "good", 0.0, None);
    costed(&env, "bad", 100.0, None);
    let odd = env
        .store()
        .join(std::ffi::OsStr::from_bytes(b"bad\xff\xfe"));
    std::fs::rename(env.store().join("bad"), &odd).unwrap();
    for args in [
        &["list", "--format", "json"][..],
        &["budget-report", "--since", "2020-01-01", "--format", "json"],
    ] {
        let run = env.run(args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_eq!(
            run.stderr
                .matches("is not read as a session: its name is not UTF-8 text")
                .count(),
            1,
            "{args:?}: {}",
            run.stderr
        );
    }
    assert_eq!(
        env.run(&["list", "--format", "json"]).session_ids(),
        ["good"]
    );
}

/// The subagent `task-e01-par1` of a Task call, whose `meta.json` cannot be used, in a store
/// that does not hold its parent yet.
fn orphan_of_par1(env: &TestEnv) {
    SessionBuilder::new("task-e01-par1")
        .started(T0 + 10.0)
        .prompt("look around")
        .ended(1.0)
        .write(env);
    std::fs::write(env.store().join("task-e01-par1/meta.json"), "{").unwrap();
}

/// The index keeps the parent a subagent whose `meta.json` cannot be used was given when it
/// was folded: one folded before its parent came into the store (or by an earlier version)
/// stayed a session of its own until its own files changed. Its id is read again as it is
/// listed.
#[test]
fn a_subagent_whose_meta_cannot_be_used_finds_a_parent_that_came_after_it() {
    let env = TestEnv::new();
    orphan_of_par1(&env);
    let alone = env.run(&["list", "--format", "json"]);
    assert_eq!(alone.session_ids(), ["task-e01-par1"], "{}", alone.stderr);
    costed(&env, "par1", 0.0, None);
    let listed = env.run(&["list", "--format", "json"]);
    assert_eq!(listed.session_ids(), ["par1"], "{}", listed.stderr);
    assert!(
        listed.stderr.contains("as a subagent of par1"),
        "{}",
        listed.stderr
    );
}

/// The same in `sql`, which reads the index's rows as they are: the row of a subagent folded
/// before its parent came named no parent (`parent_session_id` NULL) until its own files
/// changed. A refresh that adds a session gives it to the rows whose ids name it.
#[test]
fn sql_gives_a_subagent_whose_meta_cannot_be_used_the_parent_that_came_after_it() {
    let env = TestEnv::new();
    orphan_of_par1(&env);
    let query = "SELECT ifnull(parent_session_id, '-') || ' ' || ifnull(parent_event_id, '-') \
                 AS parent FROM sessions WHERE session_id = 'task-e01-par1'";
    let parent = |env: &TestEnv| -> String {
        let rows = env
            .run(&["sql", "--format", "json", query])
            .success()
            .json();
        rows[0]["parent"].as_str().unwrap().to_owned()
    };
    assert_eq!(parent(&env), "- -");
    costed(&env, "par1", 0.0, None);
    assert_eq!(parent(&env), "par1 e01");
    // Once given, it holds when the store changes again.
    costed(&env, "other", 30.0, None);
    assert_eq!(parent(&env), "par1 e01");
}
