//! `export` into a real OTLP backend that users run, Arize Phoenix: started once for the three
//! sessions (a Claude Code hook session, an imported transcript with subagents, an MCP proxy
//! session), each exported as `otlp-genai` over OTLP/HTTP protobuf into a project of its own,
//! then read back through Phoenix's REST API (`GET /v1/projects/{project}/spans`) and compared
//! with the session as the store holds it: span count, names, parent links, durations, status
//! and gen_ai attributes. Skipped, saying so, only when AGENT_STRACE_PHOENIX is unset.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use agent_strace::model::ToolOutcome;

use crate::common::net::{Background, client_saw, required};
use crate::common::{TestEnv, corpus_hook_payloads, shared};

/// A Phoenix server of the test's own: its HTTP and OTLP/gRPC servers on ports the system
/// picks, a temporary working folder, no telemetry.
pub(crate) struct Phoenix {
    port: u16,
    server: Background,
    dir: tempfile::TempDir,
}

impl Phoenix {
    pub(crate) fn start(program: &Path) -> Phoenix {
        let dir = tempfile::tempdir().unwrap();
        // Both servers bind port 0, so the system gives each one nobody holds: a port chosen
        // free and given to Phoenix could be taken by another process first, which would then
        // answer in its place (or end Phoenix at start-up). Its banner says the port it was
        // given (0); the HTTP server's log line says the one it took.
        let log = std::fs::File::create(dir.path().join("phoenix.log")).unwrap();
        let mut serve = Command::new(program);
        serve
            .arg("serve")
            .env("PHOENIX_HOST", "127.0.0.1")
            .env("PHOENIX_PORT", "0")
            .env("PHOENIX_GRPC_PORT", "0")
            .env("PHOENIX_WORKING_DIR", dir.path().join("work"))
            .env("PHOENIX_TELEMETRY_ENABLED", "false")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let server = Background(serve.spawn().unwrap());
        let mut phoenix = Phoenix {
            port: 0,
            server,
            dir,
        };
        let start = Instant::now();
        loop {
            if phoenix.port == 0 {
                phoenix.port = phoenix
                    .log()
                    .split("Uvicorn running on http://127.0.0.1:")
                    .nth(1)
                    .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                    .and_then(|port| port.parse().ok())
                    .unwrap_or(0);
            }
            if phoenix.port != 0
                && let Ok((200, _)) = phoenix.try_get("/healthz")
            {
                return phoenix;
            }
            if let Ok(Some(status)) = phoenix.server.0.try_wait() {
                panic!("phoenix exited ({status}): {}", phoenix.log());
            }
            assert!(
                start.elapsed() < Duration::from_secs(300),
                "phoenix did not start: {}",
                phoenix.log()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("phoenix.log")).unwrap_or_default()
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A GET's status and body (HTTP/1.1 by hand: content-length or chunked).
    fn try_get(&self, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"
        )?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| std::io::Error::other("no header end"))?;
        let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut body = raw[split + 4..].to_vec();
        if head.contains("transfer-encoding: chunked") {
            let mut out = Vec::new();
            let mut rest = &body[..];
            while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
                let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..end]).trim(), 16)
                    .unwrap_or(0);
                if size == 0 {
                    break;
                }
                out.extend_from_slice(&rest[end + 2..end + 2 + size]);
                rest = &rest[end + 2 + size + 2..];
            }
            body = out;
        }
        Ok((status, body))
    }

    /// Every span of `project`, once Phoenix holds `expected` of them (it ingests behind the
    /// export's answer).
    pub(crate) fn spans(&self, project: &str, expected: usize) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let got = self.try_get(&format!("/v1/projects/{project}/spans?limit=1000"));
            if let Ok((200, body)) = &got {
                let page: Value = serde_json::from_slice(body).unwrap();
                let spans = page["data"].as_array().unwrap().clone();
                if spans.len() >= expected {
                    return spans;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "phoenix holds no {expected} spans in {project}: {:?}\n{}",
                got.map(|(s, b)| (s, String::from_utf8_lossy(&b).into_owned())),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

/// Exports the latest session of `env` into `project`.
fn export_to(env: &TestEnv, phoenix: &Phoenix, project: &str, store: &Path) {
    env.run(&[
        "--trace-dir",
        store.to_str().unwrap(),
        "export",
        "--format",
        "otlp-genai",
        "--endpoint",
        &phoenix.url(),
        "--header",
        &format!("x-project-name: {project}"),
    ])
    .success();
}

fn time(value: &Value) -> f64 {
    let t = chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap()).unwrap();
    t.timestamp_micros() as f64 / 1e6
}

/// Compares what Phoenix holds with the session `root` and its subagents in `env`'s store.
fn assert_matches(env: &TestEnv, root: &str, spans: &[Value]) {
    // The sessions of the tree, from the store's metadata.
    let mut sessions = vec![root.to_owned()];
    let mut i = 0;
    while i < sessions.len() {
        for id in env.sessions() {
            if env.meta(&id)["parent_session_id"] == sessions[i].as_str() {
                sessions.push(id);
            }
        }
        i += 1;
    }
    let attr = |span: &Value, key: &str| span["attributes"][key].clone();
    let by_event: HashMap<String, &Value> = spans
        .iter()
        .filter_map(|s| Some((attr(s, "agent_strace.event.id").as_str()?.to_owned(), s)))
        .collect();
    let roots: HashMap<String, &Value> = spans
        .iter()
        .filter(|s| attr(s, "gen_ai.operation.name") == "invoke_agent")
        .map(|s| (attr(s, "gen_ai.agent.id").as_str().unwrap().to_owned(), s))
        .collect();
    let trace = spans[0]["context"]["trace_id"].clone();
    assert!(
        spans.iter().all(|s| s["context"]["trace_id"] == trace),
        "one trace"
    );
    let mut expected = 0;
    for id in &sessions {
        let meta = env.meta(id);
        let events = env.events(id);
        let root_span = roots
            .get(id)
            .unwrap_or_else(|| panic!("no invoke_agent span for {id}"));
        expected += 1;
        assert_eq!(
            root_span["name"],
            format!("invoke_agent {}", meta["agent_name"].as_str().unwrap())
        );
        // The root of the trace has no parent; a subagent's is the call that spawned it.
        match meta["parent_event_id"].as_str() {
            None if id == root => assert!(root_span["parent_id"].is_null(), "{root_span}"),
            None => {}
            Some(call) => assert_eq!(
                root_span["parent_id"], by_event[call]["context"]["span_id"],
                "{id} under its Task call"
            ),
        }
        for call in events.iter().filter(|e| e["event_type"] == "tool_call") {
            expected += 1;
            let data = &call["data"];
            let span = by_event[call["event_id"].as_str().unwrap()];
            let tool = data["tool_name"].as_str().unwrap();
            assert_eq!(span["name"], format!("execute_tool {tool}"));
            assert_eq!(attr(span, "gen_ai.tool.name"), tool);
            assert_eq!(attr(span, "gen_ai.operation.name"), "execute_tool");
            assert_eq!(attr(span, "gen_ai.agent.id"), id.as_str());
            if let Some(use_id) = data["tool_use_id"].as_str() {
                assert_eq!(attr(span, "gen_ai.tool.call.id"), use_id);
            }
            assert_eq!(span["parent_id"], root_span["context"]["span_id"]);
            // Its result: the event naming the call as parent, else the same tool-use id.
            let result = events.iter().find(|e| {
                matches!(e["event_type"].as_str(), Some("tool_result" | "error"))
                    && (e["parent_id"] == call["event_id"]
                        || (data["tool_use_id"].is_string()
                            && e["data"]["tool_use_id"] == data["tool_use_id"]))
            });
            let duration = time(&span["end_time"]) - time(&span["start_time"]);
            let start = call["timestamp"].as_f64().unwrap();
            assert!((time(&span["start_time"]) - start).abs() < 0.002, "{span}");
            match result {
                Some(r) => {
                    let took = r["timestamp"].as_f64().unwrap() - start;
                    assert!(
                        (duration - took.max(0.0)).abs() < 0.002,
                        "{duration} vs {took}: {span}"
                    );
                    let failed = r["event_type"] == "error"
                        && ToolOutcome::of_error(
                            r["data"]["error"].as_str().unwrap_or_default(),
                            r["data"]["is_interrupt"] == true,
                        ) == ToolOutcome::Failed;
                    let status = if failed { "ERROR" } else { "UNSET" };
                    assert_eq!(span["status_code"], status, "{span}");
                    if failed {
                        assert_eq!(span["events"][0]["name"], "exception");
                    }
                }
                None => assert!(duration.abs() < 0.002, "an unanswered call has no length"),
            }
        }
        for response in events.iter().filter(|e| e["event_type"] == "llm_response") {
            expected += 1;
            let span = by_event[response["event_id"].as_str().unwrap()];
            let data = &response["data"];
            let model = data["model"].as_str().unwrap();
            assert_eq!(span["name"], format!("chat {model}"));
            assert_eq!(attr(span, "gen_ai.operation.name"), "chat");
            assert_eq!(attr(span, "gen_ai.provider.name"), "anthropic");
            let usage = &data["usage"];
            let n = |k: &str| usage[k].as_u64().unwrap_or(0);
            assert_eq!(
                attr(span, "gen_ai.usage.input_tokens"),
                json!(
                    n("input_tokens")
                        + n("cache_read_input_tokens")
                        + n("cache_creation_input_tokens")
                )
            );
            assert_eq!(
                attr(span, "gen_ai.usage.output_tokens"),
                json!(n("output_tokens"))
            );
            assert_eq!(
                attr(span, "gen_ai.usage.cache_read.input_tokens"),
                json!(n("cache_read_input_tokens"))
            );
            assert_eq!(span["parent_id"], root_span["context"]["span_id"]);
        }
    }
    assert_eq!(
        spans.len(),
        expected,
        "one span per session, call and response"
    );
}

#[test]
fn phoenix_holds_what_the_sessions_did() {
    let Some(program) = std::env::var_os("AGENT_STRACE_PHOENIX") else {
        // Written where the test runner shows it; the suite's run.sh always sets the variable.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: AGENT_STRACE_PHOENIX is unset (tests/run.sh installs Arize Phoenix)"
        );
        return;
    };
    let phoenix = Phoenix::start(Path::new(&program));

    // (a) A Claude Code session recorded by the hooks: the quantstats payloads, calls first.
    let env = TestEnv::new();
    let mut payloads: Vec<Value> = corpus_hook_payloads()
        .into_iter()
        .filter(|(file, _)| file.starts_with("ranaroussi__quantstats"))
        .map(|(_, p)| p)
        .collect();
    payloads.sort_by_key(|p| p["hook_event_name"] != "PreToolUse");
    for p in &payloads {
        assert_eq!(env.hook(p["hook_event_name"].as_str().unwrap(), p).code, 0);
    }
    let sessions = env.sessions();
    assert_eq!(sessions.len(), 1);
    export_to(&env, &phoenix, "hooks", &env.store());
    let calls = env
        .events(&sessions[0])
        .iter()
        .filter(|e| e["event_type"] == "tool_call")
        .count();
    assert!(calls >= 14, "{calls}");
    let spans = phoenix.spans("hooks", calls + 1);
    assert_matches(&env, &sessions[0], &spans);

    // (b) An imported transcript with five subagents, each spawned by a Task call.
    let env = TestEnv::new();
    let transcript = shared().join(
        "corpus/claude-code/moredip__session-share/0ccf1a04-1b4c-43b6-8aa5-79e41db43a68.jsonl",
    );
    env.run(&["import", transcript.to_str().unwrap()]).success();
    let root = "0ccf1a04-1b4c-43b6-8aa5-79e41db43a68";
    export_to(&env, &phoenix, "imported", &env.store());
    let count: usize = env
        .sessions()
        .iter()
        .map(|id| {
            1 + env
                .events(id)
                .iter()
                .filter(|e| matches!(e["event_type"].as_str(), Some("tool_call" | "llm_response")))
                .count()
        })
        .sum();
    assert_eq!(env.sessions().len(), 6);
    let spans = phoenix.spans("imported", count);
    assert_matches(&env, root, &spans);
    let subagent_roots = spans
        .iter()
        .filter(|s| s["name"] == "invoke_agent claude-code" && !s["parent_id"].is_null())
        .count();
    assert_eq!(subagent_roots, 5);

    // (c) An MCP session recorded by the stdio proxy between a real client and server.
    let python = required("AGENT_STRACE_MCP_PYTHON", "a Python with the `mcp` package");
    let servers = required(
        "AGENT_STRACE_MCP_SERVERS",
        "npm's @modelcontextprotocol/server-everything",
    );
    let env = TestEnv::new();
    let store = env.store();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/stdio_client.py");
    client_saw(
        Command::new(python)
            .arg(script)
            .arg(crate::common::bin())
            .arg(&store)
            .args(["--", "node"])
            .arg(servers.join("@modelcontextprotocol/server-everything/dist/index.js"))
            .arg("stdio")
            .env("AGENT_STRACE_HOME", env.home.path())
            .current_dir(env.path()),
        "client",
    );
    let sessions = env.sessions();
    export_to(&env, &phoenix, "mcp", &store);
    let spans = phoenix.spans("mcp", 3);
    assert_matches(&env, &sessions[0], &spans);
    let mut names: Vec<&str> = spans.iter().map(|s| s["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "execute_tool echo",
            "execute_tool get-sum",
            "invoke_agent everything"
        ]
    );
}
