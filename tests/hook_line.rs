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

    let version = env.run(&["hook", "--version"]);
    assert_eq!(version.code, 2, "{version:?}");
    assert!(version.stderr.contains("'--version'"), "{version:?}");
    assert!(version.stdout.is_empty(), "{version:?}");

    // No event: the usage error of the whole CLI, exit 2, nothing recorded.
    let missing = env.run_with_stdin(&["hook"], &start());
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(missing.stderr.contains("<EVENT>"), "{missing:?}");
    let unknown = env.run_with_stdin(&["hook", "pre-tool", "--no-such-flag"], &start());
    assert_eq!(unknown.code, 2, "{unknown:?}");
    assert!(unknown.stderr.contains("--no-such-flag"), "{unknown:?}");
    assert!(sessions(&env.store()).is_empty());

    // `hook` as another command's value is that command's.
    let listed = env.run(&["list", "--format", "json", "--trace-dir", "hook"]);
    assert_eq!(
        listed.code,
        env.run(&["list", "--format", "json", "--trace-dir", "elsewhere"])
            .code
    );
}
