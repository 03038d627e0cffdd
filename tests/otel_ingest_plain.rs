//! agent-strace's own plain `otlp` export (`agent_strace.*`), sent to its own collector
//! through the binary: the copy is the same agent's session with the same tool calls, model
//! responses and refusals.

use std::path::Path;

use serde_json::Value;

use crate::common::TestEnv;
use crate::otel_ingest::server;
use crate::otel_ingest_genai::{cost, imported_and_sent_as};

/// `stats SESSION --format json` of the store at `storage`.
fn stats(env: &TestEnv, storage: &Path, session: &str) -> Value {
    let run = env.run(&[
        "--trace-dir",
        storage.to_str().unwrap(),
        "stats",
        session,
        "--format",
        "json",
    ]);
    run.success();
    run.json()
}

/// What of a session's `stats` a copy of its export keeps: its calls, errors and refusals in
/// all and by tool (not their times, which a call without a result has none of).
fn calls(stats: &Value) -> Value {
    let by_tool: Vec<Value> = stats["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| serde_json::json!([t["tool"], t["calls"], t["errors"], t["rejections"]]))
        .collect();
    serde_json::json!({
        "tool_calls": stats["tool_calls"], "tool_errors": stats["tool_errors"],
        "rejections": stats["rejections"], "by_tool": by_tool,
    })
}

/// `list --all --format json` of the store at `storage`, by session id.
pub(crate) fn listed(env: &TestEnv, storage: &Path) -> Vec<Value> {
    let run = env.run(&[
        "--trace-dir",
        storage.to_str().unwrap(),
        "list",
        "--all",
        "--format",
        "json",
    ]);
    run.success();
    let mut all = run.json().as_array().unwrap().clone();
    all.sort_by_key(|s| s["session_id"].as_str().unwrap().to_owned());
    all
}

/// A Claude Code session and one with subagents, exported as plain `otlp` to the collector:
/// its copy had no tool call (`stats` counted 0 where the session made 6, and 150), no token
/// (its responses are events of the session's span, which the collector did not read) and
/// was `agent-strace`'s, the sender's service. It is the agent's, with the same calls by tool,
/// the same errors, and the same tokens and cost by model (one-hour cache writes included).
#[test]
fn our_own_plain_export_is_collected_with_its_agent_calls_and_tokens() {
    let env = TestEnv::new();
    let storage = env.path().join("collected");
    let (_server, port) = server(&env, &storage, &[]);
    let url = format!("http://127.0.0.1:{port}");
    let corpus = crate::common::shared().join("corpus/claude-code/marot__spotter");
    for file in [
        "tool_heavy.jsonl",
        "4d5611e5-241a-462a-8d15-5122611a9569.jsonl",
    ] {
        imported_and_sent_as(&env, &corpus.join(file), &url, "otlp");
    }
    let (sources, copies) = (listed(&env, &env.store()), listed(&env, &storage));
    assert_eq!(sources.len(), 4, "two sessions, two subagents: {sources:?}");
    assert_eq!(copies.len(), sources.len(), "{copies:?}");
    let (mut made, mut tokens) = (0, 0);
    for (source, copy) in sources.iter().zip(&copies) {
        let session = source["session_id"].as_str().unwrap();
        assert_eq!(copy["session_id"], session);
        assert_eq!(source["agent_name"], "claude-code", "the premise");
        assert_eq!(copy["agent_name"], source["agent_name"], "{session}");
        let original = stats(&env, &env.store(), session);
        assert_eq!(
            calls(&stats(&env, &storage, session)),
            calls(&original),
            "{session}"
        );
        made += original["tool_calls"].as_u64().unwrap();
        let (was, is) = (
            cost(&env, &env.store(), session),
            cost(&env, &storage, session),
        );
        assert_eq!(is["models"], was["models"], "{session}");
        assert_eq!(is["cost_usd"], was["cost_usd"], "{session}");
        tokens += was["tokens"]["output"].as_u64().unwrap();
    }
    assert!(made > 100, "the premise: tools were called ({made})");
    assert!(tokens > 0, "the premise: the model answered");
}

/// A call the user refused (corpus short.jsonl: Bash and Glob, each refused), exported
/// without `--content`, whose refusal's words are left out: the collector's copy held it as
/// a failed call (an error of no words), so `stats` said 2 tool errors and no refusal. It is
/// a refusal in the copy of either vocabulary's export.
#[test]
fn a_refused_call_exported_without_its_words_is_collected_as_refused() {
    let env = TestEnv::new();
    let transcript = crate::common::shared().join("corpus/claude-code/marot__spotter/short.jsonl");
    for format in ["otlp-genai", "otlp"] {
        let storage = env.path().join(format!("collected-{format}"));
        let (_server, port) = server(&env, &storage, &[]);
        let url = format!("http://127.0.0.1:{port}");
        let session = imported_and_sent_as(&env, &transcript, &url, format);
        let original = stats(&env, &env.store(), &session);
        assert_eq!(original["rejections"], 2, "the premise: {original}");
        assert_eq!(original["tool_errors"], 0, "the premise");
        let copy = stats(&env, &storage, &session);
        assert_eq!(calls(&copy), calls(&original), "{format}: {copy}");
    }
}
