//! The data model: events, session metadata and the counters derived from events.
//!
//! # Architecture
//! - [`event`]: one recorded event, exactly as a line of `events.ndjson` holds it.
//! - [`meta`]: a session's `meta.json`.
//! - [`meta_cut`]: what a reading of `meta.json` leaves out of what it does not model.
//! - [`members`]: a JSON object's members, each value kept as its text until it is read.
//! - [`head`]: the few fields of an event that counting needs, borrowed from its line.
//! - [`counters`]: the per-session figures that are derived from events.
//! - [`copies`]: the events a session holds more than once (the Python tool's import of a
//!   transcript that repeats its history), counted once.
//! - [`usage`]: token usage by kind, and exact money.
//! - [`answers`]: the usage an `assistant_response` carries (the Python tool's import), counted
//!   once per API response.
//! - [`pricing`]: model prices and what tokens cost.
//! - [`windows`]: which context window each model of a session had, as its own responses prove
//!   it.
//! - [`view`]: typed read-only views of event data, the one place that knows its keys.
//! - [`outcome`]: how a tool call ended: done, failed, or refused (by the user or auto mode).
//! - [`command`]: what a shell command was (tests, build, check, commit) and whether it failed.
//! - [`attempts`]: attempts at one goal, and which were retries.
//! - [`prompt`]: what a person wrote in a prompt, apart from what the agent added.
//! - [`tools`]: what each agent's tools do (read a file, run a command …), one table per agent.
//! - [`duration`]: durations as people write them (`30s`, `1h30m`).
//! - [`when`]: the words naming the forms of time a period's ends take (`--since`).
//! - [`glob`]: path globs of policies and watch rules (`**/production.env`).
//! - [`user_regex`]: a regular expression from a user's settings file, read as Python's `re`
//!   reads it.
//! - [`policy`]: what an agent may read, write, run and reach, and a tool call judged by it.
//! - [`file_use`]: what a call did to a file: read, wrote, deleted or moved it.
//! - [`shell_files`]: the files a shell command reads and writes for certain, counted as a file
//!   tool's are.
//! - [`links`]: which call a result answers, by `parent_id` or by the agent's id of the call.
//! - [`touches`]: the files a session read and wrote, from file events and file tools' calls.
//! - [`parents`]: which session heads each tree of sessions, from their parent links.
//! - [`period`]: sessions placed in a period by their start; one with no end ends now.
//! - [`deep_json`]: JSON from outside read to any depth a real writer nests it, on a growing
//!   stack, with a cap.
//! - [`json_mend`]: JSON text strict readers refuse (`NaN`, `1e999`, lone surrogates) mended.
//! - [`python_keys`]: the keys the Python tool reads an event by where ours name them
//!   otherwise, written beside ours.
//! - [`read_pairs`]: which of Cursor's `Read` calls are one read told by two hooks.
//! - [`seconds`]: seconds to the millisecond, as reports give them.
//! - [`sha256`]: SHA-256, as a page's script and Gemini CLI's projects are named by it.
//! - [`summary`]: a session's figures folded from its events, versioned, for the index.
//!
//! The model knows no I/O: no files, no clock, no environment.

pub mod annotation;
pub mod answers;
pub mod attempts;
pub mod call_pairs;
pub mod command;
pub mod copies;
pub mod counters;
pub mod deep_json;
pub mod duration;
pub mod event;
pub mod file_use;
pub mod glob;
pub mod hash;
pub mod head;
pub mod json_mend;
pub mod links;
pub mod members;
pub mod meta;
pub mod meta_cut;
pub mod outcome;
pub mod parents;
pub mod period;
pub mod policy;
pub mod pricing;
pub mod prompt;
pub mod python_keys;
pub mod read_pairs;
pub mod seconds;
pub mod sha256;
pub mod shell_files;
pub mod summary;
pub mod text;
pub mod tools;
pub mod touches;
pub mod usage;
pub mod user_regex;
pub mod view;
pub mod when;
pub mod windows;

pub use counters::Counters;
pub use event::{Clocks, Ending, Event, EventType};
pub use head::EventHead;
pub use meta::SessionMeta;
pub use outcome::{RefusedBy, ToolOutcome};
pub use tools::{Agent, ToolKind};
pub use usage::{Money, Tokens};
