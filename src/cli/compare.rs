//! `compare` (and `diff --compare`): two sessions side by side, with a verdict and how far
//! their decisions diverged; `--tag` picks the last two sessions of a task.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::Globals;
use super::args::{FormatArg, TimeRange};
use super::globals::Format;
use super::output::{start_in_period, stdout, usage, warn_ahead, warn_bad_lines};
use super::stores::ScopeArgs;
use crate::analysis::compare::{self, Comparison, Figures, Side};
use crate::analysis::copies::Kept;
use crate::analysis::cost::{CostOptions, compute};
use crate::analysis::phases::Phases;
use crate::analysis::tree::Forest;
use crate::exit;
use crate::model::period::PeriodStarts;
use crate::model::pricing::PriceTable;
use crate::model::{Event, SessionMeta};
use crate::render::terminal::{self, Painter};
use crate::store::{Selector, Store};

/// Compare two sessions side by side: duration, cost, tool calls, redundant reads, context
/// resets, files modified, errors and failures, with a verdict and the decision divergence
///
/// The verdict is deterministic: work whose last test run, build or check passed beats work
/// whose last one failed; work that ran none is not judged against work that did; otherwise
/// the session better on more of cost, duration and failures wins (an error that was an answer,
/// such as `git commit` with nothing to commit, is no failure, as `explain` says). Redundant reads are reads of a file (the same lines) read before and not written
/// since; a context reset is an LLM request more than 120 s after the one before. The decision
/// divergence is the edit distance between the two sessions' tool calls, each named by its
/// tool and what it acted on. Each session is counted alone, its subagents left out of every
/// figure, cost included (`cost` and `list` count them in); a note says so when either has any.
/// --since and --until pick among the sessions --tag finds, by when they started, as `list`
/// does: two sessions named are compared whenever they ran.
#[derive(Debug, Args)]
#[command(
    override_usage = "agent-strace compare [OPTIONS] <A> <B>\n       agent-strace compare [OPTIONS] --tag <TAG>",
    after_help = "Examples:\n  agent-strace compare 3f2a 9c1d\n  agent-strace compare --tag refactor-auth       # the last two sessions of a task\n  agent-strace compare --tag refactor-auth --until 2026-11-20   # the last two up to that day\n  agent-strace compare 3f2a 9c1d --format json"
)]
pub(crate) struct CompareArgs {
    /// The first session (id or unique prefix): the baseline. A and B are needed unless --tag
    /// is given
    #[arg(value_name = "A", value_parser = super::args::session_name)]
    a: Option<String>,
    /// The second session, compared with the first
    #[arg(value_name = "B", value_parser = super::args::session_name)]
    b: Option<String>,
    /// Compare the last two top-level sessions whose agent name or command contains TAG
    /// (any case), the older as A
    #[arg(long, value_name = "TAG", conflicts_with_all = ["a", "b"], value_parser = super::args::tag)]
    tag: Option<String>,
    #[command(flatten)]
    period: TimeRange,
    #[command(flatten)]
    format: FormatArg,
    #[command(flatten)]
    scope: ScopeArgs,
}

/// One session read for comparing: its metadata, events, phases and cost.
pub(crate) struct Loaded {
    pub(crate) meta: SessionMeta,
    pub(crate) events: Vec<Event>,
    pub(crate) phases: Phases,
    pub(crate) cost_usd: f64,
    pub(crate) cost_estimated: bool,
    /// Models whose usage has no known price, in name order: the cost counts them at $0.
    pub(crate) cost_unpriced_models: Vec<String>,
    /// Its responses whose usage no response can have, left out of the cost.
    pub(crate) unbelieved_usage: u64,
    /// How many subagent sessions it has, left out of every figure above.
    pub(crate) subagents: usize,
}

impl Loaded {
    /// Reads session `id` of `store` alone: its phases are its own events', so its cost is too
    /// (its subagents' is left out); `forest` tells how many subagent sessions it has.
    pub(crate) fn read(store: &Store, id: &str, forest: &Forest) -> Result<Loaded> {
        let meta = super::output::summary(store, id)?.meta;
        let mut reader = store.events(id)?;
        let events: Vec<Event> = reader.by_ref().collect();
        warn_bad_lines(reader.bad_lines(), reader.bad_count());
        let phases = super::explain::phases_from(store, &meta, &events);
        let report = compute(id, &phases, PriceTable::builtin(), &CostOptions::default())
            .map_err(|e| usage(e.to_string()))?;
        Ok(Loaded {
            meta,
            events,
            phases,
            cost_usd: report.cost_usd,
            cost_estimated: report.estimated,
            cost_unpriced_models: {
                let mut names = report.unpriced;
                names.sort_unstable();
                names
            },
            unbelieved_usage: report.unbelieved_usage,
            subagents: forest.descendants(id).len().saturating_sub(1),
        })
    }

    /// Reads the session `selector` names in the stores `scope` covers, alone.
    pub(crate) fn select(
        scope: &ScopeArgs,
        selector: &Selector,
        globals: &Globals,
    ) -> Result<Loaded> {
        let (store, id) = super::stores::select(scope, selector, globals)?;
        let forest = forest(&store, &id)?;
        Loaded::read(&store, &id, &forest)
    }

    /// Warns once when the session's start is one no session can have: its start and its
    /// duration, which counts from it, are then unknown, as `explain` gives them.
    pub(crate) fn warn_unbelievable(&self, format: Format) {
        let doubts = self.meta.unbelievable().only(&["started_at"]);
        super::output::warn_unbelievable(&self.meta.session_id, &doubts, format);
    }

    pub(crate) fn input(&self) -> compare::Input<'_> {
        compare::Input {
            meta: &self.meta,
            events: &self.events,
            phases: &self.phases,
            cost_usd: self.cost_usd,
            cost_estimated: self.cost_estimated,
            cost_unpriced_models: &self.cost_unpriced_models,
            unbelieved_usage: self.unbelieved_usage,
            subagents: self.subagents,
        }
    }
}

/// The hierarchy of the store's sessions, from its index.
fn forest(store: &Store, id: &str) -> Result<Forest> {
    Ok(super::listing::family(store, &[id])?.forest)
}

pub(crate) fn run(args: &CompareArgs, globals: &Globals) -> Result<u8> {
    let now = crate::store::system_time();
    let (since, until) = (args.period.since(now)?, args.period.until(now)?);
    let period = (since.is_some() || until.is_some())
        .then(|| since.unwrap_or(f64::NEG_INFINITY)..until.unwrap_or(f64::INFINITY));
    if period.as_ref().is_some_and(|p| p.start >= p.end) {
        return Err(usage("--since must be before --until"));
    }
    if period.is_some() && args.tag.is_none() {
        // Said rather than ignored: two sessions named are compared whenever they ran.
        return Err(usage(
            "--since and --until pick among the sessions --tag finds: give --tag TAG, or name the two sessions alone",
        ));
    }
    let (a, b) = match (&args.tag, &args.a, &args.b) {
        (Some(tag), _, _) => {
            // A period with no --until ends now: a session dated after it is in none.
            let starts = PeriodStarts::ending(until, now);
            tagged(&args.scope, tag, period.as_ref(), starts, globals)?
        }
        (None, Some(a), Some(b)) => (
            Loaded::select(&args.scope, &Selector::Prefix(a.clone()), globals)?,
            Loaded::select(&args.scope, &Selector::Prefix(b.clone()), globals)?,
        ),
        // Said here rather than by clap, whose "required arguments <A> <B>" names neither what
        // they are nor --tag.
        (None, Some(a), None) => {
            return Err(missing(&format!(
                "compare needs a second session to compare with `{a}`: give two session ids (or unique prefixes), the baseline first"
            )));
        }
        (None, _, _) => {
            return Err(missing(
                "compare needs two sessions: give two session ids (or unique prefixes), the baseline first, or --tag TAG for the last two sessions of a task",
            ));
        }
    };
    show(&a, &b, args.format.format, globals)
}

/// The usage error of a compare not given two sessions, with where to find their ids.
fn missing(message: &str) -> anyhow::Error {
    crate::error::Error::usage(message)
        .with_hint("`agent-strace list` shows the sessions and their ids")
        .into()
}

/// The last two sessions of a task that started in `period` (every one without it), placed by
/// `starts`, read from the index of each store the scope covers.
fn tagged(
    scope: &ScopeArgs,
    tag: &str,
    period: Option<&std::ops::Range<f64>>,
    mut starts: PeriodStarts,
    globals: &Globals,
) -> Result<(Loaded, Loaded)> {
    let mut stores = Vec::new();
    let mut all = Vec::new();
    let mut left_out = Vec::new();
    let mut listings = Vec::new();
    for located in scope.stores_unnamed(globals)? {
        let mut listing = super::listing::sessions(&located.store)?;
        left_out.push(std::mem::take(&mut listing.left_out));
        listings.push(listing);
        stores.push(located.store);
    }
    // A session in two stores (a copy) is one session, never compared with itself: the copy
    // the dashboard counts.
    let copies: Vec<_> = listings.iter().map(super::listing::copies).collect();
    let kept = Kept::of(&copies);
    for (i, listing) in listings.into_iter().enumerate() {
        all.push(
            listing
                .sessions
                .into_iter()
                .map(|s| s.summary.meta)
                .filter(|meta| kept.counts(i, &meta.session_id))
                .collect::<Vec<SessionMeta>>(),
        );
    }
    let ordered: Vec<Vec<(&SessionMeta, f64)>> = all
        .iter()
        .zip(&stores)
        .map(|(metas, store)| {
            metas
                .iter()
                .map(|m| (m, store.start_to_order_by(m)))
                .collect()
        })
        .collect();
    // A start no session can have is in no period, as `list` judges it (warned once).
    let in_period = |meta: &SessionMeta| {
        period.is_none_or(|p| {
            start_in_period(&mut starts, meta).is_some_and(|start| p.contains(&start))
        })
    };
    let picked = compare::tagged(&ordered, &left_out, tag, in_period);
    warn_ahead(&starts);
    if let ([only], [metas]) = (stores.as_slice(), all.as_slice())
        && metas.is_empty()
    {
        return Err(super::stores::no_sessions(only));
    }
    let [(a_store, a), (b_store, b)] = picked.as_slice() else {
        let when = if period.is_some() {
            " and that started in the period --since and --until give"
        } else {
            ""
        };
        return Err(usage(format!(
            "--tag `{tag}` needs two sessions whose agent name or command contains it{when}; {} found",
            picked.len()
        )));
    };
    // Those that could not be read link the sessions below them into their root's tree, as
    // every view of a tree counts them.
    let forests: Vec<Forest> = all
        .into_iter()
        .zip(left_out)
        .map(|(metas, left_out)| {
            let ids: Vec<String> = left_out.iter().map(|m| m.session_id.clone()).collect();
            Forest::new(metas.into_iter().chain(left_out)).leaving_out(ids)
        })
        .collect();
    let read = |i: usize, id: &str| Loaded::read(&stores[i], id, &forests[i]);
    Ok((read(*a_store, a)?, read(*b_store, b)?))
}

/// Prints the comparison of `a` with `b` (shared with `diff --compare`).
pub(crate) fn show(a: &Loaded, b: &Loaded, format: Format, globals: &Globals) -> Result<u8> {
    a.warn_unbelievable(format);
    b.warn_unbelievable(format);
    let comparison = compare::compare(&a.input(), &b.input());
    let mut out = stdout(globals.colour());
    match format {
        Format::Json => crate::render::json::write(&mut out, &comparison)?,
        Format::Text => text(&mut out, &comparison, Painter::new(globals.colour()))?,
    }
    out.flush()?;
    Ok(exit::OK)
}

/// The change from `a` to `b` in percent of `a` ([`compare::change_pct`], the verdict's base
/// too), or nothing when there is no base to measure from. A change the verdict would not
/// weigh (under [`compare::TELLING_PCT`]) is `<1%`: a 6.00 s against 6.05 s rounded to `+1%`
/// read beside "neither was better".
fn change(a: f64, b: f64) -> String {
    if (a - b).abs() < f64::EPSILON {
        return "same".to_owned();
    }
    match compare::change_pct(a, b) {
        None => String::new(),
        Some(pct) if pct.abs() < compare::TELLING_PCT => format!("<{}%", compare::TELLING_PCT),
        Some(pct) => format!("{pct:+.0}%"),
    }
}

/// The change in cost, as the verdict weighs it: none for a cost that is not to be set against
/// the other ([`compare::costs_comparable`]: an estimate beside a recorded cost, a cost that
/// counts a model with no known price at $0), `~` before one between two estimates.
fn cost_change(a: &Figures, b: &Figures) -> String {
    if !compare::costs_comparable(a, b) {
        return terminal::UNKNOWN.to_owned();
    }
    let change = change(a.cost_usd, b.cost_usd);
    if a.cost_estimated && change.ends_with('%') {
        format!("{}{change}", terminal::ESTIMATE_MARK)
    } else {
        change
    }
}

fn text(out: &mut impl Write, cmp: &Comparison, paint: Painter) -> std::io::Result<()> {
    let c = cmp;
    let (a, b) = (&c.a, &c.b);
    let (name_a, name_b) = super::diff::short_pair(&a.session_id, &b.session_id);
    // A column is as wide as the name over it: names that take more to tell apart widen it.
    let w = (name_a.chars().count() + 2).max(14);
    let rule = "─".repeat(38 + 2 * w);
    writeln!(out, "{}", paint.bold("Session comparison"))?;
    writeln!(out, "{rule}")?;
    writeln!(
        out,
        "  {:<18} {name_a:>w$} {name_b:>w$} {:>10}",
        "", "B vs A"
    )?;
    writeln!(out, "{rule}")?;
    let money = |f: &Figures| {
        // A cost that leaves out usage no response can have is marked as `list` marks it.
        terminal::cost_marked(
            f.cost_usd,
            !f.cost_unpriced_models.is_empty() || f.unbelieved_usage > 0,
            f.cost_estimated,
        )
    };
    // A count of each side, and its change.
    let counted = |label: &'static str, x: u64, y: u64| {
        (
            label,
            x.to_string(),
            y.to_string(),
            change(x as f64, y as f64),
        )
    };
    let mut rows: Vec<(&str, String, String, String)> = vec![
        (
            "Duration",
            terminal::believed(a.duration_s, terminal::duration_secs),
            terminal::believed(b.duration_s, terminal::duration_secs),
            match (a.duration_s.known(), b.duration_s.known()) {
                (Some(da), Some(db)) => change(da, db),
                _ => String::new(),
            },
        ),
        ("Cost", money(a), money(b), cost_change(a, b)),
        counted("Tool calls", a.tool_calls, b.tool_calls),
        counted("Redundant reads", a.redundant_reads, b.redundant_reads),
        counted("Context resets", a.context_resets, b.context_resets),
        counted("Files modified", a.files_modified, b.files_modified),
        counted("Errors", a.errors, b.errors),
        counted("Failures", a.failures, b.failures),
    ];
    // Of the errors, the turns' (an API error that ended one), under them: shown when either
    // session had some, as `diff --semantic` shows them; they weigh nothing in the verdict.
    // Deletions and moves, under the files modified: shown when either session made some, as
    // most make none.
    let removals = [
        ("Files deleted", a.files_deleted, b.files_deleted),
        ("Files moved", a.files_moved, b.files_moved),
    ];
    for (label, x, y) in removals.into_iter().rev() {
        if x > 0 || y > 0 {
            let at = rows
                .iter()
                .position(|r| r.0 == "Files modified")
                .map_or(rows.len(), |i| i + 1);
            rows.insert(at, counted(label, x, y));
        }
    }
    if a.turn_errors > 0 || b.turn_errors > 0 {
        let at = rows
            .iter()
            .position(|r| r.0 == "Errors")
            .map_or(rows.len(), |i| i + 1);
        rows.insert(at, counted("Turn errors", a.turn_errors, b.turn_errors));
    }
    for (label, va, vb, ch) in rows {
        writeln!(out, "  {label:<18} {va:>w$} {vb:>w$} {ch:>10}")?;
    }
    writeln!(out, "{rule}")?;
    super::diff::subagents_note(out, &c.subagents, (&name_a, &name_b), paint)?;
    let verdict = match c.verdict.better {
        Some(side) => {
            let id = if side == Side::A { &name_a } else { &name_b };
            format!(
                "{} was better: {}",
                paint.cyan(id),
                c.verdict.reasons.join(", ")
            )
        }
        None if c.verdict.reasons.is_empty() => {
            "neither was better on cost, duration and failures".to_owned()
        }
        None => paint.yellow(&format!("none ({})", c.verdict.reasons.join(", "))),
    };
    writeln!(out, "Verdict: {verdict}")?;
    if c.decision_divergence_exact {
        writeln!(
            out,
            "Decision divergence: {} between their tool calls",
            terminal::count(c.decision_divergence as u64, "edit")
        )?;
    } else {
        writeln!(
            out,
            "Decision divergence: between {} and {} between their tool calls (approximate: \
             too many calls that differ to align exactly)",
            terminal::thousands(c.decision_divergence_at_least as u64),
            terminal::count(c.decision_divergence as u64, "edit")
        )?;
    }
    if let Some(d) = &c.diverged_at {
        let side = |name: &str, decision: Option<&compare::Decision>| match decision {
            Some(dec) => format!(
                "  {name} #{}: {}",
                dec.event,
                terminal::one_line(&dec.decision, 90)
            ),
            None => format!("  {name}: no more tool calls"),
        };
        writeln!(
            out,
            "Diverged after {}:",
            terminal::count(d.after as u64, "shared tool call")
        )?;
        writeln!(out, "{}", side(&name_a, d.a.as_ref()))?;
        writeln!(out, "{}", side(&name_b, d.b.as_ref()))?;
    }
    super::diff::unpriced_note(out, &a.cost_unpriced_models, &b.cost_unpriced_models, paint)?;
    Ok(())
}
