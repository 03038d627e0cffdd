//! `dashboard`, `dashboard --trend` and `dashboard annotate`: many sessions at a glance, on the
//! terminal, as JSON or as a self-contained HTML page.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::{Local, NaiveDate};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::Globals;
use super::args::FormatArg;
use super::globals::{Format, PrivacyArgs};
use super::output::{stdout, usage, warn, warn_unbelievable};
use super::stores::ScopeArgs;
use crate::analysis::copies::{Copy, Kept};
use crate::analysis::dashboard::{
    self, Dashboard, Glance, Judged, Period, ProjectOf, SessionFigures, Trend,
};
use crate::analysis::eval::{EvalConfig, SessionFacts, evaluate};
use crate::analysis::page::PageKind;
use crate::error::Error;
use crate::exit;
use crate::model::pricing::PriceTable;
use crate::model::tools::Agent;
use crate::model::{Event, SessionMeta};
use crate::render::terminal::Painter;
use crate::render::{dashboard as view, dashboard_html};
use crate::store::{DayNote, Store};

/// Many sessions at a glance: totals with a sparkline per figure over time and the top tools
///
/// Totals of sessions, tool calls, errors (failed calls; refused ones are no errors), tokens and
/// cost, each with a sparkline of one column a day (several days a column past 60 days), and
/// the most used tools; a session's subagents count in it, as `list` counts them. --trend shows
/// instead each eval judge's pass rate (the scorers of .agent-evals.yaml, as `eval` scores a
/// session), the error and retry rates, cost and median duration per day, the notes of
/// `dashboard annotate`, and the newest sessions. --html FILE writes the same as one
/// self-contained page with SVG charts (no script, no network), and beside it the replay page of
/// each session its table lists, replay-<id>.html (`replay --format html`'s page), linked.
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  agent-strace dashboard                      # every session\n  agent-strace dashboard --since 7d --format json\n  agent-strace dashboard --last 100 --html out/index.html\n  agent-strace dashboard --all-projects --since 30d   # every project's sessions\n  agent-strace dashboard --trend --since 30d --html out/trend.html\n  agent-strace dashboard annotate --date 2026-11-25 --note \"switched to the new model\""
)]
pub(crate) struct DashboardArgs {
    #[command(subcommand)]
    command: Option<DashboardCommand>,
    /// Only the N newest sessions
    #[arg(long, value_name = "N", value_parser = super::args::at_least_one)]
    last: Option<usize>,
    #[arg(long, value_name = "WHEN", help = concat!(
        "Sessions that started since WHEN: ", super::args::when_forms!(),
        " [default: every session; 30d with --trend]"
    ))]
    since: Option<String>,
    /// Eval pass rates per judge, error and retry rates, cost and duration per day, with the
    /// dashboard's notes and the newest sessions
    #[arg(long)]
    trend: bool,
    /// Also write the page to FILE, one self-contained HTML file
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// The eval scorers' file for --trend [default: the nearest .agent-evals.yaml]
    #[arg(long, value_name = "FILE", requires = "trend")]
    config: Option<PathBuf>,
    #[command(flatten)]
    format: FormatArg,
    #[command(flatten)]
    scope: ScopeArgs,
}

#[derive(Debug, Subcommand)]
enum DashboardCommand {
    Annotate(AnnotateArgs),
}

/// Note what happened on a day (a new model, a changed prompt); --trend marks it on its charts
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace dashboard annotate --date 2026-11-25 --note \"moved to claude-sonnet-4-5\""
)]
struct AnnotateArgs {
    /// The day, as 2026-11-25
    #[arg(long, value_name = "DATE")]
    date: String,
    /// What happened
    #[arg(long, value_name = "TEXT")]
    note: String,
    // The hooks' own flags: one set of privacy options for whatever writes to the store.
    #[command(flatten)]
    privacy: PrivacyArgs,
}

/// What `--format json` prints: the dashboard, and the trend when asked for.
#[derive(Debug, Serialize)]
struct Output<'a> {
    #[serde(flatten)]
    dashboard: &'a Dashboard,
    #[serde(skip_serializing_if = "Option::is_none")]
    trend: Option<&'a Trend>,
}

/// The sessions the dashboard reads, from one store or from several (`--all-projects`), each
/// with the store it is in.
struct Sessions {
    stores: Vec<Store>,
    /// Each store's project, said of every session when every project's store is read (as
    /// `list --all-projects` says it), or several are.
    projects: Vec<ProjectOf>,
    say_projects: bool,
    /// Every session's meta and [`Glance`]: in the index's order from one store, newest first
    /// when several stores are read.
    glances: Vec<(SessionMeta, Glance)>,
    /// The metadata of the sessions that could not be read: they link the sessions below
    /// them into their root's tree ([`crate::store::Listing::left_out`]).
    left_out: Vec<SessionMeta>,
    /// The store of each session, by its id, when there are several stores.
    store_of: std::collections::HashMap<String, usize>,
}

/// Sessions' metadata with what the dashboard reads of their summaries, and the metadata of
/// those that could not be read.
type Glances = (Vec<(SessionMeta, Glance)>, Vec<SessionMeta>);

/// Every session of `store` with its metadata and what the dashboard reads of its summary
/// ([`Glance`]), at the built-in prices, and the metadata of the sessions that could not be
/// read: they link the sessions below them into their root's tree
/// ([`crate::store::Listing::left_out`]).
fn read_glances(store: &Store) -> Result<Glances> {
    let prices = PriceTable::builtin();
    let mut read = Vec::new();
    let left_out = super::listing::each_summary(store, |meta, summary| {
        read.push((meta.clone(), Glance::of(summary, prices)));
    })?;
    Ok((read, left_out))
}

impl Sessions {
    fn read(args: &DashboardArgs, globals: &Globals, now: f64) -> Result<Sessions> {
        let located = args.scope.stores_unnamed(globals)?;
        let projects = located
            .iter()
            .map(|located| ProjectOf {
                path: located.project_path(),
                workspace: located.workspace.clone(),
                label: located.label(),
            })
            .collect();
        let stores: Vec<Store> = located.into_iter().map(|located| located.store).collect();
        let say_projects = args.scope.all_projects || stores.len() > 1;
        if let [store] = stores.as_slice() {
            // One store holds no copies: every session is its own, and in it.
            let (glances, left_out) = read_glances(store)?;
            return Ok(Sessions {
                stores,
                projects,
                say_projects,
                glances,
                left_out,
                store_of: std::collections::HashMap::new(),
            });
        }
        let mut read = Vec::new();
        let mut left_out = Vec::new();
        for store in &stores {
            let (glanced, unread) = read_glances(store)?;
            left_out.extend(unread);
            read.push(glanced);
        }
        // A session in two stores (a copy) counts once, from the copy that went furthest.
        let copies: Vec<Vec<Copy>> = read
            .iter()
            .map(|glanced| {
                glanced
                    .iter()
                    .map(|(meta, glance)| Copy {
                        session_id: meta.session_id.clone(),
                        parent_session_id: meta.parent_session_id.clone(),
                        events: glance.events,
                        last: glance.last_timestamp,
                    })
                    .collect()
            })
            .collect();
        let kept = Kept::of(&copies);
        let mut glances: Vec<(SessionMeta, Glance)> = Vec::new();
        let mut store_of = std::collections::HashMap::new();
        for (i, glanced) in read.into_iter().enumerate() {
            for (meta, glance) in glanced {
                if kept.counts(i, &meta.session_id) {
                    store_of.insert(meta.session_id.clone(), i);
                    glances.push((meta, glance));
                }
            }
        }
        if stores.len() > 1 {
            let start = |(meta, glance): &(SessionMeta, Glance)| {
                meta.start_to_order_by(now, || glance.first_timestamp)
            };
            glances.sort_by(|a, b| {
                start(b)
                    .total_cmp(&start(a))
                    .then_with(|| b.0.session_id.cmp(&a.0.session_id))
            });
        }
        Ok(Sessions {
            stores,
            projects,
            say_projects,
            glances,
            left_out,
            store_of,
        })
    }

    /// The store a session of the list is in.
    fn store(&self, session: &str) -> Option<&Store> {
        self.stores.get(self.store_index(session)?)
    }

    /// Where in `stores` a session of the list is: the one store when there is one.
    fn store_index(&self, session: &str) -> Option<usize> {
        match self.stores.len() {
            1 => Some(0),
            _ => self.store_of.get(session).copied(),
        }
    }

    /// The project a session of the list is in, when projects are said (see `projects`).
    fn project(&self, session: &str) -> Option<ProjectOf> {
        if !self.say_projects {
            return None;
        }
        self.projects.get(self.store_index(session)?).cloned()
    }
}

pub(crate) fn run(args: &DashboardArgs, globals: &Globals) -> Result<u8> {
    if let Some(DashboardCommand::Annotate(a)) = &args.command {
        return annotate(&Store::new(globals.store_root()), a, globals);
    }
    // Its folder is made when missing (`--html out/index.html`), as the README shows.
    super::output::not_dash(args.html.as_deref(), "--html")?;
    if let Some(page) = &args.html {
        super::output::not_a_folder_name(page, "--html")?;
        super::output::outside_store(page, &globals.store_root(), "--html")?;
    }
    let now_local = Local::now();
    let now = now_local.timestamp_millis() as f64 / 1000.0;
    let since = match (&args.since, args.trend) {
        (Some(text), _) => Some(super::args::instant(text, "--since", now, false)?),
        (None, true) => Some(super::args::instant("30d", "--since", now, false)?),
        (None, false) => None,
    };
    let period = Period {
        since,
        last: args.last,
        now,
        day: super::local_day::date_of,
    };
    let read = Sessions::read(args, globals, now)?;
    let sessions = &read.glances;
    let (selected, left_out) = dashboard::select(sessions, &read.left_out, &period);
    for warning in left_out {
        warn(warning);
    }
    for s in &selected {
        warn_unbelievable(&s.session_id, &s.unbelievable, args.format.format);
    }
    let mut board = dashboard::dashboard(&selected, sessions, &read.left_out, &period);
    for session in &mut board.recent {
        session.project = read.project(&session.session_id);
    }
    let trend = if args.trend {
        let config = super::eval::config(args.config.as_deref())?;
        let judged = judge(&read, &selected, &config);
        let notes = notes(&read.stores)?;
        Some(dashboard::trend(
            &board, &selected, &judged, &notes, period.day,
        ))
    } else {
        None
    };
    let mut out = stdout(globals.colour());
    if let Some(path) = &args.html {
        let page = match &trend {
            Some(trend) => dashboard_html::trend_page(&board, trend),
            None => dashboard_html::dashboard_page(&board),
        };
        write_page(path, page.as_bytes())?;
        let replays = write_replays(&read, path, &board.recent)?;
        if args.format.format == Format::Text {
            match replays {
                0 => writeln!(out, "Wrote {} (no session to replay).", path.display())?,
                1 => writeln!(
                    out,
                    "Wrote {} and the replay page of its session beside it.",
                    path.display()
                )?,
                n => writeln!(
                    out,
                    "Wrote {} and the replay pages of its {} beside it.",
                    path.display(),
                    crate::render::terminal::count(n as u64, "session")
                )?,
            }
        }
    }
    match (args.format.format, &trend) {
        (Format::Json, trend) => crate::render::json::write(
            &mut out,
            &Output {
                dashboard: &board,
                trend: trend.as_ref(),
            },
        )?,
        (Format::Text, _) if args.html.is_some() => {}
        (Format::Text, Some(trend)) => {
            view::write_trend(&mut out, &board, trend, Painter::new(globals.colour()))?;
        }
        (Format::Text, None) => {
            view::write_dashboard(&mut out, &board, Painter::new(globals.colour()))?;
        }
    }
    out.flush()?;
    Ok(exit::OK)
}

/// Each selected session scored as `eval` scores it, with the cost `list` gives it.
fn judge(read: &Sessions, selected: &[SessionFigures], config: &EvalConfig) -> Vec<Judged> {
    let metas: std::collections::HashMap<&str, &SessionMeta> = read
        .glances
        .iter()
        .map(|(m, _)| (m.session_id.as_str(), m))
        .collect();
    // A session is judged with its subagents, as `eval` judges it.
    let forest = crate::analysis::tree::Forest::new(read.glances.iter().map(|(m, _)| (*m).clone()));
    let mut judged = Vec::with_capacity(selected.len());
    for s in selected {
        let (Some(meta), Some(store)) =
            (metas.get(s.session_id.as_str()), read.store(&s.session_id))
        else {
            continue;
        };
        let project = super::eval::project_dir(store);
        let Ok(reader) = store.events(&s.session_id) else {
            warn(format_args!(
                "cannot read the events of {}; it is not judged",
                s.session_id
            ));
            continue;
        };
        let mut events: Vec<Event> = reader.collect();
        for child in forest.descendants(&s.session_id).into_iter().skip(1) {
            if let Some(reader) = read
                .store(&child)
                .and_then(|store| store.events(&child).ok())
            {
                events.extend(reader);
            }
        }
        let facts = SessionFacts {
            session_id: &s.session_id,
            agent: Agent::from_name(&meta.agent_name),
            events: &events,
            cost_usd: s.cost_usd,
            cost_estimated: s.cost_estimated,
            cost_unpriced_models: &s.cost_unpriced_models,
            duration_secs: meta.believed_duration_secs(),
            project_dir: project.as_deref(),
        };
        let report = evaluate(&facts, config);
        judged.push(Judged {
            session_id: s.session_id.clone(),
            passed: report.passed,
            scorers: report
                .results
                .into_iter()
                .map(|r| (r.scorer, r.passed))
                .collect(),
        });
    }
    judged
}

/// The dashboard's notes of every store read, with their days, each once; a line that is no
/// note, and a note whose date is no day, are skipped with a warning.
fn notes(stores: &[Store]) -> Result<Vec<(NaiveDate, String)>> {
    let mut notes = Vec::new();
    for store in stores {
        let found = store.dashboard_notes()?;
        let path = store.root().join(crate::store::DASHBOARD_NOTES);
        if found.bad_lines > 0 {
            warn(format_args!(
                "skipped {} of {} that {} no dashboard {}",
                crate::render::terminal::count(found.bad_lines as u64, "line"),
                path.display(),
                if found.bad_lines == 1 { "is" } else { "are" },
                if found.bad_lines == 1 {
                    "note"
                } else {
                    "notes"
                },
            ));
        }
        let mut undated = Vec::new();
        for note in found.notes {
            let Ok(day) = NaiveDate::parse_from_str(&note.date, "%Y-%m-%d") else {
                undated.push(note.date);
                continue;
            };
            if !notes.contains(&(day, note.note.clone())) {
                notes.push((day, note.note));
            }
        }
        // A note whose day cannot be read has nowhere to be marked: said, not dropped unseen.
        if !undated.is_empty() {
            let dates: Vec<String> = undated
                .iter()
                .map(|d| format!("`{}`", crate::model::text::one_line(d, 40)))
                .collect();
            warn(format_args!(
                "skipped {} of {} dated {}, which {} no day: a date is written like 2026-11-25",
                crate::render::terminal::count(undated.len() as u64, "note"),
                path.display(),
                dates.join(", "),
                if undated.len() == 1 { "is" } else { "are" },
            ));
        }
    }
    Ok(notes)
}

fn annotate(store: &Store, args: &AnnotateArgs, globals: &Globals) -> Result<u8> {
    let Ok(date) = NaiveDate::parse_from_str(args.date.trim(), "%Y-%m-%d") else {
        return Err(usage(format!(
            "--date `{}` is no date: give one like 2026-11-25",
            args.date
        )));
    };
    if args.note.trim().is_empty() {
        return Err(usage("--note is empty: say what happened that day"));
    }
    // Scrubbed as an event's text is: a note is written to the store, and a key pasted into it
    // must not reach the disk while redaction is on.
    let privacy = args.privacy.resolve().map_err(usage)?;
    let note = privacy.apply_str(args.note.trim()).into_owned();
    store.add_dashboard_note(&DayNote {
        date: date.format("%Y-%m-%d").to_string(),
        note: note.clone(),
        created_at: Local::now().timestamp_millis() as f64 / 1000.0,
    })?;
    let mut out = stdout(globals.colour());
    writeln!(out, "Noted {}: {note}", date.format("%Y-%m-%d"))?;
    out.flush()?;
    Ok(exit::OK)
}

/// Writes the replay page of each of `sessions` beside the dashboard's page at `page`, as
/// `replay-<id>.html` (the name its table links to), with `replay --format html`'s builder;
/// returns how many.
fn write_replays(read: &Sessions, page: &Path, sessions: &[SessionFigures]) -> Result<usize> {
    let dir = page.parent().unwrap_or(Path::new(""));
    for s in sessions {
        let Some(store) = read.store(&s.session_id) else {
            continue;
        };
        let replay = super::share::page_of(store, &s.session_id, PageKind::Replay)?;
        let mut bytes = Vec::new();
        crate::render::html::write(&mut bytes, &replay)?;
        write_page(
            &dir.join(dashboard_html::replay_file(&s.session_id)),
            &bytes,
        )?;
    }
    Ok(sessions.len())
}

/// Writes the page to `path`, making its folder; whole, through a temporary file, and never
/// through a link or into a FIFO already there (see [`super::output::replace_file`]). A new
/// page is its owner's alone (0600), as `share` and `export` make theirs: it holds prompts, and
/// a replay page the session whole, as recorded.
fn write_page(path: &Path, page: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("{}: cannot make the folder: {e}", dir.display())))?;
    }
    super::output::replace_file(path, &[page], 0o600)
}
