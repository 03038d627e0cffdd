//! Message content as transcripts hold it: a plain string, or a list of blocks (`text`,
//! `tool_use`, `tool_result`, `image`, `thinking` …). Parsed here and nowhere else.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::wire::{Block, mend, parse_value};
use crate::model::deep_json;

/// The blocks of a message's content; a plain string is one text block.
pub fn blocks(content: &RawValue) -> Result<Vec<Block<'_>>, serde_json::Error> {
    let text = content.get();
    if text.starts_with('"') {
        let s: Cow<'_, str> = deep_json::from_str(text)?;
        return Ok(vec![Block {
            kind: Some(Cow::Borrowed("text")),
            text: Some(s),
            id: None,
            name: None,
            input: None,
            tool_use_id: None,
            content: None,
            is_error: None,
            thinking: None,
        }]);
    }
    deep_json::from_str(text)
}

/// The text blocks of an answer, joined by newlines; `None` when there is no text but blanks.
pub fn answer_text(blocks: &[Block<'_>]) -> Option<String> {
    let text = blocks
        .iter()
        .filter(|b| b.kind.as_deref() == Some("text"))
        .filter_map(|b| b.text.as_deref())
        .collect::<Vec<_>>()
        .join("\n");
    (!text.trim().is_empty()).then_some(text)
}

/// What a person typed: text blocks, with images as `[image]`, joined by newlines.
pub fn prompt_text(blocks: &[Block<'_>]) -> String {
    blocks
        .iter()
        .filter_map(|b| match b.kind.as_deref() {
            Some("text") => Some(b.text.as_deref().unwrap_or_default()),
            Some("image") => Some("[image]"),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text of a tool result's content: a string, or its blocks' text (images as `[image]`).
pub fn result_text(content: &RawValue) -> String {
    let raw = content.get();
    if raw.starts_with('"') {
        return parse_value(raw).unwrap_or_default();
    }
    match deep_json::from_str::<Vec<Block<'_>>>(raw) {
        Ok(blocks) => blocks_text(&blocks),
        // Lone surrogate escapes (Node cut a string inside an emoji) are read as U+FFFD.
        Err(_) => match mend(raw.as_bytes()) {
            Some(fixed) => match deep_json::from_slice::<Vec<Block<'_>>>(&fixed) {
                Ok(blocks) => blocks_text(&blocks),
                Err(_) => raw.to_owned(),
            },
            None => raw.to_owned(),
        },
    }
}

fn blocks_text(blocks: &[Block<'_>]) -> String {
    blocks
        .iter()
        .map(|b| match b.kind.as_deref() {
            Some("image") => "[image]",
            _ => b.text.as_deref().unwrap_or_default(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn a_string_is_one_text_block_and_texts_are_joined() {
        let plain = raw(r#""hello""#);
        assert_eq!(
            answer_text(&blocks(&plain).unwrap()).as_deref(),
            Some("hello")
        );
        let list = raw(
            r#"[{"type":"text","text":"a"},{"type":"tool_use","name":"Bash"},{"type":"image"},{"type":"text","text":"b"}]"#,
        );
        let parsed = blocks(&list).unwrap();
        assert_eq!(answer_text(&parsed).as_deref(), Some("a\nb"));
        assert_eq!(prompt_text(&parsed), "a\n[image]\nb");
        assert_eq!(
            answer_text(&blocks(&raw(r#"[{"type":"text","text":" "}]"#)).unwrap()),
            None
        );
        assert_eq!(result_text(&list), "a\n\n[image]\nb");
        assert_eq!(result_text(&raw(r#""out""#)), "out");
        assert_eq!(result_text(&raw(r#"{"x":1}"#)), r#"{"x":1}"#);
    }
}
