//! `cost`: tokens and dollars of a session, by model and by phase.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::Globals;
use super::args::{FormatArg, SessionArg};
use super::explain::{phases_of, phases_of_listed};
use super::globals::Format;
use super::output::{stdout, usage};
use super::stores::ScopeArgs;
use crate::analysis::cost::{CostOptions, CostReport, compute};
use crate::analysis::phases::Phases;
use crate::analysis::tree::Forest;
use crate::exit;
use crate::model::pricing::PriceTable;
use crate::render::terminal::{self, Painter};
use crate::store::Store;

/// Show what a session cost: tokens and dollars by model and by phase, with failed phases'
/// spend flagged as wasted
///
/// Uses the usage the session recorded (imported transcripts have it exactly); a session
/// without any is estimated from its payload sizes (four characters a token) and labelled so.
/// The session's subagents are counted in, as ccusage counts them in a session's figures;
/// `--no-subagents` counts the session alone.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace cost\n  agent-strace cost 3f2a --no-subagents\n  agent-strace cost 3f2a --model opus\n  agent-strace cost 3f2a --input-price 3 --output-price 15 --format json\n  agent-strace cost --all-projects      # the latest session of any project"
)]
pub(crate) struct CostArgs {
    #[command(flatten)]
    session: SessionArg,
    /// Price every token as this model (sonnet, opus, haiku, gpt-4o, gpt-5, or a full name)
    #[arg(long, value_name = "MODEL")]
    model: Option<String>,
    /// Custom input price, USD per million tokens (with --output-price)
    #[arg(long, value_name = "USD", requires = "output_price")]
    input_price: Option<f64>,
    /// Custom output price, USD per million tokens (with --input-price)
    #[arg(long, value_name = "USD", requires = "input_price")]
    output_price: Option<f64>,
    /// Count the session alone, without its subagents
    #[arg(long)]
    no_subagents: bool,
    /// Subagents are counted in by default; kept so that scripts written for it still work
    #[arg(long, hide = true, conflicts_with = "no_subagents")]
    include_subagents: bool,
    #[command(flatten)]
    format: FormatArg,
    #[command(flatten)]
    scope: ScopeArgs,
}

/// The most a custom price may be, USD per million tokens: far above any model's, and low
/// enough that no count of tokens a session holds can take a sum past what [`crate::model::Money`] holds.
const MOST_PRICE: f64 = 1_000_000.0;

pub(crate) fn run(args: &CostArgs, globals: &Globals) -> Result<u8> {
    // A price past a million dollars a million tokens is none a model has; priced at one,
    // every sum stopped at the most a sum holds ($3.4e26), the same for every model.
    let price = |p: f64| p.is_finite() && (0.0..=MOST_PRICE).contains(&p);
    let custom = match (args.input_price, args.output_price) {
        (Some(i), Some(o)) if price(i) && price(o) => Some((i, o)),
        (Some(_), Some(_)) => {
            return Err(usage(
                "--input-price and --output-price are USD per million tokens, from 0 to 1,000,000",
            ));
        }
        _ => None,
    };
    let (store, id) = super::stores::select(&args.scope, &args.session.selector(), globals)?;
    let phases = phases_of(&store, &id)?;
    let opts = CostOptions {
        model: args.model.clone(),
        custom,
    };
    let table = PriceTable::builtin();
    let mut report = compute(&id, &phases, table, &opts).map_err(|e| usage(e.to_string()))?;
    if !args.no_subagents {
        let forest = super::listing::family(&store, &[&id])?.forest;
        include_subagents(&store, &forest, &id, &mut report, &opts)?;
    }
    let mut out = stdout(globals.colour());
    match args.format.format {
        Format::Json => crate::render::json::write(&mut out, &report)?,
        Format::Text => {
            // An estimate no flag priced, of a session that names no model, is priced as a
            // model the session may never have used. Only where no session of the roll-up
            // recorded usage: a subagent's estimate does not make the model a parent's usage
            // named an assumed one.
            let assumed = report.all_estimated()
                && opts.model.is_none()
                && opts.custom.is_none()
                && phases.named_model.is_none()
                && phases.estimate_default.is_some();
            text(&mut out, &report, assumed, Painter::new(globals.colour()))?;
        }
    }
    out.flush()?;
    Ok(exit::OK)
}

/// Rolls the costs of `id`'s subagents (and theirs, as `forest` links them) into `report`:
/// the figure `cost`, `list` and replay's header give for a session.
pub(crate) fn include_subagents(
    store: &Store,
    forest: &Forest,
    id: &str,
    report: &mut CostReport,
    opts: &CostOptions,
) -> Result<()> {
    include_subagents_read(store, forest, id, report, opts, phases_of)
}

/// [`include_subagents`] for a command that listed the sessions: the listing has warned of a
/// subagent whose `meta.json` cannot be used (`lint --all` said it twice).
pub(crate) fn include_listed_subagents(
    store: &Store,
    forest: &Forest,
    id: &str,
    report: &mut CostReport,
    opts: &CostOptions,
) -> Result<()> {
    include_subagents_read(store, forest, id, report, opts, phases_of_listed)
}

fn include_subagents_read(
    store: &Store,
    forest: &Forest,
    id: &str,
    report: &mut CostReport,
    opts: &CostOptions,
    phases_of: fn(&Store, &str) -> Result<Phases>,
) -> Result<()> {
    for child in forest.descendants(id).into_iter().skip(1) {
        let phases = phases_of(store, &child)?;
        let child_report = compute(&child, &phases, PriceTable::builtin(), opts)
            .map_err(|e| usage(e.to_string()))?;
        report.include_subagent(&child_report);
    }
    Ok(())
}

/// `assumed`: the estimate was priced as [`DEFAULT_MODEL`](crate::analysis::cost::DEFAULT_MODEL) (its one model) for want of recorded
/// usage, not as a model the user or the session named.
fn text(
    out: &mut impl Write,
    r: &CostReport,
    assumed: bool,
    paint: Painter,
) -> std::io::Result<()> {
    // A session that recorded usage, with a subagent that did not, is not an estimate: it
    // said "Estimated cost" and "No usage was recorded".
    let label = if r.all_estimated() {
        "Estimated cost"
    } else if r.estimated {
        "Cost, partly estimated"
    } else {
        "Cost"
    };
    writeln!(
        out,
        "Session: {} — {label}: {}",
        paint.cyan(&r.session_id),
        // A cost that leaves out usage no response can have is marked as `list` marks it.
        paint.bold(&terminal::dollars_marked(
            r.cost_usd,
            !r.unpriced.is_empty() || r.unbelieved_usage > 0
        ))
    )?;
    for m in &r.models {
        let t = &m.tokens;
        let priced = match &m.priced_as {
            Some(_) if assumed && m.model == r.model => {
                " (assumed for the estimate: --model names another)".to_owned()
            }
            Some(p) if p != &m.model => format!(" (priced as {p})"),
            Some(_) => String::new(),
            None => paint.yellow(" (no known price)"),
        };
        writeln!(
            out,
            "Model: {}{priced} | {} input, {} output, {} cache write, {} cache read tokens | {}",
            m.model,
            terminal::thousands(t.input),
            terminal::thousands(t.output),
            terminal::thousands(t.cache_creation),
            terminal::thousands(t.cache_read),
            terminal::dollars_marked(m.cost_usd, m.priced_as.is_none())
        )?;
    }
    let estimated: Vec<&str> = r
        .subagents
        .iter()
        .filter(|s| s.estimated)
        .map(|s| s.session_id.as_str())
        .collect();
    // Usage that holds a count no response can have is no usage: "no usage was recorded"
    // was said of a session that recorded some, none of it believable.
    let no_usage = |unbelieved: bool| {
        if unbelieved {
            "no believable usage"
        } else {
            "no usage"
        }
    };
    let subagents_unbelieved: u64 = r.subagents.iter().map(|s| s.unbelieved_usage).sum();
    let own_unbelieved = r.unbelieved_usage > subagents_unbelieved;
    let note = if r.all_estimated() {
        let none = if r.unbelieved_usage > 0 {
            "No believable usage"
        } else {
            "No usage"
        };
        Some(format!(
            "{none} was recorded: tokens are estimated from payload sizes (4 characters a token)."
        ))
    } else if r.own_estimated {
        Some(format!(
            "The session recorded {}: its tokens are estimated from payload sizes (4 characters a token); its subagents' are recorded, except as marked.",
            no_usage(own_unbelieved)
        ))
    } else if !estimated.is_empty() {
        let none = no_usage(
            r.subagents
                .iter()
                .any(|s| s.estimated && s.unbelieved_usage > 0),
        );
        let whose = match estimated.as_slice() {
            [one] => format!("Subagent {one} recorded {none}: its tokens are"),
            few if few.len() <= 3 => {
                format!(
                    "Subagents {} recorded {none}: their tokens are",
                    few.join(", ")
                )
            }
            many => format!("{} subagents recorded {none}: their tokens are", many.len()),
        };
        Some(format!(
            "{whose} estimated from payload sizes (4 characters a token); the session's own are recorded."
        ))
    } else {
        None
    };
    if let Some(note) = note {
        writeln!(out, "{}", paint.dim(&note))?;
    }
    if let Some(note) = terminal::unbelieved_usage_note(r.unbelieved_usage) {
        writeln!(out, "{}", paint.dim(&note))?;
    }
    if let Some(log) = &r.usage_log {
        // `list`, `dashboard` and `sql` read the store alone: their figure is the estimate.
        let note = format!(
            "The session recorded no usage: tokens are read from its agent's log, {}; list, \
             dashboard and sql, which read the store alone, show an estimate from payload sizes.",
            terminal::one_line(log, 120)
        );
        writeln!(out, "{}", paint.dim(&note))?;
    }
    for sub in &r.subagents {
        let estimated = if sub.estimated { " (estimated)" } else { "" };
        writeln!(
            out,
            "Subagent {}: {}{estimated}",
            sub.session_id,
            terminal::dollars_marked(sub.cost_usd, !sub.unpriced.is_empty())
        )?;
    }
    for p in &r.phases {
        let failed = if p.failed {
            format!(" — {}", paint.red("FAILED"))
        } else {
            String::new()
        };
        let wasted = if p.wasted {
            paint.red(" ← wasted")
        } else {
            String::new()
        };
        writeln!(
            out,
            "Phase {}: {}{failed} {} ({:.0}%){wasted}",
            p.index,
            p.label,
            terminal::dollars_marked(p.cost_usd, p.unpriced),
            p.share * 100.0
        )?;
    }
    writeln!(
        out,
        "Wasted on failed phases: {} ({:.0}%)",
        terminal::dollars_marked(
            r.wasted_usd,
            r.phases.iter().any(|p| p.wasted && p.unpriced)
        ),
        r.wasted_share * 100.0
    )?;
    let date = r.prices_taken.split_whitespace().next().unwrap_or_default();
    writeln!(out, "{}", paint.dim(&format!("Prices taken {date}.")))?;
    let mut unpriced: Vec<&String> = r.unpriced.iter().collect();
    unpriced.sort_unstable();
    match terminal::unpriced_note(&unpriced) {
        Some(note) => writeln!(out, "{}", paint.dim(&note)),
        None => Ok(()),
    }
}
