//! `export --anonymize [--dry-run]` (issue 14): every format names no home folder, host, user
//! or email address, the user's rules of `.agent-strace/anonymize.yaml` apply, and the store
//! is byte for byte what it was.

use std::collections::BTreeMap;
use std::path::Path;

use agent_strace::model::Tokens;
use serde_json::{Value, json};

use crate::common::anonymize::first_prompt_exported_by;
use crate::common::{SessionBuilder, TestEnv};

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(
                    path.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    out
}

/// A session recorded on `alice-laptop` by `alice`, who mails and works under her home.
fn personal(env: &TestEnv) -> String {
    SessionBuilder::new("anon-1")
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.command = "claude --add-dir /home/alice/notes".into();
            m.set_attribution("hostname", "alice-laptop");
            m.set_attribution("os_user", "alice");
            m.set_attribution("working_dir", "/home/alice/acme-app");
        })
        .session_start(json!({"cwd": "/home/alice/acme-app", "source": "startup"}))
        .at(1.0)
        .prompt("ask alice@acme.example why PROJ-42 fails on alice-laptop")
        .at(2.0)
        .tool_call(
            "Read",
            json!({"file_path": "/home/alice/acme-app/src/main.rs"}),
        )
        .at(3.0)
        .result(json!("fn main() {} // Acme Corp"))
        .at(4.0)
        .tool_call(
            "Bash",
            json!({"command": "ls /Users/alice/Desktop C:\\Users\\alice\\x"}),
        )
        .at(5.0)
        .result(json!("done by alice"))
        .at(6.0)
        .llm_response(
            "claude-sonnet-4-5",
            Tokens {
                input: 10,
                output: 5,
                ..Tokens::default()
            },
        )
        .at(7.0)
        .answer("Fixed PROJ-42 for alice.")
        .write(env)
}

fn rules(env: &TestEnv) {
    std::fs::create_dir_all(env.path().join(".agent-strace")).unwrap();
    std::fs::write(
        env.path().join(".agent-strace/anonymize.yaml"),
        "replace:\n  - literal: Acme Corp\n    with: \"[COMPANY]\"\n  - regex: 'PROJ-(\\d+)'\n    with: TICKET-$1\n    name: ticket\n",
    )
    .unwrap();
}

#[track_caller]
fn assert_anonymous(format: &str, text: &str) {
    for personal in [
        "alice",
        "Alice",
        "/home/",
        "/Users/",
        "acme.example",
        "Acme Corp",
        "PROJ-42",
    ] {
        assert!(
            !text.contains(personal),
            "--format {format} still holds `{personal}`:\n{text}"
        );
    }
}

/// `export ID --anonymize --content` in every format, each run as it succeeded.
fn anonymized_in_every_format(env: &TestEnv, id: &str) -> Vec<(&'static str, crate::common::Run)> {
    ["json", "ndjson", "csv", "otlp", "otlp-genai"]
        .into_iter()
        .map(|format| {
            let run = env.run(&["export", id, "--format", format, "--anonymize", "--content"]);
            run.success();
            (format, run)
        })
        .collect()
}

#[test]
fn every_format_is_anonymised_and_the_store_is_untouched() {
    let env = TestEnv::new();
    let id = personal(&env);
    rules(&env);
    // The index is built by the first command that lists; what export may not change is the
    // store as it then is. Settled first: a session changed in the last seconds is looked at
    // again by every read, and the index's key of it written once it settles, which a loaded
    // machine (CI's) let happen between the two snapshots.
    env.settle_sessions();
    env.run(&["list"]).success();
    let before = snapshot(&env.store());
    for (format, run) in anonymized_in_every_format(&env, &id) {
        assert_anonymous(format, &run.stdout);
        if format != "csv" {
            // Each JSON document or line still decodes.
            for line in run
                .stdout
                .lines()
                .filter(|l| l.trim_start().starts_with('{'))
            {
                if format == "ndjson" {
                    serde_json::from_str::<Value>(line).unwrap();
                }
            }
        }
    }
    let doc = env
        .run(&["export", &id, "--format", "json", "--anonymize"])
        .json();
    let events = doc["events"].as_array().unwrap();
    let read = events
        .iter()
        .find(|e| e["event_type"] == "tool_call")
        .unwrap();
    assert_eq!(
        read["data"]["arguments"]["file_path"],
        "~/acme-app/src/main.rs"
    );
    let prompt = events
        .iter()
        .find(|e| e["event_type"] == "user_prompt")
        .unwrap();
    assert_eq!(
        prompt["data"]["prompt"],
        "ask [EMAIL] why TICKET-42 fails on [HOST]"
    );
    assert_eq!(doc["session"]["command"], "claude --add-dir ~/notes");
    assert_eq!(doc["session"]["attribution"]["os_user"], "[USER]");
    // Without --anonymize the export is as recorded.
    let plain = env.run(&["export", &id, "--format", "json"]).json();
    assert_eq!(plain["session"]["attribution"]["hostname"], "alice-laptop");
    assert_eq!(snapshot(&env.store()), before, "export changed the store");
}

/// A store recorded with `--no-redact` (or by the Python tool, which redacts only when asked)
/// holds secrets as the agent saw them: `export --anonymize` sent them on, in every format.
#[test]
fn an_anonymized_export_holds_no_secret_of_an_unredacted_store() {
    let env = TestEnv::new();
    let token = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
    let id = SessionBuilder::new("5ec7e700-0000-4000-8000-000000000001")
        .meta(|m| m.command = format!("claude --token {token}"))
        .prompt(&format!("use {token} and DB_PASSWORD=hunter2xyz"))
        .tool_call(
            "Bash",
            json!({"command": format!("gh auth login --with-token {token}")}),
        )
        .result(json!("ok"))
        .write(&env);
    for (format, run) in anonymized_in_every_format(&env, &id) {
        assert!(!run.stdout.contains(token), "{format}: {}", run.stdout);
        assert!(
            !run.stdout.contains("hunter2xyz"),
            "{format}: {}",
            run.stdout
        );
        assert!(run.stdout.contains("[REDACTED]"), "{format}");
    }
    // An id that holds one (a call's id, say) is replaced, the same wherever it is named.
    let file = env.store().join(&id).join("events.ndjson");
    let events = std::fs::read_to_string(&file).unwrap();
    assert!(events.contains(r#""event_id":"e02""#) && events.contains(r#""parent_id":"e02""#));
    std::fs::write(&file, events.replace(r#""e02""#, &format!("\"{token}\""))).unwrap();
    let doc = env
        .run(&["export", &id, "--format", "json", "--anonymize"])
        .json();
    assert!(!doc.to_string().contains(token), "{doc}");
    let exported = doc["events"].as_array().unwrap();
    assert_eq!(exported[2]["parent_id"], exported[1]["event_id"], "{doc}");
    // --dry-run lists no secret among what it would replace.
    let dry = env.run(&["export", &id, "--anonymize", "--dry-run"]);
    dry.success();
    assert!(!dry.stdout.contains(token), "{}", dry.stdout);
    // Without --anonymize the export is as recorded.
    let plain = env.run(&["export", &id, "--format", "json"]);
    assert!(plain.stdout.contains(token));
}

/// A key held as the name of a field beside what the store models (an event's or a meta's,
/// as a collector's client or the Python tool may write it) was exported as that name by
/// `export --anonymize`, though the values beside it were redacted; such a name is redacted
/// as an object's key is, in every format.
#[test]
fn an_anonymized_export_holds_no_secret_named_as_a_field() {
    let env = TestEnv::new();
    let key = "sk-ant-api03-Qx06Ig8xNbe3nNyjOq9wMxEhh2FDEEtfjgVvVqE1SkHbn88HxjSI6bWHtP3fS2qHx6kwXoIIXGvOoNZYW2mZ-AA";
    let id = SessionBuilder::new("5ec7e700-0000-4000-8000-000000000002")
        .meta(|m| {
            m.extra.insert(key.to_owned(), json!("x"));
        })
        .prompt("go")
        .extra(&format!("extra_{key}"), "v")
        .write(&env);
    let secret = &key[14..40];
    for (format, run) in anonymized_in_every_format(&env, &id) {
        assert!(!run.stdout.contains(secret), "{format}: {}", run.stdout);
    }
    let doc = env
        .run(&["export", &id, "--format", "json", "--anonymize"])
        .json();
    let prompt = doc["events"].as_array().unwrap().last().unwrap();
    assert!(
        prompt
            .as_object()
            .unwrap()
            .iter()
            .any(|(name, value)| name.starts_with("extra_") && value == "v"),
        "{doc}"
    );
}

#[test]
fn dry_run_counts_each_kind_and_exports_nothing() {
    let env = TestEnv::new();
    let id = personal(&env);
    rules(&env);
    // Settled, so that the index's key of the session is written by this `list`, not by a
    // later read (see every_format_is_anonymised_and_the_store_is_untouched).
    env.settle_sessions();
    env.run(&["list"]).success();
    let before = snapshot(&env.store());
    let run = env.run(&["export", &id, "--anonymize", "--dry-run"]);
    run.success();
    let report = run.json();
    assert_eq!(report["sessions"], 1);
    let kinds = report["kinds"].as_object().unwrap();
    for kind in [
        "home_path",
        "hostname",
        "os_user",
        "email",
        "rule:Acme Corp",
        "rule:ticket",
    ] {
        assert!(
            kinds
                .get(kind)
                .is_some_and(|k| k["count"].as_u64().unwrap() > 0),
            "no {kind} in {report:#}"
        );
    }
    assert_eq!(kinds["rule:ticket"]["count"], 2);
    assert_eq!(kinds["email"]["examples"][0]["found"], "alice@acme.example");
    assert_eq!(kinds["email"]["examples"][0]["replaced_by"], "[EMAIL]");
    let total: u64 = kinds.values().map(|k| k["count"].as_u64().unwrap()).sum();
    assert_eq!(report["replacements"].as_u64().unwrap(), total);
    assert!(
        !run.stdout.contains("\"events\""),
        "exported: {}",
        run.stdout
    );
    assert_eq!(snapshot(&env.store()), before);
    // --dry-run alone is a usage error.
    assert_eq!(env.run(&["export", &id, "--dry-run"]).code, 2);
}

#[test]
fn a_rule_that_cannot_be_used_is_one_input_error() {
    let env = TestEnv::new();
    let id = personal(&env);
    std::fs::create_dir_all(env.path().join(".agent-strace")).unwrap();
    for (text, says) in [
        ("replace:\n  - literal: a\n    regex: b\n", "give one of"),
        (
            "replace:\n  - regex: '(unclosed'\n",
            "not a regular expression",
        ),
        ("replace:\n  - literall: a\n", "literall"),
    ] {
        std::fs::write(env.path().join(".agent-strace/anonymize.yaml"), text).unwrap();
        let run = env.run(&["export", &id, "--anonymize"]);
        assert_eq!(run.code, 3, "{text}: {run:?}");
        assert!(run.stderr.contains(says), "{text}: {}", run.stderr);
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn the_attribution_names_no_short_host_generic_user_or_repository() {
    let env = TestEnv::new();
    SessionBuilder::new("anon-short")
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.set_attribution("hostname", "vm");
            m.set_attribution("os_user", "root");
            m.set_attribution("git_repo", "https://github.com/zoe-corp/private-app.git");
        })
        .session_start(json!({"cwd": "/srv/app", "source": "startup"}))
        .at(1.0)
        .prompt("the root cause is on a vm")
        .write(&env);
    let run = env.run(&["export", "--format", "json", "--anonymize"]);
    run.success();
    let exported = run.json();
    let attribution = &exported["session"]["attribution"];
    assert_eq!(attribution["hostname"], "[HOST]", "{attribution}");
    assert_eq!(attribution["os_user"], "[USER]", "{attribution}");
    assert_eq!(attribution["git_repo"], "[REPO]", "{attribution}");
    assert!(!run.stdout.contains("zoe-corp"), "{}", run.stdout);
    // As words in a text, short and generic names stay (docs/export.md).
    assert!(
        run.stdout.contains("the root cause is on a vm"),
        "{}",
        run.stdout
    );
    let dry = env.run(&["export", "--anonymize", "--dry-run"]);
    assert_eq!(
        dry.json()["kinds"]["git_repo"]["count"],
        1,
        "{}",
        dry.stdout
    );
}

/// The repository and a working folder outside any home used to stay in event text (`git
/// push` naming the remote, paths under `/srv/acme`) while the attribution's `git_repo` was
/// replaced: the same repository is replaced in all its spellings, the folder as a prefix.
#[test]
fn the_repository_and_working_folder_are_replaced_wherever_the_text_names_them() {
    let env = TestEnv::new();
    SessionBuilder::new("anon-repo")
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.set_attribution("git_repo", "git@github.com:acme/secret-repo.git");
            m.set_attribution("working_dir", "/srv/acme/secret-repo");
        })
        .session_start(json!({"cwd": "/srv/acme/secret-repo", "source": "startup"}))
        .at(1.0)
        .tool_call("Bash", json!({"command": "cd /srv/acme/secret-repo/src && git push"}))
        .at(2.0)
        .result(json!(
            "To https://github.com/acme/secret-repo.git\nalso git@github.com:acme/secret-repo and https://github.com/Acme/secret-repo.\nkeep https://github.com/acme/secret-repo-tools and /srv/acme/secret-repository"
        ))
        .write(&env);
    let run = env.run(&["export", "--format", "json", "--anonymize"]);
    run.success();
    let text = run
        .stdout
        .replace("secret-repo-tools", "")
        .replace("secret-repository", "");
    assert!(!text.contains("secret-repo"), "{}", run.stdout);
    assert!(
        run.stdout.contains("To [REPO]\\nalso [REPO] and [REPO].")
            && run.stdout.contains("cd [CWD]/src && git push")
            && run
                .stdout
                .contains("https://github.com/acme/secret-repo-tools")
            && run.stdout.contains("/srv/acme/secret-repository"),
        "{}",
        run.stdout
    );
    let exported = run.json();
    assert_eq!(exported["session"]["attribution"]["working_dir"], "[CWD]");
}

/// A user's name in another case (`Alice`, `ALICE`), a home folder percent-encoded in a URL
/// (`%2Fhome%2Falice`, `C%3A%5CUsers%5Calice`) or written with JSON's escaped slashes, and a
/// name right after an escape (`%2Falice`, `\nalice`) all stayed in what `--anonymize`
/// exported.
#[test]
fn names_in_another_case_and_homes_percent_encoded_or_escaped_are_replaced() {
    let env = TestEnv::new();
    SessionBuilder::new("anon-encoded")
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.set_attribution("hostname", "zorb-box");
            m.set_attribution("os_user", "zorblax");
        })
        .session_start(json!({"cwd": "/srv/app", "source": "startup"}))
        .at(1.0)
        .tool_call(
            "WebFetch",
            json!({"url": "http://localhost:8080/open?path=%2Fhome%2Fzorblax%2Fapp%2Fa.rs&win=C%3A%5CUsers%5Czorblax%5Cx"}),
        )
        .at(2.0)
        .result(json!(
            "Zorblax and ZORBLAX on Zorb-Box; see file:%2f%2f%2fUsers%2fzorblax%2fy and {\"p\": \"\\/home\\/zorblax\\/z\"}; by%20zorblax; line\\nzorblax"
        ))
        .write(&env);
    let run = env.run(&["export", "--format", "json", "--anonymize"]);
    run.success();
    assert!(
        !run.stdout.to_lowercase().contains("zorb"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("path=~%2Fapp%2Fa.rs&win=~%5Cx")
            && run.stdout.contains("[USER] and [USER] on [HOST]")
            && run.stdout.contains("by%20[USER]; line\\\\n[USER]"),
        "{}",
        run.stdout
    );
}

/// A subagent's `meta.json` names no host, user, folder or repository: its events naming its
/// parent's were exported as they were, while the parent's were replaced.
#[test]
fn a_subagent_is_anonymised_with_what_its_parent_names() {
    let env = TestEnv::new();
    let parent = SessionBuilder::new("anon-parent")
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.set_attribution("hostname", "zorb-box");
            m.set_attribution("os_user", "zorblax");
            m.set_attribution("working_dir", "/srv/zorbcorp/app");
            m.set_attribution("git_repo", "git@github.com:zorbcorp/app.git");
        })
        .session_start(json!({"cwd": "/srv/zorbcorp/app", "source": "startup"}))
        .at(1.0)
        .tool_call(
            "Task",
            json!({"prompt": "look around", "subagent_type": "Explore"}),
        );
    let call = parent.id().to_owned();
    parent.write(&env);
    SessionBuilder::new("agent-a1-anon-parent")
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.parent_session_id = Some("anon-parent".into());
            m.parent_event_id = Some(call.clone());
            m.depth = 1;
        })
        .at(2.0)
        .tool_call("Bash", json!({"command": "ls /srv/zorbcorp/app/src"}))
        .at(3.0)
        .result(json!(
            "zorblax@zorb-box:~$ git remote -v\norigin https://github.com/zorbcorp/app (fetch)"
        ))
        .write(&env);
    let run = env.run(&["export", "anon-parent", "--format", "json", "--anonymize"]);
    run.success();
    assert!(run.stdout.contains("git remote -v"), "{}", run.stdout);
    assert!(!run.stdout.contains("zorb"), "{}", run.stdout);
}

/// A session `user` recorded on `host`, with one prompt per text, exported with
/// `--anonymize`: the prompts as exported, and the whole output.
fn prompts_exported(
    env: &TestEnv,
    id: &str,
    user: &str,
    host: &str,
    texts: &[&str],
) -> (Vec<String>, String) {
    let mut session = SessionBuilder::new(id).meta(|m| {
        m.agent_name = "claude-code".into();
        m.set_attribution("hostname", host);
        m.set_attribution("os_user", user);
    });
    for text in texts {
        session = session.at(1.0).prompt(text);
    }
    session.write(env);
    // The exporting machine's user is known too: as the tests' own (`root`, run in a
    // container), it was `[USER]` wherever a test expects a system's account to stay.
    let mut export = env.command(&["export", id, "--format", "json", "--anonymize"]);
    export.env("USER", user).env("LOGNAME", user);
    let run = crate::common::run_with_stdin(export, b"");
    run.success();
    let prompts = run.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == "user_prompt")
        .map(|e| e["data"]["prompt"].as_str().unwrap().to_owned())
        .collect();
    (prompts, run.stdout)
}

/// An account named like a word (`test`, `dev`, `app`) had that word replaced in every
/// event: `cargo [USER]`, `npm run [USER]`. It is replaced only where it is surely the
/// account; a number, a host's address's first number and what a home path of documentation
/// holds (`/home/you`, `/home/...`) are no one's name anywhere else either.
#[test]
fn an_account_named_like_a_word_is_replaced_only_where_it_is_the_account() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-word",
        "test",
        "devbox",
        &[
            "cargo test passed; npm run dev builds the app; Test plan",
            "cat /home/test/app/x.rs and ~test/notes",
            "test@devbox:~/app$ ls",
            "edit /Users/you/.zshrc if you want... see /home/.../x",
        ],
    );
    assert_eq!(
        prompts,
        [
            "cargo test passed; npm run dev builds the app; Test plan",
            "cat ~/app/x.rs and ~[USER]/notes",
            "[USER]@[HOST]:~/app$ ls",
            "edit ~/.zshrc if you want... see ~/x",
        ],
        "{out}"
    );
    let attribution = &serde_json::from_str::<Value>(&out).unwrap()["session"]["attribution"];
    assert_eq!(attribution["os_user"], "[USER]");
    assert_eq!(attribution["hostname"], "[HOST]");

    // Numbers are no one's name: an account shown by its id, a host named by its address.
    let (prompts, out) = prompts_exported(
        &env,
        "anon-number",
        "1000",
        "192.168.1.20",
        &["uid 1000 ran 192 tests on 192.168.1.20 in /home/1000/x"],
    );
    assert_eq!(
        prompts,
        ["uid 1000 ran 192 tests on [HOST] in ~/x"],
        "{out}"
    );

    // A distinctive name is still replaced as a word, and `al`'s word parts are left.
    let (prompts, out) = prompts_exported(
        &env,
        "anon-distinct",
        "jdoe42",
        "vm",
        &["Jdoe42 wrote it; jdoe42's false alarm"],
    );
    assert_eq!(prompts, ["[USER] wrote it; [USER]'s false alarm"], "{out}");
}

/// A profile folder with a space (`C:\Users\Alice Smith`) lost only its first word (`~
/// Smith\x`), and a Windows home seen from WSL, Git Bash or Cygwin (`/mnt/c/Users/alice`)
/// became `/mnt/c~`.
#[test]
fn a_profile_folder_with_spaces_or_under_a_windows_drive_is_replaced_whole() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-spaces",
        "asmith",
        "vm",
        &[
            r"type C:\Users\Alice Smith\proj\a.txt",
            r#"{"cwd": "C:\\Users\\Alice Smith\\proj"} and "C:\Users\Alice Smith""#,
            r#"cd "/home/carol jones/src" && ls /Users/dave\ lee/x; cp -r /home/asmith src/"#,
            "ls /home/carol jones",
            r"cwd C:\Users\Alice Smith",
            "Alice Smith wrote it",
            "cd /mnt/c/Users/asmith/x; ls /c/Users/asmith/y /cygdrive/c/Users/asmith/z",
            "cd /home/asmith && cargo build",
        ],
    );
    assert_eq!(
        prompts,
        [
            r"type ~\proj\a.txt",
            r#"{"cwd": "~\\proj"} and "~""#,
            r#"cd "~/src" && ls ~/x; cp -r ~ src/"#,
            "ls ~",
            "cwd ~",
            "[USER] wrote it",
            "cd ~/x; ls ~/y ~/z",
            "cd ~ && cargo build",
        ],
        "{out}"
    );
    for name in ["smith", "jones", "lee", "/mnt/c", "cygdrive"] {
        assert!(!out.to_lowercase().contains(name), "{name}: {out}");
    }
}

/// A name hidden by escapes (`\u007aorblax` in JSON text inside a string, `%7Aorblax`), the
/// host of a shell prompt the session never recorded (`zorblax@laptop:~$`) and a macOS
/// per-user temporary folder stayed in what `--anonymize` exported; a git remote's `git@host`
/// became an `[EMAIL]`.
#[test]
fn escaped_names_prompt_hosts_and_macos_temp_folders_are_replaced() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-escaped",
        "zorblax",
        "vm",
        &[
            r#"{"owner": "\u007aorblax", "mail": "z\u0040corp.example", "n": "\u00e9"}"#,
            "open?user=%7Aorblax&x=%41",
            "zorblax@laptop:~/app$ ls; [zorblax@laptop app]$ ls; zorblax@laptop app %",
            "cat /private/var/folders/7x/k2n4_h0000gn/T/tmp.1 /var/folders/ab/xyz_0gn/C/x",
            "git@github.com:acme/tools.git and npx create-app@latest",
        ],
    );
    assert_eq!(
        prompts,
        [
            r#"{"owner": "[USER]", "mail": "[EMAIL]", "n": "é"}"#,
            "open?user=[USER]&x=A",
            "[USER]@[HOST]:~/app$ ls; [[USER]@[HOST] app]$ ls; [USER]@[HOST] app %",
            "cat [TMPDIR]/T/tmp.1 [TMPDIR]/C/x",
            "git@github.com:acme/tools.git and npx create-app@latest",
        ],
        "{out}"
    );
    // A string that names no one keeps its escapes.
    let (prompts, _) = prompts_exported(&env, "anon-kept", "zorblax", "vm", &[r"\u0061 %41"]);
    assert_eq!(prompts, [r"\u0061 %41"]);
}

/// Escapes that hide no name stay as they were beside a name replaced in plain letters: a
/// format string's `%64s` and a URL's `%41` were decoded (`ds`, `A`) in every string that also
/// named the user, rewriting code and links. A name spelled with escapes is still replaced.
#[test]
fn escapes_that_hide_no_name_stay_beside_a_name_replaced() {
    let env = TestEnv::new();
    SessionBuilder::new("anon-escapes")
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.set_attribution("os_user", "alice");
        })
        .session_start(json!({"cwd": "/srv/app", "source": "startup"}))
        .at(1.0)
        .prompt(r#"alice says printf("%64s") breaks https://x.example/q?v=%41"#)
        .at(2.0)
        .prompt(r#"{"owner": "\u0061lice", "fmt": "%64s"}"#)
        .write(&env);
    let run = env.run(&["export", "--format", "json", "--anonymize"]);
    run.success();
    assert!(!run.stdout.contains("alice"), "{}", run.stdout);
    assert!(!run.stdout.contains(r"\\u0061lice"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains(r#"[USER] says printf(\"%64s\") breaks https://x.example/q?v=%41"#),
        "{}",
        run.stdout
    );
}

/// A user named like an identifier of code (`max`) had it replaced in the code the session
/// read and wrote: `Math.max(a, b)` became `Math.[USER](a, b)`. A name called or reached as a
/// member is code's; the person is still named everywhere else.
#[test]
fn a_user_named_like_an_identifier_of_code_leaves_the_code() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-code",
        "max",
        "vm",
        &[
            "Math.max(a, b) and max(xs) and i32::MAX and np.max and p->max; u64::max(1, 2)",
            "max wrote it; ask Max. see /home/max/x and max@corp.example",
            "Hi Dr.Max, mail max(at)corp.example",
        ],
    );
    assert_eq!(
        prompts,
        [
            "Math.max(a, b) and max(xs) and i32::MAX and np.max and p->max; u64::max(1, 2)",
            "[USER] wrote it; ask [USER]. see ~/x and [EMAIL]",
            "Hi Dr.[USER], mail [USER](at)corp.example",
        ],
        "{out}"
    );
}

/// A Windows home folder followed by a space and another word (`copy C:\Users\alice src\x`)
/// was taken as a profile folder named `alice src`: `copy ~\x` lost the second argument.
/// Outside quotes a space ends a path, as it does a Unix one; a quoted path or one that
/// begins its string (a field holding a path) keeps its spaces.
#[test]
fn a_space_ends_a_windows_home_path_unless_it_is_quoted() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-win-space",
        "alice",
        "vm",
        &[
            r"copy C:\Users\alice src\x",
            r"type C:\Users\alice\proj\a.txt",
            r#"type "C:\Users\Carol Jones\x""#,
            "cp /home/alice src/x",
            r"C:\Users\Dave Lee\proj\a.txt",
        ],
    );
    assert_eq!(
        prompts,
        [
            r"copy ~ src\x",
            r"type ~\proj\a.txt",
            r#"type "~\x""#,
            "cp ~ src/x",
            r"~\proj\a.txt",
        ],
        "{out}"
    );
    for name in ["jones", "lee"] {
        assert!(!out.to_lowercase().contains(name), "{name}: {out}");
    }

    // A session started in a home with a space names it whole wherever a text ends it.
    SessionBuilder::new("anon-win-cwd")
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.set_attribution("working_dir", r"C:\Users\Erin Holt");
        })
        .at(1.0)
        .prompt(r"Directory of C:\Users\Erin Holt\proj; dir C:\Users\Erin Holt")
        .write(&env);
    let run = env.run(&["export", "anon-win-cwd", "--format", "json", "--anonymize"]);
    run.success();
    assert!(
        run.stdout.contains(r"Directory of ~\\proj; dir ~"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("Holt"), "{}", run.stdout);
}

/// An address with its `@` percent-encoded, as a URL's query or a `mailto:` link carries it
/// (`?email=jane.doe%40corp.example`), was exported whole: only `@` was looked for.
#[test]
fn an_address_percent_encoded_in_a_url_is_replaced() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-encoded-mail",
        "zorblax",
        "vm",
        &[
            "curl 'https://x.example/u?email=jane.doe%40corp.example&n=1'",
            "open mailto%3Ajane.doe%40corp.example and git%40github.com:acme/x.git",
        ],
    );
    assert_eq!(
        prompts,
        [
            "curl 'https://x.example/u?email=[EMAIL]&n=1'",
            "open mailto%3A[EMAIL] and git%40github.com:acme/x.git",
        ],
        "{out}"
    );
    assert!(!out.contains("jane"), "{out}");
}

/// A Windows home written in lower case (`c:\users\bob`, as a tool or a shell that folds a
/// path's case prints it; Windows reads it as `C:\Users\bob`) was no home: its name was left.
#[test]
fn a_windows_home_in_lower_case_is_replaced() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-win-case",
        "zorblax",
        "vm",
        &[r"type c:\users\bobq\notes.txt; ls C:/USERS/bobq/x; open c%3A%5Cusers%5Cbobq%5Cy"],
    );
    assert_eq!(prompts, [r"type ~\notes.txt; ls ~/x; open ~%5Cy"], "{out}");
    assert!(!out.contains("bobq"), "{out}");
}

/// A person's name beside their address (a git author, a manifest's `authors`, a
/// `Signed-off-by:`) was exported with only the address replaced: `Author: Zorblax Quux
/// <[EMAIL]>` named the user in full. A machine's `noreply` keeps its name.
#[test]
fn a_name_beside_an_address_is_replaced() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-named-address",
        "zq",
        "vm",
        &[
            "commit 3f2a\nAuthor: Zorblax Quux <zq@corp.example>\nSigned-off-by: Jane Q. Doe <jane%40corp.example>",
            r#"authors = ["Émile Zola <ez@corp.example>"]"#,
            "Co-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>; Vec<T>; Ask Bob <later>",
        ],
    );
    assert_eq!(
        prompts,
        [
            "commit 3f2a\nAuthor: [NAME] <[EMAIL]>\nSigned-off-by: [NAME] <[EMAIL]>",
            r#"authors = ["[NAME] <[EMAIL]>"]"#,
            "Co-Authored-By: Claude Opus 4.6 <[EMAIL]>; Vec<T>; Ask Bob <later>",
        ],
        "{out}"
    );
    for name in ["Quux", "Doe", "Zola"] {
        assert!(!out.contains(name), "{name}: {out}");
    }
}

/// An account named after its person (`john.smith`, `jane_doe`, as a company's often are)
/// was replaced only whole: the person's name as written in a text (`John Smith`, `hi
/// John`, `git config user.name` printing `Jane Doe`) was left.
#[test]
fn the_names_in_an_account_named_after_its_person_are_replaced() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-first-last",
        "john.smith",
        "vm",
        &[
            "John Smith fixed it; hi John; ls /home/jane_doe; user.name=Jane Doe; app.user stays",
            r#"cd "C:\Users\Carol Jones\x"; ask Carol"#,
        ],
    );
    assert_eq!(
        prompts,
        [
            "[USER] fixed it; hi [USER]; ls ~; user.name=[USER]; app.user stays",
            r#"cd "~\x"; ask [USER]"#,
        ],
        "{out}"
    );
    for name in ["john", "smith", "jane", "doe", "carol", "jones"] {
        assert!(!out.to_lowercase().contains(name), "{name}: {out}");
    }
}

/// A WSL home seen from Windows (`\\wsl$\Ubuntu\home\zorb`, `\\wsl.localhost\…`), as a
/// Windows session names the Linux side, was no home: its name was left.
#[test]
fn a_wsl_home_seen_from_windows_is_replaced() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-wsl",
        "winuser",
        "vm",
        &[
            r"type \\wsl$\Ubuntu\home\zorbq\notes.txt",
            r#"{"path": "\\\\wsl.localhost\\Ubuntu-22.04\\home\\zorbq\\x"}"#,
        ],
    );
    assert_eq!(
        prompts,
        [r"type ~\notes.txt", r#"{"path": "~\\x"}"#],
        "{out}"
    );
    assert!(!out.contains("zorbq"), "{out}");
}

/// A user's name joined to another word by `_` (`/tmp/zorblax_build`, `ZORBLAX_HOME`,
/// `my_zorblax`) was left: `_` is a word's letter to `\b`. A short name so joined is a word
/// of code as often (`max_len`) and stays.
#[test]
fn a_name_joined_by_an_underscore_is_replaced() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-joined",
        "zorblax",
        "vm",
        &["ls /tmp/zorblax_build; echo $ZORBLAX_HOME; db my_zorblax_dev; zorblaxy stays"],
    );
    assert_eq!(
        prompts,
        ["ls /tmp/[USER]_build; echo $[USER]_HOME; db my_[USER]_dev; zorblaxy stays"],
        "{out}"
    );
    let (prompts, out) = prompts_exported(
        &env,
        "anon-joined-short",
        "max",
        "vm",
        &["let max_len = a_max; max wrote it"],
    );
    assert_eq!(prompts, ["let max_len = a_max; [USER] wrote it"], "{out}");
}

/// The surname after a user's name written as a person's (`Marco Rotili` of the account
/// `marco`, as `git config user.name` and an issue tracker's `Owner:` print it) was left
/// beside the `[USER]`.
#[test]
fn a_surname_after_the_users_name_is_replaced_with_it() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-surname",
        "zorblax",
        "vm",
        &[
            "Owner: Zorblax Quux · Type: task; user.name -> Zorblax Quux; zorblax Wrote; Zorblax wrote; Zorblax O'Brien-Smith",
        ],
    );
    assert_eq!(
        prompts,
        ["Owner: [USER] · Type: task; user.name -> [USER]; [USER] Wrote; [USER] wrote; [USER]"],
        "{out}"
    );
    assert!(!out.contains("Quux") && !out.contains("Brien"), "{out}");
}

/// A URL inside a URL's query is encoded twice (`redirect=%252Fhome%252Fbobq`): its home
/// folder and a known name so written were left.
#[test]
fn a_home_or_name_encoded_twice_is_replaced() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-twice",
        "zorblax",
        "vm",
        &["login?next=%252Fhome%252Fbobq%252Fx&u=%252Fzorblax and C%253A%255CUsers%255Cbobq%255Cy"],
    );
    assert_eq!(
        prompts,
        ["login?next=~%252Fx&u=%252F[USER] and ~%255Cy"],
        "{out}"
    );
    assert!(!out.contains("bobq"), "{out}");
}

/// An account made of its person's names (`zorb.quux`) had each name replaced, but a handle
/// joining them (`ZorbQuux`, `zorbquux`, as a GitHub or Slack name is written) was left
/// whole: a handle made of the person's names is the person.
#[test]
fn a_handle_made_of_the_persons_names_is_replaced() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-handles",
        "zorb.quux",
        "vm",
        &["ping @ZorbQuux, github.com/zorbquux/x, ZORB_QUUX and zorb-quux; zorbquuxy stays"],
    );
    assert_eq!(
        prompts,
        ["ping @[USER], github.com/[USER]/x, [USER] and [USER]; zorbquuxy stays"],
        "{out}"
    );
}

/// The user's full name, learned where a git author line or a label writes it beside their
/// account's name or address (`Author: Zorb Quuxley <zq@…>` of the account `zorb`), was
/// replaced only there: the surname alone, the name in lower case and a handle joining them
/// were left everywhere else in the session.
#[test]
fn the_users_full_name_learned_in_one_place_is_replaced_everywhere() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-learned-name",
        "zorb",
        "vm",
        &[
            "commit 3f2a\nAuthor: Zorb Quuxley <zq@corp.example>",
            "Signed-off-by: Pim Vandal <zorb@corp.example>",
            "zorb quuxley fixed it; ask Quuxley; ZorbQuuxley; thanks Pim, Vandal said",
        ],
    );
    assert_eq!(
        prompts[2], "[USER] fixed it; ask [USER]; [USER]; thanks [USER], [USER] said",
        "{out}"
    );
    for name in ["quuxley", "pim", "vandal"] {
        assert!(!out.to_lowercase().contains(name), "{name}: {out}");
    }
}

/// A user named like a word (`max`) had the capitalised word after the name taken as a
/// surname: a label's `Max Tokens` and `Max Retries` became `[USER]`. A surname goes with
/// the name where the session tells it is the user's, or where it is shaped as only a surname
/// is (`O'Hara`); code's `max_tokens` and `MAX_TOKENS` stay.
#[test]
fn a_word_after_a_user_named_like_a_word_is_no_surname() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-max-tokens",
        "max",
        "vm",
        &[
            "Max Tokens: 4096, Max Retries: 3; max_tokens and MAX_TOKENS stay",
            "Author: Max Mustermann <max@corp.example>; Max Mustermann wrote; Max O'Hara",
        ],
    );
    assert_eq!(
        prompts,
        [
            "[USER] Tokens: 4096, [USER] Retries: 3; max_tokens and MAX_TOKENS stay",
            "Author: [NAME] <[EMAIL]>; [USER] wrote; [USER]",
        ],
        "{out}"
    );
    assert!(
        !out.contains("Mustermann") && !out.contains("Hara"),
        "{out}"
    );
}

/// Another person's full name, learned beside their address (a git log's author), was a
/// `[NAME]` on that line only: the same name written elsewhere in the session (`Pim Vandal
/// reviewed`, lower case, a handle joining it) was exported as it was.
#[test]
fn another_persons_name_learned_beside_an_address_is_replaced_everywhere() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-others",
        "zorb",
        "vm",
        &[
            "commit 3f2a\nAuthor: Pim Vandal <pv@corp.example>",
            "Pim Vandal reviewed; ask pim vandal or @PimVandal; Pim alone stays",
        ],
    );
    assert_eq!(
        prompts[1], "[NAME] reviewed; ask [NAME] or @[NAME]; Pim alone stays",
        "{out}"
    );
    assert!(!out.contains("Vandal"), "{out}");
}

/// GitHub's private address of a person (`<id>+<login>@users.noreply.github.com`), which
/// their commits carry, was taken for a machine's `noreply`: the name beside it
/// (`Co-authored-by: Pim Vandal <…>`) was exported. A bot's and Claude's keep their names.
#[test]
fn a_name_beside_a_persons_github_noreply_address_is_replaced() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-gh-noreply",
        "zorb",
        "vm",
        &[
            "Co-authored-by: Pim Vandal <12345+pimv@users.noreply.github.com>",
            "Co-authored-by: Claude Opus 4.6 <noreply@anthropic.com>",
        ],
    );
    assert_eq!(
        prompts,
        [
            "Co-authored-by: [NAME] <[EMAIL]>",
            "Co-authored-by: Claude Opus 4.6 <[EMAIL]>",
        ],
        "{out}"
    );
    assert!(!out.contains("Vandal"), "{out}");
}

/// A name beside an address in quotes, as a mail header writes it (`From: "Kit Moraine"
/// <…>`, its quotes escaped in JSON text), or before an address in parentheses (`Ada Quill
/// (aq@…)`) was exported: only a bare name before angle brackets was taken.
#[test]
fn a_name_quoted_or_before_an_address_in_parentheses_is_replaced() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-quoted-name",
        "zorb",
        "vm",
        &[
            r#"From: "Kit Moraine" <km@corp.example>; {"to": "\"Lu Fenwick\" <lf@corp.example>"}"#,
            "Ada Quill (aq@corp.example) wrote; see Foo (bar)",
        ],
    );
    assert_eq!(
        prompts,
        [
            r#"From: "[NAME]" <[EMAIL]>; {"to": "\"[NAME]\" <[EMAIL]>"}"#,
            "[NAME] ([EMAIL]) wrote; see Foo (bar)",
        ],
        "{out}"
    );
    for name in ["Moraine", "Fenwick", "Quill"] {
        assert!(!out.contains(name), "{name}: {out}");
    }
}

/// An account named like a word (`claude`, `dev`) took a label's name for the user's full
/// name (`Reviewer: Claude Code`, `Owner: Dev Ops`), and then its other word as a name
/// replaced everywhere: `write the code` became `write the [USER]`.
#[test]
fn a_generic_accounts_label_teaches_no_full_name() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-generic-label",
        "claude",
        "vm",
        &["Reviewer: Claude Code; write the code"],
    );
    assert_eq!(prompts, ["Reviewer: Claude Code; write the code"], "{out}");
    let (prompts, out) = prompts_exported(
        &env,
        "anon-generic-label-dev",
        "dev",
        "vm",
        &["Owner: Dev Ops; the ops team"],
    );
    assert_eq!(prompts, ["Owner: Dev Ops; the ops team"], "{out}");
}

/// A label's or a git author's full name of the user (`Owner: Alice Team Lead`, `Author:
/// Alice Young <alice@…>`) made each of its names after the first one replaced everywhere in
/// any case: `the team will lead` became `the [USER] will [USER]`, `write code` `write
/// [USER]`. A name the session also writes as a word of its own stays where it is alone; the
/// full name, and a surname written only as a name, are still replaced.
#[test]
fn a_surname_the_session_writes_as_a_word_stays_alone() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-surname-words",
        "alice",
        "vm",
        &[
            "Owner: Alice Team Lead; Assignee: Alice Code Review",
            "the team will lead; Team Lead; write code, code review",
            "Author: Alice Young <alice@corp.example>; Author: Alice Quuxley <alice@corp.example>",
            "a young process; alice young and AliceYoung left; ask Quuxley",
        ],
    );
    assert_eq!(
        prompts,
        [
            "Owner: [USER]; Assignee: [USER]",
            "the team will lead; Team Lead; write code, code review",
            "Author: [NAME] <[EMAIL]>; Author: [NAME] <[EMAIL]>",
            "a young process; [USER] and [USER] left; ask [USER]",
        ],
        "{out}"
    );
}

/// A name beside an address in single quotes (`From: 'Kit Moraine' <…>`) took the closing
/// quote into the name: the line lost its quote (`'[NAME] <…>`) and the name, learned with a
/// quote, was exported wherever else the session wrote it.
#[test]
fn a_name_in_single_quotes_beside_an_address_is_replaced_everywhere() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-single-quoted-name",
        "zorb",
        "vm",
        &[
            "From: 'Kit Moraine' <km@corp.example>",
            "Kit Moraine wrote; ask kit moraine",
        ],
    );
    assert_eq!(
        prompts,
        ["From: '[NAME]' <[EMAIL]>", "[NAME] wrote; ask [NAME]"],
        "{out}"
    );
    assert!(!out.contains("Moraine"), "{out}");
}

/// The user's full name after a label in single quotes (`git config user.name 'Alice
/// Quuxley'`) took the closing quote into the surname: no full name was learned, and the
/// surname was exported there and wherever else the session wrote it.
#[test]
fn a_full_name_in_single_quotes_after_a_label_is_learned() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-single-quoted-label",
        "alice",
        "vm",
        &[
            "git config user.name 'Alice Quuxley'",
            "ask Quuxley; alice quuxley",
        ],
    );
    assert_eq!(
        prompts,
        ["git config user.name '[USER]'", "ask [USER]; [USER]"],
        "{out}"
    );
    assert!(!out.contains("Quuxley"), "{out}");
}

/// A name with an apostrophe learned beside an address (`Pim O'Brien <…>`, the user's own
/// `Zorb D'Arcy <zorb@…>`) was replaced only beside it: `Pim O'Brien reviewed`, the handle
/// `@PimOBrien` and the user's surname alone were exported.
#[test]
fn a_name_with_an_apostrophe_learned_beside_an_address_is_replaced_everywhere() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-apostrophe",
        "zorb",
        "vm",
        &[
            "Author: Pim O'Brien <pv@corp.example>",
            "Signed-off-by: Zorb D'Arcy <zorb@corp.example>",
            "Pim O'Brien reviewed; ask pim o’brien or @PimOBrien; thanks D'Arcy; O'Brien alone stays",
        ],
    );
    assert_eq!(
        prompts[2], "[NAME] reviewed; ask [NAME] or @[NAME]; thanks [USER]; O'Brien alone stays",
        "{out}"
    );
    assert!(!out.contains("Arcy"), "{out}");
}

/// A name in lower case beside an address (`pim vandal <pim@…>`, as a `git config user.name`
/// so typed writes it) was no name: it was exported beside `<[EMAIL]>` and wherever else the
/// session wrote it. Lower-case words the address does not spell stay (`mail to <…>`).
#[test]
fn a_name_in_lower_case_beside_an_address_that_spells_it_is_replaced() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-lower-name",
        "zorb",
        "vm",
        &[
            "commit 3f2a\nAuthor: pim vandal <pim@corp.example>",
            "Author: zorb quuxley <zquuxley@corp.example>",
            "Pim Vandal reviewed; ask Quuxley; mail to <pv@corp.example>; reply to bob <bob@corp.example>",
        ],
    );
    assert_eq!(
        prompts,
        [
            "commit 3f2a\nAuthor: [NAME] <[EMAIL]>",
            "Author: [NAME] <[EMAIL]>",
            "[NAME] reviewed; ask [USER]; mail to <[EMAIL]>; reply to bob <[EMAIL]>",
        ],
        "{out}"
    );
    for name in ["vandal", "quuxley"] {
        assert!(!out.to_lowercase().contains(name), "{name}: {out}");
    }
}

/// A name after its address (`<pv@…> Pim Vandal`, a mail header's `kit@… (Kit Moraine)`) was
/// exported: only a name before the address was taken. One capitalised word after an address
/// in angle brackets is as often a log's subject, and stays.
#[test]
fn a_name_after_an_address_is_replaced() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-name-after",
        "zorb",
        "vm",
        &[
            "From: <pv@corp.example> Pim Vandal",
            "Reply-To: kit@corp.example (Kit Moraine); cc lu.fenwick@corp.example (lu fenwick)",
            "Pim Vandal and kit moraine wrote; <a@corp.example> Fixed it; a@corp.example (see above)",
        ],
    );
    assert_eq!(
        prompts,
        [
            "From: <[EMAIL]> [NAME]",
            "Reply-To: [EMAIL] ([NAME]); cc [EMAIL] ([NAME])",
            "[NAME] and [NAME] wrote; <[EMAIL]> Fixed it; [EMAIL] (see above)",
        ],
        "{out}"
    );
    for name in ["Vandal", "Moraine", "fenwick"] {
        assert!(!out.contains(name), "{name}: {out}");
    }
}

/// An address made of the user's names (`zorb.quuxley@…`, an issue's `owner`) did not teach
/// their full name: `created_by: Zorb Quuxley` was exported `[USER] Quuxley`, and the surname
/// wherever else the session wrote it. An example's `user.name@…` teaches nothing.
#[test]
fn an_address_made_of_the_users_names_teaches_their_surname() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-address-names",
        "zorb",
        "vm",
        &[
            r#"{"owner": "zorb.quuxley@corp.example", "created_by": "Zorb Quuxley"}"#,
            "ask Quuxley; set user.name@example.com; the user name",
        ],
    );
    assert_eq!(
        prompts,
        [
            r#"{"owner": "[EMAIL]", "created_by": "[USER]"}"#,
            "ask [USER]; set [EMAIL]; the user name",
        ],
        "{out}"
    );
}

/// The name git writes in its reflog (`<old> <new> mtk30765 <…> <time> <zone>`) and a
/// commit's `author` line, whatever it is, was exported beside the `<[EMAIL]>`.
#[test]
fn the_name_of_a_git_reflog_or_commit_record_is_replaced() {
    let env = TestEnv::new();
    let sha = "616b539bb967cc9fd904930e727c0f8a45d6f846";
    let reflog = format!("{sha} {sha} mtk30765 <wl@corp.example> 1758084545 +0800\tcommit: x");
    let (prompts, out) = prompts_exported(
        &env,
        "anon-git-records",
        "zorb",
        "vm",
        &[
            &reflog,
            "tree 1a2b\nauthor pim <pv@corp.example> 1758084545 +0800\n\nfix",
        ],
    );
    assert_eq!(
        prompts,
        [
            format!("{sha} {sha} [NAME] <[EMAIL]> 1758084545 +0800\tcommit: x"),
            "tree 1a2b\nauthor [NAME] <[EMAIL]> 1758084545 +0800\n\nfix".to_owned(),
        ],
        "{out}"
    );
    assert!(!out.contains("mtk30765"), "{out}");
}

/// A commit's subject after its author's address (`git log --format='%h %an <%ae> %s'`) was
/// taken for a name: `Fix Login Page Layout` became `[NAME]` there and wherever else the
/// session wrote it; so did a verb after a first name (`alice wrote <alice@…>`) and a label in
/// parentheses (`kit@… (Work)`). A name after its address stays found when the address spells
/// it (`<pv@…> Pim Vandal`, its initials).
#[test]
fn a_commit_subject_or_a_verb_beside_an_address_is_no_name() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-subject-after",
        "zorb",
        "vm",
        &[
            "a1b2c3d Pim Vandal <pv@corp.example> Fix Login Page Layout",
            "<dev@corp.example> Release Notes For Spring; <kq@corp.example> Kit Quorra Fixed It",
            "Fix Login Page Layout was merged; alice wrote <alice@corp.example>; kit@corp.example (Work)",
        ],
    );
    assert_eq!(
        prompts,
        [
            "a1b2c3d [NAME] <[EMAIL]> Fix Login Page Layout",
            "<[EMAIL]> Release Notes For Spring; <[EMAIL]> [NAME] Fixed It",
            "Fix Login Page Layout was merged; alice wrote <[EMAIL]>; [EMAIL] (Work)",
        ],
        "{out}"
    );
    assert!(!out.contains("Quorra"), "{out}");
}

/// A commit's subject in parentheses after its author's address (`git log --format='%h %ae
/// %s'`: `kit@… (Don't Merge) wip`) was taken for the name of an old mail header's
/// `kit@… (Kit Moraine)`: `[NAME]` there, and wherever else the session wrote it (`don't merge
/// this` became `[NAME] this`). A name in parentheses stays found.
#[test]
fn a_subject_in_parentheses_after_an_address_is_no_name() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-subject-parentheses",
        "zorb",
        "vm",
        &[
            "a1b2c3d kit@corp.example (Don't Merge) wip; e4f5a6b kit@corp.example (Do Not Merge)",
            "don't merge this; pim@corp.example (Work Laptop)",
            "pim@corp.example (Pim Vandal); ask Pim Vandal",
        ],
    );
    assert_eq!(
        prompts,
        [
            "a1b2c3d [EMAIL] (Don't Merge) wip; e4f5a6b [EMAIL] (Do Not Merge)",
            "don't merge this; [EMAIL] (Work Laptop)",
            "[EMAIL] ([NAME]); ask [NAME]",
        ],
        "{out}"
    );
}

/// Another person's full name after a label with no address beside it (`Reporter: Pim
/// Vandal`, a git trailer's `Acked-by:`, a manifest's `"author": "Lu Fenwick"`) was exported
/// there and wherever else the session wrote it; it is a `[NAME]`. A team, a tool or an agent
/// a label names stays (`Owner: Platform Team`, `Reviewer: Claude Code`).
#[test]
fn another_persons_name_after_a_label_is_replaced_everywhere() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-label-others",
        "zorb",
        "vm",
        &[
            "Reporter: Pim Vandal; Acked-by: Kit Moraine",
            r#"{"name": "x", "author": "Lu Fenwick"}"#,
            "Pim Vandal said so; ask Kit Moraine or Lu Fenwick",
            "Owner: Platform Team; Reviewer: Claude Code; Claude Code wrote it",
        ],
    );
    assert_eq!(
        prompts,
        [
            "Reporter: [NAME]; Acked-by: [NAME]",
            r#"{"name": "x", "author": "[NAME]"}"#,
            "[NAME] said so; ask [NAME] or [NAME]",
            "Owner: Platform Team; Reviewer: Claude Code; Claude Code wrote it",
        ],
        "{out}"
    );
}

/// The owner and group columns of `ls -l` name accounts of the machine: a colleague's
/// (`mrotili`), a short one (`kq`) and a team's group (`acme-eng`) were exported. Each is
/// `[USER]` (a user's own group too) or `[GROUP]`; the system's own (`root`, `staff`) stay.
#[test]
fn the_owner_and_group_of_ls_l_are_replaced() {
    let env = TestEnv::new();
    let listing = concat!(
        "total 8\n",
        "-rw-r--r--  1 alice   staff    120 Jan  1 12:00 a.txt\n",
        "-rw-r--r--@ 1 mrotili acme-eng 4.0K Mar 10  2024 b.txt\n",
        "drwxr-xr-x  2 root    root    4096 Jan  1 12:00 etc\n",
        "lrwxrwxrwx. 1 kq kq 3 Jan 1 c -> a",
    );
    let (prompts, out) = prompts_exported(
        &env,
        "anon-ls-l",
        "alice",
        "vm",
        &[listing, "-rw-r--r-- is the mode; 1 kq kq stays"],
    );
    assert_eq!(
        prompts,
        [
            concat!(
                "total 8\n",
                "-rw-r--r--  1 [USER]   staff    120 Jan  1 12:00 a.txt\n",
                "-rw-r--r--@ 1 [USER] [GROUP] 4.0K Mar 10  2024 b.txt\n",
                "drwxr-xr-x  2 root    root    4096 Jan  1 12:00 etc\n",
                "lrwxrwxrwx. 1 [USER] [USER] 3 Jan 1 c -> a",
            ),
            "-rw-r--r-- is the mode; 1 kq kq stays",
        ],
        "{out}"
    );
}

/// The user's own login on GitHub was exported as the owner of their repositories: an account
/// too short to replace as a word (`jo` of `/home/jo`: `git@github.com:jo/dotfiles.git`,
/// `~/src/github.com/jo/x`), and a login that is not the account's name, which `gh auth
/// status` prints (`alicecodes` of the account `asmith`). An organisation's name stays, and so
/// does the account where it is not the owner (`github.com/acme/jo`).
#[test]
fn the_users_own_login_as_a_code_hosts_owner_is_replaced() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-host-owner",
        "jo",
        "vm",
        &[
            "cd /home/jo/src/github.com/jo/x && git clone git@github.com:jo/dotfiles.git",
            "see https://github.com/jo/dotfiles and github.com/acme/jo; gitlab.com/jo/y/",
        ],
    );
    assert_eq!(
        prompts,
        [
            "cd ~/src/github.com/[USER]/x && git clone git@github.com:[USER]/dotfiles.git",
            "see https://github.com/[USER]/dotfiles and github.com/acme/jo; gitlab.com/[USER]/y/",
        ],
        "{out}"
    );
    // Its folder of the login's repositories in the home keeps its place in the path.
    SessionBuilder::new("anon-gh-login")
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.set_attribution("hostname", "vm");
            m.set_attribution("os_user", "asmith");
            m.set_attribution("working_dir", "/Users/asmith/git/alicecodes/app");
        })
        .prompt("  ✓ Logged in to github.com account alicecodes (keyring)")
        .at(1.0)
        .prompt("see github.com/alicecodes/app, @alicecodes and github.com/acme/app")
        .at(2.0)
        .prompt("edit /Users/asmith/git/alicecodes/app/src/a.rs")
        .write(&env);
    let run = env.run(&["export", "anon-gh-login", "--format", "json", "--anonymize"]);
    run.success();
    let prompts: Vec<String> = run.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["data"]["prompt"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        prompts,
        [
            "  ✓ Logged in to github.com account [USER] (keyring)",
            "see github.com/[USER]/app, @[USER] and github.com/acme/app",
            "edit ~/git/[USER]/app/src/a.rs",
        ],
        "{}",
        run.stdout
    );
}

/// The exporting machine's home folder and the session's working folder were found inside
/// other paths' names: exported where `HOME` is `/root` (a container's), `root/root` of `tar
/// tv`, `chroot/root` and `/srv/root/x` became `root~`, `chroot~` and `/srv~/x`, and with the
/// working folder `/app`, `src/app/main.rs` became `src[CWD]/main.rs`. They stay; the home
/// and the folder where they start a path are still replaced.
#[test]
fn a_home_or_working_folder_inside_another_paths_name_stays() {
    let env = TestEnv::new();
    SessionBuilder::new("anon-inside")
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.set_attribution("os_user", "alice");
            m.set_attribution("working_dir", "/app");
        })
        .session_start(json!({"cwd": "/app", "source": "startup"}))
        .at(1.0)
        .prompt(concat!(
            "drwxr-xr-x root/root 0 2026-01-02 10:00 etc/\n",
            "see /srv/root/x, chroot/root and src/app/main.rs\n",
            "cat /root/.bashrc /app/src/main.rs; docker run -v /root:/root",
        ))
        .write(&env);
    let (prompt, out) = first_prompt_exported_by(&env, "anon-inside", Path::new("/root"));
    assert_eq!(
        prompt.as_deref(),
        Some(concat!(
            "drwxr-xr-x root/root 0 2026-01-02 10:00 etc/\n",
            "see /srv/root/x, chroot/root and src/app/main.rs\n",
            "cat ~/.bashrc [CWD]/src/main.rs; docker run -v ~:~",
        )),
        "{out}"
    );
}

/// The user's full name written in lower case after a label (`owner: marco rotili` of the
/// account `marco`) lost only its first name: the surname was exported there and wherever
/// the session wrote the name. The whole is the user's now, as when capitalised; lower-case
/// words after a label that are no name, or more than a name, stay.
#[test]
fn the_users_full_name_in_lower_case_after_a_label_is_replaced() {
    let env = TestEnv::new();
    let (prompts, out) = prompts_exported(
        &env,
        "anon-lower-label",
        "marco",
        "vm",
        &[
            "owner: marco rotili\n\"author\": \"marco rotili\"",
            "ask marco rotili or MarcoRotili",
            "owner: marco is away today\nowner: data engineering\nreviewer: see below",
        ],
    );
    assert_eq!(
        prompts,
        [
            "owner: [USER]\n\"author\": \"[USER]\"",
            "ask [USER] or [USER]",
            "owner: [USER] is away today\nowner: data engineering\nreviewer: see below",
        ],
        "{out}"
    );
}

/// `/root`, a home folder wherever it starts a path, was left after a `:` of a list of folders
/// (`PATH=/root/bin:/root/.local/bin` became `PATH=~/bin:/root/.local/bin`): it is `~` there
/// too, as after the `=`; after a drive's letter (`C:/root`) or a host's name (`host:/root`)
/// it names no home here and stays.
#[test]
fn root_after_a_colon_of_a_list_of_folders_is_a_home() {
    let env = TestEnv::new();
    SessionBuilder::new("anon-root-colon")
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.set_attribution("os_user", "alice");
        })
        .at(1.0)
        .prompt("PATH=/root/bin:/root/.local/bin:/usr/bin\ndocker run -v /data:/root/data; see C:/root/x and db1:/root/y")
        .write(&env);
    let (prompt, out) = first_prompt_exported_by(&env, "anon-root-colon", env.path());
    assert_eq!(
        prompt.as_deref(),
        Some(
            "PATH=~/bin:~/.local/bin:/usr/bin\ndocker run -v /data:~/data; see C:/root/x and db1:/root/y"
        ),
        "{out}"
    );
}

/// A Copilot CLI session names its repository as `owner/name` (`git_repository` of its start,
/// imported): no attribution named it, and it was exported wherever the session wrote it, as
/// `zorbcorp/app`, `https://github.com/zorbcorp/app/pull/3` or a remote. It is `[REPO]`, as a
/// recorded repository is; another repository of the owner stays.
#[test]
fn a_repository_named_as_owner_and_name_by_its_agent_is_replaced() {
    let env = TestEnv::new();
    SessionBuilder::new("anon-owner-name")
        .meta(|m| m.agent_name = "copilot".into())
        .session_start(json!({"cwd": "/srv/x", "git_repository": "zorbcorp/app", "source": "import"}))
        .at(1.0)
        .prompt("fix zorbcorp/app#12, see https://github.com/zorbcorp/app/pull/3, git@github.com:zorbcorp/app.git and zorbcorp/app-docs")
        .write(&env);
    let (prompt, out) = first_prompt_exported_by(&env, "anon-owner-name", env.path());
    assert_eq!(
        prompt.as_deref(),
        Some("fix [REPO]#12, see [REPO]/pull/3, [REPO] and zorbcorp/app-docs"),
        "{out}"
    );
}

/// With `attribution.git_repo` set, only its spellings with a host were replaced: `gh pr create
/// -R acme/app`, `gh api repos/acme/app/pulls` and `https://api.github.com/repos/acme/app`
/// kept the repository's name, and `--dry-run` did not list them. Its `owner/name` is `[REPO]`
/// wherever it stands, as a Copilot session's is; another repository of the owner stays.
#[test]
fn a_recorded_repository_is_replaced_where_its_owner_and_name_stand_alone() {
    let env = TestEnv::new();
    SessionBuilder::new("anon-gh")
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.set_attribution("git_repo", "git@github.com:zorbcorp/secret-app.git");
        })
        .at(1.0)
        .tool_call(
            "Bash",
            json!({"command": "gh pr create -R zorbcorp/secret-app && gh api repos/zorbcorp/secret-app/pulls"}),
        )
        .at(2.0)
        .result(json!(
            "https://github.com/zorbcorp/secret-app/pull/42\nhttps://api.github.com/repos/zorbcorp/secret-app/pulls\nsee zorbcorp/secret-app-docs"
        ))
        .write(&env);
    let run = env.run(&["export", "anon-gh", "--format", "ndjson", "--anonymize"]);
    run.success();
    let text = run.stdout.replace("zorbcorp/secret-app-docs", "");
    assert!(!text.contains("secret-app"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("gh pr create -R [REPO] && gh api repos/[REPO]/pulls")
            && run
                .stdout
                .contains("https://api.github.com/repos/[REPO]/pulls")
            && run.stdout.contains("see zorbcorp/secret-app-docs"),
        "{}",
        run.stdout
    );
    // The dry run counts what the export replaces: the attribution and the four in the events.
    let dry = env.run(&["export", "anon-gh", "--anonymize", "--dry-run"]);
    dry.success();
    assert_eq!(
        dry.json()["kinds"]["git_repo"]["count"],
        5,
        "{}",
        dry.stdout
    );
}
