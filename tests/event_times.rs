//! Events with no time or odd times, and the durations every view gives a session: each view
//! keeps every event and agrees with the others.

use agent_strace::model::Tokens;
use serde_json::{Value, json};

use crate::common::{SessionBuilder, TestEnv};

/// A session whose lines give no number for their time, as the Python tool can write them (it
/// leaves a `None` time out, and its json module writes `NaN`) or a hand or a damaged copy
/// leaves them: a call with no `timestamp`, its result's `null`, a call's `"soon"`, a result
/// stamped `NaN` and a response's `Infinity`.
fn stamped_with_no_number(env: &TestEnv) {
    SessionBuilder::new("timeless")
        .prompt("look")
        .at(1.0)
        .tool_call("Bash", json!({"command": "ls"}))
        .at(2.0)
        .result(json!("listed"))
        .at(3.0)
        .tool_call("Read", json!({"file_path": "/a"}))
        .at(4.0)
        .result(json!("read"))
        .at(5.0)
        .llm_response(
            "claude-sonnet-4-5",
            Tokens {
                input: 1000,
                output: 100,
                ..Tokens::default()
            },
        )
        .at(6.0)
        .tool_call("Bash", json!({"command": "pwd"}))
        .at(7.0)
        .result(json!("/"))
        .ended(8.0)
        .write(env);
    let path = env.store().join("timeless").join("events.ndjson");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let mut event: Value = serde_json::from_str(line).unwrap();
            let id = event["event_id"].as_str().unwrap().to_owned();
            let object = event.as_object_mut().unwrap();
            match id.as_str() {
                "e02" => {
                    object.remove("timestamp");
                }
                "e03" => {
                    object.insert("timestamp".into(), Value::Null);
                }
                "e04" => {
                    object.insert("timestamp".into(), json!("soon"));
                }
                "e05" | "e06" => {
                    object.insert("timestamp".into(), json!(id));
                }
                _ => {}
            }
            // Python's json module writes a float that is no number as a bare word.
            event
                .to_string()
                .replace(r#""timestamp":"e05""#, r#""timestamp":NaN"#)
                .replace(r#""timestamp":"e06""#, r#""timestamp":Infinity"#)
        })
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn an_event_whose_line_gives_no_time_is_kept_by_every_view() {
    let env = TestEnv::new();
    stamped_with_no_number(&env);
    // Each such line was skipped as malformed, with a warning, and its call lost.
    let replay = env.run(&["replay", "timeless", "--color", "never"]);
    replay.success();
    assert!(!replay.stderr.contains("malformed"), "{}", replay.stderr);
    let numbers: Vec<usize> = replay
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    // The read's result (#5) is told on the line of its call.
    assert_eq!(numbers, [1, 2, 3, 4, 6, 7, 8], "{}", replay.stdout);
    let unknown = replay
        .stdout
        .lines()
        .filter(|l| l.starts_with('#') && l.contains("      ? "))
        .count();
    assert!(unknown >= 4, "{}", replay.stdout);

    let stats = env.run(&["stats", "timeless", "--format", "json"]);
    stats.success();
    let stats = stats.json();
    assert_eq!(stats["events"], 8, "{stats}");
    assert_eq!(stats["tool_calls"], 3, "{stats}");
    assert_eq!(stats["tokens"], 1100, "{stats}");

    let cost = env.run(&["cost", "timeless", "--format", "json"]).json();
    assert_eq!(cost["estimated"], false, "{cost}");

    let rows = env
        .run(&[
            "sql",
            "SELECT count(*) AS n, sum(time IS NULL) AS unknown FROM events",
            "--format",
            "json",
        ])
        .json();
    assert_eq!(rows[0]["n"], 8, "{rows}");
    assert_eq!(rows[0]["unknown"], 5, "{rows}");
    let calls = env
        .run(&[
            "sql",
            "SELECT count(*) AS n FROM tool_calls",
            "--format",
            "json",
        ])
        .json();
    assert_eq!(calls[0]["n"], 3, "{calls}");
    let listed = env.run(&["list", "--format", "json"]).json();
    assert_eq!(listed[0]["tool_calls"], 3, "{listed}");

    let exported = env.run(&["export", "timeless", "--format", "json"]).json();
    let events = exported["events"].as_array().unwrap();
    assert_eq!(events.len(), 8, "{exported}");
    // Written back as it was read: no time, `null`, `"soon"`; `NaN` as JSON writes it.
    assert!(events[1].get("timestamp").is_none(), "{}", events[1]);
    assert_eq!(events[2]["timestamp"], Value::Null);
    assert_eq!(events[3]["timestamp"], "soon");
    let csv = env.run(&["export", "timeless", "--format", "csv"]);
    csv.success();
    assert_eq!(csv.stdout.lines().count(), 9, "{}", csv.stdout);
    // Its time is none, not 1970.
    assert!(!csv.stdout.contains("1970-01-01"), "{}", csv.stdout);
    assert!(!csv.stdout.contains("NaN"), "{}", csv.stdout);
    for format in ["otlp", "otlp-genai"] {
        let trace = env.run(&["export", "timeless", "--format", format]);
        trace.success();
        // A span for each call: two of Bash, one of Read.
        let names: Vec<String> = trace.json()["resourceSpans"][0]["scopeSpans"][0]["spans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|span| span["name"].as_str().unwrap().to_owned())
            .collect();
        let calls = |tool: &str| names.iter().filter(|n| n.ends_with(tool)).count();
        assert_eq!(
            (calls("Bash"), calls("Read")),
            (2, 1),
            "{format}: {names:?}"
        );
    }
    let page = env.run(&["replay", "timeless", "--format", "html"]);
    page.success();
    assert!(page.stdout.contains("/a"), "the page");
}

#[test]
fn a_session_whose_end_is_stamped_before_its_start_runs_in_every_view() {
    let env = TestEnv::new();
    // Its end is stamped before its start, and its calls come after it: resumed after its
    // end, as `list` and `sql` read it, where `stats` and `replay` gave a duration of `?`
    // and warned of a damaged meta.json.
    SessionBuilder::new("backwards")
        .at(-100.0)
        .session_end(json!({}))
        .at(0.0)
        .prompt("look")
        .at(1.0)
        .tool_call("Bash", json!({"command": "ls"}))
        .at(2.0)
        .result(json!("listed"))
        .ended(-100.0)
        .write(&env);
    let listed = env.run(&["list", "--format", "json"]).json();
    assert_eq!(listed[0]["duration_s"], Value::Null, "{listed}");
    let listing = env.run(&["list", "--color", "never"]);
    assert!(listing.stdout.contains("running"), "{}", listing.stdout);
    let rows = env
        .run(&["sql", "SELECT ended_at FROM sessions", "--format", "json"])
        .json();
    assert_eq!(rows[0]["ended_at"], Value::Null, "{rows}");
    let stats = env.run(&["stats", "backwards", "--color", "never"]);
    stats.success();
    assert!(
        stats.stdout.contains("Duration: running"),
        "{}",
        stats.stdout
    );
    assert!(
        !stats.stderr.contains("what no session can"),
        "{}",
        stats.stderr
    );
    let replay = env.run(&["replay", "backwards", "--color", "never"]);
    replay.success();
    assert!(
        replay.stdout.contains("Duration: running"),
        "{}",
        replay.stdout
    );
    assert!(
        !replay.stderr.contains("what no session can"),
        "{}",
        replay.stderr
    );
}

#[test]
fn an_annotation_is_at_the_offset_replay_shows_its_event_at() {
    let env = TestEnv::new();
    SessionBuilder::new("late")
        .at(1.0)
        .prompt("look")
        .at(2.0)
        .tool_call("Bash", json!({"command": "ls"}))
        .at(3.0)
        .result(json!("listed"))
        .write(&env);
    // Its first line stamped at a time no session can have: every annotation was 0 s in,
    // counted from that line's own stamp, where replay shows the call 2 s in.
    let path = env.store().join("late").join("events.ndjson");
    let text = std::fs::read_to_string(&path).unwrap();
    let first = format!("\"timestamp\":{:.1}", crate::common::session::T0 + 1.0);
    assert!(text.contains(&first), "{text}");
    let text = text.replacen(&first, "\"timestamp\":1e308", 1);
    std::fs::write(&path, text).unwrap();
    let replay = env.run(&["replay", "late", "--color", "never"]);
    assert!(
        replay.stdout.contains("#2    + 2.00s → tool_call"),
        "{}",
        replay.stdout
    );
    let annotated = env
        .run(&["annotate", "late", "2", "--note", "why", "--format", "json"])
        .json();
    assert_eq!(annotated["offset_seconds"], 2.0, "{annotated}");
}
