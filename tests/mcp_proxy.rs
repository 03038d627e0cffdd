//! `record`: the stdio MCP proxy relays byte for byte and records what passed; a real client
//! and a real server through it.

use proptest::prelude::*;
use serde_json::{Value, json};

use agent_strace::capture::proxy::framing::{Frame, Framer};

use crate::common::net::{client_saw, required};
use crate::common::{
    TestEnv, assert_listed_with_no_errors, run_with_stdin, with_syscall_held_back_at_first,
};

#[test]
fn a_real_client_and_server_talk_through_the_proxy_and_replay_shows_the_calls() {
    let python = required("AGENT_STRACE_MCP_PYTHON", "a Python with the `mcp` package");
    let servers = required(
        "AGENT_STRACE_MCP_SERVERS",
        "npm's @modelcontextprotocol/server-everything",
    );
    let server = servers.join("@modelcontextprotocol/server-everything/dist/index.js");
    let env = TestEnv::new();
    let store = env.store();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/stdio_client.py");
    let seen = client_saw(
        std::process::Command::new(python)
            .arg(script)
            .arg(crate::common::bin())
            .arg(&store)
            .args(["--", "node"])
            .arg(&server)
            .arg("stdio")
            .env("AGENT_STRACE_HOME", env.home.path())
            .current_dir(env.path()),
        "client",
    );
    assert_eq!(seen["echo"], "Echo: héllo through the proxy ✓");
    assert_eq!(seen["sum"], "The sum of 2 and 40 is 42.");
    assert!(seen["tools"].as_array().unwrap().len() >= 5);

    let store_arg = store.to_str().unwrap();
    let sessions = env.sessions();
    assert_eq!(sessions.len(), 1);
    let events = env.events(&sessions[0]);
    let calls: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "tool_call")
        .collect();
    let results: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "tool_result")
        .collect();
    assert_eq!(calls.len(), 2);
    assert_eq!(results.len(), 2);
    assert_eq!(calls[0]["data"]["tool_name"], "echo");
    assert_eq!(results[0]["parent_id"], calls[0]["event_id"]);
    assert!(results[0]["duration_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(
        results[0]["data"]["result"],
        "Echo: héllo through the proxy ✓"
    );
    crate::common::assert_methods_recorded(
        &events,
        &[
            "initialize",
            "notifications/initialized",
            "tools/list",
            "resources/list",
            "resources/read",
        ],
    );
    assert_eq!(events.last().unwrap()["event_type"], "session_end");
    let meta = env.meta(&sessions[0]);
    assert_eq!(meta["agent_name"], "everything");
    assert_eq!(meta["tool_calls"], 2);

    let replay = env
        .run(&["--trace-dir", store_arg, "replay"])
        .success()
        .stdout
        .clone();
    assert!(
        replay.contains("tool_call echo") && replay.contains("tool_result get-sum ("),
        "{replay}"
    );
    assert!(replay.contains("decision tools/list"), "{replay}");
}

#[test]
fn the_typescript_client_drives_the_filesystem_server_through_the_proxy() {
    let servers = required(
        "AGENT_STRACE_MCP_SERVERS",
        "npm's @modelcontextprotocol/server-filesystem",
    );
    let server = servers.join("@modelcontextprotocol/server-filesystem/dist/index.js");
    let env = TestEnv::new();
    let root = env.path().join("files");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("existing.txt"), "here before\n").unwrap();
    let store = env.store();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/ts_client.mjs");
    // As a client config would write it: agent-strace record --name fs -- <the server>.
    let seen = client_saw(
        std::process::Command::new("node")
            .arg(script)
            .args(["stdio-fs", "--"])
            .arg(crate::common::bin())
            .arg("--trace-dir")
            .arg(&store)
            .args(["record", "--name", "fs", "--", "node"])
            .arg(&server)
            .arg(&root)
            .env("FS_ROOT", &root)
            .env("AGENT_STRACE_HOME", env.home.path())
            .current_dir(env.path()),
        "client",
    );
    assert_eq!(seen["read_matches"], true, "{seen}");
    assert_eq!(
        std::fs::read_to_string(root.join("agent-strace-note.txt")).unwrap(),
        seen["read"].as_str().unwrap()
    );

    let sessions = env.sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(env.meta(&sessions[0])["agent_name"], "fs");
    let events = env.events(&sessions[0]);
    let tools: Vec<&str> = events
        .iter()
        .filter(|e| e["event_type"] == "tool_call")
        .filter_map(|e| e["data"]["tool_name"].as_str())
        .collect();
    assert_eq!(tools, ["write_file", "read_text_file", "list_directory"]);
    let results = events
        .iter()
        .filter(|e| e["event_type"] == "tool_result" && e["duration_ms"].is_number())
        .count();
    assert_eq!(results, 3);
    let replay = env
        .run(&["--trace-dir", store.to_str().unwrap(), "replay"])
        .success()
        .stdout
        .clone();
    assert!(replay.contains("tool_result list_directory ("), "{replay}");
}

/// Messages of every shape a stream can carry: small, large, non-ASCII, Content-Length framed.
fn stream_of(n: usize) -> (Vec<u8>, usize) {
    let mut bytes = Vec::new();
    let mut messages = 0;
    for i in 0..n {
        let message = match i % 5 {
            0 => {
                json!({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {"name": "echo", "arguments": {"message": "é✓ 日本 🎉"}}})
            }
            1 => {
                json!({"jsonrpc": "2.0", "id": i - 1, "result": {"content": [{"type": "text", "text": "x".repeat(i % 3000)}]}})
            }
            2 => json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"n": i}}),
            3 => json!({"jsonrpc": "2.0", "id": i, "method": "tools/list"}),
            _ => {
                json!({"jsonrpc": "2.0", "id": i - 1, "error": {"code": -32601, "message": "nope"}})
            }
        };
        let text = message.to_string();
        if i % 7 == 0 {
            bytes.extend_from_slice(format!("Content-Length: {}\r\n\r\n", text.len()).as_bytes());
            bytes.extend_from_slice(text.as_bytes());
        } else {
            bytes.extend_from_slice(text.as_bytes());
            bytes.extend_from_slice(if i % 2 == 0 { b"\r\n" } else { b"\n" });
        }
        messages += 1;
    }
    // One 10 MB result, and a line that is not JSON at all.
    let big = json!({"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": "ü".repeat(5 * 1024 * 1024)}]}});
    bytes.extend_from_slice(big.to_string().as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(b"{this is not json\n");
    (bytes, messages + 2)
}

#[test]
fn ten_thousand_messages_pass_byte_for_byte_and_are_each_recorded_or_counted() {
    let env = TestEnv::new();
    let (input, messages) = stream_of(10_000);
    assert!(input.len() > 10 * 1024 * 1024);
    // `cat` as the server: it sends the client's bytes straight back.
    let run = run_with_stdin(
        env.command(&["record", "--name", "cat", "--", "cat"]),
        &input,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.as_bytes() == input.as_slice(),
        "the relayed bytes differ"
    );
    let sessions = env.sessions();
    let events = env.events(&sessions[0]);
    // Every message is recorded twice: going to the server and coming back from it, or
    // counted where a slow recorder (a test build on a busy host) could not keep up for longer
    // than the relay waits for it. Besides them: the start, the end, and the server's process.
    let counted: u64 = events
        .iter()
        .filter_map(|e| e["data"]["unrecorded_messages"].as_u64())
        .sum();
    let recorded = events
        .iter()
        .filter(|e| {
            !matches!(
                e["event_type"].as_str(),
                Some("session_start" | "session_end")
            ) && e["data"]["agent_pid"].is_null()
                && e["data"]["unrecorded_messages"].is_null()
        })
        .count();
    assert_eq!(
        recorded as u64 + counted,
        messages as u64 * 2,
        "{recorded} recorded and {counted} counted"
    );
    let malformed = events
        .iter()
        .filter(|e| {
            e["event_type"] == "error"
                && e["data"]["error"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("malformed")
        })
        .count();
    assert!(malformed <= 2);
}

#[test]
fn the_servers_exit_code_and_stderr_pass_through() {
    let env = TestEnv::new();
    let run = run_with_stdin(
        env.command(&["record", "--", "sh", "-c", "echo oops >&2; exit 3"]),
        b"",
    );
    assert_eq!(run.code, 3);
    assert_eq!(run.stderr, "oops\n");
    let missing = run_with_stdin(env.command(&["record", "--", "/no/such/server"]), b"");
    assert_eq!(missing.code, 127);
    assert!(
        missing
            .stderr
            .starts_with("error: cannot run /no/such/server"),
        "{}",
        missing.stderr
    );
}

/// A server's command that is there but cannot be run (not executable, a folder) exited 127,
/// as one not found does; a shell tells them apart, 126 for the first, and so does record.
#[test]
fn a_server_found_but_not_runnable_exits_126_and_one_not_found_127() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let plain = env.path().join("plain-file");
    std::fs::write(&plain, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
    let folder = env.path().join("a-folder");
    std::fs::create_dir(&folder).unwrap();
    for (command, code) in [
        (plain.to_str().unwrap(), 126),
        (folder.to_str().unwrap(), 126),
        ("/no/such/server", 127),
        ("no-such-server-on-the-path", 127),
    ] {
        let run = run_with_stdin(env.command(&["record", "--", command]), b"");
        assert_eq!(run.code, code, "{command}: {}", run.stderr);
        assert!(
            run.stderr.contains("cannot run"),
            "{command}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_server_that_cannot_be_launched_is_said_so_and_is_no_error_of_a_turn() {
    let env = TestEnv::new();
    let missing = run_with_stdin(env.command(&["record", "--", "/no/such/server"]), b"");
    assert_eq!(missing.code, 127, "{}", missing.stderr);
    let stats = env.run(&["stats", "--format", "json"]).success().json();
    assert_eq!(
        (
            &stats["errors"],
            &stats["tool_errors"],
            &stats["launch_failures"]
        ),
        (&json!(0), &json!(0), &json!(1)),
        "{stats:#}"
    );
    let said = env.run(&["stats"]).success().stdout.clone();
    assert!(
        said.contains("The MCP server could not be launched"),
        "{said}"
    );
    assert!(!said.contains("of the turn"), "{said}");
    let explained = env.run(&["explain"]).success().stdout.clone();
    assert!(
        explained.contains("The MCP server could not be launched"),
        "{explained}"
    );
    assert!(
        explained.contains("cannot run /no/such/server"),
        "{explained}"
    );
    assert!(!explained.contains("of the turn"), "{explained}");
    let list = env.run(&["list", "--format", "json"]).success().json();
    assert_eq!(list[0]["errors"], json!(0), "{list:#}");
    let sql = env
        .run(&[
            "sql",
            "--format",
            "json",
            "SELECT errors, tool_errors FROM sessions",
        ])
        .success()
        .json();
    assert_eq!(sql, json!([{"errors": 0, "tool_errors": 0}]));
}

/// A client line that is no JSON-RPC, and the server's `-32700` answer to it (`"id": null`),
/// were counted as errors of the turn: `list` said 2 turn errors and `explain` "Errors of the
/// turn, not of a tool (2)", though an MCP session has no turns. They are protocol errors, of
/// no call and no turn: said apart, as a server that could not be launched is.
#[test]
fn a_message_that_is_no_json_rpc_is_a_protocol_error_not_the_turns() {
    let env = TestEnv::new();
    let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#;
    let call =
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x","arguments":{}}}"#;
    let server = r#"read -r l; echo '{"jsonrpc":"2.0","id":1,"result":{"capabilities":{}}}'
read -r l; echo '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}'
read -r l; echo '{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"ok"}]}}'"#;
    let run = run_with_stdin(
        env.command(&["record", "--name", "p", "--", "sh", "-c", server]),
        format!("{initialize}\nnot json at all\n{call}\n").as_bytes(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stats = env.run(&["stats", "--format", "json"]).success().json();
    assert_eq!(
        (
            &stats["errors"],
            &stats["tool_errors"],
            &stats["protocol_errors"]
        ),
        (&json!(0), &json!(0), &json!(2)),
        "{stats:#}"
    );
    assert_listed_with_no_errors(&env, &env.store());
    let explained = env.run(&["explain"]).success().stdout.clone();
    assert!(explained.contains("Protocol errors"), "{explained}");
    assert!(explained.contains("Parse error"), "{explained}");
    assert!(explained.contains("malformed JSON-RPC"), "{explained}");
    assert!(!explained.contains("of the turn"), "{explained}");
}

/// Messages the recorder fell behind on (its writes held back: a stalled disk) are relayed and
/// counted in an error that says so. The stdio proxy's names the direction it was of, so it was
/// counted as a protocol error ("Protocol errors: 2"), though neither the client nor the server
/// broke the protocol: it is a gap in our own recording, said apart and counted in no error.
#[test]
fn messages_the_recorder_fell_behind_on_are_a_gap_in_the_recording_not_a_protocol_error() {
    let env = TestEnv::new();
    let pad = "y".repeat(2_000);
    let mut input = String::new();
    for id in 0..3_000 {
        let call = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "x", "arguments": {"pad": pad}}});
        input.push_str(&call.to_string());
        input.push('\n');
    }
    // The recorder's read of its events file's last byte with each batch it writes (pread64,
    // which the relay never makes) is held back 1 s, three times: the relay outruns it by far
    // more than its queue holds.
    let record = env.command(&["record", "--name", "p", "--", "cat"]);
    let held = with_syscall_held_back_at_first(&record, "pread64", 1_000_000, 3);
    let run = run_with_stdin(held, input.as_bytes());
    assert_eq!((run.code, run.stdout == input), (0, true), "{}", run.stderr);
    let events = env.events(&env.sessions()[0]);
    let said: Vec<u64> = events
        .iter()
        .filter_map(|e| e["data"]["unrecorded_messages"].as_u64())
        .collect();
    assert!(!said.is_empty(), "the recorder never fell behind");
    let stats = env.run(&["stats", "--format", "json"]).success().json();
    assert_eq!(
        (
            &stats["errors"],
            &stats["tool_errors"],
            &stats["protocol_errors"],
            &stats["unrecorded_messages"]
        ),
        (
            &json!(0),
            &json!(0),
            &Value::Null,
            &json!(said.iter().sum::<u64>())
        ),
        "{stats:#}"
    );
    let text = env.run(&["stats"]).success().stdout.clone();
    assert!(text.contains("Unrecorded messages"), "{text}");
    assert!(!text.contains("Protocol errors"), "{text}");
    assert_listed_with_no_errors(&env, &env.store());
    let explained = env.run(&["explain"]).success().stdout.clone();
    assert!(explained.contains("Gaps in the recording"), "{explained}");
    assert!(
        explained.contains("the recorder fell behind"),
        "{explained}"
    );
    assert!(!explained.contains("Protocol errors"), "{explained}");
    assert!(!explained.contains("of the turn"), "{explained}");
    let json = env.run(&["explain", "--format", "json"]).success().json();
    assert_eq!(
        json["recording_gaps"].as_array().map(Vec::len),
        Some(said.len()),
        "{json:#}"
    );
}

#[test]
fn a_result_cut_inside_an_emoji_is_recorded_as_its_calls_result() {
    let env = TestEnv::new();
    // JavaScript's JSON.stringify writes a string cut inside a surrogate pair (a `slice()` in
    // the middle of an emoji) with a lone surrogate escape, and Python's json so a file name
    // that is not UTF-8; JSON.parse and json.loads both read it.
    let answer = env.path().join("answer.json");
    let text = r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"caf\udcc3 \ud83d"}]}}"#;
    std::fs::write(&answer, format!("{text}\n")).unwrap();
    let call =
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","arguments":{}}}"#;
    let server = format!("read -r line; cat '{}'", answer.display());
    let run = run_with_stdin(
        env.command(&["record", "--", "sh", "-c", &server]),
        format!("{call}\n").as_bytes(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, format!("{text}\n"), "passed as it came");
    let events = env.events(&env.sessions()[0]);
    let call = events.iter().find(|e| e["event_type"] == "tool_call");
    let result = events.iter().find(|e| e["event_type"] == "tool_result");
    let (Some(call), Some(result)) = (call, result) else {
        panic!("the call and its result: {events:?}");
    };
    assert_eq!(result["parent_id"], call["event_id"]);
    assert_eq!(result["data"]["result"], "caf\u{fffd} \u{fffd}");
    assert!(
        !events.iter().any(|e| e["event_type"] == "error"),
        "{events:?}"
    );
}

/// A number past a double's range is JSON (Node reads `1e400` as Infinity, Python as inf): a
/// call holding one was recorded as a malformed message, and stats counted no call.
#[test]
fn a_call_with_a_number_past_a_double_is_recorded_as_a_call() {
    let env = TestEnv::new();
    let call = r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"calc","arguments":{"n":1e400,"m":2}}}
"#;
    let run = run_with_stdin(env.command(&["record", "--", "cat"]), call.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, call, "passed as it came");
    let events = env.events(&env.sessions()[0]);
    let recorded = events
        .iter()
        .find(|e| e["event_type"] == "tool_call")
        .unwrap_or_else(|| panic!("the call: {events:?}"));
    assert!(recorded.to_string().contains("calc"), "{recorded}");
    assert!(
        !events.iter().any(|e| e["event_type"] == "error"),
        "{events:?}"
    );
}

#[test]
fn two_calls_waiting_under_one_id_each_get_their_own_result() {
    let env = TestEnv::new();
    // Two calls under one id (two clients' `initialize` share id 0 before either has its
    // session; a client may reuse one): the second took the first's place, so the first
    // answer was recorded as the second call's result and the second answered nothing.
    let call = |tool: &str| {
        json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
               "params": {"name": tool, "arguments": {}}})
        .to_string()
    };
    let answer = |text: &str| {
        json!({"jsonrpc": "2.0", "id": 5, "result": {"content": [{"type": "text", "text": text}]}})
            .to_string()
    };
    let answers = env.path().join("answers.json");
    std::fs::write(
        &answers,
        format!("{}\n{}\n", answer("of x"), answer("of y")),
    )
    .unwrap();
    let server = format!("read -r a; read -r b; cat '{}'", answers.display());
    let run = run_with_stdin(
        env.command(&["record", "--", "sh", "-c", &server]),
        format!("{}\n{}\n", call("x"), call("y")).as_bytes(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let events = env.events(&env.sessions()[0]);
    let of =
        |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["event_type"] == kind).collect() };
    let (calls, results) = (of("tool_call"), of("tool_result"));
    assert_eq!(results.len(), 2, "{events:?}");
    for (call, (result, text)) in calls.iter().zip(results.iter().zip(["of x", "of y"])) {
        assert_eq!(result["parent_id"], call["event_id"], "{events:?}");
        assert_eq!(result["data"]["tool_name"], call["data"]["tool_name"]);
        assert_eq!(result["data"]["result"], text);
    }
}

#[test]
fn an_unwritable_store_never_stops_the_traffic() {
    let env = TestEnv::new();
    std::fs::write(env.store(), "a file, not a folder").unwrap();
    let input = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
    let run = run_with_stdin(env.command(&["record", "--", "cat"]), input);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout.as_bytes(), input);
    assert!(run.stderr.contains("not recording"), "{}", run.stderr);
}

#[test]
fn a_disk_that_fills_up_midway_never_stops_the_traffic() {
    let env = TestEnv::new();
    let (input, _) = stream_of(1_000);
    let command = crate::common::with_a_full_disk_at_32_kib(
        &env.command(&["record", "--name", "cat", "--", "cat"]),
    );
    let run = run_with_stdin(command, &input);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.as_bytes() == input.as_slice(),
        "the relayed bytes differ"
    );
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
    assert!(log.contains("recording stopped"), "{log}");
    let events = std::fs::metadata(env.store().join(&env.sessions()[0]).join("events.ndjson"))
        .unwrap()
        .len();
    assert!(events <= 32 * 1024, "the limit held: {events} bytes");
}

fn frames_of(chunks: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut framer = Framer::new();
    let mut out = Vec::new();
    let mut keep = |frame: Frame<'_>| match frame {
        Frame::Whole(m) => out.push(m.to_vec()),
        Frame::Cut { .. } => panic!("no message here is large enough to be cut"),
    };
    for chunk in chunks {
        framer.push(chunk, &mut keep);
    }
    framer.finish(&mut keep);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// However the stream is cut into reads, the same messages come out.
    #[test]
    fn framing_is_independent_of_how_the_stream_is_read(
        bodies in prop::collection::vec(("[a-z0-9 é✓]{0,40}", any::<bool>(), any::<bool>()), 1..20),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for (text, framed, crlf) in &bodies {
            let body = json!({"jsonrpc": "2.0", "method": "m", "params": {"t": text}}).to_string().into_bytes();
            if *framed {
                let sep: &[u8] = if *crlf { b"\r\n\r\n" } else { b"\n\n" };
                stream.extend_from_slice(format!("Content-Length: {}", body.len()).as_bytes());
                stream.extend_from_slice(sep);
                stream.extend_from_slice(&body);
            } else {
                stream.extend_from_slice(&body);
                stream.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
            }
            expected.push(body);
        }
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut last = 0;
        for p in points {
            chunks.push(stream[last..p].to_vec());
            last = p;
        }
        chunks.push(stream[last..].to_vec());
        prop_assert_eq!(frames_of(&chunks), expected);
    }
}

#[test]
fn masking_and_redaction_change_the_record_never_the_traffic() {
    let env = TestEnv::new();
    let key = format!("sk-ant-api03-{}", "Qw8Er7Ty6Ui5".repeat(5));
    let message = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "send",
        "arguments": {"to": "ada@example.com", "card": "4111 1111 1111 1111", "ssn": "123-45-6789",
                      "note": format!("ticket ACME-1234, key {key}")}}});
    let input = format!("{message}\n");
    let run = run_with_stdin(
        env.command(&[
            "record",
            "--mask",
            "--redact",
            "--redact-pattern",
            r"ACME-\d+",
            "--",
            "cat",
        ]),
        input.as_bytes(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, input, "the traffic must pass unchanged");
    let session = &env.sessions()[0];
    let stored = std::fs::read_to_string(env.store().join(session).join("events.ndjson")).unwrap();
    for secret in [
        "ada@example.com",
        "4111 1111 1111 1111",
        "123-45-6789",
        "ACME-1234",
        key.as_str(),
    ] {
        assert!(!stored.contains(secret), "{secret} reached the store");
    }
    for placeholder in ["[EMAIL]", "[CARD]", "[SSN]", "[REDACTED]"] {
        assert!(stored.contains(placeholder), "{placeholder} missing");
    }
    let bad = run_with_stdin(
        env.command(&["record", "--redact-pattern", "(", "--", "cat"]),
        b"",
    );
    assert_eq!(bad.code, 2);
    assert_eq!(
        bad.stderr,
        "error: --redact-pattern `(` is not a valid regular expression: unclosed group\n",
        "one line that says what is wrong"
    );
}

#[test]
fn with_redact_a_key_on_the_servers_command_line_never_reaches_disk() {
    let env = TestEnv::new();
    let key = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789";
    let input = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
    // `sh -c cat KEY`: the key is the shell's $0, as a server's --api-key argument would be.
    let run = env.run_with_stdin(&["record", "--redact", "--", "sh", "-c", "cat", key], input);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.as_bytes(), input);
    let session = &env.sessions()[0];
    let meta = env.meta(session);
    assert_eq!(meta["command"], "sh -c cat [REDACTED]");
    let events = std::fs::read_to_string(env.store().join(session).join("events.ndjson")).unwrap();
    assert!(!events.contains(key));
}

#[test]
fn a_signal_to_the_proxy_reaches_the_server() {
    let env = TestEnv::new();
    // The server reports the signal it got through its exit code, and ends the session. It
    // gives up after some 60 s, so that a failed run leaves no server behind.
    let script = "trap 'exit 42' TERM; echo ready; i=0; while [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done";
    // With SIGTERM at its default whatever the test runner's: one ignored there stays ignored
    // in the server, whose trap cannot catch it, and the test waited for it forever.
    let record = env.command(&["record", "--", "sh", "-c", script]);
    let mut child = crate::common::with_signals(&record, &["--default-signal=TERM"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 6];
    std::io::Read::read_exact(&mut out, &mut first).unwrap();
    assert_eq!(&first, b"ready\n");
    std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(42), "SIGTERM did not reach the server");
    let events = env.events(&env.sessions()[0]);
    assert_eq!(events.last().unwrap()["event_type"], "session_end");
    assert_eq!(events.last().unwrap()["data"]["exit_code"], 42);
}

#[test]
fn each_signal_reaches_the_server_when_the_clients_path_has_no_kill() {
    // MCP clients start servers with the PATH their config gives; one without `kill` left the
    // proxy deaf to the signal that should stop it, and its server running.
    let env = TestEnv::new();
    let bin = env.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let sleep = which("sleep");
    std::os::unix::fs::symlink(sleep, bin.join("sleep")).unwrap();
    for (signal, code) in [("TERM", 42), ("INT", 43), ("HUP", 44)] {
        // It gives up after some 60 s, so that a failed run leaves no server behind.
        let script = format!(
            "trap 'exit {code}' {signal}; echo ready; i=0; while [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done"
        );
        let mut record = env.command(&["record", "--", "/bin/sh", "-c", &script]);
        record.env("PATH", &bin);
        let mut child = crate::common::with_signals(&record, &["--default-signal=HUP,INT,TERM"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let mut first = [0u8; 6];
        std::io::Read::read_exact(&mut out, &mut first).unwrap();
        std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            // Generous: a loaded machine may take seconds to run the server's trap.
            if started.elapsed() > std::time::Duration::from_secs(90) {
                let _ = child.kill();
                panic!("SIG{signal} did not reach the server");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert_eq!(
            status.code(),
            Some(code),
            "SIG{signal} did not reach the server"
        );
    }
}

/// Where `program` is on this PATH.
fn which(program: &str) -> std::path::PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("no {program} on PATH"))
}

#[test]
fn a_signal_at_any_moment_of_the_proxys_start_ends_its_session_and_leaves_no_server() {
    // The proxy caught the signals to stop only once its server had started: one that came
    // before ended it with its session begun and never ended, or with the server running on
    // (some 1 in 15 of these, on an idle machine). Each run here is signalled a little later.
    let env = TestEnv::new();
    for i in 0..60u32 {
        let pidfile = env.path().join(format!("server-{i}.pid"));
        let script = format!(
            "echo $$ > '{}'; exec sleep {}",
            pidfile.display(),
            unique_sleep(i)
        );
        let record = env.command(&["record", "--", "/bin/sh", "-c", &script]);
        let mut proxy = crate::common::with_signals(&record, &["--default-signal=TERM"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(u64::from(i) * 500));
        let pid = rustix::process::Pid::from_raw(proxy.id().cast_signed()).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        proxy.wait().unwrap();
    }
    let mut left = Vec::new();
    for i in 0..60 {
        // None, or empty: that run's shell never started, or was stopped before it wrote.
        let pidfile = env.path().join(format!("server-{i}.pid"));
        let Some(pid) = std::fs::read_to_string(pidfile)
            .ok()
            .and_then(|pid| pid.trim().parse::<u32>().ok())
        else {
            continue;
        };
        // That server's `sleep`, not another process given its pid since.
        let server = format!("sleep\0{}\0", unique_sleep(i));
        if std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == server.as_bytes()) {
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
            left.push(i);
        }
    }
    assert!(left.is_empty(), "servers left running by runs {left:?}");
    for session in env.sessions() {
        let events = env.events(&session);
        assert_eq!(
            events.last().map(|e| e["event_type"].clone()),
            Some("session_end".into()),
            "session {session} never ended: {events:?}"
        );
    }
}

/// Some 30 s, in a way no other process's `sleep` is likely to be written.
fn unique_sleep(run: u32) -> String {
    format!("30.{:07}{run:03}", std::process::id())
}

#[test]
fn a_signal_the_proxy_was_started_ignoring_stays_ignored_by_the_server() {
    // Under `nohup` a server run directly ignores SIGHUP; through the proxy it must too, though
    // the proxy catches the signals to stop from before it starts the server (a caught signal
    // is at its default in a process started since).
    let env = TestEnv::new();
    let script = "trap 'exit 42' TERM; echo ready; i=0; while [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done";
    let record = env.command(&["record", "--", "/bin/sh", "-c", script]);
    let mut proxy =
        crate::common::with_signals(&record, &["--ignore-signal=HUP", "--default-signal=TERM"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
    let mut first = [0u8; 6];
    std::io::Read::read_exact(proxy.stdout.as_mut().unwrap(), &mut first).unwrap();
    for signal in ["HUP", "TERM"] {
        std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(proxy.id().to_string())
            .status()
            .unwrap();
    }
    // Killed by SIGHUP, the server would end with 129 whichever signal came first.
    assert_eq!(proxy.wait().unwrap().code(), Some(42));
}

#[test]
fn ctrl_c_in_a_terminal_reaches_the_server_once() {
    // A terminal sends Ctrl-C's SIGINT to every process of its foreground process group, the
    // server as well as the proxy; the proxy passed its own on too, so the server was
    // interrupted twice (a Python server's cleanup cut short by a second KeyboardInterrupt).
    // A server that left the proxy's group, out of the terminal's reach, gets it from the proxy.
    for own_group in [false, true] {
        let env = TestEnv::new();
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/ctrl_c.py");
        let log = env.path().join("signals.log");
        let mut server = vec![
            "record",
            "--",
            "python3",
            script.to_str().unwrap(),
            "server",
            log.to_str().unwrap(),
        ];
        if own_group {
            server.push("own-group");
        }
        let record = env.command(&server);
        let mut terminal = std::process::Command::new("python3");
        terminal.arg(&script).arg("terminal").arg(&log);
        let terminal = crate::common::run_by(terminal, &record);
        let run = crate::common::Run::of(
            crate::common::with_signals(&terminal, &["--default-signal=INT,TERM"])
                .output()
                .unwrap(),
        );
        assert_eq!(run.stdout.trim(), "42", "{}", run.stderr);
        // The terminal's SIGINT, then the SIGTERM sent to the proxy alone.
        let got = std::fs::read_to_string(&log).unwrap();
        assert_eq!(
            got.lines().collect::<Vec<_>>(),
            ["SIGINT", "SIGTERM"],
            "own group: {own_group}"
        );
    }
}

/// A server that exits while a process it started still holds its output (a `cmd &` in a
/// launcher) ends the proxy with its exit code once its output is quiet, with and without a
/// policy, and the session says how it ended: the proxy read on to the pipe's end, which came
/// only when that process did, and the client waited as long.
#[test]
fn a_server_that_exits_ends_the_proxy_though_a_process_it_left_holds_its_output() {
    let env = TestEnv::new();
    let left = env.path().join("left.pid");
    let script = env.path().join("server.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nsleep 600 &\necho $! >> {}\ncat >/dev/null\necho '{{\"jsonrpc\":\"2.0\",\"method\":\"bye\"}}'\nexit 3\n",
            left.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(env.path().join("policy.json"), "{}").unwrap();
    let script = script.to_str().unwrap();
    for args in [
        &["record", "--", script][..],
        &["record", "--policy", "policy.json", "--", script][..],
    ] {
        let mut proxy = env
            .command(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = proxy.stdin.take().unwrap();
        std::io::Write::write_all(&mut stdin, b"{\"jsonrpc\":\"2.0\",\"method\":\"hi\"}\n")
            .unwrap();
        drop(stdin);
        let mut said = String::new();
        let mut stdout = proxy.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let _ = std::io::Read::read_to_string(&mut stdout, &mut said);
            said
        });
        let status = crate::common::wait::ends_by_itself(&mut proxy, "the proxy");
        assert_eq!(status.code(), Some(3), "{args:?}");
        // The proxy's end closes its output, whatever holds the server's.
        assert!(reader.join().unwrap().contains("\"bye\""), "{args:?}");
    }
    for pid in std::fs::read_to_string(&left).unwrap().lines() {
        let _ = std::process::Command::new("kill").arg(pid).status();
    }
    for session in env.sessions() {
        let events = env.events(&session);
        let end = events.iter().find(|e| e["event_type"] == "session_end");
        assert_eq!(end.unwrap()["data"]["exit_code"], 3, "{events:?}");
    }
    assert_eq!(env.sessions().len(), 2);
}

/// What a process the server left behind goes on writing after the server exits is relayed to
/// its end, for as long as it keeps coming: the relay ended half a second after the exit
/// whatever was still coming, and the client got 5 of 30 messages.
#[test]
fn what_a_server_leaves_writing_after_it_exits_is_relayed_whole() {
    let env = TestEnv::new();
    let script = env.path().join("server.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\n( for i in $(seq 1 30); do echo '{\"jsonrpc\":\"2.0\",\"method\":\"n'$i'\"}'; sleep 0.1; done ) &\nexit 0\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let run = run_with_stdin(
        env.command(&["record", "--", script.to_str().unwrap()]),
        b"",
    );
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 30, "{}", run.stdout);
    assert!(lines[29].contains("\"n30\""), "{}", run.stdout);
}
