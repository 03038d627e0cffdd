//! `hook`'s command line, which a parser of its own reads (for start-up speed): the same flags
//! in the same places as the whole CLI, and the whole CLI's help and errors.

use serde_json::json;

use crate::common::TestEnv;

const SID: &str = "9d1c4b7e-2f3a-4e5d-8c6b-7a8f9e0d1c2b";

fn start() -> Vec<u8> {
    json!({"session_id": SID, "transcript_path": "/nonexistent.jsonl",
           "hook_event_name": "SessionStart", "source": "startup"})
    .to_string()
    .into_bytes()
}

/// The sessions of a store, by their folders.
fn sessions(store: &std::path::Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(store)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().join("events.ndjson").exists())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

#[test]
fn global_flags_before_and_after_hook_reach_it() {
    let env = TestEnv::new();
    for (n, args) in [
        vec!["--trace-dir", "{}/a", "hook", "session-start"],
        vec!["hook", "--trace-dir", "{}/b", "session-start"],
        vec![
            "hook",
            "session-start",
            "--trace-dir",
            "{}/c",
            "--color",
            "never",
        ],
        vec![
            "--color=always",
            "hook",
            "session-start",
            "--trace-dir={}/d",
        ],
    ]
    .into_iter()
    .enumerate()
    {
        let dir = env.path().display().to_string();
        let args: Vec<String> = args.iter().map(|a| a.replace("{}", &dir)).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = env.run_with_stdin(&args, &start());
        run.success();
        assert!(run.stdout.is_empty(), "{args:?}: {run:?}");
        let store = env.path().join(["a", "b", "c", "d"][n]);
        assert_eq!(sessions(&store), vec![SID.to_owned()], "{args:?}");
    }
    // None of them wrote to the default store.
    assert!(sessions(&env.store()).is_empty());
}

#[test]
fn hook_help_and_mistakes_are_the_whole_cli_s() {
    let env = TestEnv::new();
    let help = env.run(&["hook", "--help"]);
    help.success();
    assert!(help.stdout.contains("Usage: agent-strace hook"), "{help:?}");
    assert!(help.stdout.contains("--trace-dir"), "{help:?}");
    assert_eq!(env.run(&["help", "hook"]).stdout, help.stdout);

    // Typed at a terminal: the usage error of the whole CLI, exit 2, nothing recorded.
    let typed = |line: &str| {
        let output = std::process::Command::new("script")
            .args([
                "-qec",
                &format!("{} {line}", crate::common::bin().display()),
                "/dev/null",
            ])
            .current_dir(env.path())
            .env("AGENT_STRACE_HOME", env.home.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        crate::common::Run::of(output)
    };
    let version = typed("hook --version");
    assert_eq!(version.code, 2, "{version:?}");
    assert!(version.stdout.contains("'--version'"), "{version:?}");
    let missing = typed("hook");
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(missing.stdout.contains("<EVENT>"), "{missing:?}");
    let unknown = typed("hook pre-tool --no-such-flag");
    assert_eq!(unknown.code, 2, "{unknown:?}");
    assert!(unknown.stdout.contains("--no-such-flag"), "{unknown:?}");
    assert!(sessions(&env.store()).is_empty());

    // Run by an agent (stdin a pipe): every agent takes exit 2 as "block", so the same
    // mistakes go to the hook's log, and the agent hears nothing; a line with an event is
    // recorded without what it does not know.
    for line in [
        &["hook", "--version"][..],
        &["hook"],
        &["hook", "pre-tool", "--no-such-flag"],
    ] {
        let run = env.run_with_stdin(line, &start());
        assert_eq!(
            (run.code, run.stdout.as_str(), run.stderr.as_str()),
            (0, "", ""),
            "{line:?}"
        );
    }
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
    assert!(
        log.contains("'--version'") && log.contains("<EVENT>") && log.contains("--no-such-flag"),
        "{log}"
    );
    assert_eq!(sessions(&env.store()), vec![SID.to_owned()]);

    // `hook` as another command's value is that command's.
    let listed = env.run(&["list", "--format", "json", "--trace-dir", "hook"]);
    assert_eq!(
        listed.code,
        env.run(&["list", "--format", "json", "--trace-dir", "elsewhere"])
            .code
    );
}

/// A project whose policy forbids reading `.env`, and Claude Code's pre-tool payload that reads
/// it, from `cwd`.
fn forbidden_read(cwd: &std::path::Path) -> Vec<u8> {
    json!({"session_id": SID, "hook_event_name": "PreToolUse", "cwd": cwd,
           "tool_name": "Read", "tool_input": {"file_path": cwd.join(".env")},
           "tool_use_id": "t1"})
    .to_string()
    .into_bytes()
}

fn forbid_env(dir: &std::path::Path) {
    std::fs::write(
        dir.join(".agent-scope.json"),
        json!({"files": {"read": {"deny": [".env"]}}}).to_string(),
    )
    .unwrap();
}

/// A line a newer `setup` wrote, which this binary reads only in part (a flag it does not know,
/// with or without a value, an agent it does not know): the policy is still enforced and the
/// event recorded, and one line in the event's store says what was ignored. Before, the hook
/// logged clap's message and let the call run, unjudged and unrecorded.
#[test]
fn a_hook_line_with_unknown_flags_or_agent_still_enforces_the_policy_and_records() {
    for line in [
        &["hook", "--new-flag", "value", "pre-tool"][..],
        &["hook", "pre-tool", "--new-flag"],
        &["hook", "--new-flag=value", "pre-tool", "--other", "x"],
        &["hook", "--agent", "future-agent", "pre-tool"],
        &["hook", "--agent=future-agent", "--new-flag", "pre-tool"],
        &["--new-global", "value", "hook", "pre-tool"],
    ] {
        let env = TestEnv::new();
        forbid_env(env.path());
        let run = env.run_with_stdin(line, &forbidden_read(env.path()));
        assert_eq!(run.code, 0, "{line:?}: {run:?}");
        let answer: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{line:?}: no denial ({e}): {run:?}"));
        assert_eq!(
            answer["hookSpecificOutput"]["permissionDecision"], "deny",
            "{line:?}"
        );
        assert_eq!(sessions(&env.store()), vec![SID.to_owned()], "{line:?}");
        let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
        assert_eq!(log.lines().count(), 1, "{line:?}: {log}");
        assert!(log.contains("ignored"), "{line:?}: {log}");
        let unknown = line
            .iter()
            .find(|w| w.starts_with("--new") || w.contains("future-agent"))
            .unwrap();
        let unknown = unknown.split('=').next_back().unwrap();
        assert!(log.contains(unknown), "{line:?}: {log}");
    }

    // `--policy FILE` on such a line is the policy enforced.
    let env = TestEnv::new();
    let elsewhere = env.path().join("policies");
    std::fs::create_dir_all(&elsewhere).unwrap();
    forbid_env(&elsewhere);
    let policy = elsewhere.join(".agent-scope.json");
    let run = env.run_with_stdin(
        &[
            "hook",
            "--policy",
            policy.to_str().unwrap(),
            "--new-flag",
            "pre-tool",
        ],
        &forbidden_read(env.path()),
    );
    assert!(run.stdout.contains("deny"), "{run:?}");
}

/// A line that cannot be read even so (no event): nothing is judged, and the log line, in the
/// store of the payload's project or the line's `--trace-dir` as every other line of the event,
/// says the policy was not enforced. Before, it went to the store of the folder the hook ran
/// in, and said nothing of the policy.
#[test]
fn an_unreadable_hook_line_logs_in_the_events_store_that_the_policy_is_not_enforced() {
    let env = TestEnv::new();
    let project = env.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    forbid_env(&project);
    let run = env.run_with_stdin(&["hook", "--new-flag"], &forbidden_read(&project));
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{run:?}");
    assert!(!env.store().exists(), "logged in the hook's folder");
    let log = std::fs::read_to_string(project.join(".agent-traces/hook-errors.log")).unwrap();
    assert!(log.contains("POLICY NOT ENFORCED"), "{log}");
    assert!(log.contains("<EVENT>"), "{log}");

    // With --trace-dir, there; also a recorded line with an ignored flag.
    let traces = env.path().join("traces");
    for line in [
        &[
            "hook",
            "--new-flag",
            "--trace-dir",
            traces.to_str().unwrap(),
        ][..],
        &[
            "hook",
            "--trace-dir",
            traces.to_str().unwrap(),
            "--new-flag",
            "session-start",
        ],
    ] {
        env.run_with_stdin(line, &start()).success();
    }
    let log = std::fs::read_to_string(traces.join("hook-errors.log")).unwrap();
    assert_eq!(log.lines().count(), 2, "{log}");
    assert_eq!(sessions(&traces), vec![SID.to_owned()]);
    assert!(!env.store().exists(), "logged in the hook's folder");
    // No policy named or found: nothing said of one.
    assert!(!log.contains("POLICY NOT ENFORCED"), "{log}");
}
