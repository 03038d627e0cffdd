//! `export --anonymize` as the tests of it run it: by the user `alice`, whose home they choose.

use std::path::Path;

use super::{Run, TestEnv, run_with_stdin};

/// `export <id> --format json --anonymize`, succeeded, run by the user `alice` whose home is
/// `home`. The exporting machine's user and home are replaced too: run as whoever runs the
/// tests (`root` in a container), every listing and path of theirs would be `[USER]` or `~`.
pub fn exported_by_alice(env: &TestEnv, id: &str, home: &Path) -> Run {
    let mut export = env.command(&["export", id, "--format", "json", "--anonymize"]);
    export
        .env("HOME", home)
        .env("USER", "alice")
        .env("LOGNAME", "alice");
    let run = run_with_stdin(export, b"");
    run.success();
    run
}

/// The first prompt of session `id` as [`exported_by_alice`] exports it, and the whole output.
pub fn first_prompt_exported_by(env: &TestEnv, id: &str, home: &Path) -> (Option<String>, String) {
    let run = exported_by_alice(env, id, home);
    let prompt = run.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_type"] == "user_prompt")
        .map(|e| e["data"]["prompt"].as_str().unwrap().to_owned());
    (prompt, run.stdout)
}
