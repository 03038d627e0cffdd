//! The command line: global flags, the subcommands, and the one dispatch `match`.
//!
//! # Architecture
//! One file per subcommand, each with its `Args` (whose doc comment is the help text) and a
//! `run` function. [`globals`] holds the flags every command shares and resolves the store's
//! location; [`output`] is where commands print, and how errors become one line and an exit
//! code.

mod agent_hooks;
mod agent_logs;
mod annotate;
mod args;
mod attribution;
mod audit;
mod budget_report;
mod claude_release;
mod compare;
mod cost;
mod dashboard;
mod diff;
mod drift;
mod env_millis;
mod eval;
mod explain;
mod export;
mod export_anon;
mod export_langfuse;
mod export_lines;
mod export_metrics;
mod forward;
mod globals;
mod hook;
mod hook_lenient;
mod hook_stdin;
mod http;
mod import;
mod inspect;
mod lint;
mod list;
mod listing;
mod local_day;
mod log_folder;
mod lookup;
mod mcp;
mod optimize;
mod output;
mod placement;
mod policy;
mod record;
mod record_http;
mod replay;
mod retention;
mod retention_log;
mod sample;
mod send_kept;
mod server;
pub mod settings;
mod settings_file;
mod setup;
mod setup_agents;
mod setup_layers;
mod setup_off;
mod setup_otel;
mod setup_ours;
mod setup_token;
mod share;
mod show;
mod sql;
mod standup;
mod stats;
mod stores;
mod token_budget;
mod watch;
mod why;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

pub use globals::Globals;

/// What `--version` prints after the name: the version, and the formats of what it writes.
static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{} (store format {}, index format {}.{})",
        env!("CARGO_PKG_VERSION"),
        crate::store::STORE_FORMAT,
        crate::store::index::INDEX_FORMAT,
        crate::model::summary::SUMMARY_VERSION
    )
});

/// strace for AI coding agents: record what an agent did, then replay, inspect and measure it.
#[derive(Debug, Parser)]
#[command(name = "agent-strace", version = VERSION.as_str(), about, max_term_width = 100)]
#[command(
    after_help = "Examples:\n  agent-strace setup --write      # record Claude Code sessions in this project\n  agent-strace list               # the sessions recorded here\n  agent-strace replay             # the story of the latest session"
)]
pub struct Cli {
    #[command(flatten)]
    globals: Globals,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Hook(hook::HookArgs),
    Setup(setup::SetupArgs),
    Record(record::RecordArgs),
    RecordHttp(record_http::RecordHttpArgs),
    Import(import::ImportArgs),
    List(list::ListArgs),
    Replay(replay::ReplayArgs),
    Share(share::ShareArgs),
    Inspect(inspect::InspectArgs),
    Show(show::ShowArgs),
    Stats(stats::StatsArgs),
    Explain(explain::ExplainArgs),
    Cost(cost::CostArgs),
    TokenBudget(token_budget::TokenBudgetArgs),
    Standup(standup::StandupArgs),
    BudgetReport(budget_report::BudgetReportArgs),
    Sql(sql::SqlArgs),
    Watch(watch::WatchArgs),
    Lint(lint::LintArgs),
    Audit(audit::AuditArgs),
    Policy(policy::PolicyArgs),
    Diff(diff::DiffArgs),
    Compare(compare::CompareArgs),
    Why(why::WhyArgs),
    Annotate(annotate::AnnotateArgs),
    Retention(retention::RetentionArgs),
    Optimize(optimize::OptimizeArgs),
    Sample(sample::SampleArgs),
    Eval(eval::EvalArgs),
    Drift(drift::DriftArgs),
    Export(export::ExportArgs),
    Server(server::ServerArgs),
    SendKept(send_kept::SendKeptArgs),
    Dashboard(dashboard::DashboardArgs),
    Mcp(mcp::McpArgs),
}

/// A hook's command line, parsed without the rest of the CLI.
///
/// Every hook is a process of its own that the agent waits for, and building the whole command
/// (every subcommand's arguments) is a measurable part of its start-up. This parser knows the
/// global flags and `hook` only, from the same definitions as [`Cli`], so a command line it
/// takes means what [`Cli`] would make of it. Anything else it declines (another subcommand,
/// `--help`, `--version`, a mistake), and [`Cli`] parses it again, so help, versions and error
/// messages are the whole parser's.
#[derive(Debug, Parser)]
#[command(name = "agent-strace")]
struct HookLine {
    #[command(flatten)]
    globals: Globals,
    #[command(subcommand)]
    command: HookOnly,
}

#[derive(Debug, Subcommand)]
enum HookOnly {
    Hook(hook::HookArgs),
}

impl HookLine {
    /// The hook's arguments, when `args` is a hook's command line this parser takes.
    fn parse(args: &[OsString]) -> Option<HookLine> {
        if !args.iter().skip(1).any(|a| a == "hook") {
            return None;
        }
        HookLine::try_parse_from(args).ok()
    }
}

/// Whether `hook` is the subcommand `args` name (the first word that is neither a flag nor a
/// global flag's value). A flag this version does not know may take a value: a word right
/// after one is taken as its value unless it names a subcommand, so that a newer global flag
/// with a value (`--new value hook pre-tool`) still makes a hook's line.
fn names_hook(args: &[OsString]) -> bool {
    let mut words = args.iter().skip(1);
    let mut after_unknown = false;
    while let Some(word) = words.next() {
        match word.to_str() {
            Some("--trace-dir" | "--color") => {
                words.next();
                after_unknown = false;
            }
            Some(flag) if flag.starts_with('-') => {
                let known = [
                    "--trace-dir=",
                    "--color=",
                    "--help",
                    "-h",
                    "--version",
                    "-V",
                ]
                .iter()
                .any(|k| flag.starts_with(k));
                after_unknown = !known && !flag.contains('=');
            }
            Some("hook") => return true,
            Some(word) if after_unknown && !is_subcommand(word) => after_unknown = false,
            _ => return false,
        }
    }
    false
}

/// Whether `word` names one of the CLI's subcommands.
fn is_subcommand(word: &str) -> bool {
    word == "help"
        || Cli::command()
            .get_subcommands()
            .any(|c| c.get_name() == word || c.get_all_aliases().any(|a| a == word))
}

/// Runs the command line and returns the process's exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    ignore_file_size_signal();
    let args: Vec<OsString> = args.into_iter().collect();
    // The hook is the hot path and must never fail the agent: it is dispatched before anything
    // else is set up and handles every error itself.
    if let Some(line) = HookLine::parse(&args) {
        let HookOnly::Hook(hook_args) = &line.command;
        return hook::run(hook_args, &line.globals);
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err) if err.use_stderr() && names_hook(&args) && !std::io::stdin().is_terminal() => {
            return hook::unreadable_line(&err.to_string(), &args);
        }
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                crate::exit::USAGE
            } else {
                crate::exit::OK
            });
        }
    };
    // A hook's command line the short parser did not take (`--help`, a mistake) is the whole
    // parser's to answer; one it took is never here.
    if let Command::Hook(args) = &cli.command {
        return hook::run(args, &cli.globals);
    }
    // A workspace no store can have is said before anything is read or recorded.
    if let Err(why) = globals::workspace() {
        return output::fail(&crate::error::Error::usage(why));
    }
    // The proxy owns stdin and stdout for the whole session and exits with the server's code.
    if let Command::Record(args) = &cli.command {
        return record::run(args, &cli.globals);
    }
    if let Command::RecordHttp(args) = &cli.command {
        return record_http::run(args, &cli.globals);
    }
    let result = match cli.command {
        Command::Hook(_) | Command::Record(_) | Command::RecordHttp(_) => {
            unreachable!("dispatched above")
        }
        Command::Setup(args) => setup::run(&args, &cli.globals),
        Command::Import(args) => import::run(&args, &cli.globals),
        Command::List(args) => list::run(&args, &cli.globals),
        Command::Replay(args) => replay::run(&args, &cli.globals),
        Command::Share(args) => share::run(&args, &cli.globals),
        Command::Inspect(args) => inspect::run(&args, &cli.globals),
        Command::Show(args) => show::run(&args, &cli.globals),
        Command::Stats(args) => stats::run(&args, &cli.globals),
        Command::Explain(args) => explain::run(&args, &cli.globals),
        Command::Cost(args) => cost::run(&args, &cli.globals),
        Command::TokenBudget(args) => token_budget::run(&args, &cli.globals),
        Command::Standup(args) => standup::run(&args, &cli.globals),
        Command::BudgetReport(args) => budget_report::run(&args, &cli.globals),
        Command::Sql(args) => sql::run(&args, &cli.globals),
        Command::Watch(args) => watch::run(&args, &cli.globals),
        Command::Lint(args) => lint::run(&args, &cli.globals),
        Command::Audit(args) => audit::run(&args, &cli.globals),
        Command::Policy(args) => policy::run(&args, &cli.globals),
        Command::Diff(args) => diff::run(&args, &cli.globals),
        Command::Compare(args) => compare::run(&args, &cli.globals),
        Command::Why(args) => why::run(&args, &cli.globals),
        Command::Annotate(args) => annotate::run(&args, &cli.globals),
        Command::Retention(args) => retention::run(&args, &cli.globals),
        Command::Optimize(args) => optimize::run(&args, &cli.globals),
        Command::Sample(args) => sample::run(&args, &cli.globals),
        Command::Eval(args) => eval::run(&args, &cli.globals),
        Command::Drift(args) => drift::run(&args, &cli.globals),
        Command::Export(args) => export::run(&args, &cli.globals),
        Command::Server(args) => server::run(&args, &cli.globals),
        Command::SendKept(args) => send_kept::run(&args, &cli.globals),
        Command::Dashboard(args) => dashboard::run(&args, &cli.globals),
        Command::Mcp(args) => mcp::run(&args, &cli.globals),
    };
    output::finish(result)
}

/// Past a file size limit (`ulimit -f`) the kernel sends SIGXFSZ, whose default action kills
/// the process: a hook would die mid-write and the agent see it fail. With a handler in place
/// the write fails with EFBIG instead, and every writer treats that like a full disk: the
/// write is lost, the error logged, the hook still exits 0. The handler only sets a flag
/// nobody reads (signal-hook's safe registration; Rust cannot set SIG_IGN without `unsafe`).
fn ignore_file_size_signal() {
    static RAISED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let _ = signal_hook::flag::register(signal_hook::consts::SIGXFSZ, &RAISED);
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        super::Cli::command().debug_assert();
    }

    /// The hook's own parser must read a hook's command line as the whole CLI does: the same
    /// flags, values and defaults, wherever the global flags stand.
    #[test]
    fn the_hook_parser_reads_what_the_whole_cli_reads() {
        super::HookLine::command().debug_assert();
        for line in [
            "agent-strace hook pre-tool",
            "agent-strace hook PreToolUse --agent cursor",
            "agent-strace hook pre-tool --trace-dir /tmp/x --color never",
            "agent-strace --trace-dir=/tmp/x hook --policy p.json stop",
            "agent-strace --color always hook --redact user-prompt",
            "agent-strace hook --no-redact --mask post-tool",
            "agent-strace hook --redact-pattern ACME-[0-9]+ --redact-pattern x pre-tool",
        ] {
            let args: Vec<std::ffi::OsString> = line.split(' ').map(Into::into).collect();
            let short = super::HookLine::parse(&args).expect(line);
            let whole = <super::Cli as clap::Parser>::try_parse_from(&args).expect(line);
            let super::HookOnly::Hook(short_args) = &short.command;
            let super::Command::Hook(whole_args) = &whole.command else {
                panic!("{line}: not a hook");
            };
            assert_eq!(
                format!("{short_args:?}"),
                format!("{whole_args:?}"),
                "{line}"
            );
            assert_eq!(
                format!("{:?}", short.globals),
                format!("{:?}", whole.globals),
                "{line}"
            );
        }
        for line in [
            "agent-strace hook --help",
            "agent-strace hook --version",
            "agent-strace hook",
            "agent-strace list --trace-dir hook",
        ] {
            let args: Vec<std::ffi::OsString> = line.split(' ').map(Into::into).collect();
            assert!(super::HookLine::parse(&args).is_none(), "{line}");
        }
    }

    /// A hook's line with a global flag this version does not know, with or without a value,
    /// is still a hook's; a word that names another subcommand is that one's.
    #[test]
    fn a_hook_line_is_told_past_unknown_flags() {
        let names = |line: &str| {
            let args: Vec<std::ffi::OsString> = line.split(' ').map(Into::into).collect();
            super::names_hook(&args)
        };
        for line in [
            "agent-strace --new value hook pre-tool",
            "agent-strace --new --trace-dir /t hook pre-tool",
            "agent-strace --new=value hook",
            "agent-strace hook --new value pre-tool",
        ] {
            assert!(names(line), "{line}");
        }
        for line in [
            "agent-strace --new list hook",
            "agent-strace list --trace-dir hook",
            "agent-strace --trace-dir=x value hook",
            "agent-strace",
        ] {
            assert!(!names(line), "{line}");
        }
    }

    #[test]
    fn every_subcommand_help_shows_an_example() {
        let cli = super::Cli::command();
        for sub in cli.get_subcommands() {
            let help = sub
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            assert!(
                help.contains("agent-strace"),
                "{} has no example",
                sub.get_name()
            );
        }
    }
}
