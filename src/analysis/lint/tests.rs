//! Each lint rule on hand-built sessions.

use serde_json::{Value, json};

use super::*;
use crate::model::{EventType, Tokens};

fn event(kind: EventType, data: Value) -> Event {
    Event::new(kind, 1.0, "e".into(), "s".into()).with_data(data)
}

fn call(tool: &str, args: &Value) -> Event {
    event(
        EventType::ToolCall,
        json!({"tool_name": tool, "arguments": args}),
    )
}

fn report(
    events: &[Event],
    responses: &[TimedUsage],
    cost: f64,
    config: &LintConfig,
) -> LintReport {
    lint(
        &Session {
            id: "s",
            agent: Agent::ClaudeCode,
            events,
            responses,
            cost_usd: cost,
            cost_unpriced_models: &[],
            subagent: false,
        },
        config,
    )
}

fn rules(r: &LintReport) -> Vec<&str> {
    r.findings.iter().map(|f| f.rule).collect()
}

#[test]
fn a_run_of_one_tool_is_a_loop_and_its_events_are_named() {
    let mut events = vec![event(EventType::UserPrompt, json!({"prompt": "go"}))];
    for i in 0..5 {
        events.push(call("Bash", &json!({"command": format!("ls {i}")})));
        events.push(event(
            EventType::ToolResult,
            json!({"tool_name": "Bash", "result": "x"}),
        ));
    }
    let r = report(&events, &[], 0.0, &LintConfig::default());
    assert_eq!(rules(&r), ["tool-loop"]);
    let f = &r.findings[0];
    assert_eq!(f.events, [2, 4, 6, 8, 10]);
    assert_eq!((f.line_start, f.line_end), (Some(2), Some(10)));
    assert_eq!(f.level, Level::Warn);
    // Four calls are no loop; a higher threshold or the rule turned off says nothing.
    let mut config = LintConfig::default();
    config.setting_mut(RuleName::ToolLoop).threshold = 6.0;
    assert!(report(&events, &[], 0.0, &config).findings.is_empty());
}

/// Claude Code sends several calls in one response (six Reads of six files at once): counted
/// a call a turn, they were a loop. In a session that records its requests, the calls one
/// response made are one turn.
#[test]
fn the_calls_one_response_made_at_once_are_one_turn() {
    let result = || {
        event(
            EventType::ToolResult,
            json!({"tool_name": "x", "result": "x"}),
        )
    };
    let request = || event(EventType::LlmRequest, json!({"model": "m"}));
    let mut events = vec![
        event(EventType::UserPrompt, json!({"prompt": "go"})),
        request(),
    ];
    for i in 0..6 {
        events.push(call("Read", &json!({"file_path": format!("/p/{i}.rs")})));
        events.push(result());
    }
    let r = report(&events, &[], 0.0, &LintConfig::default());
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    // Five responses in a row that call Bash, one of them twice at once: five turns, a loop
    // that names each of the six calls.
    let mut events = vec![event(EventType::UserPrompt, json!({"prompt": "go"}))];
    for i in 0..5 {
        events.push(request());
        let calls = if i == 2 { 2 } else { 1 };
        for _ in 0..calls {
            events.push(call("Bash", &json!({"command": format!("make {i}")})));
            events.push(result());
        }
    }
    let r = report(&events, &[], 0.0, &LintConfig::default());
    assert_eq!(rules(&r), ["tool-loop"]);
    assert_eq!(r.findings[0].events, [3, 6, 9, 11, 14, 17]);
    assert!(
        r.findings[0].message.contains("called in 5 turns in a row"),
        "{}",
        r.findings[0].message
    );
    // A threshold of six turns is not met by five, however many calls they made.
    let mut config = LintConfig::default();
    config.setting_mut(RuleName::ToolLoop).threshold = 6.0;
    assert!(report(&events, &[], 0.0, &config).findings.is_empty());
}

#[test]
fn responses_without_tools_spiral_and_reads_repeat() {
    let mut events = vec![event(EventType::UserPrompt, json!({"prompt": "why"}))];
    for _ in 0..3 {
        events.push(event(EventType::LlmResponse, json!({"model": "m"})));
    }
    for _ in 0..3 {
        events.push(call("Read", &json!({"file_path": "/p/README.md"})));
    }
    let r = report(&events, &[], 0.0, &LintConfig::default());
    assert_eq!(rules(&r), ["reasoning-spiral", "redundant-read"]);
    assert_eq!(r.findings[0].events, [2, 3, 4]);
    assert_eq!(r.findings[1].events, [5, 6, 7]);
}

#[test]
fn failures_retried_in_a_row_and_a_session_without_output() {
    let mut events = Vec::new();
    for _ in 0..3 {
        events.push(call("Bash", &json!({"command": "make"})));
        events.push(event(
            EventType::Error,
            json!({"tool_name": "Bash", "error": "Exit code 2"}),
        ));
        events.push(event(
            EventType::AssistantResponse,
            json!({"text": "again"}),
        ));
    }
    events.push(event(EventType::SessionEnd, json!({})));
    let r = report(&events, &[], 0.0, &LintConfig::default());
    // Findings about the whole session come first in their level.
    assert_eq!(rules(&r), ["no-output", "error-retry-loop"]);
    assert_eq!(r.findings[1].events, [2, 5, 8]);
    assert_eq!(r.warnings, 2);
}

#[test]
fn budget_and_context_need_their_figures() {
    let events = vec![
        event(EventType::SessionStart, json!({"budget_dollars": 5.0})),
        event(EventType::UserPrompt, json!({"prompt": "go"})),
    ];
    let r = report(&events, &[], 4.6, &LintConfig::default());
    assert_eq!(rules(&r), ["budget-proximity"]);
    assert_eq!(r.errors, 1);
    assert!(
        report(&events, &[], 4.0, &LintConfig::default())
            .findings
            .is_empty()
    );
    let responses = [TimedUsage {
        at: 1.0,
        model: "claude-sonnet-4-5".into(),
        tokens: Tokens {
            input: 10,
            cache_read: 170_000,
            ..Tokens::default()
        },
        long_context: false,
    }];
    let r = report(&events[1..], &responses, 0.0, &LintConfig::default());
    assert_eq!(rules(&r), ["context-saturation"]);
    assert_eq!(r.findings[0].events, [1]);
}

#[test]
fn a_context_of_a_model_whose_window_is_not_known_is_noted_not_judged() {
    let events = vec![event(EventType::UserPrompt, json!({"prompt": "go"}))];
    let usage = |model: &str, context: u64| TimedUsage {
        at: 1.0,
        model: model.into(),
        tokens: Tokens {
            input: context,
            ..Tokens::default()
        },
        long_context: false,
    };
    // 190,000 tokens were 95% of a guessed 200,000: a finding of a share no one knows.
    let responses = [usage("no-such-model", 190_000), usage("", 10)];
    let r = report(&events, &responses, 0.0, &LintConfig::default());
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
    assert!(
        r.notes[0].contains("models (a response that names no model), no-such-model:"),
        "{}",
        r.notes[0]
    );
    // A window given measures every response: 190,000 of 237,500 is exactly 80%.
    let given = LintConfig {
        context_window: Some(237_500),
        ..LintConfig::default()
    };
    let r = report(&events, &responses, 0.0, &given);
    assert_eq!(rules(&r), ["context-saturation"]);
    assert!(
        r.findings[0]
            .message
            .contains("80% of no-such-model's 237,500-token window")
    );
    assert!(r.notes.is_empty());
    let r = report(
        &events,
        &responses,
        0.0,
        &LintConfig {
            context_window: Some(237_501),
            ..LintConfig::default()
        },
    );
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}
