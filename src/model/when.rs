//! The words that name the forms of time a period's ends take (`--since`, `--until`, the MCP
//! tools' `since`), one text for every help and schema.

/// The forms of time every `--since` and `--until` takes, as the command line's `instant` reads
/// them: each command's help and each MCP tool's schema names them with these words, so that
/// none names fewer than the parser takes (`--since`'s help named dates and ages, not RFC 3339
/// times nor "7 days ago"; the MCP tools' `since`, no "7 days ago").
macro_rules! when_forms {
    () => {
        "a date (2026-11-25, local time), a time (RFC 3339: 2026-11-25T10:00:00Z, \
         2026-11-25T11:00:00+01:00) or an age (30m, 12h, 7d, 2w, \"7 days ago\"; days and \
         weeks are local days)"
    };
}
pub(crate) use when_forms;
