//! Export: turns sessions read from the store into the formats other tools take (JSON, CSV,
//! NDJSON, OTLP traces and metrics, Langfuse), as bytes the CLI prints or sends.
//!
//! The layer sits beside `analysis`: it reads the store and the analyses' results, never argv,
//! the environment or the terminal, and never opens a socket (the CLI sends what it builds).

pub mod anonymize;
pub mod metrics;
