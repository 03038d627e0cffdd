//! `retention status` / `retention clean`: age, then count, then size, oldest first; live
//! sessions spared; every deletion logged without content; links never followed.

use serde_json::{Value, json};

use crate::common::TestEnv;
use crate::common::session::SessionBuilder;

const DAY: f64 = 86_400.0;

/// `retention clean` keeping no session (every one not live is deleted), its report in JSON.
const CLEAN_KEEPING_NONE: [&str; 6] = [
    "retention",
    "clean",
    "--max-sessions",
    "0",
    "--format",
    "json",
];

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// An ended session that started `days` ago, with a prompt of `kb` KiB.
fn old_session(env: &TestEnv, id: &str, days: f64, kb: usize) -> String {
    SessionBuilder::new(id)
        .started(now() - days * DAY)
        .prompt(&"x".repeat(kb * 1024))
        .at(1.0)
        .session_end(json!({}))
        .write(env)
}

fn deleted_ids(report: &Value) -> Vec<(String, String)> {
    report["plan"]["delete"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["session_id"].as_str().unwrap().to_owned(),
                d["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn listed(env: &TestEnv) -> Vec<String> {
    let run = env.run(&["list", "--format", "json"]);
    run.success();
    let mut ids: Vec<String> = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn limits_from_the_settings_file_apply_age_then_count_then_size_and_each_deletion_is_logged() {
    let env = TestEnv::new();
    old_session(&env, "r-a", 40.0, 1);
    old_session(&env, "r-b", 20.0, 1);
    old_session(&env, "r-c", 10.0, 300);
    old_session(&env, "r-d", 5.0, 1);
    old_session(&env, "r-e", 1.0, 1);
    std::fs::write(
        env.path().join(".agent-strace.yaml"),
        "retention:\n  max_age_days: 30\n  max_sessions: 3\n  max_size_mb: 0.2\n",
    )
    .unwrap();

    let dry = env.run(&["retention", "clean", "--dry-run", "--format", "json"]);
    dry.success();
    let dry = dry.json();
    assert_eq!(
        deleted_ids(&dry),
        [
            ("r-a".to_owned(), "max_age_days".to_owned()),
            ("r-b".to_owned(), "max_sessions".to_owned()),
            ("r-c".to_owned(), "max_size_mb".to_owned()),
        ]
    );
    assert_eq!(dry["limits_from"], ".agent-strace.yaml");
    assert_eq!(listed(&env).len(), 5, "a dry run deletes nothing");

    let clean = env.run(&["retention", "clean"]);
    clean.success();
    assert!(
        clean.stdout.contains("Deleted 3 sessions,"),
        "{}",
        clean.stdout
    );
    assert_eq!(listed(&env), ["r-d", "r-e"]);
    let log = std::fs::read_to_string(env.store().join("retention.log")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for (line, id) in lines.iter().zip(["r-a", "r-b", "r-c"]) {
        assert_eq!(line["session_id"], id);
        let keys: Vec<&String> = line.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["deleted_at", "session_id"],
            "id and time, no content"
        );
    }

    let again = env.run(&["retention", "clean", "--format", "json"]);
    again.success();
    assert!(deleted_ids(&again.json()).is_empty());
}

#[test]
fn flags_win_over_the_file_and_status_reports_without_deleting() {
    let env = TestEnv::new();
    old_session(&env, "f-a", 3.0, 1);
    old_session(&env, "f-b", 2.0, 1);
    std::fs::write(
        env.path().join(".agent-strace.yaml"),
        "retention:\n  max_sessions: 0\n",
    )
    .unwrap();
    let status = env.run(&[
        "retention",
        "status",
        "--max-sessions",
        "1",
        "--format",
        "json",
    ]);
    status.success();
    let status = status.json();
    assert_eq!(status["plan"]["sessions"], 2);
    assert_eq!(status["plan"]["oldest"]["session_id"], "f-a");
    assert_eq!(
        deleted_ids(&status),
        [("f-a".to_owned(), "max_sessions".to_owned())]
    );
    assert_eq!(listed(&env).len(), 2);
    let text = env.run(&["retention", "status"]);
    text.success();
    assert!(
        text.stdout.contains("Sessions:  2") && text.stdout.contains("retention clean"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_session_still_being_written_is_never_deleted() {
    let env = TestEnv::new();
    old_session(&env, "l-old", 50.0, 1);
    let hook = env.hook(
        "user-prompt",
        &json!({"session_id": "l-live", "hook_event_name": "UserPromptSubmit", "prompt": "hi", "cwd": env.path()}),
    );
    hook.success();
    assert_clean_spares_live(&env, "l-old", "l-live");
    assert_eq!(listed(&env), ["l-live"]);
}

/// Session `id` started and ended by its hooks, in the test's project.
fn hooks_start_and_end(env: &TestEnv, id: &str) {
    env.hook(
        "session-start",
        &json!({"session_id": id, "hook_event_name": "SessionStart", "source": "startup", "cwd": env.path()}),
    )
    .success();
    env.hook(
        "session-end",
        &json!({"session_id": id, "hook_event_name": "SessionEnd", "reason": "exit", "cwd": env.path()}),
    )
    .success();
}

/// A hook that waited in vain for the lock of the session `retention clean` was deleting (the
/// deletion held up: a slow disk, a stopped process), and wrote its event once the deletion had
/// looked at the session, wrote it into the folder being deleted: the event was lost, the
/// hook's log saying it was recorded. The deletion's rename is held back while it holds the
/// lock, and the hook's write until after it: the session is deleted, and the hook's event
/// begins it anew, as an event of a session not in the store does.
#[test]
fn a_hook_that_writes_while_its_session_is_deleted_begins_it_anew() {
    use crate::common::{Run, locked_exclusive, wait::wait_until, with_syscall_held_back};
    let env = TestEnv::new();
    hooks_start_and_end(&env, "l-gone");
    let folder = env.store().join("l-gone");
    let clean = env.command(&CLEAN_KEEPING_NONE);
    // The folder is moved aside with one renameat, under its lock.
    let cleaning = with_syscall_held_back(&clean, "renameat", 2_000_000)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the deletion holds the session's folder", || {
        locked_exclusive(&folder)
    });
    let hooked = hook_event_written_late(&env, "l-gone");
    let cleaned = Run::of(cleaning.wait_with_output().unwrap());
    cleaned.success();
    assert_eq!(
        cleaned.json()["deleted"],
        json!(["l-gone"]),
        "{}",
        cleaned.stdout
    );
    hooked.success();
    let events = env.events("l-gone");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["data"]["prompt"], "HOOK-EVENT", "{events:?}");
    assert_eq!(listed(&env), ["l-gone"]);
}

/// A deletion killed after it moved the session's folder aside, and before it wrote again under
/// the name what a hook wrote meanwhile without the lock (the hook leaves that to the deletion),
/// left the event in `.deleting-<id>`, and the next clean removed it: the event was lost, the
/// hook's log saying it was recorded. The deletion is held after its rename, the hook writes
/// then, and the deletion is killed: the next clean finishes it as it would have, the event
/// beginning the session anew, once; and a clean after that writes nothing again.
#[test]
fn a_hook_event_a_killed_deletion_left_aside_is_written_again_by_the_next_clean() {
    use crate::common::{
        kill_traced, locked_exclusive, wait::wait_until, with_syscall_held_around,
    };
    let env = TestEnv::new();
    hooks_start_and_end(&env, "k-moved");
    let folder = env.store().join("k-moved");
    let aside = env.store().join(".deleting-k-moved");
    let clean = env.command(&CLEAN_KEEPING_NONE);
    // The folder is moved aside with one renameat, under its lock: held before it, so that the
    // hook finds the folder under the name, and after it until killed.
    let mut cleaning = with_syscall_held_around(&clean, "renameat", 2_000_000, 60_000_000)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the deletion holds the session's folder", || {
        locked_exclusive(&folder)
    });
    // Its write lands once the folder is aside, and before any seal.
    let hooked = hook_event_written_late(&env, "k-moved");
    hooked.success();
    let left = std::fs::read_to_string(aside.join("events.ndjson")).unwrap();
    assert!(left.contains("HOOK-EVENT"), "{left}");
    kill_traced(&mut cleaning);
    assert!(aside.is_dir() && !folder.exists());

    let next = env.run(&[
        "retention",
        "clean",
        "--max-age-days",
        "30",
        "--format",
        "json",
    ]);
    next.success();
    assert_eq!(
        next.json()["finished"],
        json!(["k-moved"]),
        "{}",
        next.stdout
    );
    assert!(!aside.exists());
    for _ in 0..2 {
        let events = env.events("k-moved");
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["data"]["prompt"], "HOOK-EVENT", "{events:?}");
        assert_eq!(listed(&env), ["k-moved"]);
        env.run(&["retention", "clean", "--max-age-days", "30"])
            .success();
    }
}

/// A proxy's session (`record`) idle long enough for `retention clean` to delete it went on
/// being written into the events file of the folder deleted, kept open since the proxy began:
/// every call after the deletion was lost, with no word. Each batch of a proxy is written as a
/// hook's event is, into the session's folder as it is at that moment, under its lock: the
/// call after the deletion begins the session anew.
#[test]
fn a_record_session_deleted_while_it_runs_keeps_its_later_calls() {
    use crate::common::wait::wait_until;
    use std::io::{BufRead, BufReader, Write};
    let env = TestEnv::new();
    // `cat` as the server: it sends each call straight back.
    let mut proxy = env
        .command(&["record", "--name", "cat", "--", "cat"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut to_proxy = proxy.stdin.take().unwrap();
    let mut from_proxy = BufReader::new(proxy.stdout.take().unwrap());
    let mut call = |id: u32, marker: &str| {
        let line = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"message": marker}}});
        writeln!(to_proxy, "{line}").unwrap();
        let mut echoed = String::new();
        from_proxy.read_line(&mut echoed).unwrap();
        assert!(echoed.contains(marker), "{echoed}");
    };
    call(1, "FIRST-CALL");
    let events_text = |env: &TestEnv| {
        env.sessions()
            .first()
            .map(|id| {
                std::fs::read_to_string(env.store().join(id).join("events.ndjson"))
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    };
    // Sent and sent back, both recorded.
    wait_until("the proxy records the first call", || {
        events_text(&env).matches("FIRST-CALL").count() == 2
    });
    let id = env.sessions()[0].clone();
    // Idle for an hour, as retention sees it.
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .append(true)
        .open(env.store().join(&id).join("events.ndjson"))
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();
    let clean = env.run(&CLEAN_KEEPING_NONE);
    clean.success();
    assert_eq!(clean.json()["deleted"], json!([id]), "{}", clean.stdout);

    call(2, "SECOND-CALL");
    drop(to_proxy);
    assert!(proxy.wait().unwrap().success());
    assert_eq!(env.sessions(), [id], "the session begun anew");
    assert_eq!(
        events_text(&env).matches("SECOND-CALL").count(),
        2,
        "{}",
        events_text(&env)
    );
}

/// A hook's prompt `HOOK-EVENT` of session `id`, its write held back 4 s: it waits for the
/// folder's lock in vain and writes without it.
fn hook_event_written_late(env: &TestEnv, id: &str) -> crate::common::Run {
    use crate::common::{run_with_stdin, with_syscall_held_back};
    let prompt = json!({"session_id": id, "hook_event_name": "UserPromptSubmit",
        "prompt": "HOOK-EVENT", "cwd": env.path()});
    let hook = with_syscall_held_back(&env.command(&["hook", "user-prompt"]), "write", 4_000_000);
    run_with_stdin(hook, prompt.to_string().as_bytes())
}

/// Session `id` going on: a prompt, as its hooks record it.
fn hook_prompt(env: &TestEnv, id: &str) {
    env.hook(
        "user-prompt",
        &json!({"session_id": id, "hook_event_name": "UserPromptSubmit", "prompt": "go on", "cwd": env.path()}),
    )
    .success();
}

/// `retention clean` keeping no session: it deletes `deleted` and spares `live` as one
/// being written.
#[track_caller]
fn assert_clean_spares_live(env: &TestEnv, deleted: &str, live: &str) {
    let clean = env.run(&CLEAN_KEEPING_NONE);
    clean.success();
    let report = clean.json();
    assert_eq!(report["deleted"], json!([deleted]), "{report}");
    assert_eq!(report["plan"]["spared_live"], json!([live]), "{report}");
}

/// Claude Code's `--resume` goes on under the session's id after its `session_end`: the
/// session is written again, but its metadata still records the end, and `retention clean`
/// deleted it under the agent. A session whose events go on after its end is live.
#[test]
fn a_session_resumed_after_its_end_is_never_deleted_while_it_is_written() {
    let env = TestEnv::new();
    old_session(&env, "r-old", 50.0, 1);
    let id = "r-resumed";
    hooks_start_and_end(&env, id);
    env.hook(
        "session-start",
        &json!({"session_id": id, "hook_event_name": "SessionStart", "source": "resume", "cwd": env.path()}),
    )
    .success();
    hook_prompt(&env, id);
    assert_clean_spares_live(&env, "r-old", id);
    assert_eq!(listed(&env), [id]);
}

/// An end stamped a year ahead of the clock (a writer whose clock ran ahead, a line edited),
/// followed by the session going on, was its latest event for a year: `retention clean` deleted
/// the session under the agent, and `list` showed it ended. A time past the reader's clock
/// counts in file order.
#[test]
fn a_session_going_on_after_an_end_stamped_in_the_near_future_is_never_deleted() {
    let env = TestEnv::new();
    old_session(&env, "f-old", 50.0, 1);
    let id = "f-ahead";
    hooks_start_and_end(&env, id);
    let events = env.store().join(id).join("events.ndjson");
    let mut lines: Vec<Value> = env.events(id);
    let end = lines.last_mut().unwrap();
    assert_eq!(end["event_type"], "session_end");
    end["timestamp"] = json!(now() + 365.0 * DAY);
    let lines: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&events, lines.join("\n") + "\n").unwrap();
    hook_prompt(&env, id);
    let listing = env.run(&["list", "--format", "json"]).json();
    let ahead = listing
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == id)
        .unwrap();
    assert!(ahead["ended_at"].is_null(), "{listing}");
    assert_clean_spares_live(&env, "f-old", id);
}

/// A deletion cut short (its process killed) leaves the session's folder aside as
/// `.deleting-<id>`; once the session was written again, every later deletion of it failed
/// ("Directory not empty", exit 4) and the folder left aside stayed for ever. It is removed
/// first.
#[test]
fn a_deletion_cut_short_never_blocks_the_next_one() {
    let env = TestEnv::new();
    let id = old_session(&env, "c-a", 40.0, 1);
    let aside = env.store().join(format!(".deleting-{id}"));
    std::fs::create_dir(&aside).unwrap();
    std::fs::write(aside.join("events.ndjson"), "{}\n").unwrap();
    let clean = env.run(&[
        "retention",
        "clean",
        "--max-age-days",
        "30",
        "--format",
        "json",
    ]);
    clean.success();
    assert_eq!(clean.json()["deleted"], json!([id]));
    assert!(!aside.exists());
    assert!(!env.store().join(&id).exists());
}

/// A run stopped by SIGTERM or kill -9 between renaming a session's folder aside and removing
/// it left `.deleting-<id>` for ever (the whole session, at worst): no later run removed it,
/// `retention status` counted it nowhere, and retention.log never had its deletion. The next
/// clean finishes and logs it, as import sweeps a killed import's folder; one a run still
/// deleting holds (its lock) is left to it, and status counts both.
#[test]
fn a_deletion_a_killed_run_left_is_finished_and_logged_by_the_next_clean() {
    let env = TestEnv::new();
    let mut aside = Vec::new();
    for id in ["k-dead", "k-live"] {
        old_session(&env, id, 40.0, 2);
        let folder = env.store().join(format!(".deleting-{id}"));
        std::fs::rename(env.store().join(id), &folder).unwrap();
        aside.push(folder);
    }
    // A run still deleting it holds its folder's lock.
    let live = std::fs::File::open(&aside[1]).unwrap();
    live.try_lock().unwrap();
    let left: u64 = aside.iter().map(|a| tree_bytes(a)).sum();

    let status = env.run(&["retention", "status", "--format", "json"]);
    status.success();
    let report = status.json();
    assert_eq!(report["cut_short"], json!({"sessions": 2, "bytes": left}));
    assert_eq!(
        report["plan"]["total_bytes"].as_u64().unwrap()
            + report["beside_sessions_bytes"].as_u64().unwrap()
            + left,
        tree_bytes(&env.store()),
        "{report}"
    );
    let text = env.run(&["retention", "status"]);
    assert!(
        text.stdout
            .contains("2 sessions whose deletion a run cut short"),
        "{}",
        text.stdout
    );

    let clean = env.run(&[
        "retention",
        "clean",
        "--max-age-days",
        "30",
        "--format",
        "json",
    ]);
    clean.success();
    assert_eq!(clean.json()["finished"], json!(["k-dead"]));
    assert!(!aside[0].exists());
    assert!(aside[1].join("events.ndjson").exists());
    let log = std::fs::read_to_string(env.store().join("retention.log")).unwrap();
    let logged: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(logged.len(), 1, "{log}");
    assert_eq!(logged[0]["session_id"], "k-dead");

    drop(live);
    let text = env.run(&["retention", "clean", "--max-age-days", "30"]);
    text.success();
    assert!(
        text.stdout
            .contains("Finished the deletion of 1 session a run cut short: k-live"),
        "{}",
        text.stdout
    );
    assert!(!aside[1].exists());
}

/// A repository's .agent-strace.yaml chose where deletions were logged, any file the user may
/// write: `~/.bashrc` took a line with the session's id, and an id such as `x$(cmd)` ran at the
/// next login. A log_path outside the project (or through a link out of it) is refused before
/// anything is deleted.
#[test]
fn a_settings_file_cannot_send_the_retention_log_out_of_the_project() {
    let env = TestEnv::new();
    let id = old_session(&env, "o-a", 40.0, 1);
    let outside = env.home().join("bashrc");
    std::os::unix::fs::symlink(env.home(), env.path().join("logs")).unwrap();
    for log_path in [outside.to_str().unwrap(), "logs/bashrc"] {
        std::fs::write(
            env.path().join(".agent-strace.yaml"),
            format!("retention:\n  max_age_days: 30\n  log_path: {log_path}\n"),
        )
        .unwrap();
        let clean = env.run(&["retention", "clean"]);
        assert_eq!(clean.code, 3, "{log_path}: {clean:?}");
        assert!(
            clean.stderr.contains("is outside the project"),
            "{}",
            clean.stderr
        );
        assert!(!outside.exists(), "{log_path}");
        assert!(env.store().join(&id).exists(), "{log_path}");
    }
    // Inside the project, it is written.
    std::fs::write(
        env.path().join(".agent-strace.yaml"),
        "retention:\n  max_age_days: 30\n  log_path: deletions.log\n",
    )
    .unwrap();
    env.run(&["retention", "clean"]).success();
    assert!(
        std::fs::read_to_string(env.path().join("deletions.log"))
            .unwrap()
            .contains(&id)
    );
}

/// A repository's .agent-strace.yaml sent the retention log into its own git hook: the hook
/// took `{"deleted_at": …, "session_id": "x$(touch PWNED)"}` and the next commit ran it. A
/// log_path in a `.git` folder, or naming a file there already that the log could not have
/// made (one someone may execute, one that is no regular file, one with lines of its own), is
/// refused before anything is deleted; a log of deletion lines, ours or the Python tool's,
/// is appended to.
#[test]
fn the_retention_log_is_appended_to_no_git_hook_program_or_file_of_other_lines() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let id = old_session(&env, "x$(touch PWNED)", 40.0, 1);
    let hooks = env.path().join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let hook = "#!/bin/sh\necho hook ran\n";
    let executable = |name: &str| {
        let path = env.path().join(name);
        std::fs::write(&path, hook).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    executable(".git/hooks/pre-commit");
    executable("run.sh");
    // Sourced, not executed: a shell runs it all the same.
    std::fs::write(env.path().join("activate"), "# source me\nexport A=1\n").unwrap();
    std::fs::create_dir(env.path().join("logs")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        env.path().join("logs/fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    for (log_path, why) in [
        (".git/hooks/pre-commit", "is inside a .git folder"),
        (".git/deletions.log", "is inside a .git folder"),
        ("run.sh", "is executable"),
        (
            "activate",
            "holds a line that is not the retention log's (line 1)",
        ),
        ("logs/fifo", "is not a regular file"),
    ] {
        std::fs::write(
            env.path().join(".agent-strace.yaml"),
            format!("retention:\n  max_age_days: 30\n  log_path: {log_path}\n"),
        )
        .unwrap();
        let clean = env.run(&["retention", "clean"]);
        assert_eq!(clean.code, 3, "{log_path}: {clean:?}");
        assert_eq!(clean.stderr.lines().count(), 1, "{log_path}: {clean:?}");
        assert!(
            clean
                .stderr
                .contains(&format!("log_path `{log_path}` {why}")),
            "{log_path}: {}",
            clean.stderr
        );
        assert!(env.store().join(&id).exists(), "{log_path}");
    }
    for name in [".git/hooks/pre-commit", "run.sh"] {
        assert_eq!(
            std::fs::read_to_string(env.path().join(name)).unwrap(),
            hook
        );
    }
    assert!(!env.path().join(".git/deletions.log").exists());

    // A log of deletion lines, as the Python tool writes them, goes on.
    let python = "{\"deleted_at\": \"2025-01-01T00:00:00Z\", \"session_id\": \"old\"}\n";
    std::fs::write(env.path().join("logs/deletions.log"), python).unwrap();
    std::fs::write(
        env.path().join(".agent-strace.yaml"),
        "retention:\n  max_age_days: 30\n  log_path: logs/deletions.log\n",
    )
    .unwrap();
    env.run(&["retention", "clean"]).success();
    let log = std::fs::read_to_string(env.path().join("logs/deletions.log")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert_eq!(lines[1]["session_id"], json!(id));
    assert!(!env.store().join(&id).exists());
}

/// A log_path in a folder that does not exist, or naming the project's folder, was said to be
/// "outside the project"; each is refused for what it is. An empty one is the store's log, as
/// the Python tool reads it.
#[test]
fn a_log_path_refused_is_refused_for_what_it_is() {
    let env = TestEnv::new();
    let id = old_session(&env, "o-b", 40.0, 1);
    for (log_path, why) in [
        ("sub/none/x.log", "is in a folder that does not exist"),
        (".", "is a folder, not a file"),
        ("sub", "is a folder, not a file"),
    ] {
        std::fs::create_dir_all(env.path().join("sub")).unwrap();
        std::fs::write(
            env.path().join(".agent-strace.yaml"),
            format!("retention:\n  max_age_days: 30\n  log_path: {log_path}\n"),
        )
        .unwrap();
        let clean = env.run(&["retention", "clean"]);
        assert_eq!(clean.code, 3, "{log_path}: {clean:?}");
        assert!(
            clean
                .stderr
                .contains(&format!("log_path `{log_path}` {why}")),
            "{log_path}: {}",
            clean.stderr
        );
        assert!(!clean.stderr.contains("outside"), "{}", clean.stderr);
        assert!(env.store().join(&id).exists(), "{log_path}");
    }
    std::fs::write(
        env.path().join(".agent-strace.yaml"),
        "retention:\n  max_age_days: 30\n  log_path: \"\"\n",
    )
    .unwrap();
    env.run(&["retention", "clean"]).success();
    let log = std::fs::read_to_string(env.store().join("retention.log")).unwrap();
    assert!(log.contains(&id), "{log}");
}

#[test]
fn deleting_a_session_removes_a_planted_link_and_not_what_it_points_to() {
    let env = TestEnv::new();
    let id = old_session(&env, "k-a", 40.0, 1);
    let precious = env.path().join("precious");
    std::fs::create_dir(&precious).unwrap();
    std::fs::write(precious.join("keep.txt"), "keep").unwrap();
    std::os::unix::fs::symlink(&precious, env.store().join(&id).join("linked")).unwrap();
    env.run(&["retention", "clean", "--max-age-days", "30"])
        .success();
    assert!(!env.store().join(&id).exists());
    assert_eq!(
        std::fs::read_to_string(precious.join("keep.txt")).unwrap(),
        "keep"
    );
}

#[test]
fn bad_limits_and_settings_get_one_line_and_a_documented_code() {
    let env = TestEnv::new();
    old_session(&env, "b-a", 1.0, 1);
    let bad = env.run(&["retention", "clean", "--max-size-mb", "NaN"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    std::fs::write(
        env.path().join(".agent-strace.yaml"),
        "retention:\n  max_age: 3\n",
    )
    .unwrap();
    let bad = env.run(&["retention", "status"]);
    assert_eq!(bad.code, 3, "{bad:?}");
    assert!(
        bad.stderr.contains(".agent-strace.yaml:2") && bad.stderr.contains("retention.max_age"),
        "{}",
        bad.stderr
    );
    assert_eq!(bad.stderr.trim().lines().count(), 1);
    assert_eq!(listed(&env), ["b-a"]);
}

/// The flags refused a negative or NaN limit, the file took it: `max_age_days: -1` or
/// `max_size_mb: -1` deleted every session, `.nan` and `.inf` none.
#[test]
fn a_negative_or_not_a_number_limit_in_the_file_deletes_nothing_and_is_named() {
    let env = TestEnv::new();
    old_session(&env, "n-a", 1.0, 1);
    for (text, line, key) in [
        (
            "retention:\n  max_age_days: -1\n",
            2,
            "retention.max_age_days",
        ),
        ("# kept\nmax_size_mb: -1\n", 2, "max_size_mb"),
        (
            "retention:\n  max_size_mb: .nan\n",
            2,
            "retention.max_size_mb",
        ),
        ("max_age_days: .inf\n", 1, "max_age_days"),
    ] {
        std::fs::write(env.path().join(".agent-strace.yaml"), text).unwrap();
        let bad = env.run(&["retention", "clean"]);
        assert_eq!(bad.code, 3, "{text}: {bad:?}");
        assert!(
            bad.stderr.contains(&format!(
                ".agent-strace.yaml:{line}: `{key}`: expected a number of 0 or more"
            )),
            "{text}: {}",
            bad.stderr
        );
        assert_eq!(bad.stderr.trim().lines().count(), 1, "{}", bad.stderr);
        assert_eq!(listed(&env), ["n-a"], "{text}");
    }
    // No value is no limit, as for the Python tool.
    std::fs::write(
        env.path().join(".agent-strace.yaml"),
        "retention:\n  max_age_days: ~\n  max_size_mb:\n",
    )
    .unwrap();
    env.run(&["retention", "clean"]).success();
    assert_eq!(listed(&env), ["n-a"]);
}

/// The dry run named each session's limit by the Rust name of its variant (`MaxAgeDays`).
#[test]
fn a_dry_run_names_the_limit_as_the_limits_line_does() {
    let env = TestEnv::new();
    old_session(&env, "w-old", 40.0, 1);
    old_session(&env, "w-older-with-a-longer-id", 50.0, 1);
    let dry = env.run(&["retention", "clean", "--dry-run", "--max-age-days", "30"]);
    dry.success();
    assert!(!dry.stdout.contains("MaxAgeDays"), "{}", dry.stdout);
    let rows: Vec<&str> = dry.stdout.lines().filter(|l| l.starts_with("  ")).collect();
    assert_eq!(rows.len(), 2, "{}", dry.stdout);
    for row in &rows {
        assert!(row.ends_with("  max 30 days"), "{}", dry.stdout);
    }
    // The ids are padded to one width, so the dates start in one column.
    let date_at = |row: &str| row.find("  20").unwrap();
    assert_eq!(date_at(rows[0]), date_at(rows[1]), "{}", dry.stdout);
}

/// A limit of one is worded in the singular, on the `Limits:` line and in the dry run's rows.
#[test]
fn a_limit_of_one_is_worded_in_the_singular() {
    let env = TestEnv::new();
    old_session(&env, "o-old", 3.0, 1);
    old_session(&env, "o-new", 0.5, 1);
    let limits = ["--max-age-days", "1", "--max-sessions", "1"];
    let status = env.run(&[&["retention", "status"][..], &limits[..]].concat());
    status.success();
    assert!(
        status.stdout.contains("max 1 day, max 1 session"),
        "{}",
        status.stdout
    );
    let dry = env.run(&[&["retention", "clean", "--dry-run"][..], &limits[..]].concat());
    dry.success();
    let row = dry.stdout.lines().find(|l| l.contains("o-old")).unwrap();
    assert!(row.ends_with("  max 1 day"), "{}", dry.stdout);
}

/// A limit of `1e308` days was said in the 309 digits Rust writes a float out in, and one of
/// `1e-300` MB in 300 zeros; each reads in exponent form, and a limit someone reads as a
/// count has its thousands separated.
#[test]
fn a_limit_past_fifteen_digits_is_said_in_exponent_form() {
    let env = TestEnv::new();
    old_session(&env, "o-old", 3.0, 1);
    std::fs::write(
        env.path().join(".agent-strace.yaml"),
        "retention:\n  max_age_days: 1e308\n  max_size_mb: 1.0e-300\n",
    )
    .unwrap();
    let status = env.run(&["retention", "status"]);
    status.success();
    assert!(
        status
            .stdout
            .contains("Limits:    max 1e308 days, max 1e-300 MB (from .agent-strace.yaml)"),
        "{}",
        status.stdout
    );
    let dry = env.run(&["retention", "clean", "--dry-run"]);
    let row = dry.stdout.lines().find(|l| l.contains("o-old")).unwrap();
    assert!(row.ends_with("  max 1e-300 MB"), "{}", dry.stdout);
    let status = env.run(&["retention", "status", "--max-size-mb", "12000.5"]);
    assert!(
        status.stdout.contains("max 1e308 days, max 12,000.5 MB"),
        "{}",
        status.stdout
    );
}

/// An ended subagent session of `parent` that started `days` ago.
fn subagent(env: &TestEnv, id: &str, parent: &str, days: f64) -> String {
    let parent = parent.to_owned();
    SessionBuilder::new(id)
        .started(now() - days * DAY)
        .meta(|m| m.parent_session_id = Some(parent))
        .prompt("look something up")
        .at(1.0)
        .session_end(json!({}))
        .write(env)
}

fn listed_all(env: &TestEnv) -> Vec<(String, Option<String>)> {
    let run = env.run(&["list", "--all", "--format", "json"]);
    run.success();
    let mut ids: Vec<(String, Option<String>)> = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["session_id"].as_str().unwrap().to_owned(),
                s["parent_session_id"].as_str().map(str::to_owned),
            )
        })
        .collect();
    ids.sort();
    ids
}

/// The limits counted subagents as sessions and judged each alone: `--max-sessions` deleted a
/// parent and some of its subagents, and left the others without their parent.
#[test]
fn a_session_and_its_subagents_count_once_and_are_deleted_together() {
    let env = TestEnv::new();
    let root = old_session(&env, "t-root", 40.0, 1);
    subagent(&env, "t-sub-1", &root, 39.9);
    subagent(&env, "t-sub-2", &root, 20.0);
    subagent(&env, "t-sub-3", &root, 2.0);
    old_session(&env, "t-mid", 30.0, 1);
    old_session(&env, "t-new", 1.0, 1);
    // Its parent is not in the store: `list` shows it, so it counts as a session of its own.
    subagent(&env, "t-stray", "t-gone", 50.0);

    let status = env.run(&["retention", "status", "--max-sessions", "2"]);
    status.success();
    assert!(
        status
            .stdout
            .contains("Sessions:  4 (and 3 subagent sessions under them)"),
        "{}",
        status.stdout
    );
    assert!(
        status
            .stdout
            .contains("The limits delete 2 sessions with 3 subagent sessions"),
        "{}",
        status.stdout
    );

    let dry = env.run(&[
        "retention",
        "clean",
        "--dry-run",
        "--max-sessions",
        "2",
        "--format",
        "json",
    ]);
    dry.success();
    let dry = dry.json();
    assert_eq!(dry["plan"]["sessions"], 4);
    assert_eq!(dry["plan"]["subagent_sessions"], 3);
    assert_eq!(
        deleted_ids(&dry),
        [
            ("t-stray".to_owned(), "max_sessions".to_owned()),
            ("t-root".to_owned(), "max_sessions".to_owned()),
        ]
    );
    assert_eq!(
        dry["plan"]["delete"][1]["subagents"],
        json!(["t-sub-1", "t-sub-2", "t-sub-3"])
    );
    assert_eq!(listed_all(&env).len(), 7, "a dry run deletes nothing");

    let clean = env.run(&[
        "retention",
        "clean",
        "--max-sessions",
        "2",
        "--format",
        "json",
    ]);
    clean.success();
    let mut deleted: Vec<String> = serde_json::from_value(clean.json()["deleted"].clone()).unwrap();
    deleted.sort();
    assert_eq!(
        deleted,
        ["t-root", "t-stray", "t-sub-1", "t-sub-2", "t-sub-3"],
        "the real run deletes what the dry run said, each tree whole"
    );
    assert_eq!(
        listed_all(&env),
        [("t-mid".to_owned(), None), ("t-new".to_owned(), None)]
    );
    let log = std::fs::read_to_string(env.store().join("retention.log")).unwrap();
    assert_eq!(log.lines().count(), 5, "{log}");
}

/// The bytes of the files in a session's folder.
fn folder_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap())
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len())
        .sum()
}

/// A deletion that fails part way through a tree keeps its root, and the report says what was
/// freed: it gave the plan's whole size, and "0 sessions with 1 subagent session".
#[test]
fn a_deletion_that_fails_part_way_keeps_the_root_and_reports_only_what_was_freed() {
    let env = TestEnv::new();
    let root = old_session(&env, "p-root", 40.0, 1);
    subagent(&env, "p-sub-1", &root, 39.9);
    subagent(&env, "p-sub-2", &root, 39.8);
    // A session is renamed aside before it is removed; a file already there (no deletion
    // leaves one, so it is left alone) makes the rename fail, even for root.
    let blocker = env.store().join(".deleting-p-sub-1");
    std::fs::write(&blocker, "x").unwrap();

    let clean = env.run(&["retention", "clean", "--max-age-days", "30"]);
    assert_eq!(clean.code, 4, "{clean:?}");
    assert!(
        clean.stderr.contains("cannot delete p-sub-1")
            && clean
                .stderr
                .contains("kept p-root so that no subagent of it is left without it"),
        "{}",
        clean.stderr
    );
    assert!(
        clean.stdout.contains("Deleted 1 subagent session, "),
        "{}",
        clean.stdout
    );
    assert_eq!(
        listed_all(&env),
        [
            ("p-root".to_owned(), None),
            ("p-sub-1".to_owned(), Some("p-root".to_owned()))
        ]
    );

    // The same again, asked for JSON: the blocker is still there.
    subagent(&env, "p-sub-2", &root, 39.8);
    let second = folder_bytes(&env.store().join("p-sub-2"));
    let json = env.run(&[
        "retention",
        "clean",
        "--max-age-days",
        "30",
        "--format",
        "json",
    ]);
    assert_eq!(json.code, 4, "{json:?}");
    let report = json.json();
    assert_eq!(report["deleted"], json!(["p-sub-2"]));
    assert_eq!(report["freed_bytes"], second);
    assert!(report["plan"]["bytes_to_free"].as_u64().unwrap() > second);
}

/// A session folder that is the user's link to one kept on another disk (supported, README and
/// docs/security.md): `status` counted it as 0.0 KB, and `clean` said "Deleted 1 session",
/// logged the deletion and removed the link only, leaving every file there, after writing
/// `#moved away` into its events. Its size is what its folder there holds, and `clean` refuses
/// it, naming the link: nothing is written there, removed, claimed or logged.
#[test]
fn a_session_kept_through_the_users_link_is_counted_and_never_half_deleted() {
    let env = TestEnv::new();
    let id = old_session(&env, "l-a", 40.0, 64);
    let outside = env.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::rename(env.store().join(&id), outside.join(&id)).unwrap();
    std::os::unix::fs::symlink(outside.join(&id), env.store().join(&id)).unwrap();
    let events = std::fs::read(outside.join(&id).join("events.ndjson")).unwrap();
    let status = env.run(&[
        "retention",
        "status",
        "--max-age-days",
        "30",
        "--format",
        "json",
    ]);
    status.success();
    assert!(
        status.json()["plan"]["bytes_to_free"].as_u64().unwrap() > 64 * 1024,
        "{}",
        status.stdout
    );
    let run = env.run(&[
        "retention",
        "clean",
        "--max-age-days",
        "30",
        "--format",
        "json",
    ]);
    let report = run.json();
    assert_eq!(
        deleted_ids(&report),
        [(id.clone(), "max_age_days".to_owned())]
    );
    assert!(
        report["plan"]["delete"][0]["bytes"].as_u64().unwrap() > 64 * 1024,
        "{report}"
    );
    assert_eq!(report["deleted"], json!([]), "{report}");
    assert_eq!(report["freed_bytes"], 0, "{report}");
    assert_eq!(run.code, 4, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "{} is a link to {}",
            env.store().join(&id).display(),
            outside.join(&id).display()
        )),
        "{}",
        run.stderr
    );
    assert!(env.store().join(&id).is_symlink());
    assert_eq!(
        std::fs::read(outside.join(&id).join("events.ndjson")).unwrap(),
        events
    );
    assert!(!env.store().join("retention.log").exists());
}

/// A session chosen for deleting (idle, past a limit) could be written to between the plan and
/// its deletion (its agent resumed it): the new event went with the folder. A session whose
/// events were written since the plan saw them is put back and kept, and `clean` says so.
#[test]
fn a_session_written_while_clean_deletes_the_others_is_kept_with_its_new_event() {
    const OLD: usize = 3000;
    let env = TestEnv::new();
    let store = env.store();
    for i in 0..OLD {
        SessionBuilder::new(&format!("old-{i:05}"))
            .started(now() - 30.0 * DAY - i as f64)
            .prompt("p")
            .session_end(json!({}))
            .write(&env);
    }
    // The youngest of those past the limit: deleted last.
    let resumed = "00000000-0000-4000-8000-00000000beef";
    SessionBuilder::new(resumed)
        .started(now() - 2.0 * DAY)
        .prompt("first")
        .session_end(json!({}))
        .write(&env);
    env.run(&["list"]).success();
    let clean = env
        .command(&["retention", "clean", "--max-age-days", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once half of the old sessions are gone, the plan is made: the agent resumes the session.
    let sessions = || {
        std::fs::read_dir(&store)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("old-"))
            .count()
    };
    let started = std::time::Instant::now();
    while sessions() > OLD / 2 {
        assert!(started.elapsed().as_secs() < 120, "clean deleted nothing");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let still_deleting = sessions() > 0;
    env.hook(
        "user-prompt",
        &json!({"session_id": resumed, "hook_event_name": "UserPromptSubmit",
                "transcript_path": "/nonexistent.jsonl", "prompt": "resumed"}),
    )
    .success();
    let out = clean.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        still_deleting,
        "clean was done before the session was resumed"
    );
    assert_eq!(sessions(), 0, "{stderr}");
    let prompts: Vec<String> = env
        .events(resumed)
        .iter()
        .filter(|e| e["event_type"] == "user_prompt")
        .map(|e| e["data"]["prompt"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(prompts, ["first", "resumed"], "{stderr}");
    assert!(
        stderr.contains(&format!(
            "kept {resumed}: it was written to while being deleted"
        )),
        "{stderr}"
    );
}

/// The bytes of the regular files anywhere below `dir`, links not followed.
fn tree_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| match e.file_type().unwrap() {
            t if t.is_dir() => tree_bytes(&e.path()),
            t if t.is_file() => e.metadata().unwrap().len(),
            _ => 0,
        })
        .sum()
}

/// `retention status` gave as the store's size its sessions' files alone: the index and
/// `retention.log` beside them, and a session it could not read, were in no figure. Each is
/// said apart, and together they are what the store holds.
#[test]
fn status_counts_the_index_logs_and_unreadable_sessions_apart_from_the_sessions() {
    let env = TestEnv::new();
    old_session(&env, "z-a", 3.0, 4);
    old_session(&env, "z-b", 2.0, 4);
    let broken = env.store().join("z-broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(broken.join("meta.json"), "{not json".repeat(10_000)).unwrap();
    std::fs::write(env.store().join("retention.log"), "x\n".repeat(5_000)).unwrap();
    env.run(&["list"]);
    let status = env.run(&["retention", "status", "--format", "json"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    let report = status.json();
    let sessions = report["plan"]["total_bytes"].as_u64().unwrap();
    let beside = report["beside_sessions_bytes"].as_u64().unwrap();
    let unread = report["unreadable"]["bytes"].as_u64().unwrap();
    assert_eq!(report["unreadable"]["sessions"], 1, "{report}");
    assert_eq!(unread, tree_bytes(&broken), "{report}");
    let index = std::fs::metadata(env.store().join(".index.sqlite"))
        .unwrap()
        .len();
    assert!(beside >= index + 10_000, "{report}");
    assert_eq!(
        sessions + beside + unread,
        tree_bytes(&env.store()),
        "{report}"
    );

    let text = env.run(&["retention", "status"]);
    text.success();
    for said in [
        "in the sessions' files",
        "more in the index and logs",
        "1 session that cannot be read",
    ] {
        assert!(text.stdout.contains(said), "{said}: {}", text.stdout);
    }
}

/// `retention status` in a store that holds workspaces' stores counted `workspaces/` among the
/// index and logs beside the sessions: they are stores of their own, which no limit here
/// counts or deletes, and are said apart.
#[test]
fn status_counts_the_workspaces_stores_apart_from_the_index_and_logs() {
    let env = TestEnv::new();
    old_session(&env, "z-a", 3.0, 4);
    let payload = json!({"session_id": "w1", "cwd": env.path(), "hook_event_name": "UserPromptSubmit",
                         "prompt": "x".repeat(100_000)});
    let mut hook = env.command(&["hook", "user-prompt"]);
    hook.env("AGENT_STRACE_WORKSPACE", "ws");
    crate::common::run_with_stdin(hook, payload.to_string().as_bytes()).success();
    let workspaces = env.store().join("workspaces");
    let held = tree_bytes(&workspaces);
    assert!(held >= 100_000, "{held}");
    let status = env.run(&["retention", "status", "--format", "json"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    let report = status.json();
    let beside = report["beside_sessions_bytes"].as_u64().unwrap();
    assert!(beside < held, "{report}");
    assert_eq!(report["workspaces_bytes"], held, "{report}");
    let text = env.run(&["retention", "status"]);
    text.success();
    assert!(
        text.stdout.contains("in the workspaces' stores"),
        "{}",
        text.stdout
    );
}

/// A session stamped in 2099, its start and its events (a clock far ahead, a hand-edited
/// `meta.json`), was the newest for ever: `retention clean --max-sessions 1` deleted every real
/// session to keep it, and `list` and `replay` took it for the latest. It is dated nowhere: no
/// limit counts or deletes it, and it is listed after the real sessions.
#[test]
fn a_session_stamped_in_the_future_never_pushes_out_real_sessions() {
    let env = TestEnv::new();
    let older = old_session(&env, "s-older", 1.0, 1);
    let real = old_session(&env, "s-real", 0.1, 1);
    let ahead = SessionBuilder::new("s-ahead")
        .started(4_070_908_800.0)
        .prompt("x")
        .at(1.0)
        .session_end(json!({}))
        .write(&env);
    let clean = env.run(&[
        "retention",
        "clean",
        "--dry-run",
        "--max-sessions",
        "1",
        "--format",
        "json",
    ]);
    clean.success();
    let report = clean.json();
    assert_eq!(
        deleted_ids(&report),
        [(older, "max_sessions".to_owned())],
        "{report}"
    );
    assert_eq!(report["ahead_of_clock"]["sessions"], 1, "{report}");
    assert!(clean.stderr.contains(&ahead), "{}", clean.stderr);
    let listing = env.run(&["list", "--format", "json"]).json();
    let order: Vec<&str> = listing
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(order.first(), Some(&real.as_str()), "{listing}");
    assert_eq!(order.last(), Some(&ahead.as_str()), "{listing}");
    let replay = env.run(&["replay"]);
    replay.success();
    assert!(replay.stdout.contains(&real), "{}", replay.stdout);
}
