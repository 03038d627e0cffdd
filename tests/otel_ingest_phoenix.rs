//! `server --forward-otlp` into a real OTLP backend, Arize Phoenix: Claude Code's own spans as
//! it sent them (tests/fixtures/otel) and the hook session they joined, as a GenAI trace, both
//! end up in Phoenix, read back through its REST API. Skipped, saying so, only when
//! AGENT_STRACE_PHOENIX is unset.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::TestEnv;
use crate::export_phoenix::Phoenix;
use crate::otel_ingest::{replay_run, server};

fn attribute<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"].get(key)
}

#[test]
fn forwarded_telemetry_and_sessions_reach_phoenix() {
    let Some(program) = std::env::var_os("AGENT_STRACE_PHOENIX") else {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: AGENT_STRACE_PHOENIX is unset (tests/run.sh installs Arize Phoenix)"
        );
        return;
    };
    let phoenix = Phoenix::start(Path::new(&program));
    let env = TestEnv::new();
    let storage = env.path().join("collected");
    let url = phoenix.url();
    let (collector, port) = server(&env, &storage, &["--forward-otlp", &url]);
    let id = replay_run(port, "protobuf");
    // A stop sends what is left.
    let mut child = collector;
    Command::new("kill")
        .arg("-TERM")
        .arg(child.0.id().to_string())
        .status()
        .unwrap();
    let _ = child.0.wait();

    // Claude Code's six spans, and the session's root and tool call.
    let spans = phoenix.spans("default", 8);
    let names: Vec<&str> = spans.iter().filter_map(|s| s["name"].as_str()).collect();
    let llm: Vec<&Value> = spans
        .iter()
        .filter(|s| s["name"] == "claude_code.llm_request")
        .collect();
    assert_eq!(llm.len(), 2, "{names:?}");
    let mut input = 0;
    for s in &llm {
        input += attribute(s, "input_tokens")
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            .unwrap_or_else(|| panic!("{s}"));
    }
    assert_eq!(input, 2001);
    // The hook session as a trace: its tool call carries the same tool_use_id as Claude
    // Code's own tool span.
    let call_id = |s: &Value| attribute(s, "gen_ai.tool.call.id").cloned();
    let claude_tool = spans
        .iter()
        .find(|s| s["name"] == "claude_code.tool")
        .unwrap_or_else(|| panic!("{names:?}"));
    let ours = spans
        .iter()
        .find(|s| {
            s["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("execute_tool"))
        })
        .unwrap_or_else(|| panic!("no session trace: {names:?}\n{}", phoenix.log()));
    assert_eq!(
        call_id(claude_tool),
        Some(Value::from("toolu_fake_0")),
        "{claude_tool}"
    );
    assert_eq!(call_id(ours), call_id(claude_tool), "{ours}");
    assert!(
        spans.iter().any(|s| s["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("invoke_agent"))),
        "{names:?}"
    );
    assert!(!id.is_empty());
}
