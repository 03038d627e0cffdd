//! Claude Code transcript lines (`~/.claude/projects/<project>/<session>.jsonl`) as written,
//! decoded lazily: large parts (tool inputs, results) stay raw JSON until they are needed.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::model::deep_json;

/// One line of a transcript. Every field is optional: lines of kinds we do not know, or from
/// older versions, still decode, and are counted by their `type`.
#[derive(Debug, Deserialize)]
pub struct Entry<'a> {
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Cow<'a, str>>,
    /// When the line was written; a time of another type (a number) is none, never a line that
    /// does not decode: the line's content is kept, at the time of the line before.
    #[serde(borrow, default, deserialize_with = "text_or_none")]
    pub timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "sessionId", borrow, default)]
    pub session_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub uuid: Option<Cow<'a, str>>,
    #[serde(rename = "isSidechain", default)]
    pub is_sidechain: Option<bool>,
    #[serde(rename = "agentId", borrow, default)]
    pub agent_id: Option<Cow<'a, str>>,
    #[serde(rename = "requestId", borrow, default)]
    pub request_id: Option<Cow<'a, str>>,
    #[serde(rename = "isMeta", default)]
    pub is_meta: Option<bool>,
    #[serde(borrow, default)]
    pub cwd: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub version: Option<Cow<'a, str>>,
    #[serde(rename = "gitBranch", borrow, default)]
    pub git_branch: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub message: Option<Message<'a>>,
    #[serde(rename = "toolUseResult", borrow, default)]
    pub tool_use_result: Option<&'a RawValue>,
    /// A `system` line's kind: `compact_boundary`, `turn_duration` …
    #[serde(borrow, default)]
    pub subtype: Option<Cow<'a, str>>,
    /// On a `compact_boundary` line: what the compaction was.
    #[serde(rename = "compactMetadata", default)]
    pub compact_metadata: Option<CompactMetadata<'a>>,
    /// The user line that carries a compaction's summary.
    #[serde(rename = "isCompactSummary", default)]
    pub is_compact_summary: Option<bool>,
    /// On a `summary` line: the title Claude Code gave the conversation.
    #[serde(borrow, default)]
    pub summary: Option<Cow<'a, str>>,
    /// An assistant line Claude Code wrote itself for an API error (its text is the error).
    #[serde(rename = "isApiErrorMessage", default)]
    pub is_api_error_message: Option<bool>,
    /// On an API error's line: its kind (`rate_limit`, `server_error`,
    /// `authentication_failed` …), as StopFailure's `error` names it. Raw: some versions
    /// write an object here.
    #[serde(borrow, default)]
    pub error: Option<&'a RawValue>,
}

impl Entry<'_> {
    /// Whether Claude Code wrote the line itself for an API error that ended the turn: its
    /// text is the error, it carries no usage and no model made it.
    pub fn is_api_error(&self) -> bool {
        self.kind.as_deref() == Some("assistant") && self.is_api_error_message == Some(true)
    }

    /// The kind of API error the line names, when it names one as a string.
    pub fn api_error_kind(&self) -> Option<String> {
        let kind: String = serde_json::from_str(self.error?.get()).ok()?;
        Some(kind).filter(|k| !k.trim().is_empty())
    }
}

/// What a `compact_boundary` line says about its compaction.
#[derive(Debug, Deserialize)]
pub struct CompactMetadata<'a> {
    /// `auto` or `manual`.
    #[serde(borrow, default)]
    pub trigger: Option<Cow<'a, str>>,
    /// Tokens of context before the compaction.
    #[serde(rename = "preTokens", default)]
    pub pre_tokens: Option<u64>,
}

impl<'a> Entry<'a> {
    /// Decodes one line. When a strict parse fails, the line is read again with its lone
    /// surrogate escapes taken as U+FFFD (Node writes them when it cuts a string inside an
    /// emoji); `spare` then holds the mended line, which the entry borrows.
    pub fn decode(line: &'a [u8], spare: &'a mut Vec<u8>) -> serde_json::Result<Entry<'a>> {
        match deep_json::from_slice(line) {
            Ok(entry) => Ok(entry),
            Err(e) => match mend(line) {
                Some(fixed) => {
                    *spare = fixed;
                    let spare: &'a Vec<u8> = spare;
                    deep_json::from_slice(spare).map_err(|_| e)
                }
                None => Err(e),
            },
        }
    }
}

/// A string, borrowed from the line when it has no escapes; any other value is none.
fn text_or_none<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Cow<'de, str>>, D::Error> {
    struct Text;
    impl<'de> serde::de::Visitor<'de> for Text {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_owned())))
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            while map
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            Ok(None)
        }
    }
    deserializer.deserialize_any(Text)
}

/// A JSON text with its lone surrogate escapes read as U+FFFD; `None` when it has none.
pub fn mend(text: &[u8]) -> Option<Vec<u8>> {
    crate::model::json_mend::replace_lone_surrogates(text)
}

/// Parses a JSON value; when a strict parse fails, again with lone surrogate escapes taken as
/// U+FFFD.
pub fn parse_value<T: serde::de::DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    deep_json::from_slice(text.as_bytes()).or_else(|e| match mend(text.as_bytes()) {
        Some(fixed) => deep_json::from_slice(&fixed).map_err(|_| e),
        None => Err(e),
    })
}

#[derive(Debug, Deserialize)]
pub struct Message<'a> {
    #[serde(borrow, default)]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub model: Option<Cow<'a, str>>,
    /// A string, or a list of content blocks.
    #[serde(borrow, default)]
    pub content: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub usage: Option<&'a RawValue>,
}

/// One content block of a message.
#[derive(Debug, Deserialize)]
pub struct Block<'a> {
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub input: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub tool_use_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub content: Option<&'a RawValue>,
    #[serde(default)]
    pub is_error: Option<bool>,
    /// A `thinking` block's text.
    #[serde(borrow, default)]
    pub thinking: Option<Cow<'a, str>>,
}

/// What a Task/Agent result says about the subagent it ran.
#[derive(Debug, Deserialize)]
pub struct TaskResult<'a> {
    #[serde(rename = "agentId", borrow, default)]
    pub agent_id: Option<Cow<'a, str>>,
}
