//! What `watch` leaves for others and finds through links: the cost ceiling it held a session
//! to is what `lint`'s budget-proximity measures against, and a subagent's session (which
//! records no process of its own) is acted on through its parent's agent process.

use std::process::Stdio;

use agent_strace::model::Tokens;
use serde_json::json;

use crate::common::{SessionBuilder, TestEnv, bin};
use crate::watch::{Proc, SESSION, in_env, start_agent, stop_once_paused};

fn budget_findings(env: &TestEnv, id: &str) -> Vec<serde_json::Value> {
    let report = env.run(&["lint", id, "--format", "json"]).json();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "budget-proximity")
        .cloned()
        .collect()
}

/// A session priced from its responses (a model and its usage each), 5 s to 10 s in, with a
/// budget ceiling at its start when one is given.
fn priced_session(
    env: &TestEnv,
    id: &str,
    budget: Option<f64>,
    responses: &[(&str, Tokens)],
) -> String {
    let start = match budget {
        Some(dollars) => json!({"source": "startup", "budget_dollars": dollars}),
        None => json!({"source": "startup"}),
    };
    let mut session = SessionBuilder::new(id)
        .session_start(start)
        .prompt("rewrite the deploy config")
        .at(5.0);
    for (model, tokens) in responses {
        session = session.llm_response(model, *tokens);
    }
    session
        .at(10.0)
        .session_end(json!({"reason": "exit"}))
        .write(env)
}

/// Usage of `tokens` output tokens and nothing else.
fn output(tokens: u64) -> Tokens {
    Tokens {
        output: tokens,
        ..Tokens::default()
    }
}

#[test]
fn lint_measures_a_session_against_the_budget_its_watch_enforced() {
    let env = TestEnv::new();
    // $1.50: 100k output tokens of Sonnet 4.5.
    let id = priced_session(
        &env,
        "22222222-aaaa-4bbb-8ccc-000000000002",
        None,
        &[("claude-sonnet-4-5", output(100_000))],
    );
    assert!(budget_findings(&env, &id).is_empty(), "no ceiling yet");
    // A dry run holds the session to nothing.
    let dry = env.run(&["watch", &id, "--budget", "1.60", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        budget_findings(&env, &id).is_empty(),
        "a dry run set no ceiling"
    );

    let watch = env.run(&["watch", &id, "--budget", "1.60"]);
    assert_eq!(watch.code, 0, "under its ceiling: {}", watch.stderr);
    let found = budget_findings(&env, &id);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["level"], "ERROR");
    let message = found[0]["message"].as_str().unwrap();
    assert!(message.contains("$1.60"), "{message}");
}

#[test]
fn watching_a_subagent_pauses_its_parents_agent_process() {
    let env = TestEnv::new();
    let mut agent = start_agent(&env, "start /nowhere\nsleep 30\nend");
    let sub = SessionBuilder::new(&format!("agent-a1b2c3-{SESSION}"))
        .started(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs_f64(),
        )
        .meta(|m| {
            m.parent_session_id = Some(SESSION.to_owned());
            m.depth = 1;
        })
        .session_start(
            json!({"agent_id": "a1b2c3", "agent_type": "Explore", "parent_session_id": SESSION}),
        )
        .write(&env);
    let watch = Proc(
        in_env(
            &env,
            &bin(),
            &["watch", &sub, "--timeout", "1s", "--on-violation", "pause"],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap(),
    );
    let run = stop_once_paused(&agent, watch);
    assert!(
        run.stderr.contains(&format!("pid {}", agent.pid())),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("PAUSE"), "{}", run.stderr);
    assert_ne!(agent.state(), Some('T'), "continued when the watch ended");
    agent.0.kill().unwrap();
}

/// `watch`'s cost rule and `lint`'s budget-proximity judged a cost that counts a model with
/// no known price at $0, and said nothing of it: the alert and the finding now mark the cost
/// and name the model, as every other cost does.
#[test]
fn a_cost_rule_and_budget_proximity_name_the_model_they_count_at_zero() {
    let env = TestEnv::new();
    // A model nobody has a price for, then $1.50 of Sonnet 4.5: a rule is judged after each
    // event, so the unpriced model comes first to be counted at $0 when the budget breaks.
    let id = priced_session(
        &env,
        "33333333-aaaa-4bbb-8ccc-000000000003",
        Some(1.0),
        &[
            (
                "mystery-model-9",
                Tokens {
                    input: 5_000,
                    ..output(50_000)
                },
            ),
            ("claude-sonnet-4-5", output(100_000)),
        ],
    );
    let clause = "mystery-model-9 counted at $0: no known price";

    let watch = env.run(&["watch", &id, "--budget", "1.00", "--dry-run"]);
    assert!(
        watch.stderr.contains("cost_usd is $1.50? (>= $1.00; ") && watch.stderr.contains(clause),
        "{}",
        watch.stderr
    );

    let found = budget_findings(&env, &id);
    assert_eq!(found.len(), 1, "{found:?}");
    let message = found[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("the session cost $1.50?, 150% of its $1.00 budget ceiling (")
            && message.contains(clause),
        "{message}"
    );

    // A priced session's alert and finding say nothing of it.
    let priced = priced_session(
        &env,
        "44444444-aaaa-4bbb-8ccc-000000000004",
        Some(1.0),
        &[("claude-sonnet-4-5", output(100_000))],
    );
    let watch = env.run(&["watch", &priced, "--budget", "1.00", "--dry-run"]);
    assert!(
        watch.stderr.contains("cost_usd is $1.50 (>= $1.00)") && !watch.stderr.contains('?'),
        "{}",
        watch.stderr
    );
    let found = budget_findings(&env, &priced);
    assert!(
        !found[0]["message"].as_str().unwrap().contains('?'),
        "{found:?}"
    );
}

/// A cost rule that stayed under its ceiling only because a model had no price said nothing:
/// `watch` now says once that the rule cannot be judged in full, and `lint`'s
/// budget-proximity notes it. The note is about the check, not the session: it was an INFO
/// finding (counted in `infos`, a finding line in the text); it is a note, as
/// context-saturation's of a window not known is (`notes` in `--format json`, `note:` in the
/// text), and the exit status stays that of the findings.
#[test]
fn a_cost_rule_under_its_ceiling_says_when_a_model_has_no_price() {
    let env = TestEnv::new();
    // $0.15 of Sonnet 4.5, and two responses of a model nobody has a price for.
    let mystery = Tokens {
        input: 5_000,
        output: 50_000,
        ..Tokens::default()
    };
    let id = priced_session(
        &env,
        "55555555-aaaa-4bbb-8ccc-000000000005",
        Some(1.0),
        &[
            ("claude-sonnet-4-5", output(10_000)),
            ("mystery-model-9", mystery),
            ("mystery-model-9", mystery),
        ],
    );

    let watch = env.run(&["watch", &id, "--budget", "1.00", "--dry-run"]);
    let line = "watch: cost rule `budget $1.00` cannot be judged in full: model mystery-model-9 has no price";
    assert_eq!(watch.stderr.matches(line).count(), 1, "{}", watch.stderr);
    assert!(!watch.stderr.contains("ALERT"), "{}", watch.stderr);

    let report = env.run(&["lint", &id, "--format", "json"]).json();
    assert!(budget_findings(&env, &id).is_empty(), "{report}");
    assert_eq!(report["infos"], 0, "{report}");
    let said = "budget-proximity cannot be judged in full: mystery-model-9 has no known price, so the session's $0.1500? (15% of its $1.00 budget ceiling)";
    let budget_notes = |report: &serde_json::Value| -> Vec<String> {
        report["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_owned())
            .filter(|n| n.starts_with("budget-proximity"))
            .collect()
    };
    let notes = budget_notes(&report);
    assert_eq!(notes.len(), 1, "{report}");
    assert!(notes[0].starts_with(said), "{report}");
    let text = env.run(&["lint", &id]);
    assert_eq!(text.code, 0, "{text:?}");
    let lines: Vec<&str> = text
        .stdout
        .lines()
        .filter(|l| l.contains("budget-proximity"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", text.stdout);
    assert!(
        lines[0].starts_with(&format!("note: {said}")),
        "{}",
        text.stdout
    );

    // Without an unpriced model, or without a cost rule, nothing is said.
    let priced = priced_session(
        &env,
        "66666666-aaaa-4bbb-8ccc-000000000006",
        Some(1.0),
        &[("claude-sonnet-4-5", output(10_000))],
    );
    let watch = env.run(&["watch", &priced, "--budget", "1.00", "--dry-run"]);
    assert!(!watch.stderr.contains("judged in full"), "{}", watch.stderr);
    let report = env.run(&["lint", &priced, "--format", "json"]).json();
    assert!(budget_findings(&env, &priced).is_empty(), "{report}");
    assert!(budget_notes(&report).is_empty(), "{report}");
    let watch = env.run(&["watch", &id, "--timeout", "1h", "--dry-run"]);
    assert!(!watch.stderr.contains("judged in full"), "{}", watch.stderr);
}

/// `watch --budget 0.0001` said "budget $0.00", and a session whose hooks record no usage (and
/// name no transcript) was held to a ceiling its cost rules could never see reached, though
/// `list` shows an estimated cost above it.
#[test]
fn a_small_budget_shows_its_digits_and_a_session_with_no_usage_is_said_to_cost_rules() {
    let env = TestEnv::new();
    // $0.0015: 100 output tokens of Sonnet 4.5.
    let priced = priced_session(
        &env,
        "55555555-aaaa-4bbb-8ccc-000000000005",
        None,
        &[("claude-sonnet-4-5", output(100))],
    );
    let watch = env.run(&["watch", &priced, "--budget", "0.0001", "--dry-run"]);
    assert!(
        watch.stderr.contains("rules: budget $0.0001 → alert")
            && watch.stderr.contains("cost_usd is $0.0015 (>= $0.0001)"),
        "{}",
        watch.stderr
    );
    assert!(!watch.stderr.contains("no token usage"), "{}", watch.stderr);
    let watch = env.run(&["watch", &priced, "--budget", "0.00005", "--dry-run"]);
    assert!(watch.stderr.contains("budget $0.00005"), "{}", watch.stderr);

    // Hooks alone: no response, no transcript. `list` estimates a cost; the rule sees $0.
    let hooks_only = SessionBuilder::new("66666666-aaaa-4bbb-8ccc-000000000006")
        .session_start(json!({"source": "startup"}))
        .prompt(&"explain the build in detail ".repeat(40))
        .at(1.0)
        .tool_call("Bash", json!({"command": "cargo build"}))
        .at(2.0)
        .result(json!("x".repeat(4000)))
        .at(3.0)
        .session_end(json!({"reason": "exit"}))
        .write(&env);
    let listed = env.run(&["list", "--format", "json"]).json();
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == hooks_only.as_str())
        .unwrap()
        .clone();
    assert!(
        row["cost_estimated"] == true && row["cost_usd"].as_f64().unwrap() > 0.0001,
        "{row}"
    );
    let watch = env.run(&["watch", &hooks_only, "--budget", "0.0001", "--dry-run"]);
    assert_eq!(watch.code, 0, "{watch:?}");
    assert!(
        watch.stderr.contains(
            "watch: the session records no token usage so far and names no transcript to read it from: cost rules see $0"
        ),
        "{}",
        watch.stderr
    );
    // Without a cost rule there is nothing to say.
    let watch = env.run(&["watch", &hooks_only, "--timeout", "1h", "--dry-run"]);
    assert!(!watch.stderr.contains("no token usage"), "{}", watch.stderr);
}

/// A rule's threshold of `1e308` was echoed as the 309 digits Rust writes a float out in, on
/// the rules line and in each alert; it reads `1e308`, and a rule that fires says both sides
/// short (`tool_calls is 0 (<= 1e308)`).
#[test]
fn a_threshold_past_fifteen_digits_is_said_in_exponent_form() {
    let env = TestEnv::new();
    let priced = priced_session(
        &env,
        "77777777-aaaa-4bbb-8ccc-000000000007",
        None,
        &[("claude-sonnet-4-5", output(100))],
    );
    std::fs::write(
        env.path().join("rules.json"),
        r#"[{"condition": "cost_usd", "threshold": 1e308},
            {"condition": "duration_minutes", "threshold": 1e300},
            {"condition": "tool_calls <= 1e308"}]"#,
    )
    .unwrap();
    let watch = env.run(&["watch", &priced, "--rules", "rules.json", "--dry-run"]);
    assert_eq!(watch.code, 1, "{watch:?}");
    assert!(
        watch.stderr.contains(
            "rules: cost_usd >= 1e308 → alert; duration_minutes >= 1e300 → alert; \
             tool_calls <= 1e308 → alert"
        ) && watch.stderr.contains("tool_calls is 0 (<= 1e308)"),
        "{}",
        watch.stderr
    );
    let watch = env.run(&["watch", &priced, "--budget", "1e300", "--dry-run"]);
    assert!(
        watch.stderr.contains("rules: budget $1e300 → alert")
            && watch.stderr.lines().all(|l| l.len() < 400),
        "{}",
        watch.stderr
    );
    // A flag's bad number is said as written; a wait past what one can be, in words (it was
    // "cannot convert float seconds to Duration: value is either too big or NaN").
    for (flag, said) in [
        (
            "--max-context-pct=1e308",
            "error: --max-context-pct must be greater than 0 and at most 100, not 1e308\n",
        ),
        // 0 is refused: it lies at the edge the message said was in.
        (
            "--max-context-pct=0",
            "error: --max-context-pct must be greater than 0 and at most 100, not 0\n",
        ),
        (
            "--budget=-1e308",
            "error: --budget must be dollars, $0.000001 or more, not -1e308\n",
        ),
        (
            "--idle=1e308",
            "error: --idle: `1e308` is longer than any wait can be\n",
        ),
    ] {
        let run = env.run(&["watch", &priced, flag, "--dry-run"]);
        assert_eq!((run.code, run.stderr.as_str()), (2, said), "{flag}");
    }
    // A timeout under a minute is said to the tenth of a second: `1.5` read `>= 2 s`.
    let watch = env.run(&["watch", &priced, "--timeout", "1.5", "--dry-run"]);
    assert!(watch.stderr.contains("(>= 1.5 s)"), "{}", watch.stderr);
}

/// `watch --budget 5e-324` was taken (0, negative, NaN and infinite budgets were refused): a
/// budget under the millionth of a dollar that `lint`'s budget-proximity setting refuses,
/// broken by any spend at all and recorded for `lint`. Each is refused as `lint` refuses it,
/// with one error line and the usage exit code; the least `lint` takes is taken.
#[test]
fn a_budget_lint_would_refuse_is_refused_by_watch() {
    let env = TestEnv::new();
    let priced = priced_session(
        &env,
        "99999999-aaaa-4bbb-8ccc-00000000000a",
        None,
        &[("claude-sonnet-4-5", output(100))],
    );
    for budget in [
        "5e-324",
        "1e-300",
        "0.0000009",
        "0",
        "-1",
        "NaN",
        "inf",
        "1e999",
    ] {
        let run = env.run(&["watch", &priced, &format!("--budget={budget}"), "--dry-run"]);
        assert_eq!(run.code, 2, "--budget {budget}: {}", run.stderr);
        assert_eq!(
            run.stderr.lines().count(),
            1,
            "--budget {budget}: {}",
            run.stderr
        );
        assert!(
            run.stderr
                .starts_with("error: --budget must be dollars, $0.000001 or more"),
            "--budget {budget}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
    // The least `lint` takes (as the budget-proximity setting) `watch` takes too.
    let run = env.run(&["watch", &priced, "--budget", "0.000001", "--dry-run"]);
    assert_ne!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("rules: budget $0.000001"),
        "{}",
        run.stderr
    );
}

/// budget-proximity said its share of a ceiling of `1e-300` dollars in 304 digits (and of
/// `0.001` as `1185392%`): the share is separated and short.
#[test]
fn a_share_of_a_tiny_ceiling_is_said_short() {
    let env = TestEnv::new();
    // $1.50 of Sonnet 4.5.
    let id = priced_session(
        &env,
        "88888888-aaaa-4bbb-8ccc-000000000008",
        Some(1e-300),
        &[("claude-sonnet-4-5", output(100_000))],
    );
    let found = budget_findings(&env, &id);
    let message = found[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("the session cost $1.50, 1.5e302% of its $1e-300 budget ceiling")
            && message.len() < 200,
        "{message}"
    );
    let id = priced_session(
        &env,
        "88888888-aaaa-4bbb-8ccc-000000000009",
        Some(0.001),
        &[("claude-sonnet-4-5", output(100_000))],
    );
    let found = budget_findings(&env, &id);
    let message = found[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("the session cost $1.50, 150,000% of its $0.0010 budget ceiling"),
        "{message}"
    );
}

/// An `llm_response` whose usage no response can have (an input of 2^63 tokens, or 1e308)
/// added nothing to the watch's cost, and the watch said nothing of it, where `cost` says "N LLM
/// responses recorded usage no response can have". The watch says so too, once.
#[test]
fn usage_no_response_can_have_is_said_once_as_cost_says_it() {
    let env = TestEnv::new();
    let mut session = SessionBuilder::new("77777777-aaaa-4bbb-8ccc-000000000008")
        .session_start(json!({"source": "startup"}))
        .prompt("go")
        .at(1.0)
        .llm_response("claude-sonnet-4-5", output(100));
    for (n, input) in [
        (2.0, json!(9_223_372_036_854_775_808_u64)),
        (3.0, json!(1e308)),
    ] {
        session = session.at(n).event(
            agent_strace::model::EventType::LlmResponse,
            json!({"model": "claude-sonnet-4-5", "usage": {"input_tokens": input, "output_tokens": 1}}),
        );
    }
    let id = session
        .at(9.0)
        .session_end(json!({"reason": "exit"}))
        .write(&env);
    let cost = env.run(&["cost", &id]);
    let said = "recorded usage no response can have";
    let cost_line = cost
        .stdout
        .lines()
        .chain(cost.stderr.lines())
        .find(|l| l.contains(said))
        .unwrap_or_else(|| panic!("cost says it: {cost:?}"));
    let counted = &cost_line[cost_line.find(|c: char| c.is_ascii_digit()).unwrap()
        ..cost_line.find(said).unwrap() + said.len()];
    let watch = env.run(&["watch", &id, "--budget", "5", "--dry-run"]);
    assert_eq!(watch.stderr.matches(said).count(), 1, "{}", watch.stderr);
    assert!(
        watch.stderr.contains(counted),
        "{counted}: {}",
        watch.stderr
    );
}
