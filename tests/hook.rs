//! `hook`: real Claude Code payloads in, events out; never a failure the agent could see.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::common::{Run, TestEnv, corpus_hook_payloads, run_with_stdin};

const SID: &str = "5b0c7a52-3d1e-4c4f-9a57-0e2d9b1f6a10";

fn payload(event: &str, extra: Value) -> Value {
    let mut p = json!({"session_id": SID, "transcript_path": "/nonexistent.jsonl", "hook_event_name": event});
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

#[test]
fn every_corpus_payload_is_recorded_silently_and_results_link_to_their_calls() {
    let env = TestEnv::new();
    let payloads = corpus_hook_payloads();
    assert_eq!(payloads.len(), 219);
    // Within each file the payloads are in the order Claude Code sent them; calls come before
    // their results because pre_tool_use files are played before post_tool_use files.
    let order = |p: &Value| match p["hook_event_name"].as_str().unwrap_or("") {
        "SessionStart" => 0,
        "UserPromptSubmit" => 1,
        "PreToolUse" => 2,
        "PostToolUse" => 3,
        _ => 4,
    };
    let mut payloads = payloads;
    payloads.sort_by_key(|(_, p)| order(p));

    for (file, p) in &payloads {
        let event = p["hook_event_name"].as_str().unwrap();
        let run = env.hook(event, p);
        assert_eq!(run.code, 0, "{file}: {run:?}");
        assert!(run.stdout.is_empty(), "{file}: printed {:?}", run.stdout);
    }
    assert!(
        !env.store().join("hook-errors.log").exists(),
        "{:?}",
        std::fs::read_to_string(env.store().join("hook-errors.log"))
    );

    // Count what the corpus holds, independently of the binary.
    let mut pre_by_session: HashMap<String, Vec<(String, Value)>> = HashMap::new();
    for (_, p) in payloads
        .iter()
        .filter(|(_, p)| p["hook_event_name"] == "PreToolUse")
    {
        pre_by_session
            .entry(p["session_id"].as_str().unwrap().to_owned())
            .or_default()
            .push((
                p["tool_name"].as_str().unwrap().to_owned(),
                p["tool_input"].clone(),
            ));
    }
    for (session, pres) in &pre_by_session {
        let events = env.events(session);
        let calls: Vec<&Value> = events
            .iter()
            .filter(|e| e["event_type"] == "tool_call")
            .collect();
        assert_eq!(
            calls.len(),
            pres.len(),
            "every PreToolUse becomes a call in {session}"
        );
        let call_by_id: HashMap<&str, &Value> = calls
            .iter()
            .map(|c| (c["event_id"].as_str().unwrap(), *c))
            .collect();
        let mut linked_calls = std::collections::HashSet::new();
        for result in events.iter().filter(|e| e["event_type"] == "tool_result") {
            let tool = result["data"]["tool_name"].as_str().unwrap();
            let Some(parent) = result["parent_id"].as_str() else {
                // Unlinked only when no call with this tool and input was seen.
                continue;
            };
            let call = call_by_id
                .get(parent)
                .unwrap_or_else(|| panic!("result links to unknown {parent}"));
            assert_eq!(
                call["data"]["tool_name"], tool,
                "linked to a call of another tool"
            );
            assert!(
                linked_calls.insert(parent.to_owned()),
                "two results link to call {parent}"
            );
            assert!(result["duration_ms"].as_f64().unwrap() >= 0.0);
        }
    }
    // Every PostToolUse whose call was seen is linked: compare with an independent match.
    for (_, post) in payloads
        .iter()
        .filter(|(_, p)| p["hook_event_name"] == "PostToolUse")
    {
        let session = post["session_id"].as_str().unwrap();
        let seen = pre_by_session.get(session).is_some_and(|pres| {
            pres.iter().any(|(tool, input)| {
                tool == post["tool_name"].as_str().unwrap() && *input == post["tool_input"]
            })
        });
        if !seen {
            continue;
        }
        let events = env.events(session);
        let linked = events.iter().any(|e| {
            e["event_type"] == "tool_result"
                && e["parent_id"].is_string()
                && e["data"]["tool_name"] == post["tool_name"]
                && if post["tool_response"].is_string() {
                    e["data"]["result"] == post["tool_response"]
                } else {
                    e["data"]["tool_response"] == post["tool_response"]
                }
        });
        assert!(
            linked,
            "a PostToolUse of {} in {session} with a seen call is not linked",
            post["tool_name"]
        );
    }
}

#[test]
fn a_full_session_records_every_kind_of_event() {
    let env = TestEnv::new();
    let transcript = env.path().join("transcript.jsonl");
    std::fs::write(
        &transcript,
        concat!(
            r#"{"type":"user","message":{"role":"user","content":"fix it"}}"#,
            "\n",
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"All **75** tests pass."}]}}"#,
            "\n"
        ),
    )
    .unwrap();
    let t = transcript.to_string_lossy().into_owned();
    let steps = [
        (
            "session-start",
            payload(
                "SessionStart",
                json!({"source": "startup", "transcript_path": t}),
            ),
        ),
        (
            "user-prompt",
            payload("UserPromptSubmit", json!({"prompt": "run the tests"})),
        ),
        (
            "pre-tool",
            payload(
                "PreToolUse",
                json!({"tool_name": "Read", "tool_input": {"file_path": "/p/a.py"}, "tool_use_id": "toolu_1"}),
            ),
        ),
        (
            "post-tool",
            payload(
                "PostToolUse",
                json!({"tool_name": "Read", "tool_input": {"file_path": "/p/a.py"}, "tool_use_id": "toolu_1", "tool_response": {"type": "text", "file": {"filePath": "/p/a.py"}}}),
            ),
        ),
        (
            "pre-tool",
            payload(
                "PreToolUse",
                json!({"tool_name": "Bash", "tool_input": {"command": "pytest"}, "tool_use_id": "toolu_2"}),
            ),
        ),
        (
            "post-tool-failure",
            payload(
                "PostToolUseFailure",
                json!({"tool_name": "Bash", "tool_input": {"command": "pytest"}, "tool_use_id": "toolu_2", "error": "Exit code 1: 2 failed", "is_interrupt": false}),
            ),
        ),
        (
            "pre-tool",
            payload(
                "PreToolUse",
                json!({"tool_name": "Edit", "tool_input": {"file_path": "/p/a.py", "old_string": "a", "new_string": "b"}, "tool_use_id": "toolu_3"}),
            ),
        ),
        (
            "post-tool",
            payload(
                "PostToolUse",
                json!({"tool_name": "Edit", "tool_input": {"file_path": "/p/a.py", "old_string": "a", "new_string": "b"}, "tool_use_id": "toolu_3", "tool_response": {"filePath": "/p/a.py"}}),
            ),
        ),
        (
            "notification",
            payload(
                "Notification",
                json!({"message": "Claude is waiting for your input"}),
            ),
        ),
        (
            "pre-compact",
            payload(
                "PreCompact",
                json!({"trigger": "manual", "custom_instructions": ""}),
            ),
        ),
        (
            "permission-request",
            payload(
                "PermissionRequest",
                json!({"tool_name": "Bash", "tool_input": {"command": "rm -rf build"}}),
            ),
        ),
        (
            "stop",
            payload(
                "Stop",
                json!({"stop_hook_active": false, "transcript_path": t}),
            ),
        ),
        (
            "future-event",
            payload("SomethingNew", json!({"detail": 42})),
        ),
        (
            "session-end",
            payload("SessionEnd", json!({"reason": "exit"})),
        ),
    ];
    for (arg, p) in &steps {
        env.hook(arg, p).success();
    }
    let events = env.events(SID);
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "session_start",
            "user_prompt",
            "tool_call",
            "tool_result",
            "file_read",
            "tool_call",
            "error",
            "tool_call",
            "tool_result",
            "file_write",
            "decision",
            "decision",
            "decision",
            "assistant_response",
            "decision",
            "session_end"
        ]
    );
    let by_kind = |k: &str| {
        events
            .iter()
            .filter(|e| e["event_type"] == k)
            .cloned()
            .collect::<Vec<_>>()
    };
    let calls = by_kind("tool_call");
    assert_eq!(calls[0]["data"]["arguments"]["file_path"], "/p/a.py");
    assert_eq!(calls[0]["data"]["tool_use_id"], "toolu_1");
    let error = &by_kind("error")[0];
    assert_eq!(error["parent_id"], calls[1]["event_id"]);
    assert_eq!(error["data"]["error"], "Exit code 1: 2 failed");
    assert_eq!(error["data"]["is_interrupt"], false);
    assert!(error["duration_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(by_kind("file_write")[0]["data"]["path"], "/p/a.py");
    assert_eq!(
        by_kind("tool_result")[0]["data"]["tool_response"]["file"]["filePath"],
        "/p/a.py"
    );
    assert_eq!(
        by_kind("assistant_response")[0]["data"]["text"],
        "All **75** tests pass."
    );
    let decisions = by_kind("decision");
    assert_eq!(decisions[0]["data"]["hook_event_name"], "Notification");
    assert_eq!(decisions[3]["data"]["hook_event_name"], "SomethingNew");
    assert_eq!(decisions[3]["data"]["detail"], 42);

    let meta = env.meta(SID);
    assert_eq!(meta["session_id"], SID);
    assert_eq!(meta["agent_name"], "claude-code");
    assert_eq!(meta["command"], "claude-code (startup)");
    assert_eq!(meta["tool_calls"], 3);
    assert_eq!(meta["errors"], 1);
    assert!(meta["ended_at"].as_f64().unwrap() >= meta["started_at"].as_f64().unwrap());
}

#[test]
fn results_without_tool_use_id_link_to_the_oldest_open_identical_call() {
    let env = TestEnv::new();
    let call = |cmd: &str| {
        payload(
            "PreToolUse",
            json!({"tool_name": "Bash", "tool_input": {"command": cmd}}),
        )
    };
    let result = |cmd: &str, out: &str| {
        payload(
            "PostToolUse",
            json!({"tool_name": "Bash", "tool_input": {"command": cmd}, "tool_response": {"stdout": out}}),
        )
    };
    env.hook("pre-tool", &call("make")).success();
    env.hook("pre-tool", &call("ls")).success();
    env.hook("pre-tool", &call("make")).success();
    env.hook("post-tool", &result("make", "first")).success();
    env.hook("post-tool", &result("ls", "listing")).success();
    env.hook("post-tool", &result("make", "second")).success();
    env.hook("post-tool", &result("make", "orphan")).success();
    let events = env.events(SID);
    let calls: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "tool_call")
        .collect();
    let parent_of = |out: &str| {
        events
            .iter()
            .find(|e| e["data"]["tool_response"]["stdout"] == out)
            .unwrap()["parent_id"]
            .clone()
    };
    assert_eq!(parent_of("first"), calls[0]["event_id"]);
    assert_eq!(parent_of("listing"), calls[1]["event_id"]);
    assert_eq!(parent_of("second"), calls[2]["event_id"]);
    assert_eq!(parent_of("orphan"), Value::Null);
}

#[test]
fn bad_input_exits_zero_prints_nothing_records_nothing_and_logs_one_line() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.store()).unwrap();
    let cases: [(&str, &[u8]); 7] = [
        ("pre-tool", b""),
        ("pre-tool", b"{not json"),
        ("pre-tool", b"[1,2,3]"),
        (
            "pre-tool",
            br#"{"session_id": 42, "hook_event_name": "PreToolUse"}"#,
        ),
        (
            "pre-tool",
            br#"{"session_id": "s1", "hook_event_name": "PreToolUse"}"#,
        ),
        (
            "user-prompt",
            br#"{"hook_event_name": "UserPromptSubmit", "prompt": "hi"}"#,
        ),
        ("no-such-event", br#"{"session_id": "s1"}"#),
    ];
    for (event, stdin) in cases {
        let run = env.run_with_stdin(
            &["--trace-dir", env.store().to_str().unwrap(), "hook", event],
            stdin,
        );
        assert_eq!(run.code, 0, "{event} {stdin:?}: {run:?}");
        assert!(run.stdout.is_empty());
    }
    assert!(
        env.sessions().is_empty(),
        "no event may be recorded: {:?}",
        env.sessions()
    );
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
    assert_eq!(log.lines().count(), cases.len(), "{log}");
    assert!(log.contains("stdin was empty"));
    assert!(log.contains("not JSON"));
}

#[test]
fn an_unwritable_store_does_not_fail_the_agent() {
    let env = TestEnv::new();
    // A file where the store's folder should be: nothing can be created under it.
    std::fs::write(env.store(), "not a directory").unwrap();
    let p = payload("UserPromptSubmit", json!({"prompt": "hi"}));
    let run = env.hook("user-prompt", &p);
    assert_eq!(run.code, 0);
    assert!(run.stdout.is_empty());
}

#[test]
fn sixty_four_parallel_hooks_leave_sixty_four_whole_lines_and_matching_counters() {
    let env = TestEnv::new();
    env.hook(
        "session-start",
        &payload("SessionStart", json!({"source": "startup"})),
    )
    .success();
    let children: Vec<_> = (0..64)
        .map(|i| {
            let p = payload(
                "PreToolUse",
                json!({"tool_name": "Bash", "tool_input": {"command": format!("echo {i} {}", "x".repeat(3000))}, "cwd": env.path()}),
            );
            crate::common::spawn_hook(&env, "pre-tool", &p)
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert!(out.stdout.is_empty());
    }
    let events = env.events(SID);
    assert_eq!(events.len(), 65);
    let mut commands: Vec<String> = events
        .iter()
        .filter(|e| e["event_type"] == "tool_call")
        .map(|e| {
            e["data"]["arguments"]["command"]
                .as_str()
                .unwrap()
                .split(' ')
                .nth(1)
                .unwrap()
                .to_owned()
        })
        .collect();
    commands.sort_by_key(|c| c.parse::<u32>().unwrap());
    assert_eq!(commands, (0..64).map(|i| i.to_string()).collect::<Vec<_>>());
    // The last writer to get the lock has caught meta up; a reader sees the same either way.
    let listed = env.run(&["list", "--format", "json"]).success().json();
    assert_eq!(listed[0]["tool_calls"], 64);
    env.hook(
        "session-end",
        &payload("SessionEnd", json!({"reason": "exit"})),
    )
    .success();
    assert_eq!(env.meta(SID)["tool_calls"], 64);
}

#[test]
fn a_torn_last_line_is_skipped_and_the_next_event_starts_a_new_line() {
    let env = TestEnv::new();
    env.hook(
        "user-prompt",
        &payload("UserPromptSubmit", json!({"prompt": "one"})),
    )
    .success();
    let path = env.store().join(SID).join("events.ndjson");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(br#"{"event_type":"tool_call","timestamp":17"#);
    std::fs::write(&path, bytes).unwrap();
    env.hook(
        "user-prompt",
        &payload("UserPromptSubmit", json!({"prompt": "two"})),
    )
    .success();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[2].contains("\"two\""));
    let run = env.run(&["replay"]);
    run.success();
    assert!(run.stdout.contains("\"one\"") && run.stdout.contains("\"two\""));
    assert!(
        run.stderr
            .contains("events.ndjson:2: skipped a malformed line"),
        "{}",
        run.stderr
    );
}

/// A tool's result and the file it read are written as one: a write cut short (here by a file
/// size limit, with no `trap` on SIGXFSZ: the hook must not die of it) leaves neither, and the
/// next event starts on a line of its own.
#[test]
fn a_result_and_its_file_read_land_together_or_not_at_all() {
    const LIMIT: u64 = 32 * 1024;
    let response = "y".repeat(3000);
    let call = |env: &TestEnv| {
        env.hook(
            "pre-tool",
            &payload(
                "PreToolUse",
                json!({"tool_name": "Read", "tool_input": {"file_path": "/etc/hosts"},
                       "tool_use_id": "toolu_01"}),
            ),
        )
        .success();
    };
    let result_of = |env: &TestEnv, limited: bool| {
        let mut post = payload(
            "PostToolUse",
            json!({"tool_name": "Read", "tool_input": {"file_path": "/etc/hosts"},
                   "tool_use_id": "toolu_01", "tool_response": response}),
        );
        post["cwd"] = env.path().to_string_lossy().into_owned().into();
        let mut cmd = env.command(&["hook", "post-tool"]);
        if limited {
            let inner = cmd;
            cmd = std::process::Command::new("sh");
            cmd.arg("-c")
                .arg("ulimit -f 64; exec \"$0\" \"$@\"")
                .arg(inner.get_program())
                .args(inner.get_args())
                .current_dir(env.path());
            for (name, value) in inner.get_envs() {
                match value {
                    Some(value) => cmd.env(name, value),
                    None => cmd.env_remove(name),
                };
            }
        }
        crate::common::run_with_stdin(cmd, post.to_string().as_bytes())
    };
    let lines = |env: &TestEnv| {
        let text = std::fs::read(env.store().join(SID).join("events.ndjson")).unwrap();
        text.split(|&b| b == b'\n')
            .map(|l| serde_json::from_slice::<Value>(l).ok())
            .collect::<Vec<_>>()
    };
    let kinds = |env: &TestEnv| {
        lines(env)
            .into_iter()
            .flatten()
            .map(|e| e["event_type"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    // Unlimited, to learn how long the two lines are.
    let twin = TestEnv::new();
    call(&twin);
    result_of(&twin, false).success();
    let text = std::fs::read_to_string(twin.store().join(SID).join("events.ndjson")).unwrap();
    let len = |kind: &str| {
        text.lines()
            .find(|l| l.contains(&format!("\"event_type\":\"{kind}\"")))
            .unwrap()
            .len() as u64
            + 1
    };
    let (result, file) = (len("tool_result"), len("file_read"));
    // Room for half the result, for the result and half the file read, and for both.
    for (room, whole) in [
        (result / 2, false),
        (result + file / 2, false),
        (result + file + 100, true),
    ] {
        let env = TestEnv::new();
        env.hook(
            "user-prompt",
            &payload("UserPromptSubmit", json!({"prompt": "one"})),
        )
        .success();
        call(&env);
        let path = env.store().join(SID).join("events.ndjson");
        let size = std::fs::metadata(&path).unwrap().len();
        let filler = json!({"event_type": "decision", "timestamp": 1.0, "event_id": "000000000000",
                            "session_id": SID, "data": {"pad": ""}});
        let pad = usize::try_from(LIMIT - room - size).unwrap() - filler.to_string().len() - 1;
        let mut filler = filler;
        filler["data"]["pad"] = "p".repeat(pad).into();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(format!("{filler}\n").as_bytes());
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), LIMIT - room);

        let run = result_of(&env, true);
        assert_eq!(run.code, 0, "room {room}: {run:?}");
        assert!(run.stdout.is_empty() && run.stderr.is_empty(), "{run:?}");
        let kinds = kinds(&env);
        let told = ["tool_result", "file_read"].map(|k| kinds.iter().any(|x| x == k));
        assert_eq!(told, [whole, whole], "room {room}: {kinds:?}");
        if !whole {
            let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
            assert!(log.contains("File too large"), "{log}");
            // The next event, with no limit, is whole on a line of its own.
            env.hook(
                "user-prompt",
                &payload("UserPromptSubmit", json!({"prompt": "two"})),
            )
            .success();
            assert_eq!(
                lines(&env).into_iter().rev().nth(1).flatten().unwrap()["data"]["prompt"],
                "two"
            );
        }
    }
}

/// A result whose write fails (a full disk) leaves its call open: the result tried again, once
/// there is room, is still linked to its call and timed. The call was forgotten before the write,
/// and the result written next had neither link nor duration.
#[test]
fn a_result_that_cannot_be_written_leaves_its_call_for_the_next_try() {
    let env = TestEnv::new();
    let input = json!({"file_path": "/etc/hosts"});
    env.hook(
        "pre-tool",
        &payload(
            "PreToolUse",
            json!({"tool_name": "Read", "tool_input": input, "tool_use_id": "toolu_01"}),
        ),
    )
    .success();
    fill_the_disk(&env);
    let post = payload(
        "PostToolUse",
        json!({"tool_name": "Read", "tool_input": input, "tool_use_id": "toolu_01",
               "tool_response": "127.0.0.1 localhost"}),
    );
    hook_on_a_full_disk(&env, "post-tool", &post);
    assert_eq!(
        env.events(SID).len(),
        2,
        "nothing of the result was written"
    );

    // Room again: the same result, tried once more.
    env.hook("post-tool", &post).success();
    let events = env.events(SID);
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["tool_call", "decision", "tool_result", "file_read"]);
    let (call, result) = (&events[0], &events[2]);
    assert_eq!(result["parent_id"], call["event_id"], "{result}");
    assert!(result["duration_ms"].as_f64().is_some(), "{result}");
    assert_eq!(events[3]["parent_id"], call["event_id"]);
}

/// A call whose write fails (a full disk) leaves no open call behind: its result, once the
/// call tried again is written, is linked to that call. The call that was never written stayed
/// open, and the result linked to it, an event no reader can find.
#[test]
fn a_call_that_cannot_be_written_leaves_no_open_call_behind() {
    let env = TestEnv::new();
    let input = json!({"file_path": "/etc/hosts"});
    env.hook(
        "user-prompt",
        &payload("UserPromptSubmit", json!({"prompt": "read the hosts"})),
    )
    .success();
    fill_the_disk(&env);
    let pre = payload(
        "PreToolUse",
        json!({"tool_name": "Read", "tool_input": input, "tool_use_id": "toolu_01"}),
    );
    hook_on_a_full_disk(&env, "pre-tool", &pre);
    assert_eq!(env.events(SID).len(), 2, "the call was not written");

    // Room again: the call tried once more, then its result.
    env.hook("pre-tool", &pre).success();
    env.hook(
        "post-tool",
        &payload(
            "PostToolUse",
            json!({"tool_name": "Read", "tool_input": input, "tool_use_id": "toolu_01",
                   "tool_response": "127.0.0.1 localhost"}),
        ),
    )
    .success();
    let events = env.events(SID);
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "user_prompt",
            "decision",
            "tool_call",
            "tool_result",
            "file_read"
        ]
    );
    let (call, result) = (&events[2], &events[3]);
    assert_eq!(result["parent_id"], call["event_id"], "{result}");
}

/// A subagent whose session cannot be made (its meta does not fit on a full disk) leaves its
/// spawning call open and no folder behind: its start tried again with room makes the child
/// linked to the call. The call was claimed and the empty folder left, so the start tried
/// again found the folder and wrote the child without a meta, linked to nothing.
#[test]
fn a_subagent_that_cannot_be_made_leaves_its_spawning_call_for_the_next_try() {
    let env = TestEnv::new();
    let task_input = json!({"description": "extract helpers", "prompt": "Extract the helpers"});
    env.hook(
        "pre-tool",
        &payload(
            "PreToolUse",
            json!({"tool_name": "Agent", "tool_input": task_input, "tool_use_id": "toolu_9"}),
        ),
    )
    .success();
    // Its type is in the child's meta, which then takes more than the 32 KiB left.
    let start = payload(
        "SubagentStart",
        json!({"agent_id": "a1b2c3", "agent_type": "t".repeat(40 * 1024)}),
    );
    hook_on_a_full_disk(&env, "subagent-start", &start);
    assert_eq!(env.sessions(), [SID], "no child was made");

    // Room again: the start tried once more.
    env.hook("subagent-start", &start).success();
    let child = format!("agent-a1b2c3-{SID}");
    let parent = env.events(SID);
    let call = &parent[0];
    assert!(
        env.store().join(&child).join("meta.json").is_file(),
        "the child has a meta"
    );
    assert_eq!(env.meta(&child)["parent_event_id"], call["event_id"]);
    let kinds: Vec<&str> = parent
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["tool_call", "subagent_start"]);
    assert_eq!(parent[1]["parent_id"], call["event_id"]);
    assert_eq!(env.events(&child)[0]["event_type"], "session_start");
}

/// A Task result whose subagent cannot be written (a full disk) records nothing and leaves its
/// call open: the result tried again with room is linked, and makes the child whole and linked.
/// The result was written first and claimed the call, then the child was left with a meta and
/// no events, and the result tried again was written a second time, linked to nothing.
#[test]
fn a_task_result_whose_subagent_cannot_be_written_leaves_its_call_for_the_next_try() {
    let env = TestEnv::new();
    let input = json!({"description": "look around", "prompt": "List the files", "subagent_type": "explorer"});
    env.hook(
        "pre-tool",
        &payload(
            "PreToolUse",
            json!({"tool_name": "Task", "tool_input": input, "tool_use_id": "toolu_1"}),
        ),
    )
    .success();
    // The child's prompt comes from the result's input: one over 32 KiB fits in no file, and
    // the result itself, which does not keep its input, fits in the parent's.
    let mut input = input;
    input["prompt"] = "p".repeat(40 * 1024).into();
    let post = payload(
        "PostToolUse",
        json!({"tool_name": "Task", "tool_input": input, "tool_use_id": "toolu_1",
               "tool_response": {"content": [{"type": "text", "text": "3 files"}]}}),
    );
    hook_on_a_full_disk(&env, "post-tool", &post);
    assert_eq!(env.sessions(), [SID], "no child was made");
    assert_eq!(env.events(SID).len(), 1, "the result was not written");

    // Room again: the result tried once more.
    env.hook("post-tool", &post).success();
    let parent = env.events(SID);
    let kinds: Vec<&str> = parent
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["tool_call", "tool_result"]);
    let (call, result) = (&parent[0], &parent[1]);
    assert_eq!(result["parent_id"], call["event_id"], "{result}");
    let child = format!("task-{}-{SID}", call["event_id"].as_str().unwrap());
    assert_eq!(env.sessions(), [SID.to_owned(), child.clone()]);
    assert_eq!(env.meta(&child)["parent_event_id"], call["event_id"]);
    let kinds: Vec<String> = env
        .events(&child)
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        [
            "session_start",
            "user_prompt",
            "assistant_response",
            "session_end"
        ]
    );
}

/// A session's events, in order, without the lines a write cut short voided (`#…`).
fn whole_events(env: &TestEnv, session: &str) -> Vec<Value> {
    std::fs::read_to_string(env.store().join(session).join("events.ndjson"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The kinds of a session's events, in order (see [`whole_events`]).
fn kinds(env: &TestEnv, session: &str) -> Vec<String> {
    whole_events(env, session)
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect()
}

/// A subagent stop whose marker in the parent cannot be written (the parent's file is full)
/// keeps the subagent's end, and the stop tried again with room writes only the marker: the
/// subagent ends once, with one answer, and the parent is marked once. The stop tried again
/// wrote the subagent's answer and end a second time.
#[test]
fn a_subagent_stop_whose_marker_cannot_be_written_writes_only_the_marker_when_tried_again() {
    let env = TestEnv::new();
    env.hook(
        "pre-tool",
        &payload(
            "PreToolUse",
            json!({"tool_name": "Agent", "tool_input": {"prompt": "Extract the helpers"},
                   "tool_use_id": "toolu_9"}),
        ),
    )
    .success();
    let agent = json!({"agent_id": "a1b2c3", "agent_type": "general-purpose"});
    env.hook("subagent-start", &payload("SubagentStart", agent.clone()))
        .success();
    let child = format!("agent-a1b2c3-{SID}");
    fill_the_disk(&env);
    let mut stop = agent;
    stop["last_assistant_message"] = "Extracted 3 helpers".into();
    let stop = payload("SubagentStop", stop);
    hook_on_a_full_disk(&env, "subagent-stop", &stop);
    assert_eq!(
        kinds(&env, &child),
        ["session_start", "assistant_response", "session_end"],
        "the subagent's end is written"
    );
    assert_eq!(
        kinds(&env, SID).last().unwrap(),
        "decision",
        "no marker yet"
    );

    // Room again: the same stop, tried once more.
    env.hook("subagent-stop", &stop).success();
    assert_eq!(
        kinds(&env, &child),
        ["session_start", "assistant_response", "session_end"]
    );
    let parent = env.events(SID);
    let markers: Vec<&Value> = parent
        .iter()
        .filter(|e| e["event_type"] == "subagent_stop")
        .collect();
    assert_eq!(markers.len(), 1, "{parent:?}");
    assert_eq!(markers[0]["data"]["child_session_id"], child.as_str());
    assert_eq!(markers[0]["parent_id"], parent[0]["event_id"]);
}

/// A subagent whose meta was written but whose `session_start` could not be (it does not fit
/// under a 32 KiB file limit, where the meta just does) gets its start from its next hook,
/// before that hook's event. Its session had no start at all.
#[test]
fn a_subagent_whose_start_cannot_be_written_gets_it_from_its_next_hook() {
    let env = TestEnv::new();
    env.hook(
        "pre-tool",
        &payload(
            "PreToolUse",
            json!({"tool_name": "Agent", "tool_input": {"prompt": "Look"}, "tool_use_id": "toolu_9"}),
        ),
    )
    .success();
    // The start holds the agent's id and the meta does not: with a long id and a type that
    // brings the meta to just under 32 KiB, the start's line is just over.
    let agent_id = "b".repeat(150);
    let child = format!("agent-{agent_id}-{SID}");
    let measure = TestEnv::new();
    measure
        .hook(
            "subagent-start",
            &payload(
                "SubagentStart",
                json!({"agent_id": agent_id, "agent_type": "t"}),
            ),
        )
        .success();
    let meta_len = std::fs::metadata(measure.store().join(&child).join("meta.json"))
        .unwrap()
        .len();
    let start_len = std::fs::metadata(measure.store().join(&child).join("events.ndjson"))
        .unwrap()
        .len();
    assert!(start_len > meta_len + 80, "{start_len} {meta_len}");
    let room = usize::try_from(32 * 1024 - 40 - meta_len).unwrap();
    let agent_type = "t".repeat(1 + room);
    let start = payload(
        "SubagentStart",
        json!({"agent_id": agent_id, "agent_type": agent_type}),
    );
    hook_on_a_full_disk(&env, "subagent-start", &start);
    assert!(env.store().join(&child).join("meta.json").is_file());
    assert!(kinds(&env, &child).is_empty(), "no start was written");

    // Room again: the subagent's next hook.
    env.hook(
        "pre-tool",
        &payload(
            "PreToolUse",
            json!({"agent_id": agent_id, "tool_name": "Read", "tool_input": {"file_path": "/p/a.py"}}),
        ),
    )
    .success();
    assert_eq!(kinds(&env, &child), ["session_start", "tool_call"]);
    let start = &whole_events(&env, &child)[0];
    assert_eq!(start["data"]["agent_id"], agent_id.as_str());
    assert_eq!(start["data"]["agent_type"], agent_type.as_str());
    assert_eq!(start["data"]["parent_session_id"], SID);
    assert_eq!(start["timestamp"], env.meta(&child)["started_at"]);
    assert_eq!(
        env.meta(&child)["parent_event_id"],
        env.events(SID)[0]["event_id"]
    );
}

/// A spawning call given back when its subagent could not be made, and never taken since, is
/// closed when its session's turn ends: a later subagent that shares nothing with its own call
/// is linked to that call. The call given back stayed open for ever, the oldest, and the later
/// subagent was linked to it.
#[test]
fn a_spawning_call_given_back_is_closed_when_the_turn_ends() {
    let env = TestEnv::new();
    let spawn = |prompt: &str, id: &str| {
        env.hook(
            "pre-tool",
            &payload(
                "PreToolUse",
                json!({"tool_name": "Agent", "tool_input": {"prompt": prompt}, "tool_use_id": id}),
            ),
        )
        .success();
    };
    spawn("Extract the helpers", "toolu_1");
    let start = payload(
        "SubagentStart",
        json!({"agent_id": "a1", "agent_type": "t".repeat(40 * 1024)}),
    );
    hook_on_a_full_disk(&env, "subagent-start", &start);
    assert_eq!(env.sessions(), [SID], "no child was made");
    env.hook(
        "stop",
        &payload("Stop", json!({"last_assistant_message": "Stopped."})),
    )
    .success();

    spawn("Write the tests", "toolu_2");
    env.hook(
        "subagent-start",
        &payload(
            "SubagentStart",
            json!({"agent_id": "a2", "agent_type": "tester"}),
        ),
    )
    .success();
    let parent = env.events(SID);
    let second = parent
        .iter()
        .find(|e| e["data"]["tool_use_id"] == "toolu_2")
        .unwrap();
    assert_eq!(
        env.meta(&format!("agent-a2-{SID}"))["parent_event_id"],
        second["event_id"]
    );
}

/// Fills the session's file up to 32 KiB with one line, so that under
/// [`crate::common::with_a_full_disk_at_32_kib`] not one more byte fits.
fn fill_the_disk(env: &TestEnv) {
    const LIMIT: u64 = 32 * 1024;
    let path = env.store().join(SID).join("events.ndjson");
    let filler = json!({"event_type": "decision", "timestamp": 1.0, "event_id": "000000000000",
                        "session_id": SID, "data": {"pad": ""}});
    let size = std::fs::metadata(&path).unwrap().len();
    let pad = usize::try_from(LIMIT - size).unwrap() - filler.to_string().len() - 1;
    let mut filler = filler;
    filler["data"]["pad"] = "p".repeat(pad).into();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(format!("{filler}\n").as_bytes());
    std::fs::write(&path, bytes).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), LIMIT);
}

/// Runs `hook <event>` with `payload` on a disk full at 32 KiB: it exits 0, prints nothing, and
/// logs why nothing was written.
fn hook_on_a_full_disk(env: &TestEnv, event: &str, payload: &Value) {
    let mut payload = payload.clone();
    payload["cwd"] = env.path().to_string_lossy().into_owned().into();
    let full = crate::common::with_a_full_disk_at_32_kib(&env.command(&["hook", event]));
    let run = crate::common::run_with_stdin(full, payload.to_string().as_bytes());
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{run:?}");
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
    assert!(log.contains("File too large"), "{log}");
}

#[test]
fn a_session_stays_in_the_store_where_it_started() {
    let env = TestEnv::new();
    env.hook(
        "session-start",
        &payload("SessionStart", json!({"source": "startup"})),
    )
    .success();
    let sub = env.path().join("sub").join("dir");
    std::fs::create_dir_all(sub.join(".agent-traces")).unwrap();
    let mut p = payload("UserPromptSubmit", json!({"prompt": "from a subfolder"}));
    p["cwd"] = sub.to_string_lossy().into_owned().into();
    crate::common::run_with_stdin(
        env.command(&["hook", "user-prompt"]),
        p.to_string().as_bytes(),
    )
    .success();
    assert_eq!(
        env.events(SID).len(),
        2,
        "the prompt joins the session where it started"
    );
    assert!(!sub.join(".agent-traces").join(SID).exists());
}

#[test]
fn claude_project_dir_decides_the_store() {
    let env = TestEnv::new();
    let project = env.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    let mut cmd = env.command(&["hook", "user-prompt"]);
    cmd.env("CLAUDE_PROJECT_DIR", &project);
    let p = payload(
        "UserPromptSubmit",
        json!({"prompt": "hi", "cwd": "/somewhere/else"}),
    );
    crate::common::run_with_stdin(cmd, p.to_string().as_bytes()).success();
    assert!(
        project
            .join(".agent-traces")
            .join(SID)
            .join("events.ndjson")
            .is_file()
    );
}

#[test]
fn huge_payloads_are_cut_with_their_original_size() {
    let env = TestEnv::new();
    let big = "y".repeat(600 * 1024);
    let input = json!({"command": "cat big"});
    env.hook(
        "pre-tool",
        &payload(
            "PreToolUse",
            json!({"tool_name": "Bash", "tool_input": input}),
        ),
    )
    .success();
    env.hook(
        "post-tool",
        &payload(
            "PostToolUse",
            json!({"tool_name": "Bash", "tool_input": input, "tool_response": {"stdout": big}}),
        ),
    )
    .success();
    let events = env.events(SID);
    let result = &events[1];
    let kept = result["data"]["tool_response"].as_str().unwrap();
    assert!(kept.len() <= 256 * 1024 + 100);
    assert!(kept.ends_with("bytes in all]"));
    assert_eq!(
        result["data"]["tool_response_original_bytes"],
        600 * 1024 + 13
    );
    // The text preview stays small whatever the response's size.
    assert!(result["data"]["result"].as_str().unwrap().len() <= 4 * 1024 + 3);
    assert!(result["parent_id"].is_string());
}

#[test]
fn subagents_become_child_sessions_linked_to_the_spawning_call() {
    let env = TestEnv::new();
    let task_input = json!({"description": "extract helpers", "prompt": "Extract the helpers", "subagent_type": "general-purpose"});
    env.hook(
        "pre-tool",
        &payload(
            "PreToolUse",
            json!({"tool_name": "Agent", "tool_input": task_input, "tool_use_id": "toolu_9"}),
        ),
    )
    .success();
    env.hook(
        "subagent-start",
        &payload(
            "SubagentStart",
            json!({"agent_id": "a1b2c3", "agent_type": "general-purpose"}),
        ),
    )
    .success();
    env.hook("pre-tool", &payload("PreToolUse", json!({"agent_id": "a1b2c3", "tool_name": "Read", "tool_input": {"file_path": "/p/auth.py"}}))).success();
    env.hook("post-tool", &payload("PostToolUse", json!({"agent_id": "a1b2c3", "tool_name": "Read", "tool_input": {"file_path": "/p/auth.py"}, "tool_response": {}}))).success();
    env.hook(
        "subagent-stop",
        &payload(
            "SubagentStop",
            json!({"agent_id": "a1b2c3", "last_assistant_message": "Extracted 3 helpers"}),
        ),
    )
    .success();
    env.hook("post-tool", &payload("PostToolUse", json!({"tool_name": "Agent", "tool_input": task_input, "tool_use_id": "toolu_9", "tool_response": {"content": [{"type": "text", "text": "done"}]}}))).success();

    let child = format!("agent-a1b2c3-{SID}");
    assert_eq!(env.sessions(), vec![SID.to_owned(), child.clone()]);
    let parent_events = env.events(SID);
    let call = &parent_events[0];
    let meta = env.meta(&child);
    assert_eq!(meta["parent_session_id"], SID);
    assert_eq!(meta["parent_event_id"], call["event_id"]);
    assert_eq!(meta["depth"], 1);
    let child_kinds: Vec<String> = env
        .events(&child)
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        child_kinds,
        [
            "session_start",
            "tool_call",
            "tool_result",
            "file_read",
            "assistant_response",
            "session_end"
        ]
    );

    let tree = env.run(&["replay", "--tree"]).success().stdout.clone();
    assert!(
        tree.contains(SID) && tree.contains(&format!("  ▶ {child}")),
        "{tree}"
    );
    let expanded = env
        .run(&["replay", "--expand-subagents"])
        .success()
        .stdout
        .clone();
    let call_line = expanded.find("tool_call Agent").unwrap();
    let nested = expanded.find("│ #2").unwrap();
    assert!(nested > call_line, "{expanded}");
    let stats = env
        .run(&["stats", "--include-subagents", "--format", "json"])
        .success()
        .json();
    assert_eq!(stats["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(stats["tool_calls"], 2);
}

#[test]
fn old_task_calls_without_subagent_hooks_still_get_a_child_session() {
    let env = TestEnv::new();
    let input = json!({"description": "look around", "prompt": "List the files", "subagent_type": "explorer"});
    env.hook(
        "pre-tool",
        &payload(
            "PreToolUse",
            json!({"tool_name": "Task", "tool_input": input}),
        ),
    )
    .success();
    env.hook("post-tool", &payload("PostToolUse", json!({"tool_name": "Task", "tool_input": input, "tool_response": {"content": [{"type": "text", "text": "3 files"}]}}))).success();
    let ids = env.sessions();
    assert_eq!(ids.len(), 2);
    let child = ids.iter().find(|id| id.starts_with("task-")).unwrap();
    let meta = env.meta(child);
    assert_eq!(meta["parent_session_id"], SID);
    assert_eq!(meta["parent_event_id"], env.events(SID)[0]["event_id"]);
    let texts: Vec<Value> = env
        .events(child)
        .iter()
        .map(|e| e["data"].clone())
        .collect();
    assert_eq!(texts[1]["prompt"], "List the files");
    assert_eq!(texts[2]["text"], "3 files");
}

#[test]
fn parallel_hooks_of_two_subagents_link_each_to_its_own_spawning_call() {
    let env = TestEnv::new();
    for (i, description) in ["first", "second"].iter().enumerate() {
        let input = json!({"description": description, "prompt": "go"});
        env.hook("pre-tool", &payload("PreToolUse", json!({"tool_name": "Agent", "tool_input": input, "tool_use_id": format!("toolu_{i}")})))
            .success();
    }
    let children: Vec<_> = (0..16)
        .map(|i| {
            let agent = if i % 2 == 0 { "x1" } else { "x2" };
            let mut p = payload(
                "PreToolUse",
                json!({"agent_id": agent, "tool_name": "Read", "tool_input": {"file_path": format!("/f{i}")}}),
            );
            p["cwd"] = env.path().to_string_lossy().into_owned().into();
            crate::common::spawn_hook(&env, "pre-tool", &p)
        })
        .collect();
    for child in children {
        assert!(child.wait_with_output().unwrap().status.success());
    }
    let calls: Vec<Value> = env
        .events(SID)
        .iter()
        .map(|e| e["event_id"].clone())
        .collect();
    let a = env.meta(&format!("agent-x1-{SID}"))["parent_event_id"].clone();
    let b = env.meta(&format!("agent-x2-{SID}"))["parent_event_id"].clone();
    assert!(
        calls.contains(&a) && calls.contains(&b),
        "{a} {b} {calls:?}"
    );
    assert_ne!(a, b);
    for agent in ["x1", "x2"] {
        let kinds: Vec<Value> = env
            .events(&format!("agent-{agent}-{SID}"))
            .iter()
            .map(|e| e["event_type"].clone())
            .collect();
        assert_eq!(kinds.iter().filter(|k| *k == "tool_call").count(), 8);
        assert_eq!(kinds.iter().filter(|k| *k == "session_start").count(), 1);
    }
}

/// A VS Code agent-hook payload as VS Code's documentation gives it: camelCase common fields,
/// an ISO timestamp, snake_case event fields.
fn vscode(event: &str, session: &str, second: u32, extra: Value) -> Value {
    let mut p = json!({
        "timestamp": format!("2026-02-09T10:30:{second:02}.000Z"),
        "sessionId": session,
        "hookEventName": event,
        "transcript_path": "/nonexistent/vscode-transcript.json",
    });
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

/// A payload's own time far past the hook's clock (2099: a clock wrong, not a time) was taken
/// as the event's: the session started in 2099, and was first in `list` and "the latest" of
/// `replay` for ever. A time later than the hook's clock allows gives way to that clock.
#[test]
fn a_payload_stamped_far_in_the_future_is_recorded_at_the_hooks_clock() {
    let env = TestEnv::new();
    let session = "7c1d2e3f-5b4a-4392-8170-6e5d4c3b2a19";
    let clock = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    };
    let before = clock();
    for (arg, event, second) in [
        ("session-start", "SessionStart", 0),
        ("session-end", "SessionEnd", 5),
    ] {
        let mut payload = vscode(event, session, 0, json!({}));
        payload["timestamp"] = json!(format!("2099-01-01T00:00:{second:02}.000Z"));
        env.hook(arg, &payload).success();
    }
    let after = clock();
    let events = env.events(session);
    assert_eq!(events.len(), 2, "{events:?}");
    for event in &events {
        let at = event["timestamp"].as_f64().unwrap();
        assert!((before..=after).contains(&at), "{event}");
    }
    let started = env.meta(session)["started_at"].as_f64().unwrap();
    assert!((before..=after).contains(&started), "{started}");
}

/// Issue 8: VS Code runs the hooks of ~/.claude/settings.json with its own payloads; they were
/// dropped with "field `session_id` is missing". Now they are a VS Code session that replays.
#[test]
fn issue_8_vscode_payloads_are_recorded_as_a_vscode_session_and_replay() {
    let env = TestEnv::new();
    let session = "0f8e7d6c-5b4a-4392-8170-6e5d4c3b2a19";
    let steps = [
        (
            "session-start",
            vscode("SessionStart", session, 0, json!({"source": "new"})),
        ),
        (
            "user-prompt",
            vscode(
                "UserPromptSubmit",
                session,
                1,
                json!({"prompt": "fix the failing test"}),
            ),
        ),
        (
            "pre-tool",
            vscode(
                "PreToolUse",
                session,
                2,
                json!({"tool_name": "read_file", "tool_input": {"filePath": "/w/src/main.ts", "startLine": 1, "endLine": 40}, "tool_use_id": "tool-1"}),
            ),
        ),
        (
            "post-tool",
            vscode(
                "PostToolUse",
                session,
                4,
                json!({"tool_name": "read_file", "tool_input": {"filePath": "/w/src/main.ts", "startLine": 1, "endLine": 40}, "tool_use_id": "tool-1", "tool_response": "export const x = 1;", "vscode_extra": {"kept": true}}),
            ),
        ),
        (
            "pre-tool",
            vscode(
                "PreToolUse",
                session,
                5,
                json!({"tool_name": "run_in_terminal", "tool_input": {"command": "npm test", "explanation": "run the tests"}, "tool_use_id": "tool-2"}),
            ),
        ),
        (
            "post-tool",
            vscode(
                "PostToolUse",
                session,
                8,
                json!({"tool_name": "run_in_terminal", "tool_input": {"command": "npm test", "explanation": "run the tests"}, "tool_use_id": "tool-2", "tool_response": "1 passing"}),
            ),
        ),
        (
            "stop",
            vscode("Stop", session, 9, json!({"stop_hook_active": false})),
        ),
        (
            "pre-compact",
            vscode("PreCompact", session, 10, json!({"trigger": "auto"})),
        ),
    ];
    for (arg, p) in &steps {
        let run = env.hook(arg, p);
        run.success();
        assert!(run.stdout.is_empty(), "{arg} printed {:?}", run.stdout);
    }
    assert!(
        !env.store().join("hook-errors.log").exists(),
        "{:?}",
        std::fs::read_to_string(env.store().join("hook-errors.log"))
    );
    assert_eq!(env.sessions(), [session]);
    let meta = env.meta(session);
    assert_eq!(meta["agent_name"], "vscode");
    assert_eq!(meta["command"], "vscode (new)");

    let events = env.events(session);
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "session_start",
            "user_prompt",
            "tool_call",
            "tool_result",
            "file_read",
            "tool_call",
            "tool_result",
            "assistant_response",
            "decision",
        ]
    );
    // Stamped with VS Code's own times, so durations are the payloads' differences.
    assert_eq!(events[0]["timestamp"].as_f64(), Some(1_770_633_000.0));
    assert_eq!(events[1]["data"]["prompt"], "fix the failing test");
    assert_eq!(events[2]["data"]["tool_name"], "read_file");
    assert_eq!(events[2]["data"]["tool_use_id"], "tool-1");
    assert_eq!(events[3]["parent_id"], events[2]["event_id"]);
    assert_eq!(events[3]["duration_ms"].as_f64(), Some(2000.0));
    assert_eq!(events[3]["data"]["result"], "export const x = 1;");
    // A field VS Code may add later is kept.
    assert_eq!(events[3]["data"]["vscode_extra"], json!({"kept": true}));
    assert_eq!(events[4]["data"]["path"], "/w/src/main.ts");
    assert_eq!(events[6]["parent_id"], events[5]["event_id"]);
    assert_eq!(events[6]["duration_ms"].as_f64(), Some(3000.0));
    assert_eq!(events[8]["data"]["hook_event_name"], "PreCompact");
    assert_eq!(events[8]["data"]["trigger"], "auto");

    let listed = env.run(&["list", "--format", "json"]).success().json();
    assert_eq!(listed[0]["session_id"], session, "{listed}");
    let replay = env.run(&["replay", session]);
    replay.success();
    for needle in ["fix the failing test", "read_file", "npm test"] {
        assert!(
            replay.stdout.contains(needle),
            "replay lacks {needle}:\n{}",
            replay.stdout
        );
    }
}

#[test]
fn the_hook_masks_and_redacts_with_the_same_flags_as_the_proxies() {
    let env = TestEnv::new();
    let p = payload(
        "UserPromptSubmit",
        json!({"prompt": "mail ada@example.com about ticket ACME-1234"}),
    );
    let mut cmd = env.command(&[
        "hook",
        "user-prompt",
        "--mask",
        "--redact-pattern",
        r"ACME-\d+",
    ]);
    let mut p2 = p.clone();
    p2["cwd"] = env.path().to_string_lossy().into_owned().into();
    crate::common::run_with_stdin(
        {
            cmd.env("AGENT_STRACE_REDACT", "1");
            cmd
        },
        p2.to_string().as_bytes(),
    )
    .success();
    let events = env.events(SID);
    assert_eq!(
        events[0]["data"]["prompt"],
        "mail [EMAIL] about ticket [REDACTED]"
    );

    // A pattern that does not compile records nothing, says why in the log, and still exits 0
    // with nothing printed.
    let env = TestEnv::new();
    p2["cwd"] = env.path().to_string_lossy().into_owned().into();
    let cmd = env.command(&["hook", "user-prompt", "--redact-pattern", "("]);
    let run = crate::common::run_with_stdin(cmd, p2.to_string().as_bytes());
    run.success();
    assert!(run.stdout.is_empty());
    assert!(env.events(SID).is_empty());
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
    assert!(
        log.contains("--redact-pattern `(` is not a valid regular expression"),
        "{log}"
    );
}

/// `--mask` takes an address whose `@` is percent-encoded, as a URL's query carries it; it
/// reached disk whole.
#[test]
fn the_hook_masks_an_address_percent_encoded_in_a_url() {
    let env = TestEnv::new();
    let mut p = payload(
        "UserPromptSubmit",
        json!({"prompt": "fetch https://crm.example/users?email=ada.l%40example.com&page=2"}),
    );
    p["cwd"] = env.path().to_string_lossy().into_owned().into();
    let cmd = env.command(&["hook", "user-prompt", "--mask"]);
    crate::common::run_with_stdin(cmd, p.to_string().as_bytes()).success();
    assert_eq!(
        env.events(SID)[0]["data"]["prompt"],
        "fetch https://crm.example/users?email=[EMAIL]&page=2"
    );
}

/// The hook's log quoted what it could not take as it came, with redaction on: a session id,
/// an event's name, a flag of the command line, the collector's URL and a transcript's path,
/// each holding a token, reached `hook-errors.log` whole. Each line is scrubbed with the
/// hook's privacy, and with `--no-redact` kept as it is.
#[test]
fn a_secret_the_hook_cannot_take_never_reaches_its_log() {
    let env = TestEnv::new();
    let token = "ghp_Qx01u8jzPde0IgxLd6GncfBAepfJBd0Kh8oO";
    let store = env.store();
    let trace_dir = store.to_str().unwrap();
    let nobody = crate::common::net::NobodyListens::new();
    let endpoint = format!("http://127.0.0.1:{}/ingest/{token}/", nobody.port());
    let fifo = env.path().join(format!("fifo_{token}.jsonl"));
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let prompt = json!({"session_id": "a", "hook_event_name": "UserPromptSubmit", "prompt": "hi"});
    let event = format!("Evt_{token}");
    let flag = format!("--token={token}");
    let cases: [(&[&str], Option<&str>, Value, &str); 5] = [
        (
            &["user-prompt"],
            None,
            json!({"session_id": format!("../{token}"), "hook_event_name": "UserPromptSubmit",
                   "prompt": "hi"}),
            "cannot name a session folder",
        ),
        (
            &[&event],
            None,
            json!({"session_id": "a", "prompt": "hi"}),
            "unknown hook event",
        ),
        (
            &[&flag, "user-prompt"],
            None,
            prompt.clone(),
            "ignored what it does not know: --token=",
        ),
        (
            &["user-prompt"],
            Some(&endpoint),
            prompt.clone(),
            "not reached",
        ),
        (
            &["stop"],
            None,
            json!({"session_id": "c", "hook_event_name": "Stop",
                   "transcript_path": fifo.to_str().unwrap()}),
            "is a FIFO",
        ),
    ];
    let log_of = |flags: &[&str]| {
        let _ = std::fs::remove_file(store.join("hook-errors.log"));
        for (args, endpoint, payload, _) in &cases {
            let mut all = vec!["--trace-dir", trace_dir, "hook"];
            all.extend_from_slice(flags);
            all.extend_from_slice(args);
            let mut cmd = env.command(&all);
            cmd.env_remove("AGENT_STRACE_ENDPOINT");
            if let Some(endpoint) = endpoint {
                cmd.env("AGENT_STRACE_ENDPOINT", endpoint);
            }
            let run = run_with_stdin(cmd, payload.to_string().as_bytes());
            assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{args:?}");
        }
        std::fs::read_to_string(store.join("hook-errors.log")).unwrap()
    };

    let log = log_of(&[]);
    assert!(!log.contains("Qx01u8jz"), "{log}");
    // Each failure is still said.
    for (_, _, _, said) in &cases {
        assert!(log.contains(said), "{said}: {log}");
    }
    assert_eq!(log.lines().count(), cases.len(), "{log}");

    let log = log_of(&["--no-redact"]);
    assert_eq!(log.lines().count(), cases.len(), "{log}");
    assert!(log.lines().all(|line| line.contains(token)), "{log}");
}

#[test]
fn a_hook_line_that_does_not_read_never_blocks_the_agent() {
    // A newer `setup` wrote a flag or an agent this binary does not know. Every agent takes a
    // hook's exit 2 as "block" (Copilot any failure), so before, every tool call was stopped.
    let env = TestEnv::new();
    let big = json!({"session_id": "s1", "hook_event_name": "PreToolUse", "tool_name": "Bash",
                     "tool_input": {"command": "x".repeat(1 << 20)}})
    .to_string();
    for line in [
        &["hook", "--agent", "some-new-agent", "pre-tool"][..],
        &["hook", "--a-new-flag", "pre-tool"],
        &["--color", "never", "hook", "pre-tool", "--agent"],
    ] {
        let mut child = env
            .command(line)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The agent writes the whole payload: the hook reads it before it goes.
        let mut stdin = child.stdin.take().unwrap();
        let big = big.clone();
        let wrote = std::thread::spawn(move || {
            std::io::Write::write_all(&mut stdin, big.as_bytes()).is_ok()
        });
        let run = crate::common::Run::of(child.wait_with_output().unwrap());
        assert!(wrote.join().unwrap(), "{line:?}: the payload was not read");
        assert_eq!(
            (run.code, run.stdout.as_str(), run.stderr.as_str()),
            (0, "", ""),
            "{line:?}"
        );
    }
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(
        log.contains("some-new-agent") && log.contains("--a-new-flag"),
        "{log}"
    );
    assert!(
        log.lines()
            .all(|l| l.contains("command line does not read"))
    );
    // Anything but a hook is still a usage error.
    assert_eq!(env.run(&["lisst"]).code, 2);
    assert_eq!(env.run(&["list", "--a-new-flag"]).code, 2);
    let hook = String::from("hook");
    assert_eq!(env.run(&["replay", &hook, "--a-new-flag"]).code, 2);
}

#[test]
fn many_large_events_at_once_leave_no_blank_line() {
    // A writer that looked at the file's last byte while another's large write was under way
    // took the file for torn and began its event with a newline: a blank line, which strict
    // readers (the Python tool's json.loads) fail on.
    let env = TestEnv::new();
    let big = "y".repeat(200 * 1024);
    for round in 0..2 {
        let children: Vec<_> = (0..40)
            .map(|i| {
                let p = payload(
                    "PostToolUse",
                    json!({"tool_name": "Bash", "tool_input": {"command": format!("r{round} {i}")},
                           "tool_response": {"stdout": big}, "tool_use_id": format!("t{round}-{i}")}),
                );
                crate::common::spawn_hook(&env, "post-tool", &p)
            })
            .collect();
        for child in children {
            assert!(child.wait_with_output().unwrap().status.success());
        }
    }
    let text = std::fs::read_to_string(env.store().join(SID).join("events.ndjson")).unwrap();
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    let blank = lines.iter().filter(|l| l.trim().is_empty()).count();
    assert_eq!(blank, 0, "{blank} blank lines in {}", lines.len());
    assert!(
        lines
            .iter()
            .all(|l| serde_json::from_str::<Value>(l).is_ok())
    );
    assert_eq!(lines.len(), 80);
}

#[test]
fn a_payload_of_millions_of_tiny_values_is_recorded_in_bounded_memory() {
    // 24 MB of `{}` took a hook 1.7 GB: each two bytes became a value of 32 and more, copied
    // as it was recorded. Under a 512 MB limit on its data the hook ran out and died.
    let env = TestEnv::new();
    let tiny = vec!["{}"; 8_000_000].join(",");
    let body = format!(
        r#"{{"session_id":"{SID}","transcript_path":"/nonexistent.jsonl","cwd":"{}","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{{"command":"ls"}},"tool_response":{{"stdout":[{tiny}]}},"tool_use_id":"t-tiny"}}"#,
        env.path().display()
    );
    let run = post_tool_with_data_limit(&env, 512 << 20, &body);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:?}");
    let events = env.events(SID);
    let result = events
        .iter()
        .find(|e| e["event_type"] == "tool_result")
        .expect("the result is recorded");
    let data = &result["data"];
    assert_eq!(data["tool_use_id"], "t-tiny", "{data}");
    let left_out = data["json_values_left_out"].as_u64().unwrap();
    assert_eq!(left_out, 8_000_000 - (1 << 18) + 2, "{data}");
}

/// `hook post-tool` given `body`, its data limited to `bytes` (prlimit), as an agent runs it.
fn post_tool_with_data_limit(env: &TestEnv, bytes: u64, body: &str) -> Run {
    let hook = env.command_with_data_limit(&["hook", "post-tool"], bytes);
    run_with_stdin(hook, body.as_bytes())
}

#[test]
fn a_big_tool_output_is_recorded_without_copying_it_whole_for_its_preview() {
    // A 48 MiB command output took a debug build's hook past 250 MB of data (over five times
    // the payload, though it keeps 256 KiB of it): the preview of a structured response joined
    // its whole stdout to keep 4 KiB. It needed about 210 MiB then, 260 before; the output
    // is now held once (see the next test), and the hook needs 98 MiB (measured under
    // prlimit: 97 was too little): under 122 MiB, halfway to one copy of the output more
    // (about 146 MiB), such a copy runs out and dies unrecorded.
    let env = TestEnv::new();
    let stdout = "x".repeat(48 << 20);
    let body = payload(
        "PostToolUse",
        json!({"cwd": env.path(), "tool_name": "Bash", "tool_input": {"command": "cat big"},
               "tool_response": {"stdout": stdout, "stderr": "done"}, "tool_use_id": "t-big"}),
    )
    .to_string();
    drop(stdout);
    let run = post_tool_with_data_limit(&env, 122 << 20, &body);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:?}");
    let events = env.events(SID);
    let result = events
        .iter()
        .find(|e| e["event_type"] == "tool_result")
        .expect("the result is recorded");
    let data = &result["data"];
    assert_eq!(data["tool_use_id"], "t-big");
    let preview = data["result"].as_str().unwrap();
    assert!(
        preview.starts_with("xxxx") && preview.ends_with('…'),
        "{preview:.80}"
    );
    assert!(data["tool_response_original_bytes"].as_u64().unwrap() > 48 << 20);
}

#[test]
fn a_big_tool_output_is_held_once_by_the_hook_not_copied_to_be_recorded() {
    // A 48 MiB file read took a debug build's hook to 210 MiB of data: the response was
    // copied out of the payload's fields for its tool, and copied again into the result that
    // records it, beside stdin's buffer grown by doubling. It is moved, and the hook needs
    // 98 MiB (measured under prlimit: 209 and 96 MiB were too little); under 154 MiB, halfway,
    // the hook before ran out and died without recording.
    let env = TestEnv::new();
    let text = "x".repeat(48 << 20);
    let body = payload(
        "PostToolUse",
        json!({"cwd": env.path(), "tool_name": "Read", "tool_input": {"file_path": "big.log"},
               "tool_response": text, "tool_use_id": "t-read"}),
    )
    .to_string();
    drop(text);
    let run = post_tool_with_data_limit(&env, 154 << 20, &body);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:?}");
    let events = env.events(SID);
    let result = events
        .iter()
        .find(|e| e["event_type"] == "tool_result")
        .expect("the result is recorded");
    let data = &result["data"];
    assert_eq!(data["tool_use_id"], "t-read");
    let kept = data["result"].as_str().unwrap();
    assert!(
        kept.starts_with("xxxx") && kept.len() < 1 << 20,
        "{kept:.80}"
    );
    assert_eq!(
        data["result_original_bytes"],
        (48u64 << 20) + 2,
        "{data:.200}"
    );
}

/// An agent (or a wrapper) that writes the payload and keeps the pipe open: the hook answers
/// once the JSON document is whole, not at the pipe's end. Before, it waited for the end, and
/// the agent for it until its hook timeout. The pipe is held until the hook has ended, for a
/// minute at most: one waiting for the pipe's end never does.
#[test]
fn a_hook_answers_once_its_payload_is_whole_while_the_pipe_stays_open() {
    use std::io::Write;

    use crate::common::wait::{ends_by_itself, wait_until};
    let env = TestEnv::new();
    std::fs::write(
        env.path().join(".agent-scope.json"),
        json!({"files": {"read": {"deny": [".env"]}}}).to_string(),
    )
    .unwrap();
    let denied = payload(
        "PreToolUse",
        json!({"cwd": env.path(), "tool_name": "Read", "tool_use_id": "t1",
               "tool_input": {"file_path": env.path().join(".env")}}),
    );
    // Written in two parts, the second once the hook has read the first, with `}` inside a
    // string and an escaped quote on the way: the document is whole only at its last brace.
    let text = denied.to_string();
    let (first, second) = text.split_at(text.len() / 2);
    let mut child = env
        .command(&["hook", "pre-tool"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(first.as_bytes()).unwrap();
    stdin.flush().unwrap();
    wait_until("the hook has read the first part", || {
        rustix::io::ioctl_fionread(&stdin).unwrap() == 0
    });
    stdin.write_all(second.as_bytes()).unwrap();
    stdin.write_all(b"\n").unwrap();
    stdin.flush().unwrap();
    let status = ends_by_itself(&mut child, "the hook waited for the pipe's end");
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(status.success());
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["hookSpecificOutput"]["permissionDecision"], "deny");
    assert_eq!(env.sessions(), [SID]);
    assert!(!env.store().join("hook-errors.log").exists());

    // A quote and braces inside strings do not end the document early.
    let tricky = payload(
        "UserPromptSubmit",
        json!({"cwd": env.path(), "prompt": "say \"}\" and ]} then {{ \\"}),
    );
    let mut child = env
        .command(&["hook", "user-prompt"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(tricky.to_string().as_bytes()).unwrap();
    stdin.flush().unwrap();
    let status = ends_by_itself(&mut child, "the hook waited for the pipe's end");
    drop(stdin);
    assert!(status.success());
    let prompts: Vec<Value> = env
        .events(SID)
        .into_iter()
        .filter(|e| e["event_type"] == "user_prompt")
        .collect();
    assert_eq!(prompts.len(), 1);
    assert_eq!(prompts[0]["data"]["prompt"], "say \"}\" and ]} then {{ \\");
}

/// An agent that writes part of its payload and keeps the pipe open: the hook waited for the
/// rest for ever (the agent with it, until its own hook timeout, if it has one). It gives up
/// after a few seconds with no byte, logs that nothing was recorded and that the policy went
/// unenforced, and lets the call go on.
#[test]
fn a_hook_gives_up_on_a_payload_that_stops_coming() {
    use std::io::Write;

    use crate::common::wait::ends_by_itself;
    let env = TestEnv::new();
    std::fs::write(
        env.path().join(".agent-scope.json"),
        json!({"files": {"read": {"deny": [".env"]}}}).to_string(),
    )
    .unwrap();
    let text = payload(
        "PreToolUse",
        json!({"cwd": env.path(), "tool_name": "Read", "tool_use_id": "t1",
               "tool_input": {"file_path": env.path().join(".env")}}),
    )
    .to_string();
    let mut child = env
        .command(&["hook", "pre-tool"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&text.as_bytes()[..text.len() / 2]).unwrap();
    stdin.flush().unwrap();
    let status = ends_by_itself(&mut child, "the hook waited for the rest of the payload");
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(status.success());
    assert!(output.stdout.is_empty(), "{output:?}");
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
    assert!(log.contains("the payload is not whole"), "{log}");
    assert!(log.contains("POLICY NOT ENFORCED"), "{log}");
}

/// The calls of a session's `.pending/` folder: (open, closed at a turn's end).
fn pending_calls(env: &TestEnv) -> (Vec<String>, Vec<String>) {
    let names: Vec<String> = std::fs::read_dir(env.store().join(SID).join(".pending"))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|name| !name.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names
        .into_iter()
        .partition(|name| !name.starts_with("closed."))
}

/// A call whose result never came (the user interrupted it) was open for ever: the result of
/// the next call with the same tool and input, from an agent that sends no tool-use id, was
/// taken for the old call's (linked to it, timed from it). The turn's end closes it.
#[test]
fn a_call_interrupted_in_an_earlier_turn_never_takes_a_later_calls_result() {
    let env = TestEnv::new();
    let bash = json!({"tool_name": "Bash", "tool_input": {"command": "cargo test"}});
    interrupted_call(&env, &bash);
    the_same_call_in_a_new_turn_takes_its_result(&env, &bash);
    let (open, closed) = pending_calls(&env);
    assert_eq!(
        (open.len(), closed.len()),
        (0, 1),
        "the first call is closed"
    );
}

/// A call still open when its turn ends is closed, not forgotten: its result, should it come
/// late, is still linked and timed; the session's end leaves no call in `.pending/`.
#[test]
fn a_call_closed_at_its_turns_end_still_takes_its_late_result_and_the_end_clears_the_rest() {
    let env = TestEnv::new();
    let call = |id: &str| json!({"tool_name": "Read", "tool_input": {"file_path": "/etc/hosts"}, "tool_use_id": id});
    env.hook("PreToolUse", &payload("PreToolUse", call("toolu_9")))
        .success();
    env.hook("Stop", &payload("Stop", json!({"stop_hook_active": false})))
        .success();
    let (open, closed) = pending_calls(&env);
    assert_eq!((open.len(), closed.len()), (0, 1), "{open:?} {closed:?}");
    let mut late = call("toolu_9");
    late["tool_response"] = json!({"content": "127.0.0.1 localhost"});
    env.hook("PostToolUse", &payload("PostToolUse", late))
        .success();
    let events = env.events(SID);
    let first = events
        .iter()
        .find(|e| e["event_type"] == "tool_call")
        .unwrap();
    let result = events
        .iter()
        .find(|e| e["event_type"] == "tool_result")
        .unwrap();
    assert_eq!(result["parent_id"], first["event_id"]);
    assert!(result["duration_ms"].as_f64().is_some());
    assert_eq!(pending_calls(&env), (vec![], vec![]));

    // Interrupted twice: one closed at the turn's end, one still open at the session's end.
    env.hook("PreToolUse", &payload("PreToolUse", call("toolu_10")))
        .success();
    env.hook("Stop", &payload("Stop", json!({"stop_hook_active": false})))
        .success();
    env.hook("PreToolUse", &payload("PreToolUse", call("toolu_11")))
        .success();
    env.hook(
        "SessionEnd",
        &payload("SessionEnd", json!({"reason": "exit"})),
    )
    .success();
    assert_eq!(pending_calls(&env), (vec![], vec![]));
    let calls = env
        .events(SID)
        .iter()
        .filter(|e| e["event_type"] == "tool_call")
        .count();
    assert_eq!(calls, 3, "the calls stay recorded");
}

/// Entries planted in `.pending/` that cannot be closed (folders named like closed calls) no
/// longer stop a turn's end from closing the calls listed after them: a call interrupted in
/// that turn stayed open and took the result of a later call with the same tool and input.
#[test]
fn entries_that_cannot_be_closed_leave_the_other_calls_closed_at_a_turns_end() {
    let env = TestEnv::new();
    let bash = json!({"tool_name": "Bash", "tool_input": {"command": "cargo test"}});
    interrupted_call(&env, &bash);
    // Many, so that the folder lists at least one of them before the call.
    let pending = env.store().join(SID).join(".pending");
    for n in 0..200 {
        std::fs::create_dir(pending.join(format!("closed.planted{n}"))).unwrap();
    }
    the_same_call_in_a_new_turn_takes_its_result(&env, &bash);
}

/// A turn whose one call (`call`, with no tool-use id) gets no result: the user interrupted it.
fn interrupted_call(env: &TestEnv, call: &Value) {
    for (event, extra) in [
        ("UserPromptSubmit", json!({"prompt": "run the tests"})),
        ("PreToolUse", call.clone()),
    ] {
        env.hook(event, &payload(event, extra)).success();
    }
}

/// Ends the turn of an [`interrupted_call`], makes the same call in the next turn and gives it a
/// result: both calls stay recorded and the result is the second call's.
#[track_caller]
fn the_same_call_in_a_new_turn_takes_its_result(env: &TestEnv, call: &Value) {
    for (event, extra) in [
        ("Stop", json!({"stop_hook_active": false})),
        ("UserPromptSubmit", json!({"prompt": "again"})),
        ("PreToolUse", call.clone()),
    ] {
        env.hook(event, &payload(event, extra)).success();
    }
    let mut result = call.clone();
    result["tool_response"] = json!({"stdout": "ok"});
    env.hook("PostToolUse", &payload("PostToolUse", result))
        .success();
    let events = env.events(SID);
    let of_type =
        |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["event_type"] == kind).collect() };
    let (calls, results) = (of_type("tool_call"), of_type("tool_result"));
    assert_eq!(
        (calls.len(), results.len()),
        (2, 1),
        "both calls stay recorded"
    );
    assert_eq!(
        results[0]["parent_id"], calls[1]["event_id"],
        "the result is the second call's"
    );
}

/// `git push --force` asked (PreToolUse, `toolu_1`, in auto mode) and refused by auto mode's
/// classifier (PermissionDenied) with its reason.
fn force_push_refused_by_auto_mode(env: &TestEnv) {
    let push = json!({"tool_name": "Bash", "tool_input": {"command": "git push --force"},
                      "tool_use_id": "toolu_1", "permission_mode": "auto"});
    env.hook("PreToolUse", &payload("PreToolUse", push.clone()))
        .success();
    let mut refused = push;
    refused["reason"] = json!("Force-pushing rewrites the shared branch");
    env.hook("PermissionDenied", &payload("PermissionDenied", refused))
        .success();
}

/// A call Claude Code's auto mode refused (PermissionDenied) was recorded as an event of no
/// known kind: the call its PreToolUse recorded stayed open, with no outcome, and a refused
/// call no PreToolUse recorded was no call at all. The refusal closes the call as refused,
/// with the classifier's reason, or records the call closed when none was open.
#[test]
fn a_call_auto_mode_refused_is_closed_as_refused() {
    let env = TestEnv::new();
    force_push_refused_by_auto_mode(&env);
    let unseen = json!({"tool_name": "Bash", "tool_input": {"command": "rm -rf build"},
                        "tool_use_id": "toolu_2", "reason": "Deletes files"});
    env.hook("PermissionDenied", &payload("PermissionDenied", unseen))
        .success();
    assert_eq!(
        pending_calls(&env),
        (vec![], vec![]),
        "no call is left open"
    );
    let events = env.events(SID);
    let of_type =
        |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["event_type"] == kind).collect() };
    let (calls, errors) = (of_type("tool_call"), of_type("error"));
    assert_eq!((calls.len(), errors.len()), (2, 2), "{events:#?}");
    for (call, error) in calls.iter().zip(&errors) {
        assert_eq!(error["parent_id"], call["event_id"]);
        assert_eq!(error["data"]["tool_use_id"], call["data"]["tool_use_id"]);
    }
    assert_eq!(calls[1]["data"]["arguments"]["command"], "rm -rf build");
    let said = errors[0]["data"]["error"].as_str().unwrap();
    assert!(
        said.contains("Force-pushing rewrites the shared branch"),
        "{said}"
    );
    let stats = env.run(&["stats", SID, "--format", "json"]);
    let stats = stats.success().json();
    assert_eq!(
        (&stats["rejections"], &stats["errors"]),
        (&json!(2), &json!(0)),
        "refused, not failed: {stats}"
    );
    let replay = env.run(&["replay", SID, "--color", "never"]);
    assert!(
        replay.success().stdout.matches("rejected Bash").count() == 2,
        "{}",
        replay.stdout
    );
}

/// A turn an API error ended (StopFailure, sent in place of Stop) was recorded as an event of
/// no known kind: replay and explain showed no error, and the turn's calls stayed open. It ends
/// the turn as a Stop does, then records the error.
#[test]
fn a_turn_an_api_error_ended_shows_the_error() {
    let env = TestEnv::new();
    let read = json!({"tool_name": "Read", "tool_input": {"file_path": "/etc/hosts"},
                      "tool_use_id": "toolu_3"});
    env.hook("PreToolUse", &payload("PreToolUse", read))
        .success();
    let failure = json!({"error": "rate_limit", "error_details": "429 Too Many Requests",
                         "last_assistant_message": "API Error: Request rejected (429)"});
    env.hook("StopFailure", &payload("StopFailure", failure))
        .success();
    assert_eq!(
        pending_calls(&env).0,
        Vec::<String>::new(),
        "the turn is over"
    );
    let kinds = kinds(&env, SID);
    assert_eq!(kinds.last().map(String::as_str), Some("error"), "{kinds:?}");
    let explain = env.run(&["explain", SID, "--color", "never"]);
    assert!(
        explain
            .success()
            .stdout
            .contains("API error (rate_limit): 429 Too Many Requests"),
        "{}",
        explain.stdout
    );
}

/// StopFailure's `last_assistant_message` is the error message Claude Code showed, never the
/// model's answer (2.1.112's `cli.js` and 2.1.335's binary fill it from the API error
/// message's own content): it was recorded as the turn's answer, so replay showed the error
/// twice, once as the model's words. It is the error's text: no answer is recorded, and the
/// error says it when the API gave no details.
#[test]
fn an_api_errors_text_is_not_taken_for_the_turns_answer() {
    let env = TestEnv::new();
    env.hook(
        "UserPromptSubmit",
        &payload("UserPromptSubmit", json!({"prompt": "summarise the logs"})),
    )
    .success();
    // Claude Code 2.1.112's own words for these: the content of the error message it shows.
    let too_long = json!({"error": "invalid_request",
                          "error_details": "prompt is too long: 210500 tokens > 200000 maximum",
                          "last_assistant_message": "Prompt is too long"});
    env.hook("StopFailure", &payload("StopFailure", too_long))
        .success();
    let overloaded = json!({"error": "rate_limit", "last_assistant_message":
        "Opus is experiencing high load, please use /model to switch to Sonnet"});
    env.hook("StopFailure", &payload("StopFailure", overloaded))
        .success();
    let kinds = kinds(&env, SID);
    assert!(
        !kinds.iter().any(|k| k == "assistant_response"),
        "no answer: {kinds:?}"
    );
    let events = env.events(SID);
    let errors: Vec<&str> = events
        .iter()
        .filter(|e| e["event_type"] == "error")
        .map(|e| e["data"]["error"].as_str().unwrap())
        .collect();
    assert_eq!(
        errors,
        [
            "API error (invalid_request): prompt is too long: 210500 tokens > 200000 maximum",
            "API error (rate_limit): Opus is experiencing high load, please use /model to switch \
             to Sonnet",
        ]
    );
    let replay = env.run(&["replay", SID, "--color", "never"]);
    let text = &replay.success().stdout;
    assert_eq!(text.matches("experiencing high load").count(), 1, "{text}");
    assert!(!text.contains("\"Prompt is too long\""), "{text}");
    assert!(!text.contains("assistant_response"), "{text}");
}

/// A call Claude Code's auto mode refused was filed by explain under "Rejected by the user",
/// and audit listed it as an ordinary finding: the user was never asked, auto mode's classifier
/// said no. explain, audit and replay say auto mode refused it, with the classifier's reason;
/// a call the user refused is still the user's.
#[test]
fn a_call_auto_mode_refused_is_told_from_one_the_user_refused() {
    let env = TestEnv::new();
    env.hook(
        "UserPromptSubmit",
        &payload("UserPromptSubmit", json!({"prompt": "ship it"})),
    )
    .success();
    force_push_refused_by_auto_mode(&env);
    let rm = json!({"tool_name": "Bash", "tool_input": {"command": "rm -rf build"},
                    "tool_use_id": "toolu_2"});
    env.hook("PreToolUse", &payload("PreToolUse", rm.clone()))
        .success();
    let mut no = rm;
    no["error"] = json!(
        "The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, the new_string was NOT written to the file). STOP what you are doing and wait for the user to tell you how to proceed."
    );
    env.hook("PostToolUseFailure", &payload("PostToolUseFailure", no))
        .success();

    let explain = env.run(&["explain", SID, "--color", "never"]);
    let text = &explain.success().stdout;
    assert!(
        text.contains(
            "Refused by auto mode's classifier (1):\n  #2 0:00 phase 1: Bash git push --force — \
             Force-pushing rewrites the shared branch\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("Rejected by the user (1):\n  #4 0:00 phase 1: Bash rm -rf build\n"),
        "{text}"
    );
    assert!(
        text.contains("Ran: git push --force ⊘ rejected (by auto mode: Force-pushing"),
        "{text}"
    );
    let json = env
        .run(&["explain", SID, "--format", "json"])
        .success()
        .json();
    let by: Vec<&Value> = json["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["by"])
        .collect();
    assert_eq!(by, [&json!("auto_mode"), &json!("user")], "{json}");

    let audit = env.run(&["audit", SID, "--color", "never"]);
    let text = &audit.success().stdout;
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_default()
    };
    assert!(
        line("git push --force").ends_with(
            "(refused by auto mode: Force-pushing rewrites the shared branch; it never ran)"
        ),
        "{text}"
    );
    assert!(
        line("rm -rf build").ends_with("(refused or stopped by the user)"),
        "{text}"
    );
    let json = env
        .run(&["audit", SID, "--format", "json"])
        .success()
        .json();
    assert_eq!(
        json["no_policy"][0]["refused"],
        json!({"by": "auto_mode", "reason": "Force-pushing rewrites the shared branch"}),
        "{json}"
    );

    let replay = env.run(&["replay", SID, "--color", "never"]);
    let text = &replay.success().stdout;
    assert_eq!(
        text.matches("rejected Bash (by auto mode)").count(),
        1,
        "{text}"
    );
    assert_eq!(text.matches("rejected Bash").count(), 2, "{text}");
}

/// explain listed the API error a turn ended on (StopFailure) among the failures of tools, as
/// one of a tool named `unknown`; it belongs to no call, and is shown as the turn's.
#[test]
fn an_api_error_that_ended_the_turn_is_the_turns_not_a_tools() {
    let env = TestEnv::new();
    env.hook(
        "UserPromptSubmit",
        &payload("UserPromptSubmit", json!({"prompt": "read the hosts"})),
    )
    .success();
    let failure = json!({"error": "rate_limit", "error_details": "429 Too Many Requests"});
    env.hook("StopFailure", &payload("StopFailure", failure))
        .success();
    let explain = env.run(&["explain", SID, "--color", "never"]);
    let text = &explain.success().stdout;
    assert!(!text.contains("unknown"), "{text}");
    assert!(!text.contains("Failures"), "{text}");
    assert!(
        text.contains(
            "Errors of the turn, not of a tool (1):\n  #2 0:00 phase 1: API error (rate_limit): \
             429 Too Many Requests\n"
        ),
        "{text}"
    );
    let json = env
        .run(&["explain", SID, "--format", "json"])
        .success()
        .json();
    assert_eq!(json["failures"], json!([]), "{json}");
    assert_eq!(
        json["turn_errors"][0]["message"],
        "API error (rate_limit): 429 Too Many Requests"
    );
}

/// Claude Code 2.1.335's Interrupt (an interrupt ended the turn, in place of Stop) was an event
/// of no known kind: the call the user stopped while it awaited an answer stayed open, to be
/// taken by a later identical call's result. It ends the turn as Stop does, closing the turn's
/// open calls, and is kept whole (`source`, `reason`, `via`) as a `decision`.
#[test]
fn an_interrupt_ends_the_turn_and_is_kept_whole() {
    let env = TestEnv::new();
    let deploy = json!({"tool_name": "Bash", "tool_input": {"command": "make deploy"}});
    env.hook("PreToolUse", &payload("PreToolUse", deploy.clone()))
        .success();
    let interrupt = json!({"source": "user", "reason": "stop", "via": "terminal"});
    let run = env.hook("interrupt", &payload("Interrupt", interrupt));
    assert!(run.success().stdout.is_empty(), "{run:?}");
    assert_eq!(
        pending_calls(&env).0,
        Vec::<String>::new(),
        "the turn is over"
    );
    let events = env.events(SID);
    let decision = events
        .iter()
        .find(|e| e["event_type"] == "decision")
        .expect("recorded");
    assert_eq!(decision["data"]["hook_event_name"], "Interrupt");
    assert_eq!(
        (
            &decision["data"]["source"],
            &decision["data"]["reason"],
            &decision["data"]["via"]
        ),
        (&json!("user"), &json!("stop"), &json!("terminal"))
    );
    // The same call made again in the next turn takes its own result, not the stopped one's.
    env.hook("PreToolUse", &payload("PreToolUse", deploy.clone()))
        .success();
    let mut done = deploy;
    done["tool_response"] = json!({"stdout": "deployed"});
    env.hook("PostToolUse", &payload("PostToolUse", done))
        .success();
    let events = env.events(SID);
    let calls: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "tool_call")
        .collect();
    let result = events
        .iter()
        .find(|e| e["event_type"] == "tool_result")
        .unwrap();
    assert_eq!(result["parent_id"], calls[1]["event_id"], "{events:#?}");
}

/// replay showed Claude Code's Interrupt as an event of no meaning, `◆ decision Interrupt` with
/// `stop` under it, and explain said nothing of the turns an interrupt ended. replay says who
/// interrupted the turn, why and how; explain counts the interrupted turns.
#[test]
fn an_interrupt_is_shown_as_one_and_counted_by_explain() {
    let env = TestEnv::new();
    env.hook(
        "UserPromptSubmit",
        &payload("UserPromptSubmit", json!({"prompt": "deploy"})),
    )
    .success();
    let by_user = json!({"source": "user", "reason": "stop", "via": "terminal"});
    env.hook("interrupt", &payload("Interrupt", by_user))
        .success();
    let by_system = json!({"source": "system", "reason": "permission_denied"});
    env.hook("interrupt", &payload("Interrupt", by_system))
        .success();
    let replay = env.run(&["replay", SID, "--color", "never"]);
    let text = &replay.success().stdout;
    assert!(!text.contains("decision"), "{text}");
    let shown: Vec<String> = text
        .lines()
        .skip_while(|l| !l.contains("interrupted by"))
        .map(|l| l.find('✋').map_or(l.trim(), |at| &l[at..]).to_owned())
        .take(4)
        .collect();
    assert_eq!(
        shown,
        [
            "✋ interrupted by the user",
            "stopped, in the terminal",
            "✋ interrupted by the system",
            "a permission was denied",
        ],
        "{text}"
    );
    let explain = env.run(&["explain", SID, "--color", "never"]);
    let text = &explain.success().stdout;
    assert!(
        text.contains("Rejected: 0   Interrupted turns: 2\n"),
        "{text}"
    );
    let json = env
        .run(&["explain", SID, "--format", "json"])
        .success()
        .json();
    assert_eq!(json["interrupted_turns"], 2, "{json}");
}

/// explain's "Errors: N" counted the API error that ended a turn (StopFailure) with the tools'
/// failed calls, as if one more call had failed. It says how many were the tools' and how many
/// the turn's (`tool_errors` in JSON; `errors` keeps its meaning, the two together).
#[test]
fn explain_tells_the_turns_errors_from_the_tools() {
    let env = TestEnv::new();
    a_failed_call_then_an_api_error(&env);
    let explain = env.run(&["explain", SID, "--color", "never"]);
    let text = &explain.success().stdout;
    assert!(
        text.contains("Errors: 2 (1 of tools, 1 of the turn)   Rejected: 0\n"),
        "{text}"
    );
    let json = env
        .run(&["explain", SID, "--format", "json"])
        .success()
        .json();
    assert_eq!(
        (&json["errors"], &json["tool_errors"]),
        (&json!(2), &json!(1)),
        "{json}"
    );
}

/// A session of one failed call, then an API error that ended the turn (StopFailure).
fn a_failed_call_then_an_api_error(env: &TestEnv) {
    env.hook(
        "UserPromptSubmit",
        &payload("UserPromptSubmit", json!({"prompt": "build it"})),
    )
    .success();
    let make = json!({"tool_name": "Bash", "tool_input": {"command": "make"},
                      "tool_use_id": "toolu_9"});
    env.hook("PreToolUse", &payload("PreToolUse", make.clone()))
        .success();
    let mut failed = make;
    failed["error"] = json!("Exit code 2\nmake: *** [all] Error 1");
    env.hook("PostToolUseFailure", &payload("PostToolUseFailure", failed))
        .success();
    let failure = json!({"error": "overloaded", "error_details": "529 Overloaded",
                         "last_assistant_message": "API Error: 529 Overloaded"});
    env.hook("StopFailure", &payload("StopFailure", failure))
        .success();
}

/// stats's "Errors: N" counted the API error that ended a turn (StopFailure) with the tools'
/// failed calls, as explain did. It says how many were the tools' and how many the turn's, in
/// its own line (`tool_errors` in JSON; `errors` keeps its meaning, the two together).
#[test]
fn stats_tells_the_turns_errors_from_the_tools() {
    let env = TestEnv::new();
    a_failed_call_then_an_api_error(&env);
    let stats = env.run(&["stats", SID, "--color", "never"]);
    let text = &stats.success().stdout;
    assert!(
        text.contains("   Tool calls: 1   Errors: 2 (1 of tools, 1 of the turn)\n"),
        "{text}"
    );
    let json = env
        .run(&["stats", SID, "--format", "json"])
        .success()
        .json();
    assert_eq!(
        (&json["errors"], &json["tool_errors"]),
        (&json!(2), &json!(1)),
        "{json}"
    );
}

/// replay's header, `list --format json`, the MCP server's list of sessions and the `sessions`
/// view of `sql` counted the API error that ended a turn (StopFailure) among the tools' failed
/// calls. replay's header (the HTML replay's too) says how many are whose, as explain and stats
/// do; each JSON keeps `errors` and gives the tools' own as `tool_errors`, the view as a column
/// of that name.
#[test]
fn replay_list_and_sql_tell_the_turns_errors_from_the_tools() {
    let env = TestEnv::new();
    a_failed_call_then_an_api_error(&env);
    let replay = env.run(&["replay", SID, "--color", "never"]);
    let text = &replay.success().stdout;
    assert!(
        text.contains("\nErrors: 2 (1 of tools, 1 of the turn)\n"),
        "{text}"
    );
    let tree = env.run(&["replay", SID, "--tree", "--color", "never"]);
    let tree = &tree.success().stdout;
    assert!(
        tree.contains(", 1 tool call, 2 errors (1 of the turn)"),
        "{tree}"
    );
    // The HTML replay's header is the same data: it shows the two as the terminal does.
    let html = env.run(&["replay", SID, "--format", "html"]);
    let html = &html.success().stdout;
    assert!(html.contains(r#""errors":2,"tool_errors":1,"#), "{html}");
    let list = env.run(&["list", "--format", "json"]).success().json();
    assert_eq!(
        (&list[0]["errors"], &list[0]["tool_errors"]),
        (&json!(2), &json!(1)),
        "{list}"
    );
    let input = concat!(
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\"}}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"list_sessions\"}}\n",
    );
    let mcp = env.run_with_stdin(&["mcp"], input.as_bytes());
    let listed: Value = mcp
        .success()
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["id"] == 2)
        .unwrap_or_default();
    let listed = &listed["result"]["structuredContent"]["sessions"][0];
    assert_eq!(
        (&listed["errors"], &listed["tool_errors"]),
        (&json!(2), &json!(1)),
        "{}",
        mcp.stdout
    );
    let rows = env
        .run(&[
            "sql",
            "--format",
            "json",
            "SELECT errors, tool_errors, rejections FROM sessions",
        ])
        .success()
        .json();
    assert_eq!(
        rows,
        json!([{"errors": 2, "tool_errors": 1, "rejections": 0}])
    );
}

/// `list`'s ERRORS column counted the API error that ended a turn (StopFailure) with the tools'
/// failed calls without a word: a TURN ERRORS column says how many were the turns', when some
/// session has some, from the index or without it.
#[test]
fn list_shows_the_turns_errors_in_a_column_of_their_own() {
    let env = TestEnv::new();
    a_failed_call_then_an_api_error(&env);
    for pass in ["indexed", "scanned"] {
        if pass == "scanned" {
            env.unusable_index();
        }
        let list = env.run(&["list", "--color", "never"]);
        let text = &list.success().stdout;
        let head = text.lines().next().unwrap();
        let row = text.lines().find(|l| l.starts_with(SID)).unwrap();
        assert!(head.contains("  ERRORS  TURN ERRORS  "), "{pass}: {text}");
        // 1 tool call, 2 errors, 1 of them the turn's.
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            cells[4..8],
            ["claude-code", "1", "2", "1"],
            "{pass}: {text}"
        );
    }
}

/// `list`, `dashboard`, `replay` and `stats` coloured ERRORS red when its every error was an API error
/// that ended a turn: the service failed, not the work. Such a count is yellow, as a refused
/// call's; red stays for a failed call.
#[test]
fn only_api_errors_are_not_painted_as_failed_calls() {
    let red = "\x1b[31m";
    let yellow = "\x1b[33m";
    let env = TestEnv::new();
    env.hook(
        "UserPromptSubmit",
        &payload("UserPromptSubmit", json!({"prompt": "build it"})),
    )
    .success();
    let failure = json!({"error": "overloaded", "error_details": "529 Overloaded",
                         "last_assistant_message": "API Error: 529 Overloaded"});
    env.hook("StopFailure", &payload("StopFailure", failure))
        .success();
    let painted = |args: &[&str], line_start: &str| {
        let mut all = vec!["--color", "always"];
        all.extend_from_slice(args);
        let out = env.run(&all).success().stdout.clone();
        out.lines()
            .find(|l| l.contains(line_start))
            .unwrap_or_else(|| panic!("no {line_start:?} line: {out}"))
            .to_owned()
    };
    for (args, line) in [
        (&["list"][..], SID),
        (&["dashboard"][..], "Errors"),
        (&["replay", SID][..], "Errors: "),
        (&["stats", SID][..], "Errors: "),
    ] {
        let line = painted(args, line);
        assert!(line.contains(yellow), "{args:?}: {line:?}");
        assert!(!line.contains(red), "{args:?}: {line:?}");
    }
    // A failed call besides it: red.
    let env = TestEnv::new();
    a_failed_call_then_an_api_error(&env);
    for (args, line_start) in [
        (&["list"][..], SID),
        (&["dashboard"][..], "Errors"),
        (&["replay", SID][..], "Errors: "),
        (&["stats", SID][..], "Errors: "),
    ] {
        let mut all = vec!["--color", "always"];
        all.extend_from_slice(args);
        let out = env.run(&all).success().stdout.clone();
        let line = out.lines().find(|l| l.contains(line_start)).unwrap();
        assert!(line.contains(red), "{args:?}: {line:?}");
    }
}

/// Stop never fires for a turn an API error ended (StopFailure does), so what the model wrote
/// in it before the request that failed was not recorded at all. It is read from the end of
/// the transcript, from the lines written since the turn's prompt, the API error's own message
/// passed over: the previous turn's answer is never taken for it.
#[test]
fn a_turn_an_api_error_ended_keeps_what_the_model_wrote_before() {
    let env = TestEnv::new();
    let transcript = LiveTranscript::new(&env);
    let failure = json!({"error": "overloaded", "error_details": "529 Overloaded",
                         "last_assistant_message": "API Error: 529 Overloaded"});
    transcript.append(&[LiveTranscript::assistant(
        "The earlier turn is done.",
        LiveTranscript::stamp(-60),
    )]);
    env.hook(
        "UserPromptSubmit",
        &transcript.payload("UserPromptSubmit", json!({"prompt": "check the hosts"})),
    )
    .success();
    transcript.append(&[
        json!({"type": "user", "timestamp": LiveTranscript::stamp(0),
               "message": {"role": "user", "content": "check the hosts"}}),
        LiveTranscript::assistant("Reading the hosts file first.", LiveTranscript::stamp(0)),
        json!({"type": "assistant", "timestamp": LiveTranscript::stamp(0), "message": {"model": "claude-sonnet-4-5",
               "role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1",
               "name": "Read", "input": {"file_path": "/etc/hosts"}}]}}),
        LiveTranscript::api_error(LiveTranscript::stamp(0)),
    ]);
    env.hook(
        "StopFailure",
        &transcript.payload("StopFailure", failure.clone()),
    )
    .success();
    // A turn that failed before the model wrote a word: nothing is its answer.
    env.hook(
        "UserPromptSubmit",
        &transcript.payload("UserPromptSubmit", json!({"prompt": "again"})),
    )
    .success();
    transcript.append(&[LiveTranscript::api_error(LiveTranscript::stamp(0))]);
    env.hook("StopFailure", &transcript.payload("StopFailure", failure))
        .success();
    let events = env.events(SID);
    let shown = answers_and_errors(&events);
    assert_eq!(
        shown,
        [
            ("assistant_response", "Reading the hosts file first."),
            ("error", "API error (overloaded): 529 Overloaded"),
            ("error", "API error (overloaded): 529 Overloaded"),
        ],
        "{events:#?}"
    );
}

/// A Claude Code transcript written as a session goes on, for hooks that read its end.
struct LiveTranscript {
    path: std::path::PathBuf,
}

impl LiveTranscript {
    fn new(env: &TestEnv) -> LiveTranscript {
        LiveTranscript {
            path: env.path().join("transcript.jsonl"),
        }
    }

    /// A line's time, stamped when it is written (`offset_s` from now), as Claude Code stamps
    /// it, after the prompt the hook recorded before it.
    fn stamp(offset_s: i64) -> String {
        (chrono::Utc::now() + chrono::Duration::seconds(offset_s))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    fn append(&self, lines: &[Value]) {
        use std::io::Write as _;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .unwrap();
        for line in lines {
            writeln!(file, "{line}").unwrap();
        }
    }

    /// The hook payload of `event` naming this transcript.
    fn payload(&self, event: &str, extra: Value) -> Value {
        let mut p = payload(event, extra);
        p["transcript_path"] = json!(self.path.to_str().unwrap());
        p
    }

    fn assistant(text: &str, at: String) -> Value {
        json!({"type": "assistant", "timestamp": at, "message": {"model": "claude-sonnet-4-5",
               "role": "assistant", "content": [{"type": "text", "text": text}]}})
    }

    /// The line Claude Code writes for an API error that ended the turn.
    fn api_error(at: String) -> Value {
        json!({"type": "assistant", "timestamp": at, "isApiErrorMessage": true,
               "error": "overloaded",
               "message": {"model": "<synthetic>", "role": "assistant",
                           "content": [{"type": "text", "text": "API Error: 529 Overloaded"}]}})
    }
}

/// A Stop that carries no `last_assistant_message` took an API error's line at the end of the
/// transcript for its turn's even when nothing told it was this turn's: no prompt recorded
/// (hooks set up mid-session) or a line with no time. Only a line known to be written in the
/// turn ends it in an error.
#[test]
fn a_stop_takes_no_api_error_it_cannot_place_in_its_turn() {
    let env = TestEnv::new();
    let transcript = LiveTranscript::new(&env);
    // No prompt recorded: the error line may be any turn's.
    transcript.append(&[LiveTranscript::api_error(LiveTranscript::stamp(0))]);
    env.hook("Stop", &transcript.payload("Stop", json!({})))
        .success();
    // A prompt recorded, and an error line with no time.
    env.hook(
        "UserPromptSubmit",
        &transcript.payload("UserPromptSubmit", json!({"prompt": "again"})),
    )
    .success();
    let mut untimed = LiveTranscript::api_error(LiveTranscript::stamp(0));
    untimed.as_object_mut().unwrap().remove("timestamp");
    transcript.append(&[untimed]);
    env.hook("Stop", &transcript.payload("Stop", json!({})))
        .success();
    let events = env.events(SID);
    assert_eq!(
        answers_and_errors(&events),
        [("assistant_response", ""), ("assistant_response", "")],
        "{events:#?}"
    );
}

/// Each answer's text and each error's, in order, prompts left out.
fn answers_and_errors(events: &[Value]) -> Vec<(&str, &str)> {
    events
        .iter()
        .map(|e| {
            let text = e["data"]["text"].as_str().or(e["data"]["error"].as_str());
            (e["event_type"].as_str().unwrap(), text.unwrap_or(""))
        })
        .filter(|(kind, _)| *kind != "user_prompt")
        .collect()
}

/// Claude Code before StopFailure (2.1.78) sent Stop after an API error ended a turn: the hook
/// took the line Claude Code wrote for the error (`API Error: 529 Overloaded`) for the model's
/// answer and counted no error. Such a Stop is the turn's error, as StopFailure's, after what
/// the model wrote in the turn; a Stop whose answer is the model's stays an answer, also when
/// an earlier turn ended in an API error.
#[test]
fn a_stop_after_an_api_error_is_the_turns_error_not_its_answer() {
    let env = TestEnv::new();
    let transcript = LiveTranscript::new(&env);
    let prompt = |text: &str| {
        env.hook(
            "UserPromptSubmit",
            &transcript.payload("UserPromptSubmit", json!({"prompt": text})),
        )
        .success();
        // The lines of the turn are stamped later than its prompt, as the API takes time.
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let stop = |extra: Value| {
        env.hook("Stop", &transcript.payload("Stop", extra))
            .success();
    };
    // 2.1.3x: no last_assistant_message, the answer read from the transcript.
    prompt("check the hosts");
    transcript.append(&[
        LiveTranscript::assistant("Reading the hosts file first.", LiveTranscript::stamp(0)),
        LiveTranscript::api_error(LiveTranscript::stamp(0)),
    ]);
    stop(json!({"stop_hook_active": false}));
    // 2.1.4x-2.1.77: last_assistant_message holds the error's text.
    prompt("again");
    transcript.append(&[LiveTranscript::api_error(LiveTranscript::stamp(0))]);
    stop(json!({"last_assistant_message": "API Error: 529 Overloaded"}));
    // A turn the model answered, whose line is not written yet when Stop comes: no error of
    // the turn before is taken for this one's.
    prompt("once more");
    stop(json!({"stop_hook_active": false}));
    // The model's own words that read like an error stay its answer.
    prompt("what did it say?");
    transcript.append(&[LiveTranscript::assistant(
        "API Error: 529 Overloaded",
        LiveTranscript::stamp(0),
    )]);
    stop(json!({"last_assistant_message": "API Error: 529 Overloaded"}));
    let events = env.events(SID);
    let shown = answers_and_errors(&events);
    assert_eq!(
        shown,
        [
            ("assistant_response", "Reading the hosts file first."),
            ("error", "API error (overloaded): API Error: 529 Overloaded"),
            ("error", "API error (overloaded): API Error: 529 Overloaded"),
            ("assistant_response", ""),
            ("assistant_response", "API Error: 529 Overloaded"),
        ],
        "{events:#?}"
    );
    let stats = env
        .run(&["stats", SID, "--format", "json"])
        .success()
        .json();
    assert_eq!(
        (&stats["errors"], &stats["tool_errors"]),
        (&json!(2), &json!(0)),
        "{stats}"
    );
}

/// A payload nested 125 levels deep was accepted and written as it came; the line it made
/// nested deeper than readers with serde_json's default limit read (128 levels), so every
/// command skipped it as malformed and the call was lost. What nests too deep is kept as its JSON text.
#[test]
fn a_call_whose_arguments_nest_too_deep_is_kept_readable() {
    let env = TestEnv::new();
    let deep = format!("{}{}", "[".repeat(125), "]".repeat(125));
    let input: Value = serde_json::from_str(&format!("{{\"deep\": {deep}}}")).unwrap();
    let p = payload(
        "PreToolUse",
        json!({"tool_name": "Probe", "tool_use_id": "toolu_deep", "tool_input": input}),
    );
    env.hook("pre-tool", &p).success();
    let run = env.run(&["inspect", SID]);
    run.success();
    assert_eq!(run.stderr, "", "no line skipped");
    let events = whole_events(&env, SID);
    let call = events
        .iter()
        .find(|e| e["event_type"] == "tool_call")
        .expect("the call was recorded and reads back");
    // Followed down to the level kept as text, the text is the rest of the arguments.
    let mut at = &call["data"]["arguments"]["deep"];
    let mut levels = 0;
    while let Some(inner) = at.get(0) {
        at = inner;
        levels += 1;
    }
    let text = at.as_str().expect("the deepest level kept is text");
    let rest = 125 - levels;
    assert_eq!(text, format!("{}{}", "[".repeat(rest), "]".repeat(rest)));
}

/// A payload whose `tool_input` nested past serde_json's 128 levels (126 in its arguments,
/// valid JSON that Python and Node read) was "not JSON" to the hook: a call the policy denies
/// ran, unjudged and unrecorded. It is judged and recorded at any depth a writer makes.
#[test]
fn a_call_whose_arguments_nest_past_128_levels_is_judged_and_recorded() {
    let env = TestEnv::new();
    std::fs::write(
        env.path().join(".agent-scope.json"),
        json!({"tools": {"deny": ["mcp__github__delete_*"]}}).to_string(),
    )
    .unwrap();
    for levels in [126, 1_000] {
        let id = format!("toolu_deep{levels}");
        let text = format!(
            r#"{{"session_id":"{SID}","cwd":{cwd},"hook_event_name":"PreToolUse","tool_name":"mcp__github__delete_repo","tool_use_id":"{id}","tool_input":{{"repo":"prod","x":{open}{close}}}}}"#,
            cwd = json!(env.path()),
            open = "[".repeat(levels),
            close = "]".repeat(levels),
        );
        let run = env.run_with_stdin(&["hook", "pre-tool"], text.as_bytes());
        run.success();
        let answer: Value = serde_json::from_str(&run.stdout).expect("an answer");
        assert_eq!(
            answer["hookSpecificOutput"]["permissionDecision"], "deny",
            "{levels}: {}",
            run.stdout
        );
        let events = whole_events(&env, SID);
        let call = events
            .iter()
            .find(|e| e["event_type"] == "tool_call" && e["data"]["tool_use_id"] == id.as_str())
            .unwrap_or_else(|| panic!("the {levels}-deep call was recorded: {events:?}"));
        assert_eq!(call["data"]["arguments"]["repo"], "prod");
        assert_eq!(call["data"]["policy_denied"]["rule"], "tools.deny");
    }
    assert!(!env.store().join("hook-errors.log").exists());
}

/// A payload nested a million levels deep is refused before it is parsed, quickly and without
/// a crash, and the hook says why in its log, as for any payload it cannot read.
#[test]
fn a_payload_nested_a_million_levels_is_refused_quickly() {
    let env = TestEnv::new();
    let levels = 1_000_000;
    let text = format!(
        r#"{{"session_id":"{SID}","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{{"command":"ls","x":{}{}}}}}"#,
        "[".repeat(levels),
        "]".repeat(levels)
    );
    let started = std::time::Instant::now();
    let run = env.run_with_stdin(&["hook", "pre-tool"], text.as_bytes());
    let took = started.elapsed();
    run.success();
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
    assert!(log.contains("nested deeper than 2000 levels"), "{log}");
    assert!(env.sessions().is_empty(), "{:?}", env.sessions());
}

/// Where its log cannot be written, a hook says its trouble on stderr; the line quotes the
/// command line (and may quote the payload), and a terminal escape there reached the terminal.
#[test]
fn a_hook_line_on_stderr_shows_escapes_from_its_command_line_escaped() {
    let env = TestEnv::new();
    let out = env
        .command(&["hook", "--bogus\u{1b}]0;pwn\u{7}", "pre-tool"])
        .env("AGENT_TRACE_DIR", "/dev/null/store")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(b"{}")?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("--bogus\\u001b]0;pwn\\u0007"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "{stderr:?}"
    );
}

/// A call a hook could not record, with no log to take it, went to stderr whole: a tool's 5 MB
/// output was 5 MB on the agent's terminal, and a hook whose stderr the agent reads only once
/// it ends waited on the full pipe. The line is cut to 16 KiB and says how much was left out.
#[test]
fn a_call_said_on_stderr_is_cut_to_a_readable_size() {
    let env = TestEnv::new();
    let output = "A".repeat(5_000_000);
    let payload = json!({
        "session_id": "big-stderr",
        "hook_event_name": "PostToolUse",
        "cwd": env.path(),
        "tool_name": "Bash",
        "tool_input": {"command": "cat big"},
        "tool_response": output,
    });
    let mut cmd = env.command(&["hook", "--agent", "codex", "post-tool"]);
    cmd.env("AGENT_TRACE_DIR", "/dev/null/store");
    let run = run_with_stdin(cmd, payload.to_string().as_bytes());
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    assert!(run.stderr.len() < 20 * 1024, "{} bytes", run.stderr.len());
    assert!(
        run.stderr.contains("the call is not recorded"),
        "{}",
        &run.stderr[..500]
    );
    assert!(
        run.stderr.trim_end().ends_with("more bytes not shown]"),
        "{}",
        &run.stderr[run.stderr.len() - 200..]
    );
}

/// A payload past the 64 MiB the hook reads was cut there and logged as "stdin is not JSON:
/// EOF while parsing a string at line 1 column 67108864", which sends whoever reads the log
/// looking for a broken agent; the log says what happened. The agent goes on either way.
#[test]
fn a_payload_past_what_the_hook_reads_is_logged_as_too_big() {
    let env = TestEnv::new();
    let big = "A".repeat(65 * 1024 * 1024);
    let p = payload(
        "PostToolUse",
        json!({"tool_name": "Bash", "tool_use_id": "t", "tool_input": {"command": "x"},
               "tool_response": {"stdout": big}}),
    );
    let run = env.run_with_stdin(
        &[
            "--trace-dir",
            env.store().to_str().unwrap(),
            "hook",
            "post-tool",
        ],
        p.to_string().as_bytes(),
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.is_empty() && run.stderr.is_empty(), "{run:?}");
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
    assert!(
        log.contains("stdin holds more than 64 MiB, more than any hook payload: nothing recorded"),
        "{log}"
    );
    assert!(!log.contains("not JSON"), "{log}");
    // No policy is found for the project: nothing is said of one.
    assert!(!log.contains("POLICY NOT ENFORCED"), "{log}");
}

/// A call past the 64 MiB the hook reads cannot be judged (its input is in the part not read):
/// it runs, and the log said only that nothing was recorded, as if no policy were in force. The
/// log line says the policy was not enforced, as for every other call a policy could not
/// judge; a post-tool payload as big asks about no call, and says nothing of it.
#[test]
fn a_call_past_what_the_hook_reads_is_logged_as_unjudged_by_the_policy() {
    let env = TestEnv::new();
    std::fs::write(
        env.path().join(".agent-scope.json"),
        r#"{"files":{"read":{"deny":[".env"]}}}"#,
    )
    .unwrap();
    let big = "A".repeat(65 * 1024 * 1024);
    let cwd = env.path().to_str().unwrap();
    let call = json!({"tool_name": "Bash", "tool_input": {"command": format!("cat .env # {big}")},
        "cwd": cwd});
    let result = json!({"tool_name": "Bash", "tool_use_id": "t", "tool_input": {"command": "x"},
        "tool_response": {"stdout": big}, "cwd": cwd});
    for (event, arg, unjudged) in [
        ("PreToolUse", "pre-tool", true),
        ("PostToolUse", "post-tool", false),
    ] {
        let p = payload(
            event,
            if unjudged {
                call.clone()
            } else {
                result.clone()
            },
        );
        let run = env.run_with_stdin(&["hook", arg], p.to_string().as_bytes());
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.is_empty() && run.stderr.is_empty(), "{run:?}");
        let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
        let last = log.lines().last().unwrap();
        assert!(last.contains("more than any hook payload"), "{log}");
        assert_eq!(
            last.contains("POLICY NOT ENFORCED"),
            unjudged,
            "{arg}: {last}"
        );
    }
}

/// A payload whose call cannot be read (not JSON, no tool name) is allowed, as it must be, but
/// its log line did not say that the policy in force judged nothing, as the other lines of a
/// call run unjudged do.
#[test]
fn a_call_that_cannot_be_read_is_logged_as_unjudged_by_the_policy() {
    let env = TestEnv::new();
    let cwd = env.path().to_str().unwrap();
    let no_tool = payload("PreToolUse", json!({"cwd": cwd})).to_string();
    for policy in [false, true] {
        if policy {
            std::fs::write(
                env.path().join(".agent-scope.json"),
                r#"{"files":{"read":{"deny":[".env"]}}}"#,
            )
            .unwrap();
        }
        for (stdin, arg, unjudged) in [
            ("not json at all", "pre-tool", policy),
            (no_tool.as_str(), "pre-tool", policy),
            ("not json at all", "user-prompt", false),
        ] {
            let run = env.run_with_stdin(&["hook", arg], stdin.as_bytes());
            assert_eq!(run.code, 0, "{run:?}");
            assert!(run.stdout.is_empty() && run.stderr.is_empty(), "{run:?}");
            let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
            let last = log.lines().last().unwrap();
            assert_eq!(
                last.contains("POLICY NOT ENFORCED"),
                unjudged,
                "{arg}, policy {policy}: {last}"
            );
        }
    }
}

/// The policy of a payload whose call cannot be read was looked for from the hook's own folder,
/// not the payload's, so a project's policy went unsaid when the agent ran the hook elsewhere.
#[test]
fn a_call_that_cannot_be_read_is_logged_as_unjudged_by_its_folders_policy() {
    let env = TestEnv::new();
    let project = env.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join(".agent-scope.json"),
        r#"{"files":{"read":{"deny":[".env"]}}}"#,
    )
    .unwrap();
    let no_tool = payload("PreToolUse", json!({"cwd": project.to_str().unwrap()}));
    let run = env.run_with_stdin(&["hook", "pre-tool"], no_tool.to_string().as_bytes());
    assert_eq!(run.code, 0, "{run:?}");
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
    let last = log.lines().last().unwrap();
    assert!(last.contains("POLICY NOT ENFORCED"), "{last}");
}

/// Every byte under `dir`, the files of its folders included.
fn all_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all.extend(all_bytes(&path));
        } else {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    all
}

/// A secret as a session id (a GitHub token) named the session's folder and reached its
/// meta.json and events, and one as a subagent's `agent_id` named the subagent's folder
/// (`agent-ghp_…-<parent>`), with redaction on. Each is stored under an id made from it, the
/// same for every hook of the session or subagent; `--no-redact` keeps them as sent.
#[test]
fn a_session_or_subagent_id_that_is_a_secret_never_names_a_folder() {
    let token = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
    let play = |env: &TestEnv, flags: &[&str]| {
        let hook = |event: &str, payload: Value| {
            let mut args = vec!["hook"];
            args.extend_from_slice(flags);
            args.push(event);
            env.run_with_stdin(&args, payload.to_string().as_bytes())
                .success();
        };
        for prompt in ["one", "two"] {
            hook(
                "user-prompt",
                json!({"session_id": token, "hook_event_name": "UserPromptSubmit",
                       "prompt": prompt}),
            );
        }
        hook(
            "subagent-start",
            payload(
                "SubagentStart",
                json!({"agent_id": token, "agent_type": "general-purpose"}),
            ),
        );
        hook(
            "pre-tool",
            payload(
                "PreToolUse",
                json!({"agent_id": token, "tool_name": "Read",
                       "tool_input": {"file_path": "/p/a.py"}}),
            ),
        );
    };

    let env = TestEnv::new();
    play(&env, &[]);
    let store = all_bytes(&env.store());
    assert!(
        !store.windows(token.len()).any(|w| w == token.as_bytes()),
        "the token is in the store: {:?}",
        env.sessions()
    );
    let sessions = env.sessions();
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    assert!(sessions.contains(&SID.to_owned()), "{sessions:?}");
    let child = sessions
        .iter()
        .find(|s| s.starts_with("agent-") && s.ends_with(SID))
        .expect("the subagent's session");
    assert_eq!(env.meta(child)["parent_session_id"], SID);
    let child_kinds: Vec<Value> = env
        .events(child)
        .iter()
        .map(|e| e["event_type"].clone())
        .collect();
    assert_eq!(child_kinds, ["session_start", "tool_call"], "one folder");
    let own = sessions.iter().find(|s| **s != SID && *s != child).unwrap();
    let events = env.events(own);
    assert_eq!(events.len(), 2, "both prompts in one folder");
    assert!(events.iter().all(|e| e["session_id"] == own.as_str()));
    assert_eq!(env.meta(own)["session_id"], own.as_str());

    let env = TestEnv::new();
    play(&env, &["--no-redact"]);
    let mut sessions = env.sessions();
    sessions.sort();
    let mut expected = vec![
        format!("agent-{token}-{SID}"),
        SID.to_owned(),
        token.to_owned(),
    ];
    expected.sort();
    assert_eq!(sessions, expected);
}
