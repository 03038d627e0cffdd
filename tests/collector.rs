//! `server`: the collector, through the binary: every endpoint, auth, limits, ids that would
//! climb out of the store, the loopback rule, a SIGTERM with requests in flight, and hooks
//! sending to it with `AGENT_STRACE_ENDPOINT` (and falling back to the local store).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::TestEnv;
use crate::common::net::{Background, NobodyListens, serve, serve_quietly};

/// A collector on a free port, writing `storage`.
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
    serve(command)
}

/// How many files process `pid` has open.
fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// Waits (a minute at most) until `done`.
#[track_caller]
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What the collector logged until it exited.
pub(crate) fn log_of(mut server: Background) -> String {
    let child = &mut server.0;
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let mut text = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let _ = child.wait();
    text
}

/// One HTTP/1.1 request; the status, headers and body of the answer.
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

fn request(port: u16, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(&head(method, path, token, body.len()))
        .unwrap();
    stream.write_all(body).unwrap();
    read_answer(&mut stream)
}

/// A request's head as our clients send it: naming the collector by its loopback address, a
/// body as JSON (NDJSON to `/events`).
fn head(method: &str, path: &str, token: Option<&str>, len: usize) -> Vec<u8> {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let kind = match (method, path) {
        ("POST", "/events") => "Content-Type: application/x-ndjson\r\n",
        ("POST", _) => "Content-Type: application/json\r\n",
        _ => "",
    };
    format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{auth}{kind}Content-Length: {len}\r\n\r\n"
    )
    .into_bytes()
}

fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer: {}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Answer {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    }
}

fn event(session: &str, id: &str, kind: &str, at: f64, data: Value) -> Value {
    json!({"event_type": kind, "timestamp": at, "event_id": id, "session_id": session, "data": data})
}

fn ndjson(events: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in events {
        out.extend(e.to_string().bytes());
        out.push(b'\n');
    }
    out
}

fn stored_lines(storage: &Path, session: &str) -> usize {
    std::fs::read_to_string(storage.join(session).join("events.ndjson"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

#[test]
fn every_endpoint_writes_and_reads_the_same_store_the_commands_read() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (server, port) = server(&env, &storage, &[]);

    let health = request(port, "GET", "/health", None, b"");
    assert_eq!(
        (health.status, health.json()["status"].clone()),
        (200, json!("ok"))
    );

    let meta = json!({"session_id": "s-1", "started_at": 1_700_000_000.0, "agent_name": "remote-agent",
                      "command": "agent run", "tool_calls": 99});
    let made = request(port, "POST", "/sessions", None, meta.to_string().as_bytes());
    assert_eq!(made.status, 200, "{}", String::from_utf8_lossy(&made.body));
    assert_eq!(made.json()["created"], true);

    let batch = ndjson(&[
        event(
            "s-1",
            "e1",
            "tool_call",
            1_700_000_001.0,
            json!({"tool_name": "Bash", "arguments": {"command": "ls"}}),
        ),
        json!({"event_type": "tool_result", "timestamp": 1_700_000_002.0, "event_id": "e2", "session_id": "s-1",
               "parent_id": "e1", "duration_ms": 1000.0, "data": {"tool_name": "Bash", "result": "a b"}}),
        event(
            "s-2",
            "",
            "user_prompt",
            1_700_000_003.0,
            json!({"prompt": "key sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789"}),
        ),
    ]);
    let posted = request(port, "POST", "/events", None, &batch);
    assert_eq!(posted.status, 200);
    assert_eq!(posted.json()["accepted"], 3);
    assert_eq!(posted.json()["errors"], 0);

    let list = request(port, "GET", "/sessions", None, b"").json();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&"s-1") && ids.contains(&"s-2"));

    let one = request(port, "GET", "/sessions/s-1", None, b"").json();
    assert_eq!(one["agent_name"], "remote-agent");
    assert_eq!(
        one["tool_calls"], 1,
        "counters come from the events, never from the client"
    );

    let events = request(port, "GET", "/sessions/s-1/events", None, b"");
    assert_eq!(events.status, 200);
    assert_eq!(
        events.header("content-type").as_deref(),
        Some("application/x-ndjson")
    );
    let lines: Vec<Value> = String::from_utf8(events.body)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["parent_id"], "e1");

    // The store's own rules apply: an event without an id gets one, secrets are redacted.
    let prompt = &request(port, "GET", "/sessions/s-2/events", None, b"").body;
    let prompt: Value =
        serde_json::from_slice(prompt.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(prompt["event_id"].as_str().unwrap().len(), 12);
    assert!(!prompt.to_string().contains("sk-ant-api03"), "{prompt}");

    assert_eq!(
        request(port, "GET", "/sessions/none/events", None, b"").status,
        404
    );
    assert_eq!(request(port, "GET", "/nowhere", None, b"").status, 404);
    assert_eq!(request(port, "DELETE", "/sessions", None, b"").status, 405);
    drop(server);

    // Every command reads the collector's storage.
    let listed = env.run(&[
        "--trace-dir",
        storage.to_str().unwrap(),
        "list",
        "--format",
        "json",
    ]);
    listed.success();
    let text = listed.stdout;
    assert!(
        text.contains("s-1") && text.contains("remote-agent"),
        "{text}"
    );
    let stats = env.run(&["--trace-dir", storage.to_str().unwrap(), "stats", "s-1"]);
    stats.success();
    assert!(stats.stdout.contains("Bash"), "{}", stats.stdout);
}

/// A session's details sent to `POST /sessions` are scrubbed as its events are: a key in its
/// command or its branch reached meta.json as it came.
#[test]
fn a_secret_in_a_remote_sessions_details_never_reaches_meta_json() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (server, port) = server(&env, &storage, &[]);
    let key = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789";
    let branch = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
    let meta = json!({"session_id": "s-3", "started_at": 1_700_000_000.0, "agent_name": "remote",
                      "command": format!("agent run --api-key {key}"), "git_branch": branch});
    let made = request(port, "POST", "/sessions", None, meta.to_string().as_bytes());
    assert_eq!(made.status, 200, "{}", String::from_utf8_lossy(&made.body));
    drop(server);
    let written = std::fs::read_to_string(storage.join("s-3/meta.json")).unwrap();
    assert!(written.contains("agent run --api-key"), "{written}");
    for secret in [key, branch] {
        assert!(!written.contains(secret), "{written}");
    }
}

/// A client telling the collector more of a session it has (`POST /sessions` again: its end,
/// its agent) changes the session's `meta.json` and appends nothing: `list` over the
/// collector's storage kept what its index had read before, the session running for ever.
#[test]
fn a_session_described_again_is_listed_as_described() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (server, port) = server(&env, &storage, &[]);
    let meta = json!({"session_id": "s-5", "started_at": 1_700_000_000.0, "agent_name": "first",
                      "command": "agent run"});
    let made = request(port, "POST", "/sessions", None, meta.to_string().as_bytes());
    assert_eq!(made.status, 200, "{}", String::from_utf8_lossy(&made.body));
    let batch = ndjson(&[event(
        "s-5",
        "e1",
        "user_prompt",
        1_700_000_001.0,
        json!({"prompt": "go"}),
    )]);
    assert_eq!(request(port, "POST", "/events", None, &batch).status, 200);
    let list = || {
        env.run(&[
            "--trace-dir",
            storage.to_str().unwrap(),
            "list",
            "--format",
            "json",
        ])
        .success()
        .json()[0]
            .clone()
    };
    assert_eq!(list()["ended_at"], Value::Null);
    // With counters that are no whole numbers: they were kept as sent and read in place of
    // the session's own, which `list` then showed as `?`, "damaged or forged".
    let ended = json!({"session_id": "s-5", "started_at": 1_700_000_000.0, "agent_name": "second",
                       "ended_at": 1_700_000_060.0, "errors": -1, "tool_calls": 0.5});
    let told = request(
        port,
        "POST",
        "/sessions",
        None,
        ended.to_string().as_bytes(),
    );
    assert_eq!(told.status, 200, "{}", String::from_utf8_lossy(&told.body));
    drop(server);
    let row = list();
    assert_eq!(
        (row["agent_name"].clone(), row["ended_at"].clone()),
        (json!("second"), json!(1_700_000_060.0))
    );
    assert_eq!(
        (&row["errors"], &row["tool_calls"]),
        (&json!(0), &json!(0)),
        "{row}"
    );
    let meta = std::fs::read_to_string(storage.join("s-5/meta.json")).unwrap();
    assert!(!meta.contains("-1") && !meta.contains("0.5"), "{meta}");
    // Nor on a session it makes.
    let made = json!({"session_id": "s-6", "started_at": 1_700_000_000.0, "tool_calls": -1});
    let (server, port) = super::collector::server(&env, &storage, &[]);
    let answer = request(port, "POST", "/sessions", None, made.to_string().as_bytes());
    assert_eq!(answer.status, 200);
    drop(server);
    let meta = std::fs::read_to_string(storage.join("s-6/meta.json")).unwrap();
    assert!(!meta.contains("-1"), "{meta}");
}

/// A session whose folder is there without a usable `meta.json` (one missing: a crash before
/// its meta was written, or events sent before it; one corrupt) is described by `POST
/// /sessions` all the same, its events kept: the meta was answered 500 for ever, so that a
/// proxy resent it, then kept the session's end in its own store, while `/events` and `/hooks`
/// to the session were taken.
#[test]
fn a_session_without_a_usable_meta_is_described_and_keeps_its_events() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    std::fs::create_dir_all(storage.join("emptyd")).unwrap();
    std::fs::create_dir_all(storage.join("noted")).unwrap();
    let (server, port) = server(&env, &storage, &[]);
    let made = request(
        port,
        "POST",
        "/sessions",
        None,
        br#"{"session_id":"emptyd","started_at":1}"#,
    );
    assert_eq!(made.status, 200, "{}", String::from_utf8_lossy(&made.body));
    assert_eq!(made.json()["created"], true);
    // Events to a folder without meta give it one.
    let batch = ndjson(&[event(
        "noted",
        "n1",
        "user_prompt",
        1_700_000_001.0,
        json!({"prompt": "go"}),
    )]);
    assert_eq!(request(port, "POST", "/events", None, &batch).status, 200);
    let noted = std::fs::read_to_string(storage.join("noted/meta.json")).unwrap();
    assert!(noted.contains("1700000001"), "{noted}");
    // A corrupt meta: its session's events are taken and kept, and its end is stored.
    let batch = ndjson(&[
        event(
            "corrupt1",
            "c1",
            "session_start",
            1_700_000_000.0,
            json!({}),
        ),
        event(
            "corrupt1",
            "c2",
            "tool_call",
            1_700_000_001.0,
            json!({"tool_name": "Bash", "arguments": {"command": "make"}}),
        ),
    ]);
    assert_eq!(request(port, "POST", "/events", None, &batch).status, 200);
    let meta = storage.join("corrupt1/meta.json");
    std::fs::write(&meta, b"{\"session_id\": \"corrupt1\", \"started_").unwrap();
    let ended = json!({"session_id": "corrupt1", "started_at": 1_700_000_000.0,
                       "agent_name": "remote", "ended_at": 1_700_000_060.0});
    for _ in 0..2 {
        let told = request(
            port,
            "POST",
            "/sessions",
            None,
            ended.to_string().as_bytes(),
        );
        assert_eq!(told.status, 200, "{}", String::from_utf8_lossy(&told.body));
    }
    let log = log_of(server);
    assert_eq!(stored_ids(&storage, "corrupt1"), ["c1", "c2"]);
    let set_aside = std::fs::read(storage.join("corrupt1/meta.json.corrupt")).unwrap();
    assert_eq!(set_aside, b"{\"session_id\": \"corrupt1\", \"started_");
    assert!(log.contains("meta.json.corrupt"), "{log}");
    let shown = env.run(&[
        "--trace-dir",
        storage.to_str().unwrap(),
        "list",
        "--format",
        "json",
    ]);
    let rows = shown.success().json();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["session_id"] == "corrupt1")
        .unwrap()
        .clone();
    assert_eq!(
        (&row["agent_name"], &row["ended_at"], &row["tool_calls"]),
        (&json!("remote"), &json!(1_700_000_060.0), &json!(1)),
        "{row}"
    );
}

/// A second meta that cannot be read was set aside over the first one set aside, which was
/// lost; and a meta holding the `NaN` Python's json module writes was taken for corrupt and
/// replaced, its agent and command lost. The second goes beside the first, and the Python
/// tool's meta is read as it is.
#[test]
fn a_meta_set_aside_never_replaces_another_and_a_python_meta_is_no_corrupt_one() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    let folder = storage.join("twice");
    std::fs::create_dir_all(&folder).unwrap();
    let told = json!({"session_id": "twice", "started_at": 1_700_000_000.0}).to_string();
    for broken in ["first {", "second {"] {
        std::fs::write(folder.join("meta.json"), broken).unwrap();
        let answer = request(port, "POST", "/sessions", None, told.as_bytes());
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
    }
    assert_eq!(
        std::fs::read_to_string(folder.join("meta.json.corrupt")).unwrap(),
        "first {"
    );
    assert_eq!(
        std::fs::read_to_string(folder.join("meta.json.corrupt.1")).unwrap(),
        "second {"
    );

    let python = storage.join("python");
    std::fs::create_dir_all(&python).unwrap();
    std::fs::write(
        python.join("meta.json"),
        r#"{"session_id": "python", "started_at": 1700000000.0, "agent_name": "claude-code", "command": "claude", "total_duration_ms": NaN}"#,
    )
    .unwrap();
    let told =
        json!({"session_id": "python", "started_at": 1_700_000_000.0, "ended_at": 1_700_000_009.0});
    let answer = request(port, "POST", "/sessions", None, told.to_string().as_bytes());
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert!(!python.join("meta.json.corrupt").exists());
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(python.join("meta.json")).unwrap()).unwrap();
    assert_eq!(
        (&meta["agent_name"], &meta["command"]),
        (&json!("claude-code"), &json!("claude"))
    );
    assert_eq!(meta["ended_at"], 1_700_000_009.0);
}

#[test]
fn with_a_token_only_requests_that_carry_it_are_served_and_refusals_are_logged() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let token = "t0k3n-for-the-test";
    let (server, port) = server(&env, &storage, &["--token", token]);
    let batch = ndjson(&[event("s", "e1", "decision", 1.0, json!({}))]);
    for path in ["/sessions", "/sessions/s/events"] {
        assert_eq!(request(port, "GET", path, None, b"").status, 401, "{path}");
        assert_eq!(
            request(port, "GET", path, Some("wrong"), b"").status,
            401,
            "{path}"
        );
    }
    // A path whose characters would reverse or hide part of the log line.
    let hiding = "/sessions/\u{202e}gnp.exe\u{200b}/events";
    assert_eq!(request(port, "GET", hiding, None, b"").status, 401);
    let refused = request(port, "POST", "/events", Some("t0k3n-for-the-tesT"), &batch);
    assert_eq!(refused.status, 401);
    assert_eq!(
        refused.header("www-authenticate").as_deref(),
        Some("Bearer")
    );
    assert!(
        !storage.join("s").exists(),
        "a refused batch writes nothing"
    );
    assert_eq!(
        request(port, "GET", "/health", None, b"").status,
        200,
        "health is public"
    );

    assert_eq!(
        request(port, "POST", "/events", Some(token), &batch).status,
        200
    );
    assert_eq!(
        request(port, "GET", "/sessions", Some(token), b"")
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let log = log_of(server);
    assert!(
        log.contains("refused POST /events from 127.0.0.1:"),
        "{log}"
    );
    assert!(
        log.contains("refused GET /sessions from 127.0.0.1:"),
        "{log}"
    );
    assert!(!log.contains("t0k3n"), "the log never shows a token: {log}");
    assert!(
        log.contains("refused GET /sessions/\\u{202e}gnp.exe\\u{200b}/events from"),
        "{log}"
    );
    assert!(!log.contains(['\u{202e}', '\u{200b}']), "{log}");
}

#[test]
fn the_token_can_come_from_the_environment() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let mut command = env.command(&[
        "server",
        "--port",
        "0",
        "--storage",
        storage.to_str().unwrap(),
    ]);
    command.env("AGENT_STRACE_TOKEN", "from-env");
    let (_server, port) = serve_quietly(command);
    assert_eq!(request(port, "GET", "/sessions", None, b"").status, 401);
    assert_eq!(
        request(port, "GET", "/sessions", Some("from-env"), b"").status,
        200
    );
}

#[test]
fn session_ids_that_would_leave_the_store_are_refused() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    // And names the store keeps for its own files (a session of that name took the place of
    // the hooks' log or the retention log), and blanks, which no command can name.
    let bad = [
        "..",
        "../escaped",
        "a/b",
        ".hidden",
        "x\u{202e}y",
        "",
        "hook-errors.log",
        "hook-errors.log.1",
        "retention.log",
        "datasets",
        " ",
        "\t ",
    ];
    let batch = ndjson(
        &bad.iter()
            .map(|id| event(id, "e", "decision", 1.0, json!({})))
            .collect::<Vec<_>>(),
    );
    let answer = request(port, "POST", "/events", None, &batch);
    assert_eq!(answer.status, 202);
    assert_eq!(answer.json()["accepted"], 0);
    assert_eq!(answer.json()["errors"], bad.len());
    for id in bad {
        let meta = json!({"session_id": id, "started_at": 1.0});
        assert_eq!(
            request(port, "POST", "/sessions", None, meta.to_string().as_bytes()).status,
            400,
            "{id:?}"
        );
    }
    for path in [
        "/sessions/..%2Fescaped/events",
        "/sessions/%2e%2e/events",
        "/sessions/..%2F..%2Fetc",
        "/sessions/.hidden",
    ] {
        assert_eq!(request(port, "GET", path, None, b"").status, 400, "{path}");
    }
    assert!(!env.path().join("escaped").exists());
    let made: Vec<_> = std::fs::read_dir(&storage)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        made.iter().all(|n| n.to_string_lossy().starts_with('.')),
        "{made:?}"
    );
}

#[test]
fn a_body_over_the_limit_is_refused_and_nothing_of_it_is_stored() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &["--max-body", "2000"]);
    let events: Vec<Value> = (0..40)
        .map(|i| event("big", &format!("e{i}"), "decision", 1.0, json!({"n": i})))
        .collect();
    let body = ndjson(&events);
    assert!(body.len() > 2000);
    let answer = request(port, "POST", "/events", None, &body);
    assert_eq!(answer.status, 413);
    // Chunked, so that only reading it finds it too large.
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut raw = b"POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    raw.extend(format!("{:x}\r\n", body.len()).bytes());
    raw.extend(&body);
    raw.extend(b"\r\n0\r\n\r\n");
    let _ = stream.write_all(&raw);
    assert_eq!(read_answer(&mut stream).status, 413);
    assert_eq!(stored_lines(&storage, "big"), 0);
    assert_eq!(
        request(port, "POST", "/events", None, &ndjson(&events[..5])).status,
        200
    );
}

/// A client that sends its whole body before it reads (as most do) reads 413 and why, with a
/// declared length and chunked alike, however far past the limit (within 64 MiB more) the body
/// goes. Before, the collector answered and closed with the body unread: the kernel reset the
/// connection, and the client got a broken pipe or a reset instead of the answer.
#[test]
fn a_body_far_over_the_limit_still_gets_its_413() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &["--max-body", "2000"]);
    let line = ndjson(&[event(
        "big",
        "e1",
        "decision",
        1.0,
        json!({"pad": "x".repeat(900)}),
    )]);
    let body: Vec<u8> = line.iter().copied().cycle().take(4 << 20).collect();
    let send = |head: Vec<u8>, chunked: bool| {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut sent = stream.write_all(&head);
        for piece in body.chunks(64 * 1024) {
            if sent.is_err() {
                break;
            }
            sent = if chunked {
                let mut framed = format!("{:x}\r\n", piece.len()).into_bytes();
                framed.extend(piece);
                framed.extend(b"\r\n");
                stream.write_all(&framed)
            } else {
                stream.write_all(piece)
            };
        }
        if chunked && sent.is_ok() {
            sent = stream.write_all(b"0\r\n\r\n");
        }
        let mut raw = Vec::new();
        let read = stream.read_to_end(&mut raw);
        (
            sent.map_err(|e| e.to_string()),
            read.map_err(|e| e.to_string()),
            String::from_utf8_lossy(&raw).into_owned(),
        )
    };
    let declared = head("POST", "/events", None, body.len());
    let chunked = b"POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for (name, head, is_chunked) in [("declared", declared, false), ("chunked", chunked, true)] {
        let (sent, read, answer) = send(head, is_chunked);
        assert!(
            sent.is_ok() && read.is_ok(),
            "{name}: sent {sent:?}, read {read:?}: {answer}"
        );
        assert!(answer.starts_with("HTTP/1.1 413"), "{name}: {answer}");
        assert!(
            answer.contains("larger than 2000 bytes"),
            "{name}: {answer}"
        );
    }
    assert_eq!(stored_lines(&storage, "big"), 0);
}

/// The collector's resident memory: its high-water mark and now, in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// A 50 MB session read by four clients that read slowly: each gets the events file byte for
/// byte, and the collector holds a few pieces for each, not the body. Before, each answer was
/// built whole in memory first: 50 MB and more for each reader, however slowly it read.
#[test]
fn a_large_session_is_streamed_to_slow_readers_in_bounded_memory() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let dir = storage.join("big");
    std::fs::create_dir_all(&dir).unwrap();
    let mut file = Vec::with_capacity(52 << 20);
    let mut n = 0;
    while file.len() < 50 << 20 {
        let line = event(
            "big",
            &format!("e{n}"),
            "tool_call",
            1_700_000_000.0 + f64::from(n),
            json!({"tool_name": "Bash", "arguments": {"command": format!("echo {n} {}", "x".repeat(400))}}),
        );
        file.extend(line.to_string().bytes());
        file.push(b'\n');
        n += 1;
    }
    std::fs::write(dir.join("events.ndjson"), &file).unwrap();
    let (server, port) = server(&env, &storage, &[]);
    let pid = server.0.id();
    // A first small answer, so that what starting up takes is counted before.
    assert_eq!(request(port, "GET", "/health", None, b"").status, 200);
    let (_, before) = memory_kib(pid);
    let readers: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(60)))
                    .unwrap();
                stream
                    .write_all(&head("GET", "/sessions/big/events", None, 0))
                    .unwrap();
                // Slowly: 256 KiB at a time, a pause between, for the first half; then the rest.
                let mut raw = Vec::new();
                let mut buf = vec![0u8; 256 * 1024];
                loop {
                    let got = stream.read(&mut buf).unwrap();
                    if got == 0 {
                        break;
                    }
                    raw.extend_from_slice(&buf[..got]);
                    if raw.len() < 25 << 20 {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                }
                raw
            })
        })
        .collect();
    let mut peak = 0;
    let mut bodies = Vec::new();
    for reader in readers {
        while !reader.is_finished() {
            peak = peak.max(memory_kib(pid).1);
            std::thread::sleep(Duration::from_millis(20));
        }
        bodies.push(reader.join().unwrap());
    }
    let (high_water, _) = memory_kib(pid);
    let grew = high_water.max(peak).saturating_sub(before);
    for raw in &bodies {
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let head = String::from_utf8_lossy(&raw[..split]).to_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(
            head.contains("content-type: application/x-ndjson"),
            "{head}"
        );
        let body = if head.contains("transfer-encoding: chunked") {
            dechunk(&raw[split..])
        } else {
            raw[split..].to_vec()
        };
        assert!(
            body == file,
            "the body is not the events file: {} bytes of {}",
            body.len(),
            file.len()
        );
    }
    // Four readers of 50 MB held whole would be 200 MB and more; pieces are a few hundred KiB.
    assert!(
        grew < 40 * 1024,
        "the collector grew by {grew} KiB while serving"
    );
}

/// The body of a chunked HTTP/1.1 answer.
pub(crate) fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_text = std::str::from_utf8(&raw[..end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        raw = &raw[end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

#[test]
fn a_client_past_its_rate_gets_429_with_retry_after() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &["--rate-limit", "2"]);
    let statuses: Vec<Answer> = (0..8)
        .map(|_| request(port, "GET", "/health", None, b""))
        .collect();
    let limited: Vec<&Answer> = statuses.iter().filter(|a| a.status == 429).collect();
    assert!(
        statuses[0].status == 200 && !limited.is_empty(),
        "{:?}",
        statuses.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    let wait: u64 = limited[0].header("retry-after").unwrap().parse().unwrap();
    assert!(wait >= 1);
}

/// Requests with a wrong token drew on their address's budget before the token was looked at,
/// so anyone who could reach the collector (behind a TLS proxy, every client has its address)
/// could hold every hook at 429; and a wrong path answered 404 where a wrong token is 401.
#[test]
fn requests_without_the_token_use_up_no_clients_budget() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &["--rate-limit", "5", "--token", "tok3"]);
    let strangers: Vec<u16> = (0..12)
        .map(|_| request(port, "GET", "/sessions", Some("wrong"), b"").status)
        .collect();
    assert!(
        strangers.contains(&401) && strangers.contains(&429),
        "{strangers:?}"
    );
    assert_eq!(
        request(port, "GET", "/sessions", Some("tok3"), b"").status,
        200
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(
        request(port, "GET", "/no-such-path", Some("wrong"), b"").status,
        401
    );
    assert_eq!(
        request(port, "GET", "/no-such-path", Some("tok3"), b"").status,
        404
    );
}

/// Out of file descriptors, a failed accept was logged once a failure and the loop went on
/// (since backed off and said once), and a request whose session file could not be opened got
/// a 500, though trying again soon works: it is a 503 with `Retry-After`, the retry is stored
/// and its session is listed (a session folder left without its meta hid it).
#[test]
fn out_of_file_descriptors_the_collector_says_so_once_and_answers_503_with_retry_after() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let plain = env.command(&[
        "server",
        "--port",
        "0",
        "--storage",
        storage.to_str().unwrap(),
    ]);
    let mut limited = Command::new("bash");
    limited
        .arg("-c")
        .arg("ulimit -n 32 && exec \"$0\" \"$@\"")
        .arg(plain.get_program())
        .args(plain.get_args())
        .current_dir(env.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    for (key, value) in plain.get_envs() {
        match value {
            Some(value) => limited.env(key, value),
            None => limited.env_remove(key),
        };
    }
    let (server, port) = serve(limited);
    let pid = server.0.id();
    let before = open_files(pid);
    // Accepted while descriptors are left; its request comes once they are gone.
    let mut first = TcpStream::connect(("127.0.0.1", port)).unwrap();
    wait_until("the first connection is accepted", || {
        open_files(pid) > before
    });
    let held: Vec<TcpStream> = (0..64)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    wait_until("the collector has no descriptor left", || {
        open_files(pid) >= 32
    });
    // A second of failures to accept, said once.
    std::thread::sleep(Duration::from_secs(1));
    let session = "fd000000-0000-4000-8000-000000000001";
    let body = ndjson(&[event(session, "e1", "session_start", 1.0e9, json!({}))]);
    first
        .write_all(&head("POST", "/events", None, body.len()))
        .unwrap();
    first.write_all(&body).unwrap();
    let answer = read_answer(&mut first);
    assert_eq!(
        answer.status,
        503,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.header("retry-after").as_deref(), Some("1"));
    assert!(
        answer.json()["error"]
            .as_str()
            .unwrap()
            .contains("Too many open files"),
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    drop(held);
    // Once the collector has closed the connections let go (soon, however loaded the
    // machine), trying again works.
    let start = Instant::now();
    let again = loop {
        let again = request(port, "POST", "/events", None, &body);
        if again.status != 503 || start.elapsed() > crate::common::wait::HANG {
            break again;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        again.status,
        200,
        "{}",
        String::from_utf8_lossy(&again.body)
    );
    let listed = env
        .run(&[
            "--trace-dir",
            storage.to_str().unwrap(),
            "list",
            "--format",
            "json",
        ])
        .json();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["session_id"] == session),
        "{listed}"
    );
    // The held second of failures (one every 50 ms) is one line, and its end says how many
    // went unsaid; the backlog let in once they closed may make a short burst or two more.
    let log = log_of(server);
    let lines: Vec<&str> = log.lines().collect();
    let said = lines
        .iter()
        .position(|l| l.contains("cannot accept a connection: Too many open files"))
        .unwrap_or_else(|| panic!("{log}"));
    let ended = lines[said..]
        .iter()
        .find(|l| l.contains("accepting connections again"))
        .unwrap_or_else(|| panic!("{log}"));
    let unsaid: u64 = ended
        .split("again; ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{log}"));
    assert!((5..=40).contains(&unsaid), "{log}");
    assert!(
        log.matches("cannot accept a connection").count() <= 5,
        "{log}"
    );
}

/// A request with its own `Host` and `Content-Type`, as a web page's would come.
fn request_as(
    port: u16,
    host: &str,
    kind: Option<&str>,
    method: &str,
    path: &str,
    body: &[u8],
) -> Answer {
    let kind = kind.map_or(String::new(), |k| format!("Content-Type: {k}\r\n"));
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{kind}Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    read_answer(&mut stream)
}

/// A web page cannot use a collector on loopback: one whose name was made to resolve to
/// 127.0.0.1 (DNS rebinding) read every session's meta, and any page could create sessions with
/// a `text/plain` POST, which a browser sends anywhere without asking. A request naming another
/// host is refused 403, a body that is not JSON (or OTLP's protobuf) 415, and nothing is stored.
#[test]
fn a_web_page_can_neither_read_nor_write_a_collector_on_loopback() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (server, port) = server(&env, &storage, &[]);
    let meta = json!({"session_id": "s-1", "started_at": 1_700_000_000.0, "agent_name": "mine"});
    let made = request(port, "POST", "/sessions", None, meta.to_string().as_bytes());
    assert_eq!(made.status, 200, "{}", String::from_utf8_lossy(&made.body));
    for path in [
        "/sessions",
        "/sessions/s-1",
        "/sessions/s-1/events",
        "/health",
    ] {
        let read = request_as(
            port,
            &format!("attacker.example:{port}"),
            None,
            "GET",
            path,
            b"",
        );
        assert_eq!(read.status, 403, "{path}");
        assert!(
            !String::from_utf8_lossy(&read.body).contains("mine"),
            "{path}"
        );
    }
    let event = ndjson(&[event(
        "s-2",
        "e-1",
        "user_prompt",
        1_700_000_001.0,
        json!({"prompt": "x"}),
    )]);
    let rebound = request_as(
        port,
        "attacker.example",
        Some("application/x-ndjson"),
        "POST",
        "/events",
        &event,
    );
    assert_eq!(rebound.status, 403);
    for kind in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        for path in ["/events", "/sessions", "/hooks", "/v1/traces", "/v1/logs"] {
            let simple = request_as(
                port,
                &format!("127.0.0.1:{port}"),
                kind,
                "POST",
                path,
                &event,
            );
            assert_eq!(
                simple.status,
                415,
                "{kind:?} to {path}: {}",
                String::from_utf8_lossy(&simple.body)
            );
        }
    }
    assert!(!storage.join("s-2").exists());
    // What our clients send is taken, naming the collector however this machine is named.
    for (host, kind) in [
        ("localhost", "application/x-ndjson"),
        ("[::1]:4317", "application/json; charset=utf-8"),
    ] {
        let taken = request_as(port, host, Some(kind), "POST", "/events", &event);
        assert_eq!(
            taken.status,
            200,
            "{host} {kind}: {}",
            String::from_utf8_lossy(&taken.body)
        );
    }
    let listed = request_as(
        port,
        &format!("localhost:{port}"),
        None,
        "GET",
        "/sessions",
        b"",
    );
    assert_eq!(listed.status, 200);
    let log = log_of(server);
    assert!(log.contains("attacker.example"), "{log}");
}

/// A tokenless collector on loopback refused every request a proxy in front passed its own host
/// on for (`tailscale serve`, Caddy), and the names systems give loopback besides `localhost`:
/// `--allow-host` names the proxy's, and those are this machine's. Refusals for the host draw on
/// the budget of requests that are no client's, so a page cannot flood the log.
#[test]
fn a_loopback_collector_answers_the_hosts_it_is_told_to_and_refuses_others_within_a_budget() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (server, port) = server(
        &env,
        &storage,
        &["--allow-host", "box.tailnet.ts.net", "--rate-limit", "2"],
    );
    for host in [
        "Box.Tailnet.ts.net",
        "localhost.localdomain",
        "ip6-localhost:4317",
    ] {
        let read = request_as(port, host, None, "GET", "/sessions", b"");
        assert_eq!(read.status, 200, "{host}");
        std::thread::sleep(std::time::Duration::from_millis(600));
    }
    let statuses: Vec<u16> = (0..12)
        .map(|_| request_as(port, "attacker.example", None, "GET", "/sessions", b"").status)
        .collect();
    assert!(
        statuses.contains(&403) && statuses.contains(&429),
        "{statuses:?}"
    );
    let log = log_of(server);
    let refusals = log.matches("attacker.example").count();
    assert!(refusals < 12, "{refusals} refusals logged: {log}");
}

/// Beyond loopback the collector is named as its clients reach it (a name, an address, a
/// proxy's), so the host is not checked: the token keeps web pages out, as a browser never sends
/// it of its own accord; a body that is not JSON is refused all the same.
#[test]
fn with_the_token_any_host_is_served() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &["--bind", "0.0.0.0", "--token", "t0k"]);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(b"GET /sessions HTTP/1.1\r\nHost: collector.internal:4317\r\nAuthorization: Bearer t0k\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert_eq!(read_answer(&mut stream).status, 200);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(b"POST /events HTTP/1.1\r\nHost: collector.internal\r\nAuthorization: Bearer t0k\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 3\r\n\r\n{}\n")
        .unwrap();
    assert_eq!(read_answer(&mut stream).status, 415);
    // On loopback with a token too: a TLS proxy in front passes its client's host on.
    let (_server, port) = server(&env, &env.path().join("srv2"), &["--token", "t0k"]);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(b"GET /sessions HTTP/1.1\r\nHost: traces.example.com\r\nAuthorization: Bearer t0k\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert_eq!(read_answer(&mut stream).status, 200);
}

#[test]
fn listening_beyond_loopback_needs_a_token_or_insecure() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let refused = env.run(&[
        "server",
        "--bind",
        "0.0.0.0",
        "--port",
        "0",
        "--storage",
        storage.to_str().unwrap(),
    ]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("without a token"),
        "{}",
        refused.stderr
    );
    let refused = env.run(&[
        "server",
        "--bind",
        "::",
        "--port",
        "0",
        "--storage",
        storage.to_str().unwrap(),
    ]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    for extra in [&["--insecure"][..], &["--token", "t"][..]] {
        let mut args = vec![
            "server",
            "--bind",
            "0.0.0.0",
            "--storage",
            storage.to_str().unwrap(),
        ];
        args.extend(["--port", "0"]);
        args.extend(extra);
        let (server, _) = serve_quietly(env.command(&args));
        assert_eq!(server.terminate(), Some(0), "{extra:?}");
    }
}

#[test]
fn sigterm_finishes_the_requests_in_flight_and_loses_nothing() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (server, port) = server(&env, &storage, &["--rate-limit", "0"]);
    // A request half sent when the signal comes: it must still be stored and answered.
    let slow_events: Vec<Value> = (0..500)
        .map(|i| event("slow", &format!("s{i}"), "decision", 1.0, json!({"i": i})))
        .collect();
    let slow_body = ndjson(&slow_events);
    let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
    slow.write_all(&head("POST", "/events", None, slow_body.len()))
        .unwrap();
    slow.write_all(&slow_body[..slow_body.len() / 2]).unwrap();
    // Clients posting without a pause, before and through the signal.
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let posters: Vec<_> = (0..4)
        .map(|client| {
            let answered = answered.clone();
            std::thread::spawn(move || {
                let mut acknowledged = 0u64;
                for round in 0.. {
                    let batch: Vec<Value> = (0..100)
                        .map(|i| {
                            event(
                                "busy",
                                &format!("c{client}r{round}i{i}"),
                                "decision",
                                1.0,
                                json!({}),
                            )
                        })
                        .collect();
                    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
                        break;
                    };
                    let body = ndjson(&batch);
                    if stream
                        .write_all(&head("POST", "/events", None, body.len()))
                        .is_err()
                        || stream.write_all(&body).is_err()
                    {
                        break;
                    }
                    let mut raw = Vec::new();
                    if stream.read_to_end(&mut raw).is_err() || !raw.starts_with(b"HTTP/1.1 200") {
                        continue;
                    }
                    acknowledged += 100;
                    answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                acknowledged
            })
        })
        .collect();
    // The signal comes once the posters are under way: after a fixed 400 ms, a loaded machine
    // may have answered no batch yet, and it answers none after the signal.
    let started = Instant::now();
    while answered.load(std::sync::atomic::Ordering::SeqCst) < 4 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no batch answered"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut server = server;
    let child = &mut server.0;
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    // The rest of the slow request goes once the collector has taken the signal: it then
    // refuses new connections at once. (After a fixed 200 ms, a loaded machine might not have
    // taken it yet, and the request was no longer one in flight at the signal.)
    wait_until("the collector listens no more", || {
        TcpStream::connect(("127.0.0.1", port)).is_err()
    });
    slow.write_all(&slow_body[slow_body.len() / 2..]).unwrap();
    let answer = read_answer(&mut slow);
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.json()["accepted"], 500);
    let acknowledged: u64 = posters.into_iter().map(|p| p.join().unwrap()).sum();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(acknowledged > 0);
    assert_eq!(stored_lines(&storage, "slow"), 500);
    assert_eq!(
        stored_lines(&storage, "busy") as u64,
        acknowledged,
        "every acknowledged event is stored, and only those"
    );
}

/// A hook payload of Claude Code's for session `session`, in folder `cwd`.
fn payloads(session: &str, cwd: &Path) -> Vec<(&'static str, Value)> {
    let cwd = cwd.to_str().unwrap();
    vec![
        (
            "session-start",
            json!({"session_id": session, "hook_event_name": "SessionStart", "source": "startup", "cwd": cwd}),
        ),
        (
            "pre-tool",
            json!({"session_id": session, "hook_event_name": "PreToolUse", "tool_name": "Bash",
                             "tool_input": {"command": "ls"}, "tool_use_id": "toolu_1", "cwd": cwd}),
        ),
        (
            "post-tool",
            json!({"session_id": session, "hook_event_name": "PostToolUse", "tool_name": "Bash",
                              "tool_input": {"command": "ls"}, "tool_response": {"stdout": "a\nb"}, "tool_use_id": "toolu_1", "cwd": cwd}),
        ),
    ]
}

fn hook_to(
    env: &TestEnv,
    endpoint: &str,
    token: Option<&str>,
    event: &str,
    payload: &Value,
) -> (crate::common::Run, Duration) {
    // The most time a hook may be given for the collector: its default, 60 ms, runs out on a
    // machine loaded enough (two cores under the whole suite), and the hook then records
    // locally, which is what the tests of that fallback see, not these.
    hook_waiting(env, endpoint, token, event, payload, "5000")
}

/// [`hook_to`], the hook given `wait` milliseconds for the collector.
fn hook_waiting(
    env: &TestEnv,
    endpoint: &str,
    token: Option<&str>,
    event: &str,
    payload: &Value,
    wait: &str,
) -> (crate::common::Run, Duration) {
    let mut cmd = env.command(&["hook", event]);
    cmd.env("AGENT_STRACE_ENDPOINT", endpoint)
        .env("AGENT_STRACE_ENDPOINT_WAIT_MS", wait)
        .env_remove("AGENT_STRACE_TOKEN");
    if let Some(token) = token {
        cmd.env("AGENT_STRACE_TOKEN", token);
    }
    let start = Instant::now();
    let run = crate::common::run_with_stdin(cmd, payload.to_string().as_bytes());
    (run, start.elapsed())
}

#[test]
fn hooks_with_an_endpoint_record_into_the_collectors_store() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let project = env.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let (_server, port) = server(&env, &storage, &["--token", "k"]);
    for (event, payload) in payloads("remote-1", &project) {
        let (run, _) = hook_to(
            &env,
            &format!("http://127.0.0.1:{port}"),
            Some("k"),
            event,
            &payload,
        );
        assert_eq!(
            (run.code, run.stdout.as_str(), run.stderr.as_str()),
            (0, "", "")
        );
    }
    assert!(
        !project.join(".agent-traces").exists(),
        "nothing is written locally"
    );
    assert!(!env.store().exists());
    let events: Vec<Value> = std::fs::read_to_string(storage.join("remote-1/events.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["session_start", "tool_call", "tool_result"]);
    assert_eq!(
        events[2]["parent_id"], events[1]["event_id"],
        "the result found its call in the collector's store"
    );
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(storage.join("remote-1/meta.json")).unwrap())
            .unwrap();
    assert_eq!(meta["agent_name"], "claude-code");
    assert_eq!(
        meta["attribution"]["working_dir"],
        project.to_str().unwrap(),
        "who and where come from the hook's machine"
    );
}

/// A call made in a folder other than the one the agent was started in records that folder in
/// the collector's store as in a local one (`audit` judges the call from there): the hook sends
/// where the agent was started (`CLAUDE_PROJECT_DIR`) beside the payload.
#[test]
fn a_call_made_in_another_folder_records_it_at_the_collector() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let project = env.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let src = project.join("src");
    let (_server, port) = server(&env, &storage, &["--token", "k"]);
    let mut steps = payloads("remote-cd", &project);
    steps.push((
        "pre-tool",
        json!({"session_id": "remote-cd", "hook_event_name": "PreToolUse", "tool_name": "Bash",
               "tool_input": {"command": "ls"}, "tool_use_id": "toolu_2", "cwd": src}),
    ));
    for (event, payload) in steps {
        let mut cmd = env.command(&["hook", event]);
        cmd.env("AGENT_STRACE_ENDPOINT", format!("http://127.0.0.1:{port}"))
            .env("AGENT_STRACE_ENDPOINT_WAIT_MS", "5000")
            .env("AGENT_STRACE_TOKEN", "k")
            .env("CLAUDE_PROJECT_DIR", &project);
        let run = crate::common::run_with_stdin(cmd, payload.to_string().as_bytes());
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{event}");
    }
    assert!(!project.join(".agent-traces").exists());
    let folders: Vec<Value> = std::fs::read_to_string(storage.join("remote-cd/events.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["event_type"] == "tool_call")
        .map(|e| e["data"].get("cwd").cloned().unwrap_or_default())
        .collect();
    assert_eq!(folders, [Value::Null, json!(src)]);
}

/// A process named by another machine (or by whoever can post events) is not a process of the
/// collector's machine: `watch` there must never pause or kill it. The collector recorded its
/// own parent as the agent of every hook session sent to it, and kept the pid an event gave.
#[test]
fn the_collector_records_no_process_of_its_own_machine_for_a_session_from_elsewhere() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    let start = &payloads("remote-start", env.path())[0].1;
    let (run, _) = hook_to(
        &env,
        &format!("http://127.0.0.1:{port}"),
        None,
        "session-start",
        start,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stored = std::fs::read_to_string(storage.join("remote-start/events.ndjson")).unwrap();
    assert!(
        !stored.contains("agent_pid"),
        "the collector's parent is no agent: {stored}"
    );

    // An event that names a live process here by its pid and start time.
    let bystander = crate::watch::Proc(Command::new("sleep").arg("30").spawn().unwrap());
    let named = json!({"agent_pid": bystander.pid(),
        "agent_started": crate::common::process_started(bystander.pid())});

    // A hook call whose payload names it, as a session start and as a notification: the
    // payload's fields were kept, and `watch` here killed the process they named.
    for (kind, name) in [
        ("session-start", "SessionStart"),
        ("notification", "Notification"),
    ] {
        let mut payload = json!({"session_id": "forged-hook", "hook_event_name": name,
            "message": "hi", "cwd": env.path()});
        payload
            .as_object_mut()
            .unwrap()
            .extend(named.as_object().unwrap().clone());
        let (run, _) = hook_to(
            &env,
            &format!("http://127.0.0.1:{port}"),
            None,
            kind,
            &payload,
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let stored = std::fs::read_to_string(storage.join("forged-hook/events.ndjson")).unwrap();
    assert_eq!(stored.lines().count(), 2, "{stored}");
    assert!(
        !stored.contains("agent_pid") && !stored.contains("agent_started"),
        "{stored}"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let forged = event("forged", "e1", "session_start", now - 60.0, named);
    let answer = request(port, "POST", "/events", None, &ndjson(&[forged]));
    assert_eq!(answer.status, 200);
    let mut watch = crate::watch::Proc(
        env.command(&[
            "watch",
            "--trace-dir",
            storage.to_str().unwrap(),
            "forged",
            "--timeout",
            "1s",
            "--on-violation",
            "kill",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap(),
    );
    // The session began a minute ago: its rule breaks at once, and the watch says what it did
    // of it. (It was given a fixed 3 s, which a loaded machine may not have started it in.)
    let said = watch.0.stderr.take().unwrap();
    let (lines, said_lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(said)).map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let broke = loop {
        let line = said_lines
            .recv_timeout(Duration::from_secs(60))
            .expect("the watch said nothing of its rule");
        if line.contains("broke") {
            break line;
        }
    };
    assert!(
        broke.contains("no agent process is recorded for this session, so it cannot be killed"),
        "{broke}"
    );
    drop(watch);
    assert_eq!(
        bystander.state().map(|s| s != 'T'),
        Some(true),
        "the process the event named lives on"
    );
}

/// A hook whose collector is down (the connection refused) or silent (it takes the connection
/// and never answers) holds the agent up no longer than its time for the collector, 60 ms by
/// default (docs/deploy.md). This test compared the hook's time with and without a collector
/// ("within 100 ms"): a figure a loaded machine fails, and a fast one passes whatever the hook
/// waited for. It checks what the hook waited for instead, as its log says it.
#[test]
fn with_the_collector_down_or_silent_a_hook_waits_no_longer_than_its_time() {
    let env = TestEnv::new();
    let project = env.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let store = project.join(".agent-traces");
    let payload = |session: &str| json!({"session_id": session, "hook_event_name": "UserPromptSubmit", "prompt": "hi", "cwd": project.to_str().unwrap()});
    let said = || {
        let log = std::fs::read_to_string(store.join("hook-errors.log")).unwrap();
        let line = log.lines().rfind(|l| l.contains("collector"));
        line.unwrap_or_else(|| panic!("{log}")).to_owned()
    };
    // Down, though given five seconds: refused at once, and recorded here. The hook says why,
    // not that no connection opened in its time.
    let nobody = NobodyListens::new();
    let (run, _) = hook_to(&env, &nobody.url(), None, "user-prompt", &payload("down"));
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    assert_eq!(stored_lines(&store, "down"), 1, "recorded here");
    let line = said();
    assert!(
        line.contains("not reached")
            && line.contains("refused")
            && !line.contains("within")
            && line.ends_with("recorded here"),
        "{line}"
    );
    // Silent, with the default time: the hook waits for the answer no longer than 60 ms.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    let (run, _) = hook_waiting(
        &env,
        &silent_url,
        None,
        "user-prompt",
        &payload("silent"),
        "",
    );
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    let line = said();
    let waited: u64 = line
        .split(" within ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(waited <= 60, "{line}");
    // The call is in one store: kept to send again once the collector took the connection (it
    // may be writing the call), or recorded here when none opened in time (a loaded machine).
    if line.contains("no answer within") {
        assert!(line.ends_with("kept to send again"), "{line}");
        assert_eq!(stored_lines(&store, "silent"), 0, "kept");
        assert_eq!(kept_calls(&store), 1);
    } else {
        assert!(
            line.contains("no connection within") && line.ends_with("recorded here"),
            "{line}"
        );
        assert_eq!(stored_lines(&store, "silent"), 1, "recorded here");
        assert_eq!(kept_calls(&store), 0);
    }
    drop(silent);
}

/// How many hook calls `store` keeps to send to the collector again.
fn kept_calls(store: &Path) -> usize {
    std::fs::read_dir(store.join(".spool")).map_or(0, |entries| {
        entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".call"))
            .count()
    })
}

/// A collector that is slow to answer: a relay on its own port that hands each request to the
/// collector at `port` at once (it is stored) and gives its answer back only `late` after.
fn slow_relay(port: u16, late: Duration) -> u16 {
    relay(port, late, |_| false)
}

/// [`slow_relay`]; `gateway_fails`: whether the batch of events numbered so (`/events`, 1 the
/// first) that the collector takes is answered 502, as a gateway whose link to the collector
/// broke after handing the request on.
fn relay(port: u16, late: Duration, gateway_fails: fn(usize) -> bool) -> u16 {
    relay_with(port, late, gateway_fails, true)
}

/// [`relay`]; `hands_on_failed`: whether a batch the gateway fails reached the collector.
fn relay_with(
    port: u16,
    late: Duration,
    gateway_fails: fn(usize) -> bool,
    hands_on_failed: bool,
) -> u16 {
    gateway(port, move |path, batch, _| {
        if path == "/events" && gateway_fails(batch) {
            Pass::Fails {
                handed_on: hands_on_failed,
            }
        } else {
            Pass::After(late)
        }
    })
}

/// What a [`gateway`] does with a request.
#[derive(Clone, Copy)]
enum Pass {
    /// Hands it to the collector at once and gives its answer back this much later.
    After(Duration),
    /// Answers 502, as a gateway whose link to the collector broke; `handed_on`: after handing
    /// the request on.
    Fails { handed_on: bool },
    /// Hands it to the collector at once and never answers: the connection is held until the
    /// client hangs up, so the answer comes after whatever time the client gave it, on any
    /// machine however loaded.
    Never,
    /// As [`Pass::Never`], and the gateway stops listening: a later connection is refused, as
    /// when the link to the collector went down with the request on it.
    Gone,
}

/// A gateway on its own port in front of the collector at `port`, doing with each request what
/// `pass` says for its path, its number if it is a batch (`/events`: 1 the first, 0 for other
/// paths) and its body.
fn gateway(port: u16, pass: impl Fn(&str, usize, &[u8]) -> Pass + Send + Sync + 'static) -> u16 {
    let pass = std::sync::Arc::new(pass);
    let batches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let relay = listener.local_addr().unwrap().port();
    // Set by a request passed as [`Pass::Gone`]: the listener is then closed.
    let gone = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        loop {
            if gone.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            let mut stream = match listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1));
                    continue;
                }
                Err(_) => return,
            };
            stream.set_nonblocking(false).unwrap();
            let batches = batches.clone();
            let pass = pass.clone();
            let gone = gone.clone();
            std::thread::spawn(move || {
                let mut raw = Vec::new();
                let mut buf = [0u8; 4096];
                let (head_end, length) = loop {
                    let n = stream.read(&mut buf).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    raw.extend_from_slice(&buf[..n]);
                    if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&raw[..at]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                        break (at + 4, length);
                    }
                };
                while raw.len() < head_end + length {
                    let n = stream.read(&mut buf).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    raw.extend_from_slice(&buf[..n]);
                }
                let line = String::from_utf8_lossy(&raw[..head_end]).into_owned();
                let path = line.split(' ').nth(1).unwrap().to_owned();
                let batch = if path == "/events" {
                    batches.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1
                } else {
                    0
                };
                let what = pass(&path, batch, &raw[head_end..]);
                let answer = match what {
                    Pass::Fails { handed_on: false } => None,
                    _ => Some(request(port, "POST", &path, None, &raw[head_end..])),
                };
                let answer = match what {
                    Pass::After(late) => {
                        std::thread::sleep(late);
                        answer
                    }
                    Pass::Fails { .. } => None,
                    Pass::Never | Pass::Gone => {
                        if matches!(what, Pass::Gone) {
                            gone.store(true, std::sync::atomic::Ordering::SeqCst);
                        }
                        while stream.read(&mut buf).is_ok_and(|n| n > 0) {}
                        return;
                    }
                };
                let Some(answer) = answer else {
                    let _ = stream.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 11\r\nconnection: close\r\n\r\nBad Gateway");
                    return;
                };
                let reply = format!(
                    "HTTP/1.1 {} OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    answer.status,
                    answer.body.len()
                );
                let _ = stream.write_all(reply.as_bytes());
                let _ = stream.write_all(&answer.body);
            });
        }
    });
    relay
}

/// A hook whose time for the collector runs out while the collector is still writing its
/// event keeps the call and records nothing here; the next hook sends it again first, and the
/// collector, which holds it, records it no second time: the event is in one store, once.
/// (The hook recorded it here too, so it was in both stores.)
#[test]
fn a_hook_event_the_collector_answers_too_late_for_is_in_one_store_once() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let project = env.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let (_server, port) = server(&env, &storage, &[]);
    // The answer comes ten minutes late, so that a hook slow to start on a loaded machine is
    // still told from one that waited for it (it took 0.7 s against an answer 0.8 s late; the
    // bound was then 15 s against 20 s): the hook ends within the minute a test gives a hang.
    let slow = format!(
        "http://127.0.0.1:{}",
        slow_relay(port, Duration::from_secs(600))
    );
    let fast = format!("http://127.0.0.1:{port}");
    let session = "late-answer";
    let payloads = payloads(session, &project);
    let (event, payload) = &payloads[0];
    let (run, took) = hook_waiting(&env, &slow, None, event, payload, "100");
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert!(
        took < crate::common::wait::HANG,
        "{took:?}: waited for the answer"
    );
    let local = project.join(".agent-traces");
    // The relay handed the call on: the collector holds it, the hook kept it.
    let held = || stored_ids(&storage, session).len();
    wait_until("the collector holds the call", || held() > 0);
    assert_eq!(held(), 1);
    assert_eq!(stored_lines(&local, session), 0, "nothing recorded here");
    assert_eq!(kept_calls(&local), 1);
    for (event, payload) in &payloads[1..] {
        let (run, _) = hook_to(&env, &fast, None, event, payload);
        assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    }
    assert_eq!(kept_calls(&local), 0, "sent again");
    let ids = stored_once(&storage, session, 3);
    let events: Vec<Value> = std::fs::read_to_string(storage.join(session).join("events.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["session_start", "tool_call", "tool_result"],
        "{ids:?}"
    );
    assert_eq!(stored_lines(&local, session), 0, "nothing recorded here");
}

#[test]
fn a_hook_waits_for_the_collector_as_long_as_the_environment_says_within_bounds() {
    let env = TestEnv::new();
    let project = env.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let store = project.join(".agent-traces");
    let waited = |session: &str, wait: &str| {
        let payload = json!({"session_id": session, "hook_event_name": "UserPromptSubmit", "prompt": "hi", "cwd": project.to_str().unwrap()});
        let mut cmd = env.command(&["hook", "user-prompt"]);
        cmd.env("AGENT_STRACE_ENDPOINT", &url)
            .env("AGENT_STRACE_ENDPOINT_WAIT_MS", wait)
            .env_remove("AGENT_STRACE_TOKEN");
        let start = Instant::now();
        let run = crate::common::run_with_stdin(cmd, payload.to_string().as_bytes());
        let took = start.elapsed();
        assert_eq!((run.code, run.stdout.as_str()), (0, ""));
        assert_eq!(stored_lines(&store, session), 0, "{session} kept");
        let log = std::fs::read_to_string(store.join("hook-errors.log")).unwrap();
        // "no answer within N ms", or on a machine loaded enough that the connection opened
        // late, "no connection within N ms".
        let said: u64 = log
            .lines()
            .last()
            .and_then(|l| l.split(" within ").nth(1))
            .and_then(|l| l.split(' ').next())
            .and_then(|ms| ms.parse().ok())
            .unwrap_or_else(|| panic!("{log}"));
        (took, said)
    };
    // It waited the time given, longer than the default 60 ms: its own time shows it (a bound
    // below, which no load breaks), and so does the time it says it left for the answer, more
    // than the default (this asked for more than 300 ms: a loaded machine's start of the hook
    // can take more than 100 ms of the 400).
    let (took, said) = waited("longer", "400");
    assert!(
        took >= Duration::from_millis(390) && said > 60,
        "{took:?} {said}"
    );
    // Past the bound, or not a number: the default.
    for (session, wait) in [
        ("too-long", "60000"),
        ("not-a-number", "soon"),
        ("zero", "0"),
    ] {
        let (_, said) = waited(session, wait);
        assert!(said <= 60, "{wait}: {said}");
    }
    drop(silent);
}

#[test]
fn the_python_tools_hooks_and_reader_work_with_the_collector() {
    let cli = std::env::var_os("AGENT_STRACE_PYTHON").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyvenv/bin/agent-strace"),
        PathBuf::from,
    );
    let python = cli.with_file_name("python");
    assert!(
        python.exists(),
        "the Python tool's venv is needed: {}",
        python.display()
    );
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &["--token", "py-key"]);
    let endpoint = format!("http://127.0.0.1:{port}");
    for (event, payload) in payloads("py-1", env.path()) {
        let mut cmd = Command::new(&cli);
        cmd.args(["hook", event])
            .current_dir(env.path())
            .env("AGENT_STRACE_ENDPOINT", &endpoint)
            .env("AGENT_STRACE_AUTH_KEY", "py-key")
            .env("HOME", env.home.path());
        let run = crate::common::run_with_stdin(cmd, payload.to_string().as_bytes());
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let kinds: Vec<String> = std::fs::read_to_string(storage.join("py-1/events.ndjson"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["event_type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(kinds.contains(&"tool_call".to_owned()), "{kinds:?}");
    // Its collector client reads the sessions and events back, and checks that reads need
    // the key.
    let script = format!(
        "import json\nfrom agent_trace.collector_client import CollectorClient\n\
         c = CollectorClient('{endpoint}', 'py-key')\nm = [s for s in c.list_sessions() if s.session_id == 'py-1'][0]\n\
         print(json.dumps({{'sessions': len(c.list_sessions()), 'events': len(c.load_events(m))}}))\n"
    );
    let out = Command::new(&python)
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(read["sessions"], 1);
    assert_eq!(read["events"].as_u64().unwrap() as usize, kinds.len());
}

#[test]
fn a_proxy_with_an_endpoint_records_its_session_at_the_collector() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &["--token", "k"]);
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "echo", "arguments": {"text": "hi"}}});
    let input = format!("{call}\n{call}\n");
    let mut cmd = record_to(&env, &format!("http://127.0.0.1:{port}"));
    cmd.env("AGENT_STRACE_TOKEN", "k");
    let run = crate::common::run_with_stdin(cmd, input.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, input, "the traffic passes unchanged");
    assert!(!env.store().exists(), "nothing is written locally");
    let sessions: Vec<_> = std::fs::read_dir(&storage)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .collect();
    assert_eq!(sessions.len(), 1);
    let id = sessions[0].file_name().into_string().unwrap();
    let events: Vec<Value> = std::fs::read_to_string(storage.join(&id).join("events.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"session_start"));
    assert_eq!(kinds.last(), Some(&"session_end"));
    assert_eq!(
        kinds.iter().filter(|k| **k == "tool_call").count(),
        4,
        "{kinds:?}"
    );
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(storage.join(&id).join("meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["agent_name"], "cat");
    assert!(meta["attribution"]["hostname"].is_string(), "{meta}");
    assert!(meta["ended_at"].is_number(), "{meta}");
}

#[test]
fn a_proxy_whose_collector_is_down_records_locally() {
    let env = TestEnv::new();
    let mut cmd = env.command(&["record", "--name", "cat", "--", "cat"]);
    let nobody = NobodyListens::new();
    cmd.env("AGENT_STRACE_ENDPOINT", nobody.url());
    let line = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
    let run = crate::common::run_with_stdin(cmd, line.as_bytes());
    assert_eq!((run.code, run.stdout.as_str()), (0, line));
    let sessions = env.sessions();
    assert_eq!(sessions.len(), 1);
    let kinds: Vec<String> = env
        .events(&sessions[0])
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("session_start"));
    assert_eq!(kinds.last().map(String::as_str), Some("session_end"));
}

/// Gemini CLI's hooks drop a response's cached count; the hook on the agent's machine reads it
/// from Gemini's chat and sends it, so the collector (which reads no path a client names)
/// records the same exact counts a local store does.
#[test]
fn gemini_hooks_through_the_collector_keep_the_chats_exact_counts() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    let endpoint = format!("http://127.0.0.1:{port}");
    crate::agent_gemini::play_with_a_growing_chat(env.path(), |payload| {
        let event = payload["hook_event_name"].as_str().unwrap();
        let (run, _) = hook_to(&env, &endpoint, None, event, payload);
        assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    });
    let session = "629cab06-47bb-41bc-afb3-1479ecd94e67";
    let responses: Vec<Value> =
        std::fs::read_to_string(storage.join(session).join("events.ndjson"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["event_type"] == "llm_response")
            .collect();
    assert_eq!(responses.len(), 2);
    let usage = &responses[0]["data"]["usage"];
    assert_eq!(
        (&usage["input_tokens"], &usage["cache_read_input_tokens"]),
        (&json!(30), &json!(20)),
        "{usage}"
    );
}

/// A streamed response the collector cannot fold (a folder someone put where its file goes) is
/// logged there; the hook's event is recorded once, in the collector's store, and answered 200,
/// where a 500 made the hook record it a second time on its own machine.
#[test]
fn a_response_the_collector_cannot_fold_never_records_an_event_twice() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (server, port) = server(&env, &storage, &[]);
    let endpoint = format!("http://127.0.0.1:{port}");
    let session = "629cab06-47bb-41bc-afb3-1479ecd94e67";
    for payload in crate::agent_gemini::recorded_payloads() {
        let event = payload["hook_event_name"].as_str().unwrap().to_owned();
        if event == "BeforeTool" {
            std::fs::create_dir_all(storage.join(session).join(".response.taken/x")).unwrap();
        }
        // The collector folds the response, reading Gemini's chat: on a busy machine that
        // took longer than a hook's 60 ms, and the hook recorded here as well.
        let mut cmd = env.command(&["hook", &event]);
        cmd.env("AGENT_STRACE_ENDPOINT", &endpoint)
            .env("AGENT_STRACE_ENDPOINT_WAIT_MS", "5000")
            .env_remove("AGENT_STRACE_TOKEN");
        let run = crate::common::run_with_stdin(cmd, payload.to_string().as_bytes());
        assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    }
    assert_eq!(tool_calls_at_the_collector_only(&env, &storage, session), 1);
    assert!(log_of(server).contains("a streamed response was not recorded"));
}

/// The tool calls of `session` in the collector's store, once it is checked that the hooks did
/// not record the session here as well.
fn tool_calls_at_the_collector_only(env: &TestEnv, storage: &Path, session: &str) -> usize {
    assert!(
        !env.store().join(session).exists(),
        "recorded again here: {:?}",
        std::fs::read_to_string(env.store().join("hook-errors.log"))
    );
    std::fs::read_to_string(storage.join(session).join("events.ndjson"))
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"tool_call\""))
        .count()
}

/// The status of small `POST /events` requests until one is `want`, for at most five seconds
/// (the collector takes the slow clients' requests as their connections arrive).
fn status_becomes(port: u16, session: &str, want: u16) -> Answer {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let line = ndjson(&[event(session, "s1", "decision", 1.0, json!({}))]);
        let answer = request(port, "POST", "/events", None, &line);
        if answer.status == want || Instant::now() > deadline {
            return answer;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn requests_beyond_the_room_in_flight_get_503_and_health_still_answers() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let project = env.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let (_server, port) = server(&env, &storage, &[]);
    // Clients that declare the largest body and send it slowly: sixteen of them hold all the
    // room there is (256 MiB). Before, each was taken, and the collector's memory had no bound.
    let slow: Vec<TcpStream> = (0..16)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            stream
                .write_all(&head("POST", "/events", None, 16 * 1024 * 1024))
                .unwrap();
            stream.write_all(b"{\"event_type\": ").unwrap();
            stream
        })
        .collect();
    let full = status_becomes(port, "probe", 503);
    assert_eq!(full.status, 503, "{}", String::from_utf8_lossy(&full.body));
    assert_eq!(full.header("retry-after").as_deref(), Some("1"));
    assert!(full.json()["error"].as_str().unwrap().contains("in flight"));
    // A health check never waits for room.
    let health = request(port, "GET", "/health", None, b"");
    assert_eq!(
        (health.status, health.json()["status"].clone()),
        (200, json!("ok"))
    );
    // A hook whose collector has no room keeps its call to send again, and says why.
    let payload = json!({"session_id": "full-1", "hook_event_name": "UserPromptSubmit", "prompt": "hi", "cwd": project.to_str().unwrap()});
    let (run, _) = hook_to(
        &env,
        &format!("http://127.0.0.1:{port}"),
        None,
        "user-prompt",
        &payload,
    );
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    let local = project.join(".agent-traces");
    assert_eq!(stored_lines(&local, "full-1"), 0);
    assert_eq!(kept_calls(&local), 1);
    // Why: the 503, or, on a machine loaded enough that the answer comes after the hook's
    // time for the collector is up, that no answer came in time (CI under a load of 11).
    let log = std::fs::read_to_string(local.join("hook-errors.log")).unwrap();
    assert!(
        (log.contains("503") || log.contains("no answer within"))
            && log.contains("kept to send again"),
        "{log}"
    );
    // The room comes back once the slow clients' bodies are overdue (10 s), even while they
    // hold their connections, and nothing of theirs was stored. (Asked again for a minute at
    // most: a fixed 9 s and ten more left a loaded machine 19 s.)
    let deadline = Instant::now() + Duration::from_secs(60);
    let back = loop {
        let line = ndjson(&[event("small", "s1", "decision", 1.0, json!({}))]);
        let answer = request(port, "POST", "/events", None, &line);
        if answer.status == 200 || Instant::now() > deadline {
            break answer;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(back.status, 200, "the room never came back");
    let mut overdue = slow.into_iter().next().unwrap();
    assert_eq!(read_answer(&mut overdue).status, 408);
    assert_eq!(stored_lines(&storage, "small"), 1);
}

/// Clients that open connections and send a few bytes of a request, then nothing (slowloris),
/// held every file descriptor the collector had for as long as they liked: nobody else was
/// served again. Each such connection is now closed after a while, and others get in.
#[test]
fn half_open_connections_are_closed_so_that_others_are_served_again() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    // Few descriptors, so that a hundred connections take them all.
    let mut command = Command::new("sh");
    command
        .args(["-c", "ulimit -n 64 && exec \"$0\" \"$@\""])
        .arg(crate::common::bin())
        .args(["server", "--port", "0", "--storage"])
        .arg(&storage)
        .env("AGENT_STRACE_HOME", env.home.path())
        .stdout(Stdio::null());
    let (_server, port) = serve_quietly(command);
    let held: Vec<TcpStream> = (0..100)
        .filter_map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
            stream
                .write_all(b"POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                .ok()?;
            Some(stream)
        })
        .collect();
    assert!(held.len() > 64, "the connections were made");
    let health = || -> Option<Vec<u8>> {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).ok()?;
        Some(answer)
    };
    let start = Instant::now();
    let answer = loop {
        if let Some(answer) = health().filter(|a| a.starts_with(b"HTTP/1.1 200")) {
            break answer;
        }
        assert!(
            start.elapsed() < crate::common::wait::HANG,
            "the collector serves nobody while half-open connections hold it"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(String::from_utf8_lossy(&answer).contains("\"status\":\"ok\""));
    drop(held);
}

/// One client could hold as many connections as the collector had descriptors (1,024 by
/// default), sending nothing, and each for the head's wait of 10 s at a time: the hooks of every
/// other machine then had none. A client now holds at most `--connections-per-client` (128
/// unless set); past it, its new connections get a 503 with `Retry-After` at once, said in the
/// log once a minute at most, and a hook of that client records its event in its own store, losing nothing. As its
/// connections close, it is served again.
#[test]
fn one_client_holds_at_most_its_share_of_connections() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (server, port) = server(&env, &storage, &["--connections-per-client", "3"]);
    // Three connections kept open after one request each, so that each is known to be held
    // (the connection that found the port open may still be counted for a moment).
    let mut held: Vec<TcpStream> = Vec::new();
    let start = Instant::now();
    while held.len() < 3 {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .unwrap();
        let mut answer = [0u8; 12];
        stream.read_exact(&mut answer).unwrap();
        match &answer {
            b"HTTP/1.1 200" => held.push(stream),
            b"HTTP/1.1 503" => {
                assert!(
                    start.elapsed() < crate::common::wait::HANG,
                    "refused for a minute"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            other => panic!("{}", String::from_utf8_lossy(other)),
        }
    }
    for _ in 0..2 {
        let answer = request(port, "GET", "/health", None, b"");
        assert_eq!(answer.status, 503, "{}", answer.head);
        assert_eq!(answer.header("retry-after").as_deref(), Some("1"));
        assert!(String::from_utf8_lossy(&answer.body).contains("too many connections"));
    }
    // A hook turned away keeps its call for the collector, and records nothing here.
    let project = env.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let (event, payload) = payloads("turned-away", &project).remove(0);
    let (run, _) = hook_to(
        &env,
        &format!("http://127.0.0.1:{port}"),
        None,
        event,
        &payload,
    );
    assert_eq!(run.code, 0, "{run:?}");
    let local = project.join(".agent-traces");
    assert_eq!(
        (kept_calls(&local), stored_lines(&local, "turned-away")),
        (1, 0),
        "{run:?} {:?}",
        std::fs::read_to_string(local.join("hook-errors.log"))
    );
    assert!(!storage.join("turned-away").exists());

    drop(held);
    let start = Instant::now();
    loop {
        if request(port, "GET", "/health", None, b"").status == 200 {
            break;
        }
        assert!(
            start.elapsed() < crate::common::wait::HANG,
            "served again once its connections closed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = log_of(server);
    let turned: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("turning away connections of 127.0.0.1"))
        .collect();
    assert_eq!(turned.len(), 1, "said once, not once a connection: {log}");
}

/// Clients that asked for a large session's events and never read the answer held their
/// connection, a descriptor and the session's open file for ever: enough of them, and nobody
/// was served again. A response that the client takes nothing of for the stall limit (30 s;
/// 3 s here, by the hidden `--stall-limit`) now ends: its connection is closed, the collector
/// logs it, and others get in.
#[test]
fn readers_that_never_read_are_cut_off_so_that_others_are_served_again() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let dir = storage.join("big");
    std::fs::create_dir_all(&dir).unwrap();
    // Far more than the socket buffers of a client that reads nothing take.
    let mut file = Vec::with_capacity(17 << 20);
    let mut n = 0;
    while file.len() < 16 << 20 {
        let line = event(
            "big",
            &format!("e{n}"),
            "tool_call",
            1.0,
            json!({"tool_name": "Bash", "arguments": {"command": "x".repeat(1000)}}),
        );
        file.extend(line.to_string().bytes());
        file.push(b'\n');
        n += 1;
    }
    std::fs::write(dir.join("events.ndjson"), &file).unwrap();
    // Few descriptors: each reader holds two (its connection and the session's file).
    let mut command = Command::new("sh");
    command
        .args(["-c", "ulimit -n 64 && exec \"$0\" \"$@\""])
        .arg(crate::common::bin())
        .args(["server", "--stall-limit", "3", "--port", "0"])
        .arg("--storage")
        .arg(&storage)
        .env("AGENT_STRACE_HOME", env.home.path())
        .stdout(Stdio::null());
    let (mut server, port) = serve(command);
    let (line_tx, lines) = std::sync::mpsc::channel::<String>();
    let stderr = std::io::BufReader::new(server.0.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(stderr).map_while(Result::ok) {
            let _ = line_tx.send(line);
        }
    });
    let start = Instant::now();
    // Readers one after another, each once its answer has begun (seen without taking it),
    // until the collector can open the session for no more. Its answer may be slow to begin
    // on a loaded machine (half a second, the wait before, is little there: a slow answer
    // ended the readers early), and the time a reader waits here only brings its cut-off
    // sooner, which the checks below allow.
    let mut held = Vec::new();
    for _ in 0..64 {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .write_all(&head("GET", "/sessions/big/events", None, 0))
            .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut begun = [0u8; 12];
        match stream.peek(&mut begun) {
            Ok(12) if &begun == b"HTTP/1.1 200" => held.push(stream),
            _ => break,
        }
    }
    assert!(held.len() > 10, "{} readers held", held.len());
    // A reader the file could not be opened for frees its connection's descriptor; a request
    // that sends half its head takes it (for 10 s, HEAD_WAIT).
    let half_open: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            stream.write_all(b"GET /health HTTP/1.1\r\n").unwrap();
            stream
        })
        .collect();
    let health = || -> Option<Vec<u8>> {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_millis(500)))
            .ok()?;
        stream.write_all(&head("GET", "/health", None, 0)).ok()?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).ok()?;
        Some(answer).filter(|a| a.starts_with(b"HTTP/1.1 200"))
    };
    // While the readers hold every descriptor, nobody is served: checked before the first
    // reader's limit is up.
    let blocked = health();
    if start.elapsed() < Duration::from_millis(2500) {
        assert!(
            blocked.is_none(),
            "the readers did not hold the descriptors"
        );
    }
    // Served again once they are cut off. When that is depends on the machine's load: a
    // reader's clock starts only once the socket buffers between it and the collector are
    // full, which under a load of 11 took 8 s. Without the limit the half-open requests' time
    // out frees a descriptor too, so what tells the limit apart is the log below: every
    // reader cut off.
    let answer = loop {
        if let Some(answer) = health() {
            break answer;
        }
        assert!(
            start.elapsed() < crate::common::wait::HANG,
            "the collector serves nobody while readers that never read hold it"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(String::from_utf8_lossy(&answer).contains("\"status\":\"ok\""));
    // Every reader is cut off once its limit is up, not only the first, each logged once.
    let mut log = Vec::new();
    let cut = |log: &[String]| {
        log.iter()
            .filter(|l| l.contains("it took nothing of its response for 3 s"))
            .count()
    };
    // A minute of its own: under load the wait above may have taken most of one from the
    // start (20 of 26 readers were cut within it, three runs of the suite beside two `yes`).
    let cutting = Instant::now();
    while cut(&log) < held.len() && cutting.elapsed() < crate::common::wait::HANG {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
            log.push(line);
        }
    }
    assert_eq!(cut(&log), held.len(), "{log:#?}");
    drop((held, half_open, server));
}

#[test]
fn a_secret_in_the_endpoints_url_never_reaches_the_hooks_log() {
    let env = TestEnv::new();
    let project = env.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let nobody = NobodyListens::new();
    let port = nobody.port();
    let payload = json!({"session_id": "url-1", "hook_event_name": "UserPromptSubmit", "prompt": "hi", "cwd": project.to_str().unwrap()});
    for url in [
        format!("http://user:S3cretPassw0rd99@127.0.0.1:{port}"),
        format!("http://127.0.0.1:{port}/?token=ghp_S3cretPassw0rd99"),
        // A password with an unencoded `/`, `?` or `#`: a parser ends the host there, and the
        // masking once took the password's end for the host and path.
        format!("http://user:S3cret/Passw0rd99@127.0.0.1:{port}/v1"),
        format!("http://user:S3cret?Passw0rd99@127.0.0.1:{port}"),
        format!("http://user:S3cret#Passw0rd99@127.0.0.1:{port}"),
    ] {
        let (run, _) = hook_to(&env, &url, None, "user-prompt", &payload);
        assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    }
    // In the project's store, where the events went: an endpoint that does not read once made
    // a store in the hook's own folder for its log, and the project's sessions went there.
    let local = project.join(".agent-traces");
    assert_eq!(stored_lines(&local, "url-1"), 5, "recorded here every time");
    assert!(!env.store().exists());
    let log = std::fs::read_to_string(local.join("hook-errors.log")).unwrap();
    assert_eq!(log.lines().count(), 5, "{log}");
    assert!(
        !log.contains("S3cret") && !log.contains("Passw0rd99"),
        "{log}"
    );
    assert!(
        log.contains("***@127.0.0.1") && log.contains("?***"),
        "{log}"
    );
}

/// A session whose first request made its `meta.json` and then could not make its `.counters`
/// (out of file descriptors) is skipped by the retry's creation step: the retry's catch-up of
/// meta makes the cache (its lock file) and counts the events from the start, so the session is
/// counted as ours, in meta, in `GET /sessions` and in `list`. A guard: nothing needed fixing.
#[test]
fn a_retry_counts_a_session_its_first_request_left_without_counters() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let dir = storage.join("half");
    std::fs::create_dir_all(&dir).unwrap();
    // What the first request left: the collector's meta, no `.counters`, no events.
    std::fs::write(
        dir.join("meta.json"),
        json!({"session_id": "half", "started_at": 1_700_000_001.0}).to_string(),
    )
    .unwrap();
    let (_server, port) = server(&env, &storage, &[]);
    let batch = ndjson(&[
        event(
            "half",
            "e1",
            "tool_call",
            1_700_000_001.0,
            json!({"tool_name": "Bash", "arguments": {"command": "make"}}),
        ),
        json!({"event_type": "error", "timestamp": 1_700_000_002.0, "event_id": "e2", "session_id": "half",
               "parent_id": "e1", "data": {"tool_name": "Bash", "error": "make: *** failed"}}),
    ]);
    assert_eq!(request(port, "POST", "/events", None, &batch).status, 200);
    assert!(dir.join(".counters").is_file());
    let counted = |m: &Value| (m["tool_calls"].clone(), m["errors"].clone());
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    assert_eq!(counted(&meta), (json!(1), json!(1)), "{meta}");
    let listed = request(port, "GET", "/sessions", None, b"").json();
    assert_eq!(counted(&listed[0]), (json!(1), json!(1)), "{listed}");
    let list = env.run(&[
        "--trace-dir",
        storage.to_str().unwrap(),
        "list",
        "--format",
        "json",
    ]);
    assert_eq!(
        counted(&list.json()[0]),
        (json!(1), json!(1)),
        "{}",
        list.stdout
    );
}

/// A batch whose events were written but whose session's `meta.json` then could not be updated
/// (here a folder stands where it goes) is answered 200: a 500 made the client send the batch
/// again, and every event of it was stored once more. The counters still come from the events.
#[test]
fn a_batch_whose_meta_cannot_be_updated_is_taken_once_and_a_retry_stores_nothing_twice() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (server, port) = server(&env, &storage, &[]);
    let session = "retried";
    let first = ndjson(&[event(
        session,
        "e0",
        "session_start",
        1_700_000_000.0,
        json!({}),
    )]);
    assert_eq!(request(port, "POST", "/events", None, &first).status, 200);
    let meta = storage.join(session).join("meta.json");
    std::fs::remove_file(&meta).unwrap();
    std::fs::create_dir_all(meta.join("x")).unwrap();
    let batch = ndjson(&[
        event(
            session,
            "e1",
            "tool_call",
            1_700_000_001.0,
            json!({"tool_name": "Bash", "arguments": {"command": "make"}}),
        ),
        event(
            session,
            "e2",
            "tool_call",
            1_700_000_002.0,
            json!({"tool_name": "Read", "arguments": {"file_path": "a.rs"}}),
        ),
    ]);
    // A client sends a batch again until it is taken, as the Python tool's does.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let answer = request(port, "POST", "/events", None, &batch);
        statuses.push(answer.status);
        if answer.status == 200 {
            assert_eq!(answer.json()["accepted"], 2);
            break;
        }
    }
    assert_eq!(statuses, [200]);
    assert_eq!(stored_lines(&storage, session), 3);
    let shown = env.run(&[
        "--trace-dir",
        storage.to_str().unwrap(),
        "list",
        "--format",
        "json",
    ]);
    assert_eq!(shown.json()[0]["tool_calls"], 2, "{}", shown.stdout);
    assert!(log_of(server).contains("cannot update its meta"));
}

/// The ids of the events of a session that read (a torn line is no event).
fn stored_ids(storage: &Path, session: &str) -> Vec<String> {
    std::fs::read_to_string(storage.join(session).join("events.ndjson"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Asserts that `ids` are `count` ids, each there once.
fn assert_each_once(ids: &[String], count: usize) {
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(
        (ids.len(), unique.len()),
        (count, count),
        "{count} ids, each once: {ids:?}"
    );
}

/// Asserts that the collector's `storage` holds `count` events of `session`, each once; their
/// ids.
fn stored_once(storage: &Path, session: &str, count: usize) -> Vec<String> {
    let ids = stored_ids(storage, session);
    assert_each_once(&ids, count);
    ids
}

/// A batch spanning two sessions whose second one cannot be written (a folder stands where its
/// events go) is answered 500 with the first session's events counted; sent again whole once
/// the second can be written, the first session's events are skipped, not stored twice.
#[test]
fn a_batch_sent_again_after_a_later_session_failed_stores_the_first_sessions_once() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let blocked = storage.join("second").join("events.ndjson");
    std::fs::create_dir_all(&blocked).unwrap();
    let (_server, port) = server(&env, &storage, &[]);
    let call = |session, id, at| {
        event(
            session,
            id,
            "tool_call",
            at,
            json!({"tool_name": "Bash", "arguments": {"command": id}}),
        )
    };
    let batch = ndjson(&[
        call("first", "a1", 1_700_000_001.0),
        call("first", "a2", 1_700_000_002.0),
        call("second", "b1", 1_700_000_003.0),
        call("first", "a3", 1_700_000_004.0),
    ]);
    let answer = request(port, "POST", "/events", None, &batch);
    assert_eq!(
        answer.status,
        500,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.json()["accepted"], 3);
    std::fs::remove_dir(&blocked).unwrap();
    let answer = request(port, "POST", "/events", None, &batch);
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(
        (&answer.json()["accepted"], &answer.json()["duplicates"]),
        (&json!(4), &json!(3))
    );
    assert_eq!(stored_ids(&storage, "first"), ["a1", "a2", "a3"]);
    assert_eq!(stored_ids(&storage, "second"), ["b1"]);
    let shown = env.run(&[
        "--trace-dir",
        storage.to_str().unwrap(),
        "list",
        "--format",
        "json",
    ]);
    let calls: u64 = shown
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["tool_calls"].as_u64().unwrap())
        .sum();
    assert_eq!(calls, 4, "{}", shown.stdout);
}

/// Clients that send the same batch at the same moment (a retry racing the request it
/// retries) store it once: one request at a time writes a session, the others skip what it
/// wrote.
#[test]
fn the_same_batch_sent_at_once_by_many_clients_is_stored_once() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    let events: Vec<Value> = (0..300)
        .map(|n| {
            event(
                "raced",
                &format!("e{n}"),
                "tool_call",
                1_700_000_000.0 + f64::from(n),
                json!({"tool_name": "Read", "arguments": {"file_path": format!("{n}.rs")}}),
            )
        })
        .collect();
    let batch = ndjson(&events);
    let answers: Vec<Value> = std::thread::scope(|scope| {
        let sent: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| request(port, "POST", "/events", None, &batch)))
            .collect();
        sent.into_iter()
            .map(|s| {
                let answer = s.join().unwrap();
                assert_eq!(answer.status, 200);
                answer.json()
            })
            .collect()
    });
    stored_once(&storage, "raced", 300);
    let duplicates: u64 = answers
        .iter()
        .map(|a| a["duplicates"].as_u64().unwrap())
        .sum();
    assert_eq!(duplicates, 3 * 300, "{answers:?}");
}

/// Events sent without an `event_id` are given one made from their line: the same batch sent
/// again (its answer lost) stores none of them twice, while events that differ are each kept.
#[test]
fn a_batch_without_event_ids_sent_again_is_stored_once() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    let events: Vec<Value> = (0..5)
        .map(|n| {
            json!({"event_type": "tool_call", "timestamp": 1_700_000_000.0 + f64::from(n),
                "session_id": "unnamed", "data": {"tool_name": "Read", "arguments": {"file_path": "a.rs"}}})
        })
        .collect();
    let batch = ndjson(&events);
    for duplicates in [0, 5] {
        let answer = request(port, "POST", "/events", None, &batch);
        assert_eq!(answer.status, 200);
        assert_eq!(
            (&answer.json()["accepted"], &answer.json()["duplicates"]),
            (&json!(5), &json!(duplicates))
        );
    }
    stored_once(&storage, "unnamed", 5);
}

/// A collector whose files cannot grow past 32 KiB (a disk that fills up; a soft limit, which
/// [`free_the_disk`] lifts), as [`server`] starts one.
fn server_on_a_full_disk(env: &TestEnv, storage: &Path) -> (Background, u16) {
    let command = env.command(&[
        "server",
        "--port",
        "0",
        "--storage",
        storage.to_str().unwrap(),
    ]);
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -S -f 64; exec \"$0\" \"$@\"")
        .arg(command.get_program())
        .args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => shell.env(name, value),
            None => shell.env_remove(name),
        };
    }
    shell.stdout(Stdio::null());
    serve(shell)
}

/// Lets the collector's files grow again, as when the disk has room again.
fn free_the_disk(server: &Background) {
    let status = Command::new("prlimit")
        .arg("--pid")
        .arg(server.0.id().to_string())
        .arg("--fsize=unlimited:")
        .status()
        .unwrap();
    assert!(status.success());
}

/// Events of one session, about 1 KiB each.
fn large_events(session: &str, count: u32) -> Vec<Value> {
    (0..count)
        .map(|n| {
            event(
                session,
                &format!("e{n}"),
                "tool_call",
                1_700_000_000.0 + f64::from(n),
                json!({"tool_name": "Bash", "arguments": {"command": format!("{n} {}", "x".repeat(1000))}}),
            )
        })
        .collect()
}

/// A batch over 64 KiB whose write is cut short by a full disk leaves its first events stored:
/// the answer counts them, and the batch sent again once there is room stores each event once.
#[test]
fn a_batch_cut_short_by_a_full_disk_and_sent_again_stores_each_event_once() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (server, port) = server_on_a_full_disk(&env, &storage);
    let batch = ndjson(&large_events("cut", 100));
    assert!(batch.len() > 64 * 1024);
    let answer = request(port, "POST", "/events", None, &batch);
    assert_eq!(
        answer.status,
        500,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let landed = stored_ids(&storage, "cut");
    assert!(!landed.is_empty() && landed.len() < 100, "{landed:?}");
    assert_eq!(answer.json()["accepted"], landed.len(), "{}", answer.json());
    free_the_disk(&server);
    let answer = request(port, "POST", "/events", None, &batch);
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.json()["duplicates"], landed.len());
    stored_once(&storage, "cut", 100);
}

/// A collector started again knows what its session files end with: a batch whose answer was
/// lost as the first collector stopped, sent again to the next, is not stored twice.
#[test]
fn a_batch_sent_again_to_a_restarted_collector_is_not_stored_twice() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let batch = ndjson(&large_events("restarted", 20));
    let (first, port) = server(&env, &storage, &[]);
    assert_eq!(request(port, "POST", "/events", None, &batch).status, 200);
    drop(log_of(first));
    let (_server, port) = server(&env, &storage, &[]);
    let answer = request(port, "POST", "/events", None, &batch);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["duplicates"], 20);
    stored_once(&storage, "restarted", 20);
}

/// A batch larger than the tail a collector started again reads (1 MiB) is recognised whole:
/// only its last events were, and its first one was stored twice.
#[test]
fn a_batch_larger_than_the_tail_sent_again_to_a_restarted_collector_is_not_stored_twice() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let events: Vec<Value> = (0..4)
        .map(|n| {
            event(
                "dup1",
                &format!("big{n}"),
                "tool_result",
                1_700_000_000.0 + f64::from(n),
                json!({"tool_name": "Read", "output": format!("{n} {}", "y".repeat(400_000))}),
            )
        })
        .collect();
    let batch = ndjson(&events);
    assert!(batch.len() > 3 * 512 * 1024);
    let (first, port) = server(&env, &storage, &[]);
    let answer = request(port, "POST", "/events", None, &batch);
    assert_eq!(
        (answer.status, answer.json()["accepted"].clone()),
        (200, json!(4))
    );
    drop(log_of(first));
    let (_server, port) = server(&env, &storage, &[]);
    let answer = request(port, "POST", "/events", None, &batch);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["duplicates"], 4, "{}", answer.json());
    stored_once(&storage, "dup1", 4);
}

/// A collector forwarding to a backend that takes connections and never answers (a black hole)
/// stops within a few seconds of SIGTERM and logs what it did not forward: it waited 30 s,
/// saying nothing of the session it was sending.
#[test]
fn sigterm_with_a_silent_forwarding_backend_stops_soon_and_says_what_was_not_forwarded() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", hole.local_addr().unwrap().port());
    let taken = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = taken.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in hole.incoming().flatten() {
            held.push(stream);
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let (server, port) = server(&env, &storage, &["--forward-otlp", &url]);
    let batch = ndjson(&[event(
        "fw1",
        "f1",
        "user_prompt",
        1_700_000_001.0,
        json!({"prompt": "go"}),
    )]);
    assert_eq!(request(port, "POST", "/events", None, &batch).status, 200);
    wait_until("the forwarder sends the session", || {
        taken.load(std::sync::atomic::Ordering::SeqCst) > 0
    });
    let stopping = Instant::now();
    let log = log_of(server);
    let took = stopping.elapsed();
    assert!(took < Duration::from_secs(8), "{took:?}: {log}");
    assert!(log.contains("bytes of /v1/traces lost"), "{log}");
    assert!(
        log.contains("forwarding: 0 batches sent, 1 lost to the backend"),
        "{log}"
    );
    assert!(log.ends_with("agent-strace server: stopped\n"), "{log}");
}

/// A backend that answers 200 and then trickles its body held the forwarder past its stop for
/// up to 10 s (the body was read outside the wait for the stop): the stop gave up on it and
/// said the forwarder was not done, though the backend had taken the batch.
#[test]
fn sigterm_with_a_trickling_forwarding_backend_stops_soon_and_knows_the_batch_was_taken() {
    use std::io::Read as _;
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let backend = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", backend.local_addr().unwrap().port());
    let taken = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = taken.clone();
    std::thread::spawn(move || {
        for mut stream in backend.incoming().flatten() {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 65536];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n");
                for _ in 0..1000 {
                    if stream.write_all(b" ").is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            });
        }
    });
    let (server, port) = server(&env, &storage, &["--forward-otlp", &url]);
    let batch = ndjson(&[event(
        "fw2",
        "f1",
        "user_prompt",
        1_700_000_001.0,
        json!({"prompt": "go"}),
    )]);
    assert_eq!(request(port, "POST", "/events", None, &batch).status, 200);
    wait_until("the forwarder sends the session", || {
        taken.load(std::sync::atomic::Ordering::SeqCst) > 0
    });
    std::thread::sleep(Duration::from_millis(300));
    let stopping = Instant::now();
    let log = log_of(server);
    let took = stopping.elapsed();
    assert!(took < Duration::from_secs(6), "{took:?}: {log}");
    // Answered 200, it was forwarded: the forwarder was done, with nothing to say.
    assert!(!log.contains("forwarding: not done"), "{log}");
    assert!(log.ends_with("agent-strace server: stopped\n"), "{log}");
}

/// A subagent's hook call sent again to a restarted collector (a hook kept it when the answer
/// came too late, as the collector stopped) is recorded once. The call's id goes to its first
/// event, which is in the subagent's own session, and the collector looked for it only in the
/// parent's: a SubagentStop sent again ended the subagent twice and was marked twice in the
/// parent, a subagent's tool call was recorded twice.
#[test]
fn a_subagents_hook_call_sent_again_to_a_restarted_collector_is_recorded_once() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let parent = "parent-of-a-subagent";
    let child = format!("agent-a881341-{parent}");
    let call = |id: &str, event: &str, payload: Value, answer: Option<&str>| {
        let mut payload = payload;
        payload["session_id"] = parent.into();
        payload["hook_event_name"] = event.into();
        let mut call = json!({"event": event, "agent": "claude-code", "call_id": id,
                              "payload": payload});
        if let Some(text) = answer {
            call["answer"] = text.into();
        }
        call.to_string().into_bytes()
    };
    let agent = json!({"agent_id": "a881341", "agent_type": "Explore"});
    let grep = json!({"agent_id": "a881341", "agent_type": "Explore", "tool_name": "Grep",
                      "tool_input": {"pattern": "hooks"}, "tool_use_id": "toolu_2"});
    let calls = [
        call(
            "0000000000a1",
            "PreToolUse",
            json!({"tool_name": "Task", "tool_input": {"prompt": "look"}, "tool_use_id": "toolu_1"}),
            None,
        ),
        call("0000000000a2", "SubagentStart", agent.clone(), None),
        call("0000000000a3", "PreToolUse", grep, None),
        call(
            "0000000000a4",
            "SubagentStop",
            agent,
            Some("The hooks are in a.py"),
        ),
    ];
    let (first, port) = server(&env, &storage, &[]);
    for body in &calls {
        assert_eq!(request(port, "POST", "/hooks", None, body).status, 200);
    }
    drop(log_of(first));
    let kinds = |session: &str| -> Vec<String> {
        std::fs::read_to_string(storage.join(session).join("events.ndjson"))
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["event_type"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let before = (kinds(parent), kinds(&child));
    assert_eq!(
        before.1,
        [
            "session_start",
            "tool_call",
            "assistant_response",
            "session_end"
        ]
    );
    let (_server, port) = server(&env, &storage, &[]);
    for body in &calls[1..] {
        let answer = request(port, "POST", "/hooks", None, body);
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.json()["duplicate"],
            true,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    assert_eq!((kinds(parent), kinds(&child)), before);
    stored_once(&storage, &child, 4);
}

/// Pads `session`'s events file in the collector's `storage` up to the 32 KiB a file may reach
/// under [`server_on_a_full_disk`], so that a subagent's end still fits and its marker does not.
fn fill_to_the_brim(storage: &Path, session: &str) {
    let file = storage.join(session).join("events.ndjson");
    let size = std::fs::metadata(&file).unwrap().len();
    let filler = json!({"event_type": "decision", "timestamp": 1.0, "event_id": "000000000000",
                        "session_id": session, "data": {"pad": ""}});
    let pad = usize::try_from(32 * 1024 - size).unwrap() - filler.to_string().len() - 1;
    let mut filler = filler;
    filler["data"]["pad"] = "p".repeat(pad).into();
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.extend_from_slice(format!("{filler}\n").as_bytes());
    std::fs::write(&file, bytes).unwrap();
}

/// The `event_type` of each event of `session` in the collector's `storage`, in order (none
/// when it holds no events file).
fn event_kinds(storage: &Path, session: &str) -> Vec<String> {
    std::fs::read_to_string(storage.join(session).join("events.ndjson"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect()
}

/// A subagent stop sent to a collector whose disk fills between the subagent's end and the
/// parent's marker, sent again once there is room, writes the marker alone: the subagent ends
/// once and the parent is marked once. The collector found the call's id (its first event's,
/// the subagent's end) and answered it as a duplicate: the marker was never written.
#[test]
fn a_subagent_stop_cut_short_at_the_collector_and_sent_again_writes_only_its_marker() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let parent = "parent-of-a-stopped-subagent";
    let child = format!("agent-a7-{parent}");
    let call = |id: &str, event: &str, payload: Value| {
        let mut payload = payload;
        payload["session_id"] = parent.into();
        payload["hook_event_name"] = event.into();
        json!({"event": event, "agent": "claude-code", "call_id": id, "payload": payload})
            .to_string()
            .into_bytes()
    };
    let agent = json!({"agent_id": "a7", "agent_type": "Explore"});
    let (server, port) = server_on_a_full_disk(&env, &storage);
    let spawn =
        json!({"tool_name": "Agent", "tool_input": {"prompt": "look"}, "tool_use_id": "toolu_1"});
    for body in [
        call("0000000000b1", "PreToolUse", spawn),
        call("0000000000b2", "SubagentStart", agent.clone()),
    ] {
        assert_eq!(request(port, "POST", "/hooks", None, &body).status, 200);
    }
    // The parent's file fills the disk: the subagent's end fits, the marker does not.
    fill_to_the_brim(&storage, parent);
    let mut stop: Value =
        serde_json::from_slice(&call("0000000000b3", "SubagentStop", agent)).unwrap();
    stop["answer"] = "The hooks are in a.py".into();
    let stop = stop.to_string().into_bytes();
    assert_eq!(request(port, "POST", "/hooks", None, &stop).status, 500);
    let kinds = |session: &str| event_kinds(&storage, session);
    let ended = ["session_start", "assistant_response", "session_end"];
    assert_eq!(kinds(&child), ended);
    assert!(!kinds(parent).contains(&"subagent_stop".to_owned()));

    free_the_disk(&server);
    let answer = request(port, "POST", "/hooks", None, &stop);
    assert_eq!(answer.status, 200);
    assert_ne!(answer.json()["duplicate"], true, "{}", answer.json());
    assert_eq!(kinds(&child), ended);
    let marked = |kinds: Vec<String>| kinds.iter().filter(|k| *k == "subagent_stop").count();
    assert_eq!(marked(kinds(parent)), 1);
    // Sent once more, it is whole: a duplicate.
    let answer = request(port, "POST", "/hooks", None, &stop);
    assert_eq!(answer.json()["duplicate"], true, "{}", answer.json());
    assert_eq!(
        (kinds(&child), marked(kinds(parent))),
        (ended.map(str::to_owned).to_vec(), 1)
    );
}

/// A batch sent again once the collector's set of ids has forgotten it (here a set of 16, by
/// the hidden `--remembered-ids`, for the 262,144 of a real collector) is still stored once:
/// its events are in the last 1 MiB of their session's file, which the collector reads again.
#[test]
fn a_batch_sent_again_after_the_collector_forgot_its_ids_is_stored_once() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &["--remembered-ids", "16"]);
    let batch = |session: &str, from: usize| {
        let events: Vec<Value> = large_events(session, 16)
            .into_iter()
            .skip(from)
            .take(4)
            .collect();
        ndjson(&events)
    };
    let post = |body: &[u8]| {
        let answer = request(port, "POST", "/events", None, body);
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        answer.json()
    };
    post(&batch("resent", 0));
    // 16 events of another session: the set forgets those of the first batch.
    for from in [0, 4, 8, 12] {
        post(&batch("other", from));
    }
    assert_eq!(post(&batch("resent", 0))["duplicates"], 4);
    // Reading the first session's tail made the set forget the other's first events.
    assert_eq!(post(&batch("other", 0))["duplicates"], 4);
    stored_once(&storage, "resent", 4);
    stored_once(&storage, "other", 16);
}

/// A proxy whose collector stores part of a batch and then fails (a full disk) sends the batch
/// once more, then records in its local store only the events the collector said it does not
/// hold: every event is in one store, none in both, none lost.
#[test]
fn a_proxy_whose_collector_fails_part_way_keeps_each_event_in_one_store() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server_on_a_full_disk(&env, &storage);
    let calls = 120;
    let mut input = String::new();
    for n in 0..calls {
        let call = json!({"jsonrpc": "2.0", "id": n, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": format!("{n} {}", "y".repeat(600))}}});
        input.push_str(&call.to_string());
        input.push('\n');
    }
    let cmd = record_to(&env, &format!("http://127.0.0.1:{port}"));
    let run = crate::common::run_with_stdin(cmd, input.as_bytes());
    assert_eq!((run.code, run.stdout == input), (0, true), "{}", run.stderr);
    let remote: Vec<String> = std::fs::read_dir(&storage)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    assert_eq!(remote.len(), 1);
    let session = &remote[0];
    let there = stored_ids(&storage, session);
    let here: Vec<String> = env
        .events(session)
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!there.is_empty() && !here.is_empty(), "{}", run.stderr);
    let both: Vec<String> = there.iter().chain(&here).cloned().collect();
    // None in both stores.
    let count = both.len();
    assert_each_once(&both, count);
    let kinds: Vec<Value> = std::fs::read_to_string(storage.join(session).join("events.ndjson"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .chain(env.events(session))
        .map(|e| e["event_type"].clone())
        .collect();
    // Each call crosses twice (`cat` sends it back).
    let tool_calls = kinds.iter().filter(|k| **k == "tool_call").count();
    assert_eq!(tool_calls, 2 * calls, "none lost");
}

/// A hook event the collector wrote but whose session's `meta.json` it then could not update
/// (a folder stands where it goes) is answered 200 and logged there: a 500 made the hook
/// record the event a second time, in its own machine's store.
#[test]
fn a_hook_event_whose_meta_cannot_be_updated_is_recorded_once() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (server, port) = server(&env, &storage, &[]);
    let endpoint = format!("http://127.0.0.1:{port}");
    let session = "hook-meta-blocked";
    let payloads = payloads(session, env.path());
    let (event, payload) = &payloads[0];
    let (run, _) = hook_to(&env, &endpoint, None, event, payload);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    let meta = storage.join(session).join("meta.json");
    std::fs::remove_file(&meta).unwrap();
    std::fs::create_dir_all(meta.join("x")).unwrap();
    let (event, payload) = &payloads[1];
    let (run, _) = hook_to(&env, &endpoint, None, event, payload);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(tool_calls_at_the_collector_only(&env, &storage, session), 1);
    assert!(log_of(server).contains(session));
}

/// The session folders a hook wrote into the store at `store` (not its spool).
fn local_sessions(store: &Path) -> Vec<String> {
    std::fs::read_dir(store).map_or(Vec::new(), |entries| {
        entries
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| !name.starts_with('.'))
            .collect()
    })
}

/// A subagent stop the collector writes in part (its disk fills between the subagent's end
/// and the parent's marker; it answers 500) is kept for the collector, not recorded here;
/// `list` says a call waits and `send-kept` sends it once there is room: the collector writes
/// the marker it owes, and the stop is whole, once, in its store alone. The hook recorded the
/// whole stop in its own store: the subagent ended in both, the parent marked in this one.
#[test]
fn a_hook_call_the_collector_writes_in_part_is_kept_for_it_and_sent_by_send_kept() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let project = env.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let local = project.join(".agent-traces");
    let parent = "parent-of-a-subagent-cut-short";
    let child = format!("agent-a9-{parent}");
    let (server, port) = server_on_a_full_disk(&env, &storage);
    let endpoint = format!("http://127.0.0.1:{port}");
    let cwd = project.to_str().unwrap();
    let agent =
        json!({"session_id": parent, "agent_id": "a9", "agent_type": "Explore", "cwd": cwd});
    let spawn = json!({"session_id": parent, "hook_event_name": "PreToolUse", "tool_name": "Agent",
                       "tool_input": {"prompt": "look"}, "tool_use_id": "toolu_1", "cwd": cwd});
    let mut start = agent.clone();
    start["hook_event_name"] = "SubagentStart".into();
    for (event, payload) in [("pre-tool", &spawn), ("subagent-start", &start)] {
        let (run, _) = hook_to(&env, &endpoint, None, event, payload);
        assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    }
    // The parent's file fills the disk: the subagent's end fits, the marker does not.
    fill_to_the_brim(&storage, parent);
    let mut stop = agent.clone();
    stop["hook_event_name"] = "SubagentStop".into();
    let (run, _) = hook_to(&env, &endpoint, None, "subagent-stop", &stop);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    let log = std::fs::read_to_string(local.join("hook-errors.log")).unwrap_or_default();
    assert_eq!(kept_calls(&local), 1, "{log}");
    assert!(local_sessions(&local).is_empty(), "recorded here: {log}");

    let listed = env.run(&["list", "--project", cwd]);
    assert!(
        listed.stderr.contains(&format!(
            "1 hook call waits for the collector in {}; send it now with `agent-strace send-kept --project {cwd}`",
            local.join(".spool").display()
        )),
        "{}",
        listed.stderr
    );
    // Without the collector named, nothing is sent, and the error says how to name it.
    let unnamed = env.run(&["send-kept", "--project", cwd]);
    assert_eq!(unnamed.code, 2, "{}", unnamed.stderr);
    assert!(
        unnamed.stderr.contains("AGENT_STRACE_ENDPOINT"),
        "{}",
        unnamed.stderr
    );
    assert_eq!(kept_calls(&local), 1);

    free_the_disk(&server);
    let sent = send_kept(&env, cwd, &endpoint, None);
    sent_the_one_kept_call(&env, cwd, &sent, &endpoint, "");
    assert_eq!(kept_calls(&local), 0);
    assert!(local_sessions(&local).is_empty());
    let kinds = |session: &str| event_kinds(&storage, session);
    let count = |kinds: Vec<String>, kind: &str| kinds.iter().filter(|k| *k == kind).count();
    assert_eq!(
        count(kinds(&child), "session_end"),
        1,
        "{:?}",
        kinds(&child)
    );
    assert_eq!(
        count(kinds(parent), "subagent_stop"),
        1,
        "{:?}",
        kinds(parent)
    );
    let listed = env.run(&["list", "--project", cwd]);
    assert!(!listed.stderr.contains("wait"), "{}", listed.stderr);
}

/// A collector in front of which every request fails (a proxy answering 502): it may hold the
/// call or part of it, so the hook keeps it; `send-kept` leaves it kept, says why, exits 4.
#[test]
fn send_kept_leaves_the_calls_a_failing_collector_does_not_take_and_says_why() {
    let env = TestEnv::new();
    let (project, endpoint) = kept_behind_a_failing_proxy(&env, "behind-a-proxy", None);
    let local = project.join(".agent-traces");
    assert_eq!(stored_lines(&local, "behind-a-proxy"), 0);
    let sent = send_kept(&env, project.to_str().unwrap(), &endpoint, None);
    assert_eq!(sent.code, 4, "{}", sent.stderr);
    assert!(
        sent.stderr.starts_with(&format!(
            "error: the collector {endpoint} left 1 kept hook call waiting: answered 502: Bad Gateway"
        )),
        "{}",
        sent.stderr
    );
    assert_eq!(kept_calls(&local), 1);
    assert_eq!(stored_lines(&local, "behind-a-proxy"), 0);
}

/// A project whose one hook call is kept in its store's spool: the hook sent it (with `token`)
/// through a proxy answering 502, which may have passed it on. The project and the proxy's
/// endpoint.
fn kept_behind_a_failing_proxy(
    env: &TestEnv,
    session: &str,
    token: Option<&str>,
) -> (PathBuf, String) {
    let project = env.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let failing = failing_proxy(
        b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 11\r\nconnection: close\r\n\r\nBad Gateway",
    );
    let (event, payload) = payloads(session, &project).remove(0);
    let (run, _) = hook_to(env, &failing, token, event, &payload);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(kept_calls(&project.join(".agent-traces")), 1);
    (project, failing)
}

/// `send-kept` of the project at `cwd` to the collector at `endpoint`, with `token` or none.
fn send_kept(env: &TestEnv, cwd: &str, endpoint: &str, token: Option<&str>) -> crate::common::Run {
    let mut send = env.command(&["send-kept", "--project", cwd]);
    send.env("AGENT_STRACE_ENDPOINT", endpoint)
        .env_remove("AGENT_STRACE_TOKEN")
        .env_remove("AGENT_STRACE_AUTH_KEY");
    if let Some(token) = token {
        send.env("AGENT_STRACE_TOKEN", token);
    }
    crate::common::run_with_stdin(send, b"")
}

/// `sent` sent the one kept call to `endpoint`, warning `stderr`, and nothing waits after it.
#[track_caller]
fn sent_the_one_kept_call(
    env: &TestEnv,
    cwd: &str,
    sent: &crate::common::Run,
    endpoint: &str,
    stderr: &str,
) {
    assert_eq!(
        (sent.code, sent.stdout.as_str(), sent.stderr.as_str()),
        (
            0,
            format!("Sent 1 kept hook call to the collector {endpoint}.\n").as_str(),
            stderr
        )
    );
    let again = env.run(&["send-kept", "--project", cwd]);
    assert_nothing_waits(&again);
}

/// Reads one request whole from `stream`: its head (as sent) and its body, as long as its
/// `Content-Length` says; `None` when the stream ends first.
fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let (mut raw, mut buf) = (Vec::new(), [0u8; 4096]);
    while let Ok(n @ 1..) = stream.read(&mut buf) {
        raw.extend_from_slice(&buf[..n]);
        let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&raw[..at]).into_owned();
        let length = head
            .to_lowercase()
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse::<usize>().unwrap());
        if raw.len() >= at + 4 + length {
            return Some((head, raw[at + 4..].to_vec()));
        }
    }
    None
}

/// A proxy before a collector that answers every request with `answer` once it has read the
/// request whole; its endpoint.
fn failing_proxy(answer: &'static [u8]) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            // The whole request (head and body) is read before the answer.
            let _ = read_request(&mut stream);
            let _ = stream.write_all(answer);
        }
    });
    endpoint
}

/// Entries planted in a store's spool under older calls' names (a link to a file elsewhere, a
/// FIFO, a folder) are no calls: `send-kept` passes them over and sends the call the hook
/// kept behind them, once; `list` counts only that call. They held back every call behind
/// them, and `send-kept` said "cannot read the calls kept" and exited 0 with the call kept.
#[test]
fn send_kept_passes_over_links_fifos_and_folders_named_like_calls() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (project, _) = kept_behind_a_failing_proxy(&env, "behind-planted-calls", None);
    let local = project.join(".agent-traces");
    let spool = local.join(".spool");
    let victim = env.path().join("victim.json");
    std::fs::write(&victim, "{}").unwrap();
    std::os::unix::fs::symlink(&victim, spool.join("00000000000000000001.link.call")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(spool.join("00000000000000000002.fifo.call"))
        .status()
        .unwrap();
    assert!(fifo.success());
    std::fs::create_dir(spool.join("00000000000000000003.folder.call")).unwrap();
    let cwd = project.to_str().unwrap();
    let listed = env.run(&["list", "--project", cwd]);
    assert!(
        listed
            .stderr
            .contains("1 hook call waits for the collector"),
        "{}",
        listed.stderr
    );
    assert!(listed.stderr.contains(STRAYS), "{}", listed.stderr);

    let (_server, port) = server(&env, &storage, &[]);
    let endpoint = format!("http://127.0.0.1:{port}");
    let sent = send_kept(&env, cwd, &endpoint, None);
    sent_the_one_kept_call(&env, cwd, &sent, &endpoint, STRAYS);
    assert_eq!(stored_lines(&storage, "behind-planted-calls"), 1);
    assert_eq!(stored_lines(&local, "behind-planted-calls"), 0);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "{}");
}

/// `send-kept` run without the token the hooks sent with: the collector refuses the sender
/// (401), not the call, which it may hold in part. The calls stay kept, the command says so
/// and exits 4; with the token they go to the collector. They were recorded in this store
/// instead, split from what the collector held, and the command exited 0.
#[test]
fn send_kept_without_the_hooks_token_leaves_the_calls_kept() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (project, _) =
        kept_behind_a_failing_proxy(&env, "kept-behind-a-token", Some("the-hooks-token"));
    let local = project.join(".agent-traces");

    let (_server, port) = server(&env, &storage, &["--token", "the-hooks-token"]);
    let endpoint = format!("http://127.0.0.1:{port}");
    let cwd = project.to_str().unwrap();
    for token in [None, Some("another-token")] {
        let sent = send_kept(&env, cwd, &endpoint, token);
        assert_eq!(
            (sent.code, sent.stdout.as_str()),
            (4, ""),
            "{}",
            sent.stderr
        );
        assert!(
            sent.stderr.starts_with(&format!(
                "error: the collector {endpoint} left 1 kept hook call waiting: answered 401"
            )),
            "{}",
            sent.stderr
        );
        assert_eq!(kept_calls(&local), 1);
        assert_eq!(stored_lines(&local, "kept-behind-a-token"), 0);
    }
    let sent = send_kept(&env, cwd, &endpoint, Some("the-hooks-token"));
    sent_the_one_kept_call(&env, cwd, &sent, &endpoint, "");
    assert_eq!(stored_lines(&storage, "kept-behind-a-token"), 1);
    assert_eq!(stored_lines(&local, "kept-behind-a-token"), 0);
}

/// An endpoint with a query (a gateway's key) has the path joined before it: `send-kept`
/// glued `/hooks` on the end, to `/?key=K/hooks`, the collector answered 404, and the call it
/// may hold in part was recorded in this store as one it refuses for good. Sent to a path where
/// no collector answers (404), the calls stay kept, and the command says why.
#[test]
fn send_kept_joins_the_endpoints_path_and_keeps_calls_where_no_collector_answers() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (project, _) = kept_behind_a_failing_proxy(&env, "kept-for-a-query", None);
    let local = project.join(".agent-traces");
    let (_server, port) = server(&env, &storage, &[]);
    let cwd = project.to_str().unwrap();
    let wrong = format!("http://127.0.0.1:{port}/traces/");
    let sent = send_kept(&env, cwd, &wrong, None);
    assert_eq!(
        (sent.code, sent.stdout.as_str()),
        (4, ""),
        "{}",
        sent.stderr
    );
    assert!(
        sent.stderr.starts_with(&format!(
            "error: the collector {wrong} left 1 kept hook call waiting: answered 404"
        )) && sent.stderr.contains("base URL"),
        "{}",
        sent.stderr
    );
    assert_eq!(kept_calls(&local), 1);
    assert_eq!(stored_lines(&local, "kept-for-a-query"), 0);
    let sent = send_kept(
        &env,
        cwd,
        &format!("http://127.0.0.1:{port}/?key=SECRET"),
        None,
    );
    let shown = format!("http://127.0.0.1:{port}/?***");
    sent_the_one_kept_call(&env, cwd, &sent, &shown, "");
    assert_eq!(stored_lines(&storage, "kept-for-a-query"), 1);
    assert_eq!(stored_lines(&local, "kept-for-a-query"), 0);
}

/// What a web server answers any POST with: a 200 that is no collector's answer.
const WELCOME: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 20\r\nconnection: close\r\n\r\n<html>welcome</html>";

/// A URL where a web server answers 200 with a page of its own is no collector: `send-kept`
/// leaves the calls kept and says why (exit 4), a hook posting there keeps its call and logs
/// why, and the collector named later takes both. `send-kept` said "Sent 1 kept hook call",
/// emptied the spool, the hook's call was taken too, and neither was in any store.
#[test]
fn a_url_answering_200_with_no_collectors_answer_takes_no_call() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (project, _) = kept_behind_a_failing_proxy(&env, "kept-for-a-web-server", None);
    let local = project.join(".agent-traces");
    let cwd = project.to_str().unwrap();
    let web = failing_proxy(WELCOME);
    let sent = send_kept(&env, cwd, &web, None);
    assert_eq!(
        (sent.code, sent.stdout.as_str()),
        (4, ""),
        "{}",
        sent.stderr
    );
    assert!(
        sent.stderr.starts_with(&format!(
            "error: the collector {web} left 1 kept hook call waiting: answered 200: <html>welcome</html>, which is no collector's answer"
        )),
        "{}",
        sent.stderr
    );
    assert_eq!(kept_calls(&local), 1);

    let (event, payload) = payloads("kept-for-a-web-server", &project).remove(1);
    let (run, _) = hook_to(&env, &web, None, event, &payload);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(kept_calls(&local), 2);
    assert_eq!(stored_lines(&local, "kept-for-a-web-server"), 0);
    let log = std::fs::read_to_string(local.join("hook-errors.log")).unwrap();
    assert!(log.contains("which is no collector's answer"), "{log}");

    let (_server, port) = server(&env, &storage, &[]);
    let endpoint = format!("http://127.0.0.1:{port}");
    let sent = send_kept(&env, cwd, &endpoint, None);
    assert_eq!(
        (sent.code, sent.stdout.as_str()),
        (
            0,
            format!("Sent 2 kept hook calls to the collector {endpoint}.\n").as_str()
        ),
        "{}",
        sent.stderr
    );
    assert_eq!(stored_lines(&storage, "kept-for-a-web-server"), 2);
    assert_eq!(stored_lines(&local, "kept-for-a-web-server"), 0);
}

/// A proxy whose endpoint is a web server answering 200 with a page of its own records its
/// session here: nothing of it went anywhere, and exited 0.
#[test]
fn a_proxy_whose_endpoint_is_no_collector_records_locally() {
    let env = TestEnv::new();
    let mut cmd = env.command(&["record", "--name", "cat", "--", "cat"]);
    cmd.env("AGENT_STRACE_ENDPOINT", failing_proxy(WELCOME));
    let line = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
    let run = crate::common::run_with_stdin(cmd, line.as_bytes());
    assert_eq!((run.code, run.stdout.as_str()), (0, line));
    let sessions = env.sessions();
    assert_eq!(sessions.len(), 1, "{}", run.stderr);
    let kinds: Vec<String> = env
        .events(&sessions[0])
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("session_start"));
    assert_eq!(kinds.last().map(String::as_str), Some("session_end"));
}

/// What `list` and `send-kept` say of the three entries planted in a spool.
const STRAYS: &str = "warning: 3 entries in .spool/ named as kept calls were not calls (a link, a FIFO, a folder, a file larger than any call) and were left alone\n";

/// A spool holding only entries planted under calls' names: `list` and `send-kept` say no call
/// waits, and in one line that they left those entries alone, which stay. They said only that
/// nothing waits, as if the spool were empty.
#[test]
fn list_and_send_kept_say_what_entries_of_the_spool_they_left_alone() {
    let env = TestEnv::new();
    let project = env.path().join("project");
    let spool = project.join(".agent-traces").join(".spool");
    std::fs::create_dir_all(&spool).unwrap();
    let victim = env.path().join("victim.json");
    std::fs::write(&victim, "{}").unwrap();
    std::os::unix::fs::symlink(&victim, spool.join("00000000000000000001.link.call")).unwrap();
    let fifo = Command::new("mkfifo")
        .arg(spool.join("00000000000000000002.fifo.call"))
        .status()
        .unwrap();
    assert!(fifo.success());
    std::fs::create_dir(spool.join("00000000000000000003.folder.call")).unwrap();
    let cwd = project.to_str().unwrap();
    let listed = env.run(&["list", "--project", cwd]);
    assert!(listed.stderr.contains(STRAYS), "{}", listed.stderr);
    assert!(!listed.stderr.contains("wait"), "{}", listed.stderr);
    let sent = send_kept(&env, cwd, "http://127.0.0.1:9", None);
    assert_eq!(
        (sent.code, sent.stdout.as_str(), sent.stderr.as_str()),
        (0, NOTHING_WAITS, STRAYS)
    );
    assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 3);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "{}");
}

/// The spool's entries named as calls, oldest first.
fn kept_names(store: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(store.join(".spool"))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|name| name.rsplit('.').next() == Some("call"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Makes every call kept in `store` `by` older, as if kept that much earlier.
fn age_kept_calls(store: &Path, by: Duration) {
    let spool = store.join(".spool");
    for name in kept_names(store) {
        let (micros, rest) = name.split_once('.').unwrap();
        let older = micros.parse::<u64>().unwrap() - u64::try_from(by.as_micros()).unwrap();
        std::fs::rename(spool.join(&name), spool.join(format!("{older:020}.{rest}"))).unwrap();
    }
}

/// A prompt of session `session` in `cwd`: one event.
fn prompt(session: &str, cwd: &Path, text: &str) -> Value {
    json!({"session_id": session, "hook_event_name": "UserPromptSubmit", "prompt": text,
           "cwd": cwd.to_str().unwrap()})
}

/// Past ten minutes, a hook records in its own store only the kept calls the collector surely
/// never saw (kept behind others, never sent); a call the collector may hold in part (it
/// answered 502; or an unseen call sent again and answered 502) waits for it however long.
/// Every kept call was recorded here once ten minutes old, a call the collector held in part
/// then split across the two stores.
#[test]
fn past_ten_minutes_only_a_call_the_collector_never_saw_is_recorded_here() {
    let env = TestEnv::new();
    let session = "kept-for-long";
    let (project, failing) = kept_behind_a_failing_proxy(&env, session, None);
    let local = project.join(".agent-traces");
    let hook = |text: &str| {
        let (run, _) = hook_to(
            &env,
            &failing,
            None,
            "user-prompt",
            &prompt(session, &project, text),
        );
        assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    };
    // The first call waits (502): the second is kept behind it, never sent.
    hook("second");
    let log = std::fs::read_to_string(local.join("hook-errors.log")).unwrap();
    assert!(
        log.contains("answered 502: Bad Gateway, and 1 earlier kept call still waits for it; kept to send again"),
        "{log}"
    );
    let names = kept_names(&local);
    assert_eq!(names.len(), 2);
    assert!(
        !names[0].ends_with(".unseen.call") && names[1].ends_with(".unseen.call"),
        "{names:?}"
    );
    age_kept_calls(&local, Duration::from_secs(20 * 60));
    hook("third");
    // The first still waits; the second is recorded here; the third waits behind the first.
    assert_eq!(stored_lines(&local, session), 1, "{:?}", kept_names(&local));
    assert_eq!(kept_calls(&local), 2);

    // Taken elsewhere, say: the third is now sent first, and answered 502.
    std::fs::remove_file(local.join(".spool").join(&kept_names(&local)[0])).unwrap();
    hook("fourth");
    let names = kept_names(&local);
    assert!(
        !names[0].ends_with(".unseen.call") && names[1].ends_with(".unseen.call"),
        "{names:?}"
    );
    age_kept_calls(&local, Duration::from_secs(20 * 60));
    hook("fifth");
    let prompts: Vec<String> = std::fs::read_to_string(local.join(session).join("events.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["data"]["prompt"].to_string())
        .collect();
    assert_eq!(prompts, ["\"second\"", "\"fourth\""]);
    assert_eq!(kept_calls(&local), 2);
}

/// `send-kept --here`, for a collector gone for good: every waiting call is recorded in this
/// store, sending none (no endpoint needed), and the spool is empty.
#[test]
fn send_kept_here_records_every_waiting_call_in_this_store() {
    let env = TestEnv::new();
    let session = "kept-then-here";
    let (project, _) = kept_behind_a_failing_proxy(&env, session, None);
    let local = project.join(".agent-traces");
    let cwd = project.to_str().unwrap();
    let mut here = env.command(&["send-kept", "--here", "--project", cwd]);
    here.env_remove("AGENT_STRACE_ENDPOINT");
    let run = crate::common::run_with_stdin(here, b"");
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (
            0,
            "Recorded 1 kept hook call in this store, unsent (a call the collector held in part is now in both stores).\n"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(kept_calls(&local), 0);
    assert_eq!(stored_lines(&local, session), 1);
    let again = env.run(&["send-kept", "--here", "--project", cwd]);
    assert_nothing_waits(&again);
}

/// A kept hook call put back in the spool after `send-kept --here` recorded it (killed before
/// it took the call out, the call renamed back ten minutes later) is recorded once: the call's
/// id its session holds already is not written again, as the collector skips a call it
/// recorded, and as a kept batch's events are. It was recorded a second time.
#[test]
fn send_kept_here_records_a_hook_call_put_back_after_it_was_recorded_once() {
    let env = TestEnv::new();
    let session = "kept-here-twice";
    let (project, _) = kept_behind_a_failing_proxy(&env, session, None);
    let local = project.join(".agent-traces");
    let cwd = project.to_str().unwrap();
    let spool = local.join(".spool");
    let name = kept_names(&local).remove(0);
    let call = std::fs::read(spool.join(&name)).unwrap();
    let here = || {
        let mut here = env.command(&["send-kept", "--here", "--project", cwd]);
        here.env_remove("AGENT_STRACE_ENDPOINT");
        crate::common::run_with_stdin(here, b"")
    };
    let first = here();
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(stored_lines(&local, session), 1);
    // What the next clearing of leftovers does with a call its recorder was killed recording.
    std::fs::write(spool.join(&name), &call).unwrap();
    let again = here();
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(kept_calls(&local), 0, "{}", again.stderr);
    assert_eq!(stored_lines(&local, session), 1, "{}", again.stderr);
}

/// A file of 1 GiB named as a proxy's kept batch (put there by someone else: no proxy keeps
/// more than 64 MiB) is no call: it takes no room in the spool's bound, and a hook keeps its
/// call for the collector as it would without it. It filled the bound for good: every hook
/// recorded its call here, "the spool is full (1 calls, 1024 MiB)".
#[test]
fn a_runaway_file_named_as_a_batch_takes_no_room_in_the_spool() {
    let env = TestEnv::new();
    let project = env.path().join("project");
    let spool = project.join(".agent-traces").join(".spool");
    std::fs::create_dir_all(&spool).unwrap();
    let runaway = std::fs::File::create(spool.join("00000001700000000000000.big.batch")).unwrap();
    // Sparse: it holds no disk.
    runaway.set_len(1 << 30).unwrap();
    let failing = failing_proxy(
        b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 11\r\nconnection: close\r\n\r\nBad Gateway",
    );
    let (event, payload) = payloads("runaway", &project).remove(0);
    let (run, _) = hook_to(&env, &failing, None, event, &payload);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    let local = project.join(".agent-traces");
    let log = std::fs::read_to_string(local.join("hook-errors.log")).unwrap_or_default();
    assert!(!log.contains("the spool is full"), "{log}");
    assert_eq!(kept_calls(&local), 1, "{log}");
    assert_eq!(stored_lines(&local, "runaway"), 0, "{log}");
}

/// A collector gone for good behind a proxy answering 502 cannot fill the disk: once the spool
/// holds 1,000 calls, a hook keeps no more and records its call here, saying why.
#[test]
fn a_full_spool_keeps_no_more_calls() {
    let env = TestEnv::new();
    let session = "behind-a-full-spool";
    let (project, failing) = kept_behind_a_failing_proxy(&env, session, None);
    let local = project.join(".agent-traces");
    let spool = local.join(".spool");
    for n in 1..1000 {
        std::fs::write(spool.join(format!("{n:020}.planted{n}.call")), "{}").unwrap();
    }
    let (run, _) = hook_to(
        &env,
        &failing,
        None,
        "user-prompt",
        &prompt(session, &project, "one too many"),
    );
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(kept_calls(&local), 1000);
    assert_eq!(stored_lines(&local, session), 1);
    let log = std::fs::read_to_string(local.join("hook-errors.log")).unwrap();
    assert!(log.contains("the spool is full"), "{log}");
}

/// A proxy's batch of events that the collector stores and a gateway before it answers 502
/// (saying nothing of what was stored) is sent again with the next batch, not written in the
/// local store: every event is at the collector once, none here. The session went on in the
/// local store from that batch on, which the collector also held. The second batch fails: by
/// then the collector has said it skips what it holds (when it took the session's meta, and in
/// the first batch's `"duplicates"`).
#[test]
fn a_proxy_batch_a_gateway_fails_after_the_collector_stored_it_is_in_one_store() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    let gateway = relay(port, Duration::ZERO, |n| n == 2);
    // More events than two batches (500 each): the second is not the session's last.
    let calls = 600;
    let input = tool_calls_input(calls);
    let cmd = record_to(&env, &format!("http://127.0.0.1:{gateway}"));
    let run = crate::common::run_with_stdin(cmd, input.as_bytes());
    assert_eq!((run.code, run.stdout == input), (0, true), "{}", run.stderr);
    let remote: Vec<String> = std::fs::read_dir(&storage)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    assert_eq!(remote.len(), 1);
    let session = &remote[0];
    assert!(
        env.events(session).is_empty(),
        "recorded here too: {}",
        run.stderr
    );
    let there = stored_ids(&storage, session);
    assert_each_once(&there, there.len());
    let tool_calls = event_kinds(&storage, session)
        .iter()
        .filter(|k| *k == "tool_call")
        .count();
    assert_eq!(tool_calls, 2 * calls, "none lost");
}

/// How long the proxies of these tests give the collector for each request, in ms: their
/// default, 500 ms, runs out on a loaded machine (two cores under the whole suite), and the
/// proxy then sends the batch again, holds it or records here, which is what the tests of those
/// paths see, not the others.
const PROXY_PATIENT: &str = "30000";

/// `record --name cat -- cat`, sending to the collector at `endpoint` and patient with it
/// ([`PROXY_PATIENT`]).
fn record_to(env: &TestEnv, endpoint: &str) -> Command {
    let mut cmd = env.command(&["record", "--name", "cat", "--", "cat"]);
    cmd.env("AGENT_STRACE_ENDPOINT", endpoint)
        .env("AGENT_STRACE_PROXY_WAIT_MS", PROXY_PATIENT);
    cmd
}

/// Asserts that the one session of the collector at `storage`, a `cat` proxy's of `calls`
/// calls, is there whole, each event once, and that the local store holds none of it; `said`
/// is the proxy's stderr.
fn whole_at_the_collector(env: &TestEnv, storage: &Path, calls: usize, said: &str) {
    let session = &the_remote_session(storage);
    let there = stored_ids(storage, session);
    let here: Vec<String> = env
        .events(session)
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect();
    let both = here.iter().filter(|id| there.contains(id)).count();
    assert_eq!(
        (both, here.len()),
        (0, 0),
        "events in both stores, events here ({} at the collector): {said}",
        there.len()
    );
    assert_each_once(&there, there.len());
    let tool_calls = event_kinds(storage, session)
        .iter()
        .filter(|k| *k == "tool_call")
        .count();
    assert_eq!(tool_calls, 2 * calls, "none lost: {said}");
}

/// The bodies of the batches (`/events`) a [`gateway`] passes, in the order they came.
type Batches = std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>;

/// A [`gateway`] in front of the collector at `port` that keeps each batch it is sent and
/// passes each request as `pass` says for its batch number (0 for a request that is no batch).
fn keeping_gateway(
    port: u16,
    pass: impl Fn(usize) -> Pass + Send + Sync + 'static,
) -> (u16, Batches) {
    let batches = Batches::default();
    let seen = batches.clone();
    let gateway = gateway(port, move |path, batch, body| {
        if path == "/events" {
            seen.lock().unwrap().push(body.to_vec());
        }
        pass(batch)
    });
    (gateway, batches)
}

/// How many batches of `batches` carried the first one's events: the first itself, sent again
/// alone, or with the events of the next.
fn sent_first(batches: &Batches) -> usize {
    let batches = batches.lock().unwrap();
    let Some(first) = batches.first() else {
        return 0;
    };
    batches.iter().filter(|b| b.starts_with(first)).count()
}

/// A proxy's first batch that a gateway answers 502 after the collector stored it is sent
/// again, not written in the local store: the collector said it skips what it holds when it
/// took the session's meta, before any batch. The proxy learnt that only from a batch's answer,
/// so it took the collector of its first batch for an older one: the batch was written here as
/// well, and was in both stores.
#[test]
fn a_proxys_first_batch_a_gateway_fails_after_the_collector_stored_it_is_in_one_store() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    let gateway = relay(port, Duration::ZERO, |n| n == 1);
    let calls = 50;
    let input = tool_calls_input(calls);
    let cmd = record_to(&env, &format!("http://127.0.0.1:{gateway}"));
    let run = crate::common::run_with_stdin(cmd, input.as_bytes());
    assert_eq!((run.code, run.stdout == input), (0, true), "{}", run.stderr);
    whole_at_the_collector(&env, &storage, calls, &run.stderr);
}

/// A proxy's first batch that the collector takes and answers only after the proxy's time for
/// it (as a loaded machine does) is sent again, and the collector, which holds it, stores none
/// of it twice; nothing is written here. It was written here too, and was in both stores (39
/// events once, under load, in a test of a collector on a full disk).
#[test]
fn a_proxys_first_batch_answered_after_its_time_is_in_one_store() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    // The first batch is handed on and never answered: the proxy gives up at its time.
    let (_server, _, run, batches) = first_batch_through(&env, &storage, Pass::Never);
    whole_at_the_collector(&env, &storage, FIRST_BATCH_CALLS, &run.stderr);
    assert_eq!(sent_first(&batches), 2, "sent again");
}

/// The calls [`first_batch_through`] sends.
const FIRST_BATCH_CALLS: usize = 50;

/// A `cat` proxy of [`FIRST_BATCH_CALLS`] calls recording to a collector (its store at
/// `storage`) through a [`keeping_gateway`] that passes the first batch as `first` says and
/// every other request at once; returns once the collector holds the first batch (the gateway
/// hands it on before it holds back or fails the answer), with the collector and its port, the
/// proxy's run and the batches.
fn first_batch_through(
    env: &TestEnv,
    storage: &Path,
    first: Pass,
) -> (Background, u16, crate::common::Run, Batches) {
    let (server, port) = server(env, storage, &[]);
    let (gateway, batches) = keeping_gateway(port, move |batch| {
        if batch == 1 {
            first
        } else {
            Pass::After(Duration::ZERO)
        }
    });
    let input = tool_calls_input(FIRST_BATCH_CALLS);
    let mut cmd = record_to(env, &format!("http://127.0.0.1:{gateway}"));
    // Time enough for the session's meta on a loaded machine, and little to wait for the
    // answer that never comes.
    cmd.env("AGENT_STRACE_PROXY_WAIT_MS", "3000");
    let run = crate::common::run_with_stdin(cmd, input.as_bytes());
    assert_eq!((run.code, run.stdout == input), (0, true), "{}", run.stderr);
    wait_until("the collector holds the first batch", || {
        !stored_ids(storage, &the_remote_session(storage)).is_empty()
    });
    (server, port, run, batches)
}

/// A proxy's first batch handed to the collector and never answered, whose sending again then
/// finds the collector gone (the connection refused), is kept for the collector: the session
/// goes on here from the next events, and once the collector is back `send-kept` sends the
/// batch, which it skips what it holds of: every event in one store, once. The second failure
/// (not reached: nothing of that sending got there) made the proxy forget that the first one may
/// have, and it wrote the batch here too.
#[test]
fn a_batch_unanswered_and_then_not_reached_is_kept_for_the_collector_not_written_here_too() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port, run, _) = first_batch_through(&env, &storage, Pass::Gone);
    let calls = FIRST_BATCH_CALLS;
    let session = &the_remote_session(&storage);
    let ids_here = || -> Vec<String> {
        env.events(session)
            .iter()
            .map(|e| e["event_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let there = stored_ids(&storage, session);
    let both = ids_here().iter().filter(|id| there.contains(id)).count();
    assert_eq!(both, 0, "events in both stores: {}", run.stderr);
    assert_eq!(kept_batches(&env.store()), 1, "{}", run.stderr);
    let mut send = env.command(&["send-kept"]);
    send.env("AGENT_STRACE_ENDPOINT", format!("http://127.0.0.1:{port}"));
    let sent = crate::common::run_with_stdin(send, b"");
    assert_eq!(sent.code, 0, "{}", sent.stderr);
    once_in_either_store(&env, &storage, session, calls, &run.stderr);
}

/// Asserts that the events of `session`, a `cat` proxy's of `calls` calls, are each in one of
/// the collector's store (at `storage`) and this one, once, and none lost; `said` is the
/// proxy's stderr.
fn once_in_either_store(env: &TestEnv, storage: &Path, session: &str, calls: usize, said: &str) {
    let events = env.events(session);
    let here = events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned());
    let all: Vec<String> = stored_ids(storage, session)
        .into_iter()
        .chain(here)
        .collect();
    assert_each_once(&all, all.len());
    let tool_calls = event_kinds(storage, session)
        .into_iter()
        .chain(
            events
                .iter()
                .map(|e| e["event_type"].as_str().unwrap().to_owned()),
        )
        .filter(|k| k == "tool_call")
        .count();
    assert_eq!(tool_calls, 2 * calls, "none lost: {said}");
}

/// A proxy's session whose meta the collector got and did not answer in time, at the session's
/// start or when the proxy added who started it, is sent to the collector, the meta sent once
/// more at once: the session is whole there and not in the local store. It was recorded here
/// from that point on, while the collector listed it too, with no event.
#[test]
fn a_proxys_meta_answered_late_goes_again_and_the_session_is_in_one_store() {
    for held in [1, 2] {
        let env = TestEnv::new();
        let storage = env.path().join("srv");
        let (_server, port) = server(&env, &storage, &[]);
        let metas = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let gateway = gateway(port, move |path, _, _| {
            let n = usize::from(path == "/sessions")
                * (metas.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1);
            if n == held {
                Pass::Never
            } else {
                Pass::After(Duration::ZERO)
            }
        });
        let run = three_calls_through(&env, gateway);
        let said = format!("meta {held} held: {}", run.stderr);
        assert_eq!(env.sessions(), Vec::<String>::new(), "{said}");
        whole_at_the_collector(&env, &storage, 3, &said);
        let meta: Value = serde_json::from_slice(
            &std::fs::read(storage.join(the_remote_session(&storage)).join("meta.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(meta["agent_name"], "cat", "{said}");
        assert!(
            meta["attribution"]["os_user"].is_string(),
            "who started it: {meta}"
        );
    }
}

/// A proxy's session whose meta the collector got and did not answer, and whose collector is
/// then gone (the link went down with the request on it), is recorded here whole: no event was
/// sent, so none is lost or in both stores.
#[test]
fn a_proxys_meta_unanswered_then_a_collector_gone_leaves_the_session_whole_here() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    let gateway = gateway(port, |path, _, _| {
        if path == "/sessions" {
            Pass::Gone
        } else {
            Pass::After(Duration::ZERO)
        }
    });
    let run = three_calls_through(&env, gateway);
    let here = env.sessions();
    assert_eq!(here.len(), 1, "{}", run.stderr);
    assert_eq!(stored_ids(&storage, &here[0]), Vec::<String>::new());
    once_in_either_store(&env, &storage, &here[0], 3, &run.stderr);
    assert_eq!(env.meta(&here[0])["agent_name"], "cat");
}

/// A proxy whose collector takes the session's meta and never answers sends the meta twice, at
/// the session's start, and records the session here: never again later, when each try would
/// hold up its recorder, and a flood of messages then went past it unrecorded.
#[test]
fn a_proxy_sends_a_meta_never_answered_twice_and_records_the_session_here() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    let paths = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = paths.clone();
    let gateway = gateway(port, move |path, _, _| {
        seen.lock().unwrap().push(path.to_owned());
        if path == "/sessions" {
            Pass::Never
        } else {
            Pass::After(Duration::ZERO)
        }
    });
    let run = three_calls_through(&env, gateway);
    let sent = paths.lock().unwrap().clone();
    assert_eq!(sent, ["/sessions", "/sessions"], "{}", run.stderr);
    let here = env.sessions();
    assert_eq!(here.len(), 1, "{}", run.stderr);
    once_in_either_store(&env, &storage, &here[0], 3, &run.stderr);
}

/// Three calls through a `cat` proxy recording to the collector behind `gateway`, which it
/// gives 3 s for each answer: time enough on a loaded machine, and little to wait for one that
/// never comes. Every message is relayed.
fn three_calls_through(env: &TestEnv, gateway: u16) -> crate::common::Run {
    let input = tool_calls_input(3);
    let mut cmd = record_to(env, &format!("http://127.0.0.1:{gateway}"));
    cmd.env("AGENT_STRACE_PROXY_WAIT_MS", "3000");
    let run = crate::common::run_with_stdin(cmd, input.as_bytes());
    assert_eq!((run.code, run.stdout == input), (0, true), "{}", run.stderr);
    run
}

/// A proxy gives the collector as long as `AGENT_STRACE_PROXY_WAIT_MS` says for each request
/// (1 to 60,000 ms), 500 ms when it says nothing usable: a batch answered a second late is taken
/// at the first sending when the proxy waits longer, and sent again when it waits 500 ms.
#[test]
fn a_proxy_waits_for_the_collector_as_long_as_the_environment_says_within_bounds() {
    // How many times the first batch was sent; `whole`: the session must be whole at the
    // collector. 0 when the session's meta was not answered in time (a loaded machine, with
    // 500 ms) and the session went to the local store from its start: no batch was sent.
    let sent = |wait: Option<&str>, whole: bool| {
        let env = TestEnv::new();
        let storage = env.path().join("srv");
        let (_server, port) = server(&env, &storage, &[]);
        let (gateway, batches) = keeping_gateway(port, |batch| {
            Pass::After(Duration::from_secs(u64::from(batch == 1)))
        });
        let input = tool_calls_input(3);
        let mut cmd = record_to(&env, &format!("http://127.0.0.1:{gateway}"));
        match wait {
            Some(wait) => cmd.env("AGENT_STRACE_PROXY_WAIT_MS", wait),
            None => cmd.env_remove("AGENT_STRACE_PROXY_WAIT_MS"),
        };
        let run = crate::common::run_with_stdin(cmd, input.as_bytes());
        assert_eq!((run.code, run.stdout == input), (0, true), "{}", run.stderr);
        if whole {
            whole_at_the_collector(&env, &storage, 3, &run.stderr);
        }
        sent_first(&batches)
    };
    assert_eq!(sent(Some("60000"), true), 1, "waited for the answer");
    for wait in [None, Some("0"), Some("60001"), Some("soon")] {
        let sent = (0..5)
            .map(|_| sent(wait, false))
            .find(|&sent| sent > 0)
            .unwrap_or_else(|| panic!("{wait:?}: the session's meta was never answered in time"));
        assert!(sent >= 2, "{wait:?}: waited for the answer");
    }
}

/// The one session a collector's store at `storage` holds.
fn the_remote_session(storage: &Path) -> String {
    let remote: Vec<String> = std::fs::read_dir(storage)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    assert_eq!(remote.len(), 1, "{remote:?}");
    remote[0].clone()
}

/// The proxy's input of `calls` tool calls, one JSON line each.
fn tool_calls_input(calls: usize) -> String {
    let mut input = String::new();
    for n in 0..calls {
        let call = json!({"jsonrpc": "2.0", "id": n, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": format!("{n}")}}});
        input.push_str(&call.to_string());
        input.push('\n');
    }
    input
}

/// How many proxy batches a store's spool keeps.
fn kept_batches(store: &Path) -> usize {
    std::fs::read_dir(store.join(".spool")).map_or(0, |entries| {
        entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".batch"))
            .count()
    })
}

/// A proxy's batch that a gateway fails after the collector stored it, every time it is sent
/// (the session's last, or the fourth in a row), is kept in the store's spool, not written
/// here: `send-kept` sends it, and the collector, which skips what it holds, stores each event
/// once, and none is in both stores. It went to the local store, and was in both.
#[test]
fn a_proxy_batch_the_collector_may_hold_is_kept_for_it_and_sent_by_send_kept() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    // Every batch after the first.
    let gateway = relay(port, Duration::ZERO, |n| n >= 2);
    let calls = 300;
    let input = tool_calls_input(calls);
    let cmd = record_to(&env, &format!("http://127.0.0.1:{gateway}"));
    let run = crate::common::run_with_stdin(cmd, input.as_bytes());
    assert_eq!((run.code, run.stdout == input), (0, true), "{}", run.stderr);
    assert_eq!(kept_batches(&env.store()), 1, "{}", run.stderr);
    let listed = env.run(&["list"]);
    assert!(
        listed
            .stderr
            .contains("1 proxy's batch of events waits for the collector in "),
        "{}",
        listed.stderr
    );
    // Without a collector to send to, it names what waits as what it is: it once said "1 kept
    // hook call" of a proxy's batch.
    let mut nowhere = env.command(&["send-kept"]);
    nowhere.env_remove("AGENT_STRACE_ENDPOINT");
    let refused = crate::common::run_with_stdin(nowhere, b"");
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.starts_with(
            "error: AGENT_STRACE_ENDPOINT does not name the collector to send 1 kept proxy's batch of events to"
        ),
        "{}",
        refused.stderr
    );
    let mut send = env.command(&["send-kept"]);
    send.env("AGENT_STRACE_ENDPOINT", format!("http://127.0.0.1:{port}"));
    let sent = crate::common::run_with_stdin(send, b"");
    assert_eq!(
        (sent.code, sent.stdout.as_str()),
        (
            0,
            format!(
                "Sent 1 kept proxy's batch of events to the collector http://127.0.0.1:{port}.\n"
            )
            .as_str()
        ),
        "{}",
        sent.stderr
    );
    assert_eq!(kept_batches(&env.store()), 0);
    // None in both stores, none twice in one, none lost.
    once_in_either_store(
        &env,
        &storage,
        &the_remote_session(&storage),
        calls,
        &run.stderr,
    );
    assert!(
        run.stderr
            .contains("until it takes them (`agent-strace send-kept` sends them now)"),
        "{}",
        run.stderr
    );
}

/// `send-kept --here` records a proxy's kept batch in this store, in its session (made from
/// the meta kept with it), for a collector gone for good: with what the collector took, every
/// event is kept once.
#[test]
fn send_kept_here_records_a_proxys_kept_batch_in_its_session() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    let gateway = relay_with(port, Duration::ZERO, |n| n >= 2, false);
    let calls = 300;
    let input = tool_calls_input(calls);
    let cmd = record_to(&env, &format!("http://127.0.0.1:{gateway}"));
    let run = crate::common::run_with_stdin(cmd, input.as_bytes());
    assert_eq!((run.code, run.stdout == input), (0, true), "{}", run.stderr);
    assert_eq!(kept_batches(&env.store()), 1, "{}", run.stderr);
    let mut here = env.command(&["send-kept", "--here"]);
    here.env_remove("AGENT_STRACE_ENDPOINT");
    let recorded = crate::common::run_with_stdin(here, b"");
    assert_eq!(recorded.code, 0, "{}", recorded.stderr);
    assert_eq!(kept_batches(&env.store()), 0);
    let session = &the_remote_session(&storage);
    assert_eq!(env.meta(session)["agent_name"], "cat");
    let local = env.events(session);
    let ids: Vec<String> = stored_ids(&storage, session)
        .into_iter()
        .chain(
            local
                .iter()
                .map(|e| e["event_id"].as_str().unwrap().to_owned()),
        )
        .collect();
    assert_each_once(&ids, ids.len());
    let tool_calls = event_kinds(&storage, session)
        .into_iter()
        .chain(
            local
                .iter()
                .map(|e| e["event_type"].as_str().unwrap().to_owned()),
        )
        .filter(|k| k == "tool_call")
        .count();
    assert_eq!(tool_calls, 2 * calls, "none lost");
}

/// A kept batch this store cannot take (a damaged line, an event of another session, a meta
/// naming `../` as its session) is set aside in the spool, named in a warning, and makes
/// `send-kept --here` exit 4; the batch behind it is recorded. They were taken out of the
/// spool and lost, all their good events with them, and counted as recorded (exit 0).
#[test]
fn send_kept_here_sets_aside_a_batch_it_cannot_record() {
    let env = TestEnv::new();
    let spool = env.store().join(".spool");
    std::fs::create_dir_all(&spool).unwrap();
    let meta =
        |session: &str| json!({"session_id": session, "started_at": 1.7e9, "agent_name": "cat"});
    let event = |id: &str, session: &str| {
        json!({"event_type": "tool_call", "timestamp": 1.7e9, "event_id": id,
               "session_id": session, "data": {"tool_name": "Read"}})
    };
    let write = |name: &str, lines: &[String]| {
        std::fs::write(spool.join(name), lines.join("\n") + "\n").unwrap();
    };
    let damaged = "00000001700000000000001.a1.batch";
    write(
        damaged,
        &[
            meta("torn").to_string(),
            event("e1", "torn").to_string(),
            "{\"event_ty".to_owned(),
        ],
    );
    let other = "00000001700000000000002.a2.batch";
    write(
        other,
        &[meta("mine").to_string(), event("e2", "theirs").to_string()],
    );
    let escaping = "00000001700000000000003.a3.batch";
    write(
        escaping,
        &[
            meta("../out").to_string(),
            event("e3", "../out").to_string(),
        ],
    );
    write(
        "00000001700000000000004.a4.batch",
        &[meta("good").to_string(), event("e4", "good").to_string()],
    );
    let run = env.run(&["send-kept", "--here"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("Recorded 1 kept proxy's batch of events"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains(
            "3 kept proxies' batches of events could not be recorded here and were set aside"
        ),
        "{}",
        run.stderr
    );
    for name in [damaged, other, escaping] {
        assert!(
            spool.join(format!("{name}.unreadable")).is_file(),
            "{name}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(name), "{name}: {}", run.stderr);
    }
    assert_eq!(env.events("good").len(), 1);
    for session in ["torn", "mine", "theirs"] {
        assert!(!env.store().join(session).exists(), "{session}");
    }
    assert!(!env.path().join("out").exists());
    // Nothing waits now: a second run has nothing to do.
    let again = env.run(&["send-kept", "--here"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
}

/// Writes a proxy's kept batch into `spool` as `name`: the meta of `session`, then events
/// `ids` of it, a second apart.
fn plant_batch(spool: &Path, name: &str, session: &str, ids: &[String]) {
    std::fs::create_dir_all(spool).unwrap();
    let meta = json!({"session_id": session, "started_at": 1.7e9, "agent_name": "cat"});
    let mut lines = vec![meta.to_string()];
    for (n, id) in ids.iter().enumerate() {
        let event = json!({"event_type": "tool_call", "timestamp": 1.7e9 + n as f64,
            "event_id": id, "session_id": session, "data": {"tool_name": "echo"}});
        lines.push(event.to_string());
    }
    std::fs::write(spool.join(name), lines.join("\n") + "\n").unwrap();
}

/// A kept batch put back in the spool after its first events were recorded here (its recorder
/// killed before it took the batch out, the batch renamed back ten minutes later) is recorded
/// by `send-kept --here` with each event once: the events its session holds already are not
/// written again. They were appended a second time.
#[test]
fn send_kept_here_records_a_batch_recorded_in_part_before_with_each_event_once() {
    let env = TestEnv::new();
    let spool = env.store().join(".spool");
    let session = "again";
    let ids: Vec<String> = (0..10).map(|n| format!("ev{n}")).collect();
    let name = "00000001700000000000000.a1.batch";
    // Its first four recorded, as a recorder killed after writing them leaves the session.
    plant_batch(&spool, name, session, &ids[..4]);
    let first = env.run(&["send-kept", "--here"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(env.events(session).len(), 4);
    plant_batch(&spool, name, session, &ids);
    let run = env.run(&["send-kept", "--here"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let recorded: Vec<String> = env
        .events(session)
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recorded, ids);
    assert!(
        run.stderr
            .contains("6 events, and 4 its session here held already"),
        "{}",
        run.stderr
    );
    assert_eq!(kept_batches(&env.store()), 0);
}

/// A batch `send-kept --here` set aside as unreadable is said by `list` and by every later
/// `send-kept`, nothing waiting or not, and holds room in the spool's bound: with 1,000 set
/// aside, a hook whose collector may hold its call records it here. Only the run that set it
/// aside said so; `list` said nothing waits, and batches set aside filled the disk unbounded.
#[test]
fn batches_set_aside_are_said_by_list_and_send_kept_and_count_in_the_spools_bound() {
    let env = TestEnv::new();
    let project = env.path().join("project");
    let local = project.join(".agent-traces");
    let spool = local.join(".spool");
    let cwd = project.to_str().unwrap();
    let damaged = "00000001700000000000001.a1.batch";
    plant_batch(&spool, damaged, "torn", &["e1".to_owned()]);
    std::fs::write(
        spool.join(damaged),
        std::fs::read_to_string(spool.join(damaged)).unwrap() + "{\"event_ty\n",
    )
    .unwrap();
    let mut here = env.command(&["send-kept", "--here", "--project", cwd]);
    here.env_remove("AGENT_STRACE_ENDPOINT");
    let run = crate::common::run_with_stdin(here, b"");
    assert_eq!(run.code, 4, "{}", run.stderr);
    let aside = spool.join(format!("{damaged}.unreadable"));
    assert!(aside.is_file(), "{}", run.stderr);
    let said = format!(
        "1 proxy's batch of events set aside in {} as unreadable (`<name>.batch.unreadable`) waits for you",
        spool.display()
    );
    let listed = env.run(&["list", "--project", cwd]);
    assert!(listed.stderr.contains(&said), "{}", listed.stderr);
    let sent = send_kept(&env, cwd, "http://127.0.0.1:9", None);
    assert_nothing_waits(&sent);
    assert!(sent.stderr.contains(&said), "{}", sent.stderr);

    for n in 2..=1000 {
        std::fs::copy(&aside, spool.join(format!("{n:020}.a{n}.batch.unreadable"))).unwrap();
    }
    let session = "behind-batches-set-aside";
    let failing = failing_proxy(
        b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 11\r\nconnection: close\r\n\r\nBad Gateway",
    );
    let (run, _) = hook_to(
        &env,
        &failing,
        None,
        "user-prompt",
        &prompt(session, &project, "no room"),
    );
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(kept_calls(&local), 0);
    assert_eq!(stored_lines(&local, session), 1);
    let log = std::fs::read_to_string(local.join("hook-errors.log")).unwrap();
    assert!(log.contains("the spool is full"), "{log}");
}

/// The next hook of the store sends a proxy's kept batch before its own call, as it sends
/// kept calls: the collector then holds the whole session, each event once.
#[test]
fn the_next_hook_sends_a_proxys_kept_batch_first() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    let gateway = relay_with(port, Duration::ZERO, |n| n >= 2, false);
    let calls = 300;
    let input = tool_calls_input(calls);
    let cmd = record_to(&env, &format!("http://127.0.0.1:{gateway}"));
    let run = crate::common::run_with_stdin(cmd, input.as_bytes());
    assert_eq!((run.code, run.stdout == input), (0, true), "{}", run.stderr);
    assert_eq!(kept_batches(&env.store()), 1, "{}", run.stderr);
    let session = the_remote_session(&storage);
    let (event, payload) = payloads("after-the-proxy", env.path()).remove(0);
    let (hook, _) = hook_to(
        &env,
        &format!("http://127.0.0.1:{port}"),
        None,
        event,
        &payload,
    );
    assert_eq!((hook.code, hook.stderr.as_str()), (0, ""));
    assert_eq!(
        (kept_batches(&env.store()), kept_calls(&env.store())),
        (0, 0)
    );
    assert_eq!(stored_lines(&storage, "after-the-proxy"), 1);
    let here: Vec<String> = env
        .events(&session)
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect();
    let ids: Vec<String> = stored_ids(&storage, &session)
        .into_iter()
        .chain(here)
        .collect();
    assert_each_once(&ids, ids.len());
    let tool_calls = event_kinds(&storage, &session)
        .iter()
        .filter(|k| *k == "tool_call")
        .count();
    assert_eq!(tool_calls, 2 * calls, "none lost");
}

/// Writes a proxy's kept batch into `spool` as `name`: the meta of `session`, then its events
/// `(id, kind, seconds after 1.7e9)`.
fn plant_events(spool: &Path, name: &str, session: &str, events: &[(&str, &str, f64)]) {
    std::fs::create_dir_all(spool).unwrap();
    let meta = json!({"session_id": session, "started_at": 1.7e9, "agent_name": "cat"});
    let mut lines = vec![meta.to_string()];
    for (id, kind, at) in events {
        let event = json!({"event_type": kind, "timestamp": 1.7e9 + at, "event_id": id,
            "session_id": session, "data": {"tool_name": "echo"}});
        lines.push(event.to_string());
    }
    std::fs::write(spool.join(name), lines.join("\n") + "\n").unwrap();
}

/// Waits at most `deadline` for `child` to exit; its exit code, `None` when it did not.
fn exited_within(child: &mut std::process::Child, deadline: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

/// A proxy's batch kept for the collector and recorded by `send-kept --here` after the session
/// went on (and ended) in the local store comes after the session's end in its file, earlier
/// in time: `replay --follow` and `watch` of the ended session end with it, and replay shows
/// the events in time order. Both followed the session for ever, waiting for an end that was
/// no longer its last line.
#[test]
fn a_batch_recorded_late_after_the_sessions_end_leaves_it_ended() {
    let env = TestEnv::new();
    let spool = env.store().join(".spool");
    let session = "went-on-here";
    // What went on in the local store: the session's last events, its end among them.
    plant_events(
        &spool,
        "00000001700000100000000.b2.batch",
        session,
        &[("l1", "tool_call", 100.0), ("l2", "session_end", 200.0)],
    );
    assert_eq!(env.run(&["send-kept", "--here"]).code, 0);
    // The kept batch, the session's first events, recorded late.
    plant_events(
        &spool,
        "00000001700000000000000.b1.batch",
        session,
        &[("e0", "session_start", 0.0), ("e1", "tool_call", 1.0)],
    );
    assert_eq!(env.run(&["send-kept", "--here"]).code, 0);
    let order: Vec<Value> = env
        .events(session)
        .iter()
        .map(|e| e["event_id"].clone())
        .collect();
    assert_eq!(
        order,
        ["l1", "l2", "e0", "e1"],
        "written in the order recorded"
    );

    for args in [
        &["replay", session, "--follow"][..],
        // Idle for an hour: only the session's end ends it within the minute given a hang.
        &["watch", session, "--idle", "3600s"][..],
    ] {
        let mut child = env
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let code = exited_within(&mut child, crate::common::wait::HANG);
        let run = crate::common::Run::of(child.wait_with_output().unwrap());
        assert_eq!(code, Some(0), "{args:?} ends with the session: {run:?}");
        let start = run.stdout.find("session_start").unwrap();
        let end = run.stdout.find("session_end").unwrap();
        assert!(start < end, "{}", run.stdout);
    }
    // `list` and the index say so too: it was listed as running, resumed after its end.
    let listed = env.run(&["list", "--format", "json"]).json();
    assert!(!listed[0]["ended_at"].is_null(), "{listed}");
}

/// `send-kept --here` writes each event of a proxy's kept batch once, as the collector does:
/// an id the batch holds twice was written twice, and an event without an id was dropped as
/// one the session held when it held any event without one.
#[test]
fn a_batch_recorded_here_writes_each_id_once_and_keeps_events_without_one() {
    let env = TestEnv::new();
    let spool = env.store().join(".spool");
    let session = "twice-in-one";
    plant_events(
        &spool,
        "00000001700000000000000.b1.batch",
        session,
        &[
            ("e0", "session_start", 0.0),
            ("e1", "tool_call", 1.0),
            ("e1", "tool_call", 1.0),
            ("", "tool_call", 2.0),
        ],
    );
    assert_eq!(env.run(&["send-kept", "--here"]).code, 0);
    plant_events(
        &spool,
        "00000001700000100000000.b2.batch",
        session,
        &[("", "tool_call", 3.0), ("e4", "tool_call", 4.0)],
    );
    assert_eq!(env.run(&["send-kept", "--here"]).code, 0);
    let ids: Vec<Value> = env
        .events(session)
        .iter()
        .map(|e| e["event_id"].clone())
        .collect();
    assert_eq!(ids, ["e0", "e1", "", "", "e4"]);
}

/// An end stamped at a time no session can have (the year 2286), followed in the file by the
/// session going on, does not end it: `watch` stopped watching the agent at that end, and
/// `list` showed the session ended, as its latest event by time, and `retention` deleted it.
#[test]
fn an_end_stamped_in_the_far_future_does_not_end_a_session_that_goes_on() {
    let env = TestEnv::new();
    let spool = env.store().join(".spool");
    let session = "stamped-late";
    let year_2286 = 1e10 - 1.7e9;
    plant_events(
        &spool,
        "00000001700000000000000.b1.batch",
        session,
        &[
            ("e0", "session_start", 0.0),
            ("e1", "session_end", year_2286),
            ("e2", "tool_call", 2.0),
        ],
    );
    assert_eq!(env.run(&["send-kept", "--here"]).code, 0);

    let listed = env.run(&["list", "--format", "json"]).json();
    assert!(listed[0]["ended_at"].is_null(), "{listed}");
    let cleaned = env.run(&["retention", "clean", "--max-sessions", "0", "--dry-run"]);
    assert!(
        cleaned.stdout.contains("still being written: stamped-late"),
        "{cleaned:?}"
    );
    let mut child = env
        .command(&["watch", session, "--idle", "2s"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let code = exited_within(&mut child, crate::common::wait::HANG);
    let run = crate::common::Run::of(child.wait_with_output().unwrap());
    assert_eq!(code, Some(0), "{run:?}");
    assert!(
        run.stderr.contains("no new event for 2s"),
        "watched until idle, not stopped at the end: {run:?}"
    );
}

/// Plants in `env`'s spool a proxy's batch of three events (`kept0` … of session
/// `kept-earlier`) kept for the collector by an earlier session; returns their ids.
fn plant_kept_earlier(env: &TestEnv) -> Vec<String> {
    let ids: Vec<String> = (0..3).map(|n| format!("kept{n}")).collect();
    plant_batch(
        &env.store().join(".spool"),
        "00000001700000000000000.k1.batch",
        "kept-earlier",
        &ids,
    );
    ids
}

/// A proxy whose store keeps a batch for the collector (a proxy's, from an earlier session)
/// sends it, beside its relay, as a hook would: a store used only by proxies has no hook, and
/// its kept batches waited for `send-kept` for ever.
#[test]
fn a_proxy_sends_what_its_store_keeps_for_the_collector() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    let ids = plant_kept_earlier(&env);
    let input = tool_calls_input(3);
    let cmd = record_to(&env, &format!("http://127.0.0.1:{port}"));
    let run = crate::common::run_with_stdin(cmd, input.as_bytes());
    assert_eq!((run.code, run.stdout == input), (0, true), "{}", run.stderr);
    assert_eq!(kept_batches(&env.store()), 0, "{}", run.stderr);
    assert_eq!(stored_ids(&storage, "kept-earlier"), ids);
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
    assert!(
        log.contains("sent 1 kept proxy's batch of events to the collector"),
        "{log}"
    );
}

/// `record-http` sends what its store keeps for the collector while it serves, as `record`
/// does: it runs for hours, and sent nothing of it.
#[test]
fn record_http_sends_what_its_store_keeps_for_the_collector() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    let ids = plant_kept_earlier(&env);
    let mut command = env.command(&["record-http", "http://127.0.0.1:9/mcp", "--port", "0"]);
    command.env("AGENT_STRACE_ENDPOINT", format!("http://127.0.0.1:{port}"));
    let (proxy, _) = crate::common::net::spawn_proxy(command);
    wait_until("the proxy has sent the batches kept earlier", || {
        kept_batches(&env.store()) == 0
    });
    assert_eq!(stored_ids(&storage, "kept-earlier"), ids);
    assert_eq!(proxy.terminate(), Some(0));
}

/// A proxy whose collector holds back its answers (to the kept batch it sends, too) relays
/// all its traffic and ends: the sending is bounded and beside the relay; the batch waits.
#[test]
fn a_proxy_whose_collector_holds_its_answers_relays_and_ends() {
    let env = TestEnv::new();
    let (endpoint, _got, _release) = holding_collector();
    plant_batch(
        &env.store().join(".spool"),
        "00000001700000000000000.k1.batch",
        "kept-earlier",
        &["kept0".to_owned()],
    );
    let input = tool_calls_input(3);
    let mut cmd = env.command(&["record", "--name", "cat", "--", "cat"]);
    cmd.env("AGENT_STRACE_ENDPOINT", &endpoint);
    let run = crate::common::run_with_stdin(cmd, input.as_bytes());
    assert_eq!((run.code, run.stdout == input), (0, true), "{}", run.stderr);
    assert_eq!(kept_batches(&env.store()), 1, "{}", run.stderr);
}

/// A collector whose connections never open: its listening queue is full (a backlog of none,
/// taken by one connection held open), so the system drops every new connection's SYN, as a
/// host that is down and firewalled does. Its endpoint, and the connection that fills it.
fn unreachable_collector() -> (String, std::net::TcpListener, TcpStream) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = {
        let _context = runtime.enter();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        socket.listen(0).unwrap().into_std().unwrap()
    };
    let port = listener.local_addr().unwrap().port();
    let filling = TcpStream::connect(("127.0.0.1", port)).unwrap();
    (format!("http://127.0.0.1:{port}"), listener, filling)
}

/// A proxy that ends while its sending of what the store keeps is still opening a connection
/// to the collector (which it never opens) leaves a call the collector never saw marked as
/// such (`.unseen.call`), to be recorded here by a hook once ten minutes old. The sending took
/// the mark off before it connected, and the proxy's end, which waits for it 2 s, cut it
/// before it could put the mark back: the call waited for the collector for ever.
#[test]
fn a_proxy_ending_while_its_sending_connects_leaves_an_unseen_call_marked() {
    let env = TestEnv::new();
    let session = "unseen-at-the-end";
    let (project, _) = kept_behind_a_failing_proxy(&env, session, None);
    let local = project.join(".agent-traces");
    let spool = local.join(".spool");
    let seen = kept_names(&local).remove(0);
    let unseen = seen.replace(".call", ".unseen.call");
    std::fs::rename(spool.join(&seen), spool.join(&unseen)).unwrap();
    let (endpoint, _listener, _filling) = unreachable_collector();
    let input = tool_calls_input(1);
    let mut cmd = env.command(&["record", "--name", "cat", "--", "cat"]);
    cmd.current_dir(&project)
        .env("AGENT_STRACE_ENDPOINT", &endpoint);
    let run = crate::common::run_with_stdin(cmd, input.as_bytes());
    assert_eq!((run.code, run.stdout == input), (0, true), "{}", run.stderr);
    assert_eq!(kept_names(&local), [unseen], "{}", run.stderr);
}

/// A hook whose collector never opens its connection within the hook's time (its SYNs
/// dropped) sent nothing: the call is recorded here, as when the collector refuses the
/// connection. The time running out while connecting was taken for a call the collector may
/// hold: it was kept for the collector, and waited for it however long.
#[test]
fn a_hook_whose_collector_never_opens_its_connection_records_the_call_here() {
    let env = TestEnv::new();
    let session = "never-connected";
    let project = env.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let local = project.join(".agent-traces");
    let (endpoint, _listener, _filling) = unreachable_collector();
    let (run, _) = hook_waiting(
        &env,
        &endpoint,
        None,
        "user-prompt",
        &prompt(session, &project, "hello"),
        "300",
    );
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    let log = std::fs::read_to_string(local.join("hook-errors.log")).unwrap_or_default();
    assert_eq!(kept_calls(&local), 0, "{log}");
    assert_eq!(stored_lines(&local, session), 1, "{log}");
    assert!(
        log.contains("not reached (no connection within ") && log.contains(" ms); recorded here"),
        "{log}"
    );
}

/// A `resolv.conf` in `dir` naming a DNS server on this machine that never answers (its
/// socket, which the caller holds), given the most glibc allows: 30 s a try, five tries, so
/// that a lookup waited for takes minutes; `None` where a command cannot be run with it in
/// place of the system's (no `unshare`, or not root).
fn silent_dns(dir: &Path) -> Option<(std::net::UdpSocket, PathBuf)> {
    let ok = Command::new("unshare")
        .args(["-m", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !ok {
        return None;
    }
    // An address of its own on the loopback: tests running at once each bind theirs.
    let socket =
        (1..250).find_map(|n| std::net::UdpSocket::bind(format!("127.83.{n}.53:53")).ok())?;
    let resolv = dir.join("resolv.conf");
    std::fs::write(
        &resolv,
        format!(
            "nameserver {}\noptions timeout:30 attempts:5\n",
            socket.local_addr().unwrap().ip()
        ),
    )
    .unwrap();
    Some((socket, resolv))
}

/// `command` run with `resolv` in place of the system's `/etc/resolv.conf` (a mount of its own).
fn with_resolv(command: &Command, resolv: &Path) -> Command {
    let mut wrapped = Command::new("unshare");
    wrapped
        .args([
            "-m",
            "sh",
            "-c",
            "mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"",
        ])
        .arg(resolv)
        .arg(command.get_program())
        .args(command.get_args());
    if let Some(dir) = command.get_current_dir() {
        wrapped.current_dir(dir);
    }
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => wrapped.env(name, value),
            None => wrapped.env_remove(name),
        };
    }
    wrapped
}

/// A collector whose name the DNS server never answers for holds back neither a hook (beyond
/// its time) nor `record-http`'s start, and so its relay: the lookup goes on, on one thread,
/// while the request gives up at its time. Both waited for the whole lookup (minutes here,
/// 10 s or more under the system's defaults), the client's runtime waiting for it at its end.
/// The bounds are the minute a test gives a hang, far below the lookup, so that a loaded
/// machine's slow start tells nothing (they were 2.5 s against a lookup of 5 s, then 10 s
/// against 20 s).
#[test]
fn a_collector_name_slow_to_look_up_holds_back_neither_a_hook_nor_a_proxys_relay() {
    let env = TestEnv::new();
    let Some((_dns, resolv)) = silent_dns(env.path()) else {
        eprintln!("skipped: needs root and unshare to give a command a resolv.conf of its own");
        return;
    };
    let endpoint = "http://collector.agent-strace.test:4317";
    let project = env.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let session = "slow-name";
    let mut hook = env.command(&["hook", "user-prompt"]);
    hook.env("AGENT_STRACE_ENDPOINT", endpoint)
        .env("AGENT_STRACE_ENDPOINT_WAIT_MS", "300")
        .env_remove("AGENT_STRACE_TOKEN");
    let start = Instant::now();
    let run = crate::common::run_with_stdin(
        with_resolv(&hook, &resolv),
        prompt(session, &project, "hello").to_string().as_bytes(),
    );
    let took = start.elapsed();
    let local = project.join(".agent-traces");
    let log = std::fs::read_to_string(local.join("hook-errors.log")).unwrap_or_default();
    assert!(
        took < crate::common::wait::HANG,
        "the hook waited for the lookup ({took:?}): {log}"
    );
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(stored_lines(&local, session), 1, "{log}");

    let mut proxy = env.command(&["record-http", "http://127.0.0.1:9/mcp", "--port", "0"]);
    proxy.env("AGENT_STRACE_ENDPOINT", endpoint);
    let start = Instant::now();
    let (proxy, _) = crate::common::net::spawn_proxy(with_resolv(&proxy, &resolv));
    let took = start.elapsed();
    assert!(
        took < crate::common::wait::HANG,
        "record-http waited for the lookup to start ({took:?})"
    );
    assert_eq!(proxy.terminate(), Some(0));
}

/// A batch the collector may hold that neither the spool nor the local store can take (the
/// store's folder cannot be made) is not lost: the proxy says so in one line on stderr and
/// writes its events after it, one JSON line each, as the collector's `/events` takes them.
/// They were lost, with only "recording stopped" said.
#[test]
fn a_held_batch_the_local_store_cannot_take_is_written_to_stderr() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    // Every batch after the first fails at a gateway that cannot reach the collector.
    let gateway = relay_with(port, Duration::ZERO, |n| n >= 2, false);
    let blocker = env.path().join("blocker");
    std::fs::write(&blocker, "a file where the store's folder would be").unwrap();
    let calls = 300;
    let input = tool_calls_input(calls);
    let mut cmd = record_to(&env, &format!("http://127.0.0.1:{gateway}"));
    cmd.env("AGENT_TRACE_DIR", blocker.join(".agent-traces"));
    let run = crate::common::run_with_stdin(cmd, input.as_bytes());
    assert_eq!((run.code, run.stdout == input), (0, true), "{}", run.stderr);
    let told: Vec<Value> = run
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e.get("event_type").is_some())
        .collect();
    let session = &the_remote_session(&storage);
    let told_ids = told
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned());
    let both: Vec<String> = stored_ids(&storage, session)
        .into_iter()
        .chain(told_ids)
        .collect();
    assert_each_once(&both, both.len());
    let tool_calls = event_kinds(&storage, session)
        .into_iter()
        .chain(
            told.iter()
                .map(|e| e["event_type"].as_str().unwrap().to_owned()),
        )
        .filter(|k| k == "tool_call")
        .count();
    assert_eq!(tool_calls, 2 * calls, "none lost: {}", run.stderr);
    assert!(
        run.stderr.contains("could not be written here either"),
        "{}",
        run.stderr
    );
    // Each such line counts its events as a sentence does: `1 event`, `12 events`.
    let mut counted = 0;
    for line in run.stderr.lines() {
        let Some(at) = line.find(" the collector did not take (or may hold") else {
            continue;
        };
        let words: Vec<&str> = line[..at].rsplitn(2, ' ').collect();
        let n = words[1].rsplit(' ').next().unwrap().replace(',', "");
        let n: u64 = n.parse().unwrap_or_else(|_| panic!("{n:?} in {line}"));
        let noun = if n == 1 { "event" } else { "events" };
        assert_eq!(words[0], noun, "{line}");
        counted += 1;
    }
    assert!(counted > 0, "{}", run.stderr);
}

/// A collector that holds each request's answer until `release` says so: it sends what it
/// got on `got` (the request's body) and then answers 200 as a collector does (the session
/// named, `"status": "ok"`). Its endpoint.
fn holding_collector() -> (
    String,
    std::sync::mpsc::Receiver<String>,
    std::sync::mpsc::Sender<()>,
) {
    holding_collector_answering(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 35\r\nconnection: close\r\n\r\n{\"session_id\":\"held\",\"status\":\"ok\"}",
    )
}

/// [`holding_collector`], answering `answer` once released.
fn holding_collector_answering(
    answer: &'static [u8],
) -> (
    String,
    std::sync::mpsc::Receiver<String>,
    std::sync::mpsc::Sender<()>,
) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let (got_tx, got) = std::sync::mpsc::channel();
    let (release, release_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let Some((_, body)) = read_request(&mut stream) else {
                continue;
            };
            let _ = got_tx.send(String::from_utf8_lossy(&body).into_owned());
            if release_rx.recv().is_err() {
                return;
            }
            let _ = stream.write_all(answer);
        }
    });
    (endpoint, got, release)
}

/// A call the collector never saw, kept past ten minutes, that `send-kept` is sending while a
/// hook runs: the hook leaves it to `send-kept`, and the collector's store alone holds it. The
/// hook took it as one to record here (the collector had not answered yet), and the collector
/// then took it too: the call was in both stores.
#[test]
fn an_unseen_call_send_kept_is_sending_is_not_recorded_here_by_a_hook() {
    let env = TestEnv::new();
    let session = "sent-and-recorded";
    let (project, failing) = kept_behind_a_failing_proxy(&env, session, None);
    let local = project.join(".agent-traces");
    let cwd = project.to_str().unwrap().to_owned();
    let (run, _) = hook_to(
        &env,
        &failing,
        None,
        "user-prompt",
        &prompt(session, &project, "second"),
    );
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    // Only the second, unseen, call stays, kept long ago.
    std::fs::remove_file(local.join(".spool").join(&kept_names(&local)[0])).unwrap();
    age_kept_calls(&local, Duration::from_secs(20 * 60));
    assert!(kept_names(&local)[0].ends_with(".unseen.call"));

    let (endpoint, got, release) = holding_collector();
    let mut send = env.command(&["send-kept", "--project", &cwd]);
    send.env("AGENT_STRACE_ENDPOINT", &endpoint)
        .env_remove("AGENT_STRACE_TOKEN")
        .env_remove("AGENT_STRACE_AUTH_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let sending = send.spawn().unwrap();
    let body = got.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(body.contains("second"), "{body}");
    // A hook of the project meanwhile, its collector not reached.
    let nobody = NobodyListens::new();
    let gone = nobody.url();
    let (run, _) = hook_to(
        &env,
        &gone,
        None,
        "user-prompt",
        &prompt(session, &project, "third"),
    );
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    release.send(()).unwrap();
    let sent = crate::common::Run::of(sending.wait_with_output().unwrap());
    // The hook kept its own call behind the one being sent: it still waits.
    assert_eq!(
        (sent.code, sent.stdout.as_str()),
        (
            4,
            format!("Sent 1 kept hook call to the collector {endpoint}.\n").as_str()
        ),
        "{}",
        sent.stderr
    );
    assert!(
        sent.stderr
            .starts_with("error: 1 kept hook call still waits"),
        "{}",
        sent.stderr
    );
    let here =
        std::fs::read_to_string(local.join(session).join("events.ndjson")).unwrap_or_default();
    assert!(!here.contains("second"), "in both stores: {here}");
}

/// A call the spool cannot hold whole (the disk fills while it is written) leaves no part of
/// itself there: the hook says it cannot keep it and records it here. The part written stayed
/// under a hidden name for ever, counted in no bound, holding the space the disk lacked.
#[test]
fn a_call_the_full_disk_cuts_short_leaves_nothing_in_the_spool() {
    let env = TestEnv::new();
    let project = env.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let local = project.join(".agent-traces");
    let failing = failing_proxy(
        b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 11\r\nconnection: close\r\n\r\nBad Gateway",
    );
    let long = "words ".repeat(8 * 1024);
    let mut hook = env.command(&["hook", "user-prompt"]);
    hook.env("AGENT_STRACE_ENDPOINT", &failing)
        .env("AGENT_STRACE_ENDPOINT_WAIT_MS", "5000")
        .env_remove("AGENT_STRACE_TOKEN");
    let full = crate::common::with_a_full_disk_at_32_kib(&hook);
    let payload = prompt("cut-short-in-the-spool", &project, &long);
    let run = crate::common::run_with_stdin(full, payload.to_string().as_bytes());
    // The local store cannot take it either, nor the log the long line that carries it: the
    // call is written on stderr, not lost.
    assert_eq!(run.code, 0);
    assert!(
        run.stderr.contains(
            "the call is not recorded, and follows as the collector's /hooks takes it: {\"event\":\"user-prompt\""
        ),
        "{}",
        &run.stderr[..run.stderr.len().min(300)]
    );
    let log = std::fs::read_to_string(local.join("hook-errors.log")).unwrap();
    assert!(log.contains("cannot keep the call"), "{log}");
    let left: Vec<String> = std::fs::read_dir(local.join(".spool"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Many hooks keeping their calls at once near the spool's bound leave it within the bound,
/// and each call is in one place once: kept, or recorded here. Each counted the spool before
/// writing, and all that counted below the bound kept their calls, past it.
#[test]
fn hooks_keeping_calls_at_once_leave_the_spool_within_its_bound() {
    let env = TestEnv::new();
    let session = "at-the-bound";
    let (project, failing) = kept_behind_a_failing_proxy(&env, session, None);
    let local = project.join(".agent-traces");
    let spool = local.join(".spool");
    for n in 1..995 {
        std::fs::write(spool.join(format!("{n:020}.planted{n}.call")), "{}").unwrap();
    }
    let hooks: Vec<_> = (0..40)
        .map(|n| {
            let mut cmd = env.command(&["hook", "user-prompt"]);
            cmd.env("AGENT_STRACE_ENDPOINT", &failing)
                .env("AGENT_STRACE_ENDPOINT_WAIT_MS", "5000")
                .env_remove("AGENT_STRACE_TOKEN")
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().unwrap();
            let body = prompt(session, &project, &format!("call {n}")).to_string();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(body.as_bytes())
                .unwrap();
            child
        })
        .collect();
    for hook in hooks {
        let run = crate::common::Run::of(hook.wait_with_output().unwrap());
        assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    }
    let kept = kept_calls(&local);
    assert!(kept <= 1000, "{kept} calls kept");
    // The first hook's call, kept first, and the 40: each once, kept or recorded here.
    assert_eq!(kept - 994 + stored_lines(&local, session), 41);
}

/// A collector of an older version, which never says `"duplicates"` and stores whatever it is
/// sent, behind a gateway that answers its first batch of events 502 after the collector
/// stored it: the event ids it stored, in the order it got them. Its endpoint.
fn older_collector() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let stored = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let held = stored.clone();
    std::thread::spawn(move || {
        let mut batches = 0;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let Some((line, body)) = read_request(&mut stream) else {
                continue;
            };
            let answer = if line.split(' ').nth(1) == Some("/events") {
                let body = String::from_utf8_lossy(&body).into_owned();
                let ids: Vec<String> = body
                    .lines()
                    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                    .map(|e| e["event_id"].as_str().unwrap_or_default().to_owned())
                    .collect();
                let count = ids.len();
                held.lock().unwrap().extend(ids);
                batches += 1;
                if batches == 1 {
                    let _ = stream.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 11\r\nconnection: close\r\n\r\nBad Gateway");
                    continue;
                }
                json!({ "accepted": count }).to_string()
            } else {
                // As every version of ours answers `POST /sessions`: the session named, with
                // no `skips_duplicates` in the older ones.
                let meta: Value = serde_json::from_slice(&body).unwrap_or_default();
                json!({ "session_id": meta["session_id"], "status": "ok", "created": true })
                    .to_string()
            };
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                )
                .as_bytes(),
            );
        }
    });
    (endpoint, stored)
}

/// A proxy's batch that a gateway answers 502 after an older collector (one that never said
/// it skips what it holds) stored it is not sent to it again: the session goes on in the local
/// store from that batch, as before batches were held, and the collector holds each event
/// once. The batch went again with the next, and the collector stored it twice.
#[test]
fn a_proxy_batch_an_older_collector_may_hold_is_not_sent_to_it_twice() {
    let env = TestEnv::new();
    let (endpoint, stored) = older_collector();
    let calls = 600;
    let input = tool_calls_input(calls);
    let cmd = record_to(&env, &endpoint);
    let run = crate::common::run_with_stdin(cmd, input.as_bytes());
    assert_eq!((run.code, run.stdout == input), (0, true), "{}", run.stderr);
    let there = stored.lock().unwrap().clone();
    assert!(!there.is_empty());
    assert_each_once(&there, there.len());
}

/// Plants in `spool` a call being written, named `.<micros>.<id>.call.call.tmp`, last
/// modified `ago`; its path.
fn plant_writing(spool: &Path, micros: u64, id: &str, ago: Duration) -> PathBuf {
    let path = spool.join(format!(".{micros:020}.{id}.call.call.tmp"));
    std::fs::write(&path, "{}").unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(std::time::SystemTime::now() - ago)
        .unwrap();
    path
}

/// A call a hook was killed writing (its temporary name, untouched for an hour) is cleared
/// by the next hook that keeps a call and by `send-kept`, which say in one line how many (the
/// hook in its log); one being written now, a link under such a name (never followed: what it
/// names stays) and a file of another name stay. It stayed for ever, counted in the spool's
/// bound, and then was cleared without a word.
#[test]
fn calls_hooks_were_killed_writing_are_cleared_by_the_next_keeping_hook_and_send_kept() {
    let env = TestEnv::new();
    let session = "killed-writing";
    let (project, failing) = kept_behind_a_failing_proxy(&env, session, None);
    let spool = project.join(".agent-traces").join(".spool");
    let hour = Duration::from_secs(3600);
    let dead = plant_writing(&spool, 1, "dead", hour);
    let fresh = plant_writing(&spool, 2, "fresh", Duration::ZERO);
    let victim = env.path().join("victim.json");
    std::fs::write(&victim, "{}").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&victim)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - hour)
        .unwrap();
    let link = spool.join(".00000000000000000003.link.call.call.tmp");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let other = spool.join(".notours.tmp");
    std::fs::write(&other, "{}").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&other)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - hour)
        .unwrap();
    let (event, payload) = payloads(session, &project).remove(1);
    let (run, _) = hook_to(&env, &failing, None, event, &payload);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(kept_calls(&project.join(".agent-traces")), 2);
    assert!(!dead.exists(), "left by the keeping hook");
    assert!(fresh.exists() && other.exists());
    assert!(link.symlink_metadata().is_ok() && victim.exists());
    let cleared = |n: &str| {
        format!(
            "removed {n} from {} that {} left half written by a killed hook (`.<name>.call.tmp`, untouched for 10 minutes)",
            spool.display(),
            if n == "1 call" { "was" } else { "were" }
        )
    };
    let log =
        std::fs::read_to_string(project.join(".agent-traces").join("hook-errors.log")).unwrap();
    assert_eq!(log.matches(&cleared("1 call")).count(), 1, "{log}");
    plant_writing(&spool, 4, "dead", hour);
    let dead = plant_writing(&spool, 5, "dead", hour);
    let sent = send_kept(&env, project.to_str().unwrap(), &failing, None);
    assert_eq!(sent.code, 4, "{}", sent.stderr);
    assert_eq!(
        sent.stderr.lines().next(),
        Some(format!("warning: {}", cleared("2 calls")).as_str()),
        "{}",
        sent.stderr
    );
    assert!(!dead.exists(), "left by send-kept");
    assert!(fresh.exists() && other.exists());
    assert!(link.symlink_metadata().is_ok() && victim.exists());
}

/// A store's `.spool` that is a link to a folder elsewhere (holding a call) is not read
/// through: `list` and `send-kept` say in one warning that it was left alone. They said
/// nothing, as if no call waited.
#[test]
fn a_spool_that_is_a_link_is_named_and_left_alone() {
    let env = TestEnv::new();
    let (project, failing) = kept_behind_a_failing_proxy(&env, "spool-link", None);
    let spool = project.join(".agent-traces").join(".spool");
    let elsewhere = env.path().join("elsewhere");
    std::fs::rename(&spool, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &spool).unwrap();
    let warning = format!(
        "{} is a symbolic link, not a folder agent-strace made; it was left alone and no kept call was read from it",
        spool.display()
    );
    let cwd = project.to_str().unwrap();
    let listed = env.run(&["list", "--project", cwd]);
    assert_eq!(
        listed.stderr.matches(&warning).count(),
        1,
        "{}",
        listed.stderr
    );
    let sent = send_kept(&env, cwd, &failing, None);
    assert_nothing_waits(&sent);
    assert_eq!(
        sent.stderr.lines().collect::<Vec<_>>(),
        [format!("warning: {warning}")],
    );
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 1);
    assert!(spool.symlink_metadata().unwrap().file_type().is_symlink());
}

/// `send-kept --here` while `send-kept` (another token than the collector's) is sending the
/// one call the collector never saw: the sender takes its mark off, `--here` lists it so, the
/// collector refuses the sender's token and the sender puts the mark back, so that `--here`
/// finds no call under the name it listed. `--here` takes it under its new name and records
/// it; only the planted call below, which it cannot record and puts back, waits (exit 4). It
/// left the call and exited 4, saying it still waited.
///
/// `--here` is held between its listing and its taking of the call without a clock: a call
/// planted before it that cannot be recorded here (its event's name is 2 MiB long) makes it
/// write a warning longer than any pipe holds to a stderr the test reads only once the sender
/// has put the mark back.
#[test]
fn send_kept_here_takes_a_call_another_sender_put_back_meanwhile() {
    let env = TestEnv::new();
    let session = "put-back";
    let (project, _) = kept_behind_a_failing_proxy(&env, session, None);
    let local = project.join(".agent-traces");
    let spool = local.join(".spool");
    let cwd = project.to_str().unwrap().to_owned();
    let kept = kept_names(&local).remove(0);
    let unseen = kept.replace(".call", ".unseen.call");
    std::fs::rename(spool.join(&kept), spool.join(&unseen)).unwrap();
    let (endpoint, got, release) = holding_collector_answering(
        b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 12\r\nconnection: close\r\n\r\nUnauthorized",
    );
    let mut sender = {
        let mut send = env.command(&["send-kept", "--project", &cwd]);
        send.env("AGENT_STRACE_ENDPOINT", &endpoint)
            .env("AGENT_STRACE_TOKEN", "another")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        send.spawn().unwrap()
    };
    got.recv().unwrap();
    assert_eq!(
        kept_names(&local),
        std::slice::from_ref(&kept),
        "the mark is off while it is sent"
    );
    let mut holding: Value =
        serde_json::from_str(&std::fs::read_to_string(spool.join(&kept)).unwrap()).unwrap();
    holding["event"] = json!("x".repeat(2 << 20));
    holding["call_id"] = json!("holding");
    holding["payload"]
        .as_object_mut()
        .unwrap()
        .remove("hook_event_name");
    let holding_call = spool.join(format!("{:020}.holding.call", 1));
    std::fs::write(&holding_call, holding.to_string()).unwrap();

    let mut here = env.command(&["send-kept", "--here", "--project", &cwd]);
    here.env_remove("AGENT_STRACE_ENDPOINT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let here = here.spawn().unwrap();
    // Once the planted call is taken, `--here` has listed the calls; its warning holds it
    // until its stderr is read.
    while holding_call.exists() {
        std::thread::sleep(Duration::from_millis(1));
    }
    release.send(()).unwrap();
    assert_eq!(sender.wait().unwrap().code(), Some(4));
    assert_eq!(kept_names(&local), [unseen], "the sender put the mark back");
    let out = here.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        stderr.starts_with("warning: a hook call kept for the collector cannot be recorded here"),
        "{}",
        &stderr[..stderr.len().min(300)]
    );
    let stderr = stderr.lines().skip(1).collect::<Vec<_>>().join("\n");
    // The planted call, which is no call (its event is none), is set aside.
    assert_eq!(out.status.code(), Some(4), "{stdout}{stderr}");
    assert!(kept_names(&local).is_empty(), "{stderr}");
    assert!(
        spool
            .join(format!("{:020}.holding.call.unreadable", 1))
            .is_file(),
        "{stderr}"
    );
    assert_eq!(stored_lines(&local, session), 1, "{stdout}{stderr}");
}

/// `send-kept` counts the spool again at its end: a call a hook kept while it was sending (the
/// hook's collector failed) still waits, and it says so and exits 4. It said only that it sent
/// the one call it listed and exited 0, as if the spool were empty.
#[test]
fn send_kept_counts_again_the_calls_a_hook_kept_meanwhile() {
    let env = TestEnv::new();
    let session = "kept-meanwhile";
    let (project, failing) = kept_behind_a_failing_proxy(&env, session, None);
    let local = project.join(".agent-traces");
    let cwd = project.to_str().unwrap().to_owned();
    let (endpoint, got, release) = holding_collector();
    let mut send = env.command(&["send-kept", "--project", &cwd]);
    send.env("AGENT_STRACE_ENDPOINT", &endpoint)
        .env_remove("AGENT_STRACE_TOKEN")
        .env_remove("AGENT_STRACE_AUTH_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let sending = send.spawn().unwrap();
    got.recv().unwrap();
    // A hook of the project meanwhile, behind the failing proxy: it keeps its call.
    let (run, _) = hook_to(
        &env,
        &failing,
        None,
        "user-prompt",
        &prompt(session, &project, "meanwhile"),
    );
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(kept_calls(&local), 2);
    release.send(()).unwrap();
    let sent = crate::common::Run::of(sending.wait_with_output().unwrap());
    assert_eq!(
        (sent.code, sent.stdout.as_str()),
        (
            4,
            format!("Sent 1 kept hook call to the collector {endpoint}.\n").as_str()
        ),
        "{}",
        sent.stderr
    );
    assert!(
        sent.stderr.starts_with(
            "error: 1 kept hook call still waits: a hook kept it, or another process was sending it, meanwhile"
        ),
        "{}",
        sent.stderr
    );
    assert_eq!(kept_calls(&local), 1);
}

/// A store whose `.spool` is a link to a folder elsewhere: a hook whose collector may hold its
/// call (it answered 502) cannot keep it there and records it here, saying why once in its
/// log; nothing is written through the link, and the call waiting in the folder it names is
/// neither sent nor recorded.
#[test]
fn a_hook_whose_spool_is_a_link_records_its_call_here_and_says_why_once() {
    let env = TestEnv::new();
    let session = "spool-link-hook";
    let (project, failing) = kept_behind_a_failing_proxy(&env, session, None);
    let local = project.join(".agent-traces");
    let spool = local.join(".spool");
    let elsewhere = env.path().join("elsewhere");
    std::fs::rename(&spool, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &spool).unwrap();
    let before: Vec<_> = std::fs::read_dir(&elsewhere)
        .unwrap()
        .flatten()
        .map(|e| (e.file_name(), std::fs::read(e.path()).unwrap()))
        .collect();
    let (run, _) = hook_to(
        &env,
        &failing,
        None,
        "user-prompt",
        &prompt(session, &project, "through a link"),
    );
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(stored_lines(&local, session), 1);
    let log = std::fs::read_to_string(local.join("hook-errors.log")).unwrap();
    let link = spool.display().to_string();
    assert_eq!(log.matches(&link).count(), 1, "{log}");
    assert!(log.contains("cannot keep the call"), "{log}");
    assert!(log.contains("symbolic link"), "{log}");
    let after: Vec<_> = std::fs::read_dir(&elsewhere)
        .unwrap()
        .flatten()
        .map(|e| (e.file_name(), std::fs::read(e.path()).unwrap()))
        .collect();
    assert_eq!(after, before);
    assert!(spool.symlink_metadata().unwrap().file_type().is_symlink());
}

/// A kept call the local store cannot take (a file where its session's folder goes) stays
/// kept, and is not counted recorded: by `send-kept --here`, and when the collector refuses it
/// for good (400). It was taken out of the spool first, said "Recorded 1", and was lost.
#[test]
fn a_kept_call_this_store_cannot_record_stays_kept() {
    let env = TestEnv::new();
    let session = "kept-and-unrecordable";
    let (project, _) = kept_behind_a_failing_proxy(&env, session, None);
    let local = project.join(".agent-traces");
    let cwd = project.to_str().unwrap();
    std::fs::write(local.join(session), "not a folder").unwrap();
    let mut here = env.command(&["send-kept", "--here", "--project", cwd]);
    here.env_remove("AGENT_STRACE_ENDPOINT");
    let run = crate::common::run_with_stdin(here, b"");
    assert_eq!((run.code, run.stdout.as_str()), (4, ""), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("a call kept for the collector cannot be recorded here, and waits: "),
        "{}",
        run.stderr
    );
    assert_eq!(kept_calls(&local), 1);

    let refusing = failing_proxy(
        b"HTTP/1.1 400 Bad Request\r\ncontent-length: 3\r\nconnection: close\r\n\r\nbad",
    );
    let sent = send_kept(&env, cwd, &refusing, None);
    assert_eq!(
        (sent.code, sent.stdout.as_str()),
        (4, ""),
        "{}",
        sent.stderr
    );
    assert_eq!(kept_calls(&local), 1, "{}", sent.stderr);

    // Once the store can take it, it is recorded, once.
    std::fs::remove_file(local.join(session)).unwrap();
    let sent = send_kept(&env, cwd, &refusing, None);
    assert_eq!(sent.code, 0, "{}", sent.stderr);
    assert_eq!(kept_calls(&local), 0);
    assert_eq!(stored_lines(&local, session), 1);
}

/// A kept hook call that is no call (a torn or forged file: the collector refuses it, 400, and
/// this store cannot read it either) is set aside as `<name>.call.unreadable`, as a batch is:
/// the next hook sends its own call at once, and `list` and `send-kept` say what waits for a
/// person. It was taken, refused and put back by every sender, for ever, and each hook kept
/// its own call behind it.
#[test]
fn a_kept_call_that_is_no_call_is_set_aside_and_holds_back_no_call() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    let endpoint = format!("http://127.0.0.1:{port}");
    let project = env.path().join("project");
    let local = project.join(".agent-traces");
    let spool = local.join(".spool");
    std::fs::create_dir_all(&spool).unwrap();
    let torn = "00000001700000000000001.c1.call";
    std::fs::write(spool.join(torn), r#"{"event": "user-prompt", "payl"#).unwrap();
    let session = "behind-a-torn-call";
    let (run, _) = hook_to(
        &env,
        &endpoint,
        None,
        "user-prompt",
        &prompt(session, &project, "first"),
    );
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    let log = std::fs::read_to_string(local.join("hook-errors.log")).unwrap_or_default();
    assert!(spool.join(format!("{torn}.unreadable")).is_file(), "{log}");
    assert!(
        log.contains(
            "a hook call kept for the collector cannot be recorded here (not a hook call: "
        ),
        "{log}"
    );
    assert_eq!(kept_calls(&local), 0, "{log}");
    assert_eq!(stored_lines(&storage, session), 1, "{log}");

    let cwd = project.to_str().unwrap();
    let said = format!(
        "1 hook call set aside in {} as unreadable (`<name>.call.unreadable`) waits for you",
        spool.display()
    );
    let listed = env.run(&["list", "--project", cwd]);
    assert!(listed.stderr.contains(&said), "{}", listed.stderr);

    // One the collector never saw, marked so, is set aside by `send-kept` under the name it
    // has once its mark is off for the sending.
    let forged = "00000001700000000000002.c2.unseen.call";
    let no_session = json!({"event": "user-prompt", "agent": "claude-code",
                            "payload": {"hook_event_name": "UserPromptSubmit", "session_id": "../out"}});
    std::fs::write(spool.join(forged), no_session.to_string()).unwrap();
    let sent = send_kept(&env, cwd, &endpoint, None);
    assert_eq!(
        (sent.code, sent.stdout.as_str()),
        (4, ""),
        "{}",
        sent.stderr
    );
    assert!(
        sent.stderr
            .contains("1 kept hook call could not be recorded here and was set aside in the spool"),
        "{}",
        sent.stderr
    );
    assert!(
        spool
            .join("00000001700000000000002.c2.call.unreadable")
            .is_file(),
        "{}",
        sent.stderr
    );
    let again = send_kept(&env, cwd, &endpoint, None);
    assert_nothing_waits(&again);
    assert!(
        again.stderr.contains(
            &said
                .replace("1 hook call", "2 hook calls")
                .replace("waits", "wait")
        ),
        "{}",
        again.stderr
    );
}

/// `send-kept` of a spool its user cannot write (another user's, here nobody's view of root's)
/// sends each of its 70 calls once and says they wait: it said "Sent 128", the first 64 sent
/// twice, and the last 6 not at all.
#[test]
fn send_kept_from_a_read_only_spool_sends_each_call_once() {
    let env = TestEnv::new();
    let project = env.path().join("project");
    let spool = project.join(".agent-traces").join(".spool");
    std::fs::create_dir_all(&spool).unwrap();
    for n in 0..70u64 {
        let name = format!("{:020}.c{n}.call", 1_700_000_000_000_000 + n);
        std::fs::write(spool.join(name), "{}").unwrap();
    }
    let taking =
        failing_proxy(b"HTTP/1.1 200 OK\r\ncontent-length: 32\r\nconnection: close\r\n\r\n{\"session_id\":\"c\",\"status\":\"ok\"}");
    let cwd = project.to_str().unwrap();
    let command = env.command(&["send-kept", "--project", cwd]);
    let mut nobody = Command::new("setpriv");
    nobody
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(command.get_program())
        .args(command.get_args())
        .current_dir(env.path())
        .env("AGENT_STRACE_HOME", env.path().join("nobody-home"))
        .env("AGENT_STRACE_ENDPOINT", &taking)
        .env_remove("AGENT_STRACE_TOKEN")
        .env_remove("AGENT_STRACE_AUTH_KEY");
    let run = crate::common::run_with_stdin(nobody, b"");
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (
            4,
            format!("Sent 70 kept hook calls to the collector {taking}.\n").as_str()
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "70 kept hook calls still wait: the collector took 70 of them, which cannot be taken out of the spool"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(kept_calls(&project.join(".agent-traces")), 70);
}

/// A hook whose collector may hold its call (502), whose spool cannot keep it (`.spool` is a
/// file) and whose store cannot record it (a file where the session's folder goes) writes the
/// call, as the collector's /hooks takes it, after the line saying why: in the project's log,
/// else in the log of the store a hook with no folder writes to, else on stderr. It said only
/// why, and the call was lost.
#[test]
fn a_call_neither_kept_nor_recorded_is_written_where_its_failure_is_said() {
    let env = TestEnv::new();
    let session = "nowhere-to-go";
    let project = env.path().join("project");
    let local = project.join(".agent-traces");
    std::fs::create_dir_all(&local).unwrap();
    std::fs::write(local.join(".spool"), "not a folder").unwrap();
    std::fs::write(local.join(session), "not a folder").unwrap();
    let failing = failing_proxy(
        b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 11\r\nconnection: close\r\n\r\nBad Gateway",
    );
    let hook = |text: &str| {
        hook_to(
            &env,
            &failing,
            None,
            "user-prompt",
            &prompt(session, &project, text),
        )
        .0
    };
    let follows = "the call is not recorded, and follows as the collector's /hooks takes it: ";
    let call_in = |text: &str, said: &str| {
        let line = text
            .lines()
            .find(|l| l.contains(follows))
            .unwrap_or_else(|| panic!("{text}"));
        let call: Value = serde_json::from_str(line.split_once(follows).unwrap().1).unwrap();
        assert_eq!(call["payload"]["prompt"], said, "{line}");
        assert_eq!(call["payload"]["session_id"], session, "{line}");
    };
    let run = hook("in the log");
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    call_in(
        &std::fs::read_to_string(local.join("hook-errors.log")).unwrap(),
        "in the log",
    );

    std::fs::remove_file(local.join("hook-errors.log")).unwrap();
    std::fs::create_dir(local.join("hook-errors.log")).unwrap();
    let run = hook("in the other log");
    // The lines before it, which say why the call was not kept, are said on stderr as ever.
    assert_eq!(
        (run.code, run.stderr.contains(follows)),
        (0, false),
        "{}",
        run.stderr
    );
    call_in(
        &std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap(),
        "in the other log",
    );

    std::fs::remove_file(env.store().join("hook-errors.log")).unwrap();
    std::fs::create_dir(env.store().join("hook-errors.log")).unwrap();
    let run = hook("on stderr");
    assert_eq!(run.code, 0);
    call_in(&run.stderr, "on stderr");
}

/// A hook's call kept for the collector (or written to the log, where it could not be
/// recorded) carried the policy's denial and who and where the session started as they came,
/// beside a scrubbed payload: a token in the git branch or the model, and the key on a denied
/// command line the denial quotes, reached `.spool/` and `hook-errors.log` with redaction on.
/// They are scrubbed as the payload is, and kept as they are with `--no-redact`.
#[test]
fn a_secret_beside_a_kept_calls_payload_never_reaches_the_spool_or_the_log() {
    let env = TestEnv::new();
    let branch = "feat/ghp_Qx91bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    let model = "m ghp_Qx94cccccccccccccccccccccccccccccccccc";
    let bearer = "Qx11bjL5DZPjN0MEQ7wjJJibaZUPgHV7iB";
    let secrets = [branch, model, bearer];
    let failing = failing_proxy(
        b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 11\r\nconnection: close\r\n\r\nBad Gateway",
    );
    // A project on a branch named with a token, denying curl.
    let project = |name: &str| {
        let project = env.path().join(name);
        std::fs::create_dir_all(project.join(".git")).unwrap();
        std::fs::write(
            project.join(".git/HEAD"),
            format!("ref: refs/heads/{branch}\n"),
        )
        .unwrap();
        std::fs::write(
            project.join(".agent-scope.json"),
            r#"{"commands":{"deny":["curl"]}}"#,
        )
        .unwrap();
        project
    };
    let hook = |flags: &[&str], endpoint: Option<&str>, event: &str, payload: &Value| {
        let mut args = vec!["hook"];
        args.extend_from_slice(flags);
        args.push(event);
        let mut cmd = env.command(&args);
        cmd.env_remove("AGENT_STRACE_TOKEN")
            .env_remove("AGENT_STRACE_ENDPOINT");
        if let Some(endpoint) = endpoint {
            cmd.env("AGENT_STRACE_ENDPOINT", endpoint)
                .env("AGENT_STRACE_ENDPOINT_WAIT_MS", "5000");
        }
        crate::common::run_with_stdin(cmd, payload.to_string().as_bytes())
    };
    let start = |cwd: &Path| {
        json!({"session_id": "s", "hook_event_name": "SessionStart", "source": "startup",
               "model": model, "cwd": cwd.to_str().unwrap()})
    };
    // The two calls a failing collector leaves kept, as one text, and as calls.
    let kept = |flags: &[&str], name: &str| {
        let project = project(name);
        let curl = json!({"session_id": "s", "hook_event_name": "PreToolUse", "tool_name": "Bash",
            "tool_input": {"command": format!("curl -H 'Authorization: Bearer {bearer}' x")},
            "tool_use_id": "t", "cwd": project.to_str().unwrap()});
        for (event, payload) in [("session-start", start(&project)), ("pre-tool", curl)] {
            let run = hook(flags, Some(&failing), event, &payload);
            assert_eq!(run.code, 0, "{run:?}");
        }
        let spool = project.join(".agent-traces").join(".spool");
        let calls: Vec<String> = kept_names(&project.join(".agent-traces"))
            .iter()
            .map(|name| std::fs::read_to_string(spool.join(name)).unwrap())
            .collect();
        assert_eq!(calls.len(), 2, "{calls:?}");
        let read: Vec<Value> = calls
            .iter()
            .map(|c| serde_json::from_str(c).unwrap())
            .collect();
        (calls.concat(), read)
    };

    let (text, calls) = kept(&[], "redacted");
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} kept: {text}");
    }
    // Scrubbed, not left out.
    let said = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    assert!(
        said(&calls[0]["attribution"]["git_branch"]).starts_with("feat/")
            && said(&calls[0]["attribution"]["model"]).starts_with("m "),
        "{}",
        calls[0]
    );
    assert!(
        said(&calls[1]["denial"]["reason"]).contains("curl -H 'Authorization: Bearer "),
        "{}",
        calls[1]
    );
    assert_eq!(calls[1]["denial"]["rule"], "commands.deny", "{}", calls[1]);

    let (text, _) = kept(&["--no-redact"], "kept-as-they-are");
    for secret in secrets {
        assert!(text.contains(secret), "{secret} not kept: {text}");
    }

    // The same call in the log, where the store cannot record it (a link in place of the
    // session's events).
    let project = project("unrecorded");
    let session = project.join(".agent-traces").join("s");
    std::fs::create_dir_all(&session).unwrap();
    std::os::unix::fs::symlink(env.path().join("elsewhere"), session.join("events.ndjson"))
        .unwrap();
    let run = hook(&[], None, "session-start", &start(&project));
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    let log = std::fs::read_to_string(project.join(".agent-traces/hook-errors.log")).unwrap();
    assert!(
        log.contains("the call is not recorded, and follows"),
        "{log}"
    );
    for secret in [branch, model] {
        assert!(!log.contains(secret), "{secret} logged: {log}");
    }
}

/// What `send-kept` prints when nothing is kept for the collector.
const NOTHING_WAITS: &str =
    "Nothing waits for the collector: no kept hook call, no kept proxy's batch of events.\n";

/// `send-kept` found nothing to send, and said so.
fn assert_nothing_waits(sent: &crate::common::Run) {
    assert_eq!(
        (sent.code, sent.stdout.as_str()),
        (0, NOTHING_WAITS),
        "{}",
        sent.stderr
    );
}

/// An endpoint whose port is out of range (a typo) is refused, said once, and the hook records
/// here: the parser took it for no port at all, and the event and its token went to port 80.
#[test]
fn an_endpoint_with_a_port_out_of_range_is_refused_not_sent_to_port_80() {
    let env = TestEnv::new();
    let payload = json!({"session_id": "bad-port", "hook_event_name": "UserPromptSubmit",
        "prompt": "hi", "cwd": env.path()});
    for endpoint in [
        "http://127.0.0.1:99999",
        "http://[::1]:0",
        "http://localhost:80x",
    ] {
        let (run, _) = hook_to(&env, endpoint, Some("sekret"), "user-prompt", &payload);
        assert_eq!(run.code, 0, "{run:?}");
        let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
        assert!(
            log.lines().last().unwrap().ends_with(&format!(
                "AGENT_STRACE_ENDPOINT `{endpoint}`: the port must be a number from 1 to 65535; recording here"
            )),
            "{log}"
        );
        let run = env.run(&[
            "export",
            "--format",
            "otlp",
            "--endpoint",
            endpoint,
            "bad-port",
        ]);
        assert_eq!(run.code, 2, "{run:?}");
        assert_eq!(
            run.stderr,
            format!("error: --endpoint `{endpoint}`: the port must be a number from 1 to 65535\n")
        );
    }
    let stored = std::fs::read_to_string(env.store().join("bad-port/events.ndjson")).unwrap();
    assert_eq!(stored.lines().count(), 3, "each recorded here: {stored}");
}

/// A collector that says a session's last answer is still due, in answer to a call that
/// cannot leave one due (only a Copilot session's end can), is not believed: each hook started
/// a follower living 30 s, as many as the agent ran hooks.
#[test]
fn a_collector_saying_an_answer_is_due_after_any_call_starts_no_follower() {
    let env = TestEnv::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut h = String::new();
                if std::io::BufRead::read_line(&mut reader, &mut h).unwrap_or(0) == 0
                    || h.trim_end().is_empty()
                {
                    break;
                }
                if let Some((k, v)) = h.split_once(':')
                    && k.eq_ignore_ascii_case("content-length")
                {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let said = r#"{"session_id":"due","status":"ok","answer_pending":true}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{said}",
                said.len()
            );
        }
    });
    for (kind, payload) in payloads("due", env.path()) {
        // HOME, which a follower inherits, tells this test's followers from others.
        let mut cmd = env.command(&["hook", kind]);
        cmd.env("AGENT_STRACE_ENDPOINT", format!("http://127.0.0.1:{port}"))
            .env("AGENT_STRACE_ENDPOINT_WAIT_MS", "5000")
            .env("HOME", env.home.path());
        let run = crate::common::run_with_stdin(cmd, payload.to_string().as_bytes());
        assert_eq!(run.code, 0, "{run:?}");
    }
    assert_eq!(crate::agent_cursor_copilot::followers_running(&env), 0);
}

/// A collector that takes the session's meta and never answers holds up no message: the server
/// starts at once and its answers reach the client while the recorder still waits. The meta was
/// posted, twice, before the server was started, so the first answer came after twice the
/// wait (two minutes at 60,000 ms, past a client's patience for a server to start).
#[test]
fn a_collector_that_never_answers_holds_up_no_message_of_the_proxy() {
    use std::io::BufRead;
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    let gateway = gateway(port, |_, _, _| Pass::Never);
    let mut cmd = record_to(&env, &format!("http://127.0.0.1:{gateway}"));
    cmd.env("AGENT_STRACE_PROXY_WAIT_MS", "60000")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut proxy = crate::watch::Proc(cmd.spawn().unwrap());
    let mut stdin = proxy.0.stdin.take().unwrap();
    let mut stdout = std::io::BufReader::new(proxy.0.stdout.take().unwrap());
    let (said, heard) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let _ = said.send(line);
    });
    let message = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
    stdin.write_all(message.as_bytes()).unwrap();
    // Well within the wait the collector is given, however loaded the machine.
    let echoed = heard
        .recv_timeout(Duration::from_secs(50))
        .expect("the server's answer came before the collector's wait was over");
    assert_eq!(echoed, message);
    drop(stdin);
}

/// What a hostile collector answers a refusal with, read in full and answered as `status`,
/// to every request.
fn answering(status: u16, body: &'static str) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut raw = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = stream.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break;
                }
                raw.extend_from_slice(&buf[..n]);
                let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&raw[..at]).to_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                if raw.len() >= at + 4 + length {
                    break;
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// A collector's refusal reaches the terminal and `hook-errors.log` as one line of text, what
/// would act on a terminal escaped, cut short: its body went there as it came (ESC, OSC, C1, a
/// right-to-left override, line breaks), and the line said the collector was "not reached"
/// though it had answered.
#[test]
fn a_hostile_collectors_refusal_is_shown_escaped_on_one_line() {
    const NASTY: &str = "\x1b]0;owned\x07\x1b[2J\u{9b}31m\u{202e}txt.exe\nforged line\r\nmore";
    let env = TestEnv::new();
    let project = env.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let port = answering(400, NASTY);
    let url = format!("http://127.0.0.1:{port}");
    let hostile = |text: &str| text.contains(['\x1b', '\x07', '\u{9b}', '\u{202e}']);
    let payload = json!({"session_id": "h-1", "hook_event_name": "UserPromptSubmit", "prompt": "hi", "cwd": project.to_str().unwrap()});
    let (run, _) = hook_to(&env, &url, None, "user-prompt", &payload);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    let store = project.join(".agent-traces");
    assert_eq!(stored_lines(&store, "h-1"), 1, "recorded here");
    let log = std::fs::read_to_string(store.join("hook-errors.log")).unwrap();
    assert!(!hostile(&log), "{log:?}");
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("collector")).collect();
    assert_eq!(lines.len(), 1, "{log:?}");
    assert!(
        lines[0].contains("refused") && !lines[0].contains("not reached"),
        "{log:?}"
    );
    assert!(
        lines[0].contains("\\u001b") && lines[0].contains("forged line"),
        "{log:?}"
    );
    // A proxy says it on stderr too.
    let mut cmd = env.command(&["record", "--name", "cat", "--", "cat"]);
    cmd.env("AGENT_STRACE_ENDPOINT", &url).current_dir(&project);
    let line = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
    let run = crate::common::run_with_stdin(cmd, line.as_bytes());
    assert_eq!((run.code, run.stdout.as_str()), (0, line));
    assert!(run.stderr.contains("did not take"), "{}", run.stderr);
    assert!(!hostile(&run.stderr), "{:?}", run.stderr);
    assert!(
        !run.stderr.lines().any(|l| l.starts_with("forged line")),
        "{:?}",
        run.stderr
    );
    let log = std::fs::read_to_string(store.join("hook-errors.log")).unwrap();
    assert!(!hostile(&log), "{log:?}");
    assert!(log.contains("collector refused events"), "{log:?}");
}

/// A parent session's id that a --mask pattern matches (a phone number's shape) is kept: made
/// `redacted-…`, the child named no session, and the parent's audit and tree lost it.
#[test]
fn a_subagent_keeps_the_link_to_a_parent_whose_id_a_mask_matches() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (server, port) = server(&env, &storage, &["--mask"]);
    for meta in [
        json!({"session_id": "build-555-123-4567", "started_at": 1_700_000_000.0}),
        json!({"session_id": "child-1", "started_at": 1_700_000_001.0,
               "parent_session_id": "build-555-123-4567", "depth": 1}),
    ] {
        let made = request(port, "POST", "/sessions", None, meta.to_string().as_bytes());
        assert_eq!(made.status, 200, "{}", String::from_utf8_lossy(&made.body));
    }
    drop(server);
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(storage.join("child-1/meta.json")).unwrap())
            .unwrap();
    assert_eq!(
        written["parent_session_id"], "build-555-123-4567",
        "{written}"
    );
}

/// `POST /events` scrubs and cuts the whole event, not only its data: a key in an event's
/// type, id, parent's id or a field the store does not know was stored as it came, and an
/// id or unknown field of megabytes made a line of megabytes (no line passes 1 MiB). An id
/// holding a key is stored as one made from it, by which the batch sent again is still known;
/// an id longer than any client's is refused.
#[test]
fn a_secret_or_a_flood_beside_an_events_data_never_reaches_its_line() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (server, port) = server(&env, &storage, &[]);
    let key = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789";
    let token = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
    let mut secret = event(
        "s-1",
        token,
        &format!("custom {key}"),
        1_700_000_001.0,
        json!({}),
    );
    secret["parent_id"] = json!(format!("Bearer {key}"));
    secret["note"] = json!(format!("the key is {key}"));
    let child = event(
        "s-1",
        "e-2",
        "tool_call",
        1_700_000_002.0,
        json!({"tool_name": "Bash"}),
    );
    let batch = ndjson(&[secret, child]);
    let sent = request(port, "POST", "/events", None, &batch);
    assert_eq!(sent.status, 200, "{}", String::from_utf8_lossy(&sent.body));
    let again = request(port, "POST", "/events", None, &batch);
    assert_eq!(again.json()["duplicates"], 2, "{}", again.json());
    let huge = "x".repeat(3 * 1024 * 1024);
    let long_id = event("s-1", &huge, "tool_call", 1_700_000_003.0, json!({}));
    let mut wide = event(
        "s-1",
        "e-4",
        "tool_call",
        1_700_000_004.0,
        json!({"tool_name": "Bash"}),
    );
    wide["note"] = json!(huge);
    let sent = request(port, "POST", "/events", None, &ndjson(&[long_id, wide]));
    assert_eq!(sent.status, 202, "{}", String::from_utf8_lossy(&sent.body));
    let answer = sent.json();
    assert_eq!(answer["errors"], 1, "{answer}");
    assert!(
        answer["refused"][0]["error"]
            .as_str()
            .unwrap()
            .contains("event_id"),
        "{answer}"
    );
    drop(server);
    let file = std::fs::read_to_string(storage.join("s-1/events.ndjson")).unwrap();
    for secret in [key, token] {
        assert!(!file.contains(secret), "{secret} stored");
    }
    let lines: Vec<Value> = file
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "each event once, the long id's refused");
    assert!(
        lines[0]["event_id"]
            .as_str()
            .unwrap()
            .starts_with("redacted-"),
        "{}",
        lines[0]
    );
    assert!(
        lines[0]["note"]
            .as_str()
            .unwrap()
            .starts_with("the key is "),
        "{}",
        lines[0]
    );
    assert!(
        file.lines().all(|l| l.len() <= 1024 * 1024),
        "a line over 1 MiB"
    );
    assert!(
        lines[2]["note"].as_str().unwrap().len() < huge.len(),
        "the field was cut"
    );
    assert_eq!(lines[2]["data"]["tool_name"], "Bash");
}

/// Every free-text field of a session's meta sent to `POST /sessions` is scrubbed: its agent's
/// name and the session and event it is a subagent of reached meta.json as they came.
#[test]
fn a_secret_anywhere_in_a_remote_sessions_meta_never_reaches_meta_json() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (server, port) = server(&env, &storage, &[]);
    let key = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789";
    let token = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
    let meta = json!({"session_id": "s-4", "started_at": 1_700_000_000.0,
                      "agent_name": format!("agent --key {key}"), "command": "run",
                      "parent_session_id": token, "parent_event_id": key, "depth": 1});
    let made = request(port, "POST", "/sessions", None, meta.to_string().as_bytes());
    assert_eq!(made.status, 200, "{}", String::from_utf8_lossy(&made.body));
    drop(server);
    let written = std::fs::read_to_string(storage.join("s-4/meta.json")).unwrap();
    assert!(!written.contains(key), "{written}");
    let written: Value = serde_json::from_str(&written).unwrap();
    assert!(
        written["agent_name"]
            .as_str()
            .unwrap()
            .starts_with("agent --key "),
        "{written}"
    );
    // A parent session's id that holds a secret is replaced as an event's id is.
    assert!(
        written["parent_session_id"]
            .as_str()
            .unwrap()
            .starts_with("redacted-"),
        "{written}"
    );
    assert!(
        written["parent_event_id"]
            .as_str()
            .unwrap()
            .starts_with("redacted-"),
        "{written}"
    );
}

/// A key sent as the name of a field the store does not know (on an event, or on a session's
/// meta) was stored as that name, in events.ndjson, meta.json and the index, though a key that
/// is itself an object's key is redacted; each such name is redacted as an object's key is.
#[test]
fn a_secret_as_the_name_of_a_field_never_reaches_the_store() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (server, port) = server(&env, &storage, &[]);
    let key = "sk-ant-api03-Qx06Ig8xNbe3nNyjOq9wMxEhh2FDEEtfjgVvVqE1SkHbn88HxjSI6bWHtP3fS2qHx6kwXoIIXGvOoNZYW2mZ-AA";
    let mut meta = json!({"session_id": "s-9", "started_at": 1_700_000_000.0, "agent_name": "a",
                          "nested": {key: 1}});
    meta[key] = json!("x");
    let made = request(port, "POST", "/sessions", None, meta.to_string().as_bytes());
    assert_eq!(made.status, 200, "{}", String::from_utf8_lossy(&made.body));
    let mut named = event("s-9", "e-1", "user_prompt", 1_700_000_001.0, json!({}));
    named[format!("extra_{key}")] = json!("v");
    let sent = request(port, "POST", "/events", None, &ndjson(&[named]));
    assert_eq!(sent.status, 200, "{}", String::from_utf8_lossy(&sent.body));
    drop(server);
    // The index is made by a command reading the store.
    env.command(&["--trace-dir", storage.to_str().unwrap(), "list"])
        .output()
        .unwrap();
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(storage.join("s-9/meta.json")).unwrap())
            .unwrap();
    assert_eq!(meta["agent_name"], "a", "{meta}");
    let line: Value = serde_json::from_str(
        std::fs::read_to_string(storage.join("s-9/events.ndjson"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    // The field is kept, under its name redacted.
    assert!(
        line.as_object()
            .unwrap()
            .iter()
            .any(|(name, value)| name.starts_with("extra_") && value == "v"),
        "{line}"
    );
    let secret = &key[14..40];
    for file in walk(&storage) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the key is in {}",
            file.display()
        );
    }
}

/// Every file under `dir`, at any depth.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// A hook sending to a collector ran the user's --redact-pattern and --mask over the session
/// id as over the rest of the payload, where a local hook leaves the id alone: two sessions
/// whose ids differ only where the pattern matches were one folder on the collector
/// (`acme-[REDACTED]-1234`), and a masked id became a folder named `[CARD]`.
#[test]
fn a_hooks_patterns_and_mask_leave_the_session_id_to_the_collector_as_they_leave_it_here() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (collector, port) = server(&env, &storage, &[]);
    let endpoint = format!("http://127.0.0.1:{port}");
    let hook = |args: &[&str], session: &str| {
        let mut all = vec!["hook"];
        all.extend_from_slice(args);
        all.push("user-prompt");
        let mut cmd = env.command(&all);
        cmd.env("AGENT_STRACE_ENDPOINT", &endpoint)
            .env("AGENT_STRACE_ENDPOINT_WAIT_MS", "5000")
            .env_remove("AGENT_STRACE_TOKEN");
        let payload = json!({"session_id": session, "hook_event_name": "UserPromptSubmit",
            "prompt": "hi", "cwd": env.path()});
        crate::common::run_with_stdin(cmd, payload.to_string().as_bytes()).success();
    };
    for session in ["acme-ABCD-1234", "acme-EFGH-1234"] {
        hook(&["--redact-pattern", "ABCD|EFGH"], session);
    }
    hook(&["--mask"], "4111111111111111");
    drop(collector);
    let mut folders = session_folders(&storage);
    folders.sort();
    assert_eq!(
        folders,
        ["4111111111111111", "acme-ABCD-1234", "acme-EFGH-1234"],
        "one folder a session, named as a local hook names it"
    );
}

/// The session folders of a store, by name (its own files, which start with a dot or are
/// logs, left out).
fn session_folders(storage: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(storage)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// Every byte the store holds, files under its folders included.
fn store_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all.extend(store_bytes(&path));
        } else {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    all
}

/// A session id that is a secret (a GitHub token, sent as `session_id` to `/events`,
/// `/sessions` and `/hooks`) named the session's folder and was written into meta.json, its
/// events and `GET /sessions`, with redaction on. It is stored under one id made from it: every
/// route's events land in that one folder, a child that names the token as its parent still
/// names that folder, and with `--no-redact` the id is kept as sent.
#[test]
fn a_session_id_that_is_a_secret_never_names_a_folder_and_its_events_still_meet() {
    let env = TestEnv::new();
    let token = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
    let send = |port: u16| {
        let batch = ndjson(&[
            event(
                token,
                "e-1",
                "user_prompt",
                1_700_000_001.0,
                json!({"prompt": "p"}),
            ),
            event(
                token,
                "e-2",
                "tool_call",
                1_700_000_002.0,
                json!({"tool_name": "Bash"}),
            ),
        ]);
        let sent = request(port, "POST", "/events", None, &batch);
        assert_eq!(sent.status, 200, "{}", String::from_utf8_lossy(&sent.body));
        for meta in [
            json!({"session_id": token, "started_at": 1_700_000_000.0}),
            json!({"session_id": "child-1", "started_at": 1_700_000_003.0,
                   "parent_session_id": token, "depth": 1}),
        ] {
            let made = request(port, "POST", "/sessions", None, meta.to_string().as_bytes());
            assert_eq!(made.status, 200, "{}", String::from_utf8_lossy(&made.body));
        }
        let call = json!({"event": "user-prompt", "agent": "claude-code",
            "payload": {"session_id": token, "hook_event_name": "UserPromptSubmit",
                        "prompt": "hi"}});
        let hooked = request(port, "POST", "/hooks", None, call.to_string().as_bytes());
        assert_eq!(
            hooked.status,
            200,
            "{}",
            String::from_utf8_lossy(&hooked.body)
        );
        request(port, "GET", "/sessions", None, b"")
    };

    let storage = env.path().join("srv");
    let (collector, port) = server(&env, &storage, &[]);
    let listed = send(port);
    drop(collector);
    let listed = String::from_utf8_lossy(&listed.body).into_owned();
    assert!(!listed.contains(token), "GET /sessions serves it: {listed}");
    assert!(
        !contains_bytes(&store_bytes(&storage), token.as_bytes()),
        "the token is in the store"
    );
    let folders = session_folders(&storage);
    let parent: Vec<&String> = folders.iter().filter(|f| *f != "child-1").collect();
    assert_eq!(parent.len(), 1, "one folder for the session: {folders:?}");
    let parent = parent[0];
    let events = std::fs::read_to_string(storage.join(parent).join("events.ndjson")).unwrap();
    let sessions: Vec<String> = events
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["session_id"].to_string())
        .collect();
    assert_eq!(sessions.len(), 3, "both routes' events in it: {events}");
    assert!(
        sessions.iter().all(|s| *s == format!("\"{parent}\"")),
        "{sessions:?}"
    );
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(storage.join(parent).join("meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["session_id"], parent.as_str(), "{meta}");
    let child: Value =
        serde_json::from_str(&std::fs::read_to_string(storage.join("child-1/meta.json")).unwrap())
            .unwrap();
    assert_eq!(child["parent_session_id"], parent.as_str(), "{child}");

    let storage = env.path().join("plain");
    let (collector, port) = server(&env, &storage, &["--no-redact"]);
    send(port);
    drop(collector);
    // Kept as sent: the child's link and the folder name the token.
    assert_eq!(session_folders(&storage), ["child-1", token]);
    let child: Value =
        serde_json::from_str(&std::fs::read_to_string(storage.join("child-1/meta.json")).unwrap())
            .unwrap();
    assert_eq!(child["parent_session_id"], token, "{child}");
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `POST /events` refuses a timestamp that is negative or not finite, but `POST /sessions`
/// stored `started_at: -1e308` and an `ended_at` before `started_at`, and `POST /hooks` stored a
/// call's `at` of 1e308 as its event's time (and silently dropped a negative one). Each route
/// refuses a time that is no time alike, 400 with one error; a hook call's time no hook's event
/// can have is left to the collector's clock, as a payload's own stamp is.
#[test]
fn every_route_refuses_a_time_that_is_no_time_alike() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (collector, port) = server(&env, &storage, &[]);
    let refused = |path: &str, body: Value, says: &str| {
        let answer = request(port, "POST", path, None, body.to_string().as_bytes());
        assert_eq!(answer.status, 400, "{path} {body}: {}", answer.json());
        let error = answer.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(says), "{path} {body}: {error}");
    };
    refused(
        "/sessions",
        json!({"session_id": "s-1", "started_at": -1e308}),
        "started_at must be a finite, non-negative number",
    );
    refused(
        "/sessions",
        json!({"session_id": "s-1", "started_at": 1_700_000_000.0, "ended_at": -5.0}),
        "ended_at must be a finite, non-negative number",
    );
    refused(
        "/sessions",
        json!({"session_id": "s-1", "started_at": 1_700_000_000.0, "ended_at": 1_600_000_000.0}),
        "ended_at is before started_at",
    );
    let call = |at: Value| {
        json!({"event": "user-prompt", "agent": "claude-code", "at": at,
               "payload": {"session_id": "s-2", "hook_event_name": "UserPromptSubmit",
                           "prompt": "hi"}})
    };
    refused(
        "/hooks",
        call(json!(-1.0)),
        "at must be a finite, non-negative number",
    );
    // What /events refuses, in the same words.
    let line = ndjson(&[event("s-3", "e-1", "user_prompt", -1.0, json!({}))]);
    let sent = request(port, "POST", "/events", None, &line);
    assert_eq!(
        sent.json()["refused"][0]["error"],
        "timestamp must be a finite, non-negative number"
    );
    let taken = request(
        port,
        "POST",
        "/hooks",
        None,
        call(json!(1e308)).to_string().as_bytes(),
    );
    assert_eq!(taken.status, 200, "{}", taken.json());
    drop(collector);
    let file = std::fs::read_to_string(storage.join("s-2/events.ndjson")).unwrap();
    let stored: Value = serde_json::from_str(file.lines().next().unwrap()).unwrap();
    let at = stored["timestamp"].as_f64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - at).abs() < 600.0, "stamped {at}, now {now}");
    assert!(
        !storage.join("s-1").exists(),
        "a refused meta made its session"
    );
}

/// `POST /events` and `POST /sessions` stored a time of `1e308` (or any after 2100): a session
/// that started in a year no date can hold, which every reader showed as `?` with a warning
/// that it may be damaged or forged. Both refuse it as they refuse a negative one.
#[test]
fn a_time_no_date_can_hold_makes_no_session() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (collector, port) = server(&env, &storage, &[]);
    let answer = request(
        port,
        "POST",
        "/sessions",
        None,
        json!({"session_id": "far-1", "started_at": 1e308})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(answer.status, 400, "{}", answer.json());
    assert!(
        answer.json()["error"]
            .as_str()
            .unwrap()
            .contains("started_at must be a time before 2100")
    );
    let line = ndjson(&[event(
        "far-2",
        "e-1",
        "user_prompt",
        1e308,
        json!({"prompt": "x"}),
    )]);
    let sent = request(port, "POST", "/events", None, &line);
    assert_eq!(
        sent.json()["refused"][0]["error"],
        "timestamp must be a time before 2100 (seconds since the epoch)"
    );
    drop(collector);
    assert!(!storage.join("far-1").exists());
    assert!(!storage.join("far-2").exists());
}

/// A backend that took a forwarded batch in part and said so in its 200 (OTLP's partial
/// success, as our own collector answers for records it refuses) was counted as having taken
/// it all: the log said nothing of the spans it rejected. The log names them and what it said.
#[test]
fn spans_a_forwarding_backend_rejects_in_its_success_answer_are_logged() {
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTracePartialSuccess, ExportTraceServiceResponse,
    };
    use prost::Message as _;
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let backend = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", backend.local_addr().unwrap().port());
    let answer = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: 2,
            error_message: "span too old\u{1b}[2J\nsecond line".into(),
        }),
    }
    .encode_to_vec();
    let taken = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = taken.clone();
    std::thread::spawn(move || {
        for mut stream in backend.incoming().flatten() {
            // The request whole: its head, then as many bytes as it says.
            let mut seen = Vec::new();
            let mut buf = vec![0u8; 65536];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length: usize = text[..end]
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    if seen.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let mut reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: {}\r\n\r\n",
                answer.len()
            )
            .into_bytes();
            reply.extend_from_slice(&answer);
            let _ = stream.write_all(&reply);
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let (server, port) = server(&env, &storage, &["--forward-otlp", &url]);
    let batch = ndjson(&[event(
        "fw3",
        "f1",
        "user_prompt",
        1_700_000_001.0,
        json!({"prompt": "go"}),
    )]);
    assert_eq!(request(port, "POST", "/events", None, &batch).status, 200);
    wait_until("the backend answers the forwarder", || {
        taken.load(std::sync::atomic::Ordering::SeqCst) > 0
    });
    std::thread::sleep(Duration::from_millis(300));
    let log = log_of(server);
    assert!(
        log.contains("forwarding: ")
            && log.contains("rejected 2 spans of /v1/traces: span too old"),
        "{log}"
    );
    assert!(!log.contains('\u{1b}'), "{log}");
    assert!(!log.contains("second line"), "{log}");
}

/// `POST /sessions` took a session that named itself as its parent (`parent_session_id` its
/// own id), and stored it so, a subagent of itself in every tree. It is refused (400, with
/// why) as other bad bodies are: made afresh, nothing is stored; described again, the
/// session keeps what it was.
#[test]
fn a_session_that_names_itself_as_its_parent_is_refused() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = server(&env, &storage, &[]);
    let selfish = json!({"session_id": "s-self", "started_at": 1_700_000_000.0,
                         "parent_session_id": "s-self"});
    let answer = request(
        port,
        "POST",
        "/sessions",
        None,
        selfish.to_string().as_bytes(),
    );
    assert_eq!(
        answer.status,
        400,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let why = answer.json()["error"].as_str().unwrap().to_owned();
    assert!(why.contains("s-self") && why.contains("parent"), "{why}");
    assert!(!storage.join("s-self").exists());

    let plain = json!({"session_id": "s-7", "started_at": 1_700_000_000.0});
    let made = request(
        port,
        "POST",
        "/sessions",
        None,
        plain.to_string().as_bytes(),
    );
    assert_eq!(made.status, 200, "{}", String::from_utf8_lossy(&made.body));
    let again = json!({"session_id": "s-7", "started_at": 1_700_000_000.0,
                       "parent_session_id": "s-7"});
    let answer = request(
        port,
        "POST",
        "/sessions",
        None,
        again.to_string().as_bytes(),
    );
    assert_eq!(
        answer.status,
        400,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(storage.join("s-7/meta.json")).unwrap())
            .unwrap();
    assert!(meta["parent_session_id"].is_null(), "{meta}");
    // A subagent of another session is taken as before.
    let child = json!({"session_id": "s-8", "started_at": 1_700_000_000.0,
                       "parent_session_id": "s-7"});
    let answer = request(
        port,
        "POST",
        "/sessions",
        None,
        child.to_string().as_bytes(),
    );
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
}

/// `GET /sessions/{id}` reads the session's meta as views do, leaving out values past what a
/// view keeps (256 KiB of JSON), which it did without a word: it says how many keys it left out
/// and their bytes (`left_out`); a session that left nothing out has no `left_out`.
#[test]
fn a_session_whose_meta_was_cut_says_what_was_left_out() {
    const SID: &str = "5e55a2a0-0000-4000-8000-00000000c07e";
    const NAMES: usize = 100_000;
    let env = TestEnv::new();
    let payload = json!({"session_id": SID, "hook_event_name": "PreToolUse",
        "tool_name": "Bash", "tool_input": {"command": "ls"}, "tool_use_id": "t0"});
    env.hook("pre-tool", &payload).success();
    let (server, port) = server(&env, &env.store(), &[]);
    let path = format!("/sessions/{SID}");
    let whole = request(port, "GET", &path, None, b"").json();
    assert_eq!(whole["tool_calls"], 1);
    assert_eq!(whole.get("left_out"), None, "{whole}");
    let mut meta = env.meta(SID);
    meta["attribution"]["title"] = "Fix the login bug".into();
    meta["attribution"]["process_ancestry"] = Value::from(vec!["p"; NAMES]);
    std::fs::write(env.store().join(SID).join("meta.json"), meta.to_string()).unwrap();
    let cut = request(port, "GET", &path, None, b"").json();
    assert_eq!(cut["attribution"]["title"], "Fix the login bug");
    assert_eq!(cut["attribution"].get("process_ancestry"), None);
    // `["p","p",…]`: four bytes a name, less the last comma, and the brackets.
    let bytes = 4 * NAMES + 1;
    assert_eq!(cut["left_out"], json!({"keys": 1, "bytes": bytes}));
    drop(server);
}
