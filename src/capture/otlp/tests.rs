//! The real requests Claude Code 2.1.197 sent (tests/fixtures/otel, record.sh) read and joined
//! into the session its hooks recorded.

use std::path::{Path, PathBuf};

use super::counts::Usage;
use super::telemetry::Record;
use super::{Body, Kind, join, receive};
use crate::capture::sink::{Privacy, Sink};
use crate::model::view::View;
use crate::model::{Agent, Event, EventType, Tokens};
use crate::store::Store;

fn fixtures(run: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/otel")
        .join(run)
}

/// The run's OTLP requests in the order they were sent: (kind, body, content type, encoding).
fn requests(run: &str) -> Vec<(Kind, Vec<u8>, String, Option<String>)> {
    let dir = fixtures(run);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| Path::new(n).extension().is_some_and(|e| e == "bin") && !n.contains("metrics"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let headers: serde_json::Value = serde_json::from_slice(
                &std::fs::read(dir.join(n.replace(".bin", ".headers.json"))).unwrap(),
            )
            .unwrap();
            let h = |k: &str| headers.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            let kind = if n.contains("traces") {
                Kind::Traces
            } else {
                Kind::Logs
            };
            (
                kind,
                std::fs::read(dir.join(&n)).unwrap(),
                h("Content-Type").unwrap(),
                h("Content-Encoding"),
            )
        })
        .collect()
}

/// A store holding the run's hook session, as the hooks wrote it.
fn hook_store(run: &str) -> (tempfile::TempDir, Store, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join(".agent-traces"));
    let lines = std::fs::read_to_string(fixtures(run).join("hooks.ndjson")).unwrap();
    let events: Vec<Event> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let id = events[0].session_id.clone();
    let mut meta = crate::model::SessionMeta::new(&id, events[0].timestamp);
    meta.agent_name = "claude-code".into();
    store.create_session(&meta).unwrap();
    store.init_counters(&id).unwrap();
    for e in &events {
        store.append(e).unwrap();
    }
    (dir, store, id)
}

fn post_all(store: &Store, run: &str) -> join::Ingested {
    let sink = Sink::new(Privacy::default());
    let mut total = join::Ingested::default();
    for (kind, bytes, ct, ce) in requests(run) {
        let body = Body {
            bytes: &bytes,
            content_type: Some(&ct),
            content_encoding: ce.as_deref(),
        };
        let got = receive(store, &sink, kind, &body).unwrap().ingested;
        total.written += got.written;
        total.duplicates += got.duplicates;
        total.ignored += got.ignored;
        total.rejected.count += got.rejected.count;
    }
    total
}

fn events(store: &Store, id: &str) -> Vec<Event> {
    store.events(id).unwrap().collect()
}

#[test]
fn claude_code_spans_are_read_as_model_requests_and_tool_timings() {
    let (kind, bytes, ct, _) = requests("protobuf")
        .into_iter()
        .find(|r| r.0 == Kind::Traces)
        .unwrap();
    assert_eq!(kind, Kind::Traces);
    let body = Body {
        bytes: &bytes,
        content_type: Some(&ct),
        content_encoding: None,
    };
    let records = super::telemetry::spans(&body.traces().unwrap().0);
    let llm: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Llm(c) => Some(c),
            _ => None,
        })
        .collect();
    // The fake model's two answers: 1000+k input, 50+k output, 200 cache writes, 3000 reads.
    assert_eq!(llm.len(), 2);
    assert_eq!(
        llm[0].usage,
        Usage::Counted(Tokens {
            input: 1000,
            output: 50,
            cache_creation: 200,
            cache_read: 3000,
            ..Tokens::default()
        })
    );
    assert_eq!(llm[0].model.as_deref(), Some("claude-sonnet-4-5"));
    assert!(llm[0].ttft_ms.is_some_and(|t| t > 0.0));
    assert_eq!(llm[0].stop_reason.as_deref(), Some("tool_use"));
    let tools: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Tool(t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0].tool_use_id, "toolu_fake_0");
    assert_eq!(tools[0].tool_name.as_deref(), Some("Bash"));
    assert!(tools[0].execution_ms.unwrap() <= tools[0].duration_ms.unwrap());
}

#[test]
fn every_encoding_joins_into_the_hook_session_exactly_once() {
    for run in ["protobuf", "json", "gzip"] {
        let (_dir, store, id) = hook_store(run);
        let hooks = events(&store, &id).len();
        let first = post_all(&store, run);
        assert_eq!(first.rejected.count, 0, "{run}");
        let all = events(&store, &id);
        // Every event written is counted: a request's span writes its llm_request and its
        // llm_response, and was counted once.
        assert_eq!(first.written, (all.len() - hooks) as u64, "{run}");
        let responses: Vec<_> = all
            .iter()
            .filter(|e| e.event_type == EventType::LlmResponse)
            .collect();
        // Two requests, told by a span and by a log event each: counted once each.
        assert_eq!(responses.len(), 2, "{run}");
        let mut tokens = Tokens::default();
        for r in &responses {
            let View::LlmResponse(v) = View::of(r, Agent::ClaudeCode) else {
                panic!()
            };
            tokens.add(&v.usage.unwrap());
            assert_eq!(v.model, Some("claude-sonnet-4-5"));
        }
        assert_eq!(
            (
                tokens.input,
                tokens.output,
                tokens.cache_creation,
                tokens.cache_read
            ),
            (2001, 101, 400, 6000),
            "{run}"
        );
        // Each response hangs off the prompt, joined by prompt id.
        let prompt = all
            .iter()
            .find(|e| e.event_type == EventType::UserPrompt)
            .unwrap();
        assert!(
            responses
                .iter()
                .all(|r| r.parent_id.as_ref() == Some(&prompt.event_id))
        );
        // The span's timing: one llm_request per request, with time to first token.
        let requests: Vec<_> = all
            .iter()
            .filter(|e| e.event_type == EventType::LlmRequest)
            .collect();
        assert_eq!(requests.len(), 2, "{run}");
        assert!(
            requests
                .iter()
                .all(|r| r.data["ttft_ms"].as_f64().unwrap() > 0.0)
        );
        // The tool's timing hangs off the hook's call of the same tool_use_id.
        let call = all
            .iter()
            .find(|e| e.event_type == EventType::ToolCall)
            .unwrap();
        let timing: Vec<_> = all
            .iter()
            .filter(|e| e.data.get("kind").and_then(|k| k.as_str()) == Some(join::KIND_TOOL_TIMING))
            .collect();
        assert_eq!(timing.len(), 1, "{run}");
        assert_eq!(timing[0].parent_id.as_ref(), Some(&call.event_id));
        assert!(timing[0].duration_ms.unwrap() > 0.0);
        // Sent again (an exporter's retry): nothing new.
        let again = post_all(&store, run);
        assert_eq!(again.written, 0, "{run}");
        assert_eq!(events(&store, &id).len(), all.len());
        // The session's counters see the exact tokens.
        let meta = store.summary(&id).unwrap().meta;
        assert_eq!(meta.total_tokens, 2001 + 101 + 400 + 6000, "{run}");
    }
}

#[test]
fn telemetry_before_the_hooks_opens_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join(".agent-traces"));
    post_all(&store, "protobuf");
    let ids = store.session_ids().unwrap();
    assert_eq!(ids.len(), 1);
    let meta = store.summary(&ids[0]).unwrap().meta;
    assert_eq!(meta.agent_name, "claude-code");
    assert_eq!(meta.total_tokens, 8502);
}

#[test]
fn other_senders_spans_go_to_a_session_per_trace_and_orphan_logs_are_refused() {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join(".agent-traces"));
    let sink = Sink::new(Privacy::default());
    let spans = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"my-agent"}}]},
      "scopeSpans":[{"spans":[
        {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"1112131415161718","name":"chat gpt-5","startTimeUnixNano":"1000000000","endTimeUnixNano":"3000000000",
         "attributes":[{"key":"gen_ai.usage.input_tokens","value":{"intValue":"120"}},{"key":"gen_ai.usage.cache_read.input_tokens","value":{"intValue":"20"}},
                       {"key":"gen_ai.usage.output_tokens","value":{"intValue":"7"}},{"key":"gen_ai.response.model","value":{"stringValue":"gpt-5"}}]},
        {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"2122232425262728","parentSpanId":"1112131415161718","name":"execute_tool ls","startTimeUnixNano":"1500000000","endTimeUnixNano":"1600000000",
         "status":{"code":2,"message":"boom"}}]}]}]}"#;
    let body = Body {
        bytes: spans,
        content_type: Some("application/json"),
        content_encoding: None,
    };
    let got = receive(&store, &sink, Kind::Traces, &body).unwrap();
    let id = "otel-0102030405060708090a0b0c0d0e0f10";
    let all = events(&store, id);
    // The tool's span is its call and, as it ended in an error, its failure: two events
    // written of one span (counted as one).
    assert_eq!(all.len(), 3);
    assert_eq!(got.ingested.written, 3);
    let View::LlmResponse(r) = View::of(&all[0], Agent::Unknown) else {
        panic!("{:?}", all[0])
    };
    assert_eq!(r.usage.unwrap().input, 100);
    assert_eq!(r.usage.unwrap().cache_read, 20);
    let View::ToolCall(call) = View::of(&all[1], Agent::Unknown) else {
        panic!("{:?}", all[1])
    };
    assert_eq!(call.tool, "ls");
    let View::ToolResult(failed) = View::of(&all[2], Agent::Unknown) else {
        panic!("{:?}", all[2])
    };
    assert_eq!(failed.error.as_deref(), Some("boom"));
    assert_eq!(all[2].parent_id.as_deref(), Some(all[1].event_id.as_str()));
    assert_eq!(store.summary(id).unwrap().meta.agent_name, "my-agent");
    // A log record with no session and no trace has nowhere to go.
    let logs = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","body":{"stringValue":"hi"}}]}]}]}"#;
    let body = Body {
        bytes: logs,
        content_type: Some("application/json"),
        content_encoding: None,
    };
    let got = receive(&store, &sink, Kind::Logs, &body).unwrap();
    assert_eq!(got.ingested.rejected.count, 1);
    let answer: serde_json::Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(answer["partialSuccess"]["rejectedLogRecords"], 1);
    // A session id that would escape the store is refused, not written.
    let evil = ExportLogsServiceRequest::default();
    assert!(super::telemetry::logs(&evil).is_empty());
    let bad = br#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"claude-code"}}]},"scopeLogs":[{"logRecords":[{"timeUnixNano":"1",
      "attributes":[{"key":"session.id","value":{"stringValue":"../../etc"}},{"key":"event.name","value":{"stringValue":"api_request"}},{"key":"input_tokens","value":{"intValue":"5"}}]}]}]}]}"#;
    let body = Body {
        bytes: bad,
        content_type: Some("application/json"),
        content_encoding: None,
    };
    let got = receive(&store, &sink, Kind::Logs, &body).unwrap();
    assert_eq!((got.ingested.written, got.ingested.rejected.count), (0, 1));
}
