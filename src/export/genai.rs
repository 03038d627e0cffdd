//! The OpenTelemetry GenAI semantic conventions that `otlp-genai` follows: version 1.42.0 of
//! the semantic conventions (every GenAI name still of Development status), the operation
//! names, the attribute keys, and which provider an agent's model comes from.
//!
//! Names are spelled here once, as the conventions' registry spells them
//! (docs/registry/attributes/gen-ai.md at tag v1.42.0 of open-telemetry/semantic-conventions;
//! span names and kinds from docs/gen-ai/gen-ai-spans.md and gen-ai-agent-spans.md at v1.41.1,
//! the last text before the GenAI conventions moved to their own repository unchanged).

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};

use crate::model::{Agent, Tokens};

/// The version of the semantic conventions followed.
pub const VERSION: &str = "1.42.0";
/// Their schema URL, written into the resource and scope of every export.
pub const SCHEMA_URL: &str = "https://opentelemetry.io/schemas/1.42.0";

pub const OPERATION_NAME: &str = "gen_ai.operation.name";
pub const PROVIDER_NAME: &str = "gen_ai.provider.name";
pub const REQUEST_MODEL: &str = "gen_ai.request.model";
pub const RESPONSE_MODEL: &str = "gen_ai.response.model";
pub const AGENT_ID: &str = "gen_ai.agent.id";
pub const AGENT_NAME: &str = "gen_ai.agent.name";
pub const AGENT_VERSION: &str = "gen_ai.agent.version";
pub const CONVERSATION_ID: &str = "gen_ai.conversation.id";
pub const TOOL_NAME: &str = "gen_ai.tool.name";
pub const TOOL_TYPE: &str = "gen_ai.tool.type";
pub const TOOL_CALL_ID: &str = "gen_ai.tool.call.id";
pub const TOOL_CALL_ARGUMENTS: &str = "gen_ai.tool.call.arguments";
pub const TOOL_CALL_RESULT: &str = "gen_ai.tool.call.result";
pub const USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
pub const USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
pub const USAGE_CACHE_READ: &str = "gen_ai.usage.cache_read.input_tokens";
pub const USAGE_CACHE_CREATION: &str = "gen_ai.usage.cache_creation.input_tokens";
pub const USAGE_REASONING: &str = "gen_ai.usage.reasoning.output_tokens";
/// Of `gen_ai.usage.cache_creation.input_tokens`, those written to the one-hour cache, which
/// Anthropic prices above the five-minute one. The conventions register no split by lifetime,
/// so the name is in agent-strace's own namespace; our collector reads it back, and a trace
/// without it priced every write as a five-minute one.
pub const USAGE_CACHE_CREATION_1H: &str = "agent_strace.usage.cache_creation_1h.input_tokens";
/// The general convention's error class (stable), set on a span that ended in an error.
pub const ERROR_TYPE: &str = "error.type";
/// `error.type`'s value when no class is known, as the convention names it.
pub const ERROR_OTHER: &str = "_OTHER";

/// The person's message to the model, and the model's answer: JSON text of the conventions'
/// message structure (gen-ai-input-messages.json, gen-ai-output-messages.json), opt-in.
pub const INPUT_MESSAGES: &str = "gen_ai.input.messages";
pub const OUTPUT_MESSAGES: &str = "gen_ai.output.messages";

/// `gen_ai.operation.name` values.
pub const INVOKE_AGENT: &str = "invoke_agent";
pub const EXECUTE_TOOL: &str = "execute_tool";
pub const CHAT: &str = "chat";

/// The `gen_ai.provider.name` of an agent's models, where the agent uses one provider's
/// (editors that let the user pick a provider have none that is known).
pub fn provider(agent: Agent) -> Option<&'static str> {
    match agent {
        Agent::ClaudeCode => Some("anthropic"),
        Agent::Codex => Some("openai"),
        Agent::GeminiCli => Some("gcp.gemini"),
        _ => None,
    }
}

/// A prompt (`prompt`) or an answer as the conventions' message attribute: one message of one
/// text part, the person's (`user`) in `gen_ai.input.messages`, the model's (`assistant`) in
/// `gen_ai.output.messages`. The text was under `gen_ai.content`, a name no convention has.
/// An answer's `finish_reason` is left out: the store does not hold why the model stopped.
pub fn message(prompt: bool, text: &str) -> KeyValue {
    let (key, role) = if prompt {
        (INPUT_MESSAGES, "user")
    } else {
        (OUTPUT_MESSAGES, "assistant")
    };
    let messages =
        serde_json::json!([{"role": role, "parts": [{"type": "text", "content": text}]}]);
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(messages.to_string())),
        }),
        ..KeyValue::default()
    }
}

/// `gen_ai.usage.input_tokens`: every input token, cached ones included, as the convention
/// asks. Anthropic reports cache reads and writes apart from `input_tokens`, and they are
/// added back; OpenAI's `prompt_tokens` already counts its cached tokens (and [`Tokens`] has
/// none apart), so nothing is counted twice.
pub fn input_tokens(tokens: &Tokens) -> u64 {
    tokens.context()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_tokens_include_cache_reads_and_writes() {
        let t = Tokens {
            input: 3,
            output: 7,
            cache_creation: 100,
            cache_read: 1000,
            ..Tokens::default()
        };
        assert_eq!(input_tokens(&t), 1103);
    }
}
