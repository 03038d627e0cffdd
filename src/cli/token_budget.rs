//! `token-budget`: how full the model's context window got over a session.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::Globals;
use super::args::{FormatArg, SessionArg};
use super::globals::Format;
use super::output::{stdout, usage, warn_bad_lines};
use crate::analysis::token_budget::{BudgetBuilder, TokenBudget};
use crate::exit;
use crate::model::pricing::Window;
use crate::model::text::{figure, fixed_beside};
use crate::render::terminal::{self, Painter};
use crate::store::Store;

/// Show context-window use over a session: the peak, when it came, and a warning past a
/// threshold (exit code 1 then, for CI gates)
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace token-budget\n  agent-strace token-budget 3f2a --model opus --warn-at 75\n  agent-strace token-budget --context-window 128000 --format json"
)]
pub(crate) struct TokenBudgetArgs {
    #[command(flatten)]
    session: SessionArg,
    /// Take the context window of this model [default: the session's own model]
    #[arg(long, value_name = "MODEL")]
    model: Option<String>,
    /// Warn when context use reaches this percentage of the window
    #[arg(long, value_name = "PCT", default_value_t = 80.0)]
    warn_at: f64,
    /// The context window in tokens, for models the price table does not know (`--limit`, as
    /// the Python tool spells it, is accepted too)
    #[arg(long, value_name = "TOKENS", alias = "limit", value_parser = super::args::positive::<u64>)]
    context_window: Option<u64>,
    #[command(flatten)]
    format: FormatArg,
}

/// How many columns the timeline takes.
const TIMELINE: usize = 60;

pub(crate) fn run(args: &TokenBudgetArgs, globals: &Globals) -> Result<u8> {
    if !(args.warn_at.is_finite() && args.warn_at > 0.0) {
        return Err(usage("--warn-at must be a positive percentage"));
    }
    let store = Store::new(globals.store_root());
    let id = crate::cli::stores::select_in(&store, &args.session.selector())?;
    let meta = super::output::summary(&store, &id)?.meta;
    let mut builder = BudgetBuilder::new(meta.believed_start());
    // A session of hooks is measured from its transcript, as watch measures it; a subagent's
    // responses read its own context, not the session's.
    let logged = super::explain::logged_log(&store, &meta)
        .map(|(_, logged)| logged)
        .unwrap_or_default();
    builder.logged_unbelieved(logged.unbelieved);
    let mut responses = (logged.responses.into_iter())
        .filter(|r| !r.subagent)
        .peekable();
    let mut events = store.events(&id)?;
    for event in events.by_ref() {
        while let Some(r) = responses.next_if(|r| r.timestamp <= event.timestamp) {
            builder.logged_response(r.timestamp, &r.model, &r.usage);
        }
        builder.observe(&event);
    }
    for r in responses {
        builder.logged_response(r.timestamp, &r.model, &r.usage);
    }
    warn_bad_lines(events.bad_lines(), events.bad_count());
    let model = args
        .model
        .clone()
        .or_else(|| builder.first_model().map(str::to_owned));
    let recorded = model.as_deref().and_then(|m| builder.recorded_window_of(m));
    let known = model.as_deref().and_then(|m| builder.window_of(m));
    let (window, source) = match (args.context_window, recorded, known) {
        // A window the user gave is theirs, whatever the context says.
        (Some(limit), _, _) => (given(limit), "limit"),
        // The window the agent said its model had is truer than the table's for the model.
        (None, Some(recorded), _) => (given(recorded), "recorded"),
        (None, None, Some(window)) if window.standard.is_some() => (window, "long"),
        (None, None, Some(window)) => (window, "model"),
        // A gate must not pass on a guessed window: a model whose window is not known, named or
        // the session's, is refused, as is usage of no model named.
        (None, None, None) => match &model {
            Some(model) => {
                return Err(usage(format!(
                    "no context window known for model `{model}`; give one with --context-window"
                )));
            }
            None if builder.measured() => {
                return Err(usage(
                    "no model named in this session, so no context window known; give one with --context-window or --model",
                ));
            }
            // Nothing to measure, so nothing is measured against the window.
            None => (given(crate::model::windows::ASSUMED_WINDOW), "assumed"),
        },
    };
    let report = builder.finish(&id, model, window, source, args.warn_at);
    let mut out = stdout(globals.colour());
    match args.format.format {
        Format::Json => crate::render::json::write(&mut out, &report)?,
        Format::Text => text(&mut out, &report, Painter::new(globals.colour()))?,
    }
    out.flush()?;
    Ok(if report.over {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

/// A window taken as it is, not from a model.
fn given(tokens: u64) -> Window {
    Window {
        tokens,
        standard: None,
    }
}

fn text(out: &mut impl Write, r: &TokenBudget, paint: Painter) -> std::io::Result<()> {
    let source = match r.window_source {
        "limit" => "given".to_owned(),
        "model" => r.model.clone().unwrap_or_default(),
        "recorded" => format!(
            "{}, as the agent recorded it",
            r.model.as_deref().unwrap_or_default()
        ),
        "long" => format!(
            "{}'s long window: the context went past its standard {}",
            r.model.as_deref().unwrap_or_default(),
            terminal::thousands(r.standard_window.unwrap_or_default())
        ),
        _ => "assumed: no model known".to_owned(),
    };
    writeln!(
        out,
        "Session: {} — context window {} ({source})",
        paint.cyan(&r.session_id),
        terminal::count(r.context_window, "token")
    )?;
    let Some(peak) = &r.peak else {
        if r.only_session_totals {
            return writeln!(
                out,
                "Only the session's total usage was recorded, which tells no response's context."
            );
        }
        if r.unbelieved_usage > 0 {
            // Usage was recorded, none of it believable: it was said to be none.
            return writeln!(
                out,
                "No believable model usage was recorded in this session: {} held usage no response can have ({}).",
                terminal::count(r.unbelieved_usage, "response"),
                terminal::UNBELIEVED_USAGE
            );
        }
        return writeln!(
            out,
            "No model usage was recorded in this session (import its transcript for exact figures)."
        );
    };
    writeln!(
        out,
        "Peak: {} tokens ({}%) at {} (event #{}), over {}",
        terminal::thousands(peak.tokens),
        fixed_beside(peak.pct, 0, r.warn_at_pct),
        terminal::offset(peak.at_s).trim_start_matches('+').trim(),
        peak.event,
        terminal::count(r.responses as u64, "response")
    )?;
    writeln!(out, "{}", timeline(r, paint))?;
    if let Some(note) = terminal::unbelieved_usage_note(r.unbelieved_usage) {
        writeln!(out, "{}", paint.dim(&note))?;
    }
    match &r.first_over {
        Some(over) => writeln!(
            out,
            "{} context use reached {}% of the window at {} (event #{}), past the {}% threshold",
            paint.red("warning:"),
            fixed_beside(over.pct, 0, r.warn_at_pct),
            terminal::offset(over.at_s).trim_start_matches('+').trim(),
            over.event,
            figure(r.warn_at_pct)
        ),
        // The threshold as it was given: `--warn-at 99.6` read "Below the 100% threshold".
        None => writeln!(
            out,
            "Below the {}% threshold throughout.",
            figure(r.warn_at_pct)
        ),
    }
}

/// Context use over the session as a row of bars, each the highest use in its slice of time.
fn timeline(r: &TokenBudget, paint: Painter) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let end = r.points.last().map_or(0.0, |p| p.at_s).max(1e-9);
    let mut columns = vec![None::<f64>; TIMELINE];
    for p in &r.points {
        let i = ((p.at_s / end) * (TIMELINE - 1) as f64).round() as usize;
        let slot = &mut columns[i.min(TIMELINE - 1)];
        *slot = Some(slot.map_or(p.pct, |v| v.max(p.pct)));
    }
    let mut last = 0.0;
    columns
        .into_iter()
        .map(|c| {
            let pct = c.unwrap_or(last);
            last = pct;
            let bar = BARS[((pct / 100.0 * 7.0).round() as usize).min(7)].to_string();
            if pct >= r.warn_at_pct {
                paint.red(&bar)
            } else {
                bar
            }
        })
        .collect()
}
