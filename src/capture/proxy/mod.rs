//! MCP proxies: relaying what a client and a server say to each other, and recording it.
//!
//! # Architecture
//! - [`framing`]: messages in a byte stream (newline-delimited and Content-Length framed).
//! - [`cut`]: a bounded copy of a message too large to keep whole.
//! - [`gather`]: one message kept whole, or as a cut copy, as its bytes pass (the HTTP proxy's).
//! - [`sse`]: server-sent events (read for the record; the older transport's endpoint rewritten).
//! - [`enforce`]: the policy in force: a violating `tools/call` answered with an error.
//! - [`gate`]: the stdio client's messages held until judged, in either framing.
//! - [`json`]: a message's JSON read as MCP's peers read it (lone surrogates, a BOM).
//! - [`mcp`]: what MCP messages become in the store.
//! - [`recording`]: the recorder thread both proxies feed through a bounded queue.
//! - [`queue`]: both proxies' queue to the recorder, bounded by the bytes it holds.
//! - [`stdio`]: the stdio proxy: a child server, two relay threads and a recorder thread.
//! - [`server_exit`]: the stdio server's exit, which ends the relay once its output is quiet.
//! - `splice` (Linux): the stdio relay moving bytes with `splice(2)` and `tee(2)`, uncopied.
//! - [`http`]: the HTTP proxy: a loopback server that forwards to a remote MCP server.

pub mod cut;
pub mod enforce;
pub mod framing;
pub mod gate;
pub mod gather;
pub mod http;
pub mod json;
pub mod mcp;
pub mod queue;
pub mod recording;
pub mod server_exit;
#[cfg(target_os = "linux")]
pub mod splice;
pub mod sse;
pub mod stdio;
