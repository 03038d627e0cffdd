//! `hook <event>`: records one Claude Code hook event. The hot path.
//!
//! Whatever happens, the hook exits 0 and prints nothing on stdout: Claude Code adds what some
//! hooks print to the model's context, and a tracer must neither change what the agent sees nor
//! stop it. What went wrong goes to `hook-errors.log` in the store.

use std::io::Read;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;

use super::Globals;
use crate::capture::hooks::{self, HookPayload, RecordOptions};
use crate::store::Store;

/// Record one Claude Code hook event read from stdin (Claude Code runs this; see `setup`)
///
/// Events: session-start, session-end, user-prompt, pre-tool, post-tool, post-tool-failure,
/// stop, subagent-start, subagent-stop, notification, pre-compact, post-compact,
/// permission-request; any other name records the payload's `hook_event_name` as it is.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  echo '{\"session_id\":\"abc\",\"hook_event_name\":\"UserPromptSubmit\",\"prompt\":\"hi\"}' \\\n    | agent-strace hook user-prompt"
)]
pub(crate) struct HookArgs {
    /// The hook event (Claude Code's name or ours: `PreToolUse` or `pre-tool`)
    event: String,
    /// Replace secrets with [REDACTED] before writing (also: AGENT_STRACE_REDACT=1)
    #[arg(long)]
    redact: bool,
}

/// Stdin beyond this is not read: no real payload comes near it, and a runaway writer must not
/// make the hook hold gigabytes.
const STDIN_LIMIT: u64 = 64 * 1024 * 1024;

pub(crate) fn run(args: &HookArgs, globals: &Globals) -> ExitCode {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    // A panic must not print a backtrace into the agent's terminal: keep it for the log.
    panic::set_hook(Box::new(|_| {}));
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| record(args, globals, now)));
    let failure = match outcome {
        Ok(Ok(())) => None,
        Ok(Err((store, message))) => Some((store, message)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(ToString::to_string)
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Some((None, format!("internal error: {what}")))
        }
    };
    if let Some((store, message)) = failure {
        let store = store.unwrap_or_else(|| Store::new(globals.hook_root(None, None)));
        let stamp = chrono::DateTime::from_timestamp(now as i64, 0)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default();
        if !store.log_hook_error(&format!("{stamp} hook {}: {message}", args.event)) {
            eprintln!("agent-strace hook {}: {message}", args.event);
        }
    }
    ExitCode::SUCCESS
}

fn record(args: &HookArgs, globals: &Globals, now: f64) -> Result<(), (Option<Store>, String)> {
    let mut stdin = Vec::with_capacity(8 * 1024);
    std::io::stdin()
        .take(STDIN_LIMIT)
        .read_to_end(&mut stdin)
        .map_err(|e| (None, format!("cannot read stdin: {e}")))?;
    let payload = HookPayload::parse(&args.event, &stdin).map_err(|e| (None, e.to_string()))?;
    let store = Store::new(globals.hook_root(payload.cwd.as_deref(), Some(&payload.session_id)));
    let options = RecordOptions {
        redact: args.redact || super::globals::redact_from_env(),
        now,
        new_id: new_event_id,
    };
    hooks::record(&store, &payload, &options).map_err(|e| (Some(store.clone()), e.to_string()))
}

/// 12 hex digits (48 random bits), as the Python tool's event ids. The generator is seeded once
/// per process from the system's randomness: an import writes hundreds of thousands of events,
/// and a system call for each would be a tenth of its time.
pub(crate) fn new_event_id() -> String {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(uuid::Uuid::new_v4().as_u64_pair().0);
    }
    // SplitMix64: every state gives a distinct, well-mixed output.
    let mut z = STATE.with(|s| {
        let next = s.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        s.set(next);
        next
    });
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    format!("{:012x}", z >> 16)
}

#[cfg(test)]
mod tests {
    #[test]
    fn event_ids_are_twelve_hex_digits_and_distinct() {
        let ids: std::collections::HashSet<String> =
            (0..100_000).map(|_| super::new_event_id()).collect();
        assert_eq!(ids.len(), 100_000);
        assert!(
            ids.iter()
                .all(|id| id.len() == 12 && id.chars().all(|c| c.is_ascii_hexdigit()))
        );
    }
}
