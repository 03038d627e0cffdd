//! `policy`: a policy generated from observed sessions, and `policy test` to dry-run one; and
//! the one way every command (audit, the hook, the MCP proxies) finds and reads the policy in
//! force.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args, Subcommand};

use super::Globals;
use super::args::FormatArg;
use super::globals::Format;
use super::output::{stdout, warn, warn_bad_lines};
use super::settings::{self, SettingsError};
use crate::analysis::audit::{AuditReport, Auditor};
use crate::capture::attribution::keys;
use crate::error::Error;
use crate::exit;
use crate::model::Agent;
use crate::model::policy::Policy;
use crate::model::policy::generate::{ABOVE, EVERY_FILE, Generator};
use crate::render::terminal::Painter;
use crate::store::{BadLine, Selector, Store};

/// `--policy FILE`, shared by the commands that judge calls.
#[derive(Debug, Clone, Args)]
pub(crate) struct PolicyArg {
    /// The policy file [default: the nearest .agent-scope.json in this folder or above]
    #[arg(long = "policy", value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
}

/// A policy in force: its rules, its file, and the folder its globs are relative to.
#[derive(Debug, Clone)]
pub(crate) struct InForce {
    pub(crate) policy: Policy,
    pub(crate) path: Option<PathBuf>,
}

impl InForce {
    /// The policy `explicit` names (which must exist), else the nearest `.agent-scope.json`
    /// from the current folder up, else none (sensitive files only). A file that does not
    /// parse is an error naming file, line and key: never a silent "allow everything".
    pub(crate) fn load(explicit: Option<&Path>) -> Result<InForce> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Ok(Self::find(&cwd, explicit)
            .map_err(|e| policy_error(&e))?
            .unwrap_or_else(|| InForce {
                policy: Policy::none(),
                path: None,
            }))
    }

    /// The policy for a project at `start`: `explicit`, else the nearest `.agent-scope.json`;
    /// `Ok(None)` when there is none.
    pub(crate) fn find(
        start: &Path,
        explicit: Option<&Path>,
    ) -> Result<Option<InForce>, SettingsError> {
        let Some(loaded) = settings::load::<settings::Policy>(start, explicit)? else {
            return Ok(None);
        };
        // Its folder anchors `./**` and `src/**`: `../pol/p.json` from `proj` is `/x/pol`.
        let path = settings::resolved(&loaded.path).unwrap_or(loaded.path);
        Ok(Some(InForce {
            policy: Policy::from_file(loaded.settings.to_model()),
            path: Some(path),
        }))
    }

    /// [`InForce::find`], with the command rules no command can meet kept (they meet none)
    /// rather than failing the file, and given back to be said: what the hook reads, so that
    /// the file's other rules still hold while `audit` and `policy test` refuse the file.
    pub(crate) fn find_keeping_refused(
        start: &Path,
        explicit: Option<&Path>,
    ) -> (
        Result<Option<InForce>, SettingsError>,
        Vec<settings::KeptRefused>,
    ) {
        settings::keeping_refused(|| Self::find(start, explicit))
    }

    /// The folders the policy's globs are relative to: the policy file's own.
    pub(crate) fn roots(&self) -> Vec<String> {
        self.path
            .as_deref()
            .and_then(Path::parent)
            .map(|d| vec![d.to_string_lossy().into_owned()])
            .unwrap_or_default()
    }

    pub(crate) fn shown(&self) -> Option<String> {
        self.path.as_ref().map(|p| p.display().to_string())
    }
}

/// A policy file that cannot be used, as an error with its kind: missing is usage, unreadable
/// is I/O, not fitting is input.
pub(crate) fn policy_error(e: &SettingsError) -> anyhow::Error {
    let err = e.reported(format!("the policy cannot be used: {e}"));
    let err = match e {
        SettingsError::Missing { .. } | SettingsError::Read { .. } => err,
        SettingsError::Refused { .. } => err.with_hint(
            "a policy that cannot be read is never taken to allow everything, nor passed over for one further up",
        ),
        SettingsError::Invalid { .. } => err.with_hint(
            "fix the file: a policy that does not parse is never taken to allow everything",
        ),
    };
    err.into()
}

/// One session audited under the policy in force.
pub(crate) fn audit_session(
    store: &Store,
    id: &str,
    in_force: &InForce,
    bad_lines: impl Fn(&[BadLine], u64),
) -> Result<AuditReport> {
    let meta = super::output::summary(store, id)?.meta;
    // The hook judged `~/` from its HOME, which a session does not record.
    let home = crate::analysis::audit::home_of(
        meta.attribution(keys::OS_USER),
        meta.attribution(keys::WORKING_DIR),
    );
    let mut auditor = Auditor::new(
        &in_force.policy,
        Agent::from_name(&meta.agent_name),
        in_force.roots(),
    )
    .with_home(home)
    .with_probe(crate::capture::guard::on_disk)
    .with_reader(crate::capture::guard::held)
    .with_start(meta.attribution(keys::WORKING_DIR).map(str::to_owned));
    let mut events = store.events(id)?;
    for event in events.by_ref() {
        auditor.observe(&event);
    }
    bad_lines(events.bad_lines(), events.bad_count());
    Ok(auditor.finish(id, in_force.shown()))
}

/// [`audit_session`] of `id` with its subagents' sessions (and theirs) in
/// [`AuditReport::subagents`]: a subagent's call that broke the policy broke its parent's audit,
/// as its cost is part of its parent's cost.
pub(crate) fn audit_tree(
    store: &Store,
    id: &str,
    in_force: &InForce,
    bad_lines: impl Fn(&[BadLine], u64) + Copy,
) -> Result<AuditReport> {
    let mut report = audit_session(store, id, in_force, bad_lines)?;
    let forest = super::listing::family(store, &[id])?.forest;
    for child in forest.descendants(id).into_iter().skip(1) {
        report
            .subagents
            .push(audit_session(store, &child, in_force, bad_lines)?);
    }
    Ok(report)
}

/// Generate `.agent-scope.json` from observed sessions (paths collapsed into globs), or dry-run
/// a policy against sessions with `policy test`
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  agent-strace policy                          # print a policy covering the last 10 sessions\n  agent-strace policy --last 20 --output .agent-scope.json\n  agent-strace policy test .agent-scope.json   # would the last sessions pass?"
)]
pub(crate) struct PolicyArgs {
    #[command(subcommand)]
    action: Option<PolicyAction>,
    /// How many of the latest sessions to learn from
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = super::args::whole::<usize>)]
    last: usize,
    /// Write the policy to this file instead of printing it
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum PolicyAction {
    Test(PolicyTestArgs),
}

/// Dry-run a policy against sessions: what `audit --policy FILE` would say of each, and exit
/// code 1 if any call would be a violation
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace policy test .agent-scope.json\n  agent-strace policy test draft.json 3f2a --format json"
)]
struct PolicyTestArgs {
    /// The policy file to try
    file: PathBuf,
    /// Session id or unique prefix [default: the latest --last sessions]
    #[arg(value_parser = super::args::session_name)]
    session: Option<String>,
    /// How many of the latest sessions to try it on, when no session is named
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = super::args::whole::<usize>)]
    last: usize,
    #[command(flatten)]
    format: FormatArg,
}

pub(crate) fn run(args: &PolicyArgs, globals: &Globals) -> Result<u8> {
    let store = Store::new(globals.store_root());
    match &args.action {
        Some(PolicyAction::Test(test)) => run_test(test, &store, globals),
        None => generate(args, &store),
    }
}

/// The latest `n` sessions, newest first, as `list` counts them: those heading a tree of
/// sessions, a subagent (a compaction agent with no calls) being part of its parent's session.
fn latest(store: &Store, n: usize) -> Result<Vec<String>> {
    super::stores::require_unnamed(store)?;
    let listing = super::listing::sessions(store)?;
    let heads = crate::analysis::tree::heads(&listing.sessions, &listing.left_out);
    Ok(listing
        .sessions
        .into_iter()
        .zip(heads)
        .filter(|(_, head)| *head)
        .take(n)
        .map(|(s, _)| s.summary.meta.session_id)
        .collect())
}

fn generate(args: &PolicyArgs, store: &Store) -> Result<u8> {
    super::output::output_folder(args.output.as_deref(), store.root())?;
    if args.last == 0 {
        return Err(super::output::usage("--last must be at least 1"));
    }
    let sessions = latest(store, args.last)?;
    if sessions.is_empty() {
        return Err(super::stores::no_sessions(store));
    }
    // Globs are relative to where the policy will live.
    let home = match &args.output {
        Some(file) => std::path::absolute(file)?
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        None => std::env::current_dir()?,
    };
    let none = Policy::none();
    let mut generator = Generator::default();
    // Each session with its subagents, as `audit` judges it.
    let roots: Vec<&str> = sessions.iter().map(String::as_str).collect();
    let forest = super::listing::family(store, &roots)?.forest;
    for id in roots.iter().flat_map(|root| forest.descendants(root)) {
        let meta = store.read_meta_to_read(&id).ok();
        let agent = Agent::from_name(meta.as_ref().map_or("", |m| m.agent_name.as_str()));
        let started_in = meta
            .as_ref()
            .and_then(|meta| meta.attribution(keys::WORKING_DIR).map(str::to_owned));
        let mut auditor = Auditor::new(&none, agent, vec![home.to_string_lossy().into_owned()])
            .with_start(started_in);
        let mut events = store.events(&id)?;
        for event in events.by_ref() {
            auditor.observe_learning(&event, &mut generator);
        }
        warn_bad_lines(events.bad_lines(), events.bad_count());
    }
    for command in &generator.left_out {
        warn(format_args!(
            "the sessions ran `{command}`, which no command rule can name (a rule is words \
             without quotes, backslashes or what joins commands); the policy leaves it out, so \
             it would be denied: allow it by hand with `*` for what a rule cannot hold"
        ));
    }
    for path in &generator.sensitive {
        warn(format_args!(
            "the sessions touched `{path}`, a sensitive file; the policy allows it by name: review it"
        ));
    }
    for path in &generator.climbed_out {
        warn(format_args!(
            "a session that recorded no working folder named `{path}`, above the folder it ran \
             in; where it is cannot be known, so the policy denies it (`{ABOVE}`, which names \
             only such paths): allow its folder by its absolute path where calls name their \
             folder"
        ));
    }
    if let Some(path) = &generator.whole_project_read {
        warn(format_args!(
            "a session read the project's whole folder (`{path}`: a search or a listing of it), \
             so the policy allows reading every file in it (`{EVERY_FILE}`); narrow it with \
             files.read.deny, or by hand"
        ));
    }
    let mut text = serde_json::to_string_pretty(&generator.finish())?;
    text.push('\n');
    if let Some(file) = &args.output {
        // Whole, and never through a link or into a FIFO already there.
        super::output::replace_file(file, &[text.as_bytes()], 0o666)?;
        super::output::to_stderr(format_args!(
            "Wrote {} from {}.\n",
            file.display(),
            crate::render::terminal::count(sessions.len() as u64, "session")
        ));
    } else {
        // Through the escaping writer, as all output: the paths and commands a session recorded
        // hold no character that acts on the terminal or hides there, and a JSON escape reads
        // back as the same text. The file keeps them as they are.
        let mut out = stdout(false);
        out.write_all(text.as_bytes())?;
        out.flush()?;
    }
    Ok(exit::OK)
}

fn run_test(args: &PolicyTestArgs, store: &Store, globals: &Globals) -> Result<u8> {
    let in_force = InForce::load(Some(&args.file))?;
    // A session is tested with its subagents, as `audit` judges it, whether named or among
    // the latest.
    let ids: Vec<String> = match &args.session {
        Some(id) => {
            let id = crate::cli::stores::select_in(store, &Selector::from_option(Some(id)))?;
            let report = audit_tree(store, &id, &in_force, warn_bad_lines)?;
            return print_tested(&[report], args, globals);
        }
        // As `policy --last 0` is: it tested one session, as if 1 were asked for.
        None if args.last == 0 => {
            return Err(super::output::usage("--last must be at least 1"));
        }
        None => latest(store, args.last)?,
    };
    if ids.is_empty() {
        return Err(Error::usage("no sessions to test the policy on").into());
    }
    let mut reports = Vec::new();
    for id in &ids {
        reports.push(audit_tree(store, id, &in_force, warn_bad_lines)?);
    }
    print_tested(&reports, args, globals)
}

/// `policy test`'s reports, and exit code 1 when a call of one would break the policy.
fn print_tested(reports: &[AuditReport], args: &PolicyTestArgs, globals: &Globals) -> Result<u8> {
    let mut out = stdout(globals.colour());
    match args.format.format {
        Format::Json => crate::render::json::write(&mut out, &reports)?,
        Format::Text => {
            let paint = Painter::new(globals.colour());
            for r in reports {
                super::audit::text(&mut out, r, paint)?;
            }
            let failing = reports.iter().filter(|r| r.violated()).count();
            writeln!(
                out,
                "{} of {} would pass.",
                reports.len() - failing,
                crate::render::terminal::count(reports.len() as u64, "session")
            )?;
        }
    }
    out.flush()?;
    Ok(if reports.iter().any(AuditReport::violated) {
        exit::FINDINGS
    } else {
        exit::OK
    })
}
