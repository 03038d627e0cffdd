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
    /// One hook command of ours there that the agent runs beside the one written for its event
    /// (see [`runs_once`]): both would record it.
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
            other_command: other_command(agent, &settings, ours, key, &is_ours),
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

/// A command of ours in `settings` that `agent` runs beside the one `ours` runs for its event;
/// `key` names the field of a hook that holds its command, in a group's `hooks` (Claude Code's
/// shape) or in the event's entry itself (Cursor's).
fn other_command(
    agent: SetupAgent,
    settings: &Value,
    ours: &Map<String, Value>,
    key: &str,
    is_ours: impl Fn(&str, &str, &str) -> bool,
) -> Option<String> {
    let hooks = settings.get("hooks")?.as_object()?;
    ours.iter().find_map(|(event, groups)| {
        let written = groups[0]["hooks"]
            .get(0)
            .filter(|hook| hook.get(key).is_some())
            .unwrap_or(&groups[0]);
        let arg = written.get(key)?.as_str()?.rsplit(' ').next()?;
        let groups = hooks.get(event)?.as_array()?;
        groups
            .iter()
            .flat_map(|group| match group.get("hooks") {
                Some(Value::Array(entries)) => entries.iter().collect(),
                _ => vec![group],
            })
            .filter(|entry| !runs_once(agent, written, entry, key))
            .filter_map(|entry| entry.get(key)?.as_str())
            .find(|command| is_ours(command, event, arg))
            .map(str::to_owned)
    })
}

/// Whether `agent` runs a hook of another file once with the one written (`written`) when both
/// are there: Claude Code runs a command string two files name once, Gemini CLI a hook whose
/// name and command are both alike (its planner's `deduplicateHooks`, keyed `name:command`,
/// 0.61.0), Cursor is not known to run it twice; Codex ran an identical command of both layers
/// twice (0.171.0, observed), as may any other agent.
fn runs_once(agent: SetupAgent, written: &Value, other: &Value, key: &str) -> bool {
    let same = |field: &str| text(written, field) == text(other, field);
    match agent {
        SetupAgent::ClaudeCode | SetupAgent::Cursor => same(key),
        SetupAgent::Gemini => same(key) && same("name"),
        SetupAgent::Codex | SetupAgent::Copilot | SetupAgent::VsCode => false,
    }
}

/// The text of `hook`'s `field`, trimmed.
fn text<'h>(hook: &'h Value, field: &str) -> Option<&'h str> {
    hook.get(field).and_then(Value::as_str).map(str::trim)
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
        assert_eq!(
            other_command(SetupAgent::ClaudeCode, &same, ours, "command", is_ours),
            None
        );
        let other = json!({ "hooks": { "Stop": [ { "hooks": [
            { "command": "./mine.sh" },
            { "command": "/usr/local/bin/agent-strace hook stop" } ] } ] } });
        assert_eq!(
            other_command(SetupAgent::ClaudeCode, &other, ours, "command", is_ours).as_deref(),
            Some("/usr/local/bin/agent-strace hook stop")
        );
        let flat = json!({ "hooks": { "Stop": [ { "command": "/opt/agent-strace hook stop" } ] } });
        assert!(other_command(SetupAgent::ClaudeCode, &flat, ours, "command", is_ours).is_some());
        assert_eq!(
            other_command(
                SetupAgent::ClaudeCode,
                &json!({ "hooks": [] }),
                ours,
                "command",
                is_ours
            ),
            None
        );
    }

    /// The same command in both files is one hook for Claude Code, and for Gemini CLI when the
    /// names are alike too; Codex runs it twice.
    #[test]
    fn a_command_alike_is_another_where_the_agent_runs_both() {
        let ours = json!({ "Stop": [ { "hooks": [
            { "type": "command", "command": "agent-strace hook stop", "name": "agent-strace" } ] } ] });
        let ours = ours.as_object().unwrap();
        let is_ours = |command: &str, _: &str, _: &str| command.contains("agent-strace hook");
        let named = |name: Option<&str>| {
            let mut hook = json!({ "command": "agent-strace hook stop" });
            if let Some(name) = name {
                hook["name"] = name.into();
            }
            json!({ "hooks": { "Stop": [ { "hooks": [hook] } ] } })
        };
        let twice =
            |agent, settings: &Value| other_command(agent, settings, ours, "command", is_ours);
        assert_eq!(twice(SetupAgent::ClaudeCode, &named(None)), None);
        assert_eq!(
            twice(SetupAgent::Gemini, &named(Some("agent-strace"))),
            None
        );
        assert!(twice(SetupAgent::Gemini, &named(None)).is_some());
        assert!(twice(SetupAgent::Gemini, &named(Some("mine"))).is_some());
        assert_eq!(
            twice(SetupAgent::Codex, &named(Some("agent-strace"))).as_deref(),
            Some("agent-strace hook stop")
        );
    }
}
