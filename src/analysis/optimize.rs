//! `optimize`: patterns of failure found across sessions, each with its evidence (sessions,
//! event numbers) and an instruction that would prevent it, to add to an agent's instruction
//! file (AGENTS.md, CLAUDE.md …) once.
//!
//! The heuristics read events through the typed views only, so they work on every agent's
//! sessions. An LLM may cluster the failures instead (`cli/optimize.rs` asks it); its answer
//! is read here, and anything unusable in it falls back to the heuristics.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::model::file_use::FileUse;
use crate::model::text::count;
use crate::model::touches::{Touch, Touches};
use crate::model::view::View;
use crate::model::{Agent, Event, ToolKind};

/// One session as optimize reads it.
pub struct Session<'a> {
    pub id: &'a str,
    pub agent: Agent,
    /// In file order: event N is `events[N - 1]`.
    pub events: &'a [Event],
}

/// Where a pattern was seen: a session and the events, numbered as replay numbers them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub session_id: String,
    pub events: Vec<usize>,
    pub what: String,
}

/// Where a pattern's proposal came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Heuristic,
    Llm,
}

/// A failure pattern and the instruction proposed against it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pattern {
    /// A short kebab-case name; it marks the addition in the target file.
    pub name: String,
    pub description: String,
    pub source: Source,
    pub sessions: Vec<String>,
    pub evidence: Vec<Evidence>,
    /// Markdown to add: a heading and its instruction.
    pub proposal: String,
}

/// A call repeated this many times in a row with the same arguments is a blind retry.
const BLIND_RETRY_RUN: usize = 3;
/// More distinct files than this written in one session is a wide blast radius.
const WIDE_BLAST_FILES: usize = 8;
/// A file read this many times without being written between is read redundantly.
const REDUNDANT_READS: usize = 3;

/// The built-in patterns found in `sessions`, in a fixed order.
pub fn heuristics(sessions: &[Session<'_>]) -> Vec<Pattern> {
    let mut blind = Vec::new();
    let mut no_change = Vec::new();
    let mut wide = Vec::new();
    let mut rereads = Vec::new();
    for session in sessions {
        let facts = Facts::of(session);
        blind.extend(blind_retries(session.id, &facts));
        no_change.extend(errors_without_change(session.id, &facts));
        wide.extend(wide_blast(session.id, &facts));
        rereads.extend(redundant_reads(session));
    }
    [
        (
            "blind-retry",
            "The same call was made again and again with the same arguments.",
            "## Retry policy\n\nWhen a command or tool call fails, read its whole error before running it again. Do not repeat a call with the same arguments a third time: change the approach or stop and report what failed.",
            blind,
        ),
        (
            "error-no-change",
            "A call failed and was made again unchanged, with no file changed in between.",
            "## Error handling\n\nAfter a tool call fails, find the cause before retrying: change the input, fix the file it depends on, or choose another tool. Never retry a failed call with the same arguments when nothing has changed.",
            no_change,
        ),
        (
            "wide-blast-radius",
            "A session wrote to many distinct files.",
            "## Scope discipline\n\nChange only the files the task needs. If more than five files must change, list them and confirm the scope before editing.",
            wide,
        ),
        (
            "redundant-read",
            "The same file was read again and again without being changed in between.",
            "## Reading files\n\nRead a file once and keep what you need from it; read it again only after it has changed.",
            rereads,
        ),
    ]
    .into_iter()
    .filter(|(_, _, _, evidence)| !evidence.is_empty())
    .map(|(name, description, proposal, evidence)| Pattern {
        name: name.to_owned(),
        description: description.to_owned(),
        source: Source::Heuristic,
        sessions: sessions_of(&evidence),
        evidence,
        proposal: proposal.to_owned(),
    })
    .collect()
}

fn sessions_of(evidence: &[Evidence]) -> Vec<String> {
    let mut seen = HashSet::new();
    evidence
        .iter()
        .filter(|e| seen.insert(e.session_id.clone()))
        .map(|e| e.session_id.clone())
        .collect()
}

/// What the heuristics need of a session, read once.
struct Facts {
    /// Tool calls: event number, tool, signature.
    calls: Vec<(usize, String, String)>,
    /// Failed results: event number, and the number of the call they answer.
    failures: Vec<(usize, Option<usize>)>,
    /// Files changed (written, deleted or moved): event number, path.
    changes: Vec<(usize, String)>,
    /// Each file whose content was written, as the session's summary counts them
    /// ([`Touches`]; a deletion or a move writes none): the event that first wrote it, path.
    written: Vec<(usize, String)>,
}

impl Facts {
    fn of(session: &Session<'_>) -> Facts {
        let mut facts = Facts {
            calls: Vec::new(),
            failures: Vec::new(),
            changes: Vec::new(),
            written: Vec::new(),
        };
        let mut call_numbers: HashMap<&str, usize> = HashMap::new();
        let mut last_call_of: HashMap<String, usize> = HashMap::new();
        let mut touches = Touches::default();
        for (i, event) in session.events.iter().enumerate() {
            let number = i + 1;
            for (path, file_use) in touches.observe(event, session.agent) {
                facts.note_written(number, path, &file_use);
            }
            match View::of(event, session.agent) {
                View::ToolCall(call) => {
                    call_numbers.insert(event.event_id.as_str(), number);
                    last_call_of.insert(call.tool.to_owned(), number);
                    facts
                        .calls
                        .push((number, call.tool.to_owned(), call.signature()));
                    if let Some(path) = call.path()
                        && call.kind == ToolKind::WriteFile
                    {
                        facts.changes.push((number, path.to_owned()));
                    }
                }
                // A call cancelled because a call beside it failed never ran: no failure.
                View::ToolResult(result) if result.failed() && !result.cancelled_by_sibling() => {
                    let answered = event
                        .parent_id
                        .as_deref()
                        .and_then(|p| call_numbers.get(p).copied())
                        .or_else(|| result.tool.and_then(|t| last_call_of.get(t).copied()));
                    facts.failures.push((number, answered));
                }
                View::FileTouch(touch) if touch.write => {
                    if let Some(path) = touch.path {
                        // A file event that echoes the call just before it is the same touch.
                        if facts.changes.last().is_none_or(|(_, p)| p != path) {
                            facts.changes.push((number, path.to_owned()));
                        }
                    }
                }
                _ => {}
            }
        }
        // The files the call answered last owes count too, as the summary counts them (at the
        // last event), and so do those of calls no result answered (at their call).
        let owed = session.events.len();
        for (path, file_use) in touches.owed().to_vec() {
            facts.note_written(owed, path, &file_use);
        }
        let mut pending: Vec<(usize, Touch)> = touches
            .pending()
            .map(|(id, touch)| (call_numbers.get(id).copied().unwrap_or(owed), touch.clone()))
            .collect();
        pending.sort();
        for (number, (path, file_use)) in pending {
            facts.note_written(number, path, &file_use);
        }
        facts
    }

    /// Notes `path` as written at event `number` if `file_use` wrote it and no event wrote it
    /// before.
    fn note_written(&mut self, number: usize, path: String, file_use: &FileUse) {
        if *file_use == FileUse::Write && !self.written.iter().any(|(_, p)| *p == path) {
            self.written.push((number, path));
        }
    }
}

fn blind_retries(session: &str, facts: &Facts) -> Vec<Evidence> {
    let mut found = Vec::new();
    let mut run: Vec<usize> = Vec::new();
    let mut signature = "";
    let mut tool = "";
    let mut flush = |run: &mut Vec<usize>, tool: &str| {
        if run.len() >= BLIND_RETRY_RUN {
            found.push(Evidence {
                session_id: session.to_owned(),
                what: format!(
                    "\"{tool}\" called {} times in a row with the same arguments",
                    run.len()
                ),
                events: std::mem::take(run),
            });
        }
        run.clear();
    };
    for (number, name, sig) in &facts.calls {
        if sig != signature {
            flush(&mut run, tool);
            signature = sig;
            tool = name;
        }
        run.push(*number);
    }
    flush(&mut run, tool);
    found
}

fn errors_without_change(session: &str, facts: &Facts) -> Vec<Evidence> {
    let mut found = Vec::new();
    for &(failed_at, call) in &facts.failures {
        let Some(call) = call else { continue };
        let Some((_, tool, signature)) = facts.calls.iter().find(|(n, _, _)| *n == call) else {
            continue;
        };
        // The next call after the failure, if it is the same call and no file was written
        // between the failure and it.
        let Some((again, _, next)) = facts.calls.iter().find(|(n, _, _)| *n > failed_at) else {
            continue;
        };
        let wrote = facts
            .changes
            .iter()
            .any(|(n, _)| *n > failed_at && n < again);
        if next == signature && !wrote {
            found.push(Evidence {
                session_id: session.to_owned(),
                events: vec![call, failed_at, *again],
                what: format!("\"{tool}\" failed and was called again unchanged"),
            });
        }
    }
    found
}

fn wide_blast(session: &str, facts: &Facts) -> Vec<Evidence> {
    let first = &facts.written;
    if first.len() <= WIDE_BLAST_FILES {
        return Vec::new();
    }
    let mut events: Vec<usize> = first.iter().map(|(n, _)| *n).collect();
    events.sort_unstable();
    vec![Evidence {
        session_id: session.to_owned(),
        events,
        what: format!("{} written", count(first.len() as u64, "distinct file")),
    }]
}

/// Files read [`REDUNDANT_READS`] or more times the same way with no change between
/// ([`rereads`](super::rereads), as `lint` and `compare` count them).
fn redundant_reads(session: &Session<'_>) -> Vec<Evidence> {
    super::rereads::of(session.events, session.agent)
        .into_iter()
        .filter(|r| r.events.len() >= REDUNDANT_READS)
        .map(|r| Evidence {
            session_id: session.id.to_owned(),
            what: format!(
                "\"{}\" read {} times without a change",
                r.path,
                r.events.len()
            ),
            events: r.events,
        })
        .collect()
}

/// The line that marks an addition in the target file, so it is added once.
pub fn marker(name: &str) -> String {
    format!("<!-- agent-strace optimize: {name} -->")
}

/// `existing` with each pattern's proposal added once: a pattern whose marker is already there
/// is left out. Returns the new text and the names added. The file's own bytes are kept as
/// they are (its byte order mark, the spaces that end its last line), and the additions follow
/// them in its own line ends (CRLF when its first line ends so), never a mix of both.
pub fn apply(existing: &str, patterns: &[Pattern]) -> (String, Vec<String>) {
    let eol = match existing.find('\n') {
        Some(at) if existing[..at].ends_with('\r') => "\r\n",
        _ => "\n",
    };
    let mut text = existing.to_owned();
    let mut added = Vec::new();
    for pattern in patterns {
        let marker = marker(&pattern.name);
        if text.contains(&marker) {
            continue;
        }
        // The last line ended, then a blank line before the addition.
        if !text.is_empty() {
            if !text.ends_with('\n') {
                text.push_str(eol);
            }
            if !ends_with_blank_line(&text) {
                text.push_str(eol);
            }
        }
        text.push_str(&marker);
        text.push_str(eol);
        for line in pattern.proposal.trim().lines() {
            text.push_str(line);
            text.push_str(eol);
        }
        added.push(pattern.name.clone());
    }
    (text, added)
}

/// Whether `text`, which ends with a line end, ends with a blank line: a separation is there.
fn ends_with_blank_line(text: &str) -> bool {
    let lines = text.strip_suffix('\n').unwrap_or(text);
    let lines = lines.strip_suffix('\r').unwrap_or(lines);
    lines.is_empty()
        || lines
            .rsplit('\n')
            .next()
            .is_some_and(|l| l.trim().is_empty())
}

/// The request an LLM is asked to cluster with: each session's failures and the heuristics'
/// findings, without file contents. The caller sends it only when the user named an endpoint.
pub fn llm_prompt(sessions: &[Session<'_>], heuristics: &[Pattern]) -> String {
    let mut text = String::from(
        "You review traces of an AI coding agent. Group the failures below by root cause and, for each group, propose one short addition to the agent's instruction file (AGENTS.md) that would prevent it.\nAnswer with JSON only, in this shape:\n{\"patterns\": [{\"name\": \"kebab-case-name\", \"description\": \"one sentence\", \"affected_sessions\": [\"session id\"], \"proposed_addition\": \"## Heading\\nInstruction.\"}]}\n\n",
    );
    for session in sessions {
        let mut lines = Vec::new();
        for (i, event) in session.events.iter().enumerate() {
            if let View::ToolResult(result) = View::of(event, session.agent)
                && result.failed()
                && !result.cancelled_by_sibling()
            {
                let error: String = result
                    .error
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .take(300)
                    .collect();
                lines.push(format!(
                    "  event {}: {} failed: {}",
                    i + 1,
                    result.tool.unwrap_or("a tool"),
                    error.replace('\n', " ")
                ));
            }
        }
        if !lines.is_empty() {
            let _ = writeln!(text, "Session {}:", session.id);
            for line in lines.iter().take(20) {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    if !heuristics.is_empty() {
        text.push_str("\nPatterns found by rule:\n");
        for p in heuristics {
            let _ = writeln!(
                text,
                "- {}: {} ({} session(s))",
                p.name,
                p.description,
                p.sessions.len()
            );
        }
    }
    text
}

/// Why an LLM's answer could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LlmAnswerError {
    #[error("the answer is not the JSON asked for: {0}")]
    NotJson(String),
    #[error("the answer proposes nothing usable")]
    Empty,
}

/// Reads an LLM's answer into patterns: sessions it names are matched to the sessions read (by
/// id or prefix); a pattern without a proposal or a known session is left out.
pub fn read_llm_answer(
    answer: &str,
    sessions: &[Session<'_>],
    heuristics: &[Pattern],
) -> Result<Vec<Pattern>, LlmAnswerError> {
    let text = answer.trim();
    let text = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```"))
        .map_or(text, |t| t.trim_end().trim_end_matches("```"));
    let value: Value =
        serde_json::from_str(text.trim()).map_err(|e| LlmAnswerError::NotJson(e.to_string()))?;
    let mut patterns = Vec::new();
    for item in value["patterns"].as_array().into_iter().flatten() {
        let proposal = item["proposed_addition"].as_str().unwrap_or("").trim();
        let name = slug(item["name"].as_str().unwrap_or(""));
        if proposal.is_empty() || name.is_empty() {
            continue;
        }
        let named: Vec<String> = item["affected_sessions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|a| a.len() >= 4)
            .filter_map(|a| {
                sessions
                    .iter()
                    .find(|s| s.id.starts_with(a))
                    .map(|s| s.id.to_owned())
            })
            .collect();
        if named.is_empty() {
            continue;
        }
        let evidence = heuristics
            .iter()
            .flat_map(|p| &p.evidence)
            .filter(|e| named.contains(&e.session_id))
            .cloned()
            .collect();
        patterns.push(Pattern {
            name,
            description: item["description"].as_str().unwrap_or("").to_owned(),
            source: Source::Llm,
            sessions: named,
            evidence,
            proposal: proposal.to_owned(),
        });
    }
    if patterns.is_empty() {
        return Err(LlmAnswerError::Empty);
    }
    Ok(patterns)
}

/// A name made safe to put in a marker: lowercase letters, digits and dashes.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars().take(60) {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(name: &str) -> Pattern {
        Pattern {
            name: name.into(),
            description: String::new(),
            source: Source::Heuristic,
            sessions: vec![],
            evidence: vec![],
            proposal: format!("## {name}\n\nDo it."),
        }
    }

    #[test]
    fn a_proposal_is_added_once() {
        let (once, added) = apply("# Agents\n", &[pattern("a"), pattern("b")]);
        assert_eq!(added, ["a", "b"]);
        assert!(once.starts_with("# Agents\n\n<!-- agent-strace optimize: a -->\n## a"));
        let (twice, added) = apply(&once, &[pattern("a"), pattern("b")]);
        assert!(added.is_empty());
        assert_eq!(twice, once);
    }

    #[test]
    fn the_file_is_kept_as_it_is_and_added_to_in_its_line_ends() {
        let existing = "\u{feff}# Agents\r\nline\r\nlast  ";
        let (text, _) = apply(existing, &[pattern("a"), pattern("b")]);
        assert!(text.starts_with(existing), "{text:?}");
        assert!(!text.replace("\r\n", "").contains('\n'), "{text:?}");
        assert!(text.ends_with("Do it.\r\n"), "{text:?}");
        assert!(text.contains("last  \r\n\r\n<!--"), "{text:?}");
        let (blank, _) = apply("# Agents\n\n", &[pattern("a")]);
        assert!(blank.starts_with("# Agents\n\n<!--"), "{blank:?}");
        let (empty, _) = apply("", &[pattern("a")]);
        assert!(empty.starts_with("<!--"), "{empty:?}");
    }

    #[test]
    fn llm_names_are_made_safe_for_a_marker() {
        assert_eq!(slug(" Blind Retry --> x "), "blind-retry-x");
        assert_eq!(slug("-->"), "");
    }
}
