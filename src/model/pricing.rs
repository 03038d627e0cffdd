//! Model prices (from `src/data/prices.json`, with the date they were taken) and what tokens
//! cost at them.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use super::usage::{Money, Tokens};

/// Context size (input, cache writes and cache reads of one request) past which models with
/// long-context prices charge them; every `threshold_tokens` of the price table is this.
pub const LONG_CONTEXT: u64 = 200_000;

/// Whether usage is priced at long-context rates, by the models that have them: the usage of
/// one request whose context is past [`LONG_CONTEXT`]. Usage summed over several requests (a
/// Copilot CLI session's total) never is, however large: none of its requests is known to be
/// past the line. Every price of a response is decided here, through
/// [`super::view::LlmResponse::long_context`] for recorded responses.
pub fn long_context(tokens: &Tokens, one_request: bool) -> bool {
    one_request && tokens.context() > LONG_CONTEXT
}

/// Anthropic's long context window, an opt-in some of its models offer beyond their standard
/// 200,000 tokens (the table's `context_window`). Sources disagree on which models offer it,
/// so a session is measured against it only when its context proves it, by going past the
/// standard window ([`ModelPrice::window_for`]).
pub const LONG_WINDOW: u64 = 1_000_000;

/// The context window a session had: the table's, or the long one its context proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub tokens: u64,
    /// The model's standard window, when the long one was taken instead.
    pub standard: Option<u64>,
}

/// Prices in USD per million tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelPrice {
    pub id: String,
    #[serde(default)]
    pub family: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    /// Prefixes of the model names this price applies to.
    #[serde(default, rename = "match")]
    pub prefixes: Vec<String>,
    pub input: f64,
    pub output: f64,
    #[serde(default)]
    pub cache_write_5m: Option<f64>,
    #[serde(default)]
    pub cache_write_1h: Option<f64>,
    #[serde(default)]
    pub cache_read: Option<f64>,
    #[serde(default)]
    pub context_window: Option<u64>,
    /// Prices for responses whose input is above `threshold_tokens` (long-context pricing).
    #[serde(default)]
    pub input_above_200k: Option<f64>,
    #[serde(default)]
    pub output_above_200k: Option<f64>,
    #[serde(default)]
    pub cache_write_5m_above_200k: Option<f64>,
    #[serde(default)]
    pub cache_write_1h_above_200k: Option<f64>,
    #[serde(default)]
    pub cache_read_above_200k: Option<f64>,
    #[serde(default)]
    pub threshold_tokens: Option<u64>,
}

/// The price table.
#[derive(Debug, Clone, Deserialize)]
pub struct PriceTable {
    pub taken: String,
    pub models: Vec<ModelPrice>,
    #[serde(default)]
    pub aliases: HashMap<String, String>,
}

/// The table shipped in the binary, as written.
const BUILTIN_JSON: &str = include_str!("../data/prices.json");

static BUILTIN: LazyLock<PriceTable> = LazyLock::new(|| {
    serde_json::from_str(BUILTIN_JSON).unwrap_or_else(|_| PriceTable {
        taken: "unavailable".to_owned(),
        models: Vec::new(),
        aliases: HashMap::new(),
    })
});

/// The model name Claude Code writes on entries it made itself, with no API call behind them
/// (an interruption, an error shown as the assistant's turn).
pub const SYNTHETIC: &str = "<synthetic>";

/// The price of [`SYNTHETIC`]: nothing, known.
static FREE: LazyLock<ModelPrice> = LazyLock::new(|| ModelPrice {
    id: SYNTHETIC.to_owned(),
    ..ModelPrice::custom(0.0, 0.0)
});

impl PriceTable {
    /// The table shipped in the binary.
    pub fn builtin() -> &'static PriceTable {
        &BUILTIN
    }

    /// A fingerprint of the table shipped in the binary: the FNV-1a hash of its text, which
    /// holds every price and when they were taken. A figure cached from these prices is keyed
    /// on it, so that a binary with other prices computes it again.
    pub fn builtin_fingerprint() -> u64 {
        static FINGERPRINT: LazyLock<u64> =
            LazyLock::new(|| super::hash::fnv1a(BUILTIN_JSON.as_bytes()));
        *FINGERPRINT
    }

    /// The price of a model: by id, by alias (`sonnet`, `gpt4o`), or by the first prefix that
    /// the model's name starts with (`claude-sonnet-4-5-20250929`). [`SYNTHETIC`] costs
    /// nothing, known: it made no API call.
    pub fn find(&self, model: &str) -> Option<&ModelPrice> {
        if model.trim() == SYNTHETIC {
            return Some(&FREE);
        }
        // A model named as the table names it (what most usage records) needs no lowercase
        // copy: `dashboard` and `budget-report` ask for every model of ten thousand sessions.
        if let Some(found) = self.models.iter().find(|m| m.id == model) {
            return Some(found);
        }
        let name = model.trim().to_lowercase();
        let name = name.rsplit('/').next().unwrap_or(&name);
        // Copilot CLI spells Claude's versions with dots (`claude-sonnet-4.6`); the table
        // spells them as Anthropic does (`claude-sonnet-4-6`).
        let dashed;
        let name = if name.starts_with("claude-") && name.contains('.') {
            dashed = name.replace('.', "-");
            dashed.as_str()
        } else {
            name
        };
        if let Some(found) = self.models.iter().find(|m| m.id == name) {
            return Some(found);
        }
        if let Some(target) = self.aliases.get(name) {
            return self.models.iter().find(|m| &m.id == target);
        }
        self.models.iter().find(|m| {
            std::iter::once(&m.id)
                .chain(&m.prefixes)
                .any(|p| name.starts_with(&p.to_lowercase()))
        })
    }
}

impl ModelPrice {
    /// A price from input and output prices alone (`cost --input-price`); cache writes and
    /// reads are priced with Anthropic's multipliers (1.25x and 2x input to write for 5 minutes
    /// and an hour, 0.1x to read), the caching rule of the one provider whose agents record
    /// cache writes apart.
    pub fn custom(input: f64, output: f64) -> ModelPrice {
        ModelPrice {
            id: "custom".to_owned(),
            family: None,
            provider: None,
            prefixes: Vec::new(),
            input,
            output,
            cache_write_5m: Some(input * 1.25),
            cache_write_1h: Some(input * 2.0),
            cache_read: Some(input * 0.1),
            context_window: None,
            input_above_200k: None,
            output_above_200k: None,
            cache_write_5m_above_200k: None,
            cache_write_1h_above_200k: None,
            cache_read_above_200k: None,
            threshold_tokens: None,
        }
    }

    /// The context window of a session of this model whose largest response read
    /// `largest_context` tokens; `None` when the table gives none. A context past an Anthropic
    /// model's standard window proves the long one was in use (no response reads more than
    /// its window holds): that is the window then.
    pub fn window_for(&self, largest_context: u64) -> Option<Window> {
        let standard = self.context_window?;
        let long = self.provider.as_deref() == Some("anthropic")
            && largest_context > standard
            && standard < LONG_WINDOW;
        Some(if long {
            Window {
                tokens: LONG_WINDOW,
                standard: Some(standard),
            }
        } else {
            Window {
                tokens: standard,
                standard: None,
            }
        })
    }

    /// What `tokens` cost; `long` when they come from responses past the long-context
    /// threshold. A cache price the table leaves null is the input price, as prices.json's
    /// notes say: OpenAI and Google bill no cache-write premium, and a model with no
    /// cached-input price bills cached input as input.
    pub fn cost(&self, tokens: &Tokens, long: bool) -> Money {
        let pick = |normal: f64, above: Option<f64>| {
            if long {
                above.unwrap_or(normal)
            } else {
                normal
            }
        };
        let input = pick(self.input, self.input_above_200k);
        let output = pick(self.output, self.output_above_200k);
        let cache = |normal: Option<f64>, above: Option<f64>| match normal {
            Some(normal) => pick(normal, above),
            None => input,
        };
        let write_5m = cache(self.cache_write_5m, self.cache_write_5m_above_200k);
        let write_1h = cache(self.cache_write_1h, self.cache_write_1h_above_200k);
        let read = cache(self.cache_read, self.cache_read_above_200k);
        let five_minute = tokens
            .cache_creation
            .saturating_sub(tokens.cache_creation_1h);
        Money::of(tokens.input, input)
            + Money::of(tokens.output, output)
            + Money::of(five_minute, write_5m)
            + Money::of(tokens.cache_creation_1h, write_1h)
            + Money::of(tokens.cache_read, read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_table_prices_real_model_names() {
        let table = PriceTable::builtin();
        assert!(
            !table.models.is_empty(),
            "src/data/prices.json did not load"
        );
        for name in [
            "claude-sonnet-4-5-20250929",
            "claude-opus-4-5-20251101",
            "claude-haiku-4-5-20251001",
            "claude-3-5-haiku-20241022",
            "gpt-4o-2024-08-06",
            "gpt-4o-mini",
            "gpt-4.1",
            "gpt-5",
            "gemini-2.5-pro",
            "sonnet",
            "opus",
            "haiku",
            "gpt-5.3-codex",
            "gpt-5.1-codex",
            "gemini-3-flash-preview",
            "gemini-3.1-pro-preview",
            "claude-sonnet-4.6",
        ] {
            assert!(table.find(name).is_some(), "{name} has no price");
        }
        assert_eq!(
            table.find("gpt-4o-mini-2024-07-18").unwrap().id,
            table.find("gpt-4o-mini").unwrap().id
        );
        assert_ne!(
            table.find("gpt-4o-mini").unwrap().id,
            table.find("gpt-4o").unwrap().id
        );
        // Claude Code's entries without an API call cost nothing, and that is known.
        let synthetic = table.find("<synthetic>").unwrap();
        assert_eq!(synthetic.id, "<synthetic>");
        let t = Tokens {
            input: 10,
            output: 10,
            ..Tokens::default()
        };
        assert_eq!(synthetic.cost(&t, false), Money(0));
        assert_eq!(
            table.find("claude-sonnet-4.6").unwrap().id,
            "claude-sonnet-4-6"
        );
        // A custom provider's name (Codex corpus) is no OpenAI model.
        assert!(table.find("aide-gpt-5").is_none());
    }

    #[test]
    fn only_a_context_past_an_anthropic_window_proves_the_long_one() {
        let table = PriceTable::builtin();
        let claude = table.find("claude-opus-4-6").unwrap();
        let standard = claude.context_window.unwrap();
        assert_eq!(claude.window_for(standard).unwrap().tokens, standard);
        let long = claude.window_for(standard + 1).unwrap();
        assert_eq!((long.tokens, long.standard), (LONG_WINDOW, Some(standard)));
        // Another provider's window is the largest it has: the table's stays.
        let gpt = table.find("gpt-5").unwrap();
        let window = gpt.context_window.unwrap();
        assert_eq!(gpt.window_for(window * 2).unwrap().tokens, window);
        assert!(ModelPrice::custom(1.0, 1.0).window_for(1).is_none());
    }

    #[test]
    fn every_long_context_price_starts_where_responses_are_judged_long() {
        for price in &PriceTable::builtin().models {
            if let Some(threshold) = price.threshold_tokens {
                assert_eq!(threshold, LONG_CONTEXT, "{}", price.id);
            }
        }
    }

    #[test]
    fn a_total_over_several_requests_is_never_long_context() {
        let big = Tokens {
            input: 250_000,
            ..Tokens::default()
        };
        assert!(long_context(&big, true));
        assert!(!long_context(&big, false));
        let edge = Tokens {
            input: LONG_CONTEXT,
            ..Tokens::default()
        };
        assert!(!long_context(&edge, true));
    }

    #[test]
    fn cache_kinds_have_their_own_prices() {
        let p = ModelPrice::custom(3.0, 15.0);
        let t = Tokens {
            input: 1_000_000,
            output: 1_000_000,
            cache_creation: 2_000_000,
            cache_creation_1h: 1_000_000,
            reasoning: 0,
            cache_read: 1_000_000,
        };
        // 3 + 15 + 3.75 + 6 + 0.3
        assert_eq!(p.cost(&t, false), Money(28_050_000_000_000));
    }
}
