//! Export: turns sessions read from the store into the formats other tools take (JSON, CSV,
//! NDJSON, OTLP traces and metrics, Langfuse), as bytes the CLI prints or sends.
//!
//! The layer sits beside `analysis`: it reads the store and the analyses' results, never argv,
//! the environment or the terminal, and never opens a socket (the CLI sends what it builds).
//!
//! # Architecture
//! - [`session`]: one session with its subagents, as exporters take it; the JSON and NDJSON
//!   forms.
//! - [`csv`]: one row per event, columns read through the model's views.
//! - [`otlp`]: the session as an OTLP trace (plain mapping, or the GenAI conventions of
//!   [`genai`]), encoded as protobuf or as the proto3 JSON mapping.
//! - [`otlp_answer`]: what a backend's answer to an OTLP export says it did not take.
//! - [`genai`]: the OpenTelemetry GenAI semantic conventions' names and values.
//! - [`anonymize`]: what is exported, rewritten to name no one (`--anonymize`); the names it
//!   finds beside an email address are [`named_address`]'s, those in the account columns of
//!   listings (`ls -l`, `ps`, `id` …) [`account_columns`]'s, those of a `ps` table of chosen
//!   columns and of `groups <user>`'s line [`account_lines`]'s, those a call's command puts on
//!   a line (`stat -c '%U %G %n'`, `id -Gn`) [`call_output`]'s, the account and host
//!   `whoami`, `hostname` and `uname -a` print [`identity_output`]'s, and the same of a line
//!   the person ran from the prompt (`! whoami`) [`prompt_shell`]'s.
//! - [`metrics`]: per-session gauges as an OTLP metrics request (`--metrics`).
//! - [`langfuse`]: Langfuse's attributes on the OTLP trace, and eval scores for its API
//!   (`--backend langfuse`).

mod account_columns;
mod account_lines;
pub mod anonymize;
mod call_output;
pub mod csv;
pub mod genai;
mod identity_output;
pub mod langfuse;
pub mod metrics;
mod named_address;
pub mod otlp;
pub mod otlp_answer;
mod prompt_shell;
pub mod session;

pub use session::Exported;
