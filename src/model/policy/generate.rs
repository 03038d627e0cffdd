//! A policy made from what sessions did: every file read and written, every command and host,
//! with paths collapsed into globs anchored where the paths were (a file by its name in the
//! project's folder, never in any folder), so that the sessions it came from pass `audit` under
//! it; but for a path that climbs out of a folder no session recorded (`../x`), which no glob can
//! place: it is denied ([`ABOVE`]), and the caller says so.

use std::collections::BTreeSet;

use super::check::{Access, Place, absolute, accesses_where, climbs_out, relative};
use super::cwd::{is_windows_folder, windows_shaped};
use super::{FilesFile, Lists, NetworkFile, PolicyFile};
use super::{shell, wildcard};
use crate::model::glob::has_wildcard;
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
    /// The globs naming those files, kept beside a broader glob: only a pattern that names a
    /// sensitive file allows it.
    named: BTreeSet<String>,
    /// A call that read the project's whole folder (a search or a listing of it), so that the
    /// read allow list is [`EVERY_FILE`], every file below the project: the caller says so.
    pub whole_project_read: Option<String>,
    /// Paths that climb out of a folder no session recorded (`../build/out.txt`), which the
    /// policy does not allow: no glob can say where they are, and the caller says so.
    pub climbed_out: BTreeSet<String>,
    /// Whether a read, a write, climbed out so: the list gets [`ABOVE`] as a deny, so that
    /// it is closed to such paths even when it allows nothing else.
    read_above: bool,
    write_above: bool,
    /// Commands no rule can name ([`command_pattern`] gave none that reads back as itself): the
    /// policy leaves them out, and the caller says so.
    pub left_out: BTreeSet<String>,
}

/// The deny `policy` writes for paths that climb out of a folder no session recorded: it names
/// them alone ([`Glob::matches_above`](crate::model::glob::Glob::matches_above)), never a path
/// whose folder is known.
pub const ABOVE: &str = "../**";

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
                    if rel.is_none() && climbs_out(&abs) {
                        self.climbed_out.insert(spell(p));
                        if matches!(access, Access::Read(_)) {
                            self.read_above = true;
                        } else {
                            self.write_above = true;
                        }
                        continue;
                    }
                    let hit = sensitive.iter().any(|g| g.matches(rel.as_deref(), &abs));
                    let glob = if hit {
                        self.sensitive
                            .insert(spell(&rel.clone().unwrap_or_else(|| abs.clone())));
                        let glob = spell(&exact(rel.as_deref(), &abs));
                        self.named.insert(glob.clone());
                        glob
                    } else {
                        spell(&collapse(rel.as_deref(), &abs))
                    };
                    if matches!(access, Access::Read(_)) {
                        if glob == EVERY_FILE && self.whole_project_read.is_none() {
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
                        match command_pattern(words) {
                            Some(Ok(pattern)) => {
                                self.commands.insert(pattern);
                            }
                            Some(Err(name)) => {
                                self.left_out.insert(name);
                            }
                            None => {}
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
                    allow: prune(&self.reads, &self.named),
                    deny: above(self.read_above),
                },
                write: Lists {
                    allow: prune(&self.writes, &self.named),
                    deny: above(self.write_above),
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

/// The deny list of a section a path climbed out of an unknown folder in: [`ABOVE`].
fn above(climbed: bool) -> Vec<String> {
    if climbed {
        vec![ABOVE.to_owned()]
    } else {
        Vec::new()
    }
}

/// The glob of every file below the project (and of its folder itself): `**` alone would be
/// every file on the machine, as a pattern from `**` is matched against a path outside the
/// project too.
pub const EVERY_FILE: &str = "./**";

/// A glob naming one file exactly: a path below the project from the project's folder, one
/// outside it as the agent named it (`/etc/x`, `~/x`).
fn exact(relative: Option<&str>, absolute: &str) -> String {
    match relative {
        Some(rel) => below_project(&escape(rel)),
        None => escape(absolute),
    }
}

/// The glob a path is collapsed into: a file in the project's top folder by name, anything
/// deeper by its top folder (`src/a/b.rs` → `src/**`); outside the project, its folder. Each
/// is matched from where the path is: the project's names from its folder (`./hosts`, never
/// `/etc/hosts`), and the names the path holds are taken as they are written (a file named
/// `*` is `[*]`, not every file).
fn collapse(relative: Option<&str>, absolute: &str) -> String {
    match relative {
        Some("") => EVERY_FILE.to_owned(),
        Some(rel) => match rel.split_once('/') {
            Some((top, _)) => below_project(&format!("{}/**", escape(top))),
            None => below_project(&escape(rel)),
        },
        None => match absolute.rsplit_once('/') {
            Some(("", _)) | None => escape(absolute),
            Some((dir, _)) if dir.starts_with('/') => format!("{}/**", escape(dir)),
            // `~/x`, `$HOME/x`: named as they are.
            Some(_) => escape(absolute),
        },
    }
}

/// A glob of paths below the project, made to be read from the project's folder: one without
/// `/` would name a file in any folder (`hosts` is `/etc/hosts` too), and one from `~` or `$`
/// a path from the home folder or a variable.
fn below_project(glob: &str) -> String {
    if glob.contains('/') && !glob.starts_with(['~', '$']) {
        glob.to_owned()
    } else {
        format!("./{glob}")
    }
}

/// A path's text as a glob that matches it alone: each wildcard a set of itself (`*` is `[*]`,
/// `[` is `[[]`).
fn escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if matches!(c, '*' | '?' | '[') {
            out.extend(['[', c, ']']);
        } else {
            out.push(c);
        }
    }
    out
}

/// With [`EVERY_FILE`] in the list, drops the other globs below the project, which read as
/// if they narrowed it, but for those in `named` (sensitive files, which only a pattern naming
/// them allows); paths outside the project (`/tmp/**`, `~/x`, a drive's `D:/tmp/**`) stay.
fn prune(globs: &BTreeSet<String>, named: &BTreeSet<String>) -> Vec<String> {
    let below = |g: &String| !g.starts_with(['/', '~', '$']) && !is_windows_folder(g);
    let whole = globs.contains(EVERY_FILE);
    globs
        .iter()
        .filter(|g| !whole || g.as_str() == EVERY_FILE || named.contains(*g) || !below(g))
        .cloned()
        .collect()
}

/// The pattern a command is allowed by: its name, with its second word for tools whose second
/// word is a subcommand. `Err` holds a name no rule can hold as it is: one with a space, a
/// quote, a backslash, what joins commands ([`wildcard::refusal`]: the policy would fail to
/// read), or a wildcard (the rule would be a glob that must take every word after it, and
/// would meet the command with no arguments only).
fn command_pattern(words: &[String]) -> Option<Result<String, String>> {
    let first = words.first()?;
    let name = shell::basename(first);
    let name: &str = &name;
    if name.is_empty() || name.contains("$(…)") {
        return None;
    }
    let said = match words.get(1) {
        Some(sub)
            if TWO_WORD.contains(&name)
                && !sub.starts_with('-')
                && sub
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.')) =>
        {
            vec![first.as_str(), sub.as_str()]
        }
        _ => vec![first.as_str()],
    };
    let pattern = said.join(" ");
    let one_word_each = said
        .iter()
        .all(|w| !w.is_empty() && !w.contains(char::is_whitespace) && !has_wildcard(w));
    if one_word_each && wildcard::refusal(&pattern).is_none() {
        Some(Ok(pattern))
    } else {
        Some(Err(pattern))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::glob::Glob;
    use crate::model::policy::check::command_accesses;

    /// A read of the project's folder itself allows every file below it, and says so: the
    /// narrower globs beside [`EVERY_FILE`] are dropped (paths outside the project stay).
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
        assert_eq!(file.files.read.allow, ["./.env", "./README.md", "src/**"]);
        assert_eq!(file.files.write.allow, ["./log.txt", "/tmp/x/**"]);
        assert_eq!(file.commands.allow, ["cargo test", "git status", "tee"]);
        assert!(file.network.deny_all);
        assert_eq!(
            g_whole(&place),
            (
                vec![EVERY_FILE.to_owned(), "/tmp/x/**".to_owned()],
                Some(".".to_owned())
            )
        );
        let text = serde_json::to_string(&file).unwrap();
        assert_eq!(crate::model::policy::parse_for_test(&text).source, file);
    }

    /// A command whose name no rule can hold is left out and named: a rule of it made the
    /// policy fail to read (`"C:\\tools\\x.exe"` kept its backslashes), or met nothing.
    #[test]
    fn commands_no_rule_can_name_are_left_out() {
        let place = Place {
            cwd: Some("/p".into()),
            roots: vec!["/p".into()],
            launch: None,
            home: None,
            probe: None,
            read: None,
        };
        let mut g = Generator::default();
        for line in [
            r#""C:\tools\x.exe" --version"#,
            r#"'a"b' x"#,
            "'x|y' z",
            "'my tool' run",
            "'a*b' c",
            "git status",
        ] {
            g.observe(&command_accesses(line), &place);
        }
        let left_out: Vec<&str> = g.left_out.iter().map(String::as_str).collect();
        assert_eq!(
            left_out,
            [r"C:\tools\x.exe", r#"a"b"#, "a*b", "my tool", "x|y"]
        );
        let file = g.finish();
        assert_eq!(file.commands.allow, ["git status"]);
        for rule in &file.commands.allow {
            assert_eq!(wildcard::refusal(rule), None, "{rule}");
        }
    }

    /// The names a path holds are taken as written, and a name in the project's folder is
    /// matched there only: a file named `*` allowed every file, `hosts` `/etc/hosts` too.
    #[test]
    fn globs_match_only_the_paths_they_came_from() {
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
                Access::Write("/p/hosts".into()),
                Access::Write("/p/*".into()),
                Access::Write("/p/[a]?/b".into()),
                Access::Write("/p/~x/y".into()),
                Access::Write("/**".into()),
                Access::Write("/tmp/*/z".into()),
                Access::Write("/p/src/a.rs".into()),
                Access::Write("/p/src/.env".into()),
            ],
            &place,
        );
        let writes = g.finish().files.write.allow;
        assert_eq!(
            writes,
            [
                "./[*]",
                "./hosts",
                "./~x/**",
                "/[*][*]",
                "/tmp/[*]/**",
                "[[]a][?]/**",
                "src/**",
                "src/.env"
            ]
        );
        let globs: Vec<Glob> = writes.iter().map(|w| Glob::new(w)).collect();
        let allowed = |abs: &str| {
            let rel = relative(abs, &place);
            globs.iter().any(|g| g.matches(rel.as_deref(), abs))
        };
        for touched in [
            "/p/hosts",
            "/p/*",
            "/p/[a]?/b",
            "/p/~x/y",
            "/**",
            "/tmp/*/z",
        ] {
            assert!(allowed(touched), "{touched}");
        }
        for other in [
            "/etc/hosts",
            "/p/evil",
            "/usr/bin/evil",
            "/p/ab/b",
            "/tmp/q/z",
        ] {
            assert!(!allowed(other), "{other}");
        }
    }
}
