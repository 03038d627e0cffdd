//! The least any import of a history must do, timed beside `import --all`: read every file,
//! check that every line is JSON, and write a store of the same shape. It shows how much of the
//! capture figures' import target this machine leaves for the import's own work.
//!
//! What it does, on as many threads as the import: each file read line by line through a
//! 1 MiB buffer, each line checked by serde_json without keeping a value, and for each file a
//! folder holding `meta.json`, `.counters` and `.import` (a few bytes each) and an
//! `events.ndjson` that gets a third of every line's bytes (the import writes 161 MB of
//! sessions for 511 MB of transcripts). What it leaves out is all the import is for: decoding
//! entries, building and numbering events, redacting secrets, pricing tokens.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::de::IgnoredAny;

use crate::Res;

/// The flag that runs the floor in a process of its own: `--import-floor CLAUDE_DIR STORE`.
pub(crate) const IMPORT_FLOOR: &str = "--import-floor";

/// The command that runs the floor over `claude`'s transcripts into `store`, to be timed as the
/// import is.
pub(crate) fn command(claude: &Path, store: &Path) -> Res<Command> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.arg(IMPORT_FLOOR).arg(claude).arg(store);
    Ok(cmd)
}

/// The floor's process: `args` are this binary's arguments.
pub(crate) fn run(args: &[String]) -> Res<()> {
    let at = args.iter().position(|a| a == IMPORT_FLOOR).unwrap_or(0);
    let (Some(claude), Some(store)) = (args.get(at + 1), args.get(at + 2)) else {
        return Err(format!("usage: {IMPORT_FLOOR} CLAUDE_DIR STORE").into());
    };
    let mut files = Vec::new();
    transcripts(Path::new(claude), &mut files)?;
    let store = Path::new(store);
    std::fs::create_dir_all(store)?;
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| -> Result<(), String> {
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(n) else {
                            return Ok(());
                        };
                        copy_checked(file, &store.join(format!("session-{n}")))
                            .map_err(|e| format!("{}: {e}", file.display()))?;
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().map_err(|_| "a floor thread panicked".to_owned())?)
    })?;
    Ok(())
}

/// `file`'s lines checked, and a third of each written into a session folder at `folder`.
fn copy_checked(file: &Path, folder: &Path) -> std::io::Result<()> {
    std::fs::create_dir(folder)?;
    for name in ["meta.json", ".counters", ".import"] {
        std::fs::write(folder.join(name), b"{}\n")?;
    }
    let mut out = BufWriter::with_capacity(
        256 * 1024,
        std::fs::File::create(folder.join("events.ndjson"))?,
    );
    let mut reader = BufReader::with_capacity(1 << 20, std::fs::File::open(file)?);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if serde_json::from_slice::<IgnoredAny>(&line).is_ok() {
            out.write_all(&line[..line.len() / 3])?;
        }
    }
    out.flush()
}

/// Every `.jsonl` file under `dir`.
fn transcripts(dir: &Path, into: &mut Vec<PathBuf>) -> Res<()> {
    for entry in std::fs::read_dir(dir)?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            transcripts(&path, into)?;
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            into.push(path);
        }
    }
    Ok(())
}
