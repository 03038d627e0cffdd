//! Claude Code hooks: one process per hook event, recorded into the store.
//!
//! # Architecture
//! - [`claude_code`]: the payloads as Claude Code sends them, checked.
//! - [`record`]: what each hook event becomes in the store.
//! - [`transcript`]: the last assistant text of a transcript, for the Stop hook.

pub mod claude_code;
mod record;
mod transcript;

pub use claude_code::{HOOK_ARGS, HookEvent, HookPayload, PayloadError};
pub use record::{RecordOptions, record};
