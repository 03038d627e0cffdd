//! `export --metrics`: one OTLP gauge point per session for each figure a dashboard plots
//! across sessions (cost, error rate, retry rate, blast radius, duration) and one per eval
//! judge, as an `ExportMetricsServiceRequest`.
//!
//! The figures are the ones the other commands already compute from the index's summaries:
//! cost as `list` and `sample` price a summary ([`Summary::cost`]), the rates, blast radius and
//! duration as `drift` reads them ([`SessionFigures`]); eval scores are `eval`'s reports,
//! which the caller hands in. So a metrics export of ten thousand sessions reads the index
//! once, and the numbers agree with what `drift`, `sample` and `eval` print.
//!
//! A cost that counts a model with no known price at $0 cannot be marked as the terminal marks
//! it (`$0.0000?`): its point carries [`UNPRICED_MODELS`], the models left out, instead.
//!
//! Each point carries the session's id, agent and main model as attributes and is stamped
//! with the session's end (its last event for one that did not end), so a backend plots each
//! session where it finished; a gauge, since each point is one session's figure, not a running
//! total.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, any_value,
};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde::{Deserialize, Serialize};

use super::otlp::nanos;
use crate::analysis::drift::SessionFigures;
use crate::analysis::eval::EvalReport;
use crate::model::SessionMeta;
use crate::model::meta::believed_time;
use crate::model::pricing::PriceTable;
use crate::model::seconds::to_millis;
use crate::model::summary::Summary;

pub const COST_USD: &str = "agent_strace.session.cost_usd";
pub const ERROR_RATE: &str = "agent_strace.session.error_rate";
pub const RETRY_RATE: &str = "agent_strace.session.retry_rate";
pub const BLAST_RADIUS: &str = "agent_strace.session.blast_radius";
pub const DURATION_S: &str = "agent_strace.session.duration_s";
pub const EVAL_SCORE: &str = "agent_strace.eval.score";

/// The attribute of a [`COST_USD`] point that names the models (a string array) whose usage has
/// no known price and is counted at $0; absent when every model is priced.
pub const UNPRICED_MODELS: &str = "agent_strace.cost.unpriced_models";

/// The attribute of a [`COST_USD`] point (a boolean, `true`) saying its cost is estimated from
/// payload sizes, no usage being recorded in the store, where `list` writes `~` (a hook
/// session's, which `cost` prices from its transcript); absent when usage was recorded.
pub const ESTIMATED: &str = "agent_strace.cost.estimated";

/// What a warning about a session whose recorded start or end no session can have says is done
/// with it: its points are stamped by its events instead (or by its start, when no event time
/// is known).
pub const UNTIMED: &str = "its points are stamped by its events";

/// The judge name of an eval's weighted score (the scorers' scores are named by their type).
pub const OVERALL: &str = "overall";

/// One eval judge's score of a session, with its reason (the weighted score's is the verdict).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeScore {
    pub judge: String,
    pub score: f64,
    #[serde(default)]
    pub reason: String,
}

/// An eval report's judges: each scorer (two of one type told apart as `regex#2`) and the
/// weighted score as [`OVERALL`].
pub fn judges(report: &EvalReport) -> Vec<JudgeScore> {
    let mut judges: Vec<JudgeScore> = Vec::new();
    for result in &report.results {
        let mut judge = result.scorer.clone();
        let mut n = 2;
        while judges.iter().any(|j| j.judge == judge) {
            judge = format!("{}#{n}", result.scorer);
            n += 1;
        }
        judges.push(JudgeScore {
            judge,
            score: result.score,
            reason: result.reason.clone(),
        });
    }
    // Every scorer weighing 0 gives no weighted score: a 0 exported would read as a failure.
    if let Some(score) = report.weighted_score {
        judges.push(JudgeScore {
            judge: OVERALL.to_owned(),
            score,
            reason: format!("{:?}", report.verdict).to_lowercase(),
        });
    }
    judges
}

/// What is exported of one session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionMetrics {
    pub session_id: String,
    pub agent: String,
    pub model: Option<String>,
    pub started_unix_nano: u64,
    pub ended_unix_nano: u64,
    pub cost_usd: f64,
    /// Models whose usage has no known price, in name order: `cost_usd` counts them at $0.
    pub cost_unpriced_models: Vec<String>,
    /// `cost_usd` is estimated from payload sizes: the session recorded no usage.
    pub cost_estimated: bool,
    pub error_rate: f64,
    pub retry_rate: f64,
    /// Distinct files written.
    pub blast_radius: u64,
    /// Unknown when the session's times are not believed ([`SessionFigures::duration_secs`]):
    /// the session then has no duration point.
    pub duration_s: Option<f64>,
    pub eval: Vec<JudgeScore>,
}

impl SessionMetrics {
    /// A session's figures from its metadata and its summary (as the index keeps them).
    pub fn of(meta: &SessionMeta, summary: &Summary, prices: &PriceTable) -> SessionMetrics {
        let figures = SessionFigures::of(meta.started_at, summary);
        // Times no session can have are left to the events (see [`UNTIMED`]).
        // So are the events': one stamped in milliseconds stamped the points at u64::MAX
        // nanoseconds.
        let started = meta
            .believed_start()
            .or(summary.counters.first_timestamp.and_then(believed_time))
            .unwrap_or_default();
        let ended = meta
            .ended_at
            .filter(|_| meta.unbelievable().believes_times())
            .or(summary.counters.believed_last())
            .unwrap_or(started);
        SessionMetrics {
            session_id: meta.session_id.clone(),
            agent: meta.agent_name.clone(),
            model: summary.main_model().map(str::to_owned),
            started_unix_nano: nanos(started),
            ended_unix_nano: nanos(ended),
            cost_usd: summary.cost(prices).usd(),
            cost_unpriced_models: summary.unpriced(prices).map(str::to_owned).collect(),
            cost_estimated: !summary.has_usage(),
            error_rate: figures.error_rate,
            retry_rate: figures.retry_rate,
            blast_radius: figures.files_written,
            // To the millisecond, as `stats` gives it: more digits are float noise.
            duration_s: figures.duration_secs.map(to_millis),
            eval: Vec::new(),
        }
    }

    /// Adds eval judges' scores ([`judges`]).
    #[must_use]
    pub fn with_eval(mut self, judges: Vec<JudgeScore>) -> SessionMetrics {
        self.eval = judges;
        self
    }

    fn attributes(&self) -> Vec<KeyValue> {
        let mut attributes = vec![
            string("session.id", &self.session_id),
            string("gen_ai.agent.name", &self.agent),
        ];
        if let Some(model) = &self.model {
            attributes.push(string("gen_ai.request.model", model));
        }
        attributes
    }
}

fn string(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..KeyValue::default()
    }
}

fn boolean(key: &str, value: bool) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::BoolValue(value)),
        }),
        ..KeyValue::default()
    }
}

fn strings(key: &str, values: &[String]) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::ArrayValue(ArrayValue {
                values: values
                    .iter()
                    .map(|v| AnyValue {
                        value: Some(any_value::Value::StringValue(v.clone())),
                    })
                    .collect(),
            })),
        }),
        ..KeyValue::default()
    }
}

/// The metrics of `sessions` as one OTLP request from `service_name`; sessions in the order
/// given, metrics in a fixed order, and no metric without points.
pub fn request(
    sessions: &[SessionMetrics],
    service_name: &str,
    version: &str,
) -> ExportMetricsServiceRequest {
    let point = |s: &SessionMetrics, value: f64, extra: Vec<KeyValue>| NumberDataPoint {
        attributes: s.attributes().into_iter().chain(extra).collect(),
        start_time_unix_nano: s.started_unix_nano,
        time_unix_nano: s.ended_unix_nano,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..NumberDataPoint::default()
    };
    let gauge = |name: &str, description: &str, unit: &str, points: Vec<NumberDataPoint>| Metric {
        name: name.to_owned(),
        description: description.to_owned(),
        unit: unit.to_owned(),
        data: Some(metric::Data::Gauge(Gauge {
            data_points: points,
        })),
        ..Metric::default()
    };
    let each = |f: fn(&SessionMetrics) -> f64| -> Vec<NumberDataPoint> {
        sessions
            .iter()
            .map(|s| point(s, f(s), Vec::new()))
            .collect()
    };
    let costs = sessions
        .iter()
        .map(|s| {
            let unpriced = (!s.cost_unpriced_models.is_empty())
                .then(|| strings(UNPRICED_MODELS, &s.cost_unpriced_models));
            let estimated = s.cost_estimated.then(|| boolean(ESTIMATED, true));
            point(
                s,
                s.cost_usd,
                unpriced.into_iter().chain(estimated).collect(),
            )
        })
        .collect();
    let mut metrics = vec![
        gauge(
            COST_USD,
            "What the session cost, at the built-in prices; the usage of models with no known price (agent_strace.cost.unpriced_models) is counted at $0, and a session that recorded no usage is estimated from payload sizes (agent_strace.cost.estimated).",
            "USD",
            costs,
        ),
        gauge(
            ERROR_RATE,
            "Failed tool calls per tool call.",
            "1",
            each(|s| s.error_rate),
        ),
        gauge(
            RETRY_RATE,
            "Retried tool calls per tool call.",
            "1",
            each(|s| s.retry_rate),
        ),
        gauge(
            BLAST_RADIUS,
            "Distinct files the session wrote.",
            "{file}",
            each(|s| s.blast_radius as f64),
        ),
        gauge(
            DURATION_S,
            "From the session's first event to its last.",
            "s",
            sessions
                .iter()
                .filter_map(|s| Some(point(s, s.duration_s?, Vec::new())))
                .collect(),
        ),
    ];
    let scores: Vec<NumberDataPoint> = sessions
        .iter()
        .flat_map(|s| {
            s.eval.iter().map(move |j| {
                point(
                    s,
                    j.score,
                    vec![string("agent_strace.eval.judge", &j.judge)],
                )
            })
        })
        .collect();
    metrics.push(gauge(
        EVAL_SCORE,
        "An eval judge's score of the session, from 0 to 1.",
        "1",
        scores,
    ));
    metrics.retain(|m| match &m.data {
        Some(metric::Data::Gauge(g)) => !g.data_points.is_empty(),
        _ => false,
    });
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![string("service.name", service_name)],
                ..Resource::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "agent-strace".to_owned(),
                    version: version.to_owned(),
                    ..InstrumentationScope::default()
                }),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::eval::{ScoreResult, Verdict};
    use crate::model::tools::Agent;
    use crate::model::{Event, EventType};
    use serde_json::json;

    fn summary() -> (SessionMeta, Summary) {
        let mut meta = SessionMeta::new("s1", 100.0);
        meta.agent_name = "claude-code".into();
        meta.ended_at = Some(160.0);
        let mut summary = Summary::default();
        let mut t = 100.0;
        // A result answers the call just before it.
        let mut push = |kind: EventType, data: serde_json::Value| {
            let mut e = Event::new(kind, t, format!("e{t}"), "s1".into());
            if matches!(e.event_type, EventType::ToolResult | EventType::Error) {
                e.parent_id = Some(format!("e{}", t - 10.0));
            }
            e.data = data;
            summary.observe(Agent::ClaudeCode, &e, 1e9);
            t += 10.0;
        };
        push(
            EventType::ToolCall,
            json!({"tool_name": "Bash", "arguments": {"command": "cargo test"}}),
        );
        push(
            EventType::Error,
            json!({"tool_name": "Bash", "error": "failed"}),
        );
        push(
            EventType::ToolCall,
            json!({"tool_name": "Bash", "arguments": {"command": "cargo test"}}),
        );
        push(
            EventType::ToolResult,
            json!({"tool_name": "Bash", "result": "ok"}),
        );
        push(EventType::FileWrite, json!({"path": "src/a.rs"}));
        push(EventType::FileWrite, json!({"path": "src/b.rs"}));
        push(EventType::FileWrite, json!({"path": "src/a.rs"}));
        (meta, summary)
    }

    #[test]
    #[expect(clippy::float_cmp, reason = "the same computation gives the same bits")]
    fn figures_are_drifts_and_the_point_is_at_the_end() {
        let (meta, summary) = summary();
        let m = SessionMetrics::of(&meta, &summary, PriceTable::builtin());
        let figures = SessionFigures::of(meta.started_at, &summary);
        assert_eq!(m.blast_radius, 2);
        assert_eq!(m.error_rate, figures.error_rate);
        assert!(m.error_rate > 0.0);
        assert_eq!(m.retry_rate, figures.retry_rate);
        assert!(m.retry_rate > 0.0);
        assert_eq!(m.ended_unix_nano, 160_000_000_000);
        assert_eq!(m.cost_usd, summary.cost(PriceTable::builtin()).usd());
    }

    #[test]
    fn the_request_has_one_gauge_per_figure_with_attributes() {
        let (meta, summary) = summary();
        let report = EvalReport {
            session_id: "s1".into(),
            passed: false,
            pass_count: 1,
            fail_count: 1,
            weighted_score: Some(0.5),
            verdict: Verdict::Fail,
            pass_mark: 0.85,
            warn_mark: 0.7,
            default_scorer: None,
            results: ["no_errors", "regex", "regex"]
                .iter()
                .enumerate()
                .map(|(i, s)| ScoreResult {
                    scorer: (*s).into(),
                    score: i as f64 / 2.0,
                    threshold: 1.0,
                    weight: 1.0,
                    passed: false,
                    reason: String::new(),
                    value: None,
                })
                .collect(),
        };
        let m =
            SessionMetrics::of(&meta, &summary, PriceTable::builtin()).with_eval(judges(&report));
        let req = request(&[m], "agent-strace", "0.1.0");
        let metrics = &req.resource_metrics[0].scope_metrics[0].metrics;
        let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                COST_USD,
                ERROR_RATE,
                RETRY_RATE,
                BLAST_RADIUS,
                DURATION_S,
                EVAL_SCORE
            ]
        );
        let Some(metric::Data::Gauge(scores)) = &metrics[5].data else {
            panic!("not a gauge")
        };
        let judges: Vec<String> = scores
            .data_points
            .iter()
            .map(|p| {
                let kv = p
                    .attributes
                    .iter()
                    .find(|a| a.key == "agent_strace.eval.judge");
                match kv
                    .and_then(|a| a.value.as_ref())
                    .and_then(|v| v.value.as_ref())
                {
                    Some(any_value::Value::StringValue(s)) => s.clone(),
                    _ => String::new(),
                }
            })
            .collect();
        assert_eq!(judges, ["no_errors", "regex", "regex#2", "overall"]);
        let point = &scores.data_points[1];
        assert_eq!(point.value, Some(number_data_point::Value::AsDouble(0.5)));
        assert_eq!(point.time_unix_nano, 160_000_000_000);
        assert!(point.attributes.iter().any(|a| a.key == "session.id"));
    }

    #[test]
    fn no_sessions_is_no_metric() {
        let req = request(&[], "agent-strace", "0.1.0");
        assert!(req.resource_metrics[0].scope_metrics[0].metrics.is_empty());
    }
}
