//! The stdio proxy: the MCP server runs as a child; what the client writes goes to the child's
//! stdin and what the child writes goes to our stdout, byte for byte, each chunk as soon as it
//! is read. A copy of each chunk goes to the recorder thread, which finds the messages in it and
//! records them: the relay threads never look into the bytes, so recording never delays a
//! message however large it is.
//! Signals sent to the proxy are passed on to the server.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::process::{Command, Stdio};
use std::thread;

use super::mcp::{Direction, McpRecorder};
use super::queue;
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
    // Bounded, so memory stays flat however fast the traffic: if the recorder falls behind (a
    // flood of small messages, each an event to write), the relay waits for it rather than
    // holding the difference in memory.
    let (tx, rx) = queue::bounded(RECORD_QUEUE_BYTES);
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

    let to_server = tx.clone();
    // Not joined: it may sit in a read of our stdin after the server has gone.
    thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            // Queued before it is relayed: the server's answer cannot reach the recorder
            // ahead of the request it answers.
            if recording {
                to_server.send(Note::Bytes {
                    direction: Direction::ClientToServer,
                    bytes: buf[..n].to_vec(),
                    at: clock(),
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

    let mut stdout = io::stdout().lock();
    let mut buf = vec![0u8; CHUNK];
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
            tx.send(Note::Bytes {
                direction: Direction::ServerToClient,
                bytes: buf[..n].to_vec(),
                at: clock(),
            });
        }
    }
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
