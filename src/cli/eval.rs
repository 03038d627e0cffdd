//! `eval`, `eval ci` and `eval compare`: a session scored against `.agent-evals.yaml`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use super::Globals;
use super::args::{FormatArg, SessionArg};
use super::explain::phases_from;
use super::globals::Format;
use super::output::{stdout, warn_bad_lines};
use super::settings::{self, EvalLines, EvalSettings, Loaded, SCORER_KEYS, SettingsError};
use super::stores::ScopeArgs;
use crate::analysis::compare::WorkOutcome;
use crate::analysis::cost::{self, CostOptions};
use crate::analysis::eval::{
    Check, EvalComparison, EvalConfig, EvalReport, KNOWN, PYTHON_ONLY, ScorerConfig, SessionFacts,
    Verdict, compare, evaluate,
};
use crate::analysis::tree::Forest;
use crate::error::Error;
use crate::exit;
use crate::model::pricing::PriceTable;
use crate::model::text::{fixed, fixed_beside, real};
use crate::model::tools::Agent;
use crate::model::user_regex::UserRegex;
use crate::model::{Event, EventType};
use crate::render::terminal::{self, Painter};
use crate::store::{Selector, Store};

/// Score a session against the scorers of .agent-evals.yaml; eval ci gates CI on them
///
/// Scorers: no_errors, cost_under, duration_under, tool_calls_under, files_scoped and regex (a
/// pattern in the agent's answers), each over the session with its subagents' sessions;
/// cost_under without max_dollars allows $10 and duration_under without max_seconds 120 s (the
/// Python tool's defaults, which the reason names), files_scoped without allowed_paths allows
/// no file, and a key of another scorer type is an error. Each scorer gives a score from 0 to 1
/// and passes at its threshold (its weight when only that is given, as the Python tool reads a
/// weight alone, else 1); the scores weighted by each scorer's weight (its threshold unless
/// given) make the overall score, which passes at thresholds.pass (0.85) and warns down to
/// thresholds.warn (0.70); when every weight is 0 there is no overall score, and the scorers
/// alone decide. Without a settings file, or with one that names no scorer, the one scorer is
/// no_errors. Exits 1 when a scorer fails or the overall score is below the warn mark.
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  agent-strace eval                       # the latest session\n  agent-strace eval 3f2a --format json\n  agent-strace eval ci                    # in CI: exit 1 when a scorer fails\n  agent-strace eval compare 3f2a 9b1c     # two sessions' scores side by side\n\n.agent-evals.yaml:\n  scorers:\n    - type: no_errors\n    - type: cost_under\n      max_dollars: 0.50\n    - type: files_scoped\n      allowed_paths: [\"src/\", \"tests/**\"]\n      threshold: 0.9\n    - type: duration_under\n      max_seconds: 900\n    - type: tool_calls_under\n      max_calls: 200\n    - type: regex\n      pattern: \"(?i)all tests pass\"\n      weight: 0.5\n  thresholds:\n    pass: 0.85\n    warn: 0.70"
)]
pub(crate) struct EvalArgs {
    #[command(subcommand)]
    command: Option<EvalCommand>,
    #[command(flatten)]
    session: SessionArg,
    #[command(flatten)]
    options: EvalOptions,
}

#[derive(Debug, Subcommand)]
enum EvalCommand {
    Ci(CiArgs),
    Compare(CompareArgs),
}

/// Flags every form of `eval` takes.
#[derive(Debug, Args)]
struct EvalOptions {
    /// The scorers' file [default: the nearest .agent-evals.yaml]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    format: FormatArg,
    #[command(flatten)]
    scope: ScopeArgs,
}

/// The CI gate: score the latest session (or --session) and exit 1 when any scorer fails
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace eval ci\n  agent-strace eval ci --session 3f2a --config ci/evals.yaml --format json"
)]
struct CiArgs {
    /// Session id or unique prefix [default: the latest session]
    #[arg(long, value_name = "ID", value_parser = super::args::session_name)]
    session: Option<String>,
    #[command(flatten)]
    options: EvalOptions,
}

/// Two sessions scored with the same scorers, side by side, with B's change against A
///
/// The verdict is `improved` or `regressed` when one session's work ends passing (its last
/// test run, build or check) where the other's failed, else by the weighted score, then by
/// scorers passed, else `same`; it is `untested` when only one of them ran a test, build or
/// check: work that ran none is not judged against work that did (as `diff --semantic`
/// decides).
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  agent-strace eval compare 3f2a 9b1c --format json")]
struct CompareArgs {
    /// The session compared against (id or unique prefix)
    #[arg(value_parser = super::args::session_name)]
    a: String,
    /// The session compared with it
    #[arg(value_parser = super::args::session_name)]
    b: String,
    #[command(flatten)]
    options: EvalOptions,
}

pub(crate) fn run(args: &EvalArgs, globals: &Globals) -> Result<u8> {
    match &args.command {
        None => {
            let config = config(args.options.config.as_deref())?;
            let (report, _) = score(&args.session.selector(), &config, &args.options, globals)?;
            print_report(&report, &args.options, globals, false)
        }
        Some(EvalCommand::Ci(ci)) => {
            let config = config(ci.options.config.as_deref())?;
            let selector = Selector::from_option(ci.session.as_deref());
            let (report, _) = score(&selector, &config, &ci.options, globals)?;
            print_report(&report, &ci.options, globals, true)
        }
        Some(EvalCommand::Compare(cmp)) => {
            let config = config(cmp.options.config.as_deref())?;
            let (a, outcome_a) = score(
                &Selector::from_option(Some(&cmp.a)),
                &config,
                &cmp.options,
                globals,
            )?;
            let (b, outcome_b) = score(
                &Selector::from_option(Some(&cmp.b)),
                &config,
                &cmp.options,
                globals,
            )?;
            let comparison = compare(a, b, outcome_a, outcome_b);
            let mut out = stdout(globals.colour());
            match cmp.options.format.format {
                Format::Json => crate::render::json::write(&mut out, &comparison)?,
                Format::Text => {
                    compare_text(&mut out, &comparison, Painter::new(globals.colour()))?;
                }
            }
            out.flush()?;
            Ok(exit::OK)
        }
    }
}

/// Scores the session `selector` names with `config`; and where its work stood at its end.
fn score(
    selector: &Selector,
    config: &EvalConfig,
    options: &EvalOptions,
    globals: &Globals,
) -> Result<(EvalReport, WorkOutcome)> {
    let (store, id) = super::stores::select(&options.scope, selector, globals)?;
    scored(&store, &id, config, None, true)
}

/// Scores session `id` of `store` with `config`. `forest` is the store's sessions, for the
/// cost of subagents; commands that score many sessions (`export --metrics`, `--backend
/// langfuse`) build it once, else it is read from the index.
pub(crate) fn score_session(
    store: &Store,
    id: &str,
    config: &EvalConfig,
    forest: Option<&Forest>,
) -> Result<EvalReport> {
    Ok(scored(store, id, config, forest, false)?.0)
}

/// [`score_session`], and where the session's work stood at its end (its last test run,
/// build or check), which `eval compare` weighs first. With `warn_times`, warns once when a
/// scorer judges the session's duration and its recorded times are ones no session can have,
/// and when its `meta.json` cannot be used (the commands that score many sessions say so their
/// own way).
fn scored(
    store: &Store,
    id: &str,
    config: &EvalConfig,
    forest: Option<&Forest>,
    warn_times: bool,
) -> Result<(EvalReport, WorkOutcome)> {
    // A command that scores many sessions has listed them, and warned then of a `meta.json`
    // that could not be used (`export --metrics` said it three times).
    let summary = if warn_times {
        super::output::summary(store, id)?
    } else {
        store.summary(id)?
    };
    let meta = &summary.meta;
    let judges_duration = config
        .scorers
        .iter()
        .any(|s| matches!(s.check, Check::DurationUnder { .. }));
    if warn_times && judges_duration {
        // `duration_under` then judges the events' span, as `dashboard --trend` does.
        let doubts = meta.unbelievable().only(&["started_at", "ended_at"]);
        if let Some(warning) = doubts.warning(id, "its duration is its events' span") {
            super::output::warn(warning);
        }
    }
    let mut reader = store.events(id)?;
    let mut events: Vec<Event> = reader.by_ref().collect();
    warn_bad_lines(reader.bad_lines(), reader.bad_count());
    let phases = phases_from(store, meta, &events);
    let options = CostOptions::default();
    let mut spent = cost::compute(id, &phases, PriceTable::builtin(), &options)
        .map_err(|e| Error::usage(e.to_string()))?;
    // What the session cost with its subagents, as `list` and `cost` show it.
    let read;
    let forest = if let Some(forest) = forest {
        forest
    } else {
        read = super::listing::family(store, &[id])?.forest;
        &read
    };
    super::cost::include_subagents(store, forest, id, &mut spent, &options)?;
    // A subagent's calls are the session's work, scored with it as they are costed with it (and
    // as a hook-recorded session holds them): a subagent's failed call or a file it wrote
    // outside the scope was no part of its parent's verdict.
    for child in forest.descendants(id).into_iter().skip(1) {
        let mut reader = store.events(&child)?;
        events.extend(reader.by_ref());
        warn_bad_lines(reader.bad_lines(), reader.bad_count());
    }
    let project = project_dir(store);
    let mut unpriced = spent.unpriced.clone();
    unpriced.sort_unstable();
    let facts = SessionFacts {
        session_id: id,
        agent: Agent::from_name(&meta.agent_name),
        events: &events,
        cost_usd: spent.cost_usd,
        cost_estimated: spent.estimated,
        cost_unpriced_models: &unpriced,
        duration_secs: meta.believed_duration_secs(),
        project_dir: project.as_deref(),
    };
    Ok((evaluate(&facts, config), WorkOutcome::of(&phases)))
}

/// The folder a store's project is in: its parent, for a store named `.agent-traces`.
pub(crate) fn project_dir(store: &Store) -> Option<String> {
    let root = store.root();
    (root.file_name()? == super::globals::STORE_DIR)
        .then(|| root.parent().map(|p| p.display().to_string()))
        .flatten()
}

fn print_report(
    report: &EvalReport,
    options: &EvalOptions,
    globals: &Globals,
    ci: bool,
) -> Result<u8> {
    let mut out = stdout(globals.colour());
    match options.format.format {
        Format::Json => crate::render::json::write(&mut out, report)?,
        Format::Text => report_text(&mut out, report, Painter::new(globals.colour()), ci)?,
    }
    out.flush()?;
    Ok(if report.passed {
        exit::OK
    } else {
        exit::FINDINGS
    })
}

/// The Python tool's limits for a `cost_under` or `duration_under` that gives none.
const DEFAULT_MAX_DOLLARS: f64 = 10.0;
const DEFAULT_MAX_SECONDS: f64 = 120.0;

/// The scorers in force: `explicit`, else the nearest `.agent-evals.yaml`, else `no_errors`.
pub(crate) fn config(explicit: Option<&Path>) -> Result<EvalConfig> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let loaded = settings::load::<EvalSettings>(&cwd, explicit).map_err(|e| e.as_error())?;
    let Some(loaded) = loaded else {
        return Ok(EvalConfig {
            scorers: vec![default_scorer()],
            pass: 0.85,
            warn: 0.70,
            default_scorer: None,
        });
    };
    convert(&cwd, &loaded)
}

/// The analysis's config from the file's settings, checking what parsing cannot: marks and
/// thresholds from 0 to 1, limits that are numbers, patterns that compile.
fn convert(cwd: &Path, loaded: &Loaded<EvalSettings>) -> Result<EvalConfig> {
    let file = loaded
        .path
        .strip_prefix(cwd)
        .unwrap_or(&loaded.path)
        .display()
        .to_string();
    // For line numbers only; read as the file was loaded (a FIFO put there since cannot hold
    // this read).
    let text =
        crate::store::read_regular(&loaded.path, super::settings::FILE_LIMIT).unwrap_or_default();
    let lines = EvalLines::read(&text);
    let s = &loaded.settings;
    let invalid = |key: String, line: Option<usize>, message: String| -> anyhow::Error {
        Error::input(
            SettingsError::Invalid {
                file: file.clone(),
                line: line.unwrap_or(0),
                key,
                message,
            }
            .to_string(),
        )
        .into()
    };
    let share = |v: f64| v.is_finite() && (0.0..=1.0).contains(&v);
    for (key, v) in [("pass", s.thresholds.pass), ("warn", s.thresholds.warn)] {
        if !share(v) {
            return Err(invalid(
                format!("thresholds.{key}"),
                lines.threshold(key),
                format!("expected a score from 0 to 1, found {}", real(v)),
            ));
        }
    }
    let mut scorers = Vec::new();
    // A file that names no scorer is scored with the default one, as the Python tool scores it
    // (its `evals` gates beside it), and the report says so.
    let default_scorer = s.scorers.is_empty().then(|| file.clone());
    if default_scorer.is_some() {
        scorers.push(self::default_scorer());
    }
    for (i, sc) in s.scorers.iter().enumerate() {
        // The Python tool reads a weight given alone as the threshold too (its `threshold`,
        // else `weight`, else 1), and weighs each scorer by it: `weight: 0.5` passes a score
        // of 0.52 there, so it does here.
        let threshold = sc.threshold.or(sc.weight).unwrap_or(1.0);
        if !share(threshold) {
            let (key, why) = if sc.threshold.is_some() {
                ("threshold", String::new())
            } else {
                (
                    "weight",
                    " (a weight given without a threshold is the threshold too, as the Python \
                     tool reads it: give a threshold beside it)"
                        .to_owned(),
                )
            };
            return Err(invalid(
                format!("scorers[{i}].{key}"),
                lines.scorer_key(i, key),
                format!(
                    "expected a score from 0 to 1, found {}{why}",
                    real(threshold)
                ),
            ));
        }
        let weight = sc.weight.unwrap_or(threshold);
        if !weight.is_finite() || weight < 0.0 {
            return Err(invalid(
                format!("scorers[{i}].weight"),
                lines.scorer_key(i, "weight"),
                format!("expected a weight of 0 or more, found {}", real(weight)),
            ));
        }
        let limit = |key: &str, value: Option<f64>, default: Option<f64>| match value.or(default) {
            Some(v) if v.is_finite() && v >= 0.0 => Ok(v),
            Some(v) => Err(invalid(
                format!("scorers[{i}].{key}"),
                lines.scorer_key(i, key),
                format!("expected a number of 0 or more, found {}", real(v)),
            )),
            None => Err(invalid(
                format!("scorers[{i}].{key}"),
                lines.scorer_key(i, "type"),
                format!("{} needs {key}", sc.kind),
            )),
        };
        // A key of another type is read by no scorer here, nor by the Python tool, which would
        // judge with its default instead (`max_calls` on `cost_under`: a $10 limit).
        if let Some((_, reads)) = SCORER_KEYS.iter().find(|(kind, _)| *kind == sc.kind)
            && let Some(key) = sc.keys_given().into_iter().find(|k| !reads.contains(k))
        {
            let owners: Vec<&str> = SCORER_KEYS
                .iter()
                .filter(|(_, keys)| keys.contains(&key))
                .map(|(kind, _)| *kind)
                .collect();
            let its_keys = if reads.is_empty() {
                "no key but threshold and weight".to_owned()
            } else {
                reads.join(", ")
            };
            return Err(invalid(
                format!("scorers[{i}].{key}"),
                lines.scorer_key(i, key),
                format!(
                    "{} does not read {key}, a key of {}; it reads {its_keys}",
                    sc.kind,
                    owners.join(", ")
                ),
            ));
        }
        let check = match sc.kind.as_str() {
            "no_errors" => Check::NoErrors,
            // The Python tool's defaults, so that a file it accepts scores the same here; the
            // reason says when one is used.
            "cost_under" => Check::CostUnder {
                max_usd: limit("max_dollars", sc.max_dollars, Some(DEFAULT_MAX_DOLLARS))?,
                default_limit: sc.max_dollars.is_none(),
            },
            "duration_under" => Check::DurationUnder {
                max_seconds: limit("max_seconds", sc.max_seconds, Some(DEFAULT_MAX_SECONDS))?,
                default_limit: sc.max_seconds.is_none(),
            },
            "tool_calls_under" => Check::ToolCallsUnder {
                max_calls: limit("max_calls", sc.max_calls.map(|n| n as f64), None)? as u64,
            },
            "files_scoped" => {
                let allowed = sc.allowed_paths.clone().map(|g| g.0).unwrap_or_default();
                // A blank path is the project's top, which would allow every file in it: a
                // slip, most likely, which `./` says if meant.
                if allowed.iter().any(|a| a.trim().is_empty()) {
                    return Err(invalid(
                        format!("scorers[{i}].allowed_paths"),
                        lines.scorer_key(i, "allowed_paths"),
                        "a blank path would allow every file in the project; write `./` if \
                         that is meant"
                            .to_owned(),
                    ));
                }
                Check::FilesScoped { allowed }
            }
            "regex" => {
                let Some(pattern) = &sc.pattern else {
                    return Err(invalid(
                        format!("scorers[{i}].pattern"),
                        lines.scorer_key(i, "type"),
                        "regex needs a pattern".to_owned(),
                    ));
                };
                let pattern = UserRegex::new(pattern).map_err(|why| {
                    invalid(
                        format!("scorers[{i}].pattern"),
                        lines.scorer_key(i, "pattern"),
                        format!("not a regular expression: {why}"),
                    )
                })?;
                let event_type = sc
                    .event_type
                    .clone()
                    .unwrap_or_else(|| "assistant_response".to_owned());
                // A type no event has (a typo, a blank) scored 0 at every session, silently.
                if !EventType::KNOWN.iter().any(|k| k.as_str() == event_type) {
                    let known: Vec<&str> = EventType::KNOWN.iter().map(EventType::as_str).collect();
                    return Err(invalid(
                        format!("scorers[{i}].event_type"),
                        lines.scorer_key(i, "event_type"),
                        format!(
                            "unknown event type `{}`; expected one of {}",
                            terminal::one_line(&event_type, settings::QUOTED_CHARS),
                            known.join(", ")
                        ),
                    ));
                }
                Check::Regex {
                    pattern,
                    event_type,
                }
            }
            // The Python tool's own scorers are its files' to name: such a file is accepted,
            // the scorer counted as failed.
            other if PYTHON_ONLY.contains(&other) => {
                super::output::warn(format_args!(
                    "{file}: `{other}` (scorers[{i}]) is a scorer of the Python tool that this build does not run; it is counted as failed"
                ));
                Check::Unknown {
                    kind: other.to_owned(),
                }
            }
            // Anything else is a typo: scoring it as a failed scorer would fail every session
            // for a reason that is not theirs.
            other => {
                return Err(invalid(
                    format!("scorers[{i}].type"),
                    lines.scorer_key(i, "type"),
                    format!(
                        "unknown scorer type `{}`; expected one of {} (or the Python tool's {})",
                        terminal::one_line(other, settings::QUOTED_CHARS),
                        KNOWN.join(", "),
                        PYTHON_ONLY.join(", ")
                    ),
                ));
            }
        };
        scorers.push(ScorerConfig {
            check,
            threshold,
            weight,
        });
    }
    // The Python tool's gates are accepted as its scorers are, each counted as failed: a gate
    // the file asks for and this build skipped would pass every session it was meant to stop.
    for (i, gate) in s.evals.iter().enumerate() {
        super::output::warn(format_args!(
            "{file}: `evals[{i}]` ({}) is a gate of the Python tool that this build does not run; it is counted as failed",
            terminal::one_line(&gate.name, settings::QUOTED_CHARS)
        ));
        scorers.push(ScorerConfig {
            check: Check::PythonGate {
                name: format!("evals: {}", gate.name),
            },
            threshold: 1.0,
            // Failed, it fails the session; it moves no weighted score, as it measured nothing.
            weight: 0.0,
        });
    }
    Ok(EvalConfig {
        scorers,
        pass: s.thresholds.pass,
        warn: s.thresholds.warn,
        default_scorer,
    })
}

/// The scorer a session is scored with when no file names one: no tool call failed.
fn default_scorer() -> ScorerConfig {
    ScorerConfig {
        check: Check::NoErrors,
        threshold: 1.0,
        weight: 1.0,
    }
}

fn report_text(
    out: &mut impl Write,
    r: &EvalReport,
    paint: Painter,
    ci: bool,
) -> std::io::Result<()> {
    writeln!(out, "Session: {}", paint.cyan(&r.session_id))?;
    if let Some(file) = &r.default_scorer {
        writeln!(
            out,
            "Scorer: no_errors, the default: {} names no scorer.",
            terminal::one_line(file, 120)
        )?;
    }
    let width = terminal::column_width(r.results.iter().map(|x| x.scorer.as_str()), 6, 40);
    writeln!(
        out,
        "  {:<width$}  {:>5}  {:>9}  {:<6}  Reason",
        "Scorer", "Score", "Threshold", "Result"
    )?;
    for x in &r.results {
        let status = if x.passed {
            paint.green("pass  ")
        } else {
            paint.red("fail  ")
        };
        writeln!(
            out,
            "  {}  {:>5}  {:>9}  {status}  {}",
            terminal::cell(&x.scorer, width),
            fixed_beside(x.score, 2, x.threshold),
            fixed(x.threshold, 2),
            terminal::one_line(&x.reason, 120)
        )?;
    }
    let verdict = match r.verdict {
        Verdict::Pass => paint.green("PASS"),
        Verdict::Warn => paint.yellow("WARN"),
        Verdict::Fail => paint.red("FAIL"),
        Verdict::Unweighted => {
            writeln!(
                out,
                "No weighted score: every scorer weighs 0; {} of {} scorers passed.",
                r.pass_count,
                r.results.len()
            )?;
            return ci_line(out, r, ci);
        }
    };
    // A warn mark at or above the pass mark leaves no score that warns: below pass is a fail.
    let marks = if r.warn_mark < r.pass_mark {
        format!(
            "pass at {}, warn down to {}",
            fixed(r.pass_mark, 2),
            fixed(r.warn_mark, 2)
        )
    } else {
        format!(
            "pass at {}, fail below it: the warn mark {} is not below the pass mark",
            fixed(r.pass_mark, 2),
            fixed(r.warn_mark, 2)
        )
    };
    // The score reads on its side of the mark that decided its verdict: 0.795 failing a pass
    // mark of 0.80 reads 0.794, not 0.80.
    let score = r.weighted_score.unwrap_or_default();
    let decided_by = if score >= r.warn_mark {
        r.pass_mark
    } else {
        r.warn_mark
    };
    writeln!(
        out,
        "Weighted score {}: {verdict} ({marks}); {} of {} scorers passed.",
        fixed_beside(score, 2, decided_by),
        r.pass_count,
        r.results.len()
    )?;
    ci_line(out, r, ci)
}

/// `eval ci`'s verdict, after the report.
fn ci_line(out: &mut impl Write, r: &EvalReport, ci: bool) -> std::io::Result<()> {
    if ci {
        if r.passed {
            writeln!(out, "CI: pass.")?;
        } else if r.fail_count > 0 {
            writeln!(
                out,
                "CI: fail — {} of {} scorers failed.",
                r.fail_count,
                r.results.len()
            )?;
        } else {
            writeln!(out, "CI: fail — the weighted score is below the warn mark.")?;
        }
    }
    Ok(())
}

fn compare_text(out: &mut impl Write, c: &EvalComparison, paint: Painter) -> std::io::Result<()> {
    writeln!(
        out,
        "A: {}  B: {}",
        paint.cyan(&c.a.session_id),
        paint.cyan(&c.b.session_id)
    )?;
    let width = terminal::column_width(c.rows.iter().map(|r| r.scorer.as_str()), 14, 40);
    writeln!(
        out,
        "  {:<width$}  {:>5}  {:>5}  {:>6}",
        "Scorer", "A", "B", "Δ"
    )?;
    let mark = |passed: bool| if passed { " " } else { "✗" };
    for r in &c.rows {
        writeln!(
            out,
            "  {}  {:>4.2}{}  {:>4.2}{}  {:>+6.2}",
            terminal::cell(&r.scorer, width),
            r.a,
            mark(r.a_passed),
            r.b,
            mark(r.b_passed),
            r.delta
        )?;
    }
    // None when nothing weighs.
    let cell = |score: Option<f64>, sign: bool| match score {
        Some(s) if sign => format!("{s:+.2}"),
        Some(s) => format!("{s:.2}"),
        None => "-".to_owned(),
    };
    writeln!(
        out,
        "  {:<width$}  {:>4}   {:>4}   {:>6}",
        "Weighted score",
        cell(c.a.weighted_score, false),
        cell(c.b.weighted_score, false),
        cell(c.weighted_delta, true)
    )?;
    let verdict = match c.verdict {
        "improved" => paint.green("improved"),
        "regressed" => paint.red("regressed"),
        "untested" => paint.yellow("untested"),
        other => other.to_owned(),
    };
    if c.reasons.is_empty() {
        writeln!(out, "B against A: {verdict}.")
    } else {
        writeln!(out, "B against A: {verdict} ({}).", c.reasons.join("; "))
    }
}
