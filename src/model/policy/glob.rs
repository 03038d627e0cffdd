//! Path globs as policies write them: `*` and `?` within one path segment, `**` across
//! segments, `[abc]` sets; a pattern without `/` matches a file's name anywhere, and a pattern
//! that matches a folder matches everything in it (as `.gitignore` reads patterns).

/// A compiled path glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    text: String,
    /// The pattern's segments, split on `/`.
    segments: Vec<String>,
    /// No `/` in the pattern: it is matched against each segment of a path (a name anywhere).
    anywhere: bool,
    /// The pattern starts with `/`: it names an absolute path.
    absolute: bool,
}

impl Glob {
    pub fn new(text: &str) -> Glob {
        let trimmed = text.trim();
        let absolute = trimmed.starts_with('/');
        let body = trimmed
            .trim_start_matches("./")
            .trim_start_matches('/')
            .trim_end_matches('/');
        let segments: Vec<String> = body
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .map(str::to_owned)
            .collect();
        Glob {
            text: text.to_owned(),
            anywhere: !body.contains('/') && !absolute,
            absolute,
            segments,
        }
    }

    /// The pattern as the policy wrote it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern's last segment names files by more than wildcards (`config/.env`,
    /// `*.pem`), not just "everything here" (`src/**`, `src/*`).
    pub fn names_files(&self) -> bool {
        self.segments
            .last()
            .is_some_and(|s| s.chars().any(|c| !matches!(c, '*' | '?')))
    }

    /// Whether `path` matches: `relative` is the path below the project's root (if it is under
    /// it), `absolute` the path as the agent named it, made absolute when it could be.
    pub fn matches(&self, relative: Option<&str>, absolute: &str) -> bool {
        if self.segments.is_empty() {
            return false;
        }
        let path = if self.absolute {
            absolute
        } else if let Some(rel) = relative {
            rel
        } else if self.anywhere || self.segments[0] == "**" {
            absolute
        } else {
            return false;
        };
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if self.anywhere {
            // A name anywhere: any segment, and with it everything below that segment.
            return parts
                .iter()
                .any(|p| segment(self.segments[0].as_bytes(), p.as_bytes()));
        }
        let pattern: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        // The path itself, or a folder above it.
        (1..=parts.len()).any(|n| segments(&pattern, &parts[..n]))
    }
}

/// Whether the pattern's segments match the path's, `**` standing for any number of them.
fn segments(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| segments(rest, &path[skip..])),
        Some((first, rest)) => match path.split_first() {
            Some((p, path_rest)) => {
                segment(first.as_bytes(), p.as_bytes()) && segments(rest, path_rest)
            }
            None => false,
        },
    }
}

/// Whether one segment matches: `*`, `?` and `[set]` within it.
fn segment(pattern: &[u8], text: &[u8]) -> bool {
    // Iterative matching with one backtrack point for the last `*` (linear for most patterns).
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    star = Some((p, t));
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    t += 1;
                    continue;
                }
                b'[' => {
                    if let Some((matched, next)) = set(&pattern[p..], text[t]) {
                        if matched {
                            p += next;
                            t += 1;
                            continue;
                        }
                    } else if text[t] == b'[' {
                        p += 1;
                        t += 1;
                        continue;
                    }
                }
                c if c == text[t] => {
                    p += 1;
                    t += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// A `[set]` at the start of `pattern`: whether `c` is in it and the set's length; `None` when
/// the bracket is not closed (then it is a plain `[`).
fn set(pattern: &[u8], c: u8) -> Option<(bool, usize)> {
    let close = pattern.iter().skip(2).position(|&b| b == b']')? + 2;
    let body = &pattern[1..close];
    let (negate, body) = match body.first() {
        Some(b'!' | b'^') => (true, &body[1..]),
        _ => (false, body),
    };
    let mut found = false;
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == b'-' {
            found |= (body[i]..=body[i + 2]).contains(&c);
            i += 3;
        } else {
            found |= body[i] == c;
            i += 1;
        }
    }
    Some((found != negate, close + 1))
}

#[cfg(test)]
mod tests {
    use super::Glob;

    fn m(pattern: &str, rel: &str) -> bool {
        Glob::new(pattern).matches(Some(rel), &format!("/p/{rel}"))
    }

    #[test]
    fn double_star_crosses_folders() {
        assert!(m("src/**", "src/a/b/c.rs"));
        assert!(m("src/**/*.rs", "src/main.rs"));
        assert!(m("src/**/*.rs", "src/a/b/c.rs"));
        assert!(!m("src/**/*.rs", "tests/a.rs"));
        assert!(m("**/*.pem", "a/b/key.pem"));
    }

    #[test]
    fn single_star_stays_in_its_segment() {
        assert!(m("src/*.rs", "src/main.rs"));
        assert!(!m("src/*.rs", "src/a/main.rs"));
        assert!(
            m("docs/*", "docs/a/b.md"),
            "a matched folder covers its files"
        );
    }

    #[test]
    fn a_name_without_slash_matches_anywhere() {
        assert!(m(".env", ".env"));
        assert!(m(".env", "config/.env"));
        assert!(m(".env*", "config/.env.local"));
        assert!(!m(".env", ".envrc/x") || m(".env*", ".envrc"));
        assert!(m("*.pem", "certs/server.pem"));
        assert!(!m("*.pem", "certs/server.pem.txt"));
        assert!(m(".ssh", ".ssh/id_rsa"));
    }

    #[test]
    fn absolute_patterns_and_paths_outside_the_project() {
        let g = Glob::new("/etc/**");
        assert!(g.matches(None, "/etc/passwd"));
        assert!(!Glob::new("src/**").matches(None, "/elsewhere/src/a.rs"));
        assert!(Glob::new("**/.env").matches(None, "/home/u/.env"));
        assert!(Glob::new(".netrc").matches(None, "/home/u/.netrc"));
    }

    #[test]
    fn sets_and_question_marks() {
        assert!(m("file?.txt", "file1.txt"));
        assert!(m("[ab].txt", "a.txt"));
        assert!(!m("[!ab].txt", "a.txt"));
        assert!(m("x[.txt", "x[.txt"));
    }

    #[test]
    fn names_files() {
        assert!(Glob::new("config/.env").names_files());
        assert!(Glob::new("*.pem").names_files());
        assert!(!Glob::new("src/**").names_files());
        assert!(!Glob::new("*").names_files());
    }
}
