//! How a line run on Windows is read: cmd's and PowerShell's commands that run a line of their
//! own (`cmd /c …`, `powershell -Command …`, `pwsh -c …`, `-EncodedCommand`) are read into, as
//! [`super::shell`] reads `bash -c '…'`, and those that read and write files (`type`, `copy`,
//! `Copy-Item`, `Set-Content`, `del` …) are read as the Unix commands that do the same. For a
//! session whose folder is a Windows one ([`super::cwd::is_windows_folder`]); on Unix only for
//! a line PowerShell runs ([`split_on_unix`]: `pwsh` there), as no program is named so, and
//! the words a policy reads of a Bash line must not change.
//!
//! A line arrives here in a Unix shape already ([`super::cwd::unix_shaped`]: `\` is `/`), but
//! for [`decoded`], which reads the line as it was written.

use std::borrow::Cow;

use super::cwd::{cd_into, in_folder};
use super::powershell;
use super::pwsh_names;
use super::shell::{self, SimpleCommand};

/// How deep `cmd /c` and `powershell -Command` may nest before the rest is taken as it is.
const MAX_DEPTH: usize = 8;

/// Splits a line run on Windows into its simple commands, those of the lines that `cmd /c` and
/// `powershell -Command` run included (each in the folder its command runs in).
///
/// The line is PowerShell's (Codex runs its commands on Windows in PowerShell) and read
/// through [`powershell::shaped`] first; a line cmd runs is not.
pub fn split(line: &str) -> Vec<SimpleCommand> {
    split_as(line, Syntax::PowerShell)
}

/// [`split`] for a line another shell runs on Windows: Bash (Git Bash, which runs Claude Code's
/// `Bash`) reads it as a Unix shell does, cmd as cmd does, not as PowerShell's; the lines its
/// `cmd /c` and `powershell -Command` run are read into.
///
/// The line is in a Unix shape, a `/` typed before a quote still [`TYPED_SLASH`]
/// ([`typed_slashes_marked`]); every command gets its `/` back.
pub fn split_as(line: &str, syntax: Syntax) -> Vec<SimpleCommand> {
    let mut out = Vec::new();
    split_into(line, syntax, &[], 0, &mut out);
    for simple in &mut out {
        typed_slashes_back(simple);
    }
    out
}

/// Splits a line run on Linux or macOS, each simple command said with whether it is
/// PowerShell's (read by [`as_unix`]): the whole line when a PowerShell runs it (`powershell`:
/// Claude Code's `PowerShell` tool, a Codex call whose `shell` is `pwsh`), else Bash's, and the
/// lines its `pwsh -c …` (`powershell -Command`, `-EncodedCommand`) run. PowerShell takes `\`
/// between the names of a path there too (`gc secrets\k`): it is read as `/`, as on Windows.
pub fn split_on_unix(line: &str, powershell: bool) -> Vec<(SimpleCommand, bool)> {
    let mut out = split_on_unix_marked(line, powershell);
    for (simple, _) in &mut out {
        typed_slashes_back(simple);
    }
    out
}

/// [`split_on_unix`], a `/` typed before a quote still [`TYPED_SLASH`].
fn split_on_unix_marked(line: &str, powershell: bool) -> Vec<(SimpleCommand, bool)> {
    if powershell {
        let line = slashes_shaped(line);
        return split_as(&line, Syntax::PowerShell)
            .into_iter()
            .map(|s| (s, true))
            .collect();
    }
    let mut out = Vec::new();
    for simple in shell::split(line) {
        // The PowerShell the command runs, past `sudo`, `env`, `timeout` … (`sudo pwsh -c …`).
        let ran = shell::command_of(&simple.words).to_vec();
        let powershell = ran
            .first()
            .is_some_and(|w| matches!(program(w).as_str(), "pwsh" | "powershell"));
        let runs = powershell
            .then(|| powershell_runs(&ran[1..], program(&ran[0]) == "powershell"))
            .flatten();
        // A line it reads on its stdin (`pwsh -c -`, or none) that the Bash line spells
        // (`<<< 'gc k'`, `echo 'gc k' |`), as `bash <<< …` reads it.
        let fed = match &runs {
            Some((PowerShellRuns::Line(None), folder)) => Some(folder.clone()),
            None if powershell => Some(None),
            _ => None,
        }
        .and_then(|folder| {
            simple.fed.clone().map(|line| Nested {
                line,
                shell: Syntax::PowerShell,
                folder,
            })
        });
        let nested = powershell.then(|| nested_line(&ran)).flatten().or(fed);
        // `pwsh -File secrets/x.ps1` (`pwsh secrets/x.ps1`) reads its script, as PowerShell's
        // own line reads it ([`as_unix`]).
        let script = matches!(runs, Some((PowerShellRuns::Script(_), _)));
        let run_script = script.then(|| SimpleCommand {
            words: ran.clone(),
            ..simple.clone()
        });
        let cwd = simple.cwd.clone();
        out.push((simple, false));
        out.extend(run_script.map(|s| (s, true)));
        if let Some(Nested {
            line,
            shell: Syntax::PowerShell,
            folder,
        }) = nested
        {
            let cwd = match folder {
                Some(folder) => {
                    let from = if cwd.is_empty() {
                        vec![String::new()]
                    } else {
                        cwd
                    };
                    from.iter().map(|dir| cd_into(dir, &folder)).collect()
                }
                None => cwd,
            };
            let mut inner = Vec::new();
            split_into(
                &slashes_shaped(&line),
                Syntax::PowerShell,
                &cwd,
                1,
                &mut inner,
            );
            out.extend(inner.into_iter().map(|s| (s, true)));
        }
    }
    out
}

/// A `/` typed in a run of slashes before a `"`, told apart from a `\` read as `/`
/// ([`slashes_shaped`]) until a program's command line is split ([`command_line_words`]), where
/// a backslash escapes a quote and a `/` does not; every word gets its `/` back
/// ([`typed_slashes_back`]). A character of Unicode's private use area, which no line means.
const TYPED_SLASH: char = '\u{E000}';

/// A PowerShell line with `\` read as `/` between the names of a path, but a `/` typed before
/// a quote kept apart ([`typed_slashes_marked`]).
fn slashes_shaped(line: &str) -> String {
    typed_slashes_marked(line).replace('\\', "/")
}

/// A line with each `/` typed in a run of slashes that ends at a `"` (`'push -o /"x" -f'`) kept
/// apart as [`TYPED_SLASH`], before its `\` is read as `/`: the Windows C runtime splits a
/// program's command line at such a quote by its backslashes alone. For a line run in a
/// Windows folder too, which is read in a Unix shape ([`super::cwd::unix_shaped`]).
pub fn typed_slashes_marked(line: &str) -> String {
    let mut out: Vec<char> = Vec::with_capacity(line.len());
    // Read from the end: whether the slashes met since the last other character end at a `"`.
    let mut before_quote = false;
    for c in line.chars().rev() {
        out.push(match c {
            '/' if before_quote => TYPED_SLASH,
            c => c,
        });
        if c != '/' && c != '\\' {
            before_quote = c == '"';
        }
    }
    out.iter().rev().collect()
}

/// A line with each [`TYPED_SLASH`] the `/` it was.
pub fn typed_slashes_plain(line: &str) -> Cow<'_, str> {
    if line.contains(TYPED_SLASH) {
        Cow::Owned(line.replace(TYPED_SLASH, "/"))
    } else {
        Cow::Borrowed(line)
    }
}

/// A command's words, and its other text, with each [`TYPED_SLASH`] the `/` it was.
fn typed_slashes_back(simple: &mut SimpleCommand) {
    let back = |text: &mut String| {
        if text.contains(TYPED_SLASH) {
            *text = text.replace(TYPED_SLASH, "/");
        }
    };
    for text in simple
        .words
        .iter_mut()
        .chain(&mut simple.env)
        .chain(&mut simple.redirect_in)
        .chain(&mut simple.redirect_out)
        .chain(&mut simple.globs)
        .chain(&mut simple.cwd)
        .chain(&mut simple.patches)
        .chain(&mut simple.fed)
    {
        back(text);
    }
}

/// Which shell reads a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Cmd,
    PowerShell,
    Bash,
}

impl Syntax {
    /// The shell a program is (`C:\Program Files\Git\bin\bash.exe`, `pwsh`), if it is one.
    pub fn of_program(word: &str) -> Option<Syntax> {
        match program(word).as_str() {
            "bash" | "sh" | "zsh" => Some(Syntax::Bash),
            "pwsh" | "powershell" => Some(Syntax::PowerShell),
            "cmd" => Some(Syntax::Cmd),
            _ => None,
        }
    }
}

fn split_into(
    line: &str,
    syntax: Syntax,
    cwd: &[String],
    depth: usize,
    out: &mut Vec<SimpleCommand>,
) {
    let line = match syntax {
        Syntax::PowerShell => Cow::Owned(powershell::shaped(line)),
        Syntax::Cmd | Syntax::Bash => Cow::Borrowed(line),
    };
    let mut before: Option<SimpleCommand> = None;
    for mut simple in shell::split_in(&line, cwd) {
        simple.bash_on_windows = syntax == Syntax::Bash;
        simple.powershell = syntax == Syntax::PowerShell;
        if syntax == Syntax::PowerShell {
            if let Some(words) = powershell::past_assignment(&simple.words) {
                simple.words = words;
            }
            if !simple.unread && powershell::runs_nothing(&simple.words) {
                simple.words.clear();
            }
            powershell::unknown_where_escaped(&mut simple.words);
            if simple.piped_in {
                piped_paths(before.as_ref(), &mut simple);
            }
            before = Some(simple.clone());
        }
        let nested = if depth < MAX_DEPTH {
            nested_line(&simple.words)
        } else {
            None
        };
        let mut cwd = simple.cwd.clone();
        out.push(simple);
        if let Some(Nested {
            line,
            shell: syntax,
            folder,
        }) = nested
        {
            if let Some(folder) = folder {
                // `pwsh -WorkingDirectory secrets -c …` runs its line in `secrets`, from
                // wherever the line had got to.
                let from = if cwd.is_empty() {
                    vec![String::new()]
                } else {
                    cwd
                };
                cwd = from.iter().map(|dir| cd_into(dir, &folder)).collect();
            }
            split_into(&line, syntax, &cwd, depth + 1, out);
        }
    }
}

/// A PowerShell command that takes files, given none of its own, takes those piped into it:
/// not text (`git diff | cat` passes strings, which `Get-Content` takes no path from), but
/// the items a listing sends, which name their paths: `ls secrets | gc` reads what is in
/// `secrets` (`secrets` and `secrets/*`, a glob), `Get-Item`, `Resolve-Path` and
/// `Select-String` send their paths (`Resolve-Path secrets\k | gc`), and a value (`$f | gc`)
/// may hold any item: a path the line does not spell (`$PIPE`), which a deny takes for any
/// file.
fn piped_paths(before: Option<&SimpleCommand>, simple: &mut SimpleCommand) {
    let Some(name) = simple.words.first().map(|w| program(w)) else {
        return;
    };
    if !matches!(
        name.as_str(),
        "gc" | "get-content"
            | "cat"
            | "type"
            | "import-csv"
            | "ipcsv"
            | "get-filehash"
            | "format-hex"
            | "fhx"
            | "select-string"
            | "sls"
            | "copy-item"
            | "cpi"
            | "move-item"
            | "mi"
            | "remove-item"
            | "ri"
            | "invoke-item"
            | "ii"
            | "rename-item"
            | "rni"
            | "compress-archive"
    ) || !own_sources(&name, simple).is_empty()
    {
        return;
    }
    let Some(before) = before else {
        return;
    };
    let paths = match before.words.split_first() {
        None => vec!["$PIPE".to_owned()],
        Some((first, rest)) => match program(first).as_str() {
            "ls" | "dir" | "gci" | "get-childitem" => {
                let folders = Args::of(rest).files();
                if folders.is_empty() {
                    vec!["*".to_owned()]
                } else {
                    folders
                        .iter()
                        .flat_map(|f| [f.clone(), format!("{}/*", f.trim_end_matches('/'))])
                        .collect()
                }
            }
            "gi" | "get-item" | "rvpa" | "resolve-path" => Args::of(rest).files(),
            // Text is a path to those that take one from a string (`Copy-Item`, `Remove-Item`
            // …, not `Get-Content`): `echo secrets\k | Remove-Item` removes it.
            "echo" | "write-output" | "write" if takes_text_for_paths(&name) => {
                Args::of(rest).operands
            }
            "sls" | "select-string" => as_unix_files(before),
            _ => Vec::new(),
        },
    };
    for path in paths {
        if path.ends_with('*') {
            simple.globs.push(path.clone());
        }
        simple.words.push(path);
    }
}

/// Whether a command takes a string piped into it for a path to work on (its `-Path` takes
/// pipeline input by value), as `Get-Content` and the other readers do not.
fn takes_text_for_paths(name: &str) -> bool {
    matches!(
        name,
        "copy-item"
            | "cpi"
            | "move-item"
            | "mi"
            | "remove-item"
            | "ri"
            | "rename-item"
            | "rni"
            | "compress-archive"
            | "invoke-item"
            | "ii"
    )
}

/// The files a command that takes items from a pipeline names of its own: a copy's, a move's
/// or an archive's sources, not where it puts them (`ls secrets | Copy-Item -Destination out`
/// copies what `ls` sends), a rename's files, not its new name; any other's files.
fn own_sources(name: &str, cmd: &SimpleCommand) -> Vec<String> {
    let args = Args::of(cmd.words.get(1..).unwrap_or_default());
    match name {
        "copy-item" | "cpi" | "move-item" | "mi" | "compress-archive" => {
            args.sources_and_target().0
        }
        "rename-item" | "rni" => args.files(),
        _ => as_unix_files(cmd),
    }
}

/// The files a command of a line run on Windows reads or writes as [`as_unix`] reads it.
fn as_unix_files(cmd: &SimpleCommand) -> Vec<String> {
    let use_ = shell::file_use(&as_unix(cmd));
    [use_.reads, use_.writes, use_.read_trees, use_.write_trees].concat()
}

/// A line a command runs in turn, the shell that reads it, and the folder it runs it in when
/// that is not its own.
struct Nested {
    line: String,
    shell: Syntax,
    folder: Option<String>,
}

/// A program's name as Windows finds it: in any case, with or without `.exe`, from any folder
/// named with either separator (`C:/Windows/System32/cmd.exe` and `C:\Windows\cmd.exe` are
/// `cmd`).
pub fn program(word: &str) -> String {
    let name = word
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(word)
        .to_lowercase();
    let name = match name.strip_suffix(".exe") {
        Some(stem) => stem.to_owned(),
        None => name,
    };
    // PowerShell installed beside another keeps its version or channel in its name
    // (`pwsh-preview`, `pwsh-7`, `pwsh7.4`, `pwsh-lts`): it is `pwsh` all the same.
    let versioned = name.strip_prefix("pwsh").is_some_and(|rest| {
        let rest = rest.strip_prefix('-').unwrap_or(rest);
        !rest.is_empty()
            && (matches!(rest, "preview" | "lts")
                || rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
    });
    if versioned { "pwsh".to_owned() } else { name }
}

/// The line a command runs in turn: cmd's after `/c`, `/k` or `/r`, PowerShell's after
/// `-Command` (or `-c`, `/c`, `--command`), Windows PowerShell's first operand, which it runs
/// as a command, and the text `Invoke-Expression` runs. `None` for a
/// script file (`-File`, pwsh's first operand), a line read from stdin (`-Command -`), and an
/// `-EncodedCommand` that [`decoded`] could not read: what it runs is not on the line, as with
/// `eval "$X"`.
fn nested_line(words: &[String]) -> Option<Nested> {
    let (first, rest) = words.split_first()?;
    match program(first).as_str() {
        "cmd" => cmd_line(rest).map(|line| Nested {
            line,
            shell: Syntax::Cmd,
            folder: None,
        }),
        name @ ("powershell" | "pwsh") => match powershell_runs(rest, name == "powershell")? {
            (PowerShellRuns::Line(line), folder) => Some(Nested {
                line: line?,
                shell: Syntax::PowerShell,
                folder,
            }),
            (PowerShellRuns::Script(_), _) => None,
        },
        // `Start-Process notepad secrets\k` runs `notepad secrets\k`.
        "start-process" | "saps" | "start" => {
            let (program, arguments) = started(rest)?;
            let mut words = vec![program];
            words.extend(arguments);
            Some(Nested {
                line: shell::join(&words),
                shell: Syntax::PowerShell,
                folder: None,
            })
        }
        // A script block made of text (`[scriptblock]::Create('gc k')`, its `.Invoke()` after
        // it) and the text `$ExecutionContext` runs are a line, as `Invoke-Expression`'s.
        "[scriptblock]::create"
        | "[system.management.automation.scriptblock]::create"
        | "$executioncontext.invokecommand.invokescript"
        | "$executioncontext.invokecommand.newscriptblock" => line_of(rest).map(|line| Nested {
            line,
            shell: Syntax::PowerShell,
            folder: None,
        }),
        // `Invoke-Expression 'gc k'` runs its text as a line, as `eval` does.
        "iex" | "invoke-expression" => {
            let words: Vec<String> = rest
                .iter()
                .filter(|w| !w.to_lowercase().starts_with("-c"))
                .cloned()
                .collect();
            line_of(&words).map(|line| Nested {
                line,
                shell: Syntax::PowerShell,
                folder: None,
            })
        }
        _ => None,
    }
}

/// What `Start-Process` starts: its `-FilePath` (or first operand) and the words of its
/// `-ArgumentList` (or the operands after it, a list split at commas). `Start-Process` joins the
/// list with spaces into the command line it starts the program with, which the program splits
/// into its arguments ([`command_line_words`]): `Start-Process git 'push -f'` runs `git push
/// -f`. `None` when it names nothing.
fn started(args: &[String]) -> Option<(String, Vec<String>)> {
    let mut program = None;
    let mut arguments = Vec::new();
    let mut operands = Vec::new();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        // A parameter's name is a word's letters: `'-c git push -f'`, quoted, is an argument.
        let Some((name, glued)) = word
            .strip_prefix('-')
            .map(|n| n.split_once(':').unwrap_or((n, "")))
            .filter(|(n, _)| n.len() > 1 && n.chars().all(|c| c.is_alphanumeric() || c == '_'))
        else {
            operands.push(word.clone());
            continue;
        };
        let name = name.to_lowercase();
        let named = |full: &str| full.starts_with(&name);
        // `-ArgumentList:'push -f'` holds its value itself; `-ArgumentList: x` and
        // `-ArgumentList x` take the next word.
        let mut value = || {
            if glued.is_empty() {
                words.next().cloned()
            } else {
                Some(glued.to_owned())
            }
        };
        if named("filepath") || name == "path" || name == "pspath" {
            program = value();
        } else if named("argumentlist") || name == "args" {
            arguments.extend(
                value()
                    .into_iter()
                    .flat_map(|w| list(&w).collect::<Vec<_>>()),
            );
        } else if [
            "workingdirectory",
            "redirectstandardinput",
            "redirectstandardoutput",
            "redirectstandarderror",
            "verb",
            "windowstyle",
            "credential",
        ]
        .iter()
        .any(|full| named(full))
        {
            value();
        }
    }
    let mut operands = operands.into_iter();
    let program = program.or_else(|| operands.next())?;
    arguments.extend(operands.flat_map(|w| list(&w).collect::<Vec<_>>()));
    Some((program, command_line_words(&arguments.join(" "))))
}

/// The arguments a Windows program reads from its command line, as the C runtime splits it:
/// at white space outside double quotes, the quotes taken away (`push "a b"` is `push` and `a
/// b`). Backslashes before a quote escape: 2n of them and a `"` are n backslashes and a quote
/// that opens or closes, 2n+1 are n backslashes and a literal `"` (`user.name=\"x` is one word
/// holding a quote, so the words after it are words of their own); `""` inside quotes is a
/// literal `"`. Backslashes not before a quote are themselves. The line's `\` is `/` already,
/// so a run of `/` before a quote is read as the backslashes it was; a `/` typed there is
/// [`TYPED_SLASH`], text.
fn command_line_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' | '\\' => {
                let mut slashes = vec![c];
                while let Some(&next @ ('/' | '\\')) = chars.peek() {
                    slashes.push(next);
                    chars.next();
                }
                let text = word.get_or_insert_default();
                if chars.peek() == Some(&'"') {
                    text.extend(std::iter::repeat_n('/', slashes.len() / 2));
                    if slashes.len() % 2 == 1 {
                        chars.next();
                        text.push('"');
                    }
                } else {
                    text.extend(slashes);
                }
            }
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                word.get_or_insert_default().push('"');
            }
            '"' => {
                quoted = !quoted;
                word.get_or_insert_default();
            }
            c if c.is_whitespace() && !quoted => words.extend(word.take()),
            c => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    words
}

/// cmd's line: what follows `/c`, `/k` or `/r`, past its other switches (`/s`, `/q`, `/d`,
/// `/v:on`), as cmd reads them, its `^` escapes taken away (`ty^pe` is `type`). cmd takes its
/// switches run together and the line straight after the letter (`cmd /s/ctype k`,
/// `cmd /c"type k"`), so a word is read switch by switch.
fn cmd_line(args: &[String]) -> Option<String> {
    for (i, word) in args.iter().enumerate() {
        let mut switches = word.strip_prefix('/')?;
        loop {
            let mut letters = switches.chars();
            if letters
                .next()
                .is_some_and(|c| matches!(c.to_ascii_lowercase(), 'c' | 'k' | 'r'))
            {
                let first = letters.as_str();
                let words: Vec<String> = (!first.is_empty())
                    .then(|| first.to_owned())
                    .into_iter()
                    .chain(args[i + 1..].iter().cloned())
                    .map(|w| cmd_unescaped(&w))
                    .collect();
                return line_of(&words);
            }
            match switches.find('/') {
                Some(at) => switches = &switches[at + 1..],
                None => break,
            }
        }
    }
    None
}

/// Text as cmd reads it: outside double quotes a `^` stands for the character after it
/// (`^^` for `^`), and one at the end continues the line; inside them it is itself.
fn cmd_unescaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quoted = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                out.push(c);
            }
            '^' if !quoted => out.extend(chars.next()),
            _ => out.push(c),
        }
    }
    out
}

/// What a parameter of PowerShell's own (`powershell -NoProfile …`) does to what it runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parameter {
    /// A switch (`-NoProfile`).
    Switch,
    /// It takes a value which is no command (`-ExecutionPolicy Bypass`).
    Valued,
    /// `-WorkingDirectory`: the folder what it runs starts in.
    Folder,
    /// `-Command`: the rest is the line it runs.
    Command,
    /// `-File`: the next word is the script it runs.
    File,
    /// `-EncodedCommand`: a line in base64, which [`decoded`] wrote out.
    Encoded,
}

/// PowerShell's parameters as it matches them, in its order: a name is taken by the first
/// whose full name it starts, once it is at least as long as the shortest spelling given
/// (`-ex`, `-exec` and `-ExecutionPolicy` are one; `-e` is `-EncodedCommand`).
const POWERSHELL_PARAMETERS: &[(&str, &str, Parameter)] = &[
    ("version", "v", Parameter::Valued),
    ("help", "h", Parameter::Switch),
    ("login", "l", Parameter::Switch),
    ("noexit", "noe", Parameter::Switch),
    ("noprofile", "nop", Parameter::Switch),
    ("nologo", "nol", Parameter::Switch),
    ("noninteractive", "noni", Parameter::Switch),
    ("socketservermode", "so", Parameter::Switch),
    ("servermode", "s", Parameter::Switch),
    ("namedpipeservermode", "nam", Parameter::Switch),
    ("sshservermode", "sshs", Parameter::Switch),
    ("interactive", "i", Parameter::Switch),
    ("configurationname", "config", Parameter::Valued),
    ("configurationfile", "configurationf", Parameter::Valued),
    ("custompipename", "cus", Parameter::Valued),
    ("commandwithargs", "commandw", Parameter::Command),
    ("cwa", "cwa", Parameter::Command),
    ("command", "c", Parameter::Command),
    ("windowstyle", "w", Parameter::Valued),
    ("file", "f", Parameter::File),
    ("outputformat", "o", Parameter::Valued),
    ("of", "o", Parameter::Valued),
    ("inputformat", "inp", Parameter::Valued),
    ("if", "if", Parameter::Valued),
    ("executionpolicy", "ex", Parameter::Valued),
    ("ep", "ep", Parameter::Valued),
    ("encodedcommand", "e", Parameter::Encoded),
    ("ec", "e", Parameter::Encoded),
    ("encodedarguments", "encodeda", Parameter::Valued),
    ("ea", "ea", Parameter::Valued),
    ("settingsfile", "settings", Parameter::Valued),
    ("sta", "sta", Parameter::Switch),
    ("mta", "mta", Parameter::Switch),
    ("psconsolefile", "psc", Parameter::Valued),
    ("workingdirectory", "wo", Parameter::Folder),
    ("wd", "wd", Parameter::Folder),
];

/// A word that names a PowerShell parameter, as its name in lower case: PowerShell takes
/// `-`, `--` and `/` before it (`/c`, `--Command`). A path in a Unix shape (`/C:/x.ps1`,
/// `//host/x`) is none.
fn powershell_parameter_name(word: &str) -> Option<String> {
    let name = match word.strip_prefix('-') {
        Some(rest) => rest.strip_prefix('-').unwrap_or(rest),
        None => word.strip_prefix('/').filter(|n| !n.contains(['/', ':']))?,
    };
    Some(name.to_lowercase())
}

/// What a PowerShell parameter's name (lower case, no `-`) does; `None` for a name it does
/// not know, where Windows PowerShell's line or pwsh's script starts.
fn powershell_parameter(name: &str) -> Option<Parameter> {
    POWERSHELL_PARAMETERS
        .iter()
        .find(|(full, shortest, _)| name.len() >= shortest.len() && full.starts_with(name))
        .map(|(_, _, kind)| *kind)
}

/// What PowerShell is told to run: a line (`-Command`), or a script file (`-File`, pwsh's
/// first operand).
enum PowerShellRuns {
    Line(Option<String>),
    Script(String),
}

/// What PowerShell runs, as its parameters say, and the folder `-WorkingDirectory` names;
/// `None` when it is neither a line nor a script on the line (`-EncodedCommand`, which
/// [`decoded`] wrote out, or nothing: an interactive shell). A line read from stdin
/// (`-Command -`) is `Line(None)`.
fn powershell_runs(args: &[String], legacy: bool) -> Option<(PowerShellRuns, Option<String>)> {
    let mut folder = None;
    let mut i = 0;
    while let Some(word) = args.get(i) {
        let parameter = powershell_parameter_name(word).map(|n| powershell_parameter(&n));
        let runs = match parameter {
            None | Some(None) if legacy => PowerShellRuns::Line(line_of(&args[i..])),
            None | Some(None) => PowerShellRuns::Script(word.clone()),
            Some(Some(Parameter::Command)) => {
                let rest = &args[i + 1..];
                PowerShellRuns::Line(if rest.first().is_some_and(|w| w == "-") {
                    None
                } else {
                    line_of(rest)
                })
            }
            Some(Some(Parameter::File)) => PowerShellRuns::Script(args.get(i + 1)?.clone()),
            Some(Some(Parameter::Encoded)) => return None,
            Some(Some(Parameter::Switch)) => {
                i += 1;
                continue;
            }
            Some(Some(Parameter::Valued)) => {
                i += 2;
                continue;
            }
            Some(Some(Parameter::Folder)) => {
                folder = args.get(i + 1).cloned();
                i += 2;
                continue;
            }
        };
        return Some((runs, folder));
    }
    None
}

/// The line some words make: one word is the line itself (`cmd /c "type a && type b"`), more
/// are joined as they were split.
fn line_of(words: &[String]) -> Option<String> {
    match words {
        [] => None,
        [line] => Some(line.clone()),
        words => Some(shell::join(words)),
    }
}

/// Whether a PowerShell parameter's name (lower case, no `-`) is `-EncodedCommand`'s: `e`,
/// `ec`, or a start of its name from `en`, as [`POWERSHELL_PARAMETERS`] matches it.
fn is_encoded(name: &str) -> bool {
    powershell_parameter(name) == Some(Parameter::Encoded)
}

/// A line as written on Windows, each PowerShell `-EncodedCommand` in it (base64 of the command
/// in UTF-16LE) written out as the `-Command` it runs, single-quoted, so that it is read as one.
/// A text that does not decode to a command is left as it is.
pub fn decoded(line: &str) -> Cow<'_, str> {
    decoded_within(line, 0)
}

/// [`decoded`] for a line `depth` encoded commands deep: an encoded command in an encoded
/// command is written out too, here, before the line is read in lower case, which would
/// spoil its blob.
fn decoded_within(line: &str, depth: usize) -> Cow<'_, str> {
    if depth >= MAX_DEPTH {
        return Cow::Borrowed(line);
    }
    let mut out = String::new();
    let mut done = 0;
    let mut in_powershell = false;
    let mut tokens = tokens(line).peekable();
    while let Some((start, token)) = tokens.next() {
        if token.contains([';', '|', '&']) {
            in_powershell = false;
        }
        let bare = token.trim_matches(['"', '\'']);
        let name = program(&bare.replace('\\', "/"));
        if name == "powershell" || name == "pwsh" {
            in_powershell = true;
            continue;
        }
        let encoded =
            in_powershell && powershell_parameter_name(bare).is_some_and(|n| is_encoded(&n));
        if !encoded {
            continue;
        }
        let Some(&(blob_start, blob)) = tokens.peek() else {
            break;
        };
        let Some(command) = base64_utf16(blob.trim_matches(['"', '\''])) else {
            continue;
        };
        let command = decoded_within(&command, depth + 1);
        tokens.next();
        out.push_str(&line[done..start]);
        out.push_str("-Command '");
        out.push_str(&command.replace('\'', r#"'"'"'"#));
        out.push('\'');
        done = blob_start + blob.len();
    }
    if done == 0 {
        return Cow::Borrowed(line);
    }
    out.push_str(&line[done..]);
    Cow::Owned(out)
}

/// The words of a line split at white space, each with where it starts.
fn tokens(line: &str) -> impl Iterator<Item = (usize, &str)> {
    line.split_whitespace()
        .map(move |t| (t.as_ptr() as usize - line.as_ptr() as usize, t))
}

/// The text a base64 blob of UTF-16LE decodes to, when it is text (PowerShell's
/// `-EncodedCommand`); `None` for anything else.
fn base64_utf16(blob: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(blob.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for b in blob.trim_end_matches('=').bytes() {
        let value = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = ((acc << 6) | u32::from(value)) & 0xff_ffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
        }
    }
    if bytes.len() < 2 {
        return None;
    }
    // As PowerShell decodes it (.NET's `Encoding.Unicode`): a half surrogate or an odd last
    // byte is a U+FFFD, and the rest of the command still runs.
    let units = bytes.chunks(2).map(|pair| match pair {
        [low, high] => u16::from_le_bytes([*low, *high]),
        // An odd last byte: a half surrogate, which decodes to U+FFFD as well.
        _ => 0xdc00,
    });
    let text: String = char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    let printable = text.chars().all(|c| !c.is_control() || c.is_whitespace());
    printable.then_some(text)
}

/// A command of a line run on Windows as the Unix command that reads and writes the same files,
/// for [`shell::file_use`] to read: cmd's and PowerShell's readers (`type`, `Get-Content`,
/// `gc`, `findstr`, `Select-String`) as `cat`, their writers (`Set-Content`, `Add-Content`,
/// `Out-File`, `New-Item`) as `touch`, their copies (`copy`, `xcopy`, `robocopy`, `Copy-Item`)
/// as `cp`, moves and renames as `mv`, deletions (`del`, `rd /s`, `Remove-Item`) as `rm`. Their
/// options (`/Y`, `-Force`) are dropped and their named paths (`-Path`, `-Destination`) put in
/// place; PowerShell given a script (`-File x.ps1`) is `sh` running it. Another command stays
/// as it is: `cat`, `cp`, `rm` are read as Unix reads them.
pub fn as_unix(cmd: &SimpleCommand) -> SimpleCommand {
    let mut unix = cmd.clone();
    let Some((first, rest)) = cmd.words.split_first() else {
        return unix;
    };
    let name = program(first);
    // Bash's `type` is its builtin, whatever the case Windows finds a program in: no
    // `type.exe` is there for another case to run.
    if cmd.bash_on_windows && name == "type" {
        return unix;
    }
    if matches!(name.as_str(), "powershell" | "pwsh") {
        // `powershell -File secrets/x.ps1` reads its script as `sh secrets/x.sh` does.
        if let Some((PowerShellRuns::Script(script), folder)) =
            powershell_runs(rest, name == "powershell")
        {
            let script = match folder {
                Some(folder) => in_folder(&folder, &script),
                None => script,
            };
            unix.words = vec!["sh".to_owned(), "--".to_owned(), script];
        }
    } else if let Some(words) = powershell::dotnet_words(&name, rest) {
        unix.words = words;
    } else if let Some(words) = unix_words(&name, &Args::of(rest)) {
        unix.words = words;
    }
    unix
}

/// A Windows command's arguments: its named paths, its switches and its operands.
#[derive(Debug, Default)]
struct Args {
    /// `-Path`, `-LiteralPath`, `-FilePath` (comma-separated lists split).
    paths: Vec<String>,
    destination: Option<String>,
    /// `-Name` (New-Item) or `-NewName` (Rename-Item).
    name: Option<String>,
    /// `-Recurse`, or cmd's `/s` or `/e`.
    recurse: bool,
    /// cmd's switches (`/y`, `/mov`), in lower case.
    switches: Vec<String>,
    /// The names of its parameters that take no file (`-Force`, `-encode`), in lower case.
    names: Vec<String>,
    /// `-Pattern` was given: `Select-String`'s operands are then all files.
    pattern: bool,
    operands: Vec<String>,
}

/// PowerShell's parameters that take a value which is no file (`-Value x`, `-Encoding utf8`).
const VALUED: &[&str] = &[
    "value",
    "encoding",
    "totalcount",
    "head",
    "first",
    "tail",
    "last",
    "readcount",
    "delimiter",
    "filter",
    "include",
    "exclude",
    "stream",
    "width",
    "itemtype",
    "type",
    "credential",
    "pattern",
    "inputobject",
    "variable",
];

impl Args {
    fn of(words: &[String]) -> Args {
        let mut args = Args::default();
        let mut words = words.iter();
        while let Some(word) = words.next() {
            if let Some(switch) = cmd_switch(word) {
                args.recurse |= matches!(switch.as_str(), "s" | "e");
                args.switches.push(switch);
                continue;
            }
            let Some(name) = word.strip_prefix('-').filter(|n| !n.is_empty()) else {
                args.operands.extend(list(word));
                continue;
            };
            let (name, inline) = match name.split_once(':') {
                Some((name, value)) => (name.to_lowercase(), Some(value.to_owned())),
                None => (name.to_lowercase(), None),
            };
            let named = |full: &str| name == full || (name.len() >= 3 && full.starts_with(&name));
            // A start of a path's name is a path, though it starts another's name too (`-pat`
            // of `-Pattern`, which `Get-Content` has not): taken so, a file is not missed.
            let is_path = ["path", "literalpath", "filepath", "pspath"]
                .iter()
                .any(|full| named(full))
                || matches!(name.as_str(), "pa" | "lp");
            // `-DestinationPath` is `Compress-Archive`'s and `Expand-Archive`'s.
            let destination = named("destination") || named("destinationpath");
            let takes_value = is_path
                || destination
                || matches!(name.as_str(), "name" | "newname" | "nn")
                || VALUED.iter().any(|full| named(full));
            if !takes_value {
                args.recurse |= name == "r" || named("recurse");
                args.names.push(name);
                continue;
            }
            let Some(value) = inline.or_else(|| words.next().cloned()) else {
                break;
            };
            args.pattern |= named("pattern");
            if destination {
                args.destination = Some(value);
            } else if matches!(name.as_str(), "name" | "newname" | "nn") {
                args.name = Some(value);
            } else if is_path {
                args.paths.extend(list(&value));
            }
        }
        args
    }

    /// The files it names: its named paths, then its operands.
    fn files(&self) -> Vec<String> {
        self.paths.iter().chain(&self.operands).cloned().collect()
    }

    /// The files it names in the place of its first operand (`Set-Content x value`: `x`).
    fn first_file(&self) -> Vec<String> {
        if self.paths.is_empty() {
            self.operands.iter().take(1).cloned().collect()
        } else {
            self.paths.clone()
        }
    }

    /// What it takes from and where it puts it: `-Destination` or its last operand, else the
    /// folder it runs in (`copy a` copies `a` here).
    fn sources_and_target(&self) -> (Vec<String>, String) {
        let mut sources = self.files();
        let target = match &self.destination {
            Some(d) => d.clone(),
            None if sources.len() >= 2 => sources.pop().unwrap_or_default(),
            None => ".".to_owned(),
        };
        (sources, target)
    }
}

/// A cmd switch (`/Y`, `/s`, `/MOV`, `/c:text`) in lower case; a path from a drive or a share
/// (`/C:/x`, `//host/x` in a Unix shape) is none.
fn cmd_switch(word: &str) -> Option<String> {
    let switch = word.strip_prefix('/')?;
    let name = switch.split(':').next().unwrap_or(switch);
    let plain =
        !name.is_empty() && name.len() <= 8 && name.chars().all(|c| c.is_ascii_alphanumeric());
    (plain && !switch.contains('/')).then(|| switch.to_lowercase())
}

/// A PowerShell list (`a,b`) as its items.
fn list(word: &str) -> impl Iterator<Item = String> + '_ {
    word.split(',').filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The words of the Unix command that does to files what `name` with `args` does.
fn unix_words(name: &str, args: &Args) -> Option<Vec<String>> {
    let recursive = |flag: bool, tool: &str| {
        let mut words = vec![tool.to_owned()];
        if flag {
            words.push("-r".to_owned());
        }
        words.push("--".to_owned());
        words
    };
    let with = |mut words: Vec<String>, files: Vec<String>| {
        words.extend(files);
        Some(words)
    };
    match name {
        "type"
        | "get-content"
        | "import-csv"
        | "import-clixml"
        | "import-powershelldatafile"
        | "get-filehash"
        | "format-hex"
        | "more"
        | "more.com"
        | "invoke-item"
        | "import-module" => with(recursive(false, "cat"), args.files()),
        // `certutil -encode secrets\k out.txt` writes `secrets\k` out in base64.
        "certutil" => {
            let copies = args
                .names
                .iter()
                .any(|n| matches!(n.as_str(), "encode" | "decode" | "encodehex" | "decodehex"));
            let reads = args
                .names
                .iter()
                .any(|n| matches!(n.as_str(), "dump" | "hashfile" | "dumppfx"));
            let tool = match (copies, reads) {
                (true, _) => "cp",
                (false, true) => "cat",
                (false, false) => return None,
            };
            with(recursive(false, tool), args.operands.clone())
        }
        // `Start-Process secrets\k.txt` opens the file, `Start-Process notepad secrets\k`
        // has the program open it: what it starts and what it is given are taken as read.
        "start-process" | "start" => {
            let words: Vec<String> = args.operands.iter().chain(&args.paths).cloned().collect();
            with(recursive(false, "cat"), words)
        }
        // `New-Object IO.StreamReader secrets\k` is `[IO.StreamReader]::new('secrets\k')`.
        "new-object" => {
            let (class, rest) = args.operands.split_first()?;
            powershell::dotnet_words(&format!("[{}]::new", class.to_lowercase()), rest)
        }
        "findstr" => {
            // Its first operand is the text searched for, unless `/c:` or `/g:` gives it.
            let given = args
                .switches
                .iter()
                .any(|s| s.starts_with("c:") || s.starts_with("g:"));
            let mut files: Vec<String> = args
                .operands
                .iter()
                .skip(usize::from(!given))
                .cloned()
                .collect();
            files.extend(args.switches.iter().filter_map(|s| {
                s.strip_prefix("g:")
                    .or_else(|| s.strip_prefix("f:"))
                    .map(str::to_owned)
            }));
            with(recursive(false, "cat"), files)
        }
        "select-string" => {
            let files = if args.paths.is_empty() {
                // The first operand is the pattern, unless `-Pattern` gave it.
                let skip = usize::from(!args.pattern);
                args.operands.iter().skip(skip).cloned().collect()
            } else {
                args.paths.clone()
            };
            with(recursive(false, "cat"), files)
        }
        // `Clear-Content` empties its files; `Export-Csv` and `Tee-Object` write their first.
        "clear-content" => with(recursive(false, "touch"), args.files()),
        "set-content" | "add-content" | "out-file" | "export-csv" | "export-clixml"
        | "tee-object" => with(recursive(false, "touch"), args.first_file()),
        "new-item" => {
            let mut files = args.first_file();
            if let Some(name) = &args.name {
                files = if files.is_empty() {
                    vec![name.clone()]
                } else {
                    files
                        .iter()
                        .map(|f| format!("{}/{name}", f.trim_end_matches('/')))
                        .collect()
                };
            }
            with(recursive(false, "touch"), files)
        }
        "copy" | "copy-item" | "xcopy" => {
            let (mut sources, target) = args.sources_and_target();
            if name == "copy" {
                sources = sources
                    .iter()
                    .flat_map(|s| {
                        s.split('+')
                            .filter(|p| !p.is_empty())
                            .map(str::to_owned)
                            .collect::<Vec<_>>()
                    })
                    .collect();
            }
            sources.push(target);
            with(recursive(args.recurse || name == "xcopy", "cp"), sources)
        }
        "robocopy" => {
            let moves = args.switches.iter().any(|s| s == "mov" || s == "move");
            let [source, target, files @ ..] = args.operands.as_slice() else {
                return None;
            };
            let mut operands: Vec<String> = files
                .iter()
                .map(|f| format!("{}/{f}", source.trim_end_matches('/')))
                .collect();
            let whole = operands.is_empty();
            if whole {
                operands.push(source.clone());
            }
            operands.push(target.clone());
            let tool = if moves { "mv" } else { "cp" };
            with(recursive(whole && !moves, tool), operands)
        }
        // `Compress-Archive -Path secrets -DestinationPath o.zip` copies `secrets` whole into
        // the archive; `Expand-Archive` writes what it holds below its destination.
        "compress-archive" | "expand-archive" => {
            let (mut sources, target) = args.sources_and_target();
            sources.push(target);
            with(recursive(true, "cp"), sources)
        }
        "move" | "move-item" => {
            let (mut sources, target) = args.sources_and_target();
            sources.push(target);
            with(recursive(false, "mv"), sources)
        }
        "ren" | "rename" | "rename-item" => {
            let (sources, target) = args.sources_and_target();
            let new_name = args.name.clone().unwrap_or(target);
            let source = sources.first()?;
            let target = match source.trim_end_matches('/').rsplit_once('/') {
                Some((folder, _)) => format!("{folder}/{new_name}"),
                None => new_name,
            };
            with(recursive(false, "mv"), vec![source.clone(), target])
        }
        "del" | "erase" | "remove-item" => with(recursive(args.recurse, "rm"), args.files()),
        "rd" | "rmdir" if args.recurse => with(recursive(true, "rm"), args.files()),
        "rd" => with(recursive(false, "rmdir"), args.files()),
        "md" => with(recursive(false, "mkdir"), args.files()),
        // PowerShell's other aliases (`gc`, `ri`, `sls` …) are read as the cmdlets they name.
        _ => {
            let cmdlet = pwsh_names::cmdlet_for_files(name);
            (cmdlet != name).then(|| unix_words(cmdlet, args)).flatten()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(line: &str) -> Vec<String> {
        split(line).iter().map(|c| shell::join(&c.words)).collect()
    }

    #[test]
    fn a_line_powershell_runs_on_unix_is_read_as_its() {
        let on_unix = |line: &str, powershell: bool| -> Vec<(String, bool)> {
            split_on_unix(line, powershell)
                .iter()
                .map(|(c, ps)| (shell::join(&c.words), *ps))
                .collect()
        };
        let said = |pairs: &[(&str, bool)]| -> Vec<(String, bool)> {
            pairs.iter().map(|(l, ps)| ((*l).to_owned(), *ps)).collect()
        };
        assert_eq!(
            on_unix(r"gc a\b | sls x", true),
            said(&[("gc a/b", true), ("sls x", true)])
        );
        assert_eq!(
            on_unix(r"type a; pwsh -c 'gc a\b'", false),
            said(&[
                ("type a", false),
                ("pwsh -c 'gc a\\b'", false),
                ("gc a/b", true)
            ])
        );
        let moved = split_on_unix("cd s && pwsh -wd t -c 'gc k'", false);
        assert_eq!(
            moved.last().map(|(c, _)| c.cwd.clone()),
            Some(vec!["s/t".to_owned()])
        );
    }

    #[test]
    fn cmd_and_powershell_lines_are_read_into() {
        assert_eq!(
            lines("cmd.exe /s /C \"cd secrets && type k\""),
            [
                "cmd.exe /s /C 'cd secrets && type k'",
                "cd secrets",
                "type k"
            ]
        );
        assert_eq!(split("cmd /c \"cd secrets && type k\"")[2].cwd, ["secrets"]);
        assert_eq!(
            lines("powershell -NoProfile -ep Bypass -Command Get-Content secrets/k"),
            [
                "powershell -NoProfile -ep Bypass -Command Get-Content secrets/k",
                "Get-Content secrets/k"
            ]
        );
        assert_eq!(lines("powershell \"gc k\"")[1], "gc k");
        // pwsh runs its first operand as a script; `-Command -` reads stdin.
        assert_eq!(lines("pwsh k.ps1").len(), 1);
        assert_eq!(lines("pwsh -c - x").len(), 1);
        assert_eq!(lines("cmd /k type k")[1], "type k");
    }

    #[test]
    fn an_encoded_command_is_written_out() {
        // "type 'k'" in UTF-16LE.
        let blob = "dAB5AHAAZQAgACcAawAnAA==";
        assert_eq!(
            decoded(&format!(r"C:\x\pwsh.exe -NoP -enc {blob} ; echo")),
            r#"C:\x\pwsh.exe -NoP -Command 'type '"'"'k'"'"'' ; echo"#
        );
        assert_eq!(
            lines(&decoded(&format!("powershell -e {blob}")))[1],
            "type k"
        );
        // Not base64 of UTF-16LE text, not after PowerShell: left as written.
        assert_eq!(decoded("powershell -e abc!"), "powershell -e abc!");
        assert_eq!(decoded("powershell -e AQACAA=="), "powershell -e AQACAA==");
        // A half surrogate or an odd last byte is a U+FFFD, as PowerShell reads it.
        assert_eq!(base64_utf16("awA9AADY"), Some("k=\u{fffd}".to_owned()));
        assert_eq!(base64_utf16("awA9AHg="), Some("k=\u{fffd}".to_owned()));
        assert_eq!(
            decoded(&format!("grep -e {blob}")),
            format!("grep -e {blob}")
        );
    }

    fn unix(line: &str) -> Vec<String> {
        shell::split(line)
            .iter()
            .map(|c| shell::join(&as_unix(c).words))
            .collect()
    }

    #[test]
    fn file_commands_read_as_unix_ones() {
        let cases = [
            ("copy /Y a+b out", "cp -- a b out"),
            ("copy a", "cp -- a ."),
            ("xcopy /E /I src dst", "cp -r -- src dst"),
            ("robocopy src dst a.rs /MOV", "mv -- src/a.rs dst"),
            ("robocopy src dst /MIR", "cp -r -- src dst"),
            ("Copy-Item -Path a,b -Destination d -Force", "cp -- a b d"),
            ("Set-Content -Value x -Path:k", "touch -- k"),
            ("Set-Content k x", "touch -- k"),
            ("Out-File -FilePath k -Encoding utf8", "touch -- k"),
            ("New-Item -Path d -Name k -ItemType File", "touch -- d/k"),
            ("Rename-Item -Path d/k -NewName j", "mv -- d/k d/j"),
            ("ren d/k j", "mv -- d/k d/j"),
            ("Remove-Item -Recurse -Force d", "rm -r -- d"),
            ("rd /s /q d", "rm -r -- d"),
            ("del /Q /C:/x/k", "rm -- /C:/x/k"),
            ("Get-Content -Path k -TotalCount 5 -Raw", "cat -- k"),
            ("findstr /s /i secret k j", "cat -- k j"),
            ("findstr /c:secret k", "cat -- k"),
            ("Select-String -Pattern x -Path k", "cat -- k"),
            ("sls x k", "cat -- k"),
            ("cp -r a b", "cp -r a b"),
        ];
        for (line, read) in cases {
            assert_eq!(unix(line), [read], "{line}");
        }
    }

    #[test]
    fn a_started_programs_argument_list_is_its_command_line() {
        let started = |line: &str| {
            let words: Vec<String> = line.split(' ').map(str::to_owned).collect();
            let (program, arguments) = started(&words).unwrap();
            (program, arguments.join(" "))
        };
        let git = |arguments: &str| ("git".to_owned(), arguments.to_owned());
        assert_eq!(started("git push -f"), git("push -f"));
        assert_eq!(
            started("-FilePath git -ArgumentList push,-f"),
            git("push -f")
        );
        assert_eq!(started("git -ArgumentList push,-f,,"), git("push -f"));
        let pwsh = |words: &[&str]| {
            let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
            super::started(&words).map(|(_, arguments)| arguments)
        };
        assert_eq!(
            pwsh(&["pwsh", "-c git push -f"]).unwrap(),
            ["-c", "git", "push", "-f"]
        );
        assert_eq!(
            pwsh(&["pwsh", "-c,git push"]).unwrap(),
            ["-c", "git", "push"]
        );
        assert_eq!(pwsh(&["pwsh", "-Wait:$true", "-c"]).unwrap(), ["-c"]);
        assert_eq!(command_line_words("push  -f"), ["push", "-f"]);
        assert_eq!(
            command_line_words(r#"a "b c" d"e f"g """#),
            ["a", "b c", "de fg", ""]
        );
        assert!(command_line_words(" ").is_empty());
    }
}
