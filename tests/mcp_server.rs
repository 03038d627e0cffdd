//! `mcp`: the store served as MCP tools over stdio, driven by real MCP clients (the Python
//! SDK, modern and legacy, and the TypeScript SDK), answers what the commands answer; malformed
//! input gets JSON-RPC errors and never stops the server.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::net::{client_saw, required};
use crate::common::{TestEnv, nested, shared};

const HOOKED: &str = "5e55a000-0000-4000-8000-00000000beef";
const TOOLS: [&str; 5] = [
    "list_sessions",
    "get_session",
    "search_events",
    "get_session_summary",
    "diff_sessions",
];

/// A store with two imported Claude Code transcripts and one session recorded by the hooks
/// (a read, a failing test run, an edit, a passing run); returns the imported ids.
fn fixture(env: &TestEnv) -> (String, String) {
    let corpus = shared().join("corpus/claude-code");
    let store = env.store();
    let out = env
        .run(&[
            "--trace-dir",
            store.to_str().unwrap(),
            "import",
            "--format",
            "json",
            corpus
                .join("DRMacIver__claude-reliability/coverage-test-fix.jsonl")
                .to_str()
                .unwrap(),
            corpus
                .join("marot__spotter/tool_heavy.jsonl")
                .to_str()
                .unwrap(),
        ])
        .success()
        .json();
    let ids: Vec<String> = out
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["session_id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 2, "{out}");
    let payload = |event: &str, extra: Value| {
        let mut p = json!({"session_id": HOOKED, "transcript_path": "/nonexistent.jsonl", "hook_event_name": event});
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    };
    let steps = [
        (
            "session-start",
            payload("SessionStart", json!({"source": "startup"})),
        ),
        (
            "user-prompt",
            payload(
                "UserPromptSubmit",
                json!({"prompt": "fix the login \u{1b}[31mbug\u{1b}[0m \u{202e}now"}),
            ),
        ),
        (
            "pre-tool",
            payload(
                "PreToolUse",
                json!({"tool_name": "Read", "tool_input": {"file_path": "/p/src/auth.py"}, "tool_use_id": "toolu_1"}),
            ),
        ),
        (
            "post-tool",
            payload(
                "PostToolUse",
                json!({"tool_name": "Read", "tool_input": {"file_path": "/p/src/auth.py"}, "tool_use_id": "toolu_1", "tool_response": {"type": "text", "file": {"filePath": "/p/src/auth.py"}}}),
            ),
        ),
        (
            "pre-tool",
            payload(
                "PreToolUse",
                json!({"tool_name": "Bash", "tool_input": {"command": "pytest tests/"}, "tool_use_id": "toolu_2"}),
            ),
        ),
        (
            "post-tool-failure",
            payload(
                "PostToolUseFailure",
                json!({"tool_name": "Bash", "tool_input": {"command": "pytest tests/"}, "tool_use_id": "toolu_2", "error": "Exit code 2\nFAILED tests/test_auth.py::test_login", "is_interrupt": false}),
            ),
        ),
        (
            "pre-tool",
            payload(
                "PreToolUse",
                json!({"tool_name": "Edit", "tool_input": {"file_path": "/p/src/auth.py", "old_string": "a", "new_string": "b"}, "tool_use_id": "toolu_3"}),
            ),
        ),
        (
            "post-tool",
            payload(
                "PostToolUse",
                json!({"tool_name": "Edit", "tool_input": {"file_path": "/p/src/auth.py", "old_string": "a", "new_string": "b"}, "tool_use_id": "toolu_3", "tool_response": {"filePath": "/p/src/auth.py"}}),
            ),
        ),
        (
            "pre-tool",
            payload(
                "PreToolUse",
                json!({"tool_name": "Bash", "tool_input": {"command": "pytest tests/"}, "tool_use_id": "toolu_4"}),
            ),
        ),
        (
            "post-tool",
            payload(
                "PostToolUse",
                json!({"tool_name": "Bash", "tool_input": {"command": "pytest tests/"}, "tool_use_id": "toolu_4", "tool_response": {"stdout": "3 passed", "stderr": ""}}),
            ),
        ),
        ("stop", payload("Stop", json!({}))),
    ];
    for (event, p) in &steps {
        env.hook(event, p).success();
    }
    (ids[0].clone(), ids[1].clone())
}

/// What a command prints as JSON, run on the fixture store.
fn command_json(env: &TestEnv, args: &[&str]) -> Value {
    let store = env.store();
    let mut all = vec!["--trace-dir", store.to_str().unwrap()];
    all.extend(args);
    env.run(&all).success().json()
}

/// The calls every client makes, and what each must match.
fn plan(a: &str, b: &str) -> Value {
    json!([
        ["list_sessions", {"limit": 50}],
        ["get_session", {"session_id": HOOKED, "event_types": ["tool_call"], "limit": 2}],
        ["get_session", {"session_id": &HOOKED[..8], "offset": 2, "limit": 100}],
        ["search_events", {"tool": "bash", "exit_code": 2}],
        ["search_events", {"file_path": "src/*.py", "session_id": HOOKED}],
        ["search_events", {"has_error": true, "limit": 1}],
        ["get_session_summary", {"session_id": a}],
        ["diff_sessions", {"session_a": a, "session_b": b}],
        ["diff_sessions", {"session_a": a, "session_b": b, "mode": "semantic"}],
        ["get_session", {"session_id": "ffffffff-no-such-session"}],
        ["list_sessions", {"limit": 0}],
        ["search_events", {"tool_name": "Bash"}]
    ])
}

/// `v` with every number as a float: JavaScript writes 0.0 back as 0.
fn same_numbers(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64()),
        Value::Array(items) => Value::Array(items.iter().map(same_numbers).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), same_numbers(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Checks what a client saw against the store and the commands.
fn check_calls(env: &TestEnv, seen: &Value, a: &str, b: &str, structured: bool) {
    let calls = seen["calls"].as_array().unwrap();
    let data = |i: usize| -> Value {
        let call = &calls[i];
        assert_eq!(call["is_error"], false, "call {i}: {call}");
        let text: Value = serde_json::from_str(call["text"].as_str().unwrap()).unwrap();
        if structured {
            assert_eq!(
                same_numbers(&call["structured"]),
                same_numbers(&text),
                "call {i}: text and structure differ"
            );
        }
        text
    };
    // list_sessions: the sessions `list` shows, in its order.
    let listed = command_json(env, &["list", "--format", "json"]);
    let ids = |v: &Value| -> Vec<Value> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["session_id"].clone())
            .collect()
    };
    let sessions = data(0);
    assert_eq!(ids(&sessions["sessions"]), ids(&listed));
    assert_eq!(sessions["matched"], 3);
    let hooked = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == HOOKED)
        .unwrap();
    assert_eq!(
        (&hooked["tool_calls"], &hooked["errors"]),
        (&json!(4), &json!(1))
    );

    // get_session: a page of one type, then a page by offset, as the store holds them.
    let stored = env.events(HOOKED);
    let page = data(1);
    let calls_stored: Vec<&Value> = stored
        .iter()
        .filter(|e| e["event_type"] == "tool_call")
        .collect();
    assert_eq!(page["matched"], calls_stored.len());
    assert_eq!(page["next_offset"], 2);
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    for (got, want) in events.iter().zip(&calls_stored) {
        let mut got = got.clone();
        got.as_object_mut().unwrap().remove("index");
        assert_eq!(&got, *want);
    }
    let page = data(2);
    assert_eq!(page["matched"], stored.len());
    assert_eq!(page["next_offset"], Value::Null);
    assert_eq!(page["events"].as_array().unwrap().len(), stored.len() - 2);
    assert_eq!(page["events"][0]["index"], 2);
    assert_eq!(page["events"][0]["event_id"], stored[2]["event_id"]);
    // The prompt's escape and bidi characters reach the client as they were recorded.
    let prompt = stored
        .iter()
        .find(|e| e["event_type"] == "user_prompt")
        .unwrap();
    assert!(
        prompt["data"]["prompt"]
            .as_str()
            .unwrap()
            .contains('\u{202e}')
    );

    // search_events: the failed test run, found by tool and exit code.
    let found = data(3);
    let matches = found["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 1, "{found}");
    let m = &matches[0];
    assert_eq!(m["session_id"], HOOKED);
    assert_eq!(m["command"], "pytest tests/");
    assert_eq!((&m["failed"], &m["exit_code"]), (&json!(true), &json!(2)));
    let index = usize::try_from(m["event_index"].as_u64().unwrap()).unwrap();
    assert_eq!(stored[index]["event_id"], m["event_id"]);
    assert_eq!(stored[index]["event_type"], "tool_call");
    // By path: the read and the edit of src/auth.py.
    let found = data(4);
    let tools: Vec<&str> = found["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["tool"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["Read", "Edit"]);
    // Failed calls across sessions, bounded by the limit.
    let found = data(5);
    assert_eq!(found["matches"].as_array().unwrap().len(), 1);
    assert_eq!(found["matches"][0]["failed"], true);
    assert_eq!(found["truncated"], true);

    // get_session_summary is explain's JSON; diff_sessions is diff's; nothing to cut here.
    let bounded = |mut v: Value| {
        v["items_omitted"] = json!(0);
        v["strings_cut"] = json!(0);
        v
    };
    assert_eq!(
        data(6),
        bounded(command_json(env, &["explain", a, "--format", "json"]))
    );
    assert_eq!(
        data(7),
        bounded(command_json(env, &["diff", a, b, "--format", "json"]))
    );
    assert_eq!(
        data(8),
        bounded(command_json(
            env,
            &["diff", a, b, "--semantic", "--format", "json"]
        ))
    );

    // A session that does not exist, a limit out of range, an argument the tool does not take:
    // tool results with isError, saying why.
    for (i, says) in [
        (9, "no session matches"),
        (10, "`limit` must be between 1 and"),
        (11, "takes no argument `tool_name`"),
    ] {
        assert_eq!(calls[i]["is_error"], true, "call {i}: {}", calls[i]);
        let text = calls[i]["text"].as_str().unwrap();
        assert!(text.contains(says), "call {i}: {text}");
    }
}

fn python_client(env: &TestEnv, mode: &str, calls: &Value) -> Value {
    let python = required("AGENT_STRACE_MCP_PYTHON", "a Python with the `mcp` package");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/trace_tools_client.py");
    client_saw(
        std::process::Command::new(python)
            .arg(script)
            .arg(crate::common::bin())
            .arg(env.store())
            .arg(mode)
            .arg(calls.to_string())
            .env("AGENT_STRACE_HOME", env.home.path())
            .current_dir(env.path()),
        "the Python MCP client",
    )
}

fn check_tools(seen: &Value) {
    let tools = seen["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, TOOLS);
    for tool in tools {
        assert_eq!(tool["has_output_schema"], true, "{tool}");
    }
}

#[test]
fn the_python_sdk_speaking_2026_07_28_reads_what_the_commands_show() {
    let env = TestEnv::new();
    let (a, b) = fixture(&env);
    let seen = python_client(&env, "auto", &plan(&a, &b));
    assert_eq!(seen["protocol_version"], "2026-07-28");
    assert_eq!(seen["server"], "agent-strace");
    check_tools(&seen);
    for tool in seen["tools"].as_array().unwrap() {
        assert!(tool["description"].as_str().unwrap().len() > 80, "{tool}");
        assert_eq!(tool["input_schema"]["type"], "object");
    }
    check_calls(&env, &seen, &a, &b, true);
}

#[test]
fn the_python_sdk_through_the_initialize_handshake_reads_the_same() {
    let env = TestEnv::new();
    let (a, b) = fixture(&env);
    let seen = python_client(&env, "legacy", &plan(&a, &b));
    assert_eq!(seen["protocol_version"], "2025-11-25");
    check_tools(&seen);
    check_calls(&env, &seen, &a, &b, true);
}

#[test]
fn the_typescript_sdk_reads_the_same_and_its_output_schemas_hold() {
    let modules = required(
        "AGENT_STRACE_MCP_SERVERS",
        "npm's @modelcontextprotocol/sdk",
    );
    let env = TestEnv::new();
    let (a, b) = fixture(&env);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/trace_tools_client.mjs");
    let seen = client_saw(
        std::process::Command::new("node")
            .arg(script)
            .arg(crate::common::bin())
            .arg(env.store())
            .arg(plan(&a, &b).to_string())
            .env("AGENT_STRACE_MCP_SERVERS", modules)
            .env("AGENT_STRACE_HOME", env.home.path())
            .current_dir(env.path()),
        "the TypeScript MCP client",
    );
    assert_eq!(seen["server"], "agent-strace");
    assert!(
        seen["instructions"]
            .as_str()
            .unwrap()
            .contains("list_sessions")
    );
    check_tools(&seen);
    check_calls(&env, &seen, &a, &b, true);
}

/// Runs `mcp` on raw input and returns every line it wrote, decoded.
fn raw(env: &TestEnv, input: &[u8]) -> (Vec<Value>, String) {
    let store = env.store();
    let run = env.run_with_stdin(&["--trace-dir", store.to_str().unwrap(), "mcp"], input);
    run.success();
    assert!(
        !run.stdout.contains('\u{1b}') && !run.stdout.contains('\u{202e}'),
        "a terminal control reached stdout: {:?}",
        run.stdout
    );
    let lines = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    (lines, run.stderr)
}

#[test]
fn malformed_lines_are_json_rpc_errors_and_the_server_goes_on() {
    let env = TestEnv::new();
    fixture(&env);
    let mut input: Vec<u8> = Vec::new();
    let mut line = |l: &[u8]| {
        input.extend_from_slice(l);
        input.push(b'\n');
    };
    line(b"this is not json");
    line(b"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");
    line(b"42");
    line(b"{\"jsonrpc\":\"2.0\",\"id\":{\"nested\":1},\"method\":\"ping\"}");
    line(b"{\"jsonrpc\":\"1.0\",\"id\":\"old\",\"method\":\"ping\"}");
    line(b"{\"jsonrpc\":\"2.0\",\"id\":\"early\",\"method\":\"tools/list\"}");
    line(b"{\"jsonrpc\":\"2.0\",\"id\":\"noversion\",\"method\":\"initialize\",\"params\":{}}");
    line(b"\xff\xfe{\"jsonrpc\":\"2.0\"}");
    let mut huge =
        b"{\"jsonrpc\":\"2.0\",\"id\":\"huge\",\"method\":\"ping\",\"params\":{\"x\":\"".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 5 * 1024 * 1024));
    huge.extend_from_slice(b"\"}}");
    line(&huge);
    line(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\",\"params\":[1]}");
    line(b"{\"jsonrpc\":\"2.0\",\"id\":\"future\",\"method\":\"tools/list\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2099-01-01\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}");
    line(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2024-11-05\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"0\"}}}");
    line(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    line(b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
    line(b"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/list\"}");
    line(
        b"{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"rm_rf\"}}",
    );
    line(b"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"get_session\",\"arguments\":\"../../etc/passwd\"}}");
    line(b"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":\"get_session\",\"arguments\":{\"session_id\":\"../../etc\"}}}");
    line(b"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"get_session\",\"arguments\":{\"session_id\":\"5e55a\",\"limit\":\"all\"}}}");
    line(format!("{{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{{\"name\":\"get_session\",\"arguments\":{{\"session_id\":\"{HOOKED}\",\"event_types\":[\"user_prompt\"]}}}}}}").as_bytes());
    line(b"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\"}");
    let (answers, stderr) = raw(&env, &input);
    let code = |a: &Value| a["error"]["code"].as_i64();
    let expected: [(Value, Option<i64>); 19] = [
        (Value::Null, Some(-32700)),
        (Value::Null, Some(-32600)),
        (Value::Null, Some(-32600)),
        (Value::Null, Some(-32600)),
        (json!("old"), Some(-32600)),
        (json!("early"), Some(-32600)),
        (json!("noversion"), Some(-32602)),
        (Value::Null, Some(-32700)),
        (Value::Null, Some(-32700)),
        (json!("future"), Some(-32022)),
        (json!(1), None),
        (json!(2), None),
        (json!(3), Some(-32601)),
        (json!(4), Some(-32602)),
        (json!(5), Some(-32602)),
        (json!(6), None),
        (json!(7), None),
        (json!(8), None),
        (json!(9), None),
    ];
    assert_eq!(answers.len(), expected.len(), "{answers:#?}\n{stderr}");
    for (answer, (id, err)) in answers.iter().zip(&expected) {
        assert_eq!(answer["jsonrpc"], "2.0", "{answer}");
        assert_eq!(&answer["id"], id, "{answer}");
        assert_eq!(code(answer), *err, "{answer}");
    }
    assert_eq!(answers[9]["error"]["data"]["requested"], "2099-01-01");
    assert!(
        answers[9]["error"]["data"]["supported"]
            .as_array()
            .unwrap()
            .contains(&json!("2026-07-28"))
    );
    // 2024-11-05 is answered as itself, with what that revision knows: no output schemas, no
    // structured content.
    assert_eq!(answers[10]["result"]["protocolVersion"], "2024-11-05");
    let tools = answers[11]["result"]["tools"].as_array().unwrap();
    assert_eq!(tools.len(), TOOLS.len());
    assert!(tools.iter().all(|t| t.get("outputSchema").is_none()));
    // A path for an id, a string for a number: tool errors the model can read.
    for (i, says) in [
        (15, "no session matches"),
        (16, "`limit` must be a whole number"),
    ] {
        assert_eq!(answers[i]["result"]["isError"], true, "{}", answers[i]);
        let text = answers[i]["result"]["content"][0]["text"].as_str().unwrap();
        assert!(text.contains(says), "{text}");
    }
    // The prompt with terminal controls comes back whole once decoded, escaped in the text.
    let page = &answers[17]["result"];
    assert!(page.get("structuredContent").is_none());
    let text = page["content"][0]["text"].as_str().unwrap();
    assert!(
        !text.contains('\u{202e}') && text.contains("\\u202e"),
        "{text}"
    );
    let decoded: Value = serde_json::from_str(text).unwrap();
    let stored = env.events(HOOKED);
    let prompt = stored
        .iter()
        .find(|e| e["event_type"] == "user_prompt")
        .unwrap();
    assert_eq!(
        decoded["events"][0]["data"]["prompt"],
        prompt["data"]["prompt"]
    );
    assert_eq!(answers[18]["result"], json!({}));
}

#[test]
fn a_project_with_nothing_recorded_lists_no_sessions() {
    let env = TestEnv::new();
    let input = concat!(
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\"}}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"list_sessions\"}}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"search_events\",\"arguments\":{\"has_error\":true}}}\n",
    );
    let (answers, _) = raw(&env, input.as_bytes());
    assert_eq!(answers[1]["result"]["isError"], false, "{}", answers[1]);
    assert_eq!(
        answers[1]["result"]["structuredContent"]["sessions"],
        json!([])
    );
    assert_eq!(
        answers[2]["result"]["structuredContent"]["matches"],
        json!([])
    );
}

#[test]
fn a_search_reads_no_more_sessions_than_it_is_allowed_and_says_so() {
    let env = TestEnv::new();
    fixture(&env);
    let input = concat!(
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\"}}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"search_events\",\"arguments\":{\"tool\":\"Read\",\"max_sessions\":1}}}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"search_events\",\"arguments\":{\"tool\":\"Read\"}}}\n",
    );
    let (answers, _) = raw(&env, input.as_bytes());
    let few = &answers[1]["result"]["structuredContent"];
    assert_eq!(
        (&few["sessions_searched"], &few["sessions_not_searched"]),
        (&json!(1), &json!(2)),
        "{few}"
    );
    // The newest session is the hook-recorded one: its one Read.
    let sessions: Vec<&Value> = few["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["session_id"])
        .collect();
    assert_eq!(sessions, [HOOKED]);
    let all = &answers[2]["result"]["structuredContent"];
    assert_eq!(
        (&all["sessions_searched"], &all["sessions_not_searched"]),
        (&json!(3), &json!(0))
    );
    assert!(all["matches"].as_array().unwrap().len() > 1);
}

#[test]
fn list_sessions_costs_a_session_with_its_subagents_as_list_does() {
    use agent_strace::model::Tokens;

    use crate::common::SessionBuilder;

    let env = TestEnv::new();
    let tokens = |output: u64| Tokens {
        input: 1_000,
        output,
        ..Tokens::default()
    };
    let parent = SessionBuilder::new("7a000000-0000-4000-8000-000000000001")
        .prompt("plan the release")
        .llm_response("claude-sonnet-4-5", tokens(2_000))
        .ended(60.0)
        .write(&env);
    SessionBuilder::new("7a000000-0000-4000-8000-000000000002")
        .started(1_700_000_010.0)
        .meta(|m| m.parent_session_id = Some(parent.clone()))
        .prompt("check the changelog")
        .llm_response("claude-sonnet-4-5", tokens(30_000))
        .ended(20.0)
        .write(&env);
    let input = concat!(
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\"}}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"list_sessions\"}}\n",
    );
    let (answers, _) = raw(&env, input.as_bytes());
    let sessions = &answers[1]["result"]["structuredContent"]["sessions"];
    assert_eq!(sessions.as_array().map(Vec::len), Some(1), "{sessions}");
    let listed = command_json(&env, &["list", "--format", "json"]);
    assert_eq!(listed[0]["session_id"], parent.as_str());
    let with_subagent = sessions[0]["cost_usd"].as_f64().expect("cost_usd");
    let own = sessions[0]["own_cost_usd"].as_f64().expect("own_cost_usd");
    assert_eq!(Some(with_subagent), listed[0]["cost_usd"].as_f64());
    assert!(
        with_subagent > own * 5.0,
        "the subagent spent most of it: {with_subagent} against {own}"
    );
}

/// `list_sessions` listed the subagent below one that cannot be read (its events a FIFO) as a
/// session of its own, its root at $0.0045 where `cost` says $0.0090; it gives what `list` and
/// `cost` give. `get_session` gave every session `cost_usd` and `first_prompt` null (which
/// its doc said of an index that cannot be used); it gives what `list_sessions` gives. Its
/// cost left out the subagent that cannot be read without a word, where `list_sessions` warns:
/// its `warnings` name it and why.
#[test]
fn list_sessions_and_get_session_give_the_figures_list_and_cost_give() {
    use agent_strace::model::Tokens;

    use crate::common::SessionBuilder;

    let env = TestEnv::new();
    let ids = [
        "7b000000-0000-4000-8000-000000000001",
        "7b000000-0000-4000-8000-000000000002",
        "7b000000-0000-4000-8000-000000000003",
    ];
    for (i, id) in ids.iter().enumerate() {
        SessionBuilder::new(id)
            .meta(|m| m.parent_session_id = i.checked_sub(1).map(|p| ids[p].to_owned()))
            .prompt(&format!("work of session {i}"))
            .at(1.0)
            .llm_response(
                "claude-sonnet-4-5",
                Tokens {
                    input: 1_000,
                    output: 100,
                    ..Tokens::default()
                },
            )
            .ended(2.0)
            .write(&env);
    }
    let events = env.store().join(ids[1]).join("events.ndjson");
    std::fs::remove_file(&events).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&events)
        .status()
        .unwrap();
    assert!(made.success());
    let call = |n: u64, tool: &str, arguments: Value| {
        json!({"jsonrpc": "2.0", "id": n, "method": "tools/call",
               "params": {"name": tool, "arguments": arguments}})
        .to_string()
    };
    let input = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#.to_owned(),
        call(2, "list_sessions", json!({})),
        call(3, "get_session", json!({"session_id": ids[0], "limit": 1})),
    ]
    .join("\n");
    let (answers, _) = raw(&env, input.as_bytes());
    let close = |value: &Value, usd: f64| value.as_f64().is_some_and(|v| (v - usd).abs() < 1e-9);
    let listed = &answers[1]["result"]["structuredContent"];
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{listed}");
    assert_eq!(sessions[0]["session_id"], ids[0], "{listed}");
    assert!(close(&sessions[0]["cost_usd"], 0.0090), "{listed}");
    let warned = listed["warnings"].to_string();
    assert!(warned.contains(ids[1]), "{listed}");
    let cost = command_json(&env, &["cost", ids[0], "--format", "json"]);
    assert!(close(&cost["cost_usd"], 0.0090), "{cost}");
    let session = &answers[2]["result"]["structuredContent"]["session"];
    assert!(close(&session["cost_usd"], 0.0090), "{session}");
    assert!(close(&session["own_cost_usd"], 0.0045), "{session}");
    assert_eq!(session["first_prompt"], "work of session 0", "{session}");
    let warnings = &answers[2]["result"]["structuredContent"]["warnings"];
    let warnings = warnings
        .as_array()
        .unwrap_or_else(|| panic!("{}", answers[2]));
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let warning = warnings[0].as_str().unwrap();
    assert!(warning.contains(ids[1]), "{warning}");
    assert!(warning.contains("is a FIFO"), "{warning}");
    // The subagent below it is counted, and the session named is not said to leave itself out.
    let below = call(4, "get_session", json!({"session_id": ids[2], "limit": 1}));
    let (answers, _) = raw(
        &env,
        format!("{}\n{below}", input.lines().next().unwrap()).as_bytes(),
    );
    assert_eq!(
        answers[1]["result"]["structuredContent"]["warnings"],
        json!([]),
        "{}",
        answers[1]
    );
}

/// `list_sessions` gave a session of `aide-gpt-5` (no known price) a cost of 0 with nothing to
/// tell it from a session that cost nothing; `diff_sessions` likewise.
#[test]
fn the_tools_name_the_models_a_cost_counts_at_zero_for_want_of_a_price() {
    use crate::common::import_unpriced_and_priced;

    let env = TestEnv::new();
    let (unpriced, priced) = import_unpriced_and_priced(&env);
    let input = format!(
        "{}\n{}\n{}\n{}\n",
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_sessions"}}"#,
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "get_session",
               "arguments": {"session_id": unpriced, "limit": 1}}}),
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "diff_sessions",
               "arguments": {"session_a": unpriced, "session_b": priced, "mode": "semantic"}}}),
    );
    let (answers, _) = raw(&env, input.as_bytes());
    let sessions = answers[1]["result"]["structuredContent"]["sessions"]
        .as_array()
        .unwrap();
    let listed = |id: &str| sessions.iter().find(|s| s["session_id"] == id).unwrap();
    assert_eq!(
        listed(&unpriced)["cost_unpriced_models"],
        json!(["aide-gpt-5"])
    );
    assert_eq!(listed(&unpriced)["cost_usd"], 0.0);
    assert_eq!(listed(&priced)["cost_unpriced_models"], json!([]));
    // `get_session` gives the cost `list_sessions` gives, naming the model counted at $0.
    let session = &answers[2]["result"]["structuredContent"]["session"];
    assert_eq!(session["cost_usd"], 0.0, "{session}");
    assert_eq!(
        session["cost_unpriced_models"],
        json!(["aide-gpt-5"]),
        "{session}"
    );
    let diff = &answers[3]["result"]["structuredContent"];
    assert_eq!(
        diff["cost_unpriced_models_a"],
        json!(["aide-gpt-5"]),
        "{diff}"
    );
    assert_eq!(diff["cost_unpriced_models_b"], json!([]), "{diff}");
}

/// A store may hold a secret as it was (a session recorded with `--no-redact`, or before a
/// pattern was added), and every tool gave it to the model as it was: its answers leave the
/// machine with the model's context, so they are redacted as `share`'s page is, before any
/// string is cut (the key starts just before where a label, a prompt and a command are cut).
#[test]
fn no_tool_gives_the_model_a_secret_the_store_holds() {
    use crate::common::SessionBuilder;

    let env = TestEnv::new();
    let key = format!("sk-proj-{}", "Tq8Wz3Lx6Rv1Nm5K".repeat(3));
    let prompt = format!("{} {key} is the key", "p".repeat(44));
    let command = format!(
        "{} && curl -H 'Authorization: Bearer {key}' x",
        "true ".repeat(58)
    );
    let id = SessionBuilder::new("5ec2e700-0000-4000-8000-000000000001")
        .prompt(&prompt)
        .tool_call(
            "Bash",
            json!({"command": command, "password": "hunter2-Xy9"}),
        )
        .error(&format!("Exit code 1\ninvalid key {key}"))
        .tool_call(
            "Bash",
            json!({"command": format!("{} {key}", "p".repeat(196))}),
        )
        .result(json!({"stdout": format!("OPENAI_API_KEY={key}")}))
        .ended(30.0)
        .write(&env);
    let stored = std::fs::read_to_string(env.store().join(&id).join("events.ndjson")).unwrap();
    assert!(stored.contains(&key) && stored.contains("hunter2-Xy9"));
    let call = |n: u64, tool: &str, arguments: Value| {
        json!({"jsonrpc": "2.0", "id": n, "method": "tools/call",
               "params": {"name": tool, "arguments": arguments}})
        .to_string()
    };
    let input = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#.to_owned(),
        call(2, "list_sessions", json!({})),
        call(3, "get_session", json!({"session_id": id})),
        call(4, "search_events", json!({})),
        call(5, "get_session_summary", json!({"session_id": id})),
        call(6, "diff_sessions", json!({"session_a": id, "session_b": id})),
    ]
    .join("\n");
    let (answers, _) = raw(&env, input.as_bytes());
    assert_eq!(answers.len(), 6);
    for answer in &answers[1..] {
        assert_eq!(answer["result"]["isError"], false, "{answer}");
        let line = answer.to_string();
        for part in [&key[..12], "Tq8Wz3Lx", "hunter2"] {
            assert!(!line.contains(part), "{part} in {line}");
        }
    }
    let events = &answers[2]["result"]["structuredContent"]["events"];
    assert_eq!(events[1]["data"]["arguments"]["password"], "[REDACTED]");
    assert!(
        answers[3]["result"]["structuredContent"]["matches"][0]["error"]
            .as_str()
            .unwrap()
            .contains("invalid key [REDACTED]")
    );
}

/// `get_session` with a misspelt event type (`tool_calls`) answered a page of no events, as if
/// the session had made no call; the name is refused, with the types there are.
#[test]
fn get_session_refuses_an_event_type_there_is_not() {
    use crate::common::SessionBuilder;

    let env = TestEnv::new();
    let id = SessionBuilder::new("e7e00000-0000-4000-8000-000000000001")
        .prompt("run the tests")
        .tool_call("Bash", json!({"command": "cargo test"}))
        .result(json!({"stdout": "ok"}))
        .ended(10.0)
        .write(&env);
    let call = |n: u64, types: Value| {
        json!({"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {"name": "get_session",
               "arguments": {"session_id": id, "event_types": types}}})
        .to_string()
    };
    let input = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#.to_owned(),
        call(2, json!(["tool_calls"])),
        call(3, json!(["tool_call"])),
        // An empty list answered no events either: it is no filter.
        call(4, json!([])),
    ]
    .join("\n");
    let (answers, _) = raw(&env, input.as_bytes());
    let every = &answers[3]["result"]["structuredContent"];
    assert_eq!(every["matched"], 3, "{every}");
    let refused = &answers[1]["result"];
    assert_eq!(refused["isError"], true, "{refused}");
    let text = refused["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("`tool_calls`, which is no event type") && text.contains("tool_call,"),
        "{text}"
    );
    assert_eq!(answers[2]["result"]["structuredContent"]["matched"], 1);
}

/// A session id of 100,000 characters was quoted whole in the tool error that said no session
/// matches it; an id longer than any session's is refused, quoted in part.
#[test]
fn a_session_id_longer_than_any_is_refused_without_being_quoted_whole() {
    let env = TestEnv::new();
    fixture(&env);
    let long = "a".repeat(100_000);
    let input = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#.to_owned(),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "get_session",
               "arguments": {"session_id": long}}})
        .to_string(),
    ]
    .join("\n");
    let (answers, _) = raw(&env, input.as_bytes());
    let result = &answers[1]["result"];
    assert_eq!(result["isError"], true, "{result}");
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(
        text.len() < 300,
        "{} characters: {}",
        text.len(),
        &text[..300]
    );
    assert!(text.contains("no session id is longer than 200"), "{text}");
}

/// `search_events` with a session named and `since` searched the session whatever its start,
/// where the tool says only sessions started since then are searched: both filters hold.
#[test]
fn search_events_with_a_session_named_keeps_to_since() {
    use crate::common::SessionBuilder;

    let env = TestEnv::new();
    let id = SessionBuilder::new("e7e00000-0000-4000-8000-000000000002")
        .meta(|m| m.started_at = 1_600_000_000.0)
        .prompt("run the tests")
        .tool_call("Bash", json!({"command": "cargo test"}))
        .result(json!({"stdout": "ok"}))
        .ended(10.0)
        .write(&env);
    let call = |n: u64, since: Option<&str>| {
        let mut arguments = json!({"session_id": id, "tool": "Bash"});
        if let Some(since) = since {
            arguments["since"] = since.into();
        }
        json!({"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {"name": "search_events",
               "arguments": arguments}})
        .to_string()
    };
    let input = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#.to_owned(),
        call(2, None),
        call(3, Some("7d")),
    ]
    .join("\n");
    let (answers, _) = raw(&env, input.as_bytes());
    let all = &answers[1]["result"]["structuredContent"];
    let recent = &answers[2]["result"]["structuredContent"];
    assert_eq!(all["matches"].as_array().map(Vec::len), Some(1), "{all}");
    assert_eq!(
        recent["matches"].as_array().map(Vec::len),
        Some(0),
        "{recent}"
    );
}

/// A session the hooks recorded is priced from its Claude Code transcript; the model names
/// read from it reached the model through `get_session_summary` and `list_sessions` as they
/// were (a token in a proxy's model name), though the events were redacted. They are redacted
/// too.
#[test]
fn a_model_name_read_from_a_transcript_reaches_no_tool_unredacted() {
    let env = TestEnv::new();
    let token = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
    let transcript = env.path().join("transcript.jsonl");
    let text = std::fs::read_to_string(
        crate::common::shared().join("corpus/claude-code/marot__spotter/short.jsonl"),
    )
    .unwrap()
    .replace(
        "\"model\":\"claude-opus-4-6\"",
        &format!("\"model\":\"proxy-{token}\""),
    );
    std::fs::write(&transcript, text).unwrap();
    let id = "c7428042-d9a9-4e9e-a71c-4433a8d202c0";
    env.hook_session_with_transcript(id, &transcript);
    let input = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#.to_owned(),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
               "params": {"name": "get_session_summary", "arguments": {"session_id": id}}})
        .to_string(),
    ]
    .join("\n");
    let (answers, _) = raw(&env, input.as_bytes());
    let summary = answers[1]["result"].to_string();
    assert!(summary.contains("proxy-[REDACTED]"), "{summary}");
    assert!(!summary.contains(token), "{summary}");
}

/// `get_session_summary` gave a long session's summary whole: 55 KB of text and as much again
/// as structured content for the corpus's longest session, each command whole (a heredoc of
/// megabytes went to the model as it was). Each list keeps `max_items` entries, saying how
/// many it left out, and each string `max_chars` characters.
#[test]
fn a_long_sessions_summary_is_bounded_and_says_what_it_left_out() {
    let env = TestEnv::new();
    let transcript = crate::common::shared()
        .join("corpus/claude-code/marot__spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl");
    env.run(&["import", transcript.to_str().unwrap()]).success();
    let id = "ae4a77f8-aedd-4bc1-888f-c94edc91af04";
    let call = |n: u64, tool: &str, arguments: Value| {
        json!({"jsonrpc": "2.0", "id": n, "method": "tools/call",
               "params": {"name": tool, "arguments": arguments}})
        .to_string()
    };
    let input = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#.to_owned(),
        call(2, "get_session_summary", json!({"session_id": id})),
        call(3, "get_session_summary", json!({"session_id": id, "max_items": 100_000, "max_chars": 100_000})),
        call(4, "diff_sessions", json!({"session_a": id, "session_b": id, "max_items": 3})),
        call(5, "get_session_summary", json!({"session_id": id, "max_items": 0})),
    ]
    .join("\n");
    let (answers, _) = raw(&env, input.as_bytes());
    let whole = command_json(&env, &["explain", id, "--format", "json"]);
    let summary = &answers[1]["result"]["structuredContent"];
    let text = answers[1]["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.len() <= 40_000, "{} bytes", text.len());
    assert!(whole.to_string().len() > 50_000);
    assert!(summary["strings_cut"].as_u64().unwrap() > 0, "{summary}");
    // Every list at most 20 entries, and what each left out counted beside it.
    let files = whole["files"].as_array().unwrap().len();
    assert!(files > 20, "{files}");
    let kept = summary["files"].as_array().unwrap().len();
    assert!(kept <= 20, "{kept}");
    assert_eq!(summary["files_omitted"], files - kept);
    let ran = |v: &Value| v["phases"][1]["ran"].as_array().unwrap().len();
    assert_eq!(
        summary["phases"][1]["ran_omitted"],
        ran(&whole) - ran(summary)
    );
    let omitted = summary["items_omitted"].as_u64().unwrap();
    assert!(omitted >= (files - kept + 15) as u64, "{omitted}");
    let longest = summary.to_string();
    assert!(longest.contains("more characters]"), "{longest}");
    // Raised to their most, the summary is explain's whole.
    let mut raised = answers[2]["result"]["structuredContent"].clone();
    assert_eq!(raised["items_omitted"], 0);
    assert_eq!(raised["strings_cut"], 0);
    let map = raised.as_object_mut().unwrap();
    map.remove("items_omitted");
    map.remove("strings_cut");
    assert_eq!(raised, whole);
    assert!(
        answers[3]["result"]["structuredContent"]["items_omitted"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(answers[4]["result"]["isError"], true, "{}", answers[4]);
}

/// MCP's schema lets a request's id be any number: one with a fraction or an exponent was
/// answered "must be a string or an integer", with no id, so the client's call never ended.
#[test]
fn a_request_id_of_any_number_is_answered_with_that_id() {
    let env = TestEnv::new();
    fixture(&env);
    let input = concat!(
        "{\"jsonrpc\":\"2.0\",\"id\":1.0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"0\"}}}\n",
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":2.5,\"method\":\"ping\"}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":-7,\"method\":\"tools/list\"}\n",
    );
    let (answers, _) = raw(&env, input.as_bytes());
    assert_eq!(answers.len(), 3, "{answers:?}");
    assert_eq!(answers[0]["id"], json!(1.0));
    assert!(
        answers[0]["result"]["protocolVersion"].is_string(),
        "{}",
        answers[0]
    );
    assert_eq!(
        answers[1],
        json!({"jsonrpc": "2.0", "id": 2.5, "result": {}})
    );
    assert_eq!(answers[2]["id"], json!(-7));
    assert!(answers[2]["result"]["tools"].is_array(), "{}", answers[2]);
}

/// `max_chars` bounded each string of an event and nothing the page: an event holding two
/// million short file names came back as 128 MB for `limit 1, max_chars 1`, each name longer
/// than it was (`f1234.rs` as `f… [7 more characters]`).
#[test]
fn a_page_of_events_is_bounded_and_no_string_comes_back_longer() {
    use crate::common::SessionBuilder;

    let env = TestEnv::new();
    let names: Vec<String> = (0..300_000).map(|n| format!("f{n}.rs")).collect();
    let mut session = SessionBuilder::new("many-names")
        .tool_call("Glob", json!({"pattern": "**/*.rs"}))
        .result(json!(names));
    for n in 0..40 {
        session = session
            .tool_call("Read", json!({"file_path": format!("/p/{n}.rs")}))
            .result(json!("x".repeat(90_000)));
    }
    session.write(&env);
    let call = |id: u32, arguments: Value| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "get_session", "arguments": arguments}})
        .to_string()
    };
    let input = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25"}})
        .to_string(),
        call(
            2,
            json!({"session_id": "many-names", "event_types": ["tool_result"], "limit": 500, "max_chars": 1}),
        ),
        call(
            3,
            json!({"session_id": "many-names", "offset": 3, "limit": 500, "max_chars": 100_000}),
        ),
    ]
    .join("\n");
    let (answers, _) = raw(&env, input.as_bytes());
    // The bound the tool's description gives.
    let bound = 1_000_000;
    for answer in &answers[1..] {
        let page = &answer["result"]["structuredContent"];
        assert!(page["events"].is_array(), "{answer}");
        assert!(
            page.to_string().len() <= bound,
            "a page of {} bytes",
            page.to_string().len()
        );
    }
    // The event of names alone passes the bound: it is the whole page, its list cut and
    // counted, each name kept as it was.
    let first = &answers[1]["result"]["structuredContent"];
    let events = first["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{first}");
    let kept: Vec<&str> = events[0]["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        !kept.is_empty() && kept.len() < names.len(),
        "{}",
        kept.len()
    );
    assert_eq!(kept, names[..kept.len()]);
    assert_eq!(
        first["items_omitted"].as_u64().unwrap(),
        (names.len() - kept.len()) as u64
    );
    assert!(first["next_offset"].as_u64().is_some(), "{first}");
    // Events of 90,000 characters: fewer than the limit, and next_offset goes on from there.
    let second = &answers[2]["result"]["structuredContent"];
    let n = second["events"].as_array().unwrap().len();
    assert!(n > 1 && n < 40, "{n} events");
    assert_eq!(second["next_offset"], json!(3 + n));
    assert_eq!(second["items_omitted"], 0);
}

/// JSON-RPC wants a request's id back unchanged: a number beyond what an f64 holds came back
/// as another number (`18446744073709551616` as `1.8446744073709552e19`), and `1e400` was
/// answered as a line that is not JSON, with no id, so the client's call never ended.
#[test]
fn a_request_id_comes_back_as_the_text_the_client_sent() {
    let env = TestEnv::new();
    let ids = [
        "18446744073709551616",
        "123456789012345678901234567890",
        "-98765432109876543210",
        "1e400",
        "1e3",
        "0.1000000000000000000001",
        "\"x\\u0041\"",
    ];
    let input = ids
        .map(|id| format!("{{\"jsonrpc\":\"2.0\",\"id\": {id} ,\"method\":\"ping\"}}"))
        .join("\n");
    let store = env.store();
    let run = env.run_with_stdin(
        &["--trace-dir", store.to_str().unwrap(), "mcp"],
        input.as_bytes(),
    );
    run.success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), ids.len(), "{}", run.stdout);
    for (id, line) in ids.iter().zip(lines) {
        assert_eq!(
            line,
            format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{{}}}}"),
            "the id {id} came back changed"
        );
    }
}

#[test]
fn list_sessions_lists_the_sessions_list_does_orphans_and_loops_included() {
    use crate::common::SessionBuilder;

    let env = TestEnv::new();
    // A session with its subagent, a subagent whose parent is not in the store, and two
    // sessions each the other's parent: `list` shows four sessions.
    for (id, parent) in [
        ("top", None),
        ("sub", Some("top")),
        ("orphan", Some("gone")),
        ("loop-a", Some("loop-b")),
        ("loop-b", Some("loop-a")),
    ] {
        SessionBuilder::new(id)
            .meta(|m| m.parent_session_id = parent.map(str::to_owned))
            .prompt(&format!("work of {id}"))
            .write(&env);
    }
    let input = concat!(
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\"}}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"list_sessions\"}}\n",
    );
    let (answers, _) = raw(&env, input.as_bytes());
    let ids = |listed: &Value| {
        let mut ids: Vec<String> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["session_id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let listed = command_json(&env, &["list", "--format", "json"]);
    assert_eq!(ids(&listed), ["loop-a", "loop-b", "orphan", "top"]);
    // The tool listed `top` alone: the others have a parent, if none in the store.
    let sessions = &answers[1]["result"]["structuredContent"]["sessions"];
    assert_eq!(ids(sessions), ids(&listed), "{sessions}");
}

/// The tools' `since` named dates, RFC 3339 times and ages such as `7d`, not "7 days ago",
/// which it takes as every `--since` does: each names the forms in the words `--since`'s help
/// uses, and takes the one it did not name.
#[test]
fn since_names_the_forms_of_time_every_since_takes() {
    let env = TestEnv::new();
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let help = env.run(&["list", "--help"]);
    help.success();
    let help = words(&help.stdout);
    let input = concat!(
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\"}}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"list_sessions\",\"arguments\":{\"since\":\"7 days ago\"}}}\n",
    );
    let (answers, _) = raw(&env, input.as_bytes());
    let mut named = 0;
    for tool in answers[1]["result"]["tools"].as_array().unwrap() {
        let Some(since) = tool["inputSchema"]["properties"]["since"]["description"].as_str() else {
            continue;
        };
        named += 1;
        let (_, forms) = since.split_once(": ").unwrap();
        assert!(
            forms.contains("\"7 days ago\""),
            "{}: {since}",
            tool["name"]
        );
        assert!(
            help.contains(&words(forms)),
            "{}: {since}\n{help}",
            tool["name"]
        );
    }
    assert!(named >= 2, "{}", answers[1]);
    assert_eq!(answers[2]["result"]["isError"], false, "{}", answers[2]);
}

/// A session's paths and tool names can be megabytes: a search gives a bounded part of each
/// (500 Reads of a 250 KB path came back as one 256 MB line), though matched whole; a glob of
/// many sets reads each set alone (`*[!.][!.]…` against a 20,000-character name held the
/// server a minute), and one longer than any path is refused.
#[test]
fn a_search_is_bounded_whatever_the_paths_and_patterns_it_meets() {
    let env = TestEnv::new();
    let long_path = format!("/x/{}.b", "a".repeat(100_000));
    let long_tool = "T".repeat(10_000);
    let mut session = crate::common::SessionBuilder::new("long-paths");
    for n in 0..40 {
        session = session
            .tool_call("Read", json!({"file_path": long_path}))
            .at(f64::from(n))
            .result(json!("ok"));
    }
    session
        .tool_call(&long_tool, json!({"file_path": "a"}))
        .at(50.0)
        .result(json!("ok"))
        .write(&env);
    crate::common::SessionBuilder::new("long-name")
        .tool_call(
            "Read",
            json!({"file_path": format!("/x/{}.b", "a".repeat(20_000))}),
        )
        .at(60.0)
        .result(json!("ok"))
        .write(&env);
    let call = |id: u32, arguments: Value| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "search_events", "arguments": arguments}})
        .to_string()
    };
    let sets = format!("*{}", "[!.]".repeat(1000));
    let input = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25"}})
        .to_string(),
        call(
            2,
            json!({"tool": "Read", "limit": 500, "session_id": "long-paths"}),
        ),
        call(3, json!({"session_id": "long-paths"})),
        call(4, json!({"file_path": sets, "session_id": "long-name"})),
        call(5, json!({"file_path": format!("*{}", "[!.]".repeat(1100))})),
    ]
    .join("\n");
    let started = std::time::Instant::now();
    let (answers, _) = raw(&env, input.as_bytes());
    // It took a minute and more. Unloaded, a debug build answers in a few seconds; ten were
    // met exactly on a machine at load 10, so thirty leave room for one and still tell the
    // minute apart.
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let reads = answers[1]["result"]["structuredContent"]["matches"]
        .as_array()
        .unwrap();
    assert_eq!(reads.len(), 40);
    for read in reads {
        let path = read["file_path"].as_str().unwrap();
        assert!(path.starts_with("/x/aaa"), "{path}");
        assert!(
            path.ends_with("… [99005 more characters]"),
            "{}",
            &path[path.len() - 40..]
        );
    }
    let tool = answers[2]["result"]["structuredContent"]["matches"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["tool"]
        .as_str()
        .unwrap();
    assert_eq!(tool, format!("{}… [9800 more characters]", "T".repeat(200)));
    // Matched, in time: every set is one character that is no dot, and the name ends `.b` (its
    // cut form, which ends in no dot, is not what is matched).
    assert_eq!(
        answers[3]["result"]["structuredContent"]["matches"],
        json!([]),
        "{}",
        answers[3]
    );
    assert_eq!(
        answers[4]["result"]["isError"],
        json!(true),
        "{}",
        answers[4]
    );
    assert!(
        answers[4]["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("`file_path` is longer than 4096 characters"),
        "{}",
        answers[4]
    );
}

/// A `since` of 3 MB was quoted whole in the tool error of `search_events` and `list_sessions`
/// (a 3 MB answer), where every other argument is cut; so was the command line's `--since` in
/// its usage error. Each quotes the start of it, and says how much more there was.
#[test]
fn a_since_of_megabytes_is_quoted_in_part() {
    let env = TestEnv::new();
    fixture(&env);
    let long = "y".repeat(3_000_000);
    let call = |n: u64, tool: &str| {
        json!({"jsonrpc": "2.0", "id": n, "method": "tools/call",
               "params": {"name": tool, "arguments": {"since": long}}})
        .to_string()
    };
    let input = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#.to_owned(),
        call(2, "search_events"),
        call(3, "list_sessions"),
    ]
    .join("\n");
    let (answers, _) = raw(&env, input.as_bytes());
    for answer in &answers[1..] {
        let result = &answer["result"];
        assert_eq!(result["isError"], true, "{}", &result.to_string()[..300]);
        let text = result["content"][0]["text"].as_str().unwrap();
        assert!(text.len() < 1_000, "{} bytes", text.len());
        assert!(
            text.contains("yyy") && text.contains("more characters]"),
            "{text}"
        );
    }
    let run = env.run(&["list", "--since", &"y".repeat(100_000)]);
    assert_eq!(run.code, 2, "{}", &run.stderr[..run.stderr.len().min(300)]);
    assert!(run.stderr.len() < 1_000, "{} bytes", run.stderr.len());
    assert!(run.stderr.contains("more characters]"), "{}", run.stderr);
}

/// A session dated next year (a clock that was ahead, a log imported from a machine ahead) was
/// listed and searched by the tools given `since: 7d`, "the last 7 days". A `since` is a period
/// that ends now: it is left out, and each tool's warnings say so as `list` does.
#[test]
fn since_leaves_out_a_session_dated_after_now() {
    use crate::common::{LEFT_OUT_AS_AHEAD, a_session_now_and_one_next_year};

    let env = TestEnv::new();
    let (now, _) = a_session_now_and_one_next_year(&env);
    let call = |n: u64, name: &str, arguments: Value| {
        json!({"jsonrpc": "2.0", "id": n, "method": "tools/call",
               "params": {"name": name, "arguments": arguments}})
        .to_string()
    };
    let input = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#.to_owned(),
        call(2, "list_sessions", json!({"since": "7d"})),
        call(3, "search_events", json!({"since": "7d", "tool": "Bash"})),
        call(4, "list_sessions", json!({})),
    ]
    .join("\n");
    let (answers, _) = raw(&env, input.as_bytes());
    let said = |result: &Value| {
        result["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains(LEFT_OUT_AS_AHEAD))
    };
    let listed = &answers[1]["result"]["structuredContent"];
    let ids: Vec<&str> = listed["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [now.as_str()], "{listed}");
    assert!(said(listed), "{listed}");
    let found = &answers[2]["result"]["structuredContent"];
    assert_eq!(found["sessions_searched"], 1, "{found}");
    let matched: Vec<&str> = found["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(matched, [now.as_str()], "{found}");
    assert!(said(found), "{found}");
    // With no `since`, both are listed, and nothing is said.
    let all = &answers[3]["result"]["structuredContent"];
    assert_eq!(all["sessions"].as_array().unwrap().len(), 2, "{all}");
    assert!(!said(all), "{all}");
}

/// A request whose params nest past serde_json's 128 levels (a client's `_meta`, 300 deep) was
/// answered with a parse error, though it is JSON every client reads; it is answered as the
/// same request is without them.
#[test]
fn a_request_nested_hundreds_deep_is_answered_as_a_shallow_one_is() {
    let env = TestEnv::new();
    fixture(&env);
    let list = |id: &str, meta: Value| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": "list_sessions", "arguments": {}, "_meta": meta}})
    };
    let mut input = String::new();
    for message in [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": "deep-ping", "method": "ping", "params": {"_meta": {"deep": nested(300)}}}),
        list("shallow", json!({"deep": nested(1)})),
        list("deep", json!({"deep": nested(300)})),
    ] {
        input.push_str(&message.to_string());
        input.push('\n');
    }
    let (answers, stderr) = raw(&env, input.as_bytes());
    let answer = |id: &str| {
        answers
            .iter()
            .find(|a| a["id"] == id)
            .unwrap_or_else(|| panic!("no answer to {id}: {answers:?} {stderr}"))
            .clone()
    };
    assert_eq!(
        answer("deep-ping"),
        json!({"jsonrpc": "2.0", "id": "deep-ping", "result": {}})
    );
    let (shallow, deep) = (answer("shallow"), answer("deep"));
    assert!(shallow["result"].is_object(), "{shallow}");
    assert_eq!(deep["result"], shallow["result"]);
}
