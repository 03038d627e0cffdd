//! Where the commands of one shell line run, as its `cd`s tell: `cd secrets && cat key.pem`
//! reads `secrets/key.pem`. The shell reader ([`super::shell`]) feeds it each simple command
//! and how it is joined to the next; it answers with the folders each may run in.
//!
//! A `cd` may fail, and the line goes on where it was: a command after `;`, a newline or `||`
//! may run in either folder, and is judged in both; only `&&` (and `cd x || exit`) says the
//! `cd` worked. A subshell `( … )`, a pipeline's commands, a command in the background and
//! `$(…)` keep their `cd`s to themselves. `cd -` goes back to the folder the last `cd` left,
//! when the line says which. Where a `cd` goes is unknown when its word is not text (`cd
//! "$X"`, `cd -` with no `cd` before it, `popd`): the folder is then named by a word starting
//! with `$`,
//! which no allow pattern matches and a deny pattern takes for any folder (`check.rs`,
//! `from_anywhere`), and the folder before it is kept too, since the `cd` may
//! have changed nothing (`X=.`).
//!
//! A session recorded on Windows names folders from a drive (`C:\Users\me\app`) with `\`
//! between names: its paths and lines are read in a Unix shape ([`unix_shaped`]) first.

/// How a simple command is joined to the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Join {
    /// `;`, a newline, or the end of a subshell: the next runs whatever happened.
    Then,
    /// `&&`: the next runs if this one worked.
    And,
    /// `||`: the next runs if this one failed.
    Or,
    /// `|`: the next runs beside it, in the same folder; both in subshells.
    Pipe,
    /// `&`: the list this one ends (`a && b &`) runs in the background, in a subshell.
    Background,
    /// `(` or `)`: the end of whatever came before (there is seldom a command there).
    Group,
}

/// What a simple command does to the shell's folder and the line's course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Move {
    /// Nothing to the folder; it may work or fail.
    Stay,
    /// `true`, `:`: nothing, and it works.
    Works,
    /// `false`: nothing, and it fails.
    Fails,
    /// `exit`, `return`: the line stops here.
    Exit,
    /// A `cd` to this folder (relative to where it runs, or `/…`, or `~…`), if it works.
    To(String),
    /// A `cd` somewhere the line does not say: this `$` word names the place.
    Unknown(String),
    /// `cd -`: back to the folder the last `cd` left (`$OLDPWD`).
    Back,
    /// A move to this folder that may not happen, whatever the command's outcome: `sl`,
    /// PowerShell's `Set-Location`, is on Unix a program that moves nothing.
    Maybe(String),
}

/// A command's outcome: it worked, it failed, or either.
const WORKED: u8 = 1;
const FAILED: u8 = 2;
const EITHER: u8 = WORKED | FAILED;

/// At most this many folders are told apart at a time; the rest are one unknown place.
const MAX_FOLDERS: usize = 8;

/// At most this many `cd`s are followed in one line; later ones go somewhere unknown.
const MAX_MOVES: usize = 16;

/// The name of a place nothing on the line names.
const SOMEWHERE: &str = "$PWD";

/// Folders the shell may be in, each with how the last command there may have ended.
type Outcomes = Vec<(String, u8)>;

/// The folders the shell may be in after the commands so far. Until a command moves it, the
/// shell is where the line started, and nothing is kept: a line with no `cd` costs nothing.
#[derive(Debug, Clone)]
pub(super) struct Dirs {
    /// Some command has moved the shell (or the line started in folders of its own); until
    /// then `now` and `pipeline` are empty, and the shell is where the line started.
    active: bool,
    /// Each folder the shell may be in; `""` is the folder the line started in.
    now: Outcomes,
    /// How the next command is joined to the last one.
    next: Join,
    /// Inside a pipeline: the folders its commands run in, and the outcomes that skipped it.
    pipeline: Option<(Vec<String>, Outcomes)>,
    /// Where the current list (`a && b || c`, up to a `;`, `&` or newline) started: a list
    /// run in the background (`cd x && ls &`) leaves the shell there.
    list_start: Option<Outcomes>,
    /// The subshells open.
    subshells: Vec<Subshell>,
    /// How many `cd`s were followed.
    followed: usize,
    /// The line defines its own `cd` (`cd() …`, `alias cd=…`): where its `cd`s go is unknown.
    pub(super) wary: bool,
    /// For each folder a `cd` went to, the folder it left (`$OLDPWD` there), which `cd -`
    /// goes back to; `None` when the shell may have come to it from more than one, or is
    /// there as the line started.
    left: Vec<(String, Option<String>)>,
}

/// A subshell open.
#[derive(Debug, Clone)]
struct Subshell {
    /// The outcomes that skipped it, and the folders it started in (`None`: it opened before
    /// anything moved).
    started: Option<(Outcomes, Vec<String>)>,
    /// Where the list around it started.
    around: Option<Outcomes>,
}

impl Dirs {
    /// A line whose commands start in `start` (empty: the folder the line started in).
    pub(super) fn new(start: &[String]) -> Dirs {
        let mut dirs = Dirs {
            active: !start.is_empty(),
            now: start.iter().map(|d| (d.clone(), EITHER)).collect(),
            next: Join::Then,
            pipeline: None,
            list_start: None,
            subshells: Vec::new(),
            followed: 0,
            wary: false,
            // Where the line started, the folder before is unknown.
            left: std::iter::once(String::new())
                .chain(start.iter().cloned())
                .map(|d| (d, None))
                .collect(),
        };
        dirs.start_list();
        dirs
    }

    /// A list starts here: kept, for a `&` that ends it.
    fn start_list(&mut self) {
        self.list_start = self.active.then(|| self.now.clone());
    }

    /// A list run in the background ends: the shell is where it started, and `&` worked.
    fn end_background_list(&mut self) {
        if let Some(start) = self.list_start.take() {
            self.active = true;
            self.now = start.into_iter().map(|(d, _)| (d, WORKED)).collect();
        } else {
            self.active = false;
            self.now.clear();
        }
        self.pipeline = None;
        self.next = Join::Then;
        self.start_list();
    }

    /// The folders the next command runs in (empty: where the line started), and the
    /// outcomes it leaves as they were (a command after `&&` is skipped where the one before
    /// failed).
    pub(super) fn split(&self) -> (Vec<String>, Outcomes) {
        if !self.active {
            return (Vec::new(), Vec::new());
        }
        if self.next == Join::Pipe
            && let Some((cwd, skipped)) = &self.pipeline
        {
            return (cwd.clone(), skipped.clone());
        }
        let runs_on = match self.next {
            Join::And => WORKED,
            Join::Or => FAILED,
            _ => EITHER,
        };
        let mut cwd: Vec<String> = Vec::new();
        let mut skipped = Vec::new();
        for (dir, ended) in &self.now {
            if ended & runs_on != 0 && !cwd.contains(dir) {
                cwd.push(dir.clone());
            }
            if ended & !runs_on != 0 {
                skipped.push((dir.clone(), ended & !runs_on));
            }
        }
        (cwd, skipped)
    }

    /// Every folder the shell may be in now (empty: where the line started).
    pub(super) fn all(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (dir, _) in &self.now {
            if !out.contains(dir) {
                out.push(dir.clone());
            }
        }
        out
    }

    /// After a command that ran in `cwd` (as [`Dirs::split`] said) and did `moved`, joined by
    /// `join` to the next.
    pub(super) fn after(
        &mut self,
        mut cwd: Vec<String>,
        mut skipped: Outcomes,
        moved: Move,
        join: Join,
    ) {
        let joined_by = self.next;
        // The last command of a pipeline runs in a subshell in bash, in the shell itself in
        // zsh: its `cd` may or may not stay.
        let last_of_pipeline = joined_by == Join::Pipe;
        if join == Join::Pipe {
            // Not the pipeline's last command: in a subshell, whatever it does.
            if self.active && !last_of_pipeline {
                self.pipeline = Some((cwd, skipped));
            }
            self.next = Join::Pipe;
            return;
        }
        if join == Join::Background {
            self.end_background_list();
            return;
        }
        self.pipeline = None;
        self.next = match join {
            Join::And => Join::And,
            Join::Or => Join::Or,
            _ => Join::Then,
        };
        if !self.active {
            if !matches!(
                moved,
                Move::To(_) | Move::Unknown(_) | Move::Back | Move::Maybe(_)
            ) {
                if join == Join::Then {
                    self.start_list();
                }
                return;
            }
            // The first move: from where the line started, where the shell stays if the `cd`
            // is skipped (`false && cd x`, `true || cd x`).
            self.active = true;
            cwd = vec![String::new()];
            skipped = match joined_by {
                Join::And => vec![(String::new(), FAILED)],
                Join::Or => vec![(String::new(), WORKED)],
                _ => Vec::new(),
            };
        }
        if matches!(
            moved,
            Move::To(_) | Move::Unknown(_) | Move::Back | Move::Maybe(_)
        ) {
            self.followed += 1;
        }
        let moved = match moved {
            Move::To(_) | Move::Back | Move::Maybe(_) if self.followed > MAX_MOVES => {
                Move::Unknown(SOMEWHERE.to_owned())
            }
            moved => moved,
        };
        let mut now = skipped;
        for dir in cwd {
            match &moved {
                Move::Stay => add(&mut now, dir, EITHER),
                Move::Works => add(&mut now, dir, WORKED),
                Move::Fails => add(&mut now, dir, FAILED),
                Move::Exit if last_of_pipeline => add(&mut now, dir, EITHER),
                Move::Exit => {}
                Move::To(to) => {
                    let to = cd_into(&dir, to);
                    self.came(&to, &dir);
                    add(&mut now, to, WORKED);
                    let stayed = if last_of_pipeline { EITHER } else { FAILED };
                    add(&mut now, dir, stayed);
                }
                Move::Maybe(to) => {
                    let to = cd_into(&dir, to);
                    self.came(&to, &dir);
                    add(&mut now, to, EITHER);
                    add(&mut now, dir, EITHER);
                }
                Move::Back => {
                    // Unknown, `$OLDPWD` may be where the shell is already.
                    let (back, stayed) = match self.left_by(&dir) {
                        Some(back) if !last_of_pipeline => (back, FAILED),
                        Some(back) => (back, EITHER),
                        None => ("$OLDPWD".to_owned(), EITHER),
                    };
                    self.came(&back, &dir);
                    add(&mut now, back, WORKED);
                    add(&mut now, dir, stayed);
                }
                Move::Unknown(place) => {
                    self.came(place, &dir);
                    add(&mut now, place.clone(), WORKED);
                    add(&mut now, dir, EITHER);
                }
            }
        }
        self.set(now);
        if join == Join::Then {
            self.start_list();
        }
    }

    /// A `cd` went to `to` from `from`: `cd -` there goes back to `from`, unless the shell may
    /// have come to `to` from elsewhere too.
    fn came(&mut self, to: &str, from: &str) {
        match self.left.iter_mut().find(|(d, _)| d == to) {
            Some((_, left)) if left.as_deref() != Some(from) => *left = None,
            Some(_) => {}
            None => self.left.push((to.to_owned(), Some(from.to_owned()))),
        }
    }

    /// The folder the shell left for `dir`, when only one can be: not for a folder the line
    /// started in (the one before it is unknown), one no `cd` went to, nor one the line does
    /// not name (`$PWD` may be any, reached any way).
    fn left_by(&self, dir: &str) -> Option<String> {
        if dir.starts_with('$') {
            return None;
        }
        self.left
            .iter()
            .find(|(d, _)| d == dir)
            .and_then(|(_, left)| left.clone())
    }

    /// After an operator with no command before it (`(…) && x`, `(…) | cd x`, `(…) &`, `a &&`
    /// and a newline).
    pub(super) fn join_empty(&mut self, join: Join) {
        match join {
            Join::And | Join::Or | Join::Pipe => {
                self.next = join;
                self.pipeline = None;
            }
            Join::Background => self.end_background_list(),
            // A `;` or newline after `)` starts a list; one after `&&` goes on with it.
            Join::Then if !matches!(self.next, Join::And | Join::Or | Join::Pipe) => {
                self.start_list();
            }
            Join::Then | Join::Group => {}
        }
    }

    /// `(`: a subshell starts where the next command would run.
    pub(super) fn open(&mut self) {
        let around = self.list_start.take();
        let started = self.active.then(|| {
            let (cwd, skipped) = self.split();
            self.set(cwd.iter().map(|d| (d.clone(), EITHER)).collect());
            (skipped, cwd)
        });
        self.subshells.push(Subshell { started, around });
        self.pipeline = None;
        self.next = Join::Then;
        self.start_list();
    }

    /// `)`: the shell is back where the subshell started.
    pub(super) fn close(&mut self) {
        if let Some(Subshell { started, around }) = self.subshells.pop() {
            if let Some((skipped, cwd)) = started {
                let mut now = skipped;
                for dir in cwd {
                    add(&mut now, dir, EITHER);
                }
                self.set(now);
            } else {
                self.active = false;
                self.now.clear();
            }
            self.list_start = around;
        }
        self.pipeline = None;
        self.next = Join::Then;
    }

    fn set(&mut self, mut now: Outcomes) {
        if now.is_empty() {
            // Only after `exit`: what follows never runs; judged where the line started.
            now.push((String::new(), EITHER));
        }
        if now.len() > MAX_FOLDERS {
            now.truncate(MAX_FOLDERS - 1);
            now.push((SOMEWHERE.to_owned(), EITHER));
        }
        self.now = now;
    }

    /// What a command's words do to the folder: `cd`, `pushd`, `popd` (also behind `builtin` or
    /// `command`), `exit`, `true`, `false`; an `eval` of a `cd` goes somewhere unknown. A line
    /// that defines its own `cd` makes its `cd`s unknown.
    pub(super) fn move_of(&mut self, words: &[String]) -> Move {
        let mut words = words;
        while let Some((first, rest)) = words.split_first()
            && matches!(first.as_str(), "builtin" | "command")
        {
            words = rest;
        }
        let Some((name, args)) = words.split_first() else {
            return Move::Stay;
        };
        match shell_name(name) {
            "true" | ":" => Move::Works,
            "false" => Move::Fails,
            "exit" | "return" | "logout" => Move::Exit,
            "cd" | "chdir" | "pushd" | "popd" | "sl" if self.wary => {
                Move::Unknown(SOMEWHERE.to_owned())
            }
            "cd" | "chdir" | "pushd" | "popd" => cd(shell_name(name), args),
            "sl" => match cd("cd", args) {
                Move::To(to) => Move::Maybe(to),
                other => other,
            },
            "eval" if args.iter().any(|a| a.split_whitespace().any(is_cd)) => {
                Move::Unknown(SOMEWHERE.to_owned())
            }
            "function" | "alias" | "unalias" => {
                if args
                    .iter()
                    .any(|a| is_cd(a.split(['=', '(']).next().unwrap_or(a)))
                {
                    self.wary = true;
                }
                Move::Stay
            }
            _ => Move::Stay,
        }
    }
}

/// Whether a word names a shell's own command that changes folder.
pub fn is_cd(word: &str) -> bool {
    matches!(shell_name(word), "cd" | "chdir" | "pushd" | "popd")
}

/// A command's name, PowerShell's that change folder (`Set-Location`, `Push-Location`,
/// `Pop-Location`, in any case) as the shell's that do the same; no Unix program is named so.
fn shell_name(word: &str) -> &str {
    const POWERSHELL: &[(&str, &str)] = &[
        ("set-location", "cd"),
        ("push-location", "pushd"),
        ("pop-location", "popd"),
    ];
    POWERSHELL
        .iter()
        .find(|(name, _)| word.eq_ignore_ascii_case(name))
        .map_or(word, |(_, shell)| shell)
}

/// Where `cd`, `pushd` or `popd` with these arguments goes: options (`-P`, `-L`, `-e`, `-@`,
/// `-q`, `-s`) and `--` skipped; no operand is the home folder (`pushd` swaps, unknown); `cd
/// -` goes back ([`Move::Back`]), `pushd -` to `$OLDPWD`; a word with a `$` in it is where it says when it starts with it (`$HOME` read
/// as `~`), else unknown; `pushd -n` and `popd -n` leave the folder; `popd`, `pushd +1` and two
/// operands (zsh's `cd old new`) go somewhere unknown.
fn cd(name: &str, args: &[String]) -> Move {
    let stack = name != "cd" && name != "chdir";
    let mut operands: Vec<&str> = Vec::new();
    let mut ended = false;
    for arg in args {
        if !ended && arg == "--" {
            ended = true;
        } else if !ended
            && arg.len() > 1
            && (arg.starts_with('-') || (stack && arg.starts_with('+')))
        {
            if arg[1..].bytes().all(|b| b.is_ascii_digit()) {
                // `pushd +1`, `popd -0`: a place in the folder stack.
                return Move::Unknown(SOMEWHERE.to_owned());
            }
            if stack && arg == "-n" {
                return Move::Stay;
            }
        } else {
            operands.push(arg);
        }
    }
    if name == "popd" {
        return Move::Unknown(SOMEWHERE.to_owned());
    }
    match operands.as_slice() {
        [] if stack => Move::Unknown(SOMEWHERE.to_owned()),
        [] => Move::To("~".to_owned()),
        ["-"] if !stack => Move::Back,
        [target] => target_of(target),
        _ => Move::Unknown(SOMEWHERE.to_owned()),
    }
}

/// Where one `cd` operand goes.
fn target_of(target: &str) -> Move {
    if target.is_empty() {
        // `cd ""` stays where it is.
        return Move::Stay;
    }
    if target == "-" {
        return Move::Unknown("$OLDPWD".to_owned());
    }
    for home in ["$HOME", "${HOME}"] {
        if let Some(rest) = target.strip_prefix(home)
            && (rest.is_empty() || rest.starts_with('/'))
            && !rest.contains('$')
        {
            return Move::To(format!("~{rest}"));
        }
    }
    if target.starts_with('$') {
        return Move::Unknown(target.to_owned());
    }
    if target.contains('$') || target.starts_with("~+") || target.starts_with("~-") {
        return Move::Unknown(SOMEWHERE.to_owned());
    }
    Move::To(target.to_owned())
}

/// `path` in the folder `dir` (`""` the line's first folder): `secrets` and `key.pem` are
/// `secrets/key.pem`; a path from `/`, `~` or a variable is where it says.
pub fn in_folder(dir: &str, path: &str) -> String {
    if dir.is_empty() || path.starts_with(['/', '~', '$']) {
        return path.to_owned();
    }
    let mut path = path;
    while let Some(rest) = path.strip_prefix("./") {
        path = rest.trim_start_matches('/');
    }
    if path.is_empty() || path == "." {
        return dir.to_owned();
    }
    format!("{}/{path}", dir.trim_end_matches('/'))
}

/// A path the line builds around what a substitution prints or a variable holds
/// (`sec$(…)rets/k`, `"secr"$(echo)"ets/k"`, `secr$X/k`, `src/$X`): the value may be empty or
/// hold any name, `/` and `..` too, so the text before it says nothing of where the file is,
/// and the name it is in may be any. It is the path after that name, in a folder the line does
/// not name (`$(…)/k`, a lone `$(…)` when nothing follows), as a lone substitution's is, which
/// a deny takes for any folder (`check.rs`, `from_anywhere`). A path that starts with its only
/// value (`$X/k`, `$HOME/.ssh`) is left as it is, and so is a `$` that starts no value (`C$`).
pub fn unspelt(path: &str) -> std::borrow::Cow<'_, str> {
    let Some(end) = last_value_end(path) else {
        return path.into();
    };
    match path[end..].split_once('/') {
        Some((_, rest)) if !rest.is_empty() => format!("$(…)/{rest}").into(),
        _ => "$(…)".into(),
    }
}

/// Where the last value a shell puts into `path` ends (`$(…)`, `${X}`, `$X`, `$1`), when one is
/// there past its start.
fn last_value_end(path: &str) -> Option<usize> {
    let bytes = path.as_bytes();
    let mut last = None;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        let rest = &path[i + 1..];
        let len = if rest.starts_with("(…)") {
            "(…)".len()
        } else if rest.starts_with('{') {
            rest.find('}').map_or(rest.len(), |close| close + 1)
        } else if rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            rest.find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .unwrap_or(rest.len())
        } else if rest.starts_with(|c: char| c.is_ascii_digit() || "@*#?$!-".contains(c)) {
            1
        } else {
            i += 1;
            continue;
        };
        let name = &path[i + 1..i + 1 + len];
        if i > 0 && !is_number(name.trim_start_matches('{').trim_end_matches('}')) {
            last = Some(i + 1 + len);
        }
        i += 1 + len;
    }
    last
}

/// Whether a shell value is a number, which names no folder (`/tmp/out_$$.txt` is in `/tmp`):
/// the shell's process ids, counts and statuses.
fn is_number(name: &str) -> bool {
    matches!(
        name,
        "$" | "#"
            | "?"
            | "!"
            | "RANDOM"
            | "SRANDOM"
            | "UID"
            | "EUID"
            | "PPID"
            | "BASHPID"
            | "SECONDS"
            | "EPOCHSECONDS"
            | "LINENO"
    )
}

/// Where a `cd` to `to` from `dir` lands, as a shell's `cd` takes `.` and `..` (by the names
/// of the path, not by the links on disk): `cd secrets && cd ..` is back where the line
/// started (`""`), `cd src && cd ../secrets` in `secrets`. A `..` out of a place the line does
/// not name (`$X/..`), of the home folder (`~/..`) or of a Windows drive's root is kept.
pub fn cd_into(dir: &str, to: &str) -> String {
    let joined = in_folder(dir, to);
    let rooted = joined.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        let poppable = |p: &&str| *p != ".." && !p.starts_with(['$', '~']) && !p.ends_with(':');
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(poppable) => {
                parts.pop();
            }
            // `/..` is `/`.
            ".." if rooted && parts.is_empty() => {}
            part => parts.push(part),
        }
    }
    let path = parts.join("/");
    if rooted { format!("/{path}") } else { path }
}

/// Adds an outcome in `dir`, merged with one already there.
fn add(now: &mut Outcomes, dir: String, ended: u8) {
    match now.iter_mut().find(|(d, _)| *d == dir) {
        Some((_, e)) => *e |= ended,
        None => now.push((dir, ended)),
    }
}

/// Whether a folder is a Windows one: from a drive (`C:\Users\me`, `C:/x`) or a share
/// (`\\host\share`). A session recorded on Windows (a Codex rollout) names such folders.
pub fn is_windows_folder(dir: &str) -> bool {
    let b = dir.as_bytes();
    let drive =
        b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/');
    drive || dir.starts_with(r"\\")
}

/// A Windows path or command line in the shape the rest of the policy code reads: each `\` a
/// `/`, and a drive a folder at the root (`C:\Users\me` is `/C:/Users/me`), so that roots,
/// `..` and `cd`s work as for a Unix path. Only for a session whose folder is a Windows one
/// ([`is_windows_folder`]): on Unix `\` is a character of a name, and a shell's escape.
///
/// A path Windows takes as it is (`\\?\C:\x`, `\\.\C:\x`, `\\?\UNC\host\x`) is the path
/// after its prefix: the same file.
pub fn unix_shaped(text: &str) -> String {
    let chars: Vec<char> = text
        .chars()
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    let mut out = String::with_capacity(text.len() + 2);
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if starts_word(&chars, i) {
            if let Some(skip) = verbatim_prefix(&chars[i..]) {
                // The root of the drive or share after it.
                out.push('/');
                i += skip;
                continue;
            }
            if drive_at(&chars, i, false) {
                out.push('/');
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// How many characters a verbatim or device prefix takes at the start of a path in a Unix
/// shape, less the root it stands for: `//?/` and `//./` before a drive (`//?/C:/x` is
/// `/C:/x`), `//?/UNC` before a share (`//?/UNC/host/x` is `//host/x`).
fn verbatim_prefix(chars: &[char]) -> Option<usize> {
    let [a, b, c, d, rest @ ..] = chars else {
        return None;
    };
    if !(*a == '/' && *b == '/' && matches!(c, '?' | '.') && *d == '/') {
        return None;
    }
    if drive_at(rest, 0, true) {
        return Some(4);
    }
    let unc: String = rest.iter().take(4).collect::<String>().to_uppercase();
    (unc == "UNC/").then_some(7)
}

/// A path in a Unix shape ([`unix_shaped`]) as Windows opens it: each name's trailing dots and
/// spaces dropped (`secrets.\k` and `secrets\k.` open `secrets\k`), as Windows drops them when
/// it reads a path; no name made through it can end so. `.` and `..` stay.
pub fn windows_trimmed(path: &str) -> String {
    if !path.contains(['.', ' ']) {
        return path.to_owned();
    }
    path.split('/')
        .map(|name| match name {
            "." | ".." => name,
            _ => match name.trim_end_matches(['.', ' ']) {
                // A name of dots alone (`...`) is one Windows keeps.
                "" => name,
                trimmed => trimmed,
            },
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A Unix-shaped line with each path from a drive's current folder (`C:secrets/k`, which
/// Windows reads from the folder it is in on that drive) put under `cwd`, the folder the call
/// ran in, when that is on the same drive: `/C:/app/secrets/k`. A path on another drive is
/// left as written; where that drive stands is not known.
pub fn drive_relative_resolved(text: &str, cwd: &str) -> String {
    let cwd_chars: Vec<char> = cwd.chars().collect();
    let Some(&drive) = cwd_chars.get(1).filter(|_| drive_at(&cwd_chars, 1, true)) else {
        return text.to_owned();
    };
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + cwd.len());
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let relative = starts_word(&chars, i)
            && c.eq_ignore_ascii_case(&drive)
            && chars.get(i + 1) == Some(&':')
            && chars
                .get(i + 2)
                .is_some_and(|n| !n.is_whitespace() && !"/\"'=(<>|;&,:".contains(*n));
        if relative {
            out.push_str(cwd.trim_end_matches('/'));
            out.push('/');
            i += 2;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// A path or line [`unix_shaped`] made, its drives written as Windows writes them (`/C:/x` is
/// `C:/x`), for what a user is told.
pub fn windows_shaped(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let dropped = c == '/' && starts_word(&chars, i) && drive_at(&chars, i + 1, true);
        if !dropped {
            out.push(c);
        }
    }
    out
}

/// Whether a drive's root (`C:/`; `C:` at the end too when `or_end`, as a cleaned path writes
/// `C:/`) is at `i`. A bare `C:` elsewhere is that drive's current folder, no root.
fn drive_at(chars: &[char], i: usize, or_end: bool) -> bool {
    let (Some(letter), Some(':')) = (chars.get(i), chars.get(i + 1)) else {
        return false;
    };
    let root = match chars.get(i + 2) {
        Some('/') => true,
        None => or_end,
        Some(_) => false,
    };
    letter.is_ascii_alphabetic() && root
}

/// Whether a word starts at `i`: the line's start, or after a space, a quote or an operator,
/// or a `:` (PowerShell's `-Path:C:\x` gives the parameter a path from a drive).
fn starts_word(chars: &[char], i: usize) -> bool {
    i == 0 || chars[i - 1].is_whitespace() || "\"'=(<>|;&,:".contains(chars[i - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cd_takes_dots_by_name() {
        for (dir, to, lands) in [
            ("secrets", "..", ""),
            ("", ".", ""),
            ("", "./", ""),
            ("src", "../secrets", "secrets"),
            ("a/b", "../../..", ".."),
            ("", "..", ".."),
            ("/p/secrets", "..", "/p"),
            ("/", "..", "/"),
            ("$X", "..", "$X/.."),
            ("~", "..", "~/.."),
            ("~/a", "..", "~"),
            ("/C:", "..", "/C:/.."),
        ] {
            assert_eq!(cd_into(dir, to), lands, "cd {to} from {dir:?}");
        }
    }

    #[test]
    fn a_path_built_around_a_value_is_from_a_folder_the_line_does_not_name() {
        for (path, unspelt_as) in [
            ("sec$(…)rets/k", "$(…)/k"),
            ("secr$(…)ets/a/b", "$(…)/a/b"),
            ("secr$X/k", "$(…)/k"),
            ("sec${X:-a/b}rets/k", "$(…)/k"),
            ("src/ma$(…)in.rs", "$(…)"),
            ("src/$X", "$(…)"),
            ("$HOME/sec$1rets/k", "$(…)/k"),
            // Its only value first, or a `$` that starts none: as it is.
            ("$X/k", "$X/k"),
            ("$(…)/k", "$(…)/k"),
            ("//host/C$/k", "//host/C$/k"),
            ("a$", "a$"),
            ("/tmp/out_$$.txt", "/tmp/out_$$.txt"),
            ("/tmp/x${RANDOM}/k", "/tmp/x${RANDOM}/k"),
            ("src/main.rs", "src/main.rs"),
        ] {
            assert_eq!(unspelt(path), unspelt_as, "{path}");
        }
    }

    #[test]
    fn a_windows_name_loses_its_trailing_dots_and_spaces() {
        assert_eq!(windows_trimmed("secrets./k."), "secrets/k");
        assert_eq!(windows_trimmed("/C:/app/secrets. /k "), "/C:/app/secrets/k");
        assert_eq!(windows_trimmed("../a/./.../b"), "../a/./.../b");
    }

    #[test]
    fn windows_folders_and_lines_take_a_unix_shape_and_back() {
        assert!(is_windows_folder(r"C:\Users\me") && is_windows_folder("d:/x"));
        assert!(is_windows_folder(r"\\host\share"));
        assert!(
            !is_windows_folder("/home/me")
                && !is_windows_folder(r"a\b")
                && !is_windows_folder("C:")
        );
        assert_eq!(unix_shaped(r"C:\Users\me\app"), "/C:/Users/me/app");
        assert_eq!(
            unix_shaped(r#"type "C:\a b\k.txt" secrets\k.txt > D:\o"#),
            r#"type "/C:/a b/k.txt" secrets/k.txt > /D:/o"#
        );
        // A URL's scheme, a bare drive and a `:` in a word are no root.
        assert_eq!(
            unix_shaped("curl https://x/a c: ab:/x"),
            "curl https://x/a c: ab:/x"
        );
        assert_eq!(
            windows_shaped("cat /C:/app/k.txt /C:"),
            "cat C:/app/k.txt C:"
        );
        assert_eq!(windows_shaped("/usr/a:/b x/C:/y"), "/usr/a:/b x/C:/y");
        assert_eq!(
            unix_shaped(r"type \\?\C:\a\k \\.\d:\k \\?\UNC\h\s\k"),
            "type /C:/a/k /d:/k //h/s/k"
        );
        assert_eq!(
            drive_relative_resolved("type C:secrets/k c:k D:k C:/x C:", "/C:/app"),
            "type /C:/app/secrets/k /C:/app/k D:k C:/x C:"
        );
    }
}
