//! The layers point one way: model knows no I/O, only the store touches files, analyses never
//! print; and every source file says what it is for.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Code outside `#[cfg(test)]` modules, which may use files freely.
fn non_test_code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.split("#[cfg(test)]")
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn layers_use_only_the_layers_below_them() {
    let rules: [(&str, &[&str]); 6] = [
        (
            "model",
            &[
                "crate::store",
                "crate::capture",
                "crate::analysis",
                "crate::render",
                "crate::cli",
                "std::fs",
                "std::env",
                "std::io::stdout",
            ],
        ),
        (
            "store",
            &[
                "crate::capture",
                "crate::analysis",
                "crate::render",
                "crate::cli",
                "std::env",
            ],
        ),
        (
            "analysis",
            &[
                "crate::capture",
                "crate::render",
                "crate::cli",
                "std::fs",
                "std::env",
                "println!",
                "eprintln!",
            ],
        ),
        (
            "render",
            &[
                "crate::store",
                "crate::capture",
                "crate::cli",
                "std::fs",
                "std::env",
            ],
        ),
        (
            "export",
            &[
                "crate::capture",
                "crate::render",
                "crate::cli",
                "std::env",
                "println!",
                "eprintln!",
            ],
        ),
        (
            "capture",
            &[
                "crate::analysis",
                "crate::render",
                "crate::cli",
                "std::env",
                "println!",
            ],
        ),
    ];
    for (layer, forbidden) in rules {
        for file in rust_files(&src().join(layer)) {
            let code = non_test_code(&file);
            for word in forbidden {
                assert!(!code.contains(word), "{} uses {word}", file.display());
            }
        }
    }
    // Only the store opens files under the trace store; capture writes through it.
    for file in rust_files(&src().join("capture")) {
        let code = non_test_code(&file);
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        // Reading the agent's own transcripts is capture's job; the store is another matter.
        if name != "transcript.rs" && name != "claude_transcript.rs" {
            assert!(
                !code.contains("File::open") && !code.contains("std::fs::write"),
                "{name} opens files"
            );
        }
    }
}

/// Event data is read through the typed views in `model::view`, never through one agent's
/// JSON keys: only capture (which turns agents' wire formats into events) and the model's own
/// views know where a writer put what.
#[test]
fn event_data_is_read_through_the_model_views() {
    const RAW_READS: [&str; 5] = [
        "data_str(",
        ".data.get(",
        ".data[",
        "data_mut(",
        ".data.as_object(",
    ];
    for layer in ["analysis", "export", "render", "cli", "store"] {
        for file in rust_files(&src().join(layer)) {
            let code = non_test_code(&file);
            for read in RAW_READS {
                assert!(
                    !code.contains(read),
                    "{} reads event data with `{read}`: use model::view",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn every_source_file_starts_with_a_module_doc_line() {
    for file in rust_files(&src()) {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("//! "),
            "{} has no //! line",
            file.display()
        );
    }
}

#[test]
fn every_test_file_is_part_of_the_test_binary() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let main = std::fs::read_to_string(tests.join("main.rs")).unwrap();
    for entry in std::fs::read_dir(&tests).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(module) = name.strip_suffix(".rs").filter(|m| *m != "main") {
            assert!(
                main.contains(&format!("mod {module};")),
                "tests/{name} is not in tests/main.rs"
            );
        }
    }
}
