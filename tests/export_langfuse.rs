//! `export --backend langfuse` (issue 14) against a local stand-in for Langfuse: it checks
//! basic auth, decodes the OTLP body as an `ExportTraceServiceRequest`, checks the JSON bodies
//! against Langfuse's published API definition, and answers as Langfuse does (a 207 with one
//! item failed, a 404 where the ingestion endpoint is gone).
//!
//! The shapes checked are those of langfuse/langfuse `web/public/generated/api/openapi.yml`
//! (generated from `fern/apis/server/definition`) at commit
//! 62751446149b702b419a9292ddfc2280cdf74b8c: `IngestionEvent` (its `score-create` member:
//! `BaseEvent` + `ScoreEvent`), `ScoreBody`, `CreateScoreRequest`, `CreateScoreValue`,
//! `ScoreDataType` and `IngestionResponse`. Only the fields and types are restated here, as
//! data for the checker; nothing of Langfuse's code is.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agent_strace::model::Tokens;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use prost::Message;
use serde_json::{Value, json};

use crate::common::{SessionBuilder, TestEnv};

/// One request the stand-in received, its body unzipped.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP server on loopback answering each request with `answer`; it stops when dropped (or
/// after a minute), and keeps what it received.
pub struct Stub {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl Stub {
    pub fn start(answer: impl Fn(&Received) -> (u16, String) + Send + 'static) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopped) = (received.clone(), stop.clone());
        std::thread::spawn(move || {
            let start = Instant::now();
            while !stopped.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(60) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                let Some(request) = read_request(&stream) else {
                    continue;
                };
                let (status, body) = answer(&request);
                seen.lock().unwrap().push(request);
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Stub {
            port,
            received,
            stop,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn read_request(stream: &std::net::TcpStream) -> Option<Received> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut first = String::new();
    reader.read_line(&mut first).ok()?;
    let mut parts = first.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        let (k, v) = line.trim_end().split_once(':')?;
        if k.eq_ignore_ascii_case("content-length") {
            length = v.trim().parse().ok()?;
        }
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let gzip = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("content-encoding") && v.contains("gzip"));
    if gzip {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut plain)
            .ok()?;
        body = plain;
    }
    Some(Received {
        method,
        path,
        headers,
        body,
    })
}

const PUBLIC: &str = "pk-lf-test";
const SECRET: &str = "sk-lf-test";
/// `Basic base64("pk-lf-test:sk-lf-test")`, worked out apart from the code under test.
const AUTH: &str = "Basic cGstbGYtdGVzdDpzay1sZi10ZXN0";

/// A JSON type as the API definition names it.
#[derive(Clone, Copy)]
enum Ty {
    String,
    /// `CreateScoreValue`: a number or a string.
    ScoreValue,
    /// `ScoreDataType`.
    DataType,
    Object,
    Any,
}

/// `ScoreBody` (ingestion) and `CreateScoreRequest` (scores API): name, type, required.
const SCORE_FIELDS: &[(&str, Ty, bool)] = &[
    ("id", Ty::String, false),
    ("traceId", Ty::String, false),
    ("sessionId", Ty::String, false),
    ("observationId", Ty::String, false),
    ("datasetRunId", Ty::String, false),
    ("name", Ty::String, true),
    ("environment", Ty::String, false),
    ("queueId", Ty::String, false),
    ("value", Ty::ScoreValue, true),
    ("comment", Ty::String, false),
    ("metadata", Ty::Any, false),
    ("dataType", Ty::DataType, false),
    ("configId", Ty::String, false),
];
/// `BaseEvent` and the `score-create` member of `IngestionEvent`.
const EVENT_FIELDS: &[(&str, Ty, bool)] = &[
    ("id", Ty::String, true),
    ("timestamp", Ty::String, true),
    ("metadata", Ty::Any, false),
    ("type", Ty::String, true),
    ("body", Ty::Object, true),
];

/// What is wrong with `value` as an object of `fields` (nullable optional fields may be null);
/// a field the definition does not name is wrong too, to catch a misspelt key.
fn check(value: &Value, fields: &[(&str, Ty, bool)], what: &str) -> Vec<String> {
    let Some(map) = value.as_object() else {
        return vec![format!("{what} is not an object")];
    };
    let mut wrong = Vec::new();
    for (name, ty, required) in fields {
        match map.get(*name) {
            None if *required => wrong.push(format!("{what}.{name} is required")),
            None => {}
            Some(Value::Null) if !required => {}
            Some(v) => {
                let fits = match ty {
                    Ty::String => v.is_string(),
                    Ty::ScoreValue => v.is_number() || v.is_string(),
                    Ty::DataType => ["NUMERIC", "BOOLEAN", "CATEGORICAL", "CORRECTION", "TEXT"]
                        .iter()
                        .any(|t| v == t),
                    Ty::Object => v.is_object(),
                    Ty::Any => true,
                };
                if !fits {
                    wrong.push(format!("{what}.{name} has the wrong type: {v}"));
                }
            }
        }
    }
    for key in map.keys() {
        if !fields.iter().any(|(n, _, _)| n == key) {
            wrong.push(format!("{what}.{key} is not in the definition"));
        }
    }
    wrong
}

fn check_ingestion(body: &Value) -> Vec<String> {
    let Some(batch) = body.get("batch").and_then(Value::as_array) else {
        return vec!["the body has no `batch` array".to_owned()];
    };
    let mut wrong = Vec::new();
    for (i, event) in batch.iter().enumerate() {
        wrong.extend(check(event, EVENT_FIELDS, &format!("batch[{i}]")));
        if event["type"] != "score-create" {
            wrong.push(format!("batch[{i}].type is {}", event["type"]));
        }
        let stamp = event["timestamp"].as_str().unwrap_or_default();
        if chrono::DateTime::parse_from_rfc3339(stamp).is_err() {
            wrong.push(format!("batch[{i}].timestamp `{stamp}` is not ISO 8601"));
        }
        wrong.extend(check(
            &event["body"],
            SCORE_FIELDS,
            &format!("batch[{i}].body"),
        ));
    }
    wrong
}

/// Answers as Langfuse does: 401 without the project's keys; the OTLP endpoint takes a
/// protobuf trace; ingestion answers 207 with the score named `failing` refused; with
/// `ingestion_gone` it answers 404 and the scores API takes each score.
fn langfuse(failing: Option<String>, ingestion_gone: bool) -> Stub {
    Stub::start(move |r| {
        if r.header("authorization") != Some(AUTH) {
            return (401, json!({"message": "Invalid credentials"}).to_string());
        }
        match (r.method.as_str(), r.path.as_str()) {
            ("POST", "/api/public/otel/v1/traces") => {
                if r.header("content-type") != Some("application/x-protobuf")
                    || ExportTraceServiceRequest::decode(&r.body[..]).is_err()
                {
                    return (
                        400,
                        json!({"error": "Failed to parse OTel Protobuf Trace"}).to_string(),
                    );
                }
                (200, "{}".to_owned())
            }
            ("POST", "/api/public/ingestion") if ingestion_gone => {
                (404, json!({"message": "Not found"}).to_string())
            }
            ("POST", "/api/public/ingestion") => {
                let Ok(body) = serde_json::from_slice::<Value>(&r.body) else {
                    return (400, "{}".to_owned());
                };
                let wrong = check_ingestion(&body);
                if !wrong.is_empty() {
                    return (400, json!({"message": wrong.join("; ")}).to_string());
                }
                let (mut successes, mut errors) = (Vec::new(), Vec::new());
                for event in body["batch"].as_array().unwrap() {
                    let id = event["id"].as_str().unwrap().to_owned();
                    if failing.as_deref() == event["body"]["name"].as_str() {
                        errors.push(json!({"id": id, "status": 400, "message": "Invalid request data", "error": "Score value out of range for config"}));
                    } else {
                        successes.push(json!({"id": id, "status": 201}));
                    }
                }
                (
                    207,
                    json!({"successes": successes, "errors": errors}).to_string(),
                )
            }
            ("POST", "/api/public/scores") => {
                let Ok(body) = serde_json::from_slice::<Value>(&r.body) else {
                    return (400, "{}".to_owned());
                };
                let mut fields = SCORE_FIELDS.to_vec();
                fields.push(("source", Ty::String, false));
                let wrong = check(&body, &fields, "body");
                if !wrong.is_empty() {
                    return (400, json!({"message": wrong.join("; ")}).to_string());
                }
                (200, json!({"id": body["id"]}).to_string())
            }
            _ => (404, "{}".to_owned()),
        }
    })
}

/// A session with a failed and a good tool call and two model responses.
fn session(env: &TestEnv, id: &str) -> String {
    SessionBuilder::new(id)
        .meta(|m| m.agent_name = "claude-code".into())
        .session_start(json!({"cwd": "/work/app", "source": "startup"}))
        .at(1.0)
        .prompt("fix the build")
        .at(2.0)
        .llm_response(
            "claude-sonnet-4-5",
            Tokens {
                input: 12,
                output: 40,
                cache_read: 2000,
                cache_creation: 300,
                ..Tokens::default()
            },
        )
        .at(3.0)
        .tool_call("Bash", json!({"command": "cargo build"}))
        .at(5.0)
        .error("exit 101")
        .at(6.0)
        .tool_call("Read", json!({"file_path": "/work/app/src/lib.rs"}))
        .at(7.0)
        .result(json!("pub fn x() {}"))
        .at(8.0)
        .llm_response(
            "claude-sonnet-4-5",
            Tokens {
                input: 3,
                output: 90,
                cache_read: 2400,
                ..Tokens::default()
            },
        )
        .at(9.0)
        .session_end(json!({}))
        .write(env)
}

fn export(env: &TestEnv, stub: &Stub, extra: &[&str]) -> crate::common::Run {
    let mut args = vec!["export", "--backend", "langfuse", "--langfuse-host"];
    let url = stub.url();
    args.push(&url);
    args.extend_from_slice(extra);
    let mut cmd = env.command(&args);
    cmd.env("LANGFUSE_PUBLIC_KEY", PUBLIC)
        .env("LANGFUSE_SECRET_KEY", SECRET)
        .env_remove("LANGFUSE_HOST");
    crate::common::Run::of(cmd.output().unwrap())
}

fn string_attr<'a>(
    attributes: &'a [opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
) -> Option<&'a str> {
    attributes.iter().find(|a| a.key == key).and_then(|a| {
        match a.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        }
    })
}

#[test]
fn traces_and_scores_reach_langfuse_and_a_refused_score_is_reported() {
    let env = TestEnv::new();
    let id = session(&env, "lf-1");
    let stub = langfuse(Some("eval.no_errors".to_owned()), false);
    let run = export(&env, &stub, &[&id, "--scores"]);
    // One score refused: exit code 4 (writing failed), with the item and Langfuse's reason.
    assert_eq!(run.code, 4, "{run:?}");
    let refused_id = format!("agent-strace-{id}-no_errors@");
    assert!(
        run.stderr.contains(&refused_id)
            && run.stderr.contains("HTTP 400")
            && run.stderr.contains("Invalid request data"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("1 of 2 scores"), "{}", run.stderr);

    let requests = stub.requests();
    let traces: Vec<&Received> = requests
        .iter()
        .filter(|r| r.path == "/api/public/otel/v1/traces")
        .collect();
    assert_eq!(traces.len(), 1);
    let trace = ExportTraceServiceRequest::decode(&traces[0].body[..]).unwrap();
    let spans: Vec<_> = trace
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .collect();
    let of_type = |t: &str| {
        spans
            .iter()
            .filter(|s| string_attr(&s.attributes, "langfuse.observation.type") == Some(t))
            .collect::<Vec<_>>()
    };
    assert_eq!(of_type("agent").len(), 1);
    assert_eq!(of_type("tool").len(), 2);
    let generations = of_type("generation");
    assert_eq!(generations.len(), 2);
    let root = of_type("agent")[0];
    assert!(root.parent_span_id.is_empty());
    assert_eq!(
        string_attr(&root.attributes, "session.id"),
        Some(id.as_str())
    );
    assert!(string_attr(&root.attributes, "langfuse.trace.name").is_some());
    let first = generations
        .iter()
        .min_by_key(|g| g.start_time_unix_nano)
        .unwrap();
    assert_eq!(
        string_attr(&first.attributes, "langfuse.observation.model.name"),
        Some("claude-sonnet-4-5")
    );
    let usage: Value = serde_json::from_str(
        string_attr(&first.attributes, "langfuse.observation.usage_details").unwrap(),
    )
    .unwrap();
    assert_eq!(
        usage,
        json!({"input": 12, "output": 40, "cache_read_input_tokens": 2000, "cache_creation_input_tokens": 300})
    );
    let cost: Value = serde_json::from_str(
        string_attr(&first.attributes, "langfuse.observation.cost_details").unwrap(),
    )
    .unwrap();
    assert!(cost["total"].as_f64().unwrap() > 0.0, "{cost}");
    // The failed call is an error span, which Langfuse shows at level ERROR.
    assert!(
        of_type("tool")
            .iter()
            .any(|s| s.status.as_ref().is_some_and(|st| st.code == 2))
    );

    let ingestion: Vec<&Received> = requests
        .iter()
        .filter(|r| r.path == "/api/public/ingestion")
        .collect();
    assert_eq!(ingestion.len(), 1);
    let batch: Value = serde_json::from_slice(&ingestion[0].body).unwrap();
    assert!(
        check_ingestion(&batch).is_empty(),
        "{:?}",
        check_ingestion(&batch)
    );
    let bodies: Vec<&Value> = batch["batch"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["body"])
        .collect();
    let names: Vec<&str> = bodies.iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["eval.no_errors", "eval.overall"]);
    // The scores are on the trace that was sent: its id in hex.
    let trace_id = spans[0].trace_id.iter().fold(String::new(), |mut out, b| {
        use std::fmt::Write as _;
        let _ = write!(out, "{b:02x}");
        out
    });
    assert!(bodies.iter().all(|b| b["traceId"] == trace_id.as_str()));
    // The failed Bash call: no_errors scores 0.
    assert_eq!(bodies[0]["value"], 0.0);
}

#[test]
fn where_ingestion_is_gone_each_score_goes_to_the_scores_api() {
    let env = TestEnv::new();
    let id = session(&env, "lf-2");
    let stub = langfuse(None, true);
    let run = export(&env, &stub, &[&id, "--scores"]);
    run.success();
    let requests = stub.requests();
    let scores: Vec<Value> = requests
        .iter()
        .filter(|r| r.path == "/api/public/scores")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(scores.len(), 2, "{requests:?}");
    assert!(scores.iter().all(|s| s["dataType"] == "NUMERIC"));
    assert!(run.stderr.contains("2 of 2 scores"), "{}", run.stderr);
}

#[test]
fn keys_are_needed_and_wrong_ones_are_refused() {
    let env = TestEnv::new();
    let id = session(&env, "lf-3");
    let stub = langfuse(None, false);
    // No keys: a usage error that names them, and nothing is sent.
    let url = stub.url();
    let mut cmd = env.command(&[
        "export",
        &id,
        "--backend",
        "langfuse",
        "--langfuse-host",
        &url,
    ]);
    cmd.env_remove("LANGFUSE_PUBLIC_KEY")
        .env_remove("LANGFUSE_SECRET_KEY");
    let run = crate::common::Run::of(cmd.output().unwrap());
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("LANGFUSE_PUBLIC_KEY"), "{}", run.stderr);
    assert!(stub.requests().is_empty());
    // Wrong keys: Langfuse's 401 is one error, exit code 4.
    let mut cmd = env.command(&[
        "export",
        &id,
        "--backend",
        "langfuse",
        "--langfuse-host",
        &url,
    ]);
    cmd.env("LANGFUSE_PUBLIC_KEY", PUBLIC)
        .env("LANGFUSE_SECRET_KEY", "wrong");
    let run = crate::common::Run::of(cmd.output().unwrap());
    assert_eq!(run.code, 4, "{run:?}");
    assert!(run.stderr.contains("HTTP 401"), "{}", run.stderr);
}

#[test]
fn since_sends_every_top_level_session_of_the_window() {
    let env = TestEnv::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    for (id, age_days) in [("lf-new", 1.0), ("lf-newer", 2.0), ("lf-old", 30.0)] {
        SessionBuilder::new(id)
            .started(now - age_days * 86_400.0)
            .meta(|m| m.agent_name = "claude-code".into())
            .tool_call("Bash", json!({"command": "ls"}))
            .at(1.0)
            .result(json!("ok"))
            .write(&env);
    }
    let stub = langfuse(None, false);
    export(&env, &stub, &["--since", "7d"]).success();
    assert_eq!(sent_sessions(&stub), ["lf-new", "lf-newer"]);
}

/// The sessions `stub` was sent a trace of, each by its root span's `session.id`, in order.
fn sent_sessions(stub: &Stub) -> Vec<String> {
    let mut sessions: Vec<String> = stub
        .requests()
        .iter()
        .filter(|r| r.path == "/api/public/otel/v1/traces")
        .map(|r| {
            let trace = ExportTraceServiceRequest::decode(&r.body[..]).unwrap();
            let spans: Vec<_> = trace
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .flat_map(|s| &s.spans)
                .collect();
            let root = spans.iter().find(|s| s.parent_span_id.is_empty()).unwrap();
            string_attr(&root.attributes, "session.id")
                .unwrap()
                .to_owned()
        })
        .collect();
    sessions.sort();
    sessions
}

/// A session dated next year (a clock that was ahead, a log imported from a machine ahead) was
/// sent by `export --backend langfuse --since 7d`, "the last 7 days". A period with no end
/// ends now: it is left out, with the one warning `list` gives.
#[test]
fn since_leaves_out_a_session_dated_after_now() {
    use crate::common::{LEFT_OUT_AS_AHEAD, a_session_now_and_one_next_year};

    let env = TestEnv::new();
    let (now, _) = a_session_now_and_one_next_year(&env);
    let stub = langfuse(None, false);
    let run = export(&env, &stub, &["--since", "7d"]);
    run.success();
    assert_eq!(sent_sessions(&stub), [now]);
    assert!(run.stderr.contains(LEFT_OUT_AS_AHEAD), "{}", run.stderr);
}

#[test]
fn since_sends_a_subagent_whose_parent_is_gone_and_the_sessions_of_a_loop() {
    let env = TestEnv::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    // A session with its subagent, a subagent whose parent is not in the store, and two
    // sessions each the other's parent: `list` shows four sessions.
    for (id, parent) in [
        ("lf-top", None),
        ("lf-sub", Some("lf-top")),
        ("lf-orphan", Some("lf-gone")),
        ("lf-loop-a", Some("lf-loop-b")),
        ("lf-loop-b", Some("lf-loop-a")),
    ] {
        SessionBuilder::new(id)
            .started(now - 86_400.0)
            .meta(|m| {
                m.agent_name = "claude-code".into();
                m.parent_session_id = parent.map(str::to_owned);
            })
            .tool_call("Bash", json!({"command": "ls"}))
            .at(1.0)
            .result(json!("ok"))
            .write(&env);
    }
    let stub = langfuse(None, false);
    export(&env, &stub, &["--since", "7d"]).success();
    let mut sessions: Vec<String> = stub
        .requests()
        .iter()
        .filter(|r| r.path == "/api/public/otel/v1/traces")
        .map(|r| {
            let trace = ExportTraceServiceRequest::decode(&r.body[..]).unwrap();
            let spans: Vec<_> = trace
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .flat_map(|s| &s.spans)
                .collect();
            let root = spans.iter().find(|s| s.parent_span_id.is_empty()).unwrap();
            string_attr(&root.attributes, "session.id")
                .unwrap()
                .to_owned()
        })
        .collect();
    sessions.sort();
    // Only lf-top was sent: the others have a parent, if none in the store to go with.
    assert_eq!(sessions, ["lf-loop-a", "lf-loop-b", "lf-orphan", "lf-top"]);
}

/// `--since` sent the subagent below one that cannot be read (its events a FIFO) on its own,
/// as well as in its root's trace: it goes with its root only.
#[test]
fn since_sends_a_subagent_below_one_that_cannot_be_read_with_its_root_only() {
    let env = TestEnv::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    for (id, parent) in [
        ("lf-root", None),
        ("lf-mid", Some("lf-root")),
        ("lf-leaf", Some("lf-mid")),
    ] {
        SessionBuilder::new(id)
            .started(now - 86_400.0)
            .meta(|m| {
                m.agent_name = "claude-code".into();
                m.parent_session_id = parent.map(str::to_owned);
            })
            .tool_call("Bash", json!({"command": "ls"}))
            .at(1.0)
            .result(json!("ok"))
            .write(&env);
    }
    let events = env.store().join("lf-mid").join("events.ndjson");
    std::fs::remove_file(&events).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&events)
        .status()
        .unwrap();
    assert!(made.success());
    let stub = langfuse(None, false);
    export(&env, &stub, &["--since", "7d"]).success();
    let sessions: Vec<String> = stub
        .requests()
        .iter()
        .filter(|r| r.path == "/api/public/otel/v1/traces")
        .flat_map(|r| {
            let trace = ExportTraceServiceRequest::decode(&r.body[..]).unwrap();
            trace
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .flat_map(|s| &s.spans)
                .filter(|s| s.parent_span_id.is_empty())
                .filter_map(|s| string_attr(&s.attributes, "session.id").map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(sessions, ["lf-root"]);
}

/// Langfuse's OTel endpoint answering 200 with OTLP's partial success took part of the trace:
/// it read "Sent 1 trace", exit 0, as if it had taken it all.
#[test]
fn spans_langfuse_rejects_in_its_success_answer_are_an_error_naming_them() {
    let env = TestEnv::new();
    let id = session(&env, "lf-partial");
    let stub = Stub::start(|r| match r.path.as_str() {
        "/api/public/otel/v1/traces" => (
            200,
            json!({"partialSuccess": {"rejectedSpans": "1", "errorMessage": "span too old"}})
                .to_string(),
        ),
        _ => (404, "{}".to_owned()),
    });
    let run = export(&env, &stub, &[&id]);
    assert_eq!(run.code, 4, "{run:?}");
    assert!(
        run.stderr.contains("rejected 1 of ")
            && run
                .stderr
                .contains(&format!("spans of session {id}: span too old"))
            && !run.stderr.contains("Sent "),
        "{}",
        run.stderr
    );
}

/// Langfuse reads `session.id` on any span as its trace's session: every span names the
/// session exported, its subagent's spans too (had they named the subagent, as the trace's
/// own spans do, the trace would have moved to the subagent's Langfuse session).
#[test]
fn every_span_names_the_langfuse_session_of_the_session_exported() {
    let env = TestEnv::new();
    let (parent, child) = crate::export::a_parent_and_subagent(&env);
    let stub = langfuse(None, false);
    export(&env, &stub, &[&parent]).success();
    let requests = stub.requests();
    let trace = requests
        .iter()
        .find(|r| r.path == "/api/public/otel/v1/traces")
        .unwrap();
    let trace = ExportTraceServiceRequest::decode(&trace.body[..]).unwrap();
    let spans: Vec<_> = trace
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .collect();
    assert!(
        spans
            .iter()
            .any(|s| string_attr(&s.attributes, "gen_ai.conversation.id") == Some(&child)),
        "the subagent is in the trace"
    );
    for span in spans {
        assert_eq!(
            string_attr(&span.attributes, "session.id"),
            Some(parent.as_str()),
            "{}",
            span.name
        );
    }
}
