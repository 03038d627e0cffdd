//! Cursor, GitHub Copilot CLI and VS Code hooks through the real `hook` binary (issue 12): each
//! agent's documented or recorded payloads become a session of that agent with its calls,
//! linked results, prompts, answers and files; each agent gets its own denial; malformed
//! payloads are never recorded; and a Claude-file hook that one of these agents also ran is
//! recorded once (docs/agents.md §8).

use std::path::Path;
use std::process::Command;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::common::{Run, TestEnv, run_with_stdin};

/// The variables by which agents are told apart, cleared so the tests' own environment (a
/// Cursor or Copilot terminal) cannot change what they see.
const AGENT_VARS: [&str; 8] = [
    "CURSOR_VERSION",
    "CURSOR_PROJECT_DIR",
    "COPILOT_CLI",
    "COPILOT_HOME",
    "COPILOT_PROJECT_DIR",
    "COPILOT_HOOK_DIR",
    "GEMINI_SESSION_ID",
    "CLAUDECODE",
];

/// `agent-strace <args>` with `payload` on stdin, the home in the test's own folder, and the
/// given agent variables set.
fn hook_command(env: &TestEnv, args: &[&str], vars: &[(&str, &str)]) -> Command {
    let mut cmd = env.command(args);
    cmd.env("HOME", env.home.path());
    for var in AGENT_VARS {
        cmd.env_remove(var);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

fn hook(env: &TestEnv, args: &[&str], payload: &Value, vars: &[(&str, &str)]) -> Run {
    run_with_stdin(
        hook_command(env, args, vars),
        payload.to_string().as_bytes(),
    )
}

/// Runs every step, each silently and successfully.
fn play<S: AsRef<str> + std::fmt::Debug>(
    env: &TestEnv,
    steps: &[(Vec<S>, Value)],
    vars: &[(&str, &str)],
) {
    for (args, payload) in steps {
        let mut full = vec!["hook"];
        full.extend(args.iter().map(AsRef::as_ref));
        let run = hook(env, &full, payload, vars);
        run.success();
        assert!(run.stdout.is_empty(), "{args:?} printed {:?}", run.stdout);
    }
    assert_no_hook_errors(env);
}

/// Nothing went wrong in any hook: the store's log of hook errors was never made.
#[track_caller]
fn assert_no_hook_errors(env: &TestEnv) {
    assert!(
        !env.store().join("hook-errors.log").exists(),
        "{:?}",
        std::fs::read_to_string(env.store().join("hook-errors.log"))
    );
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event_type"] == kind).collect()
}

/// Each result's call: the tool call whose id is the result's parent, and the same tool.
fn assert_results_linked(events: &[Value]) {
    let results: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "tool_result" || e["event_type"] == "error")
        .collect();
    assert!(!results.is_empty());
    for result in results {
        let parent = result["parent_id"].as_str().unwrap_or_else(|| {
            panic!("result without its call: {result}");
        });
        let call = events
            .iter()
            .find(|e| e["event_id"] == parent)
            .unwrap_or_else(|| panic!("no call {parent}"));
        assert_eq!(call["event_type"], "tool_call");
        assert_eq!(call["data"]["tool_name"], result["data"]["tool_name"]);
    }
}

fn cwd(env: &TestEnv) -> String {
    env.path().to_string_lossy().into_owned()
}

// ---------------------------------------------------------------------------------------------
// Cursor (its documented payloads, docs/agents.md §5)

const CURSOR_SESSION: &str = "c0ffee00-1111-4222-8333-444455556666";

/// Cursor's payload of `event` in [`CURSOR_SESSION`], with the fields of `extra`.
fn cursor(env: &TestEnv, event: &str, extra: Value) -> Value {
    let mut p = json!({
        "conversation_id": CURSOR_SESSION,
        "generation_id": "gen-1",
        "model": "claude-4.5-sonnet",
        "hook_event_name": event,
        "cursor_version": "2.1.42",
        "workspace_roots": [cwd(env)],
        "transcript_path": null,
        "user_email": "someone@example.com",
    });
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

/// The hook run for Cursor's `event`, with its payload (see [`cursor`]), as [`play`] takes it.
fn cursor_step(env: &TestEnv, event: &str, extra: Value) -> (Vec<String>, Value) {
    (vec![event.to_owned()], cursor(env, event, extra))
}

/// Plays a Cursor agent's session through the hooks: its start, the person's `prompt`, then
/// `steps`, then its end; each hook silent and successful.
fn play_cursor_session(env: &TestEnv, prompt: &str, steps: Vec<(Vec<String>, Value)>) {
    let mut all = vec![
        cursor_step(
            env,
            "sessionStart",
            json!({"session_id": CURSOR_SESSION, "composer_mode": "agent"}),
        ),
        cursor_step(
            env,
            "beforeSubmitPrompt",
            json!({"prompt": prompt, "attachments": []}),
        ),
    ];
    all.extend(steps);
    all.push(cursor_step(
        env,
        "sessionEnd",
        json!({"session_id": CURSOR_SESSION, "reason": "completed"}),
    ));
    play(env, &all, &[]);
}

/// Replay, stats, explain, cost and audit all read `session` (issue 12: every analysis works
/// on every agent's sessions): each succeeds (audit: 0, or 1 for a violation it names), and
/// each shows the agent's own tool `tool`.
fn assert_every_analysis_reads(env: &TestEnv, session: &str, tool: &str) {
    let replay = env.run(&["replay", session]);
    replay.success();
    assert!(
        replay.stdout.contains(tool),
        "replay lacks {tool}: {}",
        replay.stdout
    );
    let stats = env.run(&["stats", session, "--format", "json"]);
    let stats = stats.success().json();
    assert!(stats["tool_calls"].as_u64().unwrap() >= 1, "{stats}");
    let explain = env.run(&["explain", session, "--format", "json"]);
    let explain = explain.success().json();
    assert!(
        !explain["phases"].as_array().unwrap().is_empty(),
        "{explain}"
    );
    let cost = env.run(&["cost", session, "--format", "json"]);
    let cost = cost.success().json();
    assert!(
        cost["total_usd"].as_f64().is_some() || cost.get("estimated").is_some(),
        "{cost}"
    );
    let audit = env.run(&["audit", session, "--format", "json"]);
    assert!(matches!(audit.code, 0 | 1), "{audit:?}");
    let audit = audit.json();
    assert!(
        audit.to_string().contains(tool),
        "audit lacks {tool}: {audit}"
    );
}

#[test]
fn a_cursor_session_records_calls_results_prompts_answers_and_files() {
    let env = TestEnv::new();
    let root = cwd(&env);
    let main_rs = format!("{root}/src/main.rs");
    play_cursor_session(
        &env,
        "fix main",
        vec![
            cursor_step(
                &env,
                "preToolUse",
                json!({"tool_name": "Read", "tool_input": {"file_path": main_rs}, "tool_use_id": "tu-1", "cwd": root}),
            ),
            cursor_step(
                &env,
                "postToolUse",
                json!({"tool_name": "Read", "tool_input": {"file_path": main_rs}, "tool_use_id": "tu-1",
                       "tool_output": "{\"content\":\"fn main() {}\"}", "duration": 12}),
            ),
            cursor_step(
                &env,
                "beforeShellExecution",
                json!({"command": "cargo test", "cwd": root}),
            ),
            cursor_step(
                &env,
                "afterShellExecution",
                json!({"command": "cargo test", "output": "test result: ok", "duration": 900}),
            ),
            cursor_step(
                &env,
                "beforeMCPExecution",
                json!({"tool_name": "get_issue", "tool_input": "{\"number\":12}", "url": "http://127.0.0.1:9/mcp"}),
            ),
            cursor_step(
                &env,
                "afterMCPExecution",
                json!({"tool_name": "get_issue", "tool_input": "{\"number\":12}",
                       "result_json": "{\"content\":[{\"type\":\"text\",\"text\":\"issue 12\"}]}", "duration": 30}),
            ),
            cursor_step(
                &env,
                "afterFileEdit",
                json!({"file_path": main_rs, "edits": [{"old_string": "fn main() {}", "new_string": "fn main() { run() }"}]}),
            ),
            cursor_step(&env, "afterAgentResponse", json!({"text": "Fixed main."})),
            cursor_step(
                &env,
                "stop",
                json!({"status": "completed", "loop_count": 0}),
            ),
        ],
    );

    assert_eq!(env.sessions(), [CURSOR_SESSION]);
    assert_eq!(env.meta(CURSOR_SESSION)["agent_name"], "cursor");
    let events = env.events(CURSOR_SESSION);
    let calls: Vec<&str> = of_type(&events, "tool_call")
        .iter()
        .map(|e| e["data"]["tool_name"].as_str().unwrap())
        .collect();
    assert_eq!(calls, ["Read", "Shell", "MCP:get_issue"]);
    // Cursor's afterFileEdit follows no call of its own: its result stands alone.
    let (edits, linked): (Vec<Value>, Vec<Value>) = events
        .iter()
        .cloned()
        .partition(|e| e["event_type"] == "tool_result" && e["data"]["tool_name"] == "Edit");
    assert_results_linked(&linked);
    assert_eq!(edits.len(), 1);
    assert_eq!(
        edits[0]["data"]["tool_response"]["edits"][0]["old_string"],
        "fn main() {}"
    );
    let results = of_type(&events, "tool_result");
    assert_eq!(results.len(), 4, "Read, Shell, MCP and the edit");
    assert_eq!(results[1]["data"]["result"], "test result: ok");
    assert_eq!(
        results[2]["data"]["tool_response"]["content"][0]["text"], "issue 12",
        "the MCP result's JSON text is read as JSON"
    );
    let prompts = of_type(&events, "user_prompt");
    assert_eq!(prompts.len(), 1);
    assert_eq!(prompts[0]["data"]["prompt"], "fix main");
    let answers = of_type(&events, "assistant_response");
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0]["data"]["text"], "Fixed main.");
    let read: Vec<&Value> = of_type(&events, "file_read");
    assert_eq!(read.len(), 1);
    assert_eq!(read[0]["data"]["path"], main_rs);
    let written = of_type(&events, "file_write");
    assert_eq!(written.len(), 1);
    assert_eq!(written[0]["data"]["path"], main_rs);
    let start = &of_type(&events, "session_start")[0]["data"];
    assert_eq!(start["model"], "claude-4.5-sonnet");
    let text =
        std::fs::read_to_string(env.store().join(CURSOR_SESSION).join("events.ndjson")).unwrap();
    assert!(
        !text.contains("someone@example.com"),
        "the user's e-mail is not kept"
    );

    // Analyses read it with Cursor's tool table.
    let stats = env.run(&["stats", CURSOR_SESSION, "--format", "json"]);
    let stats = stats.success().json();
    assert_eq!(
        (
            &stats["tool_calls"],
            &stats["user_prompts"],
            &stats["files_read"],
            &stats["files_written"]
        ),
        (&json!(3), &json!(1), &json!(1), &json!(1))
    );
    assert_every_analysis_reads(&env, CURSOR_SESSION, "Shell");
}

/// Cursor's `Delete` tool was counted as a write: `stats` said a file written, `standup`
/// "Modified" it and `watch`'s files_modified counted it. It deletes the file it names, as `rm`
/// does.
#[test]
fn a_file_cursors_delete_tool_removed_is_deleted_not_written() {
    let env = TestEnv::new();
    let root = cwd(&env);
    let (kept, old) = (format!("{root}/kept.rs"), format!("{root}/old.rs"));
    let call = |event: &str, tool: &str, path: &str, id: &str| {
        let mut extra = json!({"tool_name": tool, "tool_input": {"file_path": path},
                               "tool_use_id": id, "cwd": root});
        if event == "postToolUse" {
            extra["tool_output"] = "{}".into();
        }
        cursor_step(&env, event, extra)
    };
    play_cursor_session(
        &env,
        "tidy up",
        vec![
            call("preToolUse", "Write", &kept, "tu-1"),
            call("postToolUse", "Write", &kept, "tu-1"),
            call("preToolUse", "Delete", &old, "tu-2"),
            call("postToolUse", "Delete", &old, "tu-2"),
        ],
    );
    let stats = env
        .run(&["stats", CURSOR_SESSION, "--format", "json"])
        .success()
        .json();
    assert_eq!(
        ["files_written", "files_deleted"].map(|k| stats[k].clone()),
        [1, 1].map(|n| json!(n)),
        "{stats:#}"
    );
    let standup = env
        .run(&["standup", CURSOR_SESSION, "--format", "json"])
        .json();
    assert_eq!(standup["files_modified"], json!([kept]), "{standup}");
    assert_eq!(standup["files_deleted"], json!([old]), "{standup}");
    let rules = json!([{"condition": "files_modified >= 2", "action": "alert"}]);
    std::fs::write(env.path().join("rules.json"), rules.to_string()).unwrap();
    let watch = env.run(&["watch", CURSOR_SESSION, "--rules", "rules.json"]);
    assert_eq!(watch.code, 0, "{}", watch.stderr);
}

/// Cursor's `beforeReadFile` hands the agent a file Cursor has read, and no result ever follows
/// it. Every file a Cursor agent read that way counted as read by none: `stats` said
/// "Files: 0 (0 read, 0 written)" and `explain` "Files touched: 0 read" under a phase that
/// "Read" it. A call no result answers touched its file, as every view counts it.
#[test]
fn a_file_cursor_read_with_no_result_counts_as_read() {
    let env = TestEnv::new();
    let root = cwd(&env);
    let lib_rs = format!("{root}/src/lib.rs");
    play_cursor_session(
        &env,
        "explain lib",
        vec![
            cursor_step(
                &env,
                "beforeReadFile",
                json!({"file_path": lib_rs, "content": "pub fn run() {}"}),
            ),
            // A result that answers no call of its own.
            cursor_step(
                &env,
                "afterFileEdit",
                json!({"file_path": lib_rs, "edits": [{"old_string": "run", "new_string": "go"}]}),
            ),
        ],
    );
    let events = env.events(CURSOR_SESSION);
    assert_eq!(of_type(&events, "tool_call").len(), 1);
    assert_eq!(
        of_type(&events, "tool_result").len(),
        1,
        "the edit's alone: {events:#?}"
    );
    let stats = env
        .run(&["stats", CURSOR_SESSION, "--format", "json"])
        .success()
        .json();
    assert_eq!(
        ["reads", "writes", "files_read", "files_written"].map(|k| stats[k].clone()),
        [1, 1, 1, 1].map(|n| json!(n)),
        "{stats:#}"
    );
    let explain = env.run(&["explain", CURSOR_SESSION]);
    explain.success();
    assert!(
        explain.stdout.contains(&format!("  Read: {lib_rs}\n"))
            && explain.stdout.contains("Files touched: 1 read, 1 written"),
        "{}",
        explain.stdout
    );
}

/// Cursor tells of a read by its Read tool twice, with hooks for both: `preToolUse` (the call,
/// with its id, answered by `postToolUse`) and `beforeReadFile` (the same file, no id, no
/// result). Two reads of one file were counted as four: `stats` said "Reads: 4", `explain`'s
/// and `sql`'s files 4 reads, and `lint` found the file "read 4 times without a change". Each
/// read counts once, whichever of the two hooks comes first, and both events are kept.
#[test]
fn a_file_cursor_tells_of_twice_is_read_once() {
    let env = TestEnv::new();
    let root = cwd(&env);
    let lib_rs = format!("{root}/src/lib.rs");
    let pre = |id: &str| {
        cursor_step(
            &env,
            "preToolUse",
            json!({"tool_name": "Read", "tool_input": {"file_path": lib_rs}, "tool_use_id": id}),
        )
    };
    let post = |id: &str| {
        cursor_step(
            &env,
            "postToolUse",
            json!({"tool_name": "Read", "tool_input": {"file_path": lib_rs}, "tool_use_id": id,
                   "tool_output": "{\"content\":\"pub fn run() {}\"}"}),
        )
    };
    let before = cursor_step(
        &env,
        "beforeReadFile",
        json!({"file_path": lib_rs, "content": "pub fn run() {}"}),
    );
    play_cursor_session(
        &env,
        "read lib twice",
        vec![
            pre("tu-1"),
            before.clone(),
            post("tu-1"),
            // The other order.
            before,
            pre("tu-2"),
            post("tu-2"),
        ],
    );
    let events = env.events(CURSOR_SESSION);
    assert_eq!(of_type(&events, "tool_call").len(), 4, "every event kept");
    let stats = env
        .run(&["stats", CURSOR_SESSION, "--format", "json"])
        .success()
        .json();
    assert_eq!(
        ["reads", "files_read"].map(|k| stats[k].clone()),
        [json!(2), json!(1)],
        "{stats:#}"
    );
    let explain = env
        .run(&["explain", CURSOR_SESSION, "--format", "json"])
        .success()
        .json();
    let files = explain["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{explain:#}");
    assert_eq!(
        (&files[0]["reads"], &files[0]["writes"]),
        (&json!(2), &json!(0))
    );
    let sql = env
        .run(&["sql", "--format", "json", "SELECT path, reads FROM files"])
        .success()
        .json();
    assert_eq!(sql, json!([{"path": lib_rs, "reads": 2}]), "{sql:#}");
    let lint = env.run(&["lint", CURSOR_SESSION, "--format", "json"]);
    let lint = lint.json();
    let rereads: Vec<&Value> = lint["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "redundant-read")
        .collect();
    assert!(
        rereads.is_empty(),
        "two reads are below the threshold of 3: {lint:#}"
    );
}

/// The same read told twice is one tool call too, and Cursor may send `beforeReadFile` after
/// the call's result as well as before it. Three reads (one of each order) were 6 tool calls
/// in `stats` (and its Read column), `meta.json`, `list`, `sql`'s sessions and `tool_calls`,
/// and `explain`, and the read whose `beforeReadFile` came after its result was 2 reads
/// (`stats` "Reads: 4"). Each is one call and one read, the call with its result, whichever
/// order, even with the index brought up to date between the two halves of a read.
#[test]
fn a_read_cursor_tells_of_twice_is_one_tool_call_in_any_order() {
    let env = TestEnv::new();
    let root = cwd(&env);
    let lib_rs = format!("{root}/src/lib.rs");
    let pre = |id: &str| {
        (
            vec!["preToolUse"],
            cursor(
                &env,
                "preToolUse",
                json!({"tool_name": "Read", "tool_input": {"file_path": lib_rs}, "tool_use_id": id}),
            ),
        )
    };
    let post = |id: &str| {
        (
            vec!["postToolUse"],
            cursor(
                &env,
                "postToolUse",
                json!({"tool_name": "Read", "tool_input": {"file_path": lib_rs}, "tool_use_id": id,
                       "tool_output": "{\"content\":\"pub fn run() {}\"}"}),
            ),
        )
    };
    let before = || {
        (
            vec!["beforeReadFile"],
            cursor(
                &env,
                "beforeReadFile",
                json!({"file_path": lib_rs, "content": "pub fn run() {}"}),
            ),
        )
    };
    let start = vec![
        (
            vec!["sessionStart"],
            cursor(
                &env,
                "sessionStart",
                json!({"session_id": CURSOR_SESSION, "composer_mode": "agent"}),
            ),
        ),
        (
            vec!["beforeSubmitPrompt"],
            cursor(
                &env,
                "beforeSubmitPrompt",
                json!({"prompt": "read lib thrice", "attachments": []}),
            ),
        ),
        pre("tu-1"),
        before(),
        post("tu-1"),
        before(),
    ];
    play(&env, &start, &[]);
    // The index folds the lone `beforeReadFile` as a call before its `preToolUse` comes.
    env.run(&["sql", "SELECT count(*) FROM tool_calls"])
        .success();
    let rest = vec![
        pre("tu-2"),
        post("tu-2"),
        pre("tu-3"),
        post("tu-3"),
        // After the call's result.
        before(),
        (
            vec!["sessionEnd"],
            cursor(
                &env,
                "sessionEnd",
                json!({"session_id": CURSOR_SESSION, "reason": "completed"}),
            ),
        ),
    ];
    play(&env, &rest, &[]);
    let events = env.events(CURSOR_SESSION);
    assert_eq!(of_type(&events, "tool_call").len(), 6, "every event kept");
    let stats = env
        .run(&["stats", CURSOR_SESSION, "--format", "json"])
        .success()
        .json();
    assert_eq!(
        ["tool_calls", "reads", "files_read"].map(|k| stats[k].clone()),
        [json!(3), json!(3), json!(1)],
        "{stats:#}"
    );
    assert_eq!(
        (&stats["tools"][0]["tool"], &stats["tools"][0]["calls"]),
        (&json!("Read"), &json!(3)),
        "{stats:#}"
    );
    let text = env.run(&["stats", CURSOR_SESSION]).success().stdout.clone();
    assert!(
        text.contains("Tool calls: 3") && text.contains("Reads: 3"),
        "{text}"
    );
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(env.store().join(CURSOR_SESSION).join("meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["tool_calls"], json!(3), "{meta:#}");
    let list = env.run(&["list", "--format", "json"]).success().json();
    assert_eq!(list[0]["tool_calls"], json!(3), "{list:#}");
    let sql = |query: &str| {
        env.run(&["sql", "--format", "json", query])
            .success()
            .json()
    };
    assert_eq!(
        sql("SELECT tool_calls FROM sessions"),
        json!([{"tool_calls": 3}])
    );
    // One row a read, each the call its result answers.
    assert_eq!(
        sql("SELECT tool, outcome FROM tool_calls ORDER BY seq"),
        json!(vec![json!({"tool": "Read", "outcome": "tool_result"}); 3])
    );
    assert_eq!(
        sql("SELECT path, reads FROM files"),
        json!([{"path": lib_rs, "reads": 3}])
    );
    let explain = env
        .run(&["explain", CURSOR_SESSION])
        .success()
        .stdout
        .clone();
    assert!(
        explain.contains("Tool calls: 3") && explain.contains("Retries: 0"),
        "{explain}"
    );
    // `audit` judges each read once (it judged 6), the first telling's finding taking the
    // second's ids.
    let policy = env.path().join("policy.json");
    std::fs::write(&policy, r#"{"files": {"read": {"deny": ["src/**"]}}}"#).unwrap();
    let audit = env.run(&[
        "audit",
        CURSOR_SESSION,
        "--policy",
        policy.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let report = audit.json();
    let judged: Vec<(&str, &str)> = ["allowed", "no_policy", "violations"]
        .iter()
        .flat_map(|list| report[*list].as_array().unwrap())
        .map(|f| (f["tool"].as_str().unwrap(), f["what"].as_str().unwrap()))
        .collect();
    assert_eq!(judged, vec![("Read", lib_rs.as_str()); 3], "{report:#}");
    assert_eq!(
        report["violations"].as_array().unwrap().len(),
        3,
        "{report:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// Copilot CLI 1.0.102 (recorded: docs/agents/recorded/copilot-1.0.102-hooks.tsv)

/// The recorded run's payloads whose first column starts with `prefix` (first session only),
/// with `cwd` pointed at the test's folder and the transcript at a copy of the recorded
/// events.jsonl.
fn recorded_copilot(env: &TestEnv, pascal: bool) -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/agents/recorded");
    let transcript = env.home.path().join("events.jsonl");
    std::fs::copy(dir.join("copilot-1.0.102-events.jsonl"), &transcript).unwrap();
    let text = std::fs::read_to_string(dir.join("copilot-1.0.102-hooks.tsv")).unwrap();
    text.lines()
        .filter_map(|line| line.split_once('\t'))
        .filter(|(event, _)| !event.contains('_'))
        .filter(|(event, _)| event.starts_with('P') == pascal)
        .map(|(event, body)| {
            let mut p: Value = serde_json::from_str(body).unwrap();
            p["cwd"] = cwd(env).into();
            for key in ["transcriptPath", "transcript_path"] {
                if p.get(key).is_some() {
                    p[key] = transcript.to_string_lossy().into_owned().into();
                }
            }
            let event = event.strip_prefix('P').filter(|_| pascal).unwrap_or(event);
            (event.to_owned(), p)
        })
        .collect()
}

const COPILOT_SESSION: &str = "5a253198-fe35-44bd-a697-00641633c4b3";

fn assert_a_copilot_session(env: &TestEnv, tool: &str) {
    assert_eq!(env.sessions(), [COPILOT_SESSION]);
    assert_eq!(env.meta(COPILOT_SESSION)["agent_name"], "copilot");
    let events = env.events(COPILOT_SESSION);
    let calls = of_type(&events, "tool_call");
    assert_eq!(calls.len(), 1, "{events:#?}");
    assert_eq!(calls[0]["data"]["tool_name"], tool);
    assert_eq!(calls[0]["data"]["arguments"]["command"], "cat .env");
    assert_results_linked(&events);
    let results = of_type(&events, "tool_result");
    assert_eq!(results.len(), 1);
    assert!(
        results[0]["data"]["result"]
            .as_str()
            .unwrap()
            .starts_with("SECRET="),
        "{}",
        results[0]
    );
    let prompts = of_type(&events, "user_prompt");
    assert_eq!(prompts.len(), 1);
    assert_eq!(prompts[0]["data"]["prompt"], "read .env");
    let answers = of_type(&events, "assistant_response");
    assert_eq!(answers.len(), 1);
    assert_eq!(
        answers[0]["data"]["text"], "done",
        "the answer, from Copilot's events.jsonl"
    );
    // The agent's own clock: the recorded call was at 05:39:53.519 UTC.
    let at = calls[0]["timestamp"].as_f64().unwrap();
    assert!((at - 1_796_017_193.519).abs() < 0.001, "{at}");
}

/// §7.1: Copilot CLI's camelCase payloads (`sessionId`, numeric `timestamp`) were read as VS
/// Code's and failed on the timestamp: nothing was recorded.
#[test]
fn issue_12_copilot_camel_case_payloads_are_a_copilot_session() {
    let env = TestEnv::new();
    let steps: Vec<(Vec<String>, Value)> = recorded_copilot(&env, false)
        .into_iter()
        .map(|(event, p)| (vec![event], p))
        .collect();
    // Copilot CLI runs its hooks with COPILOT_CLI=1; the payload alone tells it too.
    play(&env, &steps, &[]);
    assert_a_copilot_session(&env, "bash");
    assert_every_analysis_reads(&env, COPILOT_SESSION, "bash");
}

/// Copilot writes its answer to events.jsonl behind its hooks: a loaded CI run's agentStop hook
/// found none in 500 ms and the turn's answer was lost. The answer the stop could not read is
/// read again when the session ends, recorded once, under the stop's event.
#[test]
fn a_copilot_answer_written_after_the_stop_hook_is_recorded_at_the_sessions_end() {
    let env = TestEnv::new();
    let steps = recorded_copilot(&env, false);
    let transcript = env.home.path().join("events.jsonl");
    let whole = std::fs::read_to_string(&transcript).unwrap();
    // The file as the stop hook found it: everything before the answer's line.
    let answer_at = whole.find("\"content\":\"done\"").unwrap();
    let before = &whole[..=whole[..answer_at].rfind('\n').unwrap()];
    for (event, payload) in &steps {
        if event == "agentStop" {
            std::fs::write(&transcript, before).unwrap();
        }
        if event == "sessionEnd" {
            std::fs::write(&transcript, &whole).unwrap();
        }
        play(&env, &[(vec![event.as_str()], payload.clone())], &[]);
    }
    let events = env.events(COPILOT_SESSION);
    let answers = of_type(&events, "assistant_response");
    assert_eq!(answers.len(), 2, "{answers:#?}");
    assert_eq!(answers[0]["data"]["text"], "", "the stop found no answer");
    assert_eq!(answers[1]["data"]["text"], "done", "{answers:#?}");
    assert_eq!(answers[1]["data"]["late"], true);
    assert_eq!(answers[1]["parent_id"], answers[0]["event_id"]);
    let last = events.last().unwrap();
    assert_eq!(last["event_type"], "session_end");
    // `explain` and `replay` read the late answer as the turn's.
    let replay = env
        .run(&["replay", COPILOT_SESSION])
        .success()
        .stdout
        .clone();
    assert!(replay.contains("done"), "{replay}");
}

/// Plays the recorded Copilot turn with its answer kept out of `events.jsonl` from the stop on
/// (the whole file kept out when `absent`), then the session's end `ends` times; returns the
/// whole file's text, for the caller to write when it likes, and the turn's steps.
fn copilot_turn_without_its_answer(
    env: &TestEnv,
    absent: bool,
    ends: usize,
) -> (String, Vec<(String, Value)>) {
    let steps = recorded_copilot(env, false);
    let transcript = env.home.path().join("events.jsonl");
    let whole = std::fs::read_to_string(&transcript).unwrap();
    let answer_at = whole.find("\"content\":\"done\"").unwrap();
    let before = &whole[..=whole[..answer_at].rfind('\n').unwrap()];
    for (event, payload) in &steps {
        if event == "agentStop" {
            if absent {
                std::fs::remove_file(&transcript).unwrap();
            } else {
                std::fs::write(&transcript, before).unwrap();
            }
        }
        let times = if event == "sessionEnd" { ends } else { 1 };
        for _ in 0..times {
            play(env, &[(vec![event.as_str()], payload.clone())], &[]);
        }
    }
    (whole, steps)
}

/// The session's events once it holds more than `answers` answers, or after 20 s.
fn events_with_more_answers_than(env: &TestEnv, answers: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let events = env.events(COPILOT_SESSION);
        if of_type(&events, "assistant_response").len() > answers
            || std::time::Instant::now() > deadline
        {
            return events;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// How many followers (`hook --late-answer`) of this test are still running: a session end
/// starts them detached, so they are no children of the test to wait for, and are known by
/// their argument and the test's HOME, which they inherit.
pub(crate) fn followers_running(env: &TestEnv) -> usize {
    let home = format!("HOME={}", env.home.path().display());
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return 0;
    };
    procs
        .filter_map(Result::ok)
        .filter(|proc| {
            let dir = proc.path();
            let has = |file: &str, wanted: &[u8]| {
                std::fs::read(dir.join(file))
                    .is_ok_and(|text| text.split(|b| *b == 0).any(|part| part == wanted))
            };
            has("cmdline", b"--late-answer") && has("environ", home.as_bytes())
        })
        .count()
}

/// The session's events once every follower of this test has exited (each looks for the
/// answer, records it or finds it recorded, and goes), waiting at most 60 s: what a fixed
/// wait only hoped for under load.
fn events_once_followers_are_done(env: &TestEnv) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while followers_running(env) > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        followers_running(env),
        0,
        "followers still running after 60 s"
    );
    env.events(COPILOT_SESSION)
}

/// Copilot may write its last answer only once its session-end hook has returned (with `-p`
/// it writes `events.jsonl` only as it exits: the hooks find no file at all): the session kept
/// only where the answer was (`answer_pending_from`). The session's end now leaves a follower
/// behind, detached (the hook returns, and the agent waits for nothing), that records the
/// answer once it is written, once however many session ends started one.
#[test]
fn a_copilot_answer_written_after_the_sessions_end_is_recorded_by_a_follower() {
    for (absent, ends) in [(false, 1), (true, 1), (true, 2)] {
        let env = TestEnv::new();
        let (whole, _) = copilot_turn_without_its_answer(&env, absent, ends);
        // Every hook has returned; only now does the answer reach the file.
        let events = env.events(COPILOT_SESSION);
        assert_eq!(events.last().unwrap()["event_type"], "session_end");
        assert_eq!(of_type(&events, "assistant_response").len(), 1);
        std::fs::write(env.home.path().join("events.jsonl"), &whole).unwrap();
        events_with_more_answers_than(&env, 1);
        // Every follower (a second one too, when the session ended twice) has had its chance
        // to record the answer again.
        let events = events_once_followers_are_done(&env);
        let answers = of_type(&events, "assistant_response");
        assert_eq!(
            answers.len(),
            2,
            "absent {absent}, ends {ends}: {answers:#?}"
        );
        assert_eq!(answers[0]["data"]["text"], "");
        assert_eq!(answers[1]["data"]["text"], "done");
        assert_eq!(answers[1]["data"]["late"], true);
        assert_eq!(answers[1]["parent_id"], answers[0]["event_id"]);
        assert_no_hook_errors(&env);
        let replay = env
            .run(&["replay", COPILOT_SESSION])
            .success()
            .stdout
            .clone();
        assert!(replay.contains("done"), "{replay}");
    }
}

/// The answer a follower records after the session's end (`copilot -p` 1.0.102 wrote it
/// after its sessionEnd hook) reopened the session: `list`, `stats`, `replay` and `explain` said
/// it was running from then on, and `sql`'s sessions had no `ended_at` or `duration_s`, though
/// `meta.json` held the end. A late answer is the ended session's own: it stays ended.
#[test]
fn a_session_stays_ended_after_its_late_answer() {
    let env = TestEnv::new();
    let (whole, _) = copilot_turn_without_its_answer(&env, false, 1);
    std::fs::write(env.home.path().join("events.jsonl"), &whole).unwrap();
    events_with_more_answers_than(&env, 1);
    let events = events_once_followers_are_done(&env);
    assert_eq!(events.last().unwrap()["data"]["late"], true, "{events:#?}");
    let explain = env
        .run(&["explain", "--format", "json", COPILOT_SESSION])
        .success()
        .json();
    assert_eq!(explain["running"], false, "{explain:#}");
    let list = env.run(&["list"]).success().stdout.clone();
    assert!(!list.contains("running"), "{list}");
    let sessions = env
        .run(&[
            "sql",
            "--format",
            "json",
            "SELECT ended_at, duration_s FROM sessions",
        ])
        .success()
        .json();
    assert!(sessions[0]["ended_at"].is_number(), "{sessions:#}");
    assert!(sessions[0]["duration_s"].is_number(), "{sessions:#}");
}

/// Followers and session ends that find the answer at the same moment (here six of each,
/// started at once, besides the first session end's follower) record it once: one at a time
/// checks that it is still to be recorded, and records it.
#[test]
fn followers_that_find_the_answer_at_once_record_it_once() {
    use std::io::Write;
    use std::process::Stdio;
    // The race is a few milliseconds wide: three rounds of twelve make it near certain to show.
    for _ in 0..3 {
        let env = TestEnv::new();
        let (whole, steps) = copilot_turn_without_its_answer(&env, true, 1);
        let (_, end) = steps
            .iter()
            .find(|(event, _)| event == "sessionEnd")
            .unwrap();
        // Half of them session ends, which look for the answer too.
        let mut followers: Vec<std::process::Child> = (0..12)
            .map(|i| {
                let args: &[&str] = if i % 2 == 0 {
                    &["hook", "--late-answer", "sessionEnd"]
                } else {
                    &["hook", "sessionEnd"]
                };
                hook_command(&env, args, &[])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        std::fs::write(env.home.path().join("events.jsonl"), &whole).unwrap();
        // Every follower is waiting on its stdin; the payloads go out together.
        for follower in &mut followers {
            let mut input = follower.stdin.take().unwrap();
            input.write_all(end.to_string().as_bytes()).unwrap();
        }
        for follower in followers {
            let done = follower.wait_with_output().unwrap();
            assert!(
                done.status.success(),
                "{}",
                String::from_utf8_lossy(&done.stderr)
            );
        }
        // The first session end's own follower, and any a busy session end left, have had
        // their chance to record it again.
        let events = events_once_followers_are_done(&env);
        let answers = of_type(&events, "assistant_response");
        assert_eq!(answers.len(), 2, "{answers:#?}");
        assert_eq!(answers[1]["data"]["text"], "done");
        assert_no_hook_errors(&env);
    }
}

/// A follower that finds the answer while another holds the session's late-answer lock (a
/// follower or a session end recording it: a dozen of them that find it at once take turns,
/// slowly on a loaded machine) waits its turn. It gave up after 2 s, logged a lock timeout, and
/// recorded nothing. Here the test holds the lock for 3 s once the follower waits for it.
#[test]
fn a_follower_waits_its_turn_while_another_holds_the_answers_lock() {
    let env = TestEnv::new();
    let (whole, _) = copilot_turn_without_its_answer(&env, true, 1);
    let path = env.store().join(COPILOT_SESSION).join(".late-answer.lock");
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .unwrap();
    lock.lock().unwrap();
    std::fs::write(env.home.path().join("events.jsonl"), &whole).unwrap();
    // The follower has found the answer once it has the lock's file open, waiting for it.
    let path = path.canonicalize().unwrap();
    let started = std::time::Instant::now();
    while !follower_has_open(&env, &path) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no follower waits for the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_secs(3));
    drop(lock);
    let events = events_once_followers_are_done(&env);
    let answers = of_type(&events, "assistant_response");
    assert_eq!(answers.len(), 2, "{answers:#?}");
    assert_eq!(answers[1]["data"]["text"], "done");
    assert_no_hook_errors(&env);
}

/// Whether a follower of this test (see [`followers_running`]) has `file` open.
fn follower_has_open(env: &TestEnv, file: &Path) -> bool {
    let home = format!("HOME={}", env.home.path().display());
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return false;
    };
    procs.filter_map(Result::ok).any(|proc| {
        let dir = proc.path();
        let has = |name: &str, wanted: &[u8]| {
            std::fs::read(dir.join(name))
                .is_ok_and(|text| text.split(|b| *b == 0).any(|part| part == wanted))
        };
        has("cmdline", b"--late-answer")
            && has("environ", home.as_bytes())
            && std::fs::read_dir(dir.join("fd")).is_ok_and(|fds| {
                fds.filter_map(Result::ok)
                    .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|p| p == file))
            })
    })
}

/// A session end whose output goes to `/dev/null`, started by a process that left another
/// descriptor of `/dev/null` open (a daemon, `nohup`, some test runners): the hook took that
/// descriptor for its output open again, said "a follower would keep it open" of a file nobody
/// reads to its end, and started no follower; the answer Copilot wrote after the session's end
/// was never recorded. It is followed, and recorded.
#[test]
fn a_session_end_whose_output_is_dev_null_still_leaves_a_follower() {
    use std::io::Write;
    use std::process::Stdio;
    let env = TestEnv::new();
    let (whole, steps) = copilot_turn_without_its_answer(&env, true, 0);
    let (_, end) = steps.iter().find(|(e, _)| e == "sessionEnd").unwrap();
    // `/dev/null` as its stdout, and again as descriptor 3, open across exec.
    let mut shell = Command::new("sh");
    shell.args(["-c", "exec \"$0\" \"$@\" 3</dev/null"]);
    let mut child = crate::common::run_by(shell, &hook_command(&env, &["hook", "sessionEnd"], &[]))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(end.to_string().as_bytes())
        .unwrap();
    let done = child.wait_with_output().unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert_no_hook_errors(&env);
    std::fs::write(env.home.path().join("events.jsonl"), &whole).unwrap();
    events_with_more_answers_than(&env, 1);
    let events = events_once_followers_are_done(&env);
    let answers = of_type(&events, "assistant_response");
    assert_eq!(answers.len(), 2, "{answers:#?}");
    assert_eq!(answers[1]["data"]["text"], "done");
    assert_eq!(answers[1]["data"]["late"], true);
    assert_no_hook_errors(&env);
}

/// A lock file someone put in the way (a folder) does not stop the answer: the lock only
/// orders followers, and the follower records without it.
#[test]
fn a_lock_in_the_way_never_costs_the_late_answer() {
    let env = TestEnv::new();
    let (whole, _) = copilot_turn_without_its_answer(&env, true, 1);
    let session = env.store().join(COPILOT_SESSION);
    std::fs::create_dir(session.join(".late-answer.lock")).unwrap();
    std::fs::write(env.home.path().join("events.jsonl"), &whole).unwrap();
    let events = events_with_more_answers_than(&env, 1);
    let answers = of_type(&events, "assistant_response");
    assert_eq!(answers.len(), 2, "{answers:#?}");
    assert_eq!(answers[1]["data"]["text"], "done");
}

/// With a collector (`AGENT_STRACE_ENDPOINT`), which reads no file a client names: the stop
/// says the answer is still to come, the collector's answer to the session's end says it is
/// still due, and a follower on this machine sends it from Copilot's `events.jsonl` (where
/// Copilot writes it, under `$HOME/.copilot/session-state/<id>/`) once it is written.
#[test]
fn a_copilot_answer_written_after_the_sessions_end_reaches_the_collector() {
    let env = TestEnv::new();
    let storage = env.path().join("srv");
    let (_server, port) = crate::collector::server(&env, &storage, &[]);
    let endpoint = format!("http://127.0.0.1:{port}");
    let steps = recorded_copilot(&env, false);
    let transcript = env.home.path().join("events.jsonl");
    let whole = std::fs::read_to_string(&transcript).unwrap();
    std::fs::remove_file(&transcript).unwrap();
    let steps: Vec<(Vec<String>, Value)> = steps.into_iter().map(|(e, p)| (vec![e], p)).collect();
    // The hooks are given 5 s for the collector: its default 60 ms runs out on two cores
    // under the whole suite, and a hook then records here, which is not what this is about.
    play(
        &env,
        &steps,
        &[
            ("AGENT_STRACE_ENDPOINT", endpoint.as_str()),
            ("AGENT_STRACE_ENDPOINT_WAIT_MS", "5000"),
        ],
    );
    assert!(!env.store().join(COPILOT_SESSION).exists(), "recorded here");
    let answers = || -> Vec<Value> {
        std::fs::read_to_string(storage.join(COPILOT_SESSION).join("events.ndjson"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["event_type"] == "assistant_response")
            .collect()
    };
    let stop = answers();
    assert_eq!(stop.len(), 1);
    assert_eq!(
        stop[0]["data"]["answer_pending_from"], "",
        "no path of this machine"
    );
    let layout = env
        .home
        .path()
        .join(".copilot/session-state")
        .join(COPILOT_SESSION);
    std::fs::create_dir_all(&layout).unwrap();
    std::fs::write(layout.join("events.jsonl"), &whole).unwrap();
    crate::common::wait::wait_until("the follower sends the late answer", || {
        answers().len() >= 2
    });
    let answers = answers();
    assert_eq!(answers.len(), 2, "{answers:#?}");
    assert_eq!(answers[1]["data"]["text"], "done");
    assert_eq!(answers[1]["data"]["late"], true);
    assert_eq!(answers[1]["parent_id"], answers[0]["event_id"]);
    assert_no_hook_errors(&env);
}

/// A transcript path that names a FIFO (or a device) can never hold the answer: the stop hook
/// waited its whole 2 s for it, on the agent's path, at every turn's end. It says so in the
/// hook's log and goes on at once, and nothing is left to look for at the session's end. That
/// it goes on at once, rather than after its 2 s, is told by the unit test
/// `an_answer_awaited_in_a_fifo_is_an_error_at_once` (waiting an hour), not by a clock here:
/// a loaded machine can take 2 s to start a hook.
#[test]
fn a_copilot_stop_whose_events_file_is_a_fifo_goes_on_at_once() {
    let env = TestEnv::new();
    let steps = recorded_copilot(&env, false);
    let transcript = env.home.path().join("events.jsonl");
    for (event, payload) in &steps {
        if event == "agentStop" {
            std::fs::remove_file(&transcript).unwrap();
            let made = std::process::Command::new("mkfifo")
                .arg(&transcript)
                .status()
                .unwrap();
            assert!(made.success());
        }
        hook(&env, &["hook", event.as_str()], payload, &[]).success();
    }
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
    assert!(log.contains("is a FIFO, not a regular file"), "{log}");
    let events = env.events(COPILOT_SESSION);
    let answers = of_type(&events, "assistant_response");
    assert_eq!(answers.len(), 1, "{answers:#?}");
    assert_eq!(answers[0]["data"]["text"], "");
    assert!(answers[0]["data"].get("answer_pending_from").is_none());
    assert_eq!(followers_running(&env), 0, "a follower waits for the FIFO");
}

/// A session resumed before the follower found its answer: the file's last answer may now be
/// the new turn's, which that turn's hooks record; the follower records nothing.
#[test]
fn a_follower_records_nothing_once_its_session_has_gone_on() {
    let env = TestEnv::new();
    let (whole, steps) = copilot_turn_without_its_answer(&env, true, 1);
    // The session resumes: its new prompt is recorded before any answer is written.
    let (event, prompt) = steps
        .iter()
        .find(|(event, _)| event == "userPromptSubmitted")
        .unwrap();
    play(&env, &[(vec![event.as_str()], prompt.clone())], &[]);
    // The follower waits for the file.
    assert_eq!(followers_running(&env), 1);
    std::fs::write(env.home.path().join("events.jsonl"), &whole).unwrap();
    // The follower has found the answer, and left it.
    let events = events_once_followers_are_done(&env);
    let answers = of_type(&events, "assistant_response");
    let kinds: Vec<&Value> = events.iter().map(|e| &e["event_type"]).collect();
    assert_eq!(answers.len(), 1, "{kinds:?}");
    assert!(!env.store().join("hook-errors.log").exists());
}

/// A hook whose stdout is also open under another descriptor: a follower would inherit that
/// one and hold the agent reading the hook's output, so none is started, and the log says so.
#[test]
fn no_follower_is_left_holding_the_hooks_output() {
    let env = TestEnv::new();
    let steps = recorded_copilot(&env, false);
    let transcript = env.home.path().join("events.jsonl");
    std::fs::remove_file(&transcript).unwrap();
    for (event, payload) in steps.iter().filter(|(e, _)| e != "sessionEnd") {
        play(&env, &[(vec![event.as_str()], payload.clone())], &[]);
    }
    let (_, end) = steps.iter().find(|(e, _)| e == "sessionEnd").unwrap();
    // The hook's stdout again as descriptor 3, through a shell; the pipe closes when every
    // holder of it has.
    let cmd = env.command(&["hook", "--agent", "copilot", "sessionEnd"]);
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(ToOwned::to_owned).collect();
    let mut shell = std::process::Command::new("sh");
    shell
        .arg("-c")
        .arg("exec \"$0\" \"$@\" 3>&1")
        .arg(program)
        .args(args)
        .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .current_dir(env.path());
    let mut child = shell
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(end.to_string().as_bytes()).unwrap();
    }
    let status = crate::common::wait::ends_by_itself(&mut child, "the sessionEnd hook");
    assert!(status.success(), "{status}");
    // Once the hook has ended, no process of its own still holds its output (a follower would,
    // for its 30 s): told by who holds the pipe, not by how long it stays open. A process of
    // the hook's has the test's AGENT_STRACE_HOME in its environment from its fork on.
    let stdout = child.stdout.take().unwrap();
    let pipe = {
        use std::os::fd::AsRawFd;
        std::fs::read_link(format!("/proc/self/fd/{}", stdout.as_raw_fd())).unwrap()
    };
    let home = format!("AGENT_STRACE_HOME={}", env.home.path().display());
    let holders: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|proc| proc.file_name() != std::process::id().to_string().as_str())
        .filter(|proc| {
            let dir = proc.path();
            std::fs::read(dir.join("environ"))
                .is_ok_and(|text| text.split(|b| *b == 0).any(|part| part == home.as_bytes()))
                && std::fs::read_dir(dir.join("fd")).is_ok_and(|fds| {
                    fds.filter_map(Result::ok)
                        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|p| p == pipe))
                })
        })
        .map(|proc| {
            let cmdline = std::fs::read(proc.path().join("cmdline")).unwrap_or_default();
            String::from_utf8_lossy(&cmdline).replace('\0', " ")
        })
        .collect();
    assert!(
        holders.is_empty(),
        "the hook's output is held by {holders:?}"
    );
    drop(stdout);
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap_or_default();
    assert!(
        log.contains("not waiting for the session's last answer"),
        "{log}"
    );
}

/// `hook --agent copilot <event>` (what `setup --agent copilot` writes) with Copilot's own
/// camelCase payloads and no COPILOT_CLI in the environment: they were taken for VS Code's, whose
/// event names differ, and every event was dropped as "unknown hook event".
#[test]
fn copilot_camel_case_payloads_under_agent_copilot_are_copilot_without_its_environment() {
    let env = TestEnv::new();
    let steps: Vec<(Vec<String>, Value)> = recorded_copilot(&env, false)
        .into_iter()
        .map(|(event, p)| (vec!["--agent".to_owned(), "copilot".to_owned(), event], p))
        .collect();
    play(&env, &steps, &[]);
    assert_a_copilot_session(&env, "bash");
}

#[test]
fn copilot_pascal_case_payloads_are_copilot_by_its_environment_or_agent_flag() {
    for (args, vars) in [
        (Vec::<&str>::new(), vec![("COPILOT_CLI", "1")]),
        (vec!["--agent", "copilot"], vec![]),
    ] {
        let env = TestEnv::new();
        let steps: Vec<(Vec<String>, Value)> = recorded_copilot(&env, true)
            .into_iter()
            .map(|(event, p)| {
                let mut a: Vec<String> = args.iter().map(|s: &&str| (*s).to_owned()).collect();
                a.push(event);
                (a, p)
            })
            .collect();
        play(&env, &steps, &vars);
        assert_a_copilot_session(&env, "Bash");
    }
}

// ---------------------------------------------------------------------------------------------
// VS Code (its documented payloads, docs/agents.md §6)

#[test]
fn a_vscode_session_is_recorded_as_vscode_with_its_tool_table() {
    let env = TestEnv::new();
    let session = "vs-session-1";
    let p = |event: &str, extra: Value| {
        let mut p = json!({"timestamp": "2026-02-09T10:30:00.000Z", "cwd": cwd(&env),
                           "sessionId": session, "hookEventName": event});
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    };
    let file = format!("{}/src/app.ts", cwd(&env));
    let steps = vec![
        (
            vec!["PreToolUse"],
            p(
                "PreToolUse",
                json!({"tool_name": "read_file", "tool_input": {"filePath": file}, "tool_use_id": "v1"}),
            ),
        ),
        (
            vec!["PostToolUse"],
            p(
                "PostToolUse",
                json!({"tool_name": "read_file", "tool_input": {"filePath": file}, "tool_use_id": "v1", "tool_response": "x"}),
            ),
        ),
        (
            vec!["PreToolUse"],
            p(
                "PreToolUse",
                json!({"tool_name": "create_file", "tool_input": {"filePath": file, "content": "y"}, "tool_use_id": "v2"}),
            ),
        ),
        (
            vec!["PostToolUse"],
            p(
                "PostToolUse",
                json!({"tool_name": "create_file", "tool_input": {"filePath": file, "content": "y"}, "tool_use_id": "v2", "tool_response": "ok"}),
            ),
        ),
    ];
    play(&env, &steps, &[]);
    assert_eq!(env.meta(session)["agent_name"], "vscode");
    let events = env.events(session);
    assert_results_linked(&events);
    assert_eq!(of_type(&events, "file_read")[0]["data"]["path"], file);
    assert_eq!(of_type(&events, "file_write")[0]["data"]["path"], file);
    assert_every_analysis_reads(&env, session, "create_file");
}

/// VS Code started from a Copilot CLI terminal inherits `COPILOT_CLI=1`; its payload (camelCase
/// `sessionId` with `hookEventName`, which Copilot CLI never sends) still says VS Code, from a
/// Claude file or from Copilot's own hook file (`--agent copilot`), which VS Code also runs.
/// Before, the environment won and the payload was read as Copilot's: every event was dropped
/// with "missing field session_id".
#[test]
fn a_vscode_payload_is_vscode_even_with_copilot_cli_in_the_environment() {
    for (args, session) in [
        (vec!["hook", "user-prompt"], "vs-env-1"),
        (
            vec!["hook", "--agent", "copilot", "userPromptSubmitted"],
            "vs-env-2",
        ),
    ] {
        let env = TestEnv::new();
        let payload = json!({"timestamp": "2026-02-09T10:30:00.000Z", "cwd": cwd(&env),
                             "sessionId": session, "hookEventName": "UserPromptSubmit",
                             "prompt": "hi"});
        let run = hook(&env, &args, &payload, &[("COPILOT_CLI", "1")]);
        run.success();
        assert_eq!(
            (run.stdout.as_str(), run.stderr.as_str()),
            ("", ""),
            "{args:?}"
        );
        assert_no_hook_errors(&env);
        assert_eq!(env.meta(session)["agent_name"], "vscode", "{args:?}");
        assert_eq!(
            of_type(&env.events(session), "user_prompt").len(),
            1,
            "{args:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Denials: a policy forbidding `.env`, each agent's pre-tool payload for it, its own answer.

fn forbid_env(env: &TestEnv) {
    std::fs::write(
        env.path().join(".agent-scope.json"),
        json!({"files": {"read": {"deny": [".env"]}}}).to_string(),
    )
    .unwrap();
}

fn decoded(run: &Run) -> Value {
    run.success();
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout))
}

/// The denied attempt is recorded, with no call left open.
fn assert_denied_attempt(env: &TestEnv, session: &str) {
    let events = env.events(session);
    let calls = of_type(&events, "tool_call");
    assert_eq!(calls.len(), 1);
    assert!(
        calls[0]["data"].get("policy_denied").is_some(),
        "{}",
        calls[0]
    );
    assert_eq!(of_type(&events, "error").len(), 1);
}

#[test]
fn cursor_denies_reading_env_in_its_own_words() {
    let env = TestEnv::new();
    forbid_env(&env);
    let env_file = format!("{}/.env", cwd(&env));
    for (event, extra) in [
        (
            "preToolUse",
            json!({"tool_name": "Read", "tool_input": {"file_path": env_file}, "tool_use_id": "d1"}),
        ),
        (
            "beforeReadFile",
            json!({"file_path": env_file, "content": "SECRET=1"}),
        ),
        (
            "beforeShellExecution",
            json!({"command": "cat .env", "cwd": cwd(&env)}),
        ),
    ] {
        let run = hook(
            &env,
            &["hook", "--agent", "cursor", event],
            &cursor(&env, event, extra),
            &[],
        );
        let answer = decoded(&run);
        assert_eq!(answer["permission"], "deny", "{event}");
        let message = answer["agent_message"].as_str().unwrap();
        assert!(message.contains(".env"), "{message}");
        assert_eq!(answer["user_message"], answer["agent_message"]);
    }
    let text =
        std::fs::read_to_string(env.store().join(CURSOR_SESSION).join("events.ndjson")).unwrap();
    assert!(
        !text.contains("SECRET=1"),
        "a read file's content is not kept"
    );
    // A file the policy allows: silence.
    let run = hook(
        &env,
        &["hook", "preToolUse"],
        &cursor(
            &env,
            "preToolUse",
            json!({"tool_name": "Read", "tool_input": {"file_path": "README.md"}, "tool_use_id": "d2"}),
        ),
        &[],
    );
    run.success();
    assert_eq!(run.stdout, "");
}

/// A Cursor workspace of several roots: a call on a file (or a command run) in one root is
/// judged by the policy found from that root, the deepest when roots nest. Only the first
/// root's policy was looked for, so the second's `.env` was read whatever its policy said (and
/// denied once the roots were swapped). The session is stored where it was: from the first
/// root.
#[test]
fn a_cursor_call_is_judged_by_the_policy_of_the_workspace_root_that_holds_it() {
    let env = TestEnv::new();
    let root = |name: &str| {
        let dir = env.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir.to_string_lossy().into_owned()
    };
    let (a, b, nested) = (root("a"), root("b"), root("a/nested"));
    for guarded in [&b, &nested] {
        std::fs::write(
            Path::new(guarded).join(".agent-scope.json"),
            json!({"files": {"read": {"deny": [".env"]}}}).to_string(),
        )
        .unwrap();
    }
    let calls = |dir: &str| {
        [
            (
                "beforeReadFile",
                json!({"file_path": format!("{dir}/.env"), "content": "x"}),
            ),
            (
                "preToolUse",
                json!({"tool_name": "Read", "tool_input": {"file_path": format!("{dir}/.env")},
                    "tool_use_id": "r1"}),
            ),
            (
                "beforeShellExecution",
                json!({"command": "cat .env", "cwd": dir}),
            ),
        ]
    };
    // The roots, the folder of the call, and whether a policy is found for it.
    let cases = [
        (json!([a, b]), &b, true),
        (json!([a, b]), &a, false),
        (json!([b, a]), &b, true),
        (json!([b, a]), &a, false),
        (json!([a, nested]), &nested, true),
        (json!([a, nested]), &a, false),
    ];
    for (roots, dir, guarded) in cases {
        for (event, extra) in calls(dir) {
            let mut payload = cursor(&env, event, extra);
            payload["workspace_roots"] = roots.clone();
            let run = hook(
                &env,
                &["hook", "--agent", "cursor", "pre-tool"],
                &payload,
                &[],
            );
            run.success();
            assert_eq!(
                run.stdout.contains("\"deny\""),
                guarded,
                "{event} in {dir} with roots {roots}: {}",
                run.stdout
            );
        }
    }
    // A path in no root is judged from the folder the call runs in: judged only by the root of
    // the call's other path (a, no policy), b's denied `.env` outside every root was read.
    let outside = root("outside");
    let mut payload = cursor(
        &env,
        "beforeShellExecution",
        json!({"command": format!("cat {a}/notes {outside}/.env"), "cwd": b}),
    );
    payload["workspace_roots"] = json!([a, b]);
    let run = hook(
        &env,
        &["hook", "--agent", "cursor", "pre-tool"],
        &payload,
        &[],
    );
    run.success();
    assert!(run.stdout.contains("\"deny\""), "{}", run.stdout);
    // Stored from the payload's folder, as always: the first root when it names none (the
    // first call, on b's file).
    assert!(
        Path::new(&a)
            .join(".agent-traces")
            .join(CURSOR_SESSION)
            .is_dir()
    );
}

#[test]
fn copilot_denies_reading_env_in_its_own_words_in_both_shapes() {
    for pascal in [false, true] {
        let env = TestEnv::new();
        forbid_env(&env);
        let (event, payload) = recorded_copilot(&env, pascal)
            .into_iter()
            .find(|(event, _)| event.eq_ignore_ascii_case("preToolUse"))
            .unwrap();
        let run = hook(&env, &["hook", &event], &payload, &[("COPILOT_CLI", "1")]);
        let answer = decoded(&run);
        assert_eq!(answer["permissionDecision"], "deny");
        let reason = answer["permissionDecisionReason"].as_str().unwrap();
        assert!(reason.contains(".env"), "{reason}");
        assert_denied_attempt(&env, COPILOT_SESSION);
    }
}

/// Copilot's `toolArgs` sent as the JSON text of the arguments, nested 150 levels (past
/// serde_json's own 128): the text was read by the plain parser, so it stayed a string, and
/// `cat .env` ran unjudged with no arguments recorded. It is read as deep as the payload is.
#[test]
fn a_copilot_call_whose_arguments_text_nests_150_levels_is_judged() {
    let env = TestEnv::new();
    forbid_env(&env);
    let (event, mut payload) = recorded_copilot(&env, false)
        .into_iter()
        .find(|(event, _)| event == "preToolUse")
        .unwrap();
    let deep = (0..150).fold(json!(0), |inner, _| json!([inner]));
    payload["toolArgs"] = json!({"command": "cat .env", "description": deep})
        .to_string()
        .into();
    let run = hook(&env, &["hook", &event], &payload, &[("COPILOT_CLI", "1")]);
    let answer = decoded(&run);
    assert_eq!(answer["permissionDecision"], "deny", "{answer}");
    assert_denied_attempt(&env, COPILOT_SESSION);
    let calls = env.events(COPILOT_SESSION);
    let call = of_type(&calls, "tool_call")[0];
    assert_eq!(call["data"]["arguments"]["command"], "cat .env", "{call}");
}

#[test]
fn vscode_denies_reading_env_in_claude_codes_words() {
    let env = TestEnv::new();
    forbid_env(&env);
    let payload = json!({"timestamp": "2026-02-09T10:30:00.000Z", "cwd": cwd(&env), "sessionId": "vs-deny",
                         "hookEventName": "PreToolUse", "tool_name": "read_file",
                         "tool_input": {"filePath": format!("{}/.env", cwd(&env))}, "tool_use_id": "v1"});
    let answer = decoded(&hook(&env, &["hook", "pre-tool"], &payload, &[]));
    assert_eq!(answer["hookSpecificOutput"]["permissionDecision"], "deny");
    assert_denied_attempt(&env, "vs-deny");
}

// ---------------------------------------------------------------------------------------------
// Each event recorded once (docs/agents.md §8)

/// A Claude-file hook (no `--agent`) that Cursor ran: Claude's payload, `CURSOR_VERSION` set.
fn claude_file_payload(env: &TestEnv) -> Value {
    json!({"session_id": "dup-1", "hook_event_name": "PreToolUse", "cwd": cwd(env),
           "tool_name": "Shell", "tool_input": {"command": "ls"}, "tool_use_id": "x1"})
}

#[test]
fn a_claude_file_hook_run_by_cursor_is_dropped_when_cursor_has_its_own_hooks_and_still_judged() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.path().join(".cursor")).unwrap();
    std::fs::write(
        env.path().join(".cursor/hooks.json"),
        json!({"version": 1, "hooks": {"preToolUse": [{"command": "agent-strace hook --agent cursor pre-tool"}]}}).to_string(),
    )
    .unwrap();
    let vars = [("CURSOR_VERSION", "2.1.42")];
    forbid_env(&env);
    let mut payload = claude_file_payload(&env);
    // Allowed, the duplicate says nothing and records nothing.
    for args in [vec!["hook", "pre-tool"], vec!["hook", "PreToolUse"]] {
        let run = hook(&env, &args, &payload, &vars);
        run.success();
        assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    }
    // A denial still stands: Cursor's own hooks may not cover the event, or run without this
    // policy. Before, the duplicate let through what the policy stops.
    payload["tool_input"] = json!({"command": "cat .env"});
    for args in [vec!["hook", "pre-tool"], vec!["hook", "PreToolUse"]] {
        let run = hook(&env, &args, &payload, &vars);
        run.success();
        assert_eq!(decoded(&run)["permission"], "deny", "{run:?}");
    }
    assert!(env.sessions().is_empty(), "{:?}", env.sessions());
    // Cursor's own hook records it, and denies it.
    let own = hook(
        &env,
        &["hook", "--agent", "cursor", "pre-tool"],
        &payload,
        &vars,
    );
    assert_eq!(decoded(&own)["permission"], "deny");
    assert_eq!(env.sessions(), ["dup-1"]);
    assert_eq!(env.meta("dup-1")["agent_name"], "cursor");
}

#[test]
fn a_claude_file_hook_run_by_cursor_alone_is_recorded_as_cursor() {
    let env = TestEnv::new();
    // Cursor hooks of someone else's, and Claude-style hooks of ours without --agent, do not
    // make Cursor's own capture.
    std::fs::create_dir_all(env.home.path().join(".cursor")).unwrap();
    std::fs::write(
        env.home.path().join(".cursor/hooks.json"),
        json!({"version": 1, "hooks": {"stop": [{"command": "other-tool --agent cursor"}]}})
            .to_string(),
    )
    .unwrap();
    let run = hook(
        &env,
        &["hook", "pre-tool"],
        &claude_file_payload(&env),
        &[("CURSOR_VERSION", "2.1.42")],
    );
    run.success();
    assert_eq!(run.stdout, "");
    assert_eq!(env.sessions(), ["dup-1"]);
    assert_eq!(env.meta("dup-1")["agent_name"], "cursor");
}

#[test]
fn a_claude_file_hook_given_cursors_own_payload_is_dropped_when_cursor_has_its_own_hooks() {
    // Cursor runs the hooks of Claude's files with its own payload, not Claude's: a prompt
    // comes as `beforeSubmitPrompt` with `conversation_id` and no `session_id` (as captured
    // from Cursor 2.5 in claude-mem#838). Before, that run was recorded beside Cursor's own
    // hook's, and every event of such a session was there twice.
    let env = TestEnv::new();
    std::fs::create_dir_all(env.path().join(".cursor")).unwrap();
    std::fs::write(
        env.path().join(".cursor/hooks.json"),
        json!({"version": 1, "hooks": {"beforeSubmitPrompt": [{"command": "agent-strace hook --agent cursor beforeSubmitPrompt"}]}}).to_string(),
    )
    .unwrap();
    forbid_env(&env);
    let prompt = cursor(
        &env,
        "beforeSubmitPrompt",
        json!({"prompt": "tidy the parser"}),
    );
    let read = cursor(
        &env,
        "preToolUse",
        json!({"tool_name": "Read", "tool_input": {"file_path": ".env"}, "tool_use_id": "d1"}),
    );
    for vars in [vec![], vec![("CURSOR_VERSION", "2.5.0")]] {
        let run = hook(&env, &["hook", "user-prompt"], &prompt, &vars);
        run.success();
        assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
        // Still judged, and answered in Cursor's words.
        let run = hook(&env, &["hook", "pre-tool"], &read, &vars);
        assert_eq!(decoded(&run)["permission"], "deny", "{run:?}");
    }
    assert!(env.sessions().is_empty(), "{:?}", env.sessions());
    // Cursor's own hook records the prompt, once.
    play(
        &env,
        &[(vec!["--agent", "cursor", "beforeSubmitPrompt"], prompt)],
        &[],
    );
    let prompts: Vec<Value> = env
        .events(CURSOR_SESSION)
        .into_iter()
        .filter(|e| e["event_type"] == "user_prompt")
        .collect();
    assert_eq!(prompts.len(), 1, "{prompts:?}");
    assert_eq!(prompts[0]["data"]["prompt"], "tidy the parser");
    assert_eq!(env.meta(CURSOR_SESSION)["agent_name"], "cursor");
}

#[test]
fn a_claude_file_hook_run_by_copilot_or_vscode_is_recorded_once() {
    // Copilot CLI with hooks of its own in the user's ~/.copilot/hooks: its run of the
    // project's .claude/settings.json hook is dropped; without them it is kept as Copilot's.
    let pascal = |env: &TestEnv| {
        json!({"hook_event_name": "PreToolUse", "session_id": "dup-2", "timestamp": "2026-11-30T05:49:48.899Z",
               "cwd": cwd(env), "tool_name": "Bash", "tool_input": {"command": "ls"}})
    };
    let own_hooks = |env: &TestEnv, dir: &Path, agent: &str| {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("agent-strace.json"),
            json!({"version": 1, "hooks": {"preToolUse": [{"type": "command", "bash": format!("agent-strace hook --agent {agent} preToolUse")}]}}).to_string(),
        )
        .unwrap();
        let _ = env;
    };
    let vars = [("COPILOT_CLI", "1")];

    let env = TestEnv::new();
    own_hooks(&env, &env.home.path().join(".copilot/hooks"), "copilot");
    hook(&env, &["hook", "pre-tool"], &pascal(&env), &vars).success();
    assert!(env.sessions().is_empty());

    let env = TestEnv::new();
    hook(&env, &["hook", "pre-tool"], &pascal(&env), &vars).success();
    assert_eq!(env.meta("dup-2")["agent_name"], "copilot");

    // VS Code with a project hook file of its own.
    let vs = |env: &TestEnv| {
        json!({"timestamp": "2026-02-09T10:30:00.000Z", "cwd": cwd(env), "sessionId": "dup-3",
               "hookEventName": "UserPromptSubmit", "prompt": "hi"})
    };
    let env = TestEnv::new();
    own_hooks(&env, &env.path().join(".github/hooks"), "vscode");
    hook(&env, &["hook", "user-prompt"], &vs(&env), &[]).success();
    assert!(env.sessions().is_empty());
    hook(
        &env,
        &["hook", "--agent", "vscode", "UserPromptSubmit"],
        &vs(&env),
        &[],
    )
    .success();
    assert_eq!(env.meta("dup-3")["agent_name"], "vscode");

    let env = TestEnv::new();
    hook(&env, &["hook", "user-prompt"], &vs(&env), &[]).success();
    assert_eq!(env.meta("dup-3")["agent_name"], "vscode");
}

// ---------------------------------------------------------------------------------------------
// Properties: malformed payloads never exit non-zero, never print, never record a fake event.

const CURSOR_EVENTS: [&str; 14] = [
    "sessionStart",
    "preToolUse",
    "postToolUse",
    "postToolUseFailure",
    "beforeShellExecution",
    "afterShellExecution",
    "beforeMCPExecution",
    "afterMCPExecution",
    "beforeReadFile",
    "afterFileEdit",
    "beforeSubmitPrompt",
    "afterAgentResponse",
    "stop",
    "subagentStart",
];
const COPILOT_EVENTS: [&str; 8] = [
    "sessionStart",
    "userPromptSubmitted",
    "preToolUse",
    "postToolUse",
    "postToolUseFailure",
    "permissionRequest",
    "agentStop",
    "sessionEnd",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
        Just(json!("{\"a\":")),
        Just(json!([1, {"b": null}])),
        Just(json!({"x": "y"})),
    ]
}

/// A payload with the agent's fields, each of them maybe the wrong type or missing, and
/// stray fields.
fn malformed(agent: &'static str) -> impl Strategy<Value = (String, Value)> {
    let (events, keys): (&[&str], &[&str]) = if agent == "cursor" {
        (
            &CURSOR_EVENTS,
            &[
                "conversation_id",
                "hook_event_name",
                "tool_name",
                "tool_input",
                "tool_output",
                "command",
                "output",
                "file_path",
                "result_json",
                "prompt",
                "text",
                "workspace_roots",
                "cwd",
            ],
        )
    } else {
        (
            &COPILOT_EVENTS,
            &[
                "sessionId",
                "timestamp",
                "toolName",
                "toolArgs",
                "toolResult",
                "prompt",
                "transcriptPath",
                "hookName",
                "cwd",
            ],
        )
    };
    (
        prop::sample::select(events),
        prop::collection::btree_map(prop::sample::select(keys), leaf(), 0..8),
    )
        .prop_map(|(event, fields)| {
            (
                event.to_owned(),
                Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()),
            )
        })
}

/// Whether the reader must refuse it: it names no session that can be a folder.
fn has_no_session(agent: &str, p: &Value) -> bool {
    let key = if agent == "cursor" {
        "conversation_id"
    } else {
        "sessionId"
    };
    !p.get(key)
        .and_then(Value::as_str)
        .is_some_and(agent_strace::store::is_valid_session_id)
}

#[test]
fn malformed_cursor_and_copilot_payloads_never_fail_print_or_fake_an_event() {
    for agent in ["cursor", "copilot"] {
        let env = TestEnv::new();
        let mut runner = TestRunner::new(Config {
            cases: 150,
            ..Config::default()
        });
        runner
            .run(&malformed(agent), |(event, mut payload)| {
                if let Some(map) = payload.as_object_mut() {
                    map.insert("cwd".into(), cwd(&env).into());
                }
                let before = env.sessions();
                let run = hook(&env, &["hook", "--agent", agent, &event], &payload, &[]);
                prop_assert_eq!(run.code, 0, "{}", run.stderr);
                prop_assert_eq!(run.stdout.as_str(), "");
                if has_no_session(agent, &payload) {
                    prop_assert_eq!(env.sessions(), before, "{}", payload);
                }
                Ok(())
            })
            .unwrap();
        // Whatever was recorded reads back as whole events of the agent.
        for session in env.sessions() {
            assert_eq!(env.meta(&session)["agent_name"], agent);
            let _ = env.typed_events(&session);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The real Copilot CLI 1.0.102, offline against a fake model endpoint (docs/agents.md §7)

/// Copilot CLI's binary, installed by tests/run.sh (or named by `AGENT_STRACE_COPILOT`).
fn copilot_cli() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("AGENT_STRACE_COPILOT")
        .filter(|p| !p.is_empty())
        .map_or_else(
            || {
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("target/agentcli/copilot/node_modules/@github/copilot-linux-x64/copilot")
            },
            std::path::PathBuf::from,
        );
    path.is_file().then_some(path)
}

/// Runs `copilot -p "read .env"` in the test's folder with our hooks (camelCase events, `hook
/// --agent copilot`, as setup writes them) in its user hooks folder; returns what it printed.
fn run_copilot(env: &TestEnv, copilot: &Path) -> String {
    std::fs::write(env.path().join(".env"), "SECRET=3\n").unwrap();
    let home = env.path().join("copilot-home");
    let hooks = home.join(".copilot/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let bin = crate::common::bin();
    let events = [
        "sessionStart",
        "userPromptSubmitted",
        "preToolUse",
        "postToolUse",
        "postToolUseFailure",
        "agentStop",
        "sessionEnd",
    ];
    let mut config = serde_json::Map::new();
    for event in events {
        config.insert(
            event.into(),
            json!([{"type": "command", "bash": format!("{} hook --agent copilot {event}", bin.display()), "timeoutSec": 30}]),
        );
    }
    std::fs::write(
        hooks.join("agent-strace.json"),
        json!({"version": 1, "hooks": config}).to_string(),
    )
    .unwrap();
    let (_model, model_port) = crate::common::net::fake_responses_model();
    let cache = copilot.ancestors().nth(4).map_or_else(
        || env.home.path().join("pkgcache"),
        |prefix| prefix.join("pkgcache"),
    );
    let mut cmd = Command::new(copilot);
    cmd.args(["-p", "read .env", "--allow-all-tools", "--model", "gpt-5.1"])
        .current_dir(env.path())
        .env("HOME", &home)
        .env("AGENT_STRACE_HOME", env.home.path())
        .env("COPILOT_PKG_CACHE_HOME", cache)
        .env("COPILOT_OFFLINE", "1")
        .env("COPILOT_AUTO_UPDATE", "false")
        .env(
            "COPILOT_PROVIDER_BASE_URL",
            format!("http://127.0.0.1:{model_port}/v1"),
        )
        .env("COPILOT_PROVIDER_TYPE", "openai")
        .env("COPILOT_PROVIDER_WIRE_API", "responses")
        .env("COPILOT_PROVIDER_API_KEY", "x")
        .env("COPILOT_PROVIDER_MODEL_ID", "gpt-5.1")
        .env_remove("AGENT_TRACE_DIR")
        .env_remove("CLAUDE_PROJECT_DIR")
        .stdin(std::process::Stdio::null());
    for var in AGENT_VARS {
        cmd.env_remove(var);
    }
    let out = cmd.output().expect("copilot runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "copilot failed: {text}");
    text
}

#[test]
fn the_real_copilot_cli_is_recorded_as_copilot_and_denied_in_its_own_words() {
    let Some(copilot) = copilot_cli() else {
        eprintln!(
            "skipped: Copilot CLI 1.0.102 is not installed in target/agentcli/copilot (tests/run.sh \
             installs it) and AGENT_STRACE_COPILOT is not set"
        );
        return;
    };
    // A turn: the prompt, `bash cat .env`, its result, the answer "done".
    let env = TestEnv::new();
    run_copilot(&env, &copilot);
    assert_no_hook_errors(&env);
    let sessions = env.sessions();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let session = &sessions[0];
    assert_eq!(env.meta(session)["agent_name"], "copilot");
    let events = env.events(session);
    let calls = of_type(&events, "tool_call");
    assert_eq!(calls.len(), 1, "{events:#?}");
    assert_eq!(calls[0]["data"]["tool_name"], "bash");
    assert_eq!(calls[0]["data"]["arguments"]["command"], "cat .env");
    assert_results_linked(&events);
    assert_eq!(
        of_type(&events, "user_prompt")[0]["data"]["prompt"],
        "read .env"
    );
    // Copilot may write its answer behind its hooks (seen on clean-clone CI runs): then the
    // stop records an empty answer that names the file the answer goes to, and the session's
    // end records it late if it is there by then, or else leaves a follower that records it
    // once Copilot has written it. Either way the answer is recorded, once, under the stop.
    let mut events = events;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    while of_type(&events, "assistant_response")
        .iter()
        .all(|a| a["data"]["text"] == "")
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(100));
        events = env.events(session);
    }
    let answers = of_type(&events, "assistant_response");
    let said: Vec<&Value> = answers
        .iter()
        .map(|a| &a["data"]["text"])
        .filter(|t| *t != "")
        .collect();
    assert_eq!(said, ["done"], "{answers:#?}");
    if answers[0]["data"]["text"] == "" {
        assert_eq!(answers.len(), 2, "{answers:#?}");
        assert_eq!(answers[1]["data"]["late"], true, "{answers:#?}");
        assert_eq!(answers[1]["parent_id"], answers[0]["event_id"]);
    }
    assert_eq!(of_type(&events, "session_end").len(), 1);

    // The same turn under a policy forbidding .env: Copilot is told no, and says so.
    let env = TestEnv::new();
    forbid_env(&env);
    let printed = run_copilot(&env, &copilot);
    let session = &env.sessions()[0];
    let events = env.events(session);
    let calls = of_type(&events, "tool_call");
    assert_eq!(calls.len(), 1, "{events:#?}");
    assert!(calls[0]["data"].get("policy_denied").is_some());
    assert!(of_type(&events, "tool_result").is_empty(), "{events:#?}");
    assert!(printed.contains("Denied by preToolUse hook"), "{printed}");
}

/// A Copilot or VS Code stamp no event can have was taken as the event's time: a session
/// started a few milliseconds after 1970 was 57 years long in `explain` and `standup`, one
/// started at `1e308` left every total of `budget-report` and `dashboard`, an end stamped
/// 1970 showed the session still running, and a 1970 stamp on one call booked its cost to
/// 1970-01-01. Such a stamp is kept as sent and the hook's own clock times the event.
#[test]
fn an_agent_stamp_no_event_can_have_is_kept_and_the_hooks_clock_times_the_event() {
    let env = TestEnv::new();
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    };
    let copilot = |session: &str, event: &str, at: Value, extra: Value| {
        let mut p = json!({"sessionId": session, "timestamp": at, "cwd": cwd(&env)});
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        (vec![event.to_owned()], p)
    };
    let early = "5a253198-fe35-44bd-a697-00641633c4b3";
    let huge = "5a253198-fe35-44bd-a697-00641633c4b4";
    let ended = "5a253198-fe35-44bd-a697-00641633c4b5";
    // Each hook is played as it is stamped: a well stamped event when it is played (`None`:
    // after every hook before it, a millisecond on for the stamp's whole milliseconds; a
    // stamp a few milliseconds earlier fell before a clock-stamped start on a loaded host),
    // or with the stamp given.
    let start = json!({"source": "new", "initialPrompt": "hi"});
    let prompt = json!({"prompt": "hi"});
    let end = json!({"reason": "complete"});
    for (session, event, at, extra) in [
        (early, "sessionStart", Some(json!(2.5)), &start),
        (early, "userPromptSubmitted", None, &prompt),
        (early, "sessionEnd", None, &end),
        (huge, "sessionStart", Some(json!(1e308)), &start),
        (huge, "userPromptSubmitted", None, &prompt),
        (huge, "sessionEnd", None, &end),
        (ended, "sessionStart", None, &start),
        (ended, "userPromptSubmitted", None, &prompt),
        (ended, "sessionEnd", Some(json!(2.5)), &end),
    ] {
        let at = at.unwrap_or_else(|| json!(now_ms() + 1));
        let step = copilot(session, event, at, extra.clone());
        play(&env, &[step], &[("COPILOT_CLI", "1")]);
    }
    let listed = env.run(&["list", "--format", "json"]).success().json();
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), 3, "{listed}");
    for row in rows {
        let duration = row["duration_s"].as_f64();
        assert!(duration.is_some_and(|d| (0.0..60.0).contains(&d)), "{row}");
    }
    // The stamp is kept as the agent sent it.
    let start = &env.events(early)[0];
    assert_eq!(start["data"]["timestamp"], 2.5, "{start}");
    let explain = env.run(&["explain", early]).success().stdout.clone();
    assert!(!explain.contains("499"), "{explain}");
    let show = env.run(&["show", ended]).success().stdout.clone();
    assert!(!show.contains("still running"), "{show}");
    let report = env
        .run(&["budget-report", "--format", "json"])
        .success()
        .json();
    assert_eq!(report["sessions"], 3, "{report}");

    // VS Code: a 1970 stamp on one call of a session of today.
    let vscode = "vs-stamped-1970";
    let iso = |offset: i64| {
        (chrono::Utc::now() + chrono::Duration::seconds(offset))
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    };
    let vs = |event: &str, at: String, extra: Value| {
        let mut p = json!({"sessionId": vscode, "hookEventName": event, "timestamp": at,
                           "cwd": cwd(&env)});
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        (vec![event.to_owned()], p)
    };
    let call = json!({"tool_name": "run_in_terminal", "tool_input": {"command": "ls"},
                      "tool_use_id": "a"});
    let mut result = call.clone();
    result["tool_response"] = "ok".into();
    play(
        &env,
        &[
            vs("UserPromptSubmit", iso(0), json!({"prompt": "go"})),
            vs("PreToolUse", "1970-01-01T00:00:00Z".to_owned(), call),
            vs("PostToolUse", iso(1), result),
            vs("Stop", iso(2), json!({"stop_hook_active": false})),
        ],
        &[],
    );
    let events = env.events(vscode);
    let call = &of_type(&events, "tool_call")[0];
    assert!(call["timestamp"].as_f64().unwrap() > 1.7e9, "{call}");
    assert_eq!(call["data"]["timestamp"], "1970-01-01T00:00:00Z", "{call}");
}

/// Copilot's `toolResult.resultType` `denied` (the user's "no") and `rejected` (a policy or
/// hook of theirs, before it ran) were counted as failures: `explain` listed a refused
/// `rm -rf /` under Failures with `Rejected: 0`. They are refusals now; `timeout`, which
/// counted as a success, is a failure.
#[test]
fn copilot_calls_denied_or_rejected_are_refusals() {
    let env = TestEnv::new();
    let session = "5a253198-fe35-44bd-a697-00641633c4b4";
    let mut steps = Vec::new();
    for (i, (command, kind)) in [
        ("rm -rf /", "denied"),
        ("curl x", "rejected"),
        ("sleep 100", "timeout"),
        // A tool's own failure in the words of a refusal is still a failure.
        ("./check", "failure"),
    ]
    .into_iter()
    .enumerate()
    {
        let at = 1_796_017_193_000_u64 + 1000 * i as u64;
        let call = json!({"sessionId": session, "timestamp": at, "cwd": cwd(&env),
                          "toolName": "bash", "toolArgs": {"command": command}});
        let mut result = call.clone();
        result["timestamp"] = (at + 500).into();
        let text = if kind == "failure" {
            "User rejected tool use: not on main"
        } else {
            "no"
        };
        result["toolResult"] = json!({"resultType": kind, "textResultForLlm": text});
        steps.push((vec!["preToolUse"], call));
        steps.push((vec!["postToolUse"], result));
    }
    play(&env, &steps, &[]);
    let explain = env.run(&["explain", session]).success().stdout.clone();
    assert!(explain.contains("Errors: 2   Rejected: 2"), "{explain}");
    let failures = explain
        .split("Failures (2):")
        .nth(1)
        .and_then(|rest| rest.split("Rejected by").next())
        .unwrap_or_default();
    assert!(
        failures.contains("sleep 100")
            && failures.contains("./check")
            && !failures.contains("rm -rf"),
        "{explain}"
    );
}

/// A command that exited non-zero is a `success` to Copilot's postToolUse hook, its code in the
/// last line of its words only (`<shellId: 0 completed with exit code 1>`, 1.0.102), and was
/// recorded as one with the effects its line names: `rm important.txt`, refused by the system,
/// showed "Deleted: important.txt" and `Errors: 0`. It failed, and deleted nothing; the same
/// command that exited 0 still deletes its file.
#[test]
fn a_command_that_exited_non_zero_failed_through_copilots_hook() {
    let env = TestEnv::new();
    for (session, code, words) in [
        (
            "22222222-2222-3333-4444-555555555555",
            1,
            "rm: cannot remove 'important.txt': Permission denied\n",
        ),
        ("22222222-2222-3333-4444-666666666666", 0, ""),
    ] {
        let args = json!({"command": "rm important.txt", "description": "rm"});
        let start = json!({"sessionId": session, "timestamp": 1_796_017_193_150_u64,
            "source": "new", "initialPrompt": "rm it"});
        let pre = json!({"sessionId": session, "timestamp": 1_796_017_193_519_u64,
            "toolName": "bash", "toolArgs": args});
        let text = format!("{words}<shellId: 0 completed with exit code {code}>");
        let post = json!({"sessionId": session, "timestamp": 1_796_017_193_810_u64,
            "toolName": "bash", "toolArgs": args,
            "toolResult": {"resultType": "success", "textResultForLlm": text}});
        for (event, payload) in [
            ("sessionStart", start),
            ("preToolUse", pre),
            ("postToolUse", post),
        ] {
            let mut payload = payload;
            payload["cwd"] = env.path().to_string_lossy().into_owned().into();
            env.run_with_stdin(
                &["hook", "--agent", "copilot", event],
                payload.to_string().as_bytes(),
            )
            .success();
        }
    }
    let failed = env
        .run(&["explain", "22222222-2222-3333-4444-555555555555"])
        .success()
        .stdout
        .clone();
    assert!(failed.contains("Errors: 1"), "{failed}");
    assert!(!failed.contains("Deleted:"), "{failed}");
    let deleted = env
        .run(&["explain", "22222222-2222-3333-4444-666666666666"])
        .success()
        .stdout
        .clone();
    assert!(deleted.contains("Errors: 0"), "{deleted}");
    assert!(deleted.contains("Deleted:"), "{deleted}");
}
