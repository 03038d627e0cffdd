//! The session generator: deterministic Claude Code sessions as the hooks record them, one big
//! session for the per-session figures or a store of many for the figures over all sessions,
//! and sessions as the Python tool's `import` writes them ([`generate_python_import`]).
//!
//! Shared with the tests that need a big store (`tests/common/mod.rs` includes this file), so
//! it uses nothing but std and serde_json.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde_json::{Value, json};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Events in the big generated session.
pub(crate) const SESSION_EVENTS: usize = 100_000;
/// The project every generated session works in.
pub(crate) const PROJECT: &str = "/home/dev/project";
/// When the big session starts (Unix seconds), and the first of a generated store.
const STARTED: f64 = 1_763_900_000.25;
/// How far apart the sessions of a generated store start, in seconds.
const STORE_SPACING: f64 = 600.0;

/// Where Claude Code keeps the transcript of `session`.
pub(crate) fn transcript_path(session: &str) -> String {
    format!("/home/dev/.claude/projects/-home-dev-project/{session}.jsonl")
}

/// What [`generate`] wrote.
pub(crate) struct GenInfo {
    pub(crate) session_id: String,
    pub(crate) events: usize,
    pub(crate) bytes: u64,
    pub(crate) tool_calls: u64,
    pub(crate) errors: u64,
}

/// xorshift64*: small, deterministic, good enough to vary generated text.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn hex(&mut self, digits: usize) -> String {
        let mut s = String::with_capacity(digits);
        while s.len() < digits {
            let _ = write!(s, "{:016x}", self.next());
        }
        s.truncate(digits);
        s
    }
}

/// A version-4 UUID made from `seed`.
pub(crate) fn session_uuid(seed: u64) -> String {
    uuid(&mut Rng::new(seed))
}

/// The next version-4 UUID of `rng`.
fn uuid(rng: &mut Rng) -> String {
    let h = rng.hex(32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

const WORDS: &[&str] = &[
    "config", "parse", "session", "event", "store", "reader", "writer", "handle", "request",
    "buffer", "index", "token", "line", "path", "error", "result", "value", "output", "input",
    "cache", "lock", "counter", "offset", "record", "hook", "payload", "state", "tree", "node",
    "span", "limit", "filter", "render", "format", "replay", "stats", "meta", "pending", "claim",
];
const TYPES: &[&str] = &[
    "Event", "Store", "Session", "Config", "Counters", "Path", "String", "Value", "Reader",
    "Payload",
];
const DIRS: &[&str] = &[
    "src/store",
    "src/cli",
    "src/model",
    "src/capture",
    "src/render",
    "tests",
];
const PROMPTS: &[&str] = &[
    "The replay command shows the wrong duration for tool results that follow a compaction. \
     Find out why, fix it, and add a regression test next to the existing replay tests.",
    "Add a --since flag to list that takes a date or a relative time like 2h and filters the \
     sessions by their start time. Keep the output format unchanged otherwise.",
    "The hook is too slow when the session is large. Profile it and make the common path \
     cheaper without changing the store format.",
    "Refactor the stats module so the per-tool percentiles are computed in one pass, and make \
     sure the JSON output keeps the same keys.",
];

fn ident(rng: &mut Rng) -> String {
    format!("{}_{}", rng.pick(WORDS), rng.pick(WORDS))
}

fn code_line(rng: &mut Rng) -> String {
    match rng.below(7) {
        0 => format!(
            "    let {} = {}(&{})?;",
            ident(rng),
            ident(rng),
            rng.pick(WORDS)
        ),
        1 => format!(
            "    if {}.is_empty() {{ return Ok(None); }}",
            rng.pick(WORDS)
        ),
        2 => format!(
            "pub fn {}({}: &{}) -> Result<{}> {{",
            ident(rng),
            rng.pick(WORDS),
            rng.pick(TYPES),
            rng.pick(TYPES)
        ),
        3 => format!(
            "    // {} the {} before the {} is {}",
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.pick(WORDS)
        ),
        4 => "}".to_owned(),
        5 => format!(
            "    {}.{}({}, {});",
            rng.pick(WORDS),
            ident(rng),
            rng.pick(WORDS),
            rng.below(4096)
        ),
        _ => format!(
            "    match {} {{ Some(x) => x, None => \"{}\" }}",
            rng.pick(WORDS),
            rng.pick(WORDS)
        ),
    }
}

fn code(rng: &mut Rng, bytes: usize) -> String {
    let mut s = String::new();
    while s.len() < bytes {
        s.push_str(&code_line(rng));
        s.push('\n');
    }
    s
}

fn log_line(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => format!(
            "   Compiling {}-{} v0.{}.{}",
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.below(20),
            rng.below(10)
        ),
        1 => format!("test {}::{} ... ok", rng.pick(WORDS), ident(rng)),
        2 => format!(
            "{}/{}.rs:{}:{}: warning: unused variable `{}`",
            rng.pick(DIRS),
            rng.pick(WORDS),
            rng.range(1, 400),
            rng.range(1, 80),
            rng.pick(WORDS)
        ),
        3 => format!(
            "-rw-r--r-- 1 dev dev {:>6} Nov 24 10:{:02} {}.rs",
            rng.below(40_000),
            rng.below(60),
            rng.pick(WORDS)
        ),
        _ => format!(
            "test result: ok. {} passed; 0 failed; 0 ignored; finished in {}.{:02}s",
            rng.below(200),
            rng.below(9),
            rng.below(100)
        ),
    }
}

fn log(rng: &mut Rng, bytes: usize) -> String {
    let mut s = String::new();
    while s.len() < bytes {
        s.push_str(&log_line(rng));
        s.push('\n');
    }
    s
}

fn file_path(rng: &mut Rng) -> String {
    format!("{PROJECT}/{}/{}.rs", rng.pick(DIRS), rng.pick(WORDS))
}

/// One tool call: (tool, arguments, result, file event kind and path, error message).
struct Call {
    tool: &'static str,
    arguments: Value,
    result: Value,
    file: Option<(&'static str, String)>,
    error: Option<String>,
}

fn tool_call(rng: &mut Rng) -> Call {
    let roll = rng.below(100);
    let failing = rng.chance(0.03);
    let (tool, arguments, result, file, error) = match roll {
        0..=29 => {
            let command = match rng.below(4) {
                0 => "cargo test --workspace 2>&1 | tail -40".to_owned(),
                1 => format!(
                    "cargo clippy --all-targets -- -D warnings 2>&1 | grep {}",
                    rng.pick(WORDS)
                ),
                2 => format!("ls -la {PROJECT}/{}", rng.pick(DIRS)),
                _ => format!("git diff --stat HEAD~{}", rng.range(1, 9)),
            };
            let arguments = json!({"command": command, "description": "Check the build"});
            let n = rng.range(120, 320);
            let stdout = log(rng, n);
            let result = json!({
                "stdout": stdout,
                "stderr": "",
                "interrupted": false,
                "isImage": false,
            });
            let error = failing.then(|| {
                format!(
                    "Exit code 101\nerror[E0425]: cannot find value `{}` in this scope\n --> {}:{}:{}",
                    ident(rng),
                    file_path(rng),
                    rng.range(1, 400),
                    rng.range(1, 80)
                )
            });
            ("Bash", arguments, result, None, error)
        }
        30..=59 => {
            let path = file_path(rng);
            let content = {
                let n = rng.range(120, 360);
                code(rng, n)
            };
            let lines = content.lines().count();
            let result = json!({
                "type": "text",
                "file": {
                    "filePath": path,
                    "content": content,
                    "numLines": lines,
                    "startLine": 1,
                    "totalLines": lines + rng.below(300),
                },
            });
            let error = failing.then(|| format!("File does not exist: {path}"));
            let file = Some(("file_read", path.clone()));
            ("Read", json!({"file_path": path}), result, file, error)
        }
        60..=74 => {
            let path = file_path(rng);
            let old = {
                let n = rng.range(40, 120);
                code(rng, n)
            };
            let new = {
                let n = rng.range(40, 140);
                code(rng, n)
            };
            let arguments = json!({"file_path": path, "old_string": old, "new_string": new});
            let start = rng.range(1, 400);
            let patch: Vec<String> = old
                .lines()
                .map(|l| format!("-{l}"))
                .chain(new.lines().map(|l| format!("+{l}")))
                .collect();
            let result = json!({
                "filePath": path,
                "oldString": old,
                "newString": new,
                "structuredPatch": [{
                    "oldStart": start, "oldLines": old.lines().count(),
                    "newStart": start, "newLines": new.lines().count(),
                    "lines": patch,
                }],
                "userModified": false,
                "replaceAll": false,
            });
            let error = failing
                .then(|| "String to replace not found in file.\nString: ".to_owned() + old.trim());
            let file = Some(("file_write", path.clone()));
            ("Edit", arguments, result, file, error)
        }
        75..=84 => {
            let pattern = format!("fn {}", ident(rng));
            let files: Vec<String> = (0..rng.range(2, 9)).map(|_| file_path(rng)).collect();
            let arguments =
                json!({"pattern": pattern, "path": PROJECT, "output_mode": "files_with_matches"});
            let result =
                json!({"mode": "files_with_matches", "numFiles": files.len(), "filenames": files});
            ("Grep", arguments, result, None, None)
        }
        85..=92 => {
            let files: Vec<String> = (0..rng.range(3, 10)).map(|_| file_path(rng)).collect();
            let arguments = json!({"pattern": format!("{}/**/*.rs", rng.pick(DIRS))});
            let result = json!({
                "filenames": files, "durationMs": rng.range(2, 40),
                "numFiles": files.len(), "truncated": false,
            });
            ("Glob", arguments, result, None, None)
        }
        _ => {
            let path = file_path(rng);
            let content = {
                let n = rng.range(150, 400);
                code(rng, n)
            };
            let arguments = json!({"file_path": path, "content": content});
            let result = json!({"type": "create", "filePath": path, "structuredPatch": []});
            let file = Some(("file_write", path.clone()));
            ("Write", arguments, result, file, None)
        }
    };
    Call {
        tool,
        arguments,
        result,
        file,
        error,
    }
}

/// Writes events one line each, counting what it wrote.
struct Writer<'a> {
    out: BufWriter<File>,
    rng: &'a mut Rng,
    session: String,
    now: f64,
    lines: usize,
    bytes: u64,
    tool_calls: u64,
    errors: u64,
    first: f64,
    /// Whether each line after the first ends with a `prev_hash`, as the Python tool's store
    /// writes one (64 hex digits here, not the SHA-256 of the line before: nothing of ours
    /// checks the chain, it keeps the field as it is).
    chain: bool,
}

impl<'a> Writer<'a> {
    /// A writer of the session `session` in `dir`'s `events.ndjson`, starting at `started`.
    fn create(
        dir: &Path,
        rng: &'a mut Rng,
        session: &str,
        started: f64,
        chain: bool,
    ) -> Res<Writer<'a>> {
        let out = BufWriter::with_capacity(1 << 20, File::create(dir.join("events.ndjson"))?);
        Ok(Writer {
            out,
            rng,
            session: session.to_owned(),
            now: started,
            lines: 0,
            bytes: 0,
            tool_calls: 0,
            errors: 0,
            first: started,
            chain,
        })
    }
}

impl Writer<'_> {
    fn tick(&mut self, lo: f64, hi: f64) -> f64 {
        self.now += lo + self.rng.unit() * (hi - lo);
        self.now = (self.now * 1e6).round() / 1e6;
        self.now
    }

    fn emit(
        &mut self,
        kind: &str,
        parent: Option<&str>,
        duration_ms: Option<f64>,
        data: Value,
    ) -> Res<String> {
        let id = self.rng.hex(12);
        let mut event = serde_json::Map::new();
        event.insert("event_type".into(), kind.into());
        event.insert("timestamp".into(), self.now.into());
        event.insert("event_id".into(), id.clone().into());
        event.insert("session_id".into(), self.session.clone().into());
        if let Some(p) = parent {
            event.insert("parent_id".into(), p.into());
        }
        if let Some(d) = duration_ms {
            event.insert("duration_ms".into(), d.into());
        }
        event.insert("data".into(), data);
        if self.chain && self.lines > 0 {
            event.insert("prev_hash".into(), self.rng.hex(64).into());
        }
        let mut line = serde_json::to_vec(&Value::Object(event))?;
        line.push(b'\n');
        self.out.write_all(&line)?;
        self.lines += 1;
        self.bytes += line.len() as u64;
        match kind {
            "tool_call" => self.tool_calls += 1,
            "error" => self.errors += 1,
            _ => {}
        }
        Ok(id)
    }

    /// A call, its result (or error), and the file event of a file tool: 2 or 3 lines.
    fn tool(&mut self) -> Res<()> {
        let call = tool_call(self.rng);
        self.tick(0.1, 1.5);
        let call_id = self.emit(
            "tool_call",
            None,
            None,
            json!({"tool_name": call.tool, "arguments": call.arguments}),
        )?;
        let started = self.now;
        self.tick(0.005, 2.0);
        let took = ((self.now - started) * 1000.0 * 1000.0).round() / 1000.0;
        if let Some(error) = call.error {
            self.emit(
                "error",
                Some(&call_id),
                Some(took),
                json!({"tool_name": call.tool, "error": error}),
            )?;
            return Ok(());
        }
        self.emit(
            "tool_result",
            Some(&call_id),
            Some(took),
            json!({"tool_name": call.tool, "result": call.result}),
        )?;
        if let Some((kind, path)) = call.file {
            self.emit(
                kind,
                Some(&call_id),
                None,
                json!({"path": path, "tool_name": call.tool}),
            )?;
        }
        Ok(())
    }

    /// A model response before a tool call, with usage that grows with the context.
    fn llm_response(&mut self) -> Res<()> {
        self.tick(0.5, 4.0);
        let model = if self.rng.chance(0.2) {
            "claude-haiku-4-5"
        } else {
            "claude-sonnet-4-5"
        };
        let fresh = self.rng.range(50, 4_000) as u64;
        let read = 20_000 + 40 * self.lines as u64;
        let input = self.rng.range(1, 20);
        let output = self.rng.range(20, 1_200);
        self.emit(
            "llm_response",
            None,
            None,
            json!({
                "model": model,
                "usage": {
                    "input_tokens": input,
                    "output_tokens": output,
                    "cache_creation_input_tokens": fresh,
                    "cache_read_input_tokens": read,
                },
            }),
        )?;
        Ok(())
    }

    fn prompt(&mut self) -> Res<()> {
        self.tick(5.0, 60.0);
        let prompt = self.rng.pick(PROMPTS).to_owned();
        self.emit("user_prompt", None, None, json!({ "prompt": prompt }))?;
        Ok(())
    }

    fn answer(&mut self) -> Res<()> {
        self.tick(1.0, 10.0);
        let text = format!(
            "Done. I changed `{}` in {} and `{}` in {}; `cargo test` passes. {}",
            ident(self.rng),
            file_path(self.rng),
            ident(self.rng),
            file_path(self.rng),
            "The remaining warning is unrelated and predates this change."
        );
        self.emit(
            "assistant_response",
            None,
            None,
            json!({"text": text, "stop_hook_active": false}),
        )?;
        Ok(())
    }
}

/// Writes a Claude Code session of [`SESSION_EVENTS`] events to `store/<session_id>/`, with a
/// `meta.json` holding its counters the way the Python tool keeps them (and no
/// `.counters`, as the Python tool writes none).
pub(crate) fn generate(store: &Path, session_id: &str, seed: u64) -> Res<GenInfo> {
    generate_session(store, session_id, seed, &Shape::big())
}

/// The shape of a generated session.
#[derive(Clone, Copy)]
pub(crate) struct Shape {
    /// Events written (at least 8: the first prompt, a tool call, the answer, the ends).
    pub(crate) events: usize,
    /// When the session starts, in Unix seconds.
    pub(crate) started: f64,
    /// Whether an `llm_response` with its model and usage comes before each tool call, as
    /// in a session imported from a transcript (the big session has none, as the hooks
    /// record none).
    pub(crate) usage: bool,
    /// Written as our hooks leave a session (a `.counters` lock file beside a `meta.json`
    /// without counters, so readers derive them from the events), rather than as the Python
    /// tool writes one (counters in `meta.json`, no `.counters`).
    pub(crate) ours: bool,
}

impl Shape {
    /// The big session of the per-session figures.
    pub(crate) fn big() -> Self {
        Shape {
            events: SESSION_EVENTS,
            started: STARTED,
            usage: false,
            ours: false,
        }
    }
}

/// Writes `sessions` sessions of `events` events each (with model usage) to `store`, started
/// [`STORE_SPACING`] seconds apart, each from its own seed; returns what each holds, oldest
/// first. Session ids are [`session_uuid`] of `seed + i`. Every other session is written as
/// our hooks leave one, the others as the Python tool does (see [`Shape::ours`]).
pub(crate) fn generate_store(
    store: &Path,
    sessions: usize,
    events: usize,
    seed: u64,
) -> Res<Vec<GenInfo>> {
    (0..sessions)
        .map(|i| {
            let seed = seed.wrapping_add(i as u64);
            let shape = Shape {
                events,
                started: STARTED + i as f64 * STORE_SPACING,
                usage: true,
                ours: i % 2 == 0,
            };
            generate_session(store, &session_uuid(seed), seed, &shape)
        })
        .collect()
}

/// Writes one session of `shape` to `store/<session_id>/`, its events and a `meta.json`.
pub(crate) fn generate_session(
    store: &Path,
    session_id: &str,
    seed: u64,
    shape: &Shape,
) -> Res<GenInfo> {
    let dir = store.join(session_id);
    std::fs::create_dir_all(&dir)?;
    let mut rng = Rng::new(seed);
    let started = shape.started;
    let mut w = Writer::create(&dir, &mut rng, session_id, started, false)?;
    w.emit(
        "session_start",
        None,
        None,
        json!({
            "source": "startup",
            "model": "claude-sonnet-4-5",
            "cwd": PROJECT,
            "transcript_path": transcript_path(session_id),
            "permission_mode": "default",
        }),
    )?;
    // Leave room for the last answer and the session_end.
    let last = shape.events.max(8) - 2;
    let mut since_prompt = usize::MAX;
    while w.lines < last {
        if since_prompt >= 198 {
            if since_prompt != usize::MAX {
                w.answer()?;
            }
            if w.lines < last {
                w.prompt()?;
            }
            since_prompt = 0;
            continue;
        }
        // A tool call writes up to 3 lines, 4 with its model response.
        if last - w.lines < 3 + usize::from(shape.usage) {
            w.answer()?;
            continue;
        }
        let before = w.lines;
        if shape.usage {
            w.llm_response()?;
        }
        w.tool()?;
        since_prompt += w.lines - before;
    }
    w.answer()?;
    w.tick(1.0, 5.0);
    w.emit(
        "session_end",
        None,
        None,
        json!({"reason": "prompt_input_exit"}),
    )?;
    let ended = w.now;
    w.out.flush()?;
    let info = GenInfo {
        session_id: session_id.to_owned(),
        events: w.lines,
        bytes: w.bytes,
        tool_calls: w.tool_calls,
        errors: w.errors,
    };
    let meta = if shape.ours {
        // The lock file our writers create with the session; empty, its counters cache is
        // rebuilt from the events by the first reader or writer that needs it.
        File::create(dir.join(".counters"))?;
        json!({
            "session_id": session_id,
            "started_at": w.first,
            "agent_name": "claude-code",
            "command": "claude-code (startup)",
        })
    } else {
        json!({
            "session_id": session_id,
            "started_at": w.first,
            "ended_at": ended,
            "agent_name": "claude-code",
            "command": "claude-code (startup)",
            "tool_calls": info.tool_calls,
            "errors": info.errors,
            "total_duration_ms": ((ended - w.first) * 1000.0 * 1000.0).round() / 1000.0,
        })
    };
    std::fs::write(dir.join("meta.json"), serde_json::to_string_pretty(&meta)?)?;
    Ok(info)
}

/// Characters of a tool's answer the Python tool's import keeps (`content_preview`).
const PREVIEW_CHARS: usize = 2_000;
/// Tool calls between two prompts of a session shaped as the Python tool's import writes one.
const CALLS_PER_PROMPT: usize = 60;
/// Bytes left for the last answer and the `session_end` of such a session.
const END_ROOM: u64 = 1_200;

/// What the Python tool's import keeps of a tool's answer: the text Claude Code was given (or
/// the error it got), cut after [`PREVIEW_CHARS`] characters.
fn preview(call: &Call) -> String {
    let numbered = |text: &str| -> String {
        let mut out = String::new();
        for (i, line) in text.lines().enumerate() {
            let _ = writeln!(out, "{:>6}\t{line}", i + 1);
        }
        out
    };
    let text_of = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let names = |v: &Value| {
        v.as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>())
            .unwrap_or_default()
            .join("\n")
    };
    let text = if let Some(error) = &call.error {
        error.clone()
    } else {
        match call.tool {
            "Bash" => text_of(&call.result["stdout"]),
            "Read" => numbered(call.result["file"]["content"].as_str().unwrap_or_default()),
            "Edit" => format!(
                "The file {} has been updated. Here's the result of running `cat -n` on a \
                 snippet of the edited file:\n{}",
                text_of(&call.arguments["file_path"]),
                numbered(call.arguments["new_string"].as_str().unwrap_or_default())
            ),
            "Grep" => format!(
                "Found {} files\n{}",
                call.result["numFiles"],
                names(&call.result["filenames"])
            ),
            "Glob" => names(&call.result["filenames"]),
            _ => format!(
                "File created successfully at: {}",
                text_of(&call.arguments["file_path"])
            ),
        }
    };
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// The fields the Python tool's import adds to every event's data: the transcript line it came
/// from and that line's parent (the line before, here).
fn provenance(rng: &mut Rng, last: &mut String) -> serde_json::Map<String, Value> {
    let line = uuid(rng);
    let mut fields = serde_json::Map::new();
    fields.insert("context_stream".into(), "main".into());
    fields.insert("source_uuid".into(), line.clone().into());
    fields.insert("source_parent_uuid".into(), last.clone().into());
    *last = line;
    fields
}

/// What a session written by [`generate_python_import`] holds beyond [`GenInfo`], as its
/// `meta.json` says.
pub(crate) struct PythonTotals {
    pub(crate) llm_requests: u64,
    pub(crate) total_tokens: u64,
}

impl Writer<'_> {
    /// Moves the clock on, to the millisecond (a transcript's times are ISO to the ms).
    fn tick_ms(&mut self, lo: f64, hi: f64) {
        self.tick(lo, hi);
        self.now = (self.now * 1000.0).round() / 1000.0;
    }

    /// An `assistant_response` as the Python tool's import writes one: the model, the line it
    /// came from, its text if any, and its usage. Counts it in `totals`.
    fn python_response(
        &mut self,
        last: &mut String,
        text: Option<String>,
        totals: &mut PythonTotals,
    ) -> Res<()> {
        let model = if self.rng.chance(0.2) {
            "claude-haiku-4-5"
        } else {
            "claude-sonnet-4-5"
        };
        let input = self.rng.range(1, 20) as u64;
        let fresh = self.rng.range(50, 4_000) as u64;
        let read = 20_000 + 40 * self.lines as u64;
        let output = self.rng.range(20, 1_200) as u64;
        let mut data = serde_json::Map::new();
        data.insert("model".into(), model.into());
        data.extend(provenance(self.rng, last));
        if let Some(text) = text {
            data.insert("text".into(), text.into());
        }
        data.insert(
            "usage".into(),
            json!({
                "input_tokens": input,
                "cache_creation_input_tokens": fresh,
                "cache_read_input_tokens": read,
                "cache_creation": {"ephemeral_5m_input_tokens": fresh, "ephemeral_1h_input_tokens": 0},
                "output_tokens": output,
                "service_tier": "standard",
            }),
        );
        self.emit("assistant_response", None, None, Value::Object(data))?;
        totals.llm_requests += 1;
        totals.total_tokens += input + fresh + read + output;
        Ok(())
    }
}

/// Writes a session to `store/<session_id>/` as the Python tool's `import` (0.103.0) writes one
/// from a Claude Code transcript, until its `events.ndjson` holds about `bytes`, and the two
/// files the Python tool keeps at the top of a store (`.gitignore`, `.store.lock`) when they are
/// missing.
///
/// Its events are compact JSON lines with a `prev_hash` after the first: `user_prompt`s;
/// `tool_call`s (the transcript's `request_id`), each followed at the same time by the
/// `assistant_response` of its line (model and usage, no text), some after one with text; a
/// `tool_result` for each call (a `content_preview` of at most 2,000 characters, tied to its
/// call by `tool_use_id` alone, no `parent_id` nor `duration_ms`), each event's data with the
/// transcript line it came from; and a `session_end` with the totals. No `session_start`.
/// `meta.json` (indented) holds the counters; there is no `.counters` file and nothing of ours.
pub(crate) fn generate_python_import(
    store: &Path,
    session_id: &str,
    seed: u64,
    started: f64,
    bytes: u64,
) -> Res<(GenInfo, PythonTotals)> {
    std::fs::create_dir_all(store)?;
    if !store.join(".gitignore").exists() {
        std::fs::write(
            store.join(".gitignore"),
            "# Created by agent-strace: traces may contain prompts and tool output.\n*\n",
        )?;
    }
    if !store.join(".store.lock").exists() {
        File::create(store.join(".store.lock"))?;
    }
    let dir = store.join(session_id);
    std::fs::create_dir_all(&dir)?;
    let mut rng = Rng::new(seed);
    let mut last = uuid(&mut rng);
    let mut w = Writer::create(&dir, &mut rng, session_id, started, true)?;
    let mut totals = PythonTotals {
        llm_requests: 0,
        total_tokens: 0,
    };
    let mut calls = usize::MAX;
    while w.bytes + END_ROOM < bytes {
        if calls >= CALLS_PER_PROMPT {
            if calls != usize::MAX {
                w.tick_ms(5.0, 60.0);
            }
            let mut data = serde_json::Map::new();
            data.insert("prompt".into(), w.rng.pick(PROMPTS).into());
            data.extend(provenance(w.rng, &mut last));
            w.emit("user_prompt", None, None, Value::Object(data))?;
            calls = 0;
        }
        if w.rng.chance(0.4) {
            w.tick_ms(0.5, 4.0);
            let text = format!(
                "Let me look at `{}` in {} first.",
                ident(w.rng),
                file_path(w.rng)
            );
            w.python_response(&mut last, Some(text), &mut totals)?;
        }
        let call = tool_call(w.rng);
        w.tick_ms(0.5, 4.0);
        let request_id = format!("toolu_01{}", w.rng.hex(22));
        let mut data = serde_json::Map::new();
        data.insert("tool_name".into(), call.tool.into());
        data.insert("arguments".into(), call.arguments.clone());
        data.insert("request_id".into(), request_id.clone().into());
        data.extend(provenance(w.rng, &mut last));
        data.insert("caller_type".into(), "direct".into());
        w.emit("tool_call", None, None, Value::Object(data))?;
        w.python_response(&mut last, None, &mut totals)?;
        w.tick_ms(0.005, 2.0);
        let mut data = serde_json::Map::new();
        data.insert("tool_use_id".into(), request_id.into());
        data.insert("content_preview".into(), preview(&call).into());
        data.extend(provenance(w.rng, &mut last));
        w.emit("tool_result", None, None, Value::Object(data))?;
        calls += 1;
    }
    w.tick_ms(1.0, 10.0);
    let text = format!(
        "Done. I changed `{}` in {}; `cargo test` passes.",
        ident(w.rng),
        file_path(w.rng)
    );
    w.python_response(&mut last, Some(text), &mut totals)?;
    let ended = w.now;
    let duration_ms = ((ended - started) * 1000.0 * 1000.0).round() / 1000.0;
    let calls = w.tool_calls;
    w.emit(
        "session_end",
        None,
        None,
        json!({
            "duration_ms": duration_ms,
            "tool_calls": calls,
            "llm_requests": totals.llm_requests,
            "total_tokens": totals.total_tokens,
            "source": transcript_path(session_id),
        }),
    )?;
    w.out.flush()?;
    let info = GenInfo {
        session_id: session_id.to_owned(),
        events: w.lines,
        bytes: w.bytes,
        tool_calls: w.tool_calls,
        errors: w.errors,
    };
    let meta = json!({
        "session_id": session_id,
        "started_at": started,
        "ended_at": ended,
        "agent_name": "claude-code",
        "command": format!("imported from {session_id}.jsonl (branch: main, v2.0.50)"),
        "tool_calls": info.tool_calls,
        "llm_requests": totals.llm_requests,
        "total_tokens": totals.total_tokens,
        "total_duration_ms": duration_ms,
        "attribution": {},
    });
    std::fs::write(dir.join("meta.json"), serde_json::to_string_pretty(&meta)?)?;
    Ok((info, totals))
}
