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
    // The test binary is on no standard PATH: the hooks name it by its full path.
    assert_eq!(
        pre[1]["hooks"][0]["command"],
        format!("{} hook pre-tool", crate::common::bin().display())
    );
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
        run.stderr.starts_with("error: ") && run.stderr.contains("not a valid JSON object"),
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
        format!("{} hook stop", crate::common::bin().display())
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

/// A settings file with a key, a number too big for a float and a float written its own way.
const KEEP: &str = r#"{
  "apiKeyHelper": "~/bin/key.sh",
  "cleanupPeriodDays": 12345678901234567890123,
  "temperature": 1.50,
  "env": {"A": "1"}
}
"#;

fn settings_in(env: &TestEnv) -> std::path::PathBuf {
    let dir = env.path().join(".claude");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("settings.json")
}

#[test]
fn write_goes_through_a_link_and_keeps_it_a_link() {
    let env = TestEnv::new();
    let dotfiles = env.path().join("dotfiles");
    std::fs::create_dir_all(&dotfiles).unwrap();
    let real = dotfiles.join("claude-settings.json");
    std::fs::write(&real, KEEP).unwrap();
    let link = settings_in(&env);
    std::os::unix::fs::symlink("../dotfiles/claude-settings.json", &link).unwrap();

    env.run(&["setup", "--write"]).success();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link was replaced by a file"
    );
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&real).unwrap()).unwrap();
    assert_eq!(
        written["hooks"]["Stop"][0]["hooks"][0]["command"],
        format!("{} hook stop", crate::common::bin().display())
    );
    // The backup sits beside the file the link names.
    assert_eq!(
        std::fs::read_to_string(dotfiles.join("claude-settings.json.bak")).unwrap(),
        KEEP
    );
}

#[test]
fn write_keeps_mode_numbers_and_every_earlier_version() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let settings = settings_in(&env);
    std::fs::write(&settings, KEEP).unwrap();
    std::fs::set_permissions(&settings, std::fs::Permissions::from_mode(0o600)).unwrap();

    env.run(&["setup", "--write"]).success();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&settings), 0o600, "the settings file's mode changed");
    let text = std::fs::read_to_string(&settings).unwrap();
    for kept in [
        "\"cleanupPeriodDays\": 12345678901234567890123",
        "\"temperature\": 1.50",
        "\"apiKeyHelper\": \"~/bin/key.sh\"",
    ] {
        assert!(text.contains(kept), "lost {kept}:\n{text}");
    }
    let after_first = text;

    // A second change (redaction on) backs up again, without losing the first backup.
    env.run(&["setup", "--write", "--redact"]).success();
    let bak = settings.with_file_name("settings.json.bak");
    let bak1 = settings.with_file_name("settings.json.bak.1");
    assert_eq!(std::fs::read_to_string(&bak).unwrap(), KEEP);
    assert_eq!(std::fs::read_to_string(&bak1).unwrap(), after_first);
    assert_eq!(
        mode(&bak),
        0o600,
        "a backup of a private file is readable by others"
    );
    assert_eq!(mode(&settings), 0o600);
    assert!(
        std::fs::read_to_string(&settings)
            .unwrap()
            .contains("--redact")
    );
    // Nothing left behind.
    let names: Vec<String> = std::fs::read_dir(settings.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
}

#[test]
fn write_keeps_the_owner_of_a_file_it_may_change() {
    use std::os::unix::fs::MetadataExt;
    let env = TestEnv::new();
    let settings = settings_in(&env);
    std::fs::write(&settings, KEEP).unwrap();
    if std::os::unix::fs::chown(&settings, Some(4242), Some(4343)).is_err() {
        eprintln!("skipped: giving a file to another owner needs root");
        return;
    }
    env.run(&["setup", "--write"]).success();
    let meta = std::fs::metadata(&settings).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (4242, 4343));
}

#[test]
fn an_invalid_settings_file_is_unusable_input() {
    let env = TestEnv::new();
    let settings = settings_in(&env);
    for bad in ["{ oops", "[1, 2]", "{\"hooks\": 3}"] {
        std::fs::write(&settings, bad).unwrap();
        let run = env.run(&["setup", "--write"]);
        assert_eq!(run.code, 3, "{bad}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert_eq!(std::fs::read_to_string(&settings).unwrap(), bad);
    }
}
