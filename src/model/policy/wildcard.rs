//! Command rules with wildcards (`curl *`, `git push*`, `*sudo*`, as the Python tool's policies
//! and its `policy generate` write them): the rule's words before its first wildcard are met as
//! a rule without one is ([`super::check::denies`], [`super::check::allows`]), and its words
//! from there on are one glob over the words of the command that follow, joined by spaces, `*`
//! taking any characters (spaces too, so any number of words, none too), `?` one, `[abc]` one
//! of a set. And the rules no matcher of one command at a time can meet, refused when the
//! policy is read ([`refusal`]).

use crate::model::glob::{has_wildcard, matches_text};

use super::shell;

/// A rule's words split at its first wildcard: the words before it, and the glob the words
/// from it on make (`None`: the rule has no wildcard).
pub fn split(words: &[String]) -> (&[String], Option<String>) {
    match words.iter().position(|w| has_wildcard(w)) {
        Some(at) => (&words[..at], Some(words[at..].join(" "))),
        None => (words, None),
    }
}

/// Whether a deny's glob is met in the words after its literal words: from any word on, and
/// more words may follow, as a deny's literal words may be followed (`curl *` stops `curl`
/// alone too, `git push*` stops `git push --force`).
pub fn met_in(glob: &str, words: &[String]) -> bool {
    met_in_text(glob, &words.join(" "))
}

/// Whether a deny made of a glob alone (`*sudo*`, `c?rl *`) is met in a command: anywhere in
/// its words, and with each word taken by its program's name too (`/usr/bin/curl` and
/// `curl.exe` are `curl`), as a deny's first word names a command however its path is written.
pub fn met_in_command(glob: &str, words: &[String]) -> bool {
    met_in(glob, words)
        || words.iter().any(|w| shell::basename(w) != w.as_str())
            && met_in_text(
                glob,
                &words
                    .iter()
                    .map(|w| shell::basename(w))
                    .collect::<Vec<_>>()
                    .join(" "),
            )
}

/// [`met_in`] on words already joined: the glob from the start of a word to the end of one.
fn met_in_text(glob: &str, text: &str) -> bool {
    matches_text(&format!("* {glob} *"), &format!(" {text} "))
}

/// Whether an allow's glob takes all the words after its literal words (`mix *` takes
/// `phx.server`, `python *.py` takes `x.py` and not `x.py -c …`), the first by its file name
/// too when the glob starts the rule.
pub fn takes(glob: &str, words: &[String], first_is_command: bool) -> bool {
    if matches_text(glob, &words.join(" ")) {
        return true;
    }
    match words.split_first() {
        Some((first, rest)) if first_is_command && shell::basename(first) != first.as_str() => {
            let mut named = vec![shell::basename(first).into_owned()];
            named.extend(rest.iter().cloned());
            matches_text(glob, &named.join(" "))
        }
        _ => false,
    }
}

/// Why a command rule can never be met, if it cannot: the matcher meets one simple command at a
/// time, by the words the shell reads from it, so a rule that joins two commands (`curl * |
/// sh`, `cd x && rm`), redirects (`echo x > f`), holds the shell's quoting (`git commit -m
/// "wip"`), a comment or a brace list it expands (`echo {a,b}`), or starts with what sets the
/// command's environment (`FOO=1 make`) would meet nothing, and a deny of it would deny nothing
/// unsaid.
pub fn refusal(rule: &str) -> Option<String> {
    let rule = rule.trim();
    if let Some(c) = rule.chars().find(|c| "|&;()`\n".contains(*c)) {
        let c = if c == '\n' {
            "a new line".to_owned()
        } else {
            format!("`{c}`")
        };
        return Some(format!(
            "the command rule {rule:?} holds {c}, which joins commands or groups them: a rule is \
             met by one command at a time, so it would meet none (write a rule for each \
             command; `*` stands for any words)"
        ));
    }
    if let Some(c) = rule.chars().find(|c| "<>".contains(*c)) {
        return Some(format!(
            "the command rule {rule:?} holds `{c}`, a redirection, which is no word of a \
             command, so it would meet none (a file a command reads or writes is a files rule's)"
        ));
    }
    if let Some(c) = rule.chars().find(|c| "\"'\\".contains(*c)) {
        return Some(format!(
            "the command rule {rule:?} holds `{c}`: a rule is met by the words the shell reads, \
             without their quotes, so it would meet none (write the words without quotes; `*` \
             or `?` stands for a space in a word)"
        ));
    }
    if let Some(word) = rule.split_whitespace().find(|w| braced_list(w)) {
        return Some(format!(
            "the command rule {rule:?} holds `{word}`, which the shell expands into several \
             words before the command runs, so it would meet none (write a rule for each word)"
        ));
    }
    if let Some(first) = rule.split_whitespace().next().filter(|w| assignment(w)) {
        return Some(format!(
            "the command rule {rule:?} starts with `{first}`, which sets the command's \
             environment and is no word of it, so it would meet none (name the command: a rule \
             is met wherever its command is in a line)"
        ));
    }
    if rule.split_whitespace().any(|w| w.starts_with('#')) {
        return Some(format!(
            "the command rule {rule:?} holds a word that starts with `#`, which the shell reads \
             as a comment, so it would meet none"
        ));
    }
    None
}

/// Whether a word holds a brace list the shell expands (`{a,b}`; not `{}`, `find`'s word).
fn braced_list(word: &str) -> bool {
    word.find('{').is_some_and(|open| {
        word[open..]
            .find('}')
            .is_some_and(|close| word[open..open + close].contains(','))
    })
}

/// Whether a word is `NAME=value`, which before a command sets its environment.
fn assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn a_rule_is_split_at_its_first_wildcard() {
        let rule = words("git push* --force");
        assert_eq!(split(&rule), (&rule[..1], Some("push* --force".to_owned())));
        let rule = words("rm -rf");
        assert_eq!(split(&rule), (&rule[..], None));
        // A `[` never closed is a word (`[ -f x ]` runs `[`).
        let rule = words("[ -f");
        assert_eq!(split(&rule).1, None);
        assert_eq!(split(&words("ls [ab]")).1, Some("[ab]".to_owned()));
    }

    #[test]
    fn a_deny_glob_is_met_from_any_word_with_more_after() {
        assert!(met_in("*", &[]));
        assert!(met_in("*", &words("http://evil.example/x")));
        assert!(met_in("push*", &words("push origin main")));
        assert!(met_in("push*", &words("-C dir push")));
        assert!(!met_in("push*", &[]));
        assert!(met_in("push*main", &words("push origin main --force")));
        assert!(!met_in("push", &words("pushd x")));
        assert!(met_in("*.sh", &words("x.sh -o y")));
        assert!(met_in_command("*sudo*", &words("sudo reboot")));
        assert!(met_in_command("*sudo*", &words("echo visudo")));
        assert!(met_in_command("c?rl *", &words("/usr/bin/curl x")));
        assert!(!met_in_command("*sudo*", &words("echo hi")));
    }

    #[test]
    fn an_allow_glob_takes_every_word_left() {
        assert!(takes("*", &[], false));
        assert!(takes("*", &words("phx.server"), false));
        assert!(takes("*.py", &words("x.py"), false));
        assert!(!takes("*.py", &words("x.py -c y"), false));
        assert!(takes("m?x *", &words("/usr/bin/mix test"), true));
        assert!(!takes("m?x *", &words("/usr/bin/mix test"), false));
    }

    #[test]
    fn rules_no_command_can_meet_are_refused() {
        for rule in [
            "curl * | sh",
            "cd x && rm",
            "a; b",
            "echo $(id)",
            "echo x > f",
            "git commit -m \"wip\"",
            "echo 'x'",
            "find . -exec rm {} \\;",
            "echo #x",
            "echo {a,b}",
            "FOO=1 make",
        ] {
            assert!(refusal(rule).is_some(), "{rule}");
        }
        for rule in [
            "curl *",
            "rm -rf",
            "*sudo*",
            "git push*",
            "echo $HOME",
            "[ -f",
            "a#b",
        ] {
            assert_eq!(refusal(rule), None, "{rule}");
        }
        for rule in ["find . -exec rm {} +", "env FOO=1 make", "git -c a=b push"] {
            assert_eq!(refusal(rule), None, "{rule}");
        }
    }
}
