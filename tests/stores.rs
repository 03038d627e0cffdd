//! One store per project and one for every project (issue 10): the catalogue hooks write once,
//! `import --all` placing transcripts by the project they ran in, `--all-projects` and
//! `--project` on `list`, `budget-report`, `cost` and `sql`, what a folder with no store says,
//! `setup`'s command, `--version`, and budget-report's breakdowns.

#![expect(
    clippy::float_cmp,
    reason = "the dollar figures compared are whole dollars, exact"
)]

use std::path::{Path, PathBuf};
use std::process::Stdio;

use agent_strace::model::Tokens;
use serde_json::{Value, json};

use crate::common::{Run, SessionBuilder, TestEnv, bin, shared, under_umask_022};

/// 2026-01-05 00:00 UTC, a Monday.
const DAY0: f64 = 1_767_571_200.0;
const HOUR: f64 = 3600.0;

fn run_in(env: &TestEnv, dir: &Path, args: &[&str]) -> Run {
    let output = env
        .command(args)
        .current_dir(dir)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn catalogue(env: &TestEnv) -> Vec<String> {
    std::fs::read_to_string(env.home.path().join("stores"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A folder inside the environment, made.
fn folder(env: &TestEnv, name: &str) -> PathBuf {
    let dir = env.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn opus(input: u64) -> Tokens {
    Tokens {
        input,
        ..Tokens::default()
    }
}

/// A session started at `start` with one response of `tokens` of `model` `at` seconds in.
fn session(
    id: &str,
    start: f64,
    prompt: &str,
    model: &str,
    at: f64,
    tokens: Tokens,
) -> SessionBuilder {
    SessionBuilder::new(id)
        .started(start)
        .meta(|m| m.agent_name = "claude-code".into())
        .prompt(prompt)
        .at(1.0)
        .tool_call("Bash", json!({"command": "make test"}))
        .at(2.0)
        .result(json!("ok"))
        .at(at)
        .llm_response(model, tokens)
        .ended(at + 1.0)
}

#[test]
fn a_hook_catalogues_the_store_it_makes_once_and_every_project_is_listed_from_anywhere() {
    let env = TestEnv::new();
    let payload = |event: &str| {
        json!({"session_id": "7a1e0000-0000-4000-8000-000000000001", "hook_event_name": event,
               "prompt": "hello", "source": "startup"})
    };
    env.hook("session-start", &payload("SessionStart"))
        .success();
    env.hook("user-prompt", &payload("UserPromptSubmit"))
        .success();
    let store = std::fs::canonicalize(env.store()).unwrap();
    let listed: Vec<PathBuf> = catalogue(&env)
        .iter()
        .map(|l| std::fs::canonicalize(l).unwrap())
        .collect();
    assert_eq!(listed, [store], "{:?}", catalogue(&env));
    // From a folder with no store of its own, every project's sessions.
    let elsewhere = tempfile::tempdir().unwrap();
    let all = run_in(
        &env,
        elsewhere.path(),
        &["list", "--all-projects", "--format", "json"],
    );
    all.success();
    let sessions = all.json();
    assert_eq!(sessions.as_array().unwrap().len(), 1, "{sessions}");
    assert_eq!(
        std::fs::canonicalize(sessions[0]["project"].as_str().unwrap()).unwrap(),
        std::fs::canonicalize(env.path()).unwrap()
    );
    let text = run_in(&env, elsewhere.path(), &["list", "--all-projects"]);
    assert!(text.stdout.starts_with("SESSION"), "{}", text.stdout);
    assert!(text.stdout.lines().next().unwrap().contains("PROJECT"));
    // A store that is gone leaves the catalogue when it is next read.
    std::fs::remove_dir_all(env.store()).unwrap();
    run_in(&env, elsewhere.path(), &["list", "--all-projects"]).success();
    assert!(catalogue(&env).is_empty(), "{:?}", catalogue(&env));
}

/// `--all-projects` reads, and so indexes, every store the catalogue names: a line naming a
/// folder that is no store (one `--trace-dir` named, `/`, `/proc/self`) had `.index.sqlite`
/// written into it on every run. Such a line is dropped with one warning, and a folder that is
/// no store is not catalogued.
#[test]
fn the_catalogue_names_and_reads_only_folders_that_are_stores() {
    let env = TestEnv::new();
    let plain = folder(&env, "plain");
    folder(&env, "plain/s1");
    let lines = format!("{}\n/proc/self\n", plain.display());
    std::fs::write(env.home().join("stores"), lines).unwrap();
    SessionBuilder::new("s1").write(&env);
    let elsewhere = tempfile::tempdir().unwrap();
    let all = ["list", "--all-projects", "--format", "json"];
    let run = run_in(&env, elsewhere.path(), &all);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!plain.join(".index.sqlite").exists(), "{}", run.stderr);
    for named in [plain.to_string_lossy().as_ref(), "/proc/self"] {
        let warned = run.stderr.lines().filter(|l| l.contains(named)).count();
        assert_eq!(warned, 1, "{}", run.stderr);
    }
    assert!(!run.stderr.contains("/proc/self/"), "{}", run.stderr);
    assert!(catalogue(&env).is_empty(), "{:?}", catalogue(&env));
    let again = run_in(&env, elsewhere.path(), &all);
    assert_eq!(again.stderr, "", "told once");

    // A folder named with --trace-dir that is no store is read, not catalogued, however often:
    // the index the first read writes into it is no proof of a store; the project's store is.
    for _ in 0..2 {
        env.run(&["--trace-dir", plain.to_str().unwrap(), "list"]);
        assert!(catalogue(&env).is_empty(), "{:?}", catalogue(&env));
    }
    env.run(&["list"]).success();
    assert_eq!(catalogue(&env).len(), 1, "{:?}", catalogue(&env));
    let listed = run_in(&env, elsewhere.path(), &all).json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
}

#[test]
fn a_folder_without_a_store_says_what_to_do_in_one_line() {
    let env = TestEnv::new();
    let run = env.run(&["list"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    for what in ["setup", "import --all", "--trace-dir", "--all-projects"] {
        assert!(run.stderr.contains(what), "{what}: {}", run.stderr);
    }
    assert!(run.stderr.contains("(hint: "), "{}", run.stderr);
}

/// A copy of a corpus transcript whose lines say it ran in `cwd`.
fn transcript_in(claude_projects: &Path, project: &str, cwd: &str) -> (PathBuf, String) {
    let source = shared().join("corpus/claude-code/marot__spotter/short.jsonl");
    let dir = claude_projects.join(project);
    std::fs::create_dir_all(&dir).unwrap();
    let mut session = String::new();
    let mut text = String::new();
    for line in std::fs::read_to_string(source).unwrap().lines() {
        let Ok(mut entry) = serde_json::from_str::<Value>(line) else {
            text.push_str(line);
            text.push('\n');
            continue;
        };
        if entry.get("cwd").is_some() {
            entry["cwd"] = cwd.into();
        }
        if let Some(id) = entry["sessionId"].as_str() {
            id.clone_into(&mut session);
        }
        text.push_str(&entry.to_string());
        text.push('\n');
    }
    let file = dir.join(format!("{session}.jsonl"));
    std::fs::write(&file, text).unwrap();
    (file, session)
}

#[test]
fn import_all_puts_each_transcript_in_the_store_of_the_project_it_ran_in() {
    let env = TestEnv::new();
    let project = folder(&env, "code/app");
    let claude = folder(&env, "claude");
    let (_, here) = transcript_in(
        &claude.join("projects"),
        "-code-app",
        project.to_str().unwrap(),
    );
    // The same session's id would collide: the second transcript is another session.
    let gone_dir = claude.join("projects").join("-gone");
    std::fs::create_dir_all(&gone_dir).unwrap();
    let gone_session = "0d0e0000-0000-4000-8000-0000000000aa";
    let text = std::fs::read_to_string(
        claude
            .join("projects/-code-app")
            .join(format!("{here}.jsonl")),
    )
    .unwrap()
    .replace(&here, gone_session)
    .replace(project.to_str().unwrap(), "/no/such/project/anymore");
    std::fs::write(gone_dir.join(format!("{gone_session}.jsonl")), text).unwrap();
    let standing = folder(&env, "standing-here");

    let run = run_in(
        &env,
        &standing,
        &["import", "--all", "--claude-dir", claude.to_str().unwrap()],
    );
    run.success();
    assert!(
        project.join(".agent-traces").join(&here).is_dir(),
        "{run:?}"
    );
    let user_store = env.home.path().join("traces");
    assert!(user_store.join(gone_session).is_dir(), "{run:?}");
    assert!(
        !standing.join(".agent-traces").exists() && !env.store().exists(),
        "imported where the user stands: {run:?}"
    );
    // Both stores are catalogued, and a second run finds everything imported.
    assert_eq!(catalogue(&env).len(), 2, "{:?}", catalogue(&env));
    let again = run_in(
        &env,
        &standing,
        &["import", "--all", "--claude-dir", claude.to_str().unwrap()],
    );
    assert!(again.stdout.contains("imported already"), "{again:?}");
    let listed = run_in(
        &env,
        &standing,
        &["list", "--all-projects", "--format", "json"],
    )
    .json();
    let mut projects: Vec<(String, Value)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["session_id"].as_str().unwrap().to_owned(),
                s["project"].clone(),
            )
        })
        .collect();
    projects.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        projects,
        [
            (gone_session.to_owned(), Value::Null),
            (here.clone(), Value::from(project.to_str().unwrap())),
        ]
    );
    // --trace-dir still puts everything in one store.
    let one = env.path().join("one-store");
    run_in(
        &env,
        &standing,
        &[
            "--trace-dir",
            one.to_str().unwrap(),
            "import",
            "--all",
            "--claude-dir",
            claude.to_str().unwrap(),
        ],
    )
    .success();
    assert!(one.join(&here).is_dir() && one.join(gone_session).is_dir());
}

#[test]
fn claude_config_dir_may_name_several_folders_as_ccusage_reads_it() {
    let env = TestEnv::new();
    let first = folder(&env, "config-a");
    let second = folder(&env, "config-b/projects");
    let (_, a) = transcript_in(&first.join("projects"), "-p", "/nowhere");
    let source =
        std::fs::read_to_string(first.join("projects/-p").join(format!("{a}.jsonl"))).unwrap();
    let b = "0b0b0000-0000-4000-8000-0000000000bb";
    std::fs::create_dir_all(second.join("-q")).unwrap();
    std::fs::write(
        second.join("-q").join(format!("{b}.jsonl")),
        source.replace(&a, b),
    )
    .unwrap();
    let home = folder(&env, "home");
    let list = format!(
        "{},{}, {}",
        env.path().join("missing").display(),
        first.display(),
        second.display()
    );
    let output = env
        .command(&["import", "--discover", "--format", "json"])
        .env("HOME", &home)
        .env("CLAUDE_CONFIG_DIR", &list)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let found: Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut ids: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["session_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut want = [a.as_str(), b];
    want.sort_unstable();
    assert_eq!(ids, want);
    // A list naming no usable folder is one clear error.
    let output = env
        .command(&["import", "--discover"])
        .env("HOME", &home)
        .env("CLAUDE_CONFIG_DIR", env.path().join("missing"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("CLAUDE_CONFIG_DIR"));
}

#[test]
fn list_takes_a_period_shows_cost_and_reads_another_project() {
    let env = TestEnv::new();
    let early = session(
        "aaaa0000-0000-4000-8000-000000000001",
        DAY0,
        "first",
        "claude-opus-4-1",
        30.0,
        opus(1_000_000),
    );
    let late = session(
        "bbbb0000-0000-4000-8000-000000000002",
        DAY0 + 2.0 * 86_400.0,
        "second",
        "claude-opus-4-1",
        30.0,
        opus(2_000_000),
    );
    early.write(&env);
    late.write(&env);
    let listed = run_in(
        &env,
        env.path(),
        &[
            "list",
            "--since",
            "2026-01-06",
            "--until",
            "2026-01-07",
            "--format",
            "json",
        ],
    )
    .json();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        listed[0]["session_id"],
        "bbbb0000-0000-4000-8000-000000000002"
    );
    // Opus 4.1: $15 a million input tokens.
    assert_eq!(listed[0]["cost_usd"], 30.0);
    assert_eq!(listed[0]["cost_estimated"], false);
    let text = run_in(&env, env.path(), &["list"]);
    assert!(
        text.stdout.lines().next().unwrap().contains("COST"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("$15.00") && text.stdout.contains("$30.00"),
        "{}",
        text.stdout
    );
    // --project reads a project's store from anywhere.
    let elsewhere = tempfile::tempdir().unwrap();
    let there = run_in(
        &env,
        elsewhere.path(),
        &[
            "list",
            "--project",
            env.path().to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(there.json().as_array().unwrap().len(), 2, "{there:?}");
}

#[test]
fn budget_report_with_no_session_in_the_period_says_so_in_one_line() {
    let env = TestEnv::new();
    session(
        "cccc0000-0000-4000-8000-000000000003",
        DAY0,
        "old",
        "claude-opus-4-1",
        30.0,
        opus(1000),
    )
    .write(&env);
    for format in ["text", "markdown"] {
        let run = run_in(
            &env,
            env.path(),
            &[
                "budget-report",
                "--since",
                "2026-02-01",
                "--until",
                "2026-02-07",
                "--format",
                format,
            ],
        );
        run.success();
        assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
        assert!(run.stdout.starts_with("No sessions"), "{}", run.stdout);
        assert!(run.stdout.contains("Jan 5, 2026"), "{}", run.stdout);
    }
    let json = run_in(
        &env,
        env.path(),
        &[
            "budget-report",
            "--since",
            "2026-02-01",
            "--until",
            "2026-02-07",
            "--format",
            "json",
        ],
    )
    .json();
    assert_eq!(json["sessions"], 0);
    assert_eq!(json["newest_session_at"], DAY0);
}

/// Two projects' stores, each catalogued by a first read: project a with two sessions (Opus on
/// Jan 5 at 09:40 and 16:10), project b with one (Haiku on Jan 6 at 10:05).
fn two_projects(env: &TestEnv) -> (PathBuf, PathBuf) {
    let a = folder(env, "a");
    let b = folder(env, "b");
    session(
        "a1a10000-0000-4000-8000-000000000001",
        DAY0 + 9.0 * HOUR,
        "a one",
        "claude-opus-4-1",
        40.0 * 60.0,
        opus(1_000_000),
    )
    .write_in(&a.join(".agent-traces"));
    session(
        "a2a20000-0000-4000-8000-000000000002",
        DAY0 + 16.0 * HOUR,
        "a two",
        "claude-opus-4-1",
        10.0 * 60.0,
        opus(2_000_000),
    )
    .write_in(&a.join(".agent-traces"));
    session(
        "b1b10000-0000-4000-8000-000000000003",
        DAY0 + 34.0 * HOUR,
        "b one",
        "claude-haiku-4-5",
        5.0 * 60.0,
        opus(3_000_000),
    )
    .write_in(&b.join(".agent-traces"));
    for dir in [&a, &b] {
        run_in(env, dir, &["list"]).success();
    }
    (a, b)
}

#[test]
fn budget_report_breaks_spend_down_by_day_model_project_and_billing_block() {
    let env = TestEnv::new();
    let (a, b) = two_projects(&env);
    let args = [
        "budget-report",
        "--all-projects",
        "--since",
        "2026-01-05",
        "--until",
        "2026-01-11",
        "--format",
        "json",
    ];
    let r = run_in(&env, env.path(), &args).json();
    assert_eq!(r["sessions"], 3, "{r}");
    // Opus 4.1 $15/M: $15 and $30; Haiku 4.5 $1/M: $3.
    assert_eq!(r["total_usd"], 48.0);
    let pairs = |key: &str, name: &str| -> Vec<(String, f64)> {
        r[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x[name].as_str().unwrap().to_owned(),
                    x["cost_usd"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        pairs("by_day", "day"),
        [
            ("2026-01-05".to_owned(), 45.0),
            ("2026-01-06".to_owned(), 3.0)
        ]
    );
    assert_eq!(
        pairs("by_model", "model"),
        [
            ("claude-opus-4-1".to_owned(), 45.0),
            ("claude-haiku-4-5".to_owned(), 3.0)
        ]
    );
    let projects = pairs("by_project", "project");
    assert_eq!(projects.len(), 2);
    assert!(
        projects[0].0.ends_with("/a") && projects[0].1 == 45.0,
        "{projects:?}"
    );
    assert!(
        projects[1].0.ends_with("/b") && projects[1].1 == 3.0,
        "{projects:?}"
    );
    // Blocks start at the hour of the first response after the last block: 09:40 opens
    // 09:00-14:00, 16:10 opens 16:00-21:00, and the next day's 10:05 opens 10:00-15:00.
    let blocks: Vec<(f64, f64, f64)> = r["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                (b["start"].as_f64().unwrap() - DAY0) / HOUR,
                (b["end"].as_f64().unwrap() - DAY0) / HOUR,
                b["cost_usd"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        blocks,
        [(9.0, 14.0, 15.0), (16.0, 21.0, 30.0), (34.0, 39.0, 3.0)]
    );
    let text = run_in(&env, env.path(), &[&args[..6], &["--blocks"]].concat());
    text.success();
    for section in [
        "Cost by day:",
        "Cost by model:",
        "Cost by project:",
        "5-hour billing blocks:",
    ] {
        assert!(text.stdout.contains(section), "{section}: {}", text.stdout);
    }
    assert!(
        text.stdout.contains("2026-01-05 16:00–21:00 $30.00"),
        "{}",
        text.stdout
    );
    // One project alone: its sessions only, and no project section.
    let one = run_in(
        &env,
        env.path(),
        &[
            "budget-report",
            "--project",
            b.to_str().unwrap(),
            "--since",
            "2026-01-05",
            "--until",
            "2026-01-11",
            "--format",
            "json",
        ],
    )
    .json();
    assert_eq!(
        (one["sessions"].as_u64(), one["total_usd"].as_f64()),
        (Some(1), Some(3.0))
    );
    assert!(one["by_project"].as_array().unwrap().is_empty());
    let _ = a;
}

#[test]
fn cost_and_sql_read_every_project() {
    let env = TestEnv::new();
    two_projects(&env);
    // The latest session of any project is project b's.
    let cost = run_in(
        &env,
        env.path(),
        &["cost", "--all-projects", "--format", "json"],
    )
    .json();
    assert_eq!(cost["session_id"], "b1b10000-0000-4000-8000-000000000003");
    // A prefix is looked for in every store.
    let cost = run_in(
        &env,
        env.path(),
        &["cost", "a2a2", "--all-projects", "--format", "json"],
    )
    .json();
    assert_eq!(cost["cost_usd"], 30.0);
    let sql = run_in(
        &env,
        env.path(),
        &[
            "sql",
            "--all-projects",
            "--format",
            "json",
            "SELECT project, count(*) AS sessions, sum(cost_usd) AS cost FROM sessions GROUP BY project ORDER BY project",
        ],
    );
    sql.success();
    let rows = sql.json();
    let rows: Vec<(String, i64, f64)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["project"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned(),
                r["sessions"].as_i64().unwrap(),
                r["cost"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, [("a".to_owned(), 2, 45.0), ("b".to_owned(), 1, 3.0)]);
    // Payloads are read from each session's own store.
    let calls = run_in(
        &env,
        env.path(),
        &[
            "sql",
            "--all-projects",
            "--format",
            "json",
            "SELECT project, arguments FROM tool_calls",
        ],
    )
    .json();
    let calls = calls.as_array().unwrap();
    assert_eq!(calls.len(), 3);
    for call in calls {
        assert_eq!(call["arguments"], r#"{"command":"make test"}"#, "{call}");
    }
    // Still read-only.
    let write = run_in(
        &env,
        env.path(),
        &["sql", "--all-projects", "DELETE FROM idx_sessions"],
    );
    assert_eq!(write.code, 2, "{write:?}");
}

#[test]
fn setup_names_the_binary_by_its_full_path_when_a_standard_path_would_not_find_it() {
    let env = TestEnv::new();
    let run = env.run(&["setup"]);
    let block: Value = serde_json::from_str(&run.success().stdout).unwrap();
    let full = bin().display().to_string();
    for (_, groups) in block["hooks"].as_object().unwrap() {
        let command = groups[0]["hooks"][0]["command"].as_str().unwrap();
        assert!(command.starts_with(&format!("{full} hook ")), "{command}");
    }
    assert!(
        run.stderr.contains("by its full path"),
        "the notes say why: {}",
        run.stderr
    );
    // A command given with --bin is used as it is, and nothing is said.
    let own = env.run(&["setup", "--bin", "agent-strace"]);
    assert!(
        own.success()
            .stdout
            .contains("\"agent-strace hook pre-tool\"")
            && !own.stderr.contains("full path")
    );
}

#[test]
fn version_names_the_store_and_index_formats() {
    let env = TestEnv::new();
    let out = env.run(&["--version"]).success().stdout.clone();
    assert!(out.starts_with("agent-strace "), "{out}");
    assert!(
        out.contains("store format 1")
            && out.contains(&format!(
                "index format {}.",
                agent_strace::store::index::INDEX_FORMAT
            )),
        "{out}"
    );
    // README quotes the pair; it said `3.1` while the binary printed 7.5.
    let pair = out
        .trim_end()
        .rsplit(' ')
        .next()
        .unwrap()
        .trim_end_matches(')');
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("version, `{pair}`)")),
        "README's index format is not {pair}"
    );
    // So does the head of the CHANGELOG; it said `10.7` while the binary printed 18.22.
    let changelog =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("CHANGELOG.md"))
            .unwrap();
    let head = changelog.split("\n## ").next().unwrap();
    assert!(
        head.contains(&format!("the session index at `{pair}`")),
        "the CHANGELOG's head does not give the index format as {pair}"
    );
}

#[test]
fn readers_that_go_away_are_no_failure() {
    let env = TestEnv::new();
    two_projects(&env);
    for args in [
        vec!["--trace-dir", "a/.agent-traces", "inspect", "a1a1"],
        vec!["list", "--all-projects"],
        vec!["budget-report", "--all-projects", "--since", "2026-01-01"],
        vec!["sql", "--all-projects", "SELECT * FROM events"],
    ] {
        let mut child = env
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{args:?}: {output:?}");
    }
}

#[test]
fn setup_global_writes_where_claude_code_reads_its_settings() {
    let env = TestEnv::new();
    let home = folder(&env, "home");
    let config = env.path().join("claude-config");
    let output = env
        .command(&["setup", "--global", "--write"])
        .env("HOME", &home)
        .env("CLAUDE_CONFIG_DIR", &config)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(config.join("settings.json")).unwrap())
            .unwrap();
    assert!(written["hooks"]["PreToolUse"].is_array(), "{written}");
    assert!(!home.join(".claude").exists());
}

/// `dashboard --all-projects --since 2026-01-01 --format json`, run outside every project.
fn every_projects_board(env: &TestEnv) -> Value {
    let run = run_in(
        env,
        env.path(),
        &[
            "dashboard",
            "--all-projects",
            "--since",
            "2026-01-01",
            "--format",
            "json",
        ],
    );
    run.success();
    run.json()
}

/// `dashboard --all-projects` counts every project's sessions, judges each in its own store
/// for `--trend`, and writes each listed session's replay page from its own store.
#[test]
fn dashboard_reads_every_project() {
    let env = TestEnv::new();
    let (a, b) = two_projects(&env);
    let one = run_in(
        &env,
        &a,
        &["dashboard", "--since", "2026-01-01", "--format", "json"],
    );
    one.success();
    assert_eq!(one.json()["totals"]["sessions"], 2, "{}", one.stdout);
    let board = every_projects_board(&env);
    assert_eq!(board["totals"]["sessions"], 3, "{board:#}");
    let recent: Vec<&str> = board["recent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        recent,
        [
            "b1b10000-0000-4000-8000-000000000003",
            "a2a20000-0000-4000-8000-000000000002",
            "a1a10000-0000-4000-8000-000000000001"
        ]
    );
    // Each session says which project it is in, as `list` does; one store's board does not.
    let projects: Vec<&str> = board["recent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["project"].as_str().unwrap())
        .collect();
    let (a_path, b_path) = (a.to_str().unwrap(), b.to_str().unwrap());
    assert_eq!(projects, [b_path, a_path, a_path]);
    assert!(
        one.json()["recent"][0].get("project").is_none(),
        "{}",
        one.stdout
    );
    let text = run_in(
        &env,
        env.path(),
        &[
            "dashboard",
            "--all-projects",
            "--trend",
            "--since",
            "2026-01-01",
        ],
    );
    text.success();
    let header = text
        .stdout
        .lines()
        .find(|l| l.starts_with("SESSION"))
        .unwrap_or_else(|| panic!("{}", text.stdout));
    assert!(header.contains("PROJECT"), "{}", text.stdout);
    let b_row = text
        .stdout
        .lines()
        .find(|l| l.starts_with("b1b10000"))
        .unwrap();
    assert!(b_row.contains("/b "), "{}", text.stdout);
    // Notes of either project mark the trend; each session is judged from its own store.
    run_in(
        &env,
        &b,
        &[
            "dashboard",
            "annotate",
            "--date",
            "2026-01-06",
            "--note",
            "new model",
        ],
    )
    .success();
    let trend = run_in(
        &env,
        env.path(),
        &[
            "dashboard",
            "--all-projects",
            "--trend",
            "--since",
            "2026-01-01",
            "--format",
            "json",
        ],
    );
    trend.success();
    let trend = trend.json();
    let notes = trend["trend"]["markers"].to_string();
    assert!(notes.contains("new model"), "{trend:#}");
    assert_eq!(trend["trend"]["judges"][0]["judged"], 3, "{trend:#}");
    let html = env.path().join("out").join("index.html");
    run_in(
        &env,
        env.path(),
        &[
            "dashboard",
            "--all-projects",
            "--since",
            "2026-01-01",
            "--html",
            html.to_str().unwrap(),
        ],
    )
    .success();
    let index = std::fs::read_to_string(&html).unwrap();
    assert!(index.contains("<th>Project</th>"), "a Project column");
    for id in recent {
        let page = env.path().join("out").join(format!("replay-{id}.html"));
        assert!(page.is_file(), "{}", page.display());
    }
}

/// A session copied into a second project (its folder copied by hand, or a store restored)
/// counts once in `dashboard --all-projects`, from the copy that went further, whichever
/// store is read first. It was counted from the first store read, which may hold the older copy.
#[test]
fn dashboard_counts_a_copied_session_once_from_its_fuller_copy() {
    for grown in ["a", "b"] {
        let env = TestEnv::new();
        copied_and_grown(&env, COPIED, grown);
        let board = every_projects_board(&env);
        assert_eq!(
            board["totals"]["sessions"], 3,
            "grown in {grown}: {board:#}"
        );
        let session = board["recent"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["session_id"] == COPIED)
            .unwrap();
        assert_eq!(session["cost_usd"], 30.0, "grown in {grown}: {session:#}");
    }
}

/// The session of [`two_projects`] the copy tests copy from project a into project b.
const COPIED: &str = "a1a10000-0000-4000-8000-000000000001";

/// [`two_projects`] with session `id` copied into the other project, the copy in project
/// `grown` ("a" or "b") given one more response, as costly as the first, after the session's
/// recorded end.
fn copied_and_grown(env: &TestEnv, id: &str, grown: &str) -> (PathBuf, PathBuf) {
    let (a, b) = two_projects(env);
    let (mut original, mut copy) = (
        a.join(".agent-traces").join(id),
        b.join(".agent-traces").join(id),
    );
    if !original.is_dir() {
        std::mem::swap(&mut original, &mut copy);
    }
    std::fs::create_dir_all(&copy).unwrap();
    for file in ["meta.json", "events.ndjson"] {
        std::fs::copy(original.join(file), copy.join(file)).unwrap();
    }
    let folder = if grown == "a" { &a } else { &b }
        .join(".agent-traces")
        .join(id);
    let text = std::fs::read_to_string(folder.join("events.ndjson")).unwrap();
    let mut response: Value = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["event_type"] == "llm_response")
        .unwrap();
    let last = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["timestamp"]
                .as_f64()
                .unwrap()
        })
        .fold(f64::MIN, f64::max);
    response["event_id"] = "grown1".into();
    response["timestamp"] = (last + 600.0).into();
    let mut events = std::fs::OpenOptions::new()
        .append(true)
        .open(folder.join("events.ndjson"))
        .unwrap();
    std::io::Write::write_all(&mut events, format!("{response}\n").as_bytes()).unwrap();
    (a, b)
}

/// A session copied into a second project counts once in every command that reads every
/// project, from the copy the dashboard counts, under that copy's project: `budget-report`
/// counted it once per store (its spend doubled), `sample` returned it twice, `drift` counted
/// it twice in its window and `compare --tag` could compare the newest session with its copy.
#[test]
fn every_command_across_projects_counts_a_copied_session_once() {
    const NEWEST: &str = "b1b10000-0000-4000-8000-000000000003";
    for grown in ["a", "b"] {
        let env = TestEnv::new();
        let (a, b) = copied_and_grown(&env, COPIED, grown);
        let board = every_projects_board(&env);
        let project_of = |id: &str| {
            board["recent"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["session_id"] == id)
                .unwrap()["project"]
                .clone()
        };
        let copied_in = if grown == "a" { &a } else { &b };
        assert_eq!(project_of(COPIED), copied_in.to_str().unwrap());
        let run = run_in(
            &env,
            env.path(),
            &[
                "budget-report",
                "--all-projects",
                "--since",
                "2026-01-01",
                "--format",
                "json",
            ],
        );
        run.success();
        let report = run.json();
        assert_eq!(
            report["sessions"], board["totals"]["sessions"],
            "{report:#}"
        );
        assert_eq!(
            report["total_usd"], board["totals"]["cost_usd"],
            "{report:#}"
        );
        let project_sessions = |project: &Path| {
            report["by_project"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["project"] == project.to_str().unwrap())
                .map_or(0, |p| p["sessions"].as_u64().unwrap())
        };
        // Project a holds a1 (when its copy counts) and a2; project b holds b1 (and a1).
        let (in_a, in_b) = if grown == "a" { (2, 1) } else { (1, 2) };
        assert_eq!(
            (project_sessions(&a), project_sessions(&b)),
            (in_a, in_b),
            "grown in {grown}: {report:#}"
        );

        let run = run_in(&env, env.path(), &["sample", "--all-projects", "--n", "10"]);
        run.success();
        let mut ids: Vec<String> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["session_id"].to_string())
            .collect();
        ids.sort_unstable();
        assert_eq!(ids.len(), 3, "grown in {grown}: {}", run.stdout);
        ids.dedup();
        assert_eq!(ids.len(), 3, "grown in {grown}: {}", run.stdout);

        // Jan 5 at 12:00: a1 (and its copy) before, a2 and b1 after.
        let since = "2026-01-05T12:00:00Z";
        let run = run_in(
            &env,
            env.path(),
            &[
                "drift",
                "--all-projects",
                "--since",
                since,
                "--format",
                "json",
            ],
        );
        assert!(run.code <= 1, "{}", run.stderr);
        let drift = run.json();
        assert_eq!(drift["reference"]["sessions"], 1, "{drift:#}");
        assert_eq!(drift["current"]["sessions"], 2, "{drift:#}");
    }
    // The newest session copied: the last two sessions of its task are it and the one before,
    // never it and its copy.
    let env = TestEnv::new();
    copied_and_grown(&env, NEWEST, "b");
    let run = run_in(
        &env,
        env.path(),
        &[
            "compare",
            "--all-projects",
            "--tag",
            "claude-code",
            "--format",
            "json",
        ],
    );
    let compared = run.json();
    let text = compared.to_string();
    assert!(
        text.contains(NEWEST) && text.contains("a2a20000-0000-4000-8000-000000000002"),
        "{compared:#}"
    );
}

/// A copy of a session without its subagents (copied alone, then grown by one event) does not
/// win over the copy that holds them: the session's project, its replay page and its judging
/// come from the store that has its subagents.
#[test]
fn dashboard_keeps_the_copy_of_a_session_that_holds_its_subagents() {
    const ROOT: &str = "a1a10000-0000-4000-8000-000000000001";
    const CHILD: &str = "c1c10000-0000-4000-8000-000000000009";
    let env = TestEnv::new();
    let (a, b) = two_projects(&env);
    session(
        CHILD,
        DAY0 + 9.5 * HOUR,
        "the subagent",
        "claude-opus-4-1",
        60.0,
        opus(1_000_000),
    )
    .meta(|m| m.parent_session_id = Some(ROOT.to_owned()))
    .write_in(&a.join(".agent-traces"));
    let copy = b.join(".agent-traces").join(ROOT);
    std::fs::create_dir_all(&copy).unwrap();
    for file in ["meta.json", "events.ndjson"] {
        std::fs::copy(
            a.join(".agent-traces").join(ROOT).join(file),
            copy.join(file),
        )
        .unwrap();
    }
    let extra = json!({"event_type": "user_prompt", "timestamp": DAY0 + 9.0 * HOUR + 3000.0,
        "event_id": "extra1", "session_id": ROOT, "data": {"prompt": "one more"}});
    let mut events = std::fs::OpenOptions::new()
        .append(true)
        .open(copy.join("events.ndjson"))
        .unwrap();
    std::io::Write::write_all(&mut events, format!("{extra}\n").as_bytes()).unwrap();
    let board = every_projects_board(&env);
    let root = board["recent"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == ROOT)
        .unwrap();
    assert_eq!(root["project"], a.to_str().unwrap(), "{root:#}");
    assert_eq!(root["subagents"], 1, "{root:#}");
}

/// The columns `text` takes on a terminal: kana and the CJK block take two, every other
/// character here one.
fn width(text: &str) -> usize {
    text.chars().count()
        + text
            .chars()
            .filter(|c| {
                ('\u{3040}'..='\u{30ff}').contains(c) || ('\u{4e00}'..='\u{9fff}').contains(c)
            })
            .count()
}

/// The terminal column where `re` first matches `line`.
fn column_of(line: &str, re: &regex::Regex) -> Option<usize> {
    Some(width(&line[..re.find(line)?.start()]))
}

/// Each line's column of `re`, for the lines where it matches.
fn columns_of(text: &str, re: &str) -> Vec<usize> {
    let re = regex::Regex::new(re).unwrap();
    text.lines()
        .filter_map(|line| column_of(line, &re))
        .collect()
}

/// One session in each project's store (an hour apart, the first the newest, `tool` a call of
/// the session when given), the stores listed for `--all-projects`.
fn one_session_a_project(
    env: &TestEnv,
    projects: &[&str],
    id: &str,
    tool: impl Fn(usize) -> Option<&'static str>,
) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let mut stores = String::new();
    for (i, project) in projects.iter().enumerate() {
        let store = folder(env, project).join(".agent-traces");
        let mut session = SessionBuilder::new(&format!("{id}{i}-0000-4000-8000-000000000000"))
            .started(now - 3600.0 * (i as f64 + 1.0))
            .meta(|m| m.agent_name = "claude-code".into())
            .prompt("hello");
        if let Some(tool) = tool(i) {
            session = session
                .at(1.0)
                .tool_call(tool, json!({}))
                .at(2.0)
                .result(json!("ok"));
        }
        session.ended(10.0).write_in(&store);
        stores.push_str(store.to_str().unwrap());
        stores.push('\n');
    }
    std::fs::write(env.home.path().join("stores"), stores).unwrap();
}

/// Whether the STARTED column of `list --all-projects` and `dashboard --all-projects --trend`,
/// run outside every project, starts in the same column on both sessions' rows.
fn started_lines_up_across_projects(env: &TestEnv, shown: &str) {
    let elsewhere = tempfile::tempdir().unwrap();
    let started = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}";
    for args in [
        &["list", "--all-projects"][..],
        &["dashboard", "--all-projects", "--trend"],
    ] {
        let run = run_in(env, elsewhere.path(), args);
        run.success();
        assert!(run.stdout.contains(shown), "{}", run.stdout);
        let at = columns_of(&run.stdout, started);
        assert!(
            at.len() == 2 && at[0] == at[1],
            "{args:?}: {at:?}\n{}",
            run.stdout
        );
    }
}

#[test]
fn wide_characters_keep_the_columns_of_every_table_in_line() {
    let env = TestEnv::new();
    one_session_a_project(&env, &["项目甲", "plain-project"], "5e55100", |i| {
        Some(if i == 0 {
            "mcp__数据库__查询"
        } else {
            "Bash"
        })
    });
    started_lines_up_across_projects(&env, "项目甲");
    let elsewhere = tempfile::tempdir().unwrap();
    // A tool's name in stats, and a cell of sql's table.
    let store = env.path().join("项目甲/.agent-traces");
    let store = store.to_str().unwrap();
    let stats = run_in(
        &env,
        elsewhere.path(),
        &[
            "--trace-dir",
            store,
            "stats",
            "5e551000-0000-4000-8000-000000000000",
        ],
    );
    stats.success();
    // Where the CALLS column ends (its figures are right-aligned), in the tool table.
    let table = &stats.stdout[stats.stdout.find("TOOL").unwrap()..];
    let two_words = regex::Regex::new(r"^\S+\s+\S+").unwrap();
    let calls: Vec<usize> = table
        .lines()
        .filter_map(|line| Some(width(&line[..two_words.find(line)?.end()])))
        .collect();
    assert!(
        stats.stdout.contains("数据库") && calls.len() >= 2 && calls.iter().all(|c| *c == calls[0]),
        "{calls:?}\n{}",
        stats.stdout
    );
    let sql = run_in(
        &env,
        elsewhere.path(),
        &[
            "--trace-dir",
            store,
            "sql",
            "SELECT '日本語のテキスト' AS name, 'x' AS after UNION ALL SELECT 'ab', 'x'",
        ],
    );
    sql.success();
    let after = columns_of(&sql.stdout, r"(after|x$)");
    assert!(
        after.len() == 3 && after.iter().all(|c| *c == after[0]),
        "{after:?}\n{}",
        sql.stdout
    );
}

#[test]
fn a_project_cut_at_a_wide_character_keeps_the_project_column_in_line() {
    // The column was as wide as the label's start cut to 24 columns, but the cell shows its
    // end: a wide character ending at column 24 made the start one column narrower than the
    // end, and that row's later columns stood one to the right.
    let env = TestEnv::new();
    let prefix = width(&format!("{}/", env.path().display()));
    assert!(
        prefix <= 22,
        "the temporary folder's path is too long: {prefix}"
    );
    let pad = if prefix % 2 == 1 { "a" } else { "" };
    let wide = "项".repeat((24 - prefix - pad.len()) / 2);
    let name = format!("{pad}{wide}-then-a-plain-ascii-tail");
    one_session_a_project(&env, &[name.as_str(), "p"], "5e55200", |_| None);
    started_lines_up_across_projects(&env, "plain-ascii-tail");
}

#[test]
fn a_session_named_from_a_folder_that_does_not_hold_it_says_which_store_does() {
    // After `import --all`, a transcript whose folder is gone is in the user-level store: from
    // the project the user stands in, its id used to be only "no trace store" or "no session
    // matches", with a hint to run the import again.
    let env = TestEnv::new();
    let claude = folder(&env, "claude");
    let (_, session) = transcript_in(&claude.join("projects"), "-gone", "/no/such/project");
    let standing = folder(&env, "standing-here");
    let import = run_in(
        &env,
        &standing,
        &["import", "--all", "--claude-dir", claude.to_str().unwrap()],
    );
    import.success();
    // The import says how its sessions are read from here.
    assert!(
        import.stdout.contains("list --all-projects") && import.stdout.contains("--trace-dir"),
        "{import:?}"
    );
    let user_store = env.home.path().join("traces");
    let prefix = &session[..8];
    let hint = format!("add `--trace-dir {}` to read it", user_store.display());
    // No store here: every command that names a session, whichever way it opens the store.
    for command in ["replay", "explain", "cost", "audit", "export"] {
        let run = run_in(&env, &standing, &[command, prefix]);
        assert_eq!(run.code, 2, "{command}: {run:?}");
        assert!(run.stderr.contains("no trace store"), "{command}: {run:?}");
        assert!(
            run.stderr.contains(&session) && run.stderr.contains(&hint),
            "{command}: {run:?}"
        );
        assert_eq!(run.stderr.lines().count(), 1, "{command}: {run:?}");
    }
    // A store here that does not hold it.
    SessionBuilder::new("local-1")
        .started(DAY0)
        .prompt("hi")
        .ended(1.0)
        .write_in(&standing.join(".agent-traces"));
    let run = run_in(&env, &standing, &["stats", prefix]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("no session matches `{prefix}`"))
            && run.stderr.contains(&hint),
        "{run:?}"
    );
    // The hint works as written, and a prefix no store holds keeps the usual hint.
    run_in(
        &env,
        &standing,
        &["--trace-dir", user_store.to_str().unwrap(), "stats", prefix],
    )
    .success();
    let none = run_in(&env, &standing, &["stats", "ffffffff"]);
    assert_eq!(none.code, 2, "{none:?}");
    assert!(!none.stderr.contains("--trace-dir"), "{none:?}");
}

/// A session copied into a second project made `sql --all-projects` fail whatever it asked
/// ("UNIQUE constraint failed: idx_sessions.session_id"): each copy is now a row with its
/// project, as each store holds it.
#[test]
fn sql_over_every_project_keeps_a_session_copied_into_two_of_them() {
    const COPIED: &str = "a1a10000-0000-4000-8000-000000000001";
    let env = TestEnv::new();
    let (a, b) = two_projects(&env);
    let copy = b.join(".agent-traces").join(COPIED);
    std::fs::create_dir_all(&copy).unwrap();
    for file in ["meta.json", "events.ndjson"] {
        std::fs::copy(
            a.join(".agent-traces").join(COPIED).join(file),
            copy.join(file),
        )
        .unwrap();
    }
    run_in(&env, &b, &["list"]).success();
    for query in [
        "SELECT count(*) AS n, count(DISTINCT session_id) AS d FROM sessions",
        "SELECT count(*) AS n, count(DISTINCT session_id) AS d FROM idx_state",
    ] {
        let run = run_in(
            &env,
            env.path(),
            &["sql", "--all-projects", "--format", "json", query],
        );
        assert_eq!(run.code, 0, "{query}: {run:?}");
        assert_eq!(run.json(), json!([{"n": 4, "d": 3}]), "{query}");
    }
}

#[test]
fn no_session_named_and_no_store_here_names_the_stores_that_hold_sessions() {
    // After `import --all`, the sessions are in the user-level store (or a project's): from a
    // folder with no store, `replay` with no id used to hint at `import --all` again.
    let (env, standing) = sessions_only_in_the_user_store();
    for command in [
        "replay", "explain", "stats", "show", "lint", "cost", "inspect",
    ] {
        let run = run_in(&env, &standing, &[command]);
        refused_naming_the_user_store(&env, &[command], &run, "no trace store");
        assert_eq!(run.stderr.lines().count(), 1, "{command}: {run:?}");
    }
    // A store here that holds nothing says the same.
    std::fs::create_dir_all(standing.join(".agent-traces")).unwrap();
    let run = run_in(&env, &standing, &["replay"]);
    refused_naming_the_user_store(&env, &["replay"], &run, "holds no sessions");
    std::fs::remove_dir(standing.join(".agent-traces")).unwrap();
    // Sessions in two stores: both named, and the way to see them all. The helper's
    // transcripts folder gets a second project, imported again the same way.
    let claude = folder(&env, "claude");
    let import_all = ["import", "--all", "--claude-dir", claude.to_str().unwrap()];
    let user_store = env.home.path().join("traces");
    let project = folder(&env, "code/app");
    let mut again = transcript_in(&claude.join("projects"), "-code-app", "x").0;
    let text = std::fs::read_to_string(&again)
        .unwrap()
        .replace("\"x\"", &Value::from(project.to_str().unwrap()).to_string());
    let session = "0d0e0000-0000-4000-8000-0000000000bb";
    let id = again.file_stem().unwrap().to_str().unwrap().to_owned();
    std::fs::remove_file(&again).unwrap();
    again.set_file_name(format!("{session}.jsonl"));
    std::fs::write(&again, text.replace(&id, session)).unwrap();
    run_in(&env, &standing, &import_all).success();
    assert!(project.join(".agent-traces").join(session).is_dir());
    let run = run_in(&env, &standing, &["replay"]);
    assert_eq!(run.code, 2, "{run:?}");
    for what in [
        user_store.to_str().unwrap(),
        project.join(".agent-traces").to_str().unwrap(),
        "--trace-dir DIR",
        "list --all-projects",
    ] {
        assert!(run.stderr.contains(what), "{what}: {run:?}");
    }
    // With no session anywhere, the ways to record one are still the hint.
    let empty = TestEnv::new();
    let run = empty.run(&["replay"]);
    assert!(run.stderr.contains("import --all"), "{run:?}");
}

/// `list` from a folder with no store suggested `import --all` after it had run, its sessions
/// in the user-level store: it now names the store that holds sessions, as `replay` and the
/// other one-session commands do.
#[test]
fn list_with_no_store_here_names_the_store_that_holds_sessions() {
    let (env, standing) = sessions_only_in_the_user_store();
    for args in [&["list"][..], &["list", "--format", "json"]] {
        let run = run_in(&env, &standing, args);
        refused_naming_the_user_store(&env, args, &run, "no trace store");
    }
    // With no session anywhere, the ways to record one are still the hint.
    let empty = TestEnv::new();
    let run = empty.run(&["list"]);
    assert!(run.stderr.contains("import --all"), "{run:?}");
}

/// The other commands that name no session (`dashboard`, `budget-report`, `sql`, `drift`,
/// `sample`, `optimize`, `retention`, `policy`, `lint --all`, `compare --tag`) suggested
/// `import --all` from a folder with no store after it had run, its sessions in the user-level
/// store (`policy` said only `No such file or directory`): they name that store now, as `list`
/// does.
#[test]
fn every_command_naming_no_session_with_no_store_here_names_the_store_that_holds_sessions() {
    let (env, standing) = sessions_only_in_the_user_store();
    let commands: [&[&str]; 11] = [
        &["dashboard"],
        &["dashboard", "--format", "json"],
        &["budget-report"],
        &["sql", "SELECT count(*) FROM sessions"],
        &["drift"],
        &["sample"],
        &["optimize"],
        &["retention", "status"],
        &["policy"],
        &["lint", "--all"],
        &["compare", "--tag", "fix"],
    ];
    for args in commands {
        let run = run_in(&env, &standing, args);
        refused_naming_the_user_store(&env, args, &run, "no trace store");
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {run:?}");
    }
}

/// From a folder whose store is there but holds no session, `drift`, `policy` and
/// `compare --tag` gave a hint of their own (`no session is recorded`, `no sessions to learn a
/// policy from`, `0 found`) while the user-level store held one: they name it now, as they do
/// with no store here.
#[test]
fn commands_naming_no_session_in_an_empty_store_name_the_store_that_holds_sessions() {
    let (env, standing) = sessions_only_in_the_user_store();
    std::fs::create_dir(standing.join(".agent-traces")).unwrap();
    for args in [&["drift"][..], &["policy"], &["compare", "--tag", "fix"]] {
        let run = run_in(&env, &standing, args);
        refused_naming_the_user_store(&env, args, &run, "holds no sessions");
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {run:?}");
    }
    // With no session anywhere, the ways to record one are the hint.
    let empty = TestEnv::new();
    std::fs::create_dir(empty.store()).unwrap();
    for args in [&["drift"][..], &["policy"], &["compare", "--tag", "fix"]] {
        let run = empty.run(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains("holds no sessions"),
            "{args:?}: {run:?}"
        );
        assert!(run.stderr.contains("import --all"), "{args:?}: {run:?}");
    }
}

/// A store-less folder to stand in, and the user-level store holding the one session
/// `import --all` brought there from the transcripts folder `claude` (`folder(&env, "claude")`).
fn sessions_only_in_the_user_store() -> (TestEnv, PathBuf) {
    let env = TestEnv::new();
    let claude = folder(&env, "claude");
    transcript_in(&claude.join("projects"), "-gone", "/no/such/project");
    let standing = folder(&env, "standing-here");
    let import_all = ["import", "--all", "--claude-dir", claude.to_str().unwrap()];
    run_in(&env, &standing, &import_all).success();
    (env, standing)
}

/// `run` of `args` from such a folder was refused (2), saying `why` and naming the user-level
/// store and how to read it, and not suggesting `import --all`, which has run.
#[track_caller]
fn refused_naming_the_user_store(env: &TestEnv, args: &[&str], run: &Run, why: &str) {
    let user_store = env.home.path().join("traces");
    let hint = format!("add `--trace-dir {}` to read them", user_store.display());
    assert_eq!(run.code, 2, "{args:?}: {run:?}");
    assert!(
        run.stderr.contains(why) && run.stderr.contains(&hint),
        "{args:?}: {run:?}"
    );
    assert!(!run.stderr.contains("import --all"), "{args:?}: {run:?}");
}

/// A folder's permissions in octal, as `ls` and `chmod` spell them.
fn mode(path: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    format!(
        "{:o}",
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    )
}

/// A new store is its owner's alone (0700), whoever makes it: a hook, an import into a project's
/// store, the user-level store or `--trace-dir`. Before, under umask 022 it was made 0755 with
/// 0644 files, and any local user could read the prompts, files and tool output in it. A store
/// that is there already keeps its mode: one shared on purpose stays shared.
#[test]
fn a_new_store_is_readable_by_its_owner_alone_and_an_old_one_keeps_its_mode() {
    let env = TestEnv::new();
    let payload = json!({"session_id": "7a1e0000-0000-4000-8000-000000000002",
        "hook_event_name": "SessionStart", "source": "startup", "cwd": env.path()});

    let project = folder(&env, "code/app");
    let claude = folder(&env, "claude");
    let (_, here) = transcript_in(
        &claude.join("projects"),
        "-code-app",
        project.to_str().unwrap(),
    );
    let gone = claude.join("projects/-gone");
    std::fs::create_dir_all(&gone).unwrap();
    let gone_session = "0d0e0000-0000-4000-8000-0000000000ab";
    let text = std::fs::read_to_string(claude.join(format!("projects/-code-app/{here}.jsonl")))
        .unwrap()
        .replace(&here, gone_session)
        .replace(project.to_str().unwrap(), "/no/such/project");
    std::fs::write(gone.join(format!("{gone_session}.jsonl")), text).unwrap();
    let one = env.path().join("one-store");
    let standing = folder(&env, "standing-here");
    let claude_dir = claude.to_str().unwrap();
    for args in [
        vec!["import", "--all", "--claude-dir", claude_dir],
        vec![
            "--trace-dir",
            one.to_str().unwrap(),
            "import",
            "--all",
            "--claude-dir",
            claude_dir,
        ],
    ] {
        // From a folder with no store, so that each transcript goes to its project's.
        let mut import = env.command(&args);
        import.current_dir(&standing);
        Run::of(under_umask_022(&import).output().unwrap()).success();
    }
    // A hook in a project with no store yet (after the imports, which would take it for the
    // store above their project).
    let hook = under_umask_022(&env.command(&["hook", "session-start"]));
    crate::common::run_with_stdin(hook, payload.to_string().as_bytes()).success();
    let user_store = env.home().join("traces");
    for store in [env.store(), project.join(".agent-traces"), user_store, one] {
        assert!(store.is_dir(), "{}", store.display());
        assert_eq!(mode(&store), "700", "{}", store.display());
    }

    if rustix::process::geteuid().is_root() {
        // Another user can no longer read what the hook recorded.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(env.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let run = crate::common::as_nobody(&env, &["list", "--format", "json"]);
        assert_ne!(run.code, 0, "{run:?}");
        assert!(run.stderr.contains("Permission denied"), "{run:?}");
    }

    // A store made before (or by another tool) with 0755 is left as it is.
    let old = TestEnv::new();
    std::fs::create_dir(old.store()).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(old.store(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    old.hook("session-start", &payload).success();
    assert_eq!(old.sessions().len(), 1);
    assert_eq!(mode(&old.store()), "755");
}

/// A store every user of the machine can read (an earlier agent-strace's or the Python tool's,
/// made under umask 022) is named, with the command that makes it private, by the commands a
/// user runs to look after a store: `setup` and `retention`. Before, nothing said so: the store
/// kept its mode, as it still does, in silence. A private store, or one shared with a group on
/// purpose, is no cause for a warning.
#[test]
fn setup_and_retention_say_when_every_user_can_read_the_store() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let payload = json!({"session_id": "7a1e0000-0000-4000-8000-000000000003",
        "hook_event_name": "SessionStart", "source": "startup", "cwd": env.path()});
    std::fs::create_dir(env.store()).unwrap();
    env.hook("session-start", &payload).success();
    let store = env.store().display().to_string();
    let settings = env.path().join("settings.json");
    let commands: [&[&str]; 2] = [
        &["setup", "--settings", settings.to_str().unwrap()],
        &["retention", "status"],
    ];
    for (mode, open) in [
        (0o755, true),
        (0o700, false),
        (0o2750, false),
        (0o701, true),
    ] {
        std::fs::set_permissions(env.store(), std::fs::Permissions::from_mode(mode)).unwrap();
        for args in commands {
            let run = run_in(&env, env.path(), args);
            run.success();
            let warned = run.stderr.contains(&format!(
                "warning: the store {store} can be read by every user of this machine (mode {mode:04o})"
            ));
            assert_eq!(warned, open, "{mode:o} {args:?}: {run:?}");
            if open {
                assert!(
                    run.stderr
                        .contains(&format!("`chmod 700 {store}` makes it yours alone")),
                    "{run:?}"
                );
                // Said once (setup's notes on the block it prints are on stderr too).
                let warnings = run.stderr.lines().filter(|l| l.starts_with("warning: "));
                assert_eq!(warnings.count(), 1, "{run:?}");
            }
        }
    }
    // The mode is the user's to change, never ours.
    assert_eq!(mode(&env.store()), "701");
}

/// The session `short.jsonl` of the corpus imports as.
const SHORT: &str = "55604662-cf2a-4331-851a-ec234028f8ca";

/// Imports the corpus's `short.jsonl` (session [`SHORT`]) into the store.
fn one_imported(env: &TestEnv) {
    let transcript = shared().join("corpus/claude-code/marot__spotter/short.jsonl");
    env.run(&["import", transcript.to_str().unwrap()]).success();
}

/// A session folder that is the user's link to another session folder of the store is that
/// session again: it was listed twice, and `budget-report` and `sql` counted its cost twice
/// ($0.2889 for one session of $0.1444), an index that knew it before as well as a new one.
/// It is skipped with one warning (and refused when named); a link to a session kept
/// elsewhere is followed as before, and a link to that link is skipped too.
#[test]
fn a_session_folder_linked_to_another_of_the_store_counts_once() {
    let env = TestEnv::new();
    one_imported(&env);
    // The index knows the session before the link is made, and again with it.
    env.run(&["list"]).success();
    std::os::unix::fs::symlink(SHORT, env.store().join("again")).unwrap();
    for _ in 0..2 {
        let listed = env.run(&["list", "--format", "json"]);
        assert_eq!(listed.session_ids(), [SHORT], "{listed:?}");
        assert_eq!(
            listed.stderr.matches("is a symbolic link to").count(),
            1,
            "{listed:?}"
        );
        assert!(
            listed.stderr.contains(
                "another session folder of this store; it is not read, so that session counts \
                 once, under its own name"
            ),
            "{listed:?}"
        );
    }
    let report = env.run(&["budget-report", "--since", "2026-01-01"]);
    report.success();
    assert!(report.stdout.contains("Total spend: $0.1444"), "{report:?}");
    assert!(report.stdout.contains("Sessions: 1 "), "{report:?}");
    let sql = env.run(&[
        "sql",
        "SELECT count(*) AS n FROM sessions",
        "--format",
        "json",
    ]);
    assert_eq!(sql.json()[0]["n"], 1, "{sql:?}");
    env.run(&["replay", "again"])
        .fails_with(3, "is a symbolic link to \"55604662");
    // The latest session is the one, without a word about its link.
    let latest = env.run(&["replay"]);
    latest.success();
    assert!(
        latest.stdout.contains(SHORT) && latest.stderr.is_empty(),
        "{latest:?}"
    );

    // Kept on another disk through a link, the session is still read; the link to its link
    // is still the same session.
    let elsewhere = env.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::rename(env.store().join(SHORT), elsewhere.join(SHORT)).unwrap();
    std::os::unix::fs::symlink(elsewhere.join(SHORT), env.store().join(SHORT)).unwrap();
    let listed = env.run(&["list", "--format", "json"]);
    assert_eq!(listed.session_ids(), [SHORT], "{listed:?}");
    assert_eq!(
        listed.stderr.matches("is a symbolic link to").count(),
        1,
        "{listed:?}"
    );
}

/// A FIFO (or a plain file) where the store's folder should be was "no trace store", exit 2,
/// as if nothing were there: it is said for what it is, exit 3 (input unusable).
#[test]
fn a_store_path_that_is_no_folder_says_what_it_is() {
    let env = TestEnv::new();
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        env.store(),
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .unwrap();
    for args in [
        &["list"][..],
        &["replay", "abc"],
        &["replay"],
        &["sql", "SELECT 1"],
    ] {
        env.run(args).fails_with(
            3,
            "/.agent-traces is a FIFO where the store keeps a folder; it is left alone",
        );
    }
    std::fs::remove_file(env.store()).unwrap();
    std::fs::write(env.store(), "").unwrap();
    env.run(&["list"])
        .fails_with(3, "/.agent-traces is a file where the store keeps a folder");
}

/// A store its readers may enter but not list (mode 711, its sessions readable) kept every
/// session from them: `replay <id>` failed "Permission denied" (exit 4) listing the store. A
/// session named by its whole id is read without listing (its subagents, which only a listing
/// finds, left out with a warning); a prefix still needs the listing.
#[test]
fn a_session_named_by_its_id_is_read_in_a_store_that_cannot_be_listed() {
    use std::os::unix::fs::PermissionsExt;
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: needs root and setpriv to read as someone else");
        return;
    }
    let env = TestEnv::new();
    one_imported(&env);
    let mode = |path: &Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    mode(env.path(), 0o755);
    mode(&env.store(), 0o711);
    let session = env.store().join(SHORT);
    mode(&session, 0o755);
    for file in std::fs::read_dir(&session).unwrap() {
        let file = file.unwrap().path();
        if file.is_file() {
            mode(&file, 0o644);
        }
    }
    for command in ["replay", "stats", "inspect", "cost", "export"] {
        let run = crate::common::as_nobody(&env, &[command, SHORT]);
        run.success();
        assert!(run.stdout.contains(SHORT), "{command}: {run:?}");
        // Those that count a session's subagents in say they cannot be found.
        let warned = run.stderr.contains(&format!(
            "Permission denied (os error 13); the store cannot be listed, so the subagents of \
             {SHORT} are left out"
        ));
        assert_eq!(
            warned,
            ["cost", "export"].contains(&command),
            "{command}: {run:?}"
        );
    }
    crate::common::as_nobody(&env, &["replay", &SHORT[..8]]).fails_with(4, "Permission denied");
}

/// A hook walked up its folder as written: a payload `cwd` of `proj/../other` reached `proj`'s
/// store, and `CLAUDE_PROJECT_DIR=.` (or a linked project folder) started a new store below
/// the one a command run in the project finds, so each session went where no command run in
/// its folder looked. The folder is resolved first, as the current folder of a command is.
#[test]
fn a_hook_places_a_session_by_the_folder_it_ran_in_not_by_how_it_was_written() {
    let env = TestEnv::new();
    let proj = folder(&env, "proj");
    std::fs::create_dir(proj.join(".agent-traces")).unwrap();
    let other = folder(&env, "other");
    let hook = |dir: &Path, claude_dir: Option<&str>, cwd: &str, id: &str| {
        let payload = json!({"session_id": id, "hook_event_name": "UserPromptSubmit",
                             "prompt": "x", "cwd": cwd});
        let mut command = env.command(&["hook", "user-prompt"]);
        command.current_dir(dir);
        if let Some(claude_dir) = claude_dir {
            command.env("CLAUDE_PROJECT_DIR", claude_dir);
        }
        let run = crate::common::run_with_stdin(command, payload.to_string().as_bytes());
        assert_eq!(run.code, 0, "{run:?}");
    };
    let dotted = format!("{}/../other", proj.display());
    hook(env.path(), None, &dotted, "s-dotted");
    assert!(!proj.join(".agent-traces").join("s-dotted").exists());
    let listed = run_in(&env, &other, &["list", "--format", "json"]);
    assert!(listed.stdout.contains("s-dotted"), "{listed:?}");

    let sub = proj.join("sub");
    std::fs::create_dir(&sub).unwrap();
    hook(&sub, Some("."), "", "s-relative");
    assert!(!sub.join(".agent-traces").exists());
    let listed = run_in(&env, &sub, &["list", "--format", "json"]);
    assert!(listed.stdout.contains("s-relative"), "{listed:?}");

    let linked = env.path().join("home");
    std::fs::create_dir_all(linked.join(".agent-traces")).unwrap();
    std::os::unix::fs::symlink(&other, linked.join("other")).unwrap();
    let through = linked.join("other");
    hook(env.path(), Some(through.to_str().unwrap()), "", "s-linked");
    let listed = run_in(&env, &through, &["list", "--format", "json"]);
    assert!(listed.stdout.contains("s-linked"), "{listed:?}");
}

/// A store whose folder is there but takes no new folder (`/proc/self`) was said to have no
/// parent folder ("its parent folder does not exist"), which sent a user looking for a folder
/// that is there.
#[test]
fn a_store_that_cannot_be_made_in_a_folder_that_is_there_says_so() {
    let env = TestEnv::new();
    let transcript = shared().join("corpus/claude-code/marot__spotter/short.jsonl");
    let run = env.run(&[
        "--trace-dir",
        "/proc/self/.agent-traces",
        "import",
        transcript.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 4, "{run:?}");
    assert!(!run.stderr.contains("does not exist"), "{run:?}");
    assert!(run.stderr.contains("takes no new folder"), "{run:?}");
    let gone = env.path().join("gone").join(".agent-traces");
    let run = env.run(&[
        "--trace-dir",
        gone.to_str().unwrap(),
        "import",
        transcript.to_str().unwrap(),
    ]);
    assert!(run.stderr.contains("does not exist"), "{run:?}");
}

/// `list --project notes.txt` (a file, named relative to the folder it is in) listed the store
/// of that folder, as if no project were named, and `--project /abs/notes.txt` failed with
/// "Not a directory" (exit 4) where the folder had no store. A file is no project's folder:
/// one error line, exit 2, as for a folder that is not there (with no store above it).
#[test]
fn list_project_naming_a_file_is_refused_as_no_project_folder() {
    let env = TestEnv::new();
    let project = folder(&env, "code/app");
    let payload = json!({"session_id": "s-here", "cwd": project, "hook_event_name": "UserPromptSubmit",
                         "prompt": "hello"});
    env.run_with_stdin(&["hook", "user-prompt"], payload.to_string().as_bytes())
        .success();
    assert!(project.join(".agent-traces").join("s-here").is_dir());
    std::fs::write(project.join("notes.txt"), "notes\n").unwrap();
    let bare = folder(&env, "bare");
    std::fs::write(bare.join("notes.txt"), "notes\n").unwrap();
    let bare_file = bare.join("notes.txt");
    // As a folder that is not there, where no store is above it.
    let missing = run_in(&env, &bare, &["list", "--project", "missing-dir"]);
    for (dir, named) in [
        (&project, "notes.txt"),
        (&project, "./notes.txt"),
        (&bare, bare_file.to_str().unwrap()),
    ] {
        let run = run_in(&env, dir, &["list", "--project", named]);
        assert_eq!(run.code, missing.code, "{named}: {run:?}");
        assert_eq!(run.code, 2, "{named}: {run:?}");
        assert!(!run.stdout.contains("s-here"), "{named}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{named}: {run:?}");
        assert!(run.stderr.contains("notes.txt"), "{named}: {run:?}");
    }
    // The folder itself is still read.
    let listed = run_in(
        &env,
        &bare,
        &["list", "--project", project.to_str().unwrap()],
    );
    assert!(listed.stdout.contains("hello"), "{listed:?}");
}

/// `import --all` counted a transcript whose project's store could not be made among those
/// imported ("1 transcript for /proc/self/.agent-traces" beside the error saying it failed):
/// such a store holds nothing, and its transcripts are counted as not imported.
#[test]
fn import_all_counts_the_transcripts_of_a_store_that_could_not_be_made_as_not_imported() {
    let env = TestEnv::new();
    let project = folder(&env, "code/app");
    let claude = folder(&env, "claude");
    let (file, here) = transcript_in(
        &claude.join("projects"),
        "-code-app",
        project.to_str().unwrap(),
    );
    // Another session, run in a folder that is there but takes no new folder.
    let other = "0d0e0000-0000-4000-8000-0000000000bb";
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace(&here, other)
        .replace(project.to_str().unwrap(), "/proc/self");
    let proc_dir = claude.join("projects").join("-proc-self");
    std::fs::create_dir_all(&proc_dir).unwrap();
    std::fs::write(proc_dir.join(format!("{other}.jsonl")), text).unwrap();
    let standing = folder(&env, "standing");
    let run = run_in(
        &env,
        &standing,
        &["import", "--all", "--claude-dir", claude.to_str().unwrap()],
    );
    assert_eq!(run.code, 4, "{run:?}");
    assert!(run.stderr.contains("takes no new folder"), "{run:?}");
    assert!(
        project.join(".agent-traces").join(&here).is_dir(),
        "{run:?}"
    );
    let counted: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains(" transcript"))
        .collect();
    assert!(
        counted
            .iter()
            .any(|l| l.starts_with("1 transcript for ") && l.ends_with("app/.agent-traces")),
        "{run:?}"
    );
    assert!(
        !counted.iter().any(|l| l.contains("/proc/")),
        "a store that could not be made is said to hold a transcript: {run:?}"
    );
    assert!(
        counted
            .iter()
            .any(|l| l.starts_with("1 transcript not imported")),
        "{run:?}"
    );
}

/// The hint naming the store that holds a session gave its path bare, `--trace-dir /…/My
/// Project/.agent-traces`: pasted, it split at the space, and a `$(…)` in a folder's name ran.
/// The path is one shell word now.
#[test]
fn the_trace_dir_a_hint_names_is_one_shell_word() {
    let env = TestEnv::new();
    let project = folder(&env, "My Project $(touch pwned)");
    let payload = json!({"session_id": "s1", "cwd": project, "hook_event_name": "UserPromptSubmit",
                         "prompt": "hello"});
    env.run_with_stdin(&["hook", "user-prompt"], payload.to_string().as_bytes())
        .success();
    let standing = folder(&env, "standing");
    for args in [&["list"][..], &["replay", "s1"]] {
        let run = run_in(&env, &standing, args);
        let (_, hint) = run.stderr.split_once("`--trace-dir ").expect(&run.stderr);
        let (word, _) = hint.split_once('`').unwrap();
        let pasted = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {word}"))
            .current_dir(&standing)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(pasted.stdout).unwrap(),
            project.join(".agent-traces").to_str().unwrap(),
            "{}",
            run.stderr
        );
        assert!(!standing.join("pwned").exists());
    }
}

/// `import --all` said where each transcript went with the store's path as it is, so a
/// newline in the folder a session ran in began a line of its own: it is escaped.
#[test]
fn import_all_names_a_store_with_a_newline_on_one_line() {
    let env = TestEnv::new();
    let project = folder(&env, "code/new\nline");
    let claude = folder(&env, "claude");
    transcript_in(
        &claude.join("projects"),
        "-code-new-line",
        project.to_str().unwrap(),
    );
    let standing = folder(&env, "standing");
    let run = run_in(
        &env,
        &standing,
        &["import", "--all", "--claude-dir", claude.to_str().unwrap()],
    );
    run.success();
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("1 transcript for ") && l.ends_with("line/.agent-traces")),
        "{}",
        run.stdout
    );
}

/// With `AGENT_STRACE_WORKSPACE` set, a store whose workspace holds no session yet said to add
/// `--trace-dir DIR`, which reads that folder's workspace too and fails the same way; the hint
/// names the variable instead, and unsetting it reads the store as the hint says.
#[test]
fn a_workspace_with_no_store_names_the_variable_not_trace_dir() {
    let env = TestEnv::new();
    let store = env.path().join("proj").join(".agent-traces");
    std::fs::create_dir_all(&store).unwrap();
    let store = store.to_str().unwrap();
    let mut list = env.command(&["list", "--trace-dir", store]);
    list.env("AGENT_STRACE_WORKSPACE", "dev");
    let run = Run::of(list.output().unwrap());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("AGENT_STRACE_WORKSPACE=dev"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("--trace-dir DIR"), "{}", run.stderr);
    let unset = env.run(&["list", "--trace-dir", store]);
    assert!(!unset.stderr.contains("no trace store"), "{}", unset.stderr);
}

/// With `AGENT_STRACE_WORKSPACE` set and other stores holding sessions, the error of a
/// workspace with no store named those stores and `--trace-dir DIR` to read one, which reads
/// that store's workspace and fails the same way, and never named the variable; with
/// `--trace-dir` naming the store here it did the same. Both now name the variable to unset.
#[test]
fn a_workspace_with_no_store_names_the_variable_when_other_stores_hold_sessions() {
    let env = TestEnv::new();
    let (a, _) = two_projects(&env);
    let here = folder(&env, "here");
    let store = here.join(".agent-traces");
    std::fs::create_dir_all(&store).unwrap();
    let trace_dir = store.to_str().unwrap();
    for args in [
        vec!["list"],
        vec!["list", "--trace-dir", trace_dir],
        vec!["stats"],
    ] {
        let mut command = env.command(&args);
        command
            .current_dir(&here)
            .env("AGENT_STRACE_WORKSPACE", "prod");
        let run = Run::of(command.output().unwrap());
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("unset AGENT_STRACE_WORKSPACE"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("--trace-dir"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains(a.to_str().unwrap()),
            "{args:?}: {}",
            run.stderr
        );
    }
}
