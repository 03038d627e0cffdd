//! `annotate`: notes, labels and bookmarks kept beside a session, never inside its events, in
//! the file the Python tool reads and writes.

use serde_json::{Value, json};

use crate::common::TestEnv;
use crate::common::session::SessionBuilder;

fn session(env: &TestEnv) -> String {
    SessionBuilder::new("ann-0001")
        .prompt("fix the login bug")
        .at(2.0)
        .tool_call("Bash", json!({"command": "cargo test"}))
        .at(5.0)
        .error("1 test failed")
        .at(9.0)
        .answer("done")
        .write(env)
}

fn list(env: &TestEnv, id: &str) -> Vec<Value> {
    let run = env.run(&["annotate", id, "--list", "--format", "json"]);
    run.success();
    run.json().as_array().cloned().expect("a list")
}

#[test]
fn notes_labels_and_bookmarks_attach_to_events_by_number_and_leave_events_alone() {
    let env = TestEnv::new();
    let id = session(&env);
    let events_file = env.store().join(&id).join("events.ndjson");
    let before = std::fs::read(&events_file).unwrap();

    let added = env.run(&[
        "annotate",
        &id,
        "3",
        "--note",
        "why retry?",
        "--label",
        "retry",
        "--format",
        "json",
    ]);
    added.success();
    let added = added.json();
    assert_eq!(added["event"], 3);
    env.run(&["annotate", &id, "2", "--bookmark", "--author", "ana"])
        .success();

    let all = list(&env, &id);
    assert_eq!(all.len(), 2);
    let events = env.events(&id);
    assert_eq!(all[0]["annotation_id"], added["annotation_id"]);
    assert_eq!(all[0]["event_id"], events[2]["event_id"]);
    assert_eq!(all[0]["event"], 3);
    assert_eq!(
        (all[0]["label"].as_str(), all[0]["note"].as_str()),
        (Some("retry"), Some("why retry?"))
    );
    assert_eq!(
        all[0]["offset_seconds"], 5.0,
        "seconds from the first event"
    );
    assert_eq!(
        (all[1]["event"].as_u64(), all[1]["bookmark"].as_bool()),
        (Some(2), Some(true))
    );
    assert_eq!(all[1]["author"], "ana");
    assert!(all[0].get("bookmark").is_none(), "only a bookmark says so");
    assert_eq!(
        std::fs::read(&events_file).unwrap(),
        before,
        "events.ndjson is never changed"
    );

    let text = env.run(&["annotate", &id, "--list"]);
    text.success();
    assert!(
        text.stdout.contains("[retry] why retry?") && text.stdout.contains("bookmark"),
        "{}",
        text.stdout
    );
}

#[test]
fn an_annotation_is_deleted_by_its_id_or_a_prefix_and_lines_we_cannot_read_are_kept() {
    let env = TestEnv::new();
    let id = session(&env);
    for n in ["1", "2"] {
        env.run(&["annotate", &id, n, "--note", "n"]).success();
    }
    let file = env.store().join(&id).join("annotations.jsonl");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("not json\n");
    std::fs::write(&file, text).unwrap();
    let all = list(&env, &id);
    let first = all[0]["annotation_id"].as_str().unwrap().to_owned();

    let deleted = env.run(&["annotate", &id, "--delete", &first[..6]]);
    deleted.success();
    assert!(deleted.stdout.contains(&first), "{}", deleted.stdout);
    let left = list(&env, &id);
    assert_eq!(left.len(), 1);
    assert_ne!(left[0]["annotation_id"], first.as_str());
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("not json\n")
    );

    let missing = env.run(&["annotate", &id, "--delete", &first]);
    assert_eq!(missing.code, 2, "{missing:?}");
    assert_eq!(missing.stderr.lines().count(), 1, "{}", missing.stderr);
}

#[test]
fn bad_requests_get_one_line_and_exit_2() {
    let env = TestEnv::new();
    let id = session(&env);
    for (args, says) in [
        (vec!["annotate", &id, "9", "--note", "x"], "numbered 1 to 4"),
        (vec!["annotate", &id, "2"], "--note"),
        (vec!["annotate", &id, "--note", "x"], "number"),
        (vec!["annotate", "nope", "1", "--note", "x"], "nope"),
        (vec!["annotate", &id, "2", "--note", ""], "--note is empty"),
        (
            vec!["annotate", &id, "2", "--label", " "],
            "--label is empty",
        ),
    ] {
        let run = env.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
        assert_eq!(
            run.stderr.trim().lines().count(),
            1,
            "{args:?}: {}",
            run.stderr
        );
    }
    assert!(!env.store().join(&id).join("annotations.jsonl").exists());
}

#[test]
fn a_link_planted_as_the_annotation_file_is_not_written_through() {
    let env = TestEnv::new();
    let id = session(&env);
    let target = env.path().join("elsewhere.txt");
    std::fs::write(&target, "precious\n").unwrap();
    std::os::unix::fs::symlink(&target, env.store().join(&id).join("annotations.jsonl")).unwrap();
    let run = env.run(&["annotate", &id, "1", "--note", "x"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
}

/// `share` and `replay --format html` read the notes for the page: an annotation file that
/// could not be read (a link, a FIFO) or had lines that are not annotations gave a page saying
/// "Annotations: none", exit 0 and not a word, while `annotate --list` refused the file. The
/// page is still written, and stderr says what it left out.
#[test]
fn a_page_whose_annotations_cannot_be_read_says_so_on_stderr() {
    let env = TestEnv::new();
    let id = session(&env);
    env.run(&["annotate", &id, "2", "--note", "keep me"])
        .success();
    let file = env.store().join(&id).join("annotations.jsonl");
    let kept = env.path().join("kept.jsonl");
    std::fs::rename(&file, &kept).unwrap();
    let page = env.path().join("page.html");
    let page_arg = page.to_str().unwrap();
    let plant_link = || std::os::unix::fs::symlink(&kept, &file).unwrap();
    let plant_fifo = || {
        let made = std::process::Command::new("mkfifo").arg(&file).status();
        assert!(made.unwrap().success());
    };
    let plant_bad_line = || {
        let text = std::fs::read_to_string(&kept).unwrap();
        std::fs::write(&file, format!("{text}not an annotation\n")).unwrap();
    };
    let plants: [(&str, &dyn Fn()); 3] = [
        ("symbolic link", &plant_link),
        ("FIFO", &plant_fifo),
        ("1 line of", &plant_bad_line),
    ];
    for (said, plant) in plants {
        plant();
        for line in [
            vec!["share", &id, "-o", page_arg],
            vec!["replay", &id, "--format", "html", "-o", page_arg],
        ] {
            let _ = std::fs::remove_file(&page);
            let run = env.run(&line);
            run.success();
            assert!(page.exists(), "{line:?}: no page");
            let warning = run
                .stderr
                .lines()
                .find(|l| l.starts_with("warning:") && l.contains("annotations"));
            assert!(
                warning.is_some_and(|w| w.contains(said)),
                "{said}, {line:?}: {}",
                run.stderr
            );
        }
        std::fs::remove_file(&file).unwrap();
    }
}

/// `annotate --note "token ghp_…"` wrote the token to annotations.jsonl while redaction was on
/// (the default), where the product promises secrets never reach disk. The note, label and
/// author are redacted as the hooks redact, and the same flags and environment turn it off.
#[test]
fn a_secret_in_a_note_label_or_author_is_redacted_unless_redaction_is_off() {
    let env = TestEnv::new();
    let id = session(&env);
    let token = format!("ghp_{}", "Rk3vQ9mZ2xW8tY5u".repeat(2) + "b7N1");
    let key = format!("AKIA{}", "QWERTYUIOP123456");
    let file = env.store().join(&id).join("annotations.jsonl");
    let note = format!("pushed with {token}");
    env.run(&[
        "annotate", &id, "2", "--note", &note, "--label", &token, "--author", &key,
    ])
    .success();
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(
        !written.contains(&token) && !written.contains(&key),
        "{written}"
    );
    let listed = list(&env, &id);
    assert_eq!(listed[0]["note"], "pushed with [REDACTED]");
    for field in ["label", "author"] {
        assert!(
            listed[0][field].as_str().unwrap().contains("[REDACTED]"),
            "{field}: {listed:?}"
        );
    }

    // Off as for the hooks: by the flag, or by the environment.
    env.run(&["annotate", &id, "3", "--no-redact", "--note", &note])
        .success();
    let mut by_env = env.command(&["annotate", &id, "4", "--note", &note]);
    by_env.env("AGENT_STRACE_REDACT", "0");
    crate::common::run_with_stdin(by_env, b"").success();
    let notes: Vec<Value> = list(&env, &id).iter().map(|a| a["note"].clone()).collect();
    assert_eq!(notes[1..], [note.clone(), note]);
}

#[test]
fn the_python_tool_lists_ours_and_we_list_its() {
    let env = TestEnv::new();
    let id = session(&env);
    env.run(&[
        "annotate", &id, "3", "--note", "ours", "--label", "decision",
    ])
    .success();
    let python = crate::python_compat::python();
    let theirs = python.read(
        &env,
        &["annotate", &id, "--list", "--export-format", "json"],
    );
    let theirs: Value = serde_json::from_str(&theirs.stdout).expect("JSON from the Python tool");
    assert_eq!(theirs[0]["note"], "ours");
    assert_eq!(theirs[0]["label"], "decision");
    assert_eq!(theirs[0]["event_id"], env.events(&id)[2]["event_id"]);

    let event = env.events(&id)[1]["event_id"].as_str().unwrap().to_owned();
    python.read(
        &env,
        &["annotate", &id, "--event", &event, "--note", "theirs"],
    );
    let all = list(&env, &id);
    assert_eq!(all.len(), 2);
    assert_eq!(
        (all[1]["note"].as_str(), all[1]["event"].as_u64()),
        (Some("theirs"), Some(2))
    );
}

#[test]
fn a_note_of_many_lines_is_listed_on_one_and_kept_whole() {
    let env = TestEnv::new();
    let id = session(&env);
    // A second line shaped as an annotation of its own, with an escape in it.
    let note = "first\nabcdef123456      #1     +0.00s  [root-cause] forged \u{1b}[31mred";
    env.run(&["annotate", &id, "2", "--note", note, "--label", "a\nb"])
        .success();
    let run = env.run(&["annotate", &id, "--list"]);
    run.success();
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("[a b] first abcdef123456"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains('\u{1b}'), "{}", run.stdout);
    assert_eq!(list(&env, &id)[0]["note"], note);
}

/// A file whose last line has no line break (an editor, a writer that died, another tool):
/// the next annotation was glued to it, and both were lost, while `annotate` said it added one.
#[test]
fn an_annotation_added_after_a_line_with_no_break_is_kept_and_so_is_that_line() {
    let env = TestEnv::new();
    let id = session(&env);
    env.run(&["annotate", &id, "1", "--note", "first"])
        .success();
    let file = env.store().join(&id).join("annotations.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.trim_end()).unwrap();
    env.run(&["annotate", &id, "2", "--note", "second"])
        .success();
    let notes: Vec<Value> = list(&env, &id).iter().map(|a| a["note"].clone()).collect();
    assert_eq!(notes, ["first", "second"]);
}

/// Two annotations with one id (another tool wrote them so) could never be deleted: "names 2
/// annotations: give more of the id", and there was no more to give. Both go.
#[test]
fn annotations_sharing_one_id_are_deleted_together() {
    let env = TestEnv::new();
    let id = session(&env);
    env.run(&["annotate", &id, "1", "--note", "a"]).success();
    let file = env.store().join(&id).join("annotations.jsonl");
    let line = std::fs::read_to_string(&file).unwrap();
    let mut annotation: Value = serde_json::from_str(line.trim()).unwrap();
    annotation["annotation_id"] = "same".into();
    let twice = format!("{annotation}\n{annotation}\n");
    std::fs::write(&file, twice).unwrap();
    env.run(&["annotate", &id, "2", "--note", "kept"]).success();
    let deleted = env.run(&["annotate", &id, "--delete", "same"]);
    deleted.success();
    assert_eq!(deleted.stdout, "deleted 2 annotations same\n");
    let left: Vec<Value> = list(&env, &id).iter().map(|a| a["note"].clone()).collect();
    assert_eq!(left, ["kept"]);
}

/// The page model a `replay --format html` page embeds.
fn page_data(page: &str) -> Value {
    let start = page.find("type=\"application/json\">").unwrap() + 24;
    let end = start + page[start..].find("</script>").unwrap();
    serde_json::from_str(&page[start..end]).unwrap()
}

/// Rewrites `id`'s events with `change` made to each, as another writer could have left them.
fn rewrite_events(env: &TestEnv, id: &str, change: impl Fn(usize, &mut Value)) {
    let file = env.store().join(id).join("events.ndjson");
    let mut lines = String::new();
    for (i, line) in std::fs::read_to_string(&file).unwrap().lines().enumerate() {
        let mut event: Value = serde_json::from_str(line).unwrap();
        change(i + 1, &mut event);
        lines.push_str(&event.to_string());
        lines.push('\n');
    }
    std::fs::write(&file, lines).unwrap();
}

/// The event numbers `annotate --list` and the HTML replay give a session's notes, in order.
fn listed_and_paged(env: &TestEnv, id: &str) -> (Vec<Value>, Vec<Value>) {
    let listed = list(env, id).iter().map(|a| a["event"].clone()).collect();
    let page = env.path().join("page.html");
    env.run(&[
        "replay",
        id,
        "--format",
        "html",
        "-o",
        page.to_str().unwrap(),
    ])
    .success();
    let data = page_data(&std::fs::read_to_string(&page).unwrap());
    let paged = data["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["number"].clone())
        .collect();
    (listed, paged)
}

/// A note went by its event's id alone, so on events with no id (all one empty id) or sharing
/// one (a merged store) `--list` and the HTML replay put it on the last of them: a note added
/// to #1 listed as #3. It stays on the event it was added to.
#[test]
fn a_note_stays_on_its_event_when_events_have_no_id_or_share_one() {
    let env = TestEnv::new();
    let id = session(&env);
    rewrite_events(&env, &id, |_, event| {
        event.as_object_mut().unwrap().remove("event_id");
    });
    let added = env.run(&["annotate", &id, "1", "--note", "on the start"]);
    added.success();
    assert!(
        added.stdout.contains("added to event #1"),
        "{}",
        added.stdout
    );
    env.run(&["annotate", &id, "3", "--note", "on the error"])
        .success();
    assert_eq!(
        listed_and_paged(&env, &id),
        (vec![json!(1), json!(3)], vec![json!(1), json!(3)])
    );
    let text = env.run(&["annotate", &id, "--list"]);
    let line = text.stdout.lines().find(|l| l.contains("on the start"));
    assert!(line.is_some_and(|l| l.contains(" #1 ")), "{}", text.stdout);

    let env = TestEnv::new();
    let id = session(&env);
    // #2 and #4 share one id.
    rewrite_events(&env, &id, |number, event| {
        if number == 4 {
            event["event_id"] = json!("e02");
        }
    });
    for number in ["2", "4"] {
        env.run(&["annotate", &id, number, "--note", number])
            .success();
    }
    assert_eq!(
        listed_and_paged(&env, &id),
        (vec![json!(2), json!(4)], vec![json!(2), json!(4)])
    );
}

/// `annotate 3 --note x` said "no session matches `3`" where `why 3` reads event #3 of the
/// latest session. A number alone, with something to attach, is read as `why` reads it; one
/// that is also a session's whole id could be either, and is refused in one line.
#[test]
fn a_number_alone_is_the_event_of_the_latest_session_as_why_reads_it() {
    let env = TestEnv::new();
    session(&env);
    SessionBuilder::new("ann-0002")
        .started(crate::common::session::T0 + 100.0)
        .prompt("later")
        .at(1.0)
        .tool_call("Bash", json!({"command": "ls"}))
        .result(json!("a b"))
        .write(&env);
    let why = env.run(&["why", "3", "--format", "json"]);
    let why = why.success().json();
    let added = env.run(&["annotate", "3", "--note", "lone", "--format", "json"]);
    let added = added.success().json();
    assert_eq!(added["session_id"], why["session_id"]);
    assert_eq!(added["event"], why["target"]);
    let id = added["session_id"].as_str().unwrap();
    let listed = list(&env, id);
    assert_eq!(
        (listed[0]["note"].as_str(), listed[0]["event"].as_u64()),
        (Some("lone"), Some(3))
    );

    SessionBuilder::new("123")
        .started(crate::common::session::T0 + 200.0)
        .prompt("a session named by digits")
        .write(&env);
    let both = env.run(&["annotate", "123", "--bookmark"]);
    assert_eq!(both.code, 2, "{both:?}");
    assert_eq!(both.stderr.trim().lines().count(), 1, "{}", both.stderr);
    assert!(both.stderr.contains("give both"), "{}", both.stderr);
    assert!(!env.store().join("123").join("annotations.jsonl").exists());
}

/// A note added while an import of the session's grown log swapped its folder failed when the
/// import removed the old folder before the note's writer made its lock there
/// (".annotations.lock: No such file or directory"): the writer takes the folder now under the
/// session's name, and the note lands there.
#[test]
fn a_note_added_while_an_import_swaps_the_session_lands_in_the_new_folder() {
    let env = TestEnv::new();
    let (path, id) = crate::common::grown_copilot_log(&env);
    let note = crate::common::with_open_held_back(
        &env.command(&["annotate", &id, "1", "--note", "read before the swap"]),
        ".annotations.lock",
        3_000_000,
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    crate::common::wait_until_held(&note);
    let grown = env
        .run(&["import", "--format", "json", &path])
        .success()
        .json();
    assert_eq!(grown[0]["status"], "grown", "{grown:#}");
    let out = note.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let notes = list(&env, &id);
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert_eq!(notes[0]["note"], "read before the swap", "{notes:#?}");
}
