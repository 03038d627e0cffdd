//! The index's look at every session on a store big enough to be looked at by several threads
//! (more than 512 sessions): whatever changed in any part of the store since the last read
//! (a session grew, was imported, deleted, had its meta replaced, or had its folder swapped
//! for another), the next `list` shows it as the files say; and a session's listed cost holds
//! its subagents'.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::{Run, TestEnv};

/// More sessions than the index looks at on one thread.
const SESSIONS: usize = 700;

fn id(n: usize) -> String {
    format!("{n:04}-session")
}

fn lines(id: &str, started: f64, calls: usize) -> String {
    let mut text = json!({"event_type": "session_start", "timestamp": started,
        "event_id": format!("{id}-s"), "session_id": id, "data": {"source": "startup"}})
    .to_string()
        + "\n";
    for i in 0..calls {
        text += &call(id, started + 1.0 + i as f64, i);
    }
    text
}

fn call(id: &str, at: f64, n: usize) -> String {
    let call = format!("{id}-c{n}");
    format!(
        "{}\n{}\n",
        json!({"event_type": "tool_call", "timestamp": at, "event_id": call, "session_id": id,
            "data": {"tool_name": "Bash", "arguments": {"command": format!("make t{n}")}}}),
        json!({"event_type": "tool_result", "timestamp": at + 0.5, "event_id": format!("{call}-r"),
            "session_id": id, "parent_id": call, "duration_ms": 500.0,
            "data": {"tool_name": "Bash", "result": "ok"}})
    )
}

/// A session in `dir`: as our hooks keep it (`.counters`, meta without counters) when `ours`,
/// else as the Python tool does (no `.counters`, its counters in meta.json).
fn write_session(dir: &Path, id: &str, started: f64, calls: usize, ours: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let mut meta = json!({"session_id": id, "started_at": started, "agent_name": "claude-code",
        "command": "claude-code (startup)"});
    if ours {
        std::fs::write(dir.join(".counters"), b"").unwrap();
    } else {
        meta["tool_calls"] = json!(calls);
    }
    std::fs::write(dir.join("meta.json"), meta.to_string()).unwrap();
    std::fs::write(dir.join("events.ndjson"), lines(id, started, calls)).unwrap();
}

fn list(env: &TestEnv) -> Run {
    let run = env.run(&["list", "--all", "--format", "json"]);
    run.success();
    run
}

/// What `list` says from the files alone (the index made unusable for one run).
fn truth(env: &TestEnv) -> Value {
    let index = env.store().join(".index.sqlite");
    let _ = std::fs::remove_file(&index);
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{side}", index.display()));
    }
    std::fs::create_dir(&index).unwrap();
    let run = list(env);
    std::fs::remove_dir(&index).unwrap();
    run.json()
}

fn row<'a>(listing: &'a Value, id: &str) -> Option<&'a Value> {
    listing
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == id)
}

#[test]
fn every_change_anywhere_in_a_large_store_shows_in_the_next_listing() {
    let env = TestEnv::new();
    let store = env.store();
    for n in 0..SESSIONS {
        write_session(
            &store.join(id(n)),
            &id(n),
            1_700_000_000.0 + n as f64 * 10.0,
            1 + n % 3,
            n % 2 == 0,
        );
    }
    let first = list(&env);
    assert!(first.stderr.is_empty(), "{}", first.stderr);
    assert_eq!(first.json().as_array().unwrap().len(), SESSIONS);

    // Changes spread over the whole id range, so that every thread's share has some.
    // Ours (even numbers), whose counters come from their events.
    let grown = [0, 234, 352, SESSIONS - 2];
    for &n in &grown {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(store.join(id(n)).join("events.ndjson"))
            .unwrap();
        file.write_all(call(&id(n), 1_800_000_000.0, 99).as_bytes())
            .unwrap();
    }
    let deleted = [1, 350, SESSIONS - 3];
    for &n in &deleted {
        std::fs::remove_dir_all(store.join(id(n))).unwrap();
    }
    // A session of another tool's whose meta.json alone is replaced.
    let retitled = 201;
    let meta = store.join(id(retitled)).join("meta.json");
    let temp = meta.with_extension("tmp");
    std::fs::write(
        &temp,
        json!({"session_id": id(retitled), "started_at": 1_700_000_000.0 + retitled as f64 * 10.0,
            "agent_name": "another-agent", "command": "resumed", "tool_calls": 42})
        .to_string(),
    )
    .unwrap();
    std::fs::rename(&temp, &meta).unwrap();
    // A folder swapped for another of the same name (as a re-import of a rewritten transcript
    // does): fewer events, and files of the same sizes as before would not be told apart by
    // their sizes alone.
    let swapped = 466;
    let aside = env.path().join("swap");
    write_session(
        &aside,
        &id(swapped),
        1_700_000_000.0 + swapped as f64 * 10.0,
        0,
        true,
    );
    std::fs::remove_dir_all(store.join(id(swapped))).unwrap();
    std::fs::rename(&aside, store.join(id(swapped))).unwrap();
    // New sessions, one sorting before every other and one after.
    for (name, at) in [("0000-new", 1_900_000_000.0), ("9999-new", 1_900_000_010.0)] {
        write_session(&store.join(name), name, at, 2, true);
    }

    let after = list(&env);
    assert!(after.stderr.is_empty(), "{}", after.stderr);
    let after = after.json();
    for &n in &grown {
        let row = row(&after, &id(n)).unwrap();
        assert_eq!(row["tool_calls"], 1 + n % 3 + 1, "{row}");
    }
    for &n in &deleted {
        assert!(row(&after, &id(n)).is_none(), "{} is still listed", id(n));
    }
    assert_eq!(
        row(&after, &id(retitled)).unwrap()["agent_name"],
        "another-agent"
    );
    assert_eq!(row(&after, &id(swapped)).unwrap()["tool_calls"], 0);
    assert!(row(&after, "0000-new").is_some() && row(&after, "9999-new").is_some());
    assert_eq!(
        after.as_array().unwrap().len(),
        SESSIONS - deleted.len() + 2
    );
    assert_eq!(after, truth(&env));
}

#[test]
fn a_listed_cost_holds_the_cost_of_subagents_and_of_theirs() {
    let env = TestEnv::new();
    let store = env.store();
    let family = [
        ("p-root", None),
        ("p-child", Some("p-root")),
        ("p-grandchild", Some("p-child")),
    ];
    for (n, (name, parent)) in family.iter().enumerate() {
        let dir = store.join(name);
        write_session(&dir, name, 1_700_000_000.0 + n as f64, 3 + n, true);
        if let Some(parent) = parent {
            let mut meta: Value =
                serde_json::from_slice(&std::fs::read(dir.join("meta.json")).unwrap()).unwrap();
            meta["parent_session_id"] = json!(parent);
            std::fs::write(dir.join("meta.json"), meta.to_string()).unwrap();
        }
    }
    write_session(&store.join("q-alone"), "q-alone", 1_700_000_100.0, 2, true);
    let own = env.run(&[
        "sql",
        "--format",
        "json",
        "SELECT session_id, cost_usd FROM sessions",
    ]);
    own.success();
    let own: Vec<(String, f64)> = own
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["session_id"].as_str().unwrap().to_owned(),
                r["cost_usd"].as_f64().unwrap(),
            )
        })
        .collect();
    let cost = |id: &str| own.iter().find(|(i, _)| i == id).unwrap().1;
    assert!(cost("p-grandchild") > 0.0, "{own:?}");
    let listed = list(&env).json();
    let listed_cost = |id: &str| row(&listed, id).unwrap()["cost_usd"].as_f64().unwrap();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert!(close(
        listed_cost("p-root"),
        cost("p-root") + cost("p-child") + cost("p-grandchild")
    ));
    assert!(close(
        listed_cost("p-child"),
        cost("p-child") + cost("p-grandchild")
    ));
    assert!(close(listed_cost("p-grandchild"), cost("p-grandchild")));
    assert!(close(listed_cost("q-alone"), cost("q-alone")));
    assert_eq!(listed, truth(&env));
}
