//! `watch --stream-to URL`: events POSTed as NDJSON batches (`application/x-ndjson`, one event
//! a line, as `events.ndjson` holds it) from a thread of their own, so a slow or dead endpoint
//! never holds the watch up. A batch goes when it has `--stream-batch-size` events or
//! `--stream-flush-interval` has passed since its first; failures are said on stderr and the
//! batch is dropped (the events stay in the store). Nothing is sent unless a URL is given.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hyper::Uri;

use crate::cli::http::{HttpClient, check_url};
use crate::cli::output::warn;

/// How long one POST may take; and, once the watch stops, all the POSTs of what is left: a
/// dead endpoint held a stopped watch for ten seconds a batch, past any Ctrl-C.
const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// The most events waiting for the thread: past it (an endpoint far behind) an event is not
/// streamed, and counted, so that memory stays bounded however long the endpoint is away.
const QUEUE_MOST: usize = 10_000;

/// Where and how events are streamed.
#[derive(Debug, Clone)]
pub(super) struct StreamConfig {
    pub(super) url: Uri,
    pub(super) batch: usize,
    pub(super) interval: Duration,
}

impl StreamConfig {
    /// Checks the URL: http or https, with a host, no credentials in it.
    pub(super) fn new(url: &str, batch: usize, interval: Duration) -> Result<StreamConfig, String> {
        let uri = check_url("--stream-to", url)?;
        if batch == 0 {
            return Err("--stream-batch-size must be at least 1".to_owned());
        }
        Ok(StreamConfig {
            url: uri,
            batch,
            interval,
        })
    }
}

/// The streaming thread and the way to it.
pub(super) struct Streamer {
    tx: Option<SyncSender<String>>,
    thread: Option<JoinHandle<()>>,
    /// Events not queued: the queue was full.
    dropped: usize,
    /// Set when the watch stops: what is not sent by then is not.
    deadline: Arc<OnceLock<Instant>>,
    /// Events the thread did not send for want of time.
    unsent: Arc<AtomicUsize>,
}

impl Streamer {
    /// Starts the thread; when the OS refuses it, the watch goes on streaming nothing, and says
    /// so once.
    pub(super) fn start(config: StreamConfig) -> Streamer {
        let (tx, rx) = mpsc::sync_channel(QUEUE_MOST);
        let deadline = Arc::new(OnceLock::new());
        let unsent = Arc::new(AtomicUsize::new(0));
        let (until, left) = (Arc::clone(&deadline), Arc::clone(&unsent));
        match std::thread::Builder::new()
            .name("watch-stream".into())
            .spawn(move || run(&config, &rx, &until, &left))
        {
            Ok(thread) => Streamer {
                tx: Some(tx),
                thread: Some(thread),
                dropped: 0,
                deadline,
                unsent,
            },
            Err(e) => {
                warn(format_args!(
                    "cannot start the thread that streams events ({e}): streaming nothing; the events stay in the store"
                ));
                Streamer {
                    tx: None,
                    thread: None,
                    dropped: 0,
                    deadline,
                    unsent,
                }
            }
        }
    }

    /// Queues one event line (its JSON, without the newline); never waits.
    pub(super) fn send(&mut self, line: String) {
        if let Some(tx) = &self.tx
            && let Err(TrySendError::Full(_)) = tx.try_send(line)
        {
            self.dropped += 1;
        }
    }

    /// Sends what is queued and stops the thread.
    pub(super) fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.deadline.set(Instant::now() + POST_TIMEOUT);
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let missed = self.dropped + self.unsent.swap(0, Ordering::Relaxed);
        self.dropped = 0;
        if missed > 0 {
            warn(format_args!(
                "--stream-to: {} not streamed (the endpoint did not take them in time); they stay in the store",
                crate::render::terminal::count(missed as u64, "event")
            ));
        }
    }
}

impl Drop for Streamer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(
    config: &StreamConfig,
    rx: &Receiver<String>,
    until: &OnceLock<Instant>,
    unsent: &AtomicUsize,
) {
    let client = match HttpClient::for_url(&config.url) {
        Ok(client) => client,
        Err(e) => {
            warn(format_args!("--stream-to: {e}; no events are streamed"));
            return;
        }
    };
    let mut batch: Vec<String> = Vec::new();
    let mut first_at = Instant::now();
    loop {
        let wait = if batch.is_empty() {
            Duration::from_secs(3600)
        } else {
            config.interval.saturating_sub(first_at.elapsed())
        };
        match rx.recv_timeout(wait) {
            Ok(line) => {
                if batch.is_empty() {
                    first_at = Instant::now();
                }
                batch.push(line);
                if batch.len() >= config.batch {
                    post(&client, &config.url, &mut batch, until, unsent);
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if !batch.is_empty() {
                    post(&client, &config.url, &mut batch, until, unsent);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                if !batch.is_empty() {
                    post(&client, &config.url, &mut batch, until, unsent);
                }
                return;
            }
        }
    }
}

/// Posts `batch` (and empties it), within what is left of the time the watch gave once it
/// stopped; past that, the batch is only counted in `unsent`.
fn post(
    client: &HttpClient,
    url: &Uri,
    batch: &mut Vec<String>,
    until: &OnceLock<Instant>,
    unsent: &AtomicUsize,
) {
    let timeout = match until.get() {
        Some(deadline) => deadline.saturating_duration_since(Instant::now()),
        None => POST_TIMEOUT,
    };
    if timeout.is_zero() {
        unsent.fetch_add(batch.len(), Ordering::Relaxed);
        batch.clear();
        return;
    }
    let count = batch.len();
    let mut body = batch.join("\n");
    body.push('\n');
    batch.clear();
    let sent = client
        .post(
            url,
            &[("content-type", "application/x-ndjson")],
            body.into_bytes(),
            timeout,
        )
        .and_then(|answer| {
            if (200..300).contains(&answer.status) {
                Ok(())
            } else {
                Err(format!("the endpoint answered {}", answer.status))
            }
        });
    if let Err(why) = sent {
        let url = crate::cli::http::shown_url(&url.to_string());
        warn(format_args!(
            "--stream-to {url}: {} not delivered: {why}; the watch goes on",
            crate::render::terminal::count(count as u64, "event")
        ));
    }
}
