//! `annotate`: notes, labels and bookmarks on a session's events, kept beside the session.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::Globals;
use super::args::FormatArg;
use super::globals::{Format, PrivacyArgs};
use super::output::{stdout, usage, warn, warn_bad_lines};
use crate::exit;
use crate::model::annotation::{Annotation, EventNumbers};
use crate::model::meta::{believed_time, placed_time};
use crate::render::terminal::{Painter, local_time, offset};
use crate::store::{Selector, Store};

/// Add a note, a label or a bookmark to an event, list a session's annotations, or delete one
///
/// Annotations are kept in annotations.jsonl beside the session's events, which are never
/// changed; the Python agent-strace lists the same file. An event is named by its number as
/// replay and inspect print it. The note, label and author are written as the hooks write what
/// an agent runs: secrets become [REDACTED] unless --no-redact (or AGENT_STRACE_REDACT=0) says
/// otherwise.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace annotate 3f2a 12 --note \"why Bash and not Edit here?\"\n  agent-strace annotate 12 --note \"retry loop starts\"   # event #12 of the latest session\n  agent-strace annotate 3f2a 12 --label root-cause --bookmark\n  agent-strace annotate 3f2a --list\n  agent-strace annotate 3f2a --delete 9c41e0"
)]
#[command(group = clap::ArgGroup::new("what").args(["note", "label", "bookmark"]).multiple(true))]
#[command(group = clap::ArgGroup::new("mode").args(["list", "delete"]).conflicts_with("what"))]
pub(crate) struct AnnotateArgs {
    /// Session id or unique prefix [default: the latest session]; alone with --note, --label or
    /// --bookmark, a number is the event of the latest session, as `why 12` reads it
    #[arg(value_parser = super::args::session_name)]
    session: Option<String>,
    /// The event to annotate: its number, as replay prints it
    #[arg(value_name = "EVENT#", conflicts_with = "mode", value_parser = super::args::whole::<usize>)]
    event: Option<usize>,
    /// A note in words
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
    /// A label (root-cause, decision, retry, fix, question, pass, fail … any word)
    #[arg(long, value_name = "LABEL")]
    label: Option<String>,
    /// Mark the event as a place to jump to
    #[arg(long)]
    bookmark: bool,
    /// Who wrote it [default: none]
    #[arg(long, value_name = "NAME")]
    author: Option<String>,
    /// List the session's annotations
    #[arg(long)]
    list: bool,
    /// Delete an annotation, by its id or a prefix of 4 characters or more
    #[arg(long, value_name = "ANNOTATION_ID")]
    delete: Option<String>,
    // The hooks' own flags: one set of privacy options for whatever writes to the store.
    #[command(flatten)]
    privacy: PrivacyArgs,
    #[command(flatten)]
    format: FormatArg,
}

pub(crate) fn run(args: &AnnotateArgs, globals: &Globals) -> Result<u8> {
    let store = Store::new(globals.store_root());
    let (session, event) = named(args, &store)?;
    let id = crate::cli::stores::select_in(&store, &Selector::from_option(session))?;
    if args.list {
        return list(&store, &id, args.format.format, globals);
    }
    if let Some(name) = &args.delete {
        return delete(&store, &id, name, args.format.format, globals);
    }
    add(&store, &id, event, args, globals)
}

/// The session and the event the arguments name. A number alone, with something to attach, is
/// the event of the latest session, as `why 12` reads it: a session alone is nothing to attach
/// to. A number that is also a session's whole id could be either, and is refused.
fn named<'a>(args: &'a AnnotateArgs, store: &Store) -> Result<(Option<&'a str>, Option<usize>)> {
    let attaching = args.note.is_some() || args.label.is_some() || args.bookmark;
    match (args.session.as_deref(), args.event) {
        (Some(lone), None) if attaching => match super::args::whole::<usize>(lone) {
            Ok(_) if store.has_session(lone) => Err(usage(format!(
                "`{lone}` is a session's id and an event number: give both, `annotate SESSION EVENT# …`"
            ))),
            Ok(number) => Ok((None, Some(number))),
            Err(_) => Ok((Some(lone), None)),
        },
        (session, event) => Ok((session, event)),
    }
}

fn add(
    store: &Store,
    id: &str,
    event: Option<usize>,
    args: &AnnotateArgs,
    globals: &Globals,
) -> Result<u8> {
    let Some(number) = event else {
        return Err(usage(
            "name the event to annotate by its number, as replay prints it (`annotate SESSION 12 --note …`), or give --list or --delete",
        ));
    };
    if args.note.is_none() && args.label.is_none() && !args.bookmark {
        return Err(usage(
            "say what to attach: --note TEXT, --label LABEL or --bookmark",
        ));
    }
    // A blank note or label attaches nothing: it was stored, listed as an empty line.
    for (flag, given) in [("--note", &args.note), ("--label", &args.label)] {
        if given.as_deref().is_some_and(|text| text.trim().is_empty()) {
            return Err(usage(format!("{flag} is empty: say what to attach")));
        }
    }
    // Resolved before the store is read, so that a pattern that does not compile writes nothing.
    let privacy = args.privacy.resolve().map_err(usage)?;
    let kept = |given: &Option<String>| {
        given
            .as_deref()
            .map_or_else(String::new, |text| privacy.apply_str(text).into_owned())
    };
    let mut events = store.events(id)?;
    // The offset is the one replay shows the event at: its time as placed (one at an unknown
    // time at the event's before it) from the session's start, else its earliest event. It
    // was from the first line's own stamp: a first line stamped `1e308` gave every event 0 s,
    // one stamped before the start a later offset than replay's.
    let mut placed = None;
    let mut earliest: Option<f64> = None;
    let mut found = None;
    let mut count = 0;
    for event in events.by_ref() {
        count += 1;
        let at = placed_time(event.timestamp, &mut placed);
        if let Some(t) = believed_time(event.timestamp) {
            earliest = Some(earliest.map_or(t, |e| e.min(t)));
        }
        if count == number {
            found = Some((event, at));
        }
    }
    warn_bad_lines(events.bad_lines(), events.bad_count());
    let Some((event, at)) = found else {
        return Err(usage(super::replay::no_event(id, number, count)));
    };
    let origin = store
        .read_meta_to_read(id)
        .ok()
        .and_then(|meta| meta.believed_start())
        .or(earliest);
    let offset_seconds = match (at, origin) {
        (Some(at), Some(origin)) => (at - origin).max(0.0),
        _ => 0.0,
    };
    let annotation = Annotation {
        annotation_id: uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
        session_id: id.to_owned(),
        event_id: event.event_id.clone(),
        // The id alone does not find an event that has none, or shares it with another.
        event_number: Some(number),
        offset_seconds,
        // What is typed on a command line is as likely to hold a key as what an agent runs:
        // the store keeps secrets off disk whichever wrote them.
        label: kept(&args.label),
        note: kept(&args.note),
        author: kept(&args.author),
        created_at: crate::capture::sink::system_time(),
        bookmark: args.bookmark,
        extra: serde_json::Map::new(),
    };
    store.add_annotation(&annotation)?;
    let mut out = stdout(globals.colour());
    match args.format.format {
        Format::Json => {
            let shown = Shown::new(&annotation, Some(number));
            serde_json::to_writer_pretty(&mut out, &shown)?;
            writeln!(out)?;
        }
        Format::Text => writeln!(
            out,
            "annotation {} added to event #{number} of {id}",
            annotation.annotation_id
        )?,
    }
    out.flush()?;
    Ok(exit::OK)
}

/// Says on stderr how many lines of `id`'s annotation file were not annotations, if any.
pub(crate) fn warn_bad_annotation_lines(id: &str, bad_lines: usize) {
    if bad_lines > 0 {
        warn(format_args!(
            "{} of {id}'s annotations.jsonl {} not annotations and {} skipped",
            crate::render::terminal::count(bad_lines as u64, "line"),
            if bad_lines == 1 { "is" } else { "are" },
            if bad_lines == 1 { "was" } else { "were" }
        ));
    }
}

fn list(store: &Store, id: &str, format: Format, globals: &Globals) -> Result<u8> {
    let found = store.annotations(id)?;
    warn_bad_annotation_lines(id, found.bad_lines);
    let numbers = event_numbers(store, id)?;
    let shown: Vec<Shown<'_>> = found
        .annotations
        .iter()
        .map(|a| Shown::new(a, numbers.of(a)))
        .collect();
    let mut out = stdout(globals.colour());
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &shown)?;
            writeln!(out)?;
        }
        Format::Text if shown.is_empty() => writeln!(out, "no annotations on {id}")?,
        Format::Text => {
            let style = Painter::new(globals.colour());
            // One annotation a line: a note's own line breaks (or another writer's) would
            // start lines that read as annotations of their own. JSON keeps the text whole.
            let flat = |text: &str| crate::model::text::one_line(text, usize::MAX);
            for a in &shown {
                let event = a.event.map_or_else(|| "-".to_owned(), |n| format!("#{n}"));
                let mut what = Vec::new();
                if a.annotation.bookmark {
                    what.push(style.yellow("★ bookmark"));
                }
                if !a.annotation.label.is_empty() {
                    what.push(style.cyan(&format!("[{}]", flat(&a.annotation.label))));
                }
                if !a.annotation.note.is_empty() {
                    what.push(flat(&a.annotation.note));
                }
                let by = if a.annotation.author.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", flat(&a.annotation.author))
                };
                writeln!(
                    out,
                    "{}  {:>6}  {:>8}  {}{}  {}",
                    style.dim(&a.annotation.annotation_id),
                    event,
                    offset(a.annotation.offset_seconds),
                    what.join(" "),
                    by,
                    style.dim(&local_time(a.annotation.created_at)),
                )?;
            }
        }
    }
    out.flush()?;
    Ok(exit::OK)
}

fn delete(store: &Store, id: &str, name: &str, format: Format, globals: &Globals) -> Result<u8> {
    let found = store.annotations(id)?;
    let matching: Vec<&Annotation> = found
        .annotations
        .iter()
        .filter(|a| a.annotation_id == name || a.is_named_by(name))
        .collect();
    // Annotations that share the whole id named (another tool wrote them so) are one to the
    // user: no more of the id can tell them apart, so they go together.
    let one_id = matching.first().filter(|first| {
        matching
            .iter()
            .all(|a| a.annotation_id == first.annotation_id)
    });
    match (matching.as_slice(), one_id) {
        ([], _) => Err(usage(format!("session {id} has no annotation {name}"))),
        (_, Some(one)) => {
            let target = one.annotation_id.clone();
            let deleted = store.delete_annotations(id, |a| a.annotation_id == target)?;
            let mut out = stdout(globals.colour());
            match format {
                Format::Json => {
                    let shown: Vec<Shown<'_>> =
                        deleted.iter().map(|a| Shown::new(a, None)).collect();
                    serde_json::to_writer_pretty(&mut out, &shown)?;
                    writeln!(out)?;
                }
                Format::Text if deleted.len() > 1 => {
                    writeln!(out, "deleted {} annotations {target}", deleted.len())?;
                }
                Format::Text => writeln!(out, "deleted annotation {target}")?,
            }
            out.flush()?;
            Ok(exit::OK)
        }
        (_, None) => Err(usage(format!(
            "{name} names {} annotations of {id}: give more of the id",
            matching.len()
        ))),
    }
}

/// An annotation as the command shows it: with its event's number.
#[derive(serde::Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    annotation: &'a Annotation,
    /// The event's number, as replay prints it; none when the event is not in the session.
    event: Option<usize>,
}

impl<'a> Shown<'a> {
    fn new(annotation: &'a Annotation, event: Option<usize>) -> Self {
        Shown { annotation, event }
    }
}

/// The session's events by id and number, as replay numbers them.
fn event_numbers(store: &Store, id: &str) -> Result<EventNumbers> {
    let mut events = store.events(id)?;
    let ids: Vec<String> = events.by_ref().map(|event| event.event_id).collect();
    warn_bad_lines(events.bad_lines(), events.bad_count());
    Ok(EventNumbers::new(
        ids.iter().enumerate().map(|(i, id)| (i + 1, id.as_str())),
    ))
}
