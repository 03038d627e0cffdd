//! `server --forward-otlp URL`: everything the collector accepts passed on as OTLP/HTTP to
//! another backend (an OpenTelemetry Collector, Tempo, Phoenix …): the OTLP it received as it
//! came, and the sessions its events wrote as traces through the export layer's mapping
//! (`export --format otlp`, so both give the same trace and span ids).
//!
//! Never in the way of accepting: the collector hands each accepted thing to a bounded queue
//! without waiting; a thread batches what gathered (received requests of one signal are
//! concatenated: protobuf messages concatenate into one with every resource), sends it
//! gzip-compressed with retries (429/502/503/504 and no answer, waits doubling), and logs what
//! was lost: a full queue, or a backend that refused or stayed away. A session is sent once
//! it has been quiet for a moment, and again whenever it changes (the same ids: a backend sees
//! the same spans again, not new ones).

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::mpsc::{self, RecvTimeoutError, TrySendError};
use std::sync::{Arc, atomic::AtomicU64, atomic::Ordering};
use std::time::{Duration, Instant};

use hyper::Uri;

use super::http::{HttpClient, Retry, check_url};
use crate::capture::collector::{Accepted, OnAccepted};
use crate::capture::otlp::Kind;
use crate::export::otlp_answer::{Signal, partial_success};
use crate::store::Store;

/// What the queue holds before new things are dropped (and counted as lost).
const QUEUE: usize = 10_000;
/// How long a session must be quiet before it is sent.
const QUIET: Duration = Duration::from_secs(1);
/// How often the thread looks at what gathered.
const TICK: Duration = Duration::from_millis(250);
/// The largest batch of received requests sent as one.
const BATCH_BYTES: usize = 4 * 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);
const RETRY: Retry = Retry {
    attempts: 5,
    first_delay: Duration::from_millis(500),
    max_delay: Duration::from_secs(8),
};

/// How long the forwarder may go on sending once the collector has stopped: a backend that
/// does not answer (a black hole) held the collector's exit for 30 s.
pub(crate) const FINISH: Duration = Duration::from_secs(3);

/// A running forwarder: what to give the collector, and the thread to wait for at the end.
pub(crate) struct Forwarder {
    thread: std::thread::JoinHandle<()>,
    shared: Arc<Shared>,
}

/// What the collector's side and the forwarder's thread both see.
#[derive(Default)]
struct Shared {
    /// When sending gives up: set as the collector stops.
    stop_by: std::sync::OnceLock<Instant>,
    /// Accepted requests and sessions dropped from a full queue.
    dropped: AtomicU64,
    /// Accepted requests and sessions in the queue, not yet taken by the thread.
    queued: AtomicU64,
}

/// The base URL's signal URL: `<base>/v1/traces` …, the base's query kept.
fn signal_url(base: &str, kind: Kind) -> Result<Uri, String> {
    super::http::url_under("--forward-otlp", base, kind.path())
}

/// Checks `base` and starts the forwarder's thread; `log` says what was lost.
pub(crate) fn start(
    base: &str,
    store: Store,
    log: fn(&str),
) -> Result<(Forwarder, OnAccepted), String> {
    let uri = check_url("--forward-otlp", base)?;
    let client = HttpClient::for_url(&uri)?;
    let urls = [Kind::Traces, Kind::Logs, Kind::Metrics]
        .into_iter()
        .map(|k| signal_url(base, k).map(|u| (k, u)))
        .collect::<Result<Vec<_>, _>>()?;
    let (tx, rx) = mpsc::sync_channel::<Accepted>(QUEUE);
    let shared = Arc::new(Shared::default());
    let shared_in = shared.clone();
    let on_accepted: OnAccepted = Box::new(move |what| match tx.try_send(what) {
        Ok(()) => {
            shared_in.queued.fetch_add(1, Ordering::Relaxed);
        }
        Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
            let n = shared_in.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n == 1 || n.is_multiple_of(1000) {
                log(&format!(
                    "forwarding: the queue is full; {} will not be forwarded",
                    crate::render::terminal::count(n, "accepted request")
                ));
            }
        }
    });
    let worker = Worker {
        client,
        urls,
        store,
        log,
        pending: HashMap::new(),
        warned: HashSet::new(),
        raw: Vec::new(),
        sent: 0,
        lost: 0,
        shared: shared.clone(),
    };
    let thread = std::thread::Builder::new()
        .name("forward-otlp".into())
        .spawn(move || worker.run(&rx))
        .map_err(|e| format!("cannot start the forwarder: {e}"))?;
    Ok((Forwarder { thread, shared }, on_accepted))
}

impl Forwarder {
    /// Lets the thread send what is left, once the collector has stopped and dropped its end
    /// of the queue, for `grace` at most: sending gives up then, even mid-request, and the
    /// thread logs what was not forwarded. Should it not be done a moment later (a session
    /// slow to read), what it had not sent is logged here.
    pub(crate) fn finish(self, grace: Duration, log: fn(&str)) {
        let stop_by = Instant::now() + grace;
        let _ = self.shared.stop_by.set(stop_by);
        let deadline = stop_by + Duration::from_secs(1);
        while !self.thread.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if self.thread.is_finished() {
            let _ = self.thread.join();
            return;
        }
        let queued = self.shared.queued.load(Ordering::Relaxed);
        log(&format!(
            "forwarding: not done {} s after the collector stopped; not forwarded: what it was \
             sending and {} still queued",
            grace.as_secs(),
            crate::render::terminal::count_as(
                queued,
                "accepted request or session",
                "accepted requests or sessions"
            )
        ));
    }
}

struct Worker {
    client: HttpClient,
    urls: Vec<(Kind, Uri)>,
    store: Store,
    log: fn(&str),
    /// Sessions with new events, and when they last changed.
    pending: HashMap<String, Instant>,
    /// Sessions whose times no session can have, already named in the log: a session is sent
    /// again at each change, and the log said so again each time.
    warned: HashSet<String>,
    /// Received requests not sent yet, as protobuf.
    raw: Vec<(Kind, Vec<u8>)>,
    sent: u64,
    lost: u64,
    shared: Arc<Shared>,
}

impl Worker {
    fn run(mut self, rx: &mpsc::Receiver<Accepted>) {
        loop {
            match rx.recv_timeout(TICK) {
                Ok(first) => {
                    self.take(first);
                    while let Ok(more) = rx.try_recv() {
                        self.take(more);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.send(false);
        }
        self.send(true);
        let dropped = self.shared.dropped.load(Ordering::Relaxed);
        if self.lost > 0 || dropped > 0 {
            (self.log)(&format!(
                "forwarding: {} sent, {} lost to the backend, {dropped} dropped from a full queue",
                crate::render::terminal::count_as(self.sent, "batch", "batches"),
                self.lost
            ));
        }
    }

    /// Whether the collector stopped and the time to send what was left has passed.
    fn given_up(&self) -> bool {
        self.shared
            .stop_by
            .get()
            .is_some_and(|by| Instant::now() >= *by)
    }

    fn take(&mut self, what: Accepted) {
        self.shared.queued.fetch_sub(1, Ordering::Relaxed);
        let now = Instant::now();
        match what {
            Accepted::Session(id) => {
                self.pending.insert(id, now);
            }
            Accepted::Otlp {
                kind,
                protobuf,
                sessions,
            } => {
                self.raw.push((kind, protobuf));
                for id in sessions {
                    self.pending.insert(id, now);
                }
            }
        }
    }

    /// Sends what gathered: every received request now, sessions once quiet (all of them at
    /// the end).
    fn send(&mut self, all: bool) {
        for kind in [Kind::Traces, Kind::Logs, Kind::Metrics] {
            let mut batch = Vec::new();
            let raw = std::mem::take(&mut self.raw);
            for (k, bytes) in raw {
                if k != kind {
                    self.raw.push((k, bytes));
                    continue;
                }
                if !batch.is_empty() && batch.len() + bytes.len() > BATCH_BYTES {
                    self.post(kind, &std::mem::take(&mut batch));
                }
                // Protobuf messages concatenate: their repeated fields append.
                batch.extend_from_slice(&bytes);
            }
            if !batch.is_empty() {
                self.post(kind, &batch);
            }
        }
        let quiet: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, at)| all || at.elapsed() >= QUIET)
            .map(|(id, _)| id.clone())
            .collect();
        if quiet.is_empty() {
            return;
        }
        if self.given_up() {
            // Each would be read whole to be refused at once.
            for id in &quiet {
                self.pending.remove(id);
            }
            (self.log)(&format!(
                "forwarding: {} not forwarded: the collector stopped and the backend did not \
                 take what came before in time",
                crate::render::terminal::count(quiet.len() as u64, "changed session")
            ));
            return;
        }
        let mut batch = Vec::new();
        for id in quiet {
            self.pending.remove(&id);
            match super::export::load(&self.store, &id) {
                Ok(mut session) => {
                    super::export::with_logged_usage(&self.store, &mut session);
                    for (id, doubts) in crate::export::otlp::untimed(&session) {
                        if let Some(warning) = doubts.warning(id, crate::export::otlp::UNTIMED)
                            && self.warned.insert(id.to_owned())
                        {
                            (self.log)(&format!("forwarding: {warning}"));
                        }
                    }
                    let options = crate::export::otlp::Options {
                        mode: crate::export::otlp::Mode::GenAi,
                        service_name: "agent-strace".to_owned(),
                        content: false,
                    };
                    let request = crate::export::otlp::request(&session, &options);
                    batch.extend(crate::export::otlp::to_protobuf(&request));
                }
                Err(e) => (self.log)(&format!("forwarding: cannot read session {id:?}: {e}")),
            }
            if batch.len() > BATCH_BYTES {
                self.post(Kind::Traces, &std::mem::take(&mut batch));
            }
        }
        if !batch.is_empty() {
            self.post(Kind::Traces, &batch);
        }
    }

    fn post(&mut self, kind: Kind, body: &[u8]) {
        let Some((_, url)) = self.urls.iter().find(|(k, _)| *k == kind) else {
            return;
        };
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zipped = gzip.write_all(body).and_then(|()| gzip.finish());
        let Ok(zipped) = zipped else { return };
        let headers = [
            ("content-type", "application/x-protobuf"),
            ("content-encoding", "gzip"),
        ];
        let stop_by = || self.shared.stop_by.get().copied();
        let tell = |line: &str| (self.log)(&format!("forwarding: {line}"));
        match self.client.post_retrying_until(
            url,
            &headers,
            &zipped,
            (TIMEOUT, RETRY),
            &tell,
            &stop_by,
        ) {
            // A backend that took the batch in part says so in its 2xx (OTLP's partial
            // success): what it rejected is lost, and the log says so.
            Ok(answer) if (200..300).contains(&answer.status) => {
                self.sent += 1;
                let signal = match kind {
                    Kind::Traces => Signal::Traces,
                    Kind::Logs => Signal::Logs,
                    Kind::Metrics => Signal::Metrics,
                };
                if let Some(partial) = partial_success(&answer.body, signal, false) {
                    let url = super::http::shown_url(&url.to_string());
                    let said = super::export::first_line(&partial.message);
                    let rejected = u64::try_from(partial.rejected).unwrap_or(0);
                    (self.log)(&if rejected > 0 {
                        format!(
                            "forwarding: {url} rejected {} of {}: {said}",
                            crate::model::text::count(rejected, signal.item()),
                            kind.path()
                        )
                    } else {
                        format!("forwarding: {url} took {} and said: {said}", kind.path())
                    });
                }
            }
            Ok(answer) => {
                self.lost += 1;
                let url = super::http::shown_url(&url.to_string());
                (self.log)(&format!(
                    "forwarding: {url} refused {} bytes of {}: HTTP {}",
                    body.len(),
                    kind.path(),
                    answer.status
                ));
            }
            Err(why) => {
                self.lost += 1;
                let url = super::http::shown_url(&url.to_string());
                (self.log)(&format!(
                    "forwarding: {} bytes of {} lost, {url} did not answer: {why}",
                    body.len(),
                    kind.path()
                ));
            }
        }
    }
}
