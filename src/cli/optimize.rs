//! `optimize`: failure patterns across sessions, with their evidence, turned into additions to
//! an agent's instruction file; `--apply` adds each once.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use clap::Args;

use super::Globals;
use super::args::{FormatArg, instant};
use super::globals::Format;
use super::http::{HttpClient, check_url};
use super::output::{start_in_period, stdout, warn, warn_ahead, warn_bad_lines};
use crate::analysis::optimize::{self, Pattern, Session, Source};
use crate::error::Error;
use crate::exit;
use crate::model::period::PeriodStarts;
use crate::model::{Agent, Event};
use crate::render::terminal::{self, Painter, local_time};
use crate::store::{Selector, Store};

/// Find failure patterns in sessions and propose instructions that prevent them
///
/// Patterns: blind-retry (the same call 3+ times in a row), error-no-change (a failed call made
/// again unchanged, no file written between), wide-blast-radius (more than 8 files written),
/// redundant-read (a file read 3+ times without a change). Each comes with its evidence and an
/// addition for the target file; --apply adds each one once, marked so that running it again
/// changes nothing.
///
/// With --base-url (or OPENAI_BASE_URL and OPENAI_API_KEY set), the failures' summaries (tool
/// names, error messages, session ids; no file contents) are sent to that OpenAI-compatible
/// endpoint to be clustered; if it fails or answers nonsense, the built-in patterns are used.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace optimize                          # sessions of the last 30 days\n  agent-strace optimize --dataset auth-failures --target AGENTS.md\n  agent-strace optimize --target CLAUDE.md --apply\n  agent-strace optimize --base-url http://localhost:11434/v1 --model llama3 --api-key ollama"
)]
pub(crate) struct OptimizeArgs {
    /// One session (id or unique prefix) [default: every session of the last 30 days]
    #[arg(conflicts_with_all = ["dataset", "since"], value_parser = super::args::session_name)]
    session: Option<String>,
    /// The sessions labelled LABEL (`annotate ID N --label LABEL`), or listed in the Python
    /// tool's dataset .agent-traces/datasets/LABEL.jsonl
    #[arg(long, value_name = "LABEL")]
    dataset: Option<String>,
    #[arg(long, value_name = "WHEN", help = concat!(
        "The sessions started since WHEN: ", super::args::when_forms!(), " [default: 30d]"
    ))]
    since: Option<String>,
    /// The instruction file to propose additions to
    #[arg(long, value_name = "FILE", default_value = "AGENTS.md")]
    target: PathBuf,
    /// Add the proposals to the target file (each once)
    #[arg(long)]
    apply: bool,
    /// An OpenAI-compatible endpoint to cluster failures with [default: $OPENAI_BASE_URL when
    /// $OPENAI_API_KEY is set too; else none]
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// The model to ask [default: $OPENAI_MODEL, else gpt-4o-mini]
    #[arg(long, value_name = "MODEL")]
    model: Option<String>,
    /// The endpoint's API key [default: $OPENAI_API_KEY]
    #[arg(long, value_name = "KEY")]
    api_key: Option<String>,
    #[command(flatten)]
    format: FormatArg,
}

/// How long the endpoint may take to answer.
const LLM_TIMEOUT: Duration = Duration::from_secs(60);

/// The most columns of a pattern's name or a session's id in text.
const NAME_COLUMNS: usize = 80;
/// The most columns of a pattern's description or a piece of evidence in text.
const TEXT_COLUMNS: usize = 200;

pub(crate) fn run(args: &OptimizeArgs, globals: &Globals) -> Result<u8> {
    if args.apply {
        super::output::folder_for(Some(&args.target), "--target")?;
    }
    let endpoint = endpoint(args)?;
    let store = Store::new(globals.store_root());
    let (ids, newest) = sessions(&store, args)?;
    let mut loaded: Vec<(String, Agent, Vec<Event>)> = Vec::new();
    for id in ids {
        let agent = store
            .read_meta_to_read(&id)
            .map_or(Agent::Unknown, |m| Agent::from_name(&m.agent_name));
        let mut reader = store.events(&id)?;
        let events: Vec<Event> = reader.by_ref().collect();
        warn_bad_lines(reader.bad_lines(), reader.bad_count());
        loaded.push((id, agent, events));
    }
    let sessions: Vec<Session<'_>> = loaded
        .iter()
        .map(|(id, agent, events)| Session {
            id,
            agent: *agent,
            events,
        })
        .collect();
    let heuristics = optimize::heuristics(&sessions);
    let patterns = match &endpoint {
        Some(endpoint) => match ask_llm(endpoint, &optimize::llm_prompt(&sessions, &heuristics))
            .and_then(|answer| {
                optimize::read_llm_answer(&answer, &sessions, &heuristics)
                    .map_err(|e| e.to_string())
            }) {
            Ok(patterns) => patterns,
            Err(why) => {
                warn(format_args!(
                    "the endpoint could not cluster the failures ({why}); using the built-in patterns"
                ));
                heuristics
            }
        },
        None => heuristics,
    };
    let existing = read_target(&args.target, args.apply)?;
    let (updated, added) = optimize::apply(&existing, &patterns);
    if args.apply && !added.is_empty() {
        write_target(&args.target, &updated)?;
    }
    let report = Report {
        sessions: loaded.len(),
        newest_session_at: newest,
        target: args.target.display().to_string(),
        applied: args.apply,
        patterns: &patterns,
        added: &added,
    };
    let mut out = stdout(globals.colour());
    match args.format.format {
        Format::Json => crate::render::json::write(&mut out, &report)?,
        Format::Text => text(&mut out, &report, Painter::new(globals.colour()))?,
    }
    out.flush()?;
    Ok(exit::OK)
}

#[derive(serde::Serialize)]
struct Report<'a> {
    sessions: usize,
    /// When no session is in the window: when the newest session started.
    #[serde(skip_serializing_if = "Option::is_none")]
    newest_session_at: Option<f64>,
    target: String,
    applied: bool,
    patterns: &'a [Pattern],
    /// The patterns whose addition is new to the target (added, with --apply).
    added: &'a [String],
}

fn text(out: &mut impl Write, r: &Report<'_>, paint: Painter) -> Result<()> {
    if let (0, Some(newest)) = (r.sessions, r.newest_session_at) {
        // As budget-report says it: where the sessions are instead.
        writeln!(
            out,
            "No session started in the window; the newest started {} (try --since {}).",
            local_time(newest),
            crate::render::terminal::local_day(newest)
        )?;
        return Ok(());
    }
    if r.patterns.is_empty() {
        writeln!(
            out,
            "No failure patterns in {}.",
            terminal::count(r.sessions as u64, "session")
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{} in {}:",
        terminal::count(r.patterns.len() as u64, "pattern"),
        terminal::count(r.sessions as u64, "session")
    )?;
    for p in r.patterns {
        let source = match p.source {
            Source::Heuristic => "",
            Source::Llm => " (clustered by the LLM)",
        };
        // Each on one line, cut: the evidence quotes the sessions (a path, a tool's name), and
        // an LLM's clustering names and describes its patterns, any of which may be a
        // megabyte long or hold a line end that would forge a line of its own (`--format
        // json` has them whole).
        writeln!(out)?;
        writeln!(
            out,
            "{} — {}{source}",
            paint.bold(&terminal::one_line(&p.name, NAME_COLUMNS)),
            terminal::one_line(&p.description, TEXT_COLUMNS)
        )?;
        let sessions: Vec<String> = p
            .sessions
            .iter()
            .map(|id| terminal::one_line(id, NAME_COLUMNS))
            .collect();
        writeln!(out, "  sessions: {}", sessions.join(", "))?;
        for e in p.evidence.iter().take(5) {
            let events: Vec<String> = e.events.iter().map(|n| format!("#{n}")).collect();
            writeln!(
                out,
                "  {} {}: {}",
                terminal::one_line(&e.session_id, NAME_COLUMNS),
                events.join(" "),
                terminal::one_line(&e.what, TEXT_COLUMNS)
            )?;
        }
        if p.evidence.len() > 5 {
            writeln!(out, "  … and {} more", p.evidence.len() - 5)?;
        }
        let new = r.added.contains(&p.name);
        if new {
            for line in p.proposal.lines() {
                writeln!(out, "  {}", paint.green(&format!("+ {line}")))?;
            }
        } else {
            writeln!(out, "  (already in {})", r.target)?;
        }
    }
    writeln!(out)?;
    if r.added.is_empty() {
        writeln!(out, "{} already holds every proposal.", r.target)?;
    } else if r.applied {
        writeln!(
            out,
            "Added {} to {}.",
            terminal::count(r.added.len() as u64, "proposal"),
            r.target
        )?;
    } else {
        writeln!(out, "Run again with --apply to add them to {}.", r.target)?;
    }
    Ok(())
}

/// The sessions to read: one, a dataset, or those since a time (30 days by default).
/// The sessions to read, oldest first, and when none is in the window, when the newest of the
/// store started.
fn sessions(store: &Store, args: &OptimizeArgs) -> Result<(Vec<String>, Option<f64>)> {
    if let Some(id) = &args.session {
        return Ok((
            vec![crate::cli::stores::select_in(
                store,
                &Selector::from_option(Some(id)),
            )?],
            None,
        ));
    }
    crate::cli::stores::require_unnamed(store)?;
    if let Some(label) = &args.dataset {
        let ids = store.labelled(label)?;
        if ids.is_empty() {
            return Err(Error::usage(format!(
                "no session is labelled `{label}`: label one with `agent-strace annotate ID N --label {label}`"
            ))
            .into());
        }
        return Ok((ids, None));
    }
    let now = crate::capture::sink::system_time();
    let since = instant(
        args.since.as_deref().unwrap_or("30d"),
        "--since",
        now,
        false,
    )?;
    // The window ends now: a session dated after it is in none.
    let mut period = PeriodStarts::ending_now(now);
    let listing = store.sessions()?;
    if let Some(warning) = &listing.warning {
        warn(warning);
    }
    let starts: Vec<(f64, &str)> = listing
        .sessions
        .iter()
        .map(|s| &s.summary.meta)
        .filter_map(|m| Some((start_in_period(&mut period, m)?, m.session_id.as_str())))
        .collect();
    warn_ahead(&period);
    let mut ids: Vec<(f64, String)> = starts
        .iter()
        .filter(|(start, _)| *start >= since)
        .map(|(start, id)| (*start, (*id).to_owned()))
        .collect();
    ids.sort_by(|a, b| a.0.total_cmp(&b.0));
    let newest = if ids.is_empty() {
        starts
            .iter()
            .map(|(start, _)| *start)
            .max_by(f64::total_cmp)
    } else {
        None
    };
    Ok((ids.into_iter().map(|(_, id)| id).collect(), newest))
}

/// The LLM endpoint, when the user named one.
struct Endpoint {
    url: hyper::Uri,
    model: String,
    key: Option<String>,
}

fn endpoint(args: &OptimizeArgs) -> Result<Option<Endpoint>> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let key = args.api_key.clone().or_else(|| var("OPENAI_API_KEY"));
    let base = match &args.base_url {
        Some(url) => url.clone(),
        // The variables alone are a request only when both are there: a key set for another
        // tool must not send anything to a default endpoint.
        None => match (var("OPENAI_BASE_URL"), &key) {
            (Some(url), Some(_)) => url,
            _ => return Ok(None),
        },
    };
    let url = format!("{}/chat/completions", base.trim_end_matches('/'));
    let url = check_url("--base-url", &url).map_err(Error::usage)?;
    let model = args
        .model
        .clone()
        .or_else(|| var("OPENAI_MODEL"))
        .unwrap_or_else(|| "gpt-4o-mini".to_owned());
    Ok(Some(Endpoint { url, model, key }))
}

/// Asks the endpoint; the answer's text, or why there is none.
fn ask_llm(endpoint: &Endpoint, prompt: &str) -> Result<String, String> {
    let client = HttpClient::for_url(&endpoint.url)?;
    let body = serde_json::json!({
        "model": endpoint.model,
        "messages": [{"role": "user", "content": prompt}],
        "temperature": 0.2,
    });
    let auth = endpoint.key.as_ref().map(|k| format!("Bearer {k}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(auth) = &auth {
        headers.push(("authorization", auth.as_str()));
    }
    let answer = client.post(
        &endpoint.url,
        &headers,
        body.to_string().into_bytes(),
        LLM_TIMEOUT,
    )?;
    if !(200..300).contains(&answer.status) {
        return Err(format!("it answered HTTP {}", answer.status));
    }
    let value: serde_json::Value =
        serde_json::from_slice(&answer.body).map_err(|e| format!("its answer is not JSON: {e}"))?;
    value["choices"][0]["message"]["content"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "its answer has no choices[0].message.content".to_owned())
}

/// The target's text; empty when it does not exist yet. To `apply` to, a link or anything but
/// a regular file is refused: the proposals would land wherever it points. Without `apply` it
/// is only read, to mark what it holds already, so a link is read through (`AGENTS.md` linked
/// to `CLAUDE.md` is common), and one that points nowhere holds nothing yet.
fn read_target(path: &Path, apply: bool) -> Result<String> {
    let read = |path: &Path| {
        crate::store::read_regular(path, super::settings::FILE_LIMIT)
            .map_err(|e| Error::input(format!("cannot read {}: {e}", path.display())).into())
    };
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(Error::io(format!("cannot read {}: {e}", path.display())).into()),
        Ok(meta) if meta.file_type().is_symlink() && !apply => match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            _ => read(path),
        },
        Ok(meta) if meta.file_type().is_symlink() => Err(Error::input(format!(
            "{} is a link: name the file it points to with --target",
            path.display()
        ))
        .into()),
        Ok(meta) if !meta.is_file() => {
            Err(Error::input(format!("{} is not a regular file", path.display())).into())
        }
        // Read as what it is once opened: a FIFO put in its place after the look above would
        // hold the command.
        Ok(_) => read(path),
    }
}

/// Writes the target whole, through a temporary file of this run's own, and renames it into
/// place: a reader never sees half of it, and one a killed run left behind blocks nothing. An
/// instruction file is shared like any other source file: a new one gets the usual mode.
fn write_target(path: &Path, text: &str) -> Result<()> {
    super::output::replace_file(path, &[text.as_bytes()], 0o666)
}
