//! `show`: who started a session and where (its attribution), with its agent, model, times
//! and parent session, for people and, with --format json, for programs.

use std::io::Write;

use anyhow::Result;
use clap::Args;
use serde_json::{Map, Value, json};

use super::Globals;
use super::args::{FormatArg, SessionArg};
use super::globals::Format;
use super::output::{stdout, warn_bad_lines, warn_unbelievable};
use crate::capture::attribution::keys;
use crate::exit;
use crate::model::meta::Unbelievable;
use crate::model::pricing::SYNTHETIC;
use crate::model::summary::Summary;
use crate::model::tools::Agent;
use crate::model::{EventType, SessionMeta};
use crate::render::terminal::{self, Painter, local_time};
use crate::store::Store;

/// Show who started a session and where: user, host, folder, git repository, branch and
/// commit, agent and its version, model, times, parent session and the agent's process
///
/// What is recorded when the session starts (a hook's session start, `record`); an older
/// session, or one imported from a log that does not say, shows what it has.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace show\n  agent-strace show 3f2a --format json | jq .attribution.git_branch"
)]
pub(crate) struct ShowArgs {
    #[command(flatten)]
    session: SessionArg,
    #[command(flatten)]
    format: FormatArg,
}

/// The session start's facts that are kept in its first events, not in meta: the agent's
/// process (for `watch`) and what an import read from the agent's log (model, folder, the
/// agent's version, the git branch), for a session whose meta has no attribution of its own;
/// and the models its responses used, as the index's summary folds them.
#[derive(Default)]
struct FromEvents {
    process: Option<(u32, u64)>,
    model: Option<String>,
    cwd: Option<String>,
    version: Option<String>,
    git_branch: Option<String>,
    /// The models with recorded responses (not Claude Code's `<synthetic>`), the most tokens
    /// first.
    models: Vec<String>,
}

/// How many of a session's first events may hold its start's facts.
const START_EVENTS: usize = 16;

pub(crate) fn run(args: &ShowArgs, globals: &Globals) -> Result<u8> {
    let store = Store::new(globals.store_root());
    let id = crate::cli::stores::select_in(&store, &args.session.selector())?;
    let meta = super::output::whole_summary(&store, &id)?.meta;
    let found = from_events(&store, &meta)?;
    let report = report(&meta, &found);
    // Its times only: the counts are not shown.
    let doubts = meta.unbelievable().only(&["started_at", "ended_at"]);
    warn_unbelievable(&id, &doubts, args.format.format);
    let mut out = stdout(globals.colour());
    match args.format.format {
        Format::Json => crate::render::json::write(&mut out, &report)?,
        Format::Text => text(&mut out, &report, &doubts, Painter::new(globals.colour()))?,
    }
    out.flush()?;
    Ok(exit::OK)
}

/// Reads the session's start from its first events (up to its first `session_start`), and its
/// models from all of them, or for a session whose events recorded no usage (hooks never see
/// it), from its agent's log when that is still readable.
fn from_events(store: &Store, meta: &SessionMeta) -> Result<FromEvents> {
    let mut found = FromEvents::default();
    let mut summary = Summary::default();
    let agent = Agent::from_name(&meta.agent_name);
    let mut events = store.events(&meta.session_id)?;
    let mut started = false;
    let now = crate::store::system_time();
    for (i, event) in events.by_ref().enumerate() {
        summary.observe(agent, &event, now);
        if started || i >= START_EVENTS {
            continue;
        }
        if found.process.is_none() {
            found.process = crate::model::view::agent_process(&event);
        }
        if event.event_type == EventType::SessionStart {
            let text = |key: &str| {
                event
                    .data
                    .get(key)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            found.model = text("model");
            found.cwd = text("cwd");
            found.version = text("version");
            found.git_branch = text("git_branch");
            started = found.process.is_some();
        }
    }
    warn_bad_lines(events.bad_lines(), events.bad_count());
    if !summary.has_usage() {
        for r in super::explain::logged_responses(store, meta) {
            summary
                .models
                .entry(r.model)
                .or_default()
                .tokens
                .add(&r.usage);
        }
    }
    // Claude Code's `<synthetic>` entries were made by no model.
    let mut models: Vec<(&String, u64)> = summary
        .models
        .iter()
        .filter(|(name, _)| name.as_str() != SYNTHETIC)
        .map(|(name, usage)| (name, usage.tokens.total()))
        .collect();
    // As `Summary::main_model` picks: the most tokens, ties by name.
    models.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    found.models = models.into_iter().map(|(name, _)| name.clone()).collect();
    Ok(found)
}

/// The report, one JSON object: the text view prints the same.
fn report(meta: &SessionMeta, found: &FromEvents) -> Value {
    let mut attribution: Map<String, Value> = meta
        .extra
        .get("attribution")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    // The title is the session's name, not who or where.
    attribution.remove(crate::model::meta::TITLE);
    for (key, value) in [
        (keys::WORKING_DIR, &found.cwd),
        (keys::GIT_BRANCH, &found.git_branch),
        (keys::AGENT_VERSION, &found.version),
    ] {
        if let Some(value) = value
            && !attribution.contains_key(key)
        {
            attribution.insert(key.into(), value.clone().into());
        }
    }
    // The model the session started with, when that was recorded; else the one its responses
    // used most.
    let model = meta
        .attribution(keys::MODEL)
        .map(str::to_owned)
        .or_else(|| found.model.clone())
        .or_else(|| found.models.first().cloned());
    let agent_version = attribution.get(keys::AGENT_VERSION).cloned();
    let doubts = meta.unbelievable();
    json!({
        "session_id": meta.session_id,
        "title": meta.title(),
        "agent": meta.agent_name,
        "agent_version": agent_version,
        "model": model,
        "models": found.models,
        "command": meta.command,
        // A time no session can have is `null`, as in every view's JSON.
        "started_at": doubts.figure("started_at", meta.started_at),
        "ended_at": doubts.figure("ended_at", meta.ended_at),
        "parent_session_id": meta.parent_session_id,
        "depth": meta.depth,
        "process": found.process.map(|(pid, started)| json!({"pid": pid, "started": started})),
        "attribution": attribution,
    })
}

fn text(out: &mut impl Write, r: &Value, doubts: &Unbelievable, paint: Painter) -> Result<()> {
    let s = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let a = &r["attribution"];
    let row = |out: &mut dyn Write, label: &str, value: Option<String>| -> std::io::Result<()> {
        if let Some(value) = value {
            writeln!(out, "{}{value}", paint.dim(&format!("{label:<9}")))?;
        }
        Ok(())
    };
    writeln!(
        out,
        "{}",
        paint.bold(&format!(
            "Session {}",
            r["session_id"].as_str().unwrap_or("")
        ))
    )?;
    row(out, "Title", s(&r["title"]))?;
    let agent = match (s(&r["agent"]), s(&r["agent_version"])) {
        (Some(agent), Some(version)) => Some(format!("{agent} {version}")),
        (agent, _) => agent,
    };
    row(out, "Agent", agent)?;
    row(out, "Model", s(&r["model"]))?;
    // Every model, when the responses used more than the one shown.
    let models: Vec<&str> = r["models"]
        .as_array()
        .map(|m| m.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if models.len() > 1
        || models
            .first()
            .is_some_and(|m| Some(*m) != r["model"].as_str())
    {
        row(out, "Models", Some(models.join(", ")))?;
    }
    let started = r["started_at"].as_f64().map(local_time);
    let ended = r["ended_at"]
        .as_f64()
        .map_or_else(|| "still running or not ended".to_owned(), local_time);
    // A time no session can have (`null` in the report) is unknown, not missing.
    let unknown = |field: &str, shown: Option<String>| {
        if doubts.believes(field) {
            shown
        } else {
            Some(terminal::UNKNOWN.to_owned())
        }
    };
    let started = unknown("started_at", started);
    let ended = unknown("ended_at", Some(ended));
    row(out, "Started", started)?;
    row(out, "Ended", ended)?;
    row(out, "Parent", s(&r["parent_session_id"]))?;
    let who = match (s(&a[keys::OS_USER]), s(&a[keys::HOSTNAME])) {
        (Some(user), Some(host)) => Some(format!("{user}@{host}")),
        (Some(one), None) | (None, Some(one)) => Some(one),
        (None, None) => None,
    };
    row(out, "User", who)?;
    row(out, "Folder", s(&a[keys::WORKING_DIR]))?;
    row(out, "Repo", s(&a[keys::GIT_REPO]))?;
    let at = match (s(&a[keys::GIT_BRANCH]), s(&a[keys::GIT_COMMIT])) {
        (Some(branch), Some(commit)) => Some(format!("{branch} at {commit}")),
        (Some(branch), None) => Some(branch),
        (None, Some(commit)) => Some(format!("{commit} (detached)")),
        (None, None) => None,
    };
    row(out, "Branch", at)?;
    let process = r["process"].as_object().map(|p| {
        format!(
            "pid {} (started {} clock ticks after boot)",
            p["pid"], p["started"]
        )
    });
    row(out, "Process", process)?;
    if a.as_object().is_none_or(Map::is_empty) && r["process"].is_null() {
        writeln!(
            out,
            "No attribution recorded: the session began before agent-strace recorded who and where, or its log does not say."
        )?;
    }
    Ok(())
}
