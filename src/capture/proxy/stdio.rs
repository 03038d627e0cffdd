//! The stdio proxy: the MCP server runs as a child; what the client writes goes to the child's
//! stdin and what the child writes goes to our stdout, byte for byte, each chunk as soon as it
//! is read. A copy of each chunk goes to a recorder thread, so recording never delays traffic.
//! Signals sent to the proxy are passed on to the server.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;

use super::framing::Framer;
use super::mcp::{Direction, McpRecorder};
use super::recording::{self, Note};

/// How many messages may wait for the recorder.
const RECORD_QUEUE: usize = 4096;

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
    // Bounded, so memory stays flat however fast the traffic: if the disk falls behind, the
    // relay waits for it rather than holding the difference in memory.
    let (tx, rx) = mpsc::sync_channel::<Note>(RECORD_QUEUE);
    let recording = recorder.is_some();

    let to_server = tx.clone();
    // Not joined: it may sit in a read of our stdin after the server has gone.
    thread::spawn(move || {
        let mut framer = Framer::new();
        let mut stdin = io::stdin().lock();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            // Recorded before it is relayed: the server's answer cannot reach the recorder
            // ahead of the request it answers.
            if recording {
                let now = clock();
                framer.push(&buf[..n], |m| {
                    let _ = to_server.send(note(Direction::ClientToServer, m, now));
                });
            }
            if child_in
                .write_all(&buf[..n])
                .and_then(|()| child_in.flush())
                .is_err()
            {
                break;
            }
        }
        if recording {
            framer.finish(|m| {
                let _ = to_server.send(note(Direction::ClientToServer, m, clock()));
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

    let mut framer = Framer::new();
    let mut stdout = io::stdout().lock();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match child_out.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if stdout
            .write_all(&buf[..n])
            .and_then(|()| stdout.flush())
            .is_err()
        {
            break;
        }
        if recording {
            let now = clock();
            framer.push(&buf[..n], |m| {
                let _ = tx.send(note(Direction::ServerToClient, m, now));
            });
        }
    }
    if recording {
        framer.finish(|m| {
            let _ = tx.send(note(Direction::ServerToClient, m, clock()));
        });
    }
    drop(child_out);
    let status = child.wait()?;
    let code = exit_code(status);
    let _ = tx.send(Note::End {
        exit_code: status.code(),
        at: clock(),
    });
    let _ = writer.join();
    Ok(code)
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

/// A message as it crossed the stdio proxy, which carries one MCP session.
fn note(direction: Direction, body: &[u8], at: f64) -> Note {
    Note::Message {
        channel: 0,
        direction,
        body: body.to_vec(),
        at,
    }
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}
