//! Periods and days cut by local time on the days the clocks change: a date names its local
//! day by the zone's rules for that date (23 or 25 hours long), in `--since`, `--until`, the
//! budget report's week and the dashboard's days.

use agent_strace::model::Tokens;
use chrono::DateTime;

use crate::common::{Run, SessionBuilder, TestEnv};

/// The zone every test here runs in: its clocks go back on 2026-11-01 and forward on
/// 2026-03-08.
const NEW_YORK: &str = "America/New_York";

fn at(utc: &str) -> f64 {
    DateTime::parse_from_rfc3339(utc).unwrap().timestamp() as f64
}

/// A session started at `utc` with one Sonnet response `responds` seconds later.
fn session(env: &TestEnv, id: &str, utc: &str, responds: f64) {
    SessionBuilder::new(id)
        .started(at(utc))
        .prompt("do thing")
        .at(responds)
        .llm_response(
            "claude-sonnet-4-5",
            Tokens {
                input: 100_000,
                output: 100_000,
                ..Tokens::default()
            },
        )
        .ended(responds + 10.0)
        .write(env);
}

fn run_in(env: &TestEnv, zone: &str, args: &[&str]) -> Run {
    Run::of(env.command(args).env("TZ", zone).output().unwrap())
}

fn listed(env: &TestEnv, args: &[&str]) -> Vec<String> {
    let args = [&["list", "--format", "json"][..], args].concat();
    let mut ids = run_in(env, NEW_YORK, &args).success().session_ids();
    ids.sort();
    ids
}

/// `--until 2026-11-01` ends where 2026-11-02 starts in New York, 25 hours after 11-01's
/// midnight: a session at 23:30 on 11-01 was left out (its day was cut at 24 hours). And
/// 2026-03-08, 23 hours long, took in a session at 00:30 on 03-09.
#[test]
fn a_date_ends_where_the_next_local_day_starts() {
    let env = TestEnv::new();
    // 2026-11-01 23:30 EST, and 2026-03-09 00:30 EDT.
    session(&env, "nyfall", "2026-11-02T04:30:00Z", 20.0);
    session(&env, "nyspring", "2026-03-09T04:30:00Z", 20.0);
    assert!(listed(&env, &["--until", "2026-11-01"]).contains(&"nyfall".to_owned()));
    assert!(listed(&env, &["--since", "2026-11-02"]).is_empty());
    assert_eq!(
        listed(&env, &["--since", "2026-03-09", "--until", "2026-03-09"]),
        ["nyspring"]
    );
    let day_before = run_in(
        &env,
        NEW_YORK,
        &["list", "--since", "2026-03-08", "--until", "2026-03-08"],
    );
    assert!(
        !day_before.stdout.contains("nyspring"),
        "{}",
        day_before.stdout
    );
    // docs/sql.md: `started_at < unixepoch('2026-11-02', 'utc')` is `--until 2026-11-01`.
    let sql = run_in(
        &env,
        NEW_YORK,
        &[
            "sql",
            "--format",
            "json",
            "select session_id from sessions where started_at < unixepoch('2026-11-02', 'utc') \
             and started_at >= unixepoch('2026-11-01', 'utc')",
        ],
    );
    assert_eq!(
        sql.success().session_ids(),
        listed(&env, &["--since", "2026-11-01", "--until", "2026-11-01"])
    );
}

/// `budget-report`'s JSON report, run in New York.
fn budget(env: &TestEnv, args: &[&str]) -> serde_json::Value {
    let args = [&["budget-report", "--format", "json"][..], args].concat();
    run_in(env, NEW_YORK, &args).success().json()
}

/// `budget-report --until 2026-11-03` is the seven local days 10-28 to 11-03, and the prior
/// period the seven before: the week the clocks go back is 169 hours, and 7 × 86,400 s back
/// from its end left out 10-28's first hour (a session at 00:30 that day) while the header
/// named 10-28.
#[test]
fn a_budget_week_is_seven_local_days_across_a_clock_change() {
    let env = TestEnv::new();
    // 2026-10-28 00:30 EDT: the period's first hour.
    session(&env, "first-hour", "2026-10-28T04:30:00Z", 60.0);
    // 2026-10-21 00:30 EDT: the prior period's first hour; 10-20 23:30 is before it.
    session(&env, "prior-first-hour", "2026-10-21T04:30:00Z", 60.0);
    session(&env, "before-prior", "2026-10-21T03:30:00Z", 60.0);
    let report = budget(&env, &["--until", "2026-11-03"]);
    assert_eq!(report["sessions"], 1, "{report:#}");
    assert_eq!(report["prior_sessions"], 1, "{report:#}");
    assert_eq!(report["since"], at("2026-10-28T04:00:00Z"), "{report:#}");
    let text = run_in(&env, NEW_YORK, &["budget-report", "--until", "2026-11-03"]);
    assert!(
        text.stdout
            .starts_with("Budget Report — Oct 28, 2026 to Nov 3, 2026"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("first-hour"), "{}", text.stdout);
}

/// `dashboard` cut every day by today's offset from UTC, so in December a session at 00:30 on
/// 2026-10-28 (EDT, an hour further from UTC) was on 10-27, and `--since 2026-10-26` began the
/// board on 10-25. Each day is now cut by the zone's rules for it, whatever today's are: a
/// session at 00:30 local on either side of the clock change is on its own date.
#[test]
fn dashboard_days_are_local_days_on_both_sides_of_a_clock_change() {
    let env = TestEnv::new();
    session(&env, "summer", "2026-10-28T04:30:00Z", 60.0);
    session(&env, "winter", "2026-11-04T05:30:00Z", 60.0);
    let board = run_in(
        &env,
        NEW_YORK,
        &["dashboard", "--since", "2026-10-26", "--format", "json"],
    )
    .success()
    .json();
    assert_eq!(board["from"], "2026-10-26", "{board:#}");
    let buckets = board["buckets"].as_array().unwrap();
    for date in ["2026-10-28", "2026-11-04"] {
        let date = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
        let holding = buckets
            .iter()
            .find(|b| {
                let start =
                    chrono::NaiveDate::parse_from_str(b["start"].as_str().unwrap(), "%Y-%m-%d")
                        .unwrap();
                let days = b["days"].as_u64().unwrap();
                start <= date && date < start + chrono::Days::new(days)
            })
            .unwrap_or_else(|| panic!("no bucket holds {date}: {board:#}"));
        assert_eq!(holding["sessions"], 1, "{date}: {board:#}");
    }
    let text = run_in(&env, NEW_YORK, &["dashboard", "--since", "2026-10-26"]);
    assert!(
        text.success().stdout.contains("2026-10-26 to"),
        "{}",
        text.stdout
    );
}

/// `--since 7d` was 7 × 86,400 s: with the clocks gone forward three days ago, that reached an
/// hour past the time the clocks showed seven dates back, and a session half an hour before
/// that edge was in "the last seven days" (and in the budget report's) while the dashboard's
/// and the report's days, local days, began after it. An age in days is local days now, as
/// docs/sql.md's `unixepoch('now', 'localtime', '-7 days', 'utc')` counts them; one in hours
/// is still exact.
#[test]
fn an_age_in_days_counts_local_days_across_a_clock_change() {
    // No clock is injected: a zone whose clocks go forward three days ago (at 02:00 local, on
    // the zero-based day of its year) and back two months on.
    let today = chrono::Utc::now().date_naive();
    let forward = today - chrono::Days::new(3);
    let back = today + chrono::Days::new(60);
    let zone = format!(
        "XST5XDT,{}/2,{}/2",
        chrono::Datelike::ordinal0(&forward),
        chrono::Datelike::ordinal0(&back)
    );
    let now = chrono::Utc::now().timestamp() as f64;
    // Seven dates back the clocks were an hour further from UTC: what they show now was an hour
    // later then than 7 × 86,400 s ago.
    let edge = now - 7.0 * 86_400.0 + 3600.0;
    let env = TestEnv::new();
    for (id, at) in [
        ("before-edge", edge - 1800.0),
        ("after-edge", edge + 1800.0),
    ] {
        SessionBuilder::new(id)
            .started(at)
            .prompt("do thing")
            .at(5.0)
            .ended(10.0)
            .write(&env);
    }
    let listed = |args: &[&str]| {
        let args = [&["list", "--format", "json"][..], args].concat();
        let mut ids = run_in(&env, &zone, &args).success().session_ids();
        ids.sort();
        ids
    };
    assert_eq!(listed(&["--since", "7d"]), ["after-edge"], "{zone}");
    assert_eq!(listed(&["--since", "1w"]), ["after-edge"], "{zone}");
    assert_eq!(
        listed(&["--since", "168h"]),
        ["after-edge", "before-edge"],
        "{zone}"
    );
    let report = run_in(
        &env,
        &zone,
        &["budget-report", "--since", "7d", "--format", "json"],
    )
    .success()
    .json();
    assert_eq!(report["sessions"], 1, "{zone}: {report:#}");
    let sql = run_in(
        &env,
        &zone,
        &[
            "sql",
            "--format",
            "json",
            "select session_id from sessions \
             where started_at >= unixepoch('now', 'localtime', '-7 days', 'utc')",
        ],
    );
    assert_eq!(sql.success().session_ids(), ["after-edge"], "{zone}");
}
