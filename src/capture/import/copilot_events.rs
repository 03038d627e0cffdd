//! A GitHub Copilot CLI session (`~/.copilot/session-state/<id>/events.jsonl`) into one session.
//!
//! Lines are `{type, data, id, timestamp, parentId}` (docs/agents.md section 9.3). The
//! conversation is in `user.message`, `assistant.message`, `tool.execution_start` and
//! `tool.execution_complete` (linked by `toolCallId`); `hook.*` lines are the hooks' own runs
//! (agent-strace's among them) and are not the conversation.
//!
//! Usage: Copilot 1.0.102 writes `session.usage_record` per model call, exact; 1.0.34 wrote only
//! the session's totals per model in `session.shutdown`'s `modelMetrics`, which are read as one
//! response per model, less what usage records counted ([`Totals`]: one file may hold both, a
//! 1.0.34 session resumed by 1.0.102; a session killed before its shutdown has no usage but its
//! records). `inputTokens` includes `cacheReadTokens`; the store counts them apart. Copilot
//! bills premium requests, not tokens: a cost from token prices is what the same tokens cost at
//! the API.

use std::collections::{HashMap, VecDeque};
use std::path::Path;

use serde_json::{Map, Value};

use super::Ended;
use super::agent_log::{self, Log, LoggedTokens, count, string};
use super::claude_transcript::{ImportError, ImportReport};
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
    let mut head = head(path, end)?;
    if head.session_id.is_none() {
        // The folder Copilot keeps a session in is named after it.
        head.session_id = path
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned());
    }
    let mut writer = LogWriter::open(store, path, sink, &head)?;
    let mut reader = Reader::new();
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
    for (model, usage) in pending {
        log.response(
            at,
            model.as_deref(),
            tokens(&usage),
            Some(usage),
            Map::new(),
        );
    }
    log.lines = read.lines;
    writer.finish(log, read)
}

/// What an events file says of its session as a whole, which the session's first event
/// carries: its `session.start`s (each one's fields taking the place of those before) and its
/// first time. Read to its end (`end`) before its events, one line at a time. A file with no
/// JSON line is empty.
fn head(path: &Path, end: u64) -> Result<Log, ImportError> {
    let mut head = Reader::new();
    let mut any = false;
    agent_log::read_lines_while(path, end, |_, line| {
        let Ok(line) = line else { return Ok(true) };
        any = true;
        head.log.at(agent_log::time(&line, "timestamp"));
        if string(&line, "type") == Some("session.start") {
            head.start(line.get("data").unwrap_or(&Value::Null));
        }
        Ok(true)
    })?;
    if !any {
        return Err(ImportError::Empty(path.to_path_buf()));
    }
    Ok(head.log)
}

struct Reader {
    log: Log,
    model: Option<String>,
    /// Usage records not yet matched with the message they are the usage of.
    pending: VecDeque<(Option<String>, Value)>,
    totals: Totals,
}

/// Counts the session's usage once between its usage records and its shutdowns' totals. A
/// `session.shutdown`'s `modelMetrics` are the session's totals per model, which run on over the
/// processes that resumed it (observed: 1.0.102's shutdown after resuming a 1.0.34 session holds
/// the 1.0.34 totals unchanged beside its own, tests/fixtures/resumed). Of a model's totals, what
/// the shutdown before did not hold and the records since did not count is usage of no recorded
/// call: all of a 1.0.34 session's, none of one 1.0.102 recorded whole.
#[derive(Default)]
struct Totals {
    /// Per model, the totals the last shutdown held.
    held: HashMap<String, Tokens>,
    /// Per model, what the usage records since that shutdown counted.
    recorded: HashMap<String, LoggedTokens>,
}

impl Totals {
    /// A usage record of `model`'s, counted as its call's; `""` when no model was known yet.
    fn record(&mut self, model: &str, counted: &LoggedTokens) {
        let sum = match (self.recorded.remove(model), counted) {
            // A record of unknown usage leaves what the records counted unknown.
            (Some(Err(unknown)), _) => Err(unknown),
            (_, Err(unknown)) => Err(unknown.clone()),
            (Some(Ok(mut sum)), Ok(more)) => {
                sum.add(more);
                Ok(sum)
            }
            (None, Ok(more)) => Ok(*more),
        };
        self.recorded.insert(model.to_owned(), sum);
    }

    /// A shutdown's totals are of `models`: the records of no known model are its one model's
    /// when it names one, so they are taken out of that model's totals and not counted again.
    fn of_models(&mut self, models: &[&str]) {
        if let [model] = models
            && let Some(modelless) = self.recorded.remove("")
        {
            self.record(model, &modelless);
        }
    }

    /// What a shutdown's totals of `model` hold that nothing counted yet; `None` when that is
    /// nothing.
    fn unrecorded(&mut self, model: &str, totals: LoggedTokens) -> Option<LoggedTokens> {
        let recorded = self.recorded.get(model);
        let Ok(totals) = totals else {
            // Totals that hold no count are unknown usage, unless records counted the model's.
            return recorded.is_none().then_some(totals);
        };
        let mut new = totals;
        if let Some(before) = self.held.insert(model.to_owned(), totals)
            && totals.total() >= before.total()
        {
            // Totals that went down began again: all they hold is new.
            new.subtract(&before);
        }
        match recorded {
            // The records' sum cannot be taken out: the rest is taken to be theirs.
            Some(Err(_)) => return None,
            Some(Ok(recorded)) => new.subtract(recorded),
            None => {}
        }
        (!new.is_zero()).then_some(Ok(new))
    }

    /// A shutdown's totals were all read: the records after it are counted against the next.
    fn shut_down(&mut self) {
        self.recorded.clear();
    }
}

impl Reader {
    fn new() -> Reader {
        Reader {
            log: Log::new(Agent::Copilot),
            model: None,
            pending: VecDeque::new(),
            totals: Totals::default(),
        }
    }

    fn line(&mut self, line: &Value) {
        let kind = string(line, "type").unwrap_or("untyped");
        self.log.saw(kind);
        let data = line.get("data").unwrap_or(&Value::Null);
        let at = self.log.at(agent_log::time(line, "timestamp"));
        match kind {
            "session.start" => self.start(data),
            "session.model_change" => {
                if let Some(model) = string(data, "newModel") {
                    self.model = Some(model.to_owned());
                }
            }
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
                if let Some((recorded, usage)) = self.pending.pop_front() {
                    let model = recorded.or(model);
                    let mut extra = Map::new();
                    if let Some(id) = string(data, "apiCallId") {
                        extra.insert("response_id".into(), id.into());
                    }
                    self.log
                        .response(at, model.as_deref(), tokens(&usage), Some(usage), extra);
                }
            }
            "session.usage_record" => {
                let usage = data.get("usage").cloned().unwrap_or(Value::Null);
                let model = string(&usage, "model").map(str::to_owned);
                // Counted against the shutdown's totals of the model its call will be given.
                let of = model.as_deref().or(self.model.as_deref()).unwrap_or("");
                self.totals.record(of, &tokens(&usage));
                self.pending.push_back((model, usage));
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

    /// The session's usage per model that no usage record and no shutdown before counted.
    fn shutdown(&mut self, at: f64, data: &Value) {
        let Some(metrics) = data.get("modelMetrics").and_then(Value::as_object) else {
            return;
        };
        self.totals
            .of_models(&metrics.keys().map(String::as_str).collect::<Vec<_>>());
        for (model, metric) in metrics {
            let usage = metric.get("usage").cloned().unwrap_or(Value::Null);
            let Some(unrecorded) = self.totals.unrecorded(model, tokens(&usage)) else {
                continue;
            };
            let mut extra = Map::new();
            extra.insert("scope".into(), "session".into());
            if let Some(requests) = metric.get("requests") {
                extra.insert("premium_requests".into(), requests.clone());
            }
            self.log
                .session_total(at, Some(model), unrecorded, Some(usage), extra);
        }
        self.totals.shut_down();
    }
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

    /// A 1.0.34 session resumed by 1.0.102: the first shutdown's totals are counted, the
    /// records after it are, and the next shutdown, which holds the first one's totals
    /// unchanged beside the records', counts nothing twice; totals that grew past them hold
    /// calls no record counted, and totals that went down began again.
    #[test]
    fn a_shutdowns_totals_count_what_nothing_counted_before() {
        let t = |input, output| Tokens {
            input,
            output,
            ..Tokens::default()
        };
        let mut totals = Totals::default();
        assert_eq!(
            totals.unrecorded("claude", Ok(t(100, 10))),
            Some(Ok(t(100, 10)))
        );
        totals.shut_down();
        totals.record("gpt", &Ok(t(5, 1)));
        totals.record("gpt", &Ok(t(7, 2)));
        assert_eq!(totals.unrecorded("claude", Ok(t(100, 10))), None);
        assert_eq!(totals.unrecorded("gpt", Ok(t(12, 3))), None);
        totals.shut_down();
        assert_eq!(
            totals.unrecorded("claude", Ok(t(130, 14))),
            Some(Ok(t(30, 4)))
        );
        assert_eq!(totals.unrecorded("gpt", Ok(t(2, 1))), Some(Ok(t(2, 1))));
    }

    /// Records of no known model are taken out of the totals of a shutdown's one model with
    /// that model's own records; totals past them are counted.
    #[test]
    fn records_of_no_model_are_a_lone_models() {
        let t = |input, output| Tokens {
            input,
            output,
            ..Tokens::default()
        };
        let mut totals = Totals::default();
        totals.record("", &Ok(t(100, 10)));
        totals.record("gpt", &Ok(t(20, 2)));
        totals.of_models(&["gpt"]);
        assert_eq!(totals.unrecorded("gpt", Ok(t(150, 15))), Some(Ok(t(30, 3))));
    }

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
