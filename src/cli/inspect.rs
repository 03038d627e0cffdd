//! `inspect`: a session's metadata and events as JSON, streamed.

use std::io::Write;

use anyhow::Result;
use clap::Args;
use serde_json::Value;

use super::Globals;
use super::args::SessionArg;
use super::globals::Format;
use super::output::{stdout, usage, warn_bad_lines, warn_unbelievable};
use crate::exit;
use crate::store::Store;

/// Print a session's metadata and events as JSON
///
/// The output is one JSON object, `{"meta": {...}, "events": [...]}`, with one event per line;
/// every field of every event is kept, including fields agent-strace does not know. With
/// --event N, only event N (as replay numbers it), pretty-printed.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace inspect\n  agent-strace inspect 3f2a | jq '.events[] | select(.event_type == \"error\")'\n  agent-strace inspect 3f2a --event 42"
)]
pub(crate) struct InspectArgs {
    #[command(flatten)]
    session: SessionArg,
    /// Print only event N (numbered from 1 in file order, as replay shows them), whole and
    /// pretty-printed
    #[arg(long, value_name = "N", value_parser = super::args::whole::<usize>)]
    event: Option<usize>,
}

pub(crate) fn run(args: &InspectArgs, globals: &Globals) -> Result<u8> {
    let store = Store::new(globals.store_root());
    let id = crate::cli::stores::select_in(&store, &args.session.selector())?;
    if let Some(number) = args.event {
        return event(&store, &id, number, globals);
    }
    let meta = super::output::whole_summary(&store, &id)?.meta;
    let unbelievable = meta.unbelievable();
    let mut meta: Value = serde_json::from_str(&meta.to_json())?;
    // A figure no session can have is `null`, as in every view's JSON; the warning names it.
    warn_unbelievable(&id, &unbelievable, Format::Json);
    for (name, _) in &unbelievable.0 {
        if let Some(figure) = meta.get_mut(*name) {
            *figure = Value::Null;
        }
    }
    // Opened before anything is written: events that cannot be read (a FIFO in their place)
    // are one error line, not half a document.
    let mut events = store.events(&id)?;
    let mut out = stdout(globals.colour());
    writeln!(out, "{{\"meta\": {},", serde_json::to_string(&meta)?)?;
    write!(out, "\"events\": [")?;
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

/// One event, pretty-printed, every field kept.
fn event(store: &Store, id: &str, number: usize, globals: &Globals) -> Result<u8> {
    let mut events = store.events(id)?;
    let mut count = 0;
    let found = events.by_ref().find(|_| {
        count += 1;
        count == number
    });
    warn_bad_lines(events.bad_lines(), events.bad_count());
    let Some(event) = found else {
        let count = count + events.count();
        return Err(usage(super::replay::no_event(id, number, count)));
    };
    let mut out = stdout(globals.colour());
    serde_json::to_writer_pretty(&mut out, &event)?;
    writeln!(out)?;
    out.flush()?;
    Ok(exit::OK)
}
