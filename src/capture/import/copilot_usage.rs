//! How a Copilot CLI session's usage is counted once between its usage records and its
//! shutdowns' totals per model, the records that name no model among them.
//!
//! A `session.shutdown`'s `modelMetrics` are the session's totals per model, which run on over
//! the processes that resumed it (observed: 1.0.102's shutdown after resuming a 1.0.34 session
//! holds the 1.0.34 totals unchanged beside its own, tests/fixtures/resumed). Of a model's
//! totals, what the shutdown before did not hold and the records since did not count is usage
//! of no recorded call: all of a 1.0.34 session's, none of one 1.0.102 recorded whole.
//!
//! A record that names no model is in the totals of one of the next shutdown's models: which
//! one only that shutdown tells, and its call's response is written before it is read. The
//! model the session had selected when it was written need not be it (the call may be another
//! model's, whose totals then count its tokens once more). So the file is read twice
//! ([`Accounts::plan`]): the first reading learns what each shutdown makes of such records
//! ([`Counted`]), the second writes their calls by it.

use std::collections::HashMap;

use super::agent_log::LoggedTokens;
use crate::model::Tokens;
use crate::model::usage::add_unless_unknown;

/// How the tokens of a usage record's call count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Counted {
    /// As the call's, of the model the record names; of a record of no model with no shutdown
    /// after it, the model its message or the session names (of none, when none does).
    AsItsCall,
    /// As `model`'s, though the record names none: the shutdown after it names that model
    /// alone, or that model's totals alone hold the records of no model.
    Of(String),
    /// Not as the call's: the shutdown after it holds them in the totals of one of its several
    /// models, which cannot be told, and those totals count them.
    InTotals,
}

/// What a session's usage records and shutdowns count.
#[derive(Default)]
pub struct Accounts {
    totals: Totals,
    /// What each shutdown of the file makes of the records of no model before it, in order, as
    /// a first reading learned it; none in that reading.
    planned: Vec<Counted>,
    /// What this reading's shutdowns made of them.
    made: Vec<Counted>,
}

impl Accounts {
    /// The accounts of a second reading, which counts records of no model by `plan`.
    pub fn planned(plan: Vec<Counted>) -> Accounts {
        Accounts {
            planned: plan,
            ..Accounts::default()
        }
    }

    /// What this reading's shutdowns made of the records of no model, for the next reading.
    pub fn plan(self) -> Vec<Counted> {
        self.made
    }

    /// A usage record of `tokens` that names `model`, or none: counted against the next
    /// shutdown's totals of the model its call is given, and how its call counts it. One of no
    /// model is the next shutdown's to tell, whatever model the session had selected.
    pub fn record(&mut self, model: Option<&str>, tokens: &LoggedTokens) -> Counted {
        if let Some(model) = model {
            self.totals.record(model, tokens);
            return Counted::AsItsCall;
        }
        let counted = self
            .planned
            .get(self.made.len())
            .cloned()
            .unwrap_or(Counted::AsItsCall);
        match &counted {
            Counted::AsItsCall => self.totals.record("", tokens),
            Counted::Of(model) => self.totals.record(model, tokens),
            Counted::InTotals => {}
        }
        counted
    }

    /// A shutdown's `totals` per model: of each, what no record and no shutdown before counted
    /// (`None` when that is nothing). The records after it are counted against the next.
    pub fn shutdown(&mut self, totals: &[(&str, LoggedTokens)]) -> Vec<Option<LoggedTokens>> {
        let unnamed = self.totals.of_no_model(totals);
        self.made.push(unnamed);
        let unrecorded = totals
            .iter()
            .map(|(model, totals)| self.totals.unrecorded(model, totals.clone()))
            .collect();
        self.totals.recorded.clear();
        unrecorded
    }
}

/// Per model, what a shutdown held and what the records since it counted.
#[derive(Default)]
struct Totals {
    /// Per model, the totals the last shutdown held.
    held: HashMap<String, Tokens>,
    /// Per model, what the usage records since that shutdown counted; `""` those of no model.
    recorded: HashMap<String, LoggedTokens>,
}

impl Totals {
    /// A usage record of `model`'s, counted as its call's.
    fn record(&mut self, model: &str, counted: &LoggedTokens) {
        let sum = add_unless_unknown(self.recorded.remove(model), counted);
        self.recorded.insert(model.to_owned(), sum);
    }

    /// Whose the records of no model since the last shutdown are, by a shutdown's `totals`: its
    /// one model's when it names one; else the one model whose uncounted usage is theirs
    /// exactly, or the one with uncounted usage when that holds them. They are counted as that
    /// model's records; of no model that can be told, they are left to the totals.
    fn of_no_model(&mut self, totals: &[(&str, LoggedTokens)]) -> Counted {
        let Some(unnamed) = self.recorded.remove("") else {
            return Counted::AsItsCall;
        };
        let owner = match totals {
            [(model, _)] => Some(*model),
            _ => self.holder(&unnamed, totals),
        };
        match owner {
            Some(model) => {
                self.record(model, &unnamed);
                Counted::Of(model.to_owned())
            }
            None => Counted::InTotals,
        }
    }

    /// The one model of `totals` that holds `unnamed` uncounted, as [`Totals::of_no_model`]
    /// tells it.
    fn holder<'a>(
        &self,
        unnamed: &LoggedTokens,
        totals: &[(&'a str, LoggedTokens)],
    ) -> Option<&'a str> {
        let Ok(unnamed) = unnamed else { return None };
        let uncounted: Vec<(&str, Tokens)> = totals
            .iter()
            .filter_map(|(model, totals)| Some((*model, self.uncounted(model, totals)?)))
            .collect();
        let exactly: Vec<&str> = (uncounted.iter())
            .filter(|(_, tokens)| tokens == unnamed)
            .map(|(model, _)| *model)
            .collect();
        match (&exactly[..], &uncounted[..]) {
            ([model], _) => Some(*model),
            (_, [(model, tokens)]) if holds(tokens, unnamed) => Some(*model),
            _ => None,
        }
    }

    /// What a shutdown's totals of `model` hold that the shutdown before did not and no record
    /// since counted; `None` when that is nothing or cannot be told.
    fn uncounted(&self, model: &str, totals: &LoggedTokens) -> Option<Tokens> {
        let Ok(totals) = totals else { return None };
        let mut new = *totals;
        if let Some(before) = self.held.get(model)
            && totals.total() >= before.total()
        {
            // Totals that went down began again: all they hold is new.
            new.subtract(before);
        }
        match self.recorded.get(model) {
            // The records' sum cannot be taken out: the rest is taken to be theirs.
            Some(Err(_)) => return None,
            Some(Ok(recorded)) => new.subtract(recorded),
            None => {}
        }
        (!new.is_zero()).then_some(new)
    }

    /// What a shutdown's totals of `model` hold that nothing counted yet, as
    /// [`Totals::uncounted`] tells it; they are the totals the next shutdown's are counted from.
    fn unrecorded(&mut self, model: &str, totals: LoggedTokens) -> Option<LoggedTokens> {
        let Ok(held) = totals else {
            // Totals that hold no count are unknown usage, unless records counted the model's.
            return (!self.recorded.contains_key(model)).then_some(totals);
        };
        let new = self.uncounted(model, &totals);
        self.held.insert(model.to_owned(), held);
        new.map(Ok)
    }
}

/// Whether `tokens` hold `part`: each count of it is at most theirs.
fn holds(tokens: &Tokens, part: &Tokens) -> bool {
    let mut rest = *tokens;
    rest.subtract(part);
    rest.add(part);
    rest == *tokens
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

    /// A 1.0.34 session resumed by 1.0.102: the first shutdown's totals are counted, the
    /// records after it are, and the next shutdown, which holds the first one's totals
    /// unchanged beside the records', counts nothing twice; totals that grew past them hold
    /// calls no record counted, and totals that went down began again.
    #[test]
    fn a_shutdowns_totals_count_what_nothing_counted_before() {
        let mut accounts = Accounts::default();
        assert_eq!(
            accounts.shutdown(&[("claude", Ok(t(100, 10)))]),
            [Some(Ok(t(100, 10)))]
        );
        accounts.record(Some("gpt"), &Ok(t(5, 1)));
        accounts.record(Some("gpt"), &Ok(t(7, 2)));
        assert_eq!(
            accounts.shutdown(&[("claude", Ok(t(100, 10))), ("gpt", Ok(t(12, 3)))]),
            [None, None]
        );
        assert_eq!(
            accounts.shutdown(&[("claude", Ok(t(130, 14))), ("gpt", Ok(t(2, 1)))]),
            [Some(Ok(t(30, 4))), Some(Ok(t(2, 1)))]
        );
    }

    /// Records of no known model are a shutdown's one model's with that model's own records;
    /// totals past them are counted, and the next reading gives them that model.
    #[test]
    fn records_of_no_model_are_a_lone_models() {
        let mut accounts = Accounts::default();
        assert_eq!(accounts.record(None, &Ok(t(100, 10))), Counted::AsItsCall);
        accounts.record(Some("gpt"), &Ok(t(20, 2)));
        assert_eq!(
            accounts.shutdown(&[("gpt", Ok(t(150, 15)))]),
            [Some(Ok(t(30, 3)))]
        );
        let plan = accounts.plan();
        assert_eq!(plan, [Counted::Of("gpt".into())]);
        let mut again = Accounts::planned(plan);
        assert_eq!(
            again.record(None, &Ok(t(100, 10))),
            Counted::Of("gpt".into())
        );
        again.record(Some("gpt"), &Ok(t(20, 2)));
        assert_eq!(
            again.shutdown(&[("gpt", Ok(t(150, 15)))]),
            [Some(Ok(t(30, 3)))]
        );
    }

    /// Of a shutdown's several models, records of no model are the one whose uncounted usage is
    /// theirs exactly, or the one model with uncounted usage when it holds them; else they are
    /// left to the totals, each model's counted whole.
    #[test]
    fn records_of_no_model_are_the_model_whose_totals_hold_them() {
        let plan_of = |records: &[(Option<&str>, Tokens)], totals: &[(&str, LoggedTokens)]| {
            let mut accounts = Accounts::default();
            for (model, tokens) in records {
                accounts.record(*model, &Ok(*tokens));
            }
            let counted = accounts.shutdown(totals);
            (accounts.plan(), counted)
        };
        let unnamed = (None, t(100, 10));
        // gpt's records fall short of its totals by the record of no model exactly.
        let (plan, counted) = plan_of(
            &[unnamed, (Some("gpt"), t(50, 5)), (Some("claude"), t(10, 1))],
            &[("claude", Ok(t(30, 3))), ("gpt", Ok(t(150, 15)))],
        );
        assert_eq!(plan, [Counted::Of("gpt".into())]);
        assert_eq!(counted, [Some(Ok(t(20, 2))), None]);
        // claude's records count its totals: gpt's alone hold more than its records.
        let (plan, counted) = plan_of(
            &[unnamed, (Some("claude"), t(30, 3))],
            &[("claude", Ok(t(30, 3))), ("gpt", Ok(t(160, 16)))],
        );
        assert_eq!(plan, [Counted::Of("gpt".into())]);
        assert_eq!(counted, [None, Some(Ok(t(60, 6)))]);
        // Either model's totals may hold the record: each model's totals are counted whole.
        let (plan, counted) = plan_of(
            &[unnamed],
            &[("claude", Ok(t(300, 30))), ("gpt", Ok(t(200, 20)))],
        );
        assert_eq!(plan, [Counted::InTotals]);
        assert_eq!(counted, [Some(Ok(t(300, 30))), Some(Ok(t(200, 20)))]);
        let mut again = Accounts::planned(plan);
        assert_eq!(again.record(None, &Ok(t(100, 10))), Counted::InTotals);
    }
}
