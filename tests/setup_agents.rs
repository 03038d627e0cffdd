//! `setup --agent <agent>` and `setup --detect` (issue 12): each agent's own hook file, written
//! with `hook --agent <agent> <event>` commands, merged into what is there (everything else
//! kept), backed up, and unchanged by a second run.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::{Run, TestEnv};

/// Runs setup in the environment with `home` as HOME and no agent folder variables.
fn setup(env: &TestEnv, home: &Path, args: &[&str]) -> Run {
    let mut cmd = env.command(args);
    cmd.env("HOME", home)
        .env("PATH", home.join("bin"))
        .env_remove("CODEX_HOME")
        .env_remove("COPILOT_HOME")
        .env_remove("GEMINI_CLI_HOME");
    Run::of(cmd.output().expect("run setup"))
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every command of our hooks in a hook file, whatever its shape.
fn our_commands(file: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (event, list) in file["hooks"].as_object().unwrap() {
        let Some(list) = list.as_array() else {
            continue;
        };
        for item in list {
            let entries: Vec<&Value> = match item.get("hooks").and_then(Value::as_array) {
                Some(entries) => entries.iter().collect(),
                None => vec![item],
            };
            for entry in entries {
                for key in ["command", "bash"] {
                    if let Some(c) = entry[key].as_str().filter(|c| c.contains(" hook ")) {
                        found.push((event.clone(), c.to_owned()));
                    }
                }
            }
        }
    }
    found
}

struct Case {
    agent: &'static str,
    /// The project file, relative to the project.
    project: &'static str,
    /// The user file, relative to HOME.
    user: &'static str,
    /// An existing file of the agent's, with a hook and a setting of the user's own.
    existing: Value,
    /// One event and the `hook` argument its command must end with.
    event: (&'static str, &'static str),
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            agent: "cursor",
            project: ".cursor/hooks.json",
            user: ".cursor/hooks.json",
            existing: json!({"version": 1, "hooks": {"preToolUse": [{"command": "./audit.sh", "matcher": "Shell"}]}}),
            event: ("preToolUse", "pre-tool"),
        },
        Case {
            agent: "gemini",
            project: ".gemini/settings.json",
            user: ".gemini/settings.json",
            existing: json!({"theme": "Dracula", "hooksConfig": {"enabled": true}, "hooks": {"BeforeTool": [{"matcher": "run_shell_command", "hooks": [{"type": "command", "command": "./guard.sh", "timeout": 5000}]}], "disabled": ["other"]}}),
            event: ("BeforeTool", "pre-tool"),
        },
        Case {
            agent: "codex",
            project: ".codex/hooks.json",
            user: ".codex/hooks.json",
            existing: json!({"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./guard.sh"}]}]}}),
            event: ("PreToolUse", "pre-tool"),
        },
        Case {
            agent: "copilot",
            project: ".github/hooks/agent-strace.json",
            user: ".copilot/hooks/agent-strace.json",
            existing: json!({"version": 1, "hooks": {"preToolUse": [{"type": "command", "bash": "./guard.sh", "timeoutSec": 10}]}}),
            event: ("agentStop", "stop"),
        },
        Case {
            agent: "vscode",
            project: ".github/hooks/agent-strace-vscode.json",
            user: ".copilot/hooks/agent-strace-vscode.json",
            existing: json!({"hooks": {"PreToolUse": [{"type": "command", "command": "./guard.sh", "timeout": 30}]}}),
            event: ("PreToolUse", "pre-tool"),
        },
        Case {
            agent: "claude-code",
            project: ".claude/settings.json",
            user: ".claude/settings.json",
            existing: json!({"permissions": {"allow": ["Bash(ls)"]}, "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./guard.sh"}]}]}}),
            event: ("PreToolUse", "pre-tool"),
        },
    ]
}

#[test]
fn each_agent_file_is_merged_keeping_everything_else_backed_up_and_idempotent() {
    for case in cases() {
        let env = TestEnv::new();
        let home = env.path().join("home");
        let file = env.path().join(case.project);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        let original = serde_json::to_string_pretty(&case.existing).unwrap();
        std::fs::write(&file, &original).unwrap();

        let first = setup(&env, &home, &["setup", "--agent", case.agent, "--write"]);
        first.success();
        assert!(
            first.stdout.contains("Backed up"),
            "{}: {}",
            case.agent,
            first.stdout
        );
        let backup = PathBuf::from(format!("{}.bak", file.display()));
        assert_eq!(
            std::fs::read_to_string(&backup).unwrap(),
            original,
            "{}",
            case.agent
        );

        let merged = read(&file);
        // What the user had is all still there.
        for (key, value) in case.existing.as_object().unwrap() {
            if key == "hooks" {
                for (event, list) in value.as_object().unwrap() {
                    if let Some(list) = list.as_array() {
                        let now = merged["hooks"][event].as_array().unwrap();
                        assert_eq!(&now[..list.len()], &list[..], "{}: {event}", case.agent);
                    } else {
                        assert_eq!(&merged["hooks"][event], list, "{}: {event}", case.agent);
                    }
                }
            } else {
                assert_eq!(&merged[key], value, "{}: {key}", case.agent);
            }
        }
        let ours = our_commands(&merged);
        let (event, arg) = case.event;
        let command = ours.iter().find(|(e, _)| e == event).map_or_else(
            || panic!("{}: no hook of ours on {event}: {merged}", case.agent),
            |(_, c)| c.clone(),
        );
        let bin = crate::common::bin();
        // VS Code's files are Copilot CLI's folders too: no --agent there (see setup_agents.rs).
        if case.agent == "claude-code" || case.agent == "vscode" {
            assert_eq!(command, format!("{} hook {arg}", bin.display()));
        } else {
            assert_eq!(
                command,
                format!("{} hook --agent {} {arg}", bin.display(), case.agent)
            );
        }
        // Every command is one `hook` understands: its --agent and its event.
        for (_, command) in &ours {
            let words: Vec<&str> = command.split_whitespace().collect();
            let tail = &words[1..];
            let mut cmd = env.command(tail);
            cmd.env("AGENT_TRACE_DIR", env.path().join("scratch"));
            let run = crate::common::run_with_stdin(cmd, b"");
            assert_eq!(run.code, 0, "{}: {command}: {run:?}", case.agent);
        }

        let before = std::fs::read(&file).unwrap();
        let second = setup(&env, &home, &["setup", "--agent", case.agent, "--write"]);
        second.success();
        assert!(
            second.stdout.contains("nothing changed"),
            "{}: {}",
            case.agent,
            second.stdout
        );
        assert_eq!(std::fs::read(&file).unwrap(), before, "{}", case.agent);
        assert!(!PathBuf::from(format!("{}.bak.1", file.display())).exists());

        // --global writes the user's file, made new, under HOME.
        let global = setup(
            &env,
            &home,
            &["setup", "--agent", case.agent, "--global", "--write"],
        );
        global.success();
        let user = read(&home.join(case.user));
        let (mut user, mut project) = (our_commands(&user), ours.clone());
        user.sort();
        project.sort();
        assert_eq!(user, project, "{}", case.agent);
    }
}

#[test]
fn printing_writes_nothing_and_names_the_file_and_what_the_user_must_do() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    let run = setup(&env, &home, &["setup", "--agent", "codex"]);
    run.success();
    let printed: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(printed["hooks"]["PreToolUse"].is_array());
    assert_eq!(printed["hooks"]["SessionEnd"][0]["hooks"][0]["timeout"], 3);
    // What the user must do is said on stderr, the block alone on stdout.
    assert!(run.stderr.contains(".codex/hooks.json"), "{}", run.stderr);
    assert!(run.stderr.contains("/hooks"), "{}", run.stderr);
    assert!(!env.path().join(".codex").exists());

    let run = setup(&env, &home, &["setup", "--agent", "cursor"]);
    run.success();
    let printed: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(printed["version"], 1);
    let third_party: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("third-party"))
        .collect();
    assert_eq!(third_party.len(), 1, "{}", run.stderr);

    let run = setup(&env, &home, &["setup", "--agent", "gemini"]);
    assert!(run.stderr.contains("trusted folder"), "{}", run.stderr);
}

/// Codex 0.171.0 has an Interrupt hook (its binary holds `interrupt.command.input`) and `hook
/// --agent codex interrupt` records it, but `setup --agent codex` never wrote one, so an
/// interrupted turn went unrecorded. It is written, capped at 3 s as Codex caps it, and the
/// command it writes records the interrupt.
#[test]
fn codex_setup_hooks_interrupt_and_its_command_records_it() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    let run = setup(&env, &home, &["setup", "--agent", "codex"]);
    run.success();
    let printed: Value = serde_json::from_str(&run.stdout).unwrap();
    let hook = &printed["hooks"]["Interrupt"][0]["hooks"][0];
    assert!(
        hook["timeout"].as_u64().is_some_and(|t| t <= 3),
        "{printed}"
    );
    let command = hook["command"].as_str().unwrap();
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    let payload = json!({
        "session_id": "019c8bfe-0000-7000-8000-00000000abcd",
        "turn_id": "t1",
        "transcript_path": null,
        "cwd": env.path(),
        "hook_event_name": "Interrupt",
        "model": "gpt-5.1-codex",
        "permission_mode": "default",
    });
    env.run_with_stdin(&args, payload.to_string().as_bytes())
        .success();
    let session = env.sessions().pop().expect("a session recorded");
    let events = env.events(&session);
    assert!(
        events
            .iter()
            .any(|e| e.to_string().contains("Interrupt") && e["event_type"] == "decision"),
        "{events:?}"
    );
}

/// Hooks declared in `config.toml` as a table, and (found missing: Codex then warned at every
/// start that it loads hooks from both files) as dotted or inline keys of the root.
#[test]
fn a_codex_folder_that_declares_hooks_in_config_toml_is_refused() {
    for toml in [
        "[[hooks.Stop]]\n[[hooks.Stop.hooks]]\ntype = \"command\"\ncommand = \"./x\"\n",
        "model = \"o3\"\nhooks.Stop = [{ hooks = [{ type = \"command\", command = \"./x\" }] }]\n",
        "hooks = { Stop = [{ hooks = [{ type = \"command\", command = \"./x\" }] }] }\n",
        "\"hooks\".Stop = []\n",
    ] {
        let env = TestEnv::new();
        let home = env.path().join("home");
        std::fs::create_dir_all(env.path().join(".codex")).unwrap();
        std::fs::write(env.path().join(".codex/config.toml"), toml).unwrap();
        let run = setup(&env, &home, &["setup", "--agent", "codex", "--write"]);
        assert_ne!(run.code, 0, "{toml}");
        assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
        assert!(run.stderr.contains("config.toml"), "{}", run.stderr);
        assert!(!env.path().join(".codex/hooks.json").exists());
    }
    // A key named so inside another table is that table's, and a line of a multi-line string
    // is no key; but a line of an array ends no root.
    for toml in [
        "[profiles.ci]\nhooks = \"none\"\n",
        "developer_instructions = \"\"\"\nNever set hooks = [] here.\n\"\"\"\n",
    ] {
        let env = TestEnv::new();
        let home = env.path().join("home");
        std::fs::create_dir_all(env.path().join(".codex")).unwrap();
        std::fs::write(env.path().join(".codex/config.toml"), toml).unwrap();
        setup(&env, &home, &["setup", "--agent", "codex", "--write"]).success();
    }
    let env = TestEnv::new();
    let home = env.path().join("home");
    std::fs::create_dir_all(env.path().join(".codex")).unwrap();
    let toml = "sizes = [\n  [1, 2],\n]\nhooks.Stop = []\n";
    std::fs::write(env.path().join(".codex/config.toml"), toml).unwrap();
    let run = setup(&env, &home, &["setup", "--agent", "codex", "--write"]);
    assert_ne!(run.code, 0, "{run:?}");
}

/// Gemini CLI runs no hook while its settings say `hooksConfig.enabled: false`, and none of
/// ours while `hooksConfig.disabled` names them; Codex none while its config.toml says
/// `[features] hooks = false`. setup wrote the hooks beside such a setting and said sessions
/// would be recorded. It warns, as for Claude Code's disableAllHooks, and says they will not be,
/// whether the setting is in the file written or in the user's that a project's leaves in force.
#[test]
fn setup_warns_when_the_agents_own_settings_turn_its_hooks_off() {
    let off: [(&str, &str, &str, &str); 6] = [
        (
            "gemini",
            ".gemini/settings.json",
            r#"{"hooksConfig":{"enabled":false,"disabled":["agent-strace"]}}"#,
            "hooksConfig.enabled",
        ),
        (
            "gemini",
            ".gemini/settings.json",
            r#"{"hooksConfig":{"disabled":["agent-strace"]}}"#,
            "hooksConfig.disabled",
        ),
        (
            "codex",
            ".codex/config.toml",
            "model = \"o3\"\n[features]\nhooks = false # not yet\n",
            "hooks = false",
        ),
        (
            "codex",
            ".codex/config.toml",
            "features.codex_hooks = false\n",
            "codex_hooks = false",
        ),
        (
            "codex",
            ".codex/config.toml",
            "features = { hooks = false }\n",
            "hooks = false",
        ),
        (
            "codex",
            ".codex/config.toml",
            "[features]\nhooks = false\n",
            "hooks = false",
        ),
    ];
    let last = off.len() - 1;
    for (n, (agent, file, text, named)) in off.into_iter().enumerate() {
        let env = TestEnv::new();
        let home = env.path().join("home");
        // The last case's setting is the user's, under a project that sets nothing.
        let user = n == last;
        let at = if user {
            home.join(file)
        } else {
            env.path().join(file)
        };
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::write(&at, text).unwrap();
        for round in ["written", "again", "printed"] {
            let args: &[&str] = if round == "printed" {
                &["setup", "--agent", agent]
            } else {
                &["setup", "--agent", agent, "--write"]
            };
            let run = setup(&env, &home, args);
            run.success();
            let warning = run.stderr.lines().find(|l| l.starts_with("warning: "));
            assert!(
                warning.is_some_and(|w| w.contains(file) && w.contains(named)),
                "{agent} {text} {round}: {}",
                run.stderr
            );
            assert!(
                !run.stdout.contains("will be recorded"),
                "{agent} {text} {round}: {}",
                run.stdout
            );
        }
    }
    // Hooks on, or another hook named, or the flag on beside a user's off: no warning.
    for (agent, file, text) in [
        (
            "gemini",
            ".gemini/settings.json",
            r#"{"hooksConfig":{"enabled":true,"disabled":["lint"]}}"#,
        ),
        (
            "codex",
            ".codex/config.toml",
            "[features]\nhooks = true\n[profiles.x]\nhooks = false\n",
        ),
    ] {
        let env = TestEnv::new();
        let home = env.path().join("home");
        for at in [env.path().join(file), home.join(file)] {
            std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        }
        std::fs::write(env.path().join(file), text).unwrap();
        std::fs::write(home.join(file), text.replace("true", "false")).unwrap();
        let run = setup(&env, &home, &["setup", "--agent", agent, "--write"]);
        run.success();
        assert!(!run.stderr.contains("warning: "), "{agent}: {}", run.stderr);
        assert!(
            run.stdout.contains("will be recorded"),
            "{agent}: {}",
            run.stdout
        );
    }
}

/// `setup --global` with no $HOME to find the user's file exited 4, "reading or writing
/// failed", though nothing was read or written: it is how setup was called that must change
/// (set HOME, or name the file), a usage error, exit 2, for every agent.
#[test]
fn global_with_no_home_is_a_usage_error() {
    let env = TestEnv::new();
    for agent in [
        "claude-code",
        "cursor",
        "gemini",
        "codex",
        "copilot",
        "vscode",
    ] {
        let mut cmd = env.command(&["setup", "--agent", agent, "--global", "--write"]);
        for var in [
            "HOME",
            "CLAUDE_CONFIG_DIR",
            "CODEX_HOME",
            "COPILOT_HOME",
            "GEMINI_CLI_HOME",
        ] {
            cmd.env_remove(var);
        }
        let run = Run::of(cmd.output().unwrap());
        assert_eq!(run.code, 2, "{agent}: {run:?}");
        assert!(
            run.stderr.starts_with("error: ") && run.stderr.contains("$HOME"),
            "{agent}: {}",
            run.stderr
        );
        assert_eq!(run.stderr.lines().count(), 1, "{agent}: {}", run.stderr);
    }
    assert!(std::fs::read_dir(env.path()).unwrap().all(|e| {
        let name = e.unwrap().file_name();
        ![".claude", ".cursor", ".gemini", ".codex", ".github"].contains(&name.to_str().unwrap())
    }));
}

#[test]
fn bad_input_is_one_clear_error() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    let run = setup(&env, &home, &["setup", "--agent", "emacs"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("emacs"), "{}", run.stderr);

    let file = env.path().join(".cursor/hooks.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "{\"hooks\": [").unwrap();
    let run = setup(&env, &home, &["setup", "--agent", "cursor", "--write"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert!(
        run.stderr.contains("not a valid JSON object"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{\"hooks\": [");

    std::fs::write(&file, "{\"hooks\": {\"preToolUse\": {}}}").unwrap();
    let run = setup(&env, &home, &["setup", "--agent", "cursor", "--write"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("not a list"), "{}", run.stderr);

    let run = setup(&env, &home, &["setup", "--detect", "--agent", "cursor"]);
    assert_eq!(run.code, 2, "{run:?}");
}

#[test]
fn a_hook_file_that_links_elsewhere_is_changed_where_it_lives() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    let dotfiles = env.path().join("dotfiles");
    std::fs::create_dir_all(&dotfiles).unwrap();
    std::fs::write(dotfiles.join("cursor-hooks.json"), "{\"version\": 1}").unwrap();
    std::fs::create_dir_all(home.join(".cursor")).unwrap();
    std::os::unix::fs::symlink(
        dotfiles.join("cursor-hooks.json"),
        home.join(".cursor/hooks.json"),
    )
    .unwrap();
    setup(
        &env,
        &home,
        &["setup", "--agent", "cursor", "--global", "--write"],
    )
    .success();
    assert!(
        std::fs::symlink_metadata(home.join(".cursor/hooks.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let file = read(&dotfiles.join("cursor-hooks.json"));
    assert!(!our_commands(&file).is_empty());
}

#[test]
fn detect_finds_the_agents_of_a_fake_home_and_sets_each_up() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    std::fs::create_dir_all(home.join(".cursor")).unwrap();
    std::fs::create_dir_all(home.join(".gemini")).unwrap();
    // Codex only as a program on PATH.
    let bin = home.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("codex"), "#!/bin/sh\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bin.join("codex"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
    }

    let run = setup(&env, &home, &["setup", "--detect"]);
    run.success();
    let found: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("Found "))
        .collect();
    assert_eq!(found.len(), 3, "{}", run.stdout);
    assert!(
        found[0].starts_with("Found Cursor (~/.cursor)"),
        "{}",
        run.stdout
    );
    assert!(
        found[1].starts_with("Found Gemini CLI (~/.gemini)"),
        "{}",
        run.stdout
    );
    assert!(found[2].contains("codex on PATH"), "{}", run.stdout);
    assert!(!run.stdout.contains("Found Claude Code"), "{}", run.stdout);
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.contains("third-party"))
            .count(),
        1,
        "{}",
        run.stdout
    );
    // Nothing written without --write.
    assert!(!env.path().join(".cursor").exists());

    let run = setup(&env, &home, &["setup", "--detect", "--write"]);
    run.success();
    for file in [
        ".cursor/hooks.json",
        ".gemini/settings.json",
        ".codex/hooks.json",
    ] {
        let written = read(&env.path().join(file));
        assert!(!our_commands(&written).is_empty(), "{file}");
    }
    assert!(!env.path().join(".claude").exists());
    let again = setup(&env, &home, &["setup", "--detect", "--write"]);
    again.success();
    assert_eq!(
        again.stdout.matches("nothing changed").count(),
        // The project's own folders now exist: the same three agents, each unchanged.
        3,
        "{}",
        again.stdout
    );

    // A home with no agent at all.
    let empty = env.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let other = TestEnv::new();
    let run = setup(&other, &empty, &["setup", "--detect"]);
    run.success();
    assert!(
        run.stdout.starts_with("No coding agent found"),
        "{}",
        run.stdout
    );
}

#[test]
fn trace_dir_is_written_into_every_agents_hooks_and_a_hook_records_there() {
    for case in cases() {
        let env = TestEnv::new();
        let home = env.path().join("home");
        // Relative, with a space and a quote: written absolute, quoted for the shell.
        let run = setup(
            &env,
            &home,
            &[
                "setup",
                "--agent",
                case.agent,
                "--trace-dir",
                "team's traces",
                "--write",
            ],
        );
        run.success();
        let store = env.path().join("team's traces");
        assert!(
            run.stdout
                .contains(&format!("recorded into {}", store.display())),
            "{}: {}",
            case.agent,
            run.stdout
        );
        let ours = our_commands(&read(&env.path().join(case.project)));
        assert!(!ours.is_empty(), "{}", case.agent);
        let quoted = store.display().to_string().replace('\'', r"'\''");
        for (event, command) in &ours {
            assert!(
                command.contains(&format!(" --trace-dir '{quoted}' ")),
                "{}: {event}: {command}",
                case.agent
            );
        }
        if case.agent != "claude-code" {
            continue;
        }
        // The hook, run by a shell from another project as Claude Code runs it, records into
        // the store named, not into that project's.
        let project = env.path().join("elsewhere");
        std::fs::create_dir_all(project.join(".agent-traces")).unwrap();
        let (_, command) = ours.iter().find(|(e, _)| e == "SessionStart").unwrap();
        let payload = json!({
            "session_id": "0b6c1f1e-3f0a-4c7e-9a55-2f8d1c9e7a10",
            "hook_event_name": "SessionStart",
            "source": "startup",
            "cwd": project,
        });
        let mut shell = std::process::Command::new("sh");
        shell
            .args(["-c", command])
            .current_dir(&project)
            .env("CLAUDE_PROJECT_DIR", &project)
            .env("AGENT_STRACE_HOME", env.home())
            .env_remove("AGENT_TRACE_DIR");
        crate::common::run_with_stdin(shell, payload.to_string().as_bytes()).success();
        assert!(
            store
                .join("0b6c1f1e-3f0a-4c7e-9a55-2f8d1c9e7a10")
                .join("events.ndjson")
                .is_file()
        );
        assert_eq!(
            std::fs::read_dir(project.join(".agent-traces"))
                .unwrap()
                .count(),
            0
        );
    }
}

#[test]
fn a_trace_dir_the_hooks_could_not_make_is_refused() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    let run = setup(
        &env,
        &home,
        &["setup", "--trace-dir", "no/such/folder", "--write"],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.starts_with("error: --trace-dir ")
            && run.stderr.contains("the folder above it does not exist"),
        "{}",
        run.stderr
    );
    assert!(!env.path().join(".claude").exists());
}

/// `setup --trace-dir DIR` said secrets are redacted "before anything reaches .agent-traces"
/// while its hooks write to DIR: the note names the store the hooks will write.
/// `setup` without `--write` printed its notes ("Paste this into …", the PATH note, the
/// redaction note) after the hooks block on stdout, so `setup > hooks.json` was no JSON. The
/// block is stdout alone, for every agent and every way of asking; the notes are on stderr.
#[test]
fn printing_puts_the_block_alone_on_stdout_and_the_notes_on_stderr() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    std::fs::write(env.path().join("p.json"), "{}").unwrap();
    let agents = [
        "claude-code",
        "cursor",
        "gemini",
        "codex",
        "copilot",
        "vscode",
    ];
    let mut asks: Vec<Vec<&str>> = agents
        .iter()
        .flat_map(|agent| {
            [
                vec!["setup", "--agent", agent],
                vec!["setup", "--agent", agent, "--global"],
                vec!["setup", "--agent", agent, "--policy", "p.json"],
            ]
        })
        .collect();
    asks.push(vec!["setup", "--otel"]);
    asks.push(vec!["setup", "--otel", "--global"]);
    for args in asks {
        let run = setup(&env, &home, &args);
        run.success();
        let printed: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: stdout is no JSON ({e}): {}", run.stdout));
        assert!(printed["hooks"].is_object(), "{args:?}: {printed}");
        assert!(
            run.stderr.contains("Paste this into"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("[REDACTED]"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn the_redaction_note_names_the_store_trace_dir_gives() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    let store = env.path().join("team traces");
    let run = setup(&env, &home, &["setup", "--trace-dir", "team traces"]);
    run.success();
    assert!(
        run.stderr.contains(&format!(
            "replaced with [REDACTED] before anything reaches {}; --no-redact keeps them.",
            store.display()
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(".agent-traces"), "{}", run.stderr);
    let run = setup(
        &env,
        &home,
        &["setup", "--no-redact", "--trace-dir", "team traces"],
    );
    run.success();
    assert!(
        run.stderr.contains(&format!(
            "will be written to {} as they are",
            store.display()
        )),
        "{}",
        run.stderr
    );
    // Without --trace-dir the hooks write the project's store.
    let run = setup(&env, &home, &["setup"]);
    assert!(
        run.stderr
            .contains("before anything reaches .agent-traces;"),
        "{}",
        run.stderr
    );
}

/// `--trace-dir ../../traces` was written into the hooks as `<cwd>/../../traces`: once the
/// folder it was named from was removed, every hook of every project stopped recording, in
/// silence. The hooks get the folder it leads to.
#[test]
fn a_trace_dir_named_through_parent_folders_is_written_as_where_it_leads() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    let sub = env.path().join("p").join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::create_dir_all(env.path().join("traces")).unwrap();
    let mut cmd = env.command(&[
        "--trace-dir",
        "../../traces",
        "setup",
        "--global",
        "--write",
    ]);
    cmd.current_dir(&sub)
        .env("HOME", &home)
        .env("PATH", home.join("bin"));
    let run = Run::of(cmd.output().unwrap());
    run.success();
    let settings = std::fs::read_to_string(home.join(".claude/settings.json")).unwrap();
    let store = env.path().join("traces");
    assert!(
        settings.contains(&format!("--trace-dir '{}'", store.display())),
        "{settings}"
    );
    assert!(!settings.contains(".."), "{settings}");
}

/// `setup --agent gemini --write` into a settings file with `hooksConfig.enabled: false` (and
/// codex beside `[features] hooks = false`, Claude Code with `disableAllHooks`) said that the
/// setting keeps the hooks from running twice: in its warning on stderr and again in the summary
/// line on stdout. The warning says it once, on stderr; the summary says what was written, and
/// not that sessions will be recorded.
#[test]
fn a_setting_that_turns_the_hooks_off_is_said_once() {
    for (agent, file, text, named) in [
        (
            "gemini",
            ".gemini/settings.json",
            r#"{"hooksConfig":{"enabled":false}}"#,
            "hooksConfig.enabled",
        ),
        (
            "codex",
            ".codex/config.toml",
            "[features]\nhooks = false\n",
            "hooks = false",
        ),
        (
            "claude-code",
            ".claude/settings.json",
            r#"{"disableAllHooks":true}"#,
            "disableAllHooks",
        ),
    ] {
        let env = TestEnv::new();
        let home = env.path().join("home");
        let at = env.path().join(file);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::write(&at, text).unwrap();
        for (round, summary) in [
            ("written", "Hooks written to"),
            ("again", "nothing changed"),
        ] {
            let run = setup(&env, &home, &["setup", "--agent", agent, "--write"]);
            run.success();
            let said = |out: &str| out.matches(named).count();
            assert_eq!(
                (said(&run.stderr), said(&run.stdout)),
                (1, 0),
                "{agent} {round}: {run:?}"
            );
            let warning = run.stderr.lines().find(|l| l.contains(named));
            assert!(
                warning.is_some_and(|w| w.starts_with("warning: ") && w.contains(file)),
                "{agent} {round}: {}",
                run.stderr
            );
            assert!(
                run.stdout.contains(summary),
                "{agent} {round}: {}",
                run.stdout
            );
            assert!(
                !run.stdout.contains("will be recorded"),
                "{agent} {round}: {}",
                run.stdout
            );
        }
    }
}

/// Codex (merged layers), Gemini CLI (concatenated layers) and Cursor (every source) run the
/// hooks of the user's file and of the project's alike, so ours in both with different
/// commands recorded every event twice, and setup warned of it for Claude Code only. It warns
/// for each, naming the other file, and not when both run the same command, which Gemini CLI
/// runs once (and Cursor is not known to run twice); Codex runs it twice, and is warned of.
#[test]
fn setup_warns_of_our_hooks_in_the_agents_other_file_that_would_record_twice() {
    for (agent, user_file) in [
        ("codex", ".codex/hooks.json"),
        ("gemini", ".gemini/settings.json"),
        ("cursor", ".cursor/hooks.json"),
    ] {
        let env = TestEnv::new();
        let home = env.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let user = home.join(user_file).display().to_string();
        let global = [
            "setup",
            "--agent",
            agent,
            "--global",
            "--write",
            "--bin",
            "agent-strace",
        ];
        let first = setup(&env, &home, &global);
        assert!(
            !first.success().stderr.contains("recorded twice"),
            "{agent}: {}",
            first.stderr
        );
        let same = setup(
            &env,
            &home,
            &[
                "setup",
                "--agent",
                agent,
                "--write",
                "--bin",
                "agent-strace",
            ],
        );
        assert_eq!(
            same.success().stderr.contains("recorded twice"),
            agent == "codex",
            "{agent}: {}",
            same.stderr
        );
        let project = [
            "setup",
            "--agent",
            agent,
            "--write",
            "--bin",
            "/usr/local/bin/agent-strace",
        ];
        let other = setup(&env, &home, &project);
        assert!(
            other.success().stderr.contains("warning: ")
                && other.stderr.contains(&user)
                && other.stderr.contains("recorded twice"),
            "{agent}: {}",
            other.stderr
        );
    }
}

/// `setup --detect --write` stopped at the first agent whose file it could not write (a Gemini
/// CLI settings.json with a comment, exit 3): Codex and Copilot CLI, found after it, were never
/// set up, and no line said so. Every other agent is set up, and the command fails at the end
/// (with the first failure's code) naming the one left.
#[test]
fn detect_write_sets_up_the_others_when_one_agents_file_cannot_be_written() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    for folder in [".claude", ".cursor", ".gemini", ".codex", ".copilot"] {
        std::fs::create_dir_all(home.join(folder)).unwrap();
    }
    let gemini = env.path().join(".gemini/settings.json");
    std::fs::create_dir_all(gemini.parent().unwrap()).unwrap();
    let commented = "{\n  // the user's own\n  \"theme\": \"dark\"\n}\n";
    std::fs::write(&gemini, commented).unwrap();

    let run = setup(
        &env,
        &home,
        &["setup", "--detect", "--write", "--bin", "agent-strace"],
    );
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains(".gemini/settings.json is not a valid JSON object"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Gemini CLI not set up"),
        "{}",
        run.stderr
    );
    for file in [
        ".claude/settings.json",
        ".cursor/hooks.json",
        ".codex/hooks.json",
        ".github/hooks/agent-strace.json",
    ] {
        let written = read(&env.path().join(file));
        assert!(!our_commands(&written).is_empty(), "{file}");
    }
    assert_eq!(std::fs::read_to_string(&gemini).unwrap(), commented);
}

/// A Cursor hook of ours written with its flags after the event (`hook stop --agent cursor`),
/// which the hook takes, was kept and a second one added: every event recorded twice. It is
/// replaced in place, as is one naming the event as Cursor does (`hook --agent cursor stop`'s
/// `preToolUse` spelling).
#[test]
fn a_cursor_hook_of_ours_spelt_otherwise_is_replaced_in_place() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    let file = env.path().join(".cursor/hooks.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        json!({"version": 1, "hooks": {
            "stop": [{"command": "agent-strace hook stop --agent cursor"}],
            "preToolUse": [{"command": "agent-strace hook preToolUse --agent cursor"}]
        }})
        .to_string(),
    )
    .unwrap();
    let run = setup(
        &env,
        &home,
        &[
            "setup",
            "--agent",
            "cursor",
            "--write",
            "--bin",
            "agent-strace",
        ],
    );
    run.success();
    let written = read(&file);
    assert_eq!(
        written["hooks"]["stop"],
        json!([{"command": "agent-strace hook --agent cursor stop"}])
    );
    assert_eq!(
        written["hooks"]["preToolUse"],
        json!([{"command": "agent-strace hook --agent cursor pre-tool"}])
    );
}

/// Codex 0.171.0 ran a hook command that the user's hooks.json and the project's both hold
/// twice (observed), and Gemini CLI 0.61.0 runs two hooks once only when their command and
/// name are alike (`deduplicateHooks`): setup said nothing of our very command in the other
/// file, or of one a user copied there without its name, and every event was recorded twice.
/// It warns of those as of another command; Claude Code, which runs the same command once, is
/// not warned.
#[test]
fn setup_warns_of_our_command_in_both_files_where_the_agent_runs_it_twice() {
    for (agent, user_file, twice) in [
        ("codex", ".codex/hooks.json", true),
        ("gemini", ".gemini/settings.json", false),
        ("claude-code", ".claude/settings.json", false),
    ] {
        let env = TestEnv::new();
        let home = env.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let user = home.join(user_file);
        let bin = ["--bin", "agent-strace"];
        let global = [
            &["setup", "--agent", agent, "--global", "--write"][..],
            &bin,
        ]
        .concat();
        let project = [&["setup", "--agent", agent, "--write"][..], &bin].concat();
        setup(&env, &home, &global).success();
        let same = setup(&env, &home, &project);
        let warned = |run: &Run| {
            run.stderr.contains("recorded twice")
                && run.stderr.contains(&user.display().to_string())
        };
        assert_eq!(warned(same.success()), twice, "{agent}: {}", same.stderr);
        if agent == "gemini" {
            // The same commands, copied into the user's file without their name.
            let text = std::fs::read_to_string(&user).unwrap();
            let unnamed = text.replace("\"name\": \"agent-strace\"", "\"name\": \"mine\"");
            assert_ne!(text, unnamed);
            std::fs::write(&user, unnamed).unwrap();
            let copied = setup(&env, &home, &project);
            assert!(warned(copied.success()), "{agent}: {}", copied.stderr);
        }
    }
}
