//! Cross-check: per-session token totals of `import` on the corpus equal what ccusage (the npm
//! package, run on the same files) reports. The comparison itself is `tests/ccusage/compare.py`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{bin, shared};

/// The ccusage executable: `$AGENT_STRACE_CCUSAGE`, else the copy that
/// `npm install --prefix target/ccusage ccusage@20.0.24` puts in `target/ccusage`.
fn ccusage() -> PathBuf {
    if let Some(path) = std::env::var_os("AGENT_STRACE_CCUSAGE") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "AGENT_STRACE_CCUSAGE={} is not a file",
            path.display()
        );
        return path;
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("ccusage")
        .join("node_modules")
        .join(".bin")
        .join("ccusage");
    assert!(
        path.is_file(),
        "ccusage not found at {}: install it with \
         `npm install --prefix target/ccusage ccusage@20.0.24`, \
         or set AGENT_STRACE_CCUSAGE to its executable",
        path.display()
    );
    path
}

#[test]
fn token_totals_per_session_equal_ccusage() {
    let ccusage = ccusage();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("python3")
        .arg(manifest.join("tests").join("ccusage").join("compare.py"))
        .arg("--bin")
        .arg(bin())
        .arg("--ccusage")
        .arg(&ccusage)
        .arg("--corpus")
        .arg(shared().join("corpus").join("claude-code"))
        .current_dir(manifest)
        .output()
        .expect("run python3 tests/ccusage/compare.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "compare.py exited {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status.code()
    );
    print!("{stdout}");
}
