//! `explain`: phases, retries and wasted time, deterministic, in text and JSON.

use serde_json::{Value, json};

use crate::common::TestEnv;

const ID: &str = "abc12300-0000-4000-8000-000000000000";
const T0: f64 = 1_780_000_000.0;

/// The story of the reference example: read, two failing test runs (the second a retry), then
/// a passing run with another command.
pub(crate) fn reference_session(env: &TestEnv) {
    let mut lines = Vec::new();
    let mut n = 0;
    let mut push = |kind: &str, at: f64, parent: Option<String>, data: Value| -> String {
        n += 1;
        let id = format!("e{n:02}");
        let mut e = json!({"event_type": kind, "timestamp": T0 + at, "event_id": id, "session_id": ID, "data": data});
        if let Some(p) = parent {
            e["parent_id"] = p.into();
        }
        lines.push(e.to_string());
        id
    };
    push("session_start", 0.0, None, json!({"cwd": "/p"}));
    push(
        "user_prompt",
        0.0,
        None,
        json!({"prompt": "fix the auth module"}),
    );
    for (at, path) in [(1.0, "/p/AGENTS.md"), (2.0, "/p/src/auth.py")] {
        let c = push(
            "tool_call",
            at,
            None,
            json!({"tool_name": "Read", "arguments": {"file_path": path}}),
        );
        push(
            "tool_result",
            at + 0.1,
            Some(c.clone()),
            json!({"tool_name": "Read", "result": "..."}),
        );
        push("file_read", at + 0.1, Some(c), json!({"path": path}));
    }
    for (at, took, cmd, ok) in [
        (5.0, 20.0, "python -m pytest", false),
        (30.0, 20.0, "python -m pytest", false),
        (80.0, 40.0, "uv run pytest", true),
    ] {
        let c = push(
            "tool_call",
            at,
            None,
            json!({"tool_name": "Bash", "arguments": {"command": cmd}}),
        );
        if ok {
            push(
                "tool_result",
                at + took,
                Some(c),
                json!({"tool_name": "Bash", "result": "3 passed"}),
            );
        } else {
            push(
                "error",
                at + took,
                Some(c),
                json!({"tool_name": "Bash", "error": "exit 1"}),
            );
        }
    }
    push("assistant_response", 125.0, None, json!({"text": "Fixed."}));
    push("session_end", 125.0, None, json!({}));
    let dir = env.store().join(ID);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("meta.json"),
        json!({"session_id": ID, "started_at": T0, "ended_at": T0 + 125.0}).to_string(),
    )
    .unwrap();
    std::fs::write(dir.join("events.ndjson"), lines.join("\n") + "\n").unwrap();
}

#[test]
fn explain_reads_like_the_story() {
    let env = TestEnv::new();
    reference_session(&env);
    let run = env.run(&["explain", "abc"]);
    run.success();
    let expected = "\
Session: abc12300-0000-4000-8000-000000000000 (2m 05s, 16 events)
Phase 1: fix the auth module (0:00–0:05, 8 events)
  Read: AGENTS.md, src/auth.py
Phase 2: run tests — FAILED (0:05–1:20, 4 events)
  Ran: python -m pytest ✗
  Ran: python -m pytest ✗ ← retry
Phase 3: run tests (1:20–2:05, 4 events)
  Ran: uv run pytest
Files touched: 2 read, 0 written
Retries: 1 (wasted 1m 15s, 60% of session)
";
    assert_eq!(run.stdout, expected);
}

#[test]
fn explain_json_has_the_same_figures() {
    let env = TestEnv::new();
    reference_session(&env);
    let json = env.run(&["explain", "--format", "json"]).success().json();
    assert_eq!(json["session_id"], ID);
    assert_eq!(json["retries"], 1);
    assert_eq!(json["wasted_s"], 75.0);
    let phases = json["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 3);
    assert_eq!(phases[1]["failed"], true);
    assert_eq!(phases[1]["ran"][1]["retry"], true);
    // Deterministic: the same input gives the same bytes.
    assert_eq!(
        env.run(&["explain", "--format", "json"]).stdout,
        env.run(&["explain", "--format", "json"]).stdout
    );
}
