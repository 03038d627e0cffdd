//! Files a shell command reads, writes, deletes and moves (`cat f`, `sed -n '1,9p' f`, `> f`,
//! Codex's `applypatch <<'PATCH'`, `rm f`, `mv a b`), counted where a session's files are
//! counted, as a Read or Write tool's file is: explain, stats, standup, compare, diff and the SQL
//! `files` view.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::common::{TestEnv, shared};

/// The Codex 0.39 rollout of the corpus: it reads go.mod with `sed -n`, rewrites four files
/// with `applypatch << 'PATCH'` run by its `shell` tool, deletes TODO.md with `rm -f`, and
/// (a code-mode `exec` cell's `tools.apply_patch`) writes docs/RELEASE_NOTES.md and core/version.go.
fn codex_rollout() -> PathBuf {
    shared().join("corpus/codex/Mai0313__VibeCodingTracker/codex-v0.39.0.jsonl")
}

const CODEX_SESSION: &str = "01996135-afde-7911-97f0-d863511eca56";

/// Claude Code's session of the same project and task, in the corpus.
fn claude_transcript() -> PathBuf {
    shared().join("corpus/claude-code/Mai0313__VibeCodingTracker/claude_code-v1.0.95.jsonl")
}

const CLAUDE_SESSION: &str = "e9f146fa-3b20-48d0-9be4-d99ca901cae4";

/// The real rollout said `Files touched: 0 read, 0 written` and `Files: 0`: Codex did every
/// read and write through its shell. Its `sed` and `cat` reads, its patches' files and the file
/// it removed (a deletion, no write) are counted.
#[test]
fn a_codex_rollout_counts_what_its_shell_read_patched_and_removed() {
    let env = TestEnv::new();
    env.run(&["import", codex_rollout().to_str().unwrap()])
        .success();
    let explain = env.run(&["explain", CODEX_SESSION]);
    explain.success();
    let text = &explain.stdout;
    assert!(
        text.contains("  Read: go.mod, .python-version, README.zh-TW.md, README.zh-CN.md\n"),
        "{text}"
    );
    assert!(
        text.contains("  Wrote: go.mod, README.zh-TW.md, README.zh-CN.md, .python-version, docs/RELEASE_NOTES.md, core/version.go\n"),
        "{text}"
    );
    assert!(text.contains("  Deleted: TODO.md\n"), "{text}");
    assert!(
        text.contains("Files touched: 4 read, 6 written, 1 deleted"),
        "{text}"
    );
    let stats = env.run(&["stats", CODEX_SESSION]);
    assert!(
        stats
            .stdout
            .contains("Files: 7 (4 read, 6 written, 1 deleted)"),
        "{}",
        stats.stdout
    );
    let standup = env.run(&["standup", CODEX_SESSION]);
    let text = &standup.stdout;
    assert!(
        text.contains(
            "Modified 6 files: go.mod, .python-version, README.zh-TW.md, README.zh-CN.md, \
             docs/RELEASE_NOTES.md, core/version.go\n"
        ),
        "{text}"
    );
    assert!(text.contains("Deleted 1 file: TODO.md\n"), "{text}");
    assert!(
        text.contains("Read 4 files: go.mod, .python-version, README.zh-TW.md, README.zh-CN.md\n"),
        "{text}"
    );
    // The Claude Code session of the same task wrote go.mod with Edit and removed TODO.md with
    // Bash's `rm`: only the files one of them wrote are apart.
    env.run(&["import", claude_transcript().to_str().unwrap()])
        .success();
    let diff = env.run(&["diff", "--semantic", CLAUDE_SESSION, CODEX_SESSION]);
    let text = &diff.stdout;
    assert!(
        text.contains("Files written only by B: README.zh-CN.md, README.zh-TW.md, core/version.go, docs/RELEASE_NOTES.md\n"),
        "{text}"
    );
    assert!(
        text.contains("Files written only by A: Pydantic_Field_Usage_Guide.md, 版本需求說明-繁體中文.md, 版本需求说明-简体中文.md\n"),
        "{text}"
    );
    // The SQL view, which the index's summaries fill.
    let query = format!(
        "select path, reads, writes, deletes from files where session_id = '{CODEX_SESSION}' \
         order by path"
    );
    let rows = env.run(&["sql", "--format", "json", &query]).json();
    let rows: Vec<(String, u64, u64, u64)> = rows
        .as_array()
        .unwrap_or_else(|| panic!("{rows}"))
        .iter()
        .map(|r| {
            let path = r["path"].as_str().unwrap();
            let name = path.rsplit('/').next().unwrap().to_owned();
            (
                name,
                r["reads"].as_u64().unwrap(),
                r["writes"].as_u64().unwrap(),
                r["deletes"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (".python-version".to_owned(), 1, 1, 0),
            ("README.zh-CN.md".to_owned(), 1, 1, 0),
            ("README.zh-TW.md".to_owned(), 1, 1, 0),
            ("TODO.md".to_owned(), 0, 0, 1),
            ("version.go".to_owned(), 0, 1, 0),
            ("RELEASE_NOTES.md".to_owned(), 0, 1, 0),
            ("go.mod".to_owned(), 2, 1, 0),
        ]
    );
}

/// Plays Claude Code's Bash calls of `lines` through the hook, each succeeding, in session
/// `session` of `env`.
fn bash_through_the_hook(env: &TestEnv, session: &str, lines: &[&str]) {
    let start = json!({"session_id": session, "hook_event_name": "SessionStart",
                       "source": "startup"});
    env.hook("session-start", &start).success();
    for (i, line) in lines.iter().enumerate() {
        let call = json!({"session_id": session, "tool_name": "Bash",
                          "tool_input": {"command": line}, "tool_use_id": format!("toolu_{i}")});
        let mut pre = call.clone();
        pre["hook_event_name"] = "PreToolUse".into();
        env.hook("pre-tool", &pre).success();
        let mut post = call;
        post["hook_event_name"] = "PostToolUse".into();
        post["tool_response"] = json!({"stdout": "", "stderr": "", "interrupted": false});
        env.hook("post-tool", &post).success();
    }
}

/// The lines of the Claude Code tests: a read, a write, a deletion, and what names no file for
/// certain (a search of the folder, a substitution's files, a listing, a glob).
const BASH_LINES: &[&str] = &[
    "cat src/a.rs",
    "rg TODO",
    "cat $(git ls-files)",
    "ls src",
    "head -n 5 src/*.rs",
    "echo hi > notes.txt",
    "rm -f old.rs",
];

/// A Claude Code session's Bash `cat src/a.rs` read nothing to every count of its files.
/// Recorded by the hook, it counts as a Read of the file would; `rg TODO`, `cat $(git
/// ls-files)`, `ls src` and a glob name no file for certain and count for none.
#[test]
fn claude_code_bash_files_recorded_by_the_hook_are_counted() {
    let env = TestEnv::new();
    let session = "5e11f11e-0000-4000-8000-000000000001";
    bash_through_the_hook(&env, session, BASH_LINES);
    let project = env.path().to_string_lossy().into_owned();
    let files: Vec<(String, String)> = env
        .events(session)
        .iter()
        .filter(|e| matches!(e["event_type"].as_str(), Some("file_read" | "file_write")))
        .map(|e| {
            let path = e["data"]["path"].as_str().unwrap();
            (
                e["event_type"].as_str().unwrap().to_owned(),
                path.strip_prefix(&project).unwrap_or(path).to_owned(),
            )
        })
        .collect();
    let expected = [
        ("file_read", "/src/a.rs"),
        ("file_write", "/notes.txt"),
        ("file_write", "/old.rs"),
    ]
    .map(|(k, p)| (k.to_owned(), p.to_owned()));
    assert_eq!(files, expected);
    let explain = env.run(&["explain", session]);
    let text = &explain.stdout;
    assert!(text.contains("  Read: src/a.rs\n"), "{text}");
    assert!(text.contains("  Wrote: notes.txt\n"), "{text}");
    assert!(text.contains("  Deleted: old.rs\n"), "{text}");
    assert!(
        text.contains("Files touched: 1 read, 1 written, 1 deleted"),
        "{text}"
    );
    let stats = env.run(&["stats", session]);
    assert!(
        stats
            .stdout
            .contains("Files: 3 (1 read, 1 written, 1 deleted)"),
        "{}",
        stats.stdout
    );
}

/// One line of a Claude Code transcript.
fn transcript_line(session: &str, at: u32, kind: &str, message: Value) -> String {
    json!({"type": kind, "sessionId": session, "cwd": "/p", "uuid": format!("u{at}"),
           "timestamp": format!("2026-03-01T10:00:{at:02}Z"), "message": message})
    .to_string()
}

/// An imported Claude Code transcript counts its Bash files as the hook does, from the folder
/// each call was made in; standup and diff --semantic list them.
#[test]
fn claude_code_bash_files_of_an_imported_transcript_are_counted() {
    let env = TestEnv::new();
    let session = "5e11f11e-0000-4000-8000-000000000002";
    let mut lines = vec![transcript_line(
        session,
        0,
        "user",
        json!({"role": "user", "content": "tidy up"}),
    )];
    for (i, line) in BASH_LINES.iter().enumerate() {
        let at = 1 + 2 * i as u32;
        let id = format!("toolu_{i}");
        lines.push(transcript_line(
            session,
            at,
            "assistant",
            json!({"id": format!("m{i}"), "role": "assistant", "model": "claude-x",
                   "content": [{"type": "tool_use", "id": id, "name": "Bash",
                                "input": {"command": line}}],
                   "usage": {"input_tokens": 5, "output_tokens": 7}}),
        ));
        lines.push(transcript_line(
            session,
            at + 1,
            "user",
            json!({"role": "user",
                   "content": [{"type": "tool_result", "tool_use_id": id, "content": "ok"}]}),
        ));
    }
    let file = env.path().join("t.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    env.run(&["import", file.to_str().unwrap()]).success();
    let files: Vec<(String, String)> = env
        .events(session)
        .iter()
        .filter(|e| matches!(e["event_type"].as_str(), Some("file_read" | "file_write")))
        .map(|e| {
            (
                e["event_type"].as_str().unwrap().to_owned(),
                e["data"]["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("file_read", "/p/src/a.rs"),
        ("file_write", "/p/notes.txt"),
        ("file_write", "/p/old.rs"),
    ]
    .map(|(k, p)| (k.to_owned(), p.to_owned()));
    assert_eq!(files, expected);
    let explain = env.run(&["explain", session]);
    assert!(
        explain
            .stdout
            .contains("Files touched: 1 read, 1 written, 1 deleted"),
        "{}",
        explain.stdout
    );
    let standup = env.run(&["standup", session]);
    assert!(
        standup.stdout.contains("notes.txt") && standup.stdout.contains("src/a.rs"),
        "{}",
        standup.stdout
    );
}

/// A newer Codex reads with its shell and writes with its `apply_patch` tool, whose paths were
/// kept as the patch spells them (`go.mod`) while the shell's are named from the folder the
/// command ran in: the file read and then patched counted as two files. Both are named from
/// the folder.
#[test]
fn a_file_codex_read_with_its_shell_and_patched_is_one_file() {
    let env = TestEnv::new();
    let session = "019c8a4d-8f45-7010-8b5d-7fad920aa7f1";
    let project = env.path().to_string_lossy().into_owned();
    let line = |kind: &str, payload: Value| {
        json!({"timestamp": "2026-11-30T05:39:48.457Z", "type": kind, "payload": payload})
            .to_string()
    };
    let patch = "*** Begin Patch\n*** Update File: go.mod\n@@\n-go 1.24.0\n+go 1.24\n*** End Patch";
    let calls = [
        ("exec_command", json!({"cmd": "cat go.mod"})),
        ("apply_patch", json!({"input": patch})),
    ];
    let mut lines = vec![
        line(
            "session_meta",
            json!({"id": session, "cwd": project, "cli_version": "0.171.0"}),
        ),
        line(
            "turn_context",
            json!({"cwd": project, "model": "gpt-5.1-codex"}),
        ),
    ];
    for (i, (tool, arguments)) in calls.iter().enumerate() {
        lines.push(line(
            "response_item",
            json!({"type": "function_call", "name": tool, "call_id": format!("c{i}"),
                   "arguments": arguments.to_string()}),
        ));
        lines.push(line(
            "response_item",
            json!({"type": "function_call_output", "call_id": format!("c{i}"), "output": "ok"}),
        ));
    }
    let rollout = env
        .path()
        .join(format!("rollout-2026-11-30T05-39-48-{session}.jsonl"));
    std::fs::write(&rollout, lines.join("\n") + "\n").unwrap();
    env.run(&["import", rollout.to_str().unwrap()]).success();
    let stats = env.run(&["stats", session]);
    assert!(
        stats.stdout.contains("Files: 1 (1 read, 1 written)"),
        "{}",
        stats.stdout
    );
}

/// The file events the hook recorded in `session`, as (kind, path inside the project).
fn recorded_files(env: &TestEnv, session: &str) -> Vec<(String, String)> {
    let project = env.path().to_string_lossy().into_owned();
    env.events(session)
        .iter()
        .filter(|e| matches!(e["event_type"].as_str(), Some("file_read" | "file_write")))
        .map(|e| {
            let path = e["data"]["path"].as_str().unwrap();
            (
                e["event_type"].as_str().unwrap().to_owned(),
                path.strip_prefix(&project).unwrap_or(path).to_owned(),
            )
        })
        .collect()
}

/// An option's value was counted as a file: `sed -i '' 's/foo/bar/g' f` (macOS) wrote a file
/// `s/foo/bar/g`, `touch -d '2 days ago' f` one named `2 days ago`, `xxd -l 64 f` read `64`,
/// `yq e '.a.b' f` read `.a.b`, `rg --max-depth 2 'console.log' src` read `console.log`,
/// `xargs -I{} cat {}` read `{}`, `cp x /etc/nginx/conf.d` wrote the folder as a file. A line
/// with an option whose value the reader does not know counts none of its operands.
#[test]
fn an_options_value_is_no_file() {
    let env = TestEnv::new();
    let session = "5e11f11e-0000-4000-8000-000000000003";
    bash_through_the_hook(
        &env,
        session,
        &[
            "sed -i '' 's/foo/bar/g' src/a.rs",
            "touch -d '2 days ago' stamp",
            "xxd -l 64 f.bin",
            "yq e '.a.b' f.yaml",
            "rg --max-depth 2 'console.log' src",
            "grep --exclude '*.min.js' -rn console.log .",
            "ls | xargs -I{} cat {}",
            "cp foo.conf /etc/nginx/conf.d",
            "tail +3 a.txt",
            "jq --arg name v '.x' f.json",
            "yq -i '.a = 1' g.yaml",
            // Still read: a value in the option's word, a known option's value.
            "nl -ba x.py",
            "head -n 5 notes.md",
            "cut -d: -f1 users.txt",
        ],
    );
    let expected = [
        ("file_write", "/src/a.rs"),
        ("file_read", "/f.yaml"),
        ("file_read", "/foo.conf"),
        ("file_write", "/g.yaml"),
        ("file_read", "/x.py"),
        ("file_read", "/notes.md"),
        ("file_read", "/users.txt"),
    ]
    .map(|(k, p)| (k.to_owned(), p.to_owned()));
    assert_eq!(recorded_files(&env, session), expected);
}

/// A line naming 20,000 files (a generated script) took the hook seconds, every file compared
/// with each before it, and wrote an event for each; a line's first
/// thousand files are recorded.
#[test]
fn a_line_naming_thousands_of_files_records_a_thousand() {
    let env = TestEnv::new();
    let session = "5e11f11e-0000-4000-8000-000000000004";
    let names: Vec<String> = (0..20_000).map(|i| format!("d/f{i}.txt")).collect();
    let line = format!("cat {}", names.join(" "));
    let started = std::time::Instant::now();
    bash_through_the_hook(&env, session, &[&line]);
    let took = started.elapsed();
    let files = recorded_files(&env, session);
    assert_eq!(files.len(), 1000);
    assert_eq!(files[0], ("file_read".to_owned(), "/d/f0.txt".to_owned()));
    // Only against the quadratic time it took (each file compared with each before it), as
    // a hang: the figure is the bench's.
    assert!(
        took < crate::common::wait::HANG,
        "{took:?} for a line naming 20,000 files"
    );
}

/// Plays one Claude Code Bash call through the hook, its pre-tool payload sent from `before`
/// and its post-tool one from `after`, the folders the shell was in before and after it.
fn bash_call_between(env: &TestEnv, session: &str, id: &str, line: &str, folders: [&str; 2]) {
    let [before, after] = folders;
    let call = json!({"session_id": session, "tool_name": "Bash",
                      "tool_input": {"command": line}, "tool_use_id": id});
    let mut pre = call.clone();
    pre["hook_event_name"] = "PreToolUse".into();
    pre["cwd"] = before.into();
    let mut post = call;
    post["hook_event_name"] = "PostToolUse".into();
    post["cwd"] = after.into();
    post["tool_response"] = json!({"stdout": "", "stderr": "", "interrupted": false});
    for (event, payload) in [("pre-tool", pre), ("post-tool", post)] {
        env.run_with_stdin(&["hook", event], payload.to_string().as_bytes())
            .success();
    }
}

/// The file events of `session`, as (kind, path) in the order recorded.
fn file_events(env: &TestEnv, session: &str) -> Vec<(String, String)> {
    env.events(session)
        .iter()
        .filter(|e| matches!(e["event_type"].as_str(), Some("file_read" | "file_write")))
        .map(|e| {
            (
                e["event_type"].as_str().unwrap().to_owned(),
                e["data"]["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The hook took `cd sub && cat x.txt` from the folder Claude Code's shell was left in once
/// the call ran (`sub`), could not tell where the line started and recorded `sub/x.txt`, a
/// relative path, where the transcript's import of the same call recorded `/p/sub/x.txt`: the
/// same file counted as two once both were in the store. Both name it from the folder the line
/// started in.
#[test]
fn a_line_that_changes_folder_names_the_same_file_from_the_hook_and_the_import() {
    let env = TestEnv::new();
    let project = env.path().to_string_lossy().into_owned();
    let sub = format!("{project}/sub");
    // A folder of the project's own stands for one out of it (`/etc`): a hook payload's folder
    // is where the store is looked for.
    let etc = format!("{project}/sub/etc");
    std::fs::create_dir_all(&etc).unwrap();
    let out_of_it = format!("cd {etc} && cat hostname");
    let hooked = "5e11f11e-0000-4000-8000-000000000005";
    let start = json!({"session_id": hooked, "hook_event_name": "SessionStart",
                       "source": "startup"});
    env.hook("session-start", &start).success();
    let calls: [(&str, [&str; 2]); 6] = [
        ("cd sub && cat x.txt", [&project, &sub]),
        ("cat y.txt", [&sub, &sub]),
        ("cd .. && rm -f z.txt", [&sub, &project]),
        (&out_of_it, [&project, &etc]),
        ("cd sub && head -n 3 w.txt && cd ..", [&project, &project]),
        // Where `cd sub` may have failed: `w.txt` in one folder or the other, counted by none.
        ("cd sub; cat v.txt", [&project, &sub]),
    ];
    for (i, (line, folders)) in calls.iter().enumerate() {
        bash_call_between(&env, hooked, &format!("toolu_{i}"), line, *folders);
    }
    let expected: Vec<(String, String)> = [
        ("file_read", format!("{sub}/x.txt")),
        ("file_read", format!("{sub}/y.txt")),
        ("file_write", format!("{project}/z.txt")),
        ("file_read", format!("{etc}/hostname")),
        ("file_read", format!("{sub}/w.txt")),
    ]
    .map(|(k, p)| (k.to_owned(), p))
    .into();
    // `cd ..` went from a folder the hook cannot name (its payload says where the shell ended
    // up): z.txt is not counted there rather than named `../z.txt`.
    let mut hooked_expected = expected.clone();
    hooked_expected.remove(2);
    assert_eq!(file_events(&env, hooked), hooked_expected);

    // The same calls in a transcript: each line names the folder it was written in.
    let imported = "5e11f11e-0000-4000-8000-000000000006";
    let entry = |at: u32, kind: &str, cwd: &str, message: Value| {
        json!({"type": kind, "sessionId": imported, "cwd": cwd, "uuid": format!("u{at}"),
               "timestamp": format!("2026-03-01T10:00:{at:02}Z"), "message": message})
        .to_string()
    };
    let mut lines = vec![entry(
        0,
        "user",
        &project,
        json!({"role": "user", "content": "look"}),
    )];
    for (i, (line, [before, after])) in calls.iter().enumerate() {
        let at = 1 + 2 * i as u32;
        let id = format!("toolu_{i}");
        lines.push(entry(
            at,
            "assistant",
            before,
            json!({"id": format!("m{i}"), "role": "assistant", "model": "claude-x",
                   "content": [{"type": "tool_use", "id": id, "name": "Bash",
                                "input": {"command": line}}],
                   "usage": {"input_tokens": 5, "output_tokens": 7}}),
        ));
        lines.push(entry(
            at + 1,
            "user",
            after,
            json!({"role": "user",
                   "content": [{"type": "tool_result", "tool_use_id": id, "content": "ok"}]}),
        ));
    }
    let file = env.path().join("t.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    env.run(&["import", file.to_str().unwrap()]).success();
    assert_eq!(file_events(&env, imported), expected);
}

/// `cat 'x.txt` (a quote never closed), `cat "y.txt`, `cat $(echo z.txt` and `cat w.txt |` are
/// lines Bash refuses, running nothing; the hook recorded a read of each file all the same.
#[test]
fn a_line_the_shell_refuses_counts_no_file() {
    let env = TestEnv::new();
    let session = "5e11f11e-0000-4000-8000-000000000007";
    bash_through_the_hook(
        &env,
        session,
        &[
            "cat 'x.txt",
            "cat \"y.txt",
            "cat $(echo z.txt",
            "echo hi > `echo v.txt",
            "cat w.txt |",
            "cat u.txt &&",
            "(cat t.txt",
            // Read still: quotes closed, a here-document's apostrophe, a case pattern's `)`.
            "cat 'ok 1.txt'",
            "cat <<'EOF' > ok2.txt\nit's\nEOF",
            "case x in x) cat ok3.txt;; esac",
        ],
    );
    let expected = [
        ("file_read", "/ok 1.txt"),
        ("file_write", "/ok2.txt"),
        ("file_read", "/ok3.txt"),
    ]
    .map(|(k, p)| (k.to_owned(), p.to_owned()));
    assert_eq!(recorded_files(&env, session), expected);
}

/// Codex on Windows runs its lines in PowerShell (`["powershell.exe", "-Command", "…"]`) from
/// a folder such as `C:\Users\me\app`, and Claude Code there has a `PowerShell` tool: their
/// lines were read as Bash, `cat src\a.rs` a read of `srca.rs` and `Get-Content a.txt >
/// out.txt` a write of `out.txt` in no folder. A line a Windows shell runs counts no file.
#[test]
fn a_line_a_windows_shell_runs_counts_no_file() {
    let env = TestEnv::new();
    let session = "019c8a4d-8f45-7010-8b5d-7fad920aa7f2";
    let line = |kind: &str, payload: Value| {
        json!({"timestamp": "2026-11-30T05:39:48.457Z", "type": kind, "payload": payload})
            .to_string()
    };
    let windows = r"C:\Users\me\app";
    let calls = [
        json!({"command": ["powershell.exe", "-Command", "Get-Content README.md > out.txt"]}),
        json!({"command": ["cmd", "/c", r"type src\a.rs > b.txt"]}),
        json!({"command": ["bash", "-lc", r"cat src\a.rs"]}),
    ];
    let mut lines = vec![
        line(
            "session_meta",
            json!({"id": session, "cwd": windows, "cli_version": "0.39.0"}),
        ),
        line("turn_context", json!({"cwd": windows, "model": "gpt-5"})),
    ];
    for (i, arguments) in calls.iter().enumerate() {
        lines.push(line(
            "response_item",
            json!({"type": "function_call", "name": "shell", "call_id": format!("c{i}"),
                   "arguments": arguments.to_string()}),
        ));
        lines.push(line(
            "response_item",
            json!({"type": "function_call_output", "call_id": format!("c{i}"), "output": "ok"}),
        ));
    }
    let rollout = env
        .path()
        .join(format!("rollout-2026-11-30T05-39-48-{session}.jsonl"));
    std::fs::write(&rollout, lines.join("\n") + "\n").unwrap();
    env.run(&["import", rollout.to_str().unwrap()]).success();
    assert_eq!(file_events(&env, session), []);

    // Claude Code's PowerShell tool, on a Unix folder too: PowerShell's line, not Bash's.
    let hooked = "5e11f11e-0000-4000-8000-000000000008";
    let start = json!({"session_id": hooked, "hook_event_name": "SessionStart",
                       "source": "startup"});
    env.hook("session-start", &start).success();
    let call = json!({"session_id": hooked, "tool_name": "PowerShell",
                      "tool_input": {"command": r"cat src\a.rs > c.txt"}, "tool_use_id": "t1"});
    let mut pre = call.clone();
    pre["hook_event_name"] = "PreToolUse".into();
    env.hook("pre-tool", &pre).success();
    let mut post = call;
    post["hook_event_name"] = "PostToolUse".into();
    post["tool_response"] = json!({"stdout": "", "stderr": "", "interrupted": false});
    env.hook("post-tool", &post).success();
    assert_eq!(file_events(&env, hooked), []);
}

/// Codex runs each command in a shell of its own from the session's folder, which its hooks'
/// `cwd` names: the hook took it for where `cd sub && cat x.txt` left the shell and recorded
/// `sub/x.txt`, relative, where the rollout's import reads `/p/sub/x.txt`. Codex's hook names
/// the file from the folder the line started in.
#[test]
fn a_codex_line_that_changes_folder_is_named_from_the_folder_it_started_in() {
    let env = TestEnv::new();
    let project = env.path().to_string_lossy().into_owned();
    let session = "019c8a4d-8f45-7010-8b5d-7fad920aa7f3";
    let base = json!({"session_id": session, "turn_id": "t1", "model": "gpt-5.1-codex",
                      "permission_mode": "bypassPermissions", "cwd": project,
                      "transcript_path": null});
    let with = |event: &str, fields: Value| {
        let mut payload = base.clone();
        payload["hook_event_name"] = event.into();
        for (key, value) in fields.as_object().unwrap() {
            payload[key] = value.clone();
        }
        payload
    };
    let play = |arg: &str, payload: Value| {
        env.run_with_stdin(
            &["hook", "--agent", "codex", arg],
            payload.to_string().as_bytes(),
        )
        .success();
    };
    play(
        "session-start",
        with("SessionStart", json!({"source": "startup"})),
    );
    let call = json!({"tool_name": "Bash", "tool_input": {"command": "cd sub && cat x.txt"},
                      "tool_use_id": "call_1"});
    play("pre-tool", with("PreToolUse", call.clone()));
    let mut post = call;
    post["tool_response"] = "hi\n".into();
    play("post-tool", with("PostToolUse", post));
    assert_eq!(
        file_events(&env, session),
        [("file_read".to_owned(), format!("{project}/sub/x.txt"))]
    );
}

/// Gemini CLI runs each command with `bash -c` in the project's folder, or in the folder its
/// call names (`dir_path`; `directory` before 0.9): the hook took its `cwd` for where `cd sub &&
/// cat x.txt` left the shell, and named `cat a.txt` run in `dir_path: docs` as the project's
/// `a.txt`. Both are named from the folder the line started in.
#[test]
fn a_gemini_line_is_named_from_the_folder_it_started_in() {
    let env = TestEnv::new();
    let project = env.path().to_string_lossy().into_owned();
    let session = "gemini-fresh-shell";
    let play = |event: &str, call: &Value| {
        let mut payload = json!({"session_id": session, "transcript_path": "/t.jsonl",
                                 "hook_event_name": event, "cwd": project,
                                 "timestamp": "2026-11-30T05:36:49.168Z"});
        for (key, value) in call.as_object().unwrap() {
            payload[key] = value.clone();
        }
        env.run_with_stdin(
            &["hook", "--agent", "gemini-cli", event],
            payload.to_string().as_bytes(),
        )
        .success();
    };
    for input in [
        json!({"command": "cd sub && cat x.txt"}),
        json!({"command": "cat a.txt", "dir_path": "docs"}),
        json!({"command": "cat b.txt", "directory": "docs"}),
    ] {
        let call = json!({"tool_name": "run_shell_command", "tool_input": input});
        play("BeforeTool", &call);
        let mut after = call;
        after["tool_response"] = json!({"llmContent": "hi", "returnDisplay": "hi"});
        play("AfterTool", &after);
    }
    assert_eq!(
        file_events(&env, session),
        [
            ("file_read".to_owned(), format!("{project}/sub/x.txt")),
            ("file_read".to_owned(), format!("{project}/docs/a.txt")),
            ("file_read".to_owned(), format!("{project}/docs/b.txt")),
        ]
    );
}

/// The import of a Gemini CLI chat names a shell line's files from the folder its call names
/// (`dir_path`), as the hook does.
#[test]
fn an_imported_gemini_line_is_named_from_the_folder_its_call_names() {
    let env = TestEnv::new();
    let recorded = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/agents/recorded/gemini-cli-0.61.0-session.jsonl");
    let mut chat = String::new();
    for line in std::fs::read_to_string(recorded).unwrap().lines() {
        let mut v: Value = serde_json::from_str(line).unwrap();
        if let Some(calls) = v.get_mut("toolCalls").and_then(Value::as_array_mut) {
            for call in calls.iter_mut().filter(|c| c["name"] == "read_file") {
                call["name"] = "run_shell_command".into();
                call["args"] = json!({"command": "cat a.txt", "dir_path": "docs"});
            }
        }
        chat.push_str(&v.to_string());
        chat.push('\n');
    }
    let file = env.path().join("session-2026-11-30T05-36-629cab06.jsonl");
    std::fs::write(&file, chat).unwrap();
    env.run(&["import", file.to_str().unwrap()]).success();
    let files = file_events(&env, "629cab06-47bb-41bc-afb3-1479ecd94e67");
    assert!(!files.is_empty());
    assert!(
        files.iter().all(|(_, path)| path.ends_with("docs/a.txt")),
        "{files:?}"
    );
}

/// Copilot CLI runs each `bash` call in a session of its own ("sync sessions are discarded
/// after the command completes"), from the session's working folder, which its hooks' `cwd`
/// names: the hook took that folder for where `cd sub && cat x.txt` left the shell, could not
/// tell where the line started, and counted no file. It is named from that folder.
#[test]
fn a_copilot_line_that_changes_folder_is_named_from_the_folder_it_started_in() {
    let env = TestEnv::new();
    let project = env.path().to_string_lossy().into_owned();
    let session = "5a253198-fe35-44bd-a697-00641633c4b4";
    let args = json!({"command": "cd sub && cat x.txt", "description": "read"});
    let pre = json!({"sessionId": session, "timestamp": 1_796_017_193_519_u64, "cwd": project,
                     "toolName": "bash", "toolArgs": args});
    let mut post = pre.clone();
    post["timestamp"] = json!(1_796_017_193_810_u64);
    post["toolResult"] = json!({"resultType": "success",
                                "textResultForLlm": "hi\n<shellId: 0 completed with exit code 0>"});
    for (event, payload) in [("preToolUse", pre), ("postToolUse", post)] {
        env.run_with_stdin(
            &["hook", "--agent", "copilot", event],
            payload.to_string().as_bytes(),
        )
        .success();
    }
    assert_eq!(
        file_events(&env, session),
        [("file_read".to_owned(), format!("{project}/sub/x.txt"))]
    );
}

/// `rm old.py`, `unlink gone.txt` and `mv a.txt b.txt` were reported as files written (`Wrote:
/// old.py, gone.txt, a.txt, b.txt`, standup's `Modified 4 files`), while `rm -r tests/` and
/// `git rm x.py` were not counted at all. A deletion and a move are their own, written nothing:
/// `explain`, `standup`, `stats`, `compare`, `diff` and `sql` say so, and `git rm --cached`,
/// which leaves the file, counts for nothing.
#[test]
fn files_deleted_or_moved_are_no_files_written() {
    let env = TestEnv::new();
    let session = "5e11f11e-0000-4000-8000-0000000000de";
    let lines = [
        "echo hi > kept.txt",
        "rm old.py",
        "unlink gone.txt",
        "mv a.txt b.txt",
        "rm -r tests/",
        "git rm -q x.py",
        "git mv c.py d.py",
        "git rm --cached k.py",
    ];
    bash_through_the_hook(&env, session, &lines);
    let explain = env.run(&["explain", session]);
    let text = &explain.stdout;
    assert!(text.contains("  Wrote: kept.txt\n"), "{text}");
    assert!(
        text.contains("  Deleted: old.py, gone.txt, tests, x.py\n"),
        "{text}"
    );
    assert!(
        text.contains("  Moved: a.txt → b.txt, c.py → d.py\n"),
        "{text}"
    );
    assert!(
        text.contains("Files touched: 0 read, 1 written, 4 deleted, 2 moved\n"),
        "{text}"
    );
    let json = env.run(&["explain", session, "--format", "json"]).json();
    let phase = &json["phases"][0];
    assert_eq!(phase["wrote"], json!(["kept.txt"]));
    assert_eq!(
        phase["deleted"],
        json!(["old.py", "gone.txt", "tests", "x.py"])
    );
    assert_eq!(
        phase["moved"],
        json!([{"from": "a.txt", "to": "b.txt"}, {"from": "c.py", "to": "d.py"}])
    );
    let old = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "old.py")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!((&old["writes"], &old["deletes"]), (&json!(0), &json!(1)));

    let standup = env.run(&["standup", session]);
    let text = &standup.stdout;
    assert!(text.contains("  Modified 1 file: kept.txt\n"), "{text}");
    assert!(
        text.contains("  Deleted 4 files: old.py, gone.txt, tests, x.py\n"),
        "{text}"
    );
    assert!(
        text.contains("  Moved 2 files: a.txt → b.txt, c.py → d.py\n"),
        "{text}"
    );
    let json = env.run(&["standup", session, "--format", "json"]).json();
    assert_eq!(json["files_modified"], json!(["kept.txt"]));
    assert_eq!(
        json["files_deleted"],
        json!(["old.py", "gone.txt", "tests", "x.py"])
    );

    let stats = env.run(&["stats", session]);
    assert!(
        stats
            .stdout
            .contains("Writes: 1   Files: 7 (0 read, 1 written, 4 deleted, 2 moved)"),
        "{}",
        stats.stdout
    );
    let json = env.run(&["stats", session, "--format", "json"]).json();
    let counts = [
        "writes",
        "deletes",
        "moves",
        "files_written",
        "files_deleted",
        "files_moved",
    ];
    assert_eq!(
        counts.map(|k| json[k].as_u64()),
        [1, 4, 2, 1, 4, 2].map(Some)
    );

    let rows = env
        .run(&[
            "sql",
            "--format",
            "json",
            "select sum(writes) w, sum(deletes) d, sum(moves) m from files",
        ])
        .json();
    assert_eq!(rows, json!([{"w": 1, "d": 4, "m": 2}]));

    // Beside a session that only wrote kept.txt, the deletions and moves are what differs.
    let other = "5e11f11e-0000-4000-8000-0000000000df";
    bash_through_the_hook(&env, other, &lines[..1]);
    let json = env
        .run(&["compare", session, other, "--format", "json"])
        .json();
    let figures = ["files_modified", "files_deleted", "files_moved"];
    assert_eq!(figures.map(|k| json["a"][k].as_u64()), [1, 4, 2].map(Some));
    let semantic = env.run(&["diff", "--semantic", session, other]);
    assert!(
        semantic
            .stdout
            .contains("  Files deleted only by A: gone.txt, old.py, tests, x.py\n"),
        "{}",
        semantic.stdout
    );
    assert!(
        !semantic.stdout.contains("Files written only"),
        "{}",
        semantic.stdout
    );
}

/// The session [`import_codex_patches`] imports.
pub(crate) const CODEX_PATCHES_SESSION: &str = "019c8a4d-8f45-7010-8b5d-7fad920aa7f9";

/// Imports into `env` a Codex rollout (the corpus's 0.39 one, its files changed) whose patches
/// write kept.rs, new.rs and notes.md, delete old.py, TODO.md and gone.txt, and move a.rs to
/// src/a.rs and b.rs to lib/b.rs: the model's own apply_patch (a newer Codex), Codex's patch
/// run by its shell (0.39), and a code-mode cell's `patch_apply_end`.
pub(crate) fn import_codex_patches(env: &TestEnv) {
    let session = CODEX_PATCHES_SESSION;
    let project = env.path().to_string_lossy().into_owned();
    // The lines of the corpus's 0.39 rollout, with their files changed.
    let corpus = std::fs::read_to_string(codex_rollout()).unwrap();
    let of_type = |kind: &str| -> Value {
        let line = corpus.lines().find(|l| l.contains(kind)).unwrap();
        let mut line: Value = serde_json::from_str(line).unwrap();
        line["payload"]["cwd"] = project.clone().into();
        line
    };
    let mut meta = of_type("\"type\":\"session_meta\"");
    meta["payload"]["id"] = session.into();
    let context = of_type("\"type\":\"turn_context\"");
    let at = |n: u32| format!("2025-09-19T09:09:{n:02}.000Z");
    let line = |n: u32, kind: &str, payload: Value| {
        json!({"timestamp": at(n), "type": kind, "payload": payload}).to_string()
    };
    // The model's own apply_patch (a newer Codex), and Codex's patch run by its shell (0.39).
    let patch = "*** Begin Patch\n*** Delete File: old.py\n*** Update File: a.rs\n*** Move to: src/a.rs\n@@\n-x\n+y\n*** Update File: kept.rs\n@@\n-x\n+y\n*** Add File: new.rs\n+n\n*** End Patch\n";
    let shell_patch = "*** Begin Patch\n*** Delete File: TODO.md\n*** End Patch";
    let shell =
        json!({"command": ["bash", "-lc", format!("applypatch << 'PATCH'\n{shell_patch}\nPATCH")]});
    let changes = json!({
        format!("{project}/gone.txt"): {"type": "delete", "content": "bye\n"},
        format!("{project}/b.rs"): {"type": "update", "unified_diff": "@@\n-x\n+y\n",
                                    "move_path": format!("{project}/lib/b.rs")},
        format!("{project}/notes.md"): {"type": "add", "content": "hi\n"},
    });
    let lines = [
        meta.to_string(),
        context.to_string(),
        line(
            1,
            "response_item",
            json!({"type": "custom_tool_call", "name": "apply_patch", "call_id": "c1",
                   "input": patch, "status": "completed"}),
        ),
        line(
            2,
            "response_item",
            json!({"type": "custom_tool_call_output", "call_id": "c1", "output": "Success."}),
        ),
        line(
            3,
            "response_item",
            json!({"type": "function_call", "name": "shell", "call_id": "c2",
                   "arguments": shell.to_string()}),
        ),
        line(
            4,
            "response_item",
            json!({"type": "function_call_output", "call_id": "c2", "output": "Done!"}),
        ),
        line(
            5,
            "response_item",
            json!({"type": "custom_tool_call", "name": "exec", "call_id": "c3",
                   "input": "await tools.apply_patch(patchText);"}),
        ),
        line(
            6,
            "event_msg",
            json!({"type": "patch_apply_end", "call_id": "cell-patch", "success": true,
                   "stdout": "Success.", "changes": changes}),
        ),
        line(
            7,
            "response_item",
            json!({"type": "custom_tool_call_output", "call_id": "c3", "output": "ok"}),
        ),
    ];
    let rollout = env
        .path()
        .join(format!("rollout-2025-09-19T09-09-00-{session}.jsonl"));
    std::fs::write(&rollout, lines.join("\n") + "\n").unwrap();
    env.run(&["import", rollout.to_str().unwrap()]).success();
}

/// A Codex patch's `*** Delete File: p` and `*** Move to: q` (and a `patch_apply_end`'s
/// `delete` and `move_path`, of a code-mode cell's patch) were files written: `Wrote: old.py,
/// a.rs, src/a.rs, …` and standup's `Modified 9 files`. Each is the deletion or the move it
/// is, as `rm` and `mv` are; the files a patch adds or updates are written.
#[test]
fn a_codex_patch_deletes_and_moves_files_and_writes_no_such_file() {
    let env = TestEnv::new();
    let session = CODEX_PATCHES_SESSION;
    import_codex_patches(&env);

    let standup = env.run(&["standup", session, "--format", "json"]).json();
    let mut modified: Vec<&str> = standup["files_modified"]
        .as_array()
        .unwrap_or_else(|| panic!("{standup}"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    modified.sort_unstable();
    assert_eq!(modified, ["kept.rs", "new.rs", "notes.md"], "{standup}");
    let mut deleted = standup["files_deleted"].as_array().unwrap().clone();
    deleted.sort_by_key(ToString::to_string);
    assert_eq!(
        deleted,
        [json!("TODO.md"), json!("gone.txt"), json!("old.py")]
    );
    let mut moved = standup["files_moved"].as_array().unwrap().clone();
    moved.sort_by_key(ToString::to_string);
    assert_eq!(
        moved,
        [
            json!({"from": "a.rs", "to": "src/a.rs"}),
            json!({"from": "b.rs", "to": "lib/b.rs"})
        ]
    );
    let explain = env.run(&["explain", session]);
    assert!(
        explain
            .stdout
            .contains("Files touched: 0 read, 3 written, 3 deleted, 2 moved\n"),
        "{}",
        explain.stdout
    );
    let stats = env.run(&["stats", session, "--format", "json"]).json();
    let counts = ["files_written", "files_deleted", "files_moved"];
    assert_eq!(counts.map(|k| stats[k].as_u64()), [3, 3, 2].map(Some));
}
