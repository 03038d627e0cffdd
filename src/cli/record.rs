//! `record -- <command>`: put agent-strace between an MCP client and a stdio MCP server.

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;

use super::Globals;
use crate::capture::proxy::mcp::{McpOptions, McpRecorder};
use crate::capture::proxy::stdio::relay;
use crate::store::Store;

/// Record an MCP server's stdio session: runs the server and relays its traffic unchanged
///
/// Put it in front of the server's command in any MCP client's config. What passes is never
/// changed; every message is recorded (tool calls and results linked by JSON-RPC id, with their
/// durations). The server's stderr passes through, and record exits with the server's code.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace record --name fs -- npx -y @modelcontextprotocol/server-filesystem /tmp\n  In an MCP client config:\n    \"command\": \"agent-strace\",\n    \"args\": [\"record\", \"--name\", \"fs\", \"--\", \"npx\", \"-y\", \"@modelcontextprotocol/server-filesystem\", \"/tmp\"]"
)]
pub(crate) struct RecordArgs {
    /// A name for the server in listings [default: the command's name]
    #[arg(long, value_name = "LABEL")]
    name: Option<String>,
    #[command(flatten)]
    privacy: PrivacyArgs,
    /// The MCP server's command and its arguments
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// What the proxies keep off disk; `record` and `record-http` share these flags.
#[derive(Debug, Args)]
pub(crate) struct PrivacyArgs {
    /// Replace secrets with [REDACTED] before writing (also: AGENT_STRACE_REDACT=1)
    #[arg(long)]
    redact: bool,
    /// Mask personal data before writing: emails, phone numbers, card numbers, US SSNs, AWS ARNs
    #[arg(long)]
    mask: bool,
    /// Also redact what this regular expression matches (repeatable)
    #[arg(long, value_name = "REGEX")]
    redact_pattern: Vec<String>,
}

impl PrivacyArgs {
    /// The recorder's options, or the exit code after saying which pattern is wrong.
    pub(super) fn options(&self) -> Result<McpOptions, ExitCode> {
        let patterns = self
            .redact_pattern
            .iter()
            .map(|text| {
                regex::Regex::new(text).map_err(|e| {
                    eprintln!(
                        "error: --redact-pattern `{text}` is not a valid regular expression: {e}"
                    );
                    ExitCode::from(crate::exit::USAGE)
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(McpOptions {
            redact: self.redact || super::globals::redact_from_env(),
            mask: self.mask,
            patterns,
            new_id: super::hook::new_event_id,
        })
    }
}

/// `text` as it may be written: a command line or a URL can carry a key.
pub(super) fn as_recorded(text: &str, opts: &McpOptions) -> String {
    if opts.redact {
        crate::redact::redact_str(text).into_owned()
    } else {
        text.to_owned()
    }
}

pub(super) fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

pub(crate) fn run(args: &RecordArgs, globals: &Globals) -> ExitCode {
    let command_line: Vec<String> = args
        .command
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let name = args.name.clone().unwrap_or_else(|| {
        std::path::Path::new(&command_line[0])
            .file_name()
            .map_or_else(
                || command_line[0].clone(),
                |n| n.to_string_lossy().into_owned(),
            )
    });
    let opts = match args.privacy.options() {
        Ok(opts) => opts,
        Err(code) => return code,
    };
    let store = Store::new(globals.store_root());
    let session = uuid::Uuid::new_v4().to_string();
    // The command as a list of arguments, as the Python tool writes it.
    let mut about = serde_json::Map::new();
    let arguments: Vec<serde_json::Value> = command_line
        .iter()
        .map(|a| as_recorded(a, &opts).into())
        .collect();
    about.insert("command".into(), arguments.into());
    // A store that cannot be written must not keep the server from the client.
    let recorder = match McpRecorder::start(
        &store,
        &session,
        &name,
        &as_recorded(&command_line.join(" "), &opts),
        about,
        now(),
        opts,
    ) {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!("agent-strace record: not recording ({e}); relaying anyway");
            None
        }
    };
    match relay(&args.command, recorder, now) {
        Ok(code) => ExitCode::from(u8::try_from(code.clamp(0, 255)).unwrap_or(1)),
        Err(e) => {
            eprintln!("error: cannot run {}: {e}", command_line[0]);
            ExitCode::from(127)
        }
    }
}
