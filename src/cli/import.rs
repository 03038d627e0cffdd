//! `import`: Claude Code transcripts and Codex, Gemini CLI and Copilot CLI session logs already
//! on disk, as sessions.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::Globals;
use super::agent_logs::{self, LogAgent};
use super::globals::{Format, PrivacyArgs};
use super::log_folder;
use super::output::stdout;
use super::output::to_stderr;
use super::placement::{Placement, claude_projects};
use crate::capture::import::agent_log::FirstPrompt;
use crate::capture::import::batch::{freshness, import_files, subagents_left_out};
use crate::capture::import::claude_transcript::{self, main_session_id};
use crate::capture::import::resume::Freshness;
use crate::capture::import::{ImportError, ImportReport};
use crate::capture::sink::{Privacy, Sink};
use crate::capture::transcript::transcript::origin_of;
use crate::error::ErrorKind;
use crate::exit;
use crate::render::escape::escape;
use crate::render::terminal::{self, Painter};
use crate::render::terminal::{count, thousands};
use crate::store::{EntryKind, Store, folder_entries};

/// Import agents' session logs: Claude Code, Codex, Gemini CLI, Copilot CLI
///
/// Claude Code transcripts (~/.claude/projects/<project>/<session>.jsonl), Codex rollouts
/// ($CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl), Gemini CLI chats
/// (~/.gemini/tmp/<project>/chats/session-*.json[l]) and Copilot CLI sessions
/// ($COPILOT_HOME/session-state/<id>/events.jsonl); a file named here is recognised by its
/// content. Each log becomes a session with exact token usage per model response, and the
/// session records its agent. A Claude Code transcript's subagents
/// (the <session>/subagents/ folder, or sidechains inside the file) become child sessions linked
/// to the call that spawned them. Importing a transcript again adds what it gained since (a
/// resumed session appends to it), and changes nothing when it holds nothing new; one that was
/// rewritten, or that an older version of agent-strace imported, is imported again whole (once,
/// after an upgrade that changed how transcripts are read). Neither what it gained nor a rewrite is put in a session
/// that hooks sharing its id wrote to since it was imported: the import says how many lines it
/// left out, and the hooks' events are kept.
/// History a resumed or forked session repeats is counted once in it; a fork whose copy
/// carries the fork's own session id counts it as well as the session it came from (ccusage
/// counts such a copy once). Another agent's log that grew or changed is imported again whole.
///
/// Files named here go to the store here. --all puts each transcript in the store of the
/// project it ran in (its cwd) when that folder exists, else in the user-level store (see
/// `list --all-projects`); --trace-dir puts them all in one store.
///
/// A symbolic link inside an agent's folder (or among a transcript's subagents) is not
/// followed: --discover and --all say each one, and leave it out. A file named here may be a
/// link. Only regular files are read: a FIFO or a device is refused, never waited on; one named
/// as a log in an agent's folder or a folder named here is said, and left out.
///
/// A folder named here is searched for every agent's logs (`*.jsonl`, Gemini CLI's
/// `session-*.json`) and its files go to the store here; what is no session log among them is
/// left out with one note, and a folder holding none is an error.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace import ~/.claude/projects/-home-me-app/3f2a....jsonl\n  agent-strace import ~/.claude/projects/-home-me-app/  # every log under it\n  agent-strace import --discover             # what is there, and what is imported\n  agent-strace import --all                  # import everything not imported yet"
)]
pub(crate) struct ImportArgs {
    /// Session logs to import; a folder named here is searched for them, five folders deep
    /// (links in it and hidden folders but the agents' own are passed over; a subagent's log
    /// goes with its parent's)
    files: Vec<PathBuf>,
    /// List the logs in each agent's default place, newest first, and whether each is new,
    /// grown or up to date, instead of importing
    #[arg(long, conflicts_with_all = ["files", "all"])]
    discover: bool,
    /// Import every log in each agent's default place not imported yet, and what those
    /// imported before gained since
    #[arg(long, conflicts_with = "files")]
    all: bool,
    /// Claude Code's folder [default: $CLAUDE_CONFIG_DIR (several, comma-separated), else
    /// ~/.config/claude and ~/.claude]
    #[arg(long, value_name = "DIR")]
    claude_dir: Option<PathBuf>,
    /// With --discover or --all: only this agent's logs (repeat for several) [default: every
    /// agent's; only Claude Code's with --claude-dir]
    #[arg(long, value_enum, value_name = "AGENT")]
    agent: Vec<LogAgent>,
    #[command(flatten)]
    privacy: PrivacyArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub(crate) fn run(args: &ImportArgs, globals: &Globals) -> Result<u8> {
    if args.discover || args.all {
        let agents: Vec<LogAgent> = match (&args.agent[..], &args.claude_dir) {
            ([], Some(_)) => vec![LogAgent::ClaudeCode],
            ([], None) => vec![
                LogAgent::ClaudeCode,
                LogAgent::Codex,
                LogAgent::GeminiCli,
                LogAgent::Copilot,
            ],
            (some, _) => some.to_vec(),
        };
        let named = !args.agent.is_empty() || args.claude_dir.is_some();
        let mut claude = if agents.contains(&LogAgent::ClaudeCode) {
            claude_projects(args.claude_dir.as_deref())?
        } else {
            Vec::new()
        };
        // An agent asked for by name whose folder cannot be found is a usage error; the default
        // set is the agents this machine has, so one that cannot be found is not among them
        // (Claude Code's transcripts found through $CLAUDE_CONFIG_DIR still list with no $HOME).
        if named && let Some(unfound) = agents.iter().find_map(|a| agent_logs::unfound(*a)) {
            return Err(super::output::usage(unfound));
        }
        let agents: Vec<LogAgent> = agents
            .into_iter()
            .filter(|a| agent_logs::unfound(*a).is_none())
            .collect();
        // Where Claude Code's transcripts were looked for, there or not: a search that finds
        // nothing names every place it looked in.
        let looked_in = claude.clone();
        // Someone who never ran Claude Code has no folder of it: unless its folder was asked
        // for, the other agents' logs are found without it.
        if !named {
            claude.retain(|p| p.is_dir());
        }
        let mut placement = Placement::new(globals);
        // A session is looked for under the id an import stores it by.
        let privacy = args.privacy.resolve().map_err(super::output::usage)?;
        // Links in the agents' folders, which are never followed, and FIFOs named as logs,
        // never opened: said, one line each.
        let mut links = Vec::new();
        // Only a listing shows first prompts; importing needs just each file's session.
        let mut found = discover(&claude, &mut placement, &privacy, args.discover, &mut links)?;
        for &agent in agents.iter().filter(|a| **a != LogAgent::ClaudeCode) {
            discover_logs(
                agent,
                &mut placement,
                &privacy,
                args.discover,
                &mut found,
                &mut links,
            )?;
        }
        links.sort();
        links.dedup();
        for link in &links {
            match crate::store::entry_kind(link) {
                Some(EntryKind::Link) | None => super::output::warn(format_args!(
                    "{}: a symbolic link in an agent's folder, not followed (import it by name to read it)",
                    link.display()
                )),
                Some(_) => super::output::warn(format_args!(
                    "{}: {}, not a regular file: left out, never opened",
                    link.display(),
                    crate::store::describe_entry(link).unwrap_or("no regular file")
                )),
            }
        }
        found.sort_by(|a, b| {
            b.modified
                .total_cmp(&a.modified)
                .then_with(|| a.path.cmp(&b.path))
        });
        if args.discover {
            // What an import of each would say it leaves out among its subagents' logs, said
            // here as there: passed over without a word, a FIFO or a link hid a subagent.
            for log in &found {
                for note in subagents_left_out(&log.path, &log.session_id) {
                    super::output::warn(format_args!("{}: {note}", log.path.display()));
                }
            }
            return show_discovered(&found, args.format, Painter::new(globals.colour()));
        }
        if found.is_empty() && args.format != Format::Json {
            let mut out = stdout(globals.colour());
            let places: Vec<String> = looked_in
                .iter()
                .cloned()
                .chain(agents.iter().flat_map(|a| agent_logs::places(*a)))
                .map(|p| p.display().to_string())
                .collect();
            writeln!(
                out,
                "No transcripts or session logs found under {}.",
                places.join(", ")
            )?;
            out.flush()?;
            return Ok(exit::OK);
        }
        let by_hooks = found.iter().filter(|t| t.recorded_by_hooks).count();
        if by_hooks > 0 {
            to_stderr(format_args!(
                "note: {by_hooks} of the sessions were recorded by hooks and are left as the hooks wrote them; `agent-strace import <file>` says what only its transcript holds.\n"
            ));
        }
        // A transcript that grew while hooks wrote to its imported session is not read: said,
        // so that --all never calls it imported.
        let not_added: Vec<&Found> = found
            .iter()
            .filter(|t| t.status == "added_to" && t.new_lines.is_some())
            .collect();
        for log in &not_added {
            super::output::warn(format_args!(
                "{}: {} grew by {} since it was imported, not added: hooks wrote to its session since, and an import never adds to a session hooks write to; `agent-strace import <file>` says what to do",
                log.path.display(),
                log.session_id,
                count(log.new_lines.unwrap_or(0), "line")
            ));
        }
        // Each such file has its report in JSON, as `import FILE` gives it: status `added_to`
        // with `lines_not_added`, so that a machine reading --all sees it too.
        let not_added: Vec<ImportReport> = not_added
            .iter()
            .map(|log| {
                let mut report = ImportReport::new(&log.path, log.session_id.clone(), log.agent);
                report.left_added_to(log.new_lines.unwrap_or(0));
                report
            })
            .collect();
        let mut files: Vec<(Store, PathBuf)> = found
            .into_iter()
            .filter(|t| t.needs_import)
            .map(|t| (t.store, t.path))
            .collect();
        // Older Claude Code kept subagents' transcripts beside the main ones; they go after
        // their parents (to the store of the project they ran in too), and ones imported
        // before are recognised and skipped.
        if !files.is_empty() {
            for stray in claude.iter().flat_map(|c| stray_agent_files(c)) {
                let (session, cwd) = origin_of(&stray);
                let id = session.unwrap_or_default();
                files.push((placement.store_for(&id, cwd.as_deref())?, stray));
            }
        }
        return import_many(&files, &Searched::default(), args, globals, not_added);
    }
    if args.files.is_empty() {
        return Err(super::output::usage(
            "name session logs (or folders holding them) to import, or use --discover or --all",
        ));
    }
    // Files named here go to the store here, as every command reads it.
    let store = super::stores::for_writing(globals.store_root());
    // A store at something other than a folder (`--trace-dir` naming a file) fails every
    // file's import alike: said once, before any is read.
    if std::fs::metadata(store.root()).is_ok_and(|m| !m.is_dir()) {
        return Err(crate::error::Error::input(format!(
            "{} is not a folder, so it cannot hold the store; nothing was imported",
            escape(&store.root().display().to_string())
        ))
        .into());
    }
    let mut searched = Searched::default();
    let mut files: Vec<(Store, PathBuf)> = Vec::new();
    let mut code = exit::OK;
    for named in &args.files {
        // A folder named here (or a link to one: naming it is choosing it) is searched.
        if !named.is_dir() {
            files.push((store.clone(), named.clone()));
            continue;
        }
        let found = log_folder::logs_under(named);
        for link in &found.links {
            super::output::warn(format_args!(
                "{}: a symbolic link, not followed (import it by name to read it)",
                escape(&link.display().to_string())
            ));
        }
        for special in &found.specials {
            let what = crate::store::describe_entry(special).unwrap_or("no regular file");
            super::output::warn(format_args!(
                "{}: {what}, not a regular file: left out, never opened",
                escape(&special.display().to_string())
            ));
        }
        // A folder that could not be read is not searched: said, never passed over as a
        // folder of nothing. The one named fails as a file named that cannot be read does;
        // one below it (a home folder holds some not the user's) is a warning.
        for (folder, e) in &found.unreadable {
            if folder == named {
                to_stderr(format_args!(
                    "error: {}: {e}\n",
                    escape(&folder.display().to_string())
                ));
                code = code.max(io_code(e));
            } else {
                super::output::warn(format_args!(
                    "{}: {e}; the logs in it are not imported",
                    escape(&folder.display().to_string())
                ));
            }
        }
        if found.files.is_empty() && found.unreadable.is_empty() {
            to_stderr(format_args!(
                "error: {}: {NO_LOG} under it\n",
                escape(&named.display().to_string())
            ));
            code = exit::INPUT;
        }
        for file in found.files {
            searched.files.insert(file.clone());
            files.push((store.clone(), file));
        }
    }
    // A file named twice (alone and inside a folder named) is imported once.
    let mut seen = std::collections::HashSet::new();
    files.retain(|(_, f)| seen.insert(f.clone()));
    Ok(import_many(&files, &searched, args, globals, Vec::new())?.max(code))
}

/// What no file of a searched folder, and no file left out of one, is.
const NO_LOG: &str = "no session log of Claude Code, Codex, Gemini CLI or Copilot CLI";

/// The files found by searching folders named to `import`, not named one by one.
#[derive(Default)]
struct Searched {
    files: std::collections::HashSet<PathBuf>,
}

fn sink(args: &ImportArgs) -> Result<Sink> {
    let privacy = args.privacy.resolve().map_err(super::output::usage)?;
    Ok(Sink::new(privacy))
}

/// Imports each file into the store beside it. A file found in a searched folder that is no
/// session log (a prompt history, a tool's own JSON lines) is left out, and said once.
/// `not_added` holds the reports of the transcripts `--all` found grown but left out, their
/// sessions added to by hooks (each warned of already): counted in the text, given in JSON.
fn import_many(
    files: &[(Store, PathBuf)],
    searched: &Searched,
    args: &ImportArgs,
    globals: &Globals,
    not_added: Vec<ImportReport>,
) -> Result<u8> {
    let sink = sink(args)?;
    // Imports that were killed, or failed in an older version, left their hidden folders.
    let mut swept = std::collections::HashSet::new();
    for (store, _) in files {
        if swept.insert(store.root().to_path_buf()) && store.exists() {
            store.sweep_unfinished();
        }
    }
    let paint = Painter::new(globals.colour());
    let progress = args.all && std::io::stderr().is_terminal();
    // Files in parallel on every core; each session still has one writer.
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut out = stdout(globals.colour());
    let not_added_count = not_added.len();
    // JSON gives the files not added first, then each file imported as it finishes.
    let mut reports = if args.format == Format::Json {
        not_added
    } else {
        Vec::new()
    };
    let not_added = not_added_count;
    // The exit code of the worst failure (see `failure_code`); OK when every file imported.
    let mut code = exit::OK;
    // Files that could not be imported, each said in an error line.
    let mut failed = 0usize;
    let mut fail = |message: &dyn std::fmt::Display, this: u8| {
        code = code.max(this);
        to_stderr(format_args!("error: {}\n", escape(&message.to_string())));
    };
    // A file that is not there, or not a file (a FIFO would hold the import), fails alone
    // before anything is read. A link named here is followed: naming it is choosing it.
    let files: Vec<(Store, PathBuf)> = files
        .iter()
        .filter(|(_, file)| match crate::store::regular_len(file) {
            Ok(Some(_)) => true,
            Ok(None) => {
                // The system's own words for what is missing.
                let e = std::fs::metadata(file)
                    .err()
                    .unwrap_or_else(|| std::io::ErrorKind::NotFound.into());
                fail(&format!("{}: {e}", file.display()), io_code(&e));
                failed += 1;
                false
            }
            Err(e) => {
                fail(&e, io_code(&e));
                failed += 1;
                false
            }
        })
        .cloned()
        .collect();
    let files = files.as_slice();
    let mut written: std::io::Result<()> = Ok(());
    // Older Claude Code kept subagents' transcripts beside the main ones (`agent-*.jsonl`):
    // they go after the main files, and ones imported before are recognised and skipped.
    let (strays, mains): (Placed, Placed) = files.iter().cloned().partition(|(_, f)| {
        (args.all || searched.files.contains(f))
            && f.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("agent-"))
    });
    let mut finished = 0;
    let mut no_logs: Vec<PathBuf> = Vec::new();
    // The main files each store took, for `--all`'s summary, and the files that failed: a
    // store that could not be made failed each of its files, which it never holds.
    let mut taken: Vec<(Store, usize)> = Vec::new();
    // A subagent's session the store could not take fails the import as writing fails it.
    let mut unwritten = false;
    let main_stores = by_store(&mains);
    let main_count = main_stores.len();
    for (n, (store, batch)) in main_stores.into_iter().chain(by_store(&strays)).enumerate() {
        super::stores::prepare(&store)?;
        let mut took = 0usize;
        import_files(&store, &batch, &sink, workers, |_, file, result| {
            finished += 1;
            if result.is_ok() {
                took += 1;
            }
            if progress {
                to_stderr(format_args!("{}", terminal::CLEAR_LINE));
            }
            match result {
                Ok(mut done) => {
                    unwritten |= done.iter().any(|r| r.subagent_unwritten);
                    for report in &done {
                        for bad in &report.malformed {
                            super::output::warn(format_args!(
                                "{}:{}: skipped a line that is not a transcript entry ({})",
                                report.file.display(),
                                bad.line,
                                bad.message
                            ));
                        }
                        for warning in &report.warnings {
                            super::output::warn(format_args!(
                                "{}: {warning}",
                                report.file.display()
                            ));
                        }
                    }
                    // Text is written as files finish, so memory stays flat however many
                    // files there are; JSON is one document, written at the end.
                    if args.format == Format::Json {
                        reports.append(&mut done);
                    } else if written.is_ok() {
                        written = describe(&mut out, &done, paint);
                    }
                }
                Err(
                    ImportError::NotTranscript { .. }
                    | ImportError::Empty(_)
                    | ImportError::Blank { .. },
                ) if searched.files.contains(file) => {
                    no_logs.push(file.to_path_buf());
                }
                Err(err) => {
                    failed += 1;
                    fail(&err, failure_code(&err));
                }
            }
            if progress {
                to_stderr(format_args!(
                    "{}[{finished}/{}] {}",
                    terminal::CLEAR_LINE,
                    files.len(),
                    escape(&terminal::path_tail(&file.display().to_string(), 60))
                ));
            }
        });
        if n < main_count && took > 0 {
            taken.push((store, took));
        }
    }
    written?;
    if !no_logs.is_empty() {
        let names: Vec<String> = no_logs
            .iter()
            .take(3)
            .map(|f| escape(&f.display().to_string()).into_owned())
            .collect();
        let more = no_logs.len().saturating_sub(names.len());
        to_stderr(format_args!(
            "note: {} found in the folders named {} {NO_LOG}, left out: {}{}\n",
            count(no_logs.len() as u64, "file"),
            if no_logs.len() == 1 { "is" } else { "are" },
            names.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    if progress {
        to_stderr(format_args!("{}", terminal::CLEAR_LINE));
    }
    if args.format == Format::Json {
        crate::render::json::write(&mut out, &reports)?;
    } else if args.all && files.is_empty() && not_added == 0 && failed == 0 {
        writeln!(out, "Every transcript is imported already.")?;
    } else if args.all && files.is_empty() && failed == 0 {
        writeln!(out, "Nothing imported: {}", not_added_line(not_added))?;
    } else if args.all {
        // Each transcript went to its project's store: say where they are, and how to read
        // those that are not in the store commands here read.
        let here = globals.store_root();
        let mut elsewhere = false;
        for (store, n) in &taken {
            let n = *n;
            writeln!(
                out,
                "{n} transcript{} for {}",
                if n == 1 { "" } else { "s" },
                path_in_a_line(store.root())
            )?;
            elsewhere |= !super::stores::same_folder(store.root(), &here);
        }
        if not_added > 0 {
            writeln!(out, "{}", not_added_line(not_added))?;
        }
        if failed > 0 {
            writeln!(
                out,
                "{} not imported (see the error{} above).",
                count(failed as u64, "transcript"),
                if failed == 1 { "" } else { "s" }
            )?;
        }
        if elsewhere {
            writeln!(
                out,
                "Commands here read {}: `agent-strace list --all-projects` lists every store's \
                 sessions, and `--trace-dir DIR` reads another store.",
                here.display()
            )?;
        }
    }
    out.flush()?;
    Ok(if unwritten { code.max(exit::IO) } else { code })
}

/// `--all`'s count of the transcripts that grew and were not added, their sessions written to
/// by hooks since they were imported.
fn not_added_line(n: usize) -> String {
    let one = n == 1;
    format!(
        "{} grew but {} not added, hooks having written to {} session{} since {} imported (see the warning{} above).",
        count(n as u64, "transcript"),
        if one { "was" } else { "were" },
        if one { "its" } else { "their" },
        if one { "" } else { "s" },
        if one { "it was" } else { "they were" },
        if one { "" } else { "s" },
    )
}

/// Files, each with the store it goes to.
type Placed = Vec<(Store, PathBuf)>;

/// Files grouped by the store they go to, in the order each store first appears.
fn by_store(files: &[(Store, PathBuf)]) -> Vec<(Store, Vec<PathBuf>)> {
    let mut groups: Vec<(Store, Vec<PathBuf>)> = Vec::new();
    for (store, file) in files {
        match groups.iter_mut().find(|(s, _)| s.root() == store.root()) {
            Some((_, group)) => group.push(file.clone()),
            None => groups.push((store.clone(), vec![file.clone()])),
        }
    }
    groups
}

/// The exit code a file that failed to import stands for, by the table in `exit.rs`: a file
/// that is not there is 2 (as a session that is not there), one that is not a transcript 3,
/// reading or writing that failed 4.
fn failure_code(err: &ImportError) -> u8 {
    match err {
        ImportError::Io { source, .. } => io_code(source),
        ImportError::Store(store) | ImportError::StoreAt { source: store, .. } => {
            ErrorKind::of_store(store).exit_code()
        }
        _ => exit::INPUT,
    }
}

fn io_code(err: &std::io::Error) -> u8 {
    match err.kind() {
        std::io::ErrorKind::NotFound => exit::USAGE,
        // Not UTF-8, or not a regular file.
        std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput => exit::INPUT,
        _ => exit::IO,
    }
}

fn describe(out: &mut impl Write, reports: &[ImportReport], paint: Painter) -> std::io::Result<()> {
    for (i, r) in reports.iter().enumerate() {
        let lead = if i == 0 {
            String::new()
        } else {
            "  + subagent ".to_owned()
        };
        if r.status == "skipped" {
            // Why is on stderr, with the warnings.
            writeln!(out, "{lead}skipped {}", r.file.display())?;
            continue;
        }
        if let Some(left) = r
            .not_imported
            .as_ref()
            .filter(|_| r.status == "recorded_by_hooks")
        {
            let t = &left.tokens;
            writeln!(
                out,
                "{lead}{} was recorded by hooks; its transcript is not merged into it ({})",
                paint.cyan(&r.session_id),
                r.file.display()
            )?;
            writeln!(
                out,
                "    only the transcript holds {} (tokens in {} / out {} / cache write {} / cache read {}), {}, {} and {} the hooks did not see",
                count(left.responses, "response"),
                thousands(t.input),
                thousands(t.output),
                thousands(t.cache_creation),
                thousands(t.cache_read),
                count(left.answers, "answer"),
                count(left.thinking, "thinking block"),
                count(left.tool_calls, "tool call")
            )?;
            if left.turn_errors > 0 {
                writeln!(
                    out,
                    "    and {} the session has no record of (each ended a turn)",
                    count(left.turn_errors, "API error")
                )?;
            }
            writeln!(
                out,
                "    {}",
                if left.usage_read_from_transcript {
                    "cost, explain and budget-report read its usage from the transcript while the file is there"
                } else {
                    "the session does not name this transcript, so no command counts that usage"
                }
            )?;
            continue;
        }
        if r.status == "recorded_by_hooks" {
            // Another agent's log beside its hooks' session: left out whole (see its warning).
            writeln!(
                out,
                "{lead}{} was recorded by hooks; its {} log is not merged into it ({})",
                paint.cyan(&r.session_id),
                r.agent,
                r.file.display()
            )?;
            continue;
        }
        if r.status == "already_imported" {
            match (&r.imported_from, &r.imported_agent) {
                // Another agent's log that names the same session id.
                (Some(other), Some(agent)) => writeln!(
                    out,
                    "{lead}{}: {} is a {} log with the session id of {agent}'s log {}, which the store holds; it was not read",
                    paint.cyan(&r.session_id),
                    r.file.display(),
                    r.agent,
                    other.display()
                )?,
                // Which file the store holds it from: a copy or another name of the log.
                (Some(other), None) => writeln!(
                    out,
                    "{lead}{} already imported from {}; {} was not read",
                    paint.cyan(&r.session_id),
                    other.display(),
                    r.file.display()
                )?,
                (None, _) => writeln!(
                    out,
                    "{lead}{} already imported ({})",
                    paint.cyan(&r.session_id),
                    r.file.display()
                )?,
            }
            continue;
        }
        if r.status == "added_to" {
            // Why, and what to do, is on stderr with the warnings.
            writeln!(
                out,
                "{lead}{} grew by {}, not added: hooks wrote to its session since it was imported ({})",
                paint.cyan(&r.session_id),
                count(r.lines_not_added.unwrap_or(0), "line"),
                r.file.display()
            )?;
            continue;
        }
        if r.status == "relinked" {
            writeln!(
                out,
                "{lead}{} linked to the call that spawned it",
                paint.cyan(&r.session_id),
            )?;
            continue;
        }
        let t = &r.tokens;
        let what = match r.status {
            // Another agent's log that grew is read again whole: its figures are the whole
            // session's, not what the file gained.
            "grown" if r.agent != "claude-code" => format!(
                "grown: {}, imported again whole: {}",
                count(r.lines, "new line"),
                count(r.events, "event")
            ),
            "grown" => format!(
                "grown: {}, {}",
                count(r.lines, "new line"),
                count(r.events, "event")
            ),
            // An older version's import is no change to the file: said so, not "rewritten".
            "reimported" if r.reimported_as_outdated => format!(
                "imported again whole (an older version of agent-strace imported it): {}",
                count(r.events, "event")
            ),
            "reimported" => format!(
                "imported again whole (the transcript is not what was imported before): {}",
                count(r.events, "event")
            ),
            _ => format!("imported: {}", count(r.events, "event")),
        };
        writeln!(
            out,
            "{lead}{} {what}, {} ({} failed{}), {}{}{}, tokens in {} / out {} / cache write {} / cache read {}",
            paint.cyan(&r.session_id),
            count(r.tool_calls, "tool call"),
            thousands(r.tool_errors),
            // Refused calls are no failures: named apart when there are some, as everywhere.
            if r.tool_rejections > 0 {
                format!(", {} rejected", thousands(r.tool_rejections))
            } else {
                String::new()
            },
            count(r.responses, "response"),
            // Left out of the tokens, as every view leaves them out (and says so).
            if r.unbelieved_usage > 0 {
                format!(" ({} of unknown usage)", thousands(r.unbelieved_usage))
            } else {
                String::new()
            },
            // The API errors that ended turns are no call's: named apart, as `stats` does.
            if r.turn_errors > 0 {
                format!(", {}", count(r.turn_errors, "API error"))
            } else {
                String::new()
            },
            thousands(t.input),
            thousands(t.output),
            thousands(t.cache_creation),
            thousands(t.cache_read)
        )?;
        if r.repeated > 0 {
            writeln!(
                out,
                "    {} line{} repeat{} history the file holds already (a resumed or forked session), counted once",
                r.repeated,
                if r.repeated == 1 { "" } else { "s" },
                if r.repeated == 1 { "s" } else { "" },
            )?;
        }
        if r.resumed_history > 0 {
            writeln!(
                out,
                "    {} line{} of the history this session resumed left to the file of the session that holds {}",
                r.resumed_history,
                if r.resumed_history == 1 { "" } else { "s" },
                if r.resumed_history == 1 { "it" } else { "them" },
            )?;
        }
        for side in &r.sidechains {
            writeln!(out, "  + sidechain {}", paint.cyan(side))?;
        }
    }
    Ok(())
}

/// `agent-*.jsonl` files directly in the project folders of a `projects` folder (older Claude
/// Code's subagent layout). Links are not followed (discovery said them).
fn stray_agent_files(projects: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (project, kind) in folder_entries(projects) {
        if kind != EntryKind::Folder {
            continue;
        }
        out.extend(
            folder_entries(&project)
                .into_iter()
                .filter(|(_, kind)| *kind == EntryKind::File)
                .map(|(path, _)| path)
                .filter(|p| {
                    p.extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"))
                        && p.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with("agent-"))
                }),
        );
    }
    out.sort();
    out
}

/// A transcript or session log found in its agent's folder.
#[derive(Debug, Serialize)]
struct Found {
    /// The agent whose log it is, as sessions name it.
    agent: &'static str,
    project: String,
    session_id: String,
    path: PathBuf,
    modified: f64,
    bytes: u64,
    /// Its text, or `null` (a listing says "(no prompt)" only for a file read to its end
    /// without one, and leaves the cell empty where it was not looked for that far).
    #[serde(serialize_with = "prompt_text")]
    first_prompt: FirstPrompt,
    imported: bool,
    /// In the store, recorded by hooks: not imported, and an import leaves it as it is.
    recorded_by_hooks: bool,
    /// The store that holds the session, or that `--all` imports it into.
    #[serde(serialize_with = "store_root")]
    store: Store,
    /// How the file (with its subagents) compares with the store: `new`, `grown`,
    /// `up_to_date`, `rewritten` (imported again whole), `outdated` (imported by a version that
    /// kept no record of what it read: imported again whole), `recorded_by_hooks`,
    /// `imported_from_another_file`, `added_to` (something else added to the imported session).
    status: &'static str,
    /// Lines the file and its subagents hold beyond what the store has, when they grew.
    #[serde(skip_serializing_if = "Option::is_none")]
    new_lines: Option<u64>,
    #[serde(skip)]
    needs_import: bool,
}

fn prompt_text<S: serde::Serializer>(first: &FirstPrompt, s: S) -> Result<S::Ok, S::Error> {
    match first {
        FirstPrompt::Typed(text) => s.serialize_str(text),
        FirstPrompt::None | FirstPrompt::Unknown => s.serialize_none(),
    }
}

fn store_root<S: serde::Serializer>(store: &Store, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&store.root().display())
}

/// Every transcript in the `projects` folders, newest first, each with the store it belongs to.
/// The `projects` folders are followed as they are named; links inside them are not (they go
/// to `links`).
fn discover(
    claude: &[PathBuf],
    placement: &mut Placement,
    privacy: &Privacy,
    first_prompts: bool,
    links: &mut Vec<PathBuf>,
) -> Result<Vec<Found>> {
    let mut found = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for projects in claude {
        discover_in(
            projects,
            placement,
            privacy,
            first_prompts,
            &mut seen,
            &mut found,
            links,
        )?;
    }
    found.sort_by(|a, b| {
        b.modified
            .total_cmp(&a.modified)
            .then_with(|| a.path.cmp(&b.path))
    });
    Ok(found)
}

fn discover_in(
    projects: &Path,
    placement: &mut Placement,
    privacy: &Privacy,
    first_prompts: bool,
    seen: &mut std::collections::HashSet<(u64, u64)>,
    found: &mut Vec<Found>,
    links: &mut Vec<PathBuf>,
) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let entries = std::fs::read_dir(projects).map_err(|e| {
        let message = format!("no Claude Code projects at {} ({e})", projects.display());
        // A folder that is not there is named wrongly, as a session that is not there is.
        if e.kind() == std::io::ErrorKind::NotFound {
            super::output::usage(message)
        } else {
            crate::error::Error::io(message).into()
        }
    })?;
    let mut projects: Vec<std::fs::DirEntry> = entries.flatten().collect();
    projects.sort_by_key(std::fs::DirEntry::file_name);
    for project in projects {
        match project.file_type() {
            Ok(kind) if kind.is_dir() => {}
            Ok(kind) if kind.is_symlink() => {
                links.push(project.path());
                continue;
            }
            _ => continue,
        }
        for (path, kind) in folder_entries(&project.path()) {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let is_jsonl = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"));
            // A link is not followed (it may point anywhere: it is said instead); a FIFO or a
            // device is no transcript (reading it would never end), so it is not listed, as
            // `--all` would not import it, but said as a link is. Subagents' files beside the
            // main ones are `--all`'s.
            match kind {
                _ if !is_jsonl => continue,
                EntryKind::Link => {
                    links.push(path);
                    continue;
                }
                EntryKind::Other if !name.starts_with("agent-") => {
                    links.push(path);
                    continue;
                }
                EntryKind::File if !name.starts_with("agent-") => {}
                _ => continue,
            }
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            // One file reached through two folders (a linked config folder) is listed once.
            if !meta.is_file() || !seen.insert((meta.dev(), meta.ino())) {
                continue;
            }
            let modified = meta
                .modified()
                .ok()
                .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map_or(0.0, |d| d.as_secs_f64());
            let first_prompt = if first_prompts {
                claude_transcript::first_prompt(&path)
            } else {
                FirstPrompt::Unknown
            };
            let (session, cwd) = origin_of(&path);
            // The id the import gives it: a resumed session's file begins with lines of the
            // session it resumed, and is that session's only by its name.
            let session_id = privacy
                .session_id(&main_session_id(&path, session.as_deref()))
                .into_owned();
            let store = placement.store_for(&session_id, cwd.as_deref())?;
            // A record and a line of each file are read, not the files.
            let fresh = freshness(&store, &path, &session_id, privacy);
            found.push(Found {
                agent: "claude-code",
                project: project.file_name().to_string_lossy().into_owned(),
                recorded_by_hooks: matches!(fresh.main, Freshness::RecordedByHooks),
                imported: !matches!(fresh.main, Freshness::New),
                status: fresh.status(),
                new_lines: fresh.new_lines(),
                needs_import: fresh.needs_import(),
                first_prompt,
                session_id,
                path,
                modified,
                bytes: meta.len(),
                store,
            });
        }
    }
    Ok(())
}

/// Every log of `agent` in its default place, each with the store it belongs to; links there
/// are not followed (they go to `links`).
fn discover_logs(
    agent: LogAgent,
    placement: &mut Placement,
    privacy: &Privacy,
    first_prompts: bool,
    found: &mut Vec<Found>,
    links: &mut Vec<PathBuf>,
) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    for log in agent_logs::find(agent, links) {
        let Ok(meta) = std::fs::symlink_metadata(&log.path) else {
            continue;
        };
        if !meta.is_file() || !seen.insert((meta.dev(), meta.ino())) {
            continue;
        }
        let origin = crate::capture::import::detect::origin(&log.path);
        // Read as its import reads it, as far as its first prompt only.
        let first_prompt = if first_prompts {
            crate::capture::import::detect::first_prompt(&log.path, origin.format)
        } else {
            FirstPrompt::Unknown
        };
        let session_id = origin.session_id.unwrap_or_else(|| {
            log.path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        let session_id = privacy.session_id(&session_id).into_owned();
        // The folder the log names, or, for a Gemini CLI chat, the one Gemini CLI keeps it for.
        let cwd = origin.cwd;
        let store = placement.store_for(&session_id, cwd.as_deref())?;
        let fresh = freshness(&store, &log.path, &session_id, privacy);
        let modified = meta
            .modified()
            .ok()
            .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0.0, |d| d.as_secs_f64());
        found.push(Found {
            agent: log.agent.name(),
            project: cwd.unwrap_or(log.group),
            recorded_by_hooks: matches!(fresh.main, Freshness::RecordedByHooks),
            imported: !matches!(fresh.main, Freshness::New),
            status: fresh.status(),
            new_lines: fresh.new_lines(),
            needs_import: fresh.needs_import(),
            first_prompt,
            session_id,
            path: log.path,
            modified,
            bytes: meta.len(),
            store,
        });
    }
    Ok(())
}

/// The widest a project shows in `--discover`'s table, in columns.
const PROJECT_COLUMNS: usize = 40;

fn show_discovered(found: &[Found], format: Format, paint: Painter) -> Result<u8> {
    let mut out = stdout(paint.colours());
    if format == Format::Json {
        crate::render::json::write(&mut out, &found)?;
        out.flush()?;
        return Ok(exit::OK);
    }
    if found.is_empty() {
        writeln!(out, "No transcripts or session logs found.")?;
        out.flush()?;
        return Ok(exit::OK);
    }
    let words = |f: &Found| match (f.status, f.new_lines) {
        ("grown", Some(n)) => format!("grown ({n} new line{})", if n == 1 { "" } else { "s" }),
        ("up_to_date", _) => "up to date".to_owned(),
        ("recorded_by_hooks", _) => "hooks".to_owned(),
        ("imported_from_another_file", _) => "imported".to_owned(),
        ("added_to", Some(n)) => format!(
            "added to; {n} new line{} not added",
            if n == 1 { "" } else { "s" }
        ),
        ("added_to", _) => "added to".to_owned(),
        (status, _) => status.to_owned(),
    };
    // A table as `list` shows its sessions: a header, and every column as wide as its widest
    // cell (a project is cut from the front, where its path is least telling).
    let statuses: Vec<String> = found.iter().map(words).collect();
    let status_width = terminal::column_width(statuses.iter().map(String::as_str), 6, 40);
    let agent_width = terminal::column_width(found.iter().map(|f| f.agent), 5, 12);
    let project_width = terminal::path_column_width(
        found.iter().map(|f| f.project.as_str()),
        "PROJECT".len(),
        PROJECT_COLUMNS,
    );
    let id_width = terminal::column_width(
        found.iter().map(|f| f.session_id.as_str()),
        "SESSION".len(),
        usize::MAX,
    );
    writeln!(
        out,
        "{}",
        paint.bold(&format!(
            "{:<status_width$}  {:<16}  {:>9}  {:<agent_width$}  {:<project_width$}  {:<id_width$}  FIRST PROMPT",
            "STATUS", "MODIFIED", "SIZE", "AGENT", "PROJECT", "SESSION"
        ))
    )?;
    for (f, words) in found.iter().zip(&statuses) {
        let text = terminal::pad(words, status_width);
        let status = match f.status {
            "new" | "grown" | "rewritten" | "outdated" => paint.yellow(&text),
            _ => paint.green(&text),
        };
        let project = terminal::path_tail(&f.project, PROJECT_COLUMNS);
        writeln!(
            out,
            "{status}  {:<16}  {:>9}  {}  {}  {}  {}",
            terminal::local_time(f.modified),
            terminal::human_size(f.bytes),
            terminal::cell(f.agent, agent_width),
            terminal::pad(&project, project_width),
            paint.cyan(&terminal::cell(&f.session_id, id_width)),
            // A dim placeholder, as `list` shows a session without one, where the file was
            // read as far as one would be; an empty cell where no one was looked for.
            match &f.first_prompt {
                FirstPrompt::Typed(p) => format!("\"{}\"", terminal::one_line(p, 50)),
                FirstPrompt::None => paint.dim("(no prompt)"),
                FirstPrompt::Unknown => String::new(),
            },
        )?;
    }
    out.flush()?;
    Ok(exit::OK)
}

/// `path` as one line shows it: escaped as a hostile character is (`\u000a`), a newline
/// included, which a folder's name may hold and which would start a line of its own.
fn path_in_a_line(path: &Path) -> String {
    let mut shown = String::new();
    for c in path.to_string_lossy().chars() {
        if c == '\n' {
            crate::model::text::push_escaped(&mut shown, c);
        } else {
            shown.push(c);
        }
    }
    escape(&shown).into_owned()
}
