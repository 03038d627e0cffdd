//! A `doubleValue` spelled as a string in an OTLP/JSON body (`"NaN"`, `"Infinity"`,
//! `"-Infinity"`, or a number such as `"1.5"`), which the proto3 JSON mapping allows and the
//! OTLP crate's reader refuses: one such attribute cost the whole request a 400, every other
//! span in it lost.
//!
//! Only a body the crate refused is read again, here: the spelled doubles are written as
//! numbers, a non-finite one as a string value with a mark no string of the body begins with,
//! and once the message is read each marked value is made the double it was.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{Exemplar, metric};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The spellings of a double that is not finite, as proto3's JSON mapping writes them.
const NOT_FINITE: [(&str, f64); 3] = [
    ("NaN", f64::NAN),
    ("Infinity", f64::INFINITY),
    ("-Infinity", f64::NEG_INFINITY),
];

/// A request message whose attribute values can each be visited.
pub trait AnyValues {
    /// Calls `f` on every `AnyValue` of the message, nested ones too.
    fn each_value(&mut self, f: &mut dyn FnMut(&mut AnyValue));
}

/// `body` read as `T` with its spelled doubles taken; `None` when it has none, or is still no
/// `T` (the first reading's error is the one to report).
pub fn read_with_spelled_doubles<T: DeserializeOwned + AnyValues>(body: &[u8]) -> Option<T> {
    let mut json: Value = crate::model::deep_json::from_slice(body).ok()?;
    let mut mark = "\u{0}agent-strace double ".to_owned();
    while any_string_begins_with(&json, &mark) {
        mark.push('~');
    }
    if !unspell(&mut json, &mark) {
        return None;
    }
    let mut message = T::deserialize(json).ok()?;
    message.each_value(&mut |value| {
        if let Some(any_value::Value::StringValue(s)) = &value.value
            && let Some(spelt) = s.strip_prefix(mark.as_str())
            && let Some((_, d)) = NOT_FINITE.iter().find(|(name, _)| *name == spelt)
        {
            value.value = Some(any_value::Value::DoubleValue(*d));
        }
    });
    Some(message)
}

fn any_string_begins_with(json: &Value, mark: &str) -> bool {
    match json {
        Value::String(s) => s.starts_with(mark),
        Value::Array(items) => items.iter().any(|v| any_string_begins_with(v, mark)),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.starts_with(mark) || any_string_begins_with(v, mark)),
        _ => false,
    }
}

/// Writes every spelled `doubleValue` as a number, or as a marked string value; whether there
/// was one.
fn unspell(json: &mut Value, mark: &str) -> bool {
    match json {
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |found, v| unspell(v, mark) | found),
        Value::Object(map) => {
            let mut found = false;
            if let Some(Value::String(spelt)) = map.get("doubleValue") {
                let number = spelt
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64);
                if let Some(number) = number {
                    map.insert("doubleValue".into(), Value::Number(number));
                    found = true;
                } else if NOT_FINITE.iter().any(|(name, _)| name == spelt) {
                    let marked = format!("{mark}{spelt}");
                    map.remove("doubleValue");
                    map.insert("stringValue".into(), Value::String(marked));
                    found = true;
                }
            }
            map.values_mut()
                .fold(found, |found, v| unspell(v, mark) | found)
        }
        _ => false,
    }
}

fn each_in(list: &mut [KeyValue], f: &mut dyn FnMut(&mut AnyValue)) {
    for kv in list {
        if let Some(value) = &mut kv.value {
            each_nested(value, f);
        }
    }
}

fn each_nested(value: &mut AnyValue, f: &mut dyn FnMut(&mut AnyValue)) {
    match &mut value.value {
        Some(any_value::Value::ArrayValue(a)) => {
            for v in &mut a.values {
                each_nested(v, f);
            }
        }
        Some(any_value::Value::KvlistValue(kv)) => each_in(&mut kv.values, f),
        _ => {}
    }
    f(value);
}

fn each_in_exemplars(exemplars: &mut [Exemplar], f: &mut dyn FnMut(&mut AnyValue)) {
    for e in exemplars {
        each_in(&mut e.filtered_attributes, f);
    }
}

impl AnyValues for ExportTraceServiceRequest {
    fn each_value(&mut self, f: &mut dyn FnMut(&mut AnyValue)) {
        for rs in &mut self.resource_spans {
            if let Some(r) = &mut rs.resource {
                each_in(&mut r.attributes, f);
            }
            for ss in &mut rs.scope_spans {
                if let Some(s) = &mut ss.scope {
                    each_in(&mut s.attributes, f);
                }
                for span in &mut ss.spans {
                    each_in(&mut span.attributes, f);
                    for e in &mut span.events {
                        each_in(&mut e.attributes, f);
                    }
                    for l in &mut span.links {
                        each_in(&mut l.attributes, f);
                    }
                }
            }
        }
    }
}

impl AnyValues for ExportLogsServiceRequest {
    fn each_value(&mut self, f: &mut dyn FnMut(&mut AnyValue)) {
        for rl in &mut self.resource_logs {
            if let Some(r) = &mut rl.resource {
                each_in(&mut r.attributes, f);
            }
            for sl in &mut rl.scope_logs {
                if let Some(s) = &mut sl.scope {
                    each_in(&mut s.attributes, f);
                }
                for log in &mut sl.log_records {
                    each_in(&mut log.attributes, f);
                    if let Some(body) = &mut log.body {
                        each_nested(body, f);
                    }
                }
            }
        }
    }
}

impl AnyValues for ExportMetricsServiceRequest {
    fn each_value(&mut self, f: &mut dyn FnMut(&mut AnyValue)) {
        for rm in &mut self.resource_metrics {
            if let Some(r) = &mut rm.resource {
                each_in(&mut r.attributes, f);
            }
            for sm in &mut rm.scope_metrics {
                if let Some(s) = &mut sm.scope {
                    each_in(&mut s.attributes, f);
                }
                for m in &mut sm.metrics {
                    each_in(&mut m.metadata, f);
                    match &mut m.data {
                        Some(metric::Data::Gauge(g)) => {
                            for p in &mut g.data_points {
                                each_in(&mut p.attributes, f);
                                each_in_exemplars(&mut p.exemplars, f);
                            }
                        }
                        Some(metric::Data::Sum(s)) => {
                            for p in &mut s.data_points {
                                each_in(&mut p.attributes, f);
                                each_in_exemplars(&mut p.exemplars, f);
                            }
                        }
                        Some(metric::Data::Histogram(h)) => {
                            for p in &mut h.data_points {
                                each_in(&mut p.attributes, f);
                                each_in_exemplars(&mut p.exemplars, f);
                            }
                        }
                        Some(metric::Data::ExponentialHistogram(h)) => {
                            for p in &mut h.data_points {
                                each_in(&mut p.attributes, f);
                                each_in_exemplars(&mut p.exemplars, f);
                            }
                        }
                        Some(metric::Data::Summary(s)) => {
                            for p in &mut s.data_points {
                                each_in(&mut p.attributes, f);
                            }
                        }
                        None => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribute(value: &str) -> String {
        format!(
            r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"r","value":{value}}}]}},"scopeSpans":[{{"spans":[{{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"s",
              "attributes":[{{"key":"a","value":{{"arrayValue":{{"values":[{value},{{"stringValue":"x"}}]}}}}}}]}}]}}]}}]}}"#
        )
    }

    fn values(request: &mut ExportTraceServiceRequest) -> Vec<any_value::Value> {
        let mut out = Vec::new();
        request.each_value(&mut |v| out.extend(v.value.clone()));
        out
    }

    #[test]
    fn spelled_doubles_are_read_as_doubles_wherever_they_are() {
        for (spelt, is) in [
            ("NaN", f64::is_nan as fn(f64) -> bool),
            ("Infinity", |d| d == f64::INFINITY),
            ("-Infinity", |d| d == f64::NEG_INFINITY),
            ("1.5", |d| d.to_bits() == 1.5f64.to_bits()),
        ] {
            let body = attribute(&format!(r#"{{"doubleValue":"{spelt}"}}"#));
            assert!(serde_json::from_str::<ExportTraceServiceRequest>(&body).is_err());
            let mut read: ExportTraceServiceRequest =
                read_with_spelled_doubles(body.as_bytes()).unwrap();
            let doubles: Vec<f64> = values(&mut read)
                .into_iter()
                .filter_map(|v| match v {
                    any_value::Value::DoubleValue(d) => Some(d),
                    _ => None,
                })
                .collect();
            assert_eq!(doubles.len(), 2, "{spelt}");
            assert!(doubles.into_iter().all(is), "{spelt}");
        }
    }

    #[test]
    fn a_string_that_looks_like_the_mark_stays_a_string_and_no_spelling_is_no_double() {
        let mark = "\u{0}agent-strace double NaN";
        let body = attribute(&serde_json::json!({"stringValue": mark}).to_string()).replacen(
            r#"{"stringValue":"x"}"#,
            r#"{"doubleValue":"NaN"}"#,
            1,
        );
        let mut read: ExportTraceServiceRequest =
            read_with_spelled_doubles(body.as_bytes()).unwrap();
        let strings = values(&mut read)
            .into_iter()
            .filter(|v| matches!(v, any_value::Value::StringValue(s) if s == mark))
            .count();
        assert_eq!(strings, 2);
        let body = attribute(r#"{"doubleValue":"lots"}"#);
        assert!(read_with_spelled_doubles::<ExportTraceServiceRequest>(body.as_bytes()).is_none());
    }
}
