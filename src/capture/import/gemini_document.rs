//! Gemini CLI's older chats, one JSON document (`session-*.json`: the header's fields and
//! `messages`), read a message at a time as [`Document`]s are.

use std::path::Path;

use serde::Deserialize;

use super::agent_log::FirstPrompt;
use super::gemini_chat::prompt_in;
use super::json_document::{self, Document};
use crate::model::deep_json;

/// The list of an older chat's messages.
pub const MESSAGES: &str = "messages";

/// The chat document `bytes` holds.
pub fn read(bytes: &[u8]) -> serde_json::Result<Document<'_>> {
    Document::read(bytes, &[MESSAGES])
}

/// The model of the first response of `chat` that names one.
pub fn first_model(chat: &Document<'_>) -> Option<String> {
    #[derive(Deserialize)]
    struct Response {
        #[serde(rename = "type")]
        kind: Option<String>,
        model: Option<String>,
    }
    chat.entries.iter().find_map(|raw| {
        let message: Response = deep_json::from_str(raw.get()).ok()?;
        message
            .model
            .filter(|_| message.kind.as_deref() == Some("gemini"))
    })
}

/// The first prompt of an older chat ([`json_document::first_prompt`]).
pub fn first_prompt(path: &Path) -> FirstPrompt {
    json_document::first_prompt(path, MESSAGES, prompt_in)
}
