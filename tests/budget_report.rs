//! `budget-report`: spend over a period against the period before, from recorded usage.

use agent_strace::model::Tokens;
use chrono::{Local, NaiveDate, TimeZone};
use serde_json::{Value, json};

use crate::common::{SessionBuilder, TestEnv, separated};

fn noon(date: &str) -> f64 {
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap();
    Local
        .from_local_datetime(&d)
        .earliest()
        .unwrap()
        .timestamp() as f64
}

/// A session with one Sonnet response of the given usage.
fn session(env: &TestEnv, id: &str, date: &str, prompt: &str, tokens: Tokens) {
    SessionBuilder::new(id)
        .started(noon(date))
        .prompt(prompt)
        .at(1.0)
        .tool_call("Bash", json!({"command": "ls"}))
        .at(2.0)
        .llm_response("claude-sonnet-4-5", tokens)
        .ended(60.0)
        .write(env);
}

fn input(n: u64) -> Tokens {
    Tokens {
        input: n,
        ..Tokens::default()
    }
}

fn output(n: u64) -> Tokens {
    Tokens {
        output: n,
        ..Tokens::default()
    }
}

fn sonnet(kind: &str) -> f64 {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/data/prices.json");
    let prices: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let model = prices["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "claude-sonnet-4-5")
        .unwrap()
        .clone();
    model[kind].as_f64().unwrap()
}

#[test]
fn totals_change_top_sessions_and_tools() {
    let env = TestEnv::new();
    session(
        &env,
        "aaaa0001",
        "2026-03-03",
        "refactor auth",
        input(100_000),
    );
    session(&env, "bbbb0002", "2026-03-05", "add tests", output(100_000));
    session(
        &env,
        "cccc0003",
        "2026-02-25",
        "earlier work",
        input(150_000),
    );
    session(&env, "dddd0004", "2026-01-10", "long ago", input(5_000));
    let r = env
        .run(&[
            "budget-report",
            "--since",
            "2026-03-01",
            "--until",
            "2026-03-07",
            "--format",
            "json",
        ])
        .success()
        .json();
    let (input_price, output_price) = (sonnet("input"), sonnet("output"));
    // 100,000 tokens each (under the long-context threshold), prices per million.
    let total = (input_price + output_price) / 10.0;
    let prior = 0.15 * input_price;
    assert!(
        (r["total_usd"].as_f64().unwrap() - total).abs() < 1e-9,
        "{} vs {total}",
        r["total_usd"]
    );
    assert!((r["prior_total_usd"].as_f64().unwrap() - prior).abs() < 1e-9);
    assert!((r["change_pct"].as_f64().unwrap() - (total - prior) / prior * 100.0).abs() < 1e-9);
    assert_eq!(
        (r["sessions"].as_u64(), r["prior_sessions"].as_u64()),
        (Some(2), Some(1))
    );
    assert!((r["average_usd"].as_f64().unwrap() - total / 2.0).abs() < 1e-9);
    assert_eq!(r["top"][0]["session_id"], "bbbb0002");
    assert_eq!(r["top"][0]["label"], "add tests");
    assert_eq!(r["top"][1]["session_id"], "aaaa0001");
    assert_eq!(r["by_tool"][0]["tool"], "Bash");
    assert!((r["by_tool"][0]["share"].as_f64().unwrap() - 1.0).abs() < 1e-9);
    assert_eq!(r["watchdog"]["recorded"], false);

    let text = env
        .run(&[
            "budget-report",
            "--since",
            "2026-03-01",
            "--until",
            "2026-03-07",
        ])
        .success()
        .stdout
        .clone();
    assert!(
        text.starts_with("Budget Report — Mar 1, 2026 to Mar 7, 2026\n"),
        "{text}"
    );
    assert!(text.contains("Sessions: 2 (↑ 1 vs prior period)"), "{text}");
    let md = env
        .run(&[
            "budget-report",
            "--since",
            "2026-03-01",
            "--until",
            "2026-03-07",
            "--format",
            "markdown",
        ])
        .success()
        .stdout
        .clone();
    assert!(
        md.starts_with("# Budget Report")
            && md.contains("## Top 2 most expensive sessions:")
            && md.contains("1. `bbbb0002`"),
        "{md}"
    );
}

#[test]
fn bad_dates_are_one_clear_error() {
    let env = TestEnv::new();
    session(&env, "aaaa0001", "2026-03-03", "x", input(1));
    let bad = env.run(&["budget-report", "--since", "March 1"]);
    assert_eq!(bad.code, 2);
    assert_eq!(
        bad.stderr,
        "error: --since `March 1` is neither a date like 2026-11-25, a time like 2026-11-25T10:00:00Z nor an age like 7d\n"
    );
    let backwards = env.run(&[
        "budget-report",
        "--since",
        "2026-03-05",
        "--until",
        "2026-03-01",
    ]);
    assert_eq!(backwards.code, 2);
}

#[test]
fn periods_can_be_ages() {
    let env = TestEnv::new();
    // Yesterday's noon: 12 to 36 hours ago whenever the test runs (today's noon is still to
    // come before noon, and a session dated in the future counts in no period).
    let yesterday = (chrono::Local::now() - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    session(&env, "aaaa0001", &yesterday, "recent", input(1000));
    session(&env, "aaaa0002", "2020-01-01", "old", input(1000));
    let report = env.run(&["budget-report", "--since", "2d", "--format", "json"]);
    report.success();
    let json = report.json();
    assert_eq!(json["sessions"], 1, "{json}");
    // One session is the top one, in the singular.
    let text = env
        .run(&["budget-report", "--since", "2d"])
        .success()
        .stdout
        .clone();
    assert!(text.contains("\nTop 1 most expensive session:\n"), "{text}");
}

/// A day, a tool and a billing block whose spend counts `aide-gpt-5` (no known price) at $0
/// showed `$0.0000` unmarked, and so did the average, though the total was marked.
#[test]
fn days_tools_blocks_and_the_average_that_count_an_unpriced_model_are_marked() {
    use crate::common::{UNPRICED_NOTE, import_unpriced_and_priced};

    let env = TestEnv::new();
    import_unpriced_and_priced(&env);
    let period = ["--since", "2025-09-01", "--until", "2026-03-01", "--blocks"];
    let report = env
        .run(&[&["budget-report", "--format", "json"][..], &period[..]].concat())
        .success()
        .json();
    let marked = |key: &str| -> Vec<(f64, bool)> {
        report[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["cost_usd"].as_f64().unwrap(), r["unpriced"] == true))
            .collect()
    };
    assert_eq!(
        marked("by_day"),
        [(0.0, true), (0.144_447_5, false)],
        "{report}"
    );
    assert_eq!(
        marked("blocks"),
        [(0.0, true), (0.144_447_5, false)],
        "{report}"
    );
    let tools: Vec<(&str, bool)> = report["by_tool"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["tool"].as_str().unwrap(), t["unpriced"] == true))
        .collect();
    assert!(tools.contains(&("shell", true)), "{report}");
    assert!(tools.contains(&("Bash", false)), "{report}");

    let text = env
        .run(&[&["budget-report"][..], &period[..]].concat())
        .success()
        .stdout
        .clone();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&"Avg cost/session: $0.0722?"), "{text}");
    let days: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("20") && !l.contains("(spent "))
        .collect();
    assert_eq!(days.len(), 2, "{text}");
    assert!(days[0].ends_with(" $0.0000?"), "{text}");
    assert!(days[1].ends_with(" $0.1444"), "{text}");
    assert!(lines.contains(&"shell $0.0000? (0%)"), "{text}");
    assert!(lines.contains(&"Bash $0.0722 (50%)"), "{text}");
    let blocks: Vec<&&str> = lines.iter().filter(|l| l.contains("(spent ")).collect();
    assert_eq!(blocks.len(), 2, "{text}");
    assert!(blocks[0].contains(" $0.0000? (spent "), "{text}");
    assert!(blocks[1].contains(" $0.1444 (spent "), "{text}");
    assert_eq!(lines.last(), Some(&UNPRICED_NOTE), "{text}");
}

/// A prior period that spent a few millionths of a dollar makes a change of hundreds of
/// millions of percent: it read `↑ 499999900%`, its thousands run together.
#[test]
fn a_change_of_millions_of_percent_separates_its_thousands() {
    let env = TestEnv::new();
    session(&env, "aaaa0001", "2026-03-03", "big", output(1_000_000));
    session(&env, "bbbb0002", "2026-02-25", "tiny", input(1));
    let args = [
        "budget-report",
        "--since",
        "2026-03-01",
        "--until",
        "2026-03-07",
    ];
    let r = env
        .run(&[&args[..], &["--format", "json"]].concat())
        .success()
        .json();
    let pct = r["change_pct"].as_f64().unwrap();
    assert!(pct > 1e6, "{r}");
    let text = env.run(&args).success().stdout.clone();
    let said = format!("↑ {}% vs prior period", separated(pct.round() as u64));
    assert!(text.contains(&said), "{said} in {text}");
}

/// A reader who may not write a shared store (`chmod -R go+rX .agent-traces`, read as another
/// user: docs/security.md) reads its index as it is, in silence, and caches no spends in it.
/// Every run once warned "could not cache costs in the session index (… attempt to write a
/// readonly database)".
#[test]
fn a_reader_who_may_not_write_the_store_gets_the_report_without_a_warning() {
    let env = TestEnv::new();
    session(&env, "aaaa0001", "2026-03-03", "refactor", input(100_000));
    let args = [
        "budget-report",
        "--since",
        "2026-03-01",
        "--until",
        "2026-03-07",
        "--format",
        "json",
    ];
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: needs root and setpriv to read the store as another user");
        return;
    }
    // A folder changed within the last seconds is looked at again on the next read, which
    // this reader could not write: the session was written an hour ago.
    std::fs::File::open(env.store().join("aaaa0001"))
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
        .unwrap();
    // Its owner keeps the index up to date, but has not run the report (no spend cached).
    env.run(&["list"]).success();
    for path in [env.path(), &env.store(), env.home()] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let index = env.store().join(".index.sqlite");
    let before = std::fs::read(&index).unwrap();
    for _ in 0..2 {
        let run = crate::common::as_nobody(&env, &args);
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:?}");
        assert_eq!(run.json()["sessions"], 1);
    }
    assert_eq!(
        std::fs::read(&index).unwrap(),
        before,
        "read, never written"
    );
    assert_eq!(
        crate::common::as_nobody(&env, &args).json(),
        env.run(&args).success().json(),
        "as its owner reads it"
    );
}

/// A period spent wholly on a model with no known price counts it at $0: against a priced
/// prior period that read as a confident `↓ 100% vs prior period` (`change_pct: -100`), and
/// a prior period spent on such a model read as "nothing spent". The change is marked as the
/// dollars are, the prior period's model named, and a change of nothing known is not made up.
#[test]
fn a_change_that_counts_a_model_without_a_price_is_marked() {
    let env = TestEnv::new();
    session(&env, "aaaa0001", "2026-02-25", "priced", output(1_000));
    SessionBuilder::new("bbbb0002")
        .started(noon("2026-03-03"))
        .prompt("unpriced")
        .at(1.0)
        .llm_response("no-such-model-9", output(1_000))
        .ended(60.0)
        .write(&env);
    session(
        &env,
        "cccc0003",
        "2026-03-10",
        "priced again",
        output(1_000),
    );
    let period = |since: &'static str, until: &'static str| {
        ["budget-report", "--since", since, "--until", until]
    };
    let now = period("2026-03-01", "2026-03-07");
    let json = env
        .run(&[&now[..], &["--format", "json"]].concat())
        .success()
        .json();
    assert_eq!(json["change_pct"], -100.0, "{json}");
    assert_eq!(json["change_unpriced"], true, "{json}");
    let text = env.run(&now).success().stdout.clone();
    assert!(
        text.contains("Total spend: $0.0000? (↓ 100%? vs prior period)"),
        "{text}"
    );
    // The prior period alone counts the model at $0: its change is marked, its model named.
    let later = period("2026-03-08", "2026-03-15");
    let text = env.run(&later).success().stdout.clone();
    assert!(
        text.contains("change not known: a model has no price"),
        "{text}"
    );
    assert!(text.contains("(no-such-model-9)"), "{text}");
    let json = env
        .run(&[&later[..], &["--format", "json"]].concat())
        .success()
        .json();
    assert_eq!(
        json["prior_unpriced_models"],
        json!(["no-such-model-9"]),
        "{json}"
    );
    assert_eq!(json["change_pct"], Value::Null, "{json}");
    // A prior period with no session spent nothing, whatever the current one's models.
    let first = period("2026-03-03", "2026-03-04");
    let text = env.run(&first).success().stdout.clone();
    assert!(
        text.contains("(nothing spent in the prior period)"),
        "{text}"
    );
}

/// The text names the costliest tools and counts the rest in one line: it cut the list at ten
/// without a word, so the tools it showed added up to less than the total above them.
#[test]
fn tools_past_the_listed_ones_are_counted_in_one_line() {
    let env = TestEnv::new();
    let tools: Vec<String> = (1..=13).map(|i| format!("tool{i:02}")).collect();
    let mut session = SessionBuilder::new("eeee0005")
        .started(noon("2026-03-03"))
        .prompt("many tools");
    for (i, tool) in tools.iter().enumerate() {
        // Each tool called a different number of times, so each has its own share.
        for _ in 0..=i {
            session = session.at(1.0).tool_call(tool, json!({}));
        }
    }
    session
        .at(2.0)
        .llm_response("claude-sonnet-4-5", input(1_000_000))
        .ended(60.0)
        .write(&env);
    let period = ["--since", "2026-03-01", "--until", "2026-03-07"];
    let json = env
        .run(&[&["budget-report"], &period[..], &["--format", "json"]].concat())
        .success()
        .json();
    let listed = json["by_tool"].as_array().unwrap().len();
    assert_eq!(listed, tools.len());
    for format in ["text", "markdown"] {
        let text = env
            .run(&[&["budget-report"], &period[..], &["--format", format]].concat())
            .success()
            .stdout
            .clone();
        let rows: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.contains("Cost by tool"))
            .skip(1)
            .take_while(|l| l.contains('$'))
            .collect();
        let named = rows.iter().filter(|r| r.contains("tool")).count() - 1;
        let rest = rows.last().unwrap();
        assert!(
            rest.contains(&format!("and {} more tools", listed - named)),
            "{text}"
        );
        // Every dollar of the total is in some row.
        let sum: f64 = rows
            .iter()
            .map(|r| {
                let dollars = r.split('$').nth(1).unwrap();
                let figure: String = dollars
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
                    .filter(|c| *c != ',')
                    .collect();
                figure.parse::<f64>().unwrap()
            })
            .sum();
        let total = json["total_usd"].as_f64().unwrap();
        assert!((sum - total).abs() < 0.01, "{sum} vs {total}: {text}");
    }
}

fn in_utc(env: &TestEnv, args: &[&str]) -> crate::common::Run {
    crate::common::Run::of(env.command(args).env("TZ", "UTC").output().unwrap())
}

/// A session that started on the period's last day and spent the next: "Cost by day" listed
/// that next day as if it were in the period (the header ending the day before, the session
/// dated on it). Its spend stays on the day it was spent, marked as after the period, and the
/// days still add up to the total.
#[test]
fn spend_after_the_period_is_marked_so_on_its_day_and_block() {
    let env = TestEnv::new();
    let start = chrono::DateTime::parse_from_rfc3339("2026-12-05T23:50:00Z")
        .unwrap()
        .timestamp() as f64;
    SessionBuilder::new("spanning")
        .started(start)
        .prompt("overnight")
        .at(7200.0)
        .llm_response("claude-sonnet-4-5", input(100_000))
        .ended(7210.0)
        .write(&env);
    let period = ["--since", "2026-12-01", "--until", "2026-12-05", "--blocks"];
    let json = in_utc(
        &env,
        &[&["budget-report", "--format", "json"][..], &period].concat(),
    )
    .success()
    .json();
    let days = json["by_day"].as_array().unwrap();
    assert!(!days.is_empty(), "{json:#}");
    for day in days {
        let after = day["day"].as_str().unwrap() > "2026-12-05";
        assert_eq!(day["after_period"], after, "{json:#}");
    }
    let sum: f64 = days.iter().map(|d| d["cost_usd"].as_f64().unwrap()).sum();
    assert!(
        (sum - json["total_usd"].as_f64().unwrap()).abs() < 1e-9,
        "{json:#}"
    );
    assert!(
        json["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["after_period"] == true),
        "{json:#}"
    );
    let text = in_utc(&env, &[&["budget-report"][..], &period].concat());
    let text = &text.success().stdout;
    let spent_day = text
        .lines()
        .skip_while(|l| *l != "Cost by day:")
        .nth(1)
        .unwrap();
    assert!(
        spent_day.starts_with("2026-12-06 (after the period) $"),
        "{text}"
    );
    assert!(text.contains(" — after the period\n"), "{text}");
}

/// A period that does not run from midnight to midnight was named by its days alone, so an
/// hour read "between Dec 6, 2026 and Dec 6, 2026" and half a second "between Dec 6, 2026 and
/// Dec 5, 2026"; a future --since alone was refused as "--since must be before --until", a flag
/// not given.
#[test]
fn a_period_is_named_by_its_times_and_a_future_start_is_said_so() {
    let env = TestEnv::new();
    session(&env, "aaaa0001", "2026-03-03", "x", input(1));
    let hour = in_utc(
        &env,
        &[
            "budget-report",
            "--since",
            "2026-12-06T02:00:00Z",
            "--until",
            "2026-12-06T03:00:00Z",
        ],
    );
    assert!(
        hour.success()
            .stdout
            .contains("between Dec 6, 2026 02:00 and Dec 6, 2026 03:00;"),
        "{}",
        hour.stdout
    );
    let blink = in_utc(
        &env,
        &[
            "budget-report",
            "--since",
            "2026-12-06T00:00:00Z",
            "--until",
            "2026-12-06T00:00:00.5Z",
        ],
    );
    assert!(
        !blink.success().stdout.contains("Dec 5"),
        "{}",
        blink.stdout
    );
    let days = in_utc(
        &env,
        &[
            "budget-report",
            "--since",
            "2026-03-01",
            "--until",
            "2026-03-07",
        ],
    );
    assert!(
        days.success()
            .stdout
            .starts_with("Budget Report — Mar 1, 2026 to Mar 7, 2026\n"),
        "{}",
        days.stdout
    );
    let future = env.run(&["budget-report", "--since", "2999-01-01"]);
    future.fails_with(2, "--since `2999-01-01` is in the future");
    assert!(
        !future.stderr.contains("must be before"),
        "{}",
        future.stderr
    );
}
