//! The usage an `assistant_response` carries, counted once per API response.
//!
//! Our writers put a response's usage on an `llm_response`. The Python tool's `import` puts it
//! on the `assistant_response` it writes for each assistant line of a Claude Code transcript
//! (with the line's `model` and conversation, `context_stream`), and Claude Code writes one line
//! per content block of a streamed response, each repeating the usage, the last with the final
//! output count; a resumed conversation copies them again later in the file. That import keeps
//! no message id, so a line is taken for a response met before in its conversation when both
//! read the same context (input, cache-write and cache-read tokens alike): a new request reads
//! at least what the one before it wrote, so two requests never read the same. A repeat adds
//! what its usage has more than the response's lines before it (the output streamed since), so
//! each response counts once, with its latest line's usage, the rule the transcript importer
//! applies by message id (`capture::transcript::responses`).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::event::{Event, EventType};
use super::head::EventHead;
use super::pricing;
use super::usage::Tokens;

/// The key of the conversation an imported line belongs to (the Python tool's import: `main`,
/// or `sidechain:…` for a subagent's lines in the same file).
const STREAM: &str = "context_stream";

/// What one `assistant_response` adds to a session's usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerUsage<'a> {
    pub model: Option<&'a str>,
    /// The tokens it adds: all of its usage for a new response, what it has more than the
    /// response's lines before it for a repeat.
    pub tokens: Tokens,
    /// It starts a response (else it is a later line of one met before, and counts no new
    /// response).
    pub first: bool,
    /// The response's context is priced at long-context rates ([`pricing::long_context`]),
    /// judged on its whole usage, not on what a repeat adds.
    pub long_context: bool,
    /// Which response it is: the same for each line of one response.
    pub response: u64,
    /// The response's usage as counted so far, this line's included (its latest line's).
    pub whole: Tokens,
}

/// The responses met so far, by their context in their conversation, each with the usage
/// counted for it: its latest line's. Folds keep it with their state, so it serialises.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerUsages {
    met: BTreeMap<u64, Tokens>,
}

impl AnswerUsages {
    /// What `event` adds, if it is an `assistant_response` carrying an API usage object.
    pub fn of_event<'a>(&mut self, event: &'a Event) -> Option<AnswerUsage<'a>> {
        if event.event_type != EventType::AssistantResponse {
            return None;
        }
        let d = &event.data;
        let usage = d.get("usage").filter(|u| u.is_object())?;
        let model = d
            .get("model")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty());
        let stream = d.get(STREAM).and_then(Value::as_str);
        // A usage holding a count no response can have is unknown, as every reader of usage says.
        Some(self.observe(model, stream, Tokens::read_usage(usage)?))
    }

    /// What `event` adds, read from its head (see [`AnswerUsages::of_event`]).
    pub fn of_head<'a>(&mut self, event: &'a EventHead<'_>) -> Option<AnswerUsage<'a>> {
        if event.kind() != EventType::AssistantResponse {
            return None;
        }
        let usage = event.data.usage?;
        // A usage holding a count no response can have is unknown: no response of known usage.
        Some(self.observe(None, event.data.context_stream.as_deref(), usage.0?))
    }

    fn observe<'a>(
        &mut self,
        model: Option<&'a str>,
        stream: Option<&str>,
        usage: Tokens,
    ) -> AnswerUsage<'a> {
        let long_context = pricing::long_context(&usage, true);
        let key = context_key(stream.unwrap_or_default(), &usage);
        // A later line of a response met before (streamed, or its copy in a resumed
        // conversation) adds what it has more.
        let (tokens, first, whole) = if let Some(counted) = self.met.get_mut(&key) {
            let mut added = usage;
            added.subtract(counted);
            *counted = most(counted, &usage);
            (added, false, *counted)
        } else {
            self.met.insert(key, usage);
            (usage, true, usage)
        };
        AnswerUsage {
            model,
            tokens,
            first,
            long_context,
            response: key,
            whole,
        }
    }

    /// How many responses the answers met carried usage for.
    pub fn responses(&self) -> u64 {
        self.met.len() as u64
    }

    /// Their usage, each response's counted once (its latest line's).
    pub fn tokens(&self) -> Tokens {
        let mut all = Tokens::default();
        for counted in self.met.values() {
            all.add(counted);
        }
        all
    }

    /// Takes in the state of a fold of the events that follow this fold's, and says what that
    /// fold counted too much: a response both met was counted by each, with the usage of the
    /// latest line each saw, and counts once, with the later line's. The tokens and the number
    /// of responses to take off.
    pub fn merge(&mut self, later: AnswerUsages) -> (Tokens, u64) {
        let mut over = Tokens::default();
        let mut responses = 0;
        for (key, counted) in later.met {
            match self.met.get_mut(&key) {
                Some(mine) => {
                    over.add(&least(mine, &counted));
                    *mine = most(mine, &counted);
                    responses += 1;
                }
                None => {
                    self.met.insert(key, counted);
                }
            }
        }
        (over, responses)
    }
}

/// One response whose usage answers carried, as it counts in the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnsweredResponse<'a> {
    pub model: Option<&'a str>,
    /// Its usage: its latest line's.
    pub tokens: Tokens,
    /// Priced at long-context rates ([`pricing::long_context`]).
    pub long_context: bool,
}

/// The responses the answers of `events` (one session's, in order) carry usage for, each once,
/// by the index of the answer that starts it, with its usage as its latest line counts it: what
/// a view that shows a response at one event shows there (its other lines show none).
pub fn answered_responses(events: &[Event]) -> HashMap<usize, AnsweredResponse<'_>> {
    let mut answers = AnswerUsages::default();
    let mut first_of: HashMap<u64, usize> = HashMap::new();
    let mut found: HashMap<usize, AnsweredResponse<'_>> = HashMap::new();
    for (i, event) in events.iter().enumerate() {
        let Some(answer) = answers.of_event(event) else {
            continue;
        };
        if answer.first {
            first_of.insert(answer.response, i);
            found.insert(
                i,
                AnsweredResponse {
                    model: answer.model,
                    tokens: answer.whole,
                    long_context: answer.long_context,
                },
            );
        } else if let Some(response) = first_of
            .get(&answer.response)
            .and_then(|at| found.get_mut(at))
        {
            response.tokens = answer.whole;
            response.model = response.model.or(answer.model);
        }
    }
    found
}

/// A response's identity: its conversation and the context it read (input, cache-write and
/// cache-read tokens), stable across builds since folds are kept.
fn context_key(stream: &str, usage: &Tokens) -> u64 {
    let mut bytes = stream.as_bytes().to_vec();
    for n in [
        usage.input,
        usage.cache_creation,
        usage.cache_creation_1h,
        usage.cache_read,
    ] {
        bytes.extend_from_slice(&n.to_le_bytes());
    }
    super::hash::fnv1a(&bytes)
}

/// Each count the larger of the two.
fn most(a: &Tokens, b: &Tokens) -> Tokens {
    Tokens {
        input: a.input.max(b.input),
        output: a.output.max(b.output),
        cache_creation: a.cache_creation.max(b.cache_creation),
        cache_creation_1h: a.cache_creation_1h.max(b.cache_creation_1h),
        cache_read: a.cache_read.max(b.cache_read),
        reasoning: a.reasoning.max(b.reasoning),
    }
}

/// Each count the smaller of the two.
fn least(a: &Tokens, b: &Tokens) -> Tokens {
    Tokens {
        input: a.input.min(b.input),
        output: a.output.min(b.output),
        cache_creation: a.cache_creation.min(b.cache_creation),
        cache_creation_1h: a.cache_creation_1h.min(b.cache_creation_1h),
        cache_read: a.cache_read.min(b.cache_read),
        reasoning: a.reasoning.min(b.reasoning),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(usage: &Value, stream: &str) -> Event {
        Event::new(EventType::AssistantResponse, 1.0, "e".into(), "s".into()).with_data(
            json!({"model": "claude-opus-4-6", "usage": usage, "context_stream": stream}),
        )
    }

    fn usage(read: u64, output: u64) -> Value {
        json!({"input_tokens": 3, "cache_creation_input_tokens": 10, "cache_read_input_tokens": read, "output_tokens": output})
    }

    #[test]
    fn a_streamed_response_counts_once_with_its_last_output() {
        let mut usages = AnswerUsages::default();
        let events = [
            answer(&usage(100, 1), "main"),
            answer(&usage(100, 1), "main"),
            answer(&usage(100, 25), "main"),
            // A subagent's line between the main conversation's.
            answer(&usage(100, 4), "sidechain:a"),
            answer(&usage(100, 173), "main"),
            answer(&usage(500, 9), "main"),
            // The conversation resumed: its history copied again.
            answer(&usage(100, 1), "main"),
            answer(&usage(100, 173), "main"),
        ];
        let added: Vec<(u64, bool)> = events
            .iter()
            .map(|e| {
                let a = usages.of_event(e).unwrap();
                (a.tokens.output, a.first)
            })
            .collect();
        assert_eq!(
            added,
            [
                (1, true),
                (0, false),
                (24, false),
                (4, true),
                (148, false),
                (9, true),
                (0, false),
                (0, false)
            ]
        );
    }

    #[test]
    fn folds_of_two_parts_merged_count_as_one_fold() {
        let events = [
            answer(&usage(100, 1), "main"),
            answer(&usage(100, 25), "main"),
            answer(&usage(100, 173), "main"),
            answer(&usage(500, 9), "main"),
            answer(&usage(100, 25), "main"),
        ];
        let sum = |usages: &mut AnswerUsages, events: &[Event]| {
            events.iter().fold((Tokens::default(), 0), |(mut t, n), e| {
                let a = usages.of_event(e).unwrap();
                t.add(&a.tokens);
                (t, n + u64::from(a.first))
            })
        };
        let whole = sum(&mut AnswerUsages::default(), &events);
        assert_eq!((whole.0.output, whole.1), (182, 2));
        for cut in 0..=events.len() {
            let mut early = AnswerUsages::default();
            let mut late = AnswerUsages::default();
            let (mut tokens, a) = sum(&mut early, &events[..cut]);
            let (b_tokens, b) = sum(&mut late, &events[cut..]);
            tokens.add(&b_tokens);
            let (over, n) = early.merge(late);
            tokens.subtract(&over);
            assert_eq!((tokens, a + b - n), whole, "cut at {cut}");
        }
    }

    #[test]
    fn an_answer_without_usage_adds_nothing() {
        let mut usages = AnswerUsages::default();
        let e = Event::new(EventType::AssistantResponse, 1.0, "e".into(), "s".into())
            .with_data(json!({"text": "done"}));
        assert!(usages.of_event(&e).is_none());
        let r = Event::new(EventType::LlmResponse, 1.0, "e".into(), "s".into())
            .with_data(json!({"usage": {"input_tokens": 1}}));
        assert!(usages.of_event(&r).is_none());
    }
}
