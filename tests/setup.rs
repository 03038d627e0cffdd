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
        "StopFailure",
        "PermissionDenied",
    ] {
        assert!(merged["hooks"][event].is_array(), "{event} missing");
    }
    // No `claude` on the PATH said its release: the newest event is left out.
    assert!(merged["hooks"].get("PreSkillShellCommand").is_none());

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

/// `CLAUDE_CONFIG_DIR` naming two folders, as `import` reads it, made one folder whose name
/// held the comma and wrote settings.json in it; `setup --global` refuses the list, naming the
/// variable, and writes nothing, while one folder named takes the settings.
#[test]
fn global_refuses_a_claude_config_dir_list_and_makes_no_comma_folder() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let (c1, c2) = (home.join("c1"), home.join("c2"));
    let list = format!("{},{}", c1.display(), c2.display());
    let mut cmd = env.command(&["setup", "--global", "--write"]);
    cmd.env("HOME", &home).env("CLAUDE_CONFIG_DIR", &list);
    let run = crate::common::Run::of(cmd.output().unwrap());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("CLAUDE_CONFIG_DIR"), "{}", run.stderr);
    let made: Vec<String> = std::fs::read_dir(&home)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(made.iter().all(|name| !name.contains(',')), "{made:?}");
    assert!(!c1.join("settings.json").exists() && !c2.join("settings.json").exists());
    let mut one = env.command(&["setup", "--global", "--write"]);
    one.env("HOME", &home).env("CLAUDE_CONFIG_DIR", &c1);
    assert!(one.output().unwrap().status.success());
    assert!(c1.join("settings.json").is_file());
}

#[test]
fn printed_block_is_valid_json_with_every_event_no_claude_to_ask_takes() {
    let env = TestEnv::new();
    let run = env.run(&["setup"]);
    let block: Value = serde_json::from_str(&run.success().stdout).unwrap();
    assert_eq!(block["hooks"].as_object().unwrap().len(), 15);
    // What to know of the block is said on stderr.
    let out = &run.stderr;
    assert!(
        out.contains(
            "so PreSkillShellCommand (from 2.1.332) and Interrupt (from 2.1.335) are left out"
        ),
        "{out}"
    );
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

/// Runs `cmd`, failing the test if it has not finished within 30 s (a setup that waits on a
/// FIFO would wait for ever).
fn run_within(mut cmd: std::process::Command) -> crate::common::Run {
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn binary");
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > crate::common::wait::HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{cmd:?} did not finish within {:?}",
                crate::common::wait::HANG
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    crate::common::Run::of(child.wait_with_output().expect("output"))
}

#[test]
fn a_settings_file_that_is_no_regular_file_is_refused_without_waiting() {
    let env = TestEnv::new();
    let settings = settings_in(&env);
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &settings,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    let run = run_within(env.command(&["setup", "--write"]));
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        run.stderr.trim(),
        format!(
            "error: {} is a FIFO, not a regular file",
            ".claude/settings.json"
        )
    );
    std::fs::remove_file(&settings).unwrap();

    // A link to a device is followed to it, and refused there: /dev/zero never ends. (A
    // project's own settings file is not followed out of the project at all.)
    std::os::unix::fs::symlink("/dev/zero", &settings).unwrap();
    let run = run_within(env.command(&["setup", "--write"]));
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("leads out of the project"),
        "{}",
        run.stderr
    );
    let named = env.command(&["setup", "--write", "--settings", ".claude/settings.json"]);
    let run = run_within(named);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("/dev/zero is a device"),
        "{}",
        run.stderr
    );

    // Codex's config.toml beside its hooks.json is read the same way.
    let codex = env.path().join(".codex");
    std::fs::create_dir_all(&codex).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        codex.join("config.toml"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    run_within(env.command(&["setup", "--agent", "codex", "--write"])).success();
}

#[test]
fn a_link_to_nothing_is_refused_and_nothing_is_created_where_it_points() {
    let env = TestEnv::new();
    let settings = settings_in(&env);
    let elsewhere = env.path().join("elsewhere").join("deep").join("file.json");
    std::os::unix::fs::symlink(&elsewhere, &settings).unwrap();
    let run = env.run(&["setup", "--write"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
    assert!(!env.path().join("elsewhere").exists());
    assert!(
        std::fs::symlink_metadata(&settings)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_byte_order_mark_and_crlf_line_ends_are_kept() {
    let env = TestEnv::new();
    let settings = settings_in(&env);
    let original = "\u{feff}{\r\n  \"model\": \"opus\",\r\n  \"env\": {\"A\": \"1\"}\r\n}\r\n";
    std::fs::write(&settings, original).unwrap();
    env.run(&["setup", "--write"]).success();
    let text = std::fs::read_to_string(&settings).unwrap();
    let body = text
        .strip_prefix('\u{feff}')
        .expect("the byte order mark was lost");
    assert!(
        body.split_inclusive('\n').all(|l| l.ends_with("\r\n")),
        "a line lost its CRLF:\n{text:?}"
    );
    let merged: Value = serde_json::from_str(body).unwrap();
    assert_eq!(merged["model"], "opus");
    assert!(merged["hooks"]["Stop"].is_array());
    assert_eq!(
        std::fs::read_to_string(settings.with_file_name("settings.json.bak")).unwrap(),
        original
    );
}

#[test]
fn two_setups_at_once_keep_both_changes() {
    let env = TestEnv::new();
    let settings = settings_in(&env);
    for round in 0..8 {
        std::fs::write(&settings, "{\"model\": \"opus\"}\n").unwrap();
        let mut hooks = env.command(&["setup", "--write"]);
        let mut otel = env.command(&["setup", "--otel", "--write"]);
        let hooks = hooks.stdout(std::process::Stdio::null()).spawn().unwrap();
        let otel = otel.stdout(std::process::Stdio::null()).spawn().unwrap();
        assert!(hooks.wait_with_output().unwrap().status.success());
        assert!(otel.wait_with_output().unwrap().status.success());
        let merged: Value =
            serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
        assert_eq!(merged["model"], "opus", "round {round}");
        assert!(merged["hooks"]["Stop"].is_array(), "round {round}");
        assert_eq!(
            merged["env"]["OTEL_TRACES_EXPORTER"], "otlp",
            "round {round}: one setup's change was lost"
        );
    }
}

/// The `hooks` of the project's .claude/settings.json, as setup wrote them.
fn written_hooks(env: &TestEnv) -> Value {
    let settings = env.path().join(".claude").join("settings.json");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(settings).unwrap()).unwrap();
    written["hooks"].clone()
}

/// Runs `setup --write` with a `claude` on PATH that says it is `release` (when given).
fn setup_beside_claude(env: &TestEnv, release: Option<&str>) -> crate::common::Run {
    let bin = env.path().join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    if let Some(release) = release {
        let claude = bin.join("claude");
        std::fs::write(
            &claude,
            format!("#!/bin/sh\necho '{release} (Claude Code)'\n"),
        )
        .unwrap();
        std::fs::set_permissions(
            &claude,
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
        )
        .unwrap();
    }
    let path = format!("{}:/usr/bin:/bin", bin.display());
    crate::common::Run::of(
        env.command(&["setup", "--write"])
            .env("PATH", path)
            .output()
            .unwrap(),
    )
}

/// Claude Code checks `hooks` against the events it knows and ignores the whole settings file,
/// permissions and all, when one is not among them: `setup` wrote all thirteen whatever the
/// release, so a Claude Code older than 2.1.76 (PostCompact) read neither the user's settings
/// nor any hook. The events the installed release does not take are left out now, and ours an
/// earlier setup wrote for them are taken off, the user's own hooks staying.
#[test]
fn setup_writes_no_event_the_installed_claude_code_would_reject() {
    let env = TestEnv::new();
    let settings = env.path().join(".claude").join("settings.json");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    std::fs::write(
        &settings,
        json!({"permissions": {"allow": ["Bash(npm test)"]},
            "hooks": {"PreCompact": [{"hooks": [{"type": "command", "command": "./mine.sh"}]}]}})
        .to_string(),
    )
    .unwrap();
    // Today's release takes every event.
    let run = setup_beside_claude(&env, Some("2.1.335"));
    run.success();
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    assert_eq!(written["hooks"].as_object().unwrap().len(), 17, "{written}");
    assert!(!run.stdout.contains("left out"), "{}", run.stdout);

    // Then the user goes back to 2.0.50: PostToolUseFailure, PostCompact and the later events
    // go, and the rest stays, the user's own PreCompact hook and permissions with it.
    let run = setup_beside_claude(&env, Some("2.0.50"));
    run.success();
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    let hooks = written["hooks"].as_object().unwrap();
    assert!(hooks.get("PostToolUseFailure").is_none(), "{written}");
    assert!(hooks.get("PostCompact").is_none(), "{written}");
    assert_eq!(hooks.len(), 11, "{written}");
    assert_eq!(hooks["PreCompact"][0]["hooks"][0]["command"], "./mine.sh");
    assert_eq!(written["permissions"]["allow"][0], "Bash(npm test)");
    assert!(
        run.stdout.contains(
            "2.0.50 takes no hooks for PostToolUseFailure, StopFailure, PostCompact, \
             PermissionDenied, PreSkillShellCommand, Interrupt"
        ),
        "{}",
        run.stdout
    );
    // Run again: nothing to change, and still said.
    let again = setup_beside_claude(&env, Some("2.0.50"));
    again.success();
    assert!(again.stdout.contains("nothing changed"), "{}", again.stdout);
    assert!(again.stdout.contains("left out"), "{}", again.stdout);
}

/// With no `claude` to ask, `setup` writes every event older releases took long ago, and leaves
/// out PreSkillShellCommand and Interrupt, new in 2.1.332 and 2.1.335 (a release before them
/// may ignore a whole settings file naming them), saying so; the hook for one that a setup where
/// `claude` answered wrote stays.
#[test]
fn setup_without_claude_on_path_leaves_out_only_the_newest_event() {
    let env = TestEnv::new();
    let run = setup_beside_claude(&env, None);
    run.success();
    let settings = env.path().join(".claude").join("settings.json");
    let read =
        || -> Value { serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap() };
    let written = read();
    let hooks = written["hooks"].as_object().unwrap();
    assert_eq!(hooks.len(), 15, "{written}");
    assert!(hooks.contains_key("PostCompact"), "{written}");
    assert!(hooks.contains_key("PermissionDenied"), "{written}");
    assert!(!hooks.contains_key("PreSkillShellCommand"), "{written}");
    assert!(
        run.stdout.contains(
            "No `claude` on the PATH said its release, so PreSkillShellCommand (from 2.1.332) and Interrupt (from 2.1.335) are left out"
        ),
        "{}",
        run.stdout
    );
    setup_beside_claude(&env, Some("2.1.335")).success();
    assert!(read()["hooks"].get("PreSkillShellCommand").is_some());
    let again = setup_beside_claude(&env, None);
    again.success();
    assert!(again.stdout.contains("nothing changed"), "{}", again.stdout);
    assert!(read()["hooks"].get("PreSkillShellCommand").is_some());
}

/// A skill's inline shell command (PreSkillShellCommand) is judged only by a hook on that event,
/// which `setup` did not write (which release first took it was not known), so a policy was
/// never asked about it unless the user added the hook by hand. Claude Code 2.1.332 is the
/// first whose event list names it: `setup` writes it for that release on, with a matcher as
/// for the other tool events, and leaves it out for 2.1.331.
#[test]
fn setup_writes_the_skill_command_hook_for_releases_that_take_it() {
    let env = TestEnv::new();
    let settings = env.path().join(".claude").join("settings.json");
    setup_beside_claude(&env, Some("2.1.332")).success();
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    let group = &written["hooks"]["PreSkillShellCommand"][0];
    assert_eq!(group["matcher"], "", "{written}");
    let command = group["hooks"][0]["command"].as_str().unwrap();
    assert!(command.ends_with(" hook skill-shell-command"), "{command}");
    let run = setup_beside_claude(&env, Some("2.1.331"));
    run.success();
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    assert!(
        written["hooks"].get("PreSkillShellCommand").is_none(),
        "{written}"
    );
    assert!(
        run.stdout
            .contains("Claude Code 2.1.331 takes no hooks for PreSkillShellCommand"),
        "{}",
        run.stdout
    );
    // The hook it writes reads the payload as that event's.
    let payload = json!({"session_id": "sk", "tool_name": "Bash",
                         "tool_input": {"command": "make deploy"}, "command_name": "ship"});
    env.hook("skill-shell-command", &payload).success();
    let calls: Vec<Value> = env
        .events("sk")
        .into_iter()
        .filter(|e| e["event_type"] == "tool_call")
        .collect();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["data"]["skill"], "ship");
}

/// `setup` wrote no hook for PermissionDenied (a call auto mode refused) nor StopFailure (a turn
/// an API error ended), so a user who ran it never recorded either. Claude Code takes
/// StopFailure from 2.1.78 and PermissionDenied from 2.1.88 (the event lists of their `cli.js`
/// on npm; 2.1.77's and 2.1.87's do not name them): `setup` writes each from its release on,
/// PermissionDenied with a tool matcher, and the hooks it writes are read as those events.
#[test]
fn setup_writes_the_refusal_and_api_error_hooks_for_releases_that_take_them() {
    let env = TestEnv::new();
    let hooks = || written_hooks(&env);
    setup_beside_claude(&env, Some("2.1.88")).success();
    let written = hooks();
    let denied = &written["PermissionDenied"][0];
    assert_eq!(denied["matcher"], "", "{written}");
    let command = denied["hooks"][0]["command"].as_str().unwrap();
    assert!(command.ends_with(" hook permission-denied"), "{command}");
    let failure = &written["StopFailure"][0];
    assert!(failure.get("matcher").is_none(), "{written}");
    let command = failure["hooks"][0]["command"].as_str().unwrap();
    assert!(command.ends_with(" hook stop-failure"), "{command}");

    let run = setup_beside_claude(&env, Some("2.1.87"));
    assert!(
        run.success().stdout.contains(
            "Claude Code 2.1.87 takes no hooks for PermissionDenied, PreSkillShellCommand"
        ),
        "{}",
        run.stdout
    );
    assert!(hooks().get("PermissionDenied").is_none());
    assert!(hooks().get("StopFailure").is_some());
    let run = setup_beside_claude(&env, Some("2.1.77"));
    assert!(
        run.success().stdout.contains(
            "Claude Code 2.1.77 takes no hooks for StopFailure, PermissionDenied, \
             PreSkillShellCommand"
        ),
        "{}",
        run.stdout
    );
    assert!(hooks().get("StopFailure").is_none());

    // The commands it writes name events `hook` reads (the payload's own name aside).
    let refused = json!({"session_id": "pd", "tool_name": "Bash",
                         "tool_input": {"command": "git push --force"}, "reason": "no"});
    env.hook("permission-denied", &refused).success();
    let failed = json!({"session_id": "pd", "error": "overloaded"});
    env.hook("stop-failure", &failed).success();
    let errors: Vec<String> = env
        .events("pd")
        .into_iter()
        .filter(|e| e["event_type"] == "error")
        .map(|e| e["data"]["error"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        errors,
        [
            "Permission for this action has been denied. Reason: no",
            "API error (overloaded)"
        ]
    );
}

/// Claude Code 2.1.335 added a 35th hook event, Interrupt (an interrupt ended the turn, in place
/// of Stop); 2.1.334's binary does not name it. `setup` writes it (`hook interrupt`, no matcher)
/// for 2.1.335 on and leaves it out for 2.1.334, which may ignore a whole settings file naming
/// it.
#[test]
fn setup_writes_the_interrupt_hook_only_for_releases_that_take_it() {
    let env = TestEnv::new();
    let hooks = || written_hooks(&env);
    setup_beside_claude(&env, Some("2.1.335")).success();
    let group = &hooks()["Interrupt"][0];
    assert!(group.get("matcher").is_none(), "{group}");
    let command = group["hooks"][0]["command"].as_str().unwrap();
    assert!(command.ends_with(" hook interrupt"), "{command}");
    let run = setup_beside_claude(&env, Some("2.1.334"));
    assert!(
        run.success()
            .stdout
            .contains("Claude Code 2.1.334 takes no hooks for Interrupt"),
        "{}",
        run.stdout
    );
    assert!(hooks().get("Interrupt").is_none());
    assert!(hooks().get("PreSkillShellCommand").is_some());
}

/// A project's settings file, or its folder, that links out of the project is not followed:
/// a cloned repository could point `.claude/settings.json` at any empty or JSON file of the
/// user's (it was rewritten with the hooks), and `.claude` at any folder (a settings file was
/// made there). Named on purpose with --settings, the link is followed, as a dotfile's is.
#[test]
fn a_projects_settings_that_link_out_of_the_project_are_not_followed() {
    let env = TestEnv::new();
    let project = env.path().join("project");
    let elsewhere = env.path().join("elsewhere");
    std::fs::create_dir_all(project.join(".claude")).unwrap();
    std::fs::create_dir_all(elsewhere.join("victim")).unwrap();
    let empty = elsewhere.join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    std::os::unix::fs::symlink(&empty, project.join(".claude/settings.json")).unwrap();
    let in_project = |args: &[&str]| {
        let mut command = env.command(args);
        command.current_dir(&project);
        crate::common::Run::of(command.output().unwrap())
    };
    let run = in_project(&["setup", "--write"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr
            .contains(".claude/settings.json leads out of the project, into")
            && run.stderr.contains("elsewhere"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&empty).unwrap(), "");

    std::fs::remove_dir_all(project.join(".claude")).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("victim"), project.join(".claude")).unwrap();
    let run = in_project(&["setup", "--write"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        std::fs::read_dir(elsewhere.join("victim"))
            .unwrap()
            .next()
            .is_none(),
        "nothing is made in the folder the link names"
    );

    let run = in_project(&["setup", "--write", "--settings", ".claude/settings.json"]);
    run.success();
    assert!(elsewhere.join("victim/settings.json").exists());
}

/// A settings file its user made read-only is refused, left as it was: setup replaced it (a
/// rename, which only the folder's permission decides), past what the user said.
#[test]
fn a_read_only_settings_file_is_refused_and_left_as_it_was() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let settings = settings_in(&env);
    std::fs::write(&settings, KEEP).unwrap();
    let nobody = |path: &std::path::Path, mode: u32| {
        std::os::unix::fs::chown(path, Some(65534), Some(65534)).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    std::fs::set_permissions(env.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    nobody(settings.parent().unwrap(), 0o755);
    nobody(&settings, 0o444);
    let run = crate::common::as_nobody(&env, &["setup", "--write"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains(".claude/settings.json is read-only"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), KEEP);
    assert_eq!(
        std::fs::metadata(&settings).unwrap().permissions().mode() & 0o777,
        0o444
    );
    // As root too, who may write any file: the owner's write bit is what the user said.
    let run = env.run(&["setup", "--write"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), KEEP);
}

/// Settings that setup could not write as the agent reads them: a hook list with entries that
/// are no objects (the agent rejects the file, and every hook in it with ours), an event named
/// twice in `hooks` (the first list was dropped from the file), comments (Gemini CLI reads
/// them: the file was called broken), and a `.claude` that is a link to nothing (an I/O error
/// about a lock) or to a folder out of the project that is not there yet. Each is refused in
/// one line that says why, and the file is left as it was.
#[test]
fn settings_setup_cannot_keep_as_the_agent_reads_them_are_refused_saying_why() {
    let cases = [
        (r#"{"hooks":{"Stop":[1,"x",null]}}"#, "not a JSON object"),
        (
            r#"{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"first.sh"}]}],"Stop":[{"hooks":[{"type":"command","command":"second.sh"}]}]}}"#,
            "names Stop more than once",
        ),
        (
            "{\n  // my theme\n  \"ui\": {\"theme\": \"GitHub\"}\n}",
            "holds comments",
        ),
    ];
    for (text, says) in cases {
        let env = TestEnv::new();
        let settings = settings_in(&env);
        std::fs::write(&settings, text).unwrap();
        let run = env.run(&["setup", "--write"]);
        assert_eq!(run.code, 3, "{text}: {run:?}");
        assert!(run.stderr.contains(says), "{text}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert_eq!(std::fs::read_to_string(&settings).unwrap(), text);
    }
    // A `.claude` that is a link to nothing, in the project and out of it.
    for (points, says) in [
        ("missing", "is a link to a folder that does not exist"),
        ("../out/nodir", "leads out of the project"),
    ] {
        let env = TestEnv::new();
        let project = env.path().join("p");
        std::fs::create_dir_all(&project).unwrap();
        std::os::unix::fs::symlink(points, project.join(".claude")).unwrap();
        let mut cmd = env.command(&["setup", "--write"]);
        cmd.current_dir(&project);
        let run = crate::common::Run::of(cmd.output().unwrap());
        assert_eq!(run.code, 3, "{points}: {run:?}");
        assert!(run.stderr.contains(says), "{points}: {}", run.stderr);
        assert!(!env.path().join("out").exists());
    }
}

/// A hook of ours in a group whose matcher names some tools was updated where it was, and setup
/// said sessions would be recorded: only Bash calls were, and the policy judged no other call
/// (a denied .env read went through). Ours gets a group that matches every tool; the user's
/// hooks stay in their group.
#[test]
fn write_takes_our_hooks_out_of_a_group_whose_matcher_names_some_tools() {
    let env = TestEnv::new();
    let settings = settings_in(&env);
    let ours =
        |arg: &str| json!({"type": "command", "command": format!("agent-strace hook {arg}")});
    let lint = json!({"type": "command", "command": "./lint.sh"});
    std::fs::write(
        &settings,
        json!({"hooks": {
            "PreToolUse": [{"matcher": "Bash", "hooks": [lint, ours("pre-tool")]}],
            "PostToolUse": [{"matcher": "Edit|Write", "hooks": [ours("post-tool")]}]
        }})
        .to_string(),
    )
    .unwrap();
    let run = env.run(&["setup", "--write", "--bin", "agent-strace"]);
    run.success();
    assert!(
        run.stdout
            .contains("PreToolUse: agent-strace's hook was in a group whose matcher \"Bash\"")
            && run.stdout.contains(
                "PostToolUse: agent-strace's hook was in a group whose matcher \"Edit|Write\""
            ),
        "{}",
        run.stdout
    );
    let hooks = written_hooks(&env);
    for (event, arg) in [("PreToolUse", "pre-tool"), ("PostToolUse", "post-tool")] {
        let groups = hooks[event].as_array().unwrap();
        let holding_ours: Vec<&Value> = groups
            .iter()
            .filter(|g| g["hooks"].as_array().unwrap().contains(&ours(arg)))
            .collect();
        assert_eq!(holding_ours.len(), 1, "{event}: {groups:?}");
        assert!(
            ["", "*"].contains(&holding_ours[0]["matcher"].as_str().unwrap()),
            "{event}: {groups:?}"
        );
    }
    assert!(
        hooks["PreToolUse"]
            .as_array()
            .unwrap()
            .contains(&json!({"matcher": "Bash", "hooks": [lint]}))
    );
    let again = env.run(&["setup", "--write", "--bin", "agent-strace"]);
    assert!(
        again.success().stdout.contains("nothing changed"),
        "{}",
        again.stdout
    );
}

/// `disableAllHooks: true` stops Claude Code running any hook: setup said sessions would be
/// recorded all the same.
#[test]
fn write_warns_that_disable_all_hooks_records_nothing() {
    let env = TestEnv::new();
    let settings = settings_in(&env);
    std::fs::write(&settings, r#"{"disableAllHooks": true}"#).unwrap();
    for round in ["written", "again"] {
        let run = env.run(&["setup", "--write", "--bin", "agent-strace"]);
        run.success();
        assert!(
            run.stderr.contains("warning: ") && run.stderr.contains("disableAllHooks"),
            "{round}: {}",
            run.stderr
        );
        assert!(
            !run.stdout.contains("will be recorded"),
            "{round}: {}",
            run.stdout
        );
    }
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    assert_eq!(written["disableAllHooks"], true);
    assert!(written["hooks"]["Stop"].is_array());
    // Printing the block to paste into that very file warns as writing it does.
    let run = env.run(&["setup", "--bin", "agent-strace"]);
    run.success();
    assert!(
        run.stderr.contains("warning: ") && run.stderr.contains("disableAllHooks"),
        "{}",
        run.stderr
    );
}

/// Hooks of ours in the user's settings and in the project's, running different commands, are
/// both run by Claude Code (it runs an identical command once), so every event was recorded
/// twice and setup said nothing. It warns, naming the other file, whichever is written second,
/// and when it only prints the block.
#[test]
fn setup_warns_of_our_hooks_in_the_other_scope_that_would_record_twice() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let setup = |args: &[&str]| {
        let mut cmd = env.command(args);
        cmd.env("HOME", &home);
        crate::common::Run::of(cmd.output().unwrap())
    };
    let user = home.join(".claude/settings.json");
    let warned = |run: &crate::common::Run, file: &str| {
        run.stderr.contains("warning: ")
            && run.stderr.contains(file)
            && run.stderr.contains("recorded twice")
    };
    let first = setup(&["setup", "--global", "--write", "--bin", "agent-strace"]);
    assert!(
        !first.success().stderr.contains("recorded twice"),
        "{}",
        first.stderr
    );
    // The same command in both files runs once: nothing to warn of.
    let same = setup(&["setup", "--write", "--bin", "agent-strace"]);
    assert!(
        !same.success().stderr.contains("recorded twice"),
        "{}",
        same.stderr
    );
    std::fs::remove_file(env.path().join(".claude/settings.json")).unwrap();

    let second = setup(&["setup", "--write", "--bin", "/usr/local/bin/agent-strace"]);
    assert!(
        warned(second.success(), &user.display().to_string()),
        "{}",
        second.stderr
    );
    let printed = setup(&["setup", "--bin", "/usr/local/bin/agent-strace"]);
    assert!(
        warned(printed.success(), &user.display().to_string()),
        "{}",
        printed.stderr
    );

    // The other way round, and a local settings file counts as the project's.
    std::fs::remove_file(&user).unwrap();
    std::fs::rename(
        env.path().join(".claude/settings.json"),
        env.path().join(".claude/settings.local.json"),
    )
    .unwrap();
    let global = setup(&["setup", "--global", "--write", "--bin", "agent-strace"]);
    assert!(
        warned(global.success(), ".claude/settings.local.json"),
        "{}",
        global.stderr
    );
}

/// The commands of ours (any naming `hook`) that `event` holds in `hooks`, and the others.
fn commands_of(hooks: &Value, event: &str) -> (Vec<String>, Vec<String>) {
    hooks[event]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["hooks"].as_array().unwrap())
        .map(|h| h["command"].as_str().unwrap().to_owned())
        .partition(|c| c.contains(" hook"))
}

/// Setup knew its own hook only with the flags before the event: `hook stop --no-redact`, a
/// global flag before `hook`, or the agent's event name (`hook Stop`), all of which the hook
/// takes, were kept and a second hook added beside them, so every event was recorded twice
/// with no warning. Any line the hook takes is ours now, replaced in place, and the warning of
/// another file's hooks sees it too.
#[test]
fn every_spelling_the_hook_takes_is_replaced_in_place_and_warned_of_elsewhere() {
    let env = TestEnv::new();
    let settings = settings_in(&env);
    let lint = json!({"type": "command", "command": "./lint.sh"});
    for spelling in [
        "agent-strace hook stop --no-redact",
        "agent-strace hook stop --redact",
        "agent-strace hook stop --trace-dir /elsewhere",
        "agent-strace hook stop --agent cursor",
        "agent-strace --trace-dir /elsewhere hook stop",
        "agent-strace hook Stop",
        "'/opt/my tools/agent-strace' hook --mask Stop",
    ] {
        let ours = json!({"type": "command", "command": spelling});
        std::fs::write(
            &settings,
            json!({"hooks": {"Stop": [{"hooks": [lint, ours]}]}}).to_string(),
        )
        .unwrap();
        let run = env.run(&["setup", "--write", "--no-redact", "--bin", "agent-strace"]);
        run.success();
        let (ours, others) = commands_of(&written_hooks(&env), "Stop");
        assert_eq!(ours, ["agent-strace hook --no-redact stop"], "{spelling}");
        assert_eq!(others, ["./lint.sh"], "{spelling}");
    }

    // In the project's local settings, it is another command of ours that records twice.
    std::fs::remove_file(&settings).unwrap();
    std::fs::write(
        env.path().join(".claude/settings.local.json"),
        json!({"hooks": {"Stop": [{"hooks": [
            {"type": "command", "command": "agent-strace hook stop --no-redact"}]}]}})
        .to_string(),
    )
    .unwrap();
    let run = env.run(&["setup", "--write", "--bin", "agent-strace"]);
    assert!(
        run.success()
            .stderr
            .contains("settings.local.json holds agent-strace's hooks too")
            && run.stderr.contains("recorded twice"),
        "{}",
        run.stderr
    );
}

/// Running setup again without `--policy`, `--mask`, `--redact-pattern` or `--trace-dir`
/// wrote hooks without them and said only "hooks written": a guardrail policy was gone
/// silently. Setup writes the options it is given (as `--no-redact` is dropped by a run
/// without it), and names on stderr each one the hooks no longer pass.
#[test]
fn setup_again_without_its_options_names_each_one_the_hooks_drop() {
    let env = TestEnv::new();
    let policy = env.path().join("pol.json");
    std::fs::write(&policy, r#"{"files":{"read":{"deny":["secrets/**"]}}}"#).unwrap();
    let store = env.path().join("store");
    let first = env.run(&[
        "setup",
        "--write",
        "--bin",
        "agent-strace",
        "--trace-dir",
        store.to_str().unwrap(),
        "--policy",
        "pol.json",
        "--mask",
        "--redact-pattern",
        "MYKEY-[0-9]+",
    ]);
    assert!(
        !first.success().stderr.contains("no longer pass"),
        "{}",
        first.stderr
    );
    // Restating some keeps quiet about them.
    let some = env.run(&[
        "setup",
        "--write",
        "--bin",
        "agent-strace",
        "--policy",
        "pol.json",
        "--mask",
    ]);
    some.success();
    let warning = some
        .stderr
        .lines()
        .find(|l| l.contains("no longer pass"))
        .unwrap_or_else(|| panic!("{}", some.stderr));
    assert!(
        warning.contains("--redact-pattern 'MYKEY-[0-9]+'")
            && warning.contains(&format!("--trace-dir {}", store.display()))
            && !warning.contains("--policy")
            && !warning.contains("--mask"),
        "{warning}"
    );
    let none = env.run(&["setup", "--write", "--bin", "agent-strace"]);
    none.success();
    assert!(
        none.stderr.contains(&format!(
            "no longer pass --policy {}, --mask:",
            std::fs::canonicalize(&policy).unwrap().display()
        )),
        "{}",
        none.stderr
    );
    let (ours, _) = commands_of(&written_hooks(&env), "PreToolUse");
    assert_eq!(ours, ["agent-strace hook pre-tool"]);
    // Nothing is dropped when nothing changes.
    let again = env.run(&["setup", "--write", "--bin", "agent-strace"]);
    assert!(
        !again.success().stderr.contains("no longer pass"),
        "{}",
        again.stderr
    );
}

/// A group whose matcher is `.*` runs its hooks for every tool, as `""` and `*` do: setup said
/// ours there ran "for what that names only" and moved it into a group of its own.
#[test]
fn a_matcher_that_matches_every_tool_is_left_as_it_is() {
    let env = TestEnv::new();
    let settings = settings_in(&env);
    let group = json!({"matcher": ".*", "hooks": [
        {"type": "command", "command": "./lint.sh"},
        {"type": "command", "command": "agent-strace hook pre-tool"}]});
    std::fs::write(
        &settings,
        json!({"hooks": {"PreToolUse": [group]}}).to_string(),
    )
    .unwrap();
    let run = env.run(&["setup", "--write", "--bin", "agent-strace"]);
    assert!(!run.success().stdout.contains("matcher"), "{}", run.stdout);
    assert_eq!(written_hooks(&env)["PreToolUse"], json!([group]));
}

/// A `.claude` that is a file or a FIFO gave "cannot lock the folder of
/// .claude/settings.json: File exists (os error 17)", exit 4: it is unusable input (exit 3),
/// said as such.
#[test]
fn a_settings_folder_that_is_no_folder_is_refused_saying_so() {
    let env = TestEnv::new();
    let folder = env.path().join(".claude");
    std::fs::write(&folder, "").unwrap();
    env.run(&["setup", "--write"])
        .fails_with(3, "error: .claude is not a folder");
    std::fs::remove_file(&folder).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &folder,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    run_within(env.command(&["setup", "--write"])).fails_with(3, "error: .claude is not a folder");
}
