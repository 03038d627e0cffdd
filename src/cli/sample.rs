//! `sample`: the sessions most worth keeping for a regression suite or an eval dataset, one
//! JSON line each (its metadata, score and events), chosen from the index's figures.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args, ValueEnum};

use super::Globals;
use super::args::instant;
use super::output::{start_in_period, stdout, warn_ahead, warn_bad_lines};
use super::stores::ScopeArgs;
use crate::analysis::copies::{Copy, Kept};
use crate::analysis::sample::{Candidate, Score, Strategy, pick};
use crate::exit;
use crate::model::period::PeriodStarts;
use crate::model::pricing::PriceTable;
use crate::render::escape::escape;
use crate::store::Store;

/// Export the worst, most varied, most recent or random sessions as JSONL
///
/// Each line is one session: its id, start, agent and command, its score (error rate, retry
/// rate, blast radius = distinct files written, cost, whether the cost is estimated from
/// payload sizes for want of recorded usage, duration, tool calls, and the weighted worst score,
/// where an estimated cost weighs as an exact one) and all its events. A subagent is a session of its own here, so a session's
/// cost is its own, without its subagents' (which `list` and `cost` count in). Sessions are
/// chosen from the index, so only the chosen ones are read whole.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace sample --strategy worst --n 20 --output regression.jsonl\n  agent-strace sample --strategy diverse --n 10 --deduplicate --output diverse.jsonl\n  agent-strace sample --strategy random --n 15 --seed 42 --output random.jsonl"
)]
pub(crate) struct SampleArgs {
    /// How sessions are chosen
    #[arg(long, value_enum, default_value_t = StrategyArg::Worst)]
    strategy: StrategyArg,
    /// How many sessions
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = super::args::at_least_one)]
    n: usize,
    /// The random strategy's seed: the same seed picks the same sessions [default: the clock]
    #[arg(long, value_name = "S", value_parser = super::args::whole::<u64>)]
    seed: Option<u64>,
    /// Of sessions that made the same tool calls in the same order, keep only the first (with
    /// --strategy recent, the newest)
    #[arg(long)]
    deduplicate: bool,
    #[arg(long, value_name = "WHEN", help = concat!(
        "Only sessions started since WHEN: ", super::args::when_forms!()
    ))]
    since: Option<String>,
    /// Where to write the JSONL [default: standard output]
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    scope: ScopeArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StrategyArg {
    /// The highest worst score: errors, retries, blast radius, cost
    Worst,
    /// The most varied: each pick the farthest from those already picked
    Diverse,
    /// The most recent
    Recent,
    /// At random (reproducible with --seed)
    Random,
}

impl From<StrategyArg> for Strategy {
    fn from(arg: StrategyArg) -> Strategy {
        match arg {
            StrategyArg::Worst => Strategy::Worst,
            StrategyArg::Diverse => Strategy::Diverse,
            StrategyArg::Recent => Strategy::Recent,
            StrategyArg::Random => Strategy::Random,
        }
    }
}

pub(crate) fn run(args: &SampleArgs, globals: &Globals) -> Result<u8> {
    // A seed picks nothing but the random strategy's sessions: said, never ignored in silence.
    if args.seed.is_some() && args.strategy != StrategyArg::Random {
        return Err(crate::error::Error::usage(
            "--seed picks the sessions of --strategy random; the other strategies take none",
        )
        .into());
    }
    super::output::output_folder(args.output.as_deref(), &globals.store_root())?;
    let now = crate::capture::sink::system_time();
    let since = args
        .since
        .as_deref()
        .map(|t| instant(t, "--since", now, false))
        .transpose()?;
    let prices = PriceTable::builtin();
    // Each candidate with the store it is in (by its place among the stores) and the models
    // its cost counts at $0 for want of a price.
    let mut found: Vec<(Candidate, usize, Store, Vec<String>)> = Vec::new();
    // --since is a period that ends now: a session dated after it is in none.
    let mut starts = PeriodStarts::ending_now(now);
    // What tells each store's copy of a session from another store's.
    let mut copies: Vec<Vec<Copy>> = Vec::new();
    for (i, located) in args.scope.stores_unnamed(globals)?.into_iter().enumerate() {
        let mut here = Vec::new();
        super::listing::each_summary(&located.store, |meta, summary| {
            here.push(super::listing::copy_of(meta, &summary));
            // A start no session can have is in no period: left out, with a warning.
            if since
                .is_some_and(|t| start_in_period(&mut starts, meta).is_none_or(|start| start < t))
            {
                return;
            }
            // Every file the session wrote, as `drift` and every view count them: the last
            // call's too, and a call's that no result answered.
            let written = summary
                .files_touched()
                .values()
                .filter(|f| f.writes > 0)
                .count() as u64;
            // A duration no session can have (a damaged or forged meta.json) is unknown.
            let duration =
                meta.duration_figure(&meta.unbelievable(), meta.duration_secs().unwrap_or(0.0));
            // A call the user refused is no error (as `list` and `drift` count them), and an
            // API error that ended a turn is no call's: the service failed, not the work.
            let score = Score::new(
                summary.counters.tool_failures(),
                summary.retries,
                summary.counters.tool_calls,
                written,
                (summary.cost(prices).usd(), !summary.has_usage()),
                duration,
            );
            // A start in 2128 was the most recent and the oldest of the deduplicated.
            let started_at = meta.start_to_order_by(now, || summary.counters.first_timestamp);
            let candidate = Candidate {
                session_id: meta.session_id.clone(),
                started_at,
                score,
                calls_fingerprint: summary.calls_hash,
            };
            let models = summary.unpriced(prices).map(str::to_owned).collect();
            found.push((candidate, i, located.store.clone(), models));
        })?;
        copies.push(here);
    }
    // A session in two stores (a copy) is one session: the copy the dashboard counts.
    let kept = Kept::of(&copies);
    let mut candidates = Vec::new();
    let mut held: HashMap<String, (Store, Vec<String>)> = HashMap::new();
    for (candidate, i, store, models) in found {
        if kept.counts(i, &candidate.session_id) {
            held.insert(candidate.session_id.clone(), (store, models));
            candidates.push(candidate);
        }
    }
    warn_ahead(&starts);
    let seed = args.seed.unwrap_or_else(|| now.to_bits());
    let picked = pick(
        candidates,
        args.strategy.into(),
        args.n,
        seed,
        args.deduplicate,
    );
    // Each line is written as it is made: the chosen sessions are never held together, and
    // one is read an event at a time.
    let chosen: Vec<(&Candidate, &Store, &[String])> = picked
        .iter()
        .filter_map(|chosen| {
            let (store, models) = held.get(&chosen.session_id)?;
            Some((chosen, store, models.as_slice()))
        })
        .collect();
    let write_all = |out: &mut dyn Write| -> Result<()> {
        for (chosen, store, models) in &chosen {
            write_line(out, store, chosen, models)?;
        }
        Ok(())
    };
    if let Some(path) = &args.output {
        super::output::replace_file_with(path, 0o600, write_all)?;
        let mut out = stdout(globals.colour());
        writeln!(
            out,
            "Wrote {} to {} ({} strategy).",
            crate::render::terminal::count(chosen.len() as u64, "session"),
            path.display(),
            strategy_name(args.strategy)
        )?;
        out.flush()?;
    } else {
        // The lines are escaped as they are made (see `write_line`), so they go out as they are.
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
        write_all(&mut out)?;
        out.flush()?;
    }
    Ok(exit::OK)
}

fn strategy_name(strategy: StrategyArg) -> &'static str {
    match strategy {
        StrategyArg::Worst => "worst",
        StrategyArg::Diverse => "diverse",
        StrategyArg::Recent => "recent",
        StrategyArg::Random => "random",
    }
}

/// Writes `chosen`'s JSON line to `out`: metadata, score and every event as the store holds
/// it; `unpriced` names the models its cost counts at $0 for want of a price, given in its
/// score as `cost_unpriced_models`. The events are read and written one at a time, the
/// `events` array last: a line held whole (the events, their JSON, the text and its escaped
/// copy) took 4.5 times the session's size, for every session chosen.
fn write_line(
    out: &mut dyn Write,
    store: &Store,
    chosen: &Candidate,
    unpriced: &[String],
) -> Result<()> {
    let meta = store.read_meta_to_read(&chosen.session_id).ok();
    let mut score = serde_json::to_value(chosen.score)?;
    if let Some(fields) = score.as_object_mut() {
        fields.insert("cost_unpriced_models".to_owned(), unpriced.into());
    }
    // A start no session can have is null, as every view gives it.
    let doubts = meta
        .as_ref()
        .map(crate::model::SessionMeta::unbelievable)
        .unwrap_or_default();
    let started_at = doubts.figure("started_at", chosen.started_at);
    let head = serde_json::json!({
        "session_id": chosen.session_id,
        "started_at": started_at,
        "agent_name": meta.as_ref().map(|m| m.agent_name.clone()),
        "command": meta.as_ref().map(|m| m.command.clone()),
        "score": score,
    });
    let head = serde_json::to_string(&head)?;
    // The object is left open for its last field, the events.
    let head = head.strip_suffix('}').unwrap_or(&head);
    let mut reader = store.events(&chosen.session_id)?;
    // The characters a terminal acts on as `\u` escapes, which JSON reads as the same text:
    // the line may go to a terminal, and a file gets the same bytes. The escape is of each
    // character alone, so a piece escaped at a time is the line escaped whole.
    out.write_all(escape(head).as_bytes())?;
    out.write_all(b",\"events\":[")?;
    for (i, event) in reader.by_ref().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        // Through a `Value`, as the line was written when it was built whole.
        let json = serde_json::to_string(&serde_json::to_value(&event)?)?;
        out.write_all(escape(&json).as_bytes())?;
    }
    out.write_all(b"]}\n")?;
    warn_bad_lines(reader.bad_lines(), reader.bad_count());
    Ok(())
}

/// Writes the file whole, as [`super::output::replace_file`] does, after checking its folder:
/// what is written holds session content, so a new file is made readable by its owner alone
/// (0600). Never in the trace store at `store`.
pub(crate) fn write_file(path: &Path, lines: &[Vec<u8>], store: &Path) -> Result<()> {
    super::output::output_folder(Some(path), store)?;
    super::output::replace_file(path, lines, 0o600)
}
