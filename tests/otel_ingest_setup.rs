//! `setup --otel`: the env block Claude Code needs to send its telemetry to the collector,
//! printed, merged idempotently, with the token when one is set (issue 14).

use serde_json::Value;

use crate::common::TestEnv;

fn settings(env: &TestEnv) -> Value {
    let text = std::fs::read_to_string(env.path().join(".claude/settings.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn local_settings(env: &TestEnv) -> Value {
    let text = std::fs::read_to_string(env.path().join(".claude/settings.local.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn setup_otel_prints_then_writes_the_env_block_once_and_keeps_other_variables() {
    let env = TestEnv::new();
    // Printed: the env block beside the hooks, nothing written.
    let run = env.run(&["setup", "--otel", "--bin", "agent-strace"]);
    run.success();
    let shown: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(shown["env"]["CLAUDE_CODE_ENABLE_TELEMETRY"], "1");
    assert_eq!(shown["env"]["CLAUDE_CODE_ENHANCED_TELEMETRY_BETA"], "1");
    assert_eq!(
        shown["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"],
        "http://127.0.0.1:4317"
    );
    assert!(shown["hooks"]["PreToolUse"].is_array());
    assert!(!env.path().join(".claude/settings.json").exists());

    std::fs::create_dir_all(env.path().join(".claude")).unwrap();
    std::fs::write(
        env.path().join(".claude/settings.json"),
        r#"{"env": {"MY_VAR": "x", "OTEL_TRACES_EXPORTER": "console"}, "model": "opus"}"#,
    )
    .unwrap();
    let mut cmd = env.command(&[
        "setup",
        "--otel",
        "--endpoint",
        "http://10.1.2.3:4317",
        "--write",
        "--bin",
        "agent-strace",
    ]);
    cmd.env("AGENT_STRACE_TOKEN", "s3cret");
    let run = crate::common::Run::of(cmd.output().unwrap());
    run.success();
    let s = settings(&env);
    assert_eq!(s["model"], "opus");
    assert_eq!(s["env"]["MY_VAR"], "x");
    assert_eq!(s["env"]["OTEL_TRACES_EXPORTER"], "otlp");
    assert_eq!(s["env"]["OTEL_LOGS_EXPORTER"], "otlp");
    assert_eq!(s["env"]["OTEL_EXPORTER_OTLP_PROTOCOL"], "http/protobuf");
    assert_eq!(
        s["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"],
        "http://10.1.2.3:4317"
    );
    // The token is kept apart from the shared settings (see below).
    assert!(s["env"].get("OTEL_EXPORTER_OTLP_HEADERS").is_none(), "{s}");
    assert_eq!(
        local_settings(&env)["env"]["OTEL_EXPORTER_OTLP_HEADERS"],
        "Authorization=Bearer s3cret"
    );
    assert!(s["hooks"]["Stop"].is_array());

    // Again: nothing changes, no backup is taken.
    let before = std::fs::read_to_string(env.path().join(".claude/settings.json")).unwrap();
    let mut cmd = env.command(&[
        "setup",
        "--otel",
        "--endpoint",
        "http://10.1.2.3:4317",
        "--write",
        "--bin",
        "agent-strace",
    ]);
    cmd.env("AGENT_STRACE_TOKEN", "s3cret");
    let run = crate::common::Run::of(cmd.output().unwrap());
    run.success();
    assert!(run.stdout.contains("nothing changed"), "{}", run.stdout);
    assert_eq!(
        std::fs::read_to_string(env.path().join(".claude/settings.json")).unwrap(),
        before
    );
}

#[test]
fn setup_otel_refuses_other_agents_and_bad_endpoints() {
    let env = TestEnv::new();
    let run = env.run(&["setup", "--otel", "--agent", "cursor"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = env.run(&["setup", "--otel", "--endpoint", "localhost:4317"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("not an http"), "{}", run.stderr);
    let run = env.run(&["setup", "--endpoint", "http://x:1"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

/// `setup --otel --write` over settings that send telemetry to another backend: it used to
/// write our endpoint over theirs and keep their headers, so Claude Code sent that vendor's key
/// to the collector. It refuses, naming the keys; --replace-otel replaces and removes them.
#[test]
fn setup_otel_never_sends_another_backends_headers_to_the_collector() {
    let env = TestEnv::new();
    let path = env.path().join(".claude/settings.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let theirs = r#"{"env": {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://api.honeycomb.io", "OTEL_EXPORTER_OTLP_HEADERS": "x-honeycomb-team=VENDORKEY", "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "x-honeycomb-dataset=d"}}"#;
    std::fs::write(&path, theirs).unwrap();
    let setup = |extra: &[&str]| {
        let mut args = vec!["setup", "--otel", "--write", "--bin", "agent-strace"];
        args.extend_from_slice(extra);
        let mut cmd = env.command(&args);
        cmd.env_remove("AGENT_STRACE_TOKEN");
        for key in [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        ] {
            cmd.env_remove(key);
        }
        crate::common::Run::of(cmd.output().unwrap())
    };
    let run = setup(&[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "(OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TRACES_HEADERS)"
        ) && run.stderr.contains("--replace-otel"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("VENDORKEY"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), theirs);

    let run = setup(&["--replace-otel"]);
    run.success();
    let s = settings(&env);
    assert_eq!(
        s["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"],
        "http://127.0.0.1:4317"
    );
    assert!(s["env"].get("OTEL_EXPORTER_OTLP_HEADERS").is_none(), "{s}");
    assert!(
        s["env"].get("OTEL_EXPORTER_OTLP_TRACES_HEADERS").is_none(),
        "{s}"
    );
    assert!(
        run.stdout
            .contains("Replaced OTEL_EXPORTER_OTLP_ENDPOINT in `env`.")
            && run.stdout.contains(
                "Removed OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TRACES_HEADERS from `env`."
            ),
        "{}",
        run.stdout
    );
    // The backup keeps what was replaced and removed, but for the headers: it sits beside the
    // file, git-ignored by no one, and would be the one place left holding that vendor's key.
    let backup: Value = serde_json::from_str(
        &std::fs::read_to_string(path.with_file_name("settings.json.bak")).unwrap(),
    )
    .unwrap();
    let was: Value = serde_json::from_str(theirs).unwrap();
    assert_eq!(
        backup["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"],
        was["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
    );
    assert_eq!(backup["env"].as_object().unwrap().len(), 1, "{backup}");
    assert!(
        run.stdout.contains("but for the OTLP headers"),
        "{}",
        run.stdout
    );
    // Set up for us, again: nothing to refuse.
    setup(&[]).success();
}

/// `setup --otel --write` with AGENT_STRACE_TOKEN set wrote the collector's bearer token into
/// the project's shared, usually committed `.claude/settings.json`. The entry that carries it
/// goes to `.claude/settings.local.json` (git-ignored, read by Claude Code over the shared
/// file), a token an earlier setup left in the shared file is moved there, and another
/// backend's endpoint in the local file, which would win over ours, is refused as in the
/// shared one.
#[test]
fn setup_otel_keeps_the_token_out_of_the_shared_settings() {
    let env = TestEnv::new();
    let shared = env.path().join(".claude/settings.json");
    let local = env.path().join(".claude/settings.local.json");
    std::fs::create_dir_all(shared.parent().unwrap()).unwrap();
    let earlier = r#"{"env": {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer old-token"}}"#;
    std::fs::write(&shared, earlier).unwrap();
    let setup = |extra: &[&str]| {
        let mut args = vec!["setup", "--otel", "--bin", "agent-strace"];
        args.extend_from_slice(extra);
        let mut cmd = env.command(&args);
        cmd.env("AGENT_STRACE_TOKEN", "n3w-t0ken");
        crate::common::Run::of(cmd.output().unwrap())
    };
    // Printed: the shared block without the token, the local one with it.
    let printed = setup(&[]);
    let run = printed.success().stdout.clone();
    let shown: Value = serde_json::from_str(&run).unwrap();
    assert!(
        shown["env"].get("OTEL_EXPORTER_OTLP_HEADERS").is_none(),
        "{run}"
    );
    // The local block, with the token, is said on stderr beside where it goes.
    assert!(
        printed.stderr.contains(".claude/settings.local.json"),
        "{}",
        printed.stderr
    );

    let run = setup(&["--write"]);
    run.success();
    let text = std::fs::read_to_string(&shared).unwrap();
    assert!(
        !text.contains("n3w-t0ken") && !text.contains("old-token"),
        "{text}"
    );
    // The backup beside the shared file, as shared as it, does not keep the token moved out
    // either; it keeps the rest as it was.
    let backup: Value = serde_json::from_str(
        &std::fs::read_to_string(shared.with_file_name("settings.json.bak")).unwrap(),
    )
    .unwrap();
    let was: Value = serde_json::from_str(earlier).unwrap();
    assert!(
        backup["env"].get("OTEL_EXPORTER_OTLP_HEADERS").is_none(),
        "{backup}"
    );
    assert_eq!(
        backup["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"],
        was["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
    );
    assert!(run.stdout.contains("Backed up"), "{}", run.stdout);
    assert_eq!(
        settings(&env)["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"],
        "http://127.0.0.1:4317"
    );
    assert_eq!(
        local_settings(&env)["env"]["OTEL_EXPORTER_OTLP_HEADERS"],
        "Authorization=Bearer n3w-t0ken"
    );
    assert!(
        run.stdout.contains(".claude/settings.local.json"),
        "which file holds the token: {}",
        run.stdout
    );
    // Again: nothing changes.
    let before = std::fs::read_to_string(&local).unwrap();
    assert!(
        setup(&["--write"])
            .success()
            .stdout
            .contains("nothing changed")
    );
    assert_eq!(std::fs::read_to_string(&local).unwrap(), before);

    // Another backend's endpoint in the local file would win over ours: refused, then replaced.
    let theirs = r#"{"env": {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://api.honeycomb.io", "OTEL_EXPORTER_OTLP_HEADERS": "x-honeycomb-team=VENDORKEY"}}"#;
    std::fs::write(&local, theirs).unwrap();
    let run = setup(&["--write"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("settings.local.json"), "{}", run.stderr);
    assert!(!run.stderr.contains("VENDORKEY"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&local).unwrap(), theirs);
    setup(&["--write", "--replace-otel"]).success();
    let l = local_settings(&env);
    assert!(l["env"].get("OTEL_EXPORTER_OTLP_ENDPOINT").is_none(), "{l}");
    assert_eq!(
        l["env"]["OTEL_EXPORTER_OTLP_HEADERS"],
        "Authorization=Bearer n3w-t0ken"
    );
}

/// `setup --otel --write` took backups holding the secrets it had just taken out of a file: a
/// second run with a new AGENT_STRACE_TOKEN left the old token in settings.local.json.bak, and
/// --replace-otel's backup of the local file held another backend's key, neither git-ignored.
/// It said the local file was git-ignored when git would commit it (Claude Code ignores it only
/// when it makes the file itself), and made it 0644. No backup holds an OTLP header, the local
/// file's backups and a local file setup makes are 0600, and "git ignores" is said only when
/// git says so; otherwise a warning names the line to add to .gitignore.
#[test]
fn setup_otel_keeps_no_secret_in_a_backup_and_says_git_ignored_only_when_git_does() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let no_user_git = |cmd: &mut std::process::Command| {
        cmd.env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1");
    };
    let mut git = std::process::Command::new("git");
    git.args(["init", "-q"]).current_dir(env.path());
    no_user_git(&mut git);
    assert!(git.status().unwrap().success());
    let setup = |token: &str, extra: &[&str]| {
        let mut args = vec!["setup", "--otel", "--write", "--bin", "agent-strace"];
        args.extend_from_slice(extra);
        let mut cmd = env.command(&args);
        cmd.env("AGENT_STRACE_TOKEN", token);
        no_user_git(&mut cmd);
        let mut cmd = crate::common::under_umask_022(&cmd);
        crate::common::Run::of(cmd.output().unwrap())
    };
    let folder = env.path().join(".claude");
    let local = folder.join("settings.local.json");
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let holding = |secret: &str| -> Vec<String> {
        std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| std::fs::read_to_string(p).unwrap().contains(secret))
            .map(|p| p.display().to_string())
            .collect()
    };

    // No .gitignore: git would commit the local file setup makes.
    let run = setup("t0k-ONE", &[]);
    run.success();
    assert_eq!(mode(&local), 0o600);
    assert!(
        !run.stdout.contains("git ignores") && !run.stdout.contains("git-ignores"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("warning: git does not ignore .claude/settings.local.json")
            && run.stderr.contains(".gitignore"),
        "{}",
        run.stderr
    );
    // A new token: the old one is in no backup.
    setup("t0k-TWO", &[]).success();
    assert!(holding("t0k-ONE").is_empty(), "{:?}", holding("t0k-ONE"));
    assert_eq!(
        mode(&local.with_file_name("settings.local.json.bak")),
        0o600
    );

    // Ignored now, and another backend's key there, which --replace-otel replaces.
    std::fs::write(
        env.path().join(".gitignore"),
        ".claude/settings.local.json\n",
    )
    .unwrap();
    std::fs::write(
        &local,
        r#"{"env":{"OTEL_EXPORTER_OTLP_ENDPOINT":"https://api.honeycomb.io","OTEL_EXPORTER_OTLP_HEADERS":"x-honeycomb-team=HCKEY-SECRET"}}"#,
    )
    .unwrap();
    let run = setup("t0k-THREE", &["--replace-otel"]);
    run.success();
    for secret in ["HCKEY-SECRET", "t0k-ONE", "t0k-TWO"] {
        assert!(
            holding(secret).is_empty(),
            "{secret}: {:?}",
            holding(secret)
        );
    }
    assert_eq!(
        mode(&local.with_file_name("settings.local.json.bak.1")),
        0o600
    );
    assert!(run.stdout.contains("and git ignores"), "{}", run.stdout);
    assert!(
        !run.stderr.contains("git does not ignore"),
        "{}",
        run.stderr
    );
}

/// `setup --otel --write` run again with nothing to change skipped writing the
/// settings.local.json that holds the token, so one left 0644 (by the user, an older setup)
/// stayed readable to anyone; the rerun makes it the user's alone too, and says so. Under
/// `--global` the token is in the user's settings.json itself, which a rerun with nothing to
/// change left 0644 still (its early return skipped the chmod): it is made the user's alone
/// too.
#[test]
fn setup_otel_run_again_makes_the_token_file_the_users_alone() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let home = env.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let local = env.path().join(".claude/settings.local.json");
    let user = home.join(".claude/settings.json");
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode();
    for (file, extra) in [(&local, None), (&user, Some("--global"))] {
        let setup = || {
            let mut args = vec!["setup", "--otel", "--write", "--bin", "agent-strace"];
            args.extend(extra);
            let mut cmd = env.command(&args);
            cmd.env("AGENT_STRACE_TOKEN", "t0k-AGAIN")
                .env("HOME", &home);
            let run = crate::common::Run::of(cmd.output().unwrap());
            run.success();
            run
        };
        setup();
        let written = std::fs::read_to_string(file).unwrap();
        assert!(
            written.contains("t0k-AGAIN"),
            "{}: {written}",
            file.display()
        );
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let again = setup();
        assert!(again.stdout.contains("nothing changed"), "{}", again.stdout);
        assert_eq!(std::fs::read_to_string(file).unwrap(), written);
        assert_eq!(
            mode(file) & 0o777,
            0o600,
            "{}: {}",
            file.display(),
            again.stdout
        );
        assert!(
            again.stdout.contains("the user's alone (600, was 644)"),
            "{}: {}",
            file.display(),
            again.stdout
        );
    }
}

/// setup made a new token file 0600, but wrote the token into a settings.local.json that was
/// there, 0644, and left it 0644 (and the user's settings.json under --global, which holds the
/// token itself): anyone on the machine could read the collector's token. A file setup writes
/// an OTLP header into loses what its mode let others do, and setup says so.
#[test]
fn setup_otel_makes_a_file_it_writes_the_token_into_the_users_alone() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let home = env.path().join("home");
    let local = env.path().join(".claude/settings.local.json");
    let user = home.join(".claude/settings.json");
    for file in [&local, &user] {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, r#"{"permissions": {"allow": []}}"#).unwrap();
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode();
    for (file, extra) in [(&local, None), (&user, Some("--global"))] {
        let mut args = vec!["setup", "--otel", "--write", "--bin", "agent-strace"];
        args.extend(extra);
        let mut cmd = env.command(&args);
        cmd.env("AGENT_STRACE_TOKEN", "t0k-MODE").env("HOME", &home);
        let run = crate::common::Run::of(cmd.output().unwrap());
        run.success();
        assert!(
            std::fs::read_to_string(file).unwrap().contains("t0k-MODE"),
            "{}",
            run.stdout
        );
        assert_eq!(
            mode(file) & 0o777,
            0o600,
            "{}: {}",
            file.display(),
            run.stdout
        );
        assert!(
            run.stdout.contains("the user's alone (600, was 644)"),
            "{}",
            run.stdout
        );
        // The rest is as it was.
        let settings: Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        assert_eq!(settings["permissions"]["allow"], serde_json::json!([]));
    }
}
