//! `import`: every real transcript in the corpus imports, and its figures equal what this test
//! computes on its own from the raw file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::deep::assert_deep_imports_as_shallow;
use crate::common::{TestEnv, nested, run_for_peak_memory_kib, shared};

fn corpus_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "jsonl") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&shared().join("corpus").join("claude-code"), &mut files);
    files.sort();
    files
}

fn is_subagent_file(path: &Path) -> bool {
    path.parent().is_some_and(|p| p.ends_with("subagents"))
}

/// Figures of one transcript, computed straight from its lines.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    messages: u64,
    tool_calls: u64,
    tool_errors: u64,
    tokens: [u64; 4],
}

fn expected(path: &Path) -> Expected {
    let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
    let mut e = Expected::default();
    let mut usage_by_response: HashMap<String, Value> = HashMap::new();
    let mut order = Vec::new();
    // A resumed or forked history repeats calls and results: each counts once (issue 10).
    let mut calls = std::collections::HashSet::new();
    let mut results = std::collections::HashSet::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let kind = v["type"].as_str().unwrap_or("");
        if (kind != "user" && kind != "assistant") || !v["message"].is_object() {
            continue;
        }
        e.messages += 1;
        let blocks = v["message"]["content"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if kind == "assistant" {
            e.tool_calls += blocks
                .iter()
                .filter(|b| b["type"] == "tool_use" && calls.insert(b["id"].to_string()))
                .count() as u64;
            let key = format!(
                "{}:{}",
                v["message"]["id"].as_str().unwrap_or(""),
                v["requestId"].as_str().unwrap_or("")
            );
            if !usage_by_response.contains_key(&key) {
                order.push(key.clone());
            }
            // The last line of a response holds its final usage.
            if v["message"]["usage"].is_object() {
                usage_by_response.insert(key, v["message"]["usage"].clone());
            } else {
                usage_by_response.entry(key).or_insert(Value::Null);
            }
        } else {
            e.tool_errors += blocks
                .iter()
                .filter(|b| {
                    b["type"] == "tool_result" && results.insert(b["tool_use_id"].to_string())
                })
                .filter(|b| b["is_error"] == true)
                .count() as u64;
        }
    }
    for usage in usage_by_response.values() {
        for (i, key) in [
            "input_tokens",
            "output_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
        ]
        .iter()
        .enumerate()
        {
            e.tokens[i] += usage[key].as_u64().unwrap_or(0);
        }
    }
    e
}

/// The same figures, read back from what the store holds for a session.
fn stored(env: &TestEnv, session: &str) -> Expected {
    let events = env.events(session);
    let count = |kind: &str| events.iter().filter(|e| e["event_type"] == kind).count() as u64;
    let mut tokens = [0u64; 4];
    for e in events.iter().filter(|e| e["event_type"] == "llm_response") {
        for (i, key) in [
            "input_tokens",
            "output_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
        ]
        .iter()
        .enumerate()
        {
            tokens[i] += e["data"]["usage"][key].as_u64().unwrap_or(0);
        }
    }
    Expected {
        messages: 0,
        tool_calls: count("tool_call"),
        tool_errors: count("error"),
        tokens,
    }
}

#[test]
fn every_corpus_transcript_imports_with_exact_figures() {
    let env = TestEnv::new();
    let mains: Vec<PathBuf> = corpus_files()
        .into_iter()
        .filter(|p| !is_subagent_file(p))
        .collect();
    let mut args = vec![
        "import".to_owned(),
        "--format".to_owned(),
        "json".to_owned(),
    ];
    args.extend(mains.iter().map(|p| p.to_string_lossy().into_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = env.run(&args);
    run.success();
    let reports = run.json();
    let reports = reports.as_array().unwrap();
    let all = corpus_files();
    assert_eq!(
        reports.len(),
        all.len(),
        "one report per file, subagents included"
    );

    for report in reports {
        let file = PathBuf::from(report["file"].as_str().unwrap());
        let want = expected(&file);
        let got = Expected {
            messages: report["messages"].as_u64().unwrap(),
            tool_calls: report["tool_calls"].as_u64().unwrap(),
            // The transcript's failed results: failures and refusals, which the report counts
            // apart.
            tool_errors: report["tool_errors"].as_u64().unwrap()
                + report["tool_rejections"].as_u64().unwrap(),
            tokens: [
                report["tokens"]["input"].as_u64().unwrap(),
                report["tokens"]["output"].as_u64().unwrap(),
                report["tokens"]["cache_creation"].as_u64().unwrap(),
                report["tokens"]["cache_read"].as_u64().unwrap(),
            ],
        };
        assert_eq!(got, want, "{}", file.display());
        let session = report["session_id"].as_str().unwrap();
        let in_store = stored(&env, session);
        assert_eq!(
            (in_store.tool_calls, in_store.tool_errors, in_store.tokens),
            (want.tool_calls, want.tool_errors, want.tokens),
            "store of {}",
            file.display()
        );
        let meta = env.meta(session);
        assert_eq!(meta["tool_calls"].as_u64().unwrap_or(0), want.tool_calls);
        if is_subagent_file(&file) {
            assert!(
                meta["parent_session_id"].is_string(),
                "{session} is not linked to its parent"
            );
        }
    }
}

/// A session of one call and one response read `1 tool calls`, `1 responses`.
#[test]
fn one_tool_call_and_one_response_are_singular() {
    let env = TestEnv::new();
    let file =
        shared().join("corpus/claude-code/moredip__session-share/images-in-tool-results.jsonl");
    let run = env.run(&["import", file.to_str().unwrap()]);
    run.success();
    assert!(
        run.stdout
            .contains("imported: 6 events, 1 tool call (0 failed), 1 response, tokens"),
        "{}",
        run.stdout
    );
}

/// A response whose usage holds a count no response can have (forged past ten billion) is of
/// unknown usage: the import says so and leaves its tokens out, as `cost` and every view do.
#[test]
fn a_response_of_unknown_usage_is_said_and_left_out_of_the_tokens() {
    let env = TestEnv::new();
    let source = shared().join("corpus/claude-code/marot__spotter/tool_heavy.jsonl");
    let text = std::fs::read_to_string(&source).unwrap();
    // Every line of the first response (a response's last line wins, so all of them).
    let mut first: Option<Value> = None;
    let forged: Vec<String> = text
        .lines()
        .map(|line| {
            let mut v: Value = serde_json::from_str(line).unwrap();
            let id = v["message"]["id"].clone();
            if v["type"] == "assistant" && v["message"]["usage"].is_object() {
                if first.is_none() {
                    first = Some(id.clone());
                }
                if first.as_ref() == Some(&id) {
                    v["message"]["usage"]["output_tokens"] = json!(20_000_000_000u64);
                }
            }
            v.to_string()
        })
        .collect();
    let file = env.path().join("forged.jsonl");
    std::fs::write(&file, forged.join("\n")).unwrap();
    let run = crate::common::imported_text(&file);
    assert!(
        run.contains(" responses (1 of unknown usage), tokens in "),
        "{run}"
    );
    let report = env
        .run(&["import", "--format", "json", file.to_str().unwrap()])
        .success()
        .json();
    assert_eq!(report[0]["unbelieved_usage"], 1, "{report}");
    let id = report[0]["session_id"].as_str().unwrap();
    let cost = env.run(&["cost", id, "--format", "json"]).success().json();
    assert_eq!(cost["unbelieved_usage"], 1, "{cost}");
    assert_eq!(cost["tokens"], report[0]["tokens"], "{cost}");
}

#[test]
fn streamed_responses_count_once_with_their_last_usage() {
    let env = TestEnv::new();
    let file = shared().join("corpus/claude-code/marot__spotter/tool_heavy.jsonl");
    let report = env
        .run(&["import", "--format", "json", file.to_str().unwrap()])
        .success()
        .json();
    // The provenance note: ccusage counts 54 / 212 / 17696 / 88231; taking the first line of
    // each response instead would give 64 output tokens.
    let t = &report[0]["tokens"];
    assert_eq!(
        (t["input"].as_u64(), t["output"].as_u64()),
        (Some(54), Some(212))
    );
    assert_eq!(
        (t["cache_creation"].as_u64(), t["cache_read"].as_u64()),
        (Some(17696), Some(88231))
    );
    // The text says the same, its thousands separated as every count is.
    let text = crate::common::imported_text(&file);
    assert!(
        text.contains(", tokens in 54 / out 212 / cache write 17,696 / cache read 88,231\n"),
        "{text}"
    );
}

#[test]
fn subagents_are_linked_to_the_task_call_that_spawned_them_and_match_ccusage() {
    let env = TestEnv::new();
    let main = shared()
        .join("corpus/claude-code/marot__spotter/258c7280-ae70-4798-800f-63464d01a85d.jsonl");
    env.run(&["import", main.to_str().unwrap()]).success();
    let parent = "258c7280-ae70-4798-800f-63464d01a85d";
    let child = format!("agent-a881341-{parent}");
    let meta = env.meta(&child);
    let call = meta["parent_event_id"].as_str().unwrap().to_owned();
    let spawner = env
        .events(parent)
        .into_iter()
        .find(|e| e["event_id"] == call.as_str())
        .unwrap();
    assert_eq!(spawner["event_type"], "tool_call");
    assert!(matches!(
        spawner["data"]["tool_name"].as_str(),
        Some("Task" | "Agent")
    ));
    // ccusage 20.0.24, main file with its subagents folder (corpus PROVENANCE.md).
    let mut tokens = [0u64; 4];
    for session in env.sessions() {
        let s = stored(&env, &session);
        for (total, n) in tokens.iter_mut().zip(s.tokens) {
            *total += n;
        }
    }
    assert_eq!(tokens, [198, 38908, 394_137, 14_972_534]);
}

#[test]
fn importing_twice_changes_nothing() {
    let env = TestEnv::new();
    let file = shared().join(
        "corpus/claude-code/moredip__session-share/0ccf1a04-1b4c-43b6-8aa5-79e41db43a68.jsonl",
    );
    env.run(&["import", file.to_str().unwrap()]).success();
    let snapshot = |env: &TestEnv| -> Vec<(String, String)> {
        env.sessions()
            .into_iter()
            .map(|s| {
                let events =
                    std::fs::read_to_string(env.store().join(&s).join("events.ndjson")).unwrap();
                (s, events)
            })
            .collect()
    };
    let before = snapshot(&env);
    assert_eq!(before.len(), 6);
    let again = env.run(&["import", file.to_str().unwrap()]);
    again.success();
    assert!(
        again.stdout.contains("already imported"),
        "{}",
        again.stdout
    );
    assert_eq!(snapshot(&env), before);
}

/// A log whose session was imported from another file (a copy, the same log under another
/// name) was reported "already imported" naming only itself: which file the store holds it
/// from is named now.
#[test]
fn already_imported_names_the_file_it_was_imported_from() {
    let env = TestEnv::new();
    let id = "4b2030ed-5563-49ea-b703-6a002f2d3cc8";
    let first = env.path().join(format!("{id}.jsonl"));
    std::fs::copy(
        shared().join(format!(
            "corpus/claude-code/moredip__session-share/{id}.jsonl"
        )),
        &first,
    )
    .unwrap();
    env.run(&["import", first.to_str().unwrap()]).success();
    let copy = env.path().join("copy.jsonl");
    std::fs::copy(&first, &copy).unwrap();
    let again = env.run(&["import", copy.to_str().unwrap()]);
    again.success();
    let first_shown = std::fs::canonicalize(&first).unwrap();
    assert!(
        again.stdout.contains(&format!(
            "already imported from {}; {} was not read",
            first_shown.display(),
            copy.display()
        )),
        "{}",
        again.stdout
    );
    let json = env.run(&["import", copy.to_str().unwrap(), "--format", "json"]);
    json.success();
    assert_eq!(json.json()[0]["status"], "already_imported");
    assert_eq!(
        json.json()[0]["imported_from"],
        first_shown.to_str().unwrap()
    );
    // The file it was imported from names none: it is the one.
    let same = env.run(&["import", first.to_str().unwrap(), "--format", "json"]);
    same.success();
    assert!(
        same.json()[0].get("imported_from").is_none(),
        "{}",
        same.stdout
    );
}

/// Writes JSON with a space after every `:` and `,`, as Python's `json.dumps` does.
struct Spaced;

impl serde_json::ser::Formatter for Spaced {
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
}

fn reversed(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .rev()
                .map(|(k, v)| (k.clone(), reversed(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(reversed).collect()),
        other => other.clone(),
    }
}

#[test]
fn other_spacing_and_key_order_import_the_same() {
    let env = TestEnv::new();
    let original = shared().join("corpus/claude-code/marot__spotter/subagent.jsonl");
    let text = std::fs::read_to_string(&original).unwrap();
    let mut rewritten = String::new();
    for line in text.lines() {
        let value: Value = serde_json::from_str(line).unwrap();
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, Spaced);
        serde::Serialize::serialize(&reversed(&value), &mut ser).unwrap();
        rewritten.push_str(&String::from_utf8(out).unwrap());
        rewritten.push('\n');
    }
    assert_ne!(rewritten, text);
    let copy = env.path().join("spaced.jsonl");
    std::fs::write(&copy, rewritten).unwrap();
    let a = env
        .run(&[
            "--trace-dir",
            "a",
            "import",
            "--format",
            "json",
            original.to_str().unwrap(),
        ])
        .success()
        .json();
    let b = env
        .run(&[
            "--trace-dir",
            "b",
            "import",
            "--format",
            "json",
            copy.to_str().unwrap(),
        ])
        .success()
        .json();
    for key in [
        "messages",
        "tool_calls",
        "tool_errors",
        "tool_rejections",
        "responses",
        "tokens",
        "events",
        "entries",
    ] {
        assert_eq!(a[0][key], b[0][key], "{key}");
    }
}

#[test]
fn comment_lines_are_counted_never_fatal() {
    let env = TestEnv::new();
    let file = shared().join("corpus/claude-code/moredip__session-share/general-tool-calls.jsonl");
    let run = env.run(&["import", "--format", "json", file.to_str().unwrap()]);
    run.success();
    let report = run.json();
    assert_eq!(report[0]["entries"]["malformed"], 2);
    assert_eq!(report[0]["malformed"][0]["line"], 1);
    assert!(
        run.stderr.contains("general-tool-calls.jsonl:1:"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_files_get_one_error_naming_file_and_line_and_the_rest_still_import() {
    let env = TestEnv::new();
    let empty = env.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let binary = env.path().join("binary.jsonl");
    std::fs::write(
        &binary,
        [0x00u8, 0xff, 0xfe, 0x10, b'\n', 0x89, b'P', b'N', b'G'],
    )
    .unwrap();
    let other = env.path().join("other.jsonl");
    std::fs::write(
        &other,
        "{\"name\": \"not a transcript\"}\n{\"rows\": [1, 2]}\n",
    )
    .unwrap();
    let good = shared().join("corpus/claude-code/marot__spotter/short.jsonl");
    let truncated = env.path().join("truncated.jsonl");
    let text = std::fs::read_to_string(&good).unwrap();
    std::fs::write(&truncated, &text[..text.len() - 40]).unwrap();

    let run = env.run(&[
        "import",
        empty.to_str().unwrap(),
        binary.to_str().unwrap(),
        other.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 3, "{run:?}");
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 3, "{}", run.stderr);
    assert!(errors[0].contains("empty.jsonl") && errors[0].contains("empty"));
    assert!(
        errors[1].contains("binary.jsonl:1:") && errors[1].contains("binary"),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].contains("other.jsonl:1:")
            && errors[2]
                .contains("not a session log of Claude Code, Codex, Gemini CLI or Copilot CLI"),
        "{}",
        errors[2]
    );
    assert!(
        run.stdout
            .contains("55604662-cf2a-4331-851a-ec234028f8ca imported"),
        "{}",
        run.stdout
    );
    assert!(!run.stderr.contains("panicked"));

    // A cut last line is named, and everything before it is kept.
    let env = TestEnv::new();
    let run = env.run(&["import", "--format", "json", truncated.to_str().unwrap()]);
    run.success();
    let lines = text.lines().count() as u64;
    assert!(
        run.stderr.contains(&format!("truncated.jsonl:{lines}:")),
        "{}",
        run.stderr
    );
    assert_eq!(env.sessions().len(), 1);
}

#[test]
fn discover_lists_newest_first_and_all_imports_what_is_new() {
    let env = TestEnv::new();
    let claude = env.path().join("claude");
    let project = claude.join("projects").join("-home-me-app");
    std::fs::create_dir_all(&project).unwrap();
    let corpus = shared().join("corpus/claude-code/marot__spotter");
    for (i, name) in ["short.jsonl", "tool_heavy.jsonl"].iter().enumerate() {
        let target = project.join(name);
        std::fs::copy(corpus.join(name), &target).unwrap();
        let when = std::time::SystemTime::UNIX_EPOCH
            + std::time::Duration::from_secs(1_780_000_000 + i as u64 * 60);
        std::fs::File::options()
            .write(true)
            .open(&target)
            .unwrap()
            .set_modified(when)
            .unwrap();
    }
    // Older Claude Code put subagent transcripts beside the main ones.
    std::fs::copy(
        shared().join("corpus/claude-code/marot__spotter/258c7280-ae70-4798-800f-63464d01a85d/subagents/agent-a881341.jsonl"),
        project.join("agent-a881341.jsonl"),
    )
    .unwrap();
    let claude_arg = claude.to_str().unwrap();
    let found = env
        .run(&[
            "import",
            "--discover",
            "--claude-dir",
            claude_arg,
            "--format",
            "json",
        ])
        .success()
        .json();
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(
        found[0]["session_id"],
        "d6e0bada-1959-4eec-a9d2-0bfade768d8f"
    );
    assert_eq!(found[0]["first_prompt"], "start phoenix in background");
    assert_eq!(found[0]["imported"], false);

    // One store for the test (--trace-dir): --all would put the corpus's transcripts in the
    // user-level store, their project folders being on no machine here.
    env.run(&[
        "--trace-dir",
        ".agent-traces",
        "import",
        "--all",
        "--claude-dir",
        claude_arg,
    ])
    .success();
    let child = "agent-a881341-258c7280-ae70-4798-800f-63464d01a85d";
    assert_eq!(env.sessions().len(), 3, "{:?}", env.sessions());
    assert_eq!(
        env.meta(child)["parent_session_id"],
        "258c7280-ae70-4798-800f-63464d01a85d"
    );
    let again = env
        .run(&[
            "--trace-dir",
            ".agent-traces",
            "import",
            "--all",
            "--claude-dir",
            claude_arg,
        ])
        .success()
        .stdout
        .clone();
    assert!(
        again.contains("Every transcript is imported already"),
        "{again}"
    );
}

/// A resumed session's file begins with lines of the session it resumed: `import` names it by
/// its file, as Claude Code does, but `--discover` named it by its first line and looked that
/// id up, so it was listed under another id and as `new` however often it was imported.
#[test]
fn discover_names_a_resumed_transcript_by_its_file_as_the_import_does() {
    let env = TestEnv::new();
    let claude = env.path().join("claude");
    let project = claude.join("projects").join("-x");
    std::fs::create_dir_all(&project).unwrap();
    let own = "b162b1ae-97bc-475f-9b5f-ffbf55ca5b3f";
    std::fs::copy(
        shared().join("corpus/claude-code/Mai0313__VibeCodingTracker/claude_code-v1.0.95.jsonl"),
        project.join(format!("{own}.jsonl")),
    )
    .unwrap();
    let claude_arg = claude.to_str().unwrap();
    let discover = || {
        let found = env
            .run(&[
                "--trace-dir",
                ".agent-traces",
                "import",
                "--discover",
                "--claude-dir",
                claude_arg,
                "--format",
                "json",
            ])
            .success()
            .json();
        assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
        found[0].clone()
    };
    let before = discover();
    env.run(&[
        "--trace-dir",
        ".agent-traces",
        "import",
        "--all",
        "--claude-dir",
        claude_arg,
    ])
    .success();
    let imported = env.sessions();
    assert_eq!(imported.len(), 1, "{imported:?}");
    assert_eq!(before["session_id"], imported[0].as_str());
    assert_eq!(before["status"], "new");
    let after = discover();
    assert_eq!(after["session_id"], imported[0].as_str());
    assert_eq!(after["imported"], true, "{after}");
    assert_eq!(after["status"], "up_to_date", "{after}");
}

/// A file whose first line is over the 64 MiB limit (a sparse file of zeros, one line) was read
/// to its end twice, by the format's detection and by the import, before it was refused: 21 s
/// for 3 GB. It is refused at the limit, having read the limit's bytes only.
#[test]
fn a_file_whose_first_line_is_over_the_limit_is_refused_without_reading_it_through() {
    let env = TestEnv::new();
    let file = env.path().join("zeros.jsonl");
    let size = 1u64 << 30;
    std::fs::File::create(&file).unwrap().set_len(size).unwrap();
    let (run, reads) =
        crate::common::run_for_reads(&env.command(&["import", file.to_str().unwrap()]));
    run.fails_with(3, "zeros.jsonl:1:");
    assert!(run.stderr.contains("longer than 64 MiB"), "{}", run.stderr);
    assert!(
        reads.bytes < size / 4,
        "{} bytes read of a {size}-byte file",
        reads.bytes
    );
    assert!(env.sessions().is_empty());
}

/// A file of nothing but newlines was read a line at a time, twice (39 s for 768 MB), and then
/// said to be empty. It is said to hold blank lines only, and a run of them is passed at once.
#[test]
fn a_file_of_blank_lines_is_said_to_hold_no_entries_and_read_at_once() {
    let env = TestEnv::new();
    let file = env.path().join("blank.jsonl");
    let lines = 64usize << 20;
    std::fs::write(&file, "\n".repeat(lines)).unwrap();
    let (run, reads) =
        crate::common::run_for_reads(&env.command(&["import", file.to_str().unwrap()]));
    run.fails_with(3, &format!("holds no entries, only {lines} blank lines"));
    assert!(!run.stderr.contains("empty"), "{}", run.stderr);
    // Line by line, the debug build took 2.5 s of processor time for these 64 MiB.
    assert!(reads.cpu_secs < 1.0, "{} s", reads.cpu_secs);
}

/// Runs of blank lines passed at once still count as lines: a bad line after them is named by
/// its number, and a file that grows after them is read on from where the import stopped.
#[test]
fn blank_lines_passed_at_once_keep_line_numbers_and_growth() {
    let env = TestEnv::new();
    let text =
        std::fs::read_to_string(shared().join("corpus/claude-code/marot__spotter/short.jsonl"))
            .unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let last = lines.pop().unwrap();
    let mut written = format!("{}\n", lines[0]);
    written.push_str(&"\n".repeat(1000));
    written.push_str("not json\n");
    for line in &lines[1..] {
        written.push_str(line);
        written.push_str("\n\n\n");
    }
    let file = env.path().join("blanks.jsonl");
    std::fs::write(&file, &written).unwrap();
    let report = env
        .run(&["import", "--format", "json", file.to_str().unwrap()])
        .success()
        .json()[0]
        .clone();
    assert_eq!(report["lines"], written.matches('\n').count());
    assert_eq!(report["malformed"][0]["line"], 1002, "{report}");
    let again = env
        .run(&["import", "--format", "json", file.to_str().unwrap()])
        .success()
        .json()[0]
        .clone();
    assert_eq!(again["status"], "already_imported", "{again}");
    std::fs::write(&file, format!("{written}{last}\n")).unwrap();
    let grown = env
        .run(&["import", "--format", "json", file.to_str().unwrap()])
        .success()
        .json()[0]
        .clone();
    assert_eq!(grown["status"], "grown", "{grown}");
    assert_eq!(grown["lines"], 1, "{grown}");
}

/// `import --all` imports files in parallel: every main transcript of the corpus (with its
/// subagents) and a second copy of one of them, all at once. Reports come back in file order,
/// the copy is recognised as imported (never an error, never a mixed session), and the figures
/// equal the ones computed from the raw files.
#[test]
fn import_all_runs_files_in_parallel_reports_in_order_and_one_writer_wins_a_shared_session() {
    let env = TestEnv::new();
    let claude = env.path().join("claude");
    let mut mains = Vec::new();
    for file in corpus_files().into_iter().filter(|f| !is_subagent_file(f)) {
        let project = claude.join("projects").join(format!("p{}", mains.len()));
        std::fs::create_dir_all(&project).unwrap();
        let target = project.join(file.file_name().unwrap());
        std::fs::copy(&file, &target).unwrap();
        let subagents = file.with_extension("").join("subagents");
        if subagents.is_dir() {
            let to = target.with_extension("").join("subagents");
            std::fs::create_dir_all(&to).unwrap();
            for child in std::fs::read_dir(&subagents).unwrap().flatten() {
                std::fs::copy(child.path(), to.join(child.file_name())).unwrap();
            }
        }
        mains.push(file);
    }
    // The same session twice, in two projects.
    let twin = claude.join("projects").join("twin");
    std::fs::create_dir_all(&twin).unwrap();
    let short = shared().join("corpus/claude-code/marot__spotter/short.jsonl");
    std::fs::copy(&short, twin.join("short.jsonl")).unwrap();

    let claude_arg = claude.to_str().unwrap();
    let run = env.run(&[
        "--trace-dir",
        ".agent-traces",
        "import",
        "--all",
        "--claude-dir",
        claude_arg,
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let reports = run.json();
    let reports = reports.as_array().unwrap();
    let statuses: Vec<&str> = reports
        .iter()
        .filter(|r| r["file"].as_str().unwrap().ends_with("short.jsonl"))
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    let mut sorted = statuses.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["already_imported", "imported"], "{statuses:?}");
    // In the order --discover lists them (newest first), each main file before its subagents.
    let listed = env
        .run(&[
            "import",
            "--discover",
            "--claude-dir",
            claude_arg,
            "--format",
            "json",
        ])
        .success()
        .json();
    let order: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let reported: Vec<&str> = reports
        .iter()
        .map(|r| r["file"].as_str().unwrap())
        .filter(|f| !f.contains("/subagents/"))
        .collect();
    assert_eq!(reported, order);
    for file in mains {
        let session = reports
            .iter()
            .find(|r| {
                r["status"] == "imported"
                    && Path::new(r["file"].as_str().unwrap()).file_name() == file.file_name()
            })
            .unwrap_or_else(|| panic!("{} not imported", file.display()))["session_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let want = Expected {
            messages: 0,
            ..expected(&file)
        };
        assert_eq!(stored(&env, &session), want, "{}", file.display());
    }
}

/// `--discover` passed over every first message that began with `<`, so a prompt such as
/// `<div> is misaligned` was not the one it showed, while `list` showed it after the import.
/// It reads prompts as `list` does: a reminder is no one's, a prompt with a tag is.
#[test]
fn discover_shows_the_first_prompt_list_shows() {
    let env = TestEnv::new();
    let project = env.path().join("claude/projects/-home-me-app");
    std::fs::create_dir_all(&project).unwrap();
    let id = "7e57d15c-0000-4000-8000-000000000001";
    let user = |n: u32, text: &str| {
        serde_json::json!({
            "type": "user", "sessionId": id, "uuid": format!("u{n}"), "cwd": "/home/me/app",
            "timestamp": format!("2026-03-01T10:00:0{n}.000Z"),
            "message": {"role": "user", "content": [{"type": "text", "text": text}]}
        })
        .to_string()
    };
    let lines = [
        user(
            1,
            "<system-reminder>The file was changed.</system-reminder>",
        ),
        user(2, "<div> is misaligned in the header"),
        user(3, "and the footer too"),
    ];
    std::fs::write(project.join(format!("{id}.jsonl")), lines.join("\n")).unwrap();
    let claude = env.path().join("claude");
    let found = env
        .run(&[
            "import",
            "--discover",
            "--claude-dir",
            claude.to_str().unwrap(),
            "--format",
            "json",
        ])
        .success()
        .json();
    assert_eq!(
        found[0]["first_prompt"], "<div> is misaligned in the header",
        "{found}"
    );
    let file = project.join(format!("{id}.jsonl"));
    env.run(&["import", file.to_str().unwrap()]).success();
    let list = env.run(&["list", "--format", "json"]).json();
    assert_eq!(list[0]["first_prompt"], found[0]["first_prompt"], "{list}");
}

#[test]
fn discover_shows_a_table_whose_columns_line_up() {
    let env = TestEnv::new();
    let claude = env.path().join("claude");
    let corpus = shared().join("corpus/claude-code/marot__spotter");
    for (project, name) in [
        ("-home-me-app", "short.jsonl"),
        (
            "-home-me-a-project-with-a-much-longer-name",
            "tool_heavy.jsonl",
        ),
    ] {
        let dir = claude.join("projects").join(project);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(corpus.join(name), dir.join(name)).unwrap();
    }
    let run = env.run(&[
        "import",
        "--discover",
        "--claude-dir",
        claude.to_str().unwrap(),
        "--color",
        "never",
    ]);
    run.success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(lines[0].starts_with("STATUS "), "{}", run.stdout);
    // Where each column starts, in characters (a cut project starts with a one-column `…`).
    let at = |line: &str, text: &str| {
        let i = line.find(text).unwrap_or_else(|| panic!("{text}: {line}"));
        line[..i].chars().count()
    };
    let session = at(lines[0], "SESSION");
    let prompt = at(lines[0], "FIRST PROMPT");
    let ids = [
        "d6e0bada-1959-4eec-a9d2-0bfade768d8f",
        "55604662-cf2a-4331-851a-ec234028f8ca",
    ];
    for line in &lines[1..] {
        let id = ids.iter().find(|id| line.contains(*id)).unwrap();
        assert_eq!(at(line, id), session, "{}", run.stdout);
        assert_eq!(at(line, "\""), prompt, "{}", run.stdout);
        assert_eq!(
            at(line, "claude-code"),
            at(lines[0], "AGENT"),
            "{}",
            run.stdout
        );
    }
}

/// Claude Code writes on every transcript line the folder it was in (a Bash `cd` moves it), but
/// an import recorded no folder on a call, so `audit` judged every imported call from where the
/// session started: `Read ../secrets/key.txt` from `src` as a path outside the project, and
/// `Read secrets/notes.txt` from `src` as the denied `secrets/`. An imported call made in
/// another folder now records it (`cwd`), as a hook does, and audit judges it from there.
#[test]
fn an_imported_call_made_in_another_folder_is_judged_from_it() {
    let env = TestEnv::new();
    std::fs::write(
        env.path().join(".agent-scope.json"),
        r#"{"files": {"read": {"deny": ["secrets/**"]}}}"#,
    )
    .unwrap();
    let project = env.path().to_string_lossy().into_owned();
    let src = format!("{project}/src");
    let session = "6f1c2a3b-0000-4000-8000-00000000c0de";
    let line = |n: usize, cwd: &str, kind: &str, content: Value| {
        serde_json::json!({
            "type": kind, "uuid": format!("u{n}"), "sessionId": session, "cwd": cwd,
            "timestamp": format!("2026-01-21T15:30:{n:02}.000Z"),
            "message": {"role": kind, "id": format!("msg_{n}"), "content": content},
        })
        .to_string()
    };
    let call = |n: usize, cwd: &str, tool: &str, input: Value| {
        line(
            n,
            cwd,
            "assistant",
            serde_json::json!([{"type": "tool_use", "id": format!("toolu_{n}"), "name": tool, "input": input}]),
        )
    };
    let lines = [
        line(0, &project, "user", "read the notes".into()),
        call(
            1,
            &project,
            "Bash",
            serde_json::json!({"command": "cd src"}),
        ),
        call(
            2,
            &src,
            "Read",
            serde_json::json!({"file_path": "../secrets/key.txt"}),
        ),
        call(
            3,
            &src,
            "Read",
            serde_json::json!({"file_path": "secrets/notes.txt"}),
        ),
        call(
            4,
            &project,
            "Read",
            serde_json::json!({"file_path": "secrets/key.txt"}),
        ),
    ];
    let file = env.path().join(format!("{session}.jsonl"));
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    env.run(&["import", file.to_str().unwrap()]).success();

    let folders: Vec<Option<String>> = env
        .events(session)
        .iter()
        .filter(|e| e["event_type"] == "tool_call")
        .map(|e| e["data"]["cwd"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(folders, [None, Some(src.clone()), Some(src), None]);

    let policy = env.path().join(".agent-scope.json");
    let report = env
        .run(&[
            "audit",
            session,
            "--policy",
            policy.to_str().unwrap(),
            "--format",
            "json",
        ])
        .json();
    let what = |list: &str| -> Vec<String> {
        report[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["what"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        what("violations"),
        ["../secrets/key.txt", "secrets/key.txt"],
        "{report}"
    );
}

/// Claude Code 2.1.335 words an auto mode refusal "Permission for this action was denied by the
/// Claude Code auto mode classifier. Reason: …" (read in its binary), where older releases said
/// "… has been denied. Reason: …". A transcript carrying the newer words (the corpus's short
/// session, its first refused call refused by auto mode in them) is filed by explain and audit
/// under auto mode, with the classifier's reason and without Claude Code's advice after it (nor
/// the full stop Claude Code puts before that); the call the user refused stays the user's.
#[test]
fn an_imported_refusal_in_the_newer_auto_mode_words_is_auto_modes() {
    let env = TestEnv::new();
    let real = shared().join("corpus/claude-code/marot__spotter/short.jsonl");
    let real = std::fs::read_to_string(real).unwrap();
    let said = "Permission for this action was denied by the Claude Code auto mode classifier. \
                Reason: Starts a server that never exits. If you have other tasks that don't \
                depend on this action, continue working on those.";
    let mut lines: Vec<String> = Vec::new();
    let mut refused = false;
    for line in real.lines() {
        let Ok(mut entry) = serde_json::from_str::<Value>(line) else {
            lines.push(line.to_owned());
            continue;
        };
        // The first refusal, of `mix phx.server 2>&1 | head -80`, becomes auto mode's.
        if !refused && entry["toolUseResult"] == "User rejected tool use" {
            entry["version"] = json!("2.1.335");
            entry["message"]["content"][0]["content"] = json!(said);
            entry["toolUseResult"] = json!(format!("Error: {said}"));
            refused = true;
        }
        lines.push(entry.to_string());
    }
    assert!(refused, "the corpus file has a refusal");
    let file = env.path().join("auto-mode.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    env.run(&["import", file.to_str().unwrap()]).success();

    let explain = env.run(&["explain", "--color", "never"]);
    let text = &explain.success().stdout;
    let section = |title: &str| -> Vec<&str> {
        text.lines()
            .skip_while(|l| !l.starts_with(title))
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .collect()
    };
    let auto = section("Refused by auto mode's classifier (1):");
    assert_eq!(auto.len(), 1, "{text}");
    assert!(
        auto[0].contains("Bash mix phx.server 2>&1 | head -80")
            && auto[0].ends_with(" — Starts a server that never exits"),
        "{text}"
    );
    assert_eq!(section("Rejected by the user (1):").len(), 1, "{text}");
    let json = env.run(&["explain", "--format", "json"]).success().json();
    let by: Vec<&Value> = json["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["by"])
        .collect();
    assert_eq!(by, [&json!("auto_mode"), &json!("user")], "{json}");

    let audit = env.run(&["audit", "--color", "never"]);
    let text = &audit.success().stdout;
    let line = text
        .lines()
        .find(|l| l.contains("mix phx.server"))
        .unwrap_or_default();
    assert!(
        line.ends_with("(refused by auto mode: Starts a server that never exits; it never ran)"),
        "{text}"
    );
}

/// A transcript line whose `timestamp` is a number, not an ISO string, was dropped whole as
/// "not a transcript entry", its tool call with it: "1 tool call (0 failed, 2 rejected)". The
/// line is kept, at the time of the line before.
#[test]
fn a_line_whose_time_is_of_another_type_keeps_its_content() {
    let env = TestEnv::new();
    let raw =
        std::fs::read_to_string(shared().join("corpus/claude-code/marot__spotter/short.jsonl"))
            .unwrap();
    let mut lines: Vec<Value> = raw
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let calls = |lines: &[Value]| {
        lines
            .iter()
            .filter(|l| l["type"] == "assistant")
            .flat_map(|l| {
                l["message"]["content"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter(|b| b["type"] == "tool_use")
            .count()
    };
    let want = calls(&lines);
    let call = lines
        .iter()
        .position(|l| l["message"]["content"][0]["type"] == "tool_use")
        .unwrap();
    let before = lines[..call]
        .iter()
        .rev()
        .find_map(|l| l["timestamp"].as_str())
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .unwrap()
                .timestamp_micros() as f64
                / 1e6
        })
        .unwrap();
    lines[call]["timestamp"] = json!(1_770_757_919_186_u64);
    let file = env.path().join("short.jsonl");
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&file, text.join("\n") + "\n").unwrap();
    let run = env.run(&["import", "--format", "json", file.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    let report = &run.json()[0];
    assert_eq!(report["tool_calls"], want as u64, "{report:#}");
    assert_eq!(report["malformed"], json!([]), "{report:#}");
    let session = report["session_id"].as_str().unwrap();
    let first_call = env
        .events(session)
        .into_iter()
        .find(|e| e["event_type"] == "tool_call")
        .unwrap();
    assert_eq!(
        first_call["timestamp"].as_f64(),
        Some(before),
        "{first_call}"
    );
}

/// A log whose first lines have no time: a Claude Code transcript's session started at 0
/// (`list` and `show` said "Started 1970-01-01 00:00", `total_duration_ms` was 56 years), and
/// a Codex rollout's first events were stamped 1970 with a response that took 55 years. The
/// session starts at the first time a line gives, and no event is stamped before it.
#[test]
fn a_log_whose_first_lines_have_no_time_starts_at_its_first_time() {
    let corpus = shared().join("corpus");
    let time = |v: &Value| {
        v["timestamp"].as_str().map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .unwrap()
                .timestamp_micros() as f64
                / 1e6
        })
    };
    for (name, untimed) in [
        ("claude-code/marot__spotter/short.jsonl", usize::MAX),
        ("codex/Mai0313__VibeCodingTracker/codex-v0.39.0.jsonl", 12),
    ] {
        let raw = std::fs::read_to_string(corpus.join(name)).unwrap();
        let mut lines: Vec<Value> = raw
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // Claude Code: every line's time but the last few; Codex: the first twelve's.
        let keep_from = if untimed == usize::MAX {
            lines.len() - 4
        } else {
            untimed
        };
        for line in &mut lines[..keep_from] {
            line.as_object_mut().unwrap().remove("timestamp");
        }
        let first = lines.iter().find_map(time).unwrap();
        let env = TestEnv::new();
        let file = env.path().join("log.jsonl");
        let text: Vec<String> = lines.iter().map(Value::to_string).collect();
        std::fs::write(&file, text.join("\n") + "\n").unwrap();
        let run = env.run(&["import", "--format", "json", file.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{run:?}");
        let session = run.json()[0]["session_id"].as_str().unwrap().to_owned();
        let meta = env.meta(&session);
        assert_eq!(meta["started_at"].as_f64(), Some(first), "{name}: {meta:#}");
        let total = meta["total_duration_ms"].as_f64().unwrap_or(0.0);
        assert!(total < 86_400_000.0, "{name}: {meta:#}");
        for event in env.events(&session) {
            assert!(
                event["timestamp"].as_f64().unwrap() >= first,
                "{name}: {event}"
            );
            let took = event["duration_ms"].as_f64().unwrap_or(0.0);
            assert!(took < 86_400_000.0, "{name}: {event}");
        }
        let shown = env.run(&["show", &session]);
        assert!(!shown.stdout.contains("1970"), "{name}: {}", shown.stdout);
    }
}

/// A log in which no line gives a time: the session started at 1970-01-01 00:00 in `list`,
/// `show` and `replay`, and the Claude Code transcript's results each "took 0ms". It is placed
/// at the file's last change, the import says so, and no call or response has a duration.
#[test]
fn a_log_with_no_time_at_all_is_placed_at_its_last_change() {
    let corpus = shared().join("corpus");
    // 2026-02-03 04:05:06 UTC.
    let changed: u64 = 1_770_091_506;
    for name in [
        "claude-code/marot__spotter/4d5611e5-241a-462a-8d15-5122611a9569.jsonl",
        "codex/Mai0313__VibeCodingTracker/codex-v0.39.0.jsonl",
    ] {
        let raw = std::fs::read_to_string(corpus.join(name)).unwrap();
        let text: Vec<String> = raw
            .lines()
            .map(|l| {
                let mut line: Value = serde_json::from_str(l).unwrap();
                line.as_object_mut().unwrap().remove("timestamp");
                line.to_string()
            })
            .collect();
        let env = TestEnv::new();
        let file = env.path().join("log.jsonl");
        std::fs::write(&file, text.join("\n") + "\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(changed))
            .unwrap();
        let run = env.run(&["import", "--format", "json", file.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stderr.contains(
                "no line gives a time: the session is placed at the file's last change \
                 (2026-02-03 04:05:06 UTC)"
            ),
            "{name}: {}",
            run.stderr
        );
        let session = run.json()[0]["session_id"].as_str().unwrap().to_owned();
        let meta = env.meta(&session);
        assert_eq!(
            meta["started_at"].as_f64(),
            Some(changed as f64),
            "{name}: {meta:#}"
        );
        let events = env.events(&session);
        assert!(
            events.iter().any(|e| e["event_type"] == "tool_result"),
            "{name}"
        );
        for event in &events {
            assert_eq!(
                event["timestamp"].as_f64(),
                Some(changed as f64),
                "{name}: {event}"
            );
            assert!(
                event.get("duration_ms").is_none_or(Value::is_null),
                "{name}: {event}"
            );
        }
        let listed = env.run(&["list"]);
        assert!(
            listed.stdout.contains("2026-02-03"),
            "{name}: {}",
            listed.stdout
        );
        let replayed = env.run(&["replay", &session]);
        assert!(
            !replayed.stdout.contains("1970"),
            "{name}: {}",
            replayed.stdout
        );
        assert!(
            !replayed.stdout.contains("(0ms)"),
            "{name}: {}",
            replayed.stdout
        );
    }
}

/// A Claude Code transcript whose lines give no time, or only the first line's, lasted 0.00s
/// (every event placed at its start) where an older Codex rollout of no time but its start
/// lasts no known time. It is marked as giving no time but the start (`attribution.times`),
/// and every view says its duration is unknown (`?`, null in JSON); one read on whose new
/// lines give times is no longer, and lasts as the same transcript imported at once does.
#[test]
fn a_claude_transcript_of_no_time_but_its_start_lasts_no_known_time() {
    let corpus = shared().join("corpus/claude-code/marot__spotter/short.jsonl");
    let lines: Vec<Value> = (std::fs::read_to_string(corpus).unwrap().lines())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let first_timed = lines.iter().position(|l| l.get("timestamp").is_some());
    // The transcript with the times of the lines `kept` names only.
    let times_kept = |kept: &dyn Fn(usize) -> bool| {
        let mut lines = lines.clone();
        for (n, line) in lines.iter_mut().enumerate() {
            if !kept(n) {
                line.as_object_mut().unwrap().remove("timestamp");
            }
        }
        lines
    };
    let write = |file: &Path, lines: &[Value]| {
        let text: Vec<String> = lines.iter().map(Value::to_string).collect();
        std::fs::write(file, text.join("\n") + "\n").unwrap();
    };
    let ran = |env: &TestEnv, args: &[&str]| {
        let run = env.run(args);
        run.success();
        run
    };
    // What the views say of the session's duration, and its mark.
    let duration = |env: &TestEnv, session: &str| {
        let meta = env.meta(session);
        let list = ran(env, &["list", "--format", "json"]).json();
        let stats = ran(env, &["stats", session, "--format", "json"]).json();
        let explain = ran(env, &["explain", session, "--format", "json"]).json();
        assert_eq!(list[0]["duration_s"], stats["duration_s"], "{list:#}");
        assert_eq!(explain["duration_s"], stats["duration_s"], "{explain:#}");
        (
            meta["attribution"]["times"].clone(),
            stats["duration_s"].clone(),
        )
    };
    let start_only = (json!("start only"), Value::Null);
    for (what, lines) in [
        ("no time", times_kept(&|_| false)),
        (
            "the first line's time",
            times_kept(&|n| Some(n) == first_timed),
        ),
    ] {
        let env = TestEnv::new();
        let file = env.path().join("log.jsonl");
        write(&file, &lines);
        let run = env.run(&["import", "--format", "json", file.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{what}: {run:?}");
        let session = run.json()[0]["session_id"].as_str().unwrap().to_owned();
        assert_eq!(duration(&env, &session), start_only, "{what}");
        let stats = ran(&env, &["stats", &session]).stdout;
        assert!(stats.contains("Duration: ?"), "{what}: {stats}");
        let list = ran(&env, &["list"]).stdout;
        assert!(!list.contains("0.00s"), "{what}: {list}");
    }

    // Read on: the first lines give the first time only, the lines written since their own.
    let env = TestEnv::new();
    let file = env.path().join("log.jsonl");
    let grown = times_kept(&|n| Some(n) == first_timed || n >= 6);
    write(&file, &grown[..6]);
    let run = env.run(&["import", "--format", "json", file.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    let session = run.json()[0]["session_id"].as_str().unwrap().to_owned();
    assert_eq!(duration(&env, &session), start_only);
    write(&file, &grown);
    let run = env.run(&["import", "--format", "json", file.to_str().unwrap()]);
    assert_eq!(run.json()[0]["status"], "grown", "{run:?}");
    // As long as the same transcript imported at once lasts.
    let whole = TestEnv::new();
    let file = whole.path().join("log.jsonl");
    write(&file, &grown);
    ran(&whole, &["import", file.to_str().unwrap()]);
    let (_, seconds) = duration(&whole, &session);
    assert!(seconds.as_f64().is_some_and(|s| s > 0.0), "{seconds}");
    assert_eq!(duration(&env, &session), (Value::Null, seconds));
}

/// `--trace-dir` naming a file printed one error per file imported, in words that said the
/// opposite of themselves ("/etc/passwd is a file, not a plain file or folder of the store").
/// One line says the store is not a folder, and nothing is imported.
#[test]
fn a_store_that_is_a_file_is_said_once() {
    let env = TestEnv::new();
    let not_a_folder = env.path().join("passwd");
    std::fs::write(&not_a_folder, "root:x:0:0::/root:/bin/sh\n").unwrap();
    let short = shared().join("corpus/claude-code/marot__spotter/short.jsonl");
    let codex = shared().join("corpus/codex/Mai0313__VibeCodingTracker/codex-v0.39.0.jsonl");
    let run = env.run(&[
        "--trace-dir",
        not_a_folder.to_str().unwrap(),
        "import",
        short.to_str().unwrap(),
        codex.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run.stderr.contains("is not a folder"), "{run:?}");
    assert!(!run.stderr.contains("not a plain file"), "{run:?}");
    assert_eq!(
        std::fs::read_to_string(&not_a_folder).unwrap(),
        "root:x:0:0::/root:/bin/sh\n"
    );
}

/// A transcript whose session id is only blanks is imported under its file's name: as ` ` it
/// was a session no command could name (each refuses a blank id as empty).
#[test]
fn a_blank_session_id_is_imported_under_the_files_name() {
    let env = TestEnv::new();
    let lines = [
        json!({"parentUuid": null, "type": "user", "sessionId": " ", "uuid": "u0",
            "timestamp": "2026-01-01T00:00:00Z", "cwd": "/tmp",
            "message": {"role": "user", "content": "hi"}}),
        json!({"parentUuid": "u0", "type": "assistant", "sessionId": " ", "uuid": "u1",
            "timestamp": "2026-01-01T00:00:01Z", "requestId": "r1",
            "message": {"model": "claude-opus-4-6", "id": "m1", "role": "assistant",
                "content": [{"type": "text", "text": "ok"}],
                "usage": {"input_tokens": 10, "output_tokens": 20}}}),
    ];
    let file = env.path().join("blank-named.jsonl");
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&file, text.join("\n") + "\n").unwrap();
    env.run(&["import", file.to_str().unwrap()]).success();
    assert!(env.store().join("blank-named/events.ndjson").is_file());
    assert!(!env.store().join(" ").exists());
    let replay = env.run(&["replay", "blank-named"]);
    assert!(replay.success().stdout.contains("hi"), "{replay:?}");
}

/// A Claude Code transcript's line: the user's prompt `text` in session `session`.
fn user_entry(session: &str, uuid: &str, text: &str) -> String {
    json!({"parentUuid": null, "type": "user", "sessionId": session, "uuid": uuid,
        "timestamp": "2026-01-01T00:00:00Z", "cwd": "/tmp",
        "message": {"role": "user", "content": text}})
    .to_string()
}

/// A line past 64 MiB (a runaway or corrupt file) is read to its end without being held, and
/// skipped as malformed, in a transcript and in an agent's log alike: it was read whole, at
/// twice its size in memory, and a 1.5 GB line took the import down.
#[test]
fn a_line_past_64_mib_is_skipped_not_held() {
    let env = TestEnv::new();
    let entry = |uuid: &str, text: &str| user_entry("long-line", uuid, text);
    let huge = entry("u1", &"x".repeat(65 * 1024 * 1024));
    let text = [entry("u0", "before"), huge, entry("u2", "after")].join("\n") + "\n";
    let file = env.path().join("long-line.jsonl");
    std::fs::write(&file, text).unwrap();
    let run = env.run(&["import", "--format", "json", file.to_str().unwrap()]);
    let report: Value = serde_json::from_str(&run.success().stdout).unwrap();
    let said = report.to_string();
    assert!(
        said.contains("it is longer than 64 MiB, which no entry is"),
        "{said}"
    );
    let events = std::fs::read_to_string(env.store().join("long-line/events.ndjson")).unwrap();
    assert!(events.contains("\"before\"") && events.contains("\"after\""));
    assert!(events.len() < 1024 * 1024, "the long line is not kept");

    // A Gemini CLI chat, read by the agents' logs' reader.
    let lines = [
        json!({"sessionId": "gem-long-line", "projectHash": "ab",
            "startTime": "2026-04-23T12:52:52.759Z", "lastUpdated": "2026-04-23T12:52:52.759Z",
            "kind": "main"}),
        json!({"id": "m0", "timestamp": "2026-04-23T12:53:02.597Z", "type": "user",
            "content": "x".repeat(65 * 1024 * 1024)}),
        json!({"id": "m1", "timestamp": "2026-04-23T12:53:03.597Z", "type": "user",
            "content": "after"}),
    ];
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    let file = env.path().join("session-long-line.jsonl");
    std::fs::write(&file, text.join("\n") + "\n").unwrap();
    let run = env.run(&["import", "--format", "json", file.to_str().unwrap()]);
    let said = run.success().stdout.clone();
    assert!(
        said.contains("it is longer than 64 MiB, which no entry is"),
        "{said}"
    );
    let events = std::fs::read_to_string(env.store().join("gem-long-line/events.ndjson")).unwrap();
    assert!(events.contains("\"after\"") && events.len() < 1024 * 1024);
}

/// A transcript whose last line read is past 64 MiB is hashed in pieces, when it is read and
/// when a later import checks it is still there: the hash read the line whole, and an import
/// of a 120 MiB line held 180 MiB.
#[test]
fn a_last_line_past_64_mib_is_hashed_without_being_held() {
    let env = TestEnv::new();
    let entry = |uuid: &str, text: &str| user_entry("long-last", uuid, text);
    let huge = entry("u1", &"x".repeat(120 * 1024 * 1024));
    let file = env.path().join("long-last.jsonl");
    std::fs::write(&file, format!("{}\n{huge}\n", entry("u0", "before"))).unwrap();
    drop(huge);
    let import = env.command(&["import", "--format", "json", file.to_str().unwrap()]);
    let (run, first_peak) = run_for_peak_memory_kib(&import);
    let report: Value = serde_json::from_str(&run.success().stdout).unwrap();
    assert_eq!(report[0]["lines"], json!(2), "{report}");
    // The line read up to 64 MiB to learn it is too long, and less than as much again.
    assert!(
        first_peak < 110 * 1024,
        "the first import held {first_peak} KiB"
    );

    let (run, again_peak) = run_for_peak_memory_kib(&import);
    let report: Value = serde_json::from_str(&run.success().stdout).unwrap();
    assert_eq!(report[0]["status"], json!("already_imported"), "{report}");
    assert!(again_peak < 32 * 1024, "the check held {again_peak} KiB");
}

/// A transcript whose last line is past 64 MiB and has no newline yet (Claude Code still
/// writing it) is left there for the next import, which reads it to its end: it was taken as
/// read, and the next import read its tail as a line of its own.
#[test]
fn an_unfinished_line_past_64_mib_is_left_for_the_next_import() {
    let env = TestEnv::new();
    let entry = |uuid: &str, text: &str| user_entry("long-open", uuid, text);
    let huge = entry("u1", &"x".repeat(65 * 1024 * 1024));
    let (head, tail) = huge.split_at(huge.len() - 100);
    let file = env.path().join("long-open.jsonl");
    std::fs::write(&file, format!("{}\n{head}", entry("u0", "before"))).unwrap();
    let run = env.run(&["import", "--format", "json", file.to_str().unwrap()]);
    let first: Value = serde_json::from_str(&run.success().stdout).unwrap();
    assert_eq!(first[0]["lines"], json!(1), "{first}");
    // Written to its end, and a line after it.
    let mut more = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap();
    std::io::Write::write_all(
        &mut more,
        format!("{tail}\n{}\n", entry("u2", "after")).as_bytes(),
    )
    .unwrap();
    let run = env.run(&["import", "--format", "json", file.to_str().unwrap()]);
    let second = run.success().stdout.clone();
    let second: Value = serde_json::from_str(&second).unwrap();
    let malformed = &second[0]["malformed"];
    assert_eq!(malformed.as_array().map(Vec::len), Some(1), "{second}");
    assert_eq!(malformed[0]["line"], json!(2), "{second}");
    assert!(
        malformed[0]["message"]
            .as_str()
            .unwrap()
            .contains("longer than 64 MiB"),
        "{second}"
    );
    let events = std::fs::read_to_string(env.store().join("long-open/events.ndjson")).unwrap();
    assert!(events.contains("\"before\"") && events.contains("\"after\""));
}

/// A resumed session's transcript (`b162….jsonl`) begins with a copy of the session it resumed,
/// each line with that session's id (`e9f1…`), as the corpus' Claude Code 1.0.95 file does. The
/// import named the file by its first line, so both files were one session: the second file
/// read was "already imported", and which one's lines the store kept (and what it cost) hung on
/// the order, which `import --all` leaves to its threads. Each file is its own session now, and
/// the history is counted once: in its own file when that lies beside the resumed one, else in
/// the resumed one, the copy being all that is left of it.
#[test]
fn a_resumed_sessions_transcript_is_its_own_session_and_its_history_counted_once() {
    let original = "e9f146fa-3b20-48d0-9be4-d99ca901cae4";
    let resumed = "b162b1ae-97bc-475f-9b5f-ffbf55ca5b3f";
    let log =
        shared().join("corpus/claude-code/Mai0313__VibeCodingTracker/claude_code-v1.0.95.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    // The first 48 lines are the original session's, the rest the resumed one's.
    let original_text: String = text.split_inclusive('\n').take(48).collect();
    assert!(original_text.lines().all(|l| l.contains(original)));
    assert!(
        !text
            .split_inclusive('\n')
            .nth(48)
            .unwrap()
            .contains(original)
    );

    let cost = |env: &TestEnv, session: &str| {
        let listed = env
            .run(&["list", "--all", "--format", "json"])
            .success()
            .json();
        let found = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["session_id"] == session);
        found.map(|s| (s["cost_usd"].as_f64().unwrap() * 1e6).round() / 1e6)
    };
    let lay_out = |env: &TestEnv, with_original: bool| {
        let folder = env.path().join("claude/projects/-x");
        std::fs::create_dir_all(&folder).unwrap();
        if with_original {
            std::fs::write(folder.join(format!("{original}.jsonl")), &original_text).unwrap();
        }
        std::fs::write(folder.join(format!("{resumed}.jsonl")), &text).unwrap();
        folder
    };

    // The whole file alone, as one session: what both sessions cost together.
    let whole = TestEnv::new();
    let folder = lay_out(&whole, false);
    let report = whole
        .run(&[
            "import",
            "--format",
            "json",
            folder.join(format!("{resumed}.jsonl")).to_str().unwrap(),
        ])
        .success()
        .json();
    assert_eq!(report[0]["session_id"], resumed, "{report}");
    let total = cost(&whole, resumed).unwrap();
    assert!(total > 0.5, "{total}");

    // Both files, in either order, and with --all (several times: its threads take the files
    // in no set order).
    let mut runs: Vec<(String, Vec<&str>)> = Vec::new();
    for order in [[original, resumed], [resumed, original]] {
        runs.push(("files".to_owned(), order.to_vec()));
    }
    runs.push(("all".to_owned(), Vec::new()));
    runs.push(("all".to_owned(), Vec::new()));
    let mut figures = Vec::new();
    for (how, order) in runs {
        let env = TestEnv::new();
        let folder = lay_out(&env, true);
        if how == "all" {
            let claude = env.path().join("claude");
            env.run(&[
                "--trace-dir",
                ".agent-traces",
                "import",
                "--all",
                "--claude-dir",
                claude.to_str().unwrap(),
            ])
            .success();
        } else {
            for session in order {
                let file = folder.join(format!("{session}.jsonl"));
                env.run(&["import", file.to_str().unwrap()]).success();
            }
        }
        let (first, second) = (cost(&env, original).unwrap(), cost(&env, resumed).unwrap());
        assert!(
            (first + second - total).abs() < 1e-6,
            "{how}: {first} + {second} != {total}"
        );
        // The resumed session starts with its own first line, after the history.
        let started = |s: &str| env.meta(s)["started_at"].as_f64().unwrap();
        assert!(started(resumed) > started(original) + 60.0, "{how}");
        figures.push((first, second));
    }
    assert!(figures.windows(2).all(|w| w[0] == w[1]), "{figures:?}");
}

/// A transcript's usage with a count no float holds (`1e999`) read as no usage at all: the
/// response cost $0, exactly, and `cost` said no usage was recorded. A split of the cache
/// writes holding more than their total (two million kept an hour of one million written)
/// was priced at the hour's rate beyond the writes there were: $20 for what can cost $10 at
/// most. Each is a usage no response can have now: unknown, left out, and said so.
#[test]
fn a_usage_no_response_can_have_is_unknown_not_none_or_priced() {
    let env = TestEnv::new();
    let session = "cc000004-0000-0000-0000-000000000000";
    let prompt = json!({"type": "user", "sessionId": session, "uuid": "u1",
        "timestamp": "2026-11-01T10:00:00Z", "cwd": "/tmp",
        "message": {"role": "user", "content": "hello"}});
    let answer = |n: u32, usage: &str| {
        format!(
            r#"{{"type":"assistant","sessionId":"{session}","uuid":"a{n}","parentUuid":"u1","timestamp":"2026-11-01T10:00:0{n}Z","requestId":"req_{n}","message":{{"model":"claude-opus-4-6","id":"msg_{n}","role":"assistant","content":[{{"type":"text","text":"hi"}}],"usage":{usage}}}}}"#
        )
    };
    let lines = [
        prompt.to_string(),
        answer(
            1,
            r#"{"input_tokens":1e999,"output_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}"#,
        ),
        answer(
            2,
            r#"{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":1000000,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":-1000000,"ephemeral_1h_input_tokens":2000000}}"#,
        ),
        answer(
            3,
            r#"{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":1000000,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_1h_input_tokens":5000000}}"#,
        ),
        answer(
            4,
            r#"{"input_tokens":100,"output_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}"#,
        ),
    ];
    let transcript = env.path().join(format!("{session}.jsonl"));
    std::fs::write(&transcript, lines.join("\n") + "\n").unwrap();
    let report = env
        .run(&["import", "--format", "json", transcript.to_str().unwrap()])
        .success()
        .json();
    assert_eq!(report[0]["unbelieved_usage"], 3, "{report}");
    assert_eq!(report[0]["tokens"]["input"], 100, "{report}");
    let cost = env
        .run(&["cost", session, "--format", "json"])
        .success()
        .json();
    assert_eq!(cost["unbelieved_usage"], 3, "{cost}");
    assert_eq!(cost["estimated"], false, "{cost}");
    assert_eq!(cost["tokens"]["cache_creation"], 0, "{cost}");
    // Opus 4.6: $5 a million in, $25 out.
    let usd = cost["total_usd"]
        .as_f64()
        .or_else(|| cost["cost_usd"].as_f64());
    assert_eq!(usd.map(|d| (d * 1e6).round()), Some(750.0), "{cost}");
}

/// Imports of one grown transcript run at once each said "grown: N new lines, M events…",
/// though one only was kept (each swapped its session in, the last one staying). The first to
/// finish is kept; the others find the session taken and say the file is imported already.
#[test]
fn imports_of_a_grown_transcript_run_at_once_say_grown_once() {
    let env = TestEnv::new();
    let whole = shared()
        .join("corpus/claude-code/marot__spotter/4d5611e5-241a-462a-8d15-5122611a9569.jsonl");
    let text = std::fs::read_to_string(&whole).unwrap();
    let file = env
        .path()
        .join("4d5611e5-241a-462a-8d15-5122611a9569.jsonl");
    let head: String = text.lines().take(300).flat_map(|l| [l, "\n"]).collect();
    std::fs::write(&file, head).unwrap();
    let path = file.to_string_lossy().into_owned();
    env.run(&["import", &path]).success();
    std::fs::write(&file, &text).unwrap();
    let statuses = env.statuses_of_imports_at_once(&path, 4);
    assert_eq!(
        statuses,
        [
            "already_imported",
            "already_imported",
            "already_imported",
            "grown"
        ]
    );
}

/// A Stop hook that blocked Claude Code's stop (the transcript's `isMeta` entry "Stop hook
/// feedback: …" between two answers) left no trace in the import: `replay` and `inspect`
/// showed the second answer as if the agent went on unprompted. It is a decision the Python
/// tool reads (`choice`, `reason`), its words redacted as any text is.
#[test]
fn a_stop_hook_that_sent_the_agent_back_to_work_is_kept() {
    let env = TestEnv::new();
    let session = "6f1c2a3b-0000-4000-8000-00000000570b";
    let secret = "ghp_a1B2c3D4e5F6a1B2c3D4e5F6a1B2c3D4e5F6";
    let line = |n: usize, kind: &str, content: Value, meta: bool| {
        json!({
            "type": kind, "uuid": format!("u{n}"), "sessionId": session, "cwd": "/tmp",
            "timestamp": format!("2026-01-21T15:30:{n:02}.000Z"), "isMeta": meta,
            "message": {"role": kind, "id": format!("msg_{n}"), "content": content},
        })
        .to_string()
    };
    let answer = |n: usize, text: &str| {
        line(
            n,
            "assistant",
            json!([{"type": "text", "text": text}]),
            false,
        )
    };
    let feedback =
        format!("Stop hook feedback:\n[stop.sh]: the tests were not run (token {secret})");
    let lines = [
        line(0, "user", "fix the bug".into(), false),
        answer(1, "Fixed."),
        line(2, "user", feedback.into(), true),
        answer(3, "Ran the tests: they pass."),
    ];
    let file = env.path().join(format!("{session}.jsonl"));
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    env.run(&["import", "--redact", file.to_str().unwrap()])
        .success();

    let replay = env
        .run(&["replay", session, "--color", "never"])
        .success()
        .stdout
        .clone();
    let blocked = replay.find("stop blocked by a hook").expect(&replay);
    let (before, after) = (
        replay.find("Fixed.").unwrap(),
        replay.find("Ran the tests").unwrap(),
    );
    assert!(before < blocked && blocked < after, "{replay}");
    assert!(
        replay.contains("[stop.sh]: the tests were not run"),
        "{replay}"
    );
    let inspect = env.run(&["inspect", session]).success().stdout.clone();
    assert!(inspect.contains("stop blocked by a hook"), "{inspect}");
    let stored = serde_json::to_string(&env.events(session)).unwrap();
    assert!(!stored.contains(secret), "{stored}");
    assert!(stored.contains("[REDACTED]"), "{stored}");
    // Not a prompt: the session still has one.
    let prompts = env
        .events(session)
        .iter()
        .filter(|e| e["event_type"] == "user_prompt")
        .count();
    assert_eq!(prompts, 1);
}

/// A line whose tool input nests past serde_json's 128 levels (a model's arguments, 300 deep)
/// imports as the same line 100 levels deep does, to the depth `hook` reads it (adr/0006): the
/// line's parts are read as they are needed, each by the reader of JSON from outside.
#[test]
fn a_tool_input_nested_hundreds_deep_imports_as_a_shallow_one_does() {
    let raw =
        std::fs::read_to_string(shared().join("corpus/claude-code/marot__spotter/short.jsonl"))
            .unwrap();
    let first_call = assert_deep_imports_as_shallow(
        "short.jsonl",
        &raw,
        &|lines, levels| {
            let call = lines
                .iter()
                .position(|l| l["message"]["content"][0]["type"] == "tool_use")
                .unwrap();
            lines[call]["message"]["content"][0]["input"]["deep"] = nested(levels);
        },
        &|events| {
            events
                .iter()
                .find(|e| e["event_type"] == "tool_call")
                .map(|e| e["data"]["arguments"]["command"].clone())
        },
    );
    assert!(
        first_call.as_ref().is_some_and(Value::is_string),
        "{first_call:?}"
    );
}
