//! What an OTLP/HTTP backend's success (2xx) answer says it did not take: the partial success
//! of OTLP's `Export…ServiceResponse`, read from protobuf or OTLP/JSON.
//!
//! OTLP answers 200 to a request it took in part, with `partial_success` holding how many items
//! it rejected (`rejected_spans`, `rejected_data_points`, `rejected_log_records`) and why; one
//! that rejected none may still say something there (a warning). Our own collector answers so
//! for records it refuses (docs/otel.md, "Refused records").

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use serde_json::Value;

/// The OTLP signal a request carried: it names the count its answer gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    /// What one item of the signal is called in a count ("8 spans").
    pub fn item(self) -> &'static str {
        match self {
            Signal::Traces => "span",
            Signal::Metrics => "metric point",
            Signal::Logs => "log record",
        }
    }

    /// The rejected count's field in OTLP/JSON: lowerCamelCase, as the proto3 JSON mapping
    /// writes it, and the proto's own name, which its parsers take too.
    fn rejected_keys(self) -> [&'static str; 2] {
        match self {
            Signal::Traces => ["rejectedSpans", "rejected_spans"],
            Signal::Metrics => ["rejectedDataPoints", "rejected_data_points"],
            Signal::Logs => ["rejectedLogRecords", "rejected_log_records"],
        }
    }
}

/// A partial success: how many items the backend rejected (0 when it took them all and only
/// says something) and what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialSuccess {
    pub rejected: i64,
    pub message: String,
}

/// The partial success of `body`, the 2xx answer to a request of `signal` sent as JSON (`json`)
/// or protobuf; `None` when it says neither a rejection nor a message. The answer is read in
/// the request's encoding, as OTLP/HTTP asks, else in the other one (Langfuse answers JSON to
/// protobuf). An answer that is neither (a backend's own text) says nothing OTLP reads: the
/// request was taken.
pub fn partial_success(body: &[u8], signal: Signal, json: bool) -> Option<PartialSuccess> {
    let found = if json {
        from_json(body, signal).or_else(|| from_protobuf(body, signal))
    } else {
        from_protobuf(body, signal).or_else(|| from_json(body, signal))
    };
    found.filter(|p| p.rejected > 0 || !p.message.trim().is_empty())
}

fn from_protobuf(body: &[u8], signal: Signal) -> Option<PartialSuccess> {
    match signal {
        Signal::Traces => ExportTraceServiceResponse::decode(body)
            .ok()?
            .partial_success
            .map(|p| PartialSuccess {
                rejected: p.rejected_spans,
                message: p.error_message,
            }),
        Signal::Metrics => ExportMetricsServiceResponse::decode(body)
            .ok()?
            .partial_success
            .map(|p| PartialSuccess {
                rejected: p.rejected_data_points,
                message: p.error_message,
            }),
        Signal::Logs => ExportLogsServiceResponse::decode(body)
            .ok()?
            .partial_success
            .map(|p| PartialSuccess {
                rejected: p.rejected_log_records,
                message: p.error_message,
            }),
    }
}

fn from_json(body: &[u8], signal: Signal) -> Option<PartialSuccess> {
    let answer: Value = serde_json::from_slice(body).ok()?;
    let partial = field(&answer, ["partialSuccess", "partial_success"])?;
    let rejected = match field(partial, signal.rejected_keys()) {
        // An int64 is a string in OTLP/JSON; a number is taken too.
        Some(Value::String(n)) => n.trim().parse().ok()?,
        Some(Value::Number(n)) => n.as_i64()?,
        Some(Value::Null) | None => 0,
        Some(_) => return None,
    };
    let message = match field(partial, ["errorMessage", "error_message"]) {
        Some(Value::String(m)) => m.clone(),
        _ => String::new(),
    };
    Some(PartialSuccess { rejected, message })
}

/// The first of `keys` that `value`, an object, holds.
fn field<'v>(value: &'v Value, keys: [&str; 2]) -> Option<&'v Value> {
    keys.iter().find_map(|k| value.get(k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTracePartialSuccess;

    #[test]
    fn json_answers_give_their_rejections_in_either_spelling() {
        let camel = br#"{"partialSuccess":{"rejectedSpans":"5","errorMessage":"nope"}}"#;
        assert_eq!(
            partial_success(camel, Signal::Traces, true),
            Some(PartialSuccess {
                rejected: 5,
                message: "nope".into()
            })
        );
        let snake = br#"{"partial_success":{"rejected_data_points":2}}"#;
        assert_eq!(
            partial_success(snake, Signal::Metrics, false).map(|p| p.rejected),
            Some(2)
        );
        // Another signal's count is no rejection of this one's.
        assert_eq!(partial_success(snake, Signal::Traces, true), None);
        let warning = br#"{"partialSuccess":{"errorMessage":"slow down"}}"#;
        assert_eq!(
            partial_success(warning, Signal::Logs, true).map(|p| (p.rejected, p.message)),
            Some((0, "slow down".into()))
        );
    }

    #[test]
    fn protobuf_answers_are_read_and_plain_successes_say_nothing() {
        let answer = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: 3,
                error_message: "no session".into(),
            }),
        }
        .encode_to_vec();
        assert_eq!(
            partial_success(&answer, Signal::Traces, false).map(|p| p.rejected),
            Some(3)
        );
        for body in [
            &b""[..],
            b"{}",
            b"OK",
            b"{\"partial",
            b"{\"partialSuccess\":{}}",
        ] {
            assert_eq!(partial_success(body, Signal::Traces, false), None);
            assert_eq!(partial_success(body, Signal::Traces, true), None);
        }
    }
}
