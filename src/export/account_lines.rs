//! The accounts and groups of listings that no pattern of a line finds, for
//! [`super::account_columns`]: a `ps` table of chosen columns (`ps -o user,pid,cmd`, `ps -eo
//! pid,user:20,comm`), whose account is wherever its header says, and the groups `id -Gn` and
//! `groups` print as bare words (`mrotili sudo acme-eng docker`, `mrotili : mrotili sudo`),
//! told by the command that printed them ([`lists_groups`]) but for `groups <user>`'s line.
//! Both were exported: a person's account is `[USER]`, a team's group `[GROUP]`, the
//! system's own stay.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::account_columns::{Columns, SYSTEM_ACCOUNTS};
use super::anonymize::Report;

/// The headers `ps` prints for its columns (procps' and BSD's): a header line made of these
/// alone, with a process's id and an account or a group among them, starts a table.
const PS_HEADERS: &[&str] = &[
    "%CPU", "%MEM", "ADDR", "ARGS", "C", "CLS", "CMD", "COMMAND", "CPU", "EGID", "EGROUP",
    "ELAPSED", "ETIME", "ETIMES", "EUID", "EUSER", "F", "FGID", "FGROUP", "FUID", "FUSER", "GID",
    "GROUP", "LABEL", "LWP", "NI", "NLWP", "PGID", "PID", "POL", "PPID", "PRI", "PSR", "RGID",
    "RGROUP", "RSS", "RSZ", "RTPRIO", "RUID", "RUSER", "S", "SESS", "SGID", "SGROUP", "SID",
    "STARTED", "START", "STAT", "STIME", "SUID", "SUSER", "SZ", "THCNT", "TID", "TIME", "TPGID",
    "TT", "TTY", "UCOMM", "UID", "USER", "VSZ", "WCHAN",
];

/// The columns of [`PS_HEADERS`] that name an account (`UID` does in `ps -ef`; a number there
/// names no one and stays).
const ACCOUNT_HEADERS: &[&str] = &[
    "USER", "RUSER", "EUSER", "SUSER", "FUSER", "UID", "RUID", "EUID", "SUID", "FUID",
];

/// The columns of [`PS_HEADERS`] that name a group.
const GROUP_HEADERS: &[&str] = &[
    "GROUP", "RGROUP", "EGROUP", "SGROUP", "FGROUP", "GID", "RGID", "EGID", "SGID", "FGID",
];

/// The columns of [`PS_HEADERS`] whose value may hold spaces (a command line, `lstart`'s
/// `Thu Jan  2 10:00:00 2026`): the columns after one are told only in a line with no more
/// words than the header.
const FREE_HEADERS: &[&str] = &["ARGS", "CMD", "COMMAND", "STARTED", "UCOMM"];

/// The columns of [`PS_HEADERS`] that hold a process's id: a line whose id is no number ends
/// the table.
const ID_HEADERS: &[&str] = &["PID", "PPID", "PGID", "SID", "TID", "LWP"];

/// The lines of `text`, as ranges: a line break ends one, and so does one escaped in JSON text
/// (`\n`), as a listing a tool printed as JSON has it; a carriage return before it is left out.
pub(super) fn lines(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut at) = (0, 0);
    while at < bytes.len() {
        let brk = match bytes[at] {
            b'\n' => 1,
            b'\\' if bytes.get(at + 1) == Some(&b'n') => 2,
            _ => 0,
        };
        if brk == 0 {
            at += 1;
            continue;
        }
        out.push(start..trim_return(text, start, at));
        at += brk;
        start = at;
    }
    out.push(start..trim_return(text, start, bytes.len()));
    out
}

/// `end`, before a carriage return (plain or escaped) the line `start..end` ends with.
fn trim_return(text: &str, start: usize, end: usize) -> usize {
    let line = &text[start..end];
    let kept = line
        .strip_suffix('\r')
        .or_else(|| line.strip_suffix("\\r"))
        .unwrap_or(line);
    start + kept.len()
}

/// The words of `text[range]` (split at spaces and tabs), as ranges of `text`.
fn words(text: &str, range: Range<usize>) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text[range.clone()].char_indices() {
        let at = range.start + i;
        match (c == ' ' || c == '\t', start) {
            (true, Some(s)) => {
                out.push(s..at);
                start = None;
            }
            (false, None) => start = Some(at),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(s..range.end);
    }
    out
}

/// `text` with each of `edits` (a range and what replaces it, in order) made and noted.
fn apply<'t>(
    text: Cow<'t, str>,
    edits: Vec<(Range<usize>, &str)>,
    report: &mut Report,
) -> Cow<'t, str> {
    if edits.is_empty() {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (range, new) in edits {
        report.note("account", &text[range.clone()], new);
        out.push_str(&text[at..range.start]);
        out.push_str(new);
        at = range.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// The accounts and groups of every `ps` table of chosen columns in `text`, found by their
/// header (`USER PID CMD`, `PID USER %CPU COMMAND`): each line under it, while its process's
/// id is a number where the header says, has its account and group columns replaced as a
/// listing's ([`Columns::owner`], [`Columns::group`]).
pub(super) fn ps_tables<'t>(
    columns: &Columns<'_>,
    text: Cow<'t, str>,
    report: &mut Report,
) -> Cow<'t, str> {
    // Most texts hold no header: each line of them is not looked at.
    let holds = |list: &[&str]| list.iter().any(|h| text.contains(h));
    if !holds(ID_HEADERS) || !(holds(ACCOUNT_HEADERS) || holds(GROUP_HEADERS)) {
        return text;
    }
    let mut edits = Vec::new();
    let mut header: Option<Vec<&str>> = None;
    for line in lines(&text) {
        // A listing printed as JSON text starts after the quote opening its string.
        let start = text[line.clone()]
            .rfind('"')
            .map_or(line.start, |q| line.start + q + 1);
        if let Some(columns_named) = &header {
            // A line's text ends at a quote closing the string.
            let end = text[line.clone()]
                .find('"')
                .map_or(line.end, |q| line.start + q);
            if ps_row(columns, &text, columns_named, line.start..end, &mut edits) {
                continue;
            }
        }
        header = ps_header(&text[start..line.end]);
    }
    apply(text, edits, report)
}

/// The column names of `line` when it is a `ps` header with an account or a group column and
/// a process's id.
fn ps_header(line: &str) -> Option<Vec<&str>> {
    let names: Vec<&str> = line.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
    let named = |list: &[&str]| names.iter().any(|n| list.contains(n));
    (names.len() >= 2
        && names.iter().all(|n| PS_HEADERS.contains(n))
        && named(ID_HEADERS)
        && (named(ACCOUNT_HEADERS) || named(GROUP_HEADERS)))
    .then_some(names)
}

/// One line under a `ps` header `names`: its account and group columns' edits, pushed to
/// `edits`; `false` when it is no line of the table (its process's id is no number, or it has
/// too few words).
fn ps_row(
    columns: &Columns<'_>,
    text: &str,
    names: &[&str],
    line: Range<usize>,
    edits: &mut Vec<(Range<usize>, &'static str)>,
) -> bool {
    let found = words(text, line);
    let exact = found.len() == names.len();
    if found.len() < names.len() || (!exact && !names.iter().any(|n| FREE_HEADERS.contains(n))) {
        return false;
    }
    // With more words than columns, only those before the first that may hold spaces are told.
    let told = if exact {
        names.len()
    } else {
        names
            .iter()
            .position(|n| FREE_HEADERS.contains(n))
            .unwrap_or(names.len())
    };
    let ids_ok = names[..told]
        .iter()
        .zip(&found)
        .filter(|(n, _)| ID_HEADERS.contains(n))
        .all(|(_, w)| text[w.clone()].chars().all(|c| c.is_ascii_digit()));
    let has_id = names[..told].iter().any(|n| ID_HEADERS.contains(n));
    if !ids_ok || !has_id {
        return false;
    }
    let owner = names[..told]
        .iter()
        .zip(&found)
        .find(|(n, _)| ACCOUNT_HEADERS.contains(n))
        .map(|(_, w)| &text[w.clone()]);
    let new_owner = owner.map_or("", |o| columns.owner(o));
    for (name, word) in names[..told].iter().zip(&found) {
        let old = &text[word.clone()];
        let new = if ACCOUNT_HEADERS.contains(name) {
            columns.owner(old)
        } else if GROUP_HEADERS.contains(name) {
            columns.group(old, owner.unwrap_or(""), new_owner)
        } else {
            continue;
        };
        if new != old {
            edits.push((word.clone(), static_of(new)));
        }
    }
    true
}

/// The placeholders [`Columns`] replaces with, as `'static`: what it returns is either one of
/// them or the name it was given.
fn static_of(new: &str) -> &'static str {
    [super::anonymize::USER, super::anonymize::GROUP]
        .into_iter()
        .find(|p| *p == new)
        .unwrap_or("")
}

/// Whether `name` is a group a system has for itself (`sudo`, `adm`, `docker`, `_lpadmin`):
/// a list of groups holds some.
fn system_group(name: &str) -> bool {
    SYSTEM_ACCOUNTS.contains(&name)
        || ["root", "docker", "admin", "users", "everyone"].contains(&name)
        || name.starts_with('_')
        || name.starts_with("com.apple.")
}

/// Whether `word` is shaped as a group's name (`acme-eng`, `_appserveradm`, `domain$`).
fn group_shaped(word: &str) -> bool {
    let body = word.strip_suffix('$').unwrap_or(word);
    body.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && body
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'))
}

/// Whether `command` is one that prints only accounts and groups, as bare words: `id -Gn`
/// (`-nG`, `-gn`, `-un`, of a user named or not) or `groups` (of users named or not), alone or
/// run one after another (`id -Gn; groups`). Beside any other command (`id -Gn alice && echo
/// done`), nothing says which lines are the lists: the one `id` prints is first only when it
/// succeeds or says why on the same output, and `done` would be taken for an account.
pub(super) fn lists_groups(command: &str) -> bool {
    let mut parts = command
        .split([';', '\n'])
        .flat_map(|part| part.split("&&"))
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .peekable();
    parts.peek().is_some() && parts.all(|part| GROUPS_COMMAND.is_match(part))
}

/// A command [`lists_groups`] takes.
static GROUPS_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:id[ \t]+-(?:[Gguz]*n[Gguz]*)[ \t]*(?:[A-Za-z_][\w.-]*)?",
        r"|groups(?:[ \t]+[A-Za-z_][\w.-]*)*)[ \t]*(?:2>&1)?[ \t]*$",
    ))
    .expect("the groups command pattern compiles")
});

/// The accounts and groups of every line of `text` that is a list of them. `groups <user>`
/// prints `<user> : <groups>`, the account's own group first (or two of the system's among
/// them): that line is one wherever it stands. Bare words (`alice sudo acme-eng docker`, as
/// `id -Gn` and `groups` print them, the account's own group first) are a list only in the
/// output of such a command (`listed`, [`lists_groups`]): elsewhere they are as often a
/// sentence or a command (`alice fixed docker sudo rules`, `sudo apt install docker`). The
/// account and a group named as it are `[USER]`, another group no system's `[GROUP]`.
pub(super) fn group_lists<'t>(
    columns: &Columns<'_>,
    text: Cow<'t, str>,
    listed: bool,
    report: &mut Report,
) -> Cow<'t, str> {
    // Outside a command's output, only `groups <user>`'s line is one.
    if !listed && !text.contains(" : ") {
        return text;
    }
    let mut edits = Vec::new();
    for line in lines(&text) {
        let found = words(&text, line);
        let names: Vec<&str> = found.iter().map(|w| &text[w.clone()]).collect();
        let (owner, groups) = match names.as_slice() {
            [user, ":", groups @ ..] if !groups.is_empty() => (Some(*user), groups),
            [_, ..] if listed => (None, names.as_slice()),
            _ => continue,
        };
        if !groups.iter().chain(owner.iter()).all(|w| group_shaped(w)) {
            continue;
        }
        let first = owner.unwrap_or(groups[0]);
        let systems_among = groups.iter().filter(|g| system_group(g)).count();
        if owner.is_some_and(|user| !listed && groups[0] != user && systems_among < 2) {
            continue;
        }
        let new_first = columns.owner(first);
        let skip = usize::from(owner.is_some()) * 2;
        for (i, (word, range)) in names.iter().zip(&found).enumerate() {
            let new = if i == 0 {
                new_first
            } else if i < skip {
                continue;
            } else {
                columns.group(word, first, new_first)
            };
            if new != *word {
                edits.push((range.clone(), static_of(new)));
            }
        }
    }
    apply(text, edits, report)
}

/// `text` with each edit's range (in order, none overlapping) replaced by its text, each noted
/// in `report` under its kind: how a listing's and a command's names are put in place.
pub(super) fn splice(
    text: &str,
    edits: &[(Range<usize>, &str, &str)],
    report: &mut Report,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (range, kind, new) in edits {
        report.note(kind, &text[range.clone()], new);
        out.push_str(&text[at..range.start]);
        out.push_str(new);
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}
