//! Writing a session read from an agent's log ([`Log`]) into the store through the sink, as it
//! is read: a long log is never held whole, its events go out line by line.
//!
//! [`LogWriter::open`] decides, from what the log says of its session (its id, its start's
//! fields, its first time: [`Log`]'s head, which an importer reads first when the session's first
//! event must carry what later lines say), whether the session is written at all, and writes its
//! start; [`LogWriter::take`] writes the events read so far; [`LogWriter::finish`] ends the
//! session with the record of what was read that [`super::resume::check`] compares the file with:
//! a log imported before and unchanged is left alone, one that grew or was rewritten is imported
//! again whole, in place of the stored session (reading it again whole costs less than keeping
//! each importer's state to carry on from).

use std::collections::HashMap;
use std::path::Path;

use serde_json::Map;

use super::agent_log::{Log, Position};
use super::claude_transcript::{ImportError, ImportReport};
use super::resume::{self, Freshness, Rewritten};
use crate::capture::sink::Sink;
use crate::model::{EventType, SessionMeta};
use crate::store::{SessionWriter, Store, StoreError};

/// Writes `log`, read from `path` up to `read`, into `store` as one session, unless the store
/// holds all of it already.
pub fn write(
    store: &Store,
    path: &Path,
    sink: &Sink,
    mut log: Log,
    read: Position,
) -> Result<ImportReport, ImportError> {
    let mut writer = LogWriter::open(store, path, sink, &log)?;
    writer.take(&mut log)?;
    writer.finish(log, read)
}

/// A session being written from a log as the log is read.
pub struct LogWriter<'a> {
    store: &'a Store,
    path: &'a Path,
    sink: &'a Sink,
    /// The report, but for the log's figures, which [`LogWriter::finish`] adds.
    report: ImportReport,
    /// What the file gained, for a log that grew since its import.
    new_lines: Option<u64>,
    /// `None` when the store keeps the session it has: the events are read, not written.
    out: Option<Out>,
}

/// The session being written.
struct Out {
    writer: SessionWriter,
    started: f64,
    /// The latest time of an event written.
    end: f64,
    /// The ids of the events written that later ones may name ([`Log::named_later`]), and
    /// whether each was read before any line gave a time.
    named: HashMap<usize, (String, bool)>,
    /// How many ids `named` may hold before those no later event names are let go.
    named_limit: usize,
}

/// The fewest ids kept before those no later event names are let go.
const NAMED_AT_LEAST: usize = 4096;

impl<'a> LogWriter<'a> {
    /// Starts the session of the log whose head is `head` (its agent, session id, start's
    /// fields, first time, title, parent), or finds the store holds it already.
    pub fn open(
        store: &'a Store,
        path: &'a Path,
        sink: &'a Sink,
        head: &Log,
    ) -> Result<LogWriter<'a>, ImportError> {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let id = head
            .session_id
            .clone()
            .filter(|id| crate::store::is_valid_session_id(id))
            .or_else(|| crate::store::is_valid_session_id(&stem).then(|| stem.clone()))
            .map(|id| sink.privacy().session_id(&id).into_owned())
            .ok_or_else(|| ImportError::NotTranscript {
                path: path.to_path_buf(),
                line: 1,
                reason: "no session id that can name a session".to_owned(),
            })?;
        let report = ImportReport::new(path, id.clone(), head.agent.name());
        let mut writer = LogWriter {
            store,
            path,
            sink,
            report,
            new_lines: None,
            out: None,
        };
        let Some((session, started)) = writer.session(head, &id)? else {
            return Ok(writer);
        };
        let mut data = head.start.clone();
        data.insert("source".into(), "import".into());
        data.insert("agent".into(), head.agent.name().into());
        data.insert(
            "transcript_path".into(),
            path.to_string_lossy().into_owned().into(),
        );
        let mut out = Out {
            writer: session,
            started,
            end: started,
            named: HashMap::new(),
            named_limit: NAMED_AT_LEAST,
        };
        let start = sink.event(EventType::SessionStart, started, &id, data);
        sink.emit(&mut out.writer, start)
            .map_err(|e| writer.at(e))?;
        writer.report.events += 1;
        writer.out = Some(out);
        Ok(writer)
    }

    /// The writer of the session `id`, and its start, when the store does not hold all of it
    /// already; `None`, with the report saying why, when it does.
    fn session(
        &mut self,
        head: &Log,
        id: &str,
    ) -> Result<Option<(SessionWriter, f64)>, ImportError> {
        let (store, path, sink) = (self.store, self.path, self.sink);
        let report = &mut self.report;
        let at = |source: StoreError| ImportError::StoreAt {
            path: path.to_path_buf(),
            source,
        };
        let (started, start_only) = match head.started {
            Some(at) => (at, head.start_only),
            None => match super::untimed_log_start(path) {
                Some((at, warning)) => {
                    report.warnings.push(warning);
                    (at, true)
                }
                None => (0.0, true),
            },
        };
        let mut meta = SessionMeta::new(id, started);
        if start_only {
            use crate::model::meta::{START_ONLY, TIMES};
            meta.set_attribution(TIMES, START_ONLY);
        }
        head.agent.name().clone_into(&mut meta.agent_name);
        meta.command = format!("{} (imported)", head.agent.name());
        // Never its own parent (a subagent's chat naming its parent's session id).
        let link = head.parent.as_ref().filter(|link| link.session_id != id);
        // The link a stored copy has (read once, for a subagent only), kept when this import
        // does not know the call.
        let stored_link = link
            .and_then(|_| store.read_meta_to_read(id).ok())
            .and_then(|m| m.parent_event_id);
        // A subagent whose parent was imported again (its events have new ids) or whose call
        // was not known before: linked now, by writing it again (these logs are small).
        let relink = link
            .and_then(|l| l.event_id.as_ref())
            .is_some_and(|call| stored_link.as_ref() != Some(call));
        if let Some(link) = link {
            meta.parent_session_id = Some(sink.privacy().session_id(&link.session_id).into_owned());
            meta.parent_event_id = link.event_id.clone().or(stored_link);
            meta.depth = link.depth + 1;
        }
        if let Some(title) = &head.title {
            meta.set_attribution(crate::model::meta::TITLE, &sink.text(title));
        }
        let freshness = resume::check(store, id, path).map_err(at)?;
        // Replaced only while its events are as long as the check found them: a hook's event
        // appended since keeps the session as it is.
        let replaced = |meta| {
            store
                .replace_session(meta, freshness.checked_events())
                .map_err(at)
        };
        let writer = match freshness {
            Freshness::New => match store.write_session(meta) {
                Ok(writer) => writer,
                Err(StoreError::SessionExists(_)) => {
                    taken_meanwhile(store, id, path, head.agent.name(), report);
                    return Ok(None);
                }
                Err(e) => return Err(at(e)),
            },
            Freshness::RecordedByHooks => {
                left_to_hooks(report);
                return Ok(None);
            }
            Freshness::UpToDate(_) if relink => {
                report.status = "relinked";
                replaced(meta)?
            }
            Freshness::UpToDate(_) => {
                report.status = "already_imported";
                return Ok(None);
            }
            Freshness::OtherFile(other) => {
                report.status = "already_imported";
                report.imported_from = Some(other);
                report.imported_agent = super::existing::other_agent(store, id, head.agent.name());
                return Ok(None);
            }
            Freshness::AddedTo { new_lines } => {
                report.left_added_to(new_lines);
                return Ok(None);
            }
            Freshness::Grown { .. } | Freshness::Rewritten(_) => {
                // Read whole again: some logs rewrite what they hold (Gemini CLI replaces a
                // message by its id, and rewinds).
                report.status = if let Freshness::Grown { new_lines, .. } = freshness {
                    // What the file gained; the report's other figures are the whole log's.
                    self.new_lines = Some(new_lines);
                    "grown"
                } else {
                    report.reimported_as_outdated =
                        matches!(freshness, Freshness::Rewritten(Rewritten::NoRecord));
                    "reimported"
                };
                replaced(meta)?
            }
        };
        Ok(Some((writer, started)))
    }

    fn at(&self, source: StoreError) -> ImportError {
        ImportError::StoreAt {
            path: self.path.to_path_buf(),
            source,
        }
    }

    /// Writes the events `log` made since the last call, and lets go of the ids no later event
    /// can name.
    pub fn take(&mut self, log: &mut Log) -> Result<(), ImportError> {
        let (first, drafts) = log.take_drafts();
        let Some(out) = self.out.as_mut() else {
            return Ok(());
        };
        let id = &self.report.session_id;
        for (index, draft) in (first..).zip(drafts) {
            // Lines before the first that gives a time have none (0): they are stamped with
            // the session's start, never 1970, and what took from or to one of them took a
            // time unknown.
            let untimed = draft.at <= 0.0;
            let parent = draft.parent.and_then(|p| out.named.get(&p));
            let timed = !untimed && !parent.is_some_and(|&(_, untimed)| untimed);
            let when = if untimed { out.started } else { draft.at };
            out.end = out.end.max(when);
            let mut event = self.sink.event(draft.kind, when, id, draft.data);
            event.parent_id = parent.map(|(id, _)| id.clone());
            event.duration_ms = draft.duration_ms.filter(|_| timed);
            out.named.insert(index, (event.event_id.clone(), untimed));
            self.sink
                .emit(&mut out.writer, event)
                .map_err(|source| ImportError::StoreAt {
                    path: self.path.to_path_buf(),
                    source,
                })?;
            self.report.events += 1;
        }
        if out.named.len() >= out.named_limit {
            let later: std::collections::HashSet<usize> = log.named_later().collect();
            out.named.retain(|index, _| later.contains(index));
            out.named_limit = (out.named.len() * 2).max(NAMED_AT_LEAST);
        }
        Ok(())
    }

    /// Writes what is left of `log`, read from the file up to `read`, ends the session and
    /// moves it into place; the report holds the whole log's figures.
    pub fn finish(mut self, mut log: Log, read: Position) -> Result<ImportReport, ImportError> {
        self.take(&mut log)?;
        let (agent, last) = (log.agent.name(), log.last());
        let mut report = self.report;
        report.lines = self.new_lines.unwrap_or(log.lines.max(read.lines));
        report.entries = log.entries;
        report.malformed = log.malformed;
        report.messages = log.messages;
        report.responses = log.responses;
        report.tool_calls = log.tool_calls;
        report.tool_errors = log.tool_errors;
        report.tool_rejections = log.tool_rejections;
        report.tokens = log.tokens;
        report.unbelieved_usage = log.unbelieved_usage;
        // The log's own warnings come before those of the import.
        log.warnings.append(&mut report.warnings);
        report.warnings = log.warnings;
        let Some(mut out) = self.out else {
            return Ok(report);
        };
        let (store, path, sink) = (self.store, self.path, self.sink);
        let at = |source: StoreError| ImportError::StoreAt {
            path: path.to_path_buf(),
            source,
        };
        report.agent_calls = log
            .agent_calls
            .into_iter()
            .filter_map(|(agent, call)| Some((agent, out.named.get(&call)?.0.clone())))
            .collect();
        let mut data = Map::new();
        data.insert("reason".into(), "import".into());
        let end = sink.event(
            EventType::SessionEnd,
            out.end.max(last),
            &report.session_id,
            data,
        );
        sink.emit(&mut out.writer, end).map_err(at)?;
        report.events += 1;
        let mut writer = out.writer;
        if let Some(record) = record(path, read, writer.mark().bytes, sink) {
            writer.set_import_record(record);
        }
        match writer.finish() {
            // Another writer put the session there while the log was read.
            Err(StoreError::SessionExists(_)) => {
                let id = report.session_id.clone();
                taken_meanwhile(store, &id, path, agent, &mut report);
            }
            other => {
                other.map_err(at)?;
            }
        }
        Ok(report)
    }
}

/// Marks `report` as the import of a session its hooks recorded, left as they wrote it.
fn left_to_hooks(report: &mut ImportReport) {
    report.status = "recorded_by_hooks";
    report.warnings.push(
        "left the session as its hooks recorded it: the log is not merged into it".to_owned(),
    );
}

/// Says of a log whose session `id` another writer put in the store while the log was read
/// what an import begun after that writer would say: a hook's session (its first event came
/// meanwhile) is recorded by hooks, and the log is not merged into it; another file's import
/// is named. Said "already imported" alone, the hook's session read as if another log had been.
fn taken_meanwhile(
    store: &Store,
    id: &str,
    path: &Path,
    agent: &'static str,
    report: &mut ImportReport,
) {
    report.status = "already_imported";
    match resume::check(store, id, path) {
        Ok(Freshness::RecordedByHooks) => left_to_hooks(report),
        Ok(Freshness::OtherFile(other)) => {
            report.imported_from = Some(other);
            report.imported_agent = super::existing::other_agent(store, id, agent);
        }
        // Hooks sharing its id wrote to the imported session while the log was read.
        Ok(Freshness::AddedTo { new_lines }) => report.left_added_to(new_lines),
        _ => {}
    }
}

/// The record of what was read, which the next import compares the file with; `None` when the
/// last line read cannot be read back (the file changed meanwhile: the next import reads it
/// again whole).
fn record(path: &Path, read: Position, events: u64, sink: &Sink) -> Option<Vec<u8>> {
    let mut file = crate::store::open_regular(path).ok()?;
    let hash = resume::line_hash(&mut file, read.last_line_at, read.offset)
        .ok()
        .flatten()?;
    let read = resume::Read {
        format: resume::FORMAT,
        transcript: resume::kept_path(sink.privacy(), path),
        offset: read.offset,
        lines: read.lines,
        last_line_at: read.last_line_at,
        last_line_hash: hash,
        events,
    };
    let mut out = serde_json::to_vec(&read).ok()?;
    out.push(b'\n');
    Some(out)
}
