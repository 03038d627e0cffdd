//! A Copilot CLI session's tokens through `import`: its usage records and its shutdown's
//! totals per model count each token once, and a record that names no model is priced as the
//! model whose totals hold it. The logs are the corpus's 1.0.34 session with a usage record of
//! no model written before any model was known (docs/agents.md section 9.3), and what every
//! command says of it is checked against the shutdown's totals read from the file itself.

use serde_json::{Value, json};

use crate::common::{TestEnv, shared};

/// The corpus's session, `session`, with a `session.usage_record` of 1,000 tokens in and 100
/// out that names no model, before its first `session.model_change` (with none when
/// `model_changes` is false: only the shutdown names a model), and the shutdown's
/// `modelMetrics` made `metrics`. Written into `env`'s folder and imported.
fn import_with_a_record_of_no_model(
    env: &TestEnv,
    session: &str,
    model_changes: bool,
    metrics: &Value,
) {
    let corpus = shared().join("corpus/copilot/Mai0313__VibeCodingTracker/copilot-session.jsonl");
    let mut lines = Vec::new();
    for line in std::fs::read_to_string(corpus).unwrap().lines() {
        let mut line: Value = serde_json::from_str(line).unwrap();
        match line["type"].as_str().unwrap() {
            "session.start" => line["data"]["sessionId"] = session.into(),
            "session.model_change" if !lines.iter().any(is_a_usage_record) => {
                lines.push(json!({"type": "session.usage_record", "id": "no-model",
                    "timestamp": line["timestamp"], "parentId": null,
                    "data": {"usage": {"inputTokens": 1000, "outputTokens": 100,
                                       "cacheReadTokens": 0, "cacheWriteTokens": 0}}}));
                if !model_changes {
                    continue;
                }
            }
            "session.model_change" if !model_changes => continue,
            "session.shutdown" => line["data"]["modelMetrics"] = metrics.clone(),
            _ => {}
        }
        lines.push(line);
    }
    let log = env.path().join(format!("{session}.jsonl"));
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&log, text.join("\n") + "\n").unwrap();
    env.run(&["import", log.to_str().unwrap()]).success();
}

fn is_a_usage_record(line: &Value) -> bool {
    line["type"] == "session.usage_record"
}

/// The corpus shutdown's usage of claude-sonnet-4.6, grown by `more` tokens in and out.
fn sonnet(more: (u64, u64)) -> Value {
    json!({"requests": {"count": 6, "cost": 2},
           "usage": {"inputTokens": 186_809 + more.0, "outputTokens": 2848 + more.1,
                     "cacheReadTokens": 151_738, "cacheWriteTokens": 0, "reasoningTokens": 1024}})
}

fn usage(input: u64, output: u64) -> Value {
    json!({"requests": {"count": 1, "cost": 0},
           "usage": {"inputTokens": input, "outputTokens": output, "cacheReadTokens": 0,
                     "cacheWriteTokens": 0}})
}

/// The tokens (fresh input, cache read, output) of a shutdown's `metrics`, by the store's
/// convention (Copilot's `inputTokens` holds the cache reads).
fn totals_of(metrics: &Value) -> (u64, u64, u64) {
    let count = |usage: &Value, key: &str| usage[key].as_u64().unwrap_or(0);
    metrics
        .as_object()
        .unwrap()
        .values()
        .map(|metric| &metric["usage"])
        .fold((0, 0, 0), |(input, read, output), usage| {
            let cached = count(usage, "cacheReadTokens");
            (
                input + count(usage, "inputTokens") - cached,
                read + cached,
                output + count(usage, "outputTokens"),
            )
        })
}

/// What `cost`, `stats`, `list` and `sql` say of `session`'s tokens and dollars, each checked
/// against the shutdown's `metrics`; `cost --format json`'s report.
fn assert_counted_as_the_shutdown(env: &TestEnv, session: &str, metrics: &Value) -> Value {
    let (input, read, output) = totals_of(metrics);
    let cost = env
        .run(&["cost", session, "--format", "json"])
        .success()
        .json();
    let tokens = &cost["tokens"];
    assert_eq!(
        (&tokens["input"], &tokens["cache_read"], &tokens["output"]),
        (&json!(input), &json!(read), &json!(output)),
        "{cost:#}"
    );
    let dollars = cost["cost_usd"].as_f64().unwrap();
    let stats = env
        .run(&["stats", session, "--format", "json"])
        .success()
        .json();
    assert_eq!(stats["tokens"], json!(input + read + output), "{stats:#}");
    let list = env.run(&["list", "--format", "json"]).success().json();
    let listed = (list.as_array().unwrap().iter())
        .find(|s| s["session_id"] == session)
        .unwrap();
    assert_eq!(listed["total_tokens"], stats["tokens"], "{listed:#}");
    assert!((listed["cost_usd"].as_f64().unwrap() - dollars).abs() < 1e-9);
    let query = format!(
        "SELECT sum(input_tokens) AS i, sum(output_tokens) AS o, sum(cost_usd) AS c \
         FROM llm_responses WHERE session_id = '{session}'"
    );
    let sql = env
        .run(&["sql", "--format", "json", &query])
        .success()
        .json();
    assert_eq!(
        (&sql[0]["i"], &sql[0]["o"]),
        (&json!(input), &json!(output)),
        "{sql:#}"
    );
    assert!(
        (sql[0]["c"].as_f64().unwrap() - dollars).abs() < 1e-9,
        "{sql:#}"
    );
    cost
}

/// The models `cost` priced the session's tokens as, and the tokens in of each.
fn models_of(cost: &Value) -> Vec<(String, u64)> {
    (cost["models"].as_array().unwrap().iter())
        .map(|m| {
            let model = m["model"].as_str().unwrap_or("(none)").to_owned();
            (model, m["tokens"]["input"].as_u64().unwrap())
        })
        .collect()
}

/// A shutdown of two models after a usage record of no model: its tokens were counted as
/// no model's and again in the shutdown's totals (1,000 in said as 2,000 above them). The
/// shutdown's totals are the session's: the record is gpt-5.1's when gpt-5.1's totals are its
/// usage exactly, and left to the totals when either model's may hold it.
#[test]
fn a_copilot_usage_record_of_no_model_is_counted_once_beside_two_models() {
    let env = TestEnv::new();
    let held = json!({"claude-sonnet-4.6": sonnet((0, 0)), "gpt-5.1": usage(1000, 100)});
    let session = "96ef38f0-9d09-45c3-8124-6448c36090e1";
    import_with_a_record_of_no_model(&env, session, true, &held);
    let cost = assert_counted_as_the_shutdown(&env, session, &held);
    assert_eq!(
        models_of(&cost),
        [
            ("claude-sonnet-4.6".to_owned(), 186_809 - 151_738),
            ("gpt-5.1".to_owned(), 1000)
        ],
        "{cost:#}"
    );

    let either = json!({"claude-sonnet-4.6": sonnet((0, 0)), "gpt-5.1": usage(3000, 300)});
    let session = "96ef38f0-9d09-45c3-8124-6448c36090e2";
    import_with_a_record_of_no_model(&env, session, true, &either);
    let cost = assert_counted_as_the_shutdown(&env, session, &either);
    assert_eq!(
        models_of(&cost),
        [
            ("claude-sonnet-4.6".to_owned(), 186_809 - 151_738),
            ("gpt-5.1".to_owned(), 3000)
        ],
        "{cost:#}"
    );
}

/// A usage record of no model in a session that names its model only in its shutdown, which
/// names one, was counted once, but as no model's, and so left unpriced. It is the shutdown's
/// one model's, priced as it.
#[test]
fn a_copilot_usage_record_of_no_model_is_the_lone_shutdown_models() {
    let env = TestEnv::new();
    let held = json!({"claude-sonnet-4.6": sonnet((1000, 100))});
    let session = "96ef38f0-9d09-45c3-8124-6448c36090e3";
    import_with_a_record_of_no_model(&env, session, false, &held);
    let cost = assert_counted_as_the_shutdown(&env, session, &held);
    assert_eq!(
        models_of(&cost),
        [("claude-sonnet-4.6".to_owned(), 187_809 - 151_738)],
        "{cost:#}"
    );
    assert!(cost["cost_usd"].as_f64().unwrap() > 0.0, "{cost:#}");
    let list = env.run(&["list", "--format", "json"]).success().json();
    assert_eq!(list[0]["cost_unpriced_models"], json!([]), "{list:#}");
}
