//! The policy figure (issue 11): what enforcing a 50-rule `.agent-scope.json` adds to `hook
//! pre-tool`. Two projects, one with the policy and one without, take turns hook by hook, so
//! both see the same machine load; the figure is the median of the pairs' differences. The check
//! alone (no process, no file) is timed in this process too, to show where the time goes.
//!
//! `cargo bench --bench figures -- --policy-only [--runs N]` (default 400 runs each).

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agent_strace::model::policy::check::{Place, check};
use agent_strace::model::policy::{FilesFile, Lists, NetworkFile, Policy, PolicyFile};
use agent_strace::model::tools::{self, Agent};
use agent_strace::model::view::ToolCall;
use serde_json::{Value, json};

use crate::Res;
use crate::table::{Target, Unit, Verdict, fmt_duration, machine, median, p99, print_verdict};
use crate::tool::our_binary;

pub(crate) const POLICY_ONLY: &str = "--policy-only";

/// What enforcing a 50-rule policy may add to a pre-tool hook's median.
const ADDED: Target = Target::at_most("added to the median", 300.0, Unit::Micros);

/// A policy of 50 rules, as a team might write: file globs, commands, hosts.
fn fifty_rules() -> PolicyFile {
    let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    PolicyFile {
        files: FilesFile {
            read: Lists {
                allow: strings(&[
                    "src/**",
                    "tests/**",
                    "docs/**",
                    "benches/**",
                    "examples/**",
                    "Cargo.toml",
                    "Cargo.lock",
                    "README.md",
                    "*.md",
                    "scripts/**",
                    "config/*.example",
                    "/tmp/**",
                ]),
                deny: strings(&[
                    ".env",
                    ".env.*",
                    "*.pem",
                    "*.key",
                    "secrets/**",
                    ".git/config",
                ]),
            },
            write: Lists {
                allow: strings(&["src/**", "tests/**", "docs/**", "benches/**", "/tmp/**"]),
                deny: strings(&[".github/**", "Cargo.lock", "deny.toml", "**/*.pem"]),
            },
        },
        commands: Lists {
            allow: strings(&[
                "cargo test",
                "cargo build",
                "cargo clippy",
                "cargo fmt",
                "cargo bench",
                "git status",
                "git diff",
                "git log",
                "git add",
                "git commit",
                "ls",
                "cat",
                "grep",
                "rg",
            ]),
            deny: strings(&["curl", "wget", "rm -rf", "git push", "sudo", "ssh"]),
        },
        network: NetworkFile {
            deny_all: true,
            allow: strings(&["crates.io", "static.crates.io"]),
            deny: Vec::new(),
        },
        tools: Lists::default(),
    }
}

/// The calls the hook is timed on, in turn: a piped command, a read, an edit.
fn calls() -> Vec<(&'static str, Value)> {
    vec![
        (
            "Bash",
            json!({"command": "cargo test --lib policy 2>&1 | grep -E 'test result|FAILED' && git status --short"}),
        ),
        (
            "Read",
            json!({"file_path": "/tmp/project/src/model/policy/check.rs"}),
        ),
        (
            "Edit",
            json!({"file_path": "/tmp/project/src/lib.rs", "old_string": "a", "new_string": "b"}),
        ),
    ]
}

pub(crate) fn bench_policy(args: &[String]) -> Res<()> {
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(400usize);
    let bin = our_binary()?;
    let work =
        std::env::temp_dir().join(format!("agent-strace-policy-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let with = work.join("with");
    let without = work.join("without");
    for dir in [&with, &without] {
        std::fs::create_dir_all(dir)?;
    }
    let file = fifty_rules();
    let policy = Policy::from_file(file.clone());
    assert_eq!(policy.rule_count(), 50, "the policy holds 50 rules");
    std::fs::write(
        with.join(".agent-scope.json"),
        serde_json::to_string_pretty(&file)?,
    )?;

    // In process: the check alone.
    let place = Place {
        cwd: Some("/tmp/project".into()),
        roots: vec!["/tmp/project".into()],
        launch: Some("/tmp/project".into()),
        home: None,
        probe: None,
        read: None,
    };
    let calls = calls();
    let per_check = time_checks(&policy, &calls, &place);
    // The same calls made on a Mac's disk, which takes a name in any case: each is judged again
    // with its paths and the policy's file patterns folded.
    let mac = Place {
        cwd: Some("/Users/zoe/project".into()),
        roots: vec!["/Users/zoe/project".into()],
        launch: Some("/Users/zoe/project".into()),
        ..place.clone()
    };
    let mac_calls: Vec<(&str, Value)> = calls
        .iter()
        .map(|(tool, input)| {
            let text = input
                .to_string()
                .replace("/tmp/project", "/Users/zoe/project");
            (*tool, serde_json::from_str(&text).unwrap_or(Value::Null))
        })
        .collect();
    let per_mac_check = time_checks(&policy, &mac_calls, &mac);

    // Hook by hook, the two projects in turn.
    eprintln!("figures: hook pre-tool with a 50-rule policy and without, {runs} runs each");
    let (mut timed_with, mut timed_without) = (Vec::new(), Vec::new());
    for i in 0..runs + 20 {
        for (dir, into) in [(&with, &mut timed_with), (&without, &mut timed_without)] {
            let (tool, input) = &calls[i % calls.len()];
            let payload = json!({
                "session_id": "policy-bench", "hook_event_name": "PreToolUse", "cwd": dir,
                "tool_name": tool, "tool_input": input, "tool_use_id": format!("toolu_{i}"),
            });
            let took = hook(&bin, dir, &payload.to_string())?;
            if i >= 20 {
                into.push(took);
            }
        }
    }
    // Every call here is allowed: a policy that denied one would have printed a decision.
    let (a, b) = (median(&timed_with), median(&timed_without));
    // The median of the differences of runs made side by side: load that comes and goes hits
    // both halves of a pair, so it cancels where the difference of two medians would not.
    let mut pairs: Vec<f64> = timed_with
        .iter()
        .zip(&timed_without)
        .map(|(w, wo)| w.as_secs_f64() - wo.as_secs_f64())
        .collect();
    pairs.sort_by(f64::total_cmp);
    let added = pairs[pairs.len() / 2];
    println!("agent-strace figures: policy only");
    println!("machine: {}", machine());
    println!("binary:  {}\n", bin.display());
    println!("| hook pre-tool | runs | median | p99 |");
    println!("|---|---:|---:|---:|");
    println!(
        "| no policy | {runs} | {} | {} |",
        fmt_duration(b),
        fmt_duration(p99(&timed_without))
    );
    println!(
        "| 50-rule .agent-scope.json | {runs} | {} | {} |",
        fmt_duration(a),
        fmt_duration(p99(&timed_with))
    );
    println!(
        "\nAdded (median of side-by-side differences): {:.0} µs. The check alone, in process: {:.1} µs per call; on a Mac's disk (paths judged again in any case): {:.1} µs.",
        added * 1e6,
        per_check.as_secs_f64() * 1e6,
        per_mac_check.as_secs_f64() * 1e6
    );
    let verdict =
        Verdict::new("hook pre-tool with a 50-rule policy").check(ADDED, Some(added * 1e6));
    print_verdict(&[verdict], &[]);
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

/// How long the check alone takes a call, in this process: `calls` judged in turn in `place`.
fn time_checks(policy: &Policy, calls: &[(&str, Value)], place: &Place) -> Duration {
    let rounds: u32 = 20_000;
    let started = Instant::now();
    for i in 0..rounds as usize {
        let (tool, input) = &calls[i % calls.len()];
        let call = ToolCall {
            agent: Agent::ClaudeCode,
            tool,
            kind: tools::classify(Agent::ClaudeCode, tool),
            spec: tools::spec_of(Agent::ClaudeCode, tool),
            arguments: input,
            tool_use_id: None,
            cwd: None,
        };
        std::hint::black_box(check(policy, &call, place));
    }
    started.elapsed() / rounds
}

fn hook(bin: &Path, project: &Path, payload: &str) -> Res<Duration> {
    let started = Instant::now();
    let mut child = Command::new(bin)
        .args(["hook", "pre-tool"])
        .current_dir(project)
        .env("AGENT_TRACE_DIR", project.join(".agent-traces"))
        .env("AGENT_STRACE_HOME", project.join("home"))
        .env_remove("AGENT_STRACE_REDACT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(payload.as_bytes());
    }
    let out = child.wait_with_output()?;
    let took = started.elapsed();
    if !out.stdout.is_empty() {
        return Err(format!(
            "the policy denied a call the figure expects allowed: {}",
            String::from_utf8_lossy(&out.stdout)
        )
        .into());
    }
    Ok(took)
}
