//! Sessions and their subagents as a tree, from the parent links in their metadata.

use std::collections::HashMap;

use serde::Serialize;

use crate::model::SessionMeta;

/// One session in a tree, with its children in start order.
#[derive(Debug, Clone, Serialize)]
pub struct TreeNode {
    pub session_id: String,
    pub agent_name: String,
    pub command: String,
    pub parent_event_id: Option<String>,
    pub depth: usize,
    pub started_at: f64,
    pub duration_s: Option<f64>,
    pub tool_calls: u64,
    pub errors: u64,
    pub children: Vec<TreeNode>,
}

/// Parent links of many sessions, for finding any session's descendants.
pub struct Forest {
    metas: HashMap<String, SessionMeta>,
    children: HashMap<String, Vec<String>>,
}

impl Forest {
    pub fn new(metas: impl IntoIterator<Item = SessionMeta>) -> Self {
        let metas: HashMap<String, SessionMeta> = metas
            .into_iter()
            .map(|m| (m.session_id.clone(), m))
            .collect();
        let mut children: HashMap<String, Vec<String>> = HashMap::new();
        for meta in metas.values() {
            if let Some(parent) = &meta.parent_session_id {
                children
                    .entry(parent.clone())
                    .or_default()
                    .push(meta.session_id.clone());
            }
        }
        for list in children.values_mut() {
            list.sort_by(|a, b| {
                let start = |id: &String| metas.get(id).map_or(0.0, |m| m.started_at);
                start(a).total_cmp(&start(b)).then_with(|| a.cmp(b))
            });
        }
        Forest { metas, children }
    }

    /// The direct children of a session, in start order.
    pub fn children(&self, id: &str) -> &[String] {
        self.children.get(id).map_or(&[], Vec::as_slice)
    }

    pub fn meta(&self, id: &str) -> Option<&SessionMeta> {
        self.metas.get(id)
    }

    /// The session and every descendant, parents before children.
    pub fn descendants(&self, id: &str) -> Vec<String> {
        let mut out = vec![id.to_owned()];
        let mut i = 0;
        while i < out.len() {
            let next: Vec<String> = self.children(&out[i]).to_vec();
            for child in next {
                // A corrupt store could link a session to itself; never loop.
                if !out.contains(&child) {
                    out.push(child);
                }
            }
            i += 1;
        }
        out
    }

    /// The tree under `id`.
    pub fn tree(&self, id: &str) -> Option<TreeNode> {
        self.node(id, 0, &mut Vec::new())
    }

    fn node(&self, id: &str, depth: usize, path: &mut Vec<String>) -> Option<TreeNode> {
        let meta = self.metas.get(id)?;
        path.push(id.to_owned());
        let mut children = Vec::new();
        for child in self.children(id) {
            if path.contains(child) {
                continue;
            }
            children.extend(self.node(child, depth + 1, path));
        }
        path.pop();
        Some(TreeNode {
            session_id: id.to_owned(),
            agent_name: meta.agent_name.clone(),
            command: meta.command.clone(),
            parent_event_id: meta.parent_event_id.clone(),
            depth,
            started_at: meta.started_at,
            duration_s: meta.duration_secs(),
            tool_calls: meta.tool_calls,
            errors: meta.errors,
            children,
        })
    }
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
    fn descendants_come_parent_first_and_cycles_end() {
        let forest = Forest::new([
            meta("root", None, 0.0),
            meta("b", Some("root"), 2.0),
            meta("a", Some("root"), 1.0),
            meta("a1", Some("a"), 1.5),
            meta("loop", Some("loop"), 0.0),
        ]);
        assert_eq!(forest.descendants("root"), ["root", "a", "b", "a1"]);
        let tree = forest.tree("root").unwrap();
        assert_eq!(tree.children[0].children[0].session_id, "a1");
        assert_eq!(forest.descendants("loop"), ["loop"]);
        assert!(forest.tree("loop").unwrap().children.is_empty());
    }
}
