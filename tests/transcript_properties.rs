//! Property test of the transcript importer: real lines mutated at random, random JSON and
//! random bytes never crash it; what parses is imported, the rest is counted.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use serde_json::Value;

use agent_strace::capture::import::import_file;
use agent_strace::capture::sink::{Privacy, Sink};
use agent_strace::store::Store;

use crate::common::shared;

/// Real transcript lines to start from.
fn real_lines() -> Vec<String> {
    let mut lines = Vec::new();
    for name in [
        "marot__spotter/tool_heavy.jsonl",
        "marot__spotter/subagent.jsonl",
        "moredip__session-share/images-in-user-messages.jsonl",
    ] {
        let text = std::fs::read_to_string(shared().join("corpus/claude-code").join(name)).unwrap();
        lines.extend(
            text.lines()
                .filter(|l| l.starts_with('{'))
                .map(str::to_owned),
        );
    }
    lines
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,30}".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(5, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z_]{1,10}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces the value at a random path of a real line with a random value.
fn mutate(node: &mut Value, choices: &[usize], replacement: Value) {
    let Some((&choice, rest)) = choices.split_first() else {
        *node = replacement;
        return;
    };
    match node {
        Value::Object(map) if !map.is_empty() => {
            let key = map
                .keys()
                .nth(choice % map.len())
                .cloned()
                .unwrap_or_default();
            if let Some(child) = map.get_mut(&key) {
                mutate(child, rest, replacement);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let len = items.len();
            mutate(&mut items[choice % len], rest, replacement);
        }
        _ => *node = replacement,
    }
}

#[test]
fn mutated_transcripts_never_crash_the_importer() {
    let lines = real_lines();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path().join(".agent-traces"));
    let opts = Sink::new(Privacy::default());
    let mut runner = TestRunner::new(Config {
        rng_seed: RngSeed::Fixed(0x7a5c),
        ..Config::default()
    });
    let line_index = 0..lines.len();
    let path_choice = prop::collection::vec(0usize..64, 0..6);
    let started = std::time::Instant::now();
    let mut files = 0;
    // Bounded by count and by time, so CI stays quick.
    while files < 200 && started.elapsed().as_secs() < 60 {
        files += 1;
        let mut text = String::new();
        for _ in 0..40 {
            let kind = (0..5u8).new_tree(&mut runner).unwrap().current();
            let original: Value = serde_json::from_str(
                &lines[line_index.clone().new_tree(&mut runner).unwrap().current()],
            )
            .unwrap();
            let line = match kind {
                0 => {
                    let choices = path_choice.new_tree(&mut runner).unwrap().current();
                    let value = json_value().new_tree(&mut runner).unwrap().current();
                    let mut line = original;
                    mutate(&mut line, &choices, value);
                    line.to_string()
                }
                1 => {
                    let cut = (0.0f64..1.0).new_tree(&mut runner).unwrap().current();
                    let s = original.to_string();
                    let mut at = (s.len() as f64 * cut) as usize;
                    while !s.is_char_boundary(at) {
                        at -= 1;
                    }
                    s[..at].to_owned()
                }
                2 => json_value()
                    .new_tree(&mut runner)
                    .unwrap()
                    .current()
                    .to_string(),
                3 => String::from_utf8_lossy(
                    &prop::collection::vec(any::<u8>(), 0..80)
                        .new_tree(&mut runner)
                        .unwrap()
                        .current(),
                )
                .into_owned(),
                _ => original.to_string(),
            };
            text.push_str(&line.replace('\n', " "));
            text.push('\n');
        }
        let path = dir.path().join(format!("t{files}.jsonl"));
        std::fs::write(&path, &text).unwrap();
        // Any outcome but a panic is acceptable: imported, or one clear error.
        let outcome = std::panic::catch_unwind(|| import_file(&store, &path, None, &opts));
        assert!(
            outcome.is_ok(),
            "the importer panicked on {}",
            path.display()
        );
        if let Ok(Err(err)) = outcome {
            assert!(
                err.to_string().contains(&format!("t{files}.jsonl")),
                "error does not name the file: {err}"
            );
        }
    }
    assert!(files >= 20, "only {files} files in the time allowed");
    // Whatever was imported reads back.
    let (sessions, unreadable) = store.list().unwrap();
    assert!(unreadable.is_empty());
    for s in sessions {
        let mut events = store.events(&s.meta.session_id).unwrap();
        for _ in events.by_ref() {}
        assert_eq!(events.bad_count(), 0, "an imported session has a bad line");
    }
}
