//! Relaying one direction of the stdio proxy without copying it (Linux): the bytes move from
//! where they come from into a pipe of the relay's own and on to where they go with `splice(2)`,
//! and `tee(2)` gives the recorder its own reference to them in its pipe, so the relay thread
//! never copies the traffic through user space (issue 9: a 100 MB message relayed within 1.5×
//! of the time without the proxy; the two copies a read/write loop makes on each of the proxy's
//! two hops were most of the difference).
//!
//! Used where the kernel takes `splice` on both ends (pipes, sockets, files); where it does not,
//! [`relay`] says so before it has taken anything, and the caller relays by reading and writing.
//! The recorder's pipe is never waited on: when it is full (the recorder is behind), what it did
//! not take of a chunk is copied and queued as bytes, as the read/write loop does, so the
//! recorder still gets every byte, in order. How far the recorder may fall behind is the
//! queue's bound, which counts the bytes waiting in the pipe too ([`super::queue`]); past it a
//! chunk is not teed but copied through, and the queue keeps only where its newlines were.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::event::{PollFd, PollFlags, poll};
use rustix::io::Errno;
use rustix::pipe::{
    PipeFlags, SpliceFlags, fcntl_getpipe_size, fcntl_setpipe_size, pipe_with, splice, tee,
};

use super::mcp::Direction;
use super::queue::Sender;
use super::recording::Note;
use super::server_exit::ServerExit;

/// The size asked for the pipes the relay owns: fewer, larger moves a message (measured: 4–10%
/// less CPU for a 100 MB message than the default 64 KiB). Kept well within what a user
/// may have in pipes (`/proc/sys/fs/pipe-user-pages-soft`, 64 MiB by default, past which the
/// user's new pipes get two pages): a proxy asks for 2.5 MiB in all, so that many of them
/// running at once never slow the user's other pipes.
pub const PIPE_SIZE: usize = 256 * 1024;
/// The size asked for the recorder's pipe: how far the recorder may fall behind a direction
/// before the relay copies for it. 1 MiB is the most an unprivileged process may ask for by
/// default (`/proc/sys/fs/pipe-max-size`).
pub const TAP_SIZE: usize = 1024 * 1024;
/// The most bytes copied at once when a chunk is copied.
const COPY_CHUNK: usize = 64 * 1024;

/// How a relay ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The source ended, or the destination is gone: the direction is over.
    Done,
    /// `splice` or `tee` is not available for these ends; nothing is left in flight, so the
    /// caller goes on by reading and writing.
    Unsupported,
}

/// A pipe for the recorder: the relay tees into `write`, the recorder reads `read`.
pub struct TapPipe {
    pub read: OwnedFd,
    pub write: OwnedFd,
}

/// A new pipe for the recorder, as large as the system gives.
pub fn tap_pipe() -> io::Result<TapPipe> {
    let (read, write) = pipe_with(PipeFlags::CLOEXEC)?;
    let _ = fcntl_setpipe_size(&write, TAP_SIZE);
    Ok(TapPipe { read, write })
}

/// Asks for a [`PIPE_SIZE`] buffer on a pipe the proxy owns (best effort: a refusal, as past
/// the user's limit, keeps the pipe as it is, and a descriptor that is not a pipe is left
/// alone).
pub fn grow(pipe: BorrowedFd<'_>) {
    let _ = fcntl_setpipe_size(pipe, PIPE_SIZE);
}

/// Where the recorder's copy of one direction goes.
pub struct Tap<'a> {
    pub queue: &'a Sender,
    pub direction: Direction,
    pub clock: fn() -> f64,
    /// The recorder's pipe; `None` once the recorder has gone.
    pub pipe: Option<OwnedFd>,
}

impl Tap<'_> {
    fn bytes(&self, bytes: &[u8]) {
        self.queue.bytes(self.direction, bytes, (self.clock)());
    }
}

/// Relays `from` to `to` until `from` ends or `to` is gone; with a `tap`, every byte also
/// reaches the recorder, in order, each chunk before it is passed on (so that an answer never
/// reaches the recorder before the request it answers).
pub fn relay(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    mut tap: Option<&mut Tap<'_>>,
    mut server_exit: Option<&mut ServerExit>,
) -> Ended {
    let Ok((pipe_out, pipe_in)) = pipe_with(PipeFlags::CLOEXEC) else {
        return Ended::Unsupported;
    };
    grow(pipe_in.as_fd());
    let room = fcntl_getpipe_size(&pipe_in).unwrap_or(COPY_CHUNK);
    let mut hop = Hop {
        pipe: pipe_out.as_fd(),
        to,
        unsupported: false,
        buf: Vec::new(),
    };
    loop {
        // A server that has exited ends the relay once its output is quiet.
        if let Some(watch) = server_exit.as_deref_mut()
            && !watch.readable(from)
        {
            return Ended::Done;
        }
        // Our pipe is empty here, so this waits only for `from`.
        let n = match splice(from, None, &pipe_in, None, room, SpliceFlags::empty()) {
            Ok(0) => return Ended::Done,
            Ok(n) => n,
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) => {
                wait(from, PollFlags::IN);
                continue;
            }
            Err(Errno::INVAL | Errno::NOSYS | Errno::BADF | Errno::OPNOTSUPP) => {
                return Ended::Unsupported;
            }
            Err(_) => return Ended::Done,
        };
        if !hop.pass(n, tap.as_deref_mut()) {
            return Ended::Done;
        }
        if hop.unsupported {
            return Ended::Unsupported;
        }
    }
}

/// The second half of the relay: from our pipe to the destination.
struct Hop<'a> {
    pipe: BorrowedFd<'a>,
    to: BorrowedFd<'a>,
    /// `splice` or `tee` failed on these ends: once the pipe is empty, the caller copies.
    unsupported: bool,
    buf: Vec<u8>,
}

impl Hop<'_> {
    /// Passes on the `n` bytes in our pipe, teeing them to the recorder; false once the
    /// destination is gone.
    fn pass(&mut self, mut n: usize, mut tap: Option<&mut Tap<'_>>) -> bool {
        while n > 0 {
            let Some(tap) = tap.as_deref_mut().filter(|t| t.pipe.is_some()) else {
                // Not recording: the bytes are only passed on.
                return self.splice_out(n, None);
            };
            if !tap.queue.takes(n) {
                // The recorder is too far behind: the chunk goes on, only noted as a gap.
                return self.copy_out(n, Some(&*tap));
            }
            let teed = match tap
                .pipe
                .as_ref()
                .map(|p| tee(self.pipe, p, n, SpliceFlags::NONBLOCK))
            {
                Some(Ok(t)) if t > 0 => t,
                // The recorder's pipe is full: this chunk is copied for it instead.
                Some(Ok(_) | Err(Errno::AGAIN)) => return self.copy_out(n, Some(&*tap)),
                Some(Err(Errno::INTR)) => continue,
                Some(Err(Errno::PIPE)) | None => {
                    // The recorder has gone: the traffic goes on, unrecorded.
                    tap.pipe = None;
                    continue;
                }
                Some(Err(_)) => {
                    self.unsupported = true;
                    return self.copy_out(n, Some(&*tap));
                }
            };
            tap.queue.send(Note::Piped {
                direction: tap.direction,
                len: teed,
                at: (tap.clock)(),
            });
            if !self.splice_out(teed, None) {
                return false;
            }
            n -= teed;
        }
        true
    }

    /// Moves `n` bytes from our pipe to the destination (copying them if the destination does
    /// not take `splice`); false once it is gone.
    fn splice_out(&mut self, mut n: usize, tap: Option<&Tap<'_>>) -> bool {
        while n > 0 {
            match splice(self.pipe, None, self.to, None, n, SpliceFlags::empty()) {
                Ok(0) => return false,
                Ok(moved) => n -= moved,
                Err(Errno::INTR) => {}
                Err(Errno::AGAIN) => wait(self.to, PollFlags::OUT),
                Err(Errno::INVAL | Errno::NOSYS | Errno::BADF | Errno::OPNOTSUPP) => {
                    self.unsupported = true;
                    return self.copy_out(n, tap);
                }
                Err(_) => return false,
            }
        }
        true
    }

    /// Copies `n` bytes from our pipe to the destination through user space, queueing them for
    /// the recorder first when there is a `tap`; false once the destination is gone.
    fn copy_out(&mut self, mut n: usize, tap: Option<&Tap<'_>>) -> bool {
        self.buf.resize(COPY_CHUNK, 0);
        while n > 0 {
            let want = n.min(COPY_CHUNK);
            let got = match rustix::io::read(self.pipe, &mut self.buf[..want]) {
                Ok(0) => return false,
                Ok(got) => got,
                Err(Errno::INTR) => continue,
                Err(_) => return false,
            };
            if let Some(tap) = tap {
                tap.bytes(&self.buf[..got]);
            }
            if !write_all(self.to, &self.buf[..got]) {
                return false;
            }
            n -= got;
        }
        true
    }
}

/// Writes all of `bytes`, waiting when the destination is non-blocking and full; false once it
/// is gone.
fn write_all(to: BorrowedFd<'_>, mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        match rustix::io::write(to, bytes) {
            Ok(0) => return false,
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => wait(to, PollFlags::OUT),
            Err(_) => return false,
        }
    }
    true
}

/// Waits until `fd` is ready (a descriptor someone made non-blocking).
fn wait(fd: BorrowedFd<'_>, flags: PollFlags) {
    let mut fds = [PollFd::from_borrowed_fd(fd, flags)];
    let _ = poll(&mut fds, None);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::proxy::queue;
    use crate::capture::proxy::recording::{Inbox, Taken};
    use std::io::{Read, Write};

    /// A relay whose recorder never reads until the end: its pipe fills at once, and the rest
    /// of every chunk must reach the recorder as copied bytes, so that the two together are the
    /// stream, in order.
    #[test]
    fn a_full_recorder_pipe_never_stops_the_relay_and_the_recorder_still_gets_every_byte() {
        let input: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let (from_read, from_write) = pipe_with(PipeFlags::CLOEXEC).unwrap();
        let (to_read, to_write) = pipe_with(PipeFlags::CLOEXEC).unwrap();
        let tap_pipe = tap_pipe().unwrap();
        // One page: full after the first chunk.
        fcntl_setpipe_size(&tap_pipe.write, 4096).unwrap();
        let (tx, mut rx) = queue::bounded(usize::MAX / 2);

        let data = input.clone();
        let writer = std::thread::spawn(move || {
            std::fs::File::from(from_write).write_all(&data).unwrap();
        });
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            std::fs::File::from(to_read).read_to_end(&mut out).unwrap();
            out
        });
        let mut tap = Tap {
            queue: &tx,
            direction: Direction::ServerToClient,
            clock: || 0.0,
            pipe: Some(tap_pipe.write),
        };
        let ended = relay(from_read.as_fd(), to_write.as_fd(), Some(&mut tap), None);
        assert_eq!(ended, Ended::Done);
        drop(tap);
        drop(to_write);
        drop(tx);
        writer.join().unwrap();
        assert!(reader.join().unwrap() == input, "the relayed bytes differ");

        let mut tapped = std::fs::File::from(tap_pipe.read);
        let mut recorded = Vec::new();
        let (mut piped, mut copied) = (0, 0);
        while let Taken::Note(note) = rx.try_take() {
            match note {
                Note::Piped { len, .. } => {
                    let start = recorded.len();
                    recorded.resize(start + len, 0);
                    tapped.read_exact(&mut recorded[start..]).unwrap();
                    piped += len;
                }
                Note::Bytes { bytes, .. } => {
                    recorded.extend_from_slice(&bytes);
                    copied += bytes.len();
                }
                _ => panic!("only bytes are noted"),
            }
        }
        assert!(recorded == input, "the recorder's stream differs");
        assert!(piped > 0 && copied > 0, "piped {piped}, copied {copied}");
    }
}
