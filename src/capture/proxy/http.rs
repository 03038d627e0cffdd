//! The HTTP proxy: it listens on loopback and forwards every request to a remote MCP server,
//! over Streamable HTTP (one endpoint: POST answered with JSON or an SSE stream, a GET stream,
//! DELETE) and over the older HTTP+SSE transport (GET /sse, then POSTed messages).
//!
//! What passes is not changed: bodies go through as they come, headers too (Authorization and
//! `Mcp-Session-Id` included) but for the hop-by-hop ones and `Accept-Encoding`, which is
//! dropped so that the server answers in plain text the recorder can read. The one change is
//! the older transport's `endpoint` event, rewritten when it names the server's own address so
//! that the client posts to the proxy. Headers are never recorded.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::mcp::{Direction, McpRecorder};
use super::recording::{self, Note};
use super::sse::{EndpointRewriter, SseParser};
use crate::model::EventType;

/// How many notes may wait for the recorder (see the stdio proxy).
const RECORD_QUEUE: usize = 4096;
/// Most of a JSON answer kept for the record; the client always gets all of it.
const MAX_RECORDED_BODY: usize = 64 * 1024 * 1024;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ProxyBody = BoxBody<Bytes, BoxError>;

/// The remote server, as the user named it.
#[derive(Debug, Clone)]
pub struct Upstream {
    scheme: String,
    authority: String,
    path: String,
    query: Option<String>,
}

impl Upstream {
    /// Reads an `http://` or `https://` URL; the error says what is wrong with it.
    pub fn parse(url: &str) -> Result<Upstream, String> {
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("`{url}` is not a URL: {e}"))?;
        let scheme = match uri.scheme_str() {
            Some(s @ ("http" | "https")) => s.to_owned(),
            Some(other) => {
                return Err(format!(
                    "`{url}`: the scheme must be http or https, not {other}"
                ));
            }
            None => return Err(format!("`{url}` has no scheme (http:// or https://)")),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| format!("`{url}` has no host"))?;
        if authority.as_str().contains('@') {
            return Err(format!(
                "`{url}`: credentials in the URL are not supported; the client's headers are forwarded"
            ));
        }
        Ok(Upstream {
            scheme,
            authority: authority.as_str().to_owned(),
            path: uri.path().to_owned(),
            query: uri.query().map(str::to_owned),
        })
    }

    pub fn is_tls(&self) -> bool {
        self.scheme == "https"
    }

    /// The path the user gave, which the proxy also serves at `/`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Where a request for `path_and_query` on the proxy goes: the proxy's root is the URL the
    /// user gave, and every other path is the same path on the server.
    fn target(&self, path: &str, query: Option<&str>) -> Result<Uri, hyper::http::Error> {
        let (path, query) = if path == "/" {
            let query = match (self.query.as_deref(), query) {
                (Some(a), Some(b)) => Some(format!("{a}&{b}")),
                (a, b) => a.or(b).map(str::to_owned),
            };
            (self.path.as_str(), query)
        } else {
            (path, query.map(str::to_owned))
        };
        let path_and_query = match query {
            Some(q) => format!("{path}?{q}"),
            None => path.to_owned(),
        };
        Uri::builder()
            .scheme(self.scheme.as_str())
            .authority(self.authority.as_str())
            .path_and_query(path_and_query)
            .build()
    }

    /// What the client should be told when the server's `endpoint` event says `data`: a path
    /// on the proxy when `data` points at the server itself, `None` when it needs no change or
    /// points elsewhere. `request_path` is the path the event stream was asked for.
    pub fn endpoint_for_client(&self, data: &str, request_path: &str) -> Option<String> {
        let data = data.trim();
        let rest = if let Some(rest) = data.strip_prefix("//") {
            Some(rest)
        } else {
            ["http://", "https://"].iter().find_map(|scheme| {
                data.get(..scheme.len())
                    .filter(|head| head.eq_ignore_ascii_case(scheme))
                    .map(|_| &data[scheme.len()..])
            })
        };
        if let Some(rest) = rest {
            let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(split);
            if !authority.eq_ignore_ascii_case(&self.authority) {
                return None;
            }
            return Some(if tail.starts_with('/') {
                tail.to_owned()
            } else {
                format!("/{tail}")
            });
        }
        if data.starts_with('/') {
            return None;
        }
        // A relative reference: resolved against the stream's path on the server, as the
        // client would have resolved it there.
        let base = if request_path == "/" {
            &self.path
        } else {
            request_path
        };
        let dir = &base[..base.rfind('/').map_or(0, |i| i + 1)];
        let dir = if dir.is_empty() { "/" } else { dir };
        Some(format!("{dir}{data}"))
    }
}

/// Sends requests to the server: plain TCP or TLS, as its URL says.
enum UpstreamClient {
    Plain(Client<HttpConnector, Full<Bytes>>),
    Tls(Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>),
}

impl UpstreamClient {
    fn new(tls: bool) -> io::Result<UpstreamClient> {
        let builder = Client::builder(TokioExecutor::new());
        if tls {
            let connector = hyper_rustls::HttpsConnectorBuilder::new()
                .with_native_roots()?
                .https_only()
                .enable_http1()
                .build();
            Ok(UpstreamClient::Tls(builder.build(connector)))
        } else {
            Ok(UpstreamClient::Plain(builder.build(HttpConnector::new())))
        }
    }

    async fn send(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<Incoming>, hyper_util::client::legacy::Error> {
        match self {
            UpstreamClient::Plain(client) => client.request(request).await,
            UpstreamClient::Tls(client) => client.request(request).await,
        }
    }
}

/// One running proxy.
struct Proxy {
    upstream: Upstream,
    client: UpstreamClient,
    record: Option<mpsc::Sender<Note>>,
    /// The MCP sessions seen, numbered in the order they appeared (Mcp-Session-Id values, or the
    /// older transport's message paths). Kept in memory only: a session id is a credential.
    channels: Mutex<HashMap<String, u32>>,
    clock: fn() -> f64,
}

/// What the proxy reads out of an answer as it passes.
enum Reading {
    /// An event stream: each `message` event is a JSON-RPC message.
    Events,
    /// A JSON body, read once it is complete.
    Json,
    /// An HTTP error: recorded with its status.
    Failure,
    /// Nothing worth recording (a 202, an empty 200).
    Nothing,
}

impl Proxy {
    fn channel(&self, key: Option<&str>) -> u32 {
        let Some(key) = key else { return 0 };
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let next = u32::try_from(channels.len() + 1).unwrap_or(u32::MAX);
        *channels.entry(key.to_owned()).or_insert(next)
    }

    async fn record(&self, note: Note) {
        if let Some(tx) = &self.record {
            // A recorder that has gone (it failed) must not stop the traffic.
            let _ = tx.send(note).await;
        }
    }

    async fn record_problem(&self, data: Map<String, Value>) {
        let at = (self.clock)();
        self.record(Note::Event {
            kind: EventType::Error,
            data,
            at,
        })
        .await;
    }

    async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Response<ProxyBody> {
        let (parts, body) = request.into_parts();
        let body = match body.collect().await {
            Ok(body) => body.to_bytes(),
            Err(e) => {
                return plain(
                    StatusCode::BAD_REQUEST,
                    &format!("agent-strace: the request body could not be read: {e}"),
                );
            }
        };
        let path = parts.uri.path();
        let session = parts
            .headers
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok());
        // The older transport names its session in the path it tells the client to post to.
        let channel_key = session.map(str::to_owned).or_else(|| {
            parts
                .uri
                .path_and_query()
                .filter(|pq| pq.query().is_some())
                .map(|pq| pq.as_str().to_owned())
        });
        let channel = self.channel(channel_key.as_deref());
        if parts.method == Method::POST && !body.is_empty() {
            self.record(Note::Message {
                channel,
                direction: Direction::ClientToServer,
                body: body.to_vec(),
                at: (self.clock)(),
            })
            .await;
        }
        let target = match self.upstream.target(path, parts.uri.query()) {
            Ok(target) => target,
            Err(e) => {
                return plain(
                    StatusCode::BAD_REQUEST,
                    &format!("agent-strace: cannot forward this path: {e}"),
                );
            }
        };
        let mut forward = Request::new(Full::new(body));
        *forward.method_mut() = parts.method.clone();
        *forward.uri_mut() = target;
        copy_headers(&parts.headers, forward.headers_mut(), REQUEST_DROPS);
        let answer = match self.client.send(forward).await {
            Ok(answer) => answer,
            Err(e) => {
                let text = format!("cannot reach the MCP server: {}", error_chain(&e));
                let mut data = http_fields(&parts.method, path, channel);
                data.insert("error".into(), text.clone().into());
                self.record_problem(data).await;
                return plain(StatusCode::BAD_GATEWAY, &format!("agent-strace: {text}"));
            }
        };
        let (mut head, body) = answer.into_parts();
        let status = head.status;
        if parts.method == Method::DELETE {
            let mut data = http_fields(&parts.method, path, channel);
            data.insert("status".into(), status.as_u16().into());
            data.insert("session_closed".into(), status.is_success().into());
            let message = if status.is_success() {
                "the client closed its MCP session".to_owned()
            } else {
                format!(
                    "the server refused to close the session (HTTP {})",
                    status.as_u16()
                )
            };
            data.insert("message".into(), message.into());
            let at = (self.clock)();
            self.record(Note::Event {
                kind: EventType::Decision,
                data,
                at,
            })
            .await;
        }
        let content_type = head
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let reading = if status.is_client_error() || status.is_server_error() {
            Reading::Failure
        } else if content_type.starts_with("text/event-stream") {
            Reading::Events
        } else if content_type.contains("json") {
            Reading::Json
        } else {
            Reading::Nothing
        };
        // Only the older transport's stream opens without a session header; a Streamable HTTP
        // stream never carries an endpoint event, so it is never held back.
        let rewrite =
            matches!(reading, Reading::Events) && parts.method == Method::GET && session.is_none();
        let mut headers = HeaderMap::new();
        let drops: &[&str] = if rewrite {
            RESPONSE_DROPS_REWRITTEN
        } else {
            RESPONSE_DROPS
        };
        copy_headers(&head.headers, &mut headers, drops);
        head.headers = headers;
        let (tx, rx) = mpsc::channel(16);
        let relay = Relay {
            proxy: self.clone(),
            reading,
            rewrite,
            channel,
            method: parts.method,
            path: path.to_owned(),
            status,
            content_type,
        };
        tokio::spawn(relay.run(body, tx));
        Response::from_parts(head, ChannelBody { rx }.boxed())
    }
}

/// One answer on its way from the server to the client, read for the record as it passes.
struct Relay {
    proxy: Arc<Proxy>,
    reading: Reading,
    rewrite: bool,
    channel: u32,
    method: Method,
    path: String,
    status: StatusCode,
    content_type: String,
}

impl Relay {
    async fn run(mut self, mut body: Incoming, tx: mpsc::Sender<Result<Frame<Bytes>, BoxError>>) {
        let mut parser = SseParser::new();
        let upstream = self.proxy.upstream.clone();
        let stream_path = self.path.clone();
        let mut rewriter = EndpointRewriter::new(move |data: &str| {
            upstream.endpoint_for_client(data, &stream_path)
        });
        let mut kept = Vec::new();
        let mut events = Vec::new();
        loop {
            // A client that goes away while the server is quiet closes the server's stream too,
            // rather than holding it until the server next speaks.
            let next = tokio::select! {
                next = body.frame() => next,
                () = tx.closed() => return,
            };
            let frame = match next {
                None => break,
                Some(Ok(frame)) => frame,
                Some(Err(e)) => {
                    let mut data = http_fields(&self.method, &self.path, self.channel);
                    data.insert(
                        "error".into(),
                        format!("the server's answer broke off: {e}").into(),
                    );
                    self.proxy.record_problem(data).await;
                    let _ = tx.send(Err(Box::new(e))).await;
                    return;
                }
            };
            let frame = match frame.into_data() {
                Ok(data) => {
                    match self.reading {
                        Reading::Events => {
                            parser.push(&data, |event| events.push(event));
                            for event in events.drain(..) {
                                self.event(event.event, event.data).await;
                            }
                        }
                        Reading::Json | Reading::Failure => {
                            let room = MAX_RECORDED_BODY.saturating_sub(kept.len());
                            kept.extend_from_slice(&data[..data.len().min(room)]);
                        }
                        Reading::Nothing => {}
                    }
                    let data = if self.rewrite {
                        rewriter.push(data)
                    } else {
                        data
                    };
                    if data.is_empty() {
                        continue;
                    }
                    Frame::data(data)
                }
                Err(frame) => frame,
            };
            if tx.send(Ok(frame)).await.is_err() {
                // The client has gone; so does the stream from the server.
                return;
            }
        }
        if self.rewrite {
            let rest = rewriter.finish();
            if !rest.is_empty() {
                let _ = tx.send(Ok(Frame::data(rest))).await;
            }
        }
        drop(tx);
        self.finish(&kept).await;
    }

    /// Records one event of a stream.
    async fn event(&mut self, name: String, data: String) {
        if name == "endpoint" {
            // The older transport's session is the path the client is told to post to.
            let path = self
                .proxy
                .upstream
                .endpoint_for_client(&data, &self.path)
                .unwrap_or_else(|| data.trim().to_owned());
            self.channel = self.proxy.channel(Some(&path));
            return;
        }
        if name != "message" || data.is_empty() {
            return;
        }
        let at = (self.proxy.clock)();
        self.proxy
            .record(Note::Message {
                channel: self.channel,
                direction: Direction::ServerToClient,
                body: data.into_bytes(),
                at,
            })
            .await;
    }

    /// Records a body read whole: a JSON answer, or what an HTTP error said.
    async fn finish(&self, body: &[u8]) {
        let at = (self.proxy.clock)();
        match self.reading {
            Reading::Json if !body.is_empty() => {
                self.proxy
                    .record(Note::Message {
                        channel: self.channel,
                        direction: Direction::ServerToClient,
                        body: body.to_vec(),
                        at,
                    })
                    .await;
            }
            Reading::Failure => {
                let rpc = self.content_type.contains("json")
                    && serde_json::from_slice::<Value>(body)
                        .is_ok_and(|v| v.get("jsonrpc").is_some() && v.get("error").is_some());
                if rpc {
                    self.proxy
                        .record(Note::Message {
                            channel: self.channel,
                            direction: Direction::ServerToClient,
                            body: body.to_vec(),
                            at,
                        })
                        .await;
                    return;
                }
                let mut data = http_fields(&self.method, &self.path, self.channel);
                data.insert("direction".into(), "server_to_client".into());
                data.insert("status".into(), self.status.as_u16().into());
                let reason = self.status.canonical_reason().unwrap_or("error");
                data.insert(
                    "error".into(),
                    format!("HTTP {} {reason}", self.status.as_u16()).into(),
                );
                if !body.is_empty() {
                    let text = String::from_utf8_lossy(&body[..body.len().min(2048)]);
                    data.insert("body".into(), text.into_owned().into());
                }
                self.proxy.record_problem(data).await;
            }
            _ => {}
        }
    }
}

/// Request headers not forwarded: hop-by-hop ones, the Host (the server's own is sent), the
/// length (the body is sent whole) and Accept-Encoding (so the answer can be read).
const REQUEST_DROPS: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "accept-encoding",
];
/// Answer headers not passed back: hop-by-hop ones.
const RESPONSE_DROPS: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];
/// When the endpoint event is rewritten, the length changes too.
const RESPONSE_DROPS_REWRITTEN: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

/// Copies headers but for `drops` and those the Connection header names as hop-by-hop.
fn copy_headers(from: &HeaderMap, to: &mut HeaderMap, drops: &[&str]) {
    let named: Vec<String> = from
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    for (name, value) in from {
        let name_str = name.as_str();
        if drops.contains(&name_str) || named.iter().any(|n| n == name_str) {
            continue;
        }
        to.append(name.clone(), value.clone());
    }
}

/// The fields that say which HTTP exchange an event is about (never its query, which may carry
/// a key, nor its headers).
fn http_fields(method: &Method, path: &str, channel: u32) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("direction".into(), "client_to_server".into());
    data.insert("http_method".into(), method.as_str().into());
    data.insert("path".into(), path.into());
    if channel != 0 {
        data.insert("mcp_session".into(), channel.into());
    }
    data
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn plain(status: StatusCode, text: &str) -> Response<ProxyBody> {
    let mut response = Response::new(
        Full::new(Bytes::from(format!("{text}\n")))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// An answer's body fed by the relay task.
struct ChannelBody {
    rx: mpsc::Receiver<Result<Frame<Bytes>, BoxError>>,
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.rx.poll_recv(cx)
    }
}

/// A proxy ready to serve: bound, so its address is known before it runs, and already
/// listening for the signals that stop it.
pub struct HttpProxy {
    runtime: tokio::runtime::Runtime,
    listener: TcpListener,
    stop: Stop,
    upstream: Upstream,
    recorder: Option<McpRecorder>,
    clock: fn() -> f64,
}

/// SIGTERM, SIGINT and SIGHUP end the proxy cleanly.
struct Stop {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Stop {
    fn new() -> io::Result<Stop> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Stop {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    async fn wait(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
            _ = self.hup.recv() => {}
        }
    }
}

impl HttpProxy {
    /// Binds `listen` (port 0 picks a free one).
    pub fn bind(
        listen: SocketAddr,
        upstream: Upstream,
        clock: fn() -> f64,
    ) -> io::Result<HttpProxy> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (listener, stop) = {
            let _context = runtime.enter();
            let listener = std::net::TcpListener::bind(listen)?;
            listener.set_nonblocking(true)?;
            (TcpListener::from_std(listener)?, Stop::new()?)
        };
        Ok(HttpProxy {
            runtime,
            listener,
            stop,
            upstream,
            recorder: None,
            clock,
        })
    }

    /// Records what passes with `recorder`.
    pub fn record_with(&mut self, recorder: McpRecorder) {
        self.recorder = Some(recorder);
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until SIGINT, SIGTERM or SIGHUP, then records the end of the session.
    pub fn serve(self) -> io::Result<()> {
        let client = UpstreamClient::new(self.upstream.is_tls())?;
        let (tx, rx) = mpsc::channel(RECORD_QUEUE);
        let recording = self.recorder.is_some();
        let writer = self
            .recorder
            .map(|recorder| std::thread::spawn(move || recording::run(recorder, rx)));
        let clock = self.clock;
        let proxy = Arc::new(Proxy {
            upstream: self.upstream,
            client,
            record: recording.then(|| tx.clone()),
            channels: Mutex::new(HashMap::new()),
            clock,
        });
        let (listener, mut stop) = (self.listener, self.stop);
        self.runtime.block_on(async move {
            tokio::select! {
                () = accept(listener, proxy) => {}
                () = stop.wait() => {}
            }
        });
        if recording {
            let end = Note::End {
                exit_code: None,
                at: clock(),
            };
            let _ = tx.blocking_send(end);
        }
        drop(tx);
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        // Streams still open end with the runtime.
        self.runtime.shutdown_background();
        Ok(())
    }
}

async fn accept(listener: TcpListener, proxy: Arc<Proxy>) {
    let mut failing = false;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => {
                failing = false;
                stream
            }
            Err(e) => {
                // Out of file descriptors, say: note it once, wait a little, go on.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                if std::mem::replace(&mut failing, true) {
                    continue;
                }
                let mut data = Map::new();
                data.insert(
                    "error".into(),
                    format!("cannot accept a connection: {e}").into(),
                );
                proxy.record_problem(data).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let proxy = proxy.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let proxy = proxy.clone();
                async move { Ok::<_, Infallible>(proxy.handle(request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
