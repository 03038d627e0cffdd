//! The accounts and groups tools print in columns of their own, for
//! [`super::anonymize`]: `ls -l` (also `-g`, `-o`, `-n`, `-i`, `-s`, `-Z`, macOS's flags),
//! `find -ls`, `stat` (GNU's, BSD's and macOS's, `-x` too) and `tar tv`. Such a column names
//! an account of the machine whoever it is, and a colleague's there was exported: a person's
//! account is `[USER]`, a team's group `[GROUP]`; the system's own (`root`, `staff`, `wheel`,
//! `_www`, daemons, numbers) stay.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use super::anonymize::{GENERIC, GROUP, Report, USER, replace_where};

/// A file's mode as a listing prints it (`-rw-r--r--`, `drwxr-sr-x`, `crw-rw----`).
const MODE: &str = r"[-bcdlpsD][-r][-w][-xsStT][-r][-w][-xsStT][-r][-w][-xsStT]";

/// Where a listing's line starts: a line's start, or a line break escaped in JSON text.
const LINE: &str = r"(?:^|\\n)";

/// A line of `ls -l` (also `-la`, `-h`, with macOS's `@` and `+`, SELinux's `.`, a device's
/// `8, 1`), of `find -ls` and of BSD's and macOS's `stat`: a device's and an inode's numbers
/// or the blocks (`ls -i`, `ls -s`, `find -ls`) may come first, then the mode, the links, the
/// owner and group columns, which name accounts of the machine (`-rw-r--r-- 1 alice staff 120
/// Jan 1 a.txt`), and the size, after macOS's flags (`ls -lO`) or an SELinux context (`ls
/// -lZ`), which hid the line before. `ls -g` and `ls -o` print one of the two columns.
static LS_LONG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        concat!(
            r"(?m)(?P<pre>{line}[ \t]*(?:\d+[ \t]+){{0,2}}{mode}[@+.]?[ \t]+\d+[ \t]+)",
            r"(?P<owner>[^\s\\]+)(?:(?P<mid>[ \t]+)(?P<group>[^\s\\]+))?",
            r"(?P<post>(?:[ \t]+(?:-|[a-z]+(?:,[a-z]+)*|[\w.-]+:[\w.-]+:[\w.-]+(?::[\w.,:-]+)?))?",
            r"[ \t]+(?:\d+,[ \t]*)?\d[\d.,]*[KMGTPEZYkB]?[ \t])",
        ),
        line = LINE,
        mode = MODE,
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

/// The accounts and groups a system has for itself, not for a person, as listings show them
/// (besides [`GENERIC`] and those starting with `_`, `systemd-` or `com.apple.`): they stay.
const SYSTEM_ACCOUNTS: &[&str] = &[
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
/// `tar --numeric-owner`: a number names no one).
fn systems(name: &str) -> bool {
    let lower = name.to_lowercase();
    name.chars().all(|c| c.is_ascii_digit())
        || lower.starts_with('_')
        || lower.starts_with("systemd-")
        || lower.starts_with("com.apple.")
        || SYSTEM_ACCOUNTS.contains(&lower.as_str())
        || GENERIC.contains(&lower.as_str())
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
        out
    }

    fn known(&self, name: &str) -> bool {
        self.accounts.contains(&name.to_lowercase())
    }

    /// What an account's column becomes: `[USER]` unless the system's own.
    fn owner<'n>(&self, name: &'n str) -> &'n str {
        if self.known(name) || !systems(name) {
            USER
        } else {
            name
        }
    }

    /// What a group's column becomes, beside the account `owner` that became `new_owner`: a
    /// known account, or the owner's own group (named as it), is `[USER]`; another not the
    /// system's (`acme-eng`) is `[GROUP]`.
    fn group<'n>(&self, group: &'n str, owner: &str, new_owner: &str) -> &'n str {
        if self.known(group) || group.eq_ignore_ascii_case(owner) && new_owner == USER {
            USER
        } else if systems(group) {
            group
        } else {
            GROUP
        }
    }

    /// A match of [`LS_LONG`], [`STAT_IDS`] or [`TAR_LONG`]: its
    /// `owner` and, when there is one, `group`. The one column of `ls -g` or `ls -o`, which the
    /// line does not say is which, is taken as an account. `None` when nothing names anyone.
    fn owners(&self, c: &Captures<'_>) -> Option<String> {
        let owner = &c["owner"];
        let new_owner = self.owner(owner);
        let (mid, group, new_group) = match (c.name("mid"), c.name("group")) {
            (Some(mid), Some(group)) => {
                let group = group.as_str();
                (mid.as_str(), group, self.group(group, owner, new_owner))
            }
            _ => ("", "", ""),
        };
        (new_owner != owner || new_group != group)
            .then(|| format!("{}{new_owner}{mid}{new_group}{}", &c["pre"], &c["post"]))
    }
}
