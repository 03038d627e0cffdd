//! Threads that only make work faster: when the OS refuses one (a limit on processes or on
//! memory), the work runs on the calling thread instead, where `std::thread::Scope::spawn`
//! would panic.

use std::any::Any;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{Builder, Scope, ScopedJoinHandle};

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
    fn a_panic_on_the_thread_comes_back_from_join() {
        let joined = std::thread::scope(|scope| spawn_scoped(scope, || panic!("boom")).join());
        let payload = joined.expect_err("the panic");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    }
}
