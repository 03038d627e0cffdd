//! Threads the OS may refuse (a limit on processes or on memory), where `std::thread::spawn`
//! would panic: threads that only make work faster run it on the calling thread instead
//! ([`spawn_scoped`]); threads a step cannot do without are started before that step
//! ([`Reserved`]), so that its caller can choose another way while it still may.

use std::any::Any;
use std::io;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{Builder, JoinHandle, Scope, ScopedJoinHandle};

/// Work for a [`Reserved`] thread.
type Work = Box<dyn FnOnce() + Send>;

/// A thread started before its work is known, waiting for it. Dropped without work, it ends.
pub struct Reserved {
    work: mpsc::Sender<Work>,
    thread: JoinHandle<()>,
}

impl Reserved {
    /// A new thread named `name`, or the OS's refusal.
    pub fn new(name: &str) -> io::Result<Reserved> {
        let (work, waiting) = mpsc::channel::<Work>();
        let thread = Builder::new().name(name.to_owned()).spawn(move || {
            if let Ok(work) = waiting.recv() {
                work();
            }
        })?;
        Ok(Reserved { work, thread })
    }

    /// Runs `work` on the thread.
    pub fn run(self, work: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
        // The thread waits for this and cannot have ended before it: the send cannot fail.
        let _ = self.work.send(Box::new(work));
        self.thread
    }
}

/// Work started on a thread of a scope, or already done on the calling thread. Either holds
/// `None` only if the work was never run, which [`spawn_scoped`] rules out.
pub enum Started<'scope, T> {
    Thread(ScopedJoinHandle<'scope, Option<T>>),
    Here(Option<T>),
}

impl<T> Started<'_, T> {
    /// What the work returned, or the payload of its panic, as `ScopedJoinHandle::join` gives
    /// them.
    pub fn join(self) -> std::thread::Result<T> {
        let done = match self {
            Started::Thread(handle) => handle.join()?,
            Started::Here(done) => done,
        };
        done.ok_or_else(|| Box::new("the work was not run") as Box<dyn Any + Send>)
    }
}

/// Runs `work` on a new thread of `scope`, or on this one when no thread can be had.
pub fn spawn_scoped<'scope, T, F>(scope: &'scope Scope<'scope, '_>, work: F) -> Started<'scope, T>
where
    T: Send + 'scope,
    F: FnOnce() -> T + Send + 'scope,
{
    // A refused thread drops the closure it was given: the work waits in a slot both sides
    // can reach, so that it can still be run here.
    let slot = Arc::new(Mutex::new(Some(work)));
    let theirs = Arc::clone(&slot);
    let spawned = Builder::new().spawn_scoped(scope, move || {
        let work = theirs.lock().unwrap_or_else(PoisonError::into_inner).take();
        work.map(|work| work())
    });
    if let Ok(handle) = spawned {
        return Started::Thread(handle);
    }
    let work = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    Started::Here(work.map(|work| work()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_on_a_thread_returns_what_it_returned() {
        let value = std::thread::scope(|scope| spawn_scoped(scope, || 6 * 7).join());
        assert_eq!(value.ok(), Some(42));
    }

    #[test]
    fn a_reserved_thread_runs_the_work_it_is_given() {
        let (tx, rx) = mpsc::channel();
        let thread = Reserved::new("test")
            .unwrap()
            .run(move || tx.send(6 * 7).unwrap());
        thread.join().unwrap();
        assert_eq!(rx.recv().ok(), Some(42));
    }

    #[test]
    fn a_reserved_thread_given_no_work_ends() {
        let Reserved { work, thread } = Reserved::new("test").unwrap();
        drop(work);
        thread.join().unwrap();
    }

    #[test]
    fn a_panic_on_the_thread_comes_back_from_join() {
        let joined = std::thread::scope(|scope| spawn_scoped(scope, || panic!("boom")).join());
        let payload = joined.expect_err("the panic");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    }
}
