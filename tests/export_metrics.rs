//! `export --metrics` (issue 14): per-session OTLP gauges of the sessions of a window, printed
//! as OTLP/JSON or sent to an OTLP/HTTP endpoint as protobuf.

use agent_strace::model::Tokens;
use agent_strace::model::pricing::PriceTable;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use prost::Message;
use serde_json::{Value, json};

use crate::common::{SessionBuilder, TestEnv};
use crate::export_langfuse::Stub;

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

const TOKENS: Tokens = Tokens {
    input: 1000,
    output: 500,
    cache_creation: 0,
    cache_creation_1h: 0,
    cache_read: 0,
    reasoning: 0,
};

/// A troubled session two days old (4 calls, 1 failed and retried, 2 files written, 100 s), a
/// clean one a day old, and one 60 days old.
fn sessions(env: &TestEnv) -> (f64, f64) {
    let troubled_start = now() - 2.0 * 86_400.0;
    SessionBuilder::new("m-troubled")
        .started(troubled_start)
        .meta(|m| m.agent_name = "claude-code".into())
        .tool_call("Bash", json!({"command": "cargo test"}))
        .at(10.0)
        .error("exit 101")
        .at(20.0)
        .tool_call(
            "Edit",
            json!({"file_path": "src/a.rs", "old_string": "a", "new_string": "b"}),
        )
        .file_write("src/a.rs")
        .at(30.0)
        .tool_call("Write", json!({"file_path": "src/b.rs", "content": "x"}))
        .file_write("src/b.rs")
        .at(40.0)
        .tool_call("Bash", json!({"command": "cargo test"}))
        .at(50.0)
        .result(json!("ok"))
        .llm_response("claude-sonnet-4-5", TOKENS)
        .at(100.0)
        .session_end(json!({}))
        .write(env);
    let clean_start = now() - 86_400.0;
    SessionBuilder::new("m-clean")
        .started(clean_start)
        .meta(|m| m.agent_name = "claude-code".into())
        .tool_call("Read", json!({"file_path": "README.md"}))
        .at(5.0)
        .result(json!("hello"))
        .session_end(json!({}))
        .write(env);
    SessionBuilder::new("m-old")
        .started(now() - 60.0 * 86_400.0)
        .tool_call("Read", json!({"file_path": "README.md"}))
        .write(env);
    (troubled_start, clean_start)
}

/// Every point of `request` as (metric, session id, judge, value, time).
fn points(request: &Value) -> Vec<(String, String, Option<String>, f64, u64)> {
    let mut out = Vec::new();
    for rm in request["resourceMetrics"].as_array().unwrap() {
        for sm in rm["scopeMetrics"].as_array().unwrap() {
            for m in sm["metrics"].as_array().unwrap() {
                for p in m["gauge"]["dataPoints"].as_array().unwrap() {
                    let attr = |k: &str| {
                        p["attributes"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .find(|a| a["key"] == k)
                            .map(|a| a["value"]["stringValue"].as_str().unwrap().to_owned())
                    };
                    let time = match &p["timeUnixNano"] {
                        Value::String(s) => s.parse().unwrap(),
                        v => v.as_u64().unwrap(),
                    };
                    out.push((
                        m["name"].as_str().unwrap().to_owned(),
                        attr("session.id").unwrap(),
                        attr("agent_strace.eval.judge"),
                        p["asDouble"].as_f64().unwrap(),
                        time,
                    ));
                }
            }
        }
    }
    out
}

fn value(
    points: &[(String, String, Option<String>, f64, u64)],
    metric: &str,
    session: &str,
    judge: Option<&str>,
) -> f64 {
    let found: Vec<_> = points
        .iter()
        .filter(|p| p.0 == metric && p.1 == session && p.2.as_deref() == judge)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{metric} of {session} ({judge:?}): {points:?}"
    );
    found[0].3
}

#[test]
fn each_session_of_the_window_is_a_point_of_each_gauge() {
    let env = TestEnv::new();
    let (troubled_start, _) = sessions(&env);
    let run = env.run(&["export", "--metrics", "--backend", "otlp"]);
    run.success();
    let request = run.json();
    let points = points(&request);
    let sessions: std::collections::BTreeSet<&str> = points.iter().map(|p| p.1.as_str()).collect();
    // The default window is 30 days: the old session is not there.
    assert_eq!(
        sessions.into_iter().collect::<Vec<_>>(),
        ["m-clean", "m-troubled"]
    );
    let v = |metric: &str, session: &str| value(&points, metric, session, None);
    assert!((v("agent_strace.session.error_rate", "m-troubled") - 0.25).abs() < 1e-9);
    assert!((v("agent_strace.session.retry_rate", "m-troubled") - 0.25).abs() < 1e-9);
    assert!((v("agent_strace.session.blast_radius", "m-troubled") - 2.0).abs() < 1e-9);
    assert!((v("agent_strace.session.duration_s", "m-troubled") - 100.0).abs() < 1e-6);
    let price = PriceTable::builtin().find("claude-sonnet-4-5").unwrap();
    let expected = price.cost(&TOKENS, false).usd();
    assert!((v("agent_strace.session.cost_usd", "m-troubled") - expected).abs() < 1e-9);
    assert!(v("agent_strace.session.error_rate", "m-clean").abs() < 1e-12);
    // eval's default judge: no errors.
    let judge =
        |session: &str, j: &str| value(&points, "agent_strace.eval.score", session, Some(j));
    assert!(judge("m-troubled", "no_errors").abs() < 1e-12);
    assert!((judge("m-clean", "no_errors") - 1.0).abs() < 1e-12);
    assert!((judge("m-clean", "overall") - 1.0).abs() < 1e-12);
    // Stamped at the session's end.
    let end = points
        .iter()
        .find(|p| p.0 == "agent_strace.session.cost_usd" && p.1 == "m-troubled")
        .unwrap()
        .4;
    assert!(((end as f64 / 1e9) - (troubled_start + 100.0)).abs() < 1e-3);
    // A wider window takes the old session in; a second run (from the index's cache of eval
    // scores) gives the same points.
    let all = env.run(&["export", "--metrics", "--since", "90d"]).json();
    assert!(self::points(&all).iter().any(|p| p.1 == "m-old"));
    let again = env
        .run(&["export", "--metrics", "--backend", "otlp"])
        .json();
    assert_eq!(self::points(&again), points);
}

/// `--output FILE` writes the metrics there, as it writes a session's export: `--metrics`
/// refused it (clap's "cannot be used with"), the help naming it for every export. A file in
/// the store is refused as for a session's export.
#[test]
fn the_metrics_go_to_the_output_file() {
    let env = TestEnv::new();
    sessions(&env);
    let printed = env.run(&["export", "--metrics"]);
    printed.success();
    let file = env.path().join("metrics.json");
    let written = env.run(&["export", "--metrics", "-o", file.to_str().unwrap()]);
    written.success();
    assert_eq!(written.stdout, "");
    let in_file: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(in_file, printed.json());
    let inside = env.store().join("metrics.json");
    env.run(&["export", "--metrics", "-o", inside.to_str().unwrap()])
        .fails_with(2, "");
    assert!(!inside.exists());
}

#[test]
fn with_an_endpoint_the_metrics_are_sent_as_protobuf() {
    let env = TestEnv::new();
    sessions(&env);
    let stub = Stub::start(|_| (200, "{}".to_owned()));
    let url = stub.url();
    let run = env.run(&["export", "--metrics", "--endpoint", &url]);
    run.success();
    let printed = env.run(&["export", "--metrics"]).json();
    let requests = stub.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/metrics");
    assert_eq!(
        requests[0].header("content-type"),
        Some("application/x-protobuf")
    );
    let sent = ExportMetricsServiceRequest::decode(&requests[0].body[..]).unwrap();
    // What was sent is what is printed.
    assert_eq!(
        points(&serde_json::to_value(&sent).unwrap()),
        points(&printed)
    );
    // An endpoint that refuses: one error, exit code 4.
    let refusing = Stub::start(|_| (400, "{\"error\":\"bad\"}".to_owned()));
    let run = env.run(&["export", "--metrics", "--endpoint", &refusing.url()]);
    assert_eq!(run.code, 4, "{run:?}");
    assert!(run.stderr.contains("HTTP 400"), "{}", run.stderr);
    // --metrics takes no session and no Langfuse.
    assert_eq!(env.run(&["export", "m-clean", "--metrics"]).code, 2);
    assert_eq!(
        env.run(&["export", "--metrics", "--backend", "langfuse"])
            .code,
        2
    );
}

/// A cost point of a session of `aide-gpt-5` (no known price) was a plain 0: a metric cannot
/// carry the terminal's `?`, so the point names the models counted at $0 in an attribute.
/// A root endpoint with a query (a gateway's key) gets `/v1/metrics` before its query: the
/// points went to `/?k=1`.
#[test]
fn a_root_endpoint_with_a_query_gets_v1_metrics_before_it() {
    let env = TestEnv::new();
    sessions(&env);
    let stub = Stub::start(|_| (200, "{}".to_owned()));
    let url = format!("{}/?k=1", stub.url().trim_end_matches('/'));
    env.run(&["export", "--metrics", "--endpoint", &url])
        .success();
    let requests = stub.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/metrics?k=1");
}

#[test]
fn a_cost_point_names_the_models_it_counts_at_zero_for_want_of_a_price() {
    use crate::common::import_unpriced_and_priced;

    let env = TestEnv::new();
    let (unpriced, priced) = import_unpriced_and_priced(&env);
    let request = env
        .run(&["export", "--metrics", "--since", "2025-01-01"])
        .success()
        .json();
    let cost = request["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "agent_strace.session.cost_usd")
        .unwrap();
    let models = |id: &str| {
        let point = cost["gauge"]["dataPoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| {
                p["attributes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a["key"] == "session.id" && a["value"]["stringValue"] == id)
            })
            .unwrap();
        point["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == "agent_strace.cost.unpriced_models")
            .map(|a| a["value"]["arrayValue"]["values"].clone())
    };
    assert_eq!(
        models(&unpriced),
        Some(json!([{"stringValue": "aide-gpt-5"}]))
    );
    assert_eq!(models(&priced), None);
}

/// A session of two calls, one failed, whose turn then ended on an API error (StopFailure): its
/// error rate was 1, the API's error counted as a failed call, and a session whose every call
/// went well scored 0 on `no_errors` for such an error. They are no call's.
#[test]
fn an_api_error_that_ended_a_turn_is_no_failed_call_in_the_metrics() {
    let env = TestEnv::new();
    let start = now() - 86_400.0;
    SessionBuilder::new("m-failed")
        .started(start)
        .tool_call("Bash", json!({"command": "make"}))
        .error("exit 2")
        .tool_call("Bash", json!({"command": "ls"}))
        .result(json!("ok"))
        .turn_error("API Error: 529 Overloaded")
        .write(&env);
    SessionBuilder::new("m-served")
        .started(start)
        .tool_call("Bash", json!({"command": "ls"}))
        .result(json!("ok"))
        .turn_error("API Error: 529 Overloaded")
        .write(&env);
    for pass in ["indexed", "scanned"] {
        if pass == "scanned" {
            env.unusable_index();
        }
        let run = env.run(&["export", "--metrics", "--backend", "otlp"]);
        run.success();
        let points = points(&run.json());
        let v = |metric: &str, session: &str| value(&points, metric, session, None);
        assert!(
            (v("agent_strace.session.error_rate", "m-failed") - 0.5).abs() < 1e-9,
            "{pass}"
        );
        assert!(
            v("agent_strace.session.error_rate", "m-served").abs() < 1e-12,
            "{pass}"
        );
        let judge = value(
            &points,
            "agent_strace.eval.score",
            "m-served",
            Some("no_errors"),
        );
        assert!((judge - 1.0).abs() < 1e-12, "{pass}");
    }
}

/// One event stamped in milliseconds (or in the year -10^292) gave a duration of 56,000 years
/// (or 1e300 s) and stamped every point at u64::MAX nanoseconds. Times no session can have are
/// not believed: the duration and the points' times are the believed events', as the trace
/// places such an event, by the events before it.
#[test]
fn an_event_at_a_time_no_session_can_have_times_no_point() {
    let env = TestEnv::new();
    let start = now() - 86_400.0;
    SessionBuilder::new("m-millis")
        .started(start)
        .prompt("hi")
        .at(1.0)
        .answer("hello")
        .at(start * 999.0)
        .answer("stamped in milliseconds")
        .write(&env);
    // The event before the one stamped in milliseconds is not the latest: the session ran
    // until the latest time believed, wherever in the file it stands (the builder writes its
    // events in time order, so these are written as a file holds them).
    let unordered = env.store().join("m-unordered");
    std::fs::create_dir_all(&unordered).unwrap();
    std::fs::write(
        unordered.join("meta.json"),
        json!({"session_id": "m-unordered", "started_at": start, "agent_name": "claude-code"})
            .to_string(),
    )
    .unwrap();
    let line = |id: &str, at: f64| {
        json!({"event_type": "assistant_response", "timestamp": at, "event_id": id,
            "session_id": "m-unordered", "data": {"text": id}})
        .to_string()
            + "\n"
    };
    std::fs::write(
        unordered.join("events.ndjson"),
        [
            line("first", start),
            line("latest", start + 30.0),
            line("written-after-stamped-before", start + 1.0),
            line("milliseconds", start * 1000.0),
        ]
        .concat(),
    )
    .unwrap();
    SessionBuilder::new("m-ancient")
        .started(start)
        .at(-1e300 - start)
        .prompt("stamped in the year -10^292")
        .at(0.0)
        .prompt("hi")
        .at(2.0)
        .answer("hello")
        .write(&env);
    // A session whose every event's time is unknown (the Python tool's `NaN`) ran for a time
    // not known: it has no duration point, as the docs say, not one of 0 s.
    let untimed = env.store().join("m-untimed");
    std::fs::create_dir_all(&untimed).unwrap();
    std::fs::write(
        untimed.join("meta.json"),
        json!({"session_id": "m-untimed", "started_at": start, "agent_name": "claude-code"})
            .to_string(),
    )
    .unwrap();
    std::fs::write(
        untimed.join("events.ndjson"),
        "{\"event_type\":\"user_prompt\",\"timestamp\":NaN,\"event_id\":\"u1\",\"session_id\":\"m-untimed\",\"data\":{\"prompt\":\"hi\"}}\n",
    )
    .unwrap();
    let run = env.run(&["export", "--metrics"]);
    run.success();
    let points = points(&run.json());
    assert!(
        points.iter().any(|p| p.1 == "m-untimed"),
        "the untimed session is exported: {points:?}"
    );
    assert!(
        !points
            .iter()
            .any(|p| p.0 == "agent_strace.session.duration_s" && p.1 == "m-untimed"),
        "{points:?}"
    );
    for (session, believed_span) in [("m-millis", 1.0), ("m-unordered", 30.0), ("m-ancient", 2.0)] {
        let duration = value(&points, "agent_strace.session.duration_s", session, None);
        assert!(
            (duration - believed_span).abs() < 1e-3,
            "{session}: {points:?}"
        );
        for point in points.iter().filter(|p| p.1 == session) {
            let at = point.4 as f64 / 1e9;
            assert!(
                at >= start - 1e-3 && at <= start + believed_span + 1e-3,
                "{session}: {point:?}"
            );
        }
    }
}

/// The retry rate (the index's count of retries) counted a read of a file whose read in a
/// parallel batch Claude Code had cancelled because another read failed: a result answered the
/// batch's last call, whichever it was, and a cancelled call counted as failed. Each result
/// now answers its own call, and a cancelled call neither failed nor passed.
#[test]
fn a_read_cancelled_for_a_siblings_failure_is_no_retry() {
    let env = TestEnv::new();
    let (mut s, _) = SessionBuilder::new("m-batch")
        .started(now() - 3_600.0)
        .meta(|m| m.agent_name = "claude-code".into())
        .prompt("read them")
        .batch_failing_first(
            "Read",
            &["/w/a.rs", "/w/b.rs", "/w/c.rs"],
            "File does not exist.",
        );
    for file in ["/w/b.rs", "/w/c.rs"] {
        s = s
            .tool_call("Read", json!({"file_path": file}))
            .result(json!("fn f() {}"));
    }
    s.session_end(json!({})).write(&env);
    let rate = |env: &TestEnv| {
        let run = env.run(&["export", "--metrics", "--backend", "otlp"]);
        run.success();
        value(
            &points(&run.json()),
            "agent_strace.session.retry_rate",
            "m-batch",
            None,
        )
    };
    assert!(rate(&env).abs() < 1e-12, "no call was tried again");

    // Reading the missing file again is a retry: one of four calls.
    let env = TestEnv::new();
    let (s, _) = SessionBuilder::new("m-batch")
        .started(now() - 3_600.0)
        .meta(|m| m.agent_name = "claude-code".into())
        .prompt("read them")
        .batch_failing_first("Read", &["/w/a.rs", "/w/b.rs"], "File does not exist.");
    s.tool_call("Read", json!({"file_path": "/w/b.rs"}))
        .result(json!("fn b() {}"))
        .tool_call("Read", json!({"file_path": "/w/a.rs"}))
        .error("File does not exist.")
        .session_end(json!({}))
        .write(&env);
    assert!((rate(&env) - 0.25).abs() < 1e-12, "{}", rate(&env));
}

/// A backend that takes the metrics in part answers 200 with OTLP's partial success: it read
/// "Sent N metric points", exit 0, as if all were taken.
#[test]
fn points_a_backend_rejects_in_its_success_answer_are_an_error_naming_them() {
    let env = TestEnv::new();
    sessions(&env);
    let printed = env.run(&["export", "--metrics"]).json();
    let points = self::points(&printed).len();
    let partly = Stub::start(|_| {
        (
            200,
            json!({"partialSuccess": {"rejectedDataPoints": "3", "errorMessage": "unit {file} unknown"}})
                .to_string(),
        )
    });
    let run = env.run(&["export", "--metrics", "--endpoint", &partly.url()]);
    assert_eq!(run.code, 4, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "rejected 3 of {points} metric points of 2 sessions: unit {{file}} unknown"
        )) && !run.stderr.contains("Sent "),
        "{}",
        run.stderr
    );
}

/// A session the hooks recorded holds no usage: `cost` prices it from its transcript and says
/// so, `list` shows the estimate from payload sizes marked `~`, but the metrics gave the same
/// estimate as a bare cost. Its point says it is an estimate; a recorded cost's does not.
#[test]
fn a_cost_point_says_when_it_is_an_estimate() {
    let env = TestEnv::new();
    let transcript = env.path().join("transcript.jsonl");
    std::fs::copy(
        crate::common::shared().join("corpus/claude-code/marot__spotter/short.jsonl"),
        &transcript,
    )
    .unwrap();
    let hooked = "c7428042-d9a9-4e9e-a71c-4433a8d202c0";
    env.hook_session_with_transcript(hooked, &transcript);
    let recorded = SessionBuilder::new("m-recorded")
        .started(now() - 3600.0)
        .llm_response("claude-sonnet-4-5", TOKENS)
        .write(&env);
    let cost = env
        .run(&["cost", hooked, "--format", "json"])
        .success()
        .json();
    assert_eq!(cost["estimated"], false, "{cost}");
    let listed = env.run(&["list", "--format", "json"]).success().json();
    let listed_estimated = |id: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["session_id"] == id)
            .unwrap()["cost_estimated"]
            .clone()
    };
    assert_eq!(listed_estimated(hooked), true, "{listed}");
    let request = env.run(&["export", "--metrics"]).success().json();
    let cost = request["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "agent_strace.session.cost_usd")
        .unwrap()
        .clone();
    let estimated = |id: &str| {
        let point = cost["gauge"]["dataPoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| {
                p["attributes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a["key"] == "session.id" && a["value"]["stringValue"] == id)
            })
            .unwrap_or_else(|| panic!("{cost}"))
            .clone();
        point["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == "agent_strace.cost.estimated")
            .map(|a| a["value"]["boolValue"].clone())
    };
    assert_eq!(estimated(hooked), Some(json!(true)), "{cost}");
    assert_eq!(estimated(&recorded), None, "{cost}");
}

/// A session dated next year (a clock that was ahead, a log imported from a machine ahead) was
/// exported by `export --metrics --since 7d`, "the last 7 days". A window with no end ends
/// now: it is left out, with the one warning `list` gives.
#[test]
fn the_window_ends_now_and_leaves_out_a_session_dated_after_it() {
    use crate::common::{LEFT_OUT_AS_AHEAD, a_session_now_and_one_next_year};

    let env = TestEnv::new();
    let (now, _) = a_session_now_and_one_next_year(&env);
    let run = env.run(&["export", "--metrics", "--backend", "otlp", "--since", "7d"]);
    run.success();
    let points = points(&run.json());
    let sessions: std::collections::BTreeSet<&str> = points.iter().map(|p| p.1.as_str()).collect();
    assert_eq!(sessions.into_iter().collect::<Vec<_>>(), [now.as_str()]);
    assert!(run.stderr.contains(LEFT_OUT_AS_AHEAD), "{}", run.stderr);
}

/// `export --metrics` made its times of f64 seconds times 1e9 (1770760493.186 s became
/// 1770760493186000128 ns, where the trace export gave 1770760493186000000), and its duration
/// carried the float's noise (538.492999792099 s, where `stats` says 538.493). The times are
/// the trace export's, of one conversion, and the duration is `stats`'.
#[test]
fn the_metrics_times_are_the_trace_exports_and_the_duration_is_stats() {
    let env = TestEnv::new();
    let transcript =
        crate::common::shared().join("corpus/claude-code/marot__spotter/subagent.jsonl");
    env.run(&["import", transcript.to_str().unwrap()]).success();
    let trace = env.run(&["export", "--format", "otlp-genai"]);
    trace.success();
    let nanos = |v: &Value| match v {
        Value::String(s) => s.parse::<u64>().unwrap(),
        v => v.as_u64().unwrap(),
    };
    let trace = trace.json();
    let invoke = trace["resourceSpans"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["scopeSpans"].as_array().unwrap())
        .flat_map(|s| s["spans"].as_array().unwrap())
        .find(|s| s["name"].as_str().unwrap().starts_with("invoke"))
        .unwrap()
        .clone();
    let metrics = env.run(&["export", "--metrics", "--since", "3000d"]);
    metrics.success();
    let metrics = metrics.json();
    let gauges = metrics["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
        .as_array()
        .unwrap();
    for gauge in gauges {
        let point = &gauge["gauge"]["dataPoints"][0];
        assert_eq!(
            (
                nanos(&point["startTimeUnixNano"]),
                nanos(&point["timeUnixNano"])
            ),
            (
                nanos(&invoke["startTimeUnixNano"]),
                nanos(&invoke["endTimeUnixNano"])
            ),
            "{}",
            gauge["name"]
        );
    }
    let duration = gauges
        .iter()
        .find(|g| g["name"] == "agent_strace.session.duration_s")
        .unwrap()["gauge"]["dataPoints"][0]["asDouble"]
        .clone();
    let stats = env.run(&["stats", "--format", "json"]);
    stats.success();
    let stats = stats.json();
    let said = match &stats["duration_s"] {
        Value::Object(o) => o["value"].clone(),
        v => v.clone(),
    };
    assert_eq!(duration, said, "{stats}");
}
