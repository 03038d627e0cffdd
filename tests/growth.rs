//! Issue 10, "Import follows the transcript": a transcript that grew since it was imported is
//! brought up to date, one that was rewritten is imported again whole, and history a resumed or
//! forked session repeats is counted once. Real corpus transcripts, cut where a live session
//! would have left them (inside a subagent's life included), through the binary.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{Run, TestEnv, shared};

fn corpus(name: &str) -> PathBuf {
    shared().join("corpus/claude-code").join(name)
}

fn subagent_files(main: &Path) -> Vec<PathBuf> {
    let dir = main.with_extension("").join("subagents");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

fn timestamp(line: &str) -> Option<String> {
    serde_json::from_str::<Value>(line).ok()?["timestamp"]
        .as_str()
        .map(str::to_owned)
}

/// What Claude Code had written of `from` at time `at`: its lines up to the first one written
/// later (lines without a time go with the line before them). `None` when that is nothing.
fn as_of(from: &Path, at: &str) -> Option<String> {
    let text = std::fs::read_to_string(from).unwrap();
    let mut kept = String::new();
    for line in text.split_inclusive('\n') {
        if timestamp(line).is_some_and(|t| t.as_str() > at) {
            break;
        }
        kept.push_str(line);
    }
    kept.lines().any(|l| timestamp(l).is_some()).then_some(kept)
}

/// Writes a transcript and its subagents as they stood at `at` under `dir` (Claude Code's
/// layout: `<session>.jsonl` beside `<session>/subagents/`); returns the main file.
fn write_as_of(main: &Path, dir: &Path, at: Option<&str>) -> PathBuf {
    let target = dir.join(main.file_name().unwrap());
    let mut files = vec![(main.to_path_buf(), target.clone())];
    for sub in subagent_files(main) {
        let to = target
            .with_extension("")
            .join("subagents")
            .join(sub.file_name().unwrap());
        files.push((sub, to));
    }
    for (from, to) in files {
        let text = match at {
            Some(at) => as_of(&from, at),
            None => Some(std::fs::read_to_string(&from).unwrap()),
        };
        if let Some(text) = text {
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::write(&to, text).unwrap();
        }
    }
    target
}

fn import(env: &TestEnv, file: &Path) -> Vec<Value> {
    let run = env.run(&["import", "--format", "json", file.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    run.json().as_array().unwrap().clone()
}

/// The store as data, without what only the import itself chose: event ids (each replaced by
/// its session and position, wherever it is named) and the import's record.
fn canonical(env: &TestEnv) -> BTreeMap<String, (Vec<Value>, Value)> {
    let mut ids: HashMap<String, Value> = HashMap::new();
    let sessions = env.sessions();
    for s in &sessions {
        for (i, e) in env.events(s).iter().enumerate() {
            ids.insert(
                e["event_id"].as_str().unwrap().to_owned(),
                serde_json::json!([s, i]),
            );
        }
    }
    let rename = |v: &mut Value, key: &str| {
        if let Some(id) = v.get(key).and_then(Value::as_str) {
            v[key] = ids
                .get(id)
                .cloned()
                .unwrap_or_else(|| format!("dangling {id}").into());
        }
    };
    sessions
        .iter()
        .map(|s| {
            let mut events = env.events(s);
            for e in &mut events {
                rename(e, "event_id");
                rename(e, "parent_id");
            }
            let mut meta = env.meta(s);
            rename(&mut meta, "parent_event_id");
            (s.clone(), (events, meta))
        })
        .collect()
}

fn assert_same_store(grown: &TestEnv, fresh: &TestEnv, what: &str) {
    let (a, b) = (canonical(grown), canonical(fresh));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: sessions"
    );
    for (session, (events, meta)) in &a {
        let (want_events, want_meta) = &b[session];
        assert_eq!(meta, want_meta, "{what}: meta of {session}");
        assert_eq!(
            events.len(),
            want_events.len(),
            "{what}: events of {session}"
        );
        for (i, (got, want)) in events.iter().zip(want_events).enumerate() {
            assert_eq!(got, want, "{what}: event {i} of {session}");
        }
    }
    let cost = |env: &TestEnv| {
        let run = env.run(&["cost", "--include-subagents", "--format", "json"]);
        assert_eq!(run.code, 0, "{run:?}");
        run.json()
    };
    assert_eq!(cost(grown), cost(fresh), "{what}: cost");
}

/// Times to stop the clock at: a few through the main transcript, and for each subagent one
/// in the middle of its life and its last moment (before its spawning call's result is
/// written to the main transcript, when that comes after).
fn cut_times(main: &Path) -> Vec<String> {
    let times = |file: &Path| -> Vec<String> {
        std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .filter_map(timestamp)
            .collect()
    };
    let mut main_times = times(main);
    main_times.sort();
    let mut cuts: Vec<String> = [5, 30, 60, 90]
        .iter()
        .map(|pct| main_times[main_times.len() * pct / 100].clone())
        .collect();
    for sub in subagent_files(main) {
        let mut t = times(&sub);
        t.sort();
        cuts.push(t[t.len() / 2].clone());
        cuts.push(t[t.len() - 1].clone());
    }
    cuts.sort();
    cuts.dedup();
    cuts
}

/// Grows a copy of `main` (with its subagents) cut by cut, importing it each time, and checks
/// the store against a fresh import of the whole file at the same path.
fn grow_and_compare(main: &Path) {
    let files = tempfile::tempdir().unwrap();
    let grown = TestEnv::new();
    let mut statuses: Vec<String> = Vec::new();
    let mut transcript = None;
    for at in cut_times(main) {
        let file = write_as_of(main, files.path(), Some(&at));
        if !file.exists() {
            continue;
        }
        let before = grown.sessions();
        let reports = import(&grown, &file);
        for r in &reports {
            let status = r["status"].as_str().unwrap().to_owned();
            // Never "already imported" while the file holds more than the store.
            if status == "already_imported" {
                assert!(
                    before.contains(&r["session_id"].as_str().unwrap().to_owned()),
                    "{r}"
                );
            }
            statuses.push(status);
        }
        transcript = Some(file);
    }
    let file = write_as_of(main, files.path(), None);
    assert_eq!(Some(&file), transcript.as_ref());
    let last = import(&grown, &file);
    assert_eq!(last[0]["status"], "grown", "{last:?}");
    assert!(last[0]["lines"].as_u64().unwrap() > 0);
    statuses.extend(
        last.iter()
            .map(|r| r["status"].as_str().unwrap().to_owned()),
    );
    assert!(
        statuses.iter().filter(|s| *s == "grown").count() >= 3,
        "{statuses:?}"
    );
    // Everything is in: importing again changes nothing.
    let again = import(&grown, &file);
    assert!(
        again.iter().all(|r| r["status"] == "already_imported"),
        "{again:?}"
    );

    let fresh = TestEnv::new();
    import(&fresh, &file);
    assert_same_store(&grown, &fresh, &main.display().to_string());
}

#[test]
fn issue_10_a_grown_transcript_with_subagents_equals_a_fresh_import() {
    // A Task subagent that ends before its call's result is written, and a compaction agent.
    grow_and_compare(&corpus(
        "marot__spotter/4d5611e5-241a-462a-8d15-5122611a9569.jsonl",
    ));
    // Five subagents, three running at once, their calls' results written as they start.
    grow_and_compare(&corpus(
        "moredip__session-share/0ccf1a04-1b4c-43b6-8aa5-79e41db43a68.jsonl",
    ));
}

#[test]
fn issue_10_a_transcript_cut_inside_a_line_is_read_whole_once_complete() {
    let file = corpus("marot__spotter/tool_heavy.jsonl");
    let text = std::fs::read(&file).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("tool_heavy.jsonl");
    let grown = TestEnv::new();
    // Cut in the middle of lines, as a reader racing Claude Code's writes sees the file.
    for cut in [text.len() / 3, text.len() / 2 + 17, text.len() * 4 / 5] {
        std::fs::write(&copy, &text[..cut]).unwrap();
        let run = grown.run(&["import", copy.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{run:?}");
    }
    std::fs::write(&copy, &text).unwrap();
    let reports = import(&grown, &copy);
    assert_eq!(reports[0]["status"], "grown");
    let fresh = TestEnv::new();
    import(&fresh, &copy);
    assert_same_store(&grown, &fresh, "tool_heavy.jsonl");
}

/// A copy of corpus transcript `name` in a folder of its own (kept while the first value lives),
/// and a way to make the copy its first `n` lines.
fn cuttable(name: &str) -> (tempfile::TempDir, PathBuf, impl Fn(usize)) {
    let text = std::fs::read_to_string(corpus(name)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join(Path::new(name).file_name().unwrap());
    let to = copy.clone();
    let as_cut = move |n: usize| {
        let lines: Vec<&str> = text.lines().take(n).collect();
        std::fs::write(&to, lines.join("\n") + "\n").unwrap();
    };
    (dir, copy, as_cut)
}

#[test]
fn issue_10_a_rewritten_transcript_is_imported_again_whole_in_place_of_the_old() {
    let (_dir, copy, as_cut) = cuttable("marot__spotter/subagent.jsonl");
    let env = TestEnv::new();
    as_cut(60);
    import(&env, &copy);
    // Shorter, and not the same lines where the import stopped: rewritten, not grown.
    as_cut(30);
    let reports = import(&env, &copy);
    assert_eq!(reports[0]["status"], "reimported", "{reports:?}");
    assert!(
        reports[0].get("reimported_as_outdated").is_none(),
        "{reports:?}"
    );
    let fresh = TestEnv::new();
    import(&fresh, &copy);
    assert_same_store(&env, &fresh, "rewritten");
    // The session was swapped in whole: nothing half-written is left beside it.
    let hidden: Vec<String> = std::fs::read_dir(env.store())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".writing"))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
}

/// An import that carried on a grown transcript, or read a rewritten one again, wrote the
/// session anew in place of the stored one, and the user's annotations on it (kept beside its
/// events) went with the old folder: a note added after the first import was gone after the
/// next. Both ways now carry them.
#[test]
fn annotations_on_an_imported_session_outlive_its_growing_and_its_rewriting() {
    let (_dir, copy, as_cut) = cuttable("marot__spotter/subagent.jsonl");
    let env = TestEnv::new();
    as_cut(30);
    let reports = import(&env, &copy);
    let session = reports[0]["session_id"].as_str().unwrap().to_owned();
    env.run(&[
        "annotate",
        &session,
        "2",
        "--note",
        "the moment it went wrong",
    ])
    .success();
    let notes = |env: &TestEnv| -> Vec<String> {
        let listed = env.run(&["annotate", &session, "--list", "--format", "json"]);
        assert_eq!(listed.code, 0, "{listed:?}");
        let json = listed.json();
        let items = json
            .as_array()
            .or_else(|| json["annotations"].as_array())
            .unwrap_or_else(|| panic!("{json}"))
            .clone();
        items
            .iter()
            .map(|a| a["note"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(notes(&env), ["the moment it went wrong"]);

    as_cut(60);
    let reports = import(&env, &copy);
    assert_eq!(reports[0]["status"], "grown", "{reports:?}");
    assert_eq!(notes(&env), ["the moment it went wrong"], "after growing");

    as_cut(20);
    let reports = import(&env, &copy);
    assert_eq!(reports[0]["status"], "reimported", "{reports:?}");
    assert_eq!(notes(&env), ["the moment it went wrong"], "after rewriting");
}

/// An import written anew (a rewritten transcript, another agent's log that grew) gives every
/// event a new id, and the annotations it carried named the old ones: `annotate --list` showed
/// each on no event, and replay showed it nowhere. Each stays on its event.
#[test]
fn annotations_stay_on_their_events_when_a_session_is_imported_again_whole() {
    let rollout = shared().join(
        "corpus/codex/madshn__localpush/rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl",
    );
    // A Claude Code transcript cut shorter (rewritten), a Codex rollout that grew.
    for (source, first, then, status) in [
        (
            corpus("marot__spotter/subagent.jsonl"),
            60,
            30,
            "reimported",
        ),
        (rollout, 40, usize::MAX, "grown"),
    ] {
        let text = std::fs::read_to_string(&source).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join(source.file_name().unwrap());
        let as_cut = |n: usize| {
            let lines: Vec<&str> = text.lines().take(n).collect();
            std::fs::write(&copy, lines.join("\n") + "\n").unwrap();
        };
        let env = TestEnv::new();
        as_cut(first);
        let session = import(&env, &copy)[0]["session_id"]
            .as_str()
            .unwrap()
            .to_owned();
        for (event, note) in [("3", "here"), ("5", "and here")] {
            env.run(&["annotate", &session, event, "--note", note])
                .success();
        }
        as_cut(then);
        let reports = import(&env, &copy);
        assert_eq!(reports[0]["status"], status, "{reports:?}");
        let listed = env.run(&["annotate", &session, "--list", "--format", "json"]);
        assert_eq!(listed.code, 0, "{listed:?}");
        let held: HashSet<String> = env
            .events(&session)
            .iter()
            .map(|e| e["event_id"].as_str().unwrap().to_owned())
            .collect();
        let notes: Vec<(Value, Value, bool)> = listed
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let id = a["event_id"].as_str().unwrap_or_default();
                (a["note"].clone(), a["event"].clone(), held.contains(id))
            })
            .collect();
        assert_eq!(
            notes,
            [
                ("here".into(), 3.into(), true),
                ("and here".into(), 5.into(), true)
            ],
            "{source:?}"
        );
    }
}

/// A transcript rewritten with a line taken out before an annotated event, imported again
/// whole: the note moved to its event's new id and number (`annotate --list` showed `#5`), but
/// the number kept with it stayed the old one ("event_number": 6 beside "event": 5, and 6 in the
/// annotations file). The number moves with the id.
#[test]
fn an_annotations_kept_number_moves_with_its_event_when_a_line_before_it_goes() {
    let text = std::fs::read_to_string(corpus("marot__spotter/subagent.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().take(60).collect();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("subagent.jsonl");
    std::fs::write(&copy, lines.join("\n") + "\n").unwrap();
    let env = TestEnv::new();
    let session = import(&env, &copy)[0]["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The first thinking line gives an event (a decision) before the annotated one.
    let thinking = lines
        .iter()
        .position(|l| l.contains(r#""type":"thinking""#))
        .unwrap();
    let decision = env
        .events(&session)
        .iter()
        .position(|e| e["event_type"] == "decision")
        .unwrap()
        + 1;
    let annotated = decision + 2;
    let before = env.events(&session)[annotated - 1].clone();
    env.run(&["annotate", &session, &annotated.to_string(), "--note", "x"])
        .success();
    let mut rewritten = lines.clone();
    rewritten.remove(thinking);
    std::fs::write(&copy, rewritten.join("\n") + "\n").unwrap();
    assert_eq!(import(&env, &copy)[0]["status"], "reimported");

    let listed = env.run(&["annotate", &session, "--list", "--format", "json"]);
    listed.success();
    let note = listed.json()[0].clone();
    let number = note["event"].as_u64().unwrap() as usize;
    let now = &env.events(&session)[number - 1];
    assert_eq!(
        (&now["event_type"], &now["data"]),
        (&before["event_type"], &before["data"]),
        "{note}"
    );
    assert_eq!(note["event_id"], now["event_id"], "{note}");
    assert_eq!(note["event_number"], note["event"], "{note}");
    let file = env.store().join(&session).join("annotations.jsonl");
    let kept: Value =
        serde_json::from_str(std::fs::read_to_string(file).unwrap().trim_end()).unwrap();
    assert_eq!(kept["event_number"], note["event"], "{kept}");
}

/// `agent-strace import ARGS --claude-dir CLAUDE` into one store for the test (--trace-dir):
/// `--all` would put the corpus's transcripts in the user-level store, their project folders
/// being on no machine here.
fn import_in_test_store(env: &TestEnv, claude: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--trace-dir", ".agent-traces", "import"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--claude-dir", claude.to_str().unwrap()]);
    env.run(&all)
}

fn import_all(env: &TestEnv, claude: &Path) -> Run {
    import_in_test_store(env, claude, &["--all"])
}

/// What `import --discover` says, as text and as JSON.
fn discover(env: &TestEnv, claude: &Path) -> (Run, Vec<Value>) {
    let text = import_in_test_store(env, claude, &["--discover"]);
    assert_eq!(text.code, 0, "{text:?}");
    let json = import_in_test_store(env, claude, &["--discover", "--format", "json"]);
    assert_eq!(json.code, 0, "{json:?}");
    (text, json.json().as_array().unwrap().clone())
}

#[test]
fn issue_10_discover_says_new_grown_or_up_to_date_and_all_brings_files_up_to_date() {
    let env = TestEnv::new();
    let claude = env.path().join("claude");
    let project = claude.join("projects").join("-home-me-app");
    std::fs::create_dir_all(&project).unwrap();
    let main = corpus("moredip__session-share/4b2030ed-5563-49ea-b703-6a002f2d3cc8.jsonl");
    let subagent = subagent_files(&main).remove(0);
    // The subagent has started; its spawning call's result is not written yet.
    let mut sub_times: Vec<String> = std::fs::read_to_string(&subagent)
        .unwrap()
        .lines()
        .filter_map(timestamp)
        .collect();
    sub_times.sort();
    let file = write_as_of(&main, &project, Some(&sub_times[2]));
    let short = project.join("short.jsonl");
    std::fs::copy(corpus("marot__spotter/short.jsonl"), &short).unwrap();

    let (_, found) = discover(&env, &claude);
    assert!(found.iter().all(|f| f["status"] == "new"), "{found:?}");
    import_all(&env, &claude).success();
    let (text, found) = discover(&env, &claude);
    assert!(
        found.iter().all(|f| f["status"] == "up_to_date"),
        "{found:?}"
    );
    assert_eq!(
        text.stdout.matches("up to date").count(),
        2,
        "{}",
        text.stdout
    );

    // The session goes on: its transcript and its subagent's grow.
    write_as_of(&main, &project, None);
    let new_lines = |f: &Path| -> u64 {
        let all = std::fs::read_to_string(f).unwrap().lines().count();
        let had = as_of(f, &sub_times[2]).map_or(0, |t| t.lines().count());
        (all - had) as u64
    };
    let want = new_lines(&main) + new_lines(&subagent);
    let (text, found) = discover(&env, &claude);
    let session = |found: &[Value], path: &Path| -> Value {
        found
            .iter()
            .find(|f| Path::new(f["path"].as_str().unwrap()) == path)
            .unwrap()
            .clone()
    };
    let grown = session(&found, &file);
    assert_eq!(grown["status"], "grown", "{found:?}");
    assert_eq!(grown["new_lines"].as_u64(), Some(want));
    assert_eq!(session(&found, &short)["status"], "up_to_date");
    assert!(
        text.stdout.contains(&format!("grown ({want} new lines)")),
        "{}",
        text.stdout
    );

    let run = import_all(&env, &claude);
    run.success();
    assert!(
        run.stdout.contains(&format!(
            "4b2030ed-5563-49ea-b703-6a002f2d3cc8 grown: {} new lines",
            new_lines(&main)
        )),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("short"), "{}", run.stdout);
    let (_, found) = discover(&env, &claude);
    assert!(
        found.iter().all(|f| f["status"] == "up_to_date"),
        "{found:?}"
    );

    // The same as importing the whole files into an empty store.
    let fresh = TestEnv::new();
    import_all(&fresh, &claude).success();
    assert_same_store(&env, &fresh, "import --all");
}

/// The tool_use blocks of a transcript, and their distinct ids.
fn tool_use_ids(file: &Path) -> (usize, HashSet<String>) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut blocks = 0;
    let mut ids = HashSet::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        for b in v["message"]["content"].as_array().into_iter().flatten() {
            if b["type"] == "tool_use" {
                blocks += 1;
                ids.insert(b["id"].as_str().unwrap().to_owned());
            }
        }
    }
    (blocks, ids)
}

/// The results of a transcript's calls that failed, counted once per call.
fn failed_calls(file: &Path) -> usize {
    let text = std::fs::read_to_string(file).unwrap();
    let mut answered = HashSet::new();
    let mut failed = 0;
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        for b in v["message"]["content"].as_array().into_iter().flatten() {
            if b["type"] == "tool_result"
                && answered.insert(b["tool_use_id"].as_str().unwrap().to_owned())
                && b["is_error"] == true
            {
                failed += 1;
            }
        }
    }
    failed
}

#[test]
fn issue_10_a_resumed_history_that_repeats_calls_counts_each_once() {
    let file = corpus("moredip__session-share/general-tool-calls.jsonl");
    let (blocks, ids) = tool_use_ids(&file);
    assert_eq!((blocks, ids.len()), (110, 65), "the issue's figures");
    let errors = failed_calls(&file) as u64;
    let env = TestEnv::new();
    let reports = import(&env, &file);
    assert_eq!(reports[0]["tool_calls"].as_u64(), Some(65));
    assert_eq!(
        reports[0]["tool_errors"].as_u64().unwrap()
            + reports[0]["tool_rejections"].as_u64().unwrap(),
        errors
    );
    assert!(reports[0]["repeated"].as_u64().unwrap() > 0);

    let stats = env.run(&["stats", "--format", "json"]);
    let stats = stats.success().json();
    assert_eq!(stats["tool_calls"].as_u64(), Some(65));
    // Failed results, each once: errors, and calls the user rejected.
    let failed = |v: &Value| v["errors"].as_u64().unwrap() + v["rejections"].as_u64().unwrap_or(0);
    assert_eq!(failed(&stats), errors);
    // Every call once, with the id Claude Code gave it.
    let session = reports[0]["session_id"].as_str().unwrap();
    let called: Vec<String> = env
        .events(session)
        .iter()
        .filter(|e| e["event_type"] == "tool_call")
        .map(|e| e["data"]["tool_use_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(called.iter().collect::<HashSet<_>>().len(), called.len());
    assert_eq!(called.into_iter().collect::<HashSet<_>>(), ids);

    let list = env.run(&["list", "--format", "json"]).success().json();
    assert_eq!(list[0]["tool_calls"].as_u64(), Some(65));
    assert_eq!(failed(&list[0]), errors);

    // No phase is told twice: no two start at the same moment, and their times go forward.
    let explain = env.run(&["explain", "--format", "json"]).success().json();
    let phases = explain["phases"].as_array().unwrap();
    let starts: Vec<f64> = phases
        .iter()
        .map(|p| p["start_s"].as_f64().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "{starts:?}");
    let called_in_phases: u64 = phases
        .iter()
        .flat_map(|p| p["tools"].as_object().unwrap().values())
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(called_in_phases, 65);
    assert_eq!(explain["tool_calls"].as_u64(), Some(65));
    assert_eq!(failed(&explain), errors);
}

#[test]
fn issue_10_a_compaction_cut_from_its_summary_is_recorded_once_with_the_summary() {
    // Claude Code writes a compaction's boundary and its summary as two lines: an import can
    // read the file between the two.
    let file = corpus("marot__spotter/4d5611e5-241a-462a-8d15-5122611a9569.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let boundary = lines
        .iter()
        .position(|l| l.contains("\"compact_boundary\""))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("compacted.jsonl");
    let grown = TestEnv::new();
    std::fs::write(&copy, lines[..=boundary].concat()).unwrap();
    import(&grown, &copy);
    std::fs::write(&copy, &text).unwrap();
    assert_eq!(import(&grown, &copy)[0]["status"], "grown");
    let fresh = TestEnv::new();
    import(&fresh, &copy);
    assert_same_store(&grown, &fresh, "compaction cut from its summary");
    let session = "4d5611e5-241a-462a-8d15-5122611a9569";
    let compactions: Vec<Value> = grown
        .events(session)
        .into_iter()
        .filter(|e| e["event_type"] == "decision" && e["data"]["kind"] == "compaction")
        .collect();
    assert_eq!(compactions.len(), 1, "{compactions:?}");
    assert!(
        compactions[0]["data"]["summary"]
            .as_str()
            .is_some_and(|s| s.len() > 100),
        "{compactions:?}"
    );
}

/// The import's record (`.import` beside the session) kept what it read of the transcript as
/// written: the names, ids and files of the calls still open, the usage text of the response in
/// progress and the transcript's path, each holding keys the session's events held redacted.
/// The record keeps them scrubbed as the events are, and a grown transcript is still carried on
/// from it to the store a whole import makes: each open call's result meets its call, a tool
/// named with a key included.
#[test]
fn the_import_record_holds_no_secret_and_an_import_carried_on_from_it_is_a_whole_one() {
    let tool_key = "AKIAQXZ2ABCDEFGH2345";
    let id_key = "ghp_Qx51abcdefghijklmnopqrstuvwxyz012345";
    let file_key = "ghp_Qx76ffffffffffffffffffffffffffffffffff";
    let usage_key = format!("sk-ant-api03-Qx52{}-AA", "a".repeat(86));
    let name_key = "ghp_Qx50abcdefghijklmnopqrstuvwxyz012345";
    let line = |uuid: &str, second: u32, kind: &str, message: Value| {
        serde_json::json!({"type": kind, "uuid": uuid, "parentUuid": null,
            "sessionId": "9c1e0a53-0000-4000-8000-000000000001", "cwd": "/tmp",
            "timestamp": format!("2026-01-01T10:00:{second:02}.000Z"), "message": message})
        .to_string()
    };
    let calls = line(
        "a1",
        1,
        "assistant",
        serde_json::json!({"id": "m1", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [
                {"type": "tool_use", "id": "toolu_1", "name": format!("mcp__vault__{tool_key}"),
                 "input": {}},
                {"type": "tool_use", "id": id_key, "name": "Bash",
                 "input": {"command": format!("cat /tmp/deploy_{file_key}.txt")}}],
            "usage": {"input_tokens": 10, "output_tokens": 5,
                      "service_tier": format!("standard {usage_key}")}}),
    );
    let first = [
        line(
            "u1",
            0,
            "user",
            serde_json::json!({"role": "user", "content": "go"}),
        ),
        calls,
    ];
    let rest = [
        line(
            "u2",
            2,
            "user",
            serde_json::json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sealed"},
                {"type": "tool_result", "tool_use_id": id_key, "content": "deployed"}]}),
        ),
        line(
            "a2",
            3,
            "assistant",
            serde_json::json!({"id": "m2", "role": "assistant", "model": "claude-sonnet-4-5",
                "content": [{"type": "text", "text": "done"}],
                "usage": {"input_tokens": 20, "output_tokens": 2}}),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("deploy_{name_key}.jsonl"));
    std::fs::write(&file, first.join("\n") + "\n").unwrap();
    let grown = TestEnv::new();
    import(&grown, &file);
    let session = grown.sessions()[0].clone();
    let record = std::fs::read_to_string(grown.store().join(&session).join(".import")).unwrap();
    for secret in [tool_key, id_key, file_key, usage_key.as_str(), name_key] {
        assert!(!record.contains(secret), "{secret} in {record}");
    }
    std::fs::write(&file, [&first[..], &rest[..]].concat().join("\n") + "\n").unwrap();
    assert_eq!(import(&grown, &file)[0]["status"], "grown");
    let fresh = TestEnv::new();
    import(&fresh, &file);
    assert_same_store(&grown, &fresh, "calls open across the import's record");
    // Both results met their calls, and the shell line's file was read.
    let events = grown.events(&session);
    let results: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "tool_result")
        .collect();
    assert_eq!(results.len(), 2, "{events:?}");
    for result in results {
        assert!(
            events
                .iter()
                .any(|e| e["event_type"] == "tool_call" && e["event_id"] == result["parent_id"]),
            "{result}"
        );
    }
    assert!(
        events.iter().any(|e| e["event_type"] == "file_read"),
        "{events:?}"
    );
}

/// The first `import --all` after an upgrade that changed the importer's format read every
/// unchanged transcript again whole, and told the user each was "not what was imported before",
/// as if it had been rewritten. It is read again (the older import's record is not this
/// version's), and says why; the run after it has nothing to do.
#[test]
fn a_transcript_an_older_version_imported_is_said_to_be_so_not_rewritten() {
    let (_dir, copy, as_cut) = cuttable("marot__spotter/short.jsonl");
    let env = TestEnv::new();
    as_cut(usize::MAX);
    let first = import(&env, &copy);
    let session = first[0]["session_id"].as_str().unwrap().to_owned();
    // What an older version's import left: its record's head names an older format.
    let record_path = env.store().join(&session).join(".import");
    let record = std::fs::read_to_string(&record_path).unwrap();
    let (head, rest) = record.split_once('\n').unwrap();
    let mut head: Value = serde_json::from_str(head).unwrap();
    head["format"] = (head["format"].as_u64().unwrap() - 1).into();
    std::fs::write(&record_path, format!("{head}\n{rest}")).unwrap();

    let run = env.run(&["import", copy.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("imported again whole (an older version of agent-strace imported it)"),
        "{run:?}"
    );
    assert!(
        !run.stdout.contains("not what was imported before"),
        "{run:?}"
    );
    assert_eq!(import(&env, &copy)[0]["status"], "already_imported");

    std::fs::write(&record_path, format!("{head}\n{rest}")).unwrap();
    let again = import(&env, &copy);
    assert_eq!(again[0]["status"], "reimported", "{again:?}");
    assert_eq!(again[0]["reimported_as_outdated"], true, "{again:?}");
}
