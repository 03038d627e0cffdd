//! Importing many transcripts and session logs (of any agent: see [`super::detect`]) at once: files in parallel, each file (with its subagents) by one
//! worker, so every session has exactly one writer; results come back in the order given.
//!
//! Memory stays flat: each worker streams one file at a time, and what waits to be reported in
//! order is a few counters per file. Files are taken largest first, so both cores stay busy to
//! the end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use super::claude_transcript::{ImportError, ImportReport, ParentLink, import_file};
use super::resume::{self, Freshness};
use crate::capture::sink::{Privacy, Sink};
use crate::capture::transcript::{Subagents, session_of, subagent_files};
use crate::store::{Store, describe_entry};

/// What importing one file gave: its report and its subagents' reports, or why it failed.
pub type FileResult = Result<Vec<ImportReport>, ImportError>;

/// How many files, in the order given, are taken largest first (see [`import_files`]).
const SIZE_WINDOW: usize = 32;

/// Imports `files` on `workers` threads, calling `done` on the calling thread for each file, in
/// the order of `files`.
pub fn import_files(
    store: &Store,
    files: &[PathBuf],
    sink: &Sink,
    workers: usize,
    mut done: impl FnMut(usize, &Path, FileResult),
) {
    let workers = workers.clamp(1, files.len().max(1));
    // Largest files first within each run of `SIZE_WINDOW`, so that no worker is left with a
    // big file while the others idle at the end. Results are reported in the order given, so a
    // result waits for those before it: sorted across the whole list, nearly every result
    // would wait to the end, and memory would grow with the history.
    let mut order: Vec<usize> = (0..files.len()).collect();
    if workers > 1 {
        let sizes: Vec<u64> = files
            .iter()
            .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
            .collect();
        for window in order.chunks_mut(SIZE_WINDOW) {
            window.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
        }
    }
    let order = &order;
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, FileResult)>();
    std::thread::scope(|scope| {
        let mut started = 0;
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            let worker = move || {
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let file = &files[i];
                    if tx
                        .send((i, super::detect::import_any(store, file, sink)))
                        .is_err()
                    {
                        break;
                    }
                }
            };
            // A refused thread (a process limit): the workers started take every file.
            if std::thread::Builder::new()
                .spawn_scoped(scope, worker)
                .is_err()
            {
                break;
            }
            started += 1;
        }
        drop(tx);
        if started == 0 {
            // Not one thread to be had: one file after another here, each reported as soon as
            // it is done, so that nothing waits.
            for (i, file) in files.iter().enumerate() {
                done(i, file, super::detect::import_any(store, file, sink));
            }
            return;
        }
        let mut waiting = BTreeMap::new();
        let mut due = 0;
        for (i, result) in rx {
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&due) {
                done(due, &files[due], result);
                due += 1;
            }
        }
    });
}

/// Imports a transcript, then the subagents in its `<stem>/subagents/` folder.
pub fn import_with_subagents(store: &Store, file: &Path, sink: &Sink) -> FileResult {
    let parent = parent_of_agent_file(file);
    let mut main = import_file(store, file, parent.as_ref(), sink)?;
    let Subagents {
        files: children,
        links,
        specials,
    } = subagent_files(file);
    main.warnings
        .extend(left_out_notes(&links, &specials, "transcripts"));
    let session = main.session_id.clone();
    // A session in the store already (an import that stopped part way, or hooks) links its
    // subagents to its own calls, as a clean import links them: an import that read the file
    // knows them, one that stopped at once finds them in the record an earlier import kept, or
    // else in the stored session.
    let at = |source| ImportError::StoreAt {
        path: file.to_path_buf(),
        source,
    };
    let agent_calls = match main.status {
        _ if children.is_empty() => main.agent_calls.clone(),
        "imported" | "reimported" | "grown" | "relinked" => main.agent_calls.clone(),
        _ => match super::resume::state(store, &session).map_err(at)? {
            Some(state) => state.agent_calls,
            None => super::existing::agent_calls(store, &session, file).map_err(at)?,
        },
    };
    let mut reports = vec![main];
    for child in children {
        let agent = child
            .file_stem()
            .map(|s| s.to_string_lossy().trim_start_matches("agent-").to_owned())
            .unwrap_or_default();
        let link = ParentLink {
            session_id: session.clone(),
            // An import keys its calls by the agent's id as its record keeps it; a stored
            // session's calls are found by the id itself.
            event_id: (agent_calls.get(resume::kept_id(sink.privacy(), &agent).as_ref()))
                .or_else(|| agent_calls.get(&agent))
                .cloned(),
            depth: parent.as_ref().map_or(0, |p| p.depth + 1),
        };
        // One transcript that cannot be read costs that subagent, not its parent and siblings.
        match import_file(store, &child, Some(&link), sink) {
            Ok(report) => reports.push(report),
            Err(e) => {
                reports[0].subagent_unwritten |= e.is_store_io();
                reports[0]
                    .warnings
                    .push(format!("a subagent's transcript was not imported: {e}"));
            }
        }
    }
    Ok(reports)
}

/// What is said of the entries among a session's subagents' logs (`what`: `transcripts`,
/// `chats`) that are never read: each link (not followed) and each FIFO, socket or device
/// (never opened), one line each. Passed over without a word, one planted where a subagent's
/// log was to be hid that subagent from the user.
pub(super) fn left_out_notes(links: &[PathBuf], specials: &[PathBuf], what: &str) -> Vec<String> {
    let links = links.iter().map(|link| {
        format!(
            "{}: a symbolic link among its subagents' {what}, not followed",
            link.display()
        )
    });
    let specials = specials.iter().map(|special| {
        format!(
            "{}: {}, not a regular file: left out, never opened",
            special.display(),
            describe_entry(special).unwrap_or("no regular file")
        )
    });
    links.chain(specials).collect()
}

/// What an import of the log `file` of session `session_id` says it leaves out among its
/// subagents' logs ([`left_out_notes`]: a Claude Code transcript's `<stem>/subagents/`, a
/// Gemini CLI chat's `chats/<session id>/`), for `import --discover`, which reads none of
/// them but says the same lines.
pub fn subagents_left_out(file: &Path, session_id: &str) -> Vec<String> {
    let Subagents {
        links, specials, ..
    } = subagent_files(file);
    let mut notes = left_out_notes(&links, &specials, "transcripts");
    let gemini_chat = file
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("session-"));
    if gemini_chat {
        notes.extend(super::gemini_chat::subagents_left_out(file, session_id));
    }
    notes
}

/// How a transcript and its subagents' transcripts compare with the store.
#[derive(Debug, Clone)]
pub struct FileFreshness {
    pub main: Freshness,
    /// Lines the subagents' transcripts hold beyond what was imported of them.
    pub subagents_new_lines: u64,
    /// A subagent's transcript is new, grown or rewritten.
    pub subagents_changed: bool,
}

impl FileFreshness {
    /// Whether importing the file (with its subagents) would change the store.
    pub fn needs_import(&self) -> bool {
        self.main.needs_import() || self.subagents_changed
    }

    /// New lines of the file and its subagents, when what the store holds of them grew (or,
    /// for a session something else added to, lines the file gained that are not added).
    pub fn new_lines(&self) -> Option<u64> {
        match &self.main {
            Freshness::Grown { new_lines, .. } => Some(new_lines + self.subagents_new_lines),
            Freshness::AddedTo { new_lines } if *new_lines > 0 => Some(*new_lines),
            Freshness::UpToDate(_) if self.subagents_changed => Some(self.subagents_new_lines),
            _ => None,
        }
    }

    /// In a word (`--discover`'s JSON): `grown` also when only a subagent's transcript grew.
    pub fn status(&self) -> &'static str {
        match &self.main {
            Freshness::UpToDate(_) if self.subagents_changed => "grown",
            main => main.status(),
        }
    }
}

/// How the transcript `file` of session `session_id`, and its subagents' transcripts, compare
/// with the store: a record and a line of each file are read, not the files.
pub fn freshness(store: &Store, file: &Path, session_id: &str, privacy: &Privacy) -> FileFreshness {
    // A check that cannot read what it needs says "imported again whole": the import then
    // reads the files, and reports what it could not read.
    let check = |session: &str, path: &Path| {
        resume::check(store, session, path).unwrap_or(Freshness::Rewritten(
            resume::Rewritten::Changed { events: None },
        ))
    };
    let main = check(session_id, file);
    let mut fresh = FileFreshness {
        main,
        subagents_new_lines: 0,
        subagents_changed: false,
    };
    // Subagents are imported with their parent, and not at all beside a session of hooks.
    if !matches!(fresh.main, Freshness::UpToDate(_) | Freshness::Grown { .. }) {
        return fresh;
    }
    for child in subagent_files(file).files {
        let agent = child
            .file_stem()
            .map(|s| s.to_string_lossy().trim_start_matches("agent-").to_owned())
            .unwrap_or_default();
        let Some(id) = privacy.subagent_session_id(&agent, session_id) else {
            continue;
        };
        let child = check(&id, &child);
        fresh.subagents_new_lines += child.new_lines().unwrap_or(0);
        fresh.subagents_changed |= child.needs_import();
    }
    // Gemini CLI's subagents: `chats/<session id>/<agent id>.jsonl` beside a `session-*` chat,
    // each a session named by its agent id.
    let gemini_chat = file
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("session-"));
    if gemini_chat {
        for child in super::gemini_chat::subagent_chats(file, session_id) {
            let Some(id) = child
                .file_stem()
                .map(|s| privacy.session_id(&s.to_string_lossy()).into_owned())
            else {
                continue;
            };
            let child = check(&id, &child);
            fresh.subagents_new_lines += child.new_lines().unwrap_or(0);
            fresh.subagents_changed |= child.needs_import();
        }
    }
    fresh
}

/// A subagent's own transcript (`agent-*.jsonl`) belongs under the session it names.
fn parent_of_agent_file(file: &Path) -> Option<ParentLink> {
    let name = file.file_name()?.to_string_lossy().into_owned();
    if !name.starts_with("agent-") {
        return None;
    }
    Some(ParentLink {
        session_id: session_of(file)?,
        event_id: None,
        depth: 0,
    })
}
