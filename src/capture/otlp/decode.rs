//! OTLP/HTTP request bodies to messages and answers back: protobuf or proto3 JSON, plain or
//! gzip, within size limits, and never a panic whatever the bytes (OTLP/HTTP 1.x:
//! <https://opentelemetry.io/docs/specs/otlp/#otlphttp>).

use std::io::Read;

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use serde::de::DeserializeOwned;

use super::doubles::{AnyValues, read_with_spelled_doubles};

/// The most a request body may hold once unzipped: Claude Code's batches are a few kB, the
/// OpenTelemetry SDKs' default batch (512 spans) well under a megabyte.
pub const MAX_DECODED: usize = 16 * 1024 * 1024;

/// How a body is encoded, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    /// The encoding a `Content-Type` names (parameters and case ignored); `None` for any other
    /// media type, which OTLP/HTTP answers with 415.
    pub fn of_content_type(content_type: Option<&str>) -> Option<Encoding> {
        let media = content_type?.split(';').next()?.trim().to_ascii_lowercase();
        match media.as_str() {
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            "application/json" => Some(Encoding::Json),
            _ => None,
        }
    }

    /// The `Content-Type` of an answer in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// Why a body was refused, with the HTTP status OTLP/HTTP gives it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error(
        "the body's media type is {0:?}; OTLP/HTTP takes application/x-protobuf or application/json"
    )]
    MediaType(String),
    #[error("the body's content encoding is {0:?}; only gzip (or none) is taken")]
    ContentEncoding(String),
    #[error("the body is larger than {MAX_DECODED} bytes once decompressed")]
    TooLarge,
    #[error("the gzip body does not decompress: {0}")]
    Gzip(String),
    #[error("the body is not an OTLP {signal} request: {reason}")]
    Malformed {
        signal: &'static str,
        reason: String,
    },
}

impl DecodeError {
    /// The status OTLP/HTTP answers this with: 415 for a type or encoding we do not take, 413
    /// for a body too large, else 400 (a body that must not be sent again as it is).
    pub fn status(&self) -> u16 {
        match self {
            DecodeError::MediaType(_) | DecodeError::ContentEncoding(_) => 415,
            DecodeError::TooLarge => 413,
            DecodeError::Gzip(_) | DecodeError::Malformed { .. } => 400,
        }
    }
}

/// The body as sent, before decoding: its bytes and the two headers that say how to read them.
#[derive(Debug, Clone, Copy)]
pub struct Body<'a> {
    pub bytes: &'a [u8],
    pub content_type: Option<&'a str>,
    pub content_encoding: Option<&'a str>,
}

impl Body<'_> {
    /// The encoding, or the 415 for a media type we do not take.
    pub fn encoding(&self) -> Result<Encoding, DecodeError> {
        Encoding::of_content_type(self.content_type)
            .ok_or_else(|| DecodeError::MediaType(self.content_type.unwrap_or("").to_owned()))
    }

    /// The bytes with any gzip taken off, never more than [`MAX_DECODED`].
    fn plain(&self) -> Result<std::borrow::Cow<'_, [u8]>, DecodeError> {
        let encoding = self
            .content_encoding
            .map(|e| e.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match encoding.as_str() {
            "" | "identity" => {
                if self.bytes.len() > MAX_DECODED {
                    return Err(DecodeError::TooLarge);
                }
                Ok(std::borrow::Cow::Borrowed(self.bytes))
            }
            "gzip" | "x-gzip" => {
                let mut out = Vec::new();
                let limit = MAX_DECODED as u64 + 1;
                flate2::read::MultiGzDecoder::new(self.bytes)
                    .take(limit)
                    .read_to_end(&mut out)
                    .map_err(|e| DecodeError::Gzip(e.to_string()))?;
                if out.len() > MAX_DECODED {
                    return Err(DecodeError::TooLarge);
                }
                Ok(std::borrow::Cow::Owned(out))
            }
            other => Err(DecodeError::ContentEncoding(other.to_owned())),
        }
    }

    fn decode<T: Message + Default + DeserializeOwned + AnyValues>(
        &self,
        signal: &'static str,
    ) -> Result<(T, Encoding), DecodeError> {
        let encoding = self.encoding()?;
        let bytes = self.plain()?;
        let malformed = |reason: String| DecodeError::Malformed { signal, reason };
        let message = match encoding {
            Encoding::Protobuf => {
                T::decode(bytes.as_ref()).map_err(|e| malformed(e.to_string()))?
            }
            // A message is an object in proto3 JSON (serde's derive would take an array too).
            Encoding::Json if bytes.trim_ascii_start().first() != Some(&b'{') => {
                return Err(malformed("a request is a JSON object".to_owned()));
            }
            // A double spelled as a string, which the crate's reader refuses, is read again.
            Encoding::Json => match crate::model::deep_json::from_slice(&bytes) {
                Ok(message) => message,
                Err(e) => {
                    read_with_spelled_doubles(&bytes).ok_or_else(|| malformed(e.to_string()))?
                }
            },
        };
        Ok((message, encoding))
    }

    /// An `ExportTraceServiceRequest` (POST /v1/traces), and the encoding to answer in.
    pub fn traces(&self) -> Result<(ExportTraceServiceRequest, Encoding), DecodeError> {
        self.decode("traces")
    }

    /// An `ExportMetricsServiceRequest` (POST /v1/metrics) checked, as protobuf, and the
    /// encoding to answer in.
    pub fn metrics(&self) -> Result<(Vec<u8>, Encoding), DecodeError> {
        let (request, encoding): (ExportMetricsServiceRequest, _) = self.decode("metrics")?;
        Ok((request.encode_to_vec(), encoding))
    }

    /// An `ExportLogsServiceRequest` (POST /v1/logs), and the encoding to answer in.
    pub fn logs(&self) -> Result<(ExportLogsServiceRequest, Encoding), DecodeError> {
        self.decode("logs")
    }
}

/// What was refused of an accepted request: OTLP's `partial_success`, left out when nothing was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rejected {
    pub count: i64,
    pub message: String,
}

fn encode<T: Message + serde::Serialize>(message: &T, encoding: Encoding) -> Vec<u8> {
    match encoding {
        // The crate writes an absent `partialSuccess` as null; OTLP's answer to a full success
        // is the empty message.
        Encoding::Json if message.encoded_len() == 0 => b"{}".to_vec(),
        Encoding::Protobuf => message.encode_to_vec(),
        // A response of two plain fields always serialises.
        Encoding::Json => serde_json::to_vec(message).unwrap_or_else(|_| b"{}".to_vec()),
    }
}

/// The body of a 200 answer to POST /v1/traces, in the request's encoding.
pub fn traces_response(rejected: &Rejected, encoding: Encoding) -> Vec<u8> {
    let response = ExportTraceServiceResponse {
        partial_success: (rejected.count > 0 || !rejected.message.is_empty()).then(|| {
            ExportTracePartialSuccess {
                rejected_spans: rejected.count,
                error_message: rejected.message.clone(),
            }
        }),
    };
    encode(&response, encoding)
}

/// The body of a 200 answer to POST /v1/logs, in the request's encoding.
pub fn logs_response(rejected: &Rejected, encoding: Encoding) -> Vec<u8> {
    let response = ExportLogsServiceResponse {
        partial_success: (rejected.count > 0 || !rejected.message.is_empty()).then(|| {
            ExportLogsPartialSuccess {
                rejected_log_records: rejected.count,
                error_message: rejected.message.clone(),
            }
        }),
    };
    encode(&response, encoding)
}

/// The body of a 4xx answer: a `google.rpc.Status` (code 3, INVALID_ARGUMENT) with the
/// message, in the request's encoding where it is known, as OTLP/HTTP asks.
pub fn error_body(message: &str, encoding: Option<Encoding>) -> (Vec<u8>, &'static str) {
    match encoding {
        Some(Encoding::Protobuf) => {
            // google.rpc.Status { int32 code = 1; string message = 2; }
            #[derive(Clone, PartialEq, prost::Message)]
            struct Status {
                #[prost(int32, tag = "1")]
                code: i32,
                #[prost(string, tag = "2")]
                message: String,
            }
            let status = Status {
                code: 3,
                message: message.to_owned(),
            };
            (status.encode_to_vec(), Encoding::Protobuf.content_type())
        }
        _ => (
            serde_json::to_vec(&serde_json::json!({"code": 3, "message": message}))
                .unwrap_or_default(),
            Encoding::Json.content_type(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn body<'a>(bytes: &'a [u8], ct: &'a str, ce: Option<&'a str>) -> Body<'a> {
        Body {
            bytes,
            content_type: Some(ct),
            content_encoding: ce,
        }
    }

    #[test]
    fn json_with_hex_ids_and_numbers_as_the_js_exporter_sends() {
        let json = br#"{"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"scope":{"name":"s"},"spans":[
            {"traceId":"06c7436bf753f2356a0beb4396c99452","spanId":"0b80dea9f5c21846","name":"x","kind":1,
             "startTimeUnixNano":"1796036889730000000","endTimeUnixNano":1796036889896937462,
             "attributes":[{"key":"n","value":{"intValue":167}},{"key":"m","value":{"intValue":"5"}}]}]}]}]}"#;
        let (req, enc) = body(json, "application/json; charset=utf-8", None)
            .traces()
            .unwrap();
        assert_eq!(enc, Encoding::Json);
        let span = &req.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.trace_id.len(), 16);
        assert_eq!(span.end_time_unix_nano, 1_796_036_889_896_937_462);
        assert_eq!(span.attributes.len(), 2);
    }

    #[test]
    fn gzip_protobuf_round_trip_and_limits() {
        let req = ExportTraceServiceRequest::default();
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&req.encode_to_vec()).unwrap();
        let zipped = z.finish().unwrap();
        assert!(
            body(&zipped, "application/x-protobuf", Some("gzip"))
                .traces()
                .is_ok()
        );
        // A bomb: 17 MiB of zeros in a few kB.
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&vec![0u8; MAX_DECODED + 1024 * 1024]).unwrap();
        let bomb = z.finish().unwrap();
        assert!(bomb.len() < 100_000);
        let err = body(&bomb, "application/x-protobuf", Some("gzip"))
            .traces()
            .unwrap_err();
        assert_eq!(err.status(), 413);
        let err = body(b"not gzip", "application/x-protobuf", Some("gzip"))
            .logs()
            .unwrap_err();
        assert_eq!(err.status(), 400);
        let err = body(b"", "application/x-protobuf", Some("br"))
            .logs()
            .unwrap_err();
        assert_eq!(err.status(), 415);
        let err = body(b"{}", "text/plain", None).logs().unwrap_err();
        assert_eq!(err.status(), 415);
        let err = body(b"{\"resourceLogs\": 5}", "application/json", None)
            .logs()
            .unwrap_err();
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn answers_carry_partial_success_only_when_something_was_refused() {
        let ok = traces_response(&Rejected::default(), Encoding::Json);
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&ok).unwrap(),
            serde_json::json!({})
        );
        let part = logs_response(
            &Rejected {
                count: 2,
                message: "two records had no session".into(),
            },
            Encoding::Protobuf,
        );
        let decoded = ExportLogsServiceResponse::decode(part.as_slice()).unwrap();
        assert_eq!(decoded.partial_success.unwrap().rejected_log_records, 2);
    }

    proptest::proptest! {
        #[test]
        fn hostile_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            for ct in ["application/x-protobuf", "application/json"] {
                for ce in [None, Some("gzip")] {
                    let b = body(&bytes, ct, ce);
                    let _ = b.traces();
                    let _ = b.logs();
                }
            }
        }
    }
}
