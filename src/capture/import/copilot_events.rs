//! A GitHub Copilot CLI session (`~/.copilot/session-state/<id>/events.jsonl`) into one session.
//!
//! Lines are `{type, data, id, timestamp, parentId}` (docs/agents.md section 9.3). The
//! conversation is in `user.message`, `assistant.message`, `tool.execution_start` and
//! `tool.execution_complete` (linked by `toolCallId`); `hook.*` lines are the hooks' own runs
//! (agent-strace's among them) and are not the conversation.
//!
//! Usage: Copilot 1.0.102 writes `session.usage_record` per model call, exact; 1.0.34 wrote only
//! the session's totals per model in `session.shutdown`'s `modelMetrics`, which are read as one
//! response per model, less what usage records counted ([`copilot_usage`](super::copilot_usage):
//! one file may hold both, a 1.0.34 session resumed by 1.0.102; a session killed before its
//! shutdown has no usage but its records). `inputTokens` includes `cacheReadTokens`; the store counts them apart. Copilot
//! bills premium requests, not tokens: a cost from token prices is what the same tokens cost at
//! the API.

use std::collections::VecDeque;
use std::path::Path;

use serde_json::{Map, Value};

use super::Ended;
use super::agent_log::{self, Log, LoggedTokens, count, string};
use super::claude_transcript::{ImportError, ImportReport};
use super::copilot_usage::{Accounts, Counted};
use super::log_writer::LogWriter;
use crate::capture::shell_exit;
use crate::capture::sink::Sink;
use crate::model::Tokens;
use crate::model::tools::Agent;
use crate::store::Store;

/// Whether a first line is a Copilot CLI events file's.
pub fn is_events(first: &Value) -> bool {
    string(first, "type").is_some_and(|t| t.contains('.'))
        && first.get("data").is_some_and(Value::is_object)
        && first.get("parentId").is_some()
}

/// The session id and working folder a `session.start` line names.
pub fn origin(first: &Value) -> (Option<String>, Option<String>) {
    if string(first, "type") != Some("session.start") {
        return (None, None);
    }
    let data = first.get("data").unwrap_or(&Value::Null);
    (
        string(data, "sessionId").map(str::to_owned),
        data.get("context")
            .and_then(|c| string(c, "cwd"))
            .map(str::to_owned),
    )
}

/// Imports an events file one line at a time: its head is read first ([`head`]), then each
/// line's events are written as the line is read, so a long session is never held whole. Both
/// read it as long as it was when the import began ([`agent_log::length`]).
pub fn import(store: &Store, path: &Path, sink: &Sink) -> Result<ImportReport, ImportError> {
    import_to(store, path, sink, agent_log::length(path)?)
}

/// [`import`] of the events file's first `end` bytes.
fn import_to(
    store: &Store,
    path: &Path,
    sink: &Sink,
    end: u64,
) -> Result<ImportReport, ImportError> {
    let (mut head, plan) = head(path, end)?;
    if head.session_id.is_none() {
        // The folder Copilot keeps a session in is named after it.
        head.session_id = path
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned());
    }
    let mut writer = LogWriter::open(store, path, sink, &head)?;
    let mut reader = Reader::new(Accounts::planned(plan));
    let read = agent_log::read_lines_while(path, end, |n, line| {
        match line {
            Ok(line) => reader.line(&line),
            Err(message) => reader.log.bad_line(n, message),
        }
        writer.take(&mut reader.log)?;
        Ok(true)
    })?;
    let Reader {
        mut log, pending, ..
    } = reader;
    let at = log.last();
    for pending in pending {
        let (model, tokens, usage) = pending.response(None);
        log.response(at, model.as_deref(), tokens, Some(usage), Map::new());
    }
    log.lines = read.lines;
    writer.finish(log, read)
}

/// What an events file says of its session as a whole, which the session's first event
/// carries: its `session.start`s (each one's fields taking the place of those before) and its
/// first time; and what its shutdowns make of the usage records that name no model
/// ([`Accounts::plan`]). Read to its end (`end`) before its events, one line at a time. A file
/// with no JSON line is empty.
fn head(path: &Path, end: u64) -> Result<(Log, Vec<Counted>), ImportError> {
    let mut head = Reader::new(Accounts::default());
    let mut any = false;
    agent_log::read_lines_while(path, end, |_, line| {
        let Ok(line) = line else { return Ok(true) };
        any = true;
        head.log.at(agent_log::time(&line, "timestamp"));
        let data = line.get("data").unwrap_or(&Value::Null);
        match string(&line, "type") {
            Some("session.start") => head.start(data),
            Some("session.model_change") => head.change_model(data),
            Some("session.usage_record") => {
                let usage = data.get("usage").unwrap_or(&Value::Null);
                head.accounts.record(string(usage, "model"), &tokens(usage));
            }
            Some("session.shutdown") => {
                if let Some(metrics) = metrics_in(data) {
                    head.accounts.shutdown(&totals_in(metrics));
                }
            }
            _ => {}
        }
        Ok(true)
    })?;
    if !any {
        return Err(ImportError::Empty(path.to_path_buf()));
    }
    Ok((head.log, head.accounts.plan()))
}

struct Reader {
    log: Log,
    /// The model calls are made with: the one the session started with, or last changed to.
    model: Option<String>,
    /// Usage records not yet matched with the message they are the usage of.
    pending: VecDeque<Pending>,
    accounts: Accounts,
}

/// A usage record not yet matched with the message it is the usage of.
struct Pending {
    /// The model it names.
    model: Option<String>,
    usage: Value,
    counted: Counted,
}

impl Pending {
    /// The model, tokens and reported usage of its call's response, whose message names
    /// `model` (or the session does).
    fn response(self, model: Option<String>) -> (Option<String>, LoggedTokens, Value) {
        let Pending {
            model: named,
            usage,
            counted,
        } = self;
        match counted {
            Counted::AsItsCall => (named.or(model), tokens(&usage), usage),
            Counted::Of(owner) => (Some(owner), tokens(&usage), usage),
            // The shutdown's totals count its tokens, as they are the session's.
            Counted::InTotals => (named.or(model), Ok(Tokens::default()), usage),
        }
    }
}

impl Reader {
    fn new(accounts: Accounts) -> Reader {
        Reader {
            log: Log::new(Agent::Copilot),
            model: None,
            pending: VecDeque::new(),
            accounts,
        }
    }

    fn line(&mut self, line: &Value) {
        let kind = string(line, "type").unwrap_or("untyped");
        self.log.saw(kind);
        let data = line.get("data").unwrap_or(&Value::Null);
        let at = self.log.at(agent_log::time(line, "timestamp"));
        match kind {
            "session.start" => self.start(data),
            "session.model_change" => self.change_model(data),
            "user.message" => {
                let prompt = prompt_in(line).unwrap_or_default();
                self.log.prompt(at, &prompt);
            }
            "assistant.message" => {
                let model = string(data, "model")
                    .map(str::to_owned)
                    .or_else(|| self.model.clone());
                // Each message is one model call's.
                self.log.end_request();
                self.log.request(at, model.as_deref());
                if let Some(reasoning) = string(data, "reasoningText") {
                    self.log.thinking(at, reasoning);
                }
                self.log.answer(at, string(data, "content").unwrap_or(""));
                // The usage record of this call comes before its message.
                // Taken from the front in constant time: thousands of records piled up ahead
                // of their messages made an import quadratic.
                if let Some(pending) = self.pending.pop_front() {
                    let (model, tokens, usage) = pending.response(model);
                    let mut extra = Map::new();
                    if let Some(id) = string(data, "apiCallId") {
                        extra.insert("response_id".into(), id.into());
                    }
                    self.log
                        .response(at, model.as_deref(), tokens, Some(usage), extra);
                }
            }
            "session.usage_record" => {
                let usage = data.get("usage").cloned().unwrap_or(Value::Null);
                let model = string(&usage, "model").map(str::to_owned);
                let counted = self.accounts.record(model.as_deref(), &tokens(&usage));
                self.pending.push_back(Pending {
                    model,
                    usage,
                    counted,
                });
            }
            "tool.execution_start" => {
                let name = string(data, "toolName").unwrap_or("unknown");
                let arguments = data.get("arguments").cloned().unwrap_or(Value::Null);
                self.log
                    .call(at, name, arguments, string(data, "toolCallId"));
            }
            "tool.execution_complete" => {
                let ok = data.get("success").and_then(Value::as_bool) != Some(false);
                let error = data.get("error");
                let text = data
                    .get("result")
                    .and_then(|r| r.get("content"))
                    .or_else(|| error.and_then(|e| e.get("message")))
                    .or(error)
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .unwrap_or_default();
                let code = error.and_then(|e| string(e, "code"));
                // A command that exited non-zero is a `success` to Copilot: the call failed,
                // and changed no file as its command meant. 1.0.102 gives the code apart too.
                let exit = data
                    .get("shellExecution")
                    .and_then(|s| s.get("exitCode"))
                    .and_then(Value::as_i64);
                let id = string(data, "toolCallId");
                let tool = id
                    .and_then(|id| self.log.open_tool(id))
                    .unwrap_or("unknown");
                let exited_non_zero = exit.map_or_else(
                    || shell_exit::failed(Agent::Copilot, tool, &text),
                    |code| code != 0,
                );
                let ended = match ended(ok, code) {
                    Ended::Done if exited_non_zero => Ended::FailedWhateverItSays,
                    ended => ended,
                };
                self.log.ended_result(at, id, &text, ended);
            }
            "session.compaction_complete" => {
                self.log.compaction(at, string(data, "summaryContent"));
            }
            "session.shutdown" => self.shutdown(at, data),
            _ => {}
        }
    }

    fn start(&mut self, data: &Value) {
        self.log.session_id = string(data, "sessionId").map(str::to_owned);
        let start = &mut self.log.start;
        if let Some(version) = string(data, "copilotVersion") {
            start.insert("version".into(), version.into());
        }
        if let Some(model) = string(data, "selectedModel") {
            start.insert("model".into(), model.into());
            self.model = Some(model.to_owned());
        }
        if let Some(context) = data.get("context") {
            for (key, from) in [
                ("cwd", "cwd"),
                ("git_branch", "branch"),
                ("git_commit", "headCommit"),
                ("git_repository", "repository"),
            ] {
                if let Some(value) = string(context, from) {
                    start.insert(key.into(), value.into());
                }
            }
        }
    }

    fn change_model(&mut self, data: &Value) {
        if let Some(model) = string(data, "newModel") {
            self.model = Some(model.to_owned());
        }
    }

    /// The session's usage per model that no usage record and no shutdown before counted.
    fn shutdown(&mut self, at: f64, data: &Value) {
        let Some(metrics) = metrics_in(data) else {
            return;
        };
        let unrecorded = self.accounts.shutdown(&totals_in(metrics));
        for ((model, metric), unrecorded) in metrics.iter().zip(unrecorded) {
            let Some(unrecorded) = unrecorded else {
                continue;
            };
            let usage = metric.get("usage").cloned().unwrap_or(Value::Null);
            let mut extra = Map::new();
            extra.insert("scope".into(), "session".into());
            if let Some(requests) = metric.get("requests") {
                extra.insert("premium_requests".into(), requests.clone());
            }
            self.log
                .session_total(at, Some(model), unrecorded, Some(usage), extra);
        }
    }
}

/// A `session.shutdown`'s metrics per model.
fn metrics_in(data: &Value) -> Option<&Map<String, Value>> {
    data.get("modelMetrics").and_then(Value::as_object)
}

/// The totals per model of a shutdown's `metrics`.
fn totals_in(metrics: &Map<String, Value>) -> Vec<(&str, LoggedTokens)> {
    let usage = |metric: &Value| tokens(metric.get("usage").unwrap_or(&Value::Null));
    (metrics.iter())
        .map(|(model, metric)| (model.as_str(), usage(metric)))
        .collect()
}

/// The prompt an events file's line holds, as its import records it: a `user.message`'s
/// content.
pub fn prompt_in(line: &Value) -> Option<String> {
    (string(line, "type") == Some("user.message"))
        .then(|| string(line.get("data")?, "content").map(str::to_owned))?
}

/// The first prompt of an events file, read as far as it ([`agent_log::first_prompt`]).
pub fn first_prompt(path: &Path) -> agent_log::FirstPrompt {
    agent_log::first_prompt(path, agent_log::json_line(prompt_in))
}

/// Copilot's usage in the store's convention: `inputTokens` includes the cache reads (observed)
/// and, it is taken, the cache writes; reasoning is inside `outputTokens`. A count that is no
/// count a response can have, or cache reads and writes past the input, makes them unknown.
fn tokens(usage: &Value) -> LoggedTokens {
    let read = count(usage, "cacheReadTokens", "cache_read_input_tokens")?;
    let written = count(usage, "cacheWriteTokens", "cache_creation_input_tokens")?;
    let input = count(usage, "inputTokens", "input_tokens")?;
    Ok(Tokens {
        input: agent_log::fresh_input(input, read.saturating_add(written))?,
        output: count(usage, "outputTokens", "output_tokens")?,
        cache_creation: written,
        cache_creation_1h: 0,
        cache_read: read,
        reasoning: count(usage, "reasoningTokens", "output_tokens")?,
    })
}

/// How a call ended, from its `success` flag and its error's machine-readable `code`. The codes
/// are the SDK's `ToolResultType`s (`failure`, `rejected` by a policy or hook, `denied` by the
/// user at the permission prompt, `timeout`) or an error's own (`EACCES`): a refusal is told
/// by its code, so a failure whose words read as one is still a failure. An error with no code
/// (older versions) leaves its words to say.
fn ended(ok: bool, code: Option<&str>) -> Ended {
    match (ok, code) {
        (true, _) => Ended::Done,
        (false, None) => Ended::Failed,
        (false, Some("denied" | "rejected")) => Ended::Refused,
        (false, Some(_)) => Ended::FailedWhateverItSays,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An events file that gains lines after its import took its length (Copilot writing on)
    /// is imported as it was then, each response once: the head and the lines read the same
    /// bytes, and what lies past them (a `session.usage_record` and its message) is the next
    /// import's.
    #[test]
    fn lines_appended_during_an_import_are_left_to_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let events = dir.path().join("events.jsonl");
        let line = |kind: &str, data: Value| {
            serde_json::json!({"type": kind, "data": data, "id": "e", "parentId": null,
                               "timestamp": "2026-02-23T12:41:04.000Z"})
            .to_string()
                + "\n"
        };
        let usage = serde_json::json!({"model": "gpt-5", "inputTokens": 100, "outputTokens": 10});
        let first = [
            line(
                "session.start",
                serde_json::json!({"sessionId": "96ef38f0-9d09-45c3-8124-6448c36090ed"}),
            ),
            line(
                "session.shutdown",
                serde_json::json!({"modelMetrics": {"gpt-5": {"usage": usage}}}),
            ),
        ]
        .concat();
        let appended = [
            line("session.usage_record", serde_json::json!({"usage": usage})),
            line(
                "assistant.message",
                serde_json::json!({"model": "gpt-5", "content": "done"}),
            ),
        ]
        .concat();
        std::fs::write(&events, format!("{first}{appended}")).unwrap();
        let store = Store::new(dir.path().join("store"));
        let sink = Sink::new(crate::capture::sink::Privacy::default());
        let report = import_to(&store, &events, &sink, first.len() as u64).unwrap();
        assert_eq!((report.lines, report.responses), (2, 1));
        assert_eq!((report.tokens.input, report.tokens.output), (100, 10));
    }
}
