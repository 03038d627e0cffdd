//! The accounts and groups tools print in columns of their own, for
//! [`super::anonymize`]: `ls -l` (also `-g`, `-o`, `-n`, `-i`, `-s`, `-Z`, macOS's flags),
//! `find -ls`, `stat` (GNU's, BSD's and macOS's, `-x` too), `tar tv`, `ps aux` and `ps -ef`,
//! `top`, `lsof`, `id`, `getent passwd` and `getent group` (and `/etc/passwd`, `/etc/group`),
//! `who`, `w` and `last`. Such a column names an account of the machine whoever it is, and a
//! colleague's there was exported: a person's account is `[USER]`, a team's group `[GROUP]`,
//! the full name of a passwd line `[NAME]`; the system's own (`root`, `staff`, `wheel`,
//! `_www`, daemons, numbers) stay.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use super::anonymize::{GENERIC, GROUP, HOST, NAME, Report, USER, replace_where};

/// A file's mode as a listing prints it (`-rw-r--r--`, `drwxr-sr-x`, `crw-rw----`).
const MODE: &str = r"[-bcdlpsD][-r][-w][-xsStT][-r][-w][-xsStT][-r][-w][-xsStT]";

/// Where a listing's line starts: a line's start, or in JSON text a line break escaped or the
/// quote opening its string (`{"stdout": "-rw-r--r-- 1 alice …`), whose first line was left.
const LINE: &str = r#"(?:^|\\n|")"#;

/// A line of `ls -l` (also `-la`, `-h`, with macOS's `@` and `+`, SELinux's `.`, a device's
/// `8, 1`), of `find -ls` and of BSD's and macOS's `stat`: a device's and an inode's numbers
/// or the blocks (`ls -i`, `ls -s`, `find -ls`) may come first, then the mode, the links, the
/// owner and group columns, which name accounts of the machine (`-rw-r--r-- 1 alice staff 120
/// Jan 1 a.txt`), and the size, after macOS's flags (`ls -lO`) or an SELinux context (`ls
/// -lZ`), which hid the line before. `ls -g` and `ls -o` print one of the two columns. GNU's
/// `ls -l --author` prints a third account there, the author (`extra`, told from macOS's flags
/// by [`MACOS_FLAGS`]).
static LS_LONG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        concat!(
            r"(?m)(?P<pre>{line}[ \t]*(?:\d+[ \t]+){{0,2}}{mode}[@+.]?[ \t]+\d+[ \t]+)",
            r"(?P<owner>[^\s\\]+)(?:(?P<mid>[ \t]+)(?P<group>[^\s\\]+))?",
            r"(?P<post>(?:[ \t]+(?:-|(?P<extra>{account}(?:,[a-z]+)*)|[\w.-]+:[\w.-]+:[\w.-]+(?::[\w.,:-]+)?))?",
            r"[ \t]+(?:\d+,[ \t]*)?\d[\d.,]*[KMGTPEZYkB]?[ \t])",
        ),
        line = LINE,
        mode = MODE,
        // In lower case, as accounts are: `ls -o`'s `120 Jan  2` is a size and a month.
        account = r"[a-z_][a-z0-9._-]*",
    ))
    .expect("the ls -l pattern compiles")
});

/// The owner and group of GNU's `stat` and macOS's `stat -x` (`Uid: ( 1000/   alice)   Gid: (
/// 1000/   alice)`).
static STAT_IDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?P<pre>\bUid:[ \t]*\([ \t]*\d+/[ \t]*)(?P<owner>[^)\s\\]+)",
        r"(?P<mid>\)[ \t]+Gid:[ \t]*\([ \t]*\d+/[ \t]*)(?P<group>[^)\s\\]+)(?P<post>\))",
    ))
    .expect("the stat pattern compiles")
});

/// A line of GNU's `tar tv` (`-rw-r--r-- alice/staff 12 2026-01-02 10:00 f`, a hard link's
/// `h`, a device's `8,1`); BSD's and macOS's tar print a line of `ls -l` ([`LS_LONG`]).
static TAR_LONG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        concat!(
            r"(?m)(?P<pre>{line}[-bcdlpshD][-r][-w][-xsStT][-r][-w][-xsStT][-r][-w][-xsStT][ \t]+)",
            r"(?P<owner>[^\s\\/]+)(?P<mid>/)(?P<group>[^\s\\/]+)",
            r"(?P<post>[ \t]+(?:\d+,\d+[ \t]+)?\d+[ \t])",
        ),
        line = LINE,
    ))
    .expect("the tar tv pattern compiles")
});

/// A name a process or a login is listed under: `ps` cuts a long one to its first letters and
/// a `+` (`systemd+`, `mrotili+`).
const ACCOUNT: &str = r"[\p{L}_][\p{L}\p{N}._-]*\+?";

/// A process's terminal as `ps` prints it (`?`, `pts/0`, `tty1`, macOS's `??` and `s000`).
const PS_TTY: &str = r"(?:\?\??|pts/\d+|tty\w*|s\d{3}|console)";

/// A line of `ps aux` (`USER PID %CPU %MEM VSZ RSS TTY STAT …`) or of `ps -ef` (`UID PID PPID
/// C STIME TTY TIME …`): its first column is the process's account. The terminal and the
/// state or time after it tell the line from a table of numbers (`parse 1000 0.5 0.1 48 61`).
static PS_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        concat!(
            r"(?m)(?P<pre>{line})(?P<owner>{account})(?P<post>[ \t]+\d+[ \t]+",
            r"(?:\d+(?:[.,]\d+)?[ \t]+\d+(?:[.,]\d+)?[ \t]+\d+[ \t]+\d+[ \t]+{tty}[ \t]+[DIRSTUWXZ][<NLsl+]*",
            r"|\d+[ \t]+\d+[ \t]+\S+[ \t]+{tty}[ \t]+(?:\d+-)?\d+:\d\d(?::\d\d)?(?:\.\d+)?)[ \t])",
        ),
        line = LINE,
        account = ACCOUNT,
        tty = PS_TTY,
    ))
    .expect("the ps pattern compiles")
});

/// A line of `who`, `w` or `last`: an account, its terminal (padded: `console` alone is a word),
/// the host it came from perhaps (`from`: `w`'s and `last`'s column), and when (`marco
/// pts/0        2026-01-02 10:00`, `marco    console  Jan  2 10:00`, `marco pts/1 10.0.0.5
/// Thu Jan  2 10:00   still logged in`), then `who`'s host in parentheses (`paren`: `(10.0.0.5)`,
/// after `who -u`'s idle time and process).
static LOGIN_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        concat!(
            r"(?m)(?P<pre>{line})(?P<owner>{account})(?P<post>[ \t]+",
            r"(?:pts/\d+|tty[\w/]*|console|:\d+(?:\.\d+)?|seat\d+)[ \t]{{2,}}(?:(?P<from>[^\s\\]+)[ \t]+)?",
            r"(?:(?:[A-Z][a-z]{{2}} )?[A-Z][a-z]{{2}} [ \d]\d \d\d:\d\d|\d{{4}}-\d\d-\d\d \d\d:\d\d",
            r"|[A-Z][a-z]{{2}}\d\d(?:[AaPp][Mm])?\b|\d\d?:\d\d(?:[AaPp][Mm])?\b)",
            r"(?:(?:[ \t]+(?:\.|old|\d+:\d\d)[ \t]+\d+)?[ \t]+\((?P<paren>[^()\s\\]+)\))?)",
        ),
        line = LINE,
        account = ACCOUNT,
    ))
    .expect("the login pattern compiles")
});

/// What `id` prints (`uid=1000(alice) gid=1000(alice) groups=1000(alice),27(sudo),1001(eng)`).
static ID_LINE: LazyLock<Regex> = LazyLock::new(|| {
    let id = r"\d+\([^()\s\\]+\)";
    Regex::new(&format!(
        r"\buid={id}(?:[ \t]+(?:gid|euid|egid|groups)={id}(?:,\d+(?:\([^()\s\\]+\))?)*)*"
    ))
    .expect("the id pattern compiles")
});

/// One `<id>(<name>)` of [`ID_LINE`].
static ID_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<key>[a-z]+=)?(?P<pre>\d+\()(?P<name>[^()\s\\]+)\)")
        .expect("the id name pattern compiles")
});

/// A line of `top` (`PID USER PR NI VIRT RES SHR S %CPU …`): its second column is the
/// process's account (cut to eight characters and a `+`).
static TOP_LINE: LazyLock<Regex> = LazyLock::new(|| {
    let size = r"\d[\d.,]*[kmgtpKMGTP]?";
    Regex::new(&format!(
        concat!(
            r"(?m)(?P<pre>{line}[ \t]*\d+[ \t]+)(?P<owner>{account})(?P<post>[ \t]+(?:\d+|rt)",
            r"[ \t]+-?\d+[ \t]+{size}[ \t]+{size}[ \t]+{size}[ \t]+[DIRSTtZ][ \t])",
        ),
        line = LINE,
        account = ACCOUNT,
        size = size,
    ))
    .expect("the top pattern compiles")
});

/// A line of `lsof` (`COMMAND PID [TID] USER FD TYPE …`): its account, before a descriptor
/// (`cwd`, `txt`, `3u`) and a type (`REG`, `DIR`, `IPv4` …).
static LSOF_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        concat!(
            r"(?m)(?P<pre>{line}[^\s\\]+[ \t]+\d+[ \t]+(?:\d+[ \t]+)?)(?P<owner>{account})",
            r"(?P<post>[ \t]+(?:cwd|rtd|txt|mem|mmap|DEL|err|ltx|\d+[rwu]?[A-Za-z]?)[ \t]+",
            r"(?:REG|DIR|CHR|BLK|FIFO|LINK|IPv4|IPv6|unix|sock|a_inode|KQUEUE|PIPE|NPOLICY|netlink|raw)\b)",
        ),
        line = LINE,
        account = ACCOUNT,
    ))
    .expect("the lsof pattern compiles")
});

/// A line of `getent group` or `/etc/group` (`acme-eng:x:1002:mrotili,kfenwick`): a group and
/// its members, the accounts in it. Ends with its line ([`line_ends`]).
static GROUP_LINE: LazyLock<Regex> = LazyLock::new(|| {
    let name = r"[A-Za-z_][A-Za-z0-9_.-]*\$?";
    Regex::new(&format!(
        r"(?m)(?P<pre>{LINE})(?P<group>{name})(?P<ids>:(?:x|\*|!):\d+:)(?P<members>{name}(?:,{name})*)?"
    ))
    .expect("the group pattern compiles")
});

/// A line of `getent passwd` or `/etc/passwd`: account, password, ids, the full name and
/// more (GECOS: `Marco Rotili,Room 12,555-0100,,`), home folder, shell, each path absolute or
/// empty (a home already `~`). Ends with its line ([`line_ends`]).
static PASSWD_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        concat!(
            r"(?m)(?P<pre>{line})(?P<name>[A-Za-z_][A-Za-z0-9_.-]*\$?)(?P<ids>:(?:x|\*|!!?)?:\d+:\d+:)",
            r"(?P<gecos>[^:\n\\]*)(?P<mid>:)(?P<home>(?:[/~][^:\s\\]*)?)(?P<shell>:(?:/[^:\s\\]*)?)",
        ),
        line = LINE,
    ))
    .expect("the passwd pattern compiles")
});

/// The accounts and groups a system has for itself, not for a person, as listings show them
/// (besides [`GENERIC`] and those starting with `_`, `systemd-` or `com.apple.`): they stay.
pub(super) const SYSTEM_ACCOUNTS: &[&str] = &[
    "adm",
    "audio",
    "avahi",
    "avahi-autoipd",
    "backup",
    "bin",
    "bluetooth",
    "cdrom",
    "chrony",
    "colord",
    "cups",
    "daemon",
    "dbus",
    "dialout",
    "dip",
    "disk",
    "dnsmasq",
    "everyone",
    "floppy",
    "ftp",
    "fuse",
    "fwupd-refresh",
    "games",
    "gdm",
    "geoclue",
    "gnats",
    "halt",
    "hplip",
    "input",
    "irc",
    "kernoops",
    "kmem",
    "kvm",
    "libvirt",
    "libvirt-qemu",
    "lightdm",
    "list",
    "localaccounts",
    "lp",
    "lpadmin",
    "lxd",
    "mail",
    "man",
    "memcache",
    "messagebus",
    "mongodb",
    "mysql",
    "netdev",
    "network",
    "news",
    "nginx",
    "nogroup",
    "ntp",
    "operator",
    "optical",
    "pipewire",
    "plugdev",
    "polkitd",
    "power",
    "proxy",
    "pulse",
    "rabbitmq",
    "reboot",
    "redis",
    "render",
    "rfkill",
    "rtkit",
    "saned",
    "sambashare",
    "scanner",
    "sddm",
    "shadow",
    "shutdown",
    "speech-dispatcher",
    "ssl-cert",
    "sshd",
    "staff",
    "storage",
    "sudo",
    "sync",
    "sys",
    "syslog",
    "tss",
    "tty",
    "unknown",
    "usbmux",
    "utmp",
    "uucp",
    "uuidd",
    "vboxusers",
    "video",
    "wheel",
    "whoopsie",
    "wireshark",
];

/// Whether `name`, a listing's account or group, is the system's own or a number (`ls -n`,
/// `tar --numeric-owner`: a number names no one). A name `ps` cut (`systemd+`) is the
/// system's when one of its own starts so.
fn systems(name: &str) -> bool {
    let lower = name.to_lowercase();
    let own = |n: &str| {
        n.starts_with('_')
            || n.starts_with("systemd-")
            || n.starts_with("com.apple.")
            || SYSTEM_ACCOUNTS.contains(&n)
            || GENERIC.contains(&n)
    };
    let cut = lower.strip_suffix('+').filter(|s| s.len() >= 4);
    name.chars().all(|c| c.is_ascii_digit())
        || own(&lower)
        || cut.is_some_and(|stem| {
            own(stem)
                || stem == "systemd"
                || SYSTEM_ACCOUNTS.iter().any(|s| s.starts_with(stem))
                || GENERIC.iter().any(|s| s.starts_with(stem))
        })
}

/// The flags macOS's `ls -lO` prints after the group (`uchg`, `hidden`, several joined by
/// `,`), told from the author GNU's `ls -l --author` prints there.
const MACOS_FLAGS: &[&str] = &[
    "arch",
    "archived",
    "compressed",
    "dataless",
    "hidden",
    "nodump",
    "offline",
    "opaque",
    "restricted",
    "sappend",
    "sappnd",
    "schange",
    "schg",
    "simmutable",
    "sunlink",
    "sunlnk",
    "uappend",
    "uappnd",
    "uchange",
    "uchg",
    "uimmutable",
    "uunlink",
    "uunlnk",
];

/// Whether `word`, after the group of `ls -l`, is macOS's flags rather than an author.
fn macos_flags(word: &str) -> bool {
    word.contains(',') || MACOS_FLAGS.contains(&word)
}

/// The days and months a login's time starts with (`Thu Jan  2 10:05`), which a line with no
/// host has where the host would be.
const WHEN: &[&str] = &[
    "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Whether `from`, the host column of `w` and `last` or `who`'s parentheses, names a host a
/// login came from (`10.0.0.5`, `kf-laptop.lan`, `2001:db8::5`): `[HOST]`, as the recording
/// machine's is. This machine itself (`localhost`, `127.0.0.1`, `::1`), a display (`:0`,
/// `:pts/1:S.0`), `-` for none, and a date or time where no host was printed stay.
fn remote_host(from: &str) -> bool {
    let lower = from.to_ascii_lowercase();
    let local = lower == "localhost"
        || lower.starts_with("localhost.")
        || lower.starts_with("127.")
        || lower == "::1"
        || lower == "0.0.0.0"
        || lower.starts_with(':');
    let ipv4 = from.split('.').count() == 4
        && from
            .split('.')
            .all(|p| (1..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit()));
    let ipv6 = from.matches(':').count() >= 2
        && from
            .chars()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.'));
    let name = from.chars().any(|c| c.is_ascii_alphabetic())
        && from
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        && !WHEN.contains(&from);
    !local && (ipv4 || ipv6 || name)
}

/// The whole match `c` with each named group of `edits` that matched replaced by what is
/// given for it; `None` when nothing changes.
fn edited(c: &Captures<'_>, edits: &[(&str, Option<&str>)]) -> Option<String> {
    let whole = c.get(0)?;
    let mut spans: Vec<(std::ops::Range<usize>, &str)> = edits
        .iter()
        .filter_map(|(group, new)| Some((c.name(group)?.range(), (*new)?)))
        .collect();
    spans.sort_by_key(|(range, _)| range.start);
    let text = whole.as_str();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut changed = false;
    for (range, new) in spans {
        let (start, end) = (range.start - whole.start(), range.end - whole.start());
        if start < at {
            continue;
        }
        changed |= &text[start..end] != new;
        out.push_str(&text[at..start]);
        out.push_str(new);
        at = end;
    }
    out.push_str(&text[at..]);
    changed.then_some(out)
}

/// Whether a passwd line's shell lets no one log in (`/usr/sbin/nologin`, `/bin/false`,
/// `/bin/sync`): a service's account, not a person's.
fn no_login(shell: &str) -> bool {
    let program = shell.rsplit('/').next().unwrap_or(shell);
    matches!(program, "nologin" | "false" | "sync" | "shutdown" | "halt")
}

/// Whether the text after a match starts a new line or ends the text, or in JSON text the
/// string holding it (`"`, `\"`).
fn line_ends(after: &str) -> bool {
    after.is_empty()
        || after.starts_with(['\n', '\r', '"'])
        || ["\\n", "\\r", "\\\""].iter().any(|s| after.starts_with(s))
}

/// Rewrites the account columns of listings in `text`; `accounts` are the known ones in lower
/// case (generic ones too: the session's own `ubuntu` is `[USER]` there).
pub(super) struct Columns<'a> {
    pub(super) accounts: &'a BTreeSet<String>,
}

impl Columns<'_> {
    /// Every listing's accounts in `text`, each replacement counted into `report`.
    pub(super) fn text<'t>(&self, text: Cow<'t, str>, report: &mut Report) -> Cow<'t, str> {
        let mut out = text;
        for pattern in [&*LS_LONG, &*STAT_IDS, &*TAR_LONG] {
            out = replace_where(out, pattern, "file_owner", report, |c, _| self.owners(c));
        }
        for pattern in [&*PS_LINE, &*TOP_LINE, &*LSOF_LINE, &*LOGIN_LINE] {
            out = replace_where(out, pattern, "account", report, |c, _| self.owners(c));
        }
        out = replace_where(out, &ID_LINE, "account", report, |c, _| self.id(&c[0]));
        out = replace_where(out, &PASSWD_LINE, "account", report, |c, t| {
            let end = c.get(0).expect("a match has a whole").end();
            line_ends(&t[end..]).then(|| self.passwd(c)).flatten()
        });
        out = replace_where(out, &GROUP_LINE, "account", report, |c, t| {
            let end = c.get(0).expect("a match has a whole").end();
            line_ends(&t[end..]).then(|| self.group_line(c)).flatten()
        });
        out = super::account_lines::ps_tables(self, out, report);
        super::account_lines::group_lists(self, out, false, report)
    }

    pub(super) fn known(&self, name: &str) -> bool {
        self.accounts.contains(&name.to_lowercase())
    }

    /// What an account's column becomes: `[USER]` unless the system's own.
    pub(super) fn owner<'n>(&self, name: &'n str) -> &'n str {
        if self.known(name) || !systems(name) {
            USER
        } else {
            name
        }
    }

    /// What a group's column becomes, beside the account `owner` that became `new_owner`: a
    /// known account, or the owner's own group (named as it), is `[USER]`; another not the
    /// system's (`acme-eng`) is `[GROUP]`.
    pub(super) fn group<'n>(&self, group: &'n str, owner: &str, new_owner: &str) -> &'n str {
        if self.known(group) || group.eq_ignore_ascii_case(owner) && new_owner == USER {
            USER
        } else if systems(group) {
            group
        } else {
            GROUP
        }
    }

    /// A match of [`LS_LONG`], [`STAT_IDS`], [`TAR_LONG`], [`PS_LINE`], [`TOP_LINE`],
    /// [`LSOF_LINE`] or [`LOGIN_LINE`]: its `owner` and, when there are, `group`, the author of
    /// `ls -l --author` (`extra`, unless macOS's flags) and the host a login came from (`from`,
    /// `paren`: [`remote_host`]). The one column of `ls -g` or `ls -o`, which the line does not
    /// say is which, is taken as an account. `None` when nothing names anyone.
    fn owners(&self, c: &Captures<'_>) -> Option<String> {
        let owner = &c["owner"];
        let new_owner = self.owner(owner);
        let new_group = c
            .name("group")
            .map(|g| self.group(g.as_str(), owner, new_owner));
        let author = c
            .name("extra")
            .filter(|e| !macos_flags(e.as_str()))
            .map(|e| self.owner(e.as_str()));
        let host = |g: &str| c.name(g).filter(|h| remote_host(h.as_str())).map(|_| HOST);
        edited(
            c,
            &[
                ("owner", Some(new_owner)),
                ("group", new_group),
                ("extra", author),
                ("from", host("from")),
                ("paren", host("paren")),
            ],
        )
    }

    /// `id`'s line: its `uid=`'s name is the account's, the others are groups.
    fn id(&self, line: &str) -> Option<String> {
        let owner = ID_NAME.captures(line)?.name("name")?.as_str().to_owned();
        let new_owner = self.owner(&owner).to_owned();
        let mut changed = false;
        let out = ID_NAME.replace_all(line, |c: &Captures<'_>| {
            let name = &c["name"];
            let new = if c.name("key").is_some_and(|k| k.as_str() == "uid=") {
                new_owner.as_str()
            } else {
                self.group(name, &owner, &new_owner)
            };
            changed |= new != name;
            let key = c.name("key").map_or("", |k| k.as_str());
            format!("{key}{}{new})", &c["pre"])
        });
        changed.then(|| out.into_owned())
    }

    /// A group line: the group as a listing's ([`Self::group`]; an account's own is named as
    /// the account, `[USER]` when known), each member as an account ([`Self::owner`]).
    fn group_line(&self, c: &Captures<'_>) -> Option<String> {
        let group = &c["group"];
        let new_group = self.group(group, "", "");
        let members = c.name("members").map_or("", |m| m.as_str());
        let new_members: Vec<&str> = members.split(',').map(|m| self.owner(m)).collect();
        let new_members = if members.is_empty() {
            String::new()
        } else {
            new_members.join(",")
        };
        (new_group != group || new_members != members)
            .then(|| format!("{}{new_group}{}{new_members}", &c["pre"], &c["ids"]))
    }

    /// A passwd line: a person's account is `[USER]`, in its home folder's path too, and its
    /// full name and what follows (room, telephones) `[NAME]`. An account is a person's when
    /// known, or when not the system's and its shell lets one log in.
    fn passwd(&self, c: &Captures<'_>) -> Option<String> {
        let (name, shell) = (&c["name"], &c["shell"]);
        let person = self.known(name) || (!systems(name) && !no_login(&shell[1..]));
        if !person {
            return None;
        }
        let gecos = &c["gecos"];
        let gecos = if gecos.chars().any(char::is_alphanumeric) {
            NAME
        } else {
            gecos
        };
        let home: Vec<&str> = c["home"]
            .split('/')
            .map(|part| if part == name { USER } else { part })
            .collect();
        Some(format!(
            "{}{USER}{}{gecos}{}{}{shell}",
            &c["pre"],
            &c["ids"],
            &c["mid"],
            home.join("/")
        ))
    }
}
