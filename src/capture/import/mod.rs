//! Importing agent transcripts already on disk into the store.
//!
//! # Architecture
//! - [`wire`]: transcript lines as Claude Code writes them, borrowed from the line.
//! - [`claude_transcript`]: one transcript file into one session (and its sidechains).

pub mod claude_transcript;
mod wire;

pub use claude_transcript::{
    ImportError, ImportReport, ResponseUsage, TokenTotals, import_file, transcript_usage,
};
