//! `diff`: two sessions compared phase by phase (the default), by outcome (`--semantic`), or
//! side by side (`--compare`, the same as `compare A B`).

use std::fmt::Write as _;
use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::Globals;
use super::args::FormatArg;
use super::compare::Loaded;
use super::globals::Format;
use super::output::stdout;
use super::stores::ScopeArgs;
use crate::analysis::compare;
use crate::analysis::diff::{self, Change, Delta, PhaseStep, SemanticDiff, StructuralDiff, Totals};
use crate::exit;
use crate::model::command::Verdict;
use crate::render::terminal::{self, Painter};
use crate::store::Selector;

/// Compare two sessions: phase by phase (default), by outcome (--semantic), or side by side
/// with a verdict (--compare)
///
/// Phases are aligned by label (the prompt that opened them, or `run tests` / `build`) as a
/// longest common subsequence (for two sessions of thousands of phases each, their common start
/// and end); each aligned phase lists the files, commands and outcomes only
/// one session had, each phase only one session had is named, and the first difference is
/// where the sessions diverged. --semantic leaves order aside: tools added and removed, the
/// change in tool calls, errors, tokens, retries, time and cost, and whether B improved on A
/// (its work ends passing where A's failed, or it failed fewer calls, or retried less;
/// `untested` when only one of them ran a test, build or check).
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace diff 3f2a 9c1d\n  agent-strace diff 3f2a 9c1d --semantic --format json\n  agent-strace diff 3f2a 9c1d --compare"
)]
pub(crate) struct DiffArgs {
    /// The first session (id or unique prefix): the baseline
    #[arg(value_name = "A", value_parser = super::args::session_name)]
    a: String,
    /// The second session, compared with the first
    #[arg(value_name = "B", value_parser = super::args::session_name)]
    b: String,
    /// Compare by outcome: tools, calls, errors, tokens, and a verdict
    #[arg(long, conflicts_with = "compare")]
    semantic: bool,
    /// Side by side, as `compare A B`
    #[arg(long)]
    compare: bool,
    #[command(flatten)]
    format: FormatArg,
    #[command(flatten)]
    scope: ScopeArgs,
}

pub(crate) fn run(args: &DiffArgs, globals: &Globals) -> Result<u8> {
    // Each session alone: its phases are its own events', so its cost is too.
    let a = Loaded::select(&args.scope, &Selector::Prefix(args.a.clone()), globals)?;
    let b = Loaded::select(&args.scope, &Selector::Prefix(args.b.clone()), globals)?;
    if args.compare {
        return super::compare::show(&a, &b, args.format.format, globals);
    }
    a.warn_unbelievable(args.format.format);
    b.warn_unbelievable(args.format.format);
    let (ia, ib) = (input(&a), input(&b));
    let mut out = stdout(globals.colour());
    let paint = Painter::new(globals.colour());
    match (args.semantic, args.format.format) {
        (true, Format::Json) => crate::render::json::write(&mut out, &diff::semantic(&ia, &ib))?,
        (true, Format::Text) => semantic_text(&mut out, &diff::semantic(&ia, &ib), paint)?,
        (false, Format::Json) => {
            crate::render::json::write(&mut out, &diff::structural(&ia, &ib))?;
        }
        (false, Format::Text) => structural_text(&mut out, &diff::structural(&ia, &ib), paint)?,
    }
    out.flush()?;
    Ok(exit::OK)
}

fn input(l: &Loaded) -> diff::Input<'_> {
    diff::Input {
        session_id: &l.meta.session_id,
        phases: &l.phases,
        cost_usd: l.cost_usd,
        cost_estimated: l.cost_estimated,
        cost_unpriced_models: &l.cost_unpriced_models,
        subagents: l.subagents,
    }
}

/// The line that says the figures leave subagents out, when either session has any (shared
/// with `compare`).
pub(crate) fn subagents_note(
    out: &mut impl Write,
    s: &diff::Subagents,
    (a, b): (&str, &str),
    paint: Painter,
) -> std::io::Result<()> {
    if s.counted || s.a + s.b == 0 {
        return Ok(());
    }
    let has = |who: &str, n: usize| match n {
        0 => format!("{who} has none"),
        n => format!(
            "{who} has {}",
            terminal::count(n as u64, "subagent session")
        ),
    };
    writeln!(
        out,
        "{}",
        paint.dim(&format!(
            "Each session is counted alone, its subagents left out of every figure, cost included ({}, {}).",
            has(a, s.a),
            has(b, s.b)
        ))
    )
}

/// How many characters of a session id name it, at least.
const SHORT_ID: usize = 12;

/// The names two sessions go by in a report: the first 12 characters of each id, or as many
/// more as tell them apart (two subagents' ids share `agent-acompact-`, and were both
/// `agent-acompa`). Shared with `compare`.
pub(crate) fn short_pair(a: &str, b: &str) -> (String, String) {
    let shared = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let n = if a == b {
        SHORT_ID
    } else {
        SHORT_ID.max(shared + 1)
    };
    (a.chars().take(n).collect(), b.chars().take(n).collect())
}

fn verdict_word(v: Option<Verdict>) -> &'static str {
    match v {
        Some(Verdict::Passed) => "passed",
        Some(Verdict::Failed) => "failed",
        Some(Verdict::Answered) => "answered",
        Some(Verdict::Rejected) => "rejected",
        None => "no result",
    }
}

fn step_text(
    out: &mut impl Write,
    number: usize,
    s: &PhaseStep,
    (a, b): (&str, &str),
    paint: Painter,
) -> std::io::Result<()> {
    let phase = |p: Option<usize>| p.map_or_else(|| "-".to_owned(), |p| p.to_string());
    let label = terminal::one_line(&s.label, 70);
    let whose = match (s.phase_a, s.phase_b) {
        (Some(_), None) => format!(" — {a} only"),
        (None, Some(_)) => format!(" — {b} only"),
        _ => String::new(),
    };
    writeln!(
        out,
        "  {} (phase {} / {}){whose}",
        paint.bold(&format!("{number}. {label}")),
        phase(s.phase_a),
        phase(s.phase_b)
    )?;
    let state = |f: Option<bool>| match f {
        Some(true) => paint.red("FAILED"),
        Some(false) => "passed".to_owned(),
        None => "-".to_owned(),
    };
    if s.phase_a.is_some() && s.phase_b.is_some() && s.failed_a != s.failed_b {
        writeln!(
            out,
            "    {a}: {}   {b}: {}",
            state(s.failed_a),
            state(s.failed_b)
        )?;
    }
    for (who, list, prefix) in [
        (a, &s.commands_only_a, "$ "),
        (b, &s.commands_only_b, "$ "),
        (a, &s.files_only_a, ""),
        (b, &s.files_only_b, ""),
        (a, &s.written_only_a, "wrote "),
        (b, &s.written_only_b, "wrote "),
        (a, &s.deleted_only_a, "deleted "),
        (b, &s.deleted_only_b, "deleted "),
    ] {
        for item in list {
            writeln!(
                out,
                "    {who} only: {prefix}{}",
                terminal::one_line(item, 90)
            )?;
        }
    }
    for o in &s.outcomes {
        writeln!(
            out,
            "    $ {}: {} in {a}, {} in {b}",
            terminal::one_line(&o.command, 70),
            verdict_word(o.a),
            verdict_word(o.b)
        )?;
    }
    Ok(())
}

/// The note under costs marked for counting a model with no known price at $0, naming the
/// models of either session.
pub(crate) fn unpriced_note(
    out: &mut impl Write,
    a: &[String],
    b: &[String],
    paint: Painter,
) -> std::io::Result<()> {
    let mut models: Vec<&String> = a.iter().chain(b).collect();
    models.sort_unstable();
    models.dedup();
    match terminal::unpriced_note(&models) {
        Some(note) => writeln!(out, "{}", paint.dim(&note)),
        None => Ok(()),
    }
}

fn totals_line(name: &str, t: &Totals) -> String {
    let removed = terminal::removed_tail(t.files_deleted as u64, t.files_moved as u64);
    format!(
        "  {}: {}, {}, {}, {}, {}, {}, {} read, {} written{removed}, {}",
        name,
        terminal::believed(t.duration_s, terminal::duration_secs),
        terminal::count(t.events, "event"),
        terminal::count(t.phases as u64, "phase"),
        terminal::count(t.tool_calls, "tool call"),
        terminal::count(t.errors, "error"),
        terminal::count_as(t.retries, "retry", "retries"),
        terminal::count(t.files_read as u64, "file"),
        t.files_written,
        terminal::cost_marked(
            t.cost_usd,
            !t.cost_unpriced_models.is_empty(),
            t.cost_estimated
        )
    )
}

fn structural_text(
    out: &mut impl Write,
    d: &StructuralDiff,
    paint: Painter,
) -> std::io::Result<()> {
    let (a, b) = short_pair(&d.session_a, &d.session_b);
    writeln!(out, "Comparing: {} vs {}", paint.cyan(&a), paint.cyan(&b))?;
    match d.diverged_at {
        None => writeln!(out, "The sessions are structurally the same.")?,
        Some(n) => {
            let first = &d.steps[n - 1];
            let mut at = format!(
                "Diverged at step {n}: {}",
                terminal::one_line(&first.label, 70)
            );
            let events: Vec<String> = [(&a, first.first_event_a), (&b, first.first_event_b)]
                .into_iter()
                .filter_map(|(who, e)| e.map(|e| format!("{who} #{e}")))
                .collect();
            if !events.is_empty() {
                let _ = write!(at, " ({})", events.join(", "));
            }
            writeln!(out, "{}", paint.yellow(&at))?;
        }
    }
    for (i, s) in d.steps.iter().enumerate().filter(|(_, s)| s.differs) {
        step_text(out, i + 1, s, (&a, &b), paint)?;
    }
    let same = d.steps.iter().filter(|s| !s.differs).count();
    if same > 0 && d.diverged_at.is_some() {
        writeln!(
            out,
            "  ({} the same)",
            terminal::count(same as u64, "other aligned phase")
        )?;
    }
    writeln!(out, "{}", totals_line(&a, &d.a))?;
    writeln!(out, "{}", totals_line(&b, &d.b))?;
    subagents_note(out, &d.subagents, (&a, &b), paint)?;
    unpriced_note(
        out,
        &d.a.cost_unpriced_models,
        &d.b.cost_unpriced_models,
        paint,
    )
}

fn signed(n: i64) -> String {
    let s = terminal::thousands(n.unsigned_abs());
    match n.signum() {
        1 => format!("+{s}"),
        -1 => format!("-{s}"),
        _ => s,
    }
}

/// The width of the Δ column: a change of millions of tokens (`+4,713,422`) fits.
const DELTA: usize = 11;

fn semantic_text(out: &mut impl Write, d: &SemanticDiff, paint: Painter) -> std::io::Result<()> {
    let (a, b) = short_pair(&d.session_a, &d.session_b);
    writeln!(
        out,
        "Semantic diff: {} vs {}",
        paint.cyan(&a),
        paint.cyan(&b)
    )?;
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    writeln!(out, "  Tools added:   {}", list(&d.tools_added))?;
    writeln!(out, "  Tools removed: {}", list(&d.tools_removed))?;
    let row = |label: &str, x: &Delta<i64>| {
        format!(
            "  {label:<14} {:>DELTA$}  ({} → {})",
            signed(x.delta),
            terminal::thousands(x.a.unsigned_abs()),
            terminal::thousands(x.b.unsigned_abs())
        )
    };
    writeln!(out, "{}", row("Δ tool calls:", &d.tool_calls))?;
    writeln!(out, "{}", row("Δ errors:", &d.errors))?;
    // Of the errors, the turns' (an API error that ended one), and the turns an interrupt
    // ended: shown when either session had some.
    for (label, delta) in [
        ("Δ turn errors:", &d.turn_errors),
        ("Δ interrupted:", &d.interrupted_turns),
    ] {
        if delta.a != 0 || delta.b != 0 {
            writeln!(out, "{}", row(label, delta))?;
        }
    }
    // The verdict weighs failures as `explain` lists them: shown, with what sets them apart
    // from the errors, when they differ in either session.
    let apart = [
        ("A", &d.errors_answered_a, d.failures_without_error_a),
        ("B", &d.errors_answered_b, d.failures_without_error_b),
    ];
    if apart.iter().any(|(_, a, f)| !a.is_empty() || *f > 0) {
        writeln!(out, "{}", row("Δ failures:", &d.failures))?;
        for (side, answered, unerrored) in apart {
            let why = super::explain::errors_told_apart(answered, unerrored);
            if !why.is_empty() {
                writeln!(out, "    {side}'s errors and failures: {why}")?;
            }
        }
    }
    let est = if d.tokens_estimated {
        " (estimated)"
    } else {
        ""
    };
    writeln!(out, "{}{est}", row("Δ tokens:", &d.tokens))?;
    writeln!(out, "{}", row("Δ retries:", &d.retries))?;
    let sign = |delta: f64| if delta < 0.0 { "-" } else { "+" };
    writeln!(
        out,
        "  {:<14} {:>DELTA$}  ({} → {})",
        "Δ duration:",
        terminal::believed(d.duration_s.delta, |delta| format!(
            "{}{}",
            sign(delta),
            terminal::duration_secs(delta.abs())
        )),
        terminal::believed(d.duration_s.a, terminal::duration_secs),
        terminal::believed(d.duration_s.b, terminal::duration_secs)
    )?;
    // No change between costs `compare` does not set against each other (an estimate and a
    // recorded cost, a cost counting a model with no known price at $0): `?`, as its change
    // column shows. One between two estimates is marked before its sign: `~+$0.0044`.
    let (unpriced_a, unpriced_b) = (
        !d.cost_unpriced_models_a.is_empty(),
        !d.cost_unpriced_models_b.is_empty(),
    );
    let comparable = compare::comparable_costs(
        (d.cost_estimated_a, &d.cost_unpriced_models_a),
        (d.cost_estimated_b, &d.cost_unpriced_models_b),
    );
    let change = if comparable {
        let estimated = if d.cost_estimated_a {
            terminal::ESTIMATE_MARK.to_string()
        } else {
            String::new()
        };
        format!(
            "{estimated}{}{}",
            sign(d.cost_usd.delta),
            terminal::dollars(d.cost_usd.delta.abs())
        )
    } else {
        terminal::UNKNOWN.to_owned()
    };
    writeln!(
        out,
        "  {:<14} {:>DELTA$}  ({} → {})",
        "Δ cost:",
        change,
        terminal::cost_marked(d.cost_usd.a, unpriced_a, d.cost_estimated_a),
        terminal::cost_marked(d.cost_usd.b, unpriced_b, d.cost_estimated_b)
    )?;
    for (label, files) in [
        ("Files written only by B", &d.files_written_added),
        ("Files written only by A", &d.files_written_removed),
        ("Files deleted only by B", &d.files_deleted_added),
        ("Files deleted only by A", &d.files_deleted_removed),
    ] {
        if !files.is_empty() {
            writeln!(out, "  {label}: {}", files.join(", "))?;
        }
    }
    let word = match d.verdict {
        Change::Improved => paint.green("improved"),
        Change::Regressed => paint.red("regressed"),
        Change::Same => "same".to_owned(),
        Change::Untested => paint.yellow("untested"),
    };
    let why = if d.reasons.is_empty() {
        String::new()
    } else {
        format!(" ({})", d.reasons.join("; "))
    };
    writeln!(out, "Outcome: {word}{why}")?;
    subagents_note(out, &d.subagents, (&a, &b), paint)?;
    unpriced_note(
        out,
        &d.cost_unpriced_models_a,
        &d.cost_unpriced_models_b,
        paint,
    )
}
