//! MCP proxies: relaying what a client and a server say to each other, and recording it.
//!
//! # Architecture
//! - [`framing`]: messages in a byte stream (newline-delimited and Content-Length framed).
//! - [`mcp`]: what MCP messages become in the store.
//! - [`stdio`]: the stdio proxy: a child server, two relay threads and a recorder thread.

pub mod framing;
pub mod http;
pub mod mcp;
pub mod recording;
pub mod sse;
pub mod stdio;
