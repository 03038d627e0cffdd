//! `inspect`: a session's metadata and events as JSON, streamed.

use std::io::Write;

use anyhow::Result;
use clap::Args;
use serde_json::Value;

use super::Globals;
use super::args::SessionArg;
use super::output::{stdout, warn_bad_lines};
use crate::exit;
use crate::store::Store;

/// Print a session's metadata and events as JSON
///
/// The output is one JSON object, `{"meta": {...}, "events": [...]}`, with one event per line;
/// every field of every event is kept, including fields agent-strace does not know.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace inspect\n  agent-strace inspect 3f2a | jq '.events[] | select(.event_type == \"error\")'"
)]
pub(crate) struct InspectArgs {
    #[command(flatten)]
    session: SessionArg,
}

pub(crate) fn run(args: &InspectArgs, globals: &Globals) -> Result<u8> {
    let store = Store::new(globals.store_root());
    let id = store.select(&args.session.selector())?;
    let meta = super::output::summary(&store, &id)?.meta;
    let meta: Value = serde_json::from_str(&meta.to_json())?;
    let mut out = stdout(globals.colour());
    writeln!(out, "{{\"meta\": {},", serde_json::to_string(&meta)?)?;
    write!(out, "\"events\": [")?;
    let mut events = store.events(&id)?;
    let mut first = true;
    for event in events.by_ref() {
        out.write_all(if first { b"\n" } else { b",\n" })?;
        first = false;
        serde_json::to_writer(&mut out, &event)?;
    }
    writeln!(out, "\n]}}")?;
    out.flush()?;
    warn_bad_lines(events.bad_lines(), events.bad_count());
    Ok(exit::OK)
}
