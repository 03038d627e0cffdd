//! The corpus of real Claude Code transcripts, and transcripts of any size made from it: the
//! corpus written over and over, each copy with fresh ids.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::Res;
use crate::generator::session_uuid;

/// Sizes of the transcripts generated for `import`, in bytes. Peak RSS may not grow from the
/// first to the others by more than [`crate::import::IMPORT_RSS_SLACK`], about the run-to-run
/// noise.
pub(crate) const IMPORT_SIZES: [u64; 2] = [50_000_000, 200_000_000];

/// The real Claude Code transcripts the generated ones are made of: `AGENT_STRACE_CORPUS`, else
/// the shared corpus beside the repository.
pub(crate) fn corpus_dir() -> PathBuf {
    std::env::var_os("AGENT_STRACE_CORPUS")
        .filter(|p| !p.is_empty())
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/claude-code"),
            PathBuf::from,
        )
}

/// The lines of every main transcript in the corpus, parsed once.
pub(crate) struct Corpus {
    pub(crate) files: usize,
    pub(crate) bytes: u64,
    pub(crate) lines: Vec<Value>,
    /// Lines that are not a JSON object (the corpus has a few `//` comments).
    pub(crate) dropped: usize,
}

pub(crate) fn load_corpus(dir: &Path) -> Res<Corpus> {
    let mut files = Vec::new();
    collect_transcripts(dir, &mut files)
        .map_err(|e| format!("cannot read the corpus {}: {e}", dir.display()))?;
    files.sort();
    if files.is_empty() {
        return Err(format!("no transcripts in {}", dir.display()).into());
    }
    let mut corpus = Corpus {
        files: files.len(),
        bytes: 0,
        lines: Vec::new(),
        dropped: 0,
    };
    for file in &files {
        let text = std::fs::read(file)?;
        corpus.bytes += text.len() as u64;
        for line in text.split(|b| *b == b'\n').map(<[u8]>::trim_ascii) {
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice::<Value>(line) {
                Ok(value @ Value::Object(_)) => corpus.lines.push(value),
                _ => corpus.dropped += 1,
            }
        }
    }
    Ok(corpus)
}

/// Main transcripts: the `*.jsonl` files under `dir`, except those in `subagents` folders.
fn collect_transcripts(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "subagents") {
                collect_transcripts(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            out.push(path);
        }
    }
    Ok(())
}

/// A generated transcript, and what an import of it must find.
pub(crate) struct Transcript {
    pub(crate) path: PathBuf,
    pub(crate) session_id: String,
    pub(crate) bytes: u64,
    pub(crate) lines: u64,
    /// Corpus copies begun (the last one is cut where the file reached its size).
    pub(crate) copies: usize,
    /// API responses: distinct `message.id` + `requestId` of assistant lines.
    pub(crate) responses: u64,
    /// `tool_use` blocks of assistant lines.
    pub(crate) tool_calls: u64,
}

/// Keys whose string value names a line, a response or a tool call; each copy of the corpus
/// gets its own by a `-c<N>` suffix. `parentUuid` and the like get the same suffix as the
/// `uuid` they name, so links stay within their copy.
const ID_KEYS: [&str; 12] = [
    "uuid",
    "parentUuid",
    "leafUuid",
    "logicalParentUuid",
    "messageId",
    "snapshotMessageId",
    "requestId",
    "toolUseID",
    "parentToolUseID",
    "sourceToolAssistantUUID",
    "sourceToolUseID",
    "tool_use_id",
];

/// Makes one copy of a corpus line unique: ids get `suffix`, every `sessionId` becomes
/// `session_id`. An `id` is rewritten when it is an API message or tool-use id.
fn rewrite_ids(value: &mut Value, suffix: &str, session_id: &str) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if let Value::String(s) = v {
                    if key == "sessionId" {
                        session_id.clone_into(s);
                    } else if ID_KEYS.contains(&key.as_str())
                        || (key == "id"
                            && ["msg_", "toolu_", "srvtoolu_"]
                                .iter()
                                .any(|p| s.starts_with(p)))
                    {
                        s.push_str(suffix);
                    }
                } else {
                    rewrite_ids(v, suffix, session_id);
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                rewrite_ids(v, suffix, session_id);
            }
        }
        _ => {}
    }
}

/// Writes the corpus over and over, each copy with its own ids, as one session of `size`
/// bytes (cut after the line that reaches it).
pub(crate) fn write_transcript(
    corpus: &Corpus,
    path: &Path,
    session_id: &str,
    size: u64,
) -> Res<Transcript> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut t = Transcript {
        path: path.to_path_buf(),
        session_id: session_id.to_owned(),
        bytes: 0,
        lines: 0,
        copies: 0,
        responses: 0,
        tool_calls: 0,
    };
    let mut responses = std::collections::HashSet::new();
    let mut line = Vec::with_capacity(1 << 16);
    'copies: for copy in 1.. {
        t.copies = copy;
        let suffix = format!("-c{copy}");
        for original in &corpus.lines {
            let mut value = original.clone();
            rewrite_ids(&mut value, &suffix, session_id);
            if value["type"] == "assistant" && value["message"].is_object() {
                let key = (
                    value["message"]["id"].as_str().map(str::to_owned),
                    value["requestId"].as_str().map(str::to_owned),
                );
                // Lines without either id are a response each.
                if (key.0.is_none() && key.1.is_none()) || responses.insert(key) {
                    t.responses += 1;
                }
                if let Some(blocks) = value["message"]["content"].as_array() {
                    t.tool_calls +=
                        blocks.iter().filter(|b| b["type"] == "tool_use").count() as u64;
                }
            }
            line.clear();
            serde_json::to_writer(&mut line, &value)?;
            line.push(b'\n');
            out.write_all(&line)?;
            t.bytes += line.len() as u64;
            t.lines += 1;
            if t.bytes >= size {
                break 'copies;
            }
        }
    }
    // On disk before the runs, so that no writeback of it overlaps them.
    out.into_inner()
        .map_err(std::io::IntoInnerError::into_error)?
        .sync_all()?;
    Ok(t)
}

/// Both generated transcripts, written to `dir`.
pub(crate) fn write_transcripts(corpus: &Corpus, dir: &Path) -> Res<Vec<Transcript>> {
    std::fs::create_dir_all(dir)?;
    IMPORT_SIZES
        .iter()
        .enumerate()
        .map(|(i, &size)| {
            let session = session_uuid(0x1a2b + i as u64);
            let path = dir.join(format!("{}mb-{session}.jsonl", size / 1_000_000));
            write_transcript(corpus, &path, &session, size)
        })
        .collect()
}
