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
pub const DEFAULT_MODEL: &str = "sonnet";

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
    pub tokens: Tokens,
    pub cost_usd: f64,
    pub share: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CostReport {
    pub session_id: String,
    /// The model with the most tokens (or the one priced as, for estimates).
    pub model: String,
    pub estimated: bool,
    pub tokens: Tokens,
    pub cost_usd: f64,
    pub models: Vec<ModelCost>,
    pub phases: Vec<PhaseCost>,
    pub wasted_usd: f64,
    pub wasted_share: f64,
    /// Models that had usage but no price.
    pub unpriced: Vec<String>,
    pub prices_taken: String,
    /// Subagent sessions rolled into these figures (`--include-subagents`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subagents: Vec<SubagentCost>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubagentCost {
    pub session_id: String,
    pub estimated: bool,
    pub cost_usd: f64,
}

impl CostReport {
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
        let t = &mut self.tokens;
        t.input += child.tokens.input;
        t.output += child.tokens.output;
        t.cache_creation += child.tokens.cache_creation;
        t.cache_read += child.tokens.cache_read;
        for m in &child.models {
            match self.models.iter_mut().find(|mine| mine.model == m.model) {
                Some(mine) => {
                    mine.cost_usd =
                        (Money::from_usd(mine.cost_usd) + Money::from_usd(m.cost_usd)).usd();
                    mine.tokens.input += m.tokens.input;
                    mine.tokens.output += m.tokens.output;
                    mine.tokens.cache_creation += m.tokens.cache_creation;
                    mine.tokens.cache_read += m.tokens.cache_read;
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
        self.subagents.push(SubagentCost {
            session_id: child.session_id.clone(),
            estimated: child.estimated,
            cost_usd: child.cost_usd,
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
    let fallback = if estimated && forced.is_none() {
        Some(
            table
                .find(DEFAULT_MODEL)
                .cloned()
                .ok_or_else(|| CostError::UnknownModel(DEFAULT_MODEL.to_owned()))?,
        )
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
        .map_or_else(|| DEFAULT_MODEL.to_owned(), |p| p.id.clone());

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
        tokens: all,
        cost_usd: total.usd(),
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
                tokens: *t,
                cost_usd: c.usd(),
                share: total.share(*c),
            })
            .collect(),
        wasted_usd: wasted.usd(),
        wasted_share: total.share(wasted),
        unpriced,
        prices_taken: table.taken.clone(),
        subagents: Vec::new(),
    })
}
