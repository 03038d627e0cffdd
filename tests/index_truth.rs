//! The index answers as a fresh scan of the files does after changes that leave none of its
//! usual marks (no event appended): a session's agent named late or renamed, rows written into
//! the index by someone else, a subagent's parent deleted. Each query is asked of the warm
//! index, then of one built again from the files (the truth), and the two must agree.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::TestEnv;

/// `sql`'s answer to `query`, as JSON rows.
fn sql(env: &TestEnv, query: &str) -> Value {
    env.run(&["sql", "--format", "json", query])
        .success()
        .json()
}

/// Deletes the index, so that the next read builds it from the files.
fn remove_index(env: &TestEnv) {
    for side in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(env.store().join(format!(".index.sqlite{side}")));
    }
}

/// The answers to `queries` from the warm index, then from an index built again from the files.
fn warm_and_fresh(env: &TestEnv, queries: &[&str]) -> (Vec<Value>, Vec<Value>) {
    let warm = queries.iter().map(|q| sql(env, q)).collect();
    remove_index(env);
    let fresh = queries.iter().map(|q| sql(env, q)).collect();
    (warm, fresh)
}

fn write_meta(dir: &Path, id: &str, agent: &str) {
    std::fs::write(
        dir.join("meta.json"),
        json!({"session_id": id, "started_at": 1_780_005_500.0, "agent_name": agent,
            "command": agent})
        .to_string(),
    )
    .unwrap();
}

/// A session whose calls are a shell command reading a file and a patch writing one, as Codex
/// names them (another agent's tables read them as tools of no known kind).
fn codex_calls(env: &TestEnv, id: &str) -> std::path::PathBuf {
    let dir = env.store().join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let lines = [
        json!({"event_type": "session_start", "timestamp": 1_780_005_500.0, "event_id": "s1",
            "session_id": id, "data": {}}),
        json!({"event_type": "tool_call", "timestamp": 1_780_005_501.0, "event_id": "c1",
            "session_id": id, "data": {"tool_name": "exec_command",
            "arguments": {"cmd": "cat README.md"}}}),
        json!({"event_type": "tool_call", "timestamp": 1_780_005_502.0, "event_id": "c2",
            "session_id": id, "data": {"tool_name": "apply_patch", "arguments": {"input":
            "*** Begin Patch\n*** Update File: a.rs\n@@\n-x\n+y\n*** End Patch"}}}),
    ];
    let text: String = lines.iter().map(|l| l.to_string() + "\n").collect();
    std::fs::write(dir.join("events.ndjson"), text).unwrap();
    dir
}

const BY_AGENT: [&str; 4] = [
    "SELECT s.agent, t.tool, t.kind FROM tool_calls t JOIN sessions s USING (session_id)
      ORDER BY t.seq",
    "SELECT tool, kind FROM events WHERE type = 'tool_call' ORDER BY seq",
    "SELECT path, reads, writes FROM files ORDER BY path",
    "SELECT tool_calls, errors FROM sessions",
];

/// The index read the kinds of a session's calls by the agent its meta.json named when the
/// events were first folded: a meta that came after the events (or the collector's
/// `POST /sessions` renaming the agent) was read for its fields only, and `sql` kept every
/// Codex call's kind `other` and no file touched until the index was deleted.
#[test]
fn a_session_whose_agent_is_named_late_or_renamed_is_read_as_that_agents() {
    let env = TestEnv::new();
    let dir = codex_calls(&env, "cx1");
    let before = sql(&env, BY_AGENT[0]);
    write_meta(&dir, "cx1", "codex");
    let (warm, fresh) = warm_and_fresh(&env, &BY_AGENT);
    assert_eq!(warm, fresh);
    // The agent named makes a difference the test can see.
    assert_ne!(before, fresh[0]);
    // And back: the agent renamed, the calls read by the other agent's names.
    write_meta(&dir, "cx1", "claude-code");
    let (warm, fresh) = warm_and_fresh(&env, &BY_AGENT);
    assert_eq!(warm, fresh);
}

/// What the commands over every session say, as text to compare.
fn listings(env: &TestEnv) -> Vec<String> {
    [
        vec!["list", "--all", "--format", "json"],
        vec!["budget-report", "--since", "2026-01-01", "--format", "json"],
        vec![
            "sql",
            "SELECT session_id, cost_usd, tool_calls FROM sessions ORDER BY session_id",
        ],
        vec![
            "sql",
            "SELECT session_id, tool, kind, outcome FROM tool_calls ORDER BY session_id, seq",
        ],
        vec!["sql", "SELECT count(*) FROM idx_calls"],
    ]
    .iter()
    .map(|args| env.run(args).success().stdout.clone())
    .collect()
}

fn one_session(env: &TestEnv, id: &str, at: f64) {
    let dir = env.store().join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let line = json!({"event_type": "session_start", "timestamp": at, "event_id": "a",
        "session_id": id, "data": {}});
    std::fs::write(dir.join("events.ndjson"), format!("{line}\n")).unwrap();
}

/// Runs `sql` on the store's index, as someone who may write it can.
fn plant(env: &TestEnv, sql: &str) {
    let conn = rusqlite::Connection::open(env.store().join(".index.sqlite")).unwrap();
    conn.execute_batch(sql).unwrap();
}

/// Rows written into a valid index for sessions it has no state of (a $5,000 session the store
/// does not hold, with a call) were listed by `list`, `budget-report` and `sql` through every
/// refresh, which only looks at the sessions it has state of; and calls written under the
/// `sid` the next new session gets became that session's. The next read drops them.
#[test]
fn rows_planted_in_the_index_for_no_session_it_holds_are_dropped() {
    let env = TestEnv::new();
    one_session(&env, "s1", 1_790_000_000.0);
    env.run(&["list"]).success();
    plant(
        &env,
        "CREATE TEMP TABLE forged AS SELECT * FROM idx_sessions;
         UPDATE forged SET sid = 99999, session_id = 'FORGED-SESSION',
             cost_pico = 5000000000000000, first_prompt = 'planted';
         INSERT INTO idx_sessions SELECT * FROM forged;
         INSERT INTO idx_calls (sid, seq, offset, length, tool, kind, outcome)
             VALUES (99999, 1, 0, 100, 'ForgedTool', 'shell', 'error');",
    );
    let warm = listings(&env);
    remove_index(&env);
    assert_eq!(warm, listings(&env));
    // Calls under the `sid` the next new session takes.
    plant(
        &env,
        "INSERT INTO idx_calls (sid, seq, offset, length, tool, kind, outcome)
             SELECT max(sid) + 1, 1, 0, 100, 'InheritedTool', 'shell', 'error'
             FROM idx_sessions;",
    );
    one_session(&env, "s2", 1_790_000_100.0);
    let warm = listings(&env);
    remove_index(&env);
    assert_eq!(warm, listings(&env));
    // A session's own row taken out, the rest of its rows left: it is indexed again.
    plant(&env, "DELETE FROM idx_sessions WHERE session_id = 's1';");
    let warm = listings(&env);
    remove_index(&env);
    assert_eq!(warm, listings(&env));
}

/// What `sql`, `list` and `replay --tree` say of sessions and their parents, with the warnings.
fn family(env: &TestEnv, child: &str) -> Vec<(String, String)> {
    [
        vec![
            "sql",
            "SELECT session_id, parent_session_id, parent_event_id FROM sessions
              ORDER BY session_id",
        ],
        vec!["list", "--all", "--format", "json"],
        vec!["replay", child, "--tree"],
    ]
    .iter()
    .map(|args| {
        let run = env.run(args);
        (run.stdout.clone(), run.stderr.clone())
    })
    .collect()
}

/// A subagent whose `meta.json` cannot be used (or is missing) and whose events name no parent
/// has the parent its id names, when that session is in the store. The index gave it that
/// parent once, and kept it after the parent was deleted (`sql` and `list` named it, `list`
/// and `replay --tree` warned of it); and one folded before its parent came never got it in
/// `sql`. It now follows the sessions as they come and go.
#[test]
fn a_subagent_named_after_its_parent_follows_that_parent_coming_and_going() {
    let env = TestEnv::new();
    let parent = "11111111-2222-4333-8444-555555555555";
    for (child, meta) in [
        (format!("agent-a1b2c3d-{parent}"), Some("not json")),
        (format!("agent-e4f5a6b-{parent}"), None),
    ] {
        one_session(&env, &child, 1_780_005_501.0);
        if let Some(meta) = meta {
            std::fs::write(env.store().join(&child).join("meta.json"), meta).unwrap();
        }
        // The parent comes after the subagent was indexed, then goes.
        env.run(&["list"]).success();
        one_session(&env, parent, 1_780_005_500.0);
        write_meta(&env.store().join(parent), parent, "claude-code");
        let warm = family(&env, &child);
        remove_index(&env);
        let fresh = family(&env, &child);
        assert_eq!(warm, fresh, "{child}: the parent came");
        assert!(
            fresh[0].0.contains(&format!("{child}  {parent}")),
            "{}",
            fresh[0].0
        );
        std::fs::remove_dir_all(env.store().join(parent)).unwrap();
        let warm = family(&env, &child);
        remove_index(&env);
        assert_eq!(warm, family(&env, &child), "{child}: the parent went");
    }
}
