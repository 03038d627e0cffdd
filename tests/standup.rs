//! `standup`: a report from a session recorded through the real hooks.

use serde_json::{Value, json};

use crate::common::TestEnv;

const SID: &str = "57a0d000-0000-4000-8000-000000000001";

fn hook(env: &TestEnv, event: &str, name: &str, extra: Value) {
    let mut p = json!({"session_id": SID, "hook_event_name": name, "cwd": env.path()});
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    let run = env.hook(event, &p);
    assert_eq!(run.code, 0);
}

fn tool(env: &TestEnv, name: &str, input: Value, ok: bool) {
    hook(
        env,
        "pre-tool",
        "PreToolUse",
        json!({"tool_name": name, "tool_input": input}),
    );
    if ok {
        hook(
            env,
            "post-tool",
            "PostToolUse",
            json!({"tool_name": name, "tool_input": input, "tool_response": {"stdout": "ok"}}),
        );
    } else {
        hook(
            env,
            "post-tool-failure",
            "PostToolUseFailure",
            json!({"tool_name": name, "tool_input": input, "error": "exit 1"}),
        );
    }
}

#[test]
fn standup_reports_what_the_session_did() {
    let env = TestEnv::new();
    let root = env.path().to_string_lossy().into_owned();
    hook(
        &env,
        "session-start",
        "SessionStart",
        json!({"source": "startup"}),
    );
    hook(
        &env,
        "user-prompt",
        "UserPromptSubmit",
        json!({"prompt": "add login throttling"}),
    );
    tool(
        &env,
        "Read",
        json!({"file_path": format!("{root}/src/auth/login.py")}),
        true,
    );
    tool(
        &env,
        "Bash",
        json!({"command": "npm install --save express-rate-limit"}),
        true,
    );
    let big = "line\n".repeat(250);
    tool(
        &env,
        "Write",
        json!({"file_path": format!("{root}/src/auth/throttle.py"), "content": format!("# TODO: make the limit configurable\n{big}")}),
        true,
    );
    tool(
        &env,
        "Edit",
        json!({"file_path": format!("{root}/package.json"), "old_string": "{", "new_string": "{ // FIXME pin versions"}),
        true,
    );
    tool(&env, "Bash", json!({"command": "npm test"}), false);
    tool(&env, "Bash", json!({"command": "npm test"}), false);
    hook(&env, "session-end", "SessionEnd", json!({"reason": "exit"}));

    let r = env.run(&["standup", "--format", "json"]).success().json();
    // The session is named as every other command names it, or with --session as the Python
    // tool spells it; not both.
    let prefix = &SID[..6];
    let positional = env.run(&["standup", prefix, "--format", "json"]);
    let flag = env.run(&["standup", "--session", prefix, "--format", "json"]);
    assert_eq!(positional.success().json(), r);
    assert_eq!(flag.success().json(), r);
    assert_eq!(env.run(&["standup", prefix, "--session", prefix]).code, 2);
    assert_eq!(r["files_read"], json!(["src/auth/login.py"]));
    assert_eq!(
        r["files_modified"],
        json!(["src/auth/throttle.py", "package.json"])
    );
    assert_eq!(r["dependencies"][0]["manager"], "npm");
    assert_eq!(r["dependencies"][0]["package"], "express-rate-limit");
    assert_eq!(r["manifests_changed"], json!(["package.json"]));
    let todos: Vec<&str> = r["todos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        todos,
        [
            "# TODO: make the limit configurable",
            "{ // FIXME pin versions"
        ]
    );
    let reasons: Vec<String> = r["review"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            format!(
                "{} {}",
                x["path"].as_str().unwrap(),
                x["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "src/auth/throttle.py authentication",
            "src/auth/throttle.py large change (251 lines)"
        ]
    );
    let approaches = r["approaches"].as_array().unwrap();
    assert_eq!(
        approaches.last().unwrap()["outcome"],
        "abandoned after retries"
    );
    assert_eq!(
        (
            r["tool_calls"].as_u64(),
            r["retries"].as_u64(),
            r["errors"].as_u64()
        ),
        (Some(6), Some(1), Some(2))
    );

    let text = env.run(&["standup"]).success().stdout.clone();
    for needle in [
        "Modified 2 files",
        "npm: express-rate-limit",
        "TODO/FIXME written:",
        "To review:",
        "Stats: 6 tool calls, 1 retry, 2 errors",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

/// An approach was shown with its phase's last command: a build that passed on its second try
/// read `build (succeeded after retries): git log --oneline -3`, the command that came after
/// it. It is shown with the command whose outcome is the approach's.
#[test]
fn an_approach_is_shown_with_the_command_that_decided_it() {
    let env = TestEnv::new();
    hook(
        &env,
        "session-start",
        "SessionStart",
        json!({"source": "startup"}),
    );
    hook(
        &env,
        "user-prompt",
        "UserPromptSubmit",
        json!({"prompt": "fix the build"}),
    );
    tool(&env, "Bash", json!({"command": "cargo build"}), false);
    tool(&env, "Bash", json!({"command": "cargo build"}), true);
    tool(
        &env,
        "Bash",
        json!({"command": "git log --oneline -3"}),
        true,
    );
    hook(&env, "session-end", "SessionEnd", json!({"reason": "exit"}));

    let r = env.run(&["standup", "--format", "json"]).success().json();
    let last = r["approaches"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["decided_by"], "cargo build", "{r}");
    assert_eq!(
        last["commands"].as_array().unwrap().last().unwrap(),
        "git log --oneline -3"
    );
    let text = env.run(&["standup"]).success().stdout.clone();
    let line = text
        .lines()
        .find(|l| l.contains("succeeded after retries"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.ends_with(": cargo build"), "{text}");
}

/// standup's "Stats: … 2 errors" counted the API error that ended a turn (StopFailure) with the
/// tools' failed calls: it says how many were the turn's, as replay's header does, and its JSON
/// gives `tool_errors` and `turn_errors` beside `errors`.
#[test]
fn standup_tells_the_turns_errors_from_the_tools() {
    let env = TestEnv::new();
    hook(
        &env,
        "user-prompt",
        "UserPromptSubmit",
        json!({"prompt": "build it"}),
    );
    tool(&env, "Bash", json!({"command": "make"}), false);
    hook(
        &env,
        "StopFailure",
        "StopFailure",
        json!({"error": "overloaded", "error_details": "529 Overloaded"}),
    );
    let text = env.run(&["standup", SID, "--color", "never"]);
    assert!(
        text.success()
            .stdout
            .contains("Stats: 1 tool call, 0 retries, 2 errors (1 of the turn)\n"),
        "{}",
        text.stdout
    );
    let json = env
        .run(&["standup", SID, "--format", "json"])
        .success()
        .json();
    assert_eq!(
        (&json["errors"], &json["tool_errors"], &json["turn_errors"]),
        (&json!(2), &json!(1), &json!(1)),
        "{json}"
    );
}

/// Tests that failed twice and then passed were reported as `run tests (abandoned after
/// retries)` beside `run tests (succeeded after retries)`, while `explain` said the loop
/// worked: the phases split the loop at its first pass. An approach is abandoned only when its
/// goal never passes.
#[test]
fn an_approach_whose_goal_passes_later_was_not_abandoned() {
    let approaches = |outcomes: &[bool]| {
        let env = TestEnv::new();
        hook(
            &env,
            "user-prompt",
            "UserPromptSubmit",
            json!({"prompt": "fix the tests"}),
        );
        for ok in outcomes {
            tool(&env, "Bash", json!({"command": "pytest"}), *ok);
        }
        let r = env.run(&["standup", "--format", "json"]).success().json();
        let text = env
            .run(&["standup", "--color", "never"])
            .success()
            .stdout
            .clone();
        let outcomes: Vec<String> = r["approaches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["outcome"].as_str().unwrap().to_owned())
            .collect();
        (outcomes, text)
    };
    let (worked, text) = approaches(&[false, false, true]);
    assert!(
        worked.iter().all(|o| !o.contains("abandoned")),
        "{worked:?}\n{text}"
    );
    assert!(!text.contains("abandoned"), "{text}");
    assert_eq!(worked.last().unwrap(), "succeeded after retries", "{text}");
    let (gave_up, text) = approaches(&[false, false]);
    assert_eq!(gave_up.last().unwrap(), "abandoned after retries", "{text}");
}
