//! Importing agent transcripts already on disk into the store.
//!
//! # Architecture
//! - [`claude_transcript`]: one Claude Code transcript file into one session (and its
//!   sidechains), read through [`crate::capture::transcript`].
//! - [`batch`]: many files in parallel, one writer per session, results in order.
//! - [`existing`]: a transcript whose session the store holds already (imported before, or
//!   recorded by hooks).
//! - [`resume`]: what an import read of its transcript, so that a file that grew is brought up
//!   to date and one that was rewritten is imported again.

pub mod batch;
pub mod claude_transcript;
pub mod existing;
pub mod resume;

pub use crate::capture::transcript::{ResponseUsage, transcript_usage};
pub use claude_transcript::{ImportError, ImportReport, import_file};
