//! The other settings files of an agent that `setup` looks into before writing one: hooks of
//! ours there would record every event a second time, and Claude Code's `disableAllHooks`
//! there runs none.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::settings_file;
use super::setup_agents::{Env, SetupAgent, Shape};

/// What one settings file the agent reads holds that bears on the hooks `setup` writes.
#[derive(Debug)]
pub(super) struct Layer {
    pub(super) path: PathBuf,
    /// One hook command of ours there that differs from the one written for its event: the
    /// agent runs the hooks of every file, so both would record it.
    pub(super) other_command: Option<String>,
    /// Whether it sets `disableAllHooks: true` (Claude Code's).
    pub(super) disables_all: bool,
}

/// The hook files `agent` reads for this project and runs every hook of, whichever holds it
/// (docs/agents.md): Claude Code's three settings files (it runs an identical command once),
/// Codex's merged layers, Gemini CLI's concatenated ones, Cursor's sources. None for the
/// others, whose files setup does not compare.
fn layers(agent: SetupAgent, env: &Env) -> Vec<PathBuf> {
    let user = agent.path(true, env).ok();
    match agent {
        SetupAgent::ClaudeCode => user
            .into_iter()
            .chain([
                PathBuf::from(".claude/settings.json"),
                PathBuf::from(".claude/settings.local.json"),
            ])
            .collect(),
        SetupAgent::Codex | SetupAgent::Gemini | SetupAgent::Cursor => user
            .into_iter()
            .chain(agent.path(false, env).ok())
            .collect(),
        SetupAgent::Copilot | SetupAgent::VsCode => Vec::new(),
    }
}

/// The hook files `agent` reads for this project besides `target`, each that holds another
/// command of ours or (Claude Code) disables every hook. `ours` is the hooks block written;
/// `is_ours(command, event, arg)` tells a command of ours for the settings' `event`, which setup writes as `hook <arg>`. A file that cannot be
/// read or parsed is passed over: the agent reads nothing from it either.
pub(super) fn others(
    agent: SetupAgent,
    target: &Path,
    env: &Env,
    ours: &Map<String, Value>,
    is_ours: impl Fn(&str, &str, &str) -> bool,
) -> Vec<Layer> {
    let key = match agent.shape() {
        Shape::Nested => "command",
        Shape::Flat(key) => key,
    };
    let mut layers: Vec<Layer> = Vec::new();
    for path in self::layers(agent, env) {
        if same_file(&path, target) || layers.iter().any(|l| same_file(&l.path, &path)) {
            continue;
        }
        let Some(settings) = read(&path) else {
            continue;
        };
        let layer = Layer {
            other_command: other_command(&settings, ours, key, &is_ours),
            disables_all: agent == SetupAgent::ClaudeCode
                && settings.get("disableAllHooks") == Some(&Value::Bool(true)),
            path,
        };
        if layer.other_command.is_some() || layer.disables_all {
            layers.push(layer);
        }
    }
    layers
}

/// Whether the settings file at `path` sets `disableAllHooks: true` (false when it cannot be
/// read: Claude Code reads nothing from it either).
pub(super) fn disables_all(path: &Path) -> bool {
    read(path).is_some_and(|settings| settings.get("disableAllHooks") == Some(&Value::Bool(true)))
}

/// The settings at `path`, through its links, when it is a JSON file that can be read.
pub(super) fn read(path: &Path) -> Option<Value> {
    let real = settings_file::through_links(path).ok()?;
    let text = settings_file::read(&real).ok()??.text;
    serde_json::from_str(&text).ok()
}

/// Whether two paths name one file (a project folder that is the home folder makes the
/// project's settings the user's).
pub(super) fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => std::path::absolute(a).ok() == std::path::absolute(b).ok(),
    }
}

/// A command of ours in `settings` that is not the one `ours` runs for its event; `key` names
/// the field of a hook that holds its command, in a group's `hooks` (Claude Code's shape) or
/// in the event's entry itself (Cursor's).
fn other_command(
    settings: &Value,
    ours: &Map<String, Value>,
    key: &str,
    is_ours: impl Fn(&str, &str, &str) -> bool,
) -> Option<String> {
    let hooks = settings.get("hooks")?.as_object()?;
    ours.iter().find_map(|(event, groups)| {
        let written = groups[0]["hooks"][0][key]
            .as_str()
            .or_else(|| groups[0][key].as_str())?;
        let arg = written.rsplit(' ').next()?;
        let groups = hooks.get(event)?.as_array()?;
        groups
            .iter()
            .flat_map(|group| match group.get("hooks") {
                Some(Value::Array(entries)) => entries.iter().collect(),
                _ => vec![group],
            })
            .filter_map(|entry| entry.get(key)?.as_str())
            .find(|command| is_ours(command, event, arg) && command.trim() != written)
            .map(str::to_owned)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_a_command_of_ours_unlike_the_one_written_is_another() {
        let ours = json!({ "Stop": [ { "hooks": [ { "type": "command", "command": "agent-strace hook stop" } ] } ] });
        let ours = ours.as_object().unwrap();
        let is_ours = |command: &str, _: &str, arg: &str| {
            command.contains("agent-strace hook") && command.ends_with(arg)
        };
        let same = json!({ "hooks": { "Stop": [ { "hooks": [ { "command": "agent-strace hook stop" } ] } ] } });
        assert_eq!(other_command(&same, ours, "command", is_ours), None);
        let other = json!({ "hooks": { "Stop": [ { "hooks": [
            { "command": "./mine.sh" },
            { "command": "/usr/local/bin/agent-strace hook stop" } ] } ] } });
        assert_eq!(
            other_command(&other, ours, "command", is_ours).as_deref(),
            Some("/usr/local/bin/agent-strace hook stop")
        );
        let flat = json!({ "hooks": { "Stop": [ { "command": "/opt/agent-strace hook stop" } ] } });
        assert!(other_command(&flat, ours, "command", is_ours).is_some());
        assert_eq!(
            other_command(&json!({ "hooks": [] }), ours, "command", is_ours),
            None
        );
    }
}
