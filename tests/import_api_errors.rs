//! `import` of a Claude Code transcript whose turn an API error ended: the line Claude Code
//! writes for it (`isApiErrorMessage`, the `<synthetic>` model, no usage) is the turn's error,
//! as the StopFailure hook records it, never an answer or a response.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::{TestEnv, shared};

/// The session of `marot__spotter/short.jsonl`.
const SID: &str = "55604662-cf2a-4331-851a-ec234028f8ca";

/// What Claude Code showed for the error, as its line holds it.
const SHOWN: &str = r#"API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":null}"#;

/// A line of the real shape, sharing the fields of `like` (a line of the same transcript).
fn line_like(like: &Value, fields: Value) -> String {
    let mut line = json!({});
    for key in [
        "isSidechain",
        "userType",
        "cwd",
        "sessionId",
        "version",
        "gitBranch",
    ] {
        line[key] = like[key].clone();
    }
    for (k, v) in fields.as_object().unwrap() {
        line[k] = v.clone();
    }
    line.to_string()
}

/// A user's prompt at `at`, after the line `parent`.
fn prompt(like: &Value, uuid: &str, parent: &str, at: &str, text: &str) -> String {
    line_like(
        like,
        json!({"parentUuid": parent, "type": "user", "uuid": uuid, "timestamp": at,
               "message": {"role": "user", "content": text}}),
    )
}

/// The line Claude Code writes when an API error ends the turn: zero usage, no model.
fn api_error(like: &Value, uuid: &str, parent: &str, at: &str) -> String {
    let zero = json!({"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0,
                      "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
                      "service_tier": null,
                      "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0}});
    line_like(
        like,
        json!({"parentUuid": parent, "type": "assistant", "uuid": uuid, "timestamp": at,
               "message": {"id": format!("{uuid}-m"), "container": null, "model": "<synthetic>",
                           "role": "assistant", "stop_reason": "stop_sequence",
                           "stop_sequence": "", "type": "message", "usage": zero,
                           "content": [{"type": "text", "text": SHOWN}],
                           "context_management": null},
               "error": "server_error", "isApiErrorMessage": true, "apiErrorStatus": 529}),
    )
}

/// A real transcript (`short.jsonl`) copied into `dir`, then a prompt the API error answered.
fn transcript_with_api_error(dir: &Path) -> PathBuf {
    let real = shared().join("corpus/claude-code/marot__spotter/short.jsonl");
    let text = std::fs::read_to_string(real).unwrap();
    let like: Value = serde_json::from_str(text.lines().nth(3).unwrap()).unwrap();
    let path = dir.join(format!("{SID}.jsonl"));
    let added = [
        prompt(
            &like,
            "e0000000-0000-4000-8000-000000000001",
            "x",
            "2026-02-10T21:17:00.000Z",
            "try again",
        ),
        api_error(
            &like,
            "e0000000-0000-4000-8000-000000000002",
            "e0000000-0000-4000-8000-000000000001",
            "2026-02-10T21:17:05.000Z",
        ),
    ];
    std::fs::write(&path, text + &added.join("\n") + "\n").unwrap();
    path
}

fn import_json(env: &TestEnv, file: &Path) -> Value {
    let run = env.run(&["import", "--format", "json", &file.to_string_lossy()]);
    run.success();
    run.json()[0].clone()
}

fn errors_of(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["event_type"] == "error")
        .collect()
}

/// The API error that ended a turn was imported as the model's answer ("API Error: 529 …")
/// and as a response of the `<synthetic>` model: no error counted, a response too many. It is
/// the turn's error, with the keys StopFailure's hook writes, counted apart from the tools'
/// by `stats`, `list` and `explain`; the tokens are the transcript's own (ccusage's figures).
#[test]
fn an_api_error_line_is_imported_as_the_turns_error() {
    let env = TestEnv::new();
    let file = transcript_with_api_error(env.path());
    let report = import_json(&env, &file);
    assert_eq!(report["status"], "imported", "{report}");
    assert_eq!(report["turn_errors"], 1, "{report}");
    // ccusage 20.0.24 on short.jsonl (corpus PROVENANCE.md): 1 response, 3 / 13 / 13835 / 11515.
    assert_eq!(report["responses"], 1, "{report}");
    let t = &report["tokens"];
    assert_eq!(
        [
            &t["input"],
            &t["output"],
            &t["cache_creation"],
            &t["cache_read"]
        ],
        [3, 13, 13835, 11515]
    );

    let events = env.events(SID);
    let errors = errors_of(&events);
    // The two refused calls' errors, then the turn's.
    let turn = errors.last().unwrap();
    assert_eq!(
        turn["data"],
        json!({"error": format!("API error (server_error): {SHOWN}"),
               "error_type": "server_error", "last_assistant_message": SHOWN,
               // Beside `error`, for the Python tool's readers.
               "message": format!("API error (server_error): {SHOWN}")}),
        "{turn}"
    );
    // 2026-02-10T21:17:05Z, the line's time.
    assert_eq!(
        turn["timestamp"].as_f64().map(f64::round),
        Some(1_770_758_225.0)
    );
    assert!(
        !events.iter().any(|e| e["data"]["model"] == "<synthetic>"
            || (e["event_type"] == "assistant_response"
                && e["data"]["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("API Error")))),
        "no response, no answer"
    );

    let stats = env.run(&["stats", SID, "--color", "never"]);
    assert!(
        stats
            .success()
            .stdout
            .contains("(0 of tools, 1 of the turn)"),
        "{}",
        stats.stdout
    );
    let list = env.run(&["list", "--format", "json"]).success().json();
    let listed = &list.as_array().unwrap()[0];
    // The two refused calls are rejections, no errors.
    assert_eq!(
        (
            listed["errors"].as_u64(),
            listed["tool_errors"].as_u64(),
            listed["rejections"].as_u64()
        ),
        (Some(1), Some(0), Some(2)),
        "{listed}"
    );
    let explain = env.run(&["explain", SID, "--color", "never"]);
    let out = &explain.success().stdout;
    assert!(
        out.contains("Errors of the turn, not of a tool (1):")
            && out.contains("API error (server_error): API Error: 529"),
        "{out}"
    );
}

/// Importing the file again adds nothing; when it grew, only what is new is read, and the
/// error is still counted once.
#[test]
fn an_api_error_is_imported_once() {
    let env = TestEnv::new();
    let file = transcript_with_api_error(env.path());
    import_json(&env, &file);
    let before = std::fs::read(env.store().join(SID).join("events.ndjson")).unwrap();
    let again = import_json(&env, &file);
    assert_eq!(again["status"], "already_imported", "{again}");
    assert_eq!(
        std::fs::read(env.store().join(SID).join("events.ndjson")).unwrap(),
        before
    );

    let like: Value = serde_json::from_str(
        std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .nth(3)
            .unwrap(),
    )
    .unwrap();
    let more = prompt(
        &like,
        "e0000000-0000-4000-8000-000000000003",
        "e0000000-0000-4000-8000-000000000002",
        "2026-02-10T21:18:00.000Z",
        "once more",
    );
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(&more);
    text.push('\n');
    std::fs::write(&file, text).unwrap();
    let grown = import_json(&env, &file);
    assert_eq!(grown["status"], "grown", "{grown}");
    assert_eq!(grown["turn_errors"], 0, "{grown}");
    let events = env.events(SID);
    let turn_errors = errors_of(&events)
        .iter()
        .filter(|e| e["data"]["error_type"] == "server_error")
        .count();
    assert_eq!(turn_errors, 1);
}

/// A session its hooks recorded, whose StopFailure recorded the error: the import leaves it as
/// it is (one error, the hook's), and what it says the transcript holds beyond the session
/// takes the error's line for no response, no answer and no error the session lacks. Without
/// StopFailure (Claude Code before 2.1.78), it says the session has no record of the error.
#[test]
fn an_api_error_the_hooks_recorded_is_not_counted_again() {
    let left_out = |with_error: bool, stop_failure: bool| {
        let env = TestEnv::new();
        let file = if with_error {
            transcript_with_api_error(env.path())
        } else {
            let real = shared().join("corpus/claude-code/marot__spotter/short.jsonl");
            let path = env.path().join(format!("{SID}.jsonl"));
            std::fs::copy(real, &path).unwrap();
            path
        };
        let hook = |event: &str, extra: Value| {
            let mut p = json!({"session_id": SID, "hook_event_name": event});
            for (k, v) in extra.as_object().unwrap() {
                p[k] = v.clone();
            }
            env.hook(event, &p).success();
        };
        hook(
            "SessionStart",
            json!({"source": "startup", "transcript_path": file.to_string_lossy()}),
        );
        hook("UserPromptSubmit", json!({"prompt": "try again"}));
        if stop_failure {
            hook(
                "StopFailure",
                json!({"error": "server_error", "last_assistant_message": SHOWN}),
            );
        }
        let report = import_json(&env, &file);
        assert_eq!(report["status"], "recorded_by_hooks", "{report}");
        let list = env.run(&["list", "--format", "json"]).success().json();
        let listed = &list.as_array().unwrap()[0];
        let recorded = u64::from(stop_failure);
        assert_eq!(
            (listed["errors"].as_u64(), listed["tool_errors"].as_u64()),
            (Some(recorded), Some(0)),
            "{listed}"
        );
        let text = env.run(&["import", &file.to_string_lossy()]);
        (
            report["not_imported"].clone(),
            text.success().stdout.clone(),
        )
    };
    let (with_error, _) = left_out(true, true);
    assert_eq!(with_error, left_out(false, true).0);
    assert_eq!(with_error["turn_errors"], 0, "{with_error}");
    let (unrecorded, text) = left_out(true, false);
    assert_eq!(unrecorded["turn_errors"], 1, "{unrecorded}");
    assert!(
        text.contains("and 1 API error the session has no record of (each ended a turn)"),
        "{text}"
    );
}

/// A session imported before the API-error line was read as the turn's error kept its old
/// reading (the error as the model's answer, no error counted) however often `import --all`
/// ran, the transcript unchanged. The importer's format changed with it: a session an older
/// format made is imported again whole, once, and then is up to date.
#[test]
fn a_session_an_older_importer_made_is_imported_again_whole() {
    let env = TestEnv::new();
    let file = transcript_with_api_error(env.path());
    assert_eq!(import_json(&env, &file)["status"], "imported");
    let errors = errors_of(&env.events(SID)).len();
    // What an import of the previous format left: its record says so, and its events hold the
    // error as an answer, without the error.
    let folder = env.store().join(SID);
    let record = std::fs::read_to_string(folder.join(".import")).unwrap();
    let (head, rest) = record.split_once('\n').unwrap();
    let mut head: Value = serde_json::from_str(head).unwrap();
    let format = head["format"].as_u64().unwrap();
    head["format"] = json!(format - 1);
    let events = std::fs::read_to_string(folder.join("events.ndjson")).unwrap();
    let mut old = String::new();
    for line in events.lines() {
        if !line.contains("\"event_type\":\"error\"") {
            old.push_str(line);
            old.push('\n');
        }
    }
    std::fs::write(folder.join("events.ndjson"), &old).unwrap();
    head["events"] = json!(old.len());
    std::fs::write(folder.join(".import"), format!("{head}\n{rest}")).unwrap();
    assert!(errors_of(&env.events(SID)).is_empty());

    let again = import_json(&env, &file);
    assert_ne!(again["status"], "already_imported", "{again}");
    assert_eq!(errors_of(&env.events(SID)).len(), errors);
    assert_eq!(import_json(&env, &file)["status"], "already_imported");
}
