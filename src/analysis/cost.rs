//! What a session cost: tokens and dollars by model and by phase, with failed phases' spend
//! flagged as wasted.

use std::collections::BTreeMap;

use serde::Serialize;

use super::phases::Phases;
use crate::model::pricing::{ModelPrice, PriceTable};
use crate::model::{Money, Tokens};

/// How to price.
#[derive(Debug, Clone, Default)]
pub struct CostOptions {
    /// Price everything as this model (by id, alias or name).
    pub model: Option<String>,
    /// Custom input and output prices in USD per million tokens.
    pub custom: Option<(f64, f64)>,
}

/// The model sessions without recorded usage are priced as, unless told otherwise.
pub use crate::model::summary::ESTIMATE_AS as DEFAULT_MODEL;
use crate::model::summary::NO_MODEL;

#[derive(Debug, Clone, Serialize)]
pub struct ModelCost {
    pub model: String,
    /// The price entry used; `None` when the model has no price (its cost is then 0).
    pub priced_as: Option<String>,
    pub tokens: Tokens,
    pub cost_usd: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhaseCost {
    pub index: usize,
    pub label: String,
    pub failed: bool,
    /// Spend on a failed phase is wasted.
    pub wasted: bool,
    /// Some of the phase's usage is by a model with no known price, counted at $0.
    pub unpriced: bool,
    pub tokens: Tokens,
    pub cost_usd: f64,
    pub share: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CostReport {
    pub session_id: String,
    /// The model with the most tokens (or the one priced as, for estimates).
    pub model: String,
    /// Some of the cost is estimated from payload sizes: the session's, or a subagent's rolled
    /// in, for want of recorded usage.
    pub estimated: bool,
    /// The session's own cost is estimated (no usage was recorded), whatever its subagents'.
    #[serde(skip)]
    pub own_estimated: bool,
    pub tokens: Tokens,
    pub cost_usd: f64,
    /// Responses (the session's and its subagents' rolled in) whose recorded usage holds a
    /// count no response can have: their tokens are unknown and cost nothing here, so the
    /// figures are what the believed usage (or the estimate) comes to.
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    pub unbelieved_usage: u64,
    pub models: Vec<ModelCost>,
    pub phases: Vec<PhaseCost>,
    pub wasted_usd: f64,
    pub wasted_share: f64,
    /// Models that had usage but no price.
    pub unpriced: Vec<String>,
    pub prices_taken: String,
    /// The agent's own log the usage was read from, when the session recorded none
    /// ([`Phases::usage_log`]): `list`, `dashboard` and `sql` show an estimate instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_log: Option<String>,
    /// Subagent sessions rolled into these figures (`--include-subagents`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subagents: Vec<SubagentCost>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubagentCost {
    pub session_id: String,
    pub estimated: bool,
    pub cost_usd: f64,
    /// Its responses whose usage could not be believed ([`CostReport::unbelieved_usage`]).
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    pub unbelieved_usage: u64,
    /// Models that had usage but no price.
    pub unpriced: Vec<String>,
}

impl CostReport {
    /// All of the cost is estimated: neither the session nor a subagent rolled in recorded
    /// usage. Where some did, the cost is only partly an estimate.
    pub fn all_estimated(&self) -> bool {
        self.own_estimated && self.subagents.iter().all(|s| s.estimated)
    }

    /// Rolls a subagent session's cost into this one: totals, tokens and models add up; the
    /// phases stay this session's own.
    pub fn include_subagent(&mut self, child: &CostReport) {
        let total = Money::from_usd(self.cost_usd) + Money::from_usd(child.cost_usd);
        let wasted = Money::from_usd(self.wasted_usd) + Money::from_usd(child.wasted_usd);
        self.cost_usd = total.usd();
        self.wasted_usd = wasted.usd();
        self.wasted_share = total.share(wasted);
        for p in &mut self.phases {
            p.share = total.share(Money::from_usd(p.cost_usd));
        }
        self.tokens.add(&child.tokens);
        for m in &child.models {
            match self.models.iter_mut().find(|mine| mine.model == m.model) {
                Some(mine) => {
                    mine.cost_usd =
                        (Money::from_usd(mine.cost_usd) + Money::from_usd(m.cost_usd)).usd();
                    mine.tokens.add(&m.tokens);
                }
                None => self.models.push(m.clone()),
            }
        }
        for name in &child.unpriced {
            if !self.unpriced.contains(name) {
                self.unpriced.push(name.clone());
            }
        }
        self.estimated |= child.estimated;
        self.unbelieved_usage += child.unbelieved_usage;
        self.subagents.push(SubagentCost {
            session_id: child.session_id.clone(),
            estimated: child.estimated,
            cost_usd: child.cost_usd,
            unbelieved_usage: child.unbelieved_usage,
            unpriced: child.unpriced.clone(),
        });
    }
}

/// Errors a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum CostError {
    #[error(
        "no price for model `{0}` (known: sonnet, opus, haiku, gpt-4o, gpt-4.1, gpt-5, gemini-2.5-pro, and dated names of these)"
    )]
    UnknownModel(String),
}

struct Pricer<'a> {
    table: &'a PriceTable,
    forced: Option<ModelPrice>,
}

impl Pricer<'_> {
    fn price(&self, model: &str) -> Option<ModelPrice> {
        self.forced
            .clone()
            .or_else(|| self.table.find(model).cloned())
    }

    /// `normal` tokens at normal rates, of which `long` came from long-context responses.
    fn cost(&self, model: &str, all: &Tokens, long: &Tokens) -> Money {
        let Some(price) = self.price(model) else {
            return Money(0);
        };
        let mut normal = *all;
        if price.threshold_tokens.is_some() && !long.is_zero() {
            normal.input -= long.input;
            normal.output -= long.output;
            normal.cache_creation -= long.cache_creation;
            normal.cache_creation_1h -= long.cache_creation_1h;
            normal.cache_read -= long.cache_read;
            return price.cost(&normal, false) + price.cost(long, true);
        }
        price.cost(all, false)
    }
}

/// The model a session's estimate is priced as: the one its events name, else its agent's
/// default ([`crate::model::summary::estimate_as`]); `None` when neither names one.
pub fn estimate_model(phases: &Phases) -> Option<&str> {
    phases.named_model.as_deref().or(phases.estimate_default)
}

/// Costs a session from its phases.
pub fn compute(
    session_id: &str,
    phases: &Phases,
    table: &PriceTable,
    opts: &CostOptions,
) -> Result<CostReport, CostError> {
    let forced = match (&opts.custom, &opts.model) {
        (Some((input, output)), _) => Some(ModelPrice::custom(*input, *output)),
        (None, Some(model)) => Some(
            table
                .find(model)
                .cloned()
                .ok_or_else(|| CostError::UnknownModel(model.clone()))?,
        ),
        (None, None) => None,
    };
    let estimated = !phases.has_usage;
    // An estimate is priced as the model the session names, else as its agent's default; a
    // named model with no price, or no model (an agent with no default), leaves it unpriced,
    // never priced as another.
    let named = estimate_model(phases);
    let fallback = if estimated && forced.is_none() {
        match named.and_then(|model| table.find(model)) {
            Some(price) => Some(price.clone()),
            None if phases.named_model.is_some() || named.is_none() => None,
            None => return Err(CostError::UnknownModel(DEFAULT_MODEL.to_owned())),
        }
    } else {
        None
    };
    let pricer = Pricer {
        table,
        forced: forced.or(fallback),
    };
    let estimate_model = pricer
        .forced
        .as_ref()
        .map_or_else(|| named.unwrap_or(NO_MODEL).to_owned(), |p| p.id.clone());

    let mut by_model: BTreeMap<String, (Tokens, Money)> = BTreeMap::new();
    let mut phase_costs = Vec::new();
    for phase in &phases.phases {
        let mut tokens = Tokens::default();
        let mut cost = Money(0);
        if estimated {
            tokens = phase.estimate;
            cost = pricer.cost(&estimate_model, &tokens, &Tokens::default());
            let entry = by_model.entry(estimate_model.clone()).or_default();
            entry.0.add(&tokens);
            entry.1 += cost;
        } else {
            for (model, used) in &phase.usage {
                let long = phase
                    .usage_long_context
                    .get(model)
                    .copied()
                    .unwrap_or_default();
                let c = pricer.cost(model, used, &long);
                tokens.add(used);
                cost += c;
                let entry = by_model.entry(model.clone()).or_default();
                entry.0.add(used);
                entry.1 += c;
            }
        }
        phase_costs.push((phase, tokens, cost));
    }
    let total: Money = phase_costs.iter().map(|(_, _, c)| *c).sum();
    let wasted: Money = phase_costs
        .iter()
        .filter(|(p, _, _)| p.failed)
        .map(|(_, _, c)| *c)
        .sum();
    // An estimate priced as no model, or as a named one with no price, counts at $0 as such
    // a model's usage does: its phases are marked too, as the total is.
    let unpriced_in = |phase: &super::phases::Phase| {
        if estimated {
            return !phase.estimate.is_zero() && pricer.price(&estimate_model).is_none();
        }
        phase
            .usage
            .iter()
            .any(|(name, t)| !t.is_zero() && pricer.price(name).is_none())
    };
    let mut all = Tokens::default();
    for (t, _) in by_model.values() {
        all.add(t);
    }
    let model = by_model
        .iter()
        .max_by_key(|(name, (t, _))| (t.total(), std::cmp::Reverse((*name).clone())))
        .map_or_else(|| estimate_model.clone(), |(name, _)| name.clone());
    let unpriced = by_model
        .iter()
        .filter(|(name, (t, _))| !t.is_zero() && pricer.price(name).is_none())
        .map(|(name, _)| name.clone())
        .collect();
    Ok(CostReport {
        session_id: session_id.to_owned(),
        model,
        estimated,
        own_estimated: estimated,
        tokens: all,
        cost_usd: total.usd(),
        unbelieved_usage: phases.unbelieved_usage,
        models: by_model
            .iter()
            .map(|(name, (t, c))| ModelCost {
                model: name.clone(),
                priced_as: pricer.price(name).map(|p| p.id),
                tokens: *t,
                cost_usd: c.usd(),
            })
            .collect(),
        phases: phase_costs
            .iter()
            .map(|(p, t, c)| PhaseCost {
                index: p.index,
                label: p.label.clone(),
                failed: p.failed,
                wasted: p.failed,
                unpriced: unpriced_in(p),
                tokens: *t,
                cost_usd: c.usd(),
                share: total.share(*c),
            })
            .collect(),
        wasted_usd: wasted.usd(),
        wasted_share: total.share(wasted),
        unpriced,
        prices_taken: table.taken.clone(),
        usage_log: phases.usage_log.clone().filter(|_| !estimated),
        subagents: Vec::new(),
    })
}

/// When a session spent its money, for a running counter: each response's cost at the time it
/// came (Unix seconds), priced as [`compute`] prices it; a session that recorded no usage
/// spends each phase's estimate at the phase's end. The amounts add up to [`compute`]'s total.
pub fn spend_over_time(phases: &Phases, table: &PriceTable) -> Vec<(f64, Money)> {
    if !phases.has_usage {
        let Some(price) = estimate_model(phases).and_then(|model| table.find(model)) else {
            return Vec::new();
        };
        return phases
            .phases
            .iter()
            .map(|p| {
                (
                    phases.started_at.value + p.end_s,
                    price.cost(&p.estimate, false),
                )
            })
            .collect();
    }
    phases
        .responses
        .iter()
        .map(|r| {
            let cost = table
                .find(&r.model)
                .map_or(Money(0), |p| p.cost(&r.tokens, r.long_context));
            (r.at, cost)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::analysis::phases::PhaseBuilder;
    use crate::model::{Event, EventType};

    const T0: f64 = 1_780_000_000.0;

    fn event(kind: EventType, at: f64, data: Value) -> Event {
        Event::new(kind, T0 + at, format!("e{at}"), "s".into()).with_data(data)
    }

    fn usage(t: &Tokens) -> Value {
        json!({
            "input_tokens": t.input,
            "output_tokens": t.output,
            "cache_creation_input_tokens": t.cache_creation,
            "cache_read_input_tokens": t.cache_read,
            "cache_creation": {"ephemeral_1h_input_tokens": t.cache_creation_1h},
        })
    }

    /// A session of one prompt and one response per `(model, tokens)`.
    fn phases(responses: &[(&str, Tokens)]) -> Phases {
        let mut b = PhaseBuilder::new(crate::model::Agent::ClaudeCode, Some(T0));
        b.observe(&event(EventType::UserPrompt, 0.0, json!({"prompt": "go"})));
        for (i, (model, tokens)) in responses.iter().enumerate() {
            b.observe(&event(
                EventType::LlmResponse,
                1.0 + i as f64,
                json!({"model": model, "usage": usage(tokens)}),
            ));
        }
        b.finish()
    }

    fn cost(responses: &[(&str, Tokens)], opts: &CostOptions) -> CostReport {
        compute("s", &phases(responses), PriceTable::builtin(), opts).unwrap()
    }

    fn picodollars(report: &CostReport) -> u128 {
        Money::from_usd(report.cost_usd).0
    }

    /// `n` tokens of one kind.
    fn tokens(input: u64, output: u64, write: u64, write_1h: u64, read: u64) -> Tokens {
        Tokens {
            input,
            output,
            cache_creation: write,
            cache_creation_1h: write_1h,
            cache_read: read,
            reasoning: 0,
        }
    }

    #[test]
    fn every_kind_of_token_is_priced_exactly_at_its_own_rate() {
        // Sonnet 4.5: $3 input, $15 output, $3.75 5m write, $6 1h write, $0.30 read (per MTok).
        let r = cost(
            &[("claude-sonnet-4-5", tokens(1000, 2000, 3000, 1000, 10_000))],
            &CostOptions::default(),
        );
        // 1000×3 + 2000×15 + 2000×3.75 + 1000×6 + 10000×0.3 = 49,500 µ$ = 49.5e9 p$.
        assert_eq!(picodollars(&r), 49_500_000_000);
        assert!(!r.estimated);
        assert_eq!(r.models.len(), 1);
        assert_eq!(r.models[0].priced_as.as_deref(), Some("claude-sonnet-4-5"));
    }

    #[test]
    fn one_hour_cache_writes_cost_more_than_five_minute_ones() {
        // 100,000 tokens, under the long-context threshold.
        let five = cost(
            &[("claude-sonnet-4-5", tokens(0, 0, 100_000, 0, 0))],
            &CostOptions::default(),
        );
        let hour = cost(
            &[("claude-sonnet-4-5", tokens(0, 0, 100_000, 100_000, 0))],
            &CostOptions::default(),
        );
        assert_eq!(picodollars(&five), 100_000 * 3_750_000);
        assert_eq!(picodollars(&hour), 100_000 * 6_000_000);
        // A split write pays each part at its rate.
        let split = cost(
            &[("claude-sonnet-4-5", tokens(0, 0, 100_000, 40_000, 0))],
            &CostOptions::default(),
        );
        assert_eq!(picodollars(&split), 60_000 * 3_750_000 + 40_000 * 6_000_000);
        // Past 200,000 tokens of context, the 5m write takes Sonnet 4.5's long rate ($7.50).
        let long = cost(
            &[("claude-sonnet-4-5", tokens(0, 0, 1_000_000, 0, 0))],
            &CostOptions::default(),
        );
        assert_eq!(picodollars(&long), 1_000_000 * 7_500_000);
    }

    #[test]
    fn custom_prices_price_cache_with_anthropics_multipliers() {
        let opts = CostOptions {
            model: None,
            custom: Some((2.0, 10.0)),
        };
        let r = cost(
            &[(
                "anything",
                tokens(1_000_000, 1_000_000, 1_000_000, 500_000, 1_000_000),
            )],
            &opts,
        );
        // 2 + 10 + 0.5×2.5 (5m) + 0.5×4 (1h) + 0.2 (read) dollars.
        assert_eq!(picodollars(&r), 15_450_000_000_000);
        assert_eq!(r.models[0].priced_as.as_deref(), Some("custom"));
    }

    #[test]
    fn sums_of_many_small_responses_are_exact() {
        // 0.1 + 0.2 in floating point is not 0.3; in picodollars it is.
        let opts = CostOptions {
            model: None,
            custom: Some((0.1, 0.2)),
        };
        let responses: Vec<(&str, Tokens)> = (0..1000)
            .map(|_| ("m", tokens(1000, 1000, 0, 0, 0)))
            .collect();
        let r = cost(&responses, &opts);
        assert_eq!(picodollars(&r), 300_000_000_000);
        assert_eq!(r.tokens.input, 1_000_000);
        // One token at the smallest price the table can hold (one picodollar a token).
        let tiny = CostOptions {
            model: None,
            custom: Some((0.000_001, 0.0)),
        };
        assert_eq!(
            picodollars(&cost(&[("m", tokens(7, 0, 0, 0, 0))], &tiny)),
            7
        );
        // Below that it rounds to the nearest picodollar a token: 0.4 p$ is nothing.
        let below = CostOptions {
            model: None,
            custom: Some((0.000_000_4, 0.0)),
        };
        assert_eq!(
            picodollars(&cost(&[("m", tokens(7, 0, 0, 0, 0))], &below)),
            0
        );
    }

    #[test]
    fn long_context_responses_pay_the_long_context_rates() {
        // Sonnet 4.5 above 200k tokens of context: $6 input instead of $3.
        let long = cost(
            &[("claude-sonnet-4-5", tokens(250_000, 0, 0, 0, 0))],
            &CostOptions::default(),
        );
        assert_eq!(picodollars(&long), 250_000 * 6_000_000);
        // Exactly 200,000 is not past it.
        let edge = cost(
            &[("claude-sonnet-4-5", tokens(200_000, 0, 0, 0, 0))],
            &CostOptions::default(),
        );
        assert_eq!(picodollars(&edge), 200_000 * 3_000_000);
        // A long response and a short one: each at its own rate.
        let both = cost(
            &[
                ("claude-sonnet-4-5", tokens(250_000, 0, 0, 0, 0)),
                ("claude-sonnet-4-5", tokens(1000, 0, 0, 0, 0)),
            ],
            &CostOptions::default(),
        );
        assert_eq!(picodollars(&both), 250_000 * 6_000_000 + 1000 * 3_000_000);
    }

    #[test]
    fn unknown_models_cost_nothing_and_are_named() {
        let r = cost(
            &[
                ("mystery-model-9", tokens(1000, 1000, 0, 0, 0)),
                ("claude-haiku-4-5", tokens(1_000_000, 0, 0, 0, 0)),
            ],
            &CostOptions::default(),
        );
        assert_eq!(r.unpriced, vec!["mystery-model-9".to_owned()]);
        let mystery = r
            .models
            .iter()
            .find(|m| m.model == "mystery-model-9")
            .unwrap();
        assert_eq!(mystery.priced_as, None);
        assert_eq!(Money::from_usd(mystery.cost_usd), Money(0));
        // The known model is priced as ever (Haiku 4.5: $1 input).
        assert_eq!(picodollars(&r), 1_000_000_000_000);
        // Asking to price as an unknown model is an error the caller can name.
        let opts = CostOptions {
            model: Some("no-such-model".into()),
            custom: None,
        };
        let err = compute("s", &phases(&[]), PriceTable::builtin(), &opts).unwrap_err();
        assert!(matches!(err, CostError::UnknownModel(m) if m == "no-such-model"));
    }

    #[test]
    fn zero_usage_costs_nothing_and_is_not_an_estimate() {
        let r = cost(
            &[("mystery-model-9", Tokens::default())],
            &CostOptions::default(),
        );
        assert_eq!(picodollars(&r), 0);
        assert!(!r.estimated, "usage was recorded, even if it was zero");
        assert!(
            r.unpriced.is_empty(),
            "a model that used nothing needs no price"
        );
        assert!((r.wasted_share - 0.0).abs() < f64::EPSILON);
        assert!(r.phases.iter().all(|p| p.share.abs() < f64::EPSILON));
    }

    #[test]
    fn a_subagent_adds_its_cost_and_tokens_and_shares_are_recomputed() {
        let opts = CostOptions::default();
        let mut parent = cost(
            &[("claude-haiku-4-5", tokens(1_000_000, 0, 0, 0, 0))],
            &opts,
        );
        let child = cost(
            &[("claude-haiku-4-5", tokens(3_000_000, 0, 0, 0, 0))],
            &opts,
        );
        parent.include_subagent(&child);
        assert_eq!(picodollars(&parent), 4_000_000_000_000);
        assert_eq!(parent.tokens.input, 4_000_000);
        assert_eq!(parent.models.len(), 1);
        assert_eq!(parent.models[0].tokens.input, 4_000_000);
        assert!((parent.phases[0].share - 0.25).abs() < 1e-12);
        assert_eq!(parent.subagents.len(), 1);
    }
}
