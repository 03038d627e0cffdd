//! `export --anonymize`: the accounts `stat`'s format and `id -Gn`/`groups` print as bare
//! words are read by the call's command line, whoever gave it and however: a Codex command
//! given as a list of words is one, and a line that prints something else besides is read
//! only where no other command's words can be taken for an account.

use serde_json::{Value, json};

use crate::common::anonymize::exported_by_alice;
use crate::common::{SessionBuilder, TestEnv};

/// Session `id` as `alice`, whose home is the test's folder, exports it anonymized.
fn exported(env: &TestEnv, id: &str) -> Value {
    exported_by_alice(env, id, env.path()).json()
}

/// Every tool result of an exported session, as text.
fn results(exported: &Value) -> Vec<String> {
    exported["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == "tool_result")
        .map(|e| match &e["data"]["result"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// A Codex command given as a list of words (`{"command": ["bash", "-lc", "stat -c '%U %n'
/// f"]}`, the older `shell` tool's and a `local_shell_call`'s) was not read for what `stat`'s
/// format or `id -Gn` prints: the accounts and a team's group were exported. The line the
/// shell is handed is read, as a command given as text is.
#[test]
fn a_codex_command_given_as_a_list_is_read_for_the_accounts_it_prints() {
    let env = TestEnv::new();
    let session = "019c8a4d-8f45-7010-8b5d-7fad920aa7f2";
    let line = |second: usize, kind: &str, payload: Value| {
        json!({"timestamp": format!("2025-09-19T09:00:{second:02}.000Z"),
               "type": kind, "payload": payload})
        .to_string()
    };
    let mut lines = vec![
        line(
            0,
            "session_meta",
            json!({"id": session, "cwd": "/srv/p", "cli_version": "0.39.0"}),
        ),
        line(
            1,
            "response_item",
            json!({"type": "message", "role": "user",
                   "content": [{"type": "input_text", "text": "who owns these files?"}]}),
        ),
    ];
    let calls = [
        (
            json!(["bash", "-lc", "stat -c '%U %G %n' src/a.rs"]),
            "mrotili acme-eng src/a.rs\n",
        ),
        (json!(["bash", "-lc", "id -Gn"]), "kfenwick sudo acme-eng\n"),
        (json!(["stat", "-c", "%U %n", "b"]), "lbrandt b\n"),
    ];
    for (i, (words, output)) in calls.iter().enumerate() {
        let result = json!({"output": output, "metadata": {"exit_code": 0}});
        let call = if i == 2 {
            json!({"type": "local_shell_call", "call_id": format!("c{i}"), "status": "completed",
                   "action": {"type": "exec", "command": words}})
        } else {
            json!({"type": "function_call", "name": "shell",
                   "arguments": json!({"command": words}).to_string(),
                   "call_id": format!("c{i}")})
        };
        lines.push(line(2 + 2 * i, "response_item", call));
        lines.push(line(
            3 + 2 * i,
            "response_item",
            json!({"type": "function_call_output", "call_id": format!("c{i}"),
                   "output": result.to_string()}),
        ));
    }
    let rollout = env
        .path()
        .join(format!("rollout-2025-09-19T09-00-00-{session}.jsonl"));
    std::fs::write(&rollout, lines.join("\n") + "\n").unwrap();
    env.run(&["import", rollout.to_str().unwrap()]).success();
    let out = exported(&env, session);
    let text = out.to_string();
    for name in ["mrotili", "acme-eng", "kfenwick", "lbrandt"] {
        assert!(!text.contains(name), "{name}: {:#?}", results(&out));
    }
    let results = results(&out).join("\n");
    for kept in ["[USER] [GROUP] src/a.rs", "[USER] sudo [GROUP]", "[USER] b"] {
        assert!(results.contains(kept), "{kept}: {results}");
    }
}

/// Codex's `exec_command` puts a header before a command's output (`Chunk ID: 54c887`, `Wall
/// time: 0.5541 seconds`, `Process exited with code 0`, `Output:`): its lines matched `stat
/// -c '%U %n'`'s format too and became `[USER] time: 0.5541 seconds`. Only what follows
/// `Output:` is the command's.
#[test]
fn the_header_of_a_codex_exec_command_output_is_no_account() {
    let env = TestEnv::new();
    let session = "019c8a4d-8f45-7010-8b5d-7fad920aa7f3";
    let line = |second: usize, payload: Value| {
        json!({"timestamp": format!("2026-11-30T05:39:{second:02}.000Z"),
               "type": "response_item", "payload": payload})
        .to_string()
    };
    let header = "Chunk ID: 54c887\nWall time: 0.5541 seconds\nProcess exited with code 0\nOriginal token count: 9\nOutput:\n";
    let lines = [
        json!({"timestamp": "2026-11-30T05:39:00.000Z", "type": "session_meta",
               "payload": {"id": session, "cwd": "/srv/p", "cli_version": "0.171.0"}})
        .to_string(),
        line(
            1,
            json!({"type": "function_call", "name": "exec_command", "call_id": "call_1",
                   "arguments": json!({"cmd": "stat -c '%U %n' src/a.rs"}).to_string()}),
        ),
        line(
            2,
            json!({"type": "function_call_output", "call_id": "call_1",
                   "output": format!("{header}mrotili src/a.rs\n")}),
        ),
    ];
    let rollout = env
        .path()
        .join(format!("rollout-2026-11-30T05-39-00-{session}.jsonl"));
    std::fs::write(&rollout, lines.join("\n") + "\n").unwrap();
    env.run(&["import", rollout.to_str().unwrap()]).success();
    let out = results(&exported(&env, session));
    assert_eq!(out, [format!("{header}[USER] src/a.rs\n")]);
}

/// Gemini CLI's shell tool puts fields around a command's output (`Command: …`, `Stdout: `
/// before it, `Exit Code: 0`, `Background PIDs: (none)`, `Process Group PGID: 4242` after
/// it): they matched `stat -c '%U %n'`'s format and became `[USER] Code: 0`, while the first
/// line of the output, after `Stdout: `, was left. Only the output is read, its first line
/// too.
#[test]
fn the_fields_around_a_gemini_shell_output_are_no_account() {
    let env = TestEnv::new();
    let command = "stat -c '%U %n' a b";
    let (before, after) = (
        format!("Command: {command}\nDirectory: (root)\nStdout: "),
        "\nStderr: (empty)\nError: (none)\nExit Code: 0\nSignal: (none)\nBackground PIDs: (none)\nProcess Group PGID: 4242",
    );
    let old_form = format!("Command: {command}\nDirectory: (root)\nOutput: ");
    let old_after = "\nError: (none)\nExit Code: 0\nSignal: (none)\nBackground PIDs: (none)\nProcess Group PGID: 4242";
    let mut session = SessionBuilder::new("anon-gemini-shell").meta(|m| {
        m.agent_name = "gemini-cli".into();
        m.set_attribution("os_user", "alice");
    });
    for (head, tail) in [(before.as_str(), after), (old_form.as_str(), old_after)] {
        session = session
            .at(1.0)
            .tool_call("run_shell_command", json!({"command": command}))
            .at(2.0)
            .result(json!(format!("{head}mrotili a\nkfenwick b{tail}")));
    }
    session.write(&env);
    let out = results(&exported(&env, "anon-gemini-shell"));
    assert_eq!(
        out,
        [
            format!("{before}[USER] a\n[USER] b{after}"),
            format!("{old_form}[USER] a\n[USER] b{old_after}"),
        ]
    );
}

/// A session `alice` recorded, of shell calls each a command and its output, exported: the
/// outputs as exported.
fn calls_exported(env: &TestEnv, id: &str, calls: &[(&str, &str)]) -> Vec<String> {
    let mut session = SessionBuilder::new(id).meta(|m| {
        m.agent_name = "claude-code".into();
        m.set_attribution("hostname", "vm");
        m.set_attribution("os_user", "alice");
    });
    for (command, output) in calls {
        session = session
            .at(1.0)
            .tool_call("Bash", json!({"command": command}))
            .at(2.0)
            .result(json!(output));
    }
    session.write(env);
    results(&exported(env, id))
}

/// Every line of a `stat` call's output that its format matched was taken for one of `stat`'s:
/// `stat -c '%U %n' a; echo hello world` exported `[USER] world`, and `id -Gn && echo done`'s
/// `done` would have been an account. `stat`'s format is read only in a line whose other
/// commands print nothing (`cd`) or keep `stat`'s lines (`| sort`); a list of groups in the
/// lines the commands before any other print, one each.
#[test]
fn what_another_command_of_the_line_prints_is_no_account() {
    let env = TestEnv::new();
    let out = calls_exported(
        &env,
        "anon-stat-chained",
        &[
            (
                "stat -c '%U %n' a; echo hello world",
                "mrotili a\nhello world",
            ),
            ("stat -c '%U %n' a && printf 'ok go\\n'", "mrotili a\nok go"),
            (
                "stat -c '%U %G' * | sort -u",
                "kfenwick acme-eng\nroot root",
            ),
            ("cd src && stat -c '%U %n' a.rs 2>/dev/null", "lbrandt a.rs"),
            (
                "find . -name '*.rs' -exec stat -c '%U %n' {} +",
                "pvandal ./a.rs",
            ),
            ("id -Gn alice && echo done", "alice sudo acme-eng\ndone"),
            ("id -Gn; groups", "alice sudo acme-eng\nalice sudo acme-eng"),
            ("echo start; id -Gn", "start\nalice sudo acme-eng"),
            ("id -Gn || echo none", "none"),
        ],
    );
    assert_eq!(
        out,
        [
            "mrotili a\nhello world",
            "mrotili a\nok go",
            "[USER] [GROUP]\nroot root",
            "[USER] a.rs",
            "[USER] ./a.rs",
            "[USER] sudo acme-eng\ndone",
            "[USER] sudo [GROUP]\n[USER] sudo [GROUP]",
            "start\n[USER] sudo acme-eng",
            "none",
        ]
    );
}

/// The account and host `whoami`, `id -un`, `hostname` and `uname -a` print were exported
/// whenever the session recorded neither (an imported log names no host nor user), or named
/// an account too short or too common to replace as a word (`jo`): `whoami` printed `jo`,
/// `hostname` `jo-tp`, and every later mention of the host too. The line a command prints is
/// `[USER]` or `[HOST]` where the call's line is such commands alone, with one line each, and
/// the names are the session's, replaced wherever it writes them; a line with another command
/// (`whoami; ls`) is not read, its words left to the rest.
#[test]
fn the_account_and_host_whoami_and_hostname_print_are_replaced() {
    let env = TestEnv::new();
    let calls = [
        ("whoami", "jo\n"),
        ("whoami; hostname", "jo\njo-tp\n"),
        (
            "id -un && hostname -f 2>&1",
            "kfenwick\nkf-laptop.corp.example\n",
        ),
        (
            "pwd; uname -a",
            "/srv/app\nLinux buildhost-7 6.8.0-45-generic #45-Ubuntu SMP x86_64 GNU/Linux\n",
        ),
        ("uname -n", "qa-box-3\n"),
        ("whoami; ls", "pvandal\nREADME.md\n"),
    ];
    let mut session = SessionBuilder::new("anon-whoami").meta(|m| {
        m.agent_name = "claude-code".into();
    });
    for (command, output) in calls {
        session = session
            .at(1.0)
            .tool_call("Bash", json!({"command": command}))
            .at(2.0)
            .result(json!(output));
    }
    session
        .at(3.0)
        .prompt("ssh jo-tp, then kf-laptop and buildhost-7; ask kfenwick on qa-box-3")
        .write(&env);
    let out = exported(&env, "anon-whoami");
    assert_eq!(
        results(&out),
        [
            "[USER]\n",
            "[USER]\n[HOST]\n",
            "[USER]\n[HOST]\n",
            "/srv/app\nLinux [HOST] 6.8.0-45-generic #45-Ubuntu SMP x86_64 GNU/Linux\n",
            "[HOST]\n",
            "pvandal\nREADME.md\n",
        ]
    );
    let prompt = out["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_type"] == "user_prompt")
        .map(|e| e["data"]["prompt"].as_str().unwrap().to_owned());
    assert_eq!(
        prompt.as_deref(),
        Some("ssh [HOST], then [HOST] and [HOST]; ask [USER] on [HOST]")
    );
}

/// A subagent ran on its parent's machine: the host its parent's `hostname` printed was
/// exported wherever the subagent wrote it, where the parent's own mentions were replaced.
#[test]
fn a_subagent_knows_the_host_its_parents_hostname_printed() {
    let env = TestEnv::new();
    let parent = SessionBuilder::new("anon-host-parent")
        .meta(|m| m.agent_name = "claude-code".into())
        .at(1.0)
        .tool_call("Bash", json!({"command": "hostname"}))
        .at(2.0)
        .result(json!("qa-box-3\n"))
        .at(3.0)
        .tool_call(
            "Task",
            json!({"prompt": "look around", "subagent_type": "Explore"}),
        );
    let call = parent.id().to_owned();
    parent.write(&env);
    SessionBuilder::new("agent-a1-anon-host-parent")
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.parent_session_id = Some("anon-host-parent".into());
            m.parent_event_id = Some(call.clone());
            m.depth = 1;
        })
        .at(4.0)
        .answer("qa-box-3 has the logs")
        .write(&env);
    let out = exported(&env, "anon-host-parent");
    assert!(out.to_string().contains("[HOST] has the logs"), "{out}");
    assert!(!out.to_string().contains("qa-box"), "{out}");
}
