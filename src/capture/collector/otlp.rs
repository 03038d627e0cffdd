//! The collector's OTLP/HTTP receiver: `POST /v1/traces` and `POST /v1/logs` (Claude Code's
//! telemetry is joined into its hook sessions, see [`crate::capture::otlp`]), and `POST
//! /v1/metrics`, taken and passed on to a forwarder but not stored. Answers as OTLP/HTTP says:
//! 200 with an `Export…ServiceResponse` in the request's encoding (with `partial_success` for
//! what was refused), 400 for a body that does not decode, 415 for a media type or encoding we
//! do not take, 503 (retry later) when the store failed.

use hyper::StatusCode;
use hyper::header::{CONTENT_ENCODING, CONTENT_TYPE};

use super::Collector;
use super::routes::{Reply, Request};
use crate::capture::otlp::{self, Body, DecodeError, Kind, ReceiveError};
use crate::store::{HOOK_LOCK_WAIT, StoreError};

/// `POST /v1/traces`.
pub fn traces(collector: &Collector, request: &Request) -> Reply {
    receive(collector, request, Kind::Traces)
}

/// `POST /v1/logs`.
pub fn logs(collector: &Collector, request: &Request) -> Reply {
    receive(collector, request, Kind::Logs)
}

fn body(request: &Request) -> Body<'_> {
    let header = |name| request.headers.get(name).and_then(|v| v.to_str().ok());
    Body {
        bytes: &request.body,
        content_type: header(CONTENT_TYPE),
        content_encoding: header(CONTENT_ENCODING),
    }
}

fn receive(collector: &Collector, request: &Request, kind: Kind) -> Reply {
    let body = body(request);
    match otlp::receive(&collector.store, &collector.sink, kind, &body) {
        Ok(received) => {
            for session in &received.ingested.sessions {
                // Counters are caught up by whoever holds the session, or the next reader.
                match collector.store.refresh_meta(session, HOOK_LOCK_WAIT) {
                    Ok(()) | Err(StoreError::LockTimeout(_)) => {}
                    Err(e) => collector.log(&format!("cannot update session {session:?}: {e}")),
                }
            }
            if received.ingested.retimed > 0 {
                collector.log(&format!(
                    "{} of an OTLP request from {} had a time no date can hold (after 2100): recorded at their receipt",
                    crate::model::text::count(received.ingested.retimed, "record"),
                    request.peer
                ));
            }
            if received.ingested.rejected.count > 0 {
                collector.log(&format!(
                    "refused part of an OTLP request from {}: {}",
                    request.peer, received.ingested.rejected.message
                ));
            }
            collector.accepted(super::Accepted::Otlp {
                kind,
                protobuf: received.protobuf,
                sessions: received.ingested.sessions,
            });
            Reply {
                status: StatusCode::OK,
                content_type: received.content_type,
                body: received.body,
                headers: Vec::new(),
                pieces: None,
            }
        }
        Err(ReceiveError::Decode(e)) => refuse(&e, &body),
        Err(ReceiveError::Store(e)) => {
            collector.log(&format!("cannot store OTLP telemetry: {e}"));
            let (bytes, content_type) =
                otlp::decode::error_body(&format!("the store failed: {e}"), body.encoding().ok());
            Reply {
                status: StatusCode::SERVICE_UNAVAILABLE,
                content_type,
                body: bytes,
                headers: Vec::new(),
                pieces: None,
            }
        }
    }
}

fn refuse(e: &DecodeError, body: &Body<'_>) -> Reply {
    let (bytes, content_type) = otlp::decode::error_body(&e.to_string(), body.encoding().ok());
    Reply {
        status: StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
        content_type,
        body: bytes,
        headers: Vec::new(),
        pieces: None,
    }
}

/// `POST /v1/metrics`: checked and answered like the others; nothing is stored (the sessions'
/// figures come from their events), but a forwarder passes them on.
pub fn metrics(collector: &Collector, request: &Request) -> Reply {
    receive(collector, request, Kind::Metrics)
}
