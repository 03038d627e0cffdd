//! One message gathered as its bytes pass, kept whole up to [`MAX_WHOLE`] bytes and past it as
//! a cut copy ([`super::cut`]) with its first bytes and its real size, so that what the recorder
//! is handed, and what is held of a message of any size, stays bounded. The HTTP proxy gathers
//! each message it sees apart (a body, an event's data) this way; the stdio framer gathers each
//! message it finds the end of.

use super::cut::CutCopy;
use super::framing::{Frame, HEAD, MAX_WHOLE};

/// A message too large to keep whole, as the recorder is handed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// Its cut copy; `None` when even that grew too large.
    pub copy: Option<Vec<u8>>,
    /// Its first bytes, as they came.
    pub head: Vec<u8>,
    /// Its size in bytes.
    pub size: u64,
}

/// A gathered message: whole, or cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Whole(Vec<u8>),
    Cut(Cut),
}

impl Message {
    /// The message as the stdio framer hands one on, for the recorder.
    pub fn frame(&self) -> Frame<'_> {
        match self {
            Message::Whole(body) => Frame::Whole(body),
            Message::Cut(cut) => Frame::Cut {
                copy: cut.copy.as_deref(),
                head: &cut.head,
                size: cut.size,
            },
        }
    }

    /// What can be read of it as JSON: the message, or its cut copy.
    pub fn readable(&self) -> Option<&[u8]> {
        match self {
            Message::Whole(body) => Some(body),
            Message::Cut(cut) => cut.copy.as_deref(),
        }
    }

    /// The message, or the first bytes of one that was cut.
    pub fn head(&self) -> &[u8] {
        match self {
            Message::Whole(body) => body,
            Message::Cut(cut) => &cut.head,
        }
    }

    /// The message gathered from `bytes`, held whole elsewhere.
    pub fn of(bytes: &[u8]) -> Message {
        let mut gathered = Gathered::default();
        gathered.push(bytes);
        gathered.finish()
    }
}

/// A message fed in chunks of any size.
#[derive(Debug, Default)]
pub struct Gathered {
    /// The message, or once it is cut, its first [`HEAD`] bytes.
    pub(super) kept: Vec<u8>,
    pub(super) size: u64,
    pub(super) cut: Option<CutCopy>,
}

impl Gathered {
    pub fn push(&mut self, bytes: &[u8]) {
        self.size += bytes.len() as u64;
        if let Some(cut) = &mut self.cut {
            cut.push(bytes);
            return;
        }
        if self.kept.len() + bytes.len() <= MAX_WHOLE {
            self.kept.extend_from_slice(bytes);
            return;
        }
        let mut cut = CutCopy::new();
        cut.push(&self.kept);
        cut.push(bytes);
        self.cut = Some(cut);
        self.kept.truncate(HEAD);
        self.kept.shrink_to(HEAD);
    }

    /// Passes over `len` bytes of the message that were not fed, when they all lie inside the
    /// string being read (`text` says, from whether it starts right after a backslash, whether
    /// they stay in it and end right after one); returns whether they did. The message is cut
    /// from then on, whatever its size, so that its copy holds only bytes as they came.
    pub(super) fn skip_text(&mut self, len: u64, text: impl Fn(bool) -> Option<bool>) -> bool {
        if self.cut.is_none() {
            let mut cut = CutCopy::new();
            cut.push(&self.kept);
            self.cut = Some(cut);
            self.kept.truncate(HEAD);
        }
        let Some(cut) = &mut self.cut else {
            return false;
        };
        let Some(escaped) = cut.in_text().and_then(text) else {
            return false;
        };
        cut.skip_text(len, escaped);
        self.size += len;
        true
    }

    /// How many bytes were fed.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn finish(self) -> Message {
        match self.cut {
            None => Message::Whole(self.kept),
            Some(cut) => Message::Cut(Cut {
                copy: cut.finish(),
                head: self.kept,
                size: self.size,
            }),
        }
    }

    /// Hands on the message gathered so far, and starts the next.
    pub fn take(&mut self) -> Message {
        std::mem::take(self).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_kept_whole_up_to_the_stdio_bound_and_cut_past_it() {
        let small = br#"{"jsonrpc":"2.0","id":1,"result":{}}"#;
        assert_eq!(Message::of(small), Message::Whole(small.to_vec()));
        let text = "x".repeat(3 * MAX_WHOLE);
        let large = format!(r#"{{"jsonrpc":"2.0","id":"k","result":{{"text":"{text}"}}}}"#);
        let mut gathered = Gathered::default();
        for chunk in large.as_bytes().chunks(4096) {
            gathered.push(chunk);
        }
        let Message::Cut(cut) = gathered.finish() else {
            panic!("not cut");
        };
        assert_eq!(cut.size, large.len() as u64);
        assert_eq!(cut.head, large.as_bytes()[..HEAD]);
        let copy: serde_json::Value = serde_json::from_slice(&cut.copy.unwrap()).unwrap();
        assert_eq!(copy["id"], "k");
    }
}
