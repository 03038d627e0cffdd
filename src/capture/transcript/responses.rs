//! API responses in a transcript, and their usage: one count per response, its last line wins.
//!
//! Claude Code writes each content block of one streamed API response as its own line, each
//! repeating the usage, and only the last holds the final output count. A response (one
//! `message.id` + `requestId`) is therefore counted once, with the usage of its last line, when
//! the next response starts, a person types, or the file ends. A response met again later in
//! the same file (a resumed conversation copies its history) is not counted again. This is the
//! rule ccusage applies too; `tests/ccusage_crosscheck.rs` holds us to its totals.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::model::json_mend::replace_non_json_numbers;
use crate::model::{Tokens, deep_json};

/// Responses already counted in one file, by a hash of their ids, so memory does not grow with
/// the ids' length. The hash is stable across builds: an import keeps the set to bring the
/// file up to date later.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Counted(super::repeats::HashedSet);

/// One API response, read from its lines. `T` is what the reader keeps with it (import keeps
/// the id of the `llm_request` event it wrote).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Response<T> {
    key: u64,
    keyed: bool,
    /// False when the response was met earlier in the file: it is then neither counted nor
    /// recorded again.
    pub first_time: bool,
    /// When its first and last lines were written.
    pub first: f64,
    pub last: f64,
    pub model: Option<String>,
    pub message_id: Option<String>,
    pub request_id: Option<String>,
    /// The raw usage of its latest line that had one; parsed once, when it ends.
    usage: Option<String>,
    pub tag: T,
}

impl<T> Response<T> {
    /// The usage of its last line, as written (`null` when no line had one).
    pub fn usage(&self) -> Value {
        let Some(usage) = self.usage.as_deref() else {
            return Value::Null;
        };
        // A count no float holds (`1e999`) read as none (`null`) would make its tokens none
        // and its cost exact at $0; mended, it is kept as its text: unknown, and said so.
        deep_json::from_str(usage)
            .ok()
            .or_else(|| {
                replace_non_json_numbers(usage.as_bytes())
                    .and_then(|text| deep_json::from_slice(&text).ok())
            })
            .unwrap_or(Value::Null)
    }

    /// The response as a record kept on disk holds it (an import's, to carry on from): its
    /// texts and its usage as `scrub` leaves them, each read back as what it was read as.
    #[must_use]
    pub fn kept(&self, scrub: impl Fn(&mut Value)) -> Self
    where
        T: Clone,
    {
        let text = |text: &Option<String>| {
            text.as_ref().map(|text| {
                let mut value = Value::String(text.clone());
                scrub(&mut value);
                match value {
                    Value::String(kept) => kept,
                    other => other.to_string(),
                }
            })
        };
        let usage = self.usage.as_ref().map(|written| {
            let read = self.usage();
            let mut kept = read.clone();
            scrub(&mut kept);
            // Text that reads whole and holds nothing scrubbed stays as it was written.
            let whole = deep_json::from_str::<Value>(written).is_ok_and(|v| v == read);
            if kept == read && whole {
                written.clone()
            } else {
                kept.to_string()
            }
        });
        Response {
            model: text(&self.model),
            message_id: text(&self.message_id),
            request_id: text(&self.request_id),
            usage,
            tag: self.tag.clone(),
            ..*self
        }
    }

    pub fn has_usage(&self) -> bool {
        self.usage.is_some()
    }

    pub fn tokens(&self) -> Tokens {
        Tokens::from_usage(&self.usage())
    }
}

/// One assistant line, as far as responses go.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    pub message_id: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub model: Option<&'a str>,
    pub usage: Option<&'a RawValue>,
    pub at: f64,
}

/// What a line did to the response in progress.
#[derive(Debug)]
pub enum Step<T> {
    /// It continues the response in progress.
    Same,
    /// It starts a new response; the one before, if any, ended.
    Started { ended: Option<Response<T>> },
}

/// The response being read in one conversation (the main one, or a sidechain).
#[derive(Debug)]
pub struct Current<T> {
    open: Option<Response<T>>,
}

impl<T> Default for Current<T> {
    fn default() -> Self {
        Current { open: None }
    }
}

impl<T: Default> Current<T> {
    /// Notes one assistant line.
    pub fn line(&mut self, counted: &mut Counted, line: &Line<'_>) -> Step<T> {
        let keyed = line.message_id.is_some() || line.request_id.is_some();
        let key = key(line.message_id, line.request_id);
        let same = self.open.as_ref().is_some_and(|r| r.keyed && r.key == key);
        let step = if same {
            Step::Same
        } else {
            let ended = self.open.take();
            self.open = Some(Response {
                key,
                keyed,
                first_time: !keyed || counted.0.insert(key),
                first: line.at,
                last: line.at,
                model: line.model.map(str::to_owned),
                message_id: line.message_id.map(str::to_owned),
                request_id: line.request_id.map(str::to_owned),
                usage: None,
                tag: T::default(),
            });
            Step::Started { ended }
        };
        if let Some(open) = self.open.as_mut() {
            open.last = line.at;
            if let Some(usage) = line.usage {
                open.usage = Some(usage.get().to_owned());
            }
        }
        step
    }

    /// A conversation whose response `open` is in progress (an import carrying on where it
    /// stopped).
    pub fn resumed(open: Option<Response<T>>) -> Self {
        Current { open }
    }

    /// The response in progress.
    pub fn open(&self) -> Option<&Response<T>> {
        self.open.as_ref()
    }

    /// The response in progress, to keep something with it.
    pub fn open_mut(&mut self) -> Option<&mut Response<T>> {
        self.open.as_mut()
    }

    /// Ends the response in progress (a person typed, or the file ended).
    pub fn end(&mut self) -> Option<Response<T>> {
        self.open.take()
    }
}

/// A response's identity: a stable hash of its message id and request id, each of which may be
/// missing.
fn key(message_id: Option<&str>, request_id: Option<&str>) -> u64 {
    use super::repeats::stable_hash;
    [message_id, request_id]
        .iter()
        .fold(stable_hash(0, b"response"), |h, part| match part {
            Some(id) => stable_hash(stable_hash(h, b"s"), id.as_bytes()),
            None => stable_hash(h, b"n"),
        })
}

/// One API response's usage, read from a transcript without importing it.
#[derive(Debug, Clone)]
pub struct ResponseUsage {
    /// When its last line was written.
    pub timestamp: f64,
    pub model: String,
    pub usage: Tokens,
    /// Read from a subagent's transcript: the session's spend, but another context than the
    /// session's own (a subagent has its own window).
    pub subagent: bool,
}

/// The usage an agent's log holds of its responses, read without importing it.
#[derive(Debug, Clone, Default)]
pub struct LoggedUsage {
    /// Each response whose usage can be believed, in time order.
    pub responses: Vec<ResponseUsage>,
    /// Responses whose usage holds a count no response can have (`Tokens::believable`):
    /// unknown, left out of `responses` and every sum, and counted so that a view can say so.
    pub unbelieved: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(id: &'a str, usage: &'a RawValue, at: f64) -> Line<'a> {
        Line {
            message_id: Some(id),
            request_id: Some("req"),
            model: Some("claude"),
            usage: Some(usage),
            at,
        }
    }

    #[test]
    fn one_count_per_response_and_its_last_line_wins() {
        let first = RawValue::from_string(r#"{"output_tokens":1}"#.into()).unwrap();
        let last = RawValue::from_string(r#"{"output_tokens":9}"#.into()).unwrap();
        let mut counted = Counted::default();
        let mut current: Current<()> = Current::default();
        assert!(matches!(
            current.line(&mut counted, &line("a", &first, 1.0)),
            Step::Started { ended: None }
        ));
        assert!(matches!(
            current.line(&mut counted, &line("a", &last, 2.0)),
            Step::Same
        ));
        let Step::Started { ended: Some(a) } = current.line(&mut counted, &line("b", &first, 3.0))
        else {
            panic!("b starts a new response")
        };
        assert_eq!((a.tokens().output, a.first, a.last), (9, 1.0, 2.0));
        assert!(a.first_time);
        // `a` again (a resumed conversation's copy) is not counted twice.
        let _ = current.line(&mut counted, &line("a", &last, 4.0));
        let again = current.end().unwrap();
        assert!(!again.first_time);
    }
}
