//! Finding JSON-RPC messages in a byte stream: newline-delimited JSON, and `Content-Length`
//! framed messages as some servers send them. Used only to record: the relay itself passes the
//! bytes on untouched, whatever this makes of them.

/// Splits a stream, fed in chunks of any size, into message bodies.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    start: usize,
}

/// How many consumed bytes may sit at the front of the buffer before it is compacted.
const COMPACT_AT: usize = 64 * 1024;

impl Framer {
    pub fn new() -> Framer {
        Framer::default()
    }

    /// Adds a chunk and calls `emit` with each message body it completes.
    pub fn push(&mut self, chunk: &[u8], mut emit: impl FnMut(&[u8])) {
        self.buf.extend_from_slice(chunk);
        while let Some((body, consumed)) = next_message(&self.buf[self.start..]) {
            if let Some(body) = body {
                emit(&self.buf[self.start + body.0..self.start + body.1]);
            }
            self.start += consumed;
        }
        if self.start >= COMPACT_AT || self.start == self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }

    /// What is left when the stream ends: a last message without its newline.
    pub fn finish(&mut self, mut emit: impl FnMut(&[u8])) {
        let rest = &self.buf[self.start..];
        let trimmed = rest.trim_ascii();
        if !trimmed.is_empty() {
            emit(trimmed);
        }
        self.buf.clear();
        self.start = 0;
    }
}

/// The next message in `data`: its body's range (`None` for a blank line) and how many bytes it
/// takes; `None` when no whole message is there yet.
fn next_message(data: &[u8]) -> Option<(Option<(usize, usize)>, usize)> {
    let skip = data.iter().take_while(|b| b.is_ascii_whitespace()).count();
    if skip == data.len() {
        return None;
    }
    if skip > 0 {
        return Some((None, skip));
    }
    if starts_with_ignore_case(data, b"content-length:") {
        let (header_end, body_start) = find_header_end(data)?;
        let length = content_length(&data[..header_end])?;
        let end = body_start.checked_add(length)?;
        if data.len() < end {
            return None;
        }
        return Some((Some((body_start, end)), end));
    }
    let newline = data.iter().position(|&b| b == b'\n')?;
    let mut end = newline;
    if end > 0 && data[end - 1] == b'\r' {
        end -= 1;
    }
    Some((Some((0, end)), newline + 1))
}

fn starts_with_ignore_case(data: &[u8], prefix: &[u8]) -> bool {
    data.len() >= prefix.len() && data[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Where the headers end (`\r\n\r\n` or `\n\n`): the end of the headers and the body's start.
fn find_header_end(data: &[u8]) -> Option<(usize, usize)> {
    for i in 0..data.len() {
        if data[i..].starts_with(b"\r\n\r\n") {
            return Some((i, i + 4));
        }
        if data[i..].starts_with(b"\n\n") {
            return Some((i, i + 2));
        }
    }
    None
}

fn content_length(headers: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(headers).ok()?;
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(chunks: &[&[u8]]) -> Vec<String> {
        let mut framer = Framer::new();
        let mut out = Vec::new();
        for chunk in chunks {
            framer.push(chunk, |m| out.push(String::from_utf8_lossy(m).into_owned()));
        }
        framer.finish(|m| out.push(String::from_utf8_lossy(m).into_owned()));
        out
    }

    #[test]
    fn both_framings_and_any_split() {
        let stream = b"{\"a\":1}\n\r\nContent-Length: 7\r\n\r\n{\"b\":2}{\"c\":3}\r\ncontent-length:2\n\n[]{\"d\":\"\xc3\xa9\"}";
        let whole = frames(&[stream]);
        assert_eq!(
            whole,
            ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}", "[]", "{\"d\":\"é\"}"]
        );
        for cut in 0..stream.len() {
            assert_eq!(
                frames(&[&stream[..cut], &stream[cut..]]),
                whole,
                "cut at {cut}"
            );
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(frames(&bytes), whole);
    }
}
