//! Path globs, as policies and watch rules write them: `*` and `?` within one path segment,
//! `**` across segments, `[abc]` sets (a `[` that is never closed is itself); a pattern without
//! `/` matches a file's name, wherever it is (`*.env` matches `config/prod.env`), as
//! `.gitignore` reads such patterns; one that starts with `./` is read from the project's folder
//! only (`./hosts` is the project's `hosts`, `./**` every file below the project, not
//! `/etc/hosts`). Two readings of one pattern: a policy's
//! ([`Glob::matches`]), where a path below the project's root is matched from there and a
//! matched folder covers everything in it, and a watch rule's ([`Glob::matches_path`]), where
//! one path is matched whole or from a folder in it. And a glob that leaves files out of a
//! ripgrep search ([`Exclusion`], `rg -g '!secrets/**'`), read by gitignore's rules.

/// A compiled path glob.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "where a pattern is matched from, read off its text once; each is asked on its own"
)]
pub struct Glob {
    text: String,
    /// The pattern's segments, split on `/`.
    segments: Vec<String>,
    /// No `/` in the pattern: it is matched against each segment of a path (a name anywhere).
    anywhere: bool,
    /// The pattern starts with `/`: it names an absolute path.
    absolute: bool,
    /// The pattern starts with `~` or `$` (`~/.aws/**`, `$HOME/x`): it names a path the agent
    /// wrote so, which is matched as written.
    from_home: bool,
    /// The pattern starts with `./`: it names paths below the project's folder only, never one
    /// outside it nor a name in any folder.
    anchored: bool,
}

impl Glob {
    pub fn new(text: &str) -> Glob {
        let trimmed = text.trim();
        let absolute = trimmed.starts_with('/');
        let body = trimmed
            .trim_start_matches("./")
            .trim_start_matches('/')
            .trim_end_matches('/');
        let mut segments: Vec<String> = body
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .map(str::to_owned)
            .collect();
        // `/` (and `./`, `.`: the project's folder) names a folder, which covers what is in it:
        // `/**`. Left with no segment it would match nothing, and deny nothing.
        let folder = trimmed == "." || absolute || trimmed.starts_with("./");
        if segments.is_empty() && folder {
            segments.push("**".to_owned());
        }
        let anchored = trimmed.starts_with("./") || trimmed == ".";
        Glob {
            text: text.to_owned(),
            anywhere: !body.contains('/') && !absolute && !anchored,
            absolute,
            from_home: trimmed.starts_with(['~', '$']),
            anchored,
            segments,
        }
    }

    /// The pattern as the policy wrote it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern names no file (`""`): it matches nothing. (`/` and `./` name a
    /// folder, which covers what is in it.)
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// Whether it names an absolute path (`/etc/**`): a relative path is matched by it only
    /// once placed in a folder.
    pub fn absolute(&self) -> bool {
        self.absolute
    }

    /// Whether it names a file or folder by its name, in any folder (`.env`, `*.pem`).
    pub fn anywhere(&self) -> bool {
        self.anywhere
    }

    /// Whether one path matches as a watch rule's `file_path` reads it: the whole path, or (for
    /// a relative pattern) a part of it that starts a folder, so that `src/*.rs` matches
    /// `/home/me/project/src/main.rs`; a pattern without `/` matches the file's name.
    pub fn matches_path(&self, path: &str) -> bool {
        if self.segments.is_empty() {
            return false;
        }
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if self.anywhere {
            return path
                .rsplit('/')
                .next()
                .is_some_and(|name| segment(&self.segments[0], name));
        }
        if self.absolute {
            let pattern: Vec<&str> = self.segments.iter().map(String::as_str).collect();
            return path.starts_with('/') && segments(&pattern, &parts);
        }
        // From any folder of the path: the pattern after a `**`, in one pass. Matching it from
        // each folder in turn took time in the square of the path's segments (38 s for a path
        // of 100,000), and a rule due meanwhile waited.
        let pattern: Vec<&str> = std::iter::once("**")
            .chain(self.segments.iter().map(String::as_str))
            .collect();
        !parts.is_empty() && segments(&pattern, &parts)
    }

    /// Whether the pattern's last segment names files by more than wildcards (`config/.env`,
    /// `*.pem`), not just "everything here" (`src/**`, `src/*`).
    pub fn names_files(&self) -> bool {
        self.segments
            .last()
            .is_some_and(|s| s.chars().any(|c| !matches!(c, '*' | '?')))
    }

    /// Whether the pattern, written from above a folder (`../**`, `../build/**`), names `path`,
    /// a path that climbs out of a folder no session recorded (`../../x`), as written: how a
    /// deny names what no glob of the project can place ([`Glob::matches`] places it nowhere).
    pub fn matches_above(&self, path: &str) -> bool {
        !self.absolute
            && !self.from_home
            && self.segments.first().is_some_and(|s| s == "..")
            && self.matches(Some(path), path)
    }

    /// Whether `path` matches as a policy reads it, where a matched folder covers what is in it:
    /// `relative` is the path below the project's root (if it is under it), `absolute` the path
    /// as the agent named it, made absolute when it could be.
    pub fn matches(&self, relative: Option<&str>, absolute: &str) -> bool {
        if self.segments.is_empty() {
            return false;
        }
        let path = if self.absolute || (self.from_home && !self.anywhere) {
            absolute
        } else if let Some(rel) = relative {
            rel
        } else if !self.anchored && (self.anywhere || self.segments[0] == "**") {
            absolute
        } else {
            return false;
        };
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if parts.is_empty() {
            // The project's folder itself (a search of all of it): only `**` covers it.
            return self.segments.iter().all(|s| s == "**");
        }
        if self.anywhere {
            // A name anywhere: any segment, and with it everything below that segment.
            return parts.iter().any(|p| segment(&self.segments[0], p));
        }
        // The path itself, or a folder above it: the pattern and then a `**`, in one pass, not
        // the pattern once for each folder (time in the square of the path's segments).
        let pattern: Vec<&str> = self
            .segments
            .iter()
            .map(String::as_str)
            .chain(std::iter::once("**"))
            .collect();
        segments(&pattern, &parts)
    }
}

/// A shell's glob (`cat .e*`), as a policy reads it: its segments below the project's root (if
/// it is under it) and made absolute, and whether the line lets its wildcards take a leading
/// dot (`shopt -s dotglob`, zsh's `globdots`).
#[derive(Debug, Clone)]
pub struct ShellGlob<'a> {
    relative: Option<Vec<&'a str>>,
    absolute: Vec<&'a str>,
    dots: bool,
}

impl<'a> ShellGlob<'a> {
    pub fn new(relative: Option<&'a str>, absolute: &'a str, dots: bool) -> ShellGlob<'a> {
        let split = |path: &'a str| path.split('/').filter(|s| !s.is_empty()).collect();
        ShellGlob {
            relative: relative.map(split),
            absolute: split(absolute),
            dots,
        }
    }
}

impl Glob {
    /// Whether a shell's glob could take a path this pattern matches, as far as the two texts
    /// tell, segment by segment: this pattern's segment matches the glob's text (`secrets/*`
    /// takes `secrets/*.pem`), or the glob's segment matches this pattern's text (`.e*` takes
    /// `.env`, `cred*` takes `credentials`); `**` on either side stands for any number of
    /// segments, and a path below one the pattern matches counts, as in [`Glob::matches`]. A
    /// shell's wildcard takes no leading `.` (`*` takes no `.env`) unless `dots`. With
    /// `named`, a glob segment takes this pattern's text only when it has a character of its
    /// own: `.e*` takes `.env`, `*` takes no `*.pem`, since "anything" names no file.
    ///
    /// Two wildcards meeting (`*.txt` and `id_rsa*`) do not count: that some file could be
    /// named both ways (`id_rsa.txt`) says nothing of the file the glob is after.
    pub fn may_take(&self, glob: &ShellGlob<'_>, named: bool) -> bool {
        if self.segments.is_empty() {
            return false;
        }
        let Some(parts) = self.parts_of(glob) else {
            return false;
        };
        let pair = |pattern: &str, part: &str| segments_pair(pattern, part, named, glob.dots);
        if self.anywhere {
            return parts.iter().any(|part| pair(&self.segments[0], part));
        }
        segments_meet(&self.segments, parts, pair, |s| s == "**")
    }

    /// [`Glob::may_take`] with `named`, for a search tool's glob, which reads in every folder
    /// below the one it starts from: one of the glob's segments with a character of its own must
    /// also meet one of this pattern's, so that a `**` names nothing, as a folder searched whole
    /// names no sensitive file (`**/*.ts`, whose `**` could be `.aws/credentials`, takes none),
    /// while `*.p*`, `id_*` and `**/.aws/*` do.
    pub fn may_name(&self, glob: &ShellGlob<'_>) -> bool {
        self.may_take(glob, true)
            && self.parts_of(glob).is_some_and(|parts| {
                parts.iter().filter(|p| has_own_character(p)).any(|part| {
                    self.segments
                        .iter()
                        .filter(|s| *s != "**")
                        .any(|s| segments_pair(s, part, true, glob.dots))
                })
            })
    }

    /// The glob's segments this pattern is compared with ([`Glob::may_take`]): all of them for
    /// a pattern from `/`, else those below the project, else, for a name or a pattern starting
    /// with `**` (which match in any folder), all of them; `None` when the glob is not below the
    /// project and the pattern names a path in it.
    fn parts_of<'g, 'a>(&self, glob: &'g ShellGlob<'a>) -> Option<&'g [&'a str]> {
        if self.absolute {
            Some(&glob.absolute)
        } else if let Some(rel) = &glob.relative {
            Some(rel)
        } else if !self.anchored && (self.anywhere || self.segments[0] == "**") {
            Some(&glob.absolute)
        } else {
            None
        }
    }

    /// Whether a command that goes through a whole folder (`cp -r`, `grep -r`, `tar c`, `rm
    /// -rf`: every file below it) could reach a path this pattern matches: the folder (a shell
    /// glob's segments, or plain ones) followed by any number of segments meets the pattern, as
    /// in [`Glob::may_take`]. `hidden`: whether the command goes into files and folders whose
    /// name starts with `.` (ripgrep does not unless told), so that `rg TOKEN .` does not reach
    /// `.env`, and `grep -r TOKEN .` does.
    ///
    /// A pattern without `/` (`.env`, `*.pem`), which names a file in any folder, is taken here
    /// for the one in the project's own folder: `grep -r TOKEN .` reaches `.env`, `grep -r TOKEN
    /// src` does not (`**/.env` says every folder), so that a deny of `.env` does not stop every
    /// recursive command.
    pub fn may_hold(&self, folder: &ShellGlob<'_>, hidden: bool) -> bool {
        if self.segments.is_empty() {
            return false;
        }
        let parts: &[&str] = if self.absolute || (self.from_home && !self.anywhere) {
            &folder.absolute
        } else if let Some(rel) = &folder.relative {
            rel
        } else if !self.anywhere && !self.anchored && self.segments[0] == "**" {
            &folder.absolute
        } else {
            return false;
        };
        let pair = |pattern: &str, part: &str| {
            segment(pattern, part)
                || ((folder.dots || !pattern.starts_with('.') || part.starts_with(['.', '[']))
                    && segment(part, pattern))
        };
        // Below the folder, any segment the walk goes into.
        let below = |s: &str| hidden || s == "**" || !s.starts_with('.');
        segments_meet(&self.segments, parts, pair, below)
    }
}

/// A glob that leaves files out of a ripgrep search (`rg -g '!secrets/**'`, the `glob` of
/// Claude Code's Grep), read by gitignore's rules, as ripgrep reads it: without a `/` (or with
/// one only at its end) it names a file or folder by its name, in any folder (`!*.pem`,
/// `!secrets`); with one, a path from the search's folder (`!secrets/**`, `!/build`); a
/// trailing `/` names folders only, a trailing `/**` what is inside the folders it names, and
/// `**` any number of folders. A folder left out is not walked into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    /// Its segments, a name anywhere read as `**/name`, without a trailing `**`.
    segments: Vec<String>,
    /// It ends in `/**` or `/`: what it names has to have something below it to be left out.
    inside: bool,
    /// It names a path from the search's folder: it has a `/` before its end and does not
    /// start with `**` (`!**/secrets/**` names a folder at any depth, from any folder).
    anchored: bool,
}

/// At most this many segments are compared when an exclusion is asked to cover a pattern;
/// longer ones cover nothing.
const MAX_COVERED: usize = 32;

impl Exclusion {
    /// The exclusion a search's glob states, or `None` when it is no exclusion (`*.rs`) or one
    /// this reader does not take apart, which then leaves nothing out: braces, sets and escapes
    /// (`!{a,b}`, `![s]ecrets`, `!\*`), a `.` or `..` segment, a `**` inside a segment or
    /// before a trailing `/` (`!secrets/**/` leaves out the folders below `secrets` and reads
    /// the files in it), and whitespace or a comma (Claude Code splits a `glob` there into
    /// several, some of which may name files to read, and a later glob that names a file takes
    /// it back).
    pub fn new(glob: &str) -> Option<Exclusion> {
        if glob.contains(|c: char| c.is_whitespace() || c == ',') {
            return None;
        }
        let body = glob.strip_prefix('!')?;
        if body.is_empty() || body.starts_with('!') || body.contains(['[', ']', '{', '}', '\\']) {
            return None;
        }
        let (body, folders_only) = match body.strip_suffix('/') {
            Some(b) => (b, true),
            None => (body, false),
        };
        let (body, rooted) = match body.strip_prefix('/') {
            Some(b) => (b, true),
            None => (body, false),
        };
        let mut segments = Vec::new();
        if !rooted && !body.contains('/') {
            segments.push("**".to_owned());
        }
        for part in body.split('/') {
            if part.is_empty()
                || part == "."
                || part == ".."
                || (part.contains("**") && part != "**")
            {
                return None;
            }
            segments.push(part.to_owned());
        }
        // `!secrets/**/` names the folders below `secrets`, not the files in it: a `**` before a
        // trailing `/` is no run of folders holding what is left out.
        if folders_only && segments.last().is_some_and(|s| s == "**") {
            return None;
        }
        let anchored = segments[0] != "**";
        let mut inside = folders_only;
        while segments.last().is_some_and(|s| s == "**") {
            segments.pop();
            inside = true;
        }
        if segments.len() > MAX_COVERED {
            return None;
        }
        Some(Exclusion {
            segments,
            inside,
            anchored,
        })
    }

    /// Whether it names a path from the search's folder (`!secrets/**`), not a name anywhere
    /// (`!*.pem`, `!secrets`, `!**/secrets/**`).
    pub fn anchored(&self) -> bool {
        self.anchored
    }
}

impl Glob {
    /// Whether a ripgrep search of the project's folder that leaves out what `exclusion`
    /// matches certainly reads no path this pattern matches, as far as the two texts tell:
    /// some start of the pattern's segments (`secrets` of `secrets/**`) names only paths the
    /// exclusion leaves out, segment by segment ([`Exclusion`]'s `**` takes any run of the
    /// pattern's segments, its other segments one that is no `**` and whose every name they
    /// match); for an exclusion that leaves out only what is below what it names (`!secrets/**`,
    /// `!secrets/`), that start is followed by more of the pattern (a pattern that ends in
    /// `/**` is taken for what is in that folder). A pattern from `/`, `~` or a variable, or
    /// one that matches everything (`**`), is never covered.
    pub fn left_out_by(&self, exclusion: &Exclusion) -> bool {
        if self.absolute
            || self.from_home
            || self.segments.iter().all(|s| s == "**")
            || self.segments.iter().any(|s| s == "..")
        {
            return false;
        }
        let pattern: Vec<&str> = if self.anywhere {
            vec!["**", self.segments[0].as_str()]
        } else {
            self.segments.iter().map(String::as_str).collect()
        };
        if pattern.len() > MAX_COVERED {
            return false;
        }
        let ends = if exclusion.inside {
            0..pattern.len()
        } else {
            0..pattern.len() + 1
        };
        ends.into_iter()
            .any(|end| covers_all(&exclusion.segments, &pattern[..end]))
    }
}

impl Glob {
    /// [`Glob::left_out_by`] for a search of `folder` (a path below the project's folder, `""`
    /// for that folder itself): whether that search certainly reads no path this pattern
    /// matches below `folder`, with `exclusion` read from `folder`. The pattern is taken as
    /// the paths it matches below the folder: the rest of it after a start that spells the
    /// folder (`src/secrets/**` below `src` is `secrets/**`), or the whole of a name anywhere
    /// or of one from `**` whose next segment matches none of the folder's (`**/*.pem` below
    /// `src`). Anything else is never covered, and neither is a pattern that names the folder
    /// or a folder above it: ripgrep reads the folder it is given, even one a glob leaves out.
    pub fn left_out_below(&self, folder: &str, exclusion: &Exclusion) -> bool {
        let folder: Vec<&str> = folder
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        if folder.is_empty() {
            return self.left_out_by(exclusion);
        }
        if self.segments.is_empty() || self.absolute || self.from_home {
            return false;
        }
        let names_a_folder = |pattern: &str| folder.iter().any(|f| segment(pattern, f));
        let rest = if self.anywhere {
            if names_a_folder(&self.segments[0]) {
                return false;
            }
            return self.left_out_by(exclusion);
        } else if self.segments[0] == "**" {
            match self.segments.get(1) {
                Some(next) if next != "**" && !names_a_folder(next) => self.segments.clone(),
                _ => return false,
            }
        } else if self.segments.len() > folder.len()
            && folder.iter().zip(&self.segments).all(|(f, s)| f == s)
        {
            self.segments[folder.len()..].to_vec()
        } else {
            return false;
        };
        Glob {
            text: self.text.clone(),
            segments: rest,
            anywhere: false,
            absolute: false,
            from_home: false,
            anchored: self.anchored,
        }
        .left_out_by(exclusion)
    }
}

/// Whether every path `pattern` matches is matched by `cover` too: a `**` of `cover` takes any
/// run of the pattern's segments (its `**` too); each other segment of `cover` one of the
/// pattern's that is no `**` and whose every name it matches ([`names_all`]).
fn covers_all(cover: &[String], pattern: &[&str]) -> bool {
    let (n, m) = (cover.len(), pattern.len());
    if n > MAX_COVERED || m > MAX_COVERED {
        return false;
    }
    // next[j]: whether cover[i + 1..] covers pattern[j..]; cur[j] the same for cover[i..].
    // Filled from the ends; past both ends, it does.
    let mut rows = [false; 2 * (MAX_COVERED + 1)];
    let (next, cur) = rows.split_at_mut(MAX_COVERED + 1);
    let (mut next, mut cur) = (&mut next[..=m], &mut cur[..=m]);
    next[m] = true;
    for c in cover.iter().rev() {
        for j in (0..=m).rev() {
            cur[j] = if c == "**" {
                next[j] || (j < m && cur[j + 1])
            } else {
                j < m && pattern[j] != "**" && names_all(c, pattern[j]) && next[j + 1]
            };
        }
        std::mem::swap(&mut next, &mut cur);
    }
    next[0]
}

/// Whether the exclusion's segment `cover` (no braces, sets or escapes) matches every name the
/// pattern's segment `part` matches, as far as their texts tell: the same text, `*` alone, a
/// `part` with no wildcard that `cover` matches, or a `cover` that is `*` and an ending
/// (`*.pem`) or a start and `*` (`.env*`) that `part` ends or starts with outside its
/// wildcards (`key-?.pem` under `*.pem`).
fn names_all(cover: &str, part: &str) -> bool {
    const WILD: [char; 4] = ['*', '?', '[', ']'];
    if cover == part || (!cover.is_empty() && cover.bytes().all(|b| b == b'*')) {
        return true;
    }
    if !part.contains(WILD) {
        return segment(cover, part);
    }
    if let Some(ending) = cover.strip_prefix('*')
        && !ending.contains(['*', '?'])
        && part.len() >= ending.len()
        && let Some(tail) = part.get(part.len() - ending.len()..)
    {
        return tail == ending && !tail.contains(WILD);
    }
    if let Some(start) = cover.strip_suffix('*')
        && !start.contains(['*', '?'])
        && let Some(head) = part.get(..start.len())
    {
        return head == start && !head.contains(WILD);
    }
    false
}

/// Whether a glob segment has a character that is not a wildcard (`*`, `?`, a `[set]`).
fn has_own_character(part: &str) -> bool {
    let bytes = part.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'*' | b'?' => i += 1,
            b'[' => match bytes.iter().skip(i + 2).position(|&b| b == b']') {
                Some(close) => i += close + 3,
                None => return true,
            },
            _ => return true,
        }
    }
    false
}

/// Whether a pattern's segment and a shell glob's could name one file ([`Glob::may_take`]): the
/// pattern's matches the glob's text, or the glob's the pattern's (with `named`, only a glob
/// segment with a character of its own; a wildcard takes a leading `.` only with `dots`).
fn segments_pair(pattern: &str, part: &str, named: bool, dots: bool) -> bool {
    segment(pattern, part)
        || ((!named || has_own_character(part))
            && (dots || !pattern.starts_with('.') || part.starts_with(['.', '[']))
            && segment(part, pattern))
}

/// Whether a pattern's segments and a glob's could name one path, `pair` saying whether two
/// segments could: `**` on either side stands for any number of segments, the glob may go
/// on below where the pattern ends (a matched folder covers what is in it), and the pattern
/// below where the glob ends by segments that `past` lets through (`**` alone, for a glob that
/// names one path; any visible one, for a folder walked through).
fn segments_meet<S: AsRef<str>>(
    pattern: &[S],
    glob: &[&str],
    pair: impl Fn(&str, &str) -> bool,
    past: impl Fn(&str) -> bool,
) -> bool {
    // Rows this wide fit on the stack: a check runs per pattern per path, on the hook's path.
    const ROW: usize = 32;
    let (n, m) = (pattern.len(), glob.len());
    let width = m + 1;
    let mut stack = [false; 2 * ROW];
    let mut heap = Vec::new();
    let rows: &mut [bool] = if width <= ROW {
        &mut stack[..2 * width]
    } else {
        heap.resize(2 * width, false);
        &mut heap
    };
    // next[j]: whether pattern[i + 1..] and glob[j..] meet; cur[j] the same for pattern[i..].
    // Filled from the ends; past the pattern's end, everything meets.
    let (mut next, mut cur) = rows.split_at_mut(width);
    next.fill(true);
    for i in (0..n).rev() {
        let p = pattern[i].as_ref();
        for j in (0..=m).rev() {
            cur[j] = if j == m {
                past(p) && next[j]
            } else if p == "**" || glob[j] == "**" {
                next[j] || cur[j + 1]
            } else {
                next[j + 1] && pair(p, glob[j])
            };
        }
        std::mem::swap(&mut next, &mut cur);
    }
    next[0]
}

/// Whether the pattern's segments match the path's, `**` standing for any number of them.
/// Iterative with one saved position (each other segment matches exactly one): going back to
/// the last `**` is enough, as for `*` in a name, so it compares at most the pattern's segments
/// times the path's, however many `**` the pattern has.
fn segments(pattern: &[&str], path: &[&str]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut globstar: Option<(usize, usize)> = None;
    while t < path.len() {
        if p < pattern.len() {
            if pattern[p] == "**" {
                globstar = Some((p, t));
                p += 1;
                continue;
            }
            if segment(pattern[p], path[t]) {
                p += 1;
                t += 1;
                continue;
            }
        }
        match globstar {
            Some((gp, gt)) => {
                p = gp + 1;
                t = gt + 1;
                globstar = Some((gp, gt + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|s| *s == "**")
}

/// Whether `text` matches `pattern` whole, `*` taking any characters (`/` and spaces too), `?`
/// one, `[abc]` one of a set, as Python's `fnmatch` reads a pattern: a command rule's wildcards
/// over the words of a command, joined by spaces ([`crate::model::policy::wildcard`]).
pub fn matches_text(pattern: &str, text: &str) -> bool {
    segment(pattern, text)
}

/// Whether `word` holds a wildcard [`matches_text`] reads: `*`, `?` or a closed `[set]` (a `[`
/// never closed is itself, as in `[ -f x ]`).
pub fn has_wildcard(word: &str) -> bool {
    word.contains(['*', '?'])
        || word
            .char_indices()
            .any(|(at, c)| c == '[' && set(&word[at..], ' ').is_some())
}

/// Whether one segment matches: `*`, `?` and `[set]` within it, each wildcard taking one
/// character (not one byte: `?` takes the `é` of `café`, as a shell's does).
fn segment(pattern: &str, text: &str) -> bool {
    // Iterative matching with one backtrack point for the last `*` (linear for most patterns).
    // `p` and `t` are byte offsets, always at a character's start.
    let (pb, tb) = (pattern.as_bytes(), text.as_bytes());
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < tb.len() {
        let c = char_at(text, t);
        if p < pb.len() {
            match pb[p] {
                b'*' => {
                    star = Some((p, t));
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    t += c.len_utf8();
                    continue;
                }
                b'[' => {
                    if let Some((matched, next)) = set(&pattern[p..], c) {
                        if matched {
                            p += next;
                            t += c.len_utf8();
                            continue;
                        }
                    } else if c == '[' {
                        p += 1;
                        t += 1;
                        continue;
                    }
                }
                _ => {
                    let own = char_at(pattern, p);
                    if own == c {
                        p += own.len_utf8();
                        t += c.len_utf8();
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, st)) => {
                let after = st + char_at(text, st).len_utf8();
                p = sp + 1;
                t = after;
                star = Some((sp, after));
            }
            None => return false,
        }
    }
    pb[p..].iter().all(|&c| c == b'*')
}

/// The character that starts at byte `at` of `text` (a character's start).
fn char_at(text: &str, at: usize) -> char {
    text[at..].chars().next().unwrap_or('\0')
}

/// A `[set]` at the start of `pattern`: whether `c` is in it and the set's length in bytes;
/// `None` when the bracket is not closed (then it is a plain `[`).
fn set(pattern: &str, c: char) -> Option<(bool, usize)> {
    // The first member may be `]` (`[]a]`), so the closing one is looked for after it. Only
    // the set is read: this runs at each character a name is matched at, and reading the rest
    // of the pattern each time made a pattern of many sets take minutes.
    let first = pattern[1..].chars().next()?;
    let from = 1 + first.len_utf8();
    let close = from + pattern[from..].find(']')?;
    let body: Vec<char> = pattern[1..close].chars().collect();
    let (negate, body) = match body.first() {
        Some('!' | '^') => (true, &body[1..]),
        _ => (false, &body[..]),
    };
    let mut found = false;
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == '-' {
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
    use super::{Exclusion, Glob, ShellGlob};

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

    /// A pattern from the home folder matches a path the agent wrote so: a generated policy
    /// names `~/notes.txt` as the session read it, and did not pass that session.
    #[test]
    fn a_pattern_from_home_matches_the_path_as_written() {
        let g = |p: &str, path: &str| Glob::new(p).matches(None, path);
        assert!(g("~/notes.txt", "~/notes.txt"));
        assert!(g("~/.aws/**", "~/.aws/credentials"));
        assert!(g("$HOME/x/**", "$HOME/x/y"));
        assert!(!g("~/.aws/**", "~/.ssh/id_rsa"));
        assert!(!g("~/notes.txt", "/p/~/notes.txt"));
    }

    /// The project's folder itself (a search of all of it) is covered by `**` alone: a
    /// generated policy's `**` did not allow the search it was made from.
    #[test]
    fn only_double_star_covers_the_project_folder() {
        assert!(m("**", ""));
        assert!(m("./**", ""));
        assert!(!m("src/**", ""));
        assert!(!m("*", ""));
        assert!(!m("**/*.pem", ""));
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

    /// A pattern from `./` names paths below the project only: a generated policy's `hosts`
    /// allowed `/etc/hosts`, and its `**` every file on the machine.
    #[test]
    fn a_pattern_from_dot_slash_stays_in_the_project() {
        assert!(m("./hosts", "hosts"));
        assert!(!m("./hosts", "etc/hosts"));
        assert!(!Glob::new("./hosts").matches(None, "/etc/hosts"));
        assert!(!Glob::new("./hosts").anywhere());
        assert!(m("./**", "src/a.rs"));
        assert!(Glob::new("./**").matches(Some(""), "/p"));
        assert!(!Glob::new("./**").matches(None, "/etc/shadow"));
        assert!(Glob::new("**").matches(None, "/etc/shadow"));
        // A set is one character: an escaped `*` is that name alone.
        assert!(m("./[*]", "*"));
        assert!(!m("./[*]", "evil"));
        assert!(!Glob::new("/[*][*]").matches(None, "/usr/bin/evil"));
        assert!(Glob::new("/[*][*]").matches(None, "/**"));
    }

    /// A wildcard takes a character: `?` the two bytes of `é`, a set a character it lists.
    #[test]
    fn wildcards_take_characters_not_bytes() {
        assert!(m("caf?", "café"));
        assert!(!m("caf?", "cafés"));
        assert!(m("r?sum?.pdf", "résumé.pdf"));
        assert!(m("[éè]tat", "état"));
        assert!(!m("[!é]tat", "état"));
        assert!(m("[a-z]tat", "etat"));
        assert!(m("*é", "ééé"));
        assert!(m("*?é", "aé"));
        assert!(!m("??", "é"));
    }

    #[test]
    fn sets_and_question_marks() {
        assert!(m("file?.txt", "file1.txt"));
        assert!(m("[ab].txt", "a.txt"));
        assert!(!m("[!ab].txt", "a.txt"));
        assert!(m("x[.txt", "x[.txt"));
    }

    /// Whether `pattern` could name a file the shell glob `glob` (below the project at `/p`,
    /// or outside it when it starts with `/` or `~`) takes.
    fn takes(pattern: &str, glob: &str, named: bool) -> bool {
        let absolute = if glob.starts_with(['/', '~']) {
            glob.to_owned()
        } else {
            format!("/p/{glob}")
        };
        let glob = ShellGlob::new(absolute.strip_prefix("/p/"), &absolute, false);
        Glob::new(pattern).may_take(&glob, named)
    }

    #[test]
    fn a_shell_glob_takes_what_a_pattern_names() {
        for (pattern, glob) in [
            (".env", ".e*"),
            (".env", "config/.e?v"),
            (".env", "[.]env"),
            ("secrets/**", "sec*/key.pem"),
            ("secrets/**", "*/key.pem"),
            ("secrets/**", "secrets/*"),
            ("secrets/key.pem", "s*/*.pem"),
            ("**/.aws/credentials", "~/.aws/cred*"),
            ("**/.aws/credentials", "~/.a*/*"),
            ("/etc/shadow", "/etc/sha*"),
            ("*.pem", "*"),
            ("*.pem", "certs/*.p*"),
            ("src/**", "**/main.rs"),
        ] {
            assert!(takes(pattern, glob, false), "{pattern} {glob}");
        }
        for (pattern, glob) in [
            (".env", "*"),
            (".env", "*/*"),
            (".env", ".e*x"),
            ("secrets/**", "src/*"),
            ("secrets/key.pem", "s*"),
            ("*.pem", "*.txt"),
            ("id_rsa*", "*.txt"),
            ("/etc/shadow", "etc/sha*"),
            ("**/.github/workflows", "build/*"),
        ] {
            assert!(!takes(pattern, glob, false), "{pattern} {glob}");
        }
        // Named: only a segment with a character of its own takes a pattern's text.
        assert!(!takes("*.pem", "*", true));
        assert!(!takes("credentials.json", "*", true));
        assert!(!takes("**/.github/workflows", "*/*", true));
        assert!(takes("*.pem", "*.p?m", true));
        assert!(takes(".ssh", "~/.s*/id_rsa", true));
        assert!(takes("*.pem", "*.pem", true), "the text itself");
    }

    /// Whether `pattern` names a file the search glob `glob` (below the project at `/p`) takes.
    fn names(pattern: &str, glob: &str) -> bool {
        let absolute = format!("/p/{glob}");
        let glob = ShellGlob::new(Some(glob), &absolute, true);
        Glob::new(pattern).may_name(&glob)
    }

    #[test]
    fn a_search_glob_names_a_file_only_by_a_segment_of_its_own() {
        for (pattern, glob) in [
            ("*.pem", "*.pem"),
            ("*.pem", "**/*.p*"),
            ("id_rsa*", "id_*"),
            ("id_rsa*", "**/id_rsa"),
            (".env", "**/.env*"),
            ("**/.aws/credentials", "**/.aws/*"),
            (".ssh", ".ssh/*"),
        ] {
            assert!(names(pattern, glob), "{pattern} {glob}");
        }
        // A `**` could be any folders, `.aws/credentials` too: as a folder searched whole, it
        // names no file, and neither does a segment with nothing of its own.
        for (pattern, glob) in [
            ("**/.aws/credentials", "**/*.ts"),
            ("**/.github/workflows", "src/**/*.yml"),
            ("*.pem", "**/*"),
            ("*.pem", "*"),
            ("id_rsa*", "*.txt"),
        ] {
            assert!(!names(pattern, glob), "{pattern} {glob}");
        }
    }

    /// Whether `pattern` could match a path at or below the folder `folder` (below the project
    /// at `/p`, or outside it when it starts with `/`), walked into hidden files or not.
    fn holds(pattern: &str, folder: &str, hidden: bool) -> bool {
        let absolute = if folder.starts_with('/') {
            folder.to_owned()
        } else {
            format!("/p/{folder}")
        };
        let relative = if folder == "/p" {
            Some("")
        } else {
            absolute.strip_prefix("/p/")
        };
        let folder = ShellGlob::new(relative, &absolute, false);
        Glob::new(pattern).may_hold(&folder, hidden)
    }

    #[test]
    fn a_folder_walked_through_holds_what_a_pattern_names_below_it() {
        for (pattern, folder, hidden) in [
            ("secrets/**", "secrets", false),
            ("secrets/key.pem", "secrets", false),
            ("secrets/key.pem", "/p", false),
            ("secrets/**", "secrets/sub", false),
            ("secrets/*/x", "sec*", false),
            ("config/.env", "config", true),
            (".env", "/p", true),
            ("*.pem", "/p", false),
            ("**/.env", "src", true),
            ("**/*.pem", "src/a", false),
            ("/etc/**", "/", false),
            ("/etc/shadow", "/etc", false),
        ] {
            assert!(
                holds(pattern, folder, hidden),
                "{pattern} {folder} {hidden}"
            );
        }
        for (pattern, folder, hidden) in [
            ("secrets/**", "src", true),
            ("secrets/key.pem", "src", true),
            (".env", "src", true),
            ("*.pem", "certs", true),
            (".env", "/p", false),
            ("config/.env", "config", false),
            ("**/.env", "src", false),
            (".github/**", "/p", false),
            ("/etc/**", "/usr", true),
        ] {
            assert!(
                !holds(pattern, folder, hidden),
                "{pattern} {folder} {hidden}"
            );
        }
    }

    #[test]
    fn names_files() {
        assert!(Glob::new("config/.env").names_files());
        assert!(Glob::new("*.pem").names_files());
        assert!(!Glob::new("src/**").names_files());
        assert!(!Glob::new("*").names_files());
    }

    // A watch rule's `file_path`: one path, no folder covering its contents.
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
                Glob::new(pattern).matches_path(path),
                expected,
                "{pattern} {path}"
            );
        }
    }

    /// Whether a ripgrep search of the project's folder with `-g '<glob>'` certainly reads
    /// nothing `pattern` matches.
    fn left_out(pattern: &str, glob: &str) -> bool {
        Exclusion::new(glob).is_some_and(|e| Glob::new(pattern).left_out_by(&e))
    }

    #[test]
    fn an_exclusion_covers_the_patterns_it_leaves_out_whole() {
        for (pattern, glob) in [
            ("secrets/**", "!secrets/**"),
            ("secrets/**", "!secrets"),
            ("secrets/**", "!secrets/"),
            ("secrets/**", "!/secrets"),
            ("secrets/**", "!**/secrets"),
            ("secrets/**", "!**/secrets/**"),
            ("secrets/**", "!*"),
            ("secrets/**", "!**"),
            ("secrets/**", "!sec*"),
            ("secrets/key.pem", "!secrets/**"),
            ("secrets/key.pem", "!secrets/"),
            ("secrets/key.pem", "!*.pem"),
            ("secrets/*.pem", "!*.pem"),
            ("secrets/key-?.pem", "!*.pem"),
            ("./secrets/**", "!secrets/**"),
            ("**/*.pem", "!*.pem"),
            ("**/*.pem", "!**/*.pem"),
            ("*.pem", "!*.pem"),
            ("*.pem", "!**/*.pem"),
            (".env", "!.env"),
            (".env", "!.e*"),
            (".env.*", "!.env*"),
            ("config/**/.env", "!.env"),
            ("a/**/b/**", "!a/**/b/**"),
            ("a/x/b/**", "!a/**/b"),
        ] {
            assert!(left_out(pattern, glob), "{pattern} {glob}");
        }
        for (pattern, glob) in [
            // Part of what the pattern names.
            ("secrets/**", "!secrets/a/**"),
            ("secrets/**", "!secrets/*.pem"),
            ("**/*.pem", "!secrets/*.pem"),
            ("**/*.pem", "!/*.pem"),
            ("*.pem", "!key.pem"),
            ("*.pem", "!*.p*m"),
            ("*.pem", "!*.pem.bak"),
            ("secrets/**", "!src/secrets/**"),
            ("**/secrets/**", "!secrets/**"),
            ("key*", "!*.pem"),
            // What is below a folder the pattern names, which may be a file.
            ("secrets", "!secrets/**"),
            ("secrets", "!secrets/"),
            ("*.pem", "!*.pem/"),
            // Everything, or paths outside the project.
            ("**", "!**"),
            ("/etc/**", "!etc/**"),
            ("~/.ssh/**", "!.ssh"),
            ("../x/**", "!x"),
            // Not read: no exclusion, or one an agent may split, or braces, sets, escapes.
            ("secrets/**", "secrets/**"),
            ("secrets/**", "!secrets/** x"),
            ("secrets/**", "!secrets/**,x"),
            ("secrets/**", "!{secrets,x}/**"),
            ("secrets/**", "![s]ecrets"),
            ("secrets/**", "!secret\\s"),
            ("secrets/**", "!!secrets"),
            ("secrets/**", "!./secrets"),
            ("secrets/**", "!secrets//x"),
            ("secrets/**", "!secrets**"),
            ("secrets/**", "!"),
        ] {
            assert!(!left_out(pattern, glob), "{pattern} {glob}");
        }
        assert!(Exclusion::new("!secrets/**").is_some_and(|e| e.anchored()));
        assert!(Exclusion::new("!/secrets").is_some_and(|e| e.anchored()));
        assert!(Exclusion::new("!secrets/").is_some_and(|e| !e.anchored()));
        assert!(Exclusion::new("!*.pem").is_some_and(|e| !e.anchored()));
    }

    #[test]
    fn an_exclusion_covers_a_pattern_below_the_folder_searched() {
        let below = |pattern: &str, folder: &str, glob: &str| {
            Exclusion::new(glob).is_some_and(|e| Glob::new(pattern).left_out_below(folder, &e))
        };
        for (pattern, folder, glob) in [
            ("src/secrets/**", "src", "!secrets"),
            ("src/secrets/**", "src/", "!secrets/"),
            ("src/secrets/**", "./src", "!**/secrets/**"),
            ("src/secrets/**", "src", "!*"),
            ("src/secrets/**", "src", "!secrets/**"),
            ("src/a/key.pem", "src/a", "!key.pem"),
            ("**/*.pem", "src", "!*.pem"),
            ("**/secrets/**", "src", "!secrets"),
            ("*.pem", "src", "!*.pem"),
            ("secrets/**", "", "!secrets/**"),
        ] {
            assert!(below(pattern, folder, glob), "{pattern} {folder} {glob}");
        }
        for (pattern, folder, glob) in [
            // The folder itself, or one above it: ripgrep reads the folder it is given.
            ("src/secrets/**", "src/secrets", "!secrets"),
            ("src/secrets/**", "src/secrets", "!*"),
            ("src/**", "src", "!*"),
            ("**/src/**", "src", "!*"),
            ("**/s*/**", "src", "!*"),
            ("src", "src", "!src"),
            ("s*/secrets/**", "src", "!secrets"),
            // Part of what the pattern names below the folder.
            ("src/secrets/**", "src", "!secrets/a/**"),
            ("src/secrets/**", "src", "!src/secrets/**"),
            ("**/*.pem", "src", "!key.pem"),
            // Elsewhere, everything, or outside the project.
            ("config/secrets/**", "src", "!secrets"),
            ("**", "src", "!*"),
            ("/etc/**", "src", "!*"),
            ("~/.ssh/**", "src", "!*"),
            ("**/**/x", "src", "!x"),
        ] {
            assert!(!below(pattern, folder, glob), "{pattern} {folder} {glob}");
        }
        assert!(Exclusion::new("!**/secrets/**").is_some_and(|e| !e.anchored()));
        assert!(Exclusion::new("!/**/secrets").is_some_and(|e| !e.anchored()));
    }

    #[test]
    fn a_long_exclusion_or_pattern_covers_nothing() {
        let long = "a/".repeat(40) + "b";
        assert!(!left_out(&long, &format!("!{long}")));
        assert!(!left_out(&format!("{long}/**"), "!*"));
    }

    #[test]
    fn a_hostile_pattern_takes_no_time() {
        let pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let text = "a".repeat(5_000);
        assert!(!Glob::new(pattern).matches_path(&text));
    }

    /// A path of many segments is judged in one pass: each folder of it was a new start (for a
    /// watch rule) or a new end (for a policy), and a path of 100,000 segments took 38 s.
    #[test]
    fn a_path_of_many_segments_takes_no_time() {
        let path = format!("{}x", "a/".repeat(200_000));
        let ((), took) = crate::cpu_time::of(|| {
            assert!(!Glob::new("**/production.env").matches_path(&path));
            assert!(!Glob::new("a/**/b").matches_path(&path));
            assert!(Glob::new("a/**/x").matches_path(&path));
            assert!(!Glob::new("b/**").matches(Some(&path), &path));
            assert!(Glob::new("a/a").matches(Some(&path), &path));
            assert!(!Glob::new("**/production.env").matches(Some(&path), &path));
        });
        assert!(took.as_secs() < 2, "took {took:?}");
    }

    /// The matchers as they were before they went through the path once, kept to check that
    /// the one pass reads patterns as they did.
    mod before {
        use super::super::{Glob, segment, segments};

        pub(super) fn matches_path(g: &Glob, path: &str) -> bool {
            if g.segments.is_empty() {
                return false;
            }
            let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            if g.anywhere {
                return path
                    .rsplit('/')
                    .next()
                    .is_some_and(|name| segment(&g.segments[0], name));
            }
            let pattern: Vec<&str> = g.segments.iter().map(String::as_str).collect();
            if g.absolute {
                return path.starts_with('/') && segments(&pattern, &parts);
            }
            (0..parts.len()).any(|skip| segments(&pattern, &parts[skip..]))
        }

        pub(super) fn matches(g: &Glob, relative: Option<&str>, absolute: &str) -> bool {
            if g.segments.is_empty() {
                return false;
            }
            let path = if g.absolute || (g.from_home && !g.anywhere) {
                absolute
            } else if let Some(rel) = relative {
                rel
            } else if !g.anchored && (g.anywhere || g.segments[0] == "**") {
                absolute
            } else {
                return false;
            };
            let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            if parts.is_empty() {
                return g.segments.iter().all(|s| s == "**");
            }
            if g.anywhere {
                return parts.iter().any(|p| segment(&g.segments[0], p));
            }
            let pattern: Vec<&str> = g.segments.iter().map(String::as_str).collect();
            (1..=parts.len()).any(|n| segments(&pattern, &parts[..n]))
        }

        /// `**` read as it is written: any number of segments, each tried.
        pub(super) fn segments_by_every_split(pattern: &[&str], path: &[&str]) -> bool {
            match pattern.split_first() {
                None => path.is_empty(),
                Some((&"**", rest)) => {
                    (0..=path.len()).any(|skip| segments_by_every_split(rest, &path[skip..]))
                }
                Some((p, rest)) => path
                    .split_first()
                    .is_some_and(|(t, tail)| segment(p, t) && segments_by_every_split(rest, tail)),
            }
        }
    }

    /// A small pattern or path of the segments given, joined by `/`, maybe from `/`.
    fn joined(
        parts: &'static [&'static str],
        most: usize,
    ) -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        (
            any::<bool>(),
            proptest::collection::vec(proptest::sample::select(parts), 0..most),
        )
            .prop_map(|(root, parts)| format!("{}{}", if root { "/" } else { "" }, parts.join("/")))
    }

    const PATTERN_PARTS: &[&str] = &["**", "*", "a", "b", "a*", "?", "[ab]", "*b", ".", "~"];
    const PATH_PARTS: &[&str] = &["a", "b", "ab", "ba", "c", "aa", ""];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4_000))]

        /// The one pass reads every pattern as matching from each folder did.
        #[test]
        fn one_pass_matches_as_before(
            pattern in joined(PATTERN_PARTS, 6),
            path in joined(PATH_PARTS, 7),
            relative in joined(PATH_PARTS, 5),
        ) {
            let g = Glob::new(&pattern);
            proptest::prop_assert_eq!(
                g.matches_path(&path), before::matches_path(&g, &path), "{} {}", pattern, path
            );
            for rel in [None, Some(relative.trim_start_matches('/'))] {
                proptest::prop_assert_eq!(
                    g.matches(rel, &path),
                    before::matches(&g, rel, &path),
                    "{} {:?} {}", pattern, rel, path
                );
            }
        }

        /// Going back to the last `**` only finds what trying every split of every `**` finds.
        #[test]
        fn segments_match_as_every_split_does(
            pattern in proptest::collection::vec(proptest::sample::select(PATTERN_PARTS), 0..7),
            path in proptest::collection::vec(proptest::sample::select(PATH_PARTS), 0..8),
        ) {
            proptest::prop_assert_eq!(
                super::segments(&pattern, &path),
                before::segments_by_every_split(&pattern, &path)
            );
        }
    }

    #[test]
    fn many_double_stars_take_no_time() {
        let pattern = "**/a/**/a/**/a/**/a/**/a/**/a/**/b";
        let path = "/a".repeat(2_000);
        assert!(!Glob::new(pattern).matches_path(&path));
        assert!(!Glob::new(pattern).matches(Some(&path[1..]), &path));
    }
}
