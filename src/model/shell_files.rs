//! The files a shell command reads and writes for certain, which the counts of a session's files
//! take as they take a Read or Write tool's file: an agent that works through its shell (Codex,
//! Claude Code's Bash) reads with `cat f` and `sed -n '1,9p' f`, writes with `> f`, `tee f`,
//! `rm f`, `mv a b` and Codex's patch (`applypatch <<'PATCH'`).
//!
//! The line is read by the policy's reader ([`super::policy::shell`]), which, for a policy's
//! sake, takes what a command might touch (a folder `rg` goes through, a word git may take for a
//! path). Counted here is only what the line names for certain: an operand of a program that
//! reads or writes its operands, a redirection, a patch's files. Not counted: folders, globs,
//! words holding a variable or a substitution (`cat $(git ls-files)`), devices, what a command
//! runs in a folder the line does not say, and every other program's operands (`ls src`,
//! `git add f`, `python x.py`).

use super::policy::check::absolute;
use super::policy::cwd::{in_folder, is_cd};
use super::policy::shell::{self, SimpleCommand};
use super::tools::ToolKind;
use super::view::ToolCall;

/// One file a shell command reads or writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellFile {
    pub path: String,
    pub write: bool,
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

/// Programs whose operands are files they write: change, make, or remove.
const WRITERS: &[&str] = &[
    "tee",
    "rm",
    "unlink",
    "shred",
    "touch",
    "truncate",
    "apply_patch",
    "applypatch",
];

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

/// The files a shell tool's call reads and writes for certain, relative ones taken from the
/// folder the line started in when it is known (so that they are named as a Read tool's
/// absolute path names them). Empty for a call of any other kind.
pub fn of_call(call: &ToolCall<'_>, folder: Folder<'_>) -> Vec<ShellFile> {
    if call.kind != ToolKind::Shell {
        return Vec::new();
    }
    call.command_line()
        .map(|line| of_line(&line, folder))
        .unwrap_or_default()
}

/// [`of_call`] of a Bash line.
pub fn of_line(line: &str, folder: Folder<'_>) -> Vec<ShellFile> {
    let simples = shell::split(line);
    let moves = || {
        simples
            .iter()
            .any(|s| s.words.first().is_some_and(|w| is_cd(w)))
    };
    let cwd = match folder {
        Folder::Start(cwd) => Some(cwd),
        Folder::After(cwd) if !moves() => Some(cwd),
        _ => None,
    }
    .filter(|c| c.starts_with('/'));
    let mut out: Vec<ShellFile> = Vec::new();
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
        for (path, write) in certain_files(simple) {
            if !is_plain(&path) || simple.globs.contains(&path) {
                continue;
            }
            let path = in_folder(dir, &path);
            let path = absolute(&path, cwd);
            if !is_device(&path) && !out.iter().any(|f| f.path == path && f.write == write) {
                out.push(ShellFile { path, write });
            }
        }
    }
    out
}

/// The files one simple command names for certain, as it spells them: `true` for a write.
fn certain_files(simple: &SimpleCommand) -> Vec<(String, bool)> {
    let redirections = || {
        let reads = simple.redirect_in.iter().map(|p| (p.clone(), false));
        reads.chain(simple.redirect_out.iter().map(|p| (p.clone(), true)))
    };
    let words = shell::command_of(&simple.words);
    let Some(name) = words.first().map(|w| shell::basename(w)) else {
        return redirections().collect();
    };
    if matches!(name, "mv" | "cp") {
        let mut out: Vec<(String, bool)> = redirections().collect();
        out.extend(moved_or_copied(name, &words[1..]));
        return out;
    }
    let use_ = shell::file_use(simple);
    let tell = |list: Vec<String>, write: bool| list.into_iter().map(move |p| (p, write));
    if READERS.contains(&name) || WRITERS.contains(&name) {
        let mut out: Vec<(String, bool)> = tell(use_.reads, false).collect();
        out.extend(tell(use_.writes, true));
        // `grep -r TODO src/a.rs`, `rm -rf TODO.md`: a file named so is the file.
        let trees = tell(use_.read_trees, false).chain(tell(use_.write_trees, true));
        out.extend(trees.filter(|(p, _)| looks_like_file(p)));
        return out;
    }
    if SEARCHERS.contains(&name) {
        let mut out: Vec<(String, bool)> = redirections().collect();
        out.extend(tell(use_.read_trees, false).filter(|(p, _)| looks_like_file(p)));
        return out;
    }
    redirections().collect()
}

/// What `mv` and `cp` (`words` past the program's name) read and write for certain: `cp`
/// reads its sources (a folder only with `-r`, when it looks like a file); `mv` writes its
/// sources away, when each looks like a file (it moves folders too); the target is written
/// when it looks like a file, or is a folder by its `/` or by several sources (each source
/// lands in it under its name).
fn moved_or_copied(name: &str, words: &[String]) -> Vec<(String, bool)> {
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
        let sure = match name {
            "cp" => !recursive || looks_like_file(source),
            _ => looks_like_file(source),
        };
        if !sure {
            continue;
        }
        out.push(((*source).to_owned(), name == "mv"));
        let into = sources.len() > 1 || target.ends_with('/');
        if into {
            let file = shell::basename(source.trim_end_matches('/'));
            out.push((format!("{}/{file}", target.trim_end_matches('/')), true));
        } else if looks_like_file(target) {
            out.push(((*target).to_owned(), true));
        }
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
    let name = shell::basename(path);
    name.char_indices()
        .skip(1)
        .any(|(at, c)| c == '.' && at + 1 < name.len())
        && !matches!(name, "." | "..")
}

/// Whether a word is spelt out: no variable or substitution (`$X`, `$(…)`, backticks), no
/// glob, not stdin's `-`, nothing the shell would change first.
fn is_plain(word: &str) -> bool {
    !word.is_empty()
        && word != "-"
        && !word.contains(['$', '`'])
        && !shell::is_glob(word)
        && !word.starts_with('~')
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

    fn files(line: &str) -> Vec<(String, bool)> {
        of_line(line, Folder::Unknown)
            .into_iter()
            .map(|f| (f.path, f.write))
            .collect()
    }

    fn read(p: &str) -> (String, bool) {
        (p.to_owned(), false)
    }

    fn wrote(p: &str) -> (String, bool) {
        (p.to_owned(), true)
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
        assert_eq!(
            of_line("cat ../b.rs", Folder::Start("/p/src")),
            [ShellFile {
                path: "/p/b.rs".into(),
                write: false
            }]
        );
        // Where a line that changed folder started is not where it ended.
        assert_eq!(of_line("cat a; cd x", Folder::After("/p"))[0].path, "a");
        assert_eq!(of_line("cat a", Folder::After("/p"))[0].path, "/p/a");
    }

    #[test]
    fn writers_write_theirs() {
        assert_eq!(files("rm -f TODO.md"), [wrote("TODO.md")]);
        assert_eq!(files("echo x > out.txt 2>/dev/null"), [wrote("out.txt")]);
        assert_eq!(files("cargo test 2>&1 | tee log.txt"), [wrote("log.txt")]);
        assert_eq!(files("sed -i 's/a/b/' a.rs"), [wrote("a.rs")]);
        assert_eq!(files("touch a"), [wrote("a")]);
        assert_eq!(files("mv a.rs b.rs"), [wrote("a.rs"), wrote("b.rs")]);
        assert_eq!(files("cp a.rs b.rs"), [read("a.rs"), wrote("b.rs")]);
        assert_eq!(files("cp a.rs src/"), [read("a.rs"), wrote("src/a.rs")]);
        assert_eq!(files("cp a.rs src"), [read("a.rs")]);
        assert_eq!(files("rm -rf build TODO.md"), [wrote("TODO.md")]);
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
            "mv src lib",
            "rm -rf build",
            "grep -r TODO .",
            "cat ~/.bashrc",
            "echo x >&2; cargo test 2>&1",
            "cp -r src dst",
            "mkdir -p out",
        ] {
            assert!(files(line).is_empty(), "{line}: {:?}", files(line));
        }
    }

    #[test]
    fn a_patch_writes_its_files() {
        let patch = "*** Begin Patch\n*** Update File: go.mod\n@@\n-a\n+b\n*** Delete File: TODO.md\n*** Add File: n.rs\n+x\n*** End Patch";
        let heredoc = format!("applypatch << 'PATCH'\n{patch}\nPATCH\n");
        let expected = [wrote("go.mod"), wrote("TODO.md"), wrote("n.rs")];
        assert_eq!(files(&heredoc), expected);
        assert_eq!(files(&format!("apply_patch <<EOF\n{patch}\nEOF")), expected);
        assert_eq!(files(&joined(&["apply_patch", patch])), expected);
        assert_eq!(
            files(&format!("cd sub && apply_patch <<'EOF'\n{patch}\nEOF\n")),
            [wrote("sub/go.mod"), wrote("sub/TODO.md"), wrote("sub/n.rs")]
        );
        // A patch written to a file by `cat` is text, not a patch applied.
        assert!(files(&format!("cat <<'EOF'\n{patch}\nEOF\n")).is_empty());
    }
}
