//! Building the session index from nothing over sessions the Python tool (0.103.0) wrote, shaped
//! as its `import` writes them ([`crate::generator::generate_python_import`]): a store of
//! [`SESSIONS`] sessions of 2 MB (about 100 MB), one session of 20 MB and one of 2 MB. They have
//! no `.counters`, so the index folds every event; MB/s of `events.ndjson` shows whether the
//! time grows with the bytes alone (the two single sessions, and the store against the 2 MB
//! session), and CPU/wall whether more than one core did the work.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::Res;
use crate::aggregates::{BUILD_RUNS, remove_index};
use crate::generator::{generate_python_import, session_uuid};
use crate::table::{Target, Verdict, fmt_duration, fmt_ratio, fmt_rss, median, p99};
use crate::tool::{Drain, Sample, Tool, command};

/// Sessions in the store, and the bytes of `events.ndjson` in each (and in the small session).
pub(crate) const SESSIONS: usize = 50;
const SESSION_BYTES: u64 = 2_000_000;
/// The one big session.
const BIG_BYTES: u64 = 20_000_000;
/// Session ids are `session_uuid(SEED + i)`; the big session's is `session_uuid(BIG_SEED)`,
/// the small one's `session_uuid(SMALL_SEED)`.
const SEED: u64 = 0x0103_0000;
const BIG_SEED: u64 = 0x0103_ffff;
const SMALL_SEED: u64 = 0x0103_fffe;
/// When the first session starts (2025-11-24), and how far apart they start, in seconds.
const STARTED: f64 = 1_763_990_000.125;
const SPACING: f64 = 3_600.0;
/// Runs under GNU time, after the timed ones.
const RSS_RUNS: usize = 1;
/// Issue 8's target for building the index of 10,000 sessions from nothing, held here to the
/// 100 MB store.
const BUILD: Duration = Duration::from_secs(5);

/// One store and the builds of its index.
pub(crate) struct IndexRow {
    name: String,
    bytes: u64,
    sample: Sample,
    /// The median's limit; none for the single sessions, given for their MB/s.
    target: Option<Duration>,
}

impl IndexRow {
    /// MB (10^6 bytes) of `events.ndjson` per second of median wall time.
    fn rate(&self) -> f64 {
        self.bytes as f64 / 1e6 / median(&self.sample.wall).as_secs_f64().max(1e-9)
    }

    pub(crate) fn verdict(&self) -> Verdict {
        let verdict = Verdict::new(&self.name);
        match self.target {
            Some(limit) => verdict.check(
                Target::time("median", limit),
                Some(median(&self.sample.wall).as_secs_f64()),
            ),
            None => verdict,
        }
    }
}

/// One generated store: its name in the table, where it is, what it holds, its target.
pub(crate) struct GenStore {
    name: String,
    pub(crate) root: PathBuf,
    expected: Expected,
    target: Option<Duration>,
}

impl GenStore {
    fn new(dir: &Path, folder: &str, target: Option<Duration>) -> Self {
        GenStore {
            name: String::new(),
            root: dir.join(folder).join(".agent-traces"),
            expected: Expected::default(),
            target,
        }
    }

    fn add(&mut self, seed: u64, started: f64, bytes: u64) -> Res<()> {
        let (info, _) =
            generate_python_import(&self.root, &session_uuid(seed), seed, started, bytes)?;
        self.expected.add(info.events, info.bytes, info.tool_calls);
        let e = &self.expected;
        self.name = format!(
            "build the index, {} Python-import session{}, {:.0} MB",
            e.sessions,
            if e.sessions == 1 { "" } else { "s" },
            e.bytes as f64 / 1e6
        );
        Ok(())
    }

    pub(crate) fn described(&self) -> String {
        let e = &self.expected;
        format!(
            "{} session(s), {} events, {:.1} MB of events, {} tool calls",
            e.sessions,
            e.events,
            e.bytes as f64 / 1e6,
            e.tool_calls
        )
    }
}

/// Writes the store of [`SESSIONS`] sessions to `dir/python-many/.agent-traces`, the big
/// session to `dir/python-one/.agent-traces` and the small one to
/// `dir/python-small/.agent-traces`.
pub(crate) fn write_stores(dir: &Path) -> Res<Vec<GenStore>> {
    let mut many = GenStore::new(dir, "python-many", Some(BUILD));
    for i in 0..SESSIONS {
        many.add(SEED + i as u64, STARTED + i as f64 * SPACING, SESSION_BYTES)?;
    }
    let mut one = GenStore::new(dir, "python-one", None);
    one.add(BIG_SEED, STARTED, BIG_BYTES)?;
    let mut small = GenStore::new(dir, "python-small", None);
    small.add(SMALL_SEED, STARTED, SESSION_BYTES)?;
    Ok(vec![many, one, small])
}

/// The figures: the store of many sessions, the big session, the small one.
pub(crate) fn bench_python_index(
    tool: &Tool,
    work: &Path,
    notes: &mut Vec<String>,
) -> Res<Vec<IndexRow>> {
    eprintln!("figures: generating {SESSIONS} sessions as the Python tool's import writes them");
    let started = Instant::now();
    let stores = write_stores(work)?;
    let described: Vec<String> = stores.iter().map(GenStore::described).collect();
    notes.push(format!(
        "the Python-import stores: {}; generated in {}",
        described.join("; "),
        fmt_duration(started.elapsed())
    ));
    let mut rows = Vec::new();
    for store in stores {
        eprintln!("figures: {}", store.name);
        let root = &store.root;
        let list_cmd = command(Some(root), &["list", "--format", "json"]);
        let sample = tool.repeat_with(0, BUILD_RUNS, RSS_RUNS, |_, rss| {
            remove_index(root);
            tool.once(&list_cmd, None, Drain::Yes, rss)
        })?;
        notes.push(store.expected.check(tool, root, &store.name)?);
        rows.push(IndexRow {
            name: store.name,
            bytes: store.expected.bytes,
            sample,
            target: store.target,
        });
    }
    Ok(rows)
}

/// What a generated store holds, to be found in its index.
#[derive(Default)]
struct Expected {
    sessions: u64,
    events: u64,
    bytes: u64,
    tool_calls: u64,
}

impl Expected {
    fn add(&mut self, events: usize, bytes: u64, tool_calls: u64) {
        self.sessions += 1;
        self.events += events as u64;
        self.bytes += bytes;
        self.tool_calls += tool_calls;
    }

    /// Whether the index just built holds every session, event and answered call.
    fn check(&self, tool: &Tool, root: &Path, name: &str) -> Res<String> {
        const QUERY: &str = "SELECT (SELECT count(*) FROM sessions) AS sessions, \
             (SELECT sum(events) FROM sessions) AS events, \
             (SELECT count(*) FROM tool_calls WHERE outcome = 'tool_result') AS answered";
        let out = tool.output(&command(Some(root), &["sql", "--format", "json", QUERY]))?;
        let got = serde_json::from_slice::<serde_json::Value>(&out)
            .ok()
            .and_then(|v| {
                let row = &v[0];
                Some((
                    row["sessions"].as_u64()?,
                    row["events"].as_u64()?,
                    row["answered"].as_u64()?,
                ))
            });
        let want = (self.sessions, self.events, self.tool_calls);
        Ok(match got {
            Some(got) if got == want => format!(
                "{name}: the index holds all {} sessions, {} events and {} answered calls",
                want.0, want.1, want.2
            ),
            Some(got) => format!(
                "WARNING: {name}: the index holds {got:?} (sessions, events, answered calls), \
                 not {want:?}"
            ),
            None => format!("WARNING: {name}: sql printed no JSON row"),
        })
    }
}

/// The table, and how the rates compare.
pub(crate) fn print_python_index(rows: &[IndexRow]) {
    if rows.is_empty() {
        return;
    }
    println!();
    println!(
        "the index built from nothing over the Python tool's sessions (no .counters: every \
         event folded):"
    );
    println!();
    println!(
        "| figure | runs | median | MB/s | slowest | peak RSS | CPU/wall | target | verdict |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|---|");
    for row in rows {
        let verdict = row.verdict();
        println!(
            "| {} | {} | {} | {:.0} | {} | {} | {} | {} | {} |",
            row.name,
            row.sample.wall.len(),
            fmt_duration(median(&row.sample.wall)),
            row.rate(),
            fmt_duration(p99(&row.sample.wall)),
            fmt_rss(row.sample.peak_kib),
            fmt_ratio(row.sample.cpu_per_wall),
            verdict.targets(),
            verdict.cell()
        );
    }
    if let [many, big, small] = rows {
        let ratio = |a: &IndexRow, b: &IndexRow| a.rate() / b.rate().max(1e-9);
        println!(
            "\nMB/s over the 2 MB session's: the 20 MB session {:.2}, the {SESSIONS}-session store \
             {:.2} (1.00: the time is in proportion to the bytes; above it, what each build \
             costs whatever its size weighs more on the 2 MB one; below it, a cost that grows \
             faster than the bytes)",
            ratio(big, small),
            ratio(many, small)
        );
    }
}
