//! Context-window use over a session, from the usage each model response recorded.

use serde::Serialize;

use crate::model::Event;
use crate::model::view::LlmResponse;

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
    /// `limit` (given), `model` (from the price table) or `assumed` (no model known).
    pub window_source: &'static str,
    pub warn_at_pct: f64,
    pub responses: usize,
    pub peak: Option<ContextPoint>,
    /// The first response past the warning threshold.
    pub first_over: Option<ContextPoint>,
    pub over: bool,
    pub points: Vec<ContextPoint>,
}

/// Collects each response's context size, in order.
#[derive(Default)]
pub struct BudgetBuilder {
    origin: Option<f64>,
    number: usize,
    points: Vec<(usize, f64, u64)>,
    models: Vec<String>,
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
        let origin = *self.origin.get_or_insert(event.timestamp);
        let Some(LlmResponse {
            usage: Some(tokens),
            model,
            ..
        }) = LlmResponse::from_event(event)
        else {
            return;
        };
        self.points
            .push((self.number, event.timestamp - origin, tokens.context()));
        if let Some(model) = model
            && !self.models.iter().any(|m| m == model)
        {
            self.models.push(model.to_owned());
        }
    }

    /// The models seen, in order of first use.
    pub fn models(&self) -> &[String] {
        &self.models
    }

    pub fn finish(
        self,
        session_id: &str,
        model: Option<String>,
        window: u64,
        source: &'static str,
        warn_at_pct: f64,
    ) -> TokenBudget {
        let window = window.max(1);
        let point = |(event, at_s, tokens): (usize, f64, u64)| ContextPoint {
            event,
            at_s,
            tokens,
            pct: tokens as f64 / window as f64 * 100.0,
        };
        let points: Vec<ContextPoint> = self.points.iter().copied().map(point).collect();
        let peak = points.iter().max_by_key(|p| p.tokens).cloned();
        let first_over = points.iter().find(|p| p.pct >= warn_at_pct).cloned();
        TokenBudget {
            session_id: session_id.to_owned(),
            model,
            context_window: window,
            window_source: source,
            warn_at_pct,
            responses: points.len(),
            over: first_over.is_some(),
            peak,
            first_over,
            points,
        }
    }
}
