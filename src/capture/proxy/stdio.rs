//! The stdio proxy: the MCP server runs as a child; what the client writes goes to the child's
//! stdin and what the child writes goes to our stdout, byte for byte, each chunk as soon as it
//! is read. A copy of each chunk goes to the recorder thread, which finds the messages in it and
//! records them: the relay threads never look into the bytes, so recording never delays a
//! message however large it is. On Linux the relay moves the bytes with `splice(2)` and gives
//! the recorder its copy with `tee(2)` ([`super::splice`]), without copying them itself; where
//! the kernel cannot, it reads and writes.
//! Signals sent to the proxy are passed on to the server.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::process::{Command, Stdio};
use std::thread;

use super::mcp::{Direction, McpRecorder};
use super::queue::{self, Sender};
use super::recording::{self, Note};

/// The most bytes waiting for the recorder; past it a relay waits for the recorder.
const RECORD_QUEUE_BYTES: usize = 2 * 1024 * 1024;
/// The most a relay reads at once.
const CHUNK: usize = 64 * 1024;

/// Relays between our stdin/stdout and `command`, recording with `recorder` when there is one.
/// Returns the child's exit status as a process exit code.
pub fn relay(
    command: &[OsString],
    recorder: Option<McpRecorder>,
    clock: fn() -> f64,
) -> io::Result<i32> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| io::Error::other("no command to run"))?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    forward_signals(child.id());
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
    // Bounded, so memory stays flat however fast the traffic: if the recorder falls behind (a
    // flood of small messages, each an event to write), the relay waits for it rather than
    // holding the difference in memory.
    let (tx, rx) = queue::bounded(RECORD_QUEUE_BYTES);
    let recording = recorder.is_some();

    let to_server = tx.clone();
    // Not joined: it may sit in a read of our stdin after the server has gone.
    thread::spawn(move || {
        pass_on(
            io::stdin().lock(),
            &mut child_in,
            recording.then_some(&to_server),
            Direction::ClientToServer,
            clock,
        );
        if recording {
            to_server.send(Note::Closed {
                direction: Direction::ClientToServer,
                at: clock(),
            });
        }
        // Closing the child's stdin tells the server the client has gone.
        drop(child_in);
    });

    let writer = thread::spawn(move || {
        if let Some(recorder) = recorder {
            recording::run(recorder, rx);
        }
    });

    pass_on(
        &mut child_out,
        io::stdout().lock(),
        recording.then_some(&tx),
        Direction::ServerToClient,
        clock,
    );
    drop(child_out);
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
    Ok(code)
}

/// Relays one direction until its source ends or its destination is gone; with a `queue`,
/// every byte also goes to the recorder, in order, before it is passed on (so the server's
/// answer cannot reach the recorder ahead of the request it answers).
fn pass_on<R: Read + AsFd, W: Write + AsFd>(
    mut from: R,
    mut to: W,
    queue: Option<&Sender>,
    direction: Direction,
    clock: fn() -> f64,
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
            if splice::relay(from.as_fd(), to.as_fd(), tap.as_mut()) == Ended::Done {
                return;
            }
        }
    }
    copy(&mut from, &mut to, queue, direction, clock);
}

/// The relay where the kernel cannot move the bytes itself: read, queue a copy, write.
fn copy(
    from: &mut impl Read,
    to: &mut impl Write,
    queue: Option<&Sender>,
    direction: Direction,
    clock: fn() -> f64,
) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        if let Some(queue) = queue {
            queue.send(Note::Bytes {
                direction,
                bytes: buf[..n].to_vec(),
                at: clock(),
            });
        }
        if to.write_all(&buf[..n]).and_then(|()| to.flush()).is_err() {
            break;
        }
    }
}

/// Passes the signals a client sends to stop a server (SIGTERM, SIGINT, SIGHUP) on to the child,
/// and lets the child decide: the proxy ends when the child closes its output, with its code.
fn forward_signals(child: u32) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP]) else {
        return;
    };
    thread::spawn(move || {
        for signal in signals.forever() {
            let name = match signal {
                SIGINT => "INT",
                SIGHUP => "HUP",
                _ => "TERM",
            };
            // `kill(1)` rather than a system call of our own: this crate has no unsafe code.
            let _ = Command::new("kill")
                .arg(format!("-{name}"))
                .arg(child.to_string())
                .status();
        }
    });
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}
