//! Codex CLI captured natively through `agent-strace hook`: its recorded payloads played through
//! the binary, malformed ones, a policy's denial in the exact shape Codex's closed output
//! schemas allow, and the real Codex CLI 0.171.0 driven against a local fake model.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::common::{Run, TestEnv, run_with_stdin};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The payloads Codex CLI 0.171.0 sent its hooks (docs/agents/recorded/README.md): a Bash run
/// (SessionStart … SessionEnd) and an apply_patch run.
fn recorded() -> Vec<Value> {
    let text =
        std::fs::read_to_string(repo().join("docs/agents/recorded/codex-0.171.0-hooks.jsonl"))
            .unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Our `hook <event>` argument for a Codex event name.
fn arg_of(event: &str) -> &'static str {
    match event {
        "SessionStart" => "session-start",
        "SessionEnd" => "session-end",
        "UserPromptSubmit" => "user-prompt",
        "PreToolUse" => "pre-tool",
        "PostToolUse" => "post-tool",
        "PermissionRequest" => "permission-request",
        "Stop" => "stop",
        _ => "other",
    }
}

/// Plays one payload through `hook [--agent codex] <event>`, with its `cwd` moved into `env`.
fn play(env: &TestEnv, payload: &Value, declared: bool) -> Run {
    let mut payload = payload.clone();
    payload["cwd"] = env.path().to_string_lossy().into_owned().into();
    let arg = arg_of(payload["hook_event_name"].as_str().unwrap_or(""));
    let args: &[&str] = if declared {
        &["hook", "--agent", "codex", arg]
    } else {
        &["hook", arg]
    };
    run_with_stdin(env.command(args), payload.to_string().as_bytes())
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect()
}

fn no_hook_errors(env: &TestEnv) {
    let log = env.store().join("hook-errors.log");
    assert!(
        !log.exists(),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}

/// Where the recorded payloads of session `first` say Codex wrote its rollout, under `env`'s
/// folder, the folders made.
fn rollout_of(env: &TestEnv, first: &str) -> PathBuf {
    let rollout = env.path().join(format!(
        "sessions/2026/11/30/rollout-2026-11-30T05-39-48-{first}.jsonl"
    ));
    std::fs::create_dir_all(rollout.parent().unwrap()).unwrap();
    rollout
}

/// Codex's recorded payloads become two Codex sessions: prompt, the Bash call and its linked
/// result and the file its `cat` read, the answer from Stop, the end; the apply_patch call's
/// file as a file write. The
/// first session is told by its payloads alone, the second by `--agent codex`.
#[test]
fn recorded_codex_payloads_become_codex_sessions() {
    let env = TestEnv::new();
    let payloads = recorded();
    let first = payloads[0]["session_id"].as_str().unwrap().to_owned();
    // The rollout Codex wrote for the first session, where its payloads say it is.
    let rollout = rollout_of(&env, &first);
    std::fs::copy(
        repo().join("docs/agents/recorded/codex-0.171.0-rollout-shell.jsonl"),
        &rollout,
    )
    .unwrap();
    for p in &payloads {
        let declared = p["session_id"] != first.as_str();
        let mut p = p.clone();
        if !declared {
            p["transcript_path"] = rollout.to_string_lossy().into_owned().into();
        }
        let run = play(&env, &p, declared);
        run.success();
        assert!(run.stdout.is_empty() && run.stderr.is_empty(), "{run:?}");
    }
    no_hook_errors(&env);
    let second = payloads.last().unwrap()["session_id"].as_str().unwrap();
    let mut expected = vec![first.clone(), second.to_owned()];
    expected.sort();
    assert_eq!(env.sessions(), expected);

    let meta = env.meta(&first);
    assert_eq!(meta["agent_name"], "codex");
    assert_eq!(meta["command"], "codex (startup)");
    let events = env.events(&first);
    assert_eq!(
        kinds(&events),
        [
            "session_start",
            "user_prompt",
            "tool_call",
            "tool_result",
            "file_read",
            "assistant_response",
            "session_end"
        ]
    );
    let turn = "01a22af7-6e17-70f1-b9d7-e2e0df1cc907";
    assert_eq!(events[0]["data"]["model"], "gpt-5.1-codex");
    assert_eq!(events[0]["data"]["permission_mode"], "bypassPermissions");
    assert_eq!(events[1]["data"]["prompt"], "read .env");
    assert_eq!(events[1]["data"]["turn_id"], turn);
    assert_eq!(events[1]["data"]["model"], "gpt-5.1-codex");
    let call = &events[2];
    assert_eq!(call["data"]["tool_name"], "Bash");
    assert_eq!(call["data"]["arguments"], json!({"command": "cat .env"}));
    assert_eq!(call["data"]["tool_use_id"], "call_1");
    assert_eq!(call["data"]["turn_id"], turn);
    let result = &events[3];
    assert_eq!(result["parent_id"], call["event_id"]);
    assert_eq!(result["data"]["tool_use_id"], "call_1");
    assert!(
        result["data"]["result"]
            .as_str()
            .unwrap()
            .starts_with("SECRET="),
        "{result}"
    );
    // `cat .env` read it, from the folder Codex ran it in.
    let read = env.path().join(".env").to_string_lossy().into_owned();
    assert_eq!(events[4]["data"]["path"], read.as_str());
    assert_eq!(events[4]["parent_id"], call["event_id"]);
    assert_eq!(events[5]["data"]["text"], "done");
    assert_eq!(events[5]["data"]["turn_id"], turn);
    assert_eq!(events[6]["data"]["reason"], "other");

    let events = env.events(second);
    assert_eq!(env.meta(second)["agent_name"], "codex");
    assert_eq!(
        kinds(&events),
        // The apply_patch run was recorded from its prompt on (no SessionStart line).
        ["user_prompt", "tool_call", "tool_result", "file_write"]
    );
    assert_eq!(events[1]["data"]["tool_name"], "apply_patch");
    assert_eq!(events[2]["parent_id"], events[1]["event_id"]);
    // Named from the folder Codex applied it in, as the file a shell's line names.
    let written = env.path().join("hello.txt").to_string_lossy().into_owned();
    assert_eq!(events[3]["data"]["path"], written.as_str());
    assert_eq!(events[3]["parent_id"], events[1]["event_id"]);

    analyses_work(&env, &first);
    // The hooks carry no tokens; cost takes them from the rollout the session names: its two
    // responses (108 and 109 input tokens, 40 of each cached, 7 output each), exactly.
    let cost = env
        .run(&["cost", &first, "--format", "json"])
        .success()
        .json();
    assert_eq!(cost["estimated"], false, "{cost}");
    assert_eq!(
        cost["tokens"],
        json!({"input": 137, "output": 14, "cache_creation": 0, "cache_read": 80, "reasoning": 6})
    );
    assert_eq!(cost["models"][0]["model"], "gpt-5.1-codex");
}

/// A rollout whose response holds a count no response can have (forged to the largest JSON
/// carries): `stats` of the hooks' session panicked adding its tokens, and `cost` priced it at
/// $184 trillion. That response's usage is unknown now, left out as a transcript's is; the
/// other response is priced as before.
#[test]
fn a_forged_count_in_the_rollout_a_hook_session_names_is_left_out() {
    let env = TestEnv::new();
    let payloads = recorded();
    let first = payloads[0]["session_id"].as_str().unwrap().to_owned();
    let rollout = rollout_of(&env, &first);
    let text = std::fs::read_to_string(
        repo().join("docs/agents/recorded/codex-0.171.0-rollout-shell.jsonl"),
    )
    .unwrap();
    let mut records = 0;
    let forged: Vec<String> = text
        .lines()
        .map(|line| {
            let mut v: Value = serde_json::from_str(line).unwrap();
            if v["type"] == "token_usage_record" {
                records += 1;
                if records == 2 {
                    v["payload"]["usage"]["output_tokens"] = json!(u64::MAX);
                }
            }
            v.to_string()
        })
        .collect();
    assert_eq!(records, 2);
    std::fs::write(&rollout, forged.join("\n")).unwrap();
    for p in payloads
        .iter()
        .filter(|p| p["session_id"] == first.as_str())
    {
        let mut p = p.clone();
        p["transcript_path"] = rollout.to_string_lossy().into_owned().into();
        play(&env, &p, false).success();
    }
    no_hook_errors(&env);
    let stats = env.run(&["stats", &first]).success().stdout.clone();
    assert!(
        stats.contains(
            "holds 1 LLM response and 115 tokens, which `cost` prices; 1 LLM response of \
             unknown usage (a token count that is negative, fractional or not a number, or counts \
             that add up to over ten billion) is left out."
        ),
        "{stats}"
    );
    let cost = env
        .run(&["cost", &first, "--format", "json"])
        .success()
        .json();
    assert_eq!(cost["estimated"], false, "{cost}");
    assert_eq!(cost["unbelieved_usage"], 1, "{cost}");
    assert_eq!(
        cost["tokens"],
        json!({"input": 68, "output": 7, "cache_creation": 0, "cache_read": 40, "reasoning": 3})
    );

    // Every response forged: the log is said still, with none to price, and `cost` says so
    // rather than a bare $0.
    let all_forged: Vec<String> = forged
        .iter()
        .map(|line| {
            let mut v: Value = serde_json::from_str(line).unwrap();
            if v["type"] == "token_usage_record" {
                v["payload"]["usage"]["output_tokens"] = json!(u64::MAX);
            }
            v.to_string()
        })
        .collect();
    std::fs::write(&rollout, all_forged.join("\n")).unwrap();
    let stats = env.run(&["stats", &first]).success().stdout.clone();
    assert!(
        stats.contains(
            "holds no LLM response whose usage can be believed; 2 LLM responses of unknown \
             usage (a token count that is negative, fractional or not a number, or counts that add \
             up to over ten billion) are left out."
        ),
        "{stats}"
    );
    let cost = env.run(&["cost", &first]).success().stdout.clone();
    assert!(
        cost.contains("2 LLM responses recorded usage no response can have"),
        "{cost}"
    );
}

/// Replay, stats, explain, cost and audit on a Codex session, through the binary.
fn analyses_work(env: &TestEnv, session: &str) {
    let listed = env.run(&["list", "--format", "json"]).success().json();
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == session)
        .unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(row["agent_name"], "codex", "{row}");

    let replay = env.run(&["replay", session]);
    replay.success();
    for needle in ["read .env", "cat .env", "done"] {
        assert!(
            replay.stdout.contains(needle),
            "replay lacks {needle}:\n{}",
            replay.stdout
        );
    }
    let stats = env
        .run(&["stats", session, "--format", "json"])
        .success()
        .json();
    assert_eq!(stats["tool_calls"], 1, "{stats}");
    let explain = env
        .run(&["explain", session, "--format", "json"])
        .success()
        .json();
    let text = explain.to_string();
    assert!(text.contains("cat .env"), "{explain}");
    env.run(&["cost", session, "--format", "json"])
        .success()
        .json();
    // Reading `.env` is a sensitive file read, which audit reports with no policy at all.
    let audit = env.run(&["audit", session, "--format", "json"]);
    assert!(audit.code == 0 || audit.code == 1, "{audit:?}");
    assert!(audit.json()["violations"].is_array(), "{}", audit.stdout);
}

// ---- Codex's output schemas -------------------------------------------------------------

fn fixture_schema(name: &str) -> Value {
    let path = repo().join("tests/fixtures/codex").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Validates `value` against the part of draft-07 Codex's hook schemas use. A keyword it does
/// not know fails the check, so a schema that grows one cannot pass unchecked.
fn validate(root: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let rules = schema
        .as_object()
        .ok_or_else(|| format!("{at}: schema is not an object"))?;
    for (key, rule) in rules {
        match key.as_str() {
            "$schema" | "title" | "default" | "description" | "definitions" => {}
            "$ref" => {
                let name = rule
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/definitions/"))
                    .ok_or_else(|| format!("{at}: unsupported $ref {rule}"))?;
                let target = root["definitions"]
                    .get(name)
                    .ok_or_else(|| format!("{at}: no definition {name}"))?;
                validate(root, target, value, at)?;
            }
            "allOf" => {
                for part in rule.as_array().unwrap() {
                    validate(root, part, value, at)?;
                }
            }
            "type" => {
                let types: Vec<&str> = match rule {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => return Err(format!("{at}: bad type {rule}")),
                };
                let ok = types.iter().any(|t| match *t {
                    "string" => value.is_string(),
                    "boolean" => value.is_boolean(),
                    "object" => value.is_object(),
                    "array" => value.is_array(),
                    "null" => value.is_null(),
                    "number" => value.is_number(),
                    "integer" => value.is_i64() || value.is_u64(),
                    _ => false,
                });
                if !ok {
                    return Err(format!("{at}: {value} is not of type {rule}"));
                }
            }
            "const" => {
                if value != rule {
                    return Err(format!("{at}: {value} is not {rule}"));
                }
            }
            "enum" => {
                if !rule.as_array().unwrap().contains(value) {
                    return Err(format!("{at}: {value} is not one of {rule}"));
                }
            }
            "required" => {
                if let Some(object) = value.as_object() {
                    for name in rule.as_array().unwrap() {
                        if !object.contains_key(name.as_str().unwrap()) {
                            return Err(format!("{at}: {name} is missing"));
                        }
                    }
                }
            }
            "properties" => {
                if let Some(object) = value.as_object() {
                    for (name, field) in object {
                        if let Some(field_schema) = rule.get(name) {
                            validate(root, field_schema, field, &format!("{at}/{name}"))?;
                        }
                    }
                }
            }
            "additionalProperties" => {
                if rule != &Value::Bool(false) {
                    return Err(format!("{at}: unsupported additionalProperties {rule}"));
                }
                if let Some(object) = value.as_object() {
                    let allowed = rules.get("properties").and_then(Value::as_object);
                    for name in object.keys() {
                        if !allowed.is_some_and(|a| a.contains_key(name)) {
                            return Err(format!("{at}: field {name} is not allowed"));
                        }
                    }
                }
            }
            other => return Err(format!("{at}: unsupported keyword {other}")),
        }
    }
    Ok(())
}

fn conforms(schema: &Value, value: &Value) -> Result<(), String> {
    validate(schema, schema, value, "")
}

#[test]
fn the_schema_check_rejects_what_codex_rejects() {
    let schema = fixture_schema("pre-tool-use.command.output.schema.json");
    let deny = json!({"hookSpecificOutput": {"hookEventName": "PreToolUse",
        "permissionDecision": "deny", "permissionDecisionReason": "no"}});
    conforms(&schema, &deny).unwrap();
    let mut extra = deny.clone();
    extra["hookSpecificOutput"]["reason"] = "x".into();
    assert!(conforms(&schema, &extra).is_err());
    let mut top = deny.clone();
    top["agent"] = "x".into();
    assert!(conforms(&schema, &top).is_err());
    let mut wrong = deny;
    wrong["hookSpecificOutput"]["permissionDecision"] = "refuse".into();
    assert!(conforms(&schema, &wrong).is_err());
    let permission = fixture_schema("permission-request.command.output.schema.json");
    let mut event = json!({"hookSpecificOutput": {"hookEventName": "PreToolUse"}});
    assert!(conforms(&permission, &event).is_err());
    event["hookSpecificOutput"]["hookEventName"] = "PermissionRequest".into();
    conforms(&permission, &event).unwrap();
}

fn write_policy(dir: &Path) {
    std::fs::write(
        dir.join(".agent-scope.json"),
        json!({"files": {"read": {"deny": [".env"]}, "write": {"deny": [".env"]}}}).to_string(),
    )
    .unwrap();
}

/// A policy that forbids `.env`: Codex's PreToolUse for `cat .env` is answered with a denial
/// that Codex's own output schema accepts, and the attempt is in the store, marked denied and
/// failed; a PermissionRequest for it gets PermissionRequest's own denial.
#[test]
fn a_policy_denies_reading_env_in_codex_own_words() {
    let env = TestEnv::new();
    write_policy(env.path());
    let payloads = recorded();
    let pre = payloads
        .iter()
        .find(|p| p["hook_event_name"] == "PreToolUse" && p["tool_name"] == "Bash")
        .unwrap();
    for declared in [false, true] {
        let run = play(&env, pre, declared);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.ends_with('\n') && run.stdout.lines().count() == 1);
        let out: Value = serde_json::from_str(&run.stdout).unwrap();
        conforms(
            &fixture_schema("pre-tool-use.command.output.schema.json"),
            &out,
        )
        .unwrap_or_else(|e| panic!("{e}: {out}"));
        assert_eq!(out["hookSpecificOutput"]["permissionDecision"], "deny");
        let reason = out["hookSpecificOutput"]["permissionDecisionReason"]
            .as_str()
            .unwrap();
        assert!(reason.contains(".env"), "{reason}");
    }

    let mut request = pre.clone();
    let request = request.as_object_mut().unwrap();
    request.insert("hook_event_name".into(), "PermissionRequest".into());
    request.remove("tool_use_id");
    let run = play(&env, &Value::Object(request.clone()), false);
    assert_eq!(run.code, 0, "{run:?}");
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    conforms(
        &fixture_schema("permission-request.command.output.schema.json"),
        &out,
    )
    .unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(out["hookSpecificOutput"]["decision"]["behavior"], "deny");

    // apply_patch names its files inside the patch: one that writes `.env` is denied too.
    let patch = payloads
        .iter()
        .find(|p| p["hook_event_name"] == "PreToolUse" && p["tool_name"] == "apply_patch")
        .unwrap();
    let mut to_env = patch.clone();
    to_env["session_id"] = pre["session_id"].clone();
    to_env["tool_use_id"] = "call_3".into();
    to_env["tool_input"]["command"] =
        "*** Begin Patch\n*** Update File: src/x.rs\n@@\n-a\n+b\n*** Add File: .env\n+K=v\n*** End Patch\n"
            .into();
    let run = play(&env, &to_env, true);
    assert_eq!(run.code, 0, "{run:?}");
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(out["hookSpecificOutput"]["permissionDecision"], "deny");
    conforms(
        &fixture_schema("pre-tool-use.command.output.schema.json"),
        &out,
    )
    .unwrap();
    assert!(play(&env, patch, true).stdout.is_empty());

    // A call the policy allows prints nothing.
    let mut allowed = pre.clone();
    allowed["tool_input"] = json!({"command": "ls"});
    allowed["tool_use_id"] = "call_9".into();
    let run = play(&env, &allowed, false);
    assert!(run.code == 0 && run.stdout.is_empty(), "{run:?}");

    let session = pre["session_id"].as_str().unwrap();
    let events = env.events(session);
    let denied: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "tool_call" && !e["data"]["policy_denied"].is_null())
        .collect();
    assert_eq!(denied.len(), 3, "{events:?}");
    for call in denied {
        assert!(events.iter().any(|e| e["event_type"] == "error"
            && e["parent_id"] == call["event_id"]
            && e["data"]["error"].as_str().unwrap().contains(".env")));
    }
    assert!(!events.iter().any(|e| e["event_type"] == "tool_result"));
}

// ---- malformed payloads -------------------------------------------------------------------

/// A recorded Codex payload broken in one of the ways that must never be recorded.
fn broken_payload() -> impl Strategy<Value = (Vec<u8>, bool)> {
    let payloads = recorded();
    let wrong = prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(json!(["a"])),
        Just(json!({"a": 1})),
    ];
    (
        prop::sample::select(payloads),
        0usize..9,
        wrong,
        prop::sample::select(vec!["", "..", "a/b", ".x", "a\\b"]),
        0.0f64..1.0,
        any::<bool>(),
    )
        .prop_map(|(mut p, how, wrong, bad_id, cut, declared)| {
            let object = p.as_object_mut().unwrap();
            let bytes = match how {
                0 => {
                    object.remove("session_id");
                    None
                }
                1 => {
                    object.insert(
                        "session_id".into(),
                        if wrong.is_null() { json!(5) } else { wrong },
                    );
                    None
                }
                2 => {
                    object.insert("session_id".into(), bad_id.into());
                    None
                }
                3 => {
                    // A tool event that names no tool.
                    object.insert("hook_event_name".into(), "PreToolUse".into());
                    object.remove("tool_name");
                    None
                }
                4 => {
                    object.insert("hook_event_name".into(), "PostToolUse".into());
                    object.insert("tool_name".into(), json!({"n": 1}));
                    None
                }
                5 => {
                    let key = ["cwd", "transcript_path", "agent_id", "hook_event_name"]
                        [(cut * 4.0) as usize % 4];
                    object.insert(key.into(), if wrong.is_null() { json!(1) } else { wrong });
                    None
                }
                6 => {
                    let text = p.to_string();
                    let n = ((text.len() as f64) * cut) as usize;
                    Some(text.as_bytes()[..n.min(text.len() - 1)].to_vec())
                }
                7 => Some(json!([p]).to_string().into_bytes()),
                _ => {
                    // No event name and an argument that names none.
                    object.remove("hook_event_name");
                    None
                }
            };
            (
                bytes.unwrap_or_else(|| p.to_string().into_bytes()),
                declared,
            )
        })
}

/// Malformed Codex payloads, with and without `--agent codex`: the hook exits 0, prints nothing
/// and records nothing (each is one line in hook-errors.log); the same payloads unbroken are
/// recorded, so the store the broken ones leave empty is one they could have written to.
#[test]
fn malformed_codex_payloads_never_exit_non_zero_print_or_record() {
    const CASES: usize = 400;
    let env = TestEnv::new();
    let mut runner = TestRunner::new(Config {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0xc0de),
        ..Config::default()
    });
    let cases: Vec<(Vec<u8>, bool)> = (0..CASES)
        .map(|_| broken_payload().new_tree(&mut runner).unwrap().current())
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((input, declared)) = cases.get(i) else {
                        break;
                    };
                    let args: &[&str] = if *declared {
                        &["hook", "--agent", "codex", "nonsense"]
                    } else {
                        &["hook", "nonsense"]
                    };
                    let mut cmd = env.command(args);
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
    assert!(failures.is_empty(), "{failures:?}");
    assert!(env.sessions().is_empty(), "{:?}", env.sessions());
    let log = std::fs::read_to_string(env.store().join("hook-errors.log")).unwrap();
    assert_eq!(log.lines().count(), CASES);

    let good = TestEnv::new();
    for p in recorded() {
        let mut cmd = good.command(&["hook", "--agent", "codex", "nonsense"]);
        cmd.env("AGENT_TRACE_DIR", good.store());
        run_with_stdin(cmd, p.to_string().as_bytes()).success();
    }
    assert_eq!(good.sessions().len(), 2);
    no_hook_errors(&good);
}

// ---- the real Codex CLI ---------------------------------------------------------------------

/// The Codex CLI launcher (`node_modules/.bin/codex` of `@openai/codex@0.171.0`), which
/// tests/run.sh installs into target/agentcli/codex and exports as `AGENT_STRACE_CODEX`.
fn codex() -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var_os("AGENT_STRACE_CODEX")?);
    assert!(
        path.exists(),
        "AGENT_STRACE_CODEX={} does not exist",
        path.display()
    );
    Some(path)
}

/// The native binary behind the launcher, where Codex embeds its hook schemas.
fn native_codex(launcher: &Path) -> Option<PathBuf> {
    let modules = launcher.parent()?.parent()?;
    let vendor = std::fs::read_dir(modules.join("@openai")).ok()?;
    vendor
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("codex-"))
        .filter_map(|e| std::fs::read_dir(e.path().join("vendor")).ok())
        .flatten()
        .flatten()
        .map(|target| target.path().join("bin").join("codex"))
        .find(|p| p.is_file())
}

/// The JSON schemas embedded in the Codex binary, by title.
fn embedded_schemas(binary: &Path) -> Vec<(String, Value)> {
    let bytes = std::fs::read(binary).unwrap();
    let marker = br#""$schema": "http://json-schema.org/draft-07/schema#""#;
    let mut schemas = Vec::new();
    let mut from = 0;
    while let Some(at) = bytes[from..]
        .windows(marker.len())
        .position(|w| w == marker)
        .map(|p| p + from)
    {
        from = at + marker.len();
        let Some(open) = bytes[..at].iter().rposition(|&b| b == b'{') else {
            continue;
        };
        let mut stream = serde_json::Deserializer::from_slice(&bytes[open..]).into_iter::<Value>();
        if let Some(Ok(schema)) = stream.next()
            && let Some(title) = schema["title"].as_str()
        {
            schemas.push((title.to_owned(), schema.clone()));
        }
    }
    schemas
}

/// The hooks.json that runs our binary on every Codex event, as `setup --agent codex` would.
fn hooks_json(bin: &Path) -> Value {
    let mut hooks = serde_json::Map::new();
    for (event, arg) in [
        ("SessionStart", "session-start"),
        ("UserPromptSubmit", "user-prompt"),
        ("PreToolUse", "pre-tool"),
        ("PermissionRequest", "permission-request"),
        ("PostToolUse", "post-tool"),
        ("Stop", "stop"),
        ("SessionEnd", "session-end"),
    ] {
        let command = format!("'{}' hook --agent codex {arg}", bin.display());
        let mut group = json!({"hooks": [{"type": "command", "command": command, "timeout": 3}]});
        if matches!(event, "PreToolUse" | "PermissionRequest" | "PostToolUse") {
            group["matcher"] = "*".into();
        }
        hooks.insert(event.into(), json!([group]));
    }
    json!({ "hooks": hooks })
}

/// The Codex sessions in the project's store, oldest first, with their events.
fn codex_sessions(env: &TestEnv) -> Vec<(String, Vec<Value>)> {
    let mut sessions: Vec<(String, Vec<Value>)> = env
        .sessions()
        .into_iter()
        .map(|id| {
            let events = env.events(&id);
            (id, events)
        })
        .collect();
    sessions.sort_by(|a, b| {
        let at = |s: &(String, Vec<Value>)| s.1.first().and_then(|e| e["timestamp"].as_f64());
        at(a).partial_cmp(&at(b)).unwrap()
    });
    sessions
}

/// The rollout Codex wrote for a session.
fn rollout(codex_home: &Path, session: &str) -> String {
    let mut stack = vec![codex_home.join("sessions")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().contains(session) {
                return std::fs::read_to_string(path).unwrap();
            }
        }
    }
    panic!("no rollout for {session}");
}

/// Codex CLI 0.171.0, from npm, runs our hook on every event of three offline runs against a
/// fake model: a shell call reading `.env` (recorded with its result, prompt and answer), an
/// `apply_patch` (the file it writes), and the same shell call under a policy forbidding `.env`
/// (Codex blocks it on our denial: the command never runs and the model is told so).
#[test]
fn the_real_codex_cli_is_recorded_and_obeys_a_policy() {
    let Some(codex) = codex() else {
        eprintln!(
            "skipped: set AGENT_STRACE_CODEX to the Codex CLI 0.171.0 launcher \
             (tests/run.sh installs @openai/codex@0.171.0 into target/agentcli/codex)"
        );
        return;
    };
    let env = TestEnv::new();
    let home = tempfile::tempdir().unwrap();
    let codex_home = home.path().join("codex");
    std::fs::create_dir_all(&codex_home).unwrap();
    let (_model, model_port) = crate::common::net::fake_responses_model();
    std::fs::write(
        codex_home.join("config.toml"),
        format!(
            "model = \"gpt-5.1-codex\"\nmodel_provider = \"fake\"\n\n[model_providers.fake]\n\
             name = \"fake\"\nbase_url = \"http://127.0.0.1:{model_port}/v1\"\nwire_api = \"responses\"\n\
             env_key = \"FAKE_API_KEY\"\n"
        ),
    )
    .unwrap();
    std::fs::write(
        codex_home.join("hooks.json"),
        hooks_json(&crate::common::bin()).to_string(),
    )
    .unwrap();
    std::fs::write(env.path().join(".env"), "SECRET=1\n").unwrap();
    let run = |extra: &[&str], prompt: &str| {
        let output = Command::new(&codex)
            .arg("exec")
            .args([
                "--dangerously-bypass-hook-trust",
                "--skip-git-repo-check",
                "-s",
                "danger-full-access",
            ])
            .args(extra)
            .arg(prompt)
            .current_dir(env.path())
            .env("CODEX_HOME", &codex_home)
            .env("HOME", home.path())
            .env("FAKE_API_KEY", "x")
            .env("AGENT_STRACE_HOME", env.home.path())
            .env_remove("CLAUDE_PROJECT_DIR")
            .env_remove("CLAUDECODE")
            .env_remove("AGENT_TRACE_DIR")
            .env_remove("OPENAI_API_KEY")
            .stdin(Stdio::null())
            .output()
            .expect("codex runs");
        let run = Run::of(output);
        assert_eq!(run.code, 0, "{run:?}");
        run
    };

    run(&[], "read .env");
    run(&["-m", "gpt-5.5"], "use apply_patch");
    write_policy(env.path());
    let blocked = run(&[], "read .env");
    no_hook_errors(&env);

    let sessions = codex_sessions(&env);
    assert_eq!(sessions.len(), 3, "{:?}", env.sessions());
    for (id, _) in &sessions {
        assert_eq!(env.meta(id)["agent_name"], "codex");
    }

    // The shell run: prompt, call, linked result, answer, end.
    let (shell, events) = &sessions[0];
    let find = |events: &[Value], kind: &str| -> Value {
        events
            .iter()
            .find(|e| e["event_type"] == kind)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} in {events:?}"))
    };
    assert_eq!(
        find(events, "session_start")["data"]["model"],
        "gpt-5.1-codex"
    );
    assert_eq!(find(events, "user_prompt")["data"]["prompt"], "read .env");
    let call = find(events, "tool_call");
    assert_eq!(call["data"]["tool_name"], "Bash");
    assert_eq!(call["data"]["arguments"]["command"], "cat .env");
    assert_eq!(call["data"]["tool_use_id"], "call_1");
    let result = find(events, "tool_result");
    assert_eq!(result["parent_id"], call["event_id"]);
    assert!(
        result["data"]["result"]
            .as_str()
            .unwrap()
            .contains("SECRET="),
        "{result}"
    );
    assert_eq!(find(events, "assistant_response")["data"]["text"], "done");
    find(events, "session_end");
    analyses_work(&env, shell);
    // Its tokens come from the rollout: two responses of the fake model, 7 output tokens each.
    let cost = env
        .run(&["cost", shell, "--format", "json"])
        .success()
        .json();
    assert_eq!(cost["estimated"], false, "{cost}");
    assert_eq!(cost["tokens"]["output"], 14, "{cost}");
    assert_eq!(cost["tokens"]["cache_read"], 80, "{cost}");

    // The patch run: the file Codex wrote is a file write of the call.
    let (_, events) = &sessions[1];
    assert_eq!(
        std::fs::read_to_string(env.path().join("hello.txt")).unwrap(),
        "hi\n"
    );
    let call = find(events, "tool_call");
    assert_eq!(call["data"]["tool_name"], "apply_patch");
    let write = find(events, "file_write");
    // Named from the folder Codex applied it in.
    let path = write["data"]["path"].as_str().unwrap_or_default();
    assert!(
        path.starts_with('/') && path.ends_with("/hello.txt"),
        "{write}"
    );
    assert_eq!(write["parent_id"], call["event_id"]);

    // The blocked run: the call is recorded as denied, no result ever came, and Codex told
    // the model it was blocked instead of running it.
    let (blocked_id, events) = &sessions[2];
    let call = find(events, "tool_call");
    assert!(call["data"]["policy_denied"].is_object(), "{call}");
    assert!(!events.iter().any(|e| e["event_type"] == "tool_result"));
    let text = rollout(&codex_home, blocked_id);
    assert!(
        text.contains("blocked by PreToolUse hook"),
        "{}\n{text}",
        blocked.stderr
    );
    assert!(!text.contains("SECRET=1"), "{text}");

    // Our committed copies of Codex's output schemas are what this Codex embeds.
    let native = native_codex(&codex).expect("the native codex binary beside the launcher");
    let embedded = embedded_schemas(&native);
    for name in [
        "pre-tool-use.command.output",
        "permission-request.command.output",
    ] {
        let found = embedded
            .iter()
            .find(|(title, _)| title == name)
            .unwrap_or_else(|| panic!("{name} is not in {}", native.display()));
        assert_eq!(
            found.1,
            fixture_schema(&format!("{name}.schema.json")),
            "{name}"
        );
    }
}

/// The events the recorded runs did not reach, as Codex 0.171.0's input schemas define them: an
/// MCP call with a structured result, compaction, an interrupt, a subagent with its answer.
#[test]
fn codex_events_from_its_schemas_are_recorded() {
    let env = TestEnv::new();
    let session = "01a22b00-0000-7000-8000-000000000001";
    let base = |event: &str, extra: Value| {
        let mut p = json!({
            "session_id": session,
            "turn_id": "01a22b00-0000-7000-8000-0000000000aa",
            "transcript_path": null,
            "cwd": "/w",
            "hook_event_name": event,
            "model": "gpt-5.5",
            "permission_mode": "default",
        });
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    };
    let mcp_input = json!({"sql": "select 1"});
    let steps = [
        base(
            "PreToolUse",
            json!({"tool_name": "mcp__db__query", "tool_input": mcp_input, "tool_use_id": "call_7"}),
        ),
        base(
            "PostToolUse",
            json!({"tool_name": "mcp__db__query", "tool_input": mcp_input, "tool_use_id": "call_7",
                   "tool_response": {"content": [{"type": "text", "text": "1 row"}]}}),
        ),
        base("PreCompact", json!({"trigger": "auto"})),
        base("PostCompact", json!({"trigger": "auto"})),
        base("Interrupt", json!({})),
        base(
            "SubagentStart",
            json!({"agent_id": "agent-1", "agent_type": "explorer"}),
        ),
        base(
            "SubagentStop",
            json!({"agent_id": "agent-1", "agent_type": "explorer", "stop_hook_active": false,
                   "last_assistant_message": "found it", "agent_transcript_path": null}),
        ),
    ];
    for p in &steps {
        // Each names its turn, so Codex is told by the payload alone.
        let run = play(&env, p, false);
        assert!(run.code == 0 && run.stdout.is_empty(), "{run:?}");
    }
    no_hook_errors(&env);
    assert_eq!(env.meta(session)["agent_name"], "codex");
    let events = env.events(session);
    assert_eq!(
        kinds(&events),
        [
            "tool_call",
            "tool_result",
            "decision",
            "decision",
            "decision",
            "subagent_start",
            "subagent_stop"
        ]
    );
    assert_eq!(events[1]["parent_id"], events[0]["event_id"]);
    assert_eq!(events[1]["data"]["result"], "1 row");
    assert_eq!(events[2]["data"]["hook_event_name"], "PreCompact");
    assert_eq!(events[2]["data"]["trigger"], "auto");
    assert_eq!(events[4]["data"]["hook_event_name"], "Interrupt");
    let child = events[6]["data"]["child_session_id"].as_str().unwrap();
    let meta = env.meta(child);
    assert_eq!(meta["agent_name"], "codex");
    assert_eq!(meta["parent_session_id"], session);
    let child_events = env.events(child);
    assert!(
        child_events
            .iter()
            .any(|e| e["event_type"] == "assistant_response" && e["data"]["text"] == "found it"),
        "{child_events:?}"
    );
    let stats = env
        .run(&["stats", session, "--format", "json"])
        .success()
        .json();
    assert_eq!(stats["tool_calls"], 1, "{stats}");
}

/// Codex started from another agent's terminal inherits its variables. Before, a Codex payload
/// with `COPILOT_CLI=1` got Copilot's flat JSON, with `CURSOR_VERSION` Cursor's (fields outside
/// Codex's closed schema: Codex marked the hook failed and the call ran), and with
/// `GEMINI_SESSION_ID` it was not judged at all. The payload's own marks come first.
#[test]
fn an_inherited_variable_of_another_agent_never_changes_codex_answer() {
    let payloads = recorded();
    let pre = payloads
        .iter()
        .find(|p| p["hook_event_name"] == "PreToolUse" && p["tool_name"] == "Bash")
        .unwrap();
    for var in [
        ("COPILOT_CLI", "1"),
        ("CURSOR_VERSION", "2.1.42"),
        ("GEMINI_SESSION_ID", "g-1"),
    ] {
        let env = TestEnv::new();
        write_policy(env.path());
        let mut payload = pre.clone();
        payload["cwd"] = env.path().to_string_lossy().into_owned().into();
        let mut command = env.command(&["hook", "pre-tool"]);
        command.env(var.0, var.1);
        let run = run_with_stdin(command, payload.to_string().as_bytes());
        assert_eq!(run.code, 0, "{var:?}: {run:?}");
        let out: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{var:?}: not JSON ({e}): {run:?}"));
        conforms(
            &fixture_schema("pre-tool-use.command.output.schema.json"),
            &out,
        )
        .unwrap_or_else(|e| panic!("{var:?}: {e}: {out}"));
        assert_eq!(
            out["hookSpecificOutput"]["permissionDecision"], "deny",
            "{var:?}"
        );
        let session = pre["session_id"].as_str().unwrap();
        assert_eq!(env.meta(session)["agent_name"], "codex", "{var:?}");
    }
}

/// A rollout whose running total goes down (a resumed Codex counts from zero again): the
/// response after it is its `last_token_usage`, not the change clamped at zero, which lost it.
#[test]
fn a_running_total_that_begins_again_loses_no_response() {
    let env = TestEnv::new();
    let usage = |input: u64, output: u64| {
        json!({"input_tokens": input, "cached_input_tokens": 0, "output_tokens": output,
            "reasoning_output_tokens": 0, "total_tokens": input + output})
    };
    let count = |at: &str, total: (u64, u64), last: (u64, u64)| {
        json!({"timestamp": at, "type": "event_msg", "payload": {"type": "token_count",
            "info": {"total_token_usage": usage(total.0, total.1),
                "last_token_usage": usage(last.0, last.1), "model_context_window": 258_400}}})
    };
    let lines = [
        json!({"timestamp": "2026-02-23T19:34:26.098Z", "type": "session_meta",
            "payload": {"id": "cdx-reset", "cwd": "/x", "cli_version": "0.104.0"}}),
        json!({"timestamp": "2026-02-23T19:34:26.099Z", "type": "turn_context",
            "payload": {"cwd": "/x", "model": "gpt-5"}}),
        json!({"timestamp": "2026-02-23T19:34:27.000Z", "type": "response_item",
            "payload": {"type": "message", "role": "user",
                "content": [{"type": "input_text", "text": "hi"}]}}),
        count("2026-02-23T19:34:28.000Z", (1000, 100), (1000, 100)),
        count("2026-02-23T19:34:29.000Z", (2000, 200), (1000, 100)),
        // Resumed: the total begins again.
        count("2026-02-24T10:00:00.000Z", (500, 50), (500, 50)),
        count("2026-02-24T10:00:01.000Z", (1200, 120), (700, 70)),
    ];
    let file = env
        .path()
        .join("rollout-2026-02-23T19-34-26-cdx-reset.jsonl");
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&file, text.join("\n") + "\n").unwrap();
    env.run(&["import", file.to_str().unwrap()]).success();
    let cost = env.run(&["cost", "cdx-reset", "--format", "json"]);
    let cost: Value = serde_json::from_str(&cost.success().stdout).unwrap();
    assert_eq!(
        (&cost["tokens"]["input"], &cost["tokens"]["output"]),
        (&json!(3200), &json!(320)),
        "{cost}"
    );
}
