//! Token usage by kind, and money as integer picodollars so that sums are exact.

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::model::text::{figure, separated};

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

/// For `skip_serializing_if`: a count of none, left out of a report.
pub fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Tokens {
    /// From a model API's usage object (see [`ApiUsage`]); anything else is no usage, and so
    /// is one that holds a count no response can have.
    pub fn from_usage(usage: &Value) -> Tokens {
        Tokens::read_usage(usage).unwrap_or_default()
    }

    /// From a model API's usage object, as [`Tokens::from_usage`] reads it; `None` when it
    /// holds a count no response can have ([`ApiUsage`]): its tokens are unknown.
    pub fn read_usage(usage: &Value) -> Option<Tokens> {
        ApiUsage::deserialize(usage).map_or(Some(Tokens::default()), |u| u.0)
    }

    /// Whether one response can hold these counts: [`BELIEVABLE_RESPONSE_TOKENS`] in all at
    /// most, as [`ApiUsage`] judges a usage object.
    pub fn believable(&self) -> bool {
        believed_tokens(self.total()).is_some()
    }

    // Counts come from what agents and clients send: sums saturate rather than overflow, so
    // that an absurd count is a large figure, never a panic or a wrapped one.
    pub fn total(&self) -> u64 {
        self.input
            .saturating_add(self.output)
            .saturating_add(self.cache_creation)
            .saturating_add(self.cache_read)
    }

    /// What the model saw as context for this response: everything it read.
    pub fn context(&self) -> u64 {
        self.input
            .saturating_add(self.cache_creation)
            .saturating_add(self.cache_read)
    }

    pub fn add(&mut self, other: &Tokens) {
        self.input = self.input.saturating_add(other.input);
        self.output = self.output.saturating_add(other.output);
        self.cache_creation = self.cache_creation.saturating_add(other.cache_creation);
        self.cache_creation_1h = self
            .cache_creation_1h
            .saturating_add(other.cache_creation_1h);
        self.cache_read = self.cache_read.saturating_add(other.cache_read);
        self.reasoning = self.reasoning.saturating_add(other.reasoning);
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

    /// As a model API's usage object (Anthropic's names, which [`Tokens::from_usage`] reads
    /// back to the same counts), for events the store writes from usage read elsewhere.
    pub fn to_usage(&self) -> Value {
        let mut usage = serde_json::json!({
            "input_tokens": self.input,
            "output_tokens": self.output,
            "cache_read_input_tokens": self.cache_read,
            "cache_creation_input_tokens": self.cache_creation,
        });
        if self.cache_creation_1h > 0 {
            usage["cache_creation"] = serde_json::json!({
                "ephemeral_5m_input_tokens": self.cache_creation - self.cache_creation_1h.min(self.cache_creation),
                "ephemeral_1h_input_tokens": self.cache_creation_1h,
            });
        }
        if self.reasoning > 0 {
            usage["output_tokens_details"] =
                serde_json::json!({"reasoning_tokens": self.reasoning});
        }
        usage
    }
}

/// `sum`, the tokens of the usage recorded so far (`None` before any), with `more` added: an
/// unknown count stays unknown (`Err`, the first one met kept), so that no later record makes
/// the sum look known; known counts add, saturating ([`Tokens::add`]).
pub fn add_unless_unknown<U: Clone>(
    sum: Option<Result<Tokens, U>>,
    more: &Result<Tokens, U>,
) -> Result<Tokens, U> {
    match (sum, more) {
        (Some(Err(unknown)), _) => Err(unknown),
        (_, Err(unknown)) => Err(unknown.clone()),
        (Some(Ok(mut sum)), Ok(more)) => {
            sum.add(more);
            Ok(sum)
        }
        (None, Ok(more)) => Ok(*more),
    }
}

/// Tokens as a model API's usage object spells them: the one reader of usage, used on a
/// parsed value and straight on a line of the store alike. Anthropic's names
/// (`input_tokens`, `cache_creation_input_tokens`, `cache_creation.ephemeral_1h_input_tokens`
/// …) and OpenAI's (`prompt_tokens`, `completion_tokens`, `*_tokens_details.reasoning_tokens`)
/// are read; other keys are skipped unparsed. A count that is no count a response can have
/// (negative, fractional, a string, more than [`BELIEVABLE_RESPONSE_TOKENS`]: a damaged or forged line's
/// `18446744073709551615`, `1e308`, `-1`) makes the whole usage unknown, `None`: priced, it
/// cost $110,680,464,442,257.31 in `cost` and $9,223,372.04 in `list`, and filled 2^63 % of a
/// context window. Every reader of usage (the views, the summaries, the index) reads it here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiUsage(pub Option<Tokens>);

/// No usage: no tokens, known.
impl Default for ApiUsage {
    fn default() -> Self {
        ApiUsage(Some(Tokens::default()))
    }
}

/// The most tokens one response's usage is believed to hold: ten billion, ten thousand of the
/// largest context windows, more than a whole session uses (some agents record a session's
/// usage in one response). At the dearest price ($180 a million) that is $1.8 million, which
/// the index's integers hold in picodollars.
pub const BELIEVABLE_RESPONSE_TOKENS: u64 = 10_000_000_000;

/// What makes a response's usage one no response can have, as [`ApiUsage`] judges it, in the
/// words every command says it in: a count of its own, or its counts together
/// (`Tokens::believable`: two counts of six billion are no more believed than one of twelve).
pub const UNBELIEVED_USAGE: &str = "a token count that is negative, fractional or not a number, \
     or counts that add up to over ten billion";

/// A token count a response is believed to hold: up to [`BELIEVABLE_RESPONSE_TOKENS`]; `None`
/// for any other.
pub fn believed_tokens(n: u64) -> Option<u64> {
    (n <= BELIEVABLE_RESPONSE_TOKENS).then_some(n)
}

impl<'de> Deserialize<'de> for ApiUsage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UsageVisitor)
    }
}

struct UsageVisitor;

impl<'de> Visitor<'de> for UsageVisitor {
    type Value = ApiUsage;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a usage object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<ApiUsage, A::Error> {
        let mut t = Tokens::default();
        let mut reasoning_flat: Option<u64> = Some(0);
        // The cache writes split by how long they are kept, which add up to the total.
        let mut cache_creation_5m = 0u64;
        let mut written_total = false;
        // Every count read so far is one a response can have.
        let mut known = true;
        let mut add = |count: &mut u64, more: Option<u64>| match more {
            // A key can come twice (or under both spellings): the counts add, saturating, as
            // a session's do (`Tokens::add`), so no object can overflow them.
            Some(more) => *count = count.saturating_add(more),
            None => known = false,
        };
        while let Some(key) = access.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "input_tokens" | "prompt_tokens" => {
                    add(&mut t.input, access.next_value::<Count>()?.0);
                }
                "output_tokens" | "completion_tokens" => {
                    add(&mut t.output, access.next_value::<Count>()?.0);
                }
                "cache_creation_input_tokens" => {
                    written_total = true;
                    add(&mut t.cache_creation, access.next_value::<Count>()?.0);
                }
                "cache_read_input_tokens" => {
                    add(&mut t.cache_read, access.next_value::<Count>()?.0);
                }
                "cache_creation" => {
                    let split = access.next_value::<Nested>()?;
                    let five_minutes = split.get("ephemeral_5m_input_tokens");
                    add(&mut cache_creation_5m, five_minutes);
                    add(
                        &mut t.cache_creation_1h,
                        split.get("ephemeral_1h_input_tokens"),
                    );
                }
                "output_tokens_details" | "completion_tokens_details" => add(
                    &mut t.reasoning,
                    access.next_value::<Nested>()?.get("reasoning_tokens"),
                ),
                "reasoning_tokens" => {
                    let more = access.next_value::<Count>()?.0;
                    reasoning_flat = reasoning_flat.zip(more).map(|(a, b)| a.saturating_add(b));
                }
                _ => {
                    access.next_value::<IgnoredAny>()?;
                }
            }
        }
        let Some(reasoning_flat) = reasoning_flat else {
            return Ok(ApiUsage(None));
        };
        if t.reasoning == 0 {
            t.reasoning = reasoning_flat;
        }
        // A split of the cache writes that holds more than their total is no response's: the
        // hour's writes, dearer, priced beyond the writes there were (a million written, and
        // two million of them kept for an hour at $10 a million).
        let split = cache_creation_5m.saturating_add(t.cache_creation_1h);
        if !written_total {
            // The split alone says what was written.
            t.cache_creation = split;
        }
        // Summed, the counts may pass what one response can use: two believed counts of ten
        // billion are no more believed than one of twenty.
        Ok(ApiUsage(
            (known && split <= t.cache_creation && t.believable()).then_some(t),
        ))
    }

    // Anything but an object is no usage, not an error: a line must never fail over it.
    fn visit_unit<E: de::Error>(self) -> Result<ApiUsage, E> {
        Ok(ApiUsage::default())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<ApiUsage, E> {
        Ok(ApiUsage::default())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<ApiUsage, E> {
        Ok(ApiUsage::default())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<ApiUsage, E> {
        Ok(ApiUsage::default())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<ApiUsage, E> {
        Ok(ApiUsage::default())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<ApiUsage, E> {
        Ok(ApiUsage::default())
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<ApiUsage, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ApiUsage::default())
    }
}

/// A token count as a usage object holds one: a believed count ([`believed_tokens`]), written
/// as a whole number (`2.0` too); `null` is none, 0; anything else (negative, fractional, a
/// string, `1e308`) is `None`, unknown. The one judge of a count, for [`ApiUsage`] and for the
/// importers of logs that spell usage their own way.
pub fn token_count(value: &Value) -> Option<u64> {
    Count::of(value)
}

/// A token count of a usage object, as [`token_count`] reads it.
struct Count(Option<u64>);

impl Count {
    fn of(value: &Value) -> Option<u64> {
        match value {
            Value::Null => Some(0),
            Value::Number(n) => n
                .as_u64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                        .map(|f| f as u64)
                })
                .and_then(believed_tokens),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Count(Count::of(&Value::deserialize(deserializer)?)))
    }
}

/// A small object of counts (`cache_creation`, `output_tokens_details`); anything but an
/// object holds none.
struct Nested(serde_json::Map<String, Value>);

impl Nested {
    /// The count under `key`: 0 when there is none, `None` when it is no count ([`Count`]).
    fn get(&self, key: &str) -> Option<u64> {
        self.0.get(key).map_or(Some(0), Count::of)
    }
}

impl<'de> Deserialize<'de> for Nested {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Nested(match Value::deserialize(deserializer)? {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        }))
    }
}

/// An amount of money in picodollars (10⁻¹² USD): a token priced at P dollars per million
/// costs P × 10⁶ picodollars, an integer for any price with up to six decimals, so costs add up
/// exactly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(pub u128);

/// A number up to `u64::MAX` picodollars (over $18 million), a decimal string beyond it.
/// serde_json reads a `u128` through a string it builds digit by digit; read as a `u64`, the
/// ten thousand spends `budget-report` keeps in the index decode in half the time. The string
/// keeps a larger amount exact, where a JSON number past `u64` would be read as a float.
impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match u64::try_from(self.0) {
            Ok(small) => serializer.serialize_u64(small),
            Err(_) => serializer.collect_str(&self.0),
        }
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        deserializer.deserialize_any(MoneyVisitor)
    }
}

struct MoneyVisitor;

impl Visitor<'_> for MoneyVisitor {
    type Value = Money;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole number of picodollars, as a number or a decimal string")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
        Ok(Money(u128::from(v)))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Money, E> {
        Ok(Money(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
        u128::try_from(v)
            .map(Money)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
        v.parse()
            .map(Money)
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

impl Money {
    /// `tokens` at `usd_per_million`.
    pub fn of(tokens: u64, usd_per_million: f64) -> Money {
        let per_token = (usd_per_million * 1e6).round().max(0.0) as u128;
        Money(per_token.saturating_mul(u128::from(tokens)))
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

/// Dollars with enough digits for small sessions and thousands separated as counts are:
/// `$0.0042`, `$12.35`, `$9,750,000.00`; past fifteen digits (only a figure someone forged or
/// gave, a budget of `1e308`) as [`figure`] says it, `$1e308`, not 309 digits.
pub fn dollars(usd: f64) -> String {
    if usd.abs() >= 1e15 {
        format!("${}", figure(usd))
    } else if usd.abs() >= 1.0 {
        format!("${}", separated(&format!("{usd:.2}")))
    } else {
        format!("${usd:.4}")
    }
}

/// The least budget anyone can give (`watch --budget`, `lint`'s budget-proximity setting): a
/// millionth of a dollar, the least [`dollars_given`] shows. One of `5e-324` was taken, and a
/// share of it read `inf%`.
pub const LEAST_BUDGET_USD: f64 = 1e-6;

/// A figure someone gave (a budget, a ceiling) as [`dollars`] shows it, with the further
/// digits it needs, to the millionth of a dollar: `$5.00`, `$0.0001`, `$0.00005`, `$1.234`.
/// Cut to [`dollars`]' digits, a budget of $0.00005 would read `$0.0000`.
pub fn dollars_given(usd: f64) -> String {
    // Past fifteen digits, or under a millionth (a ceiling of `1e-300` read `$0.0000`).
    if usd.abs() >= 1e15 || (usd != 0.0 && usd.abs() < 1e-6) {
        return format!("${}", figure(usd));
    }
    let least = if usd.abs() >= 1.0 { 2 } else { 4 };
    let digits = (least..6)
        .find(|&d| {
            let scaled = usd * 10f64.powi(d);
            (scaled - scaled.round()).abs() < 1e-6
        })
        .unwrap_or(6);
    format!("${}", separated(&format!("{usd:.*}", digits as usize)))
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }
}

impl std::ops::AddAssign for Money {
    fn add_assign(&mut self, other: Money) {
        self.0 = self.0.saturating_add(other.0);
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

    fn t(input: u64, output: u64) -> Tokens {
        Tokens {
            input,
            output,
            ..Tokens::default()
        }
    }

    #[test]
    fn usage_added_stays_unknown_once_a_count_is() {
        let known: Result<Tokens, &str> = Ok(t(100, 10));
        assert_eq!(add_unless_unknown(None, &known), Ok(t(100, 10)));
        assert_eq!(
            add_unless_unknown(Some(known), &Ok(t(5, 1))),
            Ok(t(105, 11))
        );
        assert_eq!(add_unless_unknown(Some(known), &Err("more")), Err("more"));
        assert_eq!(add_unless_unknown(None, &Err("more")), Err("more"));
        assert_eq!(add_unless_unknown(Some(Err("sum")), &known), Err("sum"));
        assert_eq!(
            add_unless_unknown(Some(Err("sum")), &Err("more")),
            Err("sum")
        );
        // Counts past u64 saturate, as Tokens::add does, never wrap.
        let most: Result<Tokens, &str> = Ok(t(u64::MAX, u64::MAX - 1));
        assert_eq!(
            add_unless_unknown(Some(most), &Ok(t(1, 5))),
            Ok(t(u64::MAX, u64::MAX))
        );
    }

    #[test]
    fn money_reads_back_exactly_what_it_wrote_at_every_size() {
        let big = u128::from(u64::MAX) + 1;
        for amount in [0, 1, 173_433_250_000, u128::from(u64::MAX), big, u128::MAX] {
            let json = serde_json::to_string(&Money(amount)).unwrap();
            assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), Money(amount));
        }
        assert_eq!(serde_json::to_string(&Money(7)).unwrap(), "7");
        assert_eq!(
            serde_json::to_string(&Money(big)).unwrap(),
            format!("\"{big}\"")
        );
        // What an earlier binary cached, a number past u64, reads as a float: refused, so that
        // the figure is computed again rather than taken inexactly.
        assert!(serde_json::from_str::<Money>(&big.to_string()).is_err());
        for refused in ["-1", "1.5", "\"1.5\"", "\"-3\"", "null", "[]"] {
            assert!(serde_json::from_str::<Money>(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn a_given_figure_shows_the_digits_it_needs() {
        assert_eq!(dollars_given(5.0), "$5.00");
        assert_eq!(dollars_given(1.234), "$1.234");
        assert_eq!(dollars_given(0.5), "$0.5000");
        assert_eq!(dollars_given(0.0001), "$0.0001");
        assert_eq!(dollars_given(0.00005), "$0.00005");
        assert_eq!(dollars_given(0.000_000_1), "$0.0000001");
        assert_eq!(dollars(0.002_412_3), "$0.0024");
        // Thousands separated as counts are; past fifteen digits, short.
        assert_eq!(dollars(9_750_000.0), "$9,750,000.00");
        assert_eq!(dollars(-1_234.5), "$-1,234.50");
        assert_eq!(dollars_given(12_345.678), "$12,345.678");
        assert_eq!(dollars(1e300), "$1e300");
        assert_eq!(dollars_given(1e300), "$1e300");
        assert_eq!(dollars_given(1e-300), "$1e-300");
    }

    #[test]
    fn absurd_counts_saturate_and_never_overflow() {
        let huge = Tokens {
            input: u64::MAX,
            output: u64::MAX,
            cache_read: 1,
            ..Tokens::default()
        };
        assert_eq!(huge.total(), u64::MAX);
        assert_eq!(huge.context(), u64::MAX);
        let mut sum = huge;
        sum.add(&huge);
        assert_eq!(sum.input, u64::MAX);
        let dear = Money::of(u64::MAX, 1e30);
        assert_eq!(dear + dear, Money(u128::MAX));
    }

    #[test]
    fn a_usage_object_reads_back_to_the_same_counts() {
        let tokens = Tokens {
            input: 3,
            output: 50,
            cache_creation: 700,
            cache_creation_1h: 200,
            cache_read: 9000,
            reasoning: 20,
        };
        assert_eq!(Tokens::from_usage(&tokens.to_usage()), tokens);
        let plain = Tokens {
            input: 1,
            output: 2,
            ..Tokens::default()
        };
        assert_eq!(Tokens::from_usage(&plain.to_usage()), plain);
    }

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

    #[test]
    fn openai_usage_and_odd_values() {
        let u = serde_json::json!({"prompt_tokens": 10, "completion_tokens": 7,
            "completion_tokens_details": {"reasoning_tokens": 5}, "extra": [1, {"x": 2}]});
        let t = Tokens::from_usage(&u);
        assert_eq!((t.input, t.output, t.reasoning), (10, 7, 5));
        let whole = serde_json::json!({"input_tokens": null, "cache_read_input_tokens": 2.0});
        assert_eq!(Tokens::from_usage(&whole).total(), 2);
        assert_eq!(
            Tokens::from_usage(&serde_json::json!([1, 2])),
            Tokens::default()
        );
        let line: ApiUsage = serde_json::from_str(r#"{"input_tokens":1,"output_tokens":2,"cache_creation":{"ephemeral_1h_input_tokens":3}}"#).unwrap();
        let line = line.0.unwrap();
        assert_eq!((line.input, line.output, line.cache_creation_1h), (1, 2, 3));
    }

    #[test]
    fn a_count_no_response_can_have_makes_the_usage_unknown() {
        for odd in [
            serde_json::json!({"input_tokens": "3", "output_tokens": 1}),
            serde_json::json!({"input_tokens": 3, "output_tokens": -1}),
            serde_json::json!({"input_tokens": 3.5}),
            serde_json::json!({"input_tokens": 1e308}),
            serde_json::json!({"input_tokens": u64::MAX}),
            serde_json::json!({"input_tokens": BELIEVABLE_RESPONSE_TOKENS + 1}),
            serde_json::json!({"input_tokens": BELIEVABLE_RESPONSE_TOKENS, "output_tokens": 1}),
            serde_json::json!({"input_tokens": 1, "cache_creation": {"ephemeral_1h_input_tokens": -1}}),
            // The cache writes split into more than their total, or into a count of none.
            serde_json::json!({"cache_creation_input_tokens": 1_000_000,
                "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 5_000_000}}),
            serde_json::json!({"cache_creation_input_tokens": 1_000_000,
                "cache_creation": {"ephemeral_5m_input_tokens": -1_000_000, "ephemeral_1h_input_tokens": 2_000_000}}),
            serde_json::json!({"cache_creation_input_tokens": 10,
                "cache_creation": {"ephemeral_5m_input_tokens": 6, "ephemeral_1h_input_tokens": 5}}),
            serde_json::json!({"input_tokens": 1, "output_tokens_details": {"reasoning_tokens": "x"}}),
            serde_json::json!({"input_tokens": 1, "reasoning_tokens": true}),
        ] {
            assert_eq!(Tokens::read_usage(&odd), None, "{odd}");
            assert_eq!(Tokens::from_usage(&odd), Tokens::default(), "{odd}");
            let line: ApiUsage = serde_json::from_str(&odd.to_string()).unwrap();
            assert_eq!(line.0, None, "{odd}");
        }
        let most = serde_json::json!({"input_tokens": BELIEVABLE_RESPONSE_TOKENS});
        assert_eq!(
            Tokens::read_usage(&most).map(|t| t.input),
            Some(BELIEVABLE_RESPONSE_TOKENS)
        );
    }
}
