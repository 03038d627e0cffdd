//! `setup`: the Claude Code hooks block that records sessions, printed or merged into
//! settings.json.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::{Map, Value, json};

use super::Globals;
use super::output::stdout;
use super::settings_file::{self, RawObject};
use crate::capture::hooks::HOOK_ARGS;
use crate::error::Error;
use crate::exit;

/// Print (or, with --write, install) the Claude Code hooks that record every session
///
/// Without --write, prints the block to paste into .claude/settings.json. With --write, merges
/// it into that file: every other setting and hook is kept, a backup is taken first, and
/// running it again changes nothing.
// Flags of a command line, each independent of the others: not a state machine.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace setup                    # print the hooks for .claude/settings.json\n  agent-strace setup --write            # merge them into .claude/settings.json\n  agent-strace setup --global --write   # all projects\n  agent-strace setup --no-redact --write  # record secrets as they are"
)]
pub(crate) struct SetupArgs {
    /// For all projects: ~/.claude/settings.json ($CLAUDE_CONFIG_DIR/settings.json when set)
    /// instead of ./.claude/settings.json
    #[arg(long)]
    global: bool,
    /// Record with secret redaction on (the default; written into the hooks all the same)
    #[arg(long, overrides_with = "no_redact")]
    redact: bool,
    /// Record secrets as they are: no redaction
    #[arg(long, overrides_with = "redact")]
    no_redact: bool,
    /// Record with personal data masked: emails, phone numbers, card numbers, US SSNs, AWS ARNs
    #[arg(long)]
    mask: bool,
    /// Record with what this regular expression matches redacted too (repeatable)
    #[arg(long, value_name = "REGEX")]
    redact_pattern: Vec<String>,
    /// Merge the hooks into the settings file instead of printing them
    #[arg(long)]
    write: bool,
    /// The command Claude Code should run [default: agent-strace when a standard PATH finds this
    /// binary by that name, else its absolute path]
    #[arg(long, value_name = "PATH")]
    bin: Option<String>,
    /// The settings file to write [default: by --global]
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Enforce this policy file in the hooks (its absolute path is written into them) [default:
    /// the hooks enforce the nearest .agent-scope.json of the project, if any]
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

/// Events whose hooks take a tool-name matcher; an empty matcher matches every tool.
const TOOL_EVENTS: [&str; 4] = [
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "PermissionRequest",
];

pub(crate) fn run(args: &SetupArgs, globals: &Globals) -> Result<u8> {
    let (bin, why_full_path) = match &args.bin {
        Some(bin) => (bin.clone(), None),
        None => hook_command(),
    };
    // A pattern the hooks cannot compile would make every hook fail: refuse it here.
    super::globals::compile_patterns(&args.redact_pattern).map_err(super::output::usage)?;
    let mut flags = privacy_flags(args);
    if let Some(policy) = &args.policy {
        // A policy the hooks could not read would block nothing: refuse it here.
        let cwd = std::env::current_dir()?;
        super::policy::InForce::find(&cwd, Some(policy))
            .map_err(|e| super::policy::policy_error(&e))?;
        let path = std::path::absolute(cwd.join(policy))?;
        flags.push_str(" --policy '");
        flags.push_str(&path.to_string_lossy().replace('\'', r"'\''"));
        flags.push('\'');
    }
    let hooks = hooks_block(&bin, &flags);
    let mut out = stdout(globals.colour());
    if !args.write {
        crate::render::json::write(&mut out, &json!({ "hooks": hooks }))?;
        let target = settings_path(args)?;
        writeln!(
            out,
            "\nPaste this into {} (or run again with --write).",
            target.display()
        )?;
        if let Some(why) = &why_full_path {
            writeln!(out, "{why}")?;
        }
        writeln!(out, "{}", redaction_note(args))?;
        out.flush()?;
        return Ok(exit::OK);
    }
    let path = settings_path(args)?;
    // A settings.json that links elsewhere (dotfiles) is changed where it lives.
    let target = settings_file::through_links(&path)
        .with_context(|| format!("cannot follow {}", path.display()))?;
    let (existing, mode) = match std::fs::read_to_string(&target) {
        Ok(text) => {
            let mode = std::fs::metadata(&target).map_or(0o644, |m| m.permissions().mode());
            (Some(text), mode)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, 0o644),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(Error::input(format!("{} is not UTF-8 text", target.display())).into());
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", target.display())),
    };
    let mut settings = RawObject::parse(existing.as_deref().unwrap_or_default()).map_err(|e| {
        Error::input(format!(
            "{} is not a valid JSON object ({e})",
            target.display()
        ))
        .with_hint("fix it or move it away first")
    })?;
    let hooks_before = match settings.get("hooks").transpose() {
        Ok(hooks) => hooks,
        Err(e) => return Err(Error::input(format!("{}: `hooks` ({e})", target.display())).into()),
    };
    let mut root = json!({});
    if let Some(hooks) = hooks_before {
        root["hooks"] = hooks;
    }
    let changed = merge(&mut root, &hooks, &bin)
        .map_err(|e| Error::input(format!("cannot merge hooks into {}: {e}", target.display())))?;
    if !changed {
        writeln!(
            out,
            "{} already records with agent-strace; nothing changed.",
            path.display()
        )?;
        if let Some(why) = &why_full_path {
            writeln!(out, "{why}")?;
        }
        writeln!(out, "{}", redaction_note(args))?;
        out.flush()?;
        return Ok(exit::OK);
    }
    settings.set("hooks", &root["hooks"])?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    if let Some(text) = &existing {
        let backup = settings_file::back_up(&target, text, mode)
            .with_context(|| format!("cannot back up {}", target.display()))?;
        writeln!(
            out,
            "Backed up {} to {}",
            target.display(),
            backup.display()
        )?;
    }
    settings_file::replace(&target, &settings.to_text())
        .with_context(|| format!("cannot write {}", target.display()))?;
    writeln!(
        out,
        "Claude Code sessions will be recorded: hooks written to {}",
        target.display()
    )?;
    if let Some(why) = &why_full_path {
        writeln!(out, "{why}")?;
    }
    writeln!(out, "{}", redaction_note(args))?;
    out.flush()?;
    Ok(exit::OK)
}

/// Folders on every PATH, whatever started Claude Code: a terminal, a desktop launcher or an IDE
/// that never read the shell's profile (systemd's and launchd's defaults).
const STANDARD_PATH: [&str; 6] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// The command hooks run: `agent-strace` when that name finds this very binary on a standard
/// PATH, else this binary's absolute path, with a sentence saying why (a PATH set in a shell's
/// profile, `~/.cargo/bin` say, is not there when Claude Code is started from a desktop).
fn hook_command() -> (String, Option<String>) {
    use std::os::unix::fs::MetadataExt;
    let Ok(exe) = std::env::current_exe() else {
        return ("agent-strace".to_owned(), None);
    };
    let Ok(me) = std::fs::metadata(&exe) else {
        return ("agent-strace".to_owned(), None);
    };
    let on_path = STANDARD_PATH.iter().any(|dir| {
        std::fs::metadata(std::path::Path::new(dir).join("agent-strace"))
            .is_ok_and(|m| m.dev() == me.dev() && m.ino() == me.ino())
    });
    if on_path {
        return ("agent-strace".to_owned(), None);
    }
    let shown = exe.display().to_string();
    let folder = exe
        .parent()
        .map_or_else(String::new, |p| p.display().to_string());
    (
        shell_word(&shown),
        Some(format!(
            "The hooks run {shown} by its full path: {folder} is not on the standard PATH ({}) that Claude Code may run hooks with.",
            STANDARD_PATH.join(":")
        )),
    )
}

/// `text` as one word for the shell that runs hook commands: quoted when it has to be.
fn shell_word(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._+-@%:,=".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

fn settings_path(args: &SetupArgs) -> Result<PathBuf> {
    if let Some(path) = &args.settings {
        return Ok(path.clone());
    }
    if args.global {
        // Claude Code reads its user settings from `CLAUDE_CONFIG_DIR ?? ~/.claude`, the value
        // taken whole (one folder, resolved from the current directory).
        if let Some(dir) = std::env::var_os("CLAUDE_CONFIG_DIR") {
            let dir = std::path::absolute(&dir).unwrap_or_else(|_| PathBuf::from(dir));
            return Ok(dir.join("settings.json"));
        }
        let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else {
            bail!("--global needs $HOME to find ~/.claude/settings.json");
        };
        return Ok(PathBuf::from(home).join(".claude").join("settings.json"));
    }
    Ok(PathBuf::from(".claude").join("settings.json"))
}

/// What the hooks do with secrets, said plainly.
fn redaction_note(args: &SetupArgs) -> &'static str {
    if args.no_redact {
        "Secrets (keys, tokens, passwords) will be written to .agent-traces as they are: run setup again without --no-redact to redact them."
    } else {
        "Secrets (keys, tokens, passwords) are replaced with [REDACTED] before anything reaches .agent-traces; --no-redact keeps them."
    }
}

/// The privacy flags the hooks are run with, each with a leading space, patterns quoted for the
/// shell that runs hook commands.
fn privacy_flags(args: &SetupArgs) -> String {
    let mut flags = String::new();
    if args.no_redact {
        flags.push_str(" --no-redact");
    } else if args.redact {
        flags.push_str(" --redact");
    }
    if args.mask {
        flags.push_str(" --mask");
    }
    for pattern in &args.redact_pattern {
        flags.push_str(" --redact-pattern '");
        flags.push_str(&pattern.replace('\'', r"'\''"));
        flags.push('\'');
    }
    flags
}

/// `{ "<Event>": [ { "matcher"?, "hooks": [ { "type": "command", "command": ... } ] } ] }`;
/// `flag` is what [`privacy_flags`] gives.
fn hooks_block(bin: &str, flag: &str) -> Map<String, Value> {
    HOOK_ARGS
        .iter()
        .map(|(arg, event)| {
            let name = event.wire_name();
            let mut group = Map::new();
            if TOOL_EVENTS.contains(&name) {
                group.insert("matcher".into(), "".into());
            }
            group.insert(
                "hooks".into(),
                json!([{ "type": "command", "command": format!("{bin} hook{flag} {arg}") }]),
            );
            (name.to_owned(), Value::Array(vec![Value::Object(group)]))
        })
        .collect()
}

/// Whether a hook command is one of ours for the given `hook <arg>`: `bin`, or any program
/// named agent-strace (by name or path, quoted or not), then `hook … <arg>`.
fn is_ours(command: &str, bin: &str, arg: &str) -> bool {
    let command = command.trim();
    let rest: Vec<&str> = if let Some(rest) = command.strip_prefix(bin) {
        rest.split_whitespace().collect()
    } else {
        let words: Vec<&str> = command.split_whitespace().collect();
        let Some(program) = words
            .iter()
            .position(|w| w.trim_end_matches(['\'', '"']).ends_with("agent-strace"))
        else {
            return false;
        };
        words[program + 1..].to_vec()
    };
    rest.first() == Some(&"hook") && rest.last() == Some(&arg)
}

/// Merges our hooks into `settings`, keeping everything else. Returns whether anything changed.
fn merge(settings: &mut Value, ours: &Map<String, Value>, bin: &str) -> Result<bool> {
    let Value::Object(root) = settings else {
        bail!("the settings are not a JSON object")
    };
    let hooks = root
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(hooks) = hooks else {
        bail!("`hooks` is not a JSON object")
    };
    let mut changed = false;
    for (event, groups) in ours {
        let wanted = &groups[0];
        let command = wanted["hooks"][0]["command"].as_str().unwrap_or_default();
        let arg = command.rsplit(' ').next().unwrap_or_default();
        let list = hooks
            .entry(event.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(list) = list else {
            bail!("`hooks.{event}` is not a list")
        };
        let mut found = false;
        for group in list.iter_mut() {
            let Some(entries) = group.get_mut("hooks").and_then(Value::as_array_mut) else {
                continue;
            };
            for entry in entries.iter_mut() {
                let Some(existing) = entry.get("command").and_then(Value::as_str) else {
                    continue;
                };
                if is_ours(existing, bin, arg) {
                    found = true;
                    if existing != command {
                        entry["command"] = command.into();
                        changed = true;
                    }
                }
            }
        }
        if !found {
            list.push(wanted.clone());
            changed = true;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_other_hooks_and_is_idempotent() {
        let mut settings = json!({
            "model": "opus",
            "hooks": { "PreToolUse": [ { "matcher": "Bash", "hooks": [ { "type": "command", "command": "lint.sh" } ] } ] }
        });
        let ours = hooks_block("agent-strace", "");
        assert!(merge(&mut settings, &ours, "agent-strace").unwrap());
        let once = settings.clone();
        assert!(!merge(&mut settings, &ours, "agent-strace").unwrap());
        assert_eq!(settings, once);
        assert_eq!(settings["model"], "opus");
        let pre = settings["hooks"]["PreToolUse"].as_array().unwrap();
        assert_eq!(pre.len(), 2);
        assert_eq!(pre[0]["hooks"][0]["command"], "lint.sh");
        assert_eq!(pre[1]["hooks"][0]["command"], "agent-strace hook pre-tool");
        // Turning redaction on updates our entries in place.
        assert!(
            merge(
                &mut settings,
                &hooks_block("agent-strace", " --redact"),
                "agent-strace"
            )
            .unwrap()
        );
        assert_eq!(
            settings["hooks"]["PreToolUse"][1]["hooks"][0]["command"],
            "agent-strace hook --redact pre-tool"
        );
        assert_eq!(settings["hooks"]["PreToolUse"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn every_hook_event_is_covered() {
        let block = hooks_block("agent-strace", "");
        assert_eq!(block.len(), HOOK_ARGS.len());
        assert!(block.contains_key("PostToolUseFailure"));
        assert_eq!(block["PreToolUse"][0]["matcher"], "");
        assert!(block["Stop"][0].get("matcher").is_none());
    }

    #[test]
    fn our_commands_are_recognised_by_name_or_path() {
        for command in [
            "agent-strace hook pre-tool",
            "/home/me/.cargo/bin/agent-strace hook --redact pre-tool",
            "'/home/me/my hooks/agent-strace' hook pre-tool",
            "/home/me/hooks/agent-strace hook pre-tool",
        ] {
            assert!(
                is_ours(command, "/elsewhere/agent-strace", "pre-tool"),
                "{command}"
            );
        }
        assert!(!is_ours("./guard.sh pre-tool", "agent-strace", "pre-tool"));
        assert!(!is_ours(
            "agent-strace hook post-tool",
            "agent-strace",
            "pre-tool"
        ));
        assert_eq!(shell_word("/usr/bin/agent-strace"), "/usr/bin/agent-strace");
        assert_eq!(shell_word("/my dir/it's"), r"'/my dir/it'\''s'");
    }
}
