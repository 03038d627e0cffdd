//! The exit codes, stable so that scripts and CI gates can rely on them.

/// Success.
pub const OK: u8 = 0;
/// The command worked and found something to report (reserved for gates such as lint/audit).
pub const FINDINGS: u8 = 1;
/// Bad usage: an unknown flag, or a session that cannot be selected (none, unknown, ambiguous).
pub const USAGE: u8 = 2;
/// The input is unusable: a corrupt `meta.json`, a file that is not what it should be.
pub const INPUT: u8 = 3;
/// Reading or writing failed.
pub const IO: u8 = 4;
/// A bug in agent-strace (a Rust panic exits with this code too).
pub const INTERNAL: u8 = 101;
/// `record` could not run the MCP server's command, as a shell says it.
pub const COMMAND_NOT_FOUND: u8 = 127;

// `record` otherwise exits with the MCP server's own exit code, and `hook` always with OK: a
// tracer never fails the agent it traces.
