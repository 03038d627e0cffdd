//! `watch --stream-to URL`: events POSTed as NDJSON batches (`application/x-ndjson`, one event
//! a line, as `events.ndjson` holds it) from a thread of their own, so a slow or dead endpoint
//! never holds the watch up. A batch goes when it has `--stream-batch-size` events or
//! `--stream-flush-interval` has passed since its first; failures are said on stderr and the
//! batch is dropped (the events stay in the store). Nothing is sent unless a URL is given.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hyper::Uri;

use crate::cli::http::{HttpClient, check_url};
use crate::cli::output::warn;

/// How long one POST may take.
const POST_TIMEOUT: Duration = Duration::from_secs(10);

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
    tx: Option<Sender<String>>,
    thread: Option<JoinHandle<()>>,
}

impl Streamer {
    /// Starts the thread; when the OS refuses it, the watch goes on streaming nothing, and says
    /// so once.
    pub(super) fn start(config: StreamConfig) -> Streamer {
        let (tx, rx) = mpsc::channel();
        match std::thread::Builder::new()
            .name("watch-stream".into())
            .spawn(move || run(&config, &rx))
        {
            Ok(thread) => Streamer {
                tx: Some(tx),
                thread: Some(thread),
            },
            Err(e) => {
                warn(format_args!(
                    "cannot start the thread that streams events ({e}): streaming nothing; the events stay in the store"
                ));
                Streamer {
                    tx: None,
                    thread: None,
                }
            }
        }
    }

    /// Queues one event line (its JSON, without the newline).
    pub(super) fn send(&self, line: String) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(line);
        }
    }

    /// Sends what is queued and stops the thread.
    pub(super) fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Streamer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(config: &StreamConfig, rx: &Receiver<String>) {
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
                    post(&client, &config.url, &mut batch);
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if !batch.is_empty() {
                    post(&client, &config.url, &mut batch);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                if !batch.is_empty() {
                    post(&client, &config.url, &mut batch);
                }
                return;
            }
        }
    }
}

fn post(client: &HttpClient, url: &Uri, batch: &mut Vec<String>) {
    let count = batch.len();
    let mut body = batch.join("\n");
    body.push('\n');
    batch.clear();
    let sent = client
        .post(
            url,
            &[("content-type", "application/x-ndjson")],
            body.into_bytes(),
            POST_TIMEOUT,
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
