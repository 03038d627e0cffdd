//! What git does to the files of its work tree and history: the files it prints (`git show
//! HEAD:secrets/k`, `git log -p secrets/k`), writes back from a revision or the index (`git
//! checkout HEAD -- secrets/k`, `git restore`), removes or moves (`git rm`, `git mv`, `git
//! clean -f`), copies into the repository (`git add`, `git commit secrets/k`), into an archive,
//! or searches; and the files its settings name (`-c include.path=…`).

use std::collections::HashMap;

use super::shell::{FileUse, short_letters};

/// A word git takes for a path (a pathspec: a file, or a folder and all below it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitPath {
    pub path: String,
    /// git writes it (from a revision or the index) and so reads what it writes.
    pub write: bool,
    /// git takes it for a path whatever it names (after `--`, after `git archive`'s revision,
    /// any of `git restore`'s). Otherwise git takes it for a revision when it names one, and for
    /// a path only when it does not, and the line does not say which: it is judged as a path
    /// when a file or folder of that name is there, else only by what a deny names (it may be
    /// a file the work tree lost).
    pub certain: bool,
    /// Named as the folder the line started in, it is as no path at all (`git restore .` is
    /// every change, `git log -p .` every commit's patch), which is not judged whole: that would
    /// stop the day's `git diff` under any deny below the project. Elsewhere (`cd secrets && git
    /// restore .`) it is.
    pub here_is_none: bool,
    /// Which rules judge it ([`JudgedBy`]).
    pub judged_by: JudgedBy,
}

/// Which of a policy's rules judge a path git takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JudgedBy {
    /// Every rule: git shows or changes the file.
    EveryRule,
    /// A deny and the sensitive list, not a read allow list's miss: git copies the file into
    /// the repository without showing the agent anything of it (`git add`, `git commit
    /// <path>`); a secret committed leaves with the next push. A read allow list is about what
    /// the agent sees (`git diff file`, which shows it, is judged by the list).
    Denies,
}

/// The paths a git command takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitPaths {
    pub paths: Vec<GitPath>,
    /// git goes through the whole folder it runs in unless it is given a path, or a word it may
    /// take for one names a file or folder there (`git grep KEY HEAD` searches every file, `git grep KEY src` those of `src`;
    /// `git archive HEAD` copies every file).
    pub whole_otherwise: bool,
    /// The patches git applies to the work tree (`git apply p.patch`, `git am p.mbox`).
    pub patches: Vec<GitPatch>,
}

/// A patch git or `patch` applies: the files it names are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitPatch {
    pub file: String,
    /// How many leading folders of a name are taken away (`-p1`, git's default, takes `a/`);
    /// `None`: all of them, as `patch` does without `-p` (`a/src/x.rs` is `x.rs`).
    pub strip: Option<usize>,
    /// The folder put before each name (`git apply --directory=sub`, `patch -d sub`).
    pub directory: Option<String>,
    /// Which program reads it ([`Applier`]).
    pub by: Applier,
}

/// The program that applies a patch, which says where its names are from and which headers
/// name a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applier {
    /// `git apply`, `git am`: names from the repository's top; unified diffs only.
    Git,
    /// `patch`: names from where it runs; a context diff's `*** name` too.
    Patch,
}

/// git's own options before its subcommand that take a value in the next word.
pub(super) const GIT_VALUED: &[&str] = &[
    "-C",
    "-c",
    "--config-env",
    "--git-dir",
    "--work-tree",
    "--namespace",
];

/// git's own options before its subcommand that take no value.
const GIT_PLAIN: &[&str] = &[
    "-p",
    "--paginate",
    "-P",
    "--no-pager",
    "--bare",
    "--no-replace-objects",
    "--no-lazy-fetch",
    "--no-optional-locks",
    "--no-advice",
    "--literal-pathspecs",
    "--glob-pathspecs",
    "--noglob-pathspecs",
    "--icase-pathspecs",
    "--exec-path",
    "--html-path",
    "--man-path",
    "--info-path",
];

/// Where git's subcommand is in `args` (the words after `git`): the first word past git's own
/// options and their values. `None` when there is none, or an option of git's that is not
/// known comes first: it may take the next word for its value.
pub(super) fn subcommand_at(args: &[String]) -> Option<usize> {
    let mut at = 0;
    while let Some(w) = args.get(at) {
        if !w.starts_with('-') {
            return Some(at);
        }
        // A long option with its value glued on (`--git-dir=.git`) is one word.
        let glued = w.starts_with("--") && w.contains('=');
        if GIT_VALUED.contains(&w.as_str()) {
            at += 1;
        } else if !glued && !GIT_PLAIN.contains(&w.as_str()) {
            return None;
        }
        at += 1;
    }
    None
}

/// Settings whose value is a line git hands a shell (`core.pager`, `diff.external`, a
/// filter's `clean`), by their name in lower case; `*` stands for one part of the name
/// (`pager.log`, `diff.word.textconv`). An alias or a credential helper is one only when its
/// value starts with `!`.
const CONFIG_LINES: &[&str] = &[
    "core.pager",
    "pager.*",
    "core.editor",
    "sequence.editor",
    "core.sshcommand",
    "core.askpass",
    "core.fsmonitor",
    "diff.external",
    "diff.*.command",
    "diff.*.textconv",
    "merge.*.driver",
    "filter.*.clean",
    "filter.*.smudge",
    "filter.*.process",
    "gpg.program",
];

/// The lines git's own `-c key=value` options give it to run with a shell (`git -c
/// alias.x='!cat k' x`, `git -c core.pager='cat k' log`), and the program a subcommand's
/// option names for the other end of a repository on this disk (`git fetch --upload-pack='cat
/// k' .`, `git clone -u`, `git push --receive-pack`, `git archive --exec`), which git runs with
/// a shell; joined by `;`.
pub(super) fn config_lines(args: &[String]) -> Option<String> {
    let mut lines = Vec::new();
    let mut words = args.iter();
    while let Some(w) = words.next() {
        if !w.starts_with('-') {
            lines.extend(transport_programs(w, words.as_slice()));
            break;
        }
        if w != "-c" {
            if GIT_VALUED.contains(&w.as_str()) {
                words.next();
            }
            continue;
        }
        if let Some((key, value)) = words.next().and_then(|kv| kv.split_once('=')) {
            lines.extend(config_line(key, value, args, &[]));
        }
    }
    (!lines.is_empty()).then(|| lines.join("; "))
}

/// The programs `sub`'s options (in `words`, up to `--`) name for git to run with a shell at the
/// other end of a repository on this disk.
fn transport_programs(sub: &str, words: &[String]) -> Vec<String> {
    let names: &[&str] = match sub {
        "clone" => &["--upload-pack", "-u"],
        "fetch" | "pull" | "ls-remote" => &["--upload-pack"],
        "push" | "send-pack" => &["--receive-pack", "--exec"],
        "archive" => &["--exec"],
        _ => return Vec::new(),
    };
    let mut programs = Vec::new();
    let mut words = words.iter().take_while(|w| *w != "--");
    while let Some(w) = words.next() {
        if let Some((name, value)) = w.split_once('=')
            && names.contains(&name)
        {
            programs.push(value.to_owned());
        } else if names.contains(&w.as_str()) {
            programs.extend(words.next().cloned());
        }
    }
    programs
}

/// The line a setting gives git to run with a shell, if it gives one; of an alias that names a
/// git command, the line git runs in its place when `args` (the words after `git`, run with
/// the `NAME=value` words of `env` set) use it.
fn config_line(key: &str, value: &str, args: &[String], env: &[String]) -> Option<String> {
    let key = key.to_ascii_lowercase();
    let shelled = value.strip_prefix('!');
    if shelled.is_none()
        && let Some(name) = key.strip_prefix("alias.")
    {
        return alias_line(name, value, args, env);
    }
    let line = if key.starts_with("alias.") || key.starts_with("credential.") {
        shelled
    } else if CONFIG_LINES
        .iter()
        .any(|pattern| config_key_is(&key, pattern))
        && !is_plain(value)
    {
        Some(shelled.unwrap_or(value))
    } else {
        None
    };
    line.map(str::to_owned)
}

/// The git command an alias of `name` for `value` (a git command and its words, not a `!` line)
/// runs when `args` (the words after `git`) use it: `git -c alias.p=push p origin` runs `git
/// push origin`, so a deny of `git push` stops it. git's own options stay before it, so that an
/// alias of an alias (`-c alias.q=p -c alias.p=push q`) is read in turn; git refuses an alias
/// that names itself, which is read to the reader's depth and left unread past it.
///
/// git runs a command built into it whatever an alias is named (`-c alias.push='push -f' push`
/// is `git push`); a word it does not know it looks up among its aliases (in any case) before
/// it autocorrects it, and when `help.autocorrect` is on (by git's own options or `env`) it
/// may run the alias it guesses (`-c alias.pushf='push -f' pushff`).
fn alias_line(name: &str, value: &str, args: &[String], env: &[String]) -> Option<String> {
    let mut words = args.iter().enumerate();
    let at = loop {
        let (i, w) = words.next()?;
        if !w.starts_with('-') {
            break i;
        }
        if GIT_VALUED.contains(&w.as_str()) {
            words.next();
        }
    };
    let (own, word) = (&args[..at], &args[at]);
    if super::git_autocorrect::is_builtin(word) {
        return None;
    }
    let guessed = || {
        !super::git_autocorrect::is_builtin(name)
            && super::git_autocorrect::may_run_as(word, name)
            && !names_alias(own, word)
            && super::git_settings::autocorrects(own, env)
    };
    if !word.eq_ignore_ascii_case(name) && !guessed() {
        return None;
    }
    let own = super::shell::join(own);
    let rest = super::shell::join(&args[at + 1..]);
    Some(format!("git {own} {value} {rest}"))
}

/// Whether git's own options (`own`) give an alias named `word` (`-c alias.st=status st`),
/// which git runs rather than guess another for it.
fn names_alias(own: &[String], word: &str) -> bool {
    let alias = format!("alias.{word}");
    own.windows(2).any(|pair| {
        let key = pair[1]
            .split_once('=')
            .map_or(pair[1].as_str(), |(key, _)| key);
        pair[0] == "-c" && key.eq_ignore_ascii_case(&alias)
    })
}

/// Settings whose value names a file git reads, by their name in lower case (`*` as in
/// [`CONFIG_LINES`]): a config file it includes, the ignore and attributes files, the message
/// template, a TLS key or certificate, a cookie file.
const CONFIG_FILES: &[&str] = &[
    "include.path",
    "includeif.*.path",
    "core.excludesfile",
    "core.attributesfile",
    "commit.template",
    "blame.ignorerevsfile",
    "mailmap.file",
    "gpg.ssh.allowedsignersfile",
    "http.sslcert",
    "http.sslkey",
    "http.sslcainfo",
    "http.cookiefile",
    "http.*.sslcert",
    "http.*.sslkey",
    "http.*.sslcainfo",
    "http.*.cookiefile",
];

/// Settings whose value names a folder git goes through: the hooks it runs (`core.hooksPath`),
/// its work tree (`core.worktree`, as `--work-tree`), the template it copies into a new
/// repository.
const CONFIG_FOLDERS: &[&str] = &["core.hookspath", "core.worktree", "init.templatedir"];

/// The files and folders git reads that its settings name, given by its own `-c key=value`
/// options (`git -c include.path=secrets/k status`, `git -c core.hooksPath=secrets commit`), by
/// `--config-env=key=VAR` (the variable's value: a path the line does not spell, `$VAR`), or
/// by its environment as `-c` gives them (`GIT_CONFIG_PARAMETERS`, `GIT_CONFIG_KEY_0` with
/// `GIT_CONFIG_VALUE_0`; `set` holds the `NAME=value` words of the line's environment).
pub(super) fn config_files<'a>(
    set: impl Iterator<Item = &'a String>,
    args: &[String],
    use_: &mut FileUse,
) {
    let set: Vec<(&str, &str)> = set.filter_map(|w| w.split_once('=')).collect();
    let value_of = |name: &str| set.iter().rev().find(|(n, _)| *n == name).map(|(_, v)| *v);
    let mut settings: Vec<(String, String)> = Vec::new();
    let mut words = args.iter();
    while let Some(w) = words.next().filter(|w| w.starts_with('-')) {
        if w == "-c" {
            if let Some((key, value)) = words.next().and_then(|kv| kv.split_once('=')) {
                settings.push((key.to_owned(), value.to_owned()));
            }
            continue;
        }
        let from_env = match w.strip_prefix("--config-env") {
            Some("") => words.next().map(String::as_str),
            Some(joined) => joined.strip_prefix('='),
            None => {
                if GIT_VALUED.contains(&w.as_str()) {
                    words.next();
                }
                None
            }
        };
        if let Some((key, var)) = from_env.and_then(|kv| kv.rsplit_once('=')) {
            let value = value_of(var).map_or_else(|| format!("${var}"), str::to_owned);
            settings.push((key.to_owned(), value));
        }
    }
    // The settings' files the environment names in place of the user's and the system's (and
    // `git config`'s, as `-f` does).
    for var in ["GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG"] {
        if let Some(file) = value_of(var).filter(|f| !f.is_empty() && *f != "/dev/null") {
            use_.reads.push(file.to_owned());
        }
    }
    if let Some(params) = value_of("GIT_CONFIG_PARAMETERS") {
        // A setting with no value (`'key'`) is `true`, which names no file.
        let given = super::git_settings::parameters(params).unwrap_or_default();
        settings.extend(given.into_iter().map(|(k, v)| (k, v.unwrap_or_default())));
    }
    for (name, key) in &set {
        let value = name
            .strip_prefix("GIT_CONFIG_KEY_")
            .and_then(|n| value_of(&format!("GIT_CONFIG_VALUE_{n}")));
        if let Some(value) = value {
            settings.push(((*key).to_owned(), value.to_owned()));
        }
    }
    for (key, value) in settings {
        let key = key.to_ascii_lowercase();
        if value.is_empty() {
            continue;
        }
        if CONFIG_FILES.iter().any(|p| config_key_is(&key, p)) {
            use_.reads.push(value);
        } else if CONFIG_FOLDERS.iter().any(|p| config_key_is(&key, p)) {
            use_.works_in.push(value.clone());
            use_.read_trees.push(value);
        }
    }
}

/// Variables whose value git runs with a shell: its pager, editor, ssh command, external diff.
const ENV_LINES: &[&str] = &[
    "GIT_PAGER",
    "PAGER",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "VISUAL",
    "EDITOR",
    "GIT_SSH_COMMAND",
    "GIT_EXTERNAL_DIFF",
];

/// Values that run nothing beyond what git would run anyway, and read only what git hands
/// them: a pager that passes its input on (`GIT_PAGER=cat`, as agents set it) or an editor
/// that leaves the message as it is (`GIT_EDITOR=true`). Judged as commands, they would be
/// refused under every allow list of commands that names git alone.
const PLAIN_VALUES: &[&str] = &["true", "false", ":", "cat", "less", "more"];

/// The lines git runs of the environment it is given (`NAME=value` words: `GIT_PAGER='cat k'
/// git log`), settings given through it as `-c` gives them included:
/// `GIT_CONFIG_PARAMETERS="'alias.x'='!cat k'"`, `GIT_CONFIG_KEY_0=core.pager` with
/// `GIT_CONFIG_VALUE_0='cat k'`, and a variable git's own `--config-env=core.pager=X` names in
/// `args` (the words after `git`).
pub(super) fn env_lines<'a>(set: impl Iterator<Item = &'a String>, args: &[String]) -> Vec<String> {
    let env: Vec<String> = set.cloned().collect();
    let set: Vec<(&str, &str)> = env.iter().filter_map(|w| w.split_once('=')).collect();
    let mut lines: Vec<String> = set
        .iter()
        .filter(|(name, value)| {
            ENV_LINES.contains(name) && !value.is_empty() && !PLAIN_VALUES.contains(&value.trim())
        })
        .map(|(_, value)| (*value).to_owned())
        .collect();
    // Each name's last value, indexed once: a line of thousands of `GIT_CONFIG_KEY_<n>` words
    // would otherwise be scanned once per key.
    let last: HashMap<&str, &str> = set.iter().copied().collect();
    let value_of = |name: &str| last.get(name).copied();
    // Read as git reads it; one git cannot read stops git, which then runs nothing.
    if let Some(params) = value_of("GIT_CONFIG_PARAMETERS") {
        for (key, value) in super::git_settings::parameters(params).unwrap_or_default() {
            lines.extend(value.and_then(|value| config_line(&key, &value, args, &env)));
        }
    }
    // `GIT_CONFIG_COUNT` says how many pairs git takes; every pair given is read.
    for (name, key) in &set {
        let Some(n) = name.strip_prefix("GIT_CONFIG_KEY_") else {
            continue;
        };
        let value = value_of(&format!("GIT_CONFIG_VALUE_{n}"));
        lines.extend(value.and_then(|value| config_line(key, value, args, &env)));
    }
    let mut words = args.iter();
    while let Some(w) = words.next().filter(|w| w.starts_with('-')) {
        if GIT_VALUED.contains(&w.as_str()) {
            words.next();
        }
        let Some((key, var)) = w
            .strip_prefix("--config-env=")
            .and_then(|kv| kv.rsplit_once('='))
        else {
            continue;
        };
        lines.extend(value_of(var).and_then(|value| config_line(key, value, args, &env)));
    }
    lines
}

/// Whether a setting's value runs nothing: a boolean (`pager.log=false`) or a
/// [`PLAIN_VALUES`] one.
fn is_plain(value: &str) -> bool {
    let value = value.trim().to_ascii_lowercase();
    matches!(value.as_str(), "" | "yes" | "no" | "on" | "off" | "0" | "1")
        || PLAIN_VALUES.contains(&value.as_str())
}

/// Whether a setting's name is of `pattern`, whose `*` is one part of a name or more
/// (`diff.*.textconv` takes `diff.word.textconv`).
fn config_key_is(key: &str, pattern: &str) -> bool {
    match pattern.split_once('*') {
        Some((start, end)) => {
            key.len() > start.len() + end.len() && key.starts_with(start) && key.ends_with(end)
        }
        None => key == pattern,
    }
}

/// `git am`'s options that go on with (or stop) the patches it began, reading no new one.
const AM_GOING_ON: &[&str] = &[
    "--continue",
    "-r",
    "--resolved",
    "--skip",
    "--abort",
    "--quit",
    "--retry",
    "--show-current-patch",
];

/// The files `git format-patch` writes where it runs, as one name: a policy judges it as
/// written (`secrets/0001-x.patch` after `cd secrets`; outside an allow list of `src/**`).
const FORMAT_PATCH_NAME: &str = "0001-*.patch";

/// The subcommands that print a diff, which `--output` sends to a file instead.
const DIFFS: &[&str] = &[
    "diff",
    "log",
    "whatchanged",
    "show",
    "diff-tree",
    "diff-index",
    "diff-files",
    "range-diff",
    "format-patch",
    "stash",
];

/// The options of a subcommand that take a value in the next word (`-n 5`, `-s HEAD`): that
/// value is no path.
fn valued(sub: &str) -> &'static [&'static str] {
    match sub {
        "log" | "whatchanged" | "show" | "diff" | "difftool" | "diff-tree" | "diff-index"
        | "diff-files" | "range-diff" => &[
            "-n",
            "--output",
            "-L",
            "-S",
            "-G",
            "-O",
            "--author",
            "--committer",
            "--grep",
            "--since",
            "--until",
            "--after",
            "--before",
            "--max-count",
            "--skip",
        ],
        "checkout" => &["-b", "-B", "--orphan", "--conflict", "--pathspec-from-file"],
        "rm" | "add" | "reset" => &["--pathspec-from-file"],
        "commit" => &[
            "-m",
            "--message",
            "-F",
            "--file",
            "-C",
            "--reuse-message",
            "-c",
            "--reedit-message",
            "--fixup",
            "--squash",
            "--author",
            "--date",
            "-t",
            "--template",
            "--trailer",
            "--cleanup",
            "--pathspec-from-file",
        ],
        "hash-object" => &["-t", "--path"],
        "clone" => &[
            "-b",
            "--branch",
            "-o",
            "--origin",
            "-c",
            "--config",
            "-u",
            "--upload-pack",
            "-j",
            "--jobs",
            "--depth",
            "--shallow-since",
            "--shallow-exclude",
            "--reference",
            "--reference-if-able",
            "--separate-git-dir",
            "--template",
            "--filter",
            "--bundle-uri",
            "--revision",
            "--server-option",
            "--ref-format",
        ],
        "fetch" | "pull" => &[
            "--depth",
            "--deepen",
            "--shallow-since",
            "--shallow-exclude",
            "-j",
            "--jobs",
            "--upload-pack",
            "-o",
            "--server-option",
            "--negotiation-tip",
            "--filter",
            "--refmap",
            "-s",
            "--strategy",
            "-X",
            "--strategy-option",
            "--recurse-submodules-default",
            "--submodule-prefix",
        ],
        "config" => &["-f", "--file", "--blob", "--type", "--default", "--comment"],
        "tag" => &[
            "-m",
            "--message",
            "-F",
            "--file",
            "-u",
            "--local-user",
            "--cleanup",
        ],
        "merge" => &[
            "-m",
            "-F",
            "--file",
            "-s",
            "--strategy",
            "-X",
            "--strategy-option",
            "--cleanup",
        ],
        "notes" => &["-m", "--message", "-F", "--file", "-C", "-c", "--ref"],
        "format-patch" => &[
            "-o",
            "--output-directory",
            "--output",
            "-v",
            "--reroll-count",
            "--start-number",
            "--subject-prefix",
            "--suffix",
            "--signature-file",
            "--in-reply-to",
            "--to",
            "--cc",
        ],
        "clean" => &["-e", "--exclude"],
        "stash" => &["-m", "--message", "--pathspec-from-file", "--output"],
        "checkout-index" => &["--prefix", "--stage"],
        "restore" => &["-s", "--source", "--conflict", "--pathspec-from-file"],
        "archive" => &[
            "-o",
            "--output",
            "--prefix",
            "--format",
            "--remote",
            "--exec",
            "--add-file",
            "--add-virtual-file",
            "--mtime",
        ],
        "grep" => &[
            "-e",
            "-f",
            "-A",
            "-B",
            "-C",
            "-m",
            "--max-count",
            "--max-depth",
            "--threads",
            "--context",
            "--after-context",
            "--before-context",
        ],
        _ => &[],
    }
}

/// What git reads on its stdin (`git cat-file --batch`, `--pathspec-from-file=-`).
#[derive(Debug, Clone, Copy)]
pub enum Stdin<'a> {
    /// The line spells it ([`super::shell::SimpleCommand::fed`]).
    Text(&'a str),
    /// The file a redirection names (`git apply < p.patch`).
    File(&'a str),
    /// A file, another command's output, or what the line's group or loop is fed (`echo
    /// HEAD:k | (git cat-file --batch)`), which the line does not spell; so is nothing, which
    /// the reader cannot tell from those.
    Unknown,
}

/// A path of unknown name, in any folder (as `cat $(…)` reads), which a deny takes for any.
pub const UNKNOWN: &str = "$(…)";

/// The start of the path of a file a diff that could not be read writes (`git apply
/// missing.diff`), the diff's name after it: judged as [`UNKNOWN`] is (see `check.rs`,
/// `judge`), and named in a denial's reason (see `reason.rs`).
pub const UNREAD_DIFF: &str = "$(…unread diff)";

/// The files git shows, writes back, archives or searches ([`FileUse`]): a file as a revision
/// holds it (`git show HEAD:secrets/k`, `git cat-file -p :secrets/k`, `git diff HEAD:a
/// HEAD:b`), both sides of `git diff --no-index a b`, what `git blame` reads, and the paths
/// (see [`GitPath`]) of a command that prints their content (`git diff`, `git show`, `git log
/// -p`), writes them from a revision or the index (`git checkout`, `git restore`, `git
/// checkout-index`, `git stash push`), removes or moves them (`git rm`, `git mv`, `git clean
/// -f`), copies them into an archive (`git archive`, and the file `-o` names) or searches them (`git grep`). A
/// revision's path is git's from the repository's top, wherever git runs, unless it starts
/// with `./` or `../` (`HEAD:./secrets/k`), which git takes from where it runs.
pub(super) fn git_use(args: &[String], stdin: Stdin, use_: &mut FileUse) {
    let mut i = 0;
    while let Some(w) = args.get(i) {
        if !w.starts_with('-') {
            break;
        }
        i += if GIT_VALUED.contains(&w.as_str()) {
            2
        } else {
            1
        };
    }
    let Some(sub) = args.get(i) else {
        return;
    };
    // `git stage` is `git add`.
    let sub = match sub.as_str() {
        "stage" => "add",
        sub => sub,
    };
    // `git commit -am msg`: `-a` and `-m`, whose value is `msg`; `git config -lfsecrets/k`:
    // `-l`, and `-f` whose value is `secrets/k`.
    let apart;
    let rest = match clustered_values(sub) {
        Some(valued) => {
            apart = short_options_apart(&args[i + 1..], valued);
            &apart[..]
        }
        None => &args[i + 1..],
    };
    let dashes = rest.iter().position(|w| w == "--");
    let (before, after) = match dashes {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &rest[rest.len()..]),
    };
    let (options, operands) = split_options(before, valued(sub));
    // An option and its value, in the next word or after `=` (`--output=o.tar`).
    let given = |names: &'static [&'static str]| {
        options.iter().filter_map(move |(o, v)| {
            let (name, joined) = o.split_once('=').map_or((*o, None), |(n, v)| (n, Some(v)));
            names.contains(&name).then_some(joined.or(*v))
        })
    };
    let has = |names: &'static [&'static str]| given(names).next().is_some();
    let letter = |l: char| {
        options
            .iter()
            .any(|(o, _)| short_letters(o).is_some_and(|s| s.contains(l)))
    };
    let after_words = || after.iter().map(String::as_str);
    let mut paths = Vec::new();
    let mut whole_otherwise = false;
    let mut patches = Vec::new();
    let mut from_top = Vec::new();
    // `--output=o.diff` writes what a diff, log or show prints; `-O order` reads the order of
    // the files from a file.
    if DIFFS.contains(&sub) {
        use_.writes
            .extend(given(&["--output"]).flatten().map(str::to_owned));
        let orders = options.iter().filter_map(|(o, v)| match *o {
            "-O" => *v,
            _ => o.strip_prefix("-O").filter(|f| !f.is_empty()),
        });
        use_.reads.extend(orders.map(str::to_owned));
    }
    // The paths given in a file (`--pathspec-from-file=list`, `-` for stdin): the file is
    // read, and the paths in it, which the line does not name, are any path; where git writes
    // them they are judged as a path of unknown name, by a deny alone (see `UNKNOWN`), which
    // already stops what a deny names; the list is not opened to learn them (unlike a patch,
    // which would otherwise write unjudged), as what it holds when judged may change before
    // git reads it.
    let from_file: Vec<String> = match given(&["--pathspec-from-file"]).flatten().next() {
        Some("-") => match stdin {
            Stdin::Text(text) => text.split_whitespace().map(str::to_owned).collect(),
            Stdin::File(_) | Stdin::Unknown => vec![UNKNOWN.to_owned()],
        },
        Some(list) => {
            use_.reads.push(list.to_owned());
            vec![UNKNOWN.to_owned()]
        }
        None => Vec::new(),
    };
    let from_file = || from_file.iter().map(String::as_str);
    // `git add -p` (`-i`, `-e`) and `git commit -p` (`--interactive`) show the agent each
    // file's changes, as `git diff` does: those are read.
    let shows = match sub {
        "add" => {
            has(&["--patch", "--interactive", "--edit"]) || ['p', 'i', 'e'].into_iter().any(letter)
        }
        "commit" => has(&["--patch", "--interactive"]) || letter('p'),
        _ => false,
    };
    let mut push = |word: &str, write: bool, certain: bool, here_is_none: bool| {
        let judged_by = if matches!(sub, "add" | "commit" | "update-index") && !shows {
            JudgedBy::Denies
        } else {
            JudgedBy::EveryRule
        };
        let Some(spec) = pathspec(word) else {
            return;
        };
        // `git show :/fix` names the commit whose message says `fix`: a revision.
        if spec.from_top && !write && certain {
            from_top.push((String::new(), spec.path.clone()));
        }
        paths.push(GitPath {
            path: spec.path,
            write,
            certain: certain || spec.wild,
            here_is_none: here_is_none && !spec.wild,
            judged_by,
        });
    };
    match sub {
        // `--batch` prints each object its stdin names (`HEAD:secrets/k`); from a file or
        // another command, those may be any, every file of every commit (`git rev-list
        // --objects --all | git cat-file --batch`): the repository is read whole. `--batch-check`
        // prints only their names and sizes.
        "cat-file"
            if options
                .iter()
                .any(|(o, _)| o.starts_with("--batch") && !o.starts_with("--batch-check")) =>
        {
            match stdin {
                Stdin::Text(text) if !has(&["--batch-all-objects"]) => {
                    for word in text.split_whitespace() {
                        revision_path(word, use_);
                    }
                }
                _ => whole_otherwise = true,
            }
        }
        "show" | "cat-file" | "diff" | "difftool" => {
            for operand in &operands {
                revision_path(operand, use_);
            }
            if sub == "diff" && has(&["--no-index"]) {
                use_.reads.extend(
                    operands
                        .iter()
                        .copied()
                        .chain(after_words())
                        .map(str::to_owned),
                );
            } else if sub != "cat-file" {
                for operand in operands.iter().filter(|o| !o.contains(':')) {
                    push(operand, false, false, true);
                }
                for path in after {
                    push(path, false, true, true);
                }
            }
        }
        "blame" | "annotate" => use_.reads.extend(
            operands
                .iter()
                .copied()
                .chain(after_words())
                .map(str::to_owned),
        ),
        // The patch or mailbox is read, and the files it names written (`check.rs` reads it,
        // where the caller can), unless git only looks at it (`--check`, `--stat`) or applies
        // it to the index alone (`--cached`).
        "apply" | "am" => {
            let files: Vec<&str> = operands.iter().copied().chain(after_words()).collect();
            use_.reads.extend(files.iter().map(|f| (*f).to_owned()));
            let looks = has(&["--check", "--stat", "--numstat", "--summary"]) && !has(&["--apply"]);
            // `git am --continue` (`--abort`, `--skip` …) goes on with what it began.
            let goes_on = sub == "am" && options.iter().any(|(o, _)| AM_GOING_ON.contains(o));
            if (sub == "am" || !(looks || has(&["--cached"]))) && !goes_on {
                let strip = options
                    .iter()
                    .find_map(|(o, _)| o.strip_prefix("-p")?.parse().ok())
                    .unwrap_or(1);
                let directory = given(&["--directory"]).flatten().next();
                let patch = |file: &str| GitPatch {
                    file: file.to_owned(),
                    strip: Some(strip),
                    directory: directory.map(str::to_owned),
                    by: Applier::Git,
                };
                patches.extend(files.iter().map(|file| patch(file)));
                // With no file, the patch is read from stdin: a here-document's is judged here.
                if files.is_empty() {
                    match stdin {
                        Stdin::Text(text) => match patched_files(text, &patch("")) {
                            Some(names) => {
                                for name in &names {
                                    push(name, true, true, false);
                                }
                            }
                            None => push(UNKNOWN, true, false, false),
                        },
                        Stdin::File(file) => patches.push(patch(file)),
                        Stdin::Unknown => push(UNKNOWN, true, false, false),
                    }
                }
            }
        }
        // `-L 1,5:secrets/k` (`-L:main:secrets/k`) prints those lines of the file as each
        // commit had them, with or without `-p`.
        "log" | "whatchanged" if options.iter().any(|(o, _)| o.starts_with("-L")) => {
            let ranges = options.iter().filter_map(|(o, v)| match *o {
                "-L" => *v,
                _ => o.strip_prefix("-L"),
            });
            for range in ranges {
                if let Some((_, path)) = range.rsplit_once(':') {
                    push(path, false, true, false);
                }
            }
        }
        "log" | "whatchanged" if has(&["-p", "-u", "--patch"]) => {
            for operand in &operands {
                push(operand, false, false, true);
            }
            for path in after {
                push(path, false, true, true);
            }
        }
        // A new branch is made (`-b feature`, from a start point): no file is written back.
        "checkout" if !has(&["-b", "-B", "--orphan"]) => {
            for path in from_file() {
                push(path, true, path != UNKNOWN, false);
            }
            if dashes.is_some() {
                for path in after {
                    push(path, true, true, true);
                }
            } else if let Some((first, paths)) = operands.split_first() {
                // `git checkout main` switches to a branch; `git checkout HEAD secrets/k`
                // writes what follows the revision.
                push(first, true, false, true);
                for path in paths {
                    push(path, true, true, true);
                }
            }
        }
        // `--staged` alone puts back the index's entry, not the file.
        "restore"
            if !(has(&["--staged"]) || letter('S')) || has(&["--worktree"]) || letter('W') =>
        {
            for path in operands.iter().copied().chain(after_words()) {
                push(path, true, true, true);
            }
            for path in from_file() {
                push(path, true, path != UNKNOWN, false);
            }
        }
        "archive" if !has(&["--remote", "-l", "--list"]) => {
            use_.writes
                .extend(given(&["-o", "--output"]).flatten().map(str::to_owned));
            // `--add-file` adds a file of the work tree to the archive.
            use_.reads
                .extend(given(&["--add-file"]).flatten().map(str::to_owned));
            // The revision, then the paths; a revision's folder (`HEAD:src`) is all it holds.
            let subtree = operands
                .first()
                .is_some_and(|tree| revision_path(tree, use_));
            for path in operands.iter().skip(1).copied().chain(after_words()) {
                push(path, false, true, false);
            }
            whole_otherwise = !subtree;
        }
        // `git add` copies each file into the repository, and `git commit secrets/k` commits it
        // as it is: a read (`-p` prints it). With none (`-A`, `.`) they go through the folder
        // they run in, which is not judged whole, as `git diff` is not.
        "add" | "commit" if !has(&["-n", "--dry-run"]) => {
            for path in operands.iter().copied().chain(after_words()) {
                push(path, false, true, true);
            }
            // A list's paths the line does not spell are judged only where git writes them.
            for path in from_file().filter(|p| *p != UNKNOWN) {
                push(path, false, true, false);
            }
            // The message or template a commit takes from a file.
            let messages = given(&["-F", "--file", "-t", "--template"]).flatten();
            use_.reads
                .extend(messages.filter(|f| *f != "-").map(str::to_owned));
        }
        // A message from a file (`-` is stdin).
        "tag" | "merge" | "notes" => {
            let messages = given(&["-F", "--file"]).flatten();
            use_.reads
                .extend(messages.filter(|f| *f != "-").map(str::to_owned));
        }
        // `git config -f secrets/k -l` prints the file's settings; one that sets or unsets a
        // setting writes it too. `--blob HEAD:secrets/k` reads it as a revision holds it.
        "config" => {
            for blob in given(&["--blob"]).flatten() {
                revision_path(blob, use_);
            }
            let files: Vec<&str> = given(&["-f", "--file"]).flatten().collect();
            use_.reads.extend(files.iter().map(|f| (*f).to_owned()));
            let gets = matches!(
                operands.first(),
                Some(&("get" | "list" | "get-regexp" | "get-urlmatch"))
            ) || options
                .iter()
                .any(|(o, _)| o.starts_with("--get") || matches!(*o, "-l" | "--list"));
            let changes = has(&["--unset", "--unset-all", "--add", "--replace-all", "-e"])
                || has(&["--edit", "--rename-section", "--remove-section"]);
            let sets = (operands.len() >= 2 && !gets) || changes;
            if sets {
                use_.writes.extend(files.iter().map(|f| (*f).to_owned()));
            }
        }
        // `git bundle create secrets/b HEAD` writes the bundle; `git update-index --add`
        // copies each file into the repository, as `git add` does.
        "bundle" if operands.first() == Some(&"create") => {
            use_.writes.extend(operands.get(1).map(|f| (*f).to_owned()));
        }
        // `git bundle verify secrets/b` (`list-heads`, `unbundle`) reads the bundle.
        "bundle"
            if matches!(
                operands.first(),
                Some(&("verify" | "list-heads" | "unbundle"))
            ) =>
        {
            use_.reads.extend(operands.get(1).map(|f| (*f).to_owned()));
        }
        // `git clone secrets/repo copy` reads a repository (or bundle) on this disk whole and
        // writes the folder it makes; `git fetch secrets/repo` and `git pull` read it too. A
        // word that names no path (`origin`, a URL, `host:repo`) reads nothing here; whether
        // `fetch`'s first word is a remote's name or a folder, the line does not say, so it is
        // judged as a path only by what a deny names, or when something of that name is there.
        // A clone also reads the objects of the repositories `--reference` names (and copies
        // them with `--dissociate`) and the files of its `--template` folder, and writes its
        // repository where `--separate-git-dir` says.
        "clone" => {
            let mut operands = operands.iter().copied().chain(after_words());
            if let Some(repository) = operands.next().and_then(local_repository) {
                push(repository, false, true, false);
            }
            use_.writes.extend(operands.next().map(str::to_owned));
            let references = given(&["--reference", "--reference-if-able"]).flatten();
            for repository in references.filter_map(local_repository) {
                push(repository, false, true, false);
            }
            use_.reads
                .extend(given(&["--template"]).flatten().map(str::to_owned));
            use_.writes
                .extend(given(&["--separate-git-dir"]).flatten().map(str::to_owned));
        }
        // `git fetch -- secrets/repo` is `git fetch secrets/repo`; `git ls-remote secrets/repo`
        // reads its refs, `git archive --remote=secrets/repo HEAD` its files.
        "fetch" | "pull" | "ls-remote" => {
            let first = operands.iter().copied().chain(after_words()).next();
            if let Some(repository) = first.and_then(local_repository) {
                push(repository, false, false, false);
            }
        }
        "archive" => {
            for repository in given(&["--remote"]).flatten().filter_map(local_repository) {
                push(repository, false, false, false);
            }
        }
        // `git submodule add secrets/repo sub` clones a repository, as `git clone` does;
        // `git worktree add secrets/wt` writes a work tree there. Their options' values
        // (`-b main`) are not told from their words here, so each word is judged as a path
        // only by what a deny names, or when something of that name is there.
        "submodule" | "worktree" if operands.first() == Some(&"add") => {
            let words = operands.iter().skip(1).copied().chain(after_words());
            for word in words.filter(|w| !w.starts_with('-')) {
                if sub == "worktree" {
                    push(word, true, false, false);
                } else if let Some(repository) = local_repository(word) {
                    push(repository, false, false, false);
                }
            }
        }
        "update-index" if has(&["--add"]) || options.is_empty() => {
            for path in operands.iter().copied().chain(after_words()) {
                push(path, false, true, false);
            }
        }
        // Each file is read to be hashed (`-w` copies it into the repository).
        "hash-object" => {
            use_.reads.extend(
                operands
                    .iter()
                    .copied()
                    .chain(after_words())
                    .map(str::to_owned),
            );
            if has(&["--stdin-paths"]) {
                match stdin {
                    Stdin::Text(text) => use_
                        .reads
                        .extend(text.split_whitespace().map(str::to_owned)),
                    Stdin::File(_) | Stdin::Unknown => use_.reads.push(UNKNOWN.to_owned()),
                }
            }
        }
        // Removed (`--cached`: from the index only), moved, or written from the index.
        "rm" if !has(&["--cached"]) => {
            for path in operands.iter().copied().chain(after_words()) {
                push(path, true, true, false);
            }
            for path in from_file() {
                push(path, true, path != UNKNOWN, false);
            }
        }
        "mv" | "checkout-index" => {
            for path in operands.iter().copied().chain(after_words()) {
                push(path, true, true, false);
            }
            // `checkout-index --stdin` takes the paths from stdin.
            if sub == "checkout-index" && has(&["--stdin"]) {
                match stdin {
                    Stdin::Text(text) => {
                        for path in text.split_whitespace() {
                            push(path, true, true, false);
                        }
                    }
                    Stdin::File(_) | Stdin::Unknown => push(UNKNOWN, true, false, false),
                }
            }
        }
        // Untracked files removed, with `-f`; `-n` only says which.
        "clean" if (has(&["--force"]) || letter('f')) && !(has(&["--dry-run"]) || letter('n')) => {
            for path in operands.iter().copied().chain(after_words()) {
                push(path, true, true, false);
            }
        }
        // `git stash push -- secrets/k` puts the file back as HEAD has it.
        "stash" if matches!(operands.first(), Some(&"push") | None) => {
            for path in operands.iter().skip(1).copied().chain(after_words()) {
                push(path, true, true, false);
            }
            for path in from_file() {
                push(path, true, path != UNKNOWN, false);
            }
        }
        // `git format-patch -o out` writes a patch of each commit into `out` (`secrets/`).
        "format-patch" => {
            let into: Vec<&str> = given(&["-o", "--output-directory"]).flatten().collect();
            use_.write_trees
                .extend(into.iter().map(|dir| (*dir).to_owned()));
            // With no folder, each patch is written where git runs, named by its number and
            // subject (`0001-fix-x.patch`): a name the line does not spell, in that folder.
            if into.is_empty() && !has(&["--stdout", "--output"]) {
                use_.writes.push(FORMAT_PATCH_NAME.to_owned());
            }
            use_.reads
                .extend(given(&["--signature-file"]).flatten().map(str::to_owned));
        }
        "grep" => {
            let patterns_given = has(&["-e", "-f"]);
            // `-f` reads the patterns from a file.
            use_.reads
                .extend(given(&["-f"]).flatten().map(str::to_owned));
            let files = has(&["--no-index", "--untracked"]);
            // The pattern, unless `-e` or `-f` gives it; a revision's folder (`HEAD:src`) is
            // all that is searched of it.
            let mut whole_revisions = false;
            for operand in operands.iter().skip(usize::from(!patterns_given)) {
                if files || !revision_path(operand, use_) {
                    whole_revisions = true;
                    push(operand, false, files, false);
                }
            }
            for path in after {
                push(path, false, true, false);
            }
            whole_otherwise = whole_revisions || operands.len() <= usize::from(!patterns_given);
        }
        _ => {}
    }
    use_.reads_from_top.extend(from_top);
    use_.git = GitPaths {
        paths,
        whole_otherwise,
        patches,
    };
}

/// At most this many files of a patch are judged; one naming more is judged as writing a file
/// of unknown name.
const MAX_PATCHED: usize = 1024;

/// The files a patch's text names (`diff --git a/x b/y`, `--- a/x`, `+++ b/y`, `rename to y`;
/// for `patch`, a context diff's `*** x` too), as its program takes them: `patch.strip`
/// leading folders taken away, `patch.directory` put before. Lines inside a hunk are text.
/// `None` when it names more than [`MAX_PATCHED`].
pub(super) fn patched_files(text: &str, patch: &GitPatch) -> Option<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    let (mut old_left, mut new_left) = (0usize, 0usize);
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if old_left > 0 || new_left > 0 {
            match line.chars().next() {
                Some('-') => old_left = old_left.saturating_sub(1),
                Some('+') => new_left = new_left.saturating_sub(1),
                Some('\\') => {}
                _ => {
                    old_left = old_left.saturating_sub(1);
                    new_left = new_left.saturating_sub(1);
                }
            }
            continue;
        }
        let mut named = |name: &str, strip: Option<usize>| {
            let name = unquoted(name);
            let mut rest = name.as_str();
            match strip {
                Some(strip) => {
                    for _ in 0..strip {
                        rest = rest
                            .split_once('/')
                            .map_or("", |(_, after)| after.trim_start_matches('/'));
                    }
                }
                None => rest = rest.rsplit('/').next().unwrap_or(rest),
            }
            if !rest.is_empty() && name != "/dev/null" {
                names.push(match &patch.directory {
                    Some(dir) => format!("{}/{rest}", dir.trim_end_matches('/')),
                    None => rest.to_owned(),
                });
            }
        };
        if let Some(hunk) = line.strip_prefix("@@ -") {
            let count = |range: &str| {
                let range = range.split(' ').next().unwrap_or("");
                range
                    .split_once(',')
                    .map_or(Some(1), |(_, n)| n.parse().ok())
            };
            let new = hunk.split_once(" +").map_or("", |(_, new)| new);
            old_left = count(hunk).unwrap_or(0);
            new_left = count(new).unwrap_or(0);
        } else if let Some(both) = line.strip_prefix("diff --git ") {
            // `a/x b/x`: the two names, alike but for their first folder, split where they meet.
            let half = both.len().saturating_sub(1) / 2;
            match both.get(..half).zip(both.get(half + 1..)) {
                Some((a, b)) if both.as_bytes().get(half) == Some(&b' ') => {
                    named(a, patch.strip);
                    named(b, patch.strip);
                }
                _ => {
                    for name in both.split(' ') {
                        named(name, patch.strip);
                    }
                }
            }
        } else if patch.by == Applier::Patch && is_context_range(line) {
            // `*** 1,3 ****` and `--- 1,3 ----` start a context diff's hunk: no name.
        } else if let Some(name) = line
            .strip_prefix("--- ")
            .or_else(|| line.strip_prefix("+++ "))
            .or_else(|| {
                line.strip_prefix("*** ")
                    .filter(|_| patch.by == Applier::Patch)
            })
        {
            for name in header_names(name) {
                named(name, patch.strip);
            }
        } else if let Some(name) = line
            .strip_prefix("Index: ")
            .filter(|_| patch.by == Applier::Patch)
        {
            // patch takes this name with `--posix` (or POSIXLY_CORRECT set), which a line may
            // give in ways not read here: it is judged always.
            for name in header_names(name) {
                named(name, patch.strip);
            }
        } else if let Some(name) = ["rename from ", "rename to ", "copy to "]
            .iter()
            .find_map(|p| line.strip_prefix(p))
        {
            named(name, Some(0));
        }
        if names.len() > MAX_PATCHED {
            return None;
        }
    }
    names.sort();
    names.dedup();
    Some(names)
}

/// The names a `---`, `+++` or `***` line's text may give its file: a quoted name (`"a/x y"`)
/// up to its closing quote; an unquoted one ends at a tab, or at a space before a timestamp
/// (GNU patch, git apply), which the line may have or not (`a/.env 2024-01-01 …`), so both
/// the name cut at the tab and the name cut at the first whitespace are given, for a deny to
/// meet whichever the tool takes.
fn header_names(text: &str) -> Vec<&str> {
    if text.starts_with('"') {
        let bytes = text.as_bytes();
        let mut at = 1;
        while at < bytes.len() {
            match bytes[at] {
                b'\\' => at += 2,
                b'"' => return vec![&text[..=at]],
                _ => at += 1,
            }
        }
    }
    let tab = text.split('\t').next().unwrap_or(text).trim_end();
    let word = text.split_whitespace().next().unwrap_or("");
    if tab == word {
        vec![tab]
    } else {
        vec![tab, word]
    }
}

/// Whether a line is a context diff hunk's range (`*** 1,3 ****`, `--- 5 ----`).
fn is_context_range(line: &str) -> bool {
    let ranged = |rest: &str, end: &str| {
        rest.strip_suffix(end)
            .map(str::trim_end)
            .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit() || b == b','))
    };
    line.strip_prefix("*** ").is_some_and(|r| ranged(r, "****"))
        || line.strip_prefix("--- ").is_some_and(|r| ranged(r, "----"))
}

/// A name as a patch writes it, its C-style quotes taken away (`"a/x\ty"`).
fn unquoted(name: &str) -> String {
    let Some(inner) = name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) else {
        return name.to_owned();
    };
    let mut bytes = Vec::new();
    let mut chars = inner.bytes().peekable();
    while let Some(b) = chars.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match chars.next() {
            Some(b't') => bytes.push(b'\t'),
            Some(b'n') => bytes.push(b'\n'),
            Some(d @ b'0'..=b'7') => {
                let mut value = u32::from(d - b'0');
                for _ in 0..2 {
                    if let Some(d) = chars.next_if(u8::is_ascii_digit) {
                        value = value * 8 + u32::from(d - b'0');
                    }
                }
                bytes.push(u8::try_from(value).unwrap_or(b'?'));
            }
            Some(other) => bytes.push(other),
            None => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The file or folder a revision names by its path (`HEAD:secrets/k`, `:0:secrets/k`, the
/// index's at a stage), read: from the repository's top, unless it starts with `./` or `../`
/// (`HEAD:./k`), which git takes from where it runs. Whether the word named one.
fn revision_path(word: &str, use_: &mut FileUse) -> bool {
    let Some((_, path)) = word.split_once(':') else {
        return false;
    };
    let path = match path.split_once(':') {
        Some((stage, path)) if stage.len() == 1 => path,
        _ => path,
    };
    if path.starts_with("./") || path.starts_with("../") {
        use_.reads.push(path.to_owned());
    } else if !path.is_empty() {
        use_.reads_from_top.push((String::new(), path.to_owned()));
    }
    !path.is_empty()
}

/// The folder or bundle on this disk a repository's address names (`../repo`, `/srv/repo.git`,
/// `file:///srv/repo`); `None` for one reached over a network (`https://…`, `ssh://…`,
/// `git@host:repo`), which reads no file here.
fn local_repository(address: &str) -> Option<&str> {
    if let Some(path) = address.strip_prefix("file://") {
        return Some(path);
    }
    if address.contains("://") {
        return None;
    }
    // scp's form: a `:` before any `/` names a host (git takes `./a:b` for a path).
    let colon = address.find(':');
    let slash = address.find('/');
    match (colon, slash) {
        (Some(c), Some(s)) if c < s => None,
        (Some(_), None) => None,
        _ => Some(address),
    }
}

/// A pathspec read for what it names.
#[derive(Debug, PartialEq, Eq)]
struct Pathspec {
    path: String,
    /// Named from the repository's top (`:/secrets/k`, `:(top)secrets/k`).
    from_top: bool,
    /// It had a wildcard, which git matches across `/` (`*k` takes `secrets/k`, `src/*.rs`
    /// `src/a/b.rs`): `path` is the folder before it, which it may take anything below.
    wild: bool,
}

/// A pathspec without its magic (`:/secrets/k`, `:(top,icase)SECRETS/k`, a name in any case
/// read in lower case): `None` for one that leaves files out (`:!secrets`, `:^secrets`,
/// `:(exclude)secrets`), which names nothing git reads.
fn pathspec(word: &str) -> Option<Pathspec> {
    let (magic, path) = if let Some(rest) = word.strip_prefix(':') {
        if let Some(long) = rest.strip_prefix('(') {
            let (magic, path) = long.split_once(')')?;
            (magic.split(',').map(str::trim).collect::<Vec<_>>(), path)
        } else {
            let end = rest
                .find(|c| !matches!(c, '/' | '!' | '^'))
                .unwrap_or(rest.len());
            let short = rest[..end].chars().map(|c| match c {
                '/' => "top",
                _ => "exclude",
            });
            // `:` ends the short magic (`:/:secrets/k`).
            let path = &rest[end..];
            (short.collect(), path.strip_prefix(':').unwrap_or(path))
        }
    } else {
        (Vec::new(), word)
    };
    if magic.contains(&"exclude") {
        return None;
    }
    let literal = magic.contains(&"literal");
    let path = if magic.contains(&"icase") {
        path.to_lowercase()
    } else {
        path.to_owned()
    };
    let wild_at = (!literal).then(|| path.find(['*', '?', '['])).flatten();
    let (path, wild) = match wild_at {
        Some(at) => {
            let folder = path[..at].rfind('/').map_or("", |slash| &path[..slash]);
            (
                if folder.is_empty() { "." } else { folder }.to_owned(),
                true,
            )
        }
        None => (path, false),
    };
    Some(Pathspec {
        path,
        from_top: magic.contains(&"top"),
        wild,
    })
}

/// The short options of a subcommand that takes files from them (`-F` a message's, `-f` a
/// settings'), which take their value in the rest of their word (`-Fmsg.txt`) as in the next,
/// and may end a cluster (`-lf k`): the letters of those that take a value. `None` for a
/// subcommand whose clusters are not read apart.
fn clustered_values(sub: &str) -> Option<&'static str> {
    match sub {
        "commit" => Some("mFCct"),
        "tag" => Some("mFu"),
        "merge" => Some("mFsX"),
        "notes" => Some("mFCc"),
        "config" => Some("f"),
        _ => None,
    }
}

/// `words`' options, each with the value it takes in the next word (`valued` names those
/// options), and its operands.
fn split_options<'a>(
    words: &'a [String],
    valued: &[&str],
) -> (Vec<(&'a str, Option<&'a str>)>, Vec<&'a str>) {
    let mut options = Vec::new();
    let mut operands = Vec::new();
    let mut words = words.iter().map(String::as_str);
    while let Some(w) = words.next() {
        if w.starts_with('-') && w != "-" {
            let value = if valued.contains(&w) {
                words.next()
            } else {
                None
            };
            options.push((w, value));
        } else {
            operands.push(w);
        }
    }
    (options, operands)
}

/// Words with each cluster of short options (`-am`) written apart (`-a`, `-m`), before `--`; a
/// letter of `valued` takes the rest of its word for its value (`-mfix`: `-m`, `fix`), else the
/// next word.
fn short_options_apart(words: &[String], valued: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(words.len());
    let mut words = words.iter();
    let mut value_next = false;
    while let Some(w) = words.next() {
        let cluster = w
            .strip_prefix('-')
            .filter(|l| l.len() > 1 && !l.starts_with('-') && !value_next);
        value_next = false;
        let Some(letters) = cluster else {
            if w == "--" {
                out.push(w.clone());
                out.extend(words.cloned());
                break;
            }
            value_next = w.len() == 2 && w.starts_with('-') && valued.contains(&w[1..]);
            out.push(w.clone());
            continue;
        };
        for (at, letter) in letters.char_indices() {
            out.push(format!("-{letter}"));
            if valued.contains(letter) {
                let rest = &letters[at + letter.len_utf8()..];
                if rest.is_empty() {
                    value_next = true;
                } else {
                    out.push(rest.to_owned());
                }
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::shell::{file_use, split};

    fn w(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| (*s).to_owned()).collect()
    }

    /// `(path, write, certain)` of each path git takes, and whether it goes through its folder
    /// otherwise.
    fn taken(line: &str) -> (Vec<(String, bool, bool)>, bool) {
        let git = file_use(&split(line)[0]).git;
        let paths = git.paths.into_iter();
        let paths = paths.map(|p| (p.path, p.write, p.certain)).collect();
        (paths, git.whole_otherwise)
    }

    fn path(p: &str, write: bool, certain: bool) -> (String, bool, bool) {
        (p.to_owned(), write, certain)
    }

    #[test]
    fn a_cluster_of_short_options_is_written_apart() {
        let apart = |line: &str| super::short_options_apart(&split(line)[0].words, "mF");
        assert_eq!(apart("-am 'a b' k"), w(&["-a", "-m", "a b", "k"]));
        assert_eq!(apart("-mfix -aF f"), w(&["-m", "fix", "-a", "-F", "f"]));
        assert_eq!(apart("-m -xy -- -ab"), w(&["-m", "-xy", "--", "-ab"]));
        assert_eq!(apart("--amend -é"), w(&["--amend", "-é"]));
    }

    #[test]
    fn the_files_gits_settings_name_are_read() {
        let f = |line: &str| file_use(&split(line)[0]);
        assert_eq!(
            f("git -c Include.Path=k -c user.name=n status").reads,
            w(&["k"])
        );
        assert_eq!(
            f("git --config-env=commit.template=T commit").reads,
            w(&["$T"])
        );
        assert_eq!(
            f("T=m git --config-env commit.template=T commit").reads,
            w(&["m"])
        );
        let hooks = f("git -C a -c core.hooksPath=h commit");
        assert_eq!(hooks.read_trees, w(&["a/h", "a"]));
        // `--config-env`'s value is no subcommand.
        assert!(f("git --config-env k.x=V show HEAD:s").reads_from_top.len() == 1);
    }

    #[test]
    fn the_lines_gits_settings_run_are_read() {
        let lines = |line: &str| super::config_lines(&split(line)[0].words[1..]);
        assert_eq!(lines("git -c alias.x='!cat k' x").as_deref(), Some("cat k"));
        assert_eq!(
            lines("git -c core.pager='less -R' log").as_deref(),
            Some("less -R")
        );
        assert_eq!(
            lines("git -C a -c Diff.Word.Textconv=strings -c core.editor=vi commit").as_deref(),
            Some("strings; vi")
        );
        assert_eq!(
            lines("git -c alias.p=push p origin").as_deref(),
            Some("git -c alias.p=push push origin")
        );
        assert_eq!(lines("git -c alias.p=push status"), None);
        // A command built into git is run whatever alias has its name; an alias is looked up
        // in any case, and guessed for a word git does not know when it autocorrects.
        assert_eq!(lines("git -c alias.push='push -f' push"), None);
        assert_eq!(
            lines("git -c alias.push='push -f' PUSH").as_deref(),
            Some("git -c 'alias.push=push -f' push -f ")
        );
        assert_eq!(
            lines("git -c help.autocorrect=1 -c alias.pushf='push -f' pushff").as_deref(),
            Some("git -c help.autocorrect=1 -c 'alias.pushf=push -f' push -f ")
        );
        assert_eq!(lines("git -c alias.pushf='push -f' pushff"), None);
        assert_eq!(
            lines("git -c help.autocorrect=1 -c alias.st=status -c alias.sf=push st").as_deref(),
            Some("git -c help.autocorrect=1 -c alias.st=status -c alias.sf=push status ")
        );
        assert_eq!(lines("git -c pager.log=false log"), None);
        assert_eq!(lines("git -c user.name=x commit"), None);
        assert_eq!(lines("git log -c core.pager=cat"), None);
    }

    #[test]
    fn the_lines_gits_settings_from_its_environment_run_are_read() {
        let lines = |line: &str| {
            let cmd = &split(line)[0];
            super::env_lines(cmd.env.iter(), &cmd.words[1..])
        };
        assert_eq!(
            lines("GIT_CONFIG_PARAMETERS=\"'alias.x'='!cat k' 'core.pager'='less -R'\" git x"),
            ["cat k", "less -R"]
        );
        assert_eq!(
            lines("GIT_CONFIG_PARAMETERS=\"'core.pager=cat k'\" git log"),
            ["cat k"]
        );
        // A quoted key holding `=` is whole, as git reads it (a shell's words would end the
        // key at its `=`).
        assert_eq!(
            lines("GIT_CONFIG_PARAMETERS=\"'diff.a=b.textconv'='cat k'\" git log"),
            ["cat k"]
        );
        assert_eq!(
            lines("GIT_CONFIG_KEY_1=core.pager GIT_CONFIG_VALUE_1='cat k' git log"),
            ["cat k"]
        );
        assert_eq!(
            lines("X='!cat k' git -C a --config-env=alias.x=X x"),
            ["cat k"]
        );
        assert!(lines("GIT_CONFIG_KEY_0=core.pager git log").is_empty());
        assert!(lines("GIT_CONFIG_PARAMETERS=\"'user.name'='x'\" git log").is_empty());
        assert!(lines("X='cat k' git log --config-env=core.pager=X").is_empty());
    }

    #[test]
    fn the_files_a_patch_names_are_read_past_its_hunks() {
        let patch = |strip, directory: Option<&str>| super::GitPatch {
            file: String::new(),
            strip: Some(strip),
            directory: directory.map(str::to_owned),
            by: super::Applier::Git,
        };
        let text = "diff --git a/x y b/x y\n--- a/x y\n+++ b/x y\n@@ -1,2 +1,2 @@\n ctx\n--- a/hunk\n+++ b/hunk\n\
                    diff --git a/o b/n\nrename from o\nrename to n\n\
                    --- /dev/null\n+++ \"b/q\\tr\"\t2024-01-01\n@@ -0,0 +1 @@\n+x\n";
        let names = super::patched_files(text, &patch(1, None)).unwrap();
        // `--- a/x y` is `x y` to git (up to a tab) and may be `x` (up to a space): both.
        assert_eq!(names, ["n", "o", "q\tr", "x", "x y"]);
        let names = super::patched_files("--- k\n+++ k\n", &patch(0, Some("d/"))).unwrap();
        assert_eq!(names, ["d/k"]);
        let many = "+++ b/f\n".repeat(2000);
        assert_eq!(super::patched_files(&many, &patch(1, None)), None);
    }

    #[test]
    fn a_pathspec_is_read_past_its_magic() {
        let spec = |word| super::pathspec(word).map(|p| (p.path, p.from_top, p.wild));
        let at = |path: &str, top: bool, wild: bool| Some((path.to_owned(), top, wild));
        assert_eq!(spec("secrets/k"), at("secrets/k", false, false));
        assert_eq!(spec(":/secrets/k"), at("secrets/k", true, false));
        assert_eq!(spec(":/:secrets/k"), at("secrets/k", true, false));
        assert_eq!(spec(":(top,icase)SECRETS/k"), at("secrets/k", true, false));
        assert_eq!(spec(":(literal)a*"), at("a*", false, false));
        assert_eq!(spec("*k"), at(".", false, true));
        assert_eq!(spec("src/*.rs"), at("src", false, true));
        assert_eq!(spec("src/a?/b"), at("src", false, true));
        for left_out in [
            ":!secrets",
            ":^secrets",
            ":(exclude)secrets",
            ":(top,exclude)s",
        ] {
            assert_eq!(spec(left_out), None, "{left_out}");
        }
    }

    #[test]
    fn the_words_git_takes_for_paths() {
        let written = |p| path(p, true, true);
        assert_eq!(
            taken("git checkout HEAD -- a b").0,
            [written("a"), written("b")]
        );
        assert_eq!(
            taken("git checkout HEAD a").0,
            [path("HEAD", true, false), written("a")]
        );
        assert_eq!(taken("git checkout main").0, [path("main", true, false)]);
        assert!(taken("git checkout -b x origin/x").0.is_empty());
        assert_eq!(taken("git restore -s HEAD~1 a").0, [written("a")]);
        assert_eq!(taken("git restore --source=HEAD -W a").0, [written("a")]);
        assert!(taken("git restore --staged a").0.is_empty());
        assert_eq!(taken("git -C x restore a").0, [written("x/a")]);
        let read = |p| path(p, false, true);
        assert_eq!(
            taken("git archive -o o.tar HEAD a"),
            (vec![read("a")], true)
        );
        let archive = file_use(&split("git archive -o o.tar --add-file=a --add-file b HEAD")[0]);
        assert_eq!(
            (archive.writes, archive.reads),
            (w(&["o.tar"]), w(&["a", "b"]))
        );
        // The remote's `a`, not this folder's; `r` may be a remote's name or a folder.
        assert_eq!(
            taken("git archive --remote=r HEAD a").0,
            [path("r", false, false)]
        );
        assert_eq!(
            taken("git grep -n KEY HEAD -- a"),
            (vec![path("HEAD", false, false), read("a")], true)
        );
        assert_eq!(taken("git grep -e KEY a").0, [path("a", false, false)]);
        // A revision's folder is read from the top, and is all that is searched.
        let grep = file_use(&split("git grep KEY HEAD:src")[0]);
        assert_eq!(grep.reads_from_top, [(String::new(), "src".to_owned())]);
        assert!(!grep.git.whole_otherwise && grep.git.paths.is_empty());
        assert!(!taken("git archive HEAD:src").1);
        assert_eq!(taken("git log -p -n 3 a").0, [path("a", false, false)]);
        assert_eq!(taken("git mv a b").0, [written("a"), written("b")]);
        assert_eq!(taken("git rm -r a").0, [written("a")]);
        assert!(taken("git rm --cached a").0.is_empty());
        assert_eq!(taken("git clean -fd a").0, [written("a")]);
        assert!(taken("git clean -nfd a").0.is_empty());
        assert_eq!(taken("git stash push -m x -- a").0, [written("a")]);
        assert_eq!(taken("git stash -- a").0, [written("a")]);
        assert!(taken("git stash pop").0.is_empty());
        assert!(taken("git log -n 3 a").0.is_empty());
        assert_eq!(taken("git log -L 1,5:a").0, [read("a")]);
        assert_eq!(taken("git log -L:main:a -L2,3:b").0, [read("a"), read("b")]);
        assert_eq!(
            taken("git diff HEAD:a b -- c").0,
            [path("b", false, false), read("c")]
        );
    }

    #[test]
    fn the_files_git_takes_from_a_file_or_its_stdin() {
        let uses = |line: &str| split(line).pop().map(|c| file_use(&c)).unwrap();
        let paths = |line: &str| {
            let git = uses(line).git.paths.into_iter();
            git.map(|p| (p.path, p.write, p.certain))
                .collect::<Vec<_>>()
        };
        let unknown = || vec![path("$(…)", true, false)];
        assert_eq!(paths("git rm --pathspec-from-file=l"), unknown());
        assert_eq!(paths("git checkout --pathspec-from-file l"), unknown());
        assert_eq!(paths("git rm --pathspec-from-file=-"), unknown());
        assert_eq!(paths("echo a | (git rm --pathspec-from-file=-)"), unknown());
        assert_eq!(
            paths("echo a | git rm --pathspec-from-file=-"),
            [path("a", true, true)]
        );
        let diff = uses("git diff --output o -O order HEAD");
        assert_eq!((diff.writes, diff.reads), (w(&["o"]), w(&["order"])));
        assert_eq!(uses("git format-patch -o p HEAD~1").write_trees, w(&["p"]));
        assert!(uses("git format-patch -o p HEAD~1").writes.is_empty());
        assert_eq!(uses("git format-patch -1").writes, w(&["0001-*.patch"]));
        assert!(uses("git format-patch --stdout -1").writes.is_empty());
        assert_eq!(uses("git apply --check a.patch").reads, w(&["a.patch"]));
        assert!(uses("git apply --check a.patch").git.patches.is_empty());
        assert!(uses("git am --continue").git.paths.is_empty());
        let here = uses("git apply <<'EOF'\n--- a/k\n+++ b/k\nEOF\n");
        assert_eq!(here.git.paths[0].path, "k");
        assert_eq!(uses("git apply < p").git.patches[0].file, "p");
        let patch = super::GitPatch {
            file: "a.patch".into(),
            strip: Some(2),
            directory: Some("d".into()),
            by: super::Applier::Git,
        };
        assert_eq!(
            uses("git apply -p2 --directory=d a.patch").git.patches,
            [patch]
        );
        let batch = uses("echo HEAD:a | git cat-file --batch");
        assert_eq!(batch.reads_from_top, [(String::new(), "a".to_owned())]);
        assert!(!batch.git.whole_otherwise);
        assert!(uses("cat l | git cat-file --batch").git.whole_otherwise);
        assert!(uses("git cat-file --batch").git.whole_otherwise);
        assert!(
            !uses("cat l | git cat-file --batch-check")
                .git
                .whole_otherwise
        );
    }
}
