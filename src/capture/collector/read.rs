//! What the collector answers from its store: the session list and a session's metadata as
//! JSON, a session's events as NDJSON (the store's own lines, as the Python tool's collector
//! serves them), and a health check.

use hyper::StatusCode;
use serde_json::{Value, json};

use super::Collector;
use super::routes::{Pieces, Reply, Request};
use crate::model::SessionMeta;
use crate::store::{StoreError, is_valid_session_id};

/// `GET /health`: alive, and which version. Public, so it says nothing about the traces.
pub fn health(_collector: &Collector, _request: &Request) -> Reply {
    Reply::json(
        StatusCode::OK,
        &json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }),
    )
}

/// `GET /sessions`: every session's metadata, counters caught up, newest first.
pub fn sessions(collector: &Collector, _request: &Request) -> Reply {
    let store = &collector.store;
    if !store.exists() {
        return Reply::json(StatusCode::OK, &json!([]));
    }
    match store.list() {
        Ok((sessions, _unreadable)) => {
            let list: Vec<Value> = sessions.iter().map(|s| meta_json(&s.meta)).collect();
            Reply::json(StatusCode::OK, &Value::Array(list))
        }
        Err(e) => failed(collector, &e),
    }
}

/// `GET /sessions/{id}`: one session's metadata, counters caught up.
pub fn session(collector: &Collector, request: &Request) -> Reply {
    let id = match session_id(request) {
        Ok(id) => id,
        Err(reply) => return reply,
    };
    if !collector.store.has_session(id) {
        return not_found(id);
    }
    match collector.store.summary(id) {
        Ok(summary) => Reply::json(StatusCode::OK, &meta_json(&summary.meta)),
        Err(e) => failed(collector, &e),
    }
}

/// How much of a session's events a response holds at a time: a large session read by many
/// slow clients must not be held whole for each of them.
const PIECE_BYTES: usize = 64 * 1024;

/// `GET /sessions/{id}/events`: the session's events, one JSON object a line, read from the
/// file and sent a piece at a time (at most [`PIECE_BYTES`] and one event); a session of
/// less than one piece goes whole, with its `Content-Length`.
pub fn events(collector: &Collector, request: &Request) -> Reply {
    let id = match session_id(request) {
        Ok(id) => id,
        Err(reply) => return reply,
    };
    if !collector.store.has_session(id) {
        return not_found(id);
    }
    match collector.store.events(id) {
        Ok(mut reader) => {
            let mut pieces: Pieces = Box::new(move || {
                let mut piece = Vec::new();
                for event in reader.by_ref() {
                    if serde_json::to_writer(&mut piece, &event).is_ok() {
                        piece.push(b'\n');
                    }
                    if piece.len() >= PIECE_BYTES {
                        break;
                    }
                }
                (!piece.is_empty()).then_some(piece)
            });
            // A piece short of the size is the last: a small session goes whole, with its
            // length, as it always did.
            let first = pieces().unwrap_or_default();
            let rest = (first.len() >= PIECE_BYTES).then_some(pieces);
            Reply::ndjson(first, rest)
        }
        Err(e) => failed(collector, &e),
    }
}

/// The `{id}` of the route, refused unless it can name a session folder.
fn session_id(request: &Request) -> Result<&str, Reply> {
    let id = request.params.first().map_or("", String::as_str);
    if is_valid_session_id(id) {
        Ok(id)
    } else {
        Err(Reply::error(
            StatusCode::BAD_REQUEST,
            &format!("session id {id:?} cannot name a session folder"),
        ))
    }
}

/// `meta` as `meta.json` gives it, and, when values of keys it does not model were left out
/// for their size (a reply is made for each of many clients, and its meta is read as views
/// read it), how many and their bytes under [`LEFT_OUT`].
fn meta_json(meta: &SessionMeta) -> Value {
    let mut json = serde_json::from_str(&meta.to_json()).unwrap_or(Value::Null);
    if let (Some(object), false) = (json.as_object_mut(), meta.left_out.is_none()) {
        let said = json!({"keys": meta.left_out.keys, "bytes": meta.left_out.bytes});
        object.insert(LEFT_OUT.into(), said);
    }
    json
}

/// The key of a session's reply that says what its meta left out (see [`meta_json`]).
const LEFT_OUT: &str = "left_out";

fn not_found(id: &str) -> Reply {
    Reply::error(StatusCode::NOT_FOUND, &format!("session not found: {id}"))
}

fn failed(collector: &Collector, e: &StoreError) -> Reply {
    collector.log(&format!("cannot read the store: {e}"));
    Reply::store_failed(e, &json!({ "error": format!("the store failed: {e}") }))
}
