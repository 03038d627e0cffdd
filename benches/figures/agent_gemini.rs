//! The Gemini CLI hook figures (issue 12: each agent's hook costs what Claude Code's does):
//! `hook --agent gemini-cli BeforeTool` with a 2 KB payload, measured as the Claude pre-tool
//! figure is; `hook --agent gemini-cli AfterModel` once per streamed chunk, which must cost
//! no more than one append however many chunks a response has; and the hook after a
//! response's last chunk, which folds the response and reads its exact counts from Gemini's
//! chat (2 MB here).

use std::path::Path;

use serde_json::{Value, json};

use crate::generator::{PROJECT, session_uuid, transcript_path};
use crate::hooks::{HOOK_RSS_RUNS, HOOK_RUNS, HOOK_WARMUP, check_hook_store, tool_input};
use crate::table::Row;
use crate::tool::{Drain, Sample, Tool, command};
use crate::{HOOK, Res};

/// The Gemini rows: BeforeTool as Claude's pre-tool is measured, and AfterModel per chunk, with
/// the check that the chunks were folded one response each.
pub(crate) fn rows(tool: &Tool, work: &Path, notes: &mut Vec<String>) -> Res<Vec<Row>> {
    eprintln!("figures: hook --agent gemini-cli BeforeTool and AfterModel");
    let store = work.join("sg").join(".agent-traces");
    let before_tool = bench_before_tool(
        tool,
        &store,
        &session_uuid(0x6e3),
        HOOK_WARMUP,
        HOOK_RUNS,
        HOOK_RSS_RUNS,
    )?;
    let chunks_session = session_uuid(0x6e4);
    let after_model = bench_after_model(
        tool,
        &store,
        &chunks_session,
        HOOK_WARMUP,
        HOOK_RUNS,
        HOOK_RSS_RUNS,
    )?;
    notes.push(check_folds(
        &store.join(&chunks_session).join("events.ndjson"),
        HOOK_WARMUP + HOOK_RUNS + HOOK_RSS_RUNS,
    ));
    let fold_session = session_uuid(0x6e5);
    let chat = work.join("sg").join("chat.jsonl");
    write_chat(&chat)?;
    let fold = bench_fold(
        tool,
        &store,
        &fold_session,
        &chat,
        HOOK_WARMUP,
        HOOK_RUNS,
        HOOK_RSS_RUNS,
    )?;
    notes.push(check_exact(
        &store.join(&fold_session).join("events.ndjson"),
        HOOK_WARMUP + HOOK_RUNS + HOOK_RSS_RUNS,
    ));
    notes.extend(check_hook_store(&store, "Gemini CLI"));
    Ok(vec![
        Row::new(
            "hook BeforeTool (Gemini CLI), 2 KB payload",
            before_tool,
            HOOK,
        ),
        Row::new(
            "hook AfterModel chunk (Gemini CLI), 8 KB request",
            after_model,
            HOOK,
        ),
        Row::new(
            "hook BeforeTool after a response (Gemini CLI), folds it, 2 MB chat",
            fold,
            HOOK,
        ),
    ])
}

/// Chunks per streamed response in the AfterModel figure; the last one folds the response.
const CHUNKS: usize = 4;

fn common(session: &str, event: &str) -> Value {
    json!({
        "session_id": session,
        "transcript_path": transcript_path(session),
        "cwd": PROJECT,
        "hook_event_name": event,
        "timestamp": "2026-11-30T05:36:48.409Z",
    })
}

fn start(tool: &Tool, store: &Path, session: &str) -> Res<()> {
    std::fs::create_dir_all(store)?;
    let mut payload = common(session, "SessionStart");
    payload["source"] = "startup".into();
    let cmd = command(
        Some(store),
        &["hook", "--agent", "gemini-cli", "SessionStart"],
    );
    tool.once(&cmd, Some(payload.to_string().as_bytes()), Drain::No, None)?;
    Ok(())
}

/// BeforeTool of a `run_shell_command`, the same command as the Claude pre-tool figure's.
fn bench_before_tool(
    tool: &Tool,
    store: &Path,
    session: &str,
    warmup: usize,
    runs: usize,
    rss_runs: usize,
) -> Res<Sample> {
    start(tool, store, session)?;
    let cmd = command(
        Some(store),
        &["hook", "--agent", "gemini-cli", "BeforeTool"],
    );
    tool.repeat_with(warmup, runs, rss_runs, |i, rss| {
        let mut payload = common(session, "BeforeTool");
        payload["tool_name"] = "run_shell_command".into();
        payload["tool_input"] = tool_input(session, i);
        tool.once(&cmd, Some(payload.to_string().as_bytes()), Drain::No, rss)
    })
}

/// The `llm_request` Gemini repeats on every model event: 8 KB of conversation here.
fn request() -> Value {
    let turn = "Please look at the failing test in src/store and tell me why it fails. ".repeat(14);
    let messages: Vec<Value> = (0..8)
        .map(|n| json!({"role": if n % 2 == 0 { "user" } else { "model" }, "content": turn}))
        .collect();
    json!({"model": "gemini-2.5-flash", "messages": messages,
        "config": {"temperature": 1, "topP": 0.95, "topK": 64}})
}

/// AfterModel, every chunk timed: responses of [`CHUNKS`] chunks, each response opened by an
/// untimed BeforeModel, its last chunk (with `finishReason`) the one that folds it.
fn bench_after_model(
    tool: &Tool,
    store: &Path,
    session: &str,
    warmup: usize,
    runs: usize,
    rss_runs: usize,
) -> Res<Sample> {
    start(tool, store, session)?;
    let before = command(
        Some(store),
        &["hook", "--agent", "gemini-cli", "BeforeModel"],
    );
    let after = command(
        Some(store),
        &["hook", "--agent", "gemini-cli", "AfterModel"],
    );
    let request = request();
    let sample = tool.repeat_with(warmup, runs, rss_runs, |i, rss| {
        let chunk = i % CHUNKS;
        if chunk == 0 {
            let mut payload = common(session, "BeforeModel");
            payload["llm_request"] = request.clone();
            tool.once(&before, Some(payload.to_string().as_bytes()), Drain::No, None)?;
        }
        let last = chunk == CHUNKS - 1;
        let mut candidate = json!({"content": {"role": "model", "parts": ["Here is a part of the answer, "]}, "index": 0});
        if last {
            candidate["finishReason"] = "STOP".into();
        }
        let mut payload = common(session, "AfterModel");
        payload["llm_request"] = request.clone();
        payload["llm_response"] = json!({"text": "Here is a part of the answer, ",
            "candidates": [candidate],
            "usageMetadata": {"promptTokenCount": 2100, "candidatesTokenCount": 8 * (chunk + 1),
                "totalTokenCount": 2100 + 8 * (chunk + 1)}});
        tool.once(&after, Some(payload.to_string().as_bytes()), Drain::No, rss)
    })?;
    // The turn's answer folds the last response.
    answer(tool, store, session)?;
    Ok(sample)
}

/// An untimed AfterAgent, which ends the turn.
fn answer(tool: &Tool, store: &Path, session: &str) -> Res<()> {
    let mut payload = common(session, "AfterAgent");
    payload["prompt"] = "fix the test".into();
    payload["prompt_response"] = "Done.".into();
    let cmd = command(
        Some(store),
        &["hook", "--agent", "gemini-cli", "AfterAgent"],
    );
    tool.once(&cmd, Some(payload.to_string().as_bytes()), Drain::No, None)?;
    Ok(())
}

/// The counts of the response [`bench_fold`] streams, as its hooks pass them on and as the
/// chat holds them (with 1,500 of the prompt's tokens cached).
const FOLD_PROMPT: u64 = 2100;
const FOLD_OUTPUT: u64 = 32;
const FOLD_CACHED: u64 = 1500;

/// A Gemini chat of about 2 MB: a header, turns of prompts, answers and tool results, and last
/// the message of the response the fold figure streams.
fn write_chat(path: &Path) -> Res<()> {
    let mut text = String::new();
    text.push_str(&json!({"sessionId": "bench", "projectHash": "0", "startTime": "2026-11-30T05:36:00.000Z", "kind": "main"}).to_string());
    text.push('\n');
    let result = "line of a file the agent read\n".repeat(40);
    let mut n = 0;
    while text.len() < 2 * 1024 * 1024 {
        n += 1;
        for line in [
            json!({"id": format!("u{n}"), "type": "user", "timestamp": "2026-11-30T05:36:01.000Z", "content": [{"text": "Please look at the failing test."}]}),
            json!({"id": format!("g{n}"), "type": "gemini", "timestamp": "2026-11-30T05:36:02.000Z", "model": "gemini-2.5-flash", "content": "Reading the file.",
                "tokens": {"input": 2000 + n, "output": 20, "cached": 0, "thoughts": 0, "tool": 0, "total": 2020 + n},
                "toolCalls": [{"id": format!("read_file_{n}"), "name": "read_file", "args": {"file_path": "src/lib.rs"}, "result": [{"functionResponse": {"id": format!("read_file_{n}"), "name": "read_file", "response": {"output": result}}}], "status": "success"}]}),
        ] {
            text.push_str(&line.to_string());
            text.push('\n');
        }
    }
    let last = json!({"id": "last", "type": "gemini", "timestamp": "2026-11-30T05:37:00.000Z", "model": "gemini-2.5-flash", "content": "Here is the fix.",
        "tokens": {"input": FOLD_PROMPT, "output": FOLD_OUTPUT, "cached": FOLD_CACHED, "thoughts": 0, "tool": 0, "total": FOLD_PROMPT + FOLD_OUTPUT}});
    text.push_str(&last.to_string());
    text.push('\n');
    std::fs::write(path, text)?;
    Ok(())
}

/// BeforeTool after a response's last chunk, timed: it folds the response, taking its exact
/// counts from the chat. Each response (one untimed BeforeModel, one untimed last chunk) is
/// the chat's last message.
fn bench_fold(
    tool: &Tool,
    store: &Path,
    session: &str,
    chat: &Path,
    warmup: usize,
    runs: usize,
    rss_runs: usize,
) -> Res<Sample> {
    start(tool, store, session)?;
    let hook = |event: &str| command(Some(store), &["hook", "--agent", "gemini-cli", event]);
    let (before, after, call) = (hook("BeforeModel"), hook("AfterModel"), hook("BeforeTool"));
    let chat = chat.to_string_lossy().into_owned();
    let request = request();
    let with_chat = |event: &str| {
        let mut payload = common(session, event);
        payload["transcript_path"] = chat.as_str().into();
        payload
    };
    tool.repeat_with(warmup, runs, rss_runs, |i, rss| {
        let mut payload = with_chat("BeforeModel");
        payload["llm_request"] = request.clone();
        tool.once(&before, Some(payload.to_string().as_bytes()), Drain::No, None)?;
        let mut payload = with_chat("AfterModel");
        payload["llm_request"] = request.clone();
        payload["llm_response"] = json!({"text": "Here is the fix.",
            "candidates": [{"content": {"role": "model", "parts": ["Here is the fix."]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": FOLD_PROMPT, "candidatesTokenCount": FOLD_OUTPUT,
                "totalTokenCount": FOLD_PROMPT + FOLD_OUTPUT}});
        tool.once(&after, Some(payload.to_string().as_bytes()), Drain::No, None)?;
        let mut payload = with_chat("BeforeTool");
        payload["tool_name"] = "run_shell_command".into();
        payload["tool_input"] = tool_input(session, i);
        tool.once(&call, Some(payload.to_string().as_bytes()), Drain::No, rss)
    })
}

/// Every response the fold figure streamed must be recorded once, with the chat's cached count.
fn check_exact(events: &Path, responses_sent: usize) -> String {
    let responses = responses_in(events);
    let exact = responses
        .iter()
        .filter(|r| r["data"]["usage"]["cache_read_input_tokens"] == FOLD_CACHED)
        .count();
    let verdict = if exact == responses_sent && responses.len() == responses_sent {
        "ok"
    } else {
        "WARNING: not every response was folded once with the chat's counts"
    };
    format!(
        "Gemini fold: {} llm_response events for {responses_sent} responses, {exact} with the chat's cached count: {verdict}",
        responses.len()
    )
}

/// Every response the AfterModel figure streamed must be one `llm_response` with its last
/// chunk's usage, and no chunk recorded on its own.
fn check_folds(events: &Path, chunks_sent: usize) -> String {
    let responses = responses_in(events);
    let folded = responses
        .iter()
        .filter(|r| {
            r["data"]["chunks"] == CHUNKS && r["data"]["usage"]["output_tokens"] == 8 * CHUNKS
        })
        .count();
    let expected = chunks_sent / CHUNKS;
    let verdict = if folded == expected && responses.len() == expected {
        "ok"
    } else {
        "WARNING: the chunks were not folded one response each"
    };
    format!(
        "Gemini AfterModel: {} llm_response events for {chunks_sent} chunks, {folded} folded whole (expected {expected}): {verdict}",
        responses.len()
    )
}

/// The `llm_response` events of a session's `events.ndjson`.
fn responses_in(events: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(events).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["event_type"] == "llm_response")
        .collect()
}
