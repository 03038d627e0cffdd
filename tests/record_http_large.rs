//! `record-http` and messages too large to keep whole: each is relayed byte for byte, in
//! bounded memory, and recorded as `record` records one (a cut copy with its real size).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use serde_json::{Value, json};

use crate::common::TestEnv;
use crate::common::net::record_http;
use crate::mcp_http::{post, raw_request};

/// Reads one request (its head and a `Content-Length` body); returns its body.
pub(crate) fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let head_end = loop {
        if let Some(at) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut buf).unwrap_or(0);
        if n == 0 {
            return Vec::new();
        }
        seen.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&seen[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    let mut body = seen[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    body
}

/// A server written by hand: each connection gets one answer, what `answer` writes given the
/// request's body. Returns its port.
pub(crate) fn hand_server(answer: fn(&[u8], &mut TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let body = read_request(&mut stream);
                answer(&body, &mut stream);
            });
        }
    });
    port
}

/// The text the server's large answers carry.
fn big_text() -> String {
    "é✓ plain text of a large file\n".repeat((65 << 20) / 32)
}

/// The answer to a `tools/call`, whole.
fn answer_body(id: u32, text: &str) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "id": id, "result": {"content": [{"type": "text", "text": text}]}})
        .to_string()
        .into_bytes()
}

/// Answers `read_big` with 65 MiB of JSON, `stream_big` with an event of 65 MiB, and any
/// other call with a short text.
fn large_answers(body: &[u8], stream: &mut TcpStream) {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    let (content_type, body) = if text.contains("read_big") {
        ("application/json", answer_body(1, &big_text()))
    } else if text.contains("stream_big") {
        let data = answer_body(2, &big_text());
        let mut event = b"event: message\ndata: ".to_vec();
        event.extend_from_slice(&data);
        event.extend_from_slice(b"\n\n");
        ("text/event-stream", event)
    } else {
        ("application/json", answer_body(3, "written"))
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

/// The largest resident set `pid` has had, in KiB.
pub(crate) fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn call(id: u32, tool: &str, arguments: &Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}).to_string()
}

#[test]
fn messages_too_large_to_keep_are_relayed_whole_and_recorded_cut_as_record_records_them() {
    // Before, a JSON answer over 64 MiB was only said to be "relayed but not recorded" (its
    // call left unanswered in the record), as was an event over 64 MiB, and the proxy held up
    // to 64 MiB of each while it passed; the stdio proxy records a cut copy of any message
    // over 1 MiB, with its id, its tool and its real size, and holds no more.
    let env = TestEnv::new();
    let server = hand_server(large_answers);
    let (proxy, port) = record_http(&env, &format!("http://127.0.0.1:{server}/mcp"), &[]);
    let pid = proxy.0.id();
    let at_start = peak_rss_kib(pid);
    let text = big_text();
    let expected = [answer_body(1, &text), answer_body(2, &text)];
    let answer = raw_request(port, &post(&call(1, "read_big", &json!({})), ""));
    assert!(answer.starts_with("HTTP/1.1 200"), "{}", &answer[..200]);
    assert!(
        answer.as_bytes().ends_with(&expected[0]),
        "the JSON answer differs"
    );
    let answer = raw_request(port, &post(&call(2, "stream_big", &json!({})), ""));
    assert!(answer.starts_with("HTTP/1.1 200"), "{}", &answer[..200]);
    let mut event = b"event: message\ndata: ".to_vec();
    event.extend_from_slice(&expected[1]);
    event.extend_from_slice(b"\n\n");
    assert!(answer.as_bytes().ends_with(&event), "the event differs");
    let content = "z".repeat(3_000_000);
    let request = call(
        3,
        "write_big",
        &json!({"path": "big.txt", "content": content}),
    );
    let answer = raw_request(port, &post(&request, ""));
    assert!(answer.ends_with(&String::from_utf8(answer_body(3, "written")).unwrap()));
    let peak = peak_rss_kib(pid);
    eprintln!(
        "record-http peak RSS: {at_start} KiB at start, {peak} KiB after relaying 2 x 65 MiB"
    );
    assert!(
        peak < at_start + 24 * 1024,
        "the proxy grew from {at_start} KiB to {peak} KiB"
    );
    assert_eq!(proxy.terminate(), Some(0));

    let events = env.events(&env.sessions()[0]);
    let of =
        |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["event_type"] == kind).collect() };
    assert!(of("error").is_empty(), "{:?}", of("error"));
    let calls = of("tool_call");
    assert_eq!(calls.len(), 3);
    let write = calls
        .iter()
        .find(|c| c["data"]["tool_name"] == "write_big")
        .unwrap();
    assert_eq!(write["data"]["message_original_bytes"], request.len());
    assert_eq!(write["data"]["arguments"]["path"], "big.txt");
    let kept = write["data"]["arguments"]["content"].as_str().unwrap();
    assert!(
        kept.ends_with("… [cut by agent-strace: 3000002 bytes in all]"),
        "{kept:.80}"
    );
    let results = of("tool_result");
    assert_eq!(results.len(), 3, "each call answered in the record");
    for (id, tool, size) in [
        ("1", "read_big", Some(expected[0].len())),
        ("2", "stream_big", Some(expected[1].len())),
        ("3", "write_big", None),
    ] {
        let result = results
            .iter()
            .find(|r| r["data"]["jsonrpc_id"] == id)
            .unwrap_or_else(|| panic!("no result {id}: {results:?}"));
        let call = calls
            .iter()
            .find(|c| c["data"]["tool_name"] == tool)
            .unwrap();
        assert_eq!(result["parent_id"], call["event_id"], "linked to its call");
        assert_eq!(result["data"]["tool_name"], tool);
        assert_eq!(
            result["data"]["message_original_bytes"].as_u64(),
            size.map(|s| s as u64)
        );
        if size.is_some() {
            let kept = result["data"]["result"].as_str().unwrap();
            let start = kept.split('…').next().unwrap();
            assert!(start.len() > 100_000 && text.starts_with(start));
            assert!(
                kept.ends_with(" bytes in all]"),
                "{}",
                &kept[kept.len() - 80..]
            );
        }
    }
    // `replay` shows both alike: each large result with its call, no error.
    let replay = env.run(&["--trace-dir", env.store().to_str().unwrap(), "replay"]);
    replay.success();
    for tool in ["read_big", "stream_big", "write_big"] {
        assert!(replay.stdout.contains(tool), "{}", replay.stdout);
    }
}

/// How many large messages [`large_flood`] sends, each of about 1 MB (kept whole, the largest
/// a message is held).
const FLOOD: u64 = 150;

/// Answers any request with an event stream of [`FLOOD`] messages of about 1 MB each, numbered
/// from 0, as fast as they are taken.
fn large_flood(_: &[u8], stream: &mut TcpStream) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let text = "x".repeat(1_000_000);
    for n in 0..FLOOD {
        // Its number first, so that it is in what the record keeps of `params`.
        let message = format!(
            r#"{{"jsonrpc":"2.0","method":"notifications/message","params":{{"n":{n},"data":"{text}"}}}}"#
        );
        if stream
            .write_all(format!("event: message\ndata: {message}\n\n").as_bytes())
            .is_err()
        {
            return;
        }
    }
}

#[test]
fn a_flood_of_large_messages_the_recorder_cannot_keep_up_with_leaves_the_proxy_flat() {
    // Before, the queue to the recorder was bounded by a count of 4,096 messages, not by
    // bytes: a stream of 1 MB messages faster than the recorder could write them was held
    // in it, the proxy growing by as much as the stream (100 MB relayed: +99 MiB). Now it
    // holds at most 16 MiB of them and counts what it could not take, in its place; the
    // stream goes on as fast as the client takes it.
    let env = TestEnv::new();
    let server = hand_server(large_flood);
    let (proxy, port) = record_http(&env, &format!("http://127.0.0.1:{server}/mcp"), &[]);
    let pid = proxy.0.id();
    let at_start = peak_rss_kib(pid);
    let answer = raw_request(port, &post(&call(1, "watch", &json!({})), ""));
    assert!(answer.starts_with("HTTP/1.1 200"), "{}", &answer[..200]);
    // Counted in the body, not in the bytes on the wire: a chunk's size line may fall in the
    // middle of what is counted (it did, under load: 149 of 150).
    let split = answer.find("\r\n\r\n").unwrap() + 4;
    let body = if answer[..split]
        .to_lowercase()
        .contains("transfer-encoding: chunked")
    {
        String::from_utf8(crate::collector::dechunk(&answer.as_bytes()[split..])).unwrap()
    } else {
        answer[split..].to_owned()
    };
    let relayed = body.matches("event: message\ndata: ").count();
    assert_eq!(relayed as u64, FLOOD, "every message relayed");
    let peak = peak_rss_kib(pid);
    eprintln!(
        "record-http peak RSS: {at_start} KiB at start, {peak} KiB after relaying {FLOOD} x 1 MB"
    );
    assert!(
        peak < at_start + 48 * 1024,
        "the proxy grew from {at_start} KiB to {peak} KiB"
    );
    assert_eq!(proxy.terminate(), Some(0));
    // Each message is recorded or counted, in order: each gap in the numbers is the count a
    // note says in its place.
    let events = env.events(&env.sessions()[0]);
    let (mut next, mut said, mut recorded) = (0, 0, 0);
    for event in &events {
        if event["data"]["method"] == "notifications/message" {
            // `params` is kept as the start of its text, too large to keep whole.
            let params = &event["data"]["params"];
            let n = params["n"].as_u64().or_else(|| {
                let text = params.as_str()?.strip_prefix(r#"{"n":"#)?;
                text.split(',').next()?.parse().ok()
            });
            assert_eq!(
                n,
                Some(next),
                "a gap nobody said: {:.200}",
                params.to_string()
            );
            next += 1;
            recorded += 1;
        } else if let Some(n) = event["data"]["unrecorded_messages"].as_u64() {
            assert!(n > 0);
            assert!(
                event["data"]["error"]
                    .as_str()
                    .unwrap()
                    .starts_with("the recorder fell behind"),
                "{event}"
            );
            next += n;
            said += 1;
        }
    }
    assert_eq!(next, FLOOD, "every message recorded or counted");
    eprintln!("recorded {recorded} of {FLOOD}, the rest counted in {said} notes");
    assert!(said > 0, "the flood outran the recorder, and it was said");
}

/// The `tools/call` of 65 MiB a client sends in [`a_request_too_large_to_hold_is_relayed_as_it_comes_and_recorded_cut`].
fn huge_request() -> String {
    call(
        7,
        "write_huge",
        &json!({"path": "huge.txt", "content": "y".repeat(65 << 20)}),
    )
}

/// Answers with how many bytes of the request came, and whether they were [`huge_request`].
fn count_request(body: &[u8], stream: &mut TcpStream) {
    let same = body == huge_request().as_bytes();
    let body = json!({"jsonrpc": "2.0", "id": 7, "result": {"received": body.len(), "same": same}})
        .to_string();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

#[test]
fn a_request_too_large_to_hold_is_relayed_as_it_comes_and_recorded_cut() {
    // Before, the proxy held a request's body whole before forwarding it, up to 64 MiB, and
    // answered a larger one 413: a `tools/call` of 65 MiB never reached the server. Now a
    // body over 1 MiB goes on as it comes, in flat memory, and is recorded from a cut copy;
    // with a policy, which judges a request whole, one over 16 MiB is refused, as `record`
    // refuses it.
    let env = TestEnv::new();
    let server = hand_server(count_request);
    let url = format!("http://127.0.0.1:{server}/mcp");
    let (proxy, port) = record_http(&env, &url, &[]);
    let pid = proxy.0.id();
    let at_start = peak_rss_kib(pid);
    let request = huge_request();
    let answer = raw_request(port, &post(&request, ""));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let received = format!(r#""received":{},"same":true"#, request.len());
    assert!(answer.contains(&received), "{answer}");
    let peak = peak_rss_kib(pid);
    eprintln!("record-http peak RSS: {at_start} KiB at start, {peak} KiB after a 65 MiB request");
    assert!(
        peak < at_start + 24 * 1024,
        "the proxy grew from {at_start} KiB to {peak} KiB"
    );
    assert_eq!(proxy.terminate(), Some(0));
    let events = env.events(&env.sessions()[0]);
    let calls: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "tool_call")
        .collect();
    assert_eq!(calls.len(), 1, "{events:?}");
    assert_eq!(calls[0]["data"]["tool_name"], "write_huge");
    assert_eq!(calls[0]["data"]["message_original_bytes"], request.len());
    assert_eq!(calls[0]["data"]["arguments"]["path"], "huge.txt");
    let kept = calls[0]["data"]["arguments"]["content"].as_str().unwrap();
    assert!(
        kept.ends_with(&format!(
            "… [cut by agent-strace: {} bytes in all]",
            (65 << 20) + 2
        )),
        "{}",
        &kept[kept.len() - 80..]
    );
    let answered = events
        .iter()
        .find(|e| e["event_type"] == "tool_result" && e["data"]["jsonrpc_id"] == "7")
        .unwrap_or_else(|| panic!("the call is answered in the record: {events:?}"));
    assert_eq!(answered["parent_id"], calls[0]["event_id"]);

    // With a policy, the request is judged whole: past 16 MiB it is refused, never sent.
    let env = TestEnv::new();
    let policy = env.path().join("mcp-policy.json");
    std::fs::write(&policy, json!({"tools": {"deny": ["get-*"]}}).to_string()).unwrap();
    let (proxy, port) = record_http(&env, &url, &["--policy", policy.to_str().unwrap()]);
    // Said by its length (a body that says none is refused once 16 MiB of it came:
    // `mcp_http::a_request_body_without_end_is_refused_instead_of_filling_the_memory`).
    let head = post(&request, "");
    let head = &head[..head.len() - request.len()];
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("larger than the 16 MiB a policy is judged on"),
        "{answer}"
    );
    assert_eq!(proxy.terminate(), Some(0));
}

/// Answers chunked with a `Content-Length` that lies (3): a small JSON answer to `small`, an
/// event stream to `stream`, and 65 MiB of JSON to anything else.
fn chunked_with_a_lying_length(body: &[u8], stream: &mut TcpStream) {
    let text = String::from_utf8_lossy(body);
    let (content_type, body) = if text.contains("\"small\"") {
        ("application/json", answer_body(1, "ok"))
    } else if text.contains("\"stream\"") {
        let mut event = b"event: message\ndata: ".to_vec();
        event.extend_from_slice(&answer_body(2, "streamed"));
        event.extend_from_slice(b"\n\n");
        ("text/event-stream", event)
    } else {
        ("application/json", answer_body(3, &big_text()))
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\
         Content-Length: 3\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.write_all(head.as_bytes());
    for chunk in body.chunks(1 << 20) {
        let _ = stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes());
        let _ = stream.write_all(chunk);
        let _ = stream.write_all(b"\r\n");
    }
    let _ = stream.write_all(b"0\r\n\r\n");
}

/// A chunked answer that also says `Content-Length: 3` (which HTTP says to ignore): its header
/// was passed on, so a client read 3 bytes of the answer and took the rest for the next one
/// (a debug build panicked, the answer lost), a stream was cut to 3 bytes, and the false
/// length let the proxy hold a chunked answer of any size whole (400 MB held 400 MB). The
/// answer is framed by the length it has, in bounded memory, and recorded.
#[test]
fn a_chunked_answer_with_a_lying_length_is_relayed_whole_in_bounded_memory() {
    let env = TestEnv::new();
    let server = hand_server(chunked_with_a_lying_length);
    let (proxy, port) = record_http(&env, &format!("http://127.0.0.1:{server}/mcp"), &[]);
    let pid = proxy.0.id();
    let at_start = peak_rss_kib(pid);
    let (head, body) = answer_of(port, &post(&call(1, "small", &json!({})), ""));
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(!head.contains("content-length"), "{head}");
    assert_eq!(body, answer_body(1, "ok"));
    let (head, body) = answer_of(port, &post(&call(2, "stream", &json!({})), ""));
    assert!(!head.contains("content-length"), "{head}");
    let mut event = b"event: message\ndata: ".to_vec();
    event.extend_from_slice(&answer_body(2, "streamed"));
    event.extend_from_slice(b"\n\n");
    assert_eq!(body, event);
    let (_, body) = answer_of(port, &post(&call(3, "large", &json!({})), ""));
    assert!(
        body == answer_body(3, &big_text()),
        "the large answer differs"
    );
    let peak = peak_rss_kib(pid);
    assert!(
        peak < at_start + 24 * 1024,
        "the proxy grew from {at_start} KiB to {peak} KiB"
    );
    assert_eq!(proxy.terminate(), Some(0));
    let events = env.events(&env.sessions()[0]);
    let results = events
        .iter()
        .filter(|e| e["event_type"] == "tool_result")
        .count();
    assert_eq!(results, 3, "{events:?}");
}

/// A chunked body's bytes, its chunks joined.
fn dechunked(mut chunked: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(end) = chunked.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&chunked[..end]).unwrap().trim();
        let size = usize::from_str_radix(size, 16).unwrap();
        if size == 0 {
            break;
        }
        let rest = &chunked[end + 2..];
        body.extend_from_slice(&rest[..size]);
        chunked = &rest[size + 2..];
    }
    body
}

/// `request` sent to the proxy at `port`; the answer's head (lower case) and its body, its
/// chunks joined.
fn answer_of(port: u16, request: &str) -> (String, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
    let body = &answer[end + 4..];
    let body = if head.contains("transfer-encoding: chunked") {
        dechunked(body)
    } else {
        body.to_vec()
    };
    (head, body)
}

/// Answers with no body and `Content-Length: 1234`, as a server answers HEAD.
fn headers_only(_: &[u8], stream: &mut TcpStream) {
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1234\r\n\
          Connection: close\r\n\r\n",
    );
}

/// An answer to HEAD has no body and a length that tells what a GET would get: it is passed
/// on as the server gave it (the proxy frames every other answer by the length it has).
#[test]
fn an_answer_to_head_keeps_the_servers_length() {
    let env = TestEnv::new();
    let server = hand_server(headers_only);
    let (proxy, port) = record_http(&env, &format!("http://127.0.0.1:{server}/mcp"), &[]);
    let answer = raw_request(
        port,
        "HEAD /mcp HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-length: 1234\r\n"),
        "{answer}"
    );
    assert_eq!(proxy.terminate(), Some(0));
}
