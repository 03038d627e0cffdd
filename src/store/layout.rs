//! File names inside the store and what makes a session id safe to use as a folder name.

/// The version of the store's format: the layout and event lines of adr/0001, which are the
/// Python agent-strace's (that tool numbers no format of its own). A change that an older
/// reader could not read bumps it.
pub const STORE_FORMAT: u32 = 1;

pub(crate) const META: &str = "meta.json";
/// A `meta.json` that could not be read as a session's metadata, set aside when a writer
/// replaced it ([`super::Store::describe_session`]); the last one set aside.
pub(crate) const META_SET_ASIDE: &str = "meta.json.corrupt";
pub(crate) const EVENTS: &str = "events.ndjson";
/// The session's lock, and what its holder keeps there: the counters folded so far.
pub(crate) const COUNTERS: &str = ".counters";
pub(crate) const PENDING: &str = ".pending";
/// A model response whose chunks are still arriving ([`super::streaming`]); the name it takes
/// once its last chunk came, until the session's next event records it; and the name it is
/// moved to while it is folded into its event.
pub(crate) const RESPONSE: &str = ".response";
pub(crate) const RESPONSE_FINISHED: &str = ".response.finished";
pub(crate) const RESPONSE_TAKEN: &str = ".response.taken";
/// Held while a response is folded into its event (see [`super::lock::Step::Responses`]).
pub(crate) const RESPONSE_LOCK: &str = ".response.lock";
/// Held by a follower while it checks for and records a session's late answer.
pub(crate) const LATE_ANSWER_LOCK: &str = ".late-answer.lock";
/// What an import read of its transcript (opaque to the store: the importer's record).
pub(crate) const IMPORT: &str = ".import";
pub(crate) const HOOK_ERRORS: &str = "hook-errors.log";
/// The keys of the lines the hook error log holds already and says only once
/// ([`super::Store::first_time_said`]), one a line in hex.
pub(crate) const HOOK_ERRORS_SAID: &str = ".hook-errors.said";
/// Held while [`HOOK_ERRORS_SAID`] is read and written again, so that of hooks racing to say
/// the same line exactly one says it.
pub(crate) const HOOK_ERRORS_SAID_LOCK: &str = ".hook-errors.lock";
/// The Python tool's labelled events, a file a label (`datasets/<label>.jsonl`).
pub(crate) const DATASETS: &str = "datasets";
/// The folder of the Python tool's workspaces: the store of a workspace is
/// `workspaces/<name>` inside the project's ([`workspace_root`]).
pub(crate) const WORKSPACES: &str = "workspaces";
/// Hook calls a collector may hold, waiting to be sent again ([`super::spool`]).
pub(crate) const SPOOL: &str = ".spool";
pub(crate) const GITIGNORE: &str = ".gitignore";
/// What the `.gitignore` a store writes when it makes its folder says: a folder whose
/// `.gitignore` starts so was made by a store ([`super::catalogue::is_store_folder`]).
pub(crate) const GITIGNORE_TEXT: &[u8] =
    b"# Traces hold prompts and tool output: keep them out of git.\n*\n";
/// A project's store folder's name.
pub const STORE_DIR: &str = ".agent-traces";
/// The session index (a cache, see [`super::index`]); hidden, so no listing takes it for a
/// session.
pub(crate) const INDEX: &str = ".index.sqlite";

/// The longest session id, in bytes. Folder names may be 255 bytes, but the store makes other
/// names from an id that must fit too: an import writes a session under
/// `.writing-<id>-<pid>-<n>` before renaming it, and a subagent's session is
/// `agent-<agent>-<id>`.
pub const MAX_SESSION_ID_BYTES: usize = 200;

/// A session id names a folder, so it must be one plain path component. Claude Code's ids are
/// UUIDs; the Python tool's are hex; both pass. Anything that could climb out of the store or
/// hide (`..`, `/`, a leading dot, control characters), or make two ids look alike or one look
/// like another on screen (bidirectional controls, zero-width and other invisible characters),
/// does not.
pub fn is_valid_session_id(id: &str) -> bool {
    if id.is_empty() || id.len() > MAX_SESSION_ID_BYTES || id.starts_with('.') {
        return false;
    }
    if is_store_file(id) || id.trim().is_empty() {
        return false;
    }
    // Nearly every id is printable ASCII, which one pass over its bytes settles (a listing
    // checks ten thousand of them).
    if id
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'/' && b != b'\\')
    {
        return true;
    }
    !id.contains(['/', '\\']) && !id.chars().any(|c| c.is_control() || is_invisible(c))
}

/// Whether `id` is the name of a file the store keeps beside its sessions (the hooks' log and
/// the one it rotates into, the retention log, the Python tool's datasets): a session of that
/// name would take its place.
fn is_store_file(id: &str) -> bool {
    id == HOOK_ERRORS
        || id.strip_prefix(HOOK_ERRORS) == Some(".1")
        || id == super::retention::RETENTION_LOG
        || id == DATASETS
        || id == WORKSPACES
}

/// The longest workspace name, in bytes, as the Python tool takes one.
const MAX_WORKSPACE_BYTES: usize = 128;

/// A workspace name as the Python tool takes one (`AGENT_STRACE_WORKSPACE`): 1 to 128 ASCII
/// letters, digits, dots, underscores and hyphens, the first a letter or digit. It names a
/// folder, so nothing else (a slash, `..`) may be in it.
pub fn is_valid_workspace_name(name: &str) -> bool {
    name.len() <= MAX_WORKSPACE_BYTES
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The store of the workspace `name` of the project store `root`, where the Python tool keeps
/// the sessions it records with `AGENT_STRACE_WORKSPACE` set (`name` is valid,
/// [`is_valid_workspace_name`]).
pub fn workspace_root(root: &std::path::Path, name: &str) -> std::path::PathBuf {
    root.join(WORKSPACES).join(name)
}

/// The workspace this process records in and reads, when `AGENT_STRACE_WORKSPACE` names one
/// ([`use_workspace`]).
static WORKSPACE_IN_USE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Says that this process uses the workspace `name` (the command line read it from
/// `AGENT_STRACE_WORKSPACE`): only then is a store at `<store>/workspaces/<name>` a workspace's
/// ([`workspace_in_use`]), made with the folders around it and reached through its project's
/// store. A store the user named that merely ends so (`--trace-dir ~/workspaces/ci`) stays a
/// store as any other. The first name said holds for the process.
pub fn use_workspace(name: &str) {
    let _ = WORKSPACE_IN_USE.set(name.to_owned());
}

/// The workspace this process uses ([`use_workspace`]), if any.
pub(crate) fn workspace_in_use() -> Option<&'static str> {
    WORKSPACE_IN_USE.get().map(String::as_str)
}

/// Why `id` is not a usable session id (see [`is_valid_session_id`]), in words that end "its
/// name …"; `None` when it is one.
pub fn why_unusable(id: &str) -> Option<String> {
    if is_valid_session_id(id) {
        return None;
    }
    Some(if id.is_empty() {
        "its name is empty".to_owned()
    } else if id.len() > MAX_SESSION_ID_BYTES {
        format!(
            "its name is {} bytes long, and a session id is at most {MAX_SESSION_ID_BYTES} (the \
             names the store makes from an id must fit in a folder name)",
            id.len()
        )
    } else if id.starts_with('.') {
        "its name starts with a dot, which hides it".to_owned()
    } else if is_store_file(id) {
        "its name is that of a file the store keeps beside its sessions".to_owned()
    } else if id.trim().is_empty() {
        "its name is only blanks, which no command can name".to_owned()
    } else if id.contains(['/', '\\']) {
        "its name holds a slash or a backslash".to_owned()
    } else {
        "its name holds a control character or one that is not drawn".to_owned()
    })
}

/// Characters that change how text is drawn without being drawn: the bidirectional controls
/// (which can reverse what follows them) and Unicode's default-ignorable code points
/// (zero-width spaces and joiners, word joiners, soft hyphens, fillers, variation selectors,
/// tags, the byte order mark).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// The session id of subagent `agent` of session `parent`: `agent-<agent>-<parent>`, as hooks,
/// import and the Python tool name it. An agent id that cannot be part of a folder name (a `/`,
/// a control character, too long) is replaced by its first safe characters and a stable hash of
/// the whole id, so one subagent always gets the same session; `None` when even that is too
/// long (the parent's id is).
pub fn subagent_session_id(agent: &str, parent: &str) -> Option<String> {
    let plain = format!("agent-{agent}-{parent}");
    if is_valid_session_id(&plain) {
        return Some(plain);
    }
    let safe: String = agent
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(24)
        .collect();
    let hash = super::pending::fnv1a(agent.as_bytes());
    let id = format!("agent-{safe}-h{hash:016x}-{parent}");
    is_valid_session_id(&id).then_some(id)
}

/// The parent session a subagent's session id names, by the shapes the store gives such ids:
/// `agent-<agent>-<parent>` ([`subagent_session_id`], as hooks and imports name a subagent)
/// and `task-<call>-<parent>` (the subagent of a Task call whose agent sent no subagent hooks),
/// with, for the latter, the id of the event of the call that spawned it. For a session whose
/// `meta.json` is lost and whose events name no parent. Agent ids and parent ids may both
/// hold a `-`, so the parent is the longest tail after a `-` that `is_session` says is a
/// session of the store; `None` when no tail is.
pub(crate) fn parent_named_by(
    id: &str,
    is_session: impl Fn(&str) -> bool,
) -> Option<(&str, Option<&str>)> {
    let (rest, task) = match id.strip_prefix("agent-") {
        Some(rest) => (rest, false),
        None => (id.strip_prefix("task-")?, true),
    };
    rest.match_indices('-')
        .map(|(at, _)| (&rest[..at], &rest[at + 1..]))
        .find(|(head, parent)| !head.is_empty() && !parent.is_empty() && is_session(parent))
        .map(|(head, parent)| (parent, task.then_some(head)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_escape_or_hide_are_refused() {
        assert!(is_valid_session_id("3f2a1c9e-1b2c-4d5e-8f90-123456789abc"));
        assert!(is_valid_session_id("a84664242afa4516"));
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            ".hidden",
            "a\nb",
            "a\\b",
            "abc\u{202E}fdp.exe",
            "\u{200B}",
            "a\u{200D}b",
            "\u{2066}x\u{2069}",
            "\u{FEFF}id",
            "id\u{E0041}",
        ] {
            assert!(!is_valid_session_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn subagent_ids_that_cannot_name_a_folder_are_made_safe_and_stay_distinct() {
        assert_eq!(
            subagent_session_id("a1b2", "s").as_deref(),
            Some("agent-a1b2-s")
        );
        let slash = subagent_session_id("x/../y", "s").unwrap();
        let long = subagent_session_id(&"z".repeat(300), "s").unwrap();
        for id in [&slash, &long] {
            assert!(is_valid_session_id(id), "{id}");
        }
        assert!(slash.starts_with("agent-xy-h") && slash.ends_with("-s"));
        assert_eq!(subagent_session_id("x/../y", "s").unwrap(), slash);
        assert_ne!(subagent_session_id("x/../z", "s").unwrap(), slash);
        assert_eq!(subagent_session_id("a", &"p".repeat(195)), None);
    }

    #[test]
    fn the_parent_a_subagent_id_names_is_the_longest_tail_that_is_a_session() {
        let sessions = ["3f2a1c9e-1b2c-4d5e", "4d5e", "par1"];
        let is_session = |id: &str| sessions.contains(&id);
        assert_eq!(
            parent_named_by("agent-a1b2-3f2a1c9e-1b2c-4d5e", is_session),
            Some(("3f2a1c9e-1b2c-4d5e", None))
        );
        assert_eq!(
            parent_named_by("task-b16f0f56334b-par1", is_session),
            Some(("par1", Some("b16f0f56334b")))
        );
        let hashed = subagent_session_id("x/../y", "par1").unwrap();
        assert_eq!(parent_named_by(&hashed, is_session), Some(("par1", None)));
        for none in [
            "agent-a1b2-gone",
            "par1",
            "agent--par1",
            "agent-par1",
            "other-a-par1",
        ] {
            assert_eq!(parent_named_by(none, is_session), None, "{none}");
        }
    }
}
