//! The tools `agent-strace mcp` serves, as data: their names, descriptions and JSON Schemas,
//! their arguments checked, and what each returns (a `Serialize` value the server wraps into
//! an MCP tool result).
//!
//! The tools read the store and nothing else. What only the command line knows (a session's
//! phases with the usage its agent logged, a session's cost with its subagents', what a date
//! or an age like `7d` means) comes through [`Host`], so `get_session_summary` is
//! `explain --format json` and `diff_sessions` is `diff --format json`, bounded as below.
//!
//! Everything a tool returns is bounded: sessions and matches by `limit`, a session's events
//! by `limit` and `offset`, each string in an event by `max_chars` and a page by
//! [`PAGE_BYTES`] (an event that floods it alone by its lists and objects); a summary's and a
//! diff's lists by `max_items` and strings by `max_chars`; so one huge session cannot flood
//! the client (or the context window of the model reading it).
//!
//! Everything a tool returns is redacted too (`redact`'s patterns, as `share` does): it goes
//! into a model's context, and so off this machine, and the store may hold a secret as it was
//! (a session recorded with `--no-redact`, or before a pattern was added). A string is
//! redacted before it is cut, so that half a secret cannot pass for none.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::diff;
use super::phases::{Explained, Phases};
use super::tree::{Forest, TreeCost};
use crate::model::command::exit_code;
use crate::model::glob::Glob;
use crate::model::meta::Believed;
use crate::model::period::PeriodStarts;
use crate::model::text::{cut, cut_at};
use crate::model::tools::{Agent, ToolKind};
use crate::model::usage::UNBELIEVED_USAGE;
use crate::model::view::{ToolCall, ToolResult, View};
use crate::model::{Event, EventType, SessionMeta};
use crate::redact::{redact_str, redact_value};
use crate::store::{IndexedSession, Listing, MAX_SESSION_ID_BYTES, Selector, Store, StoreError};

/// What the tools need that only the command line can give.
pub trait Host {
    /// The store the tools read.
    fn store(&self) -> &Store;
    /// The reader's clock, in seconds since the epoch: a `since` is a period that ends now.
    fn now(&self) -> f64;
    /// `text` (a date like 2026-11-25, an RFC 3339 time, or an age like `7d`) as seconds since
    /// the epoch; the error is a sentence for the caller.
    fn instant(&self, text: &str) -> Result<f64, String>;
    /// Session `id` (a full id) split into phases, as `explain` does.
    fn phases(&self, id: &str) -> Result<Phases, String>;
    /// Session `id` (a full id) as `diff` reads it: its phases and its cost, without its
    /// subagents', and how many subagent sessions it has.
    fn diff_side(&self, id: &str) -> Result<DiffSide, String>;
}

/// One session as `diff_sessions` compares it.
#[derive(Debug, Clone)]
pub struct DiffSide {
    pub phases: Phases,
    /// The session's own, as its phases are.
    pub cost_usd: f64,
    /// `cost_usd` is estimated from payload sizes: the session recorded no usage.
    pub cost_estimated: bool,
    /// Models whose usage has no known price, in name order: `cost_usd` counts them at $0.
    pub cost_unpriced_models: Vec<String>,
    /// Subagent sessions it has, left out of the figures.
    pub subagents: usize,
}

/// Why a tool call did not return data.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// No tool of that name: a protocol error, not a tool's result.
    #[error("there is no tool named `{0}`")]
    UnknownTool(String),
    /// The arguments, the session named, or the store: the caller (a model) reads this and can
    /// try again.
    #[error("{0}")]
    Failed(String),
}

fn failed(message: impl Into<String>) -> ToolError {
    ToolError::Failed(message.into())
}

/// One tool as `tools/list` describes it.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub input_schema: Value,
    pub output_schema: Value,
}

pub const LIST_SESSIONS: &str = "list_sessions";
pub const GET_SESSION: &str = "get_session";
pub const SEARCH_EVENTS: &str = "search_events";
pub const GET_SESSION_SUMMARY: &str = "get_session_summary";
pub const DIFF_SESSIONS: &str = "diff_sessions";

/// The most sessions `list_sessions` returns, and its default.
pub const MAX_SESSIONS: u64 = 1000;
const DEFAULT_SESSIONS: u64 = 20;
/// The most events one `get_session` page holds, and its default.
pub const MAX_EVENTS: u64 = 500;
const DEFAULT_EVENTS: u64 = 50;
/// The most matches `search_events` returns, and its default.
pub const MAX_MATCHES: u64 = 500;
const DEFAULT_MATCHES: u64 = 50;
/// How many sessions `search_events` reads unless told otherwise (newest first), and the most
/// it may be told: a search reads each session's events, and a model waits for the answer.
const DEFAULT_SEARCHED: u64 = 500;
const MAX_SEARCHED: u64 = 100_000;
/// How many characters of each string in an event `get_session` keeps unless told otherwise,
/// and the most it may be told.
const DEFAULT_CHARS: u64 = 2000;
const MAX_CHARS: u64 = 100_000;
/// About how long a `get_session` page may be (as JSON): `max_chars` bounds each string, but
/// an event may hold millions of them. A page stops before the event that would pass it, and
/// an event that passes it alone keeps the entries of its lists and objects that fit.
pub const PAGE_BYTES: usize = 1_000_000;
/// How much of a first prompt, a command or an error a listing or a match keeps.
const PROMPT_CHARS: usize = 200;
/// How many entries each list of a summary or a diff keeps unless told otherwise, and the most
/// it may be told: a long session's summary ran past 100 KB (a client such as Claude Code
/// refuses a tool's answer of more than 25,000 tokens).
const DEFAULT_ITEMS: u64 = 20;
const MAX_ITEMS: u64 = 100_000;
/// How many characters of each string a summary or a diff keeps unless told otherwise (a
/// command is given whole, and a heredoc can be megabytes).
const DEFAULT_REPORT_CHARS: u64 = 200;
/// About how long a summary or a diff may be (as JSON) when `max_items` is not given: lists
/// nest (phases of commands), so fewer entries of each are kept until it fits (about 10,000
/// tokens).
const REPORT_BYTES: usize = 40_000;
const COMMAND_CHARS: usize = 300;
const ERROR_CHARS: usize = 500;
/// How much of a tool's name and of a file's path a match keeps: a path is a few hundred
/// characters, and a session may hold one of megabytes, sent back 500 times over.
const TOOL_CHARS: usize = 200;
const PATH_CHARS: usize = 1000;
/// The longest `file_path` a search takes: a path is at most 4096 bytes on Linux, and a glob
/// is matched against every path of every session searched.
const PATH_QUERY_CHARS: usize = 4096;

fn max_items_schema() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": MAX_ITEMS, "default": DEFAULT_ITEMS,
           "description": "How many entries each list keeps (files, commands, failures, phases); `<list>_omitted` beside a list cut says how many it left out. Unless given, at most 20, fewer where the answer would pass about 40,000 characters"})
}

fn report_chars_schema() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": MAX_CHARS, "default": DEFAULT_REPORT_CHARS,
           "description": "How many characters of each string (a command, an error) are kept"})
}

fn items_omitted_schema() -> Value {
    json!({"type": "integer", "description": "List entries left out, in all (see max_items)"})
}

fn strings_cut_schema() -> Value {
    json!({"type": "integer", "description": "Strings cut to max_chars"})
}

fn session_id_schema(what: &str) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": MAX_SESSION_ID_BYTES,
           "description": format!("{what}: a session id, or a unique prefix of one (as list_sessions shows)")})
}

fn limit_schema(default: u64, max: u64, what: &str) -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": max, "default": default,
           "description": format!("The most {what} to return")})
}

/// The forms `since` takes are those of the command line's `--since`, named in the same words.
const SINCE: &str = concat!(
    "Only sessions started at or after this: ",
    crate::model::when::when_forms!()
);

/// A session as the listing tools show it (the JSON schema is [`session_schema`]).
#[derive(Debug, Clone, Serialize)]
pub struct ListedSession {
    pub session_id: String,
    // A figure no session can have (a damaged or forged `meta.json`) is `null`, as in `list`.
    pub started_at: Believed<f64>,
    pub ended_at: Believed<Option<f64>>,
    pub duration_s: Believed<Option<f64>>,
    pub agent_name: String,
    pub command: String,
    pub title: Option<String>,
    pub first_prompt: Option<String>,
    pub tool_calls: Believed<u64>,
    /// Calls that failed (refused calls are not among them), and the API errors that ended
    /// turns.
    pub errors: Believed<u64>,
    /// Of `errors`, the calls' own.
    pub tool_errors: Believed<u64>,
    pub rejections: u64,
    pub llm_requests: Believed<u64>,
    pub total_tokens: Believed<u64>,
    pub parent_session_id: Option<String>,
    /// What the session cost at this binary's prices with its subagents' (as `list` shows
    /// it); `null` when its events could not be read.
    pub cost_usd: Option<f64>,
    /// This session's own cost (its subagents' not included); `null` likewise.
    pub own_cost_usd: Option<f64>,
    /// Some of `cost_usd` is estimated from payload sizes (no usage was recorded).
    pub cost_estimated: bool,
    /// Models whose usage has no known price, in name order: `cost_usd` counts them at $0.
    pub cost_unpriced_models: Vec<String>,
    /// Responses whose usage holds a count no response can have: `cost_usd` leaves them out.
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    pub cost_unbelieved_usage: u64,
}

fn session_schema() -> Value {
    let nullable = |t: &str| json!({"type": [t, "null"]});
    json!({
        "type": "object",
        "required": ["session_id", "started_at", "agent_name", "tool_calls", "errors"],
        "description": "A start, end, duration or count no session can have (a damaged or forged meta.json) is null, and a warning names it",
        "properties": {
            "session_id": {"type": "string"},
            "started_at": {"type": ["number", "null"], "description": "Seconds since the Unix epoch"},
            "ended_at": nullable("number"),
            "duration_s": nullable("number"),
            "agent_name": {"type": "string"},
            "command": {"type": "string"},
            "title": nullable("string"),
            "first_prompt": nullable("string"),
            "tool_calls": nullable("integer"),
            "errors": {"type": ["integer", "null"], "description": "Calls that failed, and API errors that ended a turn"},
            "tool_errors": {"type": ["integer", "null"], "description": "Of errors, the calls that failed: the API errors that ended turns left out"},
            "rejections": {"type": "integer", "description": "Calls the user refused"},
            "llm_requests": nullable("integer"),
            "total_tokens": nullable("integer"),
            "parent_session_id": nullable("string"),
            "cost_usd": {"type": ["number", "null"], "description": "With its subagents', as `agent-strace list` shows it"},
            "own_cost_usd": {"type": ["number", "null"], "description": "Its subagents' left out"},
            "cost_estimated": {"type": "boolean", "description": "Some of cost_usd is estimated from payload sizes"},
            "cost_unpriced_models": {"type": "array", "items": {"type": "string"}, "description": "Models with no known price: cost_usd counts their usage at $0, so it is less than was spent"},
            "cost_unbelieved_usage": {"type": "integer", "description": format!("Responses whose usage no response can have ({UNBELIEVED_USAGE}): unknown, left out of cost_usd (absent when none)")}
        }
    })
}

/// Every tool, in the order `tools/list` gives them.
pub fn tools() -> Vec<ToolSpec> {
    let event_types: Vec<&str> = EventType::KNOWN.iter().map(EventType::as_str).collect();
    vec![
        ToolSpec {
            name: LIST_SESSIONS,
            title: "List recorded agent sessions",
            description: "The coding-agent sessions agent-strace recorded in this project, newest first, with when each ran, which agent, its title or first prompt, tool calls, failed calls, tokens and cost. Use it to find a session id for the other tools.",
            input_schema: json!({
                "type": "object",
                "properties": {
                    "limit": limit_schema(DEFAULT_SESSIONS, MAX_SESSIONS, "sessions"),
                    "since": {"type": "string", "description": SINCE},
                    "agent": {"type": "string", "description": "Only sessions whose agent name contains this (any case), e.g. claude-code, codex, cursor"},
                    "include_subagents": {"type": "boolean", "default": false, "description": "Also list subagent sessions (left out by default, as `agent-strace list` does)"}
                },
                "additionalProperties": false
            }),
            output_schema: json!({
                "type": "object",
                "required": ["sessions", "matched", "warnings"],
                "properties": {
                    "sessions": {"type": "array", "items": session_schema()},
                    "matched": {"type": "integer", "description": "Sessions that match the filters, before the limit"},
                    "warnings": {"type": "array", "items": {"type": "string"}}
                }
            }),
        },
        ToolSpec {
            name: GET_SESSION,
            title: "Read one session's events",
            description: "One recorded session: its metadata and a page of its events (prompts, tool calls and results, file reads and writes, errors, model requests) in the order they happened, optionally only some event types. Page with offset and limit (next_offset says where the next page starts); long strings in events are cut to max_chars, and a page holds about 1,000,000 characters of JSON at most: fewer events than limit, and an event longer than that alone keeps the entries of its lists and objects that fit (items_omitted counts those left out). warnings say what its figures leave out, such as a subagent session that cannot be read (its cost is not in cost_usd).",
            input_schema: json!({
                "type": "object",
                "required": ["session_id"],
                "properties": {
                    "session_id": session_id_schema("The session"),
                    "event_types": {"type": "array", "items": {"type": "string", "examples": event_types},
                                    "description": format!("Only events of these types: {} (none named, or an empty list: every type)", event_types.join(", "))},
                    "offset": {"type": "integer", "minimum": 0, "default": 0, "description": "How many matching events to skip"},
                    "limit": limit_schema(DEFAULT_EVENTS, MAX_EVENTS, "events"),
                    "max_chars": {"type": "integer", "minimum": 1, "maximum": MAX_CHARS, "default": DEFAULT_CHARS,
                                  "description": "How many characters of each string in an event to keep"}
                },
                "additionalProperties": false
            }),
            output_schema: json!({
                "type": "object",
                "required": ["session", "events", "matched", "offset", "next_offset", "warnings"],
                "properties": {
                    "session": session_schema(),
                    "events": {"type": "array", "items": {"type": "object", "required": ["event_type", "timestamp", "event_id"],
                        "properties": {"index": {"type": "integer", "description": "The event's position in the session, from 0"},
                                       "event_type": {"type": "string"}, "timestamp": {"type": "number"},
                                       "event_id": {"type": "string"}, "data": {}}}},
                    "matched": {"type": "integer", "description": "Events of the session that match the filter"},
                    "offset": {"type": "integer"},
                    "next_offset": {"type": ["integer", "null"], "description": "The offset of the next page; null on the last"},
                    "strings_cut": {"type": "integer", "description": "Strings cut to max_chars on this page"},
                    "items_omitted": {"type": "integer", "description": "Entries of an event's lists and objects left out to keep the page within about 1,000,000 characters"},
                    "unreadable_lines": {"type": "integer"},
                    "warnings": {"type": "array", "items": {"type": "string"},
                                 "description": "What the session's figures leave out or could not read, each naming the session and why: a subagent session that cannot be read (left out of cost_usd), a meta.json that cannot be used, the index not used"}
                }
            }),
        },
        ToolSpec {
            name: SEARCH_EVENTS,
            title: "Search tool calls across sessions",
            description: "Tool calls across recorded sessions (newest session first), each with how it ended: by tool name, file path (a glob such as src/**/*.rs or *.env, or any part of the path), a shell command's exit code, or whether it failed. Every filter given must match. Each match names its session and the event's index for get_session.",
            input_schema: json!({
                "type": "object",
                "properties": {
                    "tool": {"type": "string", "description": "The tool's name, any case (Bash, Read, Edit, shell, an MCP tool's name)"},
                    "file_path": {"type": "string", "maxLength": PATH_QUERY_CHARS, "description": "A glob (* ? ** [abc]) matched as a path, or else a part of the path the call names"},
                    "exit_code": {"type": "integer", "description": "The exit code a shell command ended with (0 for success)"},
                    "has_error": {"type": "boolean", "description": "true: only calls that failed; false: only calls that did not"},
                    "session_id": session_id_schema("Only this session"),
                    "since": {"type": "string", "description": SINCE},
                    "limit": limit_schema(DEFAULT_MATCHES, MAX_MATCHES, "matches"),
                    "max_sessions": {"type": "integer", "minimum": 1, "maximum": MAX_SEARCHED, "default": DEFAULT_SEARCHED,
                                     "description": "The most sessions to read, newest first (sessions the index shows cannot match are not read)"}
                },
                "additionalProperties": false
            }),
            output_schema: json!({
                "type": "object",
                "required": ["matches", "truncated", "sessions_searched"],
                "properties": {
                    "matches": {"type": "array", "items": {"type": "object",
                        "required": ["session_id", "event_index", "event_id", "timestamp", "tool", "failed", "rejected"],
                        "properties": {
                            "session_id": {"type": "string"}, "event_index": {"type": "integer"},
                            "event_id": {"type": "string"}, "timestamp": {"type": "number"},
                            "tool": {"type": ["string", "null"]}, "file_path": {"type": ["string", "null"]},
                            "command": {"type": ["string", "null"]}, "exit_code": {"type": ["integer", "null"]},
                            "failed": {"type": "boolean"}, "rejected": {"type": "boolean"},
                            "error": {"type": ["string", "null"]}, "duration_ms": {"type": ["number", "null"]},
                            "result_event_id": {"type": ["string", "null"]}}}},
                    "truncated": {"type": "boolean", "description": "The limit was reached: there may be more matches"},
                    "sessions_searched": {"type": "integer"},
                    "sessions_not_searched": {"type": "integer", "description": "Sessions that might match but were past max_sessions: raise it, or narrow with since"},
                    "warnings": {"type": "array", "items": {"type": "string"}}
                }
            }),
        },
        ToolSpec {
            name: GET_SESSION_SUMMARY,
            title: "Explain a session",
            description: "What the agent did in one session, phase by phase, as `agent-strace explain --format json` gives it: what each phase read, ran and wrote, which calls failed or were refused, retry loops and the time they wasted, and totals. Each list keeps max_items entries (a list cut says how many it left out in `<list>_omitted`) and each string max_chars characters.",
            input_schema: json!({
                "type": "object",
                "required": ["session_id"],
                "properties": {
                    "session_id": session_id_schema("The session"),
                    "max_items": max_items_schema(),
                    "max_chars": report_chars_schema()
                },
                "additionalProperties": false
            }),
            output_schema: json!({
                "type": "object",
                "required": ["session_id", "phases", "tool_calls", "errors"],
                "properties": {
                    "session_id": {"type": "string"}, "running": {"type": "boolean", "description": "true when the session has not ended: duration_s is how long it has run so far"}, "duration_s": {"type": ["number", "null"], "description": "null when the recorded start is one no session can have"},
                    "events": {"type": "integer"}, "phases": {"type": "array"},
                    "files": {"type": "array"}, "failures": {"type": "array"},
                    "rejected": {"type": "array"}, "retry_loops": {"type": "array"},
                    "tool_calls": {"type": "integer"}, "errors": {"type": "integer"},
                    "tool_errors": {"type": "integer", "description": "Of errors, the calls' own: the API errors that ended turns (turn_errors) left out"},
                    "turn_errors": {"type": "array"}, "interrupted_turns": {"type": "integer"},
                    "rejections": {"type": "integer"}, "retries": {"type": "integer"},
                    "wasted_s": {"type": "number"},
                    "items_omitted": items_omitted_schema(), "strings_cut": strings_cut_schema()
                }
            }),
        },
        ToolSpec {
            name: DIFF_SESSIONS,
            title: "Compare two sessions",
            description: "Two sessions compared, as `agent-strace diff --format json` gives it. structural (the default): phases aligned by label, with the files, commands and outcomes only one session had and where they diverged. semantic: tools added and removed, the change in calls, errors, tokens, retries, time and cost, and whether B improved on A. Each list keeps max_items entries (a list cut says how many it left out in `<list>_omitted`) and each string max_chars characters.",
            input_schema: json!({
                "type": "object",
                "required": ["session_a", "session_b"],
                "properties": {
                    "session_a": session_id_schema("The baseline session"),
                    "session_b": session_id_schema("The session compared with it"),
                    "mode": {"type": "string", "enum": ["structural", "semantic"], "default": "structural"},
                    "max_items": max_items_schema(),
                    "max_chars": report_chars_schema()
                },
                "additionalProperties": false
            }),
            output_schema: json!({
                "type": "object",
                "required": ["session_a", "session_b"],
                "properties": {
                    "session_a": {"type": "string"}, "session_b": {"type": "string"},
                    "items_omitted": items_omitted_schema(), "strings_cut": strings_cut_schema()
                }
            }),
        },
    ]
}

/// Runs tool `name` with `arguments` (a JSON object, or `null` for none).
pub fn call(host: &dyn Host, name: &str, arguments: &Value) -> Result<Value, ToolError> {
    let empty = Map::new();
    let args = match arguments {
        Value::Object(map) => map,
        Value::Null => &empty,
        _ => return Err(failed("the arguments must be a JSON object")),
    };
    let spec = tools()
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| ToolError::UnknownTool(name.to_owned()))?;
    check_keys(&spec, args)?;
    let bounds = matches!(name, GET_SESSION_SUMMARY | DIFF_SESSIONS)
        .then(|| report_bounds(args))
        .transpose()?;
    let value = match name {
        LIST_SESSIONS => to_value(&list_sessions(host, args)?),
        GET_SESSION => to_value(&get_session(host, args)?),
        SEARCH_EVENTS => to_value(&search_events(host, args)?),
        GET_SESSION_SUMMARY => to_value(&summary(host, args)?),
        DIFF_SESSIONS => diff_sessions(host, args)?,
        _ => return Err(ToolError::UnknownTool(name.to_owned())),
    };
    let mut value = value;
    redact_strings(&mut value);
    Ok(match bounds {
        Some(bounds) => bounded(&value, bounds),
        None => value,
    })
}

/// How much of a summary or a diff is kept.
#[derive(Debug, Clone, Copy)]
struct ReportBounds {
    items: usize,
    /// `max_items` was given: kept as it is, however long the report.
    items_given: bool,
    chars: usize,
}

/// `max_items` and `max_chars` of a summary or a diff.
fn report_bounds(args: &Map<String, Value>) -> Result<ReportBounds, ToolError> {
    let items = bounded_arg(args, "max_items", (1, DEFAULT_ITEMS, MAX_ITEMS))?;
    let chars = bounded_arg(args, "max_chars", (1, DEFAULT_REPORT_CHARS, MAX_CHARS))?;
    Ok(ReportBounds {
        items: usize::try_from(items).unwrap_or(usize::MAX),
        items_given: args.contains_key("max_items"),
        chars: usize::try_from(chars).unwrap_or(usize::MAX),
    })
}

/// `report` with its lists and strings cut to `bounds`, saying how much was left out; fewer
/// entries of each list until it fits in [`REPORT_BYTES`] unless `max_items` was given.
fn bounded(report: &Value, bounds: ReportBounds) -> Value {
    let mut items = bounds.items;
    loop {
        let mut value = report.clone();
        let omitted = cut_lists(&mut value, items);
        let cut = shorten(&mut value, bounds.chars);
        if let Value::Object(map) = &mut value {
            map.insert("items_omitted".to_owned(), omitted.into());
            map.insert("strings_cut".to_owned(), cut.into());
        }
        let fits = || serde_json::to_string(&value).map_or(0, |s| s.len()) <= REPORT_BYTES;
        if bounds.items_given || items == 1 || fits() {
            return value;
        }
        items /= 2;
    }
}

/// Cuts every list in `value` to `max` entries, at any depth; a list that is an object's
/// `key` gets `<key>_omitted` beside it saying how many entries it lost. Returns the entries
/// left out in all.
fn cut_lists(value: &mut Value, max: usize) -> u64 {
    match value {
        Value::Array(items) => {
            let omitted = items.len().saturating_sub(max);
            items.truncate(max);
            omitted as u64 + items.iter_mut().map(|v| cut_lists(v, max)).sum::<u64>()
        }
        Value::Object(map) => {
            let mut omitted = 0;
            let mut counts = Vec::new();
            for (key, v) in map.iter_mut() {
                if let Value::Array(items) = v
                    && items.len() > max
                {
                    counts.push((format!("{key}_omitted"), items.len() - max));
                }
                omitted += cut_lists(v, max);
            }
            for (key, n) in counts {
                map.insert(key, n.into());
            }
            omitted
        }
        _ => 0,
    }
}

/// Redacts every string in `value` (the keys are ours: a tool's result is made here; an
/// event's data, whose keys are the agent's, is redacted as a structure first).
fn redact_strings(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Cow::Owned(clean) = redact_str(s) {
                *s = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_strings),
        Value::Object(map) => map.values_mut().for_each(redact_strings),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// `text` with its secrets redacted, then cut to `max` characters.
fn redacted_cut(text: &str, max: usize) -> String {
    cut(&redact_str(text), max)
}

fn to_value(value: &impl Serialize) -> Value {
    // Our reports are maps of strings and numbers: they always serialise (a non-finite number
    // becomes null).
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Refuses arguments the tool does not take: a misspelt filter would otherwise be ignored and
/// answer a question nobody asked.
fn check_keys(spec: &ToolSpec, args: &Map<String, Value>) -> Result<(), ToolError> {
    let known = spec.input_schema["properties"]
        .as_object()
        .map(|p| p.keys().map(String::as_str).collect::<Vec<_>>())
        .unwrap_or_default();
    if let Some(unknown) = args.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(failed(format!(
            "{} takes no argument `{}`; it takes {}",
            spec.name,
            cut(unknown, 60),
            known.join(", ")
        )));
    }
    for required in spec.input_schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !args.contains_key(required) {
            return Err(failed(format!("{} needs `{required}`", spec.name)));
        }
    }
    Ok(())
}

fn string_arg<'a>(args: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(failed(format!("`{key}` must be a string"))),
    }
}

fn bool_arg(args: &Map<String, Value>, key: &str) -> Result<Option<bool>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(failed(format!("`{key}` must be true or false"))),
    }
}

fn int_arg(args: &Map<String, Value>, key: &str) -> Result<Option<i64>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                    .map(|f| f as i64)
            })
            .map(Some)
            .ok_or_else(|| failed(format!("`{key}` must be a whole number"))),
        Some(_) => Err(failed(format!("`{key}` must be a whole number"))),
    }
}

/// A whole number argument within `min..=max`, or `default` when it is not given.
fn bounded_arg(
    args: &Map<String, Value>,
    key: &str,
    (min, default, max): (u64, u64, u64),
) -> Result<u64, ToolError> {
    let Some(n) = int_arg(args, key)? else {
        return Ok(default);
    };
    u64::try_from(n)
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| failed(format!("`{key}` must be between {min} and {max}")))
}

/// The session a caller named, by id or unique prefix.
fn select(host: &dyn Host, args: &Map<String, Value>, key: &str) -> Result<String, ToolError> {
    let id = string_arg(args, key)?.unwrap_or_default();
    if id.is_empty() {
        return Err(failed(format!("`{key}` must name a session")));
    }
    // No session id is longer (the store's limit), and the error would quote it whole.
    if id.len() > MAX_SESSION_ID_BYTES {
        return Err(failed(format!(
            "`{key}` is {} bytes long, and no session id is longer than {MAX_SESSION_ID_BYTES}: `{}`",
            id.len(),
            cut(id, 40)
        )));
    }
    host.store()
        .select(&Selector::Prefix(id.to_owned()))
        .map_err(|e| failed(sentence(&e)))
}

/// A store error as the caller reads it.
fn sentence(e: &StoreError) -> String {
    match e {
        StoreError::UnknownSession(_) => {
            format!("{e}; list_sessions shows the sessions there are")
        }
        _ => e.to_string(),
    }
}

/// A tool's `since`: a period that ends now, as the command line's `--since` with no
/// `--until`.
struct Since {
    at: f64,
    /// The starts of the sessions placed in it, and those left out for starting after now.
    starts: PeriodStarts,
}

impl Since {
    /// The one warning for the sessions left out for starting after now, if any.
    fn warning(since: Option<&Since>) -> Option<String> {
        since.and_then(|s| s.starts.warning())
    }
}

fn since_arg(host: &dyn Host, args: &Map<String, Value>) -> Result<Option<Since>, ToolError> {
    string_arg(args, "since")?
        .map(|text| {
            Ok(Since {
                at: host.instant(text).map_err(failed)?,
                starts: PeriodStarts::ending_now(host.now()),
            })
        })
        .transpose()
}

/// Whether session `meta` started since `since`, when one was given, judged by its start as
/// `budget-report` and `drift` judge it ([`PeriodStarts`]): one no session can have is in no
/// period, and `warnings` say it was left out; one after now is counted for [`Since::warning`].
fn started_since(
    meta: &SessionMeta,
    since: Option<&mut Since>,
    warnings: &mut Vec<String>,
) -> bool {
    let Some(since) = since else {
        return true;
    };
    match since.starts.start(meta) {
        Ok(start) => start.is_some_and(|start| start >= since.at),
        Err(warning) => {
            warnings.push(warning);
            false
        }
    }
}

/// What `list_sessions` returns.
#[derive(Debug, Serialize)]
pub struct SessionList {
    pub sessions: Vec<ListedSession>,
    pub matched: usize,
    pub warnings: Vec<String>,
}

/// `s` as the listing tools show it, with `cost` (its subagents' included, see
/// [`crate::analysis::tree::costs_with_subagents`]).
fn listed(s: &IndexedSession, cost: Option<TreeCost>) -> ListedSession {
    let meta = &s.summary.meta;
    let unbelievable = meta.unbelievable();
    ListedSession {
        session_id: meta.session_id.clone(),
        started_at: unbelievable.figure("started_at", meta.started_at),
        ended_at: unbelievable.figure("ended_at", meta.ended_at),
        duration_s: meta.duration_figure(
            &unbelievable,
            meta.duration_secs().map(crate::model::seconds::to_millis),
        ),
        agent_name: meta.agent_name.clone(),
        command: meta.command.clone(),
        title: meta.title().map(str::to_owned),
        first_prompt: s
            .first_prompt
            .as_deref()
            .map(|p| redacted_cut(p, PROMPT_CHARS)),
        tool_calls: unbelievable.figure("tool_calls", meta.tool_calls),
        errors: unbelievable.figure("errors", s.summary.failures()),
        tool_errors: unbelievable.figure("errors", s.summary.tool_failures()),
        rejections: s.summary.rejections,
        llm_requests: unbelievable.figure("llm_requests", meta.llm_requests),
        total_tokens: unbelievable.figure("total_tokens", meta.total_tokens),
        parent_session_id: meta.parent_session_id.clone(),
        cost_usd: cost.as_ref().map(|c| c.cost.usd()),
        own_cost_usd: s.cost.map(|(c, _)| c.usd()),
        cost_estimated: cost.as_ref().is_some_and(|c| c.estimated),
        cost_unbelieved_usage: cost.as_ref().map_or(0, |c| c.unbelieved_usage),
        cost_unpriced_models: cost.map_or_else(Vec::new, |c| {
            c.unpriced.into_iter().map(str::to_owned).collect()
        }),
    }
}

/// Every session of the store, newest first, as a listing reads them.
struct Sessions {
    all: Vec<IndexedSession>,
    /// The metadata of those it could not read, which link the sessions below them into
    /// their root's tree ([`crate::store::Listing::left_out`]).
    left_out: Vec<SessionMeta>,
    /// What the listing said: the index not used, sessions skipped.
    warnings: Vec<String>,
}

/// Every session of the store, newest first, with the warnings a listing raised; an empty
/// list when there is no store yet (nothing was recorded here).
fn sessions(store: &Store) -> Result<Sessions, ToolError> {
    let listing = match store.sessions() {
        Ok(listing) => listing,
        Err(StoreError::NoStore(path)) => {
            return Ok(Sessions {
                all: Vec::new(),
                left_out: Vec::new(),
                warnings: vec![format!(
                    "nothing is recorded here yet: no trace store at {}",
                    path.display()
                )],
            });
        }
        Err(e) => return Err(failed(sentence(&e))),
    };
    let mut warnings: Vec<String> = listing.warning.into_iter().collect();
    warnings.extend(
        listing
            .unreadable
            .iter()
            .map(|e| format!("skipped a session: {e}")),
    );
    Ok(Sessions {
        all: listing.sessions,
        left_out: listing.left_out,
        warnings,
    })
}

fn list_sessions(host: &dyn Host, args: &Map<String, Value>) -> Result<SessionList, ToolError> {
    let limit = bounded_arg(args, "limit", (1, DEFAULT_SESSIONS, MAX_SESSIONS))?;
    let mut since = since_arg(host, args)?;
    let agent = string_arg(args, "agent")?.map(str::to_lowercase);
    let subagents = bool_arg(args, "include_subagents")?.unwrap_or(false);
    let Sessions {
        all,
        left_out,
        mut warnings,
    } = sessions(host.store())?;
    let costs = crate::analysis::tree::costs_with_subagents(&all, &left_out);
    // The sessions `list` shows: a subagent whose parent is not in the store, or whose
    // parents go round a loop, heads its own tree.
    let heads = crate::analysis::tree::heads(&all, &left_out);
    let matching: Vec<(&IndexedSession, Option<TreeCost>)> = all
        .iter()
        .zip(costs)
        .zip(heads)
        .filter(|(_, head)| subagents || *head)
        .map(|(listed, _)| listed)
        .filter(|(s, _)| {
            agent
                .as_deref()
                .is_none_or(|a| s.summary.meta.agent_name.to_lowercase().contains(a))
        })
        .filter(|(s, _)| started_since(&s.summary.meta, since.as_mut(), &mut warnings))
        .collect();
    warnings.extend(Since::warning(since.as_ref()));
    let matched = matching.len();
    let mut sessions = Vec::new();
    for (s, cost) in matching
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
    {
        let meta = &s.summary.meta;
        warnings.extend(
            meta.unbelievable()
                .warning(&meta.session_id, "given as null"),
        );
        sessions.push(listed(s, cost));
    }
    Ok(SessionList {
        sessions,
        matched,
        warnings,
    })
}

/// One event of a page, with its place in the session.
#[derive(Debug, Serialize)]
pub struct PagedEvent {
    pub index: usize,
    #[serde(flatten)]
    pub event: Event,
}

/// What `get_session` returns.
#[derive(Debug, Serialize)]
pub struct SessionPage {
    pub session: ListedSession,
    pub events: Vec<PagedEvent>,
    pub matched: u64,
    pub offset: u64,
    pub next_offset: Option<u64>,
    pub strings_cut: u64,
    pub items_omitted: u64,
    pub unreadable_lines: u64,
    /// What the session's figures leave out or could not read (see [`listed_one`]).
    pub warnings: Vec<String>,
}

/// A session's listing entry as `list_sessions` gives it (its cost with its subagents', its
/// first prompt), from the index; read from its own files, with no cost and no first prompt,
/// when the listing does not hold it. With the warnings that go with it: the index not used,
/// its `meta.json` not usable, figures no session can have, and each subagent of its tree that
/// could not be read, which its cost leaves out (before, the cost left it out without a word,
/// where `list_sessions` said it skipped a session).
fn listed_one(store: &Store, id: &str) -> Result<(ListedSession, Vec<String>), ToolError> {
    if let Ok(listing) = store.sessions()
        && let Some(at) = listing
            .sessions
            .iter()
            .position(|s| s.summary.meta.session_id == id)
    {
        let session = &listing.sessions[at];
        let mut warnings: Vec<String> = listing.warning.iter().cloned().collect();
        warnings.extend(session.summary.meta_warning());
        let meta = &session.summary.meta;
        warnings.extend(meta.unbelievable().warning(id, "given as null"));
        warnings.extend(subagents_left_out(store, &listing, id));
        let cost =
            crate::analysis::tree::costs_with_subagents(&listing.sessions, &listing.left_out)
                .into_iter()
                .nth(at)
                .flatten();
        return Ok((listed(session, cost), warnings));
    }
    let summary = store.summary(id).map_err(|e| failed(sentence(&e)))?;
    let warnings = summary.meta_warning().into_iter().collect();
    let session = IndexedSession {
        summary,
        first_prompt: None,
        transcript_path: None,
        cost: None,
        unpriced: Vec::new(),
        unbelieved_usage: 0,
    };
    Ok((listed(&session, None), warnings))
}

/// One warning for each session below `id` that `listing` could not read, naming it and why:
/// its cost is not in `id`'s (those whose `meta.json` cannot be read either cannot be placed).
fn subagents_left_out(store: &Store, listing: &Listing, id: &str) -> Vec<String> {
    if listing.unreadable.is_empty() {
        return Vec::new();
    }
    let why: std::collections::BTreeMap<String, &StoreError> = listing
        .unreadable
        .iter()
        .filter_map(|e| Some((store.session_holding(e.path()?)?, e)))
        .collect();
    let listed = listing.sessions.iter().map(|s| s.summary.meta.clone());
    let forest = Forest::new(listed.chain(listing.left_out.iter().cloned()));
    forest
        .descendants(id)
        .iter()
        .skip(1)
        .filter_map(|below| {
            why.get(below).map(|e| {
                format!("left out subagent session {below}, which cannot be read: {e}; cost_usd does not count it")
            })
        })
        .collect()
}

fn get_session(host: &dyn Host, args: &Map<String, Value>) -> Result<SessionPage, ToolError> {
    let id = select(host, args, "session_id")?;
    let offset = bounded_arg(args, "offset", (0, 0, u64::MAX >> 1))?;
    let limit = bounded_arg(args, "limit", (1, DEFAULT_EVENTS, MAX_EVENTS))?;
    let max_chars = bounded_arg(args, "max_chars", (1, DEFAULT_CHARS, MAX_CHARS))?;
    let max_chars = usize::try_from(max_chars).unwrap_or(usize::MAX);
    let types = event_types_arg(args)?;
    let (session, warnings) = listed_one(host.store(), &id)?;
    let mut reader = host.store().events(&id).map_err(|e| failed(sentence(&e)))?;
    let mut page = Vec::new();
    let mut matched = 0u64;
    let mut strings_cut = 0u64;
    let mut items_omitted = 0u64;
    // The page's other fields: the session's listing, its warnings, and under 256 bytes of
    // names and counts.
    let mut page_bytes = json_len(&session) + json_len(&warnings) + 256;
    // Set when the next event would pass PAGE_BYTES: the page ends there, as at `limit`.
    let mut full = false;
    for (index, mut event) in reader.by_ref().enumerate() {
        if types
            .as_ref()
            .is_some_and(|t| !t.contains(&event.event_type))
        {
            continue;
        }
        if matched >= offset && (page.len() as u64) < limit && !full {
            redact_value(&mut event.data);
            strings_cut += shorten(&mut event.data, max_chars);
            crate::redact::redact_fields(&mut event.extra);
            for value in event.extra.values_mut() {
                strings_cut += shorten(value, max_chars);
            }
            let mut paged = PagedEvent { index, event };
            let bytes = json_len(&paged);
            if page_bytes + bytes <= PAGE_BYTES {
                page_bytes += bytes;
                page.push(paged);
            } else if page.is_empty() {
                // Alone past the bound: its data keeps what fits, so the page is never empty
                // and the next offset always moves on.
                let mut budget = PAGE_BYTES.saturating_sub(
                    page_bytes
                        + json_len(&PagedEvent {
                            index,
                            event: Event {
                                data: Value::Null,
                                extra: Map::new(),
                                ..paged.event.clone()
                            },
                        }),
                );
                items_omitted += prune(&mut paged.event.data, &mut budget);
                let mut extra = Value::Object(std::mem::take(&mut paged.event.extra));
                items_omitted += prune(&mut extra, &mut budget);
                if let Value::Object(extra) = extra {
                    paged.event.extra = extra;
                }
                page.push(paged);
                full = true;
            } else {
                full = true;
            }
        }
        matched += 1;
    }
    let next = offset.saturating_add(page.len() as u64);
    Ok(SessionPage {
        session,
        events: page,
        matched,
        offset,
        next_offset: (next < matched).then_some(next),
        strings_cut,
        items_omitted,
        unreadable_lines: reader.bad_count(),
        warnings,
    })
}

/// The event types `get_session` is to keep, if it was told. A name that is no event type is
/// refused, as `replay --filter` refuses it: a misspelt `tool_calls` would otherwise match
/// nothing and tell the model the session made no call.
fn event_types_arg(args: &Map<String, Value>) -> Result<Option<Vec<EventType>>, ToolError> {
    let wrong = || failed("`event_types` must be a list of event type names");
    let items = match args.get("event_types") {
        None | Some(Value::Null) => return Ok(None),
        // An empty list is no filter: a model that sends one means every type, not none.
        Some(Value::Array(items)) if items.is_empty() => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(wrong()),
    };
    let mut types = Vec::new();
    for item in items {
        let name = item.as_str().ok_or_else(wrong)?;
        let kind = EventType::parse(name);
        if matches!(kind, EventType::Other(_)) {
            let known: Vec<&str> = EventType::KNOWN.iter().map(EventType::as_str).collect();
            return Err(failed(format!(
                "`event_types` names `{}`, which is no event type; they are {}",
                cut(name, 60),
                known.join(", ")
            )));
        }
        types.push(kind);
    }
    Ok(Some(types))
}

/// How long `value` is as JSON.
fn json_len(value: &impl Serialize) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Values and our reports always serialise; a failure would count what was written.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// Keeps the entries of `value`'s lists and objects, in order and at any depth, while their
/// JSON fits in `budget` (taken from it); how many entries it left out. A string is kept
/// whole or left out with its entry (strings are cut to `max_chars` already).
fn prune(value: &mut Value, budget: &mut usize) -> u64 {
    // What an entry costs before what it holds: a comma, and a container's brackets or a
    // scalar whole. Once one does not fit, the rest of its list or object is left out.
    fn fits(item: &Value, extra: usize, budget: &mut usize, open: &mut bool) -> bool {
        let own = if item.is_array() || item.is_object() {
            2
        } else {
            json_len(item)
        };
        let cost = 1 + extra + own;
        *open = *open && cost <= *budget;
        if *open {
            *budget -= cost;
        }
        *open
    }
    let mut omitted = 0;
    let mut open = true;
    match value {
        Value::Array(items) => items.retain_mut(|item| {
            let keep = fits(item, 0, budget, &mut open);
            omitted += if keep { prune(item, budget) } else { 1 };
            keep
        }),
        Value::Object(map) => map.retain(|key, item| {
            let keep = fits(item, json_len(key) + 1, budget, &mut open);
            omitted += if keep { prune(item, budget) } else { 1 };
            keep
        }),
        _ => {}
    }
    omitted
}

/// Cuts every string in `value` to `max` characters; how many it cut.
fn shorten(value: &mut Value, max: usize) -> u64 {
    match value {
        Value::String(s) => match cut_at(s, max) {
            Some(shorter) => {
                *s = shorter;
                1
            }
            None => 0,
        },
        Value::Array(items) => items.iter_mut().map(|v| shorten(v, max)).sum(),
        Value::Object(map) => map.values_mut().map(|v| shorten(v, max)).sum(),
        _ => 0,
    }
}

/// One tool call that `search_events` found, with how it ended.
#[derive(Debug, Clone, Serialize)]
pub struct Match {
    pub session_id: String,
    /// The call's position in its session, as `get_session` numbers events.
    pub event_index: usize,
    pub event_id: String,
    pub timestamp: f64,
    pub tool: Option<String>,
    pub file_path: Option<String>,
    pub command: Option<String>,
    /// The exit code of a shell command: 0 when it succeeded, else what its result says.
    pub exit_code: Option<i64>,
    pub failed: bool,
    pub rejected: bool,
    pub error: Option<String>,
    pub duration_ms: Option<f64>,
    pub result_event_id: Option<String>,
}

/// What `search_events` returns.
#[derive(Debug, Serialize)]
pub struct SearchResult {
    pub matches: Vec<Match>,
    pub truncated: bool,
    pub sessions_searched: usize,
    pub sessions_not_searched: usize,
    pub warnings: Vec<String>,
}

/// What a search asks for.
struct Query {
    tool: Option<String>,
    path: Option<PathQuery>,
    exit_code: Option<i64>,
    has_error: Option<bool>,
}

enum PathQuery {
    Glob(Glob),
    Part(String),
}

impl Query {
    fn matches(&self, m: &Match) -> bool {
        let tool = self.tool.as_deref().is_none_or(|want| {
            m.tool
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(want))
        });
        let path = self.path.as_ref().is_none_or(|want| {
            m.file_path.as_deref().is_some_and(|p| match want {
                PathQuery::Glob(glob) => glob.matches_path(p),
                PathQuery::Part(part) => p.contains(part.as_str()),
            })
        });
        tool && path
            && self.exit_code.is_none_or(|c| m.exit_code == Some(c))
            && self.has_error.is_none_or(|e| m.failed == e)
    }
}

/// `search_events`'s `file_path`, refused past [`PATH_QUERY_CHARS`].
fn path_arg(args: &Map<String, Value>) -> Result<Option<&str>, ToolError> {
    let path = string_arg(args, "file_path")?;
    if path.is_some_and(|p| p.chars().nth(PATH_QUERY_CHARS).is_some()) {
        return Err(failed(format!(
            "`file_path` is longer than {PATH_QUERY_CHARS} characters; no path is that long"
        )));
    }
    Ok(path)
}

fn search_events(host: &dyn Host, args: &Map<String, Value>) -> Result<SearchResult, ToolError> {
    let limit = bounded_arg(args, "limit", (1, DEFAULT_MATCHES, MAX_MATCHES))?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut since = since_arg(host, args)?;
    let query = Query {
        tool: string_arg(args, "tool")?.map(str::to_owned),
        path: path_arg(args)?.filter(|p| !p.is_empty()).map(|p| {
            if p.contains(['*', '?', '[']) {
                PathQuery::Glob(Glob::new(p))
            } else {
                PathQuery::Part(p.to_owned())
            }
        }),
        exit_code: int_arg(args, "exit_code")?,
        has_error: bool_arg(args, "has_error")?,
    };
    let searched = bounded_arg(args, "max_sessions", (1, DEFAULT_SEARCHED, MAX_SEARCHED))?;
    let searched = usize::try_from(searched).unwrap_or(usize::MAX);
    // Only a session that failed a call can hold a failed call: the index says which did.
    let wants_failure = query.has_error == Some(true) || query.exit_code.is_some_and(|c| c != 0);
    let (mut metas, mut warnings): (Vec<SessionMeta>, Vec<String>) =
        if args.contains_key("session_id") {
            let id = select(host, args, "session_id")?;
            let summary = host
                .store()
                .summary(&id)
                .map_err(|e| failed(sentence(&e)))?;
            // The session named, when it started since `since`: both filters hold, as the tool says.
            let mut warnings = Vec::new();
            let metas = std::iter::once(summary.meta)
                .filter(|m| started_since(m, since.as_mut(), &mut warnings))
                .collect();
            (metas, warnings)
        } else {
            let Sessions {
                all, mut warnings, ..
            } = sessions(host.store())?;
            let metas = all
                .into_iter()
                .filter(|s| s.summary.meta.tool_calls > 0 || s.summary.meta.errors > 0)
                .filter(|s| !wants_failure || s.summary.failures() > 0)
                .map(|s| s.summary.meta)
                .filter(|m| started_since(m, since.as_mut(), &mut warnings))
                .collect();
            (metas, warnings)
        };
    warnings.extend(Since::warning(since.as_ref()));
    let not_searched = metas.len().saturating_sub(searched);
    metas.truncate(searched);
    let mut result = SearchResult {
        matches: Vec::new(),
        truncated: false,
        sessions_searched: 0,
        sessions_not_searched: not_searched,
        warnings,
    };
    for meta in &metas {
        let Ok(events) = host.store().events(&meta.session_id) else {
            result
                .warnings
                .push(format!("could not read session {}", meta.session_id));
            continue;
        };
        result.sessions_searched += 1;
        let agent = Agent::from_name(&meta.agent_name);
        for m in calls(&meta.session_id, agent, events) {
            if query.matches(&m) {
                if result.matches.len() == limit {
                    result.truncated = true;
                    return Ok(result);
                }
                // Matched whole, given in part.
                result.matches.push(Match {
                    tool: m.tool.map(|t| cut(&t, TOOL_CHARS)),
                    file_path: m.file_path.map(|p| cut(&p, PATH_CHARS)),
                    ..m
                });
            }
        }
    }
    Ok(result)
}

/// Every tool call of a session with its result (linked by `parent_id`), in order; results
/// and errors that answer no recorded call stand alone.
fn calls(session_id: &str, agent: Agent, events: impl Iterator<Item = Event>) -> Vec<Match> {
    let mut out: Vec<Match> = Vec::new();
    let mut open: HashMap<String, (usize, ToolKind)> = HashMap::new();
    for (index, event) in events.enumerate() {
        match View::of(&event, agent) {
            View::ToolCall(call) => {
                open.insert(event.event_id.clone(), (out.len(), call.kind));
                out.push(call_match(session_id, index, &event, &call));
            }
            View::ToolResult(result) => {
                let call = event.parent_id.as_ref().and_then(|p| open.remove(p));
                if let Some((at, kind)) = call {
                    finish(&mut out[at], &event, &result, kind);
                } else {
                    let mut m = Match {
                        session_id: session_id.to_owned(),
                        event_index: index,
                        event_id: event.event_id.clone(),
                        timestamp: event.timestamp,
                        tool: result.tool.map(str::to_owned),
                        file_path: None,
                        command: None,
                        exit_code: None,
                        failed: false,
                        rejected: false,
                        error: None,
                        duration_ms: None,
                        result_event_id: None,
                    };
                    finish(&mut m, &event, &result, result.kind);
                    out.push(m);
                }
            }
            _ => {}
        }
    }
    out
}

fn call_match(session_id: &str, index: usize, event: &Event, call: &ToolCall<'_>) -> Match {
    Match {
        session_id: session_id.to_owned(),
        event_index: index,
        event_id: event.event_id.clone(),
        timestamp: event.timestamp,
        tool: Some(call.tool.to_owned()),
        file_path: call.path().map(str::to_owned),
        command: call.command_line().map(|c| redacted_cut(&c, COMMAND_CHARS)),
        exit_code: None,
        failed: false,
        rejected: false,
        error: None,
        duration_ms: None,
        result_event_id: None,
    }
}

/// Fills in how a call ended from its result.
fn finish(m: &mut Match, event: &Event, result: &ToolResult<'_>, kind: ToolKind) {
    m.failed = result.failed();
    m.rejected = result.rejected();
    m.error = result
        .error
        .as_deref()
        .map(|e| redacted_cut(e, ERROR_CHARS));
    m.duration_ms = result.duration_ms;
    m.result_event_id = Some(event.event_id.clone());
    m.exit_code = match &result.error {
        Some(error) => exit_code(error),
        None if kind == ToolKind::Shell => Some(0),
        None => None,
    };
}

fn summary(host: &dyn Host, args: &Map<String, Value>) -> Result<Explained, ToolError> {
    let id = select(host, args, "session_id")?;
    let phases = host.phases(&id).map_err(failed)?;
    let running = host
        .store()
        .summary(&id)
        .is_ok_and(|s| s.meta.ended_at.is_none());
    Ok(Explained {
        session_id: id,
        phases,
        running,
    })
}

fn diff_sessions(host: &dyn Host, args: &Map<String, Value>) -> Result<Value, ToolError> {
    let semantic = match string_arg(args, "mode")? {
        None | Some("structural") => false,
        Some("semantic") => true,
        Some(other) => {
            return Err(failed(format!(
                "`mode` is structural or semantic, not `{}`",
                cut(other, 40)
            )));
        }
    };
    let a = select(host, args, "session_a")?;
    let b = select(host, args, "session_b")?;
    let side_a = host.diff_side(&a).map_err(failed)?;
    let side_b = host.diff_side(&b).map_err(failed)?;
    let ia = diff::Input {
        session_id: &a,
        phases: &side_a.phases,
        cost_usd: side_a.cost_usd,
        cost_estimated: side_a.cost_estimated,
        cost_unpriced_models: &side_a.cost_unpriced_models,
        subagents: side_a.subagents,
    };
    let ib = diff::Input {
        session_id: &b,
        phases: &side_b.phases,
        cost_usd: side_b.cost_usd,
        cost_estimated: side_b.cost_estimated,
        cost_unpriced_models: &side_b.cost_unpriced_models,
        subagents: side_b.subagents,
    };
    Ok(if semantic {
        to_value(&diff::semantic(&ia, &ib))
    } else {
        to_value(&diff::structural(&ia, &ib))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_short_text_and_says_how_much_it_dropped() {
        assert_eq!(cut("héllo", 10), "héllo");
        let long = format!("hé{}", "l".repeat(40));
        assert_eq!(cut(&long, 2), "hé… [40 more characters]");
    }

    #[test]
    fn cut_never_makes_a_text_longer() {
        for n in 0..60 {
            let text = "é".repeat(n);
            for max in 1..n + 2 {
                let shorter = cut(&text, max);
                assert!(shorter.chars().count() <= n, "{n} cut to {max}: {shorter}");
                assert!(shorter == text || shorter.chars().count() < n);
            }
        }
    }

    #[test]
    fn prune_keeps_what_fits_and_counts_what_it_left_out() {
        let mut v = json!({"a": vec!["xxxxxxxx"; 100], "b": {"c": 1, "d": 2}});
        let mut budget = 200;
        let omitted = prune(&mut v, &mut budget);
        assert!(json_len(&v) <= 200, "{v}");
        let kept = v["a"].as_array().unwrap().len();
        assert!(kept > 0 && kept < 100, "{v}");
        assert_eq!(omitted, (100 - kept + 1) as u64, "{v}");
        assert!(v.get("b").is_none(), "{v}");
    }

    #[test]
    fn shorten_cuts_strings_at_any_depth() {
        let (x, y) = ("x".repeat(40), "y".repeat(40));
        let mut v = json!({"a": x, "b": [y, 1, {"c": "zz"}]});
        assert_eq!(shorten(&mut v, 3), 2);
        assert_eq!(v["b"][2]["c"], "zz");
        assert_eq!(v["a"], "xxx… [37 more characters]");
    }

    #[test]
    fn cut_lists_counts_what_each_list_left_out() {
        let mut v = json!({"a": [1, 2, 3], "b": {"c": [[1, 2, 3], [4]], "d": [1]}});
        assert_eq!(cut_lists(&mut v, 2), 2);
        assert_eq!(
            v,
            json!({"a": [1, 2], "a_omitted": 1, "b": {"c": [[1, 2], [4]], "d": [1]}})
        );
    }

    #[test]
    fn every_tool_schema_is_an_object_schema_with_a_description() {
        for tool in tools() {
            assert_eq!(tool.input_schema["type"], "object", "{}", tool.name);
            assert_eq!(tool.output_schema["type"], "object", "{}", tool.name);
            assert!(tool.description.len() > 40, "{}", tool.name);
        }
    }
}
