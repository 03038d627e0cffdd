//! The README's first command, `bash examples/demo.sh`: it plays its session through the hook
//! and shows what the session did.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{Run, TestEnv, bin};

/// `examples/demo.sh` played with the binary under test (`AGENT_STRACE_BIN`, so that the test
/// builds no release binary), its temporary store under the environment's folder.
fn play_demo(env: &TestEnv) -> Run {
    Run::of(
        demo_command(env)
            .env("AGENT_STRACE_BIN", bin())
            .output()
            .expect("bash runs"),
    )
}

/// `bash examples/demo.sh`, its temporary store under the environment's folder.
fn demo_command(env: &TestEnv) -> Command {
    let mut command = Command::new("bash");
    command
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo.sh"))
        .env("AGENT_STRACE_HOME", env.home())
        .env("TMPDIR", env.path())
        .env("NO_COLOR", "1")
        .env_remove("AGENT_TRACE_DIR")
        .env_remove("AGENT_STRACE_REDACT")
        .env_remove("AGENT_STRACE_BIN");
    command
}

#[test]
fn the_demo_records_its_session_through_the_hook_and_shows_it() {
    let env = TestEnv::new();
    let run = play_demo(&env);
    run.success();
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    // The store it names at the end holds the session and its subagent, as played.
    let store = run
        .stdout
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("The session is in "))
        .and_then(|l| l.split(" (try:").next())
        .unwrap_or_else(|| panic!("no store named: {}", run.stdout));
    assert!(Path::new(store).starts_with(env.path()), "{store}");
    let listed = env
        .command(&["list", "--all", "--format", "json"])
        .env("AGENT_TRACE_DIR", store)
        .output()
        .unwrap();
    let listed: Value = serde_json::from_str(&Run::of(listed).success().stdout).unwrap();
    let sessions = listed.as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{listed}");
    let root = sessions
        .iter()
        .find(|s| s["parent_session_id"].is_null())
        .unwrap_or_else(|| panic!("no top session: {listed}"));
    assert_eq!(root["agent_name"], "claude-code", "{root}");
    assert_eq!(root["tool_calls"], 7, "{root}");
    assert_eq!(root["errors"], 1, "{root}");
    // The three views it shows, each of the same session.
    let id = root["session_id"].as_str().unwrap();
    let text = &run.stdout;
    for heading in [
        "== agent-strace list",
        "== agent-strace replay --expand-subagents",
        "== agent-strace stats --include-subagents",
    ] {
        assert!(text.contains(heading), "{heading}: {text}");
    }
    assert!(text.contains(&format!("Session: {id}")), "{text}");
    assert!(text.contains("✗ error Bash"), "{text}");
    assert!(text.contains("▶ subagent"), "{text}");
    assert!(
        text.contains(&format!("Session {id} and 1 subagent session")),
        "{text}"
    );
    assert!(text.contains("Tool calls: 7   Errors: 1"), "{text}");
}

/// The demo played the binary in `target/release` whatever cargo had built: with
/// `CARGO_TARGET_DIR` set (or a `target-dir` in a cargo config) it found none there, or an old
/// one. It now plays the binary cargo says it built. The `cargo` here answers as cargo does
/// (its JSON message for the binary it built), naming a binary elsewhere that notes each run.
#[test]
fn the_demo_plays_the_binary_cargo_built_wherever_cargo_put_it() {
    use std::os::unix::fs::PermissionsExt;

    let env = TestEnv::new();
    let tools = env.path().join("tools");
    let elsewhere = env.path().join("elsewhere/release");
    std::fs::create_dir_all(&tools).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    let runs = env.path().join("runs.log");
    let built = elsewhere.join("agent-strace");
    let script = |path: &Path, body: String| {
        std::fs::write(path, body).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    script(
        &built,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
            runs.display(),
            bin().display()
        ),
    );
    let message = serde_json::json!({
        "reason": "compiler-artifact",
        "target": {"kind": ["bin"], "name": "agent-strace"},
        "filenames": [built],
        "executable": built,
        "fresh": true,
    });
    script(
        &tools.join("cargo"),
        format!("#!/bin/sh\ncase \"$*\" in *--message-format=json*) echo '{message}';; esac\n"),
    );
    let path = format!(
        "{}:{}",
        tools.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = Run::of(demo_command(&env).env("PATH", path).output().unwrap());
    run.success();
    let runs = std::fs::read_to_string(&runs).unwrap_or_default();
    assert!(runs.lines().any(|l| l.starts_with("hook ")), "{runs}");
    assert!(runs.lines().any(|l| l == "list"), "{runs}");
}
