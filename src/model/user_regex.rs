//! A regular expression a user wrote in a settings file (`.agent-evals.yaml`'s `regex` scorer,
//! `.agent-strace/anonymize.yaml`), read as the Python tool's `re` reads it: look-around
//! (`(?=…)`, `(?!…)`, `(?<=…)`, `(?<!…)`), backreferences (`\1`, `(?P=name)`) and `\Z` as the
//! end of the text, so that a file written for the Python tool means the same here (adr/0005).
//!
//! The `fancy-regex` crate hands a pattern without those to the `regex` crate whole, so a plain
//! pattern costs what it did; one with them is run by a backtracking matcher, which gives up
//! after [`BACKTRACK_LIMIT`] steps on one text instead of running for ever on a pattern that
//! backtracks catastrophically (`(a|aa)+\1c` on a long run of `a`s): the search is an error then,
//! which the caller reports.

use std::fmt;

/// The backtracking steps one search may take before it gives up: 0.3 s of a debug build here,
/// far more than any pattern that does not backtrack catastrophically needs (fancy-regex's own
/// default, set so that it is ours).
pub const BACKTRACK_LIMIT: usize = 1_000_000;

/// The size of the automata a pattern may compile to, in bytes: the `regex` crate's own limit.
const SIZE_LIMIT: usize = 10 << 20;

/// The instructions of the backtracking matcher a pattern with look-around or backreferences
/// may compile to, which fancy-regex leaves unbounded: a pattern is a line of a settings file,
/// never a program of this size.
const PROGRAM_LIMIT: usize = 100_000;

/// A user's pattern, compiled.
#[derive(Debug, Clone)]
pub struct UserRegex {
    /// As the user wrote it, for messages.
    text: String,
    regex: fancy_regex::Regex,
}

/// A search that gave up: the pattern backtracked past [`BACKTRACK_LIMIT`] steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GaveUp;

impl fmt::Display for GaveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the search gave up after {BACKTRACK_LIMIT} backtracking steps (a pattern that \
             backtracks catastrophically, such as a repetition of overlapping choices before a backreference)"
        )
    }
}

impl UserRegex {
    /// `text` compiled, or one line saying what is wrong with it.
    pub fn new(text: &str) -> Result<UserRegex, String> {
        let regex = fancy_regex::RegexBuilder::new(&python_ends(text))
            .backtrack_limit(BACKTRACK_LIMIT)
            .delegate_size_limit(SIZE_LIMIT)
            .max_prog_size(PROGRAM_LIMIT)
            .build()
            .map_err(|e| why(&e))?;
        Ok(UserRegex {
            text: text.to_owned(),
            regex,
        })
    }

    /// The pattern as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern matches anywhere in `haystack`, as Python's `re.search` finds it.
    pub fn is_match(&self, haystack: &str) -> Result<bool, GaveUp> {
        self.regex.is_match(haystack).map_err(|_| GaveUp)
    }

    /// The compiled pattern, for callers that replace what it matches.
    pub fn regex(&self) -> &fancy_regex::Regex {
        &self.regex
    }
}

/// `text` with each `\Z` outside a character class written `\z`: Python's `\Z` is the end of
/// the text only, fancy-regex's also the place before newlines that end it; its `\z` is
/// Python's `\Z`.
fn python_ends(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    // Within `[…]`; `]` right after `[` or `[^` is a member, not the end.
    let mut class = false;
    let mut class_start = false;
    while let Some(c) = chars.next() {
        let at_start = std::mem::take(&mut class_start);
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push(c);
                    break;
                };
                out.push('\\');
                out.push(if next == 'Z' && !class { 'z' } else { next });
            }
            '[' if !class => {
                class = true;
                class_start = true;
                out.push(c);
            }
            '^' if at_start => {
                class_start = true;
                out.push(c);
            }
            ']' if class && !at_start => {
                class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// What is wrong with a pattern, on one line. fancy-regex says only "error parsing pattern 0"
/// of an error of the `regex` crate it hands the pattern to; the error under it says what, on
/// the last of the lines that draw the pattern with a caret under the fault.
fn why(error: &fancy_regex::Error) -> String {
    let mut text = error.to_string();
    if let fancy_regex::Error::CompileError(compile) = error
        && let fancy_regex::CompileError::InnerError(inner) = compile.as_ref()
    {
        let mut deepest: &dyn std::error::Error = inner;
        while let Some(source) = deepest.source() {
            deepest = source;
        }
        text = deepest.to_string();
    }
    let last = text
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or_default();
    last.strip_prefix("error: ").unwrap_or(last).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        UserRegex::new(pattern).unwrap().is_match(text).unwrap()
    }

    #[test]
    fn look_around_and_backreferences_match_as_pythons_re_does() {
        assert!(matches(r"tests (?=pass)", "all tests pass"));
        assert!(!matches(r"tests (?!pass)", "all tests pass"));
        assert!(matches(r"(?<=all )tests", "all tests pass"));
        assert!(!matches(r"(?<!all )tests", "all tests pass"));
        assert!(matches(r"(\w+) \1", "the the end"));
        assert!(!matches(r"(\w+) \1\b", "the then end"));
        assert!(matches(r"(?P<w>\w+) (?P=w)", "the the end"));
        assert!(matches(r"(?i)ALL TESTS", "all tests pass"));
        assert!(matches(r"(?i:A)b", "ab"));
        assert!(matches(r"(?x) a \s b  # spaced", "a b"));
        assert!(matches(r"(?>a+)b", "aaab"));
        assert!(!matches(r"(?>a+)ab", "aaab"));
        assert!(!matches(r"a++ab", "aaab"));
    }

    /// What the eval docs say still differs from Python's `re`.
    #[test]
    fn the_differences_from_pythons_re_are_as_documented() {
        // Python's `$` also matches before a newline that ends the text.
        assert!(!matches(r"pass$", "pass\n"));
        assert!(matches(r"pass\n?\Z", "pass\n"));
        assert!(UserRegex::new(r"(?a)\w").is_err());
        // Python 3.11 refuses a global flag past the start.
        assert!(matches(r"a(?i)B", "ab"));
        assert!(matches(r"\d", "٣"));
    }

    #[test]
    fn python_z_is_the_end_of_the_text_only() {
        assert!(matches(r"pass\Z", "tests pass"));
        assert!(!matches(r"pass\Z", "tests pass\n"));
        assert!(matches(r"\Apass", "pass"));
        // Escaped, or in a class, it is not the anchor.
        assert_eq!(python_ends(r"\\Z"), r"\\Z");
        assert_eq!(python_ends(r"[]\Z]\Z"), r"[]\Z]\z");
        assert_eq!(python_ends(r"[^]]\Z"), r"[^]]\z");
    }

    #[test]
    fn a_catastrophic_pattern_gives_up_instead_of_running_on() {
        // Each way of cutting the `a`s into `a` and `aa` is tried before the `b` refuses the
        // `c`: more than 2^50 of them.
        let regex = UserRegex::new(r"(a|aa)+\1c").unwrap();
        let text = format!("{}bc", "a".repeat(100));
        assert_eq!(regex.is_match(&text), Err(GaveUp));
    }

    #[test]
    fn an_error_is_one_line_without_the_pattern_drawn() {
        let cases = [
            ("(unclosed", "parenthesis"),
            (r"\p{Nope}", "Unicode property not found"),
            (r"(?<=a)b(", "parenthesis"),
        ];
        for (pattern, says) in cases {
            let error = UserRegex::new(pattern).unwrap_err();
            assert_eq!(error.lines().count(), 1, "{pattern}: {error}");
            assert!(error.contains(says), "{pattern}: {error}");
        }
    }
}
