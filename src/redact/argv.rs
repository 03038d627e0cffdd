//! A command line kept as a list of its arguments, as JSON (`["mysql", "-pSECRET"]`) or as
//! source code writes one (`subprocess.run(["sshpass", "-p", "…", "ssh", "h"])`,
//! `exec.Command("psql", "--password", "…")`): which arguments the same line written out would
//! lose. Each argument alone holds no secret a rule can see; the ones before it make it one.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::{REDACTED, redact_str};

/// The most items, and bytes, of a list of strings read as one command line.
pub(super) const ARGV_ITEMS: usize = 64;
pub(super) const ARGV_BYTES: usize = 4096;

/// What goes of each argument of a command line kept as a list: `None` keeps it, `Some(at)`
/// keeps its first `at` bytes and redacts the rest (`Some(0)`: all of it; `--auth=` of
/// `--auth=alice:…` stays as in the same text). All `None` unless `args` is a command line (a
/// program's name, then arguments with a flag among them) whose text holds a secret.
pub(super) fn redacted_args(args: &[&str]) -> Vec<Option<usize>> {
    let mut redacted = vec![None; args.len()];
    let is_flag = |s: &&str| {
        s.strip_prefix('-')
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '-'))
    };
    let argv =
        args.len() >= 2 && !args[0].contains(char::is_whitespace) && args.iter().any(is_flag);
    if !argv || matches!(redact_str(&args.join(" ")), Cow::Borrowed(_)) {
        return redacted;
    }
    // The line up to each argument: what it lost at its end is the argument's.
    let mut window = String::new();
    for (i, arg) in args.iter().enumerate() {
        if !window.is_empty() {
            window.push(' ');
        }
        window.push_str(arg);
        if i == 0 || arg.is_empty() {
            continue;
        }
        let line = redact_str(&window);
        if !line.ends_with(arg) {
            redacted[i] = Some(kept_before_value(arg, &line).unwrap_or(0));
        }
    }
    redacted
}

/// How much of an argument the text scan kept before the `[REDACTED]` that ends it
/// (`redacted`, the command line up to it): its flag, so that `--auth=[REDACTED]` of
/// `--auth=alice:…` and `-p[REDACTED]` of `-p…` read as the same text does. `None` when the
/// value is not the argument's end alone (`--user=[REDACTED]:[REDACTED]`), or what was kept is
/// more than a flag: then the argument goes.
fn kept_before_value(arg: &str, redacted: &str) -> Option<usize> {
    let before = redacted.strip_suffix(REDACTED)?;
    let flag = arg
        .strip_prefix('-')?
        .bytes()
        .take_while(|b| b.is_ascii_alphabetic() || *b == b'-')
        .count()
        + 1;
    // A flag's name, maybe with its `=` or `:` (`--auth=`, winrs's `-p:`), or what of the
    // value a user's is (`--auth=alice:`).
    (1..arg.len())
        .filter(|&at| arg.is_char_boundary(at))
        .filter(|&at| at <= flag + 1 || matches!(arg.as_bytes()[at - 1], b'=' | b':'))
        .filter(|&at| at > 1 && before.ends_with(&arg[..at]))
        .max()
}

/// One string literal of a list in source text, quoted as code quotes it (or as JSON text
/// escapes those quotes), holding no escape of its own.
static LITERAL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"\\"(?P<esc>[^"\\\n]*)\\"|"(?P<dq>[^"\\\n]*)"|'(?P<sq>[^'\\\n]*)'"#).ok()
});

/// What `argv_list` does with its matches (`regex`: string literals one after another with
/// commas between, as a list or a call's arguments): each is read as a command line kept as a
/// list, and what [`redacted_args`] says goes. Too long a list is left whole to the other
/// rules, as a JSON one is.
pub(super) fn redact_argv_lists(regex: &Regex, text: &str) -> Option<String> {
    let Some(literal) = &*LITERAL else {
        // Fail closed, as `scan` does.
        return Some(REDACTED.to_owned());
    };
    let mut out = String::new();
    let mut copied = 0;
    for list in regex.find_iter(text) {
        let spans: Vec<Range<usize>> = literal
            .captures_iter(list.as_str())
            .filter_map(|caps| ["esc", "dq", "sq"].iter().find_map(|g| caps.name(g)))
            .map(|m| list.start() + m.start()..list.start() + m.end())
            .collect();
        let args: Vec<&str> = spans.iter().map(|span| &text[span.clone()]).collect();
        if args.len() > ARGV_ITEMS || list.len() > ARGV_BYTES {
            continue;
        }
        for (span, kept) in spans.iter().zip(redacted_args(&args)) {
            let Some(kept) = kept else {
                continue;
            };
            out.push_str(&text[copied..span.start + kept]);
            out.push_str(REDACTED);
            copied = span.end;
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}
