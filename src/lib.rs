//! agent-strace: strace for AI coding agents.
//!
//! The crate is layered, and each layer only uses the ones below it:
//! - [`cli`] reads argv and the environment, opens the store, picks a renderer and an exit code;
//! - [`capture`] turns what agents send (Claude Code hooks) into events;
//! - [`analysis`] computes reports (statistics, session trees) from events;
//! - [`render`] shows reports to people (colour, durations) or machines (JSON);
//! - [`store`] is the only door to `.agent-traces/`;
//! - [`model`] holds the data types and knows no I/O.
//!
//! [`error`] is the one error type at the edge (kinds, exit codes, hints), [`exit`] names the
//! exit codes.
//!
//! [`redact`] scrubs secrets and [`mask`] personal data; capture uses them before anything
//! reaches disk.

pub mod analysis;
pub mod capture;
pub mod cli;
#[cfg(test)]
mod cpu_time;
pub mod error;
pub mod exit;
pub mod export;
pub mod mask;
pub mod model;
pub mod redact;
pub mod render;
pub mod store;
pub mod threads;

pub use cli::run;
