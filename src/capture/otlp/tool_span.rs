//! A tool call's span read as the tool call it tells: the tool, its call id, its arguments, and
//! how it ended. Another sender's `execute_tool` span (OpenTelemetry's GenAI semantic
//! conventions), and agent-strace's own export's in either vocabulary (`otlp-genai`'s
//! `execute_tool`, `otlp`'s span named by its tool, with `agent_strace.tool.*`).
//!
//! Kept as a generic record it was no tool call to `stats`, `explain` or `replay`: the
//! collector's copy of an export showed none of the session's calls.

use serde_json::Value;

use super::genai;
use super::telemetry::Generic;

/// The names a vocabulary gives a call's fields.
struct Names {
    tool_name: &'static str,
    call_id: &'static str,
    arguments: &'static str,
    result: &'static str,
}

/// The GenAI semantic conventions'.
const GENAI: Names = Names {
    tool_name: "gen_ai.tool.name",
    call_id: "gen_ai.tool.call.id",
    arguments: "gen_ai.tool.call.arguments",
    result: "gen_ai.tool.call.result",
};

/// agent-strace's own plain `otlp` export's, whose call's span is named by its tool.
const PLAIN: Names = Names {
    tool_name: "agent_strace.tool.name",
    call_id: "agent_strace.tool.use_id",
    arguments: "agent_strace.tool.arguments",
    result: "agent_strace.tool.result",
};

/// How a call ended (`ok`, `failed`, `rejected`), which agent-strace's own export writes on a
/// call that has a result, and only then.
const OUTCOME: &str = "agent_strace.tool.outcome";
/// The result's own duration, as the export writes it when the store recorded one.
const DURATION: &str = "agent_strace.tool.duration_ms";
/// The event a span of agent-strace's own export was made from.
pub const EXPORTED_EVENT: &str = "agent_strace.event.id";

/// The attributes a tool call's events hold as fields of their own, not again among the span's.
pub const READ: &[&str] = &[GENAI.arguments, GENAI.result, PLAIN.arguments, PLAIN.result];

/// One tool call, as its span tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpan {
    pub tool: Option<String>,
    pub tool_use_id: Option<String>,
    /// The arguments: their JSON text read as JSON, else the text as sent (one cut to the
    /// export's limit is no JSON).
    pub arguments: Option<Value>,
    /// How it ended; `None` when it had not: agent-strace's export of a call with no result
    /// writes a span of no length and no outcome.
    pub ended: Option<Returned>,
}

/// How a tool call ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Returned {
    /// Why it failed or was refused (the span's status message, else the words of its result);
    /// `None` for a call that returned.
    pub error: Option<String>,
    /// It was refused (the user, or a rule of theirs, said no; our export's outcome
    /// `rejected`): the words of a refusal are left out of an export without `--content`, and
    /// an error of no words read back as a failure.
    pub refused: bool,
    pub result: Option<String>,
    pub duration_ms: Option<f64>,
}

/// The tool call `g` tells, if it is an `execute_tool` span or a call's span of our plain
/// export.
pub fn of(g: &Generic) -> Option<ToolSpan> {
    let attrs = &g.attributes;
    let ours = attrs.contains_key(EXPORTED_EVENT);
    let names = if genai::is_operation(g, genai::EXECUTE_TOOL) {
        &GENAI
    } else if ours && attrs.contains_key(PLAIN.tool_name) {
        &PLAIN
    } else {
        return None;
    };
    let text = |k: &str| {
        attrs
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let outcome = text(OUTCOME);
    let result = text(names.result);
    // A span another sender ended is a call that returned; one of ours says whether it did.
    let ended = (!ours || outcome.is_some()).then(|| {
        let refused = outcome.as_deref() == Some("rejected");
        let failed = g.error.is_some() || refused || outcome.as_deref() == Some("failed");
        Returned {
            refused,
            error: failed.then(|| {
                g.error
                    .clone()
                    .filter(|m| !m.is_empty())
                    .or_else(|| result.clone())
                    .unwrap_or_default()
            }),
            result: if failed { None } else { result },
            duration_ms: attrs
                .get(DURATION)
                .and_then(Value::as_f64)
                .or_else(|| (!ours).then_some((g.end - g.start) * 1000.0)),
        }
    });
    Some(ToolSpan {
        tool: text(names.tool_name).or_else(|| {
            g.name
                .strip_prefix(genai::EXECUTE_TOOL)
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        }),
        tool_use_id: text(names.call_id),
        arguments: text(names.arguments)
            .map(|a| crate::model::deep_json::from_slice(a.as_bytes()).unwrap_or(Value::String(a))),
        ended,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn span(name: &str, attributes: Value, error: Option<&str>) -> Generic {
        Generic {
            start: 10.0,
            end: 12.5,
            error: error.map(str::to_owned),
            ..Generic::test_span(name, attributes)
        }
    }

    #[test]
    fn another_senders_ended_span_is_a_call_that_returned_for_as_long_as_it_lasted() {
        let call = of(&span(
            "execute_tool get_weather",
            json!({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.call.arguments": "{\"city\":\"Paris\"}",
                   "gen_ai.tool.call.result": "sunny"}),
            None,
        ))
        .unwrap();
        assert_eq!(call.tool.as_deref(), Some("get_weather"));
        assert_eq!(call.arguments, Some(json!({"city": "Paris"})));
        let ended = call.ended.unwrap();
        assert_eq!(
            (ended.error, ended.result.as_deref(), ended.duration_ms),
            (None, Some("sunny"), Some(2500.0))
        );
        let failed = of(&span("execute_tool x", json!({}), Some("boom"))).unwrap();
        assert_eq!(failed.ended.unwrap().error.as_deref(), Some("boom"));
    }

    #[test]
    fn our_exports_call_with_no_outcome_had_no_result_and_its_cut_arguments_stay_text() {
        let open = of(&span(
            "execute_tool Bash",
            json!({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "Bash",
                   "agent_strace.event.id": "e1", "gen_ai.tool.call.arguments": "{\"command\":\"ls… [cut"}),
            None,
        ))
        .unwrap();
        assert_eq!(open.ended, None);
        assert_eq!(open.arguments, Some(json!("{\"command\":\"ls… [cut")));
        let refused = of(&span(
            "execute_tool Bash",
            json!({"agent_strace.event.id": "e2", "agent_strace.tool.outcome": "rejected",
                   "gen_ai.tool.call.result": "User rejected tool use"}),
            None,
        ))
        .unwrap()
        .ended
        .unwrap();
        assert_eq!(refused.error.as_deref(), Some("User rejected tool use"));
        assert_eq!((refused.result, refused.duration_ms), (None, None));
        assert!(
            of(&span(
                "chat m",
                json!({"gen_ai.operation.name": "chat"}),
                None
            ))
            .is_none()
        );
    }
}
