//! `replay --format html` and `share` (issue 15), opened in a real browser: Chromium driven by
//! playwright-core through tests/browser/*.mjs (tests/common/browser.rs runs them). Each script
//! fails on any console error, page error, dialog or network request; the tests here check
//! what the scripts saw against the store.

use std::path::{Path, PathBuf};

use agent_strace::model::Tokens;
use serde_json::{Value, json};

use crate::common::browser::{Browser, docs_images};
use crate::common::generator::{Shape, generate_session, session_uuid};
use crate::common::{SessionBuilder, TestEnv, shared};

/// The harness notices what it is there to notice: a console error, an uncaught exception, a
/// dialog and a request to the network each show up in the problems it reports.
#[test]
fn the_browser_harness_reports_errors_dialogs_and_requests() {
    let Some(browser) =
        Browser::from_env("the_browser_harness_reports_errors_dialogs_and_requests")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("bad.html");
    std::fs::write(
        &page,
        "<!doctype html><title>bad page</title><p>hello</p>\
         <img src=\"http://example.invalid/x.png\">\
         <script>console.error('boom'); alert('hi'); setTimeout(() => { throw new Error('late') });</script>",
    )
    .unwrap();
    let shot = dir.path().join("bad.png");
    let seen = browser.run("probe.mjs", &json!({"path": page, "screenshot": shot}));
    assert_eq!(seen["title"], "bad page");
    assert!(seen["text"].as_str().unwrap().contains("hello"));
    let problems = &seen["problems"];
    let has = |list: &str, text: &str| {
        problems[list]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m.as_str().unwrap().contains(text))
    };
    assert!(has("console", "boom"), "{problems}");
    assert!(has("pageErrors", "late"), "{problems}");
    assert_eq!(problems["dialogs"], json!(["alert: hi"]));
    assert_eq!(
        problems["requests"],
        json!(["http://example.invalid/x.png"])
    );
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
}

/// A real Claude Code session with two subagents, imported from the corpus.
const CORPUS_SESSION: &str = "ae4a77f8-aedd-4bc1-888f-c94edc91af04";

fn import_corpus_session(env: &TestEnv) {
    let transcript = shared()
        .join("corpus/claude-code/marot__spotter")
        .join(format!("{CORPUS_SESSION}.jsonl"));
    env.run(&["import", transcript.to_str().unwrap()]).success();
}

/// Every event line of every session in the store.
fn events_in_store(env: &TestEnv) -> usize {
    env.sessions().iter().map(|s| env.events(s).len()).sum()
}

fn page(env: &TestEnv, args: &[&str], name: &str) -> PathBuf {
    let path = env.path().join(name);
    let mut line = args.to_vec();
    line.extend(["-o", path.to_str().unwrap()]);
    env.run(&line).success();
    path
}

/// Where a screenshot goes: docs/images when `AGENT_STRACE_SCREENSHOTS` asks for it (the
/// README shows them), else the test's own folder.
fn screenshot_path(env: &TestEnv, name: &str) -> PathBuf {
    if std::env::var_os("AGENT_STRACE_SCREENSHOTS").is_some() {
        docs_images().join(name)
    } else {
        env.path().join(name)
    }
}

#[track_caller]
fn assert_replay_page_works(seen: &Value, events: usize) {
    // Every event of the session and its subagents is in the page's model, once.
    assert_eq!(seen["events"], events, "{seen}");
    let lines = seen["lines"].as_u64().unwrap();
    assert!(lines > 0 && lines as usize <= events);
    assert_eq!(seen["shown"], lines);
    // Virtualised: only the rows in view are in the DOM.
    assert!(seen["rowsInDom"].as_u64().unwrap() < 100, "{seen}");
    // Scrubbing to the start shows the start, and what is to come is marked so.
    let scrub = &seen["scrub"];
    assert!(
        scrub["clockAtStart"]
            .as_str()
            .unwrap()
            .starts_with("0:00.0 / "),
        "{scrub}"
    );
    assert_ne!(scrub["clockAtStart"], scrub["clockAtEnd"]);
    assert_ne!(scrub["clockAtMiddle"], scrub["clockAtEnd"]);
    assert!(scrub["futureRowsAtStart"].as_u64().unwrap() > 0, "{scrub}");
    // The running cost counter: nothing spent at the start, the whole cost at the end.
    assert_eq!(scrub["costAtStart"], "$0.0000");
    let money = |v: &Value| {
        v.as_str()
            .unwrap()
            .trim_start_matches('$')
            .parse::<f64>()
            .unwrap()
    };
    assert!(money(&scrub["costAtMiddle"]) <= money(&scrub["costAtEnd"]));
    assert!(money(&scrub["costAtEnd"]) > 0.0);
    // Filters hide events: tool calls, then every tool but one.
    let filter = &seen["filter"];
    assert!(filter["withoutCalls"].as_u64().unwrap() < filter["before"].as_u64().unwrap());
    assert_eq!(filter["callRowsShown"], 0);
    let one_tool = filter["tool"].as_str().unwrap();
    assert_eq!(
        filter["toolsShown"],
        json!([one_tool.split(' ').next().unwrap()])
    );
    assert_eq!(filter["after"], filter["before"]);
    // Expanding a call shows its event as JSON, arguments and all.
    let expanded = &seen["expanded"];
    assert!(expanded["json"]["arguments"].is_object(), "{expanded}");
    assert_eq!(expanded["closed"], true);
    // The theme toggle.
    assert_ne!(seen["theme"]["before"], seen["theme"]["after"]);
    assert_eq!(seen["theme"]["backgroundChanged"], true);
    // Keys: j moves down, k up, Enter expands, b bookmarks, / searches, space plays.
    let keys = &seen["keys"];
    let line = |k: &str| keys[k].as_i64().unwrap();
    assert!(line("first") >= 0);
    assert_eq!(line("third"), line("first") + 2, "{keys}");
    assert_eq!(line("second"), line("first") + 1, "{keys}");
    assert_eq!(line("arrow"), line("third"), "{keys}");
    assert_eq!(keys["expandedByKey"], 1);
    assert_eq!(keys["bookmarks"], 1);
    assert_eq!(keys["searchFocused"], true);
    assert_eq!(keys["shownForNothing"], 0);
    assert_eq!(keys["shownAfterEscape"], lines);
    assert!(keys["playing"].as_str().unwrap().contains("pause"));
    assert!(keys["paused"].as_str().unwrap().contains("play"));
    // Bookmarks are kept by the browser for a file:// page (Chromium gives file pages storage).
    assert_eq!(seen["bookmarksAfterReload"], 1, "{seen}");
    assert!(
        seen["storageNote"]
            .as_str()
            .unwrap()
            .contains("localStorage")
    );
}

#[test]
fn the_html_replay_shows_a_real_session_with_its_subagents() {
    let Some(browser) =
        Browser::from_env("the_html_replay_shows_a_real_session_with_its_subagents")
    else {
        return;
    };
    let env = TestEnv::new();
    import_corpus_session(&env);
    env.run(&[
        "annotate",
        CORPUS_SESSION,
        "5",
        "--note",
        "the plan starts here",
        "--label",
        "decision",
    ])
    .success();
    let path = page(&env, &["replay", "--format", "html"], "replay.html");
    let seen = browser.run(
        "replay.mjs",
        &json!({
            "path": path,
            "screenshot": screenshot_path(&env, "replay.png"),
            "subagent": "agent-aac57f5",
        }),
    );
    assert_replay_page_works(&seen, events_in_store(&env));
    assert_eq!(seen["summaryVisible"], false);
    assert!(seen["title"].as_str().unwrap().starts_with("Replay: "));
    // The subagent's lines sit under its call, and fold away with it.
    let sub = &seen["subagent"];
    assert!(sub["lines"].as_u64().unwrap() > 0);
    assert_eq!(sub["allNested"], true);
    assert!(sub["folded"].as_u64().unwrap() >= sub["lines"].as_u64().unwrap());
    let notes = seen["annotations"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("[decision] the plan starts here")),
        "{notes:?}"
    );
}

/// A session built to be shared: a secret in a prompt, a file written, a test run that passes.
fn shared_session(env: &TestEnv) -> String {
    SessionBuilder::new("5ea7ed00-0000-4000-8000-000000000001")
        .session_start(json!({"source": "startup", "cwd": "/home/dev/app"}))
        .prompt("deploy with key AKIAQWERTYUIOP123456 and fix the tests")
        .at(1.0)
        .llm_response(
            "claude-sonnet-4-5",
            Tokens {
                input: 1200,
                output: 300,
                ..Tokens::default()
            },
        )
        .at(2.0)
        .tool_call(
            "Edit",
            json!({"file_path": "/home/dev/app/src/lib.rs", "old_string": "a", "new_string": "b"}),
        )
        .at(2.5)
        .result(json!("ok"))
        .file_write("/home/dev/app/src/lib.rs")
        .at(3.0)
        .llm_response(
            "claude-sonnet-4-5",
            Tokens {
                input: 1500,
                output: 200,
                ..Tokens::default()
            },
        )
        .at(4.0)
        .tool_call("Bash", json!({"command": "cargo test"}))
        .at(9.0)
        .result(json!({"stdout": "test result: ok. 12 passed; 0 failed", "exit_code": 0}))
        .at(10.0)
        .answer("Fixed and tested.")
        .at(11.0)
        .session_end(json!({"reason": "exit"}))
        .write(env)
}

#[test]
fn share_puts_a_summary_first_and_redacts_secrets() {
    let env = TestEnv::new();
    let id = shared_session(&env);
    let path = page(&env, &["share", &id], "share.html");
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(
        !html.contains("AKIAQWERTYUIOP123456"),
        "the secret is in the page"
    );
    // The replay is for the person who recorded it: as recorded.
    let replay = page(&env, &["replay", "--format", "html", &id], "replay.html");
    assert!(
        std::fs::read_to_string(replay)
            .unwrap()
            .contains("AKIAQWERTYUIOP123456")
    );
    let Some(browser) = Browser::from_env("share_puts_a_summary_first_and_redacts_secrets") else {
        return;
    };
    let seen = browser.run("replay.mjs", &json!({"path": path, "share": true}));
    assert_replay_page_works(&seen, env.events(&id).len());
    assert_eq!(seen["summaryVisible"], true);
    assert_eq!(seen["verdict"], "passed");
    assert_eq!(seen["filesChanged"], json!(["src/lib.rs"]));
    assert!(seen["headerText"].as_str().unwrap().contains("redacted"));
}

#[test]
fn the_share_page_of_a_real_session_in_the_browser() {
    let Some(browser) = Browser::from_env("the_share_page_of_a_real_session_in_the_browser") else {
        return;
    };
    let env = TestEnv::new();
    import_corpus_session(&env);
    let path = page(&env, &["share", CORPUS_SESSION], "share.html");
    let seen = browser.run(
        "replay.mjs",
        &json!({"path": path, "share": true, "screenshot": screenshot_path(&env, "share.png")}),
    );
    assert_replay_page_works(&seen, events_in_store(&env));
    assert_eq!(seen["summaryVisible"], true);
    assert!(["passed", "failed", "unknown"].contains(&seen["verdict"].as_str().unwrap()));
    assert!(!seen["filesChanged"].as_array().unwrap().is_empty());
    assert!(seen["phases"].as_u64().unwrap() > 0);
}

#[test]
fn html_output_goes_to_stdout_without_o_and_o_needs_html() {
    let env = TestEnv::new();
    let id = shared_session(&env);
    let run = env.run(&["replay", "--format", "html", &id]);
    run.success();
    assert!(run.stdout.starts_with("<!doctype html>"));
    assert!(run.stdout.contains("Content-Security-Policy"));
    let run = env.run(&["replay", &id, "-o", "x.html"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--format html"), "{}", run.stderr);
    // What the page does itself (filters, limits) or cannot do (follow, live) is refused.
    for flag in [
        "--tree",
        "--follow",
        "--live",
        "--limit=3",
        "--filter=error",
    ] {
        let run = env.run(&["replay", "--format", "html", flag, &id]);
        assert_eq!(run.code, 2, "{flag}: {}", run.stderr);
    }
}

/// What a hostile session plants, and where.
const PAYLOADS: [&str; 9] = [
    "</script><img src=x onerror=\"window.__pwned=1;alert(1)\">",
    "\"><script>window.__pwned=2;alert(2)</script>",
    "<svg onload=\"window.__pwned=3;alert(3)\"></svg>",
    "javascript:alert(4)",
    "<!--<script>alert(5)</script>-->",
    "\u{2028}</SCRIPT ><script>window.__pwned=6</script>",
    "<iframe src=\"javascript:alert(7)\"></iframe>",
    "&lt;script&gt;alert(8)&lt;/script&gt;",
    "<a href=\"javascript:alert(9)\">click</a>",
];

fn hostile_session(env: &TestEnv) -> String {
    let [img, quote, svg, js, comment, sep, iframe, entity, link] = PAYLOADS;
    let child = SessionBuilder::new("bad00000-0000-4000-8000-00000000c41d")
        .meta(|m| {
            m.parent_session_id = Some("bad00000-0000-4000-8000-0000000000a1".into());
            m.parent_event_id = Some("e02".into());
            m.depth = 1;
            svg.clone_into(&mut m.command);
        })
        .tool_call("Bash", json!({"command": img}))
        .at(0.5)
        .error(quote);
    child.write(env);
    SessionBuilder::new("bad00000-0000-4000-8000-0000000000a1")
        .meta(|m| {
            img.clone_into(&mut m.command);
            m.extra.insert("title".into(), json!(quote));
        })
        .prompt(img)
        .tool_call("Task", json!({"prompt": svg, "description": comment}))
        .at(1.0)
        .result(json!(sep))
        .at(2.0)
        .tool_call("WebFetch", json!({"url": js, "prompt": iframe}))
        .at(2.5)
        .result(json!({"links": [js, "https://example.com/ok", "JAVASCRIPT:alert(10)"]}))
        .at(3.0)
        .tool_call(
            "Write",
            json!({"file_path": format!("/tmp/{quote}.rs"), "content": entity}),
        )
        .at(3.5)
        .result(json!("written"))
        .file_write(&format!("/tmp/{svg}/x.rs"))
        .at(4.0)
        .llm_response(
            link,
            Tokens {
                input: 10,
                output: 5,
                ..Tokens::default()
            },
        )
        .at(5.0)
        .answer(&format!("{sep} {link} {entity}"))
        .write(env)
}

#[test]
fn a_hostile_session_runs_no_script_in_either_page() {
    let env = TestEnv::new();
    let id = hostile_session(&env);
    env.run(&[
        "annotate",
        &id,
        "2",
        "--note",
        PAYLOADS[0],
        "--label",
        PAYLOADS[2],
    ])
    .success();
    let replay = page(&env, &["replay", "--format", "html", &id], "replay.html");
    let share = page(&env, &["share", &id], "share.html");
    for path in [&replay, &share] {
        let html = std::fs::read_to_string(path).unwrap();
        // Only our own two script elements, and nothing a session wrote reads as markup.
        assert_eq!(html.matches("<script").count(), 2, "{}", path.display());
        assert_eq!(html.to_lowercase().matches("</script").count(), 2);
        assert!(!html.contains("<img") && !html.contains("<svg") && !html.contains("<iframe"));
        assert!(!html.contains('\u{2028}'));
    }
    let Some(browser) = Browser::from_env("a_hostile_session_runs_no_script_in_either_page") else {
        return;
    };
    for path in [replay, share] {
        let seen = browser.run("hostile.mjs", &json!({"path": path, "payloads": PAYLOADS}));
        assert_eq!(seen["pwned"], Value::Null, "{seen}");
        assert_eq!(seen["foreignElements"], json!([]), "{seen}");
        assert_eq!(seen["handlerAttributes"], json!([]), "{seen}");
        assert_eq!(seen["scripts"], 2, "{seen}");
        // Links only where a session recorded an http(s) URL, never javascript:.
        assert_eq!(seen["links"], json!(["https://example.com/ok"]), "{seen}");
        // Every payload is on the page, as text.
        assert_eq!(seen["missing"], json!([]), "{seen}");
        assert!(seen["rowsExpanded"].as_u64().unwrap() >= 8, "{seen}");
    }
}

/// Bytes of a file.
fn size(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

#[test]
fn a_100k_event_session_stays_small_and_scrolls_in_a_virtual_list() {
    let env = TestEnv::new();
    let id = session_uuid(15);
    let shape = Shape {
        usage: true,
        ..Shape::big()
    };
    let info = generate_session(&env.store(), &id, 15, &shape).unwrap();
    assert_eq!(info.events, 100_000);
    let path = page(&env, &["replay", "--format", "html", &id], "big.html");
    let ndjson = size(&env.store().join(&id).join("events.ndjson"));
    let html = size(&path);
    let ratio = html as f64 / ndjson as f64;
    println!("100k events: events.ndjson {ndjson} bytes, page {html} bytes, {ratio:.2}x");
    assert!(ratio <= 2.0, "the page is {ratio:.2} times events.ndjson");
    let Some(browser) =
        Browser::from_env("a_100k_event_session_stays_small_and_scrolls_in_a_virtual_list")
    else {
        return;
    };
    let seen = browser.run("big.mjs", &json!({"path": path}));
    println!("100k events in Chromium: {seen}");
    assert_eq!(seen["events"], 100_000);
    // Scrolled to the middle and to the end, the DOM still holds only the rows in view, and
    // they are the right ones.
    for at in ["start", "middle", "end"] {
        let view = &seen["scroll"][at];
        assert!(view["rows"].as_u64().unwrap() < 100, "{view}");
    }
    let lines = seen["lines"].as_u64().unwrap();
    assert_eq!(seen["scroll"]["end"]["last"], lines - 1);
    let middle = seen["scroll"]["middle"]["first"].as_u64().unwrap();
    assert!(middle > lines / 3 && middle < lines * 2 / 3, "{seen}");
    // The page's performance marks come in their order: its script starts, parses the
    // embedded events, then paints the first rows. How long each takes is a figure, measured
    // by `cargo bench --bench figures -- --html-only` (docs/benchmarks.md), not held here,
    // where a loaded machine would turn a late page into a red test.
    let mark = |name: &str| {
        seen["marks"][name]
            .as_f64()
            .unwrap_or_else(|| panic!("no {name} mark: {seen}"))
    };
    assert!(mark("start") <= mark("parsed"), "{seen}");
    assert!(mark("parsed") <= mark("first-paint"), "{seen}");
    assert!(mark("first-paint") <= mark("timeline"), "{seen}");
    assert!(seen["frames"]["mean"].as_f64().is_some(), "{seen}");
}

/// `replay`'s header and the share page gave the cost of a session of `aide-gpt-5` (no known
/// price) as a plain `$0.0000`: both mark it and name the model.
#[test]
fn a_cost_that_counts_an_unpriced_model_is_marked_in_replay_and_share() {
    use crate::common::import_unpriced_and_priced;

    let env = TestEnv::new();
    let (unpriced, _) = import_unpriced_and_priced(&env);
    let text = env.run(&["replay", &unpriced]).success().stdout.clone();
    assert!(
        text.contains("\nCost: $0.0000? (aide-gpt-5 counted at $0: no known price)\n"),
        "{text}"
    );
    let path = page(&env, &["share", &unpriced], "share.html");
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains(r#""cost_unpriced_models":["aide-gpt-5"]"#));
    assert!(html.contains(r#""unpriced_models":["aide-gpt-5"]"#));
    let Some(browser) =
        Browser::from_env("a_cost_that_counts_an_unpriced_model_is_marked_in_replay_and_share")
    else {
        return;
    };
    let seen = browser.run("replay.mjs", &json!({"path": path, "share": true}));
    let header = seen["headerText"].as_str().unwrap();
    assert!(
        header.contains("$0.0000? (aide-gpt-5 counted at $0: no known price)"),
        "{header}"
    );
    let summary = seen["summaryText"].as_str().unwrap();
    assert!(
        summary.contains("aide-gpt-5: $0.0000? (no known price)"),
        "{summary}"
    );
    assert!(
        summary.contains("? a model with no known price (aide-gpt-5) is counted at $0"),
        "{summary}"
    );
    assert!(
        seen["scrub"]["costAtEnd"].as_str().unwrap().ends_with('?'),
        "{seen}"
    );
}

/// The share page, the HTML replay and their running cost gave the cost of a session one of
/// whose responses holds a usage no response can have (`input_tokens: -5`) as a bare `$0.0053`,
/// where `list` and `cost` mark it `$0.0053?` and say why; the page's data held
/// `cost_unbelieved_usage` and its script never read it, and `share` said nothing. The pages
/// mark it and say why under their facts (`cost_notes`), and `share` warns the sharer.
#[test]
fn a_cost_that_leaves_out_usage_no_response_can_have_is_marked_in_replay_and_share() {
    use crate::common::write_unbelieved_usage_session;

    const NOTE: &str = "? 1 LLM response of unknown usage (a token count that is negative, \
                        fractional or not a number, or counts that add up to over ten billion) \
                        counted at $0";
    let env = TestEnv::new();
    write_unbelieved_usage_session(&env, "bad1");
    let listed = env.run(&["list"]).success().stdout.clone();
    assert!(listed.contains("$0.0053?"), "{listed}");
    let share_path = env.path().join("share.html");
    let share = env.run(&["share", "bad1", "-o", share_path.to_str().unwrap()]);
    let share = share.success();
    assert!(
        share
            .stderr
            .contains("counts 1 LLM response of unknown usage at $0 (marked ?)"),
        "{}",
        share.stderr
    );
    let replay_path = page(&env, &["replay", "bad1", "--format", "html"], "replay.html");
    for path in [&share_path, &replay_path] {
        let html = std::fs::read_to_string(path).unwrap();
        assert!(
            html.contains(&format!(r#""cost_notes":["{NOTE}"]"#)),
            "{}",
            path.display()
        );
    }
    let Some(browser) = Browser::from_env(
        "a_cost_that_leaves_out_usage_no_response_can_have_is_marked_in_replay_and_share",
    ) else {
        return;
    };
    // The header's fact, the running cost at the end, and the share page's summary.
    for (path, marks) in [(&share_path, 3), (&replay_path, 2)] {
        let seen = browser.run("probe.mjs", &json!({"path": path}));
        assert_eq!(seen["problems"]["pageErrors"], json!([]), "{seen}");
        let text = seen["text"].as_str().unwrap();
        assert!(text.contains("cost\n$0.0053?\n"), "{text}");
        assert!(text.contains(NOTE), "{text}");
        assert_eq!(text.matches("$0.0053?").count(), marks, "{text}");
    }
}

/// A subagent whose events cannot be read (a FIFO) is left out of the page and its cost: the
/// sharer was warned on stderr, and the page gave the smaller total with no word (the MCP
/// tools' `warnings` say it). The page says it under its facts.
#[test]
fn a_subagent_that_cannot_be_read_is_said_under_the_pages_cost() {
    let env = TestEnv::new();
    let ids = [
        "7c000000-0000-4000-8000-000000000001",
        "7c000000-0000-4000-8000-000000000002",
    ];
    for (i, id) in ids.iter().enumerate() {
        SessionBuilder::new(id)
            .meta(|m| m.parent_session_id = i.checked_sub(1).map(|p| ids[p].to_owned()))
            .prompt(&format!("work of session {i}"))
            .at(1.0)
            .llm_response(
                "claude-sonnet-4-5",
                Tokens {
                    input: 1_000,
                    output: 100,
                    ..Tokens::default()
                },
            )
            .ended(2.0)
            .write(&env);
    }
    let events = env.store().join(ids[1]).join("events.ndjson");
    std::fs::remove_file(&events).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&events)
        .status()
        .unwrap();
    assert!(made.success());
    let note = format!(
        "Subagent session {} could not be read: it is left out of the cost and of this page.",
        ids[1]
    );
    let share_path = env.path().join("share.html");
    let share = env.run(&["share", ids[0], "-o", share_path.to_str().unwrap()]);
    assert!(
        share
            .success()
            .stderr
            .contains(&format!("left out subagent session {}", ids[1])),
        "{}",
        share.stderr
    );
    let replay_path = page(&env, &["replay", ids[0], "--format", "html"], "replay.html");
    for path in [&share_path, &replay_path] {
        let html = std::fs::read_to_string(path).unwrap();
        assert!(
            html.contains(&format!(r#""cost_notes":["{note}"]"#)),
            "{}",
            path.display()
        );
    }
    let Some(browser) =
        Browser::from_env("a_subagent_that_cannot_be_read_is_said_under_the_pages_cost")
    else {
        return;
    };
    for path in [&share_path, &replay_path] {
        let seen = browser.run("probe.mjs", &json!({"path": path}));
        assert_eq!(seen["problems"]["pageErrors"], json!([]), "{seen}");
        let text = seen["text"].as_str().unwrap();
        assert!(text.contains("cost\n$0.0045\n"), "{text}");
        assert!(text.contains(&note), "{text}");
    }
}

/// `share -o X` refused a link, a folder or a device at X (exit 3, "is not a regular file")
/// only when it wrote the page, after reading and rendering the whole session (47 s for 20,000
/// events). It is refused before the session is read: a session that is not there is not what
/// `share` and `replay --format html` complain of, and nothing is written through the link.
#[test]
fn a_page_is_refused_a_link_for_output_before_the_session_is_read() {
    let env = TestEnv::new();
    let target = env.path().join("target.html");
    std::fs::write(&target, "kept\n").unwrap();
    let link = env.path().join("link.html");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for args in [
        &["share", "nosuchsession"][..],
        &["replay", "nosuchsession", "--format", "html"],
    ] {
        let run = env.run(&[args, &["-o", link.to_str().unwrap()][..]].concat());
        assert_eq!(run.code, 3, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("link.html is not a regular file"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("nosuchsession"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "kept\n");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

/// The HTML replay showed an interrupt as `interrupted the user`, its kind and then who sent
/// it; it reads as the terminal's replay does, `interrupted by the user`, a transcript's
/// `[Request interrupted by user]` too. Its header tells an API error that ended a turn from the
/// tools' errors, as the terminal's does.
#[test]
fn an_interrupt_reads_as_the_terminal_says_it() {
    const SID: &str = "6c1d8b63-4e2f-4d5a-8b68-1f3e0c2a7b21";
    let env = TestEnv::new();
    let hook = |event: &str, extra: Value| {
        let mut payload = json!({"session_id": SID, "transcript_path": "/nonexistent.jsonl",
                                 "hook_event_name": event});
        for (k, v) in extra.as_object().unwrap() {
            payload[k] = v.clone();
        }
        env.hook(
            if event == "Interrupt" {
                "interrupt"
            } else {
                event
            },
            &payload,
        )
        .success();
    };
    hook("UserPromptSubmit", json!({"prompt": "deploy"}));
    // A call, which the page's script opens.
    let ls =
        json!({"tool_name": "Bash", "tool_input": {"command": "ls"}, "tool_use_id": "toolu_1"});
    hook("PreToolUse", ls.clone());
    let mut done = ls;
    done["tool_response"] = json!({"stdout": "a\n", "stderr": "", "interrupted": false});
    hook("PostToolUse", done);
    hook(
        "Interrupt",
        json!({"source": "user", "reason": "stop", "via": "terminal"}),
    );
    hook(
        "UserPromptSubmit",
        json!({"prompt": "[Request interrupted by user]"}),
    );
    hook(
        "Interrupt",
        json!({"source": "system", "reason": "permission_denied"}),
    );
    // An API error that ended the turn: the header tells it from the tools' errors.
    hook(
        "StopFailure",
        json!({"error": "overloaded", "error_details": "529 Overloaded"}),
    );
    let text = env
        .run(&["replay", SID, "--color", "never"])
        .success()
        .stdout
        .clone();
    assert_eq!(
        text.matches("✋ interrupted by the user").count(),
        2,
        "{text}"
    );
    assert!(text.contains("✋ interrupted by the system"), "{text}");
    let path = page(&env, &["replay", SID, "--format", "html"], "interrupt.html");
    let Some(browser) = Browser::from_env("an_interrupt_reads_as_the_terminal_says_it") else {
        return;
    };
    let seen = browser.run("replay.mjs", &json!({"path": path}));
    assert_eq!(
        seen["interrupts"],
        json!([
            "interrupted by the user",
            "interrupted by the user",
            "interrupted by the system"
        ]),
        "{seen}"
    );
    let header = seen["headerText"].as_str().unwrap();
    assert!(
        header.contains("errors\n1 (0 of tools, 1 of the turn)\n"),
        "{header}"
    );
}

/// `share`'s summary ("1 tool calls, 2 errors, …") counted the API error that ended a turn
/// (StopFailure) with the tools' failed calls without a word; it says how many were the turn's,
/// as the page's header does (`turn_errors` in the page's data).
#[test]
fn the_share_summary_tells_the_turns_errors_from_the_tools() {
    use crate::common::SessionBuilder;

    let env = TestEnv::new();
    let id = SessionBuilder::new("5a4e0000-0000-4000-8000-000000000001")
        .prompt("build it")
        .tool_call("Bash", json!({"command": "make"}))
        .error("exit 2")
        .turn_error("API Error: 529 Overloaded")
        .write(&env);
    let path = page(&env, &["share", &id], "share.html");
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains(r#""errors":2,"turn_errors":1,"#), "{html}");
    let Some(browser) =
        Browser::from_env("the_share_summary_tells_the_turns_errors_from_the_tools")
    else {
        return;
    };
    let seen = browser.run("replay.mjs", &json!({"path": path, "share": true}));
    let summary = seen["summaryText"].as_str().unwrap();
    assert!(
        summary.contains("1 tool calls, 2 errors (1 of the turn), 0 rejected, 0 retries"),
        "{summary}"
    );
}

/// `share`'s summary held each command a phase ran whole, where the page's lines cut them: a
/// heredoc of 20 MB that wrote a file was in the page twice, and the summary showed it on a
/// line of its own. A command is cut to one line of 100 characters there, as `explain` shows
/// it, and a phase of more than four says how many more.
#[test]
fn the_share_summary_cuts_long_commands_and_counts_the_rest() {
    use crate::common::SessionBuilder;

    let env = TestEnv::new();
    let heredoc = format!("cargo test <<'EOF'\n{}\nEOF", "x".repeat(200_000));
    let mut session = SessionBuilder::new("5a4e0000-0000-4000-8000-000000000002")
        .prompt("test it")
        .tool_call("Bash", json!({"command": heredoc}))
        .result(json!("test result: ok. 1 passed"));
    for i in 0..5 {
        session = session
            .tool_call("Bash", json!({"command": format!("ls dir{i}")}))
            .result(json!("a"));
    }
    let id = session.write(&env);
    let path = page(&env, &["share", &id], "share.html");
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(
        html.len() < 300_000,
        "the page holds the command twice: {} bytes",
        html.len()
    );
    let start = html.find("type=\"application/json\">").unwrap() + 24;
    let end = start + html[start..].find("</script>").unwrap();
    let data: Value = serde_json::from_str(&html[start..end]).unwrap();
    let summary = &data["summary"];
    let first = summary["phases"][1]["ran"][0]
        .as_str()
        .unwrap_or_else(|| panic!("{summary}"));
    assert!(first.starts_with("cargo test <<'EOF' xxx"), "{first}");
    assert!(
        first.ends_with('…') && first.chars().count() == 100,
        "{first}"
    );
    assert_eq!(summary["outcome"]["by"].as_str(), Some(first));
    let Some(browser) =
        Browser::from_env("the_share_summary_cuts_long_commands_and_counts_the_rest")
    else {
        return;
    };
    let seen = browser.run("replay.mjs", &json!({"path": path, "share": true}));
    let text = seen["summaryText"].as_str().unwrap();
    assert!(text.contains("ls dir1 · ls dir2 · … and 2 more"), "{text}");
}

/// The page put what a session recorded into the page as it was: a right-to-left override
/// reordered a file name (`report\u{202e}fdp.exe` read `reportexe.pdf`) and ESC sequences sat
/// in the title and header unseen, where every other view shows them as escapes. They show as
/// `\u202e` and `\u001b` on the page and in its title too; a Windows line end stays one. So do
/// the word joiner, the line separator and the tag characters that hide a text
/// (`\udb40\udc68`), which the page drew as nothing; a flag drawn with tags stays whole. A
/// joiner in ASCII text and a run of variation selectors (hidden data, four bits a selector)
/// passed as nothing too; an emoji's joiner and a selector after a glyph still draw.
#[test]
fn a_page_shows_what_reorders_or_hides_text_as_its_escape() {
    use crate::common::SessionBuilder;

    let env = TestEnv::new();
    let id = SessionBuilder::new("5a4e0000-0000-4000-8000-000000000003")
        .meta(|m| m.agent_name = "claude-code\u{1b}]0;title\u{7}".to_owned())
        .prompt(
            "open report\u{202e}fdp.exe now\u{200b}\r\nplease\u{2060}\u{2028}\u{E0001}\u{E0068}\u{E0069} \
             \u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F} \
             r\u{200d}m \u{2764}\u{fe0f}\u{fe01}\u{fe02} \u{1F469}\u{200d}\u{1F4BB} x\u{180b}",
        )
        .tool_call(
            "Write",
            json!({"file_path": "report\u{202e}fdp.exe", "content": "x"}),
        )
        .result(json!("ok"))
        .write(&env);
    let Some(browser) = Browser::from_env("a_page_shows_what_reorders_or_hides_text_as_its_escape")
    else {
        return;
    };
    for (args, name) in [
        (&["share", id.as_str()][..], "share.html"),
        (
            &["replay", id.as_str(), "--format", "html"][..],
            "replay.html",
        ),
    ] {
        let path = page(&env, args, name);
        let seen = browser.run("hostile.mjs", &json!({"path": path, "payloads": []}));
        assert_eq!(seen["hidden"], json!([]), "{name}");
        let shown = browser.run("probe.mjs", &json!({"path": path}));
        let text = format!("{}\n{}", shown["title"], shown["text"]);
        for escape in [
            r"report\u202efdp.exe",
            r"claude-code\u001b]0;title\u0007",
            r"now\u200b",
            r"please\u2060\u2028\udb40\udc01\udb40\udc68\udb40\udc69 ",
            "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
            // A joiner or selector with nothing to draw with shows escaped; one that draws
            // (an emoji's joiner, a selector after a glyph) stays.
            r"r\u200dm",
            "\u{2764}\u{fe0f}\\ufe01\\ufe02",
            "\u{1F469}\u{200d}\u{1F4BB}",
            r"x\u180b",
        ] {
            assert!(
                shown["text"].as_str().unwrap().contains(escape),
                "{name}: {escape} not in {text}"
            );
        }
        assert!(
            shown["title"].as_str().unwrap().contains(r"\u202e"),
            "{name}: {}",
            shown["title"]
        );
    }
}

/// `share` redacted each session of the page before building it, but added its subagents' cost
/// from the store as recorded: a token in a subagent's model name was in the page's header
/// and cost, unredacted (and a name `--anonymize` replaces, as it was). The subagents' cost
/// is computed from them as cleaned.
#[test]
fn share_redacts_a_subagents_model_name_in_the_cost() {
    use crate::common::SessionBuilder;

    let env = TestEnv::new();
    let token = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
    let tokens = Tokens {
        input: 1_000,
        output: 100,
        ..Tokens::default()
    };
    let root = SessionBuilder::new("5a4e0000-0000-4000-8000-000000000004")
        .prompt("delegate")
        .tool_call("Task", json!({"prompt": "look"}))
        .llm_response("claude-sonnet-4-5", tokens)
        .write(&env);
    SessionBuilder::new("5a4e0000-0000-4000-8000-000000000005")
        .meta(|m| {
            m.parent_session_id = Some(root.clone());
            m.depth = 1;
        })
        .prompt("look")
        .llm_response(&format!("proxy-{token}"), tokens)
        .write(&env);
    let path = page(&env, &["share", &root], "share.html");
    let html = std::fs::read_to_string(&path).unwrap();
    let models = &html[html.find("\"models\":").unwrap()..][..300];
    assert!(html.contains("proxy-[REDACTED]"), "{models}");
    assert!(!html.contains(token), "{models}");
}

/// The agent's name in a session's meta is free text whoever wrote it (a collector's client,
/// another tool): a token there was in the share page's summary and session list, unredacted.
#[test]
fn share_redacts_the_agent_name() {
    use crate::common::SessionBuilder;

    let env = TestEnv::new();
    let token = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
    let root = SessionBuilder::new("5a4e0000-0000-4000-8000-000000000006")
        .meta(|m| m.agent_name = format!("bot {token}"))
        .prompt("hello")
        .write(&env);
    let path = page(&env, &["share", &root], "share.html");
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(!html.contains(token), "the token is in the page");
    assert!(html.contains("bot [REDACTED]"));
}

/// `share` priced a hook-recorded session from its Claude Code transcript with the model names
/// the transcript gave, as they were: a token in one (a proxy's model name) was in the page's
/// cost though every event was redacted. The names read from the transcript are redacted too.
#[test]
fn share_redacts_a_model_name_read_from_a_hook_sessions_transcript() {
    let env = TestEnv::new();
    let token = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
    let transcript = env.path().join("transcript.jsonl");
    let text =
        std::fs::read_to_string(shared().join("corpus/claude-code/marot__spotter/short.jsonl"))
            .unwrap()
            .replace(
                "\"model\":\"claude-opus-4-6\"",
                &format!("\"model\":\"proxy-{token}\""),
            );
    std::fs::write(&transcript, text).unwrap();
    let sid = "c7428042-d9a9-4e9e-a71c-4433a8d202c0";
    env.hook_session_with_transcript(sid, &transcript);
    // The transcript prices the session: its model is named in `cost`, as it was.
    let cost = env.run(&["cost", sid, "--format", "json"]).success().json();
    assert!(cost.to_string().contains(token), "{cost}");
    let path = page(&env, &["share", sid], "share.html");
    let html = std::fs::read_to_string(&path).unwrap();
    let models = &html[html.find("\"models\":").unwrap()..][..300];
    assert!(html.contains("proxy-[REDACTED]"), "{models}");
    assert!(!html.contains(token), "{models}");
}

/// A session of 20,000 events of about a kilobyte each, written as a hook writes them, but for
/// its first two calls, written the second first: out of time order, so that the text replay
/// holds the whole session as the page does (a session in order it tells as it reads).
fn kilobyte_events_session(env: &TestEnv) -> String {
    use std::fmt::Write as _;
    let id = "b16e0000-0000-4000-8000-000000000001";
    let dir = env.store().join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let t0 = 1_770_000_000.0;
    let meta = json!({"session_id": id, "started_at": t0, "ended_at": t0 + 10_000.0,
        "agent_name": "claude-code", "command": "c"});
    std::fs::write(dir.join("meta.json"), meta.to_string()).unwrap();
    let mut lines = String::new();
    for i in 0..10_000 {
        let at = t0
            + f64::from(match i {
                0 => 1,
                1 => 0,
                _ => i,
            });
        let call = json!({"event_type": "tool_call", "timestamp": at, "event_id": format!("c{i}"),
            "session_id": id, "data": {"tool_name": "Bash",
            "arguments": {"command": format!("echo {}", "x".repeat(800))}}});
        let result = json!({"event_type": "tool_result", "timestamp": at + 0.5,
            "event_id": format!("r{i}"), "session_id": id, "parent_id": format!("c{i}"),
            "duration_ms": 500, "data": {"tool_name": "Bash", "result": "y".repeat(900)}});
        writeln!(lines, "{call}\n{result}").unwrap();
    }
    std::fs::write(dir.join("events.ndjson"), lines).unwrap();
    id.to_owned()
}

/// `share` and `replay --format html` held the page whole in memory, three times over (its
/// JSON, an escaped copy, the finished page), before they wrote it: 1.4 GB for a 206 MB
/// session. The page is written as it is made: the page takes less memory over the text
/// replay of the same session, held whole, than twice the page's size (it took three times
/// before).
#[test]
fn a_page_is_written_as_it_is_made_not_held_whole() {
    let env = TestEnv::new();
    let id = kilobyte_events_session(&env);
    let path = env.path().join("big.html");
    let html = env.command(&[
        "replay",
        &id,
        "--format",
        "html",
        "-o",
        path.to_str().unwrap(),
    ]);
    let (run, html_peak) = crate::common::run_for_peak_memory_kib(&html);
    run.success();
    let (run, text_peak) = crate::common::run_for_peak_memory_kib(&env.command(&["replay", &id]));
    run.success();
    let page_kib = size(&path) / 1024;
    println!("replay peak: html {html_peak} KiB, text {text_peak} KiB; page {page_kib} KiB");
    assert!(
        html_peak.saturating_sub(text_peak) < 2 * page_kib,
        "the page took {} KiB more than the text replay, for a page of {page_kib} KiB",
        html_peak.saturating_sub(text_peak)
    );
}

/// A page written to a file and the page written to standard output are the same bytes, and
/// its model reads back as JSON with nothing in it that HTML would read as markup.
#[test]
fn a_page_to_a_file_is_the_page_on_standard_output() {
    let env = TestEnv::new();
    import_corpus_session(&env);
    env.run(&[
        "annotate",
        CORPUS_SESSION,
        "3",
        "--note",
        "</script> é 👩\u{200d}💻 \u{2028}",
    ])
    .success();
    for args in [
        &["share", CORPUS_SESSION][..],
        &["replay", CORPUS_SESSION, "--format", "html"],
    ] {
        let html = std::fs::read_to_string(page(&env, args, "page.html")).unwrap();
        let run = env.run(args);
        assert!(
            run.success().stdout == html,
            "{args:?}: the file and stdout differ"
        );
        let start = html.find("<script id=\"page-data\"").unwrap();
        let data = &html[start..];
        let data = &data[data.find('>').unwrap() + 1..data.find("</script>").unwrap()];
        assert!(!data.contains(['<', '>', '&', '\u{2028}']));
        let model: Value = serde_json::from_str(data).unwrap();
        assert!(
            model.to_string().contains("</script> é 👩\u{200d}💻"),
            "{args:?}"
        );
    }
}
