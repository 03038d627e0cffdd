//! A Copilot CLI session's tokens through `import`: its usage records and its shutdown's
//! totals per model count each token once, and a record that names no model is priced as the
//! model whose totals hold it. The logs are the corpus's 1.0.34 session with a usage record of
//! no model written before any model was known, or after one was selected (docs/agents.md
//! section 9.3), and what every command says of it is checked against the shutdown's totals
//! read from the file itself.

use serde_json::{Value, json};

use crate::common::{TestEnv, shared};

/// Where the usage record of no model is written in the corpus's session.
#[derive(Clone, Copy, PartialEq)]
enum Written {
    /// Before its first `session.model_change`: no model is known yet.
    BeforeAnyModel,
    /// Where the first `session.model_change` was, which is taken out with the others: only
    /// the shutdown names a model.
    WithNoModelNamed,
    /// After its last `session.model_change`, with claude-sonnet-4.6 selected.
    AfterTheModel,
}

/// The corpus's session, `session`, with a `session.usage_record` of 1,000 tokens in and 100
/// out that names no model, written as `written` says, and the shutdown's `modelMetrics` made
/// `metrics`. Written into `env`'s folder and imported.
fn import_with_a_record_of_no_model(
    env: &TestEnv,
    session: &str,
    written: Written,
    metrics: &Value,
) {
    let corpus = shared().join("corpus/copilot/Mai0313__VibeCodingTracker/copilot-session.jsonl");
    let corpus: Vec<Value> = (std::fs::read_to_string(corpus).unwrap().lines())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let is_a_model_change = |line: &Value| line["type"] == "session.model_change";
    let first_change = corpus.iter().position(is_a_model_change).unwrap();
    let last_change = corpus.iter().rposition(is_a_model_change).unwrap();
    let at = match written {
        Written::AfterTheModel => last_change,
        _ => first_change,
    };
    let record = json!({"type": "session.usage_record", "id": "no-model",
        "timestamp": corpus[at]["timestamp"], "parentId": null,
        "data": {"usage": {"inputTokens": 1000, "outputTokens": 100,
                           "cacheReadTokens": 0, "cacheWriteTokens": 0}}});
    let mut lines = Vec::new();
    for (n, mut line) in corpus.into_iter().enumerate() {
        if n == first_change && written != Written::AfterTheModel {
            lines.push(record.clone());
        }
        match line["type"].as_str().unwrap() {
            "session.start" => line["data"]["sessionId"] = session.into(),
            "session.model_change" if written == Written::WithNoModelNamed => continue,
            "session.shutdown" => line["data"]["modelMetrics"] = metrics.clone(),
            _ => {}
        }
        lines.push(line);
        if n == last_change && written == Written::AfterTheModel {
            lines.push(record.clone());
        }
    }
    let log = env.path().join(format!("{session}.jsonl"));
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&log, text.join("\n") + "\n").unwrap();
    env.run(&["import", log.to_str().unwrap()]).success();
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
    import_with_a_record_of_no_model(&env, session, Written::BeforeAnyModel, &held);
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
    import_with_a_record_of_no_model(&env, session, Written::BeforeAnyModel, &either);
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
    import_with_a_record_of_no_model(&env, session, Written::WithNoModelNamed, &held);
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

/// A usage record of no model written while claude-sonnet-4.6 was selected was counted as
/// claude-sonnet-4.6's, whatever the shutdown said: where claude-haiku-4.5's totals are its
/// usage exactly and claude-sonnet-4.6's are less than it, its tokens were counted twice (1,500
/// in said as 2,000). The shutdown tells whose it is, as it does before any model is known:
/// claude-haiku-4.5's here, and left to the totals when either model's may hold it.
#[test]
fn a_copilot_usage_record_of_no_model_after_a_model_is_selected_is_the_shutdowns_to_tell() {
    let env = TestEnv::new();
    let haiku = json!({"claude-sonnet-4.6": usage(500, 50), "claude-haiku-4.5": usage(1000, 100)});
    let session = "96ef38f0-9d09-45c3-8124-6448c36090e4";
    import_with_a_record_of_no_model(&env, session, Written::AfterTheModel, &haiku);
    let cost = assert_counted_as_the_shutdown(&env, session, &haiku);
    assert_eq!(
        models_of(&cost),
        [
            ("claude-haiku-4.5".to_owned(), 1000),
            ("claude-sonnet-4.6".to_owned(), 500)
        ],
        "{cost:#}"
    );

    let either = json!({"claude-sonnet-4.6": sonnet((0, 0)), "claude-haiku-4.5": usage(3000, 300)});
    let session = "96ef38f0-9d09-45c3-8124-6448c36090e5";
    import_with_a_record_of_no_model(&env, session, Written::AfterTheModel, &either);
    let cost = assert_counted_as_the_shutdown(&env, session, &either);
    assert_eq!(
        models_of(&cost),
        [
            ("claude-haiku-4.5".to_owned(), 3000),
            ("claude-sonnet-4.6".to_owned(), 186_809 - 151_738)
        ],
        "{cost:#}"
    );
}
