//! A hook's command line that does not parse, read for as much as it says: a newer `setup` may
//! write a flag or an agent this binary does not know into the agent's settings, and the hook
//! must still judge the call by the user's policy and record it (the agent runs the call either
//! way). What this version does not know is left out and named, for the hook's one log line.

use std::ffi::OsString;

use clap::CommandFactory;
use clap::error::{ContextKind, ContextValue};

use super::{HookLine, HookOnly};
use crate::capture::hooks;

/// A hook's command line read leniently.
#[derive(Debug)]
pub(super) struct Lenient {
    pub(super) line: HookLine,
    /// The command line as read (the program first), without what was left out.
    pub(super) argv: Vec<OsString>,
    /// What was left out, each as it was written (a flag with the words taken as its values).
    pub(super) ignored: Vec<String>,
    /// The line names no event: `line`'s is a stand-in, and the hook cannot run as asked.
    pub(super) event_missing: bool,
}

impl Lenient {
    pub(super) fn hook(&self) -> &super::hook::HookArgs {
        let HookOnly::Hook(args) = &self.line.command;
        args
    }
}

/// A flag the hook's parser knows, by its long and short names.
struct Known {
    long: Option<String>,
    short: Option<char>,
    takes_value: bool,
}

fn known_flags() -> Vec<Known> {
    let line = HookLine::command();
    let hook = line.find_subcommand("hook").cloned();
    line.get_arguments()
        .chain(hook.iter().flat_map(clap::Command::get_arguments))
        // A hook run by an agent wants neither help nor a version.
        .filter(|a| !a.is_positional() && !matches!(a.get_id().as_str(), "help" | "version"))
        .map(|a| Known {
            long: a.get_long().map(str::to_owned),
            short: a.get_short(),
            takes_value: a.get_action().takes_values(),
        })
        .collect()
}

/// A word after `hook`: a candidate for the event, or a value of the unknown flag before it.
struct Word {
    text: OsString,
    /// The unknown flag (its place in `ignored`) this word came right after.
    after_unknown: Option<usize>,
}

/// The hook's arguments and global flags that `args` (a hook's command line, as `names_hook`
/// says) holds, without what this version does not know: unknown flags, with the word after
/// each when it is not the event (the event is the word that names a known event, else one
/// that follows no unknown flag, else the first); a value a flag does not take (an unknown
/// `--agent`, which then is told by the payload). `None` when even that does not parse.
pub(super) fn read(args: &[OsString]) -> Option<Lenient> {
    let known = known_flags();
    let mut argv: Vec<OsString> = args.first().cloned().into_iter().collect();
    let mut ignored: Vec<String> = Vec::new();
    let mut words: Vec<Word> = Vec::new();
    let mut seen_hook = false;
    let mut options_end = false;
    let mut pending: Option<usize> = None;
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        let text = arg.to_string_lossy();
        if options_end || !text.starts_with('-') || text == "-" {
            let after_unknown = pending.take();
            if seen_hook {
                words.push(Word {
                    text: arg.clone(),
                    after_unknown,
                });
            } else if text == "hook" {
                seen_hook = true;
                argv.push(arg.clone());
            } else if let Some(at) = after_unknown {
                ignored[at] = format!("{} {text}", ignored[at]);
            } else {
                return None;
            }
            continue;
        }
        pending = None;
        if text == "--" {
            options_end = true;
            continue;
        }
        let flag = match text.strip_prefix("--") {
            Some(long) => {
                let name = long.split('=').next().unwrap_or_default();
                known
                    .iter()
                    .find(|k| k.long.as_deref() == Some(name))
                    .map(|k| k.takes_value && !long.contains('='))
            }
            None => text
                .chars()
                .nth(1)
                .and_then(|c| known.iter().find(|k| k.short == Some(c)))
                .map(|k| k.takes_value && text.len() == 2),
        };
        if let Some(takes_next) = flag {
            argv.push(arg.clone());
            if takes_next && let Some(value) = rest.next() {
                argv.push(value.clone());
            }
        } else {
            if !text.contains('=') {
                pending = Some(ignored.len());
            }
            ignored.push(text.into_owned());
        }
    }
    if !seen_hook {
        return None;
    }
    let event = words
        .iter()
        .enumerate()
        .max_by_key(|(at, word)| {
            let named = word.text.to_str().is_some_and(hooks::is_event_name);
            (named, word.after_unknown.is_none(), std::cmp::Reverse(*at))
        })
        .map(|(at, _)| at);
    for (at, word) in words.iter().enumerate() {
        if Some(at) == event {
            continue;
        }
        let text = word.text.to_string_lossy();
        match word.after_unknown {
            Some(flag) => ignored[flag] = format!("{} {text}", ignored[flag]),
            None => ignored.push(text.into_owned()),
        }
    }
    argv.push("--".into());
    let event_missing = event.is_none();
    argv.push(event.map_or_else(OsString::new, |at| words[at].text.clone()));
    // A value a known flag does not take (an agent this version does not know, a colour):
    // that flag is left out too, and parsing tried again.
    for _ in 0..=known.len() {
        let error = match <HookLine as clap::Parser>::try_parse_from(&argv) {
            Ok(line) => {
                return Some(Lenient {
                    line,
                    argv,
                    ignored,
                    event_missing,
                });
            }
            Err(error) => error,
        };
        let Some(ContextValue::String(shown)) = error.get(ContextKind::InvalidArg) else {
            return None;
        };
        let long = shown.split([' ', '=']).next().unwrap_or_default();
        let end = argv.iter().position(|a| a == "--").unwrap_or(argv.len());
        let at = argv[..end].iter().position(|a| {
            let a = a.to_string_lossy();
            a == long || a.starts_with(&format!("{long}="))
        })?;
        if !long.starts_with("--") {
            return None;
        }
        let flag = argv.remove(at);
        let mut left_out = flag.to_string_lossy().into_owned();
        let takes_value = known
            .iter()
            .any(|k| k.takes_value && k.long.as_deref() == long.strip_prefix("--"));
        if takes_value && !left_out.contains('=') && at < end - 1 {
            left_out = format!("{left_out} {}", argv.remove(at).to_string_lossy());
        }
        ignored.push(left_out);
    }
    None
}

#[cfg(test)]
mod tests {
    fn read(line: &str) -> Option<super::Lenient> {
        let args: Vec<std::ffi::OsString> = line.split(' ').map(Into::into).collect();
        super::read(&args)
    }

    #[test]
    fn unknown_flags_are_left_out_with_their_values_and_the_event_kept() {
        for (line, event, ignored) in [
            (
                "agent-strace hook --new-flag value pre-tool",
                "pre-tool",
                vec!["--new-flag value"],
            ),
            (
                "agent-strace hook pre-tool --new-flag value",
                "pre-tool",
                vec!["--new-flag value"],
            ),
            (
                "agent-strace hook --new-flag pre-tool",
                "pre-tool",
                vec!["--new-flag"],
            ),
            (
                "agent-strace hook --new-flag Custom --agent cursor beforeSubmitPrompt",
                "beforeSubmitPrompt",
                vec!["--new-flag Custom"],
            ),
            (
                "agent-strace --new-global v --trace-dir /t hook -x --a=b stop",
                "stop",
                vec!["--new-global v", "-x", "--a=b"],
            ),
            (
                "agent-strace hook --agent future pre-tool --color rainbow",
                "pre-tool",
                vec!["--agent future", "--color rainbow"],
            ),
            (
                "agent-strace hook --version --help stop",
                "stop",
                vec!["--version", "--help"],
            ),
        ] {
            let got = read(line).expect(line);
            assert!(!got.event_missing, "{line}");
            assert!(format!("{:?}", got.hook()).contains(event), "{line}");
            assert_eq!(got.ignored, ignored, "{line}");
        }
        let got = read("agent-strace hook --trace-dir /t --policy p.json --new").unwrap();
        assert!(got.event_missing);
        assert_eq!(got.ignored, ["--new"]);
        assert!(format!("{:?}", got.line.globals).contains("/t"));
        assert!(read("agent-strace list").is_none());
    }
}
