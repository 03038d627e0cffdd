//! OTLP/HTTP received by the collector: Claude Code's own telemetry joined into the sessions
//! its hooks record, and any other sender's spans and logs kept as events.
//!
//! # Architecture
//! - [`decode`]: request bodies (protobuf or JSON, plain or gzip, size-limited) to messages,
//!   and the answers OTLP/HTTP expects.
//! - [`doubles`]: doubles spelled as strings in a JSON body (`"NaN"`), which the OTLP crate
//!   refuses.
//! - [`telemetry`]: messages to records: Claude Code's model requests and tool timings, or
//!   generic spans and log records.
//! - [`counts`]: token counts read alike for every sender; an impossible one kept, unknown.
//! - [`genai`]: which of another sender's spans is a model call (GenAI semantic conventions),
//!   and its usage.
//! - [`tool_span`]: a tool's span (another sender's `execute_tool`, or our own export's call)
//!   as the tool call it tells.
//! - [`plain`]: our own plain `otlp` export's agent, and its model responses (a span's events).
//! - [`join`]: records to events in the store, each exactly once, joined to the hook session
//!   by session id, prompt id and tool_use_id.
//!
//! The route handlers (the collector's) only call [`receive`].

pub mod counts;
pub mod decode;
pub mod doubles;
pub mod genai;
pub mod join;
pub mod plain;
pub mod telemetry;
pub mod tool_span;

pub use decode::{Body, DecodeError, Encoding, Rejected};
pub use join::Ingested;

use crate::capture::sink::Sink;
use crate::store::{Store, StoreError};

/// The signals the collector takes (metrics are passed on, not stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Traces,
    Logs,
    Metrics,
}

impl Kind {
    /// The OTLP/HTTP path of the signal.
    pub fn path(self) -> &'static str {
        match self {
            Kind::Traces => "/v1/traces",
            Kind::Logs => "/v1/logs",
            Kind::Metrics => "/v1/metrics",
        }
    }
}

/// Why a request was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("the store could not take the telemetry: {0}")]
    Store(#[from] StoreError),
}

/// What the collector answers an accepted request with.
#[derive(Debug, Clone)]
pub struct Received {
    pub ingested: Ingested,
    /// The 200's body (an Export…ServiceResponse) and its content type.
    pub body: Vec<u8>,
    pub content_type: &'static str,
    /// The request as protobuf, for a forwarder.
    pub protobuf: Vec<u8>,
}

/// Decodes an OTLP/HTTP request of `kind` and writes what it tells into the store.
pub fn receive(
    store: &Store,
    sink: &Sink,
    kind: Kind,
    body: &Body<'_>,
) -> Result<Received, ReceiveError> {
    use prost::Message;
    let (records, encoding, protobuf) = match kind {
        Kind::Traces => {
            let (request, encoding) = body.traces()?;
            (
                telemetry::spans(&request),
                encoding,
                request.encode_to_vec(),
            )
        }
        Kind::Logs => {
            let (request, encoding) = body.logs()?;
            (telemetry::logs(&request), encoding, request.encode_to_vec())
        }
        Kind::Metrics => {
            let (protobuf, encoding) = body.metrics()?;
            (Vec::new(), encoding, protobuf)
        }
    };
    let ingested = join::ingest(store, sink, records)?;
    let answer = match kind {
        Kind::Traces => decode::traces_response(&ingested.rejected, encoding),
        // Nothing of a metrics request is refused: its answer is the same empty message.
        Kind::Logs | Kind::Metrics => decode::logs_response(&ingested.rejected, encoding),
    };
    Ok(Received {
        ingested,
        body: answer,
        content_type: encoding.content_type(),
        protobuf,
    })
}

#[cfg(test)]
mod tests;
