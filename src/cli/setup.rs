//! `setup`: the Claude Code hooks block that records sessions, printed or merged into
//! settings.json.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::{Map, Value, json};

use super::Globals;
use super::output::stdout;
use super::settings;
use super::settings_file::{self, RawObject};
use super::setup_agents::{self, Env, SetupAgent, Shape};
use super::setup_layers;
use super::setup_off;
use super::setup_otel;
use super::setup_ours::{OurHook, Ours, is_ours, our_command};
use super::setup_token::{self, Local};
use crate::capture::hooks::HOOK_ARGS;
use crate::capture::hooks::claude_code::{self, Version};
use crate::error::Error;
use crate::exit;
use crate::store::Store;

/// Print (or, with --write, install) the Claude Code hooks that record every session
///
/// Without --write, prints the block to paste into .claude/settings.json (alone on stdout, what
/// to know of it on stderr). With --write, merges it into that file: every other setting and
/// hook is kept, a backup is taken first, and running it again changes nothing.
// Flags of a command line, each independent of the others: not a state machine.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace setup                    # print the hooks for .claude/settings.json\n  agent-strace setup --write            # merge them into .claude/settings.json\n  agent-strace setup --global --write   # all projects\n  agent-strace setup --no-redact --write  # record secrets as they are\n  agent-strace setup --global --trace-dir ~/traces --write  # all projects' sessions, one store\n  agent-strace setup --agent cursor --write  # Cursor's .cursor/hooks.json\n  agent-strace setup --detect           # which agents are here, and what would be written\n  agent-strace setup --otel --write     # and send Claude Code's telemetry to `agent-strace server`\n  agent-strace setup --otel --replace-otel --write  # instead of the OTLP backend the settings name"
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
    /// Record with what this regular expression matches in values redacted too, never in field
    /// names (repeatable)
    #[arg(long, value_name = "REGEX")]
    redact_pattern: Vec<String>,
    /// Merge the hooks into the settings file instead of printing them
    #[arg(long)]
    write: bool,
    /// The command Claude Code should run [default: agent-strace when a standard PATH finds this
    /// binary by that name, else its absolute path]
    #[arg(long, value_name = "PATH")]
    bin: Option<String>,
    /// The settings file to write [default: by --agent and --global]
    #[arg(long, value_name = "FILE", conflicts_with = "detect")]
    settings: Option<PathBuf>,
    /// The agent to record: its own hook file is written (project: .claude/settings.json,
    /// .cursor/hooks.json, .gemini/settings.json, .codex/hooks.json,
    /// .github/hooks/agent-strace.json, .github/hooks/agent-strace-vscode.json)
    /// [default: claude-code]
    #[arg(long, value_enum, value_name = "AGENT")]
    agent: Option<SetupAgent>,
    /// Find the agents of this user and project (their folders, their programs on PATH), say
    /// what would be written, and with --write set up each
    #[arg(long, conflicts_with = "agent")]
    detect: bool,
    /// Enforce this policy file in the hooks (its absolute path is written into them) [default:
    /// the hooks enforce the nearest .agent-scope.json of the project, if any]
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Also send Claude Code's own telemetry (model requests with exact tokens, tool timings) to
    /// agent-strace's collector (`server`), which joins it into the recorded sessions: writes
    /// the settings' env block (with AGENT_STRACE_TOKEN as the bearer token when set, kept in
    /// .claude/settings.local.json beside a project's settings.json)
    #[arg(long, conflicts_with = "detect")]
    otel: bool,
    /// The collector --otel sends to [default: http://127.0.0.1:4317]
    #[arg(long, value_name = "URL", requires = "otel")]
    endpoint: Option<String>,
    /// With --otel --write: replace the settings' own OTLP endpoint and headers (another
    /// backend's, which setup otherwise refuses to touch) and remove their per-signal ones
    #[arg(long, requires = "otel")]
    replace_otel: bool,
}

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
        let path = settings::resolved(&cwd.join(policy))?;
        flags.push_str(" --policy '");
        flags.push_str(&path.to_string_lossy().replace('\'', r"'\''"));
        flags.push('\'');
    }
    let store = hooks_store(globals)?;
    super::stores::warn_if_open_to_others(&Store::new(
        store.clone().unwrap_or_else(|| globals.store_root()),
    ));
    if let Some(store) = &store {
        flags.push_str(" --trace-dir '");
        flags.push_str(&store.to_string_lossy().replace('\'', r"'\''"));
        flags.push('\'');
    }
    let env = Env::read();
    let otel = otel_env(args)?;
    let mut out = stdout(globals.colour());
    let plan = Plan {
        args,
        bin: &bin,
        flags: &flags,
        why_full_path: why_full_path.as_deref(),
        env: &env,
        otel: otel.as_ref(),
        store: store.as_deref(),
    };
    if args.detect {
        let cwd = std::env::current_dir()?;
        return detect(&plan, &cwd, &mut out);
    }
    let agent = args.agent.unwrap_or(SetupAgent::ClaudeCode);
    let path = match &args.settings {
        Some(path) => path.clone(),
        None => agent.path(args.global, &env)?,
    };
    plan.one(agent, &path, &mut out)?;
    out.flush()?;
    Ok(exit::OK)
}

/// The store `--trace-dir` names for the hooks, as an absolute path (a hook runs in whatever
/// folder the agent is in), or the error of a store the hooks could not make: they would record
/// nothing, and say so only in a log inside that store.
fn hooks_store(globals: &Globals) -> Result<Option<PathBuf>> {
    let Some(dir) = &globals.trace_dir else {
        return Ok(None);
    };
    let dir = settings::resolved(dir)?;
    let usable = if dir.exists() {
        dir.is_dir()
    } else {
        // The store makes only its own folder, never the folders above it.
        dir.parent().is_some_and(Path::is_dir)
    };
    if !usable {
        return Err(Error::usage(format!(
            "--trace-dir {}: the hooks could not record there ({})",
            dir.display(),
            if dir.exists() {
                "it is no folder"
            } else {
                "the folder above it does not exist"
            }
        ))
        .with_hint("name a folder that exists, or one whose parent does")
        .into());
    }
    Ok(Some(dir))
}

/// `--otel`'s env block, or the usage error of an --otel that cannot be: another agent, or an
/// endpoint that is no URL.
fn otel_env(args: &SetupArgs) -> Result<Option<Map<String, Value>>> {
    if !args.otel {
        return Ok(None);
    }
    if args.agent.is_some_and(|a| a != SetupAgent::ClaudeCode) {
        return Err(super::output::usage(
            "--otel sets up Claude Code's telemetry; other agents send none that agent-strace reads",
        ));
    }
    let endpoint = args
        .endpoint
        .as_deref()
        .unwrap_or(setup_otel::DEFAULT_ENDPOINT);
    setup_otel::check_endpoint(endpoint).map_err(super::output::usage)?;
    let token = std::env::var("AGENT_STRACE_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    Ok(Some(setup_otel::env_block(endpoint, token.as_deref())))
}

/// What every agent's hooks share: the command they run and its flags.
struct Plan<'a> {
    args: &'a SetupArgs,
    bin: &'a str,
    flags: &'a str,
    why_full_path: Option<&'a str>,
    env: &'a Env,
    /// Claude Code's telemetry settings (`--otel`).
    otel: Option<&'a Map<String, Value>>,
    /// The store the hooks record into (`--trace-dir`), else each project's own.
    store: Option<&'a Path>,
}

impl Plan<'_> {
    /// The hooks of `agent`, printed, or with --write merged into `path`.
    fn one(&self, agent: SetupAgent, path: &Path, out: &mut impl Write) -> Result<()> {
        // Asked only where it is used: a release too old for some events gets none of them.
        let release = (agent == SetupAgent::ClaudeCode)
            .then(super::claude_release::installed)
            .flatten();
        let hooks = match agent {
            SetupAgent::ClaudeCode => hooks_block(
                self.bin,
                self.flags,
                Some(release.unwrap_or(claude_code::UNASKED_RELEASE)),
            ),
            _ => agent.hooks(self.bin, self.flags),
        };
        // Ours that a release asked does not take are taken off; with none to ask, ours an
        // earlier setup wrote where one answered stay.
        let left_out = release.map(left_out).unwrap_or_default();
        let mut unasked = if agent == SetupAgent::ClaudeCode && release.is_none() {
            self::left_out(claude_code::UNASKED_RELEASE)
        } else {
            Vec::new()
        };
        let key = match agent.shape() {
            Shape::Nested => "command",
            Shape::Flat(key) => key,
        };
        let others_disable = self.warn_of_other_layers(agent, path, &hooks);
        // --otel's env: what goes into `path`, and apart from it the entries that carry the
        // token, kept out of a project's shared (committed) settings.
        let otel = self.otel.map(|ours| {
            if setup_token::apart(ours, path, self.args.global || self.args.settings.is_some()) {
                let (shared, token) = setup_token::split(ours);
                (shared, Some(token))
            } else {
                (ours.clone(), None)
            }
        });
        if !self.args.write {
            // The file to paste into runs no hook while it says so, as `--write` warns.
            if let Some(off) = setup_off::hooks_off(agent, path, self.env) {
                off.warn();
            }
            let mut shown = Map::new();
            if agent.versioned() {
                shown.insert("version".into(), 1.into());
            }
            if let Some((shared, _)) = &otel {
                shown.insert("env".into(), Value::Object(shared.clone()));
            }
            shown.insert("hooks".into(), Value::Object(hooks));
            crate::render::json::write(&mut *out, &Value::Object(shown))?;
            out.flush()?;
            // The block alone is the output, so `setup > hooks.json` is JSON; what to know of
            // it goes to stderr, as every command's notes do.
            let notes = &mut std::io::stderr().lock();
            writeln!(
                notes,
                "\nPaste this into {} (or run again with --write).",
                path.display()
            )?;
            if let Some((_, Some(token))) = &otel {
                let local = json!({"env": token});
                crate::render::json::write(&mut *notes, &local)?;
                let local_path = path.with_file_name(setup_token::LOCAL_FILE);
                writeln!(
                    notes,
                    "\nAnd this, which holds AGENT_STRACE_TOKEN, into {}: Claude Code reads it over {}{}.",
                    local_path.display(),
                    path.display(),
                    if setup_token::ignored_or_warn(&local_path) {
                        ", and git ignores it"
                    } else {
                        ""
                    }
                )?;
            }
            left_out_note(release, &left_out, notes)?;
            unasked_note(&unasked, notes)?;
            let token_file = matches!(otel, Some((_, Some(_))))
                .then(|| path.with_file_name(setup_token::LOCAL_FILE));
            self.notes(agent, token_file.as_deref(), notes)?;
            return Ok(());
        }
        // A settings file that links elsewhere (dotfiles) is changed where it lives.
        let target = settings_file::through_links(path)
            .map_err(|e| unusable(e, format!("cannot follow {}", path.display())))?;
        // But a project's stays in the project: a cloned repository's link could name any
        // file of the user's, and a linked folder any folder.
        if !self.args.global && self.args.settings.is_none() {
            stays_in_project(path, &target)?;
        }
        // A file (or FIFO …) where the folder goes is no folder to write into: the lock said
        // only "File exists".
        if let Some(blocker) = target
            .parent()
            .into_iter()
            .flat_map(Path::ancestors)
            .filter(|f| !f.as_os_str().is_empty())
            .find(|f| f.exists())
            .filter(|f| !f.is_dir())
        {
            return Err(Error::input(format!(
                "{} is not a folder, so {} cannot be written",
                blocker.display(),
                target.display()
            ))
            .with_hint("move it away, or name another file with --settings FILE")
            .into());
        }
        // A folder that is a link to nothing is not made: the lock said only "File exists".
        if let Some(folder) = target.parent().filter(|f| !f.as_os_str().is_empty())
            && std::fs::symlink_metadata(folder).is_ok_and(|m| m.file_type().is_symlink())
            && !folder.exists()
        {
            return Err(Error::input(format!(
                "{} is a link to a folder that does not exist",
                folder.display()
            ))
            .with_hint("make the folder it names, or remove the link")
            .into());
        }
        if agent == SetupAgent::Codex && setup_agents::codex_toml_has_hooks(&target) {
            return Err(Error::input(format!(
                "{} declares hooks already, and Codex warns at every start when a folder has both a config.toml [hooks] table and a hooks.json",
                target.with_file_name("config.toml").display()
            ))
            .with_hint("run setup --agent codex without --write and put the hooks into config.toml yourself")
            .into());
        }
        // Held until the file is written: another setup into this folder waits its turn.
        let _lock = settings_file::lock_folder(&target)
            .with_context(|| format!("cannot lock the folder of {}", target.display()))?;
        let existing = settings_file::read(&target)
            .map_err(|e| unusable(e, format!("cannot read {}", target.display())))?;
        let (existing, mode) = match existing {
            Some(e) => (Some(e.text), e.mode),
            None => (None, 0o644),
        };
        let text = existing.as_deref().unwrap_or_default();
        let mut settings = RawObject::parse(text).map_err(|e| {
            // Gemini CLI and VS Code read their settings with comments (JSONC); a file of
            // theirs that holds some is no broken file.
            let hint = if has_comments(text) {
                "it holds comments, which the agent reads but setup cannot keep: take them out, \
                 or add the hooks by hand (setup without --write prints them)"
            } else {
                "fix it or move it away first"
            };
            Error::input(format!(
                "{} is not a valid JSON object ({e})",
                target.display()
            ))
            .with_hint(hint)
        })?;
        if let Some(event) = settings.repeated_in("hooks") {
            return Err(Error::input(format!(
                "{}: `hooks` names {event} more than once, and only its last list would be kept",
                target.display()
            ))
            .with_hint("join the lists into one")
            .into());
        }
        let hooks_before = match settings.get("hooks").transpose() {
            Ok(hooks) => hooks,
            Err(e) => {
                return Err(Error::input(format!("{}: `hooks` ({e})", target.display())).into());
            }
        };
        let mut root = json!({});
        if let Some(hooks) = hooks_before {
            root["hooks"] = hooks;
        }
        let merged = merge(&mut root, &hooks, self.bin, key).map_err(|e| {
            Error::input(format!("cannot merge hooks into {}: {e}", target.display()))
        })?;
        let mut changed = merged.changed;
        // Ours that an earlier setup wrote for a later release would keep the file rejected.
        changed |= forget(&mut root, &left_out, self.bin);
        // Not left out where ours is there already (written where a release answered): it
        // stays, and is not said to be missing. Ours is there where taking it off would change.
        unasked.retain(|event| !forget(&mut root.clone(), &[event], self.bin));
        let add_version = agent.versioned() && settings.get("version").is_none();
        changed |= add_version;
        // What --replace-otel replaced, said once the backup is taken.
        let mut otel_said = Vec::new();
        // Whether a token an earlier setup wrote here moved to the local file.
        let mut moved = false;
        let env_changed = match &otel {
            Some((ours, token)) => {
                let mut env = setup_token::env_of(&settings, &target)?;
                let conflicts = setup_otel::conflicts(&env, ours);
                if !conflicts.is_empty() && !self.args.replace_otel {
                    return Err(setup_token::refusal(&target, &conflicts));
                }
                let (replaced, removed) = setup_otel::replace_conflicts(&mut env, ours, &conflicts);
                if !replaced.is_empty() {
                    otel_said.push(format!("Replaced {} in `env`.", replaced.join(", ")));
                }
                if !removed.is_empty() {
                    otel_said.push(format!("Removed {} from `env`.", removed.join(", ")));
                }
                // A token an earlier setup wrote here moves to the local file.
                moved = token.is_some() && env.remove(setup_otel::HEADERS).is_some();
                let changed = setup_otel::merge_env(&mut env, ours) || !removed.is_empty() || moved;
                if changed {
                    settings.set("env", &Value::Object(env))?;
                }
                changed
            }
            None => false,
        };
        changed |= env_changed;
        // The token's entries, merged into the local file beside `path`, written after it.
        let local = match (&otel, self.otel) {
            (Some((_, Some(token))), Some(ours)) => {
                let local_path = path.with_file_name(setup_token::LOCAL_FILE);
                let local_target = settings_file::through_links(&local_path)
                    .map_err(|e| unusable(e, format!("cannot follow {}", local_path.display())))?;
                stays_in_project(&local_path, &local_target)?;
                Some(Local::prepare(
                    local_target,
                    ours,
                    token,
                    self.args.replace_otel,
                )?)
            }
            _ => None,
        };
        // Its folder locked too when it is another (a shared file that links elsewhere).
        let _local_lock = match &local {
            Some(local) if local.path().parent() != target.parent() => {
                settings_file::lock_folder(local.path()).with_context(|| {
                    format!("cannot lock the folder of {}", local.path().display())
                })?
            }
            _ => None,
        };
        let token_file = local.as_ref().map(|l| l.path().to_owned());
        // The agent runs no hook of ours, or none at all, while its settings say so. The
        // warning (stderr, where a warning goes) names the setting and how to undo it, and is
        // said once: the summary below says what was written, and never that sessions will be
        // recorded.
        let off = setup_off::hooks_off(agent, &target, self.env);
        if let Some(off) = &off {
            off.warn();
        }
        let off = off.is_some() || others_disable;
        // A file that holds the token is the user's alone.
        let holds_token = otel
            .as_ref()
            .is_some_and(|(shared, _)| shared.contains_key(setup_otel::HEADERS));
        if !changed {
            if let Some(local) = &local {
                local.write(out)?;
            }
            // The token is in this file itself (`--global`, `--settings`): as for the local file.
            if holds_token && existing.is_some() {
                setup_token::keep_private(&target, mode, out)?;
            }
            if off {
                writeln!(
                    out,
                    "{} holds agent-strace's hooks already; nothing changed.",
                    path.display()
                )?;
            } else {
                writeln!(
                    out,
                    "{} already records with agent-strace; nothing changed.",
                    path.display()
                )?;
            }
            left_out_note(release, &left_out, out)?;
            unasked_note(&unasked, out)?;
            self.notes(agent, token_file.as_deref(), out)?;
            return Ok(());
        }
        if add_version {
            settings.set("version", &1.into())?;
        }
        settings.set("hooks", &root["hooks"])?;
        // A file its user made read-only is theirs to open up: replacing it (which only the
        // folder's permission decides) went past what they said.
        // Its owner's write bit says so too: root may write any file, and did.
        if existing.is_some()
            && (mode & 0o200 == 0
                || rustix::fs::access(&target, rustix::fs::Access::WRITE_OK).is_err())
        {
            return Err(Error::input(format!(
                "{} is read-only: setup changes it only once you let it (chmod u+w)",
                target.display()
            ))
            .into());
        }
        // The token first: the shared file never names the collector without it.
        if let Some(local) = &local {
            local.write(out)?;
        }
        // Under --otel the backup is taken without the OTLP headers (the token an earlier setup
        // wrote, another backend's key): a backup beside the file would be the one place left
        // holding a header replaced, removed or moved, and no one git-ignores `*.bak`.
        let mut dropped = false;
        if let Some(text) = &existing {
            let backed_up = match &otel {
                Some(_) => setup_token::without_headers(text, &target)?,
                None => text.clone(),
            };
            dropped = backed_up != *text;
            settings_file::back_up_saying(&target, &backed_up, mode, out)?;
        }
        settings_file::replace(
            &target,
            &settings.to_text(),
            existing.as_deref(),
            holds_token,
        )
        .with_context(|| format!("cannot write {}", target.display()))?;
        if holds_token && existing.is_some() {
            setup_token::say_made_private(&target, mode, out)?;
        }
        for line in &otel_said {
            writeln!(out, "{line} {}", setup_token::kept_in_backup(dropped))?;
        }
        if moved {
            writeln!(
                out,
                "Moved {} (the token) out of `env`, into {}; the backup does not hold it either.",
                setup_otel::HEADERS,
                setup_token::LOCAL_FILE
            )?;
        }
        for (event, matcher) in &merged.widened {
            writeln!(
                out,
                "{event}: agent-strace's hook was in a group whose matcher {} runs it for what that names only; it has a group of its own now, which runs for everything, and that group's other hooks are as they were.",
                Value::String(matcher.clone())
            )?;
        }
        if !merged.dropped.is_empty() {
            super::output::warn(format_args!(
                "the hooks no longer pass {}: setup writes the options it is given and no others; give them again to keep them (the backup holds the hooks as they were)",
                merged.dropped.join(", ")
            ));
        }
        if off {
            writeln!(out, "Hooks written to {}.", target.display())?;
        } else {
            writeln!(
                out,
                "{} sessions will be recorded: hooks written to {}",
                agent.title(),
                target.display()
            )?;
        }
        left_out_note(release, &left_out, out)?;
        unasked_note(&unasked, out)?;
        self.notes(agent, token_file.as_deref(), out)
    }

    /// Warns of the other hook files of `agent` that hold hooks of ours running another command
    /// (each event would be recorded twice) or that disable every hook; returns whether one
    /// disables them.
    fn warn_of_other_layers(
        &self,
        agent: SetupAgent,
        path: &Path,
        hooks: &Map<String, Value>,
    ) -> bool {
        let layers = setup_layers::others(agent, path, self.env, hooks, |command, event, arg| {
            is_ours(command, self.bin, event, arg)
        });
        for layer in &layers {
            if let Some(command) = &layer.other_command {
                // Claude Code and Gemini CLI run a hook two files hold alike once (Codex runs
                // both); setup writes Gemini CLI's with the same name in every file.
                let cure = match agent {
                    SetupAgent::ClaudeCode | SetupAgent::Gemini => format!(
                        ", or give both the same command ({} runs a hook both hold alike once)",
                        agent.title()
                    ),
                    _ => String::new(),
                };
                super::output::warn(format_args!(
                    "{} holds agent-strace's hooks too ({command}): {} runs both, so every event would be recorded twice; keep agent-strace's hooks in one of the two files{cure}",
                    layer.path.display(),
                    agent.title()
                ));
            }
            if layer.disables_all {
                setup_off::Off::claude_code(&layer.path).warn();
            }
        }
        layers.iter().any(|layer| layer.disables_all)
    }

    /// What to know of what was printed or written; `token_file` is the file that holds the
    /// token apart from the shared settings, if any.
    fn notes(
        &self,
        agent: SetupAgent,
        token_file: Option<&Path>,
        out: &mut impl Write,
    ) -> Result<()> {
        if let Some(otel) = self.otel {
            writeln!(
                out,
                "Claude Code sends its telemetry to {}: run `agent-strace server` there to join it into the recorded sessions.",
                otel["OTEL_EXPORTER_OTLP_ENDPOINT"]
                    .as_str()
                    .unwrap_or_default()
            )?;
            let inherited = setup_otel::inherited(otel, |k| std::env::var_os(k).is_some());
            if !inherited.is_empty() {
                super::output::warn(format_args!(
                    "this shell sets {}: a Claude Code started from it keeps them beside the endpoint written; unset them there",
                    inherited.join(", ")
                ));
            }
            if let Some(file) = token_file {
                writeln!(
                    out,
                    "AGENT_STRACE_TOKEN, the collector's bearer token, goes in {} ({}), which Claude Code reads over settings.json{}: the shared settings do not hold it.",
                    file.display(),
                    setup_otel::HEADERS,
                    if setup_token::ignored_or_warn(file) {
                        " and git ignores"
                    } else {
                        ""
                    }
                )?;
            } else if otel.contains_key(setup_otel::HEADERS) {
                writeln!(
                    out,
                    "The settings hold AGENT_STRACE_TOKEN: keep the file out of version control (--settings .claude/settings.local.json)."
                )?;
            }
        }
        for note in agent.notes(self.args.global) {
            writeln!(out, "{note}")?;
        }
        if let Some(why) = self.why_full_path {
            writeln!(out, "{why}")?;
        }
        if let Some(store) = self.store {
            writeln!(
                out,
                "Sessions are recorded into {} (--trace-dir), whatever folder the agent runs in.",
                store.display()
            )?;
        }
        writeln!(out, "{}", redaction_note(self.args, self.store))?;
        Ok(())
    }
}

/// The error of a project's settings file `path` (at `target`, links followed) that a link
/// takes out of the project: a cloned repository's link could name any file of the user's,
/// and a linked folder any folder.
fn stays_in_project(path: &Path, target: &Path) -> Result<()> {
    let project = std::fs::canonicalize(".")?;
    let real = settings_file::real_folder(target)
        .with_context(|| format!("cannot follow {}", path.display()))?;
    if !real.starts_with(&project) {
        return Err(Error::input(format!(
            "{} leads out of the project, into {}: a link there (the file's or its folder's) is not followed",
            path.display(),
            real.display()
        ))
        .with_hint("remove the link, or name the file on purpose with --settings PATH".to_owned())
        .into());
    }
    Ok(())
}

/// The events of our hooks that Claude Code `release` does not take.
fn left_out(release: Version) -> Vec<&'static str> {
    HOOK_ARGS
        .iter()
        .map(|(_, event)| event.wire_name())
        .filter(|name| !claude_code::takes_event(release, name))
        .collect()
}

/// Says which events were left out for an older Claude Code, and why.
fn left_out_note(release: Option<Version>, left_out: &[&str], out: &mut impl Write) -> Result<()> {
    if let (Some((major, minor, patch)), false) = (release, left_out.is_empty()) {
        writeln!(
            out,
            "Claude Code {major}.{minor}.{patch} takes no hooks for {}, and ignores a whole settings file that names them: they are left out. Run setup again once Claude Code is updated.",
            left_out.join(", ")
        )?;
    }
    Ok(())
}

/// Says which events were left out because no `claude` said its release, each with the first
/// release that takes it.
fn unasked_note(left_out: &[&str], out: &mut impl Write) -> Result<()> {
    let named: Vec<String> = left_out
        .iter()
        .map(|event| {
            let first = claude_code::LATER_EVENTS
                .iter()
                .find(|(name, _)| name == event)
                .map(|(_, (major, minor, patch))| format!(" (from {major}.{minor}.{patch})"))
                .unwrap_or_default();
            format!("{event}{first}")
        })
        .collect();
    let Some((last, rest)) = named.split_last() else {
        return Ok(());
    };
    let (list, is, them) = if rest.is_empty() {
        (last.clone(), "is", "it")
    } else {
        (format!("{} and {last}", rest.join(", ")), "are", "them")
    };
    writeln!(
        out,
        "No `claude` on the PATH said its release, so {list} {is} left out: an older Claude Code ignores a whole settings file that names an event it does not take. Run setup again where `claude --version` answers to add {them}."
    )?;
    Ok(())
}

/// Takes our hooks off `events` in `settings` (a group left with no hook goes, and so does an
/// event left with no group); the user's own stay. Returns whether anything changed.
fn forget(settings: &mut Value, events: &[&str], bin: &str) -> bool {
    let Some(Value::Object(hooks)) = settings.get_mut("hooks") else {
        return false;
    };
    let mut changed = false;
    for event in events {
        let Some(arg) = HOOK_ARGS
            .iter()
            .find(|(_, e)| e.wire_name() == *event)
            .map(|(arg, _)| *arg)
        else {
            continue;
        };
        let Some(Value::Array(groups)) = hooks.get_mut(*event) else {
            continue;
        };
        let before = groups.len();
        groups.retain_mut(|group| match group.get_mut("hooks") {
            Some(Value::Array(entries)) => {
                let held = entries.len();
                entries.retain(|entry| our_command(entry, "command", bin, event, arg).is_none());
                changed |= entries.len() != held;
                !entries.is_empty()
            }
            Some(_) => true,
            None => our_command(group, "command", bin, event, arg).is_none(),
        });
        changed |= groups.len() != before;
        if groups.is_empty() {
            hooks.remove(*event);
            changed = true;
        }
    }
    changed
}

/// An error met reading or following a settings file: what is no regular file, a link to
/// nothing or no UTF-8 text is unusable input (exit code 3), the rest an I/O error.
pub(crate) fn unusable(e: std::io::Error, context: String) -> anyhow::Error {
    match e.kind() {
        std::io::ErrorKind::InvalidInput => Error::input(e.to_string()).into(),
        std::io::ErrorKind::InvalidData => {
            Error::input(format!("{context}: not UTF-8 text")).into()
        }
        _ => anyhow::Error::new(e).context(context),
    }
}

/// `setup --detect`: the agents of this user and project, and the file each one's hooks go
/// to; with --write, each set up in turn.
fn detect(plan: &Plan, cwd: &Path, out: &mut impl Write) -> Result<u8> {
    let found = setup_agents::detect(plan.env, cwd);
    if found.is_empty() {
        writeln!(
            out,
            "No coding agent found: none of their folders (~/.claude, ~/.cursor, ~/.gemini, ~/.codex, ~/.copilot, ~/.vscode) and none of their programs on PATH."
        )?;
        out.flush()?;
        return Ok(exit::OK);
    }
    let mut targets = Vec::new();
    for f in &found {
        let path = f.agent.path(plan.args.global, plan.env)?;
        writeln!(
            out,
            "Found {} ({}): its hooks go to {}",
            f.agent.title(),
            f.evidence.join(", "),
            path.display()
        )?;
        targets.push((f.agent, path));
    }
    if found.iter().any(|f| f.agent == SetupAgent::Cursor) {
        writeln!(
            out,
            "Cursor runs Claude Code's hooks too when its \"Include third-party Plugins, Skills, and other configs\" option is on; each Cursor event is recorded once, from Cursor's own hooks."
        )?;
    }
    if !plan.args.write {
        writeln!(out, "Run again with --write to set up each.")?;
        out.flush()?;
        return Ok(exit::OK);
    }
    // One agent's file that cannot be written is no reason to leave the others unset: each
    // failure is said as it comes, and the command fails at the end naming every one.
    let mut failed: Vec<(SetupAgent, Error)> = Vec::new();
    for (agent, path) in targets {
        writeln!(out)?;
        if let Err(e) = plan.one(agent, &path, out) {
            if Error::is_broken_pipe(&e) {
                return Err(e);
            }
            out.flush()?;
            let e = Error::from(e);
            super::output::fail(&e);
            failed.push((agent, e));
        }
    }
    out.flush()?;
    let Some((_, first)) = failed.first() else {
        return Ok(exit::OK);
    };
    let names: Vec<&str> = failed.iter().map(|(agent, _)| agent.title()).collect();
    Err(Error::new(
        first.kind(),
        format!(
            "{} not set up (the error above says why); the other agents found were",
            names.join(", ")
        ),
    )
    .with_hint("fix what each error names and run setup --detect --write again: what is set up already stays as it is")
    .into())
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
pub(crate) fn shell_word(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._+-@%:,=".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// What the hooks do with secrets, said plainly, naming the store they write: `store` (from
/// `--trace-dir`), else the project's `.agent-traces`.
fn redaction_note(args: &SetupArgs, store: Option<&Path>) -> String {
    let store = store.map_or_else(
        || super::globals::STORE_DIR.to_owned(),
        |s| s.display().to_string(),
    );
    if args.no_redact {
        format!(
            "Secrets (keys, tokens, passwords) will be written to {store} as they are: run setup again without --no-redact to redact them."
        )
    } else {
        format!(
            "Secrets (keys, tokens, passwords) are replaced with [REDACTED] before anything reaches {store}; --no-redact keeps them."
        )
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
/// `release` is the Claude Code installed, when known: the events it does not take are left out.
fn hooks_block(bin: &str, flag: &str, release: Option<Version>) -> Map<String, Value> {
    HOOK_ARGS
        .iter()
        .filter(|(_, event)| release.is_none_or(|r| claude_code::takes_event(r, event.wire_name())))
        .map(|(arg, event)| {
            let name = event.wire_name();
            let mut group = Map::new();
            if event.takes_tool_matcher() {
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

/// Whether a settings text holds a `//` or `/* */` comment outside its strings (JSONC).
fn has_comments(text: &str) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    let mut previous = ' ';
    for c in text.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if previous == '/' && (c == '/' || c == '*') {
            return true;
        }
        previous = if in_string { ' ' } else { c };
    }
    false
}

/// What [`merge`] did: whether anything changed, the hooks of ours it took out of a group
/// whose matcher limits them (each event with that matcher), and the options (`--policy …`)
/// that hooks of ours it replaced passed and the new ones do not.
#[derive(Debug, Default)]
struct Merged {
    changed: bool,
    widened: Vec<(String, String)>,
    dropped: Vec<String>,
}

impl Merged {
    /// Notes that a hook of ours running `old` gives way to one running `new`.
    fn replaced(&mut self, old: &str, new: &str, bin: &str) {
        let (Some(old), Some(new)) = (OurHook::read(old, bin), OurHook::read(new, bin)) else {
            return;
        };
        for option in old.dropped(&new) {
            if !self.dropped.contains(&option) {
                self.dropped.push(option);
            }
        }
    }
}

/// The matcher of a hook group (or of a flat hook entry) that limits what it runs for, as
/// written: none when it is absent, `""`, `*` or `.*`, which match every tool (docs/agents.md:
/// Claude Code reads a matcher as a regular expression, the others `*` or `""` as everything).
fn limiting_matcher(group: &Value) -> Option<String> {
    match group.get("matcher")? {
        Value::Null => None,
        Value::String(all) if ["", "*", ".*"].contains(&all.as_str()) => None,
        Value::String(matcher) => Some(matcher.clone()),
        other => Some(other.to_string()),
    }
}

/// Merges our hooks into `settings`, keeping everything else.
/// `key` names the field of a hook that holds its command (`command`; Copilot CLI's `bash`);
/// a hook is either inside a group's `hooks` list (Claude Code's shape) or an entry of the
/// event's list itself (Cursor's, Copilot CLI's, VS Code's).
/// A hook of ours in a group whose matcher names some tools only (`"Bash"`) would record, and
/// judge by the policy, only those: it is taken out of that group, whose other hooks stay as
/// they are, and ours gets a group of its own; a flat entry of ours loses its matcher.
/// A second hook of ours for one event (another spelling of it) would record every event
/// twice: the first is brought to ours, the others go.
fn merge(settings: &mut Value, ours: &Map<String, Value>, bin: &str, key: &str) -> Result<Merged> {
    let Value::Object(root) = settings else {
        bail!("the settings are not a JSON object")
    };
    let hooks = root
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(hooks) = hooks else {
        bail!("`hooks` is not a JSON object")
    };
    let mut merged = Merged::default();
    for (event, groups) in ours {
        let wanted = &groups[0];
        let command = wanted
            .get("hooks")
            .and_then(|h| h[0].get(key))
            .or_else(|| wanted.get(key))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let ours = Ours {
            bin,
            field: key,
            event,
            arg: command.rsplit(' ').next().unwrap_or_default(),
            command,
        };
        let list = hooks
            .entry(event.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(list) = list else {
            bail!("`hooks.{event}` is not a list")
        };
        // The agent rejects a settings file whose hook lists hold anything but objects, and
        // with it every hook: ours written beside them would record nothing.
        if list.iter().any(|group| !group.is_object()) {
            bail!("`hooks.{event}` holds an entry that is not a JSON object")
        }
        let mut found = false;
        list.retain_mut(|group| {
            let limit = limiting_matcher(group);
            match group.get_mut("hooks") {
                Some(Value::Array(entries)) => {
                    let held = entries.len();
                    entries.retain_mut(|entry| {
                        let Some(old) = ours.command_of(entry) else {
                            return true;
                        };
                        merged.replaced(&old, command, bin);
                        if limit.is_some() || found {
                            return false;
                        }
                        found = true;
                        merged.changed |= ours.update(entry);
                        true
                    });
                    if entries.len() == held {
                        return true;
                    }
                    merged.changed = true;
                    if let Some(matcher) = limit {
                        merged.widened.push((event.clone(), matcher));
                    }
                    // A group that held only ours goes with it.
                    !entries.is_empty()
                }
                Some(_) => true,
                None => {
                    let Some(old) = ours.command_of(group) else {
                        return true;
                    };
                    merged.replaced(&old, command, bin);
                    if found {
                        merged.changed = true;
                        return false;
                    }
                    found = true;
                    merged.changed |= ours.update(group);
                    if let (Some(matcher), Value::Object(entry)) = (limit, group) {
                        match wanted.get("matcher") {
                            Some(all) => entry.insert("matcher".into(), all.clone()),
                            None => entry.remove("matcher"),
                        };
                        merged.changed = true;
                        merged.widened.push((event.clone(), matcher));
                    }
                    true
                }
            }
        });
        if !found {
            list.push(wanted.clone());
            merged.changed = true;
        }
    }
    Ok(merged)
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
        let ours = hooks_block("agent-strace", "", None);
        assert!(
            merge(&mut settings, &ours, "agent-strace", "command")
                .unwrap()
                .changed
        );
        let once = settings.clone();
        assert!(
            !merge(&mut settings, &ours, "agent-strace", "command")
                .unwrap()
                .changed
        );
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
                &hooks_block("agent-strace", " --redact", None),
                "agent-strace",
                "command"
            )
            .unwrap()
            .changed
        );
        assert_eq!(
            settings["hooks"]["PreToolUse"][1]["hooks"][0]["command"],
            "agent-strace hook --redact pre-tool"
        );
        assert_eq!(settings["hooks"]["PreToolUse"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn ours_leaves_a_group_whose_matcher_limits_it_and_the_users_hooks_stay() {
        let mut settings = json!({ "hooks": {
            "PreToolUse": [ { "matcher": "Bash", "hooks": [
                { "type": "command", "command": "lint.sh" },
                { "type": "command", "command": "agent-strace hook pre-tool" } ] } ],
            "PostToolUse": [ { "matcher": "Edit|Write", "hooks": [
                { "type": "command", "command": "agent-strace hook post-tool" } ] } ],
            "Stop": [ { "hooks": [ { "type": "command", "command": "agent-strace hook stop" } ] } ]
        }});
        let ours = hooks_block("agent-strace", "", None);
        let merged = merge(&mut settings, &ours, "agent-strace", "command").unwrap();
        assert!(merged.changed);
        let mut widened = merged.widened.clone();
        widened.sort();
        assert_eq!(
            widened,
            [
                ("PostToolUse".to_owned(), "Edit|Write".to_owned()),
                ("PreToolUse".to_owned(), "Bash".to_owned())
            ]
        );
        let pre = settings["hooks"]["PreToolUse"].as_array().unwrap();
        assert_eq!(
            pre[0],
            json!({ "matcher": "Bash", "hooks": [ { "type": "command", "command": "lint.sh" } ] })
        );
        assert_eq!(pre[1], ours["PreToolUse"][0]);
        // The group that held only ours is gone: one group of ours, for every tool.
        assert_eq!(settings["hooks"]["PostToolUse"], ours["PostToolUse"]);
        assert_eq!(settings["hooks"]["Stop"].as_array().unwrap().len(), 1);
        let again = merge(&mut settings, &ours, "agent-strace", "command").unwrap();
        assert!(!again.changed && again.widened.is_empty());
        // A flat entry of ours (Cursor's shape) loses its matcher.
        let mut flat = json!({ "hooks": { "preToolUse": [
            { "command": "agent-strace hook --agent cursor pre-tool", "matcher": "Shell" } ] } });
        let cursor = SetupAgent::Cursor.hooks("agent-strace", "");
        let merged = merge(&mut flat, &cursor, "agent-strace", "command").unwrap();
        assert_eq!(
            merged.widened,
            [("preToolUse".to_owned(), "Shell".to_owned())]
        );
        assert_eq!(flat["hooks"]["preToolUse"], cursor["preToolUse"]);
    }

    #[test]
    fn every_hook_event_is_covered() {
        let block = hooks_block("agent-strace", "", None);
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
                is_ours(command, "/elsewhere/agent-strace", "PreToolUse", "pre-tool"),
                "{command}"
            );
        }
        assert!(!is_ours(
            "./guard.sh pre-tool",
            "agent-strace",
            "PreToolUse",
            "pre-tool"
        ));
        assert!(!is_ours(
            "agent-strace hook post-tool",
            "agent-strace",
            "PreToolUse",
            "pre-tool"
        ));
        assert_eq!(shell_word("/usr/bin/agent-strace"), "/usr/bin/agent-strace");
        assert_eq!(shell_word("/my dir/it's"), r"'/my dir/it'\''s'");
    }
}
