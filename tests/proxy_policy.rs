//! The MCP proxies' policy where the transport is not plain: `record --policy` judges every
//! message the client sends, however it is framed (a `Content-Length` framed `tools/call`, one
//! hidden in the lines of a framed body, a message that does not read as JSON and one too large
//! to hold are never forwarded unjudged; the server is `cat`, so what comes back is exactly
//! what was forwarded, plus the proxy's answers), and `record-http --policy` answers a denied
//! call on the older HTTP+SSE transport's event stream, where that transport carries answers,
//! and forwards no body it cannot read as JSON.

use serde_json::{Value, json};

use crate::common::TestEnv;

#[test]
fn the_http_proxy_answers_a_denied_call_on_the_older_transports_event_stream() {
    crate::policy::http_proxy_denies("sse", "/sse", "sse");
}

fn call(id: u64, name: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": name, "arguments": {"message": "hi"}}})
}

fn framed(message: &str) -> String {
    format!("Content-Length: {}\r\n\r\n{message}", message.len())
}

/// What came back through `record --policy … -- cat` for `input`, and what it said on stderr.
pub(crate) fn through_cat(env: &TestEnv, input: Vec<u8>) -> (Vec<u8>, String) {
    use std::io::Write as _;
    let policy = env.path().join("mcp-policy.json");
    std::fs::write(&policy, json!({"tools": {"deny": ["get-*"]}}).to_string()).unwrap();
    let mut child = env
        .command(&["record", "--policy", policy.to_str().unwrap(), "--", "cat"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "{out:?}");
    (out.stdout, String::from_utf8(out.stderr).unwrap())
}

/// The messages in `bytes`, each with whether it came with a `Content-Length` header (a line
/// that is not JSON as a string).
fn messages(mut bytes: &[u8]) -> Vec<(bool, Value)> {
    let mut found = Vec::new();
    loop {
        bytes = bytes.trim_ascii_start();
        if bytes.is_empty() {
            return found;
        }
        if let Some(rest) = bytes.strip_prefix(b"Content-Length: ") {
            let end = rest.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
            let length: usize = std::str::from_utf8(&rest[..end]).unwrap().parse().unwrap();
            let body = &rest[end + 4..end + 4 + length];
            found.push((true, serde_json::from_slice(body).unwrap()));
            bytes = &rest[end + 4 + length..];
        } else {
            let end = bytes
                .iter()
                .position(|&b| b == b'\n')
                .unwrap_or(bytes.len());
            let line = &bytes[..end];
            let message = serde_json::from_slice(line)
                .unwrap_or_else(|_| String::from_utf8_lossy(line).into_owned().into());
            found.push((false, message));
            bytes = &bytes[end..];
        }
    }
}

fn forwarded_calls(seen: &[(bool, Value)]) -> Vec<String> {
    seen.iter()
        .filter(|(_, m)| m["method"] == "tools/call")
        .map(|(_, m)| m["params"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_content_length_framed_call_is_judged_and_answered_in_its_framing() {
    let env = TestEnv::new();
    let input = framed(&call(1, "get-sum").to_string()) + &framed(&call(2, "echo").to_string());
    let (out, _) = through_cat(&env, input.clone().into_bytes());
    let seen = messages(&out);
    assert_eq!(forwarded_calls(&seen), ["echo"], "{seen:?}");
    // The allowed call went on byte for byte.
    let allowed = framed(&call(2, "echo").to_string());
    assert!(out.windows(allowed.len()).any(|w| w == allowed.as_bytes()));
    let answer = seen.iter().find(|(_, m)| m["id"] == 1).expect("answered");
    assert!(answer.0, "answered with a Content-Length header: {seen:?}");
    assert_eq!(answer.1["error"]["code"], -32001);
    assert_eq!(answer.1["error"]["data"]["rule"], "tools.deny");
}

#[test]
fn a_call_in_the_lines_of_a_framed_body_is_judged_as_a_line_server_reads_it() {
    let env = TestEnv::new();
    // A newline-delimited server reads the second line of each body as a message of its own.
    let hidden = format!("{{\"a\":\n{}\n}}", call(3, "get-sum"));
    let two = format!(
        "{}\n{}\n",
        json!({"jsonrpc": "2.0", "method": "x"}),
        call(4, "get-sum")
    );
    let input = framed(&hidden) + &framed(&two) + &format!("{}\n", call(5, "echo"));
    let (out, _) = through_cat(&env, input.into_bytes());
    let seen = messages(&out);
    assert_eq!(forwarded_calls(&seen), ["echo"], "{seen:?}");
    for id in [3, 4] {
        let answer = seen.iter().find(|(_, m)| m["id"] == id);
        assert_eq!(answer.unwrap().1["error"]["code"], -32001, "{seen:?}");
    }
}

#[test]
fn a_message_that_does_not_read_as_json_is_not_forwarded() {
    let env = TestEnv::new();
    // A length that cuts the body short: what a Content-Length server and a line server read
    // differ, and neither is one JSON value to judge.
    let call = call(6, "get-sum").to_string();
    let input = format!("Content-Length: 10\r\n\r\n{call}\n{{\"a\":1}} {call}\nnot json\n");
    let (out, _) = through_cat(&env, input.into_bytes());
    assert!(
        !String::from_utf8_lossy(&out).contains("get-sum"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    let seen = messages(&out);
    assert!(
        seen.contains(&(false, "not json".into())),
        "text with no JSON object in it goes on: {seen:?}"
    );
    let refusals: Vec<bool> = seen
        .iter()
        .filter(|(_, m)| m["error"]["code"] == -32700 && m["id"].is_null())
        .map(|(framed, _)| *framed)
        .collect();
    // The framed start, the rest of its line, the line of two values.
    assert_eq!(refusals, [true, false, false], "{seen:?}");
}

/// What came back through `cat` (`out`): the `allowed` call forwarded as it came, and the one
/// answer, the proxy's, to the call `denied_id` that `tools.deny` denied.
fn forwarded_and_denied(out: &[u8], allowed: &str, denied_id: u64) {
    let shown = String::from_utf8_lossy(out);
    // `cat` sends the forwarded call back, before or after the proxy's answer.
    let at = out
        .windows(allowed.len())
        .position(|w| w == allowed.as_bytes())
        .unwrap_or_else(|| panic!("forwarded as it came: {shown}"));
    let seen = messages(&[&out[..at], &out[at + allowed.len()..]].concat());
    assert_eq!(seen.len(), 1, "only the answer to the denied call: {shown}");
    assert_eq!(seen[0].1["id"], denied_id, "{shown}");
    assert_eq!(seen[0].1["error"]["data"]["rule"], "tools.deny", "{shown}");
}

#[test]
fn a_call_a_javascript_server_reads_is_judged_not_refused_as_unreadable() {
    let env = TestEnv::new();
    // Half an emoji (what a JavaScript `slice()` leaves, and JSON.stringify writes so) and a
    // byte that is not UTF-8: the TypeScript SDK's stdio server reads both.
    let allowed = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"hi \\ud83d\"}}}\n";
    let mut input = allowed.as_bytes().to_vec();
    input.extend_from_slice(
        b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"get-sum\",\"arguments\":{\"a\":\"\xff\"}}}\n",
    );
    let (out, _) = through_cat(&env, input);
    forwarded_and_denied(&out, allowed, 2);
}

/// A number past a double's range is JSON all the same (Node reads `1e400` as Infinity, Python
/// as inf): a call holding one was answered as unreadable (-32700, with an id of null, so the
/// client's call never ended) and not forwarded.
#[test]
fn a_call_with_a_number_past_a_double_is_judged_not_refused_as_unreadable() {
    let env = TestEnv::new();
    let allowed = r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"calc","arguments":{"n":1e400}}}
"#;
    let denied = r#"{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"get-sum","arguments":{"n":-1E+999}}}
"#;
    let (out, _) = through_cat(&env, format!("{allowed}{denied}").into_bytes());
    forwarded_and_denied(&out, allowed, 10);
}

#[test]
fn a_message_too_large_to_judge_is_refused_not_forwarded() {
    let env = TestEnv::new();
    let big = "x".repeat(17 * 1024 * 1024);
    let request = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                         "params": {"name": "echo", "arguments": {"message": big}}});
    let notification = json!({"jsonrpc": "2.0", "method": "notifications/message",
                              "params": {"data": big}});
    let input = format!(
        "{request}\n{}{}\n",
        framed(&notification.to_string()),
        call(8, "echo")
    );
    let (out, stderr) = through_cat(&env, input.into_bytes());
    assert!(
        out.len() < 4096,
        "nothing large was forwarded: {} bytes",
        out.len()
    );
    let seen = messages(&out);
    assert_eq!(forwarded_calls(&seen), ["echo"], "{seen:?}");
    let answer = seen.iter().find(|(_, m)| m["id"] == 7).expect("answered");
    assert_eq!(answer.1["error"]["code"], -32600, "{seen:?}");
    assert!(stderr.contains("not forwarded"), "{stderr}");
}

#[test]
fn a_denied_tools_call_notification_is_not_forwarded() {
    let env = TestEnv::new();
    let mut notification = call(0, "get-sum");
    notification.as_object_mut().unwrap().remove("id");
    let input = format!("{notification}\n{}\n", call(9, "echo"));
    let (out, stderr) = through_cat(&env, input.into_bytes());
    let seen = messages(&out);
    assert_eq!(forwarded_calls(&seen), ["echo"], "{seen:?}");
    assert_eq!(seen.len(), 1, "a notification has no answer: {seen:?}");
    assert!(stderr.contains("not forwarded"), "{stderr}");
}

/// One POST of `body` to the proxy's `/mcp`; the answer whole (the connection closed after).
fn post_bytes(port: u16, body: &[u8]) -> String {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn the_http_proxy_forwards_no_call_it_cannot_judge_and_judges_one_a_server_reads() {
    let env = TestEnv::new();
    let policy = env.path().join("mcp-policy.json");
    std::fs::write(&policy, json!({"tools": {"deny": ["get-*"]}}).to_string()).unwrap();
    let (_server, spy_port) = crate::mcp_http::spy_server(&env, None);
    let (proxy, port) = crate::common::net::record_http(
        &env,
        &format!("http://127.0.0.1:{spy_port}/mcp"),
        &["--policy", policy.to_str().unwrap()],
    );
    let call = |id: u64, name: &str, z: &[u8]| {
        let head = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{name}","arguments":{{"z":"#
        );
        [head.as_bytes(), z, b"}}}"].concat()
    };
    // A TypeScript SDK server (JSON.parse behind a body decoded as UTF-8) runs each of these.
    // Nested 200 levels the call is read and judged (it was a 400 while the proxy read only
    // serde_json's 128); past the 2,000 levels the proxy reads, it cannot be judged.
    let nested = |levels: usize| ["[".repeat(levels), "]".repeat(levels)].concat();
    let denied = [
        (
            call(1, "get-sum", nested(2_001).as_bytes()),
            "400 Bad Request",
            "-32700",
        ),
        (
            call(7, "get-sum", nested(200).as_bytes()),
            "200 OK",
            "tools.deny",
        ),
        (call(2, "get-sum", br#""\ud800""#), "200 OK", "tools.deny"),
        (call(3, "get-sum", b"\"\xff\""), "200 OK", "tools.deny"),
        (
            [b"\xef\xbb\xbf".as_slice(), &call(4, "get-sum", b"1")].concat(),
            "200 OK",
            "tools.deny",
        ),
        (call(6, "get-sum", b"1e400"), "200 OK", "tools.deny"),
    ];
    for (body, status, said) in denied {
        let answer = post_bytes(port, &body);
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")) && answer.contains(said),
            "{answer}"
        );
        assert!(answer.contains(r#""denied_by":"agent-strace""#), "{answer}");
    }
    // The same in a call the policy allows goes on as it came.
    let allowed = [b"\xef\xbb\xbf".as_slice(), &call(5, "echo", b"1")].concat();
    let answer = post_bytes(port, &allowed);
    assert!(
        answer.ends_with(r#""result":{"name":"echo","arguments":{"z":1}}}"#),
        "{answer}"
    );
    assert_eq!(proxy.terminate(), Some(0));
    let served = std::fs::read_to_string(env.path().join("spy.log")).unwrap_or_default();
    let bodies: Vec<Vec<u8>> = served
        .lines()
        .map(|line| {
            let exchange: Value = serde_json::from_str(line).unwrap();
            crate::mcp_http::unbase64(&exchange["body_b64"])
        })
        .collect();
    assert_eq!(
        bodies,
        [allowed],
        "only the allowed call reached the server"
    );
}

#[test]
fn a_content_length_that_says_more_than_its_message_forwards_no_denied_call_in_its_lines() {
    // The recorder ends such a body where its JSON value ends (so that the lines after it are
    // recorded); the gate reads it at its length, as a `Content-Length` server does, and judges
    // each of its lines as a newline-delimited server reads them: a denied call in them is
    // never forwarded, whichever way the server reads.
    let env = TestEnv::new();
    let mut input = "Content-Length: 1000000000000\r\n\r\n".to_owned();
    for id in 0..3 {
        input.push_str(&call(id, "get-sum").to_string());
        input.push('\n');
    }
    let (out, _) = through_cat(&env, input.into_bytes());
    let shown = String::from_utf8_lossy(&out);
    // What came back is the proxy's answers alone: `cat` echoes whatever was forwarded.
    assert!(
        !shown.contains("tools/call"),
        "a denied call went on: {shown}"
    );
    assert!(
        shown.contains("tools.deny"),
        "the calls were answered: {shown}"
    );
}

/// A policy that cannot be read is a usage error found before anything is recorded: it left a
/// session of no events that `list` showed as running for ever.
#[test]
fn a_policy_that_cannot_be_read_leaves_no_session() {
    let env = TestEnv::new();
    std::fs::write(env.path().join("broken.json"), "{\"tools\": ").unwrap();
    for policy in ["nope.json", "broken.json"] {
        let run = env.run(&["record", "--policy", policy, "--", "cat"]);
        assert_ne!(run.code, 0, "{policy}: {}", run.stderr);
        assert!(run.stderr.contains(policy), "{policy}: {}", run.stderr);
        assert_eq!(env.sessions(), Vec::<String>::new(), "{policy}");
    }
}
