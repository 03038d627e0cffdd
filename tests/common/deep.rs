//! Logs whose lines nest past serde_json's 128 levels, imported beside the same lines nested
//! within them: every importer reads a line 300 deep as it reads one 100 deep.

use std::fmt::Debug;

use serde_json::Value;

use super::TestEnv;

/// The log `raw`'s lines with `deepen` nesting parts of them `levels` deep, written into a new
/// store's folder as `name` and imported: the import's report and the session's events.
fn import_nested(
    name: &str,
    raw: &str,
    levels: usize,
    deepen: &dyn Fn(&mut [Value], usize),
) -> (Value, Vec<Value>) {
    let env = TestEnv::new();
    let mut lines: Vec<Value> = raw
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    deepen(&mut lines, levels);
    let log = env.path().join(name);
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&log, text.join("\n") + "\n").unwrap();
    let run = env.run(&["import", "--format", "json", log.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{levels} deep: {run:?}");
    let report = run.json()[0].clone();
    let events = env.events(report["session_id"].as_str().unwrap());
    (report, events)
}

/// Asserts that the log `raw`, named `name`, imports with its lines nested 300 levels deep by `deepen` as it
/// does nested 100 deep: no line malformed, as many tool calls and events, and the same
/// `calls_of` its events; returns those of the shallow import, for the test to say what they
/// must be.
pub fn assert_deep_imports_as_shallow<T: PartialEq + Debug>(
    name: &str,
    raw: &str,
    deepen: &dyn Fn(&mut [Value], usize),
    calls_of: &dyn Fn(&[Value]) -> T,
) -> T {
    let (shallow, shallow_events) = import_nested(name, raw, 100, deepen);
    let (deep, deep_events) = import_nested(name, raw, 300, deepen);
    assert_eq!(deep["malformed"], serde_json::json!([]), "{deep:#}");
    assert_eq!(deep["tool_calls"], shallow["tool_calls"], "{deep:#}");
    assert_eq!(deep_events.len(), shallow_events.len());
    let calls = calls_of(&shallow_events);
    assert_eq!(calls_of(&deep_events), calls);
    calls
}
