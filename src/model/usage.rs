//! Token usage by kind, and money as integer picodollars so that sums are exact.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Tokens of one or more model responses, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    /// Cache writes, all durations.
    pub cache_creation: u64,
    /// Of `cache_creation`, written for one hour (priced higher); the rest is five-minute.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_creation_1h: u64,
    pub cache_read: u64,
    /// Of `output`, spent on reasoning, where an agent reports it (OpenAI's models do).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reasoning: u64,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde passes a reference"
)]
fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Tokens {
    /// From a model API's usage object (Anthropic's field names; OpenAI's `prompt_tokens` /
    /// `completion_tokens` and reasoning details are read too).
    pub fn from_usage(usage: &Value) -> Tokens {
        let n = |v: &Value, k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
        let split = usage.get("cache_creation");
        let reasoning = ["output_tokens_details", "completion_tokens_details"]
            .iter()
            .find_map(|k| usage.get(*k))
            .map_or_else(
                || n(usage, "reasoning_tokens"),
                |d| n(d, "reasoning_tokens"),
            );
        Tokens {
            input: n(usage, "input_tokens") + n(usage, "prompt_tokens"),
            output: n(usage, "output_tokens") + n(usage, "completion_tokens"),
            cache_creation: n(usage, "cache_creation_input_tokens"),
            cache_creation_1h: split.map_or(0, |s| n(s, "ephemeral_1h_input_tokens")),
            cache_read: n(usage, "cache_read_input_tokens"),
            reasoning,
        }
    }

    pub fn total(&self) -> u64 {
        self.input + self.output + self.cache_creation + self.cache_read
    }

    /// What the model saw as context for this response: everything it read.
    pub fn context(&self) -> u64 {
        self.input + self.cache_creation + self.cache_read
    }

    pub fn add(&mut self, other: &Tokens) {
        self.input += other.input;
        self.output += other.output;
        self.cache_creation += other.cache_creation;
        self.cache_creation_1h += other.cache_creation_1h;
        self.cache_read += other.cache_read;
        self.reasoning += other.reasoning;
    }

    pub fn subtract(&mut self, other: &Tokens) {
        self.input = self.input.saturating_sub(other.input);
        self.output = self.output.saturating_sub(other.output);
        self.cache_creation = self.cache_creation.saturating_sub(other.cache_creation);
        self.cache_creation_1h = self
            .cache_creation_1h
            .saturating_sub(other.cache_creation_1h);
        self.cache_read = self.cache_read.saturating_sub(other.cache_read);
        self.reasoning = self.reasoning.saturating_sub(other.reasoning);
    }

    pub fn is_zero(&self) -> bool {
        self.total() == 0
    }
}

/// An amount of money in picodollars (10⁻¹² USD): a token priced at P dollars per million
/// costs P × 10⁶ picodollars, an integer for any price with up to six decimals, so costs add up
/// exactly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Money(pub u128);

impl Money {
    /// `tokens` at `usd_per_million`.
    pub fn of(tokens: u64, usd_per_million: f64) -> Money {
        let per_token = (usd_per_million * 1e6).round().max(0.0) as u128;
        Money(per_token * u128::from(tokens))
    }

    /// From US dollars, to the nearest picodollar.
    pub fn from_usd(usd: f64) -> Money {
        Money((usd * 1e12).round().max(0.0) as u128)
    }

    pub fn usd(self) -> f64 {
        self.0 as f64 / 1e12
    }

    /// `part` as a share of `self`, from 0 to 1.
    pub fn share(self, part: Money) -> f64 {
        if self.0 == 0 {
            0.0
        } else {
            part.0 as f64 / self.0 as f64
        }
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        Money(self.0 + other.0)
    }
}

impl std::ops::AddAssign for Money {
    fn add_assign(&mut self, other: Money) {
        self.0 += other.0;
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money(0), |a, b| a + b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_exact() {
        // 1,234,567 tokens at $0.075/M and at $3/M.
        assert_eq!(Money::of(1_234_567, 0.075).0, 92_592_525_000);
        assert_eq!(Money::of(1_000_000, 3.0), Money(3_000_000_000_000));
        let parts = [Money::of(1, 0.1), Money::of(2, 0.2)];
        assert_eq!(parts.iter().copied().sum::<Money>(), Money::of(1, 0.5));
    }

    #[test]
    fn usage_kinds() {
        let u = serde_json::json!({"input_tokens": 3, "output_tokens": 4, "cache_creation_input_tokens": 10,
            "cache_read_input_tokens": 20, "cache_creation": {"ephemeral_5m_input_tokens": 6, "ephemeral_1h_input_tokens": 4}});
        let t = Tokens::from_usage(&u);
        assert_eq!(
            (
                t.input,
                t.output,
                t.cache_creation,
                t.cache_creation_1h,
                t.cache_read
            ),
            (3, 4, 10, 4, 20)
        );
        assert_eq!((t.total(), t.context()), (37, 33));
    }
}
