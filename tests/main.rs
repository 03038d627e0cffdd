//! The one integration test binary: each module tests one command through the real binary.

#![allow(unreachable_pub, clippy::unwrap_used, clippy::needless_pass_by_value)]

mod agent_logs;
mod budget_report;
mod ccusage_crosscheck;
mod cli_reference;
mod common;
mod cost;
mod drift;
mod eval;
mod exit_codes;
mod explain;
mod generated_store;
mod growth;
mod hook;
mod hook_properties;
mod import;
mod index;
mod index_scan;
mod keeping;
mod labels;
mod layers;
mod lint;
mod mcp_http;
mod mcp_proxy;
mod policy;
mod proxy_hardening;
mod python_compat;
mod read;
mod redaction;
mod relay_ends;
mod secrets;
mod settings;
mod setup;
mod standup;
mod stores;
mod story;
mod terminal_safety;
mod token_budget;
mod transcript_properties;
mod truth;
mod untrusted_files;
mod watch;
