//! The accounts `stat` prints where its format puts them (`stat -c '%U %G %n'`, `--format`,
//! `--printf`, BSD's and macOS's `stat -f '%Su %Sg %N'`), and the groups `id -Gn` and `groups`
//! print, for [`super::anonymize`]: bare words on a line (`mrotili acme-eng src/a.rs`, `alice
//! sudo acme-eng`), which nothing in the text alone tells from a sentence, and which were
//! exported. The call's command says where they are: each line of its result the format
//! matches (every line of a list of groups) has its account `[USER]` and its group `[GROUP]`,
//! the system's own staying ([`Columns`]). Only a line that prints nothing else is read: the
//! words another command of it prints (`stat -c '%U %n' a; echo hello world`) would match
//! the format as well.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::account_columns::Columns;
use super::account_lines::{group_lists, lines, lists_groups, splice};
use super::anonymize::Report;
use super::identity_output::{self, Prints};
use crate::model::policy::shell::{self, SimpleCommand};

/// A format given to `stat`, quoted or not, after `-c`, `--format`, `--printf` or `-f`.
static STAT_FORMAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"\bstat\b[^;&|\n]*?(?:^|[ \t])(?:-c|--format|--printf|-f)(?:=|[ \t]*)"#,
        r#"(?:'(?P<sq>[^']*)'|"(?P<dq>[^"]*)"|(?P<bare>[^\s;&|'"]+))"#,
    ))
    .expect("the stat format pattern compiles")
});

/// What a captured word of a format's line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Account,
    Group,
}

/// A line of `stat`'s output as one format prints it, and what each of its groups is.
#[derive(Debug, Clone)]
pub(super) struct StatLine {
    pattern: Regex,
    fields: Vec<Field>,
}

/// The lines the formats `command` gives `stat` print, of those naming an account or a group
/// (`%U`, `%G`, BSD's `%Su`, `%Sg`); none when another command of the line may print lines of
/// its own ([`prints_only_stat`]).
pub(super) fn stat_lines(command: &str) -> Vec<StatLine> {
    if !STAT_FORMAT.is_match(command) || !prints_only_stat(command) {
        return Vec::new();
    }
    STAT_FORMAT
        .captures_iter(command)
        .filter_map(|c| {
            let format = ["sq", "dq", "bare"].iter().find_map(|g| c.name(g))?;
            line_of(format.as_str())
        })
        .collect()
}

/// Commands that print nothing a line's output holds (`cd src && stat …`).
const SILENT: &[&str] = &["cd", "true", ":"];

/// Commands that, reading another's output, print some of its lines as they are (`stat … |
/// sort -u`).
const LINE_FILTERS: &[&str] = &["sort", "head", "tail", "uniq", "grep", "column"];

/// Whether every line `command` prints is one of `stat`'s: each of its pipelines ends in
/// `stat` (also run by `sudo`, `xargs` or `find -exec`), or in a command that prints nothing
/// ([`SILENT`]), and what follows passes on lines it reads ([`LINE_FILTERS`]); what a pipe
/// hands `stat` (`git ls-files | xargs stat …`) is not printed. A line `stat` shares with
/// another command (`stat -c '%U %n' a; echo hello world`, `stat -c '%U' $(git ls-files)`)
/// is not read: which of its lines are `stat`'s, nothing says.
fn prints_only_stat(command: &str) -> bool {
    let commands = shell::split(command);
    if commands.is_empty() || commands.iter().any(|c| c.unread) {
        return false;
    }
    // Each pipeline's last command that is no filter of what it reads prints its output.
    let mut printer: Option<&SimpleCommand> = None;
    for command in &commands {
        let name = shell::command_of(&command.words)
            .first()
            .map_or(std::borrow::Cow::Borrowed(""), |w| shell::basename(w));
        let name: &str = &name;
        if !(command.piped_in && LINE_FILTERS.contains(&name)) {
            if !command.piped_in && printer.is_some_and(|p| !stat_or_silent(p)) {
                return false;
            }
            printer = Some(command);
        }
    }
    printer.is_some_and(stat_or_silent)
}

/// Whether one simple command prints only `stat`'s lines, or nothing.
fn stat_or_silent(command: &SimpleCommand) -> bool {
    let words = shell::command_of(&command.words);
    let Some(name) = words.first().map(|w| shell::basename(w)) else {
        // Nothing but a redirection or an assignment.
        return true;
    };
    let name: &str = &name;
    match name {
        "stat" => true,
        // `find … -exec stat … {} +`, which then prints no path of its own.
        "find" => {
            let runs_stat = words.windows(2).any(|w| {
                matches!(w[0].as_str(), "-exec" | "-execdir") && shell::basename(&w[1]) == "stat"
            });
            let prints = words.iter().any(|w| {
                w.starts_with("-print") || w.starts_with("-fprint") || w == "-ls" || w == "-fls"
            });
            runs_stat && !prints
        }
        _ => SILENT.contains(&name),
    }
}

/// The line `format` prints, as a pattern of the whole line; `None` when it names no account
/// nor group, or is no format `stat` takes.
fn line_of(format: &str) -> Option<StatLine> {
    let mut pattern = String::from(r"^[ \t]*");
    let mut fields = Vec::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '%' => {
                // Flags and a width (`%-10U`) change only the padding.
                while chars
                    .peek()
                    .is_some_and(|c| c.is_ascii_digit() || "-#0 +'.".contains(*c))
                {
                    chars.next();
                }
                let field = match chars.next()? {
                    '%' => {
                        pattern.push('%');
                        continue;
                    }
                    'U' => Some(Field::Account),
                    'G' => Some(Field::Group),
                    'S' => match chars.next()? {
                        'u' => Some(Field::Account),
                        'g' => Some(Field::Group),
                        _ => None,
                    },
                    _ => None,
                };
                match field {
                    Some(field) => {
                        fields.push(field);
                        pattern.push_str(r"([^\s:/()]+)");
                    }
                    // A name, a time (`%y`: `2026-01-02 10:00:00 +0100`): anything.
                    None => pattern.push_str(".+?"),
                }
            }
            // `--printf`'s escapes: a line break ends the line, a tab is a space.
            '\\' => match chars.next() {
                Some('n') => break,
                Some('t') => pattern.push_str(r"[ \t]+"),
                Some(other) => pattern.push_str(&regex::escape(&other.to_string())),
                None => {}
            },
            ' ' | '\t' => {
                while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                    chars.next();
                }
                pattern.push_str(r"[ \t]+");
            }
            other => pattern.push_str(&regex::escape(&other.to_string())),
        }
    }
    if fields.is_empty() {
        return None;
    }
    pattern.push_str(r"[ \t]*$");
    Some(StatLine {
        pattern: Regex::new(&pattern).ok()?,
        fields,
    })
}

/// What a shell call's command says of the accounts its output prints: the lines of its
/// `stat` formats, and whether it lists groups as bare words ([`lists_groups`]).
#[derive(Debug, Clone, Default)]
pub(super) struct CallOutput {
    stat: Vec<StatLine>,
    groups: bool,
    /// What each line prints of the account and host it runs as ([`identity_output`]).
    identity: Option<Vec<Prints>>,
}

impl CallOutput {
    /// What `command` prints of accounts; `None` when nothing this module rewrites.
    pub(super) fn of(command: &str) -> Option<CallOutput> {
        let out = CallOutput {
            stat: stat_lines(command),
            groups: lists_groups(command),
            identity: identity_output::prints(command),
        };
        (!out.stat.is_empty() || out.groups || out.identity.is_some()).then_some(out)
    }

    /// The accounts and hosts the call's result `value` names ([`identity_output::learn`]),
    /// known for the whole session.
    pub(super) fn names_printed(&self, value: &Value) -> Vec<(Prints, String)> {
        self.names_printed_in(value, &command_output)
    }

    /// [`Self::names_printed`], where `body` says which part of a string the command printed
    /// (an empty range: none of it).
    pub(super) fn names_printed_in(&self, value: &Value, body: &Body) -> Vec<(Prints, String)> {
        let mut out = Vec::new();
        if let Some(printed) = &self.identity {
            identity_output::learn(value, printed, body, &mut out);
        }
        out
    }
}

/// What each shell call of a session prints of accounts, by its call's id.
pub(super) type CallOutputs = BTreeMap<String, CallOutput>;

/// Which part of a string a command printed.
pub(super) type Body = dyn Fn(&str) -> Range<usize>;

/// Every string in `value`, a result of a call whose command printed `output`, with the
/// accounts and groups of its lines replaced ([`Columns::owner`], [`Columns::group`]).
pub(super) fn rewrite(
    columns: &Columns<'_>,
    output: &CallOutput,
    value: &mut Value,
    report: &mut Report,
) {
    rewrite_in(columns, output, value, &command_output, report);
}

/// [`rewrite`], of the part of each string `body` says the command printed.
pub(super) fn rewrite_in(
    columns: &Columns<'_>,
    output: &CallOutput,
    value: &mut Value,
    body: &Body,
    report: &mut Report,
) {
    match value {
        Value::String(s) => {
            let read = body(s);
            if read.is_empty() {
                return;
            }
            let body = &s[read.clone()];
            let mut new = rewrite_text(columns, &output.stat, body, report);
            if let Some(printed) = &output.identity
                && let Some(named) = identity_output::rewrite(body, printed, report)
            {
                new = Some(named);
            }
            if output.groups {
                let text = new.as_deref().unwrap_or(body);
                if let Cow::Owned(listed) = group_lists(columns, Cow::Borrowed(text), true, report)
                {
                    new = Some(listed);
                }
            }
            if let Some(new) = new {
                *s = format!("{}{new}{}", &s[..read.start], &s[read.end..]);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| rewrite_in(columns, output, v, body, report)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| rewrite_in(columns, output, v, body, report)),
        _ => {}
    }
}

/// What of a call's result `text` its command printed: all of it, but for the header
/// Codex's `exec_command` puts first (`Chunk ID: 54c887`, `Wall time: 0.5541 seconds`,
/// `Process exited with code 0`, `Original token count: 9`, then `Output:` on a line of its
/// own), and the fields Gemini CLI's shell tool puts around it (`Command: …`, `Directory: …`,
/// `Stdout: ` or `Output: ` before it, `Stderr: …` or `Error: …`, `Exit Code: 0`,
/// `Background PIDs: (none)` after it). Their lines are no command's, and `Wall time: 0.5541
/// seconds` or `Exit Code: 0` matches a format `%U %n` as well.
fn command_output(text: &str) -> Range<usize> {
    let mut at = 0;
    for line in text.split_inclusive('\n').take(8) {
        at += line.len();
        if line.trim_end() == "Output:" {
            return at..text.len();
        }
    }
    if text.starts_with("Command: ") {
        let start = ["\nStdout: ", "\nOutput: "]
            .iter()
            .filter_map(|label| text.find(label).map(|i| i + label.len()))
            .min();
        if let Some(start) = start {
            let end = ["\nStderr: ", "\nError: "]
                .iter()
                .filter_map(|label| text[start..].find(label).map(|i| start + i))
                .min()
                .unwrap_or(text.len());
            return start..end;
        }
    }
    0..text.len()
}

/// [`rewrite`] of one string; `None` when nothing changes.
fn rewrite_text(
    columns: &Columns<'_>,
    formats: &[StatLine],
    text: &str,
    report: &mut Report,
) -> Option<String> {
    let mut edits = Vec::new();
    for line in lines(text) {
        let Some((format, found)) = formats
            .iter()
            .find_map(|f| Some((f, f.pattern.captures(&text[line.clone()])?)))
        else {
            continue;
        };
        let words: Vec<_> = (1..found.len()).filter_map(|i| found.get(i)).collect();
        let owner = format
            .fields
            .iter()
            .zip(&words)
            .find(|(f, _)| **f == Field::Account)
            .map(|(_, w)| w.as_str());
        let new_owner = owner.map_or("", |o| columns.owner(o));
        for (field, word) in format.fields.iter().zip(&words) {
            let old = word.as_str();
            let new = match field {
                Field::Account => columns.owner(old),
                Field::Group => columns.group(old, owner.unwrap_or(""), new_owner),
            };
            if new != old {
                let at = line.start + word.start()..line.start + word.end();
                edits.push((at, new.to_owned()));
            }
        }
    }
    if edits.is_empty() {
        return None;
    }
    let edits: Vec<_> = edits
        .iter()
        .map(|(range, new)| (range.clone(), "account", new.as_str()))
        .collect();
    Some(splice(text, &edits, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_read_from_commands() {
        let lines =
            stat_lines("stat -c '%U %G %n' *; stat --format=%n:%U a && stat -f \"%Su %N\" b");
        assert_eq!(lines.len(), 3);
        assert!(stat_lines("stat -c '%n %s' a; echo %U").is_empty());
        let line = &stat_lines("stat --printf='%n\\t%-8U %G\\n' a")[0];
        let found = line
            .pattern
            .captures("src/a b.rs\tmrotili  acme-eng")
            .unwrap();
        assert_eq!((&found[1], &found[2]), ("mrotili", "acme-eng"));
    }

    #[test]
    fn formats_are_read_only_where_nothing_else_prints() {
        for command in [
            "stat -c '%U %n' a",
            "cd src && stat -c '%U %n' a 2>/dev/null",
            "stat -c '%U %G' * | sort -u | head -n 3",
            "sudo stat -c %U /srv/x",
            "git ls-files | xargs stat -c '%U %n'",
            "echo x | stat -c '%U %n' a",
            "find . -name '*.rs' -exec stat -c '%U %n' {} +",
        ] {
            assert_eq!(stat_lines(command).len(), 1, "{command}");
        }
        for command in [
            "stat -c '%U %n' a; echo hello world",
            "stat -c '%U %n' a && ls",
            "stat -c '%U %n' a | cat",
            "echo x | sort; stat -c '%U %n' a",
            "stat -c '%U %n' $(git ls-files)",
            "find src -print -exec stat -c '%U' {} +",
            "find src -exec stat -c '%U' {} + -ls",
        ] {
            assert!(stat_lines(command).is_empty(), "{command}");
        }
    }

    #[test]
    fn commands_listing_groups_alone_are_told() {
        for command in [
            "id -Gn",
            "id -nG alice",
            " groups ",
            "groups alice bob",
            "id -un 2>&1",
        ] {
            assert!(
                CallOutput::of(command).is_some_and(|c| c.groups),
                "{command}"
            );
        }
        assert!(CallOutput::of("id -Gn; groups && id -un").is_some_and(|c| c.groups));
        for command in [
            "id",
            "id -G",
            "groups; ls",
            "echo groups",
            "id -Gn && ls",
            "id -Gn || echo none",
            ";",
        ] {
            assert!(
                CallOutput::of(command).is_none_or(|c| !c.groups),
                "{command}"
            );
        }
    }
}
