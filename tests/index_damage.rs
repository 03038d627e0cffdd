//! A session index damaged on disk (pages scribbled over, as a failing disk or a stray write
//! leaves them) is only a cache gone bad, however late the damage shows: found while a query
//! reads a damaged page, long after the file was opened and brought up to date, the index is
//! set aside and built again. It once stayed, and every `sql` after failed with exit 2 (bad
//! usage) and every `dashboard` warned, until someone deleted the file by hand.

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::common::{Run, SessionBuilder, TestEnv};

/// A store of two sessions of `calls` Bash calls each (enough for the index's events to take
/// many pages), its index built.
fn store(calls: usize) -> TestEnv {
    let env = TestEnv::new();
    for id in ["aaaa-1", "bbbb-2"] {
        let mut session = SessionBuilder::new(id).prompt("a task");
        for n in 0..calls {
            session = session
                .tool_call("Bash", json!({"command": format!("make t{n}")}))
                .result(json!("ok"));
        }
        session.write(&env);
        // Written an hour ago: a folder changed in the last seconds is looked at again by
        // every read, which would write over the damage before anything reads it.
        std::fs::File::open(env.store().join(id))
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
    }
    env.run(&["list"]).success();
    env
}

fn index(env: &TestEnv) -> PathBuf {
    env.store().join(".index.sqlite")
}

/// The pages of the index's table or index `name`, in key order, as SQLite's `dbstat` lists
/// them; and the page size.
fn pages(index: &Path, name: &str) -> (Vec<u64>, u64) {
    let conn = rusqlite::Connection::open(index).unwrap();
    let size: u64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    let pages = conn
        .prepare("SELECT pageno FROM dbstat WHERE name = ?1 ORDER BY path")
        .unwrap()
        .query_map([name], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<Vec<u64>>>()
        .unwrap();
    assert!(!pages.is_empty(), "no pages of {name}");
    (pages, size)
}

/// Writes bytes no page holds over each of `pages` of the index, whole.
fn scribble(index: &Path, pages: &[u64], size: u64) {
    let file = std::fs::OpenOptions::new().write(true).open(index).unwrap();
    let junk = [0x07_u8, 0x13].repeat(usize::try_from(size / 2).unwrap());
    for page in pages {
        file.write_all_at(&junk, (page - 1) * size).unwrap();
    }
}

fn damaged_words(run: &Run) -> bool {
    run.stderr.contains("malformed") || run.stderr.contains("damaged")
}

const COUNT: &str = "SELECT count(*) AS n FROM events";

/// `sql` whose query reads a damaged page before any row is out builds the index again and
/// runs the query once more, in every format and over every project: the answer is the
/// undamaged index's, and the next run needs nothing more.
#[test]
fn sql_that_finds_the_index_damaged_before_its_rows_builds_it_again_and_answers() {
    let env = store(60);
    let expected = env.run(&["sql", "--format", "json", COUNT]).json();
    assert!(expected[0]["n"].as_u64().unwrap() > 200, "{expected}");
    for format in ["table", "json", "csv", "--all-projects"] {
        let (events, size) = pages(&index(&env), "idx_events");
        assert!(events.len() > 2, "{events:?}");
        scribble(&index(&env), &events, size);
        let run = match format {
            "--all-projects" => env.run(&["sql", format, "--format", "json", COUNT]),
            format => env.run(&["sql", "--format", format, COUNT]),
        };
        assert_eq!(run.code, 0, "{format}: {run:?}");
        assert!(!damaged_words(&run), "{format}: {}", run.stderr);
        let n = expected[0]["n"].to_string();
        assert!(run.stdout.contains(&n), "{format}: {}", run.stdout);
        let again = env.run(&["sql", "--format", "json", COUNT]);
        assert_eq!(again.code, 0, "{format}: {again:?}");
        assert_eq!(again.json(), expected, "{format}");
    }
}

/// A query that finds the damage once rows are out cannot be run again (its rows would come
/// twice): it fails as an I/O error (exit 4), not as bad usage (2), saying that the index is
/// set aside; the next run builds it again and answers.
#[test]
fn sql_that_finds_the_index_damaged_after_rows_are_out_fails_once_and_not_as_bad_usage() {
    let env = store(60);
    let expected = env.run(&["sql", "--format", "json", COUNT]).json();
    let (events, size) = pages(&index(&env), "idx_events");
    // The last page but one in key order: the query writes the rows of the pages before it
    // first. (Every read looks at the last page of each table, for rows of no session, and
    // finds damage there before any row is out.)
    assert!(events.len() > 2, "{events:?}");
    scribble(
        &index(&env),
        &events[events.len() - 2..events.len() - 1],
        size,
    );
    let run = env.run(&[
        "sql",
        "--format",
        "csv",
        "SELECT session_id, seq FROM events",
    ]);
    assert_eq!(run.code, 4, "{run:?}");
    assert!(run.stdout.lines().count() > 2, "{}", run.stdout);
    let errors: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(errors[0].contains("set aside"), "{}", run.stderr);
    let again = env.run(&["sql", "--format", "json", COUNT]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(again.json(), expected);
}

/// The folded summaries `dashboard` reads after the listing, damaged: the run that finds it
/// folds the sessions from their events (saying so once) and sets the index aside; the next
/// run is built again, quiet, with the same figures. Every run once warned.
#[test]
fn dashboard_that_finds_the_index_damaged_warns_once_and_the_next_run_is_quiet() {
    let env = store(20);
    let board = |env: &TestEnv| {
        let run = env.run(&["dashboard", "--since", "2000-01-01", "--format", "json"]);
        assert_eq!(run.code, 0, "{run:?}");
        run
    };
    let figures = |run: &Run| -> Value {
        let mut board = run.json();
        board.as_object_mut().unwrap().remove("generated_at");
        board
    };
    let expected = figures(&board(&env));
    let (folds, size) = pages(&index(&env), "idx_folds");
    scribble(&index(&env), &folds, size);
    let first = board(&env);
    assert_eq!(figures(&first), expected);
    let second = board(&env);
    assert!(second.stderr.is_empty(), "{}", second.stderr);
    assert_eq!(figures(&second), expected);
}
