//! Flags every command shares, and where the store is.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::capture::sink::Privacy;
use crate::store::Store;

/// The name of a project's store folder.
pub(crate) const STORE_DIR: &str = crate::store::STORE_DIR;

#[derive(Debug, Args)]
pub struct Globals {
    /// The trace store [default: $AGENT_TRACE_DIR, else the nearest .agent-traces above the
    /// current directory, else ./.agent-traces; with $AGENT_STRACE_WORKSPACE set, its
    /// workspaces/<name> folder]
    #[arg(long, global = true, value_name = "DIR")]
    pub trace_dir: Option<PathBuf>,
    /// When to colour output
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set or TERM is dumb
    Auto,
    Always,
    Never,
}

/// Output formats of the analysis commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

impl Globals {
    /// The store commands read: the flag, else `$AGENT_TRACE_DIR`, else the nearest
    /// `.agent-traces` walking up from the current directory, else `./.agent-traces`; the
    /// workspace of it `$AGENT_STRACE_WORKSPACE` names, when set ([`in_workspace`]).
    pub fn store_root(&self) -> PathBuf {
        if let Some(dir) = self.explicit_root() {
            return dir;
        }
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        in_workspace(nearest_store(&cwd).unwrap_or_else(|| cwd.join(STORE_DIR)))
    }

    /// The store named by the flag or the environment, if either names one (in the workspace
    /// `$AGENT_STRACE_WORKSPACE` names, as the Python tool places it under any store).
    pub fn explicit_root(&self) -> Option<PathBuf> {
        self.trace_dir
            .clone()
            .or_else(|| {
                std::env::var_os("AGENT_TRACE_DIR")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .map(in_workspace)
    }

    /// The store a hook writes a session to. Claude Code's project directory (or else the
    /// payload's cwd, or else the hook's own) is where the search starts; a folder on the way up
    /// that already holds the session wins, so an agent that `cd`s into a subfolder keeps
    /// writing where it started. Only a folder that exists is a start: a path in a payload never
    /// makes the hook create folders that were not there.
    pub fn hook_root(&self, cwd: Option<&str>, session_id: Option<&str>) -> PathBuf {
        if let Some(dir) = self.explicit_root() {
            return dir;
        }
        let base = std::env::var_os("CLAUDE_PROJECT_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .into_iter()
            .chain(cwd.filter(|c| !c.is_empty()).map(PathBuf::from))
            .find(|dir| dir.is_dir())
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("."));
        session_store(&real_folder(base), session_id)
    }

    pub fn colour(&self) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            // A terminal that says it is dumb (`TERM=dumb`: Emacs' shell, some CI logs) shows
            // an SGR sequence as the text `^[[1m`, not as colour.
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
                    && std::io::stdout().is_terminal()
            }
        }
    }
}

/// What the capturing commands (`hook`, `record`, `record-http`, `import`) and `annotate` keep
/// off disk: one set of flags for all of them. Secrets are redacted unless asked not to (README, "Secrets").
#[derive(Debug, Args)]
pub(crate) struct PrivacyArgs {
    /// Replace secrets with [REDACTED] before writing: the default
    #[arg(long, overrides_with = "no_redact")]
    redact: bool,
    /// Write secrets as they are (also: AGENT_STRACE_REDACT=0)
    #[arg(long, overrides_with = "redact")]
    no_redact: bool,
    /// Mask personal data before writing: emails, phone numbers, card numbers, US SSNs, AWS ARNs
    #[arg(long)]
    mask: bool,
    /// Also redact what this regular expression matches in values, never in field names
    /// (repeatable)
    #[arg(long, value_name = "REGEX")]
    redact_pattern: Vec<String>,
}

impl PrivacyArgs {
    /// The flags and `AGENT_STRACE_REDACT` as one value, or a sentence saying which pattern is
    /// wrong. A flag wins over the environment; with neither, secrets are redacted.
    pub(crate) fn resolve(&self) -> Result<Privacy, String> {
        let patterns = compile_patterns(&self.redact_pattern)?;
        Ok(Privacy {
            redact: self.redacts(),
            mask: self.mask,
            patterns,
        })
    }

    /// [`PrivacyArgs::resolve`] for a line of a log, which is written whatever went wrong:
    /// with the patterns that compile when one does not (the line may be the one saying so).
    pub(crate) fn resolve_for_log(&self) -> Privacy {
        Privacy {
            redact: self.redacts(),
            mask: self.mask,
            patterns: (self.redact_pattern.iter())
                .filter_map(|text| regex::Regex::new(text).ok())
                .collect(),
        }
    }

    /// Whether secrets are redacted: a flag wins over the environment; with neither, they are.
    fn redacts(&self) -> bool {
        !self.no_redact && (self.redact || redact_from_env().unwrap_or(true))
    }

    /// What no flag says: secrets redacted unless the environment says otherwise.
    pub(crate) fn unset() -> PrivacyArgs {
        PrivacyArgs {
            redact: false,
            no_redact: false,
            mask: false,
            redact_pattern: Vec::new(),
        }
    }
}

/// `--redact-pattern` values compiled, or a sentence naming the first that does not compile.
pub(crate) fn compile_patterns(texts: &[String]) -> Result<Vec<regex::Regex>, String> {
    texts
        .iter()
        .map(|text| {
            regex::Regex::new(text).map_err(|e| {
                // The regex crate draws the error under the pattern on several lines; its last
                // line says what is wrong, and an error here is one line.
                let why = e.to_string();
                let why = why
                    .lines()
                    .rev()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
                    .to_owned();
                format!("--redact-pattern `{text}` is not a valid regular expression: {why}")
            })
        })
        .collect()
}

/// What the environment says of secret redaction: `AGENT_STRACE_REDACT=0` (or `false`, `no`,
/// `off`) turns it off, `1` (`true`, `yes`, `on`) on; unset or anything else says nothing.
fn redact_from_env() -> Option<bool> {
    let value = std::env::var("AGENT_STRACE_REDACT").ok()?;
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// The store a session that ran in `base` belongs to: a store on the way up that already holds
/// it, else the nearest store above, else `base/.agent-traces` (each in the workspace
/// `$AGENT_STRACE_WORKSPACE` names, [`in_workspace`]). Hooks and `import --all` place sessions
/// alike.
pub(crate) fn session_store(base: &Path, session_id: Option<&str>) -> PathBuf {
    if let Some(id) = session_id.filter(|id| crate::store::is_valid_session_id(id)) {
        for dir in base.ancestors() {
            let candidate = in_workspace(dir.join(STORE_DIR));
            if candidate.join(id).is_dir() && !Store::belongs_to_another_user(&candidate) {
                return candidate;
            }
        }
    }
    in_workspace(nearest_store(base).unwrap_or_else(|| base.join(STORE_DIR)))
}

/// The folder `dir` names, as the system finds it: absolute, with no `..` and no link, as the
/// current folder of a command run there is. Stores are looked for above it, and walking up a
/// path as written (`proj/../other`, `.`, a link to a project elsewhere) reached folders the
/// agent was not in, so a session went to a store no command run in its folder finds. A folder
/// that cannot be resolved is taken as written.
pub(crate) fn real_folder(dir: PathBuf) -> PathBuf {
    std::fs::canonicalize(&dir).unwrap_or(dir)
}

/// The environment variable that names a workspace, as the Python tool reads it.
pub(crate) const WORKSPACE_ENV: &str = "AGENT_STRACE_WORKSPACE";

/// The workspace `$AGENT_STRACE_WORKSPACE` names: `None` when it is unset or empty, an error
/// saying why when no workspace can have that name (the Python tool refuses it too).
pub(crate) fn workspace() -> Result<Option<String>, String> {
    let Some(value) = std::env::var_os(WORKSPACE_ENV).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match value.into_string() {
        Ok(name) if crate::store::is_valid_workspace_name(&name) => Ok(Some(name)),
        Ok(name) => Err(format!(
            "{WORKSPACE_ENV}={}: a workspace name is 1 to 128 ASCII letters, digits, dots, \
             underscores or hyphens, the first a letter or digit",
            crate::render::terminal::one_line(&name, 80)
        )),
        Err(_) => Err(format!("{WORKSPACE_ENV} is not UTF-8 text")),
    }
}

/// `root`, or the store of the workspace `$AGENT_STRACE_WORKSPACE` names inside it
/// (`root/workspaces/<name>`), where the Python tool records with that variable set. A name
/// no workspace can have leaves `root` as it is: commands refuse it before they start
/// ([`workspace`]), and a hook, which must not fail the agent, records in the project's store.
pub(crate) fn in_workspace(root: PathBuf) -> PathBuf {
    match workspace() {
        Ok(Some(name)) => {
            crate::store::use_workspace(&name);
            crate::store::workspace_root(&root, &name)
        }
        _ => root,
    }
}

pub(crate) fn nearest_store(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(STORE_DIR))
        // Another user's store in a folder above (`/tmp/.agent-traces`) is theirs: sessions
        // written there are theirs to read, and one they closed would stop every hook below.
        .find(|candidate| candidate.is_dir() && !Store::belongs_to_another_user(candidate))
}
