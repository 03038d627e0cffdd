//! The catalogue of stores in the user-level home, as `--all-projects` reads it: kept whole
//! however large, and every store that records a session listed in it.

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
