//! The collector (`agent-strace server`): an HTTP server that takes the events of many machines'
//! hooks and proxies into one store, the same store local capture writes, so that every command
//! works on it.
//!
//! # Architecture
//! - [`routes`]: the table of every route (method, path pattern, handler, who may call it).
//!   Routes are added there and nowhere else.
//! - [`ingest`]: what writes (`POST /events`, `POST /sessions`, `POST /hooks`), through the
//!   store's appenders and the capture [`Sink`], so ids, counters, meta, redaction and locking
//!   are those of local capture.
//! - [`recent`]: which events were stored, so that a batch sent again stores none twice.
//! - [`read`]: what reads (`GET /sessions`, `GET /sessions/{id}`, `GET /sessions/{id}/events`,
//!   `GET /health`).
//! - [`otlp`]: the OTLP/HTTP receiver (`POST /v1/traces`, `/v1/logs`, `/v1/metrics`).
//! - [`guard`]: bearer-token checks (constant time) and the per-client rate limit.
//! - [`clients`]: the connections each client address holds open, at most
//!   [`Settings::connections_per_client`].
//! - here: the listener, the request pipeline (host, auth, rate limit, route, media type, body
//!   limit, room for the request, handler on a handler thread) and the graceful shutdown.
//! - [`stall`]: a connection's socket, which gives up on a client that takes nothing of its
//!   response for [`Settings::stall`].
//! - [`pool`]: the handler threads, and the room: the bytes of requests in flight are bounded,
//!   and a request beyond them is answered 503 with `Retry-After`.
//!
//! Durability: a handler answers 2xx only after every event it accepted was written to its
//! session's file (`write(2)` returned), so an accepted event survives the collector being
//! killed; with [`Settings::fsync`] it is also flushed to the disk (`fdatasync`) first, so it
//! survives a power cut. SIGTERM and SIGINT stop the listener at once, let every request that
//! has begun finish and answer, then exit.

mod clients;
pub mod guard;
pub mod ingest;
pub mod otlp;
mod pool;
pub mod read;
pub mod recent;
pub mod routes;
pub(crate) mod stall;

use crate::capture::stop::{self, Stop};
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::SignalKind;

use bytes::Bytes;
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Frame;
use hyper::body::Incoming;
use hyper::header::{
    CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, EXPECT, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE,
};
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::capture::sink::Sink;
use crate::store::Store;
use routes::Work;
pub use routes::{Reply, Request};

/// What the command line decided.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The bearer token every request but `GET /health` must carry; `None`: no auth.
    pub token: Option<String>,
    /// Answer only requests that name this machine as their host (the collector listens on
    /// loopback): a request naming another reached it by DNS rebinding, from a web page.
    pub local_only: bool,
    /// The names besides this machine's that such a collector answers (`--allow-host`): those
    /// a proxy in front of it passes on.
    pub allowed_hosts: Vec<String>,
    /// The largest request body taken, in bytes.
    pub max_body: usize,
    /// Requests a second one client address may make (with a burst of twice as many); 0 for
    /// no limit.
    pub rate_limit: u32,
    /// Connections one client address may hold open at once (more are answered 503 and
    /// closed); 0 for no limit.
    pub connections_per_client: usize,
    /// `fdatasync` the events a request wrote before answering it.
    pub fsync: bool,
    /// How long requests in flight may take to finish once a stop signal came.
    pub grace: Duration,
    /// How long a response may wait with not a byte taken by the client's socket before the
    /// connection is closed ([`STALL_WAIT`] but in tests).
    pub stall: Duration,
    /// How many of the events it took the collector knows by their ids
    /// ([`recent::MAX_IDS`] but in tests).
    pub remembered_ids: usize,
}

/// How long a response may make no progress (not a byte of it taken by the socket, the
/// client reading nothing) before its connection is closed: a client that asks for a large
/// session and never reads must not hold a descriptor and the session's file for ever, nor
/// many such clients every descriptor. Generous, so that a slow link or a paused reader is
/// not cut off.
pub const STALL_WAIT: Duration = Duration::from_secs(30);

/// How many connections one client address may hold open by default: far more than the hooks
/// and proxies of one machine, or of an office behind one address, have open at once (a hook
/// holds one for a few milliseconds), and far fewer than the descriptors a process is given
/// (1,024 by default), so that one client can never take them all.
pub const CONNECTIONS_PER_CLIENT: usize = 128;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            token: None,
            local_only: true,
            allowed_hosts: Vec::new(),
            max_body: 16 * 1024 * 1024,
            rate_limit: 1000,
            connections_per_client: CONNECTIONS_PER_CLIENT,
            fsync: false,
            grace: Duration::from_secs(30),
            stall: STALL_WAIT,
            remembered_ids: recent::MAX_IDS,
        }
    }
}

/// What the collector accepted and wrote, told to whoever passes it on (`--forward-otlp`).
#[derive(Debug, Clone)]
pub enum Accepted {
    /// Events of a session were written.
    Session(String),
    /// An OTLP request was taken (as protobuf, whatever its encoding), and the sessions it wrote
    /// to.
    Otlp {
        kind: crate::capture::otlp::Kind,
        protobuf: Vec<u8>,
        sessions: Vec<String>,
    },
}

/// Takes what the collector accepted; must never block (it runs before the answer).
pub type OnAccepted = Box<dyn Fn(Accepted) + Send + Sync>;

/// What every handler shares: the store, the sink events go through, the settings, and where
/// the collector's log lines go (the command's stderr).
pub struct Collector {
    pub store: Store,
    pub sink: Sink,
    pub settings: Settings,
    /// The budget of requests that carry the token.
    limiter: guard::RateLimiter,
    /// The budget of requests that do not (a wrong token, none, or `/health`), per client as
    /// well, apart from the other: they never use up a client's.
    strangers: guard::RateLimiter,
    /// What `POST /events` stored, by session and event id.
    pub recent: recent::Recent,
    log: fn(&str),
    on_accepted: Option<OnAccepted>,
}

impl Collector {
    pub fn new(store: Store, sink: Sink, settings: Settings, log: fn(&str)) -> Collector {
        let limiter = guard::RateLimiter::new(settings.rate_limit);
        let strangers = guard::RateLimiter::new(settings.rate_limit);
        let recent = recent::Recent::new(settings.remembered_ids);
        Collector {
            store,
            sink,
            settings,
            limiter,
            strangers,
            recent,
            log,
            on_accepted: None,
        }
    }

    /// The same collector telling `on_accepted` what it accepts.
    #[must_use]
    pub fn on_accepted(mut self, on_accepted: OnAccepted) -> Collector {
        self.on_accepted = Some(on_accepted);
        self
    }

    /// Tells the forwarder, if any, what was accepted.
    pub fn accepted(&self, what: Accepted) {
        if let Some(tell) = &self.on_accepted {
            tell(what);
        }
    }

    /// One line in the collector's log.
    pub fn log(&self, line: &str) {
        (self.log)(line);
    }
}

/// Why a server could not start.
#[derive(Debug)]
pub enum BindError {
    /// The OS gave not even one thread to handle requests (a limit on processes or memory).
    Threads(io::Error),
    /// The address could not be listened on (taken, not this machine's, not allowed).
    Listen(io::Error),
}

impl std::fmt::Display for BindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BindError::Threads(e) => write!(f, "cannot start a thread to handle requests: {e}"),
            BindError::Listen(e) => write!(f, "cannot listen: {e}"),
        }
    }
}

/// A collector bound to its address (so the port is known before it serves), already
/// listening for the signals that stop it.
pub struct Server {
    runtime: tokio::runtime::Runtime,
    listener: TcpListener,
    stop: Stop,
    collector: Arc<Collector>,
    handlers: Arc<pool::Pool>,
}

/// How long a request's body may take to arrive once its room is taken.
const BODY_WAIT: Duration = Duration::from_secs(10);

/// How long a request's head (its line and headers) may take to arrive, and an open
/// connection may wait for its next request: a client that opens connections and sends
/// nothing, or a few bytes at a time (slowloris), must not hold the collector's file
/// descriptors until none is left for the hooks.
const HEAD_WAIT: Duration = Duration::from_secs(10);

/// Threads that run handlers (parsing, scrubbing and writing events), started with the
/// server, so the connections' thread never waits on a disk.
const HANDLER_THREADS: usize = 8;

impl Server {
    /// Starts the handler threads and binds `listen` (port 0 picks a free one).
    pub fn bind(listen: SocketAddr, collector: Collector) -> Result<Server, BindError> {
        let handlers = pool::Pool::start(HANDLER_THREADS).map_err(BindError::Threads)?;
        if handlers.threads() < HANDLER_THREADS {
            collector.log(&format!(
                "only {} of {HANDLER_THREADS} threads to handle requests could be started: requests wait their turn",
                handlers.threads()
            ));
        }
        Self::listen(listen, collector, handlers).map_err(BindError::Listen)
    }

    fn listen(
        listen: SocketAddr,
        collector: Collector,
        handlers: pool::Pool,
    ) -> io::Result<Server> {
        let (runtime, listener, stop) =
            stop::listen_until(listen, &[SignalKind::terminate(), SignalKind::interrupt()])?;
        Ok(Server {
            runtime,
            listener,
            stop,
            collector: Arc::new(collector),
            handlers: Arc::new(handlers),
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until SIGTERM or SIGINT; then stops listening, lets the requests that have begun
    /// finish (for at most the grace period) and returns.
    pub fn serve(self) -> io::Result<()> {
        let Server {
            runtime,
            listener,
            mut stop,
            collector,
            handlers,
        } = self;
        let grace = collector.settings.grace;
        let log = collector.log;
        runtime.block_on(async move {
            // Every connection holds a sender; when the last is dropped they have all ended.
            let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<()>(1);
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            tokio::select! {
                () = accept(listener, collector, handlers, done_tx, stop_rx) => {}
                () = stop.wait() => {}
            }
            // The listener is dropped with the accept loop: new connections are refused.
            let _ = stop_tx.send(true);
            if tokio::time::timeout(grace, done_rx.recv()).await.is_err() {
                log("stopping: requests still running after the grace period were cut off");
            }
        });
        runtime.shutdown_timeout(Duration::from_secs(1));
        Ok(())
    }
}

async fn accept(
    listener: TcpListener,
    collector: Arc<Collector>,
    handlers: Arc<pool::Pool>,
    done: tokio::sync::mpsc::Sender<()>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut burst = crate::capture::burst::Burst::default();
    let clients = clients::Clients::new(collector.settings.connections_per_client);
    let mut turned_away = crate::capture::burst::Burst::default();
    let turning_away = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => {
                if let Some(unsaid) = burst.ended() {
                    collector.log(&crate::capture::burst::accepting_again(unsaid));
                }
                accepted
            }
            Err(e) => {
                // Out of file descriptors, say: log it once (then once a minute, counted),
                // wait a little, go on.
                let what = format!("cannot accept a connection: {e}");
                if let Some(line) = burst.failed(&what, std::time::Instant::now()) {
                    collector.log(&line);
                }
                tokio::time::sleep(crate::capture::burst::ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let Some(held) = clients.open(peer.ip()) else {
            turn_away(stream, &turning_away, &handlers);
            let what = format!(
                "turning away connections of {}: it holds {} open already (--connections-per-client)",
                peer.ip(),
                collector.settings.connections_per_client
            );
            // Said once a minute at most, with the count: never once a connection, and not
            // again each time another client's connection comes between two turned away.
            if let Some(line) = turned_away.failed(&what, std::time::Instant::now()) {
                collector.log(&line);
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (stream, stalled) = stall::Stalling::new(stream, collector.settings.stall);
        let collector = collector.clone();
        let handlers = handlers.clone();
        let done = done.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let log = collector.clone();
            let service = hyper::service::service_fn(move |request| {
                let collector = collector.clone();
                let handlers = handlers.clone();
                async move { Ok::<_, Infallible>(handle(&collector, &handlers, peer, request).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEAD_WAIT)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let stopped = tokio::select! {
                _ = connection.as_mut() => false,
                _ = stop.wait_for(|stopped| *stopped) => true,
            };
            if stopped {
                // A request under way finishes and is answered; an idle connection closes.
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
            if stalled.load(std::sync::atomic::Ordering::Relaxed) {
                log.log(&format!(
                    "closed the connection of {peer}: it took nothing of its response for {} s",
                    log.settings.stall.as_secs_f64()
                ));
            }
            drop(held);
            drop(done);
        });
    }
}

/// Connections being turned away at once, each for at most [`TURN_AWAY_WAIT`]; past them, a
/// connection is closed unanswered.
const TURNING_AWAY_MOST: usize = 64;

/// How long a connection turned away is given to send its request and take the answer.
const TURN_AWAY_WAIT: Duration = Duration::from_secs(1);

/// Answers the requests of a connection its client has no room for with a 503 and
/// `Retry-After`, then closes it: a hook told so records its event in its own store. The
/// request is read first, as a server does, for a client that sees an answer before it has sent
/// its request cannot tell whether it was taken. Never waits in the accept loop, holds such a
/// connection [`TURN_AWAY_WAIT`] at most, and never more than [`TURNING_AWAY_MOST`] of them
/// (past them, a connection is closed at once).
fn turn_away(
    stream: tokio::net::TcpStream,
    turning_away: &Arc<std::sync::atomic::AtomicUsize>,
    handlers: &Arc<pool::Pool>,
) {
    use std::sync::atomic::Ordering;
    if turning_away.fetch_add(1, Ordering::Relaxed) >= TURNING_AWAY_MOST {
        turning_away.fetch_sub(1, Ordering::Relaxed);
        return;
    }
    let turning_away = turning_away.clone();
    let handlers = handlers.clone();
    tokio::spawn(async move {
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let handlers = handlers.clone();
            async move {
                let reply = Reply::error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "this client holds too many connections already",
                )
                .with_header(RETRY_AFTER, HeaderValue::from(1))
                .with_header(CONNECTION, HeaderValue::from_static("close"));
                let reply = refused(request.into_body(), 0, reply).await;
                Ok::<_, Infallible>(reply.into_response(&handlers))
            }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .keep_alive(false)
            .serve_connection(TokioIo::new(stream), service);
        let _ = tokio::time::timeout(TURN_AWAY_WAIT, connection).await;
        turning_away.fetch_sub(1, Ordering::Relaxed);
    });
}

/// The pipeline every request goes through: host, auth, rate limit, route, media type, body
/// limit, room, handler.
async fn handle(
    collector: &Arc<Collector>,
    handlers: &Arc<pool::Pool>,
    peer: SocketAddr,
    request: hyper::Request<Incoming>,
) -> Response<Body> {
    let reply = pipeline(collector, handlers, peer, request).await;
    reply.into_response(handlers)
}

/// A response's body: whole, or sent a piece at a time as a handler makes them.
type Body = Either<Full<Bytes>, Streamed>;

/// The pieces of a body as [`send_pieces`] hands them over.
struct Streamed(tokio::sync::mpsc::Receiver<Result<Bytes, io::Error>>);

impl hyper::body::Body for Streamed {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|piece| piece.map(|piece| piece.map(Frame::data)))
    }
}

/// Makes each piece of `pieces` on a handler thread and hands it to the connection, the next
/// only once the connection has taken it: a client that reads slowly holds a piece or two,
/// never the whole body, and holds no handler thread between pieces. Ends when the pieces do
/// or the client has gone.
async fn send_pieces(
    handlers: Arc<pool::Pool>,
    mut pieces: routes::Pieces,
    to: tokio::sync::mpsc::Sender<Result<Bytes, io::Error>>,
) {
    loop {
        let Some((piece, rest)) = handlers
            .run(move || {
                let piece = pieces();
                (piece, pieces)
            })
            .await
        else {
            // The handler panicked: the body is cut off, and the client sees it was.
            let _ = to
                .send(Err(io::Error::other("the response could not be made")))
                .await;
            return;
        };
        pieces = rest;
        let Some(piece) = piece else { return };
        if to.send(Ok(Bytes::from(piece))).await.is_err() {
            return;
        }
    }
}

/// 429, with when to try again (whole seconds, at least 1).
fn too_many(wait: Duration) -> Reply {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Reply::error(StatusCode::TOO_MANY_REQUESTS, "too many requests")
        .with_header(RETRY_AFTER, HeaderValue::from(seconds.max(1)))
}

async fn pipeline(
    collector: &Arc<Collector>,
    handlers: &pool::Pool,
    peer: SocketAddr,
    request: hyper::Request<Incoming>,
) -> Reply {
    if collector.settings.local_only
        && !crate::capture::local_host::addressed_to_this_machine(
            request.uri(),
            request.headers(),
            &collector.settings.allowed_hosts,
        )
    {
        // On the budget of requests that are no client's, so that a page flooding the
        // collector floods neither it nor its log.
        if let Err(wait) = collector.strangers.take(peer.ip()) {
            return too_many(wait);
        }
        let host = request
            .headers()
            .get(hyper::header::HOST)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        collector.log(&format!(
            "refused {} {} from {peer}: it names another host ({}) than this machine, which a \
             web page reaching the collector by DNS rebinding does (a proxy in front that passes \
             its own host on needs --allow-host)",
            request.method(),
            guard::shown(request.uri().path()),
            guard::shown(host.as_deref().unwrap_or_default())
        ));
        let reply = Reply::error(
            StatusCode::FORBIDDEN,
            "this collector answers requests addressed to this machine (localhost, 127.0.0.1, \
             [::1]) or to the names it is told to (--allow-host) only",
        );
        return refused(request.into_body(), collector.settings.max_body, reply).await;
    }
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let max = collector.settings.max_body;
    let found = routes::route(&parts.method, &path);
    let public = found.as_ref().is_ok_and(|(route, _)| route.public());
    // The token first, whatever the path (a wrong token is told so, not that a path is
    // unknown), then the rate limit: requests that carry the token (all of them, without
    // one) draw on their client's budget, and the others on a budget of their own, so that
    // requests with a wrong token or none, from the same address, cannot use up a client's.
    let refusal = match &collector.settings.token {
        Some(token) if !public => guard::check_bearer(&parts.headers, token).err(),
        _ => None,
    };
    let trusted = collector.settings.token.is_none() || (!public && refusal.is_none());
    let limiter = if trusted {
        &collector.limiter
    } else {
        &collector.strangers
    };
    if let Err(wait) = limiter.take(peer.ip()) {
        return too_many(wait);
    }
    if let Some(why) = refusal {
        collector.log(&format!(
            "refused {} {} from {peer}: {why}",
            parts.method,
            guard::shown(&path)
        ));
        let reply = Reply::error(StatusCode::UNAUTHORIZED, "Unauthorized")
            .with_header(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return refused(body, max, reply).await;
    }
    let (route, params) = match found {
        Ok(found) => found,
        Err(reply) => return refused(body, max, reply).await,
    };
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !route.media.takes(content_type) {
        let reply = Reply::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("the body must be {}", route.media.named()),
        );
        return refused(body, max, reply).await;
    }
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(declared) = declared.filter(|n| *n > max as u64) {
        // A client that waits for `100 Continue` sends nothing once answered; one whose body
        // goes past what is read of a refused body would be reset mid-way whatever is read.
        let expects = parts.headers.contains_key(EXPECT);
        if expects || declared > max as u64 + DISCARD_BYTES {
            return too_large(max);
        }
        return refused(body, max, too_large(max)).await;
    }
    let request = |body| Request {
        peer,
        method: parts.method,
        path,
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        params,
        body,
    };
    let handler = route.handler;
    if route.work == Work::Instant {
        // Answered at once, whatever is in flight; a body it does not read is not kept.
        let reply = handler(collector, &request(Bytes::new()));
        return refused(body, max, reply).await;
    }
    // Room for the body before it is read: without a declared length, the largest it may be.
    let Some(admitted) = handlers.admit(declared.unwrap_or(max as u64)) else {
        let reply = Reply::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many requests in flight; try again",
        )
        .with_header(RETRY_AFTER, HeaderValue::from(1));
        return refused(body, max, reply).await;
    };
    // A body must come within BODY_WAIT: a client that holds its room and sends nothing
    // (or sleeps mid-upload) must not keep others out for longer.
    let mut body = body;
    let body = match tokio::time::timeout(BODY_WAIT, read_body(&mut body, max, declared)).await {
        Ok(Ok(body)) => body,
        Ok(Err(Cut::TooLarge)) => {
            // Its room is given back before the rest is read and dropped.
            drop(admitted);
            return refused(body, max, too_large(max)).await;
        }
        Ok(Err(Cut::Broken)) => {
            return Reply::error(StatusCode::BAD_REQUEST, "the request body was cut off");
        }
        Err(_) => {
            return Reply::error(
                StatusCode::REQUEST_TIMEOUT,
                "the request body did not come in time",
            );
        }
    };
    let request = request(body);
    let collector = collector.clone();
    let reply = handlers.run(move || handler(&collector, &request)).await;
    drop(admitted);
    match reply {
        Some(reply) => reply,
        None => Reply::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the request could not be handled",
        ),
    }
}

/// Why a body was not read whole.
enum Cut {
    /// It went past the limit.
    TooLarge,
    /// The connection failed or the framing was wrong.
    Broken,
}

/// The whole body, if it holds at most `max` bytes; room for the `declared` length is taken
/// at once, so that a body never holds twice its size while it grows.
async fn read_body(body: &mut Incoming, max: usize, declared: Option<u64>) -> Result<Bytes, Cut> {
    let capacity = declared.map_or(0, |n| usize::try_from(n).unwrap_or(max).min(max));
    let mut read = bytes::BytesMut::with_capacity(capacity);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| Cut::Broken)?;
        if let Some(data) = frame.data_ref() {
            if read.len() + data.len() > max {
                return Err(Cut::TooLarge);
            }
            read.extend_from_slice(data);
        }
    }
    Ok(read.freeze())
}

/// How much of a refused body is read and dropped past `--max-body`, at most.
const DISCARD_BYTES: u64 = 64 * 1024 * 1024;

/// `reply` to a request refused before its body was read whole, once the rest of the body (at
/// most `max` + [`DISCARD_BYTES`] bytes, for at most [`BODY_WAIT`]) has been read and dropped.
/// Closing with a body unread makes the kernel reset the connection, and a client still sending
/// would get a broken pipe instead of the answer that says why. Each piece is dropped as it
/// comes, so a refused request holds no memory however many there are. A body left unread past
/// that bound closes the connection after the answer (`Connection: close`).
async fn refused(mut body: Incoming, max: usize, reply: Reply) -> Reply {
    let bound = max as u64 + DISCARD_BYTES;
    let drain = async {
        let mut read = 0u64;
        while read <= bound {
            match body.frame().await {
                Some(Ok(frame)) => read += frame.data_ref().map_or(0, |d| d.len() as u64),
                Some(Err(_)) | None => return true,
            }
        }
        false
    };
    let ended = tokio::time::timeout(BODY_WAIT, drain)
        .await
        .unwrap_or(false);
    if ended {
        reply
    } else {
        reply.with_header(CONNECTION, HeaderValue::from_static("close"))
    }
}

/// 413, and the connection closed after it: what is left of the body is not read.
fn too_large(max: usize) -> Reply {
    Reply::error(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("the request body is larger than {max} bytes"),
    )
    .with_header(CONNECTION, HeaderValue::from_static("close"))
}

impl Reply {
    fn into_response(self, handlers: &Arc<pool::Pool>) -> Response<Body> {
        let body = match self.pieces {
            None => Either::Left(Full::new(Bytes::from(self.body))),
            Some(pieces) => {
                let (to, from) = tokio::sync::mpsc::channel(1);
                if !self.body.is_empty() {
                    let _ = to.try_send(Ok(Bytes::from(self.body)));
                }
                tokio::spawn(send_pieces(handlers.clone(), pieces, to));
                Either::Right(Streamed(from))
            }
        };
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}
