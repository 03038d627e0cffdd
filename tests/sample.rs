//! `sample`: sessions chosen by strategy from the index, written as JSONL with their score and
//! events.

use serde_json::{Value, json};

use crate::common::TestEnv;
use crate::common::session::SessionBuilder;

/// A session started `offset` seconds after the others' base, with `failures` failed calls of
/// `command` out of four.
fn session(env: &TestEnv, id: &str, offset: f64, failures: usize, command: &str) -> String {
    let mut s = SessionBuilder::new(id)
        .started(1_790_000_000.0 + offset)
        .meta(|m| "codex".clone_into(&mut m.agent_name))
        .prompt("go");
    for i in 0..4 {
        s = s.tool_call("Bash", json!({ "command": command }));
        s = if i < failures {
            s.error("failed")
        } else {
            s.result(json!("ok"))
        };
    }
    s.answer("done").session_end(json!({})).write(env)
}

fn sample(env: &TestEnv, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["sample"];
    all.extend_from_slice(args);
    let run = env.run(&all);
    run.success();
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn ids(lines: &[Value]) -> Vec<&str> {
    lines
        .iter()
        .map(|l| l["session_id"].as_str().unwrap())
        .collect()
}

#[test]
fn worst_and_recent_pick_by_the_index_and_each_line_holds_score_and_events() {
    let env = TestEnv::new();
    session(&env, "s-clean", 0.0, 0, "ls");
    session(&env, "s-bad", 10.0, 4, "cargo test");
    session(&env, "s-some", 20.0, 2, "make");
    let worst = sample(&env, &["--strategy", "worst", "--n", "2"]);
    assert_eq!(ids(&worst), ["s-bad", "s-some"]);
    assert_eq!(worst[0]["score"]["error_rate"], 1.0);
    assert_eq!(worst[0]["score"]["tool_calls"], 4);
    assert_eq!(worst[0]["agent_name"], "codex");
    assert_eq!(worst[0]["events"].as_array().unwrap().len(), 11);
    let recent = sample(&env, &["--strategy", "recent", "--n", "2"]);
    assert_eq!(ids(&recent), ["s-some", "s-bad"]);
}

#[test]
fn random_is_reproducible_with_a_seed_and_deduplicate_keeps_one_of_the_same_calls() {
    let env = TestEnv::new();
    for i in 0..12 {
        session(
            &env,
            &format!("r-{i:02}"),
            f64::from(i),
            i as usize % 3,
            &format!("cmd {}", i % 4),
        );
    }
    let one = sample(&env, &["--strategy", "random", "--n", "5", "--seed", "7"]);
    let two = sample(&env, &["--strategy", "random", "--n", "5", "--seed", "7"]);
    assert_eq!(ids(&one), ids(&two));
    assert_eq!(one.len(), 5);
    // Twelve sessions, three failure patterns by four commands: the calls repeat every 12/gcd.
    let unique = sample(
        &env,
        &["--strategy", "recent", "--n", "20", "--deduplicate"],
    );
    let all = sample(&env, &["--strategy", "recent", "--n", "20"]);
    assert_eq!(all.len(), 12);
    assert_eq!(
        unique.len(),
        4,
        "one session per command: {:?}",
        ids(&unique)
    );
    let diverse = sample(&env, &["--strategy", "diverse", "--n", "3"]);
    assert_eq!(diverse.len(), 3);
    assert_eq!(
        diverse[0]["score"]["error_rate"], 0.5,
        "the worst comes first"
    );
}

#[test]
fn output_goes_to_a_file_whole_and_never_through_a_link() {
    let env = TestEnv::new();
    session(&env, "o-1", 0.0, 1, "ls");
    let run = env.run(&["sample", "--n", "5", "--output", "set.jsonl"]);
    run.success();
    assert!(
        run.stdout.contains("Wrote 1 session to set.jsonl"),
        "{}",
        run.stdout
    );
    let text = std::fs::read_to_string(env.path().join("set.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 1);
    let target = env.path().join("precious");
    std::fs::write(&target, "keep").unwrap();
    std::os::unix::fs::symlink(&target, env.path().join("link.jsonl")).unwrap();
    let refused = env.run(&["sample", "--output", "link.jsonl"]);
    assert_eq!(refused.code, 3, "{refused:?}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
}

/// short.jsonl's two tool calls were both refused by the user and none failed: its error rate
/// is 0, not 1 (a refusal ranked it among the worst sessions).
#[test]
fn a_refused_call_is_no_error_in_the_score() {
    let env = TestEnv::new();
    let short = crate::common::shared().join("corpus/claude-code/marot__spotter/short.jsonl");
    env.run(&["import", short.to_str().unwrap()]).success();
    let lines = sample(&env, &["--strategy", "worst", "--n", "1"]);
    assert_eq!(lines[0]["score"]["tool_calls"], 2);
    assert_eq!(lines[0]["score"]["error_rate"], 0.0);
}

/// A sampled session's score gave the cost of `aide-gpt-5` (no known price) as 0 with nothing
/// to tell it from a session that cost nothing.
#[test]
fn a_score_names_the_models_its_cost_counts_at_zero_for_want_of_a_price() {
    use crate::common::import_unpriced_and_priced;

    let env = TestEnv::new();
    let (unpriced, priced) = import_unpriced_and_priced(&env);
    let lines = sample(&env, &["--strategy", "recent"]);
    let score = |id: &str| {
        lines
            .iter()
            .find(|l| l["session_id"] == id)
            .map(|l| l["score"].clone())
            .unwrap()
    };
    assert_eq!(
        score(&unpriced)["cost_unpriced_models"],
        json!(["aide-gpt-5"])
    );
    assert_eq!(score(&unpriced)["cost_usd"], 0.0);
    assert_eq!(score(&priced)["cost_unpriced_models"], json!([]));
}

/// Counts read as words do: `Wrote 1 session`, not `Wrote 1 session(s)`; `sample`, `optimize`,
/// `explain`, `diff`, `compare` and `standup` all count with one helper.
#[test]
fn counts_of_one_are_singular_and_no_message_hedges_with_s_in_brackets() {
    let env = TestEnv::new();
    SessionBuilder::new("c-one")
        .prompt("look")
        .tool_call("Read", json!({"file_path": "README.md"}))
        .result(json!("hello"))
        .session_end(json!({}))
        .write(&env);
    let run = env.run(&["sample", "--output", "one.jsonl"]);
    run.success();
    assert!(
        run.stdout.starts_with("Wrote 1 session to "),
        "{}",
        run.stdout
    );
    let run = env.run(&["optimize", "--since", "2020-01-01"]);
    run.success();
    assert_eq!(run.stdout.trim_end(), "No failure patterns in 1 session.");
    let text = env.run(&["standup", "c-one"]).success().stdout.clone();
    assert!(
        text.contains("Stats: 1 tool call, 0 retries, 0 errors"),
        "{text}"
    );
    let text = env
        .run(&["diff", "c-one", "c-one"])
        .success()
        .stdout
        .clone();
    assert!(
        text.contains(", 1 phase, 1 tool call, 0 errors, 0 retries, 1 file read, 0 written,"),
        "{text}"
    );
    for args in [
        &["sample", "--output", "one.jsonl"][..],
        &["optimize", "--since", "2020-01-01"],
        &["diff", "c-one", "c-one"],
        &["compare", "c-one", "c-one"],
        &["explain", "c-one"],
        &["lint", "c-one"],
    ] {
        let run = env.run(args);
        assert!(!run.stdout.contains("(s)"), "{args:?}: {}", run.stdout);
        assert!(!run.stderr.contains("(s)"), "{args:?}: {}", run.stderr);
    }
}

/// A session of two calls, one failed, whose turn then ended on an API error (StopFailure):
/// its error rate was 1 (the API's error counted as a failed call), ranking it among the worst
/// for the service's failure. It is 0.5, with the index and without it.
#[test]
fn an_api_error_that_ended_a_turn_is_no_error_in_the_score() {
    let env = TestEnv::new();
    SessionBuilder::new("s-api")
        .prompt("go")
        .tool_call("Bash", json!({"command": "make"}))
        .error("exit 2")
        .tool_call("Bash", json!({"command": "ls"}))
        .result(json!("ok"))
        .turn_error("API Error: 529 Overloaded")
        .write(&env);
    let lines = sample(&env, &["--strategy", "worst", "--n", "1"]);
    assert_eq!(
        lines[0]["score"]["error_rate"], 0.5,
        "{}",
        lines[0]["score"]
    );
    env.unusable_index();
    let lines = sample(&env, &["--strategy", "worst", "--n", "1"]);
    assert_eq!(
        lines[0]["score"]["error_rate"], 0.5,
        "{}",
        lines[0]["score"]
    );
}

/// `sample --seed 42` with a strategy that takes no seed (the default, `worst`) ignored it in
/// silence, as if the pick were reproducible by it; `compare --tag ""` took every session for
/// the task's. Both are refused with one line, exit 2.
#[test]
fn a_seed_without_random_and_an_empty_tag_are_refused() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.store()).unwrap();
    let seeded = env.run(&["sample", "--seed", "42"]);
    assert_eq!(seeded.code, 2, "{seeded:?}");
    assert!(
        seeded.stderr.contains("--strategy random"),
        "{}",
        seeded.stderr
    );
    assert_eq!(seeded.stderr.trim().lines().count(), 1, "{}", seeded.stderr);
    let random = env.run(&["sample", "--strategy", "random", "--seed", "42"]);
    assert_ne!(random.code, 2, "{random:?}");
    let tagged = env.run(&["compare", "--tag", ""]);
    assert_eq!(tagged.code, 2, "{tagged:?}");
    assert!(tagged.stderr.contains("empty"), "{}", tagged.stderr);
}

#[test]
fn a_session_whose_fold_is_damaged_is_scored_once_from_its_events() {
    let env = TestEnv::new();
    session(&env, "s-clean", 0.0, 0, "ls");
    session(&env, "s-bad", 10.0, 4, "cargo test");
    session(&env, "s-some", 20.0, 2, "make");
    env.settle_sessions();
    let before = sample(&env, &["--strategy", "worst", "--n", "5"]);
    assert_eq!(ids(&before), ["s-bad", "s-some", "s-clean"]);
    let conn = rusqlite::Connection::open(env.store().join(".index.sqlite")).unwrap();
    conn.execute(
        "UPDATE idx_folds SET fold = 'not a fold' \
         WHERE sid = (SELECT sid FROM idx_sessions WHERE session_id = 's-bad')",
        [],
    )
    .unwrap();
    let after = sample(&env, &["--strategy", "worst", "--n", "5"]);
    // The index was not folded again: the session's figures came from its events.
    let fold: String = conn
        .query_row(
            "SELECT fold FROM idx_folds JOIN idx_sessions USING (sid) WHERE session_id = 's-bad'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(fold, "not a fold");
    assert_eq!(ids(&after), ids(&before));
    assert_eq!(after[0]["score"], before[0]["score"]);
}

#[test]
fn the_blast_radius_counts_the_file_of_the_last_call_as_drift_does() {
    let env = TestEnv::new();
    // Two files written by calls whose results no file event follows (a hook-recorded Claude
    // Code session tells of a write by its call alone); the second is the session's last call.
    SessionBuilder::new("s-writes")
        .started(1_790_000_000.0)
        .meta(|m| m.agent_name = "claude-code".into())
        .prompt("write two files")
        .tool_call("Write", json!({"file_path": "/p/a.rs", "content": "a"}))
        .result(json!("ok"))
        .tool_call("Write", json!({"file_path": "/p/b.rs", "content": "b"}))
        .result(json!("ok"))
        .write(&env);
    let lines = sample(&env, &["--strategy", "worst", "--n", "1"]);
    assert_eq!(
        lines[0]["score"]["blast_radius"], 2,
        "{}",
        lines[0]["score"]
    );
    // `drift` counts the same two files for the session.
    let saved = env.path().join("fingerprint.json");
    env.run(&[
        "drift",
        "--since",
        "2020-01-01",
        "--save-baseline",
        saved.to_str().unwrap(),
    ])
    .success();
    let fingerprint: Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(fingerprint["sessions"], 1, "{fingerprint}");
    assert_eq!(fingerprint["blast_radius"]["mean"], 2.0, "{fingerprint}");
}

/// A session with no recorded usage has a cost estimated from payload sizes: `list` gave it
/// as `cost_estimated: true` (`~$0.0002`) and `sample`'s score as if it were exact. The score
/// says which its cost is, as `list` does.
#[test]
fn a_score_says_when_its_cost_is_an_estimate_as_list_does() {
    use crate::common::import_unpriced_and_priced;

    let env = TestEnv::new();
    let (_, priced) = import_unpriced_and_priced(&env);
    let unrecorded = session(&env, "no-usage", 0.0, 1, "cargo test");
    let lines = sample(&env, &["--strategy", "recent"]);
    let listed = env.run(&["list", "--format", "json"]).success().json();
    let mut flags = Vec::new();
    for line in &lines {
        let id = line["session_id"].as_str().unwrap();
        let row = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["session_id"] == id)
            .unwrap();
        let score = &line["score"];
        assert_eq!(score["cost_usd"], row["cost_usd"], "{id}");
        assert_eq!(score["cost_estimated"], row["cost_estimated"], "{id}");
        flags.push((id.to_owned(), score["cost_estimated"].clone()));
    }
    assert!(flags.contains(&(unrecorded, json!(true))), "{flags:?}");
    assert!(flags.contains(&(priced, json!(false))), "{flags:?}");
}

/// A session of `results` results of 20 KB each (and their calls), written as a hook writes
/// them; its `events.ndjson` is some 20 KB times `results`.
fn large_session(env: &TestEnv, id: &str, results: u32) {
    use std::fmt::Write as _;
    let dir = env.store().join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let t0 = 1_790_000_000.0;
    let meta = json!({"session_id": id, "started_at": t0, "ended_at": t0 + f64::from(results),
        "agent_name": "claude-code", "command": "c"});
    std::fs::write(dir.join("meta.json"), meta.to_string()).unwrap();
    let output = "y".repeat(20_000);
    let mut lines = String::new();
    for i in 0..results {
        let at = t0 + f64::from(i);
        let call = json!({"event_type": "tool_call", "timestamp": at, "event_id": format!("c{i}"),
            "session_id": id, "data": {"tool_name": "Bash", "arguments": {"command": "cat f"}}});
        let result = json!({"event_type": "tool_result", "timestamp": at + 0.5,
            "event_id": format!("r{i}"), "session_id": id, "parent_id": format!("c{i}"),
            "data": {"tool_name": "Bash", "result": output}});
        writeln!(lines, "{call}\n{result}").unwrap();
    }
    std::fs::write(dir.join("events.ndjson"), lines).unwrap();
}

/// `sample` built every chosen session's line before it wrote any, each line made from the
/// session held four and a half times over (its events, their JSON, the text, its escaped
/// copy): a 207 MB session took 916 MB for `--n 1`, and each more session chosen 200 MB more.
/// Each line is written as it is made, an event at a time, to a file or to standard output.
#[test]
fn chosen_sessions_are_written_as_they_are_read_not_held_together() {
    let env = TestEnv::new();
    let ids = ["big-1", "big-2", "big-3"];
    for id in ids {
        large_session(&env, id, 800);
    }
    let size_kib = std::fs::metadata(env.store().join("big-1/events.ndjson"))
        .unwrap()
        .len()
        / 1024;
    // The binary itself takes some 25 MiB; the three sessions together are three times
    // `size_kib`, and a session held once is `size_kib`.
    let most = size_kib + 32 * 1024;
    let to_file = env.command(&["sample", "--n", "3", "-o", "set.jsonl"]);
    let (run, peak) = crate::common::run_for_peak_memory_kib(&to_file);
    run.success();
    assert!(
        peak < most,
        "-o: {peak} KiB held for three sessions of {size_kib} KiB"
    );
    let (run, peak) = crate::common::run_for_peak_memory_kib(&env.command(&["sample", "--n", "3"]));
    let printed = run.success().stdout.clone();
    assert!(
        peak < most,
        "stdout: {peak} KiB held for three sessions of {size_kib} KiB"
    );
    // Each line is a whole session, and the file holds what standard output did.
    let written = std::fs::read_to_string(env.path().join("set.jsonl")).unwrap();
    assert!(written == printed, "the file and standard output differ");
    let mut seen = Vec::new();
    for line in written.lines() {
        let line: Value = serde_json::from_str(line).unwrap();
        assert_eq!(line["events"].as_array().unwrap().len(), 1600);
        seen.push(line["session_id"].as_str().unwrap().to_owned());
    }
    seen.sort();
    assert_eq!(seen, ids);
}

/// A session dated next year (a clock that was ahead, a log imported from a machine ahead) was
/// a candidate of `sample --since 7d`, "the last 7 days" (the most recent of all). A period
/// with no end ends now: it is left out, with the one warning `list` gives.
#[test]
fn sample_since_leaves_out_a_session_dated_after_now() {
    use crate::common::{LEFT_OUT_AS_AHEAD, a_session_now_and_one_next_year};

    let env = TestEnv::new();
    let (now, _) = a_session_now_and_one_next_year(&env);
    let run = env.run(&[
        "sample",
        "--since",
        "7d",
        "--strategy",
        "recent",
        "--n",
        "5",
    ]);
    run.success();
    let picked: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(ids(&picked), [now.as_str()], "{}", run.stdout);
    assert!(run.stderr.contains(LEFT_OUT_AS_AHEAD), "{}", run.stderr);
    // With no period, both are candidates.
    assert_eq!(sample(&env, &["--strategy", "recent", "--n", "5"]).len(), 2);
}

/// `sample --strategy recent --deduplicate --n 1` kept the oldest of sessions that made the same
/// calls, so the newest session was passed over for an older one: recent keeps the newest.
#[test]
fn recent_deduplicated_keeps_the_newest_of_the_same_calls() {
    let env = TestEnv::new();
    session(&env, "d-one", 0.0, 0, "ls");
    session(&env, "d-two", 10.0, 0, "make");
    session(&env, "d-three", 20.0, 0, "cargo test");
    session(&env, "d-dup", 30.0, 0, "ls");
    let newest = sample(&env, &["--strategy", "recent", "--n", "1", "--deduplicate"]);
    assert_eq!(ids(&newest), ["d-dup"]);
    let all = sample(&env, &["--strategy", "recent", "--n", "4", "--deduplicate"]);
    assert_eq!(ids(&all), ["d-dup", "d-three", "d-two"]);
}
