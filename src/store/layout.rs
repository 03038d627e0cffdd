//! File names inside the store and what makes a session id safe to use as a folder name.

pub(crate) const META: &str = "meta.json";
pub(crate) const EVENTS: &str = "events.ndjson";
/// The session's lock, and what its holder keeps there: the counters folded so far.
pub(crate) const COUNTERS: &str = ".counters";
pub(crate) const PENDING: &str = ".pending";
pub(crate) const HOOK_ERRORS: &str = "hook-errors.log";
pub(crate) const GITIGNORE: &str = ".gitignore";
/// The session index (a cache, see [`super::index`]); hidden, so no listing takes it for a
/// session.
pub(crate) const INDEX: &str = ".index.sqlite";

/// A session id names a folder, so it must be one plain path component. Claude Code's ids are
/// UUIDs; the Python tool's are hex; both pass. Anything that could climb out of the store or
/// hide (`..`, `/`, a leading dot, control characters) does not.
pub fn is_valid_session_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 200
        && !id.starts_with('.')
        && !id.contains(['/', '\\'])
        && !id.chars().any(char::is_control)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_escape_or_hide_are_refused() {
        assert!(is_valid_session_id("3f2a1c9e-1b2c-4d5e-8f90-123456789abc"));
        assert!(is_valid_session_id("a84664242afa4516"));
        for bad in ["", ".", "..", "../x", "a/b", ".hidden", "a\nb", "a\\b"] {
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
}
