//! Sessions and their subagents as a tree, from the parent links in their metadata.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::model::meta::{Believed, Unbelievable};
pub use crate::model::parents::{head_positions, linked_through};
use crate::model::{Money, SessionMeta};

/// The fields of `meta.json` a [`TreeNode`] shows.
const TREE_FIELDS: [&str; 4] = ["started_at", "ended_at", "tool_calls", "errors"];
use crate::store::IndexedSession;

/// One session in a tree, at its depth below the tree's root (see [`Forest::tree`]).
#[derive(Debug, Clone, Serialize)]
pub struct TreeNode {
    pub session_id: String,
    pub agent_name: String,
    pub command: String,
    pub parent_event_id: Option<String>,
    pub depth: usize,
    /// Unknown for a figure no session can have (see [`SessionMeta::unbelievable`]).
    pub started_at: Believed<f64>,
    /// `None` while it runs.
    pub duration_s: Believed<Option<f64>>,
    pub tool_calls: Believed<u64>,
    pub errors: Believed<u64>,
    /// Which of its figures are unknown, for the warning a view gives.
    #[serde(skip)]
    pub doubts: Unbelievable,
}

/// Parent links of many sessions, for finding any session's descendants.
///
/// A session's children are those of its tree as `list` heads them ([`head_positions`]): a
/// session whose line of parents goes round a cycle heads its own tree, so no session of a
/// loop is another's subagent and none is counted in two trees.
pub struct Forest {
    metas: HashMap<String, SessionMeta>,
    children: HashMap<String, Vec<String>>,
    /// Sessions that cannot be read: they link their subagents into the tree, but no walk
    /// gives them (see [`Forest::leaving_out`]).
    left_out: HashSet<String>,
}

impl Forest {
    pub fn new(metas: impl IntoIterator<Item = SessionMeta>) -> Self {
        let metas: HashMap<String, SessionMeta> = metas
            .into_iter()
            .map(|m| (m.session_id.clone(), m))
            .collect();
        let links: Vec<(&str, Option<&str>)> = metas
            .values()
            .map(|m| (m.session_id.as_str(), m.parent_session_id.as_deref()))
            .collect();
        let heads = head_positions(&links);
        let mut children: HashMap<String, Vec<String>> = HashMap::new();
        for (i, (id, parent)) in links.iter().enumerate() {
            if let Some(parent) = parent
                && heads[i] != i
            {
                children
                    .entry((*parent).to_owned())
                    .or_default()
                    .push((*id).to_owned());
            }
        }
        for list in children.values_mut() {
            list.sort_by(|a, b| {
                let start = |id: &String| metas.get(id).map_or(0.0, |m| m.started_at);
                start(a).total_cmp(&start(b)).then_with(|| a.cmp(b))
            });
        }
        Forest {
            metas,
            children,
            left_out: HashSet::new(),
        }
    }

    /// The forest with `ids` left out of every walk and tree: a session that cannot be read
    /// is no part of any figure, but the subagents below it are still in its root's tree (at
    /// their depth), so every view counts the same sessions of it.
    #[must_use]
    pub fn leaving_out(mut self, ids: impl IntoIterator<Item = String>) -> Self {
        self.left_out.extend(ids);
        self
    }

    /// Whether it holds no session.
    pub fn is_empty(&self) -> bool {
        self.metas.is_empty()
    }

    /// The direct children of a session, in start order, those left out among them.
    fn linked(&self, id: &str) -> &[String] {
        self.children.get(id).map_or(&[], Vec::as_slice)
    }

    /// The direct children of a session that are not left out, in start order.
    pub fn children<'a>(&'a self, id: &str) -> impl DoubleEndedIterator<Item = &'a String> + 'a {
        self.linked(id)
            .iter()
            .filter(|c| !self.left_out.contains(c.as_str()))
    }

    /// The sessions right below `id` in every view of its tree: its children, and in place of
    /// each one left out those below it (and so on), each with how many levels below `id` it
    /// is (1 for a child), depth first in start order.
    pub fn below(&self, id: &str) -> Vec<(&String, usize)> {
        let mut out = Vec::new();
        let mut todo: Vec<(&String, usize)> =
            self.linked(id).iter().rev().map(|c| (c, 1)).collect();
        let mut seen: HashSet<&str> = HashSet::from([id]);
        while let Some((child, levels)) = todo.pop() {
            if !seen.insert(child.as_str()) {
                continue;
            }
            if self.left_out.contains(child.as_str()) {
                todo.extend(self.linked(child).iter().rev().map(|c| (c, levels + 1)));
            } else {
                out.push((child, levels));
            }
        }
        out
    }

    pub fn meta(&self, id: &str) -> Option<&SessionMeta> {
        self.metas.get(id)
    }

    /// Offers each subagent below `id` to `keep`, depth first in start order, with the place
    /// of its parent among those kept (0 for `id`, then 1, 2 … in the order kept); a subagent
    /// not kept is left out with all below it. One the forest leaves out is not offered, and
    /// those below it are, with its parent's place. The walk keeps its own stack, so a chain
    /// of thousands of subagents never overflows the thread's.
    pub fn walk_below<'a>(&'a self, id: &str, mut keep: impl FnMut(&'a str, usize) -> bool) {
        let mut kept = 0;
        let below = |children: &'a [String], place: usize| {
            children.iter().rev().map(move |c| (place, c.as_str()))
        };
        let mut todo: Vec<(usize, &str)> = below(self.linked(id), 0).collect();
        let mut seen: HashSet<&str> = HashSet::from([id]);
        while let Some((parent, child)) = todo.pop() {
            if !seen.insert(child) {
                continue;
            }
            if self.left_out.contains(child) {
                todo.extend(below(self.linked(child), parent));
            } else if keep(child, parent) {
                kept += 1;
                todo.extend(below(self.linked(child), kept));
            }
        }
    }

    /// The session and every descendant, parents before children, those left out not among
    /// them (those below them are).
    pub fn descendants(&self, id: &str) -> Vec<String> {
        reachable(id, |at| self.linked(at).iter().map(String::as_str))
            .into_iter()
            .filter(|at| *at == id || !self.left_out.contains(*at))
            .map(str::to_owned)
            .collect()
    }

    /// The tree under `id`, flat: each session once, parents before their children and each
    /// child's own tree right after it (the order an indented view draws it in), with its
    /// depth below `id`; one left out is not among them, those below it are, at their depth.
    /// The walk keeps its own stack, so a chain of subagents as deep as a
    /// store can make (10,000, a loop) ends and never overflows the thread's stack.
    pub fn tree(&self, id: &str) -> Vec<TreeNode> {
        let mut out = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut stack: Vec<(&str, usize)> = vec![(id, 0)];
        while let Some((at, depth)) = stack.pop() {
            let Some(meta) = self.metas.get(at) else {
                continue;
            };
            if !seen.insert(at) {
                continue;
            }
            if at == id || !self.left_out.contains(at) {
                out.push(node(at, meta, depth));
            }
            // Pushed last first, so that they come out in start order.
            for child in self.linked(at).iter().rev() {
                if !seen.contains(child.as_str()) {
                    stack.push((child, depth + 1));
                }
            }
        }
        out
    }
}

/// `root` with `below` nested in it: each of `below` goes among the `children` of its parent,
/// given by its place (0 for `root`, `n` for the `n`th of `below`), in the order of `below`,
/// where parents come before their children. Nothing recurses, so a chain of subagents
/// thousands deep is nested without overflowing the thread's stack: from the last up, each
/// is moved under its parent once its own children are under it.
pub fn nest<T>(
    mut root: T,
    mut below: Vec<(T, usize)>,
    children: impl Fn(&mut T) -> &mut Vec<T>,
) -> T {
    while let Some((mut node, parent)) = below.pop() {
        children(&mut node).reverse();
        match parent.checked_sub(1) {
            Some(at) => children(&mut below[at].0).push(node),
            None => children(&mut root).push(node),
        }
    }
    children(&mut root).reverse();
    root
}

/// What the tree shows of session `id`.
fn node(id: &str, meta: &SessionMeta, depth: usize) -> TreeNode {
    let doubts = meta.unbelievable().only(&TREE_FIELDS);
    TreeNode {
        session_id: id.to_owned(),
        agent_name: meta.agent_name.clone(),
        command: meta.command.clone(),
        parent_event_id: meta.parent_event_id.clone(),
        depth,
        started_at: doubts.figure("started_at", meta.started_at),
        duration_s: if meta.ended_at.is_none() {
            Believed::default()
        } else {
            meta.duration_figure(&doubts, meta.duration_secs())
        },
        tool_calls: doubts.figure("tool_calls", meta.tool_calls),
        errors: doubts.figure("errors", meta.errors),
        doubts,
    }
}

/// `start` and every node below it by `children`, each once, parents before children: a
/// corrupt store could link a session to itself or make a cycle, and the walk must end.
pub fn reachable<T, I>(start: T, children: impl Fn(T) -> I) -> Vec<T>
where
    T: Copy + Eq + std::hash::Hash,
    I: IntoIterator<Item = T>,
{
    let mut out = vec![start];
    // Most sessions have no subagents: the set is made (and allocates) at the first child.
    let mut seen: HashSet<T> = HashSet::new();
    let mut next = 0;
    while next < out.len() {
        for child in children(out[next]) {
            if seen.is_empty() {
                seen.insert(start);
            }
            if seen.insert(child) {
                out.push(child);
            }
        }
        next += 1;
    }
    out
}

/// Whether each session heads a tree of `sessions` (in their order): it has no parent, or its
/// line of parents never reaches a session without one (a parent not in the store, a session
/// its own parent, a cycle a corrupt store made). `list` shows these, so that no session is
/// hidden under a parent that is not there to show it.
///
/// A session below one of `left_out` (those the listing could not read) is in the tree of
/// the first session above it that could be read ([`linked_through`]).
pub fn heads(sessions: &[IndexedSession], left_out: &[SessionMeta]) -> Vec<bool> {
    let metas: Vec<&SessionMeta> = sessions.iter().map(|s| &s.summary.meta).collect();
    crate::model::parents::heads_through(&metas, left_out)
}

/// Each session's id and its parent's.
fn links_of(sessions: &[IndexedSession]) -> Vec<(&str, Option<&str>)> {
    sessions
        .iter()
        .map(|s| {
            let meta = &s.summary.meta;
            (meta.session_id.as_str(), meta.parent_session_id.as_deref())
        })
        .collect()
}

/// The sessions of each tree, by position: for a session heading one (see [`head_positions`]),
/// itself and every session of its tree, parents before children; for any other, nothing.
/// Every session is in exactly one tree, so sums over trees count each session once, cycles
/// and parents not in the store included.
pub fn tree_members(links: &[(&str, Option<&str>)]) -> Vec<Vec<usize>> {
    let heads = head_positions(links);
    let children = same_tree_children(links, &heads);
    heads
        .iter()
        .enumerate()
        .map(|(i, &head)| {
            if head != i {
                return Vec::new();
            }
            reachable(i, |at| {
                children
                    .get(&at)
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    .copied()
            })
        })
        .collect()
}

/// Each session's children of its own tree (a child heading a tree of its own, in a cycle, is
/// not one), by position.
pub fn same_tree_children(
    links: &[(&str, Option<&str>)],
    heads: &[usize],
) -> HashMap<usize, Vec<usize>> {
    let position: HashMap<&str, usize> = links
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, (_, parent)) in links.iter().enumerate() {
        if heads[i] != i
            && let Some(&p) = parent.and_then(|p| position.get(p))
        {
            children.entry(p).or_default().push(i);
        }
    }
    children
}

/// A session's cost with its subagents' (and theirs).
#[derive(Debug, Clone, PartialEq)]
pub struct TreeCost<'a> {
    pub cost: Money,
    /// Some of it is estimated from payload sizes (no usage was recorded).
    pub estimated: bool,
    /// Models whose usage has no known price, counted at $0, in name order: the cost leaves
    /// their usage out.
    pub unpriced: Vec<&'a str>,
    /// Responses whose usage holds a count no response can have: the cost leaves them out.
    pub unbelieved_usage: u64,
}

impl<'a> TreeCost<'a> {
    fn own(session: &'a IndexedSession) -> Option<TreeCost<'a>> {
        let (cost, estimated) = session.cost?;
        Some(TreeCost {
            cost,
            estimated,
            unpriced: session.unpriced.iter().map(String::as_str).collect(),
            unbelieved_usage: session.unbelieved_usage,
        })
    }

    fn add(mut self, other: TreeCost<'a>) -> TreeCost<'a> {
        self.cost += other.cost;
        self.estimated |= other.estimated;
        self.unbelieved_usage = self.unbelieved_usage.saturating_add(other.unbelieved_usage);
        for model in other.unpriced {
            if let Err(at) = self.unpriced.binary_search(&model) {
                self.unpriced.insert(at, model);
            }
        }
        self
    }
}

/// Each session's cost with its subagents' (and theirs), whether any of it is estimated and
/// which models it counts at $0 for want of a price, in the order of `sessions`; `None` for
/// sessions the index did not cost.
///
/// A session's subagents are those of its tree (see [`tree_members`]): a session in a cycle
/// heads its own, so no cost is counted in two listed sessions. A session below one of
/// `left_out` (those the listing could not read, which count nothing) counts in the tree of the
/// first session above it that could be read ([`linked_through`]). The sums are made once,
/// children before parents, so a chain of 10,000 subagents costs 10,000 additions.
pub fn costs_with_subagents<'a>(
    sessions: &'a [IndexedSession],
    left_out: &[SessionMeta],
) -> Vec<Option<TreeCost<'a>>> {
    if sessions
        .iter()
        .all(|s| s.summary.meta.parent_session_id.is_none())
    {
        return sessions.iter().map(TreeCost::own).collect();
    }
    let links = linked_through(&links_of(sessions), left_out);
    let heads = head_positions(&links);
    let children = same_tree_children(&links, &heads);
    // What each session's tree below it costs, its own included even when it has none.
    let mut sums: Vec<Option<TreeCost<'_>>> = sessions.iter().map(TreeCost::own).collect();
    for (head, _) in heads.iter().enumerate().filter(|(i, h)| *i == **h) {
        if !children.contains_key(&head) {
            continue;
        }
        let order = reachable(head, |at| {
            children
                .get(&at)
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .copied()
        });
        for &at in order.iter().rev() {
            for &child in children.get(&at).map_or(&[][..], Vec::as_slice) {
                if let Some(below) = sums[child].clone() {
                    sums[at] = Some(match sums[at].take() {
                        Some(sum) => sum.add(below),
                        None => below,
                    });
                }
            }
        }
    }
    sessions
        .iter()
        .zip(sums)
        .map(|(s, sum)| s.cost.and(sum))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: &str, parent: Option<&str>, started: f64) -> SessionMeta {
        let mut m = SessionMeta::new(id, started);
        m.parent_session_id = parent.map(Into::into);
        m
    }

    #[test]
    fn reachable_takes_each_node_once_breadth_first_even_round_a_cycle() {
        let edges: HashMap<u8, Vec<u8>> = HashMap::from([
            (1, vec![2, 3]),
            (2, vec![4, 1]),
            (3, vec![4]),
            (4, vec![3, 2]),
        ]);
        let got = reachable(1, |at| edges.get(&at).cloned().unwrap_or_default());
        assert_eq!(got, vec![1, 2, 3, 4]);
        assert_eq!(reachable(9, |_| Vec::new()), vec![9]);
    }

    #[test]
    fn descendants_come_parent_first_and_cycles_end() {
        let forest = Forest::new([
            meta("root", None, 0.0),
            meta("b", Some("root"), 2.0),
            meta("a", Some("root"), 1.0),
            meta("a1", Some("a"), 1.5),
            meta("loop", Some("loop"), 0.0),
            meta("loop-a", Some("loop-b"), 0.0),
            meta("loop-b", Some("loop-a"), 0.0),
            meta("below-loop", Some("loop-a"), 0.0),
        ]);
        assert_eq!(forest.descendants("root"), ["root", "a", "b", "a1"]);
        // Each session of a loop heads its own tree, as `list` heads them.
        for id in ["loop-a", "loop-b", "below-loop"] {
            assert_eq!(forest.descendants(id), [id]);
        }
        let tree: Vec<(String, usize)> = forest
            .tree("root")
            .into_iter()
            .map(|n| (n.session_id, n.depth))
            .collect();
        let expected = [("root", 0), ("a", 1), ("a1", 2), ("b", 1)];
        assert_eq!(tree, expected.map(|(id, depth)| (id.to_owned(), depth)));
        assert_eq!(forest.descendants("loop"), ["loop"]);
        assert_eq!(forest.tree("loop").len(), 1);
        assert!(forest.tree("nothing").is_empty());
    }

    #[test]
    fn a_session_left_out_links_those_below_it_into_its_roots_tree() {
        let forest = Forest::new([
            meta("root", None, 0.0),
            meta("mid", Some("root"), 1.0),
            meta("leaf", Some("mid"), 2.0),
            meta("other", Some("root"), 3.0),
        ])
        .leaving_out(["mid".to_owned()]);
        assert_eq!(forest.descendants("root"), ["root", "other", "leaf"]);
        let tree: Vec<(String, usize)> = forest
            .tree("root")
            .into_iter()
            .map(|n| (n.session_id, n.depth))
            .collect();
        let expected = [("root", 0), ("leaf", 2), ("other", 1)];
        assert_eq!(tree, expected.map(|(id, depth)| (id.to_owned(), depth)));
        let mut walked = Vec::new();
        forest.walk_below("root", |child, parent| {
            walked.push((child, parent));
            true
        });
        assert_eq!(walked, [("leaf", 0), ("other", 0)]);
        assert_eq!(forest.children("root").collect::<Vec<_>>(), ["other"]);
        let below: Vec<(&str, usize)> = forest
            .below("root")
            .into_iter()
            .map(|(id, levels)| (id.as_str(), levels))
            .collect();
        assert_eq!(below, [("leaf", 2), ("other", 1)]);
    }

    fn indexed(id: &str, parent: Option<&str>, cost: Option<(u64, bool)>) -> IndexedSession {
        IndexedSession {
            summary: crate::store::SessionSummary {
                meta: meta(id, parent, 0.0),
                counters: None,
                meta_error: None,
                rejections: 0,
                turn_errors: 0,
            },
            first_prompt: None,
            transcript_path: None,
            cost: cost.map(|(c, estimated)| (Money(u128::from(c)), estimated)),
            unpriced: Vec::new(),
            unbelieved_usage: 0,
        }
    }

    #[test]
    fn a_cost_with_subagents_adds_every_descendant_once() {
        let sessions = [
            indexed("root", None, Some((100, false))),
            indexed("a", Some("root"), Some((20, false))),
            indexed("a1", Some("a"), Some((3, true))),
            indexed("b", Some("root"), None),
            indexed("alone", None, Some((7, false))),
            indexed("loop", Some("loop"), Some((5, false))),
            indexed("uncosted", None, None),
        ];
        let costs = costs_with_subagents(&sessions, &[]);
        let cost = |i: usize| costs[i].as_ref().map(|c| (c.cost.0, c.estimated));
        assert_eq!(cost(0), Some((123, true)), "root: its own, a's, a1's");
        assert_eq!(cost(1), Some((23, true)), "a: its own and a1's");
        assert_eq!(cost(2), Some((3, true)));
        assert_eq!(cost(3), None);
        assert_eq!(cost(4), Some((7, false)));
        assert_eq!(
            cost(5),
            Some((5, false)),
            "a session its own parent counts once"
        );
        assert_eq!(cost(6), None);
    }

    #[test]
    fn a_cost_with_subagents_names_every_unpriced_model_once() {
        let mut sessions = [
            indexed("root", None, Some((100, false))),
            indexed("a", Some("root"), Some((0, false))),
            indexed("b", Some("root"), Some((0, false))),
        ];
        sessions[1].unpriced = vec!["aide-gpt-5".into(), "zeta".into()];
        sessions[2].unpriced = vec!["aide-gpt-5".into(), "alpha".into()];
        let costs = costs_with_subagents(&sessions, &[]);
        assert_eq!(
            costs[0].as_ref().unwrap().unpriced,
            ["aide-gpt-5", "alpha", "zeta"]
        );
        assert_eq!(costs[2].as_ref().unwrap().unpriced, ["aide-gpt-5", "alpha"]);
    }
}
