//! `token-budget`: the context-window peak of a real session, computed independently here.

use std::collections::HashMap;

use serde_json::Value;

use crate::common::{TestEnv, separated, shared};

const FILE: &str = "corpus/claude-code/marot__spotter/258c7280-ae70-4798-800f-63464d01a85d.jsonl";

/// The largest context any response of the transcript had (input + cache write + cache read of
/// each response's last usage).
fn peak_from_raw() -> u64 {
    let text = std::fs::read_to_string(shared().join(FILE)).unwrap();
    let mut usage: HashMap<String, Value> = HashMap::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if v["type"] == "assistant" && v["message"]["usage"].is_object() {
            let key = format!("{}:{}", v["message"]["id"], v["requestId"]);
            usage.insert(key, v["message"]["usage"].clone());
        }
    }
    let n = |u: &Value, k: &str| u[k].as_u64().unwrap_or(0);
    usage
        .values()
        .map(|u| {
            n(u, "input_tokens")
                + n(u, "cache_creation_input_tokens")
                + n(u, "cache_read_input_tokens")
        })
        .max()
        .unwrap()
}

#[test]
fn the_peak_is_found_and_the_threshold_gates() {
    let env = TestEnv::new();
    env.run(&["import", shared().join(FILE).to_str().unwrap()])
        .success();
    let peak = peak_from_raw();
    let run = env.run(&["token-budget", "258c", "--format", "json"]);
    let r = run.json();
    assert_eq!(r["peak"]["tokens"], peak);
    assert_eq!(r["context_window"], 200_000);
    assert_eq!(r["window_source"], "model");
    let pct = peak as f64 / 2000.0;
    assert!((r["peak"]["pct"].as_f64().unwrap() - pct).abs() < 1e-9);
    // Over 80%: the gate fails; with a higher threshold it passes.
    assert!(pct > 80.0 && pct < 95.0, "{pct}");
    assert_eq!(run.code, 1);
    assert_eq!(r["over"], true);
    let calm = env.run(&["token-budget", "258c", "--warn-at", "95"]);
    assert_eq!(calm.code, 0, "{calm:?}");
    assert!(calm.stdout.contains("Below the 95% threshold"));
    // The text gives the window and the peak with their thousands separated.
    assert!(
        calm.stdout
            .contains("context window 200,000 tokens (claude-"),
        "{}",
        calm.stdout
    );
    let peak_line = format!("Peak: {} tokens (", separated(peak));
    assert!(calm.stdout.contains(&peak_line), "{}", calm.stdout);
    let limited = env
        .run(&[
            "token-budget",
            "258c",
            "--limit",
            "1000000",
            "--format",
            "json",
        ])
        .json();
    assert_eq!(limited["window_source"], "limit");
    assert_eq!(limited["over"], false);
    // `--limit` is the Python tool's spelling of --context-window.
    let window = env
        .run(&[
            "token-budget",
            "258c",
            "--context-window",
            "1000000",
            "--format",
            "json",
        ])
        .json();
    assert_eq!(window, limited);
    let warned = env.run(&["token-budget", "258c"]);
    assert!(
        warned.stdout.contains("warning: context use reached"),
        "{}",
        warned.stdout
    );
}

#[test]
fn a_session_without_usage_says_so() {
    let env = TestEnv::new();
    crate::explain::reference_session(&env);
    let run = env.run(&["token-budget"]);
    run.success();
    assert!(
        run.stdout.contains("No model usage was recorded"),
        "{}",
        run.stdout
    );
    let bad = env.run(&["token-budget", "--model", "mystery-9"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .starts_with("error: no context window known for model `mystery-9`")
    );
}

/// A hook session whose transcript is on disk was measured from its own events alone (hooks
/// record no usage): `token-budget --warn-at 50` said "No model usage was recorded" and passed
/// where watch read the transcript and found 51%. It reads the transcript's responses as watch
/// does, and measures what an import of the same transcript measures.
#[test]
fn a_hook_session_is_measured_from_its_transcript_as_its_import_is() {
    let env = TestEnv::new();
    let sid = "ae4a77f8-aedd-4bc1-888f-c94edc91af04";
    let transcript = env.path().join(format!("{sid}.jsonl"));
    std::fs::copy(
        shared().join(format!("corpus/claude-code/marot__spotter/{sid}.jsonl")),
        &transcript,
    )
    .unwrap();
    env.hook_session_with_transcript(sid, &transcript);
    let args = ["token-budget", sid, "--warn-at", "50", "--format", "json"];
    let hooked = env.run(&args);
    assert_eq!(hooked.code, 1, "{hooked:?}");
    env.run(&[
        "import",
        "--trace-dir",
        "imported",
        transcript.to_str().unwrap(),
    ])
    .success();
    let imported = env.run(&[&args[..], &["--trace-dir", "imported"]].concat());
    assert_eq!(imported.code, 1, "{imported:?}");
    let (hooked, imported) = (hooked.json(), imported.json());
    for key in ["model", "context_window", "responses"] {
        assert_eq!(hooked[key], imported[key], "{key}: {hooked}\n{imported}");
    }
    for key in ["tokens", "pct"] {
        assert_eq!(
            hooked["peak"][key], imported["peak"][key],
            "{hooked}\n{imported}"
        );
        assert_eq!(
            hooked["first_over"][key], imported["first_over"][key],
            "{hooked}\n{imported}"
        );
    }
}

/// The hint for an unknown model named `--limit`, an alias `--help` hides; it names the flag
/// `--help` shows, and giving that flag as the hint says is accepted.
#[test]
fn an_unknown_models_hint_names_a_flag_help_shows() {
    let env = TestEnv::new();
    crate::explain::reference_session(&env);
    let bad = env.run(&["token-budget", "--model", "mystery-9"]);
    assert_eq!(bad.code, 2);
    let flag = bad
        .stderr
        .split("give one with ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no flag named in the hint: {}", bad.stderr));
    let help = env.run(&["token-budget", "--help"]);
    help.success();
    assert!(
        help.stdout.contains(&format!("{flag} <")),
        "the hint names `{flag}`, which --help does not show:\n{}",
        help.stdout
    );
    let followed = env.run(&["token-budget", "--model", "mystery-9", flag, "128000"]);
    followed.success();
}

/// Copilot CLI 1.0.34 wrote only the session's usage per model at shutdown: 186,809 input
/// tokens over six requests. That total is no response's context, so neither `token-budget`
/// nor `lint` may call it a 93% full window (they did, and `token-budget` exited 1).
#[test]
fn a_copilot_sessions_total_usage_is_no_responses_context() {
    let env = TestEnv::new();
    let log = shared().join("corpus/copilot/Mai0313__VibeCodingTracker/copilot-session.jsonl");
    env.run(&["import", log.to_str().unwrap()]).success();
    let run = env.run(&["token-budget", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let r = run.json();
    assert_eq!(
        (r["over"].clone(), r["responses"].clone()),
        (false.into(), 0.into())
    );
    assert_eq!(r["only_session_totals"], true);
    assert_eq!(r["model"], "claude-sonnet-4.6");
    let text = env.run(&["token-budget"]);
    assert!(
        text.stdout
            .contains("Only the session's total usage was recorded"),
        "{}",
        text.stdout
    );
    let lint = env.run(&["lint"]);
    assert!(
        !lint.stdout.contains("context-saturation"),
        "{}",
        lint.stdout
    );
}

/// Claude Code writes `<synthetic>` entries (no API call, no usage) that may come first: the
/// window was taken from `<synthetic>`, which has none, and the 200,000 tokens assumed. It is
/// the first model that answered's.
#[test]
fn the_window_is_the_first_model_that_answered_not_claude_codes_synthetic_entries() {
    use agent_strace::model::Tokens;

    use crate::common::SessionBuilder;

    let env = TestEnv::new();
    let used = Tokens {
        input: 150_000,
        output: 2_000,
        ..Tokens::default()
    };
    SessionBuilder::new("tb-synthetic")
        .prompt("go")
        .llm_response("<synthetic>", Tokens::default())
        .llm_response("gpt-5", used)
        .ended(30.0)
        .write(&env);
    let r = env
        .run(&["token-budget", "tb-synthetic", "--format", "json"])
        .success()
        .json();
    assert_eq!(r["model"], "gpt-5", "{r}");
    assert_eq!(r["window_source"], "model", "{r}");
    assert_eq!(r["context_window"], 272_000, "{r}");
}

/// A window of one token was "context window 1 tokens"; a peak of millions of percent ran its
/// digits together (`16483100%`), and a threshold of `1e308` was said in 309 digits.
#[test]
fn a_tiny_window_and_a_huge_threshold_read_as_words() {
    let env = TestEnv::new();
    env.run(&["import", shared().join(FILE).to_str().unwrap()])
        .success();
    let peak = peak_from_raw();
    let run = env.run(&[
        "token-budget",
        "258c",
        "--context-window",
        "1",
        "--warn-at",
        "1e308",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("context window 1 token (given)")
            && run
                .stdout
                .contains(&format!("tokens ({}%)", separated(peak * 100)))
            && run
                .stdout
                .contains("Below the 1e308% threshold throughout."),
        "{}",
        run.stdout
    );
    // A threshold is said as given: `99.6` read "Below the 100% threshold".
    let run = env.run(&["token-budget", "258c", "--warn-at", "99.6"]);
    assert!(
        run.stdout.contains("Below the 99.6% threshold throughout."),
        "{}",
        run.stdout
    );
}

/// A response that read 300,010 tokens was "150%" of Sonnet 4.5's 200,000-token window, a
/// warning and exit 1, while `cost` priced it at long-context rates: no response reads more
/// than its window holds, so the session ran in the long window and is measured against it.
/// A window the user gives stays theirs.
#[test]
fn a_context_past_the_standard_window_is_measured_against_the_long_one() {
    let env = TestEnv::new();
    let model = "claude-sonnet-4-5-20250929";
    let context = 300_010;
    crate::common::SessionBuilder::new("1a000000-0000-4000-8000-000000000001")
        .prompt("read everything")
        .at(1.0)
        .llm_response(
            model,
            agent_strace::model::Tokens {
                input: 10,
                output: 10,
                cache_read: context - 10,
                ..Default::default()
            },
        )
        .write(&env);
    let standard = agent_strace::model::pricing::PriceTable::builtin()
        .find(model)
        .and_then(|p| p.context_window)
        .unwrap();
    assert!(
        context > standard,
        "the test needs a context past {standard}"
    );
    let run = env.run(&["token-budget", "--format", "json"]);
    let r = run.json();
    assert_eq!(run.code, 0, "{r}");
    assert_eq!(r["window_source"], "long", "{r}");
    assert_eq!(r["standard_window"], standard, "{r}");
    let window = r["context_window"].as_u64().unwrap();
    assert!(window >= context, "{r}");
    assert!(r["peak"]["pct"].as_f64().unwrap() <= 100.0, "{r}");
    let text = env.run(&["token-budget"]).success().stdout.clone();
    assert!(
        text.contains(&format!(
            "context window {} tokens ({model}'s long window: the context went past its standard {})",
            separated(window),
            separated(standard)
        )),
        "{text}"
    );
    // lint measures it against the same window.
    let lint = env.run(&["lint"]).stdout.clone();
    assert!(!lint.contains("context-saturation"), "{lint}");

    let given = env.run(&[
        "token-budget",
        "--context-window",
        &standard.to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(given.code, 1);
    let given = given.json();
    assert_eq!(
        (&given["window_source"], &given["context_window"]),
        (&serde_json::json!("limit"), &serde_json::json!(standard)),
        "{given}"
    );
    assert!(given.get("standard_window").is_none(), "{given}");
}

/// `--context-window nan` said "give a whole number, 0 or more", and `--context-window 0` was
/// then refused: every value refused says what is accepted.
#[test]
fn a_refused_window_says_what_is_accepted() {
    let env = TestEnv::new();
    crate::explain::reference_session(&env);
    env.run(&["token-budget", "--context-window", "1"])
        .success();
    for bad in ["nan", "0", "-1", "1.5"] {
        let run = env.run(&["token-budget", &format!("--context-window={bad}")]);
        assert_eq!(run.code, 2, "{bad}: {run:?}");
        assert!(
            run.stderr.contains("give a whole number, 1 or more"),
            "{bad}: {}",
            run.stderr
        );
    }
}

/// A session whose only response recorded no tokens was measured against a window "assumed: no
/// model known", while `cost` named its model: the model is known, and its window is the one.
#[test]
fn a_response_without_tokens_still_names_the_model() {
    let env = TestEnv::new();
    let model = "claude-sonnet-4-5-20250929";
    crate::common::SessionBuilder::new("2b000000-0000-4000-8000-000000000002")
        .prompt("hello")
        .at(1.0)
        .llm_response(model, agent_strace::model::Tokens::default())
        .write(&env);
    let cost = env.run(&["cost", "--format", "json"]).success().json();
    assert_eq!(cost["models"][0]["model"], model, "{cost}");
    let r = env
        .run(&["token-budget", "--format", "json"])
        .success()
        .json();
    assert_eq!(
        (&r["model"], &r["window_source"]),
        (&cost["models"][0]["model"], &serde_json::json!("model")),
        "{r}"
    );
    let window = agent_strace::model::pricing::PriceTable::builtin()
        .find(model)
        .and_then(|p| p.context_window)
        .unwrap();
    assert_eq!(r["context_window"], window, "{r}");
}

/// token-budget took the largest context of all the session's models as proof of the first
/// model's long window: Haiku answering at 190,000 then Sonnet at 300,000 read as "Haiku's long
/// window: the context went past its standard 200,000", Haiku's 190,000 at 19%, while lint put
/// it at 95% of Haiku's window. A model's window is proved by its own responses.
#[test]
fn one_models_large_context_proves_nothing_of_anothers_window() {
    use agent_strace::model::Tokens;
    use agent_strace::model::pricing::{LONG_WINDOW, PriceTable};
    let (haiku, sonnet) = ("claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929");
    let standard = |model| {
        PriceTable::builtin()
            .find(model)
            .and_then(|p| p.context_window)
            .unwrap()
    };
    let (small, large) = (standard(haiku) * 95 / 100, standard(sonnet) * 3 / 2);
    assert!(
        large > standard(haiku),
        "the test needs Sonnet past Haiku's window"
    );
    let read = |input| Tokens {
        input,
        output: 10,
        ..Tokens::default()
    };
    let env = TestEnv::new();
    crate::common::SessionBuilder::new("1a000000-0000-4000-8000-000000000002")
        .prompt("read everything")
        .at(1.0)
        .llm_response(haiku, read(small))
        .at(2.0)
        .llm_response(sonnet, read(large))
        .write(&env);
    let r = env.run(&["token-budget", "--format", "json"]).json();
    assert_eq!(r["model"], haiku, "{r}");
    assert_eq!(r["window_source"], "model", "{r}");
    assert_eq!(r["context_window"], standard(haiku), "{r}");
    assert!(r.get("standard_window").is_none(), "{r}");
    let first = &r["points"][0];
    assert_eq!(first["tokens"], small, "{r}");
    let pct = small as f64 * 100.0 / standard(haiku) as f64;
    assert!((first["pct"].as_f64().unwrap() - pct).abs() < 1e-9, "{r}");
    let text = env.run(&["token-budget"]).stdout.clone();
    assert!(!text.contains("long window"), "{text}");
    // Sonnet's own response proves its long window.
    let r = env
        .run(&["token-budget", "--model", sonnet, "--format", "json"])
        .json();
    assert_eq!(r["window_source"], "long", "{r}");
    assert_eq!(r["context_window"], LONG_WINDOW, "{r}");
    assert_eq!(r["standard_window"], standard(sonnet), "{r}");
}

/// A session whose one response of Sonnet 4.5 (200,000 tokens) read `tokens`.
fn one_response(env: &TestEnv, id: &str, tokens: u64) {
    crate::common::SessionBuilder::new(id)
        .meta(|m| m.agent_name = "claude-code".into())
        .llm_response(
            "claude-sonnet-4-5-20250929",
            agent_strace::model::Tokens {
                input: tokens,
                ..agent_strace::model::Tokens::default()
            },
        )
        .write(env);
}

/// The percentage in the text's `Peak:` line.
fn peak_pct(text: &str) -> f64 {
    let line = text.lines().find(|l| l.starts_with("Peak:")).unwrap();
    let (_, rest) = line.split_once('(').unwrap();
    rest.split_once("%)").unwrap().0.parse().unwrap()
}

/// Use that reaches the threshold exactly is past it ("Warn when context use reaches this
/// percentage"): 114,000 of 200,000 tokens was 56.99999999999999% and read "Peak: 114,000 tokens
/// (57%)" then "Below the 57% threshold throughout.", exit 0. And a peak below the threshold is
/// never shown as the threshold: 159,920 tokens read "(80%)" above "Below the 80% threshold".
#[test]
fn use_exactly_at_the_threshold_warns_and_the_peak_below_it_never_reads_as_it() {
    let env = TestEnv::new();
    for (tokens, warn_at) in [(114_000, "57"), (58_000, "29"), (116_000, "58")] {
        let id = format!("at{warn_at}");
        one_response(&env, &id, tokens);
        let run = env.run(&[
            "token-budget",
            &id,
            "--warn-at",
            warn_at,
            "--format",
            "json",
        ]);
        assert_eq!(run.code, 1, "{tokens} at {warn_at}%: {run:?}");
        let r = run.json();
        assert_eq!(r["over"], true, "{r}");
        let pct = r["peak"]["pct"].as_f64().unwrap();
        assert!(pct >= warn_at.parse::<f64>().unwrap(), "{r}");
        let text = env.run(&["token-budget", &id, "--warn-at", warn_at]);
        assert!(
            text.stdout
                .contains(&format!("past the {warn_at}% threshold")),
            "{}",
            text.stdout
        );
    }
    one_response(&env, "below80", 159_920);
    let run = env.run(&["token-budget", "below80"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("Below the 80% threshold throughout."),
        "{}",
        run.stdout
    );
    assert!(peak_pct(&run.stdout) < 80.0, "{}", run.stdout);
}

/// Codex records its model's context window beside its usage (`model_context_window`, 258,400
/// for gpt-5.3-codex), which the price table gives as 272,000: the window and the percentages
/// were the table's. They are the agent's, as it recorded the window.
#[test]
fn a_window_the_agent_recorded_is_the_one_measured_against() {
    let env = TestEnv::new();
    let log = shared().join(
        "corpus/codex/madshn__localpush/rollout-2026-02-23T12-41-04-019c8a4d-8f45-7010-8b5d-7fad920aa6f9.jsonl",
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let recorded = text
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|v| {
            let p = &v["payload"];
            p["model_context_window"]
                .as_u64()
                .or_else(|| p["info"]["model_context_window"].as_u64())
        })
        .unwrap();
    env.run(&["import", log.to_str().unwrap()]).success();
    let r = env
        .run(&["token-budget", "019c8a4d", "--format", "json"])
        .json();
    assert_eq!(r["context_window"], recorded);
    assert_eq!(r["window_source"], "recorded");
    let peak = r["peak"]["tokens"].as_u64().unwrap();
    let pct = peak as f64 * 100.0 / recorded as f64;
    assert!((r["peak"]["pct"].as_f64().unwrap() - pct).abs() < 1e-9);
    let text = env.run(&["token-budget", "019c8a4d"]).stdout;
    assert!(
        text.contains(&format!("context window {} tokens", separated(recorded))),
        "{text}"
    );
    // A window given is still the user's.
    let given = env
        .run(&[
            "token-budget",
            "019c8a4d",
            "--context-window",
            "500000",
            "--format",
            "json",
        ])
        .json();
    assert_eq!(given["context_window"], 500_000);
}

/// lint's context-saturation and watch's context_pct measured a Codex session against the price
/// table's window (272,000 for gpt-5.3-codex) where its rollout records the model's own
/// (258,400), as token-budget did before it: a context past a threshold of the recorded window
/// was under it. All three measure against the window the agent recorded.
#[test]
fn lint_and_watch_measure_against_the_window_the_agent_recorded() {
    use agent_strace::model::pricing::PriceTable;
    let env = TestEnv::new();
    let log = shared().join(
        "corpus/codex/madshn__localpush/rollout-2026-02-23T12-41-04-019c8a4d-8f45-7010-8b5d-7fad920aa6f9.jsonl",
    );
    env.run(&["import", log.to_str().unwrap()]).success();
    let budget = env
        .run(&["token-budget", "019c8a4d", "--format", "json"])
        .json();
    let recorded = budget["context_window"].as_u64().unwrap();
    let peak = budget["peak"]["tokens"].as_u64().unwrap() as f64;
    let table = PriceTable::builtin()
        .find(budget["model"].as_str().unwrap())
        .and_then(|p| p.context_window)
        .unwrap();
    assert!(
        recorded < table,
        "the test needs a window below the table's"
    );
    // A share the peak reaches of the recorded window, and not of the table's.
    let share = f64::midpoint(peak / recorded as f64, peak / table as f64);
    std::fs::write(
        env.path().join(".agent-strace-lint.json"),
        format!("{{\"context-saturation\": {{\"threshold\": {share:.4}}}}}"),
    )
    .unwrap();
    let lint = env.run(&["lint", "019c8a4d", "--format", "json"]).json();
    let found: Vec<&Value> = lint["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("{lint}"))
        .iter()
        .filter(|f| f["rule"] == "context-saturation")
        .collect();
    assert_eq!(found.len(), 1, "{lint}");
    let window = format!("{}-token window", separated(recorded));
    assert!(found[0].to_string().contains(&window), "{}", found[0]);
    let pct = format!("{:.2}", share * 100.0);
    let watch = env.run(&[
        "watch",
        "019c8a4d",
        "--max-context-pct",
        &pct,
        "--on-violation",
        "alert",
    ]);
    assert!(
        watch.stderr.contains("broke: context_pct is"),
        "{}",
        watch.stderr
    );
}

/// A Codex 0.39 rollout names its model (aide-gpt-5), whose window neither the price table nor
/// the rollout gives: token-budget measured it against 200,000 tokens "assumed: no model
/// known" and passed (exit 0), where `--model aide-gpt-5` was refused. A window is never
/// guessed for a measure a gate reads: the session's own model is refused as the named one is,
/// and so is usage of no model named.
#[test]
fn a_model_whose_window_is_not_known_is_refused_not_guessed() {
    let env = TestEnv::new();
    let rollout = shared().join("corpus/codex/Mai0313__VibeCodingTracker/codex-v0.39.0.jsonl");
    env.run(&["import", rollout.to_str().unwrap()]).success();
    for args in [&[][..], &["--model", "aide-gpt-5"][..]] {
        let run = env.run(&[&["token-budget"][..], args].concat());
        assert_eq!(run.code, 2, "{args:?} {run:?}");
        assert!(
            run.stderr.starts_with(
                "error: no context window known for model `aide-gpt-5`; give one with --context-window"
            ),
            "{args:?} {run:?}"
        );
        assert!(!run.stdout.contains("no model known"), "{run:?}");
    }
    let given = env
        .run(&[
            "token-budget",
            "--context-window",
            "400000",
            "--format",
            "json",
        ])
        .json();
    assert_eq!(
        (
            &given["model"],
            &given["window_source"],
            &given["context_window"]
        ),
        (
            &serde_json::json!("aide-gpt-5"),
            &serde_json::json!("limit"),
            &serde_json::json!(400_000)
        ),
        "{given}"
    );

    let nameless = TestEnv::new();
    crate::common::SessionBuilder::new("tb-nameless")
        .prompt("go")
        .event(
            agent_strace::model::EventType::LlmResponse,
            serde_json::json!({"usage": {"input_tokens": 190_000, "output_tokens": 10}}),
        )
        .write(&nameless);
    let run = nameless.run(&["token-budget", "tb-nameless"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("no model named in this session")
            && run.stderr.contains("--context-window"),
        "{run:?}"
    );
    let named = nameless
        .run(&[
            "token-budget",
            "tb-nameless",
            "--model",
            "gpt-5",
            "--format",
            "json",
        ])
        .json();
    assert_eq!(named["window_source"], "model", "{named}");
}
