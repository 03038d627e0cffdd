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

/// Three sessions around 2026-11-25T10:00:00Z, each with its events at one time: one started
/// at the second, one 456 µs after it, one 200 µs before it.
fn around_ten(env: &TestEnv) {
    for (id, start) in [
        ("at-ten", 1_795_600_800.0),
        ("just-after", 1_795_600_800.000_456),
        ("just-before", 1_795_600_799.999_8),
    ] {
        SessionBuilder::new(id)
            .started(start)
            .prompt(id)
            .tool_call("Bash", json!({"command": "ls"}))
            .result(json!("listed"))
            .session_end(json!({}))
            .write(env);
    }
}

fn listed(env: &TestEnv, args: &[&str]) -> Vec<String> {
    let mut all = vec!["list", "--format", "json"];
    all.extend(args);
    let mut ids = env.run(&all).success().session_ids();
    ids.sort();
    ids
}

/// A period's start is in it and its end is not, to the microsecond an event's line gives.
/// `--since 2026-11-25T10:00:00.000456Z` was read to the millisecond, so it listed a session
/// that started 456 µs before it; `export --format csv` gave an event at 09:59:59.9998 as
/// `10:00:00.000` and `sql` as `10:00:00` (both rounded to the nearest), in a period
/// `--since 10:00` leaves it out of. Events at one time stay in the file's order.
#[test]
fn a_period_holds_its_start_to_the_microsecond_and_times_show_the_second_they_fall_in() {
    let env = TestEnv::new();
    around_ten(&env);
    assert_eq!(
        listed(&env, &["--since", "2026-11-25T10:00:00Z"]),
        ["at-ten", "just-after"]
    );
    assert_eq!(
        listed(&env, &["--since", "2026-11-25T10:00:00.000456Z"]),
        ["just-after"]
    );
    assert_eq!(
        listed(&env, &["--until", "2026-11-25T10:00:00.000456Z"]),
        ["at-ten", "just-before"]
    );
    assert_eq!(
        listed(&env, &["--until", "2026-11-25T10:00:00Z"]),
        ["just-before"]
    );
    let budget = env
        .run(&[
            "budget-report",
            "--since",
            "2026-11-25T10:00:00.000456Z",
            "--until",
            "2026-11-26",
            "--format",
            "json",
        ])
        .success()
        .json();
    assert_eq!(budget["sessions"], 1, "{budget:#}");
    assert_eq!(budget["prior_sessions"], 2, "{budget:#}");

    let csv = env.run(&["export", "just-before", "--format", "csv"]);
    let csv = csv.success();
    assert!(
        csv.stdout
            .contains(",2026-11-25T09:59:59.999Z,session_start,")
            || csv
                .stdout
                .contains(",2026-11-25T09:59:59.999Z,user_prompt,"),
        "{}",
        csv.stdout
    );
    assert!(!csv.stdout.contains("10:00:00"), "{}", csv.stdout);
    let sql = env
        .run(&[
            "sql",
            "--format",
            "json",
            "SELECT s.start, e.at, e.seq, e.type FROM sessions s JOIN events e USING (session_id) \
             WHERE session_id = 'just-before' ORDER BY e.seq",
        ])
        .success()
        .json();
    let rows = sql.as_array().unwrap();
    assert!(
        rows.iter()
            .all(|r| r["start"] == "2026-11-25 09:59:59" && r["at"] == "2026-11-25 09:59:59"),
        "{sql:#}"
    );
    // Every event at one time: the file's order, in `sql` and in `replay`.
    let types: Vec<&str> = rows.iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["user_prompt", "tool_call", "tool_result", "session_end"],
        "{sql:#}"
    );
    let replay = env.run(&["replay", "just-before", "--color", "never"]);
    let shown: Vec<&str> = replay
        .success()
        .stdout
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| l.split_whitespace().last().unwrap())
        .collect();
    assert_eq!(
        shown,
        ["user_prompt", "Bash", "Bash", "session_end"],
        "{}",
        replay.stdout
    );
}

/// Times a hostile or careless writer gives: an integer past 2^53, and milliseconds where
/// seconds belong. Every view shows them as `?`, without failing; `inspect` wrote
/// 9007199254740993 back as 9007199254740992.0, and the warning blamed a `meta.json` the
/// session does not have where its times read as milliseconds.
#[test]
fn times_past_floats_or_in_milliseconds_are_kept_and_told() {
    let env = TestEnv::new();
    let write = |id: &str, stamps: [&str; 3]| {
        let dir = env.store().join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let kinds = ["session_start", "tool_call", "session_end"];
        let lines: Vec<String> = kinds
            .iter()
            .zip(stamps)
            .enumerate()
            .map(|(i, (kind, stamp))| {
                format!(
                    r#"{{"event_type":"{kind}","timestamp":{stamp},"event_id":"{id}{i}","session_id":"{id}","data":{{"arguments":{{"command":"ls"}},"tool_name":"Bash"}}}}"#
                )
            })
            .collect();
        std::fs::write(dir.join("events.ndjson"), lines.join("\n") + "\n").unwrap();
        lines
    };
    let big = write(
        "big",
        ["9007199254740993", "9007199254740995", "9007199254740997"],
    );
    write(
        "millis",
        ["1780000000000", "1780000001000", "1780000009000"],
    );
    for command in ["list", "replay", "stats", "explain", "cost", "export"] {
        for id in ["big", "millis"] {
            let mut args = vec![command];
            if command != "list" {
                args.push(id);
            }
            env.run(&args).success();
        }
    }
    let inspect = env.run(&["inspect", "big"]);
    let inspect = inspect.success();
    for line in &big {
        assert!(
            inspect.stdout.contains(line.as_str()),
            "{line}\n{}",
            inspect.stdout
        );
    }
    let stats = env.run(&["stats", "millis"]);
    let stats = stats.success();
    assert!(
        stats.stderr.contains("started_at 1780000000000.0")
            && stats.stderr.contains("in milliseconds"),
        "{}",
        stats.stderr
    );
    assert!(stats.stdout.contains("Duration: ?"), "{}", stats.stdout);
}

/// `stats --format json` gave the p95 as durations are kept (f32): 218.99986267089844, where
/// the total and mean of the same call read 219.0.
#[test]
fn the_p95_in_json_is_rounded_as_the_total_and_mean_are() {
    let env = TestEnv::new();
    let id = SessionBuilder::new("p95-round")
        .tool_call("Bash", json!({"command": "make"}))
        .result(json!("ok"))
        .duration_ms(218.9999)
        .write(&env);
    let run = env.run(&["stats", &id, "--format", "json"]);
    run.success();
    let tool = &run.json()["tools"][0];
    assert_eq!(tool["p95_ms"], json!(219.0), "{tool}");
    assert_eq!(tool["mean_ms"], json!(219.0), "{tool}");
}

/// A `meta.json` whose end is before its start (written by another tool, or by hand): `list`
/// shows its duration as unknown (`?`, `null`), and `sql` gave `duration_s` -100. The `sql`
/// view says unknown (`NULL`) where `list` does.
#[test]
fn sql_gives_no_duration_where_list_gives_none() {
    let env = TestEnv::new();
    // As another tool writes a session: no counters of ours, so `meta.json` is believed.
    let t = 1_780_000_000.0;
    for (id, end) in [("back", t - 100.0), ("fine", t + 30.0)] {
        another_tools_session(&env, id, t, end);
    }
    let listed = env.run(&["list", "--format", "json"]).json();
    let rows = env
        .run(&[
            "sql",
            "SELECT session_id, duration_s FROM sessions",
            "--format",
            "json",
        ])
        .json();
    for session in listed.as_array().unwrap() {
        let row = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["session_id"] == session["session_id"])
            .unwrap();
        assert_eq!(row["duration_s"], session["duration_s"], "{rows} {listed}");
    }
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["duration_s"].is_null()),
        "{listed}"
    );
}

/// Events stamped before the session's recorded start (a prompt ten minutes before it, a call
/// five) were all drawn at `+ 0.00s`, the start's offset, and so out of their time order.
/// Each is shown as far before the start as it was.
#[test]
fn events_stamped_before_the_start_are_shown_before_it() {
    let env = TestEnv::new();
    SessionBuilder::new("early")
        .at(-600.0)
        .prompt("ten minutes before")
        .at(-300.0)
        .tool_call("Bash", json!({"command": "make"}))
        .at(0.0)
        .session_start(json!({}))
        .at(5.0)
        .session_end(json!({}))
        .ended(5.0)
        .write(&env);
    let replay = env.run(&["replay", "early", "--color", "never"]);
    replay.success();
    // The event's line: the numbered line the text is on, or the one its detail is under.
    let at = |text: &str| {
        let mut event = None;
        for line in replay.stdout.lines() {
            if line.starts_with('#') {
                event = Some(line);
            }
            if line.contains(text) {
                return event.unwrap_or_default().to_owned();
            }
        }
        panic!("no line with {text}: {}", replay.stdout)
    };
    let prompt = at("ten minutes before");
    let call = at("make");
    assert!(prompt.contains("-10m00"), "{prompt}");
    assert!(call.contains("-5m00"), "{call}");
    assert!(
        !prompt.contains("+ 0.00s") && !call.contains("+ 0.00s"),
        "{}",
        replay.stdout
    );
}

/// Every `*_s` number under `value`, with its key.
fn seconds_in(value: &Value, found: &mut Vec<(String, f64)>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match v.as_f64() {
                    Some(n) if key.ends_with("_s") => found.push((key.clone(), n)),
                    _ => seconds_in(v, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| seconds_in(v, found)),
        _ => {}
    }
}

/// `stats` and `explain` JSON gave seconds with float noise (`duration_s` 5.634000062942505,
/// `end_s`, `at_s`), where `list` gives them to the millisecond: every one is given so.
#[test]
fn seconds_in_json_are_given_to_the_millisecond() {
    let env = TestEnv::new();
    let id = SessionBuilder::new("noisy")
        .prompt("go")
        .at(2.217)
        .tool_call("Bash", json!({"command": "make"}))
        .at(5.634)
        .error("make: *** failed")
        .at(5.634)
        .session_end(json!({}))
        .ended(5.634)
        .write(&env);
    let mut found = Vec::new();
    for command in ["stats", "explain"] {
        let run = env.run(&[command, &id, "--format", "json"]);
        run.success();
        seconds_in(&run.json(), &mut found);
    }
    assert!(
        found
            .iter()
            .any(|(key, n)| key == "duration_s" && n.fract() != 0.0),
        "{found:?}"
    );
    for (key, n) in &found {
        // As JSON gives it: at most three decimals.
        let decimals = n.to_string().split_once('.').map_or(0, |(_, d)| d.len());
        assert!(decimals <= 3, "{key}: {found:?}");
    }
}

/// A session another tool wrote, begun at `t` and ended at `end` by its `meta.json`, its events
/// a start and an end 30 s apart: a count its events do not hold (`tool_calls`) marks the meta
/// as not ours, so it is believed.
fn another_tools_session(env: &TestEnv, id: &str, t: f64, end: f64) {
    let folder = env.store().join(id);
    std::fs::create_dir_all(&folder).unwrap();
    let events = [("session_start", t), ("session_end", t + 30.0)]
        .iter()
        .map(|(kind, at)| {
            json!({"event_type": kind, "timestamp": at, "event_id": kind, "session_id": id,
                "data": {}})
            .to_string()
                + "\n"
        })
        .collect::<String>();
    std::fs::write(folder.join("events.ndjson"), events).unwrap();
    let meta = json!({"session_id": id, "started_at": t, "ended_at": end,
        "agent_name": "c", "command": "c", "tool_calls": 1});
    std::fs::write(folder.join("meta.json"), meta.to_string()).unwrap();
}

/// A `meta.json` whose end is one no session can have (before its start, in 2200, ten years
/// after its start): `list` gives its `ended_at` as unknown (`null`), and `sql`'s `sessions`
/// view gave the number `meta.json` holds. The view gives `NULL` where `list` does, and the
/// end where `list` believes one.
#[test]
fn sql_gives_no_end_where_list_gives_none() {
    let env = TestEnv::new();
    // As another tool writes a session: no counters of ours, so `meta.json` is believed.
    let t = 1_780_000_000.0;
    for (id, end) in [
        ("back", t - 100.0),
        ("far", 7_258_118_400.0),
        ("long", t + 10.0 * 365.0 * 86_400.0),
        ("fine", t + 30.0),
    ] {
        another_tools_session(&env, id, t, end);
    }
    let listed = env.run(&["list", "--format", "json"]).json();
    let rows = env
        .run(&[
            "sql",
            "SELECT session_id, ended_at FROM sessions",
            "--format",
            "json",
        ])
        .json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 4, "{rows:?}");
    for session in listed.as_array().unwrap() {
        let row = rows
            .iter()
            .find(|r| r["session_id"] == session["session_id"])
            .unwrap();
        assert_eq!(row["ended_at"], session["ended_at"], "{rows:?} {listed}");
    }
    let ends = |id: &str| {
        rows.iter()
            .find(|r| r["session_id"] == id)
            .map(|r| r["ended_at"].clone())
            .unwrap()
    };
    for unknown in ["back", "far", "long"] {
        assert!(ends(unknown).is_null(), "{unknown}: {rows:?}");
    }
    assert_eq!(ends("fine"), json!(t + 30.0), "{rows:?}");
}

/// A `meta.json` another tool wrote (the Python tool's: counters of its own, so it is believed)
/// whose `ended_at` the events run past, as a session resumed after it was ended: `replay` and
/// `explain` go to the last event, while `list`, `stats` and `sql` gave meta's end (10 s where
/// the events ran 6m 40s). Every view gives the events' span now; an end no event passes, a
/// session idle before it ended, stays meta's.
#[test]
fn an_end_the_events_run_past_is_the_events_in_every_view() {
    let env = TestEnv::new();
    let t = 1_780_000_000.0;
    for (id, end) in [("past", t + 10.0), ("idle", t + 900.0)] {
        let folder = env.store().join(id);
        std::fs::create_dir_all(&folder).unwrap();
        let events = [
            ("session_start", t),
            ("user_prompt", t + 1.0),
            ("session_end", t + 10.0),
            ("user_prompt", t + 300.0),
            ("session_end", t + 400.0),
        ]
        .iter()
        .enumerate()
        .map(|(i, (kind, at))| {
            json!({"event_type": kind, "timestamp": at, "event_id": format!("e{i}"),
                "session_id": id, "data": {"prompt": "p"}})
            .to_string()
                + "\n"
        })
        .collect::<String>();
        std::fs::write(folder.join("events.ndjson"), events).unwrap();
        let meta = json!({"session_id": id, "started_at": t, "ended_at": end,
            "agent_name": "claude-code", "command": "c", "tool_calls": 1,
            "total_duration_ms": (end - t) * 1000.0});
        std::fs::write(folder.join("meta.json"), meta.to_string()).unwrap();
    }
    let listed = env.run(&["list", "--format", "json"]).json();
    let listed = |id: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["session_id"] == id)
            .unwrap()["duration_s"]
            .as_f64()
            .unwrap()
    };
    let sql = |id: &str| {
        env.run(&[
            "sql",
            &format!("SELECT duration_s FROM sessions WHERE session_id = '{id}'"),
            "--format",
            "json",
        ])
        .json()[0]["duration_s"]
            .as_f64()
            .unwrap()
    };
    let stats = |id: &str| {
        env.run(&["stats", id, "--format", "json"]).json()["duration_s"]
            .as_f64()
            .unwrap()
    };
    // The events ran 400 s past the start, as replay draws the last of them.
    let replay = env.run(&["replay", "past"]).stdout;
    assert!(replay.contains("+6m40.00s"), "{replay}");
    assert_eq!(
        (listed("past"), stats("past"), sql("past")),
        (400.0, 400.0, 400.0)
    );
    assert!(
        env.run(&["list"]).stdout.contains("6m 40s"),
        "list's text gives it too"
    );
    assert_eq!(
        (listed("idle"), stats("idle"), sql("idle")),
        (900.0, 900.0, 900.0)
    );
}

/// A `meta.json` another tool wrote with counters but no `ended_at` (the Python tool's hooks,
/// killed between the `session_end` event and the meta written after it): the session was
/// given as running in `list`, `stats`, `sql` and `replay`, the end drawn below. The events'
/// end is the session's; one whose events do not end (killed before its end) still runs.
#[test]
fn an_end_only_the_events_record_is_the_sessions_end() {
    let env = TestEnv::new();
    let t = 1_780_000_000.0;
    for (id, last) in [("ended", "session_end"), ("killed", "user_prompt")] {
        let folder = env.store().join(id);
        std::fs::create_dir_all(&folder).unwrap();
        let events = [
            ("session_start", t),
            ("user_prompt", t + 1.0),
            (last, t + 400.0),
        ]
        .iter()
        .enumerate()
        .map(|(i, (kind, at))| {
            json!({"event_type": kind, "timestamp": at, "event_id": format!("e{i}"),
                "session_id": id, "data": {"prompt": "p"}})
            .to_string()
                + "\n"
        })
        .collect::<String>();
        std::fs::write(folder.join("events.ndjson"), events).unwrap();
        let meta = json!({"session_id": id, "started_at": t, "agent_name": "claude-code",
            "command": "c", "tool_calls": 1});
        std::fs::write(folder.join("meta.json"), meta.to_string()).unwrap();
    }
    let listed = env.run(&["list", "--format", "json"]).json();
    let views = |id: &str| {
        let listed = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["session_id"] == id)
            .unwrap()["duration_s"]
            .as_f64();
        let stats = env.run(&["stats", id, "--format", "json"]).json()["duration_s"].as_f64();
        let query = format!("SELECT duration_s FROM sessions WHERE session_id = '{id}'");
        let sql = env.run(&["sql", &query, "--format", "json"]).json()[0]["duration_s"].as_f64();
        (listed, stats, sql)
    };
    assert_eq!(views("ended"), (Some(400.0), Some(400.0), Some(400.0)));
    assert_eq!(views("killed"), (None, None, None));
    let list = env.run(&["list"]).stdout;
    let line = |id: &str| list.lines().find(|l| l.starts_with(id)).unwrap().to_owned();
    assert!(line("ended").contains("6m 40s"), "{list}");
    assert!(line("killed").contains("running"), "{list}");
    let replay = env.run(&["replay", "ended"]).stdout;
    assert!(replay.contains("Duration: 6m 40s"), "{replay}");
}
