//! A policy made from what sessions did: every file read and written, every command and host,
//! with paths collapsed into globs, so that the sessions it came from pass `audit` under it.

use std::collections::BTreeSet;

use super::check::{Access, Place, absolute, accesses_where, relative};
use super::cwd::{is_windows_folder, windows_shaped};
use super::shell;
use super::{FilesFile, Lists, NetworkFile, PolicyFile};
use crate::model::glob::Glob;
use crate::model::view::ToolCall;

/// Gathers what sessions did, call by call.
#[derive(Debug, Default)]
pub struct Generator {
    reads: BTreeSet<String>,
    writes: BTreeSet<String>,
    commands: BTreeSet<String>,
    hosts: BTreeSet<String>,
    /// Sensitive files the sessions touched, which the policy names one by one.
    pub sensitive: BTreeSet<String>,
    /// A call that read the project's whole folder (a search or a listing of it), so that the
    /// read allow list is `**`, every file: the caller says so.
    pub whole_project_read: Option<String>,
}

/// Commands whose second word says what they do (`git push` is not `git status`).
const TWO_WORD: &[&str] = &[
    "git",
    "npm",
    "npx",
    "pnpm",
    "yarn",
    "bun",
    "cargo",
    "uv",
    "go",
    "docker",
    "kubectl",
    "gh",
    "pip",
    "pip3",
    "poetry",
    "make",
    "dotnet",
    "terraform",
    "helm",
    "brew",
    "apt",
    "apt-get",
    "systemctl",
    "rustup",
    "deno",
    "mvn",
    "gradle",
];

impl Generator {
    /// Takes in what one call made in `place` did, as a policy judges it: a call made in a
    /// Windows folder read in a Unix shape, so that its paths are globs of the project the
    /// session started in (`src\a.rs` is `src/**`), and one outside it said with its drive
    /// (`D:/tmp/**`).
    pub fn observe_call(&mut self, call: &ToolCall<'_>, place: &Place) {
        let (accesses, place, windows) = accesses_where(call, place);
        if windows {
            self.observe_spelt(&accesses, &place, &windows_shaped);
        } else {
            self.observe(&accesses, &place);
        }
    }

    /// Takes in what one call did.
    pub fn observe(&mut self, accesses: &[Access], place: &Place) {
        self.observe_spelt(accesses, place, &str::to_owned);
    }

    /// [`Generator::observe`], each path it keeps spelt by `spell`.
    fn observe_spelt(
        &mut self,
        accesses: &[Access],
        place: &Place,
        spell: &dyn Fn(&str) -> String,
    ) {
        let sensitive = super::sensitive::globs();
        for access in accesses {
            match access {
                Access::Read(p) | Access::Write(p) => {
                    let abs = absolute(p, place.cwd.as_deref());
                    let rel = relative(&abs, place);
                    let hit = sensitive.iter().any(|g| g.matches(rel.as_deref(), &abs));
                    let key = spell(&rel.clone().unwrap_or_else(|| abs.clone()));
                    if hit {
                        self.sensitive.insert(key.clone());
                    }
                    let glob = if hit {
                        exact(&key)
                    } else {
                        spell(&collapse(rel.as_deref(), &abs))
                    };
                    if matches!(access, Access::Read(_)) {
                        if glob == "**" && self.whole_project_read.is_none() {
                            self.whole_project_read = Some(spell(p));
                        }
                        self.reads.insert(glob);
                    } else {
                        self.writes.insert(glob);
                    }
                }
                Access::Run(line) => {
                    if let Some(cmd) = shell::split(line).into_iter().next() {
                        let words = shell::effective(&cmd.words);
                        if let Some(pattern) = command_pattern(words) {
                            self.commands.insert(pattern);
                        }
                    }
                }
                Access::Connect(host) => {
                    self.hosts.insert(host.clone());
                }
                Access::Tool(_) => {}
            }
        }
    }

    /// The policy: allow lists of what was seen, the network closed but for the hosts seen.
    pub fn finish(self) -> PolicyFile {
        PolicyFile {
            files: FilesFile {
                read: Lists {
                    allow: prune(&self.reads),
                    deny: Vec::new(),
                },
                write: Lists {
                    allow: prune(&self.writes),
                    deny: Vec::new(),
                },
            },
            commands: Lists {
                allow: self.commands.into_iter().collect(),
                deny: Vec::new(),
            },
            network: NetworkFile {
                deny_all: true,
                allow: self.hosts.into_iter().collect(),
                deny: Vec::new(),
            },
            tools: Lists::default(),
        }
    }
}

/// A glob naming one file exactly: a path below the project as it is, an absolute one with
/// its `/`.
fn exact(path: &str) -> String {
    path.to_owned()
}

/// The glob a path is collapsed into: a file in the project's top folder by name, anything
/// deeper by its top folder (`src/a/b.rs` → `src/**`); outside the project, its folder.
fn collapse(relative: Option<&str>, absolute: &str) -> String {
    match relative {
        Some("") => "**".to_owned(),
        Some(rel) => match rel.split_once('/') {
            Some((top, _)) => format!("{top}/**"),
            None => rel.to_owned(),
        },
        None => match absolute.rsplit_once('/') {
            Some(("", _)) | None => absolute.to_owned(),
            Some((dir, _)) if dir.starts_with('/') => format!("{dir}/**"),
            // `~/x`, `$HOME/x`: named as they are.
            Some(_) => absolute.to_owned(),
        },
    }
}

/// Drops globs that a broader one in the list already covers (`src/**` covers `src/a.rs`, and
/// `**` every path below the project: `["**", "src/**"]` read as if `src/**` narrowed it; a
/// path from a drive, `D:/tmp/**`, is none).
fn prune(globs: &BTreeSet<String>) -> Vec<String> {
    if globs.contains("**") {
        let below = |g: &&String| !g.starts_with(['/', '~', '$']) && !is_windows_folder(g);
        return globs
            .iter()
            .filter(|g| g.as_str() == "**" || !below(g))
            .cloned()
            .collect();
    }
    let wide: Vec<Glob> = globs
        .iter()
        .filter(|g| g.ends_with("/**") || g.as_str() == "**")
        .map(|g| Glob::new(g))
        .collect();
    globs
        .iter()
        .filter(|g| {
            let narrow = !g.ends_with("/**");
            !(narrow
                && wide.iter().any(|w| {
                    w.as_str() != g.as_str() && w.matches(Some(g), g) && !g.starts_with('/')
                        || (g.starts_with('/') && w.as_str() != g.as_str() && w.matches(None, g))
                }))
        })
        .cloned()
        .collect()
}

/// The pattern a command is allowed by: its name, with its second word for tools whose second
/// word is a subcommand.
fn command_pattern(words: &[String]) -> Option<String> {
    let first = words.first()?;
    let name = shell::basename(first);
    if name.is_empty() || name.contains("$(…)") {
        return None;
    }
    match words.get(1) {
        Some(sub)
            if TWO_WORD.contains(&name)
                && !sub.starts_with('-')
                && sub
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.')) =>
        {
            Some(format!("{first} {sub}"))
        }
        _ => Some(first.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::policy::check::command_accesses;

    /// A read of the project's folder itself allows every file below it, and says so: the
    /// narrower globs beside `**` are dropped (paths outside the project stay).
    fn g_whole(place: &Place) -> (Vec<String>, Option<String>) {
        let mut g = Generator::default();
        g.observe(
            &[
                Access::Read("/p/src/c.rs".into()),
                Access::Read(".".into()),
                Access::Read("/p/README.md".into()),
                Access::Read("/tmp/x/y".into()),
            ],
            place,
        );
        let whole = g.whole_project_read.clone();
        (g.finish().files.read.allow, whole)
    }

    #[test]
    fn paths_collapse_into_top_folders() {
        let place = Place {
            cwd: Some("/p".into()),
            roots: vec!["/p".into()],
            launch: None,
            home: None,
            probe: None,
            read: None,
        };
        let mut g = Generator::default();
        g.observe(
            &[
                Access::Read("/p/src/a/b.rs".into()),
                Access::Read("/p/src/c.rs".into()),
                Access::Read("/p/README.md".into()),
                Access::Read("/p/.env".into()),
                Access::Write("/tmp/x/out.txt".into()),
            ],
            &place,
        );
        g.observe(
            &command_accesses("git status && cargo test --lib | tee log.txt"),
            &place,
        );
        let file = g.finish();
        assert_eq!(file.files.read.allow, [".env", "README.md", "src/**"]);
        assert_eq!(file.files.write.allow, ["/tmp/x/**", "log.txt"]);
        assert_eq!(file.commands.allow, ["cargo test", "git status", "tee"]);
        assert!(file.network.deny_all);
        assert_eq!(
            g_whole(&place),
            (
                vec!["**".to_owned(), "/tmp/x/**".to_owned()],
                Some(".".to_owned())
            )
        );
        let text = serde_json::to_string(&file).unwrap();
        assert_eq!(crate::model::policy::parse_for_test(&text).source, file);
    }
}
