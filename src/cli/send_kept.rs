//! `send-kept`: sends now the hook calls a store keeps for the collector (its `.spool/`), which
//! otherwise wait for the next hook of that store; and [`Resend`] and [`refused_for_good`], the
//! sending and the reading of the collector's answers both share.
//!
//! A hook keeps a call when the collector may hold it, or part of it: no answer came in the
//! hook's time, or the collector failed (5xx) or said "later" (408, 429). Sent again, the
//! collector records what it does not hold yet (it knows a call by its `call_id`). The last
//! session of a project leaves its last calls kept until a hook runs there again; `list`
//! says how many wait, and this command sends them.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Result;
use bytes::Bytes;
use clap::Args;

use super::Globals;
use super::globals::PrivacyArgs;
use super::http::{Endpoint, Unsent};
use super::stores::ScopeArgs;
use crate::capture::hooks;
use crate::capture::remote::HookCall;
use crate::capture::sink::Sink;
use crate::error::Error;
use crate::exit;
use crate::store::Store;

/// Send the hook calls kept for the collector (AGENT_STRACE_ENDPOINT) now
///
/// A hook with AGENT_STRACE_ENDPOINT keeps a call in its store's .spool/ when the collector
/// may hold it, or part of it (no answer in time, a 5xx, a 408 or 429), and the next hook of
/// that store sends it again; a project's last session leaves its calls waiting. This sends
/// them, oldest first, each given up to 10 s; the collector records each call once, the part
/// it does not hold yet. A call the collector refuses for good (4xx) is recorded in the store
/// here, as a hook would; a refused token (401, 403) leaves every call kept. Exits 4 when
/// the collector leaves some waiting (not reached, or it failed); `list` says how many wait.
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
    let (mut waiting, mut strays) = (0, 0);
    for located in &stores {
        let count = located.store.spooled_count().unwrap_or_default();
        waiting += count.calls;
        strays += count.strays;
    }
    if strays > 0 {
        super::output::warn(stray_note(strays));
    }
    if waiting == 0 {
        let mut out = super::output::stdout(globals.colour());
        writeln!(out, "No hook calls wait for the collector.")?;
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
                calls(waiting)
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
    let (mut sent, mut recorded, mut left) = (0, 0, 0);
    let mut why = None;
    for located in &stores {
        let note = |message: &str| super::output::warn(message);
        let resend = Resend {
            store: &located.store,
            sink: &sink,
            endpoint: endpoint.as_ref(),
            deadline: None,
            per_call: PER_CALL,
            keep: None,
            note: &note,
        };
        // Bounded by what waited at the start: a call that cannot be taken out of the spool
        // once sent (its folder read-only) is not sent round and round.
        let rounds = waiting.div_ceil(BATCH) + 1;
        for round in 1..=rounds {
            let done = resend.batch(BATCH);
            sent += done.sent;
            recorded += done.recorded;
            if done.stopped.is_some() || done.waiting == 0 || round == rounds {
                left += done.waiting;
                why = why.or(done.stopped);
                break;
            }
        }
    }
    let mut out = super::output::stdout(globals.colour());
    if sent > 0 {
        writeln!(out, "Sent {} to the collector {shown}.", calls(sent))?;
    }
    if recorded > 0 && args.here {
        writeln!(
            out,
            "Recorded {} in this store, unsent (a call the collector held in part is now in both stores).",
            calls(recorded)
        )?;
    } else if recorded > 0 {
        writeln!(
            out,
            "Recorded {} in this store: the collector refuses them (requests it does not read).",
            calls(recorded)
        )?;
    }
    out.flush()?;
    if left > 0 {
        let why = why.unwrap_or_else(|| "they are still kept (see the warnings above)".to_owned());
        let whom = if args.here {
            "this store".to_owned()
        } else {
            format!("the collector {shown}")
        };
        return Err(
            Error::io(format!("{whom} left {} waiting: {why}", calls(left)))
                .with_hint("run `agent-strace send-kept` again once the collector takes them")
                .into(),
        );
    }
    Ok(exit::OK)
}

/// The warning that `strays` entries of a spool named as calls are none.
pub(crate) fn stray_note(strays: usize) -> String {
    let (entries, were) = if strays == 1 {
        ("1 entry".to_owned(), "was")
    } else {
        (format!("{strays} entries"), "were")
    };
    format!(
        "{entries} in .spool/ named as kept calls {were} not regular files and {were} left alone"
    )
}

/// `1 kept hook call`, `2 kept hook calls`.
fn calls(n: usize) -> String {
    if n == 1 {
        "1 kept hook call".to_owned()
    } else {
        format!("{n} kept hook calls")
    }
}

/// Sends a store's kept calls again, oldest first: a hook within what is left of its budget,
/// `send-kept` each within [`PER_CALL`].
pub(crate) struct Resend<'a> {
    pub(crate) store: &'a Store,
    /// Records a call here (one the collector refuses for good, or kept past `keep`).
    pub(crate) sink: &'a Sink,
    /// The collector; `None`: every call is recorded here unsent (`--here`).
    pub(crate) endpoint: Option<&'a Endpoint>,
    /// When sending stops; `None`: each call is given `per_call`.
    pub(crate) deadline: Option<Instant>,
    pub(crate) per_call: Duration,
    /// A call the collector surely never saw (never sent, or not reached) kept longer than
    /// this is recorded here unsent; `None`: every call is sent. One it may hold waits for it
    /// however long.
    pub(crate) keep: Option<Duration>,
    /// Where what happened is said (a hook's log, or stderr).
    pub(crate) note: &'a dyn Fn(&str),
}

/// What [`Resend::batch`] did.
pub(crate) struct Resent {
    /// Calls the collector took.
    pub(crate) sent: usize,
    /// Calls recorded here.
    pub(crate) recorded: usize,
    /// Calls still kept.
    pub(crate) waiting: usize,
    /// Why the sending stopped before the end of the batch, when the collector stopped it;
    /// `None` when the batch went through or the time ran out.
    pub(crate) stopped: Option<String>,
}

impl Resend<'_> {
    /// Sends the oldest `limit` kept calls (at most) while time lasts; with `keep`, the unseen
    /// calls kept longer are recorded here, up to `limit` more of them behind the first
    /// `limit`, whatever becomes of the sending.
    pub(crate) fn batch(&self, limit: usize) -> Resent {
        let mut done = Resent {
            sent: 0,
            recorded: 0,
            waiting: 0,
            stopped: None,
        };
        let now = micros_now(self.sink);
        let stale_before = self
            .keep
            .map(|keep| now.saturating_sub(u64::try_from(keep.as_micros()).unwrap_or(u64::MAX)));
        let kept = match self.store.spooled(limit, stale_before) {
            Ok(kept) => kept,
            Err(e) => {
                (self.note)(&format!(
                    "cannot read the calls kept for the collector: {e}"
                ));
                return done;
            }
        };
        let listed = kept.len();
        done.waiting = listed;
        // Once the collector fails or the time runs out, the calls it may hold wait; those
        // that may be recorded here still are.
        let mut sending = true;
        for call in kept {
            let endpoint = match self.endpoint {
                // Only a call the collector surely never saw is recorded here unsent.
                Some(endpoint)
                    if !(call.unseen && stale_before.is_some_and(|b| call.micros < b)) =>
                {
                    Some(endpoint)
                }
                Some(_) | None => None,
            };
            let left = match self.deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => self.per_call,
            };
            // Read only when there is time to send it: a collector that fails every call
            // costs a hook one kept call's reading, not a batch's.
            if endpoint.is_some() && (!sending || left.is_zero()) {
                sending = false;
                continue;
            }
            // Shared by the sends and the recording here, never copied.
            let body = match self.store.spooled_body(&call) {
                Ok(Some(body)) => Bytes::from(body),
                // Taken by another process since the listing.
                Ok(None) => {
                    done.waiting -= 1;
                    continue;
                }
                // Put in place of the call since the listing (a link, a runaway file): not
                // a call, and no reason to hold back the calls behind it.
                Err(e) => {
                    (self.note)(&format!("a kept call is passed over: {e}"));
                    done.waiting -= 1;
                    continue;
                }
            };
            if let Some(endpoint) = endpoint {
                // The mark comes off before the call is sent: a process that finds the call
                // kept past its time meanwhile (a hook, while `send-kept` waits for the
                // collector's answer) must not record it here as one the collector never saw.
                let unmarked = call.unseen
                    && match self.store.spool_seen(&call) {
                        Ok(true) => true,
                        // Taken by another process since the listing.
                        Ok(false) => {
                            done.waiting -= 1;
                            continue;
                        }
                        Err(e) => {
                            (self.note)(&format!("a kept call cannot be marked as sent: {e}"));
                            false
                        }
                    };
                // The collector surely did not take it: it may be recorded here in time again.
                let unsent = || {
                    if unmarked && let Err(e) = self.store.spool_unseen(&call) {
                        (self.note)(&format!("a kept call cannot be marked as unsent: {e}"));
                    }
                };
                match endpoint.send("/hooks", "application/json", body.clone(), left) {
                    Ok(_) => {
                        let _ = self.store.unspool_sent(&call);
                        done.waiting -= 1;
                        done.sent += 1;
                        continue;
                    }
                    // `send-kept` run without the hooks' token (or with another): the
                    // collector refuses the sender, not the call, which it may hold in part;
                    // recorded here, the call would be split across the two stores.
                    Err(Unsent::Refused { status, why })
                        if self.keep.is_none() && matches!(status, 401 | 403) =>
                    {
                        unsent();
                        done.stopped = Some(format!(
                            "{why} (the token is not the one the hooks sent with)"
                        ));
                        sending = false;
                        continue;
                    }
                    // A call the collector will never take (not a call it reads).
                    Err(Unsent::Refused { status, .. }) if refused_for_good(status) => {
                        if self.store.unspool_sent(&call).unwrap_or(false) {
                            self.record(&body, call.unseen);
                            done.recorded += 1;
                        }
                        done.waiting -= 1;
                        continue;
                    }
                    // It surely did not get the call this time: what it was stays.
                    Err(Unsent::NotReached(why)) => {
                        unsent();
                        done.stopped = Some(why);
                        sending = false;
                        continue;
                    }
                    // It may hold the call now, or part of it: never to be recorded here (the
                    // mark is off).
                    Err(not) => {
                        done.stopped = Some(not.to_string());
                        sending = false;
                        continue;
                    }
                }
            }
            if self.store.unspool(&call.name).unwrap_or(false) {
                self.record(&body, call.unseen);
                done.recorded += 1;
            }
            done.waiting -= 1;
        }
        if done.waiting == 0 && listed >= limit {
            done.waiting = self.store.spooled_count().map_or(0, |count| count.calls);
        }
        done
    }

    /// Records here a call kept for the collector, with the time it was made; `unseen`: the
    /// collector surely never saw it.
    fn record(&self, body: &[u8], unseen: bool) {
        let recorded = serde_json::from_slice::<HookCall>(body)
            .map_err(|e| e.to_string())
            .and_then(|call| {
                let payload = call.payload().map_err(|e| e.to_string())?;
                let sink = match call.call_id() {
                    Some(id) => self.sink.clone().with_first_id(id.to_owned()),
                    None => self.sink.clone(),
                };
                hooks::record_attributed(
                    self.store,
                    &payload,
                    &sink,
                    call.denial().as_ref(),
                    call.attribution().as_ref(),
                    hooks::Ran::Elsewhere,
                )
                .map_err(|e| e.to_string())
            });
        match recorded {
            Ok(_) if unseen => {
                (self.note)("a call kept for the collector, which never got it, is recorded here");
            }
            Ok(_) => (self.note)(
                "a call kept for the collector, not taken by it, is recorded here (the collector may hold it too)",
            ),
            Err(e) => (self.note)(&format!(
                "a call kept for the collector cannot be recorded here: {e}"
            )),
        }
    }
}

/// Whether a collector's answer `status` (not 2xx) says it refused the call for good, having
/// written none of it: a request it does not read (4xx, or a redirect it is not sent to). A
/// 5xx (its store failed, perhaps after part of the call was written; a proxy before it
/// failed) and 408 or 429 ("later") say the call is to be sent again.
pub(crate) fn refused_for_good(status: u16) -> bool {
    status < 500 && !matches!(status, 408 | 429)
}

/// Now by the sink's clock, the one the events are stamped with, in microseconds since the
/// epoch: a kept call's name and age.
pub(crate) fn micros_now(sink: &Sink) -> u64 {
    (sink.now() * 1e6).max(0.0).round() as u64
}
