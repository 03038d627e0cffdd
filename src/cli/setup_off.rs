//! Whether an agent's own settings turn its hooks off, agent-strace's among them: `setup` then
//! warns once, on stderr, and does not say that sessions will be recorded.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::setup_agents::{self, Env, SetupAgent};
use super::setup_layers;

/// The name setup gives Gemini CLI's hooks of ours, which its `hooksConfig.disabled` lists.
const GEMINI_HOOK_NAME: &str = "agent-strace";

/// A setting that keeps the agent from running our hooks.
#[derive(Debug)]
pub(super) struct Off {
    /// The file that holds it.
    pub(super) file: PathBuf,
    /// What it does and how to undo it, after the file's name.
    warning: String,
}

impl Off {
    /// Warns, on stderr, that the agent runs none of our hooks while the setting stands.
    pub(super) fn warn(&self) {
        super::output::warn(format_args!("{} {}", self.file.display(), self.warning));
    }

    /// `disableAllHooks: true` in the Claude Code settings file at `file`.
    pub(super) fn claude_code(file: &Path) -> Off {
        Off {
            file: file.to_owned(),
            warning: "sets disableAllHooks: Claude Code runs no hooks while it is true, agent-strace's included; remove it to record sessions".to_owned(),
        }
    }
}

/// The setting that turns the hooks off that `setup` writes for `agent` into `target`, if one
/// does: in `target` itself, or for Gemini CLI and Codex in the user's file of the same kind,
/// which a project's file leaves in force where it does not set it (docs/agents.md §2.1, §3.1).
/// A file that cannot be read is passed over: the agent reads nothing from it either.
pub(super) fn hooks_off(agent: SetupAgent, target: &Path, env: &Env) -> Option<Off> {
    let user = agent.path(true, env).ok();
    // The project's file first: a setting there stands over the user's.
    let files: Vec<&Path> = std::iter::once(target)
        .chain(
            user.as_deref()
                .filter(|u| !setup_layers::same_file(u, target)),
        )
        .collect();
    match agent {
        SetupAgent::ClaudeCode => {
            setup_layers::disables_all(target).then(|| Off::claude_code(target))
        }
        SetupAgent::Gemini => gemini(&files),
        SetupAgent::Codex => codex(&files),
        SetupAgent::Cursor | SetupAgent::Copilot | SetupAgent::VsCode => None,
    }
}

/// Gemini CLI runs no hook while `hooksConfig.enabled` is false, and none named in
/// `hooksConfig.disabled` (`/hooks disable agent-strace` writes ours there).
fn gemini(files: &[&Path]) -> Option<Off> {
    let settings: Vec<(&Path, Value)> = files
        .iter()
        .filter_map(|file| Some((*file, setup_layers::read(file)?)))
        .collect();
    let enabled = settings.iter().find_map(|(file, settings)| {
        let enabled = settings.get("hooksConfig")?.get("enabled")?.as_bool()?;
        Some((*file, enabled))
    });
    if let Some((file, false)) = enabled {
        return Some(Off {
            file: file.to_owned(),
            warning: "sets hooksConfig.enabled to false: Gemini CLI runs no hooks while it is, agent-strace's included; remove it to record sessions".to_owned(),
        });
    }
    settings.iter().find_map(|(file, settings)| {
        let disabled = settings.get("hooksConfig")?.get("disabled")?.as_array()?;
        disabled
            .iter()
            .any(|name| name.as_str() == Some(GEMINI_HOOK_NAME))
            .then(|| Off {
                file: (*file).to_owned(),
                warning: format!(
                    "names {GEMINI_HOOK_NAME} in hooksConfig.disabled: Gemini CLI runs none of agent-strace's hooks while it does; take it out of that list to record sessions"
                ),
            })
    })
}

/// Codex runs no hook while the `config.toml` beside its `hooks.json` sets `[features]`
/// `hooks = false`.
fn codex(files: &[&Path]) -> Option<Off> {
    files.iter().find_map(|hooks_json| {
        let text = setup_agents::codex_toml(hooks_json)?;
        let (key, off) = setup_agents::codex_hooks_off(&text)?;
        let file = hooks_json.with_file_name("config.toml");
        Some(off.then(|| Off {
            warning: format!(
                "sets {key} = false under [features]: Codex runs no hooks while it does, agent-strace's included; remove it to record sessions"
            ),
            file,
        }))
    })?
}
