//! The processor time a unit test's own thread has used, for the tests that bound how long a
//! computation takes (to catch a path that went quadratic): unlike the wall clock, it does not
//! grow while a loaded machine runs other work, so the bound holds under any load. Figures
//! themselves are measured by the benchmarks (benches/figures), never by a test.

use std::time::Duration;

/// Runs `work` and returns what it returned, with the processor time this thread spent on it.
pub(crate) fn of<T>(work: impl FnOnce() -> T) -> (T, Duration) {
    let before = thread_time();
    let out = work();
    (out, thread_time().saturating_sub(before))
}

/// The processor time the calling thread has used so far.
fn thread_time() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}
