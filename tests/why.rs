//! `why`: the causal chain of an event, through the binary, on built sessions and a real
//! transcript; event numbers as replay prints them.

use agent_strace::model::EventType;
use serde_json::{Value, json};

use crate::common::{Run, SessionBuilder, TestEnv, shared};

const ID: &str = "c0ffee00-0000-4000-8000-000000000000";

/// The chain as (event, how it leads on) pairs, root first.
fn chain(answer: &Value) -> Vec<(u64, Value)> {
    answer["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["event"].as_u64().unwrap(), l["leads_by"].clone()))
        .collect()
}

fn why(env: &TestEnv, args: &[&str]) -> Value {
    let mut all = vec!["why"];
    all.extend(args);
    all.extend(["--format", "json"]);
    env.run(&all).success().json()
}

#[test]
fn a_retry_leads_back_through_its_error_to_the_prompt() {
    let env = TestEnv::new();
    SessionBuilder::new(ID)
        .prompt("run the test suite")
        .at(1.0)
        .tool_call("Bash", json!({"command": "pytest tests/"}))
        .at(3.0)
        .error("exit 1")
        .at(4.0)
        .tool_call("Bash", json!({"command": "git status"}))
        .result(json!("nothing to commit"))
        .at(5.0)
        .tool_call("Bash", json!({"command": "pytest tests/"}))
        .write(&env);
    // #1 prompt, #2 pytest, #3 its error, #4 git status, #5 its result, #6 pytest again.
    let answer = why(&env, &["c0f", "6"]);
    assert_eq!(answer["session_id"], ID);
    assert_eq!(answer["target"], 6);
    assert_eq!(
        chain(&answer),
        vec![
            (1, json!("prompt")),
            (2, json!("parent")),
            (3, json!("retry")),
            (6, Value::Null)
        ]
    );
    assert_eq!(answer["chain"][1]["what"], "$ pytest tests/");
    assert_eq!(answer["chain"][2]["event_type"], "error");
    // `git status` after the error is no retry: its cause is the prompt. The latest session
    // is the default.
    assert_eq!(
        chain(&why(&env, &["4"])),
        vec![(1, json!("prompt")), (4, Value::Null)]
    );
    let text = env.run(&["why", "6"]);
    text.success();
    assert!(
        text.stdout.contains("tries again after the error at #3"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_write_leads_back_to_the_read_of_its_file_and_the_search_that_found_it() {
    let env = TestEnv::new();
    SessionBuilder::new(ID)
        .session_start(json!({"cwd": "/p"}))
        .prompt("fix the login bug")
        .at(1.0)
        .tool_call("Grep", json!({"pattern": "def login"}))
        .result(json!("src/auth.py:12: def login(user):"))
        .at(2.0)
        .tool_call("Read", json!({"file_path": "/p/src/auth.py"}))
        .result(json!("def login(user): ..."))
        .file_read("/p/src/auth.py")
        .at(3.0)
        .tool_call("Bash", json!({"command": "ls"}))
        .result(json!("src tests"))
        .at(4.0)
        .tool_call(
            "Edit",
            json!({"file_path": "/p/src/auth.py", "old_string": "a", "new_string": "b"}),
        )
        .write(&env);
    // #1 start, #2 prompt, #3 grep, #4 its result, #5 read, #6 result, #7 file_read,
    // #8 ls, #9 its result, #10 the edit.
    let answer = why(&env, &["10"]);
    assert_eq!(
        chain(&answer),
        vec![
            (2, json!("prompt")),
            (3, json!("parent")),
            (4, json!("path_reference")),
            (5, json!("parent")),
            (7, json!("read_write")),
            (10, Value::Null)
        ]
    );
    assert_eq!(answer["chain"][2]["path"], "/p/src/auth.py");
    assert_eq!(answer["chain"][4]["path"], "src/auth.py");
    // The prompt is where a chain starts.
    assert_eq!(chain(&why(&env, &["2"])), vec![(2, Value::Null)]);
}

/// One error line on stderr and the usage exit code.
#[track_caller]
fn usage_error(run: &Run) {
    assert_eq!(
        run.code, 2,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
}

#[test]
fn bad_event_numbers_and_sessions_are_one_error_line_and_exit_2() {
    let env = TestEnv::new();
    SessionBuilder::new(ID)
        .prompt("hi")
        .answer("hello")
        .write(&env);
    let out = env.run(&["why", ID, "3"]);
    usage_error(&out);
    // annotate's words for the same thing: `why` said "its events are #1 to #2".
    assert!(
        out.stderr.contains("its events are numbered 1 to 2"),
        "{}",
        out.stderr
    );
    let annotate = env.run(&["annotate", ID, "3", "--note", "x"]);
    assert_eq!(
        annotate.stderr, out.stderr,
        "one wording for an event a session does not have"
    );
    usage_error(&env.run(&["why", ID, "0"]));
    usage_error(&env.run(&["why", ID, "two"]));
    usage_error(&env.run(&["why", "ffff", "1"]));
    usage_error(&TestEnv::new().run(&["why", "1"]));
}

#[test]
fn an_edit_in_a_real_transcript_leads_back_to_the_read_of_its_file() {
    let env = TestEnv::new();
    let transcript =
        shared().join("corpus/claude-code/DRMacIver__claude-reliability/coverage-test-fix.jsonl");
    let imported = env
        .run(&[
            "--trace-dir",
            "s",
            "import",
            "--format",
            "json",
            transcript.to_str().unwrap(),
        ])
        .success()
        .json();
    let id = imported[0]["session_id"].as_str().unwrap().to_owned();
    // Event numbers are places in events.ndjson, as replay numbers them.
    let events =
        std::fs::read_to_string(env.path().join("s").join(&id).join("events.ndjson")).unwrap();
    let events: Vec<Value> = events
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (index, edit) = events
        .iter()
        .enumerate()
        .find(|(_, e)| e["event_type"] == "tool_call" && e["data"]["tool_name"] == "Edit")
        .expect("the transcript edits a file");
    let number = (index + 1).to_string();
    let path = edit["data"]["arguments"]["file_path"].as_str().unwrap();
    let answer = env
        .run(&["--trace-dir", "s", "why", &id, &number, "--format", "json"])
        .success()
        .json();
    let links = answer["chain"].as_array().unwrap();
    let last = links.last().unwrap();
    assert_eq!(last["event"], index + 1);
    assert_eq!(last["tool"], "Edit");
    // Causes come before what they cause, and the root is a prompt or the start.
    let numbers: Vec<u64> = links.iter().map(|l| l["event"].as_u64().unwrap()).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    assert!(
        ["user_prompt", "session_start"].contains(&links[0]["event_type"].as_str().unwrap()),
        "{answer}"
    );
    // The read of the edited file informed the edit, and it is a read of that file.
    let read = links
        .iter()
        .find(|l| l["leads_by"] == "read_write")
        .expect("a read of the file");
    let read_event = &events[read["event"].as_u64().unwrap() as usize - 1];
    let read_path = read_event["data"]["arguments"]["file_path"]
        .as_str()
        .or_else(|| read_event["data"]["path"].as_str())
        .unwrap();
    assert_eq!(read_path, path);
}

/// Counts of one read `1 subagent session`, not `1 subagent sessions`, and the replay header's
/// two notes on the cost share one parenthesis: `(estimated from payload sizes) (its subagent
/// included)` was two in a row.
#[test]
fn one_subagent_is_singular_and_the_cost_has_one_parenthesis() {
    let env = TestEnv::new();
    SessionBuilder::new(ID)
        .prompt("spawn a helper")
        .at(1.0)
        .tool_call("Task", json!({"prompt": "look it up"}))
        .write(&env);
    SessionBuilder::new("c0ffee01-0000-4000-8000-000000000000")
        .meta(|m| m.parent_session_id = Some(ID.to_owned()))
        .prompt("look it up")
        .write(&env);
    let stats = env.run(&["stats", ID, "--include-subagents"]);
    stats.success();
    assert!(
        stats
            .stdout
            .contains(&format!("Session {ID} and 1 subagent session\n")),
        "{}",
        stats.stdout
    );
    let replay = env.run(&["replay", ID]);
    replay.success();
    let cost = replay
        .stdout
        .lines()
        .find(|l| l.starts_with("Cost: "))
        .unwrap_or_default();
    assert!(
        cost.ends_with(" (estimated from payload sizes, its subagent included)"),
        "{}",
        replay.stdout
    );
}

/// Once a path had to stand whole, `git diff`'s `a/src/lib.rs` and `b/src/lib.rs` no longer
/// named `src/lib.rs`, and a read that followed a diff led back to the prompt alone.
#[test]
fn a_git_diff_names_the_files_it_shows() {
    let env = TestEnv::new();
    SessionBuilder::new(ID)
        .session_start(json!({"cwd": "/w"}))
        .prompt("fix it")
        .at(1.0)
        .tool_call("Bash", json!({"command": "git diff"}))
        .result(json!(
            "diff --git a/src/lib.rs b/src/lib.rs\n--- a/src/lib.rs\n+++ b/src/lib.rs"
        ))
        .at(2.0)
        .tool_call("Read", json!({"file_path": "/w/src/lib.rs"}))
        .write(&env);
    // #1 start, #2 prompt, #3 git diff, #4 its result, #5 the read.
    let read = why(&env, &["5"]);
    assert_eq!(
        chain(&read),
        vec![
            (2, json!("prompt")),
            (3, json!("parent")),
            (4, json!("path_reference")),
            (5, Value::Null)
        ]
    );
}

/// A result links to a later call by a path only where it names that path whole: `metadata.py`
/// in an `ls` names no `a.py`, while `src/lib.rs:12` and `'a.py'` name theirs.
#[test]
fn a_result_mentions_a_path_only_where_the_whole_path_stands() {
    let env = TestEnv::new();
    SessionBuilder::new(ID)
        .session_start(json!({"cwd": "/w"}))
        .prompt("look at the code")
        .at(1.0)
        .tool_call("Bash", json!({"command": "ls"}))
        .result(json!("metadata.py\nREADME"))
        .at(2.0)
        .tool_call("Read", json!({"file_path": "/w/a.py"}))
        .result(json!("print(1)"))
        .at(3.0)
        .tool_call("Grep", json!({"pattern": "fn main"}))
        .result(json!("src/lib.rs:12: fn main() {"))
        .at(4.0)
        .tool_call("Read", json!({"file_path": "/w/src/lib.rs"}))
        .result(json!("fn main() {}"))
        .at(5.0)
        .tool_call("Bash", json!({"command": "cat TODO"}))
        .result(json!("next: edit 'a.py' now"))
        .at(6.0)
        .tool_call(
            "Edit",
            json!({"file_path": "/w/a.py", "old_string": "1", "new_string": "2"}),
        )
        .write(&env);
    // #1 start, #2 prompt, #3 ls, #4 its result, #5 read a.py, #6 its result, #7 grep, #8 its
    // result, #9 read src/lib.rs, #10 its result, #11 cat TODO, #12 its result, #13 the edit.
    assert_eq!(
        chain(&why(&env, &["5"])),
        vec![(2, json!("prompt")), (5, Value::Null)]
    );
    let lib = why(&env, &["9"]);
    assert_eq!(
        chain(&lib),
        vec![
            (2, json!("prompt")),
            (7, json!("parent")),
            (8, json!("path_reference")),
            (9, Value::Null)
        ]
    );
    assert_eq!(lib["chain"][2]["path"], "/w/src/lib.rs");
    let edit = why(&env, &["13"]);
    assert_eq!(
        chain(&edit),
        vec![
            (2, json!("prompt")),
            (11, json!("parent")),
            (12, json!("path_reference")),
            (13, Value::Null)
        ]
    );
}

/// The (event, parent) pairs of the `parent_id` links `why` did not follow.
fn not_followed(answer: &Value) -> Vec<(u64, u64)> {
    answer["parents_not_followed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["event"].as_u64().unwrap(), n["parent"].as_u64().unwrap()))
        .collect()
}

/// A cause comes before what it caused: a `parent_id` naming a later event (a forged or merged
/// store), the event itself, or one of a loop of parents is not followed, and the answer names
/// it; the chain still runs forward in time to a prompt or the session's start.
#[test]
fn a_parent_after_the_event_or_a_loop_of_parents_is_not_followed_and_is_named() {
    let env = TestEnv::new();
    SessionBuilder::new(ID)
        .session_start(json!({"cwd": "/w"}))
        .prompt("first")
        .at(1.0)
        .event(
            EventType::ToolResult,
            json!({"tool_name": "Bash", "result": "ok"}),
        )
        .parent("e06")
        .answer("done")
        .at(2.0)
        .prompt("second")
        .tool_call("Bash", json!({"command": "make"}))
        .write(&env);
    // #1 start, #2 prompt, #3 a result whose parent is #6, #4 answer, #5 prompt, #6 the call.
    let answer = why(&env, &["3"]);
    assert_eq!(chain(&answer), vec![(2, json!("prompt")), (3, Value::Null)]);
    assert_eq!(not_followed(&answer), vec![(3, 6)]);
    let text = env.run(&["why", "3"]);
    text.success();
    assert!(
        text.stdout
            .contains("#3's parent_id names #6, which comes after it"),
        "{}",
        text.stdout
    );
    // A sound chain passes over nothing.
    let sound = why(&env, &["6"]);
    assert_eq!(chain(&sound), vec![(5, json!("prompt")), (6, Value::Null)]);
    assert_eq!(not_followed(&sound), vec![]);

    let env = TestEnv::new();
    SessionBuilder::new(ID)
        .session_start(json!({"cwd": "/w"}))
        .answer("hi")
        .at(1.0)
        .tool_call("Bash", json!({"command": "make"}))
        .parent("e04")
        .result(json!("ok"))
        .answer("looked at myself")
        .parent("e05")
        .write(&env);
    // #1 start, #2 answer, #3 the call whose parent is #4, #4 its result, #5 its own parent.
    let looped = why(&env, &["4"]);
    assert_eq!(
        chain(&looped),
        vec![
            (1, json!("session_start")),
            (3, json!("parent")),
            (4, Value::Null)
        ]
    );
    assert_eq!(not_followed(&looped), vec![(3, 4)]);
    let itself = why(&env, &["5"]);
    assert_eq!(
        chain(&itself),
        vec![(1, json!("session_start")), (5, Value::Null)]
    );
    assert_eq!(not_followed(&itself), vec![(5, 5)]);
    let text = env.run(&["why", "5"]);
    assert!(
        text.stdout.contains("#5's parent_id names itself"),
        "{}",
        text.stdout
    );
}

/// A read of a file whose earlier read Claude Code cancelled because a read beside it failed
/// ("Sibling tool call errored") was said to "try again after the error": the cancelled read
/// never ran, so its cause is the prompt. The read of the missing file again still is a retry.
#[test]
fn a_call_cancelled_for_a_siblings_failure_is_no_error_to_retry() {
    let env = TestEnv::new();
    let (s, calls) = SessionBuilder::new(ID)
        .prompt("read them")
        .batch_failing_first("Read", &["/w/a.rs", "/w/b.rs"], "File does not exist.");
    let number = |id: &str| id.trim_start_matches('e').parse::<u64>().unwrap();
    let b_again = number(&s.next_id());
    let a_again = b_again + 2;
    s.tool_call("Read", json!({"file_path": "/w/b.rs"}))
        .result(json!("fn b() {}"))
        .tool_call("Read", json!({"file_path": "/w/a.rs"}))
        .write(&env);
    // #1 prompt, #2–#3 the batch, #4 a's error, #5 b cancelled, #6 b read again, #8 a again.
    assert_eq!(
        chain(&why(&env, &["c0f", &b_again.to_string()])),
        vec![(1, json!("prompt")), (b_again, Value::Null)]
    );
    let a_failed = number(&calls[calls.len() - 1]) + 1;
    assert_eq!(
        chain(&why(&env, &["c0f", &a_again.to_string()])),
        vec![
            (1, json!("prompt")),
            (number(&calls[0]), json!("parent")),
            (a_failed, json!("retry")),
            (a_again, Value::Null)
        ]
    );
}
