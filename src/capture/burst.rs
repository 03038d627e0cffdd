//! Failures that come in bursts, such as a listener's accept while the process is out of file
//! descriptors: the first is said, the rest counted and said once a minute at most, and the
//! end of the burst says how many went unsaid, so that a log neither floods nor hides them.

use std::time::{Duration, Instant};

/// How often a burst that goes on is said again, with its count.
const AGAIN_EVERY: Duration = Duration::from_secs(60);

/// How long a listener waits after a failed accept before it tries again: the failures that
/// last (`EMFILE`, `ENFILE`) would otherwise spin a core.
pub(crate) const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The state of one kind of failure.
#[derive(Debug, Default)]
pub(crate) struct Burst {
    /// When the burst was last said, while it goes on.
    said: Option<Instant>,
    /// Failures since it was last said.
    unsaid: u64,
}

impl Burst {
    /// A failure, `what` saying it: the line to log, if any.
    pub(crate) fn failed(&mut self, what: &str, now: Instant) -> Option<String> {
        match self.said {
            None => {
                self.said = Some(now);
                Some(what.to_owned())
            }
            Some(at) if now.duration_since(at) >= AGAIN_EVERY => {
                let more = std::mem::take(&mut self.unsaid) + 1;
                self.said = Some(now);
                Some(format!("{what}; {more} more since the last said so"))
            }
            Some(_) => {
                self.unsaid += 1;
                None
            }
        }
    }

    /// A success: when a burst was under way, how many of its failures went unsaid.
    pub(crate) fn ended(&mut self) -> Option<u64> {
        self.said.take()?;
        Some(std::mem::take(&mut self.unsaid))
    }
}

/// The line that says a listener's burst of failed accepts has ended, `unsaid` of them not said.
pub(crate) fn accepting_again(unsaid: u64) -> String {
    if unsaid == 0 {
        "accepting connections again".to_owned()
    } else {
        format!("accepting connections again; {unsaid} more failed since the last said so")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_said_once_a_minute_and_counted_at_its_end() {
        let mut burst = Burst::default();
        let t0 = Instant::now();
        assert_eq!(burst.ended(), None);
        assert_eq!(burst.failed("no fds", t0).as_deref(), Some("no fds"));
        for i in 1..=500 {
            assert_eq!(burst.failed("no fds", t0 + Duration::from_millis(i)), None);
        }
        assert_eq!(
            burst.failed("no fds", t0 + AGAIN_EVERY).as_deref(),
            Some("no fds; 501 more since the last said so")
        );
        burst.failed("no fds", t0 + AGAIN_EVERY);
        assert_eq!(burst.ended(), Some(1));
        assert_eq!(burst.ended(), None);
        assert_eq!(burst.failed("no fds", t0).as_deref(), Some("no fds"));
        assert_eq!(burst.ended(), Some(0));
    }
}
