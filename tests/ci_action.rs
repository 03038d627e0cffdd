//! The GitHub Action's gate (`action/gate.sh`, run by `action.yml`): eval ci, lint --strict and
//! audit over the recorded sessions, a markdown job summary, and the step's exit code.

use std::process::Command;

use serde_json::{Value, json};

use crate::common::{Run, SessionBuilder, TestEnv, bin};

fn hook(env: &TestEnv, session: &str, event: &str, extra: Value) {
    let mut payload = json!({"session_id": session, "hook_event_name": event, "cwd": env.path()});
    payload
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    env.hook("x", &payload).success();
}

/// A session that writes one file and answers.
fn clean(env: &TestEnv, id: &str) {
    hook(env, id, "UserPromptSubmit", json!({"prompt": "add a file"}));
    let write = json!({"tool_name": "Write", "tool_input": {"file_path": env.path().join("a.txt"), "content": "x"}, "tool_use_id": "w1"});
    hook(env, id, "PreToolUse", write.clone());
    let mut done = write;
    done["tool_response"] = json!("ok");
    hook(env, id, "PostToolUse", done);
    hook(env, id, "Stop", json!({"last_assistant_message": "done"}));
}

/// A session that reads a .env whose path holds markup, and fails a command.
fn troubled(env: &TestEnv, id: &str) {
    hook(env, id, "UserPromptSubmit", json!({"prompt": "deploy"}));
    let read = json!({"tool_name": "Read", "tool_input": {"file_path": "/w/<script>alert(1)</script>/.env"}, "tool_use_id": "r1"});
    hook(env, id, "PreToolUse", read.clone());
    let mut done = read;
    done["tool_response"] = json!("SECRET=1");
    hook(env, id, "PostToolUse", done);
    let bash =
        json!({"tool_name": "Bash", "tool_input": {"command": "make deploy"}, "tool_use_id": "b1"});
    hook(env, id, "PreToolUse", bash.clone());
    let mut failed = bash;
    failed["error"] = json!("make: *** no rule");
    hook(env, id, "PostToolUseFailure", failed);
    hook(env, id, "Stop", json!({"last_assistant_message": "failed"}));
}

/// Runs the gate with a summary file of its own, as each step of a job has.
fn gate(env: &TestEnv, vars: &[(&str, &str)]) -> (Run, String) {
    let summary = env.path().join("summary.md");
    let _ = std::fs::remove_file(&summary);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("action/gate.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(script)
        .current_dir(env.path())
        .env("AGENT_STRACE", bin())
        .env("GATE_TRACE_DIR", env.store())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .envs(vars.iter().copied());
    let run = Run::of(cmd.output().expect("bash runs"));
    let text = std::fs::read_to_string(&summary).unwrap_or_default();
    (run, text)
}

#[test]
fn clean_sessions_pass_every_gate_and_the_summary_says_so() {
    let env = TestEnv::new();
    clean(&env, "gate-ok");
    let (run, summary) = gate(&env, &[]);
    assert_eq!(run.code, 0, "{run:?}\n{summary}");
    for row in [
        "| <code>lint --strict</code> | ✅ passed |",
        "| <code>audit gate-ok</code> | ✅ passed |",
        "| <code>eval ci gate-ok</code> | ✅ passed |",
    ] {
        assert!(summary.contains(row), "{row} missing from:\n{summary}");
    }
}

#[test]
fn a_failing_session_fails_the_step_and_its_text_cannot_add_markup() {
    let env = TestEnv::new();
    clean(&env, "gate-ok");
    troubled(&env, "gate-bad");
    let (run, summary) = gate(&env, &[]);
    assert_eq!(run.code, 1, "{run:?}\n{summary}");
    assert!(
        summary.contains("| <code>audit gate-bad</code> | ❌ failed |"),
        "{summary}"
    );
    assert!(
        summary.contains("| <code>eval ci gate-bad</code> | ❌ failed |"),
        "{summary}"
    );
    assert!(
        summary.contains("| <code>audit gate-ok</code> | ✅ passed |"),
        "{summary}"
    );
    assert!(
        !summary.contains("<script>"),
        "session text reached the summary as markup"
    );
    assert!(
        summary.contains("&lt;script&gt;alert(1)&lt;/script&gt;/.env"),
        "{summary}"
    );

    std::fs::remove_file(env.path().join("summary.md")).unwrap();
    let (only_lint, summary) = gate(&env, &[("GATE_CHECKS", "lint")]);
    assert!(!summary.contains("audit"), "{summary}");
    assert_ne!(only_lint.code, 2, "{only_lint:?}");
}

#[test]
fn a_gate_that_cannot_run_is_told_apart_from_a_failure() {
    let env = TestEnv::new();
    clean(&env, "gate-ok");
    std::fs::write(env.path().join("bad-policy.json"), "{ not json").unwrap();
    let (run, summary) = gate(
        &env,
        &[("GATE_POLICY", "bad-policy.json"), ("GATE_CHECKS", "audit")],
    );
    assert_eq!(run.code, 2, "{run:?}\n{summary}");
    assert!(summary.contains("could not run (exit 3)"), "{summary}");

    let empty = TestEnv::new();
    std::fs::create_dir_all(empty.store()).unwrap();
    let (run, summary) = gate(&empty, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(summary.contains("No recorded sessions"), "{summary}");
}

#[test]
fn the_action_runs_the_gate_with_its_inputs() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml"),
    )
    .unwrap();
    let action: Value = serde_saphyr::from_str(&text).expect("action.yml is YAML");
    assert_eq!(action["runs"]["using"], "composite");
    let steps = action["runs"]["steps"].as_array().unwrap();
    assert!(steps.iter().any(|s| {
        s["run"]
            .as_str()
            .is_some_and(|r| r.contains("action/gate.sh"))
    }));
    for input in ["checks", "trace-dir", "policy", "evals", "since", "install"] {
        assert!(action["inputs"].get(input).is_some(), "input {input}");
        let env_name = format!("GATE_{}", input.replace('-', "_").to_uppercase());
        if input != "install" {
            assert!(
                text.contains(&env_name),
                "{env_name} is not passed to the gate"
            );
        }
    }
}

/// A listing that fails is a gate that could not run (exit 2, and why in the summary), never
/// "no recorded sessions": a `since` it cannot read, a store that is not there, a binary that
/// is not there all passed the step.
#[test]
fn a_gate_that_cannot_list_the_sessions_could_not_run() {
    let env = TestEnv::new();
    clean(&env, "gate-ok");
    let (run, summary) = gate(&env, &[("GATE_SINCE", "garbage")]);
    assert_eq!(run.code, 2, "{run:?}\n{summary}");
    assert!(
        summary.contains("could not be listed (exit 2)") && summary.contains("garbage"),
        "{summary}"
    );
    assert!(
        run.stderr.contains("could not be listed (exit 2)") && run.stderr.contains("garbage"),
        "{run:?}"
    );

    let missing = env.path().join("no-store");
    let (run, summary) = gate(&env, &[("GATE_TRACE_DIR", missing.to_str().unwrap())]);
    assert_eq!(run.code, 2, "{run:?}\n{summary}");
    assert!(summary.contains("no trace store"), "{summary}");

    let (run, summary) = gate(&env, &[("AGENT_STRACE", "/no/such/agent-strace")]);
    assert_eq!(run.code, 2, "{run:?}\n{summary}");
    assert!(
        summary.contains("could not be listed (exit 127)"),
        "{summary}"
    );
}

/// Every session is checked, whatever its id holds, subagents' included with `since` as
/// without: ids were split at spaces (a session `a b` was checked as `a` and `b`, which
/// passed), a subagent was left out when `since` was set, and an id could add markup and cells
/// to the summary.
#[test]
fn every_session_is_gated_whatever_its_id_and_subagents_too() {
    let env = TestEnv::new();
    clean(&env, "a");
    clean(&env, "b");
    troubled(&env, "a b");
    SessionBuilder::new("child")
        .started(chrono_now())
        .meta(|m| m.parent_session_id = Some("a".to_owned()))
        .tool_call("Write", json!({"file_path": "/etc/evil"}))
        .error("denied")
        .write(&env);
    troubled(&env, "<h1>x|y<h1>");
    for vars in [&[][..], &[("GATE_SINCE", "1h")][..]] {
        let (run, summary) = gate(&env, vars);
        assert_eq!(run.code, 1, "{vars:?} {run:?}\n{summary}");
        for row in [
            "| <code>audit a b</code> | ❌ failed |",
            "| <code>eval ci a b</code> | ❌ failed |",
            "| <code>eval ci child</code> | ❌ failed |",
            "| <code>audit &lt;h1&gt;x&#124;y&lt;h1&gt;</code> | ❌ failed |",
        ] {
            assert!(
                summary.contains(row),
                "{vars:?}: {row} missing from:\n{summary}"
            );
        }
        assert!(!summary.contains("<h1>"), "{summary}");
    }
}

/// Now, in Unix seconds.
fn chrono_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// A `checks` list is read name by name, spaces around a name and its case ignored, and a name
/// it does not know (or no name at all) fails the step with exit 2 and says which name and
/// what the known ones are: `Audit`, `audits`, `eval;lint` and an empty list ran no gate and
/// passed, and `lint, audit` ran lint only.
#[test]
fn a_checks_list_with_a_name_it_does_not_know_fails_the_step() {
    let env = TestEnv::new();
    troubled(&env, "gate-bad");
    for checks in ["Audit", " lint, AUDIT ", "lint,\naudit"] {
        let (run, summary) = gate(&env, &[("GATE_CHECKS", checks)]);
        assert_eq!(run.code, 1, "{checks:?} {run:?}\n{summary}");
        assert!(
            summary.contains("| <code>audit gate-bad</code> | ❌ failed |"),
            "{checks:?}: {summary}"
        );
    }
    let (run, summary) = gate(&env, &[("GATE_CHECKS", "lint, audit")]);
    assert!(
        summary.contains("<code>lint --strict</code>") && summary.contains("<code>audit gate-bad"),
        "{run:?}\n{summary}"
    );
    for (checks, unknown) in [
        ("audits", "audits"),
        ("Eval,Lint,Audits", "audits"),
        ("eval;lint", "eval;lint"),
        ("lint,<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
    ] {
        let (run, summary) = gate(&env, &[("GATE_CHECKS", checks)]);
        assert_eq!(run.code, 2, "{checks:?} {run:?}\n{summary}");
        // The job's log says why the step failed, not only the summary.
        assert!(
            run.stderr.contains("unknown check") && run.stderr.contains("eval, lint, audit"),
            "{checks:?}: {run:?}"
        );
        assert!(
            summary.contains(&format!("<code>{unknown}</code>"))
                && summary.contains("eval, lint, audit")
                && !summary.contains("| <code>"),
            "{checks:?}: {summary}"
        );
    }
    for checks in ["", " , "] {
        let (run, summary) = gate(&env, &[("GATE_CHECKS", checks)]);
        assert_eq!(run.code, 2, "{checks:?} {run:?}\n{summary}");
        assert!(run.stderr.contains("names no check"), "{checks:?}: {run:?}");
        assert!(
            summary.contains("no check named") && summary.contains("eval, lint, audit"),
            "{checks:?}: {summary}"
        );
    }
    let empty = TestEnv::new();
    std::fs::create_dir_all(empty.store()).unwrap();
    let (run, summary) = gate(&empty, &[("GATE_CHECKS", "audits")]);
    assert_eq!(
        run.code, 2,
        "a typo passed an empty store: {run:?}\n{summary}"
    );
}
