//! The MCP protocol of `agent-strace mcp`: JSON-RPC 2.0 messages, one per line, answered in
//! order; the protocol version negotiated as each revision says; tool calls handed to
//! `analysis::mcp_tools`.
//!
//! # Versions
//! The server is dual-era, as the 2026-07-28 revision's "Versioning and Compatibility" page
//! calls it:
//! - legacy (handshake) revisions 2024-11-05, 2025-03-26, 2025-06-18 and 2025-11-25: an
//!   `initialize` request names the client's version; a version we speak is answered with
//!   itself, any other with the newest we speak (the client decides whether it can use it).
//!   The negotiated version holds for the rest of the process (stdio is one session).
//! - modern revision 2026-07-28: no handshake; every request carries its version and the
//!   client's capabilities in `params._meta`; a version we do not speak is refused with
//!   `UnsupportedProtocolVersionError` (-32022) listing those we do; `server/discover` says
//!   what the server is. Modern results carry `resultType` and the server's identity.
//!
//! What a revision adds is only sent to clients that negotiated it: tool annotations from
//! 2025-03-26; titles, `outputSchema` and `structuredContent` from 2025-06-18.
//!
//! # Errors
//! Protocol mistakes (bad JSON, not JSON-RPC, an unknown method or tool, parameters of the
//! wrong shape) are JSON-RPC errors; a tool that cannot answer (a session that does not exist,
//! an argument out of range) is a tool result with `isError`, so the model reads why and can
//! try again. Notifications are never answered, not even with an error. Nothing a client sends
//! makes the server panic or stop; only the end of stdin (or of stdout) does.
//!
//! # Terminal safety
//! Every line written is JSON, and the characters that could steer a terminal (C0 and C1
//! controls, DEL, bidirectional marks) are written as `\uXXXX` escapes, in the text a host
//! shows as well as on the wire: session text is whatever agents and tools wrote.

use std::io::{self, BufRead, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::analysis::mcp_tools::{self, Host, ToolError};
use crate::model::deep_json;
use crate::render::escape::escape;
use crate::store::{LineRead, read_line};

/// The handshake revisions, oldest first.
const LEGACY: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];
/// The stateless revisions, oldest first.
const MODERN: [&str; 1] = ["2026-07-28"];
/// Where the version, the client's capabilities and our identity go in `_meta`.
const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
const META_SERVER: &str = "io.modelcontextprotocol/serverInfo";

/// JSON-RPC error codes (JSON-RPC 2.0, and MCP's own).
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const INTERNAL_ERROR: i64 = -32603;
const UNSUPPORTED_VERSION: i64 = -32022;

/// The longest message read; a longer line is skipped and answered with a parse error (no
/// request of ours is near this).
const MESSAGE_LIMIT: usize = 4 * 1024 * 1024;
/// How long a client may cache the tool list and the discovery result: they change only with
/// this binary.
const TTL_MS: u64 = 3_600_000;

const INSTRUCTIONS: &str = "Read-only access to the coding-agent sessions agent-strace recorded in this project: what each agent did, tool call by tool call, with failures, retries, tokens and cost. Start with list_sessions to find a session id (ids may be shortened to a unique prefix), then get_session_summary for what happened, get_session for the events themselves, search_events to find calls across sessions (failed commands, edits to a file), and diff_sessions to compare two attempts at a task.";

/// Which revision a request is served under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Era {
    Legacy(&'static str),
    Modern(&'static str),
}

impl Era {
    fn version(self) -> &'static str {
        match self {
            Era::Legacy(v) | Era::Modern(v) => v,
        }
    }

    /// Whether the revision has what `since` introduced (revisions are dates, oldest first).
    fn at_least(self, since: &str) -> bool {
        self.version() >= since
    }
}

/// A JSON-RPC error to answer with.
struct RpcError {
    code: i64,
    message: String,
    data: Option<Value>,
}

fn rpc_error(code: i64, message: impl Into<String>) -> RpcError {
    RpcError {
        code,
        message: message.into(),
        data: None,
    }
}

/// One connection's state: the version an `initialize` negotiated, if one did.
pub(crate) struct Server<'h> {
    host: &'h dyn Host,
    legacy: Option<&'static str>,
}

/// Serves requests from `input` until it ends, answering on `output`. A closed `output` ends
/// the server quietly (the client went away).
pub(crate) fn serve(
    host: &dyn Host,
    mut input: impl BufRead,
    mut output: impl Write,
) -> io::Result<()> {
    let mut server = Server::new(host);
    let mut buf = Vec::new();
    loop {
        let read = read_line(&mut input, &mut buf, MESSAGE_LIMIT)?;
        if read.consumed == 0 {
            return Ok(());
        }
        let answer = server.answer(&buf, read);
        if let Some((answer, id)) = answer {
            match write_message(&mut output, &answer, id) {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
                other => other?,
            }
        }
    }
}

/// Writes one answer; `id`, the request's id as the client wrote it, replaces the answer's id
/// if it has one (an id of null is ours: the request's could not be read).
fn write_message(
    output: &mut impl Write,
    message: &Value,
    id: Option<&RawValue>,
) -> io::Result<()> {
    let text = match (message, id) {
        (Value::Object(fields), Some(id)) if fields.get("id").is_some_and(|v| !v.is_null()) => {
            serde_json::to_string(&WithId { fields, id })?
        }
        _ => message.to_string(),
    };
    let line = escape(&text).into_owned();
    output.write_all(line.as_bytes())?;
    output.write_all(b"\n")?;
    output.flush()
}

impl<'h> Server<'h> {
    pub(crate) fn new(host: &'h dyn Host) -> Self {
        Server { host, legacy: None }
    }

    /// The answer to one line, if one is due, with the request's id as the client wrote it.
    fn answer<'l>(
        &mut self,
        line: &'l [u8],
        read: LineRead,
    ) -> Option<(Value, Option<&'l RawValue>)> {
        if read.too_long {
            let answer = error_response(
                &Value::Null,
                &rpc_error(
                    PARSE_ERROR,
                    format!("a message longer than {MESSAGE_LIMIT} bytes was skipped"),
                ),
            );
            return Some((answer, None));
        }
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            return None;
        }
        let (message, id) = match decode(trimmed) {
            Ok(decoded) => decoded,
            Err(e) => {
                let answer = error_response(
                    &Value::Null,
                    &rpc_error(PARSE_ERROR, format!("the line is not JSON: {e}")),
                );
                return Some((answer, None));
            }
        };
        self.message(&message).map(|answer| (answer, id))
    }

    /// The answer to one decoded message, if one is due.
    pub(crate) fn message(&mut self, message: &Value) -> Option<Value> {
        let Value::Object(m) = message else {
            let what = if message.is_array() {
                "batches are not supported: send one message per line"
            } else {
                "a message must be a JSON object"
            };
            return Some(error_response(
                &Value::Null,
                &rpc_error(INVALID_REQUEST, what),
            ));
        };
        let id = match m.get("id") {
            None => None,
            // MCP's schema says `string | number`: a client may send `1.5`, `1e3` or a number
            // no f64 holds, and gets back the text it sent (`serve` writes it).
            Some(id @ (Value::String(_) | Value::Number(_))) => Some(id.clone()),
            Some(_) => {
                return Some(error_response(
                    &Value::Null,
                    &rpc_error(
                        INVALID_REQUEST,
                        "a request's id must be a string or a number",
                    ),
                ));
            }
        };
        let Some(method) = m.get("method") else {
            // A response to a request of ours (we send none), or nothing JSON-RPC knows.
            if m.contains_key("result") || m.contains_key("error") {
                return None;
            }
            return Some(error_response(
                id.as_ref().unwrap_or(&Value::Null),
                &rpc_error(INVALID_REQUEST, "a request needs a method"),
            ));
        };
        // Notifications (initialized, cancelled, progress …) ask for nothing, not even an error.
        let id = id?;
        if m.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Some(error_response(
                &id,
                &rpc_error(INVALID_REQUEST, "`jsonrpc` must be \"2.0\""),
            ));
        }
        let Some(method) = method.as_str() else {
            return Some(error_response(
                &id,
                &rpc_error(INVALID_REQUEST, "`method` must be a string"),
            ));
        };
        let empty = Map::new();
        let params = match m.get("params") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(p)) => p,
            Some(_) => {
                return Some(error_response(
                    &id,
                    &rpc_error(INVALID_PARAMS, "`params` must be an object"),
                ));
            }
        };
        let answer = catch_unwind(AssertUnwindSafe(|| self.request(method, params)))
            .unwrap_or_else(|_| {
                Err(rpc_error(
                    INTERNAL_ERROR,
                    "the server failed on this request",
                ))
            });
        Some(match answer {
            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Err(e) => error_response(&id, &e),
        })
    }

    fn request(&mut self, method: &str, params: &Map<String, Value>) -> Result<Value, RpcError> {
        if method == "initialize" {
            return self.initialize(params);
        }
        let era = match modern_version(params)? {
            Some(version) => Era::Modern(version),
            None if method == "server/discover" => Era::Modern(MODERN[MODERN.len() - 1]),
            None => match self.legacy {
                Some(version) => Era::Legacy(version),
                None if method == "ping" => Era::Legacy(LEGACY[LEGACY.len() - 1]),
                None => {
                    return Err(rpc_error(
                        INVALID_REQUEST,
                        format!(
                            "send `initialize` first, or name the protocol version in `_meta` (\"{META_VERSION}\"), as revision {} does",
                            MODERN[MODERN.len() - 1]
                        ),
                    ));
                }
            },
        };
        let result = match method {
            "server/discover" => discover(),
            "ping" => Map::new(),
            "tools/list" => tools_list(era),
            "tools/call" => self.tools_call(era, params)?,
            _ => {
                return Err(rpc_error(
                    METHOD_NOT_FOUND,
                    format!(
                        "no method `{}` here: this server has tools only",
                        cut(method)
                    ),
                ));
            }
        };
        Ok(shaped(era, result))
    }

    fn initialize(&mut self, params: &Map<String, Value>) -> Result<Value, RpcError> {
        let Some(asked) = params.get("protocolVersion").and_then(Value::as_str) else {
            return Err(rpc_error(
                INVALID_PARAMS,
                "`initialize` needs `protocolVersion`, the revision the client speaks",
            ));
        };
        let version = LEGACY
            .iter()
            .find(|v| **v == asked)
            .copied()
            .unwrap_or(LEGACY[LEGACY.len() - 1]);
        self.legacy = Some(version);
        let era = Era::Legacy(version);
        Ok(json!({
            "protocolVersion": version,
            "capabilities": capabilities(),
            "serverInfo": server_info(era),
            "instructions": INSTRUCTIONS,
        }))
    }

    fn tools_call(
        &self,
        era: Era,
        params: &Map<String, Value>,
    ) -> Result<Map<String, Value>, RpcError> {
        let Some(name) = params.get("name").and_then(Value::as_str) else {
            return Err(rpc_error(
                INVALID_PARAMS,
                "`tools/call` needs the tool's `name`",
            ));
        };
        let arguments = match params.get("arguments") {
            None => &Value::Null,
            Some(a @ (Value::Object(_) | Value::Null)) => a,
            Some(_) => {
                return Err(rpc_error(INVALID_PARAMS, "`arguments` must be an object"));
            }
        };
        let mut result = Map::new();
        match mcp_tools::call(self.host, name, arguments) {
            Ok(value) => {
                let text = escape(&value.to_string()).into_owned();
                result.insert("content".into(), json!([{"type": "text", "text": text}]));
                if era.at_least("2025-06-18") {
                    result.insert("structuredContent".into(), value);
                }
                result.insert("isError".into(), Value::Bool(false));
            }
            Err(ToolError::UnknownTool(_)) => {
                return Err(rpc_error(
                    INVALID_PARAMS,
                    format!("unknown tool `{}`; tools/list names the tools", cut(name)),
                ));
            }
            Err(ToolError::Failed(message)) => {
                let text = escape(&message).into_owned();
                result.insert("content".into(), json!([{"type": "text", "text": text}]));
                result.insert("isError".into(), Value::Bool(true));
            }
        }
        Ok(result)
    }
}

/// The modern version a request names in its `_meta`, if it names one.
fn modern_version(params: &Map<String, Value>) -> Result<Option<&'static str>, RpcError> {
    let Some(meta) = params.get("_meta") else {
        return Ok(None);
    };
    let Some(meta) = meta.as_object() else {
        return Err(rpc_error(INVALID_PARAMS, "`_meta` must be an object"));
    };
    let Some(asked) = meta.get(META_VERSION) else {
        return Ok(None);
    };
    let Some(asked) = asked.as_str() else {
        return Err(rpc_error(
            INVALID_PARAMS,
            format!("`{META_VERSION}` must be a string"),
        ));
    };
    let Some(version) = MODERN.iter().find(|v| **v == asked).copied() else {
        let supported: Vec<&str> = MODERN
            .iter()
            .rev()
            .chain(LEGACY.iter().rev())
            .copied()
            .collect();
        return Err(RpcError {
            code: UNSUPPORTED_VERSION,
            message: "Unsupported protocol version".to_owned(),
            data: Some(json!({"supported": supported, "requested": asked})),
        });
    };
    if !meta.get(META_CAPABILITIES).is_some_and(Value::is_object) {
        return Err(rpc_error(
            INVALID_PARAMS,
            format!(
                "`_meta` must hold `{META_CAPABILITIES}`, an object (empty when the client has none)"
            ),
        ));
    }
    Ok(Some(version))
}

fn capabilities() -> Value {
    json!({"tools": {"listChanged": false}})
}

fn server_info(era: Era) -> Value {
    let mut info = json!({"name": "agent-strace", "version": env!("CARGO_PKG_VERSION")});
    if era.at_least("2025-06-18") {
        info["title"] = json!("agent-strace traces");
    }
    info
}

fn discover() -> Map<String, Value> {
    let era = Era::Modern(MODERN[MODERN.len() - 1]);
    let mut result = Map::new();
    result.insert(
        "supportedVersions".into(),
        json!(MODERN.iter().rev().collect::<Vec<_>>()),
    );
    result.insert("capabilities".into(), capabilities());
    result.insert("serverInfo".into(), server_info(era));
    result.insert("instructions".into(), json!(INSTRUCTIONS));
    result.insert("ttlMs".into(), json!(TTL_MS));
    result.insert("cacheScope".into(), json!("public"));
    result
}

fn tools_list(era: Era) -> Map<String, Value> {
    let tools: Vec<Value> = mcp_tools::tools()
        .into_iter()
        .map(|t| {
            let mut tool = json!({
                "name": t.name,
                "description": t.description,
                "inputSchema": t.input_schema,
            });
            if era.at_least("2025-03-26") {
                tool["annotations"] = json!({
                    "title": t.title, "readOnlyHint": true, "destructiveHint": false,
                    "idempotentHint": true, "openWorldHint": false
                });
            }
            if era.at_least("2025-06-18") {
                tool["title"] = json!(t.title);
                tool["outputSchema"] = t.output_schema;
            }
            tool
        })
        .collect();
    let mut result = Map::new();
    result.insert("tools".into(), Value::Array(tools));
    if matches!(era, Era::Modern(_)) {
        result.insert("ttlMs".into(), json!(TTL_MS));
        result.insert("cacheScope".into(), json!("public"));
    }
    result
}

/// A result as its revision shapes it: modern results say they are complete and who answered.
fn shaped(era: Era, mut result: Map<String, Value>) -> Value {
    if matches!(era, Era::Modern(_)) {
        result.insert("resultType".into(), json!("complete"));
        result.insert("_meta".into(), json!({META_SERVER: server_info(era)}));
    }
    Value::Object(result)
}

/// Decodes one message. An object's `id` is also kept as the text the client wrote: JSON-RPC
/// wants it back unchanged, and a number read into an f64 (`18446744073709551616`, `1e3`) is
/// written back as another text, or another number, or (`1e400`) not read at all.
fn decode(line: &[u8]) -> Result<(Value, Option<&RawValue>), serde_json::Error> {
    if line.first() != Some(&b'{') {
        return Ok((deep_json::from_slice(line)?, None));
    }
    let request: Request = deep_json::from_slice(line)?;
    Ok((Value::Object(request.fields), request.id))
}

/// A message object whose `id` is kept as written, besides being decoded.
struct Request<'a> {
    fields: Map<String, Value>,
    id: Option<&'a RawValue>,
}

impl<'de> Deserialize<'de> for Request<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = Request<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut request = Request {
                    fields: Map::new(),
                    id: None,
                };
                while let Some(key) = map.next_key::<String>()? {
                    if key == "id" {
                        let raw: &'de RawValue = map.next_value()?;
                        // Only the id's kind is read from its value; a number no f64 holds
                        // (`1e400`) is still a number, and its text is what is written back.
                        let number = raw
                            .get()
                            .starts_with(|c: char| c == '-' || c.is_ascii_digit());
                        let value = match deep_json::from_str(raw.get()) {
                            Ok(value) => value,
                            Err(_) if number => Value::from(0),
                            Err(e) => return Err(de::Error::custom(e)),
                        };
                        request.fields.insert(key, value);
                        request.id = Some(raw);
                    } else {
                        let value: Value = map.next_value()?;
                        request.fields.insert(key, value);
                    }
                }
                Ok(request)
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// An answer whose `id` is written as the request's text.
struct WithId<'a> {
    fields: &'a Map<String, Value>,
    id: &'a RawValue,
}

impl Serialize for WithId<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (key, value) in self.fields {
            if key == "id" {
                map.serialize_entry(key, self.id)?;
            } else {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

fn error_response(id: &Value, e: &RpcError) -> Value {
    let mut error = json!({"code": e.code, "message": e.message});
    if let Some(data) = &e.data {
        error["data"] = data.clone();
    }
    json!({"jsonrpc": "2.0", "id": id, "error": error})
}

/// A name the client sent, short enough to quote in an error.
fn cut(text: &str) -> String {
    text.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::mcp_tools::DiffSide;
    use crate::analysis::phases::Phases;
    use crate::store::Store;

    struct NoHost(Store);

    impl Host for NoHost {
        fn store(&self) -> &Store {
            &self.0
        }
        fn now(&self) -> f64 {
            0.0
        }
        fn instant(&self, _: &str) -> Result<f64, String> {
            Ok(0.0)
        }
        fn phases(&self, _: &str) -> Result<Phases, String> {
            Err("no".into())
        }
        fn diff_side(&self, _: &str) -> Result<DiffSide, String> {
            Err("no".into())
        }
    }

    fn answers(lines: &str) -> Vec<Value> {
        let host = NoHost(Store::new("/nonexistent/agent-strace-test"));
        let mut out = Vec::new();
        serve(&host, lines.as_bytes(), &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn initialize_echoes_a_version_it_speaks_and_offers_its_newest_otherwise() {
        let a = answers(
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-03-26\"}}\n",
        );
        assert_eq!(a[0]["result"]["protocolVersion"], "2025-03-26");
        let a = answers(
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2099-01-01\"}}\n",
        );
        assert_eq!(a[0]["result"]["protocolVersion"], "2025-11-25");
    }

    #[test]
    fn a_modern_request_for_an_unknown_version_is_refused_with_the_versions_spoken() {
        let a = answers(
            "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"tools/list\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"1900-01-01\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}\n",
        );
        assert_eq!(a[0]["error"]["code"], -32022);
        assert_eq!(a[0]["error"]["data"]["requested"], "1900-01-01");
        assert_eq!(a[0]["error"]["data"]["supported"][0], "2026-07-28");
    }

    #[test]
    fn tool_lists_grow_with_the_revision() {
        let a = answers(concat!(
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2024-11-05\"}}\n",
            "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}\n",
        ));
        let tool = &a[1]["result"]["tools"][0];
        assert!(tool.get("outputSchema").is_none() && tool.get("annotations").is_none());
        let a = answers(
            "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}\n",
        );
        assert_eq!(a[0]["result"]["resultType"], "complete");
        assert_eq!(a[0]["result"]["tools"][0]["outputSchema"]["type"], "object");
    }

    #[test]
    fn notifications_and_responses_get_no_answer() {
        let a = answers(concat!(
            "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n",
            "{\"jsonrpc\":\"2.0\",\"method\":\"no/such\"}\n",
            "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}\n",
            "\n",
        ));
        assert!(a.is_empty(), "{a:?}");
    }

    #[test]
    fn hostile_characters_leave_as_escapes() {
        let a = answers(
            "{\"jsonrpc\":\"2.0\",\"id\":\"\u{202e}\\u001b[2J\",\"method\":\"initialize\",\"params\":{}}\n",
        );
        assert_eq!(a[0]["id"], "\u{202e}\u{1b}[2J");
        let host = NoHost(Store::new("/nonexistent"));
        let mut out = Vec::new();
        serve(
            &host,
            "{\"jsonrpc\":\"2.0\",\"id\":\"\u{202e}\",\"method\":\"ping\"}\n".as_bytes(),
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.contains('\u{202e}') && text.contains("\\u202e"),
            "{text}"
        );
    }
}
