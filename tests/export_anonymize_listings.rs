//! `export --anonymize`: the accounts and groups tools print in columns of their own (`ls`,
//! `find -ls`, `stat`, `tar tv`) name a colleague's account, a team's group: each was
//! exported. Every test keeps an
//! ordinary line beside the listing, which must come through as it was.

use serde_json::json;

use crate::common::{SessionBuilder, TestEnv, run_with_stdin};

/// What `export --format json --anonymize` makes of each of `outputs`, the outputs of shell
/// commands in a session `alice` recorded on `vm`.
fn outputs_exported(env: &TestEnv, id: &str, outputs: &[&str]) -> Vec<String> {
    let mut session = SessionBuilder::new(id).meta(|m| {
        m.agent_name = "claude-code".into();
        m.set_attribution("hostname", "vm");
        m.set_attribution("os_user", "alice");
    });
    for output in outputs {
        session = session
            .at(1.0)
            .tool_call("Bash", json!({"command": "true"}))
            .at(2.0)
            .result(json!(output));
    }
    session.write(env);
    // The exporting machine's home folder is replaced too: `/root`, the tests' own when run
    // as root, would take `/root` of `root/root` along.
    let mut export = env.command(&["export", id, "--format", "json", "--anonymize"]);
    export.env("HOME", env.path());
    let run = run_with_stdin(export, b"");
    run.success();
    run.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event_type"] == "tool_result")
        .map(|e| e["data"]["result"].as_str().unwrap().to_owned())
        .collect()
}

/// `ls -g` and `ls -o` print one of the owner and group columns, `ls -i` and `ls -s` a number
/// before the mode, `ls -lZ` an SELinux context and macOS's `ls -lO` flags after the group,
/// and `find -ls` and BSD's `stat` print the line after numbers too: the owner of each was
/// exported. The one column of `ls -g`/`-o` is `[USER]`; `ls -n`'s numbers name no one.
#[test]
fn the_owners_of_every_form_of_ls_find_ls_and_bsd_stat_are_replaced() {
    let env = TestEnv::new();
    let listing = concat!(
        "-rw-r--r-- 1 mrotili 120 Jan  2 10:00 a.txt\n",
        "-rw-r--r-- 1 acme-eng 120 Jan  2 10:00 b.txt\n",
        "-rw-r--r-- 1 1000 1000 120 Jan  2 10:00 c.txt\n",
        "1234567 -rw-r--r-- 1 kfenwick acme-eng 120 Jan  2 10:00 d.txt\n",
        "   4 -rw-r--r-- 1 kfenwick acme-eng 4.0K Jan  2 10:00 e.txt\n",
        "-rw-r--r--. 1 kfenwick acme-eng unconfined_u:object_r:user_home_t:s0 120 Jan  2 10:00 f\n",
        "-rw-r--r--  1 kfenwick  acme-eng  uchg 120 Jan  2 10:00 g\n",
        "drwxr-xr-x  3 root  wheel  96 Jan  2 10:00 ..\n",
        "  1234567      4 -rw-r--r--   1 lbrandt  acme-eng      120 Jan  2 10:00 ./h\n",
        "16777220 1234567 -rw-r--r-- 1 pvandal staff 0 120 \"Jan  2 10:00:00 2026\" i",
    );
    let ordinary = "4 files of 120 bytes\n-rw-r--r-- 1 is 644";
    let out = outputs_exported(&env, "anon-ls-forms", &[listing, ordinary]);
    assert_eq!(
        out,
        [
            concat!(
                "-rw-r--r-- 1 [USER] 120 Jan  2 10:00 a.txt\n",
                "-rw-r--r-- 1 [USER] 120 Jan  2 10:00 b.txt\n",
                "-rw-r--r-- 1 1000 1000 120 Jan  2 10:00 c.txt\n",
                "1234567 -rw-r--r-- 1 [USER] [GROUP] 120 Jan  2 10:00 d.txt\n",
                "   4 -rw-r--r-- 1 [USER] [GROUP] 4.0K Jan  2 10:00 e.txt\n",
                "-rw-r--r--. 1 [USER] [GROUP] unconfined_u:object_r:user_home_t:s0 120 Jan  2 10:00 f\n",
                "-rw-r--r--  1 [USER]  [GROUP]  uchg 120 Jan  2 10:00 g\n",
                "drwxr-xr-x  3 root  wheel  96 Jan  2 10:00 ..\n",
                "  1234567      4 -rw-r--r--   1 [USER]  [GROUP]      120 Jan  2 10:00 ./h\n",
                "16777220 1234567 -rw-r--r-- 1 [USER] staff 0 120 \"Jan  2 10:00:00 2026\" i",
            ),
            ordinary,
        ]
    );
}

/// GNU's `stat` and macOS's `stat -x` name the owner and group (`Uid: ( 1001/ mrotili)`).
#[test]
fn the_owner_and_group_stat_prints_are_replaced() {
    let env = TestEnv::new();
    let gnu = concat!(
        "  File: a.txt\n",
        "Access: (0644/-rw-r--r--)  Uid: ( 1001/ mrotili)   Gid: ( 1002/acme-eng)\n",
        "Access: (0644/-rw-r--r--)  Uid: (    0/    root)   Gid: (    0/    root)",
    );
    let mac = "  Mode: (0644/-rw-r--r--)         Uid: (  501/ kfenwick)  Gid: (   20/   staff)";
    let ordinary = "Uid: (the user's id) and Gid: (the group's) say who owns it";
    let out = outputs_exported(&env, "anon-stat", &[gnu, mac, ordinary]);
    assert_eq!(
        out,
        [
            concat!(
                "  File: a.txt\n",
                "Access: (0644/-rw-r--r--)  Uid: ( 1001/ [USER])   Gid: ( 1002/[GROUP])\n",
                "Access: (0644/-rw-r--r--)  Uid: (    0/    root)   Gid: (    0/    root)",
            ),
            "  Mode: (0644/-rw-r--r--)         Uid: (  501/ [USER])  Gid: (   20/   staff)",
            ordinary,
        ]
    );
}

/// GNU's `tar tv` prints `owner/group` (`-rw-r--r-- mrotili/acme-eng 12 …`); a number
/// (`--numeric-owner`) and the system's own stay.
#[test]
fn the_owner_and_group_tar_lists_are_replaced() {
    let env = TestEnv::new();
    let listing = concat!(
        "-rw-r--r-- mrotili/acme-eng 12 2026-01-02 10:00 src/a.rs\n",
        "drwxr-xr-x root/root         0 2026-01-02 10:00 etc/\n",
        "hrw-r--r-- 1000/1000         0 2026-01-02 10:00 b link to src/a.rs",
    );
    let ordinary = "-rw-r--r-- means src/lib 12 files may read it";
    let out = outputs_exported(&env, "anon-tar", &[listing, ordinary]);
    assert_eq!(
        out,
        [
            concat!(
                "-rw-r--r-- [USER]/[GROUP] 12 2026-01-02 10:00 src/a.rs\n",
                "drwxr-xr-x root/root         0 2026-01-02 10:00 etc/\n",
                "hrw-r--r-- 1000/1000         0 2026-01-02 10:00 b link to src/a.rs",
            ),
            ordinary,
        ]
    );
}
