//! Capture: turning what agents send into events in the store.
//!
//! # Architecture
//! - [`hooks`]: Claude Code hook payloads, one process per hook.
//! - [`import`]: Claude Code transcripts already on disk.
//! - [`proxy`]: MCP proxies between a client and its servers.
//! - [`sink`]: the one way events reach the store: ids, clock, privacy, writing.
//! - [`limit`]: cutting oversized fields so one huge output cannot bloat the store.

pub mod hooks;
pub mod import;
pub(crate) mod limit;
pub mod proxy;
pub mod sink;
