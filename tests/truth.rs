//! What every command says about a session agrees (issue 10): a call the user refused is a
//! rejection wherever a session's errors are counted (list, replay's header and tree, standup,
//! the index's `sessions` view), in the words `stats` uses, on a real transcript of the corpus.

use serde_json::Value;

use crate::common::{TestEnv, shared};

/// ../shared/corpus: a resumed session with failed calls and two calls the user refused
/// ("The user doesn't want to proceed with this tool use …").
const MIXED: &str = "moredip__session-share/general-tool-calls.jsonl";
const MIXED_ID: &str = "88f04c6a-d128-40bf-96b3-6b2aa787f62c";

fn imported(path: &str) -> TestEnv {
    let env = TestEnv::new();
    let file = shared().join("corpus/claude-code").join(path);
    env.run(&["import", file.to_str().unwrap()]).success();
    env
}

/// `stats`' figures: (tool calls, errors, rejections).
fn stats(env: &TestEnv, id: &str) -> (u64, u64, u64) {
    let s = env.run(&["stats", id, "--format", "json"]).success().json();
    let n = |k: &str| s[k].as_u64().unwrap();
    (n("tool_calls"), n("errors"), n("rejections"))
}

#[test]
fn list_counts_failures_and_rejections_apart_as_stats_does() {
    let env = imported(MIXED);
    let (calls, errors, rejections) = stats(&env, MIXED_ID);
    assert!(errors > 0 && rejections > 0, "the transcript has both");
    let list = env.run(&["list", "--format", "json"]).success().json();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == MIXED_ID)
        .unwrap();
    assert_eq!(
        (
            row["tool_calls"].as_u64(),
            row["errors"].as_u64(),
            row["rejections"].as_u64()
        ),
        (Some(calls), Some(errors), Some(rejections)),
        "{row}"
    );
    // The text: a REJECTED column beside ERRORS, in that session's row.
    let text = env.run(&["list"]).success().stdout.clone();
    let head: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
    let line: Vec<&str> = text
        .lines()
        .find(|l| l.starts_with(MIXED_ID))
        .unwrap()
        .split_whitespace()
        .collect();
    let at = |name: &str| head.iter().position(|h| *h == name).unwrap();
    // STARTED and DURATION take two words each in a row ("2026-01-21 15:30", "6h 26m").
    let shift = 2;
    assert_eq!(line[at("ERRORS") + shift], errors.to_string(), "{text}");
    assert_eq!(
        line[at("REJECTED") + shift],
        rejections.to_string(),
        "{text}"
    );
}

#[test]
fn the_replay_header_and_tree_count_rejections_apart() {
    let env = imported(MIXED);
    let (calls, errors, rejections) = stats(&env, MIXED_ID);
    let replay = env.run(&["replay", MIXED_ID]).success().stdout.clone();
    let header: Vec<&str> = replay.lines().take_while(|l| !l.starts_with('#')).collect();
    assert!(
        header.contains(&format!("Tool calls: {calls}").as_str()),
        "{header:?}"
    );
    assert!(
        header.contains(&format!("Errors: {errors}   Rejected: {rejections}").as_str()),
        "{header:?}"
    );
    // Claude Code's `<synthetic>` stand-in answered nothing: no model of the session.
    let models = header.iter().find(|l| l.starts_with("Models: ")).unwrap();
    assert!(!models.contains("synthetic"), "{models}");
    let tree = env
        .run(&["replay", MIXED_ID, "--tree"])
        .success()
        .stdout
        .clone();
    let root = tree.lines().next().unwrap();
    assert!(
        root.contains(&format!(
            "{calls} tool calls, {errors} errors, {rejections} rejected"
        )),
        "{root}"
    );
}

#[test]
fn standup_and_the_sessions_view_count_rejections_apart() {
    let env = imported(MIXED);
    let (_, errors, rejections) = stats(&env, MIXED_ID);
    let standup = env
        .run(&["standup", MIXED_ID, "--format", "json"])
        .success()
        .json();
    assert_eq!(
        (standup["errors"].as_u64(), standup["rejections"].as_u64()),
        (Some(errors), Some(rejections)),
        "{standup}"
    );
    let text = env.run(&["standup", MIXED_ID]).success().stdout.clone();
    let last = text.lines().last().unwrap();
    assert!(last.ends_with(&format!("{rejections} rejected")), "{last}");

    let rows = env
        .run(&[
            "sql",
            &format!("SELECT errors, rejections FROM sessions WHERE session_id = '{MIXED_ID}'"),
            "--format",
            "json",
        ])
        .success()
        .json();
    let row: &Value = &rows.as_array().unwrap()[0];
    assert_eq!(
        (row["errors"].as_u64(), row["rejections"].as_u64()),
        (Some(errors), Some(rejections)),
        "{rows}"
    );
    // meta.json keeps the Python tool's figure: every error event, refusals among them.
    assert_eq!(
        env.meta(MIXED_ID)["errors"].as_u64(),
        Some(errors + rejections)
    );
}

/// ../shared/corpus: a session whose subagents ran in the background; Claude Code wrote each
/// one's `<task-notification>` into the user's turn, followed by "Full transcript available
/// at: …".
const BACKGROUND: &str = "moredip__session-share/0ccf1a04-1b4c-43b6-8aa5-79e41db43a68.jsonl";
const BACKGROUND_ID: &str = "0ccf1a04-1b4c-43b6-8aa5-79e41db43a68";

#[test]
fn a_task_notification_names_no_phase_and_is_no_prompt() {
    let env = imported(BACKGROUND);
    let explained = env
        .run(&["explain", BACKGROUND_ID, "--format", "json"])
        .success()
        .json();
    let labels: Vec<&str> = explained["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert!(!labels.is_empty());
    for label in &labels {
        assert!(
            !label.contains('<'),
            "machine text names a phase: {labels:?}"
        );
    }
    let standup = env
        .run(&["standup", BACKGROUND_ID, "--format", "json"])
        .success()
        .json();
    for approach in standup["approaches"].as_array().unwrap() {
        let label = approach["label"].as_str().unwrap();
        assert!(!label.contains('<'), "{label}");
    }
    // The notifications are shown by replay as machine text, not as a person's prompts.
    let replay = env.run(&["replay", BACKGROUND_ID]).success().stdout.clone();
    assert!(
        !replay.contains("👤 user_prompt\n             \"<task-notification>"),
        "{replay}"
    );
    assert!(!replay.contains("Full transcript available"), "{replay}");
}

#[test]
fn import_reports_failures_and_rejections_apart() {
    let env = TestEnv::new();
    let file = shared().join("corpus/claude-code").join(MIXED);
    let reports = env
        .run(&["import", "--format", "json", file.to_str().unwrap()])
        .success()
        .json();
    let (_, errors, rejections) = stats(&env, MIXED_ID);
    let report = &reports[0];
    assert_eq!(
        (
            report["tool_errors"].as_u64(),
            report["tool_rejections"].as_u64()
        ),
        (Some(errors), Some(rejections)),
        "{report}"
    );
    let text = crate::common::imported_text(&file);
    assert!(
        text.contains(&format!("({errors} failed, {rejections} rejected)")),
        "{text}"
    );
}

/// ../shared/corpus: a session with two subagents (a Task's and a compaction's).
const WITH_SUBAGENTS: &str = "marot__spotter/258c7280-ae70-4798-800f-63464d01a85d.jsonl";
const WITH_SUBAGENTS_ID: &str = "258c7280-ae70-4798-800f-63464d01a85d";

#[test]
fn the_replay_header_gives_the_cost_list_and_cost_give() {
    let env = imported(WITH_SUBAGENTS);
    let cost = env
        .run(&["cost", WITH_SUBAGENTS_ID, "--format", "json"])
        .success()
        .json();
    let alone = env
        .run(&[
            "cost",
            WITH_SUBAGENTS_ID,
            "--no-subagents",
            "--format",
            "json",
        ])
        .success()
        .json();
    let with = cost["cost_usd"].as_f64().unwrap();
    assert!(with > alone["cost_usd"].as_f64().unwrap() + 0.1, "{cost}");
    let list = env.run(&["list", "--format", "json"]).success().json();
    let listed = list[0]["cost_usd"].as_f64().unwrap();
    assert!((listed - with).abs() < 1e-6, "{listed} {with}");
    let replay = env
        .run(&["replay", WITH_SUBAGENTS_ID])
        .success()
        .stdout
        .clone();
    let line = replay
        .lines()
        .find(|l| l.starts_with("Cost: $"))
        .unwrap_or_else(|| panic!("{replay}"));
    let shown: f64 = line["Cost: $".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((shown - with).abs() < 0.006, "{line} but cost says {with}");
    assert!(line.ends_with("(its 2 subagents included)"), "{line}");
    // Models that answered nothing are not named.
    let models = replay.lines().find(|l| l.starts_with("Models: ")).unwrap();
    assert!(!models.contains('<'), "{models}");
}

#[test]
fn inspect_into_a_reader_that_goes_away_exits_zero() {
    use std::io::Read;
    use std::process::Stdio;
    let env = imported(WITH_SUBAGENTS);
    for args in [
        vec!["inspect", WITH_SUBAGENTS_ID],
        vec!["replay", WITH_SUBAGENTS_ID],
    ] {
        // `inspect | head -c 100`: the reader takes a little, then closes the pipe.
        let mut child = env
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut some = [0_u8; 100];
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut some)
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{args:?}: {output:?}");
        assert!(output.stderr.is_empty(), "{args:?}: {output:?}");
    }
}

/// A session that recorded its model calls' responses and no request (OpenTelemetry logs joined
/// to a hook session, an agent's log with no request in it) made a model call for each: `stats`
/// said "LLM requests: 0" beside its tokens, and `list` and `sql`'s `sessions` 0 too. A request
/// and its response are one call, and a session's total usage (older Copilot CLI) is none.
#[test]
fn responses_with_no_request_are_model_calls_in_every_view() {
    use agent_strace::model::{EventType, Tokens};
    use serde_json::json;

    use crate::common::SessionBuilder;

    let env = TestEnv::new();
    let tokens = Tokens {
        input: 100,
        output: 10,
        ..Tokens::default()
    };
    let mut s = SessionBuilder::new("answered").prompt("go");
    for at in [1.0, 2.0, 3.0] {
        s = s.at(at).llm_response("claude-sonnet-4-5", tokens);
    }
    let id = s
        .at(4.0)
        .event(
            EventType::LlmResponse,
            json!({"model": "claude-sonnet-4-5", "scope": "session",
                   "usage": {"input_tokens": 300, "output_tokens": 30}}),
        )
        .at(5.0)
        .session_end(json!({}))
        .write(&env);
    // Counted from its events, as a store of ours is (no meta.json to believe).
    std::fs::remove_file(env.store().join(&id).join("meta.json")).unwrap();
    let stats = env
        .run(&["stats", &id, "--format", "json"])
        .success()
        .json();
    assert_eq!(stats["llm_requests"], 3, "{stats:#}");
    let text = env.run(&["stats", &id]).success().stdout.clone();
    assert!(text.contains("LLM requests: 3 "), "{text}");
    let list = env.run(&["list", "--format", "json"]).success().json();
    assert_eq!(list[0]["llm_requests"], 3, "{list:#}");
    let sql = env
        .run(&[
            "sql",
            "--format",
            "json",
            "SELECT llm_requests FROM sessions",
        ])
        .success()
        .json();
    assert_eq!(sql, json!([{"llm_requests": 3}]), "{sql:#}");
}

/// A session that recorded some model calls by their request alone (a Gemini CLI call cut off
/// before its response) and others by their response alone (OpenTelemetry logs) made a call for
/// each: counting the larger side said 6 model calls for 9, in `stats`, `list`, `sql` and
/// `meta.json` alike. A response is paired with the request it names (its `parent_id`, or the
/// `request_id` both carry, whichever came first), and each pair is one call.
#[test]
fn requests_alone_and_responses_alone_are_each_a_model_call_in_every_view() {
    use agent_strace::model::{EventType, Tokens};
    use serde_json::json;

    use crate::common::SessionBuilder;

    let env = TestEnv::new();
    let tokens = Tokens {
        input: 100,
        output: 10,
        ..Tokens::default()
    };
    let request = |s: SessionBuilder, data| s.event(EventType::LlmRequest, data);
    let model = json!({"model": "gemini-2.5-pro"});
    // Three requests no response answers (e02, e03, e04).
    let mut s = SessionBuilder::new("mixed").prompt("go");
    for at in [1.0, 2.0, 3.0] {
        s = request(s.at(at), model.clone());
    }
    // Two calls recorded whole, the response naming its request (e05-e06, e07-e08).
    for (at, id) in [(4.0, "e05"), (5.0, "e07")] {
        s = request(s.at(at), model.clone())
            .llm_response("gemini-2.5-pro", tokens)
            .parent(id);
    }
    // One whose response came first, paired by the request id both carry (e09, e10).
    s = s.at(6.0).event(
        EventType::LlmResponse,
        json!({"model": "claude-sonnet-4-5", "request_id": "req_9",
               "usage": {"input_tokens": 100, "output_tokens": 10}}),
    );
    s = request(
        s,
        json!({"model": "claude-sonnet-4-5", "request_id": "req_9"}),
    );
    // Three responses no request of the session answers.
    for at in [7.0, 8.0, 9.0] {
        s = s.at(at).llm_response("claude-sonnet-4-5", tokens);
    }
    // meta.json as an earlier version counted it; the store folds the events again.
    let id = s
        .at(10.0)
        .session_end(json!({}))
        .meta(|m| m.llm_requests = 6)
        .write(&env);
    std::fs::write(env.store().join(&id).join(".counters"), b"").unwrap();
    let stats = env
        .run(&["stats", &id, "--format", "json"])
        .success()
        .json();
    assert_eq!(stats["llm_requests"], 9, "{stats:#}");
    let list = env.run(&["list", "--format", "json"]).success().json();
    assert_eq!(list[0]["llm_requests"], 9, "{list:#}");
    let sql = env
        .run(&[
            "sql",
            "--format",
            "json",
            "SELECT llm_requests FROM sessions",
        ])
        .success()
        .json();
    assert_eq!(sql, json!([{"llm_requests": 9}]), "{sql:#}");
    // A hook's event brings meta.json up to date with the events, as it counts them.
    let notice = json!({"session_id": id, "hook_event_name": "Notification", "message": "hi"});
    env.hook("notification", &notice).success();
    assert_eq!(env.meta(&id)["llm_requests"], 9);
}
