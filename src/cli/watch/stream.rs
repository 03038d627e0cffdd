//! `watch --stream-to URL`: events POSTed as NDJSON batches (`application/x-ndjson`, one event
//! a line, as `events.ndjson` holds it) from a thread of their own, so a slow or dead endpoint
//! never holds the watch up. A batch goes when it has `--stream-batch-size` events or
//! `--stream-flush-interval` has passed since its first; failures are said on stderr and the
//! batch is dropped (the events stay in the store). Nothing is sent unless a URL is given.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

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
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("--stream-to `{url}` is not a URL: {e}"))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(format!(
                "--stream-to `{url}`: the scheme must be http or https"
            ));
        }
        let Some(authority) = uri.authority() else {
            return Err(format!("--stream-to `{url}` has no host"));
        };
        if authority.as_str().contains('@') {
            return Err(format!(
                "--stream-to `{url}`: credentials in the URL are not supported"
            ));
        }
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
    pub(super) fn start(config: StreamConfig) -> Streamer {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || run(&config, &rx));
        Streamer {
            tx: Some(tx),
            thread: Some(thread),
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

enum Http {
    Plain(Client<HttpConnector, Full<Bytes>>),
    Tls(Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>),
}

fn run(config: &StreamConfig, rx: &Receiver<String>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            warn(format_args!(
                "--stream-to: cannot start the HTTP client: {e}; no events are streamed"
            ));
            return;
        }
    };
    let builder = Client::builder(TokioExecutor::new());
    let client = if config.url.scheme_str() == Some("https") {
        match hyper_rustls::HttpsConnectorBuilder::new().with_native_roots() {
            Ok(b) => Http::Tls(builder.build(b.https_only().enable_http1().build())),
            Err(e) => {
                warn(format_args!(
                    "--stream-to: no TLS roots: {e}; no events are streamed"
                ));
                return;
            }
        }
    } else {
        Http::Plain(builder.build(HttpConnector::new()))
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
                    post(&runtime, &client, &config.url, &mut batch);
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if !batch.is_empty() {
                    post(&runtime, &client, &config.url, &mut batch);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                if !batch.is_empty() {
                    post(&runtime, &client, &config.url, &mut batch);
                }
                return;
            }
        }
    }
}

fn post(runtime: &tokio::runtime::Runtime, client: &Http, url: &Uri, batch: &mut Vec<String>) {
    let count = batch.len();
    let mut body = batch.join("\n");
    body.push('\n');
    batch.clear();
    let request = Request::post(url.clone())
        .header("content-type", "application/x-ndjson")
        .header(
            "user-agent",
            concat!("agent-strace/", env!("CARGO_PKG_VERSION")),
        )
        .body(Full::new(Bytes::from(body)));
    let request = match request {
        Ok(r) => r,
        Err(e) => {
            warn(format_args!("--stream-to: cannot build the request: {e}"));
            return;
        }
    };
    let sent = runtime.block_on(async {
        let response = match client {
            Http::Plain(c) => tokio::time::timeout(POST_TIMEOUT, c.request(request)).await,
            Http::Tls(c) => tokio::time::timeout(POST_TIMEOUT, c.request(request)).await,
        };
        match response {
            Err(_) => Err(format!("no answer within {}s", POST_TIMEOUT.as_secs())),
            Ok(Err(e)) => Err(e.to_string()),
            Ok(Ok(r)) if r.status().is_success() => Ok(()),
            Ok(Ok(r)) => Err(format!("the endpoint answered {}", r.status())),
        }
    });
    if let Err(why) = sent {
        warn(format_args!(
            "--stream-to {url}: {count} event(s) not delivered: {why}; the watch goes on"
        ));
    }
}
