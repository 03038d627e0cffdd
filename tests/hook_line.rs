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
    // mistakes go to the hook's log, and the agent hears nothing.
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
    assert!(sessions(&env.store()).is_empty());

    // `hook` as another command's value is that command's.
    let listed = env.run(&["list", "--format", "json", "--trace-dir", "hook"]);
    assert_eq!(
        listed.code,
        env.run(&["list", "--format", "json", "--trace-dir", "elsewhere"])
            .code
    );
}
