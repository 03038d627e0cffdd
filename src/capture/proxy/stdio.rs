//! The stdio proxy: the MCP server runs as a child; what the client writes goes to the child's
//! stdin and what the child writes goes to our stdout, byte for byte, each chunk as soon as it
//! is read. A copy of each chunk goes to the recorder thread, which finds the messages in it and
//! records them: the relay threads never look into the bytes, so recording never delays a
//! message however large it is, and nothing waits for the recorder: when it is too far behind,
//! the chunks it has no room for are relayed unrecorded and the messages in them counted
//! ([`super::queue`]). On Linux the relay moves the bytes with `splice(2)` and gives
//! the recorder its copy with `tee(2)` ([`super::splice`]), without copying them itself; where
//! the kernel cannot, or a policy reads the client's lines, it reads and writes.
//! Signals sent to the proxy are passed on to the server.
//!
//! With a policy in force ([`Enforcer`]) each of the client's messages is held until it is
//! whole and judged, in either framing ([`Gate`]): a `tools/call` the policy denies is answered
//! with an error, written between the server's messages, and never forwarded; every other
//! message goes on byte for byte as soon as it ends.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::WithOrigin;

use crate::capture::process::OwnChild;
use crate::threads::Reserved;

use super::enforce::Enforcer;
use super::framing::Framer;
use super::gate::{Act, Gate};
use super::mcp::{Direction, McpRecorder};
use super::queue::{self, Sender};
use super::recording::{self, Note};
use super::server_exit::ServerExit;

/// The most bytes waiting for the recorder; past it the relay passes bytes on unrecorded and
/// the recorder counts the messages lost in them.
const RECORD_QUEUE_BYTES: usize = 2 * 1024 * 1024;
/// The most a relay reads at once.
const CHUNK: usize = 64 * 1024;

/// Our stdout, shared by the server's relay and the answers to denied calls, which are written
/// only between the server's messages.
struct ClientOut {
    /// Where the server's messages end, in either framing.
    server: Framer,
    /// The last byte written ended a message: a message of ours may go now.
    at_boundary: bool,
    /// Answers waiting for the server's message in progress to end.
    waiting: Vec<Vec<u8>>,
}

impl ClientOut {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut out = io::stdout().lock();
        out.write_all(bytes)?;
        if !bytes.is_empty() {
            self.server.push(bytes, |_| {});
            self.at_boundary = self.server.between();
        }
        if self.at_boundary {
            for answer in self.waiting.drain(..) {
                out.write_all(&answer)?;
            }
        }
        out.flush()
    }

    fn answer(&mut self, bytes: Vec<u8>) -> io::Result<()> {
        if self.at_boundary {
            let mut out = io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()
        } else {
            self.waiting.push(bytes);
            Ok(())
        }
    }
}

/// How a relay ended.
#[derive(Debug)]
pub enum Relayed {
    /// The server ran and exited with this process exit code.
    Exited(i32),
    /// The OS refused a thread or the process the relay needs (a limit on processes or on
    /// memory), so nothing was relayed; why, in a sentence. The session (if recording) holds
    /// that as an error and has ended.
    Refused(String),
}

/// The threads a relay needs besides the calling one, started before the server is: a refused
/// thread must be known while the server can still be run another way.
struct Threads {
    /// Passes the signals sent to the proxy on to the server.
    signals: Reserved,
    /// Relays the client's bytes to the server.
    client: Reserved,
    /// Runs the recorder.
    recorder: Reserved,
}

impl Threads {
    fn reserve() -> io::Result<Threads> {
        Ok(Threads {
            signals: Reserved::new("relay-signals")?,
            client: Reserved::new("relay-client")?,
            recorder: Reserved::new("relay-recorder")?,
        })
    }
}

/// Relays between our stdin/stdout and `command`, recording with `recorder` when there is one
/// and enforcing a policy with `enforcer`, and passing `stop_signals` on to the child. Returns
/// the child's exit status as a process exit code, or that no thread could be had for the relay.
///
/// `beside` starts work that runs beside the relay (a proxy's sending of what its store keeps
/// for the collector): it is called once the relay has its threads and the server its process,
/// and not at all when the OS refused them, so that under a process limit such work never
/// takes a thread or a process the relay needs.
pub fn relay(
    command: &[OsString],
    mut stop_signals: Option<StopSignals>,
    recorder: Option<McpRecorder>,
    enforcer: Option<Enforcer>,
    clock: fn() -> f64,
    beside: impl FnOnce(),
) -> io::Result<Relayed> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| io::Error::other("no command to run"))?;
    // What the session says when the OS refuses what the relay needs. Where the server is
    // never started, its error is a launch failure, no turn's of the agent's, as a command that
    // cannot be run is; a server that runs unrecorded in this process's place was started.
    let mut refused = |recorder: Option<McpRecorder>, what: String| {
        // A signal to stop that came before the server could start stops the proxy, as it
        // would have stopped the server: the server does not take this process's place.
        if let Some(signal) = stop_signals.as_mut().and_then(StopSignals::pending) {
            let name = signal_hook::low_level::signal_name(signal).unwrap_or("a signal");
            if let Some(recorder) = recorder {
                let why = format!("{what}; stopped by {name} before the server started");
                recording::end_unlaunched(recorder, &why, clock());
            }
            let _ = signal_hook::low_level::emulate_default_handler(signal);
            return Ok(Relayed::Exited(128 + signal));
        }
        let guarded = enforcer.is_some();
        let then = if guarded {
            "the server is not started, as its policy cannot be enforced"
        } else {
            "the server runs unrecorded"
        };
        let why = format!("{what}: {then}");
        match recorder {
            Some(recorder) if guarded => recording::end_unlaunched(recorder, &why, clock()),
            Some(recorder) => recording::end_with_error(recorder, &why, clock()),
            None => {}
        }
        Ok(Relayed::Refused(why))
    };
    let threads = match Threads::reserve() {
        Ok(threads) => threads,
        Err(e) => {
            return refused(
                recorder,
                format!("cannot start a thread for the relay ({e})"),
            );
        }
    };
    let spawned = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        // A process refused, not a command that cannot run: the threads were had, the fork
        // was not, and the server may still take this process's place.
        Err(e) if refused_by_a_limit(&e) => {
            return refused(recorder, format!("cannot start the server's process ({e})"));
        }
        Err(e) => {
            if let Some(recorder) = recorder {
                let why = format!("cannot run {}: {e}", program.to_string_lossy());
                recording::end_unlaunched(recorder, &why, clock());
            }
            return Err(e);
        }
    };
    // Before the signals are passed on: a server a signal ends is still the child it watches.
    let mut server_exit = ServerExit::of(child.id());
    if let Some(signals) = stop_signals {
        forward_signals(signals, child.id(), threads.signals);
    }
    beside();
    let mut child_in = child
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("child has no stdin"))?;
    let mut child_out = child
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("child has no stdout"))?;
    // Larger pipes to the server: fewer, larger moves for a large message.
    #[cfg(target_os = "linux")]
    {
        super::splice::grow(child_in.as_fd());
        super::splice::grow(child_out.as_fd());
    }
    // Bounded, so memory stays flat however fast the traffic, and waited on for a moment at
    // most: a flood of small messages (each an event to write) goes at the recorder's pace, and
    // a recorder that gives no room in time (stuck) is passed by, what does not fit relayed
    // unrecorded and counted.
    let patience = recorder
        .as_ref()
        .map_or(queue::RECORDER_PATIENCE, McpRecorder::patience);
    let (tx, rx) = queue::patient(RECORD_QUEUE_BYTES, usize::MAX, patience);
    let recording = recorder.is_some();
    // The server's process, for `watch` to pause or stop.
    if recording && let Some(server) = crate::capture::process::AgentProcess::of(child.id()) {
        let mut data = serde_json::Map::new();
        data.insert("choice".into(), "MCP server started".into());
        data.insert(crate::model::view::AGENT_PID.into(), server.pid.into());
        data.insert(
            crate::model::view::AGENT_STARTED.into(),
            server.started.into(),
        );
        tx.send(Note::Event {
            kind: crate::model::EventType::Decision,
            data,
            at: clock(),
        });
    }
    // Without a policy no answer of ours needs a place between the server's messages, so both
    // directions may go straight on, uncopied where the kernel can.
    let straight = enforcer.is_none();

    let client_out = Arc::new(Mutex::new(ClientOut {
        server: Framer::boundaries(),
        at_boundary: true,
        waiting: Vec::new(),
    }));
    let to_server = tx.clone();
    let answers = Arc::clone(&client_out);
    // Not joined: it may sit in a read of our stdin after the server has gone.
    threads.client.run(move || {
        if straight {
            pass_on(
                io::stdin().lock(),
                &mut child_in,
                recording.then_some(&to_server),
                Direction::ClientToServer,
                clock,
                None,
            );
            if recording {
                to_server.send(Note::Closed {
                    direction: Direction::ClientToServer,
                    at: clock(),
                });
            }
            drop(child_in);
            return;
        }
        let mut stdin = io::stdin().lock();
        let mut buf = vec![0u8; CHUNK];
        let Some(enforcer) = enforcer else {
            return;
        };
        let mut gate = Gate::new();
        let mut act = |act: Act<'_>| match act {
            Act::Forward(bytes) => child_in.write_all(bytes).and_then(|()| child_in.flush()),
            Act::Answer(answer) => {
                if recording {
                    to_server.bytes(Direction::ServerToClient, &answer, clock());
                }
                answers.lock().map_or(Ok(()), |mut out| out.answer(answer))
            }
            Act::Drop(why) => {
                (enforcer.report)(&why);
                Ok(())
            }
        };
        loop {
            let n = match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            // Queued before it is judged: the server's answer cannot reach the recorder ahead
            // of the request it answers.
            if recording {
                to_server.bytes(Direction::ClientToServer, &buf[..n], clock());
            }
            if gate.push(&enforcer, &buf[..n], &mut act).is_err() {
                break;
            }
        }
        let _ = gate.finish(&enforcer, &mut act);
        if recording {
            to_server.send(Note::Closed {
                direction: Direction::ClientToServer,
                at: clock(),
            });
        }
        // Closing the child's stdin tells the server the client has gone.
        drop(child_in);
    });

    let writer = threads.recorder.run(move || {
        if let Some(recorder) = recorder {
            recording::run(recorder, rx);
        }
    });

    let mut buf = vec![0u8; CHUNK];
    if straight {
        pass_on(
            &mut child_out,
            io::stdout().lock(),
            recording.then_some(&tx),
            Direction::ServerToClient,
            clock,
            Some(&mut server_exit),
        );
    } else {
        loop {
            if !server_exit.readable(child_out.as_fd()) {
                break;
            }
            let n = match child_out.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let written = client_out
                .lock()
                .map_err(|_| io::Error::other("stdout lock poisoned"))
                .and_then(|mut out| out.write(&buf[..n]));
            if written.is_err() {
                break;
            }
            if recording {
                tx.bytes(Direction::ServerToClient, &buf[..n], clock());
            }
        }
    }
    drop(child_out);
    // Answers still waiting for a server message that never ended go out now.
    if let Ok(mut out) = client_out.lock() {
        out.at_boundary = true;
        let _ = out.write(&[]);
    }
    let status = child.wait()?;
    let code = exit_code(status);
    if recording {
        tx.send(Note::End {
            exit_code: status.code(),
            at: clock(),
        });
    }
    drop(tx);
    let _ = writer.join();
    Ok(Relayed::Exited(code))
}

/// Whether a failed spawn was the OS refusing a process (a limit on processes or on memory)
/// rather than a command that cannot be run.
fn refused_by_a_limit(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::OutOfMemory
    ) || e.raw_os_error() == Some(rustix::io::Errno::AGAIN.raw_os_error())
}

/// Relays one direction until its source ends or its destination is gone, or (with
/// `server_exit`, for the server's output) the server has exited and its output gone quiet;
/// with a `queue`, every byte also goes to the recorder, in order, before it is passed on (so
/// the server's answer cannot reach the recorder ahead of the request it answers).
fn pass_on<R: Read + AsFd, W: Write + AsFd>(
    mut from: R,
    mut to: W,
    queue: Option<&Sender>,
    direction: Direction,
    clock: fn() -> f64,
    mut server_exit: Option<&mut ServerExit>,
) {
    #[cfg(target_os = "linux")]
    {
        use super::splice::{self, Ended, Tap};
        // The recorder reads its copy from a pipe of its own, teed from the relay's.
        let pipe = queue.and_then(|queue| {
            let pipe = splice::tap_pipe().ok()?;
            queue.send(Note::Tap {
                direction,
                pipe: pipe.read.into(),
                at: clock(),
            });
            Some(pipe.write)
        });
        if queue.is_none() || pipe.is_some() {
            let mut tap = queue.map(|queue| Tap {
                queue,
                direction,
                clock,
                pipe,
            });
            let ended = splice::relay(
                from.as_fd(),
                to.as_fd(),
                tap.as_mut(),
                server_exit.as_deref_mut(),
            );
            if ended == Ended::Done {
                return;
            }
        }
    }
    copy(&mut from, &mut to, queue, direction, clock, server_exit);
}

/// The relay where the kernel cannot move the bytes itself: read, queue a copy, write.
fn copy(
    from: &mut (impl Read + AsFd),
    to: &mut impl Write,
    queue: Option<&Sender>,
    direction: Direction,
    clock: fn() -> f64,
    mut server_exit: Option<&mut ServerExit>,
) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        if let Some(watch) = server_exit.as_deref_mut()
            && !watch.readable(from.as_fd())
        {
            break;
        }
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        if let Some(queue) = queue {
            queue.bytes(direction, &buf[..n], clock());
        }
        if to.write_all(&buf[..n]).and_then(|()| to.flush()).is_err() {
            break;
        }
    }
}

/// The signals a client sends to stop a server (SIGTERM, SIGINT, SIGHUP), caught from the
/// proxy's start, before the server's: one that comes while the server starts waits to be passed
/// on, where it would have ended the proxy and left the server running. One this process was
/// started ignoring (`nohup`'s SIGHUP, a background job's SIGINT) stays ignored, and the server
/// inherits that as it would without the proxy (a caught one is at its default in the server).
pub struct StopSignals(SignalsInfo<WithOrigin>);

impl StopSignals {
    /// Catches them from now on; `None` when they cannot be (no file descriptor to be had): the
    /// proxy then stops of them itself.
    pub fn catch() -> Option<StopSignals> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let signals = crate::capture::process::not_ignored(&[SIGTERM, SIGINT, SIGHUP]);
        SignalsInfo::new(signals).ok().map(StopSignals)
    }

    /// One that came and was not passed on, if any.
    fn pending(&mut self) -> Option<i32> {
        self.0.pending().next().map(|origin| origin.signal)
    }
}

/// Passes the signals a client sends to stop a server on to the child, and lets the child
/// decide: the proxy ends when the child closes its output, with its code. Sent by a system
/// call, not by running `kill(1)`: a client that starts the proxy with a PATH that has no `kill`
/// (or under a limit on processes) must still stop its server, as the proxy no longer stops of
/// the signal itself.
///
/// Except a terminal's Ctrl-C: the kernel sends that SIGINT to every process of the terminal's
/// foreground process group, the server as well when it is in ours, and passed on it reached
/// the server twice (a Python server's cleanup cut short by a second KeyboardInterrupt). The
/// server is not put in a group of its own to avoid that: Ctrl-Z would stop the proxy and not
/// the server, and a client that signals the proxy's group to end it would miss the server.
fn forward_signals(mut signals: StopSignals, child: u32, thread: Reserved) {
    use rustix::process::Signal;
    use signal_hook::consts::{SIGHUP, SIGINT};
    use signal_hook::low_level::siginfo::Cause;
    let Some(child) = OwnChild::new(child) else {
        return;
    };
    thread.run(move || {
        for origin in signals.0.forever() {
            if origin.signal == SIGINT
                && origin.cause == Cause::Kernel
                && child.in_my_process_group()
            {
                continue;
            }
            let signal = match origin.signal {
                SIGINT => Signal::INT,
                SIGHUP => Signal::HUP,
                _ => Signal::TERM,
            };
            let _ = child.signal(signal);
        }
    });
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}
