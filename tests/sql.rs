//! `sql` when the store is not as it should be: an index it cannot write, sessions it cannot
//! read, something else where the index goes; and queries that would run away, refusals that
//! say what they refuse. (tests/index.rs tests the index itself and `sql`'s usual output.)

use std::path::Path;

use serde_json::{Value, json};

use crate::common::{Run, TestEnv, with_a_full_disk_at_32_kib};

/// A session of `calls` Bash calls, each with its result, as our hooks keep it.
fn session(env: &TestEnv, id: &str, calls: usize) {
    let dir = env.store().join(id);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("meta.json"),
        json!({"session_id": id, "started_at": 1_700_000_000.0, "agent_name": "claude-code"})
            .to_string(),
    )
    .unwrap();
    std::fs::write(dir.join(".counters"), b"").unwrap();
    let mut text = json!({"event_type": "session_start", "timestamp": 1_700_000_000.0,
        "event_id": format!("{id}-s"), "session_id": id, "data": {}})
    .to_string()
        + "\n";
    for n in 0..calls {
        let call = format!("{id}-c{n}");
        text += &json!({"event_type": "tool_call", "timestamp": 1_700_000_001.0,
            "event_id": call, "session_id": id,
            "data": {"tool_name": "Bash", "arguments": {"command": "make"}}})
        .to_string();
        text += "\n";
        text += &json!({"event_type": "tool_result", "timestamp": 1_700_000_002.0,
            "event_id": format!("{call}-r"), "session_id": id, "parent_id": call,
            "data": {"tool_name": "Bash", "result": "ok"}})
        .to_string();
        text += "\n";
    }
    std::fs::write(dir.join("events.ndjson"), text).unwrap();
}

fn warnings(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect()
}

fn count(run: &Run) -> Value {
    assert_eq!(run.code, 0, "{run:?}");
    run.json()[0]["n"].clone()
}

const COUNT: &[&str] = &[
    "sql",
    "--format",
    "json",
    "SELECT count(*) AS n FROM tool_calls",
];

/// An index that cannot be written (a full disk here; a read-only store below) is no reason
/// for `sql` to fail: it queries an index built in memory, with one warning. It once failed
/// with exit 4 ("attempt to write a readonly database") even when the index was up to date.
#[test]
fn sql_over_an_index_it_cannot_write_queries_one_built_in_memory() {
    let env = TestEnv::new();
    session(&env, "aaaa-1", 2);
    session(&env, "bbbb-2", 3);
    let full = with_a_full_disk_at_32_kib(&env.command(COUNT))
        .output()
        .unwrap();
    let run = Run::of(full);
    assert_eq!(count(&run), 5);
    assert_eq!(warnings(&run).len(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("built in memory"), "{}", run.stderr);
    // Across projects too.
    let mut all = env.command(&[
        "sql",
        "--all-projects",
        "--format",
        "json",
        "SELECT count(*) AS n FROM tool_calls",
    ]);
    let run = Run::of(with_a_full_disk_at_32_kib(&all).output().unwrap());
    assert_eq!(count(&run), 5);
    assert!(run.stderr.contains("built in memory"), "{}", run.stderr);
    all.output().unwrap();

    // Another user's store, up to date, read by someone who may not write it.
    let root = rustix::process::geteuid().is_root();
    let setpriv = std::process::Command::new("setpriv")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !root || !setpriv {
        eprintln!("skipped the read-only store: needs root and setpriv");
        return;
    }
    env.run(COUNT).success();
    for path in [env.path(), &env.store(), env.home()] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let command = env.command(COUNT);
    let mut nobody = std::process::Command::new("setpriv");
    nobody
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(command.get_program())
        .args(command.get_args())
        .current_dir(env.path())
        .env("AGENT_STRACE_HOME", env.path().join("nobody-home"));
    let run = Run::of(nobody.output().unwrap());
    assert_eq!(count(&run), 5);
    assert!(warnings(&run).len() <= 1, "{}", run.stderr);
}

/// A session `sql` cannot read is left out with a warning, as `list` warns: a count that
/// silently leaves sessions out is wrong without a word.
#[test]
fn sql_warns_of_each_session_it_leaves_out() {
    let env = TestEnv::new();
    session(&env, "aaaa-1", 2);
    session(&env, "bbbb-2", 3);
    let events = env.store().join("bbbb-2").join("events.ndjson");
    std::fs::remove_file(&events).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(&events)
        .status()
        .unwrap();
    assert!(status.success());
    let run = env.run(COUNT);
    assert_eq!(count(&run), 2);
    let warned = warnings(&run);
    assert_eq!(warned.len(), 1, "{}", run.stderr);
    assert!(warned[0].contains("bbbb-2"), "{}", run.stderr);
}

/// Puts something other than a file where the index goes.
type Make<'a> = dyn Fn(&Path) + 'a;

/// A link, FIFO or folder where the index goes is input that is not what the store keeps
/// there: exit 3 (INPUT) with a hint, as documented, not 4; and it is left alone.
#[test]
fn sql_refuses_a_link_fifo_or_folder_in_the_indexs_place_with_exit_3() {
    let env = TestEnv::new();
    session(&env, "aaaa-1", 1);
    let index = env.store().join(".index.sqlite");
    let outside = env.path().join("outside.db");
    std::fs::write(&outside, b"not ours").unwrap();
    let makers: [(&str, &Make<'_>); 3] = [
        ("a link", &|p| {
            std::os::unix::fs::symlink(&outside, p).unwrap();
        }),
        ("a FIFO", &|p| {
            assert!(
                std::process::Command::new("mkfifo")
                    .arg(p)
                    .status()
                    .unwrap()
                    .success()
            );
        }),
        ("a folder", &|p| std::fs::create_dir(p).unwrap()),
    ];
    for (what, make) in makers {
        make(&index);
        let run = env.run(&["sql", "SELECT 1"]);
        assert_eq!(run.code, 3, "{what}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{what}: {}", run.stderr);
        assert!(run.stderr.contains("hint:"), "{what}: {}", run.stderr);
        assert!(std::fs::symlink_metadata(&index).is_ok(), "{what}");
        if index.is_dir() && !index.is_symlink() {
            std::fs::remove_dir(&index).unwrap();
        } else {
            std::fs::remove_file(&index).unwrap();
        }
    }
    assert_eq!(std::fs::read(&outside).unwrap(), b"not ours");
}
