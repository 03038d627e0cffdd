//! The collector's OTLP receiver through the binary, for senders other than Claude Code: their
//! GenAI spans (OpenTelemetry's GenAI semantic conventions) become model responses with usage,
//! each once, and their token counts are read as counts or kept as unknown.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::TestEnv;
use crate::otel_ingest::{Answer, post, server};

const TRACE: &str = "0102030405060708090a0b0c0d0e0f10";

/// One span of `session`, with `attributes` as OTLP/JSON key-values.
fn span(session: &str, span_id: &str, name: &str, attributes: &[(&str, Value)]) -> Value {
    let mut attrs = vec![json!({"key": "session.id", "value": {"stringValue": session}})];
    attrs.extend(
        attributes
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v})),
    );
    json!({
        "traceId": TRACE, "spanId": span_id, "name": name, "kind": 3,
        "startTimeUnixNano": "1796036887938000000", "endTimeUnixNano": "1796036888938000000",
        "attributes": attrs,
    })
}

/// A model call's span (`chat`), with its usage.
fn chat(session: &str, span_id: &str, input: Value, output: Value) -> Value {
    span(
        session,
        span_id,
        "chat gpt-4o",
        &[
            ("gen_ai.operation.name", json!({"stringValue": "chat"})),
            ("gen_ai.request.model", json!({"stringValue": "gpt-4o"})),
            ("gen_ai.usage.input_tokens", input),
            ("gen_ai.usage.output_tokens", output),
        ],
    )
}

fn int(n: i64) -> Value {
    json!({ "intValue": n.to_string() })
}

/// POST /v1/traces of `spans`, under one resource of service `service`, in OTLP/JSON.
fn post_spans(port: u16, service: &str, spans: &[Value]) -> Answer {
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}]}]});
    post_json(port, &body.to_string())
}

fn post_json(port: u16, body: &str) -> Answer {
    post(
        port,
        "/v1/traces",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

#[track_caller]
fn accepted(answer: &Answer) -> Value {
    let text = String::from_utf8_lossy(&answer.body);
    assert_eq!(answer.status, 200, "{text}");
    serde_json::from_slice(&answer.body).unwrap()
}

/// `cost SESSION --format json` of the store at `storage`.
pub(crate) fn cost(env: &TestEnv, storage: &Path, session: &str) -> Value {
    let run = env.run(&[
        "--trace-dir",
        storage.to_str().unwrap(),
        "cost",
        session,
        "--format",
        "json",
    ]);
    run.success();
    run.json()
}

/// The session's events of `event_type`, as stored.
pub(crate) fn events_of(storage: &Path, session: &str, event_type: &str) -> Vec<Value> {
    std::fs::read_to_string(storage.join(session).join("events.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["event_type"] == event_type)
        .collect()
}

/// docs/otel.md, "Exactly once": an exporter sends a batch again when it saw no answer. A
/// GenAI span sent in a second request was written again (a second `llm_response` with the same
/// key), and the session's cost doubled.
#[test]
fn a_genai_span_sent_again_in_another_request_is_stored_and_priced_once() {
    let env = TestEnv::new();
    let storage = env.path().join("collected");
    let (_server, port) = server(&env, &storage, &[]);
    let spans = [chat("retried", "0102030405060708", int(1000), int(50))];
    accepted(&post_spans(port, "my-agent", &spans));
    let once = cost(&env, &storage, "retried");
    assert_eq!(events_of(&storage, "retried", "llm_response").len(), 1);
    accepted(&post_spans(port, "my-agent", &spans));
    assert_eq!(events_of(&storage, "retried", "llm_response").len(), 1);
    let again = cost(&env, &storage, "retried");
    assert_eq!(again["tokens"], once["tokens"]);
    assert_eq!(again["cost_usd"], once["cost_usd"]);
}

/// An agent's span (`invoke_agent`) carries the total usage of the model calls under it, as
/// agent-strace's own `otlp-genai` export writes it; it was stored as one more model response,
/// so a trace exported into the collector cost twice what it did (three times with a
/// subagent's). Only a model call's usage is a response's.
#[test]
fn an_agents_span_with_its_calls_total_usage_is_not_counted_again() {
    let env = TestEnv::new();
    let storage = env.path().join("collected");
    let (_server, port) = server(&env, &storage, &[]);
    let calls = |session: &str| {
        vec![
            chat(session, "00000000000000c1", int(1200), int(80)),
            chat(session, "00000000000000c2", int(3400), int(120)),
        ]
    };
    // The agent's and a subagent's totals: one with the operation named, one known by its name
    // alone; and a tool's span with usage of its own.
    let total = |name: &str, span_id: &str, operation: Option<&str>| {
        let mut attributes = vec![
            ("gen_ai.request.model", json!({"stringValue": "gpt-4o"})),
            ("gen_ai.usage.input_tokens", int(4600)),
            ("gen_ai.usage.output_tokens", int(200)),
        ];
        if let Some(op) = operation {
            attributes.push(("gen_ai.operation.name", json!({"stringValue": op})));
        }
        span("agent-run", span_id, name, &attributes)
    };
    let mut spans = calls("agent-run");
    spans.push(total(
        "invoke_agent my-agent",
        "00000000000000a1",
        Some("invoke_agent"),
    ));
    spans.push(total("invoke_agent helper", "00000000000000a2", None));
    spans.push(total(
        "execute_tool search",
        "00000000000000a3",
        Some("execute_tool"),
    ));
    accepted(&post_spans(port, "my-agent", &spans));
    accepted(&post_spans(port, "my-agent", &calls("calls-only")));

    let run = cost(&env, &storage, "agent-run");
    let calls_only = cost(&env, &storage, "calls-only");
    assert_eq!(run["tokens"], calls_only["tokens"], "{run}");
    assert_eq!(run["cost_usd"], calls_only["cost_usd"]);
    assert_eq!(events_of(&storage, "agent-run", "llm_response").len(), 2);
    // The agent's span is kept, as another sender's span is; the tool's is its call, and its
    // usage no response's either.
    let kept: Vec<Value> = events_of(&storage, "agent-run", "decision")
        .into_iter()
        .filter(|e| e["data"]["kind"] == "otel_span")
        .map(|e| e["data"]["choice"].clone())
        .collect();
    assert_eq!(kept, ["invoke_agent my-agent", "invoke_agent helper"]);
    let called: Vec<Value> = events_of(&storage, "agent-run", "tool_call")
        .into_iter()
        .map(|e| e["data"]["tool_name"].clone())
        .collect();
    assert_eq!(called, ["search"]);
}

/// A Claude Code model request's span, as 2.1.197 sends it, with `input_tokens` as given.
fn claude_request(session: &str, input: Value) -> Value {
    let body = json!({"resourceSpans": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "claude-code"}}]},
    "scopeSpans": [{"scope": {"name": "com.anthropic.claude_code.tracing"}, "spans": [span(
        session,
        "00000000000000d1",
        "claude_code.llm_request",
        &[
            ("model", json!({"stringValue": "claude-sonnet-4-5"})),
            ("request_id", json!({"stringValue": "req_011"})),
            ("input_tokens", input),
            ("output_tokens", int(7)),
        ],
    )]}]}]});
    body
}

/// A token count no response can have was made a believable one: -5 or 1.5 input tokens were
/// stored as 0 and priced with no word, and Claude Code's 9223372036854775807 became
/// 9223372036854775808 on its way through a double. Such a usage is kept as it came and is
/// unknown to `cost`. A GenAI span's count sent as a string ("123") was 0, where Claude Code's
/// was read as the number: both are read alike.
#[test]
fn an_impossible_token_count_is_unknown_usage_and_a_count_in_a_string_is_a_count() {
    let env = TestEnv::new();
    let storage = env.path().join("collected");
    let (_server, port) = server(&env, &storage, &[]);
    let unknown = [
        ("tok-neg", int(-5)),
        ("tok-frac", json!({"doubleValue": 1.5})),
        ("tok-word", json!({"stringValue": "many"})),
    ];
    for (session, input) in &unknown {
        let spans = [chat(session, "00000000000000b1", input.clone(), int(7))];
        accepted(&post_spans(port, "my-agent", &spans));
    }
    let huge = json!({"intValue": i64::MAX.to_string()});
    accepted(&post_json(
        port,
        &claude_request("claude-huge", huge).to_string(),
    ));
    for session in unknown.iter().map(|(s, _)| *s).chain(["claude-huge"]) {
        let responses = events_of(&storage, session, "llm_response");
        assert_eq!(responses.len(), 1, "{session}");
        let report = cost(&env, &storage, session);
        assert_eq!(report["unbelieved_usage"], 1, "{session}: {report}");
    }
    let kept = &events_of(&storage, "claude-huge", "llm_response")[0]["data"]["usage"];
    assert_eq!(
        kept["input_tokens"].as_u64(),
        Some(i64::MAX.unsigned_abs()),
        "{kept}"
    );

    let text = |n: i64| json!({"stringValue": n.to_string()});
    let spans = [chat(
        "counted-text",
        "00000000000000b2",
        text(1234),
        text(56),
    )];
    accepted(&post_spans(port, "my-agent", &spans));
    let spans = [chat("counted-int", "00000000000000b2", int(1234), int(56))];
    accepted(&post_spans(port, "my-agent", &spans));
    let (as_text, as_int) = (
        cost(&env, &storage, "counted-text"),
        cost(&env, &storage, "counted-int"),
    );
    assert_eq!(as_text["tokens"], as_int["tokens"], "{as_text}");
    assert_ne!(as_int["tokens"]["input"], 0);
}

/// The proto3 JSON mapping spells a double that is not finite as a string (`"NaN"`,
/// `"Infinity"`, `"-Infinity"`): one such attribute got the whole request a 400 ("invalid type:
/// string \"NaN\", expected f64"), and every other span in it was lost. The request is taken,
/// and a count so sent is unknown usage.
#[test]
fn a_request_with_a_double_spelled_nan_is_taken_and_that_count_is_unknown() {
    let env = TestEnv::new();
    let storage = env.path().join("collected");
    let (_server, port) = server(&env, &storage, &[]);
    let spelt = [
        ("tok-nan", "NaN"),
        ("tok-inf", "Infinity"),
        ("tok-neg-inf", "-Infinity"),
    ];
    let mut spans: Vec<Value> = spelt
        .iter()
        .map(|(session, double)| {
            chat(
                session,
                "00000000000000e1",
                json!({ "doubleValue": double }),
                int(7),
            )
        })
        .collect();
    spans.push(chat("beside", "00000000000000e2", int(1000), int(50)));
    let answer = accepted(&post_spans(port, "my-agent", &spans));
    assert_eq!(answer, json!({}));
    for (session, _) in spelt {
        assert_eq!(events_of(&storage, session, "llm_response").len(), 1);
        let report = cost(&env, &storage, session);
        assert_eq!(report["unbelieved_usage"], 1, "{session}: {report}");
    }
    let beside = cost(&env, &storage, "beside");
    assert_ne!(beside["tokens"]["input"], 0, "{beside}");
}

/// A GenAI span whose input is smaller than its cached tokens (input 100, cache read 5,000) was
/// stored with an input of 0: the input was taken to include the cache, as conventions 1.42
/// count it, and what was left of it went unpriced. Such an input cannot hold its cache: its
/// sender counts input without it, as Anthropic's API does, and it is all fresh input.
#[test]
fn an_input_smaller_than_its_cache_is_all_fresh_input() {
    let env = TestEnv::new();
    let storage = env.path().join("collected");
    let (_server, port) = server(&env, &storage, &[]);
    let cached = |id: &str, span_id: &str, input: i64, cache_read: i64| {
        span(
            id,
            span_id,
            "chat gpt-4o",
            &[
                ("gen_ai.operation.name", json!({"stringValue": "chat"})),
                ("gen_ai.request.model", json!({"stringValue": "gpt-4o"})),
                ("gen_ai.usage.input_tokens", int(input)),
                ("gen_ai.usage.output_tokens", int(10)),
                ("gen_ai.usage.cache_read.input_tokens", int(cache_read)),
            ],
        )
    };
    accepted(&post_spans(
        port,
        "my-agent",
        &[
            cached("apart", "00000000000000c1", 100, 5_000),
            cached("within", "00000000000000c2", 5_100, 5_000),
        ],
    ));
    for session in ["apart", "within"] {
        let usage = &events_of(&storage, session, "llm_response")[0]["data"]["usage"];
        assert_eq!(
            (
                usage["input_tokens"].as_u64(),
                usage["cache_read_input_tokens"].as_u64()
            ),
            (Some(100), Some(5_000)),
            "{session}: {usage}"
        );
    }
    assert_eq!(
        cost(&env, &storage, "apart")["cost_usd"],
        cost(&env, &storage, "within")["cost_usd"]
    );
}

/// The sessions of `replay --tree` at `storage`: each line's place in the tree (its indent),
/// session and depth, leaving out what the collector cannot know (the agent, the duration).
fn tree(env: &TestEnv, storage: &Path) -> Vec<String> {
    let run = env.run(&["--trace-dir", storage.to_str().unwrap(), "replay", "--tree"]);
    run.success();
    run.stdout
        .lines()
        .filter(|l| l.contains('▶'))
        .map(|l| {
            let mut words = l.split_whitespace();
            let indent = l.len() - l.trim_start().len();
            let session = words.nth(1).unwrap_or_default();
            let depth = l.split_whitespace().find(|w| w.starts_with("depth="));
            format!("{indent} {session} {}", depth.unwrap_or_default())
        })
        .collect()
}

/// The session `import` makes of the transcript at `path`, exported as `otlp-genai` to the
/// collector at `url`.
fn imported_and_sent(env: &TestEnv, path: &Path, url: &str) -> String {
    imported_and_sent_as(env, path, url, "otlp-genai")
}

/// The session `import` makes of the transcript at `path`, exported as `format` (`otlp`,
/// `otlp-genai`) to the collector at `url`.
pub(crate) fn imported_and_sent_as(env: &TestEnv, path: &Path, url: &str, format: &str) -> String {
    let session = env
        .run(&["import", "--format", "json", path.to_str().unwrap()])
        .success()
        .session_ids()[0]
        .clone();
    env.run(&["export", &session, "--format", format, "--endpoint", url])
        .success();
    session
}

/// agent-strace's own `otlp-genai` export, sent to its own collector, is collected whole. The
/// collector's copy priced every cache write as a five-minute one (corpus subagent.jsonl, its
/// writes all one-hour: $0.4227 where the session cost $0.5196), held each subagent as a
/// session of no parent (corpus 4d5611e5), and linked no span's event to its parent's.
#[test]
fn our_own_genai_export_is_collected_at_the_same_cost_with_its_subagents_linked() {
    let env = TestEnv::new();
    let storage = env.path().join("collected");
    let (_server, port) = server(&env, &storage, &[]);
    let url = format!("http://127.0.0.1:{port}");
    let corpus = crate::common::shared().join("corpus/claude-code/marot__spotter");
    for file in [
        "subagent.jsonl",
        "4d5611e5-241a-462a-8d15-5122611a9569.jsonl",
    ] {
        let session = imported_and_sent(&env, &corpus.join(file), &url);
        let source = cost(&env, &env.store(), &session);
        let collected = cost(&env, &storage, &session);
        assert_eq!(collected["tokens"], source["tokens"], "{file}");
        assert_eq!(collected["cost_usd"], source["cost_usd"], "{file}");
    }
    assert_eq!(
        cost(&env, &env.store(), "491e126e-1e71-469c-ade2-fcc8af567c74")["tokens"]["cache_creation_1h"],
        25842,
        "the premise: writes for an hour"
    );
    assert_eq!(tree(&env, &storage), tree(&env, &env.store()));
    let sub = "agent-a2898e3-4d5611e5-241a-462a-8d15-5122611a9569";
    let parent = "4d5611e5-241a-462a-8d15-5122611a9569";
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(storage.join(sub).join("meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["parent_session_id"], parent);
    assert_eq!(meta["depth"], 1);
    // Under the call that spawned it, as in the store it was exported from (the call's span
    // is a tool call there, since the collector keeps `execute_tool` spans as calls).
    let spawned: Vec<Value> = events_of(&storage, parent, "tool_call")
        .into_iter()
        .filter(|e| e["event_id"] == meta["parent_event_id"])
        .collect();
    assert_eq!(
        spawned.len(),
        1,
        "the subagent is under an event of its parent"
    );
    let source_meta: Value = serde_json::from_str(
        &std::fs::read_to_string(env.store().join(sub).join("meta.json")).unwrap(),
    )
    .unwrap();
    let spawner: Vec<Value> = events_of(&env.store(), parent, "tool_call")
        .into_iter()
        .filter(|e| e["event_id"] == source_meta["parent_event_id"])
        .collect();
    assert_eq!(
        spawned[0]["data"]["tool_use_id"],
        spawner[0]["data"]["tool_use_id"]
    );
    // Each span's event is under its parent span's: all but the sessions' own (its agent's
    // span, and its end).
    for session in [parent, sub] {
        let events: Vec<Value> =
            std::fs::read_to_string(storage.join(session).join("events.ndjson"))
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
        let ids: std::collections::HashSet<&Value> =
            events.iter().map(|e| &e["event_id"]).collect();
        for e in &events {
            let own = e["event_type"] == "session_end"
                || e["data"]["choice"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("invoke_agent "));
            assert_eq!(ids.contains(&e["parent_id"]), !own, "{e}");
        }
    }
}

/// `stats SESSION --format json` of the store at `storage`: its tool calls by tool.
pub(crate) fn calls_by_tool(env: &TestEnv, storage: &Path, session: &str) -> Vec<(String, Value)> {
    let run = env.run(&[
        "--trace-dir",
        storage.to_str().unwrap(),
        "stats",
        session,
        "--format",
        "json",
    ]);
    run.success();
    run.json()["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["tool"].as_str().unwrap().to_owned(), t["calls"].clone()))
        .collect()
}

/// agent-strace's own `otlp-genai` export of a Claude Code session (and its subagents), sent to
/// its own collector, is the same agent's session, ended when it ended, with the same tool
/// calls. The copy was `agent-strace`'s (the export's service name), still running, and its
/// `execute_tool` spans were kept as records, so `stats` counted no tool call.
#[test]
fn our_own_genai_export_is_collected_as_the_agents_ended_session_with_its_tool_calls() {
    let env = TestEnv::new();
    let storage = env.path().join("collected");
    let (_server, port) = server(&env, &storage, &[]);
    let url = format!("http://127.0.0.1:{port}");
    let corpus = crate::common::shared().join("corpus/claude-code/marot__spotter");
    for file in [
        "tool_heavy.jsonl",
        "4d5611e5-241a-462a-8d15-5122611a9569.jsonl",
    ] {
        imported_and_sent(&env, &corpus.join(file), &url);
    }
    let (sources, copies) = (
        crate::otel_ingest_plain::listed(&env, &env.store()),
        crate::otel_ingest_plain::listed(&env, &storage),
    );
    assert_eq!(
        sources.len(),
        4,
        "two sessions and two subagents: {sources:?}"
    );
    assert_eq!(copies.len(), sources.len(), "{copies:?}");
    let mut calls = 0;
    for (source, copy) in sources.iter().zip(&copies) {
        let session = source["session_id"].as_str().unwrap();
        assert_eq!(copy["session_id"], session);
        assert_eq!(source["agent_name"], "claude-code", "the premise");
        assert_eq!(copy["agent_name"], source["agent_name"], "{session}");
        assert!(
            source["ended_at"].is_number(),
            "the premise: {session} ended"
        );
        assert_eq!(copy["ended_at"], source["ended_at"], "{session}");
        let tools = calls_by_tool(&env, &env.store(), session);
        assert_eq!(calls_by_tool(&env, &storage, session), tools, "{session}");
        calls += tools.len();
    }
    assert!(calls > 5, "the premise: tools were called");
}

/// A span timed `u64::MAX` nanoseconds (the year 2554), a time no session's date can hold,
/// opened its session then: `list` showed its start as `?` with a warning that the session
/// may be damaged or forged. It is recorded at its receipt, as a hook call's such time is.
#[test]
fn a_span_at_a_time_no_date_can_hold_is_recorded_at_its_receipt() {
    let env = TestEnv::new();
    let storage = env.path().join("collected");
    let (_server, port) = server(&env, &storage, &[]);
    let mut far = chat("far-off", "00000000000000f1", int(100), int(5));
    far["startTimeUnixNano"] = json!("18446744073709551615");
    far["endTimeUnixNano"] = json!("18446744073709551615");
    accepted(&post_spans(port, "my-agent", &[far]));
    let now = crate::common::unix_now();
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(storage.join("far-off").join("meta.json")).unwrap(),
    )
    .unwrap();
    let started = meta["started_at"].as_f64().unwrap();
    assert!(
        (now - started).abs() < 600.0,
        "started {started}, now {now}"
    );
    for e in events_of(&storage, "far-off", "llm_response") {
        let at = e["timestamp"].as_f64().unwrap();
        assert!((now - at).abs() < 600.0, "at {at}, now {now}");
    }
    let listed = env.run(&["--trace-dir", storage.to_str().unwrap(), "list"]);
    listed.success();
    assert!(
        !listed.stderr.contains("no session can"),
        "{}",
        listed.stderr
    );
}

/// A span attribute whose value nests past serde_json's 128 levels (an array of arrays 100
/// deep, 300 levels of JSON) made the whole request "malformed" (400) and its spans were lost,
/// spelled doubles or not; it is taken, and its usage stored as a shallow one's is.
#[test]
fn a_span_with_an_attribute_nested_hundreds_deep_is_taken() {
    let env = TestEnv::new();
    let storage = env.path().join("collected");
    let (_server, port) = server(&env, &storage, &[]);
    let deep = (0..100).fold(
        json!({"stringValue": "bottom"}),
        |inner, _| json!({"arrayValue": {"values": [inner]}}),
    );
    let with_deep = |mut span: Value| {
        span["attributes"]
            .as_array_mut()
            .unwrap()
            .push(json!({"key": "tool.arguments", "value": deep.clone()}));
        span
    };
    let shallow = chat("shallow", "00000000000000d1", int(1000), int(50));
    accepted(&post_spans(port, "my-agent", &[shallow]));
    let deep_span = with_deep(chat("deep", "00000000000000d2", int(1000), int(50)));
    assert_eq!(
        accepted(&post_spans(port, "my-agent", &[deep_span])),
        json!({})
    );
    assert_eq!(events_of(&storage, "deep", "llm_response").len(), 1);
    let (shallow, deep) = (
        cost(&env, &storage, "shallow"),
        cost(&env, &storage, "deep"),
    );
    assert_eq!(deep["tokens"], shallow["tokens"]);
    assert_eq!(deep["cost_usd"], shallow["cost_usd"]);
    // A double spelled as a string is read on a second reading, which reads as deep.
    let spelt = with_deep(chat(
        "deep-nan",
        "00000000000000d3",
        json!({"doubleValue": "NaN"}),
        int(7),
    ));
    accepted(&post_spans(port, "my-agent", &[spelt]));
    let report = cost(&env, &storage, "deep-nan");
    assert_eq!(report["unbelieved_usage"], 1, "{report}");
}
