//! `export --anonymize` of a session whose working folder is on a Windows drive, written with
//! backslashes (`C:\Users\alice\proj`) or forward slashes (`C:/root/x`, `C:/Users/alice/proj`):
//! a folder inside a home becomes `~`, as on Unix, and one elsewhere `[CWD]`.

use serde_json::{Value, json};

use crate::common::anonymize::first_prompt_exported_by;
use crate::common::{SessionBuilder, TestEnv};

/// Session `id`, started by `alice` in `cwd` with one prompt of `text`, exported by `alice`
/// with `--anonymize` (her home the test's folder): the prompt and the attribution's working
/// folder as exported, and the whole export.
fn exported(env: &TestEnv, id: &str, cwd: &str, text: &str) -> (String, String, String) {
    SessionBuilder::new(id)
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.set_attribution("os_user", "alice");
            m.set_attribution("working_dir", cwd);
        })
        .session_start(json!({"cwd": cwd, "source": "startup"}))
        .at(1.0)
        .prompt(text)
        .write(env);
    let (prompt, stdout) = first_prompt_exported_by(env, id, env.path());
    let out: Value = serde_json::from_str(&stdout).unwrap();
    let folder = match &out["session"]["attribution"]["working_dir"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    (prompt.unwrap_or_default(), folder, stdout)
}

/// A working folder on a Windows drive written with forward slashes (`C:/root/x`) was taken
/// for a folder in `/root`'s home, which after a drive's letter is none: neither `[CWD]` nor
/// `~`, it was exported whole. A drive's folder written in its other spelling (`C:/srv/acme`
/// of `C:\srv\acme`, JSON's doubled backslashes, `c:` for `C:`) was left too, and a folder
/// under a Windows path named after the user (`D:\work\alice\proj`) was `[CWD]` but its
/// sibling `D:\work\[USER]\other`, where `/work/alice/proj` makes both `~/…`. Each is now
/// replaced as on Unix: a folder inside a home becomes `~`, one elsewhere `[CWD]`, in every
/// spelling; `C:/root` that is not the working folder stays, and so does every `C:` of a
/// session started in `C:\` (it was `[CWD]`).
#[test]
fn a_working_folder_on_a_windows_drive_is_replaced_in_every_spelling() {
    let env = TestEnv::new();
    let cases = [
        // A drive's root is no one's folder, as `/` is not.
        (
            "C:\\",
            r"dir C:\Windows C:/root/z",
            "C:\\",
            r"dir C:\Windows C:/root/z",
        ),
        (
            "C:/root/x",
            r"cd C:/root/x && dir C:/root/x/src C:\root\x\src c:/root/x/y; see C:/root/z",
            "[CWD]",
            r"cd [CWD] && dir [CWD]/src [CWD]\src [CWD]/y; see C:/root/z",
        ),
        (
            r"C:\srv\acme",
            r#"cd C:/srv/acme/src; {"cwd": "C:\\srv\\acme\\lib"} C:\srv\acme"#,
            "[CWD]",
            r#"cd [CWD]/src; {"cwd": "[CWD]\\lib"} [CWD]"#,
        ),
        (
            r"C:\Users\alice\proj",
            r"type C:\Users\alice\proj\a.txt C:/Users/alice/proj/b",
            r"~\proj",
            r"type ~\proj\a.txt ~/proj/b",
        ),
        (
            r"D:\work\alice\proj",
            r"type D:\work\alice\proj\a.txt D:/work/alice/other D:\work\alice",
            r"~\proj",
            r"type ~\proj\a.txt ~/other ~",
        ),
    ];
    for (i, (cwd, text, folder, prompt)) in cases.into_iter().enumerate() {
        let (got_prompt, got_folder, out) = exported(&env, &format!("anon-drive-{i}"), cwd, text);
        assert_eq!(
            (got_prompt.as_str(), got_folder.as_str()),
            (prompt, folder),
            "{out}"
        );
        for name in ["root/x", r"root\\x", "acme", ":/work", r":\\work"] {
            assert!(!out.contains(name), "{name}: {out}");
        }
    }
}

/// Windows reads a path in any case, and tools print it as typed: `/mnt/c/users/zoe` (WSL, in
/// lower case), `C:\Documents and Settings\zoe` (Windows XP's homes) and a working folder
/// written otherwise than recorded (`d:\work\acme` of `D:\Work\Acme`) were exported whole,
/// and the user's name with them; `\\?\C:\Users\zoe` kept its `\\?\` before the `~`. Each is
/// replaced as its other spellings are (`c:\users\zoe`, `C:/Users/Zoe`), and the name
/// wherever it stands; a URL's `/a/users/42` names no home and stays.
#[test]
fn a_windows_path_in_any_case_or_spelling_maps_its_user_and_folder_alike() {
    let env = TestEnv::new();
    let cwd = r"D:\Work\Acme";
    let text = concat!(
        r"type c:\users\zoe\a.txt C:\Users\Zoe\b.txt C:/Users/zoe/c \\?\C:\Users\zoe\d; ",
        r"cat /mnt/c/users/zoe/e; dir C:\Documents and Settings\zoe\f; ",
        r"cd d:\work\acme\src; ls D:/WORK/ACME/x; ask Zoe; ",
        "see https://x.example/a/users/42",
    );
    SessionBuilder::new("anon-drive-case")
        .meta(|m| {
            m.agent_name = "claude-code".into();
            m.set_attribution("working_dir", cwd);
        })
        .session_start(json!({"cwd": cwd, "source": "startup"}))
        .at(1.0)
        .prompt(text)
        .write(&env);
    let (prompt, out) = first_prompt_exported_by(&env, "anon-drive-case", env.path());
    assert_eq!(
        prompt.as_deref(),
        Some(concat!(
            r"type ~\a.txt ~\b.txt ~/c ~\d; ",
            r"cat ~/e; dir ~\f; ",
            r"cd [CWD]\src; ls [CWD]/x; ask [USER]; ",
            "see https://x.example/a/users/42",
        )),
        "{out}"
    );
    for leak in ["zoe", "Zoe", "acme", "Acme", "ACME"] {
        assert!(!out.contains(leak), "{leak}: {out}");
    }
}
