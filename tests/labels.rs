//! Failures named right (issue 10), on real transcripts of the corpus: a refused call is a
//! rejection in every command, `explain` fails a phase only on a failing test run, build or
//! check, lists every failure and reports retry loops, wasted time is never negative, `cost`
//! counts subagents in, and `stats` says reads, writes and files as every command does.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::common::{TestEnv, shared};

fn corpus(path: &str) -> String {
    shared()
        .join("corpus/claude-code")
        .join(path)
        .to_str()
        .unwrap()
        .to_owned()
}

/// A store holding the corpus transcript at `path` (with its subagents).
fn imported(path: &str) -> TestEnv {
    let env = TestEnv::new();
    env.run(&["import", &corpus(path)]).success();
    env
}

fn json(env: &TestEnv, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    env.run(&all).success().json()
}

const SHORT: &str = "marot__spotter/short.jsonl";
const SHORT_ID: &str = "55604662";

#[test]
fn a_refused_call_is_a_rejection_in_stats_explain_replay_and_sql() {
    // The user refused both calls of this session ("The user doesn't want to proceed …").
    let env = imported(SHORT);
    let stats = json(&env, &["stats", SHORT_ID]);
    assert_eq!(
        (&stats["tool_calls"], &stats["errors"], &stats["rejections"]),
        (&json!(2), &json!(0), &json!(2))
    );
    let tools: Vec<(&str, u64, u64)> = stats["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tool"].as_str().unwrap(),
                t["errors"].as_u64().unwrap(),
                t["rejections"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(tools, [("Bash", 0, 1), ("Glob", 0, 1)]);
    let text = env.run(&["stats", SHORT_ID]).success().stdout.clone();
    assert!(text.contains("Errors: 0   Rejected: 2"), "{text}");

    let explained = json(&env, &["explain", SHORT_ID]);
    let phases = explained["phases"].as_array().unwrap();
    assert!(phases.iter().all(|p| p["failed"] == false), "{explained}");
    assert_eq!(explained["failures"], json!([]));
    assert_eq!(explained["rejections"], 2);
    let refused: Vec<&str> = explained["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tool"].as_str().unwrap())
        .collect();
    assert_eq!(refused, ["Bash", "Glob"]);
    assert_eq!(phases[0]["ran"][0]["verdict"], "rejected");
    let text = env.run(&["explain", SHORT_ID]).success().stdout.clone();
    assert!(!text.contains("FAILED"), "{text}");
    assert!(text.contains("Rejected by the user (2):"), "{text}");

    let replay = env.run(&["replay", SHORT_ID]).success().stdout.clone();
    assert!(replay.contains("⊘ rejected Bash"), "{replay}");
    assert!(replay.contains("⊘ rejected Glob"), "{replay}");
    assert!(!replay.contains("✗ error"), "{replay}");

    let rows = env
        .run(&[
            "sql",
            "--format",
            "json",
            "SELECT tool, outcome, failed, rejected FROM tool_calls ORDER BY seq",
        ])
        .success()
        .json();
    assert_eq!(
        rows,
        json!([
            {"tool": "Bash", "outcome": "rejected", "failed": 0, "rejected": 1},
            {"tool": "Glob", "outcome": "rejected", "failed": 0, "rejected": 1},
        ])
    );
}

#[test]
fn refusals_of_an_older_claude_code_are_rejections_too() {
    // Claude Code 1.0.95: an Edit and an MCP call refused, in Chinese surroundings.
    let env = imported("Mai0313__VibeCodingTracker/claude_code-v1.0.95.jsonl");
    let stats = json(&env, &["stats", "e9f146fa"]);
    assert_eq!(
        (&stats["errors"], &stats["rejections"]),
        (&json!(0), &json!(2))
    );
    let explained = json(&env, &["explain", "e9f146fa"]);
    let refused: BTreeSet<&str> = explained["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tool"].as_str().unwrap())
        .collect();
    assert_eq!(
        refused,
        BTreeSet::from(["Edit", "mcp__context7__resolve-library-id"])
    );
}

#[test]
fn a_call_the_user_stopped_through_the_hooks_is_a_rejection() {
    let env = TestEnv::new();
    let payload = |event: &str, extra: Value| {
        let mut p = json!({"session_id": "7a3c0000-0000-4000-8000-000000000001", "transcript_path": "/nonexistent.jsonl", "cwd": env.path(), "hook_event_name": event});
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    };
    let input = json!({"tool_name": "Bash", "tool_input": {"command": "npm test"}, "tool_use_id": "toolu_1"});
    env.hook("pre-tool", &payload("PreToolUse", input.clone()))
        .success();
    let mut failure = input;
    failure["error"] = json!("tool call failed");
    failure["is_interrupt"] = json!(true);
    env.hook("post-tool-failure", &payload("PostToolUseFailure", failure))
        .success();
    let stats = json(&env, &["stats"]);
    assert_eq!(
        (&stats["errors"], &stats["rejections"]),
        (&json!(0), &json!(1))
    );
    let explained = json(&env, &["explain"]);
    assert_eq!(explained["phases"][0]["failed"], false);
    assert_eq!(explained["rejected"][0]["what"], "npm test");
}

#[test]
fn nothing_to_commit_is_no_failed_test_run() {
    // The tests passed; then a `git commit` found nothing to commit (exit 1).
    let env = imported("DRMacIver__claude-reliability/coverage-test-fix.jsonl");
    let explained = json(&env, &["explain", "c64cc478"]);
    let phases = explained["phases"].as_array().unwrap();
    assert!(phases.iter().all(|p| p["failed"] == false), "{explained}");
    assert_eq!(explained["failures"], json!([]));
    let commit = phases
        .iter()
        .flat_map(|p| p["ran"].as_array().unwrap())
        .find(|r| r["verdict"] == "answered")
        .expect("the empty commit");
    assert_eq!(commit["note"], "nothing to commit");
    assert_eq!(commit["purpose"], "commit");
    // The tool's own figure still counts it: one error, no rejection.
    assert_eq!(
        (&explained["errors"], &explained["rejections"]),
        (&json!(1), &json!(0))
    );
    let text = env.run(&["explain", "c64cc478"]).success().stdout.clone();
    assert!(text.contains("(nothing to commit)"), "{text}");
    assert!(!text.contains("FAILED"), "{text}");
}

#[test]
fn failing_tests_fail_their_phase_and_their_retries_are_a_loop() {
    let env = imported("marot__spotter/258c7280-ae70-4798-800f-63464d01a85d.jsonl");
    let explained = json(&env, &["explain", "258c"]);
    let phases = explained["phases"].as_array().unwrap();
    let failed: Vec<&Value> = phases.iter().filter(|p| p["failed"] == true).collect();
    assert_eq!(failed.len(), 1, "{explained}");
    assert_eq!(failed[0]["label"], "run tests");
    // `mix test` of one file: a compile error, then failing tests three times, then a pass.
    let loops = explained["retry_loops"].as_array().unwrap();
    let tests = loops
        .iter()
        .find(|l| l["goal"] == "test: mix test")
        .expect("the mix test loop");
    assert_eq!(tests["attempts"].as_array().unwrap().len(), 5);
    assert_eq!(tests["resolved"], true);
    let failures = explained["failures"].as_array().unwrap();
    let notes: Vec<&str> = failures
        .iter()
        .filter(|f| f["purpose"] == "test")
        .map(|f| f["note"].as_str().unwrap())
        .collect();
    assert_eq!(
        notes,
        ["did not compile", "5 failed", "5 failed", "4 failed"]
    );
    // A push without an upstream is listed, and fails no phase.
    let push = failures
        .iter()
        .find(|f| f["what"] == "git push 2>&1")
        .expect("the push");
    assert_eq!(push["note"], "exit 128");
    // The refused TaskOutput is a rejection, not a failure.
    assert_eq!(explained["rejected"][0]["tool"], "TaskOutput");
    let wasted = explained["wasted_s"].as_f64().unwrap();
    assert!(wasted > 0.0 && wasted < explained["duration_s"].as_f64().unwrap());
}

#[test]
fn a_commit_hook_blocking_commit_after_commit_is_a_retry_loop_and_every_failure_is_listed() {
    let env = imported("marot__spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl");
    let explained = json(&env, &["explain", "ae4a"]);
    let loops = explained["retry_loops"].as_array().unwrap();
    let commits: Vec<&Value> = loops
        .iter()
        .filter(|l| l["goal"] == "commit: git commit")
        .collect();
    let longest = commits
        .iter()
        .max_by_key(|l| l["attempts"].as_array().unwrap().len())
        .expect("a commit loop");
    let attempts = longest["attempts"].as_array().unwrap();
    assert!(attempts.len() >= 7, "{longest}");
    // The attempts run up to and past the one that tried `--no-verify`.
    let no_verify = explained["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["what"].as_str().unwrap().contains("--no-verify"))
        .expect("the --no-verify attempt");
    assert_eq!(no_verify["note"], "blocked by its hook's checks");
    assert!(attempts.contains(&no_verify["event"]));
    assert!(longest["duration_s"].as_f64().unwrap() > 0.0);
    assert!(longest["wasted_s"].as_f64().unwrap() > 0.0);
    // The phase the blocked commits ended in failed its checks.
    let phase = &explained["phases"][no_verify["phase"].as_u64().unwrap() as usize - 1];
    assert_eq!(phase["failed"], true);

    // In the text, every failure is shown: none is folded into "… and N more commands".
    let text = env.run(&["explain", "ae4a"]).success().stdout.clone();
    for failure in explained["failures"].as_array().unwrap() {
        assert!(
            text.contains(&format!("  #{} ", failure["event"])),
            "#{} is missing:\n{text}",
            failure["event"]
        );
    }
    for line in text.lines().filter(|l| l.contains("more command")) {
        assert!(line.ends_with("none failed"), "{line}");
    }
    assert!(text.contains("Retry loops ("), "{text}");
}

#[test]
fn wasted_time_is_never_negative_nor_minus_zero() {
    // A session without a single failure.
    let env = imported("DRMacIver__claude-reliability/python-to-rust-port.jsonl");
    let explained = json(&env, &["explain", "c7d3d95c"]);
    assert_eq!(explained["wasted_s"].as_f64().unwrap().to_bits(), 0);
    let text = env.run(&["explain", "c7d3d95c"]).success().stdout.clone();
    assert!(
        text.ends_with("Retries: 0 (wasted 0.00s, 0% of session)\n"),
        "{text}"
    );
    assert!(!text.contains("-0"), "{text}");
}

#[test]
fn cost_counts_subagents_in_by_default() {
    let env = imported("marot__spotter/258c7280-ae70-4798-800f-63464d01a85d.jsonl");
    let all = json(&env, &["cost", "258c"]);
    assert_eq!(all["subagents"].as_array().unwrap().len(), 2);
    // ccusage 20.0.24's per-session figures for the file with its subagents folder.
    let t = &all["tokens"];
    assert_eq!(
        [
            &t["input"],
            &t["output"],
            &t["cache_creation"],
            &t["cache_read"]
        ],
        [198, 38908, 394_137, 14_972_534]
    );
    let alone = json(&env, &["cost", "258c", "--no-subagents"]);
    assert!(alone.get("subagents").is_none(), "{alone}");
    assert!(alone["cost_usd"].as_f64().unwrap() < all["cost_usd"].as_f64().unwrap());
    // The old flag is still accepted, and changes nothing.
    let old = json(&env, &["cost", "258c", "--include-subagents"]);
    assert_eq!(old["cost_usd"], all["cost_usd"]);
    let both = env.run(&["cost", "258c", "--include-subagents", "--no-subagents"]);
    assert_eq!(both.code, 2, "{}", both.stderr);
}

#[test]
fn stats_over_subagents_reports_wall_time() {
    let env = imported("marot__spotter/258c7280-ae70-4798-800f-63464d01a85d.jsonl");
    let stats = json(&env, &["stats", "258c", "--include-subagents"]);
    let ids: Vec<&str> = stats["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    // The union of the sessions' spans, from what `inspect` says of each.
    let mut spans: Vec<(f64, f64)> = ids
        .iter()
        .map(|id| {
            let meta = &env.run(&["inspect", id]).success().json()["meta"];
            (
                meta["started_at"].as_f64().unwrap(),
                meta["ended_at"].as_f64().unwrap(),
            )
        })
        .collect();
    let sum: f64 = spans.iter().map(|(s, e)| e - s).sum();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut union = 0.0;
    let mut current = spans[0];
    for &(s, e) in &spans[1..] {
        if s <= current.1 {
            current.1 = current.1.max(e);
        } else {
            union += current.1 - current.0;
            current = (s, e);
        }
    }
    union += current.1 - current.0;
    let duration = stats["duration_s"].as_f64().unwrap();
    assert!((duration - union).abs() < 1e-6, "{duration} vs {union}");
    assert!(duration < sum - 1.0, "{duration} vs the sum {sum}");
}

#[test]
fn stats_says_reads_and_writes_for_calls_and_files_for_distinct_files() {
    let env = imported("marot__spotter/258c7280-ae70-4798-800f-63464d01a85d.jsonl");
    let stats = json(&env, &["stats", "258c"]);
    let explained = json(&env, &["explain", "258c"]);
    let files = explained["files"].as_array().unwrap();
    let count = |key: &str| {
        files
            .iter()
            .filter(|f| f[key].as_u64().unwrap() > 0)
            .count()
    };
    let sum = |key: &str| files.iter().map(|f| f[key].as_u64().unwrap()).sum::<u64>();
    // The same words, the same figures, in both commands.
    assert_eq!(stats["files_read"], count("reads"));
    assert_eq!(stats["files_written"], count("writes"));
    assert_eq!(stats["files"], files.len());
    assert_eq!(stats["reads"], sum("reads"));
    assert_eq!(stats["writes"], sum("writes"));
    assert!(stats["reads"].as_u64().unwrap() > stats["files_read"].as_u64().unwrap());
    let text = env.run(&["stats", "258c"]).success().stdout.clone();
    let line = format!(
        "Reads: {}   Writes: {}   Files: {} ({} read, {} written)",
        stats["reads"],
        stats["writes"],
        stats["files"],
        stats["files_read"],
        stats["files_written"]
    );
    assert!(text.contains(&line), "{line}\n{text}");
    let explain_text = env.run(&["explain", "258c"]).success().stdout.clone();
    assert!(
        explain_text.contains(&format!(
            "Files touched: {} read, {} written",
            stats["files_read"], stats["files_written"]
        )),
        "{explain_text}"
    );
    assert!(
        explain_text.contains(&format!(
            "Tool calls: {}   Errors: {}   Rejected: {}",
            stats["tool_calls"], stats["errors"], stats["rejections"]
        )),
        "{explain_text}"
    );
}
