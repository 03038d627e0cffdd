//! A small HTTP(S) client for what a command sends because the user asked it to (watch's
//! `--stream-to`, optimize's `--base-url`): one request at a time, with a deadline, from a
//! runtime of its own. Nothing else in agent-strace opens a connection.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::lookup::SharedLookup;
use crate::capture::remote::{Said, Unsent};

/// Checks a URL the user gave with `flag`: http or https, with a host, no credentials in it.
pub(crate) fn check_url(flag: &str, url: &str) -> Result<Uri, String> {
    let shown = shown_url(url);
    let uri: Uri = url
        .parse()
        .map_err(|e| format!("{flag} `{shown}` is not a URL: {e}"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(format!(
            "{flag} `{shown}`: the scheme must be http or https"
        ));
    }
    let Some(authority) = uri.authority() else {
        return Err(format!("{flag} `{shown}` has no host"));
    };
    if authority.as_str().contains('@') {
        return Err(format!(
            "{flag} `{shown}`: credentials in the URL are not supported"
        ));
    }
    if crate::capture::proxy::http::has_unusable_port(authority) {
        return Err(format!(
            "{flag} `{shown}`: {}",
            crate::capture::proxy::http::PORT_RULE
        ));
    }
    Ok(uri)
}

/// `url` as messages and logs show it: a user and password in it, and its query and fragment
/// (where services put tokens), are replaced by `***`, so that a mistaken URL never writes a
/// secret into a log or a terminal.
///
/// The user and password end at the last `@` anywhere after the scheme, not at the first `/`,
/// `?` or `#` as a URL parser ends the authority: a password written with one of those
/// unencoded (`http://u:pa/ss@host`) would otherwise be cut there and its end shown as the
/// host and path. An `@` in a path or query then hides more than the user, never less.
pub(crate) fn shown_url(url: &str) -> String {
    let (scheme, rest) = url
        .split_once("://")
        .map_or(("", url), |(scheme, rest)| (scheme, rest));
    let (secret, rest) = match rest.rfind('@') {
        Some(at) => ("***@", &rest[at + 1..]),
        None => ("", rest),
    };
    let (rest, tail) = match rest.find(['?', '#']) {
        Some(at) => (&rest[..at], "?***"),
        None => (rest, ""),
    };
    let scheme = if scheme.is_empty() {
        String::new()
    } else {
        format!("{scheme}://")
    };
    format!("{scheme}{secret}{rest}{tail}")
}

/// Connections to names looked up by [`SharedLookup`].
type Connecting = HttpConnector<SharedLookup>;

enum Connector {
    Plain(Client<Connecting, Full<Bytes>>),
    Tls(Client<hyper_rustls::HttpsConnector<Connecting>, Full<Bytes>>),
}

/// A client for one kind of URL (http or https).
pub(crate) struct HttpClient {
    runtime: tokio::runtime::Runtime,
    connector: Connector,
}

/// What came back.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Bytes,
    /// How long the server asked to wait before trying again (`Retry-After` in seconds or as
    /// an HTTP date), when it said.
    pub(crate) retry_after: Option<Duration>,
}

/// How [`HttpClient::post_retrying`] tries again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retry {
    /// Attempts in all, the first included.
    pub(crate) attempts: u32,
    /// The wait before the second attempt; each later wait doubles, up to `max_delay`.
    pub(crate) first_delay: Duration,
    pub(crate) max_delay: Duration,
}

/// Answers worth trying again, as OTLP/HTTP exporters treat them: too many requests, and a
/// gateway or service that is not there for the moment.
pub(crate) fn is_retryable(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// How often a sender that may be told to stop looks whether it was.
const STOP_POLL: Duration = Duration::from_millis(50);

/// An answer's body beyond this is not read (nor waited for).
const BODY_LIMIT: usize = 16 * 1024 * 1024;

impl HttpClient {
    /// A client for URLs like `url` (TLS with the system's roots for https).
    pub(crate) fn for_url(url: &Uri) -> Result<HttpClient, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
        let builder = Client::builder(TokioExecutor::new());
        // Not the system's lookup on this client's runtime, whose end would wait for it.
        let mut http = HttpConnector::new_with_resolver(SharedLookup);
        http.set_connect_timeout(Some(connect_timeout(url)));
        let connector = if url.scheme_str() == Some("https") {
            http.enforce_http(false);
            let roots = hyper_rustls::HttpsConnectorBuilder::new()
                .with_native_roots()
                .map_err(|e| format!("no TLS roots: {e}"))?;
            Connector::Tls(builder.build(roots.https_only().enable_http1().wrap_connector(http)))
        } else {
            Connector::Plain(builder.build(http))
        };
        Ok(HttpClient { runtime, connector })
    }

    /// POSTs `body` to `url` with `headers`; the answer whatever its status, or why there is
    /// none.
    pub(crate) fn post(
        &self,
        url: &Uri,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Answer, String> {
        self.post_telling(url, headers, Bytes::from(body), timeout)
            .map_err(|(why, _)| why)
    }

    /// [`HttpClient::post`], saying with why there is no answer whether the request may have
    /// reached the server (`false`: no connection was made, so it surely did not). The body is
    /// shared, not copied: a caller keeping it for later passes a clone of its `Bytes`.
    pub(crate) fn post_telling(
        &self,
        url: &Uri,
        headers: &[(&str, &str)],
        body: Bytes,
        timeout: Duration,
    ) -> Result<Answer, (String, bool)> {
        self.post_until(url, headers, body, timeout, &|| None)
    }

    /// [`HttpClient::post_telling`], given up (as no answer) once `until` names a time that
    /// has come, even in the middle of the exchange: a caller told to stop waits no longer.
    fn post_until(
        &self,
        url: &Uri,
        headers: &[(&str, &str)],
        body: Bytes,
        timeout: Duration,
        until: &dyn Fn() -> Option<std::time::Instant>,
    ) -> Result<Answer, (String, bool)> {
        let mut request = Request::post(url.clone()).header(
            "user-agent",
            concat!("agent-strace/", env!("CARGO_PKG_VERSION")),
        );
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request
            .body(Full::new(body))
            .map_err(|e| (format!("cannot build the request: {e}"), false))?;
        // Set once a connection is open, before a byte of the request is written: a time that
        // runs out before then (a collector whose connections never open) sent nothing.
        let connected = hyper_util::client::legacy::connect::capture_connection(&mut request);
        self.runtime.block_on(async {
            let deadline = tokio::time::Instant::now() + timeout;
            let exchange = async {
                match &self.connector {
                    Connector::Plain(c) => c.request(request).await,
                    Connector::Tls(c) => c.request(request).await,
                }
                .map_err(|e| (error_chain(&e), !e.is_connect()))
            };
            let reached = || connected.connection_metadata().is_some();
            let stopped = || async {
                loop {
                    if let Some(by) = until() {
                        tokio::time::sleep_until(by.into()).await;
                        return;
                    }
                    tokio::time::sleep(STOP_POLL).await;
                }
            };
            let response = tokio::select! {
                answered = tokio::time::timeout_at(deadline, exchange) => answered,
                () = stopped() => {
                    return Err(("given up, as it was told to stop".to_owned(), reached()));
                }
            };
            let response = response.map_err(|_| {
                if reached() {
                    (format!("no answer within {} ms", timeout.as_millis()), true)
                } else {
                    (
                        format!("no connection within {} ms", timeout.as_millis()),
                        false,
                    )
                }
            })??;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(hyper::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(retry_after);
            // The status is the answer: a body cut short, endless or too slow is kept as far
            // as it came. Taken for no answer, a 2xx whose body never ended had the request
            // sent again, five times over, to a server that had taken it each time.
            // A body that trickles holds a caller told to stop no longer than the head did.
            let mut body = Vec::new();
            let read = read_body(response.into_body(), &mut body);
            tokio::select! {
                _ = tokio::time::timeout_at(deadline, read) => {}
                () = stopped() => {}
            }
            Ok(Answer {
                status,
                body: Bytes::from(body),
                retry_after,
            })
        })
    }

    /// Opens a connection to `url`'s host and closes it at once, sending nothing, within
    /// `timeout`: whether the server can be reached now, or why not.
    pub(crate) fn reach(&self, url: &Uri, timeout: Duration) -> Result<(), String> {
        let host = url.host().unwrap_or_default().trim_matches(['[', ']']);
        let tls = url.scheme_str() == Some("https");
        let port = url.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let timeout = timeout.min(connect_timeout(url));
        self.runtime.block_on(async {
            let connect = async {
                let addrs = super::lookup::lookup(host, port).await?;
                tokio::net::TcpStream::connect(&addrs[..])
                    .await
                    .map_err(|e| format!("cannot connect: {e}"))
            };
            match tokio::time::timeout(timeout, connect).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(why)) => Err(why),
                Err(_) => Err(format!("no connection within {} ms", timeout.as_millis())),
            }
        })
    }

    /// [`HttpClient::post`], tried again after a wait when there is no answer or a retryable
    /// one ([`is_retryable`]): the waits double from `retry.first_delay` up to
    /// `retry.max_delay`, or are what the server's `Retry-After` asked when longer (up to the
    /// same bound: [`retry_wait`]), for `retry.attempts` in all. The last answer, or why there was none.
    /// Before each try again, `tell` gets a line saying why and which attempt comes
    /// ("no answer from HOST in 30 s; trying again (2/5)").
    pub(crate) fn post_retrying(
        &self,
        url: &Uri,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout: Duration,
        retry: Retry,
        tell: &dyn Fn(&str),
    ) -> Result<Answer, String> {
        self.post_retrying_until(url, headers, body, (timeout, retry), tell, &|| None)
    }

    /// [`HttpClient::post_retrying`], given up once `until` names a time that has come: no
    /// attempt or wait goes past it, and one under way is cut off then (no answer).
    pub(crate) fn post_retrying_until(
        &self,
        url: &Uri,
        headers: &[(&str, &str)],
        body: &[u8],
        (timeout, retry): (Duration, Retry),
        tell: &dyn Fn(&str),
        until: &dyn Fn() -> Option<std::time::Instant>,
    ) -> Result<Answer, String> {
        let host = url.host().unwrap_or_default();
        let mut delay = retry.first_delay;
        let mut attempt = 1;
        let stopped = || until().is_some_and(|by| std::time::Instant::now() >= by);
        loop {
            let started = std::time::Instant::now();
            let result = self
                .post_until(url, headers, Bytes::from(body.to_vec()), timeout, until)
                .map_err(|(why, _)| why);
            if stopped() {
                return result;
            }
            let (wait, why) = match &result {
                Ok(answer) if is_retryable(answer.status) => (
                    retry_wait(delay, answer.retry_after, retry.max_delay),
                    format!("{host} answered HTTP {}", answer.status),
                ),
                Ok(_) => return result,
                Err(_) if started.elapsed() >= timeout => (
                    delay,
                    format!("no answer from {host} in {}", seconds(timeout)),
                ),
                Err(why) => (delay, format!("cannot reach {host} ({why})")),
            };
            if attempt >= retry.attempts {
                return result;
            }
            tell(&format!(
                "{why}; trying again ({}/{})",
                attempt + 1,
                retry.attempts
            ));
            let waited = std::time::Instant::now() + wait.min(retry.max_delay);
            while std::time::Instant::now() < waited {
                if stopped() {
                    return result;
                }
                std::thread::sleep(
                    STOP_POLL.min(waited.saturating_duration_since(std::time::Instant::now())),
                );
            }
            delay = (delay * 2).min(retry.max_delay);
            attempt += 1;
        }
    }
}

/// The wait before trying again after a retryable answer: the backoff `delay`, or the server's
/// `Retry-After` when it asks for longer, at most `most`. Never less than the backoff: a
/// `Retry-After: 0`, or a date already past (a server's clock behind), had every attempt made
/// within milliseconds.
fn retry_wait(delay: Duration, retry_after: Option<Duration>, most: Duration) -> Duration {
    retry_after
        .map_or(delay, |asked| asked.max(delay))
        .min(most)
}

/// Reads `body` into `kept` until it ends, fails or passes [`BODY_LIMIT`] (the rest is not
/// read).
async fn read_body(mut body: hyper::body::Incoming, kept: &mut Vec<u8>) {
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            let room = BODY_LIMIT - kept.len();
            kept.extend_from_slice(&data[..data.len().min(room)]);
            if kept.len() == BODY_LIMIT {
                return;
            }
        }
    }
}

/// `30 s`, or `250 ms` below a second.
fn seconds(d: Duration) -> String {
    if d.as_secs() > 0 && d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// How long a connection may take to open: a host on this machine or the local network
/// answers at once or not at all, one across the internet may need a few SYN resends.
fn connect_timeout(url: &Uri) -> Duration {
    let host = url.host().unwrap_or_default().trim_matches(['[', ']']);
    let near = host == "localhost"
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| match ip {
            std::net::IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
            std::net::IpAddr::V6(v6) => {
                v6.is_loopback() || v6.is_unique_local() || v6.is_unicast_link_local()
            }
        });
    Duration::from_secs(if near { 5 } else { 10 })
}

/// An error with its causes, as one line (hyper's own says only "client error (Connect)").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

/// A `Retry-After` value: whole seconds, or an HTTP date (the wait until then).
fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = when.timestamp_millis() - chrono::Utc::now().timestamp_millis();
    Some(Duration::from_millis(u64::try_from(wait).unwrap_or(0)))
}

/// The collector hooks and proxies send to instead of the local store: `AGENT_STRACE_ENDPOINT`
/// (a base URL such as `http://collector:4317`) with `AGENT_STRACE_TOKEN` as its bearer token.
pub(crate) struct Endpoint {
    /// As the environment gave it, for messages ([`shown_url`] hides its secrets).
    pub(crate) base: String,
    pub(crate) token: Option<String>,
}

/// The URL of `path` (`/hooks`) under the collector at `base`: [`url_under`].
pub(crate) fn endpoint_url(base: &str, path: &str) -> Result<Uri, String> {
    url_under("AGENT_STRACE_ENDPOINT", base, path)
}

/// The URL of `path` under `base`, the URL the user gave with `flag` (checked as
/// [`check_url`] checks it): the path joined to the base's own (a collector behind a proxy at
/// `https://host/traces/`), the base's query kept (a gateway's key). Glued on as text,
/// `http://host/?key=K` sent hooks to `/` with a query of `key=K/hooks`.
pub(crate) fn url_under(flag: &str, base: &str, path: &str) -> Result<Uri, String> {
    let uri = check_url(flag, base)?;
    let joined = format!(
        "{}{path}{}",
        uri.path().trim_end_matches('/'),
        uri.query().map_or(String::new(), |q| format!("?{q}"))
    );
    let unusable =
        |e: &dyn std::fmt::Display| format!("{flag} `{}`: no URL under it: {e}", shown_url(base));
    let mut parts = uri.into_parts();
    parts.path_and_query = Some(joined.parse().map_err(|e| unusable(&e))?);
    Uri::from_parts(parts).map_err(|e| unusable(&e))
}

impl Endpoint {
    /// The endpoint the environment names, if any; `Err` says why it cannot be used.
    pub(crate) fn from_env() -> Option<Result<Endpoint, String>> {
        let base = std::env::var("AGENT_STRACE_ENDPOINT").ok()?;
        let base = base.trim().to_owned();
        if base.is_empty() {
            return None;
        }
        let token = ["AGENT_STRACE_TOKEN", "AGENT_STRACE_AUTH_KEY"]
            .iter()
            .find_map(|name| std::env::var(name).ok())
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        Some(check_url("AGENT_STRACE_ENDPOINT", &base).map(|_| Endpoint { base, token }))
    }

    /// POSTs a JSON or NDJSON body to `path` under the endpoint within `budget` (client start,
    /// connection and answer together); `Ok` (with the answer's body) only for a 2xx answer
    /// that is a collector's ([`Unsent::NoCollector`] otherwise), else why: whether the collector may hold it ([`Unsent::NoAnswer`]) or surely does not.
    /// The body is shared, not copied (see [`HttpClient::post_telling`]).
    pub(crate) fn send(
        &self,
        path: &str,
        content_type: &str,
        body: Bytes,
        budget: Duration,
    ) -> Result<Vec<u8>, Unsent> {
        let started = std::time::Instant::now();
        let url = endpoint_url(&self.base, path).map_err(Unsent::NotReached)?;
        let client = HttpClient::for_url(&url).map_err(Unsent::NotReached)?;
        let bearer = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", content_type)];
        if let Some(bearer) = &bearer {
            headers.push(("authorization", bearer.as_str()));
        }
        let left = budget.saturating_sub(started.elapsed());
        match client.post_telling(&url, &headers, body, left) {
            Ok(answer) if (200..300).contains(&answer.status) => {
                if Said::read(&answer.body).collector {
                    Ok(answer.body.to_vec())
                } else {
                    Err(Unsent::NoCollector(no_collector(&answer)))
                }
            }
            Ok(answer) => Err(Unsent::Refused {
                why: refusal(&answer),
                status: answer.status,
            }),
            Err((why, true)) => Err(Unsent::NoAnswer(why)),
            Err((why, false)) => Err(Unsent::NotReached(why)),
        }
    }

    /// POSTs as [`Endpoint::send`] does, with the answer whatever its status; without one, why,
    /// and whether the request may have reached the collector (see [`HttpClient::post_telling`]).
    pub(crate) fn exchange_telling(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        budget: Duration,
    ) -> Result<Answer, (String, bool)> {
        let started = std::time::Instant::now();
        let url = endpoint_url(&self.base, path).map_err(|why| (why, false))?;
        let client = HttpClient::for_url(&url).map_err(|why| (why, false))?;
        let bearer = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", content_type)];
        if let Some(bearer) = &bearer {
            headers.push(("authorization", bearer.as_str()));
        }
        let left = budget.saturating_sub(started.elapsed());
        client.post_telling(&url, &headers, Bytes::from(body), left)
    }
}

impl crate::capture::resend::Collector for Endpoint {
    fn reach(&self, budget: Duration) -> Result<(), Unsent> {
        let started = std::time::Instant::now();
        let url = check_url("AGENT_STRACE_ENDPOINT", &self.base).map_err(Unsent::NotReached)?;
        let client = HttpClient::for_url(&url).map_err(Unsent::NotReached)?;
        client
            .reach(&url, budget.saturating_sub(started.elapsed()))
            .map_err(Unsent::NotReached)
    }
    fn send_call(&self, body: Bytes, budget: Duration) -> Result<(), Unsent> {
        self.send("/hooks", "application/json", body, budget)
            .map(|_| ())
    }
    fn send_batch(&self, events: Bytes, budget: Duration) -> Result<(), Unsent> {
        self.send("/events", "application/x-ndjson", events, budget)
            .map(|_| ())
    }
}

/// What an endpoint that did not take a request said: its status and the start of its body, on
/// one line with what would act on a terminal escaped (`\u001b`), at most [`SAID_MOST`]
/// characters: the collector may be anyone's, and this goes to stderr and to
/// `hook-errors.log`.
pub(crate) fn refusal(answer: &Answer) -> String {
    let start = &answer.body[..answer.body.len().min(4 * SAID_MOST)];
    let said = crate::model::text::one_line(&String::from_utf8_lossy(start), SAID_MOST);
    format!("answered {}: {said}", answer.status)
}

/// What a 2xx answer that is no collector's said ([`Said::collector`]), as [`refusal`] quotes it.
pub(crate) fn no_collector(answer: &Answer) -> String {
    format!("{}, which is no collector's answer", refusal(answer))
}

/// The most of an endpoint's answer [`refusal`] quotes, in characters.
const SAID_MOST: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoints_urls_join_its_path_and_keep_its_query() {
        let url = |base: &str| endpoint_url(base, "/hooks").map(|u| u.to_string());
        for (base, want) in [
            ("http://127.0.0.1:4317", "http://127.0.0.1:4317/hooks"),
            ("http://127.0.0.1:4317/", "http://127.0.0.1:4317/hooks"),
            ("https://host/traces/", "https://host/traces/hooks"),
            ("https://host/traces", "https://host/traces/hooks"),
            ("http://h:1/?key=SECRET", "http://h:1/hooks?key=SECRET"),
            ("http://h:1/p?key=SECRET#x", "http://h:1/p/hooks?key=SECRET"),
        ] {
            assert_eq!(url(base).as_deref(), Ok(want), "{base}");
        }
        let refused = url("ftp://h/?key=SECRET").unwrap_err();
        assert!(!refused.contains("SECRET"), "{refused}");
    }

    #[test]
    fn each_try_again_is_said_with_why() {
        // Takes the connection and never answers, until the client is done: closed after a
        // fixed time, a connection a loaded machine's client read late said "closed" instead.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (done, client_done) = std::sync::mpsc::channel::<()>();
        let held = std::thread::spawn(move || {
            let (a, _) = listener.accept().unwrap();
            let (b, _) = listener.accept().unwrap();
            let _ = client_done.recv();
            drop((a, b));
        });
        let url: Uri = format!("http://127.0.0.1:{port}/v1/traces")
            .parse()
            .unwrap();
        let client = HttpClient::for_url(&url).unwrap();
        let said = std::cell::RefCell::new(Vec::new());
        let retry = Retry {
            attempts: 2,
            first_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(10),
        };
        let result = client.post_retrying(
            &url,
            &[],
            b"x",
            Duration::from_millis(200),
            retry,
            &|line| said.borrow_mut().push(line.to_owned()),
        );
        done.send(()).unwrap();
        held.join().unwrap();
        assert!(result.is_err());
        assert_eq!(
            *said.borrow(),
            ["no answer from 127.0.0.1 in 200 ms; trying again (2/2)"]
        );
        assert_eq!(connect_timeout(&url), Duration::from_secs(5));
        let far: Uri = "https://otel.example.com".parse().unwrap();
        assert_eq!(connect_timeout(&far), Duration::from_secs(10));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon"), None);
        let (half, most) = (Duration::from_millis(500), Duration::from_secs(8));
        for (asked, want) in [
            (None, half),
            (Some(Duration::ZERO), half),
            (Some(Duration::from_millis(200)), half),
            (Some(Duration::from_secs(3)), Duration::from_secs(3)),
            (Some(Duration::from_secs(60)), most),
        ] {
            assert_eq!(retry_wait(half, asked, most), want, "{asked:?}");
        }
        assert_eq!(
            retry_wait(Duration::from_secs(4), Some(Duration::ZERO), most),
            Duration::from_secs(4)
        );
        assert!(is_retryable(429) && is_retryable(503) && !is_retryable(400));
    }

    #[test]
    fn a_shown_url_keeps_no_secret() {
        assert_eq!(
            shown_url("http://user:S3cret@127.0.0.1:1/v1?token=ghp_x#f"),
            "http://***@127.0.0.1:1/v1?***"
        );
        assert_eq!(
            shown_url("https://c.internal:4317"),
            "https://c.internal:4317"
        );
        assert_eq!(shown_url("user:pw@host/x"), "***@host/x");
        // A password with an unencoded `/`, `?`, `#` or `@` is hidden whole.
        for password in ["pa/ss", "pa?ss", "pa#ss", "pa@ss", "p/a?s#s@"] {
            let shown = shown_url(&format!("http://user:{password}@h:4318/v1/x"));
            assert_eq!(shown, "http://***@h:4318/v1/x", "{password}");
        }
        assert_eq!(shown_url("http://h/a@b?c"), "http://***@b?***");
        let refused =
            check_url("AGENT_STRACE_ENDPOINT", "http://u:S3cret@h:1?k=ghp_y").unwrap_err();
        assert!(
            !refused.contains("S3cret") && !refused.contains("ghp_y"),
            "{refused}"
        );
    }
}
