//! The exit codes, stable so that scripts and CI gates can rely on them. This is the one table:
//! README's "Exit codes" says the same, `error::ErrorKind` maps every failure onto it, and
//! `tests/exit_codes.rs` runs the binary into each code.

/// Success (also when the reader of our output went away, as in `replay | head`).
pub const OK: u8 = 0;
/// The command worked and found something to report (reserved for gates such as lint/audit).
pub const FINDINGS: u8 = 1;
/// Bad usage: an unknown flag, or something named that is not there: no store, no session
/// matching (or several), a file or folder named on the command line that does not exist
/// (the folder of an `--output` file included, and an `--output` or `dashboard --html` name
/// ending in `/` that is no folder), a file named by `--project`, which takes a folder; a `sql` query refused, failing, or stopped past its `--max-memory` or `--timeout`;
/// no $HOME to find the user's files by (`setup --global`; `import --discover` or `--all` of an
/// agent named by `--agent` whose own folder variable is unset) (what to change is how it is called).
pub const USAGE: u8 = 2;
/// The input is there but unusable: a policy, eval, lint, watch-rules or agent settings file
/// that does not parse or names an unknown key (or a policy with a blank entry in a list or a
/// command rule no command can meet, or a watch rule that could never fire),
/// settings that send telemetry elsewhere
/// (`setup --otel`), a corrupt `meta.json` with no events to show instead (not JSON, not
/// UTF-8), a file that is not a transcript, a link, FIFO or device where the store
/// keeps a file, a store or session folder that is a link owned by someone else, a retention
/// `log_path` that is refused (outside the project, in `.git`, a file that is not the log).
pub const INPUT: u8 = 3;
/// Reading or writing failed: permissions, a full disk, a file size limit; an endpoint that
/// refused what was sent, or took only part of it (OTLP's partial success).
pub const IO: u8 = 4;
/// A bug in agent-strace (a Rust panic exits with this code too).
pub const INTERNAL: u8 = 101;
/// `record` found the MCP server's command but could not run it (not executable, a folder,
/// permission denied), as a shell says it.
pub const COMMAND_NOT_EXECUTABLE: u8 = 126;
/// `record` could not find the MCP server's command, as a shell says it.
pub const COMMAND_NOT_FOUND: u8 = 127;

// `record` otherwise exits with the MCP server's own exit code, `record-http` stopped by a
// signal with OK, and `hook` always with OK: a tracer never fails the agent it traces.
