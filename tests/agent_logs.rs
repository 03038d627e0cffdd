//! Issue 12, "import of their logs": Codex rollouts, Gemini CLI chats and Copilot CLI events
//! through `agent-strace import`, every corpus sample and every recorded one. What the store
//! holds (calls, results linked to calls, prompts, answers, files, tokens, cost) is checked
//! against figures this test computes from the raw files itself, by the formats' rules in
//! docs/agents.md section 9, never from our own output.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::common::deep::assert_deep_imports_as_shallow;
use crate::common::{TestEnv, nested, shared};

/// What a raw log holds, counted from its lines.
#[derive(Debug, Default)]
struct Expected {
    agent: &'static str,
    session: String,
    tool_calls: usize,
    /// Call ids that have a result in the log.
    results: BTreeSet<String>,
    prompts: Vec<String>,
    answers: usize,
    /// Files read and written by successful calls.
    reads: BTreeSet<String>,
    writes: BTreeSet<String>,
    /// (model, fresh input, cache read, cache write, output) per model response.
    responses: Vec<(String, u64, u64, u64, u64)>,
}

impl Expected {
    fn tokens(&self) -> (u64, u64, u64, u64) {
        self.responses.iter().fold((0, 0, 0, 0), |(i, r, w, o), x| {
            (i + x.1, r + x.2, w + x.3, o + x.4)
        })
    }
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn n(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or(0)
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

/// A Codex rollout, by section 9.1: prompts are user messages that are not the context Codex
/// adds; usage is each `token_usage_record`, and each change of the running total of
/// `token_count` past what the records since the last change counted (the whole change in a
/// rollout an older Codex wrote, none of it after a record of 0.171's), with cached input
/// inside input.
fn codex(path: &Path) -> Expected {
    let all = lines(path);
    let mut e = Expected {
        agent: "codex",
        ..Expected::default()
    };
    let mut model = String::new();
    // The folder the turn runs in, where a patch's relative paths are.
    let mut folder = String::new();
    let mut total: Option<Value> = None;
    // What the records since the running total last changed counted.
    let mut recorded = (0, 0, 0, 0);
    let mut calls: HashMap<String, (String, Value)> = HashMap::new();
    let split = |u: &Value| {
        let cached = n(u, "cached_input_tokens");
        let write = n(u, "cache_write_input_tokens");
        (
            n(u, "input_tokens") - cached - write,
            cached,
            write,
            n(u, "output_tokens"),
        )
    };
    for l in &all {
        let p = &l["payload"];
        match (s(l, "type"), s(p, "type")) {
            ("session_meta", _) if e.session.is_empty() => {
                s(p, "id").clone_into(&mut e.session);
                s(p, "cwd").clone_into(&mut folder);
            }
            ("turn_context", _) => {
                s(p, "model").clone_into(&mut model);
                if !s(p, "cwd").is_empty() {
                    s(p, "cwd").clone_into(&mut folder);
                }
            }
            ("response_item", "message") => {
                let text: Vec<&str> = p["content"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|c| c["text"].as_str())
                    .collect();
                let text = text.join("\n");
                if p["role"] == "user"
                    && !wrapped_in_one_tag(&text)
                    && !text.starts_with("# AGENTS.md instructions")
                    && !text.trim().is_empty()
                {
                    e.prompts.push(text);
                } else if p["role"] == "assistant" && !text.trim().is_empty() {
                    e.answers += 1;
                }
            }
            ("response_item", "function_call" | "custom_tool_call") => {
                e.tool_calls += 1;
                let input = match &p["arguments"] {
                    Value::String(a) => serde_json::from_str(a).unwrap_or(Value::Null),
                    _ => p["input"].clone(),
                };
                calls.insert(s(p, "call_id").to_owned(), (s(p, "name").to_owned(), input));
            }
            ("response_item", "web_search_call") => e.tool_calls += 1,
            // A patch Codex applied for a call (a code-mode `exec` cell's too) changed its
            // files, each a file event of its own; where one moved is told by its event.
            ("event_msg", "patch_apply_end") if p["success"] == true => {
                for f in p["changes"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(f, _)| f)
                {
                    if f.starts_with('/') {
                        e.writes.insert(f.to_owned());
                    } else if !f.is_empty() {
                        e.writes
                            .insert(format!("{}/{f}", folder.trim_end_matches('/')));
                    }
                }
            }
            ("response_item", "function_call_output" | "custom_tool_call_output") => {
                let id = s(p, "call_id").to_owned();
                if let Some((name, input)) = calls.get(&id)
                    && name == "apply_patch"
                {
                    let patch = input
                        .as_str()
                        .or_else(|| input["input"].as_str())
                        .unwrap_or("");
                    for line in patch.lines() {
                        for lead in ["*** Add File: ", "*** Update File: ", "*** Delete File: "] {
                            if let Some(f) = line.strip_prefix(lead) {
                                let f = f.trim();
                                let f = if folder.starts_with('/') && !f.starts_with('/') {
                                    format!("{}/{f}", folder.trim_end_matches('/'))
                                } else {
                                    f.to_owned()
                                };
                                e.writes.insert(f);
                            }
                        }
                    }
                }
                e.results.insert(id);
            }
            ("token_usage_record", _) => {
                let (input, read, write, output) = split(&p["usage"]);
                e.responses
                    .push((model.clone(), input, read, write, output));
                recorded = plus(recorded, (input, read, write, output));
            }
            ("event_msg", "token_count") => {
                let t = &p["info"]["total_token_usage"];
                if !t.is_object() || total.as_ref() == Some(t) {
                    continue;
                }
                let change = minus(split(t), total.as_ref().map_or((0, 0, 0, 0), split));
                let unrecorded = minus(change, std::mem::take(&mut recorded));
                if unrecorded != (0, 0, 0, 0) {
                    let (input, read, write, output) = unrecorded;
                    e.responses
                        .push((model.clone(), input, read, write, output));
                }
                total = Some(t.clone());
            }
            _ => {}
        }
    }
    e
}

/// Counts of (fresh input, cache read, cache write, output), added.
fn plus(a: (u64, u64, u64, u64), b: (u64, u64, u64, u64)) -> (u64, u64, u64, u64) {
    (a.0 + b.0, a.1 + b.1, a.2 + b.2, a.3 + b.3)
}

/// Counts of (fresh input, cache read, cache write, output), less others, none below zero.
fn minus(a: (u64, u64, u64, u64), b: (u64, u64, u64, u64)) -> (u64, u64, u64, u64) {
    (
        a.0.saturating_sub(b.0),
        a.1.saturating_sub(b.1),
        a.2.saturating_sub(b.2),
        a.3.saturating_sub(b.3),
    )
}

/// A Gemini CLI chat, by section 9.2: a record whose id was seen replaces it, `$rewindTo` drops
/// from there; each `gemini` message is one response with `input` including `cached` and
/// thoughts billed as output.
/// Codex's own context (`<environment_context>…</environment_context>`): a text that is one
/// tag's from its start to its end.
fn wrapped_in_one_tag(text: &str) -> bool {
    let text = text.trim();
    let Some((open, _)) = text.strip_prefix('<').and_then(|t| t.split_once('>')) else {
        return false;
    };
    !open.contains(['<', '/']) && text.ends_with(&format!("</{open}>"))
}

fn gemini(path: &Path) -> Expected {
    let text = std::fs::read_to_string(path).unwrap();
    let (header, messages): (Value, Vec<Value>) = if text.trim_start().starts_with("{\n") {
        let doc: Value = serde_json::from_str(&text).unwrap();
        let messages = doc["messages"].as_array().unwrap().clone();
        (doc, messages)
    } else {
        let all = lines(path);
        let mut messages: Vec<Value> = Vec::new();
        for l in &all[1..] {
            if l.get("$set").is_some() {
                continue;
            }
            if let Some(id) = l.get("$rewindTo") {
                if let Some(at) = messages.iter().position(|m| &m["id"] == id) {
                    messages.truncate(at);
                }
                continue;
            }
            match messages.iter_mut().find(|m| m["id"] == l["id"]) {
                Some(m) => *m = l.clone(),
                None => messages.push(l.clone()),
            }
        }
        (all[0].clone(), messages)
    };
    let mut e = Expected {
        agent: "gemini-cli",
        session: s(&header, "sessionId").to_owned(),
        ..Expected::default()
    };
    let text_of = |content: &Value| match content {
        Value::String(t) => t.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    };
    for m in &messages {
        let content = text_of(&m["content"]);
        // What the person typed, where Gemini CLI recorded it apart from what it sent; its own
        // `Please continue.` is no one's prompt.
        let display = m
            .get("displayContent")
            .map(text_of)
            .filter(|d| *d != content);
        let continuation =
            ["Please continue.", "System: Please continue."].contains(&content.trim());
        match s(m, "type") {
            "user" if display.is_some() && continuation => {}
            "user" if display.as_ref().is_some_and(|d| !d.trim().is_empty()) => {
                e.prompts.push(display.unwrap());
            }
            "user" if !content.trim().is_empty() => e.prompts.push(content),
            "gemini" => {
                if !content.trim().is_empty() {
                    e.answers += 1;
                }
                let t = &m["tokens"];
                e.responses.push((
                    s(m, "model").to_owned(),
                    n(t, "input") - n(t, "cached") + n(t, "tool"),
                    n(t, "cached"),
                    0,
                    n(t, "output") + n(t, "thoughts"),
                ));
                for call in m["toolCalls"].as_array().into_iter().flatten() {
                    e.tool_calls += 1;
                    e.results.insert(s(call, "id").to_owned());
                    let file = s(&call["args"], "file_path").to_owned();
                    if call["status"] == "success" {
                        match s(call, "name") {
                            "read_file" => e.reads.insert(file),
                            "write_file" | "replace" => e.writes.insert(file),
                            _ => false,
                        };
                    }
                }
            }
            _ => {}
        }
    }
    e
}

/// A Copilot CLI events file, by section 9.3: usage per `session.usage_record`, and of each
/// `session.shutdown`'s totals per model (which run on over a resumed session) what the
/// shutdown before did not hold and the records since did not count; input includes cache
/// reads.
fn copilot(path: &Path) -> Expected {
    let all = lines(path);
    let mut e = Expected {
        agent: "copilot",
        ..Expected::default()
    };
    let split = |u: &Value| {
        let read = n(u, "cacheReadTokens");
        let write = n(u, "cacheWriteTokens");
        (
            n(u, "inputTokens") - read - write,
            read,
            write,
            n(u, "outputTokens"),
        )
    };
    // Per model: what the last shutdown held, and what the records since counted.
    let mut held: HashMap<String, (u64, u64, u64, u64)> = HashMap::new();
    let mut recorded: HashMap<String, (u64, u64, u64, u64)> = HashMap::new();
    let mut calls: HashMap<String, (String, String)> = HashMap::new();
    for l in &all {
        let d = &l["data"];
        match s(l, "type") {
            "session.start" => s(d, "sessionId").clone_into(&mut e.session),
            "user.message" if !s(d, "content").trim().is_empty() => {
                e.prompts.push(s(d, "content").to_owned());
            }
            "assistant.message" if !s(d, "content").trim().is_empty() => e.answers += 1,
            "tool.execution_start" => {
                e.tool_calls += 1;
                calls.insert(
                    s(d, "toolCallId").to_owned(),
                    (
                        s(d, "toolName").to_owned(),
                        s(&d["arguments"], "path").to_owned(),
                    ),
                );
            }
            "tool.execution_complete" => {
                let id = s(d, "toolCallId").to_owned();
                if d["success"] == true
                    && let Some((tool, path)) = calls.get(&id)
                {
                    // A file is shown as numbered lines (`1. …`), a folder as the names in it.
                    let shown = s(&d["result"], "content");
                    let first = shown
                        .lines()
                        .find(|l| !l.trim().is_empty())
                        .unwrap_or("1. ");
                    let digits = first.trim_start().chars().take_while(char::is_ascii_digit);
                    let folder = digits.count() == 0
                        || !first
                            .trim_start()
                            .trim_start_matches(|c: char| c.is_ascii_digit())
                            .starts_with(". ");
                    match tool.as_str() {
                        "view" if folder => false,
                        "view" => e.reads.insert(path.clone()),
                        "create" | "edit" => e.writes.insert(path.clone()),
                        _ => false,
                    };
                }
                e.results.insert(id);
            }
            "session.usage_record" => {
                let u = &d["usage"];
                let (input, read, write, output) = split(u);
                e.responses
                    .push((s(u, "model").to_owned(), input, read, write, output));
                let counted = recorded.entry(s(u, "model").to_owned()).or_default();
                *counted = plus(*counted, split(u));
            }
            "session.shutdown" => {
                for (model, m) in d["modelMetrics"].as_object().unwrap() {
                    let now = split(&m["usage"]);
                    let change = minus(now, held.get(model).copied().unwrap_or_default());
                    let records = recorded.get(model).copied().unwrap_or_default();
                    let (input, read, write, output) = minus(change, records);
                    if (input, read, write, output) != (0, 0, 0, 0) {
                        e.responses
                            .push((model.clone(), input, read, write, output));
                    }
                    held.insert(model.clone(), now);
                }
                recorded.clear();
            }
            _ => {}
        }
    }
    e
}

/// The price of a model in src/data/prices.json, by id (Copilot's dotted Claude names are
/// Anthropic's dashed ones); `None` for a model the table does not have.
fn price(model: &str) -> Option<Value> {
    let table: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("src/data/prices.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let id = if model.starts_with("claude-") {
        model.replace('.', "-")
    } else {
        model.to_owned()
    };
    table["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id.as_str())
        .cloned()
}

/// What the responses cost, each at its model's price (long-context rates past a threshold).
fn cost(e: &Expected) -> (f64, BTreeSet<String>) {
    let mut usd = 0.0;
    let mut unpriced = BTreeSet::new();
    for (model, input, read, write, output) in &e.responses {
        let Some(p) = price(model) else {
            unpriced.insert(model.clone());
            continue;
        };
        let long = p["threshold_tokens"]
            .as_u64()
            .is_some_and(|t| input + read + write > t);
        let rate = |normal: f64, above: &str| {
            if long {
                p[above].as_f64().unwrap_or(normal)
            } else {
                normal
            }
        };
        let inp = p["input"].as_f64().unwrap();
        let inp_rate = rate(inp, "input_above_200k");
        let out_rate = rate(p["output"].as_f64().unwrap(), "output_above_200k");
        // A cache price the table leaves null is the input price (prices.json's notes).
        let cache_rate = |normal: &str, above: &str| {
            p[normal]
                .as_f64()
                .map_or(inp_rate, |normal| rate(normal, above))
        };
        let read_rate = cache_rate("cache_read", "cache_read_above_200k");
        let write_rate = cache_rate("cache_write_5m", "cache_write_5m_above_200k");
        usd += (*input as f64 * inp_rate
            + *output as f64 * out_rate
            + *read as f64 * read_rate
            + *write as f64 * write_rate)
            / 1e6;
    }
    (usd, unpriced)
}

fn samples() -> Vec<(PathBuf, Expected)> {
    let corpus = shared().join("corpus");
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/agents/recorded");
    let mut out = Vec::new();
    let files = |dir: PathBuf| {
        let mut all: Vec<PathBuf> = walk(&dir);
        all.sort();
        all
    };
    for f in files(corpus.join("codex")) {
        if f.extension().is_some_and(|e| e == "jsonl") {
            out.push((f.clone(), codex(&f)));
        }
    }
    for f in files(corpus.join("gemini")) {
        out.push((f.clone(), gemini(&f)));
    }
    for f in files(corpus.join("copilot")) {
        out.push((f.clone(), copilot(&f)));
    }
    for f in files(recorded) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("codex-") && name.contains("rollout") {
            out.push((f.clone(), codex(&f)));
        } else if name.starts_with("gemini-") && name.contains("session") {
            out.push((f.clone(), gemini(&f)));
        } else if name.starts_with("copilot-") && name.ends_with("events.jsonl") {
            out.push((f.clone(), copilot(&f)));
        }
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 + 1e-9 * b.abs()
}

/// Every sample, imported into one store: the store holds what the raw file holds.
#[test]
fn import_reads_every_agent_log_as_the_raw_file_says() {
    let env = TestEnv::new();
    let samples = samples();
    assert!(
        samples.len() >= 11,
        "the samples are there: {}",
        samples.len()
    );
    let mut agents = BTreeSet::new();
    for (path, e) in &samples {
        let run = env.run(&["import", "--format", "json", path.to_str().unwrap()]);
        run.success();
        let report = &run.json()[0];
        let what = path.display();
        assert_eq!(report["agent"], e.agent, "{what}");
        assert_eq!(report["session_id"], e.session.as_str(), "{what}");
        assert_eq!(report["status"], "imported", "{what}");
        agents.insert(e.agent);
        let events = env.events(&e.session);
        let of = |kind: &str| -> Vec<&Value> {
            events
                .iter()
                .filter(|ev| ev["event_type"] == kind)
                .collect()
        };
        // Calls, and each result linked to its call.
        let calls = of("tool_call");
        assert_eq!(calls.len(), e.tool_calls, "{what}: calls");
        assert_eq!(report["tool_calls"], e.tool_calls as u64, "{what}");
        let by_id: HashMap<&str, &Value> = calls.iter().map(|c| (s(c, "event_id"), *c)).collect();
        let mut linked = BTreeSet::new();
        for r in of("tool_result").into_iter().chain(of("error")) {
            let call = by_id
                .get(s(r, "parent_id"))
                .unwrap_or_else(|| panic!("{what}: a result with no call: {r}"));
            assert_eq!(
                call["data"]["tool_use_id"], r["data"]["tool_use_id"],
                "{what}"
            );
            assert_eq!(call["data"]["tool_name"], r["data"]["tool_name"], "{what}");
            linked.insert(s(&r["data"], "tool_use_id").to_owned());
        }
        assert_eq!(linked, e.results, "{what}: results");
        // Prompts and answers.
        let prompts: Vec<String> = of("user_prompt")
            .iter()
            .map(|p| s(&p["data"], "prompt").to_owned())
            .collect();
        assert_eq!(prompts, e.prompts, "{what}: prompts");
        assert_eq!(of("assistant_response").len(), e.answers, "{what}: answers");
        // Files of the file tools (what a shell's line names is read by tests/shell_files.rs).
        let shells = ["shell", "exec_command", "run_shell_command", "bash"];
        let files = |kind: &str| -> BTreeSet<String> {
            of(kind)
                .iter()
                .filter(|f| !shells.contains(&s(&f["data"], "tool_name")))
                .map(|f| s(&f["data"], "path").to_owned())
                .collect()
        };
        assert_eq!(files("file_read"), e.reads, "{what}: reads");
        assert_eq!(files("file_write"), e.writes, "{what}: writes");
        // Tokens, per response and in all.
        let responses = of("llm_response");
        assert_eq!(responses.len(), e.responses.len(), "{what}: responses");
        for (stored, (model, input, read, write, output)) in responses.iter().zip(&e.responses) {
            let u = &stored["data"]["usage"];
            assert_eq!(
                (
                    n(u, "input_tokens"),
                    n(u, "cache_read_input_tokens"),
                    n(u, "cache_creation_input_tokens"),
                    n(u, "output_tokens")
                ),
                (*input, *read, *write, *output),
                "{what}: a response's usage"
            );
            assert_eq!(stored["data"]["model"], model.as_str(), "{what}");
        }
        let (input, read, write, output) = e.tokens();
        let t = &report["tokens"];
        assert_eq!(
            (
                n(t, "input"),
                n(t, "cache_read"),
                n(t, "cache_creation"),
                n(t, "output")
            ),
            (input, read, write, output),
            "{what}: tokens"
        );
        // Cost, from the prices file; a model with no price says so.
        let cost_run = env.run(&["cost", &e.session, "--format", "json"]);
        cost_run.success();
        let c = cost_run.json();
        let (usd, unpriced) = cost(e);
        assert!(
            close(c["cost_usd"].as_f64().unwrap(), usd),
            "{what}: cost {} against {usd}",
            c["cost_usd"]
        );
        let said: BTreeSet<String> = c["unpriced"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(said, unpriced, "{what}: unpriced models");
        // The session records its agent.
        assert_eq!(env.meta(&e.session)["agent_name"], e.agent, "{what}");
    }
    assert_eq!(agents.len(), 3);
    // `list` shows each session's agent.
    let list = env.run(&["list", "--format", "json"]);
    list.success();
    let listed: BTreeMap<String, String> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (s(l, "session_id").to_owned(), s(l, "agent_name").to_owned()))
        .collect();
    for (_, e) in &samples {
        assert_eq!(listed[&e.session], e.agent);
    }
    let text = env.run(&["list"]);
    for agent in ["codex", "gemini-cli", "copilot"] {
        assert!(text.stdout.contains(agent), "{}", text.stdout);
    }
    // Importing again changes nothing.
    for (path, e) in &samples {
        let before = std::fs::read(env.store().join(&e.session).join("events.ndjson")).unwrap();
        let run = env.run(&["import", "--format", "json", path.to_str().unwrap()]);
        run.success();
        assert_eq!(run.json()[0]["status"], "already_imported");
        let after = std::fs::read(env.store().join(&e.session).join("events.ndjson")).unwrap();
        assert_eq!(before, after);
    }
}

/// replay, stats, explain and cost work on a session of each agent.
#[test]
fn every_command_reads_each_agents_session() {
    let env = TestEnv::new();
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/agents/recorded");
    for (file, e) in [
        (
            "codex-0.171.0-rollout-apply-patch.jsonl",
            codex(&recorded.join("codex-0.171.0-rollout-apply-patch.jsonl")),
        ),
        (
            "gemini-cli-0.61.0-session.jsonl",
            gemini(&recorded.join("gemini-cli-0.61.0-session.jsonl")),
        ),
        (
            "copilot-1.0.102-events.jsonl",
            copilot(&recorded.join("copilot-1.0.102-events.jsonl")),
        ),
    ] {
        env.run(&["import", recorded.join(file).to_str().unwrap()])
            .success();
        let replay = env.run(&["replay", &e.session]);
        replay.success();
        assert!(replay.stdout.contains(e.agent), "{}", replay.stdout);
        assert!(replay.stdout.contains(&e.prompts[0]), "{}", replay.stdout);
        let stats = env.run(&["stats", &e.session, "--format", "json"]);
        stats.success();
        let explain = env.run(&["explain", &e.session]);
        explain.success();
        assert!(explain.stdout.contains(&e.prompts[0]), "{}", explain.stdout);
        let cost = env.run(&["cost", &e.session]);
        cost.success();
        assert!(cost.stdout.contains(&e.responses[0].0), "{}", cost.stdout);
    }
}

/// A Codex rollout that grew is read again whole, and its import said "grown: 63 new lines" of a
/// log that had gained 5, its whole session's figures standing beside as if they were what was
/// new. It says the lines gained, and that the figures are the whole log's.
#[test]
fn a_grown_log_of_another_agent_says_what_it_gained_and_that_it_was_read_whole() {
    let source = shared().join(
        "corpus/codex/madshn__localpush/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl",
    );
    let raw = std::fs::read_to_string(&source).unwrap();
    let all: Vec<&str> = raw.lines().collect();
    let env = TestEnv::new();
    let log = env.path().join("rollout.jsonl");
    std::fs::write(&log, format!("{}\n", all[..all.len() - 5].join("\n"))).unwrap();
    env.run(&["import", log.to_str().unwrap()]).success();
    std::fs::write(&log, &raw).unwrap();
    let grown = env.run(&["import", log.to_str().unwrap()]);
    grown.success();
    let events = env.events("019c8bfe-ec25-79e0-97d7-bda6a9c575ff").len();
    assert!(
        grown.stdout.contains(&format!(
            "grown: 5 new lines, imported again whole: {events} events"
        )),
        "{grown:?}"
    );
    // And as JSON, the lines the file gained.
    std::fs::write(&log, format!("{}\n", all[..all.len() - 2].join("\n"))).unwrap();
    let fresh = TestEnv::new();
    fresh.run(&["import", log.to_str().unwrap()]).success();
    std::fs::write(&log, &raw).unwrap();
    let json = fresh
        .run(&["import", "--format", "json", log.to_str().unwrap()])
        .success()
        .json();
    assert_eq!(json[0]["status"], "grown", "{json:#}");
    assert_eq!(json[0]["lines"], 2, "{json:#}");
}

/// Another agent's log an older version imported was read again whole after the upgrade and
/// said to be "not what was imported before"; it says an older version imported it.
#[test]
fn a_log_an_older_version_imported_is_said_to_be_so_not_rewritten() {
    let source = shared().join(
        "corpus/codex/madshn__localpush/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl",
    );
    let env = TestEnv::new();
    let log = env.path().join("rollout.jsonl");
    std::fs::copy(&source, &log).unwrap();
    env.run(&["import", log.to_str().unwrap()]).success();
    let record_path = env
        .store()
        .join("019c8bfe-ec25-79e0-97d7-bda6a9c575ff")
        .join(".import");
    let record = std::fs::read_to_string(&record_path).unwrap();
    let (head, rest) = record.split_once('\n').unwrap();
    let mut head: Value = serde_json::from_str(head).unwrap();
    head["format"] = (head["format"].as_u64().unwrap() - 1).into();
    std::fs::write(&record_path, format!("{head}\n{rest}")).unwrap();
    let again = env
        .run(&["import", "--format", "json", log.to_str().unwrap()])
        .success()
        .json();
    assert_eq!(again[0]["status"], "reimported", "{again:#}");
    assert_eq!(again[0]["reimported_as_outdated"], true, "{again:#}");
}

/// Imports of one grown Codex, Gemini CLI or Copilot CLI log run at once each said "grown: …,
/// imported again whole", though one only was kept (each swapped its session in, the last one
/// staying), where imports of a grown Claude Code transcript say it once. The first to finish
/// is kept; the others find the session taken and say the log is imported already.
#[test]
fn imports_of_a_grown_agent_log_run_at_once_say_grown_once() {
    let corpus = shared().join("corpus");
    for name in [
        "codex/madshn__localpush/rollout-2026-02-23T12-41-04-019c8a4d-8f45-7010-8b5d-7fad920aa6f9.jsonl",
        "gemini/Mai0313__VibeCodingTracker/gemini-session.jsonl",
        "copilot/Mai0313__VibeCodingTracker/copilot-session.jsonl",
    ] {
        let source = corpus.join(name);
        let raw = std::fs::read_to_string(&source).unwrap();
        let all: Vec<&str> = raw.lines().collect();
        let env = TestEnv::new();
        let log = env.path().join(source.file_name().unwrap());
        std::fs::write(&log, format!("{}\n", all[..all.len() / 2].join("\n"))).unwrap();
        let path = log.to_string_lossy().into_owned();
        env.run(&["import", &path]).success();
        std::fs::write(&log, &raw).unwrap();
        let statuses = env.statuses_of_imports_at_once(&path, 4);
        assert_eq!(
            statuses,
            [
                "already_imported",
                "already_imported",
                "already_imported",
                "grown"
            ],
            "{name}"
        );
        // The store holds the whole log once: an import now finds nothing new.
        let again = env
            .run(&["import", "--format", "json", &path])
            .success()
            .json();
        assert_eq!(again[0]["status"], "already_imported", "{name}: {again:#}");
    }
}

/// An import of a grown log failed now and then when another import of it ran at once
/// (".annotations.lock: No such file or directory", once in 40 runs of ten imports at once): the
/// other swapped its session in and removed the folder this one had opened, before this one
/// made its lock on the session's notes there. It takes the folder now under the name, finds
/// it is not the one it read, and says the log was imported already. Here the first import is
/// held just before it makes that lock while the second runs whole.
#[test]
fn an_import_whose_stored_session_is_swapped_out_before_it_locks_the_notes_says_imported() {
    let env = TestEnv::new();
    let (path, _) = crate::common::grown_copilot_log(&env);
    let mut held = crate::common::with_open_held_back(
        &env.command(&["import", "--format", "json", &path]),
        ".annotations.lock",
        3_000_000,
    );
    let held = held
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    crate::common::wait_until_held(&held);
    let other = env
        .run(&["import", "--format", "json", &path])
        .success()
        .json();
    assert_eq!(other[0]["status"], "grown", "{other:#}");
    let out = held.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let reports: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reports[0]["status"], "already_imported", "{reports:#}");
    let again = env
        .run(&["import", "--format", "json", &path])
        .success()
        .json();
    assert_eq!(again[0]["status"], "already_imported", "{again:#}");
}

/// `import ~` warned of every link in the home folder, `.bashrc` and `.config/nvim/init.lua`
/// of a dotfiles setup among them, each with "import it by name to read it"; only a link that
/// could lead to a log (named as one, or to a folder the search enters) is said.
#[test]
fn a_folder_search_says_only_the_links_that_could_lead_to_a_log() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    let project = home.join(".claude/projects/-home-me-app");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::create_dir_all(home.join(".config/nvim")).unwrap();
    std::fs::create_dir_all(env.path().join("dotfiles")).unwrap();
    let short = shared().join("corpus/claude-code/marot__spotter/short.jsonl");
    std::fs::copy(&short, project.join("short.jsonl")).unwrap();
    let target = env.path().join("dotfiles/bashrc");
    std::fs::write(&target, "alias ll='ls -l'\n").unwrap();
    let link = |to: &Path, at: &str| std::os::unix::fs::symlink(to, home.join(at)).unwrap();
    link(&target, ".bashrc");
    link(&target, ".config/nvim/init.lua");
    link(&target, "notes.txt");
    link(&short, ".claude/projects/-home-me-app/planted.jsonl");
    link(&env.path().join("dotfiles"), "dotfiles");
    let run = env.run(&["import", home.to_str().unwrap()]);
    run.success();
    let said: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("a symbolic link, not followed"))
        .collect();
    assert_eq!(said.len(), 2, "{}", run.stderr);
    assert!(said[0].contains("planted.jsonl"), "{}", run.stderr);
    assert!(said[1].contains("home/dotfiles:"), "{}", run.stderr);
}

/// A log is told by its content, whatever its name; lines that are not JSON are reported and
/// skipped, never fatal; a log that grew is brought up to date.
#[test]
fn logs_are_told_by_content_and_bad_lines_are_reported() {
    let env = TestEnv::new();
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/agents/recorded");
    let raw = std::fs::read_to_string(recorded.join("codex-0.171.0-rollout-shell.jsonl")).unwrap();
    let e = codex(&recorded.join("codex-0.171.0-rollout-shell.jsonl"));
    let all: Vec<&str> = raw.lines().collect();
    let cut = env.path().join("notes.txt");
    std::fs::write(&cut, format!("{}\n", all[..12].join("\n"))).unwrap();
    let first = env.run(&["import", "--format", "json", cut.to_str().unwrap()]);
    first.success();
    assert_eq!(first.json()[0]["agent"], "codex");
    // The rest comes, with a damaged line and binary junk among it.
    let mut rest = all[12..].join("\n");
    rest.push_str("\n{\"timestamp\": \"2026-11-30T05:39:50Z\", \"type\"\n\u{0}\u{1}junk\n");
    std::fs::write(&cut, format!("{}\n{rest}", all[..12].join("\n"))).unwrap();
    let grown = env.run(&["import", "--format", "json", cut.to_str().unwrap()]);
    grown.success();
    let report = &grown.json()[0];
    assert_eq!(report["status"], "grown");
    assert_eq!(report["malformed"].as_array().unwrap().len(), 2, "{report}");
    assert!(grown.stderr.contains("skipped"), "{}", grown.stderr);
    let (input, read, _, output) = e.tokens();
    assert_eq!(
        (
            n(&report["tokens"], "input"),
            n(&report["tokens"], "cache_read"),
            n(&report["tokens"], "output")
        ),
        (input, read, output)
    );
    let events = env.events(&e.session);
    let responses = events
        .iter()
        .filter(|ev| ev["event_type"] == "llm_response")
        .count();
    assert_eq!(responses, e.responses.len());
    // A file of no known format is still refused with one line and the input exit code.
    let junk = env.path().join("junk.jsonl");
    std::fs::write(&junk, "\u{0}\u{1}\u{2}\n").unwrap();
    let refused = env.run(&["import", junk.to_str().unwrap()]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(!refused.stderr.contains("panicked"), "{}", refused.stderr);
}

/// `import --discover` and `--all` find each agent's logs in its default place (CODEX_HOME,
/// ~/.gemini, COPILOT_HOME), put each in the store of the folder it ran in, and `--agent`
/// narrows them.
#[test]
fn discover_and_all_find_each_agents_logs_in_their_places() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    let codex_home = env.path().join("codex-home");
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/agents/recorded");
    // The recorded runs name folders of the machine they ran on; the copies name this test's.
    let elsewhere = env.path().join("elsewhere");
    std::fs::create_dir_all(elsewhere.join("proj")).unwrap();
    std::fs::create_dir_all(elsewhere.join("cproj")).unwrap();
    let put = |from: &str, to: PathBuf| {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        let text = std::fs::read_to_string(recorded.join(from))
            .unwrap()
            .replace("/tmp/agentcli/", &format!("{}/", elsewhere.display()));
        std::fs::write(to, text).unwrap();
    };
    put(
        "codex-0.171.0-rollout-shell.jsonl",
        codex_home.join("sessions/2026/11/30/rollout-2026-11-30T05-39-48-01a22af7-6dfa-74a1-8e8b-8b505ee74af2.jsonl"),
    );
    put(
        "gemini-cli-0.61.0-session.jsonl",
        home.join(".gemini/tmp/proj/chats/session-2026-11-30T05-36-629cab06.jsonl"),
    );
    let project = env.path().join("proj");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        home.join(".gemini/projects.json"),
        serde_json::json!({"projects": {project.to_str().unwrap(): "proj"}}).to_string(),
    )
    .unwrap();
    put(
        "copilot-1.0.102-events.jsonl",
        home.join(".copilot/session-state/16a807fe-9154-4ae3-8cdc-bbf634e14bb4/events.jsonl"),
    );
    let run = |args: &[&str]| {
        let mut cmd = env.command(args);
        cmd.env("HOME", &home)
            .env("CODEX_HOME", &codex_home)
            .env_remove("COPILOT_HOME")
            .env_remove("GEMINI_CLI_HOME");
        crate::common::Run::of(cmd.output().unwrap())
    };
    let found = run(&["import", "--discover", "--format", "json"]);
    found.success();
    let found = found.json();
    let agents: BTreeSet<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["agent"].as_str().unwrap())
        .collect();
    assert_eq!(agents, BTreeSet::from(["codex", "copilot", "gemini-cli"]));
    assert!(
        found
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["status"] == "new"),
        "{found:#}"
    );
    let only = run(&[
        "import",
        "--discover",
        "--agent",
        "codex",
        "--format",
        "json",
    ]);
    only.success();
    assert_eq!(only.json().as_array().unwrap().len(), 1);
    let all = run(&["import", "--all", "--format", "json"]);
    all.success();
    assert_eq!(all.json().as_array().unwrap().len(), 3);
    // Each session went to the store of the folder it ran in: Codex's and Copilot's logs name
    // it, Gemini's own index names the chat's.
    for (folder, session) in [
        (project.clone(), "629cab06-47bb-41bc-afb3-1479ecd94e67"),
        (
            elsewhere.join("proj"),
            "01a22af7-6dfa-74a1-8e8b-8b505ee74af2",
        ),
        (
            elsewhere.join("cproj"),
            "16a807fe-9154-4ae3-8cdc-bbf634e14bb4",
        ),
    ] {
        assert!(
            folder
                .join(".agent-traces")
                .join(session)
                .join("meta.json")
                .is_file(),
            "{session} in {}",
            folder.display()
        );
    }
    let again = run(&["import", "--discover", "--format", "json"]);
    assert!(
        again
            .json()
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["status"] == "up_to_date"),
        "{}",
        again.stdout
    );
    let nothing = run(&["import", "--all"]);
    nothing.success();
    assert!(
        nothing.stdout.contains("imported already"),
        "{}",
        nothing.stdout
    );
    // A subagent's chat that appears beside an imported Gemini chat is found and imported
    // under it (the parent's own chat unchanged).
    let gemini_session = "629cab06-47bb-41bc-afb3-1479ecd94e67";
    let agent = "3f1c2b7a-9d4e-4f60-8a21-5b0c7e9d1a42";
    let corpus = shared().join("corpus/gemini/Mai0313__VibeCodingTracker/gemini-session.jsonl");
    let text = std::fs::read_to_string(corpus).unwrap();
    let (head, rest) = text.split_once('\n').unwrap();
    let mut head: Value = serde_json::from_str(head).unwrap();
    head["sessionId"] = agent.into();
    head["kind"] = "subagent".into();
    let chats = home.join(".gemini/tmp/proj/chats").join(gemini_session);
    std::fs::create_dir_all(&chats).unwrap();
    std::fs::write(
        chats.join(format!("{agent}.jsonl")),
        format!("{head}\n{rest}"),
    )
    .unwrap();
    let found = run(&["import", "--all"]);
    found.success();
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(project.join(".agent-traces").join(agent).join("meta.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        meta["parent_session_id"], gemini_session,
        "{}",
        found.stdout
    );
}

/// `import --discover` showed "(no prompt)" (`"first_prompt": null`) for every Codex, Gemini CLI
/// and Copilot CLI log it found, though `list` showed their prompts once imported. Each shows
/// the first prompt `list` names its session by, read as the import reads it (Gemini's older
/// one-document chats too); "(no prompt)" is left for a log read to its end without one.
#[test]
fn discover_shows_each_agents_first_prompt_as_list_names_it() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    let corpus = shared().join("corpus");
    let logs = [
        (
            "codex/madshn__localpush/rollout-2026-02-23T12-41-04-019c8a4d-8f45-7010-8b5d-7fad920aa6f9.jsonl",
            ".codex/sessions/2026/02/23/rollout-2026-02-23T12-41-04-019c8a4d-8f45-7010-8b5d-7fad920aa6f9.jsonl",
        ),
        (
            "gemini/Mai0313__VibeCodingTracker/gemini-session.jsonl",
            ".gemini/tmp/abc/chats/session-2026-04-23T12-52-0ab84937.jsonl",
        ),
        (
            "gemini/Mai0313__VibeCodingTracker/gemini-session-legacy.json",
            ".gemini/tmp/abc/chats/session-2025-10-11T13-00-2d9ea14f.json",
        ),
        (
            "copilot/Mai0313__VibeCodingTracker/copilot-session.jsonl",
            ".copilot/session-state/96ef38f0-9d09-45c3-8124-6448c36090ed/events.jsonl",
        ),
    ];
    for (from, to) in logs {
        let to = home.join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(corpus.join(from), to).unwrap();
    }
    // A Copilot session that ended before its first prompt: its start alone.
    let start = std::fs::read_to_string(corpus.join(logs[3].0)).unwrap();
    let unprompted = home.join(".copilot/session-state/aaaa0000-0000-4000-8000-000000000001");
    std::fs::create_dir_all(&unprompted).unwrap();
    std::fs::write(
        unprompted.join("events.jsonl"),
        start.lines().next().unwrap().replace(
            "96ef38f0-9d09-45c3-8124-6448c36090ed",
            "aaaa0000-0000-4000-8000-000000000001",
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut cmd = env.command(args);
        cmd.env("HOME", &home)
            .env_remove("CODEX_HOME")
            .env_remove("COPILOT_HOME")
            .env_remove("GEMINI_CLI_HOME")
            .env_remove("CLAUDE_CONFIG_DIR");
        crate::common::Run::of(cmd.output().unwrap())
    };
    let found = run(&[
        "--trace-dir",
        "store",
        "import",
        "--discover",
        "--format",
        "json",
    ]);
    let found = found.success().json();
    let found: HashMap<String, Value> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["session_id"].as_str().unwrap().to_owned(),
                f["first_prompt"].clone(),
            )
        })
        .collect();
    assert_eq!(found.len(), 5, "{found:#?}");
    run(&["--trace-dir", "store", "import", "--all"]).success();
    let listed = run(&["--trace-dir", "store", "list", "--all", "--format", "json"]);
    let listed = listed.success().json();
    let mut named = 0;
    for session in listed.as_array().unwrap() {
        let id = session["session_id"].as_str().unwrap();
        let prompt = &session["first_prompt"];
        assert_eq!(found.get(id), Some(prompt), "{id}: {session:#}");
        named += usize::from(prompt.is_string());
    }
    assert_eq!(named, 4, "{listed:#}");
    assert_eq!(found["aaaa0000-0000-4000-8000-000000000001"], Value::Null);
    let text = run(&["--trace-dir", "store", "import", "--discover"]);
    let text = text.success();
    assert_eq!(
        text.stdout.matches("(no prompt)").count(),
        1,
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("\"/init\""), "{}", text.stdout);
}

/// A session its hooks recorded is left as they wrote it: the log of the same session is not
/// merged into it, and the import says so.
#[test]
fn a_session_recorded_by_hooks_is_left_as_it_is() {
    let env = TestEnv::new();
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/agents/recorded");
    let rollout = recorded.join("codex-0.171.0-rollout-shell.jsonl");
    let e = codex(&rollout);
    env.hook(
        "SessionStart",
        &serde_json::json!({"session_id": e.session, "hook_event_name": "SessionStart", "source": "startup"}),
    )
    .success();
    let before = std::fs::read(env.store().join(&e.session).join("events.ndjson")).unwrap();
    let run = env.run(&["import", rollout.to_str().unwrap()]);
    run.success();
    assert!(
        run.stdout
            .contains("was recorded by hooks; its codex log is not merged"),
        "{}",
        run.stdout
    );
    let after = std::fs::read(env.store().join(&e.session).join("events.ndjson")).unwrap();
    assert_eq!(before, after);
}

/// Damaged logs never crash the import: every line of each agent's recorded log, in turn, with
/// its fields of the wrong type, or cut short. The import exits 0 (the line is reported or read
/// for what it holds) or refuses the file with the input error, and never panics.
#[test]
fn damaged_logs_never_crash_the_import() {
    let env = TestEnv::new();
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/agents/recorded");
    let wrong = [
        Value::Null,
        Value::from(7),
        Value::from("x"),
        serde_json::json!([1]),
        serde_json::json!({}),
    ];
    let mut runs = 0;
    for name in [
        "codex-0.171.0-rollout-shell.jsonl",
        "gemini-cli-0.61.0-session.jsonl",
        "copilot-1.0.102-events.jsonl",
    ] {
        let text = std::fs::read_to_string(recorded.join(name)).unwrap();
        let all: Vec<&str> = text.lines().collect();
        for (i, line) in all.iter().enumerate() {
            let value: Value = serde_json::from_str(line).unwrap();
            let keys: Vec<String> = value
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            let mut variants: Vec<String> = vec![line[..line.len() / 2].to_owned()];
            for (k, key) in keys.iter().enumerate() {
                let mut changed = value.clone();
                changed[key.as_str()] = wrong[(i + k) % wrong.len()].clone();
                variants.push(changed.to_string());
                // One level down too: the payload's or data's own fields.
                if let Some(inner) = value[key.as_str()].as_object() {
                    let mut changed = value.clone();
                    for (j, inner_key) in inner.keys().enumerate() {
                        changed[key.as_str()][inner_key.as_str()] =
                            wrong[(i + j) % wrong.len()].clone();
                    }
                    variants.push(changed.to_string());
                }
            }
            for variant in variants {
                let mut lines = all.clone();
                lines[i] = &variant;
                let file = env.path().join(format!("damaged-{runs}.jsonl"));
                std::fs::write(&file, lines.join("\n")).unwrap();
                let run = env.run(&["--trace-dir", "damaged", "import", file.to_str().unwrap()]);
                assert!(
                    run.code == 0 || run.code == 3,
                    "{name} line {} as {variant}: exit {}\n{}",
                    i + 1,
                    run.code,
                    run.stderr
                );
                assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
                runs += 1;
            }
        }
    }
    assert!(runs > 100, "{runs}");
}

/// The paths of every number below `value`, `[]` standing for any item of a list.
fn numbers(value: &Value, path: &mut Vec<String>, out: &mut BTreeSet<Vec<String>>) {
    match value {
        Value::Number(_) => {
            out.insert(path.clone());
        }
        Value::Object(o) => {
            for (k, v) in o {
                path.push(k.clone());
                numbers(v, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            path.push("[]".to_owned());
            for v in a {
                numbers(v, path, out);
            }
            path.pop();
        }
        _ => {}
    }
}

/// `value` with the number at `path` (in every item, where the path passes a list) set to
/// the largest count JSON can carry.
fn forge(value: &mut Value, path: &[String]) {
    match (path.split_first(), value) {
        (None, v) => *v = Value::from(u64::MAX),
        (Some((k, rest)), Value::Array(a)) if k == "[]" => {
            for v in a.iter_mut() {
                forge(v, rest);
            }
        }
        (Some((k, rest)), Value::Object(o)) => {
            if let Some(v) = o.get_mut(k.as_str()) {
                forge(v, rest);
            }
        }
        _ => {}
    }
}

/// Every number an agent's log holds, forged in turn to the largest count JSON can carry: the
/// import neither panics (a debug build checks every sum) nor wraps a sum to a small count
/// (Gemini's output plus thoughts, Copilot's cache reads plus writes did); a response whose
/// usage no response can hold is counted apart, its tokens left out of the report's as every
/// view leaves them out; and `cost` reads the session it wrote.
#[test]
fn forged_counts_in_agent_logs_neither_panic_nor_wrap() {
    let env = TestEnv::new();
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/agents/recorded");
    let logs = [
        recorded.join("codex-0.171.0-rollout-shell.jsonl"),
        recorded.join("gemini-cli-0.61.0-session.jsonl"),
        recorded.join("copilot-1.0.102-events.jsonl"),
        shared().join("corpus/codex/Mai0313__VibeCodingTracker/codex-v0.39.0.jsonl"),
        shared().join("corpus/gemini/Mai0313__VibeCodingTracker/gemini-session.jsonl"),
        shared().join("corpus/copilot/Mai0313__VibeCodingTracker/copilot-session.jsonl"),
    ];
    // The import's four token counts, summed without bound.
    let total = |imported: &Value| -> u128 {
        ["input", "output", "cache_creation", "cache_read"]
            .iter()
            .map(|k| u128::from(imported["tokens"][*k].as_u64().unwrap_or(0)))
            .sum()
    };
    let mut runs = 0;
    let mut unknown_usage = 0;
    for log in logs {
        let plain = env.run(&[
            "--trace-dir",
            "plain",
            "import",
            "--format",
            "json",
            log.to_str().unwrap(),
        ]);
        let before = total(&plain.success().json()[0]);
        let lines: Vec<Value> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let mut paths = BTreeSet::new();
        for line in &lines {
            numbers(line, &mut Vec::new(), &mut paths);
        }
        for path in paths {
            let forged: Vec<String> = lines
                .iter()
                .map(|l| {
                    let mut l = l.clone();
                    forge(&mut l, &path);
                    l.to_string()
                })
                .collect();
            let file = env.path().join(format!("forged-{runs}.jsonl"));
            std::fs::write(&file, forged.join("\n")).unwrap();
            let store = format!("forged-{runs}");
            let run = env.run(&[
                "--trace-dir",
                &store,
                "import",
                "--format",
                "json",
                file.to_str().unwrap(),
            ]);
            let what = format!("{} with {} forged", log.display(), path.join("."));
            assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
            assert!(run.code == 0 || run.code == 3, "{what}: {run:?}");
            runs += 1;
            if run.code != 0 {
                continue;
            }
            // A response whose count was forged is of unknown usage, left out of the tokens
            // and counted apart; a count forged elsewhere makes no sum smaller (a wrapped one
            // would).
            let imported = &run.json()[0];
            let after = total(imported);
            let unknown = imported["unbelieved_usage"].as_u64().unwrap_or(0);
            unknown_usage += unknown;
            assert!(
                unknown > 0 || after >= before,
                "{what}: {before} → {}",
                imported["tokens"]
            );
            assert!(
                after <= u128::from(imported["responses"].as_u64().unwrap()) * 10_000_000_000,
                "{what}: {}",
                imported["tokens"]
            );
            if after == before && unknown == 0 {
                continue;
            }
            let id = imported["session_id"].as_str().unwrap();
            let cost = env.run(&["--trace-dir", &store, "cost", id, "--format", "json"]);
            assert!(!cost.stderr.contains("panicked"), "{what}: {}", cost.stderr);
            cost.success();
        }
    }
    assert!(runs > 50, "{runs}");
    assert!(unknown_usage > 0, "no forged count was a response's");
}

/// A token count in an agent's log that is no count a response can have (negative,
/// fractional, a string, past what an integer holds) makes that response's usage unknown, as
/// a Claude Code transcript's is: the import counts it apart and `list` flags the session's
/// cost, where it was read as 0 and the cost given as exact. A count the log leaves out is 0:
/// logs omit the counts of none.
#[test]
fn a_count_that_is_no_count_makes_a_responses_usage_unknown() {
    let env = TestEnv::new();
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/agents/recorded");
    // Each log, where its responses' counts are and the counts the import reads there.
    let logs: [(PathBuf, &[&str], &[&str]); 4] = [
        (
            recorded.join("codex-0.171.0-rollout-shell.jsonl"),
            &["payload", "usage"],
            &["input_tokens", "cached_input_tokens", "cache_write_input_tokens", "output_tokens", "reasoning_output_tokens"],
        ),
        (
            shared().join("corpus/codex/madshn__localpush/rollout-2026-02-23T13-19-38-019c8a70-dda7-7f33-98ea-f30553347322.jsonl"),
            &["payload", "info", "total_token_usage"],
            &["input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens"],
        ),
        (
            recorded.join("gemini-cli-0.61.0-session.jsonl"),
            &["tokens"],
            &["input", "output", "cached", "thoughts", "tool"],
        ),
        (
            recorded.join("copilot-1.0.102-events.jsonl"),
            &["data", "usage"],
            &["inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "reasoningTokens"],
        ),
    ];
    let no_counts = [json!(-1), json!(0.5), json!("12"), json!(1e30)];
    let mut runs = 0;
    let mut import = |lines: &[Value]| -> (Value, String) {
        runs += 1;
        let store = format!("store-{runs}");
        let file = env.path().join(format!("log-{runs}.jsonl"));
        let text: Vec<String> = lines.iter().map(Value::to_string).collect();
        std::fs::write(&file, text.join("\n")).unwrap();
        let run = env.run(&[
            "--trace-dir",
            &store,
            "import",
            "--format",
            "json",
            file.to_str().unwrap(),
        ]);
        (run.success().json()[0].clone(), store)
    };
    for (log, at, keys) in logs {
        let lines = lines(&log);
        for key in keys {
            // Each line's count at `key`, changed by `change`; how many lines had one.
            let damaged = |change: &dyn Fn(&mut Map<String, Value>)| {
                let mut changed = 0;
                let lines: Vec<Value> = lines
                    .iter()
                    .map(|line| {
                        let mut line = line.clone();
                        let usage = at.iter().try_fold(&mut line, |v, k| v.get_mut(*k));
                        if let Some(Value::Object(usage)) = usage
                            && usage.get(*key).is_some_and(Value::is_number)
                        {
                            change(usage);
                            changed += 1;
                        }
                        line
                    })
                    .collect();
                (lines, changed)
            };
            let what = format!("{} at {key}", log.display());
            let (absent, changed) = damaged(&|usage| {
                usage.remove(*key);
                // The cached counts are parts of the input: a log that leaves the input out
                // has none of them (cached input past an input of 0 is no count, see
                // `cached_input_past_the_input_makes_a_responses_usage_unknown`).
                if ["input_tokens", "input", "inputTokens"].contains(key) {
                    for part in [
                        "cached_input_tokens",
                        "cache_write_input_tokens",
                        "cached",
                        "cacheReadTokens",
                        "cacheWriteTokens",
                    ] {
                        usage.remove(part);
                    }
                }
            });
            assert!(changed > 0, "{what}: no count to damage");
            let (imported, _) = import(&absent);
            let unknown = |imported: &Value| imported["unbelieved_usage"].as_u64().unwrap_or(0);
            assert_eq!(unknown(&imported), 0, "{what} left out: {imported}");
            for no_count in &no_counts {
                let (lines, _) = damaged(&|usage| {
                    usage.insert((*key).to_owned(), no_count.clone());
                });
                let (imported, store) = import(&lines);
                let what = format!("{what} = {no_count}");
                assert!(unknown(&imported) > 0, "{what}: {imported}");
                let list = env.run(&["--trace-dir", &store, "list", "--format", "json"]);
                let listed = &list.success().json()[0];
                let flagged = listed["cost_unbelieved_usage"].as_u64().unwrap_or(0);
                assert!(flagged > 0, "{what}: {listed}");
            }
        }
    }
}

/// Codex, Gemini CLI and Copilot CLI count the cached input inside the input: a log whose cached
/// count is past its input holds no count a response can have (Gemini's `input` 100 with
/// `cached` 5,000 totals 110). The import took the input for 0 and the cache reads as written,
/// 5,000 tokens the response never read, priced with no word. That response's usage is unknown,
/// as a count that is no count makes it: the import counts it apart, its cached tokens are not
/// the session's, and `list` flags the session's cost.
#[test]
fn cached_input_past_the_input_makes_a_responses_usage_unknown() {
    let env = TestEnv::new();
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/agents/recorded");
    // Each log, where its responses' counts are, the input and the cached count past it.
    let logs: [(PathBuf, &[&str], &str, &str); 5] = [
        (
            recorded.join("codex-0.171.0-rollout-shell.jsonl"),
            &["payload", "usage"],
            "input_tokens",
            "cached_input_tokens",
        ),
        (
            recorded.join("codex-0.171.0-rollout-shell.jsonl"),
            &["payload", "usage"],
            "input_tokens",
            "cache_write_input_tokens",
        ),
        (
            recorded.join("gemini-cli-0.61.0-session.jsonl"),
            &["tokens"],
            "input",
            "cached",
        ),
        (
            recorded.join("copilot-1.0.102-events.jsonl"),
            &["data", "usage"],
            "inputTokens",
            "cacheReadTokens",
        ),
        (
            recorded.join("copilot-1.0.102-events.jsonl"),
            &["data", "usage"],
            "inputTokens",
            "cacheWriteTokens",
        ),
    ];
    for (n, (log, at, input, cached)) in logs.into_iter().enumerate() {
        let what = format!("{} at {cached}", log.display());
        // The cached count of each response 5,000 past its input.
        let mut forged = 0;
        let mut past = 0;
        let text: Vec<String> = lines(&log)
            .into_iter()
            .map(|mut line| {
                let usage = at.iter().try_fold(&mut line, |v, k| v.get_mut(*k));
                if let Some(Value::Object(usage)) = usage
                    && let Some(fed) = usage.get(input).and_then(Value::as_u64)
                {
                    usage.insert(cached.to_owned(), json!(fed + 5_000));
                    forged += 1;
                    past += fed + 5_000;
                }
                line.to_string()
            })
            .collect();
        assert!(forged > 0, "{what}: no response to forge");
        let file = env.path().join(format!("log-{n}.jsonl"));
        std::fs::write(&file, text.join("\n")).unwrap();
        let store = format!("store-{n}");
        let run = env.run(&[
            "--trace-dir",
            &store,
            "import",
            "--format",
            "json",
            file.to_str().unwrap(),
        ]);
        let imported = run.success().json()[0].clone();
        assert!(
            imported["unbelieved_usage"].as_u64().unwrap_or(0) > 0,
            "{what}: {imported}"
        );
        let tokens = &imported["tokens"];
        let claimed =
            tokens["cache_read"].as_u64().unwrap() + tokens["cache_creation"].as_u64().unwrap();
        assert!(claimed < past, "{what}: {imported}");
        let list = env.run(&["--trace-dir", &store, "list", "--format", "json"]);
        let listed = &list.success().json()[0];
        assert!(
            listed["cost_unbelieved_usage"].as_u64().unwrap_or(0) > 0,
            "{what}: {listed}"
        );
    }
}

/// An imported Gemini CLI chat had no working folder (its `session_start` no `cwd`), so the
/// file its `read_file` call read stayed `README.md` where its hooks recorded
/// `<project>/README.md`, and every analysis that places files under the project (explain's
/// files, policy, audit's `files.*` rules, sql) saw a path placed nowhere, though `import
/// --discover` knew the project from `~/.gemini/projects.json`. The import of a chat, found by
/// `--all` or named, gives the session the folder Gemini CLI keeps the chat for, by its short
/// name or by its hash, and so the paths its hooks record; a chat of a project Gemini CLI's
/// index does not hold is imported as before, with none.
#[test]
fn a_gemini_chat_is_imported_in_the_folder_gemini_keeps_it_for() {
    const SESSION: &str = "629cab06-47bb-41bc-afb3-1479ecd94e67";
    const OLDER: &str = "2d9ea14f-1e4e-44f6-8bf5-7a7819cb1cd9";
    const UNKNOWN: &str = "0ab84937-9fe7-4284-986a-33c832af0b6a";
    let env = TestEnv::new();
    let home = env.path().join("home");
    let tmp = home.join(".gemini/tmp");
    let (project, older) = (env.path().join("gproj"), env.path().join("older"));
    for folder in [&project, &older] {
        std::fs::create_dir_all(folder).unwrap();
    }
    let put = |from: PathBuf, to: &Path| {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
    };
    let corpus = shared().join("corpus/gemini/Mai0313__VibeCodingTracker");
    // 0.61.0's chat of the recorded run, in the folder of its project's short name, and a
    // command on a file named from the project after it.
    let chat = tmp.join("gproj/chats/session-2026-11-30T05-36-629cab06.jsonl");
    put(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs/agents/recorded/gemini-cli-0.61.0-session.jsonl"),
        &chat,
    );
    let at = "2026-11-30T05:36:51.000Z";
    let more = [
        json!({"id": "u9", "timestamp": at, "type": "user", "content": [{"text": "show the notes"}]}),
        json!({"id": "g9", "timestamp": at, "type": "gemini", "content": "Here.",
               "model": "gemini-2.5-flash",
               "tokens": {"input": 80, "output": 2, "cached": 0, "thoughts": 0, "tool": 0, "total": 82},
               "toolCalls": [{"id": "c9", "name": "run_shell_command",
                              "args": {"command": "cat notes.txt"}, "status": "success",
                              "timestamp": at,
                              "result": [{"functionResponse": {"id": "c9", "name": "run_shell_command",
                                                               "response": {"output": "hi"}}}]}]}),
    ];
    let mut text = std::fs::read_to_string(&chat).unwrap();
    for line in more {
        text.push_str(&line.to_string());
        text.push('\n');
    }
    std::fs::write(&chat, text).unwrap();
    // An older chat, one document, in the folder named by its project's hash.
    let hash = std::process::Command::new("python3")
        .args([
            "-c",
            "import hashlib, sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())",
        ])
        .arg(&older)
        .output()
        .unwrap();
    let hash = String::from_utf8(hash.stdout).unwrap();
    put(
        corpus.join("gemini-session-legacy.json"),
        &tmp.join(hash.trim())
            .join("chats/session-2025-10-11T13-00-2d9ea14f.json"),
    );
    // A chat in the folder of a hash no folder Gemini CLI knows has.
    let unknown = tmp
        .join("f".repeat(64))
        .join("chats/session-2026-04-23T12-52-0ab84937.jsonl");
    put(corpus.join("gemini-session.jsonl"), &unknown);
    std::fs::write(
        home.join(".gemini/projects.json"),
        json!({"projects": {project.to_str().unwrap(): "gproj", older.to_str().unwrap(): "older"}})
            .to_string(),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut cmd = env.command(args);
        cmd.env("HOME", &home).env_remove("GEMINI_CLI_HOME");
        crate::common::Run::of(cmd.output().unwrap())
    };
    let events = |store: &Path, session: &str| -> Vec<Value> {
        lines(&store.join(session).join("events.ndjson"))
    };
    let cwd = |events: &[Value]| events[0]["data"]["cwd"].as_str().map(str::to_owned);
    let files = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .filter(|e| e["event_type"] == "file_read")
            .map(|e| e["data"]["path"].as_str().unwrap().to_owned())
            .collect()
    };
    let notes = project.join("notes.txt").to_str().unwrap().to_owned();
    run(&["import", "--all"]).success();
    let found = events(&project.join(".agent-traces"), SESSION);
    assert_eq!(cwd(&found).as_deref(), project.to_str(), "{:#}", found[0]);
    // `read_file`'s path as the call names it, read from the session's folder; the command's
    // file named from the folder it ran in.
    assert_eq!(files(&found), ["README.md", &notes]);
    let old = events(&older.join(".agent-traces"), OLDER);
    assert_eq!(cwd(&old).as_deref(), older.to_str(), "{:#}", old[0]);
    // Named: the same folder, whichever store it goes to.
    let named = env.path().join("named");
    for log in [&chat, &unknown] {
        run(&[
            "--trace-dir",
            named.to_str().unwrap(),
            "import",
            log.to_str().unwrap(),
        ])
        .success();
    }
    let by_name = events(&named, SESSION);
    assert_eq!(cwd(&by_name), cwd(&found));
    assert_eq!(files(&by_name), files(&found));
    assert_eq!(cwd(&events(&named, UNKNOWN)), None);
    // The same run as its hooks recorded it, in the project.
    let hooks = env.path().join("hooks");
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/agents/recorded/gemini-cli-0.61.0-hooks.jsonl");
    for mut payload in lines(&recorded) {
        payload["cwd"] = project.to_str().unwrap().into();
        payload["transcript_path"] = chat.to_str().unwrap().into();
        let event = payload["hook_event_name"].as_str().unwrap().to_owned();
        let hook = env.command(&[
            "--trace-dir",
            hooks.to_str().unwrap(),
            "hook",
            "--agent",
            "gemini-cli",
            &event,
        ]);
        crate::common::run_with_stdin(hook, payload.to_string().as_bytes()).success();
    }
    let hooked = events(&hooks, SESSION);
    assert_eq!(files(&hooked), files(&found)[..1]);
    assert_eq!(cwd(&hooked), cwd(&found), "{:#}", hooked[0]);
}

/// Gemini CLI writes a subagent's chat beside its parent's, in `chats/<parent id>/<agent
/// id>.jsonl`, and names the agent on the call that ran it (`agentId`). Importing the parent's
/// chat imports the subagent's too, as a session under that call, as Claude Code's subagents
/// are; a subagent's chat imported alone is still linked to its parent session.
#[test]
fn a_gemini_subagents_chat_is_imported_under_the_call_that_ran_it() {
    const PARENT: &str = "629cab06-47bb-41bc-afb3-1479ecd94e67";
    const AGENT: &str = "3f1c2b7a-9d4e-4f60-8a21-5b0c7e9d1a42";
    const CALL: &str = "read_file__read_file_1796017008920_0";
    let env = TestEnv::new();
    let chats = env.path().join("gemini/tmp/proj/chats");
    std::fs::create_dir_all(chats.join(PARENT)).unwrap();
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/agents/recorded/gemini-cli-0.61.0-session.jsonl");
    // The parent's chat, its one call naming the agent it ran.
    let mut parent = String::new();
    for line in std::fs::read_to_string(recorded).unwrap().lines() {
        let mut v: Value = serde_json::from_str(line).unwrap();
        if let Some(calls) = v.get_mut("toolCalls").and_then(Value::as_array_mut) {
            for call in calls.iter_mut().filter(|c| c["id"] == CALL) {
                call["agentId"] = AGENT.into();
            }
        }
        parent.push_str(&v.to_string());
        parent.push('\n');
    }
    let parent_chat = chats.join("session-2026-11-30T05-36-629cab06.jsonl");
    std::fs::write(&parent_chat, parent).unwrap();
    // The subagent's chat: a real chat of the corpus under the agent's id, of kind subagent.
    let corpus = shared().join("corpus/gemini/Mai0313__VibeCodingTracker/gemini-session.jsonl");
    let mut lines = std::fs::read_to_string(corpus).unwrap();
    let header_end = lines.find('\n').unwrap();
    let mut header: Value = serde_json::from_str(&lines[..header_end]).unwrap();
    header["sessionId"] = AGENT.into();
    header["kind"] = "subagent".into();
    lines.replace_range(..header_end, &header.to_string());
    let agent_chat = chats.join(PARENT).join(format!("{AGENT}.jsonl"));
    std::fs::write(&agent_chat, &lines).unwrap();

    let run = env.run(&["import", parent_chat.to_str().unwrap(), "--format", "json"]);
    run.success();
    assert_eq!(run.session_ids(), [PARENT, AGENT], "{}", run.stdout);
    let call = env
        .events(PARENT)
        .into_iter()
        .find(|e| e["event_type"] == "tool_call" && e["data"]["tool_use_id"] == CALL)
        .expect("the call that ran the agent");
    let meta = env.meta(AGENT);
    assert_eq!(meta["parent_session_id"], PARENT);
    assert_eq!(meta["parent_event_id"], call["event_id"]);
    assert_eq!(meta["depth"], 1);
    assert!(env.events(AGENT).len() > 10);
    // `list` shows the parent alone, as it does a Claude Code session with subagents.
    let listed = env.run(&["list", "--format", "json"]).success().json();
    let listed: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [PARENT]);
    // Imported again, nothing changes.
    let again = env
        .run(&["import", parent_chat.to_str().unwrap(), "--format", "json"])
        .success()
        .json();
    assert!(
        again
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "already_imported"),
        "{again:#}"
    );

    // A junk file among the subagents' chats costs that file alone: the parent's report says
    // so, and the others are imported.
    std::fs::write(chats.join(PARENT).join("000-junk.jsonl"), "not json\n").unwrap();
    let fresh = TestEnv::new();
    let reports = fresh
        .run(&["import", parent_chat.to_str().unwrap(), "--format", "json"])
        .success()
        .json();
    assert_eq!(reports.as_array().unwrap().len(), 2, "{reports:#}");
    assert!(
        reports[0]["warnings"]
            .to_string()
            .contains("a subagent's chat was not imported"),
        "{reports:#}"
    );
    assert_eq!(
        fresh.meta(AGENT)["parent_event_id"],
        meta_call(&fresh, CALL)
    );
    std::fs::remove_file(chats.join(PARENT).join("000-junk.jsonl")).unwrap();

    // The parent's chat grows and is imported again (its events get new ids): the subagent
    // follows its call.
    let mut grown = std::fs::read_to_string(&parent_chat).unwrap();
    grown.push_str(
        "{\"id\":\"late-info\",\"timestamp\":\"2026-11-30T05:40:00.000Z\",\"type\":\"info\",\"content\":\"later\"}\n",
    );
    std::fs::write(&parent_chat, grown).unwrap();
    let again = env
        .run(&["import", parent_chat.to_str().unwrap(), "--format", "json"])
        .success()
        .json();
    assert_eq!(again[0]["status"], "grown", "{again:#}");
    assert_eq!(env.meta(AGENT)["parent_event_id"], meta_call(&env, CALL));

    // The subagent's chat grows while its parent's does not: imported again, still linked.
    let mut longer = std::fs::read_to_string(&agent_chat).unwrap();
    longer.push_str(
        "{\"id\":\"agent-late\",\"timestamp\":\"2026-04-23T13:00:00.000Z\",\"type\":\"user\",\"content\":\"one more\"}\n",
    );
    std::fs::write(&agent_chat, longer).unwrap();
    let again = env
        .run(&["import", parent_chat.to_str().unwrap(), "--format", "json"])
        .success()
        .json();
    assert_eq!(again[0]["status"], "already_imported", "{again:#}");
    assert_eq!(again[1]["status"], "grown", "{again:#}");
    assert_eq!(env.meta(AGENT)["parent_event_id"], meta_call(&env, CALL));

    // The subagent's chat alone: still under its parent session, by the folder it is in.
    let alone = TestEnv::new();
    alone
        .run(&["import", agent_chat.to_str().unwrap()])
        .success();
    let meta = alone.meta(AGENT);
    assert_eq!(meta["parent_session_id"], PARENT);
    assert_eq!(meta["parent_event_id"], Value::Null);
    // Its parent imported after it: linked to the call then.
    alone
        .run(&["import", parent_chat.to_str().unwrap()])
        .success();
    assert_eq!(
        alone.meta(AGENT)["parent_event_id"],
        meta_call(&alone, CALL)
    );
}

/// The id of the parent's call `call` (by its tool_use_id) in `env`'s store.
fn meta_call(env: &TestEnv, call: &str) -> Value {
    env.events("629cab06-47bb-41bc-afb3-1479ecd94e67")
        .into_iter()
        .find(|e| e["event_type"] == "tool_call" && e["data"]["tool_use_id"] == call)
        .map(|e| e["event_id"].clone())
        .expect("the call that ran the agent")
}

/// `setup --agent` spelt Gemini CLI `gemini` and `import --agent` `gemini-cli`, each refusing
/// the other's spelling; both take both now (as `hook --agent` does).
#[test]
fn gemini_is_named_alike_by_setup_and_import() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    let chats = home.join(".gemini/tmp/proj/chats");
    std::fs::create_dir_all(&chats).unwrap();
    std::fs::copy(
        shared().join("corpus/gemini/Mai0313__VibeCodingTracker/gemini-session.jsonl"),
        chats.join("session-2026-04-23T12-52-0ab84937.jsonl"),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut cmd = env.command(args);
        cmd.env("HOME", &home).env_remove("GEMINI_CLI_HOME");
        crate::common::Run::of(cmd.output().unwrap())
    };
    for name in ["gemini", "gemini-cli"] {
        let found = run(&["import", "--discover", "--agent", name, "--format", "json"]);
        found.success();
        let found = found.json();
        assert_eq!(found.as_array().unwrap().len(), 1, "{found:#}");
        assert_eq!(found[0]["agent"], "gemini-cli");
        let setup = run(&["setup", "--agent", name]);
        setup.success();
        assert!(
            setup.stdout.contains("agent-strace hook"),
            "{}",
            setup.stdout
        );
    }
}

/// `import <folder>` finds every agent's logs under it as the agents lay them out: a Claude Code
/// transcript with its subagent (imported under its parent, not alone), a Codex rollout in its
/// dated folders, a Gemini CLI chat, a Copilot CLI events file. A prompt history beside them is
/// left out with a note, a link is said and not followed, a hidden folder not an agent's is not
/// searched, and a folder holding no log is an error of its own.
#[test]
fn a_folder_named_to_import_is_searched_for_every_agents_logs() {
    const CLAUDE: &str = "4b2030ed-5563-49ea-b703-6a002f2d3cc8";
    let env = TestEnv::new();
    let logs = env.path().join("logs");
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/agents/recorded");
    let copy = |from: &Path, to: &str| {
        let to = logs.join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
    };
    let claude = shared().join("corpus/claude-code/moredip__session-share");
    copy(
        &claude.join(format!("{CLAUDE}.jsonl")),
        &format!(".claude/projects/-home-me-app/{CLAUDE}.jsonl"),
    );
    copy(
        &claude.join(format!("{CLAUDE}/subagents/agent-a2018e5.jsonl")),
        &format!(".claude/projects/-home-me-app/{CLAUDE}/subagents/agent-a2018e5.jsonl"),
    );
    copy(
        &recorded.join("codex-0.171.0-rollout-shell.jsonl"),
        ".codex/sessions/2026/11/30/rollout-2026-11-30T05-39-48-01a22af7-6dfa-74a1-8e8b-8b505ee74af2.jsonl",
    );
    copy(
        &recorded.join("gemini-cli-0.61.0-session.jsonl"),
        ".gemini/tmp/proj/chats/session-2026-11-30T05-36-629cab06.jsonl",
    );
    copy(
        &recorded.join("copilot-1.0.102-events.jsonl"),
        ".copilot/session-state/16a807fe-9154-4ae3-8cdc-bbf634e14bb4/events.jsonl",
    );
    // Claude Code's prompt history: JSON lines, no session log.
    std::fs::write(
        logs.join(".claude/history.jsonl"),
        "{\"display\":\"hi\",\"pastedContents\":{},\"timestamp\":1759000000000,\"project\":\"/x\"}\n",
    )
    .unwrap();
    // A link planted among the logs, and a transcript in a hidden folder below the one named.
    std::os::unix::fs::symlink(
        claude.join("0ccf1a04-1b4c-43b6-8aa5-79e41db43a68.jsonl"),
        logs.join(".claude/projects/-home-me-app/planted.jsonl"),
    )
    .unwrap();
    copy(
        &claude.join("images-in-user-messages.jsonl"),
        ".claude/projects/-home-me-app/.cache/old.jsonl",
    );

    // A copy of a home folder: the agents' hidden folders are searched, no other.
    let run = env.run(&["import", logs.to_str().unwrap(), "--format", "json"]);
    run.success();
    let reports = run.json();
    let by_id: HashMap<&str, &Value> = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["session_id"].as_str().unwrap(), r))
        .collect();
    let mut ids: Vec<&str> = by_id.keys().copied().collect();
    ids.sort_unstable();
    let child = format!("agent-a2018e5-{CLAUDE}");
    let mut wanted = vec![
        "01a22af7-6dfa-74a1-8e8b-8b505ee74af2",
        "16a807fe-9154-4ae3-8cdc-bbf634e14bb4",
        CLAUDE,
        "629cab06-47bb-41bc-afb3-1479ecd94e67",
        child.as_str(),
    ];
    wanted.sort_unstable();
    assert_eq!(ids, wanted, "{reports:#}");
    assert!(
        by_id.values().all(|r| r["status"] == "imported"),
        "{reports:#}"
    );
    // The subagent went with its parent: linked to the call that ran it.
    assert_eq!(env.meta(&child)["parent_session_id"], CLAUDE);
    assert!(
        run.stderr.contains("history.jsonl")
            && run.stderr.contains("no session log of Claude Code"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("planted.jsonl: a symbolic link, not followed"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("old.jsonl"), "{}", run.stderr);
    assert_eq!(env.sessions().len(), 5);

    // Named again, nothing is imported twice.
    let again = env.run(&["import", logs.to_str().unwrap(), "--format", "json"]);
    again.success();
    assert!(
        again
            .json()
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "already_imported"),
        "{}",
        again.stdout
    );

    // A folder with no log in it is an error (exit 3) that names it.
    let empty = env.path().join("empty");
    std::fs::create_dir_all(empty.join("sub")).unwrap();
    std::fs::write(empty.join("sub/notes.txt"), "hello\n").unwrap();
    env.run(&["import", empty.to_str().unwrap()]).fails_with(
        3,
        "empty: no session log of Claude Code, Codex, Gemini CLI or Copilot CLI under it",
    );
    // Named nothing, the error says a folder may be named.
    env.run(&["import"])
        .fails_with(2, "or folders holding them");
}

/// A folder named to `import` that cannot be read, or one below it, is said (before, one below
/// was passed over without a word, and the one named was "no session log under it", exit 3):
/// the one named fails as a file that cannot be read does (exit 4), one below is a warning.
#[test]
fn an_unreadable_folder_named_to_import_is_said_not_passed_over() {
    use std::os::unix::fs::PermissionsExt;
    const READABLE: &str = "4b2030ed-5563-49ea-b703-6a002f2d3cc8";
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: needs root and setpriv to read as someone else");
        return;
    }
    let env = TestEnv::new();
    let claude = shared().join("corpus/claude-code/moredip__session-share");
    let logs = env.path().join("logs");
    for (folder, session) in [
        ("a", READABLE),
        ("b", "0ccf1a04-1b4c-43b6-8aa5-79e41db43a68"),
    ] {
        std::fs::create_dir_all(logs.join(folder)).unwrap();
        let file = format!("{session}.jsonl");
        std::fs::copy(claude.join(&file), logs.join(folder).join(&file)).unwrap();
    }
    let mode = |path: &Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    // Nobody may make the store here; `logs/b` is no one's to read.
    mode(env.path(), 0o777);
    mode(&logs.join("b"), 0o000);

    let run = crate::common::as_nobody(&env, &["import", "logs", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ids = run.session_ids();
    assert_eq!(ids, [READABLE], "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "warning: logs/b: Permission denied (os error 13); the logs in it are not imported"
        ),
        "{}",
        run.stderr
    );

    mode(&logs, 0o000);
    let run = crate::common::as_nobody(&env, &["import", "logs"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: logs: Permission denied (os error 13)")
            && !run.stderr.contains("no session log"),
        "{}",
        run.stderr
    );
    mode(&logs, 0o755);
    mode(&logs.join("b"), 0o755);
}

/// Codex's older `shell` tool gives its command as a list of words (`["bash", "-lc", "ls
/// -la"]`, as the corpus's 0.39.0 rollout has it), and so does a `local_shell_call`: `replay`
/// and `audit` showed the list as raw JSON (`{"command":["bash","-lc","ls -la"]}`) and a
/// `local_shell_call` as `exec`. They show the line the shell is handed (`$ ls -la`), as Codex
/// does, and a list that hands no shell a line as its words, quoted as Bash takes them back.
#[test]
fn a_codex_command_given_as_a_list_is_shown_as_its_line() {
    let env = TestEnv::new();
    let corpus = shared().join("corpus/codex/Mai0313__VibeCodingTracker/codex-v0.39.0.jsonl");
    let mut lines: Vec<String> = std::fs::read_to_string(corpus)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    // Local shell calls, in the corpus's envelope, after its last line.
    for (i, words) in [
        serde_json::json!(["bash", "-lc", "cat secrets/k"]),
        serde_json::json!(["rg", "-n", "a b", "src"]),
    ]
    .into_iter()
    .enumerate()
    {
        let item = serde_json::json!({"timestamp": "2025-09-19T09:09:40.000Z",
            "type": "response_item",
            "payload": {"type": "local_shell_call", "call_id": format!("local{i}"),
                        "status": "completed", "action": {"type": "exec", "command": words}}});
        lines.push(item.to_string());
    }
    let rollout = env.path().join("codex-v0.39.0.jsonl");
    std::fs::write(&rollout, lines.join("\n") + "\n").unwrap();
    env.run(&["import", rollout.to_str().unwrap()]).success();
    let session = "01996135-afde-7911-97f0-d863511eca56";
    let replay = env.run(&["replay", session]);
    replay.success();
    for line in [
        "$ ls -la",
        "$ sed -n '1,200p' go.mod",
        "$ cat secrets/k",
        "$ rg -n 'a b' src",
    ] {
        assert!(replay.stdout.contains(line), "{line}:\n{}", replay.stdout);
    }
    // Each shell call's detail, on the line under it, is a command line.
    let shown: Vec<&str> = replay.stdout.lines().collect();
    let details: Vec<&str> = shown
        .windows(2)
        .filter(|pair| pair[0].ends_with("→ tool_call shell"))
        .map(|pair| pair[1].trim())
        .collect();
    assert_eq!(details.len(), 16, "{}", replay.stdout);
    assert!(details.iter().all(|d| d.starts_with("$ ")), "{details:#?}");
    // The whole event says the line it ran.
    let events = env.events(session);
    let number = events
        .iter()
        .position(|e| e["data"]["arguments"]["command"][2] == "cat secrets/k")
        .unwrap()
        + 1;
    let shown = env.run(&["replay", session, "--show", &number.to_string()]);
    assert!(shown.stdout.contains("cat secrets/k"), "{}", shown.stdout);
    assert!(!shown.stdout.contains("\"exec\""), "{}", shown.stdout);
    let policy = env.path().join("policy.json");
    std::fs::write(&policy, r#"{"files": {"read": {"deny": ["secrets/**"]}}}"#).unwrap();
    let audit = env.run(&[
        "audit",
        session,
        "--policy",
        policy.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let report = audit.json();
    let what: Vec<&str> = ["allowed", "no_policy", "violations"]
        .iter()
        .flat_map(|list| report[*list].as_array().unwrap())
        .filter(|f| f["tool"] == "shell")
        .map(|f| f["what"].as_str().unwrap())
        .collect();
    assert!(what.contains(&"$ ls -la"), "{what:#?}");
    assert!(
        what.iter()
            .all(|w| w.starts_with("$ ") && !w.contains("\"command\"")),
        "{what:#?}"
    );
    let read = report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["access"]["target"] == "secrets/k");
    assert_eq!(read.unwrap()["what"], "$ cat secrets/k", "{report}");
}

/// One line of an older Codex rollout (0.39), at minute `minute` of 2025-09-19 09:00.
fn line(minute: u32, kind: &str, payload: serde_json::Value) -> String {
    serde_json::json!({"timestamp": format!("2025-09-19T09:0{minute}:00.000Z"),
                       "type": kind, "payload": payload})
    .to_string()
}

/// The first lines of an older Codex rollout of `session` in `/p`: its meta, and `prompt`.
fn codex_start(session: &str, prompt: &str) -> [String; 2] {
    [
        line(
            0,
            "session_meta",
            serde_json::json!({"id": session, "cwd": "/p", "cli_version": "0.39.0"}),
        ),
        line(
            1,
            "response_item",
            serde_json::json!({"type": "message", "role": "user",
                               "content": [{"type": "input_text", "text": prompt}]}),
        ),
    ]
}

/// A Codex command given as a list of words (`["bash", "-lc", "cargo test"]`) was no command
/// to `explain` (no test run, no retry: the failure listed as its raw JSON), nor to `export
/// --format csv` (an empty `command`), `why`, `compare`, `standup`, `watch` or the search of
/// MCP calls; each reads the line the shell is handed, as `replay` shows it.
#[test]
fn a_codex_command_given_as_a_list_is_a_command_to_every_analysis() {
    let env = TestEnv::new();
    let session = "019c8a4d-8f45-7010-8b5d-7fad920aa7f1";
    let mut lines = codex_start(session, "fix the tests").to_vec();
    for (i, (script, output, code)) in [
        ("cargo test", "error: test failed", 101),
        ("cargo test -q", "ok", 0),
    ]
    .into_iter()
    .enumerate()
    {
        let minute = 2 + 2 * u32::try_from(i).unwrap();
        let arguments = serde_json::json!({"command": ["bash", "-lc", script]});
        let result = serde_json::json!({"output": output,
                                        "metadata": {"exit_code": code, "duration_seconds": 1.0}});
        lines.push(line(
            minute,
            "response_item",
            serde_json::json!({"type": "function_call", "name": "shell",
                               "arguments": arguments.to_string(), "call_id": format!("c{i}")}),
        ));
        lines.push(line(
            minute + 1,
            "response_item",
            serde_json::json!({"type": "function_call_output", "call_id": format!("c{i}"),
                               "output": result.to_string()}),
        ));
    }
    let rollout = env
        .path()
        .join(format!("rollout-2025-09-19T09-00-00-{session}.jsonl"));
    std::fs::write(&rollout, lines.join("\n") + "\n").unwrap();
    env.run(&["import", rollout.to_str().unwrap()]).success();
    let explain = env.run(&["explain", session]);
    explain.success();
    for said in [
        "Ran: cargo test ✗",
        "shell cargo test — ",
        "Retry loops (1):",
        "cargo test — 2 attempts",
    ] {
        assert!(explain.stdout.contains(said), "{said}:\n{}", explain.stdout);
    }
    let csv = env.run(&["export", session, "--format", "csv"]);
    csv.success();
    let commands: Vec<&str> = csv
        .stdout
        .lines()
        .filter(|l| l.contains(",tool_call,"))
        .map(|l| l.split(',').nth_back(2).unwrap())
        .collect();
    assert_eq!(commands, ["cargo test", "cargo test -q"], "{}", csv.stdout);
}

/// A Gemini CLI chat names a session and its phases by what the person typed (`/init`, where the
/// chat sent the prompt the command expands to), does not take Gemini CLI's own `System: Please
/// continue.` for a prompt, and claims no duration for calls the chat does not time (their one
/// time is when the batch they ran in was done; a model call's is its message's): `stats` said
/// `0ms` for each tool, the store `0.0` for each response.
#[test]
fn a_gemini_chat_is_read_as_the_person_saw_it() {
    let env = TestEnv::new();
    let chat = shared().join("corpus/gemini/Mai0313__VibeCodingTracker/gemini-session.jsonl");
    env.run(&["import", chat.to_str().unwrap()]).success();
    let id = "0ab84937-9fe7-4284-986a-33c832af0b6a";

    let list = env.run(&["list", "--format", "json"]).json();
    assert_eq!(list[0]["first_prompt"], "/init", "{list}");

    let events = env.events(id);
    let prompts: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "user_prompt")
        .collect();
    assert_eq!(prompts.len(), 2, "{prompts:?}");
    assert_eq!(prompts[0]["data"]["prompt"], "/init");
    // What went to the model is kept beside it.
    let sent = prompts[0]["data"]["sent_prompt"].as_str().unwrap();
    assert!(
        sent.contains("generate a comprehensive GEMINI.md"),
        "{sent}"
    );
    let go_on: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "decision" && e["data"]["kind"] == "continuation")
        .collect();
    assert_eq!(go_on.len(), 1, "{events:?}");
    assert_eq!(go_on[0]["data"]["prompt"], "System: Please continue.");

    let explain = env.run(&["explain", id]);
    explain.success();
    let text = &explain.stdout;
    assert!(text.contains("Phase 1: /init"), "{text}");
    assert!(!text.contains("Please continue"), "{text}");
    assert!(!text.contains("Phase 3"), "{text}");

    let replay = env.run(&["replay", id]).stdout;
    assert!(
        replay.contains("Gemini CLI found the model had more to say"),
        "{replay}"
    );

    let stats = env.run(&["stats", id, "--format", "json"]).json();
    assert_eq!(stats["user_prompts"], 2, "{stats}");
    for tool in stats["tools"].as_array().unwrap() {
        assert_eq!(tool["timed"], 0, "{tool}");
        assert!(tool["mean_ms"].is_null(), "{tool}");
    }
    // Nor for the model's calls: a message has one time, and the request is made at it.
    let untimed = ["tool_result", "llm_response"];
    for r in events
        .iter()
        .filter(|e| untimed.contains(&s(e, "event_type")))
    {
        assert!(r.get("duration_ms").is_none(), "{r}");
    }
}

/// A prompt Codex's IDE extension sent opens with the editor's state (`# Context from my IDE
/// setup:` … `## My request for Codex:`): `list`, `explain` and `replay` named the session by
/// that opening; they name it by the request, as Codex itself does.
#[test]
fn a_codex_prompt_from_an_ide_is_named_by_its_request() {
    let env = TestEnv::new();
    let rollout = shared().join("corpus/codex/Mai0313__VibeCodingTracker/codex-v0.39.0.jsonl");
    env.run(&["import", rollout.to_str().unwrap()]).success();
    let id = "01996135-afde-7911-97f0-d863511eca56";
    let request = "幫我檢查一下 go.mod 裡面 為何 go版本是 1.24?";

    let list = env.run(&["list", "--format", "json"]).json();
    let first = list[0]["first_prompt"].as_str().unwrap();
    assert!(first.starts_with(request), "{list}");

    let explain = env.run(&["explain", id]);
    explain.success();
    assert!(
        explain.stdout.contains(&format!("Phase 1: {request}")),
        "{}",
        explain.stdout
    );
    let replay = env.run(&["replay", id]);
    assert!(
        !replay.stdout.contains("Context from my IDE"),
        "{}",
        replay.stdout
    );
    assert!(replay.stdout.contains(request), "{}", replay.stdout);
    // The store keeps the prompt as Codex sent it.
    let prompts: Vec<String> = env
        .events(id)
        .iter()
        .filter(|e| e["event_type"] == "user_prompt")
        .map(|e| e["data"]["prompt"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        prompts
            .iter()
            .any(|p| p.starts_with("# Context from my IDE setup:")),
        "{prompts:?}"
    );
}

/// Codex puts its context into the conversation as user messages, each wrapped whole in a tag
/// (`<environment_context>`, `<turn_aborted>`, `<skill>`, and more with each version): the
/// import took every user message that began with `<` for one, and a prompt the person began
/// with a tag (`<Button> renders twice`) was lost, its phase and first prompt with it; so was
/// one the person wrapped in markup (`<div>fix the padding</div>`).
#[test]
fn a_codex_prompt_that_begins_with_a_tag_is_the_persons() {
    let env = TestEnv::new();
    let id = "019a0000-0000-7000-8000-00000000c0de";
    let user = |at: &str, text: &str| {
        json!({"timestamp": at, "type": "response_item", "payload": {
            "type": "message", "role": "user",
            "content": [{"type": "input_text", "text": text}]}})
    };
    let lines = [
        json!({"timestamp": "2026-03-01T10:00:00.000Z", "type": "session_meta", "payload": {
            "id": id, "timestamp": "2026-03-01T10:00:00.000Z", "cwd": "/work/app",
            "originator": "codex_cli_rs", "cli_version": "0.104.0"}}),
        user(
            "2026-03-01T10:00:00.100Z",
            "# AGENTS.md instructions for /work/app\n\n<INSTRUCTIONS>\nuse uv\n</INSTRUCTIONS>",
        ),
        user(
            "2026-03-01T10:00:00.200Z",
            "<environment_context>\n  <cwd>/work/app</cwd>\n</environment_context>",
        ),
        user(
            "2026-03-01T10:00:01.000Z",
            "<Button> renders twice on the settings page",
        ),
        user(
            "2026-03-01T10:00:30.000Z",
            "<turn_aborted>\nThe user interrupted the turn.\n</turn_aborted>",
        ),
        user(
            "2026-03-01T10:00:31.000Z",
            "<pinned_notes>keep the API</pinned_notes>",
        ),
        user("2026-03-01T10:00:40.000Z", "now add a test for it"),
        // Markup the person wrapped a prompt in is no tag of Codex's.
        user("2026-03-01T10:01:00.000Z", "<div>fix the padding</div>"),
        user(
            "2026-03-01T10:01:01.000Z",
            "<skill>\n<name>review</name>\n</skill>",
        ),
        // A tag a later Codex adds, named as Codex names them.
        user(
            "2026-03-01T10:01:02.000Z",
            "<network_policy>\nallowed\n</network_policy>",
        ),
    ];
    let file = env.dir.path().join("rollout.jsonl");
    let text = lines
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&file, text).unwrap();
    env.run(&["import", file.to_str().unwrap()]).success();

    let prompts: Vec<String> = env
        .events(id)
        .iter()
        .filter(|e| e["event_type"] == "user_prompt")
        .map(|e| e["data"]["prompt"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        prompts,
        [
            "<Button> renders twice on the settings page",
            "now add a test for it",
            "<div>fix the padding</div>"
        ],
        "{:?}",
        env.events(id)
    );
    let list = env.run(&["list", "--format", "json"]).json();
    assert_eq!(
        list[0]["first_prompt"],
        "<Button> renders twice on the settings page"
    );
}

/// Copilot CLI 1.0.34 tells a session's usage once, at its shutdown: the one response that
/// holds it was answered to the last model call and shown as taking from that call to the
/// shutdown (`⇠ llm_response (5m 29s)`); it is the session's total, of no one call.
#[test]
fn copilots_session_total_is_of_no_one_call() {
    let env = TestEnv::new();
    let log = shared().join("corpus/copilot/Mai0313__VibeCodingTracker/copilot-session.jsonl");
    env.run(&["import", log.to_str().unwrap()]).success();
    let id = "96ef38f0-9d09-45c3-8124-6448c36090ed";
    let events = env.events(id);
    let totals: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "llm_response")
        .collect();
    assert_eq!(totals.len(), 1, "{totals:?}");
    assert_eq!(totals[0]["data"]["scope"], "session");
    assert!(totals[0].get("duration_ms").is_none(), "{}", totals[0]);
    assert!(totals[0].get("parent_id").is_none(), "{}", totals[0]);
    let replay = env.run(&["replay", id]);
    replay.success();
    let line = replay
        .stdout
        .lines()
        .skip_while(|l| !l.contains("llm_response"))
        .take(2)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!line.contains("5m 29s"), "{line}");
    assert!(line.contains("session total: claude-sonnet-4.6"), "{line}");
    // The requests are the model calls the log has, not one more for the total.
    let stats = env.run(&["stats", id, "--format", "json"]).json();
    assert_eq!(stats["llm_requests"], 6, "{stats}");
}

/// Copilot CLI's `view` takes a folder as well as a file: three of the session's four views
/// listed folders (the project, `src`, `.github`), and `stats`, `standup` and `explain` counted
/// them as files read (`Read 4 files: /home/wei/repo/VibeCodingTracker, Cargo.toml, src, .github`).
#[test]
fn a_copilot_view_of_a_folder_reads_no_file() {
    let env = TestEnv::new();
    let log = shared().join("corpus/copilot/Mai0313__VibeCodingTracker/copilot-session.jsonl");
    env.run(&["import", log.to_str().unwrap()]).success();
    let id = "96ef38f0-9d09-45c3-8124-6448c36090ed";
    let read: Vec<String> = env
        .events(id)
        .iter()
        .filter(|e| e["event_type"] == "file_read")
        .map(|e| e["data"]["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(read, ["/home/wei/repo/VibeCodingTracker/Cargo.toml"]);
    let stats = env.run(&["stats", id, "--format", "json"]).json();
    assert_eq!(stats["files_read"], 1, "{stats}");
    let standup = env.run(&["standup", id]);
    standup.success();
    assert!(
        standup.stdout.contains("Read 1 file: Cargo.toml"),
        "{}",
        standup.stdout
    );
    let explain = env.run(&["explain", id]);
    assert!(
        explain.stdout.contains("  Read: Cargo.toml\n"),
        "{}",
        explain.stdout
    );
    // The calls are still there, as views.
    assert_eq!(stats["tool_calls"], 13, "{stats}");
}

/// `audit` printed a Codex call's script of many lines whole in its reason (`no rule covers
/// running `bash -lc 'set -e\n# Latest Go version\n…`), so the list broke into lines that named
/// no call; each finding is one line. A Codex plan was shown as its arguments' JSON.
#[test]
fn audit_keeps_each_finding_of_a_script_on_one_line() {
    let env = TestEnv::new();
    let rollout = shared().join("corpus/codex/Mai0313__VibeCodingTracker/codex-v0.39.0.jsonl");
    env.run(&["import", rollout.to_str().unwrap()]).success();
    let audit = env.run(&["audit", "01996135-afde-7911-97f0-d863511eca56"]);
    audit.success();
    let listed: Vec<&str> = audit
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("No policy ("))
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .collect();
    assert_eq!(listed.len(), 19, "{}", audit.stdout);
    for line in &listed {
        assert!(line.starts_with("  #"), "{line}\n{}", audit.stdout);
    }
    assert!(
        listed
            .iter()
            .any(|l| l.contains("set -e # Latest Go version")),
        "{}",
        audit.stdout
    );
    // A plan is named by its steps, not printed as its JSON.
    assert!(
        listed
            .iter()
            .any(|l| l.contains("update_plan 6 steps, doing: Scan repo for go.mod")),
        "{}",
        audit.stdout
    );
    assert!(!audit.stdout.contains("{\"plan\""), "{}", audit.stdout);
}

/// A log saved with a UTF-8 byte order mark (an editor on Windows, PowerShell's `>`): a Claude
/// Code transcript lost its first line ("expected value at line 1 column 1") and a Codex,
/// Gemini CLI or Copilot CLI log was "not a session log". Each imports as its plain copy does,
/// and a transcript that grows after its mark is carried on from where it was read.
#[test]
fn a_log_that_starts_with_a_byte_order_mark_imports_whole() {
    let corpus = shared().join("corpus");
    let logs = [
        "claude-code/marot__spotter/short.jsonl",
        "codex/Mai0313__VibeCodingTracker/codex-v0.39.0.jsonl",
        "gemini/Mai0313__VibeCodingTracker/gemini-session.jsonl",
        "gemini/Mai0313__VibeCodingTracker/gemini-session-legacy.json",
        "copilot/Mai0313__VibeCodingTracker/copilot-session.jsonl",
    ];
    let import = |env: &TestEnv, file: &Path| -> Value {
        let run = env.run(&["import", "--format", "json", file.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{run:?}");
        run.json()[0].clone()
    };
    for name in logs {
        let source = corpus.join(name);
        let plain = TestEnv::new();
        let want = import(&plain, &source);
        let marked = TestEnv::new();
        let file = marked.path().join(source.file_name().unwrap());
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(std::fs::read(&source).unwrap());
        std::fs::write(&file, bytes).unwrap();
        let got = import(&marked, &file);
        for key in [
            "session_id",
            "status",
            "events",
            "tool_calls",
            "responses",
            "tokens",
        ] {
            assert_eq!(got[key], want[key], "{name}: {key}: {got:#}");
        }
        assert_eq!(got["malformed"], json!([]), "{name}: {got:#}");
    }

    // A transcript read up to a point, then grown: carried on, as a fresh import reads it.
    let source = corpus.join("claude-code/marot__spotter/short.jsonl");
    let raw = std::fs::read_to_string(&source).unwrap();
    let lines: Vec<&str> = raw.lines().collect();
    let env = TestEnv::new();
    let file = env.path().join("short.jsonl");
    std::fs::write(&file, format!("\u{feff}{}\n", lines[..7].join("\n"))).unwrap();
    import(&env, &file);
    std::fs::write(&file, format!("\u{feff}{raw}")).unwrap();
    let grown = import(&env, &file);
    assert_eq!(grown["status"], "grown", "{grown:#}");
    let fresh = TestEnv::new();
    let whole = import(&fresh, &file);
    let session = whole["session_id"].as_str().unwrap();
    let kinds = |env: &TestEnv| -> Vec<Value> {
        env.events(session)
            .iter()
            .map(|e| json!([e["event_type"], e["timestamp"]]))
            .collect()
    };
    assert_eq!(kinds(&env), kinds(&fresh));
}

/// `import --all` on a home with no `~/.claude` said "No transcripts or session logs found
/// under ~/.codex/sessions, ~/.gemini/tmp, …", leaving out the Claude Code folder it looked in
/// too; every place it looked in is named.
#[test]
fn import_all_that_finds_nothing_names_the_claude_folder_too() {
    let env = TestEnv::new();
    let home = env.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = env.command(&["import", "--all"]);
    cmd.env("HOME", &home)
        .env_remove("CODEX_HOME")
        .env_remove("COPILOT_HOME")
        .env_remove("GEMINI_CLI_HOME");
    let run = crate::common::Run::of(cmd.output().unwrap());
    run.success();
    assert!(run.stdout.contains("No transcripts"), "{run:?}");
    let claude = home.join(".claude").join("projects");
    assert!(
        run.stdout.contains(&claude.display().to_string()),
        "{run:?}"
    );
    assert!(run.stdout.contains(".codex"), "{run:?}");
}

/// A Codex log that names the session id of a Claude Code transcript imported before was
/// reported "already imported from s.jsonl; codexsame.jsonl was not read", as if it were a
/// copy of the transcript. It is said to be another agent's log with the same session id.
#[test]
fn another_agents_log_with_an_imported_session_id_is_said_to_be_so() {
    let env = TestEnv::new();
    let claude = env.path().join("s.jsonl");
    std::fs::copy(
        shared().join("corpus/claude-code/marot__spotter/short.jsonl"),
        &claude,
    )
    .unwrap();
    let raw = std::fs::read_to_string(
        shared().join("corpus/codex/Mai0313__VibeCodingTracker/codex-v0.39.0.jsonl"),
    )
    .unwrap();
    let codex = env.path().join("codexsame.jsonl");
    std::fs::write(
        &codex,
        raw.replacen(
            "01996135-afde-7911-97f0-d863511eca56",
            "55604662-cf2a-4331-851a-ec234028f8ca",
            1,
        ),
    )
    .unwrap();
    env.run(&["import", claude.to_str().unwrap()]).success();
    let run = env.run(&["import", codex.to_str().unwrap()]);
    run.success();
    assert!(
        run.stdout
            .contains("codexsame.jsonl is a codex log with the session id of claude-code's log"),
        "{run:?}"
    );
    assert!(!run.stdout.contains("already imported"), "{run:?}");
    let json = env
        .run(&["import", "--format", "json", codex.to_str().unwrap()])
        .json();
    assert_eq!(json[0]["imported_agent"], "claude-code", "{json:#}");
}

/// A long Gemini chat, each message written twice (as a streamed message is updated) and
/// rewound near its end, is imported in time linear in it: each record was looked for from the
/// first message kept (20,000 records took 10 s, 80,000 more than 3 minutes). And a Copilot
/// log whose usage records come in a pile before their messages: each was taken from the front
/// of a list (100,000 took 26 s).
#[test]
fn long_gemini_chats_and_copilot_logs_import_in_linear_time() {
    let env = TestEnv::new();
    let n = 40_000;
    let mut chat = vec![json!({"sessionId": "gem-long", "projectHash": "ab",
        "startTime": "2026-04-23T12:52:52.759Z", "lastUpdated": "2026-04-23T12:52:52.759Z",
        "kind": "main"})];
    for i in 0..n {
        for text in ["x", "y"] {
            chat.push(
                json!({"id": format!("m{i:08}"), "timestamp": "2026-04-23T12:53:02.597Z",
                "type": "user", "content": format!("{text}{i}")}),
            );
        }
    }
    chat.push(json!({"$rewindTo": format!("m{:08}", n - 1000)}));
    let mut copilot = vec![
        json!({"type": "session.start", "data": {"sessionId": "cop-long",
        "copilotVersion": "1.0.102", "selectedModel": "gpt-5"}, "id": "e0",
        "timestamp": "2026-04-23T12:52:52.759Z", "parentId": null}),
    ];
    for i in 0..n {
        copilot.push(
            json!({"type": "session.usage_record", "data": {"usage": {"model": "gpt-5",
            "inputTokens": 10, "outputTokens": 1}}, "id": format!("u{i}"),
            "timestamp": "2026-04-23T12:52:53.000Z", "parentId": "e0"}),
        );
    }
    for i in 0..n {
        copilot.push(json!({"type": "assistant.message", "data": {"content": "a",
            "model": "gpt-5"}, "id": format!("a{i}"), "timestamp": "2026-04-23T12:52:54.000Z",
            "parentId": "e0"}));
    }
    let write = |name: &str, lines: &[Value]| {
        let path = env.path().join(name);
        let text: Vec<String> = lines.iter().map(Value::to_string).collect();
        std::fs::write(&path, text.join("\n") + "\n").unwrap();
        path
    };
    let chat = write("session-long.jsonl", &chat);
    let copilot = write("events.jsonl", &copilot);
    let started = std::time::Instant::now();
    env.run(&["import", chat.to_str().unwrap(), copilot.to_str().unwrap()])
        .success();
    // Over two minutes before (a debug build); about ten seconds now, which leaves a loaded
    // machine room.
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    let events = |session: &str| {
        std::fs::read_to_string(env.store().join(session).join("events.ndjson")).unwrap()
    };
    let chat = events("gem-long");
    let prompts: Vec<&str> = chat
        .lines()
        .filter(|l| l.contains("\"user_prompt\""))
        .collect();
    assert_eq!(
        prompts.len(),
        n - 1000,
        "every message once, up to the rewind"
    );
    assert!(prompts[0].contains("\"y0\"") && prompts.last().unwrap().contains("\"y38999\""));
    let cost = env.run(&["cost", "cop-long", "--format", "json"]);
    let cost: Value = serde_json::from_str(&cost.success().stdout).unwrap();
    assert_eq!(cost["tokens"]["input"], json!(10 * n), "{cost}");
}

/// A Codex command that failed is a failure whatever its output says first: an output that
/// began "User rejected tool use" (a command's own words) was counted as the user's refusal,
/// and `eval`'s no_errors passed a session whose tests failed.
#[test]
fn a_codex_commands_output_is_never_taken_for_a_refusal() {
    let env = TestEnv::new();
    let session = "019c8a4d-8f45-7010-8b5d-7fad920aa7f2";
    let output = serde_json::json!({"output": "User rejected tool use\nFAILED 12 tests",
                                    "metadata": {"exit_code": 1, "duration_seconds": 1.0}});
    let [meta, prompt] = codex_start(session, "run the tests");
    let lines = [
        meta,
        prompt,
        line(
            2,
            "response_item",
            serde_json::json!({"type": "function_call", "name": "shell", "call_id": "c1",
                               "arguments": r#"{"command":["bash","-lc","pytest"]}"#}),
        ),
        line(
            3,
            "response_item",
            serde_json::json!({"type": "function_call_output", "call_id": "c1",
                               "output": output.to_string()}),
        ),
    ];
    let rollout = env
        .path()
        .join(format!("rollout-2025-09-19T09-00-00-{session}.jsonl"));
    std::fs::write(&rollout, lines.join("\n") + "\n").unwrap();
    let report = env
        .run(&["import", "--format", "json", rollout.to_str().unwrap()])
        .success()
        .json();
    assert_eq!(report[0]["tool_errors"], 1, "{report}");
    assert_eq!(report[0]["tool_rejections"], 0, "{report}");
    let eval = env.run(&["eval", "ci", "--session", session]);
    assert_eq!(eval.code, 1, "{eval:?}");
    assert!(
        eval.stdout.contains("1 failed tool call"),
        "{}",
        eval.stdout
    );
    let replay = env.run(&["replay", session]).success().stdout.clone();
    assert!(
        replay.contains("Exit code: 1") && replay.contains("FAILED 12 tests"),
        "{replay}"
    );
}

/// Writes a Codex rollout of `session` holding `lines` where Codex would name it, and imports
/// it; the import's JSON report.
fn import_rollout(env: &TestEnv, session: &str, lines: &[String]) -> Value {
    let rollout = env
        .path()
        .join(format!("rollout-2025-09-19T09-00-00-{session}.jsonl"));
    std::fs::write(&rollout, lines.join("\n") + "\n").unwrap();
    env.run(&["import", "--format", "json", rollout.to_str().unwrap()])
        .success()
        .json()
}

/// A call Codex never ran read as a call that ran and succeeded: a command the user said no
/// to (`exec command rejected by user`) showed in `explain` as "Ran: rm -rf /" with no ✗ and
/// `Rejected: 0`, and a patch Codex would not apply (`patch rejected: empty patch`) was a
/// success. The user's no is now the user's refusal, Codex's refusal of the patch a failure.
#[test]
fn codex_refusals_are_refusals_and_its_rejected_patches_failures() {
    let env = TestEnv::new();
    let session = "019c8a4d-8f45-7010-8b5d-7fad920aa7f3";
    let [meta, prompt] = codex_start(session, "clean up");
    let item = |minute, payload| line(minute, "response_item", payload);
    let lines = [
        meta,
        prompt,
        item(
            2,
            json!({"type": "function_call", "name": "shell", "call_id": "c1",
                   "arguments": r#"{"command":["bash","-lc","rm -rf /"]}"#}),
        ),
        item(
            3,
            json!({"type": "function_call_output", "call_id": "c1",
                   "output": "exec command rejected by user"}),
        ),
        item(
            4,
            json!({"type": "custom_tool_call", "name": "apply_patch", "call_id": "c2",
                   "input": "*** Begin Patch\n*** End Patch\n"}),
        ),
        item(
            5,
            json!({"type": "custom_tool_call_output", "call_id": "c2",
                   "output": "patch rejected: empty patch"}),
        ),
    ];
    let report = import_rollout(&env, session, &lines);
    assert_eq!(report[0]["tool_errors"], 1, "{report}");
    assert_eq!(report[0]["tool_rejections"], 1, "{report}");
    let explain = env.run(&["explain", session]).success().stdout.clone();
    assert!(explain.contains("Errors: 1   Rejected: 1"), "{explain}");
    let rejected = explain
        .split("Rejected by the user (1):")
        .nth(1)
        .unwrap_or_default();
    assert!(rejected.contains("rm -rf /"), "{explain}");
    let failures = explain
        .split("Failures (1):")
        .nth(1)
        .and_then(|rest| rest.split("Rejected by").next())
        .unwrap_or_default();
    assert!(failures.contains("apply_patch"), "{explain}");
    assert!(!failures.contains("rm -rf"), "{explain}");

    // The corpus' rollout holds the rejected patch (line 81): one failed call of 19.
    let env = TestEnv::new();
    let corpus = shared().join("corpus/codex/Mai0313__VibeCodingTracker/codex-v0.39.0.jsonl");
    let report = env
        .run(&["import", "--format", "json", corpus.to_str().unwrap()])
        .success()
        .json();
    assert_eq!(
        (&report[0]["tool_calls"], &report[0]["tool_errors"]),
        (&json!(19), &json!(1)),
        "{report}"
    );
}

/// The files a patch Codex applied for a code-mode `exec` cell (`await
/// tools.apply_patch(…)`, whose `patch_apply_end` names the files and an id no call has) were
/// in no account of the session: `explain` and `stats` wrote none of them, and `audit` passed
/// the cell under a deny of writing them. A successful patch's files are changed by the call
/// it was applied for, once (an update's `move_path` moves its file there, which is no file
/// written); a failed patch changed nothing; the files of the model's own `apply_patch` are
/// not told twice by its `patch_apply_end`.
#[test]
fn files_a_codex_exec_cell_patched_are_written_by_it() {
    let env = TestEnv::new();
    let session = "019c8a4d-8f45-7010-8b5d-7fad920aa7f5";
    let [meta, prompt] = codex_start(session, "release it");
    let item = |minute, payload| line(minute, "response_item", payload);
    let event = |minute, payload| line(minute, "event_msg", payload);
    let add = json!({"type": "add", "unified_diff": "+x\n"});
    let lines = [
        meta,
        prompt,
        item(
            2,
            json!({"type": "custom_tool_call", "name": "exec", "call_id": "cell1",
                   "input": "await tools.apply_patch(patchText);"}),
        ),
        event(
            2,
            json!({"type": "patch_apply_end", "call_id": "patch1", "success": true,
                   "changes": {"/p/docs/NOTES.md": add,
                               "core/old.go": {"type": "update", "unified_diff": "",
                                               "move_path": "/p/core/version.go"}}}),
        ),
        item(
            3,
            json!({"type": "custom_tool_call_output", "call_id": "cell1",
                   "output": "Script completed"}),
        ),
        event(
            3,
            json!({"type": "patch_apply_end", "call_id": "patch2", "success": false,
                   "changes": {"/p/should_not_count.txt": add}}),
        ),
        item(
            4,
            json!({"type": "custom_tool_call", "name": "apply_patch", "call_id": "c3",
                   "input": "*** Begin Patch\n*** Add File: src/a.rs\n+x\n*** End Patch\n"}),
        ),
        event(
            4,
            json!({"type": "patch_apply_end", "call_id": "c3", "success": true,
                   "changes": {"/p/src/a.rs": add}}),
        ),
        item(
            5,
            json!({"type": "custom_tool_call_output", "call_id": "c3", "output": "Done"}),
        ),
    ];
    import_rollout(&env, session, &lines);
    let explain = env
        .run(&["explain", session, "--format", "json"])
        .success()
        .json();
    let files: Vec<(&str, &Value, &Value)> = explain["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), &f["writes"], &f["moves"]))
        .collect();
    let (once, none) = (&json!(1), &json!(0));
    assert_eq!(
        files,
        [
            ("docs/NOTES.md", once, none),
            ("core/old.go", none, once),
            ("src/a.rs", once, none)
        ],
        "{explain}"
    );
    assert_eq!(
        explain["phases"][0]["moved"],
        json!([{"from": "core/old.go", "to": "core/version.go"}]),
        "{explain}"
    );
    let stats = env
        .run(&["stats", session, "--format", "json"])
        .success()
        .json();
    assert_eq!(
        (&stats["writes"], &stats["moves"]),
        (&json!(2), &json!(1)),
        "{stats}"
    );

    let policy = env.path().join("policy.json");
    std::fs::write(&policy, r#"{"files":{"write":{"deny":["/p/core/**"]}}}"#).unwrap();
    let audit = env.run(&[
        "audit",
        session,
        "--policy",
        policy.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let report = audit.json();
    let violations: Vec<(&Value, &Value)> = report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (&f["tool"], &f["rule"]))
        .collect();
    assert_eq!(
        violations,
        [(&json!("exec"), &json!("files.write.deny"))],
        "{report}"
    );
    // Where a file moved is written too: a deny of it alone finds the cell.
    std::fs::write(
        &policy,
        r#"{"files":{"write":{"deny":["/p/core/version.go"]}}}"#,
    )
    .unwrap();
    let audit = env.run(&[
        "audit",
        session,
        "--policy",
        policy.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let report = audit.json();
    assert_eq!(report["violations"][0]["tool"], "exec", "{report}");
}

/// A Gemini CLI call the user cancelled read as a call that failed: one denied at its prompt
/// (`[Operation Cancelled] Reason: User denied execution.`) showed in `explain` as "Ran: rm
/// -rf / ✗" under Failures with `Rejected: 0`, and one stopped with Esc while it ran was read
/// by its output so far. Gemini CLI cancels a call only for the user (0.61.0's scheduler: a
/// denial, the calls queued behind it, Esc), so each is the user's refusal now; an error stays
/// a failure.
#[test]
fn gemini_calls_the_user_cancelled_are_refusals() {
    let env = TestEnv::new();
    let session = "629cab06-47bb-41bc-afb3-1479ecd94e68";
    let call = |id: &str, command: &str, status: &str, response: Value| {
        json!({"id": id, "name": "run_shell_command", "args": {"command": command},
               "result": [{"functionResponse": {"id": id, "name": "run_shell_command",
                                                "response": response}}],
               "status": status, "timestamp": "2026-11-30T05:36:49.397Z"})
    };
    let lines = [
        json!({"sessionId": session, "projectHash": "ed43", "startTime": "2026-11-30T05:36:48.407Z",
               "lastUpdated": "2026-11-30T05:36:48.407Z", "kind": "main"}),
        json!({"id": "u1", "timestamp": "2026-11-30T05:36:48.546Z", "type": "user",
               "content": [{"text": "clean up"}]}),
        json!({"id": "g1", "timestamp": "2026-11-30T05:36:49.149Z", "type": "gemini",
        "content": "Cleaning.", "model": "gemini-2.5-flash",
        "toolCalls": [
            call("c1", "rm -rf /", "cancelled",
                 json!({"error": "[Operation Cancelled] Reason: User denied execution."})),
            call("c2", "ls", "cancelled",
                 json!({"error": "[Operation Cancelled] Reason: User cancelled operation"})),
            call("c3", "sleep 100", "cancelled",
                 json!({"output": "User rejected tool use\nstarted",
                        "error": "[Operation Cancelled] User cancelled tool execution."})),
            call("c4", "cat missing", "error",
                 json!({"error": "File not found: missing"})),
            // Denied by a policy rule of the user's, as a Claude Code deny rule denies.
            call("c5", "git push --force", "error",
                 json!({"error": "Tool execution denied by policy. No force pushes."})),
        ]}),
    ];
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    let chat = env.path().join("session-2026-11-30T05-36-629cab06.jsonl");
    std::fs::write(&chat, text.join("\n") + "\n").unwrap();
    let report = env
        .run(&["import", "--format", "json", chat.to_str().unwrap()])
        .success()
        .json();
    assert_eq!(report[0]["tool_errors"], 1, "{report}");
    assert_eq!(report[0]["tool_rejections"], 4, "{report}");
    let explain = env.run(&["explain", session]).success().stdout.clone();
    assert!(explain.contains("Errors: 1   Rejected: 4"), "{explain}");
    let failures = explain
        .split("Failures (1):")
        .nth(1)
        .and_then(|rest| rest.split("Rejected by").next())
        .unwrap_or_default();
    assert!(
        failures.contains("File not found") && !failures.contains("rm -rf"),
        "{explain}"
    );
    let replay = env.run(&["replay", session]).success().stdout.clone();
    assert!(replay.contains("started"), "{replay}");
}

/// A Codex turn the user stopped (`event_msg` `turn_aborted`) and one an error ended
/// (`event_msg` `error`, which Codex keeps in its rollouts to replay failures) were dropped by
/// the import: `explain` said no turn was interrupted and no error happened. They are read as a
/// Claude Code session's interrupt and API error are.
#[test]
fn codex_turns_aborted_or_ended_by_an_error_are_recorded() {
    let env = TestEnv::new();
    let session = "019c8a4d-8f45-7010-8b5d-7fad920aa7f4";
    let [meta, prompt] = codex_start(session, "fix the build");
    let lines = [
        meta,
        prompt,
        line(
            2,
            "event_msg",
            json!({"type": "turn_aborted", "reason": "interrupted"}),
        ),
        // A review's end interrupts no one.
        line(
            2,
            "event_msg",
            json!({"type": "turn_aborted", "reason": "review_ended"}),
        ),
        line(
            3,
            "event_msg",
            json!({"type": "error", "message": "stream disconnected before completion: rate limit exceeded"}),
        ),
    ];
    import_rollout(&env, session, &lines);
    let explain = env.run(&["explain", session]).success().stdout.clone();
    assert!(explain.contains("Interrupted turns: 1"), "{explain}");
    assert!(explain.contains("0 of tools, 1 of the turn"), "{explain}");
    assert!(explain.contains("rate limit exceeded"), "{explain}");
}

/// A Copilot usage record that names no model, before any model was known (no
/// `selectedModel`, no `model_change`), was counted twice: filed under no model, its tokens
/// were not taken out of the shutdown's totals of its one model, which were counted again
/// (1,000 in said as 2,000). The shutdown's totals are the session's, counted once.
#[test]
fn a_copilot_usage_record_of_no_model_is_not_counted_again_by_the_shutdown() {
    let env = TestEnv::new();
    let session = "16a807fe-9154-4ae3-8cdc-bbf634e14bb5";
    let at = |second: u32| format!("2026-04-23T17:08:{second:02}.000Z");
    let event = |second, kind: &str, data: Value| {
        json!({"type": kind, "data": data, "id": format!("e{second}"), "timestamp": at(second),
               "parentId": null})
        .to_string()
    };
    let usage = json!({"inputTokens": 1000, "outputTokens": 100, "cacheReadTokens": 0,
                       "cacheWriteTokens": 0});
    let lines = [
        event(
            1,
            "session.start",
            json!({"sessionId": session, "copilotVersion": "1.0.102"}),
        ),
        event(2, "user.message", json!({"content": "hi"})),
        event(3, "session.usage_record", json!({"usage": usage})),
        event(4, "assistant.message", json!({"content": "hello"})),
        event(
            5,
            "session.shutdown",
            json!({"modelMetrics": {"gpt-5": {"requests": {"count": 1}, "usage": usage}}}),
        ),
    ];
    let log = env.path().join("events.jsonl");
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    env.run(&["import", log.to_str().unwrap()]).success();
    let costed = env
        .run(&["cost", session, "--format", "json"])
        .success()
        .json();
    let t = &costed["tokens"];
    assert_eq!((n(t, "input"), n(t, "output")), (1000, 100), "{costed}");
}

/// A Copilot CLI call's error says how it ended by its `code` (the SDK's `ToolResultType`s:
/// `denied` by the user at the prompt, `rejected` by a rule or hook, `failure`, `timeout`), and
/// the import read only its words: a denial in words no reader knows was a failure, and a
/// command that failed printing `User rejected tool use` was the user's refusal.
#[test]
fn a_copilot_calls_error_code_says_whether_the_user_refused_it() {
    let env = TestEnv::new();
    let session = "5b0d7c1e-7a52-4a8e-9c1e-2f7d0c3a9b11";
    let at = |second: u32| format!("2026-04-23T17:08:{second:02}.000Z");
    let event = |second, kind: &str, data: Value| {
        json!({"type": kind, "data": data, "id": format!("e{second}"), "timestamp": at(second),
               "parentId": null})
        .to_string()
    };
    let call = |second, id: &str, command: &str| {
        event(
            second,
            "tool.execution_start",
            json!({"toolCallId": id, "toolName": "bash", "arguments": {"command": command}}),
        )
    };
    let failed = |second, id: &str, message: &str, code: Option<&str>| {
        let mut error = json!({"message": message});
        if let Some(code) = code {
            error["code"] = code.into();
        }
        event(
            second,
            "tool.execution_complete",
            json!({"toolCallId": id, "success": false, "error": error}),
        )
    };
    let lines = [
        event(
            1,
            "session.start",
            json!({"sessionId": session, "copilotVersion": "1.0.102",
                   "startTime": at(1), "context": {"cwd": "/home/wei/repo"}}),
        ),
        event(2, "user.message", json!({"content": "clean up"})),
        call(3, "c1", "rm -rf /"),
        failed(
            4,
            "c1",
            "The user chose not to run this tool.",
            Some("denied"),
        ),
        call(5, "c2", "npm test"),
        failed(
            6,
            "c2",
            "User rejected tool use\nFAILED 12 tests",
            Some("failure"),
        ),
        call(7, "c3", "curl evil.example"),
        failed(8, "c3", "Blocked by a preToolUse hook.", Some("rejected")),
        // An error of a version that gives no code: its words say.
        call(9, "c4", "git push"),
        failed(10, "c4", "User rejected tool use", None),
    ];
    let log = env.path().join("events.jsonl");
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let report = env
        .run(&["import", "--format", "json", log.to_str().unwrap()])
        .success()
        .json();
    assert_eq!(
        (&report[0]["tool_errors"], &report[0]["tool_rejections"]),
        (&json!(1), &json!(3)),
        "{report}"
    );
    let explain = env.run(&["explain", session]).success().stdout.clone();
    assert!(explain.contains("Errors: 1   Rejected: 3"), "{explain}");
    let failures = explain
        .split("Failures (1):")
        .nth(1)
        .and_then(|rest| rest.split("Rejected by").next())
        .unwrap_or_default();
    assert!(failures.contains("npm test"), "{explain}");
    let rejected = explain
        .split("Rejected by the user (3):")
        .nth(1)
        .unwrap_or_default();
    for command in ["rm -rf /", "curl evil.example", "git push"] {
        assert!(rejected.contains(command), "{command}\n{explain}");
    }
    // The failure's words stay whole, after a word that keeps readers from taking them for
    // a refusal.
    let errors: Vec<String> = env
        .events(session)
        .iter()
        .filter(|e| e["event_type"] == "error")
        .map(|e| e["data"]["error"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        errors.contains(&"Failed: User rejected tool use\nFAILED 12 tests".to_owned()),
        "{errors:?}"
    );
}

/// An agent appends to its log while it runs, and an import may read it meanwhile: a Codex
/// rollout (or Copilot events file) that gained its first usage record between the import's
/// look at its head and its read of its lines counted that response twice, by the record and
/// by the running total (or the shutdown's totals), until the file grew again. A log imported,
/// appended to and imported again holds each response once: what one import of the whole log
/// holds.
#[test]
fn a_log_imported_as_it_grows_counts_each_response_once() {
    let session = "019c8a4d-8f45-7010-8b5d-7fad920aa7f5";
    let [meta, prompt] = codex_start(session, "fix the build");
    let count = |minute, input: u64| {
        line(
            minute,
            "event_msg",
            json!({"type": "token_count", "info": {"total_token_usage":
                {"input_tokens": input, "cached_input_tokens": 20, "output_tokens": 10}}}),
        )
    };
    let record = |minute| {
        line(
            minute,
            "token_usage_record",
            json!({"usage": {"input_tokens": 100, "cached_input_tokens": 20, "output_tokens": 10}}),
        )
    };
    let turn = line(1, "turn_context", json!({"model": "gpt-5", "cwd": "/p"}));
    let rollout = (
        format!("rollout-2025-09-19T09-00-00-{session}.jsonl"),
        vec![meta, turn, prompt, count(2, 100)],
        vec![count(3, 200), record(3), count(4, 300), record(4)],
    );
    let copilot_session = "96ef38f0-9d09-45c3-8124-6448c36090ee";
    let event = |kind: &str, data: Value| {
        json!({"type": kind, "data": data, "id": kind, "parentId": null,
               "timestamp": "2026-02-23T12:41:04.000Z"})
        .to_string()
    };
    let usage = json!({"model": "gpt-5", "inputTokens": 100, "outputTokens": 10});
    let events = (
        "events.jsonl".to_owned(),
        vec![
            event("session.start", json!({"sessionId": copilot_session})),
            event(
                "session.shutdown",
                json!({"modelMetrics": {"gpt-5": {"usage": usage}}}),
            ),
        ],
        vec![
            event("session.usage_record", json!({"usage": usage})),
            event(
                "assistant.message",
                json!({"model": "gpt-5", "content": "done"}),
            ),
        ],
    );
    for ((name, first, appended), id) in [(rollout, session), (events, copilot_session)] {
        let whole = [first.clone(), appended].concat();
        let grown = TestEnv::new();
        let log = grown.path().join(&name);
        std::fs::write(&log, first.join("\n") + "\n").unwrap();
        grown.run(&["import", log.to_str().unwrap()]).success();
        std::fs::write(&log, whole.join("\n") + "\n").unwrap();
        let again = grown
            .run(&["import", "--format", "json", log.to_str().unwrap()])
            .success()
            .json();
        let once = TestEnv::new();
        let whole_log = once.path().join(&name);
        std::fs::write(&whole_log, whole.join("\n") + "\n").unwrap();
        let single = once
            .run(&["import", "--format", "json", whole_log.to_str().unwrap()])
            .success()
            .json();
        assert_eq!(again[0]["status"], "grown", "{again:#}");
        for key in ["responses", "tokens", "unbelieved_usage"] {
            assert_eq!(again[0][key], single[0][key], "{key} of {name}: {again:#}");
        }
        let usages = |env: &TestEnv| -> Vec<Value> {
            env.events(id)
                .into_iter()
                .filter(|e| e["event_type"] == "llm_response")
                .map(|e| e["data"]["usage"].clone())
                .collect()
        };
        assert_eq!(usages(&grown), usages(&once), "{name}");
        let tokens =
            |env: &TestEnv| env.run(&["stats", id, "--format", "json"]).json()["tokens"].clone();
        assert!(tokens(&once).is_u64(), "{name}");
        assert_eq!(tokens(&grown), tokens(&once), "{name}");
    }
}

/// `import --discover --agent codex` with no `$HOME` (and no `CODEX_HOME`) listed nothing and
/// exited 0, where Claude Code's `import --discover` says in one line that `$HOME` is not set
/// and exits 2: a search that cannot tell where an agent keeps its logs is a usage error, for
/// every agent, with `--discover` and with `--all`; the agent's own variable is enough.
#[test]
fn discover_with_no_home_is_a_usage_error_for_every_agent() {
    let env = TestEnv::new();
    let variables = [
        "HOME",
        "CLAUDE_CONFIG_DIR",
        "CODEX_HOME",
        "COPILOT_HOME",
        "GEMINI_CLI_HOME",
    ];
    for agent in ["claude-code", "codex", "gemini", "copilot"] {
        for how in ["--discover", "--all"] {
            let mut cmd = env.command(&["import", how, "--agent", agent]);
            for var in variables {
                cmd.env_remove(var);
            }
            let run = crate::common::Run::of(cmd.output().unwrap());
            assert_eq!(run.code, 2, "{agent} {how}: {run:?}");
            assert!(
                run.stderr.starts_with("error: ")
                    && run.stderr.contains("$HOME")
                    && run.stderr.trim_end().lines().count() == 1,
                "{agent} {how}: {}",
                run.stderr
            );
            assert!(run.stdout.is_empty(), "{agent} {how}: {}", run.stdout);
        }
    }
    // The agent's own folder, named by its variable, needs no home.
    for (agent, var) in [
        ("codex", "CODEX_HOME"),
        ("gemini", "GEMINI_CLI_HOME"),
        ("copilot", "COPILOT_HOME"),
    ] {
        let mut cmd = env.command(&["import", "--discover", "--agent", agent]);
        for var in variables {
            cmd.env_remove(var);
        }
        cmd.env(var, env.path());
        let run = crate::common::Run::of(cmd.output().unwrap());
        assert_eq!(run.code, 0, "{agent}: {run:?}");
    }
    // With no agent named, the agents that cannot be found are not this machine's: Claude Code's
    // transcripts, found through its variable, are still listed.
    let projects = env.path().join("claude/projects/-work-app");
    std::fs::create_dir_all(&projects).unwrap();
    std::fs::copy(
        shared().join("corpus/claude-code/marot__spotter/short.jsonl"),
        projects.join("d6e0bada-0000-4000-8000-000000000001.jsonl"),
    )
    .unwrap();
    let mut cmd = env.command(&["import", "--discover"]);
    for var in variables {
        cmd.env_remove(var);
    }
    cmd.env("CLAUDE_CONFIG_DIR", env.path().join("claude"));
    let run = crate::common::Run::of(cmd.output().unwrap());
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("d6e0bada"), "{}", run.stdout);
}

/// A log a newer agent resumed (tests/fixtures/resumed: Codex 0.171.0 resuming a rollout an
/// older Codex wrote, Copilot 1.0.102 resuming a 1.0.34 session) holds a per-response record for
/// each response the newer version made and only the older version's totals for the rest. Once
/// the file held one record, every `token_count` and shutdown total in it was passed over: the
/// older part's tokens were lost (Codex: 5 of its 6 responses and their model, 298,473 tokens in
/// said as 60; Copilot: the claude-sonnet-4.6 session, 186,809 in said as 62), by an import of
/// the grown file and a fresh one alike. Each response counts once, from what the log holds for
/// it: the agent's own running total (Codex's last `token_count`, Copilot's last shutdown's
/// `modelMetrics`), in the import's report, the stored responses, `cost`, `list` and `sql`.
#[test]
fn a_log_a_newer_agent_resumed_keeps_the_older_parts_tokens() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/resumed");
    let codex_log = "codex/madshn__localpush/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl";
    let copilot_log = "copilot/Mai0313__VibeCodingTracker/copilot-session.jsonl";
    for (older, newer, name) in [
        (
            codex_log,
            "codex-0.171.0-resume.jsonl",
            "rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl",
        ),
        (copilot_log, "copilot-1.0.102-resume.jsonl", "events.jsonl"),
    ] {
        let older = std::fs::read_to_string(shared().join("corpus").join(older)).unwrap();
        let whole = older.clone() + &std::fs::read_to_string(fixtures.join(newer)).unwrap();
        let grown = TestEnv::new();
        let log = grown.path().join(name);
        std::fs::write(&log, &older).unwrap();
        grown.run(&["import", log.to_str().unwrap()]).success();
        std::fs::write(&log, &whole).unwrap();
        let fresh = TestEnv::new();
        let fresh_log = fresh.path().join(name);
        std::fs::write(&fresh_log, &whole).unwrap();
        let (e, own) = if name == "events.jsonl" {
            (copilot(&log), copilots_own_total(&log))
        } else {
            (codex(&log), codexs_own_total(&log))
        };
        // The rule this test reads the log by agrees with the agent's own running total.
        assert_eq!(e.tokens(), own, "{newer}");
        let models: BTreeSet<&str> = e.responses.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(models.len(), 2, "{newer}: {models:?}");
        for (env, log, status) in [(&grown, &log, "grown"), (&fresh, &fresh_log, "imported")] {
            let what = format!("{newer}, {status}");
            let report = env
                .run(&["import", "--format", "json", log.to_str().unwrap()])
                .success()
                .json();
            let report = &report[0];
            assert_eq!(report["status"], status, "{what}: {report:#}");
            let t = &report["tokens"];
            let said = (
                n(t, "input"),
                n(t, "cache_read"),
                n(t, "cache_creation"),
                n(t, "output"),
            );
            assert_eq!(said, own, "{what}: {report:#}");
            assert_eq!(report["responses"], e.responses.len(), "{what}");
            let stored: Vec<(String, u64, u64, u64, u64)> = env
                .events(&e.session)
                .iter()
                .filter(|ev| ev["event_type"] == "llm_response")
                .map(|ev| {
                    let u = &ev["data"]["usage"];
                    (
                        s(&ev["data"], "model").to_owned(),
                        n(u, "input_tokens"),
                        n(u, "cache_read_input_tokens"),
                        n(u, "cache_creation_input_tokens"),
                        n(u, "output_tokens"),
                    )
                })
                .collect();
            assert_eq!(stored, e.responses, "{what}");
            let (usd, _) = cost(&e);
            let costed = env.run(&["cost", &e.session, "--format", "json"]).json();
            assert!(
                close(costed["cost_usd"].as_f64().unwrap(), usd),
                "{what}: {costed}"
            );
            let listed = env.run(&["list", "--format", "json"]).json();
            assert!(
                close(listed[0]["cost_usd"].as_f64().unwrap(), usd),
                "{what}: {listed}"
            );
            let row = &env
                .run(&[
                    "sql",
                    "--format",
                    "json",
                    "SELECT input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, \
                     cost_usd FROM sessions",
                ])
                .json()[0];
            let queried = (
                n(row, "input_tokens"),
                n(row, "cache_read_tokens"),
                n(row, "cache_write_tokens"),
                n(row, "output_tokens"),
            );
            assert_eq!(queried, own, "{what}: {row}");
            assert!(
                close(row["cost_usd"].as_f64().unwrap(), usd),
                "{what}: {row}"
            );
        }
    }
}

/// Codex's own running total of a rollout, its last `token_count`'s: (fresh input, cache read,
/// cache write, output).
fn codexs_own_total(path: &Path) -> (u64, u64, u64, u64) {
    let last = lines(path)
        .into_iter()
        .rev()
        .find(|l| {
            l["payload"]["type"] == "token_count"
                && l["payload"]["info"]["total_token_usage"].is_object()
        })
        .map(|l| l["payload"]["info"]["total_token_usage"].clone())
        .unwrap();
    let (cached, write) = (
        n(&last, "cached_input_tokens"),
        n(&last, "cache_write_input_tokens"),
    );
    (
        n(&last, "input_tokens") - cached - write,
        cached,
        write,
        n(&last, "output_tokens"),
    )
}

/// Copilot's own totals of a session, its last shutdown's `modelMetrics` over every model:
/// (fresh input, cache read, cache write, output).
fn copilots_own_total(path: &Path) -> (u64, u64, u64, u64) {
    let last = lines(path)
        .into_iter()
        .rev()
        .find(|l| l["type"] == "session.shutdown")
        .unwrap();
    last["data"]["modelMetrics"]
        .as_object()
        .unwrap()
        .values()
        .map(|m| {
            let u = &m["usage"];
            let (read, write) = (n(u, "cacheReadTokens"), n(u, "cacheWriteTokens"));
            (
                n(u, "inputTokens") - read - write,
                read,
                write,
                n(u, "outputTokens"),
            )
        })
        .fold((0, 0, 0, 0), plus)
}

/// One byte that is not UTF-8 in an older Gemini CLI chat (one JSON document) rejected it as
/// "not a session log … (EOF while parsing an object at line 1 column 1)": the document was
/// not told as one, and was read as a transcript whose first line, a lone brace, was no entry.
/// The error says which byte is not UTF-8, and on which line.
#[test]
fn a_gemini_document_with_a_byte_that_is_not_utf8_says_which_byte() {
    let source =
        shared().join("corpus/gemini/Mai0313__VibeCodingTracker/gemini-session-legacy.json");
    let mut bytes = std::fs::read(&source).unwrap();
    let find = |bytes: &[u8], what: &[u8], from: usize| {
        from + bytes[from..]
            .windows(what.len())
            .position(|w| w == what)
            .unwrap()
    };
    let answer = find(&bytes, br#""type": "gemini""#, 0);
    let offset = find(&bytes, br#""content": ""#, answer) + br#""content": ""#.len();
    bytes.insert(offset, 0xff);
    let line = bytes[..offset].split(|&b| b == b'\n').count();
    let env = TestEnv::new();
    let file = env.path().join("session-bad.json");
    std::fs::write(&file, &bytes).unwrap();
    let run = env.run(&["import", file.to_str().unwrap()]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "session-bad.json:{line}: byte {offset} is not UTF-8"
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("not a session log"), "{}", run.stderr);
}

/// A shell command that exited 1 (tests/fixtures/failed-shell: `mv nothere.txt moved.txt` as
/// Gemini CLI 0.61.0 and Copilot CLI 1.0.102 logged it) is a success to both, the code only in
/// its words (`Exit Code: 1`) or beside them (`shellExecution.exitCode`), and was imported as
/// one: "0 failed", and `explain` said "Moved: nothere.txt → moved.txt" and `Errors: 0`. The
/// call failed, and the file it names was neither moved nor written.
#[test]
fn a_shell_command_that_exited_non_zero_failed_and_moved_nothing() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/failed-shell");
    for (log, session) in [
        (
            "gemini-0.61-failed-mv.jsonl",
            "d249914b-f224-4ff9-b62d-1b9ab5c02044",
        ),
        (
            "copilot-1.0.102-failed-mv.jsonl",
            "bb725435-1cae-4eb6-9adf-2cf0414dcd4b",
        ),
    ] {
        let env = TestEnv::new();
        let path = fixtures.join(log);
        let report = env
            .run(&["import", "--format", "json", path.to_str().unwrap()])
            .success()
            .json();
        assert_eq!(report[0]["tool_errors"], 1, "{log}: {report}");
        let explain = env.run(&["explain", session]).success().stdout.clone();
        assert!(explain.contains("Errors: 1"), "{log}: {explain}");
        assert!(!explain.contains("Moved:"), "{log}: {explain}");
        let events = env.events(session);
        let effects: Vec<&Value> = events
            .iter()
            .filter(|e| {
                e["event_type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("file_"))
            })
            .collect();
        assert!(effects.is_empty(), "{log}: {effects:?}");
    }
}

/// A Codex CLI rollout of the older shape (codex-rs before the `{timestamp, type, payload}`
/// envelope, spring to summer 2025: tests/fixtures/codex-bare, its meta line bare, its items
/// bare, `{"record_type":"state"}` between) was no session log: `import --all` said so and
/// exited 3 on every run, and `--discover` listed it with no prompt and its date for a project.
/// It is read by the rollout importer as the newer shape is: the prompt, each shell call with
/// its exit code, the file its patch added, the answer, in the store of the folder its
/// environment context names; it records no usage, and its cost is the estimate from payload
/// sizes, marked as one.
#[test]
fn a_codex_rollout_of_the_older_shape_is_imported() {
    let env = TestEnv::new();
    let session = "5973b6c0-94b8-487b-a530-2aeb6098ae0e";
    let name = format!("rollout-2025-08-07T14-02-11-{session}.jsonl");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/codex-bare")
        .join(&name);
    // The folder it ran in, as the fixture names it, moved into this test's.
    let project = env.path().join("notes");
    std::fs::create_dir_all(&project).unwrap();
    let codex_home = env.path().join("codex-home");
    let rollout = codex_home.join("sessions/2025/08/07").join(&name);
    std::fs::create_dir_all(rollout.parent().unwrap()).unwrap();
    let text = std::fs::read_to_string(&fixture)
        .unwrap()
        .replace("/home/dev/notes", project.to_str().unwrap());
    std::fs::write(&rollout, text).unwrap();
    let run = |args: &[&str], dir: &Path| {
        let mut cmd = env.command(args);
        cmd.current_dir(dir)
            .env("HOME", env.path())
            .env("CODEX_HOME", &codex_home);
        crate::common::Run::of(cmd.output().unwrap())
    };
    let prompt = "how many lines are in todo.txt? then mark it done";
    let found = run(
        &[
            "import",
            "--discover",
            "--agent",
            "codex",
            "--format",
            "json",
        ],
        env.path(),
    );
    found.success();
    let found = &found.json()[0];
    assert_eq!(
        (&found["session_id"], &found["project"], &found["status"]),
        (
            &Value::from(session),
            &Value::from(project.to_str().unwrap()),
            &Value::from("new")
        ),
        "{found}"
    );
    assert_eq!(found["first_prompt"], prompt, "{found}");
    let all = run(&["import", "--all", "--agent", "codex"], env.path());
    all.success();
    assert!(all.stderr.contains("no token usage"), "{all:?}");
    let again = run(&["import", "--all", "--agent", "codex"], env.path());
    again.success();
    assert!(again.stdout.contains("imported already"), "{again:?}");
    let store = project.join(".agent-traces");
    assert!(store.join(session).join("meta.json").is_file(), "{all:?}");
    let events: Vec<Value> = std::fs::read_to_string(store.join(session).join("events.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of =
        |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["event_type"] == kind).collect() };
    assert_eq!(of("session_start")[0]["data"]["agent"], "codex");
    assert_eq!(of("session_start")[0]["data"]["git_branch"], "main");
    assert_eq!(of("user_prompt").len(), 1, "{events:#?}");
    assert_eq!(of("tool_call").len(), 3, "{events:#?}");
    // `cat done.txt` exited 1: a failed call; the others succeeded.
    let errors = of("error");
    assert_eq!(errors.len(), 1, "{events:#?}");
    assert!(
        errors[0]["data"]["error"]
            .as_str()
            .unwrap()
            .starts_with("Exit code: 1"),
        "{errors:?}"
    );
    assert_eq!(of("tool_result").len(), 2, "{events:#?}");
    let done = project.join("done.txt");
    assert!(
        of("file_write")
            .iter()
            .any(|e| e["data"]["path"] == done.to_str().unwrap()),
        "{events:#?}"
    );
    // The rollout holds no usage: no response is made up for it.
    assert!(of("llm_response").is_empty(), "{events:#?}");

    let list = run(&["list", "--format", "json"], &project);
    list.success();
    let list = list.json();
    assert_eq!(list[0]["agent_name"], "codex", "{list}");
    assert_eq!(list[0]["first_prompt"], prompt, "{list}");
    assert_eq!(list[0]["total_tokens"], 0, "{list}");
    assert_eq!(list[0]["cost_estimated"], true, "{list}");
    let replay = run(&["replay", session], &project);
    replay.success();
    assert_shows(
        &replay.stdout,
        &[
            prompt,
            "$ wc -l todo.txt",
            "$ cat done.txt",
            "Exit code: 1",
            "todo.txt has 3 lines; I wrote done.txt",
        ],
    );
    let explain = run(&["explain", session], &project);
    explain.success();
    assert_shows(
        &explain.stdout,
        &[
            prompt,
            "Ran: wc -l todo.txt\n",
            "Ran: cat done.txt ✗",
            "Wrote: done.txt",
            "Errors: 1",
        ],
    );
}

/// A Codex rollout line nested past serde_json's 128 levels was "not JSON" to the importer:
/// with its first line so nested the rollout was "not a session log" (exit 3), and a call's
/// line was skipped as malformed, losing the `cat .env` it ran; arguments whose JSON text nests
/// past them were kept as that text (`{"input": "{\"cmd\": …"}`), with no command and no file
/// read. All are read as a rollout 100 levels deep is.
#[test]
fn a_codex_line_and_its_arguments_nested_hundreds_deep_import_as_shallow_ones_do() {
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/agents/recorded");
    let raw = std::fs::read_to_string(recorded.join("codex-0.171.0-rollout-shell.jsonl")).unwrap();
    let calls = assert_deep_imports_as_shallow(
        "rollout.jsonl",
        &raw,
        &|lines, levels| {
            let call = lines
                .iter()
                .position(|l| l["payload"]["type"] == "function_call")
                .unwrap();
            let payload = &mut lines[call]["payload"];
            let mut arguments: Value =
                serde_json::from_str(payload["arguments"].as_str().unwrap()).unwrap();
            arguments["deep"] = nested(levels);
            payload["arguments"] = json!(arguments.to_string());
            payload["internal_chat_message_metadata_passthrough"]["deep"] = nested(levels);
            lines[0]["payload"]["deep"] = nested(levels);
        },
        &|events| {
            (events.iter())
                .filter(|e| e["event_type"] == "tool_call")
                .map(|e| e["data"]["arguments"]["cmd"].clone())
                .collect::<Vec<Value>>()
        },
    );
    assert_eq!(calls, [json!("cat .env")]);
}

/// Codex CLI's TypeScript version (before the Rust rewrite, 2025) saved a session as one JSON
/// document, `~/.codex/sessions/rollout-<date>-<id>.json` of `{session, items}`
/// (tests/fixtures/codex-ts/SOURCE.md): `import --discover` and `--all` passed it by, and
/// `import` of the file read its lone brace as a transcript's line. It is a rollout, its items
/// read as those of the older shape's lines are.
#[test]
fn a_codex_rollout_of_the_typescript_version_is_imported() {
    let env = TestEnv::new();
    let session = "0d3c8a2e-6b1f-4f7a-9c25-8e4b1d7f3a90";
    let name = format!("rollout-2025-04-18-{session}.json");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/codex-ts")
        .join(&name);
    let codex_home = env.path().join("codex-home");
    let rollout = codex_home.join("sessions").join(&name);
    std::fs::create_dir_all(rollout.parent().unwrap()).unwrap();
    std::fs::copy(&fixture, &rollout).unwrap();
    let run = |args: &[&str]| {
        let mut cmd = env.command(args);
        cmd.env("HOME", env.path()).env("CODEX_HOME", &codex_home);
        crate::common::Run::of(cmd.output().unwrap())
    };
    let prompt = "which of the notes mention the deploy?";
    let found = run(&[
        "--trace-dir",
        "store",
        "import",
        "--discover",
        "--agent",
        "codex",
        "--format",
        "json",
    ]);
    found.success();
    let found = &found.json()[0];
    assert_eq!(
        (
            &found["session_id"],
            &found["status"],
            &found["first_prompt"]
        ),
        (
            &Value::from(session),
            &Value::from("new"),
            &Value::from(prompt)
        ),
        "{found}"
    );
    let all = run(&[
        "--trace-dir",
        "store",
        "import",
        "--all",
        "--agent",
        "codex",
    ]);
    all.success();
    assert!(all.stderr.contains("no token usage"), "{all:?}");
    let again = run(&[
        "--trace-dir",
        "store",
        "import",
        "--all",
        "--agent",
        "codex",
    ]);
    again.success();
    assert!(again.stdout.contains("imported already"), "{again:?}");
    // The file named, into another store: the same session.
    let named = run(&["--trace-dir", "named", "import", rollout.to_str().unwrap()]);
    named.success();
    for store in ["store", "named"] {
        let events: Vec<Value> =
            std::fs::read_to_string(env.path().join(store).join(session).join("events.ndjson"))
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
        let of = |kind: &str| -> Vec<&Value> {
            events.iter().filter(|e| e["event_type"] == kind).collect()
        };
        assert_eq!(of("session_start")[0]["data"]["agent"], "codex", "{store}");
        assert_eq!(of("user_prompt").len(), 1, "{store}: {events:#?}");
        assert_eq!(of("tool_call").len(), 2, "{store}: {events:#?}");
        assert_eq!(of("tool_result").len(), 1, "{store}: {events:#?}");
        assert_eq!(of("error").len(), 1, "{store}: {events:#?}");
        // The document holds no usage: no response is made up for it.
        assert!(of("llm_response").is_empty(), "{store}: {events:#?}");
    }
    let list = run(&["--trace-dir", "store", "list", "--format", "json"]);
    list.success();
    let list = list.json();
    assert_eq!(
        (
            &list[0]["session_id"],
            &list[0]["agent_name"],
            &list[0]["first_prompt"]
        ),
        (
            &Value::from(session),
            &Value::from("codex"),
            &Value::from(prompt)
        ),
        "{list}"
    );
    let explain = run(&["--trace-dir", "store", "explain", session]);
    explain.success();
    assert_shows(
        &explain.stdout,
        &[
            prompt,
            "Ran: grep -l deploy notes/*.md\n",
            "Ran: cat notes/deploy.md ✗",
            "Errors: 1",
        ],
    );
}

/// An older Codex rollout records no usage and no time but the session's start
/// (tests/fixtures/codex-bare): it was priced as an estimate at claude-sonnet-4-5's prices, a
/// Claude model for a Codex session (`list` said ~$0.0014, `cost` "Model: claude-sonnet-4-5"),
/// and its duration read 0.00s. Its estimate is priced as no model, which every view marks as
/// a cost it cannot give, and its duration is unknown (`?`, null in JSON).
#[test]
fn an_older_codex_rollout_is_priced_as_no_model_and_lasts_no_known_time() {
    let env = TestEnv::new();
    let session = "5973b6c0-94b8-487b-a530-2aeb6098ae0e";
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/codex-bare")
        .join(format!("rollout-2025-08-07T14-02-11-{session}.jsonl"));
    let run = |args: &[&str]| {
        let mut all = vec!["--trace-dir", "store"];
        all.extend_from_slice(args);
        let run = env.run(&all);
        run.success();
        run
    };
    run(&["import", fixture.to_str().unwrap()]);
    let no_claude = |out: &str| {
        let out = out.to_lowercase();
        assert!(
            !out.contains("claude") && !out.contains("sonnet"),
            "a Claude model named for a Codex session: {out}"
        );
    };

    let list = run(&["list", "--format", "json"]).json();
    let row = &list[0];
    assert_eq!(row["session_id"], session, "{list}");
    assert_eq!(row["duration_s"], Value::Null, "{row}");
    assert_eq!(row["cost_usd"], 0.0, "{row}");
    assert_eq!(row["cost_estimated"], true, "{row}");
    assert_eq!(row["cost_unpriced_models"], json!(["unknown"]), "{row}");
    let list = run(&["list"]).stdout;
    no_claude(&list);
    assert!(!list.contains("0.00s"), "{list}");
    assert!(
        list.contains("a model with no known price (unknown) is counted at $0"),
        "{list}"
    );

    let stats = run(&["stats", session, "--format", "json"]).json();
    assert_eq!(stats["duration_s"], Value::Null, "{stats}");
    let stats = run(&["stats", session]).stdout;
    assert!(stats.contains("Duration: ?"), "{stats}");

    let cost = run(&["cost", session, "--format", "json"]).json();
    // Its models, and the one it is said to be of (the prices' source names Anthropic's pages).
    no_claude(&format!("{} {}", cost["model"], cost["models"]));
    assert_eq!(cost["estimated"], true, "{cost}");
    assert_eq!(cost["cost_usd"], 0.0, "{cost}");
    assert_eq!(cost["unpriced"], json!(["unknown"]), "{cost}");
    assert_eq!(cost["models"][0]["priced_as"], Value::Null, "{cost}");
    assert_eq!(cost["phases"][0]["unpriced"], true, "{cost}");
    let cost = run(&["cost", session]).stdout;
    no_claude(&cost);
    assert!(cost.contains("(no known price)"), "{cost}");

    let explain = run(&["explain", session, "--format", "json"]).json();
    assert_eq!(explain["duration_s"], Value::Null, "{explain}");
    let explain = run(&["explain", session]).stdout;
    assert!(
        explain.starts_with(&format!("Session: {session} (?, ")),
        "{explain}"
    );
    let inspect = run(&["inspect", session]).stdout;
    no_claude(&inspect);
}

/// Asserts that a command's output `out` shows each of `lines`.
fn assert_shows(out: &str, lines: &[&str]) {
    for shown in lines {
        assert!(out.contains(shown), "{shown}: {out}");
    }
}
