//! One exchange through the HTTP proxy: the request forwarded with its headers, its answer relayed
//! as it comes, and a copy of each JSON-RPC message in either direction for the recorder.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::upstream::{Upstream, UpstreamClient};
use crate::capture::proxy::cut::SCRUB_MARGIN;
use crate::capture::proxy::enforce::Enforcer;
use crate::capture::proxy::gather::{Gathered, Message};
use crate::capture::proxy::mcp::{Direction, event_head};
use crate::capture::proxy::queue::Sender;
use crate::capture::proxy::recording::Note;
use crate::capture::proxy::sse::{EndpointRewriter, SseEvent, SseParser};
use crate::model::EventType;
use crate::model::view::cut_marker;

/// Most of the older transport's requests whose answers a stream waits for when the proxy
/// stops.
const MOST_AWAITED: usize = 4096;

/// The largest answer read whole before it is sent on; a larger one (or one of unknown size)
/// is relayed as it comes, and recorded as the stdio proxy records a message that large.
const MAX_WHOLE: usize = crate::capture::proxy::framing::MAX_WHOLE;

/// The largest request body held whole with a policy in force, which judges a request whole
/// (its arguments may name a path or a command anywhere): the stdio proxy's bound. A larger one
/// is refused (413). Without a policy, a body over [`MAX_WHOLE`] is relayed as it comes and
/// recorded from a cut copy, so that memory stays flat whatever its size: held whole, a body
/// without end (a chunked stream, a `Content-Length` of terabytes) once grew the proxy until
/// the system killed it, and the agent's MCP traffic with it.
const MAX_JUDGED: usize = crate::capture::proxy::gate::MAX_JUDGED;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub(super) type ProxyBody = BoxBody<Bytes, BoxError>;

/// A request's body as the proxy takes it.
enum RequestBody {
    /// Read whole: small enough to hold, or to judge.
    Whole(Bytes),
    /// Too large to hold: relayed as it comes.
    Streaming(Streaming),
}

/// A request body too large to hold: what was read of it, and the rest still coming.
struct Streaming {
    start: Vec<Bytes>,
    rest: Incoming,
    /// Its length, when the client said it (`Content-Length`): the server is told it too.
    length: Option<u64>,
}

/// One running proxy.
pub(super) struct Proxy {
    /// Turns true when a signal to stop came.
    pub(super) stopping: tokio::sync::watch::Receiver<bool>,
    /// The connections and answers under way, which the end waits for.
    pub(super) underway: Arc<super::Exchanges>,
    pub(super) upstream: Upstream,
    pub(super) client: UpstreamClient,
    /// The recorder's queue, which never makes the relay wait ([`Sender::offer`]).
    pub(super) record: Option<Sender>,
    /// The MCP sessions seen, numbered in the order they appeared (Mcp-Session-Id values, or the
    /// older transport's message paths). Kept in memory only: a session id is a credential.
    pub(super) channels: Mutex<HashMap<String, u32>>,
    /// How many MCP sessions have been numbered.
    pub(super) channels_seen: std::sync::atomic::AtomicU32,
    /// The older transport's event streams open now, by session: where an answer of ours to a
    /// message posted in that session goes, as an event among the server's.
    pub(super) streams: Mutex<HashMap<u32, mpsc::UnboundedSender<Bytes>>>,
    /// The older transport's requests forwarded and not yet answered on their session's
    /// stream, by session and id: a stream that carries an answer still to come does not end
    /// when the proxy stops, until it has come (or the drain's time is up).
    pub(super) awaiting: Mutex<std::collections::HashSet<(u32, String)>>,
    /// The older transport's requests not yet forwarded (their bodies still coming, say), by
    /// session: a stream waits for them as it waits for the answers in `awaiting`, since the
    /// answers they will have are not known yet.
    pub(super) posting: Mutex<HashMap<u32, usize>>,
    /// How many requests whose ids could not be read were noted in `awaiting`.
    pub(super) unread_seen: std::sync::atomic::AtomicU64,
    /// Told when an older transport's stream may have nothing more to wait for.
    pub(super) settled: tokio::sync::watch::Sender<()>,
    /// The policy in force, if any.
    pub(super) enforcer: Option<Enforcer>,
    pub(super) clock: fn() -> f64,
    /// How long a request's body may take to arrive, whole.
    pub(super) wait: std::time::Duration,
    /// Where the proxy says what the user should know.
    pub(super) report: fn(&str),
}

/// What the ids a request of the older transport is awaited under start with when its own
/// could not be read. A JSON id, as text, is a number or starts with a quote.
const UNREAD: &str = "?";

/// A request of the older transport under way: while it is, its session's stream does not end.
struct Posting {
    proxy: Arc<Proxy>,
    channel: u32,
}

impl Drop for Posting {
    fn drop(&mut self) {
        let mut posting = self
            .proxy
            .posting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = posting.get_mut(&self.channel) {
            *n -= 1;
            if *n == 0 {
                posting.remove(&self.channel);
            }
        }
        drop(posting);
        self.proxy.settled.send_replace(());
    }
}

/// The note for one message of session `channel` that went `direction`.
fn message_note(channel: u32, direction: Direction, message: Message, at: f64) -> Note {
    match message {
        Message::Whole(body) => Note::Message {
            channel,
            direction,
            body,
            at,
        },
        Message::Cut(cut) => Note::Cut {
            channel,
            direction,
            cut,
            at,
        },
    }
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
        if let Some(&number) = channels.get(key) {
            return number;
        }
        let number = self
            .channels_seen
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        channels.insert(key.to_owned(), number);
        number
    }

    /// Notes (`waiting`) or forgets the requests of `body` whose answers come on the older
    /// transport's stream of session `channel`.
    fn await_answers(&self, channel: u32, ids: &[String], waiting: bool) {
        if ids.is_empty() {
            return;
        }
        let mut awaiting = self
            .awaiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for id in ids {
            let key = (channel, id.clone());
            if !waiting {
                awaiting.remove(&key);
            } else if awaiting.len() < MOST_AWAITED {
                // Past the bound (a server that answers none of a client's flood), a stream
                // waits for no more of them at the end.
                awaiting.insert(key);
            }
        }
        drop(awaiting);
        if !waiting {
            self.settled.send_replace(());
        }
    }

    /// Forgets the requests a message from the server on the older transport's stream of
    /// session `channel` answers (`ids`: `None` when it does not read as JSON). An answer to
    /// none of the requests awaited is taken for the answer to a request whose id could not be
    /// read, when one is awaited.
    fn answered(&self, channel: u32, ids: Option<Vec<String>>) {
        let mut awaiting = self
            .awaiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut unmatched = 0;
        match ids {
            None => unmatched = 1,
            Some(ids) => {
                for id in ids {
                    if !awaiting.remove(&(channel, id)) {
                        unmatched += 1;
                    }
                }
            }
        }
        for _ in 0..unmatched {
            let unread = awaiting
                .iter()
                .find(|(c, id)| *c == channel && id.starts_with(UNREAD))
                .cloned();
            match unread {
                Some(key) => awaiting.remove(&key),
                None => break,
            };
        }
        drop(awaiting);
        self.settled.send_replace(());
    }

    /// The ids a request of the older transport's session is awaited under: its requests'
    /// ids, or when it does not read as JSON, one of our own, as a server that reads it may
    /// answer it.
    fn awaited_ids(&self, ids: Option<Vec<String>>) -> Vec<String> {
        ids.unwrap_or_else(|| {
            let n = self
                .unread_seen
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            vec![format!("{UNREAD}{n}")]
        })
    }

    /// Notes a request of the older transport's session `channel` under way until the guard
    /// it returns is dropped.
    fn posting(self: &Arc<Self>, channel: u32) -> Posting {
        *self
            .posting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(channel)
            .or_default() += 1;
        Posting {
            proxy: self.clone(),
            channel,
        }
    }

    /// Whether an answer of the older transport's session `channel` is still to come.
    fn awaits_answers(&self, channel: u32) -> bool {
        let posting = self
            .posting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&channel)
            .is_some_and(|n| *n > 0);
        posting
            || self
                .awaiting
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .iter()
                .any(|(c, _)| *c == channel)
    }

    fn is_channel(&self, key: &str) -> bool {
        self.channels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains_key(key)
    }

    /// Forgets a session the client closed (its number is not given again).
    fn forget_channel(&self, key: &str) {
        self.channels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
    }

    /// Hands `note` to the recorder, never waiting for it: a note its full queue cannot take
    /// is counted, and the session says how many ([`Sender::offer`]). A recorder that has gone
    /// (it failed) takes nothing.
    fn record(&self, note: Note) {
        if let Some(tx) = &self.record {
            tx.offer(note);
        }
    }

    pub(super) fn record_problem(&self, data: Map<String, Value>) {
        self.record_event(EventType::Error, data);
    }

    /// Records that the requests `ids` of session `channel` failed with no JSON-RPC answer of
    /// their own, `data` saying how: the failure answers each of them, so that a tool call
    /// counts as failed, with its duration ([`Note::Failed`]).
    fn record_failure(&self, channel: u32, ids: Vec<String>, data: Map<String, Value>) {
        let at = (self.clock)();
        self.record(Note::Failed {
            channel,
            ids,
            data,
            at,
        });
    }

    /// Records what the transport saw that is not a message.
    fn record_event(&self, kind: EventType, data: Map<String, Value>) {
        let at = (self.clock)();
        self.record(Note::Event { kind, data, at });
    }

    /// A request's body: whole when it is small enough to hold (up to [`MAX_WHOLE`], or with a
    /// policy in force up to [`MAX_JUDGED`]), else what was read of it and the rest still
    /// coming, to be relayed as it comes. Or the answer that refuses it, recorded as an error:
    /// with a policy, a body larger than a policy is judged on (413, as `record` refuses one);
    /// a body whose start does not arrive within the proxy's wait (408) or breaks off (400).
    /// Nothing of a refused request reaches the server.
    async fn request_body(
        &self,
        parts: &hyper::http::request::Parts,
        mut body: Incoming,
    ) -> Result<RequestBody, Response<ProxyBody>> {
        let length = body.size_hint().exact();
        let judged = self.enforcer.is_some();
        let most = if judged { MAX_JUDGED } else { MAX_WHOLE };
        let too_large = || {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is larger than the {} MiB a policy is judged on; it was not forwarded",
                    MAX_JUDGED >> 20
                ),
            )
        };
        let (status, text) = if judged && length.is_some_and(|n| n > MAX_JUDGED as u64) {
            too_large()
        } else {
            let mut start = Vec::new();
            let mut size = 0;
            let reading = async {
                while let Some(frame) = body.frame().await {
                    if let Ok(data) = frame?.into_data() {
                        size += data.len();
                        start.push(data);
                        if size > most {
                            return Ok(false);
                        }
                    }
                }
                Ok::<_, hyper::Error>(true)
            };
            let read = tokio::time::timeout(self.wait, reading).await;
            match read {
                Ok(Ok(true)) => return Ok(RequestBody::Whole(joined(start, size))),
                Ok(Ok(false)) if !judged => {
                    return Ok(RequestBody::Streaming(Streaming {
                        start,
                        rest: body,
                        length,
                    }));
                }
                Ok(Ok(false)) => too_large(),
                Ok(Err(e)) => (
                    StatusCode::BAD_REQUEST,
                    format!("the request body could not be read: {e}"),
                ),
                Err(_) => (
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "the request body did not arrive within {} s; it was not forwarded",
                        self.wait.as_secs_f64()
                    ),
                ),
            }
        };
        let mut data = http_fields(
            Direction::ClientToServer,
            &parts.method,
            parts.uri.path(),
            0,
        );
        data.insert("status".into(), status.as_u16().into());
        data.insert("error".into(), text.clone().into());
        self.record_problem(data);
        let mut refused = plain(status, &format!("agent-strace: {text}"));
        // The rest of the body is not read: the connection cannot carry another request.
        refused
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        Err(refused)
    }

    /// Answers a `tools/call` the policy denied, without forwarding it, the way the transport
    /// carries answers: a JSON-RPC error in the answer to the POST (Streamable HTTP), or, for
    /// the older transport, a `message` event on the session's event stream and a 202 to the
    /// POST, as the server would have answered (a 403 carrying the error when that stream has
    /// gone).
    fn deny(&self, channel: u32, older: bool, answer: &Value) -> Response<ProxyBody> {
        let body = answer.to_string().into_bytes();
        self.record(Note::Message {
            channel,
            direction: Direction::ServerToClient,
            body: body.clone(),
            at: (self.clock)(),
        });
        if older {
            let stream = self
                .streams
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&channel)
                .cloned();
            let event = format!("event: message\ndata: {answer}\n\n");
            if stream.is_some_and(|stream| stream.send(Bytes::from(event)).is_ok()) {
                return plain(StatusCode::ACCEPTED, "Accepted");
            }
        }
        let status = if older {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::OK
        };
        json_answer(status, body)
    }

    pub(super) async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Response<ProxyBody> {
        let (parts, body) = request.into_parts();
        if !crate::capture::local_host::addressed_to_this_machine(&parts.uri, &parts.headers, &[]) {
            return plain(
                StatusCode::FORBIDDEN,
                "agent-strace: this proxy answers requests addressed to localhost, 127.0.0.1 or [::1] only",
            );
        }
        let path = parts.uri.path();
        let session = parts
            .headers
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok());
        // The older transport names its session in the path it tells the client to post to: in
        // its query, or in the path itself when an endpoint event named it.
        let channel_key = session.map(str::to_owned).or_else(|| {
            parts
                .uri
                .path_and_query()
                .filter(|pq| pq.query().is_some() || self.is_channel(pq.as_str()))
                .map(|pq| pq.as_str().to_owned())
        });
        let channel = self.channel(channel_key.as_deref());
        // The older transport answers on the session's stream: a request of it is under way,
        // and its stream waits for it at the end, from its head on (its answer is still to
        // come whatever it asks), as a Streamable HTTP request is answered on its own POST.
        let older = session.is_none() && channel_key.is_some();
        let _posting = (older && parts.method == Method::POST).then(|| self.posting(channel));
        // A body too large to hold goes on as it comes, and is recorded once it has ended.
        let (body, streaming) = match self.request_body(&parts, body).await {
            Ok(RequestBody::Whole(body)) => (body, None),
            Ok(RequestBody::Streaming(streaming)) => (Bytes::new(), Some(streaming)),
            Err(refused) => return refused,
        };
        let request = Message::of(&body);
        let request_ids = request.readable().and_then(|b| ids_of(b, true));
        // What a failure of this request answers: its calls, when its ids could be read.
        let failing = request_ids.clone().unwrap_or_default();
        if parts.method == Method::POST && !body.is_empty() {
            let at = (self.clock)();
            self.record(message_note(
                channel,
                Direction::ClientToServer,
                request,
                at,
            ));
        }
        if parts.method == Method::POST
            && let Some(enforcer) = &self.enforcer
        {
            match crate::capture::proxy::json::read(&body) {
                Ok(message) => {
                    if let Some(refusal) = enforcer.refusal(&message) {
                        let Some(answer) = refusal.answer else {
                            // A denied notification: nobody to answer, and the server must
                            // not see it.
                            (enforcer.report)(
                                "a tools/call notification the policy denies was not forwarded",
                            );
                            return plain(StatusCode::ACCEPTED, "Accepted");
                        };
                        return self.deny(
                            channel,
                            session.is_none() && channel_key.is_some(),
                            &answer,
                        );
                    }
                }
                // What does not read as JSON cannot be judged: a server may read it all the
                // same (one nested past `deep_json::MAX_NESTING`, say), so it is not forwarded; the
                // client gets the parse error a server answers with.
                Err(_) if !body.trim_ascii().is_empty() => {
                    let answer = crate::capture::proxy::enforce::unreadable();
                    let body = answer.to_string().into_bytes();
                    self.record(Note::Message {
                        channel,
                        direction: Direction::ServerToClient,
                        body: body.clone(),
                        at: (self.clock)(),
                    });
                    return json_answer(StatusCode::BAD_REQUEST, body);
                }
                Err(_) => {}
            }
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
        // The older transport answers on the session's stream: what is asked is noted, so that
        // the stream stays open for it when the proxy stops.
        let asked = if older
            && parts.method == Method::POST
            && (streaming.is_some() || !body.trim_ascii().is_empty())
        {
            self.awaited_ids(request_ids)
        } else {
            Vec::new()
        };
        self.await_answers(channel, &asked, true);
        let streamed = streaming.is_some();
        let forward_body = match streaming {
            None => Full::new(body).map_err(|never| match never {}).boxed(),
            Some(streaming) => {
                let (tx, rx) = mpsc::channel(4);
                let length = streaming.length;
                let pump = Pump {
                    proxy: self.clone(),
                    channel,
                    method: parts.method.clone(),
                    path: path.to_owned(),
                    recorded: parts.method == Method::POST,
                };
                tokio::spawn(pump.run(streaming, tx));
                ChannelBody { rx, length }.boxed()
            }
        };
        let mut forward = Request::new(forward_body);
        *forward.method_mut() = parts.method.clone();
        *forward.uri_mut() = target;
        copy_headers(&parts.headers, forward.headers_mut(), REQUEST_DROPS);
        let answer = match self.client.send(forward).await {
            Ok(answer) => answer,
            Err(e) => {
                // Reached, the server may have taken the request and gone before answering
                // (it stopped, it crashed): that is no server out of reach.
                let what = if e.is_connect() {
                    "cannot reach the MCP server"
                } else {
                    "the MCP server gave no answer"
                };
                self.await_answers(channel, &asked, false);
                let text = format!("{what}: {}", error_chain(&e));
                let mut data = http_fields(Direction::ClientToServer, &parts.method, path, channel);
                data.insert("error".into(), text.clone().into());
                self.record_failure(channel, failing, data);
                let mut failed = plain(StatusCode::BAD_GATEWAY, &format!("agent-strace: {text}"));
                if streamed {
                    // The rest of the body is not read: the connection cannot carry another
                    // request.
                    failed
                        .headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                return failed;
            }
        };
        let (mut head, body) = answer.into_parts();
        let status = head.status;
        if !status.is_success() {
            // Refused: no answer comes on the stream.
            self.await_answers(channel, &asked, false);
        }
        if parts.method == Method::DELETE {
            let mut data = http_fields(Direction::ClientToServer, &parts.method, path, channel);
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
            if status.is_success()
                && let Some(key) = &channel_key
            {
                self.forget_channel(key);
            }
            self.record_event(EventType::Decision, data);
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
        copy_headers(&head.headers, &mut headers, RESPONSE_DROPS);
        // An answer to HEAD has no body: its length tells what a GET would get, and is passed
        // on as the server gave it (unless chunked framing voids it). Hyper writes none on a
        // 304, whatever it is given.
        if parts.method == Method::HEAD
            && !head.headers.contains_key(header::TRANSFER_ENCODING)
            && let Some(length) = head.headers.get(header::CONTENT_LENGTH)
        {
            headers.insert(header::CONTENT_LENGTH, length.clone());
        }
        head.headers = headers;
        // The answer's length as the server framed it, not as a header claims it: a chunked
        // answer that also said `Content-Length: 3` was read whole past the bound, and its
        // header, passed on, framed 3 of its bytes for the client (a debug build panicked).
        // The client is told the length the answer has, or none for a stream.
        let length = body.size_hint().exact();
        let whole =
            !matches!(reading, Reading::Events) && length.is_some_and(|n| n <= MAX_WHOLE as u64);
        let relay = Relay {
            _underway: self.underway.begin(),
            proxy: self.clone(),
            reading,
            rewrite,
            answers: None,
            channel,
            failing,
            method: parts.method,
            path: path.to_owned(),
            status,
            content_type,
        };
        if whole {
            // An answer of known size that is not a stream (a JSON answer, an error): read here
            // and sent on in one piece, without a relay task between server and client.
            return match body.collect().await {
                Ok(body) => {
                    let body = body.to_bytes();
                    relay.finish(Message::of(&body));
                    let body = Full::new(body).map_err(|never| match never {}).boxed();
                    Response::from_parts(head, body)
                }
                Err(e) => {
                    relay.broke_off(&e);
                    plain(
                        StatusCode::BAD_GATEWAY,
                        &format!("agent-strace: the server's answer broke off: {e}"),
                    )
                }
            };
        }
        // A rewritten endpoint event changes the length.
        let length = if rewrite { None } else { length };
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(relay.run(body, tx));
        Response::from_parts(head, ChannelBody { rx, length }.boxed())
    }
}

/// One answer on its way from the server to the client, read for the record as it passes.
struct Relay {
    /// Held until the answer is relayed and recorded, so the end waits for it.
    _underway: super::Underway,
    proxy: Arc<Proxy>,
    reading: Reading,
    rewrite: bool,
    /// The older transport's stream: where the proxy's own answers come in, to go out between
    /// the server's events.
    answers: Option<mpsc::UnboundedSender<Bytes>>,
    channel: u32,
    /// The ids of the requests an HTTP error answers, when it says no JSON-RPC answer itself.
    failing: Vec<String>,
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
        let mut kept = Gathered::default();
        let mut events = Vec::new();
        let (answers, mut ours) = if self.rewrite {
            let (answers, ours) = mpsc::unbounded_channel();
            (Some(answers), Some(ours))
        } else {
            (None, None)
        };
        self.answers = answers;
        // Our answers wait for the server's event in progress to end.
        let mut boundary = Boundary::default();
        let mut waiting: Vec<Bytes> = Vec::new();
        // A stream the client holds open for the server's own messages (a GET) is no request
        // under way: it ends, between two events, when the proxy stops; but the older
        // transport's stream first carries the answers still to come to its requests.
        let mut stopping = self.proxy.stopping.clone();
        let standing = matches!(self.reading, Reading::Events) && self.method == Method::GET;
        let mut stop_seen = false;
        let mut settled = self.proxy.settled.subscribe();
        loop {
            if stop_seen
                && boundary.between()
                && !(self.rewrite && self.proxy.awaits_answers(self.channel))
            {
                break;
            }
            // A client that goes away while the server is quiet closes the server's stream too,
            // rather than holding it until the server next speaks.
            let next = tokio::select! {
                next = body.frame() => next,
                Some(answer) = async {
                    match &mut ours {
                        Some(ours) => ours.recv().await,
                        None => std::future::pending().await,
                    }
                } => {
                    if boundary.between() {
                        if tx.send(Ok(Frame::data(answer))).await.is_err() {
                            self.forget_stream();
                            return;
                        }
                    } else {
                        waiting.push(answer);
                    }
                    continue;
                }
                () = super::stopped(&mut stopping), if standing && !stop_seen => {
                    stop_seen = true;
                    continue;
                }
                // What the stream waits for may be over without a word on it (a request
                // refused, a notification forwarded).
                _ = settled.changed(), if stop_seen && self.rewrite => continue,
                () = tx.closed() => {
                    // An error is worth recording even when nobody read it (a HEAD's answer).
                    if matches!(self.reading, Reading::Failure) {
                        self.finish(kept.finish());
                    }
                    return;
                }
            };
            let frame = match next {
                None => break,
                Some(Ok(frame)) => frame,
                Some(Err(e)) => {
                    self.broke_off(&e);
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
                                self.event(event);
                            }
                        }
                        Reading::Json | Reading::Failure => kept.push(&data),
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
                    boundary.push(&data);
                    Frame::data(data)
                }
                Err(frame) => frame,
            };
            if tx.send(Ok(frame)).await.is_err() {
                // The client has gone; so does the stream from the server. A JSON answer the
                // server is sending is still read to its end for the record (within the
                // request wait): the server answered, though the client took none of it.
                self.forget_stream();
                if matches!(self.reading, Reading::Json) {
                    let wait = self.proxy.wait;
                    let whole = async {
                        loop {
                            match body.frame().await {
                                None => return true,
                                Some(Err(_)) => return false,
                                Some(Ok(frame)) => {
                                    if let Ok(data) = frame.into_data() {
                                        kept.push(&data);
                                    }
                                }
                            }
                        }
                    };
                    if matches!(tokio::time::timeout(wait, whole).await, Ok(true)) {
                        self.finish(kept.finish());
                    }
                }
                return;
            }
            if boundary.between() {
                for answer in waiting.drain(..) {
                    if tx.send(Ok(Frame::data(answer))).await.is_err() {
                        self.forget_stream();
                        return;
                    }
                }
            }
        }
        self.forget_stream();
        if self.rewrite {
            let rest = rewriter.finish();
            if !rest.is_empty() {
                let _ = tx.send(Ok(Frame::data(rest))).await;
            }
        }
        drop(tx);
        self.finish(kept.finish());
    }

    /// The stream has ended: answers for its session have nowhere to go.
    fn forget_stream(&self) {
        let Some(answers) = &self.answers else {
            return;
        };
        self.proxy
            .awaiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|(channel, _)| *channel != self.channel);
        let mut streams = self
            .proxy
            .streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if streams
            .get(&self.channel)
            .is_some_and(|s| s.same_channel(answers))
        {
            streams.remove(&self.channel);
        }
    }

    /// Records that the server's answer ended before it was whole.
    fn broke_off(&self, e: &hyper::Error) {
        let error = format!("the server's answer broke off: {e}");
        self.problem(Direction::ClientToServer, error);
    }

    /// Records a problem with this request's answer, said by `error`.
    fn problem(&self, direction: Direction, error: String) {
        let mut data = http_fields(direction, &self.method, &self.path, self.channel);
        data.insert("error".into(), error.into());
        self.proxy.record_problem(data);
    }

    /// Records one event of a stream.
    fn event(&mut self, event: SseEvent) {
        let SseEvent {
            event: name,
            data,
            cut,
            ..
        } = event;
        if name == "endpoint" {
            // The older transport's session is the path the client is told to post to.
            let path = self
                .proxy
                .upstream
                .endpoint_for_client(&data, &self.path)
                .unwrap_or_else(|| data.trim().to_owned());
            self.channel = self.proxy.channel(Some(&path));
            if let Some(answers) = &self.answers {
                self.proxy
                    .streams
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(self.channel, answers.clone());
            }
            return;
        }
        if name != "message" || data.is_empty() {
            return;
        }
        let message = match cut {
            Some(cut) => Message::Cut(cut),
            None => Message::Whole(data.into_bytes()),
        };
        if self.rewrite && self.proxy.awaits_answers(self.channel) {
            let answered = message.readable().and_then(|b| ids_of(b, false));
            self.proxy.answered(self.channel, answered);
        }
        self.answer(message);
    }

    /// Records one message from the server.
    fn answer(&self, message: Message) {
        let at = (self.proxy.clock)();
        let note = message_note(self.channel, Direction::ServerToClient, message, at);
        self.proxy.record(note);
    }

    /// Records a body read whole: a JSON answer, or what an HTTP error said.
    fn finish(&self, message: Message) {
        match self.reading {
            // One too large to keep whole is recorded as the stdio proxy records it: from its
            // cut copy, with its real size.
            Reading::Json if !message.head().is_empty() => self.answer(message),
            Reading::Failure => {
                // An answer that says itself that it failed (a JSON-RPC error, a tool result
                // with isError) is recorded as the answer it is; anything else (a page of
                // text, a result the status belies) fails the requests it answers.
                let rpc = self.content_type.contains("json")
                    && message.readable().is_some_and(says_it_failed);
                if rpc {
                    self.answer(message);
                    return;
                }
                let body = message.head();
                let mut data = http_fields(
                    Direction::ServerToClient,
                    &self.method,
                    &self.path,
                    self.channel,
                );
                data.insert("status".into(), self.status.as_u16().into());
                let reason = self.status.canonical_reason().unwrap_or("error");
                data.insert(
                    "error".into(),
                    format!("HTTP {} {reason}", self.status.as_u16()).into(),
                );
                if !body.is_empty() {
                    data.insert("body".into(), error_body(&message).into());
                }
                self.proxy
                    .record_failure(self.channel, self.failing.clone(), data);
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
/// Answer headers not passed back: hop-by-hop ones, and the length (the answer is framed
/// anew, by the length it has).
const RESPONSE_DROPS: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
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
fn http_fields(
    direction: Direction,
    method: &Method,
    path: &str,
    channel: u32,
) -> Map<String, Value> {
    let mut data = event_head(channel, direction);
    data.insert("http_method".into(), method.as_str().into());
    data.insert("path".into(), path.into());
    data
}

/// The ids of the requests (`requests`) or of the answers (`null` for an answer to what could
/// not be read) in a message or batch, as JSON text; `None` when it does not read as JSON.
fn ids_of(body: &[u8], requests: bool) -> Option<Vec<String>> {
    let message = crate::capture::proxy::json::read(body).ok()?;
    let one = |m: &Value| {
        let id = m.get("id").filter(|id| !(requests && id.is_null()))?;
        (m.get("method").is_some() == requests).then(|| id.to_string())
    };
    Some(match &message {
        Value::Array(batch) => batch.iter().filter_map(one).collect(),
        m => one(m).into_iter().collect(),
    })
}

/// What an HTTP error's body is recorded by: the body, when it is no longer than
/// [`ERROR_BODY_KEEP`] bytes and the margin (whole, no secret in it is cut); else its first
/// [`ERROR_BODY_KEEP`] bytes: it is cut [`SCRUB_MARGIN`] later, with a cut marker, and the
/// recorder scrubs it before it lets the margin go (`cut::scrub_cut_texts`): cut first, a secret the cut fell in would have
/// reached the store in part, its start no longer one the rules know.
fn error_body(message: &Message) -> String {
    let (head, size) = match message {
        Message::Whole(body) => (body.as_slice(), body.len() as u64),
        Message::Cut(cut) => (cut.head.as_slice(), cut.size),
    };
    let copy = ERROR_BODY_KEEP + SCRUB_MARGIN;
    if size <= copy as u64 && head.len() as u64 == size {
        return String::from_utf8_lossy(head).into_owned();
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(copy)]);
    format!("{text}{}", cut_marker(size))
}

/// How much of an HTTP error's body is recorded.
const ERROR_BODY_KEEP: usize = 2048;

/// Whether `body` is a JSON-RPC answer (or a batch of them) that says it failed: an error, or
/// a tool result with `isError`.
fn says_it_failed(body: &[u8]) -> bool {
    let failed = |m: &Value| {
        m.get("jsonrpc").is_some()
            && (m.get("error").is_some()
                || m.pointer("/result/isError").and_then(Value::as_bool) == Some(true))
    };
    match crate::model::deep_json::from_slice::<Value>(body) {
        Ok(Value::Array(batch)) => !batch.is_empty() && batch.iter().all(failed),
        Ok(answer) => failed(&answer),
        Err(_) => false,
    }
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

/// An answer of ours in JSON.
fn json_answer(status: StatusCode, body: Vec<u8>) -> Response<ProxyBody> {
    answer(status, Bytes::from(body), "application/json")
}

fn plain(status: StatusCode, text: &str) -> Response<ProxyBody> {
    answer(
        status,
        Bytes::from(format!("{text}\n")),
        "text/plain; charset=utf-8",
    )
}

/// An answer of ours: `body` with `status`, of `content_type`.
fn answer(status: StatusCode, body: Bytes, content_type: &'static str) -> Response<ProxyBody> {
    let mut response = Response::new(Full::new(body).map_err(|never| match never {}).boxed());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Whether the bytes of an event stream passed so far end between events (after a blank line,
/// or before anything), where an event of ours may go without splitting one of the server's.
#[derive(Debug)]
struct Boundary {
    /// The stream's last bytes.
    tail: [u8; 3],
    /// Nothing has passed yet.
    start: bool,
}

impl Default for Boundary {
    fn default() -> Boundary {
        Boundary {
            tail: [0; 3],
            start: true,
        }
    }
}

impl Boundary {
    fn push(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().rev().take(3).rev() {
            self.tail = [self.tail[1], self.tail[2], b];
        }
        self.start &= bytes.is_empty();
    }

    fn between(&self) -> bool {
        let [_, a, b] = self.tail;
        self.start
            || (a, b) == (b'\n', b'\n')
            || (a, b) == (b'\r', b'\r')
            || self.tail == *b"\n\r\n"
            || self.tail == *b"\r\r\n"
    }
}

/// A body fed by a task: an answer by its relay, a request too large to hold by its pump.
struct ChannelBody {
    rx: mpsc::Receiver<Result<Frame<Bytes>, BoxError>>,
    /// Its length when known, so that the server is told it as the client told it.
    length: Option<u64>,
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

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.length.map_or_else(
            hyper::body::SizeHint::default,
            hyper::body::SizeHint::with_exact,
        )
    }
}

/// The parts of a body read in pieces, as one.
fn joined(parts: Vec<Bytes>, size: usize) -> Bytes {
    if parts.len() == 1 {
        return parts.into_iter().next().unwrap_or_default();
    }
    let mut whole = Vec::with_capacity(size);
    for part in parts {
        whole.extend_from_slice(&part);
    }
    Bytes::from(whole)
}

/// A request body too large to hold, relayed to the server as it comes (as fast as the server
/// takes it) and gathered for the record as it passes: recorded once it has ended, from a cut
/// copy with its real size, as `record` records a message that large.
struct Pump {
    proxy: Arc<Proxy>,
    channel: u32,
    method: Method,
    path: String,
    /// A POST's body is a message, recorded.
    recorded: bool,
}

impl Pump {
    async fn run(self, body: Streaming, tx: mpsc::Sender<Result<Frame<Bytes>, BoxError>>) {
        let Streaming {
            start, mut rest, ..
        } = body;
        let mut gathered = Gathered::default();
        for data in start {
            gathered.push(&data);
            // The server took no more (it answered, or its connection failed): what it said
            // is recorded with its answer.
            if tx.send(Ok(Frame::data(data))).await.is_err() {
                return;
            }
        }
        let wait = self.proxy.wait;
        loop {
            let frame = match tokio::time::timeout(wait, rest.frame()).await {
                Ok(None) => break,
                Ok(Some(Ok(frame))) => frame,
                Ok(Some(Err(e))) => {
                    self.problem(format!(
                        "the request body broke off after {} bytes: {e}",
                        gathered.size()
                    ));
                    let _ = tx.send(Err(Box::new(e))).await;
                    return;
                }
                Err(_) => {
                    let text = format!(
                        "the request body stopped coming for {} s after {} bytes; the request to the server was cut off",
                        wait.as_secs_f64(),
                        gathered.size()
                    );
                    self.problem(text.clone());
                    let _ = tx.send(Err(text.into())).await;
                    return;
                }
            };
            // Trailers: a request's never reach the server (the proxy sends none).
            let Ok(data) = frame.into_data() else {
                continue;
            };
            gathered.push(&data);
            if tx.send(Ok(Frame::data(data))).await.is_err() {
                return;
            }
        }
        if self.recorded {
            let at = (self.proxy.clock)();
            let note = message_note(
                self.channel,
                Direction::ClientToServer,
                gathered.finish(),
                at,
            );
            self.proxy.record(note);
        }
    }

    /// Records a problem with the request's body.
    fn problem(&self, error: String) {
        let mut data = http_fields(
            Direction::ClientToServer,
            &self.method,
            &self.path,
            self.channel,
        );
        data.insert("error".into(), error.into());
        self.proxy.record_problem(data);
    }
}
