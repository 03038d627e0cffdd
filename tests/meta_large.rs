//! A session whose `meta.json` holds a great many values no view shows (hundreds of thousands
//! of process names in `attribution`, under the 16 MiB a store reads): the index kept them, so
//! that every `list` read them back as tens of times their bytes, and every view of the session
//! held them so. Writers keep them: `meta.json` is the user's, and only views leave them out.

use serde_json::{Value, json};

use std::process::Command;

use crate::common::{Run, TestEnv, bin, run_for_peak_memory_kib, run_for_reads};

const SID: &str = "5e55a2a0-0000-4000-8000-00000000a11e";
/// The names of the large `process_ancestry`: 2 MB of JSON, some 40 MB read as JSON values.
const ANCESTRY: usize = 500_000;
/// What the large session may cost a command beyond the same session without its ancestry.
const SLACK_KIB: u64 = 8 * 1024;

/// Call `n` of session [`SID`], an `ls`, recorded by the hooks in `env`.
fn call(env: &TestEnv, n: usize) {
    let payload = json!({"session_id": SID, "hook_event_name": "PreToolUse",
        "tool_name": "Bash", "tool_input": {"command": "ls"}, "tool_use_id": format!("t{n}")});
    env.hook("pre-tool", &payload).success();
}

/// A store with session [`SID`], one call, whose `attribution` holds a title and, when
/// `large`, [`ANCESTRY`] process names beside it.
fn session(large: bool) -> TestEnv {
    let env = TestEnv::new();
    call(&env, 0);
    let mut meta = env.meta(SID);
    meta["attribution"]["title"] = "Fix the login bug".into();
    if large {
        meta["attribution"]["process_ancestry"] = Value::from(vec!["p"; ANCESTRY]);
    }
    let path = env.store().join(SID).join("meta.json");
    std::fs::write(path, meta.to_string()).unwrap();
    env
}

/// `args` run on `env`, and its peak memory (KiB).
fn peak(env: &TestEnv, args: &[&str]) -> (Run, u64) {
    let (run, peak) = run_for_peak_memory_kib(&env.command(args));
    run.success();
    (run, peak)
}

/// `list` with the index warm reads the session's row, not what `meta.json` holds beside what
/// it lists: it cost as much as reading the whole `meta.json` again, on every run.
#[test]
fn a_warm_list_pays_nothing_for_what_a_large_meta_json_holds_beside_it() {
    let warm = |env: &TestEnv| {
        env.run(&["list"]).success();
        let (run, kib) = peak(env, &["list", "--format", "json"]);
        (run.json(), kib)
    };
    let (small, small_kib) = warm(&session(false));
    let (large, large_kib) = warm(&session(true));
    assert_eq!(small[0]["title"], "Fix the login bug");
    assert_eq!(large[0]["title"], "Fix the login bug");
    assert!(
        large_kib < small_kib + SLACK_KIB,
        "a warm list took {large_kib} KiB, {small_kib} KiB without the ancestry"
    );
}

/// The views of the session read of `meta.json` what they show: `replay` shows its title in
/// the memory it takes for the session without the ancestry, and `inspect` gives the meta
/// without it. A hook that writes `meta.json` again keeps every value it holds.
#[test]
fn views_of_a_large_meta_json_keep_what_they_show_and_writers_keep_it_all() {
    let (small, small_kib) = peak(&session(false), &["replay", SID]);
    let env = session(true);
    let (large, large_kib) = peak(&env, &["replay", SID]);
    assert!(
        small.stdout.contains("Title: Fix the login bug"),
        "{}",
        small.stdout
    );
    assert!(
        large.stdout.contains("Title: Fix the login bug"),
        "{}",
        large.stdout
    );
    assert!(
        large_kib < small_kib + SLACK_KIB,
        "replay took {large_kib} KiB, {small_kib} KiB without the ancestry"
    );
    call(&env, 1);
    call(&env, 2);
    let meta = env.meta(SID);
    assert_eq!(meta["tool_calls"], 3);
    assert_eq!(meta["attribution"]["title"], "Fix the login bug");
    let ancestry = meta["attribution"]["process_ancestry"].as_array().unwrap();
    assert_eq!(ancestry.len(), ANCESTRY);
}

/// `inspect`, `show` and `export` of the session give its meta whole, as the user asked for
/// it: they left out, without a word, what views leave out of it (the ancestry, past the
/// 256 KiB of values a view keeps).
#[test]
fn inspect_show_and_export_of_a_large_meta_json_give_all_of_it() {
    let env = session(true);
    let ancestry = |value: &Value| value["process_ancestry"].as_array().map(Vec::len);
    let inspected = env.run(&["inspect", SID]).success().json();
    assert_eq!(
        inspected["meta"]["attribution"]["title"],
        "Fix the login bug"
    );
    assert_eq!(ancestry(&inspected["meta"]["attribution"]), Some(ANCESTRY));
    let shown = env.run(&["show", SID, "--format", "json"]).success().json();
    assert_eq!(ancestry(&shown["attribution"]), Some(ANCESTRY));
    let exported = env
        .run(&["export", SID, "--format", "json"])
        .success()
        .json();
    assert_eq!(
        ancestry(&exported["session"]["attribution"]),
        Some(ANCESTRY)
    );
}

/// Names in the ancestry of [`hooked_session`]: 12 MB of JSON as written, under the 16 MiB a
/// store reads, 33 MB when written one a line.
const MILLIONS: usize = 3_000_000;

/// A store with session [`SID`], one call, whose `attribution` holds, when `large`,
/// [`MILLIONS`] process names, written as compactly as a tool may write them.
fn hooked_session(large: bool) -> TestEnv {
    let env = TestEnv::new();
    call(&env, 0);
    let mut meta = env.meta(SID);
    meta["attribution"]["process_ancestry"] = "names".into();
    let names = if large {
        format!("[{}\"p\"]", "\"p\",".repeat(MILLIONS - 1))
    } else {
        "[]".to_owned()
    };
    let text = meta.to_string().replace("\"names\"", &names);
    std::fs::write(env.store().join(SID).join("meta.json"), text).unwrap();
    env
}

/// `hook <event>` for call `n` of [`SID`] in `env`, its payload read from a file, so that the
/// hook can be measured by a wrapper.
fn hook_command(env: &TestEnv, event: &str, n: usize) -> Command {
    let (name, response) = match event {
        "pre-tool" => ("PreToolUse", Value::Null),
        _ => ("PostToolUse", json!({"stdout": "a b"})),
    };
    let payload = json!({"session_id": SID, "hook_event_name": name, "tool_name": "Bash",
        "tool_input": {"command": "ls"}, "tool_use_id": format!("t{n}"),
        "tool_response": response, "cwd": env.path()});
    let file = env.path().join(format!("payload-{n}-{event}.json"));
    std::fs::write(&file, payload.to_string()).unwrap();
    let mut command = Command::new("sh");
    command
        .args(["-c", "exec \"$0\" hook \"$1\" < \"$2\""])
        .arg(bin())
        .arg(event)
        .arg(&file)
        .current_dir(env.path());
    for (key, value) in env.command(&[]).get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command
}

/// The figures of `meta.json` a hook keeps, and how many names its ancestry holds, read
/// without reading the names into values.
fn figures(env: &TestEnv) -> (u64, usize, u64) {
    #[derive(serde::Deserialize)]
    struct Figures {
        tool_calls: u64,
    }
    let text = std::fs::read_to_string(env.store().join(SID).join("meta.json")).unwrap();
    let figures: Figures = serde_json::from_str(&text).unwrap();
    let size = u64::try_from(text.len()).unwrap();
    (figures.tool_calls, text.matches("\"p\"").count(), size)
}

/// A hook on a session whose `meta.json` holds millions of values it does not model read them
/// all into values to write them back (680 MB and 7 s for a call in a debug build), and wrote
/// them one a line, 33 MB, past what a store reads: every later hook failed to update it and
/// every view found it unreadable. It writes them back as they were written, in the memory of
/// their text, and a hook that changes no figure in it (a call's result) does not read it.
#[test]
fn a_hook_on_a_meta_json_of_millions_of_values_keeps_them_and_reads_them_only_to_change_it() {
    let peak_of_call = |env: &TestEnv| {
        let (run, kib) = run_for_peak_memory_kib(&hook_command(env, "pre-tool", 1));
        run.success();
        kib
    };
    let reads_of_result = |env: &TestEnv| {
        let (run, reads) = run_for_reads(&hook_command(env, "post-tool", 1));
        run.success();
        reads.bytes
    };
    let small = hooked_session(false);
    let (small_kib, small_bytes) = (peak_of_call(&small), reads_of_result(&small));
    let large = hooked_session(true);
    let written = figures(&large).2;
    let large_kib = peak_of_call(&large);
    assert!(
        large_kib < small_kib + 8 * written / 1024,
        "a call took {large_kib} KiB, {small_kib} KiB without the ancestry of {written} bytes"
    );
    let (tool_calls, names, size) = figures(&large);
    assert_eq!((tool_calls, names), (2, MILLIONS));
    assert!(
        size < written + 4096,
        "{written} bytes written back as {size}"
    );
    let large_bytes = reads_of_result(&large);
    assert!(
        large_bytes < small_bytes + 64 * 1024,
        "a result read {large_bytes} bytes, {small_bytes} without the ancestry"
    );
    call(&large, 2);
    let (tool_calls, names, _) = figures(&large);
    assert_eq!((tool_calls, names), (3, MILLIONS));
}
