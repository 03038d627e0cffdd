//! Planted secrets: with redaction on, none of the corpus in `tests/fixtures/secrets` reaches
//! any file of the store, whichever way it comes in (hooks, `import`, `record`, `record-http`);
//! ordinary content comes through unchanged; and no event is bigger than the cap, however many
//! fields it has.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Map, Value, json};

use crate::common::net::Background;
use crate::common::{TestEnv, run_with_stdin};

const SID: &str = "5e1f0c2a-8b3d-4c6e-9f7a-1b2c3d4e5f60";

/// Written into every secret of the corpus near its start so that secret scanners leave the
/// fixture alone; taken out on reading.
const MARK: &str = "\u{ab}\u{bb}";

/// One planted secret (or a few that belong together) and the text or JSON value holding it.
struct Plant {
    kind: String,
    secrets: Vec<String>,
    /// A string for text plants, any JSON value for structured ones.
    value: Value,
}

impl Plant {
    /// As a tool would print it: the text itself, or the value as indented JSON.
    fn printed(&self) -> String {
        match &self.value {
            Value::String(s) => s.clone(),
            v => serde_json::to_string_pretty(v).unwrap(),
        }
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/secrets")
}

fn plants() -> Vec<Plant> {
    let text = std::fs::read_to_string(fixtures().join("plants.json"))
        .unwrap()
        .replace(MARK, "");
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["plants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Plant {
            kind: p["kind"].as_str().unwrap().to_owned(),
            secrets: p["secrets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect(),
            value: p.get("text").or_else(|| p.get("json")).unwrap().clone(),
        })
        .collect()
}

/// Every plant as printed, one after another, as one tool output would show them.
fn all_printed(plants: &[Plant]) -> String {
    plants
        .iter()
        .map(Plant::printed)
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Every plant as a field of one object (`p0`, `p1` …), text plants as strings.
fn all_as_object(plants: &[Plant]) -> Value {
    let map: Map<String, Value> = plants
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("p{i}"), p.value.clone()))
        .collect();
    Value::Object(map)
}

/// Every file under the store, whatever its kind (events, meta, index, logs, leftovers).
fn store_files(env: &TestEnv) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![env.store()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                files.push((path, bytes));
            }
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The secrets of `extra` and of every plant found on disk, as `kind: where`; a secret counts
/// as written as it is and as JSON text escapes it.
fn leaks(env: &TestEnv, plants: &[Plant], extra: &[(&str, &str)]) -> Vec<String> {
    let files = store_files(env);
    assert!(
        files.iter().any(|(p, _)| p.ends_with("events.ndjson")),
        "nothing was recorded: {:?}",
        files.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    let mut needles: Vec<(String, String)> = plants
        .iter()
        .flat_map(|p| p.secrets.iter().map(|s| (p.kind.clone(), s.clone())))
        .collect();
    needles.extend(
        extra
            .iter()
            .map(|(k, s)| ((*k).to_owned(), (*s).to_owned())),
    );
    let mut found = Vec::new();
    for (kind, secret) in &needles {
        let escaped = serde_json::to_string(secret).unwrap();
        let escaped = &escaped[1..escaped.len() - 1];
        let place = files.iter().find(|(_, bytes)| {
            contains(bytes, secret.as_bytes()) || contains(bytes, escaped.as_bytes())
        });
        if let Some((path, _)) = place {
            let label = format!(
                "{kind}: {}",
                path.strip_prefix(env.store()).unwrap().display()
            );
            if !found
                .iter()
                .any(|f: &String| f.starts_with(&format!("{kind}:")))
            {
                found.push(label);
            }
        }
    }
    found
}

#[track_caller]
fn assert_no_leaks(path: &str, env: &TestEnv, plants: &[Plant], extra: &[(&str, &str)]) {
    let found = leaks(env, plants, extra);
    let planted = plants.len() + extra.len();
    eprintln!(
        "{path}: {} of {planted} planted secrets on disk",
        found.len()
    );
    assert!(
        found.is_empty(),
        "{path}: {} of {planted} planted secrets reached disk:\n  {}",
        found.len(),
        found.join("\n  ")
    );
}

// ------------------------------------------------------------------------------------------
// Hooks
// ------------------------------------------------------------------------------------------

/// Plays a whole session through `hook <flags> <event>`, every plant in every place a Claude
/// Code payload carries text or structure.
fn play_hooks(env: &TestEnv, plants: &[Plant], flags: &[&str]) {
    let printed = all_printed(plants);
    let object = all_as_object(plants);
    // A structured response over the per-field cap, the plants first.
    let big = json!({"plants": object, "content": printed, "padding": ".".repeat(300 * 1024)});
    // The Stop hook without the answer in its payload reads it from the transcript.
    let transcript = env.path().join("transcript.jsonl");
    let line = json!({"type": "assistant", "sessionId": SID,
        "message": {"role": "assistant", "content": [{"type": "text", "text": printed}]}});
    std::fs::write(&transcript, format!("{line}\n")).unwrap();
    let transcript = transcript.to_string_lossy().into_owned();
    let steps: Vec<(&str, Value)> = vec![
        (
            "session-start",
            json!({"hook_event_name": "SessionStart", "source": "startup", "model": "claude-sonnet-4-5"}),
        ),
        (
            "user-prompt",
            json!({"hook_event_name": "UserPromptSubmit", "prompt": printed}),
        ),
        (
            "pre-tool",
            json!({"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_use_id": "toolu_1",
                   "tool_input": {"command": printed, "description": "print the settings"}}),
        ),
        (
            "post-tool",
            json!({"hook_event_name": "PostToolUse", "tool_name": "Bash", "tool_use_id": "toolu_1",
                   "tool_input": {"command": printed},
                   "tool_response": {"stdout": printed, "stderr": "", "interrupted": false, "isImage": false}}),
        ),
        (
            "pre-tool",
            json!({"hook_event_name": "PreToolUse", "tool_name": "mcp__vault__get", "tool_use_id": "toolu_2",
                   "tool_input": object}),
        ),
        (
            "post-tool",
            json!({"hook_event_name": "PostToolUse", "tool_name": "mcp__vault__get", "tool_use_id": "toolu_2",
                   "tool_input": object, "tool_response": object}),
        ),
        (
            "post-tool",
            json!({"hook_event_name": "PostToolUse", "tool_name": "WebFetch", "tool_use_id": "toolu_3",
                   "tool_input": {"url": "https://example.com"}, "tool_response": printed}),
        ),
        (
            "post-tool",
            json!({"hook_event_name": "PostToolUse", "tool_name": "Read", "tool_use_id": "toolu_4",
                   "tool_input": {"file_path": "/srv/app/.env"}, "tool_response": big}),
        ),
        (
            "post-tool-failure",
            json!({"hook_event_name": "PostToolUseFailure", "tool_name": "Bash", "tool_use_id": "toolu_5",
                   "tool_input": {"command": "deploy"}, "error": printed}),
        ),
        (
            "post-tool-failure",
            json!({"hook_event_name": "PostToolUseFailure", "tool_name": "Bash", "tool_use_id": "toolu_6",
                   "tool_input": {"command": "deploy"}, "error": object}),
        ),
        (
            "notification",
            json!({"hook_event_name": "Notification", "message": printed, "title": "Settings",
                   "notification_type": "idle_prompt", "details": object}),
        ),
        (
            "pre-compact",
            json!({"hook_event_name": "PreCompact", "trigger": "manual", "custom_instructions": printed}),
        ),
        (
            "pre-tool",
            json!({"hook_event_name": "PreToolUse", "tool_name": "Task", "tool_use_id": "toolu_7",
                   "tool_input": {"prompt": printed, "subagent_type": "general-purpose"}}),
        ),
        (
            "post-tool",
            json!({"hook_event_name": "PostToolUse", "tool_name": "Task", "tool_use_id": "toolu_7",
                   "tool_input": {"prompt": printed, "subagent_type": "general-purpose"},
                   "tool_response": {"content": [{"type": "text", "text": printed}], "totalTokens": 10}}),
        ),
        (
            "subagent-start",
            json!({"hook_event_name": "SubagentStart", "agent_id": "a1", "agent_type": "Explore"}),
        ),
        (
            "subagent-stop",
            json!({"hook_event_name": "SubagentStop", "agent_id": "a1", "agent_type": "Explore",
                   "last_assistant_message": printed}),
        ),
        (
            "stop",
            json!({"hook_event_name": "Stop", "stop_hook_active": false, "last_assistant_message": printed}),
        ),
        (
            "stop",
            json!({"hook_event_name": "Stop", "stop_hook_active": false}),
        ),
        (
            "session-end",
            json!({"hook_event_name": "SessionEnd", "reason": "other"}),
        ),
    ];
    for (event, mut payload) in steps {
        let map = payload.as_object_mut().unwrap();
        map.insert("session_id".into(), SID.into());
        map.insert("transcript_path".into(), transcript.clone().into());
        map.insert(
            "cwd".into(),
            env.path().to_string_lossy().into_owned().into(),
        );
        map.insert("permission_mode".into(), "default".into());
        let mut args = vec!["hook"];
        args.extend_from_slice(flags);
        args.push(event);
        let run = env.run_with_stdin(&args, payload.to_string().as_bytes());
        assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{event}: {run:?}");
    }
}

#[test]
fn no_planted_secret_reaches_disk_through_hooks() {
    let env = TestEnv::new();
    let plants = plants();
    play_hooks(&env, &plants, &["--redact"]);
    // Everything arrived: the session and the subagents' sessions.
    assert!(env.sessions().len() >= 3, "{:?}", env.sessions());
    assert_no_leaks("hooks", &env, &plants, &[]);
}

// ------------------------------------------------------------------------------------------
// Import
// ------------------------------------------------------------------------------------------

/// A Claude Code transcript with every plant in every place a transcript carries content, and a
/// secret in the branch the session ran on; returns its path.
fn planted_transcript(env: &TestEnv, plants: &[Plant], branch_secret: &str) -> PathBuf {
    let printed = all_printed(plants);
    let object = all_as_object(plants);
    let at = |s: u32| format!("2025-05-01T10:00:{s:02}.000Z");
    let common = |s: u32| {
        json!({"sessionId": SID, "cwd": "/home/dev/acme", "gitBranch": format!("fix/{branch_secret}"),
               "version": "2.0.14", "timestamp": at(s), "userType": "external", "isSidechain": false})
    };
    let with = |s: u32, extra: Value| {
        let mut line = common(s);
        for (k, v) in extra.as_object().unwrap() {
            line[k] = v.clone();
        }
        line.to_string()
    };
    let usage = json!({"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 0,
                       "cache_creation_input_tokens": 0});
    let big_input = json!({"file_path": "/srv/app/.env", "plants": object,
                           "content": format!("{printed}\n{}", ".".repeat(300 * 1024))});
    let lines = [
        with(
            0,
            json!({"type": "user", "uuid": "u1", "message": {"role": "user", "content": printed}}),
        ),
        with(
            1,
            json!({"type": "assistant", "uuid": "a1", "requestId": "req_1",
                "message": {"id": "msg_1", "model": "claude-sonnet-4-5", "role": "assistant", "usage": usage,
                    "content": [
                        {"type": "thinking", "thinking": printed},
                        {"type": "text", "text": printed},
                        {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": printed}},
                        {"type": "tool_use", "id": "toolu_2", "name": "mcp__vault__get", "input": object},
                        {"type": "tool_use", "id": "toolu_3", "name": "Write", "input": big_input},
                        {"type": "tool_use", "id": "toolu_4", "name": "Bash", "input": {"command": "deploy"}},
                        {"type": "tool_use", "id": "toolu_5", "name": "mcp__vault__list", "input": {}}]}}),
        ),
        with(
            2,
            json!({"type": "user", "uuid": "u2", "toolUseResult": {"stdout": printed, "plants": object},
                "message": {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": printed},
                    {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": printed}]},
                    {"type": "tool_result", "tool_use_id": "toolu_3", "content": "written"},
                    {"type": "tool_result", "tool_use_id": "toolu_4", "content": printed, "is_error": true},
                    {"type": "tool_result", "tool_use_id": "toolu_5", "content": object}]}}),
        ),
        with(
            3,
            json!({"type": "assistant", "uuid": "a2", "isSidechain": true, "agentId": "b7e1",
                "message": {"id": "msg_2", "model": "claude-sonnet-4-5", "role": "assistant", "usage": usage,
                    "content": [{"type": "text", "text": printed}]}}),
        ),
        with(
            4,
            json!({"type": "system", "uuid": "s1", "content": printed, "level": "info"}),
        ),
        with(
            5,
            json!({"type": "assistant", "uuid": "a3", "requestId": "req_3",
                "message": {"id": "msg_3", "model": "claude-sonnet-4-5", "role": "assistant", "usage": usage,
                    "content": [{"type": "text", "text": printed}]}}),
        ),
    ];
    let dir = env.path().join("projects").join("-home-dev-acme");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{SID}.jsonl"));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

#[test]
fn no_planted_secret_reaches_disk_through_import() {
    let env = TestEnv::new();
    let plants = plants();
    let branch_secret = format!("ghp_{}", "Rk3vQ9mZ2xW8tY5u".repeat(2) + "b7N1");
    let transcript = planted_transcript(&env, &plants, &branch_secret);
    let run = env.run(&["import", "--redact", transcript.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(env.sessions().len() >= 2, "{:?}", env.sessions());
    assert_no_leaks(
        "import",
        &env,
        &plants,
        &[("a token in the git branch", &branch_secret)],
    );
}

// ------------------------------------------------------------------------------------------
// The MCP proxies
// ------------------------------------------------------------------------------------------

/// What an MCP client asks the planted server: every plant in every kind of answer, and in its
/// own arguments.
fn client_messages(plants: &[Plant], with_notifications: bool) -> Vec<Value> {
    let mut out = vec![json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "secrets-test", "version": "1"}}})];
    if with_notifications {
        out.push(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    }
    let mut id = 1;
    for (i, plant) in plants.iter().enumerate() {
        for tool in [
            "text", "json", "raw", "is_error", "fail", "notify", "broken",
        ] {
            out.push(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                "params": {"name": tool, "arguments": {"i": i, "note": plant.value}}}));
            id += 1;
        }
    }
    out.push(
        json!({"jsonrpc": "2.0", "id": id, "method": "resources/read",
        "params": {"uri": "file:///notes.txt"}}),
    );
    out
}

fn server_script() -> PathBuf {
    fixtures().join("server.py")
}

#[test]
fn no_planted_secret_reaches_disk_through_record() {
    let env = TestEnv::new();
    let plants = plants();
    let argv_secret = format!("tok_{}", "p7Lq2Vx9Rm4Kw8Zn".repeat(2));
    let script = server_script();
    let plants_file = fixtures().join("plants.json");
    let mut input = String::new();
    for message in client_messages(&plants, true) {
        input.push_str(&message.to_string());
        input.push('\n');
    }
    let run = run_with_stdin(
        env.command(&[
            "record",
            "--redact",
            "--name",
            "planted",
            "--",
            "python3",
            script.to_str().unwrap(),
            "stdio",
            plants_file.to_str().unwrap(),
            "--token",
            &argv_secret,
        ]),
        input.as_bytes(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    // The traffic itself is untouched: the answers still carry the plants.
    assert!(
        run.stdout.contains(&plants[0].secrets[0]),
        "{}",
        &run.stdout[..run.stdout.len().min(500)]
    );
    assert_no_leaks(
        "record",
        &env,
        &plants,
        &[("a token on the server's command line", &argv_secret)],
    );
}

/// One HTTP exchange on a fresh connection; returns the answer's body.
fn post(port: u16, body: &str, headers: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\n{headers}Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}

#[test]
fn no_planted_secret_reaches_disk_through_record_http() {
    let env = TestEnv::new();
    let plants = plants();
    let mut server = Command::new("python3")
        .arg(server_script())
        .arg("http")
        .arg(fixtures().join("plants.json"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut port_line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut port_line,
    )
    .unwrap();
    let _server = Background(server);
    let url_secret = format!("{}7Q", "Hq8Wn2Zr5Xv9Lm3K".repeat(2));
    let url = format!(
        "http://127.0.0.1:{}/mcp?access_token={url_secret}",
        port_line.trim()
    );
    let (proxy, port) = crate::common::net::record_http(&env, &url, &["--redact"]);
    let header_secret = format!("{}x1", "Jm4Pz8Qs2Tw6Yb9C".repeat(2));
    let auth = format!("Authorization: Bearer {header_secret}\r\n");
    let mut answered = String::new();
    for message in client_messages(&plants, false) {
        answered.push_str(&post(port, &message.to_string(), &auth));
    }
    assert_eq!(proxy.terminate(), Some(0));
    assert!(answered.contains(&plants[0].secrets[0]));
    assert_no_leaks(
        "record-http",
        &env,
        &plants,
        &[
            ("a token in the server's URL", &url_secret),
            ("a token in a request header", &header_secret),
        ],
    );
}

// ------------------------------------------------------------------------------------------
// Ordinary content
// ------------------------------------------------------------------------------------------

/// The ordinary corpus as one object: `t0` … for its texts, `j0` … for its JSON values.
fn ordinary() -> Value {
    let text = std::fs::read_to_string(fixtures().join("ordinary.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let mut map = Map::new();
    for (i, t) in doc["texts"].as_array().unwrap().iter().enumerate() {
        map.insert(format!("t{i}"), t.clone());
    }
    for (i, j) in doc["json"].as_array().unwrap().iter().enumerate() {
        map.insert(format!("j{i}"), j.clone());
    }
    Value::Object(map)
}

#[test]
fn ordinary_content_reaches_disk_unchanged_with_redaction_on() {
    let env = TestEnv::new();
    let content = ordinary();
    let prompt = content["t0"].clone();
    for (event, payload) in [
        (
            "pre-tool",
            json!({"hook_event_name": "PreToolUse", "tool_name": "mcp__files__read", "tool_use_id": "toolu_1", "tool_input": content}),
        ),
        (
            "post-tool",
            json!({"hook_event_name": "PostToolUse", "tool_name": "mcp__files__read", "tool_use_id": "toolu_1", "tool_input": {}, "tool_response": content}),
        ),
        (
            "user-prompt",
            json!({"hook_event_name": "UserPromptSubmit", "prompt": prompt}),
        ),
    ] {
        let mut payload = payload;
        payload["session_id"] = SID.into();
        payload["cwd"] = env.path().to_string_lossy().into_owned().into();
        let run = env.run_with_stdin(&["hook", "--redact", event], payload.to_string().as_bytes());
        assert_eq!(run.code, 0, "{run:?}");
    }
    let events = env.events(SID);
    let call = events
        .iter()
        .find(|e| e["event_type"] == "tool_call")
        .unwrap();
    let result = events
        .iter()
        .find(|e| e["event_type"] == "tool_result")
        .unwrap();
    let typed = events
        .iter()
        .find(|e| e["event_type"] == "user_prompt")
        .unwrap();
    assert_eq!(call["data"]["arguments"], content);
    assert_eq!(result["data"]["tool_response"], content);
    assert_eq!(typed["data"]["prompt"], prompt);

    // The same through the stdio proxy, as a tool call's arguments.
    let env = TestEnv::new();
    let message = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "read", "arguments": content}});
    let run = env.run_with_stdin(
        &["record", "--redact", "--", "cat"],
        format!("{message}\n").as_bytes(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    let events = env.events(&env.sessions()[0]);
    let call = events
        .iter()
        .find(|e| e["event_type"] == "tool_call")
        .unwrap();
    assert_eq!(call["data"]["arguments"], content);
}

// ------------------------------------------------------------------------------------------
// Structure first, then text, then cuts
// ------------------------------------------------------------------------------------------

/// A parameter store's answer: the value before its name, another field between. Only the
/// structure says the value is a secret.
fn parameter(secret: &str) -> Value {
    json!({"Parameters": [{"Value": secret, "Type": "SecureString", "Version": 3,
                           "Name": "/prod/payments/DB_PASSWORD"}]})
}

/// Everything the store holds, as text.
fn store_text(env: &TestEnv) -> String {
    store_files(env)
        .into_iter()
        .map(|(_, bytes)| String::from_utf8_lossy(&bytes).into_owned())
        .collect()
}

#[test]
fn a_structured_response_is_redacted_before_its_text_is_made_or_it_is_cut() {
    let env = TestEnv::new();
    let (small, big) = ("Wq3zR8vT1xL6mN0p", "Hy7uJ2kP9sD4fG5a");
    let padded = json!({"parameters": parameter(big), "padding": ".".repeat(300 * 1024)});
    for (id, response) in [("toolu_1", parameter(small)), ("toolu_2", padded)] {
        let payload = json!({"session_id": SID, "cwd": env.path(), "hook_event_name": "PostToolUse",
            "tool_name": "mcp__ssm__get_parameters", "tool_use_id": id, "tool_input": {},
            "tool_response": response});
        let run = env.run_with_stdin(
            &["hook", "--redact", "post-tool"],
            payload.to_string().as_bytes(),
        );
        assert_eq!(run.code, 0, "{run:?}");
    }
    let text = store_text(&env);
    assert!(
        !text.contains(small),
        "the result text kept what tool_response hid"
    );
    assert!(
        !text.contains(big),
        "a response cut to text kept its secret"
    );
    let results: Vec<Value> = env
        .events(SID)
        .into_iter()
        .filter(|e| e["event_type"] == "tool_result")
        .collect();
    assert_eq!(
        results[0]["data"]["tool_response"]["Parameters"][0]["Value"],
        "[REDACTED]"
    );
    assert!(
        results[0]["data"]["result"]
            .as_str()
            .unwrap()
            .contains("SecureString")
    );
    assert!(
        results[1]["data"]["tool_response_original_bytes"]
            .as_u64()
            .unwrap()
            > 300 * 1024
    );

    // The same through the stdio proxy: a result with no content blocks, and an error object.
    let env = TestEnv::new();
    let lines = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get"}}),
        json!({"jsonrpc": "2.0", "id": 1, "result": parameter(small)}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "get"}}),
        json!({"jsonrpc": "2.0", "id": 2, "error": {"code": -1, "data": parameter(big)}}),
    ];
    let input: String = lines
        .iter()
        .map(|l| l.to_string() + "\n")
        .collect::<Vec<_>>()
        .concat();
    let run = env.run_with_stdin(&["record", "--redact", "--", "cat"], input.as_bytes());
    assert_eq!(run.code, 0, "{run:?}");
    let text = store_text(&env);
    assert!(!text.contains(small) && !text.contains(big), "{text}");
}

#[test]
fn an_event_is_capped_as_a_whole_however_many_fields_it_has() {
    let env = TestEnv::new();
    let mut payload = json!({"session_id": SID, "cwd": env.path(), "hook_event_name": "Notification",
        "message": "many fields", "notification_type": "idle_prompt"});
    // 40 fields of 200 KiB: each under the field limit, 8 MB in all.
    for i in 0..40 {
        payload[format!("extra_{i}")] = Value::String(format!("{i:02}").repeat(100 * 1024));
    }
    let sent = payload.to_string().len();
    let run = env.run_with_stdin(&["hook", "notification"], payload.to_string().as_bytes());
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{run:?}");
    let file = env.store().join(SID).join("events.ndjson");
    let text = std::fs::read_to_string(&file).unwrap();
    let line = text.lines().find(|l| l.contains("many fields")).unwrap();
    assert!(line.len() <= 1024 * 1024, "a {} byte line", line.len());
    let event: Value = serde_json::from_str(line).unwrap();
    let data = &event["data"];
    assert_eq!(data["message"], "many fields");
    let real = data["event_original_bytes"].as_u64().unwrap();
    assert!(real as usize > sent - 1000, "{real} of {sent}");
    for i in 0..40 {
        let field = data[format!("extra_{i}")].as_str().unwrap();
        if let Some(size) = data[format!("extra_{i}_original_bytes")].as_u64() {
            assert_eq!(size, 200 * 1024 + 2);
            assert!(field.ends_with(&format!("[cut by agent-strace: {size} bytes in all]")));
        } else {
            assert_eq!(field.len(), 200 * 1024);
        }
    }
    // The session reads as usual.
    let replay = env.run(&["replay", SID]);
    assert_eq!(replay.code, 0, "{replay:?}");
}

// ------------------------------------------------------------------------------------------
// On by default
// ------------------------------------------------------------------------------------------

#[test]
fn redaction_is_on_by_default_and_off_only_when_asked() {
    let key = format!("sk-proj-{}", "Tq8Wz3Lx6Rv1Nm5K".repeat(3));
    let recorded = |flags: &[&str], env_value: Option<&str>| -> String {
        let env = TestEnv::new();
        let payload = json!({"session_id": SID, "cwd": env.path(), "hook_event_name": "PreToolUse",
            "tool_name": "Bash", "tool_input": {"command": format!("OPENAI_API_KEY={key} ./eval")}});
        let mut args = vec!["hook"];
        args.extend_from_slice(flags);
        args.push("pre-tool");
        let mut command = env.command(&args);
        if let Some(value) = env_value {
            command.env("AGENT_STRACE_REDACT", value);
        }
        let run = run_with_stdin(command, payload.to_string().as_bytes());
        assert_eq!(run.code, 0, "{run:?}");
        env.events(SID)[0]["data"]["arguments"]["command"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let redacted = "OPENAI_API_KEY=[REDACTED] ./eval";
    let kept = format!("OPENAI_API_KEY={key} ./eval");
    assert_eq!(recorded(&[], None), redacted);
    assert_eq!(recorded(&["--redact"], None), redacted);
    assert_eq!(recorded(&["--no-redact"], None), kept);
    assert_eq!(recorded(&[], Some("0")), kept);
    assert_eq!(recorded(&[], Some("off")), kept);
    assert_eq!(recorded(&[], Some("1")), redacted);
    // A flag wins over the environment, and the last flag over the first.
    assert_eq!(recorded(&["--redact"], Some("0")), redacted);
    assert_eq!(recorded(&["--no-redact"], Some("1")), kept);
    assert_eq!(recorded(&["--no-redact", "--redact"], None), redacted);
}

#[test]
fn a_url_loses_its_password_and_keeps_its_query() {
    // A password before the host, then an `@` in the query: encoded once, twice and not at
    // all. The query's `@` (`email=a@b.c`) is no end of the password.
    let password = format!("pX4{}", "mW9qZr2v".repeat(2));
    let commands = [
        format!(
            "open 'next=https%3A%2F%2Fdeploy%3A{password}%40git.corp.io%3Femail%3Dops%40corp.io'"
        ),
        format!(
            "open 'next=https%253A%252F%252Fdeploy%253A{password}%2540git.corp.io%253Femail%253Dops%2540corp.io'"
        ),
        format!("git clone 'https://deploy:{password}@git.corp.io?email=ops@corp.io'"),
    ];
    let env = TestEnv::new();
    for (i, command) in commands.iter().enumerate() {
        let payload = json!({"session_id": SID, "cwd": env.path(), "hook_event_name": "PreToolUse",
            "tool_name": "Bash", "tool_use_id": format!("toolu_{i}"), "tool_input": {"command": command}});
        let run = env.run_with_stdin(&["hook", "pre-tool"], payload.to_string().as_bytes());
        assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{run:?}");
    }
    let recorded: Vec<String> = env
        .events(SID)
        .iter()
        .filter(|e| e["event_type"] == "tool_call")
        .map(|e| {
            e["data"]["arguments"]["command"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let expected: Vec<String> = commands
        .iter()
        .map(|c| c.replace(&password, "[REDACTED]"))
        .collect();
    assert_eq!(recorded, expected);
}

#[test]
fn setup_says_what_happens_to_secrets() {
    let env = TestEnv::new();
    let block = |out: &str| -> Value {
        let end = out.rfind('}').unwrap();
        serde_json::from_str(&out[..=end]).unwrap()
    };
    // The command named as it is: where the binary lives is not what this test is about.
    let on = env.run(&["setup", "--bin", "agent-strace"]);
    // The block on stdout, what to know of it on stderr.
    assert!(
        on.success().stderr.contains("replaced with [REDACTED]"),
        "{}",
        on.stderr
    );
    let on = on.stdout.clone();
    assert_eq!(
        block(&on)["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
        "agent-strace hook pre-tool"
    );
    let off = env.run(&["setup", "--bin", "agent-strace", "--no-redact"]);
    assert!(
        off.success()
            .stderr
            .contains("written to .agent-traces as they are"),
        "{}",
        off.stderr
    );
    let off = off.stdout.clone();
    assert_eq!(
        block(&off)["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
        "agent-strace hook --no-redact pre-tool"
    );
    let written = env
        .run(&["setup", "--bin", "agent-strace", "--write"])
        .success()
        .stdout
        .clone();
    assert!(written.contains("replaced with [REDACTED]"), "{written}");
}

// ------------------------------------------------------------------------------------------
// meta.json
// ------------------------------------------------------------------------------------------

#[test]
fn no_secret_in_a_branch_or_a_title_reaches_meta_json() {
    let env = TestEnv::new();
    let branch_token = format!("ghp_{}", "Rk3vQ9mZ2xW8tY5u".repeat(2) + "b7N1");
    let title_key = format!("sk-proj-{}", "Tq8Wz3Lx6Rv1Nm5K".repeat(3));
    // A checkout on a branch named after a token: the hook reads `.git/HEAD` itself.
    std::fs::create_dir_all(env.path().join(".git/refs/heads")).unwrap();
    std::fs::write(
        env.path().join(".git/HEAD"),
        format!("ref: refs/heads/fix/{branch_token}\n"),
    )
    .unwrap();
    let start = json!({"session_id": SID, "cwd": env.path(), "hook_event_name": "SessionStart",
        "source": "startup", "model": "claude-sonnet-4-5"});
    let run = env.run_with_stdin(&["hook", "session-start"], start.to_string().as_bytes());
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{run:?}");
    // An imported conversation whose title (Claude Code's `summary` line) holds a key.
    let imported = "7a2b3c4d-1111-4c6e-9f7a-1b2c3d4e5f60";
    let lines = [
        json!({"type": "summary", "summary": format!("Rotate {title_key} and password=hunter2"),
               "leafUuid": "u1"}),
        json!({"type": "user", "uuid": "u1", "sessionId": imported, "cwd": "/home/dev/acme",
               "gitBranch": "main", "version": "2.0.14", "timestamp": "2025-05-01T10:00:00.000Z",
               "message": {"role": "user", "content": "rotate the key"}}),
    ];
    let transcript = env.path().join(format!("{imported}.jsonl"));
    let text = lines.map(|l| l.to_string()).join("\n");
    std::fs::write(&transcript, text + "\n").unwrap();
    let run = env.run(&["import", transcript.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");

    let meta = |id: &str| env.meta(id);
    assert_eq!(
        meta(SID)["attribution"]["git_branch"],
        "fix/[REDACTED]",
        "{}",
        meta(SID)
    );
    assert_eq!(
        meta(imported)["attribution"]["title"],
        "Rotate [REDACTED] and password=[REDACTED]"
    );
    let stored = store_text(&env);
    for secret in [branch_token.as_str(), &title_key, "hunter2"] {
        assert!(!stored.contains(secret), "{secret} reached the store");
    }
}

// ------------------------------------------------------------------------------------------
// Secrets after a line break escaped in JSON text
// ------------------------------------------------------------------------------------------

/// A tool output of JSON lines (one JSON value a line, so not one JSON text redacted as its
/// structure), each holding a secret right after an escaped line break: a `.netrc` password
/// and a `.env` file as `base64 -w0` prints it. Returns the two secrets.
fn json_lines_after_escaped_breaks(env: &TestEnv, flags: &[&str]) -> [String; 2] {
    let password = "013a2a13-151c-6807-1576-e206fad20920".to_owned();
    let features: Vec<String> = (0..5).map(|i| format!("FEATURE_{i:03}=true")).collect();
    let dotenv = format!(
        "# generated\n{}\nSTRIPE_SECRET_KEY=sk_live_N2iJ3CqtQsXvFly4O1JjAbCd\n",
        features.join("\n")
    );
    let blob = base64(dotenv.as_bytes());
    let lines = [
        json!({"text": format!("netrc:\nmachine api.heroku.com\n  login ops@example.com\n  password {password}")}),
        json!({"text": format!("$ base64 -w0 .env\n{blob}")}),
    ];
    let stdout = lines
        .iter()
        .map(|l| l.to_string() + "\n")
        .collect::<String>();
    for (event, payload) in [
        (
            "session-start",
            json!({"hook_event_name": "SessionStart", "source": "startup"}),
        ),
        (
            "post-tool",
            json!({"hook_event_name": "PostToolUse", "tool_name": "Bash", "tool_use_id": "toolu_1",
                   "tool_input": {"command": "cat log.jsonl"},
                   "tool_response": {"stdout": stdout, "stderr": ""}}),
        ),
    ] {
        let mut payload = payload;
        payload["session_id"] = SID.into();
        payload["cwd"] = env.path().to_string_lossy().into_owned().into();
        let mut args = vec!["hook"];
        args.extend_from_slice(flags);
        args.push(event);
        let run = env.run_with_stdin(&args, payload.to_string().as_bytes());
        assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{event}: {run:?}");
    }
    [password, "sk_live_N2iJ3CqtQsXvFly4O1JjAbCd".to_owned()]
}

/// Standard base64 with padding, as `base64 -w0` prints it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * k) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Which of `secrets` a text holds.
fn found_in(text: &str, secrets: &[String]) -> Vec<String> {
    secrets
        .iter()
        .filter(|s| text.contains(s.as_str()))
        .cloned()
        .collect()
}

#[test]
fn a_netrc_password_and_a_base64_env_after_an_escaped_line_break_never_reach_disk() {
    let env = TestEnv::new();
    let secrets = json_lines_after_escaped_breaks(&env, &[]);
    let text = std::fs::read_to_string(env.store().join(SID).join("events.ndjson")).unwrap();
    assert!(text.contains("base64 -w0 .env"), "{text}");
    // The blob as recorded, decoded too: the key must be in neither.
    let decoded = decoded_blobs(&text);
    assert_eq!(
        found_in(&format!("{text}{decoded}"), &secrets),
        Vec::<String>::new()
    );
}

#[test]
fn share_redacts_a_netrc_password_and_a_base64_env_after_an_escaped_line_break() {
    let env = TestEnv::new();
    let secrets = json_lines_after_escaped_breaks(&env, &["--no-redact"]);
    let recorded = std::fs::read_to_string(env.store().join(SID).join("events.ndjson")).unwrap();
    assert!(
        recorded.contains(&secrets[0]),
        "recorded as it was: {recorded}"
    );
    let page = env.path().join("page.html");
    env.run(&["share", SID, "-o", page.to_str().unwrap()])
        .success();
    let html = std::fs::read_to_string(&page).unwrap();
    let decoded = decoded_blobs(&html);
    assert_eq!(
        found_in(&format!("{html}{decoded}"), &secrets),
        Vec::<String>::new()
    );
}

/// Every run of 40 or more base64 characters after an escaped line break in `text`, decoded.
fn decoded_blobs(text: &str) -> String {
    let mut out = String::new();
    for part in text.split("\\n").skip(1) {
        let blob: String = part
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
            .collect();
        if blob.len() >= 40 {
            out.push_str(&String::from_utf8_lossy(&decode64(&blob)));
        }
    }
    out
}

fn decode64(blob: &str) -> Vec<u8> {
    let (mut acc, mut bits, mut out) = (0u32, 0, Vec::new());
    for b in blob.bytes().take_while(|&b| b != b'=') {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            _ => 63,
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits & 0xff) as u8);
        }
    }
    out
}

/// An annotation's author went into the share page as written while its note and label were
/// redacted: a token pasted as the author (`annotate --author`) left the machine.
#[test]
fn share_redacts_an_annotations_author_as_it_does_its_note() {
    let env = TestEnv::new();
    let key = format!("AKIA{}", "QWERTYUIOP123456");
    crate::common::SessionBuilder::new(SID)
        .prompt("fix the tests")
        .at(1.0)
        .answer("Fixed.")
        .write(&env);
    let author = format!("ci-bot {key}");
    let note = format!("deployed with {key}");
    // Written with redaction off, as a store recorded so (or by the Python tool) holds it.
    env.run(&[
        "annotate",
        SID,
        "1",
        "--note",
        &note,
        "--author",
        &author,
        "--no-redact",
    ])
    .success();
    let stored = env
        .run(&["annotate", SID, "--list"])
        .success()
        .stdout
        .clone();
    assert!(stored.contains(&author), "kept as written: {stored}");
    let page = env.path().join("page.html");
    env.run(&["share", SID, "-o", page.to_str().unwrap()])
        .success();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains(&key), "the key is in the page");
    assert!(html.contains("ci-bot"), "the author is not in the page");
}

/// A made-up PuTTY key (`.ppk`) of `version`: its private lines are `private`'s, its public
/// lines `Pub0Lic9`s.
fn ppk(version: u8, private: &str) -> String {
    let derivation = if version == 3 {
        "Key-Derivation: Argon2id\nArgon2-Memory: 8192\nArgon2-Passes: 21\n\
         Argon2-Parallelism: 1\nArgon2-Salt: 0a1b2c3d4e5f60718293a4b5c6d7e8f9\n"
    } else {
        ""
    };
    format!(
        "PuTTY-User-Key-File-{version}: ssh-rsa\nEncryption: none\nComment: rsa-key-20240101\n\
         Public-Lines: 2\nAAAAB3NzaC1yc2EAAAADAQABAAABAQ{}\n{}\n{derivation}Private-Lines: 2\n\
         AAABAQCx{}\n{}\nPrivate-MAC: {}\n",
        "Pub0Lic9".repeat(4),
        "Pub0Lic9".repeat(3),
        private.repeat(7),
        private.repeat(3),
        "0f1e2d3c".repeat(5)
    )
}

/// A PuTTY private key a Read returned was stored whole in events.ndjson: only PEM keys were
/// known. Its private lines never reach disk; prose naming the format is kept as written.
#[test]
fn a_putty_private_key_read_by_a_tool_never_reaches_disk() {
    let env = TestEnv::new();
    let prose = "PuTTY-User-Key-File-3 is the format puttygen writes; convert it with -O.";
    let files = [
        ("toolu_1", "/home/u/.ssh/id.ppk", ppk(2, "Pv2Kq8Lm")),
        ("toolu_2", "/home/u/.ssh/id3.ppk", ppk(3, "Pv3Zr5Tn")),
        ("toolu_3", "/home/u/notes.md", prose.to_owned()),
    ];
    for (id, path, content) in &files {
        let payload = json!({"session_id": SID, "cwd": env.path(), "hook_event_name": "PostToolUse",
            "tool_name": "Read", "tool_use_id": id, "tool_input": {"file_path": path},
            "tool_response": {"type": "text", "file": {"filePath": path, "content": content,
                "numLines": content.lines().count(), "startLine": 1,
                "totalLines": content.lines().count()}}});
        env.run_with_stdin(&["hook", "post-tool"], payload.to_string().as_bytes())
            .success();
    }
    let text = store_text(&env);
    for private in ["Pv2Kq8Lm", "Pv3Zr5Tn", "0f1e2d3c"] {
        assert!(!text.contains(private), "{private} reached disk: {text}");
    }
    assert!(text.contains(prose), "the prose was changed: {text}");
}

/// record-http's and record's warnings on stderr quoted the upstream URL and the server's
/// command line as they came, with redaction on: a token in the URL's path, or in the
/// server's path, reached the terminal (and a CI log). They are scrubbed as the session's
/// events and hook-errors.log's lines are, and kept as they are with --no-redact.
#[test]
fn a_proxys_warnings_quote_no_token() {
    use std::io::BufRead;
    let env = TestEnv::new();
    let token = format!("ghp_{}", "a1B2c3D4e5F6".repeat(3));
    let url = format!("https://mcp.example.invalid/{token}/mcp");
    let first_line = |flags: &[&str]| {
        let mut args = vec!["record-http", url.as_str(), "--port", "0"];
        args.extend_from_slice(flags);
        let mut child = env.command(&args).stderr(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let proxy = Background(child);
        stderr.read_line(&mut line).unwrap();
        drop(proxy);
        line
    };
    let said = first_line(&[]);
    assert!(said.contains("forwarding"), "{said}");
    assert!(!said.contains(&token), "{said}");
    assert!(first_line(&["--no-redact"]).contains(&token));

    let server = format!("/nonexistent/{token}/server");
    let mut cmd = env.command(&["record", "--", &server]);
    cmd.env("AGENT_STRACE_ENDPOINT", format!("ftp://collector/{token}"));
    let run = run_with_stdin(cmd, b"");
    assert!(run.stderr.contains("cannot run"), "{}", run.stderr);
    assert!(!run.stderr.contains(&token), "{}", run.stderr);
}
