//! `export --anonymize` and `share --anonymize`: the anonymizer built from
//! `.agent-strace/anonymize.yaml` and what is known of this machine, and the `--dry-run`
//! listing of what it would replace.

use std::io::Write;

use anyhow::{Context, Result};
use regex::Regex;

use super::Globals;
use super::output::stdout;
use super::settings::{self, AnonymizeSettings};
use crate::error::Error;
use crate::exit;
use crate::export::anonymize::{Anonymizer, Find, Learned, Machine, Replacement, Report};
use crate::model::{Event, SessionMeta};
use crate::store::Store;

/// The anonymizer: the user's rules from the nearest `.agent-strace/anonymize.yaml`, and this
/// machine's home folder, user and host names (the machine that exports has often recorded).
pub(crate) fn anonymizer() -> Result<Anonymizer> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let loaded = settings::load::<AnonymizeSettings>(&cwd, None).map_err(|e| e.as_error())?;
    let mut rules = Vec::new();
    if let Some(loaded) = loaded {
        let file = loaded.path.display().to_string();
        for (i, rule) in loaded.settings.replace.iter().enumerate() {
            let with = rule.with.clone().unwrap_or_else(|| "[REDACTED]".to_owned());
            let (find, text) = match (&rule.literal, &rule.regex) {
                (Some(literal), None) if !literal.is_empty() => {
                    (Find::Literal(literal.clone()), literal.clone())
                }
                (None, Some(pattern)) => {
                    let compiled = Regex::new(pattern).map_err(|e| {
                        Error::input(format!(
                            "{file}: `replace[{i}].regex`: not a regular expression: {}",
                            e.to_string().lines().last().unwrap_or_default().trim()
                        ))
                    })?;
                    (Find::Regex(compiled), pattern.clone())
                }
                _ => {
                    return Err(Error::input(format!(
                        "{file}: `replace[{i}]`: give one of `literal` (not empty) and `regex`"
                    ))
                    .into());
                }
            };
            rules.push(Replacement {
                find,
                with,
                name: rule.name.clone().unwrap_or(text),
            });
        }
    }
    Ok(Anonymizer::new(rules, machine()))
}

/// What the parents of session `meta` revealed of where it ran, for a subagent exported or
/// shared on its own: its `meta.json` names no user, host, folder or repository, its root's
/// does. `None` for a root; a parent no longer in the store (or unreadable) ends the chain
/// there, with what the parents below it revealed.
pub(crate) fn inherited(
    store: &Store,
    anonymizer: &Anonymizer,
    meta: &SessionMeta,
) -> Option<Learned> {
    let mut chain: Vec<(SessionMeta, Vec<Event>)> = Vec::new();
    let mut seen = std::collections::HashSet::from([meta.session_id.clone()]);
    let mut next = meta.parent_session_id.clone();
    // A corrupt store could link a session to one of its children; never loop.
    while let Some(id) = next.filter(|id| seen.insert(id.clone())) {
        let Ok(summary) = store.summary(&id) else {
            break;
        };
        let Ok(events) = store.events(&id) else {
            break;
        };
        let parent = summary.meta.parent_session_id.clone();
        chain.push((summary.meta, events.collect()));
        next = parent;
    }
    let mut learned = None;
    for (meta, events) in chain.iter().rev() {
        learned = Some(anonymizer.in_tree(meta, events, learned.as_ref()).1);
    }
    learned
}

/// What the environment says of this machine.
fn machine() -> Machine {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    Machine {
        homes: var("HOME").into_iter().collect(),
        users: ["USER", "LOGNAME"].iter().filter_map(|n| var(n)).collect(),
        hosts: crate::capture::attribution::hostname()
            .into_iter()
            .collect(),
    }
}

/// `--dry-run`: per kind, how many replacements and a few examples (what was found and what
/// replaces it), as JSON; nothing is exported or written.
pub(crate) fn print_dry_run(report: &Report, globals: &Globals) -> Result<u8> {
    let mut out = stdout(globals.colour());
    crate::render::json::write(&mut out, report)?;
    out.flush()?;
    Ok(exit::OK)
}
