//! `eval`, `eval ci` and `eval compare` (issue 13): every scorer passing and failing on built
//! sessions, the CI gate's exit codes, a settings file that does not fit named by file, line
//! and key, and an imported transcript scored.

#![expect(
    clippy::float_cmp,
    reason = "scores of 0 and counts of calls are exact"
)]

use agent_strace::model::Tokens;
use serde_json::{Value, json};

use crate::common::{SessionBuilder, TestEnv, shared};
use crate::diff::{tested_session, untested_session};

const GOOD: &str = "900d0000-0000-4000-8000-000000000001";
const BAD: &str = "bad00000-0000-4000-8000-000000000002";

/// Every scorer, each with a limit the good session keeps and the bad one breaks.
const CONFIG: &str = "\
# Scorers for the tests.
scorers:
  - type: no_errors
  - type: cost_under
    max_dollars: 1.00
  - type: files_scoped
    allowed_paths: [\"src/\", \"tests/**/*.rs\"]
    threshold: 0.9
  - type: duration_under
    max_seconds: 600
  - type: tool_calls_under
    max_calls: 4
  - type: regex
    pattern: \"(?i)all tests pass\"
    weight: 0.5
thresholds:
  pass: 0.85
  warn: 0.70
";

fn sonnet(input: u64) -> Tokens {
    Tokens {
        input,
        ..Tokens::default()
    }
}

/// A session in /proj that keeps every limit of [`CONFIG`], its tests passing at the end.
fn good() -> SessionBuilder {
    SessionBuilder::new(GOOD)
        .meta(|m| m.agent_name = "claude-code".into())
        .session_start(json!({"cwd": "/proj"}))
        .prompt("fix the parser")
        .at(10.0)
        .tool_call("Read", json!({"file_path": "/proj/src/parser.rs"}))
        .result(json!("fn parse() {}"))
        .at(20.0)
        .tool_call("Edit", json!({"file_path": "/proj/tests/unit/parser.rs"}))
        .result(json!("ok"))
        .at(25.0)
        .tool_call("Bash", json!({"command": "cargo test"}))
        .result(json!("test result: ok. 3 passed; 0 failed"))
        .at(30.0)
        .llm_response("claude-sonnet-4-5", sonnet(10_000))
        .answer("Fixed: all tests pass.")
        .ended(300.0)
}

/// A session in /proj that breaks every limit of [`CONFIG`]: failed calls, dear input,
/// one of two file operations outside, twice the time, six calls, no such answer.
fn bad() -> SessionBuilder {
    let mut s = SessionBuilder::new(BAD)
        .started(crate::common::session::T0 + 3600.0)
        .meta(|m| m.agent_name = "claude-code".into())
        .session_start(json!({"cwd": "/proj"}))
        .prompt("fix the parser")
        .at(10.0)
        .tool_call("Read", json!({"file_path": "/proj/src/parser.rs"}))
        .result(json!("fn parse() {}"))
        .tool_call("Read", json!({"file_path": "/etc/passwd"}))
        .result(json!("root:x:0:0"));
    for i in 0..4 {
        s = s
            .at(20.0 + f64::from(i))
            .tool_call("Bash", json!({"command": "cargo test"}))
            .error("1 test failed");
    }
    s.at(30.0)
        .llm_response("claude-sonnet-4-5", sonnet(10_000_000))
        .answer("I could not fix it.")
        .ended(1200.0)
}

fn scorers(report: &Value) -> Vec<(String, f64, bool)> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["scorer"].as_str().unwrap().to_owned(),
                r["score"].as_f64().unwrap(),
                r["passed"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn with_config(config: &str) -> TestEnv {
    let env = TestEnv::new();
    std::fs::write(env.path().join(".agent-evals.yaml"), config).unwrap();
    env
}

#[test]
fn every_scorer_passes_on_a_session_that_keeps_its_limits() {
    let env = with_config(CONFIG);
    good().write(&env);
    let run = env.run(&["eval", &GOOD[..8], "--format", "json"]);
    run.success();
    let report = run.json();
    let names: Vec<String> = scorers(&report).into_iter().map(|s| s.0).collect();
    assert_eq!(
        names,
        [
            "no_errors",
            "cost_under",
            "files_scoped",
            "duration_under",
            "tool_calls_under",
            "regex"
        ]
    );
    for (name, score, passed) in scorers(&report) {
        assert!(passed && (score - 1.0).abs() < 1e-9, "{name}: {score}");
    }
    assert_eq!(report["passed"], true);
    assert_eq!(report["verdict"], "pass");
    assert_eq!(report["weighted_score"], 1.0);
    assert_eq!(
        report["results"][5]["reason"],
        "/(?i)all tests pass/ matched an event of type assistant_response",
        "{report}"
    );
}

#[test]
fn every_scorer_fails_on_a_session_that_breaks_its_limits() {
    let env = with_config(CONFIG);
    bad().write(&env);
    let run = env.run(&["eval", &BAD[..8], "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let report = run.json();
    let results = scorers(&report);
    for (name, _, passed) in &results {
        assert!(!passed, "{name} passed");
    }
    let score = |name: &str| results.iter().find(|r| r.0 == name).unwrap().1;
    assert_eq!(score("no_errors"), 0.0);
    // The limit over what `cost` says the session cost (10M tokens of context: long-context
    // rates, tens of dollars).
    let cost = env.run(&["cost", &BAD[..8], "--format", "json"]).json()["cost_usd"]
        .as_f64()
        .unwrap();
    assert!(cost > 10.0, "{cost}");
    assert!(
        (score("cost_under") - 1.0 / cost).abs() < 1e-9,
        "{results:?}"
    );
    assert!((score("files_scoped") - 0.5).abs() < 1e-9);
    assert!((score("duration_under") - 0.5).abs() < 1e-9);
    assert!((score("tool_calls_under") - 4.0 / 6.0).abs() < 1e-9);
    assert_eq!(score("regex"), 0.0);
    // The one answer, counted in the singular.
    assert_eq!(
        report["results"][5]["reason"],
        "/(?i)all tests pass/ matched none of 1 event of type assistant_response",
        "{report}"
    );
    let failed = &report["results"][0];
    assert_eq!(failed["value"], 4.0);
    assert!(
        report["results"][2]["reason"]
            .as_str()
            .unwrap()
            .contains("/etc/passwd")
    );
    assert_eq!(report["verdict"], "fail");
    assert_eq!(report["fail_count"], 6);
}

#[test]
fn eval_ci_exits_1_when_a_scorer_fails_and_0_when_all_pass() {
    let env = with_config(CONFIG);
    // No session: nothing to gate is an error, not a pass.
    let none = env.run(&["eval", "ci"]);
    assert_eq!(none.code, 2, "{none:?}");
    assert_eq!(none.stderr.lines().count(), 1, "{}", none.stderr);
    good().write(&env);
    bad().write(&env);
    // The latest session (the bad one, started an hour later) by default.
    let latest = env.run(&["eval", "ci"]);
    assert_eq!(latest.code, 1, "{latest:?}");
    assert!(latest.stdout.contains("CI: fail — 6 of 6 scorers failed."));
    let passing = env.run(&["eval", "ci", "--session", &GOOD[..8], "--format", "json"]);
    passing.success();
    assert_eq!(passing.json()["session_id"], GOOD);
    let failing = env.run(&["eval", "ci", "--session", &BAD[..8], "--format", "json"]);
    assert_eq!(failing.code, 1);
    assert_eq!(failing.json()["passed"], false);
    // One scorer failing is enough.
    let env = with_config(
        "scorers:\n  - type: no_errors\n  - type: tool_calls_under\n    max_calls: 1\n",
    );
    good().write(&env);
    let one = env.run(&["eval", "ci", "--format", "json"]);
    assert_eq!(one.code, 1, "{one:?}");
    assert_eq!(one.json()["fail_count"], 1);
}

#[test]
fn eval_compare_puts_two_sessions_side_by_side() {
    let env = with_config(CONFIG);
    good().write(&env);
    bad().write(&env);
    let run = env.run(&["eval", "compare", &BAD[..8], &GOOD[..8], "--format", "json"]);
    run.success();
    let c = run.json();
    assert_eq!(c["a"]["session_id"], BAD);
    assert_eq!(c["b"]["session_id"], GOOD);
    assert_eq!(c["verdict"], "improved");
    let rows = c["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    let duration = rows
        .iter()
        .find(|r| r["scorer"] == "duration_under")
        .unwrap();
    assert!((duration["delta"].as_f64().unwrap() - 0.5).abs() < 1e-9);
    let back = env.run(&["eval", "compare", &GOOD[..8], &BAD[..8], "--format", "json"]);
    assert_eq!(back.json()["verdict"], "regressed");
}

/// A value an alias repeats ended its message in `(used`, and a key given twice was named
/// `?` with advice to set serde-saphyr's DuplicateKeyPolicy.
#[test]
fn an_alias_or_a_key_given_twice_is_said_whole() {
    let cases = [
        (
            "scorers:\n  - type: files_scoped\n    allowed_paths: &p [src]\n  - type: regex\n    pattern: *p\n",
            "error: .agent-evals.yaml:5: `scorers[1].pattern`: expected string scalar (defined at line 3, column 23)",
        ),
        (
            "scorers:\n  - type: no_errors\n    threshold: 1\n    threshold: 0.5\n",
            "error: .agent-evals.yaml:4: `scorers[0]`: `threshold` is given twice",
        ),
        (
            "scorers:\n  - type: no_errors\nscorers: []\n",
            "error: .agent-evals.yaml:3: `scorers` is given twice",
        ),
    ];
    for (config, expected) in cases {
        let env = with_config(config);
        good().write(&env);
        let run = env.run(&["eval"]);
        assert_eq!(run.code, 3, "{config}\n{run:?}");
        assert_eq!(run.stderr.trim_end(), expected, "{config}");
    }
}

/// A file that is not UTF-8 was an error of reading (exit 4) at a byte index; its content is
/// wrong, as a syntax error's is: exit 3, naming the line.
#[test]
fn a_settings_file_that_is_not_utf8_is_named_by_its_line() {
    let env = TestEnv::new();
    std::fs::write(
        env.path().join(".agent-evals.yaml"),
        b"scorers:\n  - type: regex\n    pattern: \"caf\xe9\"\n",
    )
    .unwrap();
    good().write(&env);
    let run = env.run(&["eval"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(
        run.stderr.trim_end(),
        "error: .agent-evals.yaml:3: not UTF-8 text"
    );
}

#[test]
fn a_settings_file_that_does_not_fit_is_named_by_file_line_and_key() {
    let cases = [
        (
            "scorers:\n  - type: no_errors\n  - type: cost_under\n    max_dollars: lots\n",
            ".agent-evals.yaml:4: `scorers[1].max_dollars`",
        ),
        (
            "scorers:\n  - type: no_errors\n    treshold: 1.0\n",
            ".agent-evals.yaml:3:",
        ),
        (
            "scorers:\n  - type: no_errors\n  - type: regex\n    pattern: \"(unclosed\"\n",
            ".agent-evals.yaml:4: `scorers[1].pattern`: not a regular expression",
        ),
        // What the regex crate says is wrong, without its own `error: ` inside ours.
        (
            "scorers:\n  - type: no_errors\n  - type: regex\n    pattern: '\\p{Nope}'\n",
            ".agent-evals.yaml:4: `scorers[1].pattern`: not a regular expression: Unicode \
             property not found\n",
        ),
        (
            "scorers:\n  - type: no_errors\n    threshold: 1.0\n  - type: no_errors\n    threshold: 1.5\n",
            ".agent-evals.yaml:5: `scorers[1].threshold`: expected a score from 0 to 1",
        ),
        (
            "scorers:\n  - type: no_errors\n  - type: files_scoped\n    allowed_paths: [src/, \" \"]\n",
            ".agent-evals.yaml:4: `scorers[1].allowed_paths`: a blank path would allow every file",
        ),
        (
            "scorers:\n  - type: tool_calls_under\n",
            ".agent-evals.yaml:2: `scorers[0].max_calls`: tool_calls_under needs max_calls",
        ),
        // A type no event has scored 0 at every session, silently.
        (
            "scorers:\n  - type: regex\n    pattern: x\n    event_type: tool_cal\n",
            ".agent-evals.yaml:4: `scorers[0].event_type`: unknown event type `tool_cal`; \
             expected one of session_start, session_end, user_prompt",
        ),
        (
            "scorers:\n  - type: regex\n    pattern: x\n    event_type: \"\"\n",
            ".agent-evals.yaml:4: `scorers[0].event_type`: unknown event type ``",
        ),
    ];
    for (config, expected) in cases {
        let env = with_config(config);
        good().write(&env);
        let run = env.run(&["eval"]);
        assert_eq!(run.code, 3, "{config}\n{run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.starts_with(&format!("error: {expected}")),
            "{config}\nwanted {expected}\ngot {}",
            run.stderr
        );
    }
    let env = TestEnv::new();
    good().write(&env);
    let missing = env.run(&["eval", "--config", "nope.yaml"]);
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(missing.stderr.contains("nope.yaml: no such settings file"));
}

/// A pattern of a file written for the Python tool, whose `re` has look-around and
/// backreferences, scores a session as it does there (the good session's answer is "Fixed: all
/// tests pass.").
#[test]
fn look_around_and_backreferences_score_as_pythons_re_does() {
    let cases = [
        (r"tests (?=pass)", true),
        (r"tests (?!pass)", false),
        (r"(?<=all )tests", true),
        (r"(?<!all )tests", false),
        (r"(l)\1", true),
        (r"(?P<word>\w+) (?P=word)", false),
        (r"(\w+) \1\b", false),
        // Python's `\Z` is the end of the text, as its `$` would be here.
        (r"pass\.\Z", true),
    ];
    for (pattern, matches) in cases {
        let env = with_config(&format!(
            "scorers:\n  - type: regex\n    pattern: '{pattern}'\n"
        ));
        good().write(&env);
        let run = env.run(&["eval", &GOOD[..8], "--format", "json"]);
        // 1 when the scorer fails.
        assert_eq!(run.code, i32::from(!matches), "{pattern}\n{run:?}");
        let report = run.json();
        assert_eq!(scorers(&report)[0].2, matches, "{pattern}\n{report}");
    }
}

/// A pattern that backtracks catastrophically (each way of cutting 100 `a`s into `a` and `aa`
/// tried before the `b` refuses the `c`) fails its scorer, saying so, instead of running on.
#[test]
fn a_catastrophic_pattern_fails_its_scorer_instead_of_running_on() {
    let env = with_config("scorers:\n  - type: regex\n    pattern: '(a|aa)+\\1c'\n");
    SessionBuilder::new(GOOD)
        .meta(|m| m.agent_name = "claude-code".into())
        .session_start(json!({"cwd": "/proj"}))
        .prompt("say a lot")
        .at(10.0)
        .answer(&format!("{}bc", "a".repeat(100)))
        .ended(20.0)
        .write(&env);
    let started = std::time::Instant::now();
    let run = env.run(&["eval", &GOOD[..8], "--format", "json"]);
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
    assert_eq!(run.code, 1, "{run:?}");
    let report = run.json();
    let reason = report["results"][0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(
            "/(a|aa)+\\1c/ was not decided on an event of type assistant_response: the search \
             gave up after 1000000 backtracking steps"
        ),
        "{reason}"
    );
}

#[test]
fn the_python_tools_llm_judge_is_accepted_and_fails_with_a_warning() {
    let env = with_config("scorers:\n  - type: no_errors\n  - type: llm_judge\n    prompt: ok?\n");
    good().write(&env);
    let run = env.run(&["eval", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "`llm_judge` (scorers[1]) is a scorer of the Python tool that this build does not run"
        ),
        "{}",
        run.stderr
    );
    let results = scorers(&run.json());
    assert_eq!(results[1], ("llm_judge".to_owned(), 0.0, false));
}

/// The Python tool's `evals` gates were read and then dropped without a word, so `eval ci`
/// passed a session a gate of the file was there to stop: each is counted as failed, and said.
#[test]
fn the_python_tools_evals_gates_are_accepted_and_fail_with_a_warning() {
    let env = with_config(
        "scorers:\n  - type: no_errors\nevals:\n  - name: no-secrets\n    scorer: regex\n    fail_on: match\n",
    );
    good().write(&env);
    let run = env.run(&["eval", "ci", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "`evals[0]` (no-secrets) is a gate of the Python tool that this build does not run"
        ),
        "{}",
        run.stderr
    );
    let results = scorers(&run.json());
    assert_eq!(results[0], ("no_errors".to_owned(), 1.0, true));
    assert_eq!(results[1], ("evals: no-secrets".to_owned(), 0.0, false));
}

/// A misspelt scorer type was scored as a failing scorer, so every session failed for a reason
/// that was not its own: it is a settings error naming the file, line and key, before any
/// session is scored (here there is none to score).
#[test]
fn a_misspelt_scorer_type_is_a_settings_error_before_any_session_is_scored() {
    let env = with_config(
        "scorers:\n  - type: no_errors\n  - type: regex\n    event_type: tool_call\n    pattern: x\n  - type: cost_undr\n    max_dollars: 1\n",
    );
    for args in [
        &["eval"][..],
        &["eval", "ci"],
        &["eval", "compare", "aaaa", "bbbb"],
    ] {
        let run = env.run(args);
        assert_eq!(run.code, 3, "{args:?} {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.starts_with(
                "error: .agent-evals.yaml:6: `scorers[2].type`: unknown scorer type `cost_undr`; expected one of no_errors, cost_under,"
            ),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn without_a_settings_file_an_imported_transcript_is_scored_on_its_errors() {
    let env = TestEnv::new();
    let file = shared()
        .join("corpus/claude-code/marot__spotter/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl");
    env.run(&["import", file.to_str().unwrap()]).success();
    let run = env.run(&["eval", "ae4a77f8", "--format", "json"]);
    let report = run.json();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["scorer"], "no_errors");
    // The failed calls are the tools' errors `list` counts (refused calls are neither, nor an
    // API error that ended a turn).
    let listed = env.run(&["list", "--format", "json"]).json();
    let session = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == "ae4a77f8-aedd-4bc1-888f-c94edc91af04")
        .unwrap()
        .clone();
    let errors = session["tool_errors"].as_f64().unwrap();
    assert!(errors > 0.0);
    assert_eq!(results[0]["value"].as_f64().unwrap(), errors);
    assert_eq!(run.code, 1);
    // Its cost is the one `cost` gives, subagents included.
    let cost = env.run(&["cost", "ae4a77f8", "--format", "json"]).json();
    let env_config = "scorers:\n  - type: cost_under\n    max_dollars: 1000\n";
    std::fs::write(env.path().join(".agent-evals.yaml"), env_config).unwrap();
    let priced = env.run(&["eval", "ae4a77f8", "--format", "json"]);
    priced.success();
    assert_eq!(priced.json()["results"][0]["value"], cost["cost_usd"]);
}

/// `cost_under` passed a session of `aide-gpt-5` (no known price) on "$0.0000 ≤ $0.5000", as if
/// it had cost nothing: the reason marks the cost and names the model, and the scorer fails, as
/// a cost it cannot tell is no cost under a limit (every session of a model newer than the
/// build's prices passed).
#[test]
fn cost_under_says_when_the_cost_counts_an_unpriced_model_at_zero() {
    use crate::common::import_unpriced_and_priced;

    let env = TestEnv::new();
    let (unpriced, _) = import_unpriced_and_priced(&env);
    std::fs::write(
        env.path().join(".agent-evals.yaml"),
        "scorers:\n  - type: cost_under\n    max_dollars: 0.50\n",
    )
    .unwrap();
    let run = env.run(&["eval", &unpriced, "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let r = run.json();
    assert_eq!(
        r["results"][0]["reason"],
        "$0.0000? ≤ $0.5000 (aide-gpt-5 counted at $0: no known price: the cost cannot be checked)",
        "{r}"
    );
    assert_eq!(r["results"][0]["passed"], false, "{r}");
    let ci = env.run(&["eval", "ci", "--session", &unpriced]);
    assert_eq!(ci.code, 1, "{ci:?}");
}

/// `eval compare` called B "regressed" when A ran no tests and B's tests passed, because B had
/// one failed call where A had none (the no_errors scorer), while `diff --semantic` and
/// `compare` called the same pair untested: the three now weigh the work's outcome first, by
/// one rule, and say why.
#[test]
fn eval_compare_weighs_untested_work_as_diff_and_compare_do() {
    let env = TestEnv::new();
    // A: nothing tested, nothing failed. B: a failed listing, then tests that pass.
    let untested = untested_session(&env, "aaaa2222-0000-4000-8000-000000000000");
    let tested = tested_session(&env, "bbbb2222-0000-4000-8000-000000000000");
    let why = "A ran no tests, build or check; B's last passed: which did better is unknown";
    let diff = env
        .run(&["diff", &untested, &tested, "--semantic", "--format", "json"])
        .success()
        .json();
    assert_eq!(diff["verdict"], "untested", "{diff}");
    let c = env
        .run(&["eval", "compare", &untested, &tested, "--format", "json"])
        .success()
        .json();
    assert!(c["weighted_delta"].as_f64().unwrap() < 0.0, "{c}");
    assert_eq!(c["verdict"], "untested", "{c}");
    assert_eq!(c["reasons"], json!([why]), "{c}");
    assert_eq!(
        (&c["outcome_a"], &c["outcome_b"]),
        (&json!("unknown"), &json!("passing"))
    );
    let text = env.run(&["eval", "compare", &untested, &tested]);
    text.success();
    assert!(
        text.stdout
            .contains(&format!("B against A: untested ({why}).")),
        "{}",
        text.stdout
    );
    // Neither tested: the scores decide, and the reason says nothing was tested.
    let c = env
        .run(&["eval", "compare", &untested, &untested, "--format", "json"])
        .success()
        .json();
    assert_eq!(c["verdict"], "same", "{c}");
    assert_eq!(c["reasons"], json!(["neither ran tests, build or check"]));
}

/// `eval compare --help` named no verdict, so `untested`, which it prints for a pair of which
/// one ran no test, build or check, was nowhere explained: the help names each verdict it
/// gives.
#[test]
fn eval_compare_help_names_each_verdict_it_gives() {
    let env = TestEnv::new();
    let untested = untested_session(&env, "aaaa3333-0000-4000-8000-000000000000");
    let tested = tested_session(&env, "bbbb3333-0000-4000-8000-000000000000");
    let help = env
        .run(&["eval", "compare", "--help"])
        .success()
        .stdout
        .clone();
    let verdict = |a: &str, b: &str| {
        env.run(&["eval", "compare", a, b, "--format", "json"])
            .success()
            .json()["verdict"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let given = [verdict(&untested, &tested), verdict(&untested, &untested)];
    assert_eq!(given, ["untested", "same"]);
    for word in given
        .iter()
        .map(String::as_str)
        .chain(["improved", "regressed"])
    {
        assert!(help.contains(&format!("`{word}`")), "{word}: {help}");
    }
}

/// `no_errors` failed a session whose every call went well, for the API error that ended its
/// turn (StopFailure): the service failed, not the work. It passes and says why; a failed call
/// beside such an error still fails it, counted alone.
#[test]
fn no_errors_passes_a_session_whose_only_error_ended_a_turn() {
    let env = TestEnv::new();
    SessionBuilder::new(GOOD)
        .prompt("go")
        .tool_call("Bash", json!({"command": "ls"}))
        .result(json!("ok"))
        .turn_error("API Error: 529 Overloaded")
        .write(&env);
    SessionBuilder::new(BAD)
        .prompt("go")
        .tool_call("Bash", json!({"command": "make"}))
        .error("exit 2")
        .turn_error("API Error: 529 Overloaded")
        .write(&env);
    let run = env.run(&["eval", &GOOD[..8], "--format", "json"]);
    run.success();
    let result = &run.json()["results"][0];
    assert_eq!(result["score"], 1.0, "{result}");
    assert_eq!(result["value"], 0.0, "{result}");
    assert_eq!(
        result["reason"], "no failed tool calls (1 API error ended a turn)",
        "{result}"
    );
    let run = env.run(&["eval", &BAD[..8], "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let result = &run.json()["results"][0];
    assert_eq!(result["value"], 1.0, "{result}");
    assert_eq!(
        result["reason"], "1 failed tool call (1 API error ended a turn)",
        "{result}"
    );
}

/// A session that never ended and holds no event has no duration: `duration_under` passed it
/// as "0.0s ≤ 600.0s". It fails, saying why.
#[test]
fn a_session_of_no_duration_is_not_under_a_limit() {
    let env = with_config("scorers:\n  - type: duration_under\n    max_seconds: 600\n");
    SessionBuilder::new(GOOD).write(&env);
    let run = env.run(&["eval", &GOOD[..8], "--format", "json"]);
    let report = run.json();
    let result = &report["results"][0];
    assert_eq!(result["scorer"], "duration_under", "{report}");
    assert_eq!(result["score"], 0.0, "{report}");
    assert!(
        result["reason"]
            .as_str()
            .is_some_and(|r| r.contains("no duration")),
        "{report}"
    );
}

/// A warn mark above the pass mark leaves no score that warns (the Python tool scores such a
/// file the same way); the verdict line said "pass at 0.50, warn down to 0.90", a band that
/// runs upward.
#[test]
fn a_warn_mark_above_the_pass_mark_is_said_to_leave_no_warning() {
    let env = with_config("scorers:\n  - type: no_errors\nthresholds:\n  pass: 0.5\n  warn: 0.9\n");
    bad().write(&env);
    let run = env.run(&["eval", &BAD[..8], "--color", "never"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(
            "FAIL (pass at 0.50, fail below it: the warn mark 0.90 is not below the pass mark)"
        ),
        "{}",
        run.stdout
    );
    let env = with_config(CONFIG);
    bad().write(&env);
    let run = env.run(&["eval", &BAD[..8], "--color", "never"]);
    assert!(
        run.stdout.contains("(pass at 0.85, warn down to 0.70)"),
        "{}",
        run.stdout
    );
}

/// A limit of `1e308` seconds was said in the 309 digits Rust writes a float out in (a reason
/// of `12.0s ≤ 1000…0.0s`); it reads `1e308s`, and a limit of calls is counted as every
/// sentence counts (`12,000 calls`, where it said `12000 calls`).
#[test]
fn a_limit_past_fifteen_digits_is_said_in_exponent_form() {
    let env = with_config(
        "scorers:\n  - type: duration_under\n    max_seconds: 1e308\n  \
         - type: tool_calls_under\n    max_calls: 12000\n",
    );
    good().write(&env);
    let run = env.run(&["eval", &GOOD[..8], "--color", "never"]);
    run.success();
    assert!(
        run.stdout.contains("s ≤ 1e308s") && run.stdout.contains(" calls ≤ 12,000 calls"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.lines().all(|l| l.len() < 200), "{}", run.stdout);
    // A limit is said with every digit it was given: `120.04` read `120.0s`, `$0.00005`
    // read `$0.0001`.
    let env = with_config(
        "scorers:\n  - type: duration_under\n    max_seconds: 120.04\n  \
         - type: cost_under\n    max_dollars: 0.00005\n",
    );
    good().write(&env);
    let run = env.run(&["eval", &GOOD[..8], "--format", "json"]);
    let reasons = run.json()["results"].to_string();
    assert!(
        reasons.contains("120.04s") && reasons.contains("$0.00005"),
        "{reasons}"
    );
}

/// `files_scoped` holds a path where the system would: a shell command's writes count (they
/// were taken as counted with their command, which names no path), `..` goes up (a path up
/// and out of `src/` was in it), and a relative scope is the project's only (`./` allowed
/// `/etc`).
#[test]
fn files_scoped_holds_paths_where_the_system_would() {
    let env = with_config(
        "scorers:\n  - type: files_scoped\n    allowed_paths: [\"src/\", \"./**/*.md\"]\n",
    );
    let session = |id: &str, build: fn(SessionBuilder) -> SessionBuilder| {
        build(
            SessionBuilder::new(id)
                .meta(|m| m.agent_name = "claude-code".into())
                .session_start(json!({"cwd": "/proj"})),
        )
        .write(&env);
        env.run(&["eval", "ci", "--session", id])
    };
    let shell = session("shell", |s| {
        s.tool_call(
            "Bash",
            json!({"command": "cat /etc/passwd; echo pwned > /etc/evil.conf"}),
        )
        .file_read("/etc/passwd")
        .file_write("/etc/evil.conf")
        .result(json!(""))
    });
    assert_eq!(shell.code, 1, "{shell:?}");
    assert!(
        shell.stdout.contains("2 of 2 file operations outside"),
        "{}",
        shell.stdout
    );
    let up = session("up", |s| {
        s.tool_call("Write", json!({"file_path": "/proj/src/../../etc/passwd"}))
            .result(json!("ok"))
            .tool_call(
                "Read",
                json!({"file_path": "src/../../../root/.ssh/id_rsa"}),
            )
            .result(json!("key"))
    });
    assert_eq!(up.code, 1, "{up:?}");
    assert!(
        up.stdout.contains("2 of 2 file operations outside"),
        "{}",
        up.stdout
    );
    let outside = session("outside", |s| {
        s.tool_call("Write", json!({"file_path": "/etc/cron.d/evil.md"}))
            .result(json!("ok"))
    });
    assert_eq!(outside.code, 1, "{outside:?}");
    let inside = session("inside", |s| {
        s.tool_call("Bash", json!({"command": "echo x > src/a.rs"}))
            .file_write("/proj/src/a.rs")
            .result(json!(""))
            .tool_call("Write", json!({"file_path": "/proj/docs/x/../README.md"}))
            .file_write("/proj/docs/README.md")
            .result(json!("ok"))
    });
    assert_eq!(inside.code, 0, "{inside:?}");
    assert!(
        inside.stdout.contains("all 2 file operations within"),
        "{}",
        inside.stdout
    );
    // A folder recorded with a slash at its end is the same folder.
    let id = "slash";
    SessionBuilder::new(id)
        .meta(|m| m.agent_name = "claude-code".into())
        .session_start(json!({"cwd": "/proj/"}))
        .tool_call("Read", json!({"file_path": "/proj/src/main.rs"}))
        .result(json!("fn main() {}"))
        .write(&env);
    let slash = env.run(&["eval", "ci", "--session", id]);
    assert_eq!(slash.code, 0, "{slash:?}");
}

/// A session is scored with its subagents, as it is costed with them (and as a hook-recorded
/// session holds their calls): a subagent's failed call and its write outside the scope were
/// no part of its parent's verdict, and `eval ci` passed the parent.
#[test]
fn a_session_is_scored_with_its_subagents() {
    let env = with_config(
        "scorers:\n  - type: no_errors\n  - type: files_scoped\n    allowed_paths: [src/]\n  - type: tool_calls_under\n    max_calls: 2\n",
    );
    let parent = SessionBuilder::new("parent")
        .meta(|m| m.agent_name = "claude-code".into())
        .session_start(json!({"cwd": "/proj"}))
        .tool_call("Read", json!({"file_path": "/proj/src/a.rs"}))
        .result(json!("fn a() {}"))
        .write(&env);
    SessionBuilder::new("child")
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.parent_session_id = Some("parent".into());
        })
        .session_start(json!({"cwd": "/proj"}))
        .tool_call("Read", json!({"file_path": "/proj/.env"}))
        .result(json!("SECRET=1"))
        .tool_call("Write", json!({"file_path": "/etc/evil"}))
        .error("permission denied")
        .write(&env);
    let run = env.run(&["eval", "ci", "--session", &parent, "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let r = run.json();
    assert_eq!(r["session_id"], "parent", "{r}");
    let results = scorers(&r);
    assert!(!results[0].2 && !results[1].2 && !results[2].2, "{r}");
    let reasons = r["results"].to_string();
    assert!(reasons.contains("1 failed tool call"), "{reasons}");
    assert!(
        reasons.contains("2 of 3 file operations outside"),
        "{reasons}"
    );
    assert!(reasons.contains("3 calls > 2 calls limit"), "{reasons}");
}

/// `no_errors` said "8 failed tool calls" of a batch of 8 parallel reads where one file was
/// missing and Claude Code cancelled the other 7 ("Sibling tool call errored"), with no word
/// that 7 never ran. It counts them as `list` and `stats` count errors, and says how many were
/// cancelled for another call's failure.
#[test]
fn no_errors_says_which_failed_calls_were_cancelled_for_a_parallel_ones_failure() {
    let env = TestEnv::new();
    let (s, calls) = SessionBuilder::new(BAD)
        .prompt("read them")
        .batch_failing_first(
            "Read",
            &["/p/a.rs", "/p/b.rs", "/p/c.rs"],
            "File does not exist.",
        );
    s.write(&env);
    let run = env.run(&["eval", &BAD[..8], "--format", "json"]);
    assert_eq!(run.code, 1, "a call failed: {run:?}");
    let result = &run.json()["results"][0];
    let listed = env.run(&["list", "--format", "json"]).json();
    let errors = listed[0]["errors"].as_f64().unwrap();
    assert_eq!(
        result["value"].as_f64().unwrap(),
        errors,
        "{result} {listed}"
    );
    let cancelled = calls.len() - 1;
    assert_eq!(
        result["reason"],
        format!("{errors} failed tool calls ({cancelled} cancelled when a parallel call failed)"),
        "{result}"
    );
}

/// A session scored exactly at a scorer's threshold passes it: 93 of 100 files inside scored
/// 0.9299999999999999 (one minus the share outside, rounded twice) and failed a threshold of
/// 0.93; and one scorer's score weighed alone is that score, at a pass mark of the same (0.8
/// weighed 0.7999999999999999, a warning under a pass mark of 0.8).
#[test]
fn files_scoped_passes_a_session_exactly_at_its_threshold() {
    for (inside, total) in [(93, 100), (17, 25), (9, 20), (1, 5), (4, 5)] {
        let share = format!("{}", f64::from(inside) / f64::from(total));
        let env = with_config(&format!(
            "scorers:\n  - type: files_scoped\n    allowed_paths: [\"src/\"]\n    threshold: {share}\nthresholds:\n  pass: {share}\n  warn: 0\n"
        ));
        let mut session = SessionBuilder::new("scoped")
            .meta(|m| m.agent_name = "claude-code".into())
            .session_start(json!({"cwd": "/proj"}));
        for i in 0..total {
            let path = if i < inside {
                format!("/proj/src/f{i}.rs")
            } else {
                format!("/etc/f{i}")
            };
            session = session
                .tool_call("Read", json!({"file_path": path}))
                .result(json!("x"));
        }
        session.write(&env);
        let run = env.run(&["eval", "ci", "--session", "scoped", "--format", "json"]);
        assert_eq!(run.code, 0, "{inside} of {total} at {share}: {run:?}");
        let r = run.json();
        let threshold: f64 = share.parse().unwrap();
        assert!(
            r["results"][0]["score"].as_f64().unwrap() >= threshold,
            "{r}"
        );
        assert!(r["weighted_score"].as_f64().unwrap() >= threshold, "{r}");
        assert_eq!(r["verdict"], "pass", "{inside} of {total}: {r}");
    }
}

/// When every scorer weighs 0 there is no weighted score to judge: `eval ci` failed a session
/// every scorer of which passed ("Weighted score 0.00: FAIL … 1 of 1 scorers passed"), as the
/// Python tool does not. The scorers alone decide, a failed one still failing the session.
#[test]
fn a_session_whose_scorers_all_weigh_nothing_is_judged_by_its_scorers() {
    for config in [
        "scorers:\n  - type: no_errors\n    threshold: 0\n",
        "scorers:\n  - type: no_errors\n    weight: 0\n",
    ] {
        let env = with_config(config);
        good().write(&env);
        let run = env.run(&["eval", "ci", "--session", &GOOD[..8], "--format", "json"]);
        assert_eq!(run.code, 0, "{config}: {run:?}");
        let r = run.json();
        assert_eq!(
            (r["passed"].clone(), r["verdict"].clone()),
            (true.into(), "unweighted".into()),
            "{r}"
        );
        // No score, rather than a 0 that reads as a failure.
        assert!(r["weighted_score"].is_null(), "{r}");
        let text = env.run(&["eval", "ci", "--session", &GOOD[..8]]);
        assert!(text.stdout.contains("No weighted score"), "{}", text.stdout);
        assert!(!text.stdout.contains("FAIL"), "{}", text.stdout);
        assert!(text.stdout.contains("CI: pass."), "{}", text.stdout);
    }
    // A weight alone is the threshold too (the Python tool's reading): one that still fails.
    let env = with_config("scorers:\n  - type: no_errors\n    threshold: 1\n    weight: 0\n");
    bad().write(&env);
    let failing = env.run(&["eval", "ci", "--session", &BAD[..8]]);
    assert_eq!(failing.code, 1, "{failing:?}");
    assert!(
        failing.stdout.contains("1 of 1 scorers failed"),
        "{}",
        failing.stdout
    );
}

/// A key of another scorer type was passed over and a default judged instead: `max_calls` on
/// `cost_under` judged a $10 limit, `max_dollars` on `duration_under` 120 s, `pattern` on
/// `files_scoped` checked nothing; exit 1 and no word of it. It is an error naming the file,
/// line, key and scorer (exit 3), as a misspelt key is.
#[test]
fn a_key_of_another_scorer_type_is_a_settings_error() {
    let cases = [
        (
            "scorers:\n  - type: cost_under\n    max_calls: 1\n",
            ".agent-evals.yaml:3: `scorers[0].max_calls`: cost_under does not read max_calls",
        ),
        (
            "scorers:\n  - type: no_errors\n  - type: duration_under\n    max_dollars: 0.01\n",
            ".agent-evals.yaml:4: `scorers[1].max_dollars`: duration_under does not read max_dollars",
        ),
        (
            "scorers:\n  - type: files_scoped\n    pattern: \"src/\"\n",
            ".agent-evals.yaml:3: `scorers[0].pattern`: files_scoped does not read pattern",
        ),
    ];
    for (config, expected) in cases {
        let env = with_config(config);
        good().write(&env);
        let run = env.run(&["eval", "ci", "--session", &GOOD[..8]]);
        assert_eq!(run.code, 3, "{config}\n{run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.starts_with(&format!("error: {expected}")),
            "{config}\nwanted {expected}\ngot {}",
            run.stderr
        );
    }
}

/// `context_window` on a scorer, which this build took before (no scorer reads it; the Python
/// tool reads it on its `evals` gates), was refused as an unknown key once the scorers' keys
/// were checked: a file that loaded the day before failed CI with exit 3.
#[test]
fn a_context_window_on_a_scorer_still_loads() {
    for key in ["context_window", "context_window_tokens"] {
        let env = with_config(&format!(
            "scorers:\n  - type: no_errors\n    {key}: 200000\n"
        ));
        good().write(&env);
        let run = env.run(&["eval", "ci", "--session", &GOOD[..8]]);
        assert_eq!(run.code, 0, "{key}: {run:?}");
    }
}

/// A limit the file does not give is the Python tool's default, and the reason says so (it
/// read "$0.03 ≤ $10.00" as if the file had set it); a files_scoped with no allowed paths, or
/// an empty list, allows no file (it passed every session: "nothing to check").
#[test]
fn a_default_limit_is_named_and_no_allowed_path_allows_no_file() {
    let env = with_config(
        "scorers:\n  - type: cost_under\n  - type: duration_under\n  - type: files_scoped\n  - type: files_scoped\n    allowed_paths: []\n",
    );
    good().write(&env);
    let run = env.run(&["eval", "ci", "--session", &GOOD[..8], "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let r = run.json();
    let reason = |i: usize| r["results"][i]["reason"].as_str().unwrap().to_owned();
    assert!(reason(0).contains("max_dollars not set"), "{r}");
    assert!(reason(1).contains("max_seconds not set"), "{r}");
    let results = scorers(&r);
    // 300 s, over the default 120 s: the default is judged, not skipped.
    assert!(results[0].2 && !results[1].2, "{r}");
    for i in [2, 3] {
        assert!(!results[i].2, "{r}");
        assert!(reason(i).starts_with("no allowed paths set"), "{r}");
    }
}

/// A settings file of two YAML documents was refused in the YAML library's words, advice to a
/// program ("use from_str_multiple or from_str_multiple_with_options"): it is said in ours, on
/// one line naming where the second begins, exit 3.
#[test]
fn a_settings_file_of_two_documents_is_said_in_our_words() {
    let env = with_config("scorers:\n  - type: no_errors\n---\nscorers:\n  - type: no_errors\n");
    good().write(&env);
    let run = env.run(&["eval"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    // The line is the second document's: at or after its `---`.
    let line: usize = run
        .stderr
        .strip_prefix("error: .agent-evals.yaml:")
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_default();
    assert!(line >= 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("a second YAML document"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("from_str"), "{}", run.stderr);
}

/// A score just under its threshold read as the threshold beside "fail": 159 of 200 files
/// inside is 0.795, printed "0.80" under a threshold of "0.80", and the weighted score "0.80"
/// beside "FAIL (pass at 0.80 …)". A score reads on its side of the mark that judged it.
#[test]
fn a_score_just_under_its_threshold_never_reads_as_the_threshold() {
    let env = with_config(
        "scorers:\n  - type: files_scoped\n    allowed_paths: [\"src/\"]\n    threshold: 0.8\nthresholds:\n  pass: 0.8\n  warn: 0.8\n",
    );
    let (inside, total) = (159, 200);
    let mut session = SessionBuilder::new("scoped")
        .meta(|m| m.agent_name = "claude-code".into())
        .session_start(json!({"cwd": "/proj"}));
    for i in 0..total {
        let path = if i < inside {
            format!("/proj/src/f{i}.rs")
        } else {
            format!("/etc/f{i}")
        };
        session = session
            .tool_call("Read", json!({"file_path": path}))
            .result(json!("x"));
    }
    session.write(&env);
    let json = env.run(&["eval", "scoped", "--format", "json"]).json();
    assert_eq!(json["verdict"], "fail", "{json}");
    let score = json["results"][0]["score"].as_f64().unwrap();
    assert!(score < 0.8, "{json}");
    let run = env.run(&["eval", "scoped"]);
    assert_eq!(run.code, 1, "{run:?}");
    let row = run
        .stdout
        .lines()
        .find(|l| l.contains("files_scoped"))
        .unwrap();
    let shown: Vec<&str> = row.split_whitespace().collect();
    let (shown_score, shown_threshold) = (shown[1], shown[2]);
    assert_eq!(shown_threshold, "0.80", "{row}");
    assert!(shown_score.parse::<f64>().unwrap() < 0.8, "{row}");
    assert!(shown.contains(&"fail"), "{row}");
    let weighted = run
        .stdout
        .lines()
        .find(|l| l.starts_with("Weighted score"))
        .unwrap();
    let figure = weighted["Weighted score ".len()..]
        .split(':')
        .next()
        .unwrap();
    assert!(figure.parse::<f64>().unwrap() < 0.8, "{weighted}");
    assert!(weighted.contains("FAIL"), "{weighted}");
}

/// An allowed path was a prefix of the text: `/tmp/tmpw6sk2` allowed `/tmp/tmpw6sk2trg/x`, and
/// `sr` allowed `src/…`. It allows itself and what lies under it, by whole names.
#[test]
fn an_allowed_path_allows_whole_names_only() {
    let env = with_config(
        "scorers:\n  - type: files_scoped\n    allowed_paths: [\"/tmp/tmpw6sk2\", \"sr\"]\n",
    );
    let session = |id: &str, paths: [&str; 2]| {
        let mut s = SessionBuilder::new(id)
            .meta(|m| m.agent_name = "claude-code".into())
            .session_start(json!({"cwd": "/proj"}));
        for path in paths {
            s = s
                .tool_call("Write", json!({"file_path": path}))
                .result(json!("ok"));
        }
        s.write(&env);
        env.run(&["eval", "ci", "--session", id])
    };
    let beside = session("beside", ["/tmp/tmpw6sk2trg/x", "/proj/src/a.rs"]);
    assert_eq!(beside.code, 1, "{beside:?}");
    assert!(
        beside.stdout.contains("2 of 2 file operations outside"),
        "{}",
        beside.stdout
    );
    let under = session("under", ["/tmp/tmpw6sk2/x", "/proj/sr/a.rs"]);
    assert_eq!(under.code, 0, "{under:?}");
    assert!(
        under.stdout.contains("all 2 file operations within"),
        "{}",
        under.stdout
    );
}
