//! `export --anonymize` of the shell lines a person ran from Claude Code's prompt (`! whoami`,
//! bash mode): the transcript holds the line as a prompt (`<bash-input>whoami</bash-input>`)
//! and what it printed as the next (`<bash-stdout>…</bash-stdout><bash-stderr></bash-stderr>`),
//! read as a shell call's result is.

use serde_json::json;

use crate::common::anonymize::exported_by_alice;
use crate::common::{SessionBuilder, TestEnv};

const SID: &str = "7d0c5a8e-3f1b-4b6e-9a51-2c4d8e6f0a17";

/// A user's line of a Claude Code transcript, of the real shape, holding `text`.
fn user(n: usize, text: &str) -> String {
    json!({"parentUuid": (n > 0).then(|| format!("u-{}", n - 1)), "isSidechain": false,
           "userType": "external", "cwd": "/srv/app", "sessionId": SID, "version": "2.1.38",
           "gitBranch": "main", "type": "user",
           "message": {"role": "user", "content": text},
           "uuid": format!("u-{n}"), "timestamp": format!("2026-02-10T21:16:{n:02}.000Z")})
    .to_string()
}

/// `whoami`, `hostname` and `uname -a` run with `!` printed the account and the host as they
/// were, and the session's later mentions of them too; `! cat ~/.ssh/config` a home folder.
/// Each output is read as a shell call's result is: the names are `[USER]` and `[HOST]`
/// there and wherever the session writes them, the home `~`, other lines as they were.
#[test]
fn what_a_shell_line_run_from_the_prompt_printed_is_anonymized() {
    let env = TestEnv::new();
    let texts = [
        "<bash-input>whoami</bash-input>",
        "<bash-stdout>mrotili\n</bash-stdout><bash-stderr></bash-stderr>",
        "<bash-input>hostname; uname -a</bash-input>",
        "<bash-stdout>jo-tp\nLinux jo-tp 6.8.0-45-generic #45-Ubuntu SMP x86_64 GNU/Linux\n</bash-stdout><bash-stderr></bash-stderr>",
        "<bash-input>id -un</bash-input><bash-stdout>kfenwick</bash-stdout><bash-stderr></bash-stderr>",
        "<bash-input>cat ~/.ssh/config</bash-input>",
        "<bash-stdout>Host build\n  IdentityFile /home/lbrandt/.ssh/id_ed25519\n</bash-stdout><bash-stderr></bash-stderr>",
        "<bash-input>echo ready set</bash-input>",
        "<bash-stdout>ready set\n</bash-stdout><bash-stderr></bash-stderr>",
        "ssh jo-tp as mrotili or kfenwick, then deploy the build",
    ];
    let lines: Vec<String> = texts.iter().enumerate().map(|(n, t)| user(n, t)).collect();
    let transcript = env.path().join(format!("{SID}.jsonl"));
    std::fs::write(&transcript, lines.join("\n") + "\n").unwrap();
    env.run(&["import", transcript.to_str().unwrap()]).success();
    let out = exported_by_alice(&env, SID, env.path()).json();
    let prompts: Vec<String> = out["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == "user_prompt")
        .filter_map(|e| e["data"]["prompt"].as_str().map(str::to_owned))
        .collect();
    let text = prompts.join("\n");
    for name in ["mrotili", "jo-tp", "kfenwick", "lbrandt"] {
        assert!(!text.contains(name), "{name}: {prompts:#?}");
    }
    for kept in [
        "<bash-stdout>[USER]\n</bash-stdout>",
        "<bash-stdout>[HOST]\nLinux [HOST] 6.8.0-45-generic #45-Ubuntu SMP x86_64 GNU/Linux\n</bash-stdout>",
        "<bash-input>id -un</bash-input><bash-stdout>[USER]</bash-stdout>",
        "IdentityFile ~/.ssh/id_ed25519",
        "<bash-stdout>ready set\n</bash-stdout>",
        "ssh [HOST] as [USER] or [USER], then deploy the build",
    ] {
        assert!(text.contains(kept), "{kept}: {prompts:#?}");
    }
}

/// A session recorded by hooks holds the same prompts (`UserPromptSubmit`): the host `!
/// hostname` printed is `[HOST]` in its output and in the answer that names it. An output is
/// the line's only where it follows it: after a prompt between, its words stay.
#[test]
fn a_recorded_shell_lines_output_is_read_only_right_after_it() {
    let env = TestEnv::new();
    SessionBuilder::new("anon-bang")
        .meta(|m| m.agent_name = "claude-code".into())
        .at(1.0)
        .prompt("<bash-input>hostname</bash-input>")
        .at(2.0)
        .prompt("<bash-stdout>qa-box-3\n</bash-stdout><bash-stderr></bash-stderr>")
        .at(3.0)
        .answer("qa-box-3 has the logs")
        .at(4.0)
        .prompt("<bash-input>whoami</bash-input>")
        .at(5.0)
        .prompt("which word is it")
        .at(6.0)
        .prompt("<bash-stdout>sunflower\n</bash-stdout><bash-stderr></bash-stderr>")
        .write(&env);
    let out = exported_by_alice(&env, "anon-bang", env.path()).stdout;
    assert!(!out.contains("qa-box"), "{out}");
    assert!(out.contains("[HOST] has the logs"), "{out}");
    assert!(
        out.contains("<bash-stdout>sunflower\\n</bash-stdout>"),
        "{out}"
    );
}
