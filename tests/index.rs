//! The session index (`.agent-traces/.index.sqlite`) through the binary: rebuilt when deleted,
//! refreshed when sessions grow, arrive or go, shared by readers at once, never in the way when
//! it cannot be used; and `sql` over it, read-only, in three formats.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Run, TestEnv, shared, with_a_full_disk_at_32_kib};

/// A session as our hooks keep it: meta without counters, a `.counters` cache, and events.
fn session(env: &TestEnv, id: &str, started: f64, prompt: Option<&str>, calls: usize) {
    let dir = env.store().join(id);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("meta.json"),
        json!({"session_id": id, "started_at": started, "agent_name": "claude-code",
            "command": "claude-code (startup)"})
        .to_string(),
    )
    .unwrap();
    std::fs::write(dir.join(".counters"), b"").unwrap();
    let mut lines = vec![json!({"event_type": "session_start", "timestamp": started,
        "event_id": format!("{id}-s"), "session_id": id, "data": {"source": "startup"}})];
    if let Some(prompt) = prompt {
        lines.push(
            json!({"event_type": "user_prompt", "timestamp": started + 1.0,
            "event_id": format!("{id}-p"), "session_id": id, "data": {"prompt": prompt}}),
        );
    }
    let mut text: String = lines.iter().map(|l| l.to_string() + "\n").collect();
    for i in 0..calls {
        text += &call_lines(id, started + 2.0 + i as f64, i, i % 3 == 2);
    }
    std::fs::write(dir.join("events.ndjson"), text).unwrap();
}

/// A Bash call and its result (or error), as two lines.
fn call_lines(id: &str, at: f64, n: usize, fails: bool) -> String {
    let call = format!("{id}-c{n}");
    let result = if fails {
        json!({"event_type": "error", "timestamp": at + 0.5, "event_id": format!("{call}-r"),
            "session_id": id, "parent_id": call, "duration_ms": 500.0,
            "data": {"tool_name": "Bash", "error": "exit status 1"}})
    } else {
        json!({"event_type": "tool_result", "timestamp": at + 0.5, "event_id": format!("{call}-r"),
            "session_id": id, "parent_id": call, "duration_ms": 500.0,
            "data": {"tool_name": "Bash", "result": "ok"}})
    };
    let call = json!({"event_type": "tool_call", "timestamp": at, "event_id": call,
        "session_id": id, "data": {"tool_name": "Bash", "arguments": {"command": format!("make t{n}")}}});
    format!("{call}\n{result}\n")
}

fn append(env: &TestEnv, id: &str, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(env.store().join(id).join("events.ndjson"))
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

fn index(env: &TestEnv) -> PathBuf {
    env.store().join(".index.sqlite")
}

fn remove_index(env: &TestEnv) {
    for side in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{side}", index(env).display()));
        if path.is_dir() {
            std::fs::remove_dir_all(&path).unwrap();
        } else {
            let _ = std::fs::remove_file(&path);
        }
    }
}

fn list(env: &TestEnv) -> Run {
    let run = env.run(&["list", "--all", "--format", "json"]);
    run.success();
    run
}

/// What `list` says when it reads every session's files: the truth the index must match.
fn scanned(env: &TestEnv) -> Value {
    remove_index(env);
    std::fs::create_dir(index(env)).unwrap();
    let run = list(env);
    assert_eq!(warnings(&run), 1, "{}", run.stderr);
    remove_index(env);
    run.json()
}

fn warnings(run: &Run) -> usize {
    run.stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .count()
}

fn ids(listing: &Value) -> Vec<&str> {
    listing
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect()
}

fn three_sessions(env: &TestEnv) {
    session(env, "aaaa-1", 1_700_000_000.0, Some("first task"), 2);
    session(env, "bbbb-2", 1_700_000_100.0, None, 1);
    session(env, "cccc-3", 1_700_000_200.0, Some("third task"), 4);
}

/// A read closes the index as SQLite expects, so that the last connection to close removes the
/// write-ahead log and its shared memory: nothing of a read stays in the store. (`list` once
/// kept its sessions in memory until the process ended, and the connection with them.)
#[test]
fn a_listing_closes_the_index_and_leaves_no_write_ahead_log() {
    let env = TestEnv::new();
    three_sessions(&env);
    for args in [&["list"][..], &["list", "--all", "--format", "json"]] {
        env.run(args).success();
        for side in ["-wal", "-shm"] {
            let path = PathBuf::from(format!("{}{side}", index(&env).display()));
            assert!(
                !path.exists(),
                "`{}` left {}",
                args.join(" "),
                path.display()
            );
        }
    }
}

#[test]
fn the_index_is_rebuilt_after_it_is_deleted_and_lists_what_the_files_say() {
    let env = TestEnv::new();
    three_sessions(&env);
    let truth = scanned(&env);
    let first = list(&env);
    assert!(first.stderr.is_empty(), "{}", first.stderr);
    assert!(index(&env).is_file(), "list made no index");
    assert_eq!(first.json(), truth);
    assert_eq!(ids(&truth), ["cccc-3", "bbbb-2", "aaaa-1"]);
    assert_eq!(truth[0]["tool_calls"], 4);
    assert_eq!(truth[0]["errors"], 1);
    assert_eq!(truth[0]["first_prompt"], "third task");
    remove_index(&env);
    let again = list(&env);
    assert!(again.stderr.is_empty(), "{}", again.stderr);
    assert!(index(&env).is_file(), "the index was not rebuilt");
    assert_eq!(again.json(), truth);
}

#[test]
fn a_session_that_grows_is_refreshed_from_where_the_index_stopped() {
    let env = TestEnv::new();
    three_sessions(&env);
    list(&env);
    // bbbb-2 gets a prompt and two more calls, the last line not yet finished.
    append(
        &env,
        "bbbb-2",
        &(json!({"event_type": "user_prompt", "timestamp": 1_700_000_150.0, "event_id": "late-p",
            "session_id": "bbbb-2", "data": {"prompt": "a later prompt"}})
        .to_string()
            + "\n"
            + &call_lines("bbbb-2", 1_700_000_151.0, 10, true)
            + &call_lines("bbbb-2", 1_700_000_152.0, 11, false)),
    );
    append(&env, "bbbb-2", "{\"event_type\": \"tool_call\", \"timest");
    let grown = list(&env).json();
    let row = &grown[1];
    assert_eq!(row["session_id"], "bbbb-2");
    assert_eq!(row["tool_calls"], 3);
    assert_eq!(row["errors"], 1);
    assert_eq!(row["first_prompt"], "a later prompt");
    let sql = env.run(&[
        "sql",
        "--format",
        "json",
        "SELECT count(*) AS calls FROM tool_calls WHERE session_id = 'bbbb-2'",
    ]);
    sql.success();
    assert_eq!(sql.json()[0]["calls"], 3);
    // The torn line finished by its writer is folded too.
    append(
        &env,
        "bbbb-2",
        "amp\": 1700000160.0, \"event_id\": \"x\", \"session_id\": \"bbbb-2\", \"data\": {\"tool_name\": \"Read\"}}\n",
    );
    let finished = list(&env).json();
    assert_eq!(finished[1]["tool_calls"], 4);
    assert_eq!(finished, scanned(&env));
}

fn corpus_transcript() -> PathBuf {
    shared()
        .join("corpus")
        .join("claude-code")
        .join("marot__spotter")
        .join("4d5611e5-241a-462a-8d15-5122611a9569.jsonl")
}

const CORPUS_SESSION: &str = "4d5611e5-241a-462a-8d15-5122611a9569";

fn import_corpus(env: &TestEnv) {
    env.run(&["import", corpus_transcript().to_str().unwrap()])
        .success();
}

#[test]
fn an_import_and_a_deleted_folder_show_in_the_next_listing() {
    let env = TestEnv::new();
    three_sessions(&env);
    list(&env);
    import_corpus(&env);
    let after_import = list(&env).json();
    assert!(
        ids(&after_import).contains(&CORPUS_SESSION),
        "{after_import}"
    );
    assert_eq!(after_import, scanned(&env));
    let cost = env.run(&[
        "sql",
        "--format",
        "json",
        &format!("SELECT cost_usd, model FROM sessions WHERE session_id = '{CORPUS_SESSION}'"),
    ]);
    cost.success();
    assert!(cost.json()[0]["cost_usd"].as_f64().unwrap() > 0.0);

    std::fs::remove_dir_all(env.store().join("bbbb-2")).unwrap();
    let after_delete = list(&env).json();
    assert!(!ids(&after_delete).contains(&"bbbb-2"));
    let count = env.run(&[
        "sql",
        "--format",
        "json",
        "SELECT count(*) AS n FROM events WHERE session_id = 'bbbb-2'",
    ]);
    count.success();
    assert_eq!(count.json()[0]["n"], 0);
    assert_eq!(after_delete, scanned(&env));
}

/// Replaces a file the way writers do (a temp file renamed over it), without touching others.
fn replace(path: &Path, text: &str) {
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, text).unwrap();
    std::fs::rename(&temp, path).unwrap();
}

#[test]
fn a_meta_replaced_without_an_append_and_a_folder_without_events_are_followed() {
    let env = TestEnv::new();
    three_sessions(&env);
    // Another tool's session: no .counters, so its meta.json holds its counters and can be
    // replaced without any append.
    std::fs::remove_file(env.store().join("aaaa-1").join(".counters")).unwrap();
    // A session of meta.json alone (its events not written yet), with .counters.
    let lone = env.store().join("dddd-4");
    std::fs::create_dir_all(&lone).unwrap();
    std::fs::write(lone.join(".counters"), b"").unwrap();
    std::fs::write(
        lone.join("meta.json"),
        json!({"session_id": "dddd-4", "started_at": 1_700_000_300.0,
            "agent_name": "claude-code", "command": "claude-code (startup)"})
        .to_string(),
    )
    .unwrap();
    let before = list(&env).json();
    assert_eq!(ids(&before), ["dddd-4", "cccc-3", "bbbb-2", "aaaa-1"]);

    replace(
        &env.store().join("aaaa-1").join("meta.json"),
        &json!({"session_id": "aaaa-1", "started_at": 1_700_000_000.0,
            "ended_at": 1_700_000_042.0, "agent_name": "other-agent", "command": "resumed",
            "tool_calls": 7, "errors": 3})
        .to_string(),
    );
    let after = list(&env).json();
    let row = &after[3];
    assert_eq!(row["session_id"], "aaaa-1");
    assert_eq!(row["agent_name"], "other-agent");
    assert_eq!(row["ended_at"], 1_700_000_042.0);
    assert_eq!(after, scanned(&env));

    // The same meta rewritten in place, same size, only its figures changed.
    let meta = env.store().join("aaaa-1").join("meta.json");
    let text = std::fs::read_to_string(&meta)
        .unwrap()
        .replace("\"tool_calls\":7", "\"tool_calls\":8");
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&meta, text).unwrap();
    let in_place = list(&env).json();
    assert_eq!(in_place[3]["tool_calls"], 8, "{in_place}");

    std::fs::remove_dir_all(&lone).unwrap();
    let after_delete = list(&env).json();
    assert_eq!(ids(&after_delete), ["cccc-3", "bbbb-2", "aaaa-1"]);
    assert_eq!(after_delete, scanned(&env));
}

/// Runs `list` and fails the test if it has not finished within the minute given a hang.
fn list_within_a_minute(env: &TestEnv, command: &mut std::process::Command) -> Run {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > crate::common::wait::HANG {
            let _ = child.kill();
            panic!("list blocked on {}", index(env).display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A store its reader may not write (another user's, a read-only mount). With no index yet, the
/// listing comes from the files, with one warning that names the index once (SQLite's own
/// message ends with the path too); with an index its owner keeps fresh, from the index.
#[test]
fn a_store_its_reader_may_not_write_is_read_through_its_index_while_it_is_fresh() {
    let env = TestEnv::new();
    three_sessions(&env);
    let truth = list(&env).json();
    remove_index(&env);
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: needs root to read the store as another user");
        return;
    }
    for path in [env.path(), &env.store(), env.home()] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let run = crate::common::as_nobody(&env, &["list", "--all", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json(), truth);
    assert_eq!(warnings(&run), 1, "{}", run.stderr);
    let named = index(&env).display().to_string();
    assert_eq!(run.stderr.matches(&named).count(), 1, "{}", run.stderr);

    // Once its owner has brought the index up to date, the reader uses it as it is, without a
    // word (before, SQLite could not open it without writing beside it, and every read
    // scanned every session with a warning), in `list`, `budget-report` and `sql`.
    list(&env).success();
    let before = std::fs::read(index(&env)).unwrap();
    let run = crate::common::as_nobody(&env, &["list", "--all", "--format", "json"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(run.json(), truth);
    let budget = crate::common::as_nobody(&env, &["budget-report", "--format", "json"]);
    assert_eq!((budget.code, budget.stderr.as_str()), (0, ""));
    let sql = crate::common::as_nobody(
        &env,
        &[
            "sql",
            "SELECT count(*) AS n FROM sessions",
            "--format",
            "json",
        ],
    );
    assert_eq!((sql.code, sql.stderr.as_str()), (0, ""));
    assert_eq!(sql.json()[0]["n"], 3);
    assert_eq!(
        std::fs::read(index(&env)).unwrap(),
        before,
        "read, never written"
    );
    // Out of date, it cannot be refreshed: the files are read, with one warning saying so.
    append(
        &env,
        "bbbb-2",
        &call_lines("bbbb-2", 1_700_000_150.0, 7, true),
    );
    let run = crate::common::as_nobody(&env, &["list", "--all", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(warnings(&run), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is out of date, and this user may not write it"),
        "{}",
        run.stderr
    );
    assert_ne!(run.json(), truth, "the new call is counted");
    assert_eq!(run.json(), list(&env).json(), "as its owner lists it");
}

/// The mount that makes the store read-only, in a mount namespace of the command's own (gone
/// with it): `$0` is the store, bound onto itself and remounted read-only.
const READ_ONLY_MOUNT: &str =
    "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\" && exec \"$@\"";

/// `args` run with the store on a read-only mount; `None` where a command cannot be given a
/// mount of its own (no `unshare`, or not root).
fn on_a_read_only_mount(env: &TestEnv, args: &[&str]) -> Option<Run> {
    let mountable = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", READ_ONLY_MOUNT])
        .arg(env.store())
        .arg("true")
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !mountable {
        return None;
    }
    let command = env.command(args);
    let mut wrapped = std::process::Command::new("unshare");
    wrapped
        .args(["-m", "sh", "-c", READ_ONLY_MOUNT])
        .arg(env.store())
        .arg(command.get_program())
        .args(command.get_args())
        .current_dir(env.path())
        .stdin(Stdio::null());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => wrapped.env(name, value),
            None => wrapped.env_remove(name),
        };
    }
    Some(Run::of(wrapped.output().unwrap()))
}

/// A store on a read-only mount is read through its index, opened read-only, while nothing in
/// it is stale, without a word, as another user's store is: every read there warned that the
/// index could not be used ("unable to open database file", SQLite refusing to open it to be
/// written before it was tried read-only) and scanned every session, and `sql` built an index
/// in memory. Stale, or with no index at all, the files are read, with one warning.
#[test]
fn a_store_on_a_read_only_mount_is_read_through_its_index_while_it_is_fresh() {
    let env = TestEnv::new();
    three_sessions(&env);
    let truth = list(&env).json();
    let before = std::fs::read(index(&env)).unwrap();
    let Some(run) = on_a_read_only_mount(&env, &["list", "--all", "--format", "json"]) else {
        eprintln!("skipped: needs root and unshare to mount the store read-only");
        return;
    };
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(run.json(), truth);
    let sql = on_a_read_only_mount(
        &env,
        &[
            "sql",
            "SELECT count(*) AS n FROM sessions",
            "--format",
            "json",
        ],
    )
    .unwrap();
    assert_eq!((sql.code, sql.stderr.as_str()), (0, ""));
    assert_eq!(sql.json()[0]["n"], 3);
    assert_eq!(std::fs::read(index(&env)).unwrap(), before);

    // Out of date, it cannot be refreshed: the files are read, with one warning saying so.
    append(
        &env,
        "bbbb-2",
        &call_lines("bbbb-2", 1_700_000_150.0, 7, true),
    );
    let run = on_a_read_only_mount(&env, &["list", "--all", "--format", "json"]).unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(warnings(&run), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is out of date, and this user may not write it"),
        "{}",
        run.stderr
    );
    assert_ne!(run.json(), truth, "the new call is counted");
    let stale = run.json();

    // With no index, the files are read, with one warning.
    remove_index(&env);
    let run = on_a_read_only_mount(&env, &["list", "--all", "--format", "json"]).unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(warnings(&run), 1, "{}", run.stderr);
    assert_eq!(run.json(), stale);
    assert_eq!(run.json(), list(&env).json(), "as a writer lists it");
}

/// Puts something that is not a usable index where the index goes.
type Make<'a> = dyn Fn(&Path) + 'a;

#[test]
fn an_index_that_cannot_be_used_falls_back_to_the_files_with_one_warning() {
    let env = TestEnv::new();
    three_sessions(&env);
    let truth = list(&env).json();
    let outside = env.path().join("outside.txt");
    std::fs::write(&outside, b"not ours").unwrap();
    // A corrupt file is built again instead (see below).
    let cases: [(&str, &Make<'_>); 3] = [
        ("a symlink", &|p| {
            std::os::unix::fs::symlink(&outside, p).unwrap();
        }),
        ("a FIFO", &|p| {
            let status = std::process::Command::new("mkfifo")
                .arg(p)
                .status()
                .unwrap();
            assert!(status.success());
        }),
        ("a directory", &|p| {
            std::fs::create_dir(p).unwrap();
        }),
    ];
    for (what, make) in cases {
        remove_index(&env);
        make(&index(&env));
        let run = list_within_a_minute(
            &env,
            &mut env.command(&["list", "--all", "--format", "json"]),
        );
        assert_eq!(run.code, 0, "{what}: {}", run.stderr);
        assert_eq!(warnings(&run), 1, "{what}: {}", run.stderr);
        assert_eq!(run.json(), truth, "{what}");
        let budget = env.run(&["budget-report", "--format", "json"]);
        assert_eq!(budget.code, 0, "{what}: {}", budget.stderr);
        assert_eq!(warnings(&budget), 1, "{what}: {}", budget.stderr);
    }
    assert_eq!(std::fs::read(&outside).unwrap(), b"not ours");
    // A full disk: the index cannot be written at all.
    remove_index(&env);
    let run = list_within_a_minute(
        &env,
        &mut with_a_full_disk_at_32_kib(&env.command(&["list", "--all", "--format", "json"])),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(warnings(&run), 1, "{}", run.stderr);
    assert_eq!(run.json(), truth);
    // And once the disk has room again, the index comes back.
    remove_index(&env);
    let healthy = list(&env);
    assert!(healthy.stderr.is_empty(), "{}", healthy.stderr);
    assert_eq!(healthy.json(), truth);
}

#[test]
fn many_readers_at_once_on_a_fresh_store_neither_fail_nor_corrupt_the_index() {
    let env = TestEnv::new();
    for i in 0..200 {
        session(
            &env,
            &format!("s{i:04}"),
            1_700_000_000.0 + f64::from(i),
            Some("task"),
            3,
        );
    }
    let children: Vec<_> = (0..8)
        .map(|_| {
            env.command(&["list", "--all", "--format", "json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, outputs[0].stdout);
    }
    let listed: Value = serde_json::from_slice(&outputs[0].stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 200);
    let check = env.run(&["sql", "--format", "json", "PRAGMA integrity_check"]);
    check.success();
    assert_eq!(check.json()[0]["integrity_check"], "ok");
    let calls = env.run(&[
        "sql",
        "--format",
        "json",
        "SELECT count(*) AS n FROM tool_calls",
    ]);
    assert_eq!(calls.json()[0]["n"], 600);
}

#[test]
fn sql_refuses_statements_that_write() {
    let env = TestEnv::new();
    three_sessions(&env);
    let before = list(&env).json();
    for statement in [
        "DELETE FROM idx_sessions",
        "INSERT INTO idx_files VALUES (1, 'x', 1, 1)",
        "UPDATE idx_sessions SET first_prompt = 'x'",
        "DROP VIEW sessions",
        "CREATE TABLE mine (x)",
        "PRAGMA user_version = 7",
        "ATTACH DATABASE 'elsewhere.db' AS other",
        "SELECT 1; DELETE FROM idx_sessions",
    ] {
        let run = env.run(&["sql", statement]);
        assert_eq!(run.code, 2, "{statement}: {run:?}");
        assert!(run.stdout.is_empty(), "{statement}: {}", run.stdout);
        assert_eq!(run.stderr.lines().count(), 1, "{statement}: {}", run.stderr);
    }
    let refused = env.run(&["sql", "DELETE FROM idx_sessions"]);
    assert!(refused.stderr.contains("only read"), "{}", refused.stderr);
    // A write after a first statement is refused as more than one statement, in those words
    // (it once said only "the query failed: Multiple statements provided").
    for many in [false, true] {
        let mut args = vec!["sql", "SELECT 1; DELETE FROM idx_sessions"];
        if many {
            args.insert(1, "--all-projects");
        }
        let refused = env.run(&args);
        assert_eq!(
            (refused.code, refused.stderr.as_str()),
            (
                2,
                "error: more than one statement is refused: `sql` runs one, and nothing may \
                 follow its `;`\n"
            )
        );
    }
    assert!(!env.path().join("elsewhere.db").exists());
    assert_eq!(list(&env).json(), before);
}

/// Fields of one CSV line (RFC 4180 quoting).
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (_, c) => field.push(c),
        }
    }
    records
}

#[test]
fn sql_prints_tables_json_and_csv_that_agree() {
    let env = TestEnv::new();
    import_corpus(&env);
    let query = "SELECT tool, count(*) AS calls, sum(failed) AS failed, \
                 min(json_extract(arguments, '$.command')) AS a_command \
                 FROM tool_calls GROUP BY tool ORDER BY calls DESC, tool";
    let json = env.run(&["sql", "--format", "json", query]);
    json.success();
    let rows = json.json();
    let rows = rows.as_array().unwrap();
    let total: i64 = rows.iter().map(|r| r["calls"].as_i64().unwrap()).sum();
    let listed = list(&env).json();
    let session = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == CORPUS_SESSION)
        .unwrap();
    let all_calls: i64 = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["tool_calls"].as_i64().unwrap())
        .sum();
    assert_eq!(total, all_calls);
    assert!(session["tool_calls"].as_i64().unwrap() > 0);
    let bash = rows.iter().find(|r| r["tool"] == "Bash").unwrap();
    assert!(bash["failed"].as_i64().unwrap() > 0, "{bash}");
    assert!(bash["a_command"].is_string(), "{bash}");

    let csv = env.run(&["sql", "--format", "csv", query]);
    csv.success();
    let records = csv_records(&csv.stdout);
    assert_eq!(records[0], ["tool", "calls", "failed", "a_command"]);
    assert_eq!(records.len(), rows.len() + 1);
    for (record, row) in records[1..].iter().zip(rows) {
        assert_eq!(record[0], row["tool"].as_str().unwrap());
        assert_eq!(record[1], row["calls"].to_string());
        assert_eq!(record[3], row["a_command"].as_str().unwrap_or(""));
    }

    let table = env.run(&["sql", query]);
    table.success();
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert!(lines[0].starts_with("tool"), "{}", table.stdout);
    assert_eq!(lines.len(), rows.len() + 2);
    assert_eq!(lines.last().unwrap(), &format!("({} rows)", rows.len()));

    let bad = env.run(&["sql", "SELECT nope FROM nowhere"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("no such table"), "{}", bad.stderr);
}

/// The SQL blocks of docs/sql.md.
fn documented_queries() -> Vec<String> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/sql.md")).unwrap();
    let mut queries = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sql") => current = Some(String::new()),
            (Some(q), "```") => {
                queries.push(q.trim().to_owned());
                current = None;
            }
            (Some(q), text) => {
                q.push_str(text);
                q.push('\n');
            }
            (None, _) => {}
        }
    }
    queries
}

#[test]
fn every_query_in_docs_sql_md_runs_on_an_imported_session() {
    let env = TestEnv::new();
    import_corpus(&env);
    let queries = documented_queries();
    assert!(
        queries.len() >= 10,
        "docs/sql.md has {} queries",
        queries.len()
    );
    let mut with_rows = 0;
    for query in &queries {
        let run = env.run(&["sql", "--format", "json", query]);
        assert_eq!(run.code, 0, "{query}\n{}", run.stderr);
        if !run.json().as_array().unwrap().is_empty() {
            with_rows += 1;
        }
    }
    // Queries about "this week" may find nothing in an old session; the rest find something.
    assert!(
        with_rows >= queries.len() - 2,
        "{with_rows} of {} found rows",
        queries.len()
    );
}

/// A session whose counts go beyond SQLite's integers (2⁶³ and more: a `meta.json` or a
/// transcript may say anything) is indexed with them at `i64::MAX`. Binding them once failed
/// the whole refresh, so that `sql` failed and `list` warned on every run, for the whole store;
/// now `list` warns only of that session, whose counts no session can have.
#[test]
fn counts_beyond_sqlites_integers_are_stored_saturated_and_break_nothing() {
    let env = TestEnv::new();
    three_sessions(&env);
    let dir = env.store().join("huge");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("meta.json"),
        json!({"session_id": "huge", "started_at": 1_769_009_416.0,
            "total_tokens": 9_223_372_036_854_775_808_u64, "tool_calls": u64::MAX,
            "llm_requests": 1_u64 << 63, "depth": 1_u64 << 63})
        .to_string(),
    )
    .unwrap();
    let mut events = json!({"event_type": "session_start", "timestamp": 1_769_009_416.0,
        "event_id": "a", "session_id": "huge", "data": {}})
    .to_string()
        + "\n";
    for n in 0..2 {
        events += &json!({"event_type": "llm_response", "timestamp": 1_769_009_417.0,
            "event_id": format!("r{n}"), "session_id": "huge",
            "data": {"model": "claude-sonnet-4-5",
                "usage": {"input_tokens": 1, "output_tokens": i64::MAX}}})
        .to_string();
        events += "\n";
    }
    std::fs::write(dir.join("events.ndjson"), events).unwrap();

    let run = env.run(&[
        "sql",
        "--format",
        "json",
        "SELECT session_id, total_tokens, tool_calls, depth, output_tokens FROM sessions \
         ORDER BY session_id",
    ]);
    run.success();
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let rows = run.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 4, "{rows:?}");
    let huge = &rows[3];
    assert_eq!(huge["session_id"], "huge");
    for column in ["total_tokens", "tool_calls", "depth"] {
        assert_eq!(huge[column], i64::MAX, "{column}");
    }
    // A response's count of 2^63 - 1 is no count a response can have: its usage is unknown,
    // none, and the session recorded no usage (it was stored as i64::MAX, and priced).
    assert_eq!(huge["output_tokens"], 0);
    let responses = env.run(&[
        "sql",
        "--format",
        "json",
        "SELECT output_tokens FROM llm_responses",
    ]);
    assert_eq!(responses.json(), json!([]));
    // `list` names the one session with counts no session can have, once, and lists them all.
    let listed = list(&env);
    let warnings: Vec<&str> = listed.stderr.lines().collect();
    assert_eq!(warnings.len(), 1, "{}", listed.stderr);
    assert!(
        warnings[0].contains("session huge holds what no session can"),
        "{}",
        listed.stderr
    );
    assert_eq!(ids(&listed.json()).len(), 4);
}

/// What can be done to an index file from outside, each leaving something that is not a
/// usable index of ours.
fn damage(index: &Path, how: &str) {
    let sql = |batch: &str| {
        rusqlite::Connection::open(index)
            .unwrap()
            .execute_batch(batch)
            .unwrap();
    };
    match how {
        "truncated" => std::fs::OpenOptions::new()
            .write(true)
            .open(index)
            .unwrap()
            .set_len(4096)
            .unwrap(),
        "random bytes" => std::fs::write(index, vec![0x5a; 8192]).unwrap(),
        "a table dropped" => sql("DROP TABLE idx_files"),
        "a view replaced" => {
            sql("DROP VIEW sessions; CREATE VIEW sessions AS SELECT 'planted' AS session_id");
        }
        "a trigger planted" => sql("CREATE TRIGGER planted AFTER INSERT ON idx_events BEGIN \
             UPDATE idx_sessions SET first_prompt = 'planted'; END"),
        _ => unreachable!(),
    }
}

/// The index is only a cache: a file that is not a usable database of our schema (damaged,
/// a table missing, a view or trigger someone planted under the right version) is deleted
/// and built again by the next read, which says nothing of it. `sql` once failed on each of
/// these with exit 4 forever, and a planted view or trigger ran.
#[test]
fn an_index_that_is_damaged_or_not_ours_is_built_again() {
    let env = TestEnv::new();
    three_sessions(&env);
    let truth = list(&env).json();
    let query = "SELECT session_id, first_prompt FROM sessions ORDER BY session_id";
    let expected = env.run(&["sql", "--format", "json", query]).json();
    assert_eq!(expected.as_array().unwrap().len(), 3);
    for how in [
        "truncated",
        "random bytes",
        "a table dropped",
        "a view replaced",
        "a trigger planted",
    ] {
        list(&env);
        damage(&index(&env), how);
        // A new session, so that the refresh writes (and a planted trigger would fire).
        session(&env, "dddd-4", 1_700_000_300.0, Some("fourth"), 1);
        let run = env.run(&["sql", "--format", "json", query]);
        assert_eq!(run.code, 0, "{how}: {}", run.stderr);
        assert!(run.stderr.is_empty(), "{how}: {}", run.stderr);
        let rows = run.json();
        assert_eq!(rows.as_array().unwrap().len(), 4, "{how}: {rows}");
        assert!(!rows.to_string().contains("planted"), "{how}: {rows}");
        std::fs::remove_dir_all(env.store().join("dddd-4")).unwrap();
        let listed = list(&env);
        assert!(listed.stderr.is_empty(), "{how}: {}", listed.stderr);
        assert_eq!(listed.json(), truth, "{how}");
    }
}

/// An index written by the previous version (format 9: a `sessions` view without
/// `transcript_path`) is rebuilt at this version by the next read, not kept and not refused.
#[test]
fn an_index_of_the_previous_format_is_rebuilt_with_this_formats_views() {
    let env = TestEnv::new();
    three_sessions(&env);
    env.run(&["sql", "SELECT count(*) FROM sessions"]).success();
    let version = |conn: &rusqlite::Connection| -> i64 {
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    {
        let conn = rusqlite::Connection::open(index(&env)).unwrap();
        let ours = version(&conn);
        let view: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'sessions'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let old = view.replace(", transcript_path", "");
        assert_ne!(old, view);
        conn.execute_batch(&format!(
            "DROP VIEW sessions; {old}; PRAGMA user_version = {}",
            (9 << 16) | (ours & 0xffff)
        ))
        .unwrap();
    }
    let rows = env
        .run(&[
            "sql",
            "--format",
            "json",
            "SELECT count(*) AS n, count(transcript_path) AS t FROM sessions",
        ])
        .success()
        .json();
    assert_eq!(rows, json!([{"n": 3, "t": 0}]));
    let conn = rusqlite::Connection::open(index(&env)).unwrap();
    assert_eq!(
        version(&conn) >> 16,
        i64::from(agent_strace::store::index::INDEX_FORMAT)
    );
}

/// A session the test builder wrote with one Bash call and no counters of its own was listed
/// with `TOOLS 0`, with the index and without: the store believes the counters of a session
/// it keeps no counter cache for (another tool's), and the builder wrote 0 for them. It now
/// counts what the test leaves at 0 from the events, as our recorders do; `list` counts the
/// same as a session our hooks keep (`.counters` beside it) that ends with a call unanswered.
#[test]
fn a_built_session_with_one_bash_call_lists_one_tool_call_with_and_without_the_index() {
    use crate::common::SessionBuilder;

    let env = TestEnv::new();
    let built = SessionBuilder::new("dddd-4")
        .meta(|m| m.agent_name = "claude-code".into())
        .prompt("build it")
        .at(1.0)
        .tool_call("Bash", json!({"command": "make"}))
        .at(2.0)
        .result(json!("ok"))
        .write(&env);
    session(&env, "eeee-5", 1_700_000_000.0, Some("hooked"), 1);
    append(
        &env,
        "eeee-5",
        &format!(
            "{}\n",
            json!({"event_type": "tool_call", "timestamp": 1_700_000_009.0,
                "event_id": "eeee-5-x", "session_id": "eeee-5",
                "data": {"tool_name": "Bash", "arguments": {"command": "ls"}}})
        ),
    );
    let calls = |listing: &Value, id: &str| {
        listing
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["session_id"] == id)
            .map(|s| s["tool_calls"].clone())
    };
    let indexed = list(&env).json();
    let files = scanned(&env);
    for listing in [&indexed, &files] {
        assert_eq!(calls(listing, &built), Some(json!(1)), "{listing:#}");
        assert_eq!(calls(listing, "eeee-5"), Some(json!(2)), "{listing:#}");
    }
    let text = env.run(&["list"]);
    let line = text.stdout.lines().find(|l| l.starts_with(&built)).unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    // Id, day, time, duration, agent, tools.
    assert_eq!(cells[5], "1", "{}", text.stdout);
}

/// Claude Code's `--resume` goes on under the session's id after its `session_end`: `list`
/// and the index's `sessions` still gave the session as ended (its first end, with a
/// duration), though `watch` follows it and `retention` keeps it as one being written. The
/// index says it is not ended while an event comes after its end, and ended again at its next
/// end.
#[test]
fn a_session_resumed_after_its_end_is_not_ended_until_it_ends_again() {
    let env = TestEnv::new();
    let id = "6a1d3f5e-7a8b-4c1d-9e2f-0a1b2c3d4e5f";
    let hook = |event: &str, payload: Value| {
        env.hook(event, &payload).success();
    };
    let end = || {
        hook(
            "session-end",
            json!({"session_id": id, "hook_event_name": "SessionEnd", "reason": "exit"}),
        );
    };
    let ended = || {
        let listed = list(&env).json();
        let sql = env
            .run(&[
                "sql",
                "--format",
                "json",
                "SELECT ended_at, duration_s FROM sessions",
            ])
            .success()
            .json();
        let session = &listed[0];
        assert_eq!(session["session_id"], id);
        assert_eq!(
            (
                session["ended_at"].is_null(),
                session["duration_s"].is_null()
            ),
            (sql[0]["ended_at"].is_null(), sql[0]["duration_s"].is_null()),
            "{listed}\n{sql}"
        );
        // `show` (and every command reading a session's summary) says the same; it gave the
        // resumed session its first end.
        let shown = env.run(&["show", id, "--format", "json"]).success().json();
        assert_eq!(
            shown["ended_at"].is_null(),
            session["ended_at"].is_null(),
            "{shown}\n{listed}"
        );
        !session["ended_at"].is_null()
    };
    hook(
        "session-start",
        json!({"session_id": id, "hook_event_name": "SessionStart", "source": "startup"}),
    );
    end();
    assert!(ended());
    hook(
        "session-start",
        json!({"session_id": id, "hook_event_name": "SessionStart", "source": "resume"}),
    );
    hook(
        "user-prompt",
        json!({"session_id": id, "hook_event_name": "UserPromptSubmit", "prompt": "go on"}),
    );
    assert!(!ended(), "the resumed session is listed as ended");
    let text = env.run(&["list"]).success().stdout.clone();
    assert!(text.contains("running"), "{text}");
    // Read without the index (one that cannot be used), it is not ended either: the scan
    // gave it its first end.
    let indexed = list(&env).json();
    remove_index(&env);
    std::fs::create_dir(index(&env)).unwrap();
    let scanned = env.run(&["list", "--format", "json"]);
    assert_eq!(scanned.json(), indexed, "{}", scanned.stderr);
    remove_index(&env);
    end();
    assert!(ended());
}

/// Seconds since the epoch, as the binary's clock reads them.
fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// An end stamped past the clock (and its skew) counts in file order until its time comes: a
/// session going on after it in the file is running, and once the clock comes within the skew
/// of that end, it is the session's latest event and the session is over, as a fresh read of
/// the files says. No file changes then: `list` and `sql` kept the index's first answer for
/// ever, and `show` the one the hooks' counter cache kept, all giving the session as running.
#[test]
fn an_end_stamped_ahead_of_the_clock_ends_the_session_everywhere_once_its_time_comes() {
    let env = TestEnv::new();
    let id = "7b2e4f6a-1c3d-4e5f-8a9b-0c1d2e3f4a5b";
    env.hook(
        "session-start",
        &json!({"session_id": id, "hook_event_name": "SessionStart", "source": "startup"}),
    )
    .success();
    // Believed some seconds from now, when the clock is within its skew (300 s) of it.
    let end_at = now() + 300.0 + 15.0;
    append(
        &env,
        id,
        &format!(
            "{}\n",
            json!({"event_type": "session_end", "timestamp": end_at, "event_id": "e-end",
                "session_id": id, "data": {"reason": "exit"}})
        ),
    );
    // Folded into the hooks' counter cache while the end is still ahead of the clock.
    env.hook(
        "user-prompt",
        &json!({"session_id": id, "hook_event_name": "UserPromptSubmit", "prompt": "go on"}),
    )
    .success();
    let ended = || {
        let listed = list(&env).json();
        let sql = env
            .run(&["sql", "--format", "json", "SELECT ended_at FROM sessions"])
            .success()
            .json();
        let shown = env.run(&["show", id, "--format", "json"]).success().json();
        let says = [
            !listed[0]["ended_at"].is_null(),
            !sql[0]["ended_at"].is_null(),
            !shown["ended_at"].is_null(),
        ];
        assert!(
            says.iter().all(|s| *s == says[0]),
            "{says:?}\n{listed}\n{sql}\n{shown}"
        );
        says[0]
    };
    let ended_before = ended();
    // On a machine too loaded to read the three within the window, the end was believed
    // before they looked: only what they say after it can then be checked.
    if now() + 300.0 < end_at {
        assert!(
            !ended_before,
            "the prompt after the end was not believed to follow it"
        );
    }
    while now() + 300.0 < end_at + 0.2 {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        ended(),
        "the session is listed as running after its latest event, its end"
    );
    let indexed = list(&env).json();
    assert_eq!(indexed, scanned(&env));
}

/// A session's `events.ndjson` replaced by a shorter file: the index folds it again, but the
/// hooks' counter cache kept counting from its old offset, past the new file's end, so that
/// `inspect` (and `show`, `replay`) counted the calls of the file that was replaced, which
/// `list` no longer did. The cache is folded again from the start.
#[test]
fn events_replaced_by_a_shorter_file_are_counted_again_by_every_reader() {
    let env = TestEnv::new();
    let id = "aaaa-1";
    session(&env, id, 1_700_000_000.0, Some("first task"), 3);
    // The hook folds the three calls into `.counters`.
    env.hook(
        "user-prompt",
        &json!({"session_id": id, "hook_event_name": "UserPromptSubmit", "prompt": "go on"}),
    )
    .success();
    let calls = || {
        let listed = list(&env).json()[0]["tool_calls"].clone();
        let inspected = env.run(&["inspect", id]);
        (
            listed,
            inspected.success().json()["meta"]["tool_calls"].clone(),
        )
    };
    assert_eq!(calls(), (json!(3), json!(3)));
    let events = env.store().join(id).join("events.ndjson");
    let text = std::fs::read_to_string(&events).unwrap();
    let first: String = text.lines().take(3).map(|l| l.to_owned() + "\n").collect();
    replace(&events, &first);
    assert_eq!(calls(), (json!(1), json!(1)));
}

/// A session of ours (with `.counters`) whose `meta.json` changed without an append: the
/// index watched only the events of such a session, so `list` and `sql` kept the agent, end
/// and parent the file no longer said, while `show` read the new ones. The collector telling
/// more of a session it has, a recording that could not append its end, and a hand edit all
/// change `meta.json` alone.
#[test]
fn a_meta_of_ours_changed_without_an_append_is_read_again() {
    let env = TestEnv::new();
    three_sessions(&env);
    list(&env);
    let meta = env.store().join("bbbb-2").join("meta.json");
    // Rewritten in place, as an editor that does not rename does.
    std::fs::write(
        &meta,
        json!({"session_id": "bbbb-2", "started_at": 1_700_000_100.0,
            "ended_at": 1_700_000_142.0, "agent_name": "other-agent", "command": "c",
            "parent_session_id": "aaaa-1"})
        .to_string(),
    )
    .unwrap();
    let edited = list(&env).json();
    let row = &edited[1];
    assert_eq!(row["session_id"], "bbbb-2");
    assert_eq!(row["agent_name"], "other-agent");
    assert_eq!(row["ended_at"], 1_700_000_142.0);
    assert_eq!(row["parent_session_id"], "aaaa-1");
    let sql = env
        .run(&[
            "sql",
            "--format",
            "json",
            "SELECT agent FROM sessions WHERE session_id = 'bbbb-2'",
        ])
        .success()
        .json();
    assert_eq!(sql, json!([{"agent": "other-agent"}]));
    // Replaced by rename, as our writers do.
    replace(
        &meta,
        &json!({"session_id": "bbbb-2", "started_at": 1_700_000_100.0,
            "agent_name": "third-agent", "command": "c"})
        .to_string(),
    );
    let replaced = list(&env).json();
    assert_eq!(replaced[1]["agent_name"], "third-agent");
    assert_eq!(replaced[1]["ended_at"], Value::Null);
    assert_eq!(replaced, scanned(&env));
}

/// Writes `text` over the start of `path`, the same file (its inode kept), a tick after it was
/// last written; returns the file, to set its time back.
fn write_in_place(path: &Path, text: &str) -> std::fs::File {
    std::thread::sleep(Duration::from_millis(20));
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    std::io::Write::write_all(&mut &file, text.as_bytes()).unwrap();
    file
}

/// An events file rewritten in place to the same size, its modification time set back as it
/// was (`touch -r`): the index compared device, inode, size and modification time, all as
/// indexed, and kept the fold of the bytes that were replaced. The change time, which no one
/// can set, tells.
#[test]
fn events_rewritten_in_place_to_the_same_size_with_their_time_set_back_are_folded_again() {
    let env = TestEnv::new();
    three_sessions(&env);
    assert_eq!(list(&env).json()[0]["tool_calls"], 4);
    let events = env.store().join("cccc-3").join("events.ndjson");
    let modified = std::fs::metadata(&events).unwrap().modified().unwrap();
    let text = std::fs::read_to_string(&events).unwrap();
    // Two calls become prompts of the same length: "tool_call" and "user_xxxx" are 9 bytes.
    let rewritten = text.replacen("\"tool_call\"", "\"user_xxxx\"", 2);
    assert_eq!(rewritten.len(), text.len());
    write_in_place(&events, &rewritten)
        .set_modified(modified)
        .unwrap();
    let listed = list(&env).json();
    assert_eq!(listed[0]["session_id"], "cccc-3");
    assert_eq!(listed[0]["tool_calls"], 2);
    assert_eq!(listed, scanned(&env));
}

/// An events file rewritten in place, longer (same inode, a later time): the index took it for
/// one that grew, and folded the bytes past its old length on top of the fold of the bytes
/// that were replaced. The bytes folded last, no longer there, tell.
#[test]
fn events_rewritten_in_place_longer_are_folded_again_whole() {
    let env = TestEnv::new();
    three_sessions(&env);
    assert_eq!(list(&env).json()[0]["tool_calls"], 4);
    let events = env.store().join("cccc-3").join("events.ndjson");
    let text = std::fs::read_to_string(&events).unwrap();
    let rewritten = text.replace("\"tool_call\"", "\"user_xxxx\"")
        + &call_lines("cccc-3", 1_700_000_300.0, 9, false);
    write_in_place(&events, &rewritten);
    let listed = list(&env).json();
    assert_eq!(listed[0]["session_id"], "cccc-3");
    assert_eq!(listed[0]["tool_calls"], 1);
    assert_eq!(listed, scanned(&env));
}

/// A session's `.counters` replaced by another session's, of the same size: `inspect` folded
/// this session's events on from the other's offset, on top of the other's counters. The
/// cache's mark of the bytes it folded last is not this file's, so it is folded again.
#[test]
fn another_sessions_counters_copied_in_are_not_taken_for_this_ones() {
    let env = TestEnv::new();
    session(&env, "aaaa-1", 1_700_000_000.0, Some("first task"), 3);
    session(&env, "bbbb-2", 1_700_000_100.0, Some("other task"), 3);
    // Four lines more in aaaa-1, so that bbbb-2's offset falls inside its last lines.
    append(
        &env,
        "aaaa-1",
        &call_lines("aaaa-1", 1_700_000_050.0, 7, true),
    );
    append(
        &env,
        "aaaa-1",
        &call_lines("aaaa-1", 1_700_000_051.0, 8, false),
    );
    for id in ["aaaa-1", "bbbb-2"] {
        env.hook(
            "user-prompt",
            &json!({"session_id": id, "hook_event_name": "UserPromptSubmit", "prompt": "go"}),
        )
        .success();
    }
    let counts = |id: &str| {
        let meta = env.run(&["inspect", id]).success().json()["meta"].clone();
        (meta["tool_calls"].clone(), meta["errors"].clone())
    };
    assert_eq!(counts("aaaa-1"), (json!(5), json!(2)));
    let store = env.store();
    let theirs = std::fs::read(store.join("bbbb-2").join(".counters")).unwrap();
    assert!(!theirs.is_empty());
    std::fs::write(store.join("aaaa-1").join(".counters"), theirs).unwrap();
    assert_eq!(counts("aaaa-1"), (json!(5), json!(2)));
}

/// A session whose files are dated past 2262 (`touch -d 2300-01-01`), where a file time in
/// nanoseconds no longer fits 64 bits: the index overflowed working out its state (a panic in
/// a build that checks, a wrong key in one that does not). `list` and `budget-report` now read
/// it, and a change to it is still seen.
#[test]
fn a_session_whose_files_are_dated_past_2262_is_listed_and_followed() {
    let env = TestEnv::new();
    three_sessions(&env);
    let far = std::time::UNIX_EPOCH + std::time::Duration::from_secs(10_413_792_000); // 2300-01-01
    let folder = env.store().join("cccc-3");
    for name in ["events.ndjson", "meta.json"] {
        std::fs::File::options()
            .append(true)
            .open(folder.join(name))
            .unwrap()
            .set_modified(far)
            .unwrap();
    }
    let listed = list(&env).json();
    assert_eq!(listed[0]["session_id"], "cccc-3");
    assert_eq!(listed[0]["tool_calls"], 4);
    assert_eq!(listed, scanned(&env));
    let report = env.run(&["budget-report", "--since", "3000d", "--format", "json"]);
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert!(!report.stderr.contains("panicked"), "{}", report.stderr);
    // Its events grow, still dated past 2262: the listing sees the new call.
    let events = folder.join("events.ndjson");
    let mut text = std::fs::read_to_string(&events).unwrap();
    let last = text.lines().last().unwrap().to_owned();
    let mut call: serde_json::Value = serde_json::from_str(&last).unwrap();
    call["event_type"] = "tool_call".into();
    call["event_id"] = "grown".into();
    call["data"] = serde_json::json!({"tool_name": "Bash", "arguments": {"command": "ls"}});
    text.push_str(&call.to_string());
    text.push('\n');
    write_in_place(&events, &text).set_modified(far).unwrap();
    let listed = list(&env).json();
    assert_eq!(listed[0]["tool_calls"], 5, "{listed:?}");
    assert_eq!(listed, scanned(&env));
}

/// An index built while the process ran out of file descriptors (`ulimit -n`, or a busy
/// machine's), which could open a session's folder but not its `meta.json`, kept that error
/// as the meta's own: every later read warned "Too many open files" and listed the session
/// with no agent and no command, until its files changed (an ended session's never do). The
/// session is left out of that index and read again by the next reader.
#[test]
fn a_meta_that_could_not_be_opened_for_want_of_file_descriptors_is_read_again() {
    let env = TestEnv::new();
    three_sessions(&env);
    let truth = scanned(&env);
    // Whichever limit the process runs out of descriptors at, past the store and the index.
    for limit in 4..=16 {
        remove_index(&env);
        let command = env.command(&["list", "--all", "--format", "json"]);
        let mut sh = std::process::Command::new("sh");
        sh.arg("-c")
            .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
            .arg(command.get_program())
            .args(command.get_args())
            .current_dir(env.path());
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => sh.env(key, value),
                None => sh.env_remove(key),
            };
        }
        sh.stdin(Stdio::null()).output().unwrap();
        let after = list(&env);
        assert_eq!(warnings(&after), 0, "limit {limit}: {}", after.stderr);
        assert_eq!(after.json(), truth, "limit {limit}");
    }
}
