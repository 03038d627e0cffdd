//! The settings files of the Python tool (`.agent-scope.json`, `.agent-strace-lint.json`,
//! `.agent-evals.yaml`, `.agent-strace.yaml`), found from a subfolder of a project as the store
//! is, and each kind of error as one line naming the file, the line and the key.
//!
//! Most go through the library's loader, the one audit, lint, eval and retention call; what
//! a user sees of an error goes through the binary.

use std::fmt::Write as _;
use std::path::Path;

use agent_strace::cli::settings::{
    EvalSettings, LintSettings, OnDelete, Policy, SettingsError, StraceSettings, load,
};

use crate::common::TestEnv;

/// A project with every settings file at its top, and a deep subfolder to start from.
fn project() -> (TestEnv, std::path::PathBuf) {
    let env = TestEnv::new();
    let write = |name: &str, text: &str| std::fs::write(env.path().join(name), text).unwrap();
    write(
        ".agent-scope.json",
        r#"{"files": {"read": {"allow": ["src/**"], "deny": [".env"]}}, "commands": {"deny": ["curl"]}}"#,
    );
    write(
        ".agent-strace-lint.json",
        r#"{"tool-loop": {"threshold": 7}, "reasoning-spiral": {"enabled": false}}"#,
    );
    write(
        ".agent-evals.yaml",
        "scorers:\n  - type: no_errors\n    threshold: 1.0\nthresholds:\n  pass: 0.9\n  warn: 0.6\n",
    );
    write(
        ".agent-strace.yaml",
        "retention:\n  max_age_days: 30\n  max_sessions: 1000\n  on_delete: log\n",
    );
    let deep = env.path().join("src").join("auth").join("tests");
    std::fs::create_dir_all(&deep).unwrap();
    (env, deep)
}

#[test]
fn every_file_is_found_from_a_subfolder() {
    let (env, deep) = project();
    let policy = load::<Policy>(&deep, None).unwrap().unwrap();
    assert_eq!(policy.path, env.path().join(".agent-scope.json"));
    assert_eq!(policy.settings.files.read.deny.0, [".env"]);
    assert_eq!(policy.settings.commands.deny.0, ["curl"]);

    let lint = load::<LintSettings>(&deep, None).unwrap().unwrap();
    assert_eq!(lint.settings.tool_loop.unwrap().threshold, Some(7.0));
    assert_eq!(lint.settings.reasoning_spiral.unwrap().enabled, Some(false));

    let evals = load::<EvalSettings>(&deep, None).unwrap().unwrap();
    assert_eq!(evals.settings.scorers[0].kind, "no_errors");
    assert!((evals.settings.thresholds.pass - 0.9).abs() < f64::EPSILON);

    let strace = load::<StraceSettings>(&deep, None).unwrap().unwrap();
    let retention = strace.settings.retention();
    assert_eq!(retention.max_sessions, Some(1000));
    assert_eq!(retention.on_delete, OnDelete::Log);
}

#[test]
fn a_nearer_file_wins_and_no_file_means_defaults() {
    let (env, deep) = project();
    let nearer = env.path().join("src").join(".agent-scope.json");
    std::fs::write(&nearer, r#"{"network": {"deny_all": true}}"#).unwrap();
    let policy = load::<Policy>(&deep, None).unwrap().unwrap();
    assert_eq!(policy.path, nearer);
    assert!(policy.settings.network.deny_all);
    assert!(
        policy.settings.files.read.deny.0.is_empty(),
        "files do not merge"
    );

    let empty = TestEnv::new();
    assert!(load::<Policy>(empty.path(), None).unwrap().is_none());
    assert!(load::<EvalSettings>(empty.path(), None).unwrap().is_none());
}

#[test]
fn a_file_named_by_a_command_must_exist_and_is_read_from_the_current_folder() {
    let (env, deep) = project();
    let missing = load::<Policy>(&deep, Some(Path::new("strict.json"))).unwrap_err();
    assert!(matches!(missing, SettingsError::Missing { .. }));
    assert_eq!(missing.to_string(), "strict.json: no such settings file");
    std::fs::write(
        deep.join("strict.json"),
        r#"{"network": {"deny_all": true}}"#,
    )
    .unwrap();
    let named = load::<Policy>(&deep, Some(Path::new("strict.json")))
        .unwrap()
        .unwrap();
    assert!(named.settings.network.deny_all);
    // An absolute path is taken as it is.
    let top = env.path().join(".agent-scope.json");
    let absolute = load::<Policy>(&deep, Some(&top)).unwrap().unwrap();
    assert_eq!(absolute.path, top);
}

/// The one-line error for `text` in settings file `name`, found from a subfolder.
fn error_of<T: agent_strace::cli::settings::SettingsFile + std::fmt::Debug>(
    name: &str,
    text: &str,
) -> String {
    let env = TestEnv::new();
    std::fs::write(env.path().join(name), text).unwrap();
    let deep = env.path().join("sub");
    std::fs::create_dir_all(&deep).unwrap();
    let e = load::<T>(&deep, None).unwrap_err();
    let shown = e.to_string();
    // Found above the starting folder, the file is named by its full path.
    let full = env.path().join(name).display().to_string();
    assert!(shown.starts_with(&full), "{shown}");
    assert_eq!(shown.lines().count(), 1, "{shown}");
    shown[full.len()..].to_owned()
}

#[test]
fn each_error_names_file_line_and_key() {
    // A value of the wrong shape.
    assert_eq!(
        error_of::<Policy>(
            ".agent-scope.json",
            "{\n  \"files\": {\n    \"write\": {\"allow\": \"src/**\"}\n  }\n}"
        ),
        ":3: `files.write.allow`: expected a list of globs, found string \"src/**\""
    );
    // A misspelt key.
    let typo = error_of::<LintSettings>(
        ".agent-strace-lint.json",
        "{\n  \"tool-loop\": {\"treshold\": 7}\n}",
    );
    assert!(
        typo.starts_with(":2: `tool-loop.treshold`: unknown field `treshold`"),
        "{typo}"
    );
    // Not JSON at all: a line and no key.
    let broken = error_of::<Policy>(".agent-scope.json", "{\n\n  \"files\" {}\n}");
    assert!(broken.starts_with(":3: expected `:`"), "{broken}");
    // YAML: a value of the wrong shape, a misspelt key, a word where a number goes.
    let yaml = error_of::<EvalSettings>(
        ".agent-evals.yaml",
        "scorers:\n  - type: files_scoped\n    allowed_paths: src/\n",
    );
    assert!(
        yaml.starts_with(":3: `scorers[0].allowed_paths`: expected a list of globs"),
        "{yaml}"
    );
    let key = error_of::<StraceSettings>(".agent-strace.yaml", "\nretension:\n  max_sessions: 5\n");
    assert!(
        key.starts_with(":2: `retension`: unknown field `retension`"),
        "{key}"
    );
    let number =
        error_of::<StraceSettings>(".agent-strace.yaml", "retention:\n  max_age_days: thirty\n");
    assert!(
        number.starts_with(":2: `retention.max_age_days`: "),
        "{number}"
    );
    // Broken YAML: a line (the reader streams, so a key it was reading may be named too).
    let broken = error_of::<EvalSettings>(".agent-evals.yaml", "scorers:\n\t- type: x\n");
    assert!(broken.starts_with(":2: "), "{broken}");
}

#[test]
fn an_unreadable_file_is_one_error_too() {
    let env = TestEnv::new();
    // A folder where the file should be stops the search, and is said: never passed over for
    // a file further up, never taken for no file at all.
    std::fs::create_dir_all(env.path().join(".agent-scope.json")).unwrap();
    let e = load::<Policy>(env.path(), None).unwrap_err();
    assert!(matches!(e, SettingsError::Refused { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        ".agent-scope.json: not read: it is a folder, not a regular file"
    );
    // The other settings files are found and read the same way.
    std::fs::create_dir_all(env.path().join(".agent-strace-lint.json")).unwrap();
    let e = load::<LintSettings>(env.path(), None).unwrap_err();
    assert!(matches!(e, SettingsError::Refused { .. }), "{e}");
    std::fs::write(env.path().join(".agent-evals.yaml"), "\u{feff}- a\n").unwrap();
    let e = load::<EvalSettings>(env.path(), None).unwrap_err();
    assert!(
        e.to_string()
            .contains("expected an object at the top, found a list"),
        "{e}"
    );
    std::fs::write(env.path().join("bad.json"), [0xff, 0xfe, b'{']).unwrap();
    let e = load::<Policy>(env.path(), Some(Path::new("bad.json"))).unwrap_err();
    assert!(matches!(e, SettingsError::Invalid { .. }), "{e}");
    assert_eq!(e.to_string(), "bad.json:1: not UTF-8 text");
}

/// A value its key cannot hold was said in Rust's words or none: `max_sessions: -1` as
/// "invalid u64", `"level": 5` as "expected value" with no key, a threshold of `-1e308` in
/// 310 characters. Each says what the key takes, and a number as it was written.
#[test]
fn a_value_its_key_cannot_hold_says_what_the_key_takes() {
    let env = TestEnv::new();
    let id = crate::common::SessionBuilder::new("5e771165-0000-4000-8000-000000000001")
        .prompt("go")
        .write(&env);
    let error_of = |file: &str, text: &str, args: &[&str]| {
        std::fs::write(env.path().join(file), text).unwrap();
        let run = env.run(args);
        std::fs::remove_file(env.path().join(file)).unwrap();
        assert_eq!(run.code, 3, "{run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        run.stderr.trim_end().to_owned()
    };
    for (number, wanted) in [
        ("-1", "a whole number from 0 to 18,446,744,073,709,551,615"),
        (
            "1e20",
            "a whole number from 0 to 18,446,744,073,709,551,615",
        ),
        ("ten", "a whole number from 0 to 18,446,744,073,709,551,615"),
    ] {
        let e = error_of(
            ".agent-strace.yaml",
            &format!("retention:\n  max_sessions: {number}\n"),
            &["retention", "status"],
        );
        assert_eq!(
            e,
            format!("error: .agent-strace.yaml:2: `retention.max_sessions`: expected {wanted}")
        );
    }
    let e = error_of(
        ".agent-strace.yaml",
        "retention:\n  max_age_days: -1e308\n",
        &["retention", "status"],
    );
    assert!(
        e.ends_with("`retention.max_age_days`: expected a number of 0 or more, found -1e308"),
        "{e}"
    );
    let e = error_of(
        ".agent-strace-lint.json",
        "{\"tool-loop\": {\"level\": 5}}",
        &["lint", &id],
    );
    assert!(
        e.ends_with(".agent-strace-lint.json:1: `tool-loop.level`: expected a word in quotes"),
        "{e}"
    );
    let e = error_of(
        ".agent-strace-lint.json",
        "{\"budget-proximity\": {\"budget\": -1e308}}",
        &["lint", &id],
    );
    assert!(
        e.ends_with("`budget-proximity.budget`: expected dollars, $0.000001 or more, found -1e308"),
        "{e}"
    );
    // A number too large for any: serde_json's words, not a choice of words.
    let e = error_of(
        ".agent-strace-lint.json",
        "{\"budget-proximity\": {\"budget\": 1e400}}",
        &["lint", &id],
    );
    assert!(
        e.ends_with("`budget-proximity.budget`: number out of range"),
        "{e}"
    );
    let e = error_of(
        ".agent-evals.yaml",
        "scorers:\n  - type: no_errors\n    threshold: 1e308\n",
        &["eval", &id],
    );
    assert!(
        e.ends_with("`scorers[0].threshold`: expected a score from 0 to 1, found 1e308"),
        "{e}"
    );
    let e = error_of(
        "rules.json",
        "{\"rules\": [{\"condition\": \"tool_calls\", \"threshold\": \"x\", \"action\": 5}]}",
        &["watch", &id, "--rules", "rules.json", "--dry-run"],
    );
    assert!(
        e.ends_with("rules.json:1: `rules[0].threshold`: expected a number, found string \"x\""),
        "{e}"
    );
    let e = error_of(
        "rules.json",
        "[{\"condition\": \"tool_calls\", \"threshold\": 5, \"action\": 5}]",
        &["watch", &id, "--rules", "rules.json", "--dry-run"],
    );
    assert!(
        e.ends_with("rules.json:1: `[0].action`: expected a word in quotes"),
        "{e}"
    );
}

/// A key or value of the file is quoted cut short: an unknown key of a megabyte was echoed
/// whole, twice, in an error line of 2 MB; an unknown scorer type whole too.
#[test]
fn a_huge_key_or_value_is_quoted_cut_short() {
    let env = TestEnv::new();
    let id = crate::common::SessionBuilder::new("5e771165-0000-4000-8000-000000000002")
        .prompt("go")
        .write(&env);
    let huge = "x".repeat(1_000_000);
    for (file, text, args) in [
        (
            ".agent-strace-lint.json",
            format!("{{\"{huge}\": {{}}}}"),
            vec!["lint", id.as_str()],
        ),
        (
            ".agent-strace-lint.json",
            format!("{{\"tool-loop\": {{\"level\": \"{huge}\"}}}}"),
            vec!["lint", id.as_str()],
        ),
        (
            ".agent-strace-lint.json",
            format!("{{\"tool-loop\": {{\"threshold\": \"{huge}\"}}}}"),
            vec!["lint", id.as_str()],
        ),
        (
            ".agent-evals.yaml",
            format!("scorers:\n  - type: {huge}\n"),
            vec!["eval", id.as_str()],
        ),
        (
            ".agent-evals.yaml",
            // YAML's keys are of 1,024 characters at most.
            format!("scorers:\n  - type: no_errors\n    {}: 1\n", &huge[..1000]),
            vec!["eval", id.as_str()],
        ),
        (
            ".agent-strace.yaml",
            format!("retention:\n  on_delete: {huge}\n"),
            vec!["retention", "status"],
        ),
        (
            "big.json",
            format!("{{\"files\": {{\"write\": {{\"allow\": [], \"{huge}\": 1}}}}}}"),
            vec!["policy", "test", "big.json", id.as_str()],
        ),
    ] {
        std::fs::write(env.path().join(file), &text).unwrap();
        let run = env.run(&args);
        std::fs::remove_file(env.path().join(file)).unwrap();
        assert_eq!(
            run.code,
            3,
            "{args:?}: {}",
            &run.stderr[..run.stderr.len().min(300)]
        );
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}");
        assert!(
            run.stderr.len() < 1000,
            "{args:?}: {} bytes: {}",
            run.stderr.len(),
            &run.stderr[..300]
        );
        // Still named: its start is there, and where it was cut.
        assert!(
            run.stderr.contains(&format!("{}…", &huge[..40])),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(file), "{}", run.stderr);
    }
}

/// serde's structs take a list too, their fields in order: `{"tool-loop": [true, 2, "error"]}`
/// made tool-loop an ERROR at 2, `{"files": [[], [["**"], []]]}` allowed every write. A list
/// where a key holds an object is refused in every settings file, naming its line and key.
#[test]
fn a_list_where_an_object_goes_is_refused() {
    let env = TestEnv::new();
    let id = crate::common::SessionBuilder::new("5e771165-0000-4000-8000-000000000003")
        .prompt("go")
        .write(&env);
    for (file, text, args, wanted) in [
        (
            ".agent-strace-lint.json",
            "{\n  \"tool-loop\": [true, 2, \"error\"]\n}",
            vec!["lint", id.as_str()],
            ".agent-strace-lint.json:2: `tool-loop`: expected an object",
        ),
        (
            ".agent-scope.json",
            "{\"files\": [[], [[\"**\"], []]]}",
            vec!["audit", id.as_str()],
            ".agent-scope.json:1: `files`: expected an object",
        ),
        (
            "pl.json",
            "{\n  \"files\": {\n    \"write\": [[\"**\"], []]\n  }\n}",
            vec!["policy", "test", "pl.json", id.as_str()],
            "pl.json:3: `files.write`: expected an object",
        ),
        (
            ".agent-evals.yaml",
            "scorers:\n  - [no_errors, 1]\n",
            vec!["eval", id.as_str()],
            ".agent-evals.yaml:2: `scorers[0]`: expected an object",
        ),
        (
            ".agent-evals.yaml",
            "scorers:\n  - type: no_errors\nthresholds: [0.5, 0.4]\n",
            vec!["eval", id.as_str()],
            ".agent-evals.yaml:3: `thresholds`: expected an object",
        ),
        (
            ".agent-strace.yaml",
            "retention: [30, 1000]\n",
            vec!["retention", "status"],
            ".agent-strace.yaml:1: `retention`: expected an object",
        ),
        (
            "rules.json",
            "[[\"loop\", \"tool_calls\", 1]]",
            vec!["watch", id.as_str(), "--rules", "rules.json", "--dry-run"],
            "rules.json:1: `[0]`: expected an object",
        ),
    ] {
        std::fs::write(env.path().join(file), text).unwrap();
        let run = env.run(&args);
        std::fs::remove_file(env.path().join(file)).unwrap();
        assert_eq!(run.code, 3, "{text}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.contains(wanted), "{text}: {}", run.stderr);
    }
}

/// An `.agent-evals.yaml` value that parses but cannot be used was placed at line 0 when
/// written in flow style (`thresholds: {pass: 2}`): each names the line it was written on, or
/// no line when there is none (a file with no scorers is scored with the default one). A YAML
/// budget breached was said in Rust's words (`Nodes { nodes: 250001 }`).
#[test]
fn eval_settings_errors_name_the_line_written_or_none() {
    let env = TestEnv::new();
    let id = crate::common::SessionBuilder::new("5e771165-0000-4000-8000-000000000004")
        .prompt("go")
        .write(&env);
    let error_of = |text: &str| {
        std::fs::write(env.path().join(".agent-evals.yaml"), text).unwrap();
        let run = env.run(&["eval", &id]);
        assert_eq!(run.code, 3, "{text}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(!run.stderr.contains(":0:"), "{text}: {}", run.stderr);
        run.stderr.trim_end().to_owned()
    };
    for (text, wanted) in [
        (
            "scorers:\n  - type: no_errors\nthresholds: {pass: 2}\n",
            ".agent-evals.yaml:3: `thresholds.pass`: expected a score from 0 to 1",
        ),
        (
            "scorers:\n  - type: no_errors\n  - {type: no_errors, threshold: 2}\n",
            ".agent-evals.yaml:3: `scorers[1].threshold`: expected a score from 0 to 1",
        ),
        (
            "scorers: [{type: no_errors}, {type: cost_under,\n  max_dollars: -1}]\n",
            ".agent-evals.yaml:2: `scorers[1].max_dollars`: expected a number of 0 or more",
        ),
        (
            "scorers:\n  - type: no_errors\n    threshold: 0.5\n  - {type: regex}\n",
            ".agent-evals.yaml:4: `scorers[1].pattern`: regex needs a pattern",
        ),
    ] {
        let e = error_of(text);
        assert!(e.contains(wanted), "{text}: {e}");
    }
    // Aliases that expand past the reader's budget.
    let mut bomb = String::from("evals:\n  - name: n\n    scorer: s\n    expected:\n");
    bomb.push_str("      a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n");
    for i in 1..7 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        writeln!(bomb, "      a{i}: &a{i} [{refs}]").unwrap();
    }
    bomb.push_str("scorers:\n  - type: no_errors\n");
    let e = error_of(&bomb);
    assert!(
        e.ends_with("the file has more than 250,000 nodes (aliases expanded)"),
        "{e}"
    );
}
