//! Stores and settings files as the Python agent-strace 0.103.0 writes them, written here by
//! hand in its shape (running the Python tool for each is slow): each must read as that tool
//! reads it. `python_compat.rs` runs the Python tool itself.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::TestEnv;

/// A session id as the Python tool makes one: 16 hex digits.
const SID: &str = "5f5441801eb84d33";

/// Writes a session in the Python tool's layout (`<store>/<id>/meta.json` and
/// `events.ndjson`): `meta` adds to the fields every session's `meta.json` holds, and each
/// event is stamped `start` plus its offset in seconds.
fn python_session(store: &Path, id: &str, start: f64, meta: Value, events: &[(f64, Value)]) {
    let dir = store.join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let mut written = json!({
        "session_id": id,
        "started_at": start,
        "command": "python3 server.py",
        "attribution": {},
    });
    for (key, value) in meta.as_object().unwrap() {
        written[key] = value.clone();
    }
    std::fs::write(
        dir.join("meta.json"),
        serde_json::to_string_pretty(&written).unwrap(),
    )
    .unwrap();
    let mut lines = String::new();
    for (i, (offset, event)) in events.iter().enumerate() {
        let mut event = event.clone();
        event["timestamp"] = json!(start + offset);
        event["event_id"] = json!(event_id(id, i));
        event["session_id"] = json!(id);
        lines.push_str(&serde_json::to_string(&event).unwrap());
        lines.push('\n');
    }
    std::fs::write(dir.join("events.ndjson"), lines).unwrap();
}

/// The event id [`python_session`] gives the `i`-th event of session `id`: 12 hex digits, as
/// the Python tool's.
fn event_id(id: &str, i: usize) -> String {
    format!("{}{i:08x}", &id[..4])
}

/// A session the Python tool's `record` proxy wrote for an MCP server whose `fail` tool answered
/// with a JSON-RPC error: its `error` event names the call only by the request's id, with no
/// `parent_id`, where a result names its call by both.
fn python_proxy_session_with_a_failed_call(env: &TestEnv) {
    let call = |tool: &str, id: u64| json!({"event_type": "tool_call", "data": {"tool_name": tool, "arguments": {}, "request_id": id}});
    let mut result = json!({"event_type": "tool_result", "data": {
        "request_id": 3, "content_types": ["text"], "content_preview": "{}"}});
    result["parent_id"] = json!(event_id(SID, 1));
    python_session(
        &env.store(),
        SID,
        1_796_619_154.0,
        json!({}),
        &[
            (
                0.0,
                json!({"event_type": "session_start", "data": {"command": ["python3", "server.py"]}}),
            ),
            (1.0, call("echo", 3)),
            (2.0, result),
            (3.0, call("fail", 4)),
            (
                4.0,
                json!({"event_type": "error", "data": {
                "code": -32000, "message": "boom", "request_id": 4}}),
            ),
        ],
    );
}

/// A failed MCP call in a session the Python tool's proxy recorded was counted as an API error
/// that ended a turn ("Errors: 1 (0 of tools, 1 of the turn)", the `fail` row's ERRORS 0, list's
/// TURN ERRORS 1), so `eval`'s no_errors passed it, where the Python tool scores it 0. The error
/// names its call by `request_id`: it is that call's failure everywhere.
#[test]
fn a_python_proxy_error_named_by_request_id_fails_its_call() {
    let env = TestEnv::new();
    python_proxy_session_with_a_failed_call(&env);

    let stats = env.run(&["stats", SID, "--format", "json"]);
    stats.success();
    let stats = stats.json();
    assert_eq!(stats["errors"], 1, "{stats}");
    assert_eq!(stats["tool_errors"], stats["errors"], "{stats}");
    let row = |tool: &str| {
        stats["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tool"] == tool)
            .cloned()
            .unwrap_or_else(|| panic!("no row of {tool}: {stats}"))
    };
    assert_eq!(row("fail")["errors"], 1, "{stats}");
    assert_eq!(row("echo")["errors"], 0, "{stats}");

    let list = env.run(&["list", "--format", "json"]);
    list.success();
    let listed = &list.json()[0];
    assert_eq!(listed["errors"], 1, "{listed}");
    assert_eq!(listed["tool_errors"], listed["errors"], "{listed}");

    std::fs::write(
        env.path().join(".agent-evals.yaml"),
        "scorers:\n  - type: no_errors\n",
    )
    .unwrap();
    let eval = env.run(&["eval", SID, "--format", "json"]);
    assert_eq!(eval.code, 1, "{}{}", eval.stdout, eval.stderr);
    let report = eval.json();
    let no_errors = &report["results"][0];
    assert_eq!(no_errors["scorer"], "no_errors", "{report}");
    assert_eq!(no_errors["passed"], false, "{report}");
}

/// A session the Python tool's hooks recorded that ran 115 s with no error.
fn python_session_of_115_seconds(env: &TestEnv) {
    let start = 1_796_600_000.0;
    python_session(
        &env.store(),
        SID,
        start,
        json!({"ended_at": start + 115.0, "agent_name": "claude-code", "tool_calls": 1}),
        &[
            (0.0, json!({"event_type": "session_start", "data": {}})),
            (
                1.0,
                json!({"event_type": "tool_call", "data": {
                "tool_name": "Bash", "arguments": {"command": "ls"}, "tool_use_id": "toolu_1"}}),
            ),
            (
                2.0,
                json!({"event_type": "tool_result", "parent_id": event_id(SID, 1), "data": {
                "tool_name": "Bash", "tool_use_id": "toolu_1", "result": "a"}}),
            ),
            (115.0, json!({"event_type": "session_end", "data": {}})),
        ],
    );
}

/// A scorer with a `weight` and no `threshold` got the opposite verdict from the Python tool,
/// which reads a weight given alone as the scorer's threshold too: `duration_under` of 60 s on a
/// session of 115 s scores 60/115 there, passing at 0.5, where this build failed it against a
/// threshold of 1 (exit 1). A weight alone is the threshold here too; one no score can reach
/// (over 1) is an error naming the file, line and key.
#[test]
fn a_scorer_weight_given_alone_is_its_threshold_as_for_the_python_tool() {
    let env = TestEnv::new();
    python_session_of_115_seconds(&env);
    let config = "scorers:\n  - type: no_errors\n  - type: duration_under\n    max_seconds: 60\n    weight: 0.5\nthresholds:\n  pass: 0.5\n  warn: 0.4\n";
    std::fs::write(env.path().join(".agent-evals.yaml"), config).unwrap();
    let eval = env.run(&["eval", SID, "--format", "json"]);
    assert_eq!(eval.code, 0, "{}{}", eval.stdout, eval.stderr);
    let report = eval.json();
    let duration = &report["results"][1];
    assert_eq!(duration["scorer"], "duration_under", "{report}");
    let score = duration["score"].as_f64().unwrap();
    assert!((0.5..1.0).contains(&score), "{report}");
    assert_eq!(duration["passed"], true, "{report}");

    std::fs::write(
        env.path().join(".agent-evals.yaml"),
        "scorers:\n  - type: duration_under\n    max_seconds: 60\n    weight: 2\n",
    )
    .unwrap();
    let refused = env.run(&["eval", SID]);
    assert_eq!(refused.code, 3, "{refused:?}");
    assert!(
        refused.stderr.starts_with(
            "error: .agent-evals.yaml:4: `scorers[0].weight`: expected a score from 0 to 1"
        ),
        "{}",
        refused.stderr
    );
}

/// An empty `.agent-evals.yaml`, or one whose `scorers` is `[]`, gives the Python tool its
/// default scorer, `no_errors`; this build refused it ("no scorers", exit 3). It scores with
/// the default and says so.
#[test]
fn an_evals_file_that_names_no_scorer_scores_with_the_default() {
    let env = TestEnv::new();
    python_session_of_115_seconds(&env);
    for text in [
        "",
        "# none yet\n",
        "scorers: []\nthresholds:\n  pass: 0.9\n",
    ] {
        std::fs::write(env.path().join(".agent-evals.yaml"), text).unwrap();
        let eval = env.run(&["eval", SID, "--format", "json"]);
        assert_eq!(eval.code, 0, "{text:?}: {eval:?}");
        let report = eval.json();
        let scorers: Vec<&Value> = report["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["scorer"])
            .collect();
        assert_eq!(scorers, [&json!("no_errors")], "{text:?}: {report}");
        assert_eq!(report["default_scorer"], ".agent-evals.yaml", "{report}");
        let text_view = env.run(&["eval", SID]);
        text_view.success();
        assert!(
            text_view
                .stdout
                .contains("Scorer: no_errors, the default: .agent-evals.yaml names no scorer."),
            "{}",
            text_view.stdout
        );
    }
}

/// The Python tool's `.agent-strace.yaml` holds more than retention (`apply`'s workspaces,
/// policies, identities, team budgets and roles; the project budget), and `retention` exited 3
/// on such a file ("`workspaces`: unknown field"), where the Python tool applies its limits.
/// Those sections are accepted and the limits applied; a key neither tool knows, at the top or
/// inside `retention`, is still an error naming the file, line and key.
#[test]
fn retention_applies_a_python_settings_file_that_holds_other_sections() {
    let env = TestEnv::new();
    let start = 1_796_600_000.0;
    for (i, id) in ["0a0a0a0a0a0a0a0a", "0b0b0b0b0b0b0b0b"].iter().enumerate() {
        let at = start + i as f64 * 3600.0;
        python_session(
            &env.store(),
            id,
            at,
            json!({"ended_at": at + 10.0}),
            &[
                (0.0, json!({"event_type": "session_start", "data": {}})),
                (10.0, json!({"event_type": "session_end", "data": {}})),
            ],
        );
    }
    let settings = "\
workspaces:
  - name: production
policies:
  - name: default
    path: .agent-scope.json
identities:
  - name: billing-agent
    team: backend
    workspace: production
team_budgets:
  - team: backend
    monthly: 500.0
rbac:
  - user: alice@example.com
    role: admin

budget:
  weekly: 50.0
  warn_at: 0.8

retention:
  max_sessions: 1
";
    std::fs::write(env.path().join(".agent-strace.yaml"), settings).unwrap();
    let dry = env.run(&["retention", "clean", "--dry-run", "--format", "json"]);
    assert_eq!(dry.code, 0, "{dry:?}");
    let deleted: Vec<Value> = dry.json()["plan"]["delete"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["session_id"].clone())
        .collect();
    assert_eq!(deleted, [json!("0a0a0a0a0a0a0a0a")], "{}", dry.stdout);
    // The budget's keys at the top, as the Python tool also reads them.
    std::fs::write(
        env.path().join(".agent-strace.yaml"),
        "weekly: 50.0\nmax_sessions: 1\n",
    )
    .unwrap();
    env.run(&["retention", "status"]).success();

    for (text, wanted) in [
        (
            "workspaces:\n  - name: production\nretension:\n  max_sessions: 1\n",
            "error: .agent-strace.yaml:3: `retension`: unknown field `retension`",
        ),
        (
            "budget:\n  weekly: 50.0\nretention:\n  max_sesions: 1\n",
            "error: .agent-strace.yaml:4: `retention.max_sesions`: unknown field `max_sesions`",
        ),
    ] {
        std::fs::write(env.path().join(".agent-strace.yaml"), text).unwrap();
        let refused = env.run(&["retention", "status"]);
        assert_eq!(refused.code, 3, "{text}: {refused:?}");
        assert!(
            refused.stderr.starts_with(wanted),
            "{text}: {}",
            refused.stderr
        );
    }
}

/// Sessions the Python tool recorded with `AGENT_STRACE_WORKSPACE` set live in
/// `.agent-traces/workspaces/<name>/`, and were invisible: `list` said "No sessions recorded
/// yet." and `replay` found no session, whatever the variable said. The variable places the
/// store as the Python tool places it; with none set, `list` names the workspaces that hold
/// sessions; a name no workspace can have is a usage error; and no command takes the
/// `workspaces` folder for a session.
#[test]
fn sessions_the_python_tool_recorded_in_a_workspace_are_read_with_its_variable() {
    let env = TestEnv::new();
    let start = 1_796_600_000.0;
    for (workspace, id) in [
        ("prod", "0c0c0c0c0c0c0c0c"),
        ("staging", "0d0d0d0d0d0d0d0d"),
    ] {
        python_session(
            &crate::common::workspace_store(&env, workspace),
            id,
            start,
            json!({"ended_at": start + 10.0, "workspace_id": workspace}),
            &[
                (0.0, json!({"event_type": "session_start", "data": {}})),
                (
                    1.0,
                    json!({"event_type": "user_prompt", "data": {"prompt": format!("deploy {workspace}")}}),
                ),
                (10.0, json!({"event_type": "session_end", "data": {}})),
            ],
        );
    }
    let in_workspace = |name: &str, args: &[&str]| {
        let mut command = env.command(args);
        command.env("AGENT_STRACE_WORKSPACE", name);
        crate::common::Run::of(command.output().unwrap())
    };
    let listed = in_workspace("prod", &["list", "--format", "json"]);
    listed.success();
    let ids: Vec<Value> = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].clone())
        .collect();
    assert_eq!(ids, [json!("0c0c0c0c0c0c0c0c")], "{}", listed.stdout);
    let replay = in_workspace("prod", &["replay", "0c0c"]);
    replay.success();
    assert!(replay.stdout.contains("deploy prod"), "{}", replay.stdout);

    // With no workspace named, the listing says where the sessions are, and no command takes
    // the `workspaces` folder for a broken session.
    let list = env.run(&["list"]);
    list.success();
    assert_eq!(
        list.stdout.trim_end(),
        "No sessions recorded outside workspaces; 2 workspaces hold sessions: \
         AGENT_STRACE_WORKSPACE=prod (1 session), AGENT_STRACE_WORKSPACE=staging (1 session).",
    );
    assert!(!list.stderr.contains("workspaces"), "{}", list.stderr);
    for args in [
        &["retention", "status"][..],
        &["sql", "select count(*) from sessions"],
    ] {
        let run = env.run(args);
        run.success();
        assert!(
            !run.stderr.contains("workspaces"),
            "{args:?}: {}",
            run.stderr
        );
    }

    let refused = in_workspace("../prod", &["list"]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused
            .stderr
            .starts_with("error: AGENT_STRACE_WORKSPACE=../prod: "),
        "{}",
        refused.stderr
    );
}

/// The Python tool's SDK integrations (Anthropic, OpenAI, LiteLLM: `integrations/anthropic.py`)
/// write a response's `input_tokens` and `output_tokens` beside its model, with no usage
/// object, and neither side of a call names the other. `stats` counted the tokens, but `cost`
/// said "No usage was recorded" ($0.0000), `token-budget` and `sql` knew no usage, and three
/// calls were six LLM requests. Every command reads those counts as the response's usage, and a
/// request with the response after it is one call.
#[test]
fn an_sdk_integrations_response_counts_beside_its_model_are_its_usage() {
    let env = TestEnv::new();
    let model = "claude-opus-4-6";
    let (input, output) = (100_000_u64, 10_000_u64);
    let mut events = Vec::new();
    for call in 0..3 {
        let at = f64::from(call) * 2.0 + 1.0;
        events.push((
            at,
            json!({"event_type": "llm_request", "event_id": format!("a{call}"),
                "data": {"model": model, "max_tokens": 1024, "message_count": 1}}),
        ));
        events.push((
            at + 0.5,
            json!({"event_type": "llm_response", "event_id": format!("b{call}"),
                "data": {"model": model, "input_tokens": input, "output_tokens": output,
                    "stop_reason": "end_turn", "duration_ms": 1234.0}}),
        ));
    }
    python_session(
        &env.store(),
        SID,
        1_780_000_000.0,
        json!({"agent_name": "my-sdk-agent", "ended_at": 1_780_000_010.0}),
        &events,
    );
    // The same calls, their counts in a usage object, priced as every recorded usage is.
    let mut as_usage = Vec::new();
    let other = "6f5441801eb84d33";
    for (i, (at, event)) in events.iter().enumerate() {
        let mut event = event.clone();
        if event["event_type"] == "llm_response" {
            let d = event["data"].as_object_mut().unwrap();
            let usage = json!({"input_tokens": d.remove("input_tokens").unwrap(),
                "output_tokens": d.remove("output_tokens").unwrap()});
            d.insert("usage".into(), usage);
            event["parent_id"] = json!(event_id(other, i - 1));
        }
        as_usage.push((*at, event));
    }
    python_session(
        &env.store(),
        other,
        1_780_000_000.0,
        json!({"agent_name": "my-sdk-agent", "ended_at": 1_780_000_010.0}),
        &as_usage,
    );

    let cost = |id: &str| env.run(&["cost", id, "--format", "json"]).success().json();
    let (got, want) = (cost(SID), cost(other));
    assert_eq!(got["tokens"], want["tokens"], "{got:#}");
    assert!(want["cost_usd"].as_f64().unwrap() > 0.0, "{want:#}");
    assert_eq!(got["cost_usd"], want["cost_usd"], "{got:#}");
    assert_eq!(got["estimated"], false, "{got:#}");

    let budget = |id: &str| env.run(&["token-budget", id, "--format", "json"]).json();
    let (got, want) = (budget(SID), budget(other));
    assert_eq!(got["responses"], want["responses"], "{got:#}");
    assert_eq!(got["peak"], want["peak"], "{got:#}");
    assert_eq!(got["model"], model, "{got:#}");

    let stats = env.run(&["stats", SID]).stdout;
    assert!(stats.contains("LLM requests: 3 "), "{stats}");
    let sql = env
        .run(&[
            "sql",
            "--format",
            "json",
            "SELECT session_id, llm_requests, input_tokens, output_tokens, cost_usd, estimated \
             FROM sessions ORDER BY session_id",
        ])
        .success()
        .json();
    for row in sql.as_array().unwrap() {
        assert_eq!(row["llm_requests"], 3, "{sql:#}");
        assert_eq!(row["input_tokens"], 3 * input, "{sql:#}");
        assert_eq!(row["output_tokens"], 3 * output, "{sql:#}");
        assert_eq!(row["estimated"], 0, "{sql:#}");
    }
    assert_eq!(sql[0]["cost_usd"], sql[1]["cost_usd"], "{sql:#}");
}
