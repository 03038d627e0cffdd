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
}
