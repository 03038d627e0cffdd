//! Which session heads the tree of each, from the parent links in their metadata: the one rule
//! `list`, the latest session, `compare --tag` and every view of a tree follow.
//!
//! A session heads its own tree when it has no parent, when its parent is not among the
//! sessions (an orphan: the parent was deleted, or never recorded), or when its line of parents
//! goes round a loop (a session its own parent, a cycle a corrupt store made): so no session is
//! hidden under a parent that is not there to show it, and none is counted in two trees.
//!
//! A session that cannot be read (its events a FIFO, a folder) is no part of any tree, but
//! when its metadata says where it belongs it links the sessions below it into its root's
//! tree ([`linked_through`]): only it is left out, never what it spawned.

use std::collections::HashMap;

use super::SessionMeta;

/// For each session, given as its id and its parent's, the position of the session heading
/// its tree, as `list` heads them: up the line of parents to the last one in `links`; a
/// session whose line goes round a cycle heads its own.
///
/// Each line is walked once: what a walk finds holds for every session it passed, so a chain
/// of 10,000 subagents costs 10,000 steps, not 50 million.
pub fn head_positions(links: &[(&str, Option<&str>)]) -> Vec<usize> {
    /// What is known of a session's head.
    #[derive(Clone, Copy)]
    enum Head {
        Unknown,
        /// On the line being walked now.
        Walking,
        /// Its line goes round a cycle: it heads its own tree.
        Cycle,
        Found(usize),
    }
    let position: HashMap<&str, usize> = links
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let mut heads = vec![Head::Unknown; links.len()];
    let mut line = Vec::new();
    for i in 0..links.len() {
        let mut at = i;
        let found = loop {
            match heads[at] {
                Head::Found(head) => break Some(head),
                Head::Cycle | Head::Walking => break None,
                Head::Unknown => {}
            }
            heads[at] = Head::Walking;
            line.push(at);
            match links[at].1.and_then(|parent| position.get(parent)) {
                Some(&p) if p != at => at = p,
                _ => break Some(at),
            }
        };
        for passed in line.drain(..) {
            heads[passed] = found.map_or(Head::Cycle, Head::Found);
        }
    }
    heads
        .iter()
        .enumerate()
        .map(|(i, head)| match head {
            Head::Found(head) => *head,
            _ => i,
        })
        .collect()
}

/// `links` (each session's id and its parent's) with each parent that is one of `left_out`,
/// the sessions that could not be read, replaced by the first session above it that is not:
/// so a session below an unreadable one is in the tree of the root above that one, as every
/// view of a tree counts it. A line of parents that ends among them, or goes round a loop of
/// them, leaves the session with no parent: it heads its own tree. A session that is both in
/// `links` and in `left_out` is taken as in `links`.
///
/// Each line through them is walked once, so a chain of 10,000 that cannot be read costs
/// 10,000 steps, not 50 million.
pub fn linked_through<'a>(
    links: &[(&'a str, Option<&'a str>)],
    left_out: &'a [SessionMeta],
) -> Vec<(&'a str, Option<&'a str>)> {
    if left_out.is_empty() {
        return links.to_vec();
    }
    let linked: std::collections::HashSet<&str> = links.iter().map(|(id, _)| *id).collect();
    let mut above: Unread<'a> = left_out
        .iter()
        .filter(|m| !linked.contains(m.session_id.as_str()))
        .map(|m| {
            let parent = m.parent_session_id.as_deref();
            (m.session_id.as_str(), (parent, Above::Unknown))
        })
        .collect();
    let mut line = Vec::new();
    let mut out = Vec::with_capacity(links.len());
    for &(id, parent) in links {
        match parent {
            Some(p) if above.contains_key(p) => out.push((id, come_out(&mut above, &mut line, p))),
            _ => out.push((id, parent)),
        }
    }
    out
}

/// Where the line of parents above a session that could not be read comes out.
#[derive(Clone, Copy)]
enum Above<'a> {
    Unknown,
    /// On the line being walked now.
    Walking,
    /// At this session (none: the line ended, or looped, among those that could not be read).
    Found(Option<&'a str>),
}

/// The sessions that could not be read, by id: each one's parent, and where its line comes out.
type Unread<'a> = HashMap<&'a str, (Option<&'a str>, Above<'a>)>;

/// The first session above `start` (one of `unread`, itself included) that is not one of them,
/// remembered for every one passed; `line` is room for the walk.
fn come_out<'a>(
    unread: &mut Unread<'a>,
    line: &mut Vec<&'a str>,
    start: &'a str,
) -> Option<&'a str> {
    let mut at = start;
    let found = loop {
        let Some(entry) = unread.get_mut(at) else {
            break Some(at);
        };
        let parent = entry.0;
        match entry.1 {
            Above::Found(found) => break found,
            Above::Walking => break None,
            Above::Unknown => entry.1 = Above::Walking,
        }
        line.push(at);
        match parent {
            Some(parent) => at = parent,
            None => break None,
        }
    };
    for passed in line.drain(..) {
        if let Some(entry) = unread.get_mut(passed) {
            entry.1 = Above::Found(found);
        }
    }
    found
}

/// Whether each of `metas` heads its tree of them (see [`head_positions`]), in their order.
pub fn heads(metas: &[&SessionMeta]) -> Vec<bool> {
    heads_through(metas, &[])
}

/// Whether each of `metas` heads its tree of them, a session below one of `left_out` (the
/// sessions that could not be read) being in the tree above that one ([`linked_through`]).
pub fn heads_through(metas: &[&SessionMeta], left_out: &[SessionMeta]) -> Vec<bool> {
    if metas.iter().all(|m| m.parent_session_id.is_none()) {
        return vec![true; metas.len()];
    }
    let links: Vec<(&str, Option<&str>)> = metas
        .iter()
        .map(|m| (m.session_id.as_str(), m.parent_session_id.as_deref()))
        .collect();
    head_positions(&linked_through(&links, left_out))
        .into_iter()
        .enumerate()
        .map(|(i, head)| head == i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str, parent: Option<&str>) -> SessionMeta {
        let mut m = SessionMeta::new(id, 1.0);
        m.parent_session_id = parent.map(Into::into);
        m
    }

    #[test]
    fn a_session_below_ones_that_cannot_be_read_is_linked_to_the_first_above_them() {
        let left_out = [
            meta("mid", Some("top")),
            meta("low", Some("mid")),
            meta("lost", None),
            meta("gone", Some("nowhere")),
            meta("ring-a", Some("ring-b")),
            meta("ring-b", Some("ring-a")),
            // Listed too: taken as listed.
            meta("both", Some("lost")),
        ];
        let links = [
            ("top", None),
            ("leaf", Some("low")),
            ("under-lost", Some("lost")),
            ("under-gone", Some("gone")),
            ("in-ring", Some("ring-a")),
            ("both", None),
            ("under-both", Some("both")),
            ("plain", Some("top")),
        ];
        let linked = linked_through(&links, &left_out);
        let parents: Vec<Option<&str>> = linked.iter().map(|(_, p)| *p).collect();
        assert_eq!(
            parents,
            [
                None,
                Some("top"),
                None,
                Some("nowhere"),
                None,
                None,
                Some("both"),
                Some("top")
            ]
        );
        let heads = head_positions(&linked);
        assert_eq!(heads[1], 0, "leaf is in top's tree");
        assert_eq!(heads[3], 3, "under-gone is an orphan");
    }

    #[test]
    fn a_chain_of_ten_thousand_that_cannot_be_read_is_walked_once() {
        let mut left_out = vec![meta("u0", Some("root"))];
        left_out.extend((1..10_000).map(|i| meta(&format!("u{i}"), Some(&format!("u{}", i - 1)))));
        let names: Vec<String> = (0..10_000).map(|i| format!("leaf{i}")).collect();
        let parents: Vec<String> = (0..10_000).map(|i| format!("u{i}")).collect();
        let mut links: Vec<(&str, Option<&str>)> = vec![("root", None)];
        links.extend(
            names
                .iter()
                .zip(&parents)
                .map(|(n, p)| (n.as_str(), Some(p.as_str()))),
        );
        let linked = linked_through(&links, &left_out);
        assert!(linked[1..].iter().all(|(_, p)| *p == Some("root")));
    }
}
