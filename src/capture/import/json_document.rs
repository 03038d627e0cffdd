//! A log written as one JSON document, a header's fields beside one list of entries (Gemini
//! CLI's older chats, `messages`; Codex CLI's TypeScript rollouts, `items`): read from its text
//! without making a tree of it, each entry kept as the text holds it and read when it is taken,
//! so that a document of a hundred MB is held once.

use std::collections::HashMap;
use std::path::Path;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::agent_log::{self, FirstPrompt};
use crate::model::deep_json;

/// A document: its header (every field but the list) and the list's entries as its text holds
/// them.
pub struct Document<'a> {
    pub header: Value,
    pub entries: Vec<&'a RawValue>,
}

impl<'a> Document<'a> {
    /// The document `bytes` (past a byte order mark) holds, its entries those of the first of
    /// the fields `lists` it has (a document of unknown kind is read once for all its kinds);
    /// a list that is no list holds none.
    pub fn read(bytes: &'a [u8], lists: &[&str]) -> serde_json::Result<Document<'a>> {
        let text = crate::store::without_bom(bytes);
        let mut fields: HashMap<String, &'a RawValue> = deep_json::from_slice(text)?;
        let entries = lists
            .iter()
            .find_map(|list| fields.remove(*list))
            .and_then(|raw| deep_json::from_str::<Vec<&'a RawValue>>(raw.get()).ok())
            .unwrap_or_default();
        let mut header = Map::new();
        for (key, raw) in fields {
            header.insert(key, deep_json::from_str(raw.get())?);
        }
        Ok(Document {
            header: Value::Object(header),
            entries,
        })
    }
}

/// The most bytes of a document that [`first_prompt`] reads: a document is read only whole,
/// and a listing must stay fast.
const DOCUMENT_LOOK: u64 = 16 << 20;

/// The first prompt of the document at `path`, the first of its `list`'s entries that
/// `prompt_in` finds one in and a person wrote: read whole, as its import reads it, when it is
/// no larger than [`DOCUMENT_LOOK`]; unknown past that.
pub fn first_prompt(
    path: &Path,
    list: &str,
    prompt_in: fn(&Value) -> Option<String>,
) -> FirstPrompt {
    let small = std::fs::symlink_metadata(path).is_ok_and(|m| m.len() <= DOCUMENT_LOOK);
    let Some((bytes, _)) = small.then(|| agent_log::whole_file(path).ok()).flatten() else {
        return FirstPrompt::Unknown;
    };
    let Ok(document) = Document::read(&bytes, &[list]) else {
        return FirstPrompt::Unknown;
    };
    let entries = document.entries.iter();
    let texts = entries.filter_map(|raw| prompt_in(&deep_json::from_str(raw.get()).ok()?));
    for text in texts {
        // Read as every listing reads a prompt ([`agent_log::first_prompt`]).
        let prompt = crate::model::prompt::read(&text);
        if prompt.by_person() {
            return FirstPrompt::Typed(prompt.text.into_owned());
        }
    }
    FirstPrompt::None
}
