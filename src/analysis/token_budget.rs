//! Context-window use over a session, from the usage each model response recorded.

use serde::Serialize;

use crate::model::answers::AnswerUsages;
use crate::model::meta::placed_time;
use crate::model::pricing::{SYNTHETIC, Window};
use crate::model::view::LlmResponse;
use crate::model::windows::ModelWindows;
use crate::model::{Event, Tokens};

/// One response's context.
#[derive(Debug, Clone, Serialize)]
pub struct ContextPoint {
    /// The event number (#N) of the response.
    pub event: usize,
    pub at_s: f64,
    pub tokens: u64,
    pub pct: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenBudget {
    pub session_id: String,
    /// The model the window is taken from, when one is known.
    pub model: Option<String>,
    pub context_window: u64,
    /// `limit` (given), `recorded` (the window the agent recorded on its responses, as Codex
    /// does), `model` (from the price table), `long` (the model's long window, which the
    /// session's context proved by going past its standard one) or `assumed` (no model known, and no response's context to measure).
    pub window_source: &'static str,
    /// The model's standard window, when the long one is `context_window` instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard_window: Option<u64>,
    pub warn_at_pct: f64,
    pub responses: usize,
    pub peak: Option<ContextPoint>,
    /// The first response past the warning threshold.
    pub first_over: Option<ContextPoint>,
    pub over: bool,
    pub points: Vec<ContextPoint>,
    /// Usage was recorded only as session totals, which tell no response's context.
    pub only_session_totals: bool,
    /// Responses whose usage holds a count no response can have: their context is unknown,
    /// in no point.
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    pub unbelieved_usage: u64,
}

/// Collects each response's context size, in order.
#[derive(Default)]
pub struct BudgetBuilder {
    origin: Option<f64>,
    number: usize,
    points: Vec<(usize, f64, u64)>,
    models: Vec<String>,
    /// Models of responses that recorded no tokens, in order of first use.
    idle_models: Vec<String>,
    session_totals: bool,
    unbelieved_usage: u64,
    /// The time the last event was placed at ([`placed_time`]).
    placed: Option<f64>,
    /// The responses whose usage answers carried (the Python tool's import).
    answers: AnswerUsages,
    /// Each model's window, as its own responses prove it or as the agent recorded it on a
    /// response (Codex does), which outranks the table's.
    windows: ModelWindows<'static>,
}

impl BudgetBuilder {
    pub fn new(started_at: Option<f64>) -> BudgetBuilder {
        BudgetBuilder {
            origin: started_at.filter(|s| *s > 0.0),
            ..BudgetBuilder::default()
        }
    }

    pub fn observe(&mut self, event: &Event) {
        self.number += 1;
        // An event at an unknown time is where it stands (`1e308` was a peak 1e308 s in).
        let at = placed_time(event.timestamp, &mut self.placed);
        let origin = at.map(|at| *self.origin.get_or_insert(at));
        let at_s = at.zip(origin).map_or(0.0, |(at, origin)| at - origin);
        // The Python tool's import records a response's usage on its answer, a streamed
        // response's on each of its lines, which read the same context: its first line is the
        // response.
        if let Some(answer) = self.answers.of_event(event) {
            if answer.first {
                self.model(answer.model, &answer.whole);
                self.point(answer.model, at_s, answer.whole.context());
            }
            return;
        }
        let Some(response) = LlmResponse::from_event(event) else {
            return;
        };
        if response.unbelieved {
            self.unbelieved_usage += 1;
        }
        if let (Some(model), Some(window)) = (response.model, response.context_window) {
            self.windows.record(model, window);
        }
        let LlmResponse {
            usage: Some(tokens),
            model,
            session_total,
            ..
        } = response
        else {
            return;
        };
        self.model(model, &tokens);
        if session_total {
            self.session_totals = true;
        } else {
            self.point(model, at_s, tokens.context());
        }
    }

    /// A response the session's transcript holds (hooks never see usage), at `at` (seconds
    /// since the epoch), told among the events in time order: its point is numbered as the
    /// event it came after, which is where replay shows it.
    pub fn logged_response(&mut self, at: f64, model: &str, tokens: &Tokens) {
        let at = placed_time(at, &mut self.placed);
        let origin = at.map(|at| *self.origin.get_or_insert(at));
        let at_s = at.zip(origin).map_or(0.0, |(at, origin)| at - origin);
        self.model(Some(model), tokens);
        self.point(Some(model), at_s, tokens.context());
    }

    /// Counts `responses` of the transcript whose usage no response can have.
    pub fn logged_unbelieved(&mut self, responses: u64) {
        self.unbelieved_usage += responses;
    }

    /// Notes the context a response of `model` read, `at_s` into the session.
    fn point(&mut self, model: Option<&str>, at_s: f64, context: u64) {
        self.points.push((self.number, at_s, context));
        if let Some(model) = model {
            self.windows.observe(model, context);
        }
    }

    /// Notes the model of a response that used `tokens`.
    fn model(&mut self, model: Option<&str>, tokens: &Tokens) {
        // Claude Code writes `<synthetic>` entries, with no usage, for messages no API call
        // made (and they may come first): no model answered them, so they have no window.
        let Some(model) = model.filter(|m| *m != SYNTHETIC) else {
            return;
        };
        let list = if tokens.total() > 0 {
            &mut self.models
        } else {
            &mut self.idle_models
        };
        if !list.iter().any(|m| m == model) {
            list.push(model.to_owned());
        }
    }

    /// The models that answered (recorded tokens; never Claude Code's `<synthetic>`), in order
    /// of first use.
    pub fn models(&self) -> &[String] {
        &self.models
    }

    /// The model whose context window the session is measured against: the first that
    /// answered, else the first named by a response that recorded no tokens (a model is
    /// known all the same).
    pub fn first_model(&self) -> Option<&str> {
        self.models
            .first()
            .or_else(|| self.idle_models.first())
            .map(String::as_str)
    }

    /// The context window of `model` in this session: its standard one, or its long one when
    /// a response of that model read more than the standard one holds (another model's
    /// responses prove nothing of it); `None` when the price table gives it none.
    pub fn window_of(&self, model: &str) -> Option<Window> {
        self.windows.window(model)
    }

    /// Whether any response's context was taken, which a window is needed to measure.
    pub fn measured(&self) -> bool {
        !self.points.is_empty()
    }

    /// The context window the agent recorded for `model` on its last response that gave one.
    pub fn recorded_window_of(&self, model: &str) -> Option<u64> {
        self.windows.recorded(model)
    }

    pub fn finish(
        self,
        session_id: &str,
        model: Option<String>,
        window: Window,
        source: &'static str,
        warn_at_pct: f64,
    ) -> TokenBudget {
        let standard_window = window.standard;
        let window = window.tokens.max(1);
        let point = |(event, at_s, tokens): (usize, f64, u64)| ContextPoint {
            event,
            at_s,
            tokens,
            pct: crate::model::windows::percent_of(tokens, window),
        };
        let points: Vec<ContextPoint> = self.points.iter().copied().map(point).collect();
        let peak = points.iter().max_by_key(|p| p.tokens).cloned();
        let first_over = points.iter().find(|p| p.pct >= warn_at_pct).cloned();
        TokenBudget {
            session_id: session_id.to_owned(),
            model,
            context_window: window,
            window_source: source,
            standard_window,
            warn_at_pct,
            responses: points.len(),
            over: first_over.is_some(),
            peak,
            first_over,
            only_session_totals: self.session_totals && points.is_empty(),
            unbelieved_usage: self.unbelieved_usage,
            points,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::EventType;
    use serde_json::{Value, json};

    use super::*;

    const T0: f64 = 1_780_000_000.0;

    fn event(kind: EventType, at: f64, data: Value) -> Event {
        Event::new(kind, T0 + at, format!("e{at}"), "s".into()).with_data(data)
    }

    fn response(at: f64, model: &str, input: u64, write: u64, read: u64) -> Event {
        event(
            EventType::LlmResponse,
            at,
            json!({"model": model, "usage": {
                "input_tokens": input, "output_tokens": 999,
                "cache_creation_input_tokens": write, "cache_read_input_tokens": read}}),
        )
    }

    fn given(tokens: u64) -> Window {
        Window {
            tokens,
            standard: None,
        }
    }

    /// The budget of `events` in a window of `window` tokens, warning at `warn` percent.
    fn budget(events: &[Event], window: u64, warn: f64) -> TokenBudget {
        let mut b = BudgetBuilder::new(Some(T0));
        for e in events {
            b.observe(e);
        }
        b.finish("s", None, given(window), "limit", warn)
    }

    #[test]
    fn context_is_what_the_model_read_and_output_is_not() {
        let r = budget(&[response(1.0, "m", 10, 20, 70)], 1000, 80.0);
        let p = &r.points[0];
        assert_eq!(p.tokens, 100);
        assert!((p.pct - 10.0).abs() < 1e-12);
        assert!((p.at_s - 1.0).abs() < 1e-12);
    }

    #[test]
    fn the_threshold_is_reached_at_exactly_its_percentage() {
        let events = [
            response(1.0, "m", 0, 0, 799),
            response(2.0, "m", 0, 0, 800),
            response(3.0, "m", 0, 0, 900),
            response(4.0, "m", 0, 0, 500),
        ];
        let r = budget(&events, 1000, 80.0);
        assert!(r.over);
        let first = r.first_over.unwrap();
        assert_eq!((first.event, first.tokens), (2, 800));
        assert_eq!(r.peak.unwrap().tokens, 900);
        assert_eq!(r.responses, 4);
        // Just under it all session long: not over.
        let under = budget(&events[..1], 1000, 80.0);
        assert!(!under.over && under.first_over.is_none());
    }

    #[test]
    fn events_are_numbered_as_replay_numbers_them_and_non_usage_is_skipped() {
        let events = [
            event(EventType::UserPrompt, 0.0, json!({"prompt": "go"})),
            event(EventType::LlmResponse, 1.0, json!({"model": "m"})),
            event(
                EventType::LlmResponse,
                2.0,
                json!({"model": "m", "usage": "n/a"}),
            ),
            response(3.0, "m", 5, 0, 0),
        ];
        let r = budget(&events, 100, 50.0);
        assert_eq!(r.responses, 1);
        assert_eq!(r.points[0].event, 4);
    }

    #[test]
    fn no_responses_no_peak_and_a_zero_window_is_one_token() {
        let r = budget(&[], 0, 80.0);
        assert_eq!(r.context_window, 1);
        assert!(r.peak.is_none() && r.first_over.is_none() && !r.over);
        let r = budget(&[response(1.0, "m", 2, 0, 0)], 0, 80.0);
        assert!((r.points[0].pct - 200.0).abs() < 1e-12);
        assert!(r.over);
    }

    #[test]
    fn models_in_order_of_first_use_and_time_from_the_first_event_without_a_start() {
        let mut b = BudgetBuilder::new(Some(0.0));
        for e in [
            response(10.0, "b", 1, 0, 0),
            response(12.0, "a", 1, 0, 0),
            response(15.0, "b", 1, 0, 0),
        ] {
            b.observe(&e);
        }
        assert_eq!(b.models(), ["b".to_owned(), "a".to_owned()]);
        let r = b.finish("s", Some("b".into()), given(100), "model", 80.0);
        assert!((r.points[2].at_s - 5.0).abs() < 1e-12);
        assert_eq!(r.window_source, "model");
    }
}
