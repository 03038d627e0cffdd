//! What `patch` reads and writes: the file it is told to change (`patch src/a.rs fix.diff`),
//! or else the files its diff names, read as `git apply`'s is ([`super::git::patched_files`]):
//! from `-i file`, or on its stdin from a here-document, a here-string or a file the line
//! redirects (read by the caller that can, see `check.rs`); a diff another command pipes in,
//! which the line does not spell, writes a file of unknown name, judged by a deny alone.

use super::git::{Applier, GitPatch, GitPath, JudgedBy, UNKNOWN, patched_files};
use super::shell::{FileUse, SimpleCommand};

/// `patch`'s short options that take a value, in the next word or glued on (`-p1`, `-d dir`).
/// `-x` is its debug flags (`-x 1`).
const VALUED_LETTERS: &str = "iopdDFBzVYgrx";

/// `patch`'s long options that take a value, in the next word or after `=`.
const VALUED_LONG: &[&str] = &[
    "input",
    "output",
    "strip",
    "directory",
    "ifdef",
    "fuzz",
    "prefix",
    "suffix",
    "version-control",
    "basename-prefix",
    "get",
    "reject-file",
    "quoting-style",
    "reject-format",
    "read-only",
    "debug",
];

/// What `patch` is told on its line.
#[derive(Debug, Default)]
struct Args {
    input: Option<String>,
    output: Option<String>,
    reject: Option<String>,
    strip: Option<usize>,
    directory: Option<String>,
    dry_run: bool,
    /// A backup's name is made of a value (`-B`, `-Y`, `-z`, `-V`): it may be any file.
    backup_named: bool,
    operands: Vec<String>,
}

impl Args {
    /// Reads `patch`'s words past its name, as getopt does: clusters (`-Np1`), values glued on
    /// or in the next word, long options by a start of their name, operands anywhere.
    fn read(words: &[String]) -> Args {
        let mut args = Args::default();
        let mut rest = words.iter();
        let set = |args: &mut Args, option: &str, value: String| match option {
            "i" | "input" => args.input = Some(value),
            "o" | "output" => args.output = Some(value),
            "r" | "reject-file" => args.reject = Some(value),
            "p" | "strip" => args.strip = value.parse().ok().or(Some(0)),
            "B" | "prefix" | "Y" | "basename-prefix" | "z" | "suffix" | "V" | "version-control" => {
                args.backup_named = true;
            }
            "d" | "directory" => args.directory = Some(in_folder(args.directory.take(), &value)),
            _ => {}
        };
        while let Some(w) = rest.next() {
            if w == "--" {
                args.operands.extend(rest.by_ref().cloned());
            } else if let Some(long) = w.strip_prefix("--") {
                let (name, glued) = long
                    .split_once('=')
                    .map_or((long, None), |(n, v)| (n, Some(v.to_owned())));
                let full = VALUED_LONG
                    .iter()
                    .find(|l| l.starts_with(name) && !name.is_empty());
                match full {
                    Some(full) => {
                        let value = glued.or_else(|| rest.next().cloned()).unwrap_or_default();
                        set(&mut args, full, value);
                    }
                    None if "dry-run".starts_with(name) && name.len() > 1 => args.dry_run = true,
                    None => {}
                }
            } else if let Some(letters) = w.strip_prefix('-').filter(|l| !l.is_empty()) {
                for (at, letter) in letters.char_indices() {
                    if VALUED_LETTERS.contains(letter) {
                        let glued = &letters[at + letter.len_utf8()..];
                        let value = if glued.is_empty() {
                            rest.next().cloned().unwrap_or_default()
                        } else {
                            glued.to_owned()
                        };
                        set(&mut args, &letter.to_string(), value);
                        break;
                    }
                }
            } else {
                args.operands.push(w.clone());
            }
        }
        args
    }
}

/// What `patch` (its words past its name, `args`) does with files ([`FileUse`]): its first
/// operand is the file it changes (and reads), a second the diff, read; `-o` and `-r` write
/// their files; with no operand, the files the diff names are written ([`Applier::Patch`]),
/// none of them with `--dry-run`. `-d dir` runs it in `dir`: what it names is there.
pub(super) fn patch_use(cmd: &SimpleCommand, args: &[String], use_: &mut FileUse) {
    let args = Args::read(args);
    let dir = args.directory.as_deref().map(|d| d.trim_end_matches('/'));
    let at = |path: &str| match dir {
        Some(dir) if !path.starts_with('/') && !dir.is_empty() => format!("{dir}/{path}"),
        _ => path.to_owned(),
    };
    // `-B secrets/` backs each file up as `secrets/<file>`, `-Y` and `-z` beside it under
    // another name: files not read here, judged as a file of unknown name.
    if args.backup_named && !args.dry_run {
        unknown(use_);
    }
    use_.writes.extend(args.output.iter().map(|o| at(o)));
    use_.writes.extend(args.reject.iter().map(|r| at(r)));
    if let [file, rest @ ..] = args.operands.as_slice() {
        if args.output.is_none() && !args.dry_run {
            use_.writes.push(at(file));
        }
        use_.reads.push(at(file));
        use_.reads.extend(rest.iter().take(1).map(|p| at(p)));
        return;
    }
    let patch = |file: String| GitPatch {
        file,
        strip: args.strip,
        directory: dir.map(str::to_owned),
        by: Applier::Patch,
    };
    // With `-o`, the files the diff names are read, and only the output written.
    let writes = args.output.is_none() && !args.dry_run;
    if let Some(input) = args.input.as_deref().filter(|i| *i != "-") {
        use_.reads.push(at(input));
        if writes {
            use_.git.patches.push(patch(at(input)));
        }
        return;
    }
    if !writes {
        return;
    }
    match (&cmd.fed, cmd.redirect_in.as_slice()) {
        // A text holding values the line does not spell (`<<< "$(cat fix.diff)"`) may be any.
        (Some(_), _) if cmd.fed_unspelt => unknown(use_),
        (Some(text), _) => match patched_files(text, &patch(String::new())) {
            Some(names) => use_.writes.extend(names),
            None => unknown(use_),
        },
        (None, [file]) if !cmd.piped_in => use_.git.patches.push(patch(file.clone())),
        _ => unknown(use_),
    }
}

/// The folder a `-d` after others (`-d secrets -d .`) takes patch to: each one changes into
/// its folder from where the one before left it, as `chdir` does.
fn in_folder(before: Option<String>, dir: &str) -> String {
    let mut path = match before {
        Some(before) if !dir.starts_with('/') => before,
        _ if dir.starts_with('/') => "/".to_owned(),
        _ => String::new(),
    };
    for part in dir.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if !path.is_empty() && !path.ends_with('/') {
            path.push('/');
        }
        path.push_str(part);
    }
    if path.is_empty() {
        ".".to_owned()
    } else {
        path
    }
}

/// A file of unknown name in any folder, written: judged by a deny alone.
fn unknown(use_: &mut FileUse) {
    use_.git.paths.push(GitPath {
        path: UNKNOWN.to_owned(),
        write: true,
        certain: false,
        here_is_none: false,
        judged_by: JudgedBy::Denies,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn patch_options_are_read_as_getopt_reads_them() {
        let args = Args::read(&words("-Np1 -d sub --input=x.diff --dry"));
        assert_eq!(args.strip, Some(1));
        assert_eq!(args.directory.as_deref(), Some("sub"));
        assert_eq!(args.input.as_deref(), Some("x.diff"));
        assert!(args.dry_run);
        let args = Args::read(&words("-p 2 -ox.rs a.rs -- -b.diff"));
        assert_eq!(args.strip, Some(2));
        assert_eq!(args.output.as_deref(), Some("x.rs"));
        assert_eq!(args.operands, ["a.rs", "-b.diff"]);
        assert_eq!(Args::read(&words("--strip 0")).strip, Some(0));
        let args = Args::read(&words("-d secrets -d . -d sub -x 1"));
        assert_eq!(args.directory.as_deref(), Some("secrets/sub"));
        assert!(args.operands.is_empty());
        assert_eq!(
            Args::read(&words("-d a -d /b")).directory.as_deref(),
            Some("/b")
        );
    }

    #[test]
    fn a_diff_is_read_as_patch_reads_it() {
        let patch = |strip| GitPatch {
            file: String::new(),
            strip,
            directory: None,
            by: Applier::Patch,
        };
        let unified = "--- a/src/x.rs\n+++ b/src/x.rs\n@@ -1 +1 @@\n-a\n+b\n";
        assert_eq!(patched_files(unified, &patch(None)).unwrap(), ["x.rs"]);
        assert_eq!(
            patched_files(unified, &patch(Some(1))).unwrap(),
            ["src/x.rs"]
        );
        let context =
            "*** a/old.rs\n--- b/new.rs\n***************\n*** 1 ****\n! a\n--- 1 ----\n! b\n";
        assert_eq!(
            patched_files(context, &patch(Some(1))).unwrap(),
            ["new.rs", "old.rs"]
        );
    }
}
