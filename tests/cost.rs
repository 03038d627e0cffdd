//! `cost`: dollars from recorded usage at the shipped prices, by model and phase; estimates
//! when nothing was recorded.

use agent_strace::model::{EventType, Tokens};
use serde_json::{Value, json};

use crate::common::{SessionBuilder, TestEnv};
use crate::explain::{reference_session, reference_story};

const ID: &str = "abc12300-0000-4000-8000-000000000000";

fn prices() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/data/prices.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn price_of(id: &str) -> Value {
    prices()["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("{id}"))
        .clone()
}

/// Dollars for `tokens` at one model's prices, computed here from the price file: a cache
/// price it leaves null is the input price (its notes: no cache-write premium, no cached-input
/// price).
fn dollars(price: &Value, tokens: &Tokens) -> f64 {
    let p = |k: &str| price[k].as_f64();
    let n = |v: u64| v as f64;
    let input = p("input").unwrap();
    let five_minutes = tokens.cache_creation - tokens.cache_creation_1h;
    (n(tokens.input) * input
        + n(tokens.output) * p("output").unwrap()
        + n(five_minutes) * p("cache_write_5m").unwrap_or(input)
        + n(tokens.cache_creation_1h) * p("cache_write_1h").unwrap_or(input)
        + n(tokens.cache_read) * p("cache_read").unwrap_or(input))
        / 1e6
}

/// A response with cache writes of both durations.
fn usage_a() -> Tokens {
    Tokens {
        input: 1200,
        output: 800,
        cache_creation: 3000,
        cache_creation_1h: 1000,
        cache_read: 20000,
        reasoning: 0,
    }
}

/// A response without cache writes.
fn usage_b() -> Tokens {
    Tokens {
        input: 50,
        output: 4000,
        cache_read: 90000,
        ..Tokens::default()
    }
}

/// The reference story with recorded usage: Sonnet in the first phase and the failed one,
/// Haiku in the last.
fn session_with_usage(env: &TestEnv) {
    reference_story()
        .at(0.5)
        .llm_response("claude-sonnet-4-5-20250929", usage_a())
        .at(10.0)
        .llm_response("claude-sonnet-4-5-20250929", usage_b())
        .at(100.0)
        .llm_response("claude-haiku-4-5-20251001", usage_a())
        .write(env);
}

#[test]
fn recorded_usage_is_priced_exactly_by_model_and_phase() {
    let env = TestEnv::new();
    session_with_usage(&env);
    let r = env.run(&["cost", "--format", "json"]).success().json();
    let sonnet = price_of("claude-sonnet-4-5");
    let haiku = price_of("claude-haiku-4-5");
    let phase1 = dollars(&sonnet, &usage_a());
    let phase2 = dollars(&sonnet, &usage_b());
    let phase3 = dollars(&haiku, &usage_a());
    let total = phase1 + phase2 + phase3;
    assert_eq!(r["estimated"], false);
    assert_eq!(r["model"], "claude-sonnet-4-5-20250929");
    assert!(
        (r["cost_usd"].as_f64().unwrap() - total).abs() < 1e-12,
        "{} vs {total}",
        r["cost_usd"]
    );
    // Read key by key: cost's `tokens` (analysis::cost's own token struct) has no
    // `cache_creation_1h`, so it does not decode into `model::Tokens` yet (issue 8 makes one
    // Tokens type).
    assert_eq!(r["tokens"]["input"], 1200 + 50 + 1200);
    assert_eq!(r["tokens"]["output"], 800 + 4000 + 800);
    assert_eq!(r["tokens"]["cache_creation"], 6000);
    assert_eq!(r["tokens"]["cache_read"], 130_000);
    let phases = r["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 3);
    assert!((phases[1]["cost_usd"].as_f64().unwrap() - phase2).abs() < 1e-12);
    assert_eq!(phases[1]["wasted"], true);
    assert!((r["wasted_usd"].as_f64().unwrap() - phase2).abs() < 1e-12);
    assert!((r["wasted_share"].as_f64().unwrap() - phase2 / total).abs() < 1e-9);
    let shares: f64 = phases.iter().map(|p| p["share"].as_f64().unwrap()).sum();
    assert!((shares - 1.0).abs() < 1e-9);
    assert_eq!(r["models"].as_array().unwrap().len(), 2);

    let text = env.run(&["cost"]).success().stdout.clone();
    assert!(
        text.starts_with(&format!("Session: {ID} — Cost: $")),
        "{text}"
    );
    assert!(
        text.contains("Phase 2: run tests — FAILED $") && text.contains("← wasted"),
        "{text}"
    );
    assert!(text.contains("Wasted on failed phases: $"), "{text}");
}

#[test]
fn a_chosen_model_or_custom_prices_reprice_everything() {
    let env = TestEnv::new();
    session_with_usage(&env);
    let opus = price_of(prices()["aliases"]["opus"].as_str().unwrap());
    let r = env
        .run(&["cost", "--model", "opus", "--format", "json"])
        .success()
        .json();
    let want = dollars(&opus, &usage_a()) * 2.0 + dollars(&opus, &usage_b());
    assert!((r["cost_usd"].as_f64().unwrap() - want).abs() < 1e-12);
    assert_eq!(r["models"][0]["priced_as"], opus["id"]);

    let r = env
        .run(&[
            "cost",
            "--input-price",
            "2",
            "--output-price",
            "10",
            "--format",
            "json",
        ])
        .success()
        .json();
    // Custom prices cache at Anthropic's multipliers (README): 1.25x and 2x to write, 0.1x to
    // read.
    let custom = json!({"input": 2.0, "output": 10.0, "cache_write_5m": 2.5,
        "cache_write_1h": 4.0, "cache_read": 0.2});
    let want = dollars(&custom, &usage_a()) * 2.0 + dollars(&custom, &usage_b());
    assert!((r["cost_usd"].as_f64().unwrap() - want).abs() < 1e-12);

    // A price no model has (`1e308` a million tokens) took every sum to the most a sum holds,
    // $3.4e26 for each model alike; it is refused, as a negative one is.
    for (input, output) in [
        ("1e308", "1"),
        ("1", "1000000.01"),
        ("-1", "1"),
        ("NaN", "1"),
    ] {
        let bad = env.run(&[
            "cost",
            &format!("--input-price={input}"),
            &format!("--output-price={output}"),
        ]);
        assert_eq!(bad.code, 2, "{bad:?}");
        assert_eq!(
            bad.stderr,
            "error: --input-price and --output-price are USD per million tokens, from 0 to \
             1,000,000\n"
        );
    }
    let most = env.run(&[
        "cost",
        "--input-price",
        "1000000",
        "--output-price",
        "1000000",
    ]);
    most.success();
    assert!(
        most.stdout.contains(',') && !most.stdout.contains("e26"),
        "{}",
        most.stdout
    );

    let bad = env.run(&["cost", "--model", "no-such-model"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .starts_with("error: no price for model `no-such-model`"),
        "{}",
        bad.stderr
    );
    assert_eq!(bad.stderr.lines().count(), 1);
}

#[test]
fn sessions_without_usage_are_estimated_and_say_so() {
    let env = TestEnv::new();
    reference_session(&env);
    let r = env.run(&["cost", "--format", "json"]).success().json();
    assert_eq!(r["estimated"], true);
    assert!(r["cost_usd"].as_f64().unwrap() > 0.0);
    assert!(r["tokens"]["input"].as_u64().unwrap() > 0);
    let text = env.run(&["cost"]).success().stdout.clone();
    assert!(
        text.contains("Estimated cost: $") && text.contains("estimated from payload sizes"),
        "{text}"
    );
}

#[test]
fn imported_corpus_sessions_cost_their_recorded_tokens() {
    let env = TestEnv::new();
    let file = crate::common::shared().join("corpus/claude-code/marot__spotter/tool_heavy.jsonl");
    env.run(&["import", file.to_str().unwrap()]).success();
    let r = env.run(&["cost", "--format", "json"]).success().json();
    assert_eq!(r["estimated"], false);
    assert_eq!(r["tokens"]["output"], 212);
    assert_eq!(r["tokens"]["cache_read"], 88231);
    assert!(r["cost_usd"].as_f64().unwrap() > 0.0);
}

#[test]
fn hook_sessions_take_their_usage_from_the_transcript() {
    let env = TestEnv::new();
    let transcript = env.path().join("transcript.jsonl");
    std::fs::copy(
        crate::common::shared().join("corpus/claude-code/marot__spotter/tool_heavy.jsonl"),
        &transcript,
    )
    .unwrap();
    let sid = "h00k0000-0000-4000-8000-000000000001";
    let payload = |name: &str, extra: Value| {
        let mut p =
            json!({"session_id": sid, "hook_event_name": name, "transcript_path": transcript});
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    };
    env.hook(
        "session-start",
        &payload("SessionStart", json!({"source": "startup"})),
    )
    .success();
    env.hook(
        "user-prompt",
        &payload("UserPromptSubmit", json!({"prompt": "start phoenix"})),
    )
    .success();
    env.hook(
        "session-end",
        &payload("SessionEnd", json!({"reason": "exit"})),
    )
    .success();
    let r = env.run(&["cost", "--format", "json"]).success().json();
    assert_eq!(r["estimated"], false, "{r}");
    // The transcript's exact totals (corpus PROVENANCE.md: 54 / 212 / 17696 / 88231).
    assert_eq!(r["tokens"]["input"], 54);
    assert_eq!(r["tokens"]["output"], 212);
    assert_eq!(r["tokens"]["cache_creation"], 17696);
    assert_eq!(r["tokens"]["cache_read"], 88231);
    std::fs::remove_file(&transcript).unwrap();
    let gone = env.run(&["cost", "--format", "json"]).success().json();
    assert_eq!(gone["estimated"], true);
}

/// A hook session priced from its transcript left out the subagents' transcripts beside it
/// (`<session>/subagents/agent-*.jsonl`): corpus session 4d5611e5 cost $9.53 so, where its
/// import, which counts them, cost $10.11. Hooks record no subagent's usage: the session's
/// tokens are the main transcript's and its subagents', as the import's tree counts them.
#[test]
fn a_hook_session_priced_from_its_transcript_counts_its_subagents_transcripts() {
    let env = TestEnv::new();
    let sid = "4d5611e5-241a-462a-8d15-5122611a9569";
    let corpus = crate::common::shared().join("corpus/claude-code/marot__spotter");
    let transcript = env.path().join(format!("{sid}.jsonl"));
    std::fs::copy(corpus.join(format!("{sid}.jsonl")), &transcript).unwrap();
    let subagents = env.path().join(sid).join("subagents");
    std::fs::create_dir_all(&subagents).unwrap();
    for entry in std::fs::read_dir(corpus.join(sid).join("subagents")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), subagents.join(entry.file_name())).unwrap();
    }
    env.hook_session_with_transcript(sid, &transcript);
    let hooked = env.run(&["cost", sid, "--format", "json"]).success().json();
    env.run(&[
        "import",
        "--trace-dir",
        "imported",
        transcript.to_str().unwrap(),
    ])
    .success();
    let imported = (env.run(&["cost", "--trace-dir", "imported", sid, "--format", "json"]))
        .success()
        .json();
    assert_eq!(hooked["estimated"], false, "{hooked}");
    assert_eq!(hooked["tokens"], imported["tokens"], "{hooked}\n{imported}");
    assert_eq!(
        hooked["cost_usd"], imported["cost_usd"],
        "{hooked}\n{imported}"
    );
    // Without the subagents' transcripts the session costs less: they were counted.
    std::fs::remove_dir_all(env.path().join(sid)).unwrap();
    let alone = env.run(&["cost", sid, "--format", "json"]).success().json();
    assert!(
        alone["cost_usd"].as_f64() < hooked["cost_usd"].as_f64(),
        "{alone}\n{hooked}"
    );
}

#[test]
fn subagents_roll_up_to_the_figures_ccusage_reports() {
    let env = TestEnv::new();
    let file = crate::common::shared()
        .join("corpus/claude-code/marot__spotter/258c7280-ae70-4798-800f-63464d01a85d.jsonl");
    env.run(&["import", file.to_str().unwrap()]).success();
    let own = env
        .run(&["cost", "258c", "--no-subagents", "--format", "json"])
        .success()
        .json();
    // Subagents are counted in by default, as ccusage counts them.
    let all = env
        .run(&["cost", "258c", "--format", "json"])
        .success()
        .json();
    // ccusage 20.0.24 on the main file with its subagents folder (corpus PROVENANCE.md).
    let t = &all["tokens"];
    assert_eq!(
        [
            &t["input"],
            &t["output"],
            &t["cache_creation"],
            &t["cache_read"]
        ],
        [198, 38908, 394_137, 14_972_534]
    );
    assert_eq!(all["subagents"].as_array().unwrap().len(), 2);
    let sum: f64 = all["subagents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["cost_usd"].as_f64().unwrap())
        .sum();
    assert!(
        (all["cost_usd"].as_f64().unwrap() - own["cost_usd"].as_f64().unwrap() - sum).abs() < 1e-9
    );
}

/// Every token count of a subagent is rolled in, as its dollars are: `cache_creation_1h` was
/// left out, so the 1h writes of 258c7280's subagents were missing from the top level and from
/// the per-model rows while their price was counted.
#[test]
fn every_token_count_of_a_subagent_rolls_up() {
    let env = TestEnv::new();
    let file = crate::common::shared()
        .join("corpus/claude-code/marot__spotter/258c7280-ae70-4798-800f-63464d01a85d.jsonl");
    env.run(&["import", file.to_str().unwrap()]).success();
    let own_tokens = |id: &str| {
        env.run(&["cost", id, "--no-subagents", "--format", "json"])
            .success()
            .json()["tokens"]
            .clone()
    };
    let all = env
        .run(&["cost", "258c", "--format", "json"])
        .success()
        .json();
    let subagents: Vec<Value> = all["subagents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| own_tokens(s["session_id"].as_str().unwrap()))
        .collect();
    assert!(!subagents.is_empty());
    let own = own_tokens("258c");
    let count = |t: &Value, field: &str| t[field].as_u64().unwrap_or(0);
    for field in [
        "input",
        "output",
        "cache_creation",
        "cache_creation_1h",
        "cache_read",
        "reasoning",
    ] {
        let rolled_up = count(&own, field) + subagents.iter().map(|t| count(t, field)).sum::<u64>();
        assert_eq!(count(&all["tokens"], field), rolled_up, "{field}");
        let by_model: u64 = all["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| count(&m["tokens"], field))
            .sum();
        assert_eq!(by_model, rolled_up, "{field} by model");
    }
    // The subagents wrote to the 1h cache too, so the check above has something to add.
    assert!(subagents.iter().any(|t| count(t, "cache_creation_1h") > 0));
}

/// Counts no model could report (a forged usage, sent to a collector say) never break a
/// reader: the sums overflowed (a panic in a debug build, a wrapped figure in a release one).
/// Such a usage is unknown, none: the session costs what it does without it (it was summed
/// saturating, and priced at $110,680,464,442,257.31).
#[test]
fn absurd_token_counts_never_break_a_reader() {
    let env = TestEnv::new();
    let absurd = Tokens {
        input: u64::MAX,
        output: u64::MAX,
        cache_read: u64::MAX,
        ..Tokens::default()
    };
    reference_story()
        .at(0.5)
        .llm_response("claude-sonnet-4-5-20250929", absurd)
        .at(10.0)
        .llm_response("claude-sonnet-4-5-20250929", absurd)
        .write(&env);
    for args in [
        vec!["list", "--format", "json"],
        vec!["cost", ID, "--format", "json"],
        vec!["stats", ID],
        vec!["dashboard", "--format", "json"],
        vec!["budget-report", "--format", "json"],
    ] {
        let run = env.run(&args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    }
    let cost: Value =
        serde_json::from_str(&env.run(&["cost", ID, "--format", "json"]).stdout).unwrap();
    let without = TestEnv::new();
    reference_story().write(&without);
    let truth = without.run(&["cost", ID, "--format", "json"]).json();
    assert_eq!(cost["tokens"], truth["tokens"], "{cost:#}");
    assert_eq!(cost["cost_usd"], truth["cost_usd"], "{cost:#}");
}

/// One usage object can name a count twice, under Anthropic's and OpenAI's spellings (as a
/// gateway may send both): the two add up saturating, as a session's do. Reading such an
/// object overflowed (a panic in a debug build: every command reading the session died).
#[test]
fn a_usage_object_that_names_a_count_twice_never_breaks_a_reader() {
    let env = TestEnv::new();
    let max = u64::MAX;
    reference_story()
        .at(0.5)
        .event(
            EventType::LlmResponse,
            json!({"model": "claude-sonnet-4-5-20250929", "usage": {
                "input_tokens": max, "prompt_tokens": max,
                "output_tokens": 5, "completion_tokens": max,
                "output_tokens_details": {"reasoning_tokens": max},
                "completion_tokens_details": {"reasoning_tokens": max},
            }}),
        )
        .write(&env);
    for args in [
        vec!["cost", ID, "--format", "json"],
        vec!["stats", ID, "--format", "json"],
        vec!["explain", ID, "--format", "json"],
        vec!["lint", ID, "--format", "json"],
        vec!["compare", ID, ID, "--format", "json"],
        vec!["list", "--format", "json"],
    ] {
        let run = env.run(&args);
        assert!(run.code <= 1, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
    }
    // The counts are none a response can have: the usage is unknown, none (they were summed
    // saturating, to 2^64 - 1 tokens).
    let cost = env.run(&["cost", ID, "--format", "json"]).json();
    let without = TestEnv::new();
    reference_story().write(&without);
    let truth = without.run(&["cost", ID, "--format", "json"]).json();
    assert_eq!(cost["tokens"], truth["tokens"], "{cost:#}");
}

/// Copilot CLI 1.0.34 logs one usage total per model for the whole session (here six
/// requests). Made past 200,000 tokens of context, that total was priced at Sonnet's
/// long-context rates ($0.9655) by `cost`, `list`, `budget-report` and the index's
/// `llm_responses`, though no request is known to be past the line: it costs $0.4935.
#[test]
fn a_copilot_sessions_total_past_200k_is_priced_at_the_standard_rate() {
    let env = TestEnv::new();
    let corpus = crate::common::shared()
        .join("corpus/copilot/Mai0313__VibeCodingTracker/copilot-session.jsonl");
    let original = std::fs::read_to_string(corpus).unwrap();
    assert!(original.contains("\"inputTokens\":186809"));
    let log = env.path().join("copilot-session.jsonl");
    std::fs::write(
        &log,
        original
            .replace("\"claude-sonnet-4.6\"", "\"claude-sonnet-4.5\"")
            .replace("\"inputTokens\":186809", "\"inputTokens\":286809"),
    )
    .unwrap();
    env.run(&["import", log.to_str().unwrap()]).success();
    // Copilot's input counts the cache reads in.
    let tokens = Tokens {
        input: 286_809 - 151_738,
        output: 2848,
        cache_read: 151_738,
        ..Tokens::default()
    };
    let expected = dollars(&price_of("claude-sonnet-4-5"), &tokens);
    assert!((expected - 0.493_454_4).abs() < 1e-9, "{expected}");
    let close = |v: &Value, what: &str| {
        let got = v.as_f64().unwrap_or_else(|| panic!("{what}: {v}"));
        assert!((got - expected).abs() < 1e-9, "{what}: {got} != {expected}");
    };

    let cost = env.run(&["cost", "--format", "json"]).success().json();
    close(&cost["cost_usd"], "cost");
    let text = env.run(&["cost"]).stdout;
    assert!(text.contains("Cost: $0.4935"), "{text}");
    let list = env.run(&["list", "--format", "json"]).success().json();
    close(&list[0]["cost_usd"], "list");
    let report = env
        .run(&[
            "budget-report",
            "--since",
            "2026-04-01",
            "--until",
            "2026-05-01",
            "--format",
            "json",
        ])
        .success()
        .json();
    close(&report["total_usd"], "budget-report");
    close(&report["by_day"][0]["cost_usd"], "budget-report by day");
    let sql = env
        .run(&[
            "sql",
            "--format",
            "json",
            "SELECT sum(cost_usd) AS c FROM llm_responses",
        ])
        .success()
        .json();
    close(&sql[0]["c"], "sql llm_responses");
}

/// OpenAI and Google bill no cache-write premium, and a model with no cached-input price
/// bills cached input as input (prices.json's notes, its cache prices null): a million tokens
/// of gpt-5.1-codex written to the cache cost $1.56 (Anthropic's 1.25x), gpt-5-pro's cached
/// million $1.50 (Anthropic's 0.1x), in `cost` and in the index.
#[test]
fn cache_tokens_of_a_model_with_no_cache_price_cost_what_input_costs() {
    let env = TestEnv::new();
    // Below the long-context line, where Claude's writes cost more again.
    let tokens = 100_000;
    let write = Tokens {
        cache_creation: tokens,
        ..Tokens::default()
    };
    let read = Tokens {
        cache_read: tokens,
        ..Tokens::default()
    };
    let input = Tokens {
        input: tokens,
        ..Tokens::default()
    };
    let cases = [
        ("gpt-5.1-codex", "cache_write_5m", &write),
        ("gemini-2.5-pro", "cache_write_5m", &write),
        ("gpt-5-pro", "cache_read", &read),
    ];
    let cost_of = |id: &str| {
        let r = env.run(&["cost", id, "--format", "json"]).success().json();
        r["cost_usd"].as_f64().unwrap()
    };
    for (n, (model, field, cached)) in cases.iter().enumerate() {
        assert!(price_of(model)[field].is_null(), "{model} {field}");
        let as_cache = format!("cache{n}");
        let as_input = format!("input{n}");
        SessionBuilder::new(&as_cache)
            .prompt("p")
            .llm_response(model, **cached)
            .write(&env);
        SessionBuilder::new(&as_input)
            .prompt("p")
            .llm_response(model, input)
            .write(&env);
        let (cache, fresh) = (cost_of(&as_cache), cost_of(&as_input));
        assert!(fresh > 0.0, "{model}");
        assert!((cache - fresh).abs() < 1e-12, "{model}: {cache} != {fresh}");
        let sql = env
            .run(&[
                "sql",
                "--format",
                "json",
                &format!("SELECT cost_usd AS c FROM sessions WHERE session_id = '{as_cache}'"),
            ])
            .success()
            .json();
        let indexed = sql[0]["c"].as_f64().unwrap();
        assert!((indexed - fresh).abs() < 1e-12, "{model} sql: {indexed}");
    }
    // A model with a cached-input price is charged it, and Claude's writes keep their premium.
    for (model, cached) in [("gpt-5.1-codex", &read), ("claude-sonnet-4-5", &write)] {
        let id = format!("{model}-cached");
        SessionBuilder::new(&id)
            .prompt("p")
            .llm_response(model, *cached)
            .write(&env);
        let want = dollars(&price_of(model), cached);
        let got = cost_of(&id);
        assert!((got - want).abs() < 1e-12, "{model}: {got} != {want}");
        assert!(
            (want - dollars(&price_of(model), &input)).abs() > 0.001,
            "{model}"
        );
    }
}

/// Claude Code writes the model `<synthetic>` on entries no API call made (here two, with zero
/// usage): they cost nothing, and that is known. `cost` said "no price known: $0" of them.
#[test]
fn claude_codes_synthetic_entries_cost_nothing_as_a_known_price() {
    let env = TestEnv::new();
    let file = crate::common::shared()
        .join("corpus/claude-code/moredip__session-share/general-tool-calls.jsonl");
    env.run(&["import", file.to_str().unwrap()]).success();
    let r = env.run(&["cost", "--format", "json"]).success().json();
    let synthetic = r["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == "<synthetic>")
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(synthetic["priced_as"], "<synthetic>", "{synthetic}");
    assert_eq!(synthetic["cost_usd"], 0.0);
    assert_eq!(r["unpriced"], json!([]));
    let text = env.run(&["cost"]).stdout;
    assert!(text.contains("Model: <synthetic> | 0 input"), "{text}");
    assert!(
        !text.contains("no known price") && !text.contains('?'),
        "{text}"
    );
    let models = env
        .run(&[
            "sql",
            "--format",
            "json",
            "SELECT cost_usd FROM models WHERE model = '<synthetic>'",
        ])
        .success()
        .json();
    assert_eq!(models, json!([{"cost_usd": 0.0}]));
}

/// A Codex session of a custom provider's model (`aide-gpt-5`, corpus) has no known price.
/// `cost` said so, but `list`, `budget-report` and `dashboard` showed its $0 with no mark,
/// though README promises such a model is never costed at $0 silently. Beside a priced session,
/// the mark must keep the columns aligned.
#[test]
fn a_cost_that_counts_an_unpriced_model_at_zero_is_marked_everywhere() {
    let env = TestEnv::new();
    let codex =
        crate::common::shared().join("corpus/codex/Mai0313__VibeCodingTracker/codex-v0.39.0.jsonl");
    let claude = crate::common::shared().join("corpus/claude-code/marot__spotter/short.jsonl");
    for file in [&codex, &claude] {
        env.run(&["import", file.to_str().unwrap()]).success();
    }
    let note = "? a model with no known price (aide-gpt-5) is counted at $0";

    let list = env.run(&["list", "--format", "json"]).success().json();
    let unpriced: Vec<Value> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["cost_unpriced_models"].clone())
        .collect();
    assert_eq!(unpriced, [json!([]), json!(["aide-gpt-5"])], "{list}");
    let text = env.run(&["list"]).success().stdout.clone();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[2].contains("$0.0000? "), "{text}");
    assert!(!lines[1].contains('?'), "{text}");
    // The dollars end in the same column, under COST.
    let end = |line: &str, what: &str| line.find(what).unwrap() + what.len();
    assert_eq!(end(lines[0], "COST"), end(lines[2], "$0.0000"), "{text}");
    assert_eq!(end(lines[0], "COST"), end(lines[1], "$0.1444"), "{text}");
    assert_eq!(lines[3], note);

    let period = ["--since", "2025-09-01", "--until", "2026-03-01"];
    let report = env
        .run(&[&["budget-report", "--format", "json"][..], &period[..]].concat())
        .success()
        .json();
    assert_eq!(report["unpriced_models"], json!(["aide-gpt-5"]), "{report}");
    let aide = report["by_model"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == "aide-gpt-5")
        .unwrap();
    assert_eq!(aide["unpriced"], true);
    let text = env
        .run(&[&["budget-report"][..], &period[..]].concat())
        .success()
        .stdout
        .clone();
    assert!(text.contains("\naide-gpt-5 $0.0000? (0%)\n"), "{text}");
    assert!(
        text.contains("\nclaude-opus-4-6 $0.1444 (100%)\n"),
        "{text}"
    );
    assert!(text.contains("Total spend: $0.1444? ("), "{text}");
    assert!(text.trim_end().ends_with(note), "{text}");

    let board = env
        .run(&["dashboard", "--since", "2025-09-01", "--format", "json"])
        .success()
        .json();
    assert_eq!(
        board["totals"]["cost_unpriced_models"],
        json!(["aide-gpt-5"])
    );
    let text = env
        .run(&["dashboard", "--since", "2025-09-01"])
        .success()
        .stdout
        .clone();
    let cost = text.lines().find(|l| l.starts_with("Cost")).unwrap();
    let tokens = text.lines().find(|l| l.starts_with("Tokens")).unwrap();
    assert!(cost.contains("$0.1444? "), "{text}");
    assert_eq!(end(cost, "$0.1444"), end(tokens, "308,447"), "{text}");
    assert!(text.contains(note), "{text}");
}

/// `cost` named a model with no known price on its model line, but its total and the phases
/// that used the model read `$0.0000` unmarked. Then the model line itself read
/// `(no price known: $0) … $0.0000` where every other figure read `$0.0000?`.
#[test]
fn cost_marks_its_total_and_phases_that_count_an_unpriced_model() {
    use crate::common::{UNPRICED_NOTE, import_unpriced_and_priced};

    let env = TestEnv::new();
    let (unpriced, priced) = import_unpriced_and_priced(&env);
    let text = env.run(&["cost", &unpriced]).success().stdout.clone();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].ends_with("Cost: $0.0000?"), "{text}");
    assert!(
        lines[1].starts_with("Model: aide-gpt-5 (no known price) | ")
            && lines[1].ends_with(" | $0.0000?"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("Phase 1: ") && lines[2].ends_with(" $0.0000? (0%)"),
        "{text}"
    );
    assert_eq!(lines.last(), Some(&UNPRICED_NOTE), "{text}");
    let r = env
        .run(&["cost", &unpriced, "--format", "json"])
        .success()
        .json();
    assert_eq!(r["phases"][0]["unpriced"], true, "{r}");
    let text = env.run(&["cost", &priced]).success().stdout.clone();
    assert!(!text.contains('?'), "{text}");
}

/// A session the hooks recorded holds no usage; `cost` and `budget-report` price the usage its
/// Claude Code transcript logged (here $0.14), while `list`, `dashboard` and `sql`, which read
/// the store alone, show the estimate from payload sizes (a few tenths of a cent). The two
/// figures disagreed with nothing saying why: `cost` and `budget-report` now name the
/// transcript and say that the listings show an estimate, and `sql`'s `sessions` view gives
/// the transcript's path beside `estimated` = 1.
#[test]
fn a_hook_session_priced_from_its_transcript_says_so_where_listings_show_an_estimate() {
    let env = TestEnv::new();
    let transcript = env.path().join("transcript.jsonl");
    std::fs::copy(
        crate::common::shared().join("corpus/claude-code/marot__spotter/short.jsonl"),
        &transcript,
    )
    .unwrap();
    let sid = "c7428042-d9a9-4e9e-a71c-4433a8d202c0";
    let base = json!({
        "session_id": sid,
        "transcript_path": transcript.to_string_lossy(),
    });
    let with = |extra: Value| {
        let mut p = base.clone();
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        p
    };
    for (event, payload) in [
        (
            "session-start",
            with(json!({"hook_event_name": "SessionStart", "source": "startup"})),
        ),
        (
            "user-prompt",
            with(json!({"hook_event_name": "UserPromptSubmit", "prompt": "fix it"})),
        ),
        (
            "pre-tool",
            with(json!({"hook_event_name": "PreToolUse", "tool_name": "Read",
                        "tool_input": {"file_path": "/p/a.rs"}})),
        ),
        (
            "post-tool",
            with(
                json!({"hook_event_name": "PostToolUse", "tool_name": "Read",
                        "tool_input": {"file_path": "/p/a.rs"},
                        "tool_response": "fn main() {}"}),
            ),
        ),
    ] {
        env.hook(event, &payload).success();
    }
    let cost = env.run(&["cost", "--format", "json"]).success().json();
    assert_eq!(cost["estimated"], false, "{cost}");
    assert_eq!(cost["usage_log"], transcript.to_string_lossy().as_ref());
    let priced = cost["cost_usd"].as_f64().unwrap();
    assert!(priced > 0.1, "{cost}");
    let text = env.run(&["cost"]).success().stdout.clone();
    assert!(
        text.contains("tokens are read from its agent's log")
            && text.contains("show an estimate from payload sizes"),
        "{text}"
    );
    let report = env
        .run(&["budget-report", "--format", "json"])
        .success()
        .json();
    assert_eq!(report["from_log_sessions"], 1, "{report}");
    assert_eq!(report["top"][0]["from_log"], true, "{report}");
    let text = env.run(&["budget-report"]).success().stdout.clone();
    assert!(
        text.contains("1 of them priced from the agent's transcript")
            && text.contains("(from the transcript)"),
        "{text}"
    );
    // `stats` counts what the store holds, and says where the usage is: it read "Tokens: 0"
    // with nothing to say why.
    let stats = env
        .run(&["stats", sid, "--format", "json"])
        .success()
        .json();
    assert_eq!(stats["tokens"], 0, "{stats}");
    let log = &stats["usage_logs"][0];
    assert_eq!(
        log["path"],
        transcript.to_string_lossy().as_ref(),
        "{stats}"
    );
    assert!(log["responses"].as_u64().unwrap() > 0 && log["tokens"].as_u64().unwrap() > 1000);
    let text = env.run(&["stats", sid]).success().stdout.clone();
    assert!(
        text.contains("No usage was recorded: the agent's log ")
            && text.contains(" tokens, which `cost` prices."),
        "{text}"
    );
    // The listings: an estimate, marked as one, and in sql the transcript it could be priced from.
    let listed = env.run(&["list", "--format", "json"]).success().json();
    assert_eq!(listed[0]["cost_estimated"], true, "{listed}");
    assert!(listed[0]["cost_usd"].as_f64().unwrap() < priced / 10.0);
    let row = env
        .run(&[
            "sql",
            "--format",
            "json",
            "SELECT estimated, transcript_path, cost_usd > 0 AS priced FROM sessions",
        ])
        .success()
        .json();
    assert_eq!(
        row,
        json!([{"estimated": 1, "transcript_path": transcript.to_string_lossy(), "priced": 1}])
    );

    // A response in the transcript whose usage no response can have is left out of the
    // tokens, and said: `cost` and `stats` dropped it without a word.
    let before = stats["usage_logs"][0]["tokens"].clone();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&transcript)
        .unwrap();
    std::io::Write::write_all(
        &mut file,
        concat!(
            r#"{"type":"assistant","timestamp":"2026-02-12T23:59:00Z","requestId":"req_forged","#,
            r#""message":{"id":"msg_forged","model":"claude-opus-4-6","role":"assistant","#,
            r#""content":[],"usage":{"input_tokens":3,"output_tokens":100000000000}}}"#,
            "\n"
        )
        .as_bytes(),
    )
    .unwrap();
    let stats = env
        .run(&["stats", sid, "--format", "json"])
        .success()
        .json();
    assert_eq!(stats["usage_logs"][0]["unbelieved"], 1, "{stats}");
    assert_eq!(stats["usage_logs"][0]["tokens"], before, "{stats}");
    let text = env.run(&["stats", sid]).success().stdout.clone();
    assert!(
        text.contains(
            "; 1 LLM response of unknown usage (a token count that is negative, fractional or \
             not a number, or counts that add up to over ten billion) is left out."
        ),
        "{text}"
    );
    let cost = env.run(&["cost", "--format", "json"]).success().json();
    assert_eq!(cost["unbelieved_usage"], 1, "{cost}");
    assert_eq!(cost["cost_usd"], json!(priced), "{cost}");
}

/// A session that recorded no usage is priced as Sonnet for an estimate, and `cost` said
/// "Model: claude-sonnet-4-5" as if the session had used it (a session of Opus calls whose
/// usage was lost said so too). The line says the model is assumed, and how to name another.
#[test]
fn an_estimate_says_its_model_is_assumed() {
    let env = TestEnv::new();
    let id = SessionBuilder::new("e5t1m8te-0000-4000-8000-000000000001")
        .prompt("make the page load faster")
        .tool_call("Read", json!({"file_path": "/p/index.html"}))
        .result(json!("<html>"))
        .write(&env);
    let text = env
        .run(&["cost", &id, "--color", "never"])
        .success()
        .stdout
        .clone();
    let model = text.lines().find(|l| l.starts_with("Model: ")).unwrap();
    assert!(
        model.starts_with(
            "Model: claude-sonnet-4-5 (assumed for the estimate: --model names another) | "
        ),
        "{text}"
    );
    let named = env
        .run(&["cost", &id, "--model", "opus", "--color", "never"])
        .success()
        .stdout
        .clone();
    assert!(!named.contains("assumed"), "{named}");
}

/// A session that recorded no usage but names its model (a Gemini CLI or Codex session whose
/// requests name gemini-2.5-pro or gpt-5) had its estimate priced as Sonnet, by `cost` and by
/// the index (`list`, `sql`, `dashboard`, `watch`). The estimate is priced as the model the
/// session names; a model with no price leaves it unpriced (`?`), never priced as another.
#[test]
fn an_estimate_is_priced_as_the_model_the_session_names() {
    let env = TestEnv::new();
    let session = |id: &str, model: &str| {
        SessionBuilder::new(id)
            .prompt("make the page load faster")
            .event(EventType::LlmRequest, json!({"model": model}))
            .tool_call("Read", json!({"file_path": "/p/index.html"}))
            .result(json!("<html>".repeat(2000)))
            .answer("It loads faster now.")
            .write(&env)
    };
    let cost = |args: &[&str]| -> Value {
        let mut all = vec!["cost", "--format", "json"];
        all.extend_from_slice(args);
        serde_json::from_str(&env.run(&all).success().stdout).unwrap()
    };
    let listed = || -> Value {
        serde_json::from_str(&env.run(&["list", "--format", "json"]).success().stdout).unwrap()
    };
    let in_list = |list: &Value, id: &str| -> Value {
        let sessions = list
            .as_array()
            .or_else(|| list["sessions"].as_array())
            .unwrap();
        sessions
            .iter()
            .find(|s| s["session_id"] == id)
            .unwrap_or_else(|| panic!("{id} in {list}"))
            .clone()
    };

    let gemini = session("9e111111-0000-4000-8000-000000000001", "gemini-2.5-pro");
    let own = cost(&[&gemini]);
    let as_named = cost(&[&gemini, "--model", "gemini-2.5-pro"]);
    let as_sonnet = cost(&[&gemini, "--model", "sonnet"]);
    assert_eq!(own["estimated"], true, "{own}");
    assert_eq!(own["models"][0]["model"], "gemini-2.5-pro", "{own}");
    assert_eq!(own["cost_usd"], as_named["cost_usd"], "{own}");
    assert_ne!(own["cost_usd"], as_sonnet["cost_usd"], "{own}");
    assert_eq!(in_list(&listed(), &gemini)["cost_usd"], own["cost_usd"]);

    let unknown = session("9e111111-0000-4000-8000-000000000002", "mystery-model-9");
    let own = cost(&[&unknown]);
    assert_eq!(own["unpriced"], json!(["mystery-model-9"]), "{own}");
    assert_eq!(own["cost_usd"], json!(0.0), "{own}");
    let text = env
        .run(&["cost", &unknown, "--color", "never"])
        .success()
        .stdout
        .clone();
    assert!(
        text.contains("Model: mystery-model-9 (no known price)"),
        "{text}"
    );
    let row = in_list(&listed(), &unknown);
    assert_eq!(
        row["cost_unpriced_models"],
        json!(["mystery-model-9"]),
        "{row}"
    );
    assert_eq!(row["cost_usd"], json!(0.0), "{row}");
}

/// A session whose own usage named claude-sonnet-4-5, with a subagent that recorded none, said
/// "Model: claude-sonnet-4-5 (assumed for the estimate …)": the subagent's estimate made the
/// model the session used an assumed one. Only a roll-up that recorded no usage assumes it.
#[test]
fn a_subagents_estimate_does_not_make_the_parents_model_assumed() {
    let env = TestEnv::new();
    let parent = SessionBuilder::new("a55u0ed0-0000-4000-8000-000000000001")
        .prompt("make the page load faster")
        .llm_response(
            "claude-sonnet-4-5",
            agent_strace::model::Tokens {
                input: 1000,
                output: 500,
                ..Default::default()
            },
        )
        .write(&env);
    SessionBuilder::new("a55u0ed0-0000-4000-8000-000000000002")
        .meta(|m| m.parent_session_id = Some(parent.clone()))
        .prompt("look")
        .tool_call("Read", json!({"file_path": "/p/index.html"}))
        .result(json!("<html>"))
        .write(&env);
    let text = env
        .run(&["cost", &parent, "--color", "never"])
        .success()
        .stdout
        .clone();
    assert!(text.contains("Subagent "), "{text}");
    assert!(!text.contains("assumed"), "{text}");
}

/// A token count the Python tool's json module wrote as `NaN` was read as `null`, which usage
/// takes for none: the response cost $0 of input, and the cost was given as exact.
#[test]
fn a_token_count_written_nan_is_unknown_usage_not_none() {
    let env = TestEnv::new();
    let tokens = Tokens {
        input: 123_456,
        output: 5,
        ..Tokens::default()
    };
    let id = SessionBuilder::new("nan-usage")
        .llm_response("claude-sonnet-4-5", tokens)
        .write(&env);
    let file = env.store().join(&id).join("events.ndjson");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("123456"));
    std::fs::write(&file, text.replace("123456", "NaN")).unwrap();
    let run = env.run(&["cost", &id]);
    run.success();
    assert!(
        run.stdout.contains("usage no response can have"),
        "{}",
        run.stdout
    );
}

/// A response whose counts are each one a response can have, but add up to more than one
/// response holds (input and output of six billion each), is of unknown usage; `cost` said it
/// held "a token count that is … over ten billion", which none of its counts is. It says what
/// is judged: the counts added up.
#[test]
fn usage_whose_counts_add_up_past_belief_is_said_so() {
    let env = TestEnv::new();
    let each = 6_000_000_000;
    let id = SessionBuilder::new("summed-usage")
        .llm_response(
            "claude-sonnet-4-5",
            Tokens {
                input: each,
                output: each,
                ..Tokens::default()
            },
        )
        .write(&env);
    let run = env.run(&["cost", &id]);
    run.success();
    let note = run
        .stdout
        .lines()
        .find(|l| l.contains("usage no response can have"))
        .unwrap_or_else(|| panic!("cost leaves the response out: {}", run.stdout));
    assert!(note.contains("add up to over ten billion"), "{note}");
    assert!(each < agent_strace::model::usage::BELIEVABLE_RESPONSE_TOKENS);
}

/// `list`, `budget-report` and `token-budget` said a response of unknown usage held "a token
/// count no response can have", though a usage of two counts each one a response can have
/// (six billion input, six billion output) is refused for their sum. They say what is judged,
/// in the words `cost` and `watch` use.
#[test]
fn every_command_says_what_makes_usage_unknown() {
    let env = TestEnv::new();
    let each = 6_000_000_000;
    let id = SessionBuilder::new("summed-usage")
        .prompt("go")
        .llm_response(
            "claude-sonnet-4-5",
            Tokens {
                input: each,
                output: each,
                ..Tokens::default()
            },
        )
        .ended(2.0)
        .write(&env);
    let said = |args: &[&str], what: &str| {
        let run = env.run(args);
        run.success();
        let line = run
            .stdout
            .lines()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("{args:?} says nothing of {what:?}: {}", run.stdout))
            .to_owned();
        assert!(
            line.contains("add up to over ten billion"),
            "{args:?}: {line}"
        );
    };
    said(&["list", "--color", "never"], "of unknown usage");
    said(
        &["budget-report", "--since", "2020-01-01", "--color", "never"],
        "of unknown usage",
    );
    said(
        &["token-budget", &id, "--color", "never"],
        "No believable model usage",
    );
}

/// A resumed session's transcript begins with a copy of the session it resumed. An import
/// leaves those lines to the resumed session's own file when it lies beside; a session recorded
/// by hooks was priced from every response in its transcript, so `cost`, `budget-report`,
/// `watch --budget` and `lint` charged it what both sessions spent ($0.26 for $0.03 in the
/// report that found it, and a kill on a budget the session never neared). It is priced as its
/// import is now: the copy counts in its own file when that is there, else here.
#[test]
fn a_resumed_hook_session_is_priced_without_the_history_it_resumed() {
    let original = "e9f146fa-3b20-48d0-9be4-d99ca901cae4";
    let resumed = "b162b1ae-97bc-475f-9b5f-ffbf55ca5b3f";
    let text = std::fs::read_to_string(
        crate::common::shared()
            .join("corpus/claude-code/Mai0313__VibeCodingTracker/claude_code-v1.0.95.jsonl"),
    )
    .unwrap();
    // The first 48 lines are the original session's, the rest the resumed one's.
    let original_text: String = text.split_inclusive('\n').take(48).collect();
    let cost_of = |env: &TestEnv, args: &[&str]| {
        let r = env.run(args).success().json();
        (r["cost_usd"].as_f64().unwrap() * 1e9).round() / 1e9
    };
    let priced = |with_original: bool| {
        let env = TestEnv::new();
        let folder = env.path().join("projects");
        std::fs::create_dir_all(&folder).unwrap();
        if with_original {
            std::fs::write(folder.join(format!("{original}.jsonl")), &original_text).unwrap();
        }
        let transcript = folder.join(format!("{resumed}.jsonl"));
        std::fs::write(&transcript, &text).unwrap();
        let payload = |name: &str| {
            json!({"session_id": resumed, "hook_event_name": name,
                "transcript_path": transcript, "prompt": "go on", "reason": "exit"})
        };
        env.hook("session-start", &payload("SessionStart"))
            .success();
        env.hook("user-prompt", &payload("UserPromptSubmit"))
            .success();
        env.hook("session-end", &payload("SessionEnd")).success();
        let hooked = cost_of(&env, &["cost", resumed, "--format", "json"]);
        // The same files imported, into a store of their own.
        let imported = TestEnv::new();
        for file in std::fs::read_dir(&folder).unwrap() {
            let file = file.unwrap().path();
            imported.run(&["import", file.to_str().unwrap()]).success();
        }
        let want = cost_of(&imported, &["cost", resumed, "--format", "json"]);
        (hooked, want)
    };
    let (alone, alone_imported) = priced(false);
    let (beside, beside_imported) = priced(true);
    assert!(
        (alone - alone_imported).abs() < 1e-9,
        "{alone} {alone_imported}"
    );
    assert!(
        (beside - beside_imported).abs() < 1e-9,
        "{beside} {beside_imported}"
    );
    // The history's own file lies beside: it is that session's spend, not this one's.
    assert!(beside > 0.0 && beside < alone, "{beside} {alone}");
}

/// A session one of whose responses holds a usage no response can have (`input_tokens: -5`)
/// is priced without it: `list` marked its cost `?` (docs/sql.md: "where `cost` and `list` mark
/// a cost with `?`"), while `cost`'s headline and `budget-report`'s top sessions gave the same
/// figure bare. Each marks it now.
#[test]
fn a_cost_that_leaves_out_unbelievable_usage_is_marked_where_list_marks_it() {
    let env = TestEnv::new();
    let folder = env.store().join("bad1");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("meta.json"),
        r#"{"session_id":"bad1","started_at":1780000000.0,"ended_at":1780000003.0,"agent_name":"claude-code","command":"x"}"#,
    )
    .unwrap();
    std::fs::write(
        folder.join("events.ndjson"),
        [
            r#"{"event_type":"user_prompt","timestamp":1780000001.0,"event_id":"e1","session_id":"bad1","data":{"prompt":"p"}}"#,
            r#"{"event_type":"llm_response","timestamp":1780000002.0,"event_id":"e2","session_id":"bad1","data":{"model":"claude-opus-4-6","usage":{"input_tokens":-5,"output_tokens":10}}}"#,
            r#"{"event_type":"llm_response","timestamp":1780000003.0,"event_id":"e3","session_id":"bad1","data":{"model":"claude-opus-4-6","usage":{"input_tokens":1000,"output_tokens":10}}}"#,
        ]
        .join("\n")
            + "\n",
    )
    .unwrap();
    let listed = env.run(&["list"]).success().stdout.clone();
    assert!(listed.contains("$0.0053?"), "{listed}");
    let cost = env.run(&["cost", "bad1"]).success().stdout.clone();
    let headline = cost.lines().next().unwrap();
    assert!(headline.ends_with("$0.0053?"), "{cost}");
    let year = [
        "budget-report",
        "--since",
        "2026-01-01",
        "--until",
        "2026-12-31",
    ];
    let report = env.run(&year).success().stdout.clone();
    let top = report
        .lines()
        .find(|l| l.contains("bad1"))
        .unwrap_or_else(|| panic!("{report}"));
    assert!(top.contains("$0.0053?"), "{report}");
    let json = env
        .run(&[&year[..], &["--format", "json"]].concat())
        .success()
        .json();
    assert_eq!(json["top"][0]["unbelieved_usage"], 1, "{json}");
}
