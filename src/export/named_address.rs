//! Where a text writes a person's name beside their email address, for `--anonymize`: before
//! it, as a git author, a `Signed-off-by:`, a manifest's `authors` and a mail header write it
//! (`Alice Smith <alice@corp.example>`), or after it, as an old mail header and some logs do
//! (`alice@corp.example (Alice Smith)`, `<alice@corp.example> Alice Smith`), or in git's own
//! records (a reflog's line, a commit's `author`), whatever the name is there. The address
//! alone says who writes; the name beside it, which no home folder or account tells, is what
//! the anonymizer learns and replaces.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

/// A capitalised word of a name, initials too (`J.`). It ends in a letter: the quote after
/// `'Kit Moraine'` is a mail header's, and was taken into the name, which then was learned
/// nowhere else and lost its closing quote.
const CAPITALISED: &str = r"\p{Lu}(?:[\p{L}\p{M}'’-]*[\p{L}\p{M}])?\.?";

/// A word of a name in lower case (`alice smith`, as some set `git config user.name`).
const LOWER: &str = r"\p{Ll}[\p{L}\p{M}'’-]*[\p{L}\p{M}]";

/// A word of a name in either case, as parentheses after an address hold it.
const ANY_CASE: &str = r"\p{L}(?:[\p{L}\p{M}'’-]*[\p{L}\p{M}])?\.?";

/// An address as the patterns below take it: plain, or with its `@` percent-encoded.
fn address() -> String {
    format!(r"{}|[^<>()\s]+%40[^<>()\s]+", crate::mask::EMAIL_PATTERN)
}

/// A name of `word`s (`count` more after the first, a regex repetition) right
/// before the address in angle brackets or parentheses, in quotes too as a mail header has them
/// (`From: "Alice Smith" <…>`, the quotes escaped in JSON text).
fn name_before_address(word: &str, count: &str) -> Regex {
    Regex::new(&format!(
        r#"\b(?P<name>{word}(?: {word}){count})(?:\\?["'])? [<(](?P<address>{a})[>)]"#,
        a = address()
    ))
    .expect("the pattern of a name before an address compiles")
}

/// One to four capitalised words right before the address (`Alice Smith (alice@…)`).
static BEFORE: LazyLock<Regex> = LazyLock::new(|| name_before_address(CAPITALISED, "{0,3}"));

/// Two or three words in lower case right before the address, of which the last ones are a
/// name only when the address spells them ([`spelled_by`]): `send it to <bob@…>` and `reply
/// to bob <bob@…>` name no one, `alice smith <alice@…>` does.
static LOWER_BEFORE: LazyLock<Regex> = LazyLock::new(|| name_before_address(LOWER, "{1,2}"));

/// A name after the address: two to four capitalised words after one in angle brackets
/// (`<alice@…> Alice Smith`), of which the first ones are a name only when the address spells
/// them (a log's subject is written there too: `<alice@…> Fix Login Page`), or one to four
/// words in parentheses right after one (`alice@… (Alice Smith)`, RFC 822's form), one alone or
/// in lower case only when the address spells them.
static AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        concat!(
            r"<(?P<angled>{a})> (?P<after>{w}(?: {w}){{1,3}})",
            r"|(?P<bare>{a})>? \((?P<inside>{any}(?: {any}){{0,3}})\)"
        ),
        a = crate::mask::EMAIL_PATTERN,
        w = CAPITALISED,
        any = ANY_CASE,
    ))
    .expect("the pattern of a name after an address compiles")
});

/// A name as git writes it in its own records, whatever it holds (`mtk30765`, `alice`): a
/// reflog's line (`<old> <new> name <address> <time> <zone>`, as `.git/logs/HEAD` holds it)
/// and a commit's `author` and `committer` (`git cat-file -p`).
static GIT_RECORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        concat!(
            r"(?:\b[0-9a-f]{{40}} [0-9a-f]{{40}} |\b(?:author|committer|tagger) )",
            r#"(?P<name>[^<>\n\\"]+?) <(?P<address>{a})> \d+ [+-]\d{{4}}"#
        ),
        a = crate::mask::EMAIL_PATTERN
    ))
    .expect("the pattern of git's records compiles")
});

/// A name found beside an address: where it stands in the text, and the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NameBeside {
    pub range: Range<usize>,
    pub address: String,
}

/// The names `text` writes beside an address, in order and apart, but a machine's
/// ([`no_one_answers`]).
pub(super) fn names_beside_addresses(text: &str) -> Vec<NameBeside> {
    let mut found = Vec::new();
    let mut add = |name: Range<usize>, address: &str| {
        if !no_one_answers(address) {
            found.push(NameBeside {
                range: name,
                address: address.to_owned(),
            });
        }
    };
    for c in BEFORE.captures_iter(text) {
        add(c.name("name").expect("a name").range(), &c["address"]);
    }
    for c in GIT_RECORD.captures_iter(text) {
        add(c.name("name").expect("a name").range(), &c["address"]);
    }
    for c in LOWER_BEFORE.captures_iter(text) {
        let name = c.name("name").expect("a name");
        let address = &c["address"];
        let words: Vec<&str> = name.as_str().split(' ').collect();
        // The longest run of the last words that the address spells.
        let spelled = (2..=words.len())
            .rev()
            .find(|&n| spelled_by(&words[words.len() - n..], address));
        if let Some(n) = spelled {
            let skipped: usize = words[..words.len() - n].iter().map(|w| w.len() + 1).sum();
            add(name.start() + skipped..name.end(), address);
        }
    }
    for c in AFTER.captures_iter(text) {
        if let (Some(address), Some(name)) = (c.name("angled"), c.name("after")) {
            // The longest run of the first words that the address spells: what follows an
            // address is as often a commit's subject (`%an <%ae> %s`: `<alice@…> Fix Login
            // Page`), which was learned as a name and replaced wherever the session wrote it.
            let words: Vec<&str> = name.as_str().split(' ').collect();
            let spelled = (2..=words.len())
                .rev()
                .find(|&n| spelled_by(&words[..n], address.as_str()));
            if let Some(n) = spelled {
                let kept: usize = words[n..].iter().map(|w| w.len() + 1).sum();
                add(name.start()..name.end() - kept, address.as_str());
            }
        } else if let (Some(address), Some(name)) = (c.name("bare"), c.name("inside")) {
            let words: Vec<&str> = name.as_str().split(' ').collect();
            // One capitalised word in parentheses is as often a label (`alice@… (Work)`), and
            // so are more when they are words no name is made of: a commit's subject after
            // its author's address (`%ae (%s)`: `(Don't Merge)`) was learned as a name and
            // replaced wherever the session wrote it (`[NAME] this`).
            let capitalised = words.len() > 1 && name_shaped(&words);
            if capitalised || spelled_by(&words, address.as_str()) {
                add(name.range(), address.as_str());
            }
        }
    }
    found.sort_by_key(|n| (n.range.start, n.range.end));
    let mut out: Vec<NameBeside> = Vec::with_capacity(found.len());
    for name in found {
        if out
            .last()
            .is_none_or(|last| last.range.end <= name.range.start)
        {
            out.push(name);
        }
    }
    out
}

/// Whether `words` are written as a person's name is: each capitalised with lower case after
/// (or an initial, `J.`), an apostrophe only before a capital as a surname has it (`O'Brien`,
/// not `Don't`), and none a word of [`NOT_NAMES`]. Capitalised words alone are as often a
/// title, a label or a commit's subject (`Do Not Merge`, `Work Laptop`, `Claude Code`).
pub(super) fn name_shaped(words: &[&str]) -> bool {
    let shaped = |w: &&str| {
        let bare = w.strip_suffix('.').unwrap_or(w);
        let mut chars = bare.chars();
        let initial = chars.next().is_some_and(char::is_uppercase);
        let rest: Vec<char> = chars.collect();
        let lower_after = rest.iter().any(|c| c.is_lowercase()) || rest.is_empty();
        // `O'Brien`, `D’Arcy`, `Smith-Jones`: what follows a mark starts a name again.
        let marks_ok = rest
            .windows(2)
            .all(|p| !matches!(p[0], '\'' | '’') || p[1].is_uppercase());
        let at_end = rest.last().is_none_or(|c| !matches!(c, '\'' | '’'));
        initial
            && lower_after
            && marks_ok
            && at_end
            && !NOT_NAMES.contains(&bare.to_lowercase().as_str())
    };
    !words.is_empty() && words.iter().all(shaped)
}

/// Capitalised words that are no one's name: those of labels (`(Work Account)`), of commit
/// subjects and titles (`(Do Not Merge)`, `(Fix Login Page)`), and of teams, tools and
/// agents a label names (`Owner: Platform Team`, `Reviewer: Claude Code`).
pub(super) const NOT_NAMES: &[&str] = &[
    "a",
    "account",
    "add",
    "added",
    "admin",
    "agent",
    "an",
    "and",
    "assistant",
    "authors",
    "backend",
    "backup",
    "bot",
    "bug",
    "claude",
    "code",
    "codex",
    "contributors",
    "copilot",
    "core",
    "cursor",
    "data",
    "design",
    "developers",
    "devops",
    "do",
    "docs",
    "draft",
    "engineering",
    "fix",
    "fixed",
    "for",
    "frontend",
    "gemini",
    "github",
    "gitlab",
    "group",
    "haiku",
    "home",
    "in",
    "infra",
    "infrastructure",
    "laptop",
    "main",
    "maintainers",
    "me",
    "merge",
    "mobile",
    "new",
    "no",
    "nobody",
    "none",
    "not",
    "of",
    "office",
    "old",
    "on",
    "only",
    "ops",
    "opus",
    "or",
    "personal",
    "phone",
    "platform",
    "primary",
    "private",
    "product",
    "project",
    "release",
    "remove",
    "revert",
    "security",
    "service",
    "services",
    "sonnet",
    "support",
    "system",
    "systems",
    "team",
    "test",
    "the",
    "to",
    "unassigned",
    "unknown",
    "update",
    "via",
    "with",
    "work",
];

/// Whether `address` is a machine's, whose name names no person: a `noreply` (`Claude
/// <noreply@anthropic.com>` of a co-authored commit, `GitHub <noreply@github.com>`). GitHub's
/// `<id>+<login>@users.noreply.github.com` is a person's own private address, which their
/// commits carry beside their name (`Co-authored-by: Alice Smith <1+alice@users.noreply…>`),
/// and was taken for a machine's, leaving the name; a bot's (`dependabot[bot]`) is a machine's.
fn no_one_answers(address: &str) -> bool {
    let address = address.to_lowercase();
    let persons = address.contains("users.noreply.github.com") && !address.contains("[bot]");
    !persons && (address.contains("noreply") || address.contains("no-reply"))
}

/// Whether the name of `words` (two at least, or any number when capitalised words are not
/// there to say it is a name) is spelled by `address`'s name as an address is made of its
/// person's names: all of them (`alicesmith`, `alice.smith`), the first and the last, the
/// last and the first, an initial and a name (`asmith`, `alices`), or the first name alone
/// of a name of two (`alice smith <alice@…>`, but for a word a sentence puts after a name:
/// `alice wrote <alice@…>`), or the initials of all (`pv` of Pim Vandal). Lower-case words
/// beside an address are a name only so: `to bob <bob@…>` and `mail to <pim@…>` are not.
fn spelled_by(words: &[&str], address: &str) -> bool {
    let letters = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphabetic())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let local = address
        .split('@')
        .next()
        .unwrap_or(address)
        .split("%40")
        .next()
        .unwrap_or(address);
    // GitHub's private address is `<id>+<login>`; another's `+` starts a tag.
    let local = if address.to_lowercase().contains("users.noreply.github.com") {
        local.rsplit('+').next().unwrap_or(local)
    } else {
        local.split('+').next().unwrap_or(local)
    };
    let local = letters(local);
    let names: Vec<String> = words.iter().map(|w| letters(w)).collect();
    if names.is_empty() || names.iter().any(|n| n.chars().count() < 2) {
        return false;
    }
    let (first, last) = (&names[0], &names[names.len() - 1]);
    let initial = |n: &str| n.chars().next().map(String::from).unwrap_or_default();
    let spellings = [
        names.concat(),
        format!("{first}{last}"),
        format!("{last}{first}"),
        format!("{}{last}", initial(first)),
        format!("{first}{}", initial(last)),
        names.iter().map(|n| initial(n)).collect(),
    ];
    // `alice wrote <alice@…>`: a word that follows a name in a sentence is no surname.
    let first_alone = names.len() == 2 && local == *first && !NO_SURNAMES.contains(&last.as_str());
    spellings.contains(&local) || first_alone
}

/// Words that follow a first name in a sentence (`alice wrote <alice@…>`, `bob via <bob@…>`),
/// which the first name alone of an address made a surname of.
const NO_SURNAMES: &[&str] = &[
    "wrote",
    "writes",
    "said",
    "says",
    "asked",
    "asks",
    "replied",
    "replies",
    "commented",
    "reviewed",
    "approved",
    "merged",
    "committed",
    "pushed",
    "sent",
    "signed",
    "added",
    "via",
    "from",
    "to",
    "at",
    "and",
    "or",
    "is",
    "was",
    "has",
    "had",
    "here",
    "there",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<&str> {
        names_beside_addresses(text)
            .into_iter()
            .map(|n| &text[n.range])
            .collect()
    }

    #[test]
    fn names_before_and_after_an_address_are_found() {
        assert_eq!(names("Author: Alice Smith <as@x.org>"), ["Alice Smith"]);
        assert_eq!(
            names("from dear alice smith <alice@x.org>"),
            ["alice smith"]
        );
        assert_eq!(names("<pv@x.org> Pim Vandal"), ["Pim Vandal"]);
        assert_eq!(names("<pv@x.org> Pim Vandal Fixed It"), ["Pim Vandal"]);
        assert_eq!(names("kit@x.org (Kit Moraine)"), ["Kit Moraine"]);
        assert_eq!(names("kit@x.org (kit moraine)"), ["kit moraine"]);
        assert_eq!(names("Pim O'Brien <pob@x.org>"), ["Pim O'Brien"]);
        let sha = "0f8a45d6f846634600777250d79a1575eb5c6f31";
        let reflog = format!("{sha} {sha} mtk30765 <wl@x.org> 1758084545 +0800\tcommit: x");
        assert_eq!(names(&reflog), ["mtk30765"]);
        assert_eq!(names("author pim <pv@x.org> 1758084545 +0800"), ["pim"]);
    }

    #[test]
    fn words_the_address_does_not_spell_are_no_name() {
        for text in [
            "mail to <pim@x.org>",
            "reply to bob <bob@x.org>",
            "<pim@x.org> Fixed it",
            "pim@x.org (see above)",
            "Claude <noreply@anthropic.com>",
            "<pim@x.org> Fix Login Page Layout",
            "alice wrote <alice@x.org>",
            "pim@x.org (Work)",
            "pim@x.org (Don't Merge)",
            "pim@x.org (Do Not Merge)",
            "pim@x.org (WIP Login)",
        ] {
            assert_eq!(names(text), Vec::<&str>::new(), "{text}");
        }
    }

    #[test]
    fn an_address_spells_its_persons_names() {
        for (name, address) in [
            ("alice smith", "alice.smith@x.org"),
            ("alice smith", "asmith@x.org"),
            ("alice smith", "alice@x.org"),
            ("alice smith", "smith.alice+lists@x.org"),
            ("pim vandal", "12+pimv@users.noreply.github.com"),
        ] {
            let words: Vec<&str> = name.split(' ').collect();
            assert!(spelled_by(&words, address), "{name} {address}");
        }
        assert!(!spelled_by(&["to", "bob"], "bob@x.org"));
        assert!(!spelled_by(&["a", "b"], "ab@x.org"));
    }
}
