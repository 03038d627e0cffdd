//! Reading an agent's own log from its end: a hook looks for what the agent wrote last (its
//! answer, a response's exact tokens) without reading a long file whole.

use std::io::{Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::Path;

use crate::store::open_regular;

/// How much the first look reads; each further look reads four times as much, back to `limit`.
const FIRST_LOOK: u64 = 64 * 1024;

/// Hands `look` the lines of the file at `path`, last first, within its last `limit` bytes (a
/// line cut by that limit is never handed over), until `look` breaks with its finding. `None`
/// when the file cannot be read (it is opened only if it is a regular file), or no line gave a
/// finding. Empty lines are skipped; each line is handed over once, as its JSON text
/// ([`crate::store::json_text`]: trimmed, without a byte order mark).
pub(crate) fn search_from_end<T>(
    path: &Path,
    limit: u64,
    mut look: impl FnMut(&[u8]) -> ControlFlow<Option<T>>,
) -> Option<T> {
    let mut file = open_regular(path).ok()?;
    let len = file.metadata().ok()?.len();
    // Everything from `end` on was handed over, but for `carry`: the bytes from `end` to the
    // first newline after it, the line the last look may have cut.
    let mut end = len;
    let mut carry = Vec::new();
    let mut window = FIRST_LOOK;
    loop {
        let start = end.saturating_sub(window).max(len.saturating_sub(limit));
        // One byte before the look too: whether its first line starts there.
        let from = start.saturating_sub(1);
        file.seek(SeekFrom::Start(from)).ok()?;
        let mut buf = Vec::with_capacity((end - from) as usize + carry.len());
        file.by_ref().take(end - from).read_to_end(&mut buf).ok()?;
        if buf.len() as u64 != end - from {
            // The file shrank under us: what it holds now is not what was measured.
            return None;
        }
        buf.extend_from_slice(&carry);
        // A look that does not start the file may begin inside a line: keep that part for the
        // next look, which reads the rest of it.
        let body_from = if start == 0 {
            0
        } else {
            memchr::memchr(b'\n', &buf).map_or(buf.len(), |i| i + 1)
        };
        for line in buf[body_from..].split(|&b| b == b'\n').rev() {
            let line = crate::store::json_text(line);
            if line.is_empty() {
                continue;
            }
            if let ControlFlow::Break(found) = look(line) {
                return found;
            }
        }
        if start == 0 || start <= len.saturating_sub(limit) {
            return None;
        }
        carry = buf[usize::from(from < start)..body_from].to_vec();
        end = start;
        window = window.saturating_mul(4);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_seen(text: &str, limit: u64) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, text).unwrap();
        let mut seen = Vec::new();
        let found: Option<()> = search_from_end(&path, limit, |line| {
            seen.push(String::from_utf8(line.to_vec()).unwrap());
            ControlFlow::Continue(())
        });
        assert_eq!(found, None);
        seen
    }

    #[test]
    fn every_line_is_handed_over_once_last_first_across_looks() {
        // Lines longer than a look, so that every look cuts one.
        let lines: Vec<String> = (0..40)
            .map(|i| format!("{i}:{}", "x".repeat(10_000 + i * 997)))
            .collect();
        let text = lines.join("\n") + "\n";
        let seen = lines_seen(&text, u64::MAX);
        let expected: Vec<String> = lines.iter().rev().cloned().collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn a_line_the_limit_cuts_is_never_handed_over() {
        let text = format!("{}\nb\nc\n", "a".repeat(100));
        assert_eq!(lines_seen(&text, 10), ["c", "b"]);
        assert_eq!(lines_seen(&text, 200), ["c", "b", &"a".repeat(100)]);
        // A line that starts where the limit falls is whole.
        assert_eq!(lines_seen(&text, 4), ["c", "b"]);
        assert_eq!(lines_seen(&text, 5), ["c", "b"]);
        assert_eq!(lines_seen(&text, 3), ["c"]);
    }

    #[test]
    fn every_limit_hands_over_exactly_the_lines_wholly_within_it() {
        let text = "one\n\ntwo three\nfour\n\n\nfive six seven\neight";
        let len = text.len();
        for limit in 0..=len + 1 {
            // A line is whole within the limit when it starts at or after the limit's first byte.
            let first = len.saturating_sub(limit);
            let mut expected = Vec::new();
            let mut at = 0;
            for line in text.split('\n') {
                if at >= first && !line.is_empty() {
                    expected.push(line.to_owned());
                }
                at += line.len() + 1;
            }
            expected.reverse();
            assert_eq!(lines_seen(text, limit as u64), expected, "limit {limit}");
        }
    }

    #[test]
    fn the_search_stops_at_the_first_finding() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "one\ntwo\nthree").unwrap();
        let mut looked = 0;
        let found = search_from_end(&path, 1 << 20, |line| {
            looked += 1;
            match line {
                b"two" => ControlFlow::Break(Some("found two")),
                _ => ControlFlow::Continue(()),
            }
        });
        assert_eq!((found, looked), (Some("found two"), 2));
        assert_eq!(
            search_from_end::<()>(&dir.path().join("none"), 9, |_| unreachable!()),
            None
        );
    }
}
