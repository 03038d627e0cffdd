//! `lint`: sessions checked for known bad patterns (a CI gate: ERROR exits 1, and WARN too
//! with --strict).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use super::Globals;
use super::args::{FormatArg, SessionArg, instant};
use super::globals::Format;
use super::output::{start_in_period, stdout, warn_ahead, warn_bad_lines};
use super::settings::{self, LintLevel, LintRule, LintSettings, SettingsError};
use crate::analysis::cost::{self, CostOptions};
use crate::analysis::lint::{Level, LintConfig, LintReport, RuleName, Session, lint};
use crate::analysis::tree::Forest;
use crate::capture::sink::system_time;
use crate::error::Error;
use crate::exit;
use crate::model::period::PeriodStarts;
use crate::model::pricing::PriceTable;
use crate::model::text::real;
use crate::model::usage::{LEAST_BUDGET_USD, dollars_given};
use crate::model::{Agent, Event};
use crate::render::terminal::{self, Painter};
use crate::store::{SessionSummary, Store};

/// Check sessions for known bad patterns: tool loops, reasoning spirals, budget proximity,
/// context saturation, redundant reads, error-retry loops, sessions with no output
///
/// Each finding names its events by the numbers replay shows. Rules, thresholds and levels
/// come from .agent-strace-lint.json (the nearest in this folder or above). Exits 1 when a
/// finding is an ERROR, or with --strict a WARN.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace lint                       # the latest session\n  agent-strace lint --all --since 7d --strict\n  agent-strace lint 3f2a --format json\n\n.agent-strace-lint.json:\n  {\"tool-loop\": {\"threshold\": 7}, \"reasoning-spiral\": {\"enabled\": false},\n   \"budget-proximity\": {\"budget\": 5.00, \"threshold\": 0.9, \"level\": \"error\"}}\nDefaults: tool-loop WARN 5 turns, reasoning-spiral WARN 3 responses, budget-proximity ERROR\n0.9 of the budget, context-saturation INFO 0.8 of the window, redundant-read INFO 3 reads,\nerror-retry-loop WARN 3 failures, no-output WARN, hidden-text WARN 1 character (text in tag\ncharacters, data in variation selectors, marks that reorder a line: read back in the finding)."
)]
pub(crate) struct LintArgs {
    #[command(flatten)]
    session: SessionArg,
    /// Every session (with --since, those started since then)
    #[arg(long, conflicts_with = "session")]
    all: bool,
    #[arg(long, value_name = "WHEN", requires = "all", help = concat!(
        "With --all: only sessions started since WHEN: ", super::args::when_forms!()
    ))]
    since: Option<String>,
    /// Exit 1 on warnings too, not only on errors
    #[arg(long)]
    strict: bool,
    /// The rules' settings file [default: the nearest .agent-strace-lint.json]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The context window context-saturation measures every response against, in tokens
    /// [default: the one the agent recorded, else the model's; a model whose window is not
    /// known is not judged]
    #[arg(long, value_name = "TOKENS", value_parser = super::args::positive::<u64>)]
    context_window: Option<u64>,
    #[command(flatten)]
    format: FormatArg,
}

pub(crate) fn run(args: &LintArgs, globals: &Globals) -> Result<u8> {
    let config = LintConfig {
        context_window: args.context_window,
        ..config(args.config.as_deref())?
    };
    let store = Store::new(globals.store_root());
    // The sessions' hierarchy: a session's cost is its subagents' too.
    let forest;
    let ids: Vec<String> = if args.all {
        let now = system_time();
        let since = args
            .since
            .as_deref()
            .map(|t| instant(t, "--since", now, false))
            .transpose()?;
        // --since is a period that ends now: a session dated after it is in none.
        let mut starts = PeriodStarts::ending_now(now);
        super::stores::require_unnamed(&store)?;
        let listing = super::listing::sessions(&store)?;
        let family = super::listing::readable_family(&store, listing, &[]);
        forest = family.forest;
        // Oldest first, a start no session can have by the session's events.
        let mut sessions: Vec<(f64, SessionSummary)> = family
            .sessions
            .into_iter()
            .filter(|s| {
                since.is_none_or(|t| {
                    start_in_period(&mut starts, &s.meta).is_some_and(|start| start >= t)
                })
            })
            .map(|s| (store.start_to_order_by(&s.meta), s))
            .collect();
        warn_ahead(&starts);
        sessions.sort_by(|(a, _), (b, _)| a.total_cmp(b));
        sessions
            .into_iter()
            .map(|(_, s)| s.meta.session_id)
            .collect()
    } else {
        let id = crate::cli::stores::select_in(&store, &args.session.selector())?;
        forest = super::listing::family(&store, &[&id])?.forest;
        vec![id]
    };
    let mut reports = Vec::new();
    for id in &ids {
        reports.push(lint_one(&store, &forest, id, &config, args.all)?);
    }
    let mut out = stdout(globals.colour());
    match args.format.format {
        Format::Json if args.all => crate::render::json::write(&mut out, &reports)?,
        Format::Json => crate::render::json::write(&mut out, &reports[0])?,
        Format::Text => {
            let paint = Painter::new(globals.colour());
            if reports.is_empty() {
                writeln!(out, "No sessions to lint.")?;
            }
            for report in &reports {
                if args.all {
                    writeln!(out, "── session {} ──", report.session_id)?;
                }
                text(&mut out, report, paint)?;
            }
        }
    }
    out.flush()?;
    let errors: usize = reports.iter().map(|r| r.errors).sum();
    let warnings: usize = reports.iter().map(|r| r.warnings).sum();
    Ok(if errors > 0 || (args.strict && warnings > 0) {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

/// `listed`: the session comes from a listing, which has warned of a `meta.json` that cannot
/// be used (`lint --all` said so twice).
fn lint_one(
    store: &Store,
    forest: &Forest,
    id: &str,
    config: &LintConfig,
    listed: bool,
) -> Result<LintReport> {
    let meta = if listed {
        store.summary(id)?.meta
    } else {
        super::output::summary(store, id)?.meta
    };
    let mut reader = store.events(id)?;
    let events: Vec<Event> = reader.by_ref().collect();
    warn_bad_lines(reader.bad_lines(), reader.bad_count());
    let phases = super::explain::phases_from(store, &meta, events.iter());
    let options = CostOptions::default();
    let (cost, unpriced) = match cost::compute(id, &phases, PriceTable::builtin(), &options) {
        Ok(mut spent) => {
            // The figure `cost`, `list` and `eval`'s cost_under give: the session with its
            // subagents (budget-proximity passed a session over its budget on its own share).
            if listed {
                super::cost::include_listed_subagents(store, forest, id, &mut spent, &options)?;
            } else {
                super::cost::include_subagents(store, forest, id, &mut spent, &options)?;
            }
            let mut unpriced = spent.unpriced;
            unpriced.sort_unstable();
            (spent.cost_usd, unpriced)
        }
        Err(_) => (0.0, Vec::new()),
    };
    // The ceiling a watch held this session to says more than the settings' default.
    let watched = store
        .watch_budget(id)
        .ok()
        .flatten()
        .map(|budget_usd| LintConfig {
            budget_usd: Some(budget_usd),
            ..config.clone()
        });
    Ok(lint(
        &Session {
            id,
            agent: Agent::from_name(&meta.agent_name),
            events: &events,
            responses: &phases.responses,
            cost_usd: cost,
            cost_unpriced_models: &unpriced,
            subagent: meta.parent_session_id.is_some(),
        },
        watched.as_ref().unwrap_or(config),
    ))
}

/// The most columns of a finding's message in text: the longest a rule writes of its own
/// takes about 200; what is past this is session text (`--format json` has it whole).
const MESSAGE_COLUMNS: usize = 300;

fn text(out: &mut impl Write, report: &LintReport, paint: Painter) -> std::io::Result<()> {
    if report.findings.is_empty() {
        writeln!(out, "No issues found in session {}.", report.session_id)?;
        return notes(out, report, paint);
    }
    for f in &report.findings {
        let level = match f.level {
            Level::Error => paint.red(f.level.as_str()),
            Level::Warn => paint.yellow(f.level.as_str()),
            Level::Info => paint.dim(f.level.as_str()),
        };
        let pad = " ".repeat(5 - f.level.as_str().len());
        // On one line, cut: the message quotes the session (a path, a tool's name), which
        // may be a megabyte long or hold a line end that would forge a finding of its own.
        writeln!(
            out,
            "{level}{pad}  {:<18}  {}",
            f.rule,
            terminal::one_line(&f.message, MESSAGE_COLUMNS)
        )?;
    }
    // The session is named as "No issues found" names it: `lint` with no id checks the latest.
    writeln!(
        out,
        "{}, {}, {} in session {}.",
        terminal::count(report.errors as u64, "error"),
        terminal::count(report.warnings as u64, "warning"),
        terminal::count(report.infos as u64, "info"),
        report.session_id
    )?;
    notes(out, report, paint)
}

/// What the rules could not judge, after what they found: no finding, so counted in none.
fn notes(out: &mut impl Write, report: &LintReport, paint: Painter) -> std::io::Result<()> {
    for note in &report.notes {
        writeln!(
            out,
            "{} {}",
            paint.dim("note:"),
            terminal::one_line(note, MESSAGE_COLUMNS)
        )?;
    }
    Ok(())
}

/// The rules' settings: defaults, changed by `explicit`, else by the nearest
/// `.agent-strace-lint.json`, where there is one.
fn config(explicit: Option<&Path>) -> Result<LintConfig> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let loaded = settings::load::<LintSettings>(&cwd, explicit).map_err(|e| e.as_error())?;
    let mut config = LintConfig::default();
    let Some(loaded) = loaded else {
        return Ok(config);
    };
    let file = loaded
        .path
        .strip_prefix(&cwd)
        .unwrap_or(&loaded.path)
        .display()
        .to_string();
    // For line numbers only; read as the file was loaded (a FIFO put there since cannot hold
    // this read).
    let text =
        crate::store::read_regular(&loaded.path, super::settings::FILE_LIMIT).unwrap_or_default();
    let s = &loaded.settings;
    if s.post_compaction_regression.is_some() {
        super::output::warn(format_args!(
            "{file}: `post-compaction-regression` is a rule of the Python tool's that this lint does not have; its settings are passed over"
        ));
    }
    let given: [(RuleName, &Option<LintRule>); 8] = [
        (RuleName::ToolLoop, &s.tool_loop),
        (RuleName::ReasoningSpiral, &s.reasoning_spiral),
        (RuleName::BudgetProximity, &s.budget_proximity),
        (RuleName::ContextSaturation, &s.context_saturation),
        (RuleName::RedundantRead, &s.redundant_read),
        (RuleName::ErrorRetryLoop, &s.error_retry_loop),
        (RuleName::NoOutput, &s.no_output),
        (RuleName::HiddenText, &s.hidden_text),
    ];
    for (rule, given) in given {
        let Some(given) = given else { continue };
        let invalid = |key: &str, message: String| -> anyhow::Error {
            // The line of the rule's key, for a value that parsed but cannot be used.
            let line = text
                .lines()
                .position(|l| l.contains(&format!("\"{}\"", rule.as_str())))
                .map_or(0, |i| i + 1);
            Error::input(
                SettingsError::Invalid {
                    file: file.clone(),
                    line,
                    key: format!("{}.{key}", rule.as_str()),
                    message,
                }
                .to_string(),
            )
            .into()
        };
        let setting = config.setting_mut(rule);
        if let Some(enabled) = given.enabled {
            setting.enabled = enabled;
        }
        if let Some(level) = given.level {
            setting.level = match level {
                LintLevel::Info => Level::Info,
                LintLevel::Warn => Level::Warn,
                LintLevel::Error => Level::Error,
            };
        }
        if let Some(threshold) = given.threshold {
            let fits = if rule.threshold_is_share() {
                threshold > 0.0 && threshold <= 1.0
            } else {
                threshold >= rule.least_count()
            };
            if !threshold.is_finite() || !fits || rule == RuleName::NoOutput {
                return Err(invalid(
                    "threshold",
                    if rule == RuleName::NoOutput {
                        "no-output takes no threshold".to_owned()
                    } else if rule.threshold_is_share() {
                        format!(
                            "expected a share from 0 to 1 (0.9 for 90%), found {}",
                            real(threshold)
                        )
                    } else {
                        format!(
                            "expected a count of {} or more, found {}",
                            real(rule.least_count()),
                            real(threshold)
                        )
                    },
                ));
            }
            setting.threshold = threshold;
        }
        if let Some(budget) = given.budget {
            if rule != RuleName::BudgetProximity {
                return Err(invalid(
                    "budget",
                    "only budget-proximity takes a budget".to_owned(),
                ));
            }
            if !(budget.is_finite() && budget >= LEAST_BUDGET_USD) {
                return Err(invalid(
                    "budget",
                    format!(
                        "expected dollars, {} or more, found {}",
                        dollars_given(LEAST_BUDGET_USD),
                        real(budget)
                    ),
                ));
            }
            config.budget_usd = Some(budget);
        }
    }
    Ok(config)
}
