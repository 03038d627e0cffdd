//! The settings files users of the Python tool already have, found and read in one way:
//! `.agent-scope.json` (policy), `.agent-strace-lint.json` (lint rules), `.agent-evals.yaml`
//! (eval scorers), `.agent-strace.yaml` (retention) and `.agent-strace/anonymize.yaml`
//! (`export --anonymize`).
//!
//! # Where a file is found
//!
//! As the store is (`Globals::store_root`): a path the command was given (its own flag, such
//! as a policy file named on the command line) wins and must exist; else the nearest ancestor
//! of the current directory that holds the file's name; else there is none and the command
//! uses its defaults. `.agent-strace.yaml` may also be spelled `.agent-strace.yml`, as the
//! Python tool accepts; in one folder the `.yaml` wins.
//!
//! # Files that are not read
//!
//! The search stops at the first folder where the name exists, whatever it is. A file found
//! there is read only if it is a regular file of at most [`FILE_LIMIT`] bytes, never by an open
//! that could block (a FIFO), and, since a folder above the project may be anyone's (`/tmp`),
//! only if it belongs to the user running us or to root, as git's `safe.directory` asks of a
//! repository: on a shared machine another user's `/tmp/.agent-scope.json` would otherwise
//! judge every project under `/tmp` and quote its text to the agent. A symbolic link is
//! followed only when the link too is the user's or root's. Anything else is an error
//! ([`SettingsError::Refused`]) that says why, never a silent fall-through to the defaults or
//! to a file further up. A file the command names itself is the user's choice: it is followed
//! wherever it links and whoever owns it, and must still be a regular file within the limit.
//! A UTF-8 byte order mark is skipped; a JSON or YAML file whose top is not an object is
//! invalid (`[]` once read as an empty policy), and so is a list where a key holds an object
//! (`{"files": [[], [["**"]]]}` once allowed every write; `objects.rs`).
//!
//! # Unknown keys
//!
//! Every struct here denies unknown keys: a misspelt key (`dney`, `treshold`, `retension`)
//! would otherwise leave a policy or a limit silently at its default, which for a policy means
//! allowing what the user meant to deny. Each struct knows every key the Python tool reads in
//! its file (checked against agent-strace 0.103.0), so a file it accepts and uses is accepted
//! here. Most of those keys are ones we act on; `.agent-strace.yaml` also holds sections for
//! commands of the Python tool we do not have (`workspaces`, `rbac`, `budget`, …), which are
//! accepted and passed over (`retention.rs` lists them). An eval
//! scorer's `type` is kept as written for the eval command to judge: one of its own, one of
//! the Python tool's it does not run (`llm_judge`, accepted and counted as failed), or a typo
//! (an error naming the file, line and key).
//!
//! # Errors
//!
//! A file that cannot be read, or that does not fit, is one [`SettingsError`], displayed as
//! `<file>:<line>: `<key>`: <what was expected>`, e.g. ``.agent-scope.json:12:
//! `files.write.allow`: expected a list of globs`` (`<file>: …` when no line is known, never
//! line 0). A key or value of the file that an error quotes is cut to [`QUOTED_CHARS`]
//! characters, the line to one. Only `cli` reads settings; commands hand the values down. No command reads them yet (audit, lint, eval and retention will); the
//! module is public so that `tests/settings.rs` checks discovery and errors as those commands
//! will meet them.

use std::io::Read;
use std::path::{Path, PathBuf};

use rustix::fs::{FileType, Mode, OFlags};
use serde::de::DeserializeOwned;

use self::objects::Objects;
use crate::model::text;
use crate::render::terminal::one_line;

/// The largest settings file read: 1 MiB, as for the agents' hook files (`agent_hooks`). A
/// policy of 26 MB made every hook take 2.7 s.
pub const FILE_LIMIT: u64 = 1024 * 1024;

/// How a settings file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Json,
    Yaml,
}

/// A kind of settings file: its names and syntax.
pub trait SettingsFile: DeserializeOwned {
    /// The file names looked for in each folder, the first preferred.
    const NAMES: &'static [&'static str];
    const SYNTAX: Syntax;
}

/// A settings file that was found and read.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<T> {
    pub path: PathBuf,
    pub settings: T,
}

/// Why a settings file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A file named explicitly is not there.
    #[error("{file}: no such settings file")]
    Missing { file: String },
    #[error("{file}: cannot read it: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The file was found but is not read: not a regular file, too large, or another user's.
    #[error("{file}: not read: {why}")]
    Refused { file: String, why: String },
    /// The file is not valid JSON or YAML, or a key holds what it cannot.
    #[error("{file}{}: {}{}", at_line(*line), key_prefix(key), cut_quoted(message))]
    Invalid {
        file: String,
        /// 1-based; 0 when the parser could not say, and then not shown.
        line: usize,
        /// The dotted path to the key (`files.write.allow`, `scorers[1].type`); empty when
        /// the file as a whole is wrong.
        key: String,
        message: String,
    },
}

impl SettingsError {
    /// The error a command reports, with its kind as the exit codes say: a file named on the
    /// command line that is not there is usage, one that cannot be read I/O, one that is refused
    /// or does not fit input. `message` is what it says ([`SettingsError::as_error`]: this).
    pub(crate) fn reported(&self, message: String) -> crate::error::Error {
        use crate::error::Error;
        match self {
            SettingsError::Missing { .. } => Error::usage(message),
            SettingsError::Read { .. } => Error::io(message),
            SettingsError::Refused { .. } | SettingsError::Invalid { .. } => Error::input(message),
        }
    }

    /// [`SettingsError::reported`] saying what the error says.
    pub(crate) fn as_error(&self) -> crate::error::Error {
        self.reported(self.to_string())
    }

    /// The file the error is about, as it was named or found.
    pub(crate) fn file(&self) -> &str {
        match self {
            SettingsError::Missing { file }
            | SettingsError::Read { file, .. }
            | SettingsError::Refused { file, .. }
            | SettingsError::Invalid { file, .. } => file,
        }
    }
}

/// The most characters of a key or a value from the file that an error quotes: the file is
/// the user's, but a key of a megabyte made an error line of two.
pub const QUOTED_CHARS: usize = 80;

/// The most characters of an error's message: a stop for text of the file quoted in a way
/// [`cut_quoted`] does not know. The longest known (an unknown scorer's key, with the
/// scorer's keys listed) takes about 250.
const MESSAGE_CHARS: usize = 400;

/// `:<line>` after the file's name, or nothing when the line is not known (0).
fn at_line(line: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}")
    }
}

fn key_prefix(key: &str) -> String {
    // `?`: the reader could not say which key of the object (a key given twice): the object's.
    let key = key.trim_end_matches('?').trim_end_matches('.');
    if key.is_empty() {
        String::new()
    } else {
        format!("`{}`: ", one_line(key, QUOTED_CHARS))
    }
}

/// `message` on one line, the key or value of the file it quotes cut to [`QUOTED_CHARS`]:
/// serde's `unknown field `K`, expected …`, `found string "V"`, and ours, `K` is given twice.
/// The quoted text is taken up to the last end that fits, since it may hold a quote itself.
fn cut_quoted(message: &str) -> String {
    // Where quoted text starts, and the ends it can have.
    const SHAPES: &[(&str, &[&str])] = &[
        ("unknown field `", &["`, expected", "`, there are no"]),
        ("unknown variant `", &["`, expected", "`, there are no"]),
        ("duplicate field `", &["`"]),
        ("found string \"", &["\""]),
        ("string \"", &["\", expected"]),
        ("`", &["` is given twice"]),
    ];
    let quoted = SHAPES.iter().find_map(|(open, ends)| {
        let start = message.find(open)? + open.len();
        let end = ends
            .iter()
            .filter_map(|end| message[start..].rfind(end))
            .max()?;
        Some((start, start + end))
    });
    let message = match quoted {
        Some((start, end)) => format!(
            "{}{}{}",
            &message[..start],
            one_line(&message[start..end], QUOTED_CHARS),
            &message[end..]
        ),
        None => message.to_owned(),
    };
    one_line(&message, MESSAGE_CHARS)
}

/// A path named to a command, absolute, its `.` and `..` taken off by name, as a shell's `cd`
/// takes them: the hooks are given it, and the folder it is named from may be gone by the time
/// a hook runs (`sub/../../store` written as such stopped every hook recording once `sub` was
/// removed); a policy's folder anchors its globs, which `--policy ../pol/p.json` and
/// `--policy /x/pol/p.json` must anchor at the same folder. Links are left as they are: a store
/// that is a link, moved to point elsewhere, moves the hooks' store with it.
pub fn resolved(path: &Path) -> std::io::Result<PathBuf> {
    let mut clean = PathBuf::new();
    for part in std::path::absolute(path)?.components() {
        match part {
            std::path::Component::ParentDir => {
                clean.pop();
            }
            std::path::Component::CurDir => {}
            other => clean.push(other),
        }
    }
    Ok(clean)
}

/// Finds and reads a settings file of kind `T`: `explicit` if given, else the nearest of
/// `T::NAMES` in `start` or above it. `Ok(None)` when there is none.
pub fn load<T: SettingsFile>(
    start: &Path,
    explicit: Option<&Path>,
) -> Result<Option<Loaded<T>>, SettingsError> {
    let (path, trusting) = match explicit {
        Some(path) => {
            let path = start.join(path);
            if !path.exists() {
                return Err(SettingsError::Missing {
                    file: shown(start, &path),
                });
            }
            (path, true)
        }
        None => match find(start, T::NAMES) {
            Some(path) => (path, false),
            None => return Ok(None),
        },
    };
    let file = shown(start, &path);
    let text = read_shown(&file, &path, trusting)?;
    let settings = parse::<T>(&file, &text)?;
    Ok(Some(Loaded { path, settings }))
}

/// The text of a file the user named outside the settings kinds (`watch --rules`), read as
/// [`load`] reads a named one: a folder, a FIFO or a device is refused saying what it is, and a
/// file over the size limit is not read whole.
pub fn read_named(file: &str, path: &Path) -> Result<String, SettingsError> {
    read_shown(file, path, true)
}

/// The text of `path`, shown in errors as `file`.
fn read_shown(file: &str, path: &Path, trusting: bool) -> Result<String, SettingsError> {
    read(path, trusting).map_err(|e| match e {
        Unread::Io(source) => SettingsError::Read {
            file: file.to_owned(),
            source,
        },
        Unread::Refused(why) => SettingsError::Refused {
            file: file.to_owned(),
            why,
        },
        Unread::NotText { line } => SettingsError::Invalid {
            file: file.to_owned(),
            line,
            key: String::new(),
            message: "not UTF-8 text".to_owned(),
        },
    })
}

/// The nearest file named one of `names` in `start` or an ancestor: the first name that exists
/// there as anything at all (a folder, a FIFO or a broken link stops the search too, and is
/// then refused by [`load`], so that a file that cannot be read is said, never passed over).
pub fn find(start: &Path, names: &[&str]) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        names
            .iter()
            .map(|name| dir.join(name))
            .find(|candidate| candidate.symlink_metadata().is_ok())
    })
}

/// Why a file was not read.
enum Unread {
    Io(std::io::Error),
    Refused(String),
    /// Bytes that are not UTF-8, from this line on: the file's content is wrong, as a syntax
    /// error's is, not its reading.
    NotText {
        line: usize,
    },
}

/// The text of a settings file, read as the module's header says: `trusting` for a file the
/// user named.
fn read(path: &Path, trusting: bool) -> Result<String, Unread> {
    let link = path.symlink_metadata().map_err(Unread::Io)?;
    let is_link = link.file_type().is_symlink();
    if !trusting && is_link && !trusted_owner(std::os::unix::fs::MetadataExt::uid(&link)) {
        return Err(Unread::Refused(format!(
            "it is a symbolic link of another user's (uid {}), which is not followed",
            std::os::unix::fs::MetadataExt::uid(&link)
        )));
    }
    let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    if !is_link {
        // The name was checked as no link: a link put there since is not followed.
        flags |= OFlags::NOFOLLOW;
    }
    let fd = rustix::fs::open(path, flags, Mode::empty()).map_err(|e| match e {
        rustix::io::Errno::NOENT if is_link => {
            Unread::Refused("it is a symbolic link to nothing".to_owned())
        }
        rustix::io::Errno::LOOP => Unread::Refused("it is a symbolic link".to_owned()),
        e => Unread::Io(e.into()),
    })?;
    let stat = rustix::fs::fstat(&fd).map_err(|e| Unread::Io(e.into()))?;
    let kind = FileType::from_raw_mode(stat.st_mode);
    if kind != FileType::RegularFile {
        let what = crate::store::describe(kind);
        let through = if is_link { "a symbolic link to " } else { "" };
        return Err(Unread::Refused(format!(
            "it is {through}{what}, not a regular file"
        )));
    }
    if !trusting && !trusted_owner(stat.st_uid) {
        return Err(Unread::Refused(format!(
            "it belongs to another user (uid {}), and a settings file is obeyed only when it \
             is yours or root's; remove it, or name it yourself if you trust it",
            stat.st_uid
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::from(fd)
        .take(FILE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(Unread::Io)?;
    if bytes.len() as u64 > FILE_LIMIT {
        return Err(Unread::Refused(format!(
            "it is larger than {} KiB",
            FILE_LIMIT / 1024
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        Unread::NotText {
            line: valid.split(|&b| b == b'\n').count(),
        }
    })
}

/// Whether a file owned by `uid` may be obeyed: it is the user's own, or root's.
fn trusted_owner(uid: u32) -> bool {
    uid == 0 || uid == rustix::process::geteuid().as_raw()
}

/// `path` as a user would name it from `start`: relative when it is inside, else in full.
fn shown(start: &Path, path: &Path) -> String {
    path.strip_prefix(start)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// `text` without the byte order mark that editors on Windows write first, which is no text.
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Reads the text of a settings file named `file` (for messages).
pub fn parse<T: SettingsFile>(file: &str, text: &str) -> Result<T, SettingsError> {
    let invalid = |line: usize, key: String, message: String| SettingsError::Invalid {
        file: file.to_owned(),
        line,
        key,
        message,
    };
    let text = without_bom(text);
    if let Some((line, found)) = top_not_a_mapping(T::SYNTAX, text) {
        return Err(invalid(
            line,
            String::new(),
            format!("expected an object at the top, found {found}"),
        ));
    }
    match T::SYNTAX {
        Syntax::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            let value = serde_path_to_error::deserialize(Objects(&mut de)).map_err(|e| {
                let (line, key, message) = json_error(e, text);
                invalid(line, key, message)
            })?;
            de.end()
                .map_err(|e| invalid(e.line(), String::new(), json_message(&e, false)))?;
            Ok(value)
        }
        Syntax::Yaml => {
            // An empty file (or one of comments only) is an empty mapping, as for the Python
            // tool.
            if text.lines().all(|l| {
                let l = l.trim();
                l.is_empty() || l.starts_with('#')
            }) {
                return parse_yaml::<T>("{}")
                    .map_err(|(line, key, message)| invalid(line, key, message));
            }
            parse_yaml::<T>(text).map_err(|(line, key, message)| invalid(line, key, message))
        }
    }
}

/// Where the top of a file is a value other than an object (which serde would read into a
/// struct: a list, `[]`, as an empty policy): its line and what it is.
fn top_not_a_mapping(syntax: Syntax, text: &str) -> Option<(usize, &'static str)> {
    let (at, line) = text.lines().enumerate().find(|(_, l)| {
        let l = l.trim();
        !l.is_empty() && !(syntax == Syntax::Yaml && (l.starts_with('#') || l == "---"))
    })?;
    let line_text = line.trim_start();
    let found = match syntax {
        Syntax::Json => match line_text.chars().next()? {
            '{' => return None,
            '[' => "a list",
            '"' => "a string",
            _ => "a value that is not an object",
        },
        Syntax::Yaml => {
            if line_text.starts_with("- ") || line_text == "-" || line_text.starts_with('[') {
                "a list"
            } else {
                return None;
            }
        }
    };
    Some((at + 1, found))
}

/// Where and what a JSON file's error is, for `text` as a whole: its line, its key (none for
/// a syntax error, but for one in text that is JSON: `"level": 5`) and its message.
pub(super) fn json_error(
    e: serde_path_to_error::Error<serde_json::Error>,
    text: &str,
) -> (usize, String, String) {
    let key = e.path().to_string();
    let inner = e.into_inner();
    let is_json = serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
    let key = if inner.is_data() || (is_json && key != ".") {
        key
    } else {
        String::new()
    };
    (inner.line(), key, json_message(&inner, is_json))
}

/// serde_json's message without its "at line L column C" tail (the line is given apart).
/// In text that is JSON (`is_json`), "expected value" is a number or list where a choice of
/// words goes (`"level": 5`); another error there (`1e400`: "number out of range") keeps its
/// words.
pub(super) fn json_message(e: &serde_json::Error, is_json: bool) -> String {
    let text = e.to_string();
    let text = text
        .rfind(" at line ")
        .map_or(text.as_str(), |at| &text[..at]);
    if is_json && e.is_syntax() && text == "expected value" {
        return "expected a word in quotes".to_owned();
    }
    expected(text)
}

fn parse_yaml<T: DeserializeOwned>(text: &str) -> Result<T, (usize, String, String)> {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    // The key of a value that does not fit, kept here: an error returned from inside is
    // passed on as it is, where a value returned early would be taken for a second document.
    let mut key = String::new();
    serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        serde_path_to_error::deserialize::<_, T>(Objects(de)).map_err(|e| {
            key = e.path().to_string();
            e.into_inner()
        })
    })
    .map_err(|e| (yaml_line(&e), key, yaml_message(&e)))
}

fn yaml_line(e: &serde_saphyr::Error) -> usize {
    e.location()
        .map_or(0, |l| usize::try_from(l.line()).unwrap_or(0))
}

/// serde-saphyr's message on one line, without the location it appends (given apart): its
/// tail `at line L, column C`, and the `(used at line L, column C)` of a value an alias
/// repeats, which was cut to `(used`. An alias's `(defined at …)` stays: it names another line.
fn yaml_message(e: &serde_saphyr::Error) -> String {
    if let Some(words) = budget_words(e) {
        return words;
    }
    // Its words advise the program ("use from_str_multiple"), not the user.
    let mut inner = e;
    while let serde_saphyr::Error::WithSnippet { error, .. } = inner {
        inner = error;
    }
    if let serde_saphyr::Error::MultipleDocuments { .. } = inner {
        return "a second YAML document begins here (after `---`): a settings file is one"
            .to_owned();
    }
    let text = e.to_string();
    let mut first = text.lines().next().unwrap_or_default().trim();
    if let Some(at) = first.rfind(" (used at line ") {
        first = &first[..at];
    }
    if let Some(at) = first.rfind(" at line ")
        && !first[at..].contains(')')
    {
        first = &first[..at];
    }
    // Advice to the program that reads YAML, not to the user.
    if let Some(at) = first.find(", set DuplicateKeyPolicy") {
        first = &first[..at];
    }
    let first = first.trim_end_matches(['.', ':']);
    // serde-saphyr's words where a struct or a list is read from something else.
    if first == "expected mapping start" {
        return "expected an object".to_owned();
    }
    if first == "expected sequence start" {
        return "expected a list".to_owned();
    }
    match first.strip_prefix("duplicate mapping key: ") {
        Some(key) => format!("`{key}` is given twice"),
        None => expected(first),
    }
}

/// A YAML budget breached, in words: serde-saphyr says it in Rust's (`budget breached:
/// Nodes { nodes: 250001 }`). The limits are those of its default options, which `parse_yaml`
/// reads with.
fn budget_words(mut e: &serde_saphyr::Error) -> Option<String> {
    use serde_saphyr::Error;
    use serde_saphyr::budget::BudgetBreach;
    // The breach itself, under what says where an alias used it.
    while let Error::AliasError { error, .. } | Error::WithSnippet { error, .. } = e {
        e = error;
    }
    let Error::Budget { breach, .. } = e else {
        return None;
    };
    let limits = serde_saphyr::Budget::default();
    let more_than = |n: usize, what: &str| {
        format!(
            "the file has more than {} {what}",
            text::thousands(n as u64)
        )
    };
    Some(match breach {
        BudgetBreach::Nodes { .. } => more_than(limits.max_nodes, "nodes (aliases expanded)"),
        BudgetBreach::Events { .. } => {
            more_than(limits.max_events, "YAML events (aliases expanded)")
        }
        BudgetBreach::Aliases { .. } => more_than(limits.max_aliases, "aliases"),
        BudgetBreach::Anchors { .. } => more_than(limits.max_anchors, "anchors"),
        BudgetBreach::Documents { .. } => more_than(limits.max_documents, "documents"),
        BudgetBreach::MergeKeys { .. } => more_than(limits.max_merge_keys, "merge keys"),
        BudgetBreach::Depth { .. } => {
            format!("the file nests more than {} levels deep", limits.max_depth)
        }
        BudgetBreach::AliasAnchorRatio { .. } => format!(
            "the file's aliases repeat its anchors too often (more than {} aliases to an anchor)",
            limits.alias_anchor_ratio_multiplier
        ),
        _ => "the file is too large or too deep for a settings file".to_owned(),
    })
}

/// serde's "invalid type: X, expected Y" said the way a user reads it: "expected Y, found X"
/// (Y in words when it is a Rust type: `a number`, not `f64`);
/// serde-saphyr's "invalid u64" or "invalid floating point" (a scalar its type cannot hold:
/// `-1`, `1e20`, `ten`) as what the key takes.
fn expected(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((found, wanted)) = rest.split_once(", expected ")
    {
        let wanted = scalar_wanted(wanted).unwrap_or_else(|| wanted.to_owned());
        return format!("expected {wanted}, found {found}");
    }
    if let Some(wanted) = message.strip_prefix("invalid ").and_then(scalar_wanted) {
        return format!("expected {wanted}");
    }
    message.to_owned()
}

/// What a scalar of a Rust type is, as a user writes it.
fn scalar_wanted(ty: &str) -> Option<String> {
    let whole = |least: i128, most: i128| {
        let said = |n: i128| {
            let digits = text::thousands(n.unsigned_abs() as u64);
            if n < 0 { format!("-{digits}") } else { digits }
        };
        Some(format!(
            "a whole number from {} to {}",
            said(least),
            said(most)
        ))
    };
    match ty {
        "u8" => whole(0, u8::MAX.into()),
        "u16" => whole(0, u16::MAX.into()),
        "u32" => whole(0, u32::MAX.into()),
        "u64" | "usize" => whole(0, u64::MAX.into()),
        "i32" => whole(i32::MIN.into(), i32::MAX.into()),
        "i64" | "isize" => whole(i64::MIN.into(), i64::MAX.into()),
        "floating point" | "f32" | "f64" => Some("a number".to_owned()),
        "boolean" | "bool" => Some("true or false".to_owned()),
        // A struct of ours, named by its Rust name (`struct LintRule`).
        _ if ty.starts_with("struct ") => Some("an object".to_owned()),
        _ => None,
    }
}

mod anonymize;
mod evals;
mod lint;
mod objects;
mod policy;
mod retention;
mod values;
mod watch;

pub use anonymize::*;
pub use evals::*;
pub use lint::*;
pub use policy::*;
pub use retention::*;
pub use values::{Commands, Globs, Hosts, KeptRefused, RuleGlobs, keeping_refused};
pub use watch::*;

#[cfg(test)]
mod tests;
