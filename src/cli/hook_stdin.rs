//! A hook's stdin, read until the payload's JSON document is whole rather than until the agent
//! closes the pipe: an agent (or a wrapper) that writes the payload and keeps the pipe open must
//! not wait for the hook until its hook timeout.
//!
//! The bytes are read straight from descriptor 0 (not through `std`'s buffered `Stdin`), so
//! that what `poll` says of the pipe is all there is.

use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::io::Errno;

/// How long the hook waits, once the document is whole, for more bytes or the pipe's end. On
/// the normal path the end is already there and `poll` answers at once; only a pipe kept open
/// costs this. Bytes that come in time are read: whitespace keeps the document whole, anything
/// else spoils it (read to the end, as any payload that is not one document).
const GRACE: Duration = Duration::from_millis(10);

/// How long the hook waits for the next byte of a payload that is not whole yet. An agent
/// writes its payload at once; one that wrote part of it and keeps the pipe open would keep the
/// hook (and the agent waiting on it) for ever, or until the agent's own hook timeout.
pub(super) const STALL: Duration = Duration::from_secs(5);

/// The size of each read.
const CHUNK: usize = 64 * 1024;

/// Stdin's bytes: up to the end of its JSON document (object or array) and any whitespace that
/// follows at once, else up to the end of stdin or `limit` bytes.
pub(super) fn read(limit: u64) -> std::io::Result<Vec<u8>> {
    let stdin = std::io::stdin();
    read_from(stdin.as_fd(), limit)
}

fn read_from(fd: BorrowedFd<'_>, limit: u64) -> std::io::Result<Vec<u8>> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut data = Vec::with_capacity(8 * 1024);
    let mut chunk = vec![0u8; CHUNK];
    let mut document = Document::default();
    while data.len() < limit {
        if document.is_whole() {
            if !readable_within(fd, GRACE) {
                break;
            }
        } else if !readable_within(fd, STALL) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "no byte came for {} s and the payload is not whole ({} bytes read)",
                    STALL.as_secs(),
                    data.len()
                ),
            ));
        }
        let want = CHUNK.min(limit - data.len());
        let got = match rustix::io::read(fd, &mut chunk[..want]) {
            Ok(0) => break,
            Ok(got) => got,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        };
        document.feed(&chunk[..got]);
        data.extend_from_slice(&chunk[..got]);
    }
    // A pipe does not say how much it holds: the buffer grew by doubling, and the room it did
    // not fill (16 MiB of a 48 MiB payload's) is given back, for the hook holds it to the end.
    data.shrink_to_fit();
    Ok(data)
}

/// Whether `fd` has bytes (or its end) to read within `wait`.
fn readable_within(fd: BorrowedFd<'_>, wait: Duration) -> bool {
    let timeout = Timespec {
        tv_sec: wait.as_secs().try_into().unwrap_or(i64::MAX),
        tv_nsec: wait.subsec_nanos().into(),
    };
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    loop {
        match poll(&mut fds, Some(&timeout)) {
            Ok(n) => return n > 0,
            Err(Errno::INTR) => {}
            // A descriptor poll cannot watch: reading it is the only way to know.
            Err(_) => return true,
        }
    }
}

/// Where a JSON document stands in the bytes seen so far: its nesting depth and whether it is
/// inside a string, tracked byte by byte. Only an object or array can be known to have ended
/// (a scalar ends where the input does).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Document {
    /// Nothing but whitespace (and a byte-order mark) yet.
    #[default]
    Before,
    Inside {
        depth: usize,
        in_string: bool,
        escaped: bool,
    },
    /// The top-level value has closed, with only whitespace after it.
    Whole,
    /// Not one object or array: read to the end.
    Never,
}

impl Document {
    fn is_whole(self) -> bool {
        self == Document::Whole
    }

    fn feed(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            *self = self.next(byte);
        }
    }

    fn next(self, byte: u8) -> Document {
        match self {
            Document::Before => match byte {
                b'{' | b'[' => Document::Inside {
                    depth: 1,
                    in_string: false,
                    escaped: false,
                },
                // A byte-order mark's bytes, which the payload's reader skips.
                0xEF | 0xBB | 0xBF => Document::Before,
                b if b.is_ascii_whitespace() => Document::Before,
                _ => Document::Never,
            },
            Document::Inside {
                depth,
                in_string: true,
                escaped,
            } => Document::Inside {
                depth,
                in_string: escaped || byte != b'"',
                escaped: !escaped && byte == b'\\',
            },
            Document::Inside { depth, .. } => {
                let depth = match byte {
                    b'{' | b'[' => depth + 1,
                    b'}' | b']' => depth - 1,
                    _ => depth,
                };
                if depth == 0 {
                    Document::Whole
                } else {
                    Document::Inside {
                        depth,
                        in_string: byte == b'"',
                        escaped: false,
                    }
                }
            }
            Document::Whole if byte.is_ascii_whitespace() => Document::Whole,
            Document::Whole | Document::Never => Document::Never,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Document;

    fn after(bytes: &[u8]) -> Document {
        let mut document = Document::default();
        document.feed(bytes);
        document
    }

    #[test]
    fn a_document_is_whole_at_its_last_bracket_not_at_one_in_a_string() {
        for whole in [
            &br#"{"a":1}"#[..],
            b"  \xEF\xBB\xBF{\"a\":[1,{\"b\":[]}]}\n",
            br#"{"s":"}]\"}"}"#,
            br#"{"s":"\\"}"#,
            b"[]",
        ] {
            assert_eq!(
                after(whole),
                Document::Whole,
                "{}",
                String::from_utf8_lossy(whole)
            );
        }
        for open in [
            &br#"{"a":1"#[..],
            br#"{"s":"}"#,
            br#"{"s":"\"}"#,
            br#"{"s":"\\\"}"#,
            b"",
            b"  ",
        ] {
            assert!(!after(open).is_whole(), "{}", String::from_utf8_lossy(open));
        }
        for never in [&b"42"[..], b"{}x", b"{} {}", b"\"{}\"", b"not json"] {
            assert_eq!(
                after(never),
                Document::Never,
                "{}",
                String::from_utf8_lossy(never)
            );
        }
    }

    #[test]
    fn bytes_split_anywhere_give_the_same_answer() {
        let text = br#"{"prompt":"say \"}\" and ]} then {{ \\","n":[1,{"x":"]"}]}"#;
        for at in 0..text.len() {
            let mut document = Document::default();
            document.feed(&text[..at]);
            assert!(!document.is_whole(), "{at}");
            document.feed(&text[at..]);
            assert!(document.is_whole(), "{at}");
        }
    }

    /// A pipe written and kept open: the read ends with the document; a pipe closed after a
    /// scalar ends at its end.
    #[test]
    fn a_read_ends_with_the_document_while_the_pipe_stays_open() {
        use std::io::Write;
        use std::os::fd::AsFd;
        let (reader, mut writer) = std::io::pipe().unwrap();
        writer.write_all(b"{\"a\":\"}\"}\n").unwrap();
        let read = super::read_from(reader.as_fd(), 1 << 20).unwrap();
        assert_eq!(read, b"{\"a\":\"}\"}\n");
        writer.write_all(b"42").unwrap();
        drop(writer);
        assert_eq!(super::read_from(reader.as_fd(), 1 << 20).unwrap(), b"42");
        let (reader, mut writer) = std::io::pipe().unwrap();
        writer.write_all(b"{\"a\":1}").unwrap();
        assert_eq!(super::read_from(reader.as_fd(), 3).unwrap(), b"{\"a");
    }
}
