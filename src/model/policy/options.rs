//! The spellings of a command's options that mean the same, for a deny to meet each of them:
//! `rm --recursive` is `rm -r`, `git push --force` is `git push -f`, `git branch -D` is `git
//! branch --delete --force`; and the spellings that do at least what an option does (`git push
//! --force-with-lease` and `git push origin +main` force, as `--force` does).
//!
//! An option is said by its letters ([`letters_named`], [`letters_given`]); a command of git is
//! keyed by git and its subcommand (`git push`), whose letters mean other things elsewhere
//! (`git clean -d` takes folders, `git push -d` deletes).

/// Long options and the letter each is the same as: `(command, long name, letters)`.
const LONG_OPTIONS: &[(&str, &str, &str)] = &[
    ("rm", "recursive", "r"),
    ("rm", "force", "f"),
    ("rm", "dir", "d"),
    ("rm", "interactive", "i"),
    ("rm", "verbose", "v"),
    ("git push", "force", "f"),
    ("git push", "delete", "d"),
    ("git push", "set-upstream", "u"),
    ("git push", "dry-run", "n"),
    ("git clean", "force", "f"),
    ("git clean", "dry-run", "n"),
    ("git clean", "interactive", "i"),
    ("git clean", "quiet", "q"),
    ("git branch", "delete", "d"),
    ("git branch", "force", "f"),
    ("git branch", "move", "m"),
    ("git branch", "copy", "c"),
    ("git checkout", "force", "f"),
    ("git switch", "force", "f"),
    ("git switch", "discard-changes", "f"),
    ("git tag", "force", "f"),
    ("git tag", "delete", "d"),
    ("git rm", "force", "f"),
    ("git rm", "recursive", "r"),
    ("git add", "force", "f"),
    ("git fetch", "force", "f"),
    ("git mv", "force", "f"),
];

/// Letters that are the same as others: `(command, letter, letters)`.
const SAME_LETTERS: &[(&str, char, &str)] = &[
    ("rm", 'R', "r"),
    // Not an option of GNU or BSD rm; read as `-f` so that a spelling an rm may take one day
    // is not a way around a deny.
    ("rm", 'F', "f"),
    ("git branch", 'D', "df"),
    ("git branch", 'M', "mf"),
    ("git branch", 'C', "cf"),
    ("git switch", 'C', "cf"),
];

/// Long options that do what a letter does and more, so that a deny of the letter meets them
/// but a deny of them does not meet the letter: `(command, long name, letters)`. A push with a
/// lease (`--force-with-lease`, `--force-if-includes` with it) still overwrites the remote's
/// branch when no one else moved it; `--mirror` force-updates and deletes what the remote has
/// that the repository does not.
const DOES_AS_MUCH: &[(&str, &str, &str)] = &[
    ("git push", "force-with-lease", "f"),
    ("git push", "mirror", "fd"),
    ("git push", "prune", "d"),
];

/// Options that take their value in the next word, whose value is no operand: `(command,
/// short letters, long names)`. `git push -o +fast` gives `+fast` to the remote's hooks; it
/// is no refspec.
const VALUED: &[(&str, &str, &[&str])] = &[(
    "git push",
    "o",
    &["--push-option", "--repo", "--receive-pack", "--exec"],
)];

/// The operands of a command's words (after its subcommand, for git): the words that are no
/// option, nor the value of one in [`VALUED`] (`-o x`, `-uo x`, `--repo x`).
pub fn operands<'a>(key: &str, words: &'a [String]) -> impl Iterator<Item = &'a String> {
    let (letters, long) = VALUED
        .iter()
        .find(|(k, _, _)| *k == key)
        .map_or(("", &[][..]), |(_, letters, long)| (*letters, *long));
    let mut value_next = false;
    words.iter().filter(move |w| {
        let value = std::mem::take(&mut value_next);
        if value {
            return false;
        }
        if let Some(name) = w.strip_prefix("--") {
            value_next = !name.is_empty() && long.contains(&w.as_str());
            return false;
        }
        if let Some(cluster) = short_cluster(w, true) {
            // A letter that takes a value takes the rest of its word, or the next word when
            // it ends the cluster.
            value_next = cluster
                .find(|c| letters.contains(c))
                .is_some_and(|at| at + 1 == cluster.len());
            return false;
        }
        !w.starts_with('-')
    })
}

/// The key a command's options are looked up by: git with its subcommand (`git push`), any
/// other command by its name.
pub fn key(command: &str, subcommand: Option<&str>) -> String {
    match subcommand {
        Some(sub) if command == "git" => format!("git {sub}"),
        _ => command.to_owned(),
    }
}

/// The letters an option a deny names stands for: `-rf` → `rf`, `-R` → `r` and `--recursive`
/// → `r` for rm, `--force` → `f` for `git push`; `None` for a word that is no option, or a
/// long option with no letter (matched by its name, [`is_long_option`]).
pub fn letters_named(key: &str, word: &str) -> Option<String> {
    letters(key, word, false)
}

/// The letters an option a line gives does at least ([`letters_named`], and [`DOES_AS_MUCH`]):
/// `--force-with-lease` → `f` for `git push`. A long option is taken by any start of its name
/// (`--recur`, `--forc`), as getopt and git take a start that names one option only (a start
/// of two is refused, so taking it for either denies nothing that would run).
pub fn letters_given(key: &str, word: &str) -> Option<String> {
    letters(key, word, true)
}

fn letters(key: &str, word: &str, given: bool) -> Option<String> {
    if let Some(long) = word.strip_prefix("--") {
        let long = long.split('=').next().unwrap_or(long);
        if long.is_empty() {
            return None;
        }
        let names = |&&(c, l, _): &&(&str, &str, &str)| {
            c == key && (l == long || (given && l.starts_with(long)))
        };
        let as_much = DOES_AS_MUCH.iter().filter(|_| given);
        let mut found = LONG_OPTIONS.iter().chain(as_much).filter(names).peekable();
        found.peek()?;
        let out: String = found.map(|(_, _, letters)| *letters).collect();
        return Some(out);
    }
    let cluster = short_cluster(word, given)?;
    Some(
        cluster
            .chars()
            .flat_map(|c| {
                SAME_LETTERS
                    .iter()
                    .find(|(k, from, _)| *k == key && *from == c)
                    .map_or_else(|| c.to_string(), |(_, _, to)| (*to).to_owned())
                    .chars()
                    .collect::<Vec<_>>()
            })
            .collect(),
    )
}

/// The letters a line's operand of a command does at least: a refspec `git push` is given
/// with a `+` forces that branch (`+main`, as `--force` does), and one with nothing before its
/// `:` deletes it (`:main`, as `--delete` does).
pub fn letters_of_operand(key: &str, word: &str) -> &'static str {
    match key {
        "git push" if word.starts_with('+') => "f",
        "git push" if word.starts_with(':') && word.len() > 1 => "d",
        _ => "",
    }
}

/// Whether an option a line gives (`given`, `--har`) is the one a deny names and no letter
/// stands for (`wanted`, `--hard`): the same, with a value (`--hard=x`), or a long option by a
/// start of its name, as getopt and git take it, unless that start is itself an option of the
/// command ([`LONG_OPTIONS`]: `git push --force` is no start of `--force-with-lease`).
pub fn is_option(key: &str, given: &str, wanted: &str) -> bool {
    if given == wanted || given.starts_with(&format!("{wanted}=")) {
        return true;
    }
    let (Some(name), Some(start)) = (wanted.strip_prefix("--"), given.strip_prefix("--")) else {
        return false;
    };
    let start = start.split('=').next().unwrap_or(start);
    let own = LONG_OPTIONS
        .iter()
        .chain(DOES_AS_MUCH)
        .any(|(c, l, _)| *c == key && *l == start);
    !start.is_empty() && !own && name.starts_with(start)
}

/// The letters of a short option cluster: `-rf` → `rf`. A cluster a line gives may hold
/// digits, options of their own (`git push -4f` and `-f4` force over IPv4, as `fetch` and
/// `pull` take `-4` and `-6` too), so a digit does not hide the letters beside it.
fn short_cluster(word: &str, given: bool) -> Option<&str> {
    let letters = word.strip_prefix('-')?;
    let letter = |b: u8| b.is_ascii_alphabetic() || (given && b.is_ascii_digit());
    (!letters.starts_with('-') && !letters.is_empty() && letters.bytes().all(letter))
        .then_some(letters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_option_is_its_letter_and_a_start_of_it_when_given() {
        assert_eq!(letters_named("git push", "--force").as_deref(), Some("f"));
        assert!(letters_given("git push", "--forc").is_some_and(|l| l.contains('f')));
        assert_eq!(letters_named("git push", "--forc"), None);
        assert_eq!(letters_named("git clean", "-fdx").as_deref(), Some("fdx"));
        assert_eq!(letters_named("git branch", "-D").as_deref(), Some("df"));
        assert_eq!(letters_named("rm", "-Rf").as_deref(), Some("rf"));
        assert!(letters_given("git push", "-4f").is_some_and(|l| l.contains('f')));
    }

    #[test]
    fn a_lease_forces_but_a_deny_of_it_is_not_one_of_force() {
        let lease = "--force-with-lease=main:abc";
        assert!(letters_given("git push", lease).is_some_and(|l| l.contains('f')));
        assert_eq!(letters_named("git push", lease), None);
        assert_eq!(letters_given("git push", "--force-if-includes"), None);
    }

    #[test]
    fn a_long_option_is_met_by_a_start_of_its_name() {
        assert!(is_option("git reset", "--har", "--hard"));
        assert!(is_option("git reset", "--hard=x", "--hard"));
        assert!(!is_option("git reset", "--hardest", "--hard"));
        assert!(!is_option("git reset", "--", "--hard"));
        assert!(!is_option("git push", "--force", "--force-with-lease"));
        assert!(is_option("git push", "--force-with", "--force-with-lease"));
        assert!(is_option("rm", "-x", "-x"));
    }
}
