//! `sql` when the store is not as it should be: an index it cannot write, sessions it cannot
//! read, something else where the index goes; and queries that would run away, refusals that
//! say what they refuse, costs that leave out a model with no known price. (tests/index.rs
//! tests the index itself and `sql`'s usual output.)

use std::path::Path;

use serde_json::{Value, json};

use crate::common::{Run, TestEnv, as_nobody, with_a_full_disk_at_32_kib};

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

/// Runs `sql` with `args` over this project's store, or over every store when `many`, and
/// checks that it failed as a bad query fails: exit 2 and one line that holds `says`.
fn fails(env: &TestEnv, many: bool, args: &[&str], says: &str) -> Run {
    let mut all = vec!["sql"];
    if many {
        all.push("--all-projects");
    }
    all.extend(args);
    let run = env.run(&all);
    assert_eq!(run.code, 2, "{all:?}: {run:?}");
    assert!(run.stderr.contains(says), "{all:?}: {}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{all:?}: {}", run.stderr);
    run
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
    let run = as_nobody(&env, COUNT);
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
        // Over every store, one store's never stops the query: its sessions are read into an
        // index in memory, with a warning.
        let run = env.run(&[
            "sql",
            "--all-projects",
            "--format",
            "json",
            "SELECT count(*) AS n FROM tool_calls",
        ]);
        assert_eq!(count(&run), 1, "{what}");
        assert_eq!(warnings(&run).len(), 1, "{what}: {}", run.stderr);
        assert!(std::fs::symlink_metadata(&index).is_ok(), "{what}");
        if index.is_dir() && !index.is_symlink() {
            std::fs::remove_dir(&index).unwrap();
        } else {
            std::fs::remove_file(&index).unwrap();
        }
    }
    assert_eq!(std::fs::read(&outside).unwrap(), b"not ours");
}

const ENDLESS: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c";

/// A query that never stops is no reason to fill memory: csv and json write each row as it
/// comes (so `| head` ends it), a table stops at --max-rows (100,000 unless told) and says so.
/// All rows were once gathered first: memory grew with no output until the allocator gave up.
#[test]
fn a_query_that_never_stops_is_written_as_it_comes_or_cut_at_max_rows() {
    let env = TestEnv::new();
    session(&env, "aaaa-1", 1);
    for format in ["csv", "json"] {
        let mut child = env
            .command(&["sql", "--format", format, ENDLESS])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut head = [0u8; 64];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut head).unwrap();
        // The reader goes away, as `head` does: the command ends, successfully.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}: {out:?}");
        assert!(String::from_utf8_lossy(&head).contains('1'), "{format}");
    }
    let run = env.run(&["sql", "--max-rows", "3", ENDLESS]);
    run.success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", run.stdout);
    assert!(lines[4].contains("the first 3 rows"), "{}", run.stdout);
    let run = env.run(&["sql", "--format", "json", "--max-rows", "2", ENDLESS]);
    run.success();
    assert_eq!(run.json(), json!([{"x": 1}, {"x": 2}]));
    assert_eq!(warnings(&run).len(), 1, "{}", run.stderr);
    // Fewer rows than the limit: nothing is said.
    let run = env.run(&["sql", "--max-rows", "3", "SELECT 1 AS one"]);
    assert!(run.stdout.ends_with("(1 row)\n"), "{}", run.stdout);
    // Counted in words as every count is: one row, thousands separated.
    let run = env.run(&["sql", "--max-rows", "1", ENDLESS]);
    assert!(run.stdout.contains("(the first 1 row; "), "{}", run.stdout);
    let run = env.run(&["sql", "--max-rows", "1200", ENDLESS]);
    assert!(
        run.stdout.contains("(the first 1,200 rows; "),
        "{}",
        run.stdout
    );
    let run = env.run(&["sql", "--format", "csv", "--max-rows", "1", ENDLESS]);
    assert_eq!(
        warnings(&run),
        ["warning: stopped after 1 row (--max-rows); the query returned more"],
        "{}",
        run.stderr
    );
}

/// What SQLite holds for a query (a sort, the DISTINCT of a recursive `UNION`) is kept in
/// memory within `--max-memory`, past which the query fails with one line saying so, exit 2:
/// a sort of a query that never ends once wrote temporary files in /var/tmp, about 30 MB a
/// second, until the disk that sessions are recorded on was full.
#[test]
fn a_sort_that_never_ends_fails_at_the_memory_limit_and_fills_no_disk() {
    let env = TestEnv::new();
    session(&env, "aaaa-1", 1);
    let distinct =
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION SELECT x + 1 FROM c) SELECT count(*) FROM c";
    for many in [false, true] {
        for query in [&format!("{ENDLESS} ORDER BY x DESC")[..], distinct] {
            let args = ["--format", "csv", "--max-memory", "16", query];
            let run = fails(&env, many, &args, "--max-memory 64");
            assert!(
                run.stderr
                    .starts_with("error: the query needs more than the 16 MiB of memory"),
                "{query}: {}",
                run.stderr
            );
        }
    }
    let run = env.run(&["sql", "--format", "json", "PRAGMA temp_store"]);
    assert_eq!(run.json(), json!([{"temp_store": 2}]), "kept in memory");
    let run = env.run(&["sql", "--max-memory", "0", "SELECT 1"]);
    assert_eq!(run.code, 2, "{run:?}");
}

/// A table shows a blob by its size (a 100 MB blob was once turned into hex a byte at a time
/// to show 60 characters of it; its size is prose, so its thousands are separated), and
/// numbers whole: `1e-300` was cut to `0.000…`.
#[test]
fn a_table_shows_blobs_by_their_size_and_numbers_whole() {
    let env = TestEnv::new();
    session(&env, "aaaa-1", 1);
    let run = env.run(&[
        "sql",
        "SELECT zeroblob(100000000) AS b, 1e-300 AS tiny, 1.5e300 AS huge, 0.1 AS tenth, \
         -9223372036854775808 AS least",
    ]);
    run.success();
    let row = run.stdout.lines().nth(1).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells,
        [
            "<blob",
            "100,000,000",
            "bytes>",
            "1e-300",
            "1.5e300",
            "0.1",
            "-9223372036854775808"
        ],
        "{}",
        run.stdout
    );
    let csv = env.run(&[
        "sql",
        "--format",
        "csv",
        "SELECT 1e-300 AS tiny, x'00ff' AS b",
    ]);
    assert_eq!(csv.stdout, "tiny,b\r\n1e-300,00ff\r\n");
}

/// An emoji joined by U+200D (a family) or with a skin tone takes the two columns of one emoji:
/// counted character by character (six and four), it pushed the columns after it out of line.
#[test]
fn a_table_counts_a_joined_emoji_as_one() {
    let env = TestEnv::new();
    session(&env, "aaaa-1", 1);
    let run = env.run(&[
        "sql",
        "SELECT '\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}' AS a, 'x' AS b \
         UNION ALL SELECT '\u{1F44D}\u{1F3FD}', 'y' UNION ALL SELECT 'abcdef', 'z'",
    ]);
    run.success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[..4],
        [
            "a       b",
            "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}      x",
            "\u{1F44D}\u{1F3FD}      y",
            "abcdef  z",
        ],
        "{}",
        run.stdout
    );
}

/// Text a spreadsheet would run as a formula (CSV injection) is written with a `'` before it,
/// quoted, in the header too; numbers stay numbers, negative ones and numbers stored as text
/// included. Before, `=1+1` and a session's `@SUM(…)` were written as they are.
#[test]
fn csv_text_a_spreadsheet_would_run_is_kept_text() {
    let env = TestEnv::new();
    session(&env, "aaaa-1", 1);
    let run = env.run(&[
        "sql",
        "--format",
        "csv",
        "SELECT '=1+1' AS \"=x\", '@SUM(A1)' AS at, '-rf' AS minus, '+cmd' AS plus, \
         char(9) || '=t' AS tab, -5 AS n, -2.5 AS r, '-7' AS t, 'a=b' AS plain",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "\"'=x\",at,minus,plus,tab,n,r,t,plain\r\n\
         \"'=1+1\",\"'@SUM(A1)\",\"'-rf\",\"'+cmd\",\"'\t=t\",-5,-2.5,-7,a=b\r\n"
    );
}

/// JSON keys are column names made unique (`a`, `a_2`): an object keeps one value a key, and
/// `SELECT 1 AS a, 2 AS a` once gave `{"a": 2}` (a self-join of sessions lost a column).
#[test]
fn json_keeps_every_column_of_the_same_name() {
    let env = TestEnv::new();
    session(&env, "aaaa-1", 1);
    let run = env.run(&[
        "sql",
        "--format",
        "json",
        "SELECT 1 AS a, 2 AS a, 3 AS a_2, 4 AS a, 1e999 AS inf",
    ]);
    run.success();
    let row = &run.json()[0];
    let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["a", "a_3", "a_2", "a_4", "inf"]);
    assert_eq!(
        (&row["a"], &row["a_3"], &row["a_2"], &row["a_4"]),
        (&json!(1), &json!(2), &json!(3), &json!(4))
    );
    assert_eq!(row["inf"], Value::Null);
    let run = env.run(&[
        "sql",
        "--format",
        "json",
        "SELECT p.session_id, c.session_id FROM sessions p JOIN sessions c",
    ]);
    assert_eq!(
        run.json(),
        json!([{"session_id": "aaaa-1", "session_id_2": "aaaa-1"}])
    );
}

/// What is refused says what and why, exit 2, before it runs; a PRAGMA that only reads runs.
/// `PRAGMA query_only = 0` once ran with exit 0, `PRAGMA main.journal_mode` was refused as a
/// write, and ATTACH and load_extension said only "not authorized".
#[test]
fn sql_says_what_it_refuses_and_runs_pragmas_that_read() {
    let env = TestEnv::new();
    session(&env, "aaaa-1", 1);
    for many in [false, true] {
        for (statement, says) in [
            ("PRAGMA query_only = 0", "PRAGMA query_only = 0 is refused"),
            (
                "PRAGMA main.user_version = 3",
                "PRAGMA user_version = 3 is refused",
            ),
            ("ATTACH DATABASE 'other.db' AS other", "ATTACH is refused"),
            ("SELECT load_extension('x')", "load_extension() is refused"),
        ] {
            fails(&env, many, &[statement], says);
        }
    }
    let run = env.run(&["sql", "--format", "json", "PRAGMA main.journal_mode"]);
    assert_eq!(run.json(), json!([{"journal_mode": "wal"}]));
    // sid, path, reads, writes, deletes, moves.
    let run = env.run(&["sql", "--format", "json", "PRAGMA table_info(idx_files)"]);
    assert_eq!(run.json().as_array().unwrap().len(), 6);
    assert!(!env.path().join("other.db").exists());
}

/// A write to one of the views failed as SQLite's own "cannot modify sessions because it is a
/// view", where a write to a table got the refusal the docs promise; each is that refusal now.
#[test]
fn sql_refuses_a_write_to_a_view_as_every_write() {
    let env = TestEnv::new();
    session(&env, "aaaa-1", 1);
    for many in [false, true] {
        for statement in [
            "DELETE FROM sessions",
            "UPDATE events SET session_id = 'x'",
            "INSERT INTO tool_calls (session_id) VALUES ('x')",
            "DELETE FROM idx_events",
        ] {
            fails(
                &env,
                many,
                &[statement],
                "`sql` runs queries that only read",
            );
        }
    }
    let run = env.run(&[
        "sql",
        "--format",
        "json",
        "SELECT count(*) AS n FROM sessions",
    ]);
    assert_eq!(count(&run), 1);
}

/// A transaction or savepoint statement, and a PRAGMA that acts when named alone, ran with exit
/// 0 and printed nothing, as if a script's `BEGIN` had begun something; each is now refused
/// before it runs, saying what and why, as a write is. A PRAGMA that reports runs.
#[test]
fn sql_refuses_transactions_and_pragmas_that_act() {
    let env = TestEnv::new();
    session(&env, "aaaa-1", 1);
    for many in [false, true] {
        for (statement, says) in [
            ("BEGIN", "BEGIN is refused"),
            ("BEGIN IMMEDIATE", "BEGIN is refused"),
            ("COMMIT", "COMMIT is refused"),
            ("END", "COMMIT is refused"),
            ("ROLLBACK", "ROLLBACK is refused"),
            ("SAVEPOINT a", "SAVEPOINT is refused"),
            ("RELEASE a", "RELEASE is refused"),
            ("ROLLBACK TO a", "ROLLBACK TO is refused"),
            ("PRAGMA optimize", "PRAGMA optimize is refused"),
            (
                "PRAGMA main.wal_checkpoint",
                "PRAGMA wal_checkpoint is refused",
            ),
            ("PRAGMA shrink_memory", "PRAGMA shrink_memory is refused"),
            (
                "PRAGMA incremental_vacuum",
                "PRAGMA incremental_vacuum is refused",
            ),
        ] {
            let run = fails(&env, many, &[statement], says);
            assert_eq!(run.stdout, "", "{statement}");
        }
    }
    for (statement, column) in [
        ("PRAGMA user_version", "user_version"),
        ("PRAGMA main.page_size", "page_size"),
        ("PRAGMA query_only", "query_only"),
    ] {
        let run = env.run(&["sql", "--format", "json", statement]);
        assert_eq!(run.code, 0, "{statement}: {run:?}");
        assert!(run.json()[0].get(column).is_some(), "{}", run.stdout);
    }
}

/// A query that never ends (and holds nothing, so no memory limit stops it) ran until Ctrl-C;
/// `--timeout` stops it, with exit 2 and a line saying how to allow more.
#[test]
fn sql_stops_a_query_past_its_timeout() {
    const ENDLESS: &str =
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c";
    let env = TestEnv::new();
    session(&env, "aaaa-1", 1);
    for many in [false, true] {
        let mut all = vec!["sql"];
        if many {
            all.push("--all-projects");
        }
        all.extend(["--timeout", "1", ENDLESS]);
        // Stopped by itself, however long a loaded machine takes to: killed, and failed, only
        // when it is still running after a minute.
        let mut child = env
            .command(&all)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let status = crate::common::wait::ends_by_itself(&mut child, "sql --timeout 1");
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(2), "{all:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{all:?}: {stderr}");
        assert!(stderr.contains("--timeout 4"), "{all:?}: {stderr}");
        assert!(
            stderr.starts_with("error: the query ran longer than the 1 s `sql` gives it"),
            "{stderr}"
        );
    }
    let run = env.run(&[
        "sql",
        "--timeout",
        "0",
        "--format",
        "json",
        "SELECT 1 AS one",
    ]);
    assert_eq!(run.json(), json!([{"one": 1}]));
}

/// A damaged index in a store that cannot be written cannot be deleted and built again: `sql`
/// queries an index in memory and `list` reads the files, each with one warning (deleting it
/// once failed the command).
#[test]
fn a_damaged_index_that_cannot_be_deleted_is_a_warning() {
    let env = TestEnv::new();
    session(&env, "aaaa-1", 2);
    env.run(COUNT).success();
    std::fs::write(env.store().join(".index.sqlite"), vec![0x5a; 8192]).unwrap();
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: needs root and setpriv to read a store as someone else");
        return;
    }
    for path in [env.path(), &env.store(), env.home()] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let nobody = |args: &[&str]| as_nobody(&env, args);
    let run = nobody(COUNT);
    assert_eq!(count(&run), 2);
    assert_eq!(warnings(&run).len(), 1, "{}", run.stderr);
    let run = nobody(&["list", "--all", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(warnings(&run).len(), 1, "{}", run.stderr);
    assert_eq!(run.json().as_array().unwrap().len(), 1);
}

/// A model with no known price (`aide-gpt-5`, a custom provider's, corpus) has no dollar figure
/// in the views: `llm_responses` and `models` give it a NULL `cost_usd`, which `sum()` skips
/// (a group of it alone sums to NULL), and `sessions` names it in `unpriced_models` beside the
/// priced part. `sessions` once gave the partial cost with nothing to tell it from a whole one,
/// so `SELECT sum(cost_usd)` lied as every other command marks with `?`.
#[test]
fn a_cost_that_leaves_out_an_unpriced_model_says_so() {
    use crate::common::{PRICED_SESSION, UNPRICED_SESSION, import_unpriced_and_priced};
    let env = TestEnv::new();
    import_unpriced_and_priced(&env);
    for many in [false, true] {
        let query = |sql: &str| {
            let mut args = vec!["sql", "--format", "json", sql];
            if many {
                args.insert(1, "--all-projects");
            }
            let run = env.run(&args);
            assert_eq!(run.code, 0, "{sql}: {run:?}");
            run.json()
        };
        let sessions = query(
            "SELECT session_id, cost_usd > 0 AS priced, unpriced_models FROM sessions \
             ORDER BY session_id",
        );
        assert_eq!(
            sessions,
            json!([
                {"session_id": UNPRICED_SESSION, "priced": 0, "unpriced_models": "aide-gpt-5"},
                {"session_id": PRICED_SESSION, "priced": 1, "unpriced_models": null},
            ]),
            "many: {many}"
        );
        let by_model = query(
            "SELECT model, count(*) - count(cost_usd) AS unpriced, sum(cost_usd) IS NULL AS null_sum \
             FROM llm_responses GROUP BY model ORDER BY model",
        );
        let by_model = by_model.as_array().unwrap();
        let aide = by_model
            .iter()
            .find(|m| m["model"] == "aide-gpt-5")
            .unwrap();
        assert!(aide["unpriced"].as_i64().unwrap() > 0, "{aide}");
        assert_eq!(aide["null_sum"], 1, "{aide}");
        for other in by_model.iter().filter(|m| m["model"] != "aide-gpt-5") {
            assert_eq!(
                (&other["unpriced"], &other["null_sum"]),
                (&json!(0), &json!(0))
            );
        }
        let models = query("SELECT model, cost_usd FROM models WHERE cost_usd IS NULL");
        assert_eq!(models, json!([{"model": "aide-gpt-5", "cost_usd": null}]));
    }
}

/// `event_json` called by hand with a length the events file cannot hold set that much memory
/// aside (up to 1 GiB) before reading: it now gives NULL without, so a query that makes up a
/// length runs in a small address space.
#[test]
fn event_json_with_a_length_past_the_file_sets_nothing_aside() {
    let env = TestEnv::new();
    session(&env, "aaaa-1", 1);
    let query = "SELECT event_json(session_id, 0, 1073741824, 'data') AS d, \
                 event_json(session_id, 1073741000, 100, 'data') AS far FROM sessions";
    // At most 512 MiB of address space, as `ulimit -v` sets it.
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v 524288 && exec \"$0\" \"$@\"")
        .arg(crate::common::bin())
        .args(["sql", "--format", "json", "--max-memory", "64", query])
        .current_dir(env.path())
        .env("AGENT_STRACE_HOME", env.home());
    let run = Run::of(cmd.output().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json(), json!([{"d": null, "far": null}]));
}

#[test]
fn a_misspelt_view_or_column_is_answered_with_where_the_names_are() {
    let env = TestEnv::new();
    session(&env, "s1", 1);
    let table = env.run(&["sql", "SELECT count(*) FROM session"]);
    assert_eq!(table.code, 2, "{table:?}");
    assert!(table.stderr.contains("no such table: session"), "{table:?}");
    assert!(
        table
            .stderr
            .contains("(hint: the views are sessions, events, tool_calls"),
        "{table:?}"
    );
    let column = env.run(&["sql", "SELECT tool_name FROM tool_calls"]);
    assert_eq!(column.code, 2, "{column:?}");
    assert!(
        column.stderr.contains("SELECT * FROM <view> LIMIT 1"),
        "{column:?}"
    );
    // Other mistakes keep their own words, with no hint that does not fit.
    let syntax = env.run(&["sql", "SELEC 1"]);
    assert_eq!(syntax.code, 2, "{syntax:?}");
    assert!(!syntax.stderr.contains("hint"), "{syntax:?}");
}

/// A result whose duration or time is a number too large for a float (`1e999`) is kept as one
/// whose number is `Infinity` (which Python writes, and readers take as unknown): its call has
/// its outcome, and nothing is skipped. The line was dropped whole, the call's outcome NULL
/// without a word from `sql`, while `stats` said it skipped a malformed line.
#[test]
fn a_result_with_a_number_too_large_for_a_float_keeps_its_call_and_the_rest_of_it() {
    let env = TestEnv::new();
    session(&env, "aaaa-1", 3);
    let events = env.store().join("aaaa-1").join("events.ndjson");
    let text = std::fs::read_to_string(&events).unwrap();
    let text = text
        .replacen(
            "\"event_type\":\"tool_result\",",
            "\"duration_ms\":1e999,\"event_type\":\"tool_result\",",
            1,
        )
        .replacen("\"timestamp\":1700000002.0", "\"timestamp\":-1e999", 2);
    assert_eq!(text.matches("1e999").count(), 3, "{text}");
    std::fs::write(&events, text).unwrap();
    let run = env.run(&[
        "sql",
        "--format",
        "json",
        "SELECT call_id, outcome FROM tool_calls ORDER BY call_id",
    ]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:?}");
    assert_eq!(
        run.json(),
        json!([
            {"call_id": "aaaa-1-c0", "outcome": "tool_result"},
            {"call_id": "aaaa-1-c1", "outcome": "tool_result"},
            {"call_id": "aaaa-1-c2", "outcome": "tool_result"},
        ])
    );
    let results = env.run(&[
        "sql",
        "--format",
        "json",
        "SELECT count(*) AS n FROM events WHERE type = 'tool_result'",
    ]);
    assert_eq!(count(&results), 3);
    let stats = env.run(&["stats", "aaaa-1"]);
    assert_eq!((stats.code, stats.stderr.as_str()), (0, ""), "{stats:?}");
}
