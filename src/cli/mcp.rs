//! `mcp`: the store served to an agent as MCP tools over stdio, so it can ask about its own
//! traces (the tools are `analysis::mcp_tools`, the protocol is [`server`]).

mod server;

use std::io;

use anyhow::Result;
use clap::Args;

use super::Globals;
use super::compare::Loaded;
use super::stores::ScopeArgs;
use crate::analysis::mcp_tools::{DiffSide, Host};
use crate::analysis::phases::Phases;
use crate::exit;
use crate::model::{Event, SessionMeta};
use crate::redact::redact_value;
use crate::store::{Selector, Store};

/// Serve this project's traces to an agent as MCP tools, over stdio
///
/// An MCP server (newline-delimited JSON-RPC on stdin and stdout) with five read-only tools:
/// list_sessions, get_session (a session's events, a page at a time, filtered by type),
/// search_events (tool calls across sessions by tool, file path, exit code or failure),
/// get_session_summary (what `explain` says) and diff_sessions (what `diff` says). It speaks
/// the handshake revisions 2024-11-05 to 2025-11-25 and the stateless 2026-07-28. The agent
/// starts it: register it once with the agent (see the examples) and ask, for instance, "which
/// of my sessions this week had failing tests?". Diagnostics go to stderr.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  claude mcp add agent-strace -- agent-strace mcp      # Claude Code, this project\n  agent-strace mcp --trace-dir ~/work/app/.agent-traces\n\nIn .mcp.json (Claude Code) or .cursor/mcp.json (Cursor):\n  {\"mcpServers\": {\"agent-strace\": {\"command\": \"agent-strace\", \"args\": [\"mcp\"]}}}"
)]
pub(crate) struct McpArgs {}

/// What the tools ask of the command line: the store, dates, and the analyses `explain` and
/// `diff` run, read exactly as those commands read them.
struct CliHost<'a> {
    store: Store,
    globals: &'a Globals,
}

impl Host for CliHost<'_> {
    fn store(&self) -> &Store {
        &self.store
    }

    fn now(&self) -> f64 {
        chrono::Utc::now().timestamp_millis() as f64 / 1000.0
    }

    fn instant(&self, text: &str) -> Result<f64, String> {
        super::args::instant(text, "`since`", self.now(), false).map_err(|e| e.to_string())
    }

    fn phases(&self, id: &str) -> Result<Phases, String> {
        let read = || -> Result<Phases> {
            let meta = super::output::summary(&self.store, id)?.meta;
            let mut reader = self.store.events(id)?;
            let phases = redacted_phases(&self.store, &meta, reader.by_ref());
            super::output::warn_bad_lines(reader.bad_lines(), reader.bad_count());
            Ok(phases)
        };
        read().map_err(|e| crate::error::chain_text(&e))
    }

    fn diff_side(&self, id: &str) -> Result<DiffSide, String> {
        let scope = ScopeArgs {
            all_projects: false,
            project: None,
        };
        let loaded = Loaded::select(&scope, &Selector::Prefix(id.to_owned()), self.globals)
            .map_err(|e| crate::error::chain_text(&e))?;
        // The cost is the raw events' (a redacted payload is shorter than its secret); what
        // the phases quote is the redacted events'.
        Ok(DiffSide {
            phases: redacted_phases(&self.store, &loaded.meta, loaded.events),
            cost_usd: loaded.cost_usd,
            cost_estimated: loaded.cost_estimated,
            cost_unpriced_models: loaded.cost_unpriced_models,
            subagents: loaded.subagents,
        })
    }
}

/// A session's phases, as `explain` splits them, made from its events with their secrets
/// redacted: what a phase quotes (its label, a command) is cut, and a secret cut short could
/// pass the patterns the tools' results go through.
fn redacted_phases(
    store: &Store,
    meta: &SessionMeta,
    events: impl IntoIterator<Item = Event>,
) -> Phases {
    let events = events.into_iter().map(|mut event| {
        redact_value(&mut event.data);
        crate::redact::redact_fields(&mut event.extra);
        event
    });
    super::explain::phases_with_log_models(store, meta, events, super::explain::redacted_model)
}

pub(crate) fn run(_args: &McpArgs, globals: &Globals) -> Result<u8> {
    let host = CliHost {
        store: Store::new(globals.store_root()),
        globals,
    };
    server::serve(&host, io::stdin().lock(), io::stdout().lock())?;
    Ok(exit::OK)
}
