//! `send-kept`: sends now the hook calls a store keeps for the collector (its `.spool/`), which
//! otherwise wait for the next hook or proxy of that store (the sending is [`Resend`]'s, which
//! hooks and proxies share: [`ProxySending`]), and says what became of them.
//!
//! A hook keeps a call when the collector may hold it, or part of it: no answer came in the
//! hook's time, or the collector failed (5xx) or said "later" (408, 429). Sent again, the
//! collector records what it does not hold yet (it knows a call by its `call_id`). The last
//! session of a project leaves its last calls kept until a hook runs there again; `list`
//! says how many wait, and this command sends them. A proxy's batch of events kept there
//! (`<micros>.<id>.batch`) goes with them, to `POST /events`.

use std::io::Write;
use std::time::Duration;

use anyhow::Result;
use clap::Args;

use super::Globals;
use super::globals::PrivacyArgs;
use super::http::Endpoint;
use super::stores::ScopeArgs;
use crate::capture::resend::{Collector, Resend};
use crate::capture::sink::Sink;
use crate::error::Error;
use crate::exit;
use crate::store::SpoolCount;

/// Send the hook calls and proxies' batches kept for the collector (AGENT_STRACE_ENDPOINT) now
///
/// A hook with AGENT_STRACE_ENDPOINT keeps a call in its store's .spool/ when the collector
/// may hold it, or part of it (no answer in time, a 5xx, a 408 or 429), and the next hook (or
/// proxy, from its start) of that store sends it again; a project's last session leaves its
/// calls waiting. A proxy
/// (record, record-http) keeps there, as one call, a batch of events the collector may hold at
/// the session's end. This sends them, oldest first, each given up to 10 s; the collector records each call once, the part
/// it does not hold yet. A call the collector refuses for good (4xx) is recorded in the store
/// here, as a hook would; a refused token (401, 403), or no collector's route at the URL (404,
/// 405, or a 2xx that is no collector's answer: a web server there), leaves every call kept.
/// Exits 4 when
/// calls still wait at the end, counted again: the collector left them (not reached, or it
/// failed), a hook kept one meanwhile, or another process was sending one; `list` says how
/// many wait.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  AGENT_STRACE_ENDPOINT=http://collector:4317 agent-strace send-kept\n  agent-strace send-kept --all-projects\n  agent-strace send-kept --here"
)]
pub(crate) struct SendKeptArgs {
    #[command(flatten)]
    scope: ScopeArgs,
    #[command(flatten)]
    privacy: PrivacyArgs,
    /// Send nothing: record every waiting call in this store, as the hook would have, and
    /// empty the spool (for a collector gone for good). A call the collector may hold in part
    /// (it failed or answered too late) can then be in both stores
    #[arg(long)]
    here: bool,
}

/// How long each call may take to reach the collector: nobody waits on this command as an
/// agent waits on a hook.
const PER_CALL: Duration = Duration::from_secs(10);

/// How many kept calls are read at once.
const BATCH: usize = 64;

pub(crate) fn run(args: &SendKeptArgs, globals: &Globals) -> Result<u8> {
    let stores = args.scope.stores(globals)?;
    let (mut waiting, mut waiting_batches, mut strays) = (0, 0, 0);
    // The calls each store holds at the start, which bound its sending.
    let mut held = Vec::with_capacity(stores.len());
    for located in &stores {
        // Calls a hook killed while writing them left under their temporary names: they hold
        // room in the spool's bound and are no calls.
        let cleared = located
            .store
            .spool_clear_leftovers(crate::capture::resend::SPOOL_KEEP)
            .unwrap_or(0);
        if cleared > 0 {
            super::output::warn(leftovers_note(&located.store, cleared));
        }
        let count = located.store.spooled_count().unwrap_or_default();
        if let Some(what) = count.not_a_folder {
            super::output::warn(not_a_folder_note(&located.store, what));
        }
        // Said at every run, nothing waiting or not: the one warning of the run that set them
        // aside was all a user heard of them.
        if count.set_aside > 0 {
            super::output::warn(set_aside_note(&located.store, &count));
        }
        waiting += count.calls;
        waiting_batches += count.batches;
        strays += count.strays;
        held.push(count.calls);
    }
    if strays > 0 {
        super::output::warn(stray_note(strays));
    }
    if waiting == 0 {
        let mut out = super::output::stdout(globals.colour());
        writeln!(
            out,
            "Nothing waits for the collector: no kept hook call, no kept proxy's batch of events."
        )?;
        out.flush()?;
        return Ok(exit::OK);
    }
    let endpoint = match Endpoint::from_env() {
        _ if args.here => None,
        Some(Ok(endpoint)) => Some(endpoint),
        Some(Err(why)) => return Err(Error::usage(why).into()),
        None => {
            return Err(Error::usage(format!(
                "AGENT_STRACE_ENDPOINT does not name the collector to send {} to",
                kept(waiting, waiting_batches)
            ))
            .with_hint("set AGENT_STRACE_ENDPOINT (and AGENT_STRACE_TOKEN) as the hooks had them, or record them here with --here")
            .into());
        }
    };
    let sink = Sink::new(args.privacy.resolve().map_err(Error::usage)?);
    let shown = endpoint
        .as_ref()
        .map(|endpoint| super::http::shown_url(&endpoint.base))
        .unwrap_or_default();
    let (mut sent, mut recorded, mut unreadable, mut batches_unreadable) = (0, 0, 0, 0);
    let (mut batches_sent, mut batches_recorded) = (0, 0);
    let mut why = None;
    let (mut stuck, mut unrecorded) = (0, 0);
    for (located, &held) in stores.iter().zip(&held) {
        if held == 0 {
            continue;
        }
        let note = |message: &str| super::output::warn(message);
        let done = Resend {
            store: &located.store,
            sink: &sink,
            endpoint: endpoint.as_ref().map(|e| e as &dyn Collector),
            deadline: None,
            per_call: PER_CALL,
            keep: None,
            note: &note,
        }
        .all(BATCH, held);
        sent += done.sent;
        recorded += done.recorded;
        unreadable += done.unreadable;
        batches_unreadable += done.batches_unreadable;
        batches_sent += done.batches_sent;
        batches_recorded += done.batches_recorded;
        why = why.or(done.stopped);
        stuck += done.stuck;
        unrecorded += done.unrecorded;
    }
    // Counted again: a hook may have kept a call meanwhile, and another sender put back one it
    // was sending; the sending's own view of what is left (of the calls it listed) misses them.
    let (left, left_batches) = stores
        .iter()
        .filter_map(|located| located.store.spooled_count().ok())
        .fold((0, 0), |(n, b), count| (n + count.calls, b + count.batches));
    let waits = if left == 1 { "waits" } else { "wait" };
    let mut out = super::output::stdout(globals.colour());
    if sent > 0 {
        writeln!(
            out,
            "Sent {} to the collector {shown}.",
            kept(sent, batches_sent)
        )?;
    }
    if recorded > 0 && args.here {
        writeln!(
            out,
            "Recorded {} in this store, unsent (a call the collector held in part is now in both stores).",
            kept(recorded, batches_recorded)
        )?;
    } else if recorded > 0 {
        writeln!(
            out,
            "Recorded {} in this store: the collector refuses them (requests it does not read).",
            kept(recorded, batches_recorded)
        )?;
    }
    out.flush()?;
    if left > 0 {
        let error = match why {
            Some(why) => Error::io(format!(
                "the collector {shown} left {} waiting: {why}",
                kept(left, left_batches)
            ))
            .with_hint("run `agent-strace send-kept` again once the collector takes them"),
            // Said once for each call it was (a warning above says why).
            None if stuck > 0 => Error::io(format!(
                "{} still {}: the collector took {stuck} of them, which cannot be taken out of the spool",
                kept(left, left_batches),
                waits,
            ))
            .with_hint("make the store's .spool/ writable, or the calls are sent again each time"),
            None if unrecorded > 0 => Error::io(format!(
                "{} still {}: {unrecorded} of them cannot be recorded in this store, and were put back (see the warnings above)",
                kept(left, left_batches),
                waits,
            ))
            .with_hint("free what keeps this store from recording them, then run this again"),
            None => Error::io(format!(
                "{} still {}: a hook kept {them}, or another process was sending {them}, meanwhile",
                kept(left, left_batches),
                waits,
                them = if left == 1 { "it" } else { "them" },
            ))
            .with_hint(if args.here {
                "run `agent-strace send-kept --here` again"
            } else {
                "run `agent-strace send-kept` again"
            }),
        };
        return Err(error.into());
    }
    if unreadable > 0 {
        return Err(Error::io(format!(
            "{} could not be recorded here and {} set aside in the spool (the warnings above name {} and say why)",
            kept(unreadable, batches_unreadable),
            if unreadable == 1 { "was" } else { "were" },
            if unreadable == 1 { "it" } else { "them" },
        ))
        .with_hint("look at them; nothing sends or records what is set aside")
        .into());
    }
    Ok(exit::OK)
}

/// How long a proxy sends, in the background, what its store kept for the collector.
const PROXY_SENDING: Duration = Duration::from_secs(10);

/// How long a proxy's end waits for that sending to finish: the traffic is over, and the
/// proxy's exit is held back no more than this.
const PROXY_END_WAIT: Duration = Duration::from_secs(2);

/// A proxy's sending of what its store keeps for the collector (hooks' calls, proxies'
/// batches), on a thread of its own from the session's start: a store used only by proxies
/// has no hook to send them, and they waited for `send-kept` for ever. The relay never waits
/// for it.
pub(crate) struct ProxySending {
    done: std::sync::mpsc::Receiver<()>,
}

impl ProxySending {
    /// Starts sending what `store` keeps to the collector `AGENT_STRACE_ENDPOINT` names, as a
    /// hook does, within [`PROXY_SENDING`]; said in the store's log as the proxy `who`. `None`
    /// when there is no collector, nothing waits, or the OS refuses a thread: they wait for
    /// the next sender, and a refusal is said in the store's log (the relay goes on).
    pub(crate) fn start(store: &crate::store::Store, sink: &Sink, who: &str) -> Option<Self> {
        let endpoint = Endpoint::from_env()?.ok()?;
        let waiting = store.spooled_count().ok()?.calls;
        if waiting == 0 {
            return None;
        }
        let (tell, done) = std::sync::mpsc::channel();
        let (sending_store, sending_sink, sender) = (store.clone(), sink.clone(), who.to_owned());
        let spawned = std::thread::Builder::new()
            .name("send-kept".into())
            .spawn(move || {
                // Scrubbed as the proxy's events are: what the log quotes (the collector's
                // URL, its answer) can hold a key.
                let note = |message: &str| {
                    let line = sending_sink
                        .privacy()
                        .apply_str(&format!("{sender}: {message}"))
                        .into_owned();
                    let _ = sending_store.log_hook_error(&line);
                };
                let sent = Resend {
                    store: &sending_store,
                    sink: &sending_sink,
                    endpoint: Some(&endpoint),
                    deadline: Some(std::time::Instant::now() + PROXY_SENDING),
                    per_call: PROXY_SENDING,
                    // Only sent: what the collector never saw is recorded here by a hook or
                    // `send-kept --here`, not by a proxy that may end mid-way.
                    keep: None,
                    note: &note,
                }
                .all(BATCH, waiting);
                if sent.sent > 0 {
                    note(&format!(
                        "sent {} to the collector",
                        kept(sent.sent, sent.batches_sent)
                    ));
                }
                let _ = tell.send(());
            });
        match spawned {
            Ok(_) => Some(ProxySending { done }),
            Err(e) => {
                let _ = store.log_hook_error(&sink.privacy().apply_str(&format!(
                    "{who}: cannot start a thread to send what this store keeps for the collector ({e}); it waits for the next hook, proxy or send-kept"
                )));
                None
            }
        }
    }

    /// At the proxy's end: waits for the sending at most [`PROXY_END_WAIT`]; what it had not
    /// sent by then waits in the spool, as it did.
    pub(crate) fn finish(self) {
        let _ = self.done.recv_timeout(PROXY_END_WAIT);
    }
}

/// The warning that `cleared` calls hooks were killed writing (left under their temporary
/// names, untouched for [`crate::capture::resend::SPOOL_KEEP`]) were removed from `store`'s spool.
pub(crate) fn leftovers_note(store: &crate::store::Store, cleared: usize) -> String {
    let calls = crate::model::text::count(cleared as u64, "call");
    let were = if cleared == 1 { "was" } else { "were" };
    format!(
        "removed {calls} from {} that {were} left half written by a killed hook (`.<name>.call.tmp`, untouched for {} minutes)",
        store.spool_path().display(),
        crate::capture::resend::SPOOL_KEEP.as_secs() / 60
    )
}

/// The warning that `strays` entries of a spool named as calls are none.
pub(crate) fn stray_note(strays: usize) -> String {
    let (entries, were) = if strays == 1 {
        ("1 entry".to_owned(), "was")
    } else {
        (format!("{strays} entries"), "were")
    };
    format!(
        "{entries} in .spool/ named as kept calls {were} not calls (a link, a FIFO, a folder, a file larger than any call) and {were} left alone"
    )
}

/// The warning that `store`'s spool holds hook calls and proxies' batches set aside as
/// unreadable (`count`), which no sender takes and which hold room in the spool's bound: only
/// a person can free it.
pub(crate) fn set_aside_note(store: &crate::store::Store, count: &SpoolCount) -> String {
    let n = count.set_aside;
    let batches = count.set_aside_batches.min(n);
    let (wait, them, they_count) = if n == 1 {
        ("waits", "it", "it counts")
    } else {
        ("wait", "them", "they count")
    };
    let batch = |n: usize| {
        if n == 1 {
            "1 proxy's batch of events".to_owned()
        } else {
            format!("{n} proxies' batches of events")
        }
    };
    let hook_calls = |n: usize| {
        if n == 1 {
            "1 hook call".to_owned()
        } else {
            format!("{n} hook calls")
        }
    };
    let (what, name) = match (n - batches, batches) {
        (0, batches) => (batch(batches), "<name>.batch.unreadable"),
        (hooks, 0) => (hook_calls(hooks), "<name>.call.unreadable"),
        (hooks, batches) => (
            format!("{} and {}", hook_calls(hooks), batch(batches)),
            "<name>.unreadable",
        ),
    };
    format!(
        "{what} set aside in {} as unreadable (`{name}`) {wait} for you: nothing sends or records {them}, and {they_count} in the spool's bound until removed; look at {them}, then delete {them}",
        store.spool_path().display()
    )
}

/// The warning that a store's `.spool` is `what` (a symbolic link, a file), not the folder a
/// hook makes.
pub(crate) fn not_a_folder_note(store: &crate::store::Store, what: &str) -> String {
    format!(
        "{} is {what}, not a folder agent-strace made; it was left alone and no kept call was read from it",
        store.spool_path().display()
    )
}

/// `n` kept calls of which `batches` are proxies' batches of events, as what they are: `2 kept
/// hook calls`, `1 kept proxy's batch of events`, `1 kept hook call and 1 kept proxy's batch of
/// events`.
fn kept(n: usize, batches: usize) -> String {
    let batch = |n: usize| {
        if n == 1 {
            "1 kept proxy's batch of events".to_owned()
        } else {
            format!("{n} kept proxies' batches of events")
        }
    };
    match (n - batches.min(n), batches) {
        (hooks, 0) => calls(hooks),
        (0, batches) => batch(batches),
        (hooks, batches) => format!("{} and {}", calls(hooks), batch(batches)),
    }
}

/// `1 kept hook call`, `2 kept hook calls`.
fn calls(n: usize) -> String {
    if n == 1 {
        "1 kept hook call".to_owned()
    } else {
        format!("{n} kept hook calls")
    }
}
