//! A session whose `meta.json` holds a great many values no view shows (hundreds of thousands
//! of process names in `attribution`, under the 16 MiB a store reads): the index kept them, so
//! that every `list` read them back as tens of times their bytes, and every view of the session
//! held them so. Writers keep them: `meta.json` is the user's, and only views leave them out.

use serde_json::{Value, json};

use crate::common::{Run, TestEnv, run_for_peak_memory_kib};

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
    let inspected = env.run(&["inspect", SID]).success().json();
    let attribution = &inspected["meta"]["attribution"];
    assert_eq!(attribution["title"], "Fix the login bug");
    assert_eq!(attribution.get("process_ancestry"), None, "{attribution}");
    call(&env, 1);
    call(&env, 2);
    let meta = env.meta(SID);
    assert_eq!(meta["tool_calls"], 3);
    assert_eq!(meta["attribution"]["title"], "Fix the login bug");
    let ancestry = meta["attribution"]["process_ancestry"].as_array().unwrap();
    assert_eq!(ancestry.len(), ANCESTRY);
}
