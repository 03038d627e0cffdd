//! `record -- <command>`: put agent-strace between an MCP client and a stdio MCP server.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Args;

use super::Globals;
use super::env_millis::millis_from_env;
use super::globals::PrivacyArgs;
use crate::capture::guard::Guard;
use crate::capture::proxy::enforce::Enforcer;
use crate::capture::proxy::mcp::McpRecorder;
use crate::capture::proxy::stdio::{Relayed, StopSignals, relay};
use crate::capture::remote::{NotTaken, Said, Shipper};
use crate::capture::sink::Sink;
use crate::error::{Error, ErrorKind};

/// Record an MCP server's stdio session: runs the server and relays its traffic unchanged
///
/// Put it in front of the server's command in any MCP client's config. What passes is never
/// changed; every message is recorded (tool calls and results linked by JSON-RPC id, with their
/// durations). The server's stderr passes through, and record exits with the server's code:
/// 127 when its command is not found, 126 when it is found but cannot be run.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace record --name fs -- npx -y @modelcontextprotocol/server-filesystem /tmp\n  In an MCP client config:\n    \"command\": \"agent-strace\",\n    \"args\": [\"record\", \"--name\", \"fs\", \"--\", \"npx\", \"-y\", \"@modelcontextprotocol/server-filesystem\", \"/tmp\"]"
)]
pub(crate) struct RecordArgs {
    /// A name for the server in listings [default: the command's name]
    #[arg(long, value_name = "LABEL")]
    name: Option<String>,
    #[command(flatten)]
    privacy: PrivacyArgs,
    /// Enforce this policy file: a tools/call that violates it is answered with a JSON-RPC
    /// error naming the rule, recorded, and never reaches the server
    #[arg(long, value_name = "FILE")]
    policy: Option<std::path::PathBuf>,
    /// The MCP server's command and its arguments
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// The sink a capturing command writes through, or the exit code after saying which pattern
/// is wrong.
pub(super) fn sink(privacy: &PrivacyArgs) -> Result<Sink, ExitCode> {
    privacy
        .resolve()
        .map(|privacy| {
            super::output::scrub_proxy_warnings(&privacy);
            Sink::new(privacy)
        })
        .map_err(|message| super::output::fail(&Error::usage(message)))
}

/// The policy `--policy` names, ready to enforce; a policy that cannot be used stops the
/// command before the server starts (one line and the exit code).
pub(crate) fn enforcer(file: Option<&std::path::Path>) -> Result<Option<Enforcer>, ExitCode> {
    let Some(file) = file else {
        return Ok(None);
    };
    let in_force = super::policy::InForce::load(Some(file))
        .map_err(|e| super::output::fail(&Error::from(e)))?;
    let cwd = std::env::current_dir()
        .ok()
        .map(|d| d.to_string_lossy().into_owned());
    Ok(Some(Enforcer {
        guard: Guard {
            roots: in_force.roots(),
            file: in_force.shown().unwrap_or_default(),
            policy: in_force.policy,
            launch: None,
            home: None,
        },
        cwd,
        report: |message| super::output::proxy_warn("agent-strace", message),
    }))
}

/// How long a proxy's recorder gives the collector for one request (a batch, the session's
/// meta) by default, before it takes the collector for one that did not answer.
const COLLECTOR_BUDGET: std::time::Duration = std::time::Duration::from_millis(500);

/// The most `AGENT_STRACE_PROXY_WAIT_MS` may give a proxy's recorder: the relay never waits on
/// it, but the proxy's end waits for the session's last batch (sent twice at most), and a
/// client that kills a proxy slow to end loses that batch.
const COLLECTOR_BUDGET_MOST: u64 = 60_000;

/// [`COLLECTOR_BUDGET`], or the milliseconds `AGENT_STRACE_PROXY_WAIT_MS` names (1 to
/// [`COLLECTOR_BUDGET_MOST`]) for a collector slow to answer (far away, or on a loaded
/// machine), whose late answers sent batches again or to the local store; a value that does not
/// read leaves the default. Not the hooks' `AGENT_STRACE_ENDPOINT_WAIT_MS`: an agent waits for
/// each hook, so theirs is short and bounded at 5 s, and a value set for them would cut the
/// proxies' time.
fn collector_budget() -> std::time::Duration {
    millis_from_env(
        "AGENT_STRACE_PROXY_WAIT_MS",
        1..=COLLECTOR_BUDGET_MOST,
        COLLECTOR_BUDGET,
    )
}

/// The most `AGENT_STRACE_RECORD_PATIENCE_MS` may make `record`'s relay wait for its recorder.
const PATIENCE_MOST: u64 = 60_000;

/// How long `record`'s relay waits for room in the queue to its recorder before it relays
/// bytes unrecorded (counting the messages in them): 200 ms, or the milliseconds
/// `AGENT_STRACE_RECORD_PATIENCE_MS` names (0, never, to [`PATIENCE_MOST`]); a value that
/// does not read leaves the default.
fn recorder_patience() -> std::time::Duration {
    millis_from_env(
        "AGENT_STRACE_RECORD_PATIENCE_MS",
        0..=PATIENCE_MOST,
        crate::capture::proxy::queue::RECORDER_PATIENCE,
    )
}

/// The collector `AGENT_STRACE_ENDPOINT` names, as a proxy's recorder sends to it within
/// `budget` a request, and whether it said it skips the events it already holds.
struct Collector {
    endpoint: super::http::Endpoint,
    budget: std::time::Duration,
    skips_stored: std::cell::Cell<bool>,
}

impl Shipper for Collector {
    fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> Result<(), NotTaken> {
        let answer = self
            .endpoint
            .exchange_telling(path, content_type, body, self.budget)
            .map_err(|(why, reached)| NotTaken {
                // Sent, and no answer in time: it may be writing the batch.
                may_hold: reached,
                ..NotTaken::unanswered(why, self.skips_stored.get())
            })?;
        let said = Said::read(&answer.body);
        if said.skips_stored {
            self.skips_stored.set(true);
        }
        if (200..300).contains(&answer.status) && said.collector {
            return Ok(());
        }
        if (200..300).contains(&answer.status) {
            // Something else at the URL took the request and recorded nothing of it.
            return Err(NotTaken {
                why: super::http::no_collector(&answer),
                stored: 0,
                may_resend: self.skips_stored.get(),
                may_hold: false,
                answered: true,
            });
        }
        Err(NotTaken {
            why: super::http::refusal(&answer),
            stored: said.accepted.unwrap_or(0),
            may_resend: self.skips_stored.get(),
            // A failure that does not say what it stored (a proxy in front failed, or one
            // that asks for the batch later), as a hook's call answered so is kept.
            may_hold: said.accepted.is_none()
                && !crate::capture::resend::refused_for_good(answer.status),
            answered: true,
        })
    }
}

/// Starts recording a proxy's session: to the collector `AGENT_STRACE_ENDPOINT` names, else
/// (or when it cannot be reached) into `store`; its meta says who started it and where, as
/// `sink`'s privacy options let it.
pub(super) fn start_recorder(
    store: &crate::store::Store,
    session: &str,
    name: &str,
    command: &str,
    about: serde_json::Map<String, serde_json::Value>,
    sink: &Sink,
) -> Result<McpRecorder, crate::store::StoreError> {
    let endpoint = match super::http::Endpoint::from_env() {
        Some(Ok(endpoint)) => Some(endpoint),
        Some(Err(why)) => {
            super::output::proxy_warn("agent-strace", &format!("{why}; recording here"));
            None
        }
        None => None,
    };
    let at = sink.now();
    let started = match endpoint {
        Some(endpoint) => McpRecorder::start_remote(
            store,
            session,
            name,
            command,
            about,
            at,
            sink.clone(),
            Box::new(Collector {
                endpoint,
                budget: collector_budget(),
                skips_stored: std::cell::Cell::new(false),
            }),
        ),
        None => McpRecorder::start(store, session, name, command, about, at, sink.clone()),
    };
    started.map(|mut recorder| {
        // Who and where: known once the session exists; a meta that cannot take it now leaves
        // the session unattributed, nothing worse.
        let who = super::attribution::here(None);
        recorder.edit_meta(|meta| {
            who.apply(meta);
            sink.privacy().apply_meta(meta);
        });
        recorder
    })
}

pub(crate) fn run(args: &RecordArgs, globals: &Globals) -> ExitCode {
    // First of all: a signal to stop that comes while the session and the server start is
    // passed on to the server once it runs, never lost with the server running on.
    let stop_signals = StopSignals::catch();
    let command_line: Vec<String> = args
        .command
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let name = args.name.clone().unwrap_or_else(|| {
        std::path::Path::new(&command_line[0])
            .file_name()
            .map_or_else(
                || command_line[0].clone(),
                |n| n.to_string_lossy().into_owned(),
            )
    });
    let sink = match sink(&args.privacy) {
        Ok(sink) => sink,
        Err(code) => return code,
    };
    // Before the session is made: a policy that cannot be read is a usage error that leaves
    // nothing in the store (an empty session would show as running for ever).
    let enforcer = match enforcer(args.policy.as_deref()) {
        Ok(enforcer) => enforcer,
        Err(code) => return code,
    };
    let policy = enforcer.is_some();
    let store = super::stores::for_writing(globals.store_root());
    let session = uuid::Uuid::new_v4().to_string();
    // The command as a list of arguments, as the Python tool writes it.
    let mut about = serde_json::Map::new();
    let arguments: Vec<serde_json::Value> = command_line
        .iter()
        .map(|a| sink.text(a).into_owned().into())
        .collect();
    about.insert("command".into(), arguments.into());
    // A store that cannot be written must not keep the server from the client.
    let recorder = match start_recorder(
        &store,
        &session,
        &name,
        &sink.text(&command_line.join(" ")),
        about,
        &sink,
    ) {
        Ok(r) => Some(
            r.reporting_to(|message| super::output::proxy_warn("agent-strace record", message))
                .waited_for(recorder_patience()),
        ),
        Err(e) => {
            super::output::proxy_warn(
                "agent-strace record",
                &format!("not recording ({e}); relaying anyway"),
            );
            None
        }
    };
    // Started beside the relay, which never waits for it, once the relay has what it needs.
    let mut sending = None;
    let relayed = relay(
        &args.command,
        stop_signals,
        recorder,
        enforcer,
        sink.clock(),
        || {
            sending =
                super::send_kept::ProxySending::start(&store, &sink, &format!("record {session}"));
        },
    );
    // Not when the server is to take this process's place: it waits for nothing.
    if let (Some(sending), Ok(Relayed::Exited(_))) = (sending, &relayed) {
        sending.finish();
    }
    match relayed {
        Ok(Relayed::Exited(code)) => ExitCode::from(u8::try_from(code.clamp(0, 255)).unwrap_or(1)),
        Ok(Relayed::Refused(why)) if policy => super::output::fail(&Error::new(ErrorKind::Io, why)),
        Ok(Relayed::Refused(why)) => {
            // The server must still reach its client: it takes this process's place, unrecorded.
            super::output::proxy_warn("agent-strace record", &why);
            let e = run_in_place(&args.command);
            super::output::fail(&cannot_run(&sink.text(&command_line[0]), &e))
        }
        Err(e) => super::output::fail(&cannot_run(&sink.text(&command_line[0]), &e)),
    }
}

/// The error of a server's command that could not be run, as a shell tells them apart: not
/// found (127), or found and not run (126: not executable, a folder, permission denied).
fn cannot_run(program: &str, e: &std::io::Error) -> Error {
    let kind = if e.kind() == std::io::ErrorKind::NotFound {
        ErrorKind::CommandNotFound
    } else {
        ErrorKind::CommandNotExecutable
    };
    Error::new(kind, format!("cannot run {program}: {e}"))
}

/// Replaces this process with `command`, with our stdin, stdout and stderr; returns only
/// when it cannot be run.
fn run_in_place(command: &[std::ffi::OsString]) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    let Some((program, args)) = command.split_first() else {
        return std::io::Error::other("no command to run");
    };
    std::process::Command::new(program).args(args).exec()
}
