//! The per-agent hook figures (issue 12): each agent's pre-tool and post-tool hook, run as that
//! agent runs it (its own payload and event names, `hook --agent <name>` as setup writes it),
//! on a new session, so that each agent's median can be held to Claude Code's target. A
//! Claude-file hook that Cursor also ran, dropped because Cursor has hooks of its own, is timed
//! too: it is the one path that looks at an agent's config files.
//!
//! `cargo bench --bench figures -- --agents-only` measures only these.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::Res;
use crate::table::Row;
use crate::tool::{Cmd, Drain, Tool, command};

pub(crate) const AGENTS_ONLY: &str = "--agents-only";

/// The project the payloads name, inside the bench's work folder.
const PROJECT: &str = "agent-project";

/// A command of about the size of the Claude Code figure's, so payload sizes are alike.
fn shell_command(i: usize) -> String {
    format!(
        "cargo test --workspace --all-features -- --test-threads=2 2>&1 | tee /tmp/run-{i:07}.log \
         | grep -E '^(test result|error|warning)' # {}",
        "keep the output of every crate for later ".repeat(36)
    )
}

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

/// One agent's case: its name in the table, the `hook` arguments of its pre and post events,
/// the payloads of call `i`, and its environment.
struct Case {
    name: &'static str,
    pre_args: &'static [&'static str],
    post_args: &'static [&'static str],
    pre: fn(&str, usize) -> Value,
    post: fn(&str, usize) -> Value,
    env: &'static [(&'static str, &'static str)],
}

fn cursor_common(project: &str, event: &str) -> Value {
    json!({
        "conversation_id": "c0ffee00-1111-4222-8333-444455556666",
        "generation_id": "gen-1",
        "model": "claude-4.5-sonnet",
        "hook_event_name": event,
        "cursor_version": "2.1.42",
        "workspace_roots": [project],
    })
}

fn cursor_pre(project: &str, i: usize) -> Value {
    let mut p = cursor_common(project, "preToolUse");
    p["tool_name"] = "Shell".into();
    p["tool_input"] = json!({"command": shell_command(i)});
    p["tool_use_id"] = format!("tu-{i}").into();
    p["cwd"] = project.into();
    p
}

fn cursor_post(project: &str, i: usize) -> Value {
    let mut p = cursor_pre(project, i);
    p["hook_event_name"] = "postToolUse".into();
    p["tool_output"] = json!({"output": output(), "exitCode": 0})
        .to_string()
        .into();
    p
}

fn copilot_pre(project: &str, i: usize) -> Value {
    json!({
        "sessionId": "5a253198-fe35-44bd-a697-00641633c4b3",
        "timestamp": 1_796_017_193_519_u64 + i as u64,
        "cwd": project,
        "toolName": "bash",
        "toolArgs": {"command": shell_command(i), "description": "run the tests"},
    })
}

fn copilot_post(project: &str, i: usize) -> Value {
    let mut p = copilot_pre(project, i);
    p["toolResult"] = json!({"resultType": "success", "textResultForLlm": output()});
    p
}

/// A Claude-shaped payload (Cursor running a Claude-file hook): dropped when Cursor has its own.
fn claude_file_pre(project: &str, i: usize) -> Value {
    json!({
        "session_id": "dup-session",
        "hook_event_name": "PreToolUse",
        "cwd": project,
        "tool_name": "Shell",
        "tool_input": {"command": shell_command(i)},
        "tool_use_id": format!("tu-{i}"),
    })
}

const CASES: [Case; 2] = [
    Case {
        name: "cursor",
        pre_args: &["hook", "--agent", "cursor", "preToolUse"],
        post_args: &["hook", "--agent", "cursor", "postToolUse"],
        pre: cursor_pre,
        post: cursor_post,
        env: &[("CURSOR_VERSION", "2.1.42")],
    },
    Case {
        name: "copilot",
        pre_args: &["hook", "--agent", "copilot", "preToolUse"],
        post_args: &["hook", "--agent", "copilot", "postToolUse"],
        pre: copilot_pre,
        post: copilot_post,
        env: &[("COPILOT_CLI", "1")],
    },
];

fn with_env(mut cmd: Cmd, env: &[(&'static str, &'static str)]) -> Cmd {
    cmd.env
        .extend(env.iter().map(|(k, v)| (*k, PathBuf::from(v))));
    cmd
}

/// Every agent's pre-tool and post-tool figure (post-tool right after the pre-tool of the same
/// call, only the post-tool timed), checked to have recorded linked results; and the dropped
/// duplicate, checked to have recorded nothing.
pub(crate) fn bench_agent_hooks(
    tool: &Tool,
    work: &Path,
    warmup: usize,
    runs: usize,
    rss_runs: usize,
    notes: &mut Vec<String>,
) -> Res<Vec<(String, crate::tool::Sample)>> {
    let mut rows = Vec::new();
    for case in &CASES {
        eprintln!("figures: {} hooks", case.name);
        let project = work.join(format!("{}-{PROJECT}", case.name));
        let store = project.join(".agent-traces");
        std::fs::create_dir_all(&store)?;
        let project_text = project.to_string_lossy().into_owned();
        let pre = with_env(command(Some(&store), case.pre_args), case.env);
        let post = with_env(command(Some(&store), case.post_args), case.env);
        let payload = |f: fn(&str, usize) -> Value, i| f(&project_text, i).to_string();
        let pre_sample = tool.repeat_with(warmup, runs, rss_runs, |i, rss| {
            tool.once(&pre, Some(payload(case.pre, i).as_bytes()), Drain::No, rss)
        })?;
        let post_sample = tool.repeat_with(warmup, runs, rss_runs, |i, rss| {
            let i = i + 1_000_000;
            tool.once(&pre, Some(payload(case.pre, i).as_bytes()), Drain::No, None)?;
            tool.once(
                &post,
                Some(payload(case.post, i).as_bytes()),
                Drain::No,
                rss,
            )
        })?;
        notes.push(check_linked(&store, case.name, warmup + runs + rss_runs));
        rows.push((format!("hook pre-tool, {} payload", case.name), pre_sample));
        rows.push((
            format!("hook post-tool, {} payload", case.name),
            post_sample,
        ));
    }

    eprintln!("figures: a Claude-file hook Cursor also ran, dropped");
    let project = work.join(format!("dup-{PROJECT}"));
    let store = project.join(".agent-traces");
    std::fs::create_dir_all(project.join(".cursor"))?;
    std::fs::write(
        project.join(".cursor/hooks.json"),
        json!({"version": 1, "hooks": {"preToolUse": [{"command": "agent-strace hook --agent cursor preToolUse"}]}})
            .to_string(),
    )?;
    let project_text = project.to_string_lossy().into_owned();
    let dup = with_env(
        command(Some(&store), &["hook", "pre-tool"]),
        &[("CURSOR_VERSION", "2.1.42")],
    );
    let dropped = tool.repeat_with(warmup, runs, rss_runs, |i, rss| {
        let payload = claude_file_pre(&project_text, i).to_string();
        tool.once(&dup, Some(payload.as_bytes()), Drain::No, rss)
    })?;
    if store.join("dup-session").exists() {
        notes.push("WARNING: the dropped duplicate was recorded".to_owned());
    }
    rows.push((
        "hook pre-tool, Claude-file duplicate dropped (Cursor)".to_owned(),
        dropped,
    ));
    Ok(rows)
}

/// Every result the post-tools wrote names its call.
fn check_linked(store: &Path, agent: &str, expected: usize) -> String {
    let mut linked = 0;
    let mut results = 0;
    if let Ok(dirs) = std::fs::read_dir(store) {
        for dir in dirs.flatten() {
            let Ok(text) = std::fs::read_to_string(dir.path().join("events.ndjson")) else {
                continue;
            };
            for line in text.lines() {
                let Ok(event) = serde_json::from_str::<Value>(line) else {
                    continue;
                };
                if event["event_type"] == "tool_result" {
                    results += 1;
                    if event["parent_id"].is_string() {
                        linked += 1;
                    }
                }
            }
        }
    }
    let verdict = if linked == expected && results == expected {
        "ok"
    } else {
        "WARNING: not every post-tool linked to its call"
    };
    format!(
        "{agent} post-tool linking: {linked} of {results} results linked (expected {expected}): {verdict}"
    )
}

/// The rows, each held to Claude Code's hook target.
pub(crate) fn rows(samples: Vec<(String, crate::tool::Sample)>) -> Vec<Row> {
    samples
        .into_iter()
        .map(|(name, sample)| Row::new(name, sample, crate::HOOK))
        .collect()
}
