//! Which session heads the tree of each, from the parent links in their metadata: the one rule
//! `list`, the latest session, `compare --tag` and every view of a tree follow.
//!
//! A session heads its own tree when it has no parent, when its parent is not among the
//! sessions (an orphan: the parent was deleted, or never recorded), or when its line of parents
//! goes round a loop (a session its own parent, a cycle a corrupt store made): so no session is
//! hidden under a parent that is not there to show it, and none is counted in two trees.

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

/// Whether each of `metas` heads its tree of them (see [`head_positions`]), in their order.
pub fn heads(metas: &[&SessionMeta]) -> Vec<bool> {
    if metas.iter().all(|m| m.parent_session_id.is_none()) {
        return vec![true; metas.len()];
    }
    let links: Vec<(&str, Option<&str>)> = metas
        .iter()
        .map(|m| (m.session_id.as_str(), m.parent_session_id.as_deref()))
        .collect();
    head_positions(&links)
        .into_iter()
        .enumerate()
        .map(|(i, head)| head == i)
        .collect()
}
