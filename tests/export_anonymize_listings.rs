//! `export --anonymize`: the accounts and groups tools print in columns of their own (`ls`,
//! `find -ls`, `stat`, `tar tv`, `ps`, `id`, `groups`, `getent passwd`, `who`, `last`) name a
//! colleague's account, a team's group, a full name, the host a login came from: each was
//! exported. Every test keeps an ordinary line beside the listing, which must come through as
//! it was.

use serde_json::json;

use crate::common::anonymize::exported_by_alice;
use crate::common::{SessionBuilder, TestEnv};

/// What `export --format json --anonymize` makes of each of `outputs`, the outputs of shell
/// commands in a session `alice` recorded on `vm`.
fn outputs_exported(env: &TestEnv, id: &str, outputs: &[&str]) -> Vec<String> {
    let calls: Vec<(&str, &str)> = outputs.iter().map(|o| ("true", *o)).collect();
    calls_exported(env, id, &calls)
}

/// [`outputs_exported`] of shell calls, each a command and its output.
fn calls_exported(env: &TestEnv, id: &str, calls: &[(&str, &str)]) -> Vec<String> {
    let mut session = SessionBuilder::new(id).meta(|m| {
        m.agent_name = "claude-code".into();
        m.set_attribution("hostname", "vm");
        m.set_attribution("os_user", "alice");
    });
    for (command, output) in calls {
        session = session
            .at(1.0)
            .tool_call("Bash", json!({"command": command}))
            .at(2.0)
            .result(json!(output));
    }
    session.write(env);
    exported_by_alice(env, id, env.path()).json()["events"]
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
/// exported. The one column of `ls -g`/`-o` is `[USER]`; `ls -n`'s numbers name no one. A
/// listing a tool printed as JSON text had its first line, after the string's quote, left.
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
    let json_text = r#"{"stdout": "-rw-r--r-- 1 kfenwick acme-eng 120 Jan  2 10:00 a.txt"}"#;
    let out = outputs_exported(&env, "anon-ls-forms", &[listing, json_text, ordinary]);
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
            r#"{"stdout": "-rw-r--r-- 1 [USER] [GROUP] 120 Jan  2 10:00 a.txt"}"#,
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

/// `ps aux` and `ps -ef` start each line with the process's account, a name `ps` cut too
/// (`kfenwick+`); the system's (`root`, `systemd+`, `_windowserver`) stay, and so does a
/// table of numbers that is no process's.
#[test]
fn the_accounts_ps_lists_are_replaced() {
    let env = TestEnv::new();
    let aux = concat!(
        "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n",
        "root           1  0.0  0.1 168000 12000 ?        Ss   09:00   0:01 /sbin/init\n",
        "systemd+     612  0.0  0.0  90000  6000 ?        Ss   09:00   0:00 systemd-resolved\n",
        "mrotili     1234  0.3  1.1 812345 96789 pts/0    Sl+  10:00   0:04 node server.js\n",
        "kfenwick+   2345  0.0  0.1  12345  6789 pts/1    Ss   10:01   0:00 -bash\n",
        "_windowserver 150 2.0 0.5 4000000 90000 ?? Ss 9:00AM 10:00.00 WindowServer",
    );
    let ef = concat!(
        "UID          PID    PPID  C STIME TTY          TIME CMD\n",
        "root           1       0  0 09:00 ?        00:00:01 /sbin/init\n",
        "lbrandt     1234    1200  0 10:00 pts/0    00:00:00 vim notes.md",
    );
    let ordinary = "parse   1000  0.52  0.03  48  61 ms\nsee    1234  0.0  0.1  12345  6789 below";
    let out = outputs_exported(&env, "anon-ps", &[aux, ef, ordinary]);
    assert_eq!(
        out,
        [
            concat!(
                "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n",
                "root           1  0.0  0.1 168000 12000 ?        Ss   09:00   0:01 /sbin/init\n",
                "systemd+     612  0.0  0.0  90000  6000 ?        Ss   09:00   0:00 systemd-resolved\n",
                "[USER]     1234  0.3  1.1 812345 96789 pts/0    Sl+  10:00   0:04 node server.js\n",
                "[USER]   2345  0.0  0.1  12345  6789 pts/1    Ss   10:01   0:00 -bash\n",
                "_windowserver 150 2.0 0.5 4000000 90000 ?? Ss 9:00AM 10:00.00 WindowServer",
            ),
            concat!(
                "UID          PID    PPID  C STIME TTY          TIME CMD\n",
                "root           1       0  0 09:00 ?        00:00:01 /sbin/init\n",
                "[USER]     1234    1200  0 10:00 pts/0    00:00:00 vim notes.md",
            ),
            ordinary,
        ]
    );
}

/// `id` names the account and its groups, `getent passwd` (or `/etc/passwd`) an account
/// with its full name, room and telephone: a colleague's were exported. The account is
/// `[USER]` (in a home folder of another root too), its own group `[USER]`, a team's
/// `[GROUP]`, what the passwd line says of the person `[NAME]`; the system's accounts and
/// groups, and a service's account that no one logs in to, stay.
#[test]
fn the_accounts_id_and_passwd_print_are_replaced() {
    let env = TestEnv::new();
    let id = "uid=1001(mrotili) gid=1001(mrotili) groups=1001(mrotili),27(sudo),1002(acme-eng)";
    let passwd = concat!(
        "root:x:0:0:root:/root:/bin/bash\n",
        "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
        "grafana:x:998:998:Grafana Server:/usr/share/grafana:/usr/sbin/nologin\n",
        "kfenwick:x:1002:1002:Kay Fenwick,Room 12,555-0100,,:/srv/kfenwick:/bin/bash\n",
        "lbrandt:x:1003:1003::/home/lbrandt:/usr/bin/zsh",
    );
    // As JSON text a tool printed, its first line after the quote opening the string.
    let json_text = r#"{"stdout": "pvandal:x:1004:1004:Pim Vandal,,,:/srv/pvandal:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin"}"#;
    let ordinary = "uid=1000 is the first user; src/a.rs:x:12:4:unused: see docs:here";
    let out = outputs_exported(&env, "anon-id", &[id, passwd, json_text, ordinary]);
    assert_eq!(
        out,
        [
            "uid=1001([USER]) gid=1001([USER]) groups=1001([USER]),27(sudo),1002([GROUP])",
            concat!(
                "root:x:0:0:root:/root:/bin/bash\n",
                "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
                "grafana:x:998:998:Grafana Server:/usr/share/grafana:/usr/sbin/nologin\n",
                "[USER]:x:1002:1002:[NAME]:/srv/[USER]:/bin/bash\n",
                "[USER]:x:1003:1003::~:/usr/bin/zsh",
            ),
            r#"{"stdout": "[USER]:x:1004:1004:[NAME]:/srv/[USER]:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin"}"#,
            ordinary,
        ]
    );
}

/// `who`, `w` and `last` start each line with the account logged in, and name the host it came
/// from (`who` in parentheses, after `who -u`'s idle time and process too), which was exported:
/// it is `[HOST]`; this machine itself (`localhost`, `:0`, a tmux pane) stays, and so do
/// `reboot` of `last` and a sentence about a console.
#[test]
fn the_accounts_who_and_last_list_are_replaced() {
    let env = TestEnv::new();
    let who = concat!(
        "mrotili  pts/0        2026-01-02 10:00 (10.0.0.5)\n",
        "kfenwick console  Jan  2 09:58\n",
        "lbrandt  pts/1        2026-01-02 10:01 00:05        4242 (kf-laptop.corp.example)\n",
        "pvandal  tty2         2026-01-02 10:02 (:0)\n",
        "pvandal  pts/3        2026-01-02 10:03 (tmux(4242).%0)\n",
        "pvandal  pts/4        2026-01-02 10:04 (localhost)",
    );
    let w = concat!(
        "USER     TTY      FROM             LOGIN@   IDLE   JCPU   PCPU WHAT\n",
        "lbrandt  pts/1    10.0.0.7         10:02    1:00   0.10s  0.01s vim",
    );
    let last = concat!(
        "pvandal  pts/2        10.0.0.9         Thu Jan  2 10:05   still logged in\n",
        "reboot   system boot  6.8.0-49-generic Thu Jan  2 09:00   still running",
    );
    let ordinary = "check console at 10:00\nlunch  tty1 at 12:00";
    let out = outputs_exported(&env, "anon-who", &[who, w, last, ordinary]);
    assert_eq!(
        out,
        [
            concat!(
                "[USER]  pts/0        2026-01-02 10:00 ([HOST])\n",
                "[USER] console  Jan  2 09:58\n",
                "[USER]  pts/1        2026-01-02 10:01 00:05        4242 ([HOST])\n",
                "[USER]  tty2         2026-01-02 10:02 (:0)\n",
                "[USER]  pts/3        2026-01-02 10:03 (tmux(4242).%0)\n",
                "[USER]  pts/4        2026-01-02 10:04 (localhost)",
            ),
            concat!(
                "USER     TTY      FROM             LOGIN@   IDLE   JCPU   PCPU WHAT\n",
                "[USER]  pts/1    [HOST]         10:02    1:00   0.10s  0.01s vim",
            ),
            concat!(
                "[USER]  pts/2        [HOST]         Thu Jan  2 10:05   still logged in\n",
                "reboot   system boot  6.8.0-49-generic Thu Jan  2 09:00   still running",
            ),
            ordinary,
        ]
    );
}

/// `top` and `lsof` list each process under its account (`top` cut to eight characters and a
/// `+`), `getent group` (or `/etc/group`) each group with its members: a colleague's account
/// and a team's group were exported. The system's (`root`, `sudo`, `adm`, `syslog`) stay.
#[test]
fn the_accounts_top_lsof_and_group_lines_list_are_replaced() {
    let env = TestEnv::new();
    let top = concat!(
        "    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n",
        "   1234 mrotili   20   0  812345  96789  12345 S   0.3   1.1   0:04.12 node\n",
        "      1 root      20   0  168000  12000   9000 S   0.0   0.1   0:01.00 systemd\n",
        "   2345 kfenwic+  20   0    1.2g 200.5m  12.0m R  99.0   2.5  10:00.00 cc1",
    );
    let lsof = concat!(
        "COMMAND   PID    USER   FD   TYPE DEVICE SIZE/OFF    NODE NAME\n",
        "node     1234 lbrandt  cwd    DIR    8,1     4096 1234567 /srv/app\n",
        "node     1234 lbrandt    3u  IPv4  12345      0t0     TCP *:3000 (LISTEN)\n",
        "sshd      900    root  txt    REG    8,1   900000  123 /usr/sbin/sshd",
    );
    let group = concat!(
        "sudo:x:27:mrotili,kfenwick\n",
        "acme-eng:x:1002:pvandal,root\n",
        "adm:x:4:syslog",
    );
    let ordinary =
        "   12 passed  0 failed  3 ignored\nnode 1234 ran in cwd DIR /srv/app\nnote:x:12:see below";
    let out = outputs_exported(&env, "anon-top", &[top, lsof, group, ordinary]);
    assert_eq!(
        out,
        [
            concat!(
                "    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n",
                "   1234 [USER]   20   0  812345  96789  12345 S   0.3   1.1   0:04.12 node\n",
                "      1 root      20   0  168000  12000   9000 S   0.0   0.1   0:01.00 systemd\n",
                "   2345 [USER]  20   0    1.2g 200.5m  12.0m R  99.0   2.5  10:00.00 cc1",
            ),
            concat!(
                "COMMAND   PID    USER   FD   TYPE DEVICE SIZE/OFF    NODE NAME\n",
                "node     1234 [USER]  cwd    DIR    8,1     4096 1234567 /srv/app\n",
                "node     1234 [USER]    3u  IPv4  12345      0t0     TCP *:3000 (LISTEN)\n",
                "sshd      900    root  txt    REG    8,1   900000  123 /usr/sbin/sshd",
            ),
            concat!(
                "sudo:x:27:[USER],[USER]\n",
                "[GROUP]:x:1002:[USER],root\n",
                "adm:x:4:syslog",
            ),
            ordinary,
        ]
    );
}

/// `ps -o` prints the columns asked for, the account wherever the header puts it (`ps -o
/// user,pid,cmd`, `ps -eo pid,user:20,comm`, `ruser`, `euser`, `group`): each line's was
/// exported. It is `[USER]` (a group `[GROUP]`) under an account's header, while the line's
/// process id is a number; the system's stay, and so do a table of no process and a line of
/// words under a header.
#[test]
fn the_accounts_of_ps_with_chosen_columns_are_replaced() {
    let env = TestEnv::new();
    let user_first = concat!(
        "USER         PID CMD\n",
        "mrotili     1234 node server.js --port 3000\n",
        "root           1 /sbin/init\n",
        "kfenwick+   2345 -bash",
    );
    let user_second = concat!(
        "    PID USER                 %CPU COMMAND\n",
        "   1234 lbrandt               0.3 node\n",
        "      1 root                  0.0 systemd",
    );
    let several = concat!(
        "    PID RUSER    EUSER    GROUP    COMMAND\n",
        "   1234 pvandal  root     acme-eng sudo -i\n",
        "   1235 www-data www-data www-data nginx: worker",
    );
    let json_text = r#"{"stdout": "USER  PID CMD\nkfenwick 77 vim\n"}"#;
    let ordinary = "USER PID CMD\nsee the table below\nUSER   PID  TIME\nmrotili twelve 10:00";
    let out = outputs_exported(
        &env,
        "anon-ps-o",
        &[user_first, user_second, several, json_text, ordinary],
    );
    assert_eq!(
        out,
        [
            concat!(
                "USER         PID CMD\n",
                "[USER]     1234 node server.js --port 3000\n",
                "root           1 /sbin/init\n",
                "[USER]   2345 -bash",
            ),
            concat!(
                "    PID USER                 %CPU COMMAND\n",
                "   1234 [USER]               0.3 node\n",
                "      1 root                  0.0 systemd",
            ),
            concat!(
                "    PID RUSER    EUSER    GROUP    COMMAND\n",
                "   1234 [USER]  root     [GROUP] sudo -i\n",
                "   1235 www-data www-data www-data nginx: worker",
            ),
            r#"{"stdout": "USER  PID CMD\n[USER] 77 vim\n"}"#,
            ordinary,
        ]
    );
}

/// `id -Gn` and `groups` print the user's groups as bare words, the account's own first
/// (`alice sudo acme-eng docker`), `groups <user>` after the account and a colon: a team's
/// group was exported. The account and its own group are `[USER]`, a team's `[GROUP]`; the
/// system's (`sudo`, `docker`, macOS's `staff`, `_lpadmin`) stay. Bare words are a list of
/// groups only where such a command printed them: a sentence or a command of such words
/// elsewhere stays.
#[test]
fn the_groups_id_gn_and_groups_print_are_replaced() {
    let env = TestEnv::new();
    let out = calls_exported(
        &env,
        "anon-groups",
        &[
            ("id -Gn", "alice sudo acme-eng docker\n"),
            ("id -nG kfenwick", "kfenwick acme-eng"),
            ("groups mrotili", "mrotili : mrotili sudo acme-eng"),
            (
                "groups",
                "staff everyone localaccounts _lpadmin admin acme-eng",
            ),
            ("true", "mrotili : mrotili sudo acme-eng\nnote : see below"),
            (
                "true",
                "alice fixed docker sudo rules\nsudo apt install docker\nalice sudo acme-eng",
            ),
        ],
    );
    assert_eq!(
        out,
        [
            "[USER] sudo [GROUP] docker\n",
            "[USER] [GROUP]",
            "[USER] : [USER] sudo [GROUP]",
            "staff everyone localaccounts _lpadmin admin [GROUP]",
            "[USER] : [USER] sudo [GROUP]\nnote : see below",
            "[USER] fixed docker sudo rules\nsudo apt install docker\n[USER] sudo acme-eng",
        ]
    );
}

/// GNU's `ls -l --author` prints the author after the group, which was taken for macOS's flags
/// (`uchg`) and exported: it is an account, `[USER]`; macOS's flags and the system's author
/// stay.
#[test]
fn the_author_ls_l_prints_is_replaced() {
    let env = TestEnv::new();
    let listing = concat!(
        "-rw-r--r-- 1 mrotili acme-eng mrotili 120 Jan  2 10:00 a.txt\n",
        "-rw-r--r-- 1 kfenwick acme-eng lbrandt 4.0K Jan  2 10:00 b.txt\n",
        "-rw-r--r-- 1 root root root 120 Jan  2 10:00 c\n",
        "-rw-r--r--  1 pvandal  staff  uchg,hidden 120 Jan  2 10:00 d",
    );
    let out = outputs_exported(&env, "anon-ls-author", &[listing]);
    assert_eq!(
        out,
        [concat!(
            "-rw-r--r-- 1 [USER] [GROUP] [USER] 120 Jan  2 10:00 a.txt\n",
            "-rw-r--r-- 1 [USER] [GROUP] [USER] 4.0K Jan  2 10:00 b.txt\n",
            "-rw-r--r-- 1 root root root 120 Jan  2 10:00 c\n",
            "-rw-r--r--  1 [USER]  staff  uchg,hidden 120 Jan  2 10:00 d",
        )]
    );
}

/// `stat -c '%U %G %n'` (`--format`, `--printf`, macOS's `stat -f '%Su %Sg %N'`) prints the
/// owner and group as bare words beside a path, which nothing in the output tells from a
/// sentence: they were exported. The call's format says where they are: the owner is `[USER]`,
/// a team's group `[GROUP]`, the system's stay; the same words printed by another command
/// stay.
#[test]
fn the_owners_stat_prints_in_a_format_are_replaced() {
    let env = TestEnv::new();
    let out = calls_exported(
        &env,
        "anon-stat-format",
        &[
            (
                "stat -c '%U %G %n' src/a.rs /etc/passwd",
                "mrotili acme-eng src/a.rs\nroot root /etc/passwd\n",
            ),
            ("stat --format=%n:%U src/a.rs", "src/a.rs:kfenwick"),
            (
                "stat --printf='%n\\t%U %G\\n' 'my file'",
                "my file\tlbrandt staff\n",
            ),
            ("stat -f '%Su %Sg %N' a", "pvandal staff a"),
            ("cat owners.txt", "mrotili acme-eng src/a.rs"),
        ],
    );
    assert_eq!(
        out,
        [
            "[USER] [GROUP] src/a.rs\nroot root /etc/passwd\n",
            "src/a.rs:[USER]",
            "my file\t[USER] staff\n",
            "[USER] staff a",
            "mrotili acme-eng src/a.rs",
        ]
    );
}
