//! Long sessions of other agents through `agent-strace import`: a log is read one line at a
//! time, its events written as they are read, so the memory an import takes does not grow with
//! the log (a 200 MB Codex rollout took 2 GB).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{TestEnv, run_for_peak_memory_kib, shared};

/// The corpus log `sample` copied into one long session in `dir`, named `name`: its first line
/// (the session's start) once, then the rest `copies` times, each copy's call ids (those
/// beginning `"id_prefix`) its own.
fn long_log(sample: &str, id_prefix: &str, dir: &Path, name: &str, copies: usize) -> PathBuf {
    let text = std::fs::read_to_string(shared().join("corpus").join(sample)).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    let path = dir.join(name);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(out, "{first}").unwrap();
    let quoted = format!("\"{id_prefix}");
    for copy in 0..copies {
        let fresh = format!("\"{id_prefix}{copy}_");
        out.write_all(rest.replace(&quoted, &fresh).as_bytes())
            .unwrap();
    }
    out.flush().unwrap();
    path
}

const ROLLOUT: &str = "codex/madshn__localpush/rollout-2026-02-23T12-54-34-019c8a59-e9dd-71f0-9ae3-4079fe9726a9.jsonl";

fn long_rollout(dir: &Path, copies: usize) -> PathBuf {
    let name = ROLLOUT.rsplit('/').next().unwrap();
    long_log(ROLLOUT, "call_", dir, name, copies)
}

fn import_report(env: &TestEnv, path: &Path) -> (Value, u64) {
    let import = env.command(&["import", "--format", "json", path.to_str().unwrap()]);
    let (run, peak) = run_for_peak_memory_kib(&import);
    let report: Value = serde_json::from_str(&run.success().stdout).unwrap();
    (report[0].clone(), peak)
}

/// A Codex rollout of 32 MB is imported in a bounded memory, and reads as its copies do: the
/// whole file was held as JSON values, and every event on top, ten times the file.
#[test]
fn a_long_codex_rollout_is_imported_without_holding_it() {
    let env = TestEnv::new();
    let dir = env.path().join("one");
    std::fs::create_dir(&dir).unwrap();
    let one = long_rollout(&dir, 1);
    let (single, _) = import_report(&TestEnv::new(), &one);
    let copies = 32;
    let long = long_rollout(env.path(), copies);
    let size = std::fs::metadata(&long).unwrap().len();
    let (report, peak) = import_report(&env, &long);
    assert_eq!(report["status"], "imported", "{report}");
    let calls = |r: &Value| r["tool_calls"].as_u64().unwrap();
    assert_eq!(calls(&report), copies as u64 * calls(&single), "{report}");
    let stored = std::fs::read_to_string(
        env.store()
            .join(report["session_id"].as_str().unwrap())
            .join("events.ndjson"),
    )
    .unwrap();
    assert_eq!(
        stored.lines().count() as u64,
        report["events"].as_u64().unwrap()
    );
    assert_bounded(size, peak);
}

/// An import of any of these files, some 32 MB, holds some 35 MiB, most of it the program's
/// own; held whole, the Copilot file took 100 MiB, the rollout 350 MiB, the Gemini chat 120 MiB.
fn assert_bounded(size: u64, peak: u64) {
    let limit = 64 * 1024;
    assert!(
        peak < limit,
        "importing {size} bytes held {peak} KiB (limit {limit} KiB)"
    );
}

/// A Copilot CLI events file of 33 MB is imported in a bounded memory, and reads as its copies
/// do: the whole file was held as JSON values, and every event on top.
#[test]
fn a_long_copilot_session_is_imported_without_holding_it() {
    const EVENTS: &str = "copilot/Mai0313__VibeCodingTracker/copilot-session.jsonl";
    let env = TestEnv::new();
    let dir = env.path().join("one");
    std::fs::create_dir(&dir).unwrap();
    let one = long_log(EVENTS, "toolu_", &dir, "events.jsonl", 1);
    let (single, _) = import_report(&TestEnv::new(), &one);
    let copies = 200;
    let long = long_log(EVENTS, "toolu_", env.path(), "events.jsonl", copies);
    let size = std::fs::metadata(&long).unwrap().len();
    let (report, peak) = import_report(&env, &long);
    assert_eq!(report["status"], "imported", "{report}");
    for figure in ["tool_calls", "messages"] {
        let of = |r: &Value| r[figure].as_u64().unwrap();
        assert_eq!(
            of(&report),
            copies as u64 * of(&single),
            "{figure}: {report}"
        );
    }
    assert_bounded(size, peak);
}

/// A Gemini CLI JSONL chat of 32 MB is imported in a bounded memory, and reads as its copies
/// do: every message was held as a JSON value until the file was read (the replace and rewind
/// rules need the whole chat), and every event on top. Measured: this one held 120 MiB before,
/// 37 MiB now; an 80 MB chat 250 MiB before, 38 MiB now.
#[test]
fn a_long_gemini_chat_is_imported_without_holding_it() {
    const CHAT: &str = "gemini/Mai0313__VibeCodingTracker/gemini-session.jsonl";
    // Every id its copy's own: the messages' (a repeated one would replace the first) and the
    // calls'.
    const IDS: &str = "id\":\"";
    let env = TestEnv::new();
    let dir = env.path().join("one");
    std::fs::create_dir(&dir).unwrap();
    let one = long_log(CHAT, IDS, &dir, "session-long.jsonl", 1);
    let (single, _) = import_report(&TestEnv::new(), &one);
    let copies = 240;
    let long = long_log(CHAT, IDS, env.path(), "session-long.jsonl", copies);
    let size = std::fs::metadata(&long).unwrap().len();
    let (report, peak) = import_report(&env, &long);
    assert_eq!(report["status"], "imported", "{report}");
    for figure in ["tool_calls", "responses", "messages"] {
        let of = |r: &Value| r[figure].as_u64().unwrap();
        assert_eq!(
            of(&report),
            copies as u64 * of(&single),
            "{figure}: {report}"
        );
    }
    assert_bounded(size, peak);
}
