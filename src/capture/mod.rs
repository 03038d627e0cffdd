//! Capture: turning what agents send into events in the store.
//!
//! # Architecture
//! - [`hooks`]: Claude Code hook payloads, one process per hook.

pub mod hooks;
