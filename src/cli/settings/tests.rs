//! The settings files read as the Python tool's users write them, and every error shape.

use super::*;

fn error<T: SettingsFile + std::fmt::Debug>(file: &str, text: &str) -> String {
    parse::<T>(file, text).unwrap_err().to_string()
}

#[test]
fn a_policy_reads_every_key_the_python_tool_writes() {
    let text = r#"{
  "files": {
    "read": { "allow": ["src/**", "tests/**"], "deny": [".env"] },
    "write": { "allow": ["src/**"], "deny": [".github/**"] }
  },
  "commands": { "allow": ["pytest", "uv run"], "deny": ["curl", "rm -rf"] },
  "network": { "deny_all": true, "allow": ["localhost"] }
}"#;
    let p: Policy = parse(".agent-scope.json", text).unwrap();
    assert_eq!(p.files.read.allow.0, ["src/**", "tests/**"]);
    assert_eq!(p.files.write.deny.0, [".github/**"]);
    assert_eq!(p.commands.deny.0, ["curl", "rm -rf"]);
    assert!(p.network.deny_all);
    assert_eq!(p.network.allow.0, ["localhost"]);
    // Every part may be left out.
    assert_eq!(parse::<Policy>("p", "{}").unwrap(), Policy::default());
    let only: Policy = parse("p", r#"{"files": {"read": {"deny": [".env"]}}}"#).unwrap();
    assert!(only.files.read.allow.0.is_empty() && !only.network.deny_all);
}

#[test]
fn a_policy_error_names_file_line_and_key() {
    let text = "{\n  \"files\": {\n    \"write\": { \"allow\": \"src/**\" }\n  }\n}";
    assert_eq!(
        error::<Policy>(".agent-scope.json", text),
        ".agent-scope.json:3: `files.write.allow`: expected a list of globs, found string \"src/**\""
    );
    let text = "{\"commands\": {\"deny\": [\"curl\", 3]}}";
    let e = error::<Policy>(".agent-scope.json", text);
    assert!(
        e.starts_with(".agent-scope.json:1: `commands.deny[1]`: expected a string"),
        "{e}"
    );
    let text = "{\"network\": {\"deny_all\": \"yes\"}}";
    let e = error::<Policy>(".agent-scope.json", text);
    assert!(
        e.starts_with(".agent-scope.json:1: `network.deny_all`: expected a boolean"),
        "{e}"
    );
}

#[test]
fn a_misspelt_policy_key_is_an_error_not_a_silent_allow() {
    let text = "{\n  \"files\": {\n    \"read\": { \"dney\": [\".env\"] }\n  }\n}";
    let e = error::<Policy>(".agent-scope.json", text);
    assert!(
            e.starts_with(".agent-scope.json:3: `files.read.dney`: unknown field `dney`, expected `allow` or `deny`"),
            "{e}"
        );
    let e = error::<Policy>("p", r#"{"network": {}, "netwrok": {}}"#);
    assert!(e.contains("`netwrok`: unknown field `netwrok`"), "{e}");
}

#[test]
fn broken_json_names_its_line_without_a_key() {
    let e = error::<Policy>(".agent-scope.json", "{\n  \"files\": {,\n}");
    assert!(e.starts_with(".agent-scope.json:2: "), "{e}");
    assert!(!e.contains('`'), "no key for a syntax error: {e}");
    let e = error::<Policy>(".agent-scope.json", "{} {}");
    assert!(
        e.starts_with(".agent-scope.json:1: trailing characters"),
        "{e}"
    );
    let e = error::<Policy>(".agent-scope.json", "\"allow all\"");
    assert_eq!(
        e,
        ".agent-scope.json:1: expected an object at the top, found a string"
    );
    // A list once read as a policy of no rules.
    let e = error::<Policy>(".agent-scope.json", "\n[]");
    assert_eq!(
        e,
        ".agent-scope.json:2: expected an object at the top, found a list"
    );
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let policy: Policy = parse(
        ".agent-scope.json",
        "\u{feff}{\"commands\": {\"deny\": [\"curl\"]}}",
    )
    .unwrap();
    assert_eq!(policy.commands.deny.0, ["curl"]);
}

#[test]
fn lint_rules_take_enabled_threshold_and_level() {
    let text = r#"{
  "tool-loop": { "threshold": 7 },
  "reasoning-spiral": { "enabled": false },
  "budget-proximity": { "threshold": 0.95, "level": "WARN" },
  "redundant-read": { "level": "info" }
}"#;
    let l: LintSettings = parse(".agent-strace-lint.json", text).unwrap();
    assert_eq!(l.tool_loop.unwrap().threshold, Some(7.0));
    assert_eq!(l.reasoning_spiral.unwrap().enabled, Some(false));
    assert_eq!(l.budget_proximity.unwrap().level, Some(LintLevel::Warn));
    assert_eq!(l.redundant_read.unwrap().level, Some(LintLevel::Info));
    assert!(l.no_output.is_none());
}

#[test]
fn lint_errors_name_the_rule_and_its_key() {
    let text = "{\n  \"tool-loop\": { \"treshold\": 7 }\n}";
    let e = error::<LintSettings>(".agent-strace-lint.json", text);
    assert!(
        e.starts_with(".agent-strace-lint.json:2: `tool-loop.treshold`: unknown field `treshold`"),
        "{e}"
    );
    let e = error::<LintSettings>("l", "{\"tool-lop\": {}}");
    assert!(
        e.contains("`tool-lop`: unknown field `tool-lop`, expected one of `tool-loop`"),
        "{e}"
    );
    let e = error::<LintSettings>("l", "{\"no-output\": {\"level\": \"loud\"}}");
    assert!(
        e.contains("`no-output.level`: unknown variant `loud`"),
        "{e}"
    );
    let e = error::<LintSettings>("l", "{\"no-output\": {\"threshold\": \"5\"}}");
    assert!(
        e.contains("`no-output.threshold`: expected a number, found string \"5\""),
        "{e}"
    );
}

#[test]
fn evals_read_scorers_thresholds_and_gates() {
    let text = "\
scorers:
  - type: no_errors
    threshold: 1.0
  - type: cost_under
    max_dollars: 0.10
    threshold: 1.0
  - type: files_scoped
    allowed_paths: [\"src/\", \"tests/\"]
    threshold: 0.90
  - type: some_future_scorer
thresholds:
  pass: 0.85
  warn: 0.70
evals:
  - name: no errors
    scorer: no_errors
    fail_on: below_threshold
    threshold: 1
";
    let e: EvalSettings = parse(".agent-evals.yaml", text).unwrap();
    assert_eq!(e.scorers.len(), 4);
    assert_eq!(e.scorers[1].kind, "cost_under");
    assert_eq!(e.scorers[1].max_dollars, Some(0.10));
    assert_eq!(
        e.scorers[2].allowed_paths.as_ref().unwrap().0,
        ["src/", "tests/"]
    );
    assert_eq!(e.scorers[3].kind, "some_future_scorer");
    assert!((e.thresholds.pass - 0.85).abs() < f64::EPSILON);
    assert_eq!(e.evals[0].scorer, "no_errors");
    // Defaults: no scorers, the Python tool's marks.
    let empty: EvalSettings = parse(".agent-evals.yaml", "# nothing yet\n").unwrap();
    assert!(empty.scorers.is_empty());
    assert_eq!(empty.thresholds, Thresholds::default());
}

#[test]
fn eval_errors_name_the_line_and_the_scorer() {
    let text = "scorers:\n  - type: cost_under\n    max_dollars: lots\n";
    let e = error::<EvalSettings>(".agent-evals.yaml", text);
    assert!(
        e.starts_with(".agent-evals.yaml:3: `scorers[0].max_dollars`: "),
        "{e}"
    );
    let text = "scorers:\n  - type: no_errors\n  - type: regex\n    patern: x\n";
    let e = error::<EvalSettings>(".agent-evals.yaml", text);
    assert!(
        e.starts_with(".agent-evals.yaml:4: `scorers[1].patern`: unknown field `patern`"),
        "{e}"
    );
    let text = "scorers:\n  - threshold: 1\n";
    let e = error::<EvalSettings>(".agent-evals.yaml", text);
    assert!(e.contains("missing field `type`"), "{e}");
    let text = "scorers:\n  - type: files_scoped\n    allowed_paths: src/\n";
    let e = error::<EvalSettings>(".agent-evals.yaml", text);
    assert!(
        e.starts_with(".agent-evals.yaml:3: `scorers[0].allowed_paths`: expected a list of globs"),
        "{e}"
    );
}

#[test]
fn broken_yaml_names_its_line() {
    let e = error::<EvalSettings>(".agent-evals.yaml", "scorers:\n  - type: [unclosed\n");
    assert!(e.starts_with(".agent-evals.yaml:"), "{e}");
    assert!(
        !e.starts_with(".agent-evals.yaml:0:"),
        "a line is known: {e}"
    );
}

#[test]
fn retention_is_read_nested_or_at_the_top() {
    let nested = "retention:\n  max_age_days: 30\n  max_sessions: 1000\n  max_size_mb: 500\n  on_delete: log\n";
    let r = parse::<StraceSettings>(".agent-strace.yaml", nested)
        .unwrap()
        .retention();
    assert_eq!(r.max_age_days, Some(30.0));
    assert_eq!(r.max_sessions, Some(1000));
    assert_eq!(r.max_size_mb, Some(500.0));
    assert_eq!(r.on_delete, OnDelete::Log);
    let flat = "max_sessions: 10\non_delete: silent\n";
    let r = parse::<StraceSettings>(".agent-strace.yaml", flat)
        .unwrap()
        .retention();
    assert_eq!((r.max_sessions, r.on_delete), (Some(10), OnDelete::Silent));
    let none = parse::<StraceSettings>(".agent-strace.yaml", "")
        .unwrap()
        .retention();
    assert_eq!(none, Retention::default());
}

#[test]
fn retention_errors_name_the_key() {
    let e = error::<StraceSettings>(".agent-strace.yaml", "retension:\n  max_sessions: 5\n");
    assert!(
        e.starts_with(".agent-strace.yaml:1: `retension`: unknown field `retension`"),
        "{e}"
    );
    let e = error::<StraceSettings>(".agent-strace.yaml", "retention:\n  max_sessions: -3\n");
    assert!(
        e.starts_with(".agent-strace.yaml:2: `retention.max_sessions`: "),
        "{e}"
    );
    let e = error::<StraceSettings>(".agent-strace.yaml", "retention:\n  on_delete: shout\n");
    assert!(
        e.contains("`retention.on_delete`: unknown variant `shout`"),
        "{e}"
    );
}

#[test]
fn the_nearest_file_wins_and_an_explicit_one_must_exist() {
    let root = tempfile::tempdir().unwrap();
    let deep = root.path().join("a").join("b");
    std::fs::create_dir_all(&deep).unwrap();
    assert_eq!(load::<Policy>(&deep, None).unwrap(), None);
    std::fs::write(
        root.path().join(".agent-scope.json"),
        r#"{"network": {"deny_all": true}}"#,
    )
    .unwrap();
    let found = load::<Policy>(&deep, None).unwrap().unwrap();
    assert_eq!(found.path, root.path().join(".agent-scope.json"));
    assert!(found.settings.network.deny_all);
    std::fs::write(root.path().join("a").join(".agent-scope.json"), "{}").unwrap();
    let nearer = load::<Policy>(&deep, None).unwrap().unwrap();
    assert_eq!(nearer.path, root.path().join("a").join(".agent-scope.json"));
    assert!(!nearer.settings.network.deny_all);
    let missing = load::<Policy>(&deep, Some(Path::new("strict.json"))).unwrap_err();
    assert_eq!(missing.to_string(), "strict.json: no such settings file");
    std::fs::write(deep.join("strict.json"), "{\"files\": 1}").unwrap();
    let e = load::<Policy>(&deep, Some(Path::new("strict.json"))).unwrap_err();
    assert!(e.to_string().starts_with("strict.json:1: `files`: "), "{e}");
}

#[test]
fn yaml_prefers_the_yaml_spelling_in_one_folder() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join(".agent-strace.yml"), "max_sessions: 1\n").unwrap();
    let yml = load::<StraceSettings>(root.path(), None).unwrap().unwrap();
    assert_eq!(yml.settings.retention().max_sessions, Some(1));
    std::fs::write(root.path().join(".agent-strace.yaml"), "max_sessions: 2\n").unwrap();
    let yaml = load::<StraceSettings>(root.path(), None).unwrap().unwrap();
    assert_eq!(yaml.settings.retention().max_sessions, Some(2));
}
