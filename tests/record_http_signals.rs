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
