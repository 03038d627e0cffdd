//! Issue 12, Gemini CLI captured natively through `agent-strace hook`: the payloads Gemini CLI
//! 0.61.0 sent in a recorded run (docs/agents/recorded/), played through the real hook; the
//! chunks of each streamed model response folded into one `llm_response` with Gemini's tokens;
//! Gemini's own deny JSON; malformed payloads that must never break Gemini; and a run of the
//! real Gemini CLI against a fake model endpoint (docs/agents.md §7).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::common::net::serve_saying_its_port;
use crate::common::{Run, TestEnv, run_with_stdin, shared};

const RECORDED: &str = "docs/agents/recorded/gemini-cli-0.61.0-hooks.jsonl";
const SESSION: &str = "629cab06-47bb-41bc-afb3-1479ecd94e67";

pub(crate) fn recorded_payloads() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(RECORDED);
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// One payload through `hook <Event>` as Gemini runs it: with `GEMINI_SESSION_ID` in the
/// environment (no `--agent`, as a copied Claude command would run) or with `--agent
/// gemini-cli` (as setup writes it), and the payload's `cwd` in the test's folder.
fn gemini_hook(env: &TestEnv, payload: &Value, declared: bool) -> Run {
    let mut payload = payload.clone();
    payload["cwd"] = env.path().to_string_lossy().into_owned().into();
    let event = payload["hook_event_name"]
        .as_str()
        .unwrap_or("x")
        .to_owned();
    let mut args = vec!["hook"];
    if declared {
        args.extend(["--agent", "gemini-cli"]);
    }
    args.push(&event);
    let mut cmd = env.command(&args);
    if !declared {
        cmd.env("GEMINI_SESSION_ID", payload["session_id"].to_string());
    }
    run_with_stdin(cmd, payload.to_string().as_bytes())
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event_type"] == kind).collect()
}

/// What the recorded run holds, checked on the store one way or the other made: its prompt,
/// its answer, its `read_file` call with the result linked, the file it read, and one
/// `llm_response` per model response (two, of two chunks each) with Gemini's counts: with the
/// cached part of the first response's prompt (20 of its 50) apart when the hooks could read
/// the chat (`exact`), else all of it as fresh input, as the hooks alone tell it.
fn assert_recorded_run(env: &TestEnv, session: &str, exact: bool) {
    let meta = env.meta(session);
    assert_eq!(meta["agent_name"], "gemini-cli");
    let events = env.events(session);
    let prompts = of_type(&events, "user_prompt");
    assert_eq!(prompts.len(), 1);
    assert_eq!(prompts[0]["data"]["prompt"], "read README");

    let calls = of_type(&events, "tool_call");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["data"]["tool_name"], "read_file");
    assert_eq!(
        calls[0]["data"]["arguments"],
        json!({"file_path": "README.md"})
    );
    let results = of_type(&events, "tool_result");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["parent_id"], calls[0]["event_id"]);
    assert_eq!(results[0]["data"]["result"], "hello\n");
    let reads = of_type(&events, "file_read");
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0]["data"]["path"], "README.md");

    let requests = of_type(&events, "llm_request");
    let responses = of_type(&events, "llm_response");
    assert_eq!(requests.len(), 2, "one request per model call");
    assert_eq!(
        responses.len(),
        2,
        "one response per model call, not per chunk"
    );
    let cached = if exact { 20 } else { 0 };
    let expected = [
        ("Reading.", 63, 50 - cached, cached, 13, 4),
        ("All done.", 73, 70, 0, 3, 0),
    ];
    for ((request, response), (text, total, input, cache_read, output, reasoning)) in
        requests.iter().zip(&responses).zip(expected)
    {
        assert_eq!(request["data"]["model"], "gemini-2.5-flash");
        assert_eq!(response["parent_id"], request["event_id"]);
        let d = &response["data"];
        assert_eq!(d["model"], "gemini-2.5-flash");
        assert_eq!(d["text"], text);
        assert_eq!(d["chunks"], 2);
        assert_eq!(d["finish_reason"], "STOP");
        assert_eq!(d["reported_usage"]["totalTokenCount"], total);
        let usage = &d["usage"];
        assert_eq!(usage["input_tokens"], input);
        assert_eq!(usage["output_tokens"], output);
        assert_eq!(usage["cache_read_input_tokens"], cache_read);
        let thoughts = &usage["output_tokens_details"]["reasoning_tokens"];
        assert_eq!(thoughts.as_u64().unwrap_or(0), reasoning);
        // The whole conversation is never stored with each request.
        assert!(d.get("llm_request").is_none() && request["data"].get("messages").is_some());
    }
    assert_eq!(meta["total_tokens"], 63 + 73);
    assert_eq!(meta["llm_requests"], 2);

    let answers = of_type(&events, "assistant_response");
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0]["data"]["text"], "Reading. \nAll done. done.");
    assert_eq!(of_type(&events, "session_end").len(), 1);
    // Every payload field the reader did not turn into the normal form is kept.
    let compress = of_type(&events, "decision");
    assert!(
        compress.iter().any(
            |e| e["data"]["hook_event_name"] == "PreCompress" && e["data"]["trigger"] == "auto"
        )
    );
}

#[test]
fn the_recorded_gemini_run_plays_through_the_hook_into_the_store() {
    for declared in [false, true] {
        let env = TestEnv::new();
        for payload in recorded_payloads() {
            let run = gemini_hook(&env, &payload, declared);
            assert_eq!(run.code, 0, "{run:?}");
            assert!(run.stdout.is_empty() && run.stderr.is_empty(), "{run:?}");
        }
        assert_eq!(env.sessions(), [SESSION]);
        assert_recorded_run(&env, SESSION, false);
        assert_no_response_left(&env);
    }
}

fn assert_no_response_left(env: &TestEnv) {
    for name in [".response", ".response.finished", ".response.taken"] {
        assert!(
            !env.store().join(SESSION).join(name).exists(),
            "no response is left behind: {name}"
        );
    }
}

/// Plays the recorded run through `hook`, each payload naming a chat (in `dir`) that holds
/// what Gemini had written to it by then: up to the last response that had finished.
pub(crate) fn play_with_a_growing_chat(dir: &Path, mut hook: impl FnMut(&Value)) {
    let chat = dir.join("chat.jsonl");
    let whole = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs/agents/recorded/gemini-cli-0.61.0-session.jsonl"),
    )
    .unwrap();
    let lines: Vec<&str> = whole.lines().collect();
    let first_gemini = lines
        .iter()
        .position(|l| l.contains("\"type\":\"gemini\""))
        .unwrap();
    // The first response's message, written again with its calls (same counts).
    let first_written = lines
        .iter()
        .rposition(|l| l.contains("\"total\":63"))
        .unwrap();
    let mut finished = 0;
    for mut payload in recorded_payloads() {
        let upto = match finished {
            0 => first_gemini,
            1 => first_written + 1,
            _ => lines.len(),
        };
        std::fs::write(&chat, lines[..upto].join("\n") + "\n").unwrap();
        payload["transcript_path"] = chat.to_string_lossy().into_owned().into();
        hook(&payload);
        if payload["hook_event_name"] == "AfterModel"
            && payload.to_string().contains("finishReason")
        {
            finished += 1;
        }
    }
}

/// Gemini CLI's hooks drop the cached part of a prompt; the chat the payloads name
/// (`transcript_path`) has it, written before the hook after a response's last chunk runs:
/// the response is recorded then, with the chat's counts, and its cached input priced as such.
#[test]
fn a_responses_cached_input_is_taken_from_geminis_chat() {
    let env = TestEnv::new();
    play_with_a_growing_chat(env.path(), |payload| {
        let run = gemini_hook(&env, payload, true);
        assert_eq!(run.code, 0, "{run:?}");
    });
    assert_recorded_run(&env, SESSION, true);
    assert_no_response_left(&env);
    // Cost prices the 20 cached tokens at the cache-read rate: less than all 50 as fresh.
    let exact = env.run(&["cost", SESSION, "--format", "json"]);
    let fresh_env = TestEnv::new();
    for payload in recorded_payloads() {
        gemini_hook(&fresh_env, &payload, true);
    }
    let fresh = fresh_env.run(&["cost", SESSION, "--format", "json"]);
    let dollars = |run: &Run| -> f64 {
        let v: Value = serde_json::from_str(&run.stdout).unwrap();
        v["cost_usd"].as_f64().unwrap_or_else(|| panic!("{v}"))
    };
    assert!(
        dollars(&exact) < dollars(&fresh),
        "{} / {}",
        exact.stdout,
        fresh.stdout
    );
}

/// Hooks of the calls a response made may run at once (Gemini runs a turn's calls together):
/// the one that folds the response writes it before any of them writes its own call, though
/// reading the chat makes the fold slower than a call's hook.
#[test]
fn calls_hooked_at_once_come_after_the_response_that_made_them() {
    let payloads = recorded_payloads();
    let last_chunk = last_chunk_of(&payloads);
    let before_tool = &payloads[last_chunk + 1];
    assert_eq!(before_tool["hook_event_name"], "BeforeTool");
    for round in 0..10 {
        let env = TestEnv::new();
        // A chat whose lines all name tokens: the fold reads 128 KiB of them.
        let chat = env.path().join("chat.jsonl");
        let filler = "{\"type\":\"info\",\"content\":\"x\",\"tokens\":{\"input\":1}}\n";
        std::fs::write(&chat, filler.repeat(128 * 1024 / filler.len())).unwrap();
        for payload in &payloads[..=last_chunk] {
            let mut payload = payload.clone();
            payload["transcript_path"] = chat.to_string_lossy().into_owned().into();
            gemini_hook(&env, &payload, true);
        }
        let hooks: Vec<std::thread::JoinHandle<Run>> = (0..2)
            .map(|i| {
                let mut call = before_tool.clone();
                call["tool_input"] = json!({"file_path": format!("file-{i}.md")});
                call["transcript_path"] = chat.to_string_lossy().into_owned().into();
                let cmd = {
                    let mut cmd = env.command(&["hook", "--agent", "gemini-cli", "BeforeTool"]);
                    cmd.current_dir(env.path());
                    cmd
                };
                std::thread::spawn(move || run_with_stdin(cmd, call.to_string().as_bytes()))
            })
            .collect();
        for hook in hooks {
            assert_eq!(hook.join().unwrap().code, 0);
        }
        let events = env.events(SESSION);
        let kinds: Vec<&str> = events
            .iter()
            .map(|e| e["event_type"].as_str().unwrap())
            .collect();
        let response = kinds.iter().position(|k| *k == "llm_response");
        let first_call = kinds.iter().position(|k| *k == "tool_call");
        assert!(
            response.is_some() && response < first_call,
            "round {round}: {kinds:?}"
        );
        assert_eq!(kinds.iter().filter(|k| **k == "tool_call").count(), 2);
    }
}

/// A file someone put where a response's parts go (a folder) cannot stop the session's
/// events: each is recorded, and the hook's log says what could not be folded.
#[test]
fn a_response_file_in_the_way_never_costs_an_event() {
    let env = TestEnv::new();
    let payloads = recorded_payloads();
    for (i, payload) in payloads.iter().enumerate() {
        gemini_hook(&env, payload, true);
        if payload["hook_event_name"] == "BeforeModel" && i < 5 {
            std::fs::create_dir_all(env.store().join(SESSION).join(".response.taken/x")).unwrap();
        }
    }
    let events = env.events(SESSION);
    for kind in [
        "tool_call",
        "tool_result",
        "assistant_response",
        "session_end",
    ] {
        assert_eq!(of_type(&events, kind).len(), 1, "{kind}: {events:#?}");
    }
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap_or_default();
    assert!(log.contains(".response"), "{log}");
}

/// Where the recorded run's first response begins: its first chunk.
fn first_chunk_of(payloads: &[Value]) -> usize {
    payloads
        .iter()
        .position(|p| p["hook_event_name"] == "AfterModel")
        .unwrap()
}

/// Where the recorded run's first response ends: its chunk with a `finishReason`.
fn last_chunk_of(payloads: &[Value]) -> usize {
    payloads
        .iter()
        .position(|p| {
            p["hook_event_name"] == "AfterModel" && p.to_string().contains("finishReason")
        })
        .unwrap()
}

/// Everything the files of `folder` hold, as text: what a session left on disk.
fn files_of(folder: &std::path::Path) -> String {
    std::fs::read_dir(folder)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect()
}

/// A secret in a streamed response never reaches disk: not in the response's file while it
/// waits for its last chunk or for the next event, nor in the event it becomes.
#[test]
fn a_secret_in_a_streamed_response_never_reaches_disk() {
    const SECRET: &str = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789";
    let env = TestEnv::new();
    let payloads = recorded_payloads();
    let last_chunk = last_chunk_of(&payloads);
    let on_disk = || files_of(&env.store().join(SESSION));
    for (i, payload) in payloads[..=last_chunk + 1].iter().enumerate() {
        let mut payload = payload.clone();
        if payload["hook_event_name"] == "AfterModel" {
            let text = format!("key {SECRET} ");
            payload["llm_response"]["text"] = text.clone().into();
            payload["llm_response"]["candidates"][0]["content"]["parts"] = json!([text]);
        }
        assert_eq!(gemini_hook(&env, &payload, true).code, 0);
        if i >= last_chunk - 1 {
            let disk = on_disk();
            assert!(!disk.contains(SECRET), "after payload {i}: {disk}");
        }
    }
    let events = env.events(SESSION);
    let response = of_type(&events, "llm_response")[0];
    let text = response["data"]["text"].as_str().unwrap();
    assert_eq!(text.matches("[REDACTED]").count(), 2, "{text}");
}

/// The response is recorded at the session's next event, whichever it is, with its last
/// chunk's time, before that event; a chat that cannot be read leaves the hooks' counts.
#[test]
fn a_finished_response_is_recorded_at_the_next_event_before_it() {
    let env = TestEnv::new();
    let payloads = recorded_payloads();
    let last_chunk = last_chunk_of(&payloads);
    for payload in &payloads[..=last_chunk] {
        gemini_hook(&env, payload, true);
    }
    assert!(of_type(&env.events(SESSION), "llm_response").is_empty());
    assert!(
        env.store()
            .join(SESSION)
            .join(".response.finished")
            .exists()
    );
    let next = &payloads[last_chunk + 1];
    gemini_hook(&env, next, true);
    let events = env.events(SESSION);
    let response = events
        .iter()
        .position(|e| e["event_type"] == "llm_response")
        .unwrap();
    assert_eq!(
        response,
        events.len() - 2,
        "the response comes before the next event"
    );
    let chunk_at =
        chrono::DateTime::parse_from_rfc3339(payloads[last_chunk]["timestamp"].as_str().unwrap())
            .unwrap()
            .timestamp_micros() as f64
            / 1e6;
    assert_eq!(events[response]["timestamp"].as_f64(), Some(chunk_at));
    assert_eq!(events[response]["data"]["usage"]["input_tokens"], 50);
    assert!(events[response]["data"].get("incomplete").is_none());
}

/// A response whose counts are forged to the largest JSON carries is recorded with them as
/// the hook read them: its sums (prompt and tool-use tokens, candidates and thoughts) panicked
/// a debug build and wrapped to small counts in a release one. A count that is no count at all
/// (negative, fractional, a string) was read as 0, and the cost given as exact. Each makes the
/// response's usage unknown, as an import of Gemini's chat does, and `cost` says so.
#[test]
fn a_responses_forged_counts_make_its_usage_unknown() {
    for forged in [json!(u64::MAX), json!(-1), json!(0.5), json!("12")] {
        let env = TestEnv::new();
        for mut payload in recorded_payloads() {
            let usage = &mut payload["llm_response"]["usageMetadata"];
            if usage.get("candidatesTokenCount").is_some() {
                usage["candidatesTokenCount"] = forged.clone();
                usage["toolUsePromptTokenCount"] = forged.clone();
                usage["totalTokenCount"] = forged.clone();
            }
            let run = gemini_hook(&env, &payload, true);
            assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{run:?}");
        }
        let events = env.events(SESSION);
        let responses = of_type(&events, "llm_response");
        assert_eq!(responses.len(), 2, "{events:#?}");
        for response in responses {
            let usage = &response["data"]["usage"];
            assert_eq!(
                usage["output_tokens"], forged,
                "the count as written: {usage}"
            );
        }
        let cost = env.run(&["cost", SESSION, "--format", "json"]);
        assert_eq!(cost.success().json()["unbelieved_usage"], 2, "{forged}");
    }
}

/// A response whose hooks pass on a cached count past its prompt (which includes the cached
/// part) holds no count a response can have: it was recorded as all cached, the prompt's count
/// of cache reads, and priced as exact. Its usage is unknown, as an import of Gemini's chat
/// makes it, and `cost` says so.
#[test]
fn a_cached_count_past_the_prompt_makes_a_responses_usage_unknown() {
    let env = TestEnv::new();
    for mut payload in recorded_payloads() {
        let usage = &mut payload["llm_response"]["usageMetadata"];
        if usage.get("candidatesTokenCount").is_some() {
            let prompt = usage["promptTokenCount"].as_u64().unwrap();
            usage["cachedContentTokenCount"] = json!(prompt + 5_000);
        }
        let run = gemini_hook(&env, &payload, true);
        assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{run:?}");
    }
    let events = env.events(SESSION);
    assert_eq!(of_type(&events, "llm_response").len(), 2, "{events:#?}");
    let cost = env.run(&["cost", SESSION, "--format", "json"]);
    assert_eq!(cost.success().json()["unbelieved_usage"], 2);
}

/// A response cut off before its last chunk (the user pressed Esc) is still one response, with
/// the text and usage it got, marked incomplete, once the turn ends.
#[test]
fn a_response_that_never_finishes_is_closed_by_the_turns_end() {
    let env = TestEnv::new();
    let payloads = recorded_payloads();
    let first_chunk = first_chunk_of(&payloads);
    for payload in &payloads[..=first_chunk] {
        gemini_hook(&env, payload, true);
    }
    let after_agent = payloads
        .iter()
        .find(|p| p["hook_event_name"] == "AfterAgent")
        .unwrap();
    gemini_hook(&env, after_agent, true);
    let events = env.events(SESSION);
    let responses = of_type(&events, "llm_response");
    assert_eq!(responses.len(), 1);
    let d = &responses[0]["data"];
    assert_eq!(d["incomplete"], true);
    assert_eq!(d["text"], "Reading.");
    assert_eq!(d["usage"]["input_tokens"], 50);
    let answer = of_type(&events, "assistant_response")[0];
    assert!(responses[0]["timestamp"].as_f64() <= answer["timestamp"].as_f64());
}

/// Replay, stats, explain, cost and audit read a Gemini session like any other; cost prices its
/// tokens with the prices file.
#[test]
fn every_analysis_command_works_on_a_gemini_session() {
    let env = TestEnv::new();
    for payload in recorded_payloads() {
        gemini_hook(&env, &payload, true);
    }
    let replay = env.run(&["replay", SESSION]);
    replay.success();
    assert!(replay.stdout.contains("gemini-cli"), "{}", replay.stdout);
    assert!(replay.stdout.contains("read_file"), "{}", replay.stdout);

    let stats = env.run(&["stats", SESSION, "--format", "json"]);
    let stats = stats.success().json();
    assert_eq!(stats["tool_calls"], 1);
    assert_eq!(stats["llm_requests"], 2);
    assert_eq!(stats["tokens"], 136);
    assert_eq!(stats["events_by_type"]["llm_response"], 2);

    let explain = env.run(&["explain", SESSION, "--format", "json"]);
    let explain = explain.success().json();
    let phase = &explain["phases"][0];
    assert_eq!(phase["read"], json!(["README.md"]));
    assert_eq!(phase["usage"]["gemini-2.5-flash"]["input"], 120);
    assert_eq!(phase["usage"]["gemini-2.5-flash"]["output"], 16);

    let cost = env.run(&["cost", SESSION, "--format", "json"]);
    let cost = cost.success().json();
    assert_eq!(cost["model"], "gemini-2.5-flash");
    assert_eq!(cost["estimated"], false);
    let prices: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("src/data/prices.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let flash = prices["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "gemini-2.5-flash")
        .unwrap();
    let expected =
        (120.0 * flash["input"].as_f64().unwrap() + 16.0 * flash["output"].as_f64().unwrap()) / 1e6;
    let got = cost["cost_usd"].as_f64().unwrap();
    assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");

    let audit = env.run(&["audit", SESSION, "--format", "json"]);
    let audit = audit.success().json();
    assert_eq!(audit["tool_calls"], 1);
    assert_eq!(audit["no_policy"][0]["tool"], "read_file");
    assert_eq!(audit["no_policy"][0]["access"]["target"], "README.md");

    let list = env.run(&["list", "--format", "json"]);
    let list = list.success().json();
    assert!(list.to_string().contains("gemini-cli"), "{list}");
}

/// Gemini CLI gives `BeforeAgent` the prompt `/init` expands to, never `/init`: a session its
/// hooks recorded began with a page of instructions nobody typed (its first prompt, its first
/// phase), where the same session imported from the chat began with `/init`. The prompt is
/// `/init` now, the text sent kept beside it as the import keeps it.
#[test]
fn gemini_init_is_recorded_as_the_person_typed_it() {
    let env = TestEnv::new();
    let chat = shared().join("corpus/gemini/Mai0313__VibeCodingTracker/gemini-session.jsonl");
    let sent = std::fs::read_to_string(&chat)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|l| l["type"] == "user")
        .map(|l| l["content"][0]["text"].as_str().unwrap().to_owned())
        .unwrap();
    let payload = json!({"session_id": "ginit", "transcript_path": "/t.jsonl",
        "hook_event_name": "BeforeAgent", "timestamp": "2026-11-30T05:36:49.168Z",
        "prompt": sent});
    let run = gemini_hook(&env, &payload, true);
    assert_eq!(run.code, 0, "{run:?}");
    let events = env.events("ginit");
    let prompts = of_type(&events, "user_prompt");
    assert_eq!(prompts.len(), 1, "{events:?}");
    assert_eq!(prompts[0]["data"]["prompt"], "/init");
    assert_eq!(prompts[0]["data"]["sent_prompt"], sent.as_str());
    let list = env.run(&["list", "--format", "json"]).json();
    assert_eq!(list[0]["first_prompt"], "/init", "{list}");

    // The import of that chat says the same.
    let imported = TestEnv::new();
    imported.run(&["import", chat.to_str().unwrap()]).success();
    let list = imported.run(&["list", "--format", "json"]).json();
    assert_eq!(list[0]["first_prompt"], "/init", "{list}");

    // Any other prompt is kept as it came.
    let other = json!({"session_id": "gplain", "hook_event_name": "BeforeAgent",
        "timestamp": "2026-11-30T05:36:49.168Z", "prompt": "You are an AI agent: explain x"});
    gemini_hook(&env, &other, true);
    let events = env.events("gplain");
    let prompt = of_type(&events, "user_prompt")[0];
    assert_eq!(prompt["data"]["prompt"], "You are an AI agent: explain x");
    assert!(prompt["data"].get("sent_prompt").is_none(), "{prompt}");
}

fn before_tool(tool: &str, input: Value) -> Value {
    json!({"session_id": "gdeny", "transcript_path": "/t.jsonl", "hook_event_name": "BeforeTool",
        "timestamp": "2026-11-30T05:36:49.168Z", "tool_name": tool, "tool_input": input})
}

/// A policy that forbids `.env` and a shell command: Gemini's BeforeTool payloads for them get
/// Gemini's own deny JSON alone on stdout, exit 0 (docs/agents.md §3.3), and the attempt is
/// recorded as denied; an allowed call gets nothing.
#[test]
fn a_policy_denies_gemini_in_geminis_own_words() {
    let env = TestEnv::new();
    std::fs::write(
        env.path().join(".agent-scope.json"),
        json!({"files": {"read": {"deny": [".env"]}}, "commands": {"deny": ["cat .env"]}})
            .to_string(),
    )
    .unwrap();
    for (declared, payload) in [
        (true, before_tool("read_file", json!({"file_path": ".env"}))),
        (
            false,
            before_tool("run_shell_command", json!({"command": "cat .env"})),
        ),
    ] {
        let run = gemini_hook(&env, &payload, declared);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stderr.is_empty(), "{run:?}");
        assert!(run.stdout.ends_with('\n') && run.stdout.lines().count() == 1);
        let out: Value = serde_json::from_str(&run.stdout).unwrap();
        let out = out.as_object().unwrap();
        assert_eq!(
            out.keys().collect::<Vec<_>>(),
            ["decision", "reason"],
            "{out:?}"
        );
        assert_eq!(out["decision"], "deny");
        let reason = out["reason"].as_str().unwrap();
        assert!(reason.contains(".agent-scope.json"), "{reason}");
    }
    let allowed = gemini_hook(
        &env,
        &before_tool("read_file", json!({"file_path": "README.md"})),
        true,
    );
    assert_eq!((allowed.code, allowed.stdout.as_str()), (0, ""));

    let events = env.events("gdeny");
    let calls = of_type(&events, "tool_call");
    assert_eq!(calls.len(), 3);
    assert!(
        calls[0]["data"]["policy_denied"].is_object(),
        "{:?}",
        calls[0]
    );
    assert!(
        calls[1]["data"]["policy_denied"].is_object(),
        "{:?}",
        calls[1]
    );
    assert!(calls[2]["data"].get("policy_denied").is_none());
    assert_eq!(of_type(&events, "error").len(), 2);
}

const EVENTS: [&str; 12] = [
    "SessionStart",
    "SessionEnd",
    "BeforeAgent",
    "AfterAgent",
    "BeforeModel",
    "AfterModel",
    "BeforeToolSelection",
    "BeforeTool",
    "AfterTool",
    "PreCompress",
    "Notification",
    "FutureEvent",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z_]{1,14}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A payload shaped as Gemini's, with every field of its event there and random values where
/// Gemini puts data.
fn good_payload() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(&EVENTS[..]),
        "[0-9a-f]{8}",
        json_value(),
        json_value(),
        ".{0,20}",
        prop::option::of(0u64..1000),
        any::<bool>(),
    )
        .prop_map(|(event, sid, input, any, text, tokens, finish)| {
            let mut p = json!({"session_id": format!("g-{sid}"), "transcript_path": "/t.jsonl",
                "cwd": "/", "hook_event_name": event, "timestamp": "2026-11-30T05:36:48.409Z",
                "extra": any});
            let candidate = if finish {
                json!({"content": {"role": "model", "parts": [text]}, "finishReason": "STOP"})
            } else {
                json!({"content": {"role": "model", "parts": [text]}})
            };
            let extra = match event {
                "BeforeAgent" => json!({"prompt": text}),
                "AfterAgent" => json!({"prompt": "p", "prompt_response": text}),
                "BeforeModel" | "BeforeToolSelection" => {
                    json!({"llm_request": {"model": text, "messages": input}})
                }
                "AfterModel" => json!({"llm_request": {"model": "m"}, "llm_response": {
                    "text": text, "candidates": [candidate],
                    "usageMetadata": {"promptTokenCount": tokens, "totalTokenCount": tokens}}}),
                "BeforeTool" => json!({"tool_name": "read_file", "tool_input": input}),
                "AfterTool" => json!({"tool_name": "read_file", "tool_input": input,
                    "tool_response": {"llmContent": text, "returnDisplay": ""}}),
                _ => json!({}),
            };
            for (k, v) in extra.as_object().unwrap() {
                p[k] = v.clone();
            }
            p
        })
}

/// What Gemini must never see recorded: cut JSON, a wrong session id, a tool event without its
/// tool, a chunk without its response, a time that is no string, anything not an object.
fn bad_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        (good_payload(), 0.0f64..1.0).prop_map(|(p, cut)| {
            let text = p.to_string();
            let n = ((text.len() as f64) * cut) as usize;
            text.as_bytes()[..n.min(text.len() - 1)].to_vec()
        }),
        (
            good_payload(),
            prop::sample::select(&["", "..", "a/b", ".x"][..])
        )
            .prop_map(|(mut p, id)| {
                p["session_id"] = id.into();
                p.to_string().into_bytes()
            }),
        (good_payload(), json_value())
            .prop_filter("not a string", |(_, v)| !v.is_string())
            .prop_map(|(mut p, id)| {
                p["session_id"] = id;
                p.to_string().into_bytes()
            }),
        good_payload().prop_map(|mut p| {
            p.as_object_mut().unwrap().remove("session_id");
            p.to_string().into_bytes()
        }),
        good_payload().prop_map(|mut p| {
            p["timestamp"] = json!(1_796_017_008);
            p.to_string().into_bytes()
        }),
        (json_value(), any::<bool>()).prop_map(|(tool, after)| {
            let mut p = before_tool("read_file", json!({}));
            p["hook_event_name"] = if after { "AfterTool" } else { "BeforeTool" }.into();
            if tool.is_string() {
                p.as_object_mut().unwrap().remove("tool_name");
            } else {
                p["tool_name"] = tool;
            }
            p.to_string().into_bytes()
        }),
        json_value()
            .prop_filter("not an object", |v| !v.is_object())
            .prop_map(|response| {
                let mut p = before_tool("x", json!({}));
                p["hook_event_name"] = "AfterModel".into();
                p["llm_response"] = response;
                p.to_string().into_bytes()
            }),
        json_value()
            .prop_filter("not an object", |v| !v.is_object())
            .prop_map(|v| v.to_string().into_bytes()),
    ]
}

/// Under Gemini, anything on stdout is read as the hook's answer and any line on stderr is
/// shown to the user: whatever arrives, the hook exits 0 and prints nothing, records what is
/// well formed and nothing else.
#[test]
fn malformed_gemini_payloads_never_break_gemini() {
    const CASES: usize = 1500;
    let good_env = TestEnv::new();
    let bad_env = TestEnv::new();
    let mut runner = TestRunner::new(Config {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6e31),
        ..Config::default()
    });
    let inputs: Vec<(bool, Vec<u8>)> = (0..CASES)
        .map(|i| {
            if i.is_multiple_of(3) {
                let p = good_payload().new_tree(&mut runner).unwrap().current();
                (true, p.to_string().into_bytes())
            } else {
                (false, bad_input().new_tree(&mut runner).unwrap().current())
            }
        })
        .collect();
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
                    let mut cmd = if i.is_multiple_of(2) {
                        env.command(&["hook", "--agent", "gemini-cli", "BeforeTool"])
                    } else {
                        let mut cmd = env.command(&["hook", "AfterModel"]);
                        cmd.env("GEMINI_SESSION_ID", "g");
                        cmd
                    };
                    cmd.env("AGENT_TRACE_DIR", env.store());
                    let run = run_with_stdin(cmd, input);
                    if run.code != 0 || !run.stdout.is_empty() || !run.stderr.is_empty() {
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
    let mut recorded = 0;
    for session in good_env.sessions() {
        for event in good_env.typed_events(&session) {
            assert_eq!(event.session_id, session);
            recorded += 1;
        }
        assert_eq!(good_env.meta(&session)["agent_name"], "gemini-cli");
    }
    assert!(recorded > CASES / 6, "only {recorded} events recorded");
}

/// The real Gemini CLI 0.61.0 (`@google/gemini-cli` from npm; tests/run.sh installs it and
/// sets `AGENT_STRACE_GEMINI_CLI`), with our hook in its user settings for every event, runs a
/// turn against docs/agents/fake_gemini.py (a text chunk and a `read_file` call, then two text
/// chunks); the store holds that turn as Gemini lived it.
#[test]
fn the_real_gemini_cli_is_recorded_through_its_hooks() {
    let Some(gemini) = std::env::var_os("AGENT_STRACE_GEMINI_CLI")
        .map(PathBuf::from)
        .filter(|p| p.exists())
    else {
        eprintln!(
            "skipped: the real Gemini CLI is not installed; set AGENT_STRACE_GEMINI_CLI (tests/run.sh installs @google/gemini-cli@0.61.0 and sets it)"
        );
        return;
    };
    let env = TestEnv::new();
    let home = env.path().join("gemini-home");
    let project = env.path().join("project");
    std::fs::create_dir_all(home.join(".gemini")).unwrap();
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("README.md"), "hello\n").unwrap();
    let bin = crate::common::bin();
    let mut hooks = serde_json::Map::new();
    for event in [
        "SessionStart",
        "SessionEnd",
        "BeforeAgent",
        "AfterAgent",
        "BeforeModel",
        "AfterModel",
        "BeforeTool",
        "AfterTool",
        "PreCompress",
        "Notification",
    ] {
        let command = format!("'{}' hook --agent gemini-cli {event}", bin.display());
        hooks.insert(
            event.into(),
            json!([{"matcher": "", "hooks": [{"type": "command", "name": "agent-strace",
                "command": command, "timeout": 30000}]}]),
        );
    }
    let settings = json!({"security": {"auth": {"selectedType": "gemini-api-key"}},
        "privacy": {"usageStatisticsEnabled": false}, "hooks": hooks});
    std::fs::write(home.join(".gemini/settings.json"), settings.to_string()).unwrap();

    let fake = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/agents/fake_gemini.py");
    let mut python = Command::new("python3");
    python
        .arg(&fake)
        .arg("0")
        .stdin(std::process::Stdio::null());
    let (_model, port) = serve_saying_its_port(python);

    let output = Command::new(&gemini)
        .args([
            "--skip-trust",
            "-m",
            "gemini-2.5-flash",
            "-y",
            "-p",
            "read README",
        ])
        .current_dir(&project)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("GEMINI_CLI_HOME", &home)
        .env("GEMINI_API_KEY", "fake")
        .env("GOOGLE_GEMINI_BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("AGENT_STRACE_HOME", env.path().join("agent-strace-home"))
        .output()
        .expect("gemini runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "gemini failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("All done."), "{stdout}");

    let store = project.join(".agent-traces");
    assert!(
        !store.join("hook-errors.log").exists(),
        "{}",
        std::fs::read_to_string(store.join("hook-errors.log")).unwrap_or_default()
    );
    let sessions: Vec<String> = std::fs::read_dir(&store)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let events: Vec<Value> =
        std::fs::read_to_string(store.join(&sessions[0]).join("events.ndjson"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(store.join(&sessions[0]).join("meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["agent_name"], "gemini-cli", "{kinds:?}");
    assert_eq!(
        of_type(&events, "user_prompt")[0]["data"]["prompt"],
        "read README"
    );
    let calls = of_type(&events, "tool_call");
    let results = of_type(&events, "tool_result");
    assert_eq!((calls.len(), results.len()), (1, 1), "{kinds:?}");
    assert_eq!(calls[0]["data"]["tool_name"], "read_file");
    assert_eq!(results[0]["parent_id"], calls[0]["event_id"]);
    assert_eq!(results[0]["data"]["result"], "hello\n");
    let responses = of_type(&events, "llm_response");
    assert_eq!(responses.len(), 2, "one per model response: {kinds:?}");
    let texts: Vec<&str> = responses
        .iter()
        .map(|r| r["data"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Reading.", "All done."]);
    // The fake's counts, as Gemini CLI's hooks pass them on (prompt, candidates, total).
    let totals: Vec<u64> = responses
        .iter()
        .map(|r| {
            r["data"]["reported_usage"]["totalTokenCount"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(totals, [63, 73]);
    assert_eq!(meta["total_tokens"], 63 + 73);
    // The hooks drop the cached count the fake sent with the first response (20 of its 50);
    // it is taken from Gemini's chat.
    let first = &responses[0]["data"]["usage"];
    assert_eq!(
        (&first["input_tokens"], &first["cache_read_input_tokens"]),
        (&json!(30), &json!(20)),
        "{first}"
    );
    let answer = of_type(&events, "assistant_response");
    assert!(
        answer[0]["data"]["text"]
            .as_str()
            .unwrap()
            .contains("All done."),
        "{answer:?}"
    );
    assert_eq!(kinds.first(), Some(&"session_start"));
}

/// Gemini CLI shows whatever a hook writes on stderr to the user when its stdout is empty
/// (docs/agents.md §3.3): when even the store's log cannot take a failure, the hook says
/// nothing under Gemini, where under Claude Code it says one line.
#[test]
fn gemini_hears_nothing_of_the_hooks_own_failures() {
    let env = TestEnv::new();
    let bad = br#"{"session_id": 5, "hook_event_name": "BeforeTool"}"#;
    let run = |args: &[&str], gemini_env: bool| {
        let mut cmd = env.command(args);
        cmd.env("AGENT_TRACE_DIR", "/dev/null/no-store");
        if gemini_env {
            cmd.env("GEMINI_SESSION_ID", "g");
        }
        run_with_stdin(cmd, bad)
    };
    for (args, gemini_env) in [
        (&["hook", "--agent", "gemini-cli", "BeforeTool"][..], false),
        (&["hook", "BeforeTool"][..], true),
    ] {
        let out = run(args, gemini_env);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
    }
    let claude = run(&["hook", "pre-tool"], false);
    assert_eq!(claude.code, 0);
    assert!(claude.stderr.contains("session_id"), "{claude:?}");
}

/// Everything the files under `folder` hold, at any depth, as text.
fn files_under(folder: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            text.push_str(&files_under(&path));
        } else {
            text.push_str(&String::from_utf8_lossy(
                &std::fs::read(&path).unwrap_or_default(),
            ));
        }
    }
    text
}

/// Plays the recorded run's first response with its chunks' texts `texts` (each an
/// `AfterModel` without `finishReason`, then the recorded last chunk, with no text) and the
/// event after it, which folds it, with `args` after `hook`; `check` is called after each
/// chunk's hook with the chunk's number and all the store holds. The response's event.
fn play_chunks(
    env: &TestEnv,
    texts: &[&str],
    args: &[&str],
    mut check: impl FnMut(usize, &str),
) -> Value {
    let payloads = recorded_payloads();
    let first_chunk = first_chunk_of(&payloads);
    let last_chunk = last_chunk_of(&payloads);
    let mut played: Vec<Value> = payloads[..first_chunk].to_vec();
    for text in texts {
        let mut chunk = payloads[first_chunk].clone();
        chunk["llm_response"]["text"] = (*text).into();
        chunk["llm_response"]["candidates"][0]["content"]["parts"] = json!([text]);
        played.push(chunk);
    }
    played.push(payloads[last_chunk].clone());
    played.push(payloads[last_chunk + 1].clone());
    let mut chunk = 0;
    for payload in &played {
        let mut payload = payload.clone();
        payload["cwd"] = env.path().to_string_lossy().into_owned().into();
        let event = payload["hook_event_name"].as_str().unwrap().to_owned();
        let mut all = vec!["hook", "--agent", "gemini-cli"];
        all.extend(args);
        all.push(&event);
        let run = run_with_stdin(env.command(&all), payload.to_string().as_bytes());
        assert_eq!(run.code, 0, "{run:?}");
        if event == "AfterModel" {
            chunk += 1;
            check(chunk, &files_under(&env.store()));
        }
    }
    let events = env.events(SESSION);
    let responses = of_type(&events, "llm_response");
    assert_eq!(responses.len(), 1, "{events:#?}");
    assert_eq!(responses[0]["data"]["chunks"], texts.len() + 1);
    responses[0].clone()
}

/// An Anthropic key as the stream may cut it: no part of it is a secret alone.
const KEY: &str = "sk-ant-api03-Xq7vR2mK9pL4wT8nB3cF6hJ1dS5gZ0aY-uE2iO7kM4rV9xN3bQ6tW1yH8jC5fD0lP2sA7gU4eI9oK3zX6vB1nM8qR5wT2yL7_cF4hJ9dS0gA3kE6iO1uY8pW5xZ2bN7mQ4rV9tL6jH3fD0sC5gK8eI1oU";

/// A key the stream cuts across two chunks (neither part is a secret alone) is on disk in no
/// part once the chunk that ends it is recorded: the part already written is written again
/// scrubbed, with the new one; the response's text holds the placeholder once.
#[test]
fn a_secret_cut_across_two_chunks_is_on_disk_in_no_part() {
    let (head, tail) = KEY.split_at(17);
    assert_eq!(head, "sk-ant-api03-Xq7v");
    let env = TestEnv::new();
    let first = format!("Your key is {head}");
    let second = format!("{tail} and more.");
    let response = play_chunks(&env, &[&first, &second], &[], |chunk, disk| {
        if chunk >= 2 {
            assert!(!disk.contains(head), "after chunk {chunk}: {disk}");
            assert!(!disk.contains(&tail[..20]), "after chunk {chunk}: {disk}");
        }
    });
    assert_eq!(response["data"]["text"], "Your key is [REDACTED] and more.");
}

/// The same across three chunks: a key that only the third makes whole, and a key that the
/// second makes long enough for its rule, whose rest the third brings.
#[test]
fn a_secret_cut_across_three_chunks_is_on_disk_in_no_part() {
    for cuts in [(7, 20), (13, 40)] {
        let pieces = [&KEY[..cuts.0], &KEY[cuts.0..cuts.1], &KEY[cuts.1..]];
        let env = TestEnv::new();
        let texts = [
            format!("key: {}", pieces[0]),
            pieces[1].to_owned(),
            format!("{} done", pieces[2]),
        ];
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let response = play_chunks(&env, &texts, &[], |chunk, disk| {
            if chunk >= 3 {
                for piece in pieces {
                    assert!(!disk.contains(piece), "{cuts:?} chunk {chunk}: {disk}");
                }
            }
        });
        assert_eq!(response["data"]["text"], "key: [REDACTED] done", "{cuts:?}");
    }
}

/// A private key streamed over many chunks: the chunks after its BEGIN line hold its body, line
/// after line, which no rule knows for a key's alone. Only its first lines were redacted; the
/// rest went to disk in clear, in the parts and in the response's event.
#[test]
fn a_private_key_streamed_over_many_chunks_is_on_disk_in_no_part() {
    let body: Vec<String> = (0..20)
        .map(|i| format!("MIIJ{i:02}{}", "Qr5St6UvX7yZ".repeat(5)))
        .collect();
    let text = format!(
        "Here is the key:\n-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\nDone.",
        body.join("\n")
    );
    for size in [16, 100, 300] {
        let mut chunks: Vec<&str> = Vec::new();
        for (i, piece) in text.as_bytes().chunks(size).enumerate() {
            chunks.push(std::str::from_utf8(piece).unwrap());
            // A chunk with usage and no text between two of the key's lost its state.
            if i == 2 {
                chunks.push("");
            }
        }
        let env = TestEnv::new();
        let response = play_chunks(&env, &chunks, &[], |_, disk| {
            for line in &body {
                assert!(!disk.contains(&line[..24]), "{size}: {line} in {disk}");
            }
        });
        assert_eq!(
            response["data"]["text"], "Here is the key:\n[REDACTED]\nDone.",
            "{size}"
        );
    }
}

/// A PuTTY private key (`.ppk`) streamed over many chunks: a chunk holding only the middle
/// lines of its private part (no `PuTTY-User-Key-File-` or `Private-Lines:` line before them,
/// no `Private-MAC:` after) is base64 alone, which no rule knows for a key's, and went to the
/// open response on disk in clear until the response was folded into its event.
#[test]
fn a_putty_key_streamed_over_many_chunks_is_on_disk_in_no_part() {
    let line = |i: usize, mark: &str| format!("AAAB{i:02}{}", mark.repeat(8));
    let public: Vec<String> = (0..2).map(|i| line(i, "Pub0Lic9")).collect();
    let private: Vec<String> = (0..14).map(|i| line(i, "Pv7Kq2Lm")).collect();
    let text = format!(
        "Here is the key:\nPuTTY-User-Key-File-3: ssh-rsa\nEncryption: none\n\
         Comment: rsa-key-20240101\nPublic-Lines: 2\n{}\nPrivate-Lines: 14\n{}\n\
         Private-MAC: 0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0\nDone.",
        public.join("\n"),
        private.join("\n")
    );
    for size in [16, 100, 300] {
        let chunks: Vec<&str> = text
            .as_bytes()
            .chunks(size)
            .map(|piece| std::str::from_utf8(piece).unwrap())
            .collect();
        let env = TestEnv::new();
        let response = play_chunks(&env, &chunks, &[], |chunk, disk| {
            for line in &private {
                assert!(
                    !disk.contains(&line[6..30]),
                    "{size} chunk {chunk}: {line} in {disk}"
                );
            }
        });
        let folded = response["data"]["text"].as_str().unwrap();
        assert!(folded.starts_with("Here is the key:\n"), "{size}: {folded}");
        assert!(folded.ends_with("\nDone."), "{size}: {folded}");
        assert!(!folded.contains("Pv7Kq2Lm"), "{size}: {folded}");
    }
}

/// A `--redact-pattern` that matches the placeholder itself (`[A-Z]{8,}` matches `REDACTED`)
/// leaves it as it is, however many chunks come after it and when the response is folded:
/// never `[[REDACTED]]`.
#[test]
fn a_pattern_matching_the_placeholder_never_nests_it_in_a_streamed_response() {
    let (head, tail) = KEY.split_at(17);
    let env = TestEnv::new();
    let first = format!("code ABCDE and key {head}");
    let second = format!("{tail} then FGHIJKLMNO");
    let mut texts = vec![first.as_str(), second.as_str()];
    texts.extend([" more"; 6]);
    let response = play_chunks(
        &env,
        &texts,
        &["--redact-pattern", "[A-Z]{8,}"],
        |chunk, disk| {
            assert!(!disk.contains("[[REDACTED"), "chunk {chunk}: {disk}");
            if chunk >= 2 {
                assert!(
                    !disk.contains(head) && !disk.contains(&tail[..20]),
                    "{disk}"
                );
            }
        },
    );
    assert_eq!(
        response["data"]["text"],
        format!(
            "code ABCDE and key [REDACTED] then [REDACTED]{}",
            " more".repeat(6)
        )
    );
}

/// Chunk hooks of one session run at once (never seen from Gemini, whose hooks run one at a
/// time, but a stray process may): while one of them writes the open response again to scrub
/// a key the others' text ends, the others' parts are neither lost nor torn.
#[test]
fn chunks_hooked_at_once_never_lose_or_tear_a_part() {
    let (head, tail) = KEY.split_at(17);
    let env = TestEnv::new();
    let payloads = recorded_payloads();
    let first_chunk = first_chunk_of(&payloads);
    let chunk = |text: &str| {
        let mut chunk = payloads[first_chunk].clone();
        chunk["llm_response"]["text"] = text.into();
        chunk["llm_response"]["candidates"][0]["content"]["parts"] = json!([text]);
        chunk["cwd"] = env.path().to_string_lossy().into_owned().into();
        chunk
    };
    for payload in &payloads[..first_chunk] {
        assert_eq!(gemini_hook(&env, payload, true).code, 0);
    }
    assert_eq!(
        gemini_hook(&env, &chunk(&format!("key {head}")), true).code,
        0
    );
    let hooks: Vec<std::thread::JoinHandle<Run>> = (0..8)
        .map(|i| {
            let payload = chunk(&format!("{tail} <{i}>"));
            let cmd = env.command(&["hook", "--agent", "gemini-cli", "AfterModel"]);
            std::thread::spawn(move || run_with_stdin(cmd, payload.to_string().as_bytes()))
        })
        .collect();
    for hook in hooks {
        assert_eq!(hook.join().unwrap().code, 0);
    }
    let response = std::fs::read_to_string(env.store().join(SESSION).join(".response")).unwrap();
    assert!(!response.contains(head), "{response}");
    let lines: Vec<Value> = response
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 1 + 1 + 8, "{response}");
    let text: String = lines.iter().filter_map(|l| l["text"].as_str()).collect();
    for i in 0..8 {
        assert_eq!(text.matches(&format!("<{i}>")).count(), 1, "{text}");
    }
}

/// A Gemini CLI stamp no event can have (1970, as a broken clock writes it) timed the event
/// there, as it did for Copilot and VS Code: the stamp is kept as sent and the hook's own
/// clock times the event.
#[test]
fn a_stamp_no_event_can_have_is_kept_and_the_hooks_clock_times_the_event() {
    let env = TestEnv::new();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let start = json!({"session_id": "gem-1970", "hook_event_name": "SessionStart",
        "timestamp": "1970-01-01T00:00:01Z", "source": "startup"});
    gemini_hook(&env, &start, true).success();
    let events = env.events("gem-1970");
    assert!(
        events[0]["timestamp"].as_f64().unwrap() >= before.floor(),
        "{:?}",
        events[0]
    );
    assert_eq!(events[0]["data"]["timestamp"], "1970-01-01T00:00:01Z");
}

/// A shell command the user stopped with Esc reaches Gemini's AfterTool hook as a command that
/// ran and returned, with no error (`Command was cancelled by user before it could complete.`),
/// and was recorded as a success: `explain` said "Ran" and counted nothing. It is the user's
/// stop now, as the chat's cancelled call is.
#[test]
fn a_command_the_user_stopped_is_a_refusal_through_geminis_hook() {
    let env = TestEnv::new();
    let mut call = before_tool("run_shell_command", json!({"command": "sleep 100"}));
    call["session_id"] = "gstop".into();
    gemini_hook(&env, &call, true).success();
    let mut result = call.clone();
    result["hook_event_name"] = "AfterTool".into();
    result["tool_response"] = json!({"llmContent":
        "Command was cancelled by user before it could complete. Below is the output before it was cancelled:\nstarted",
        "returnDisplay": "Command cancelled by user."});
    gemini_hook(&env, &result, true).success();
    let explain = env.run(&["explain", "gstop"]).success().stdout.clone();
    assert!(explain.contains("Errors: 0   Rejected: 1"), "{explain}");
    assert!(explain.contains("Rejected by the user (1):"), "{explain}");
}

/// A shell command that exited non-zero reaches Gemini's AfterTool hook with no error, its code
/// in the words only (`Exit Code: 1`, written by 0.61.0 for a non-zero code alone), and was
/// recorded as a success with the effects its line names: `mv nothere.txt moved.txt` showed
/// "Moved: …nothere.txt → …moved.txt" and `Errors: 0`. It failed, and moved nothing; the same
/// command that exited 0 still moves its file.
#[test]
fn a_command_that_exited_non_zero_failed_through_geminis_hook() {
    let env = TestEnv::new();
    for (session, output) in [
        (
            "gfail",
            "Output: mv: cannot stat 'nothere.txt': No such file or directory\nExit Code: 1",
        ),
        ("gmoved", "Output: (empty)"),
    ] {
        let mut call = before_tool(
            "run_shell_command",
            json!({"command": "mv nothere.txt moved.txt"}),
        );
        call["session_id"] = session.into();
        gemini_hook(&env, &call, true).success();
        let mut result = call.clone();
        result["hook_event_name"] = "AfterTool".into();
        let content = format!(
            "<untrusted_context>\n{output}\nProcess Group PGID: 5745\n</untrusted_context>"
        );
        result["tool_response"] = json!({"llmContent": content, "returnDisplay": output});
        gemini_hook(&env, &result, true).success();
    }
    let failed = env.run(&["explain", "gfail"]).success().stdout.clone();
    assert!(failed.contains("Errors: 1"), "{failed}");
    assert!(!failed.contains("Moved:"), "{failed}");
    let moved = env.run(&["explain", "gmoved"]).success().stdout.clone();
    assert!(moved.contains("Errors: 0"), "{moved}");
    assert!(moved.contains("Moved:"), "{moved}");
}
