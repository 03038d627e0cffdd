//! `setup`: the hooks block, printed or merged into settings.json safely.

use serde_json::{Value, json};

use crate::common::TestEnv;

#[test]
fn write_merges_keeps_other_settings_backs_up_and_is_idempotent() {
    let env = TestEnv::new();
    let settings = env.path().join(".claude").join("settings.json");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    let original = json!({
        "permissions": {"allow": ["Bash(npm test)"]},
        "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./guard.sh"}]}]}
    });
    std::fs::write(&settings, serde_json::to_string_pretty(&original).unwrap()).unwrap();

    let first = env.run(&["setup", "--write"]);
    first.success();
    assert!(first.stdout.contains("Backed up"));
    let backup =
        std::fs::read_to_string(env.path().join(".claude").join("settings.json.bak")).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&backup).unwrap(), original);

    let merged: Value = serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    assert_eq!(merged["permissions"], original["permissions"]);
    let pre = merged["hooks"]["PreToolUse"].as_array().unwrap();
    assert_eq!(pre[0]["hooks"][0]["command"], "./guard.sh");
    assert_eq!(pre[1]["hooks"][0]["command"], "agent-strace hook pre-tool");
    for event in [
        "SessionStart",
        "SessionEnd",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "PostToolUseFailure",
        "Stop",
        "SubagentStart",
        "SubagentStop",
        "Notification",
        "PreCompact",
        "PostCompact",
        "PermissionRequest",
    ] {
        assert!(merged["hooks"][event].is_array(), "{event} missing");
    }

    let before = std::fs::read(&settings).unwrap();
    let second = env.run(&["setup", "--write"]);
    second.success();
    assert!(second.stdout.contains("nothing changed"));
    assert_eq!(std::fs::read(&settings).unwrap(), before);
}

#[test]
fn write_refuses_a_settings_file_that_is_not_json() {
    let env = TestEnv::new();
    let settings = env.path().join("custom.json");
    std::fs::write(&settings, "{ oops").unwrap();
    let run = env.run(&["setup", "--write", "--settings", settings.to_str().unwrap()]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.starts_with("error: ") && run.stderr.contains("not valid JSON"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), "{ oops");
}

#[test]
fn global_writes_under_home() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    let mut cmd = env.command(&["setup", "--global", "--write"]);
    cmd.env("HOME", &home);
    assert!(cmd.output().unwrap().status.success());
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(home.join(".claude/settings.json")).unwrap())
            .unwrap();
    assert_eq!(
        written["hooks"]["Stop"][0]["hooks"][0]["command"],
        "agent-strace hook stop"
    );
}

#[test]
fn printed_block_is_valid_json_with_every_event() {
    let env = TestEnv::new();
    let out = env.run(&["setup"]).success().stdout.clone();
    let end = out.rfind('}').unwrap();
    let block: Value = serde_json::from_str(&out[..=end]).unwrap();
    assert_eq!(block["hooks"].as_object().unwrap().len(), 13);
    assert!(out.contains(".claude/settings.json"));
}
