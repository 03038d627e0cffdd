//! Which context window each model of a session had, as that model's own responses prove it.

use std::collections::HashMap;

use super::pricing::{PriceTable, Window};

/// The context window `token-budget` shows for a session with no response's context to measure
/// and no model known: the common Claude window. Nothing is measured against it.
pub const ASSUMED_WINDOW: u64 = 200_000;

/// `tokens` as a percentage of `window`, in one division, so that a context exactly at a
/// threshold reaches it: `tokens / window * 100` rounds twice, and 114,000 of 200,000 tokens came
/// to 56.99999999999999%, below a threshold of 57.
pub fn percent_of(tokens: u64, window: u64) -> f64 {
    tokens as f64 * 100.0 / window as f64
}

/// The context windows of a session's models so far, fed its responses in order.
///
/// A model's window is the table's standard one until a response of that model reads more than
/// it holds: no response reads more than its window holds, so that proves the long window
/// ([`super::pricing::ModelPrice::window_for`]), from then on. Only the model's own responses
/// prove it: another model's large context says nothing of this one's window. `token-budget`
/// and `lint`, which judge a finished session, ask after feeding it all; `watch`, which judges
/// as it goes, asks after each response. A window the agent recorded ([`ModelWindows::record`])
/// outranks the table's.
#[derive(Debug, Clone)]
pub struct ModelWindows<'t> {
    table: &'t PriceTable,
    /// The largest context a response of each model read, by the table's id of the model, so
    /// that the names of one model (`claude-sonnet-4-5`, `claude-sonnet-4-5-20250929`, the
    /// alias `sonnet`) share its window.
    largest: HashMap<String, u64>,
    /// The window the agent last recorded each model had on a response, by the model's name
    /// as the response gives it (Codex records its `model_context_window`): truer than the
    /// table's for the model.
    recorded: HashMap<String, u64>,
}

impl Default for ModelWindows<'static> {
    fn default() -> Self {
        ModelWindows::new(PriceTable::builtin())
    }
}

impl<'t> ModelWindows<'t> {
    /// No response seen yet: every model has its standard window.
    pub fn new(table: &'t PriceTable) -> ModelWindows<'t> {
        ModelWindows {
            table,
            largest: HashMap::new(),
            recorded: HashMap::new(),
        }
    }

    /// Takes in a response of `model` that read `context` tokens, and says that model's
    /// window now (`None` when the table gives it none).
    pub fn observe(&mut self, model: &str, context: u64) -> Option<Window> {
        let price = self.table.find(model)?;
        let largest = self.largest.entry(price.id.clone()).or_default();
        *largest = (*largest).max(context);
        price.window_for(*largest)
    }

    /// The window of `model` after the responses taken in so far (`None` when the table gives
    /// it none).
    pub fn window(&self, model: &str) -> Option<Window> {
        let price = self.table.find(model)?;
        price.window_for(self.largest.get(&price.id).copied().unwrap_or(0))
    }

    /// Takes in the window the agent recorded `model` had on a response, which outranks the
    /// table's from then on.
    pub fn record(&mut self, model: &str, window: u64) {
        if window > 0 {
            self.recorded.insert(model.to_owned(), window);
        }
    }

    /// The window the agent recorded for `model` on its last response that gave one.
    pub fn recorded(&self, model: &str) -> Option<u64> {
        self.recorded.get(model).copied()
    }

    /// The window a context of `model` is measured against: the one its agent recorded, else
    /// the table's ([`ModelWindows::window`]). `None` when neither knows it: a guessed window
    /// made a share that rules judged as though it were the model's.
    /// `token-budget`, `lint` and `watch` measure by it alike.
    pub fn measure(&self, model: &str) -> Option<u64> {
        self.recorded(model)
            .or_else(|| self.window(model).map(|w| w.tokens))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pricing::LONG_WINDOW;

    const SONNET: &str = "claude-sonnet-4-5-20250929";
    const HAIKU: &str = "claude-haiku-4-5-20251001";

    fn standard(model: &str) -> u64 {
        PriceTable::builtin()
            .find(model)
            .and_then(|p| p.context_window)
            .unwrap()
    }

    #[test]
    fn a_proved_long_window_stays_for_later_smaller_contexts() {
        let mut windows = ModelWindows::default();
        let std = standard(SONNET);
        assert_eq!(windows.observe(SONNET, std / 2).unwrap().tokens, std);
        let long = windows.observe(SONNET, std + 1).unwrap();
        assert_eq!((long.tokens, long.standard), (LONG_WINDOW, Some(std)));
        assert_eq!(
            windows.observe(SONNET, std / 2).unwrap().tokens,
            LONG_WINDOW
        );
        // Another name of the same model shares its window.
        assert_eq!(windows.window("sonnet").unwrap().tokens, LONG_WINDOW);
    }

    #[test]
    fn a_recorded_window_outranks_the_tables() {
        let mut windows = ModelWindows::default();
        windows.observe("gpt-5.3-codex", 1000);
        let table = standard("gpt-5.3-codex");
        assert_eq!(windows.measure("gpt-5.3-codex"), Some(table));
        windows.record("gpt-5.3-codex", 258_400);
        assert_eq!(windows.measure("gpt-5.3-codex"), Some(258_400));
        // Another model keeps the table's window, and one the table lacks has none, unless
        // its agent recorded one.
        assert_eq!(windows.measure(SONNET), Some(standard(SONNET)));
        assert_eq!(windows.measure("no-such-model"), None);
        windows.record("no-such-model", 0);
        assert_eq!(windows.measure("no-such-model"), None);
        windows.record("no-such-model", 128_000);
        assert_eq!(windows.measure("no-such-model"), Some(128_000));
    }

    #[test]
    fn one_models_context_proves_nothing_of_anothers_window() {
        let mut windows = ModelWindows::default();
        windows.observe(HAIKU, standard(HAIKU) - 10);
        windows.observe(SONNET, standard(SONNET) + 1);
        assert_eq!(windows.window(HAIKU).unwrap().tokens, standard(HAIKU));
        assert_eq!(windows.window(SONNET).unwrap().tokens, LONG_WINDOW);
        assert!(windows.window("no-such-model").is_none());
        assert!(windows.observe("no-such-model", 5).is_none());
    }
}
