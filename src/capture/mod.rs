//! Capture: turning what agents send into events in the store.
//!
//! # Architecture
//! - [`guard`]: the policy in force: whether a call may run, and the denial to send.
//! - [`hooks`]: agent hook payloads (Claude Code, VS Code), one process per hook.
//! - [`import`]: transcripts and session logs already on disk (Claude Code, Codex, Gemini CLI,
//!   Copilot CLI).
//! - [`transcript`]: the one reader of Claude Code transcripts' content and usage.
//! - [`proxy`]: MCP proxies between a client and its servers.
//! - [`sink`]: the one way events reach the store: ids, clock, privacy, writing.
//! - [`limit`]: cutting oversized fields so one huge output cannot bloat the store.

pub mod guard;
pub mod hooks;
pub mod import;
pub(crate) mod limit;
pub mod proxy;
pub mod sink;
pub mod transcript;
