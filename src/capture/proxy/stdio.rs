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

/// How many messages may wait for the recorder.
const RECORD_QUEUE: usize = 4096;

enum Note {
    Message(Direction, Vec<u8>, f64),
    End(Option<i32>, f64),
}

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
                    let _ =
                        to_server.send(Note::Message(Direction::ClientToServer, m.to_vec(), now));
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
                let _ = to_server.send(Note::Message(
                    Direction::ClientToServer,
                    m.to_vec(),
                    clock(),
                ));
            });
        }
        // Closing the child's stdin tells the server the client has gone.
        drop(child_in);
    });

    let writer = thread::spawn(move || {
        if let Some(mut recorder) = recorder {
            let mut failed = false;
            loop {
                // Events are written in batches: when no message is waiting, what was gathered
                // goes to disk before the recorder sleeps.
                let note = match rx.try_recv() {
                    Ok(note) => note,
                    Err(mpsc::TryRecvError::Empty) => {
                        if !failed && let Err(e) = recorder.flush() {
                            recorder.log(&format!("recording stopped: {e}"));
                            failed = true;
                        }
                        match rx.recv() {
                            Ok(note) => note,
                            Err(_) => break,
                        }
                    }
                    Err(mpsc::TryRecvError::Disconnected) => break,
                };
                let result = match note {
                    Note::Message(direction, body, now) if !failed => {
                        recorder.message(direction, &body, now)
                    }
                    Note::Message(..) => Ok(()),
                    Note::End(code, now) => {
                        if !failed && let Err(e) = recorder.end(code, now) {
                            recorder.log(&e.to_string());
                        }
                        break;
                    }
                };
                if let Err(e) = result {
                    // Stop recording, never the traffic.
                    recorder.log(&format!("recording stopped: {e}"));
                    failed = true;
                }
            }
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
                let _ = tx.send(Note::Message(Direction::ServerToClient, m.to_vec(), now));
            });
        }
    }
    if recording {
        framer.finish(|m| {
            let _ = tx.send(Note::Message(
                Direction::ServerToClient,
                m.to_vec(),
                clock(),
            ));
        });
    }
    drop(child_out);
    let status = child.wait()?;
    let code = exit_code(status);
    let _ = tx.send(Note::End(status.code(), clock()));
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

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}
