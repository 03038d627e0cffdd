//! Another sender's GenAI span read by OpenTelemetry's GenAI semantic conventions: whether it
//! is one call of a model, and the usage such a call carries; which operation it is, and the
//! agent it names.
//!
//! Only a model call's usage is a response's. An `invoke_agent` span carries the total of the
//! calls under it (agent-strace's own `otlp-genai` export puts the session's total there), so
//! written too it would count every call twice.

use serde_json::Value;

use super::counts::{Usage, counts};
use super::telemetry::{Attributes, Generic};
use crate::model::Tokens;

/// `gen_ai.operation.name`, which names what the span did.
const OPERATION_NAME: &str = "gen_ai.operation.name";

/// The operations whose span is one call of a model (the conventions' inference spans).
/// `embeddings` is left out: an embedding's input is no model's context, and is not priced.
const MODEL_CALLS: &[&str] = &["chat", "text_completion", "generate_content"];

/// The operation of a tool's run.
pub const EXECUTE_TOOL: &str = "execute_tool";

/// The operations whose span holds others: an agent's run, its creation, a tool's run. Their
/// span names begin with the operation (`invoke_agent {gen_ai.agent.name}`), which is how one
/// sent without `gen_ai.operation.name` is known.
const HOLDERS: &[&str] = &["invoke_agent", "create_agent", EXECUTE_TOOL];

/// `gen_ai.agent.name`: the agent a span is of (agent-strace's own export names the session's
/// agent there, `claude-code` …, on every span).
const AGENT_NAME: &str = "gen_ai.agent.name";

/// The operation a span names, if it names one.
fn operation(g: &Generic) -> Option<&str> {
    g.attributes
        .get(OPERATION_NAME)
        .and_then(Value::as_str)
        .filter(|op| !op.is_empty())
}

/// The first word of the span's name, which the conventions begin with the operation.
fn named_operation(g: &Generic) -> &str {
    g.name.split_whitespace().next().unwrap_or_default()
}

/// Whether the record is one call of a model: its operation is one ([`MODEL_CALLS`]), or it
/// names none and is no span of a [`HOLDERS`] operation (as senders before the attribute
/// existed write a call).
pub fn is_model_call(g: &Generic) -> bool {
    match operation(g) {
        Some(op) => MODEL_CALLS.contains(&op),
        None => !HOLDERS.contains(&named_operation(g)),
    }
}

/// Whether the record is a span of operation `op` ([`HOLDERS`]): it names it, or names none
/// and its name begins with it.
pub fn is_operation(g: &Generic, op: &str) -> bool {
    operation(g).unwrap_or_else(|| named_operation(g)) == op
}

/// The agent the record names ([`AGENT_NAME`]), if it names one.
pub fn agent_name(g: &Generic) -> Option<&str> {
    g.attributes
        .get(AGENT_NAME)
        .and_then(Value::as_str)
        .filter(|a| !a.trim().is_empty())
}

/// The usage of a model call ([`is_model_call`]); `None` for any other record, and for one
/// with no `gen_ai.usage.*` count.
pub fn model_call_usage(g: &Generic) -> Option<Usage> {
    if is_model_call(g) {
        usage(&g.attributes)
    } else {
        None
    }
}

const INPUT: &str = "gen_ai.usage.input_tokens";
const OUTPUT: &str = "gen_ai.usage.output_tokens";
/// Of the cache writes, the one-hour ones: no convention names the split, and agent-strace's
/// own `otlp-genai` export writes it under this name (without it every write was priced as a
/// five-minute one, 19% under the session's cost).
const CACHE_CREATION_1H: &str = "agent_strace.usage.cache_creation_1h.input_tokens";

/// A GenAI span's usage in the store's kinds, its counts read as every sender's are
/// ([`counts`]). Under semantic conventions 1.42 `gen_ai.usage.input_tokens` counts the cached
/// tokens too, so they are taken back out into the store's separate counts.
fn usage(attrs: &Attributes) -> Option<Usage> {
    if !attrs.contains_key(INPUT) && !attrs.contains_key(OUTPUT) {
        return None;
    }
    let read = counts(
        attrs,
        [
            (INPUT, "input_tokens"),
            (OUTPUT, "output_tokens"),
            (
                "gen_ai.usage.cache_read.input_tokens",
                "cache_read_input_tokens",
            ),
            (
                "gen_ai.usage.cache_creation.input_tokens",
                "cache_creation_input_tokens",
            ),
            (CACHE_CREATION_1H, "ephemeral_1h_input_tokens"),
            ("gen_ai.usage.reasoning.output_tokens", "reasoning_tokens"),
        ],
    );
    Some(match read {
        Ok(
            [
                input,
                output,
                cache_read,
                cache_creation,
                cache_creation_1h,
                reasoning,
            ],
        ) => {
            Usage::Counted(Tokens {
                // An input smaller than its cached tokens cannot hold them: its sender counts
                // input as Anthropic's API does, without the cache, and it is all fresh (taking
                // the cache out left 0, and the input read went unpriced).
                input: input
                    .checked_sub(cache_read.saturating_add(cache_creation))
                    .unwrap_or(input),
                output,
                cache_read,
                cache_creation,
                cache_creation_1h: cache_creation_1h.min(cache_creation),
                reasoning: reasoning.min(output),
            })
        }
        Err(sent) => Usage::Unknown(nested(sent)),
    })
}

/// The usage as sent, its split counts put where the API's usage object has them, so that a
/// bad one among them makes the usage unknown as a bad top-level count does.
pub(super) fn nested(mut sent: Value) -> Value {
    if let Some(obj) = sent.as_object_mut() {
        if let Some(n) = obj.remove("ephemeral_1h_input_tokens") {
            obj.insert(
                "cache_creation".into(),
                serde_json::json!({"ephemeral_1h_input_tokens": n}),
            );
        }
        if let Some(n) = obj.remove("reasoning_tokens") {
            obj.insert(
                "output_tokens_details".into(),
                serde_json::json!({"reasoning_tokens": n}),
            );
        }
    }
    sent
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    fn record(name: &str, operation: Option<&str>) -> Generic {
        let mut g = Generic::test_span(name, serde_json::json!({"gen_ai.usage.input_tokens": 100}));
        if let Some(op) = operation {
            g.attributes.insert(OPERATION_NAME.into(), op.into());
        }
        g
    }

    #[test]
    fn the_one_hour_writes_and_reasoning_are_read_back_and_a_bad_one_is_unknown() {
        let mut g = record("chat m", Some("chat"));
        for (k, n) in [
            ("gen_ai.usage.input_tokens", 1103),
            ("gen_ai.usage.output_tokens", 40),
            ("gen_ai.usage.cache_read.input_tokens", 1000),
            ("gen_ai.usage.cache_creation.input_tokens", 100),
            (CACHE_CREATION_1H, 60),
            ("gen_ai.usage.reasoning.output_tokens", 10),
        ] {
            g.attributes.insert(k.into(), n.into());
        }
        let Some(Usage::Counted(t)) = model_call_usage(&g) else {
            panic!("counted")
        };
        assert_eq!(
            (t.input, t.cache_creation, t.cache_creation_1h, t.reasoning),
            (3, 100, 60, 10)
        );
        g.attributes.insert(CACHE_CREATION_1H.into(), (-5).into());
        let Some(Usage::Unknown(sent)) = model_call_usage(&g) else {
            panic!("unknown")
        };
        assert_eq!(
            crate::model::usage::ApiUsage::deserialize(&sent).unwrap().0,
            None
        );
    }

    #[test]
    fn only_a_model_calls_usage_is_a_responses() {
        for (name, op) in [
            ("chat gpt-4o", Some("chat")),
            ("generate_content gemini", Some("generate_content")),
            ("text_completion x", Some("text_completion")),
            ("llm call", None),
            ("chat gpt-4o", Some("")),
        ] {
            assert!(
                model_call_usage(&record(name, op)).is_some(),
                "{name} {op:?}"
            );
        }
        for (name, op) in [
            ("invoke_agent claude-code", Some("invoke_agent")),
            ("work", Some("invoke_agent")),
            ("create_agent helper", Some("create_agent")),
            ("execute_tool Bash", Some("execute_tool")),
            ("embeddings text-embedding-3", Some("embeddings")),
            ("invoke_agent claude-code", None),
            ("execute_tool Bash", None),
        ] {
            assert!(
                model_call_usage(&record(name, op)).is_none(),
                "{name} {op:?}"
            );
        }
    }
}
