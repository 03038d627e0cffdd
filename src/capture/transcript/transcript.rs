//! Reading a Claude Code transcript file without importing it: its last answer (for the Stop
//! hook) and the usage of every API response (for costing a session recorded by hooks).

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::content::{answer_text, blocks};
use super::responses::{Counted, Current, Line, ResponseUsage, Step};
use super::wire::Entry;
use crate::model::Tokens;
use crate::store::{LINE_LIMIT, open_regular, read_line};

/// How far back from the end the Stop hook looks; a hook must stay fast on huge transcripts.
const TAIL_LIMIT: u64 = 4 * 1024 * 1024;

/// The text blocks of the last assistant message with text, joined; `None` when the file cannot
/// be read or holds none in its last [`TAIL_LIMIT`] bytes.
pub fn last_assistant_text(path: &Path) -> Option<String> {
    let mut file = open_regular(path).ok()?;
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
    // Most lines are not the assistant's: skip them before decoding.
    if line.is_empty() || !line.windows(11).any(|w| w == b"\"assistant\"") {
        return None;
    }
    let entry: Entry<'_> = serde_json::from_slice(line).ok()?;
    if entry.kind.as_deref() != Some("assistant") {
        return None;
    }
    let content = entry.message?.content?;
    answer_text(&blocks(content).ok()?)
}

/// The session a transcript names in its first lines (`sessionId`).
pub fn session_of(path: &Path) -> Option<String> {
    let mut reader = BufReader::new(open_regular(path).ok()?);
    let mut buf = Vec::new();
    for _ in 0..50 {
        if read_line(&mut reader, &mut buf, LINE_LIMIT).ok()?.consumed == 0 {
            return None;
        }
        let Ok(entry) = serde_json::from_slice::<Entry<'_>>(buf.trim_ascii()) else {
            continue;
        };
        if let Some(id) = entry.session_id {
            return Some(id.into_owned());
        }
    }
    None
}

/// The usage of every API response in a transcript, counted the way an import counts it, in
/// time order. For costing a session recorded by hooks, whose transcript holds the usage the
/// hooks never see. Responses with no usage at all are left out.
pub fn transcript_usage(path: &Path) -> std::io::Result<Vec<ResponseUsage>> {
    let mut reader = BufReader::with_capacity(1 << 20, open_regular(path)?);
    let mut counted = Counted::default();
    let mut current: Current<()> = Current::default();
    let mut responses: Vec<ResponseUsage> = Vec::new();
    let mut keep = |response: super::Response<()>| {
        if response.first_time && response.has_usage() {
            responses.push(ResponseUsage {
                timestamp: response.last,
                model: response.model.clone().unwrap_or_else(|| "unknown".into()),
                usage: Tokens::from_usage(&response.usage()),
            });
        }
    };
    let mut buf = Vec::new();
    loop {
        // A line too long to be a transcript entry is skipped like one that does not parse.
        if read_line(&mut reader, &mut buf, LINE_LIMIT)?.consumed == 0 {
            break;
        }
        let Ok(entry) = serde_json::from_slice::<Entry<'_>>(buf.trim_ascii()) else {
            continue;
        };
        if entry.kind.as_deref() != Some("assistant") {
            continue;
        }
        let Some(message) = &entry.message else {
            continue;
        };
        let line = Line {
            message_id: message.id.as_deref(),
            request_id: entry.request_id.as_deref(),
            model: message.model.as_deref(),
            usage: message.usage,
            at: entry
                .timestamp
                .as_deref()
                .and_then(super::parse_time)
                .unwrap_or_default(),
        };
        if let Step::Started { ended: Some(done) } = current.line(&mut counted, &line) {
            keep(done);
        }
    }
    if let Some(done) = current.end() {
        keep(done);
    }
    responses.sort_by(|a, b| a.timestamp.total_cmp(&b.timestamp));
    Ok(responses)
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

    #[test]
    fn usage_is_counted_once_per_response_with_its_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(
            &path,
            concat!(
                r#"{"type":"assistant","timestamp":"2026-01-01T00:00:01Z","requestId":"r1","message":{"id":"m1","model":"claude-x","usage":{"output_tokens":1}}}"#,
                "\n",
                r#"{"type":"assistant","timestamp":"2026-01-01T00:00:02Z","requestId":"r1","message":{"id":"m1","model":"claude-x","usage":{"output_tokens":7}}}"#,
                "\n",
                r#"{"type":"assistant","timestamp":"2026-01-01T00:00:03Z","requestId":"r2","message":{"id":"m2","model":"claude-x","usage":{"output_tokens":2}}}"#,
                "\n",
            ),
        )
        .unwrap();
        let usage = transcript_usage(&path).unwrap();
        let outputs: Vec<u64> = usage.iter().map(|r| r.usage.output).collect();
        assert_eq!(outputs, [7, 2]);
    }
}
