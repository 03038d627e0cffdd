//! Sessions placed in a period by their start, the one rule every command with a `--since`
//! shares: a period with no end given ends now.

use super::meta::SessionMeta;

/// The starts of the sessions a command places in a period (`--since`, `--until`, a window, a
/// tool's `since`). A period with no end given ends now, so a session starting later than the
/// reader's clock allows ([`SessionMeta::starts_ahead_of`]: a clock that was ahead, a log
/// imported from a machine ahead) is after it and in none of it: counted for the one warning
/// the command gives ([`PeriodStarts::warning`]). A session dated next year was in "the last 7
/// days" of `lint`, `sample`, `drift`, `optimize`, the exports and the MCP tools.
#[derive(Debug, Clone, Copy)]
pub struct PeriodStarts {
    /// The reader's clock, when the period ends now; `None` when an `--until` ends it (one
    /// after a session's start counts it, whenever that is).
    now: Option<f64>,
    /// The sessions left out for starting after now.
    ahead: u64,
}

impl PeriodStarts {
    /// A period ending at `until`, or now (`now`, the reader's clock) when none was given.
    pub fn ending(until: Option<f64>, now: f64) -> PeriodStarts {
        PeriodStarts {
            now: until.is_none().then_some(now),
            ahead: 0,
        }
    }

    /// A period that ends now: one with no `--until` to give.
    pub fn ending_now(now: f64) -> PeriodStarts {
        PeriodStarts::ending(None, now)
    }

    /// The start to place session `meta` by: `Ok(None)` for one after a period that ends now
    /// (counted), and the warning that it is left out for a start no session can have, which
    /// is in no period ([`SessionMeta::start_in_periods`]).
    pub fn start(&mut self, meta: &SessionMeta) -> Result<Option<f64>, String> {
        let start = meta.start_in_periods()?;
        if self.now.is_some_and(|now| meta.starts_ahead_of(now)) {
            self.ahead += 1;
            return Ok(None);
        }
        Ok(Some(start))
    }

    /// The one warning for the sessions left out for starting after now; `None` for none.
    pub fn warning(&self) -> Option<String> {
        (self.ahead > 0).then(|| {
            format!(
                "{} later than this machine's clock, after the period's end (now): left out; an \
                 --until after their start counts them",
                super::text::count_as(self.ahead, "session starts", "sessions start")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::CLOCK_SKEW_SECS;

    const NOW: f64 = 1_780_000_000.0;

    fn starting(at: f64) -> SessionMeta {
        SessionMeta {
            session_id: "s".into(),
            started_at: at,
            ..SessionMeta::default()
        }
    }

    #[test]
    fn a_period_that_ends_now_leaves_out_a_start_past_the_clock_and_counts_it() {
        let mut starts = PeriodStarts::ending_now(NOW);
        let within = NOW + CLOCK_SKEW_SECS;
        assert_eq!(starts.start(&starting(NOW - 60.0)), Ok(Some(NOW - 60.0)));
        assert_eq!(starts.start(&starting(within)), Ok(Some(within)));
        assert_eq!(starts.warning(), None);
        assert_eq!(starts.start(&starting(within + 1.0)), Ok(None));
        assert_eq!(starts.start(&starting(NOW + 86_400.0 * 200.0)), Ok(None));
        let warning = starts.warning().unwrap();
        assert!(warning.starts_with("2 sessions start later"), "{warning}");
    }

    #[test]
    fn an_until_counts_a_start_past_the_clock() {
        let mut starts = PeriodStarts::ending(Some(NOW + 86_400.0 * 400.0), NOW);
        let later = NOW + 86_400.0 * 200.0;
        assert_eq!(starts.start(&starting(later)), Ok(Some(later)));
        assert_eq!(starts.warning(), None);
    }

    #[test]
    fn a_start_no_session_can_have_is_in_no_period_and_not_counted_as_ahead() {
        let mut starts = PeriodStarts::ending_now(NOW);
        assert!(starts.start(&starting(5_000_000_000.0)).is_err());
        assert_eq!(starts.warning(), None);
    }
}
