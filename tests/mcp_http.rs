//! `record-http`: real MCP clients (the Python and TypeScript SDKs) talk to npm's
//! server-everything over Streamable HTTP and over the older HTTP+SSE transport through the
//! proxy; what they see is what the server said, and the record holds every call.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::TestEnv;
use crate::common::net::{
    Background, NobodyListens, client_saw, everything_over_http, record_http, record_http_with,
    required, spawn_proxy,
};

/// The secret the client scripts send as their Authorization header.
const CLIENT_TOKEN: &str = "test-secret-token-123";

/// Runs one of the client scripts against `url`; returns what it saw.
fn client(kind: &str, mode: &str, url: &str) -> Value {
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp");
    let mut command = if kind == "python" {
        let mut c = Command::new(required(
            "AGENT_STRACE_MCP_PYTHON",
            "a Python with the `mcp` package",
        ));
        c.arg(scripts.join("http_client.py"));
        c
    } else {
        let mut c = Command::new("node");
        c.arg(scripts.join("ts_client.mjs"));
        c
    };
    client_saw(
        command.args([mode, url]),
        &format!("{kind} client ({mode})"),
    )
}

/// Every byte the store holds, as text.
fn store_text(env: &TestEnv) -> String {
    let mut text = String::new();
    for session in env.sessions() {
        let dir = env.store().join(&session);
        for file in std::fs::read_dir(dir).unwrap() {
            let path = file.unwrap().path();
            if path.is_file() {
                text.push_str(&String::from_utf8_lossy(&std::fs::read(path).unwrap()));
            }
        }
    }
    text
}

/// Both SDK clients talk to the server through one proxy; returns the recorded events.
fn both_clients_through_the_proxy(mode: &str, server_path: &str, client_mode: &str) {
    let (_server, server_port) = everything_over_http(mode);
    let env = TestEnv::new();
    let url = format!("http://127.0.0.1:{server_port}{server_path}");
    let (proxy, port) = record_http(&env, &url, &["--name", "everything"]);
    let mut session_ids = Vec::new();
    // The Python client at the proxy's root, the TypeScript one at the server's own path.
    for (kind, path) in [("python", "/"), ("typescript", server_path)] {
        let seen = client(kind, client_mode, &format!("http://127.0.0.1:{port}{path}"));
        assert_eq!(seen["server"], "mcp-servers/everything", "{kind}");
        assert_eq!(seen["echo"], "Echo: héllo through the proxy ✓", "{kind}");
        assert_eq!(seen["sum"], "The sum of 2 and 40 is 42.", "{kind}");
        assert_eq!(seen["resource_read"], 1, "{kind}");
        assert!(seen["tools"].as_array().unwrap().len() >= 5, "{kind}");
        if client_mode == "streamable" {
            assert_eq!(seen["terminated"], true, "{kind}: DELETE did not pass");
        }
        session_ids.push(seen["session_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        proxy.terminate(),
        Some(0),
        "the proxy ends cleanly on SIGTERM"
    );

    let sessions = env.sessions();
    assert_eq!(sessions.len(), 1);
    let events = env.events(&sessions[0]);
    let of =
        |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["event_type"] == kind).collect() };
    let calls = of("tool_call");
    let results = of("tool_result");
    assert_eq!(calls.len(), 4, "two calls from each client");
    assert_eq!(results.len(), 4);
    for result in &results {
        let call = calls
            .iter()
            .find(|c| c["event_id"] == result["parent_id"])
            .expect("every result is linked to its call");
        assert_eq!(call["data"]["tool_name"], result["data"]["tool_name"]);
        assert_eq!(call["data"]["mcp_session"], result["data"]["mcp_session"]);
        assert!(result["duration_ms"].as_f64().unwrap() >= 0.0);
    }
    assert_eq!(
        results[0]["data"]["result"],
        "Echo: héllo through the proxy ✓"
    );
    // The two clients' MCP sessions are told apart, without their ids being written.
    let numbers: std::collections::BTreeSet<u64> = calls
        .iter()
        .map(|c| c["data"]["mcp_session"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers.len(), 2, "{numbers:?}");
    crate::common::assert_methods_recorded(
        &events,
        &[
            "initialize",
            "notifications/initialized",
            "tools/list",
            "resources/list",
            "resources/read",
            "prompts/list",
        ],
    );
    let answered = events
        .iter()
        .filter(|e| e["data"]["response"] == true && e["data"]["method"] == "initialize")
        .count();
    assert_eq!(answered, 2, "both initialize answers are linked");
    if client_mode == "streamable" {
        let closed = events
            .iter()
            .filter(|e| e["data"]["http_method"] == "DELETE" && e["data"]["session_closed"] == true)
            .count();
        assert_eq!(closed, 2);
    }
    assert_eq!(events[0]["data"]["mode"], "http");
    assert_eq!(events[0]["data"]["remote_url"], url.as_str());
    assert_eq!(events.last().unwrap()["event_type"], "session_end");
    let meta = env.meta(&sessions[0]);
    assert_eq!(meta["agent_name"], "everything");
    assert_eq!(meta["tool_calls"], 4);

    let on_disk = store_text(&env);
    assert!(
        !on_disk.contains(CLIENT_TOKEN),
        "the Authorization header reached disk"
    );
    for id in &session_ids {
        assert!(!on_disk.contains(id.as_str()), "a session id reached disk");
    }

    let store = env.store();
    let replay = env
        .run(&["--trace-dir", store.to_str().unwrap(), "replay"])
        .success()
        .stdout
        .clone();
    assert!(
        replay.contains("tool_call echo") && replay.contains("tool_result get-sum ("),
        "{replay}"
    );
    assert!(replay.contains("tools/list answered ("), "{replay}");
}

#[test]
fn real_clients_talk_streamable_http_through_the_proxy_and_replay_shows_the_calls() {
    both_clients_through_the_proxy("streamableHttp", "/mcp", "streamable");
}

#[test]
fn real_clients_talk_the_older_sse_transport_through_the_proxy() {
    both_clients_through_the_proxy("sse", "/sse", "sse");
}

/// The bytes a base64 field of the spy's JSON holds.
pub(crate) fn unbase64(value: &Value) -> Vec<u8> {
    let text = value.as_str().unwrap_or_default();
    let digit = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(digit).collect();
    clean
        .chunks(4)
        .flat_map(|quad| {
            let n = quad
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &d)| n | (u32::from(d) << (18 - 6 * i)));
            let bytes = n.to_be_bytes();
            bytes[1..quad.len()].to_vec()
        })
        .collect()
}

#[test]
fn the_http_proxy_changes_no_byte_that_passes_and_records_every_message() {
    let spy = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/http_spy.py");
    let env = TestEnv::new();
    let log = env.path().join("spy.log");
    let (_server, spy_port) = spy_server(&env, None);
    let (proxy, port) = record_http(&env, &format!("http://127.0.0.1:{spy_port}/mcp"), &[]);
    let out = env.path().join("client.json");
    let client = Command::new("python3")
        .arg(&spy)
        .arg("client")
        .arg(format!("http://127.0.0.1:{port}"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        client.status.success(),
        "{}",
        String::from_utf8_lossy(&client.stderr)
    );
    assert_eq!(proxy.terminate(), Some(0));

    let exchanges: Vec<Value> = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let served: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(exchanges.len(), 12);
    assert_eq!(
        served.len(),
        exchanges.len(),
        "every request reached the server"
    );
    let mut big = 0;
    for exchange in &exchanges {
        let what = format!("{} {}", exchange["method"], exchange["path"]);
        assert!(exchange.get("stream_error").is_none(), "{what}: {exchange}");
        let at_server = served
            .iter()
            .find(|s| {
                s["method"] == exchange["method"]
                    && s["path"] == exchange["path"]
                    && s["body_b64"] == exchange["request_b64"]
            })
            .unwrap_or_else(|| panic!("{what}: the server never saw this request unchanged"));
        assert_eq!(at_server["status"], exchange["status"], "{what}");
        let headers = &at_server["headers"];
        assert_eq!(
            headers["authorization"], "Bearer spy-secret-token-42",
            "{what}"
        );
        assert_eq!(headers["x-test-header"], "kept", "{what}");
        assert!(headers.get("accept-encoding").is_none(), "{what}");
        let sent = unbase64(&at_server["sent_b64"]);
        let received = unbase64(&exchange["body_b64"]);
        big = big.max(received.len());
        if exchange["path"] == "/sse" {
            // The one change: the endpoint the server named by its own address now names the
            // proxy's path.
            assert_eq!(exchange["endpoint"], "/messages?sessionId=abc");
            let sent = String::from_utf8(sent).unwrap().replace(
                &format!("data: http://127.0.0.1:{spy_port}/messages"),
                "data: /messages",
            );
            assert_eq!(String::from_utf8(received).unwrap(), sent, "{what}");
        } else {
            assert!(sent == received, "{what}: the body changed on its way");
        }
        if exchange["path"] == "/mcp" {
            assert_eq!(exchange["headers"]["mcp-session-id"], "spy-session-7f3a9c");
            assert_eq!(exchange["headers"]["x-spy"], "yes");
        }
    }
    assert!(big > 10_000_000, "the 10 MB answer passed whole");

    let events = env.events(&env.sessions()[0]);
    let find = |pred: &dyn Fn(&Value) -> bool| -> Vec<&Value> {
        events.iter().filter(|e| pred(e)).collect()
    };
    let answered = |method: &str| {
        find(&|e: &Value| e["data"]["response"] == true && e["data"]["method"] == method).len()
    };
    assert_eq!(
        answered("echo"),
        2,
        "Streamable HTTP and the older transport"
    );
    assert_eq!(answered("big"), 1);
    assert_eq!(answered("stream"), 1);
    assert_eq!(answered("bye"), 1);
    let progress = find(&|e: &Value| e["data"]["method"] == "notifications/progress");
    assert_eq!(progress.len(), 5, "every event of the stream is recorded");
    let errors: Vec<String> = find(&|e: &Value| e["event_type"] == "error")
        .iter()
        .map(|e| e["data"]["error"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(
        errors[0].starts_with("malformed JSON-RPC message"),
        "{errors:?}"
    );
    assert_eq!(errors[1], "spy failure");
    assert_eq!(errors[2], "HTTP 401 Unauthorized");
    let sampling = find(&|e: &Value| e["event_type"] == "llm_request");
    assert_eq!(
        sampling.len(),
        1,
        "the server's sampling request on the GET stream"
    );
    let closed = find(&|e: &Value| e["data"]["http_method"] == "DELETE");
    assert_eq!(closed.len(), 1);
    // The older transport's messages share their own session number.
    let legacy: std::collections::BTreeSet<String> =
        find(&|e: &Value| e["data"]["method"] == "bye")
            .iter()
            .map(|e| e["data"]["mcp_session"].to_string())
            .collect();
    assert_eq!(legacy.len(), 1, "{legacy:?}");
    let on_disk = store_text(&env);
    assert!(!on_disk.contains("spy-secret-token-42"));
    assert!(!on_disk.contains("spy-session-7f3a9c"));
}

/// The spy server, over TLS when given a certificate; returns it and its port.
pub(crate) fn spy_server(env: &TestEnv, tls: Option<(&Path, &Path)>) -> (Background, u16) {
    let spy = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/http_spy.py");
    let mut command = Command::new("python3");
    command
        .arg(&spy)
        .arg("serve")
        .arg(env.path().join("spy.log"));
    if let Some((cert, key)) = tls {
        command.arg(cert).arg(key);
    }
    let mut server = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut port_line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut port_line,
    )
    .unwrap();
    (Background(server), port_line.trim().parse().unwrap())
}

#[test]
fn an_https_server_is_reached_with_the_roots_the_system_trusts() {
    let env = TestEnv::new();
    let (cert, key) = (env.path().join("cert.pem"), env.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let (_server, spy_port) = spy_server(&env, Some((&cert, &key)));
    let url = format!("https://127.0.0.1:{spy_port}/mcp");
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"echo","params":{"text":"over TLS ✓"}}"#;
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );

    // Trusted through SSL_CERT_FILE, as a company's own roots would be.
    let (proxy, port) = record_http_with(&env, &url, &[], &[("SSL_CERT_FILE", &cert)]);
    let answer = raw_request(port, &request);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.ends_with(r#"{"jsonrpc":"2.0","id":1,"result":{"text":"over TLS ✓"}}"#),
        "{answer}"
    );
    assert_eq!(proxy.terminate(), Some(0));

    // Not trusted: the client gets a 502 that says why, and so does the record.
    let (proxy, port) = record_http_with(&env, &url, &[], &[("SSL_CERT_FILE", &key)]);
    let answer = raw_request(port, &request);
    assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
    assert!(answer.to_lowercase().contains("certificate"), "{answer}");
    assert_eq!(proxy.terminate(), Some(0));
}

/// A POST of `body` to `/mcp`, closing the connection after the answer.
pub(crate) fn post(body: &str, headers: &str) -> String {
    format!(
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn masking_redaction_and_malformed_requests_change_the_record_never_the_traffic() {
    let env = TestEnv::new();
    let (_server, spy_port) = spy_server(&env, None);
    let url = format!("http://127.0.0.1:{spy_port}/mcp");
    let (proxy, port) = record_http(
        &env,
        &url,
        &["--mask", "--redact", "--redact-pattern", "ACME-[0-9]+"],
    );
    let params = r#"{"email":"jane.doe@example.com","key":"sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345","ticket":"ACME-4521"}"#;
    let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"echo","params":{params}}}"#);
    let answer = raw_request(port, &post(&body, ""));
    assert!(
        answer.ends_with(&format!(r#"{{"jsonrpc":"2.0","id":1,"result":{params}}}"#)),
        "the answer passes unmasked: {answer}"
    );
    // Malformed JSON from the client passes as it is, and is recorded as an error.
    let answer = raw_request(port, &post(r#"{"jsonrpc":"2.0","id":"#, ""));
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    // The resumption header of a Streamable HTTP stream reaches the server.
    let resume = "GET /mcp HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\nMcp-Session-Id: s-1\r\nLast-Event-ID: evt-41\r\nConnection: close\r\n\r\n";
    let answer = raw_request(port, resume);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(proxy.terminate(), Some(0));

    let served = std::fs::read_to_string(env.path().join("spy.log")).unwrap();
    let resumed: Value = serde_json::from_str(served.lines().last().unwrap()).unwrap();
    assert_eq!(resumed["headers"]["last-event-id"], "evt-41");
    assert_eq!(resumed["headers"]["mcp-session-id"], "s-1");

    let on_disk = store_text(&env);
    for secret in [
        "jane.doe@example.com",
        "sk-ant-api03-abcdefghij",
        "ACME-4521",
    ] {
        assert!(!on_disk.contains(secret), "{secret} reached disk");
    }
    assert!(on_disk.contains("[EMAIL]") && on_disk.contains("[REDACTED]"));
    let events = env.events(&env.sessions()[0]);
    let errors: Vec<&str> = events
        .iter()
        .filter(|e| e["event_type"] == "error")
        .map(|e| e["data"]["error"].as_str().unwrap())
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with("malformed JSON-RPC message"),
        "{errors:?}"
    );
    assert_eq!(errors[1], "HTTP 400 Bad Request");
}

#[test]
fn the_servers_own_path_and_the_proxys_root_both_reach_the_url_given() {
    let env = TestEnv::new();
    let (_server, spy_port) = spy_server(&env, None);
    let url = format!("http://127.0.0.1:{spy_port}/mcp?tenant=7");
    let (proxy, port) = record_http(&env, &url, &[]);
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"echo","params":{}}"#;
    for path in ["/", "/mcp", "/mcp?tenant=7"] {
        let request = post(body, "").replacen("POST /mcp ", &format!("POST {path} "), 1);
        let answer = raw_request(port, &request);
        assert!(answer.starts_with("HTTP/1.1 200"), "{path}: {answer}");
    }
    assert_eq!(proxy.terminate(), Some(0));
    let served = std::fs::read_to_string(env.path().join("spy.log")).unwrap();
    let paths: Vec<String> = served
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["path"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(paths, ["/mcp?tenant=7", "/mcp?tenant=7", "/mcp?tenant=7"]);
}

#[test]
fn an_unwritable_store_never_stops_the_http_traffic() {
    let env = TestEnv::new();
    let (_server, spy_port) = spy_server(&env, None);
    // The store's place is taken by a file.
    std::fs::write(env.store(), "not a folder").unwrap();
    let (proxy, port) = record_http(&env, &format!("http://127.0.0.1:{spy_port}/mcp"), &[]);
    let body = r#"{"jsonrpc":"2.0","id":7,"method":"echo","params":{"n":7}}"#;
    let answer = raw_request(port, &post(body, ""));
    assert!(
        answer.ends_with(r#"{"jsonrpc":"2.0","id":7,"result":{"n":7}}"#),
        "{answer}"
    );
    assert_eq!(proxy.terminate(), Some(0));
}

/// A write past a file size limit never stops the HTTP traffic. It stopped the recording with no
/// gap marked (stats counted no "Recording stopped") and a half-written line at the end of the
/// events; the session ends with the error that says recording stopped, a gap, after whole
/// lines only.
#[test]
fn a_disk_that_fills_up_midway_never_stops_the_http_traffic_and_is_a_gap_in_the_recording() {
    let env = TestEnv::new();
    let (_server, spy_port) = spy_server(&env, None);
    let store = env.store();
    let url = format!("http://127.0.0.1:{spy_port}/mcp");
    let command = env.command(&[
        "--trace-dir",
        store.to_str().unwrap(),
        "record-http",
        &url,
        "--port",
        "0",
    ]);
    let (proxy, port) = spawn_proxy(crate::common::with_a_full_disk_at_32_kib(&command));
    let padding = "x".repeat(500);
    for id in 0..200 {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"echo","params":{{"pad":"{padding}"}}}}"#
        );
        let answer = raw_request(port, &post(&body, ""));
        let expected = format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{"pad":"{padding}"}}}}"#);
        assert!(answer.ends_with(&expected), "answer {id}: {answer}");
    }
    assert_eq!(proxy.terminate(), Some(0));
    let log = std::fs::read_to_string(store.join("hook-errors.log")).unwrap();
    assert!(log.contains("recording stopped"), "{log}");
    crate::common::assert_stopped_recording_is_a_gap(&env, &store);
}

#[test]
fn the_older_transport_with_its_session_in_the_path_links_calls_to_results() {
    let env = TestEnv::new();
    let (_server, spy_port) = spy_server(&env, None);
    let (proxy, port) = record_http(&env, &format!("http://127.0.0.1:{spy_port}/sse-cr"), &[]);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n")
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    // The endpoint event arrives at once, rewritten, although the server then waits.
    while !String::from_utf8_lossy(&seen).contains("/messages/xyz\r\r") {
        let n = stream
            .read(&mut buf)
            .expect("the endpoint event was held back");
        assert!(n > 0, "{}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&seen).into_owned();
    assert!(text.contains("data: /messages/xyz\r"), "{text}");
    let call = r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"lookup","arguments":{"q":"x"}}}"#;
    let answer = raw_request(
        port,
        &format!(
            "POST /messages/xyz HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{call}",
            call.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    while !String::from_utf8_lossy(&seen).contains(r#""id":3,"result""#) {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0);
        seen.extend_from_slice(&buf[..n]);
    }
    drop(stream);
    assert_eq!(proxy.terminate(), Some(0));
    let events = env.events(&env.sessions()[0]);
    let call = events
        .iter()
        .find(|e| e["event_type"] == "tool_call")
        .unwrap();
    let result = events
        .iter()
        .find(|e| e["event_type"] == "tool_result")
        .unwrap();
    assert_eq!(result["parent_id"], call["event_id"], "{events:?}");
    assert!(result["duration_ms"].is_number());
}

/// Sends one HTTP/1.1 request and reads the whole answer (the connection is closed after).
pub(crate) fn raw_request(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn a_server_that_cannot_be_reached_gets_a_502_and_an_error_event() {
    let env = TestEnv::new();
    let nobody = NobodyListens::new();
    let (proxy, port) = record_http(&env, &format!("{}/mcp", nobody.url()), &[]);
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    let answer = raw_request(
        port,
        &format!(
            "POST /mcp?key=hunter2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
    assert!(answer.contains("cannot reach the MCP server"), "{answer}");
    assert_eq!(proxy.terminate(), Some(0));
    let events = env.events(&env.sessions()[0]);
    let error = events
        .iter()
        .find(|e| e["event_type"] == "error")
        .expect("an error event");
    assert_eq!(error["data"]["path"], "/mcp");
    assert!(
        error["data"]["error"]
            .as_str()
            .unwrap()
            .starts_with("cannot reach the MCP server"),
        "{error}"
    );
    // The query may hold a key: it is never recorded.
    assert!(!store_text(&env).contains("hunter2"));
}

#[test]
fn a_bad_url_or_a_port_in_use_is_one_clear_error() {
    let env = TestEnv::new();
    let bad = env.run(&["record-http", "ftp://example.com/mcp", "--port", "0"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert_eq!(
        bad.stderr,
        "error: `ftp://example.com/mcp`: the scheme must be http or https, not ftp\n"
    );
    // A port out of range was taken for none, and the client's requests (their token with
    // them) went to port 80.
    for url in [
        "http://127.0.0.1:99999/mcp",
        "http://[::1]:0/mcp",
        "http://localhost:80x/mcp",
    ] {
        let bad = env.run(&["record-http", url, "--port", "0"]);
        assert_eq!(bad.code, 2, "{}", bad.stderr);
        assert_eq!(
            bad.stderr,
            format!("error: `{url}`: the port must be a number from 1 to 65535\n")
        );
    }
    let missing = env.run(&["record-http", "--port", "0"]);
    assert_eq!(missing.code, 2);
    // A refused URL is named masked: its password and its query's key never reach the
    // terminal or a CI log (before, the error quoted the URL as given).
    let secret = env.run(&[
        "record-http",
        "https://me:hunter2@example.com/mcp?key=sk-abcdef",
        "--port",
        "0",
    ]);
    assert_eq!(secret.code, 2, "{}", secret.stderr);
    assert_eq!(
        secret.stderr,
        "error: `https://***@example.com/mcp?***`: credentials in the URL are not supported; \
         the client's headers are forwarded\n"
    );
    let bare = env.run(&["record-http", "example.com/mcp", "--port", "0"]);
    assert_eq!(bare.code, 2, "{}", bare.stderr);
    assert_eq!(
        bare.stderr,
        "error: `example.com/mcp`: no scheme (http:// or https://)\n"
    );

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let busy = env.run(&["record-http", "http://127.0.0.1:9/mcp", "--port", &port]);
    assert_eq!(busy.code, 4, "{}", busy.stderr);
    assert!(
        busy.stderr
            .starts_with(&format!("error: cannot listen on 127.0.0.1:{port}: ")),
        "{}",
        busy.stderr
    );
    assert_eq!(busy.stderr.lines().count(), 1);
    assert!(env.sessions().is_empty(), "no session is left behind");
}

/// The line that says where the proxy listens names the server's URL masked, also when the
/// session is not redacted: a key in its query stays out of the terminal and of CI logs.
#[test]
fn the_listening_line_masks_a_key_in_the_servers_url() {
    use std::io::BufRead;
    let env = TestEnv::new();
    let store = env.store();
    let mut command = env.command(&[
        "--trace-dir",
        store.to_str().unwrap(),
        "record-http",
        "http://127.0.0.1:9/mcp?token=hunter2",
        "--port",
        "0",
        "--no-redact",
    ]);
    let mut child = command
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(line.contains("forwarding http://127.0.0.1:"), "{line}");
    assert!(line.contains(" to http://127.0.0.1:9/mcp?*** "), "{line}");
    assert!(!line.contains("hunter2"), "{line}");
}

#[test]
fn the_proxy_listens_on_127_0_0_1_only() {
    let env = TestEnv::new();
    let (proxy, port) = record_http(&env, "http://127.0.0.1:9/mcp", &[]);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
    // A proxy bound to every address would answer on 127.0.0.2 as well, and on the machine's
    // own addresses.
    let mut others: Vec<std::net::IpAddr> = vec![[127, 0, 0, 2].into()];
    others.extend(local_addresses().into_iter().filter(|a| !a.is_loopback()));
    for address in others {
        assert!(
            TcpStream::connect((address, port)).is_err(),
            "{address}:{port} answered"
        );
    }
    assert_eq!(proxy.terminate(), Some(0));
}

/// This machine's addresses, as `hostname -I` gives them.
fn local_addresses() -> Vec<std::net::IpAddr> {
    Command::new("hostname")
        .arg("-I")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .filter_map(|a| a.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

mod sse {
    //! The event-stream layer: events read the same however the stream is cut, and only the
    //! endpoint event is ever changed.

    use std::fmt::Write;

    use bytes::Bytes;
    use proptest::prelude::*;

    use agent_strace::capture::proxy::framing::MAX_WHOLE;
    use agent_strace::capture::proxy::http::Upstream;
    use agent_strace::capture::proxy::sse::{EndpointRewriter, SseEvent, SseParser};

    /// An event as a server writes it, with the line end it uses.
    fn write_event(event: &SseEvent, comment: bool, eol: &str) -> String {
        let mut text = String::new();
        if comment {
            let _ = write!(text, ": keep-alive{eol}");
        }
        if event.event != "message" {
            let _ = write!(text, "event: {}{eol}", event.event);
        }
        if let Some(id) = &event.id {
            let _ = write!(text, "id: {id}{eol}");
        }
        for line in event.data.split('\n') {
            let _ = write!(text, "data: {line}{eol}");
        }
        text.push_str(eol);
        text
    }

    fn cut(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut at = 0;
        for point in points.into_iter().chain([bytes.len()]) {
            chunks.push(bytes[at..point].to_vec());
            at = point;
        }
        chunks
    }

    fn event_strategy() -> impl Strategy<Value = (SseEvent, bool)> {
        (
            prop_oneof![Just("message".to_owned()), "[a-z]{1,8}"],
            // Data lines without line ends of their own: ASCII, accents, CJK, emoji, colons.
            prop::collection::vec("[a-zA-Z0-9 :{}\",é✓日本😀]{0,30}", 1..4),
            prop::option::of("[a-z0-9-]{1,12}"),
            any::<bool>(),
        )
            .prop_map(|(event, lines, id, comment)| {
                (
                    SseEvent {
                        event,
                        data: lines.join("\n"),
                        id,
                        cut: None,
                    },
                    comment,
                )
            })
    }

    proptest! {
        #[test]
        fn events_read_the_same_however_the_stream_is_cut(
            events in prop::collection::vec(event_strategy(), 1..12),
            eol in prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
            cuts in prop::collection::vec(any::<usize>(), 0..20),
        ) {
            let text: String = events
                .iter()
                .map(|(event, comment)| write_event(event, *comment, eol))
                .collect();
            let mut parser = SseParser::new();
            let mut seen = Vec::new();
            for chunk in cut(text.as_bytes(), &cuts) {
                parser.push(&chunk, |e| seen.push(e));
            }
            // An id stays with the events after it, as in a browser.
            let mut last_id = None;
            let expected: Vec<SseEvent> = events
                .iter()
                .map(|(event, _)| {
                    if event.id.is_some() {
                        last_id.clone_from(&event.id);
                    }
                    SseEvent { id: last_id.clone(), ..event.clone() }
                })
                .collect();
            prop_assert_eq!(seen, expected);
        }

        #[test]
        fn a_stream_without_an_endpoint_event_passes_unchanged(
            events in prop::collection::vec(event_strategy(), 1..8),
            eol in prop_oneof![Just("\n"), Just("\r\n")],
            cuts in prop::collection::vec(any::<usize>(), 0..20),
        ) {
            let text: String = events
                .iter()
                .filter(|(event, _)| event.event != "endpoint")
                .map(|(event, comment)| write_event(event, *comment, eol))
                .collect();
            let mut rewriter = EndpointRewriter::new(|_: &str| Some("/elsewhere".to_owned()));
            let mut out = Vec::new();
            for chunk in cut(text.as_bytes(), &cuts) {
                out.extend_from_slice(&rewriter.push(Bytes::from(chunk)));
            }
            out.extend_from_slice(&rewriter.finish());
            prop_assert_eq!(out, text.into_bytes());
        }

        #[test]
        fn only_the_endpoint_event_changes(
            cuts in prop::collection::vec(any::<usize>(), 0..12),
            eol in prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
        ) {
            let upstream = Upstream::parse("http://mcp.example.com:8080/sse").unwrap();
            let stream = format!(
                ": hello{eol}{eol}event: endpoint{eol}data: http://mcp.example.com:8080/messages?sessionId=abc{eol}{eol}event: message{eol}data: {{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{{}}}}{eol}{eol}"
            );
            let mut rewriter =
                EndpointRewriter::new(|data: &str| upstream.endpoint_for_client(data, "/sse"));
            let mut out = Vec::new();
            for chunk in cut(stream.as_bytes(), &cuts) {
                out.extend_from_slice(&rewriter.push(Bytes::from(chunk)));
            }
            out.extend_from_slice(&rewriter.finish());
            let expected = stream.replace(
                "data: http://mcp.example.com:8080/messages",
                "data: /messages",
            );
            prop_assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
    }

    #[test]
    fn endpoints_that_name_the_server_point_at_the_proxy() {
        let upstream = Upstream::parse("https://mcp.example.com/v1/sse?tenant=7").unwrap();
        let for_client = |data: &str, path: &str| upstream.endpoint_for_client(data, path);
        // Already a path: the client resolves it against the proxy.
        assert_eq!(for_client("/v1/messages?sessionId=1", "/v1/sse"), None);
        // The server's own address, in any case, or scheme-relative.
        assert_eq!(
            for_client("https://MCP.example.com/v1/messages?sessionId=1", "/v1/sse").as_deref(),
            Some("/v1/messages?sessionId=1")
        );
        assert_eq!(
            for_client("//mcp.example.com/m", "/v1/sse").as_deref(),
            Some("/m")
        );
        assert_eq!(
            for_client("https://mcp.example.com?sessionId=1", "/v1/sse").as_deref(),
            Some("/?sessionId=1")
        );
        // Relative: resolved where the stream was asked for, also through the proxy's root.
        assert_eq!(
            for_client("messages?sessionId=1", "/v1/sse").as_deref(),
            Some("/v1/messages?sessionId=1")
        );
        assert_eq!(
            for_client("messages?sessionId=1", "/").as_deref(),
            Some("/v1/messages?sessionId=1")
        );
        // The scheme's own port, said or not; a query alone.
        assert_eq!(
            for_client("https://mcp.example.com:443/m?s=1", "/v1/sse").as_deref(),
            Some("/m?s=1")
        );
        assert_eq!(
            for_client("?sessionId=1", "/v1/sse").as_deref(),
            Some("/v1/sse?sessionId=1")
        );
        // Another host, or another port, is left alone.
        assert_eq!(for_client("https://other.example.com/m", "/v1/sse"), None);
        assert_eq!(
            for_client("https://mcp.example.com:8443/m", "/v1/sse"),
            None
        );
        let ipv6 = Upstream::parse("http://[::1]:3001/sse").unwrap();
        assert_eq!(
            ipv6.endpoint_for_client("http://[::1]:3001/m?s=2", "/sse")
                .as_deref(),
            Some("/m?s=2")
        );
    }

    #[test]
    fn an_endpoint_after_a_byte_order_mark_or_a_lone_cr_is_rewritten_at_once() {
        let upstream = Upstream::parse("http://127.0.0.1:4000/sse").unwrap();
        let mut rewriter =
            EndpointRewriter::new(|data: &str| upstream.endpoint_for_client(data, "/sse"));
        // The server then waits for the client's POST: the event must not be held back.
        let out = rewriter.push(Bytes::from_static(
            b"\xEF\xBB\xBFevent: endpoint\rdata: http://127.0.0.1:4000/messages/xyz\r\r",
        ));
        assert_eq!(
            &out[..],
            b"\xEF\xBB\xBFevent: endpoint\rdata: /messages/xyz\r\r"
        );
    }

    #[test]
    fn an_event_too_large_to_keep_is_cut_with_its_real_size() {
        let mut parser = SseParser::new();
        let mut seen = Vec::new();
        parser.push(b"id: 7\ndata: {\"id\":3,\"result\":{\"text\":\"", |e| {
            seen.push(e);
        });
        let mega = vec![b'x'; 1 << 20];
        for _ in 0..3 {
            parser.push(&mega, |e| seen.push(e));
        }
        // A second data line joins the first with a newline, as a client joins them.
        parser.push(b"\"}}\ndata: \n\ndata: small\n\n", |e| seen.push(e));
        assert_eq!(seen.len(), 2);
        let cut = seen[0].cut.as_ref().expect("cut");
        let prefix = r#"{"id":3,"result":{"text":""#.len() as u64;
        assert_eq!(cut.size, prefix + (3 << 20) + 3 + 1);
        let copy: serde_json::Value = serde_json::from_slice(cut.copy.as_ref().unwrap()).unwrap();
        assert_eq!(copy["id"], 3);
        assert!(
            copy["result"]["text"]
                .as_str()
                .unwrap()
                .ends_with(" bytes in all]")
        );
        assert!(seen[0].data.len() < MAX_WHOLE && seen[0].data.starts_with(r#"{"id":3,"#));
        assert_eq!(seen[0].id.as_deref(), Some("7"));
        assert!(seen[1].cut.is_none());
        assert_eq!(seen[1].data, "small");
    }
}

/// Sends `head` and then `body` in 1 MiB pieces from a thread (stopping at the first refused
/// write); the proxy's answer, until it closes the connection, which it must do with no more
/// than `patience` between two reads.
#[track_caller]
fn send_and_read(port: u16, head: &str, body_mib: usize, patience: std::time::Duration) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sending = std::thread::spawn(move || {
        let piece = vec![b'a'; 1 << 20];
        for _ in 0..body_mib {
            let chunk = [b"100000\r\n".as_slice(), &piece, b"\r\n"].concat();
            if writer.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    stream.set_read_timeout(Some(patience)).unwrap();
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    drop(stream);
    let _ = sending.join();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(
        read.is_ok() || !answer.is_empty(),
        "no answer within {patience:?}: {read:?}"
    );
    answer
}

#[test]
fn a_request_body_without_end_is_refused_instead_of_filling_the_memory() {
    // Before, the proxy held a request's body whole, however large: a chunked body that never
    // ended grew it by 1.5 GB in seconds (any local user can reach its port), and a
    // `Content-Length` of a terabyte held the connection waiting for it. A body is held whole
    // only to be judged by a policy, up to 16 MiB; without one, a body over 1 MiB is relayed
    // as it comes (`record_http_large.rs`).
    let env = TestEnv::new();
    let nobody = NobodyListens::new();
    let policy = env.path().join("mcp-policy.json");
    std::fs::write(&policy, r#"{"tools": {"deny": ["get-*"]}}"#).unwrap();
    let (proxy, port) = record_http(
        &env,
        &format!("{}/mcp", nobody.url()),
        &["--policy", policy.to_str().unwrap()],
    );
    let patience = std::time::Duration::from_secs(60);
    let chunked = "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    let answer = send_and_read(port, chunked, 80, patience);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("larger than the 16 MiB a policy is judged on"),
        "{answer}"
    );
    let declared = "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n";
    let answer = send_and_read(port, declared, 0, patience);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // A request of ordinary size still goes on to the server (here: one that is not there).
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    let answer = raw_request(
        port,
        &format!(
            "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
    assert_eq!(proxy.terminate(), Some(0));
    let events = env.events(&env.sessions()[0]);
    let refused: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "error" && e["data"]["status"] == 413)
        .collect();
    assert_eq!(refused.len(), 2, "{events:?}");
    assert_eq!(refused[0]["data"]["path"], "/mcp");
    // Without a policy nothing is held: the body goes on as it comes, here to nobody.
    let env = TestEnv::new();
    let (proxy, port) = record_http(&env, &format!("{}/mcp", nobody.url()), &[]);
    let answer = send_and_read(port, chunked, 80, patience);
    assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
    assert!(answer.contains("cannot reach the MCP server"), "{answer}");
    assert_eq!(proxy.terminate(), Some(0));
}

#[test]
fn a_client_that_sends_its_request_slowly_or_not_at_all_is_let_go() {
    // Before, a connection that sent part of a head and then nothing was held for ever; a few
    // hundred of them used up the proxy's file descriptors and the agent's requests were no
    // longer taken.
    let env = TestEnv::new();
    let nobody = NobodyListens::new();
    let (proxy, port) = record_http(
        &env,
        &format!("{}/mcp", nobody.url()),
        &["--request-wait", "1"],
    );
    // Let go is told by the proxy closing the connection (or answering), which one held for
    // ever never does: `send_and_read` fails when it has not within the minute a test gives a
    // hang. How soon after the 1 s is load's business, not this test's.
    let patience = crate::common::wait::HANG;
    send_and_read(
        port,
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\n",
        0,
        patience,
    );
    // A head that came whole, and a body that stops short.
    let short = "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"";
    let answer = send_and_read(port, short, 0, patience);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(proxy.terminate(), Some(0));
}

#[test]
fn a_client_that_takes_nothing_of_its_answer_is_let_go_and_said_to_be() {
    // Before, a client that asked for a large answer and read none of it held its connection,
    // the server's answer and a descriptor for ever; enough of them left none for the agent.
    let env = TestEnv::new();
    let (_spy, spy_port) = spy_server(&env, None);
    let (proxy, port) = record_http(
        &env,
        &format!("http://127.0.0.1:{spy_port}/mcp"),
        &["--request-wait", "1"],
    );
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // About 10 MB: more than the sockets between hold, so the proxy's writes wait on it.
    let body = r#"{"jsonrpc":"2.0","id":2,"method":"big"}"#;
    stream.write_all(post(body, "").as_bytes()).unwrap();
    let said = |events: &[Value]| {
        events.iter().any(|e| {
            e["event_type"] == "error"
                && e["data"]["error"]
                    .as_str()
                    .is_some_and(|t| t.contains("took nothing of its answer for 1 s"))
        })
    };
    let waiting = std::time::Instant::now();
    while !env.sessions().first().is_some_and(|s| said(&env.events(s))) {
        assert!(
            waiting.elapsed() < std::time::Duration::from_secs(120),
            "the stalled connection was never let go: {:?}",
            env.events(&env.sessions()[0])
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The server's answer is recorded all the same, read to its end.
    let waiting = std::time::Instant::now();
    while !env
        .events(&env.sessions()[0])
        .iter()
        .any(|e| e["data"]["jsonrpc_id"] == "2" && e["data"]["response"] == true)
    {
        assert!(
            waiting.elapsed() < std::time::Duration::from_secs(120),
            "the answer was never recorded"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Let go: what the client reads now ends, short of the whole answer.
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let mut got = Vec::new();
    let _ = stream.read_to_end(&mut got);
    assert!(got.len() < 10_000_000, "{}", got.len());
    assert_eq!(proxy.terminate(), Some(0));
}

#[test]
fn an_answer_too_large_to_keep_is_recorded_from_a_cut_copy_not_called_malformed() {
    // A JSON answer of more than 64 MiB reached the client whole, but the record kept its
    // first 64 MiB and called them "malformed JSON-RPC message": the server had sent none.
    // Then it said only that the answer was relayed but not recorded; now it is recorded as
    // `record` records a message that large, answering its request.
    let env = TestEnv::new();
    let (_spy, spy_port) = spy_server(&env, None);
    let (proxy, port) = record_http(&env, &format!("http://127.0.0.1:{spy_port}/mcp"), &[]);
    let answer = raw_request(
        port,
        &post(r#"{"jsonrpc":"2.0","id":3,"method":"huge"}"#, ""),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{}", &answer[..200]);
    assert!(answer.len() > 65 << 20, "{}", answer.len());
    let size = answer.len() - answer.find("\r\n\r\n").unwrap() - 4;
    assert_eq!(proxy.terminate(), Some(0));
    let events = env.events(&env.sessions()[0]);
    assert!(
        !events.iter().any(|e| e["event_type"] == "error"),
        "{events:?}"
    );
    let answered = events
        .iter()
        .find(|e| e["data"]["jsonrpc_id"] == "3" && e["data"]["response"] == true)
        .expect("the answer is recorded");
    assert_eq!(answered["data"]["message_original_bytes"], size);
    assert!(answered["parent_id"].is_string(), "{answered}");
}

/// The proxy forwarded a request whatever host it named, with the server's own `Host` in its
/// place: a web page whose name was made to resolve to 127.0.0.1 (DNS rebinding) could use the
/// proxy from the browser, and the server could not tell. A request naming a host other than
/// this machine is refused, 403, and never forwarded.
#[test]
fn a_request_naming_another_host_is_refused_and_not_forwarded() {
    let env = TestEnv::new();
    let nobody = NobodyListens::new();
    let (proxy, port) = record_http(&env, &format!("{}/mcp", nobody.url()), &[]);
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    let ask = |host: &str, target: &str| {
        raw_request(
            port,
            &format!(
                "POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
    };
    for host in [
        "evil.example".to_owned(),
        format!("evil.example:{port}"),
        format!("127.0.0.1.evil.example:{port}"),
    ] {
        let answer = ask(&host, "/mcp");
        assert!(answer.starts_with("HTTP/1.1 403"), "{host}: {answer}");
        assert!(answer.contains("localhost"), "{answer}");
    }
    let absolute = ask("localhost", "http://evil.example/mcp");
    assert!(absolute.starts_with("HTTP/1.1 403"), "{absolute}");
    // This machine, however named: forwarded (and the server is not there).
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        "LOCALHOST".to_owned(),
    ] {
        let answer = ask(&host, "/mcp");
        assert!(answer.starts_with("HTTP/1.1 502"), "{host}: {answer}");
    }
    assert_eq!(proxy.terminate(), Some(0));
    let events = env.events(&env.sessions()[0]);
    let tried = events.iter().filter(|e| e["event_type"] == "error").count();
    assert_eq!(tried, 4, "only the requests to this machine were forwarded");
}

#[test]
fn connections_that_send_most_of_a_large_head_leave_the_proxy_flat() {
    // Before, each connection buffered up to about 400 KiB of a head that had not ended (a
    // 1 MB header was refused only past that): 300 connections that sent 350 KiB each and
    // waited grew the proxy by 110 MiB. A head is now taken up to 64 KiB; a larger one is
    // answered 431 and its connection closed.
    let env = TestEnv::new();
    let nobody = NobodyListens::new();
    let (proxy, port) = record_http(&env, &format!("{}/mcp", nobody.url()), &[]);
    let pid = proxy.0.id();
    let at_start = crate::record_http_large::peak_rss_kib(pid);
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nX-Big: {}",
        "a".repeat(300 * 1024)
    );
    let held: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            // The proxy may close it before all is written.
            let _ = stream.write_all(head.as_bytes());
            stream
        })
        .collect();
    // A header of 1 MB, whole: refused, and the proxy still answers.
    let whole = format!(
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\nContent-Length: 2\r\n\r\n{{}}",
        "b".repeat(1 << 20)
    );
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let _ = stream.write_all(whole.as_bytes());
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    let peak = crate::record_http_large::peak_rss_kib(pid);
    eprintln!(
        "record-http peak RSS: {at_start} KiB at start, {peak} KiB with 200 heads of 300 KiB"
    );
    assert!(
        peak < at_start + 16 * 1024,
        "the proxy grew from {at_start} KiB to {peak} KiB"
    );
    drop(held);
    assert_eq!(proxy.terminate(), Some(0));
}

#[test]
fn connections_past_the_most_held_are_answered_503_and_room_comes_back_as_one_closes() {
    // Before, every connection was taken and held: 12,000 that each sent most of a head grew
    // the proxy past 1 GB, and it kept the memory once they closed. It holds at most
    // `--max-connections` (256; here 4) at once, and answers more with a 503 at once.
    let env = TestEnv::new();
    let nobody = NobodyListens::new();
    let (proxy, port) = record_http(
        &env,
        &format!("{}/mcp", nobody.url()),
        &["--max-connections", "4"],
    );
    // Taken in the order they came, so these four hold the room before the request below.
    let mut held: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            stream
                .write_all(b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nX-A: aaaa")
                .unwrap();
            stream
        })
        .collect();
    let request = post(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, "");
    let answer = raw_request(port, &request);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    assert!(answer.contains("holds 4 connections already"), "{answer}");
    // One closes: its room is given to the next connection, whose request goes on to the
    // server (one that is not there) as before.
    drop(held.pop());
    let mut answer = String::new();
    crate::common::wait::wait_until("a closed connection's room is taken again", || {
        answer = raw_request(port, &request);
        !answer.starts_with("HTTP/1.1 503")
    });
    assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
    assert!(answer.contains("cannot reach the MCP server"), "{answer}");
    drop(held);
    assert_eq!(proxy.terminate(), Some(0));
    // Said in the session once, not once a connection.
    let events = env.events(&env.sessions()[0]);
    let said = events
        .iter()
        .filter(|e| {
            e["data"]["error"]
                .as_str()
                .is_some_and(|t| t.contains("turning away new connections"))
        })
        .count();
    assert_eq!(said, 1, "{events:?}");
}

#[test]
fn a_tool_call_answered_with_an_http_error_counts_as_an_error_of_its_tool() {
    // Before, only an HTTP error whose body was a JSON-RPC error answered its call: a 400
    // carrying a tool result with isError, a 503 with a page of text, and a 502 from the proxy
    // for a server out of reach were errors of no call, and stats showed each tool with 0
    // errors and no duration.
    let env = TestEnv::new();
    let (_spy, spy_port) = spy_server(&env, None);
    let (proxy, port) = record_http(&env, &format!("http://127.0.0.1:{spy_port}/mcp"), &[]);
    let call = |id: u32, tool: &str, arguments: &str| {
        format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{tool}","arguments":{arguments}}}}}"#
        )
    };
    let ask = |path: &str, body: &str| {
        let request = post(body, "").replacen("POST /mcp ", &format!("POST {path} "), 1);
        raw_request(port, &request)
    };
    let said_failed = ask(
        "/mcp",
        &call(1, "said-failed", r#"{"status":400,"isError":true}"#),
    );
    assert!(said_failed.starts_with("HTTP/1.1 400"), "{said_failed}");
    let belied = ask("/mcp", &call(2, "belied", r#"{"status":503}"#));
    assert!(belied.starts_with("HTTP/1.1 503"), "{belied}");
    // The spy answers this path 401 with a line of text.
    let text = ask("/private", &call(3, "texty", "{}"));
    assert!(text.starts_with("HTTP/1.1 401"), "{text}");
    let fine = ask("/mcp", &call(4, "fine", "{}"));
    assert!(fine.starts_with("HTTP/1.1 200"), "{fine}");
    assert_eq!(proxy.terminate(), Some(0));
    // A server out of reach: the proxy's own 502 fails the call too.
    let nobody = NobodyListens::new();
    let (proxy, port) = record_http(&env, &format!("{}/mcp", nobody.url()), &[]);
    let unreached = raw_request(port, &post(&call(5, "unreached", "{}"), ""));
    assert!(unreached.starts_with("HTTP/1.1 502"), "{unreached}");
    assert_eq!(proxy.terminate(), Some(0));

    let sessions = env.sessions();
    let store = env.store();
    let mut tools = Vec::new();
    for session in &sessions {
        let stats = env.run(&[
            "--trace-dir",
            store.to_str().unwrap(),
            "stats",
            session,
            "--format",
            "json",
        ]);
        assert_eq!(stats.code, 0, "{}", stats.stderr);
        tools.extend(stats.json()["tools"].as_array().unwrap().clone());
    }
    let tool = |name: &str| {
        tools
            .iter()
            .find(|t| t["tool"] == name)
            .unwrap_or_else(|| panic!("{name} in {tools:?}"))
    };
    for name in ["said-failed", "belied", "texty", "unreached"] {
        let counted = tool(name);
        assert_eq!(counted["calls"], 1, "{counted}");
        assert_eq!(counted["errors"], 1, "{counted}");
        assert_eq!(
            counted["timed"], 1,
            "a failed call has its duration: {counted}"
        );
    }
    assert_eq!(tool("fine")["errors"], 0);
    // Each failure is one error event, answering its call; what the server said is kept.
    let events: Vec<Value> = sessions.iter().flat_map(|s| env.events(s)).collect();
    let errors: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "error")
        .collect();
    assert_eq!(errors.len(), 4, "{errors:?}");
    for error in &errors {
        assert!(error["parent_id"].is_string(), "{error}");
        assert!(error["data"]["jsonrpc_id"].is_string(), "{error}");
    }
    let of = |name: &str| {
        errors
            .iter()
            .find(|e| e["data"]["tool_name"] == name)
            .unwrap_or_else(|| panic!("{name} in {errors:?}"))
    };
    assert_eq!(of("said-failed")["data"]["error"], "done");
    assert_eq!(of("belied")["data"]["status"], 503);
    assert_eq!(of("texty")["data"]["body"], "no entry\n");
    assert!(
        of("unreached")["data"]["error"]
            .as_str()
            .unwrap()
            .starts_with("cannot reach the MCP server"),
        "{errors:?}"
    );
}
