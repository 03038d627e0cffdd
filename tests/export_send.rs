//! `export --endpoint`: OTLP/HTTP to a fake collector that records what it got and answers as
//! told: the path, content type, gzip, headers and a body that decodes; retries on 429 and
//! 503 (Retry-After respected); one error line and exit code 4 when refused or unreachable.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use serde_json::json;

use crate::common::net::NobodyListens;
use crate::common::{SessionBuilder, TestEnv};

/// One request the fake collector received.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    at: Instant,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn unzipped(&self) -> Vec<u8> {
        assert_eq!(self.header("content-encoding"), Some("gzip"));
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&self.body[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    }
}

/// The request `stream` brings (its path, headers and body); `None` when it ends first.
fn received(stream: &std::net::TcpStream) -> Option<Received> {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split(' ').nth(1)?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        path,
        headers,
        body,
        at: Instant::now(),
    })
}

/// A collector on a free port that answers the requests in turn with `answers` (status, extra
/// header lines), the last answer for every request after; what it received is shared.
pub(crate) fn collector(answers: Vec<(u16, &'static str)>) -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            log.lock().unwrap().push(received(&stream).unwrap());
            let (status, extra) = answers[n.min(answers.len() - 1)];
            let text = if status == 400 {
                "bad span: no name"
            } else {
                ""
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{text}",
                text.len()
            );
        }
    });
    (port, seen)
}

/// `export --format otlp` of the latest session, sent to the collector on `port`.
fn send_to(env: &TestEnv, port: u16) -> crate::common::Run {
    env.run(&[
        "export",
        "--format",
        "otlp",
        "--endpoint",
        &format!("http://127.0.0.1:{port}"),
    ])
}

fn session(env: &TestEnv) -> String {
    SessionBuilder::new("sess-send")
        .meta(|m| m.agent_name = "claude-code".into())
        .tool_call("Bash", json!({"command": "ls"}))
        .at(1.0)
        .result(json!("a b"))
        .at(2.0)
        .tool_call("Read", json!({"file_path": "a"}))
        .at(2.5)
        .error("no such file")
        .write(env)
}

#[test]
fn a_trace_goes_to_v1_traces_as_gzipped_protobuf_with_the_headers_given() {
    let env = TestEnv::new();
    let id = session(&env);
    let (port, seen) = collector(vec![(200, "")]);
    let run = env.run(&[
        "export",
        "--format",
        "otlp-genai",
        "--endpoint",
        &format!("http://127.0.0.1:{port}"),
        "--header",
        "Authorization: Bearer s3cret",
        "--header",
        "x-project-name: demo",
    ]);
    run.success();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.starts_with(&format!(
            "Sent 3 spans of session {id} to http://127.0.0.1:{port}"
        )),
        "{}",
        run.stderr
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let got = &seen[0];
    assert_eq!(got.path, "/v1/traces");
    assert_eq!(got.header("content-type"), Some("application/x-protobuf"));
    assert_eq!(got.header("authorization"), Some("Bearer s3cret"));
    assert_eq!(got.header("x-project-name"), Some("demo"));
    let request = ExportTraceServiceRequest::decode(&got.unzipped()[..]).unwrap();
    let spans = &request.resource_spans[0].scope_spans[0].spans;
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "invoke_agent claude-code",
            "execute_tool Bash",
            "execute_tool Read"
        ]
    );
    assert!(
        spans
            .iter()
            .all(|s| s.trace_id.len() == 16 && s.span_id.len() == 8)
    );
    assert_eq!(spans[2].status.as_ref().unwrap().code, 2);
    assert_eq!(
        spans[1].end_time_unix_nano - spans[1].start_time_unix_nano,
        1_000_000_000
    );

    // A URL with a path is used as it is; --otlp-json sends JSON.
    let (port, seen) = collector(vec![(200, "")]);
    env.run(&[
        "export",
        "--format",
        "otlp",
        "--otlp-json",
        "--endpoint",
        &format!("http://127.0.0.1:{port}/custom/traces"),
    ])
    .success();
    let got = seen.lock().unwrap()[0].clone();
    assert_eq!(got.path, "/custom/traces");
    // A session of one span says so in the singular.
    SessionBuilder::new("sess-alone")
        .started(crate::common::session::T0 + 60.0)
        .prompt("hello")
        .write(&env);
    let (port, _) = collector(vec![(200, "")]);
    let one = env.run(&[
        "export",
        "sess-alone",
        "--format",
        "otlp",
        "--endpoint",
        &format!("http://127.0.0.1:{port}"),
    ]);
    one.success();
    assert!(
        one.stderr
            .starts_with("Sent 1 span of session sess-alone to "),
        "{}",
        one.stderr
    );
    assert_eq!(got.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&got.unzipped()).unwrap();
    assert_eq!(
        body["resourceSpans"][0]["scopeSpans"][0]["spans"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

/// The binary is linked statically against glibc where it can be (adr/0004): a host name is
/// still found, through `/etc/hosts`, and the trace sent.
#[test]
fn an_endpoint_named_by_host_name_is_found_and_sent_to() {
    let env = TestEnv::new();
    session(&env);
    let (port, seen) = collector(vec![(200, "")]);
    env.run(&[
        "export",
        "--format",
        "otlp",
        "--endpoint",
        &format!("http://localhost:{port}"),
    ])
    .success();
    assert_eq!(seen.lock().unwrap()[0].path, "/v1/traces");
}

#[test]
fn busy_answers_are_retried_with_backoff_and_retry_after() {
    let env = TestEnv::new();
    session(&env);
    let (port, seen) = collector(vec![(429, "retry-after: 1\r\n"), (503, ""), (200, "")]);
    let run = send_to(&env, port);
    run.success();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    let first_wait = seen[1].at - seen[0].at;
    assert!(
        first_wait >= Duration::from_millis(950),
        "Retry-After: 1 → {first_wait:?}"
    );
    assert!(
        seen[2].at - seen[1].at >= Duration::from_millis(450),
        "backoff"
    );
    assert_eq!(seen[0].body, seen[2].body, "the same trace each time");
    // Each try again is said as it comes, not only the end.
    assert!(
        run.stderr
            .contains("127.0.0.1 answered HTTP 429; trying again (2/5)\n")
            && run
                .stderr
                .contains("127.0.0.1 answered HTTP 503; trying again (3/5)\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_refusal_is_one_error_line_and_exit_code_4_without_retrying() {
    let env = TestEnv::new();
    session(&env);
    let (port, seen) = collector(vec![(400, "")]);
    let run = send_to(&env, port);
    assert_eq!(run.code, 4, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("HTTP 400") && run.stderr.contains("bad span: no name"),
        "{}",
        run.stderr
    );
    assert_eq!(seen.lock().unwrap().len(), 1, "a 400 is not retried");

    // Busy for good: every attempt made, then the same kind of error.
    let (port, seen) = collector(vec![(503, "")]);
    let run = send_to(&env, port);
    assert_eq!(run.code, 4, "{run:?}");
    assert!(run.stderr.contains("HTTP 503"), "{}", run.stderr);
    assert_eq!(seen.lock().unwrap().len(), 5, "bounded attempts");
}

#[test]
fn an_unreachable_endpoint_is_said_at_each_try_then_one_error_and_exit_code_4() {
    let env = TestEnv::new();
    session(&env);
    let nobody = NobodyListens::new();
    let run = env.run(&["export", "--format", "otlp", "--endpoint", &nobody.url()]);
    assert_eq!(run.code, 4, "{run:?}");
    // A line at each try again (it used to be silent until the end), then the error.
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 5, "{}", run.stderr);
    for (n, line) in lines[..4].iter().enumerate() {
        assert!(
            line.starts_with("cannot reach 127.0.0.1 (")
                && line.ends_with(&format!("; trying again ({}/5)", n + 2)),
            "{line}"
        );
    }
    assert!(
        lines[4].contains("cannot send the trace") && lines[4].contains("refused"),
        "{}",
        run.stderr
    );
}

/// A server that takes each request and answers 200 with `answer`'s body: what it writes after
/// the status line and headers it chooses. How many requests it took is shared.
fn answering_200(answer: fn(&mut std::net::TcpStream)) -> (u16, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let taken = Arc::new(Mutex::new(0));
    let count = Arc::clone(&taken);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            if received(&stream).is_none() {
                continue;
            }
            *count.lock().unwrap() += 1;
            std::thread::spawn(move || answer(&mut stream));
        }
    });
    (port, taken)
}

#[test]
fn a_taken_trace_whose_answer_never_ends_or_is_cut_short_is_sent_once() {
    let env = TestEnv::new();
    session(&env);
    // 200, then a chunked body with no end: it used to be "no answer", and the trace was sent
    // five times over to a backend that had taken it each time.
    let endless: fn(&mut std::net::TcpStream) = |stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
        let chunk = vec![b'x'; 65536];
        while stream.write_all(b"10000\r\n").is_ok()
            && stream.write_all(&chunk).is_ok()
            && stream.write_all(b"\r\n").is_ok()
        {}
    };
    // 200 with a body that promises 1000 bytes and stops at 10.
    let cut: fn(&mut std::net::TcpStream) = |stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n{\"partial");
    };
    for answer in [endless, cut] {
        let (port, taken) = answering_200(answer);
        let run = send_to(&env, port);
        assert_eq!(run.code, 0, "{run:?}");
        // One line saying so, none trying again.
        assert!(run.stderr.starts_with("Sent 3 spans"), "{run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
        assert_eq!(*taken.lock().unwrap(), 1, "sent once");
    }
}

/// A 200 whose body is `body`, as JSON.
fn answer_json(stream: &mut std::net::TcpStream, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A 200 whose body is `body`, as protobuf.
fn answer_protobuf(stream: &mut std::net::TcpStream, body: &[u8]) {
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(body);
}

/// What the backends below say, on two lines, with a character that would drive a terminal.
const REFUSAL: &str = "span 2 has no session \u{1b}[31mid\nsee the collector's log";

/// A backend that takes a trace in part answers 200 with OTLP's partial success (our own
/// collector does for spans it refuses): it read "Sent 3 spans", exit 0, as if all were taken.
#[test]
fn spans_a_backend_rejects_in_its_success_answer_are_an_error_naming_them() {
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTracePartialSuccess, ExportTraceServiceResponse,
    };
    let env = TestEnv::new();
    let id = session(&env);
    let spans = {
        let printed = env.run(&["export", "--format", "otlp-genai"]).json();
        printed["resourceSpans"][0]["scopeSpans"][0]["spans"]
            .as_array()
            .unwrap()
            .len()
    };
    let json: fn(&mut std::net::TcpStream) = |stream| {
        let body = json!({"partialSuccess": {"rejectedSpans": "2", "errorMessage": REFUSAL}});
        answer_json(stream, &body.to_string());
    };
    let protobuf: fn(&mut std::net::TcpStream) = |stream| {
        let body = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: 2,
                error_message: REFUSAL.to_owned(),
            }),
        };
        answer_protobuf(stream, &body.encode_to_vec());
    };
    for (answer, encoding) in [(json, Some("--otlp-json")), (protobuf, None)] {
        let (port, taken) = answering_200(answer);
        let url = format!("http://127.0.0.1:{port}");
        let mut args = vec!["export", "--format", "otlp-genai", "--endpoint", &url];
        args.extend(encoding);
        let run = env.run(&args);
        assert_eq!(run.code, 4, "{encoding:?}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.starts_with("error: ")
                && run.stderr.contains(&format!(
                    "rejected 2 of {spans} spans of session {id}: span 2 has no session"
                )),
            "{}",
            run.stderr
        );
        // What the backend said is escaped and cut to its first line, as a refusal's is.
        assert!(!run.stderr.contains('\u{1b}'), "{:?}", run.stderr);
        assert!(!run.stderr.contains("collector's log"), "{}", run.stderr);
        assert_eq!(
            *taken.lock().unwrap(),
            1,
            "a partial success is not retried"
        );
    }

    // Nothing rejected but something said (OTLP's warning): sent, and the warning shown.
    let (port, _) = answering_200(|stream| {
        answer_json(
            stream,
            r#"{"partialSuccess": {"rejectedSpans": "0", "errorMessage": "spans are sampled"}}"#,
        );
    });
    let run = env.run(&[
        "export",
        "--format",
        "otlp-genai",
        "--otlp-json",
        "--endpoint",
        &format!("http://127.0.0.1:{port}"),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("warning: ")
            && run.stderr.contains("spans are sampled")
            && run
                .stderr
                .contains(&format!("Sent {spans} spans of session {id}")),
        "{}",
        run.stderr
    );
}

/// Sent to our own collector, a session's tool and model spans are filed under it (and its
/// subagent's under the subagent): they named no session, and the collector filed them under
/// their trace, `otel-<trace id>`, parent and subagent in one. The subagent is its parent's
/// there too, so only `list --all` lists it, as in the store it was exported from.
#[test]
fn sent_to_our_collector_each_span_is_filed_under_its_session() {
    let env = TestEnv::new();
    let (parent, child) = crate::export::a_parent_and_subagent(&env);
    let storage = env.path().join("collected");
    let (_server, port) = crate::otel_ingest::server(&env, &storage, &[]);
    env.run(&[
        "export",
        &parent,
        "--format",
        "otlp-genai",
        "--endpoint",
        &format!("http://127.0.0.1:{port}"),
    ])
    .success();
    let listed = env
        .run(&[
            "list",
            "--all",
            "--trace-dir",
            storage.to_str().unwrap(),
            "--format",
            "json",
        ])
        .success()
        .json();
    let sub = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == child.as_str())
        .unwrap();
    assert_eq!(sub["parent_session_id"], parent.as_str(), "{listed:#}");
    let mut ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut expected = vec![parent.as_str(), child.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected, "{listed:#}");
}

/// An endpoint whose path is the root with a query (a gateway's key) is a root: the trace goes
/// to `/v1/traces` with the query kept, as the hooks' `/hooks` does. It went to `/?key=K`.
#[test]
fn a_root_endpoint_with_a_query_gets_the_signals_path_before_it() {
    let env = TestEnv::new();
    session(&env);
    let (port, seen) = collector(vec![(200, "")]);
    env.run(&[
        "export",
        "--format",
        "otlp",
        "--endpoint",
        &format!("http://127.0.0.1:{port}/?key=K"),
    ])
    .success();
    assert_eq!(seen.lock().unwrap()[0].path, "/v1/traces?key=K");
}

/// A `Retry-After` asking for less than the backoff (`0`, or a date already past: a server's
/// clock behind) never shortens it: every attempt went within milliseconds.
#[test]
fn a_retry_after_shorter_than_the_backoff_waits_the_backoff() {
    let env = TestEnv::new();
    session(&env);
    let (port, seen) = collector(vec![
        (503, "retry-after: 0\r\n"),
        (429, "retry-after: Wed, 21 Oct 2015 07:28:00 GMT\r\n"),
        (200, ""),
    ]);
    send_to(&env, port).success();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    let (first, second) = (seen[1].at - seen[0].at, seen[2].at - seen[1].at);
    assert!(
        first >= Duration::from_millis(500),
        "Retry-After: 0 → {first:?}"
    );
    assert!(second >= Duration::from_secs(1), "a date past → {second:?}");
}
