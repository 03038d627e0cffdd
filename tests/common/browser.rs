//! Runs a browser test script (tests/browser/*.mjs) with node: Debian's Chromium, driven
//! headless by playwright-core, both named by the environment (tests/run.sh sets them).
//!
//! A script gets its input as JSON in its first argument and prints its result as one line
//! `RESULT <json>` (tests/browser/lib.mjs does both); a script that throws exits 1, and the
//! test fails with its stderr. When `AGENT_STRACE_CHROMIUM` or `AGENT_STRACE_PLAYWRIGHT` is
//! unset, [`Browser::from_env`] says so and the test skips.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The browser and the driver the tests use.
pub struct Browser {
    chromium: PathBuf,
    playwright: PathBuf,
}

impl Browser {
    /// The browser the environment names, or `None` (after printing why the test is skipped)
    /// when it names none. A variable that is set to a path that does not exist is an error.
    pub fn from_env(test: &str) -> Option<Browser> {
        let chromium = std::env::var_os("AGENT_STRACE_CHROMIUM").map(PathBuf::from);
        let playwright = std::env::var_os("AGENT_STRACE_PLAYWRIGHT").map(PathBuf::from);
        let (Some(chromium), Some(playwright)) = (chromium, playwright) else {
            println!(
                "skipped {test}: AGENT_STRACE_CHROMIUM and AGENT_STRACE_PLAYWRIGHT are not set \
                 (tests/run.sh installs Chromium and playwright-core and sets them)"
            );
            return None;
        };
        assert!(
            chromium.exists(),
            "AGENT_STRACE_CHROMIUM names {}, which does not exist",
            chromium.display()
        );
        assert!(
            playwright.join("package.json").exists(),
            "AGENT_STRACE_PLAYWRIGHT names {}, which holds no playwright-core",
            playwright.display()
        );
        Some(Browser {
            chromium,
            playwright,
        })
    }

    /// Runs `tests/browser/<script>` with `input` and returns what it reported. Panics with the
    /// script's stderr when it fails (a failed check, a console error, a network request, …).
    #[track_caller]
    pub fn run(&self, script: &str, input: &Value) -> Value {
        let path = script_dir().join(script);
        let output = Command::new(std::env::var_os("AGENT_STRACE_NODE").unwrap_or("node".into()))
            .arg(&path)
            .arg(input.to_string())
            .env("AGENT_STRACE_CHROMIUM", &self.chromium)
            .env("AGENT_STRACE_PLAYWRIGHT", &self.playwright)
            .output()
            .expect("node runs (is Node.js installed?)");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{script} failed ({}):\n{stderr}\n{stdout}",
            output.status
        );
        let line = stdout
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("RESULT "))
            .unwrap_or_else(|| panic!("{script} reported no RESULT line:\n{stdout}\n{stderr}"));
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{script}'s RESULT is not JSON: {e}"))
    }
}

/// tests/browser, where the scripts and their library live.
pub fn script_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("browser")
}

/// The repository's docs/images, where the README's screenshots are saved.
pub fn docs_images() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join("images")
}
