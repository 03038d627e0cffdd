//! `export --anonymize`: rewrites what is exported (never the store) so that it names no one:
//! home folders become `~`, the recording machine's host name `[HOST]`, its users' names
//! `[USER]`, email addresses `[EMAIL]` and the name beside one (`Alice Smith <…>`) `[NAME]`, the
//! repository the session was recorded in `[REPO]`
//! (in the text too, in all its spellings), its working folder outside any home `[CWD]`,
//! and the user's own literal and regex replacements
//! (`.agent-strace/anonymize.yaml`, read by the CLI and handed in as [`Replacement`]s) apply
//! first.
//!
//! What is known of a machine comes from two places: the caller's [`Machine`] (the machine
//! exporting, which is often the one that recorded) and each session itself, learned before
//! it is rewritten: `meta.json`'s `attribution` (`hostname`, `os_user`, `working_dir`), the
//! working folder its `session_start` names, and every `/home/<name>`, `/Users/<name>` and
//! `C:\Users\<name>` its events mention (`Alice Smith` of a profile folder with a space too).
//! A home folder found under another root (a working folder `/data/u/alice/app` of the user
//! `alice`) is replaced whole too. The user's full name, where the session writes it beside
//! their account's name or address (`Author: Alice Smith <alice@…>`, `Owner: Alice Smith`,
//! `owner: alice smith`),
//! is one of their names: the whole, each name and the handles joining them (`AliceSmith`).
//! Another person's full name beside an address (`Bob Jones <bob@…>` of a git log, `bob@…
//! (Bob Jones)`, in lower case where the address spells it: `bob jones <bob@…>`; see
//! [`super::named_address`]) is a `[NAME]` wherever the session writes it, and so is one after
//! a label alone (`Reporter: Pim Vandal`), where written capitalised.
//!
//! Names are replaced as whole words in any case (`alice`, `Alice`, but not `malice`; one of
//! five characters or more also joined by `_`: `alice_build`), also
//! right after an escape (`%2Falice`, `\nalice`) or spelled with escapes (`\u0061lice`), but
//! not where code calls them or reaches them as a member (`Math.max(`, `i32::MAX`). Names
//! that name no one as words (shorter than three characters, numbers, and the role accounts
//! and placeholders of [`GENERIC`]: `root`, `test`, `dev`, `app` …) are replaced only where
//! they surely are the account: in home paths, as `~<name>`, in a shell prompt's
//! `<name>@<host>` (whose host is replaced too, whoever it is) and in the attribution. The
//! order, within each string: the user's rules, the repository, names beside addresses, email
//! addresses (so an address is one `[EMAIL]`), home folders, macOS temporary folders, the
//! account columns of listings (`ls -l`, `stat`, `ps`, `id`, `who` …:
//! [`super::account_columns`]), shell prompts, host names (before
//! user names, since `alice-laptop` holds `alice`), other people's names, user names. Before
//! all of them, the result of a call whose command gave `stat` a format printing accounts
//! (`stat -c '%U %G %n'`), or listed groups (`id -Gn`), has those replaced where the command
//! puts them ([`super::call_output`]), and one of `whoami` or `hostname` its account and host
//! ([`super::identity_output`]), which are learned as the session's; so has the output of a
//! line the person ran from the prompt (`! whoami`, [`super::prompt_shell`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde::Serialize;
use serde_json::{Map, Value};

use super::Exported;
use super::account_columns::Columns;
use super::call_output::{CallOutput, CallOutputs};
use super::identity_output::Prints;
use super::named_address::{NOT_NAMES, name_shaped, names_beside_addresses};
use super::prompt_shell::{self, PromptShell};
use crate::model::tools::Agent;
use crate::model::view::View;
use crate::model::{Event, SessionMeta};

/// What replaces a home folder: the rest of the path stays (`/home/alice/src` → `~/src`).
pub const HOME: &str = "~";
pub const HOST: &str = "[HOST]";
pub const USER: &str = "[USER]";
pub const EMAIL: &str = "[EMAIL]";
/// What replaces the name beside an address (`Alice Smith <alice@corp.example>`).
pub const NAME: &str = "[NAME]";
/// What replaces the repository a session was recorded in (`attribution.git_repo`).
pub const REPO: &str = "[REPO]";
/// What replaces the session's working folder outside any home folder (`/srv/acme/app/x` →
/// `[CWD]/x`).
pub const CWD: &str = "[CWD]";
/// What replaces a group of `ls -l` that is no system's and no user's own (`acme-eng`).
pub const GROUP: &str = "[GROUP]";
/// What replaces a macOS per-user temporary folder (`/var/folders/7x/k2n…_h0000gn/T` →
/// `[TMPDIR]/T`).
pub const TEMP: &str = "[TMPDIR]";

/// Examples kept per kind for `--dry-run`.
const EXAMPLES: usize = 3;

/// Names that name no one: the role accounts of machines, containers, CI and cloud images
/// (`test`, `dev`, `runner`, `ubuntu`, `claude`), the agents' and models' own words, and the
/// placeholders of documentation (`/home/you`). Such a name is replaced only where it surely
/// is the account ([`Scrubber::text`]: home paths, `~name`, a shell prompt's `name@host`, and
/// the attribution), never as a word: an account so named is the same on thousands of
/// machines, so the word says nothing of who recorded, while replacing it would rewrite the
/// session's own words (`cargo test`, `npm run dev`, `claude-opus-4-6`).
///
/// A list, not a rule: a person's name can be a word too (`mark`, `will`), and for a person a
/// leak is worse than an odd `[USER]` in a sentence, which `--dry-run` shows. A dictionary
/// would leave every such name in the text; a length or character rule cannot tell `test`
/// from `zoe`.
pub(super) const GENERIC: &[&str] = &[
    "admin",
    "administrator",
    "agent",
    "app",
    "azureuser",
    "bar",
    "build",
    "builder",
    "circleci",
    "claude",
    "codespace",
    "coder",
    "codex",
    "default",
    "demo",
    "deploy",
    "dev",
    "developer",
    "docker",
    "ec2-user",
    "example",
    "foo",
    "gemini",
    "git",
    "gitpod",
    "guest",
    "jenkins",
    "linuxbrew",
    "localhost",
    "name",
    "node",
    "nobody",
    "postgres",
    "public",
    "root",
    "runner",
    "sandbox",
    "service",
    "shared",
    "student",
    "test",
    "tester",
    "ubuntu",
    "user",
    "username",
    "users",
    "vagrant",
    "vscode",
    "web",
    "worker",
    "www-data",
    "you",
    "yourname",
];

/// Whether `name` could be an account's or a profile folder's name: letters, digits, `.`,
/// `_` and `-`, an apostrophe of a surname (`O'Brien`, `D’Arcy`: a name learned beside an
/// address so spelled was replaced nowhere), and single spaces between words (`Alice
/// Smith`), starting with a letter, a digit or `_`. What a home path of documentation or a glob holds instead (`...`, `*`,
/// `$USER`, `{user}`) is replaced inside the path, but never looked for elsewhere: as `...`,
/// every ellipsis of the session became `[USER]`.
fn account_like(name: &str) -> bool {
    let ok = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '\'' | '’');
    name.split(' ').all(|w| !w.is_empty() && w.chars().all(ok))
        && name.starts_with(|c: char| c.is_alphanumeric() || c == '_')
}

/// Whether `name` is replaced wherever it stands as a word: an account-like name
/// ([`account_like`]) of three characters or more, not [`GENERIC`], and with a letter or
/// else a host's address (`10.0.0.7`): a name of digits (`1000`, an account `ls` shows by
/// its id, or a host's short name `192` of `192.168.1.20`) would rewrite every such number.
/// Shorter names are common words or parts of words (`al`, `vm`).
fn distinctive(name: &str) -> bool {
    let address = name.split('.').count() == 4
        && name
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    account_like(name)
        && name.chars().count() >= 3
        && (name.chars().any(char::is_alphabetic) || address)
        && !GENERIC.contains(&name.to_lowercase().as_str())
}

/// What holds the home folders of a system: `/home`, `/Users`, and the `/Users` of a Windows
/// drive as WSL (`/mnt/c/Users`), Git Bash (`/c/Users`) and Cygwin (`/cygdrive/c/Users`)
/// show it, whose home folder is replaced whole (it was `/mnt/c~`); under `/mnt` and
/// `/cygdrive` in any case, as Windows reads it (`/mnt/c/users/alice` was exported whole). A
/// `/users/…` elsewhere is not one: it is as often a URL's route (`/a/users/42`).
const UNIX_HOMES: &str = r"(?:(?:/mnt|/cygdrive)/[A-Za-z]/(?i:Users)|(?:/[A-Za-z])?/Users|/home)/";

/// The same, with JSON's escaped slashes.
const UNIX_HOMES_ESCAPED: &str = concat!(
    r"(?:(?:\\/mnt|\\/cygdrive)\\/[A-Za-z]\\/(?i:Users)",
    r"|(?:\\/[A-Za-z])?\\/Users|\\/home)\\/"
);

/// A Windows drive's `Users` folder (Windows XP's `Documents and Settings`, whose homes were
/// exported whole), after the `\\?\` of a long path or not (it was left before the `~`),
/// backslashes doubled or not, or forward slashes, in any
/// case: Windows reads `c:\users\bob` as `C:\Users\bob`, and tools that fold a path's case
/// print it so. Also a WSL distribution's `home` as Windows names it
/// (`\\wsl$\Ubuntu\home\`, `\\wsl.localhost\Ubuntu-22.04\home\`), whose name was left.
const WINDOWS_HOMES: &str = concat!(
    r"(?:(?:\\{2,}\?\\+)?\b[A-Za-z]:(?:\\+|/)(?i:Users|Documents and Settings)",
    r#"|\\{2,}(?i:wsl\$|wsl\.localhost)\\+[^\\/\s"'`]+\\+home)(?:\\+|/)"#
);

/// `/home/<name>`, `/Users/<name>` (also under a Windows drive, see [`UNIX_HOMES`]), `/root`,
/// and `C:\Users\<name>` (backslashes doubled or not, as JSON text inside a string has them,
/// or forward slashes); each also percent-encoded, as a URL's query or a file URL carries it
/// (`%2Fhome%2Falice`, `C%3A%5CUsers%5Calice`), and with JSON's escaped slashes
/// (`\/home\/alice`). A home folder whose name has spaces (`C:\Users\Alice Smith`,
/// `/home/alice smith`) is taken whole only where the path surely goes on past a space:
/// inside quotes, at the start of the text (a field holding one path: a `cwd`, a
/// `file_path`, a line of a listing), each until a separator or a closing quote; and a Unix
/// one with its spaces escaped (`alice\ smith`). Elsewhere a space ends the path, as a shell
/// reads it: `copy C:\Users\alice src\x` and `cp -r /home/alice src/` are two paths each, and
/// `C:\Users\alice src` taken whole lost `src` (`copy ~\x`) and taught `alice src` as a
/// user's name. `/root` starts a path after a space, a quote, `=`, `(`, or a `:` after a path
/// ([`follows_a_path`]: `PATH=/root/bin:/root/.local/bin` was `~/bin:/root/.local/bin`). Such
/// a name known from one place (or from the session's working folder, [`folder_home_user`]) is
/// replaced wherever it stands ([`Scrubber`]'s `named_homes`).
static HOME_PATH: LazyLock<Regex> = LazyLock::new(|| {
    // A home folder's name; a further word of one with spaces; a name percent-encoded.
    let name = r#"[^/\\\s"'`<>:;,|(){}\[\]]+"#;
    let word = r"[\p{L}\p{N}._-]+";
    let encoded = r#"[^%/\\\s"'`<>:;,|(){}\[\]&?#=+]+"#;
    Regex::new(&format!(
        concat!(
            r#"(?:(?:(?P<unixq>\\?["'`])|^){unix}(?P<unixsp>{name}(?: {word})+)(?P<unixspend>/|\\?["'`])"#,
            r"|{unix}(?P<unixbs>{name}(?:\\ {word})+)",
            r"|{unix}(?P<unix>{name})",
            r#"|(?:^|(?P<pre>[\s"'`=(:]))/root\b"#,
            r#"|(?:(?P<winq>\\?["'`])|^){win}(?P<winsp>{name}(?: {word})+)(?P<winspend>\\|/|\\?["'`])"#,
            r"|{win}(?P<win>{name})",
            r"|{unixesc}(?P<unixesc>{name})",
            r"|(?i:(?:{pct}2F(?:mnt|cygdrive))?(?:{pct}2F[a-z])?{pct}2F)(?:home|Users)(?i:{pct}2F)",
            r"(?P<unixenc>{encoded}(?:{pct}20{encoded})*)",
            r"|(?i:{pct}2F)root\b",
            r"|\b[A-Za-z](?i::|{pct}3A)(?i:{pct}5C|{pct}2F)+(?i:Users)(?i:{pct}5C|{pct}2F)+",
            r"(?P<winenc>{encoded}(?:{pct}20{encoded})*))",
        ),
        unix = UNIX_HOMES,
        unixesc = UNIX_HOMES_ESCAPED,
        win = WINDOWS_HOMES,
        name = name,
        word = word,
        encoded = encoded,
        pct = PERCENT,
    ))
    .expect("the home path pattern compiles")
});

/// The home folder a working folder is in, up to its name: a working folder is one path
/// whole, so a space in it is its name's (`C:\Users\Alice Smith` of a session started in
/// that home, which [`HOME_PATH`] cannot tell from `C:\Users\alice src` in a text).
static FOLDER_HOME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^(?:{UNIX_HOMES}|{WINDOWS_HOMES})(?P<name>[^/\\]+)"
    ))
    .expect("the folder's home pattern compiles")
});

/// The name of the home folder `folder` is in, when it is in one ([`FOLDER_HOME`]).
fn folder_home_user(folder: &str) -> Option<String> {
    let name = FOLDER_HOME.captures(folder.trim())?.name("name")?.as_str();
    account_like(name).then(|| name.to_owned())
}

/// The groups of [`HOME_PATH`] that hold a user's name.
const HOME_NAMES: [&str; 8] = [
    "unixsp", "unixbs", "unix", "winsp", "win", "unixesc", "unixenc", "winenc",
];

/// A percent sign of percent-encoding, itself encoded or not: a URL inside a URL's query
/// (`redirect=%252Fhome%252Falice`, a login's return address) is encoded twice, and its home
/// folder and name were left.
const PERCENT: &str = "%(?:25)?";

/// What may stand right before a name in text that escapes it: a percent-encoded character
/// (`%2Falice`, `%40alice`, twice encoded `%252Falice`) or a line break escaped in JSON text
/// (`\nalice`), which leave no word boundary before the name; kept as it is.
const ESCAPE_BEFORE: &str = r"%(?:25)?[0-9A-Fa-f]{2}|\\[nrt]";

/// An email address, also with its `@` percent-encoded as a URL's query carries it
/// (`?email=jane.doe%40corp.example`, a `mailto:`), which left the address whole. The
/// encoded one's name holds no `%`: it starts after the escape before it (`pre`, kept:
/// `mailto%3Ajane%40…`).
static EMAIL_ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        "{}|{}",
        crate::mask::EMAIL_PATTERN,
        crate::mask::ENCODED_EMAIL_PATTERN
    ))
    .expect("the email pattern compiles")
});

/// A person's name after a label that introduces one (`Author: Alice Smith`, an issue's
/// `Owner:`, a git trailer's `Reviewed-by:`, `git config user.name` printing `user.name=Alice
/// Smith`, a manifest's `"author": "Alice Smith"`): two to four capitalised words. The user's
/// when the first names a known user ([`own_names`]); another person's only where a separator
/// says the label is one and the words are shaped as a name ([`name_shaped`]): `Owner: Platform
/// Team` and `Co-authored-by: Claude Opus` name no one.
static PERSON_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    // A name ends in a letter, as beside an address ([`super::named_address`]).
    let word = r"\p{Lu}(?:[\p{L}\p{M}'’-]*[\p{L}\p{M}])?\.?";
    Regex::new(&format!(
        r#"(?i:\b(?P<label>{PERSON_LABELS}))["']?\s*(?P<sep>[:=]|->)?\s*["']?(?-i:(?P<name>{word}(?: {word}){{1,3}}))"#,
    ))
    .expect("the person label pattern compiles")
});

/// The labels that introduce a person's name ([`PERSON_LABEL`], [`LOWER_LABEL`]).
const PERSON_LABELS: &str = concat!(
    r"author|owner|assignee|reporter|committer|reviewer|maintainer|user\.name",
    r"|(?:co-authored|signed-off|reviewed|acked|tested|reported|suggested|helped)-by",
);

/// Two or three words in lower case after a label and a separator, as the label's whole value
/// (`owner: marco rotili`, `"author": "marco rotili"`): the user's full name when the first is
/// a known account's ([`own_names`]), whose surname was exported (`owner: [USER] rotili`).
/// No one's else: lower-case words after a label are as often a team's or a phrase (`owner:
/// data engineering`, `reviewer: see below`), which no pattern tells from a colleague's name.
static LOWER_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    let word = r"\p{Ll}[\p{Ll}\p{M}'’-]*\p{Ll}";
    Regex::new(&format!(
        r#"(?m)(?i:\b(?:{PERSON_LABELS}))["']?[ \t]*(?:[:=]|->)[ \t]*["']?(?P<name>{word}(?: {word}){{1,2}})(?:$|["',;)\]\r]|\\[nr])"#,
    ))
    .expect("the lower-case label pattern compiles")
});

/// A person's name seen in a session, with the address beside it when there was one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Person {
    name: String,
    address: Option<String>,
    /// Written after a label as a name ([`PERSON_LABEL`]), with no address beside it.
    labelled: bool,
}

impl Person {
    /// The person's names without initials (`Jane Q. Doe` is `Jane Doe`).
    fn names(&self) -> Vec<&str> {
        self.name
            .split(' ')
            .map(|w| w.trim_end_matches('.'))
            .filter(|w| w.chars().count() > 1)
            .collect()
    }
}

/// The people `text` names beside an address ([`names_beside_addresses`], but a machine's) or
/// after a label ([`PERSON_LABEL`]).
fn collect_people_in(text: &str, people: &mut BTreeSet<Person>) {
    for found in names_beside_addresses(text) {
        people.insert(Person {
            name: text[found.range].to_owned(),
            address: Some(found.address),
            labelled: false,
        });
    }
    for c in PERSON_LABEL.captures_iter(text) {
        let name = c.name("name").expect("a name");
        let said = c.name("sep").is_some() || c["label"].eq_ignore_ascii_case("user.name");
        let words: Vec<&str> = name.as_str().split(' ').collect();
        // `Reviewed-by: Claude <noreply@…>`: the address says whose, beside it.
        let addressed = text[name.end()..]
            .trim_start_matches([' ', '"', '\''])
            .strip_prefix(['<', '('])
            .and_then(|rest| rest.split([')', '>']).next())
            .is_some_and(|inside| inside.contains('@'));
        people.insert(Person {
            name: name.as_str().to_owned(),
            address: None,
            labelled: said && !addressed && name_shaped(&words),
        });
    }
    for c in LOWER_LABEL.captures_iter(text) {
        let name = &c["name"];
        // `owner: marco and bob` is no one's full name.
        if name.split(' ').all(|w| !NOT_NAMES.contains(&w)) {
            people.insert(Person {
                name: name.to_owned(),
                address: None,
                labelled: false,
            });
        }
    }
    // An address made of its person's names (`marco.rotili@…`) says their full name as a label
    // does: the user's when the first is a known user's ([`own_names`]), no one's else (an
    // example's `user.name@…`).
    for address in EMAIL_ADDRESS.find_iter(text) {
        let local = address
            .as_str()
            .split(['@', '%'])
            .next()
            .unwrap_or_default();
        let parts: Vec<&str> = local.split(['.', '_']).collect();
        let a_name = |p: &&str| p.chars().count() >= 2 && p.chars().all(char::is_alphabetic);
        if (2..=3).contains(&parts.len()) && parts.iter().all(a_name) {
            people.insert(Person {
                name: parts.join(" "),
                address: None,
                labelled: false,
            });
        }
    }
}

/// [`collect_people_in`] of every string in `value`.
fn collect_people(value: &Value, people: &mut BTreeSet<Person>) {
    match value {
        Value::String(s) => collect_people_in(s, people),
        Value::Array(items) => items.iter().for_each(|v| collect_people(v, people)),
        Value::Object(map) => map.values().for_each(|v| collect_people(v, people)),
        _ => {}
    }
}

/// The full names among `people` that are a known user's (the first name is one of `users`
/// and [`distinctive`],
/// or the address is the user's: `Alice Smith <alice@corp.example>` of the account `alice`),
/// without initials (`Jane Q. Doe` is `Jane Doe`): added to the users, their surname and the
/// whole name in any case are replaced as the account is ([`with_name_parts`]). A surname
/// learned from a git author line was left everywhere else (`alice smith`, `Smith said`).
fn own_names(people: &BTreeSet<Person>, users: &BTreeSet<String>) -> BTreeSet<String> {
    // A generic account names no one: `Reviewer: Claude Code` of the account `claude` is no
    // user's full name, and made `code` a name replaced everywhere.
    let known: BTreeSet<String> = with_name_parts(users)
        .iter()
        .filter(|u| distinctive(u))
        .map(|u| u.to_lowercase())
        .collect();
    let mut out = BTreeSet::new();
    for person in people {
        let words = person.names();
        let local = person
            .address
            .as_deref()
            .and_then(|a| a.split(['@', '%']).next())
            .map(str::to_lowercase);
        let first = words.first().map(|w| w.to_lowercase());
        let theirs =
            first.is_some_and(|f| known.contains(&f)) || local.is_some_and(|l| known.contains(&l));
        if words.len() >= 2 && theirs {
            out.insert(words.join(" "));
        }
    }
    out
}

/// The full names of the people among `people` who are not the user (`own`, [`own_names`]),
/// learned beside an address (a git log's authors, a `Signed-off-by:`): each is a `[NAME]`
/// wherever the session writes it, in any case and as a handle joining the names
/// ([`handles`]), where only the line beside the address was. Neither name alone: a
/// colleague's first name is as often a word (`Will`, `Mark`) and nothing says which.
fn others_names(people: &BTreeSet<Person>, own: &BTreeSet<String>) -> BTreeSet<String> {
    others_among(people.iter().filter(|p| p.address.is_some()), own)
}

/// The full names of other people the session writes after a label alone (`Reporter: Pim
/// Vandal`, `Acked-by: Pim Vandal`), which were exported: each is a `[NAME]` wherever the
/// session writes it as there, capitalised. Not in any case, as beside an address: no address
/// spells these words, and a team's or a product's name (`Owner: Data Engineering`) lowered is
/// the session's own words.
fn labelled_names(people: &BTreeSet<Person>, own: &BTreeSet<String>) -> BTreeSet<String> {
    others_among(people.iter().filter(|p| p.labelled), own)
}

/// [`others_names`] of `people`.
fn others_among<'p>(
    people: impl Iterator<Item = &'p Person>,
    own: &BTreeSet<String>,
) -> BTreeSet<String> {
    let own: BTreeSet<String> = own.iter().map(|n| n.to_lowercase()).collect();
    let mut out = BTreeSet::new();
    for person in people {
        let names = person.names();
        let letters = |n: &&str| n.chars().all(|c| c.is_alphabetic() || is_name_mark(c));
        if names.len() >= 2
            && names.iter().all(letters)
            && !own.contains(&names.join(" ").to_lowercase())
        {
            out.extend(handles(&names));
        }
    }
    out
}

/// A pattern per name after the first of the user's full names `own`, with that name in
/// lower case: it finds the name, and the names before it in the full name when they are
/// right there.
fn surname_patterns(own: &BTreeSet<String>) -> Vec<(String, Regex)> {
    let mut out = Vec::new();
    for name in own {
        let parts: Vec<String> = name.split(' ').map(regex::escape).collect();
        for at in 1..parts.len() {
            let pattern = Regex::new(&format!(
                r"(?i)\b(?P<before>{}[ ._-])?(?P<word>{})\b",
                parts[..at].join("[ ._-]"),
                parts[at]
            ));
            if let Ok(pattern) = pattern {
                out.push((parts[at].to_lowercase(), pattern));
            }
        }
    }
    out
}

/// The names of [`surname_patterns`] that `text` writes as words of its own: in lower case,
/// not right after the name before them (`the team will lead` of `Alice Team Lead`, `a young
/// process` of `Alice Young`). Such a name alone is a word as often as the user's, and every
/// `team`, `lead` or `code` of a session was replaced; the full name and its handles still
/// are, and a surname the session writes only as a name (`ask Quuxley`) alone too.
fn surnames_written_as_words_in(
    text: &str,
    surnames: &[(String, Regex)],
    out: &mut BTreeSet<String>,
) {
    for (surname, pattern) in surnames {
        if out.contains(surname) {
            continue;
        }
        let a_word = pattern
            .captures_iter(text)
            .any(|c| c.name("before").is_none() && &c["word"] == surname);
        if a_word {
            out.insert(surname.clone());
        }
    }
}

/// [`surnames_written_as_words_in`] of every string in `value`.
fn surnames_written_as_words(
    value: &Value,
    surnames: &[(String, Regex)],
    out: &mut BTreeSet<String>,
) {
    match value {
        Value::String(s) => surnames_written_as_words_in(s, surnames, out),
        Value::Array(items) => items
            .iter()
            .for_each(|v| surnames_written_as_words(v, surnames, out)),
        Value::Object(map) => map
            .values()
            .for_each(|v| surnames_written_as_words(v, surnames, out)),
        _ => {}
    }
}

/// What one of the user's rules looks for.
#[derive(Debug, Clone)]
pub enum Find {
    /// This text, exactly.
    Literal(String),
    /// This pattern; the replacement may name its groups (`$1`, `${name}`).
    Regex(Regex),
}

/// One of the user's replacements.
#[derive(Debug, Clone)]
pub struct Replacement {
    pub find: Find,
    pub with: String,
    /// What `--dry-run` calls it (`rule:<name>`).
    pub name: String,
}

/// What the caller knows of the machine exporting: its home folder, user and host names.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    pub homes: Vec<String>,
    pub users: Vec<String>,
    pub hosts: Vec<String>,
}

/// What was replaced, by kind: how often, and a few distinct examples.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub sessions: u64,
    pub replacements: u64,
    pub kinds: BTreeMap<String, KindReport>,
}

/// How often one kind was replaced, with examples as `(found, replaced by)`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KindReport {
    pub count: u64,
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Example {
    pub found: String,
    pub replaced_by: String,
}

impl Report {
    pub(super) fn note(&mut self, kind: &str, found: &str, replaced_by: &str) {
        self.replacements += 1;
        let entry = self.kinds.entry(kind.to_owned()).or_default();
        entry.count += 1;
        if entry.examples.len() < EXAMPLES && !entry.examples.iter().any(|e| e.found == found) {
            entry.examples.push(Example {
                found: found.to_owned(),
                replaced_by: replaced_by.to_owned(),
            });
        }
    }
}

/// The attribution a subagent takes from its parent when its own `meta.json` names none.
const INHERITED: [&str; 4] = ["hostname", "os_user", "working_dir", "git_repo"];

/// What a session revealed of where it ran, handed down to its subagents
/// ([`Anonymizer::in_tree`]).
#[derive(Debug, Clone)]
pub struct Learned {
    /// Its metadata as recorded, with what it took from its own parent.
    meta: SessionMeta,
    /// The names of the home folders it and its parents mention, and the user's full name.
    users: BTreeSet<String>,
    /// The people it and its parents name beside an address or after a label.
    people: BTreeSet<Person>,
    /// The hosts its and its parents' calls printed as theirs (`hostname`: [`names_printed`]).
    hosts: BTreeSet<String>,
}

/// The user's rules and what is known of the exporting machine.
#[derive(Debug, Clone, Default)]
pub struct Anonymizer {
    rules: Vec<Replacement>,
    machine: Machine,
}

impl Anonymizer {
    pub fn new(rules: Vec<Replacement>, machine: Machine) -> Anonymizer {
        Anonymizer { rules, machine }
    }

    /// Rewrites one session's metadata and events in place (the caller's copies: the store
    /// is never written), counting into `report`.
    pub fn session(&self, meta: &mut SessionMeta, events: &mut [Event], report: &mut Report) {
        let scrubber = self.scrubber(meta, events);
        scrubber.session(meta, events, report);
    }

    /// Rewrites an exported session and its subagents, each with what it reveals itself and
    /// what its parent revealed; `parent` is what the session's own parents revealed
    /// ([`Self::in_tree`] down from its root), `None` for a root.
    pub fn exported(&self, session: &mut Exported, parent: Option<&Learned>, report: &mut Report) {
        // Parents before their children, in the order a recursion would go, with a stack of
        // its own: a chain of thousands of subagents would overflow the thread's.
        let mut todo = vec![(session, parent.cloned().map(std::rc::Rc::new))];
        while let Some((session, parent)) = todo.pop() {
            let (scrubber, learned) =
                self.in_tree(&session.meta, &session.events, parent.as_deref());
            scrubber.session(&mut session.meta, &mut session.events, report);
            let learned = std::rc::Rc::new(learned);
            todo.extend(
                session
                    .subagents
                    .iter_mut()
                    .rev()
                    .map(|child| (child, Some(std::rc::Rc::clone(&learned)))),
            );
        }
    }

    /// The scrubber of one session of a tree (a session and its subagents, `parent` being
    /// what its parent learned, `None` for the root), and what it learned for its own
    /// subagents: a subagent ran on its parent's machine, in its folder and repository, but
    /// its `meta.json` names none of them. Read `meta` and `events` as recorded, before they
    /// are rewritten.
    pub fn in_tree<'e>(
        &self,
        meta: &SessionMeta,
        events: impl IntoIterator<Item = &'e Event> + Clone,
        parent: Option<&Learned>,
    ) -> (Scrubber<'_>, Learned) {
        let mut known = meta.clone();
        let mut users = BTreeSet::new();
        let mut people = BTreeSet::new();
        let mut hosts = BTreeSet::new();
        if let Some(parent) = parent {
            for key in INHERITED {
                if let Some(value) = parent.meta.attribution(key)
                    && known.attribution(key).is_none()
                {
                    known.set_attribution(key, value);
                }
            }
            users.extend(parent.users.iter().cloned());
            people.extend(parent.people.iter().cloned());
            hosts.extend(parent.hosts.iter().cloned());
        }
        for event in events.clone() {
            collect_home_users(&event.data, &mut users);
            collect_people(&event.data, &mut people);
        }
        // The account and host `whoami` and `hostname` printed, for subagents whose own calls
        // print them nowhere.
        let (accounts_printed, hosts_printed) =
            names_printed(events.clone(), Agent::from_name(&meta.agent_name));
        users.extend(accounts_printed);
        hosts.extend(hosts_printed);
        // The user's full name, for subagents whose own events name it nowhere.
        let mut accounts = users.clone();
        accounts.extend(self.machine.users.iter().cloned());
        accounts.extend(known.attribution("os_user").map(str::to_owned));
        users.extend(own_names(&people, &accounts));
        let scrubber = self.scrubber_with(&known, events, &users, &people, &hosts);
        let learned = Learned {
            meta: known,
            users,
            people,
            hosts,
        };
        (scrubber, learned)
    }

    /// A scrubber for one session: the machine's names and what the session reveals of its
    /// own (see the module's documentation).
    pub fn scrubber(&self, meta: &SessionMeta, events: &[Event]) -> Scrubber<'_> {
        self.scrubber_with(
            meta,
            events,
            &BTreeSet::new(),
            &BTreeSet::new(),
            &BTreeSet::new(),
        )
    }

    /// [`Self::scrubber`], knowing the user names in `more_users`, the people of
    /// `more_people` and the hosts of `more_hosts` besides.
    fn scrubber_with<'e>(
        &self,
        meta: &SessionMeta,
        events: impl IntoIterator<Item = &'e Event> + Clone,
        more_users: &BTreeSet<String>,
        more_people: &BTreeSet<Person>,
        more_hosts: &BTreeSet<String>,
    ) -> Scrubber<'_> {
        let mut users: BTreeSet<String> = self.machine.users.iter().cloned().collect();
        users.extend(more_users.iter().cloned());
        let mut hosts: BTreeSet<String> = self.machine.hosts.iter().cloned().collect();
        hosts.extend(more_hosts.iter().cloned());
        let mut homes: BTreeSet<String> = self.machine.homes.iter().cloned().collect();
        if let Some(user) = meta.attribution("os_user") {
            users.insert(user.to_owned());
        }
        if let Some(host) = meta.attribution("hostname") {
            hosts.insert(host.to_owned());
        }
        let mut folders: Vec<String> = meta
            .attribution("working_dir")
            .map(str::to_owned)
            .into_iter()
            .collect();
        let agent = Agent::from_name(&meta.agent_name);
        let mut people = more_people.clone();
        let mut call_outputs = CallOutputs::new();
        let mut shell = PromptShell::default();
        let mut shell_outputs = CallOutputs::new();
        let mut repository = None;
        for event in events.clone() {
            let view = View::of(event, agent);
            // By its event's id: one without would stand for every other without.
            if let Some(output) = shell.output_of(&view)
                && !event.event_id.is_empty()
            {
                shell_outputs.insert(event.event_id.clone(), output);
            }
            match view {
                View::SessionStart(start) => {
                    folders.extend(start.cwd.map(str::to_owned));
                    repository = repository.or(start.git_repository);
                }
                // By the call's id, and by its event's, which a result recorded by hooks
                // names as its parent.
                View::ToolCall(call) => {
                    if let Some(output) = call.command_line().as_deref().and_then(CallOutput::of) {
                        for id in call.tool_use_id.into_iter().chain([&*event.event_id]) {
                            call_outputs.insert(id.to_owned(), output.clone());
                        }
                    }
                }
                _ => {}
            }
            collect_home_users(&event.data, &mut users);
            collect_people(&event.data, &mut people);
        }
        collect_home_users_in(&meta.command, &mut users);
        collect_people_in(&meta.command, &mut people);
        users.extend(folders.iter().filter_map(|f| folder_home_user(f)));
        let (accounts_printed, hosts_printed) = names_printed(events.clone(), agent);
        users.extend(accounts_printed);
        hosts.extend(hosts_printed);
        let own = own_names(&people, &users);
        let others = others_names(&people, &own);
        let labelled = labelled_names(&people, &own);
        // A surname that is a word too stays where it is written alone.
        let surnames = surname_patterns(&own);
        let mut words_too = BTreeSet::new();
        if !surnames.is_empty() {
            for event in events {
                surnames_written_as_words(&event.data, &surnames, &mut words_too);
            }
            surnames_written_as_words_in(&meta.command, &surnames, &mut words_too);
        }
        users.extend(own);
        let mut names = with_name_parts(&users);
        names.retain(|n| users.contains(n) || !words_too.contains(&n.to_lowercase()));
        // A host's short name (`alice-laptop` of `alice-laptop.corp.example`) is named too,
        // unless it is an address's first number ([`distinctive`] leaves it).
        for host in hosts.clone() {
            if let Some((short, _)) = host.split_once('.') {
                hosts.insert(short.to_owned());
            }
        }
        // A home folder under an unusual root: the working folder up to the user's name, but
        // not inside a home (`/Users/pete/git/alicecodes/app` of the login `alicecodes` lost
        // `git/alicecodes`, taken for a home under `/Users/pete/git`).
        for folder in &folders {
            for user in &users {
                // `D:\work\alice\proj` as `/work/alice/proj`: its home is `D:\work\alice`.
                let at = folder
                    .find(&format!("/{user}"))
                    .or_else(|| folder.find(&format!("\\{user}")));
                if let Some(at) = at
                    && !in_a_home(&folder[..at])
                    && folder[at + 1 + user.len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| c == '/' || c == '\\')
                {
                    homes.extend(drive_spellings(&folder[..at + 1 + user.len()]));
                }
            }
        }
        homes.retain(|h| h.len() > 1 && h != "/");
        // Longest first, so that `/home/alice/work` is not cut at `/home/alice`'s end by a
        // shorter one.
        let mut homes: Vec<String> = homes.into_iter().collect();
        homes.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        // A working folder inside a home becomes `~/…` already; one elsewhere is replaced whole.
        let mut folders: Vec<String> = folders
            .into_iter()
            .map(|f| f.trim_end_matches(['/', '\\']).to_owned())
            .filter(|f| {
                // A drive's root (`C:\`) is no folder of anyone's, as `/` is not: every `C:` was
                // `[CWD]`.
                let drive_root = f.len() == 2 && f.ends_with(':');
                f.len() > 1
                    && !drive_root
                    && !in_a_home(f)
                    && !homes.iter().any(|h| f.starts_with(h.as_str()))
            })
            .flat_map(|f| drive_spellings(&f))
            .collect();
        folders.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        folders.dedup();
        // A session that names its repository only as its agent does (Copilot CLI's
        // `owner/name`, imported) named it everywhere else as it was.
        let (repo, owner_names) = repo_patterns(meta.attribution("git_repo"), repository);
        Scrubber {
            rules: &self.rules,
            homes,
            folders,
            repo,
            owner_names,
            hosts: words(&hosts, true),
            // Any case: `Alice` and `ALICE` name `alice` as well (a Windows account's name is
            // any case too).
            users: words(&names, true),
            people: words(&others, true),
            labelled: words(&labelled, false),
            tilde: tilde_pattern(&users),
            accounts: users.iter().map(|u| u.to_lowercase()).collect(),
            named_homes: named_homes(&users),
            agent,
            call_outputs,
            shell_outputs,
        }
    }
}

/// The patterns of the session's repository: the spellings of `attribution.git_repo` with its
/// host ([`repo_pattern`]), and its `owner/name` and the one the agent's start event gave
/// (`repository`) wherever they stand ([`owner_name_pattern`]). With `git_repo` set, only the
/// first was tried, and `gh pr create -R acme/app` and `api.github.com/repos/acme/app` kept
/// the repository's name.
fn repo_patterns(git_repo: Option<&str>, repository: Option<&str>) -> (Option<Regex>, Vec<Regex>) {
    let parts = git_repo.and_then(repo_parts);
    let mut paths: Vec<&str> = parts.map(|(_, path)| path).into_iter().collect();
    paths.extend(repository.filter(|r| !paths.contains(r)));
    (
        parts.and_then(|(host, path)| repo_pattern(host, path)),
        paths.into_iter().filter_map(owner_name_pattern).collect(),
    )
}

/// The host and the path (`owner/name`, no `.git`) of the repository `url` names:
/// `https://host/owner/name`, `ssh://git@host:22/owner/name`, `git@host:owner/name.git`;
/// `None` for what names no host and path.
fn repo_parts(url: &str) -> Option<(&str, &str)> {
    let url = url.trim();
    let (host, path) = if let Some((_, rest)) = url.split_once("://") {
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        rest.split_once('/')?
    } else {
        let rest = url.rsplit_once('@').map_or(url, |(_, r)| r);
        rest.split_once(':')?
    };
    // A port belongs to one spelling only.
    let host = host.split(':').next().unwrap_or(host);
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    (!host.is_empty() && !path.is_empty()).then_some((host, path))
}

/// A pattern for the repository at `path` on `host` in all its spellings:
/// `https://host/owner/name`, `ssh://git@host/owner/name`, `git@host:owner/name`, each with or
/// without `.git` (and a user before the host).
fn repo_pattern(host: &str, path: &str) -> Option<Regex> {
    Regex::new(&format!(
        r#"(?i)(?:[a-z][a-z0-9+.-]*://)?(?:[^@\s/:'"`]+@)?{}(?::\d+)?[:/]{}(?:\.git)?(?P<end>$|[^A-Za-z0-9_\-])"#,
        regex::escape(host),
        regex::escape(path)
    ))
    .ok()
}

/// The accounts and the hosts the session's calls print of the machine they run on (`whoami`,
/// `hostname`, `uname -a`: [`CallOutput::names_printed`]): the session's own, whatever they
/// are, where an imported log records neither.
fn names_printed<'e>(
    events: impl IntoIterator<Item = &'e Event>,
    agent: Agent,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut calls = CallOutputs::new();
    let mut shell = PromptShell::default();
    let (mut accounts, mut hosts) = (BTreeSet::new(), BTreeSet::new());
    let mut add = |named: Vec<(Prints, String)>| {
        for (kind, name) in named {
            match kind {
                Prints::Account => accounts.insert(name),
                _ => hosts.insert(name),
            };
        }
    };
    for event in events {
        let view = View::of(event, agent);
        if let Some(output) = shell.output_of(&view) {
            add(output.names_printed_in(&event.data, &prompt_shell::printed));
        }
        match view {
            View::ToolCall(call) => {
                if let Some(output) = call.command_line().as_deref().and_then(CallOutput::of) {
                    for id in call.tool_use_id.into_iter().chain([&*event.event_id]) {
                        calls.insert(id.to_owned(), output.clone());
                    }
                }
            }
            View::ToolResult(result) => {
                let Some(output) = result
                    .tool_use_id
                    .or(event.parent_id.as_deref())
                    .and_then(|id| calls.get(id))
                else {
                    continue;
                };
                add(output.names_printed(&event.data));
            }
            _ => {}
        }
    }
    (accounts, hosts)
}

/// A pattern for the repository `owner/name` names (`group/subgroup/name` on GitLab), on any
/// host and in any spelling ([`repo_pattern`]'s) or alone (`acme/app`), where it starts a word
/// or a path's part (`api.github.com/repos/acme/app`); `None` for what is no `owner/name`.
fn owner_name_pattern(path: &str) -> Option<Regex> {
    let path = path.trim().trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let parts: Vec<&str> = path.split('/').collect();
    let part = |p: &&str| {
        !p.is_empty()
            && p.chars().any(|c| c != '.')
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    };
    if parts.len() < 2 || !parts.iter().all(part) {
        return None;
    }
    Regex::new(&format!(
        concat!(
            r#"(?i)(?P<pre>^|[^A-Za-z0-9_.\-])(?:[a-z][a-z0-9+.-]*://)?(?:[^@\s/:'"`]+@)?"#,
            r"(?:[a-z0-9.-]+\.[a-z]{{2,}}(?::\d+)?[:/])?{}(?:\.git)?(?P<end>$|[^A-Za-z0-9_\-])",
        ),
        regex::escape(path)
    ))
    .ok()
}

/// Names of home folders mentioned anywhere in `value`.
fn collect_home_users(value: &Value, users: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => collect_home_users_in(s, users),
        Value::Array(items) => items.iter().for_each(|v| collect_home_users(v, users)),
        Value::Object(map) => {
            for (k, v) in map {
                collect_home_users_in(k, users);
                collect_home_users(v, users);
            }
        }
        _ => {}
    }
}

fn collect_home_users_in(text: &str, users: &mut BTreeSet<String>) {
    for caps in HOME_PATH.captures_iter(text) {
        if let Some(name) = HOME_NAMES.iter().find_map(|g| caps.name(g)) {
            // `alice\ smith` of a shell is `alice smith`.
            users.insert(name.as_str().replace("\\ ", " "));
        }
    }
    for caps in OWN_LOGIN.captures_iter(text) {
        users.insert(caps["login"].to_owned());
    }
}

/// The user's own login on a code host, as the session's tools print it: `gh auth status`
/// (`Logged in to github.com account alicecodes`, older `… as alicecodes`) and `git config
/// github.user`. A login that is not the account's name (`alicecodes` of `/home/asmith`) was
/// exported wherever the session wrote it, in `github.com/alicecodes/app` too.
static OWN_LOGIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?:Logged in to [\w.-]+ (?:account|as) |\bgithub\.user(?:=|\s+))",
        r#"["']?(?P<login>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)\b"#,
    ))
    .expect("the login pattern compiles")
});

/// The owner of a repository on a code host, in a URL, a remote or a path that follows the
/// host's layout (`github.com/alice/x`, `git@github.com:alice/x.git`,
/// `~/src/github.com/alice/x`).
static HOST_OWNER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?P<host>\b(?:github\.com|gitlab\.com|bitbucket\.org)[/:])",
        r"(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?P<end>/)",
    ))
    .expect("the code host owner pattern compiles")
});

/// One pattern matching any of `names` as a whole word, leaving out those that are not
/// [`distinctive`].
fn words(names: &BTreeSet<String>, any_case: bool) -> Option<Regex> {
    let mut names: Vec<&str> = names
        .iter()
        .map(|n| n.trim())
        .filter(|n| distinctive(n))
        .collect();
    if names.is_empty() {
        return None;
    }
    // Longest first, so that the alternation prefers `alice-laptop` to `alice`.
    names.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    // A distinctive name starts with a word character, so `\b` finds its start, or it
    // follows an escape ([`ESCAPE_BEFORE`], kept by the caller as `esc`); `\b` only where it
    // ends with one: a name ending in `-` has no boundary to find after it.
    // A [`joinable`] name may also end at a `_` (taken, and put back by the caller).
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let names: Vec<String> = names
        .iter()
        .map(|n| {
            let end = match word(n.chars().last()) {
                true if joinable(n) => r"(?:\b|_)",
                true => r"\b",
                false => "",
            };
            // An apostrophe is typed straight or curly (`O'Brien`, `O’Brien`) alike.
            let name = regex::escape(n).replace(['\'', '’'], "['’]");
            format!("{name}{end}")
        })
        .collect();
    let flags = if any_case { "(?i)" } else { "" };
    Regex::new(&format!(
        r"{flags}(?:(?P<esc>{ESCAPE_BEFORE})|\b|(?P<joined>_))(?:{})(?P<next>{NEXT_NAME})?",
        names.join("|")
    ))
    .ok()
}

/// A word right after a name ([`words`]) shaped as only a surname is (`O'Brien`, `D’Angelo`),
/// taken with a name written as a person's. Any capitalised word was: for a user named like
/// a word (`max`) a label's next word went with it (`Max Tokens`, `Max Retries` became
/// `[USER]`). A surname of another shape is replaced where the session tells it is the
/// user's ([`own_names`]: `Author: Marco Rotili <marco@…>`, `Owner: Marco Rotili`).
const NEXT_NAME: &str = r"(?-i: \p{Lu}['’]\p{Lu}[\p{L}\p{M}'’-]*\b)";

/// The shortest name taken where `_` joins it to another word (`alice_build`,
/// `ALICE_HOME`, `/tmp/my_alice`): a shorter one is a word of code as often as a name
/// (`max_len`, `sum_x`, `key_id`), while a longer one joined so is still its person's, and
/// was left.
const JOINABLE: usize = 5;

/// Whether `name` is replaced where `_` joins it to another word ([`JOINABLE`]): letters
/// and digits only, so that the `_` a match ends with is never the name's own.
fn joinable(name: &str) -> bool {
    name.chars().count() >= JOINABLE && name.chars().all(char::is_alphanumeric)
}

/// `users` with the names of people their accounts are made of (`john.smith`, `jane_doe`, as
/// a company's often are, or a profile folder's `Alice Smith`): each name, the names as a
/// person writes them (`john smith`) and as a handle joins them ([`handles`]), so that `John
/// Smith`, `hi John` and `JohnSmith` are replaced as the account is; they were left. Only
/// [`distinctive`] parts, and the whole only when every part is one: `app.user` names no
/// one.
fn with_name_parts(users: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = users.clone();
    for user in users {
        let parts: Vec<&str> = user.trim().split(['.', '_', ' ']).collect();
        let letters = |p: &&str| {
            p.starts_with(char::is_alphabetic)
                && p.chars()
                    .all(|c| c.is_alphabetic() || matches!(c, '\'' | '’'))
        };
        if parts.len() < 2 || !parts.iter().all(letters) {
            continue;
        }
        let named: Vec<&str> = parts.iter().copied().filter(|p| distinctive(p)).collect();
        if named.len() == parts.len() {
            out.extend(handles(&parts));
        }
        out.extend(named.into_iter().map(str::to_owned));
    }
    out
}

/// A person's names as a text writes them (`alice smith`) and as a handle joins them
/// (`alicesmith`, `AliceSmith` in any case, `alice-smith`, `alice_smith`, `alice.smith`): a
/// handle made of the person's names is the person, and `AliceSmith` was left beside a
/// replaced `Alice Smith`. A name with an apostrophe is a handle without it too
/// (`PimOBrien` of `Pim O'Brien`).
fn handles(parts: &[&str]) -> Vec<String> {
    let bare: Vec<String> = parts.iter().map(|p| p.replace(['\'', '’'], "")).collect();
    let mut spellings = vec![parts.iter().map(ToString::to_string).collect::<Vec<_>>()];
    if bare.iter().zip(parts).any(|(b, p)| b != p) {
        spellings.push(bare);
    }
    spellings
        .iter()
        .flat_map(|parts| ["", " ", "-", "_", "."].map(|join| parts.join(join)))
        .collect()
}

/// What a name holds besides letters: a hyphen (`Smith-Jones`) or an apostrophe (`O'Brien`).
fn is_name_mark(c: char) -> bool {
    matches!(c, '-' | '\'' | '’')
}

/// The names of `users` that are [`account_like`], longest first, each escaped for a pattern.
fn accounts(users: &BTreeSet<String>, with_spaces: bool) -> Vec<String> {
    let mut names: Vec<&str> = users
        .iter()
        .map(|n| n.trim())
        .filter(|n| account_like(n) && (!with_spaces || n.contains(' ')))
        .collect();
    names.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    names.into_iter().map(regex::escape).collect()
}

/// `~<name>` of a known account, generic ones too: a home folder named by its account.
fn tilde_pattern(users: &BTreeSet<String>) -> Option<Regex> {
    let names = accounts(users, false);
    if names.is_empty() {
        return None;
    }
    Regex::new(&format!(
        r#"(?i)~(?:{})(?P<after>$|[/\\\s"'`:;,)\]])"#,
        names.join("|")
    ))
    .ok()
}

/// The home folders of the known names with spaces (`Alice Smith`), wherever a text ends
/// them: [`HOME_PATH`] takes such a name whole only when a separator follows it.
fn named_homes(users: &BTreeSet<String>) -> Option<Regex> {
    let names = accounts(users, true);
    if names.is_empty() {
        return None;
    }
    Regex::new(&format!(
        r"(?i)(?:{UNIX_HOMES}|{UNIX_HOMES_ESCAPED}|{WINDOWS_HOMES})(?:{})\b",
        names.join("|")
    ))
    .ok()
}

/// A shell prompt or a login naming its user and host: `alice@laptop:~/x$` (bash),
/// `alice@laptop ~ %` (zsh), `[alice@laptop app]$` (Fedora), `alice@laptop:/srv` (scp). The
/// user and the host are replaced whoever they are: a host a session never recorded (the
/// laptop one logged in from, a container's id) and a generic account are named there too.
/// An address (`alice@corp.example:~`) is an `[EMAIL]` already.
static PROMPT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?P<pre>^|[\s\[("'`>])[\p{L}_][\p{L}\p{N}._-]*@"#,
        r"[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?",
        r"(?P<post>:[~/]| [~/]| [^\s\]]+\][$#]| \S+ %)",
    ))
    .expect("the prompt pattern compiles")
});

/// A macOS per-user temporary folder (`/var/folders/7x/k2n…_h0000gn`, also under
/// `/private`): its random name is the same in every session of its user.
static MACOS_TEMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:/private)?/var/folders/[A-Za-z0-9_+-]{2}/[A-Za-z0-9_+-]+")
        .expect("the temporary folder pattern compiles")
});

/// What replaces a name [`words`] found in `text`: `with`, after the escape before it; `None`
/// where the name is code's ([`in_code`]). With `surname`, a name written as a person's
/// takes a surname after it along (`Marco O'Brien`: [`NEXT_NAME`]).
fn name_replaced(c: &Captures<'_>, text: &str, with: &str, surname: bool) -> Option<String> {
    let before = ["esc", "joined"]
        .iter()
        .find_map(|g| c.name(g))
        .map_or("", |m| m.as_str());
    let whole = c.get(0).expect("a match has a whole");
    let next = c.name("next");
    let mut name = whole.start() + before.len()..next.map_or(whole.end(), |m| m.start());
    let next = next.map_or("", |m| m.as_str());
    let next = if surname && written_as_a_person_would(&text[name.clone()]) {
        ""
    } else {
        next
    };
    let mut after = "";
    // The `_` a joinable name ends with is the next word's ([`words`]).
    if let Some(joined) = text[name.clone()].strip_suffix('_')
        && joinable(joined)
    {
        name.end -= 1;
        after = "_";
    }
    let joined_short = c.name("joined").is_some() && !joinable(&text[name.clone()]);
    (!joined_short && !in_code(text, name)).then(|| format!("{before}{with}{after}{next}"))
}

/// Whether `name` is written as a person's is: capitalised (`Max`, not `max` or `MAX`).
fn written_as_a_person_would(name: &str) -> bool {
    let mut letters = name.chars().filter(|c| c.is_alphabetic());
    letters.next().is_some_and(char::is_uppercase) && letters.any(char::is_lowercase)
}

/// Whether the name at `at` of `text` stands as an identifier of code, not as someone's
/// name: called (`max(a, b)`, `Math.max(`: no one writes a person's name against a
/// parenthesis, but for an address spelled out, `max(at)corp.example`) or reached as a
/// member of something (`Math.max`, `i32::MAX`, `p->max`) unless written as a person's name
/// is (`Dr.Max`, `Mr.Max` without a space). A user's name that is also a word of code
/// (`max`, `min`, `sum`) was replaced in the code the session read and wrote. Everywhere
/// else it is still replaced as a word, since for a person a leak is worse than an odd
/// `[USER]`: after a dot that goes on as a domain (`www.max.dev`) too, and a property
/// written capitalised (`obj.Max`). The places that surely name the account (home folders,
/// `~max`, addresses, a prompt's `max@host`, the attribution) are replaced before, whatever
/// the context.
fn in_code(text: &str, at: std::ops::Range<usize>) -> bool {
    let (before, name, after) = (&text[..at.start], &text[at.clone()], &text[at.end..]);
    let spelled_address = ["(at)", "(@)", "( at )"].iter().any(|a| {
        after
            .get(..a.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(a))
    });
    let called = after.starts_with('(') && !spelled_address;
    let operand =
        |b: &str| b.ends_with(|c: char| c.is_alphanumeric() || matches!(c, '_' | ')' | ']'));
    let member = [".", "::", "->"]
        .iter()
        .any(|op| before.strip_suffix(op).is_some_and(operand));
    let domain = after
        .strip_prefix('.')
        .is_some_and(|a| a.starts_with(char::is_alphabetic));
    called || (member && !domain && !written_as_a_person_would(name))
}

/// Rewrites the strings of one session.
#[derive(Debug)]
pub struct Scrubber<'a> {
    rules: &'a [Replacement],
    homes: Vec<String>,
    /// The session's working folders outside any home, longest first.
    folders: Vec<String>,
    /// `attribution.git_repo` in all its spellings ([`repo_patterns`]).
    repo: Option<Regex>,
    /// The repository's `owner/name` anywhere ([`repo_patterns`]).
    owner_names: Vec<Regex>,
    hosts: Option<Regex>,
    users: Option<Regex>,
    /// `~<name>` of every known account ([`tilde_pattern`]).
    tilde: Option<Regex>,
    /// Every known account in lower case, generic ones too (a listing's owner, [`Columns`]).
    accounts: BTreeSet<String>,
    /// The home folders of known names with spaces ([`named_homes`]).
    named_homes: Option<Regex>,
    /// The full names of other people the session learned ([`others_names`]).
    people: Option<Regex>,
    /// The full names of other people written after a label alone ([`labelled_names`]).
    labelled: Option<Regex>,
    agent: Agent,
    /// What the session's calls print of accounts (`stat -c '%U %n'`, `id -Gn`), by the call's
    /// id and its event's ([`super::call_output`]).
    call_outputs: CallOutputs,
    /// What the shell lines run from the prompt print, by the event of the prompt holding
    /// their output ([`PromptShell`]).
    shell_outputs: CallOutputs,
}

impl Scrubber<'_> {
    /// One string, rewritten, with each replacement counted into `report`. A string whose
    /// letters are escaped (`\u0061lice`, as JSON text inside it may have them, `%61lice`)
    /// is read with them unescaped, and keeps them so unless that finds more to replace than
    /// the string as it is: escapes that hide no name (`printf("%64s")`, a URL's `%41`) stay
    /// as they were beside a name replaced in plain letters.
    pub fn text<'t>(&self, text: &'t str, report: &mut Report) -> Cow<'t, str> {
        if let Some(plain) = unescaped(text) {
            let mut by_plain = report.clone();
            let out = self.scrub(&plain, &mut by_plain);
            if by_plain.replacements > report.replacements {
                let mut as_is = report.clone();
                let raw = self.scrub(text, &mut as_is);
                if by_plain.replacements > as_is.replacements {
                    *report = by_plain;
                    return Cow::Owned(out.into_owned());
                }
                *report = as_is;
                return raw;
            }
        }
        self.scrub(text, report)
    }

    /// [`Self::text`] of a string whose escapes are left as they are.
    fn scrub<'t>(&self, text: &'t str, report: &mut Report) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for rule in self.rules {
            let kind = format!("rule:{}", rule.name);
            match &rule.find {
                Find::Literal(literal) if !literal.is_empty() && out.contains(literal.as_str()) => {
                    for _ in out.matches(literal.as_str()) {
                        report.note(&kind, literal, &rule.with);
                    }
                    out = Cow::Owned(out.replace(literal.as_str(), &rule.with));
                }
                Find::Regex(pattern) if pattern.is_match(&out) => {
                    let replaced = pattern
                        .replace_all(&out, |c: &Captures<'_>| {
                            let mut with = String::new();
                            c.expand(&rule.with, &mut with);
                            report.note(&kind, &c[0], &with);
                            with
                        })
                        .into_owned();
                    out = Cow::Owned(replaced);
                }
                _ => {}
            }
        }
        // Before email addresses: `git@github.com:acme/x.git` is no address.
        if let Some(repo) = &self.repo {
            out = replace(out, repo, "git_repo", report, |c| {
                let pre = c.name("pre").map_or("", |m| m.as_str());
                format!("{pre}{REPO}{}", &c["end"])
            });
        }
        // The name beside an address, while the address still says where it ends.
        let named = names_beside_addresses(&out);
        if !named.is_empty() {
            let mut replaced = String::with_capacity(out.len());
            let mut from = 0;
            for found in named {
                report.note("person", &out[found.range.clone()], NAME);
                replaced.push_str(&out[from..found.range.start]);
                replaced.push_str(NAME);
                from = found.range.end;
            }
            replaced.push_str(&out[from..]);
            out = Cow::Owned(replaced);
        }
        // `git@host` of a remote (`git@github.com:acme/x.git`) is no one's address.
        out = replace_some(out, &EMAIL_ADDRESS, "email", report, |c| {
            let pre = c.name("pre").map_or("", |m| m.as_str());
            let address = &c[0][pre.len()..];
            let remote = address.starts_with("git@") || address.starts_with("git%40");
            (!remote).then(|| format!("{pre}{EMAIL}"))
        });
        for home in &self.homes {
            if contains_path(&out, home)
                && let Some(pattern) = whole_path(home)
            {
                out = replace(out, &pattern, "home_path", report, |c| {
                    // Keep what was before and the separator after the home folder.
                    format!("{}{HOME}{}", &c["before"], &c["after"])
                });
            }
        }
        for folder in &self.folders {
            if contains_path(&out, folder)
                && let Some(pattern) = whole_path(folder)
            {
                out = replace(out, &pattern, "working_dir", report, |c| {
                    format!("{}{CWD}{}", &c["before"], &c["after"])
                });
            }
        }
        // After the working folders: `/srv/acme/app/src` is `[CWD]/src`, not `/srv/[REPO]/src`.
        for owner_name in &self.owner_names {
            out = replace(out, owner_name, "git_repo", report, |c| {
                format!("{}{REPO}{}", &c["pre"], &c["end"])
            });
        }
        if let Some(named) = &self.named_homes {
            out = replace(out, named, "home_path", report, |_| HOME.to_owned());
        }
        out = replace_where(out, &HOME_PATH, "home_path", report, home_replaced);
        out = replace(out, &MACOS_TEMP, "temp_dir", report, |_| TEMP.to_owned());
        let columns = Columns {
            accounts: &self.accounts,
        };
        out = columns.text(out, report);
        // A user's account as the owner on a code host is theirs, even a name too short to
        // replace as a word (`github.com/jo/dotfiles` of the account `jo`); a role account's
        // is no one's (`github.com/dev/…`), an organisation's is not the user's.
        out = replace_some(out, &HOST_OWNER, "os_user", report, |c| {
            let owner = c["owner"].to_lowercase();
            (self.accounts.contains(&owner) && !GENERIC.contains(&owner.as_str()))
                .then(|| format!("{}{USER}{}", &c["host"], &c["end"]))
        });
        out = replace(out, &PROMPT, "shell_prompt", report, |c| {
            format!("{}{USER}@{HOST}{}", &c["pre"], &c["post"])
        });
        if let Some(hosts) = &self.hosts {
            out = replace_where(out, hosts, "hostname", report, |c, t| {
                name_replaced(c, t, HOST, false)
            });
        }
        if let Some(tilde) = &self.tilde {
            out = replace(out, tilde, "os_user", report, |c| {
                format!("~{USER}{}", &c["after"])
            });
        }
        for people in [&self.people, &self.labelled].into_iter().flatten() {
            out = replace_where(out, people, "person", report, |c, t| {
                name_replaced(c, t, NAME, false)
            });
        }
        if let Some(users) = &self.users {
            out = replace_where(out, users, "os_user", report, |c, t| {
                name_replaced(c, t, USER, true)
            });
        }
        out
    }

    /// Every string in a JSON value, keys too, in place.
    pub fn value(&self, value: &mut Value, report: &mut Report) {
        match value {
            Value::String(s) => {
                if let Cow::Owned(new) = self.text(s, report) {
                    *s = new;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.value(v, report)),
            Value::Object(map) => self.map(map, report),
            _ => {}
        }
    }

    fn map(&self, map: &mut Map<String, Value>, report: &mut Report) {
        let old = std::mem::take(map);
        for (key, mut value) in old {
            self.value(&mut value, report);
            let key = self.text(&key, report).into_owned();
            // Two keys that anonymise alike (two users' home folders) are told apart.
            crate::model::event::insert_told_apart(map, key, value);
        }
    }

    /// A session's metadata: its command and everything beyond the counters (attribution).
    /// The attribution's own `hostname`, `os_user` and `git_repo` name the machine, the user
    /// and the repository whatever they are: each is replaced whole, a short or generic name
    /// (`db1`, `root`) too, which as a word in a text is left.
    pub fn meta(&self, meta: &mut SessionMeta, report: &mut Report) {
        if let Cow::Owned(command) = self.text(&meta.command, report) {
            meta.command = command;
        }
        // A session received over OTLP is named by its sender's `service.name`, which may be
        // anything (`claude-code zorblax`). A known agent's name is a product's, and the page
        // and exports read events by it: it stays even for an account named `codex`.
        if Agent::from_name(&meta.agent_name) == Agent::Unknown
            && let Cow::Owned(agent_name) = self.text(&meta.agent_name, report)
        {
            meta.agent_name = agent_name;
        }
        for (key, with) in [("hostname", HOST), ("os_user", USER), ("git_repo", REPO)] {
            if let Some(found) = meta
                .attribution(key)
                .filter(|f| *f != with)
                .map(str::to_owned)
            {
                report.note(key, &found, with);
                meta.set_attribution(key, with);
            }
        }
        self.map(&mut meta.extra, report);
    }

    /// A whole session: its metadata and every event, counted as one session of `report`.
    pub fn session<'e>(
        &self,
        meta: &mut SessionMeta,
        events: impl IntoIterator<Item = &'e mut Event>,
        report: &mut Report,
    ) {
        self.meta(meta, report);
        for event in events {
            self.event(event, report);
        }
        report.sessions += 1;
    }

    /// One event's data and the keys beyond the common ones; ids and times stay.
    pub fn event(&self, event: &mut Event, report: &mut Report) {
        if !self.call_outputs.is_empty()
            && let View::ToolResult(result) = View::of(event, self.agent)
            && let Some(output) = result
                .tool_use_id
                .or(event.parent_id.as_deref())
                .and_then(|id| self.call_outputs.get(id))
        {
            let output = output.clone();
            let columns = Columns {
                accounts: &self.accounts,
            };
            super::call_output::rewrite(&columns, &output, &mut event.data, report);
        }
        if let Some(output) = self.shell_outputs.get(&*event.event_id) {
            let columns = Columns {
                accounts: &self.accounts,
            };
            super::call_output::rewrite_in(
                &columns,
                output,
                &mut event.data,
                &prompt_shell::printed,
                report,
            );
        }
        self.value(&mut event.data, report);
        self.map(&mut event.extra, report);
    }
}

/// What a match `c` of [`HOME_PATH`] in `text` becomes: `~`, with the quote or separator
/// before and after it; `None` where it names no home here (`/root` after a drive's letter,
/// `C:/root`, or a host's name, [`follows_a_path`]).
fn home_replaced(c: &Captures<'_>, text: &str) -> Option<String> {
    let pre = ["pre", "unixq", "winq"].iter().find_map(|g| c.name(g));
    if let Some(colon) = pre.filter(|p| p.as_str() == ":")
        && !follows_a_path(&text[..colon.start()])
    {
        return None;
    }
    let pre = pre.map_or("", |m| m.as_str());
    let end = ["unixspend", "winspend"]
        .iter()
        .find_map(|g| c.name(g))
        .map_or("", |m| m.as_str());
    Some(format!("{pre}{HOME}{end}"))
}

/// Whether `folder` is in a home folder, as [`home_replaced`] replaces one: `C:/root/x` is
/// not, and was left whole (taken for a folder in `/root`, it was no `[CWD]`, and `/root`
/// after a drive's letter is no `~`).
fn in_a_home(folder: &str) -> bool {
    HOME_PATH
        .captures_iter(folder)
        .any(|c| home_replaced(&c, folder).is_some())
}

/// A folder on a Windows drive as each of its spellings writes it: Windows takes `c:/srv/app`
/// for `C:\srv\app`, and JSON text inside a string doubles the backslashes; a folder
/// elsewhere has one spelling.
fn drive_spellings(folder: &str) -> Vec<String> {
    if !on_a_drive(folder) {
        return vec![folder.to_owned()];
    }
    let back = folder.replace('/', "\\");
    // In any case too, as [`whole_path`] finds one.
    vec![
        folder.to_owned(),
        folder.replace('\\', "/"),
        back.replace('\\', "\\\\"),
        back,
    ]
}

/// Whether `before`, the text before a `:` and `/root`, ends with a path, as a list of folders
/// does (`PATH=/usr/bin:/root/bin`, `-v /data:/root/data`): not a drive's letter (`C:/root`)
/// nor a host's name (`host:/root`).
fn follows_a_path(before: &str) -> bool {
    let item = before
        .rsplit(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '=' | '(' | ':'))
        .next()
        .unwrap_or_default();
    item.contains('/')
}

/// `path`, a home or working folder, where it starts a path: not inside another one's name
/// (`before`, kept). A machine's home `/root` or a container's working folder `/app` was
/// found inside `root/root` of `tar tv`, `/srv/root/x` and `src/app/main.rs`, which became
/// `root~`, `/srv~/x` and `src[CWD]/main.rs`. `after` is the separator after it, if any.
///
/// A path on a Windows drive is found in any case, as Windows reads it: `d:\work\acme` and
/// `D:\Work\Acme` are one folder, and the one not spelled as recorded was exported.
fn whole_path(path: &str) -> Option<Regex> {
    let flags = if on_a_drive(path) { "(?i)" } else { "" };
    Regex::new(&format!(
        r"(?P<before>^|[^\p{{L}}\p{{N}}_.~-]){flags}{}(?P<after>\b|$|[/\\])",
        regex::escape(path)
    ))
    .ok()
}

/// Whether `text` holds `path` as [`whole_path`] finds it: one on a Windows drive in any case.
fn contains_path(text: &str, path: &str) -> bool {
    if on_a_drive(path) {
        text.to_lowercase().contains(&path.to_lowercase())
    } else {
        text.contains(path)
    }
}

/// Whether `path` starts with a Windows drive's letter and a separator (`C:\`, `c:/`).
fn on_a_drive(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.len() > 2
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && matches!(bytes[2], b'/' | b'\\')
}

/// Replaces every match of `pattern` in `text` by what `with` makes of it, noting each.
fn replace<'t>(
    text: Cow<'t, str>,
    pattern: &Regex,
    kind: &str,
    report: &mut Report,
    with: impl Fn(&Captures<'_>) -> String,
) -> Cow<'t, str> {
    replace_some(text, pattern, kind, report, |c| Some(with(c)))
}

/// [`replace`], keeping a match for which `with` says `None`.
fn replace_some<'t>(
    text: Cow<'t, str>,
    pattern: &Regex,
    kind: &str,
    report: &mut Report,
    with: impl Fn(&Captures<'_>) -> Option<String>,
) -> Cow<'t, str> {
    replace_where(text, pattern, kind, report, |c, _| with(c))
}

/// [`replace_some`], where `with` also sees the whole text the match was found in.
pub(super) fn replace_where<'t>(
    text: Cow<'t, str>,
    pattern: &Regex,
    kind: &str,
    report: &mut Report,
    with: impl Fn(&Captures<'_>, &str) -> Option<String>,
) -> Cow<'t, str> {
    if !pattern.is_match(&text) {
        return text;
    }
    let mut changed = false;
    let haystack: &str = &text;
    let replaced = pattern.replace_all(haystack, |c: &Captures<'_>| match with(c, haystack) {
        Some(new) => {
            report.note(kind, &c[0], &new);
            changed = true;
            new
        }
        None => c[0].to_owned(),
    });
    if !changed {
        return text;
    }
    Cow::Owned(replaced.into_owned())
}

/// `text` with the escapes of letters, digits and the characters of names, addresses and
/// paths (`@ . _ - / : ~`) undone: JSON's `\uXXXX` (not after an escaped backslash) and
/// percent-encoded letters and digits (`%61`), which hide a name from every pattern; `None`
/// when it holds none. Quotes, backslashes, controls and `<>&` stay escaped.
fn unescaped(text: &str) -> Option<String> {
    if !text.contains("\\u") && !text.contains('%') {
        return None;
    }
    let plain =
        |c: char| c.is_alphanumeric() || matches!(c, '@' | '.' | '_' | '-' | '/' | ':' | '~');
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut rest = text;
    let mut backslashes = 0usize;
    while let Some(c) = rest.chars().next() {
        let hex = |n: usize, from: usize| {
            rest.get(from..from + n)
                .filter(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32)
        };
        let found = match c {
            '\\' if backslashes.is_multiple_of(2) && rest[1..].starts_with('u') => {
                hex(4, 2).filter(|c| plain(*c)).map(|c| (c, 6))
            }
            '%' => hex(2, 1)
                .filter(char::is_ascii_alphanumeric)
                .map(|c| (c, 3)),
            _ => None,
        };
        if let Some((decoded, len)) = found {
            out.push(decoded);
            rest = &rest[len..];
            changed = true;
            backslashes = 0;
            continue;
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    changed.then_some(out)
}

/// A literal replacement that names no groups (for callers building rules).
pub fn literal(find: &str, with: &str, name: &str) -> Replacement {
    Replacement {
        find: Find::Literal(find.to_owned()),
        with: with.to_owned(),
        name: name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EventType;
    use serde_json::json;

    fn event(data: Value) -> Event {
        let mut e = Event::new(EventType::ToolCall, 1.0, "e1".into(), "s1".into());
        e.data = data;
        e
    }

    fn scrub(anon: &Anonymizer, meta: &mut SessionMeta, data: Value) -> (Value, Report) {
        let mut events = vec![event(data)];
        let mut report = Report::default();
        anon.session(meta, &mut events, &mut report);
        (events.remove(0).data, report)
    }

    #[test]
    fn home_folders_of_every_system_become_tilde() {
        let anon = Anonymizer::default();
        let mut meta = SessionMeta::new("s1", 0.0);
        let (data, report) = scrub(
            &anon,
            &mut meta,
            json!({
                "a": "cat /home/alice/src/main.rs",
                "b": "open /Users/Bob.Smith/Documents/x.txt",
                "c": r"type C:\Users\carol\proj\a.txt",
                "d": r#"{\"path\": \"D:\\\\Users\\\\dave\\\\x\"}"#,
                "e": "ls /root/.ssh and /rooted/x",
                "f": r#"copy C:\Users\erin src\x "C:\Users\Erin Holt\y""#,
                "g": r"C:\Users\Erin Holt\z",
            }),
        );
        assert_eq!(data["a"], "cat ~/src/main.rs");
        assert_eq!(data["b"], "open ~/Documents/x.txt");
        assert_eq!(data["c"], r"type ~\proj\a.txt");
        assert_eq!(data["d"], r#"{\"path\": \"~\\\\x\"}"#);
        assert_eq!(data["e"], "ls ~/.ssh and /rooted/x");
        assert_eq!(data["f"], r#"copy ~ src\x "~\y""#);
        assert_eq!(data["g"], r"~\z");
        assert_eq!(report.kinds["home_path"].count, 8);
    }

    #[test]
    fn names_learned_from_the_session_are_replaced_as_words() {
        let anon = Anonymizer::new(
            Vec::new(),
            Machine {
                homes: Vec::new(),
                users: vec!["zed".into(), "root".into()],
                hosts: vec!["buildbox".into()],
            },
        );
        let mut meta = SessionMeta::new("s1", 0.0);
        meta.set_attribution("hostname", "alice-laptop.corp.example");
        meta.set_attribution("os_user", "alice");
        meta.set_attribution("working_dir", "/data/u/alice/app");
        meta.command = "claude --cwd /data/u/alice/app".into();
        let (data, report) = scrub(
            &anon,
            &mut meta,
            json!({"text": "alice on ALICE-LAPTOP via buildbox, zed; malice and root cause stay; mail alice@corp.example"}),
        );
        assert_eq!(
            data["text"],
            "[USER] on [HOST] via [HOST], [USER]; malice and root cause stay; mail [EMAIL]"
        );
        assert_eq!(meta.command, "claude --cwd ~/app");
        assert_eq!(meta.attribution("working_dir"), Some("~/app"));
        assert_eq!(meta.attribution("hostname"), Some("[HOST]"));
        assert_eq!(meta.attribution("os_user"), Some("[USER]"));
        assert_eq!(report.kinds["email"].count, 1);
        assert_eq!(report.kinds["hostname"].count, 3);
        assert_eq!(
            report.kinds["email"].examples,
            vec![Example {
                found: "alice@corp.example".into(),
                replaced_by: EMAIL.into()
            }]
        );
    }

    #[test]
    fn user_rules_apply_first_and_regex_groups_expand() {
        let rules = vec![
            literal("Acme Corp", "[COMPANY]", "company"),
            Replacement {
                find: Find::Regex(Regex::new(r"PROJ-(\d+)").unwrap()),
                with: "TICKET-$1".into(),
                name: "ticket".into(),
            },
        ];
        let anon = Anonymizer::new(rules, Machine::default());
        let mut meta = SessionMeta::new("s1", 0.0);
        let (data, report) = scrub(
            &anon,
            &mut meta,
            json!(["Acme Corp fixes PROJ-12 and PROJ-7 for Acme Corp"]),
        );
        assert_eq!(
            data[0],
            "[COMPANY] fixes TICKET-12 and TICKET-7 for [COMPANY]"
        );
        assert_eq!(report.kinds["rule:company"].count, 2);
        assert_eq!(report.kinds["rule:ticket"].count, 2);
        assert_eq!(report.replacements, 4);
    }

    #[test]
    fn keys_are_rewritten_and_kept_apart() {
        let anon = Anonymizer::default();
        let mut meta = SessionMeta::new("s1", 0.0);
        let (data, _) = scrub(
            &anon,
            &mut meta,
            json!({"/home/alice/a": 1, "/home/bob/a": 2, "n": 3}),
        );
        assert_eq!(data, json!({"~/a": 1, "~/a #2": 2, "n": 3}));
    }

    #[test]
    fn only_distinctive_account_names_are_words() {
        for name in [
            "alice",
            "jdoe42",
            "Alice Smith",
            "alice-laptop",
            "10.0.0.7",
            "zoe",
        ] {
            assert!(distinctive(name), "{name}");
        }
        for name in [
            "al", "test", "Dev", "1000", "192", "...", "*", "$USER", "you", "a  b",
        ] {
            assert!(!distinctive(name), "{name}");
        }
        assert!(account_like("1000") && account_like("test") && !account_like("{user}"));
    }

    #[test]
    fn a_name_called_or_reached_as_a_member_is_code() {
        let at = |text: &str| {
            let start = text.to_lowercase().find("max").unwrap();
            in_code(text, start..start + 3)
        };
        for text in [
            "Math.max(a)",
            "max(xs)",
            "i32::max",
            "p->max",
            "(a).max",
            "a[0].max",
        ] {
            assert!(at(text), "{text}");
        }
        for text in [
            "max wrote",
            "ask max.",
            "www.max.dev",
            "see max (him)",
            "...max",
            ". max",
            "max(at)corp.example",
            "Dr.Max",
        ] {
            assert!(!at(text), "{text}");
        }
    }

    #[test]
    fn an_account_made_of_names_adds_each_name() {
        let users: BTreeSet<String> = ["john.smith", "app.user", "jdoe42", "Ann Lee_x"]
            .map(String::from)
            .into();
        let names = with_name_parts(&users);
        for name in [
            "john",
            "smith",
            "john smith",
            "johnsmith",
            "john-smith",
            "john_smith",
            "app.user",
            "jdoe42",
            "Ann",
            "Lee",
        ] {
            assert!(names.contains(name), "{name}: {names:?}");
        }
        for name in ["app", "user", "app user", "Ann Lee x", "x"] {
            assert!(!names.contains(name), "{name}: {names:?}");
        }
    }

    #[test]
    fn escapes_of_letters_are_undone_and_others_kept() {
        assert_eq!(
            unescaped(r"\u0061lice %41 \u0022 \\u0062 %2F").as_deref(),
            Some(r"alice A \u0022 \\u0062 %2F")
        );
        assert_eq!(unescaped("100% sure"), None);
    }

    #[test]
    fn nothing_personal_means_nothing_changes() {
        let anon = Anonymizer::default();
        let mut meta = SessionMeta::new("s1", 0.0);
        let original = json!({"cmd": "cargo test --lib", "path": "src/main.rs", "n": 1});
        let (data, report) = scrub(&anon, &mut meta, original.clone());
        assert_eq!(data, original);
        assert_eq!(report.replacements, 0);
        assert_eq!(report.sessions, 1);
    }
}
