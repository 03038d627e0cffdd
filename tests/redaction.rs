//! Redaction: with it on, no planted secret reaches any file of the store.

use serde_json::json;

use crate::common::{TestEnv, nested};

const SID: &str = "9d3f1c2a-7b6e-4e8d-a1f0-2c4b6d8e0f13";

/// One secret of each kind the issue names, as they would appear in real tool traffic.
/// They are built from pieces so that this file itself holds no secret-shaped literal.
fn secrets() -> Vec<(&'static str, String)> {
    let repeat = |s: &str, n: usize| s.repeat(n);
    vec![
        ("openai", format!("sk-{}", repeat("Ab3dE5gH7jK9", 4))),
        (
            "anthropic",
            format!("sk-ant-api03-{}", repeat("Zx8Yw7Vu6Ts5", 6)),
        ),
        (
            "github classic",
            format!("ghp_{}", repeat("a1B2c3D4e5F6", 3)),
        ),
        (
            "github fine-grained",
            format!(
                "github_pat_11{}_{}",
                repeat("ABCDEFGH12", 2),
                repeat("zyxw9876", 7)
            ),
        ),
        ("aws access key", format!("AKIA{}", "QWERTYUIOP123456")),
        (
            "aws secret key",
            repeat("wJalrXUtnFEMIK7MDENGbPxRfiCY", 1) + "EXAMPLEKEY12",
        ),
        (
            "slack",
            format!(
                "xoxb-{}-{}-{}",
                "123456789012",
                "1234567890123",
                repeat("AbCdEfGhIjKl", 2)
            ),
        ),
        (
            "jwt",
            format!(
                "eyJhbGciOiJIUzI1NiJ9.{}.{}",
                "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
                repeat("dBjftJeZ4CVP", 3)
            ),
        ),
        ("bearer", repeat("Tk9mYXJlYmVhcmVy", 2)),
        (
            "pem",
            format!(
                "{}\n{}\n{}",
                "-----BEGIN RSA PRIVATE KEY-----",
                repeat("MIIEowIBAAKCAQEA7yQ", 3),
                "-----END RSA PRIVATE KEY-----"
            ),
        ),
        ("connection password", "s3cr3tPassw0rd".to_owned()),
        ("password key", "hunter2hunter2".to_owned()),
        ("api_key key", "kz81hf7sd9f8h3k".to_owned()),
        ("authorization key", "Basic dXNlcjpwYXNzd29yZA".to_owned()),
        ("token key", "tok_9f8e7d6c5b4a".to_owned()),
    ]
}

#[test]
fn no_planted_secret_is_found_anywhere_in_the_store() {
    let env = TestEnv::new();
    let s = secrets();
    let get = |name: &str| s.iter().find(|(n, _)| *n == name).unwrap().1.clone();
    let command = format!(
        "OPENAI_API_KEY={} ANTHROPIC_API_KEY={} curl -H 'Authorization: Bearer {}' https://api.example.com && psql postgres://admin:{}@db.internal:5432/app",
        get("openai"),
        get("anthropic"),
        get("bearer"),
        get("connection password")
    );
    let input = json!({
        "command": command,
        "env": {"password": get("password key"), "api_key": get("api_key key"), "authorization": get("authorization key"), "token": get("token key")},
    });
    let output = format!(
        "GH={} PAT={} AWS_ACCESS_KEY_ID={} aws_secret_access_key = {} SLACK={} jwt={}\n{}",
        get("github classic"),
        get("github fine-grained"),
        get("aws access key"),
        get("aws secret key"),
        get("slack"),
        get("jwt"),
        get("pem")
    );
    let base = json!({"session_id": SID, "cwd": env.path()});
    let with = |extra: serde_json::Value| {
        let mut p = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    };
    let steps = [
        (
            "session-start",
            with(json!({"hook_event_name": "SessionStart", "source": "startup"})),
        ),
        (
            "user-prompt",
            with(
                json!({"hook_event_name": "UserPromptSubmit", "prompt": format!("use key {} please", get("openai"))}),
            ),
        ),
        (
            "pre-tool",
            with(
                json!({"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": input}),
            ),
        ),
        (
            "post-tool",
            with(
                json!({"hook_event_name": "PostToolUse", "tool_name": "Bash", "tool_input": input, "tool_response": {"stdout": output}}),
            ),
        ),
        (
            "post-tool-failure",
            with(
                json!({"hook_event_name": "PostToolUseFailure", "tool_name": "Bash", "tool_input": {"command": "x"}, "error": format!("denied for {}", get("github classic"))}),
            ),
        ),
        (
            "stop",
            with(
                json!({"hook_event_name": "Stop", "last_assistant_message": format!("Your token is {}", get("slack"))}),
            ),
        ),
        (
            "session-end",
            with(json!({"hook_event_name": "SessionEnd", "reason": "exit"})),
        ),
    ];
    for (event, payload) in &steps {
        let mut cmd = env.command(&["hook", event]);
        cmd.env("AGENT_STRACE_REDACT", "1");
        crate::common::run_with_stdin(cmd, payload.to_string().as_bytes()).success();
    }
    let mut files = Vec::new();
    let mut stack = vec![env.store()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    assert!(files.len() >= 3, "{files:?}");
    let mut redactions = 0;
    for file in &files {
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        redactions += text.matches("[REDACTED]").count();
        for (name, secret) in &s {
            // Multi-line secrets (PEM) are searched line by line too.
            for part in secret
                .lines()
                .filter(|l| l.len() > 12 && !l.starts_with("-----"))
            {
                assert!(!text.contains(part), "{name} found in {}", file.display());
            }
            assert!(
                !text.contains(secret.as_str()),
                "{name} found in {}",
                file.display()
            );
        }
    }
    assert!(redactions >= s.len(), "only {redactions} redactions");
    // The session is still readable and the command's shape survives.
    let replay = env.run(&["replay"]).success().stdout.clone();
    assert!(replay.contains("curl"), "{replay}");
    assert!(replay.contains("[REDACTED]"));
}

/// The tool call the hook recorded in session [`SID`].
fn recorded_call(env: &TestEnv) -> serde_json::Value {
    env.events(SID)
        .into_iter()
        .find(|e| e["event_type"] == "tool_call")
        .expect("the hook recorded the call")
}

#[test]
fn setup_redact_puts_the_flag_on_every_hook() {
    let env = TestEnv::new();
    let out = env.run(&["setup", "--redact"]).success().stdout.clone();
    let json_end = out.rfind('}').unwrap();
    let block: serde_json::Value = serde_json::from_str(&out[..=json_end]).unwrap();
    for (_, groups) in block["hooks"].as_object().unwrap() {
        let command = groups[0]["hooks"][0]["command"].as_str().unwrap();
        assert!(
            command.starts_with(&format!(
                "{} hook --redact ",
                crate::common::bin().display()
            )),
            "{command}"
        );
    }
}

#[test]
fn setup_forwards_mask_and_patterns_to_the_hooks_it_writes() {
    let env = TestEnv::new();
    let probe = env.command(&[]);
    let bin = probe.get_program().to_string_lossy().into_owned();
    let out = env
        .run(&[
            "setup",
            "--bin",
            &bin,
            "--mask",
            "--redact-pattern",
            "ACME-[0-9]+",
            "--redact-pattern",
            "it's secret",
        ])
        .success()
        .stdout
        .clone();
    let json_end = out.rfind('}').unwrap();
    let block: serde_json::Value = serde_json::from_str(&out[..=json_end]).unwrap();
    let pre = block["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
        .as_str()
        .unwrap()
        .to_owned();
    // Run the hook command as Claude Code does, through a shell.
    let mut shell = std::process::Command::new("sh");
    shell.arg("-c").arg(&pre);
    for (key, value) in probe.get_envs() {
        match value {
            Some(value) => shell.env(key, value),
            None => shell.env_remove(key),
        };
    }
    if let Some(dir) = probe.get_current_dir() {
        shell.current_dir(dir);
    }
    let payload = json!({
        "session_id": SID, "hook_event_name": "PreToolUse", "tool_name": "Bash",
        "tool_use_id": "toolu_1",
        "tool_input": {"command": "mail bob@corp.io about ACME-7, it's secret"}
    });
    let run = crate::common::run_with_stdin(shell, payload.to_string().as_bytes());
    assert_eq!(run.code, 0, "{run:?}");
    let call = recorded_call(&env);
    let command = call["data"]["arguments"]["command"].as_str().unwrap();
    assert!(command.contains("[EMAIL]"), "{command}");
    assert!(
        !command.contains("ACME-7") && !command.contains("it's secret"),
        "{command}"
    );

    let bad = env.run(&["setup", "--redact-pattern", "("]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("--redact-pattern"), "{}", bad.stderr);
    assert_eq!(
        bad.stderr.lines().count(),
        1,
        "one error line: {}",
        bad.stderr
    );
}

/// A `--redact-pattern` that matches the placeholder (`[A-Z]{8,}` matches `REDACTED`, `\[\w+\]`
/// all of it) leaves the secrets' placeholders as they are: `[REDACTED]`, never
/// `[[REDACTED]]`, while what it matches elsewhere is redacted.
#[test]
fn a_pattern_matching_the_placeholder_never_nests_it() {
    let env = TestEnv::new();
    let payload = json!({
        "session_id": SID, "hook_event_name": "PreToolUse", "tool_name": "Bash",
        "tool_use_id": "toolu_1", "cwd": env.path().to_string_lossy(),
        "tool_input": {"command": "deploy ABCDEFGHIJ --token sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789 to [EMAIL]"}
    });
    let run = env.run_with_stdin(
        &[
            "hook",
            "--mask",
            "--redact-pattern",
            "[A-Z]{8,}",
            "--redact-pattern",
            r"\[\w+\]",
            "PreToolUse",
        ],
        payload.to_string().as_bytes(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    let call = recorded_call(&env);
    assert_eq!(
        call["data"]["arguments"]["command"],
        "deploy [REDACTED] --token [REDACTED] to [EMAIL]"
    );
}

/// A `--redact-pattern` matching a field's name (`file_path`, `command`) renamed the field to
/// `[REDACTED]`: a Read no longer read a file (no file_read, nothing in sql's files) and a Bash
/// call no longer held its command. A user's pattern scrubs values only.
#[test]
fn a_pattern_matching_a_fields_name_leaves_the_name() {
    let env = TestEnv::new();
    let file = env.path().join("src").join("main.rs");
    let file = file.to_string_lossy().into_owned();
    let read_input = json!({"file_path": file});
    let bash_input = json!({"command": "grep -rn file_path src"});
    let cwd = env.path().to_string_lossy().into_owned();
    let steps = [
        (
            "pre-tool",
            json!({"hook_event_name": "PreToolUse", "tool_name": "Read",
            "tool_use_id": "toolu_1", "tool_input": read_input}),
        ),
        (
            "post-tool",
            json!({"hook_event_name": "PostToolUse", "tool_name": "Read",
            "tool_use_id": "toolu_1", "tool_input": read_input,
            "tool_response": {"type": "text", "file": {"filePath": file, "content": "fn main() {}"}}}),
        ),
        (
            "pre-tool",
            json!({"hook_event_name": "PreToolUse", "tool_name": "Bash",
            "tool_use_id": "toolu_2", "tool_input": bash_input}),
        ),
    ];
    for (event, mut payload) in steps {
        payload["session_id"] = json!(SID);
        payload["cwd"] = json!(cwd);
        let args = ["hook", "--redact-pattern", "file_path|command", event];
        env.run_with_stdin(&args, payload.to_string().as_bytes())
            .success();
    }
    let calls: Vec<serde_json::Value> = env
        .events(SID)
        .into_iter()
        .filter(|e| e["event_type"] == "tool_call")
        .map(|e| e["data"]["arguments"].clone())
        .collect();
    assert_eq!(calls[0]["file_path"], file.as_str(), "{calls:?}");
    // The pattern still scrubs what a value holds.
    assert_eq!(calls[1]["command"], "grep -rn [REDACTED] src", "{calls:?}");
    let files = env
        .run(&["sql", "--format", "json", "select path, reads from files"])
        .success()
        .json();
    assert_eq!(files, json!([{"path": file, "reads": 1}]), "{files}");
    let inspected = env.run(&["inspect", SID]).success().stdout.clone();
    assert!(inspected.contains("\"file_path\""), "{inspected}");
    assert!(!inspected.contains("\"[REDACTED]\":"), "{inspected}");
}

/// Records each of `inputs` as a Bash call's input through `hook --redact pre-tool`; returns
/// the inputs as the store holds them, in order, and the text of every file of the store.
fn recorded_inputs(inputs: &[serde_json::Value]) -> (Vec<serde_json::Value>, String) {
    let env = TestEnv::new();
    for (i, input) in inputs.iter().enumerate() {
        let payload = json!({
            "session_id": SID, "hook_event_name": "PreToolUse", "tool_name": "Bash",
            "tool_use_id": format!("toolu_{i}"), "cwd": env.path().to_string_lossy(),
            "tool_input": input
        });
        let run = env.run_with_stdin(
            &["hook", "--redact", "pre-tool"],
            payload.to_string().as_bytes(),
        );
        assert_eq!(run.code, 0, "{run:?}");
    }
    let recorded = env
        .events(SID)
        .iter()
        .filter(|e| e["event_type"] == "tool_call")
        .map(|e| e["data"]["arguments"].clone())
        .collect();
    let mut store = String::new();
    let mut stack = vec![env.store()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            } else {
                store.push_str(&String::from_utf8_lossy(
                    &std::fs::read(entry.path()).unwrap(),
                ));
            }
        }
    }
    (recorded, store)
}

/// Cases written with placeholders (`{token}` …): each command filled in by `fill`, next to
/// what the store must hold for it, written out.
fn filled(cases: &[(&str, &str)], fill: impl Fn(&str) -> String) -> Vec<(String, String)> {
    cases
        .iter()
        .map(|(command, recorded)| (fill(command), (*recorded).to_owned()))
        .collect()
}

/// Commands that must reach the store as they are written.
fn kept(commands: &[&str]) -> Vec<(String, String)> {
    commands
        .iter()
        .map(|command| ((*command).to_owned(), (*command).to_owned()))
        .collect()
}

/// Each command recorded with redaction on, and what the store must hold for it; returns the
/// text of every file of the store.
fn assert_recorded_as(cases: &[(String, String)]) -> String {
    let commands: Vec<String> = cases.iter().map(|(command, _)| command.clone()).collect();
    let expected: Vec<&str> = cases
        .iter()
        .map(|(_, recorded)| recorded.as_str())
        .collect();
    let inputs: Vec<_> = commands.iter().map(|c| json!({"command": c})).collect();
    let (recorded, store) = recorded_inputs(&inputs);
    let recorded: Vec<&str> = recorded
        .iter()
        .map(|input| input["command"].as_str().unwrap())
        .collect();
    assert_eq!(recorded, expected);
    store
}

#[test]
fn a_url_with_a_port_keeps_its_port_and_query() {
    // No user and no password: the `@` of an email in the query after a port ends nothing.
    // The same URL percent-encoded whole, once and twice, and with a password, which goes.
    let password = format!("pX4{}", "mW9qZr2v".repeat(2));
    let mut cases = kept(&[
        "curl 'https://host:8080?email=a@b.c&x=1'",
        "curl https://host:8080/path?email=a@b.c&x=1",
        "open https://app.corp.io:443#invite=ops@corp.io",
        "open 'next=https%3A%2F%2Fhost%3A8080%3Femail%3Da%40b.c%26x%3D1'",
        "open 'next=https%253A%252F%252Fhost%253A8080%253Femail%253Da%2540b.c'",
    ]);
    cases.push((
        format!("curl 'https://deploy:{password}@host:8080?email=a@b.c&x=1'"),
        "curl 'https://deploy:[REDACTED]@host:8080?email=a@b.c&x=1'".to_owned(),
    ));
    assert_recorded_as(&cases);
}

/// A name in kebab-case that holds `sk-proj-` after letters, its words in either case (a
/// branch, a backup, a roadmap), was redacted from the `sk-proj-` on (`git checkout -b
/// ta[REDACTED]`), though docs/security.md keeps `task-proj-management-…`. A project key glued
/// after a word is still taken, written as OpenAI writes one now or as a run of random letters
/// and digits.
#[test]
fn a_kebab_case_name_holding_sk_proj_is_kept_and_a_glued_project_key_is_not() {
    let half = "aB3_dE5-fG7hJ9kL".repeat(5)[..74].to_owned();
    let key = format!("sk-proj-{half}T3BlbkFJ{half}");
    let older = format!("sk-proj-{}", "q7Vx2Lm9Rk4Tz8Wb".repeat(3));
    let mut cases = kept(&[
        "git checkout -b task-proj-management-JIRA1234-AddLoginFlowForUsers",
        "aws s3 cp s3://b/disk-proj-Backup2024-01-15T10-00-00Z-FullSnapshotOfVolume .",
        "open ask-proj-Q3Roadmap2025-PlanningForEngineeringTeams.md",
    ]);
    cases.extend(filled(
        &[
            (
                "export K=x{key} && deploy",
                "export K=x[REDACTED] && deploy",
            ),
            ("echo key{older}", "echo key[REDACTED]"),
        ],
        |command| command.replace("{key}", &key).replace("{older}", &older),
    ));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains("T3BlbkFJ") && !store.contains(&older[8..]));
}

#[test]
fn an_assignment_after_a_secret_name_is_not_taken_for_its_value() {
    // A secret's file path, then the next assignment of the command line: a name, `=`, a
    // path is not a random value beside the name (`db_password`) that ends the path.
    let value = format!("a8Fk29dLq0ZmXv71{}", "bNc8Qw3E");
    let mut cases =
        kept(&["DB_PASSWORD_FILE=/run/secrets/db_password OTHER_PATH=/etc/creds ./serve"]);
    // A random value beside the name still goes.
    cases.push((
        format!("cat /run/secrets/db_password {value}"),
        "cat /run/secrets/db_password [REDACTED]".to_owned(),
    ));
    assert_recorded_as(&cases);
}

#[test]
fn short_secret_names_lose_their_values_and_the_working_directory_stays() {
    // `_PW`, `_CREDS`, `_CRED` and `_PASSCODE` were not secret names; `_PWD`, `_PASSWD` and
    // `_CREDENTIALS` were, and still are. The shell's `PWD` and Playwright's `PW_…` are not.
    let pw = "hunter2!Qx7";
    let mut cases = filled(
        &[
            ("ADMIN_PW={pw} ./deploy", "ADMIN_PW=[REDACTED] ./deploy"),
            ("export SMTP_CREDS='{pw}'", "export SMTP_CREDS='[REDACTED]'"),
            ("DB_CRED={pw} make", "DB_CRED=[REDACTED] make"),
            ("adminPw: {pw}", "adminPw: [REDACTED]"),
            (
                "ADMIN_PASSCODE={pw} ./door",
                "ADMIN_PASSCODE=[REDACTED] ./door",
            ),
            (
                "DB_PASSWD={pw} ROOT_PWD={pw}",
                "DB_PASSWD=[REDACTED] ROOT_PWD=[REDACTED]",
            ),
            ("GCP_CREDENTIALS={pw} ./x", "GCP_CREDENTIALS=[REDACTED] ./x"),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "cd $PWD && PWD=/home/x OLDPWD=/tmp PW_TEST_HTML_REPORT_OPEN=never PWDEBUG=1 \
         ADMIN_PW_FILE=/run/secrets/admin_pw CREDS_PATH=/etc/creds npx playwright test",
    ]));
    assert_recorded_as(&cases);

    // The same names as keys of a structure, and as a name beside its value in a list.
    let input = json!({
        "command": "./deploy",
        "env": {"ADMIN_PW": pw, "SMTP_CREDS": pw, "db_cred": pw, "PWD": "/home/x"},
        "args": ["--set", "ADMIN_PW", pw]
    });
    let (recorded, store) = recorded_inputs(&[input]);
    assert_eq!(
        recorded[0],
        json!({
            "command": "./deploy",
            "env": {"ADMIN_PW": "[REDACTED]", "SMTP_CREDS": "[REDACTED]",
                "db_cred": "[REDACTED]", "PWD": "/home/x"},
            "args": ["--set", "ADMIN_PW", "[REDACTED]"]
        })
    );
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn a_key_as_a_urls_user_is_redacted_and_its_host_kept() {
    // A Sentry DSN's key (32 hex digits, one with a run of hex letters), a token as a git
    // remote's user; names as users stay.
    let key = format!("9f8e7d6c5b4a3928{}", "1706f5e4d3c2b1a0");
    let hex_run = format!("3f9a0c7e1b2d4f6a{}", "8c0eadbfcedf5b17");
    let token = format!("a8Fk29dLq0ZmXv71{}", "bNc8Qw3E");
    let mut cases = filled(
        &[
            (
                "export SENTRY_DSN=https://{key}@o4504.ingest.us.sentry.io/4505",
                "export SENTRY_DSN=https://[REDACTED]@o4504.ingest.us.sentry.io/4505",
            ),
            (
                "sentry-cli --dsn 'https://{hex_run}@o123.ingest.sentry.io/456' send-event",
                "sentry-cli --dsn 'https://[REDACTED]@o123.ingest.sentry.io/456' send-event",
            ),
            (
                "git clone https://{token}@github.com/acme/app.git",
                "git clone https://[REDACTED]@github.com/acme/app.git",
            ),
        ],
        |s: &str| {
            s.replace("{key}", &key)
                .replace("{hex_run}", &hex_run)
                .replace("{token}", &token)
        },
    );
    cases.extend(kept(&[
        "git clone ssh://git@github.com/acme/app && open https://bob.smith@corp.io/x",
    ]));
    assert_recorded_as(&cases);
}

#[test]
fn a_url_encoded_three_times_or_more_loses_its_password() {
    // A redirect inside a redirect inside a redirect, and deeper: each `%` of the URL encoded
    // once is written `%25` once more for each further encoding. The host and the query stay.
    let password = format!("pX4{}", "mW9qZr2v");
    let once = format!("https%3A%2F%2Fdeploy%3A{password}%40git.corp.io%3Femail%3Dops%40corp.io");
    let kept = "https%3A%2F%2Fdeploy%3A[REDACTED]%40git.corp.io%3Femail%3Dops%40corp.io";
    let cases: Vec<(String, String)> = (3..=6)
        .map(|times| {
            let encode = |url: &str| url.replace('%', &format!("%{}", "25".repeat(times - 1)));
            (
                format!("open 'next={}'", encode(&once)),
                format!("open 'next={}'", encode(kept)),
            )
        })
        .collect();
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(&password), "{store}");
}

#[test]
fn names_ending_in_auth_lose_their_values_and_auth_settings_stay() {
    // Only a bare `auth` was a secret name: `BASIC_AUTH`, `NPM_AUTH`, `HTTP_AUTH` and
    // `--proxy-auth` kept their values. A name ending in the word `auth` now is one, unless
    // its value is a switch or a scheme; `AUTH_TYPE`-style names (`auth` not last) stay.
    let pw = "alice:s3cr3t-Pa55";
    let token = format!("a8Fk29dLq0ZmXv71{}", "bNc8Qw3E");
    let mut cases = filled(
        &[
            ("BASIC_AUTH={pw} ./deploy", "BASIC_AUTH=[REDACTED] ./deploy"),
            (
                "NPM_AUTH={token} npm publish",
                "NPM_AUTH=[REDACTED] npm publish",
            ),
            (
                "export HTTP_AUTH=\"{pw}\"",
                "export HTTP_AUTH=\"[REDACTED]\"",
            ),
            ("proxyAuth: {pw}", "proxyAuth: [REDACTED]"),
            (
                "fetch --proxy-auth {pw} https://example.com",
                "fetch --proxy-auth [REDACTED] https://example.com",
            ),
        ],
        |s: &str| s.replace("{pw}", pw).replace("{token}", &token),
    );
    cases.extend(kept(&[
        "SKIP_AUTH=1 USE_AUTH=true AUTH_TYPE=bearer auth=none ./serve --proxy-auth ntlm",
        "cat > .env <<EOF\nHTTP_AUTH=basic\nNPM_AUTH=Token\nREQUIRE_AUTH=Disabled\nEOF",
        "auth: basic",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw) && !store.contains(&token), "{store}");

    // The same names as keys of a structure (also in JSON text), in a name/value list, as a
    // name beside its value in a list and as a flag of a command kept as a list.
    let input = json!({
        "command": format!("echo '{{\"basicAuth\": \"{pw}\", \"skipAuth\": 1}}'"),
        "config": {"basicAuth": pw, "npmAuth": token, "skipAuth": 1, "httpAuth": "basic",
            "authType": "bearer", "requireAuth": true},
        "env": [{"name": "PROXY_AUTH", "value": pw}, {"name": "USE_AUTH", "value": "yes"}],
        "yaml": format!("- name: PROXY_AUTH\n  value: {pw}\n- name: SKIP_AUTH\n  value: on"),
        "args": ["--set", "HTTP_AUTH", pw, "--set", "HTTP_AUTH", "digest"],
        "argv": ["fetch", "--proxy-auth", pw, "https://example.com"]
    });
    let (recorded, store) = recorded_inputs(&[input]);
    assert_eq!(
        recorded[0],
        json!({
            "command": "echo '{\"basicAuth\": \"[REDACTED]\", \"skipAuth\": 1}'",
            "config": {"basicAuth": "[REDACTED]", "npmAuth": "[REDACTED]", "skipAuth": 1,
                "httpAuth": "basic", "authType": "bearer", "requireAuth": true},
            "env": [{"name": "PROXY_AUTH", "value": "[REDACTED]"},
                {"name": "USE_AUTH", "value": "yes"}],
            "yaml": "- name: PROXY_AUTH\n  value: [REDACTED]\n- name: SKIP_AUTH\n  value: on",
            "args": ["--set", "HTTP_AUTH", "[REDACTED]", "--set", "HTTP_AUTH", "digest"],
            "argv": ["fetch", "--proxy-auth", "[REDACTED]", "https://example.com"]
        })
    );
    assert!(!store.contains(pw) && !store.contains(&token), "{store}");
}

#[test]
fn githubs_x_oauth_basic_placeholder_stays_and_the_token_before_it_goes() {
    // `x-oauth-basic` is the password GitHub's docs write after a token as the user; it was
    // redacted as a password. The token still goes, in clear and percent-encoded.
    let token = format!("a8Fk29dLq0ZmXv71{}", "bNc8Qw3E");
    let cases = filled(
        &[
            (
                "git clone https://{token}:x-oauth-basic@github.com/acme/app.git",
                "git clone https://[REDACTED]:x-oauth-basic@github.com/acme/app.git",
            ),
            (
                "open 'next=https%3A%2F%2F{token}%3Ax-oauth-basic%40github.com%2Facme'",
                "open 'next=https%3A%2F%2F[REDACTED]%3Ax-oauth-basic%40github.com%2Facme'",
            ),
        ],
        |s| s.replace("{token}", &token),
    );
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(&token), "{store}");
}

#[test]
fn a_command_after_an_auth_scheme_stays_and_a_credential_after_it_goes() {
    // `HTTP_AUTH=basic ./serve` lost `./serve`, taken for the credential after the scheme, as
    // `Authorization=basic …` did. A path, a shell operator or a command's name is none; the
    // base64 of `user:pass` or a token after a scheme still goes.
    let basic = format!("dXNlcjpw{}", "YXNz");
    let token = format!("a8Fk29dLq0ZmXv71{}", "bNc8Qw3E");
    let mut cases = filled(
        &[
            (
                "curl -H 'Authorization: Basic {basic}' x",
                "curl -H 'Authorization: Basic [REDACTED]' x",
            ),
            (
                "HTTP_AUTH=basic {basic} ./serve",
                "HTTP_AUTH=basic [REDACTED] ./serve",
            ),
            (
                "Authorization=Bearer /{token}",
                "Authorization=Bearer [REDACTED]",
            ),
            // A `.env` line: the value runs to its end.
            (
                "Authorization=Basic secretpass",
                "Authorization=Basic [REDACTED]",
            ),
            // A name that holds a credential, not a setting: the word after its scheme is one.
            (
                "TOKEN=bearer letmein ./x PASSWORD=basic letmein",
                "TOKEN=bearer [REDACTED] ./x PASSWORD=basic [REDACTED]",
            ),
        ],
        |s: &str| s.replace("{basic}", &basic).replace("{token}", &token),
    );
    cases.extend(kept(&[
        "HTTP_AUTH=basic ./serve",
        "Authorization=basic ./serve --port 8080",
        "HTTP_AUTH=bearer && make && PROXY_AUTH=digest || make",
        "HTTP_AUTH=bearer /usr/local/bin/serve ~/bin/x",
        "HTTP_AUTH=basic make test",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(
        !store.contains(&basic) && !store.contains(&token),
        "{store}"
    );
}

#[test]
fn names_ending_in_oauth_lose_their_values_and_oauth_settings_stay() {
    // `GITHUB_OAUTH=<token>` and `--oauth <token>` kept their value: only `auth` as a last
    // word made a secret name. `oauth` now does too, with the same settings kept.
    let pw = "hunter2!Qx7";
    let token = format!("a8Fk29dLq0ZmXv71{}", "bNc8Qw3E");
    let mut cases = filled(
        &[
            (
                "GITHUB_OAUTH={token} ./sync",
                "GITHUB_OAUTH=[REDACTED] ./sync",
            ),
            (
                "export SLACK_OAUTH='{pw}'",
                "export SLACK_OAUTH='[REDACTED]'",
            ),
            ("githubOAuth: {pw}", "githubOAuth: [REDACTED]"),
            (
                "gh-sync --oauth {pw} acme",
                "gh-sync --oauth [REDACTED] acme",
            ),
        ],
        |s: &str| s.replace("{pw}", pw).replace("{token}", &token),
    );
    cases.extend(kept(&[
        "ENABLE_OAUTH=1 USE_OAUTH=true GOOGLE_OAUTH=oauth2 OAUTH_PROVIDER=google ./serve",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw) && !store.contains(&token), "{store}");

    let input = json!({
        "command": "./sync",
        "config": {"githubOAuth": pw, "enableOAuth": true, "useOauth": "yes"},
        "env": [{"name": "GITHUB_OAUTH", "value": token}]
    });
    let (recorded, store) = recorded_inputs(&[input]);
    assert_eq!(
        recorded[0],
        json!({
            "command": "./sync",
            "config": {"githubOAuth": "[REDACTED]", "enableOAuth": true, "useOauth": "yes"},
            "env": [{"name": "GITHUB_OAUTH", "value": "[REDACTED]"}]
        })
    );
    assert!(!store.contains(pw) && !store.contains(&token), "{store}");
}

#[test]
fn a_token_as_curls_user_goes_and_its_placeholder_password_stays() {
    // `curl -u <40 hex>:x-oauth-basic` (an old GitHub token, as GitHub's docs write it) kept
    // the token: only the password after the user was looked at, and this one is a
    // placeholder. So did a token with no password (`-u <key>:`), and one attached (`-u<key>`).
    let token = format!("0a1b2c3d4e5f6071{}", "8293a4b5c6d7e8f901234567");
    let mut cases = filled(
        &[
            (
                "curl -u {token}:x-oauth-basic https://api.github.com/user",
                "curl -u [REDACTED]:x-oauth-basic https://api.github.com/user",
            ),
            (
                "curl --user \"{token}:x-oauth-basic\" https://api.github.com",
                "curl --user \"[REDACTED]:x-oauth-basic\" https://api.github.com",
            ),
            (
                "curl -u {token}: https://api.example.com",
                "curl -u [REDACTED]: https://api.example.com",
            ),
            (
                "curl -u{token}:x-oauth-basic https://api.github.com",
                "curl -u[REDACTED]:x-oauth-basic https://api.github.com",
            ),
            (
                "curl -u :{token} https://api.example.com",
                "curl -u :[REDACTED] https://api.example.com",
            ),
        ],
        |s| s.replace("{token}", &token),
    );
    cases.extend(kept(&[
        "sudo -u postgres psql && docker run -u 1000:1000 x && git add -u",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(&token), "{store}");
}

#[test]
fn a_short_number_then_a_query_before_a_urls_host_is_a_password() {
    // `https://user:12345?x=1@host/` kept `12345?x=1`: 1 to 5 digits then `?` or `#` were
    // always taken for a port. They are one only when what follows reads as an email in the
    // query (a parameter, then a domain and the URL's end or next parameter).
    let cases = filled(
        &[
            (
                "curl 'https://deploy:12345?x=1@git.corp.io/acme'",
                "curl 'https://deploy:[REDACTED]@git.corp.io/acme'",
            ),
            (
                "open https://deploy:4242#frag@host",
                "open https://deploy:[REDACTED]@host",
            ),
            (
                "psql postgres://admin:5432?a=b@db.internal:5432/app",
                "psql postgres://admin:[REDACTED]@db.internal:5432/app",
            ),
            (
                "open 'next=https%3A%2F%2Fdeploy%3A4242%23frag%40host%2Fx'",
                "open 'next=https%3A%2F%2Fdeploy%3A[REDACTED]%40host%2Fx'",
            ),
        ],
        str::to_owned,
    );
    assert_recorded_as(&cases);
}

#[test]
fn basic_credentials_go_whatever_names_them() {
    // `Basic` then the base64 of `user:password` was redacted only under a secret name
    // (`Authorization`): `AUTH_HEADER=Basic …` or a header echoed to a file kept it.
    let basic = format!("YWxpY2U6aHVu{}", "dGVyMg==");
    let mut cases = filled(
        &[
            (
                "AUTH_HEADER='Basic {basic}' ./probe",
                "AUTH_HEADER='Basic [REDACTED]' ./probe",
            ),
            (
                "echo \"basic {basic}\" > header.txt",
                "echo \"basic [REDACTED]\" > header.txt",
            ),
        ],
        |s| s.replace("{basic}", &basic),
    );
    cases.extend(kept(&["echo 'use basic auth, basic dXNlcg works too'"]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(&basic), "{store}");
}

#[test]
fn a_digest_header_loses_its_response_and_keeps_the_rest_tidy() {
    // `Authorization: Digest username="Mufasa", …` was recorded as `Digest [REDACTED]"Mufasa"`,
    // `username=` taken for a credential after the scheme, while the `response` hash, which
    // proves the password, stayed. The names of who and what stay.
    let response = format!("6629fae49393a053{}", "97450978507c4ef1");
    let header = "Authorization: Digest username=\"Mufasa\", realm=\"testrealm@host.com\", \
                  nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", \
                  qop=auth, nc=00000001, cnonce=\"0a4f113b\", response=\"{response}\"";
    let mut cases = filled(
        &[
            (
                &format!("curl -H '{header}' https://x"),
                &format!(
                    "curl -H '{}' https://x",
                    header.replace("{response}", "[REDACTED]")
                ),
            ),
            (
                "echo 'authorization: digest username=bob, response={response}'",
                "echo 'authorization: digest username=bob, response=[REDACTED]'",
            ),
        ],
        |s| s.replace("{response}", &response),
    );
    cases.extend(kept(&["echo 'the digest response was slow: response=200'"]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(&response), "{store}");
}

#[test]
fn curls_user_in_a_group_of_short_flags_and_httpies_auth_lose_their_password() {
    // `-u` ending a group of short flags (`-su`, `-fsSLu`) held no `-u` the rule's trigger
    // could find, and httpie's `-a` was no flag of a login. A token as the user goes with
    // its password, and the colon between them stays, as with `--user=`, which lost it.
    let token = format!("a8Fk29dLq0ZmXv71{}", "bNc8Qw3E");
    let pw = "s3cr3tPw9";
    let mut cases = filled(
        &[
            (
                "curl -su {token}:x https://api.example.com",
                "curl -su [REDACTED]:[REDACTED] https://api.example.com",
            ),
            (
                "curl -fsSLu alice:{pw} https://x && curl -ku alice:{pw} https://y",
                "curl -fsSLu alice:[REDACTED] https://x && curl -ku alice:[REDACTED] https://y",
            ),
            (
                "curl --user={token}:{pw} https://x",
                "curl --user=[REDACTED]:[REDACTED] https://x",
            ),
            (
                "http -a {token}:x https://api.example.com",
                "http -a [REDACTED]:[REDACTED] https://api.example.com",
            ),
            (
                "https -a alice:{pw} api.example.com; httpie -a alice:{pw} x",
                "https -a alice:[REDACTED] api.example.com; httpie -a alice:[REDACTED] x",
            ),
            (
                "http --auth alice:{pw} https://x",
                "http --auth alice:[REDACTED] https://x",
            ),
        ],
        |s| s.replace("{token}", &token).replace("{pw}", pw),
    );
    cases.extend(kept(&[
        // Other commands' `-a` and groups with a `u` stay.
        "rsync -a host:path /tmp/x && rsync -a alice:backup /srv && sudo -su postgres psql",
        "curl -fsSL https://get.example.sh | sh && git add -u",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(&token) && !store.contains(pw), "{store}");
}

#[test]
fn a_header_kept_as_a_pair_loses_its_value() {
    // `["X-OAuth", "…"]`: a header as a name and a value in a list, as HTTP libraries write
    // them, kept its value when the value read as a word. Other pairs stay.
    let pw = "s3cr3tPw9";
    let input = json!({
        "command": "./call",
        "headers": [["X-OAuth", pw], ["X-Auth", pw], ["Authorization", format!("Token {pw}")],
            ["Content-Type", "application/json"], ["X-OAuth", "$TOKEN"]],
        "required": ["password", "email"],
        "columns": ["Token", "Expires"]
    });
    let (recorded, store) = recorded_inputs(&[input]);
    assert_eq!(
        recorded[0],
        json!({
            "command": "./call",
            "headers": [["X-OAuth", "[REDACTED]"], ["X-Auth", "[REDACTED]"],
                ["Authorization", "[REDACTED]"], ["Content-Type", "application/json"],
                ["X-OAuth", "$TOKEN"]],
            "required": ["password", "email"],
            "columns": ["Token", "Expires"]
        })
    );
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn a_header_pair_written_as_source_code_loses_its_value() {
    // `headers=[("X-OAuth", "…")]`, `new Headers([["X-Auth", "…"]])` and
    // `.Set("X-Api-Key", "…")` kept a value that read as a word: only the same pair in a JSON
    // list was looked at. Pairs of other headers, a second name, prose and code stay.
    let pw = "letm3in-Qx";
    let mut cases = filled(
        &[
            (
                "python -c 'import requests; requests.get(u, headers=[(\"X-OAuth\", \"{pw}\")])'",
                "python -c 'import requests; requests.get(u, headers=[(\"X-OAuth\", \"[REDACTED]\")])'",
            ),
            (
                "headers=[('Authorization', 'Token {pw}'), ('Content-Type', 'application/json')]",
                "headers=[('Authorization', '[REDACTED]'), ('Content-Type', 'application/json')]",
            ),
            (
                "node -e 'fetch(u, {headers: new Headers([[\"X-Auth\", \"{pw}\"]])})'",
                "node -e 'fetch(u, {headers: new Headers([[\"X-Auth\", \"[REDACTED]\"]])})'",
            ),
            (
                "go run . # req.Header.Set(\"X-Api-Key\", \"Hunter22\")",
                "go run . # req.Header.Set(\"X-Api-Key\", \"[REDACTED]\")",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "echo '(\"Content-Type\", \"application/json\"), (\"Accept\", \"text/html\")'",
        "echo '(\"Token\", \"Expires\") (\"Password\", \"is too short\")'",
        "echo '[(\"X-OAuth\", \"$TOKEN\"), (\"Authorization\", f\"Bearer {token}\")]'",
        "echo 'c.setRequestProperty(\"Authorization\", \"Bearer \" + token)'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(
        !store.contains(pw) && !store.contains("Hunter22"),
        "{store}"
    );

    // The same in a file an agent writes, and a dict, as an edit's new text.
    let write = json!({
        "file_path": "app/client.py",
        "content": format!("headers = [\n    (\"X-OAuth\", \"{pw}\"),\n    (\"Accept\", \"application/json\"),\n]\n")
    });
    let edit = json!({
        "file_path": "app/client.js", "old_string": "{}",
        "new_string": format!("const headers = {{\n  \"X-Api-Key\": \"{pw}\",\n}};\n")
    });
    let (recorded, store) = recorded_inputs(&[write, edit]);
    assert_eq!(
        recorded[0]["content"],
        "headers = [\n    (\"X-OAuth\", \"[REDACTED]\"),\n    (\"Accept\", \"application/json\"),\n]\n"
    );
    assert_eq!(
        recorded[1]["new_string"],
        "const headers = {\n  \"X-Api-Key\": \"[REDACTED]\",\n};\n"
    );
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn httpie_and_xh_keep_the_user_and_lose_the_password() {
    // `http --auth alice:pw` lost the user too, taken whole for the value of a secret flag;
    // httpie run by its path and xh (`xh`, `xhs`) were no commands whose `-a` takes a login.
    let pw = "s3cr3tPw9";
    let mut cases = filled(
        &[
            (
                "http --auth alice:{pw} example.org && http --auth=alice:{pw} example.org",
                "http --auth alice:[REDACTED] example.org && http --auth=alice:[REDACTED] example.org",
            ),
            (
                "http --auth 'alice:{pw} x' example.org",
                "http --auth 'alice:[REDACTED]' example.org",
            ),
            (
                "/usr/bin/http -a alice:{pw} example.org; /usr/local/bin/https -a alice:{pw} x",
                "/usr/bin/http -a alice:[REDACTED] example.org; /usr/local/bin/https -a alice:[REDACTED] x",
            ),
            (
                "xh -a alice:{pw} example.org && xhs --auth bob:{pw} x && ~/.cargo/bin/xh -a alice:{pw} y",
                "xh -a alice:[REDACTED] example.org && xhs --auth bob:[REDACTED] x && ~/.cargo/bin/xh -a alice:[REDACTED] y",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        // A user alone (httpie asks for the password), a reference, and other commands' `-a`.
        "http --auth alice: example.org && http -a alice x && http --auth alice:$PW x",
        "/usr/bin/rsync -a alice:backup /srv && tar -xa -f x.tgz && xhost +local:",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn a_commands_first_password_flag_and_logins_in_json_text_go() {
    // `sshpass -p <pw> ssh -p 2222 host` kept the password: what comes before a command's flag
    // was read as long as could be, so its last `-p` (ssh's port) was taken. Written as JSON
    // text (a log line, an answer that is not JSON), `Basic\\ <base64>` kept its base64, and a
    // command after an escaped line break (`\n/usr/bin/http -a …`, `\nxh -a …`) its login.
    let pw = "s3cr3tPw9";
    let basic = format!("YWxpY2U6aHVu{}", "dGVyMg==");
    let mut cases = filled(
        &[
            (
                "sshpass -p {pw} ssh -p 2222 deploy@host uptime",
                "sshpass -p [REDACTED] ssh -p 2222 deploy@host uptime",
            ),
            (
                r#"echo '{"run": "HTTP_AUTH=Basic\\ {basic} ./serve"}' >> log.json"#,
                r#"echo '{"run": "HTTP_AUTH=Basic\\ [REDACTED] ./serve"}' >> log.json"#,
            ),
            (
                r#"echo '{"run": "cd app\n/usr/bin/http -a alice:{pw} x\nxh -a bob:{pw} y"}' >> log.json"#,
                r#"echo '{"run": "cd app\n/usr/bin/http -a alice:[REDACTED] x\nxh -a bob:[REDACTED] y"}' >> log.json"#,
            ),
        ],
        |s| s.replace("{pw}", pw).replace("{basic}", &basic),
    );
    cases.extend(kept(&[
        r#"echo '{"run": "http example.org\n/usr/bin/rsync -a alice:backup /srv"}' >> log.json"#,
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw) && !store.contains(&basic), "{store}");
}

#[test]
fn wgets_credentials_lose_their_password() {
    // wget takes a login only by long flags (`--user`, `--password`, `--http-password`,
    // `--ftp-password`, `--proxy-password`; no short flag takes one, so no group of short
    // flags does), by a header or by `-e` with a `.wgetrc` command.
    let pw = "s3cr3tPw9";
    let mut cases = filled(
        &[
            (
                "wget --user=alice --password={pw} https://x/a.tgz",
                "wget --user=alice --password=[REDACTED] https://x/a.tgz",
            ),
            (
                "wget --user alice --password '{pw}' https://x/a.tgz",
                "wget --user alice --password '[REDACTED]' https://x/a.tgz",
            ),
            (
                "wget --http-user=alice --http-password {pw} https://x && wget --ftp-password={pw} ftp://x",
                "wget --http-user=alice --http-password [REDACTED] https://x && wget --ftp-password=[REDACTED] ftp://x",
            ),
            (
                "wget --proxy-user=alice --proxy-password={pw} -e http_password={pw} https://x",
                "wget --proxy-user=alice --proxy-password=[REDACTED] -e http_password=[REDACTED] https://x",
            ),
            (
                "wget -q --header=\"Authorization: Bearer {pw}\" -O- https://x",
                "wget -q --header=\"Authorization: Bearer [REDACTED]\" -O- https://x",
            ),
            (
                "wget -qO- --header 'X-Api-Key: {pw}' https://x",
                "wget -qO- --header 'X-Api-Key: [REDACTED]' https://x",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "wget --ask-password --user=alice --password=\"$PW\" -nv https://x",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn short_npm_registry_credentials_and_an_escaped_space_after_basic_go() {
    // `npm config set …:_authToken <value>` kept a value shorter than a random one, as a name
    // then a space is no assignment; `HTTP_AUTH=Basic\ <base64>` kept the base64, as only a
    // space was looked for after the scheme.
    let pw = "s3cr3tPw9";
    let basic = format!("YWxpY2U6aHVu{}", "dGVyMg==");
    let mut cases = filled(
        &[
            (
                "npm config set //registry.npmjs.org/:_authToken {pw}",
                "npm config set //registry.npmjs.org/:_authToken [REDACTED]",
            ),
            (
                "npm config set //npm.corp.io/:_auth {basic} && yarn config set npmAuthToken {pw}",
                "npm config set //npm.corp.io/:_auth [REDACTED] && yarn config set npmAuthToken [REDACTED]",
            ),
            (
                "echo '//registry.npmjs.org/:_authToken={pw}' >> .npmrc",
                "echo '//registry.npmjs.org/:_authToken=[REDACTED]' >> .npmrc",
            ),
            (
                "HTTP_AUTH=Basic\\ {basic} ./serve",
                "HTTP_AUTH=Basic\\ [REDACTED] ./serve",
            ),
        ],
        |s| s.replace("{pw}", pw).replace("{basic}", &basic),
    );
    cases.extend(kept(&[
        "npm config set registry https://npm.corp.io/ && npm config get _authToken",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw) && !store.contains(&basic), "{store}");
}

#[test]
fn lowercase_header_pairs_and_pairs_after_other_arguments_lose_their_value() {
    // `("x-api-key", "…")` kept its value: only a capitalised name was a header's; and a pair
    // after other arguments (`add_header(req, "X-OAuth", "…")`) was not looked at, as only a
    // pair right after a bracket was. Other headers, two names and a call's plain arguments
    // stay.
    let pw = "hunter22";
    let mut cases = filled(
        &[
            (
                "python -c 'requests.get(u, headers=[(\"x-api-key\", \"{pw}\")])'",
                "python -c 'requests.get(u, headers=[(\"x-api-key\", \"[REDACTED]\")])'",
            ),
            (
                "echo 'add_header(req, \"X-OAuth\", \"letmein\"); add_header(req, \"authorization\", \"Token {pw}\")'",
                "echo 'add_header(req, \"X-OAuth\", \"[REDACTED]\"); add_header(req, \"authorization\", \"[REDACTED]\")'",
            ),
            (
                "echo '{\"authorization\": \"Token {pw}\"}' && curl_easy_setopt(c, H, \"X-Api-Key: {pw}\")",
                "echo '{\"authorization\": \"[REDACTED]\"}' && curl_easy_setopt(c, H, \"X-Api-Key: [REDACTED]\")",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "echo 'headers=[(\"content-type\", \"text/plain\")]; set_header(\"X-Request-Id\", \"abc\")'",
        "echo 'cols = [\"token\", \"expires\"]; log(ctx, \"Password\", \"is too short\")'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw) && !store.contains("letmein"), "{store}");
}

#[test]
fn a_login_given_as_a_pair_keeps_its_user_and_loses_its_password() {
    // requests' `auth=("alice", "…")`, `HTTPBasicAuth("alice", "…")` and aiohttp's
    // `BasicAuth("alice", "…")` kept the password: a pair of words is no header. A password
    // read from elsewhere, no login and a function's two arguments stay.
    let pw = "hunter22";
    let mut cases = filled(
        &[
            (
                "python -c 'requests.get(u, auth=(\"alice\", \"{pw}\"))'",
                "python -c 'requests.get(u, auth=(\"alice\", \"[REDACTED]\"))'",
            ),
            (
                "python -c 'requests.get(u, auth=HTTPBasicAuth(\"alice\", \"{pw}\"))'",
                "python -c 'requests.get(u, auth=HTTPBasicAuth(\"alice\", \"[REDACTED]\"))'",
            ),
            (
                "python -c 'aiohttp.ClientSession(auth=aiohttp.BasicAuth(\"alice\", \"{pw}\"))'",
                "python -c 'aiohttp.ClientSession(auth=aiohttp.BasicAuth(\"alice\", \"[REDACTED]\"))'",
            ),
            (
                "node -e 'axios.get(u, { auth: { username: \"alice\", password: \"{pw}\" } })'",
                "node -e 'axios.get(u, { auth: { username: \"alice\", password: \"[REDACTED]\" } })'",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "python -c 'requests.get(u, auth=(\"alice\", os.environ[\"PW\"])); requests.get(u, auth=None)'",
        "echo 'if check_auth(\"alice\", \"expired\"): pass'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn curls_proxy_user_keeps_the_user_and_loses_the_password() {
    // `--proxy-user alice:pw`, `-U alice:pw` and `--proxy-user=alice:pw` kept the password;
    // a `-u` before a `-U` still loses its own. `curl -U` with nothing after it and grep's
    // `-U` stay.
    let pw = "s3cr3tPw9";
    let mut cases = filled(
        &[
            (
                "curl --proxy-user alice:{pw} https://x && curl --proxy-user=alice:{pw} https://x",
                "curl --proxy-user alice:[REDACTED] https://x && curl --proxy-user=alice:[REDACTED] https://x",
            ),
            (
                "curl -U alice:{pw} -x proxy:3128 https://x; curl -sU bob:{pw} https://x",
                "curl -U alice:[REDACTED] -x proxy:3128 https://x; curl -sU bob:[REDACTED] https://x",
            ),
            (
                "curl -u carol:{pw} -U alice:{pw} https://x",
                "curl -u carol:[REDACTED] -U alice:[REDACTED] https://x",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&["curl -U && grep -U foo:bar log.txt"]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn a_short_word_after_a_bearer_flag_goes() {
    // `http -A bearer -a <token>`, xh's `--bearer <token>` and curl's `--oauth2-bearer
    // <token>` kept a token that read as a word: only a long or digit-holding one was taken
    // for a bearer token, and `bearer` was no flag's secret word. A reference stays.
    let token = "letmein";
    let mut cases = filled(
        &[
            (
                "http -A bearer -a {token} example.org && http --auth-type=bearer --auth {token} x",
                "http -A bearer -a [REDACTED] example.org && http --auth-type=bearer --auth [REDACTED] x",
            ),
            (
                "xh --bearer {token} example.org && curl --oauth2-bearer {token} https://x",
                "xh --bearer [REDACTED] example.org && curl --oauth2-bearer [REDACTED] https://x",
            ),
        ],
        |s| s.replace("{token}", token),
    );
    cases.extend(kept(&["xh --bearer \"$TOKEN\" example.org"]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(token), "{store}");
}

#[test]
fn a_commands_last_password_flag_and_one_after_a_line_continuation_go() {
    // `mysql -pA … -pB` kept B (the password the client uses): only a command's first flag was
    // taken. `sshpass \` then a line break and `-p` kept the password when the break was the
    // only space before the flag, a Windows line end, or escaped in JSON text; and after a
    // line break escaped in JSON text (`\nsshpass -p …`, `\nmysql -p…`), either command's.
    let pw = "s3cr3tPw9";
    let mut cases = filled(
        &[
            (
                "mysql -pAlpha1 -e 'select 1' -p{pw} db",
                "mysql -p[REDACTED] -e 'select 1' -p[REDACTED] db",
            ),
            (
                "sshpass \\\n-p {pw} ssh host && sshpass \\\r\n  -p {pw} ssh host",
                "sshpass \\\n-p [REDACTED] ssh host && sshpass \\\r\n  -p [REDACTED] ssh host",
            ),
            (
                r#"echo '{"run": "sshpass \\\n  -p {pw} ssh host"}' >> log.json"#,
                r#"echo '{"run": "sshpass \\\n  -p [REDACTED] ssh host"}' >> log.json"#,
            ),
            (
                r#"echo '{"run": "cd app\nsshpass -p {pw} ssh host\nmysql -p{pw} db"}' >> log.json"#,
                r#"echo '{"run": "cd app\nsshpass -p [REDACTED] ssh host\nmysql -p[REDACTED] db"}' >> log.json"#,
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "mysql -h db -u root -p app < schema.sql && sshpass -p \"$PW\" ssh -p 2222 host",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw) && !store.contains("Alpha1"), "{store}");
}

#[test]
fn a_header_pair_with_a_plain_word_and_a_login_call_lose_their_password() {
    // `("x-api-key","letmein")` kept its value, read as two names as `("token", "expires")`
    // is, though a name of several words beside one of a single word is no table's head; and
    // a login given as a pair to a `login` call (smtplib's, ftplib's, imaplib's) kept its
    // password, as only an `auth` or an `…Auth` class was looked at. The user stays; a
    // password read from elsewhere, a call with no pair and two headers' names stay.
    let pw = "hunter22";
    let mut cases = filled(
        &[
            (
                "python -c 'requests.get(u, headers=[(\"x-api-key\",\"letmein\")])'",
                "python -c 'requests.get(u, headers=[(\"x-api-key\",\"[REDACTED]\")])'",
            ),
            (
                "python -c 'requests.get(u, headers=[(\"X-OAuth\",\"letmein\"), (\"X-Api-Key\", \"Letmein\")])'",
                "python -c 'requests.get(u, headers=[(\"X-OAuth\",\"[REDACTED]\"), (\"X-Api-Key\", \"[REDACTED]\")])'",
            ),
            (
                "python -c 'import smtplib; s = smtplib.SMTP(h); s.login(\"alice\", \"{pw}\")'",
                "python -c 'import smtplib; s = smtplib.SMTP(h); s.login(\"alice\", \"[REDACTED]\")'",
            ),
            (
                "python -c 'ftp.login(\"alice\",\"{pw}\"); login(\"alice\", \"{pw}\")'",
                "python -c 'ftp.login(\"alice\",\"[REDACTED]\"); login(\"alice\", \"[REDACTED]\")'",
            ),
            (
                "python -c 'client.login(user=\"alice\", password=\"{pw}\")'",
                "python -c 'client.login(user=\"alice\", password=\"[REDACTED]\")'",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "python -c 'smtp.login(\"alice\", os.environ[\"PW\"]); login(user)'",
        "python -c 'requests.get(u, headers=[(\"Content-Type\",\"a/b\")])'",
        "python -c 'cors(allow_headers=[\"x-api-key\", \"content-type\"], expose=[\"x-auth-token\", \"accept\"])'",
        "python -c 'page.login(\"Username\", \"Password\"); relogin(\"alice\", \"later\")'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw) && !store.contains("letmein"), "{store}");
}

#[test]
fn a_list_of_headers_after_authorization_stays_and_a_login_call_with_a_space_loses_its_password() {
    // `("authorization", "content-type")` (a CORS list of headers: a name of one word, then one
    // of several) lost "content-type" since round five read a word of several after one of a
    // single word as a password; and `smtp.login ("alice", "…")`, a space before the `(`,
    // kept its password.
    let pw = "hunter22";
    let mut cases = filled(
        &[
            (
                "python -c 'smtp.login (\"alice\", \"{pw}\"); ftp.Login\t(\"bob\", \"{pw}\")'",
                "python -c 'smtp.login (\"alice\", \"[REDACTED]\"); ftp.Login\t(\"bob\", \"[REDACTED]\")'",
            ),
            (
                "python -c 'requests.get(u, headers=[(\"authorization\", \"letmein-now\")])'",
                "python -c 'requests.get(u, headers=[(\"authorization\", \"[REDACTED]\")])'",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "python -c 'CORS(app, allow_headers=(\"authorization\", \"content-type\", \"x-requested-with\"))'",
        "python -c 'cors(allow_headers=[\"Authorization\", \"Content-Type\"], expose=[\"token\", \"x-request-id\"])'",
        "python -c 'relogin (\"alice\", \"later\")'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn httpies_token_before_its_bearer_type_and_a_bearer_flag_with_an_equals_sign_go() {
    // `http -a <word> -A bearer` kept the word: only an `-a` after `-A bearer` was taken for
    // a token, and before it a word is a user whose password httpie asks for. xh's
    // `--bearer=<word>` kept it too: only `--bearer <word>` was a flag's value. A user with
    // another auth type and a reference stay.
    let token = "letmein";
    let mut cases = filled(
        &[
            (
                "http -a {token} -A bearer example.org && http --auth {token} --auth-type=bearer x",
                "http -a [REDACTED] -A bearer example.org && http --auth [REDACTED] --auth-type=bearer x",
            ),
            (
                "xh --bearer={token} example.org && curl --oauth2-bearer={token} https://x",
                "xh --bearer=[REDACTED] example.org && curl --oauth2-bearer=[REDACTED] https://x",
            ),
            (
                "http --auth-type=bearer --auth={token} example.org",
                "http --auth-type=bearer --auth=[REDACTED] example.org",
            ),
        ],
        |s| s.replace("{token}", token),
    );
    cases.extend(kept(&[
        "http -a alice -A digest example.org && xh --bearer=\"$TOKEN\" example.org",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(token), "{store}");
}

#[test]
fn every_password_flag_of_mysql_goes_and_sshs_port_after_sshpass_stays() {
    // `mysql -pA -pB -pC` kept B: a command's first and last `-p` were taken, and the client
    // reads every one (the last wins), so each may be the password. After `sshpass -p`, a
    // second `-p` is ssh's port, and stays; mysql's after it goes.
    let mut cases = filled(
        &[
            (
                "mysql -pAlpha1 -pBravo2 -pCharlie3 app",
                "mysql -p[REDACTED] -p[REDACTED] -p[REDACTED] app",
            ),
            (
                "mysqldump -u root -p'Alpha1' -e x -p\"Bravo2\" -h db -pCharlie3 shop > x.sql",
                "mysqldump -u root -p'[REDACTED]' -e x -p\"[REDACTED]\" -h db -p[REDACTED] shop > x.sql",
            ),
            (
                "sshpass -p Alpha1 mysql -h db -pBravo2 app",
                "sshpass -p [REDACTED] mysql -h db -p[REDACTED] app",
            ),
            (
                "sshpass -p Alpha1 ssh -p 2222 deploy@host uptime",
                "sshpass -p [REDACTED] ssh -p 2222 deploy@host uptime",
            ),
        ],
        str::to_owned,
    );
    cases.extend(kept(&[
        "mysql -h db -u root -p -P 3306 app && mysql -p app",
    ]));
    let store = assert_recorded_as(&cases);
    for pw in ["Alpha1", "Bravo2", "Charlie3"] {
        assert!(!store.contains(pw), "{store}");
    }
}

#[test]
fn a_url_after_curls_proxy_user_flag_stays() {
    // `curl -U https://proxy.example` (a URL where a login goes) was recorded as
    // `curl -U https:[REDACTED]`, its scheme read as a user and the rest as a password.
    let pw = "s3cr3tPw9";
    let mut cases = filled(
        &[(
            "curl -U alice:{pw} https://api.example.com",
            "curl -U alice:[REDACTED] https://api.example.com",
        )],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "curl -U https://proxy.example https://api.example.com",
        "curl -x http://proxy:3128 -sU 'https://proxy.example' https://x && curl -u http://x",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn a_word_alone_after_a_header_that_carries_a_credential_goes() {
    // `("authorization", "letmein")` kept its value: a word after a name of one word was read
    // as another name, a table's head as `("token", "expires")` is. After a header that
    // carries a credential (authorization, cookie, x-api-key …) a word is its value, unless
    // it names a header (a CORS list), in source text and in a list kept as JSON.
    let pw = "letmein";
    let mut cases = filled(
        &[
            (
                "python -c 'requests.get(u, headers=[(\"authorization\", \"{pw}\")])'",
                "python -c 'requests.get(u, headers=[(\"authorization\", \"[REDACTED]\")])'",
            ),
            (
                "python -c 'h.append(\"Authorization\", \"Letmein\"); h.append(\"cookie\", \"{pw}\")'",
                "python -c 'h.append(\"Authorization\", \"[REDACTED]\"); h.append(\"cookie\", \"[REDACTED]\")'",
            ),
            (
                "node -e 'fetch(u, {headers: [[\"proxy-authorization\", \"{pw}\"]]})'",
                "node -e 'fetch(u, {headers: [[\"proxy-authorization\", \"[REDACTED]\"]]})'",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "python -c 'CORS(app, allow_headers=(\"authorization\", \"accept\", \"origin\"))'",
        "python -c 'cors(allow_headers=[\"cookie\", \"baggage\", \"traceparent\"])'",
        "python -c 'print_table((\"token\", \"expires\"))'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw) && !store.contains("Letmein"), "{store}");
    let (recorded, store) = recorded_inputs(&[json!({
        "command": "./call",
        "header": ["authorization", pw],
        "cors": ["Authorization", "Accept"]
    })]);
    assert_eq!(
        recorded[0],
        json!({
            "command": "./call",
            "header": ["authorization", "[REDACTED]"],
            "cors": ["Authorization", "Accept"]
        })
    );
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn a_bearer_flag_with_spaces_around_its_equals_sign_and_an_auth_argument_lose_only_the_token() {
    // `xh --bearer =…` and `--bearer = …` kept the token: only `--bearer …` and `--bearer=…`
    // were a flag and its value. And `["http", "--auth-type=bearer", "--auth=…"]`, a command
    // line kept as a list, lost its whole argument, flag and all; now only the value goes,
    // as it does in the same text. A reference stays.
    let token = "letmein";
    let mut cases = filled(
        &[
            (
                "xh --bearer ={token} example.org && xh --bearer = {token} example.org",
                "xh --bearer =[REDACTED] example.org && xh --bearer = [REDACTED] example.org",
            ),
            (
                "curl --oauth2-bearer\t=\t{token} https://x",
                "curl --oauth2-bearer\t=\t[REDACTED] https://x",
            ),
        ],
        |s| s.replace("{token}", token),
    );
    cases.extend(kept(&[
        "xh --bearer = \"$TOKEN\" example.org && curl --password = \"$PW\" https://x",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(token), "{store}");
    let (recorded, store) = recorded_inputs(&[json!({
        "command": "./call",
        "argv": ["http", "--auth-type=bearer", format!("--auth={token}"), "example.org"],
        "args": ["curl", format!("--user=alice:{token}"), "https://x"]
    })]);
    assert_eq!(
        recorded[0],
        json!({
            "command": "./call",
            "argv": ["http", "--auth-type=bearer", "--auth=[REDACTED]", "example.org"],
            "args": ["curl", "--user=alice:[REDACTED]", "https://x"]
        })
    );
    assert!(!store.contains(token), "{store}");
}

#[test]
fn every_password_flag_of_sshpass_docker_login_and_redis_cli_goes() {
    // `sshpass -p A -p B`, `docker login -p A -p B`, `redis-cli -a A -a B` … kept B, the
    // password each uses (the last wins): only a command's first password flag was taken.
    // sshpass's flags end at the command it runs, so ssh's `-p 2222` stays, also after
    // `sshpass -f file` (it was taken for the password); redis-cli's `-p` is its port, and
    // mysqldump's and mariadb's every `-p` goes as mysql's does.
    let mut cases = filled(
        &[
            (
                "sshpass -p Alpha1 -p Bravo2 ssh -p 2222 deploy@host uptime",
                "sshpass -p [REDACTED] -p [REDACTED] ssh -p 2222 deploy@host uptime",
            ),
            (
                "sshpass -v -pAlpha1 -e -p Bravo2 scp -P 22 a host:b",
                "sshpass -v -p[REDACTED] -e -p [REDACTED] scp -P 22 a host:b",
            ),
            (
                "docker login -u me -p Alpha1 -p Bravo2 reg.io && docker run -p 8080:80 app",
                "docker login -u me -p [REDACTED] -p [REDACTED] reg.io && docker run -p 8080:80 app",
            ),
            (
                "redis-cli -h db -p 6379 -a Alpha1 -a Bravo2 ping",
                "redis-cli -h db -p 6379 -a [REDACTED] -a [REDACTED] ping",
            ),
            (
                "ldapsearch -x -w Alpha1 -p 389 -w Bravo2 && sqlcmd -U sa -P Alpha1 -p -P Bravo2",
                "ldapsearch -x -w [REDACTED] -p 389 -w [REDACTED] && sqlcmd -U sa -P [REDACTED] -p -P [REDACTED]",
            ),
            (
                "mongosh -u me -p Alpha1 --port 27017 -p Bravo2",
                "mongosh -u me -p [REDACTED] --port 27017 -p [REDACTED]",
            ),
            (
                "mysqldump -pAlpha1 -pBravo2 shop; mariadb -pAlpha1 -pBravo2; mariadb-dump -pAlpha1 -pBravo2",
                "mysqldump -p[REDACTED] -p[REDACTED] shop; mariadb -p[REDACTED] -p[REDACTED]; mariadb-dump -p[REDACTED] -p[REDACTED]",
            ),
        ],
        str::to_owned,
    );
    cases.extend(kept(&[
        "sshpass -f ~/.pw ssh -p 2222 deploy@host uptime && sshpass -e ssh -p 2200 host",
        "redis-cli -h db -p 6379 ping && psql -h db -p 5432 app",
    ]));
    let store = assert_recorded_as(&cases);
    for pw in ["Alpha1", "Bravo2"] {
        assert!(!store.contains(pw), "{store}");
    }
}

#[test]
fn a_login_calls_password_by_another_name_and_a_connect_calls_password_go() {
    // `do_login("alice", "…")` and `connect(h, "alice", "…")` (DB-API drivers, PHP, JDBC take
    // a host, a user and a password in this order) kept the password: only a call named
    // `login`, an `auth` or an `…Auth` class was looked at. ODBC's `PWD=…` kept it too, read
    // as the shell's working folder. The user stays; a password from elsewhere, a call of
    // another shape and the shell's `PWD` stay.
    let pw = "hunter22";
    let mut cases = filled(
        &[
            (
                "python -c 'do_login(\"alice\", \"{pw}\"); api.doLogin(\"bob\", \"{pw}\")'",
                "python -c 'do_login(\"alice\", \"[REDACTED]\"); api.doLogin(\"bob\", \"[REDACTED]\")'",
            ),
            (
                "python -c 'db = MySQLdb.connect(\"db\", \"alice\", \"{pw}\", \"app\"); connect(h, \"alice\", \"{pw}\")'",
                "python -c 'db = MySQLdb.connect(\"db\", \"alice\", \"[REDACTED]\", \"app\"); connect(h, \"alice\", \"[REDACTED]\")'",
            ),
            (
                "php -r '$c = mysqli_connect($host, \"alice\", \"{pw}\");'",
                "php -r '$c = mysqli_connect($host, \"alice\", \"[REDACTED]\");'",
            ),
            (
                "jshell <<< 'DriverManager.getConnection(url, \"alice\", \"{pw}\")'",
                "jshell <<< 'DriverManager.getConnection(url, \"alice\", \"[REDACTED]\")'",
            ),
            (
                "python -c 'pyodbc.connect(\"DRIVER={{ODBC}};SERVER=db;UID=alice;PWD={pw}\")'",
                "python -c 'pyodbc.connect(\"DRIVER={{ODBC}};SERVER=db;UID=alice;PWD=[REDACTED]\")'",
            ),
            (
                "python -c 'psycopg2.connect(host=\"db\", user=\"alice\", password=\"{pw}\"); pymysql.connect(user=\"a\", passwd=\"{pw}\")'",
                "python -c 'psycopg2.connect(host=\"db\", user=\"alice\", password=\"[REDACTED]\"); pymysql.connect(user=\"a\", passwd=\"[REDACTED]\")'",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "python -c 'connect(h, \"alice\", os.environ[\"PW\"]); sqlite3.connect(\"app.db\"); s.connect((\"host\", 80))'",
        "python -c 'relogin(\"alice\", \"later\"); disconnect(h, \"alice\", \"bob\"); connect(h, \"alice\", \"\")'",
        "cd /srv && PWD=/srv/app ./run && env PWD=$HOME ./run",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn seven_zips_and_rars_password_flags_go() {
    // `7z x a.7z -pSECRET`, `unrar x -pSECRET a.rar` reached disk: 7-Zip and RAR take their
    // password attached to `-p`, as mysql does, and only mysql's were looked at. A `-p` alone
    // (it asks for the password) and a word that holds `rar` stay.
    let mut cases = filled(
        &[
            (
                "7z x samples.7z -pAlpha1 -o/tmp/s && 7za a -tzip -pBravo2 out.zip notes.txt",
                "7z x samples.7z -p[REDACTED] -o/tmp/s && 7za a -tzip -p[REDACTED] out.zip notes.txt",
            ),
            (
                "unrar x -pAlpha1 a.rar && rar a -pAlpha1 -pBravo2 b.rar f && mysql -u root \\\n  -pAlpha1 db",
                "unrar x -p[REDACTED] a.rar && rar a -p[REDACTED] -p[REDACTED] b.rar f && mysql -u root \\\n  -p[REDACTED] db",
            ),
        ],
        str::to_owned,
    );
    cases.extend(kept(&[
        "7z x archive.7z -p && unrar x a.rar && ls /usr/lib/library -p",
    ]));
    let store = assert_recorded_as(&cases);
    for pw in ["Alpha1", "Bravo2"] {
        assert!(!store.contains(pw), "{store}");
    }
}

#[test]
fn a_value_of_several_words_after_a_header_of_several_that_carries_a_credential_goes() {
    // `("x-api-key", "letmein-now")` kept its value, read as another name of the same shape
    // (a name of several words after one of several). After a header that carries a
    // credential it is one only when it names a header: a well-known one or a custom `x-…`.
    let pw = "letmein-now";
    let mut cases = filled(
        &[(
            "python -c 'requests.get(u, headers=[(\"x-api-key\", \"{pw}\")]); h.append(\"X-Auth-Token\", \"Letmein-Now\")'",
            "python -c 'requests.get(u, headers=[(\"x-api-key\", \"[REDACTED]\")]); h.append(\"X-Auth-Token\", \"[REDACTED]\")'",
        )],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "python -c 'cors([\"x-api-key\", \"x-tenant-id\", \"sentry-trace\", \"content-type\"])'",
        "python -c 'cors((\"X-Api-Key\", \"X-Request-Id\")); cols = [\"x-token\", \"x-expires\"]'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(
        !store.contains(pw) && !store.contains("Letmein-Now"),
        "{store}"
    );
}

#[test]
fn a_paramiko_connect_with_a_port_loses_its_password() {
    // paramiko's `connect(hostname, 22, "alice", "…")` kept the password: a connect call's
    // user was looked for right after its host, and a port came between. A port given by name
    // (`connect(host, port, "root", "…")`) is one too; a connect call of another shape stays.
    let pw = "hunter2xyz";
    let mut cases = filled(
        &[
            (
                "python -c 'client.connect(hostname, 22, \"alice\", \"{pw}\")'",
                "python -c 'client.connect(hostname, 22, \"alice\", \"[REDACTED]\")'",
            ),
            (
                "python -c 'ssh.connect(\"10.0.0.5\", 2222, \"root\", \"{pw}\"); ssh.connect(host, ssh_port, \"root\", \"{pw}\")'",
                "python -c 'ssh.connect(\"10.0.0.5\", 2222, \"root\", \"[REDACTED]\"); ssh.connect(host, ssh_port, \"root\", \"[REDACTED]\")'",
            ),
            (
                "python -c 'client.connect(\"host\", username=\"u\", password=\"{pw}\")'",
                "python -c 'client.connect(\"host\", username=\"u\", password=\"[REDACTED]\")'",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "python -c 'sock.connect((host, 22)); conn = connect(url); ws.connect(host, 8080, \"chat\")'",
        "python -c 'client.connect(host, 22, \"alice\", os.environ[\"PW\"]); max(a, b)'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn a_pdo_connection_loses_its_password() {
    // PHP's `new PDO("mysql:host=x;dbname=y", "root", "…")` kept the password, its third
    // argument: only a call named `connect` or `getConnection` was read so. The DSN and the
    // user stay, and so do a PDO given variables and one with no login.
    let pw = "s3cretPass";
    let mut cases = filled(
        &[
            (
                "php -r '$db = new PDO(\"mysql:host=x;dbname=y\", \"root\", \"{pw}\");'",
                "php -r '$db = new PDO(\"mysql:host=x;dbname=y\", \"root\", \"[REDACTED]\");'",
            ),
            (
                "php -r '$db = new \\PDO($dsn, \"app\", \"{pw}\");'",
                "php -r '$db = new \\PDO($dsn, \"app\", \"[REDACTED]\");'",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "php -r '$db = new PDO($dsn, $user, $pass); $lite = new PDO(\"sqlite:app.db\");'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn a_pysmb_connection_loses_its_password() {
    // pysmb's `SMBConnection("alice", "…", "client", "server")` kept the password, its second
    // argument: a login given as a pair was read only after an `auth`, an `…Auth` class or a
    // `login` call. The user and the machines' names stay.
    let pw = "s3cretPass";
    let mut cases = filled(
        &[(
            "python -c 'conn = SMBConnection(\"alice\", \"{pw}\", \"client\", \"server\")'",
            "python -c 'conn = SMBConnection(\"alice\", \"[REDACTED]\", \"client\", \"server\")'",
        )],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "python -c 'conn = SMBConnection(user, password, \"client\", \"server\")'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn zips_and_rars_passwords_go() {
    // `zip -P …` and `unzip -P …` kept the password (only `zip --password …` lost it), and so
    // did RAR's `-hp…` (encrypting the headers too); mysql's `-h` stays a host however it
    // starts, and a zip with no password, a `-hp` that asks for one and a reference stay.
    let pw = "s3cretPass";
    let mut cases = filled(
        &[
            (
                "zip -P {pw} out.zip f && zip --password {pw} out.zip f",
                "zip -P [REDACTED] out.zip f && zip --password [REDACTED] out.zip f",
            ),
            (
                "zip -r -e -P{pw} out.zip dir; unzip -o -P {pw} out.zip",
                "zip -r -e -P[REDACTED] out.zip dir; unzip -o -P [REDACTED] out.zip",
            ),
            (
                "rar a -hp{pw} x.rar f && rar a -p{pw} y.rar f && unrar x -p{pw} y.rar",
                "rar a -hp[REDACTED] x.rar f && rar a -p[REDACTED] y.rar f && unrar x -p[REDACTED] y.rar",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "zip -r out.zip dir && unzip -l out.zip && rar a -hp x.rar f",
        "zip -P \"$ZIP_PW\" out.zip f && mysql -hprod.db -u root app && gzip -k f",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn a_header_pair_of_bytes_or_in_braces_loses_its_value() {
    // A header as a pair of bytes (`[(b"x-api-key", b"…")]`: an ASGI scope's, httpx's raw
    // headers) and in braces (Elixir's and Erlang's `[{"x-api-key", "…"}]`, C++'s
    // `{{"X-Auth-Token", "…"}}`) kept its value: only a pair of plain strings opened by `(`,
    // `[` or `,` was read. Other headers, names of headers and a table's head stay.
    let pw = "abcd1234efgh";
    let mut cases = filled(
        &[
            (
                "python -c 'scope = {\"headers\": [(b\"x-api-key\", b\"{pw}\")]}'",
                "python -c 'scope = {\"headers\": [(b\"x-api-key\", b\"[REDACTED]\")]}'",
            ),
            (
                "elixir -e 'HTTPoison.get!(url, [{\"x-api-key\", \"{pw}\"}, {\"X-Auth-Token\", \"{pw}\"}])'",
                "elixir -e 'HTTPoison.get!(url, [{\"x-api-key\", \"[REDACTED]\"}, {\"X-Auth-Token\", \"[REDACTED]\"}])'",
            ),
            (
                "echo 'cpr::Header{{\"X-Auth-Token\", \"{pw}\"}}'",
                "echo 'cpr::Header{{\"X-Auth-Token\", \"[REDACTED]\"}}'",
            ),
            (
                r#"echo '{"result": "scope = {\"headers\": [(b\"x-api-key\", b\"{pw}\")]}"' >> log.json"#,
                r#"echo '{"result": "scope = {\"headers\": [(b\"x-api-key\", b\"[REDACTED]\")]}"' >> log.json"#,
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "elixir -e 'Req.get!(url, headers: [{\"accept\", \"application/json\"}])'",
        "python -c 'allowed = {\"authorization\", \"content-type\"}; cols = {{\"token\", \"expires\"}}'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn odbcs_pwd_as_a_json_key_loses_its_value() {
    // `{"PWD": "…"}` (an ODBC connection's password as a dict's key or JSON) reached disk,
    // as an argument and as JSON text in one: a key `PWD` was taken for the shell's folder
    // whatever it held. A folder under `PWD` stays.
    let pw = "s3cretPass";
    let inputs = [
        json!({"DRIVER": "ODBC Driver 18", "UID": "alice", "PWD": pw}),
        json!({"options": format!("{{\"PWD\": \"{pw}\"}}")}),
        json!({"conn": {"Pwd": pw}}),
        json!({"PWD": "/home/dev", "OLDPWD": "/tmp", "env": "{\"PWD\": \"C:\\\\Users\\\\dev\"}"}),
    ];
    let (recorded, store) = recorded_inputs(&inputs);
    assert_eq!(
        recorded,
        [
            json!({"DRIVER": "ODBC Driver 18", "UID": "alice", "PWD": "[REDACTED]"}),
            json!({"options": "{\"PWD\":\"[REDACTED]\"}"}),
            json!({"conn": {"Pwd": "[REDACTED]"}}),
            inputs[3].clone(),
        ]
    );
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn a_login_call_given_a_host_takes_only_its_password() {
    // pexpect's `s.login("db.example.com", "alice", "…")` (pxssh: a host, a user, then the
    // password) lost the user and kept the password: a login call's second argument was taken
    // for its password whatever the first was. A login call given a user then a host
    // (`ssh_login("alice", "bastion.example.com")`) lost the host, which is no secret, and
    // cx_Oracle's `connect("scott", "…", "db.example.com:1521/orcl")` lost where the database
    // is and kept the password before it. A login's password after its user still goes.
    let pw = "hunter2xyz";
    let mut cases = filled(
        &[
            (
                "python -c 's = pxssh.pxssh(); s.login(\"db.example.com\", \"alice\", \"{pw}\")'",
                "python -c 's = pxssh.pxssh(); s.login(\"db.example.com\", \"alice\", \"[REDACTED]\")'",
            ),
            (
                "python -c 's.login(\"10.0.0.5\", \"root\", \"{pw}\"); smtp.login(\"alice\", \"{pw}\")'",
                "python -c 's.login(\"10.0.0.5\", \"root\", \"[REDACTED]\"); smtp.login(\"alice\", \"[REDACTED]\")'",
            ),
            (
                "python -c 'cx_Oracle.connect(\"scott\", \"{pw}\", \"db.example.com:1521/orcl\")'",
                "python -c 'cx_Oracle.connect(\"scott\", \"[REDACTED]\", \"db.example.com:1521/orcl\")'",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "python -c 'ssh_login(\"alice\", \"bastion.example.com\"); do_login(\"deploy\", \"10.0.0.5\")'",
        "python -c 'login(\"alice\", \"https://app.example.com\"); s.login(\"db.example.com\", \"alice\")'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn a_connect_calls_password_that_looks_like_a_host_goes_after_a_host() {
    // paramiko's `connect("db.example.com", 22, "alice", "hunter2.com")` lost the user and kept
    // the password: a password spelt as a host was taken for where the database is, as
    // cx_Oracle's `connect("scott", "…", "db.example.com/orcl")` puts it, though a host and a
    // port came first; so did DB-API's `connect("db.example.com", "alice", "…")`. A port named
    // `port` or quoted (`"22"`) kept the password, or lost the user; and cx_Oracle's own
    // `connect("scott", "hunter2.com", "db.example.com/orcl")` kept it.
    let pw = "hunter2.com";
    let cases = filled(
        &[
            (
                "python -c 'ssh.connect(\"db.example.com\", 22, \"alice\", \"{pw}\")'",
                "python -c 'ssh.connect(\"db.example.com\", 22, \"alice\", \"[REDACTED]\")'",
            ),
            (
                "python -c 'pymysql.connect(\"db.example.com\", \"alice\", \"{pw}\")'",
                "python -c 'pymysql.connect(\"db.example.com\", \"alice\", \"[REDACTED]\")'",
            ),
            (
                "python -c 'c.connect(host, port, \"alice\", \"{pw}\"); c.connect(host, \"22\", \"bob\", \"{pw}\")'",
                "python -c 'c.connect(host, port, \"alice\", \"[REDACTED]\"); c.connect(host, \"22\", \"bob\", \"[REDACTED]\")'",
            ),
            (
                "python -c 'cx_Oracle.connect(\"scott\", \"{pw}\", \"db.example.com:1521/orcl\")'",
                "python -c 'cx_Oracle.connect(\"scott\", \"[REDACTED]\", \"db.example.com:1521/orcl\")'",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn a_call_about_a_login_that_happened_keeps_its_arguments() {
    // `audit.record_login("alice", "failed")`, `on_login(…)` and `redirectAfterLogin("alice",
    // "/home")` lost their second argument, taken for a password as any call named `…_login`
    // or `…Login` given two strings: their name says a login happened, and they are told what.
    // A call that logs in still loses its password.
    let pw = "hunter2xyz";
    let mut cases = filled(
        &[(
            "python -c 'do_login(\"alice\", \"{pw}\"); check_login(\"bob\", \"{pw}\")'",
            "python -c 'do_login(\"alice\", \"[REDACTED]\"); check_login(\"bob\", \"[REDACTED]\")'",
        )],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "python -c 'audit.record_login(\"alice\", \"failed\"); on_login(\"alice\", \"dashboard\")'",
        "node -e 'redirectAfterLogin(\"alice\", \"/home/welcome\"); trackLogin(\"bob\", \"web\")'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn a_login_or_connect_calls_password_after_a_user_in_a_variable_goes() {
    // `ftp.login(user, "…")`, `smtp.login(os.environ["U"], "…")` and paramiko's
    // `connect(host, 22, user, "…")` kept the password: a login's user was read only as a
    // quoted literal, and a password is as often written beside a user held in a variable. A
    // connect call's user in a variable counts when its name says it is one, so a call of
    // another shape (`mqtt.connect(host, timeout, "a", "b")`) and a login's host stay.
    let pw = "s3cretPass";
    let mut cases = filled(
        &[
            (
                "python -c 'ftp.login(user, \"{pw}\"); smtp.login(os.environ[\"U\"], \"{pw}\")'",
                "python -c 'ftp.login(user, \"[REDACTED]\"); smtp.login(os.environ[\"U\"], \"[REDACTED]\")'",
            ),
            (
                "python -c 'client.connect(host, 22, user, \"{pw}\"); pymysql.connect(host, self.db_user, \"{pw}\")'",
                "python -c 'client.connect(host, 22, user, \"[REDACTED]\"); pymysql.connect(host, self.db_user, \"[REDACTED]\")'",
            ),
            (
                "python -c 'requests.get(u, auth=(cfg.user, \"{pw}\")); s.login(hostname, \"root\", \"{pw}\")'",
                "python -c 'requests.get(u, auth=(cfg.user, \"[REDACTED]\")); s.login(hostname, \"root\", \"[REDACTED]\")'",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "python -c 'mqtt.connect(host, timeout, \"a\", \"b\"); ftp.login(user, os.environ[\"PW\"])'",
        "python -c 'ssh_login(user, \"bastion.example.com\"); connect(url); max(a, b)'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn an_ldap_binds_password_goes() {
    // python-ldap's `simple_bind_s("cn=admin,dc=x", "…")` and `bind_s(dn, "…")`, ldapjs's
    // `client.bind(dn, "…", cb)` and ldap3's `Connection(server, "cn=admin", "…")` kept the
    // password: a bind is a login by another name. The DN stays; a `bind` that binds no DN
    // (`handler.bind(this, "click")`, a socket's) stays whole.
    let pw = "s3cretPass";
    let mut cases = filled(
        &[
            (
                "python -c 'l.simple_bind_s(\"cn=admin,dc=x\", \"{pw}\"); conn.bind_s(dn, \"{pw}\")'",
                "python -c 'l.simple_bind_s(\"cn=admin,dc=x\", \"[REDACTED]\"); conn.bind_s(dn, \"[REDACTED]\")'",
            ),
            (
                "node -e 'client.bind(\"cn=root\", \"{pw}\", cb)'",
                "node -e 'client.bind(\"cn=root\", \"[REDACTED]\", cb)'",
            ),
            (
                "python -c 'c = Connection(server, \"cn=admin,dc=x\", \"{pw}\", auto_bind=True)'",
                "python -c 'c = Connection(server, \"cn=admin,dc=x\", \"[REDACTED]\", auto_bind=True)'",
            ),
            (
                "python -c 'c = ldap3.Connection(server, user=\"cn=admin\", password=\"{pw}\")'",
                "python -c 'c = ldap3.Connection(server, user=\"cn=admin\", password=\"[REDACTED]\")'",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "node -e 'el.on(\"x\", handler.bind(this, \"click\")); s.bind((\"0.0.0.0\", 80))'",
        "python -c 'l.simple_bind_s(\"cn=admin\", os.environ[\"PW\"]); c = Connection(server)'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn a_redis_clients_positional_password_goes() {
    // redis-py's `Redis("host", 6379, 0, "…")` (and `StrictRedis`) kept the password, its
    // fourth argument: only `password="…"` was read. Host, port and database stay, and so do a
    // client given fewer arguments or a variable.
    let pw = "s3cretPass";
    let mut cases = filled(
        &[
            (
                "python -c 'r = redis.Redis(\"cache.internal\", 6379, 0, \"{pw}\")'",
                "python -c 'r = redis.Redis(\"cache.internal\", 6379, 0, \"[REDACTED]\")'",
            ),
            (
                "python -c 'r = redis.StrictRedis(host, port, db, \"{pw}\"); s = Redis(host=\"h\", password=\"{pw}\")'",
                "python -c 'r = redis.StrictRedis(host, port, db, \"[REDACTED]\"); s = Redis(host=\"h\", password=\"[REDACTED]\")'",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "python -c 'r = redis.Redis(); r = redis.Redis(\"localhost\", 6379, 0); Redis(h, p, d, pw)'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn prose_after_zips_password_flag_keeps_its_words() {
    // A prompt's or a note's prose lost a word: `use zip -P to set a password` lost `to`, read
    // as the password, and `zip -P … f — then I ran cp -P src dst` lost `src`, the prose after
    // an em dash read as more of zip's command. A word of prose after the flag stays, and a
    // dash between words ends the command; the password still goes.
    let pw = "s3cretPass";
    let mut cases = filled(
        &[
            (
                "zip -P {pw} out.zip f — then I ran cp -P src dst",
                "zip -P [REDACTED] out.zip f — then I ran cp -P src dst",
            ),
            (
                "zip -P {pw} out.zip f && unzip -P {pw} -d to out.zip",
                "zip -P [REDACTED] out.zip f && unzip -P [REDACTED] -d to out.zip",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "echo 'use zip -P to set a password; zip -P is insecure, so zip -e asks for it'",
        "echo 'the flag zip -P takes the password in clear'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn a_password_set_in_sql_goes() {
    // `mysql -e "CREATE USER … IDENTIFIED BY '…'"` and `psql -c "ALTER USER app WITH PASSWORD
    // '…'"` reached disk: a SQL statement sets a password with no `=` or flag beside it. The
    // literal goes; the statement, and prose that says who identified what, stay.
    let pw = "s3cretPass";
    let mut cases = filled(
        &[
            (
                "mysql -e \"CREATE USER 'a'@'%' IDENTIFIED BY '{pw}'\"",
                "mysql -e \"CREATE USER 'a'@'%' IDENTIFIED BY '[REDACTED]'\"",
            ),
            (
                "psql -c \"ALTER USER app WITH PASSWORD '{pw}'\" && psql -c \"CREATE ROLE r LOGIN ENCRYPTED PASSWORD '{pw}'\"",
                "psql -c \"ALTER USER app WITH PASSWORD '[REDACTED]'\" && psql -c \"CREATE ROLE r LOGIN ENCRYPTED PASSWORD '[REDACTED]'\"",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "echo 'the bug identified by users: the password is too short' && psql -c '\\password app'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn more_logins_password_flags_and_an_aws_secret_set_by_name_go() {
    // `oc login -p …`, `cf login -p …`, `az login -p …`, `twine upload -p …` and `aws configure
    // set aws_secret_access_key …` reached disk whole: only docker's and its kin's `login -p`
    // and a package manager's registry credential were read. Their other flags, and AWS's
    // settings that hold no secret, stay.
    let pw = "s3cretPass";
    let mut cases = filled(
        &[
            (
                "oc login https://api.x:6443 -u dev -p {pw} && cf login -u dev -p {pw}",
                "oc login https://api.x:6443 -u dev -p [REDACTED] && cf login -u dev -p [REDACTED]",
            ),
            (
                "az login -u dev@corp.io -p {pw}; twine upload -u __token__ -p {pw} dist/*",
                "az login -u dev@corp.io -p [REDACTED]; twine upload -u __token__ -p [REDACTED] dist/*",
            ),
            (
                "aws configure set aws_secret_access_key {pw} && aws configure set default.aws_session_token {pw}",
                "aws configure set aws_secret_access_key [REDACTED] && aws configure set default.aws_session_token [REDACTED]",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "aws configure set region us-east-1 && oc login https://api.x:6443 -u dev && twine upload dist/*",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn sambas_password_after_its_user_goes() {
    // `smbclient //fs/share -U alice%…` (and `rpcclient`, `smbcacls`) reached disk: Samba's
    // tools take the password after the user and a `%`, and no rule read them. The user stays,
    // and so does a `-U` with no password, which asks for it.
    let pw = "s3cretPass";
    let mut cases = filled(
        &[(
            "smbclient //fs/share -U alice%{pw} -c ls && rpcclient -U 'CORP\\alice%{pw}' dc1",
            "smbclient //fs/share -U alice%[REDACTED] -c ls && rpcclient -U 'CORP\\alice%[REDACTED]' dc1",
        )],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "smbclient //fs/share -U alice -c ls && smbclient -L fs -N",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn a_password_set_by_mysqls_set_password_or_over_two_lines_goes() {
    // MySQL's `SET PASSWORD FOR 'a'@'%' = '…'` (and `= PASSWORD('…')`) reached disk: its `=`
    // stands after a user, not beside the word. So did a statement written over lines, its
    // literal on the line after `IDENTIFIED BY` or `PASSWORD`, as a heredoc or a migration
    // writes it. A `reset password for … =`, and a quote after a blank line, stay.
    let pw = "s3cretPass";
    let mut cases = filled(
        &[
            (
                "mysql -e \"SET PASSWORD FOR 'a'@'%' = '{pw}'; SET PASSWORD = PASSWORD('{pw}')\"",
                "mysql -e \"SET PASSWORD FOR 'a'@'%' = '[REDACTED]'; SET PASSWORD = PASSWORD('[REDACTED]')\"",
            ),
            (
                "mysql <<SQL\nCREATE USER 'a'@'%' IDENTIFIED BY\n  '{pw}';\nALTER ROLE r WITH PASSWORD\n  '{pw}';\nSQL",
                "mysql <<SQL\nCREATE USER 'a'@'%' IDENTIFIED BY\n  '[REDACTED]';\nALTER ROLE r WITH PASSWORD\n  '[REDACTED]';\nSQL",
            ),
        ],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "echo 'reset password for alice = \"done\"' && echo 'a password\n\n\"x\"'",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn an_aws_secret_set_for_a_named_profile_goes() {
    // `aws configure set profile.prod.aws_secret_access_key …` (AWS's own spelling of a
    // profile's setting) and `aws --profile p configure set aws_session_token …` reached disk:
    // only `default.` or no profile, and `--profile` after `set`, were read. A profile's other
    // settings stay.
    let pw = "s3cretPass";
    let mut cases = filled(
        &[(
            "aws configure set profile.prod.aws_secret_access_key {pw} && aws --profile p configure set aws_session_token {pw}",
            "aws configure set profile.prod.aws_secret_access_key [REDACTED] && aws --profile p configure set aws_session_token [REDACTED]",
        )],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "aws configure set profile.prod.region us-east-1 && aws --profile p configure set region eu-west-1",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn sambas_password_after_its_user_in_the_long_flag_goes() {
    // `smbclient //fs/share --user=alice%…` (or `--user alice%…`), the long form of `-U`,
    // reached disk: only `-U` was read. What follows the `%` goes; the user stays, and so
    // does a `--user` with no password.
    let pw = "s3cretPass";
    let mut cases = filled(
        &[(
            "smbclient //fs/share --user=alice%{pw} -c ls && smbcacls --user 'CORP\\alice%{pw}' //fs/s f",
            "smbclient //fs/share --user=alice%[REDACTED] -c ls && smbcacls --user 'CORP\\alice%[REDACTED]' //fs/s f",
        )],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&["smbclient //fs/share --user=alice -c ls"]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

#[test]
fn a_password_flag_written_with_an_equals_sign_keeps_it() {
    // `oc login -p=…` (cobra's and Go's flags take `-p=value`) lost its `=` with the password:
    // the `=` was read as the password's first character. The `=` stays, the password goes,
    // and a reference after it (`-p=$PW`) stays whole.
    let pw = "s3cretPass";
    let mut cases = filled(
        &[(
            "oc login https://api.x:6443 -u dev -p={pw} && docker login -u ci -p={pw} ghcr.io",
            "oc login https://api.x:6443 -u dev -p=[REDACTED] && docker login -u ci -p=[REDACTED] ghcr.io",
        )],
        |s| s.replace("{pw}", pw),
    );
    cases.extend(kept(&[
        "oc login https://api.x:6443 -u dev -p=$OC_PASSWORD",
    ]));
    let store = assert_recorded_as(&cases);
    assert!(!store.contains(pw), "{store}");
}

/// The proxies cut a string too long to keep before they scrub it: a secret the cut fell
/// inside lost its end, the redaction rules no longer knew what was left, and most of it
/// (`ghp_` and 26 of its 36 characters) reached the store.
mod cut_strings {
    use std::io::Write as _;

    use serde_json::{Value, json};

    use crate::common::{TestEnv, run_with_stdin};

    /// A GitHub token and an Anthropic key, built from pieces as [`super::secrets`] builds
    /// them.
    fn tokens() -> [String; 2] {
        [
            format!("{}{}", "ghp_", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"),
            format!("{}{}", "sk-ant-api03-", "Qw8Er7Ty6Ui5".repeat(5)),
        ]
    }

    /// A `tools/call` over a megabyte (so that it is recorded as a cut copy) whose one long
    /// string holds `secret` at byte `at`, after `a a a …`, before `b b b …`.
    fn call(id: usize, at: usize, secret: &str) -> String {
        let mut text = "a ".repeat(at / 2 + 1);
        text.truncate(at);
        text.push_str(secret);
        text.push(' ');
        text.push_str(&"b".repeat(1_200_000));
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": "x", "arguments": {"t": text}}})
        .to_string()
    }

    /// What was recorded of each call's string as the client sent it, before its cut marker.
    fn kept_starts(env: &TestEnv) -> Vec<String> {
        let events = env.events(&env.sessions()[0]);
        events
            .iter()
            // `cat` sends each call back: the copy the client sent is the one looked at.
            .filter(|e| {
                e["event_type"] == "tool_call" && e["data"]["direction"] == "client_to_server"
            })
            .map(|e| {
                let kept = e["data"]["arguments"]["t"].as_str().unwrap_or_default();
                let (start, _marker) = kept
                    .rsplit_once('…')
                    .unwrap_or_else(|| panic!("a cut string: {kept:.80}"));
                start.to_owned()
            })
            .collect()
    }

    /// `record -- cat`, waiting for a recorder slower than the relay (a test build on a busy
    /// host), so that every call is recorded whole.
    fn record(env: &TestEnv) -> std::process::Command {
        let mut record = env.command(&["record", "--", "cat"]);
        record.env("AGENT_STRACE_RECORD_PATIENCE_MS", "60000");
        record
    }

    /// Where a string is cut in the record: the length of what `record` keeps of one.
    fn cut_point() -> usize {
        let env = TestEnv::new();
        let input = format!("{}\n", call(0, 0, ""));
        let run = run_with_stdin(record(&env), input.as_bytes());
        assert_eq!(run.code, 0, "{}", run.stderr);
        let kept = kept_starts(&env);
        assert_eq!(kept.len(), 1);
        kept[0].len()
    }

    /// Calls whose secret straddles the point the record cuts at, and points past it as far
    /// as a margin kept to scrub with could reach: each secret, wherever it ends, must leave
    /// no part of itself.
    fn calls() -> Vec<String> {
        let cut = cut_point();
        let tokens = tokens();
        let mut places: Vec<usize> = (1..40).step_by(3).map(|d| cut - d).collect();
        places.extend((1..=16).map(|k| cut + k * 512 - 20));
        places
            .into_iter()
            .enumerate()
            .map(|(id, at)| call(id + 1, at, &tokens[id % 2]))
            .collect()
    }

    /// Each recorded string keeps a start of its text, and nothing of the secret in it.
    fn assert_no_part_of_a_secret(env: &TestEnv, calls: usize) {
        let kept = kept_starts(env);
        assert_eq!(kept.len(), calls);
        for start in kept {
            assert!(start.len() > 100_000, "a start is kept: {}", start.len());
            let tail = &start[start.len() - 60..];
            assert!(
                start
                    .replace("[REDACTED]", "")
                    .bytes()
                    .all(|b| b == b'a' || b == b' '),
                "a part of the secret was kept: …{tail}"
            );
        }
        let stored =
            std::fs::read_to_string(env.store().join(&env.sessions()[0]).join("events.ndjson"))
                .unwrap();
        for prefix in ["ghp_", "sk-ant-"] {
            assert!(!stored.contains(prefix), "{prefix} reached the store");
        }
    }

    #[test]
    fn record_keeps_no_part_of_a_secret_its_cut_falls_in() {
        let env = TestEnv::new();
        let calls = calls();
        let input = calls.join("\n") + "\n";
        let run = run_with_stdin(record(&env), input.as_bytes());
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stdout == input, "the traffic passes unchanged");
        assert_no_part_of_a_secret(&env, calls.len());
    }

    fn answer_written(body: &[u8], stream: &mut std::net::TcpStream) {
        let id = serde_json::from_slice::<Value>(body).map_or(Value::Null, |m| m["id"].clone());
        let answer = json!({"jsonrpc": "2.0", "id": id, "result": {"content": []}}).to_string();
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            answer.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(answer.as_bytes());
    }

    #[test]
    fn record_http_keeps_no_part_of_a_secret_its_cut_falls_in() {
        let env = TestEnv::new();
        let server = crate::record_http_large::hand_server(answer_written);
        let (proxy, port) =
            crate::common::net::record_http(&env, &format!("http://127.0.0.1:{server}/mcp"), &[]);
        let calls = calls();
        for call in &calls {
            let answer = crate::mcp_http::raw_request(port, &crate::mcp_http::post(call, ""));
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer:.200}");
        }
        assert_eq!(proxy.terminate(), Some(0));
        assert_no_part_of_a_secret(&env, calls.len());
    }

    /// Answers every request 503 with a page of text: the call's string `t`, as it came.
    fn failure_echoed(body: &[u8], stream: &mut std::net::TcpStream) {
        let text = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|m| m["params"]["arguments"]["t"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let head = format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            text.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(text.as_bytes());
    }

    /// An HTTP error's body is recorded by its first 2 KiB. It was cut to them before it was
    /// scrubbed, so a secret across byte 2,048 reached the store in part (`ghp_ABCDEF…`,
    /// `sk-ant-api03-Qw8…`), its start no longer one the rules know.
    #[test]
    fn record_http_keeps_no_part_of_a_secret_an_error_bodys_cut_falls_in() {
        let env = TestEnv::new();
        let server = crate::record_http_large::hand_server(failure_echoed);
        let (proxy, port) =
            crate::common::net::record_http(&env, &format!("http://127.0.0.1:{server}/mcp"), &[]);
        let mut calls = 0;
        for secret in tokens() {
            for at in (2048 - secret.len()..=2048).step_by(3) {
                calls += 1;
                let mut text = "a ".repeat(at / 2 + 1);
                text.truncate(at);
                text.push_str(&secret);
                text.push(' ');
                text.push_str(&"b".repeat(8000));
                let call = json!({"jsonrpc": "2.0", "id": calls, "method": "tools/call",
                                  "params": {"name": "x", "arguments": {"t": text}}})
                .to_string();
                let answer = crate::mcp_http::raw_request(port, &crate::mcp_http::post(&call, ""));
                assert!(answer.starts_with("HTTP/1.1 503"), "{answer:.200}");
                assert!(
                    answer.contains(&secret),
                    "the answer reaches the client whole"
                );
            }
        }
        assert_eq!(proxy.terminate(), Some(0));
        let session = &env.sessions()[0];
        let events = env.events(session);
        let bodies: Vec<&str> = events
            .iter()
            .filter(|e| e["event_type"] == "error")
            .filter_map(|e| e["data"]["body"].as_str())
            .collect();
        assert_eq!(
            bodies.len(),
            calls,
            "one error, with its body, for each call"
        );
        for body in bodies {
            assert!(body.starts_with("a a "), "{body:.80}");
            let kept = body.find("… [cut by agent-strace").unwrap_or(body.len());
            assert!(kept >= 1900, "what is kept of the body: {kept} bytes");
            for piece in ["ghp_", "sk-ant-", "ABCDEFGHIJ", "Qw8Er7Ty"] {
                let end = &body[body.len().saturating_sub(120)..];
                assert!(!body.contains(piece), "{piece} in …{end:?}");
            }
        }
        for file in std::fs::read_dir(env.store().join(session)).unwrap() {
            let text = std::fs::read(file.unwrap().path()).unwrap();
            let text = String::from_utf8_lossy(&text);
            assert!(
                !text.contains("ghp_") && !text.contains("sk-ant-"),
                "a secret on disk"
            );
        }
    }
}

/// JSON text in a string (a command's argument, an MCP tool's text) is redacted as the
/// structure it is. Text nested past serde_json's 128 levels was "not JSON" to redaction, so
/// a value under a secret's name that no rule for plain text sees (an object) was kept; it is
/// redacted as in text 100 levels deep.
#[test]
fn json_text_nested_hundreds_deep_is_redacted_as_a_shallow_one_is() {
    let secret = "correct-horse-battery-staple";
    let text = |levels: usize| json!({"command": json!({"password": {"v": secret}, "deep": nested(levels)}).to_string()});
    let (recorded, store) = recorded_inputs(&[text(100), text(300)]);
    assert!(!store.contains(secret), "{store}");
    for input in &recorded {
        let command = input["command"].as_str().unwrap();
        assert!(command.contains(r#""password":"[REDACTED]""#), "{command}");
    }
}
