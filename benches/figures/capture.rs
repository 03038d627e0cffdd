//! The capture figures of issue 8: `import --all` of a history of many transcripts against
//! ccusage reading the same files in the same run, at flat memory, and `hook pre-tool` on a new
//! and on a long session; for this build and (optionally) an earlier one beside it. Issue 10's:
//! `import --all` again when nothing is new (it reads each file's record and last line read,
//! not the files), and after every transcript grew. Beside the import, the floor
//! (`floor.rs`): what reading, checking and writing alone take on this machine.
//!
//! `cargo bench --bench figures -- --capture-only [--history-mb N] [--runs N] [--hook-runs N]
//! [--store-dir DIR]`:
//!
//! - `AGENT_STRACE_BIN`: the build to measure [default: the one cargo built].
//! - `AGENT_STRACE_BEFORE`: an earlier build, measured the same way beside it.
//! - `AGENT_STRACE_CCUSAGE`: ccusage (npm `ccusage@20.0.24`), the import's baseline.
//! - `--history-mb N` (default 500), `--runs N` (default 5), `--hook-runs N` (default 300).
//! - `--store-dir DIR`: where the imports write their stores [default: target/bench-capture];
//!   a tmpfs (`/dev/shm`) takes the disk out of the figure.
//!
//! The history is written under `target/bench-capture/` (never committed): every main transcript
//! of `../shared/corpus/claude-code` with its subagents, copied over and over with fresh session,
//! message and request ids until it holds at least N MB in at least 200 files. Peak RSS and CPU
//! time come from GNU time.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Res;
use crate::floor;
use crate::table::{
    Target, Unit, Verdict, fmt_duration, load_average, machine, median, p99, print_verdict,
};
use crate::tool::{GNU_TIME, GNU_TIME_FORMAT, our_binary, read_usage};

/// The flag that runs these figures alone.
pub(crate) const CAPTURE_ONLY: &str = "--capture-only";

/// `import --all` takes at most half of ccusage's wall time on the same files (issue 8).
const IMPORT_OVER_CCUSAGE: Target =
    Target::at_least("ccusage's wall time over ours", 200.0, Unit::Percent);
/// Peak RSS on the whole history over peak RSS on one eighth of it.
const FLAT_MEMORY: Target =
    Target::at_most("peak RSS growth from ⅛ of the history", 10.0, Unit::Percent);
/// `import --all` over a history imported already reads no file whole (issue 10). CPU time:
/// the wall time of so short a run is mostly the load of the moment.
const NOTHING_NEW: Target = Target::at_most(
    "nothing new, over a fresh import's CPU time",
    10.0,
    Unit::Percent,
);
/// `import --all` after every transcript grew by a tenth reads and writes what is new, not all.
const GROWN: Target = Target::at_most(
    "a tenth new, over a fresh import's CPU time",
    50.0,
    Unit::Percent,
);
/// `hook pre-tool` keeps today's cost, on a new session and on a long one.
const HOOK_MEDIAN: Duration = Duration::from_millis(2);
/// The long session's median over the new session's: no growth with session length.
const HOOK_GROWTH: Target =
    Target::at_most("median growth on the long session", 10.0, Unit::Percent);

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Measures and prints the capture figures.
pub(crate) fn bench_capture(args: &[String]) -> Res<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ours = our_binary()?;
    let before = std::env::var_os("AGENT_STRACE_BEFORE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    let ccusage = std::env::var_os("AGENT_STRACE_CCUSAGE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    let mb = arg(args, "--history-mb", 500);
    let runs = arg(args, "--runs", 5) as usize;
    let hook_runs = arg(args, "--hook-runs", 300) as usize;
    let work = root.join("target/bench-capture");
    std::fs::create_dir_all(&work)?;
    let store_dir = args
        .iter()
        .skip_while(|a| *a != "--store-dir")
        .nth(1)
        .map_or_else(|| work.clone(), PathBuf::from);
    std::fs::create_dir_all(&store_dir)?;
    let stores = Stores::new(&store_dir)?;
    let load_start = load_average();

    let corpus = root.join("../shared/corpus/claude-code");
    eprintln!("figures: writing the history ({mb} MB)");
    let full = write_history(&corpus, &work.join("history"), mb * 1_000_000, 200)?;
    let small = write_history(&corpus, &work.join("history-small"), mb * 1_000_000 / 8, 25)?;
    let mut report = String::new();
    let mut verdicts = Vec::new();
    let mut notes = Vec::new();

    // import --all: the builds and ccusage take turns, run by run, so that a machine busy with
    // other work slows each of them alike.
    writeln!(
        report,
        "| import --all | runs | median | MB/s | CPU s (median) | CPU/wall | peak RSS | peak RSS, ⅛ history | tokens (in / out / cache write / cache read) |"
    )?;
    writeln!(report, "|---|---:|---:|---:|---:|---:|---:|---:|---|")?;
    let mut builds = vec![("this build", ours.clone())];
    if let Some(b) = &before {
        builds.push(("before", b.clone()));
    }
    let mut samples: Vec<Sample> = builds.iter().map(|_| Sample::default()).collect();
    let mut again: Vec<Sample> = builds.iter().map(|_| Sample::default()).collect();
    let mut tokens: Vec<Tokens> = vec![[0; 4]; builds.len()];
    let mut cc_sample = Sample::default();
    let mut cc_tokens = [0; 4];
    let mut floor_sample = Sample::default();
    for (n, (_, bin)) in builds.iter().enumerate() {
        tokens[n] = import_tokens(bin, &stores, &store_dir, &full.claude)?;
    }
    for run in 0..runs {
        eprintln!("figures: import --all, run {}", run + 1);
        for (n, (_, bin)) in builds.iter().enumerate() {
            import_once(
                bin,
                &stores,
                &store_dir,
                &full.claude,
                &mut samples[n],
                Some(&mut again[n]),
            )?;
        }
        if let Some(cc) = &ccusage {
            cc_tokens = ccusage_once(cc, &work, &full.claude, &mut cc_sample)?;
        }
        let (wall, _, kib, ratio, cpu) = timed(
            &floor::command(&full.claude, &stores.fresh("floor"))?,
            &store_dir,
        )?;
        floor_sample.add(wall, kib, ratio, cpu);
    }
    for (n, (label, bin)) in builds.iter().enumerate() {
        // As many runs as of the whole history: a peak is the largest of its runs on either
        // side (two workers both on a file with megabyte lines is the peak, and more runs give
        // it more chances).
        let mut small_sample = Sample::default();
        for _ in 0..runs {
            import_once(
                bin,
                &stores,
                &store_dir,
                &small.claude,
                &mut small_sample,
                None,
            )?;
        }
        let sample = &samples[n];
        writeln!(
            report,
            "{}",
            import_row(
                label,
                full.bytes,
                sample,
                Some(small_sample.peak_kib),
                Some(tokens[n])
            )
        )?;
        if n == 0 {
            let growth =
                (sample.peak_kib as f64 / small_sample.peak_kib.max(1) as f64 - 1.0) * 100.0;
            verdicts.push(
                Verdict::new(format!(
                    "import --all, {:.0} MB, memory",
                    full.bytes as f64 / 1e6
                ))
                .check(FLAT_MEMORY, Some(growth)),
            );
        }
    }
    if ccusage.is_some() {
        let median_cc = median(&cc_sample.wall);
        let floor_median = median(&floor_sample.wall);
        for row in [
            import_row(
                "ccusage (same files)",
                full.bytes,
                &cc_sample,
                None,
                Some(cc_tokens),
            ),
            import_row(
                "floor: read, check, write only",
                full.bytes,
                &floor_sample,
                None,
                None,
            ),
        ] {
            writeln!(report, "{row}")?;
        }
        notes.push(format!(
            "the floor (reading, checking and writing alone, benches/figures/floor.rs) takes {:.0}% \
             of the import's target, half of ccusage's wall time",
            floor_median.as_secs_f64() / (median_cc.as_secs_f64() / 2.0) * 100.0
        ));
        let ratio = median_cc.as_secs_f64() / median(&samples[0].wall).as_secs_f64();
        verdicts.push(
            Verdict::new(format!(
                "import --all, {:.0} MB, against ccusage ({ratio:.2}×)",
                full.bytes as f64 / 1e6
            ))
            .check(IMPORT_OVER_CCUSAGE, Some(ratio * 100.0)),
        );
        notes.push(if tokens[0] == cc_tokens {
            "ccusage's token totals equal the import's".to_owned()
        } else {
            "WARNING: ccusage's token totals differ from the import's".to_owned()
        });
    } else {
        notes.push("no ccusage baseline: set AGENT_STRACE_CCUSAGE".to_owned());
    }

    // import --all again: nothing new, and every transcript grown (issue 10).
    writeln!(report)?;
    writeln!(
        report,
        "| import --all again | runs | nothing new: median | CPU s | peak RSS | ⅛ history, every transcript's last tenth new: median | CPU s | fresh import of it: median | CPU s |"
    )?;
    writeln!(report, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")?;
    let cut = write_cut_history(&small, &work.join("history-small-cut"))?;
    for (n, (label, bin)) in builds.iter().enumerate() {
        eprintln!("figures: import --all of grown transcripts ({label})");
        let (mut grown, mut whole) = (Sample::default(), Sample::default());
        for _ in 0..runs {
            grow_once(bin, &stores, &store_dir, &small, &cut, &mut grown)?;
            import_once(bin, &stores, &store_dir, &small.claude, &mut whole, None)?;
        }
        writeln!(
            report,
            "| {label} | {runs} | {} | {:.2} | {} | {} | {:.2} | {} | {:.2} |",
            fmt_duration(median(&again[n].wall)),
            again[n].median_cpu(),
            fmt_kib(again[n].peak_kib),
            fmt_duration(median(&grown.wall)),
            grown.median_cpu(),
            fmt_duration(median(&whole.wall)),
            whole.median_cpu(),
        )?;
        if n == 0 {
            let share = |part: &Sample, of: &Sample| part.median_cpu() / of.median_cpu() * 100.0;
            verdicts.push(
                Verdict::new("import --all again")
                    .check(NOTHING_NEW, Some(share(&again[n], &samples[n])))
                    .check(GROWN, Some(share(&grown, &whole))),
            );
        }
    }

    // hook pre-tool: builds and sessions take turns, hook by hook.
    writeln!(report)?;
    writeln!(
        report,
        "| hook pre-tool, 2 KB payload | runs | median, new session | p99 | median, long session | p99 | events in the long session |"
    )?;
    writeln!(report, "|---|---:|---:|---:|---:|---:|---:|")?;
    eprintln!("figures: hook pre-tool");
    let mut hook_stores = Vec::new();
    for (n, (_, bin)) in builds.iter().enumerate() {
        let store = stores.fresh(&format!("hook-store-{n}"));
        let events = hook_store(bin, &work, &corpus, &store)?;
        hook_stores.push((store, events, Vec::new(), Vec::new()));
    }
    for i in 0..hook_runs + 20 {
        for ((_, bin), (store, _, short, long)) in builds.iter().zip(hook_stores.iter_mut()) {
            for (session, into) in [(SHORT_SESSION, &mut *short), (LONG_SESSION, &mut *long)] {
                let took = hook(bin, store, "pre-tool", &pre_tool(session, i))?;
                if i >= 20 {
                    into.push(took);
                }
            }
        }
    }
    for ((label, _), (store, events, short, long)) in builds.iter().zip(&hook_stores) {
        check_hook_store(store)?;
        writeln!(
            report,
            "| {label} | {hook_runs} | {} | {} | {} | {} | {events} |",
            fmt_duration(median(short)),
            fmt_duration(p99(short)),
            fmt_duration(median(long)),
            fmt_duration(p99(long)),
        )?;
        if *label == "this build" {
            let (a, b) = (median(short), median(long));
            verdicts.push(
                Verdict::new("hook pre-tool, 2 KB payload")
                    .check(
                        Target::time("median, new session", HOOK_MEDIAN),
                        Some(a.as_secs_f64()),
                    )
                    .check(
                        Target::time("median, long session", HOOK_MEDIAN),
                        Some(b.as_secs_f64()),
                    )
                    .check(
                        HOOK_GROWTH,
                        Some((b.as_secs_f64() / a.as_secs_f64().max(1e-9) - 1.0) * 100.0),
                    ),
            );
        }
    }

    // hook session-start: a new session each run, started in this checkout (a git repository,
    // maybe a linked worktree), so that its attribution reads git's files as a user's would.
    writeln!(report)?;
    writeln!(
        report,
        "| hook session-start, new session in a git checkout | runs | median | p99 |"
    )?;
    writeln!(report, "|---|---:|---:|---:|")?;
    eprintln!("figures: hook session-start");
    let mut starts: Vec<Vec<Duration>> = vec![Vec::new(); builds.len()];
    let start_stores: Vec<PathBuf> = (0..builds.len())
        .map(|n| stores.fresh(&format!("start-store-{n}")))
        .collect();
    for i in 0..hook_runs + 20 {
        for (n, ((_, bin), into)) in builds.iter().zip(starts.iter_mut()).enumerate() {
            let store = &start_stores[n];
            let payload = serde_json::json!({
                "session_id": format!("start-{n}-{i}"),
                "transcript_path": format!("/tmp/start-{n}-{i}.jsonl"),
                "cwd": root,
                "hook_event_name": "SessionStart",
                "source": "startup",
                "model": "claude-opus-4-5",
            })
            .to_string();
            let took = hook(bin, store, "session-start", &payload)?;
            if i >= 20 {
                into.push(took);
            }
        }
    }
    for (n, ((label, _), took)) in builds.iter().zip(&starts).enumerate() {
        check_hook_store(&start_stores[n])?;
        writeln!(
            report,
            "| {label} | {hook_runs} | {} | {} |",
            fmt_duration(median(took)),
            fmt_duration(p99(took)),
        )?;
        if *label == "this build" {
            verdicts.push(Verdict::new("hook session-start, in a git checkout").check(
                Target::time("median", HOOK_MEDIAN),
                Some(median(took).as_secs_f64()),
            ));
        }
    }

    println!("agent-strace figures: capture only");
    println!(
        "machine: {}\nload:    {load_start} at the start, {} at the end (1-minute load average)",
        machine(),
        load_average()
    );
    println!("binary:  {}", ours.display());
    println!(
        "history: {} files ({} main transcripts), {:.0} MB; ⅛ history: {} files, {:.0} MB; stores \
         written under {}\n",
        full.files,
        full.mains,
        full.bytes as f64 / 1e6,
        small.files,
        small.bytes as f64 / 1e6,
        store_dir.display(),
    );
    print!("{report}");
    println!();
    let mut table = String::from("| figure | target | verdict |\n|---|---|---|\n");
    for v in &verdicts {
        writeln!(table, "| {} | {} | {} |", v.figure, v.targets(), v.cell())?;
    }
    print!("{table}");
    print_verdict(&verdicts, &notes);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The history
// ---------------------------------------------------------------------------------------------

struct History {
    claude: PathBuf,
    files: usize,
    mains: usize,
    bytes: u64,
}

/// A main transcript of the corpus and its subagents' files.
struct Source {
    main: PathBuf,
    subagents: Vec<PathBuf>,
    session: String,
}

fn sources(corpus: &Path) -> Res<Vec<Source>> {
    let mut out = Vec::new();
    let mut dirs = vec![corpus.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if !path.ends_with("subagents") && path.file_name().is_some() {
                    dirs.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "jsonl")
                || path.parent().is_some_and(|p| p.ends_with("subagents"))
            {
                continue;
            }
            let text = std::fs::read_to_string(&path)?;
            let Some(session) = text.lines().find_map(|l| {
                serde_json::from_str::<Value>(l)
                    .ok()?
                    .get("sessionId")?
                    .as_str()
                    .map(str::to_owned)
            }) else {
                continue;
            };
            let mut subagents: Vec<PathBuf> =
                std::fs::read_dir(path.with_extension("").join("subagents"))
                    .map(|d| d.flatten().map(|e| e.path()).collect())
                    .unwrap_or_default();
            subagents.sort();
            out.push(Source {
                main: path,
                subagents,
                session,
            });
        }
    }
    out.sort_by(|a, b| a.main.cmp(&b.main));
    Ok(out)
}

/// `text` with fresh ids for copy `n`: the session id, and message and request ids (ccusage
/// counts a response once across all files).
fn fresh(text: &str, old_session: &str, new_session: &str, n: usize) -> String {
    text.replace(old_session, new_session)
        .replace("\"msg_", &format!("\"msg_c{n}x"))
        .replace("\"req_", &format!("\"req_c{n}x"))
}

/// `text` made a conversation of its own for copy `n`, not a repeat of the others in one file:
/// entry and tool-use ids of its own, and its times moved `n` years on.
fn distinct(text: &str, n: usize) -> String {
    let mut text = text
        .replace("\"uuid\":\"", &format!("\"uuid\":\"c{n}x"))
        .replace("\"parentUuid\":\"", &format!("\"parentUuid\":\"c{n}x"))
        .replace("\"toolu_", &format!("\"toolu_c{n}x"));
    // Latest year first, so that a year moved on is not moved again.
    for year in (2020..=2030).rev() {
        text = text.replace(
            &format!("\"timestamp\":\"{year}-"),
            &format!("\"timestamp\":\"{}-", year + n),
        );
    }
    text
}

fn write_history(corpus: &Path, dir: &Path, min_bytes: u64, min_files: usize) -> Res<History> {
    let claude = dir.join("claude");
    let marker = dir.join("done");
    let want = format!("{min_bytes} {min_files}");
    if std::fs::read_to_string(&marker).is_ok_and(|m| m.starts_with(&want)) {
        let m = std::fs::read_to_string(&marker)?;
        let parts: Vec<u64> = m
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        if let [_, _, files, mains, bytes] = parts[..] {
            return Ok(History {
                claude,
                files: files as usize,
                mains: mains as usize,
                bytes,
            });
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    let sources = sources(corpus)?;
    let texts: Vec<(String, Vec<(String, String)>)> = sources
        .iter()
        .map(|s| {
            let main = std::fs::read_to_string(&s.main)?;
            let subs = s
                .subagents
                .iter()
                .map(|p| {
                    Ok((
                        p.file_name()
                            .unwrap_or_default()
                            .to_string_lossy()
                            .into_owned(),
                        std::fs::read_to_string(p)?,
                    ))
                })
                .collect::<std::io::Result<Vec<_>>>()?;
            Ok((main, subs))
        })
        .collect::<std::io::Result<_>>()?;
    let (mut bytes, mut files, mut mains, mut copy) = (0u64, 0usize, 0usize, 0usize);
    while bytes < min_bytes || files < min_files {
        let project = claude
            .join("projects")
            .join(format!("-bench-project-{copy}"));
        std::fs::create_dir_all(&project)?;
        for (source, (main, subs)) in sources.iter().zip(&texts) {
            let session = uuid::Uuid::new_v4().to_string();
            let path = project.join(format!("{session}.jsonl"));
            let text = fresh(main, &source.session, &session, copy);
            std::fs::write(&path, &text)?;
            bytes += text.len() as u64;
            files += 1;
            mains += 1;
            if !subs.is_empty() {
                let sub_dir = project.join(&session).join("subagents");
                std::fs::create_dir_all(&sub_dir)?;
                for (name, sub) in subs {
                    let text = fresh(sub, &source.session, &session, copy);
                    std::fs::write(sub_dir.join(name), &text)?;
                    bytes += text.len() as u64;
                    files += 1;
                }
            }
        }
        copy += 1;
    }
    std::fs::write(&marker, format!("{want} {files} {mains} {bytes}"))?;
    Ok(History {
        claude,
        files,
        mains,
        bytes,
    })
}

// ---------------------------------------------------------------------------------------------
// Running commands
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Sample {
    wall: Vec<Duration>,
    /// User + system CPU seconds of each run.
    cpu: Vec<f64>,
    peak_kib: u64,
    cpu_per_wall: f64,
}

impl Sample {
    fn add(&mut self, wall: Duration, kib: u64, ratio: f64, cpu: f64) {
        self.wall.push(wall);
        self.cpu.push(cpu);
        self.peak_kib = self.peak_kib.max(kib);
        self.cpu_per_wall = self.cpu_per_wall.max(ratio);
    }

    fn median_cpu(&self) -> f64 {
        let mut v = self.cpu.clone();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or_default()
    }
}

/// Runs `cmd` under GNU time; returns its wall time, stdout, peak KiB, CPU/wall and CPU seconds.
fn timed(cmd: &Command, work: &Path) -> Res<(Duration, Vec<u8>, u64, f64, f64)> {
    let stats = work.join("time.txt");
    let mut wrapped = Command::new(GNU_TIME);
    wrapped
        .arg("-o")
        .arg(&stats)
        .arg("-f")
        .arg(GNU_TIME_FORMAT)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    let started = Instant::now();
    let out = wrapped
        .stderr(Stdio::null())
        .stdin(Stdio::null())
        .output()?;
    let wall = started.elapsed();
    if !out.status.success() {
        return Err(format!(
            "{:?} failed: {}",
            cmd.get_args().collect::<Vec<_>>(),
            out.status
        )
        .into());
    }
    let usage = read_usage(&stats).ok_or("GNU time wrote no usage (apt-get install -y time)")?;
    let ratio = if usage.wall_s > 0.0 {
        usage.cpu_s / usage.wall_s
    } else {
        0.0
    };
    Ok((wall, out.stdout, usage.peak_kib, ratio, usage.cpu_s))
}

type Tokens = [u64; 4];

/// Every store a run writes, each under a name of its own, removed together once the run is
/// over (and any a run that stopped short left, when the next starts).
///
/// Removed one by one, each store would slow the next: on an ext4 without a journal (this
/// machine's disk), allocating an inode skips those freed in the last minute (the last six,
/// while their table block is unwritten), reading the inode table to find them, so an import
/// made right after 5,400 files were removed paid about a second and a half of kernel time
/// for it, and a `session-start` after the imports paid for theirs. A user imports once.
struct Stores {
    dir: PathBuf,
    made: std::cell::Cell<usize>,
}

impl Stores {
    fn new(under: &Path) -> Res<Stores> {
        let dir = under.join("stores");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        Ok(Stores {
            dir,
            made: std::cell::Cell::new(0),
        })
    }

    /// A path no store of this run has had.
    fn fresh(&self, name: &str) -> PathBuf {
        let n = self.made.get();
        self.made.set(n + 1);
        self.dir.join(format!("{name}-{n}"))
    }
}

impl Drop for Stores {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One `import --all` into a fresh store, timed, with text output (as a person runs it); and,
/// into `again`, the same command once more over the store it made (nothing new).
fn import_once(
    bin: &Path,
    stores: &Stores,
    work: &Path,
    claude: &Path,
    sample: &mut Sample,
    again: Option<&mut Sample>,
) -> Res<()> {
    let store = stores.fresh("import");
    let mut cmd = Command::new(bin);
    cmd.arg("--trace-dir")
        .arg(&store)
        .args(["import", "--all", "--claude-dir"])
        .arg(claude)
        .env("AGENT_STRACE_HOME", work.join("agent-strace-home"))
        .env_remove("AGENT_STRACE_REDACT");
    let (wall, _, kib, ratio, cpu) = timed(&cmd, work)?;
    sample.add(wall, kib, ratio, cpu);
    if let Some(again) = again {
        let (wall, _, kib, ratio, cpu) = timed(&cmd, work)?;
        again.add(wall, kib, ratio, cpu);
    }
    Ok(())
}

/// The history `from` as Claude Code had written it a while before: every file without the last
/// tenth of its lines, under `dir` (the same names under `claude/`).
fn write_cut_history(from: &History, dir: &Path) -> Res<PathBuf> {
    let claude = dir.join("claude");
    let _ = std::fs::remove_dir_all(dir);
    let mut dirs = vec![from.claude.clone()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d)?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path)?;
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            let keep = lines.len() - lines.len() / 10;
            let to = claude.join(path.strip_prefix(&from.claude)?);
            std::fs::create_dir_all(to.parent().unwrap_or(dir))?;
            std::fs::write(to, lines[..keep].concat())?;
        }
    }
    Ok(claude)
}

/// Copies `tree` over `onto`, file by file (the same names).
fn copy_tree(tree: &Path, onto: &Path) -> Res<()> {
    for entry in std::fs::read_dir(tree)?.flatten() {
        let (path, to) = (entry.path(), onto.join(entry.file_name()));
        if path.is_dir() {
            std::fs::create_dir_all(&to)?;
            copy_tree(&path, &to)?;
        } else {
            std::fs::copy(&path, &to)?;
        }
    }
    Ok(())
}

/// `import --all` of `history` cut short (untimed), then, the files grown to their whole length
/// in place, `import --all` again: timed.
fn grow_once(
    bin: &Path,
    stores: &Stores,
    work: &Path,
    history: &History,
    cut: &Path,
    sample: &mut Sample,
) -> Res<()> {
    let store = stores.fresh("grow");
    let claude = work.join("grow").join("claude");
    let _ = std::fs::remove_dir_all(&claude);
    std::fs::create_dir_all(&claude)?;
    copy_tree(cut, &claude)?;
    let mut cmd = Command::new(bin);
    cmd.arg("--trace-dir")
        .arg(&store)
        .args(["import", "--all", "--claude-dir"])
        .arg(&claude)
        .env_remove("AGENT_STRACE_REDACT");
    timed(&cmd, work)?;
    copy_tree(&history.claude, &claude)?;
    let (wall, _, kib, ratio, cpu) = timed(&cmd, work)?;
    sample.add(wall, kib, ratio, cpu);
    let _ = std::fs::remove_dir_all(&claude);
    Ok(())
}

/// An untimed `import --all --format json`: the tokens it reports, summed.
fn import_tokens(bin: &Path, stores: &Stores, work: &Path, claude: &Path) -> Res<Tokens> {
    let store = stores.fresh("tokens");
    let out = Command::new(bin)
        .arg("--trace-dir")
        .arg(&store)
        .args(["import", "--all", "--claude-dir"])
        .arg(claude)
        .args(["--format", "json"])
        .env("AGENT_STRACE_HOME", work.join("agent-strace-home"))
        .env_remove("AGENT_STRACE_REDACT")
        .stderr(Stdio::null())
        .output()?;
    let mut tokens = [0; 4];
    let reports: Value = serde_json::from_slice(&out.stdout)?;
    for r in reports.as_array().into_iter().flatten() {
        for (n, key) in ["input", "output", "cache_creation", "cache_read"]
            .iter()
            .enumerate()
        {
            tokens[n] += r["tokens"][key].as_u64().unwrap_or(0);
        }
    }
    Ok(tokens)
}

/// One `ccusage session` over the same Claude folder; the totals it reports.
fn ccusage_once(cc: &Path, work: &Path, claude: &Path, sample: &mut Sample) -> Res<Tokens> {
    let mut cmd = Command::new(cc);
    cmd.args(["session", "--json", "--offline"])
        .env("CLAUDE_CONFIG_DIR", claude);
    let (wall, out, kib, ratio, cpu) = timed(&cmd, work)?;
    sample.add(wall, kib, ratio, cpu);
    let v: Value = serde_json::from_slice(&out)?;
    Ok([
        "inputTokens",
        "outputTokens",
        "cacheCreationTokens",
        "cacheReadTokens",
    ]
    .map(|k| v["totals"][k].as_u64().unwrap_or(0)))
}

const LONG_SESSION: &str = "0b5e55ed-1000-4000-8000-00000000a11c";
const SHORT_SESSION: &str = "0b5e55ed-2000-4000-8000-00000000005e";

/// A store for the hook figures: a long session (every corpus transcript in one file, ten times
/// over, imported) and a new one (one session-start). Returns the long session's event count.
fn hook_store(bin: &Path, work: &Path, corpus: &Path, store: &Path) -> Res<u64> {
    // Named after what it holds: copies that are distinct conversations (an import counts
    // history a file repeats once, issue 10).
    let long_file = work.join(format!("{LONG_SESSION}-distinct.jsonl"));
    if !long_file.exists() {
        let mut text = String::new();
        for (n, source) in sources(corpus)?.iter().enumerate() {
            let main = std::fs::read_to_string(&source.main)?;
            for copy in 0..10 {
                let k = n * 10 + copy;
                text.push_str(&distinct(
                    &fresh(&main, &source.session, LONG_SESSION, k),
                    k,
                ));
                if !text.ends_with('\n') {
                    text.push('\n');
                }
            }
        }
        std::fs::write(&long_file, text)?;
    }
    let status = Command::new(bin)
        .arg("--trace-dir")
        .arg(store)
        .arg("import")
        .arg(&long_file)
        .env("AGENT_STRACE_HOME", work.join("agent-strace-home"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    if !status.success() {
        return Err("importing the long session failed".into());
    }
    hook(
        bin,
        store,
        "session-start",
        &format!(
            r#"{{"session_id":"{SHORT_SESSION}","hook_event_name":"SessionStart","source":"startup","cwd":"/tmp"}}"#
        ),
    )?;
    Ok(
        std::fs::read_to_string(store.join(LONG_SESSION).join("events.ndjson"))?
            .lines()
            .count() as u64,
    )
}

fn check_hook_store(store: &Path) -> Res<()> {
    if store.join("hook-errors.log").exists() {
        return Err(format!(
            "a hook logged an error: {}",
            std::fs::read_to_string(store.join("hook-errors.log"))?
        )
        .into());
    }
    Ok(())
}

fn pre_tool(session: &str, i: usize) -> String {
    let head = format!(
        r#"{{"session_id":"{session}","transcript_path":"/tmp/{session}.jsonl","cwd":"/tmp","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{{"command":"cargo test --run {i} "#
    );
    let pad = 2048usize.saturating_sub(head.len() + 4);
    format!("{head}{}\"}}}}", "x".repeat(pad))
}

fn hook(bin: &Path, store: &Path, event: &str, payload: &str) -> Res<Duration> {
    let started = Instant::now();
    let mut child = Command::new(bin)
        .args(["hook", event])
        .env("AGENT_TRACE_DIR", store)
        // The catalogue of stores goes beside the store, never into the real home.
        .env("AGENT_STRACE_HOME", store.with_extension("home"))
        .env_remove("AGENT_STRACE_REDACT")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(payload.as_bytes());
    }
    child.wait()?;
    Ok(started.elapsed())
}

// ---------------------------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------------------------

/// A row of the import table: runs, median, MB/s, CPU, peak RSS, and the ⅛ history's peak and
/// the token totals where there are ones.
fn import_row(
    label: &str,
    bytes: u64,
    sample: &Sample,
    small_peak_kib: Option<u64>,
    tokens: Option<Tokens>,
) -> String {
    let median = median(&sample.wall);
    format!(
        "| {label} | {} | {} | {:.0} | {:.2} | {:.2} | {} | {} | {} |",
        sample.wall.len(),
        fmt_duration(median),
        bytes as f64 / 1e6 / median.as_secs_f64(),
        sample.median_cpu(),
        sample.cpu_per_wall,
        fmt_kib(sample.peak_kib),
        small_peak_kib.map_or_else(|| "-".to_owned(), fmt_kib),
        tokens.map_or_else(|| "-".to_owned(), fmt_tokens),
    )
}

fn fmt_kib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn fmt_tokens(t: Tokens) -> String {
    format!("{} / {} / {} / {}", t[0], t[1], t[2], t[3])
}
