//! A store written by the bench's generator (`benches/figures/generator.rs`), read through the
//! commands over all sessions: the generator writes what the figures claim, and the commands
//! see every session of it.

use agent_strace::model::SessionMeta;

use crate::common::TestEnv;
use crate::common::generator::generate_store;

const SESSIONS: usize = 30;

#[test]
fn list_sees_every_generated_session_with_its_counters() {
    let env = TestEnv::new();
    let infos = generate_store(&env.store(), SESSIONS, 40, 0xba25).unwrap();
    assert_eq!(infos.len(), SESSIONS);
    assert!(
        infos.iter().all(|i| i.events == 40),
        "each session holds 40 events"
    );

    let run = env.run(&["list", "--format", "json"]);
    run.success();
    // `list`'s rows are private to cli; their keys are those of meta.json, so they decode into
    // the model's `SessionMeta` (other keys land in `extra`).
    let listed: Vec<SessionMeta> = run
        .json()
        .as_array()
        .expect("a JSON list")
        .iter()
        .map(|row| SessionMeta::from_json(&row.to_string()).expect("a session row"))
        .collect();
    let newest_first: Vec<&str> = infos.iter().rev().map(|i| i.session_id.as_str()).collect();
    let ids: Vec<&str> = listed.iter().map(|m| m.session_id.as_str()).collect();
    assert_eq!(ids, newest_first, "every session, newest first");
    for (meta, info) in listed.iter().zip(infos.iter().rev()) {
        assert_eq!(meta.tool_calls, info.tool_calls, "{}", info.session_id);
        assert_eq!(meta.errors, info.errors, "{}", info.session_id);
    }
}

#[test]
fn budget_report_counts_every_generated_session_and_their_spend() {
    let env = TestEnv::new();
    generate_store(&env.store(), SESSIONS, 40, 0xba25).unwrap();
    let run = env.run(&[
        "budget-report",
        "--format",
        "json",
        "--since",
        "2025-11-20",
        "--until",
        "2025-11-30",
    ]);
    run.success();
    // `BudgetReport` is Serialize only, so its fields are read from the JSON value.
    let report = run.json();
    assert_eq!(report["sessions"], SESSIONS);
    assert_eq!(
        report["estimated_sessions"], 0,
        "every generated session carries its usage"
    );
    assert!(
        report["total_usd"].as_f64().unwrap() > 0.0,
        "the generated usage costs money: {report}"
    );
}
