//! Which hook commands in an agent's settings are agent-strace's own: each is read by the parser
//! the hook itself runs with, so any line the hook takes is ours (its flags before or after the
//! event, a global flag before `hook`, the agent's own name for the event), and a later setup
//! replaces it rather than adding a second hook that records every event again.

use std::ffi::OsString;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory};
use serde_json::Value;

use super::{HookLine, hook_lenient, names_hook};
use crate::capture::hooks::HookEvent;
use crate::model::policy::shell;

/// The options of a hook that keep a guardrail or a place (`--policy`, `--mask`,
/// `--redact-pattern`, `--trace-dir`), each with its clap id and whether it takes a value: a
/// setup run again without them writes hooks that no longer pass them, and says so.
const KEPT: [(&str, &str, bool); 4] = [
    ("--policy", "policy", true),
    ("--mask", "mask", false),
    ("--redact-pattern", "redact_pattern", true),
    ("--trace-dir", "trace_dir", true),
];

/// A hook command of ours, as the hook reads it.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct OurHook {
    /// The event it runs for, as written (`stop`, `Stop`, `preToolUse`).
    event: String,
    /// Its [`KEPT`] options, each flag with its value, in [`KEPT`]'s order.
    options: Vec<(&'static str, Option<String>)>,
}

impl OurHook {
    /// The hook `command` runs, when it is ours: `bin` (as setup writes it) or any program
    /// named agent-strace (by name or path, quoted or not), then a command line the hook takes,
    /// as one command (a line that runs more is the user's own).
    pub(super) fn read(command: &str, bin: &str) -> Option<OurHook> {
        let [line] = shell::split(command).try_into().ok()?;
        let words = line.words;
        let bin_words = shell::split(bin).into_iter().next()?.words;
        let after = if words.starts_with(&bin_words) {
            bin_words.len()
        } else {
            words.iter().position(|w| w.ends_with("agent-strace"))? + 1
        };
        let argv: Vec<OsString> = std::iter::once(OsString::from("agent-strace"))
            .chain(words[after..].iter().map(OsString::from))
            .collect();
        let matches = matches(&argv)?;
        let hook = matches.subcommand_matches("hook")?;
        let event = raw(hook, "event").into_iter().next()?;
        let mut options = Vec::new();
        for (flag, id, takes_value) in KEPT {
            // A global flag is read where it was given: before `hook` or after it.
            let given = [hook, &matches].into_iter().find(|m| {
                m.try_contains_id(id).unwrap_or(false)
                    && m.value_source(id) == Some(ValueSource::CommandLine)
            });
            let Some(given) = given else { continue };
            if takes_value {
                options.extend(raw(given, id).into_iter().map(|v| (flag, Some(v))));
            } else {
                options.push((flag, None));
            }
        }
        Some(OurHook { event, options })
    }

    /// Whether it runs for the event that settings name `key` and setup writes as `hook <arg>`:
    /// by that argument, the agent's own name for it, or any other name the hook takes for it
    /// (`Stop` for `stop`).
    pub(super) fn runs_for(&self, key: &str, arg: &str) -> bool {
        self.event == arg
            || self.event == key
            || HookEvent::from_arg(&self.event).is_some_and(|e| HookEvent::from_arg(arg) == Some(e))
    }

    /// The [`KEPT`] options this hook passes that `next` does not, as they would be written
    /// (`--policy /p/pol.json`): a single-valued one `next` gives no value for, a pattern
    /// `next` does not give.
    pub(super) fn dropped(&self, next: &OurHook) -> Vec<String> {
        self.options
            .iter()
            .filter(|(flag, value)| {
                let restated = if *flag == "--redact-pattern" {
                    next.options.contains(&(flag, value.clone()))
                } else {
                    next.options.iter().any(|(f, _)| f == flag)
                };
                !restated
            })
            .map(|(flag, value)| match value {
                Some(value) => format!("{flag} {}", super::setup::shell_word(value)),
                None => (*flag).to_owned(),
            })
            .collect()
    }
}

/// Whether a hook command is one of ours for the event settings name `key`, which setup writes
/// as `hook <arg>`: `bin`, or any program named agent-strace, then a line the hook takes for
/// that event.
pub(super) fn is_ours(command: &str, bin: &str, key: &str, arg: &str) -> bool {
    OurHook::read(command, bin).is_some_and(|hook| hook.runs_for(key, arg))
}

/// The field of a hook entry that holds one of our commands for `key`'s `hook <arg>`, if it
/// holds one: `field` (`command`; Copilot CLI's `bash`), or `command`, which Copilot CLI takes
/// too.
pub(super) fn our_command<'k>(
    entry: &Value,
    field: &'k str,
    bin: &str,
    key: &str,
    arg: &str,
) -> Option<&'k str> {
    [field, "command"].into_iter().find(|field| {
        entry
            .get(*field)
            .and_then(Value::as_str)
            .is_some_and(|command| is_ours(command, bin, key, arg))
    })
}

/// Our hook for one event, as setup writes it.
pub(super) struct Ours<'a> {
    pub(super) bin: &'a str,
    /// The field of a hook entry that holds its command.
    pub(super) field: &'a str,
    /// The event's name in the settings.
    pub(super) event: &'a str,
    /// What setup writes after `hook`.
    pub(super) arg: &'a str,
    pub(super) command: &'a str,
}

impl Ours<'_> {
    /// The command `entry` runs, when it is a hook of ours for this event.
    pub(super) fn command_of(&self, entry: &Value) -> Option<String> {
        let field = our_command(entry, self.field, self.bin, self.event, self.arg)?;
        entry[field].as_str().map(str::to_owned)
    }

    /// Brings `entry`, a hook of ours, to our command: whether that changed it.
    pub(super) fn update(&self, entry: &mut Value) -> bool {
        let Some(field) = our_command(entry, self.field, self.bin, self.event, self.arg) else {
            return false;
        };
        let changed = entry[field] != self.command;
        if changed {
            entry[field] = self.command.into();
        }
        changed
    }
}

/// The hook parser's reading of `argv`: as the hook reads it, and a line with what this version
/// does not know (a newer setup's flag) as the hook reads it too, without that.
fn matches(argv: &[OsString]) -> Option<ArgMatches> {
    if let Ok(matches) = HookLine::command().try_get_matches_from(argv) {
        return Some(matches);
    }
    if !names_hook(argv) {
        return None;
    }
    let lenient = hook_lenient::read(argv).filter(|l| !l.event_missing)?;
    HookLine::command().try_get_matches_from(&lenient.argv).ok()
}

/// The values given for `id`, as written.
fn raw(matches: &ArgMatches, id: &str) -> Vec<String> {
    matches
        .try_get_raw(id)
        .ok()
        .flatten()
        .into_iter()
        .flatten()
        .map(|v| v.to_string_lossy().into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(command: &str) -> Option<OurHook> {
        OurHook::read(command, "/elsewhere/agent-strace")
    }

    #[test]
    fn every_line_the_hook_takes_is_ours_for_its_event() {
        for command in [
            "agent-strace hook stop",
            "agent-strace hook stop --no-redact",
            "agent-strace hook stop --trace-dir '/t/my store'",
            "agent-strace --trace-dir /t hook stop",
            "agent-strace hook Stop",
            "'/home/me/my hooks/agent-strace' hook --redact stop",
            "/elsewhere/agent-strace hook stop --agent cursor",
            "agent-strace hook --some-newer-flag stop",
        ] {
            let hook = read(command).unwrap_or_else(|| panic!("{command}"));
            assert!(hook.runs_for("Stop", "stop"), "{command}");
            assert!(!hook.runs_for("PreToolUse", "pre-tool"), "{command}");
        }
        let cursor = read("agent-strace hook --agent cursor preToolUse").unwrap();
        assert!(cursor.runs_for("preToolUse", "pre-tool"));
        for other in [
            "./guard.sh stop",
            "agent-strace list",
            "agent-strace hook",
            "agent-strace hook stop && ./notify.sh",
            "agent-strace-wrapper hook stop",
        ] {
            assert_eq!(read(other), None, "{other}");
        }
    }

    #[test]
    fn options_not_restated_are_dropped() {
        let before = read(
            "agent-strace --trace-dir /t hook --mask --policy '/p/a b.json' --redact-pattern 'K-[0-9]+' --redact-pattern X stop",
        )
        .unwrap();
        let plain = read("agent-strace hook stop").unwrap();
        assert_eq!(
            before.dropped(&plain),
            [
                "--policy '/p/a b.json'",
                "--mask",
                "--redact-pattern 'K-[0-9]+'",
                "--redact-pattern X",
                "--trace-dir /t"
            ]
        );
        let restated = read(
            "agent-strace hook --policy /q.json --redact-pattern X --trace-dir /u --mask stop",
        )
        .unwrap();
        assert_eq!(before.dropped(&restated), ["--redact-pattern 'K-[0-9]+'"]);
        assert!(plain.dropped(&before).is_empty());
    }
}
