//! The catalogue of stores in the user-level home, as `--all-projects` reads it: kept whole
//! however large, every store that records a session listed in it, and commands that read
//! many stores.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::common::{Run, TestEnv};

/// A folder inside the environment, made.
fn folder(env: &TestEnv, name: &str) -> PathBuf {
    let dir = env.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Claude Code's prompt hook for session `id` of the project at `cwd`.
fn prompt(env: &TestEnv, id: &str, cwd: &Path) -> Run {
    let payload = json!({"session_id": id, "cwd": cwd, "hook_event_name": "UserPromptSubmit",
                         "prompt": "hello"});
    env.run_with_stdin(&["hook", "user-prompt"], payload.to_string().as_bytes())
}

/// `agent-strace ARGS` run in `dir`.
fn run_in(env: &TestEnv, dir: &Path, args: &[&str]) -> Run {
    Run::of(env.command(args).current_dir(dir).output().unwrap())
}

/// The ids `list --all-projects` shows, run from a folder of no project.
fn listed_everywhere(env: &TestEnv) -> BTreeSet<String> {
    let run = run_in(
        env,
        &folder(env, "elsewhere"),
        &["list", "--all-projects", "--format", "json"],
    );
    run.success();
    run.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap().to_owned())
        .collect()
}

fn ids(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|&id| id.to_owned()).collect()
}

fn catalogue_file(env: &TestEnv) -> PathBuf {
    env.home().join("stores")
}

/// A catalogue was read only to its first MiB: a hook adding a store cut off every line past
/// it, and `list --all-projects` then rewrote the file with what it had read, losing every
/// store for good. It is read whole, and only the lines of stores that are gone are dropped.
#[test]
fn a_catalogue_past_a_mebibyte_is_read_and_kept_whole() {
    let env = TestEnv::new();
    let (a, b) = (folder(&env, "projA"), folder(&env, "projB"));
    prompt(&env, "sA", &a).success();
    let listed = std::fs::read_to_string(catalogue_file(&env)).unwrap();
    let gone = env.path().join("gone");
    let mut text = String::new();
    for i in 0..40_000 {
        writeln!(text, "{}/tmp{i:06}/.agent-traces", gone.display()).unwrap();
    }
    assert!(text.len() > 1024 * 1024);
    text.push_str(&listed);
    std::fs::write(catalogue_file(&env), text).unwrap();
    prompt(&env, "sB", &b).success();
    assert_eq!(listed_everywhere(&env), ids(&["sA", "sB"]));
    let kept = std::fs::read_to_string(catalogue_file(&env)).unwrap();
    let stores: Vec<PathBuf> = kept
        .lines()
        .map(|l| std::fs::canonicalize(l).unwrap())
        .collect();
    let made = [a, b].map(|p| std::fs::canonicalize(p.join(".agent-traces")).unwrap());
    assert_eq!(stores, made, "{kept}");
}

/// Hooks of many new projects at once wait at most 50 ms for the catalogue's lock: one that
/// lost the race left its store out of `--all-projects` for good, since a store was catalogued
/// only when its folder was made. It is catalogued at its next session.
#[test]
fn a_store_whose_registration_lost_the_lock_is_catalogued_at_its_next_session() {
    let env = TestEnv::new();
    let project = folder(&env, "busy");
    std::fs::create_dir_all(env.home()).unwrap();
    let held = std::fs::File::create(catalogue_file(&env)).unwrap();
    held.lock().unwrap();
    prompt(&env, "s1", &project).success();
    drop(held);
    prompt(&env, "s2", &project).success();
    assert_eq!(listed_everywhere(&env), ids(&["s1", "s2"]));
}

/// A project moved elsewhere kept its store, which was never catalogued again where it is now:
/// its next session catalogues it.
#[test]
fn a_moved_project_is_catalogued_at_its_next_session() {
    let env = TestEnv::new();
    let old = folder(&env, "mv/old");
    prompt(&env, "s1", &old).success();
    let new = env.path().join("mv/new");
    std::fs::rename(&old, &new).unwrap();
    prompt(&env, "s2", &new).success();
    assert_eq!(listed_everywhere(&env), ids(&["s1", "s2"]));
}

/// The project's store made on the way to a workspace's store (`AGENT_STRACE_WORKSPACE`) was
/// not catalogued: it is, as the workspace's is.
#[test]
fn the_project_store_made_for_a_workspace_is_catalogued() {
    let env = TestEnv::new();
    let project = folder(&env, "p");
    let payload = json!({"session_id": "w1", "cwd": project, "hook_event_name": "UserPromptSubmit",
                         "prompt": "hello"});
    let mut hook = env.command(&["hook", "user-prompt"]);
    hook.env("AGENT_STRACE_WORKSPACE", "ws");
    crate::common::run_with_stdin(hook, payload.to_string().as_bytes()).success();
    let store = std::fs::canonicalize(project.join(".agent-traces")).unwrap();
    let listed: Vec<PathBuf> = std::fs::read_to_string(catalogue_file(&env))
        .unwrap()
        .lines()
        .filter_map(|l| std::fs::canonicalize(l).ok())
        .collect();
    assert!(listed.contains(&store), "{listed:?}");
}

/// `n` stores of one session each, catalogued, as many projects leave them.
fn stores_of_one_session(env: &TestEnv, n: usize) {
    let mut catalogue = String::new();
    for i in 0..n {
        let store = env.path().join(format!("many/p{i}/.agent-traces"));
        let session = store.join(format!("s{i}"));
        std::fs::create_dir_all(&session).unwrap();
        std::fs::write(store.join(".gitignore"), "*\n").unwrap();
        let start = 1_767_571_200.0 + 60.0 * i as f64;
        let meta = json!({"session_id": format!("s{i}"), "started_at": start, "agent_name": "x",
                          "command": "x"});
        std::fs::write(session.join("meta.json"), meta.to_string()).unwrap();
        let event = json!({"event_type": "user_prompt", "timestamp": start, "event_id": "e",
                           "session_id": format!("s{i}"), "data": {"prompt": "hi"}});
        std::fs::write(session.join("events.ndjson"), format!("{event}\n")).unwrap();
        writeln!(catalogue, "{}", store.display()).unwrap();
    }
    std::fs::create_dir_all(env.home()).unwrap();
    std::fs::write(catalogue_file(env), catalogue).unwrap();
}

/// `agent-strace ARGS` run in `dir` with at most 64 files open.
fn run_with_few_files(env: &TestEnv, dir: &Path, args: &[&str]) -> Run {
    // The environment the tests give the binary, through the shell that lowers the limit.
    let command = env.command(&[]);
    let mut sh = std::process::Command::new("sh");
    sh.arg("-c")
        .arg("ulimit -n 64 && exec \"$0\" \"$@\"")
        .arg(crate::common::bin())
        .args(args)
        .current_dir(dir);
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => sh.env(key, value),
            None => sh.env_remove(key),
        };
    }
    Run::of(sh.stdin(std::process::Stdio::null()).output().unwrap())
}

/// `list` and `sql` with `--all-projects` kept every store's index open at once: with many
/// stores, past the open files a process may have, `sql` failed (Too many open files, exit 4)
/// and `list` warned of every further store's index. Each store's index is closed before the
/// next is read.
#[test]
fn every_project_is_read_with_few_files_open() {
    let env = TestEnv::new();
    let stores = 40;
    stores_of_one_session(&env, stores);
    let elsewhere = folder(&env, "elsewhere");
    // Twice: the first run builds every index, the second reads them.
    for _ in 0..2 {
        let sql = run_with_few_files(
            &env,
            &elsewhere,
            &[
                "sql",
                "--all-projects",
                "--format",
                "json",
                "SELECT count(*) AS n FROM sessions",
            ],
        );
        assert_eq!(sql.code, 0, "{}", sql.stderr);
        assert_eq!(sql.json()[0]["n"], stores, "{}", sql.stderr);
        let list = run_with_few_files(
            &env,
            &elsewhere,
            &["list", "--all-projects", "--format", "json"],
        );
        assert_eq!(list.code, 0, "{}", list.stderr);
        assert_eq!(list.stderr, "");
        assert_eq!(list.json().as_array().unwrap().len(), stores);
    }
}

/// `list --all-projects` showed the last 24 characters of each project's folder, so
/// `…/clientA/payments-service-backend` and `…/clientB/payments-service-backend` looked the
/// same, and a workspace's store showed as its folder deep in the project's store. Projects
/// shown are told apart, and a workspace's sessions show their project and workspace.
#[test]
fn list_tells_projects_with_the_same_end_apart_and_names_a_workspace() {
    let env = TestEnv::new();
    let a = folder(&env, "clientA/payments-service-backend");
    let b = folder(&env, "clientB/payments-service-backend");
    prompt(&env, "sA", &a).success();
    prompt(&env, "sB", &b).success();
    let payload = json!({"session_id": "w1", "cwd": a, "hook_event_name": "UserPromptSubmit",
                         "prompt": "hello"});
    let mut hook = env.command(&["hook", "user-prompt"]);
    hook.env("AGENT_STRACE_WORKSPACE", "ws");
    crate::common::run_with_stdin(hook, payload.to_string().as_bytes()).success();
    let elsewhere = folder(&env, "elsewhere");
    let text = run_in(&env, &elsewhere, &["list", "--all-projects"]);
    text.success();
    let row = |id: &str| {
        text.stdout
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("{id}: {}", text.stdout))
            .to_owned()
    };
    assert!(row("sA").contains("clientA"), "{}", text.stdout);
    assert!(row("sB").contains("clientB"), "{}", text.stdout);
    assert!(row("w1").contains("clientA"), "{}", text.stdout);
    assert!(row("w1").contains("[ws]"), "{}", text.stdout);
    let json = run_in(
        &env,
        &elsewhere,
        &["list", "--all-projects", "--format", "json"],
    );
    json.success();
    let sessions = json.json();
    let w1 = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == "w1")
        .unwrap();
    assert_eq!(
        std::fs::canonicalize(w1["project"].as_str().unwrap()).unwrap(),
        std::fs::canonicalize(&a).unwrap(),
        "{w1}"
    );
    assert_eq!(w1["workspace"], "ws", "{w1}");
}

/// `sql --all-projects` and `dashboard --all-projects --format json` gave a workspace's
/// sessions the workspace store's own folder (…/.agent-traces/workspaces/ws) as `project`,
/// where `list` gives the project's folder with the workspace beside it. All three give the
/// same project and workspace now.
#[test]
fn sql_and_dashboard_name_a_workspace_s_project_as_list_does() {
    let env = TestEnv::new();
    let a = folder(&env, "code/app");
    prompt(&env, "sA", &a).success();
    let payload = json!({"session_id": "w1", "cwd": a, "hook_event_name": "UserPromptSubmit",
                         "prompt": "hello"});
    let mut hook = env.command(&["hook", "user-prompt"]);
    hook.env("AGENT_STRACE_WORKSPACE", "ws");
    crate::common::run_with_stdin(hook, payload.to_string().as_bytes()).success();
    let elsewhere = folder(&env, "elsewhere");
    let pick = |rows: &serde_json::Value, id: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|s| s["session_id"] == id)
            .unwrap_or_else(|| panic!("{id}: {rows:#}"))
            .clone()
    };
    let list = run_in(
        &env,
        &elsewhere,
        &["list", "--all-projects", "--format", "json"],
    )
    .success()
    .json();
    let sql = run_in(
        &env,
        &elsewhere,
        &[
            "sql",
            "--all-projects",
            "--format",
            "json",
            "SELECT session_id, project, workspace FROM sessions",
        ],
    )
    .success()
    .json();
    let dashboard = run_in(
        &env,
        &elsewhere,
        &["dashboard", "--all-projects", "--format", "json"],
    )
    .success()
    .json();
    let listed = pick(&list, "w1");
    assert_eq!(listed["workspace"], "ws", "{listed}");
    for (what, rows) in [("sql", &sql), ("dashboard", &dashboard["recent"])] {
        let w1 = pick(rows, "w1");
        assert_eq!(w1["project"], listed["project"], "{what}: {w1}");
        assert_eq!(w1["workspace"], listed["workspace"], "{what}: {w1}");
        let plain = pick(rows, "sA");
        assert_eq!(
            plain["project"],
            pick(&list, "sA")["project"],
            "{what}: {plain}"
        );
        assert!(plain["workspace"].is_null(), "{what}: {plain}");
    }
}
