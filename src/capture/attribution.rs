//! Who started a session and where: user, host, folder, git repository, branch and commit,
//! agent and its version, model. Recorded once, when a session starts, in `meta.json`'s
//! `attribution` object, under the keys the Python tool's hooks write there.
//!
//! The hook is a hot path (≤ 2 ms), so git is read from its files (`.git/HEAD`, the ref it
//! names, `packed-refs`, `config`; a worktree's `.git` file and `commondir`), never by running
//! `git`. What the environment says (the user, the agent's version) is collected by `cli` and
//! handed in.

use std::path::{Path, PathBuf};

use crate::model::SessionMeta;

/// The keys of `attribution` (the Python tool's names, where it has one).
pub mod keys {
    pub const OS_USER: &str = "os_user";
    pub const HOSTNAME: &str = "hostname";
    pub const WORKING_DIR: &str = "working_dir";
    pub const GIT_REPO: &str = "git_repo";
    pub const GIT_BRANCH: &str = "git_branch";
    pub const GIT_COMMIT: &str = "git_commit";
    pub const AGENT: &str = "agent_provider";
    pub const AGENT_VERSION: &str = "agent_version";
    pub const MODEL: &str = "model";
}

/// Who and where, as far as it is known; an unknown fact is left out of `meta.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    pub os_user: Option<String>,
    pub hostname: Option<String>,
    pub working_dir: Option<String>,
    pub git: Git,
    pub agent: Option<String>,
    pub agent_version: Option<String>,
    pub model: Option<String>,
}

/// The git repository a folder is in, at this moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Git {
    /// The `origin` remote's URL (else the first remote's), without credentials.
    pub repo: Option<String>,
    /// The branch checked out; `None` when HEAD is detached.
    pub branch: Option<String>,
    /// The commit HEAD names (full hash); `None` in a repository with no commit yet.
    pub commit: Option<String>,
}

impl Attribution {
    /// Writes what is known into `meta`'s `attribution`, keeping what is there already (a
    /// title an import gave, say).
    pub fn apply(&self, meta: &mut SessionMeta) {
        let pairs = [
            (keys::OS_USER, &self.os_user),
            (keys::HOSTNAME, &self.hostname),
            (keys::WORKING_DIR, &self.working_dir),
            (keys::GIT_REPO, &self.git.repo),
            (keys::GIT_BRANCH, &self.git.branch),
            (keys::GIT_COMMIT, &self.git.commit),
            (keys::AGENT, &self.agent),
            (keys::AGENT_VERSION, &self.agent_version),
            (keys::MODEL, &self.model),
        ];
        for (key, value) in pairs {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                meta.set_attribution(key, value);
            }
        }
    }
}

/// This machine's name (the kernel's, as `uname -n` gives it), without asking DNS.
pub fn hostname() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|file| {
            let name = std::fs::read_to_string(file).ok()?;
            let name = name.trim();
            (!name.is_empty()).then(|| name.to_owned())
        })
}

/// The most of a git file read (`packed-refs` of a large repository is the biggest).
const GIT_FILE_LIMIT: u64 = 16 * 1024 * 1024;

/// A git file's text. The folder is the agent's working folder (or above it), which anyone
/// who can write there shapes: a FIFO in a file's place would hold the hook forever, a link
/// to `/dev/zero` would take the machine's memory. Only a regular file is read, up to
/// [`GIT_FILE_LIMIT`].
fn read(path: &Path) -> std::io::Result<String> {
    crate::store::read_regular(path, GIT_FILE_LIMIT)
}

/// The git facts of the repository `dir` is in; all `None` outside one. Reads a few small
/// files; a file that cannot be read (or is not a regular file) leaves its fact unknown.
pub fn git(dir: &Path) -> Git {
    let Some((git_dir, common)) = find_git_dir(dir) else {
        return Git::default();
    };
    let head = read(&git_dir.join("HEAD")).unwrap_or_default();
    let head = head.trim();
    let (branch, commit) = match head.strip_prefix("ref:") {
        Some(reference) => {
            let reference = reference.trim();
            let branch = reference
                .strip_prefix("refs/heads/")
                .unwrap_or(reference)
                .to_owned();
            (Some(branch), resolve(&git_dir, &common, reference))
        }
        None => (None, is_hash(head).then(|| head.to_owned())),
    };
    let repo = read(&common.join("config"))
        .ok()
        .and_then(|config| remote_url(&config))
        .map(|url| strip_credentials(&url));
    Git {
        repo,
        branch,
        commit,
    }
}

/// The repository's git folder and its common folder (the same but in a linked worktree),
/// from `dir` up.
fn find_git_dir(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    for folder in dir.ancestors() {
        let dot_git = folder.join(".git");
        let Ok(meta) = std::fs::metadata(&dot_git) else {
            continue;
        };
        let git_dir = if meta.is_dir() {
            dot_git
        } else {
            // A worktree or submodule: `gitdir: <path>`, relative to the folder.
            let text = read(&dot_git).ok()?;
            let target = text.trim().strip_prefix("gitdir:")?.trim();
            folder.join(target)
        };
        let common = match read(&git_dir.join("commondir")) {
            Ok(text) => git_dir.join(text.trim()),
            Err(_) => git_dir.clone(),
        };
        return Some((git_dir, common));
    }
    None
}

/// The commit `reference` (`refs/heads/main`) names: its loose file (in the worktree's own
/// folder for per-worktree refs, else the common one), else its line in `packed-refs`.
fn resolve(git_dir: &Path, common: &Path, reference: &str) -> Option<String> {
    // A name that climbs out of the git folder is no ref.
    if reference
        .split('/')
        .any(|part| part == ".." || part.is_empty())
    {
        return None;
    }
    for dir in [git_dir, common] {
        if let Ok(text) = read(&dir.join(reference)) {
            let text = text.trim();
            if is_hash(text) {
                return Some(text.to_owned());
            }
        }
    }
    let packed = read(&common.join("packed-refs")).ok()?;
    packed.lines().find_map(|line| {
        let (hash, name) = line.split_once(' ')?;
        (name.trim() == reference && is_hash(hash)).then(|| hash.to_owned())
    })
}

fn is_hash(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The `url` of `[remote "origin"]` in a git config, else of the first remote that has one.
fn remote_url(config: &str) -> Option<String> {
    let mut section: Option<String> = None;
    let mut first: Option<String> = None;
    for line in config.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line
                .strip_prefix("[remote")
                .and_then(|rest| rest.trim().strip_suffix(']'))
                .map(|name| name.trim().trim_matches('"').to_owned());
            continue;
        }
        let Some(name) = &section else {
            continue;
        };
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("url") {
            continue;
        }
        let value = value.trim().trim_matches('"').to_owned();
        if name == "origin" {
            return Some(value);
        }
        first.get_or_insert(value);
    }
    first
}

/// A remote URL without what could let someone in: the user and password of
/// `scheme://user:password@host/…` (tokens are often put there) and any query string. An
/// scp-like `git@host:path` names an account, not a secret, and is kept.
pub fn strip_credentials(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_queries_are_stripped_from_remote_urls() {
        assert_eq!(
            strip_credentials("https://me:ghp_secret@github.com/o/r.git"),
            "https://github.com/o/r.git"
        );
        assert_eq!(
            strip_credentials("https://x-access-token:t@github.com/o/r?token=abc"),
            "https://github.com/o/r"
        );
        assert_eq!(
            strip_credentials("git@github.com:o/r.git"),
            "git@github.com:o/r.git"
        );
        assert_eq!(
            strip_credentials("ssh://git@host:22/o/r"),
            "ssh://host:22/o/r"
        );
    }

    #[test]
    fn origin_wins_over_other_remotes() {
        let config = "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://a/up\n[remote \"origin\"]\n\turl = https://a/origin\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n";
        assert_eq!(remote_url(config).as_deref(), Some("https://a/origin"));
        assert_eq!(
            remote_url("[remote \"fork\"]\n url = https://a/fork\n").as_deref(),
            Some("https://a/fork")
        );
        assert_eq!(remote_url("[core]\n url = nope\n"), None);
    }
}
