//! `record-http` and the signals that stop it: which it takes, what it leaves in the store when
//! it stops, and what a client in the middle of an exchange sees (its server gone, say).

use std::time::{Duration, Instant};

use crate::common::TestEnv;
use crate::common::net::spawn_proxy;
use crate::mcp_http::{post, raw_request, spy_server};

/// `record-http` in front of the spy server, started by `env` with its signal options
/// `signals`; returns the spy, the proxy and the proxy's port.
fn proxy_with_signals(
    env: &TestEnv,
    signals: &[&str],
) -> (
    crate::common::net::Background,
    crate::common::net::Background,
    u16,
) {
    let (spy, spy_port) = spy_server(env, None);
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
    let (proxy, port) = spawn_proxy(crate::common::with_signals(&command, signals));
    (spy, proxy, port)
}

/// Sends `signal` (`HUP`, `TERM`) to `pid`.
fn send(signal: &str, pid: u32) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

/// An echo through the proxy; asserts its answer came.
#[track_caller]
fn echo(port: u16, id: u32) {
    let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"echo","params":{{"n":{id}}}}}"#);
    let answer = raw_request(port, &post(&body, ""));
    let expected = format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{"n":{id}}}}}"#);
    assert!(answer.ends_with(&expected), "{answer}");
}

/// Whether the kernel holds a signal for `pid` not yet delivered.
fn signal_pending(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().any(|line| {
        ["SigPnd:", "ShdPnd:"].iter().any(|field| {
            line.strip_prefix(field)
                .is_some_and(|mask| u64::from_str_radix(mask.trim(), 16).is_ok_and(|m| m != 0))
        })
    })
}

/// The proxy's end of `client`'s connection, from the system's table of TCP sockets
/// (`/proc/net/tcp`, IPv4): its `tx_queue:rx_queue` column.
fn proxy_end(client: &std::net::TcpStream) -> Option<String> {
    let (ours, theirs) = (client.local_addr().ok()?, client.peer_addr().ok()?);
    let port = |address: &str| {
        let hex = address.rsplit(':').next()?;
        u16::from_str_radix(hex, 16).ok()
    };
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let columns: Vec<&str> = line.split_whitespace().collect();
        let queues = *columns.get(4)?;
        (port(columns.get(1)?) == Some(theirs.port()) && port(columns.get(2)?) == Some(ours.port()))
            .then(|| queues.to_owned())
    })
}

/// Whether the proxy has read all that was sent on `client`'s connection: its end's receive
/// queue is empty.
fn read_all_of(client: &std::net::TcpStream) -> bool {
    proxy_end(client).is_some_and(|queues| {
        queues
            .split(':')
            .nth(1)
            .is_some_and(|rx| u64::from_str_radix(rx, 16) == Ok(0))
    })
}

/// The inode of the socket that listens on `port` of this machine (IPv4), if one does: told
/// apart from one another process may open on the port once it is free.
fn listener_on(port: u16) -> Option<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let columns: Vec<&str> = line.split_whitespace().collect();
        let local = columns.get(1)?.rsplit(':').next()?;
        let inode = *columns.get(9)?;
        (u16::from_str_radix(local, 16) == Ok(port) && *columns.get(3)? == "0A")
            .then(|| inode.to_owned())
    })
}

#[test]
fn a_signal_record_http_was_started_ignoring_stays_ignored() {
    // Started by `nohup` (SIGHUP ignored) or as a script's background job (SIGINT ignored),
    // the proxy caught both all the same and stopped of them: closing the terminal that had
    // started it under `nohup` ended its session and left its client with nothing to talk to.
    let env = TestEnv::new();
    let (_spy, mut proxy, port) =
        proxy_with_signals(&env, &["--ignore-signal=HUP,INT", "--default-signal=TERM"]);
    let pid = proxy.0.id();
    echo(port, 1);
    send("HUP", pid);
    send("INT", pid);
    // Delivered (or, ignored, dropped when sent); then requests go through, each a turn of the
    // proxy's loop in which a caught signal would have stopped it.
    let waiting = Instant::now();
    while signal_pending(pid) {
        assert!(
            waiting.elapsed() < Duration::from_secs(60),
            "never delivered"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    for id in 2..12 {
        assert!(
            proxy.0.try_wait().unwrap().is_none(),
            "the proxy stopped of a signal it was started ignoring"
        );
        echo(port, id);
    }
    assert_eq!(proxy.terminate(), Some(0), "SIGTERM still stops it");
    let events = env.events(&env.sessions()[0]);
    assert_eq!(events.last().unwrap()["event_type"], "session_end");
    let results = events
        .iter()
        .filter(|e| e["data"]["response"] == true || e["event_type"] == "tool_result")
        .count();
    assert_eq!(results, 11, "{events:?}");
}

#[test]
fn a_server_that_goes_away_before_answering_is_not_called_out_of_reach() {
    // A server that took the request and stopped before it answered (killed, crashed) was
    // said to be out of reach ("cannot reach the MCP server"), in the client's 502 and in the
    // session: the user looked for a wrong URL or a firewall, and the call may have run.
    use std::io::Read;
    let env = TestEnv::new();
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server_port = server.local_addr().unwrap().port();
    let going = std::thread::spawn(move || {
        let (mut taken, _) = server.accept().unwrap();
        let mut head = [0u8; 64];
        let _ = taken.read(&mut head);
        // Gone, without a word.
    });
    let (proxy, port) =
        crate::common::net::record_http(&env, &format!("http://127.0.0.1:{server_port}/mcp"), &[]);
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t"}}"#;
    let answer = raw_request(port, &post(body, ""));
    going.join().unwrap();
    assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
    assert!(answer.contains("the MCP server gave no answer"), "{answer}");
    assert!(!answer.contains("cannot reach"), "{answer}");
    assert_eq!(proxy.terminate(), Some(0));
    let events = env.events(&env.sessions()[0]);
    let error = events
        .iter()
        .find(|e| e["event_type"] == "error")
        .expect("an error event");
    assert!(
        error["data"]["error"]
            .as_str()
            .unwrap()
            .starts_with("the MCP server gave no answer"),
        "{error}"
    );
}

/// Waits (two minutes at most) until `ready` holds.
#[track_caller]
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let waiting = Instant::now();
    while !ready() {
        assert!(
            waiting.elapsed() < Duration::from_secs(120),
            "waited in vain: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether the (one) session in `env` holds a message of `method`.
fn recorded(env: &TestEnv, method: &str) -> bool {
    env.sessions()
        .first()
        .is_some_and(|s| env.events(s).iter().any(|e| e["data"]["method"] == method))
}

/// The session's errors that say requests were cut off at the end.
fn cut_off(events: &[serde_json::Value]) -> usize {
    events
        .iter()
        .filter(|e| {
            e["event_type"] == "error"
                && e["data"]["error"]
                    .as_str()
                    .is_some_and(|t| t.contains("were cut off"))
        })
        .count()
}

/// Reads from `stream` until what came holds `needle`; returns what came.
fn read_until(stream: &mut std::net::TcpStream, needle: &str) -> String {
    use std::io::Read;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let n = stream.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "ended before {needle:?}: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[test]
fn a_request_under_way_at_a_signal_is_answered_and_recorded_before_the_proxy_exits() {
    // Before, SIGTERM cut off the requests under way: the client's connection was reset, and
    // the answer the server sent a moment later was never recorded.
    let env = TestEnv::new();
    let (_spy, mut proxy, port) = proxy_with_signals(&env, &[]);
    let body = r#"{"jsonrpc":"2.0","id":7,"method":"slow","params":{"seconds":2}}"#;
    let asking = std::thread::spawn(move || raw_request(port, &post(body, "")));
    // Recorded as it is forwarded: the server has it, and answers in 2 s.
    wait_until("the request is recorded", || recorded(&env, "slow"));
    send("TERM", proxy.0.id());
    let answer = asking.join().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.ends_with(r#"{"jsonrpc":"2.0","id":7,"result":{"seconds":2}}"#),
        "{answer}"
    );
    assert_eq!(proxy.0.wait().unwrap().code(), Some(0));
    let events = env.events(&env.sessions()[0]);
    let answered = events
        .iter()
        .filter(|e| e["data"]["response"] == true && e["data"]["jsonrpc_id"] == "7")
        .count();
    assert_eq!(answered, 1, "{events:?}");
    assert_eq!(cut_off(&events), 0, "{events:?}");
    assert_eq!(events.last().unwrap()["event_type"], "session_end");
}

#[test]
fn a_stream_held_open_ends_cleanly_at_a_signal_and_holds_up_nothing() {
    // Before, a client's open GET stream was cut off in the middle (no end of its chunked
    // body); now it ends between two events, and as no request waits for it, at once.
    use std::io::{Read, Write};
    let env = TestEnv::new();
    let (_spy, proxy, port) = proxy_with_signals(&env, &[]);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(b"GET /forever HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n")
        .unwrap();
    read_until(&mut stream, "still here");
    assert_eq!(proxy.terminate(), Some(0));
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    let rest = String::from_utf8_lossy(&rest);
    assert!(rest.ends_with("0\r\n\r\n"), "{rest:?}");
    let events = env.events(&env.sessions()[0]);
    assert_eq!(cut_off(&events), 0, "{events:?}");
    assert_eq!(events.last().unwrap()["event_type"], "session_end");
}

#[test]
fn a_request_still_under_way_after_the_drain_is_cut_off_and_said_to_be() {
    // A server that takes longer than the 5 s the proxy gives at the end: the request is cut
    // off, the call stays unanswered in the record, and an error says why.
    let env = TestEnv::new();
    let (_spy, mut proxy, port) = proxy_with_signals(&env, &[]);
    let body = r#"{"jsonrpc":"2.0","id":8,"method":"slow","params":{"seconds":600}}"#;
    let asking = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.write_all(post(body, "").as_bytes()).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        answer
    });
    wait_until("the request is recorded", || recorded(&env, "slow"));
    send("TERM", proxy.0.id());
    assert_eq!(proxy.0.wait().unwrap().code(), Some(0));
    assert!(asking.join().unwrap().is_empty());
    let events = env.events(&env.sessions()[0]);
    assert_eq!(cut_off(&events), 1, "{events:?}");
    assert!(!events.iter().any(|e| e["data"]["response"] == true));
    assert_eq!(events.last().unwrap()["event_type"], "session_end");
}

#[test]
fn the_older_transports_stream_carries_the_answer_still_to_come_before_it_ends() {
    // The older transport answers on the session's event stream: ending that stream at once
    // at a signal would cut off the answer to a request under way.
    use std::io::{Read, Write};
    let env = TestEnv::new();
    let (_spy, proxy, port) = proxy_with_signals(&env, &[]);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(b"GET /sse HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n")
        .unwrap();
    let opened = read_until(&mut stream, "sessionId=abc");
    assert!(opened.contains("event: endpoint"), "{opened}");
    let body = r#"{"jsonrpc":"2.0","id":9,"method":"slow","params":{"seconds":2}}"#;
    let request = format!(
        "POST /messages?sessionId=abc HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let accepted = raw_request(port, &request);
    assert!(accepted.starts_with("HTTP/1.1 202"), "{accepted}");
    assert_eq!(proxy.terminate(), Some(0));
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    let rest = String::from_utf8_lossy(&rest);
    assert!(
        rest.contains(r#"{"jsonrpc":"2.0","id":9,"result":{"seconds":2}}"#),
        "{rest:?}"
    );
    assert!(rest.ends_with("0\r\n\r\n"), "{rest:?}");
    let events = env.events(&env.sessions()[0]);
    let answered = events
        .iter()
        .filter(|e| e["data"]["response"] == true && e["data"]["jsonrpc_id"] == "9")
        .count();
    assert_eq!(answered, 1, "{events:?}");
    assert_eq!(cut_off(&events), 0, "{events:?}");
}

/// Answers any request with an event stream that never ends: batches of 200 small
/// notifications, numbered from 0, as fast as they are taken.
fn flood(_: &[u8], stream: &mut std::net::TcpStream) {
    use std::io::Write;
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let mut n = 0u64;
    loop {
        let mut batch = String::new();
        for _ in 0..200 {
            let _ = std::fmt::Write::write_fmt(
                &mut batch,
                format_args!(
                    "event: message\ndata: {{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{{\"n\":{n}}}}}\n\n"
                ),
            );
            n += 1;
        }
        if stream.write_all(batch.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn messages_the_recorders_full_queue_did_not_take_are_counted_in_their_place() {
    // Before, a stream the recorder could not keep up with was slowed to the recorder's pace
    // (the relay waited for room in its queue), and messages read from it but still waiting
    // for room when the end cut the request off were lost. Now the relay never waits: what
    // the full queue does not take is counted, and the session says how many in their place.
    use std::io::{Read, Write};
    let env = TestEnv::new();
    let server = crate::record_http_large::hand_server(flood);
    let (mut proxy, port) =
        crate::common::net::record_http(&env, &format!("http://127.0.0.1:{server}/mcp"), &[]);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"watch"}}"#;
    stream.write_all(post(body, "").as_bytes()).unwrap();
    // The client takes all it is sent, at once, so the recorder is what falls behind.
    let reading = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
    });
    // Read as text: the recorder may be writing its last line.
    wait_until("the stream is being recorded", || {
        env.sessions().first().is_some_and(|s| {
            let events = env.store().join(s).join("events.ndjson");
            let text = std::fs::read_to_string(events).unwrap_or_default();
            text.matches("notifications/progress").count() > 1000
        })
    });
    send("TERM", proxy.0.id());
    assert_eq!(proxy.0.wait().unwrap().code(), Some(0));
    reading.join().unwrap();
    let events = env.events(&env.sessions()[0]);
    assert_eq!(cut_off(&events), 1, "the request was cut off");
    // Each gap in the numbers is the count a note says in its place, and nothing else.
    let (mut next, mut notes) = (0, 0);
    for event in &events {
        if event["data"]["method"] == "notifications/progress" {
            assert_eq!(event["data"]["params"]["n"], next, "a gap nobody said");
            next += 1;
        } else if let Some(n) = event["data"]["unrecorded_messages"].as_u64() {
            assert!(n > 0);
            next += n;
            notes += 1;
        }
    }
    assert!(notes > 0, "the flood outran the recorder, and it was said");
    assert_eq!(events.last().unwrap()["event_type"], "session_end");
}

#[test]
fn the_older_transports_stream_waits_for_a_request_still_arriving_or_unreadable_at_a_signal() {
    // The older transport's stream waited at the end only for the answers to requests whose
    // ids the proxy had read: it ended at once when a request's body was still arriving at
    // the signal, or when the proxy could not read a request the server could, and their
    // answers, still to come on it, were lost to the client and to the record. A Streamable
    // HTTP request in the same place is answered.
    use std::io::{Read, Write};
    let env = TestEnv::new();
    let (_spy, mut proxy, port) = proxy_with_signals(&env, &[]);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(b"GET /sse HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n")
        .unwrap();
    read_until(&mut stream, "sessionId=abc");
    let request = |body: &str| {
        format!(
            "POST /messages?sessionId=abc HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    // JSON in UTF-16 (little-endian, no byte-order mark): Python's `json.loads` of the bytes
    // tells the encoding and reads it, the proxy reads JSON only as UTF-8 and relays the body
    // as it came. Its ASCII text in UTF-16 is each character and a NUL, still a Rust string.
    let unreadable: String = r#"{"jsonrpc":"2.0","id":11,"method":"slow","params":{"seconds":2}}"#
        .chars()
        .flat_map(|c| [c, '\0'])
        .collect();
    let accepted = raw_request(port, &request(&unreadable));
    assert!(accepted.starts_with("HTTP/1.1 202"), "{accepted}");
    let arriving = r#"{"jsonrpc":"2.0","id":10,"method":"slow","params":{"seconds":1}}"#;
    let whole = request(arriving);
    let (first, rest) = whole.split_at(whole.len() - 20);
    let mut posting = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    posting.write_all(first.as_bytes()).unwrap();
    // The signal comes once the proxy has read what came of the request, and the rest once it
    // has acted on the signal (no longer listens): conditions, where fixed pauses of 300 ms
    // could be too short for a loaded machine and test the case they name no more.
    crate::common::wait::wait_until("the proxy has read the request's first part", || {
        read_all_of(&posting)
    });
    let listener = listener_on(port);
    assert!(listener.is_some(), "the proxy listens on {port}");
    send("TERM", proxy.0.id());
    crate::common::wait::wait_until("the proxy stops listening at the signal", || {
        listener_on(port) != listener
    });
    posting.write_all(rest.as_bytes()).unwrap();
    let mut accepted = String::new();
    posting.read_to_string(&mut accepted).unwrap();
    assert!(accepted.starts_with("HTTP/1.1 202"), "{accepted}");
    assert_eq!(proxy.0.wait().unwrap().code(), Some(0));
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    let rest = String::from_utf8_lossy(&rest);
    assert!(
        rest.contains(r#"{"jsonrpc":"2.0","id":10,"result":{"seconds":1}}"#),
        "{rest:?}"
    );
    assert!(rest.contains(r#""id":11"#), "{rest:?}");
    assert!(rest.ends_with("0\r\n\r\n"), "{rest:?}");
    let events = env.events(&env.sessions()[0]);
    let answered = events
        .iter()
        .filter(|e| e["data"]["response"] == true && e["data"]["jsonrpc_id"] == "10")
        .count();
    assert_eq!(answered, 1, "{events:?}");
    assert_eq!(cut_off(&events), 0, "{events:?}");
    assert_eq!(events.last().unwrap()["event_type"], "session_end");
}
