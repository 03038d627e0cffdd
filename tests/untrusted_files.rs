//! Issue 9, "files in the store are not trusted" and "a hook never fails the agent, even when
//! the machine does": links, FIFOs and devices planted in a store, corrupt metadata, unusable
//! session ids, and a machine that refuses to write. Every command runs under a time limit, so
//! a hang fails its test instead of holding the suite.

use std::io::{Read, Write};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Run, SessionBuilder, TestEnv};

const SID: &str = "9a0c7a52-3d1e-4c4f-9a57-0e2d9b1f6a10";
const OTHER: &str = "9b0c7a52-3d1e-4c4f-9a57-0e2d9b1f6a11";

/// Long enough for any of these commands on a loaded machine, short enough for a test.
const LIMIT: Duration = crate::common::wait::HANG;

/// Runs `cmd` (feeding it `stdin`), failing the test if it has not finished within [`LIMIT`].
fn run_within(cmd: Command, stdin: Option<&[u8]>) -> Run {
    run_limited(cmd, stdin, LIMIT)
}

/// [`run_within`], with a time limit of its own: a command that could hang on a FIFO fails its
/// test within seconds.
fn run_limited(mut cmd: Command, stdin: Option<&[u8]>, limit: Duration) -> Run {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn binary");
    if let Some(bytes) = stdin {
        let mut input = child.stdin.take().expect("stdin");
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            let _ = input.write_all(&bytes);
        });
    }
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = out.read_to_end(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = err.read_to_end(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
    }
}

fn run(env: &TestEnv, args: &[&str]) -> Run {
    run_within(env.command(args), None)
}

fn hook(env: &TestEnv, event: &str, payload: &Value) -> Run {
    let mut payload = payload.clone();
    payload["cwd"] = env.path().to_string_lossy().into_owned().into();
    let run = run_within(
        env.command(&["hook", event]),
        Some(payload.to_string().as_bytes()),
    );
    assert_eq!(run.code, 0, "{event}: {run:?}");
    assert!(run.stdout.is_empty(), "{event} printed: {run:?}");
    run
}

fn start(env: &TestEnv, sid: &str) {
    hook(
        env,
        "session-start",
        &json!({"session_id": sid, "hook_event_name": "SessionStart", "source": "startup",
                "transcript_path": "/nonexistent.jsonl"}),
    );
    prompt(env, sid, "hello");
}

fn prompt(env: &TestEnv, sid: &str, text: &str) {
    hook(
        env,
        "user-prompt",
        &json!({"session_id": sid, "hook_event_name": "UserPromptSubmit", "prompt": text}),
    );
}

fn tool_call(env: &TestEnv, sid: &str, id: &str) {
    hook(
        env,
        "pre-tool",
        &json!({"session_id": sid, "hook_event_name": "PreToolUse", "tool_name": "Bash",
                "tool_input": {"command": "ls"}, "tool_use_id": id}),
    );
}

/// A file outside the store that a planted link points at.
fn victim(env: &TestEnv) -> PathBuf {
    let path = env.path().join("victim.txt");
    std::fs::write(&path, "precious\n").unwrap();
    path
}

#[track_caller]
fn assert_untouched(path: &Path) {
    assert_eq!(std::fs::read_to_string(path).unwrap(), "precious\n");
}

fn listed(env: &TestEnv) -> (Vec<String>, Run) {
    let run = run(env, &["list", "--all", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let ids = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap().to_owned())
        .collect();
    (ids, run)
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

/// Gives a link to another user (nobody), or says why it cannot: only root may.
fn give_away(link: &Path) -> bool {
    std::os::unix::fs::lchown(link, Some(65534), Some(65534)).is_ok()
}

// Writers never follow a link planted in the store.

#[test]
fn a_linked_hook_error_log_is_not_appended_to() {
    let env = TestEnv::new();
    std::fs::create_dir(env.store()).unwrap();
    let victim = victim(&env);
    symlink(&victim, env.store().join("hook-errors.log")).unwrap();
    // Not JSON: the hook logs that it could not read the payload.
    let run = run_within(env.command(&["hook", "user-prompt"]), Some(b"{ nope"));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.is_empty());
    assert_untouched(&victim);
}

#[test]
fn a_linked_counters_file_is_not_overwritten() {
    let env = TestEnv::new();
    start(&env, SID);
    let victim = victim(&env);
    let counters = env.store().join(SID).join(".counters");
    std::fs::remove_file(&counters).unwrap();
    symlink(&victim, &counters).unwrap();
    tool_call(&env, SID, "toolu_1");
    prompt(&env, SID, "again");
    assert_untouched(&victim);
    // The events still land; only the counters' cache is refused.
    assert!(env.events(SID).len() >= 4);
}

/// While `.counters` (the session's lock and cache) was broken — a FIFO, a folder or a link in
/// its place — no hook could update `meta.json`: the events were written, `meta.json` kept
/// "tool_calls" 0 after two calls, and `hook-errors.log` said "the meta … cannot be updated"
/// on every hook. The hook folds every event and writes meta without the cache, never
/// opening the FIFO so that it could wait, and leaves what is there alone.
#[test]
fn a_broken_counters_file_does_not_stop_meta_being_updated() {
    for plant in ["fifo", "folder", "link"] {
        let env = TestEnv::new();
        start(&env, SID);
        let counters = env.store().join(SID).join(".counters");
        let victim = victim(&env);
        std::fs::remove_file(&counters).unwrap();
        match plant {
            "fifo" => rustix::fs::mkfifoat(
                rustix::fs::CWD,
                &counters,
                rustix::fs::Mode::from_raw_mode(0o600),
            )
            .unwrap(),
            "folder" => std::fs::create_dir(&counters).unwrap(),
            _ => symlink(&victim, &counters).unwrap(),
        }
        let began = Instant::now();
        tool_call(&env, SID, "toolu_1");
        tool_call(&env, SID, "toolu_2");
        assert!(began.elapsed() < Duration::from_secs(10), "{plant}");
        assert_eq!(env.meta(SID)["tool_calls"], 2, "{plant}");
        let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap_or_default();
        assert!(!log.contains("cannot be updated"), "{plant}: {log}");
        let kind = std::fs::symlink_metadata(&counters).unwrap().file_type();
        assert!(!kind.is_file(), "{plant}: left as it was");
        assert_untouched(&victim);
    }
}

#[test]
fn a_linked_events_file_is_not_appended_to() {
    let env = TestEnv::new();
    start(&env, SID);
    let victim = victim(&env);
    let events = env.store().join(SID).join("events.ndjson");
    std::fs::remove_file(&events).unwrap();
    symlink(&victim, &events).unwrap();
    prompt(&env, SID, "again");
    tool_call(&env, SID, "toolu_1");
    assert_untouched(&victim);
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
    assert!(log.contains("symbolic link"), "{log}");
}

#[test]
fn a_linked_meta_file_is_not_written_through() {
    let env = TestEnv::new();
    start(&env, SID);
    let victim = victim(&env);
    let meta = env.store().join(SID).join("meta.json");
    std::fs::remove_file(&meta).unwrap();
    symlink(&victim, &meta).unwrap();
    // A tool call changes a figure meta.json shows: meta would be rewritten.
    tool_call(&env, SID, "toolu_1");
    assert_untouched(&victim);
}

#[test]
fn a_linked_spare_meta_file_is_not_written_through() {
    let env = TestEnv::new();
    start(&env, SID);
    let victim = victim(&env);
    let spare = env.store().join(SID).join(".meta.spare");
    let _ = std::fs::remove_file(&spare);
    symlink(&victim, &spare).unwrap();
    tool_call(&env, SID, "toolu_1");
    tool_call(&env, SID, "toolu_2");
    assert_untouched(&victim);
}

#[test]
fn a_linked_pending_folder_is_not_written_into() {
    let env = TestEnv::new();
    start(&env, SID);
    let elsewhere = env.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    symlink(&elsewhere, env.store().join(SID).join(".pending")).unwrap();
    tool_call(&env, SID, "toolu_1");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}

#[test]
fn a_linked_index_is_not_written_through() {
    let env = TestEnv::new();
    start(&env, SID);
    let victim = victim(&env);
    for name in [".index.sqlite", ".index.sqlite-wal", ".index.sqlite-shm"] {
        let _ = std::fs::remove_file(env.store().join(name));
        symlink(&victim, env.store().join(name)).unwrap();
        let (ids, run) = listed(&env);
        assert_eq!(ids, [SID], "{name}");
        assert!(run.stderr.contains("index cannot be used"), "{run:?}");
        assert_untouched(&victim);
        std::fs::remove_file(env.store().join(name)).unwrap();
    }
}

#[test]
fn a_store_linked_by_its_owner_is_used_and_one_linked_by_someone_else_is_not() {
    let env = TestEnv::new();
    let elsewhere = env.path().join("traces-elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    symlink(&elsewhere, env.store()).unwrap();
    start(&env, SID);
    assert!(elsewhere.join(SID).join("events.ndjson").is_file());
    assert_eq!(listed(&env).0, [SID]);
    if !give_away(&env.store()) {
        eprintln!("not root: a link owned by another user cannot be made here");
        return;
    }
    prompt(&env, SID, "planted");
    assert!(
        !std::fs::read_to_string(elsewhere.join(SID).join("events.ndjson"))
            .unwrap()
            .contains("planted")
    );
    let refused = run(&env, &["list"]);
    assert_eq!(refused.code, 3, "{refused:?}");
    assert!(
        refused.stderr.contains("owned by another user"),
        "{refused:?}"
    );
}

#[test]
fn a_session_folder_linked_by_someone_else_is_not_written_into() {
    let env = TestEnv::new();
    start(&env, OTHER);
    let elsewhere = env.path().join("their-folder");
    std::fs::create_dir(&elsewhere).unwrap();
    symlink(&elsewhere, env.store().join(SID)).unwrap();
    if !give_away(&env.store().join(SID)) {
        eprintln!("not root: a link owned by another user cannot be made here");
        return;
    }
    start(&env, SID);
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    // What the other user puts there is not read either.
    SessionBuilder::new(SID).prompt("theirs").write(&env);
    let (ids, run) = listed(&env);
    assert_eq!(ids, [OTHER]);
    assert!(run.stderr.contains("owned by another user"), "{run:?}");
}

// Readers neither hang nor abort on what is not a regular file, and one bad session does not
// stop a command that reads them all.

/// Two sessions, one of which then gets `plant` done to it; the store-wide commands must go on
/// without it and say so.
fn store_wide_commands_survive(plant: impl FnOnce(&Path)) {
    let env = TestEnv::new();
    start(&env, OTHER);
    start(&env, SID);
    plant(&env.store().join(SID));
    let (ids, listing) = listed(&env);
    assert_eq!(ids, [OTHER], "{listing:?}");
    assert_eq!(
        listing.stderr.matches(SID).count(),
        1,
        "one warning for the bad session: {listing:?}"
    );
    for args in [
        vec!["budget-report", "--format", "json"],
        vec!["replay", "--tree", OTHER],
        vec!["stats", OTHER],
    ] {
        let run = run(&env, &args);
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
    }
    // Named on its own, the bad session is an error (exit 3), on one line.
    for args in [vec!["replay", SID], vec!["stats", SID]] {
        let run = run(&env, &args);
        assert!(run.code == 3 || run.code == 0, "{args:?}: {run:?}");
        assert!(!run.stderr.contains("panicked"), "{run:?}");
    }
    // `inspect` prints its document whole or not at all: before, the meta and the start of
    // the events array came out before the error.
    let inspected = run(&env, &["inspect", SID]);
    if inspected.code != 0 {
        assert_eq!(inspected.stdout, "", "{inspected:?}");
        assert_eq!(inspected.stderr.lines().count(), 1, "{inspected:?}");
    }
}

#[test]
fn events_linked_to_dev_zero_do_not_abort_the_store() {
    store_wide_commands_survive(|dir| {
        std::fs::remove_file(dir.join("events.ndjson")).unwrap();
        symlink("/dev/zero", dir.join("events.ndjson")).unwrap();
    });
}

#[test]
fn events_linked_to_dev_urandom_do_not_hang_the_store() {
    store_wide_commands_survive(|dir| {
        std::fs::remove_file(dir.join("events.ndjson")).unwrap();
        symlink("/dev/urandom", dir.join("events.ndjson")).unwrap();
    });
}

#[test]
fn events_as_a_fifo_do_not_hang_the_store() {
    store_wide_commands_survive(|dir| {
        std::fs::remove_file(dir.join("events.ndjson")).unwrap();
        mkfifo(&dir.join("events.ndjson"));
    });
}

#[test]
fn meta_as_a_fifo_does_not_hang_the_store() {
    let env = TestEnv::new();
    start(&env, OTHER);
    start(&env, SID);
    let meta = env.store().join(SID).join("meta.json");
    std::fs::remove_file(&meta).unwrap();
    mkfifo(&meta);
    // The events are there: the session is shown as they tell it, with a warning.
    let (ids, listing) = listed(&env);
    assert_eq!(ids.len(), 2, "{listing:?}");
    assert!(listing.stderr.contains("FIFO"), "{listing:?}");
    for args in [
        vec!["budget-report", "--format", "json"],
        vec!["replay", "--tree", OTHER],
        vec!["replay", SID],
    ] {
        let run = run(&env, &args);
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
    }
}

#[test]
fn a_line_longer_than_any_event_is_skipped_and_counted() {
    let env = TestEnv::new();
    let builder = SessionBuilder::new(SID)
        .prompt("before")
        .at(1.0)
        .tool_call("Bash", json!({"command": "ls"}));
    let id = builder.clone().write(&env);
    let path = env.store().join(&id).join("events.ndjson");
    let lines = builder.ndjson();
    let (first, rest) = lines.split_once('\n').unwrap();
    // 80 MiB of zero bytes as one line (a sparse file costs no disk), between two events.
    let file = std::fs::File::create(&path).unwrap();
    let head = format!("{first}\n");
    let gap = 80 * 1024 * 1024;
    std::os::unix::fs::FileExt::write_all_at(&file, head.as_bytes(), 0).unwrap();
    let tail = format!("\n{rest}");
    std::os::unix::fs::FileExt::write_all_at(&file, tail.as_bytes(), (head.len() + gap) as u64)
        .unwrap();
    drop(file);
    let replay = run(&env, &["replay", SID]);
    assert_eq!(replay.code, 0, "{replay:?}");
    assert!(replay.stdout.contains("before") && replay.stdout.contains("ls"));
    assert!(
        replay
            .stderr
            .contains(":2: skipped a malformed line (longer than 64 MiB"),
        "{}",
        replay.stderr
    );
    let stats = run(&env, &["stats", SID, "--format", "json"]);
    assert_eq!(stats.code, 0, "{stats:?}");
    assert_eq!(stats.json()["tool_calls"], 1);
    let (ids, _) = listed(&env);
    assert_eq!(ids, [SID]);
}

/// A session recorded by hooks whose `session_start` names `transcript` as its transcript.
fn session_with_transcript(env: &TestEnv, transcript: &Path) {
    hook(
        env,
        "session-start",
        &json!({"session_id": SID, "hook_event_name": "SessionStart", "source": "startup",
                "transcript_path": transcript}),
    );
    prompt(env, SID, "hello");
}

fn transcript_readers_survive(transcript: &Path) {
    let env = TestEnv::new();
    session_with_transcript(&env, transcript);
    for args in [
        vec!["cost", SID, "--format", "json"],
        vec!["explain", SID, "--format", "json"],
        vec!["budget-report", "--format", "json"],
    ] {
        let run = run(&env, &args);
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
    }
    hook(
        &env,
        "stop",
        &json!({"session_id": SID, "hook_event_name": "Stop", "transcript_path": transcript}),
    );
    // The answer it could not read is said in the hook's log (it was skipped in silence).
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap_or_default();
    assert!(
        log.contains("the agent's answer was not read") && log.contains("not a regular file"),
        "{log}"
    );
}

#[test]
fn a_transcript_path_to_dev_zero_neither_aborts_nor_hangs() {
    transcript_readers_survive(Path::new("/dev/zero"));
}

#[test]
fn a_transcript_path_to_a_fifo_neither_aborts_nor_hangs() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("transcript.jsonl");
    mkfifo(&fifo);
    transcript_readers_survive(&fifo);
}

// A corrupt meta.json does not hide the events beside it.

#[test]
fn a_corrupt_meta_is_described_by_its_events() {
    let env = TestEnv::new();
    let id = SessionBuilder::new(SID)
        .prompt("fix it")
        .at(2.0)
        .tool_call("Bash", json!({"command": "make"}))
        .at(3.0)
        .result(json!("ok"))
        .write(&env);
    std::fs::write(env.store().join(&id).join("meta.json"), [0xff, 0xfe, b'{']).unwrap();
    let (ids, listing) = listed(&env);
    assert_eq!(ids, [SID], "{listing:?}");
    let session = &listing.json()[0];
    assert_eq!(session["tool_calls"], 1);
    assert_eq!(session["started_at"], crate::common::session::T0);
    assert_eq!(session["first_prompt"], "fix it");
    assert!(listing.stderr.contains("meta.json"), "{listing:?}");
    let replay = run(&env, &["replay", SID]);
    assert_eq!(replay.code, 0, "{replay:?}");
    assert!(replay.stdout.contains("make"), "{replay:?}");
    assert!(replay.stderr.contains("not UTF-8"), "{replay:?}");
    let stats = run(&env, &["stats", SID, "--format", "json"]);
    assert_eq!(stats.code, 0, "{stats:?}");
    assert_eq!(stats.json()["tool_calls"], 1);
    // The sql view lists it too.
    let sql = run(
        &env,
        &[
            "sql",
            "SELECT session_id, tool_calls FROM sessions",
            "--format",
            "json",
        ],
    );
    assert_eq!(sql.code, 0, "{sql:?}");
    assert!(sql.stdout.contains(SID), "{sql:?}");
}

// Session ids that draw deceptively are unusable.

#[test]
fn ids_with_bidi_or_zero_width_characters_are_refused() {
    let env = TestEnv::new();
    for sid in [
        "abc\u{202E}fdp",
        "\u{200B}",
        "a\u{200D}b",
        "\u{2066}x\u{2069}",
    ] {
        hook(
            &env,
            "user-prompt",
            &json!({"session_id": sid, "hook_event_name": "UserPromptSubmit", "prompt": "hi"}),
        );
    }
    assert!(env.sessions().is_empty(), "{:?}", env.sessions());
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
    assert_eq!(
        log.matches("cannot name a session folder").count(),
        4,
        "{log}"
    );
    // The log shows the ids escaped, not drawn.
    assert!(
        log.contains("\\u{202e}") && !log.contains('\u{202E}'),
        "{log}"
    );
}

// A hook never fails the agent, even when the machine does.

#[test]
fn a_file_size_limit_does_not_kill_the_hook() {
    let env = TestEnv::new();
    start(&env, SID);
    // The events file already past the limit: every append fails.
    let events = env.store().join(SID).join("events.ndjson");
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(&events)
        .unwrap();
    file.set_len(256 * 1024).unwrap();
    drop(file);
    let payload = json!({"session_id": SID, "hook_event_name": "UserPromptSubmit",
                         "prompt": "over the limit", "cwd": env.path()});
    let inner = env.command(&["hook", "user-prompt"]);
    // Several runs: without the fix the signal killed most of them, not every one.
    for _ in 0..5 {
        let mut limited = Command::new("sh");
        limited
            .arg("-c")
            .arg("ulimit -f 64; exec \"$0\" \"$@\"")
            .arg(inner.get_program())
            .args(inner.get_args())
            .current_dir(env.path())
            .env_remove("AGENT_TRACE_DIR")
            .env_remove("CLAUDE_PROJECT_DIR");
        let run = run_within(limited, Some(payload.to_string().as_bytes()));
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.is_empty());
    }
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
    assert!(log.contains("File too large"), "{log}");
}

/// A hook that fails and cannot log it (the store's place is taken by a file), so that it
/// falls back to stderr, with stderr set by `stderr`.
fn hook_with_unwritable_stderr(stderr: impl FnOnce(&mut Command)) -> i32 {
    let env = TestEnv::new();
    std::fs::write(env.store(), "not a folder").unwrap();
    let payload = json!({"session_id": SID, "hook_event_name": "UserPromptSubmit",
                         "prompt": "hi", "cwd": env.path()});
    let mut cmd = env.command(&["hook", "user-prompt"]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    stderr(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    // A closed pipe: its reading end is gone before the hook writes.
    drop(child.stderr.take());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(payload.to_string().as_bytes()).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(output.stdout.is_empty());
    output.status.code().unwrap_or(-1)
}

#[test]
fn a_full_stderr_does_not_make_the_hook_fail() {
    let code = hook_with_unwritable_stderr(|cmd| {
        cmd.stderr(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        );
    });
    assert_eq!(code, 0);
}

#[test]
fn a_closed_stderr_does_not_make_the_hook_fail() {
    let code = hook_with_unwritable_stderr(|cmd| {
        cmd.stderr(Stdio::piped());
    });
    assert_eq!(code, 0);
}

#[test]
fn a_payload_cwd_that_does_not_exist_creates_no_folders() {
    let env = TestEnv::new();
    let missing = env.path().join("gone").join("deeper");
    let payload = json!({"session_id": SID, "hook_event_name": "UserPromptSubmit",
                         "prompt": "hi", "cwd": missing});
    let run = run_within(
        env.command(&["hook", "user-prompt"]),
        Some(payload.to_string().as_bytes()),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!env.path().join("gone").exists());
    // Recorded where the hook runs instead.
    assert_eq!(env.sessions(), [SID]);
}

#[test]
fn a_trace_dir_whose_parent_is_missing_is_not_created() {
    let env = TestEnv::new();
    let deep = env.path().join("a").join("b").join(".agent-traces");
    let payload = json!({"session_id": SID, "hook_event_name": "UserPromptSubmit", "prompt": "hi"});
    let run = run_within(
        env.command(&["--trace-dir", deep.to_str().unwrap(), "hook", "user-prompt"]),
        Some(payload.to_string().as_bytes()),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!env.path().join("a").exists());
}

/// No `println!`/`eprintln!` in the binary's code: they panic when the stream cannot be
/// written (a closed pipe, a full disk), outside any guard. Output goes through writers whose
/// errors are handled (`cli::output`).
#[test]
fn no_printing_macro_can_panic_on_a_closed_stream() {
    let mut offenders = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                if ["println!(", "eprintln!(", "print!(", "eprint!("]
                    .iter()
                    .any(|m| code.contains(m))
                {
                    offenders.push(format!("{}:{}", path.display(), n + 1));
                }
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

/// What a command that may not wait on a FIFO gets: far more than it needs, on a machine 10
/// times slower than usual too (one waiting on a FIFO waits for ever).
const FIFO_LIMIT: Duration = Duration::from_secs(60);

/// The agents' folders are theirs, and whatever they run can write there: a link in them may
/// point at `/etc/shadow`, `/dev/zero`, a FIFO or a huge file elsewhere. `import --discover`
/// and `--all` followed every link there (a transcript, a project folder, a Codex rollout, a
/// Copilot session folder); now none is followed, and each is said on one line. A FIFO or a
/// device there named as a log is never opened, and is said too (it was passed over without a
/// word).
#[test]
fn import_all_and_discover_follow_no_link_in_the_agents_folders() {
    let env = TestEnv::new();
    let real = crate::common::shared()
        .join("corpus/claude-code/moredip__session-share/general-tool-calls.jsonl");
    let elsewhere = env.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let claude = env.path().join("claude");
    let project = claude.join("projects").join("-work-app");
    std::fs::create_dir_all(&project).unwrap();
    // The one log the agents' folders hold as files.
    std::fs::copy(
        &real,
        project.join("88f04c6a-d128-40bf-96b3-6b2aa787f62c.jsonl"),
    )
    .unwrap();
    mkfifo(&project.join("a1a1a1a1-0000-4000-8000-000000000001.jsonl"));
    let mut links = vec![
        (
            project.join("a1a1a1a1-0000-4000-8000-000000000002.jsonl"),
            PathBuf::from("/dev/zero"),
        ),
        (
            project.join("agent-a1a1a1a1.jsonl"),
            PathBuf::from("/dev/urandom"),
        ),
        (project.join("linked.jsonl"), real.clone()),
        (
            claude.join("projects").join("-linked-project"),
            elsewhere.clone(),
        ),
    ];
    std::fs::copy(
        &real,
        elsewhere.join("b2b2b2b2-0000-4000-8000-000000000002.jsonl"),
    )
    .unwrap();
    let fifo = elsewhere.join("fifo");
    mkfifo(&fifo);
    let codex = env.path().join("codex");
    std::fs::create_dir_all(codex.join("sessions/2026/11/30")).unwrap();
    links.push((
        codex.join("sessions/2026/11/30/rollout-2026-11-30T05-39-48-01a22af7.jsonl"),
        fifo.clone(),
    ));
    links.push((codex.join("sessions/2026/12"), elsewhere.clone()));
    let copilot = env.path().join("copilot");
    let session = copilot.join("session-state/16a807fe-9154-4ae3-8cdc-bbf634e14bb4");
    std::fs::create_dir_all(&session).unwrap();
    links.push((session.join("events.jsonl"), fifo.clone()));
    links.push((
        copilot.join("session-state/26a807fe-9154-4ae3-8cdc-bbf634e14bb4"),
        elsewhere.clone(),
    ));
    for (link, target) in &links {
        symlink(target, link).unwrap();
    }
    let command = |args: &[&str]| {
        let mut cmd = env.command(args);
        cmd.env("HOME", env.path().join("home"))
            .env("CLAUDE_CONFIG_DIR", &claude)
            .env("CODEX_HOME", &codex)
            .env("COPILOT_HOME", &copilot)
            .env_remove("GEMINI_CLI_HOME");
        cmd
    };

    let found = run_limited(
        command(&["import", "--discover", "--format", "json"]),
        None,
        FIFO_LIMIT,
    );
    assert_eq!(found.code, 0, "{}", found.stderr);
    let paths: Vec<String> = found
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert!(
        paths[0].ends_with("88f04c6a-d128-40bf-96b3-6b2aa787f62c.jsonl"),
        "{paths:?}"
    );
    // Each link said once, on a line of its own.
    let said: Vec<&str> = found
        .stderr
        .lines()
        .filter(|l| l.contains("a symbolic link in an agent's folder, not followed"))
        .collect();
    assert_eq!(said.len(), links.len(), "{}", found.stderr);
    let fifo_said = format!(
        "{}: a FIFO, not a regular file: left out, never opened",
        project
            .join("a1a1a1a1-0000-4000-8000-000000000001.jsonl")
            .display()
    );
    assert_eq!(
        found.stderr.matches(&fifo_said).count(),
        1,
        "{}",
        found.stderr
    );
    for (link, _) in &links {
        let name = link.to_str().unwrap();
        assert!(
            said.iter().any(|l| l.contains(name)),
            "{name}: {}",
            found.stderr
        );
    }

    // One store (--trace-dir): the transcript's project folder is on no machine here.
    let all = run_limited(
        command(&["--trace-dir", ".agent-traces", "import", "--all"]),
        None,
        FIFO_LIMIT,
    );
    assert_eq!(all.code, 0, "{}", all.stderr);
    assert_eq!(env.sessions().len(), 1, "{}", all.stdout);
}

/// A FIFO named as a log is in a folder named to `import` (a Codex rollout, a Claude Code
/// transcript) was passed over without a word, unlike a link or a file that is no log: it is
/// said, once, and never opened (a FIFO would hold the import); the log beside it is imported.
#[test]
fn a_fifo_named_as_a_log_in_a_folder_named_to_import_is_said_never_opened() {
    const FIFO_ID: &str = "0199aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee";
    let env = TestEnv::new();
    let logs = env.path().join("logs");
    let claude = logs.join(".claude/projects/-home-me-app");
    let codex = logs.join(".codex/sessions/2026/01/01");
    std::fs::create_dir_all(&claude).unwrap();
    std::fs::create_dir_all(&codex).unwrap();
    let session = "0ccf1a04-1b4c-43b6-8aa5-79e41db43a68";
    std::fs::copy(
        crate::common::shared().join(format!(
            "corpus/claude-code/moredip__session-share/{session}.jsonl"
        )),
        claude.join(format!("{session}.jsonl")),
    )
    .unwrap();
    let fifos = [
        claude.join(format!("{FIFO_ID}.jsonl")),
        codex.join(format!("rollout-2026-01-01T00-00-00-{FIFO_ID}.jsonl")),
    ];
    for fifo in &fifos {
        mkfifo(fifo);
    }

    let run = run_limited(
        env.command(&["import", logs.to_str().unwrap(), "--format", "json"]),
        None,
        FIFO_LIMIT,
    );
    assert_eq!(run.code, 0, "{run:?}");
    let ids = run.session_ids();
    assert_eq!(ids, [session], "{}", run.stdout);
    for fifo in &fifos {
        let said = format!(
            "{}: a FIFO, not a regular file: left out, never opened",
            fifo.display()
        );
        assert_eq!(run.stderr.matches(&said).count(), 1, "{}", run.stderr);
    }
}

/// A FIFO named as a Gemini CLI chat (`~/.gemini/tmp/<project>/chats/session-*.jsonl`), as a
/// Copilot CLI session's `events.jsonl`, or as a subagent's transcript beside a Claude Code
/// transcript, in the agents' default folders, was passed over by `import --discover` and
/// `--all` without a word, where one named as a Codex rollout or a transcript is said. Each is
/// said, once, and never opened; the transcript beside them is imported.
#[test]
fn a_fifo_in_gemini_copilot_or_subagents_default_folders_is_said_never_opened() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    let chats = home.join(".gemini/tmp/3f2a/chats");
    let copilot = home.join(".copilot/session-state/36a807fe-9154-4ae3-8cdc-bbf634e14bb4");
    let id = "4b2030ed-5563-49ea-b703-6a002f2d3cc8";
    let project = home.join(".claude/projects/-work-app");
    for folder in [&chats, &copilot, &project.join(id).join("subagents")] {
        std::fs::create_dir_all(folder).unwrap();
    }
    std::fs::copy(
        crate::common::shared().join(format!(
            "corpus/claude-code/moredip__session-share/{id}.jsonl"
        )),
        project.join(format!("{id}.jsonl")),
    )
    .unwrap();
    let listed = [
        chats.join("session-2026-01-01T00-00-0199aaaa.jsonl"),
        copilot.join("events.jsonl"),
    ];
    let subagent = project.join(id).join("subagents/agent-b3b3b3b.jsonl");
    for fifo in listed.iter().chain([&subagent]) {
        mkfifo(fifo);
    }
    // Named otherwise than a chat, a FIFO there is no log, and not said.
    mkfifo(&chats.join("notes.txt"));
    let command = |args: &[&str]| {
        let mut cmd = env.command(args);
        cmd.env("HOME", &home)
            .env_remove("CODEX_HOME")
            .env_remove("COPILOT_HOME")
            .env_remove("GEMINI_CLI_HOME");
        cmd
    };
    let said = |fifo: &Path| {
        format!(
            "{}: a FIFO, not a regular file: left out, never opened",
            fifo.display()
        )
    };

    let found = run_limited(
        command(&["import", "--discover", "--format", "json"]),
        None,
        FIFO_LIMIT,
    );
    assert_eq!(found.code, 0, "{found:?}");
    assert_eq!(
        found.json().as_array().unwrap().len(),
        1,
        "{}",
        found.stdout
    );
    for fifo in &listed {
        assert_eq!(
            found.stderr.matches(&said(fifo)).count(),
            1,
            "{}",
            found.stderr
        );
    }
    assert!(!found.stderr.contains("notes.txt"), "{}", found.stderr);

    let all = run_limited(
        command(&["--trace-dir", ".agent-traces", "import", "--all"]),
        None,
        FIFO_LIMIT,
    );
    assert_eq!(all.code, 0, "{all:?}");
    assert_eq!(env.sessions(), [id], "{}", all.stdout);
    for fifo in listed.iter().chain([&subagent]) {
        assert_eq!(all.stderr.matches(&said(fifo)).count(), 1, "{}", all.stderr);
    }
}

/// `import --discover` listed a Claude Code transcript and a Gemini CLI chat whose subagents'
/// folders held a FIFO and a link named as a subagent's log, and said nothing of them, where
/// importing the file says each. It says each as the import does, once, and opens and follows
/// none.
#[test]
fn discover_says_a_fifo_or_link_among_subagents_as_import_does() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    let id = "4b2030ed-5563-49ea-b703-6a002f2d3cc8";
    let project = home.join(".claude/projects/-work-app");
    let subagents = project.join(id).join("subagents");
    let gemini = "0ab84937-9fe7-4284-986a-33c832af0b6a";
    let chats = home.join(".gemini/tmp/3f2a/chats");
    for folder in [&subagents, &chats.join(gemini)] {
        std::fs::create_dir_all(folder).unwrap();
    }
    let transcript = project.join(format!("{id}.jsonl"));
    let corpus = crate::common::shared().join("corpus");
    std::fs::copy(
        corpus.join(format!("claude-code/moredip__session-share/{id}.jsonl")),
        &transcript,
    )
    .unwrap();
    let chat = chats.join("session-2026-04-23T12-52-0ab84937.jsonl");
    std::fs::copy(
        corpus.join("gemini/Mai0313__VibeCodingTracker/gemini-session.jsonl"),
        &chat,
    )
    .unwrap();
    let (fifo, link) = (
        subagents.join("agent-b3b3b3b.jsonl"),
        subagents.join("agent-c4c4c4c.jsonl"),
    );
    let (chat_fifo, chat_link) = (
        chats.join(gemini).join("agent-fifo.jsonl"),
        chats.join(gemini).join("agent-link.jsonl"),
    );
    for planted in [&fifo, &chat_fifo] {
        mkfifo(planted);
    }
    for planted in [&link, &chat_link] {
        symlink("/dev/zero", planted).unwrap();
    }
    let found = run_limited(
        {
            let mut cmd = env.command(&["import", "--discover", "--format", "json"]);
            cmd.env("HOME", &home)
                .env_remove("CLAUDE_CONFIG_DIR")
                .env_remove("CODEX_HOME")
                .env_remove("COPILOT_HOME")
                .env_remove("GEMINI_CLI_HOME");
            cmd
        },
        None,
        FIFO_LIMIT,
    );
    assert_eq!(found.code, 0, "{found:?}");
    assert_eq!(
        found.json().as_array().unwrap().len(),
        2,
        "{}",
        found.stdout
    );
    let fifo_said = |main: &Path, fifo: &Path| {
        format!(
            "warning: {}: {}: a FIFO, not a regular file: left out, never opened\n",
            main.display(),
            fifo.display()
        )
    };
    let link_said = |main: &Path, link: &Path, what: &str| {
        format!(
            "warning: {}: {}: a symbolic link among its subagents' {what}, not followed\n",
            main.display(),
            link.display()
        )
    };
    for said in [
        fifo_said(&transcript, &fifo),
        link_said(&transcript, &link, "transcripts"),
        fifo_said(&chat, &chat_fifo),
        link_said(&chat, &chat_link, "chats"),
    ] {
        assert_eq!(
            found.stderr.matches(&said).count(),
            1,
            "{said}: {}",
            found.stderr
        );
    }
    // Importing the transcript says its two the same way.
    let imported = run_limited(
        env.command(&["import", transcript.to_str().unwrap()]),
        None,
        FIFO_LIMIT,
    );
    assert_eq!(imported.code, 0, "{imported:?}");
    for said in [
        fifo_said(&transcript, &fifo),
        link_said(&transcript, &link, "transcripts"),
    ] {
        assert_eq!(
            imported.stderr.matches(&said).count(),
            1,
            "{said}: {}",
            imported.stderr
        );
    }
}

/// Gemini CLI keeps a session's subagents' chats in `chats/<session id>/`: a FIFO or a link
/// there named as a chat was passed over without a word. Each is said, once, and never opened
/// or followed; the chat beside them is imported.
#[test]
fn a_fifo_or_link_among_a_gemini_chats_subagents_is_said_never_opened() {
    let env = TestEnv::new();
    let session = "0ab84937-9fe7-4284-986a-33c832af0b6a";
    let chats = env.path().join("chats");
    let subagents = chats.join(session);
    std::fs::create_dir_all(&subagents).unwrap();
    let chat = chats.join("session-2026-04-23T12-52-0ab84937.jsonl");
    std::fs::copy(
        crate::common::shared()
            .join("corpus/gemini/Mai0313__VibeCodingTracker/gemini-session.jsonl"),
        &chat,
    )
    .unwrap();
    let fifo = subagents.join("agent-fifo.jsonl");
    mkfifo(&fifo);
    let link = subagents.join("agent-link.jsonl");
    symlink("/dev/zero", &link).unwrap();

    let run = run_limited(
        env.command(&["import", chat.to_str().unwrap()]),
        None,
        FIFO_LIMIT,
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(env.sessions(), [session], "{}", run.stdout);
    for said in [
        format!(
            "{}: a FIFO, not a regular file: left out, never opened",
            fifo.display()
        ),
        format!(
            "{}: a symbolic link among its subagents' chats, not followed",
            link.display()
        ),
    ] {
        assert_eq!(
            run.stderr.matches(&said).count(),
            1,
            "{said}: {}",
            run.stderr
        );
    }
}

/// A file named to `import` is the user's choice: a link named there is followed (to a regular
/// file only; a FIFO is refused at once, saying so). The subagents' folder beside it is the
/// agent's: a link there is not followed but said, and a FIFO there is never opened but said
/// (it was passed over without a word). An import waited forever on a FIFO among a
/// transcript's subagents.
#[test]
fn import_follows_a_link_it_is_named_and_no_link_or_fifo_among_subagents() {
    let env = TestEnv::new();
    let corpus = crate::common::shared().join("corpus/claude-code/moredip__session-share");
    let id = "4b2030ed-5563-49ea-b703-6a002f2d3cc8";
    let dir = env.path().join("logs");
    std::fs::create_dir_all(dir.join(id).join("subagents")).unwrap();
    std::fs::copy(
        corpus.join(format!("{id}.jsonl")),
        dir.join(format!("{id}.jsonl")),
    )
    .unwrap();
    std::fs::copy(
        corpus.join(id).join("subagents/agent-a2018e5.jsonl"),
        dir.join(id).join("subagents/agent-a2018e5.jsonl"),
    )
    .unwrap();
    mkfifo(&dir.join(id).join("subagents/agent-b3b3b3b.jsonl"));
    symlink(
        "/dev/zero",
        dir.join(id).join("subagents/agent-c4c4c4c.jsonl"),
    )
    .unwrap();
    let named = env.path().join("named.jsonl");
    symlink(dir.join(format!("{id}.jsonl")), &named).unwrap();

    let imported = run_limited(
        env.command(&["import", dir.join(format!("{id}.jsonl")).to_str().unwrap()]),
        None,
        FIFO_LIMIT,
    );
    assert_eq!(imported.code, 0, "{imported:?}");
    assert_eq!(env.sessions().len(), 2, "{imported:?}");
    assert!(
        imported.stderr.contains(
            "agent-c4c4c4c.jsonl: a symbolic link among its subagents' transcripts, not followed"
        ),
        "{}",
        imported.stderr
    );
    let fifo_said = format!(
        "{}: a FIFO, not a regular file: left out, never opened",
        dir.join(id).join("subagents/agent-b3b3b3b.jsonl").display()
    );
    assert_eq!(
        imported.stderr.matches(&fifo_said).count(),
        1,
        "{}",
        imported.stderr
    );

    let through_link = run_limited(
        env.command(&["import", named.to_str().unwrap(), "--format", "json"]),
        None,
        FIFO_LIMIT,
    );
    assert_eq!(through_link.code, 0, "{through_link:?}");
    assert_eq!(through_link.json()[0]["session_id"], id);

    let fifo = env.path().join("fifo.jsonl");
    mkfifo(&fifo);
    let to_fifo = env.path().join("to-fifo.jsonl");
    symlink(&fifo, &to_fifo).unwrap();
    for file in [&fifo, &to_fifo] {
        let refused = run_limited(
            env.command(&["import", file.to_str().unwrap()]),
            None,
            FIFO_LIMIT,
        );
        assert_eq!(refused.code, 3, "{refused:?}");
        assert!(refused.stderr.contains("not a regular file"), "{refused:?}");
    }
}

/// A session's start reads the git repository of the agent's folder (or above it) for its
/// branch and commit, from git's files: a FIFO in the place of `.git`, `.git/HEAD` or a ref
/// held the session-start hook, and so the agent, forever. Anyone who can write above a
/// project can make one (`/tmp/.git` covers every project under `/tmp`).
#[test]
fn a_fifo_in_a_git_folder_does_not_hold_the_session_start() {
    for plant in [".git", ".git/HEAD", ".git/refs/heads/main"] {
        let env = TestEnv::new();
        std::fs::create_dir_all(env.path().join(".git/refs/heads")).unwrap();
        if plant == ".git" {
            std::fs::remove_dir_all(env.path().join(".git")).unwrap();
        } else if plant != ".git/HEAD" {
            std::fs::write(env.path().join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        }
        mkfifo(&env.path().join(plant));
        let mut payload = json!({"session_id": SID, "hook_event_name": "SessionStart",
                                 "source": "startup"});
        payload["cwd"] = env.path().to_string_lossy().into_owned().into();
        let run = run_limited(
            env.command(&["hook", "session-start"]),
            Some(payload.to_string().as_bytes()),
            FIFO_LIMIT,
        );
        assert_eq!(run.code, 0, "{plant}: {run:?}");
        assert_eq!(env.sessions(), [SID], "{plant}");
        let meta = env.meta(SID);
        assert!(
            meta["attribution"].get("git_commit").is_none(),
            "{plant}: {meta}"
        );
    }
}

/// `dashboard --html` and `policy --output` wrote with a plain write: into a FIFO already
/// there they waited forever, and through a link they overwrote what it points at. They are
/// written as every file a command writes where you say: whole, and a link, a FIFO or
/// anything but a regular file there is refused, saying so.
#[test]
fn dashboard_html_and_policy_output_never_write_into_a_fifo_or_through_a_link() {
    let env = TestEnv::new();
    start(&env, SID);
    tool_call(&env, SID, "toolu_1");
    let victim = victim(&env);
    for (i, args) in [["dashboard", "--html"], ["policy", "--output"]]
        .iter()
        .enumerate()
    {
        let fifo = env.path().join(format!("out{i}.fifo"));
        mkfifo(&fifo);
        let link = env.path().join(format!("out{i}.link"));
        symlink(&victim, &link).unwrap();
        for file in [&fifo, &link] {
            let mut full: Vec<&str> = args.to_vec();
            full.push(file.to_str().unwrap());
            let refused = run_limited(env.command(&full), None, FIFO_LIMIT);
            assert_eq!(refused.code, 3, "{full:?}: {refused:?}");
            assert!(refused.stderr.contains("not a regular file"), "{refused:?}");
        }
        assert_untouched(&victim);
        let fine = env.path().join(format!("out{i}.html"));
        let mut full: Vec<&str> = args.to_vec();
        full.push(fine.to_str().unwrap());
        let written = run_limited(env.command(&full), None, FIFO_LIMIT);
        assert_eq!(written.code, 0, "{full:?}: {written:?}");
        assert!(std::fs::metadata(&fine).unwrap().len() > 0);
    }
}

/// A session of one prompt started at `at`, the subagent of `parent` when it names one.
fn session_under(env: &TestEnv, id: &str, parent: Option<&str>, at: f64) {
    SessionBuilder::new(id)
        .started(at)
        .meta(|m| m.parent_session_id = parent.map(str::to_owned))
        .prompt("hello")
        .write(env);
}

/// A session whose parent is not in the store, is itself, or is on a cycle with another heads
/// no tree `list` shows: before, it was left out of `list` (only `--all` showed it) while
/// `dashboard` counted it. A subagent whose parent is there stays under it.
#[test]
fn list_hides_no_session_under_a_parent_that_is_not_there() {
    let env = TestEnv::new();
    let session = |id: &str, parent: Option<&str>, at: f64| session_under(&env, id, parent, at);
    session("a0000000-0000-4000-8000-000000000001", None, 1.0);
    session(
        "a0000000-0000-4000-8000-000000000002",
        Some("a0000000-0000-4000-8000-000000000001"),
        2.0,
    );
    session(
        "a0000000-0000-4000-8000-000000000003",
        Some("gone-0000-0000-4000-8000-000000000000"),
        3.0,
    );
    session(
        "a0000000-0000-4000-8000-000000000004",
        Some("a0000000-0000-4000-8000-000000000004"),
        4.0,
    );
    session(
        "a0000000-0000-4000-8000-000000000005",
        Some("a0000000-0000-4000-8000-000000000006"),
        5.0,
    );
    session(
        "a0000000-0000-4000-8000-000000000006",
        Some("a0000000-0000-4000-8000-000000000005"),
        6.0,
    );
    let listed = env.run(&["list", "--format", "json"]);
    listed.success();
    let mut ids: Vec<String> = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap()[35..].to_owned())
        .collect();
    ids.sort();
    assert_eq!(ids, ["1", "3", "4", "5", "6"]);
    let all = env.run(&["list", "--all", "--format", "json"]);
    assert_eq!(all.json().as_array().unwrap().len(), 6);
}

/// A command about one session says nothing of another that cannot be read: before, `cost`,
/// `stats --include-subagents` and `replay --tree` of a good session warned about every broken
/// session in the store. `list`, which reads them all, still says it skipped one.
#[test]
fn a_broken_session_is_no_news_to_a_command_about_another() {
    let env = TestEnv::new();
    start(&env, OTHER);
    start(&env, SID);
    let broken = env.store().join(OTHER).join("events.ndjson");
    std::fs::remove_file(&broken).unwrap();
    mkfifo(&broken);
    // A fresh index, so that the broken session is met by this read.
    let _ = std::fs::remove_file(env.store().join(".index.sqlite"));
    for args in [
        &["cost", SID][..],
        &["stats", "--include-subagents", SID],
        &["replay", "--tree", SID],
        &["export", SID],
    ] {
        let run = run(&env, args);
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{args:?}");
    }
    let listed = run(&env, &["list"]);
    assert_eq!(listed.code, 0);
    assert_eq!(listed.stderr.lines().count(), 1, "{}", listed.stderr);
}

/// A subagent of the session asked about that cannot be read is left out with one warning
/// naming it, and the command goes on: before, it failed `replay`, `cost`, `stats
/// --include-subagents` and `export` of its parent with exit 3 once the index had known it, and
/// `replay --tree` left it out without a word when the index never had.
#[test]
fn a_broken_subagent_is_left_out_with_one_warning() {
    let env = TestEnv::new();
    let session = |id: &str, parent: Option<&str>, at: f64| session_under(&env, id, parent, at);
    session(SID, None, 1.0);
    session(OTHER, Some(SID), 2.0);
    let broken = env.store().join(OTHER).join("events.ndjson");
    for indexed_before in [true, false] {
        let _ = std::fs::remove_file(env.store().join(".index.sqlite"));
        if indexed_before {
            run(&env, &["list"]).success();
        }
        std::fs::remove_file(&broken).unwrap();
        mkfifo(&broken);
        for args in [
            &["replay", SID][..],
            &["replay", "--tree", SID],
            &["cost", SID],
            &["stats", "--include-subagents", SID],
            &["export", SID],
        ] {
            let run = run(&env, args);
            assert_eq!(run.code, 0, "{args:?} {indexed_before}: {}", run.stderr);
            let warned: Vec<&str> = run.stderr.lines().collect();
            assert_eq!(warned.len(), 1, "{args:?} {indexed_before}: {}", run.stderr);
            assert!(
                warned[0].starts_with(&format!("warning: left out subagent session {OTHER}: ")),
                "{args:?} {indexed_before}: {}",
                run.stderr
            );
            assert!(warned[0].contains("is a FIFO"), "{}", run.stderr);
        }
        std::fs::remove_file(&broken).unwrap();
        std::fs::write(&broken, b"").unwrap();
    }
}

/// Lines the full parser refuses (text that is not UTF-8 in a field, JSON nested deeper than
/// it goes) are malformed for every reader: `stats` and the session's counters took them from
/// the light parser, which skips such fields unchecked, and counted calls `replay` and `sql`
/// did not see. A line with many brackets that nests shallowly is an event for all of them.
#[test]
fn every_reader_counts_the_same_lines() {
    let env = TestEnv::new();
    start(&env, SID);
    let call = |extra: &str| {
        format!(
            "{{\"event_type\":\"tool_call\",\"timestamp\":2.0,\"event_id\":\"e{}\",\"session_id\":\"{SID}\",\"data\":{{\"tool_name\":\"Bash\",\"x\":{extra}}}}}\n",
            extra.len()
        )
        .into_bytes()
    };
    let mut lines = call("1");
    // The one `Z` of the line, in the unknown field's text, becomes a byte UTF-8 never has.
    lines.extend(
        call("\"Z\"")
            .into_iter()
            .map(|b| if b == b'Z' { 0xff } else { b }),
    );
    // Past the 2,000 levels the store reads (200 was past serde_json's 128 before it did).
    lines.extend(call(&format!("{}{}", "[".repeat(2_001), "]".repeat(2_001))));
    lines.extend(call(&format!("[{}[]]", "[],".repeat(200))));
    let events = env.store().join(SID).join("events.ndjson");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&events)
        .unwrap();
    file.write_all(&lines).unwrap();
    let stats = run(&env, &["stats", "--format", "json", SID]);
    let stats: Value = serde_json::from_str(&stats.stdout).unwrap();
    let inspected = run(&env, &["inspect", SID]);
    let inspected: Value = serde_json::from_str(&inspected.stdout).unwrap();
    let calls_inspected = inspected["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == "tool_call")
        .count();
    assert_eq!(calls_inspected, 2, "the plain call and the shallow one");
    assert_eq!(stats["tool_calls"], 2, "{stats}");
    let listed = run(&env, &["list", "--format", "json"]);
    let listed: Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(listed[0]["tool_calls"], 2, "{listed}");
}

/// A session is the folder it is in: a `meta.json` naming another session (a folder copied
/// under a new name, or a forged file) does not make a command read or name that session.
/// `show` printed the other session's agent and model, and `compare` and `diff` headed the
/// folder's figures with the other session's id.
#[test]
fn a_meta_json_naming_another_session_is_read_as_its_folders() {
    let env = TestEnv::new();
    SessionBuilder::new(SID)
        .session_start(json!({"source": "startup", "model": "victim-model"}))
        .prompt("the victim's prompt")
        .write(&env);
    SessionBuilder::new(OTHER)
        .session_start(json!({"source": "startup", "model": "forger-model"}))
        .prompt("the forger's prompt")
        .write(&env);
    let meta = env.store().join(OTHER).join("meta.json");
    let forged = std::fs::read_to_string(&meta).unwrap().replace(OTHER, SID);
    std::fs::write(&meta, forged).unwrap();
    let show = run(&env, &["show", OTHER, "--format", "json"]);
    assert_eq!(show.code, 0, "{show:?}");
    let show = show.json();
    assert_eq!(show["session_id"], OTHER, "{show:#}");
    assert_eq!(show["model"], "forger-model", "{show:#}");
    let compare = run(&env, &["compare", OTHER, SID, "--format", "json"]).json();
    assert_eq!(compare["a"]["session_id"], OTHER, "{compare:#}");
    assert_eq!(compare["b"]["session_id"], SID, "{compare:#}");
    let diff = run(&env, &["diff", OTHER, SID]);
    assert!(
        diff.stdout
            .starts_with(&format!("Comparing: {} vs {}", &OTHER[..12], &SID[..12])),
        "{diff:?}"
    );
    let (ids, _) = listed(&env);
    assert_eq!(ids.len(), 2, "{ids:?}");
}

/// A drift baseline is read as every file the user names is: a FIFO or a device in its place
/// is refused at once, saying what it is. `drift --baseline` waited forever on a FIFO and read
/// `/dev/zero` until memory ran out.
#[test]
fn a_drift_baseline_that_is_a_fifo_or_a_device_is_refused_at_once() {
    let env = TestEnv::new();
    let fifo = env.path().join("baseline.fifo");
    mkfifo(&fifo);
    for (file, what) in [
        (fifo.to_str().unwrap(), "a FIFO"),
        ("/dev/zero", "a device"),
    ] {
        let drift = run(&env, &["drift", "--baseline", file]);
        assert_eq!(drift.code, 3, "{drift:?}");
        assert_eq!(drift.stderr.lines().count(), 1, "{drift:?}");
        assert!(
            drift
                .stderr
                .starts_with(&format!("error: {file}: not read: it is {what}")),
            "{drift:?}"
        );
    }
}

/// `drift --save-baseline` writes as `sample --output` does: whole, renamed into place, and
/// never into a FIFO or through a link. It waited forever on a FIFO and overwrote whatever a
/// link pointed at.
#[test]
fn a_drift_baseline_is_never_saved_into_a_fifo_or_through_a_link() {
    let env = TestEnv::new();
    SessionBuilder::new(SID)
        .started(chrono::Utc::now().timestamp() as f64 - 60.0)
        .prompt("recent")
        .write(&env);
    let fifo = env.path().join("baseline.fifo");
    mkfifo(&fifo);
    let victim = env.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    let link = env.path().join("baseline.json");
    symlink(&victim, &link).unwrap();
    for file in [&fifo, &link] {
        let file = file.to_str().unwrap();
        let drift = run(&env, &["drift", "--save-baseline", file]);
        assert_eq!(drift.code, 3, "{drift:?}");
        assert!(
            drift
                .stderr
                .starts_with(&format!("error: {file} is not a regular file")),
            "{drift:?}"
        );
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    let saved = env.path().join("ci/agent-baseline.json");
    let drift = run(&env, &["drift", "--save-baseline", saved.to_str().unwrap()]);
    assert_eq!(drift.code, 0, "{drift:?}");
    assert!(
        std::fs::read_to_string(&saved)
            .unwrap()
            .contains("\"format\": 1")
    );
}

/// A `meta.json` with figures no session can have (a start in the year -17678, an end that
/// makes a run of 250,000,000,000,000 hours, 2^63 tool calls) is listed with `?` for them and one
/// warning naming the session, and the table's columns stay in line; JSON gives them as
/// null. `list` printed them as they came, and the columns after them moved.
#[test]
fn list_shows_figures_no_session_can_have_as_unknown_with_one_warning() {
    let env = TestEnv::new();
    forged_store(&env);

    let text = run(&env, &["list"]);
    assert_eq!(text.code, 0, "{text:?}");
    for shown in ["-17678", "250000", "9223372036854775807"] {
        assert!(!text.stdout.contains(shown), "{shown}: {}", text.stdout);
    }
    let line = text.stdout.lines().find(|l| l.starts_with(OTHER)).unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    // Id, start, duration, agent, tools, errors: the start is one cell of its own now.
    assert_eq!(cells[1..6], ["?", "?", "claude-code", "?", "?"], "{line}");
    let lines: Vec<&str> = text.stdout.lines().collect();
    for (column, cell) in [("AGENT", "claude-code"), ("TITLE", "\"hello\"")] {
        let at = lines[0].find(column).unwrap();
        for line in &lines[1..] {
            assert_eq!(line.find(cell), Some(at), "{column}:\n{}", text.stdout);
        }
    }
    let warnings: Vec<&str> = text.stderr.lines().collect();
    assert_eq!(warnings.len(), 1, "{}", text.stderr);
    assert!(
        warnings[0].starts_with("warning: session ") && warnings[0].contains(OTHER),
        "{}",
        text.stderr
    );
    for field in ["started_at", "ended_at", "tool_calls", "errors"] {
        assert!(warnings[0].contains(field), "{field}: {}", text.stderr);
    }

    let json = run(&env, &["list", "--format", "json"]);
    assert_eq!(json.stderr.lines().count(), 1, "{}", json.stderr);
    assert_forged_figures_are_null(forged_in(&json.json()));
}

/// [`OTHER`]'s entry in a list of sessions.
#[track_caller]
fn forged_in(sessions: &Value) -> &Value {
    sessions
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {sessions:#}"))
        .iter()
        .find(|s| s["session_id"] == OTHER)
        .unwrap_or_else(|| panic!("{OTHER} is not listed: {sessions:#}"))
}

/// The five figures [`forged_store`] forges, as a listing of sessions gives them in JSON: as
/// unknown, never as recorded.
#[track_caller]
fn assert_forged_figures_are_null(session: &Value) {
    for field in [
        "started_at",
        "ended_at",
        "duration_s",
        "tool_calls",
        "errors",
    ] {
        assert_eq!(session[field], Value::Null, "{field}: {session:#}");
    }
}

/// Two sessions, [`OTHER`]'s `meta.json` forged with figures no session can have: a start in
/// the year -17678, a run of 250,000,000,000,000 hours, 2^63 - 1 tool calls and errors. Both
/// record one Bash call, which [`SID`]'s metadata counts.
fn forged_store(env: &TestEnv) {
    for id in [SID, OTHER] {
        SessionBuilder::new(id)
            .meta(|m| {
                m.agent_name = "claude-code".into();
                m.tool_calls = 1;
            })
            .prompt("hello")
            .at(1.0)
            .tool_call("Bash", json!({"command": "make"}))
            .at(2.0)
            .result(json!("ok"))
            .ended(60.0)
            .write(env);
    }
    forge(env, |forged| {
        forged["started_at"] = json!(-620_000_000_000.0);
        forged["ended_at"] = json!(900_000_000_000_000_000.0);
        forged["tool_calls"] = json!(9_223_372_036_854_775_807_u64);
        forged["errors"] = json!(9_223_372_036_854_775_807_u64);
    });
}

/// The other session's `meta.json` forged to start in 2128 (a start no session can have), with
/// no end.
fn forge_a_start_in_2128(env: &TestEnv) {
    forge(env, |forged| {
        forged["started_at"] = json!(5_000_000_000.0);
        forged["ended_at"] = Value::Null;
    });
}

/// Changes [`OTHER`]'s `meta.json` by hand.
fn forge(env: &TestEnv, change: impl FnOnce(&mut Value)) {
    let meta = env.store().join(OTHER).join("meta.json");
    let mut forged: Value = serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
    change(&mut forged);
    std::fs::write(&meta, forged.to_string()).unwrap();
}

/// The figures `list` shows as `?` were printed as they came by every other view of them:
/// `stats` gave a duration of 250000172222222h, `show` a start in the year -17678,
/// `inspect` and `dashboard --format json` 2^63 tool calls and that start (which the
/// dashboard's days then began with),
/// `budget-report` named a newest session in 2128, and `mcp`'s `list_sessions` gave them to
/// the agent as true. Each now gives them as `?` (`null` in JSON) or leaves them out, with one
/// warning naming the session; `stats` and `dashboard` count the events instead of
/// `meta.json`'s counts.
#[test]
fn every_view_of_figures_no_session_can_have_says_they_are_unknown() {
    let env = TestEnv::new();
    forged_store(&env);
    let warned_once = warned_once;
    let shows_none = |run: &Run| shows_no_forged_figure(&run.stdout);

    let stats = run(&env, &["stats", OTHER]);
    assert_eq!(stats.code, 0, "{stats:?}");
    warned_once(&stats);
    shows_none(&stats);
    assert!(stats.stdout.contains("Duration: ?"), "{}", stats.stdout);
    let stats = run(&env, &["stats", OTHER, "--format", "json"]);
    warned_once(&stats);
    assert_eq!(stats.json()["duration_s"], Value::Null, "{}", stats.stdout);
    // Its counts are the events', which are true.
    assert_eq!(stats.json()["tool_calls"], 1, "{}", stats.stdout);

    let inspect = run(&env, &["inspect", OTHER]);
    assert_eq!(inspect.code, 0, "{inspect:?}");
    warned_once(&inspect);
    let meta = &inspect.json()["meta"];
    for field in ["started_at", "ended_at", "tool_calls", "errors"] {
        assert_eq!(meta[field], Value::Null, "{field}: {meta:#}");
    }
    assert_eq!(meta["agent_name"], "claude-code");

    let show = run(&env, &["show", OTHER]);
    assert_eq!(show.code, 0, "{show:?}");
    warned_once(&show);
    shows_none(&show);
    for (label, shown) in [("Started", "?"), ("Ended", "?")] {
        let line = show.stdout.lines().find(|l| l.starts_with(label));
        assert_eq!(
            line.map(|l| l[label.len()..].trim()),
            Some(shown),
            "{}",
            show.stdout
        );
    }
    let show = run(&env, &["show", OTHER, "--format", "json"]);
    warned_once(&show);
    for field in ["started_at", "ended_at"] {
        assert_eq!(show.json()[field], Value::Null, "{field}: {}", show.stdout);
    }

    let board = run(&env, &["dashboard"]);
    assert_eq!(board.code, 0, "{board:?}");
    warned_once(&board);
    shows_none(&board);
    let board = run(&env, &["dashboard", "--format", "json"]);
    warned_once(&board);
    let board = board.json();
    assert!(board["from"].as_str().unwrap() > "1970", "{board:#}");
    // Its counts are the events', as its tool table's are (and `stats`'s): both sessions' one
    // call each, and no error.
    assert_eq!(board["totals"]["tool_calls"], 2, "{board:#}");
    assert_eq!(board["totals"]["errors"], 0, "{board:#}");
    let forged = forged_in(&board["recent"]);
    for field in ["started_at", "duration_s"] {
        assert_eq!(forged[field], Value::Null, "{field}: {forged:#}");
    }
    assert_eq!(forged["tool_calls"], 1, "{forged:#}");
    assert_eq!(forged["errors"], 0, "{forged:#}");

    let input = concat!(
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\"}}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"list_sessions\"}}\n",
    );
    let store = env.store();
    let mcp = env.run_with_stdin(
        &["--trace-dir", store.to_str().unwrap(), "mcp"],
        input.as_bytes(),
    );
    assert_eq!(mcp.code, 0, "{mcp:?}");
    let answer: Value = serde_json::from_str(mcp.stdout.lines().nth(1).unwrap()).unwrap();
    let listed = &answer["result"]["structuredContent"];
    assert_forged_figures_are_null(forged_in(&listed["sessions"]));
    let warnings = listed["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{listed:#}");
    assert!(warnings[0].as_str().unwrap().contains(OTHER), "{listed:#}");

    // A start in 2128 fits a period reaching that far, and was named the newest session's.
    forge_a_start_in_2128(&env);
    for args in [
        &[
            "budget-report",
            "--since",
            "2020-01-01",
            "--until",
            "2200-01-01",
        ][..],
        &["budget-report"],
    ] {
        let report = run(&env, args);
        assert_eq!(report.code, 0, "{report:?}");
        warned_once(&report);
        assert!(!report.stdout.contains("2128"), "{}", report.stdout);
        assert!(!report.stdout.contains(&OTHER[..12]), "{}", report.stdout);
    }
}

/// One warning on stderr, naming [`OTHER`].
#[track_caller]
fn warned_once(run: &Run) {
    let warnings: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(
        warnings[0].starts_with("warning: session ") && warnings[0].contains(OTHER),
        "{}",
        run.stderr
    );
}

/// `text` shows none of the figures [`forged_store`] forges, however a view would draw them.
#[track_caller]
fn shows_no_forged_figure(text: &str) {
    for shown in ["17678", "250000", "9223372036854775807", "9,223,372"] {
        assert!(!text.contains(shown), "{shown}: {text}");
    }
}

/// The page model a `replay --format html` or `share` page embeds.
fn page_data(page: &str) -> Value {
    let start = page.find("type=\"application/json\">").unwrap() + 24;
    let end = start + page[start..].find("</script>").unwrap();
    serde_json::from_str(&page[start..end]).unwrap()
}

/// `replay`'s header and `--tree`, and the page of `replay --format html` and `share`, printed
/// the figures of a forged `meta.json` as they came (Started -17678-12-26 01:46, Duration
/// 250000172222222h 13m, 2^63 - 1 tool calls), as `standup` did its start. Each now gives them as
/// `?` (`null` in the page's data) with one warning naming the session.
#[test]
fn replay_and_its_pages_show_figures_no_session_can_have_as_unknown() {
    let env = TestEnv::new();
    forged_store(&env);

    let replay = run(&env, &["replay", OTHER]);
    assert_eq!(replay.code, 0, "{replay:?}");
    warned_once(&replay);
    shows_no_forged_figure(&replay.stdout);
    for label in ["Started:", "Duration:", "Tool calls:", "Errors:"] {
        let line = replay.stdout.lines().find(|l| l.starts_with(label));
        assert_eq!(
            line,
            Some(format!("{label} ?").as_str()),
            "{}",
            replay.stdout
        );
    }
    // The events are true, and told from the first.
    assert!(replay.stdout.contains("$ make"), "{}", replay.stdout);

    let tree = run(&env, &["replay", "--tree", OTHER]);
    assert_eq!(tree.code, 0, "{tree:?}");
    warned_once(&tree);
    shows_no_forged_figure(&tree.stdout);
    assert!(
        tree.stdout.contains(" ?, ? tool calls, ? errors"),
        "{}",
        tree.stdout
    );

    let standup = run(&env, &["standup", OTHER]);
    assert_eq!(standup.code, 0, "{standup:?}");
    warned_once(&standup);
    shows_no_forged_figure(&standup.stdout);

    for (args, name) in [
        (&["replay", "--format", "html"][..], "replay.html"),
        (&["share"][..], "share.html"),
    ] {
        let path = env.path().join(name);
        let mut line = args.to_vec();
        line.extend([OTHER, "-o", path.to_str().unwrap()]);
        let wrote = run(&env, &line);
        assert_eq!(wrote.code, 0, "{wrote:?}");
        warned_once(&wrote);
        let page = std::fs::read_to_string(&path).unwrap();
        let header = &page_data(&page)["header"];
        for field in ["started_at", "duration_s", "tool_calls", "errors"] {
            assert_eq!(header[field], Value::Null, "{name} {field}: {header:#}");
        }
        assert_eq!(header["running"], false, "{header:#}");
        let Some(browser) = crate::common::browser::Browser::from_env(
            "replay_and_its_pages_show_figures_no_session_can_have_as_unknown",
        ) else {
            continue;
        };
        let seen = browser.run("probe.mjs", &json!({"path": path}));
        let text = seen["text"].as_str().unwrap();
        shows_no_forged_figure(text);
        for fact in ["started\n?", "duration\n?", "tool calls\n?", "errors\n?"] {
            assert!(text.contains(fact), "{fact:?}: {text}");
        }
        for (kind, list) in seen["problems"].as_object().unwrap() {
            assert_eq!(list, &json!([]), "{name} {kind}: {seen:#}");
        }
    }
}

/// `explain` of a session whose `meta.json` puts its start in 2128 gave its duration as
/// 0.00s, and its phases began 3,203,790,240 s before that start; `standup` said the same.
/// The duration is now unknown (`?`, `null` in JSON) with one warning, and the phases count
/// from the first event.
#[test]
fn explain_of_a_start_no_session_can_have_says_its_duration_is_unknown() {
    let env = TestEnv::new();
    forged_store(&env);
    forge_a_start_in_2128(&env);
    let explain = run(&env, &["explain", OTHER]);
    assert_eq!(explain.code, 0, "{explain:?}");
    warned_once(&explain);
    let first = explain.stdout.lines().next().unwrap();
    assert_eq!(
        first,
        // It has no end: it is running, for a time that cannot be told.
        format!("Session: {OTHER} (running, ?, 3 events)"),
        "{}",
        explain.stdout
    );
    let json = run(&env, &["explain", OTHER, "--format", "json"]);
    warned_once(&json);
    let json = json.json();
    assert_eq!(json["duration_s"], Value::Null, "{json:#}");
    assert_eq!(json["started_at"], Value::Null, "{json:#}");
    assert_eq!(json["phases"][0]["start_s"], 0.0, "{json:#}");
    assert!(
        json["phases"][0]["end_s"].as_f64().unwrap() > 0.0,
        "{json:#}"
    );

    let standup = run(&env, &["standup", OTHER, "--format", "json"]);
    warned_once(&standup);
    assert_eq!(
        standup.json()["duration_s"],
        Value::Null,
        "{}",
        standup.stdout
    );
}

/// `dashboard --trend` and `eval` judged `duration_under` by the recorded duration, however
/// impossible: a session whose `meta.json` ends it 70 years after its start (its events span
/// two seconds) failed a ten-minute limit. Such a duration is not used; the events' span is.
#[test]
fn a_duration_no_session_can_have_is_not_judged() {
    let env = TestEnv::new();
    forged_store(&env);
    forge(&env, |forged| {
        forged["started_at"] = json!(1_780_000_000.0);
        forged["ended_at"] = json!(4_000_000_000.0);
        forged["tool_calls"] = json!(1);
        forged["errors"] = json!(0);
    });
    std::fs::write(
        env.path().join(".agent-evals.yaml"),
        "scorers:\n  - type: duration_under\n    max_seconds: 600\n",
    )
    .unwrap();
    let eval = run(&env, &["eval", OTHER, "--format", "json"]);
    let judged = eval.json();
    assert_eq!(judged["passed"], true, "{judged:#}");

    let trend = run(
        &env,
        &[
            "dashboard",
            "--trend",
            "--since",
            "2026-05-01",
            "--format",
            "json",
        ],
    );
    assert_eq!(trend.code, 0, "{trend:?}");
    warned_once(&trend);
    let trend = trend.json();
    let judge = trend["trend"]["judges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["judge"] == "duration_under")
        .unwrap_or_else(|| panic!("{trend:#}"));
    assert_eq!(judge["judged"], 2, "{judge:#}");
    assert_eq!(judge["passed"], 2, "{judge:#}");
}

/// `retention` took a start no session can have for the session's age: `status` named it the
/// oldest, started `-17678-12-26` and 7,196,715 days ago, and `--max-age-days` deleted it
/// first (a start in 2128 would never have gone). Its age is now that of its events' file, with
/// one warning.
#[test]
fn retention_ages_a_session_by_its_files_when_its_start_is_none_a_session_can_have() {
    let env = TestEnv::new();
    forged_store(&env);
    let status = run(&env, &["retention", "status"]);
    assert_eq!(status.code, 0, "{status:?}");
    warned_once(&status);
    shows_no_forged_figure(&status.stdout);
    let oldest = status.stdout.lines().find(|l| l.starts_with("Oldest:"));
    assert!(oldest.is_some_and(|l| l.contains(SID)), "{}", status.stdout);
    // The other session started in May 2026; the forged one's files were written today.
    let clean = run(
        &env,
        &["retention", "clean", "--dry-run", "--max-age-days", "30"],
    );
    assert_eq!(clean.code, 0, "{clean:?}");
    warned_once(&clean);
    assert!(clean.stdout.contains(SID), "{}", clean.stdout);
    assert!(!clean.stdout.contains(OTHER), "{}", clean.stdout);
}

/// `sample` gave a forged session's start and duration as recorded (`started_at` -620000000000,
/// a `duration_s` of 9e17 in its score): they are `null` now, as in every other view.
#[test]
fn sample_gives_figures_no_session_can_have_as_null() {
    let env = TestEnv::new();
    forged_store(&env);
    let sample = run(&env, &["sample", "--n", "2", "--strategy", "recent"]);
    assert_eq!(sample.code, 0, "{sample:?}");
    let lines: Vec<Value> = sample
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let forged = lines
        .iter()
        .find(|l| l["session_id"] == OTHER)
        .unwrap_or_else(|| panic!("{}", sample.stdout));
    assert_eq!(forged["started_at"], Value::Null, "{forged:#}");
    assert_eq!(forged["score"]["duration_s"], Value::Null, "{forged:#}");
    let other = lines.iter().find(|l| l["session_id"] == SID).unwrap();
    assert_eq!(other["score"]["duration_s"], 60.0, "{other:#}");
}

/// `compare --format json` gave a forged start as recorded (-620000000000): it is `null` now.
#[test]
fn compare_gives_a_start_no_session_can_have_as_null() {
    let env = TestEnv::new();
    forged_store(&env);
    let compare = run(&env, &["compare", OTHER, SID, "--format", "json"]);
    assert_eq!(compare.code, 0, "{compare:?}");
    let compare = compare.json();
    assert_eq!(compare["a"]["started_at"], Value::Null, "{compare:#}");
    assert_eq!(compare["b"]["started_at"], 1_780_000_000.0, "{compare:#}");
}

/// `compare` and `diff` gave the duration of a session whose start is one no session can have
/// as its events' span, where `explain` and `replay` give it as unknown, and `compare` weighed
/// it for its verdict (`faster`). Both now show it as `?` (`null` in JSON), leave it out of
/// the verdict, and warn once.
#[test]
fn compare_and_diff_give_the_duration_of_a_start_no_session_can_have_as_unknown() {
    let env = TestEnv::new();
    forged_store(&env);

    let text = run(&env, &["compare", OTHER, SID]);
    assert_eq!(text.code, 0, "{text:?}");
    let row = text
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Duration"));
    let cells: Vec<&str> = row.unwrap_or_default().split_whitespace().collect();
    assert_eq!(cells.get(1), Some(&"?"), "{}", text.stdout);
    assert_eq!(cells.len(), 3, "no change from an unknown: {}", text.stdout);
    warned_once(&text);
    let json = run(&env, &["compare", OTHER, SID, "--format", "json"]);
    warned_once(&json);
    let json = json.json();
    assert_eq!(json["a"]["duration_s"], Value::Null, "{json:#}");
    assert!(json["b"]["duration_s"].as_f64().is_some(), "{json:#}");
    let reasons = json["verdict"]["reasons"].to_string();
    assert!(
        !reasons.contains("faster") && !reasons.contains("longer"),
        "{json:#}"
    );

    let structural = run(&env, &["diff", OTHER, SID, "--format", "json"]);
    assert_eq!(structural.code, 0, "{structural:?}");
    warned_once(&structural);
    let structural = structural.json();
    assert_eq!(structural["a"]["duration_s"], Value::Null, "{structural:#}");
    assert!(
        structural["b"]["duration_s"].as_f64().is_some(),
        "{structural:#}"
    );
    let text = run(&env, &["diff", OTHER, SID]);
    warned_once(&text);
    let totals = text
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&OTHER[..12]));
    assert!(
        totals.is_some_and(|l| l.contains(": ?, ")),
        "{}",
        text.stdout
    );

    let semantic = run(
        &env,
        &["diff", OTHER, SID, "--semantic", "--format", "json"],
    );
    warned_once(&semantic);
    let duration = &semantic.json()["duration_s"];
    assert_eq!(duration["a"], Value::Null, "{duration:#}");
    assert_eq!(duration["delta"], Value::Null, "{duration:#}");
    assert!(duration["b"].as_f64().is_some(), "{duration:#}");
    let text = run(&env, &["diff", OTHER, SID, "--semantic"]);
    warned_once(&text);
    let line = text.stdout.lines().find(|l| l.contains("Δ duration:"));
    assert!(
        line.is_some_and(|l| l.contains("?  (? → ")),
        "{}",
        text.stdout
    );
}

/// `drift` put a session in its windows by a start no session can have: one in the year -17678
/// was named the newest (`try --since -17678-12-26`), and one in 2128 would be recent for a
/// century. Such a session is left out, with one warning.
#[test]
fn drift_leaves_out_a_start_no_session_can_have() {
    let env = TestEnv::new();
    forged_store(&env);
    let drift = run(&env, &["drift", "--since", "1d"]);
    assert_eq!(drift.code, 2, "{drift:?}");
    assert_eq!(
        drift.stderr.matches("holds what no session can").count(),
        1,
        "{drift:?}"
    );
    shows_no_forged_figure(&drift.stderr);
    assert!(
        drift.stderr.contains("the newest started 2026-05"),
        "{drift:?}"
    );
    forge(&env, |forged| forged["started_at"] = json!(5_000_000_000.0));
    let recent = run(&env, &["drift", "--since", "1d"]);
    assert_eq!(recent.code, 2, "{recent:?}");
    assert!(
        recent.stderr.contains("no session started since") && !recent.stderr.contains("2128"),
        "{recent:?}"
    );
}

/// A folder holding a session's files under a name no session id can have (251 bytes: the
/// store's ids are at most 200, since the names it makes from an id must fit in a folder name;
/// or a character that is not drawn) is skipped by `list` with one warning saying why, and
/// naming it says why rather than that no session matches. `list` dropped it without a word.
/// The store's own hidden folders (an import's `.writing-…`) are passed over as before.
#[test]
fn a_session_folder_with_a_name_no_id_can_have_is_skipped_with_a_warning_saying_why() {
    let env = TestEnv::new();
    SessionBuilder::new(SID).prompt("hello").write(&env);
    let long = "a".repeat(251);
    let copy = |name: &str| {
        let dir = env.store().join(name);
        std::fs::create_dir(&dir).unwrap();
        for file in ["meta.json", "events.ndjson"] {
            std::fs::copy(env.store().join(SID).join(file), dir.join(file)).unwrap();
        }
    };
    copy(&long);
    copy("x\u{200B}y");
    copy(".writing-x-1-0");
    std::fs::create_dir(env.store().join("b".repeat(240))).unwrap();

    let check = |run: &Run| {
        let (ids, _) = listed(&env);
        assert_eq!(ids, [SID]);
        let warnings: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(warnings.len(), 2, "{}", run.stderr);
        let said = |what: &str| warnings.iter().filter(|w| w.contains(what)).count();
        assert_eq!(said(&long), 1, "{}", run.stderr);
        assert_eq!(said("251 bytes long, and a session id is at most 200"), 1);
        assert_eq!(said("x\\u{200b}y"), 1, "{}", run.stderr);
        assert_eq!(said("not drawn"), 1, "{}", run.stderr);
    };
    check(&run(&env, &["list"]));
    // Without the index (a FIFO in its place), from the folders themselves.
    for file in std::fs::read_dir(env.store()).unwrap().flatten() {
        if file
            .file_name()
            .to_string_lossy()
            .starts_with(".index.sqlite")
        {
            std::fs::remove_file(file.path()).unwrap();
        }
    }
    mkfifo(&env.store().join(".index.sqlite"));
    let run_without = run(&env, &["list"]);
    let others: Vec<&str> = run_without
        .stderr
        .lines()
        .filter(|l| !l.contains("session index"))
        .collect();
    check(&Run {
        stderr: others.join("\n"),
        ..run_without
    });

    let named = run(&env, &["inspect", &long]);
    assert_eq!(named.code, 3, "{named:?}");
    assert!(!named.stderr.contains("no session matches"), "{named:?}");
    assert!(named.stderr.contains("at most 200"), "{named:?}");
}

/// The root span of the trace `export --format otlp` printed: its start and end, in seconds.
fn root_span_times(otlp: &Value) -> (f64, f64) {
    let spans = otlp["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array()
        .unwrap_or_else(|| panic!("{otlp:#}"));
    let root = spans
        .iter()
        .find(|s| s["parentSpanId"] == "")
        .unwrap_or_else(|| panic!("{otlp:#}"));
    let seconds = |key: &str| root[key].as_str().unwrap().parse::<u64>().unwrap() as f64 / 1e9;
    (seconds("startTimeUnixNano"), seconds("endTimeUnixNano"))
}

/// `export --format otlp` (which `server --forward-otlp` sends too) timed a session's trace by
/// its recorded times, however impossible: a start in 2128 ended the root span in 2128, and an
/// end 9e17 s on ended it in the year 2554. `export --metrics` stamped a session's points with
/// an end 70 years on. Such times are left to the events, with one warning.
#[test]
fn exports_time_a_session_with_times_no_session_can_have_by_its_events() {
    let env = TestEnv::new();
    forged_store(&env);
    // The events are at 1,780,000,001 and 1,780,000,002 s.
    let within_the_events = |(start, end): (f64, f64)| {
        (1_780_000_000.0..=1_780_000_060.0).contains(&start)
            && (start..=1_780_000_060.0).contains(&end)
    };
    for forged in [
        None,
        Some(json!({"started_at": 5_000_000_000.0_f64, "ended_at": null})),
    ] {
        if let Some(forged) = &forged {
            forge(&env, |meta| {
                for (key, value) in forged.as_object().unwrap() {
                    meta[key] = value.clone();
                }
            });
        }
        for format in ["otlp", "otlp-genai"] {
            let otlp = run(&env, &["export", OTHER, "--format", format]);
            assert_eq!(otlp.code, 0, "{otlp:?}");
            let times = root_span_times(&otlp.json());
            assert!(within_the_events(times), "{forged:?} {format}: {times:?}");
            warned_once(&otlp);
        }
    }

    forge(&env, |meta| {
        meta["started_at"] = json!(1_780_000_000.0);
        meta["ended_at"] = json!(4_000_000_000.0);
        meta["tool_calls"] = json!(1);
        meta["errors"] = json!(0);
    });
    let metrics = run(&env, &["export", "--metrics", "--since", "2020-01-01"]);
    assert_eq!(metrics.code, 0, "{metrics:?}");
    let sent = metrics.json();
    let points: Vec<&Value> = sent["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["gauge"]["dataPoints"].as_array().unwrap())
        .filter(|p| p["attributes"][0]["value"]["stringValue"] == OTHER)
        .collect();
    assert!(!points.is_empty(), "{sent:#}");
    for point in points {
        let at = point["timeUnixNano"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap() as f64
            / 1e9;
        assert!(
            (1_780_000_000.0..=1_780_000_060.0).contains(&at),
            "{point:#}"
        );
    }
    warned_once(&metrics);
}

/// The `--since` of `export --metrics`, `export --backend langfuse`, `optimize` and `lint
/// --all`, and the `since` of the MCP tools, compared the recorded start: one in 2128 was since
/// any date, and the session was exported, linted and listed to the agent. Each now judges the
/// start as `budget-report` and `drift` do: such a session is in no period, and is left out
/// with one warning.
#[test]
fn filters_by_time_leave_out_a_start_no_session_can_have() {
    let env = TestEnv::new();
    forged_store(&env);
    forge_a_start_in_2128(&env);
    let left_out = |run: &Run| {
        warned_once(run);
        assert!(run.stderr.contains("left out"), "{}", run.stderr);
    };

    let metrics = run(&env, &["export", "--metrics", "--since", "2020-01-01"]);
    assert_eq!(metrics.code, 0, "{metrics:?}");
    left_out(&metrics);
    assert!(!metrics.stdout.contains(OTHER), "{}", metrics.stdout);
    assert!(metrics.stdout.contains(SID), "{}", metrics.stdout);

    let langfuse = run(
        &env,
        &[
            "export",
            "--backend",
            "langfuse",
            "--since",
            "2020-01-01",
            "--anonymize",
            "--dry-run",
        ],
    );
    assert_eq!(langfuse.code, 0, "{langfuse:?}");
    left_out(&langfuse);
    assert_eq!(langfuse.json()["sessions"], 1, "{}", langfuse.stdout);

    let optimize = run(
        &env,
        &["optimize", "--since", "2020-01-01", "--format", "json"],
    );
    assert_eq!(optimize.code, 0, "{optimize:?}");
    left_out(&optimize);
    assert_eq!(optimize.json()["sessions"], 1, "{}", optimize.stdout);

    let lint = run(
        &env,
        &["lint", "--all", "--since", "2020-01-01", "--format", "json"],
    );
    assert_eq!(lint.code, 0, "{lint:?}");
    left_out(&lint);
    let linted = lint.session_ids();
    assert_eq!(linted, [SID], "{}", lint.stdout);

    let input = concat!(
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\"}}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"list_sessions\",\"arguments\":{\"since\":\"2020-01-01\"}}}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"search_events\",\"arguments\":{\"since\":\"2020-01-01\",\"tool\":\"Bash\"}}}\n",
    );
    let store = env.store();
    let mcp = env.run_with_stdin(
        &["--trace-dir", store.to_str().unwrap(), "mcp"],
        input.as_bytes(),
    );
    assert_eq!(mcp.code, 0, "{mcp:?}");
    for (line, listed) in [(1, "sessions"), (2, "matches")] {
        let answer: Value = serde_json::from_str(mcp.stdout.lines().nth(line).unwrap()).unwrap();
        let content = &answer["result"]["structuredContent"];
        let found = content[listed].to_string();
        assert!(!found.contains(OTHER), "{content:#}");
        assert!(found.contains(SID), "{content:#}");
        let warnings = content["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 1, "{content:#}");
        let warning = warnings[0].as_str().unwrap();
        assert!(
            warning.contains(OTHER) && warning.ends_with("left out"),
            "{content:#}"
        );
    }
}

/// `eval` judged `duration_under` by the events' span when the recorded duration is one no
/// session can have, as it should, but said nothing of it, where every other view warns.
#[test]
fn eval_warns_once_that_it_judges_the_events_span() {
    let env = TestEnv::new();
    forged_store(&env);
    forge(&env, |forged| {
        forged["started_at"] = json!(1_780_000_000.0);
        forged["ended_at"] = json!(4_000_000_000.0);
    });
    std::fs::write(
        env.path().join(".agent-evals.yaml"),
        "scorers:\n  - type: duration_under\n    max_seconds: 600\n",
    )
    .unwrap();
    for args in [&["eval", OTHER][..], &["eval", OTHER, "--format", "json"]] {
        let eval = run(&env, args);
        assert_eq!(eval.code, 0, "{eval:?}");
        warned_once(&eval);
        assert!(
            eval.stderr.contains("ended_at") && eval.stderr.contains("events' span"),
            "{}",
            eval.stderr
        );
    }
    let compare = run(&env, &["eval", "compare", OTHER, SID]);
    assert_eq!(compare.code, 0, "{compare:?}");
    warned_once(&compare);
}

/// A count of 2^63 - 1 in `meta.json` was read through an f64 and named as 2^63
/// (9223372036854775808) by every warning about it; it is read as the integer it is.
#[test]
fn a_forged_count_is_named_as_written() {
    let env = TestEnv::new();
    forged_store(&env);
    // `list` reads the index; `inspect` reads meta.json itself.
    for args in [&["list"][..], &["inspect", OTHER]] {
        let run = run(&env, args);
        assert_eq!(run.code, 0, "{run:?}");
        warned_once(&run);
        assert!(
            run.stderr.contains("tool_calls 9223372036854775807,"),
            "{}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("9223372036854775808"),
            "{}",
            run.stderr
        );
    }
}

/// `list --since/--until`, `sample --since` and `dashboard --since` compared the recorded
/// start: one in 2128 fell inside any period reaching it, and the session was listed, sampled
/// and counted. A period now leaves it out with the one warning every other filter by time
/// gives, whether `list` reads the index or every session's files; without a period `list`
/// still shows it, its start as unknown.
#[test]
fn list_sample_and_dashboard_leave_a_start_no_session_can_have_out_of_a_period() {
    let env = TestEnv::new();
    forged_store(&env);
    forge_a_start_in_2128(&env);
    let left_out = |run: &Run| {
        assert_eq!(run.code, 0, "{run:?}");
        let warnings: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.contains("left out"))
            .collect();
        assert_eq!(warnings.len(), 1, "{}", run.stderr);
        assert!(warnings[0].contains(OTHER), "{}", run.stderr);
        assert!(!run.stdout.contains(OTHER), "{}", run.stdout);
        assert!(run.stdout.contains(SID), "{}", run.stdout);
    };

    let all = run(&env, &["list", "--format", "json"]);
    assert_eq!(all.code, 0, "{all:?}");
    warned_once(&all);
    assert_eq!(forged_in(&all.json())["started_at"], Value::Null);

    let periods: [&[&str]; 3] = [
        &["--since", "2020-01-01"],
        &["--until", "2200-01-01"],
        &["--since", "2020-01-01", "--until", "2200-01-01"],
    ];
    for period in periods {
        for format in ["text", "json"] {
            let mut args = vec!["list", "--format", format];
            args.extend_from_slice(period);
            let listed = run(&env, &args);
            warned_once(&listed);
            left_out(&listed);
        }
    }
    // Without the index, from every session's files: the same.
    let index = env.store().join(".index.sqlite");
    let _ = std::fs::remove_file(&index);
    symlink(victim(&env), &index).unwrap();
    let unindexed = run(&env, &["list", "--since", "2020-01-01"]);
    assert!(
        unindexed.stderr.contains("index cannot be used"),
        "{unindexed:?}"
    );
    left_out(&unindexed);
    std::fs::remove_file(&index).unwrap();

    let sample = run(
        &env,
        &[
            "sample",
            "--n",
            "5",
            "--strategy",
            "recent",
            "--since",
            "2020-01-01",
        ],
    );
    warned_once(&sample);
    left_out(&sample);

    let board = run(
        &env,
        &["dashboard", "--since", "2020-01-01", "--format", "json"],
    );
    warned_once(&board);
    left_out(&board);
    assert_eq!(board.json()["totals"]["sessions"], 1, "{}", board.stdout);
}

/// `server --forward-otlp` forwards a session again each time it changes, and each time its
/// log said anew that the session's times are none a session can have: it says so once per
/// session for as long as it runs.
#[test]
fn the_forwarder_warns_once_per_session_of_times_no_session_can_have() {
    let env = TestEnv::new();
    forged_store(&env);
    forge_a_start_in_2128(&env);
    let (backend, seen) = crate::export_send::collector(vec![(200, "")]);
    let url = format!("http://127.0.0.1:{backend}");
    let (server, port) = crate::collector::server(&env, &env.store(), &["--forward-otlp", &url]);
    let traces = || {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == "/v1/traces")
            .count()
    };
    for n in 1_u32..=3 {
        let event = json!({"event_type": "user_prompt", "timestamp": 1_780_000_010.0 + f64::from(n),
                           "event_id": format!("late-{n}"), "session_id": OTHER,
                           "data": {"prompt": "again"}});
        let answer = crate::otel_ingest::post(
            port,
            "/events",
            &[("Content-Type", "application/x-ndjson")],
            format!("{event}\n").as_bytes(),
        );
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        // The session is sent once it has been quiet for a moment; each change sends it again.
        let deadline = Instant::now() + LIMIT;
        while traces() < n as usize {
            assert!(Instant::now() < deadline, "forwarded {} of {n}", traces());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let log = crate::collector::log_of(server);
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("no session can"))
        .collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(
        warnings[0].contains(OTHER) && warnings[0].contains("timed by its events"),
        "{log}"
    );
}

/// [`SID`], started at T0, and [`OTHER`], an hour older, its `meta.json` forged to start in
/// 2128.
fn older_session_forged_into_2128(env: &TestEnv) {
    use crate::common::session::T0;
    SessionBuilder::new(SID)
        .started(T0)
        .prompt("the genuinely latest")
        .at(1.0)
        .tool_call("Bash", json!({"command": "make"}))
        .ended(60.0)
        .write(env);
    SessionBuilder::new(OTHER)
        .started(T0 - 3600.0)
        .prompt("an hour older")
        .at(1.0)
        .tool_call("Bash", json!({"command": "make"}))
        .ended(60.0)
        .write(env);
    forge_a_start_in_2128(env);
}

/// The latest session (`replay`, `stats`, … with no id) went by the recorded start: a session
/// forged to start in 2128 was always the latest. Such a start now counts as its events' time.
#[test]
fn the_latest_session_is_not_one_whose_start_no_session_can_have() {
    let env = TestEnv::new();
    older_session_forged_into_2128(&env);
    let replay = run(&env, &["replay"]);
    assert_eq!(replay.code, 0, "{replay:?}");
    assert!(
        replay.stdout.contains("the genuinely latest") && !replay.stdout.contains("an hour older"),
        "{}",
        replay.stdout
    );
    let stats = run(&env, &["stats"]);
    assert_eq!(stats.code, 0, "{stats:?}");
    assert!(stats.stdout.contains(SID), "{}", stats.stdout);
}

/// `list --last`, `dashboard --last` and the order of `lint --all` went by the recorded start:
/// a session forged to start in 2128 came first and took one of the N places. Such a start now
/// counts as its events' time.
#[test]
fn last_n_and_lint_all_order_a_start_no_session_can_have_by_its_events() {
    let env = TestEnv::new();
    older_session_forged_into_2128(&env);
    let ids = |sessions: &Value| -> Vec<String> {
        sessions
            .as_array()
            .unwrap_or_else(|| panic!("not a list: {sessions:#}"))
            .iter()
            .map(|s| s["session_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let list = run(&env, &["list", "--last", "1", "--format", "json"]);
    assert_eq!(list.code, 0, "{list:?}");
    assert_eq!(ids(&list.json()), [SID], "{}", list.stdout);
    let list = run(&env, &["list", "--format", "json"]);
    assert_eq!(ids(&list.json()), [SID, OTHER], "{}", list.stdout);
    // Without the index, from every session's files: the same.
    let index = env.store().join(".index.sqlite");
    let _ = std::fs::remove_file(&index);
    symlink(victim(&env), &index).unwrap();
    let unindexed = run(&env, &["list", "--last", "1", "--format", "json"]);
    assert!(
        unindexed.stderr.contains("index cannot be used"),
        "{unindexed:?}"
    );
    assert_eq!(ids(&unindexed.json()), [SID], "{}", unindexed.stdout);
    std::fs::remove_file(&index).unwrap();

    let board = run(&env, &["dashboard", "--last", "1", "--format", "json"]);
    assert_eq!(board.code, 0, "{board:?}");
    assert_eq!(ids(&board.json()["recent"]), [SID], "{}", board.stdout);
    assert_eq!(board.json()["totals"]["sessions"], 1, "{}", board.stdout);

    let lint = run(&env, &["lint", "--all", "--format", "json"]);
    assert!(lint.code <= 1, "{lint:?}");
    assert_eq!(ids(&lint.json()), [OTHER, SID], "{}", lint.stdout);
}

/// `sample --strategy recent` went by the recorded start: a session forged to start in 2128 was
/// the most recent. Such a start now counts as its events' time.
#[test]
fn sample_recent_orders_a_start_no_session_can_have_by_its_events() {
    let env = TestEnv::new();
    older_session_forged_into_2128(&env);
    let sample = run(&env, &["sample", "--n", "1", "--strategy", "recent"]);
    assert_eq!(sample.code, 0, "{sample:?}");
    assert!(
        sample.stdout.contains(SID) && !sample.stdout.contains(OTHER),
        "{}",
        sample.stdout
    );
}

/// `compare --tag` compared the last two tagged sessions by the recorded start: a session
/// forged to start in 2128 was always one of them. Such a start now counts as its events' time.
#[test]
fn compare_tag_orders_a_start_no_session_can_have_by_its_events() {
    use crate::common::session::T0;
    const THIRD: &str = "9c0c7a52-3d1e-4c4f-9a57-0e2d9b1f6a12";
    let env = TestEnv::new();
    for (id, start) in [(SID, T0), (THIRD, T0 - 3600.0), (OTHER, T0 - 7200.0)] {
        SessionBuilder::new(id)
            .started(start)
            .meta(|m| m.agent_name = "claude-code".into())
            .prompt("hello")
            .at(1.0)
            .tool_call("Bash", json!({"command": "make"}))
            .ended(60.0)
            .write(&env);
    }
    forge_a_start_in_2128(&env);
    let compare = run(&env, &["compare", "--tag", "claude", "--format", "json"]);
    assert_eq!(compare.code, 0, "{compare:?}");
    assert!(
        compare.stdout.contains(SID)
            && compare.stdout.contains(THIRD)
            && !compare.stdout.contains(OTHER),
        "{}",
        compare.stdout
    );
}

/// The line that says why a file of the store was not read names what the store keeps there:
/// it said "is a folder, not a plain file or folder of the store", which contradicts itself.
#[test]
fn what_is_left_alone_is_said_against_what_the_store_keeps_there() {
    let env = TestEnv::new();
    start(&env, SID);
    let events = env.store().join(SID).join("events.ndjson");
    std::fs::remove_file(&events).unwrap();
    std::fs::create_dir(&events).unwrap();
    let run = run(&env, &["replay", SID]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(
        run.stderr,
        format!(
            "error: {} is a folder where the store keeps a plain file; it is left alone\n",
            events.display()
        )
    );
}

/// A `meta.json` saying `"total_tokens": 18446744073709551615` was warned of as
/// `total_tokens 9223372036854775807`: the index's column holds no more than `i64::MAX`, and
/// the listing read the count back from it. The warning quotes the count as written, from the
/// index as it is built and as it is read again.
#[test]
fn a_count_past_the_index_columns_is_quoted_as_meta_json_wrote_it() {
    let env = TestEnv::new();
    forged_store(&env);
    forge(&env, |forged| {
        forged["started_at"] = json!(1_780_000_000.0);
        forged["ended_at"] = json!(1_780_000_060.0);
        forged["tool_calls"] = json!(1);
        forged["errors"] = json!(0);
        forged["total_tokens"] = json!(u64::MAX);
        forged["llm_requests"] = json!(u64::MAX - 1);
    });
    for _ in 0..2 {
        let listed = run(&env, &["list"]);
        assert_eq!(listed.code, 0, "{listed:?}");
        warned_once(&listed);
        assert!(
            listed.stderr.contains(&format!(
                "llm_requests {}, total_tokens {}",
                u64::MAX - 1,
                u64::MAX
            )),
            "{}",
            listed.stderr
        );
    }
    // `sql` still reads the most its column holds.
    let rows = run(
        &env,
        &[
            "sql",
            "--format",
            "json",
            "SELECT total_tokens FROM sessions",
        ],
    );
    assert_eq!(rows.code, 0, "{rows:?}");
    assert!(
        rows.stdout.contains(&i64::MAX.to_string()),
        "{}",
        rows.stdout
    );
}

/// A workspace's store (`AGENT_STRACE_WORKSPACE`) is `.agent-traces/workspaces/<name>`. A
/// `workspaces` link planted in the project was taken for the folder, and the workspace's
/// sessions were written wherever it pointed; the folder is one only agent-strace and the
/// Python tool make, so a link there is refused: the hook writes nothing through it and lets
/// the agent go on, and a command says why.
#[test]
fn a_linked_workspaces_folder_is_not_written_through() {
    let env = TestEnv::new();
    let in_workspace = |args: &[&str], stdin: Option<&[u8]>| {
        let mut command = env.command(args);
        command.env("AGENT_STRACE_WORKSPACE", "prod");
        run_within(command, stdin)
    };
    let payload = json!({"session_id": SID, "hook_event_name": "UserPromptSubmit",
                         "prompt": "deploy", "cwd": env.path()});
    let hooked = in_workspace(
        &["hook", "user-prompt"],
        Some(payload.to_string().as_bytes()),
    );
    assert_eq!(hooked.code, 0, "{hooked:?}");
    // Made whole on a workspace's first session, with the project's store around it.
    let made = env.store().join("workspaces").join("prod").join(SID);
    assert!(made.join("events.ndjson").is_file(), "{hooked:?}");

    std::fs::remove_dir_all(env.store().join("workspaces")).unwrap();
    let elsewhere = env.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    symlink(&elsewhere, env.store().join("workspaces")).unwrap();
    let hooked = in_workspace(
        &["hook", "user-prompt"],
        Some(payload.to_string().as_bytes()),
    );
    assert_eq!(hooked.code, 0, "{hooked:?}");
    assert!(hooked.stdout.is_empty(), "{hooked:?}");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);

    // A store already there behind the link is not read or written either.
    std::fs::create_dir_all(elsewhere.join("prod")).unwrap();
    let hooked = in_workspace(
        &["hook", "user-prompt"],
        Some(payload.to_string().as_bytes()),
    );
    assert_eq!(hooked.code, 0, "{hooked:?}");
    assert_eq!(
        std::fs::read_dir(elsewhere.join("prod")).unwrap().count(),
        0
    );
    SessionBuilder::new(OTHER)
        .prompt("planted")
        .write_in(&elsewhere.join("prod"));
    let refused = in_workspace(&["list"], None);
    assert_eq!(refused.code, 3, "{refused:?}");
    assert!(refused.stderr.contains("workspaces"), "{refused:?}");
    assert!(!refused.stdout.contains("planted"), "{refused:?}");
}

/// Only the workspace `AGENT_STRACE_WORKSPACE` names is a workspace's store. Any store path
/// ending in `workspaces/<name>` was taken for one: a user's own link named `workspaces` on the
/// way to the store they named was refused (a link of theirs anywhere else is followed), and a
/// hook told to write to `new/workspaces/ws` made all three folders, where a store makes only
/// its own.
#[test]
fn a_store_named_under_a_workspaces_folder_is_a_store_as_any_other() {
    let env = TestEnv::new();
    let real = env.path().join("real");
    std::fs::create_dir_all(real.join("ci")).unwrap();
    SessionBuilder::new(SID)
        .prompt("theirs")
        .write_in(&real.join("ci"));
    symlink(&real, env.path().join("workspaces")).unwrap();
    let named = env.path().join("workspaces").join("ci");
    let listed = run(&env, &["list", "--trace-dir", named.to_str().unwrap()]);
    assert_eq!(listed.code, 0, "{listed:?}");
    assert!(listed.stdout.contains(SID), "{listed:?}");

    let new = env.path().join("new").join("workspaces").join("ws");
    let payload = json!({"session_id": OTHER, "hook_event_name": "UserPromptSubmit",
                         "prompt": "x", "cwd": env.path()});
    let hooked = run_within(
        env.command(&["hook", "--trace-dir", new.to_str().unwrap(), "user-prompt"]),
        Some(payload.to_string().as_bytes()),
    );
    assert_eq!(hooked.code, 0, "{hooked:?}");
    assert!(!env.path().join("new").exists(), "{hooked:?}");
}

/// Another user's `.agent-traces` in a folder above a project (a shared `/tmp`) was taken for
/// the project's store: a hook wrote the user's prompts where that user reads them (or, their
/// store closed, failed to record every session below it). A store another user owns is passed
/// over when walking up, and is never written to.
#[test]
fn another_users_store_above_a_project_is_passed_over_and_never_written() {
    let env = TestEnv::new();
    let shared = env.path().join("shared");
    let theirs = shared.join(".agent-traces");
    std::fs::create_dir_all(&theirs).unwrap();
    if !give_away(&theirs) {
        eprintln!("not root: a folder owned by another user cannot be made here");
        return;
    }
    let project = shared.join("myproj");
    std::fs::create_dir(&project).unwrap();
    let payload = json!({"session_id": SID, "hook_event_name": "UserPromptSubmit",
                         "prompt": "my secret plan", "cwd": project});
    let hooked = run_within(
        env.command(&["hook", "user-prompt"]),
        Some(payload.to_string().as_bytes()),
    );
    assert_eq!(hooked.code, 0, "{hooked:?}");
    assert_eq!(std::fs::read_dir(&theirs).unwrap().count(), 0);
    assert!(
        project
            .join(".agent-traces")
            .join(SID)
            .join("events.ndjson")
            .is_file(),
        "{hooked:?}"
    );
    let mut listed = env.command(&["list", "--format", "json"]);
    listed.current_dir(&project);
    let listed = run_within(listed, None);
    assert_eq!(listed.code, 0, "{listed:?}");
    assert!(listed.stdout.contains(SID), "{listed:?}");

    // Named outright, it is read (it is theirs to share) but never written to.
    let named = run(&env, &["list", "--trace-dir", theirs.to_str().unwrap()]);
    assert_eq!(named.code, 0, "{named:?}");
    let hooked = run_within(
        env.command(&[
            "hook",
            "--trace-dir",
            theirs.to_str().unwrap(),
            "user-prompt",
        ]),
        Some(payload.to_string().as_bytes()),
    );
    assert_eq!(hooked.code, 0, "{hooked:?}");
    assert!(!theirs.join(SID).exists(), "{hooked:?}");
    assert!(!theirs.join("hook-errors.log").exists(), "{hooked:?}");
    assert!(hooked.stderr.contains("another user's store"), "{hooked:?}");
}

/// A store first made on a full disk (here: under a file size limit of nothing) kept an empty
/// `.gitignore` for good, which ignores nothing: every later session, prompts and tool output,
/// showed in `git status` to be committed. The next new session fills it, once there is room.
#[test]
fn a_gitignore_left_empty_by_a_full_disk_is_filled_by_the_next_session() {
    let env = TestEnv::new();
    let payload = |id: &str| {
        json!({"session_id": id, "hook_event_name": "UserPromptSubmit", "prompt": "x",
               "cwd": env.path()})
        .to_string()
    };
    let command = env.command(&["hook", "user-prompt"]);
    let mut limited = Command::new("sh");
    limited
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -S -f 0; exec \"$0\" \"$@\"")
        .arg(command.get_program())
        .args(command.get_args())
        .current_dir(env.path());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => limited.env(name, value),
            None => limited.env_remove(name),
        };
    }
    let run = run_within(limited, Some(payload(SID).as_bytes()));
    assert_eq!(run.code, 0, "{run:?}");
    let gitignore = env.store().join(".gitignore");
    assert_eq!(std::fs::read(&gitignore).unwrap(), b"", "the limit held");

    hook(
        &env,
        "user-prompt",
        &serde_json::from_str(&payload(OTHER)).unwrap(),
    );
    let text = std::fs::read_to_string(&gitignore).unwrap();
    assert!(text.lines().any(|line| line == "*"), "{text:?}");

    // A file of the user's own is theirs.
    std::fs::write(&gitignore, "!keep-me\n").unwrap();
    hook(
        &env,
        "user-prompt",
        &serde_json::from_str(&payload("third")).unwrap(),
    );
    assert_eq!(std::fs::read_to_string(&gitignore).unwrap(), "!keep-me\n");
}
