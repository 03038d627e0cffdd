//! The Python tool as a baseline: the same command figures for pip `agent-strace`, fewer runs.

use std::path::Path;
use std::time::Duration;

use crate::Res;
use crate::generator::{generate, session_uuid};
use crate::hooks::{bench_cold_hook, bench_post_tool, bench_pre_tool, copy_session};
use crate::tool::{Drain, Sample, Tool, command};

/// Runs of the Python baseline.
pub(crate) const PY_HOOK_RUNS: usize = 20;
pub(crate) const PY_HOOK_WARMUP: usize = 2;
pub(crate) const PY_RSS_RUNS: usize = 2;
pub(crate) const PY_READ_RUNS: usize = 3;
/// A Python read command slower than this is not run again.
pub(crate) const PY_READ_GIVE_UP: Duration = Duration::from_secs(20);

/// The same figures for the Python agent-strace, in the order of the rows.
pub(crate) fn python_baseline(py: &Tool, work: &Path, session: &str) -> Res<Vec<Option<Sample>>> {
    // The Python hooks name a session by the first 16 characters of Claude Code's id, and
    // check that every event's session_id is its folder's name.
    let py_session: String = session.chars().take(16).collect();
    let pristine = work.join("py-pristine").join(".agent-traces");
    generate(&pristine, &py_session, 0x5eed)?;

    let version = py.repeat(
        &command(None, &["--version"]),
        None,
        Drain::No,
        1,
        PY_HOOK_RUNS,
        PY_RSS_RUNS,
    )?;

    let store1 = work.join("py1").join(".agent-traces");
    let hook_session = session_uuid(0xabc);
    let pre = bench_pre_tool(
        py,
        &store1,
        &hook_session,
        PY_HOOK_WARMUP,
        PY_HOOK_RUNS,
        PY_RSS_RUNS,
    )?;

    let store2 = work.join("py2").join(".agent-traces");
    copy_session(&pristine, &store2, &py_session)?;
    // Python keeps counters in meta.json, so it has no cold figure; its first hook is timed
    // the same way for the comparison.
    let cold = bench_cold_hook(py, &store2, session, 1)?;
    let post = bench_post_tool(
        py,
        &store2,
        session,
        PY_HOOK_WARMUP,
        PY_HOOK_RUNS,
        PY_RSS_RUNS,
    )?;

    let read = |args: &[&str]| -> Res<Sample> {
        let cmd = command(Some(&pristine), args);
        let (first, out) = py.once(&cmd, None, Drain::Yes, None)?;
        let mut sample = Sample {
            wall: vec![first],
            out_bytes: out,
            ..Sample::default()
        };
        let runs = if first > PY_READ_GIVE_UP {
            0
        } else {
            PY_READ_RUNS - 1
        };
        let more = py.repeat(&cmd, None, Drain::Yes, 0, runs, 1)?;
        sample.wall.extend(more.wall);
        sample.peak_kib = more.peak_kib;
        Ok(sample)
    };
    let stats = read(&["stats", &py_session])?;
    let replay = read(&["replay", &py_session])?;
    Ok(vec![
        Some(version),
        Some(pre),
        Some(post),
        Some(cold),
        Some(stats),
        Some(replay),
    ])
}
