//! The Codex CLI hook figure: `hook --agent codex pre-tool` and `post-tool` as Codex 0.171.0
//! runs them (one process per hook), with Codex's payload shape (`turn_id`, `model`,
//! `permission_mode`, a rollout `transcript_path`, `tool_response` a string), so the per-agent
//! median stands beside Claude Code's.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use crate::Res;
use crate::generator::PROJECT;
use crate::hooks::pre_tool_payload;
use crate::tool::{Drain, Sample, Tool, command};

/// The fields every Codex tool payload carries, for session `session`.
fn common(session: &str, event: &str) -> Value {
    json!({
        "session_id": session,
        "turn_id": "01a22af7-6e17-70f1-b9d7-e2e0df1cc907",
        "transcript_path": format!(
            "/home/u/.codex/sessions/2026/11/30/rollout-2026-11-30T05-39-48-{session}.jsonl"
        ),
        "cwd": PROJECT,
        "hook_event_name": event,
        "model": "gpt-5.1-codex",
        "permission_mode": "bypassPermissions",
    })
}

/// Call `i`: the same 2 KB Bash input as Claude Code's figure (Codex names its shell `Bash`
/// in hooks), with a `tool_use_id`.
fn payload(session: &str, event: &str, i: usize, response: Option<String>) -> String {
    let claude: Value = serde_json::from_str(&pre_tool_payload(session, i)).unwrap_or_default();
    let mut p = common(session, event);
    p["tool_name"] = "Bash".into();
    p["tool_input"] = claude["tool_input"].clone();
    p["tool_use_id"] = format!("call_{i}").into();
    if let Some(text) = response {
        p["tool_response"] = text.into();
    }
    p.to_string()
}

/// About 1 KB of command output, as a string (Codex's `tool_response`).
fn output() -> String {
    let mut text = String::new();
    for n in 0..14 {
        let _ = writeln!(
            text,
            "test result: ok. {} passed; 0 failed; finished in 0.{n:02}s",
            40 + n
        );
    }
    text
}

/// The timed pre-tools on a session Codex started, then the timed post-tools, each after an
/// untimed pre-tool of the same call.
pub(crate) fn bench_codex_hooks(
    tool: &Tool,
    store: &Path,
    session: &str,
    warmup: usize,
    runs: usize,
    rss_runs: usize,
) -> Res<(Sample, Sample)> {
    std::fs::create_dir_all(store)?;
    let mut start = common(session, "SessionStart");
    start["source"] = "startup".into();
    let start_cmd = command(Some(store), &["hook", "--agent", "codex", "session-start"]);
    tool.once(
        &start_cmd,
        Some(start.to_string().as_bytes()),
        Drain::No,
        None,
    )?;
    let pre = command(Some(store), &["hook", "--agent", "codex", "pre-tool"]);
    let post = command(Some(store), &["hook", "--agent", "codex", "post-tool"]);
    let pre_sample = tool.repeat_with(warmup, runs, rss_runs, |i, rss| {
        let body = payload(session, "PreToolUse", i, None);
        tool.once(&pre, Some(body.as_bytes()), Drain::No, rss)
    })?;
    let text = output();
    let post_sample = tool.repeat_with(warmup, runs, rss_runs, |i, rss| {
        let i = i + 1_000_000;
        let body = payload(session, "PreToolUse", i, None);
        tool.once(&pre, Some(body.as_bytes()), Drain::No, None)?;
        let body = payload(session, "PostToolUse", i, Some(text.clone()));
        tool.once(&post, Some(body.as_bytes()), Drain::No, rss)
    })?;
    Ok((pre_sample, post_sample))
}
