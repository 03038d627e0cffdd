//! Path globs as rules files write them: `*` matches within one folder, `**` across folders,
//! `?` one character. A pattern with no `/` matches a path's file name anywhere
//! (`*.env` matches `config/prod.env`), as `.gitignore` reads such patterns.

/// A compiled glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    /// The pattern names a file anywhere: it has no `/`.
    anywhere: bool,
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        Glob {
            pattern: pattern.to_owned(),
            anywhere: !pattern.contains('/'),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether `path` matches: the whole path, or a path ending in `/` and the match (so that
    /// `src/*.rs` matches `/home/me/project/src/main.rs`), or, for a pattern without `/`, the
    /// file name.
    pub fn matches(&self, path: &str) -> bool {
        let pattern = self.pattern.as_bytes();
        if self.anywhere {
            let name = path.rsplit('/').next().unwrap_or(path);
            return matches(pattern, name.as_bytes());
        }
        if matches(pattern, path.as_bytes()) {
            return true;
        }
        // A relative pattern matches a path's tail that starts a folder.
        !self.pattern.starts_with('/')
            && path
                .match_indices('/')
                .any(|(i, _)| matches(pattern, &path.as_bytes()[i + 1..]))
    }
}

/// Whether `text` matches `pattern` whole. Iterative with one saved position per kind of star,
/// so a hostile pattern cannot make it take exponential time.
fn matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where to resume after a `*` (within a folder) and a `**` (across folders) failed.
    let mut star: Option<(usize, usize)> = None;
    let mut globstar: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() {
            match pattern[p] {
                b'*' if pattern.get(p + 1) == Some(&b'*') => {
                    // `**/` also matches no folder at all.
                    let mut next = p + 2;
                    if pattern.get(next) == Some(&b'/') {
                        next += 1;
                    }
                    globstar = Some((next, t));
                    star = None;
                    p = next;
                    continue;
                }
                b'*' => {
                    star = Some((p + 1, t));
                    p += 1;
                    continue;
                }
                b'?' if text[t] != b'/' => {
                    p += 1;
                    t += 1;
                    continue;
                }
                c if c == text[t] && c != b'?' => {
                    p += 1;
                    t += 1;
                    continue;
                }
                _ => {}
            }
        }
        if let Some((sp, st)) = star
            && text[st] != b'/'
        {
            star = Some((sp, st + 1));
            p = sp;
            t = st + 1;
            continue;
        }
        if let Some((gp, gt)) = globstar {
            globstar = Some((gp, gt + 1));
            star = None;
            p = gp;
            t = gt + 1;
            continue;
        }
        return false;
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

#[cfg(test)]
mod tests {
    use super::Glob;

    #[test]
    fn stars_stay_in_their_folder_and_double_stars_cross() {
        let cases = [
            ("**/production.env", "/srv/app/config/production.env", true),
            ("**/production.env", "production.env", true),
            ("src/*.rs", "/home/me/p/src/main.rs", true),
            ("src/*.rs", "/home/me/p/src/a/main.rs", false),
            ("src/**/*.rs", "/home/me/p/src/a/b/main.rs", true),
            ("src/**", "/p/src/a/b", true),
            ("*.env", "/p/config/prod.env", true),
            ("*.env", "/p/prod.env.bak", false),
            (".env*", "/p/.env.local", true),
            ("/etc/**", "/etc/passwd", true),
            ("/etc/**", "/home/etc/passwd", false),
            ("a?c", "/x/abc", true),
            ("a?c", "/x/a/c", false),
            ("**", "anything/at/all", true),
        ];
        for (pattern, path, expected) in cases {
            assert_eq!(
                Glob::new(pattern).matches(path),
                expected,
                "{pattern} {path}"
            );
        }
    }

    #[test]
    fn a_hostile_pattern_takes_no_time() {
        let pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let text = "a".repeat(5_000);
        assert!(!Glob::new(pattern).matches(&text));
    }
}
