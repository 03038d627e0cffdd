//! `hook <event>`: records one hook event of a coding agent (Claude Code, Cursor, Gemini CLI,
//! Codex, Copilot CLI, VS Code). The hot path.
//!
//! Whatever happens, the hook exits 0 and prints nothing unless the recorder's outcome says so:
//! Claude Code adds what some hooks print to the model's context, and a tracer must neither
//! change what the agent sees nor stop it. What went wrong goes to `hook-errors.log` in the
//! store.

use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

use bytes::Bytes;
use clap::Args;

use super::Globals;
use super::globals::PrivacyArgs;
use super::http::Endpoint;
use crate::capture::attribution::{self, Attribution};
use crate::capture::guard::{Denial, Guard};
use crate::capture::hooks::{self, HookEvent, LateAnswer, Outcome};
use crate::capture::remote::{HookCall, Unsent};
use crate::capture::resend::{self, SPOOL_BOUND, SPOOL_KEEP, refused_for_good};
use crate::capture::sink::Sink;
use crate::model::{Agent, deep_json};
use crate::store::Store;

/// Record one hook event read from stdin (Claude Code, Cursor, Gemini CLI, Codex, Copilot CLI
/// and VS Code run this; see `setup --agent`)
///
/// Events: session-start, session-end, user-prompt, pre-tool, post-tool, post-tool-failure,
/// stop, stop-failure, subagent-start, subagent-stop, notification, pre-compact, post-compact,
/// permission-request, permission-denied, skill-shell-command, interrupt, or the agent's own
/// event name (BeforeTool, preToolUse …); the payload's own event name wins. The agent is the one --agent names, else it is told by the payload and
/// the agent's environment; a policy's denial is printed in that agent's own words.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  echo '{\"session_id\":\"abc\",\"hook_event_name\":\"UserPromptSubmit\",\"prompt\":\"hi\"}' \\\n    | agent-strace hook user-prompt"
)]
pub(crate) struct HookArgs {
    /// The hook event (the agent's name or ours: `PreToolUse` or `pre-tool`)
    event: String,
    #[command(flatten)]
    privacy: PrivacyArgs,
    /// Enforce this policy file on pre-tool and permission-request events [default: the nearest
    /// .agent-scope.json from the agent's folder up, if any]
    #[arg(long, value_name = "FILE")]
    policy: Option<std::path::PathBuf>,
    /// The agent whose own hook config runs this command (setup writes it there) [default: told
    /// by the payload and the agent's environment]
    #[arg(long, value_name = "AGENT", value_parser = hook_agent)]
    agent: Option<Agent>,
    /// Internal: run by a session-end hook, after the agent's session has ended, to record
    /// the last answer the agent had not written yet (see [`follow_late_answer`]).
    #[arg(long, hide = true)]
    late_answer: bool,
    /// Set when the command line was read leniently (see `super::hook_lenient`).
    #[arg(skip)]
    lenient: Option<Leniency>,
}

/// What a leniently read command line left out, and the line as read (for the follower).
#[derive(Debug, Clone)]
struct Leniency {
    /// One sentence for the log.
    note: String,
    argv: Vec<std::ffi::OsString>,
}

/// How long a follower looks for an answer the session's end did not find.
const LATE_ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The agents whose hooks `hook --agent` reads.
const HOOK_AGENTS: [Agent; 6] = [
    Agent::ClaudeCode,
    Agent::Cursor,
    Agent::GeminiCli,
    Agent::Codex,
    Agent::Copilot,
    Agent::VsCode,
];

fn hook_agent(name: &str) -> Result<Agent, String> {
    HOOK_AGENTS
        .into_iter()
        .find(|agent| agent.name() == name || Agent::from_name(name) == *agent)
        .ok_or_else(|| {
            let names: Vec<&str> = HOOK_AGENTS.iter().map(|a| a.name()).collect();
            format!("expected one of {}", names.join(", "))
        })
}

/// What the command line and the environment say about the agent running this hook.
fn signals(args: &HookArgs) -> hooks::Signals {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    hooks::Signals {
        declared: args.agent,
        cursor: set("CURSOR_VERSION"),
        gemini: set("GEMINI_SESSION_ID"),
        copilot: std::env::var_os("COPILOT_CLI").is_some_and(|v| v == "1"),
    }
}

/// Whether the agent must hear nothing of the hook's own failures, even when the store's log
/// cannot take them: Gemini CLI shows a hook's stderr to the user when its stdout is empty
/// (docs/agents.md §3.3).
fn silent_on_failure(args: &HookArgs) -> bool {
    let signals = signals(args);
    signals.declared == Some(Agent::GeminiCli) || (signals.declared.is_none() && signals.gemini)
}

/// Stdin beyond this is not read: no real payload comes near it, and a runaway writer must not
/// make the hook hold gigabytes.
const STDIN_LIMIT: u64 = 64 * 1024 * 1024;

pub(crate) fn run(args: &HookArgs, globals: &Globals) -> ExitCode {
    // A panic must not print a backtrace into the agent's terminal: keep it for the log.
    panic::set_hook(Box::new(|_| {}));
    // With AGENT_STRACE_ENDPOINT the event goes to the collector, and to the store here only
    // when the collector cannot take it within the budget.
    let endpoint = super::http::Endpoint::from_env();
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        record(args, globals, endpoint.as_ref())
    }));
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
                Some((None, Said::from(format!("internal error: {what}")))),
            )
        }
    };
    if let Some((store, mut said)) = failure {
        // Logged by `record` once it knew the store; else said here, with the failure.
        if store.is_none()
            && let Some(lenient) = &args.lenient
        {
            said.why = format!("{}; {}", said.why, lenient.note);
        }
        let fallback = || super::stores::for_writing(globals.hook_root(None, None));
        let stamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
        let text = said.scrubbed(args);
        let line = format!("{stamp} {text}");
        // A project's store that cannot be written: the store a hook with no folder writes to
        // may take the line (and the call it may carry), which nothing else would keep for
        // an agent that must hear nothing.
        let logged = match store {
            Some(store) => store.log_hook_error(&line) || fallback().log_hook_error(&line),
            None => fallback().log_hook_error(&line),
        };
        if !logged && !silent_on_failure(args) {
            hook_stderr(&format!("agent-strace {text}"));
        }
    }
    answer(agent, &outcome)
}

/// A hook's command line that does not parse: a flag or an agent that a newer `setup` wrote
/// into settings an older binary now reads. Every agent takes a failing hook (exit 2 above
/// all) as "block" or "stop", and the call runs either way, so the hook does what it still
/// can: the line is read without what this version does not know (`super::hook_lenient`), and
/// the event judged and recorded as usual, with one line in the log saying what was left out.
/// A line that names no event cannot run: stdin is read (the agent is still writing the
/// payload), and the log, in the store the event's own would be, says why, and that the
/// policy was not enforced when one was named or is found. Only a person typing the line
/// (stdin a terminal) gets clap's usage error.
pub(crate) fn unreadable_line(error: &str, argv: &[std::ffi::OsString]) -> ExitCode {
    // clap's message on one line: what is wrong, without its tips and usage.
    let why = error
        .lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with("Usage:"))
        .filter(|line| !line.is_empty() && !line.starts_with("tip:"))
        .collect::<Vec<_>>()
        .join(" ");
    let why = why.trim_start_matches("error: ");
    let lenient = match super::hook_lenient::read(argv) {
        Some(lenient) if !lenient.event_missing => lenient,
        cannot_run => return unrunnable_line(why, argv, cannot_run.as_ref()),
    };
    let super::HookOnly::Hook(mut args) = lenient.line.command;
    args.lenient = Some(Leniency {
        note: format!(
            "its command line does not read in full ({why}); agent-strace {} ignored what it does not know: {}",
            env!("CARGO_PKG_VERSION"),
            lenient.ignored.join(", ")
        ),
        argv: lenient.argv.iter().skip(1).cloned().collect(),
    });
    run(&args, &lenient.line.globals)
}

/// A hook's command line that names no event, read leniently as far as it goes (`lenient`):
/// stdin is read, and the log line goes to the store the event's own would be.
fn unrunnable_line(
    why: &str,
    argv: &[std::ffi::OsString],
    lenient: Option<&super::hook_lenient::Lenient>,
) -> ExitCode {
    let stdin = super::hook_stdin::read(STDIN_LIMIT).unwrap_or_default();
    let (cwd, session) = where_from(&stdin);
    let default = Globals {
        trace_dir: None,
        color: super::globals::ColorChoice::Never,
    };
    let globals = lenient.map_or(&default, |l| &l.line.globals);
    let store = super::stores::for_writing(globals.hook_root(cwd.as_deref(), session.as_deref()));
    let named = match lenient {
        Some(lenient) => lenient.hook().policy.is_some(),
        None => argv
            .iter()
            .any(|a| a == "--policy" || a.to_string_lossy().starts_with("--policy=")),
    };
    let start = cwd
        .as_deref()
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::current_dir().ok());
    let policy = if named || policy_found(start) {
        "; POLICY NOT ENFORCED: the call runs unjudged until the line is fixed"
    } else {
        ""
    };
    let stamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let missing = if lenient.is_some_and(|l| l.event_missing) && !why.contains("<EVENT>") {
        "; it names no <EVENT>"
    } else {
        ""
    };
    // Scrubbed as the line's privacy flags say, as far as they were read: clap quotes what
    // it could not read, which may be a key.
    let privacy = lenient.map_or_else(
        || super::globals::PrivacyArgs::unset().resolve_for_log(),
        |l| l.hook().privacy.resolve_for_log(),
    );
    let text = privacy
        .apply_str(&format!(
            "hook: its command line does not read ({why}){missing}; nothing recorded{policy}"
        ))
        .into_owned();
    if !store.log_hook_error(&format!("{stamp} {text}")) {
        hook_stderr(&format!("agent-strace {text}"));
    }
    ExitCode::SUCCESS
}

/// Whether a policy file is found from `start` for a call the hook could not judge; one that
/// does not parse or cannot be read counts, as it would be in force once mended.
fn policy_found(start: Option<std::path::PathBuf>) -> bool {
    start.is_some_and(|start| !matches!(super::policy::InForce::find(&start, None), Ok(None)))
}

/// What the log line of a payload too big to read, or whose call cannot be read, adds when a
/// policy would have judged the call it may name: one named with `--policy`, or one found from
/// `folder`, the payload's when it names one; else from the folder the agent was started in
/// (`CLAUDE_PROJECT_DIR`), else the hook's own, where its log line goes too. The event is the
/// line's (`post-tool` asks about no call to come); the payload's own name, which wins when it
/// is read, may be in the part not read.
fn unjudged_policy(args: &HookArgs, folder: Option<&str>) -> &'static str {
    if HookEvent::from_arg(&args.event).is_some_and(|event| !event.asks_before_a_call()) {
        return "";
    }
    let start = folder
        .map(std::path::PathBuf::from)
        .or_else(|| launch().map(std::path::PathBuf::from))
        .or_else(|| std::env::current_dir().ok());
    if args.policy.is_some() || policy_found(start) {
        "; POLICY NOT ENFORCED: a call it names runs unjudged"
    } else {
        ""
    }
}

/// The folder and session a payload names, for the store its event's log line goes to: read
/// as a payload of whichever agent, else as JSON with Claude Code's or VS Code's names.
fn where_from(stdin: &[u8]) -> (Option<String>, Option<String>) {
    if let Ok(read) = hooks::read_hook("", stdin, &hooks::Signals::default()) {
        return (read.payload.cwd, Some(read.payload.session_id));
    }
    let value: serde_json::Value = deep_json::from_slice(stdin).unwrap_or_default();
    let text = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| value.get(k).and_then(serde_json::Value::as_str))
            .map(str::to_owned)
    };
    (text(&["cwd"]), text(&["session_id", "sessionId"]))
}

/// Why a hook recorded nothing: the store its log line goes to, when known, and what it says.
type Failure = (Option<Store>, Said);

/// What a line of the hook's log says. It is scrubbed with the hook's privacy as it is written
/// ([`Said::scrubbed`]): the log is kept beside the sessions, and what it quotes (the payload's
/// session id, the command line, the event's name, a path, the collector's URL) can hold a key.
struct Said {
    why: String,
    /// The call the hook could not record, as the collector's `/hooks` takes it: scrubbed
    /// value by value as it was made ([`HookCall::new`]), and not again as text, which a
    /// `--redact-pattern` or `--mask` could make JSON no more.
    call: Option<String>,
}

impl From<String> for Said {
    fn from(why: String) -> Said {
        Said { why, call: None }
    }
}

impl Said {
    /// The line without its time: `hook <event>: ` and what it says, scrubbed.
    fn scrubbed(&self, args: &HookArgs) -> String {
        let privacy = args.privacy.resolve_for_log();
        let mut text = privacy
            .apply_str(&format!("hook {}: {}", args.event, self.why))
            .into_owned();
        if let Some(call) = &self.call {
            text.push_str(", and follows as the collector's /hooks takes it: ");
            text.push_str(call);
        }
        text
    }
}

/// `endpoint`: the collector the environment names, if any, or why it cannot be used (logged
/// in the store the event then goes to).
fn record(
    args: &HookArgs,
    globals: &Globals,
    endpoint: Option<&Result<Endpoint, String>>,
) -> Result<(Agent, Outcome), Failure> {
    // One byte past the limit says the payload was cut, which read whole as JSON would say
    // only that it ends too soon. Such a payload is not judged either: a policy's verdict on a
    // call depends on all of its input (a shell line's last word can name the file it denies),
    // which would have to be held whole, and a model's tool input is far below the limit. The
    // call is allowed, as a payload that is not JSON is, and the log says the policy was not
    // enforced.
    let stdin = super::hook_stdin::read(STDIN_LIMIT + 1).map_err(|e| {
        (
            None,
            Said::from(format!(
                "cannot read stdin: {e}: nothing recorded{}",
                unjudged_policy(args, None)
            )),
        )
    })?;
    if stdin.len() as u64 > STDIN_LIMIT {
        return Err((
            None,
            Said::from(format!(
                "stdin holds more than {} MiB, more than any hook payload: nothing recorded{}",
                STDIN_LIMIT >> 20,
                unjudged_policy(args, None)
            )),
        ));
    }
    let signals = signals(args);
    let read = match hooks::read_hook(&args.event, &stdin, &signals) {
        Ok(read) => read,
        Err(e) => return judge_unrecordable(args, globals, &stdin, &signals, &e),
    };
    // Cursor, VS Code and Copilot CLI also run Claude Code's hooks: where the agent has hooks of
    // its own, they record the event and this run is a duplicate, recorded by neither.
    let duplicate = read.duplicate_unless_alone(&signals).is_some_and(|agent| {
        super::agent_hooks::own_hooks_installed(agent, read.payload.cwd.as_deref())
    });
    let mut payload = read.payload;
    payload.launch = launch().or(payload.launch.take());
    let privacy = args.privacy.resolve();
    // Before the session is looked up: one whose id holds a secret is stored under another.
    if let Ok(privacy) = &privacy {
        payload.scrub_session_id(privacy);
    }
    // The store is catalogued when this hook makes it (the project's first event), never after.
    let store = super::stores::for_writing(
        globals.hook_root(payload.cwd.as_deref(), Some(&payload.session_id)),
    );
    if let Some(lenient) = &args.lenient {
        log(args, &store, &lenient.note);
    }
    let endpoint = match endpoint {
        Some(Ok(endpoint)) => Some(endpoint),
        Some(Err(why)) => {
            log(args, &store, &format!("{why}; recording here"));
            None
        }
        None => None,
    };
    // A pattern that does not compile must not let through what it was meant to keep off disk:
    // nothing is recorded, and the log says why.
    let denial = denial(args, &payload, &store);
    // A duplicate is still judged: the agent's own hooks may not cover this event, or run
    // without the policy this line names (`--policy`), and what the policy stops stays stopped.
    if duplicate {
        return Ok((payload.agent, hooks::outcome(&payload, denial.as_ref())));
    }
    let privacy = match privacy {
        Ok(privacy) => privacy,
        Err(message) if denial.is_some() => {
            log(args, &store, &message);
            return Ok((payload.agent, hooks::outcome(&payload, denial.as_ref())));
        }
        Err(message) => return Err((Some(store.clone()), Said::from(message))),
    };
    // A denial stands even when recording it fails: the store's trouble must not let through
    // what the policy stops (nor block what it allows).
    let attribution = (payload.event == HookEvent::SessionStart).then(|| attribution(&payload));
    let sink = Sink::new(privacy);
    if args.late_answer
        && let Some(endpoint) = endpoint
    {
        return send_late_answer(endpoint, args, &stdin, &payload, &sink)
            .map(|()| (payload.agent, Outcome::Allow))
            .map_err(|why| (Some(store), Said::from(why)));
    }
    if args.late_answer {
        return match hooks::record_late_answer(&store, &payload, &sink, LATE_ANSWER_WAIT) {
            // A store removed in the meantime is not made again for a line in its log.
            Ok(LateAnswer::NotWritten) if store.has_session(&payload.session_id) => {
                Err((Some(store), Said::from(not_written(&payload.session_id))))
            }
            Ok(_) => Ok((payload.agent, Outcome::Allow)),
            Err(e) => Err((Some(store), Said::from(e.to_string()))),
        };
    }
    // The call as the collector, or the lines saying it was not recorded, carry it.
    let call = Call {
        args,
        stdin: &stdin,
        payload: &payload,
        sink: &sink,
        store: &store,
    };
    if let Some(endpoint) = endpoint {
        match call.to_collector(endpoint, denial.as_ref(), attribution.as_ref()) {
            Sent::Taken(answer) => {
                // The collector's session still waits for the answer the agent writes here
                // (it can only after a Copilot session's end).
                if hooks::may_leave_answer_pending(&payload) && collector_waits_for_answer(&answer)
                {
                    follow_late_answer(&stdin, &store, args);
                }
                return Ok((payload.agent, hooks::outcome(&payload, denial.as_ref())));
            }
            Sent::Kept => return Ok((payload.agent, hooks::outcome(&payload, denial.as_ref()))),
            Sent::NotTaken => {}
        }
    }
    let outcome = match hooks::record_attributed(
        &store,
        &mut payload,
        &sink,
        denial.as_ref(),
        attribution.as_ref(),
        hooks::Ran::Here,
    ) {
        Ok(recorded) => {
            if let Some(trouble) = &recorded.trouble {
                log(args, &store, trouble);
            }
            if recorded.answer_pending {
                follow_late_answer(&stdin, &store, args);
            }
            recorded.outcome
        }
        Err(e) => {
            // Made again, as recording took the tool's response out of the payload (the call
            // is made from stdin).
            let call = Call {
                args,
                stdin: &stdin,
                payload: &payload,
                sink: &sink,
                store: &store,
            };
            let said = call.unrecorded(&e, denial.as_ref(), attribution.as_ref());
            if denial.is_none() {
                return Err((Some(store.clone()), said));
            }
            log_said(args, &store, &said);
            hooks::outcome(&payload, denial.as_ref())
        }
    };
    Ok((payload.agent, outcome))
}

/// A payload that cannot be recorded (`error` says why): nothing is recorded, but a tool call
/// it still names is judged, so that a field sent wrong around the call (a session id that
/// cannot name a folder, a `cwd` or `timestamp` of the wrong type) never lets through what the
/// policy stops. The log says why nothing was recorded, and that the call was denied.
fn judge_unrecordable(
    args: &HookArgs,
    globals: &Globals,
    stdin: &[u8],
    signals: &hooks::Signals,
    error: &hooks::PayloadError,
) -> Result<(Agent, Outcome), Failure> {
    // A call that cannot be read (not JSON, no tool name) runs unjudged, and the log says so,
    // of the policy found from the payload's folder when it names one.
    let mut payload = hooks::read_for_judging(&args.event, stdin, signals)
        .filter(|payload| payload.tool.is_some())
        .ok_or_else(|| {
            let (folder, _) = where_from(stdin);
            let unjudged = unjudged_policy(args, folder.as_deref());
            (None, Said::from(format!("{error}{unjudged}")))
        })?;
    payload.launch = launch().or(payload.launch.take());
    // The log goes where it goes for any payload that cannot be read.
    let store = super::stores::for_writing(globals.hook_root(None, None));
    let Some(denial) = denial(args, &payload, &store) else {
        return Err((Some(store), Said::from(error.to_string())));
    };
    log(
        args,
        &store,
        &format!("{error}; nothing recorded, and the call it names denied by the policy"),
    );
    Ok((payload.agent, hooks::outcome(&payload, Some(&denial))))
}

/// Starts this hook again, detached, with `--late-answer`: Copilot writes its last answer
/// behind its hooks, sometimes only once they have returned, and a session that has ended
/// would otherwise keep only where the answer is. The follower gets the same payload and
/// settings, looks for the answer for [`LATE_ANSWER_WAIT`] and records it; the agent waits
/// for neither (its stdio is not ours, and it is in a process group of its own). Not started
/// when this hook was also given its stdout or stderr under another descriptor: the follower
/// would inherit that one, and the agent would wait for the follower to close it.
fn follow_late_answer(stdin: &[u8], store: &Store, args: &HookArgs) {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    if let Some(fd) = inherited_descriptor() {
        log(
            args,
            store,
            &format!(
                "not waiting for the session's last answer: descriptor {fd} is the hook's output again, and a follower would keep it open"
            ),
        );
        return;
    }
    // `--late-answer` goes right after `hook`, before any `--` that ends the options.
    // A line read leniently is passed on as read, so that the follower need not again.
    let mut argv: Vec<std::ffi::OsString> = match &args.lenient {
        Some(lenient) => lenient.argv.clone(),
        None => std::env::args_os().skip(1).collect(),
    };
    let at = argv
        .iter()
        .position(|a| a == "hook")
        .map_or(argv.len(), |i| i + 1);
    argv.insert(at, "--late-answer".into());
    let started = std::env::current_exe().and_then(|exe| {
        Command::new(exe)
            .args(argv)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
    });
    match started {
        // The follower reads its payload first thing: the write waits for nothing else.
        Ok(mut follower) => {
            if let Some(mut input) = follower.stdin.take() {
                let _ = input.write_all(stdin);
            }
        }
        Err(e) => log(
            args,
            store,
            &format!("cannot start the follower for a late answer: {e}"),
        ),
    }
}

/// A descriptor above stderr that a child would inherit (not close-on-exec) and that is the
/// pipe or file of this hook's stdout or stderr: the agent reads those until every writer has
/// closed them, so a follower holding one would hold the agent. (Other inherited descriptors,
/// a build tool's jobserver say, hold nobody up; nor does a regular file or `/dev/null`, which
/// nobody reads to its end: a hook whose output goes to `/dev/null`, started by a process that
/// left another descriptor of `/dev/null` open, as a daemon or `nohup` does, is followed.)
fn inherited_descriptor() -> Option<u32> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    /// `O_CLOEXEC` as /proc/<pid>/fdinfo's `flags:` shows it (octal).
    const CLOSE_ON_EXEC: u32 = 0o2_000_000;
    let null = std::fs::metadata("/dev/null").ok().map(|m| m.rdev());
    let identity = |fd: u32| {
        std::fs::metadata(format!("/proc/self/fd/{fd}"))
            .ok()
            .filter(|m| {
                let kind = m.file_type();
                kind.is_fifo()
                    || kind.is_socket()
                    || (kind.is_char_device() && Some(m.rdev()) != null)
            })
            .map(|m| (m.dev(), m.ino()))
    };
    let outputs = [identity(1), identity(2)];
    let fds = std::fs::read_dir("/proc/self/fd").ok()?;
    fds.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&fd| fd > 2)
        .find(|&fd| {
            let Ok(info) = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")) else {
                return false;
            };
            let inherited = info
                .lines()
                .find_map(|l| l.strip_prefix("flags:"))
                .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
                .is_some_and(|flags| flags & CLOSE_ON_EXEC == 0);
            inherited && identity(fd).is_some_and(|id| outputs.contains(&Some(id)))
        })
}

/// How long a hook may spend on the collector (client start, connection and answer) before it
/// records in the local store instead: the agent waits for the hook, and the whole hook is to
/// stay within 100 ms of what it costs without a collector (docs/deploy.md). The tests check
/// the time a hook gives the collector (its log names it), not the hook's own time, which a
/// loaded machine stretches.
const COLLECTOR_BUDGET: std::time::Duration = std::time::Duration::from_millis(60);

/// The most `AGENT_STRACE_ENDPOINT_WAIT_MS` may give a hook: an agent waits for each hook.
const COLLECTOR_BUDGET_MOST: u64 = 5_000;

/// [`COLLECTOR_BUDGET`], or the milliseconds `AGENT_STRACE_ENDPOINT_WAIT_MS` names (1 to
/// [`COLLECTOR_BUDGET_MOST`]) for a collector further away than a local network, where every
/// hook fell back to the local store; a value that does not read leaves the default.
fn collector_budget() -> std::time::Duration {
    super::env_millis::millis_from_env(
        "AGENT_STRACE_ENDPOINT_WAIT_MS",
        1..=COLLECTOR_BUDGET_MOST,
        COLLECTOR_BUDGET,
    )
}

/// The most kept calls one hook sends again or records: its own time stays bounded.
const SPOOL_BATCH: usize = 16;

/// What became of a hook's call to the collector.
enum Sent {
    /// The collector took it; its answer.
    Taken(Vec<u8>),
    /// Kept in the store's spool: the collector may hold it (no answer in time), or earlier
    /// calls still wait; a later hook sends it again.
    Kept,
    /// The collector surely does not hold it (logged): it is recorded here.
    NotTaken,
}

/// One hook's event on its way to the collector.
struct Call<'a> {
    args: &'a HookArgs,
    stdin: &'a [u8],
    payload: &'a hooks::HookPayload,
    sink: &'a Sink,
    store: &'a Store,
}

impl Call<'_> {
    /// Sends the hook event to the collector (see `capture/remote.rs`), after the calls kept
    /// from earlier hooks, all within the hook's budget. A call is in one store: the
    /// collector's, or kept to be sent again when the collector may hold it (no answer in
    /// time: it may be writing it), or recorded here when it surely does not.
    fn to_collector(
        &self,
        endpoint: &Endpoint,
        denial: Option<&crate::capture::guard::Denial>,
        attribution: Option<&Attribution>,
    ) -> Sent {
        let deadline = std::time::Instant::now() + collector_budget();
        let shown = super::http::shown_url(&endpoint.base);
        let Some(mut call) = HookCall::new(
            &self.args.event,
            self.stdin,
            self.payload,
            self.sink.privacy(),
            denial,
            attribution,
        ) else {
            self.log("the payload is not a JSON object; recorded here");
            return Sent::NotTaken;
        };
        let id = self.sink.new_id();
        call.call_id = Some(id.clone());
        call.at = Some(self.payload.stamp(self.sink.now()));
        // Shared by the send and the spool, never copied.
        let body = match serde_json::to_vec(&call) {
            Ok(body) => Bytes::from(body),
            Err(e) => {
                self.log(&format!("{e}; recorded here"));
                return Sent::NotTaken;
            }
        };
        // Never before the calls kept earlier: the collector records a session's calls in
        // the order they were made.
        let (waiting, more, stopped) = self.resend_kept(endpoint, deadline);
        // Whether the collector surely never saw the call: it may then be recorded here.
        let mut unseen = false;
        let why = if waiting > 0 {
            unseen = true;
            // A kept batch of a proxy's is one kept call, as `list` counts it.
            let (calls, wait) = if waiting == 1 {
                ("call", "waits")
            } else {
                ("calls", "wait")
            };
            let least = if more { "at least " } else { "" };
            format!("{stopped}, and {least}{waiting} earlier kept {calls} still {wait} for it")
        } else {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match endpoint.send("/hooks", "application/json", body.clone(), left) {
                Ok(answer) => return Sent::Taken(answer),
                Err(Unsent::NoAnswer(why)) => why,
                // A failure of the collector's (its store failed part way: a subagent's end
                // written, its parent's marker not) or a "later": it may hold part of the
                // call, and owes the rest, which the call sent again writes. Recorded here,
                // the call would be split across the two stores, or in both.
                Err(Unsent::Refused { why, status }) if !refused_for_good(status) => why,
                // Something that is no collector took it (a web server at the URL): kept for
                // the collector the hooks are to name, which surely never saw it, so it is
                // recorded here once kept past its time, never lost.
                Err(Unsent::NoCollector(why)) => {
                    unseen = true;
                    why
                }
                Err(not) => {
                    let what = if matches!(not, Unsent::Refused { .. }) {
                        "refused the call"
                    } else {
                        "not reached"
                    };
                    self.log(&format!("collector {shown} {what} ({not}); recorded here"));
                    return Sent::NotTaken;
                }
            }
        };
        let micros = resend::micros_now(self.sink);
        let keeping = self.store.spool(micros, &id, &body, unseen, SPOOL_BOUND);
        if keeping.cleared > 0 {
            self.log(&super::send_kept::leftovers_note(
                self.store,
                keeping.cleared,
            ));
        }
        match keeping.kept {
            Ok(()) => {
                self.log(&format!("collector {shown}: {why}; kept to send again"));
                Sent::Kept
            }
            Err(e) => {
                self.log(&format!(
                    "collector {shown}: {why}; cannot keep the call ({e}); recorded here"
                ));
                Sent::NotTaken
            }
        }
    }

    /// Sends the calls kept by earlier hooks again, oldest first, while the budget lasts; one
    /// the collector never saw kept past [`SPOOL_KEEP`], or one refused for good, is recorded
    /// here. How many still wait (of those listed; more may: the bool), and why the sending
    /// stopped.
    fn resend_kept(
        &self,
        endpoint: &Endpoint,
        deadline: std::time::Instant,
    ) -> (usize, bool, String) {
        let note = |message: &str| self.log(message);
        let done = resend::Resend {
            store: self.store,
            sink: self.sink,
            endpoint: Some(endpoint),
            deadline: Some(deadline),
            per_call: collector_budget(),
            keep: Some(SPOOL_KEEP),
            note: &note,
        }
        .batch(SPOOL_BATCH);
        let stopped = done.stopped.unwrap_or_else(|| "no time left".to_owned());
        (done.waiting, done.more && done.waiting > 0, stopped)
    }

    /// Why the call could not be recorded here (`error`), followed by the call as the
    /// collector's `/hooks` takes it: lost otherwise, it goes wherever the failure is said (the
    /// log, else stderr), as a proxy's last resort writes the events nobody took. Made only
    /// when recording failed.
    fn unrecorded(
        &self,
        error: &dyn std::fmt::Display,
        denial: Option<&crate::capture::guard::Denial>,
        attribution: Option<&Attribution>,
    ) -> Said {
        let call = HookCall::new(
            &self.args.event,
            self.stdin,
            self.payload,
            self.sink.privacy(),
            denial,
            attribution,
        )
        .map(|mut call| {
            call.at = Some(self.payload.stamp(self.sink.now()));
            call
        })
        .and_then(|call| serde_json::to_string(&call).ok());
        Said {
            why: format!("{error}; the call is not recorded"),
            call,
        }
    }

    fn log(&self, message: &str) {
        log(self.args, self.store, message);
    }
}

/// Whether the collector's answer to a hook says the session's last answer is still due.
fn collector_waits_for_answer(answer: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(answer)
        .ok()
        .and_then(|a| a.get("answer_pending").and_then(serde_json::Value::as_bool))
        .unwrap_or(false)
}

/// A follower for a collector's session: looks for the Copilot session's last answer in its
/// `events.jsonl` on this machine (where Copilot writes it: `$COPILOT_HOME`, else
/// `~/.copilot`, `session-state/<id>/`) for [`LATE_ANSWER_WAIT`], and sends what it finds.
fn send_late_answer(
    endpoint: &Endpoint,
    args: &HookArgs,
    stdin: &[u8],
    payload: &hooks::HookPayload,
    sink: &Sink,
) -> Result<(), String> {
    let home = super::agent_logs::places(super::agent_logs::LogAgent::Copilot)
        .into_iter()
        .next()
        .ok_or("no COPILOT_HOME or HOME to find the session's events in")?;
    if !crate::store::is_valid_session_id(&payload.session_id) {
        return Err(format!("{:?} is not a session id", payload.session_id));
    }
    let events = home
        .join("session-state")
        .join(&payload.session_id)
        .join("events.jsonl");
    let Some(text) = hooks::copilot_answer_when_written(&events, LATE_ANSWER_WAIT) else {
        return Err(not_written(&payload.session_id));
    };
    let mut call = HookCall::new(&args.event, stdin, payload, sink.privacy(), None, None)
        .ok_or("the payload is not a JSON object")?;
    call.late_answer = Some(sink.text(&text).into_owned());
    let body = serde_json::to_vec(&call).map_err(|e| e.to_string())?;
    endpoint
        .send(
            "/hooks",
            "application/json",
            Bytes::from(body),
            LATE_ANSWER_SEND_BUDGET,
        )
        .map(|_| ())
        .map_err(|not| {
            let shown = super::http::shown_url(&endpoint.base);
            let what = match not {
                Unsent::Refused { .. } => "refused the answer",
                Unsent::NoCollector(_) => "is no collector",
                Unsent::NotReached(_) | Unsent::NoAnswer(_) => "not reached",
            };
            format!("collector {shown} {what} ({not})")
        })
}

/// What a follower logs when the answer it waited for never came.
fn not_written(session: &str) -> String {
    format!(
        "the last answer of session {session} was not written within {} s",
        LATE_ANSWER_WAIT.as_secs()
    )
}

/// How long a follower gives the collector to take the answer it found: nobody waits on it.
const LATE_ANSWER_SEND_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// Who and where a session starts: what the payload says (folder, model, the agent's version),
/// what the environment says (the user; Copilot CLI's version), and the folder's git
/// repository, read from its files (capture/attribution.rs: no `git` is run).
fn attribution(payload: &hooks::HookPayload) -> Attribution {
    let text = |key: &str| {
        payload
            .fields
            .get(key)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let cwd = payload.cwd.clone().or_else(|| {
        std::env::current_dir()
            .ok()
            .map(|d| d.display().to_string())
    });
    let agent_version = text("cursor_version")
        .or_else(|| text("agent_version"))
        .or_else(|| match payload.agent {
            Agent::Copilot => var("COPILOT_CLI_BINARY_VERSION"),
            Agent::Cursor => var("CURSOR_VERSION"),
            _ => None,
        });
    Attribution {
        os_user: super::attribution::os_user(),
        hostname: attribution::hostname(),
        git: cwd
            .as_deref()
            .map(|dir| attribution::git(std::path::Path::new(dir)))
            .unwrap_or_default(),
        working_dir: cwd,
        agent: Some(payload.agent.name().to_owned()),
        agent_version,
        model: text("model"),
    }
}

fn log(args: &HookArgs, store: &Store, message: &str) {
    log_said(args, store, &Said::from(message.to_owned()));
}

/// Writes `said` to the store's log, scrubbed; else, for an agent that may hear it, to stderr.
fn log_said(args: &HookArgs, store: &Store, said: &Said) {
    let stamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let text = said.scrubbed(args);
    if !store.log_hook_error(&format!("{stamp} {text}")) && !silent_on_failure(args) {
        hook_stderr(&format!("agent-strace {text}"));
    }
}

/// How much of a line a hook writes to stderr: the agent shows or logs it, and a pipe takes
/// 64 KiB before the writer waits for its reader, which an agent may leave until the hook ends.
const STDERR_LINE: usize = 16 * 1024;

/// A hook's line on stderr, where its log could not take it: escaped, since it may quote the
/// command line or the payload, which can hold anything a terminal would act on; cut to
/// [`STDERR_LINE`], since the payload of a call it could not record may be megabytes (a tool's
/// whole output), which held the hook writing and flooded the agent's terminal.
fn hook_stderr(line: &str) {
    let shown = crate::render::escape::escape(line);
    if shown.len() <= STDERR_LINE {
        super::output::to_stderr(format_args!("{shown}\n"));
        return;
    }
    let mut cut = STDERR_LINE;
    while !shown.is_char_boundary(cut) {
        cut -= 1;
    }
    super::output::to_stderr(format_args!(
        "{} … [{} more bytes not shown]\n",
        &shown[..cut],
        shown.len() - cut
    ));
}

/// The denial of a call about to run (pre-tool, permission request, a skill's shell command) by
/// the policy in force, looked for from each folder the payload names for it
/// ([`hooks::HookPayload::policy_folders`]: a Cursor workspace's roots each have their own),
/// else from the hook's folder; other events never look for one.
fn denial(args: &HookArgs, payload: &hooks::HookPayload, store: &Store) -> Option<Denial> {
    if !payload.event.asks_before_a_call() {
        return None;
    }
    let mut starts: Vec<std::path::PathBuf> = (payload.policy_folders().into_iter())
        .map(std::path::PathBuf::from)
        .collect();
    if starts.is_empty() {
        starts.extend(std::env::current_dir().ok());
    }
    starts.iter().find_map(|start| {
        guard(args, payload, store, start).and_then(|g| hooks::judge(payload, &g))
    })
}

/// The policy in force for a call, found from `start`. A policy that cannot be used blocks
/// nothing, and says so in the log; a command rule no command can meet is said there too, and
/// the file's other rules hold.
fn guard(
    args: &HookArgs,
    payload: &hooks::HookPayload,
    store: &Store,
    start: &std::path::Path,
) -> Option<Guard> {
    let (found, refused) =
        super::policy::InForce::find_keeping_refused(start, args.policy.as_deref());
    if let (Ok(Some(in_force)), false) = (&found, refused.is_empty()) {
        let whys: Vec<&str> = refused.iter().map(|r| r.why.as_str()).collect();
        let message = format!(
            "{}: {} left out, the file's other rules are enforced: {}",
            in_force.shown().unwrap_or_default(),
            if refused.len() == 1 {
                "a command rule no command can meet is".to_owned()
            } else {
                format!("{} command rules no command can meet are", refused.len())
            },
            whys.join("; "),
        );
        // Every hook call reads the file and would say it again, a long line each call: it is
        // said once for the file as it is, and again once the file is changed.
        if store.first_time_said(said_key(in_force.path.as_deref(), &message)) {
            log(args, store, &message);
        }
    }
    match found {
        Ok(found) => found.map(|in_force| Guard {
            roots: in_force.roots(),
            file: in_force.shown().unwrap_or_default(),
            policy: in_force.policy,
            // Where Claude Code was started, which it tells its hooks: its Grep runs ripgrep
            // there, and ripgrep reads a glob naming a path from there.
            launch: payload.launch.clone(),
            home: std::env::var("HOME").ok().filter(|d| d.starts_with('/')),
        }),
        Err(e) => {
            // Said once for the file as it is, as a refused rule is: said on every call, the
            // line pushed the log's other lines out through its rotation.
            let message = format!("POLICY NOT ENFORCED, nothing is blocked until it is fixed: {e}");
            if store.first_time_said(said_key(Some(std::path::Path::new(e.file())), &message)) {
                log(args, store, &message);
            }
            None
        }
    }
}

/// What tells a line about the policy file at `path` from another: the line, and the file's
/// identity, size and time of change, so an edited file is a new one (one `stat`).
fn said_key(path: Option<&std::path::Path>, message: &str) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let hash = crate::model::hash::fnv1a(message.as_bytes());
    let Some(meta) = path.and_then(|p| std::fs::metadata(p).ok()) else {
        return hash;
    };
    let stamp = [
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.mtime().cast_unsigned(),
        meta.mtime_nsec().cast_unsigned(),
        meta.ctime().cast_unsigned(),
        meta.ctime_nsec().cast_unsigned(),
    ];
    stamp.iter().fold(hash, |hash, n| {
        crate::model::hash::fnv1a_from(hash, &n.to_le_bytes())
    })
}

/// The folder the agent was started in, as its hook's environment tells it: Claude Code sets
/// `CLAUDE_PROJECT_DIR`, and Gemini CLI and Copilot CLI set it too (docs/agents.md).
fn launch() -> Option<String> {
    std::env::var("CLAUDE_PROJECT_DIR")
        .ok()
        .filter(|d| d.starts_with('/'))
}

/// The one place an outcome reaches the agent, in the agent's own output format
/// ([`hooks::reply`]): what goes to stdout and stderr, and the exit code.
fn answer(agent: Agent, outcome: &Outcome) -> ExitCode {
    let reply = hooks::reply(agent, outcome);
    if let Some(text) = reply.stdout {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    }
    if let Some(text) = reply.stderr {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
    }
    ExitCode::from(reply.exit)
}
