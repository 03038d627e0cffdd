//! The collector's routes: one table of method, path pattern, handler and access. A route is
//! added by adding a row here (and its handler in a file of its own); the pipeline in
//! [`super`] checks the bearer token (unless the row says `Access::Public`), then applies the
//! rate limit, the body's media type (`Media`) and the body limit before the handler runs: on
//! a handler thread, where it may block on the disk, unless the row says `Work::Instant`.
//!
//! A pattern is a path whose segments are literal or `{name}`; a `{name}` segment matches any
//! one non-empty segment, percent-decoded, and reaches the handler in [`Request::params`].

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{HeaderMap, Method, StatusCode};
use serde_json::json;

use super::Collector;
use crate::store::StoreError;

/// A request as a handler sees it: its whole body read (within the limit).
pub struct Request {
    pub peer: std::net::SocketAddr,
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    /// The `{name}` segments of the route's pattern, in order, decoded.
    pub params: Vec<String>,
    pub body: Bytes,
}

/// A handler's answer.
pub struct Reply {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The rest of the body, sent after `body` a piece at a time; `None`: `body` is all.
    pub pieces: Option<Pieces>,
}

/// A body too large to hold, made a piece at a time: each call gives the next piece (a few
/// dozen KiB), `None` at the end. Called on a handler thread, once the client has taken the
/// piece before, so that a slow reader holds one piece, never the whole body.
pub type Pieces = Box<dyn FnMut() -> Option<Vec<u8>> + Send>;

impl Reply {
    /// A JSON answer.
    pub fn json(status: StatusCode, value: &serde_json::Value) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: serde_json::to_vec(value).unwrap_or_default(),
            headers: Vec::new(),
            pieces: None,
        }
    }

    /// An error answer: `{"error": message}`, as the Python tool's collector answers.
    pub fn error(status: StatusCode, message: &str) -> Reply {
        Reply::json(status, &json!({ "error": message }))
    }

    /// Newline-delimited JSON: `body`, then what `pieces` makes, if any.
    pub fn ndjson(body: Vec<u8>, pieces: Option<Pieces>) -> Reply {
        Reply {
            status: StatusCode::OK,
            content_type: "application/x-ndjson",
            body,
            headers: Vec::new(),
            pieces,
        }
    }

    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Reply {
        self.headers.push((name, value));
        self
    }

    /// The answer when the store failed with `e`, `body` saying so: 503 with `Retry-After`
    /// when trying again soon may work (out of file descriptors, a busy lock), else 500.
    pub fn store_failed(e: &StoreError, body: &serde_json::Value) -> Reply {
        if e.is_temporary() {
            Reply::json(StatusCode::SERVICE_UNAVAILABLE, body)
                .with_header(hyper::header::RETRY_AFTER, HeaderValue::from(1))
        } else {
            Reply::json(StatusCode::INTERNAL_SERVER_ERROR, body)
        }
    }
}

/// A handler runs on a blocking thread with the whole request.
pub type Handler = fn(&Collector, &Request) -> Reply;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (a load balancer's health check); the answer says nothing about the traces.
    Public,
    /// Only with the bearer token, when the collector has one.
    Token,
}

/// Where a route's handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// On the connection's task, at once: the handler touches no disk and takes no time, so
    /// it is answered even while every handler thread is busy (a load balancer's health check
    /// must not time out behind slow writes).
    Instant,
    /// On a handler thread, within the collector's budget of requests in flight.
    Blocking,
}

/// What a route's body must be, by its `Content-Type`: a web page can send a body of its own
/// to any address without asking (a "simple request": `text/plain`, a form, or no type at all),
/// but not one of these types, for which a browser asks the server first (a CORS preflight) and
/// the collector never says yes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// No body is read.
    None,
    /// JSON or JSON lines (`application/json`, `application/x-ndjson`), as our hooks,
    /// proxies and `send-kept`, and the Python tool's, send.
    Json,
    /// OTLP/HTTP: `application/x-protobuf` or `application/json`, as OTLP exporters send.
    Otlp,
}

impl Media {
    /// Whether a body of `content_type` is taken (parameters such as `charset` and case
    /// ignored).
    pub fn takes(self, content_type: Option<&str>) -> bool {
        let media = || {
            content_type.map(|t| {
                t.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
        };
        match self {
            Media::None => true,
            Media::Json => matches!(
                media().as_deref(),
                Some("application/json" | "application/x-ndjson" | "application/ndjson")
            ),
            Media::Otlp => crate::capture::otlp::Encoding::of_content_type(content_type).is_some(),
        }
    }

    /// The media types taken, as an answer names them.
    pub fn named(self) -> &'static str {
        match self {
            Media::None => "none",
            Media::Json => "application/json or application/x-ndjson",
            Media::Otlp => "application/x-protobuf or application/json",
        }
    }
}

/// One row of the table.
#[derive(Clone)]
pub struct Route {
    pub method: Method,
    pub pattern: &'static str,
    pub handler: Handler,
    pub access: Access,
    pub work: Work,
    pub media: Media,
}

impl Route {
    /// Whether the route needs no token.
    pub fn public(&self) -> bool {
        self.access == Access::Public
    }
}

/// Every route of the collector.
pub fn table() -> Vec<Route> {
    use super::{ingest, otlp, read};
    let row = |method, pattern, handler, access, media| Route {
        method,
        pattern,
        handler,
        access,
        work: Work::Blocking,
        media,
    };
    vec![
        Route {
            work: Work::Instant,
            ..row(
                Method::GET,
                "/health",
                read::health as Handler,
                Access::Public,
                Media::None,
            )
        },
        row(
            Method::POST,
            "/events",
            ingest::events,
            Access::Token,
            Media::Json,
        ),
        row(
            Method::POST,
            "/sessions",
            ingest::session,
            Access::Token,
            Media::Json,
        ),
        row(
            Method::POST,
            "/hooks",
            ingest::hook,
            Access::Token,
            Media::Json,
        ),
        row(
            Method::POST,
            "/v1/traces",
            otlp::traces,
            Access::Token,
            Media::Otlp,
        ),
        row(
            Method::POST,
            "/v1/logs",
            otlp::logs,
            Access::Token,
            Media::Otlp,
        ),
        row(
            Method::POST,
            "/v1/metrics",
            otlp::metrics,
            Access::Token,
            Media::Otlp,
        ),
        row(
            Method::GET,
            "/sessions",
            read::sessions,
            Access::Token,
            Media::None,
        ),
        row(
            Method::GET,
            "/sessions/{id}",
            read::session,
            Access::Token,
            Media::None,
        ),
        row(
            Method::GET,
            "/sessions/{id}/events",
            read::events,
            Access::Token,
            Media::None,
        ),
    ]
}

static TABLE: std::sync::LazyLock<Vec<Route>> = std::sync::LazyLock::new(table);

/// The route for a request and its `{name}` segments; else the answer: 404 when no pattern
/// matches the path, 405 when one does for another method, 400 for a segment that does not
/// decode.
pub fn route(method: &Method, path: &str) -> Result<(Route, Vec<String>), Reply> {
    // A trailing slash is the same path (the Python tool's clients sometimes add one).
    let path = match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    let mut other_method = false;
    for route in TABLE.iter() {
        let Some(params) = matches(route.pattern, path)? else {
            continue;
        };
        if route.method == *method {
            return Ok((route.clone(), params));
        }
        other_method = true;
    }
    Err(if other_method {
        Reply::error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
    } else {
        Reply::error(StatusCode::NOT_FOUND, "not found")
    })
}

/// The decoded `{name}` segments when `path` matches `pattern`.
fn matches(pattern: &str, path: &str) -> Result<Option<Vec<String>>, Reply> {
    let mut want = pattern.split('/');
    let mut have = path.split('/');
    let mut params = Vec::new();
    loop {
        match (want.next(), have.next()) {
            (None, None) => return Ok(Some(params)),
            (Some(w), Some(h)) if w.starts_with('{') && w.ends_with('}') => {
                if h.is_empty() {
                    return Ok(None);
                }
                params.push(decode(h)?);
            }
            (Some(w), Some(h)) if w == h => {}
            _ => return Ok(None),
        }
    }
}

/// Percent-decodes one path segment; it must be UTF-8.
fn decode(segment: &str) -> Result<String, Reply> {
    let bad = || Reply::error(StatusCode::BAD_REQUEST, "a path segment does not decode");
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
            let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_segments_and_decode_them() {
        let (found, params) = route(&Method::GET, "/sessions/a%2Fb/events").ok().unwrap();
        assert_eq!(found.pattern, "/sessions/{id}/events");
        assert_eq!(params, ["a/b"]);
        let (found, params) = route(&Method::GET, "/sessions/").ok().unwrap();
        assert_eq!((found.pattern, params.len()), ("/sessions", 0));
        assert_eq!(
            route(&Method::DELETE, "/sessions").err().unwrap().status,
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            route(&Method::GET, "/nope").err().unwrap().status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            route(&Method::GET, "/sessions/%ff/events")
                .err()
                .unwrap()
                .status,
            StatusCode::BAD_REQUEST
        );
    }
}
