//! Claude Code transcript lines (`~/.claude/projects/<project>/<session>.jsonl`) as written,
//! decoded lazily: large parts (tool inputs, results) stay raw JSON until they are needed.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

/// One line of a transcript. Every field is optional: lines of kinds we do not know, or from
/// older versions, still decode, and are counted by their `type`.
#[derive(Debug, Deserialize)]
pub(crate) struct Entry<'a> {
    #[serde(rename = "type", borrow, default)]
    pub(crate) kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "sessionId", borrow, default)]
    pub(crate) session_id: Option<Cow<'a, str>>,
    #[serde(rename = "isSidechain", default)]
    pub(crate) is_sidechain: Option<bool>,
    #[serde(rename = "agentId", borrow, default)]
    pub(crate) agent_id: Option<Cow<'a, str>>,
    #[serde(rename = "requestId", borrow, default)]
    pub(crate) request_id: Option<Cow<'a, str>>,
    #[serde(rename = "isMeta", default)]
    pub(crate) is_meta: Option<bool>,
    #[serde(borrow, default)]
    pub(crate) cwd: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) version: Option<Cow<'a, str>>,
    #[serde(rename = "gitBranch", borrow, default)]
    pub(crate) git_branch: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) message: Option<Message<'a>>,
    #[serde(rename = "toolUseResult", borrow, default)]
    pub(crate) tool_use_result: Option<&'a RawValue>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Message<'a> {
    #[serde(borrow, default)]
    pub(crate) id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) model: Option<Cow<'a, str>>,
    /// A string, or a list of content blocks.
    #[serde(borrow, default)]
    pub(crate) content: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) usage: Option<&'a RawValue>,
}

/// One content block of a message.
#[derive(Debug, Deserialize)]
pub(crate) struct Block<'a> {
    #[serde(rename = "type", borrow, default)]
    pub(crate) kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) input: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(crate) tool_use_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) content: Option<&'a RawValue>,
    #[serde(default)]
    pub(crate) is_error: Option<bool>,
}

/// What a Task/Agent result says about the subagent it ran.
#[derive(Debug, Deserialize)]
pub(crate) struct TaskResult<'a> {
    #[serde(rename = "agentId", borrow, default)]
    pub(crate) agent_id: Option<Cow<'a, str>>,
}

/// The blocks of a message's content; a plain string is one text block.
pub(crate) fn blocks<'a>(content: &'a RawValue) -> Result<Vec<Block<'a>>, serde_json::Error> {
    let text = content.get();
    if text.starts_with('"') {
        let s: Cow<'a, str> = serde_json::from_str(text)?;
        return Ok(vec![Block {
            kind: Some(Cow::Borrowed("text")),
            text: Some(s),
            id: None,
            name: None,
            input: None,
            tool_use_id: None,
            content: None,
            is_error: None,
        }]);
    }
    serde_json::from_str(text)
}
