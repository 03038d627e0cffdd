//! `share`: a session as one self-contained HTML page to send to someone, and the page
//! builder `replay --format html` uses too.
//!
//! The two pages are one page (`render::html`): `replay --format html` shows the session as
//! recorded, for the person who recorded it; `share` puts a summary first (what happened, the
//! outcome, what it cost, the files it changed: explain's and cost's data) and redacts secrets
//! (`redact`'s patterns) from every event, title and command before anything is written, since
//! the page is meant to leave the machine. `share --anonymize` also replaces the names of
//! the user, the machine, the folder and the repository, with `export --anonymize`'s
//! anonymizer (`export::anonymize`), in every session of the page, before the page is built:
//! the header, the summary and the lines are computed from what is left.

use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use super::Globals;
use super::args::SessionArg;
use super::globals::Format;
use super::output::{stdout, summary, warn};
use super::replay::read;
use crate::analysis::cost::{CostOptions, CostReport, compute, spend_over_time};
use crate::analysis::page::{self, Page, PageKind, SessionInput};
use crate::analysis::phases::Phases;
use crate::analysis::replay_line::{ErrorsApart, HEADER_FIELDS, Numbered, header};
use crate::analysis::tree::{Forest, nest};
use crate::exit;
use crate::export::anonymize::{Anonymizer, Learned, Report};
use crate::model::pricing::PriceTable;
use crate::model::{Agent, SessionMeta};
use crate::render::terminal::{self, UNPRICED_MARK};
use crate::store::Store;

/// Share a session as one self-contained HTML page: a summary, then the replay
///
/// The page opens in any browser without a network: the events, the style and the script are
/// in the file. It starts with what happened, the outcome, the cost and the files changed, then
/// replays the session (timeline, filters, search, subagents, annotations). Secrets are
/// redacted from everything the session recorded; `replay --format html` is the same replay
/// without the summary, as recorded. The folder, file paths, branch, user and host names stay
/// unless --anonymize replaces them.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace share 3f2a -o session.html   # send session.html to a colleague\n  agent-strace share > latest.html           # the latest session\n  agent-strace share 3f2a --anonymize -o session.html   # without your name, host or folders\n  agent-strace share 3f2a --anonymize --dry-run         # what it would replace, no page\n  agent-strace replay --format html -o replay.html   # the same replay, unredacted, no summary"
)]
pub(crate) struct ShareArgs {
    #[command(flatten)]
    session: SessionArg,
    /// Write the page to FILE [default: standard output]
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also replace home folders, user and host names, email addresses, the repository and the
    /// working folder, and the replacements of .agent-strace/anonymize.yaml, in every session,
    /// annotation and summary of the page, as export --anonymize does
    #[arg(long)]
    anonymize: bool,
    /// With --anonymize: list what would be replaced (counts per kind, examples) as JSON and
    /// write no page
    #[arg(long, requires = "anonymize")]
    dry_run: bool,
}

/// What is taken out of every session of a page before the page is built.
struct Clean<'a> {
    /// Secrets (`share`).
    redact: bool,
    /// Names (`share --anonymize`).
    anonymizer: Option<&'a Anonymizer>,
    /// What the anonymizer replaced, for `--dry-run`.
    report: Report,
}

pub(crate) fn run(args: &ShareArgs, globals: &Globals) -> Result<u8> {
    super::output::output_folder(args.output.as_deref(), &globals.store_root())?;
    let store = Store::new(globals.store_root());
    let id = crate::cli::stores::select_in(&store, &args.session.selector())?;
    let anonymizer = if args.anonymize {
        Some(super::export_anon::anonymizer()?)
    } else {
        None
    };
    let mut clean = Clean {
        redact: true,
        anonymizer: anonymizer.as_ref(),
        report: Report::default(),
    };
    let page = page_cleaned(&store, &id, PageKind::Share, &mut clean)?;
    if args.dry_run {
        return super::export_anon::print_dry_run(&clean.report, globals);
    }
    // The sharer is told what the page's reader is: the cost it gives is not all of it.
    let unbelieved = page.header.cost_unbelieved_usage;
    if unbelieved > 0 {
        warn(format_args!(
            "the page's cost of session {id} counts {} of unknown usage at $0 (marked {UNPRICED_MARK})",
            terminal::count(unbelieved, "LLM response")
        ));
    }
    write_page(&page, args.output.as_deref(), globals)?;
    Ok(exit::OK)
}

/// Writes `page` to `output` (whole, then renamed into place), else to standard output; as it
/// is made, never held whole.
pub(crate) fn write_page(page: &Page, output: Option<&Path>, globals: &Globals) -> Result<()> {
    if let Some(path) = output {
        // What is written holds session content: a new file is its owner's alone (0600).
        super::output::output_folder(Some(path), &globals.store_root())?;
        super::output::replace_file_with(path, 0o600, |file| {
            Ok(crate::render::html::write(file, page)?)
        })?;
        let mut out = stdout(globals.colour());
        writeln!(
            out,
            "Wrote the {} of session {} to {}.",
            match page.kind {
                PageKind::Replay => "replay",
                PageKind::Share => "shareable page",
            },
            page.header.session_id,
            path.display()
        )?;
        out.flush()?;
    } else {
        // The page as it is: it holds no control character a terminal would act on (the JSON
        // escapes them), and a page piped to a file must stay byte for byte what was built.
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
        crate::render::html::write(&mut out, page)?;
        out.flush()?;
    }
    Ok(())
}

/// The page of session `id`, with its subagents nested under the calls that spawned them;
/// secrets redacted from the share page.
pub(crate) fn page_of(store: &Store, id: &str, kind: PageKind) -> Result<Page> {
    let mut clean = Clean {
        redact: kind == PageKind::Share,
        anonymizer: None,
        report: Report::default(),
    };
    page_cleaned(store, id, kind, &mut clean)
}

/// [`page_of`], with what `clean` says taken out of every session first.
fn page_cleaned(store: &Store, id: &str, kind: PageKind, clean: &mut Clean<'_>) -> Result<Page> {
    // A subagent that cannot be read is left out with a warning, as every command leaves it,
    // and a note under the page's cost, which leaves it out.
    let (forest, mut unread) = match store.sessions() {
        Ok(listing) => {
            let family = super::listing::readable_family(store, listing, &[id]);
            (family.forest, family.unread_subagents)
        }
        Err(_) => (Forest::new(Vec::new()), Vec::new()),
    };
    // A subagent shared on its own is anonymised with what its parents revealed.
    let parent = match clean.anonymizer {
        Some(anonymizer) => {
            let meta = summary(store, id)?.meta;
            super::export_anon::inherited(store, anonymizer, &meta)
        }
        None => None,
    };
    let (mut root, subagents) = inputs(store, &forest, id, clean, parent.as_ref(), &mut unread)?;
    let agent = Agent::from_name(&root.meta.agent_name);
    let phases = phases_cleaned(store, &root.meta, &root.events, clean.redact);
    let options = CostOptions::default();
    let mut cost = compute(id, &phases, PriceTable::builtin(), &options).ok();
    if let Some(report) = cost.as_mut() {
        include_subagents(store, &subagents, report, &options, clean.redact)?;
    }
    let apart = ErrorsApart::of(root.events.iter().map(|n| &n.event));
    let doubts = root.meta.unbelievable().only(&HEADER_FIELDS);
    super::output::warn_unbelievable(id, &doubts, Format::Text);
    let head = header(&root.meta, apart, agent, &root.events, cost.as_ref());
    let summary = (kind == PageKind::Share)
        .then(|| page::summary(&phases, cost.as_ref(), root.meta.ended_at.is_none()));
    root.spend = spend_over_time(&phases, PriceTable::builtin());
    let root = nest(root, subagents, |s| &mut s.children);
    let mut page = page::build(kind, head, summary, clean.redact, root);
    page.anonymized = clean.anonymizer.is_some();
    page.cost_notes = cost_notes(cost.as_ref(), &unread);
    Ok(page)
}

/// What the cost of a page leaves out, a sentence each: the responses of unknown usage it counts
/// at $0, as `list` says it, and the subagents `unread` that could not be read (why is the
/// sharer's to read on stderr: it names their files, where the page is meant to be sent).
fn cost_notes(cost: Option<&CostReport>, unread: &[String]) -> Vec<String> {
    let unbelieved = cost.map_or(0, |c| c.unbelieved_usage);
    terminal::unbelieved_cost_note(unbelieved)
        .into_iter()
        .chain(unread.iter().map(|id| {
            format!("Subagent session {id} could not be read: it is left out of the cost and of this page.")
        }))
        .collect()
}

/// The cost of `subagents` (each with its parent's place, see [`inputs`]), added to `report`: from
/// the sessions as cleaned, since their models are named in the page (read again from the
/// store, a subagent's model name reached it with the secrets and names it held).
fn include_subagents(
    store: &Store,
    subagents: &[(SessionInput, usize)],
    report: &mut CostReport,
    options: &CostOptions,
    redact: bool,
) -> Result<()> {
    for (child, _) in subagents {
        let phases = phases_cleaned(store, &child.meta, &child.events, redact);
        let child_report = compute(
            &child.meta.session_id,
            &phases,
            PriceTable::builtin(),
            options,
        )
        .map_err(|e| super::output::usage(e.to_string()))?;
        report.include_subagent(&child_report);
    }
    Ok(())
}

/// A session's phases from its cleaned events; the usage a hook session takes from its agent's
/// log (the model names that price it) is read from the log as it is, so it is redacted here.
fn phases_cleaned(store: &Store, meta: &SessionMeta, events: &[Numbered], redact: bool) -> Phases {
    let events = events.iter().map(|n| &n.event);
    super::explain::phases_with_log_models(store, meta, events, |model| {
        redact
            .then(|| super::explain::redacted_model(model))
            .flatten()
    })
}

/// Session `id` and its subagents (as `forest` links them), read from the store and cleaned:
/// the session, and its subagents with the place of each one's parent (0 for the session,
/// `n` for the `n`th subagent), parents before children, children in start order; a subagent
/// that cannot be read is added to `unread`. `parent` is what its own parents revealed of where it ran, for the
/// anonymizer, which hands down what each session revealed to its subagents. The walk keeps
/// its own stack, so a chain of thousands of subagents never overflows the thread's.
fn inputs(
    store: &Store,
    forest: &Forest,
    id: &str,
    clean: &mut Clean<'_>,
    parent: Option<&Learned>,
    unread: &mut Vec<String>,
) -> Result<(SessionInput, Vec<(SessionInput, usize)>)> {
    let (root, learned) = input(store, id, clean, parent)?;
    let mut read = Vec::new();
    let mut revealed = vec![learned];
    forest.walk_below(id, |child, parent| {
        match input(store, child, clean, revealed[parent].as_ref()) {
            Ok((session, learned)) => {
                read.push((session, parent));
                revealed.push(learned);
                true
            }
            Err(e) => {
                warn(format_args!(
                    "left out subagent session {child}: {}",
                    crate::error::chain_text(&e)
                ));
                unread.push(child.to_owned());
                false
            }
        }
    });
    Ok((root, read))
}

/// One session's input to the page (its subagents are for [`inputs`] to add), read from the
/// store and cleaned, and what it revealed of where it ran for its subagents' anonymizer;
/// `parent` is what its parent revealed.
fn input(
    store: &Store,
    id: &str,
    clean: &mut Clean<'_>,
    parent: Option<&Learned>,
) -> Result<(SessionInput, Option<Learned>)> {
    let mut meta = summary(store, id)?.meta;
    let mut events = read(store, id)?;
    let mut annotations = annotations_or_warn(store, id);
    if clean.redact {
        redact_session(&mut meta, &mut events, &mut annotations);
    }
    // After the secrets, so that no secret is among what --dry-run shows it found.
    let learned = clean.anonymizer.map(|anonymizer| {
        anonymize_session(
            anonymizer,
            parent,
            &mut meta,
            &mut events,
            &mut annotations,
            &mut clean.report,
        )
    });
    let spend = if meta.parent_session_id.is_some() {
        let phases = phases_cleaned(store, &meta, &events, clean.redact);
        spend_over_time(&phases, PriceTable::builtin())
    } else {
        // The root's spend comes from the phases its cost is computed from.
        Vec::new()
    };
    let session = SessionInput {
        meta,
        events,
        annotations,
        spend,
        children: Vec::new(),
    };
    Ok((session, learned))
}

/// A session's annotations for its page. A file that cannot be read (a link or a FIFO where
/// the store keeps a plain file) costs the page its notes, not the page: it is said on stderr,
/// as a subagent left out is, so that "Annotations: none" is not taken for the truth.
fn annotations_or_warn(store: &Store, id: &str) -> Vec<crate::model::annotation::Annotation> {
    match store.annotations(id) {
        Ok(found) => {
            super::annotate::warn_bad_annotation_lines(id, found.bad_lines);
            found.annotations
        }
        Err(e) => {
            warn(format_args!(
                "left out the annotations of session {id}: {}",
                crate::error::chain_text(&e.into())
            ));
            Vec::new()
        }
    }
}

/// Secrets out of everything a page would show of a session.
fn redact_session(
    meta: &mut SessionMeta,
    events: &mut [Numbered],
    annotations: &mut [crate::model::annotation::Annotation],
) {
    for n in events.iter_mut() {
        crate::redact::redact_value(&mut n.event.data);
    }
    meta.command = crate::redact::redact_str(&meta.command).into_owned();
    // Free text too, whoever wrote the meta (a collector's client, another tool).
    meta.agent_name = crate::redact::redact_str(&meta.agent_name).into_owned();
    crate::redact::redact_fields(&mut meta.extra);
    for a in annotations {
        a.note = crate::redact::redact_str(&a.note).into_owned();
        a.label = crate::redact::redact_str(&a.label).into_owned();
        a.author = crate::redact::redact_str(&a.author).into_owned();
    }
}

/// Names out of everything a page would show of a session, as `export --anonymize` takes
/// them out, knowing what its parent revealed; returns what it revealed, for its subagents.
fn anonymize_session(
    anonymizer: &Anonymizer,
    parent: Option<&Learned>,
    meta: &mut SessionMeta,
    events: &mut [Numbered],
    annotations: &mut [crate::model::annotation::Annotation],
    report: &mut Report,
) -> Learned {
    let (scrubber, learned) = anonymizer.in_tree(meta, events.iter().map(|n| &n.event), parent);
    scrubber.session(meta, events.iter_mut().map(|n| &mut n.event), report);
    for a in annotations {
        for text in [&mut a.note, &mut a.label, &mut a.author] {
            if let Cow::Owned(new) = scrubber.text(text, report) {
                *text = new;
            }
        }
    }
    learned
}
