//! The files a shell command reads and writes for certain, which the counts of a session's files
//! take as they take a Read or Write tool's file: an agent that works through its shell (Codex,
//! Claude Code's Bash) reads with `cat f` and `sed -n '1,9p' f`, writes with `> f`, `tee f`,
//! deletes with `rm f` and `git rm f`, moves with `mv a b` and `git mv a b`, and does each as
//! Codex's patch says (`applypatch <<'PATCH'`: `*** Delete File: f`) ([`FileUse`]).
//!
//! The line is read by the policy's reader ([`super::policy::shell`]), which, for a policy's
//! sake, takes what a command might touch (a folder `rg` goes through, a word git may take for a
//! path). Counted here is only what the line names for certain: an operand of a program that
//! reads or writes its operands, a redirection, a patch's files, what is deleted or moved (a
//! folder too: `rm -r tests/`, `mv src lib`), and a path in the home folder as written
//! (`cat ~/.ssh/id_rsa`, `cat $HOME/.ssh/id_rsa`). Not counted: other folders, globs, other
//! words holding a variable or a substitution (`cat $(git ls-files)`), devices, what a command
//! runs in a folder the line does not say, and every other program's operands (`ls src`,
//! `git add f`, `python x.py`). A line Bash refuses (a quote never closed: `cat 'x.txt`) runs
//! nothing and counts nothing.
//!
//! A line a Windows shell runs (PowerShell, cmd: a call in a Windows folder, Claude Code's
//! `PowerShell` tool, Codex's `["powershell.exe", "-Command", …]`) counts nothing. Read as
//! Bash its paths come out wrong (`cat src\a.rs` reads `srca.rs`); read as PowerShell, the
//! policy's reader ([`super::policy::windows`]) takes what a command might touch, not what it
//! names for certain, and no session recorded on Windows (in /work/shared/corpus none is) shows
//! which forms agents use there (`Get-Content x`, `type x`) nor how their file tools spell the
//! same file (`C:\app\x`), which a shell's path would have to match to count as one file.
//!
//! Every recorder (the hook, the transcript import, the agents' log import) takes a call's
//! files from [`of_tool_call`] and records each as [`ShellFile::event`] says: one reading.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::EventType;
use super::file_use::FileUse;
use super::policy::check::absolute;
use super::policy::cwd::{in_folder, is_cd, is_windows_folder};
use super::policy::shell::{self, SimpleCommand};
use super::policy::windows::program;
use super::tools::{self, ToolKind};
use super::view::ToolCall;

/// One file a tool call reads, writes, deletes or moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellFile {
    pub path: String,
    pub file_use: FileUse,
}

impl ShellFile {
    /// The `file_read` or `file_write` event that records it: its kind and data, the file and
    /// the tool that touched it. The one shape the hook and every import write.
    ///
    /// The file is written under `path`, which our readers take, and again under `uri`, the
    /// only key the Python tool's `replay` (and its post-mortem timeline) shows a file event by
    /// (its proxy names an MCP resource so): without it, there, every file event of ours read
    /// `file_read` and no file. A few bytes an event, and the store reads alike in both tools.
    pub fn event(&self, tool: &str) -> (EventType, Map<String, Value>) {
        let mut data = Map::new();
        data.insert("path".into(), self.path.clone().into());
        data.insert("uri".into(), self.path.clone().into());
        data.insert("tool_name".into(), tool.into());
        self.file_use.write_data(&mut data);
        (EventType::file_touch(self.file_use.changes()), data)
    }
}

/// The files any tool call reads, writes, deletes or moves for certain, as the hook and the
/// imports record them once the call succeeded: a file tool's path as its argument names it
/// (`file_path`; Cursor's `Delete` deletes it), a patch tool's files as its patch changes them
/// (Codex's `apply_patch`: `*** Delete File: p`, `*** Move to: q`, [`tools::patch_changes`])
/// and a shell line's ([`of_call`]) named from the folder the call ran in. Empty for a call of
/// any other kind.
pub fn of_tool_call(call: &ToolCall<'_>, folder: Folder<'_>) -> Vec<ShellFile> {
    match (call.kind, call.file_use()) {
        (ToolKind::Shell, _) => of_call(call, folder),
        (_, Some(file_use)) => {
            let named = (call.spec.and_then(|s| s.subject))
                .and_then(|key| call.arguments.get(key))
                .and_then(Value::as_str);
            if let Some(path) = named {
                return vec![ShellFile {
                    path: path.to_owned(),
                    file_use,
                }];
            }
            // A patch's paths are the folder's, named from it as a shell's files are.
            let cwd = folder.path().filter(|c| c.starts_with('/'));
            let named = |path: &str| absolute(path, cwd);
            let changes = tools::patch_file_uses(call.tool, call.arguments).into_iter();
            changes
                .map(|(path, file_use)| ShellFile {
                    path: named(&path),
                    file_use: match file_use {
                        FileUse::Move(to) => FileUse::Move(named(&to)),
                        other => other,
                    },
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Programs whose operands (and the files of their options, `grep -f`, `sort -o`) are files
/// they read, and write only as their options say (`sed -i`).
const READERS: &[&str] = &[
    "cat", "tac", "head", "tail", "less", "more", "bat", "batcat", "nl", "wc", "sort", "uniq",
    "diff", "cmp", "cut", "paste", "rev", "fold", "fmt", "expand", "unexpand", "column", "comm",
    "join", "strings", "xxd", "od", "hexdump", "base64", "grep", "egrep", "fgrep", "zgrep", "jq",
    "yq", "awk", "gawk", "mawk", "nawk", "sed", "zcat", "bzcat", "xzcat", "zstdcat",
];

/// Programs that go through the folders they are given as well as files (`rg TODO src`): an
/// operand counts only when it names a file by its look ([`looks_like_file`]).
const SEARCHERS: &[&str] = &["rg", "ag"];

/// Programs whose operands are files they write: change, make, or remove ([`REMOVERS`]).
const WRITERS: &[&str] = &["tee", "rm", "unlink", "shred", "touch", "truncate"];

/// Writers that delete their operands: folders too, when told to (`rm -r tests/`).
const REMOVERS: &[&str] = &["rm", "unlink"];

/// At most this many files are taken from one line: each is an event the hook writes while
/// the agent waits, and a line naming more (a generated script, a patch of a whole tree) is
/// counted in part rather than holding the agent up.
pub const MAX_FILES: usize = 1000;

/// Where a shell line ran, as the one who records it knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder<'a> {
    /// The folder the line started in (a transcript's call names it).
    Start(&'a str),
    /// The folder the shell was in once the line ran (a hook's payload after the call): the
    /// one it started in, unless the line changes folder (`cd x && cat a`, `cat a; cd x`).
    After(&'a str),
    Unknown,
}

impl<'a> Folder<'a> {
    /// The folder named, whichever it is.
    fn path(self) -> Option<&'a str> {
        match self {
            Folder::Start(dir) | Folder::After(dir) => Some(dir),
            Folder::Unknown => None,
        }
    }
}

/// The files a shell tool's call reads and writes for certain, relative ones taken from the
/// folder the line started in when it is known (so that they are named as a Read tool's
/// absolute path names them). Empty for a call of any other kind.
pub fn of_call(call: &ToolCall<'_>, folder: Folder<'_>) -> Vec<ShellFile> {
    if call.kind != ToolKind::Shell || runs_on_windows(call, folder) {
        return Vec::new();
    }
    call.command_line()
        .map(|line| of_line(&line, folder))
        .unwrap_or_default()
}

/// Whether a shell call's line is one a Windows shell runs (PowerShell, cmd), which is not read
/// as Bash: the call ran in a Windows folder (`C:\\app`), its tool runs PowerShell (Claude
/// Code's `PowerShell`, Copilot CLI's `powershell`), or its words hand the line to PowerShell
/// or cmd (`["powershell.exe", "-Command", "…"]`, `["cmd", "/c", "…"]`).
fn runs_on_windows(call: &ToolCall<'_>, folder: Folder<'_>) -> bool {
    let windows_shell =
        |word: &str| matches!(program(word).as_str(), "powershell" | "pwsh" | "cmd");
    folder.path().is_some_and(is_windows_folder)
        || tools::runs_powershell(call.agent, call.tool)
        || call
            .command_words()
            .and_then(|words| words.first().copied())
            .is_some_and(windows_shell)
}

/// [`of_call`] of a Bash line. A line Bash would refuse (a quote never closed: `cat 'x.txt`)
/// runs nothing and names no file.
pub fn of_line(line: &str, folder: Folder<'_>) -> Vec<ShellFile> {
    let simples = shell::split(line);
    if simples.iter().any(|s| s.refused) {
        return Vec::new();
    }
    let moves = simples
        .iter()
        .any(|s| s.words.first().is_some_and(|w| is_cd(w)));
    let cwd = match folder {
        Folder::Start(cwd) => Some(cwd),
        Folder::After(cwd) if !moves => Some(cwd),
        Folder::After(cwd) => started_in(line, cwd),
        Folder::Unknown => None,
    }
    // A start named from a session's folder not known (Gemini CLI's `dir_path: docs` in a chat
    // that names no folder) is the project's folder's, as a relative path is.
    .filter(|c| c.starts_with('/') || (matches!(folder, Folder::Start(_)) && is_plain(c)));
    // A folder known once the line ran, but not where it started: a relative path would name
    // another file than the one an import names from the start, and is not counted.
    let lost = matches!(folder, Folder::After(_)) && cwd.is_none();
    let mut out: Vec<ShellFile> = Vec::new();
    // Told apart by a set: a line naming thousands of files (a script, a patch of a generated
    // tree) is read once, not compared file by file with every file before it.
    let mut seen: HashSet<(String, FileUse)> = HashSet::new();
    for simple in &simples {
        if simple.unread {
            continue;
        }
        // The one folder a `cd` before it left the line in, when the line says which.
        let dir = match simple.cwd.as_slice() {
            [] => "",
            [dir] if is_plain(dir) => dir.as_str(),
            _ => continue,
        };
        // A path in the home folder is kept as written (`~/.ssh/id_rsa`), as the policy keeps
        // it: which folder that is, the line does not say, and no folder it runs in changes it.
        let named = |path: &str| {
            if in_home(path) {
                return Some(path.to_owned());
            }
            let path = absolute(&in_folder(dir, path), cwd);
            (!lost || path.starts_with('/')).then_some(path)
        };
        for (path, file_use) in certain_files(simple) {
            if !(is_plain(&path) || in_home(&path)) || simple.globs.contains(&path) {
                continue;
            }
            let Some(path) = named(&path) else { continue };
            // Where a file moved to is named as the file is, or as spelt when it cannot be.
            let file_use = match file_use {
                FileUse::Move(to) if is_plain(&to) || in_home(&to) => {
                    FileUse::Move(named(&to).unwrap_or(to))
                }
                other => other,
            };
            if !is_device(&path) && seen.insert((path.clone(), file_use.clone())) {
                out.push(ShellFile { path, file_use });
                if out.len() >= MAX_FILES {
                    return out;
                }
            }
        }
    }
    out
}

/// The folder a line that changes folder started in, from the one it left the shell in
/// (`after`, a hook's payload once the call ran): where its `cd`s went from the start, when
/// the line says so (`cd sub && cat x`, `cd a/b && make && cd ..`), taken off the end of `after`.
/// `None` when the line does not say (`cd "$X"`, `cd /abs`, `cd ..`) or `after` does not end
/// there (the agent put its shell back in the project, as Claude Code does after a `cd` out of
/// it).
fn started_in<'a>(line: &str, after: &'a str) -> Option<&'a str> {
    // Where a command run once the line's last one succeeded would run (the call succeeded):
    // the folder the line ends in. Not told when the line's end is no command's (a comment, a
    // here-document's body).
    let simples = shell::split(&format!("{line} && :"));
    let last = simples.last().filter(|s| s.words == [":"])?;
    let end = match last.cwd.as_slice() {
        [] => "",
        [dir] if is_plain(dir) && !dir.starts_with(['/', '~']) => dir.as_str(),
        _ => return None,
    };
    if end.is_empty() {
        return Some(after);
    }
    if end.split('/').any(|part| matches!(part, "" | "." | "..")) {
        return None;
    }
    let start = after.trim_end_matches('/').strip_suffix(end)?;
    let start = start.strip_suffix('/')?;
    (!start.is_empty()).then_some(start)
}

/// The files one simple command names for certain, as it spells them, with what it does to
/// each.
fn certain_files(simple: &SimpleCommand) -> Vec<(String, FileUse)> {
    let redirections = || {
        let reads = simple
            .redirect_in
            .iter()
            .map(|p| (p.clone(), FileUse::Read));
        reads.chain(
            simple
                .redirect_out
                .iter()
                .map(|p| (p.clone(), FileUse::Write)),
        )
    };
    let words = shell::command_of(&simple.words);
    let Some(name) = words.first().map(|w| shell::basename(w)) else {
        return redirections().collect();
    };
    let name: &str = &name;
    if let Some(plain) = without_extra_words(simple, name) {
        return certain_files(&plain);
    }
    if shell::is_patch_program(&simple.words) {
        // Codex's patch, its first operand or fed to it (`applypatch <<'PATCH'`): what it
        // says it does to each file it names.
        let operand = words[1..].iter().find(|w| !w.starts_with('-'));
        let patches = operand.into_iter().chain(&simple.patches);
        let mut out: Vec<(String, FileUse)> = redirections().collect();
        out.extend(patches.flat_map(|patch| tools::patch_changes(patch)));
        return out;
    }
    if (READERS.contains(&name) || WRITERS.contains(&name) || SEARCHERS.contains(&name))
        && !options_understood(name, &words[1..])
    {
        // An option whose value could be taken for a file (`touch -d '2 days ago' f`,
        // `xxd -l 64 f`, `rg --max-depth 2 x.y`): its operands are not certain.
        return redirections().collect();
    }
    let git = (name == "git").then(|| git_change(&words[1..])).flatten();
    if matches!(name, "mv" | "cp") || git.is_some() {
        let mut out: Vec<(String, FileUse)> = redirections().collect();
        match git {
            Some(("mv", args)) => out.extend(moved_or_copied("mv", args)),
            Some((_, args)) => out.extend(removed(args)),
            None => out.extend(moved_or_copied(name, &words[1..])),
        }
        return out;
    }
    let use_ = shell::file_use(simple);
    let tell =
        |list: Vec<String>, file_use: FileUse| list.into_iter().map(move |p| (p, file_use.clone()));
    if REMOVERS.contains(&name) {
        // What `rm` is given is gone, a folder as well as a file (`rm -r tests/`).
        let mut out: Vec<(String, FileUse)> = tell(use_.reads, FileUse::Read).collect();
        let gone = use_.writes.into_iter().chain(use_.write_trees);
        // `rm -rf .`: the folder the line runs in, no file of it named.
        let gone = gone.filter(|p| !matches!(p.trim_end_matches('/'), "" | "." | ".."));
        out.extend(gone.map(|p| (p, FileUse::Delete)));
        return out;
    }
    if READERS.contains(&name) || WRITERS.contains(&name) {
        // `yq -i '.a = 1' f.yaml` changes the file it reads.
        let in_place = name == "yq" && has_short_or_long(&words[1..], 'i', "--inplace");
        let mut out: Vec<(String, FileUse)> =
            tell(use_.reads, FileUse::of_write(in_place)).collect();
        out.extend(tell(use_.writes, FileUse::Write));
        // `grep -r TODO src/a.rs`: a file named so is the file.
        let trees =
            tell(use_.read_trees, FileUse::Read).chain(tell(use_.write_trees, FileUse::Write));
        out.extend(trees.filter(|(p, _)| looks_like_file(p)));
        return out;
    }
    if SEARCHERS.contains(&name) {
        let mut out: Vec<(String, FileUse)> = redirections().collect();
        out.extend(tell(use_.read_trees, FileUse::Read).filter(|(p, _)| looks_like_file(p)));
        return out;
    }
    redirections().collect()
}

/// Of git's words past its name, the subcommand that deletes or moves the files it names
/// (`rm`, `mv`) and its words: `None` for another, for a global option before it (`git -C dir
/// rm f` names its files from another folder), and for `git rm --cached`, which leaves the
/// file where it is.
fn git_change(words: &[String]) -> Option<(&str, &[String])> {
    let (sub, args) = words.split_first()?;
    let keeps = |w: &String| matches!(w.as_str(), "--cached" | "-n" | "--dry-run");
    match sub.as_str() {
        "rm" if !args.iter().take_while(|w| *w != "--").any(keeps) => Some(("rm", args)),
        "mv" if !args.iter().take_while(|w| *w != "--").any(keeps) => Some(("mv", args)),
        _ => None,
    }
}

/// What `git rm` deletes (`words` past `rm`): its operands spelt out, a folder only with `-r`
/// (without it git refuses one); none when an option may take a value.
fn removed(words: &[String]) -> Vec<(String, FileUse)> {
    let mut out = Vec::new();
    let mut ended = false;
    for word in words {
        if !ended && word == "--" {
            ended = true;
        } else if !ended && word.starts_with('-') && word.len() > 1 {
            let flag = matches!(
                word.as_str(),
                "-r" | "-f" | "-q" | "-rf" | "-fr" | "--force"
            ) || matches!(word.as_str(), "--quiet" | "--ignore-unmatch");
            if !flag {
                return Vec::new();
            }
        } else {
            out.push((word.clone(), FileUse::Delete));
        }
    }
    out
}

/// The command without the words a program takes that its reader would take for a file or a
/// script: BSD sed's empty suffix (`sed -i '' 's/a/b/' f`, the script then `s/a/b/`) and yq's
/// subcommand (`yq e '.a' f.yaml`, the expression then `.a`). `None` when there are none.
fn without_extra_words(simple: &SimpleCommand, name: &str) -> Option<SimpleCommand> {
    let words = shell::command_of(&simple.words);
    let start = simple.words.len() - words.len();
    let extra = match name {
        "sed" => words
            .iter()
            .take_while(|w| *w != "--")
            .position(|w| w == "-i")
            .map(|at| at + 1)
            .filter(|at| words.get(*at).is_some_and(String::is_empty)),
        "yq" => words
            .iter()
            .skip(1)
            .position(|w| !w.starts_with('-'))
            .map(|at| at + 1)
            .filter(|at| matches!(words[*at].as_str(), "e" | "eval" | "ea" | "eval-all")),
        _ => None,
    }?;
    let mut plain = simple.clone();
    plain.words.remove(start + extra);
    Some(plain)
}

/// Whether every option among a reader's or writer's words (past its name) is one whose value,
/// if it takes one, its reader sets apart: a flag of the program's ([`flags`]), a
/// valued option of [`shell::valued_options`] with its value, `--name=value`, or a long flag
/// of [`LONG_FLAGS`]. Another option may take the next word as its value, which would be
/// counted as a file.
fn options_understood(name: &str, args: &[String]) -> bool {
    let valued = shell::valued_options(name);
    let letters = flags(name);
    let numbers = matches!(name, "head" | "tail");
    let mut rest = args.iter();
    while let Some(word) = rest.next() {
        if word == "--" {
            return true;
        }
        if word.starts_with('+') && word.len() > 1 {
            // `tail +3 f`, `less +G f`: a start, not a file.
            return false;
        }
        if !word.starts_with('-') || word.len() == 1 {
            continue;
        }
        if valued.contains(&word.as_str()) {
            rest.next();
            continue;
        }
        if let Some(long) = word.strip_prefix("--") {
            if long.contains('=') || LONG_FLAGS.contains(&long) {
                continue;
            }
            return false;
        }
        if name == "sed" && word.starts_with("-i") {
            // GNU's and BSD's in-place edit, with its suffix in the word (`-i.bak`).
            continue;
        }
        if numbers && word[1..].bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let cluster = &word[1..];
        for (at, c) in cluster.char_indices() {
            if letters.contains(c) {
                continue;
            }
            // A letter that takes a value takes the rest of the word (`-n5`, `-d,`, `nl
            // -ba`), one word to the reader too; at the end of a cluster (`-rA 3`) it takes
            // the next word, which the reader would take for a file.
            if value_letters(name).contains(c) && at + c.len_utf8() < cluster.len() {
                break;
            }
            return false;
        }
    }
    true
}

/// Whether `args` hold the short option `letter` (alone or in a cluster) or `long`.
fn has_short_or_long(args: &[String], letter: char, long: &str) -> bool {
    args.iter()
        .take_while(|w| *w != "--")
        .any(|w| w == long || shell::short_letters(w).is_some_and(|l| l.contains(letter)))
}

/// The short options of a reader or writer that take no value. A letter not here may take one
/// (`xxd -l 64`, `touch -d date`, `rg -r text`), so a line with it is not read for files.
fn flags(name: &str) -> &'static str {
    match name {
        "cat" => "AbeEnstTuv",
        "tac" => "br",
        "head" => "qvz",
        "tail" => "fFqvz",
        "less" => "NRSXFrsiIMmeEKQ",
        "more" => "dlfpsc",
        "bat" | "batcat" => "pnAPu",
        "nl" => "p",
        "wc" => "clmwL",
        "sort" => "bdfgiMhnRrVcCsuz",
        "uniq" => "cdDiuz",
        "diff" => "abBdeEiNnpqrsStTuwyZ",
        "cmp" => "blsv",
        "cut" | "paste" => "snz",
        "fold" => "bs",
        "fmt" => "cstu",
        "expand" | "unexpand" => "ai",
        "column" => "tnexJLd",
        "comm" => "123iz",
        "join" => "iz",
        "strings" => "afw",
        "od" => "bcdfiloshvx",
        "hexdump" => "bcCdovx",
        "base64" => "di",
        "grep" | "egrep" | "fgrep" | "zgrep" => "EFGPivwxclLoqsbHhnTZzUrRaIy",
        "rg" => "iIsSwxvcnNlLoqzuUHhpaFbP0.",
        "ag" => "iswvcnlLQuaUHSzf0",
        // `-f file`: the filter's file, which the reader reads as grep's `-f`.
        "jq" => "rjcsnaeSCMtRf",
        "yq" => "iPCMNe0r",
        "xxd" => "bEipru",
        "sed" => "nrEsuz",
        "zcat" | "bzcat" | "xzcat" | "zstdcat" => "fqv",
        "tee" => "aip",
        "rm" => "dfiIrRv",
        "shred" => "fuvxz",
        "touch" => "acfhm",
        "truncate" => "co",
        _ => "",
    }
}

/// The short options of a reader or writer that take a value, which may be written in the
/// option's word (`head -n5`, `cut -d:`, `od -An`).
fn value_letters(name: &str) -> &'static str {
    match name {
        "head" => "nc",
        "tail" => "ncs",
        "nl" => "bdfhilnsvw",
        "od" => "AjNtwS",
        "hexdump" => "nse",
        "strings" => "nte",
        "xxd" => "lscgo",
        "uniq" => "fsw",
        "cut" => "dfcb",
        "paste" => "d",
        "sort" => "ktoST",
        "base64" | "fold" => "w",
        "fmt" => "wgp",
        "expand" | "unexpand" => "t",
        "column" => "scoNEHRWl",
        "join" => "t12joeav",
        "diff" => "UCxXIFLWD",
        "cmp" => "in",
        "grep" | "egrep" | "fgrep" | "zgrep" => "efmABCdD",
        "rg" => "efgtTmABCrdMEj",
        "ag" => "GmABCpg",
        "sed" => "efl",
        "awk" | "gawk" | "mawk" | "nawk" => "Fvf",
        "yq" => "opI",
        "touch" => "dtr",
        "truncate" => "sr",
        "shred" => "ns",
        _ => "",
    }
}

/// Long options that take no value, of the readers and writers (`--line-number`,
/// `--in-place`, `--recursive`).
const LONG_FLAGS: &[&str] = &[
    "recursive",
    "in-place",
    "append",
    "hidden",
    "color",
    "colour",
    "ignore-case",
    "line-number",
    "count",
    "files-with-matches",
    "files-without-match",
    "no-filename",
    "with-filename",
    "only-matching",
    "quiet",
    "silent",
    "invert-match",
    "word-regexp",
    "line-regexp",
    "fixed-strings",
    "extended-regexp",
    "perl-regexp",
    "regexp-extended",
    "numeric-sort",
    "reverse",
    "unique",
    "force",
    "verbose",
    "no-heading",
    "heading",
    "follow",
    "raw-output",
    "compact-output",
    "slurp",
    "null-input",
    "exit-status",
    "sort-keys",
    "tab",
    "number",
    "number-nonblank",
    "show-all",
    "squeeze-blank",
    "brief",
    "text",
    "ignore-all-space",
    "new-file",
    "no-messages",
    "case-sensitive",
    "smart-case",
    "no-ignore",
    "vimgrep",
    "json",
    "pretty",
    "multiline",
    "null",
    "null-data",
    "no-clobber",
    "interactive",
    "inplace",
    "unrestricted",
    "dereference-recursive",
    "ignore-file-case",
    "separate",
    "posix",
];

/// What `mv` and `cp` (`words` past the program's name) read, write and move for certain:
/// `cp` reads its sources (a folder only with `-r`, when it looks like a file) and writes the
/// target when it looks like a file, or is a folder by its `/` or by several sources (each
/// source lands in it under its name); `mv` moves each source, file or folder, there, or to
/// the target as spelt when it does not say whether it is a folder (`mv a b`).
fn moved_or_copied(name: &str, words: &[String]) -> Vec<(String, FileUse)> {
    let mut operands: Vec<&str> = Vec::new();
    let mut recursive = false;
    let mut ended = false;
    for word in words {
        if !ended && word == "--" {
            ended = true;
        } else if !ended && word.starts_with('-') && word.len() > 1 {
            // `-t dir`, `--target-directory`, `-S suffix`: the words are not read here.
            if word.starts_with("-t") || word.starts_with("--t") || word.starts_with("-S") {
                return Vec::new();
            }
            recursive |= word == "--recursive"
                || word == "--archive"
                || (!word.starts_with("--") && word.contains(['r', 'R', 'a']));
        } else {
            operands.push(word);
        }
    }
    let Some((target, sources)) = operands.split_last() else {
        return Vec::new();
    };
    if sources.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for source in sources {
        let into = sources.len() > 1 || target.ends_with('/');
        let landed = if into {
            let file = shell::last_part(source.trim_end_matches('/'));
            Some(format!("{}/{file}", target.trim_end_matches('/')))
        } else {
            looks_like_file(target).then(|| (*target).to_owned())
        };
        if name == "mv" {
            let to = landed.unwrap_or_else(|| (*target).to_owned());
            out.push(((*source).to_owned(), FileUse::Move(to)));
            continue;
        }
        if recursive && !looks_like_file(source) {
            continue;
        }
        out.push(((*source).to_owned(), FileUse::Read));
        out.extend(landed.map(|to| (to, FileUse::Write)));
    }
    out
}

/// Whether a path a program may take for a folder names a file by its look: its last part has
/// a dot past its first letter (`src/a.rs`, `go.mod`, `.env.local`), not a folder's `/` at its
/// end. `src`, `.`, `.github` and `.python-version` do not.
fn looks_like_file(path: &str) -> bool {
    if path.ends_with('/') {
        return false;
    }
    let name = shell::last_part(path);
    name.char_indices()
        .skip(1)
        .any(|(at, c)| c == '.' && at + 1 < name.len())
        && !matches!(name, "." | "..")
        // `conf.d`, `sudoers.d`: the folders a program reads its parts from.
        && !name.to_ascii_lowercase().ends_with(".d")
}

/// Whether a word is spelt out: no variable or substitution (`$X`, `$(…)`, backticks), no
/// glob, not stdin's `-`, nothing the shell would change first.
fn is_plain(word: &str) -> bool {
    !word.is_empty()
        && word != "-"
        && !word.contains(['$', '`'])
        && !shell::is_glob(word)
        && !word.starts_with('~')
        && !word.contains("{}")
}

/// Whether a word names a path in the home folder, spelt out past it: `~/`, `$HOME/` or
/// `${HOME}/`, then a plain path (`~/.ssh/id_rsa`, not `~al/x` nor `$HOME/$F`).
fn in_home(word: &str) -> bool {
    ["~/", "$HOME/", "${HOME}/"]
        .iter()
        .any(|home| word.strip_prefix(home).is_some_and(is_plain))
}

/// A device or a process's file, which no one counts among a session's files.
fn is_device(path: &str) -> bool {
    ["/dev/", "/proc/", "/sys/"]
        .iter()
        .any(|p| path.starts_with(p))
        || path == "/dev"
}

/// The line of a list of words (Codex's `["apply_patch", "*** Begin Patch…"]`) as Bash
/// would take it back, for tests.
#[cfg(test)]
fn joined(words: &[&str]) -> String {
    let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
    shell::join(&words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(line: &str) -> Vec<(String, FileUse)> {
        of_line(line, Folder::Unknown)
            .into_iter()
            .map(|f| (f.path, f.file_use))
            .collect()
    }

    fn read(p: &str) -> (String, FileUse) {
        (p.to_owned(), FileUse::Read)
    }

    fn wrote(p: &str) -> (String, FileUse) {
        (p.to_owned(), FileUse::Write)
    }

    fn deleted(p: &str) -> (String, FileUse) {
        (p.to_owned(), FileUse::Delete)
    }

    fn moved(p: &str, to: &str) -> (String, FileUse) {
        (p.to_owned(), FileUse::Move(to.to_owned()))
    }

    #[test]
    fn readers_read_their_operands() {
        assert_eq!(files("cat src/a.rs"), [read("src/a.rs")]);
        assert_eq!(files("sed -n '1,200p' go.mod"), [read("go.mod")]);
        assert_eq!(files("head -n 5 a b | wc -l"), [read("a"), read("b")]);
        assert_eq!(files("nl -ba x.py | sed -n '3,9p'"), [read("x.py")]);
        assert_eq!(files("rg -n TODO src/a.rs"), [read("src/a.rs")]);
        assert_eq!(files("grep -n TODO Makefile"), [read("Makefile")]);
        assert_eq!(files("cd src && cat a.rs"), [read("src/a.rs")]);
        // The home folder's files as written, wherever the line ran.
        for home in ["~/.ssh/id_rsa", "$HOME/.ssh/id_rsa", "${HOME}/.ssh/id_rsa"] {
            assert_eq!(files(&format!("cat {home}")), [read(home)]);
            assert_eq!(
                of_line(&format!("cd x && cat {home}"), Folder::Start("/p"))[0].path,
                home
            );
        }
        assert_eq!(
            files("cat \"$HOME/.ssh/id_rsa\""),
            [read("$HOME/.ssh/id_rsa")]
        );
        assert_eq!(
            of_line("cat ../b.rs", Folder::Start("/p/src")),
            [ShellFile {
                path: "/p/b.rs".into(),
                file_use: FileUse::Read
            }]
        );
        // Where a line that changed folder started is not where it ended: it is told from
        // where it ended when the line says how it got there, else its relative paths are not
        // counted.
        assert_eq!(
            of_line("cat a; cd x", Folder::After("/p/x"))[0].path,
            "/p/a"
        );
        assert_eq!(
            of_line("cd x && cat a", Folder::After("/p/x"))[0].path,
            "/p/x/a"
        );
        assert_eq!(
            of_line("cd x/y && cd .. && cat a", Folder::After("/p/x"))[0].path,
            "/p/x/a"
        );
        assert_eq!(of_line("cat a; cd x", Folder::After("/p")), []);
        assert_eq!(of_line("cd .. && cat a", Folder::After("/p")), []);
        assert_eq!(
            of_line("cd /q && cat a", Folder::After("/q"))[0].path,
            "/q/a"
        );
        assert_eq!(of_line("cat a", Folder::After("/p"))[0].path, "/p/a");
    }

    #[test]
    fn writers_write_theirs() {
        assert_eq!(files("rm -f TODO.md"), [deleted("TODO.md")]);
        assert_eq!(files("echo x > out.txt 2>/dev/null"), [wrote("out.txt")]);
        assert_eq!(files("cargo test 2>&1 | tee log.txt"), [wrote("log.txt")]);
        assert_eq!(files("sed -i 's/a/b/' a.rs"), [wrote("a.rs")]);
        assert_eq!(files("touch a"), [wrote("a")]);
        assert_eq!(files("mv a.rs b.rs"), [moved("a.rs", "b.rs")]);
        assert_eq!(files("cp a.rs b.rs"), [read("a.rs"), wrote("b.rs")]);
        assert_eq!(files("cp a.rs src/"), [read("a.rs"), wrote("src/a.rs")]);
        assert_eq!(files("cp a.rs src"), [read("a.rs")]);
        assert_eq!(
            files("cat > f.txt <<'EOF'\nrm -f g.txt\nEOF\n"),
            [wrote("f.txt")]
        );
        assert_eq!(
            files("sort -o out.txt in.txt"),
            [read("in.txt"), wrote("out.txt")]
        );
        assert_eq!(files("jq . package.json"), [read("package.json")]);
        assert_eq!(files("xargs rm < list.txt"), [read("list.txt")]);
    }

    /// A deletion or a move writes no content: it is its own use, of a folder as well as a
    /// file, by `rm`, `unlink`, `mv` or git's own.
    #[test]
    fn removers_and_movers_delete_and_move_theirs() {
        assert_eq!(files("unlink gone.txt"), [deleted("gone.txt")]);
        assert_eq!(
            files("rm -rf build TODO.md"),
            [deleted("build"), deleted("TODO.md")]
        );
        assert_eq!(files("rm -r tests/"), [deleted("tests/")]);
        assert_eq!(files("git rm -q x.py"), [deleted("x.py")]);
        assert_eq!(files("git rm -r src"), [deleted("src")]);
        assert_eq!(files("git mv a.py b.py"), [moved("a.py", "b.py")]);
        assert_eq!(files("mv src lib"), [moved("src", "lib")]);
        assert_eq!(
            files("mv a.rs b.rs src/"),
            [moved("a.rs", "src/a.rs"), moved("b.rs", "src/b.rs")]
        );
        assert_eq!(
            of_line("cd sub && mv a.txt b.txt", Folder::Start("/p"))[0].file_use,
            FileUse::Move("/p/sub/b.txt".into())
        );
        // What git keeps in the tree, and a folder the line runs in, are not deleted.
        for line in [
            "git rm --cached x.py",
            "git -C d rm x.py",
            "rm -rf .",
            "git add x.py",
        ] {
            assert!(files(line).is_empty(), "{line}: {:?}", files(line));
        }
    }

    #[test]
    fn what_is_not_certain_is_not_counted() {
        for line in [
            "rg TODO",
            "rg TODO src",
            "cat $(git ls-files)",
            "cat \"$F\"",
            "ls src",
            "cat src/*.rs",
            "git add a.rs",
            "python x.py",
            "cat /dev/null /proc/cpuinfo",
            "cd \"$D\" && cat a",
            "grep -r TODO .",
            "cat ~al/.bashrc",
            "cat $HOME/$F",
            "echo x >&2; cargo test 2>&1",
            "cp -r src dst",
            "mkdir -p out",
        ] {
            assert!(files(line).is_empty(), "{line}: {:?}", files(line));
        }
    }

    #[test]
    fn a_patch_writes_deletes_and_moves_its_files() {
        let patch = "*** Begin Patch\n*** Update File: go.mod\n@@\n-a\n+b\n*** Delete File: TODO.md\n*** Add File: n.rs\n+x\n*** End Patch";
        let heredoc = format!("applypatch << 'PATCH'\n{patch}\nPATCH\n");
        let expected = [wrote("go.mod"), deleted("TODO.md"), wrote("n.rs")];
        assert_eq!(files(&heredoc), expected);
        assert_eq!(files(&format!("apply_patch <<EOF\n{patch}\nEOF")), expected);
        assert_eq!(files(&joined(&["apply_patch", patch])), expected);
        assert_eq!(
            files(&format!("cd sub && apply_patch <<'EOF'\n{patch}\nEOF\n")),
            [
                wrote("sub/go.mod"),
                deleted("sub/TODO.md"),
                wrote("sub/n.rs")
            ]
        );
        // A move is named from the folder the line ran in, as the file moved is.
        let moving =
            "*** Begin Patch\n*** Update File: a.rs\n*** Move to: b.rs\n@@\n-x\n+y\n*** End Patch";
        assert_eq!(
            files(&format!(
                "cd sub && applypatch <<'PATCH'\n{moving}\nPATCH\n"
            )),
            [moved("sub/a.rs", "sub/b.rs")]
        );
        // A patch written to a file by `cat` is text, not a patch applied.
        assert!(files(&format!("cat <<'EOF'\n{patch}\nEOF\n")).is_empty());
    }
}
