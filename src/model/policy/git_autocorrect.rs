//! The subcommand git runs for one it does not know when `help.autocorrect` lets it (`git -c
//! help.autocorrect=immediate psuh -f` runs `git push -f`): a deny of `git push --force` meets
//! such a word as `push`.

/// git's own commands (`git --list-cmds=main` of git 2.47, its `--` helpers left out): a word
/// that names one runs it, and is never taken for another.
const COMMANDS: &[&str] = &[
    "add",
    "am",
    "annotate",
    "apply",
    "archimport",
    "archive",
    "bisect",
    "blame",
    "branch",
    "bugreport",
    "bundle",
    "cat-file",
    "check-attr",
    "check-ignore",
    "check-mailmap",
    "check-ref-format",
    "checkout",
    "checkout-index",
    "cherry",
    "cherry-pick",
    "clean",
    "clone",
    "column",
    "commit",
    "commit-graph",
    "commit-tree",
    "config",
    "count-objects",
    "credential",
    "credential-cache",
    "credential-store",
    "cvsexportcommit",
    "cvsimport",
    "cvsserver",
    "daemon",
    "describe",
    "diagnose",
    "diff",
    "diff-files",
    "diff-index",
    "diff-tree",
    "difftool",
    "fast-export",
    "fast-import",
    "fetch",
    "fetch-pack",
    "filter-branch",
    "fmt-merge-msg",
    "for-each-ref",
    "for-each-repo",
    "format-patch",
    "fsck",
    "fsck-objects",
    "gc",
    "get-tar-commit-id",
    "grep",
    "hash-object",
    "help",
    "hook",
    "http-backend",
    "http-fetch",
    "http-push",
    "imap-send",
    "index-pack",
    "init",
    "init-db",
    "instaweb",
    "interpret-trailers",
    "log",
    "ls-files",
    "ls-remote",
    "ls-tree",
    "mailinfo",
    "mailsplit",
    "maintenance",
    "merge",
    "merge-base",
    "merge-file",
    "merge-index",
    "merge-octopus",
    "merge-one-file",
    "merge-ours",
    "merge-recursive",
    "merge-recursive-ours",
    "merge-recursive-theirs",
    "merge-resolve",
    "merge-subtree",
    "merge-tree",
    "mergetool",
    "mktag",
    "mktree",
    "multi-pack-index",
    "mv",
    "name-rev",
    "notes",
    "p4",
    "pack-objects",
    "pack-redundant",
    "pack-refs",
    "patch-id",
    "pickaxe",
    "prune",
    "prune-packed",
    "pull",
    "push",
    "quiltimport",
    "range-diff",
    "read-tree",
    "rebase",
    "receive-pack",
    "reflog",
    "refs",
    "remote",
    "remote-ext",
    "remote-fd",
    "remote-ftp",
    "remote-ftps",
    "remote-http",
    "remote-https",
    "repack",
    "replace",
    "replay",
    "request-pull",
    "rerere",
    "reset",
    "restore",
    "rev-list",
    "rev-parse",
    "revert",
    "rm",
    "send-email",
    "send-pack",
    "shell",
    "shortlog",
    "show",
    "show-branch",
    "show-index",
    "show-ref",
    "sparse-checkout",
    "stage",
    "stash",
    "status",
    "stripspace",
    "submodule",
    "svn",
    "switch",
    "symbolic-ref",
    "tag",
    "unpack-file",
    "unpack-objects",
    "update-index",
    "update-ref",
    "update-server-info",
    "upload-archive",
    "upload-pack",
    "var",
    "verify-commit",
    "verify-pack",
    "verify-tag",
    "version",
    "whatchanged",
    "worktree",
    "write-tree",
];

/// git's own commands that are programs of their own, not built into it (`git --list-cmds=main`
/// less `--list-cmds=builtins`): git runs one only when it is installed, which the line does not
/// say, and else an alias of its name.
const PROGRAMS: &[&str] = &[
    "archimport",
    "cvsexportcommit",
    "cvsimport",
    "cvsserver",
    "daemon",
    "filter-branch",
    "http-backend",
    "http-fetch",
    "http-push",
    "imap-send",
    "instaweb",
    "merge-octopus",
    "merge-one-file",
    "merge-resolve",
    "mergetool",
    "p4",
    "quiltimport",
    "remote-ftp",
    "remote-ftps",
    "remote-http",
    "remote-https",
    "request-pull",
    "send-email",
    "shell",
    "submodule",
    "svn",
];

/// Whether `word` names a command built into git, which git runs whatever alias has its name.
pub(super) fn is_builtin(word: &str) -> bool {
    COMMANDS.contains(&word) && !PROGRAMS.contains(&word)
}

/// The most git's guess may cost (`SIMILARITY_FLOOR` in git's `help.c`): a command further
/// from the word than this is never run for it.
const SIMILARITY_FLOOR: usize = 7;

/// Whether git, autocorrecting, may run `sub` for `word`: `word` names no git command and
/// is as close to `sub` as git's guess must be. git runs its guess only when no other command
/// is as close; that is not asked here, as the commands a user installs (`git-lfs`) and the
/// aliases of their settings are among those it weighs and cannot be known from the line. A
/// word taken for a denied command wrongly is only a line that would fail.
pub(super) fn may_run_as(word: &str, sub: &str) -> bool {
    !word.is_empty()
        && !word.starts_with('-')
        && word != sub
        && !COMMANDS.contains(&word)
        && levenshtein(word.as_bytes(), sub.as_bytes()) + 1 < SIMILARITY_FLOOR
}

/// git's weighted Damerau-Levenshtein distance of `word` to `candidate` as `help.c` calls it
/// (`levenshtein(cmd, candidate, 0, 2, 1, 3)`): a swap of two letters side by side costs 0, a
/// letter changed 2, one added 1, one taken away 3.
fn levenshtein(word: &[u8], candidate: &[u8]) -> usize {
    const SWAP: usize = 0;
    const CHANGE: usize = 2;
    const ADD: usize = 1;
    const TAKE: usize = 3;
    let len2 = candidate.len();
    let mut row0 = vec![0; len2 + 1];
    let mut row1: Vec<usize> = (0..=len2).map(|j| j * ADD).collect();
    let mut row2 = vec![0; len2 + 1];
    for (i, &a) in word.iter().enumerate() {
        row2[0] = (i + 1) * TAKE;
        for (j, &b) in candidate.iter().enumerate() {
            let mut cost = row1[j] + CHANGE * usize::from(a != b);
            if i > 0 && j > 0 && word[i - 1] == b && a == candidate[j - 1] {
                cost = cost.min(row0[j - 1] + SWAP);
            }
            cost = cost.min(row1[j + 1] + TAKE);
            cost = cost.min(row2[j] + ADD);
            row2[j + 1] = cost;
        }
        std::mem::swap(&mut row0, &mut row1);
        std::mem::swap(&mut row1, &mut row2);
    }
    row1[len2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_word_close_to_a_command_may_run_it() {
        for word in ["psuh", "puhs", "pusj", "psh", "pish"] {
            assert!(may_run_as(word, "push"), "{word}");
        }
        assert!(may_run_as("claen", "clean"));
        for (word, sub) in [("pull", "push"), ("status", "push"), ("xyzzy", "push")] {
            assert!(!may_run_as(word, sub), "{word}");
        }
    }

    #[test]
    fn the_distance_weighs_as_gits() {
        assert_eq!(levenshtein(b"psuh", b"push"), 0);
        assert_eq!(levenshtein(b"pusj", b"push"), 2);
        assert_eq!(levenshtein(b"psh", b"push"), 1);
        assert_eq!(levenshtein(b"pushh", b"push"), 3);
    }
}
