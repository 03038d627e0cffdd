//! Capture: turning what agents send into events in the store.
//!
//! # Architecture
//! - [`collector`]: the server that takes many machines' events into one store.
//! - [`remote`]: what a hook sends to a collector instead of writing the local store.
//! - [`resend`]: hook calls kept for the collector (the spool) sent again, or recorded here.
//! - [`attribution`]: who started a session and where (user, host, git, agent), read cheaply.
//! - [`guard`]: the policy in force: whether a call may run, and the denial to send.
//! - [`hooks`]: agent hook payloads (Claude Code, VS Code), one process per hook.
//! - [`import`]: transcripts and session logs already on disk (Claude Code, Codex, Gemini CLI,
//!   Copilot CLI).
//! - [`transcript`]: the one reader of Claude Code transcripts' content and usage.
//! - [`proxy`]: MCP proxies between a client and its servers.
//! - [`process`]: the agent's process, recorded with its start time, checked before a signal.
//! - [`otlp`]: OTLP/HTTP telemetry the collector receives, Claude Code's joined into its hook
//!   sessions.
//! - [`sink`]: the one way events reach the store: ids, clock, privacy, writing.
//! - [`burst`]: failures that come in bursts (a listener out of file descriptors), said once.
//! - [`bounded_json`]: reading an agent's JSON with a bound on the values it makes.
//! - [`limit`]: cutting oversized fields so one huge output cannot bloat the store.
//! - [`tail`]: an agent's own log read from its end, for what it wrote last.
//! - [`local_host`]: whether a request names this machine, for servers on loopback.
//! - [`shell_exit`]: a shell command's exit code, where an agent gives it only in words.

pub mod attribution;
pub(crate) mod bounded_json;
pub(crate) mod burst;
pub mod collector;
pub mod guard;
pub mod hooks;
pub mod import;
pub(crate) mod limit;
pub(crate) mod local_host;
pub mod otlp;
pub mod process;
pub mod proxy;
pub mod remote;
pub mod resend;
pub(crate) mod shell_exit;
pub mod sink;
pub(crate) mod stop;
pub(crate) mod tail;
pub mod transcript;
