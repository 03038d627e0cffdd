//! The last assistant text in a Claude Code transcript, read from the end of the file.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde_json::Value;

/// How far back from the end the Stop hook looks; a hook must stay fast on huge transcripts.
const TAIL_LIMIT: u64 = 4 * 1024 * 1024;

/// The text blocks of the last assistant message with text, joined; `None` when the file cannot
/// be read or holds none in its last [`TAIL_LIMIT`] bytes.
pub(crate) fn last_assistant_text(path: &Path) -> Option<String> {
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut window = 64 * 1024u64;
    loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start)).ok()?;
        let mut buf = Vec::with_capacity((len - start) as usize);
        file.by_ref().take(len - start).read_to_end(&mut buf).ok()?;
        // The first line of a window that does not start the file may be cut: skip it.
        let body = if start == 0 {
            &buf[..]
        } else {
            buf.iter()
                .position(|&b| b == b'\n')
                .map_or(&buf[..0], |i| &buf[i + 1..])
        };
        for line in body.split(|&b| b == b'\n').rev() {
            if let Some(text) = assistant_text(line) {
                return Some(text);
            }
        }
        if start == 0 || window >= TAIL_LIMIT {
            return None;
        }
        window *= 4;
    }
}

fn assistant_text(line: &[u8]) -> Option<String> {
    let line = line.trim_ascii();
    if line.is_empty() || !line.windows(11).any(|w| w == b"\"assistant\"") {
        return None;
    }
    let entry: Value = serde_json::from_slice(line).ok()?;
    if entry.get("type").and_then(Value::as_str) != Some("assistant") {
        return None;
    }
    let content = entry.get("message")?.get("content")?;
    let text = match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => return None,
    };
    (!text.trim().is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_last_text_and_skips_tool_use_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(
            &path,
            concat!(
                r#"{"type":"assistant","message":{"content":[{"type":"text","text":"first"}]}}"#,
                "\n",
                r#"{"type":"assistant","message":{"content":[{"type":"text","text":"second"}]}}"#,
                "\n",
                r#"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Bash"}]}}"#,
                "\n",
                r#"{"type":"user","message":{"content":"thanks"}}"#,
                "\n",
            ),
        )
        .unwrap();
        assert_eq!(last_assistant_text(&path).as_deref(), Some("second"));
        assert_eq!(last_assistant_text(&dir.path().join("missing")), None);
    }
}
