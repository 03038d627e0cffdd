//! The collector's handler threads, started with the server: a request's handler (parsing,
//! scrubbing, writing events) runs on one of them, so that the connections' thread never waits
//! on a disk, and no request ever needs a thread the OS may refuse by then (tokio's blocking
//! pool starts its threads on demand, and panics when it has none and gets none).
//!
//! Beside them, the room: how many bytes of requests may be in flight at once (their bodies
//! being read, waiting for a thread, or handled). A request that finds no room is answered 503
//! at once, so a flood of requests (or of clients sending their bodies slowly) holds a bounded
//! amount of memory, and senders record into their own stores as they do when the collector
//! is down.

use std::io;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A handler's run, its reply sent back to the request's task.
type Job = Box<dyn FnOnce() + Send>;

/// Threads waiting for handlers. Dropped, its threads end once the handlers under way are done.
pub(super) struct Pool {
    jobs: mpsc::Sender<Job>,
    threads: usize,
    room: Arc<Semaphore>,
}

/// The bytes of requests the collector holds in flight at most.
pub(super) const ROOM_BYTES: usize = 256 * 1024 * 1024;

/// The room is counted in these: a request takes at least one, so at most
/// `ROOM_BYTES / ROOM_UNIT` requests are in flight, however small.
const ROOM_UNIT: usize = 64 * 1024;

/// A request's share of the room, given back when it is dropped (once the request has been
/// answered, or has failed).
pub(super) type Admitted = OwnedSemaphorePermit;

impl Pool {
    /// Up to `wanted` threads: as many as the OS gives, and at least one, else its refusal.
    pub(super) fn start(wanted: usize) -> io::Result<Pool> {
        let (jobs, waiting) = mpsc::channel::<Job>();
        let waiting = Arc::new(Mutex::new(waiting));
        let mut threads = 0;
        for n in 0..wanted.max(1) {
            let waiting = Arc::clone(&waiting);
            let started = std::thread::Builder::new()
                .name(format!("collector-handler-{n}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next job, not while running it.
                        let job = waiting
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .recv();
                        match job {
                            Ok(job) => job(),
                            Err(mpsc::RecvError) => return,
                        }
                    }
                });
            match started {
                Ok(_) => threads += 1,
                Err(e) if threads == 0 => return Err(e),
                // Fewer threads than wanted still serve: handlers wait their turn.
                Err(_) => break,
            }
        }
        Ok(Pool {
            jobs,
            threads,
            room: Arc::new(Semaphore::new(ROOM_BYTES / ROOM_UNIT)),
        })
    }

    /// Room for a request whose body takes at most `bytes`; `None` when the requests in flight
    /// leave none. A body larger than the whole room takes all of it.
    pub(super) fn admit(&self, bytes: u64) -> Option<Admitted> {
        let total = ROOM_BYTES / ROOM_UNIT;
        let units = usize::try_from(bytes.div_ceil(ROOM_UNIT as u64))
            .unwrap_or(total)
            .clamp(1, total);
        let units = u32::try_from(units).unwrap_or(u32::MAX);
        Arc::clone(&self.room).try_acquire_many_owned(units).ok()
    }

    /// How many threads the pool has.
    pub(super) fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `handler` on a pool thread and waits for what it returns; `None` when it panicked.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        handler: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (reply, replied) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(handler));
            let _ = reply.send(result.ok());
        });
        // The pool's threads end only when it is dropped, so the send cannot fail while it lives.
        self.jobs.send(job).ok()?;
        replied.await.ok().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handlers_run_on_the_pool_and_a_panic_is_an_answer_not_a_lost_thread() {
        let pool = Pool::start(2).unwrap();
        assert_eq!(pool.threads(), 2);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let here = std::thread::current().id();
            let there = pool.run(move || std::thread::current().id()).await;
            assert_ne!(there, Some(here));
            assert_eq!(pool.run(|| -> u8 { panic!("a handler's bug") }).await, None);
            // Both threads still serve.
            let (a, b) = tokio::join!(pool.run(|| 1), pool.run(|| 2));
            assert_eq!((a, b), (Some(1), Some(2)));
        });
    }

    #[test]
    fn the_room_holds_so_many_bytes_and_is_given_back() {
        let pool = Pool::start(1).unwrap();
        let big = (ROOM_BYTES / 4) as u64;
        let held: Vec<Admitted> = (0..4).map(|_| pool.admit(big).unwrap()).collect();
        // Full: not even an empty request gets in.
        assert!(pool.admit(0).is_none());
        drop(held);
        // A body larger than the room takes all of it, and still gets in when it is free.
        let all = pool.admit(u64::MAX).unwrap();
        assert!(pool.admit(1).is_none());
        drop(all);
        let small: Vec<Admitted> = (0..ROOM_BYTES / ROOM_UNIT)
            .map(|_| pool.admit(10).unwrap())
            .collect();
        assert!(pool.admit(10).is_none());
        drop(small);
        assert!(pool.admit(10).is_some());
    }
}
