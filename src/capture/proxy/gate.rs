//! The client's side of the stdio proxy when a policy is in force: each message is held until
//! it is whole and judged, whatever its framing (newline-delimited or `Content-Length`), then
//! forwarded as it came or answered instead.
//!
//! A server may read the bytes differently from us (a newline-delimited server reads a
//! `Content-Length` body line by line), so a message is judged as both would read it: its body,
//! and each of its lines when it has several. What cannot be judged is not forwarded: a message
//! with a `{` in it that does not read as JSON, and a message larger than [`MAX_JUDGED`]
//! (whose start cannot go on before its end has been judged, and which is not held whole).

use serde_json::{Value, json};

use super::enforce::{Enforcer, Refusal};
use super::framing::{Frame, Framer};

/// The largest client message held to be judged; a larger one is not forwarded.
pub const MAX_JUDGED: usize = 16 * 1024 * 1024;

const PREFIX: &[u8] = b"content-length:";

/// What to do with the client's bytes, in the order they came.
#[derive(Debug, PartialEq, Eq)]
pub enum Act<'a> {
    /// These bytes go on to the server as they came.
    Forward(&'a [u8]),
    /// A message is not forwarded; this goes back to the client instead (lines of JSON).
    Answer(Vec<u8>),
    /// A message is not forwarded and has no one to answer; why, for stderr.
    Drop(String),
}

/// What was decided about one message, before its bytes are let go.
enum Verdict {
    Forward,
    Answer(Vec<u8>),
    Drop(String),
}

/// Holds the client's messages until each is judged.
#[derive(Debug, Default)]
pub struct Gate {
    framer: Framer,
    /// The client's bytes not yet forwarded or let go, from `held_at` in the stream.
    held: Vec<u8>,
    held_at: u64,
    /// The message in progress has grown past [`MAX_JUDGED`]: its bytes are let go as they
    /// come, and it is refused when it ends.
    too_large: bool,
}

impl Gate {
    pub fn new() -> Gate {
        // Judged as a `Content-Length` server reads a body, and as a line server reads it.
        Gate {
            framer: Framer::at_length(),
            ..Gate::default()
        }
    }

    /// Takes a chunk of what the client sent and says, in order, what becomes of each message
    /// it completes.
    pub fn push<E>(
        &mut self,
        enforcer: &Enforcer,
        chunk: &[u8],
        mut act: impl FnMut(Act<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.held.extend_from_slice(chunk);
        let mut verdicts = Vec::new();
        let (held, held_at, too_large) = (&self.held, self.held_at, &mut self.too_large);
        let mut from = held_at;
        self.framer.push_ends(chunk, |frame, end| {
            verdicts.push((
                end,
                judge(enforcer, frame, held, held_at, from, end, too_large),
            ));
            from = end;
        });
        self.apply(verdicts, &mut act)?;
        if self.too_large || self.held.len() > MAX_JUDGED {
            // Not held any longer: the message is refused when it ends, whatever it holds.
            self.too_large = true;
            self.held_at += self.held.len() as u64;
            self.held.clear();
            self.held.shrink_to(64 * 1024);
        }
        Ok(())
    }

    /// The client has closed its side: what is left is judged as a last message.
    pub fn finish<E>(
        &mut self,
        enforcer: &Enforcer,
        mut act: impl FnMut(Act<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut verdicts = Vec::new();
        let (held, held_at, too_large) = (&self.held, self.held_at, &mut self.too_large);
        let mut from = held_at;
        self.framer.finish_ends(|frame, end| {
            verdicts.push((
                end,
                judge(enforcer, frame, held, held_at, from, end, too_large),
            ));
            from = end;
        });
        self.apply(verdicts, &mut act)?;
        // Whitespace after the last message.
        if !self.held.is_empty() {
            act(Act::Forward(&self.held))?;
            self.held_at += self.held.len() as u64;
            self.held.clear();
        }
        Ok(())
    }

    /// Carries out the verdicts on the held bytes each message spans, and lets them go.
    fn apply<E>(
        &mut self,
        verdicts: Vec<(u64, Verdict)>,
        act: &mut impl FnMut(Act<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut start = 0;
        for (end, verdict) in verdicts {
            let end = usize::try_from(end.saturating_sub(self.held_at))
                .unwrap_or(usize::MAX)
                .min(self.held.len());
            let bytes = &self.held[start.min(end)..end];
            start = end;
            match verdict {
                Verdict::Forward => act(Act::Forward(bytes))?,
                Verdict::Answer(answer) => act(Act::Answer(answer))?,
                Verdict::Drop(why) => act(Act::Drop(why))?,
            }
        }
        self.held.drain(..start);
        self.held_at += start as u64;
        Ok(())
    }
}

/// The verdict on one message: `frame` as the framer read it, and the bytes it came in (from
/// `from` to `end` in the stream, held from `held_at`).
fn judge(
    enforcer: &Enforcer,
    frame: Frame<'_>,
    held: &[u8],
    held_at: u64,
    from: u64,
    end: u64,
    too_large: &mut bool,
) -> Verdict {
    if std::mem::take(too_large) {
        return too_large_verdict(frame);
    }
    let offset = |at: u64| usize::try_from(at.saturating_sub(held_at)).unwrap_or(usize::MAX);
    let raw = &held[offset(from).min(held.len())..offset(end).min(held.len())];
    // The message's body: as the framer kept it, or, for one past the framer's whole size but
    // within ours, read again from the held bytes (the last `size` of them for a
    // `Content-Length` body, all of them for a line).
    let bodies: Vec<&[u8]> = match frame {
        Frame::Whole(body) => vec![body],
        Frame::Cut { size, .. } => {
            let size = usize::try_from(size).unwrap_or(usize::MAX).min(raw.len());
            vec![&raw[raw.len() - size..], raw.trim_ascii()]
        }
    };
    // An answer goes back in the framing its message came in.
    let framed = raw
        .trim_ascii_start()
        .get(..PREFIX.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(PREFIX));
    let mut refused = false;
    let mut answers: Vec<Value> = Vec::new();
    let mut judge_text = |text: &[u8]| -> bool {
        let Ok(value) = super::json::read(text) else {
            return false;
        };
        if let Some(Refusal { answer }) = enforcer.refusal(&value) {
            refused = true;
            if let Some(answer) = answer
                && !answers.contains(&answer)
            {
                answers.push(answer);
            }
        }
        true
    };
    let mut read = false;
    for body in &bodies {
        read |= judge_text(body);
    }
    // As a newline-delimited server would read the same bytes.
    let lines: Vec<&[u8]> = raw
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|line| !line.is_empty())
        .collect();
    if lines.len() > 1 || !read {
        for line in lines {
            if !bodies.contains(&line) {
                read |= judge_text(line);
            }
        }
    }
    if refused {
        return if answers.is_empty() {
            Verdict::Drop(
                "a tools/call notification the policy denies was not forwarded".to_owned(),
            )
        } else {
            Verdict::Answer(framed_as(&answers, framed))
        };
    }
    // A message that could hold a JSON-RPC request (an object) but does not read as JSON
    // cannot be judged; the server would have answered it with a parse error too.
    if !read && raw.contains(&b'{') {
        return Verdict::Answer(framed_as(&[super::enforce::unreadable()], framed));
    }
    Verdict::Forward
}

/// The verdict on a message larger than [`MAX_JUDGED`]: each request in it (its id and method
/// read from the framer's cut copy) is answered with an error; anything else is dropped.
fn too_large_verdict(frame: Frame<'_>) -> Verdict {
    let (copy, size) = match frame {
        Frame::Cut { copy, size, .. } => (copy, size),
        Frame::Whole(body) => (Some(body), body.len() as u64),
    };
    let value = copy.and_then(|c| super::json::read(c).ok());
    let messages = match value {
        Some(Value::Array(batch)) => batch,
        Some(value) => vec![value],
        None => Vec::new(),
    };
    let message = format!(
        "Not sent: a message of {size} bytes is larger than agent-strace judges against the policy ({} MiB); send less at once.",
        MAX_JUDGED / (1024 * 1024)
    );
    let answers: Vec<Value> = messages
        .iter()
        .filter(|m| m.get("method").is_some())
        .filter_map(|m| m.get("id"))
        .map(|id| {
            json!({
                "jsonrpc": "2.0",
                "id": id,
                "error": {"code": -32600, "message": message, "data": {"denied_by": "agent-strace"}},
            })
        })
        .collect();
    if answers.is_empty() {
        Verdict::Drop(format!(
            "a client message of {size} bytes was not forwarded: it is larger than a policy is judged on ({} MiB)",
            MAX_JUDGED / (1024 * 1024)
        ))
    } else {
        Verdict::Answer(framed_as(&answers, false))
    }
}

/// Answers as newline-delimited JSON (what MCP's stdio transport carries), or each after its
/// `Content-Length` header when the client framed its message so.
fn framed_as(answers: &[Value], framed: bool) -> Vec<u8> {
    let mut bytes = Vec::new();
    for answer in answers {
        let text = answer.to_string();
        if framed {
            bytes.extend_from_slice(format!("Content-Length: {}\r\n\r\n", text.len()).as_bytes());
            bytes.extend_from_slice(text.as_bytes());
        } else {
            bytes.extend_from_slice(text.as_bytes());
            bytes.push(b'\n');
        }
    }
    bytes
}
