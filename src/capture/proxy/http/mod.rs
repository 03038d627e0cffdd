//! The HTTP proxy: it listens on loopback and forwards every request to a remote MCP server,
//! over Streamable HTTP (one endpoint: POST answered with JSON or an SSE stream, a GET stream,
//! DELETE) and over the older HTTP+SSE transport (GET /sse, then POSTed messages).
//!
//! What passes is not changed: bodies go through as they come, headers too (Authorization and
//! `Mcp-Session-Id` included) but for the hop-by-hop ones and `Accept-Encoding`, which is
//! dropped so that the server answers in plain text the recorder can read. The one change is
//! the older transport's `endpoint` event, rewritten when it names the server's own address so
//! that the client posts to the proxy. Headers are never recorded.
//!
//! # Architecture
//! - [`upstream`]: the server the user named, and the client that reaches it (TLS or not).
//! - [`exchange`]: one request forwarded and its answer relayed, read for the record as it
//!   passes.
//! - [`admission`]: the connections held at once, at most [`MAX_CONNECTIONS`]; more are
//!   answered 503.
//! - here: the listener, the signals that stop it, and the recorder thread it feeds.

mod admission;
mod exchange;
mod upstream;

use crate::capture::stop::{self, Stop};
use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::signal::unix::SignalKind;

use super::enforce::Enforcer;
use super::mcp::McpRecorder;
use super::queue;
use super::recording::{self, Note};
use admission::Admission;
pub use admission::MAX_CONNECTIONS;
use exchange::Proxy;
use hyper_util::rt::TokioIo;
use serde_json::Map;
use tokio::net::TcpListener;
use upstream::UpstreamClient;
pub use upstream::{PORT_RULE, Upstream, has_unusable_port};

/// How many notes, and how many bytes of them, may wait for the recorder: past either the
/// proxy records nothing until the recorder has caught up, and says how many messages it lacks
/// ([`queue::Sender::offer`]). Bounded by count alone, the queue held 4,096 messages of up to
/// 1 MiB each (or their cut copies, up to 2 MiB) when the recorder fell behind a flood of large
/// ones: gigabytes.
const RECORD_QUEUE_NOTES: usize = 4096;
const RECORD_QUEUE_BYTES: usize = 16 * 1024 * 1024;

/// How long a request's head (its line and headers) may take to arrive, and an open connection
/// may wait for its next request; and how long its body may take. Any local user can reach the
/// proxy's port: without a limit, connections that sent a few bytes and then nothing
/// (slowloris) were held for ever, and a few hundred of them used up the proxy's file
/// descriptors, so the agent's own requests were no longer taken.
pub const REQUEST_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// How long, once a signal to stop came, the requests under way are given to finish and be
/// answered (their answers recorded) before they are cut off. The streams a client holds open
/// for the server's own messages (a GET) end at once.
pub const DRAIN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
/// The most a connection buffers of what its client sent, and so the largest request head
/// taken (a larger one is answered 431): hyper's default, about 400 KiB, let a few hundred
/// connections that each sent most of a head grow the proxy by a hundred MiB. An MCP request's
/// head is a few KiB.
const CONNECTION_BUFFER: usize = 64 * 1024;

/// A proxy ready to serve: bound, so its address is known before it runs, and already
/// listening for the signals that stop it.
pub struct HttpProxy {
    runtime: tokio::runtime::Runtime,
    listener: TcpListener,
    stop: Stop,
    upstream: Upstream,
    recorder: Option<McpRecorder>,
    enforcer: Option<Enforcer>,
    clock: fn() -> f64,
    wait: std::time::Duration,
    /// The most connections held at once.
    connections: usize,
    /// Where the proxy says what the user should know (a request cut off at the end).
    report: fn(&str),
}

impl HttpProxy {
    /// Binds `listen` (port 0 picks a free one).
    pub fn bind(
        listen: SocketAddr,
        upstream: Upstream,
        clock: fn() -> f64,
    ) -> io::Result<HttpProxy> {
        let (runtime, listener, stop) = stop::listen_until(
            listen,
            &[
                SignalKind::terminate(),
                SignalKind::interrupt(),
                SignalKind::hangup(),
            ],
        )?;
        Ok(HttpProxy {
            runtime,
            listener,
            stop,
            upstream,
            recorder: None,
            enforcer: None,
            clock,
            wait: REQUEST_WAIT,
            connections: MAX_CONNECTIONS,
            report: |_| {},
        })
    }

    /// How long a request may take to arrive ([`REQUEST_WAIT`] but in tests).
    pub fn wait_for_requests(&mut self, wait: std::time::Duration) {
        self.wait = wait;
    }

    /// Holds at most `most` connections at once ([`MAX_CONNECTIONS`] but in tests).
    pub fn hold_at_most(&mut self, most: usize) {
        self.connections = most;
    }

    /// Says what the user should know (a request cut off at the end) through `report`.
    pub fn report_to(&mut self, report: fn(&str)) {
        self.report = report;
    }

    /// Records what passes with `recorder`.
    pub fn record_with(&mut self, recorder: McpRecorder) {
        self.recorder = Some(recorder);
    }

    /// Enforces a policy: a `tools/call` it denies is answered here, never forwarded.
    pub fn enforce_with(&mut self, enforcer: Enforcer) {
        self.enforcer = Some(enforcer);
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until SIGINT, SIGTERM or SIGHUP; then stops taking connections, lets the requests
    /// under way finish (for at most [`DRAIN_WAIT`]), ends the streams still open and records
    /// the end of the session.
    ///
    /// `beside` starts work that runs beside the proxy (its sending of what its store keeps
    /// for the collector): it is called once the recorder has its thread, so that under a
    /// process limit such work never takes the thread the recording needs.
    pub fn serve(self, beside: impl FnOnce()) -> io::Result<()> {
        let client = UpstreamClient::new(self.upstream.is_tls())?;
        let (tx, rx) = queue::bounded_to(RECORD_QUEUE_BYTES, RECORD_QUEUE_NOTES);
        let clock = self.clock;
        // A thread refused to the recorder leaves the proxy serving, unrecorded.
        let writer = self.recorder.and_then(|recorder| {
            match crate::threads::Reserved::new("proxy-recorder") {
                Ok(thread) => Some(thread.run(move || recording::run(recorder, rx))),
                Err(refused) => {
                    let why = format!(
                        "cannot start a thread for the recorder ({refused}): serving unrecorded"
                    );
                    recorder.report(&why);
                    recording::end_with_error(recorder, &why, clock());
                    None
                }
            }
        });
        let recording = writer.is_some();
        beside();
        let (stopping_tx, stopping) = tokio::sync::watch::channel(false);
        let proxy = Arc::new(Proxy {
            stopping,
            underway: Arc::default(),
            upstream: self.upstream,
            client,
            record: recording.then(|| tx.clone()),
            channels: Mutex::new(HashMap::new()),
            channels_seen: std::sync::atomic::AtomicU32::new(0),
            streams: Mutex::new(HashMap::new()),
            awaiting: Mutex::default(),
            posting: Mutex::default(),
            unread_seen: std::sync::atomic::AtomicU64::new(0),
            settled: tokio::sync::watch::Sender::new(()),
            enforcer: self.enforcer,
            clock,
            wait: self.wait,
            report: self.report,
        });
        let (listener, mut stop) = (self.listener, self.stop);
        let admission = Admission::new(self.connections);
        self.runtime.block_on(async move {
            tokio::select! {
                () = accept(listener, proxy.clone(), admission) => {}
                () = stop.wait() => {}
            }
            // The listener is dropped with the accept loop: new connections are refused. Idle
            // connections close; a request under way is answered, then its connection closes.
            let _ = stopping_tx.send(true);
            let underway = proxy.underway.clone();
            let waited = tokio::select! {
                done = tokio::time::timeout(DRAIN_WAIT, underway.all_done()) => done.map_err(|_| {
                    format!("after {} s", DRAIN_WAIT.as_secs())
                }),
                // A second signal does not wait.
                () = stop.wait() => Err("at a second signal".to_owned()),
            };
            if let Err(when) = waited {
                let what = format!("stopping: requests still under way {when} were cut off");
                (proxy.report)(&what);
                let mut data = Map::new();
                data.insert("error".into(), what.into());
                proxy.record_problem(data);
            }
        });
        // What is still running ends with the runtime; what it handed the recorder is queued
        // already (a handing-on never waits), and what the queue did not take is said before
        // the end.
        self.runtime.shutdown_background();
        if recording {
            tx.send(Note::End {
                exit_code: None,
                at: clock(),
            });
        }
        drop(tx);
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        Ok(())
    }
}

async fn accept(listener: TcpListener, proxy: Arc<Proxy>, admission: Admission) {
    let mut burst = crate::capture::burst::Burst::default();
    let mut turned_away = crate::capture::burst::Burst::default();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => {
                // Failures that went unsaid are counted in the session; a recovery alone is
                // no problem to record.
                if let Some(unsaid) = burst.ended().filter(|n| *n > 0) {
                    let mut data = Map::new();
                    data.insert(
                        "error".into(),
                        crate::capture::burst::accepting_again(unsaid).into(),
                    );
                    proxy.record_problem(data);
                }
                stream
            }
            Err(e) => {
                // Out of file descriptors, say: note it once (then once a minute, counted),
                // wait a little, go on.
                let what = format!("cannot accept a connection: {e}");
                let line = burst.failed(&what, std::time::Instant::now());
                tokio::time::sleep(crate::capture::burst::ACCEPT_BACKOFF).await;
                if let Some(line) = line {
                    let mut data = Map::new();
                    data.insert("error".into(), line.into());
                    proxy.record_problem(data);
                }
                continue;
            }
        };
        let Some(room) = admission.admit() else {
            admission.turn_away(stream);
            // Said once a minute at most, with the count: never once a connection.
            let what = admission.turning_away_said();
            if let Some(line) = turned_away.failed(&what, std::time::Instant::now()) {
                (proxy.report)(&line);
                let mut data = Map::new();
                data.insert("error".into(), line.into());
                proxy.record_problem(data);
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let proxy = proxy.clone();
        let wait = proxy.wait;
        // A client that takes nothing of its answer is let go after the same wait.
        let (stream, stalled) = crate::capture::collector::stall::Stalling::new(stream, wait);
        let mut stopping = proxy.stopping.clone();
        let underway = proxy.underway.begin();
        let reporting = proxy.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let proxy = proxy.clone();
                async move { Ok::<_, Infallible>(proxy.handle(request).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(wait)
                .max_buf_size(CONNECTION_BUFFER)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let stopped = tokio::select! {
                _ = connection.as_mut() => false,
                () = stopped(&mut stopping) => true,
            };
            if stopped {
                // A request under way finishes and is answered; an idle connection closes.
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
            if stalled.load(std::sync::atomic::Ordering::Relaxed) {
                // What the server answered was recorded as it came; the client never took it.
                let what = format!(
                    "closed a connection whose client took nothing of its answer for {} s",
                    wait.as_secs_f64()
                );
                (reporting.report)(&what);
                let mut data = Map::new();
                data.insert("error".into(), what.into());
                reporting.record_problem(data);
            }
            drop(underway);
            drop(room);
        });
    }
}

/// Returns once the proxy is stopping.
pub(super) async fn stopped(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    // The guard it gives is let go at once: it must not be held across an await.
    let _ = stopping.wait_for(|stopping| *stopping).await.is_ok();
}

/// The connections open and the answers being relayed: each holds an [`Underway`], and the end
/// waits for the last to go.
#[derive(Default)]
pub(super) struct Exchanges {
    count: std::sync::atomic::AtomicUsize,
    idle: tokio::sync::Notify,
}

/// One connection or relayed answer under way; dropped when it is over.
pub(super) struct Underway(Arc<Exchanges>);

impl Exchanges {
    pub(super) fn begin(self: &Arc<Self>) -> Underway {
        self.count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Underway(self.clone())
    }

    /// Returns once nothing is under way.
    async fn all_done(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            // Registered before the count is read, so a last one that ends in between is seen.
            idle.as_mut().enable();
            if self.count.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}

impl Drop for Underway {
    fn drop(&mut self) {
        if self
            .0
            .count
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst)
            == 1
        {
            self.0.idle.notify_waiters();
        }
    }
}
