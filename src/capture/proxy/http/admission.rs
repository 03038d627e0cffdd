//! How many connections the proxy holds at once. Any local user can reach its port: without a
//! bound, 12,000 connections that each sent most of a request head grew the proxy past 1 GB
//! (and 12,000 descriptors), and the memory was not given back when they closed. Past the
//! bound a new connection is answered 503 with `Retry-After` and closed, while those held go
//! on; an idle one is let go after the proxy's wait ([`super::REQUEST_WAIT`]).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many connections the proxy holds at once by default: far more than an MCP client opens
/// (a stream for the server's messages and a few requests under way), and few enough that,
/// each buffering at most [`super::CONNECTION_BUFFER`] of its head and with its own connection
/// to the server beside it, they stay within tens of MiB and the 1,024 descriptors a process is
/// given by default.
pub const MAX_CONNECTIONS: usize = 256;

/// Connections being turned away at once, each for at most [`TURN_AWAY_WAIT`]; past them, a
/// connection is closed unanswered.
const TURNING_AWAY_MOST: usize = 64;

/// How long a connection turned away is given to send its request and take the answer.
const TURN_AWAY_WAIT: Duration = Duration::from_secs(1);

/// The most of a turned-away request's body read before it is answered.
const DRAINED_MOST: usize = 64 * 1024;

/// The room for connections, and those being turned away.
pub(super) struct Admission {
    room: Arc<Semaphore>,
    most: usize,
    turning_away: Arc<AtomicUsize>,
}

impl Admission {
    pub(super) fn new(most: usize) -> Admission {
        Admission {
            room: Arc::new(Semaphore::new(most)),
            most,
            turning_away: Arc::default(),
        }
    }

    /// A place for one more connection, held until the permit is dropped; `None` when every
    /// place is taken.
    pub(super) fn admit(&self) -> Option<OwnedSemaphorePermit> {
        self.room.clone().try_acquire_owned().ok()
    }

    /// What is said when connections are turned away.
    pub(super) fn turning_away_said(&self) -> String {
        format!(
            "turning away new connections with 503: {} are open already",
            self.most
        )
    }

    /// Answers the request of a connection there is no room for with a 503 and `Retry-After`,
    /// then closes it. The request is read first, as a server does: a client whose socket is
    /// closed with its request unread may see a reset instead of the answer. Never waits in the
    /// accept loop, holds such a connection [`TURN_AWAY_WAIT`] at most, and never more than
    /// [`TURNING_AWAY_MOST`] of them (past them, a connection is closed at once).
    pub(super) fn turn_away(&self, stream: TcpStream) {
        if self.turning_away.fetch_add(1, Ordering::Relaxed) >= TURNING_AWAY_MOST {
            self.turning_away.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let turning_away = self.turning_away.clone();
        let most = self.most;
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let mut body = request.into_body();
                async move {
                    let mut read = 0;
                    while read <= DRAINED_MOST {
                        match body.frame().await {
                            Some(Ok(frame)) => read += frame.data_ref().map_or(0, Bytes::len),
                            Some(Err(_)) | None => break,
                        }
                    }
                    Ok::<_, Infallible>(busy(most))
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(false)
                .max_buf_size(super::CONNECTION_BUFFER)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(TURN_AWAY_WAIT, connection).await;
            turning_away.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// The answer to a connection there is no room for.
fn busy(most: usize) -> Response<Full<Bytes>> {
    let text = format!(
        "agent-strace: the proxy holds {most} connections already; try again when one has closed\n"
    );
    let mut answer = Response::new(Full::new(Bytes::from(text)));
    *answer.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = answer.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::RETRY_AFTER, HeaderValue::from(1));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    answer
}
