//! The collector's OTLP receiver through the binary: what the real Claude Code 2.1.197 sent
//! (tests/fixtures/otel, SOURCE.md) posted to `server` as Claude Code posts it (chunked, in
//! protobuf, JSON or gzip) joins into the session its hooks recorded, so that `cost` and
//! `stats` show the exact tokens without a transcript; bad bodies are refused as OTLP/HTTP
//! says (issue 14).

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;

use crate::common::TestEnv;
use crate::common::net::{Background, serve_quietly};

fn fixtures(run: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/otel")
        .join(run)
}

pub(crate) fn server(env: &TestEnv, storage: &Path, extra: &[&str]) -> (Background, u16) {
    let mut args = vec![
        "server",
        "--port",
        "0",
        "--storage",
        storage.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let mut command = env.command(&args);
    command.stdout(Stdio::null());
    serve_quietly(command)
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) head: String,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    fn content_type(&self) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type").then(|| v.trim())
        })
    }
}

/// A POST as the OpenTelemetry JS exporter sends it: `Transfer-Encoding: chunked`, no length.
pub(crate) fn post(port: u16, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n"
    );
    for (k, v) in headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    for chunk in body.chunks(1000) {
        stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .unwrap();
        stream.write_all(chunk).unwrap();
        stream.write_all(b"\r\n").unwrap();
    }
    stream.write_all(b"0\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Answer { status, head, body }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).unwrap().trim(), 16)
            .unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[line_end + 2..line_end + 2 + size]);
        raw = &raw[line_end + 4 + size..];
    }
}

/// One recorded request: its path, headers and body.
pub(crate) type Recorded = (String, Vec<(String, String)>, Vec<u8>);

/// The run's OTLP requests in the order Claude Code sent them.
pub(crate) fn recorded(run: &str) -> Vec<Recorded> {
    let dir = fixtures(run);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| Path::new(n).extension().is_some_and(|e| e == "bin"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let headers: Value = serde_json::from_slice(
                &std::fs::read(dir.join(n.replace(".bin", ".headers.json"))).unwrap(),
            )
            .unwrap();
            let keep = ["Content-Type", "Content-Encoding", "User-Agent"];
            let headers = keep
                .iter()
                .filter_map(|k| Some(((*k).to_owned(), headers.get(*k)?.as_str()?.to_owned())))
                .collect();
            let path = format!(
                "/v1/{}",
                n.rsplit('_').next().unwrap().trim_end_matches(".bin")
            );
            (path, headers, std::fs::read(dir.join(&n)).unwrap())
        })
        .collect()
}

/// Posts the hook events of a run (as the hooks' own collector route takes them) and then
/// every OTLP request Claude Code sent; the session id.
pub(crate) fn replay_run(port: u16, run: &str) -> String {
    let hooks = std::fs::read(fixtures(run).join("hooks.ndjson")).unwrap();
    let first: Value =
        serde_json::from_slice(hooks.split(|b| *b == b'\n').next().unwrap()).unwrap();
    let answer = post(
        port,
        "/events",
        &[("Content-Type", "application/x-ndjson")],
        &hooks,
    );
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    for (path, headers, body) in recorded(run) {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let answer = post(port, &path, &headers, &body);
        assert_eq!(
            answer.status,
            200,
            "{run} {path}: {}",
            String::from_utf8_lossy(&answer.body)
        );
        // The answer is in the request's encoding.
        let sent = headers
            .iter()
            .find(|(k, _)| *k == "Content-Type")
            .unwrap()
            .1;
        assert_eq!(answer.content_type(), Some(sent), "{run} {path}");
    }
    first["session_id"].as_str().unwrap().to_owned()
}

fn run_json(env: &TestEnv, storage: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--trace-dir", storage.to_str().unwrap(), "--format", "json"]);
    let run = env.run(&all);
    run.success();
    run.json()
}

#[test]
fn claude_codes_own_telemetry_joins_its_hook_session_and_prices_it_exactly() {
    for run in ["protobuf", "json", "gzip"] {
        let env = TestEnv::new();
        let storage = env.path().join("collected");
        let (_server, port) = server(&env, &storage, &[]);
        let id = replay_run(port, run);
        // One session: the hooks' one, not a second one made of telemetry.
        let sessions = std::fs::read_dir(&storage)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().is_dir())
            .count();
        assert_eq!(sessions, 1, "{run}");
        let cost = run_json(&env, &storage, &["cost", &id]);
        assert_eq!(cost["estimated"], false, "{run}: {cost}");
        // The fake model's usage, exactly (fixtures/otel/SOURCE.md): inputs 1000 and 1001,
        // outputs 50 and 51, 200 cache writes and 3000 cache reads each.
        let t = &cost["tokens"];
        assert_eq!(
            (
                &t["input"],
                &t["output"],
                &t["cache_creation"],
                &t["cache_read"]
            ),
            (
                &Value::from(2001),
                &Value::from(101),
                &Value::from(400),
                &Value::from(6000)
            ),
            "{run}: {cost}"
        );
        assert_eq!(cost["model"], "claude-sonnet-4-5", "{run}");
        // Claude Code's own price of the same requests (its api_request events) agrees.
        let events = env_events(&storage, &id);
        let reported: f64 = events
            .iter()
            .filter_map(|e| e["data"]["reported_cost_usd"].as_f64())
            .sum();
        if reported > 0.0 {
            assert!(
                (cost["cost_usd"].as_f64().unwrap() - reported).abs() < 1e-9,
                "{run}: {cost} vs {reported}"
            );
        }
        // Time to first token of each request, and the tool's timing on the hook's call.
        let requests: Vec<_> = events
            .iter()
            .filter(|e| e["event_type"] == "llm_request")
            .collect();
        assert_eq!(requests.len(), 2, "{run}");
        assert!(
            requests
                .iter()
                .all(|r| r["data"]["ttft_ms"].as_f64().unwrap() > 0.0)
        );
        let call = events
            .iter()
            .find(|e| e["event_type"] == "tool_call")
            .unwrap();
        let timing = events
            .iter()
            .find(|e| e["data"]["kind"] == "tool_timing")
            .unwrap_or_else(|| panic!("{run}: no tool timing"));
        assert_eq!(timing["parent_id"], call["event_id"]);
        assert_eq!(timing["data"]["tool_use_id"], call["data"]["tool_use_id"]);
        let stats = run_json(&env, &storage, &["stats", &id]);
        assert_eq!(
            stats["tokens"].as_u64(),
            Some(2001 + 101 + 400 + 6000),
            "{run}: {stats}"
        );

        // The same requests again (an exporter's retry) and the transcript imported on top:
        // still counted once.
        replay_otlp_only(port, run);
        let import = env.run(&[
            "import",
            fixtures(run).join("transcript.jsonl").to_str().unwrap(),
            "--trace-dir",
            storage.to_str().unwrap(),
        ]);
        assert!(import.code == 0 || import.code == 1, "{}", import.stderr);
        let again = run_json(&env, &storage, &["cost", &id]);
        assert_eq!(again["tokens"], cost["tokens"], "{run}");
        assert_eq!(again["cost_usd"], cost["cost_usd"], "{run}");
    }
}

fn replay_otlp_only(port: u16, run: &str) {
    for (path, headers, body) in recorded(run) {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(post(port, &path, &headers, &body).status, 200);
    }
}

fn env_events(storage: &Path, id: &str) -> Vec<Value> {
    std::fs::read_to_string(storage.join(id).join("events.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn bad_otlp_bodies_are_refused_as_otlp_http_says_and_nothing_is_stored() {
    let env = TestEnv::new();
    let storage = env.path().join("collected");
    let (_server, port) = server(&env, &storage, &[]);
    let pb = [("Content-Type", "application/x-protobuf")];
    let json = [("Content-Type", "application/json")];
    // Not protobuf: 400, with a google.rpc.Status in protobuf.
    let a = post(port, "/v1/traces", &pb, b"\xff\xff\xff\xff garbage");
    assert_eq!(a.status, 400);
    assert_eq!(a.content_type(), Some("application/x-protobuf"));
    let a = post(port, "/v1/logs", &json, b"{\"resourceLogs\": 7}");
    assert_eq!(a.status, 400);
    let status: Value = serde_json::from_slice(&a.body).unwrap();
    assert!(
        status["message"].as_str().unwrap().contains("logs"),
        "{status}"
    );
    let a = post(
        port,
        "/v1/traces",
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Content-Encoding", "gzip"),
        ],
        b"not gzip",
    );
    assert_eq!(a.status, 400);
    let a = post(
        port,
        "/v1/traces",
        &[("Content-Type", "text/plain")],
        b"hello",
    );
    assert_eq!(a.status, 415);
    let a = post(
        port,
        "/v1/logs",
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Content-Encoding", "br"),
        ],
        b"x",
    );
    assert_eq!(a.status, 415);
    let a = post(port, "/v1/metrics", &json, b"[]");
    assert_eq!(a.status, 400);
    assert!(
        std::fs::read_dir(&storage)
            .unwrap()
            .all(|e| !e.unwrap().path().is_dir())
    );
    // A log record with no session and no trace: 200 with partial success, not stored.
    let orphan = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","body":{"stringValue":"hi"}}]}]}]}"#;
    let a = post(port, "/v1/logs", &json, orphan);
    assert_eq!(a.status, 200);
    let answer: Value = serde_json::from_slice(&a.body).unwrap();
    assert_eq!(
        answer["partialSuccess"]["rejectedLogRecords"], 1,
        "{answer}"
    );
    // An empty request is a full success: {}.
    let a = post(port, "/v1/traces", &json, b"{}");
    assert_eq!((a.status, a.body.as_slice()), (200, b"{}".as_slice()));
}

/// A request refused before its body was read (no token, no such route) is still answered:
/// the collector read and dropped the body first. It closed at once, and the client, still
/// sending, got a broken pipe or a reset instead of the 401 (a clean-clone CI run failed so).
#[test]
fn a_refused_request_gets_its_answer_even_with_a_large_body_unread() {
    let env = TestEnv::new();
    let storage = env.path().join("collected");
    let (_server, port) = server(&env, &storage, &["--token", "t0k"]);
    let body = vec![b'x'; 8 * 1024 * 1024];
    let json = [("Content-Type", "application/json")];
    let refused = post(port, "/v1/traces", &json, &body);
    assert_eq!(refused.status, 401, "{}", refused.head);
    let missing = post(
        port,
        "/no/such/route",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", "Bearer t0k"),
        ],
        &body,
    );
    assert_eq!(missing.status, 404, "{}", missing.head);
}

#[test]
fn with_a_token_otlp_requests_need_it_as_claude_codes_headers_send_it() {
    let env = TestEnv::new();
    let storage = env.path().join("collected");
    let (_server, port) = server(&env, &storage, &["--token", "t0k"]);
    let (path, headers, body) = recorded("protobuf").pop().unwrap();
    let ct = headers
        .iter()
        .find(|(k, _)| k == "Content-Type")
        .unwrap()
        .1
        .clone();
    assert_eq!(
        post(port, &path, &[("Content-Type", &ct)], &body).status,
        401
    );
    let a = post(
        port,
        &path,
        &[("Content-Type", &ct), ("Authorization", "Bearer t0k")],
        &body,
    );
    assert_eq!(a.status, 200);
}

/// A sender's `service.name` names the session it opens (`agent_name`, and its `command`): a
/// key in it reached meta.json as it came.
#[test]
fn a_secret_in_a_senders_service_name_never_reaches_meta_json() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (server, port) = crate::collector::server(&env, &storage, &[]);
    let key = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789";
    let spans = serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": format!("svc {key}")}}]},
        "scopeSpans": [{"spans": [{
            "traceId": "0123456789abcdef0123456789abcdef", "spanId": "0123456789abcdef",
            "name": "work", "startTimeUnixNano": "1700000000000000000",
            "endTimeUnixNano": "1700000001000000000",
            "attributes": [{"key": "session.id", "value": {"stringValue": "s-otel"}}]}]}]}]});
    let a = post(
        port,
        "/v1/traces",
        &[("Content-Type", "application/json")],
        spans.to_string().as_bytes(),
    );
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    drop(server);
    let written = std::fs::read_to_string(storage.join("s-otel/meta.json")).unwrap();
    assert!(!written.contains(key), "{written}");
    let written: Value = serde_json::from_str(&written).unwrap();
    assert!(
        written["agent_name"].as_str().unwrap().starts_with("svc "),
        "{written}"
    );
}
