//! A small reader of shell command lines, enough for a policy: a line split into its simple
//! commands (at pipes, `&&`, `||`, `;`, `&`, newlines, subshells, and inside `$(…)`, backticks
//! and `bash -c '…'`), each with its words after quoting and brace expansion (`.{env,x}` is
//! two words), the files it redirects from and to, the words a shell matches as globs (an
//! unquoted `*`, `?` or `[`: `.e*`, not `'.e*'`), the folders it may run in as the line's `cd`s
//! left them ([`super::cwd`]), and what it reads, writes and connects to.
//!
//! It is no shell: variables stay unexpanded, globs are not matched against files (a policy
//! judges what their text could take), aliases and functions unknown. What it cannot see (a
//! script that writes a file or changes folder, `python -c`, a variable holding a command) a
//! policy cannot stop; a variable holding a folder is taken for any folder by a deny pattern.
//! docs/security.md says so.

use std::borrow::Cow;

use super::cwd::{Dirs, Join, is_cd};
use super::git::GitPaths;

/// One simple command: its words (quotes removed, braces expanded, leading `NAME=value`
/// dropped), the files its redirections name, and the folders it may run in.
// Independent facts about the command, each read by its own users: not a state machine.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimpleCommand {
    pub words: Vec<String>,
    /// The `NAME=value` words that set its environment: those before it (`GIT_DIR=x git log`),
    /// and those the line exported or assigned before it (`export GIT_DIR=x; git log`).
    pub env: Vec<String>,
    /// `< file`.
    pub redirect_in: Vec<String>,
    /// `> file`, `>> file`, `&> file`.
    pub redirect_out: Vec<String>,
    /// Words and redirection targets a shell matches as globs: an unquoted `*`, `?` or `[` in
    /// them (`.e*`, not `'.e*'`).
    pub globs: Vec<String>,
    /// The folders the command may run in, as the `cd`s before it on the line left them: `""`
    /// is the folder the line started in, `secrets`, `../x` or `/etc` where a `cd` went (from
    /// there), `~` the home folder, and a word starting with `$` where the line does not say
    /// (`$X` for `cd "$X"`, `$OLDPWD` for `cd -`, `$(…)`, `$PWD` when nothing names it). Empty:
    /// only the folder the line started in.
    pub cwd: Vec<String>,
    /// The command reads the output of the one before it (`git diff | rg TOKEN`): a search
    /// that names no file reads that, not the working folder.
    pub piped_in: bool,
    /// Text the reader left unread ([`unread`]): it may run anything and read and write any
    /// file, anywhere.
    pub unread: bool,
    /// A command Bash runs on Windows (Git Bash), not cmd or PowerShell: a name Bash takes for
    /// a builtin of its own is that builtin (`type python` says what `python` is; cmd's
    /// `type` would read it).
    pub bash_on_windows: bool,
    /// A command PowerShell runs: it takes a command's and a parameter's name in any case, by
    /// an alias and a parameter by its start ([`super::pwsh_names`]).
    pub powershell: bool,
    /// The here-documents and here-strings fed to a program that reads the files it changes
    /// from its input, Codex's patch (`applypatch <<'PATCH'`, [`is_patch_program`]): kept for
    /// it alone, whose writes are the files the patch names.
    pub patches: Vec<String>,
    /// The text the line feeds the command on its stdin, when the line spells it whole: a
    /// here-string's (`<<< HEAD:k`), a here-document's (`git apply <<'EOF'`), or what an
    /// `echo` or `printf` before the pipe prints (`echo HEAD:k | git cat-file --batch`; a
    /// `printf` format's `\n` as a new line). `None` when the line does not spell it: it gives
    /// none, or a file (`< list`) or another command's output does.
    pub fed: Option<String>,
    /// [`Self::fed`] holds a value the line does not spell (`<<< "$(cat fix.diff)"`, a
    /// here-document with an unquoted delimiter holding `$X` or a backtick, `echo "$X" |`): what
    /// the command reads is not that text, whatever it names.
    pub fed_unspelt: bool,
    /// The line is one a shell refuses (a quote, `$(`, a backtick or `(` never closed, a
    /// line ending on `|`, `&&` or `||`): nothing on it runs. Set on the line's last command.
    pub refused: bool,
}

/// How deep `$(…)` and `bash -c` may nest before the rest is left unread.
pub const MAX_DEPTH: usize = 8;

/// How many simple commands a line is read into before the rest of it is left unread: a
/// runaway line must not make the hook slow.
pub const MAX_COMMANDS: usize = 256;

/// The first word of what the reader left unread, as a command: a substitution whose value
/// is unknown, which no allow pattern names.
const UNREAD: &str = "$(…)";

/// The folder what the reader left unread is taken to read and write whole: one nothing on the
/// line names, which a deny pattern takes for any folder (see `check.rs`, `from_anywhere`), and
/// which a denial's reason names as a line too long to check (see `reason.rs`).
pub const UNREAD_FOLDER: &str = "$UNREAD";

/// Splits a command line into its simple commands, nested ones included.
pub fn split(line: &str) -> Vec<SimpleCommand> {
    split_in(line, &[])
}

/// [`split`] for a line whose commands start in the folders `cwd` (empty: where it started),
/// as the line a command runs in turn does.
pub fn split_in(line: &str, cwd: &[String]) -> Vec<SimpleCommand> {
    let mut out = Vec::new();
    parse(line, 0, cwd, &[], Values::Spelt, &mut out);
    // A line that may make `dirname` its own is read again without taking its value.
    if out.iter().any(remakes_dirname) {
        out.clear();
        parse(line, 0, cwd, &[], Values::Unknown, &mut out);
    }
    out
}

/// Whether a substitution whose value the line spells is taken for it ([`dirname_value`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Values {
    Spelt,
    /// The line may make the command its own: every value is unknown.
    Unknown,
}

/// Whether a command may make `dirname` print something else than the parent of its operand:
/// it defines a function of that name (`dirname() …`, read as a command of that one word,
/// `function dirname`), an alias, or sets where programs are found (`PATH`) or a file bash
/// runs first (`BASH_ENV`, `ENV`).
fn remakes_dirname(cmd: &SimpleCommand) -> bool {
    let set = |w: &String| {
        w.split_once('=')
            .is_some_and(|(name, _)| matches!(name, "PATH" | "BASH_ENV" | "ENV"))
    };
    cmd.words == ["dirname"]
        || cmd.words.iter().any(|w| w.starts_with("dirname="))
        || cmd
            .words
            .windows(2)
            .any(|w| w[0] == "function" && w[1] == "dirname")
        || cmd.env.iter().chain(&cmd.words).any(set)
}

/// What `$(dirname src/a/b.rs)` prints, `src/a`: the one command of a substitution (the
/// commands from `first` on), when it is `dirname` of one word that holds no substitution,
/// variable or wildcard, whose value is text alone (a folder to `mkdir -p "$(dirname …)"`).
/// Unquoted (`in_quotes` false), a value a shell would split or match as a glob is none.
fn dirname_value(cmds: &[SimpleCommand], in_quotes: bool) -> Option<String> {
    let [cmd] = cmds else {
        return None;
    };
    let path = match cmd.words.as_slice() {
        [name, path] if name == "dirname" => path,
        [name, dashes, path] if name == "dirname" && dashes == "--" => path,
        _ => return None,
    };
    // The variables it runs with are no matter, but those [`remakes_dirname`] names.
    let plain = cmd.redirect_in.is_empty()
        && cmd.redirect_out.is_empty()
        && cmd.globs.is_empty()
        && !cmd.unread
        && !path.starts_with('-')
        && !path.contains(['$', '\n', '`']);
    if !plain {
        return None;
    }
    let trimmed = path.trim_end_matches('/');
    let parent = match trimmed.rfind('/') {
        _ if path.is_empty() => ".",
        _ if trimmed.is_empty() => "/",
        None => ".",
        Some(at) => match trimmed[..at].trim_end_matches('/') {
            "" => "/",
            parent => parent,
        },
    };
    let split = parent.contains(|c: char| c.is_whitespace() || matches!(c, '*' | '?' | '['));
    (in_quotes || !split).then(|| parent.to_owned())
}

/// Parses one line whose commands start in the folders `cwd` (empty: where the line started)
/// with the variables `env` set. A line nested deeper than [`MAX_DEPTH`], or met when
/// [`MAX_COMMANDS`] are read, is left unread. With `values` [`Values::Spelt`], a substitution
/// whose value the line spells (`$(dirname src/a/b.rs)`) is taken for it.
fn parse(
    line: &str,
    depth: usize,
    cwd: &[String],
    env: &[String],
    values: Values,
    out: &mut Vec<SimpleCommand>,
) {
    if depth > MAX_DEPTH || out.len() >= MAX_COMMANDS {
        out.extend(unread(line));
        return;
    }
    let chars: Vec<char> = line.chars().collect();
    let mut p = Parser {
        chars,
        i: 0,
        depth,
        out,
        cur: SimpleCommand::default(),
        word: String::new(),
        quoted: false,
        escaped: false,
        unspelt: false,
        words_unspelt: false,
        here_unspelt: false,
        printed_unspelt: false,
        wild: false,
        brace: false,
        pending: None,
        heredocs: Vec::new(),
        earlier_heredocs: 0,
        here_strings: Vec::new(),
        printed: None,
        dirs: Dirs::new(cwd),
        start: 0,
        exported: env.to_vec(),
        values,
        unclosed: false,
        groups: 0,
        dangling: false,
    };
    p.run();
}

/// Text the reader leaves unread, as one command ([`SimpleCommand::unread`]) that a policy
/// cannot tell apart: its words are [`UNREAD`] and each bare word of the text once, quotes and
/// escapes taken away, so that a command pattern still finds a name in it (`curl` in
/// `$($(… curl x …))`); an allow pattern finds none. `None` for blank text.
pub fn unread(text: &str) -> Option<SimpleCommand> {
    if text.trim().is_empty() {
        return None;
    }
    let mut words = vec![UNREAD.to_owned()];
    let mut seen = std::collections::HashSet::new();
    for piece in text.split(|c: char| c.is_whitespace() || ";|&()<>$`{},".contains(c)) {
        let word: String = piece
            .chars()
            .filter(|c| !matches!(c, '\'' | '"' | '\\'))
            .collect();
        if !word.is_empty() && seen.insert(word.clone()) {
            words.push(word);
        }
    }
    Some(SimpleCommand {
        words,
        unread: true,
        ..SimpleCommand::default()
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    In,
    Out,
    /// A here-document's delimiter, `<<-` when true.
    Heredoc(bool),
    /// A here-string's text (`<<<`), no file.
    Text,
}

/// A here-document whose body is still to come: its delimiter, whether `<<-` strips its tabs,
/// and whether a shell reads it as commands (`bash <<EOF`).
#[derive(Debug, Clone)]
struct Heredoc {
    delimiter: String,
    strip_tabs: bool,
    run: bool,
    /// Its delimiter is unquoted: the shell expands `$…` and backticks in its body.
    expands: bool,
    /// The command (its index in the parser's output) it feeds, once that command is read:
    /// its stdin ([`SimpleCommand::fed`]), and the patch it is of a patch program
    /// ([`SimpleCommand::patches`]).
    feeds: Option<usize>,
}

// Independent facts about the word being read and the line's end: not a state machine.
#[allow(clippy::struct_excessive_bools)]
struct Parser<'o> {
    chars: Vec<char>,
    i: usize,
    depth: usize,
    out: &'o mut Vec<SimpleCommand>,
    cur: SimpleCommand,
    word: String,
    quoted: bool,
    /// The word has a character escaped by a backslash (`\EOF`, a quoted delimiter).
    escaped: bool,
    /// The word holds a value the line does not spell: a variable or a substitution.
    unspelt: bool,
    /// Some word of the current command does ([`Self::unspelt`]).
    words_unspelt: bool,
    /// Some here-string of the current command does.
    here_unspelt: bool,
    /// What the command before a pipe prints holds such a value ([`Self::printed`]).
    printed_unspelt: bool,
    /// The word has an unquoted `*`, `?` or `[`: a shell matches it as a glob.
    wild: bool,
    /// The word has an unquoted `{`: a shell may expand it (`.{env,x}`).
    brace: bool,
    pending: Option<Pending>,
    heredocs: Vec<Heredoc>,
    /// How many of `heredocs` commands before the current one opened.
    earlier_heredocs: usize,
    /// The texts of the current command's here-strings (`<<< text`): a shell runs them.
    here_strings: Vec<String>,
    /// What the command before a pipe prints, when the line spells it ([`SimpleCommand::fed`]).
    printed: Option<String>,
    /// The folders the commands may be in, as the line's `cd`s move them.
    dirs: Dirs,
    /// Where the current simple command's text starts.
    start: usize,
    /// The `NAME=value` words the line exported or assigned so far, which the commands after
    /// them may run with.
    exported: Vec<String>,
    /// Whether a substitution's value may be taken ([`dirname_value`]).
    values: Values,
    /// A quote, substitution or backtick ran to the end of the line unclosed.
    unclosed: bool,
    /// Groups `(` opened and not yet closed.
    groups: usize,
    /// The last thing read joins a command to one that never came (`a |`, `a &&`).
    dangling: bool,
}

impl Parser<'_> {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    fn run(&mut self) {
        while let Some(c) = self.peek(0) {
            if self.out.len() >= MAX_COMMANDS {
                let rest: String = self.chars[self.start..].iter().collect();
                self.out.extend(unread(&rest));
                return;
            }
            match c {
                ' ' | '\t' | '\r' => {
                    self.end_word();
                    self.i += 1;
                }
                '\n' | ';' => {
                    self.end_word();
                    self.end_command(Join::Then);
                    self.i += 1;
                    if c == '\n' {
                        self.skip_heredocs();
                    }
                }
                '|' => {
                    self.end_word();
                    let join = if self.peek(1) == Some('|') {
                        Join::Or
                    } else {
                        Join::Pipe
                    };
                    self.end_command(join);
                    self.dangling = true;
                    // `||`, and `|&` (a pipe of stderr too).
                    self.i += if matches!(self.peek(1), Some('|' | '&')) {
                        2
                    } else {
                        1
                    };
                }
                '(' => {
                    self.end_word();
                    self.note_definition();
                    self.end_command(Join::Group);
                    self.dirs.open();
                    self.groups += 1;
                    self.i += 1;
                }
                ')' => {
                    self.end_word();
                    self.end_command(Join::Group);
                    self.dirs.close();
                    // A `case` pattern's `)` closes no group.
                    self.groups = self.groups.saturating_sub(1);
                    self.i += 1;
                }
                '&' => {
                    self.end_word();
                    if self.peek(1) == Some('>') {
                        self.i += 2;
                        if self.peek(0) == Some('>') {
                            self.i += 1;
                        }
                        self.pending = Some(Pending::Out);
                    } else if self.peek(1) == Some('&') {
                        self.end_command(Join::And);
                        self.dangling = true;
                        self.i += 2;
                    } else {
                        self.end_command(Join::Background);
                        self.i += 1;
                    }
                }
                '<' => self.less_than(),
                '>' => self.greater_than(),
                '\'' => {
                    self.quoted = true;
                    self.i += 1;
                    self.unclosed = true;
                    while let Some(c) = self.peek(0) {
                        self.i += 1;
                        if c == '\'' {
                            self.unclosed = false;
                            break;
                        }
                        self.word.push(c);
                    }
                }
                '"' => self.double_quoted(),
                '\\' => {
                    match self.peek(1) {
                        Some('\n') | None => {}
                        Some(next) => {
                            self.escaped = true;
                            self.word.push(next);
                        }
                    }
                    self.i += 2;
                }
                '$' => self.dollar(false),
                '`' => {
                    self.i += 1;
                    let inner = self.until_backtick();
                    self.substitute(&inner, false);
                }
                '#' if self.word.is_empty() && !self.quoted => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.i += 1;
                    }
                }
                c => {
                    self.wild |= matches!(c, '*' | '?' | '[');
                    self.brace |= c == '{';
                    self.word.push(c);
                    self.i += 1;
                }
            }
        }
        self.end_word();
        let refused = self.unclosed || self.groups > 0 || self.dangling;
        self.end_command(Join::Then);
        if refused && let Some(last) = self.out.last_mut() {
            last.refused = true;
        }
    }

    /// A line run in a subshell or another shell (`$(…)`, `<(…)`, backticks), from the folders
    /// the current command runs in.
    fn parse_nested(&mut self, inner: &str) {
        let cwd = self.dirs.split().0;
        parse(
            inner,
            self.depth + 1,
            &cwd,
            &self.exported,
            self.values,
            self.out,
        );
    }

    /// A command substitution: its line is read, and its value is `$(…)`, unknown, unless
    /// the line spells it ([`dirname_value`]).
    fn substitute(&mut self, inner: &str, in_quotes: bool) {
        // `$()` and empty backticks are nothing (`rm -rf$() x` is `rm -rf x`).
        if inner.trim().is_empty() {
            return;
        }
        let first = self.out.len();
        self.parse_nested(inner);
        let value = self
            .values
            .eq(&Values::Spelt)
            .then(|| dirname_value(&self.out[first..], in_quotes))
            .flatten();
        self.unspelt |= value.is_none();
        self.word.push_str(value.as_deref().unwrap_or("$(…)"));
    }

    /// At a `(`: `cd() …` defines a `cd` of the line's own, so where its `cd`s go is unknown.
    fn note_definition(&mut self) {
        let next = self.chars[self.i + 1..]
            .iter()
            .find(|c| !matches!(c, ' ' | '\t'));
        if next == Some(&')') && self.cur.words.last().is_some_and(|w| is_cd(w)) {
            self.dirs.wary = true;
        }
    }

    /// A word of digits just before `<` or `>` is a file descriptor, not an argument.
    fn drop_fd_number(&mut self) {
        if !self.quoted && !self.word.is_empty() && self.word.bytes().all(|b| b.is_ascii_digit()) {
            self.word.clear();
        }
        self.end_word();
    }

    fn less_than(&mut self) {
        self.drop_fd_number();
        match (self.peek(1), self.peek(2)) {
            (Some('<'), Some('<')) => {
                self.i += 3;
                self.pending = Some(Pending::Text);
            }
            (Some('<'), Some('-')) => {
                self.i += 3;
                self.pending = Some(Pending::Heredoc(true));
            }
            (Some('<'), _) => {
                self.i += 2;
                self.pending = Some(Pending::Heredoc(false));
            }
            (Some('('), _) => {
                self.i += 2;
                let inner = self.until_close_paren();
                self.parse_nested(&inner);
            }
            (Some('&'), _) => {
                // `<&3`: a descriptor, no file.
                self.i += 2;
                self.skip_fd_target();
            }
            _ => {
                self.i += 1;
                self.pending = Some(Pending::In);
            }
        }
    }

    fn greater_than(&mut self) {
        self.drop_fd_number();
        self.i += 1;
        match self.peek(0) {
            Some('>' | '|') => {
                self.i += 1;
                self.pending = Some(Pending::Out);
            }
            Some('&') => {
                self.i += 1;
                if self.skip_fd_target() {
                    return;
                }
                self.pending = Some(Pending::Out);
            }
            Some('(') => {
                self.i += 1;
                let inner = self.until_close_paren();
                self.parse_nested(&inner);
            }
            _ => self.pending = Some(Pending::Out),
        }
    }

    /// After `>&` or `<&`: a descriptor number or `-` is skipped (true); a file name is not.
    fn skip_fd_target(&mut self) -> bool {
        let start = self.i;
        while self.peek(0).is_some_and(|c| c.is_ascii_digit() || c == '-') {
            self.i += 1;
        }
        self.i > start
    }

    fn double_quoted(&mut self) {
        self.quoted = true;
        self.i += 1;
        while let Some(c) = self.peek(0) {
            match c {
                '"' => {
                    self.i += 1;
                    return;
                }
                '\\' => {
                    match self.peek(1) {
                        Some(n @ ('"' | '\\' | '$' | '`')) => self.word.push(n),
                        Some(n) if n != '\n' => {
                            self.word.push('\\');
                            self.word.push(n);
                        }
                        _ => {}
                    }
                    self.i += 2;
                }
                '$' => self.dollar(true),
                '`' => {
                    self.i += 1;
                    let inner = self.until_backtick();
                    self.substitute(&inner, true);
                }
                c => {
                    self.word.push(c);
                    self.i += 1;
                }
            }
        }
        self.unclosed = true;
    }

    /// A `$`; inside double quotes (`quoted`) only substitutions are special, `$'` and `$"`
    /// are text.
    fn dollar(&mut self, in_double_quotes: bool) {
        match (self.peek(1), self.peek(2)) {
            (Some('('), Some('(')) => {
                // Arithmetic: no command in it worth a policy.
                self.i += 1;
                let _ = self.until_close_paren_from_open();
                self.word.push('0');
            }
            (Some('('), _) => {
                self.i += 2;
                let inner = self.until_close_paren();
                self.substitute(&inner, in_double_quotes);
            }
            (Some('\''), _) if !in_double_quotes => {
                // `$'…'`: ANSI-C quoting, its escapes decoded as bash does (`$'\x63url'`).
                self.quoted = true;
                self.i += 2;
                self.unclosed = true;
                while let Some(c) = self.peek(0) {
                    self.i += 1;
                    match c {
                        '\'' => {
                            self.unclosed = false;
                            break;
                        }
                        '\\' => self.ansi_c_escape(),
                        c => self.word.push(c),
                    }
                }
            }
            (Some('"'), _) if !in_double_quotes => {
                // `$"…"`: a string to translate, read as a double-quoted one.
                self.i += 1;
                self.double_quoted();
            }
            // `$IFS` unquoted is split into nothing but a word break (`cat${IFS}.env` reads
            // `.env`), the line's own `IFS` or not: taken so, no word is hidden in another.
            _ if !in_double_quotes && let Some(len) = self.ifs_len() => {
                self.i += len;
                self.end_word();
            }
            _ => {
                self.unspelt |= self.peek(1).is_some_and(starts_expansion);
                self.word.push('$');
                self.i += 1;
            }
        }
    }

    /// At a `$`: the length of `$IFS` or `${IFS…}` (`${IFS}`, `${IFS:0:1}`) there, if it is one.
    fn ifs_len(&self) -> Option<usize> {
        let rest = self.chars.get(self.i + 1..)?;
        let name_char =
            |c: Option<&char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_');
        if rest.starts_with(&['I', 'F', 'S']) && !name_char(rest.get(3)) {
            return Some(4);
        }
        if rest.starts_with(&['{', 'I', 'F', 'S']) && !name_char(rest.get(4)) {
            let close = rest.iter().position(|c| *c == '}')?;
            return Some(close + 2);
        }
        None
    }

    /// One escape of `$'…'`, after its backslash: `\n`, `\x63`, `\143`, `\u2019`, `\cA` …
    fn ansi_c_escape(&mut self) {
        let Some(n) = self.peek(0) else {
            return;
        };
        self.i += 1;
        let simple = match n {
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'e' | 'E' => Some('\u{1b}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            'x' | 'u' | 'U' | '0'..='7' | 'c' => None,
            other => Some(other),
        };
        if let Some(c) = simple {
            self.word.push(c);
            return;
        }
        let (radix, max) = match n {
            'x' => (16, 2),
            'u' => (16, 4),
            'U' => (16, 8),
            'c' => {
                if let Some(c) = self.peek(0) {
                    self.i += 1;
                    self.word
                        .push(char::from(u8::try_from(c).unwrap_or(b'?') & 0x1f));
                }
                return;
            }
            _ => {
                // Octal: this digit and up to two more.
                self.i -= 1;
                (8, 3)
            }
        };
        let mut value: u32 = 0;
        let mut digits = 0;
        while digits < max
            && let Some(d) = self.peek(0).and_then(|c| c.to_digit(radix))
        {
            value = value * radix + d;
            digits += 1;
            self.i += 1;
        }
        if digits == 0 {
            self.word.push('\\');
            self.word.push(n);
        } else if let Some(c) = char::from_u32(value) {
            self.word.push(c);
        }
    }

    /// The text up to the `)` that closes an already-consumed `(`, quotes and nesting
    /// respected; the cursor ends after it.
    fn until_close_paren(&mut self) -> String {
        let start = self.i;
        let mut depth = 1;
        // Here-documents opened inside: their bodies are text, whatever quotes and parentheses
        // they hold.
        let mut heredocs: Vec<Heredoc> = Vec::new();
        while let Some(c) = self.peek(0) {
            match c {
                '<' if self.peek(1) == Some('<') && self.peek(2) != Some('<') => {
                    self.i += 2;
                    let strip = self.peek(0) == Some('-');
                    if strip {
                        self.i += 1;
                    }
                    while self.peek(0).is_some_and(|c| c == ' ' || c == '\t') {
                        self.i += 1;
                    }
                    let mut word = String::new();
                    while let Some(c) = self.peek(0) {
                        if c.is_whitespace() || matches!(c, ';' | '|' | '&' | ')' | '(' | '<' | '>')
                        {
                            break;
                        }
                        if !matches!(c, '\'' | '"' | '\\') {
                            word.push(c);
                        }
                        self.i += 1;
                    }
                    if !word.is_empty() {
                        heredocs.push(Heredoc {
                            delimiter: word,
                            strip_tabs: strip,
                            run: false,
                            expands: false,
                            feeds: None,
                        });
                    }
                    continue;
                }
                '\n' if !heredocs.is_empty() => {
                    self.i += 1;
                    let saved =
                        std::mem::replace(&mut self.heredocs, std::mem::take(&mut heredocs));
                    self.skip_heredocs();
                    self.heredocs = saved;
                    continue;
                }
                '\\' => self.i += 1,
                '\'' => {
                    self.i += 1;
                    while self.peek(0).is_some_and(|c| c != '\'') {
                        self.i += 1;
                    }
                }
                '"' => {
                    self.i += 1;
                    while let Some(c) = self.peek(0) {
                        if c == '\\' {
                            self.i += 1;
                        } else if c == '"' {
                            break;
                        }
                        self.i += 1;
                    }
                }
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        let inner: String = self.chars[start..self.i].iter().collect();
                        self.i += 1;
                        return inner;
                    }
                }
                _ => {}
            }
            self.i += 1;
        }
        self.unclosed = true;
        self.chars[start.min(self.chars.len())..].iter().collect()
    }

    /// From a `(` at the cursor to its `)`.
    fn until_close_paren_from_open(&mut self) -> String {
        self.i += 1;
        self.until_close_paren()
    }

    fn until_backtick(&mut self) -> String {
        let mut inner = String::new();
        self.unclosed = true;
        while let Some(c) = self.peek(0) {
            self.i += 1;
            match c {
                '`' => {
                    self.unclosed = false;
                    break;
                }
                '\\' => {
                    if let Some(n) = self.peek(0) {
                        inner.push(n);
                        self.i += 1;
                    }
                }
                c => inner.push(c),
            }
        }
        inner
    }

    /// After the newline that ends a line with here-documents, their bodies are skipped: they
    /// are text, not commands, unless a shell reads them (`bash <<EOF`).
    fn skip_heredocs(&mut self) {
        self.earlier_heredocs = 0;
        let mut bodies = Vec::new();
        for heredoc in std::mem::take(&mut self.heredocs) {
            let Heredoc {
                delimiter,
                strip_tabs,
                run,
                expands,
                feeds,
            } = heredoc;
            let body_start = self.i;
            loop {
                let start = self.i;
                if start >= self.chars.len() {
                    let end = self.chars.len();
                    let body: String = self.chars[body_start.min(end)..].iter().collect();
                    self.feed(feeds, &body, expands);
                    if run {
                        bodies.push(body);
                    }
                    break;
                }
                while self.peek(0).is_some_and(|c| c != '\n') {
                    self.i += 1;
                }
                let line: String = self.chars[start..self.i].iter().collect();
                self.i += 1;
                let line = if strip_tabs {
                    line.trim_start_matches('\t')
                } else {
                    line.as_str()
                };
                if line == delimiter {
                    let body: String = self.chars[body_start..start].iter().collect();
                    self.feed(feeds, &body, expands);
                    if run {
                        bodies.push(body);
                    }
                    break;
                }
            }
        }
        // Read by a shell started in one of the folders the line may be in by now.
        let cwd = self.dirs.all();
        for body in bodies {
            parse(
                &body,
                self.depth + 1,
                &cwd,
                &self.exported,
                self.values,
                self.out,
            );
        }
    }

    /// A here-document's body is what the command it feeds reads on its stdin, and the patch a
    /// patch program applies.
    fn feed(&mut self, feeds: Option<usize>, body: &str, expands: bool) {
        if let Some(cmd) = feeds.and_then(|at| self.out.get_mut(at)) {
            cmd.fed_unspelt |= expands && expands_in_heredoc(body);
            if is_patch_program(&cmd.words) {
                cmd.patches.push(body.to_owned());
            }
            cmd.fed.get_or_insert_with(String::new).push_str(body);
        }
    }

    fn end_word(&mut self) {
        let wild = std::mem::take(&mut self.wild);
        let brace = std::mem::take(&mut self.brace);
        if self.word.is_empty() && !self.quoted {
            return;
        }
        let word = std::mem::take(&mut self.word);
        let literal = self.quoted || std::mem::take(&mut self.escaped);
        let unspelt = std::mem::take(&mut self.unspelt);
        self.quoted = false;
        self.dangling = false;
        let pending = self.pending.take();
        // Braces are expanded in words and redirections, not in here-documents' delimiters and
        // here-strings.
        if brace && matches!(pending, None | Some(Pending::In | Pending::Out)) {
            let (words, as_glob) = expand_braces(&word);
            for word in words {
                self.place_word(word, pending, wild || as_glob, literal, unspelt);
            }
        } else {
            self.place_word(word, pending, wild, literal, unspelt);
        }
    }

    /// Puts a finished word where it belongs: an argument, a redirection's file, a
    /// here-document's delimiter, a here-string.
    fn place_word(
        &mut self,
        word: String,
        pending: Option<Pending>,
        wild: bool,
        literal: bool,
        unspelt: bool,
    ) {
        if wild && matches!(pending, None | Some(Pending::In | Pending::Out)) && is_glob(&word) {
            self.cur.globs.push(word.clone());
        }
        match pending {
            Some(Pending::In) => self.cur.redirect_in.push(word),
            Some(Pending::Out) => self.cur.redirect_out.push(word),
            Some(Pending::Heredoc(strip)) => self.heredocs.push(Heredoc {
                delimiter: word,
                strip_tabs: strip,
                run: false,
                expands: !literal,
                feeds: None,
            }),
            Some(Pending::Text) => {
                self.here_unspelt |= unspelt;
                self.here_strings.push(word);
            }
            None => {
                self.words_unspelt |= unspelt;
                self.cur.words.push(word);
            }
        }
    }

    /// Ends a simple command, which `join` joins to the next one.
    fn end_command(&mut self, join: Join) {
        self.start = self.i;
        let mut cmd = std::mem::take(&mut self.cur);
        self.cur.piped_in = matches!(join, Join::Pipe);
        let here_strings = std::mem::take(&mut self.here_strings);
        let printed = self.printed.take();
        let printed_unspelt = std::mem::take(&mut self.printed_unspelt);
        let words_unspelt = std::mem::take(&mut self.words_unspelt);
        let here_unspelt = std::mem::take(&mut self.here_unspelt);
        if cmd.piped_in {
            cmd.fed = printed;
            cmd.fed_unspelt = printed_unspelt;
        }
        if !here_strings.is_empty() {
            cmd.fed = Some(here_strings.join("\n") + "\n");
            cmd.fed_unspelt = here_unspelt;
        }
        // Keywords that open or close a compound command are not commands.
        let mut skip = 0;
        while cmd.words.get(skip).is_some_and(|w| {
            matches!(
                w.as_str(),
                "if" | "then" | "else" | "elif" | "do" | "while" | "until" | "!" | "{" | "}"
            )
        }) {
            skip += 1;
        }
        cmd.words.drain(..skip);
        // `NAME=value` before a command sets its environment.
        let assignments = cmd.words.iter().take_while(|w| is_assignment(w)).count();
        cmd.env = cmd.words.drain(..assignments).collect();
        // `export GIT_DIR=x; git log`, and `GIT_DIR=x; git log` (the variable may have been
        // exported already): the commands after it run with it.
        if cmd.words.is_empty() {
            self.exported.extend(cmd.env.iter().cloned());
        } else if is_export(&cmd.words) {
            self.exported
                .extend(cmd.words.iter().filter(|w| is_assignment(w)).cloned());
        }
        if !self.exported.is_empty() && !cmd.words.is_empty() {
            cmd.env.splice(0..0, self.exported.iter().cloned());
        }
        if matches!(
            cmd.words.first().map(String::as_str),
            Some("fi" | "done" | "esac" | "for" | "case" | "select" | "in" | "}")
        ) {
            cmd.words.clear();
        }
        let opened = std::mem::replace(&mut self.earlier_heredocs, self.heredocs.len());
        if cmd.words.is_empty() && cmd.redirect_in.is_empty() && cmd.redirect_out.is_empty() {
            self.dirs.join_empty(join);
            return;
        }
        if matches!(join, Join::Pipe) {
            self.printed = printed_text(&cmd);
            self.printed_unspelt = words_unspelt;
        }
        for heredoc in self.heredocs.iter_mut().skip(opened) {
            heredoc.feeds = Some(self.out.len());
        }
        let (cwd, skipped) = self.dirs.split();
        let moved = self.dirs.move_of(&cmd.words);
        if cwd.iter().any(|d| !d.is_empty()) {
            cmd.cwd.clone_from(&cwd);
        }
        if is_patch_program(&cmd.words) {
            cmd.patches.extend(here_strings.iter().cloned());
        }
        let mut nested = match nested_line(&cmd.words) {
            Some(inner) => vec![inner],
            // `bash <<< 'curl x'`, `bash <<EOF`: a shell with no command line reads one from its
            // stdin.
            None if runs_its_stdin(&cmd.words) => {
                for heredoc in self.heredocs.iter_mut().skip(opened) {
                    heredoc.run = true;
                }
                // `echo 'curl x' | bash`: what the line prints into it.
                match (&cmd.fed, here_strings.is_empty()) {
                    (Some(printed), true) if cmd.piped_in => vec![printed.clone()],
                    _ => here_strings,
                }
            }
            None => Vec::new(),
        };
        // `GIT_PAGER='…' git log`: what git runs of its environment.
        if command_of(&cmd.words)
            .first()
            .is_some_and(|w| basename(w) == "git")
        {
            let before_git = cmd.words.iter().take_while(|w| basename(w) != "git");
            let set = cmd
                .env
                .iter()
                .chain(before_git.filter(|w| is_assignment(w)));
            nested.extend(super::git::env_lines(set, &command_of(&cmd.words)[1..]));
        }
        self.out.push(cmd);
        for inner in nested {
            parse(
                &inner,
                self.depth + 1,
                &cwd,
                &self.exported,
                self.values,
                self.out,
            );
        }
        self.dirs.after(cwd, skipped, moved, join);
    }
}

/// Whether a command is Codex's patch program, `apply_patch` (or `applypatch`), which writes
/// the files its patch names (`*** Update File: p`): the patch is its first operand or, as
/// Codex's model writes it for the `shell` tool, a here-document (`applypatch <<'PATCH'`).
pub fn is_patch_program(words: &[String]) -> bool {
    command_of(words)
        .first()
        .is_some_and(|w| matches!(&*basename(w), "apply_patch" | "applypatch"))
}

/// What `echo` or `printf` prints, a `printf` format's `\n` as a new line
/// (`echo HEAD:k`, `printf 'HEAD:k\n'`), for the command a pipe feeds it to; `None` for any
/// other command, or one whose input a redirection gives.
fn printed_text(cmd: &SimpleCommand) -> Option<String> {
    let words = command_of(&cmd.words);
    let name = basename(words.first()?);
    let name: &str = &name;
    if !matches!(name, "echo" | "printf") || !cmd.redirect_out.is_empty() {
        return None;
    }
    let text = words[1..]
        .iter()
        .skip_while(|w| name == "echo" && w.starts_with('-'));
    let text = text.map(|w| w.replace("\\n", "\n"));
    Some(text.collect::<Vec<_>>().join(" "))
}

/// Whether a character after `$` makes it a value: a variable's name, `${…}`, `$@`, `$1`.
fn starts_expansion(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_{@*#?$!-".contains(c)
}

/// Whether a here-document's body, its delimiter unquoted, holds a value the shell puts in:
/// an unescaped `$` before a name, `{` or `(`, or a backtick.
fn expands_in_heredoc(body: &str) -> bool {
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '`' => return true,
            '$' if chars
                .peek()
                .is_some_and(|&n| starts_expansion(n) || n == '(') =>
            {
                return true;
            }
            _ => {}
        }
    }
    false
}

/// Whether a word has a shell wildcard in it (`*`, `?`, `[`): unquoted, a shell matches it
/// against the files there (a `[` never closed is itself, which only over-counts).
pub fn is_glob(word: &str) -> bool {
    word.contains(['*', '?', '['])
}

/// At most this many words come of one word's braces; a larger expansion is read as `*` in
/// their place, a glob that takes whatever they could have named.
const MAX_BRACE_WORDS: usize = 64;

/// Words longer than this are not expanded: their braces are read as `*`.
const MAX_BRACE_TEXT: usize = 4096;

/// A word's brace expansion, as bash makes it before anything else: `.{env,x}` is `.env` and
/// `.x`, `{curl,x}` is `curl x`, `a{1..3}` and `{a..c}` count, groups nest; `{}`, `{x}` and
/// `${x}` are left as they are. True with the words when the expansion was too large and its
/// braces were read as `*`.
fn expand_braces(word: &str) -> (Vec<String>, bool) {
    let mut out = Vec::new();
    let mut steps = 0;
    if word.len() > MAX_BRACE_TEXT || expand_into(word, &mut out, &mut steps) {
        return (vec![braces_as_star(word)], true);
    }
    (out, false)
}

/// Expands `word` into `out`; true when it would make more than [`MAX_BRACE_WORDS`] words or
/// take more than a few hundred steps.
fn expand_into(word: &str, out: &mut Vec<String>, steps: &mut usize) -> bool {
    *steps += 1;
    if *steps > 4 * MAX_BRACE_WORDS {
        return true;
    }
    let Some(group) = brace_groups(word).into_iter().next() else {
        if out.len() >= MAX_BRACE_WORDS {
            return true;
        }
        out.push(word.to_owned());
        return false;
    };
    let Some(items) = group.items(word) else {
        return true;
    };
    items.iter().any(|item| {
        let next = format!("{}{item}{}", &word[..group.open], &word[group.close + 1..]);
        expand_into(&next, out, steps)
    })
}

/// A brace group a shell expands: where its `{` and `}` are, and its top-level commas.
#[derive(Debug, Clone)]
struct BraceGroup {
    open: usize,
    close: usize,
    commas: Vec<usize>,
}

impl BraceGroup {
    /// Its items: the texts between its commas, or a sequence's (`None`: too long to list).
    fn items(&self, word: &str) -> Option<Vec<String>> {
        if self.commas.is_empty() {
            return sequence(&word[self.open + 1..self.close]).flatten();
        }
        let mut items = Vec::new();
        let mut start = self.open + 1;
        for &end in self.commas.iter().chain([&self.close]) {
            items.push(word[start..end].to_owned());
            start = end + 1;
        }
        Some(items)
    }
}

/// The outermost brace groups of `word` a shell expands, left to right, found in one pass: a
/// `{` closed by its `}` with a comma between at its own depth, or a sequence (`1..3`); not
/// `${…}`.
fn brace_groups(word: &str) -> Vec<BraceGroup> {
    let bytes = word.as_bytes();
    // The groups open, each with whether it is a `${`.
    let mut open: Vec<(BraceGroup, bool)> = Vec::new();
    let mut found: Vec<BraceGroup> = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'{' => {
                let group = BraceGroup {
                    open: i,
                    close: i,
                    commas: Vec::new(),
                };
                open.push((group, i > 0 && bytes[i - 1] == b'$'));
            }
            b',' => {
                if let Some((group, _)) = open.last_mut() {
                    group.commas.push(i);
                }
            }
            b'}' => {
                let Some((mut group, dollar)) = open.pop() else {
                    continue;
                };
                group.close = i;
                let body = &word[group.open + 1..i];
                let expands =
                    !group.commas.is_empty() || (body.len() <= 48 && sequence(body).is_some());
                if !dollar && expands {
                    // Those inside it are its own, expanded with it.
                    while found.last().is_some_and(|f| f.open > group.open) {
                        found.pop();
                    }
                    found.push(group);
                }
            }
            _ => {}
        }
    }
    found
}

/// A sequence's items: `1..3`, `3..1`, `01..10` (zero-padded), `1..9..2`, `a..e`; `None` for
/// text that is no sequence, `Some(None)` for one longer than [`MAX_BRACE_WORDS`].
#[expect(
    clippy::option_option,
    reason = "no sequence, and a sequence too long to list, are two answers"
)]
fn sequence(body: &str) -> Option<Option<Vec<String>>> {
    let parts: Vec<&str> = body.split("..").collect();
    let (from, to, step) = match parts.as_slice() {
        [from, to] => (*from, *to, 1),
        [from, to, step] => (*from, *to, step.parse::<i64>().ok()?.unsigned_abs().max(1)),
        _ => return None,
    };
    if let (Ok(a), Ok(b)) = (from.parse::<i64>(), to.parse::<i64>()) {
        let count = (a.abs_diff(b) / step).saturating_add(1);
        if count > MAX_BRACE_WORDS as u64 {
            return Some(None);
        }
        // `01..10`: as wide as the wider end, when either is written with a leading zero.
        let padded = |s: &str| {
            let digits = s.trim_start_matches('-');
            digits.len() > 1 && digits.starts_with('0')
        };
        let width = if padded(from) || padded(to) {
            from.len().max(to.len())
        } else {
            0
        };
        let step = i64::try_from(step).ok()?;
        let items = (0..i64::try_from(count).ok()?)
            .map(|k| if a <= b { a + k * step } else { a - k * step })
            .map(|n| format!("{n:0width$}"))
            .collect();
        return Some(Some(items));
    }
    let (&[a], &[b]) = (from.as_bytes(), to.as_bytes()) else {
        return None;
    };
    if !a.is_ascii_alphabetic() || !b.is_ascii_alphabetic() {
        return None;
    }
    let step = usize::try_from(step).ok()?;
    let (low, high) = (a.min(b), a.max(b));
    let mut items: Vec<String> = (low..=high)
        .step_by(step)
        .map(|c| char::from(c).to_string())
        .collect();
    if a > b {
        items.reverse();
    }
    Some(Some(items))
}

/// `word` with each of its brace groups read as `*`.
fn braces_as_star(word: &str) -> String {
    let mut out = String::new();
    let mut at = 0;
    for group in brace_groups(word) {
        out.push_str(&word[at..group.open]);
        out.push('*');
        at = group.close + 1;
    }
    out.push_str(&word[at..]);
    out
}

/// Whether a command exports the variables it assigns: `export`, `declare -x`, `typeset -x`.
fn is_export(words: &[String]) -> bool {
    match words.first().map(String::as_str) {
        Some("export") => true,
        Some("declare" | "typeset" | "local") => words[1..]
            .iter()
            .any(|w| short_letters(w).is_some_and(|l| l.contains('x'))),
        _ => false,
    }
}

pub(super) fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// Shells that run a command line given with `-c`, or read one from their stdin.
const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "yash", "fish", "csh", "tcsh", "posh",
];

/// Whether the command that runs (past wrappers, `sudo`, `xargs`) is a shell.
fn is_shell(words: &[String]) -> bool {
    command_of(words)
        .first()
        .is_some_and(|w| SHELLS.contains(&&*basename(w)))
}

/// The command line a command runs in turn: `bash -c '…'`, `sh -lc '…'`, `eval …`, the lines
/// git's `-c` gives it to run (`git -c core.pager='…' log`, see `git.rs`), also
/// behind `sudo`, `doas` or `xargs` (`sudo bash -c '…'`) and with `--` or other options between
/// `-c` and the line (`bash -c -- '…'`, `bash -c -e '…'`: the line is the first operand).
fn nested_line(words: &[String]) -> Option<String> {
    if let Some(line) = env_split_line(words) {
        return Some(line);
    }
    let words = command_of(words);
    let name = basename(words.first()?);
    let name: &str = &name;
    if name == "eval" {
        return Some(words[1..].join(" "));
    }
    if name == "watch" {
        // Its operands, joined, are a line for `sh -c`.
        let at = past_options(words, &["-n", "--interval", "-q", "--equexit"], false);
        return (at < words.len()).then(|| words[at..].join(" "));
    }
    if LINE_OPTIONS.contains(&name) {
        return line_option(&words[1..]);
    }
    if name == "git" {
        return super::git::config_lines(&words[1..]);
    }
    if name == "trap" {
        return trap_line(words);
    }
    if name == "parallel" {
        return parallel_line(words);
    }
    if !SHELLS.contains(&name) {
        return None;
    }
    let mut command = false;
    let mut rest = words[1..].iter();
    while let Some(w) = rest.next() {
        if w == "--" || w == "-" {
            break;
        }
        if let Some(option) = w.strip_prefix('-').or_else(|| w.strip_prefix('+')) {
            if option == "-command" {
                command = true;
            } else if let Some(line) = option.strip_prefix("-command=") {
                return Some(line.to_owned());
            } else if !option.starts_with('-') {
                command |= option.contains('c');
                // `-o pipefail`, `-O extglob`: an option with a value.
                if matches!(option, "o" | "O") {
                    rest.next();
                }
            }
            continue;
        }
        return command.then(|| w.clone());
    }
    if command { rest.next().cloned() } else { None }
}

/// `parallel`'s options that take a value, before the command it runs.
const PARALLEL_VALUED: &[&str] = &[
    "-j",
    "--jobs",
    "-S",
    "--sshlogin",
    "-a",
    "--arg-file",
    "-d",
    "--delimiter",
    "-I",
    "-n",
    "--max-args",
    "--colsep",
    "--joblog",
    "--results",
    "--tmpdir",
    "--workdir",
    "--env",
];

/// At most this many of `parallel`'s arguments are read into the line it runs.
const MAX_PARALLEL_ARGUMENTS: usize = 64;

/// The line `parallel` runs: its command (joined, as its shell reads it) for each argument
/// after `:::`, the argument in place of `{}` or after the command: `parallel cat ::: a b`
/// runs `cat a; cat b`. With no `:::`, the command alone (its arguments come from a file or
/// stdin).
fn parallel_line(words: &[String]) -> Option<String> {
    let start = past_options(words, PARALLEL_VALUED, false);
    let rest = words.get(start..)?;
    let end = rest
        .iter()
        .position(|w| w.starts_with(":::"))
        .unwrap_or(rest.len());
    let command = rest[..end].join(" ");
    if command.is_empty() {
        return None;
    }
    let arguments: Vec<&String> = rest[end..]
        .iter()
        .filter(|w| !w.starts_with(":::"))
        .take(MAX_PARALLEL_ARGUMENTS)
        .collect();
    if arguments.is_empty() {
        return Some(command);
    }
    let runs: Vec<String> = arguments
        .iter()
        .map(|a| {
            let quoted = join(std::slice::from_ref(*a));
            if command.contains("{}") {
                command.replace("{}", &quoted)
            } else {
                format!("{command} {quoted}")
            }
        })
        .collect();
    Some(runs.join("; "))
}

/// Programs that run a line given to their `-c` (`--command`) with a shell: `su -c 'line'`,
/// `script -qc 'line' /dev/null`, `flock /tmp/l -c 'line'`.
const LINE_OPTIONS: &[&str] = &["su", "runuser", "script", "flock"];

/// The line `env -S` (`-vS`, `-S'…'`, `--split-string=…`) splits into the command it runs,
/// with the words after it: env splits it as a shell splits words, so it is read as a line.
fn env_split_line(words: &[String]) -> Option<String> {
    let at = words.iter().position(|w| basename(w) == "env")?;
    let mut rest = words[at + 1..].iter();
    while let Some(w) = rest.next() {
        let line = if let Some(long) = w.strip_prefix("--").filter(|l| !l.is_empty()) {
            match long.split_once('=') {
                Some(("split-string", line)) => line.to_owned(),
                Some(_) => continue,
                None if long == "split-string" => rest.next()?.clone(),
                None => {
                    if matches!(long, "unset" | "chdir") {
                        rest.next();
                    }
                    continue;
                }
            }
        } else if let Some(cluster) = w.strip_prefix('-').filter(|c| !c.is_empty()) {
            // The first letter that takes a value ends the cluster: `-S` a line, `-u NAME` and
            // `-C DIR` not; the value is the cluster's rest, or the next word.
            let Some(at) = cluster.find(['S', 'u', 'C']) else {
                continue;
            };
            let glued = &cluster[at + 1..];
            let value = if glued.is_empty() {
                rest.next()?.clone()
            } else {
                glued.to_owned()
            };
            if !cluster[at..].starts_with('S') {
                continue;
            }
            value
        } else {
            return None;
        };
        let after: Vec<String> = rest.cloned().collect();
        return Some(format!("{line} {}", join(&after)));
    }
    None
}

/// The line `trap` runs on a signal (`trap 'rm -rf x' EXIT`); `-` or a signal number first
/// resets, `-p` and `-l` print.
fn trap_line(words: &[String]) -> Option<String> {
    let action = words.iter().skip(1).find(|w| *w != "--")?;
    let prints = matches!(action.as_str(), "-p" | "-l" | "-");
    (!prints && !action.bytes().all(|b| b.is_ascii_digit())).then(|| action.clone())
}

/// Whether a command runs the line it reads on its stdin (a here-string or here-document the
/// line spells is then read as a line): a shell, `source` or `.` of the stdin
/// (`/dev/stdin`, `/dev/fd/0`, `/proc/self/fd/0`), `at` and `batch`, which run it later.
fn runs_its_stdin(words: &[String]) -> bool {
    let words = command_of(words);
    let Some(first) = words.first() else {
        return false;
    };
    match &*basename(first) {
        "source" | "." => words
            .get(1)
            .is_some_and(|f| matches!(f.as_str(), "/dev/stdin" | "/dev/fd/0" | "/proc/self/fd/0")),
        "at" | "batch" => !words.iter().any(|w| w == "-f" || w.starts_with("-l")),
        _ => is_shell(words),
    }
}

/// The line given to `-c` or `--command` among a program's words (after its name), also at
/// the end of a cluster (`-qc`) and as `--command=line`.
fn line_option(words: &[String]) -> Option<String> {
    let mut rest = words.iter();
    while let Some(w) = rest.next() {
        if w == "--" {
            return None;
        }
        if let Some(line) = w.strip_prefix("--command=") {
            return Some(line.to_owned());
        }
        if w == "--command" || short_letters(w).is_some_and(|l| l.ends_with('c')) {
            return rest.next().cloned();
        }
    }
    None
}

/// Words joined into a line that splits back into the same words: a word with a space, a
/// quote or an operator in it is single-quoted.
pub fn join(words: &[String]) -> String {
    let mut line = String::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        let plain = !w.is_empty()
            && w.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(
                        c,
                        '-' | '_' | '.' | '/' | ':' | '=' | '@' | '+' | ',' | '%' | '*' | '?' | '~'
                    )
            });
        if plain {
            line.push_str(w);
        } else {
            line.push('\'');
            line.push_str(&w.replace('\'', "'\\''"));
            line.push('\'');
        }
    }
    line
}

/// The program a command's word names: the last part of its path (`/usr/bin/curl` runs
/// `curl`), without an `.exe` in any case (Git Bash and WSL run `git.exe` and `rm.exe`, the
/// Windows programs of those names). A name that had an `.exe` is a Windows program's, found
/// by Windows in any case (`GIT.EXE` runs git), so it is given in lower case.
pub fn basename(word: &str) -> Cow<'_, str> {
    let name = last_part(word);
    match name.len().checked_sub(EXE.len()) {
        Some(at) if at > 0 && name.is_char_boundary(at) && name[at..].eq_ignore_ascii_case(EXE) => {
            let stem = &name[..at];
            if stem.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(stem.to_ascii_lowercase())
            } else {
                Cow::Borrowed(stem)
            }
        }
        _ => Cow::Borrowed(name),
    }
}

/// The end of the name of a Windows program.
const EXE: &str = ".exe";

/// The last part of a path: `/tmp/key.pem` is `key.pem`.
pub fn last_part(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Commands that run the command after them, with the options of theirs that take a value.
const WRAPPERS: &[(&str, &[&str])] = &[
    ("env", &["-u", "-C", "-S", "--chdir"]),
    ("timeout", &["-s", "-k", "--signal", "--kill-after"]),
    ("nice", &["-n"]),
    ("nohup", &[]),
    ("time", &[]),
    ("command", &[]),
    ("builtin", &[]),
    ("exec", &["-a"]),
    ("stdbuf", &["-i", "-o", "-e"]),
    ("ionice", &["-c", "-n"]),
    (
        "strace",
        &[
            "-e", "-o", "-p", "-s", "-u", "-E", "-a", "-b", "-I", "-O", "-S", "-X", "-P",
        ],
    ),
    (
        "ltrace",
        &[
            "-e", "-o", "-p", "-s", "-u", "-a", "-n", "-A", "-D", "-F", "-l", "-w", "-x",
        ],
    ),
    ("setsid", &[]),
    ("unbuffer", &[]),
    ("busybox", &[]),
    ("toybox", &[]),
    ("torsocks", &[]),
    ("proxychains", &["-f"]),
    ("proxychains4", &["-f"]),
    ("valgrind", &[]),
    ("catchsegv", &[]),
    ("chronic", &[]),
    ("xvfb-run", &["-n", "-s", "-f", "-e", "-p", "-w"]),
    ("taskset", &[]),
    ("chrt", &[]),
    ("flock", &["-w", "-E", "--timeout", "--conflict-exit-code"]),
];

/// How many operands of a wrapper's own come before the command it runs: `timeout`'s
/// duration, `taskset`'s processors, `chrt`'s priority, `flock`'s lock file.
fn wrapper_operands(name: &str) -> usize {
    usize::from(matches!(name, "timeout" | "taskset" | "chrt" | "flock"))
}

/// The words of the command that actually runs, past wrappers such as `env`, `timeout 60`,
/// `nice -n 5` (never past `sudo`, whose running as root a policy should see).
pub fn effective(words: &[String]) -> &[String] {
    let mut rest = words;
    for _ in 0..8 {
        let Some(first) = rest.first() else {
            return rest;
        };
        let Some((name, valued)) = WRAPPERS.iter().find(|(n, _)| *n == basename(first)) else {
            return rest;
        };
        let mut i = past_options(rest, valued, *name == "env");
        if i < rest.len() {
            // `timeout 60 cmd`: the duration.
            i += wrapper_operands(name);
        }
        if *name == "flock" && line_option(&rest[1..]).is_some() {
            // `flock /tmp/l -c 'line'` runs no command of its words: its line is read.
            return rest;
        }
        rest = &rest[i.min(rest.len())..];
    }
    rest
}

/// The files the wrappers before a command name in their own options: `strace -o secrets/t
/// true` writes `secrets/t` ([`FILE_OPTIONS`]).
fn wrapper_files(words: &[String], use_: &mut FileUse) {
    let mut rest = words;
    for _ in 0..8 {
        let Some(first) = rest.first() else {
            return;
        };
        let Some((name, valued)) = WRAPPERS.iter().find(|(n, _)| *n == basename(first)) else {
            return;
        };
        let i = past_options(rest, valued, *name == "env").min(rest.len());
        option_files(name, &rest[1..i], use_);
        rest = &rest[(i + wrapper_operands(name)).min(rest.len())..];
    }
}

/// Where the command a wrapper or runner (`rest[0]`) runs begins: past its options (those in
/// `valued` with their value), a `--`, and, when `assignments`, `NAME=value` words.
fn past_options(rest: &[String], valued: &[&str], assignments: bool) -> usize {
    let mut i = 1;
    while let Some(w) = rest.get(i) {
        if w == "--" {
            return i + 1;
        }
        if w.starts_with('-') && w.len() > 1 {
            i += if valued.contains(&w.as_str()) { 2 } else { 1 };
        } else if assignments && is_assignment(w) {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// Commands that run the command after them as another user or once per input, with the
/// options of theirs that take a value.
const RUNNERS: &[(&str, &[&str])] = &[
    (
        "sudo",
        &[
            "-u",
            "-g",
            "-h",
            "-p",
            "-C",
            "-D",
            "-r",
            "-t",
            "-T",
            "-U",
            "--user",
            "--group",
            "--host",
            "--prompt",
            "--chdir",
            "--role",
            "--type",
            "--close-from",
            "--command-timeout",
            "--other-user",
        ],
    ),
    ("doas", &["-u", "-C"]),
    ("run0", &["-u", "--user", "-g", "--group", "-D", "--chdir"]),
    (
        "xargs",
        &[
            "-a",
            "-d",
            "-E",
            "-I",
            "-L",
            "-n",
            "-P",
            "-s",
            "--arg-file",
            "--delimiter",
            "--max-args",
            "--max-procs",
            "--max-chars",
            "--max-lines",
            "--process-slot-var",
        ],
    ),
];

/// The words of the command that actually runs, past wrappers (see [`effective`]) and past
/// `sudo`, `doas` and `xargs` with their options (`sudo -u root cat x` runs `cat x`), for what
/// a command does; a command pattern still sees the `sudo` in the words.
pub fn command_of(words: &[String]) -> &[String] {
    past_runners(words).0
}

/// [`command_of`], and whether the last thing it went past was a package runner (`uv run`,
/// `bun run`), which runs a script named by its extension (`uv run x.py`).
fn past_runners(words: &[String]) -> (&[String], bool) {
    let mut rest = effective(words);
    let mut by_package_runner = false;
    for _ in 0..8 {
        let Some(first) = rest.first() else {
            break;
        };
        let i = if let Some((name, valued)) = RUNNERS.iter().find(|(n, _)| *n == basename(first)) {
            by_package_runner = false;
            past_options(rest, valued, matches!(*name, "sudo" | "doas"))
        } else if let Some(i) = past_package_runner(rest) {
            by_package_runner = true;
            i
        } else {
            break;
        };
        let next = effective(&rest[i.min(rest.len())..]);
        by_package_runner &= next.len() == rest.len() - i.min(rest.len());
        rest = next;
    }
    (rest, by_package_runner)
}

/// Tools that run a command (or a script) of a project's environment: `uv run`, `poetry run`,
/// `npx`, `bun run` … each with the subcommand that does it (none for `npx`) and its options
/// that take a value. `uv run python secrets/x.py` runs `python secrets/x.py`.
const PACKAGE_RUNNERS: &[(&str, Option<&str>, &[&str])] = &[
    (
        "uv",
        Some("run"),
        &[
            "--with",
            "-w",
            "--with-requirements",
            "--with-editable",
            "--python",
            "-p",
            "--project",
            "--directory",
            "--env-file",
            "--extra",
            "--group",
            "--package",
            "--index",
        ],
    ),
    ("uvx", None, &["--from", "--with", "--python", "-p"]),
    ("poetry", Some("run"), &[]),
    ("pipenv", Some("run"), &[]),
    ("pdm", Some("run"), &[]),
    ("hatch", Some("run"), &[]),
    ("npx", None, &["-p", "--package"]),
    ("bunx", None, &["-p", "--package"]),
    ("pnpm", Some("exec"), &[]),
    ("pnpm", Some("dlx"), &[]),
    (
        "npm",
        Some("exec"),
        &["-p", "--package", "-w", "--workspace"],
    ),
    ("yarn", Some("dlx"), &["-p", "--package"]),
    ("bun", Some("run"), BUN_VALUED),
    ("bun", Some("x"), &["-p", "--package"]),
    ("deno", Some("run"), DENO_VALUED),
];

/// `bun`'s options that take a value, before the script it runs.
const BUN_VALUED: &[&str] = &["--cwd", "-r", "--preload"];

/// `deno run`'s options that take a value.
const DENO_VALUED: &[&str] = &[
    "-c",
    "--config",
    "--import-map",
    "-L",
    "--log-level",
    "--env-file",
    "--location",
    "--seed",
    "--lock",
    "--inspect-brk",
];

/// Package runners that run a script named as their first operand without their `run` (`bun
/// x.ts`, `deno secrets/x.ts`) or with options before it (`bun --cwd dir run x.ts`), where
/// another word names a command of theirs (`bun install`), with their options that take a
/// value.
const SCRIPT_RUNNERS: &[(&str, &[&str])] = &[("bun", BUN_VALUED), ("deno", DENO_VALUED)];

/// Where the command a package runner (`rest[0]`) runs begins, past its subcommand and options;
/// `None` for another program, or the runner doing something else (`uv sync`, `bun install`).
fn past_package_runner(rest: &[String]) -> Option<usize> {
    let name = basename(rest.first()?);
    let name: &str = &name;
    let Some((_, sub, valued)) = PACKAGE_RUNNERS
        .iter()
        .find(|(n, sub, _)| *n == name && sub.is_none_or(|s| rest.get(1).is_some_and(|w| w == s)))
    else {
        let (_, valued) = SCRIPT_RUNNERS.iter().find(|(n, _)| *n == name)?;
        let mut at = past_options(rest, valued, false);
        // `bun --cwd dir run x.ts`: its options before its `run`.
        if rest.get(at).is_some_and(|w| w == "run") {
            at += past_options(&rest[at..], valued, false);
        }
        return rest
            .get(at)
            .is_some_and(|w| is_script_name(w) || is_run_by_path(w))
            .then_some(at);
    };
    let skip = usize::from(sub.is_some());
    Some(skip + past_options(&rest[skip..], valued, false))
}

/// Whether a word names a script by its extension (`x.py`, `main.ts`): the file `uv run`,
/// `bun run` or `deno run` runs when it is the command after them, where a shell would look a
/// program up.
fn is_script_name(word: &str) -> bool {
    const EXTENSIONS: &[&str] = &[
        "py", "js", "mjs", "cjs", "ts", "mts", "cts", "tsx", "jsx", "sh",
    ];
    word.rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && EXTENSIONS.contains(&ext))
}

/// What one simple command does to files, as far as its words tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileUse {
    pub reads: Vec<String>,
    pub writes: Vec<String>,
    /// Folders read with everything below them (`cp -r secrets x`, `grep -r KEY .`, `tar c`).
    pub read_trees: Vec<String>,
    /// Folders written with everything below them (`rm -rf secrets`, `mv secrets x`).
    pub write_trees: Vec<String>,
    /// The command skips files and folders whose name starts with `.` as it goes through a
    /// folder (`rg` and `ag` without `--hidden`).
    pub skips_hidden: bool,
    /// A program that works in a folder (`make`, `git`, `cargo`, `npm` …) with no folder option
    /// of its own: it reads the folder it is started in whole, as `make -C dir` reads `dir`.
    pub reads_its_folder: bool,
    /// Of `read_trees`, the folders a program works in or on (`make -C dir`, `git --git-dir`,
    /// `cmake dir`, `docker build dir`): one that is the folder the line started in (`cd build
    /// && cmake ..`) is the agent's own, not judged whole, as `make` there is not.
    pub works_in: Vec<String>,
    /// Files read by their path from the top of the repository git runs in, with the folder
    /// git runs in (`git -C x show HEAD:secrets/k`: `x` and `secrets/k`): the top is a folder
    /// at or above it that the line does not name (see `top.rs`).
    pub reads_from_top: Vec<(String, String)>,
    /// The paths git takes (see `git.rs`).
    pub git: GitPaths,
}

/// Options that take a value, per command, so that the value is not taken for a file.
pub(crate) fn valued_options(name: &str) -> &'static [&'static str] {
    match name {
        "head" | "tail" => &["-n", "-c"],
        "grep" | "egrep" | "fgrep" | "zgrep" => &["-e", "-f", "-m", "-A", "-B", "-C", "--include"],
        "rg" => &[
            "-e", "-f", "-g", "-t", "-T", "-m", "-A", "-B", "-C", "--glob", "--type",
        ],
        "sort" => &["-k", "-t", "-o", "-S"],
        "cut" => &["-d", "-f", "-c", "-b"],
        "truncate" => &["-s"],
        "cp" | "mv" | "install" | "ln" => &["-t", "-S", "--suffix", "-m"],
        "rsync" => &[
            "-e",
            "--rsh",
            "-f",
            "--filter",
            "--exclude",
            "--include",
            "-T",
        ],
        "scp" => &["-P", "-i", "-o", "-F", "-c", "-l", "-S", "-J"],
        "zip" => &["-b", "-n", "-P", "-t", "-tt", "-O"],
        "ag" => &["-G", "--ignore", "-m", "-A", "-B", "-C"],
        "sed" => &["-e", "-f"],
        "awk" | "gawk" | "mawk" | "nawk" => &["-F", "-v", "-f"],
        "fold" | "fmt" => &["-w", "-g", "-p"],
        "column" => &["-s", "-c", "-o", "-N", "-E", "-H", "-R", "-W", "-l"],
        "iconv" => &["-f", "-t", "-o"],
        "shuf" => &["-n", "-o", "--random-source"],
        "join" => &["-t", "-1", "-2", "-j", "-o", "-e", "-a", "-v"],
        "pr" => &["-w", "-l", "-h", "-o", "-s", "-W", "-N"],
        "split" => &["-l", "-b", "-C", "-n", "-a", "-t"],
        "chmod" | "chown" | "chgrp" => &["--reference"],
        "patch" => &[
            "-i",
            "--input",
            "-o",
            "--output",
            "-r",
            "--reject-file",
            "-p",
            "--strip",
            "-d",
            "--directory",
            "-D",
            "-F",
            "-B",
            "-z",
            "-V",
            "-Y",
            "-g",
        ],
        _ => &[],
    }
}

/// The reads and writes of one simple command: its redirections, and the operands of the
/// commands whose operands are files (`cat`, `head` … read them; `tee`, `rm`, `mv`, `cp`'s
/// target, `touch`, `sed -i` … write them).
///
/// A folder the command is sent to by an option (`env -C dir`, `sudo -D dir`, `git -C dir`,
/// `make -C dir`, `npm --prefix dir`) moves its operands there, as `tar -C` does; the
/// redirections stay where the shell opens them. A program told to work in a folder reads what
/// is in it (its Makefile, package.json, repository): that folder is read whole, and so is the
/// folder such a program is started in when no option sends it elsewhere (`cd dir && make`).
pub fn file_use(cmd: &SimpleCommand) -> FileUse {
    if cmd.unread {
        let anywhere = vec![UNREAD_FOLDER.to_owned()];
        return FileUse {
            read_trees: anywhere.clone(),
            write_trees: anywhere,
            ..FileUse::default()
        };
    }
    // `sudo -u root rm x`, `xargs rm`: the command after the runner's options.
    let (words, by_package_runner) = past_runners(&cmd.words);
    let mut use_ = operand_use(cmd, words);
    wrapper_files(&cmd.words, &mut use_);
    let moved = moved_folder(&cmd.env, &cmd.words);
    if !moved.dir.is_empty() {
        for list in [
            &mut use_.reads,
            &mut use_.writes,
            &mut use_.read_trees,
            &mut use_.write_trees,
        ] {
            for path in list.iter_mut() {
                *path = super::cwd::in_folder(&moved.dir, path);
            }
        }
        for (folder, _) in &mut use_.reads_from_top {
            *folder = super::cwd::in_folder(&moved.dir, folder);
        }
        for git in &mut use_.git.paths {
            git.path = super::cwd::in_folder(&moved.dir, &git.path);
        }
    }
    // `make -C .`, `cmake -S . -B build` and `git --work-tree=. status` work where `make`
    // does: the folder it is in is judged as that, not as a folder it is sent to.
    for dir in moved.worked_in.into_iter().chain(moved.worked_on) {
        if is_its_own_folder(&dir) {
            use_.reads_its_folder = true;
        } else {
            use_.works_in.push(dir.clone());
            use_.read_trees.push(dir);
        }
    }
    use_.reads.extend(moved.rules_files);
    // `./configure`, `secrets/run.sh`: running a file by its path reads it, from where the
    // wrappers sent it (`env -C a ./run`), not the program's own options (`./gradlew -p a`).
    // `uv run x.py`, `bun run x.ts`: a package runner runs a script named so, from where its
    // own options sent it too (`uv run --directory a x.py` runs `a/x.py`).
    if let Some(path) = words
        .first()
        .filter(|w| is_run_by_path(w) || (by_package_runner && is_script_name(w)))
    {
        let from = if by_package_runner {
            &moved.dir
        } else {
            &moved.run_from
        };
        use_.reads.push(super::cwd::in_folder(from, path));
    }
    use_.reads.splice(0..0, cmd.redirect_in.iter().cloned());
    use_.writes.splice(0..0, cmd.redirect_out.iter().cloned());
    finish(&mut use_);
    use_
}

/// Whether a folder a program is sent to, from where it was started, is that folder itself
/// (`""`, `.`, `./`).
fn is_its_own_folder(dir: &str) -> bool {
    matches!(dir.trim_end_matches('/'), "" | ".")
}

/// Options by which a command is sent to another folder: of a wrapper or runner, which moves
/// the command it runs; of a program, which works there. For each: its name, those options
/// (a long one also as `--name=dir`, a short one also as `-Cdir`), and whether they end at its
/// first operand (`git -C dir commit -C <commit>`: the second names a commit).
const FOLDER_OPTIONS: &[(&str, &[&str], bool)] = &[
    ("env", &["-C", "--chdir"], true),
    ("sudo", &["-D", "--chdir"], true),
    ("run0", &["-D", "--chdir"], true),
    ("git", &["-C"], true),
    ("go", &["-C"], true),
    ("make", &["-C", "--directory"], false),
    ("gmake", &["-C", "--directory"], false),
    ("npm", &["-C", "--prefix"], false),
    ("pnpm", &["-C", "--dir"], false),
    ("yarn", &["--cwd"], false),
    ("uv", &["--directory", "--project"], false),
    ("just", &["-d", "--working-directory"], false),
    ("ninja", &["-C"], false),
    ("terraform", &["-chdir"], true),
    ("tofu", &["-chdir"], true),
    ("gradle", &["-p", "--project-dir"], false),
    ("gradlew", &["-p", "--project-dir"], false),
    ("poetry", &["-C", "--directory", "-P", "--project"], false),
    ("bun", &["--cwd"], false),
];

/// Options by which a program names another folder it works on, read whole as the folder of a
/// folder option is, that leave its operands where they are (git takes its paths from where it
/// runs, not from `--work-tree`): git's repository and work tree, cmake's source and build
/// folders, compose's project folder. For each: its name (`docker-compose` for `docker
/// compose` too), those options, its other options that take a value, and whether they end at
/// its first operand.
const WORKED_ON_OPTIONS: &[(&str, &[&str], &[&str], bool)] = &[
    ("git", &["--git-dir", "--work-tree"], &["-c", "-C"], true),
    ("cmake", &["-S", "-B", "--build", "--install"], &[], false),
    ("docker-compose", &["--project-directory"], &[], false),
];

/// Options by which a program is told which file to take its rules from, which it reads (`make
/// -f secrets/Makefile`), from where its folder options sent it. For each: its name
/// (`docker-compose` for `docker compose` too), those options, its other options that take a
/// value, and whether they end at its first operand (`docker compose exec web tail -f log`).
const RULES_FILE_OPTIONS: &[(&str, &[&str], &[&str], bool)] = &[
    (
        "make",
        &["-f", "--file", "--makefile"],
        &["-C", "--directory"],
        false,
    ),
    (
        "gmake",
        &["-f", "--file", "--makefile"],
        &["-C", "--directory"],
        false,
    ),
    (
        "just",
        &["-f", "--justfile"],
        &["-d", "--working-directory"],
        true,
    ),
    (
        "docker-compose",
        &["-f", "--file"],
        &["--project-directory", "-p"],
        true,
    ),
];

/// Where a command's options send it ([`FOLDER_OPTIONS`]).
#[derive(Debug, Default)]
struct Moved {
    /// The folder its operands are taken from (`""`: where it was started).
    dir: String,
    /// The folder a program that works in one works in (`make -C dir`, the folder of `cargo
    /// --manifest-path dir/Cargo.toml`, `env -C dir make`), from where it was started: `""`
    /// where it was started (`make`, `cd dir && make`).
    worked_in: Option<String>,
    /// Other folders it works on ([`WORKED_ON_OPTIONS`]), from where it was started.
    worked_on: Vec<String>,
    /// The files it takes its rules from ([`RULES_FILE_OPTIONS`]), and those `xargs -a` takes
    /// its input from, from where it was started.
    rules_files: Vec<String>,
    /// Where its wrappers and runners sent the program, before its own options: where a path
    /// it is run by is taken from (`env -C a ./run`).
    run_from: String,
}

/// The folder options of a command's wrappers, runners and program, in turn: `env -C a sudo
/// -D b make -C c` makes `a/b/c`; `env` holds the `NAME=value` words before the command.
fn moved_folder(env: &[String], words: &[String]) -> Moved {
    let mut moved = Moved::default();
    let mut env = env.to_vec();
    let mut rest = words;
    for _ in 0..16 {
        let Some(first) = rest.first() else {
            return moved;
        };
        let name = basename(first);
        let name: &str = &name;
        let runs = WRAPPERS.iter().chain(RUNNERS).find(|(n, _)| *n == name);
        let end = match runs {
            Some((_, valued)) => {
                past_options(rest, valued, matches!(name, "env" | "sudo" | "doas"))
            }
            None => rest.len(),
        };
        let end = end.min(rest.len());
        if runs.is_none() {
            moved.run_from.clone_from(&moved.dir);
        }
        if let Some((_, options, first_only)) = FOLDER_OPTIONS.iter().find(|(n, ..)| *n == name) {
            // `git -c key=value -C dir`: a value is no operand.
            let own: &[&str] = if name == "git" {
                &["-c", "--git-dir", "--work-tree"]
            } else {
                &[]
            };
            let valued = runs.map_or(own, |(_, v)| *v);
            for dir in folder_values(&rest[1..end], options, valued, *first_only) {
                moved.dir = super::cwd::in_folder(&moved.dir, &dir);
                if runs.is_none() {
                    moved.worked_in = Some(moved.dir.clone());
                }
            }
        }
        if name == "cargo" {
            let manifest = folder_values(&rest[1..], &["--manifest-path"], &[], false);
            // The crate is the manifest's folder, read whole as it is built.
            if let Some(path) = manifest.last() {
                let crate_dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
                moved.worked_in = Some(super::cwd::in_folder(&moved.dir, crate_dir));
            }
        }
        if runs.is_none() {
            program_folders(&mut moved, rest);
            git_env_folders(&mut moved, &env, rest);
            return moved;
        }
        // `env GIT_DIR=x git log`, `sudo A=1 cmd`.
        env.extend(rest[1..end].iter().filter(|w| is_assignment(w)).cloned());
        if name == "xargs" {
            // `xargs -a file`: its input, read.
            let valued = runs.map_or(&[][..], |(_, v)| *v);
            for file in folder_values(&rest[1..end], &["-a", "--arg-file"], valued, true) {
                moved
                    .rules_files
                    .push(super::cwd::in_folder(&moved.dir, &file));
            }
        }
        // `timeout 60 cmd`: the duration.
        let end = end + wrapper_operands(name);
        rest = &rest[end.min(rest.len())..];
    }
    moved
}

/// The folders a program (`words`, past its runners) works on besides those its folder options
/// send it to: those its other options name ([`WORKED_ON_OPTIONS`]), and, for a program that
/// has folder options, where it was started when none sends it anywhere.
fn program_folders(moved: &mut Moved, words: &[String]) {
    let Some(first) = words.first() else {
        return;
    };
    let program = basename(first);
    let (name, args) = match &*program {
        "docker" if words.get(1).is_some_and(|w| w == "compose") => ("docker-compose", &words[2..]),
        name => (name, &words[1..]),
    };
    if let Some((_, options, valued, first_only)) =
        WORKED_ON_OPTIONS.iter().find(|(n, ..)| *n == name)
    {
        for dir in folder_values(args, options, valued, *first_only) {
            moved
                .worked_on
                .push(super::cwd::in_folder(&moved.dir, &dir));
        }
    }
    if let Some((_, options, valued, first_only)) =
        RULES_FILE_OPTIONS.iter().find(|(n, ..)| *n == name)
    {
        for file in folder_values(args, options, valued, *first_only) {
            moved
                .rules_files
                .push(super::cwd::in_folder(&moved.dir, &file));
        }
    }
    if name == "cmake" {
        cmake_source(moved, args);
    }
    if name == "docker" {
        docker_build(moved, args);
    }
    let works_in_one = FOLDER_OPTIONS.iter().any(|(n, ..)| *n == name)
        || WORKED_ON_OPTIONS.iter().any(|(n, ..)| *n == name)
        || name == "cargo";
    if works_in_one && moved.worked_in.is_none() {
        moved.worked_in = Some(moved.dir.clone());
    }
}

/// The repository and work tree git is given by its environment (`GIT_DIR=secrets/.git git
/// log`, `env GIT_WORK_TREE=secrets git status`), read whole as `--git-dir` and `--work-tree`
/// are.
fn git_env_folders(moved: &mut Moved, env: &[String], words: &[String]) {
    if words.first().is_none_or(|w| basename(w) != "git") {
        return;
    }
    for assignment in env {
        if let Some((name, dir)) = assignment.split_once('=')
            && matches!(name, "GIT_DIR" | "GIT_WORK_TREE")
            && !dir.is_empty()
        {
            moved.worked_on.push(super::cwd::in_folder(&moved.dir, dir));
        }
    }
}

/// cmake's options that take a value, besides its folder options.
const CMAKE_VALUED: &[&str] = &[
    "-G",
    "-T",
    "-A",
    "-C",
    "-D",
    "-U",
    "--preset",
    "--toolchain",
];

/// `cmake dir` (after `cmake`): a folder operand is the source folder (or a build folder made
/// from one), worked on whole as `-S dir` is; not in its modes that run something else (`-E`,
/// `-P`, `--build`, `--install`).
fn cmake_source(moved: &mut Moved, args: &[String]) {
    let mut rest = args.iter();
    let mut operands = Vec::new();
    while let Some(w) = rest.next() {
        if matches!(
            w.as_str(),
            "-E" | "-P" | "--build" | "--install" | "--help" | "--version"
        ) {
            return;
        }
        if CMAKE_VALUED.contains(&w.as_str()) || matches!(w.as_str(), "-S" | "-B") {
            rest.next();
        } else if !w.starts_with('-') {
            operands.push(super::cwd::in_folder(&moved.dir, w));
        }
    }
    moved.worked_on.extend(operands);
}

/// docker's options before its command that take a value: `--context` names a daemon's
/// context, no folder.
const DOCKER_VALUED: &[&str] = &[
    "-c",
    "--context",
    "-H",
    "--host",
    "-l",
    "--log-level",
    "--config",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
];

/// `docker build` options that take a value (besides `-f`).
const DOCKER_BUILD_VALUED: &[&str] = &[
    "-t",
    "--tag",
    "--build-arg",
    "--build-context",
    "--target",
    "--platform",
    "--label",
    "--network",
    "--secret",
    "--ssh",
    "--cache-from",
    "--cache-to",
    "-o",
    "--output",
    "--progress",
    "--iidfile",
    "--metadata-file",
    "--add-host",
    "--shm-size",
    "-m",
    "--memory",
    "--ulimit",
    "--builder",
    "--allow",
    "--annotation",
    "--attest",
    "--cgroup-parent",
    "--cpu-shares",
    "--isolation",
    "--sbom",
    "--provenance",
];

/// `docker build dir` (also `docker buildx build`, `docker image build`; `args` after
/// `docker`): the build context is sent to the builder whole, worked on as `make -C dir`'s
/// folder is (`docker build .` as `make`), and its Dockerfile (`-f`) is the file it takes its
/// rules from. A context that is a URL or stdin (`-`) is no folder here.
fn docker_build(moved: &mut Moved, args: &[String]) {
    let mut rest = args.iter();
    let mut command = Vec::new();
    while let Some(w) = rest.next() {
        if DOCKER_VALUED.contains(&w.as_str()) {
            rest.next();
        } else if !w.starts_with('-') {
            command.push(w.as_str());
            if !matches!(w.as_str(), "buildx" | "image" | "builder") {
                break;
            }
        }
    }
    if !matches!(command.last(), Some(&"build")) {
        return;
    }
    let mut context = None;
    let mut files = Vec::new();
    while let Some(w) = rest.next() {
        if matches!(w.as_str(), "-f" | "--file") {
            files.extend(rest.next().cloned());
        } else if let Some(file) = w.strip_prefix("--file=") {
            files.push(file.to_owned());
        } else if DOCKER_BUILD_VALUED.contains(&w.as_str()) {
            rest.next();
        } else if !w.starts_with('-') && context.is_none() {
            context = Some(w.clone());
        }
    }
    let at = |p: &str| super::cwd::in_folder(&moved.dir, p);
    let files: Vec<String> = files.iter().filter(|f| *f != "-").map(|f| at(f)).collect();
    moved.rules_files.extend(files);
    if let Some(dir) = context.filter(|c| c != "-" && !c.contains("://") && !c.starts_with("git@"))
    {
        moved.worked_on.push(at(&dir));
    }
}

/// The values of `options` among a command's words (after its name), in order; `valued` names
/// its other options that take a value, which is skipped.
fn folder_values(
    words: &[String],
    options: &[&str],
    valued: &[&str],
    first_only: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(w) = words.get(i) {
        i += 1;
        if w == "--" || (first_only && !w.starts_with('-')) {
            break;
        }
        if options.contains(&w.as_str()) {
            out.extend(words.get(i).cloned());
            i += 1;
        } else if let Some(value) = options.iter().find_map(|o| {
            let rest = w.strip_prefix(o)?;
            // `--directory=dir`, terraform's `-chdir=dir`; `-Cdir`.
            if o.len() > 2 {
                rest.strip_prefix('=')
            } else {
                Some(rest).filter(|r| !r.is_empty())
            }
        }) {
            out.push(value.to_owned());
        } else if valued.contains(&w.as_str()) {
            i += 1;
        }
    }
    out
}

/// What a command's words say it reads and writes ([`file_use`] without its redirections and
/// folder options).
fn operand_use(cmd: &SimpleCommand, words: &[String]) -> FileUse {
    let mut use_ = FileUse::default();
    let Some(first) = words.first() else {
        return use_;
    };
    let name = basename(first);
    let name: &str = &name;
    let valued = valued_options(name);
    let mut operands: Vec<&str> = Vec::new();
    let mut options: Vec<&str> = Vec::new();
    let mut i = 1;
    let mut ended = false;
    while let Some(w) = words.get(i) {
        i += 1;
        if !ended && w == "--" {
            ended = true;
        } else if !ended && w.starts_with('-') && w.len() > 1 {
            options.push(w);
            if valued.contains(&w.as_str())
                && let Some(value) = words.get(i)
            {
                i += 1;
                match (name, w.as_str()) {
                    ("sort", "-o") | ("cp" | "mv" | "install" | "ln", "-t") => {
                        use_.writes.push(value.clone());
                    }
                    ("grep" | "egrep" | "fgrep" | "rg" | "sed" | "awk", "-f") => {
                        use_.reads.push(value.clone());
                    }
                    _ => {}
                }
            }
        } else {
            operands.push(w);
        }
    }
    let has_script_option = options
        .iter()
        .any(|o| matches!(*o, "-e" | "-f" | "--regexp" | "--file"));
    let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    // `-r`, `-R`, `-rf`, `--recursive`: the command goes through the folders it names.
    let short = |letters: &[char]| {
        options
            .iter()
            .any(|o| short_letters(o).is_some_and(|l| l.contains(letters)))
    };
    let long = |names: &[&str]| options.iter().any(|o| names.contains(o));
    let recursive = short(&['r', 'R']) || long(&["--recursive"]);
    option_files(name, &words[1..], &mut use_);
    if matches!(name, "curl" | "wget") {
        use_.reads.extend(file_url_paths(words[1..].iter()));
    }
    if script_use(name, &words[1..], &mut use_) {
        finish(&mut use_);
        return use_;
    }
    match name {
        "git" => {
            // What git reads on its stdin is named there when the line spells it.
            let stdin = match (&cmd.fed, cmd.redirect_in.as_slice()) {
                // A text holding values the line does not spell may be any diff.
                (Some(_), _) if cmd.fed_unspelt => super::git::Stdin::Unknown,
                (Some(text), _) => super::git::Stdin::Text(text),
                (None, [file]) if !cmd.piped_in => super::git::Stdin::File(file),
                _ => super::git::Stdin::Unknown,
            };
            super::git::git_use(&words[1..], stdin, &mut use_);
            // `GIT_CONFIG_PARAMETERS=… git`, `env GIT_CONFIG_KEY_0=… git`: its settings.
            let before_git = cmd.words.iter().take_while(|w| basename(w) != "git");
            let set = cmd
                .env
                .iter()
                .chain(before_git.filter(|w| is_assignment(w)));
            super::git::config_files(set, &words[1..], &mut use_);
        }
        // Codex's patch: each file it adds, updates, deletes or moves to.
        "apply_patch" | "applypatch" => {
            let patches = operands.first().copied().into_iter();
            for patch in patches.chain(cmd.patches.iter().map(String::as_str)) {
                use_.writes.extend(crate::model::tools::patch_paths(patch));
            }
        }
        // `parallel cat :::: list` reads the list; the commands it runs are read as a line
        // (see nested_line).
        "parallel" => {
            let lists = words.iter().skip_while(|w| *w != "::::").skip(1);
            use_.reads
                .extend(lists.take_while(|w| !w.starts_with(":::")).cloned());
        }
        _ => {}
    }
    match name {
        "tar" | "bsdtar" | "gtar" => {
            tar_use(&words[1..], &mut use_);
            finish(&mut use_);
            return use_;
        }
        "find" => {
            find_use(&words[1..], &mut use_);
            finish(&mut use_);
            return use_;
        }
        _ => {}
    }
    match name {
        "diff" if recursive => use_.read_trees.extend(owned(&operands)),
        "cat" | "tac" | "head" | "tail" | "less" | "more" | "bat" | "batcat" | "nl" | "wc"
        | "sort" | "uniq" | "diff" | "cmp" | "strings" | "xxd" | "od" | "hexdump" | "base64"
        | "md5sum" | "sha1sum" | "sha256sum" | "sha512sum" | "file" | "stat" | "cut" | "paste"
        | "source" | "." | "view" | "vim" | "vi" | "nano" | "emacs" | "rev" | "fold" | "fmt"
        | "expand" | "unexpand" | "column" | "pr" | "comm" | "join" | "shuf" | "iconv" | "zcat"
        | "bzcat" | "xzcat" | "zstdcat" | "zless" | "zmore" | "base32" | "basenc" | "cksum"
        | "b2sum" | "sum" | "sha224sum" | "sha384sum" | "diff3" | "sdiff" => {
            use_.reads.extend(owned(&operands));
        }
        // The file it splits, not the prefix of the pieces it writes.
        "split" | "csplit" => use_.reads.extend(owned(&operands[..operands.len().min(1)])),
        "grep" | "egrep" | "fgrep" | "zgrep" | "rg" | "ag" | "awk" | "gawk" | "mawk" | "nawk"
        | "jq" | "yq" => {
            let skip = usize::from(!has_script_option);
            let mut files = owned(operands.get(skip..).unwrap_or(&[]));
            // A search that names no file goes through the working folder: `grep -r` always,
            // ripgrep and ag unless their input is a pipe or a file (then they read that).
            let recursive_grep = name.ends_with("grep")
                && (recursive || long(&["--directories=recurse", "--dereference-recursive"]));
            let stdin = cmd.piped_in || !cmd.redirect_in.is_empty();
            // `rg --files` lists names, as `ls -R` does; the others read nothing.
            let no_search = options.iter().any(|o| {
                matches!(
                    *o,
                    "--files" | "--type-list" | "--version" | "--help" | "-h" | "-V"
                )
            });
            if files.is_empty()
                && (recursive_grep || (matches!(name, "rg" | "ag") && !stdin && !no_search))
            {
                files.push(".".to_owned());
            }
            if matches!(name, "rg" | "ag") {
                // Always recursive; hidden files only with `--hidden`, rg's `-uu` or `-.`, ag's
                // `-u`.
                let u = options
                    .iter()
                    .filter_map(|o| short_letters(o))
                    .map(|l| l.matches('u').count())
                    .sum::<usize>()
                    + options.iter().filter(|o| **o == "--unrestricted").count();
                let hidden = long(&["--hidden"])
                    || options
                        .iter()
                        .any(|o| !o.starts_with("--") && o.contains('.'))
                    || u >= if name == "ag" { 1 } else { 2 };
                use_.skips_hidden = !hidden;
                use_.read_trees.extend(files);
            } else if recursive_grep {
                use_.read_trees.extend(files);
            } else {
                use_.reads.extend(files);
            }
        }
        "sed" => {
            let skip = usize::from(!has_script_option);
            let files = owned(operands.get(skip..).unwrap_or(&[]));
            if options
                .iter()
                .any(|o| o.starts_with("-i") || o.starts_with("--in-place"))
            {
                use_.writes.extend(files);
            } else {
                use_.reads.extend(files);
            }
        }
        // A folder moved or removed whole takes everything in it.
        "rm" if recursive => use_.write_trees.extend(owned(&operands)),
        "mv" => match operands.split_last() {
            // A source may be a folder, which mv puts whole into the target, or makes the
            // target.
            Some((target, sources)) if !sources.is_empty() => {
                use_.writes
                    .extend(sources.iter().map(|s| into_folder(target, s)));
                use_.write_trees.extend(owned(&operands));
            }
            _ => use_.write_trees.extend(owned(&operands)),
        },
        "tee" | "rm" | "rmdir" | "unlink" | "shred" | "touch" | "mkdir" | "truncate" => {
            use_.writes.extend(owned(&operands));
        }
        "patch" => super::patch::patch_use(cmd, &words[1..], &mut use_),
        "cp" | "install" | "ln" | "rsync" | "scp" => {
            // A remote side (`host:path`) is no file here.
            let local: Vec<&str> = operands
                .iter()
                .copied()
                .filter(|o| !(matches!(name, "rsync" | "scp") && is_remote(o)))
                .collect();
            let whole = match name {
                "cp" => short(&['r', 'R', 'a']) || long(&["--recursive", "--archive"]),
                "scp" => short(&['r']),
                // rsync goes through folders with `-r` or `-a`, and lists them without: taken
                // as going through.
                "rsync" => true,
                _ => false,
            };
            let (target, sources) = match operands.split_last() {
                Some((target, _)) if is_remote(target) && name != "cp" => (None, &local[..]),
                Some(_) => match local.split_last() {
                    Some((target, sources)) => (Some(*target), sources),
                    None => (None, &local[..]),
                },
                None => (None, &local[..]),
            };
            let (reads, writes) = if whole {
                (&mut use_.read_trees, &mut use_.write_trees)
            } else {
                (&mut use_.reads, &mut use_.writes)
            };
            reads.extend(owned(sources));
            writes.extend(target.map(str::to_owned));
            // Into a folder, each source is written as its name there (`cp k.pem secrets/`).
            if let Some(target) = target
                && !whole
            {
                let named = sources.iter().map(|s| into_folder(target, s));
                use_.writes.extend(named);
            }
        }
        "chmod" | "chown" | "chgrp" => {
            let files = owned(operands.get(1..).unwrap_or(&[]));
            if short(&['R']) || long(&["--recursive"]) {
                use_.write_trees.extend(files);
            } else {
                use_.writes.extend(files);
            }
        }
        "zip" => {
            if let Some((archive, files)) = operands.split_first() {
                use_.writes.push((*archive).to_owned());
                if recursive {
                    use_.read_trees.extend(owned(files));
                } else {
                    use_.reads.extend(owned(files));
                }
            }
        }
        "7z" | "7za" | "7zz" | "7zr" => {
            if let [mode, archive, files @ ..] = operands.as_slice()
                && matches!(*mode, "a" | "u")
            {
                use_.writes.push((*archive).to_owned());
                use_.read_trees.extend(owned(files));
            }
        }
        "dd" => {
            for w in &words[1..] {
                if let Some(path) = w.strip_prefix("if=") {
                    use_.reads.push(path.to_owned());
                } else if let Some(path) = w.strip_prefix("of=") {
                    use_.writes.push(path.to_owned());
                }
            }
        }
        _ => {}
    }
    finish(&mut use_);
    use_
}

/// What a program does with the file an option of its names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OptionFile {
    /// Reads it.
    Reads,
    /// Reads it when the value names it after an `@` or `<` (`-d @file`, `-F name=@file`,
    /// `--data-urlencode name@file`); other values are text.
    ReadsAfterAt,
    /// Writes it.
    Writes,
}

/// Options whose value names a file the program reads or writes: curl's uploads and outputs,
/// wget's.
const FILE_OPTIONS: &[(&str, &[&str], OptionFile)] = &[
    (
        "curl",
        &[
            "-d",
            "--data",
            "--data-ascii",
            "--data-binary",
            "--data-urlencode",
            "--json",
            "-F",
            "--form",
        ],
        OptionFile::ReadsAfterAt,
    ),
    (
        "curl",
        &["-T", "--upload-file", "-K", "--config"],
        OptionFile::Reads,
    ),
    (
        "curl",
        &[
            "-o",
            "--output",
            "-D",
            "--dump-header",
            "-c",
            "--cookie-jar",
            "--trace",
            "--trace-ascii",
        ],
        OptionFile::Writes,
    ),
    (
        "wget",
        &["--post-file", "--body-file", "-i", "--input-file"],
        OptionFile::Reads,
    ),
    (
        "wget",
        &[
            "-O",
            "--output-document",
            "-o",
            "--output-file",
            "-a",
            "--append-output",
        ],
        OptionFile::Writes,
    ),
    // Every openssl subcommand reads `-in` and writes `-out`; keys and certificates are read.
    (
        "openssl",
        &[
            "-in",
            "-inkey",
            "-key",
            "-cert",
            "-certfile",
            "-CAfile",
            "-signkey",
            "-kfile",
            "-infiles",
        ],
        OptionFile::Reads,
    ),
    ("openssl", &["-out", "-keyout"], OptionFile::Writes),
    // `ssh-keygen -f k -y` reads the key; `ssh-keygen -t ed25519 -f k` writes it.
    ("ssh-keygen", &["-f"], OptionFile::Reads),
    ("ssh-keygen", &["-f"], OptionFile::Writes),
    // The tracers write their trace where `-o` says (they are wrappers: see wrapper_files).
    ("strace", &["-o", "--output"], OptionFile::Writes),
    ("ltrace", &["-o", "--output"], OptionFile::Writes),
];

/// The short options of curl and wget that take a value, so that a cluster is read as they
/// read it: `-sSLo out` is `-s -S -L -o out`, and the value of the first such letter is the
/// rest of the cluster or the next word (`-Ho` is a header `o`, no output).
fn valued_letters(name: &str) -> &'static str {
    match name {
        "curl" => "AbcCdDeEFHKmoPQrtTuUwxXyYz",
        "wget" => "aABDeiIloOPQRtTUwX",
        _ => "",
    }
}

/// The files a program's options name ([`FILE_OPTIONS`]): `curl -d @secrets/k https://x`
/// reads `secrets/k`; the value is the next word, or in the word (`-d@file`, `--post-file=file`).
fn option_files(name: &str, args: &[String], use_: &mut FileUse) {
    let tables: Vec<_> = FILE_OPTIONS.iter().filter(|(n, ..)| *n == name).collect();
    if tables.is_empty() {
        return;
    }
    let mut rest = args.iter();
    while let Some(w) = rest.next() {
        if w == "--" {
            break;
        }
        let w = &unclustered_option(name, w);
        for (_, options, does) in &tables {
            let value = options.iter().find_map(|o| {
                if w == o {
                    return Some(rest.clone().next().cloned());
                }
                // Only `-X` and `--name=` take their value in the word: openssl's `-inkey`
                // is no `-in` of `key`.
                let inline = w.strip_prefix(o)?;
                let inline = if o.starts_with("--") {
                    inline.strip_prefix('=')?
                } else if o.len() == 2 {
                    inline
                } else {
                    return None;
                };
                (!inline.is_empty()).then(|| Some(inline.to_owned()))
            });
            let Some(Some(value)) = value else {
                continue;
            };
            match does {
                OptionFile::Reads => use_.reads.push(value),
                OptionFile::Writes => use_.writes.push(value),
                OptionFile::ReadsAfterAt => use_.reads.extend(after_at(&value)),
            }
        }
    }
}

/// A short option cluster of curl or wget from its letter that takes a value: `-sSLo` is `-o`
/// (its value the next word), `-fsSLoout` is `-oout`. Any other word is itself.
fn unclustered_option(name: &str, word: &str) -> String {
    let valued = valued_letters(name);
    let Some(letters) = short_letters(word).filter(|_| !valued.is_empty()) else {
        return word.to_owned();
    };
    match letters.char_indices().find(|(_, c)| valued.contains(*c)) {
        Some((at, _)) => format!("-{}", &letters[at..]),
        None => word.to_owned(),
    }
}

/// The local files a `file://` URL names (`curl file:///p/secrets/k` reads `/p/secrets/k`;
/// `file://localhost/x` is `/x`); another host's is none.
fn file_url_paths<'a>(words: impl Iterator<Item = &'a String>) -> Vec<String> {
    words
        .filter_map(|w| {
            let rest = w
                .get(..7)?
                .eq_ignore_ascii_case("file://")
                .then(|| &w[7..])?;
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            path.starts_with('/').then(|| path.to_owned())
        })
        .collect()
}

/// The file a curl value names after `@` or `<` (`@file`, `name=@file;type=text/plain`,
/// `name@file`), where what comes before is a name, not text (`a=b@c`).
fn after_at(value: &str) -> Option<String> {
    let at = value.find(['@', '<'])?;
    let name = value[..at].strip_suffix('=').unwrap_or(&value[..at]);
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']'))
    {
        return None;
    }
    let file = value[at + 1..].split(';').next().unwrap_or_default();
    (!file.is_empty() && file != "-").then(|| file.to_owned())
}

/// Whether a command word names the file it runs by a path from the folder it is in
/// (`./configure`, `secrets/run.sh`, `../x/run`): a shell reads that file to run it. A path
/// from `/`, `~` or a variable names a program installed elsewhere (`/usr/bin/python3`), which
/// no policy of the project's files is about.
fn is_run_by_path(word: &str) -> bool {
    word.contains('/') && !word.starts_with(['/', '~', '$'])
}

/// How an interpreter takes its script: its options whose value is code to run instead of a
/// script (`python -c`, `node -e`), the option naming a module to run instead (`python -m`),
/// its other options that take a value, and those whose value is a file it reads first
/// (`bash --rcfile`).
struct Interpreter {
    code: &'static [&'static str],
    module: Option<&'static str>,
    valued: &'static [&'static str],
    reads: &'static [&'static str],
    /// Perl's and ruby's `-n` and `-p` run the code over the lines of the files that follow it,
    /// and `-i` rewrites them.
    loops: bool,
}

/// The interpreter a program's name is, if it runs a script named as its first operand.
fn interpreter(name: &str) -> Option<Interpreter> {
    let python = name
        .strip_prefix("python")
        .or_else(|| name.strip_prefix("pypy"))
        .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'));
    let it = match name {
        _ if python => Interpreter {
            code: &["-c"],
            module: Some("-m"),
            valued: &["-W", "-X", "-Q"],
            reads: &[],
            loops: false,
        },
        "node" | "nodejs" | "tsx" | "ts-node" => Interpreter {
            code: &["-e", "--eval", "-p", "--print"],
            module: None,
            valued: &[
                "-r",
                "--require",
                "--import",
                "--loader",
                "--experimental-loader",
                "-C",
                "--conditions",
                "--title",
                "--input-type",
            ],
            reads: &[],
            loops: false,
        },
        "ruby" => Interpreter {
            code: &["-e"],
            module: None,
            valued: &["-r", "-I", "-C", "-E"],
            reads: &[],
            loops: true,
        },
        "perl" => Interpreter {
            code: &["-e", "-E"],
            module: None,
            valued: &["-I"],
            reads: &[],
            loops: true,
        },
        "php" => Interpreter {
            code: &["-r"],
            module: None,
            valued: &["-c", "-d", "-z", "-S", "-t"],
            reads: &["-f"],
            loops: false,
        },
        "lua" | "luajit" => Interpreter {
            code: &["-e"],
            module: None,
            valued: &["-l", "-j", "-O", "-b"],
            reads: &[],
            loops: false,
        },
        "Rscript" => Interpreter {
            code: &["-e"],
            module: None,
            valued: &[],
            reads: &[],
            loops: false,
        },
        "julia" => Interpreter {
            code: &["-e", "-E", "--eval", "--print"],
            module: None,
            valued: &[
                "-J",
                "-t",
                "-p",
                "-C",
                "-O",
                "--sysimage",
                "--threads",
                "--procs",
            ],
            reads: &["-L", "--load"],
            loops: false,
        },
        _ if SHELLS.contains(&name) => Interpreter {
            code: &[],
            module: None,
            valued: &["-o", "-O", "+o", "+O"],
            reads: &["--rcfile", "--init-file"],
            loops: false,
        },
        _ => return None,
    };
    Some(it)
}

/// What a script runner reads: an interpreter its script (`sh secrets/x.sh`, `python x.py`,
/// `node x.js`, not `python -c 'code'` nor `sh -c '…'`, whose line is read as commands) and
/// the files its options name; a test runner (`pytest`, `python -m pytest`) the tests it is
/// given, or the folder it is in, where it collects them. False for a program that is neither.
fn script_use(name: &str, args: &[String], use_: &mut FileUse) -> bool {
    if matches!(name, "pytest" | "py.test") {
        test_runner_use(args, use_);
        return true;
    }
    let Some(it) = interpreter(name) else {
        return false;
    };
    let shell = SHELLS.contains(&name);
    let args = if shell {
        args.to_vec()
    } else {
        unclustered(&it, args)
    };
    let mut rest = args.iter();
    while let Some(w) = rest.next() {
        if w == "--" {
            use_.reads.extend(rest.next().cloned());
            return true;
        }
        let option = w.len() > 1 && (w.starts_with('-') || (shell && w.starts_with('+')));
        if !option {
            // The script; what follows is its own arguments.
            use_.reads.push(w.clone());
            return true;
        }
        let named = w.split_once('=').map_or(w.as_str(), |(o, _)| o);
        if it.code.contains(&named) {
            // `perl -ne 'print' secrets/k`: the files after the code.
            if it.loops {
                looped_files(
                    &it,
                    rest.as_slice().get(1..).unwrap_or(&[]),
                    false,
                    false,
                    use_,
                );
            }
            return true;
        }
        if it.loops && matches!(w.as_str(), "-n" | "-p" | "-i") {
            looped_files(&it, rest.as_slice(), w != "-i", w == "-i", use_);
            return true;
        }
        // `bash -c '…'`, `sh -ec '…'`: a line, read as commands; `bash -s`: stdin.
        if shell && short_letters(w).is_some_and(|l| l.contains(['c', 's'])) {
            return true;
        }
        if let Some(module) = it.module
            && let Some(inline) = w.strip_prefix(module)
        {
            let name = if inline.is_empty() {
                rest.next().map(String::as_str)
            } else {
                Some(inline)
            };
            if name == Some("pytest") {
                test_runner_use(rest.as_slice(), use_);
            }
            return true;
        }
        if it.reads.contains(&w.as_str()) {
            use_.reads.extend(rest.next().cloned());
        } else if it.valued.contains(&w.as_str()) {
            rest.next();
        }
    }
    true
}

/// An interpreter's words with each cluster of short options (`-uc`, `-ne`, `-lane`,
/// `-Wignore`) written as its options one by one, an option's value in a cluster (`-Wignore`,
/// `-ccode`) as the word after it; the suffix of perl's and ruby's `-i.bak` is dropped. Words
/// after `--` stay as they are.
fn unclustered(it: &Interpreter, args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut words = args.iter();
    for w in words.by_ref() {
        if w == "--" {
            out.push(w.clone());
            break;
        }
        let Some(letters) = short_letters(w).filter(|l| l.len() > 1 && !l.contains('=')) else {
            out.push(w.clone());
            continue;
        };
        let mut chars = letters.char_indices().peekable();
        while let Some((at, letter)) = chars.next() {
            let option = format!("-{letter}");
            let takes_rest = it.code.contains(&option.as_str())
                || it.module == Some(option.as_str())
                || it.valued.contains(&option.as_str());
            // Perl's and ruby's options whose value is only ever in the cluster (`-F:`,
            // `-Mstrict`, `-CSD`), and `-i`'s backup suffix.
            let inline_only = it.loops && matches!(letter, 'i' | 'F' | 'M' | 'm' | 'x' | 'd' | 'D');
            out.push(option);
            let value = &letters[at + letter.len_utf8()..];
            if takes_rest || inline_only {
                if takes_rest && !value.is_empty() {
                    out.push(value.to_owned());
                }
                break;
            }
            // `-l012`, `-0777`: digits of the option's own.
            if it.loops && matches!(letter, 'l' | '0') {
                while chars.next_if(|(_, c)| c.is_ascii_digit()).is_some() {}
            }
        }
    }
    out.extend(words.cloned());
    out
}

/// The files perl's or ruby's code runs over (`-n`, `-p`: read) or rewrites (`-i`: read and
/// written): the operands in `rest`, past options (more code with `-e`, or `-n`, `-p`, `-i`);
/// with none of those the operands are the code's own arguments, no files.
fn looped_files(
    it: &Interpreter,
    rest: &[String],
    mut looped: bool,
    mut in_place: bool,
    use_: &mut FileUse,
) {
    let mut files = Vec::new();
    let mut words = rest.iter();
    while let Some(w) = words.next() {
        if w == "--" {
            files.extend(words.cloned());
            break;
        }
        if w.len() > 1 && w.starts_with('-') {
            looped |= matches!(w.as_str(), "-n" | "-p");
            in_place |= w == "-i";
            if it.code.contains(&w.as_str()) || it.valued.contains(&w.as_str()) {
                words.next();
            }
        } else {
            files.push(w.clone());
        }
    }
    if in_place {
        use_.writes.extend(files.iter().cloned());
    }
    if looped || in_place {
        use_.reads.extend(files);
    }
}

/// pytest's options that take a value.
const PYTEST_VALUED: &[&str] = &[
    "-k",
    "-m",
    "-p",
    "-c",
    "-o",
    "-W",
    "-n",
    "--deselect",
    "--ignore",
    "--ignore-glob",
    "--rootdir",
    "--basetemp",
    "--confcutdir",
    "--junitxml",
    "--junit-xml",
    "--maxfail",
    "--tb",
    "--durations",
    "--log-level",
    "--override-ini",
    "--config-file",
    "--import-mode",
    "--dist",
    "--numprocesses",
];

/// A test runner's words (after its name): each test file or folder it is given is read whole
/// (`tests/test_x.py::test_a` is the file); given none, it collects the tests of the folder it
/// is in, which it reads as `make` reads its folder. The files its options name are read
/// (its configuration, `-c`), read whole (its root folder, `--rootdir`) or written (its
/// report, `--junitxml`; its temporary folder, `--basetemp`, which it empties first).
fn test_runner_use(args: &[String], use_: &mut FileUse) {
    let mut operands = Vec::new();
    let mut rest = args.iter();
    let mut ended = false;
    while let Some(w) = rest.next() {
        if !ended && w == "--" {
            ended = true;
        } else if !ended && w.starts_with('-') && w.len() > 1 {
            let (option, inline) = match w.split_once('=') {
                Some((o, v)) if o.starts_with("--") => (o, Some(v.to_owned())),
                _ => (w.as_str(), None),
            };
            if !PYTEST_VALUED.contains(&option) {
                continue;
            }
            let Some(value) = inline.or_else(|| rest.next().cloned()) else {
                break;
            };
            match option {
                "-c" | "--config-file" => use_.reads.push(value),
                // Its own folder is the one it collects from anyway (judged as `make` there).
                "--rootdir" if is_its_own_folder(&value) => {}
                "--rootdir" => {
                    use_.works_in.push(value.clone());
                    use_.read_trees.push(value);
                }
                "--junitxml" | "--junit-xml" => use_.writes.push(value),
                "--basetemp" => use_.write_trees.push(value),
                _ => {}
            }
        } else {
            operands.push(w.split("::").next().unwrap_or(w).to_owned());
        }
    }
    use_.reads_its_folder = operands.is_empty();
    use_.read_trees.extend(operands);
}

/// Drops what names no file.
fn finish(use_: &mut FileUse) {
    for list in [
        &mut use_.reads,
        &mut use_.writes,
        &mut use_.read_trees,
        &mut use_.write_trees,
    ] {
        list.retain(|p| is_file(p));
    }
    use_.reads_from_top.retain(|(_, p)| is_file(p));
    use_.git.paths.retain(|p| is_file(&p.path));
}

/// The letters of a short option cluster (`-rf` → `rf`, `-uu` → `uu`); `None` for a long
/// option or a word that is no option.
pub(crate) fn short_letters(word: &str) -> Option<&str> {
    let letters = word.strip_prefix('-')?;
    (!letters.starts_with('-') && !letters.is_empty()).then_some(letters)
}

/// Where `source` lands when it is put into the folder `target`: `secrets/key.pem` for
/// `/tmp/key.pem` into `secrets/`.
fn into_folder(target: &str, source: &str) -> String {
    let name = last_part(source.trim_end_matches('/'));
    format!("{}/{name}", target.trim_end_matches('/'))
}

/// An operand of `scp` or `rsync` on another machine: `host:path`, `user@host:`, `host::module`
/// (a `:` before any `/`).
fn is_remote(operand: &str) -> bool {
    operand
        .split_once(':')
        .is_some_and(|(host, _)| !host.is_empty() && !host.contains('/'))
}

/// `tar`'s words (after `tar`): creating an archive (`c`, `r`, `u`; in a first word without a
/// dash too, `tar czf out.tgz secrets`) reads each operand whole, from the folder the `-C`
/// before it names, and writes the archive; listing or extracting reads the archive.
fn tar_use(words: &[String], use_: &mut FileUse) {
    let mut tar = Tar::default();
    let mut rest = words.iter();
    // The first word may be letters without a dash (`czf`).
    if let Some(first) = words.first()
        && !first.starts_with('-')
    {
        rest.next();
        tar.letters(first, &mut rest, use_);
    }
    let mut ended = false;
    while let Some(w) = rest.next() {
        if ended || !w.starts_with('-') || w == "-" {
            tar.files.push(super::cwd::in_folder(&tar.dir, w));
        } else if w == "--" {
            ended = true;
        } else if let Some(long) = w.strip_prefix("--") {
            let (key, inline) = match long.split_once('=') {
                Some((k, v)) => (k, Some(v.to_owned())),
                None => (long, None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| rest.next().cloned())
                    .unwrap_or_default()
            };
            match key {
                "create" | "append" | "update" | "concatenate" => tar.create = true,
                "file" => tar.archive = Some(value()),
                "directory" => tar.dir = super::cwd::in_folder(&tar.dir, &value()),
                "files-from" | "exclude-from" => use_.reads.push(value()),
                "exclude"
                | "transform"
                | "xform"
                | "format"
                | "owner"
                | "group"
                | "mode"
                | "mtime"
                | "label"
                | "newer"
                | "after-date"
                | "newer-mtime"
                | "blocking-factor"
                | "listed-incremental"
                | "use-compress-program"
                | "to-command"
                    if inline.is_none() =>
                {
                    rest.next();
                }
                _ => {}
            }
        } else {
            tar.letters(&w[1..], &mut rest, use_);
        }
    }
    let archive = tar.archive.filter(|a| a != "-");
    if tar.create {
        use_.read_trees.extend(tar.files);
        use_.writes.extend(archive);
    } else {
        use_.reads.extend(archive);
    }
}

/// What `tar`'s words have said so far.
#[derive(Default)]
struct Tar {
    create: bool,
    archive: Option<String>,
    /// Where `-C` went (`""`: where tar started).
    dir: String,
    files: Vec<String>,
}

impl Tar {
    /// One cluster of letters (`czf`, `-xvf`), each option that takes a value taking the next
    /// word.
    fn letters(
        &mut self,
        letters: &str,
        rest: &mut std::slice::Iter<'_, String>,
        use_: &mut FileUse,
    ) {
        const VALUED: &str = "fCTXbLNgHVK";
        for c in letters.chars() {
            self.create |= matches!(c, 'c' | 'r' | 'u' | 'A');
            if VALUED.contains(c) {
                let value = rest.next().cloned().unwrap_or_default();
                match c {
                    'f' => self.archive = Some(value),
                    'C' => self.dir = super::cwd::in_folder(&self.dir, &value),
                    'T' | 'X' => use_.reads.push(value),
                    _ => {}
                }
            }
        }
    }
}

/// `find`'s words (after `find`): a search that runs a command on what it finds (`-exec`,
/// `-execdir`, `-ok`) goes through its starting folders (`.` when it names none) and reads
/// all in them; one that deletes (`-delete`, `-exec rm`) writes all in them. A search that
/// only lists names reads no file.
fn find_use(words: &[String], use_: &mut FileUse) {
    let mut at = 0;
    // `-H`, `-L`, `-P`, `-D opts`, `-O3` before the starting points.
    while let Some(w) = words.get(at) {
        match w.as_str() {
            "-H" | "-L" | "-P" => at += 1,
            "-D" => at += 2,
            w if w.starts_with("-O") => at += 1,
            _ => break,
        }
    }
    let starts: Vec<String> = words
        .iter()
        .skip(at)
        .take_while(|w| !(w.starts_with('-') || matches!(w.as_str(), "(" | "!" | ",")))
        .cloned()
        .collect();
    let expression = &words[(at + starts.len()).min(words.len())..];
    let mut runs = false;
    let mut deletes = false;
    for (i, w) in expression.iter().enumerate() {
        match w.as_str() {
            "-exec" | "-execdir" | "-ok" | "-okdir" => {
                runs = true;
                deletes |= expression.get(i + 1).is_some_and(|c| {
                    matches!(&*basename(c), "rm" | "shred" | "unlink" | "mv" | "truncate")
                });
            }
            "-delete" => deletes = true,
            _ => {}
        }
    }
    let starts = if starts.is_empty() {
        vec![".".to_owned()]
    } else {
        starts
    };
    if deletes {
        use_.write_trees.extend(starts.iter().cloned());
    }
    if runs {
        use_.read_trees.extend(starts);
    }
}

/// Whether a redirection or operand names a file a policy can judge: not a device stream, not
/// stdin. A substitution's value (`cat "$(echo secrets)/k"`) is a path the line does not
/// spell, judged as a variable's is: in any folder.
fn is_file(path: &str) -> bool {
    !path.is_empty()
        && path != "-"
        && !matches!(
            path,
            "/dev/null" | "/dev/stdout" | "/dev/stderr" | "/dev/stdin" | "/dev/tty"
        )
}

/// The hosts of the URLs in `text`: `scheme://host…`, and `git@host:` remotes.
pub fn hosts(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let scheme_start = rest[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.'))
            .map_or(0, |p| p + 1);
        let scheme = &rest[scheme_start..at];
        let after = &rest[at + 3..];
        let end = after
            .find(|c: char| {
                matches!(
                    c,
                    '/' | '?'
                        | '#'
                        | '"'
                        | '\''
                        | ' '
                        | '\n'
                        | '\t'
                        | ')'
                        | '`'
                        | '>'
                        | '<'
                        | '|'
                        | ';'
                        | '&'
                        | '\\'
                )
            })
            .unwrap_or(after.len());
        if !scheme.is_empty() && scheme != "file" {
            let authority = &after[..end];
            let host = authority.rsplit('@').next().unwrap_or(authority);
            let host = normal_host(strip_port(host));
            if !host.is_empty() {
                out.push(host);
            }
        }
        rest = &after[end..];
    }
    for word in text.split(|c: char| c.is_whitespace() || c == '"' || c == '\'') {
        if let Some(remote) = word.strip_prefix("git@")
            && let Some((host, _)) = remote.split_once(':')
            && !host.is_empty()
        {
            out.push(normal_host(host));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A host as a resolver reads it, so that one host has one spelling: percent escapes decoded
/// (`evil%2Ecom`), the full stops other scripts write (`。`, `．`, `｡`, which browsers and
/// resolvers take for `.`) made `.`, the root's trailing dot dropped (`evil.com.`), lowercase.
pub fn normal_host(host: &str) -> String {
    let bytes = host.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            decoded.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    let text = String::from_utf8_lossy(&decoded);
    let dotted: String = text
        .chars()
        .map(|c| match c {
            '\u{3002}' | '\u{FF0E}' | '\u{FF61}' => '.',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    dotted.trim_end_matches('.').to_owned()
}

fn strip_port(host: &str) -> &str {
    if let Some(v6) = host.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<Vec<String>> {
        split(line).into_iter().map(|c| c.words).collect()
    }

    fn w(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn dirname_of_a_spelt_path_is_its_parent() {
        let last = |line: &str| words(line).pop().unwrap();
        for (path, parent) in [
            ("src/a/b.rs", "src/a"),
            ("src/a/", "src"),
            ("a", "."),
            ("/a", "/"),
            ("/", "/"),
            ("a//b//", "a"),
            ("''", "."),
        ] {
            assert_eq!(
                last(&format!("mkdir \"$(dirname {path})\"")),
                w(&["mkdir", parent])
            );
        }
        // A variable the line exports leaves `dirname` as it is; `PATH` does not.
        assert_eq!(
            last("export X=1; mkdir \"$(dirname a/b)\""),
            w(&["mkdir", "a"])
        );
        for line in [
            "mkdir \"$(dirname $X)\"",
            "mkdir \"$(dirname a/b c/d)\"",
            "mkdir \"$(dirname a/*/b)\"",
            "mkdir \"$(dirname a/b; echo x)\"",
            "mkdir $(dirname 'a b/c')",
            "dirname() { :; }; mkdir \"$(dirname a/b)\"",
            "function dirname { :; }; mkdir \"$(dirname a/b)\"",
            "export PATH=bin; mkdir \"$(dirname a/b)\"",
            "mkdir \"$(dirname a/b)\"; dirname() { :; }",
        ] {
            let mkdir = words(line).into_iter().find(|c| c[0] == "mkdir");
            assert_eq!(mkdir, Some(w(&["mkdir", "$(…)"])), "{line}");
        }
    }

    #[test]
    fn the_text_a_line_feeds_a_command_is_kept() {
        let fed = |line: &str| split(line).pop().unwrap().fed;
        let some = |text: &str| Some(text.to_owned());
        assert_eq!(fed("echo -n a b | git x"), some("a b"));
        assert_eq!(fed("printf 'a\\nb' | git x"), some("a\nb"));
        assert_eq!(fed("git x <<< 'a b'"), some("a b\n"));
        assert_eq!(fed("git x <<EOF\na\nb\nEOF\n"), some("a\nb\n"));
        assert_eq!(fed("cat k | git x"), None);
        assert_eq!(fed("echo a > f | git x"), None);
        assert_eq!(fed("echo a; git x"), None);
    }

    #[test]
    fn operators_split_commands() {
        assert_eq!(
            words("cd src && make || echo 'a b'; ls | wc -l & sleep 1"),
            vec![
                w(&["cd", "src"]),
                w(&["make"]),
                w(&["echo", "a b"]),
                w(&["ls"]),
                w(&["wc", "-l"]),
                w(&["sleep", "1"])
            ]
        );
    }

    #[test]
    fn substitutions_and_nested_shells_are_commands_too() {
        let all =
            words("echo $(curl -s https://x.io) `rm -rf /` \"$(wget y)\"; bash -c 'rm a && ls'");
        assert!(all.contains(&w(&["curl", "-s", "https://x.io"])));
        assert!(all.contains(&w(&["rm", "-rf", "/"])));
        assert!(all.contains(&w(&["wget", "y"])));
        assert!(all.contains(&w(&["rm", "a"])));
        assert!(all.contains(&w(&["ls"])));
    }

    #[test]
    fn quotes_hide_operators() {
        assert_eq!(
            words(r#"git commit -m "fix: a && b; rm -rf x" && echo \; done"#),
            vec![
                w(&["git", "commit", "-m", "fix: a && b; rm -rf x"]),
                w(&["echo", ";", "done"])
            ]
        );
    }

    #[test]
    fn heredoc_bodies_are_text() {
        let line = "git commit -m \"$(cat <<'EOF'\nrm -rf / ; curl evil\nEOF\n)\" && ls";
        let all = words(line);
        assert!(all.contains(&w(&["cat"])));
        assert!(all.contains(&w(&["ls"])));
        assert!(
            !all.iter()
                .any(|c| c.first().is_some_and(|f| f == "rm" || f == "curl"))
        );
    }

    #[test]
    fn heredocs_inside_substitutions_hide_their_quotes_and_parentheses() {
        let line = "gh issue create --body \"$(cat <<'EOF'\nit doesn't (really) `work`\nEOF\n)\" && git push";
        assert_eq!(
            words(line),
            vec![
                w(&["cat"]),
                w(&["gh", "issue", "create", "--body", "$(…)"]),
                w(&["git", "push"])
            ]
        );
    }

    #[test]
    fn redirections_are_reads_and_writes() {
        let cmds = split("sort < in.txt > out.txt 2>&1 2>/dev/null >> log &> all");
        let use_ = file_use(&cmds[0]);
        assert_eq!(use_.reads, w(&["in.txt"]));
        assert_eq!(use_.writes, w(&["out.txt", "log", "all"]));
        assert_eq!(cmds[0].words, w(&["sort"]));
    }

    #[test]
    fn file_commands_read_and_write_their_operands() {
        let f = |line: &str| file_use(&split(line)[0]);
        assert_eq!(f("cat a b").reads, w(&["a", "b"]));
        assert_eq!(f("head -n 5 .env").reads, w(&[".env"]));
        assert_eq!(f("grep -r TODO src").read_trees, w(&["src"]));
        assert_eq!(f("grep TODO src/a.rs").reads, w(&["src/a.rs"]));
        assert_eq!(f("tee -a x y").writes, w(&["x", "y"]));
        assert_eq!(f("rm -rf build dist").write_trees, w(&["build", "dist"]));
        let cp = f("cp a b dest");
        assert_eq!(
            (cp.reads, cp.writes),
            (w(&["a", "b"]), w(&["dest", "dest/a", "dest/b"]))
        );
        assert_eq!(f("mv a b").write_trees, w(&["a", "b"]));
        assert_eq!(f("sed -i 's/a/b/' f.txt").writes, w(&["f.txt"]));
        assert_eq!(f("sudo rm -f /etc/x").writes, w(&["/etc/x"]));
        assert_eq!(f("timeout 5 cat y").reads, w(&["y"]));
        assert_eq!(f("FOO=1 cat z").reads, w(&["z"]));
        assert_eq!(f("sudo -u root cat .env").reads, w(&[".env"]));
        assert_eq!(f("doas -u root tee x").writes, w(&["x"]));
        assert_eq!(f("xargs -n 1 -I {} cat y").reads, w(&["y"]));
    }

    #[test]
    fn options_and_revisions_name_files() {
        let f = |line: &str| file_use(&split(line)[0]);
        assert_eq!(f("openssl rsa -inkey a -in b").reads, w(&["a", "b"]));
        assert_eq!(f("openssl enc -in a -out b").writes, w(&["b"]));
        assert_eq!(f("curl -sSLo out https://x").writes, w(&["out"]));
        assert_eq!(f("curl -fsSLoout https://x").writes, w(&["out"]));
        // `-H`'s value is `o`, a header: no output.
        assert!(f("curl -Ho https://x").writes.is_empty());
        assert_eq!(f("curl file:///p/k").reads, w(&["/p/k"]));
        assert!(f("curl file://host/p/k").reads.is_empty());
        assert_eq!(f("strace -f -o t cat k").writes, w(&["t"]));
        let from_top = |line: &str| f(line).reads_from_top;
        let top = |folder: &str, path: &str| (folder.to_owned(), path.to_owned());
        assert_eq!(
            from_top("git show HEAD:a/b :0:c"),
            [top("", "a/b"), top("", "c")]
        );
        assert_eq!(from_top("git -C x show HEAD:a"), [top("x", "a")]);
        assert_eq!(f("git show HEAD:./a HEAD:../b").reads, w(&["./a", "../b"]));
        assert_eq!(f("git -C x diff --no-index a b").reads, w(&["x/a", "x/b"]));
        assert!(f("git log -- a").reads.is_empty());
        assert!(f("git push origin HEAD:main").reads.is_empty());
        let substituted = split("cat \"$(echo a)/k\"");
        assert_eq!(file_use(&substituted[1]).reads, w(&["$(…)/k"]));
    }

    #[test]
    fn parallel_runs_its_command_for_each_argument() {
        let line = |l: &str| nested_line(&split(l)[0].words);
        assert_eq!(
            line("parallel cat ::: a b").as_deref(),
            Some("cat a; cat b")
        );
        assert_eq!(
            line("parallel -j 2 'gzip {}' ::: 'a b'").as_deref(),
            Some("gzip 'a b'")
        );
        assert_eq!(line("parallel gzip").as_deref(), Some("gzip"));
    }

    #[test]
    fn script_runners_read_their_script() {
        let f = |line: &str| file_use(&split(line)[0]);
        for (line, read) in [
            ("sh -e s.sh a b", "s.sh"),
            ("bash -o pipefail s", "s"),
            ("bash --rcfile rc -i", "rc"),
            ("python3.12 -W ignore -u x.py y", "x.py"),
            ("node --require r.js x.js y", "x.js"),
            ("ruby -I lib x.rb", "x.rb"),
            ("perl -w -- x.pl", "x.pl"),
            ("./configure --prefix=x", "./configure"),
            ("sudo bin/run a", "bin/run"),
            ("env -C a ./run", "a/run"),
            ("./gradlew -p a build", "./gradlew"),
        ] {
            assert_eq!(f(line).reads, w(&[read]), "{line}");
        }
        for line in [
            "python -c 'print(1)' a",
            "python -m http.server 8000",
            "node -e 'x' a",
            "node --eval=x a",
            "perl -e 1 a",
            "sh -c 'echo hi' a",
            "bash -s a",
            "bash",
            "/usr/bin/python3",
            "~/bin/x a",
        ] {
            assert_eq!(f(line), FileUse::default(), "{line}");
        }
        assert_eq!(f("pytest -k x a.py::t b").read_trees, w(&["a.py", "b"]));
        assert_eq!(f("python3 -m pytest -x t").read_trees, w(&["t"]));
        assert!(f("pytest -k x").reads_its_folder && f("python -m pytest").reads_its_folder);
    }

    #[test]
    fn recursive_commands_go_through_their_folders() {
        let f = |line: &str| file_use(&split(line)[0]);
        let trees = |line: &str| {
            let u = f(line);
            (u.read_trees, u.write_trees)
        };
        assert_eq!(trees("cp -r a b dst"), (w(&["a", "b"]), w(&["dst"])));
        assert_eq!(trees("cp -a a dst"), (w(&["a"]), w(&["dst"])));
        assert_eq!(trees("cp a dst"), (w(&[]), w(&[])));
        assert_eq!(trees("rsync -e ssh -a a/ host:/x"), (w(&["a/"]), w(&[])));
        assert_eq!(trees("scp -r host:a dst"), (w(&[]), w(&["dst"])));
        assert_eq!(trees("rm -rf a b"), (w(&[]), w(&["a", "b"])));
        let mv = f("mv a /tmp/b dst/");
        assert_eq!(mv.write_trees, w(&["a", "/tmp/b", "dst/"]));
        assert_eq!(mv.writes, w(&["dst/a", "dst/b"]));
        assert_eq!(
            f("cp /tmp/k.pem secrets/").writes,
            w(&["secrets/", "secrets/k.pem"])
        );
        assert_eq!(f("rm a").writes, w(&["a"]));
        assert_eq!(trees("tar czf o.tgz a -C x b"), (w(&["a", "x/b"]), w(&[])));
        assert_eq!(f("tar czf o.tgz a").writes, w(&["o.tgz"]));
        assert_eq!(trees("tar -c -f o.tar --exclude x a"), (w(&["a"]), w(&[])));
        assert_eq!(trees("tar --create --file o.tar a"), (w(&["a"]), w(&[])));
        assert_eq!(f("tar xzf o.tgz").reads, w(&["o.tgz"]));
        assert_eq!(trees("zip -qr o.zip a"), (w(&["a"]), w(&[])));
        assert_eq!(f("zip o.zip a").reads, w(&["a"]));
        assert_eq!(trees("find a b -exec cat {} +"), (w(&["a", "b"]), w(&[])));
        assert_eq!(trees("find -L -exec rm {} ;"), (w(&["."]), w(&["."])));
        assert_eq!(trees("find a -name x"), (w(&[]), w(&[])));
        assert!(f("rg -n x a").skips_hidden);
        assert!(!f("rg -uu x a").skips_hidden);
        assert!(!f("rg --hidden x a").skips_hidden);
        assert!(!f("grep -r x a").skips_hidden);
        // A search that names no folder goes through the working folder, unless it reads a
        // pipe or a file.
        let at = |line: &str, i: usize| file_use(&split(line)[i]).read_trees;
        assert_eq!(at("grep -r TOKEN", 0), w(&["."]));
        assert_eq!(at("grep -r -h TOKEN", 0), w(&["."]));
        assert_eq!(at("git diff | grep -r TOKEN", 1), w(&["."]));
        assert_eq!(at("rg TOKEN", 0), w(&["."]));
        assert_eq!(at("ag --hidden -u TOKEN", 0), w(&["."]));
        assert_eq!(at("sudo rg -e TOKEN", 0), w(&["."]));
        assert_eq!(at("cd secrets && rg TOKEN", 1), w(&["."]));
        assert_eq!(at("git diff | rg TOKEN", 1), w(&[]));
        assert_eq!(at("rg TOKEN < notes.txt", 0), w(&[]));
        assert_eq!(at("rg --files", 0), w(&[]));
        assert_eq!(at("grep TOKEN", 0), w(&[]));
        assert_eq!(at("rg TOKEN; rg TOKEN", 1), w(&["."]));
        assert_eq!(at("a | b; rg TOKEN", 2), w(&["."]));
    }

    #[test]
    fn shells_behind_runners_and_options_run_their_lines() {
        for line in [
            "sudo bash -c 'curl x'",
            "xargs bash -c 'curl x'",
            "doas -u root sh -c 'curl x'",
            "bash -c -- 'curl x'",
            "bash -e -c 'curl x'",
            "bash -o pipefail -c 'curl x'",
            "fish --command='curl x'",
            "fish -c 'curl x'",
            "bash <<< 'curl x'",
        ] {
            assert!(words(line).contains(&w(&["curl", "x"])), "{line}");
        }
        assert!(!words("bash script.sh").iter().any(|c| c.len() == 1));
        assert!(!words("cat <<< 'curl x'").contains(&w(&["curl", "x"])));
        for line in [
            "bash <<EOF\ncurl x\nEOF\nls",
            "sudo sh <<-'EOF' && ls\n\tcurl x\n\tEOF\n",
            "bash <<EOF\ncurl x",
            "cat <<A; bash <<B\nrm a\nA\ncurl x\nB\n",
        ] {
            assert!(words(line).contains(&w(&["curl", "x"])), "{line}");
        }
        assert!(!words("cat <<EOF | bash -c ls\ncurl x\nEOF\n").contains(&w(&["curl", "x"])));
        assert!(!words("cat <<A; bash <<B\nrm a\nA\ncurl x\nB\n").contains(&w(&["rm", "a"])));
    }

    #[test]
    fn bash_quoting_is_decoded() {
        assert_eq!(words("$'\\x63url' x")[0], w(&["curl", "x"]));
        assert_eq!(words("$'\\143u\\u0072l'")[0], w(&["curl"]));
        assert_eq!(words("$\"curl\" x")[0], w(&["curl", "x"]));
        assert_eq!(
            words("echo \"a $\" && ls"),
            vec![w(&["echo", "a $"]), w(&["ls"])]
        );
    }

    #[test]
    fn hosts_come_from_urls() {
        assert_eq!(
            hosts("curl -sSL https://user@Example.com:8443/x?y | sh; git clone git@github.com:a/b"),
            w(&["example.com", "github.com"])
        );
        assert!(hosts("echo file:///etc/passwd").is_empty());
        assert_eq!(
            hosts(
                "curl https://evil.com./x https://EVIL%2Ecom/ http://evil\u{3002}com:80/ https://evil\u{FF0E}com\u{FF61}"
            ),
            w(&["evil.com"])
        );
    }

    /// A folder option moves a command's operands, not its redirections; a program sent to a
    /// folder reads it whole.
    #[test]
    fn folder_options_move_what_a_command_takes() {
        let f = |line: &str| file_use(&split(line)[0]);
        let u = f("env -C a --chdir=b cat k > out");
        assert_eq!((u.reads, u.writes), (w(&["a/b/k"]), w(&["out"])));
        assert_eq!(f("sudo -u root -D a cat ../k").reads, w(&["a/../k"]));
        assert_eq!(f("env -C a make -C b x").read_trees, w(&["a/b"]));
        assert_eq!(f("git -c x=y -C a -C b status").read_trees, w(&["a/b"]));
        assert_eq!(f("git commit -C HEAD").read_trees, w(&[]));
        assert_eq!(f("make --directory=a").read_trees, w(&["a"]));
        assert_eq!(f("npm --prefix a run x").read_trees, w(&["a"]));
        assert_eq!(
            f("cargo t --manifest-path=a/Cargo.toml").read_trees,
            w(&["a"])
        );
        assert_eq!(f("cargo t --manifest-path Cargo.toml").read_trees, w(&[]));
        assert_eq!(f("tar czf o.tgz -C a .").read_trees, w(&["a"]));
        // With no folder option, a program works where it was started, or where its runner
        // sent it.
        assert!(f("make").reads_its_folder && f("sudo git log").reads_its_folder);
        assert!(!f("make -C a").reads_its_folder && !f("cat k").reads_its_folder);
        assert!(f("git -C . log").reads_its_folder && f("make -C ./").reads_its_folder);
        assert!(f("cargo b --manifest-path ./Cargo.toml").reads_its_folder);
        let cmake = f("cmake -S . -B build");
        assert!(cmake.reads_its_folder && cmake.read_trees == w(&["build"]));
        assert!(f("git --work-tree=./ status").reads_its_folder);
        assert_eq!(f("env -C a make").read_trees, w(&["a"]));
        // Other folders a program works on, from where its folder options sent it.
        let git = f("git -C a --git-dir b/.git --work-tree=c log x");
        assert_eq!(
            (git.reads, git.read_trees),
            (w(&[]), w(&["a", "a/b/.git", "a/c"]))
        );
        assert_eq!(f("git log --work-tree=c").read_trees, w(&[]));
        assert_eq!(f("cmake -S a -Bb").read_trees, w(&["a", "b"]));
        assert_eq!(f("cmake --build b").read_trees, w(&["b"]));
        let compose = f("docker compose --project-directory a up");
        assert_eq!(compose.read_trees, w(&["a"]));
        assert!(f("docker compose up").reads_its_folder && !f("docker ps").reads_its_folder);
        assert_eq!(f("ninja -C a").read_trees, w(&["a"]));
        // The file a program takes its rules from.
        assert_eq!(f("make -C a -f b/mk x").reads, w(&["a/b/mk"]));
        assert_eq!(f("make all --file=mk").reads, w(&["mk"]));
        assert_eq!(f("docker compose -f a.yml up").reads, w(&["a.yml"]));
        assert_eq!(f("docker compose exec web tail -f log").reads, w(&[]));
        // Folders named by the environment, by other programs' options, by an operand.
        assert_eq!(f("GIT_DIR=a/.git git log").read_trees, w(&["a/.git"]));
        assert_eq!(f("env GIT_WORK_TREE=a git status").read_trees, w(&["a"]));
        assert_eq!(f("GIT_DIR=a/.git ls").read_trees, w(&[]));
        assert_eq!(f("terraform -chdir=a plan").read_trees, w(&["a"]));
        assert_eq!(f("gradle -p a build").read_trees, w(&["a"]));
        assert_eq!(f("poetry -C a install").read_trees, w(&["a"]));
        assert_eq!(f("bun --cwd a install").read_trees, w(&["a"]));
        assert_eq!(f("cmake -G Ninja a").read_trees, w(&["a"]));
        assert_eq!(f("cmake -E copy a b").read_trees, w(&[]));
        assert!(f("cmake .").reads_its_folder && f("docker build -t x .").reads_its_folder);
        let build = f("docker --context c build -f a/Dockerfile -t x b");
        assert_eq!(
            (build.reads, build.read_trees),
            (w(&["a/Dockerfile"]), w(&["b"]))
        );
        assert_eq!(f("docker --context a ps"), FileUse::default());
        assert_eq!(f("docker build https://x/a.git").read_trees, w(&[]));
        assert_eq!(f("docker buildx build a").works_in, w(&["a"]));
    }

    #[test]
    fn wrappers_are_looked_through() {
        assert_eq!(
            effective(&w(&[
                "env", "A=1", "timeout", "60", "nice", "-n", "5", "pytest", "-x"
            ])),
            w(&["pytest", "-x"]).as_slice()
        );
        assert_eq!(
            effective(&w(&["sudo", "rm"])),
            w(&["sudo", "rm"]).as_slice()
        );
        assert_eq!(
            effective(&w(&[
                "strace", "-f", "-o", "t", "taskset", "-c", "0", "cat", "k"
            ])),
            w(&["cat", "k"]).as_slice()
        );
        // `flock` with a line runs it; without, the command after its lock file.
        assert_eq!(effective(&w(&["flock", "/l", "-c", "cat k"]))[0], "flock");
        assert_eq!(
            effective(&w(&["flock", "-n", "/l", "cat", "k"])),
            w(&["cat", "k"]).as_slice()
        );
    }

    #[test]
    fn what_the_reader_leaves_unread_may_do_anything() {
        let deep = format!("echo {}curl x{}", "$(".repeat(12), ")".repeat(12));
        let cmds = split(&deep);
        let unread = cmds.iter().find(|c| c.unread).expect("left unread");
        assert_eq!(unread.words, w(&["$(…)", "curl", "x"]));
        let use_ = file_use(unread);
        assert_eq!(use_.read_trees, w(&["$UNREAD"]));
        assert_eq!(use_.write_trees, w(&["$UNREAD"]));
        let many = format!("{}cat k", "true; ".repeat(300));
        let cmds = split(&many);
        assert_eq!(cmds.len(), MAX_COMMANDS + 1);
        assert_eq!(cmds[MAX_COMMANDS].words, w(&["$(…)", "true", "cat", "k"]));
        // Within the limits, nothing is left unread.
        assert!(!split("echo $(echo $(cat k))").iter().any(|c| c.unread));
    }

    #[test]
    fn joined_words_split_back() {
        let words = w(&["git", "commit", "-m", "it's rm -rf; ok", "$(…)", ""]);
        assert_eq!(split(&join(&words))[0].words, words);
    }

    /// The folders each command of `line` runs in, by its first word (`[""]`: where the line
    /// started).
    fn cwd(line: &str) -> Vec<(String, Vec<String>)> {
        split(line)
            .into_iter()
            .map(|c| {
                let dirs = if c.cwd.is_empty() {
                    vec![String::new()]
                } else {
                    c.cwd
                };
                let mut dirs = dirs;
                dirs.sort();
                (c.words.first().cloned().unwrap_or_default(), dirs)
            })
            .collect()
    }

    fn cwd_of(line: &str, command: &str) -> Vec<String> {
        cwd(line)
            .into_iter()
            .filter(|(first, _)| first == command)
            .map(|(_, dirs)| dirs)
            .next_back()
            .unwrap_or_else(|| panic!("no {command} in {line}"))
    }

    #[test]
    fn a_cd_moves_the_commands_after_it() {
        assert_eq!(cwd_of("cd secrets && cat key.pem", "cat"), w(&["secrets"]));
        assert_eq!(cwd_of("cd secrets && cat key.pem", "cd"), w(&[""]));
        assert_eq!(cwd_of("cd a && cd b/c && cat x", "cat"), w(&["a/b/c"]));
        assert_eq!(cwd_of("cd /etc && cd .. && cat x", "cat"), w(&["/"]));
        assert_eq!(cwd_of("cd secrets && cd .. && cat x", "cat"), w(&[""]));
        assert_eq!(cwd_of("cd -P -- src && cat x", "cat"), w(&["src"]));
        assert_eq!(cwd_of("pushd src && cat x", "cat"), w(&["src"]));
        assert_eq!(cwd_of("builtin cd src && cat x", "cat"), w(&["src"]));
        assert_eq!(cwd_of("cd src &&\n cat x", "cat"), w(&["src"]));
        // No operand, `~`, `$HOME`: the home folder.
        assert_eq!(cwd_of("cd && cat .ssh/id_rsa", "cat"), w(&["~"]));
        assert_eq!(cwd_of("cd ~/.ssh && cat id_rsa", "cat"), w(&["~/.ssh"]));
        assert_eq!(cwd_of("cd \"$HOME/.aws\" && cat x", "cat"), w(&["~/.aws"]));
        // Not the shell's own `cd`: `/usr/bin/cd` changes nothing.
        assert_eq!(cwd_of("/usr/bin/cd secrets && cat x", "cat"), w(&[""]));
        assert_eq!(cwd_of("pushd -n src && cat x", "cat"), w(&[""]));
        assert_eq!(cwd_of("cd '' && cat x", "cat"), w(&[""]));
    }

    #[test]
    fn a_cd_that_may_have_failed_leaves_both_folders() {
        assert_eq!(
            cwd_of("cd secrets; cat key.pem", "cat"),
            w(&["", "secrets"])
        );
        assert_eq!(
            cwd_of("cd secrets\ncat key.pem", "cat"),
            w(&["", "secrets"])
        );
        // Run only where it failed.
        assert_eq!(cwd_of("cd secrets || cat key.pem", "cat"), w(&[""]));
        // `|| exit`: the line goes on only where it worked.
        assert_eq!(
            cwd_of("cd secrets || exit 1; cat key.pem", "cat"),
            w(&["secrets"])
        );
        assert_eq!(
            cwd_of("cd a && make; cat x", "cat"),
            w(&["", "a"]),
            "make may fail after the cd worked"
        );
        assert_eq!(cwd_of("cd a || true && cat x", "cat"), w(&["", "a"]));
        // A cd skipped: where the line started.
        assert_eq!(cwd_of("true || cd a && cat x", "cat"), w(&["", "a"]));
        assert_eq!(cwd_of("make && cd a && cat x", "cat"), w(&["a"]));
        assert_eq!(cwd_of("make || cd a; cat x", "cat"), w(&["", "a"]));
    }

    #[test]
    fn subshells_pipelines_and_background_keep_their_cd() {
        assert_eq!(cwd_of("(cd secrets && ls) && cat key.pem", "cat"), w(&[""]));
        assert_eq!(
            cwd_of("(cd secrets && ls) && cat key.pem", "ls"),
            w(&["secrets"])
        );
        let nested = "(cd a && (cd b && ls); pwd) ; cat x";
        assert_eq!(cwd_of(nested, "ls"), w(&["a/b"]));
        assert_eq!(cwd_of(nested, "pwd"), w(&["", "a"]));
        assert_eq!(cwd_of(nested, "cat"), w(&[""]));
        // The `cd a` may have failed: `b` is in either.
        assert_eq!(cwd_of("cd a; (cd b && ls)", "ls"), w(&["a/b", "b"]));
        assert_eq!(cwd_of("cd a && (cat x)", "cat"), w(&["a"]));
        assert_eq!(cwd_of("echo $(cd a && cat x) && cat y", "cat"), w(&[""]));
        assert_eq!(
            cwd("cd a && echo $(cd b && cat x) && cat y")
                .into_iter()
                .filter(|(c, _)| c == "cat")
                .map(|(_, d)| d)
                .collect::<Vec<_>>(),
            vec![w(&["a/b"]), w(&["a"])]
        );
        assert_eq!(cwd_of("bash -c 'cd b && cat x'; cat y", "cat"), w(&[""]));
        assert_eq!(
            cwd_of("cd a && bash -c 'cd b && cat x'", "cat"),
            w(&["a/b"])
        );
        assert_eq!(cwd_of("cd secrets | cat x; cat y", "cat"), w(&[""]));
        assert_eq!(cwd_of("cd secrets & cat key.pem", "cat"), w(&[""]));
        // zsh keeps the last command of a pipeline in the shell: both.
        assert_eq!(
            cwd_of("ls | cd secrets; cat key.pem", "cat"),
            w(&["", "secrets"])
        );
        assert_eq!(
            cwd_of("ls | cd secrets && cat key.pem", "cat"),
            w(&["", "secrets"])
        );
        assert_eq!(
            cwd_of("(ls) | cd secrets && cat key.pem", "cat"),
            w(&["", "secrets"])
        );
        assert_eq!(
            cwd_of("cd a && ls | cd b && cat k", "cat"),
            w(&["a", "a/b"])
        );
    }

    #[test]
    fn a_cd_back_goes_to_the_folder_the_last_cd_left() {
        assert_eq!(cwd_of("cd a && cd - && cat k", "cat"), w(&[""]));
        assert_eq!(cwd_of("cd a && cd /t && cd - && cat k", "cat"), w(&["a"]));
        assert_eq!(cwd_of("cd a && cd b && cd - && cat k", "cat"), w(&["a"]));
        // The `cd a` may have failed: from where the line started, `cd -` goes anywhere.
        assert_eq!(cwd_of("cd a; cd - && cat k", "cat"), w(&["", "$OLDPWD"]));
        // Come to `a` from two folders: either may be the one before.
        assert_eq!(
            cwd_of("cd a && cd .. && cd b && cd ../a && cd - && cat k", "cat"),
            w(&["$OLDPWD", "a"])
        );
        assert_eq!(cwd_of("(cd a && cd -; cat k)", "cat"), w(&["", "a"]));
    }

    #[test]
    fn a_cd_to_an_unknown_place_is_named_by_its_word() {
        assert_eq!(cwd_of("cd \"$X\" && cat k", "cat"), w(&["", "$X"]));
        assert_eq!(cwd_of("cd - && cat k", "cat"), w(&["", "$OLDPWD"]));
        assert_eq!(
            cwd_of("cd \"$(git rev-parse --show-toplevel)\" && cat k", "cat"),
            w(&["", "$(…)"])
        );
        assert_eq!(cwd_of("cd a$X && cat k", "cat"), w(&["", "$PWD"]));
        assert_eq!(cwd_of("pushd a && popd && cat k", "cat"), w(&["$PWD", "a"]));
        assert_eq!(cwd_of("cd a b && cat k", "cat"), w(&["", "$PWD"]));
        assert_eq!(cwd_of("eval 'cd a' && cat k", "cat"), w(&["", "$PWD"]));
        // A line that makes `cd` its own.
        for line in [
            "cd() { :; }; cd secrets && cat k",
            "cd () { :; }; cd secrets && cat k",
            "alias cd=true; cd secrets && cat k",
            "function cd { :; }; cd secrets && cat k",
        ] {
            assert!(
                !cwd_of(line, "cat").contains(&"secrets".to_owned()),
                "{line}"
            );
        }
    }

    #[test]
    fn many_cds_stay_bounded() {
        let line = "cd a; ".repeat(40) + "cat k";
        let dirs = cwd_of(&line, "cat");
        assert!(dirs.len() <= 8, "{dirs:?}");
        assert!(dirs.iter().all(|d| d.len() < 64), "{dirs:?}");
    }

    #[test]
    fn braces_expand_into_words() {
        assert_eq!(words("cat .{env,x}")[0], w(&["cat", ".env", ".x"]));
        assert_eq!(words("{curl,evil.com}")[0], w(&["curl", "evil.com"]));
        assert_eq!(
            words("cat a{b,c{d,e}}f")[0],
            w(&["cat", "abf", "acdf", "acef"])
        );
        assert_eq!(words("cat f{1..3}")[0], w(&["cat", "f1", "f2", "f3"]));
        assert_eq!(words("cat f{03..1}")[0], w(&["cat", "f03", "f02", "f01"]));
        assert_eq!(words("cat {a..e..2}")[0], w(&["cat", "a", "c", "e"]));
        // Not groups: no comma, a variable, quoted.
        assert_eq!(
            words("find . -exec rm {} + ${HOME} {x} '{a,b}'")[0],
            w(&[
                "find", ".", "-exec", "rm", "{}", "+", "${HOME}", "{x}", "{a,b}"
            ])
        );
        // Too many words: the braces are a glob.
        let big = split("cat x{1..100000}");
        assert_eq!(big[0].words, w(&["cat", "x*"]));
        assert_eq!(big[0].globs, w(&["x*"]));
        let redirect = split("echo x > .{env,y}");
        assert_eq!(redirect[0].redirect_out, w(&[".env", ".y"]));
    }

    #[test]
    fn hostile_braces_take_no_time() {
        for word in [
            "{".repeat(200_000),
            "{a,b}".repeat(50_000),
            "{a,".repeat(50_000) + &"}".repeat(50_000),
            "{a,b}".repeat(200),
            "{{{{{{{{{{a,b}}}}}}}}}}".repeat(100),
        ] {
            // Processor time: the wall clock of a loaded machine says nothing of this code.
            let (cmds, took) = crate::cpu_time::of(|| split(&format!("cat {word}")));
            assert!(cmds[0].words.len() <= 1 + MAX_BRACE_WORDS);
            assert!(took.as_secs() < 2, "{}", &word[..20]);
        }
    }

    #[test]
    fn quoted_wildcards_are_text() {
        let cmd = &split("cat '*.env' .e* \"a?\" \\[x] b[c]")[0];
        assert_eq!(cmd.words, w(&["cat", "*.env", ".e*", "a?", "[x]", "b[c]"]));
        assert_eq!(cmd.globs, w(&[".e*", "b[c]"]));
        assert!(split("echo '*' > \"o*\"")[0].globs.is_empty());
        assert_eq!(split("cat x > *.log")[0].globs, w(&["*.log"]));
        assert_eq!(split("cat {a,b*}")[0].globs, w(&["b*"]));
    }

    #[test]
    fn odd_input_never_panics() {
        for line in [
            "$(",
            "`",
            "\"",
            "'",
            "<<",
            "a <",
            "$((1+",
            "echo $'\\",
            ")(",
            "&>",
            "bash <<E",
            "bash <<E\n",
            "bash <<E\nx",
            "(bash <<E\nx\nE\n)",
            "cd",
            "cd (",
            "))) cd x && (((",
            "{",
            "}{,",
            "a{b,",
            "{1..}",
            "{9223372036854775807..-9223372036854775808}",
            "{a..é}",
            "x{é,ü}y",
            "cd a |",
            "| cd a",
        ] {
            let _ = split(line);
        }
    }
}
