//! Gemini CLI's older chats, one JSON document (`session-*.json`: the header's fields and
//! `messages`): read from its text without making a tree of it, each message kept as the text
//! holds it and read when it is taken, so that a chat of a hundred MB is held once.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::agent_log::{self, FirstPrompt};
use super::gemini_chat::prompt_in;
use crate::model::deep_json;

/// A chat document: its header (every field but `messages`) and its messages as its text
/// holds them.
pub struct Document<'a> {
    pub header: Value,
    pub messages: Vec<&'a RawValue>,
}

impl<'a> Document<'a> {
    /// The document `bytes` (past a byte order mark) holds; `messages` that are no list are
    /// none.
    pub fn read(bytes: &'a [u8]) -> serde_json::Result<Document<'a>> {
        let text = crate::store::without_bom(bytes);
        let mut fields: HashMap<String, &'a RawValue> = deep_json::from_slice(text)?;
        let messages = fields
            .remove("messages")
            .and_then(|raw| deep_json::from_str::<Vec<&'a RawValue>>(raw.get()).ok())
            .unwrap_or_default();
        let mut header = Map::new();
        for (key, raw) in fields {
            header.insert(key, deep_json::from_str(raw.get())?);
        }
        Ok(Document {
            header: Value::Object(header),
            messages,
        })
    }

    /// The model of the first response that names one.
    pub fn first_model(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Response {
            #[serde(rename = "type")]
            kind: Option<String>,
            model: Option<String>,
        }
        self.messages.iter().find_map(|raw| {
            let message: Response = deep_json::from_str(raw.get()).ok()?;
            message
                .model
                .filter(|_| message.kind.as_deref() == Some("gemini"))
        })
    }
}

/// The most bytes of an older chat that [`first_prompt`] reads: such a chat is read only
/// whole, and a listing must stay fast.
const DOCUMENT_LOOK: u64 = 16 << 20;

/// The first prompt of an older chat: read whole, as its import reads it, when it is no larger
/// than [`DOCUMENT_LOOK`]; unknown past that.
pub fn first_prompt(path: &Path) -> FirstPrompt {
    let small = std::fs::symlink_metadata(path).is_ok_and(|m| m.len() <= DOCUMENT_LOOK);
    let Some((bytes, _)) = small.then(|| agent_log::whole_file(path).ok()).flatten() else {
        return FirstPrompt::Unknown;
    };
    let Ok(chat) = Document::read(&bytes) else {
        return FirstPrompt::Unknown;
    };
    let messages = chat.messages.iter();
    let texts = messages.filter_map(|raw| prompt_in(&deep_json::from_str(raw.get()).ok()?));
    for text in texts {
        // Read as every listing reads a prompt ([`agent_log::first_prompt`]).
        let prompt = crate::model::prompt::read(&text);
        if prompt.by_person() {
            return FirstPrompt::Typed(prompt.text.into_owned());
        }
    }
    FirstPrompt::None
}
