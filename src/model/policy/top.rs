//! Where a path git takes from its repository's top is (`git show HEAD:secrets/k`, `git
//! cat-file -p :secrets/k`): the top is the nearest folder up from where git runs that holds a
//! repository, which the line does not say, so the path is judged from each folder it may be.

use super::check::{Place, absolute, below};
use super::cwd::cd_into;

/// At most this many folders up from where git runs are taken for its top.
const MAX_UP: usize = 32;

/// The paths `path`, named from the top of the repository git runs in, may be, for git run in
/// `start` (a folder from where the line started, as a `cd` or `git -C` left it): from `start`
/// itself, and from each folder above it up to the outermost of the place's roots (the
/// policy's folder, the agent's) or the folder the agent was started in that holds it
/// (`../path`, `../../path` …): the policy is found as git finds its top, from where it runs
/// up, and a repository's top is seldom above its project. From a root that neither holds
/// `start` nor is below it too (a policy found elsewhere): every one of them is judged, and the
/// stricter wins.
/// A folder the line does not name (`$X`) is any folder already.
pub(super) fn from_top(start: &str, path: &str, place: Option<&Place>) -> Vec<String> {
    let here = cd_into(start, path);
    let Some(place) = place.filter(|_| !start.starts_with(['$', '~'])) else {
        return vec![here];
    };
    let at = absolute(
        if start.is_empty() { "." } else { start },
        place.cwd.as_deref(),
    );
    let mut up = 0;
    let mut elsewhere = Vec::new();
    for root in place.roots.iter().chain(&place.launch) {
        match below(&at, root) {
            Some(rest) => up = up.max(rest.split('/').filter(|s| !s.is_empty()).count()),
            // A root below where git runs is no top of it.
            None if below(root, &at).is_some() => {}
            None => elsewhere.push(format!("{}/{path}", root.trim_end_matches('/'))),
        }
    }
    let mut out = vec![here];
    for up in 1..=up.min(MAX_UP) {
        out.push(cd_into(start, &format!("{}{path}", "../".repeat(up))));
    }
    out.extend(elsewhere);
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(cwd: &str, roots: &[&str]) -> Place {
        Place {
            cwd: Some(cwd.to_owned()),
            roots: roots.iter().map(|r| (*r).to_owned()).collect(),
            ..Place::default()
        }
    }

    #[test]
    fn a_path_from_the_top_is_judged_from_each_folder_up_to_the_project() {
        let in_src = place("/p/src", &["/p", "/p/src"]);
        assert_eq!(from_top("", "k", Some(&in_src)), ["k", "../k"]);
        assert_eq!(
            from_top("a/b", "k", Some(&in_src)),
            ["a/b/k", "a/k", "k", "../k"]
        );
        assert_eq!(from_top("..", "k", Some(&in_src)), ["../k"]);
        // At the project's top, or with no place: where git runs.
        let at_top = place("/p", &["/p", "/p"]);
        assert_eq!(from_top("", "k", Some(&at_top)), ["k"]);
        assert_eq!(from_top("src", "k", Some(&at_top)), ["src/k", "k"]);
        assert_eq!(from_top("src", "k", None), ["src/k"]);
        // A project elsewhere: from where git runs and from the project.
        assert_eq!(
            from_top("", "k", Some(&place("/q", &["/p", "/q"]))),
            ["k", "/p/k"]
        );
        assert_eq!(from_top("$X", "k", Some(&in_src)), ["$X/k"]);
    }
}
