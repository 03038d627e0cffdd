//! The signals that stop a long-running server gracefully (the HTTP proxy, the collector):
//! one watcher of a set of signals, so each server names its set and nothing more.

use std::io;
use std::task::Poll;

use tokio::signal::unix::{Signal, SignalKind, signal};

/// Waits for the first of a set of signals. Registered when made, so a signal that arrives
/// before [`Stop::wait`] is polled is not lost; needs a Tokio runtime with signals enabled.
pub(crate) struct Stop {
    signals: Vec<Signal>,
}

impl Stop {
    /// Watches `kinds` (SIGTERM and SIGINT for the collector; SIGHUP too for the proxy).
    pub(crate) fn on(kinds: &[SignalKind]) -> io::Result<Stop> {
        let signals = kinds
            .iter()
            .map(|kind| signal(*kind))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Stop { signals })
    }

    /// Returns when one of the signals has arrived.
    pub(crate) async fn wait(&mut self) {
        std::future::poll_fn(|cx| {
            // Every signal is polled, so each registers this task's waker.
            let mut arrived = false;
            for s in &mut self.signals {
                arrived |= s.poll_recv(cx).is_ready();
            }
            if arrived {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
    }
}
