//! `optimize`: failure patterns with their evidence, additions made once, datasets by label,
//! and clustering by an OpenAI-compatible endpoint the test runs (falling back on failure).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use serde_json::{Value, json};

use crate::common::TestEnv;
use crate::common::session::SessionBuilder;

/// A session that retries a failing command unchanged, writes ten files and rereads one.
fn troubled(env: &TestEnv, id: &str) -> String {
    let mut s = SessionBuilder::new(id).prompt("make the tests pass");
    for _ in 0..3 {
        s = s
            .tool_call("Bash", json!({"command": "cargo test"}))
            .error("test failed");
    }
    for i in 0..10 {
        s = s
            .tool_call(
                "Write",
                json!({"file_path": format!("/w/src/f{i}.rs"), "content": "x"}),
            )
            .result(json!("ok"));
    }
    for _ in 0..3 {
        s = s
            .tool_call("Read", json!({"file_path": "/w/README.md"}))
            .result(json!("text"));
    }
    s.answer("done").write(env)
}

fn calm(env: &TestEnv, id: &str) -> String {
    SessionBuilder::new(id)
        .prompt("hi")
        .tool_call("Read", json!({"file_path": "/w/a"}))
        .result(json!("a"))
        .answer("ok")
        .write(env)
}

fn optimize(env: &TestEnv, args: &[&str]) -> Value {
    let mut all = vec!["optimize", "--format", "json"];
    all.extend_from_slice(args);
    let run = env.run(&all);
    run.success();
    run.json()
}

fn names(report: &Value) -> Vec<&str> {
    report["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

#[test]
fn each_pattern_names_its_sessions_and_events() {
    let env = TestEnv::new();
    let id = troubled(&env, "opt-bad");
    calm(&env, "opt-ok");
    let report = optimize(&env, &["--since", "2000-01-01"]);
    assert_eq!(report["sessions"], 2);
    assert_eq!(
        names(&report),
        [
            "blind-retry",
            "error-no-change",
            "wide-blast-radius",
            "redundant-read"
        ]
    );
    let pattern = |name: &str| {
        report["patterns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()
            .clone()
    };
    // Events: 1 prompt, then Bash at 2, 4, 6 with errors at 3, 5, 7.
    let blind = pattern("blind-retry");
    assert_eq!(blind["sessions"], json!([id]));
    assert_eq!(blind["evidence"][0]["events"], json!([2, 4, 6]));
    let no_change = pattern("error-no-change");
    assert_eq!(no_change["evidence"][0]["events"], json!([2, 3, 4]));
    assert_eq!(no_change["evidence"].as_array().unwrap().len(), 2);
    let wide = pattern("wide-blast-radius");
    assert_eq!(wide["evidence"][0]["events"].as_array().unwrap().len(), 10);
    let reread = pattern("redundant-read");
    assert_eq!(reread["evidence"][0]["events"], json!([28, 30, 32]));
    assert!(
        report["patterns"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["source"] == "heuristic")
    );
}

#[test]
fn apply_adds_each_proposal_once() {
    let env = TestEnv::new();
    let id = troubled(&env, "opt-apply");
    let target = env.path().join("AGENTS.md");
    std::fs::write(&target, "# Project rules\n\nBe kind.\n").unwrap();
    let first = optimize(&env, &[&id, "--apply"]);
    assert_eq!(first["added"].as_array().unwrap().len(), 4);
    let once = std::fs::read_to_string(&target).unwrap();
    assert!(once.starts_with("# Project rules\n\nBe kind.\n\n<!-- agent-strace optimize: blind-retry -->\n## Retry policy"), "{once}");
    let second = optimize(&env, &[&id, "--apply"]);
    assert_eq!(second["added"], json!([]));
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        once,
        "twice changes nothing"
    );

    let dry = env.run(&["optimize", &id, "--target", "OTHER.md"]);
    dry.success();
    assert!(dry.stdout.contains("--apply"), "{}", dry.stdout);
    assert!(
        !env.path().join("OTHER.md").exists(),
        "without --apply nothing is written"
    );
}

/// `--apply` rewrote the end of the file it added to: its last line's spaces were cut, its
/// last CRLF made LF, and the additions were in LF, a mix of both. The file's bytes are kept
/// and the additions follow in its own line ends.
#[test]
fn apply_keeps_the_files_bytes_and_its_line_ends() {
    let env = TestEnv::new();
    let id = troubled(&env, "opt-crlf");
    let target = env.path().join("AGENTS.md");
    let existing = "\u{feff}# Agents\r\nline\r\nlast  ";
    std::fs::write(&target, existing).unwrap();
    let run = optimize(&env, &[&id, "--apply"]);
    assert!(!run["added"].as_array().unwrap().is_empty(), "{run}");
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(text.starts_with(existing), "{text:?}");
    let added = &text[existing.len()..];
    assert!(
        added.starts_with("\r\n\r\n<!-- agent-strace optimize:"),
        "{added:?}"
    );
    assert_eq!(
        added.matches('\n').count(),
        added.matches("\r\n").count(),
        "every line ends in CRLF: {added:?}"
    );
    assert!(added.ends_with("\r\n"), "{added:?}");
}

#[test]
fn a_dataset_is_the_sessions_labelled_so() {
    let env = TestEnv::new();
    let bad = troubled(&env, "opt-ds-bad");
    let ok = calm(&env, "opt-ds-ok");
    env.run(&["annotate", &ok, "1", "--label", "auth-failures"])
        .success();
    let report = optimize(&env, &["--dataset", "auth-failures"]);
    assert_eq!(report["sessions"], 1);
    assert!(report["patterns"].as_array().unwrap().is_empty());
    env.run(&["annotate", &bad, "2", "--label", "auth-failures"])
        .success();
    let report = optimize(&env, &["--dataset", "auth-failures"]);
    assert_eq!(report["sessions"], 2);
    assert!(!names(&report).is_empty());
    let none = env.run(&["optimize", "--dataset", "nobody"]);
    assert_eq!(none.code, 2, "{none:?}");
}

/// Serves one HTTP request with `status` and `body`; sends back what it received.
fn one_shot_endpoint(status: u16, body: String) -> (u16, mpsc::Receiver<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut request = vec![0; length];
        reader.read_exact(&mut request).unwrap();
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        tx.send((head, request)).unwrap();
    });
    (port, rx)
}

#[test]
fn an_llm_endpoint_clusters_the_failures_and_a_failing_one_falls_back() {
    let env = TestEnv::new();
    let id = troubled(&env, "opt-llm");
    let content = json!({"patterns": [{
        "name": "Test Loop",
        "description": "reran failing tests without reading them",
        "affected_sessions": [&id[..6]],
        "proposed_addition": "## Tests\nRead the failing test's output before running it again."
    }]})
    .to_string();
    let answer = json!({"choices": [{"message": {"role": "assistant", "content": format!("```json\n{content}\n```")}}]});
    let (port, seen) = one_shot_endpoint(200, answer.to_string());
    let url = format!("http://127.0.0.1:{port}/v1");
    let report = optimize(
        &env,
        &[
            &id,
            "--base-url",
            &url,
            "--model",
            "local-7b",
            "--api-key",
            "k-123",
        ],
    );
    assert_eq!(names(&report), ["test-loop"]);
    assert_eq!(report["patterns"][0]["source"], "llm");
    assert_eq!(report["patterns"][0]["sessions"], json!([id]));
    let (head, body) = seen.recv().unwrap();
    assert!(head.starts_with("POST /v1/chat/completions "), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("authorization: bearer k-123"),
        "{head}"
    );
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["model"], "local-7b");
    let prompt = body["messages"][0]["content"].as_str().unwrap();
    assert!(
        prompt.contains("test failed") && prompt.contains(&id),
        "{prompt}"
    );

    let (port, _seen) = one_shot_endpoint(500, "{}".to_owned());
    let url = format!("http://127.0.0.1:{port}/v1");
    let run = env.run(&["optimize", &id, "--base-url", &url, "--format", "json"]);
    run.success();
    assert!(run.stderr.contains("built-in patterns"), "{}", run.stderr);
    assert_eq!(names(&run.json())[0], "blind-retry");
}

#[test]
fn a_linked_target_is_refused_and_nothing_is_written_through_it() {
    let env = TestEnv::new();
    let id = troubled(&env, "opt-link");
    let real = env.path().join("real.md");
    std::fs::write(&real, "mine\n").unwrap();
    std::os::unix::fs::symlink(&real, env.path().join("AGENTS.md")).unwrap();
    let run = env.run(&["optimize", &id, "--apply"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("is a link"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&real).unwrap(), "mine\n");
}

/// A dry run only reads the target, to mark what it holds already: an AGENTS.md linked to
/// CLAUDE.md (a common setup) was refused, exit 3, though nothing was to be written. It is read
/// through the link; --apply still refuses it.
#[test]
fn a_dry_run_reads_a_linked_target_through_its_link() {
    let env = TestEnv::new();
    let id = troubled(&env, "opt-dry-link");
    let real = env.path().join("CLAUDE.md");
    std::fs::write(&real, "# c\n").unwrap();
    std::os::unix::fs::symlink("CLAUDE.md", env.path().join("AGENTS.md")).unwrap();
    let first = optimize(&env, &[&id]);
    let proposals = first["added"].as_array().unwrap().len();
    assert!(proposals > 0, "{first}");
    // What CLAUDE.md holds already is marked so through the link.
    let applied = env.run(&["optimize", &id, "--target", "CLAUDE.md", "--apply"]);
    applied.success();
    let after = optimize(&env, &[&id]);
    assert_eq!(after["added"], json!([]), "{after}");
    let text = env.run(&["optimize", &id]);
    assert!(text.stdout.contains("already in"), "{}", text.stdout);
    // A link that points nowhere holds nothing yet.
    std::fs::remove_file(env.path().join("AGENTS.md")).unwrap();
    std::os::unix::fs::symlink("gone.md", env.path().join("AGENTS.md")).unwrap();
    let dangling = optimize(&env, &[&id]);
    assert_eq!(dangling["added"].as_array().unwrap().len(), proposals);
    let refused = env.run(&["optimize", &id, "--apply"]);
    assert_eq!(refused.code, 3, "{refused:?}");
}

/// A target in a folder that is not there is bad usage (exit 2), said before any work, as an
/// `--output` in one is: it was a failed write (exit 4) after the sessions were read.
#[test]
fn a_target_in_a_missing_folder_is_bad_usage() {
    let env = TestEnv::new();
    let id = troubled(&env, "opt-nofolder");
    let run = env.run(&[
        "optimize",
        &id,
        "--apply",
        "--target",
        "nowhere/dir/AGENTS.md",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("the folder nowhere/dir does not exist")
            && run.stderr.contains("--target"),
        "{}",
        run.stderr
    );
    assert!(!env.path().join("nowhere").exists());
}

/// With no session in the last 30 days, optimize said "No failure patterns in 0 session(s)."
/// and nothing of where the sessions were; it says so now as budget-report does.
#[test]
fn no_session_in_the_window_names_the_newest_and_a_since_to_try() {
    let env = TestEnv::new();
    SessionBuilder::new("o-old")
        .started(1_700_000_000.0)
        .prompt("go")
        .session_end(json!({}))
        .write(&env);
    let run = env.run(&["optimize"]);
    run.success();
    let day = run
        .stdout
        .split("(try --since ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(day.starts_with("2023-11-1"), "{}", run.stdout);
    let tried = env.run(&["optimize", "--since", day]);
    tried.success();
    assert!(
        tried.stdout.contains("No failure patterns in 1 session."),
        "{}",
        tried.stdout
    );
}

/// `--apply` wrote through one fixed temporary name (`.AGENTS.md.agent-strace-optimize`): a run
/// killed there made every later run fail with "File exists". Each run names its own now, keeps
/// the mode of the file it replaces, and makes a new one as any file is made (not private).
#[test]
fn a_temporary_file_a_killed_run_left_blocks_no_later_apply() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let id = troubled(&env, "opt-stale");
    let stale = env.path().join(".AGENTS.md.agent-strace-optimize");
    std::fs::write(&stale, "half of it").unwrap();
    let report = optimize(&env, &[&id, "--apply"]);
    assert_eq!(report["added"].as_array().unwrap().len(), 4, "{report}");
    let target = env.path().join("AGENTS.md");
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .contains("agent-strace optimize: blind-retry")
    );
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_ne!(
        mode & 0o044,
        0,
        "a new instruction file is readable by others: {mode:o}"
    );

    let other = env.path().join("CLAUDE.md");
    std::fs::write(&other, "# Rules\n").unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o640)).unwrap();
    optimize(&env, &[&id, "--apply", "--target", "CLAUDE.md"]);
    let mode = std::fs::metadata(&other).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    let left: Vec<_> = std::fs::read_dir(env.path())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains("agent-strace") && n != ".AGENTS.md.agent-strace-optimize")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A parallel batch of reads where one file was missing and Claude Code cancelled the others
/// ("Sibling tool call errored") made `error-no-change` say '"Read" failed and was called again
/// unchanged' of the cancelled reads the agent then made: they never ran, so the read after
/// them was their first try. Nor are the cancellations failures to cluster.
#[test]
fn calls_cancelled_for_a_siblings_failure_are_no_failures() {
    let env = TestEnv::new();
    let (mut s, _) = SessionBuilder::new("opt-batch")
        .prompt("read them")
        .batch_failing_first(
            "Read",
            &["/w/a.rs", "/w/b.rs", "/w/c.rs"],
            "File does not exist.",
        );
    for file in ["/w/b.rs", "/w/c.rs"] {
        s = s
            .tool_call("Read", json!({"file_path": file}))
            .result(json!("fn f() {}"));
    }
    let id = s.answer("a.rs is missing").write(&env);
    let report = optimize(&env, &[&id]);
    assert!(!names(&report).contains(&"error-no-change"), "{report}");

    // The missing file read again unchanged is still found.
    let (s, calls) = SessionBuilder::new("opt-again")
        .prompt("read them")
        .batch_failing_first("Read", &["/w/a.rs", "/w/b.rs"], "File does not exist.");
    let again = s.next_id();
    let id = s
        .tool_call("Read", json!({"file_path": "/w/a.rs"}))
        .error("File does not exist.")
        .write(&env);
    let report = optimize(&env, &[&id]);
    let number = |id: &str| id.trim_start_matches('e').parse::<u64>().unwrap();
    let found: Vec<_> = report["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "error-no-change")
        .flat_map(|p| p["evidence"].as_array().unwrap().clone())
        .map(|e| e["events"].clone())
        .collect();
    assert_eq!(
        found,
        [json!([
            number(&calls[0]),
            number(&calls[0]) + 2,
            number(&again)
        ])],
        "{report}"
    );
}

/// A session dated next year (a clock that was ahead, a log imported from a machine ahead) was
/// read by `optimize --since 7d`, "the last 7 days". A period with no end ends now: it is left
/// out, with the one warning `list` gives.
#[test]
fn optimize_since_leaves_out_a_session_dated_after_now() {
    use crate::common::{LEFT_OUT_AS_AHEAD, a_session_now_and_one_next_year};

    let env = TestEnv::new();
    a_session_now_and_one_next_year(&env);
    let run = env.run(&["optimize", "--since", "7d"]);
    run.success();
    assert_eq!(run.stdout.trim_end(), "No failure patterns in 1 session.");
    assert!(run.stderr.contains(LEFT_OUT_AS_AHEAD), "{}", run.stderr);
}

/// `optimize` counted a file deleted as a file written (corpus python-to-rust-port: "17
/// distinct files written" and wide-blast-radius, where `sample` and `export --metrics` gave a
/// blast radius of 8 and `compare` 8 modified, 9 deleted). A deletion writes no content: the
/// files written are the summary's, as the other commands count them.
#[test]
fn files_deleted_are_no_files_written_for_the_blast_radius() {
    let env = TestEnv::new();
    let mut s = SessionBuilder::new("opt-deletes").prompt("clean up");
    for i in 0..2 {
        s = s
            .tool_call(
                "Write",
                json!({"file_path": format!("/w/src/new{i}.rs"), "content": "x"}),
            )
            .result(json!("ok"));
    }
    let old: Vec<String> = (0..9).map(|i| format!("/w/old/f{i}.py")).collect();
    let call = s.next_id();
    s = s
        .tool_call("Bash", json!({"command": format!("rm {}", old.join(" "))}))
        .result(json!(""));
    for path in &old {
        s = s
            .event(
                agent_strace::model::EventType::FileWrite,
                json!({"path": path, "change": "delete"}),
            )
            .parent(&call);
    }
    let id = s.answer("done").write(&env);
    let report = optimize(&env, &[&id]);
    assert!(!names(&report).contains(&"wide-blast-radius"), "{report}");
    let sampled = env.run(&["sample", "--strategy", "recent", "--n", "1"]);
    sampled.success();
    let line: Value = serde_json::from_str(sampled.stdout.trim_end()).unwrap();
    assert_eq!(line["score"]["blast_radius"], 2, "{line}");

    // Nine files written are more than eight: found, with the count the others give.
    let mut s = SessionBuilder::new("opt-writes").prompt("write them");
    for i in 0..9 {
        s = s
            .tool_call(
                "Write",
                json!({"file_path": format!("/w/src/f{i}.rs"), "content": "x"}),
            )
            .result(json!("ok"));
    }
    let id = s.answer("done").write(&env);
    let report = optimize(&env, &[&id]);
    let wide: Vec<&Value> = report["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "wide-blast-radius")
        .collect();
    assert_eq!(
        wide[0]["evidence"][0]["what"], "9 distinct files written",
        "{report}"
    );
}
