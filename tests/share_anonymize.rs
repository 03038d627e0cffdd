//! `share --anonymize [--dry-run]`: a page of a session recorded through hooks in a folder
//! named after its user names the user, the host, the folder and the repository nowhere (the
//! events, the header, the summary, the annotations, the subagents), and still works in
//! Chromium; `share` without it keeps them, and neither changes the store.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::common::TestEnv;
use crate::common::browser::Browser;

const SID: &str = "5ea7ed00-0000-4000-8000-00000000a707";
const NAME: &str = "zorblax";

/// Where the session was recorded: `<tmp>/home/zorblax`, and the project in it.
struct Machine {
    home: PathBuf,
    project: PathBuf,
}

fn git(dir: &Path, args: &[&str]) {
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
}

/// Plays one Claude Code hook as `zorblax` in the project.
fn hook(env: &TestEnv, machine: &Machine, event: &str, name: &str, fields: Value) {
    let mut payload = json!({
        "session_id": SID,
        "transcript_path": machine
            .home
            .join(format!(".claude/projects/-home-{NAME}-{NAME}-app/{SID}.jsonl")),
        "cwd": machine.project,
        "hook_event_name": name,
    });
    for (k, v) in fields.as_object().unwrap() {
        payload[k] = v.clone();
    }
    let mut cmd = env.command(&["hook", event]);
    cmd.env("USER", NAME)
        .env("LOGNAME", NAME)
        .env("HOME", &machine.home)
        .env("AGENT_TRACE_DIR", env.store());
    let run = crate::common::run_with_stdin(cmd, payload.to_string().as_bytes());
    assert_eq!(run.code, 0, "{event}: {run:?}");
}

/// A session `zorblax` recorded through hooks in `~/zorblax-app`, on the branch
/// `zorblax/fix-login` of `git@github.com:zorblax/zorblax-app.git`, with a subagent and an
/// annotation, as the kernel's host name would be `zorblax-box`.
fn recorded(env: &TestEnv) -> Machine {
    let home = env.path().join("home").join(NAME);
    let project = home.join(format!("{NAME}-app"));
    std::fs::create_dir_all(project.join("src")).unwrap();
    git(
        &project,
        &["init", "-q", "-b", &format!("{NAME}/fix-login")],
    );
    let remote = format!("git@github.com:{NAME}/{NAME}-app.git");
    git(&project, &["remote", "add", "origin", &remote]);
    let machine = Machine { home, project };
    let p = machine.project.display().to_string();
    let h = &machine;
    hook(
        env,
        h,
        "session-start",
        "SessionStart",
        json!({"source": "startup"}),
    );
    hook(
        env,
        h,
        "user-prompt",
        "UserPromptSubmit",
        json!({"prompt": format!("Zorblax here: fix the login in {p}, notes in ~/notes.md, mail {NAME}@example.com")}),
    );
    let file = format!("{p}/src/login.rs");
    let calls = [
        (
            "Read",
            json!({"file_path": file}),
            json!({"type": "text", "file": {"filePath": file, "content": "// by ZORBLAX\nfn login() {}"}}),
        ),
        (
            "Edit",
            json!({"file_path": file, "old_string": "fn login() {}", "new_string": "fn login() -> bool { true }"}),
            json!({"filePath": file, "oldString": "fn login() {}", "newString": "fn login() -> bool { true }"}),
        ),
        (
            "WebFetch",
            json!({"url": format!("http://localhost:3000/open?file=%2Fhome%2F{NAME}%2F{NAME}-app%2Fsrc%2Flogin.rs"), "prompt": "open it"}),
            json!({"result": format!("opened {{\"path\": \"\\/home\\/{NAME}\\/{NAME}-app\"}}")}),
        ),
        (
            "Bash",
            json!({"command": format!("cd {p} && cargo test && git push origin {NAME}/fix-login")}),
            json!({"stdout": format!("test result: ok. 3 passed; 0 failed\n{NAME}@{NAME}-box:~/{NAME}-app$ git push\nTo github.com:{NAME}/{NAME}-app.git"), "stderr": "", "interrupted": false, "isImage": false}),
        ),
    ];
    for (i, (tool, input, response)) in calls.iter().enumerate() {
        let id = format!("toolu_{i}");
        let call = json!({"tool_name": tool, "tool_input": input, "tool_use_id": id});
        hook(env, h, "pre-tool", "PreToolUse", call.clone());
        let mut done = call;
        done["tool_response"] = response.clone();
        hook(env, h, "post-tool", "PostToolUse", done);
    }
    // A subagent: its events name the user, but no home folder to learn the name from, and its
    // meta.json names no user, host or folder: only its parent does.
    let spawn = json!({"tool_name": "Agent", "tool_input": {"prompt": "check the login tests", "subagent_type": "Explore"}, "tool_use_id": "toolu_agent"});
    hook(env, h, "pre-tool", "PreToolUse", spawn.clone());
    let agent = json!({"agent_id": "a7c0ffee", "agent_type": "Explore"});
    hook(env, h, "subagent-start", "SubagentStart", agent.clone());
    let mut sub_call = agent.clone();
    sub_call["tool_name"] = "Bash".into();
    sub_call["tool_input"] = json!({"command": "ls tests"});
    sub_call["tool_use_id"] = "toolu_sub".into();
    hook(env, h, "pre-tool", "PreToolUse", sub_call.clone());
    sub_call["tool_response"] = json!({"stdout": format!("login.rs (owner {NAME})"), "stderr": ""});
    hook(env, h, "post-tool", "PostToolUse", sub_call);
    let mut stop = agent;
    stop["last_assistant_message"] = format!("Zorblax's tests in {NAME}-app pass").into();
    hook(env, h, "subagent-stop", "SubagentStop", stop);
    let mut spawned = spawn;
    spawned["tool_response"] = json!({"content": [{"type": "text", "text": "tests pass"}]});
    hook(env, h, "post-tool", "PostToolUse", spawned);
    hook(env, h, "stop", "Stop", json!({"stop_hook_active": false}));
    hook(
        env,
        h,
        "session-end",
        "SessionEnd",
        json!({"reason": "exit"}),
    );
    // The hook records the kernel's host name, which a test cannot choose: make it one that
    // names the user, as a laptop's often does.
    let path = env.store().join(SID).join("meta.json");
    let mut meta: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(meta["attribution"]["os_user"], NAME, "{meta}");
    assert_eq!(
        meta["attribution"]["git_branch"],
        format!("{NAME}/fix-login")
    );
    meta["attribution"]["hostname"] = format!("{NAME}-box").into();
    std::fs::write(&path, meta.to_string()).unwrap();
    let mut annotate = env.command(&[
        "annotate",
        SID,
        "3",
        "--note",
        &format!("the bug is in {file}"),
        "--label",
        &format!("{NAME}-fix"),
        "--author",
        NAME,
    ]);
    annotate.env("AGENT_TRACE_DIR", env.store());
    let run = crate::common::run_with_stdin(annotate, b"");
    assert_eq!(run.code, 0, "{run:?}");
    machine
}

/// `share` with `args`, run by someone else on another machine: the names are known from
/// the session alone.
fn share(env: &TestEnv, args: &[&str]) -> crate::common::Run {
    let mut line = vec!["share", SID];
    line.extend(args);
    let mut cmd = env.command(&line);
    cmd.env("AGENT_TRACE_DIR", env.store())
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env("HOME", env.home());
    crate::common::run_with_stdin(cmd, b"")
}

/// Where `text` names `NAME`: in any case, percent-encoded or as JSON `\u` escapes.
fn mentions(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let (mut encoded, mut escaped) = (String::new(), String::new());
    for b in NAME.bytes() {
        write!(encoded, "%{b:02x}").unwrap();
        write!(escaped, "\\u{b:04x}").unwrap();
    }
    [NAME.to_owned(), encoded, escaped]
        .into_iter()
        .filter(|form| lower.contains(form.as_str()))
        .collect()
}

/// Every file of the store with its bytes.
fn store_bytes(env: &TestEnv) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![env.store()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(path, bytes);
            }
        }
    }
    out
}

/// The files whose bytes differ between two looks at the store.
fn changed(
    before: &BTreeMap<PathBuf, Vec<u8>>,
    after: &BTreeMap<PathBuf, Vec<u8>>,
) -> Vec<PathBuf> {
    let paths: std::collections::BTreeSet<&PathBuf> = before.keys().chain(after.keys()).collect();
    paths
        .into_iter()
        .filter(|p| before.get(*p) != after.get(*p))
        .cloned()
        .collect()
}

#[test]
fn a_shared_page_with_anonymize_names_the_user_nowhere_and_still_works() {
    let env = TestEnv::new();
    recorded(&env);
    let child = format!("agent-a7c0ffee-{SID}");
    assert!(
        env.sessions().contains(&child),
        "no subagent: {:?}",
        env.sessions()
    );
    // The index is built by the first command that lists; what share may not change is the
    // store as it then is.
    share(
        &env,
        &["-o", env.path().join("first.html").to_str().unwrap()],
    )
    .success();
    let store_before = store_bytes(&env);

    let page = env.path().join("anonymous.html");
    share(&env, &["--anonymize", "-o", page.to_str().unwrap()]).success();
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(mentions(&html), Vec::<String>::new(), "{html}");
    for replaced in [
        "[USER]",
        "[HOST]",
        "[REPO]",
        "[EMAIL]",
        "~/[USER]-app/src/login.rs",
    ] {
        assert!(html.contains(replaced), "no {replaced} in the page");
    }
    // The subagent's events are in the page, anonymised with what its parent names.
    assert!(html.contains(&child) && html.contains("owner [USER]"));

    // Without --anonymize the page keeps what makes it readable to a colleague.
    let plain = env.path().join("plain.html");
    share(&env, &["-o", plain.to_str().unwrap()]).success();
    let plain = std::fs::read_to_string(&plain).unwrap();
    assert!(plain.contains(&format!("{NAME}/fix-login")));
    assert!(plain.contains(&format!("/home/{NAME}/{NAME}-app/src/login.rs")));
    assert!(!plain.contains("[USER]") && !plain.contains("\"anonymized\":true"));
    assert_eq!(
        changed(&store_before, &store_bytes(&env)),
        Vec::<PathBuf>::new()
    );

    let Some(browser) =
        Browser::from_env("a_shared_page_with_anonymize_names_the_user_nowhere_and_still_works")
    else {
        return;
    };
    let seen = browser.run(
        "replay.mjs",
        &json!({"path": page, "share": true, "subagent": child}),
    );
    assert_eq!(mentions(&seen.to_string()), Vec::<String>::new(), "{seen}");
    assert_eq!(seen["summaryVisible"], true, "{seen}");
    assert_eq!(seen["verdict"], "passed", "{seen}");
    assert_eq!(seen["filesChanged"], json!(["src/login.rs"]), "{seen}");
    let header = seen["headerText"].as_str().unwrap();
    assert!(
        header.contains("anonymised") && header.contains("[USER]/fix-login"),
        "{header}"
    );
    let notes = seen["annotations"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("[[USER]-fix] the bug is in ~/[USER]-app/src/login.rs")),
        "{notes:?}"
    );
    // The subagent's lines fold away with the call that spawned it (a search for its id also
    // finds the parent's markers of its start and stop, so not every line found is nested).
    assert!(seen["subagent"]["folded"].as_u64().unwrap() > 0, "{seen}");
}

#[test]
fn share_dry_run_lists_what_it_would_replace_and_writes_no_page() {
    let env = TestEnv::new();
    recorded(&env);
    // The user's own rules apply as they do to export.
    std::fs::create_dir_all(env.path().join(".agent-strace")).unwrap();
    let rules = env.path().join(".agent-strace/anonymize.yaml");
    std::fs::write(
        &rules,
        "replace:\n  - literal: login\n    with: \"[FEATURE]\"\n",
    )
    .unwrap();
    let page = env.path().join("page.html");
    let run = share(
        &env,
        &["--anonymize", "--dry-run", "-o", page.to_str().unwrap()],
    );
    run.success();
    assert!(!page.exists(), "a page was written");
    let report = run.json();
    assert_eq!(report["sessions"], 2, "{report:#}");
    for kind in [
        "home_path",
        "hostname",
        "os_user",
        "email",
        "git_repo",
        "rule:login",
    ] {
        assert!(
            report["kinds"][kind]["count"].as_u64().unwrap_or(0) > 0,
            "no {kind} in {report:#}"
        );
    }
    // A rule that cannot be used is one input error, and no page.
    std::fs::write(&rules, "replace:\n  - regex: '(unclosed'\n").unwrap();
    let run = share(&env, &["--anonymize", "-o", page.to_str().unwrap()]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("not a regular expression") && !page.exists());
    // --dry-run alone is a usage error.
    assert_eq!(share(&env, &["--dry-run"]).code, 2);
}

#[test]
fn a_subagent_shared_or_exported_alone_is_anonymised_with_its_parents_names() {
    // Its meta.json names no user, host or folder and its events no home folder: only the
    // parent tells who `zorblax` is. Before, `share <subagent> --anonymize` and `export
    // <subagent> --anonymize` kept "login.rs (owner zorblax)" and "Zorblax's tests".
    let env = TestEnv::new();
    recorded(&env);
    let child = format!("agent-a7c0ffee-{SID}");
    let page = env.path().join("subagent.html");
    let page_arg = page.to_str().unwrap();
    let runs = [
        vec!["share", &child, "--anonymize", "-o", page_arg],
        vec!["export", &child, "--anonymize", "--format", "json"],
        vec!["export", &child, "--anonymize", "--format", "ndjson"],
    ];
    for line in runs {
        let mut cmd = env.command(&line);
        cmd.env("AGENT_TRACE_DIR", env.store())
            .env_remove("USER")
            .env_remove("LOGNAME")
            .env("HOME", env.home());
        let run = crate::common::run_with_stdin(cmd, b"");
        run.success();
        let out = if line[0] == "share" {
            std::fs::read_to_string(&page).unwrap()
        } else {
            run.stdout.clone()
        };
        assert!(out.contains("owner [USER]"), "{line:?}: {out}");
        assert_eq!(mentions(&out), Vec::<String>::new(), "{line:?}: {out}");
    }
}

#[test]
fn an_account_named_claude_leaves_the_model_names_and_the_cost_of_the_page() {
    // Run as `claude` (a container's account), `share --anonymize` replaced the word in every
    // model name (`[USER]-opus-4-6`): the page's cost fell to $0 and "Claude Code" became
    // "[USER] Code". The account's home folder still goes.
    let env = TestEnv::new();
    let (_, priced) = crate::common::import_unpriced_and_priced(&env);
    let page = env.path().join("page.html");
    let mut cmd = env.command(&[
        "share",
        &priced,
        "--anonymize",
        "-o",
        page.to_str().unwrap(),
    ]);
    cmd.env("USER", "claude")
        .env("LOGNAME", "claude")
        .env("HOME", "/home/claude");
    crate::common::run_with_stdin(cmd, b"").success();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("[USER]-opus"), "a model name was replaced");
    assert!(html.contains("claude-opus-4-6"));
    let cost = html
        .split("\"cost_usd\":")
        .nth(1)
        .and_then(|rest| rest.split([',', '}']).next())
        .and_then(|n| n.parse::<f64>().ok())
        .expect("a cost in the page");
    assert!(cost > 0.0, "the page's cost is {cost}");
}

#[test]
fn the_agent_name_is_anonymised_as_the_command_is_for_the_root_and_its_subagents() {
    // A session received over OTLP is named by its sender's `service.name`, which may name the
    // user. Before, `share --anonymize` and `export --anonymize` rewrote the command (`cd ~ &&
    // run`) and kept `claude-code zorblax` and `agent-of-zorblax` as they were.
    use crate::common::session::SessionBuilder;
    let env = TestEnv::new();
    let home = format!("/home/{NAME}");
    let root = SessionBuilder::new("rootz")
        .meta(|m| {
            m.agent_name = format!("claude-code {NAME}");
            m.command = "claude".into();
            m.set_attribution("os_user", NAME);
            m.set_attribution("working_dir", &format!("{home}/{NAME}-app"));
        })
        .session_start(json!({"source": "hook", "cwd": format!("{home}/{NAME}-app")}))
        .at(2.0);
    let task = root.next_id();
    root.tool_call("Task", json!({"description": "t"}))
        .ended(50.0)
        .write(&env);
    SessionBuilder::new("subz")
        .meta(|m| {
            m.agent_name = format!("agent-of-{NAME}");
            m.command = format!("cd {home} && run");
            m.parent_session_id = Some("rootz".into());
            m.parent_event_id = Some(task);
            m.depth = 1;
        })
        .at(4.0)
        .tool_call("Bash", json!({"command": "ls"}))
        .write(&env);
    // A known agent's name is a product's, even run by an account of the same name.
    SessionBuilder::new("cursorz")
        .meta(|m| {
            m.agent_name = "cursor".into();
            m.set_attribution("os_user", "cursor");
        })
        .tool_call("Shell", json!({"command": "ls /home/cursor"}))
        .write(&env);

    let page = env.path().join("p.html");
    env.run(&[
        "share",
        "rootz",
        "--anonymize",
        "-o",
        page.to_str().unwrap(),
    ])
    .success();
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(mentions(&html), Vec::<String>::new(), "{html}");
    for agent in ["claude-code [USER]", "agent-of-[USER]"] {
        assert!(
            html.contains(&format!("\"agent\":\"{agent}\"")),
            "no {agent}: {html}"
        );
    }
    for (session, names) in [
        ("rootz", vec!["claude-code [USER]", "agent-of-[USER]"]),
        ("subz", vec!["agent-of-[USER]"]),
        ("cursorz", vec!["cursor"]),
    ] {
        let run = env.run(&["export", session, "--anonymize", "--format", "json"]);
        run.success();
        assert_eq!(
            mentions(&run.stdout),
            Vec::<String>::new(),
            "{}",
            run.stdout
        );
        let export = run.json();
        let mut found = vec![export["session"]["agent_name"].clone()];
        if let Some(subagents) = export["subagents"].as_array() {
            found.extend(subagents.iter().map(|s| s["session"]["agent_name"].clone()));
        }
        assert_eq!(found, names, "{session}: {export:#}");
    }
}
