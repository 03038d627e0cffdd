//! The project folder a Gemini CLI chat ran in, which its chat does not always name: where
//! Gemini CLI keeps the chat says it (docs/agents.md section 9.2). A chat is kept in
//! `<gemini>/tmp/<id>/chats/` (a subagent's one folder deeper), `<id>` being the project's
//! short name in `<gemini>/projects.json` (`{"projects": {"/path": "slug"}}`) or, before Gemini
//! CLI moved to short names, the SHA-256 of the project's path, which every chat's header
//! holds too (`projectHash`). `import` of a chat, named or found by `--discover` and `--all`,
//! reads it here alike, so that the session has the folder its hooks would have recorded.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::agent_log::string;
use crate::model::sha256::sha256_hex;

/// The folder the chat at `path`, whose header is `header`, ran in: the first of the header's
/// `directories`, else the project Gemini CLI's index names for it, by the hash of its path
/// (the header's `projectHash`, or the chat's folder named by it) or by its short name (the
/// chat's folder). `None` when neither says, or the chat is not where Gemini CLI keeps chats.
pub fn folder(path: &Path, header: &Value) -> Option<String> {
    if let Some(dir) = header
        .get("directories")
        .and_then(Value::as_array)
        .and_then(|d| d.first())
        .and_then(Value::as_str)
    {
        return Some(dir.to_owned());
    }
    // A chat named by a relative path is where it is from here.
    let (gemini, id) = kept_in(&std::path::absolute(path).ok()?)?;
    let projects = projects(&gemini.join("projects.json"));
    let hashed = |hash: &str| {
        projects
            .iter()
            .find(|(folder, _)| sha256_hex(folder.as_bytes()) == hash)
    };
    string(header, "projectHash")
        .and_then(hashed)
        .or_else(|| projects.iter().find(|(_, slug)| *slug == id))
        .or_else(|| hashed(&id))
        .map(|(folder, _)| folder.clone())
}

/// The Gemini CLI folder (`~/.gemini`) that keeps the chat at `path`, and the name of its
/// project's folder in `tmp/`: `<gemini>/tmp/<id>/chats/<chat>`, or a subagent's
/// `<gemini>/tmp/<id>/chats/<session>/<chat>`.
fn kept_in(path: &Path) -> Option<(PathBuf, String)> {
    let named = |p: &Path, name: &str| p.file_name().is_some_and(|n| n == name);
    let mut chats = path.parent()?;
    if !named(chats, "chats") {
        chats = chats.parent().filter(|c| named(c, "chats"))?;
    }
    let project = chats.parent()?;
    let tmp = project.parent().filter(|t| named(t, "tmp"))?;
    let id = project.file_name()?.to_str()?.to_owned();
    Some((tmp.parent()?.to_path_buf(), id))
}

/// Gemini CLI's index of project folders: each folder and its short name. None when it cannot
/// be read, as a chat with no folder is imported without one.
fn projects(index: &Path) -> Vec<(String, String)> {
    let Ok(file) = crate::store::open_regular(index) else {
        return Vec::new();
    };
    let value: Value = serde_json::from_reader(std::io::BufReader::new(file)).unwrap_or_default();
    value
        .get("projects")
        .and_then(Value::as_object)
        .map(|projects| {
            projects
                .iter()
                .filter_map(|(folder, slug)| Some((folder.clone(), slug.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chat_is_kept_in_its_projects_folder_of_tmp() {
        let kept = |p: &str| kept_in(Path::new(p)).map(|(g, id)| (g.display().to_string(), id));
        let at = |g: &str, id: &str| Some((g.to_owned(), id.to_owned()));
        assert_eq!(
            kept("/h/.gemini/tmp/app/chats/session-1.jsonl"),
            at("/h/.gemini", "app")
        );
        assert_eq!(
            kept("/h/.gemini/tmp/app/chats/s1/agent.jsonl"),
            at("/h/.gemini", "app")
        );
        assert_eq!(kept("/h/.gemini/tmp/app/session-1.jsonl"), None);
        assert_eq!(kept("/h/.gemini/app/chats/session-1.jsonl"), None);
        assert_eq!(kept("session-1.jsonl"), None);
    }

    #[test]
    fn a_projects_folder_is_known_by_its_short_name_or_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let gemini = dir.path().join(".gemini");
        let index = serde_json::json!({"projects": {"/p/app": "app", "/p/old": "old"}});
        std::fs::create_dir_all(&gemini).unwrap();
        std::fs::write(gemini.join("projects.json"), index.to_string()).unwrap();
        let chat = |id: &str| gemini.join("tmp").join(id).join("chats/session-1.jsonl");
        let header = |hash: &str| serde_json::json!({"sessionId": "s", "projectHash": hash});
        let old = sha256_hex(b"/p/old");
        let at = |id: &str, header: &Value| folder(&chat(id), header);
        assert_eq!(at("app", &header("")).as_deref(), Some("/p/app"));
        assert_eq!(at(&old, &header("")).as_deref(), Some("/p/old"));
        // The header's hash says the project wherever the chat is kept.
        assert_eq!(at("app", &header(&old)).as_deref(), Some("/p/old"));
        assert_eq!(at(&"f".repeat(64), &header("")), None);
        let named = serde_json::json!({"projectHash": old, "directories": ["/p/here"]});
        assert_eq!(at("app", &named).as_deref(), Some("/p/here"));
    }
}
