//! Property test: whatever arrives on stdin, the hook exits 0, prints nothing, and records
//! events only for well-formed payloads.

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

use crate::common::{TestEnv, run_with_stdin};

const CASES: usize = 10_000;
const EVENTS: [&str; 15] = [
    "SessionStart",
    "SessionEnd",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "Stop",
    "SubagentStart",
    "SubagentStop",
    "Notification",
    "PreCompact",
    "PostCompact",
    "PermissionRequest",
    "Unknown",
    "",
];
const TOOLS: [&str; 6] = ["Bash", "Read", "Edit", "Task", "Agent", "mcp__x__y"];

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        (0usize..300_000).prop_map(|n| Value::from("z".repeat(n))),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(8, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn deep(depth: usize) -> Value {
    (0..depth).fold(json!("bottom"), |v, _| json!({ "n": v }))
}

/// Nesting far past what any parser should follow, built as text so the test itself does not
/// recurse.
fn deep_text(depth: usize) -> Vec<u8> {
    let mut text = r#"{"session_id":"prop-deep","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":"#.to_string();
    text.push_str(&"[".repeat(depth));
    text.push_str(&"]".repeat(depth));
    text.push('}');
    text.into_bytes()
}

/// A payload that is well formed: an object with a usable session id and, for tool events, a
/// tool name; everything else random.
fn good_payload() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(&EVENTS[..]),
        prop::sample::select(&TOOLS[..]),
        "[0-9a-f]{8}",
        json_value(),
        prop::collection::btree_map("[a-z_]{1,10}", json_value(), 0..4),
        prop::option::of("[a-z0-9]{1,8}"),
        0usize..3,
    )
        .prop_map(|(event, tool, sid, input, extra, agent, depth)| {
            let mut map: Map<String, Value> = extra.into_iter().collect();
            map.insert("session_id".into(), format!("prop-{sid}").into());
            map.insert("hook_event_name".into(), event.into());
            map.insert("tool_name".into(), tool.into());
            // Deep, but within what a real payload could hold.
            map.insert(
                "tool_input".into(),
                if depth == 2 { deep(60) } else { input },
            );
            if let Some(a) = agent {
                map.insert("agent_id".into(), a.into());
            }
            Value::Object(map)
        })
        .prop_filter("a session id and a named event", |v| {
            v["hook_event_name"] != ""
        })
}

/// Input that must never be recorded.
fn bad_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        (good_payload(), 0.0f64..1.0).prop_map(|(p, cut)| {
            let text = p.to_string();
            let n = ((text.len() as f64) * cut) as usize;
            text.as_bytes()[..n.min(text.len().saturating_sub(1))].to_vec()
        }),
        (good_payload(), json_leaf()).prop_map(|(mut p, wrong)| {
            p["session_id"] = if wrong.is_string() {
                json!(["not", "a", "string"])
            } else {
                wrong
            };
            p.to_string().into_bytes()
        }),
        (
            good_payload(),
            prop::sample::select(&["", "..", "a/b", ".x"][..])
        )
            .prop_map(|(mut p, id)| {
                p["session_id"] = id.into();
                p.to_string().into_bytes()
            }),
        good_payload().prop_map(|mut p| {
            p.as_object_mut().unwrap().remove("session_id");
            p.to_string().into_bytes()
        }),
        json_value()
            .prop_filter("not an object", |v| !v.is_object())
            .prop_map(|v| v.to_string().into_bytes()),
        Just(deep_text(100_000)),
        // Past the 2,000 levels the hook reads (200 was past serde_json's 128 before it did).
        Just(deep_text(2_001)),
    ]
}

#[test]
fn ten_thousand_generated_payloads_never_break_the_agent() {
    let good_env = TestEnv::new();
    let bad_env = TestEnv::new();
    let mut runner = TestRunner::new(Config {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
        ..Config::default()
    });
    let mut inputs: Vec<(bool, Vec<u8>)> = Vec::with_capacity(CASES);
    for i in 0..CASES {
        // One in three well formed, so both paths are exercised thoroughly.
        if i.is_multiple_of(3) {
            let value = good_payload().new_tree(&mut runner).unwrap().current();
            inputs.push((true, value.to_string().into_bytes()));
        } else {
            inputs.push((false, bad_input().new_tree(&mut runner).unwrap().current()));
        }
    }
    let good_count = inputs.iter().filter(|(good, _)| *good).count();
    let next = AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((good, input)) = inputs.get(i) else {
                        break;
                    };
                    let env = if *good { &good_env } else { &bad_env };
                    let mut cmd = env.command(&[
                        "hook",
                        if i.is_multiple_of(2) {
                            "pre-tool"
                        } else {
                            "generic"
                        },
                    ]);
                    cmd.env("AGENT_TRACE_DIR", env.store());
                    let run = run_with_stdin(cmd, input);
                    if run.code != 0 || !run.stdout.is_empty() {
                        failures.lock().unwrap().push((i, run));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} runs failed, first: {:?}",
        failures.len(),
        failures.first()
    );

    assert!(
        bad_env.sessions().is_empty(),
        "malformed input was recorded: {:?}",
        bad_env.sessions()
    );
    let mut events = 0;
    for session in good_env.sessions() {
        let text = std::fs::read_to_string(good_env.store().join(&session).join("events.ndjson"))
            .unwrap_or_default();
        for line in text.lines() {
            let event: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("torn line in {session} ({e})"));
            assert!(event["event_type"].is_string() && event["data"].is_object());
            events += 1;
        }
    }
    assert!(
        events >= good_count,
        "{events} events for {good_count} well-formed payloads"
    );
    let log = std::fs::read_to_string(good_env.store().join("hook-errors.log")).unwrap_or_default();
    assert!(
        log.is_empty(),
        "well-formed payloads failed: {}",
        log.lines().next().unwrap_or("")
    );
}
