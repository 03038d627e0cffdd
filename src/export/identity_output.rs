//! The names `whoami`, `id -un`, `logname`, `hostname`, `uname -n` and `uname -a` print, for
//! [`super::anonymize`]: a bare word on a line of its own (`mrotili`, `mrotili-thinkpad`),
//! which nothing in the text alone tells from any word, and which was exported whenever the
//! session named that account or host nowhere else (an imported log records neither), or named
//! one too short or too common to replace as a word (`jo`, `ubuntu`). The call's command says
//! what each line of its output is: a command line made of such commands alone, one after
//! another (`whoami; hostname`, `whoami && uname -n`, `pwd` among them), prints one line each,
//! and where its output has as many lines, the account's is `[USER]` and the host's `[HOST]`,
//! whoever they are, and both are learned as the session's, replaced wherever it writes them.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::account_lines::{lines, splice};
use super::anonymize::{HOST, Report, USER};

/// What one command of a line prints, on one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Prints {
    /// The account it runs as (`whoami`, `id -un`, `logname`, `echo $USER`).
    Account,
    /// The machine's host name (`hostname`, `hostname -f`, `uname -n`, `echo $HOSTNAME`).
    Host,
    /// `uname -a`'s line, whose second word is the host name (`Linux mrotili-tp 6.8.0 …`).
    Uname,
    /// A line naming neither (`pwd`, `date`): left to the other patterns.
    Other,
}

/// One command [`Prints`] knows, with its redirections of errors allowed after it.
static COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"^(?:(?P<account>whoami|logname|id[ \t]+(?:-un|-nu|-u[ \t]+-n|-n[ \t]+-u|--user[ \t]+--name|--name[ \t]+--user)"#,
        r#"|echo[ \t]+(?:"?\$\{?(?:USER|LOGNAME|USERNAME)\}?"?))"#,
        r#"|(?P<host>hostname(?:[ \t]+(?:-s|-f|--short|--fqdn|--long))?|uname[ \t]+(?:-n|--nodename)"#,
        r#"|hostnamectl[ \t]+hostname|cat[ \t]+/etc/hostname|echo[ \t]+"?\$\{?(?:HOSTNAME|HOST)\}?"?)"#,
        r#"|(?P<uname>uname[ \t]+(?:-a|--all))|(?P<other>pwd|date|uname|uname[ \t]+-[smr]+))"#,
        r"(?:[ \t]+2>(?:&1|/dev/null))?$",
    ))
    .expect("the identity command pattern compiles")
});

/// What each line `command` prints is, when the line is made only of commands [`COMMAND`]
/// knows, run one after another (`;`, `&&`, a line break), one naming an account or a host at
/// least; `None` otherwise: another command's lines cannot be told from these.
pub(super) fn prints(command: &str) -> Option<Vec<Prints>> {
    let mut out = Vec::new();
    for part in command
        .split([';', '\n'])
        .flat_map(|part| part.split("&&"))
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        let found = COMMAND.captures(part)?;
        out.push(if found.name("account").is_some() {
            Prints::Account
        } else if found.name("host").is_some() {
            Prints::Host
        } else if found.name("uname").is_some() {
            Prints::Uname
        } else {
            Prints::Other
        });
    }
    out.iter().any(|p| *p != Prints::Other).then_some(out)
}

/// A word shaped as an account's or a host's name, as these commands print it.
fn name_shaped(word: &str) -> bool {
    word.starts_with(|c: char| c.is_alphanumeric() || c == '_')
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '$'))
}

/// The names `text`, the output of a command line that [`prints`] `lines_printed`, holds, each
/// with the byte range it is at: only where the text has one line for each command, and each
/// line the shape its command prints.
fn names_in(text: &str, lines_printed: &[Prints]) -> Vec<(Prints, std::ops::Range<usize>)> {
    let found: Vec<_> = lines(text)
        .into_iter()
        .filter(|l| !text[l.clone()].trim().is_empty())
        .collect();
    if found.len() != lines_printed.len() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (line, printed) in found.into_iter().zip(lines_printed) {
        let body = &text[line.clone()];
        let start = line.start + (body.len() - body.trim_start().len());
        let trimmed = body.trim();
        let name = match printed {
            Prints::Account | Prints::Host if name_shaped(trimmed) => {
                Some(start..start + trimmed.len())
            }
            Prints::Uname => {
                // `Linux <host> <release> …`: the kernel's name first, one word each.
                let mut words = trimmed.split([' ', '\t']).filter(|w| !w.is_empty());
                let kernel = words.next();
                words
                    .next()
                    .filter(|host| kernel.is_some() && name_shaped(host))
                    .and_then(|host| {
                        let at = trimmed.find(&format!(" {host} "))? + 1;
                        Some(start + at..start + at + host.len())
                    })
            }
            Prints::Account | Prints::Host | Prints::Other => None,
        };
        if let Some(range) = name {
            let kind = if *printed == Prints::Uname {
                Prints::Host
            } else {
                *printed
            };
            out.push((kind, range));
        }
    }
    out
}

/// The accounts and hosts every string of `value`, a call's result, names (see [`names_in`];
/// `body` says which part of a string the command printed).
pub(super) fn learn(
    value: &Value,
    lines_printed: &[Prints],
    body: &dyn Fn(&str) -> std::ops::Range<usize>,
    out: &mut Vec<(Prints, String)>,
) {
    match value {
        Value::String(s) => {
            let read = body(s);
            let text = &s[read];
            out.extend(
                names_in(text, lines_printed)
                    .into_iter()
                    .map(|(kind, range)| (kind, text[range].to_owned())),
            );
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| learn(v, lines_printed, body, out)),
        Value::Object(map) => map
            .values()
            .for_each(|v| learn(v, lines_printed, body, out)),
        _ => {}
    }
}

/// `text`, the part of a result its command printed, with the account `[USER]` and the host
/// `[HOST]`; `None` when it names neither as [`names_in`] reads it.
pub(super) fn rewrite(text: &str, lines_printed: &[Prints], report: &mut Report) -> Option<String> {
    let names = names_in(text, lines_printed);
    if names.is_empty() {
        return None;
    }
    let edits: Vec<_> = names
        .into_iter()
        .map(|(kind, range)| match kind {
            Prints::Account => (range, "os_user", USER),
            _ => (range, "hostname", HOST),
        })
        .collect();
    Some(splice(text, &edits, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_of_such_commands_alone_are_read() {
        use Prints::{Account, Host, Other, Uname};
        for (command, printed) in [
            ("whoami", vec![Account]),
            ("whoami; hostname", vec![Account, Host]),
            ("whoami && uname -n 2>&1", vec![Account, Host]),
            ("id -un\nhostname -f", vec![Account, Host]),
            ("pwd; uname -a", vec![Other, Uname]),
            ("echo $USER; echo \"$HOSTNAME\"", vec![Account, Host]),
            ("cat /etc/hostname", vec![Host]),
        ] {
            assert_eq!(prints(command), Some(printed), "{command}");
        }
        for command in [
            "pwd",
            "whoami; ls",
            "echo whoami",
            "hostname -I",
            "whoami | tr a-z A-Z",
            "hostname || true",
        ] {
            assert_eq!(prints(command), None, "{command}");
        }
    }

    #[test]
    fn each_line_is_rewritten_as_its_command_prints_it() {
        let mut report = Report::default();
        let printed = prints("whoami; pwd; uname -a").unwrap();
        assert_eq!(
            rewrite(
                "jo\n/srv/x\nLinux jo-tp 6.8.0-45-generic #45 SMP x86_64 GNU/Linux\n",
                &printed,
                &mut report
            )
            .as_deref(),
            Some("[USER]\n/srv/x\nLinux [HOST] 6.8.0-45-generic #45 SMP x86_64 GNU/Linux\n")
        );
        // A line too many or too few: which is which, nothing says.
        assert_eq!(rewrite("jo\n", &printed, &mut report), None);
        let host = prints("hostname").unwrap();
        assert_eq!(
            rewrite("bash: hostname: not found and more", &host, &mut report),
            None
        );
    }
}
