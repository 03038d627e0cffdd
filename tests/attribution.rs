//! Attribution (issue 12): a session records who started it and where (user, host, folder, git
//! repository, branch and commit, agent, model, the agent's process) when it starts, and
//! `show` prints it; the Python tool still reads such a session.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::common::TestEnv;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A repository in `dir` with one commit on `main`, a remote whose URL holds a token, and the
/// branch `feature` checked out. Returns the commit.
fn repository(dir: &Path) -> String {
    git(dir, &["init", "-q", "-b", "main"]);
    git(
        dir,
        &[
            "remote",
            "add",
            "origin",
            "https://someone:ghp_SECRET123@github.com/acme/widgets.git",
        ],
    );
    std::fs::write(dir.join("README"), "hello\n").unwrap();
    git(dir, &["add", "README"]);
    git(dir, &["commit", "-q", "-m", "first"]);
    git(dir, &["checkout", "-q", "-b", "feature"]);
    git(dir, &["rev-parse", "HEAD"])
}

fn start(env: &TestEnv, session: &str, cwd: &Path) {
    let payload = json!({
        "session_id": session,
        "hook_event_name": "SessionStart",
        "source": "startup",
        "model": "claude-opus-4-5",
        "cwd": cwd.to_string_lossy(),
    });
    let mut cmd = env.command(&["hook", "session-start"]);
    cmd.env("USER", "alice").env("AGENT_TRACE_DIR", env.store());
    let run = crate::common::run_with_stdin(cmd, payload.to_string().as_bytes());
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.is_empty() && run.stderr.is_empty(), "{run:?}");
}

#[test]
fn a_hook_session_start_in_a_git_repository_records_who_and_where_and_show_prints_it() {
    let env = TestEnv::new();
    let commit = repository(env.path());
    start(&env, "attributed-1", env.path());

    let meta = env.meta("attributed-1");
    let attribution = &meta["attribution"];
    assert_eq!(attribution["os_user"], "alice");
    assert_eq!(attribution["git_branch"], "feature");
    assert_eq!(attribution["git_commit"], commit.as_str());
    assert_eq!(
        attribution["git_repo"],
        "https://github.com/acme/widgets.git"
    );
    assert_eq!(attribution["working_dir"], env.path().to_str().unwrap());
    assert_eq!(attribution["agent_provider"], "claude-code");
    assert_eq!(attribution["model"], "claude-opus-4-5");
    assert!(!attribution["hostname"].as_str().unwrap_or("").is_empty());
    // The token never reaches the store.
    let whole = std::fs::read_to_string(env.store().join("attributed-1/meta.json")).unwrap();
    assert!(!whole.contains("SECRET"), "{whole}");

    let shown = env.run(&["show", "attributed-1", "--format", "json"]);
    shown.success();
    let shown = shown.json();
    assert_eq!(shown["session_id"], "attributed-1");
    assert_eq!(shown["agent"], "claude-code");
    assert_eq!(shown["model"], "claude-opus-4-5");
    assert_eq!(shown["attribution"]["git_branch"], "feature");
    assert_eq!(shown["attribution"]["git_commit"], commit.as_str());
    assert!(shown["started_at"].as_f64().unwrap() > 0.0);
    // The agent's process is the one `watch` uses, recorded once in the session start.
    let start = &env.events("attributed-1")[0];
    assert_eq!(shown["process"]["pid"], start["data"]["agent_pid"]);
    assert_eq!(shown["process"]["started"], start["data"]["agent_started"]);

    let text = env.run(&["show", "attributed-1"]);
    text.success();
    assert!(
        text.stdout.contains(&format!("feature at {commit}")),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("alice@"), "{}", text.stdout);
    assert!(
        text.stdout.contains("https://github.com/acme/widgets.git"),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains("SECRET"));
}

#[test]
fn a_linked_worktree_with_packed_refs_and_a_detached_head_are_read_without_git() {
    let env = TestEnv::new();
    let repo = env.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let commit = repository(&repo);
    // Refs only in packed-refs; a worktree whose .git is a file pointing into the main repo.
    git(&repo, &["pack-refs", "--all"]);
    let tree = env.path().join("tree");
    git(
        &repo,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "side",
            tree.to_str().unwrap(),
        ],
    );
    start(&env, "in-worktree", &tree);
    git(&repo, &["checkout", "-q", "--detach"]);
    start(&env, "detached", &repo);

    let meta = env.meta("in-worktree");
    assert_eq!(meta["attribution"]["git_branch"], "side");
    assert_eq!(meta["attribution"]["git_commit"], commit.as_str());
    assert_eq!(
        meta["attribution"]["git_repo"],
        "https://github.com/acme/widgets.git"
    );
    let meta = env.meta("detached");
    assert!(meta["attribution"].get("git_branch").is_none(), "{meta}");
    assert_eq!(meta["attribution"]["git_commit"], commit.as_str());
}

#[test]
fn outside_a_repository_there_is_no_git_and_an_older_session_shows_what_it_has() {
    let env = TestEnv::new();
    start(&env, "no-git", env.path());
    let meta = env.meta("no-git");
    assert!(meta["attribution"].get("git_commit").is_none(), "{meta}");
    assert_eq!(meta["attribution"]["os_user"], "alice");

    // A session written before attribution existed: no `attribution` at all.
    crate::common::session::SessionBuilder::new("older")
        .started(1_700_000_000.0)
        .write(&env);
    let shown = env.run(&["show", "older", "--format", "json"]);
    shown.success();
    assert_eq!(shown.json()["attribution"], json!({}));
    let text = env.run(&["show", "older"]);
    text.success();
    assert!(
        text.stdout.contains("No attribution recorded"),
        "{}",
        text.stdout
    );
}

#[test]
fn show_of_a_session_that_is_not_there_is_one_clear_error_line() {
    let env = TestEnv::new();
    start(&env, "present", env.path());
    let run = env.run(&["show", "absent"]);
    assert_ne!(run.code, 0);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
}

#[test]
fn the_python_tool_lists_and_replays_an_attributed_session() {
    let env = TestEnv::new();
    repository(env.path());
    start(&env, "for-python-1", env.path());
    let python = crate::python_compat::python();
    let list = python.read(&env, &["list"]);
    assert!(list.stdout.contains("for-python-1"), "{list:?}");
    let replay = python.read(&env, &["replay", "for-python-1"]);
    assert!(replay.stdout.contains("for-python-1"), "{replay:?}");
}

#[test]
fn an_imported_session_shows_where_its_log_says_it_ran() {
    let env = TestEnv::new();
    let file = crate::common::shared().join("corpus/claude-code/marot__spotter/tool_heavy.jsonl");
    env.run(&["import", file.to_str().unwrap()]).success();
    let shown = env.run(&["show", "d6e0bada", "--format", "json"]);
    shown.success();
    let shown = shown.json();
    assert_eq!(shown["agent"], "claude-code");
    assert_eq!(shown["agent_version"], "2.1.38");
    assert_eq!(
        shown["attribution"]["working_dir"],
        "/home/marco/projects/spotter"
    );
    assert_eq!(shown["attribution"]["git_branch"], "master");
}

#[test]
fn record_attributes_the_session_it_starts() {
    let env = TestEnv::new();
    let commit = repository(env.path());
    // A "server" that exits at once: the session is still started, and attributed.
    let mut cmd = env.command(&["record", "--name", "quick", "--", "true"]);
    cmd.env("USER", "bob");
    let run = crate::common::Run::of(cmd.output().unwrap());
    assert_eq!(run.code, 0, "{run:?}");
    let sessions = env.sessions();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let meta = env.meta(&sessions[0]);
    assert_eq!(meta["attribution"]["os_user"], "bob");
    assert_eq!(meta["attribution"]["git_branch"], "feature");
    assert_eq!(meta["attribution"]["git_commit"], commit.as_str());
    assert_eq!(
        meta["attribution"]["git_repo"],
        "https://github.com/acme/widgets.git"
    );
}

/// An imported Claude Code transcript records no model at its start, and `show --format json`
/// gave `"model": null` though `replay` lists the models its responses used (corpus
/// `general-tool-calls.jsonl`: Opus most, then Haiku, and `<synthetic>` entries no model
/// made). `model` is the most used one; `models` lists them.
#[test]
fn show_gives_an_imported_sessions_models_from_its_responses() {
    let env = TestEnv::new();
    let file = crate::common::shared()
        .join("corpus/claude-code/moredip__session-share/general-tool-calls.jsonl");
    env.run(&["import", file.to_str().unwrap()]).success();
    let shown = env.run(&["show", "88f04c6a", "--format", "json"]);
    shown.success();
    let shown = shown.json();
    assert_eq!(shown["model"], "claude-opus-4-5-20251101", "{shown}");
    assert_eq!(
        shown["models"],
        json!(["claude-opus-4-5-20251101", "claude-haiku-4-5-20251001"])
    );
    let text = env.run(&["show", "88f04c6a"]);
    text.success();
    assert!(
        text.stdout
            .contains("\nModel    claude-opus-4-5-20251101\n")
            && text
                .stdout
                .contains("\nModels   claude-opus-4-5-20251101, claude-haiku-4-5-20251001\n"),
        "{}",
        text.stdout
    );

    // The model a hook session started with stays the one shown.
    start(&env, "hooked", env.path());
    let shown = env.run(&["show", "hooked", "--format", "json"]).json();
    assert_eq!(shown["model"], "claude-opus-4-5");
    assert_eq!(shown["models"], json!([]));
}

#[test]
fn record_http_attributes_the_session_it_starts_as_record_does() {
    // record-http's sessions had no who or where in meta.json, where record's had them:
    // `show` of a session recorded over HTTP named no user, machine, folder or commit.
    let env = TestEnv::new();
    let commit = repository(env.path());
    let nobody = crate::common::net::NobodyListens::new();
    let store = env.store();
    let url = format!("{}/mcp", nobody.url());
    let mut cmd = env.command(&[
        "--trace-dir",
        store.to_str().unwrap(),
        "record-http",
        &url,
        "--port",
        "0",
    ]);
    cmd.env("USER", "bob");
    let (proxy, _) = crate::common::net::spawn_proxy(cmd);
    assert_eq!(proxy.terminate(), Some(0));
    let sessions = env.sessions();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let meta = env.meta(&sessions[0]);
    assert_eq!(meta["attribution"]["os_user"], "bob", "{meta}");
    assert_eq!(
        meta["attribution"]["working_dir"],
        env.path().to_str().unwrap()
    );
    assert_eq!(meta["attribution"]["git_branch"], "feature");
    assert_eq!(meta["attribution"]["git_commit"], commit.as_str());
    assert!(meta["attribution"]["hostname"].is_string(), "{meta}");
}
