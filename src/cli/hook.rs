//! `hook <event>`: records one hook event of a coding agent (Claude Code, VS Code). The hot path.
//!
//! Whatever happens, the hook exits 0 and prints nothing unless the recorder's outcome says so:
//! Claude Code adds what some hooks print to the model's context, and a tracer must neither
//! change what the agent sees nor stop it. What went wrong goes to `hook-errors.log` in the
//! store.

use std::io::{Read, Write};
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

use clap::Args;

use super::Globals;
use super::globals::PrivacyArgs;
use crate::capture::hooks::{self, Outcome};
use crate::capture::sink::Sink;
use crate::model::Agent;
use crate::store::Store;

/// Record one hook event read from stdin (Claude Code and VS Code run this; see `setup`)
///
/// Events: session-start, session-end, user-prompt, pre-tool, post-tool, post-tool-failure,
/// stop, subagent-start, subagent-stop, notification, pre-compact, post-compact,
/// permission-request; any other name records the payload's own event name as it is. The agent
/// is told by the payload: Claude Code's (session_id) or VS Code's (sessionId).
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  echo '{\"session_id\":\"abc\",\"hook_event_name\":\"UserPromptSubmit\",\"prompt\":\"hi\"}' \\\n    | agent-strace hook user-prompt"
)]
pub(crate) struct HookArgs {
    /// The hook event (the agent's name or ours: `PreToolUse` or `pre-tool`)
    event: String,
    #[command(flatten)]
    privacy: PrivacyArgs,
}

/// Stdin beyond this is not read: no real payload comes near it, and a runaway writer must not
/// make the hook hold gigabytes.
const STDIN_LIMIT: u64 = 64 * 1024 * 1024;

pub(crate) fn run(args: &HookArgs, globals: &Globals) -> ExitCode {
    // A panic must not print a backtrace into the agent's terminal: keep it for the log.
    panic::set_hook(Box::new(|_| {}));
    let result = panic::catch_unwind(AssertUnwindSafe(|| record(args, globals)));
    let (agent, outcome, failure) = match result {
        Ok(Ok((agent, outcome))) => (agent, outcome, None),
        Ok(Err((store, message))) => (Agent::Unknown, Outcome::Allow, Some((store, message))),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(ToString::to_string)
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            (
                Agent::Unknown,
                Outcome::Allow,
                Some((None, format!("internal error: {what}"))),
            )
        }
    };
    if let Some((store, message)) = failure {
        let store =
            store.unwrap_or_else(|| super::stores::for_writing(globals.hook_root(None, None)));
        let stamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
        if !store.log_hook_error(&format!("{stamp} hook {}: {message}", args.event)) {
            super::output::to_stderr(format_args!(
                "agent-strace hook {}: {message}\n",
                args.event
            ));
        }
    }
    answer(agent, &outcome)
}

type Failure = (Option<Store>, String);

fn record(args: &HookArgs, globals: &Globals) -> Result<(Agent, Outcome), Failure> {
    let mut stdin = Vec::with_capacity(8 * 1024);
    std::io::stdin()
        .take(STDIN_LIMIT)
        .read_to_end(&mut stdin)
        .map_err(|e| (None, format!("cannot read stdin: {e}")))?;
    let payload = hooks::read_payload(&args.event, &stdin).map_err(|e| (None, e.to_string()))?;
    // The store is catalogued when this hook makes it (the project's first event), never after.
    let store = super::stores::for_writing(
        globals.hook_root(payload.cwd.as_deref(), Some(&payload.session_id)),
    );
    // A pattern that does not compile must not let through what it was meant to keep off disk:
    // nothing is recorded, and the log says why.
    let privacy = args
        .privacy
        .resolve()
        .map_err(|message| (Some(store.clone()), message))?;
    let outcome = hooks::record(&store, &payload, &Sink::new(privacy))
        .map_err(|e| (Some(store.clone()), e.to_string()))?;
    Ok((payload.agent, outcome))
}

/// The one place an outcome reaches the agent, in the agent's own output format: what goes to
/// stdout and the exit code. Allowing is the same for every agent: print nothing, exit 0.
fn answer(agent: Agent, outcome: &Outcome) -> ExitCode {
    let (stdout, code): (Option<String>, u8) = match (agent, outcome) {
        (_, Outcome::Allow) => (None, crate::exit::OK),
    };
    if let Some(text) = stdout {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    }
    ExitCode::from(code)
}
