//! The watcher's figures and rules on hand-built events.

use serde_json::{Value, json};

use super::*;
use crate::model::EventType;

fn event(kind: EventType, data: Value) -> Event {
    Event::new(kind, 1.0, "e".into(), "s".into()).with_data(data)
}

fn rule(condition: &str, action: Action) -> Rule {
    Rule::new(None, condition.parse().unwrap(), action)
}

#[test]
fn counts_files_calls_and_test_failures_in_a_row() {
    let mut w = Watcher::new(
        Agent::ClaudeCode,
        0.0,
        vec![
            rule("consecutive_test_failures >= 2", Action::Pause),
            rule("files_modified >= 2", Action::Alert),
        ],
    );
    for path in ["/p/a.rs", "/p/b.rs", "/p/a.rs"] {
        w.observe(&event(
            EventType::ToolCall,
            json!({"tool_name": "Write", "arguments": {"file_path": path, "content": "x"}}),
        ));
    }
    assert_eq!(w.figures().files_modified, 2);
    let broken = w.check(10.0);
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].action, Action::Alert);
    // Fired once only.
    assert!(w.check(11.0).is_empty());
    for _ in 0..2 {
        w.observe(&event(
            EventType::ToolCall,
            json!({"tool_name": "Bash", "tool_use_id": "t", "arguments": {"command": "pytest -x"}}),
        ));
        w.observe(&event(
            EventType::Error,
            json!({"tool_name": "Bash", "tool_use_id": "t", "error": "Exit code 1\n1 failed, 3 passed"}),
        ));
    }
    assert_eq!(w.figures().consecutive_test_failures, 2);
    let broken = w.check(12.0);
    assert_eq!(broken[0].action, Action::Pause);
    assert_eq!(w.figures().tool_calls, 5);
}

#[test]
fn a_path_rule_names_the_event_that_broke_it() {
    let mut w = Watcher::new(
        Agent::ClaudeCode,
        0.0,
        vec![rule(
            "file_path matches \"**/production.env\"",
            Action::Kill,
        )],
    );
    w.observe(&event(EventType::UserPrompt, json!({"prompt": "go"})));
    w.observe(&event(
        EventType::ToolCall,
        json!({"tool_name": "Read", "arguments": {"file_path": "/srv/app/production.env"}}),
    ));
    let broken = w.check(1.0);
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].event, Some(2));
}

#[test]
fn cost_comes_from_responses_and_the_transcript_and_duration_from_the_start() {
    let mut w = Watcher::new(
        Agent::ClaudeCode,
        100.0,
        vec![
            rule("cost_usd >= 1", Action::Kill),
            rule("duration_minutes > 2", Action::Alert),
        ],
    );
    let tokens = Tokens {
        output: 100_000,
        ..Tokens::default()
    };
    w.transcript_usage([("claude-sonnet-4-5", tokens, true)]);
    // 100k output tokens of Sonnet 4.5 at $15 a million.
    assert!((w.figures().cost_usd - 1.5).abs() < 1e-9);
    let broken = w.check(100.0 + 60.0);
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0].action, Action::Kill);
    assert_eq!(w.check(100.0 + 121.0).len(), 1);
}

#[test]
fn an_ended_sessions_duration_is_its_end_less_its_start() {
    let mut w = Watcher::new(
        Agent::ClaudeCode,
        100.0,
        vec![rule("duration_minutes >= 60", Action::Alert)],
    );
    w.ended_after(5.63);
    // Watched 300 days after it started: it still lasted 5.63 seconds.
    assert!(w.check(100.0 + 300.0 * 86_400.0).is_empty());
    assert!((w.figures().elapsed_s - 5.63).abs() < 1e-9);
}

#[test]
fn a_subagents_responses_cost_the_session_but_are_not_its_context() {
    let mut w = Watcher::new(Agent::ClaudeCode, 0.0, Vec::new());
    let read = |input| Tokens {
        input,
        ..Tokens::default()
    };
    // Sonnet 4.5 reads at $3 a million: 20k of the session's own, then 180k of a subagent's.
    w.transcript_usage([
        ("claude-sonnet-4-5", read(20_000), true),
        ("claude-sonnet-4-5", read(180_000), false),
    ]);
    assert!((w.figures().cost_usd - 0.6).abs() < 1e-9);
    assert_eq!(w.figures().context_pct, Some(10.0));
}

#[test]
fn an_error_rate_needs_five_finished_calls() {
    let mut w = Watcher::new(
        Agent::ClaudeCode,
        0.0,
        vec![rule("error_rate >= 0.5", Action::Alert)],
    );
    for _ in 0..4 {
        w.observe(&event(
            EventType::Error,
            json!({"tool_name": "Read", "error": "no such file"}),
        ));
    }
    assert!(w.check(1.0).is_empty());
    w.observe(&event(
        EventType::ToolResult,
        json!({"tool_name": "Read", "result": "ok"}),
    ));
    assert_eq!(w.check(2.0).len(), 1);
}

#[test]
fn an_api_error_that_ended_a_turn_is_no_failed_call() {
    let mut w = Watcher::new(
        Agent::ClaudeCode,
        0.0,
        vec![rule("error_rate >= 0.5", Action::Alert)],
    );
    for _ in 0..5 {
        w.observe(&event(
            EventType::Error,
            json!({"error": "API error (overloaded): 529 Overloaded", "error_type": "overloaded"}),
        ));
    }
    assert!(w.check(1.0).is_empty());
    assert_eq!(w.figures().failed_calls, 0);
}

#[test]
fn a_long_window_one_transcript_response_proved_stays_for_the_last() {
    use crate::model::pricing::LONG_WINDOW;
    let mut w = Watcher::new(Agent::ClaudeCode, 0.0, Vec::new());
    let read = |input| Tokens {
        input,
        ..Tokens::default()
    };
    // A transcript read at once holds both: the last response's window is the one the first
    // proved, not the standard one.
    w.transcript_usage([
        ("claude-sonnet-4-5", read(300_000), true),
        ("claude-sonnet-4-5", read(150_000), true),
    ]);
    let pct = 150_000.0 * 100.0 / LONG_WINDOW as f64;
    assert_eq!(w.figures().context_pct, Some(pct));
    // Another model's context proves nothing of this one's window.
    let mut w = Watcher::new(Agent::ClaudeCode, 0.0, Vec::new());
    w.transcript_usage([
        ("claude-sonnet-4-5", read(300_000), true),
        ("claude-haiku-4-5", read(150_000), true),
    ]);
    let haiku = PriceTable::builtin()
        .find("claude-haiku-4-5")
        .and_then(|p| p.context_window)
        .unwrap();
    let pct = 150_000.0 * 100.0 / haiku as f64;
    assert_eq!(w.figures().context_pct, Some(pct));
}

/// A context past a rule's threshold reads past it: 114,800 of 200,000 tokens (57.4%) read
/// `context_pct is 57% (> 57%)`.
#[test]
fn a_context_past_a_threshold_never_reads_as_the_threshold() {
    let mut w = Watcher::new(
        Agent::ClaudeCode,
        0.0,
        vec![rule("context_pct > 57", Action::Alert)],
    );
    w.transcript_usage([(
        "claude-sonnet-4-5",
        Tokens {
            input: 114_800,
            ..Tokens::default()
        },
        true,
    )]);
    let broken = w.check(1.0);
    assert_eq!(broken.len(), 1);
    assert!(
        broken[0].reason.starts_with("context_pct is 57.4% (> 57%"),
        "{}",
        broken[0].reason
    );
}

#[test]
fn usage_no_response_can_have_is_told_once() {
    let mut w = Watcher::new(Agent::ClaudeCode, 0.0, vec![]);
    assert_eq!(w.unbelieved_news(), None);
    let impossible = || {
        event(
            EventType::LlmResponse,
            json!({"model": "claude-sonnet-4-5", "usage": {"input_tokens": 1e308, "output_tokens": 1}}),
        )
    };
    w.observe(&impossible());
    w.transcript_unbelieved(2);
    assert_eq!(w.unbelieved_news(), Some(3));
    w.observe(&impossible());
    assert_eq!(w.unbelieved_news(), None);
    assert!(w.figures().cost_usd.abs() < f64::EPSILON);
}

#[test]
fn a_figure_that_comes_and_goes_between_two_checks_breaks_its_rule() {
    let mut w = Watcher::new(
        Agent::ClaudeCode,
        0.0,
        vec![
            rule("consecutive_test_failures >= 2", Action::Kill),
            rule("tool_calls == 1", Action::Alert),
        ],
    );
    let test_run = |w: &mut Watcher, id: &str, result: Event| {
        w.observe(&event(
            EventType::ToolCall,
            json!({"tool_name": "Bash", "tool_use_id": id, "arguments": {"command": "pytest -x"}}),
        ));
        w.observe(&result);
    };
    for id in ["a", "b"] {
        let failed = event(
            EventType::Error,
            json!({"tool_name": "Bash", "tool_use_id": id, "error": "Exit code 1\n1 failed"}),
        );
        test_run(&mut w, id, failed);
    }
    let passed = event(
        EventType::ToolResult,
        json!({"tool_name": "Bash", "tool_use_id": "c", "result": "4 passed"}),
    );
    test_run(&mut w, "c", passed);
    // Read at once, as one batch: the figures are past both rules by the check.
    assert_eq!(
        (
            w.figures().tool_calls,
            w.figures().consecutive_test_failures
        ),
        (3, 0)
    );
    let broken = w.check(1.0);
    let reasons: Vec<&str> = broken.iter().map(|v| v.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "consecutive_test_failures is 2 (>= 2)",
            "tool_calls is 1 (== 1)"
        ]
    );
    assert!(w.check(2.0).is_empty());
}
