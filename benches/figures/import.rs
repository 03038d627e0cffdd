//! The import figure: `import` of a Claude Code transcript made from the corpus, in MB/s, at
//! flat memory, against `ccusage` reading the same file.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use serde_json::Value;

use crate::Res;
use crate::corpus::{Transcript, corpus_dir, load_corpus, write_transcripts};
use crate::table::{Target, Unit, Verdict, fmt_duration, fmt_ratio, fmt_rss, median, p99};
use crate::tool::{Drain, Sample, Tool, command};

/// Timed runs of `import` on each, and runs under GNU time.
pub(crate) const IMPORT_RUNS: usize = 5;
pub(crate) const IMPORT_RSS_RUNS: usize = 1;
/// Runs of the ccusage baseline on each.
pub(crate) const CCUSAGE_RUNS: usize = 3;
pub(crate) const CCUSAGE_RSS_RUNS: usize = 1;
/// The import target, in MB (10^6 bytes) of transcript per second of wall time.
pub(crate) const IMPORT_MB_S: f64 = 300.0;
pub(crate) const IMPORT_RSS_SLACK: f64 = 0.10;

/// The import figures: both transcripts generated from the corpus, imported by us and, with
/// `ccusage`, summed by ccusage. Returns the rows and a description of the transcripts.
pub(crate) fn bench_imports(
    ours: &Tool,
    work: &Path,
    ccusage: Option<&Path>,
    notes: &mut Vec<String>,
) -> Res<(Vec<ImportRow>, String)> {
    let dir = corpus_dir();
    let started = Instant::now();
    let corpus = load_corpus(&dir)?;
    let transcripts = write_transcripts(&corpus, &work.join("transcripts"))?;
    let info = format!(
        "the {} main transcripts of {} ({:.1} MB, {} JSON lines, {} other lines dropped) \
         repeated with fresh ids per copy into one session each of {}; generated in {}",
        corpus.files,
        dir.display(),
        corpus.bytes as f64 / 1e6,
        corpus.lines.len(),
        corpus.dropped,
        transcripts
            .iter()
            .map(|t| format!("{} bytes ({} lines, {} copies)", t.bytes, t.lines, t.copies))
            .collect::<Vec<_>>()
            .join(" and "),
        fmt_duration(started.elapsed())
    );
    drop(corpus);
    let cc_tool = ccusage.map(|program| Tool {
        program: program.to_path_buf(),
        home: ours.home.clone(),
        cwd: ours.cwd.clone(),
        gnu_time: ours.gnu_time,
    });
    let mut rows: Vec<ImportRow> = Vec::new();
    for t in &transcripts {
        let mb = t.bytes as f64 / 1e6;
        eprintln!("figures: import {mb:.0} MB");
        let (ours_sample, tokens) =
            bench_import(ours, work, t, IMPORT_RUNS, IMPORT_RSS_RUNS, notes)?;
        let cc_sample = match &cc_tool {
            Some(cc) => {
                eprintln!("figures: ccusage on {mb:.0} MB");
                match bench_ccusage(cc, work, t, tokens, CCUSAGE_RUNS, CCUSAGE_RSS_RUNS, notes) {
                    Ok(sample) => Some(sample),
                    Err(e) => {
                        notes.push(format!("the ccusage baseline failed: {e}"));
                        None
                    }
                }
            }
            None => None,
        };
        rows.push(ImportRow {
            bytes: t.bytes,
            flat_vs_kib: rows.first().and_then(|r| r.ours.peak_kib),
            ours: ours_sample,
            ccusage: cc_sample,
        });
    }
    for t in &transcripts {
        let _ = std::fs::remove_file(&t.path);
    }
    Ok((rows, info))
}

/// Tokens in, out, cache write, cache read.
pub(crate) type Tokens = [u64; 4];

/// Imports `transcript` into a fresh store each run (created by the import, removed after it,
/// untimed). The first, untimed, run reports in JSON, and its figures are checked; returns the
/// token totals it reported.
pub(crate) fn bench_import(
    tool: &Tool,
    work: &Path,
    transcript: &Transcript,
    runs: usize,
    rss_runs: usize,
    notes: &mut Vec<String>,
) -> Res<(Sample, Option<Tokens>)> {
    let file = transcript.path.to_string_lossy().into_owned();
    let run_in = |store: &Path, json: bool| {
        let store = store.to_string_lossy().into_owned();
        let mut args = vec!["--trace-dir", &store, "import", &file];
        if json {
            args.extend(["--format", "json"]);
        }
        command(None, &args)
    };
    let store = work.join("import-check");
    let report = tool.output(&run_in(&store, true));
    std::fs::remove_dir_all(&store)?;
    let (note, tokens) = check_import(transcript, &report?);
    notes.push(note);
    let sample = tool.repeat_with(0, runs, rss_runs, |i, rss| {
        let store = work.join(format!("import-{i}"));
        let result = tool.once(&run_in(&store, false), None, Drain::Yes, rss);
        std::fs::remove_dir_all(&store)?;
        result
    })?;
    Ok((sample, tokens))
}

/// The import must have read every line, and found every response and tool call.
pub(crate) fn check_import(t: &Transcript, stdout: &[u8]) -> (String, Option<Tokens>) {
    let Ok(reports) = serde_json::from_slice::<Value>(stdout) else {
        return (
            "WARNING: import --format json printed no JSON".to_owned(),
            None,
        );
    };
    let r = &reports[0];
    let n = |k: &str| r[k].as_u64().unwrap_or(0);
    let tokens = ["input", "output", "cache_creation", "cache_read"]
        .map(|k| r["tokens"][k].as_u64().unwrap_or(0));
    let malformed = r["malformed"].as_array().map_or(0, Vec::len);
    let found = format!(
        "{} lines, {} responses, {} tool calls, {malformed} malformed, {} events written, \
         {}",
        n("lines"),
        n("responses"),
        n("tool_calls"),
        n("events"),
        fmt_tokens(tokens)
    );
    let ok = n("lines") == t.lines
        && n("responses") == t.responses
        && n("tool_calls") == t.tool_calls
        && malformed == 0
        && r["session_id"] == t.session_id.as_str();
    let note = if ok {
        format!(
            "import of the {:.0} MB transcript: {found}: as generated",
            t.bytes as f64 / 1e6
        )
    } else {
        format!(
            "WARNING: import of the {:.0} MB transcript found {found}; generated {} lines, {} \
             responses, {} tool calls",
            t.bytes as f64 / 1e6,
            t.lines,
            t.responses,
            t.tool_calls
        )
    };
    (note, Some(tokens))
}

pub(crate) fn fmt_tokens([input, output, write, read]: Tokens) -> String {
    format!("tokens in {input} / out {output} / cache write {write} / cache read {read}")
}

/// `ccusage session --json --offline` with the transcript as its only session.
pub(crate) fn bench_ccusage(
    tool: &Tool,
    work: &Path,
    transcript: &Transcript,
    ours: Option<Tokens>,
    runs: usize,
    rss_runs: usize,
    notes: &mut Vec<String>,
) -> Res<Sample> {
    let config = work.join(format!("ccusage-{}", transcript.session_id));
    let project = config.join("projects").join("bench");
    std::fs::create_dir_all(&project)?;
    let file = project.join(format!("{}.jsonl", transcript.session_id));
    if std::fs::hard_link(&transcript.path, &file).is_err() {
        std::fs::copy(&transcript.path, &file)?;
    }
    let mut cmd = command(None, &["session", "--json", "--offline"]);
    cmd.env.push(("CLAUDE_CONFIG_DIR", config));
    let out: Value = serde_json::from_slice(&tool.output(&cmd)?)?;
    let sessions = out["session"].as_array().map_or(0, Vec::len);
    let tokens = [
        "inputTokens",
        "outputTokens",
        "cacheCreationTokens",
        "cacheReadTokens",
    ]
    .map(|k| out["totals"][k].as_u64().unwrap_or(0));
    let verdict = if ours == Some(tokens) {
        "the same as the import's"
    } else {
        "NOT the import's"
    };
    notes.push(format!(
        "ccusage on the {:.0} MB transcript: {sessions} session(s), {}: {verdict}",
        transcript.bytes as f64 / 1e6,
        fmt_tokens(tokens)
    ));
    tool.repeat(&cmd, None, Drain::Yes, 0, runs, rss_runs)
}

/// One transcript size: ours, and the ccusage baseline.
pub(crate) struct ImportRow {
    pub(crate) bytes: u64,
    pub(crate) ours: Sample,
    pub(crate) ccusage: Option<Sample>,
    /// The peak RSS this one may not exceed by more than [`IMPORT_RSS_SLACK`]: the smallest
    /// transcript's.
    pub(crate) flat_vs_kib: Option<u64>,
}

impl ImportRow {
    pub(crate) fn name(&self) -> String {
        format!("import, {:.0} MB transcript", self.bytes as f64 / 1e6)
    }

    /// MB (10^6 bytes) per second of median wall time.
    pub(crate) fn rate(&self, sample: &Sample) -> f64 {
        self.bytes as f64 / 1e6 / median(&sample.wall).as_secs_f64().max(1e-9)
    }

    /// The figure against its targets: the rate, and peak RSS no more than
    /// [`IMPORT_RSS_SLACK`] above the smallest transcript's.
    pub(crate) fn verdict(&self) -> Verdict {
        let rate = Target::at_least("rate", IMPORT_MB_S, Unit::PerSecond("MB/s"));
        let verdict = Verdict::new(self.name()).check(rate, Some(self.rate(&self.ours)));
        match self.flat_vs_kib {
            Some(first) => verdict.check(
                Target::at_most(
                    "peak RSS over the smallest file's",
                    IMPORT_RSS_SLACK * 100.0,
                    Unit::Percent,
                ),
                self.ours.peak_kib.map(|peak| growth(first, peak)),
            ),
            None => verdict,
        }
    }
}

/// How much larger `peak` is than `first`, in percent.
pub(crate) fn growth(first: u64, peak: u64) -> f64 {
    (peak as f64 - first as f64) / (first.max(1) as f64) * 100.0
}

pub(crate) fn print_import(rows: &[ImportRow], info: Option<&str>, ccusage: Option<&Path>) {
    let Some(info) = info else { return };
    println!();
    println!("transcript import: {info}");
    if let Some(cc) = ccusage {
        println!("ccusage: {}", cc.display());
    }
    println!();
    let mut header = String::from(
        "| figure | runs | median | MB/s | slowest | peak RSS | CPU/wall | target | verdict |",
    );
    let mut rule = String::from("|---|---:|---:|---:|---:|---:|---:|---|---|");
    if ccusage.is_some() {
        header.push_str(
            " ccusage runs | ccusage median | ccusage MB/s | ccusage peak RSS | ccusage CPU/wall |",
        );
        rule.push_str("---:|---:|---:|---:|---:|");
    }
    println!("{header}");
    println!("{rule}");
    for row in rows {
        let verdict = row.verdict();
        let mut line = format!(
            "| {} | {} | {} | {:.0} | {} | {} | {} | {} | {} |",
            row.name(),
            row.ours.wall.len(),
            fmt_duration(median(&row.ours.wall)),
            row.rate(&row.ours),
            fmt_duration(p99(&row.ours.wall)),
            fmt_rss(row.ours.peak_kib),
            fmt_ratio(row.ours.cpu_per_wall),
            verdict.targets(),
            verdict.cell(),
        );
        if ccusage.is_some() {
            match &row.ccusage {
                Some(cc) => {
                    let _ = write!(
                        line,
                        " {} | {} | {:.0} | {} | {} |",
                        cc.wall.len(),
                        fmt_duration(median(&cc.wall)),
                        row.rate(cc),
                        fmt_rss(cc.peak_kib),
                        fmt_ratio(cc.cpu_per_wall)
                    );
                }
                None => line.push_str(" - | - | - | - | - |"),
            }
        }
        println!("{line}");
    }
}
