//! The exit code table (`src/exit.rs`, README "Exit codes"), one test per code through the
//! binary. 101 (a bug) has no test: it would need a bug to trigger.

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use agent_strace::model::Tokens;
use serde_json::json;

use crate::common::{SessionBuilder, TestEnv};

const SID: &str = "7e1c7a52-3d1e-4c4f-9a57-0e2d9b1f6a10";
const TRANSCRIPT: &str =
    "corpus/claude-code/marot__spotter/258c7280-ae70-4798-800f-63464d01a85d.jsonl";

fn session(env: &TestEnv) {
    SessionBuilder::new(SID)
        .meta(|m| m.agent_name = "claude-code".into())
        .prompt("fix it")
        .at(1.0)
        .tool_call("Bash", json!({"command": "make"}))
        .at(2.0)
        .llm_response(
            "claude-sonnet-4-5",
            Tokens {
                input: 190_000,
                ..Tokens::default()
            },
        )
        .write(env);
}

#[test]
fn zero_is_success_and_a_reader_gone_away() {
    let env = TestEnv::new();
    session(&env);
    assert_eq!(env.run(&["list"]).code, 0);
    // `replay | head`: the reader closes the pipe; that is no failure.
    let mut child = env
        .command(&["replay", SID])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(output.stderr.is_empty(), "{output:?}");
}

#[test]
fn one_is_a_gate_that_found_something() {
    let env = TestEnv::new();
    session(&env);
    let run = env.run(&["token-budget", SID, "--context-window", "200000"]);
    assert_eq!(run.code, 1, "{run:?}");
}

#[test]
fn two_is_usage_or_something_named_that_is_not_there() {
    let env = TestEnv::new();
    session(&env);
    // clap's own message, with its usage lines.
    assert_eq!(env.run(&["list", "--no-such-flag"]).code, 2);
    for args in [
        vec!["replay", "ffff"],
        vec!["--trace-dir", "no-store-here", "list"],
        vec!["import", "no-such-transcript.jsonl"],
        vec!["import", "--claude-dir", "no-such-folder", "--all"],
        // A settings file named on the command line: retention said 3, as for one that does
        // not parse, where eval said 2.
        vec!["retention", "status", "--config", "no-such.yaml"],
        vec!["retention", "clean", "--config", "no-such.yaml"],
        vec!["eval", SID, "--config", "no-such.yaml"],
        vec!["policy", "test", "no-such.json"],
    ] {
        let run = env.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {run:?}");
    }
}

/// `share 258c -o /nonexistent-dir/x.html` failed with exit 4 (a failed write) and no hint:
/// a folder named on the command line that does not exist is usage, for every `--output`.
#[test]
fn two_is_an_output_file_whose_folder_does_not_exist() {
    let env = TestEnv::new();
    session(&env);
    let missing = env.path().join("no-such-folder");
    let file = |name: &str| missing.join(name).to_str().unwrap().to_owned();
    for args in [
        vec![
            "share".to_owned(),
            SID.to_owned(),
            "-o".to_owned(),
            file("x.html"),
        ],
        vec![
            "replay".into(),
            SID.into(),
            "--format".into(),
            "html".into(),
            "-o".into(),
            file("r.html"),
        ],
        vec![
            "export".into(),
            SID.into(),
            "--format".into(),
            "csv".into(),
            "--output".into(),
            file("e.csv"),
        ],
        vec!["sample".into(), "--output".into(), file("s.jsonl")],
        vec!["policy".into(), "--output".into(), file("p.json")],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = env.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains(&format!(
                "hint: the folder {} does not exist",
                missing.display()
            )),
            "{args:?}: {run:?}"
        );
    }
    assert!(!missing.exists());
}

/// `share -o -` wrote a file named `-` in the current folder, where many tools write to
/// standard output.
#[test]
fn two_is_an_output_file_named_dash() {
    let env = TestEnv::new();
    session(&env);
    for args in [
        vec!["share", SID, "-o", "-"],
        vec!["dashboard", "--html", "-"],
        vec!["export", SID, "--output", "-"],
        vec!["drift", "--since", "2000-01-01", "--save-baseline", "-"],
    ] {
        let run = env.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("for a file named -, name ./-"),
            "{run:?}"
        );
    }
    assert!(!env.path().join("-").exists());
}

/// Each command that writes an `--output` file (or `dashboard --html`'s page), with its name
/// last.
fn writing_to(name: &str) -> Vec<Vec<String>> {
    let lines: [&[&str]; 6] = [
        &["share", SID, "-o"],
        &["replay", SID, "--format", "html", "-o"],
        &["export", SID, "--format", "csv", "--output"],
        &["sample", "--output"],
        &["policy", "--output"],
        &["dashboard", "--html"],
    ];
    lines
        .iter()
        .map(|line| {
            let mut line: Vec<String> = line.iter().map(|a| (*a).to_owned()).collect();
            line.push(name.to_owned());
            line
        })
        .collect()
}

/// `share -o <a name of 255 bytes>` failed with exit 4, "File name too long": the name was
/// valid, its temporary name (25 bytes longer) was not. Every `--output` goes through it.
#[test]
fn an_output_file_named_as_long_as_a_file_system_allows_is_written() {
    let env = TestEnv::new();
    session(&env);
    let name = format!("{}.out", "b".repeat(251));
    assert_eq!(name.len(), 255);
    for args in writing_to(&name) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        env.run(&args).success();
        let written = std::fs::metadata(env.path().join(&name)).unwrap();
        assert!(written.len() > 0, "{args:?}: an empty file");
        std::fs::remove_file(env.path().join(&name)).unwrap();
        // No temporary file is left beside it.
        let left: Vec<_> = std::fs::read_dir(env.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().contains("bbbb"))
            .collect();
        assert_eq!(left, Vec::<std::ffi::OsString>::new(), "{args:?}");
    }
}

/// `-o new/` and `-o file/` (and `dashboard --html new/`) name a folder where a file is to go:
/// they failed at the write, exit 4 (a failed write), "Not a directory". They are usage, as a missing folder is; a
/// folder that is there is refused as a file that cannot be replaced is (exit 3).
#[test]
fn two_is_an_output_name_ending_in_a_slash_that_is_no_folder() {
    let env = TestEnv::new();
    session(&env);
    std::fs::write(env.path().join("file"), "kept\n").unwrap();
    std::fs::create_dir(env.path().join("folder")).unwrap();
    for (name, code) in [("new/", 2), ("file/", 2), ("folder/", 3)] {
        for args in writing_to(name) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = env.run(&args);
            assert_eq!(run.code, code, "{args:?}: {run:?}");
            assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {run:?}");
            if code == 2 {
                assert!(run.stderr.contains("names a folder"), "{run:?}");
            }
        }
    }
    assert!(!env.path().join("new").exists());
    assert_eq!(
        std::fs::read_to_string(env.path().join("file")).unwrap(),
        "kept\n"
    );
    assert_eq!(
        std::fs::read_dir(env.path().join("folder"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn three_is_input_that_cannot_be_used() {
    let env = TestEnv::new();
    session(&env);
    let other = "7e1c0000-3d1e-4c4f-9a57-0e2d9b1f6a11";
    let dir = env.store().join(other);
    std::fs::create_dir(&dir).unwrap();
    // meta.json that is not UTF-8, and no events to describe the session instead.
    std::fs::write(dir.join("meta.json"), [0xff, 0xfe, b'{']).unwrap();
    let corrupt = env.run(&["replay", other]);
    assert_eq!(corrupt.code, 3, "{corrupt:?}");
    assert!(corrupt.stderr.contains("not UTF-8"), "{corrupt:?}");
    // A file that is not a transcript.
    let not_transcript = env.path().join("notes.jsonl");
    std::fs::write(&not_transcript, "just some text\n").unwrap();
    let run = env.run(&["import", not_transcript.to_str().unwrap()]);
    assert_eq!(run.code, 3, "{run:?}");
    // A link where the events should be.
    let events = env.store().join(SID).join("events.ndjson");
    std::fs::remove_file(&events).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &events).unwrap();
    let run = env.run(&["stats", SID]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
}

#[test]
fn four_is_reading_or_writing_that_failed() {
    let env = TestEnv::new();
    session(&env);
    // Output to a full disk.
    let run = env
        .command(&["list"])
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(4), "{run:?}");
    // A store whose folder cannot be made: a file is where its parent should be.
    std::fs::write(env.path().join("a-file"), "").unwrap();
    let file = crate::common::shared().join(TRANSCRIPT);
    let run = env.run(&[
        "--trace-dir",
        env.path().join("a-file").join("store").to_str().unwrap(),
        "import",
        file.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 4, "{run:?}");
}

/// Each error line names its file once and the OS's reason once, with exit 4: the store's I/O
/// error shows its source and also named it as its source, so the line ended
/// `…: Not a directory (os error 20): Not a directory (os error 20)`.
#[test]
fn an_io_error_says_its_file_and_reason_once() {
    let env = TestEnv::new();
    session(&env);
    std::fs::write(env.path().join("a-file"), "").unwrap();
    let through_a_file = env.path().join("a-file").join("store");
    for args in [vec!["replay", SID], vec!["stats", SID], vec!["list"]] {
        let mut all = vec!["--trace-dir", through_a_file.to_str().unwrap()];
        all.extend(&args);
        let run = env.run(&all);
        assert_eq!(run.code, 4, "{args:?}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {run:?}");
        assert_eq!(
            run.stderr.matches("Not a directory").count(),
            1,
            "{args:?}: {}",
            run.stderr
        );
    }
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped the unreadable events: needs root and setpriv to read as someone else");
        return;
    }
    // An events file nobody may read, read as nobody.
    for path in [env.path(), &env.store(), &env.store().join(SID), env.home()] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let events = env.store().join(SID).join("events.ndjson");
    std::fs::set_permissions(&events, std::fs::Permissions::from_mode(0o000)).unwrap();
    for command in ["replay", "inspect", "stats", "explain", "export"] {
        let run = crate::common::as_nobody(&env, &[command, SID]);
        assert_eq!(run.code, 4, "{command}: {run:?}");
        let line = run.stderr.lines().last().unwrap_or_default();
        assert!(line.starts_with("error: "), "{command}: {}", run.stderr);
        assert_eq!(
            line.matches("events.ndjson").count(),
            1,
            "{command}: {line}"
        );
        assert_eq!(
            line.matches("Permission denied").count(),
            1,
            "{command}: {line}"
        );
    }
}

#[test]
fn one_twenty_seven_is_a_server_command_that_cannot_run() {
    let env = TestEnv::new();
    let run = env.run(&["record", "--", "/no/such/mcp-server"]);
    assert_eq!(run.code, 127, "{run:?}");
}

/// Careless arguments had meanings of their own: `lint --all --since 0d` said "No sessions to
/// lint." (and `list --since 0d` "No sessions recorded yet."), `sample --n 0` wrote nothing,
/// `diff '' ''` called the empty name ambiguous while `replay ''` showed the latest session,
/// and `drift --since 99999999999d` was "neither a date nor an age". Each is one clear error
/// and exit 2 now, the same for every command.
#[test]
fn two_is_a_careless_argument_refused_alike_everywhere() {
    let env = TestEnv::new();
    session(&env);
    let refused = |args: &[&str], says: &str| {
        let run = env.run(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stdout.is_empty(), "{args:?}: {run:?}");
        let first = run.stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error: ") && first.contains(says),
            "{args:?}: {run:?}"
        );
    };
    for since in ["0d", "0h", "0 days ago"] {
        for command in [
            &["lint", "--all", "--since", since][..],
            &["list", "--since", since],
            &["budget-report", "--since", since],
            &["drift", "--since", since],
            &["sample", "--since", since],
            &["optimize", "--since", since],
            &["dashboard", "--since", since],
        ] {
            refused(command, &format!("--since `{since}` is no time ago"));
        }
    }
    for command in [
        &["drift", "--since"][..],
        &["list", "--since"],
        &["lint", "--all", "--since"],
    ] {
        refused(
            &[command, &["99999999999d"]].concat(),
            "--since `99999999999d` is too far back",
        );
    }
    for command in [
        &["sample", "--n", "0"][..],
        &["list", "--last", "0"],
        &["dashboard", "--last", "0"],
        &["replay", SID, "--limit", "0"],
    ] {
        refused(command, "0 would choose nothing");
    }
    for command in [
        &["diff", "", SID][..],
        &["diff", SID, ""],
        &["compare", "", ""],
        &["replay", ""],
        &["cost", ""],
        &["why", "", "1"],
        &["standup", "--session", ""],
        &["annotate", "", "1", "x"],
        &["eval", "compare", SID, ""],
    ] {
        refused(command, "an empty session id names no session");
    }
    // A count, size or seed that is no whole number says what it takes, where clap said
    // Rust's "invalid digit found in string" or "number too large to fit in target type".
    for command in [
        &["sql", "--max-rows=-1", "SELECT 1"][..],
        &["sql", "--timeout=1.5", "SELECT 1"],
        &["inspect", SID, "--event=x"],
        &["retention", "status", "--max-sessions=-1"],
        &["sample", "--seed=1e5"],
        &["replay", SID, "--show=-3"],
        &["policy", "--last=ten"],
        &["policy", "test", "--last=ten"],
        &["annotate", SID, "1.5", "--note", "x"],
    ] {
        refused(command, "give a whole number, 0 or more");
    }
    // A window cannot be empty: 0 is refused with the same words as 1e5.
    for window in ["1e5", "0"] {
        refused(
            &["token-budget", SID, &format!("--context-window={window}")],
            "give a whole number, 1 or more",
        );
    }
    for command in [&["sample", "--n=1.5"][..], &["list", "--last=-2"]] {
        refused(command, "give a whole number, 1 or more");
    }
    refused(
        &["sql", "--max-rows=99999999999999999999", "SELECT 1"],
        "too large: give a whole number up to 18,446,744,073,709,551,615",
    );
    // An age of a minute or more still counts back from now.
    assert_eq!(env.run(&["lint", "--all", "--since", "1m"]).code, 0);
}

/// README's "Exit codes" table is the one scripts read: it names every code `src/exit.rs`
/// defines (each `pub const NAME: u8`), and no other.
#[test]
fn the_readme_table_names_every_code_of_exit_rs_and_no_other() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = readme
        .split("\n## Exit codes\n")
        .nth(1)
        .expect("README has an Exit codes section");
    let section = section.split("\n## ").next().unwrap();
    let mut documented: Vec<u8> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| "))
        .filter_map(|row| row.split(" |").next()?.trim().parse().ok())
        .collect();
    documented.sort_unstable();
    let source = std::fs::read_to_string(root.join("src/exit.rs")).unwrap();
    let mut defined: Vec<u8> = source
        .lines()
        .filter_map(|line| line.strip_prefix("pub const ")?.split_once(": u8 = "))
        .map(|(_, value)| value.trim_end_matches(';').parse().unwrap())
        .collect();
    defined.sort_unstable();
    assert!(
        defined.contains(&agent_strace::exit::COMMAND_NOT_FOUND),
        "{defined:?}"
    );
    assert_eq!(
        documented, defined,
        "README's exit codes against src/exit.rs"
    );
}
