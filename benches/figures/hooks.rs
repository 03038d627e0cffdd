//! The hook figures: `hook pre-tool` and `hook post-tool` as Claude Code runs them (one process
//! per hook, a 2 KB payload on stdin), on a new session and on the 100,000-event one, and the
//! checks that they recorded what they claim.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;

use serde_json::{Value, json};

use crate::Res;
use crate::generator::{GenInfo, PROJECT, transcript_path};
use crate::tool::{Drain, Sample, Tool, command, read_usage};

/// Timed runs of each hook figure, after [`HOOK_WARMUP`] untimed ones.
pub(crate) const HOOK_RUNS: usize = 300;
pub(crate) const HOOK_WARMUP: usize = 20;
/// Extra runs of each hook under GNU time for its peak RSS (the largest is reported).
pub(crate) const HOOK_RSS_RUNS: usize = 20;
/// The first hook on a session the store has no counters cache for folds every event once.
pub(crate) const COLD_RUNS: usize = 3;
/// The size of the PreToolUse payload sent on stdin.
const PAYLOAD_BYTES: usize = 2048;

pub(crate) fn bench_pre_tool(
    tool: &Tool,
    store: &Path,
    session: &str,
    warmup: usize,
    runs: usize,
    rss_runs: usize,
) -> Res<Sample> {
    std::fs::create_dir_all(store)?;
    let start = command(Some(store), &["hook", "session-start"]);
    tool.once(
        &start,
        Some(session_start_payload(session).as_bytes()),
        Drain::No,
        None,
    )?;
    let cmd = command(Some(store), &["hook", "pre-tool"]);
    tool.repeat_with(warmup, runs, rss_runs, |i, rss| {
        let payload = pre_tool_payload(session, i);
        tool.once(&cmd, Some(payload.as_bytes()), Drain::No, rss)
    })
}

/// Each post-tool runs right after the pre-tool of the same call; only the post-tool is timed.
pub(crate) fn bench_post_tool(
    tool: &Tool,
    store: &Path,
    session: &str,
    warmup: usize,
    runs: usize,
    rss_runs: usize,
) -> Res<Sample> {
    let pre = command(Some(store), &["hook", "pre-tool"]);
    let post = command(Some(store), &["hook", "post-tool"]);
    tool.repeat_with(warmup, runs, rss_runs, |i, rss| {
        // Distinct from the ids the cold figure used.
        let i = i + 1_000_000;
        tool.once(
            &pre,
            Some(pre_tool_payload(session, i).as_bytes()),
            Drain::No,
            None,
        )?;
        tool.once(
            &post,
            Some(post_tool_payload(session, i).as_bytes()),
            Drain::No,
            rss,
        )
    })
}

/// The first hook on a session that has no `.counters` (one written by another tool):
/// it folds every event into the cache once. Timed on the pre-tool; the cache is removed
/// before each run.
pub(crate) fn bench_cold_hook(
    tool: &Tool,
    store: &Path,
    session: &str,
    runs: usize,
) -> Res<Sample> {
    let pre = command(Some(store), &["hook", "pre-tool"]);
    let post = command(Some(store), &["hook", "post-tool"]);
    let cache = store.join(session).join(".counters");
    let mut sample = Sample::default();
    for i in 0..runs {
        let _ = std::fs::remove_file(&cache);
        let (wall, _) = tool.once(
            &pre,
            Some(pre_tool_payload(session, i).as_bytes()),
            Drain::No,
            None,
        )?;
        sample.wall.push(wall);
        tool.once(
            &post,
            Some(post_tool_payload(session, i).as_bytes()),
            Drain::No,
            None,
        )?;
    }
    if tool.gnu_time {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("rss");
        let _ = std::fs::remove_file(&cache);
        tool.once(
            &pre,
            Some(pre_tool_payload(session, runs).as_bytes()),
            Drain::No,
            Some(&file),
        )?;
        sample.add_usage(read_usage(&file));
        tool.once(
            &post,
            Some(post_tool_payload(session, runs).as_bytes()),
            Drain::No,
            None,
        )?;
    }
    Ok(sample)
}

fn session_start_payload(session: &str) -> String {
    json!({
        "session_id": session,
        "transcript_path": transcript_path(session),
        "cwd": PROJECT,
        "hook_event_name": "SessionStart",
        "source": "startup",
    })
    .to_string()
}

/// The `tool_input` of call `i`: a Bash command padded so that the PreToolUse payload is
/// [`PAYLOAD_BYTES`] long.
pub(crate) fn tool_input(session: &str, i: usize) -> Value {
    let base = |pad: &str| {
        json!({
            "command": format!(
                "cd {PROJECT} && cargo test --workspace --all-features -- --test-threads=2 2>&1 \
                 | tee /tmp/test-run-{i:07}.log | grep -E '^(test result|error|warning)' {pad}"
            ),
            "description": "Run the whole test suite and keep its log",
        })
    };
    let probe = json!({
        "session_id": session,
        "transcript_path": transcript_path(session),
        "cwd": PROJECT,
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": base(""),
    })
    .to_string();
    let mut pad = String::from("# ");
    let words = [
        "keep", "the", "output", "of", "every", "crate", "so", "that", "failures", "can", "be",
        "compared", "across", "runs", "later",
    ];
    let mut w = i;
    while probe.len() + pad.len() + 1 < PAYLOAD_BYTES {
        pad.push_str(words[w % words.len()]);
        pad.push(' ');
        w += 1;
    }
    pad.truncate(PAYLOAD_BYTES.saturating_sub(probe.len()));
    base(pad.trim_end())
}

pub(crate) fn pre_tool_payload(session: &str, i: usize) -> String {
    json!({
        "session_id": session,
        "transcript_path": transcript_path(session),
        "cwd": PROJECT,
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": tool_input(session, i),
    })
    .to_string()
}

/// The PostToolUse of call `i`: the same input and about 1 KB of output.
pub(crate) fn post_tool_payload(session: &str, i: usize) -> String {
    let mut stdout = String::new();
    for n in 0..14 {
        let _ = writeln!(
            stdout,
            "test result: ok. {} passed; 0 failed; 0 ignored; finished in 0.{n:02}s",
            40 + n
        );
    }
    json!({
        "session_id": session,
        "transcript_path": transcript_path(session),
        "cwd": PROJECT,
        "hook_event_name": "PostToolUse",
        "tool_name": "Bash",
        "tool_input": tool_input(session, i),
        "tool_response": {
            "stdout": stdout,
            "stderr": "",
            "interrupted": false,
            "isImage": false,
        },
    })
    .to_string()
}

/// Anything the hooks logged as a failure.
pub(crate) fn check_hook_store(store: &Path, what: &str) -> Option<String> {
    let log = store.join("hook-errors.log");
    let text = std::fs::read_to_string(&log).ok()?;
    let first = text.lines().next().unwrap_or_default();
    Some(format!(
        "WARNING: {what} hooks logged {} errors in {}; first: {first}",
        text.lines().count(),
        log.display()
    ))
}

/// After the cold folds, the counters the binary derived must be the ones the generator wrote.
pub(crate) fn check_cold_counters(
    store: &Path,
    session: &str,
    info: &GenInfo,
    hooks: u64,
) -> Option<String> {
    let text = std::fs::read_to_string(store.join(session).join("meta.json")).ok()?;
    let meta: Value = serde_json::from_str(&text).ok()?;
    let calls = meta.get("tool_calls").and_then(Value::as_u64).unwrap_or(0);
    let errors = meta.get("errors").and_then(Value::as_u64).unwrap_or(0);
    let expected = info.tool_calls + hooks;
    if calls == expected && errors == info.errors {
        None
    } else {
        Some(format!(
            "WARNING: after the cold hooks meta.json says {calls} tool calls and {errors} errors; \
             expected {expected} and {}",
            info.errors
        ))
    }
}

/// Every tool_result the timed post-tools wrote must name the tool_call just before it.
pub(crate) fn check_links(events: &Path, from: u64, expected: usize) -> String {
    let mut results = 0usize;
    let mut linked = 0usize;
    let Ok(mut file) = File::open(events) else {
        return format!("WARNING: cannot open {}", events.display());
    };
    if file.seek(SeekFrom::Start(from)).is_err() {
        return "WARNING: cannot seek the events file".to_owned();
    }
    let mut last_call: Option<String> = None;
    for line in BufReader::new(file).lines().map_while(Result::ok) {
        let Ok(event) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        match event["event_type"].as_str() {
            Some("tool_call") => last_call = event["event_id"].as_str().map(str::to_owned),
            Some("tool_result") => {
                results += 1;
                if event["parent_id"].as_str().is_some()
                    && event["parent_id"].as_str() == last_call.as_deref()
                    && event["duration_ms"].is_number()
                {
                    linked += 1;
                }
            }
            _ => {}
        }
    }
    let verdict = if linked == expected && results == expected {
        "ok"
    } else {
        "WARNING: not every post-tool linked to its call"
    };
    format!(
        "post-tool linking: {linked} of {results} results linked to their call (expected {expected}): {verdict}"
    )
}

pub(crate) fn copy_session(from_store: &Path, to_store: &Path, session: &str) -> Res<()> {
    let to = to_store.join(session);
    std::fs::create_dir_all(&to)?;
    for name in ["meta.json", "events.ndjson"] {
        std::fs::copy(from_store.join(session).join(name), to.join(name))?;
    }
    Ok(())
}
