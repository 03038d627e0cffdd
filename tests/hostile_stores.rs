//! Reading commands on stores built to hurt them: chains of subagents thousands deep, parents
//! that loop or are gone, figures no session can have. Each command still answers, with true
//! figures or ones marked unknown.

use serde_json::json;

use crate::common::{Run, SessionBuilder, TestEnv};

/// Runs the binary as [`TestEnv::run`] does, with a stack of 1 MiB instead of the usual 8
/// (`ulimit -s`): a walk that recurses once per subagent overflows it a thousand deep, so a
/// chain of a few thousand shows such a walk without a store of ten thousand sessions.
fn run_on_a_small_stack(env: &TestEnv, args: &[&str]) -> Run {
    let model = env.command(args);
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(r#"ulimit -s 1024 && exec "$0" "$@""#)
        .arg(model.get_program())
        .args(model.get_args())
        .current_dir(env.path())
        .stdin(std::process::Stdio::null());
    for (key, value) in model.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    Run::of(cmd.output().expect("run binary"))
}

/// A chain of `n` sessions, each the subagent of the one before (`c00000` at the top).
fn chain(env: &TestEnv, n: usize) {
    for i in 0..n {
        let mut session = SessionBuilder::new(&format!("c{i:05}"))
            .started(crate::common::session::T0 + i as f64)
            .ended(1.0);
        if i > 0 {
            session = session.meta(|m| {
                m.parent_session_id = Some(format!("c{:05}", i - 1));
                m.parent_event_id = Some("e01".into());
                m.depth = i as u64;
            });
        }
        session
            .tool_call("Task", json!({"prompt": "go deeper"}))
            .write(env);
    }
}

#[test]
fn replay_tree_of_a_chain_three_thousand_subagents_deep() {
    let env = TestEnv::new();
    chain(&env, 3_000);
    // It overflowed the stack and aborted (SIGABRT) part way down.
    let run = run_on_a_small_stack(&env, &["replay", "--tree", "c00000", "--color", "never"]);
    run.success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3_000, "{}", run.stderr);
    assert!(lines[0].starts_with("▶ c00000 "), "{}", lines[0]);
    assert!(lines[1].starts_with("  ▶ c00001 "), "{}", lines[1]);
    assert!(lines[2_999].contains("c02999 agent=") && lines[2_999].contains("depth=2999"));
    // The indent stops growing: the deepest line is as wide as one a few levels down.
    assert!(lines.iter().all(|l| l.len() < 200), "{}", lines[2_999]);
}
