//! What a long-running server (the HTTP proxy, the collector) stands on: its runtime and
//! listening socket, and one watcher of the signals that stop it gracefully, so each server
//! names its address and its set of signals and nothing more.

use std::io;
use std::net::SocketAddr;
use std::task::Poll;

use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// A single-threaded runtime, a socket listening on `listen` (port 0 picks a free one) and a
/// watcher of `kinds`, both registered with that runtime.
pub(crate) fn listen_until(
    listen: SocketAddr,
    kinds: &[SignalKind],
) -> io::Result<(Runtime, TcpListener, Stop)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (listener, stop) = {
        let _context = runtime.enter();
        let listener = std::net::TcpListener::bind(listen)?;
        listener.set_nonblocking(true)?;
        (TcpListener::from_std(listener)?, Stop::on(kinds)?)
    };
    Ok((runtime, listener, stop))
}

/// Waits for the first of a set of signals. Registered when made, so a signal that arrives
/// before [`Stop::wait`] is polled is not lost; needs a Tokio runtime with signals enabled.
pub(crate) struct Stop {
    signals: Vec<Signal>,
}

impl Stop {
    /// Watches `kinds` (SIGTERM and SIGINT for the collector; SIGHUP too for the proxy), but
    /// for those this process was started ignoring, which stay ignored as `record` leaves them:
    /// SIGHUP under `nohup`, SIGINT in a script's background job. Watched, a signal is caught
    /// instead, and closing its terminal stopped a proxy started by `nohup`.
    pub(crate) fn on(kinds: &[SignalKind]) -> io::Result<Stop> {
        let raw: Vec<i32> = kinds.iter().map(SignalKind::as_raw_value).collect();
        let signals = crate::capture::process::not_ignored(&raw)
            .into_iter()
            .map(|raw| signal(SignalKind::from_raw(raw)))
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
