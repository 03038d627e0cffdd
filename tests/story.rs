//! Issue 10, "Import follows the transcript" (compaction, thinking, titles, prompts as a person
//! wrote them) and "Replay that reads like a story", on real transcripts of the corpus: every
//! expectation is computed here from the raw transcript or from another command's output.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Run, TestEnv, shared};

fn corpus(path: &str) -> PathBuf {
    shared().join("corpus").join("claude-code").join(path)
}

/// The JSON lines of a transcript (comment lines some authors added are passed over).
fn transcript(path: &Path) -> Vec<Value> {
    String::from_utf8_lossy(&std::fs::read(path).unwrap())
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// A store holding one imported transcript (its subagents too); the main session's id.
fn imported(path: &str) -> (TestEnv, String) {
    let env = TestEnv::new();
    let file = corpus(path);
    env.run(&["import", file.to_str().unwrap()]).success();
    let listed = env.run(&["list", "--format", "json"]).success().json();
    let id = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["parent_session_id"].is_null())
        .expect("a main session")["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    (env, id)
}

fn inspect(env: &TestEnv, id: &str) -> Value {
    env.run(&["inspect", id]).success().json()
}

fn events_of<'a>(inspected: &'a Value, kind: &str) -> Vec<&'a Value> {
    inspected["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == kind)
        .collect()
}

fn decisions_of<'a>(inspected: &'a Value, kind: &str) -> Vec<&'a Value> {
    events_of(inspected, "decision")
        .into_iter()
        .filter(|e| e["data"]["kind"] == kind)
        .collect()
}

/// The text of a message's content: a string, or its text blocks joined by newlines.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b["type"] == "text")
            .filter_map(|b| b["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// One event line of `replay`'s text: its number, its offset in seconds, the rest of the
/// line and the detail line under it.
#[derive(Debug)]
struct Shown {
    number: usize,
    offset: f64,
    head: String,
    detail: Option<String>,
}

fn story(out: &str) -> Vec<Shown> {
    let lines: Vec<&str> = out.lines().collect();
    let mut shown = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.strip_prefix('#') else {
            continue;
        };
        let (number, rest) = rest.split_once(' ').unwrap();
        let rest = rest.trim_start().strip_prefix('+').unwrap().trim_start();
        let (offset, head) = rest.split_once(' ').unwrap();
        let detail = lines
            .get(i + 1)
            .filter(|l| l.starts_with("             "))
            .map(|l| l.trim().to_owned());
        shown.push(Shown {
            number: number.parse().unwrap(),
            offset: seconds(offset),
            head: head.to_owned(),
            detail,
        });
    }
    shown
}

/// `0.07s`, `1m43.67s`, `2h05m03s` in seconds.
fn seconds(text: &str) -> f64 {
    let text = text.strip_suffix('s').unwrap();
    let (hours, rest) = text.split_once('h').unwrap_or(("0", text));
    let (minutes, secs) = rest.split_once('m').unwrap_or(("0", rest));
    hours.parse::<f64>().unwrap() * 3600.0
        + minutes.parse::<f64>().unwrap() * 60.0
        + secs.parse::<f64>().unwrap()
}

const COMPACTED: [&str; 3] = [
    "marot__spotter/258c7280-ae70-4798-800f-63464d01a85d.jsonl",
    "marot__spotter/4d5611e5-241a-462a-8d15-5122611a9569.jsonl",
    "marot__spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl",
];

#[test]
fn a_compaction_is_one_event_with_its_summary_never_a_prompt() {
    for path in COMPACTED {
        let lines = transcript(&corpus(path));
        let boundaries: Vec<&Value> = lines
            .iter()
            .filter(|l| l["subtype"] == "compact_boundary" && l["isSidechain"] != true)
            .collect();
        let summaries: Vec<String> = lines
            .iter()
            .filter(|l| l["isCompactSummary"] == true)
            .map(|l| text_of(&l["message"]["content"]))
            .collect();
        assert!(!boundaries.is_empty() && !summaries.is_empty(), "{path}");

        let (env, id) = imported(path);
        let inspected = inspect(&env, &id);
        let compactions = decisions_of(&inspected, "compaction");
        assert_eq!(compactions.len(), boundaries.len(), "{path}");
        for (event, boundary) in compactions.iter().zip(&boundaries) {
            let metadata = &boundary["compactMetadata"];
            assert_eq!(event["data"]["trigger"], metadata["trigger"], "{path}");
            assert_eq!(event["data"]["pre_tokens"], metadata["preTokens"], "{path}");
        }
        assert_eq!(compactions[0]["data"]["summary"], summaries[0].as_str());
        assert!(
            events_of(&inspected, "user_prompt")
                .iter()
                .all(|p| p["data"]["prompt"] != summaries[0].as_str()),
            "{path}: the summary is no prompt"
        );

        let replay = env.run(&["replay", &id]).success().stdout.clone();
        let shown = story(&replay);
        let details: Vec<Option<String>> = shown
            .iter()
            .filter(|s| s.head.starts_with("⧉ compaction"))
            .map(|s| s.detail.clone())
            .collect();
        // Each says how it was triggered and how much context it summarised, in the
        // transcript's figures with their thousands separated.
        let said: Vec<Option<String>> = boundaries
            .iter()
            .map(|b| {
                let m = &b["compactMetadata"];
                Some(format!(
                    "{} · {} tokens of context summarised",
                    m["trigger"].as_str().unwrap(),
                    crate::common::separated(m["preTokens"].as_u64().unwrap())
                ))
            })
            .collect();
        assert_eq!(details, said, "{path}");
        assert!(
            !replay.contains("\"This session is being continued"),
            "{path}: the summary is not quoted as a prompt"
        );
        let explained = env
            .run(&["explain", &id, "--format", "json"])
            .success()
            .json();
        for phase in explained["phases"].as_array().unwrap() {
            let label = phase["label"].as_str().unwrap();
            assert!(
                !label.starts_with("This session is being continued"),
                "{label}"
            );
        }
    }
}

#[test]
fn thinking_is_kept_as_its_own_event_and_shown_only_when_asked_for() {
    let path = "marot__spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl";
    let expected: Vec<String> = transcript(&corpus(path))
        .iter()
        .filter(|l| l["type"] == "assistant")
        .flat_map(|l| {
            l["message"]["content"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|b| b["type"] == "thinking")
        .filter_map(|b| b["thinking"].as_str().map(str::to_owned))
        .filter(|t| !t.trim().is_empty())
        .collect();
    assert!(!expected.is_empty());
    let (env, id) = imported(path);
    let inspected = inspect(&env, &id);
    let kept: Vec<&str> = decisions_of(&inspected, "thinking")
        .iter()
        .map(|e| e["data"]["reasoning"].as_str().unwrap())
        .collect();
    assert_eq!(kept, expected);

    let plain = env.run(&["replay", &id]).success().stdout.clone();
    assert!(!story(&plain).iter().any(|s| s.head.contains("thinking")));
    let asked = env
        .run(&["replay", &id, "--thinking"])
        .success()
        .stdout
        .clone();
    let thoughts = story(&asked)
        .into_iter()
        .filter(|s| s.head == "💭 thinking")
        .count();
    assert_eq!(thoughts, expected.len());
}

#[test]
fn the_transcripts_own_title_is_kept_and_shown() {
    let path = "moredip__session-share/0ccf1a04-1b4c-43b6-8aa5-79e41db43a68.jsonl";
    let title = transcript(&corpus(path))
        .iter()
        .filter(|l| l["type"] == "summary")
        .filter_map(|l| l["summary"].as_str().map(str::to_owned))
        .next_back()
        .expect("a summary line");
    let (env, id) = imported(path);
    assert_eq!(inspect(&env, &id)["meta"]["attribution"]["title"], title);
    let listed = env.run(&["list", "--format", "json"]).success().json();
    let session = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == id.as_str())
        .unwrap();
    assert_eq!(session["title"], title.as_str());
    let list = env.run(&["list"]).success().stdout.clone();
    let row = list.lines().find(|l| l.starts_with(&id)).unwrap();
    assert!(row.ends_with(&title), "{row}");
    let replay = env.run(&["replay", &id]).success().stdout.clone();
    assert!(replay.contains(&format!("Title: {title}\n")), "{replay}");
}

#[test]
fn prompts_are_shown_as_a_person_wrote_them() {
    // A slash command, its output and interruptions, in replay.
    let (env, id) = imported("marot__spotter/tool_heavy.jsonl");
    let replay = env.run(&["replay", &id]).success().stdout.clone();
    let shown = story(&replay);
    let lines = transcript(&corpus("marot__spotter/tool_heavy.jsonl"));
    let command = lines
        .iter()
        .map(|l| text_of(&l["message"]["content"]))
        .find_map(|t| {
            let name = t
                .split("<command-name>")
                .nth(1)?
                .split("</command-name>")
                .next()?;
            Some(name.to_owned())
        })
        .expect("a slash command");
    assert!(
        shown
            .iter()
            .any(|s| s.head == "👤 user_prompt" && s.detail.as_deref() == Some(command.as_str())),
        "{replay}"
    );
    let interruptions = lines
        .iter()
        .filter(|l| text_of(&l["message"]["content"]).starts_with("[Request interrupted"))
        .count();
    assert_eq!(
        shown
            .iter()
            .filter(|s| s.head == "✋ interrupted by the user")
            .count(),
        interruptions
    );
    for markup in [
        "<command-name>",
        "<local-command-stdout>",
        "[Request interrupted",
    ] {
        assert!(!replay.contains(markup), "{markup} in:\n{replay}");
    }

    // A slash command with arguments names the phase it starts; IDE context does not.
    for path in [
        "marot__spotter/subagent.jsonl",
        "moredip__session-share/general-tool-calls.jsonl",
    ] {
        let lines = transcript(&corpus(path));
        // The first words a person typed: a command with its arguments, or the text that
        // follows the IDE's note.
        let first = lines
            .iter()
            .filter(|l| l["type"] == "user" && l["isMeta"] != true)
            .find_map(|l| {
                let text = text_of(&l["message"]["content"]);
                if let Some(args) = text.split("<command-args>").nth(1) {
                    let name = text.split("<command-name>").nth(1)?.split('<').next()?;
                    let args = args.split("</command-args>").next()?.trim();
                    return Some(format!("{name} {args}"));
                }
                let typed = text.rsplit("</ide_opened_file>").next()?.trim().to_owned();
                (!typed.is_empty() && !typed.starts_with('<')).then_some(typed)
            })
            .expect("a typed prompt");
        let (env, id) = imported(path);
        let explained = env
            .run(&["explain", &id, "--format", "json"])
            .success()
            .json();
        let labels: Vec<&str> = explained["phases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["label"].as_str().unwrap())
            .collect();
        let start: String = first.split_whitespace().collect::<Vec<_>>().join(" ");
        let start: String = start.chars().take(40).collect();
        assert!(
            labels[0].starts_with(&start),
            "{path}: {start:?} should name the first phase: {labels:?}"
        );
        for label in &labels {
            assert!(
                !label.starts_with('<') && !label.starts_with("[Request interrupted"),
                "{path}: {label}"
            );
        }
        let listed = env.run(&["list", "--format", "json"]).success().json();
        let prompt = listed[0]["first_prompt"].as_str().unwrap();
        assert!(
            prompt
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .starts_with(&start),
            "{path}: {prompt}"
        );
    }

    // What the IDE adds in front of a prompt sent through a hook is not the prompt.
    let env = TestEnv::new();
    let payload = |event: &str, extra: Value| {
        let mut p = json!({"session_id": "hooked", "hook_event_name": event});
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        p
    };
    env.hook(
        "session-start",
        &payload("SessionStart", json!({"source": "startup"})),
    )
    .success();
    let ide = "<ide_opened_file>The user opened the file /w/plan.md in the IDE. This may or may not be related to the current task.</ide_opened_file>";
    env.hook(
        "user-prompt",
        &payload("UserPromptSubmit", json!({"prompt": ide})),
    )
    .success();
    env.hook(
        "user-prompt",
        &payload(
            "UserPromptSubmit",
            json!({"prompt": format!("{ide}\nfix the flaky login test")}),
        ),
    )
    .success();
    let listed = env.run(&["list", "--format", "json"]).success().json();
    assert_eq!(listed[0]["first_prompt"], "fix the flaky login test");
    let replay = env.run(&["replay"]).success().stdout.clone();
    assert!(replay.contains("\"fix the flaky login test\""), "{replay}");
    assert!(!replay.contains("ide_opened_file"), "{replay}");
}

/// Dollars as replay and cost show them.
fn dollars(usd: f64) -> String {
    if usd >= 1.0 {
        format!("${usd:.2}")
    } else {
        format!("${usd:.4}")
    }
}

#[test]
fn the_replay_header_says_when_how_long_where_who_and_what_it_cost() {
    let path = "marot__spotter/tool_heavy.jsonl";
    let lines = transcript(&corpus(path));
    let first = lines
        .iter()
        .find(|l| l["type"] == "user" || l["type"] == "assistant")
        .unwrap();
    let mut models: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["message"]["model"].as_str())
        .collect();
    models.sort_unstable();
    models.dedup();
    let (env, id) = imported(path);
    let cost = env.run(&["cost", &id, "--format", "json"]).success().json();
    let list = env.run(&["list"]).success().stdout.clone();
    let row: Vec<&str> = list
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap()
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    let (started, duration) = (row[1], row[2]);

    let replay = env.run(&["replay", &id]).success().stdout.clone();
    let header: Vec<&str> = replay.lines().take_while(|l| !l.starts_with('#')).collect();
    for expected in [
        format!("Started: {started}"),
        format!("Duration: {duration}"),
        format!(
            "Where: {} (branch {})",
            first["cwd"].as_str().unwrap(),
            first["gitBranch"].as_str().unwrap()
        ),
        format!("Agent: claude-code {}", first["version"].as_str().unwrap()),
        format!("Models: {}", models.join(", ")),
        format!("Cost: {}", dollars(cost["cost_usd"].as_f64().unwrap())),
    ] {
        assert!(
            header.contains(&expected.as_str()),
            "{expected:?} not in {header:#?}"
        );
    }
}

#[test]
fn replay_folds_streams_and_reads_and_never_goes_back_in_time() {
    for path in [
        "marot__spotter/tool_heavy.jsonl",
        "marot__spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl",
    ] {
        let (env, id) = imported(path);
        let inspected = inspect(&env, &id);
        let all = inspected["events"].as_array().unwrap();
        let requests = events_of(&inspected, "llm_request").len();
        let responses = events_of(&inspected, "llm_response").len();
        let reads_done = events_of(&inspected, "tool_call")
            .iter()
            .filter(|c| c["data"]["tool_name"] == "Read")
            .filter(|c| {
                all.iter()
                    .any(|e| e["parent_id"] == c["event_id"] && e["event_type"] == "tool_result")
            })
            .count();
        assert!(requests > 0 && reads_done > 0, "{path}");
        // A shell's read (`grep x mix.lock`) is its call's file event, which no file call's
        // line stands for: it is shown on its own line.
        let shell_reads = events_of(&inspected, "file_read")
            .iter()
            .filter(|f| f["data"]["tool_name"] == "Bash")
            .count();

        let replay = env.run(&["replay", &id]).success().stdout.clone();
        let shown = story(&replay);
        let count = |head: &str| shown.iter().filter(|s| s.head.starts_with(head)).count();
        assert!(
            shown.windows(2).all(|w| w[0].offset <= w[1].offset),
            "{path}: offsets go backwards:\n{replay}"
        );
        assert_eq!(count("⇢ llm_request"), 0, "{path}");
        assert_eq!(count("⇠ llm_response"), responses, "{path}");
        assert_eq!(count("📖 tool_call Read"), reads_done, "{path}");
        assert_eq!(count("← tool_result Read"), 0, "{path}");
        assert_eq!(count("📖 file_read"), shell_reads, "{path}");

        let every = env.run(&["replay", &id, "--llm"]).success().stdout.clone();
        let shown = story(&every);
        let count = |head: &str| shown.iter().filter(|s| s.head.starts_with(head)).count();
        assert_eq!(count("⇢ llm_request"), requests, "{path}");
        assert_eq!(count("⇠ llm_response"), responses, "{path}");
        assert!(shown.windows(2).all(|w| w[0].offset <= w[1].offset));
        // Each response line gives its model and usage, the counts' thousands separated.
        let said: Vec<String> = events_of(&inspected, "llm_response")
            .iter()
            .map(|r| {
                let u = &r["data"]["usage"];
                let n = |key: &str| crate::common::separated(u[key].as_u64().unwrap_or(0));
                let mut parts = vec![
                    r["data"]["model"].as_str().unwrap().to_owned(),
                    format!("in {}", n("input_tokens")),
                    format!("out {}", n("output_tokens")),
                ];
                for (label, key) in [
                    ("cache write", "cache_creation_input_tokens"),
                    ("cache read", "cache_read_input_tokens"),
                ] {
                    if u[key].as_u64().unwrap_or(0) > 0 {
                        parts.push(format!("{label} {}", n(key)));
                    }
                }
                parts.join(" · ")
            })
            .collect();
        let details: Vec<String> = shown
            .iter()
            .filter(|s| s.head.starts_with("⇠ llm_response"))
            .map(|s| s.detail.clone().unwrap_or_default())
            .collect();
        assert_eq!(details, said, "{path}");
        assert!(said.iter().any(|s| s.contains(',')), "{path}: {said:?}");
    }
}

#[test]
fn show_prints_one_event_whole() {
    let (env, id) = imported("marot__spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl");
    let inspected = inspect(&env, &id);
    let all = inspected["events"].as_array().unwrap();
    let number_of = |event: &Value| all.iter().position(|e| e == event).unwrap() + 1;
    let result_of = |call: &Value| {
        all.iter()
            .find(|e| e["parent_id"] == call["event_id"])
            .cloned()
    };
    let calls = events_of(&inspected, "tool_call");
    let show = |n: usize| {
        env.run(&["replay", &id, "--show", &n.to_string()])
            .success()
            .stdout
            .clone()
    };

    // A command and every line of its output.
    let (bash, output) = calls
        .iter()
        .filter(|c| c["data"]["tool_name"] == "Bash")
        .find_map(|c| {
            let result = result_of(c)?;
            let text = result["data"]["result"].as_str()?.to_owned();
            (text.lines().count() > 20).then_some((*c, text))
        })
        .expect("a command with a long output");
    let shown = show(number_of(bash));
    assert!(shown.contains(bash["data"]["arguments"]["command"].as_str().unwrap()));
    for line in output.lines() {
        assert!(shown.contains(line), "{line:?} missing from:\n{shown}");
    }

    // An edit as a unified diff.
    let edit = calls
        .iter()
        .find(|c| {
            c["data"]["tool_name"] == "Edit"
                && result_of(c).is_some_and(|r| r["event_type"] == "tool_result")
        })
        .expect("an edit");
    let args = &edit["data"]["arguments"];
    let (old, new) = (
        args["old_string"].as_str().unwrap(),
        args["new_string"].as_str().unwrap(),
    );
    let path = args["file_path"].as_str().unwrap();
    let shown = show(number_of(edit));
    let lines: Vec<&str> = shown.lines().collect();
    assert!(lines.contains(&format!("--- {path}").as_str()), "{shown}");
    assert!(lines.contains(&format!("+++ {path}").as_str()), "{shown}");
    for removed in old.lines().filter(|l| !new.lines().any(|n| n == *l)) {
        assert!(
            lines.contains(&format!("-{removed}").as_str()),
            "-{removed}:\n{shown}"
        );
    }
    for added in new.lines().filter(|l| !old.lines().any(|o| o == *l)) {
        assert!(
            lines.contains(&format!("+{added}").as_str()),
            "+{added}:\n{shown}"
        );
    }

    // A write's whole content.
    let write = calls
        .iter()
        .find(|c| c["data"]["tool_name"] == "Write")
        .expect("a write");
    let shown = show(number_of(write));
    for line in write["data"]["arguments"]["content"]
        .as_str()
        .unwrap()
        .lines()
    {
        assert!(shown.contains(line), "{line:?} missing");
    }

    // inspect --event N: the event, every field.
    let n = number_of(edit);
    let one = env
        .run(&["inspect", &id, "--event", &n.to_string()])
        .success()
        .json();
    assert_eq!(&&one, edit);

    // A number past the end is a usage error.
    let past = (all.len() + 1).to_string();
    for args in [
        vec!["replay", id.as_str(), "--show", past.as_str()],
        vec!["inspect", id.as_str(), "--event", past.as_str()],
    ] {
        let run = env.run(&args);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains(&format!("no event #{past}")), "{run:?}");
    }
}

/// CPU time a process has used, in clock ticks (Linux).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) start after its `)`.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn wait_for(child: &mut std::process::Child, deadline: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn follow_tails_a_live_session_until_it_ends_without_spinning() {
    let env = TestEnv::new();
    let payload = |event: &str, extra: Value| {
        let mut p = json!({"session_id": "live", "hook_event_name": event});
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        p
    };
    env.hook(
        "session-start",
        &payload("SessionStart", json!({"source": "startup"})),
    )
    .success();
    env.hook(
        "user-prompt",
        &payload("UserPromptSubmit", json!({"prompt": "run the tests"})),
    )
    .success();
    let mut follow = env
        .command(&["replay", "live", "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // What it printed, read as it comes.
    let printed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        let mut stdout = follow.stdout.take().unwrap();
        let printed = printed.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = std::io::Read::read(&mut stdout, &mut chunk) {
                printed
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        })
    };
    // Once it has shown the session so far it only waits (a fixed 300 ms here was not always
    // enough for a loaded machine to start it, and its start was then counted as waiting).
    let start = Instant::now();
    while !printed.lock().unwrap().contains("user_prompt") {
        assert!(
            start.elapsed() < crate::common::wait::HANG,
            "the follower never showed the session"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // And has settled: its processor time stands still for a tenth of a second (a fixed 100 ms
    // here was a guess, which the rest of a loaded machine's start could outlast).
    let mut before = cpu_ticks(follow.id());
    let start = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let now = cpu_ticks(follow.id());
        if now == before {
            break;
        }
        assert!(
            start.elapsed() < crate::common::wait::HANG,
            "the follower never settled: {now} ticks"
        );
        before = now;
    }
    // Nothing happens for a second: a follower that polls in a loop would burn it.
    std::thread::sleep(Duration::from_secs(1));
    let idle = cpu_ticks(follow.id()) - before;
    assert!(
        idle <= 5,
        "the follower used {idle} ticks of CPU while waiting"
    );
    assert_eq!(
        follow.try_wait().unwrap(),
        None,
        "it waits for the session to end"
    );

    let call =
        json!({"tool_name": "Bash", "tool_input": {"command": "pytest -q"}, "tool_use_id": "t1"});
    env.hook("pre-tool", &payload("PreToolUse", call.clone()))
        .success();
    let mut result = call.clone();
    result["tool_response"] = json!({"stdout": "3 passed in 0.12s", "stderr": ""});
    env.hook("post-tool", &payload("PostToolUse", result))
        .success();
    env.hook(
        "session-end",
        &payload("SessionEnd", json!({"reason": "exit"})),
    )
    .success();
    let code = wait_for(&mut follow, crate::common::wait::HANG);
    assert_eq!(code, Some(0), "the follower ends with the session");
    let mut run = Run::of(follow.wait_with_output().unwrap());
    reader.join().unwrap();
    run.stdout = printed.lock().unwrap().clone();
    let shown = story(&run.stdout);
    let expected = [
        "▶ session_start",
        "👤 user_prompt",
        "→ tool_call Bash",
        "← tool_result Bash",
        "■ session_end",
    ];
    for (line, want) in shown.iter().zip(expected) {
        assert!(line.head.starts_with(want), "{want}:\n{}", run.stdout);
    }
    let numbers: Vec<usize> = shown.iter().map(|s| s.number).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5], "{}", run.stdout);
    assert_eq!(shown[3].detail.as_deref(), Some("3 passed in 0.12s"));
    assert_eq!(run.stderr, "");
}

#[test]
fn an_imported_story_reads_in_the_python_tool() {
    let py = crate::python_compat::python();
    let env = TestEnv::new();
    for path in [
        "marot__spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl",
        "moredip__session-share/0ccf1a04-1b4c-43b6-8aa5-79e41db43a68.jsonl",
    ] {
        let file = corpus(path);
        env.run(&["import", file.to_str().unwrap()]).success();
    }
    let list = py.read(&env, &["list"]);
    for id in [
        "ae4a77f8-aedd-4bc1-888f-c94edc91af04",
        "0ccf1a04-1b4c-43b6-8aa5-79e41db43a68",
    ] {
        assert!(list.stdout.contains(id), "{}", list.stdout);
        let replay = py.read(&env, &["replay", id]);
        assert!(
            replay.stdout.contains("Session Summary"),
            "{}",
            replay.stdout
        );
    }
    let replay = py.read(&env, &["replay", "ae4a77f8-aedd-4bc1-888f-c94edc91af04"]);
    assert!(
        replay.stdout.contains("decision compaction"),
        "{}",
        replay.stdout
    );
    assert!(
        replay.stdout.contains("decision thinking"),
        "{}",
        replay.stdout
    );
}

/// A session whose meta says it ended though no event does (the Python tool's `backfill-meta
/// --apply` writes such an end), and a session deleted while followed: `replay --follow` waited
/// for ever on both. Each now ends, saying why.
#[test]
fn a_follow_ends_with_a_session_its_meta_ends_or_that_is_deleted() {
    use crate::common::SessionBuilder;
    use crate::common::wait::ends_by_itself;

    let env = TestEnv::new();
    let id = SessionBuilder::new("meta-ended")
        .prompt("hello")
        .ended(5.0)
        .write(&env);
    let mut follow = following(&env, &id);
    assert_eq!(
        ends_by_itself(&mut follow, "replay --follow").code(),
        Some(0)
    );
    let run = Run::of(follow.wait_with_output().unwrap());
    assert!(run.stdout.contains("hello"), "{run:?}");
    assert!(run.stderr.contains("as its metadata says"), "{run:?}");

    let id = SessionBuilder::new("deleted").prompt("bye").write(&env);
    let mut follow = following(&env, &id);
    std::thread::sleep(Duration::from_millis(500));
    std::fs::remove_dir_all(env.store().join(&id)).unwrap();
    assert_eq!(
        ends_by_itself(&mut follow, "replay --follow").code(),
        Some(0)
    );
    let run = Run::of(follow.wait_with_output().unwrap());
    assert!(run.stderr.contains("no longer in the store"), "{run:?}");
}

/// `replay ID --follow`, started, its output piped.
fn following(env: &TestEnv, id: &str) -> std::process::Child {
    env.command(&["replay", id, "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Writes session `id` of `events` (JSON lines, in this order) to the store, as a claude-code
/// session that started at `started`.
fn written(env: &TestEnv, id: &str, started: f64, events: &[Value]) {
    let dir = env.store().join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let lines: Vec<String> = events.iter().map(Value::to_string).collect();
    std::fs::write(dir.join("events.ndjson"), lines.join("\n") + "\n").unwrap();
    let meta = json!({"session_id": id, "started_at": started, "agent_name": "claude-code",
                      "command": "claude"});
    std::fs::write(dir.join("meta.json"), meta.to_string()).unwrap();
}

/// The event numbers of a replay's lines, in the order shown.
fn numbers_shown(out: &str) -> Vec<usize> {
    out.lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn a_long_session_is_replayed_as_it_is_read_in_bounded_memory() {
    // replay held every event of a session before it showed a line (the story orders them by
    // time and folds a call with its result anywhere in the session): 177 MB at 100,000
    // events in a release build, and 145 MB with --limit 10. It reads the file once for the
    // header and its cost, and tells each run of events a line folds as it reads it again.
    // Measured on this session of 40,001 events (8 MB) in a debug build: it needs about 14 MiB
    // of data now, 81 MiB before; under a 34 MiB limit it ran out and died.
    let env = TestEnv::new();
    let started = 1_770_000_000.0;
    let mut events = vec![json!({"event_type": "session_start", "timestamp": started,
        "event_id": "s0", "session_id": "long", "data": {"cwd": "/tmp"}})];
    for i in 0..20_000 {
        let at = started + f64::from(i) + 1.0;
        events.push(
            json!({"event_type": "tool_call", "timestamp": at, "event_id": format!("c{i}"),
            "session_id": "long", "data": {"tool_name": "Bash",
            "arguments": {"command": format!("echo {i}")}, "tool_use_id": format!("tu{i}")}}),
        );
        events.push(json!({"event_type": "tool_result", "timestamp": at + 0.5,
            "event_id": format!("r{i}"), "session_id": "long", "parent_id": format!("c{i}"),
            "duration_ms": 500, "data": {"tool_name": "Bash", "result": format!("out {i}"),
            "tool_use_id": format!("tu{i}")}}));
    }
    written(&env, "long", started, &events);
    drop(events);
    let limited = |args: &[&str]| {
        let cmd = env.command_with_data_limit(args, 34 << 20);
        crate::common::run_with_stdin(cmd, b"")
    };
    let run = limited(&["replay", "long", "--color", "never"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let shown = numbers_shown(&run.stdout);
    assert_eq!(shown, (1..=40_001).collect::<Vec<_>>());
    assert!(run.stdout.contains("Tool calls: 20,000"), "{}", run.stdout);
    let run = limited(&["replay", "long", "--color", "never", "--limit", "10"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(numbers_shown(&run.stdout), (1..=10).collect::<Vec<_>>());
}

#[test]
fn a_session_written_out_of_time_order_is_replayed_in_time_order_folded_across_it() {
    // Replay reads a session in runs as it reads the file when its events are in time order;
    // one that is not is told whole, as it always was: sorted by time, a request folded with
    // its response and a read with its result wherever they lie in the file.
    let env = TestEnv::new();
    let started = 1_770_000_000.0;
    let event = |n: usize, kind: &str, at: f64, parent: Option<usize>, data: Value| {
        let mut e = json!({"event_type": kind, "timestamp": started + at,
            "event_id": format!("e{n}"), "session_id": "mixed", "data": data});
        if let Some(p) = parent {
            e["parent_id"] = json!(format!("e{p}"));
        }
        e
    };
    let usage = json!({"model": "claude-sonnet-4-5",
                       "usage": {"input_tokens": 3, "output_tokens": 27}});
    written(
        &env,
        "mixed",
        started,
        &[
            event(1, "session_start", 0.0, None, json!({"cwd": "/tmp"})),
            event(2, "user_prompt", 1.0, None, json!({"prompt": "look"})),
            event(
                3,
                "tool_call",
                4.0,
                None,
                json!({"tool_name": "Read", "arguments": {"file_path": "/tmp/a"}}),
            ),
            event(4, "tool_result", 5.0, Some(3), json!({"tool_name": "Read"})),
            event(
                5,
                "llm_request",
                2.0,
                None,
                json!({"model": "claude-sonnet-4-5"}),
            ),
            event(
                6,
                "tool_call",
                3.0,
                None,
                json!({"tool_name": "Bash", "arguments": {"command": "ls"}}),
            ),
            event(7, "llm_response", 2.5, Some(5), usage),
            event(
                8,
                "tool_result",
                3.5,
                Some(6),
                json!({"tool_name": "Bash", "result": "a"}),
            ),
            event(9, "session_end", 6.0, None, json!({})),
        ],
    );
    let run = env.run(&["replay", "mixed", "--color", "never"]);
    run.success();
    // The response (#7) on its request's line, at its time (2 s), before the calls; the read
    // (#3) one line with its result.
    assert_eq!(
        numbers_shown(&run.stdout),
        [1, 2, 7, 6, 8, 3, 9],
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("#7    + 2.00s"), "{}", run.stdout);
    assert!(run.stdout.contains("tool_call Read"), "{}", run.stdout);
    let every = env.run(&["replay", "mixed", "--color", "never", "--llm"]);
    assert_eq!(
        numbers_shown(&every.success().stdout),
        [1, 2, 5, 7, 6, 8, 3, 9]
    );
}
